//! A Rollout that cannot be read whole (a step with an out-of-range weight, say) may still own routes: which
//! ones depends only on its name and namespace, `spec.strategy.canary.{canaryService, stableService,
//! pingPong, trafficRouting}` and `status.canary.{weights.additional, stablePingPong}`. When those fields at
//! least can be read, the rest is left at its defaults and [`super::IstioOwnership::of`] says exactly what the
//! controller claims; when they cannot, nothing is known and callers must say so.

use super::model::{Canary, CanaryStatus, Metadata, PingPong, Rollout, Spec, Status, Strategy, TrafficRouting};
use super::model::{TrafficWeights, WeightDestination};
use crate::objects::parse::{self, nullable};
use serde::Deserialize;
use serde_json::Value;

#[derive(Default, Deserialize)]
#[serde(default)]
struct Doc {
    #[serde(deserialize_with = "nullable")]
    metadata: Metadata,
    #[serde(deserialize_with = "nullable")]
    spec: DocSpec,
    #[serde(deserialize_with = "nullable")]
    status: DocStatus,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct DocSpec {
    #[serde(deserialize_with = "nullable")]
    strategy: DocStrategy,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct DocStrategy {
    canary: Option<DocCanary>,
}

#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct DocCanary {
    #[serde(deserialize_with = "nullable")]
    canary_service: String,
    #[serde(deserialize_with = "nullable")]
    stable_service: String,
    traffic_routing: Option<TrafficRouting>,
    ping_pong: Option<PingPong>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct DocStatus {
    #[serde(deserialize_with = "nullable")]
    canary: DocCanaryStatus,
}

#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct DocCanaryStatus {
    weights: Option<DocWeights>,
    #[serde(deserialize_with = "nullable")]
    stable_ping_pong: String,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct DocWeights {
    #[serde(deserialize_with = "nullable")]
    additional: Vec<WeightDestination>,
}

/// The routing fields of a Rollout list item, or `None` when not even they can be read.
pub fn from_json(text: &str) -> Option<Rollout> {
    parse::from_str::<Doc>(text).ok().map(Doc::into_rollout)
}

/// The same for a manifest document.
pub fn from_value(value: &Value) -> Option<Rollout> {
    parse::from_value::<Doc>(value).ok().map(Doc::into_rollout)
}

impl Doc {
    fn into_rollout(self) -> Rollout {
        let canary = self.spec.strategy.canary.map(|c| Canary {
            canary_service: c.canary_service,
            stable_service: c.stable_service,
            traffic_routing: c.traffic_routing,
            ping_pong: c.ping_pong,
            ..Default::default()
        });
        let weights =
            self.status.canary.weights.map(|w| TrafficWeights { additional: w.additional, ..Default::default() });
        Rollout {
            metadata: self.metadata,
            spec: Spec { strategy: Strategy { canary, blue_green: None }, ..Default::default() },
            status: Status {
                canary: CanaryStatus {
                    weights,
                    stable_ping_pong: self.status.canary.stable_ping_pong,
                    ..Default::default()
                },
                ..Default::default()
            },
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollouts::IstioOwnership;
    use serde_json::json;

    #[test]
    fn a_bad_step_does_not_hide_what_the_rollout_owns() {
        let value = json!({"metadata": {"name": "a", "namespace": "shop"}, "spec": {"strategy": {"canary": {
            "steps": [{"setWeight": 99999999999_i64}],
            "trafficRouting": {"istio": {"virtualService": {"name": "a", "routes": ["primary"]}}}}}}});
        assert!(Rollout::from_value(&value).is_err());
        let routing = from_value(&value).expect("routing fields readable");
        let own = IstioOwnership::of(&routing).expect("istio routing");
        assert!(own.virtual_service("shop", "a").is_some());
        assert_eq!(from_json(&value.to_string()).map(|r| r.metadata.name), Some("a".to_string()));
    }

    #[test]
    fn unreadable_routing_is_nothing() {
        let value = json!({"metadata": {"name": "a"}, "spec": {"strategy": {"canary": {"trafficRouting": 7}}}});
        assert!(from_value(&value).is_none());
    }
}
