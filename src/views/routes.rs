//! `route SERVICE` without `--to`/`--remove`: the routes (VirtualService http routes, HTTPRoute rules) of the
//! host that test the request, in order, with where each sends it.
//!
//! `{"kind": "VirtualService|HTTPRoute", "namespace", "name", "routes": [{"route": "name or #index", "match":
//! "header end-user=jason" (status's match summary), "to": [{"version", "percent"}], "timeout", "retries",
//! "fault"}]}` where the last three are the fields as written, or null.

use crate::edit::Routing;
use crate::edit::object::Draft;
use crate::edit::rules::draft::RouteDraft;
use crate::numbers::ser_percent;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Serialize)]
pub struct RouteListing {
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub routes: Vec<Listed>,
}

#[derive(Debug, Serialize)]
pub struct Listed {
    pub route: String,
    #[serde(rename = "match")]
    pub conditions: String,
    pub to: Vec<Share>,
    pub timeout: Option<Value>,
    pub retries: Option<Value>,
    pub fault: Option<Value>,
}

#[derive(Debug, Serialize)]
pub struct Share {
    pub version: String,
    #[serde(serialize_with = "ser_percent")]
    pub percent: f64,
}

/// The listing of the object `routing` edits, read from it as stored (`raw`).
pub fn listing(routing: &Routing, raw: &Value) -> Result<RouteListing, crate::edit::EditError> {
    let field = |r: &Value, f: &str| r.get(f).cloned();
    let (kind, routes) = match routing {
        Routing::Istio(ctx) => {
            let vs = Draft::new(raw)?;
            let raw_http = vs.raw_http();
            let routes = crate::edit::matched::listed(&vs)
                .into_iter()
                .map(|(i, r)| Listed {
                    route: r.key(i),
                    conditions: crate::istio::summary::summary(&r.matches),
                    to: r
                        .route
                        .iter()
                        .zip(r.shares())
                        .map(|(d, percent)| Share { version: ctx.name_of(&d.destination), percent })
                        .collect(),
                    timeout: field(&raw_http[i], "timeout"),
                    retries: field(&raw_http[i], "retries"),
                    fault: field(&raw_http[i], "fault"),
                })
                .collect();
            ("VirtualService", routes)
        }
        Routing::Gateway(ctx) => {
            let route = RouteDraft::new(raw)?;
            let raw_rules = route.raw_rules();
            let routes = route
                .rules()
                .iter()
                .enumerate()
                .filter(|(_, r)| !r.is_catch_all())
                .map(|(i, r)| Listed {
                    route: r.key(i),
                    conditions: crate::gateway::route::summary(r),
                    to: r
                        .backend_refs
                        .iter()
                        .zip(r.shares())
                        .map(|(b, percent)| Share { version: ctx.name_of(b), percent })
                        .collect(),
                    timeout: raw_rules[i].get("timeouts").cloned(),
                    retries: field(&raw_rules[i], "retry"),
                    fault: None,
                })
                .collect();
            ("HTTPRoute", routes)
        }
    };
    let object = routing.object();
    Ok(RouteListing { kind, namespace: object.namespace.clone(), name: object.name.clone(), routes })
}
