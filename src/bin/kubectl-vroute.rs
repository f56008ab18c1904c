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

/// jemalloc with one arena, for the plugin only (the analysis service keeps the system allocator). The plugin's
/// largest runs read a cluster's lists into a snapshot on two workers, then build the graph from it: with
/// glibc's allocator (itself kept to one arena) `status -A` over 48,000 pods peaked at 104 MB resident for a
/// 74 MB heap, with jemalloc at 94 MB, with mimalloc at 104 MB, and jemalloc spent the least CPU of the three
/// (same objects, same output). One arena because a list decoded on one worker is dropped on the other.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc reads its options from this symbol before `main` (its `malloc_conf`, prefixed as the crate builds it).
#[cfg(not(target_env = "msvc"))]
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: &[u8; 10] = b"narenas:1\0";
