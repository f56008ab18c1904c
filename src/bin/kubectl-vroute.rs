use clap::Parser;
use kubectl_vroute::cli::PluginCli;

fn main() {
    let _cli = PluginCli::parse();
}
