//! Runs `benches/generator.sh` with this build's `loadtest`: the generator's CPU µs/request,
//! req/s and peak RSS in scenarios A/B/C against a loopback nginx, beside wrk/wrk2/oha when
//! installed. It prints figures and asserts nothing.
//!
//! `cargo bench --bench generator` (release profile); the script's env (REPS, DUR,
//! SCENARIOS, TOOLS, LOADTEST_BASE, …) passes through.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/generator.sh");
    let status = Command::new("bash")
        .arg(script)
        .env("LOADTEST", env!("CARGO_BIN_EXE_loadtest"))
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("cannot run {script}: {e}");
            ExitCode::FAILURE
        }
    }
}
