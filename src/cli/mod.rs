//! Command-line definitions. Flags are parsed here and turned into option structs; nothing below `cli` sees clap.

use clap::Parser;

/// kubectl vroute: see and steer traffic between versions of a service (Istio + Argo Rollouts).
#[derive(Debug, Parser)]
#[command(name = "kubectl-vroute", bin_name = "kubectl vroute", version, about, long_about = None)]
pub struct PluginCli {}

/// vroute-analysis: the Argo Rollouts `web` metric provider that judges a canary against its baseline.
#[derive(Debug, Parser)]
#[command(name = "vroute-analysis", version, about, long_about = None)]
pub struct AnalysisCli {}
