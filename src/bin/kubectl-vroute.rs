//! The kubectl plugin: parse, run, map the outcome to an exit code. All behaviour lives in the library.

use clap::Parser;
use kubectl_vroute::cli::{self, PluginCli};
use kubectl_vroute::error::Error;
use kubectl_vroute::exit::Exit;
use kubectl_vroute::render::Style;
use std::io::IsTerminal;
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
    // Where stdout goes, decided once for every command.
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let width = terminal_size::terminal_size().map(|(w, _)| usize::from(w.0));
    let style = Style::new(std::io::stdout().is_terminal(), no_color, width);
    cli::init_logging(cli.verbosity, !no_color && std::io::stderr().is_terminal());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
    let outcome = match runtime {
        Ok(rt) => rt.block_on(cli::run(cli, style)),
        Err(e) => Err(Error::Io(e)),
    };
    let exit = match outcome {
        Ok(exit) => exit,
        Err(Error::ClosedPipe) => Exit::Ok,
        Err(e) => {
            cli::report(&e);
            e.exit()
        }
    };
    ExitCode::from(exit.code() as u8)
}
