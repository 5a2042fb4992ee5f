//! The `loadtest` binary as a user runs it: a fresh temp folder per test, the one run folder
//! a run leaves, a quiet run, and a run stopped by Ctrl-C once its first cell is saved.

use loadtest::store::record;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// The binary under test.
pub fn loadtest() -> Command {
    Command::new(env!("CARGO_BIN_EXE_loadtest"))
}

/// An empty folder for one test, named `name` (unique across tests) and the process id.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("loadtest-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The one entry of `out`, which must be the run folder a single run left.
pub fn only_run_dir(out: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.into_iter().next().unwrap()
}

/// Runs `loadtest run --quiet ARGS --out OUT PROFILE`, which must exit 0 (its stderr shown
/// when it does not); the run folder it left and what it printed.
pub fn run_ok(profile: &Path, out_dir: &Path, args: &[&str]) -> (PathBuf, String) {
    let out = loadtest()
        .args(["run", "--quiet"])
        .args(args)
        .arg("--out")
        .arg(out_dir)
        .arg(profile)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: {}",
        profile.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (only_run_dir(out_dir), stdout)
}

/// Runs `loadtest run PROFILE --out OUT --quiet` off the async runtime's threads; its output.
pub async fn quiet_run(profile: &Path, out_dir: &Path) -> Output {
    let mut cmd = loadtest();
    cmd.arg("run")
        .arg(profile)
        .arg("--out")
        .arg(out_dir)
        .arg("--quiet");
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

/// Runs `loadtest run PROFILE --out OUT` and sends it Ctrl-C 0.5 s after its first cell is
/// saved (so during the second cell of a profile with 1-second cells); returns its output.
pub async fn interrupted_run(profile: &Path, out_dir: &Path) -> Output {
    interrupted_run_with(profile, out_dir, &[]).await
}

/// [`interrupted_run`] with extra environment variables for the child.
pub async fn interrupted_run_with(profile: &Path, out_dir: &Path, env: &[(&str, &str)]) -> Output {
    let child = loadtest()
        .envs(env.iter().copied())
        .arg("run")
        .arg(profile)
        .arg("--out")
        .arg(out_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first_saved = async {
        loop {
            let saved = std::fs::read_dir(out_dir)
                .ok()
                .and_then(|mut d| d.next())
                .and_then(|e| record::read(&e.ok()?.path().join("summary.json")).ok());
            if saved.is_some_and(|s| s.cells.len() == 1) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), first_saved)
        .await
        .expect("first cell saved");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let status = Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap()
}
