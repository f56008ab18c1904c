use clap::Parser;
use kubectl_vroute::cli::AnalysisCli;

fn main() {
    let _cli = AnalysisCli::parse();
}
