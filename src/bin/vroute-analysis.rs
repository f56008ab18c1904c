//! The analysis service: parse flags, set up logging and TLS, serve until SIGTERM. All behaviour lives in the
//! library (`kubectl_vroute::analysis`).

use clap::Parser;
use kubectl_vroute::analysis::server;
use kubectl_vroute::cli::AnalysisCli;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = AnalysisCli::parse();
    kubectl_vroute::init_process();
    server::init_logging();
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(kubectl_vroute::analysis::server::ServeError::Serve)
        .and_then(|runtime| runtime.block_on(cli.serve()));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "vroute-analysis stopped");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
