//! `route`, `timeout`, `retries` and `fault`: flags turned into an [`Edit`], done by [`crate::ops::edit`] as
//! every route edit is.

use super::{EditFlags, route_edit};
use crate::cli::common::{KubeArgs, document_format};
use crate::cli::print;
use crate::duration;
use crate::edit::circuit::Breaker;
use crate::edit::conditions::{Condition, Conditions, Pair, Text};
use crate::edit::matched::MatchRoute;
use crate::edit::policy::{Fault, Retries, Retry, RetryOn};
use crate::edit::{Edit, Intent};
use crate::error::{Error, Usage};
use crate::exit::Exit;
use crate::ops::edit;
use crate::render;
use clap::Args;
use std::time::Duration;

/// The conditions of one match block; all of them must hold.
#[derive(Args, Debug, Default)]
pub struct MatchFlags {
    /// A request header: NAME=VALUE (exact), NAME^=PREFIX or NAME~=REGEX, e.g. end-user=jason. Repeatable.
    #[arg(long = "header", value_name = "NAME=VALUE", value_parser = clap::value_parser!(Pair))]
    pub headers: Vec<Pair>,
    /// A cookie the request carries: NAME=VALUE. Repeatable.
    #[arg(long = "cookie", value_name = "NAME=VALUE")]
    pub cookies: Vec<String>,
    /// The request path: /PREFIX, =/EXACT or ~REGEX.
    #[arg(long, value_name = "PATH", value_parser = clap::value_parser!(Text), allow_hyphen_values = true)]
    pub uri: Option<Text>,
    /// A query parameter: NAME=VALUE, NAME^=PREFIX or NAME~=REGEX. Repeatable.
    #[arg(long = "query", value_name = "NAME=VALUE", value_parser = clap::value_parser!(Pair))]
    pub queries: Vec<Pair>,
    /// A label of the calling pod: KEY=VALUE (sidecars only; an HTTPRoute cannot test the caller). Repeatable.
    #[arg(long = "source-label", value_name = "KEY=VALUE")]
    pub source_labels: Vec<String>,
}

impl MatchFlags {
    pub fn conditions(&self) -> Result<Conditions, Error> {
        let usage = |flag: &str, problem: String| Error::Usage(Usage::Flag { flag: flag.into(), problem });
        let mut out = Vec::new();
        for p in &self.headers {
            let name = p.name.parse().map_err(|e| usage("--header", e))?;
            out.push(Condition::Header { name, value: p.value.clone() });
        }
        for c in &self.cookies {
            let (name, value) = c
                .split_once('=')
                .filter(|(n, v)| !n.is_empty() && !v.is_empty())
                .ok_or_else(|| usage("--cookie", format!("{c:?} is not NAME=VALUE (e.g. user=jason)")))?;
            out.push(Condition::Cookie { name: name.into(), value: value.into() });
        }
        if let Some(uri) = &self.uri {
            out.push(Condition::Uri(uri.clone()));
        }
        for p in &self.queries {
            out.push(Condition::Query { name: p.name.clone(), value: p.value.clone() });
        }
        for l in &self.source_labels {
            let (key, value) = l
                .split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| usage("--source-label", format!("{l:?} is not KEY=VALUE (e.g. app=tester)")))?;
            out.push(Condition::SourceLabel { key: key.into(), value: value.into() });
        }
        Ok(Conditions(out))
    }
}

/// `kubectl vroute route reviews --to v2 --header end-user=jason`
#[derive(Args, Debug)]
pub struct RouteArgs {
    /// A Service name or Istio host in any form.
    pub service: String,
    /// The version the matching requests go to. Without --to or --remove, lists the routes with conditions.
    #[arg(long, value_name = "VERSION", conflicts_with = "remove")]
    pub to: Option<String>,
    /// Remove the route for these conditions (or --name).
    #[arg(long)]
    pub remove: bool,
    /// The route's name when it is added (default: made from the conditions, e.g. vroute-end-user-jason).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    #[command(flatten)]
    pub conditions: MatchFlags,
    /// Route to a version even if it has no ready pods.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub flags: EditFlags,
}

