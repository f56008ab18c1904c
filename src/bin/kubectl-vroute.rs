//! The kubectl plugin: parse, run, map the outcome to an exit code. All behaviour lives in the library.

use clap::Parser;
use kubectl_vroute::cli::{self, CliError, PluginCli};
use kubectl_vroute::exit::Exit;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match PluginCli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; everything else clap rejects is a usage error.
            let code = if e.use_stderr() { Exit::Usage } else { Exit::Ok };
            let _ = e.print();
            return ExitCode::from(code.code() as u8);
        }
    };
    kubectl_vroute::init_process();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
    let outcome = match runtime {
        Ok(rt) => rt.block_on(cli::run(cli)),
        Err(e) => Err(CliError::Io(e)),
    };
    let exit = match outcome {
        Ok(exit) => exit,
        Err(CliError::ClosedPipe) => Exit::Ok,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit()
        }
    };
    ExitCode::from(exit.code() as u8)
}
