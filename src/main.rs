//! `loadtest` command line: parse, run, map the outcome to an exit code (DESIGN.md §8).

use clap::Parser;
use loadtest::app::{self, exit};
use loadtest::cli::{Cli, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // On one core (`taskset`, a one-CPU container) a single-threaded runtime does the same
    // work without the multi-threaded scheduler's cross-thread bookkeeping.
    let one_core = std::thread::available_parallelism().is_ok_and(|n| n.get() == 1);
    let mut builder = if one_core {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::TARGET);
        }
    };
    let result = match &cli.command {
        Command::Run(args) => runtime.block_on(app::run(args)),
        Command::Validate(args) => app::validate(args),
        Command::Emulate(args) => runtime.block_on(app::emulate(args)),
        Command::Report(args) => app::report(args),
        Command::Compare(args) => app::compare(args),
        Command::Prices(args) => app::prices(args),
        Command::Merge(args) => app::merge(args),
        Command::Cleanup(args) => runtime.block_on(app::cleanup(args)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