/// `kubectl vroute timeout reviews 5s`
#[derive(Args, Debug)]
pub struct TimeoutArgs {
    /// A Service name or Istio host in any form.
    pub service: String,
    /// How long a request may take in all, retries included (from 1ms to 1d, whole milliseconds).
    #[arg(value_name = "DURATION", required_unless_present = "off",
          value_parser = duration::flag(duration::ROUTE_TIMEOUT))]
    pub timeout: Option<Duration>,
    /// Remove the route's timeout.
    #[arg(long, conflicts_with = "timeout")]
    pub off: bool,
    /// The route to edit, by name or as #INDEX (default: the only one, else the catch-all one).
    #[arg(long, value_name = "NAME")]
    pub route: Option<String>,
    #[command(flatten)]
    pub flags: EditFlags,
}

/// `kubectl vroute retries reviews --attempts 3 --per-try-timeout 2s --retry-on 5xx,reset`
#[derive(Args, Debug)]
pub struct RetriesArgs {
    /// A Service name or Istio host in any form.
    pub service: String,
    /// How many times to retry a failed request (from 1 to 10).
    #[arg(long, value_name = "N", required_unless_present_any = ["off", "default"])]
    pub attempts: Option<u32>,
    /// Each try's deadline (from 1ms to 1d).
    #[arg(long, value_name = "DURATION", value_parser = duration::flag(duration::ROUTE_TIMEOUT))]
    pub per_try_timeout: Option<Duration>,
    /// What to retry on, comma-separated: Envoy's conditions (5xx, gateway-error, reset, connect-failure,
    /// retriable-4xx, refused-stream, ...) and status codes (503).
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = clap::value_parser!(RetryOn))]
    pub retry_on: Vec<RetryOn>,
    /// Never retry (attempts 0).
    #[arg(long, conflicts_with_all = ["attempts", "per_try_timeout", "retry_on", "default"])]
    pub off: bool,
    /// Remove the route's retry policy: the mesh's default applies (Istio: 2 attempts).
    #[arg(long, conflicts_with_all = ["attempts", "per_try_timeout", "retry_on"])]
    pub default: bool,
    /// The route to edit, by name or as #INDEX (default: the only one, else the catch-all one).
    #[arg(long, value_name = "NAME")]
    pub route: Option<String>,
    #[command(flatten)]
    pub flags: EditFlags,
}

/// `kubectl vroute fault ratings --delay 7s --percent 100 --header end-user=jason`
#[derive(Args, Debug)]
pub struct FaultArgs {
    /// A Service name or Istio host in any form.
    pub service: String,
    /// Delay requests by this long before forwarding them (from 1ms to 1h).
    #[arg(long, value_name = "DURATION", value_parser = duration::flag(duration::FAULT_DELAY))]
    pub delay: Option<Duration>,
    /// Answer requests with this HTTP status instead of forwarding them (200 to 599).
    #[arg(long, value_name = "CODE")]
    pub abort: Option<u16>,
    /// The share of requests faulted (more than 0, at most 100).
    #[arg(long, value_name = "PERCENT", default_value_t = 100.0)]
    pub percent: f64,
    /// Remove the fault (and a route vroute made to carry it).
    #[arg(long, conflicts_with_all = ["delay", "abort"])]
    pub off: bool,
    /// Fault only the requests that match (a route for them is made, copying the catch-all's destinations).
    #[command(flatten)]
    pub conditions: MatchFlags,
    /// The route to edit, by name or as #INDEX (default: the only one, else the catch-all one).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["headers", "cookies", "uri", "queries", "source_labels"])]
    pub route: Option<String>,
    /// Fault the catch-all route too, which every user's requests take.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub flags: EditFlags,
}

pub async fn route(kube: &KubeArgs, args: RouteArgs) -> Result<Exit, Error> {
    let conditions = args.conditions.conditions()?;
    if args.to.is_none() && !args.remove {
        let cluster = kube.connect(false).await?;
        let listing = edit::list_routes(&cluster, args.flags.subject(&args.service, "version")).await?;
        print(&render::routes::render(&listing, document_format(args.flags.output))?)?;
        return Ok(Exit::Ok);
    }
    let intent = Intent::Route(MatchRoute { conditions, to: args.to, name: args.name });
    route_edit(kube, &args.service, Edit { intent, force: args.force }, &args.flags).await
}

