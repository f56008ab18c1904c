//! Argo Rollouts' traffic-router plugins, as the Rollout configures them
//! (`spec.strategy.canary.trafficRouting.plugins`): the model reads the Gateway API one.

use crate::objects::parse::nullable;
use serde::Deserialize;

/// Traffic-router plugins by name; the model reads the Gateway API one.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Plugins {
    #[serde(rename = "argoproj-labs/gatewayAPI")]
    pub gateway_api: Option<GatewayApiPlugin>,
}

/// `argoproj-labs/gatewayAPI`'s configuration: the HTTPRoutes whose `canaryService` and `stableService`
/// backend weights the plugin sets on every reconcile.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct GatewayApiPlugin {
    pub http_route: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub http_routes: Vec<PluginRoute>,
    /// The routes' namespace; the Rollout's when absent.
    pub namespace: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct PluginRoute {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    #[serde(deserialize_with = "nullable")]
    pub use_header_routes: bool,
}
