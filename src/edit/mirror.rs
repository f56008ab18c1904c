//! `mirror`: copy a share of a route's live requests to a version (responses are discarded), or stop.

use super::context::Context;
use super::object::Draft;
use super::{EditError, Summary, guard};
use crate::istio::HttpRoute;
use crate::istio::route::percent;
use serde_json::{Value, json};

/// Every field through which Istio mirrors: `mirror` + `mirrorPercentage` (or the deprecated integer
/// `mirrorPercent`/`mirror_percent`), or the newer `mirrors[]` list.
const MIRROR_FIELDS: [&str; 5] = ["mirror", "mirrorPercentage", "mirrorPercent", "mirror_percent", "mirrors"];

#[derive(Clone, Debug, PartialEq)]
pub struct MirrorTo {
    pub version: String,
    pub percent: f64,
}

/// Mirrors to `to` (`None`: stops all mirroring of the route). A route already using the `mirrors` list keeps
/// it, with the entry for that version added or updated; otherwise `mirror` + `mirrorPercentage` is set.
pub fn mirror(vs: &mut Draft, route: Option<&str>, to: Option<&MirrorTo>, ctx: &Context) -> Result<Summary, EditError> {
    let index = guard::editable_route(vs.http(), route, ctx)?;
    let typed = vs.http()[index].clone();
    let subject = typed.label(index);
    let mut http = vs.raw_http();
    let Some(r) = http[index].as_object_mut() else { unreachable!("a route that reads as a route is an object") };
    match to {
        None => MIRROR_FIELDS.iter().for_each(|f| {
            r.remove(*f);
        }),
        Some(to) => {
            // `!(x > 0)` also refuses NaN.
            if !(to.percent > 0.0 && to.percent <= 100.0) {
                return Err(EditError::BadPercent { value: to.percent });
            }
            let version = ctx.version(&to.version)?;
            guard::defined(version, &subject, ctx)?;
            let siblings = r.get("route").and_then(Value::as_array).cloned().unwrap_or_default();
            let destination = ctx.destination(version, &typed.route, &siblings);
            // Whole percentages are written as integers, as the API server stores them: comparing the result
            // with a stored `10` must find it unchanged.
            let value = if to.percent.fract() == 0.0 { json!(to.percent as u64) } else { json!(to.percent) };
            let percentage = json!({"value": value});
            let listed = typed.mirrors.iter().position(|m| ctx.version_of(&m.destination) == Some(version));
            match r.get_mut("mirrors").and_then(Value::as_array_mut).filter(|m| !m.is_empty()) {
                Some(list) => match listed.and_then(|i| list.get_mut(i)) {
                    Some(entry) => entry["percentage"] = percentage,
                    None => list.push(json!({"destination": destination, "percentage": percentage})),
                },
                None => {
                    for deprecated in ["mirrorPercent", "mirror_percent", "mirrors"] {
                        r.remove(deprecated);
                    }
                    r.insert("mirror".into(), destination);
                    r.insert("mirrorPercentage".into(), percentage);
                }
            }
        }
    }
    vs.set_http(http)?;
    Ok(Summary { subject, state: describe(&vs.http()[index], ctx) })
}

/// `mirrors 10% to v2`, or `mirrors nothing`.
fn describe(route: &HttpRoute, ctx: &Context) -> String {
    let targets: Vec<String> =
        route.mirrors().into_iter().map(|(d, p)| format!("{}% to {}", percent(p), ctx.name_of(d))).collect();
    if targets.is_empty() { "mirrors nothing".into() } else { format!("mirrors {}", targets.join(", ")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::context::tests::{on, request, snapshot, split_vs};

    fn ctx(vs: &Value) -> Context {
        Context::build(&snapshot(vs.clone(), &[("v1", 1)]), &request()).unwrap()
    }

    fn to(version: &str, percent: f64) -> MirrorTo {
        MirrorTo { version: version.into(), percent }
    }

    #[test]
    fn mirror_sets_destination_and_percentage_and_off_removes_every_form() {
        let mut vs = split_vs();
        vs["spec"]["http"][0]["mirrorPercent"] = json!(5);
        let ctx = ctx(&vs);
        let summary = on(&mut vs, |d| mirror(d, None, Some(&to("v2", 10.0)), &ctx)).unwrap();
        assert_eq!(summary.message(true), "route \"primary\" now mirrors 10% to v2");
        let route = &vs["spec"]["http"][0];
        assert_eq!(route["mirror"], json!({"host": "reviews", "subset": "v2"}));
        assert_eq!(route["mirrorPercentage"], json!({"value": 10}));
        assert!(route.get("mirrorPercent").is_none(), "the deprecated field would contradict the new one");
        let mut again = vs.clone();
        on(&mut again, |d| mirror(d, None, Some(&to("v2", 10.0)), &ctx)).unwrap();
        assert_eq!(again, vs, "mirroring again changes nothing");

        let summary = on(&mut vs, |d| mirror(d, None, None, &ctx)).unwrap();
        assert_eq!(summary.state, "mirrors nothing");
        let route = vs["spec"]["http"][0].as_object().unwrap();
        assert!(MIRROR_FIELDS.iter().all(|f| !route.contains_key(*f)), "{route:?}");
    }

    #[test]
    fn a_mirrors_list_is_updated_in_place() {
        let mut vs = split_vs();
        vs["spec"]["http"][0]["mirrors"] = json!([
            {"destination": {"host": "reviews", "subset": "v1"}, "percentage": {"value": 1.0}},
            {"destination": {"host": "reviews", "subset": "v2"}, "percentage": {"value": 5.0}}]);
        let ctx = ctx(&vs);
        let summary = on(&mut vs, |d| mirror(d, None, Some(&to("v2", 20.0)), &ctx)).unwrap();
        assert_eq!(summary.state, "mirrors 1% to v1, 20% to v2");
        assert!(vs["spec"]["http"][0].get("mirror").is_none());
    }

    #[test]
    fn percent_must_be_in_range_and_the_version_known() {
        let mut vs = split_vs();
        let ctx = ctx(&vs);
        for bad in [0.0, -1.0, 100.5, f64::NAN] {
            assert!(matches!(
                on(&mut vs, |d| mirror(d, None, Some(&to("v2", bad)), &ctx)),
                Err(EditError::BadPercent { .. })
            ));
        }
        assert!(matches!(
            on(&mut vs, |d| mirror(d, None, Some(&to("v7", 5.0)), &ctx)),
            Err(EditError::UnknownVersion { .. })
        ));
    }
}