pub async fn timeout(kube: &KubeArgs, args: TimeoutArgs) -> Result<Exit, Error> {
    let intent = Intent::Timeout { route: args.route, timeout: args.timeout.filter(|_| !args.off) };
    route_edit(kube, &args.service, Edit { intent, force: false }, &args.flags).await
}

pub async fn retries(kube: &KubeArgs, args: RetriesArgs) -> Result<Exit, Error> {
    let retries = match (args.off, args.default, args.attempts) {
        (true, _, _) => Retries::Off,
        (_, true, _) => Retries::Default,
        (_, _, attempts) => Retries::Set(Retry {
            attempts: attempts.unwrap_or_default(),
            per_try_timeout: args.per_try_timeout,
            retry_on: args.retry_on,
        }),
    };
    let intent = Intent::Retries { route: args.route, retries };
    route_edit(kube, &args.service, Edit { intent, force: false }, &args.flags).await
}

pub async fn fault(kube: &KubeArgs, args: FaultArgs) -> Result<Exit, Error> {
    let conditions = args.conditions.conditions()?;
    let fault = (!args.off).then_some(Fault { delay: args.delay, abort: args.abort, percent: args.percent });
    let intent = Intent::Fault { route: args.route, conditions, fault };
    route_edit(kube, &args.service, Edit { intent, force: args.force }, &args.flags).await
}

/// `kubectl vroute circuit-break reviews --version v2 --max-connections 100 --consecutive-5xx 5 --ejection 30s`
#[derive(Args, Debug)]
pub struct CircuitBreakArgs {
    /// A Service name or Istio host in any form.
    pub service: String,
    /// The version (subset) whose proxies break circuits (default: every version, the rule's own policy).
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
    /// Most TCP connections to the version's pods (connectionPool.tcp.maxConnections).
    #[arg(long, value_name = "N")]
    pub max_connections: Option<u32>,
    /// Most requests waiting for a connection (connectionPool.http.http1MaxPendingRequests).
    #[arg(long, value_name = "N")]
    pub max_pending: Option<u32>,
    /// Eject a pod after this many 5xx in a row (outlierDetection.consecutive5xxErrors).
    #[arg(long = "consecutive-5xx", value_name = "N")]
    pub consecutive_5xx: Option<u32>,
    /// How long an ejected pod stays out at first (outlierDetection.baseEjectionTime; 1ms to 1d).
    #[arg(long, value_name = "DURATION", value_parser = duration::flag(duration::EJECTION))]
    pub ejection: Option<Duration>,
    /// How often pods are checked for ejection (outlierDetection.interval; 1ms to 1d).
    #[arg(long, value_name = "DURATION", value_parser = duration::flag(duration::EJECTION))]
    pub interval: Option<Duration>,
    /// The most of the version's pods that may be ejected at once, in percent (0 to 100).
    #[arg(long, value_name = "PERCENT")]
    pub max_ejection_percent: Option<u32>,
    /// Remove the connection limits and outlier detection.
    #[arg(long, conflicts_with_all = ["max_connections", "max_pending", "consecutive_5xx", "ejection", "interval",
                                      "max_ejection_percent"])]
    pub off: bool,
    #[command(flatten)]
    pub flags: EditFlags,
}

pub async fn circuit_break(kube: &KubeArgs, args: CircuitBreakArgs) -> Result<Exit, Error> {
    let breaker = (!args.off).then_some(Breaker {
        max_connections: args.max_connections,
        max_pending: args.max_pending,
        consecutive_5xx: args.consecutive_5xx,
        ejection: args.ejection,
        interval: args.interval,
        max_ejection_percent: args.max_ejection_percent,
    });
    let cluster = kube.connect(false).await?;
    let subject = args.flags.subject(&args.service, "version");
    let done =
        edit::circuit_break(&cluster, subject, args.version.as_deref(), breaker.as_ref(), args.flags.write()).await?;
    args.flags.print(&[done])?;
    Ok(Exit::Ok)
}
