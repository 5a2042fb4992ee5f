//! Scale-out as a user runs it: shard processes of the binary on one clock against one test
//! server, then `loadtest merge`; the merged record against the server's count and against a
//! single-process run; merge refusing folders that are not one run's shards; a late shard.

use crate::bin::{loadtest, only_run_dir, temp_dir};
use crate::support::{Behaviour, TestServer};
use loadtest::results::CellSummary;
use loadtest::store::record::{self, RunRecord};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};

/// The tests here each start several processes: one at a time, so they do not slow the rest
/// of the suite (and one another) more than one run does.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn profile(dir: &Path, url: &str, load: &str, duration: &str) -> PathBuf {
    profile_warm(dir, url, load, duration, "0s")
}

fn profile_warm(dir: &Path, url: &str, load: &str, duration: &str, warmup: &str) -> PathBuf {
    let path = dir.join("profile.toml");
    let text = format!(
        r#"name = "scale-out"
[target]
kind = "http"
url = "{url}"
timeout = "500ms"
[sweep]
payload_sizes = ["512B"]
load = {load}
duration = "{duration}"
warmup = "{warmup}"
"#
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// An RFC 3339 instant `from_now` ahead (negative: behind).
fn start_at(from_now_ms: i64) -> String {
    let now = SystemTime::now();
    let at = if from_now_ms >= 0 {
        now + Duration::from_millis(from_now_ms as u64)
    } else {
        now - Duration::from_millis(from_now_ms.unsigned_abs())
    };
    humantime::format_rfc3339_millis(at).to_string()
}

async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

/// Runs shards `0..n` of `profile` as separate processes at once; returns their folders.
async fn run_shards(profile: &Path, n: u32, start: &str, out: &Path) -> Vec<PathBuf> {
    let children: Vec<_> = (0..n)
        .map(|i| {
            std::fs::create_dir_all(out.join(i.to_string())).unwrap();
            loadtest()
                .arg("run")
                .arg(profile)
                .arg("--quiet")
                .arg(format!("--shard={i}/{n}"))
                .arg(format!("--start-at={start}"))
                .arg("--out")
                .arg(out.join(i.to_string()))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut dirs = Vec::new();
    for (i, child) in children.into_iter().enumerate() {
        let out_i = out.join(i.to_string());
        let done = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
            .await
            .unwrap();
        let err = String::from_utf8_lossy(&done.stderr);
        assert_eq!(done.status.code(), Some(0), "shard {i}: {err}");
        dirs.push(only_run_dir(&out_i));
    }
    dirs
}

fn merge(dirs: &[PathBuf], out: &Path) -> Output {
    loadtest()
        .arg("merge")
        .args(dirs)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn only_cell(dir: &Path) -> (RunRecord, CellSummary) {
    let rec = record::read(dir).unwrap();
    assert_eq!(rec.cells.len(), 1, "{}", dir.display());
    let cell = rec.cells[0].clone();
    (rec, cell)
}

fn within(a: f64, b: f64, fraction: f64) -> bool {
    (a - b).abs() <= fraction * b.max(a)
}

/// Three open-loop shards at R = 100 req/s for 3 s send 300 requests in all, each its third
/// within one, and the server received exactly what the merged record counts (warmup and
/// one probe per shard included); the merged p50/p99 are within 10% of one process's at R.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_open_loop_shards_send_the_schedule_and_agree_with_one_process() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = TestServer::start(Behaviour {
        delay: Duration::from_millis(100),
        ..Behaviour::default()
    })
    .await;
    let dir = temp_dir("scale-out-open");
    let load = r#"{ mode = "open", rates = [100], arrivals = "constant" }"#;
    let path = profile_warm(&dir, &server.url("/ok"), load, "3s", "500ms");
    let dirs = run_shards(&path, 3, &start_at(1_500), &dir.join("shards")).await;
    let sent: Vec<u64> = dirs.iter().map(|d| only_cell(d).1.requests).collect();
    for n in &sent {
        assert!(n.abs_diff(100) <= 1, "a shard sent {n} of 300: {sent:?}");
    }
    let merged_dir = dir.join("merged");
    let out = merge(&dirs, &merged_dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (rec, merged) = only_cell(&merged_dir);
    assert!(merged.requests.abs_diff(300) <= 3, "{}", merged.requests);
    assert_eq!(merged.requests, sent.iter().sum::<u64>());
    let counted = merged.requests + merged.warmup_requests + 3;
    assert_eq!(server.received(), counted, "server vs merged record");
    assert_eq!(merged.load.level(), 100.0);
    assert!(merged.accounting_ok && merged.dropped == 0);
    let identity = rec.scale_out.unwrap();
    assert_eq!((identity.shards, identity.shard), (3, None));
    assert!(merged_dir.join("report.html").exists() && merged_dir.join("results.csv").exists());

    let single = loadtest()
        .arg("run")
        .arg(&path)
        .arg("--quiet")
        .arg("--out")
        .arg(dir.join("single"))
        .output()
        .unwrap();
    assert!(single.status.success());
    let (_, one) = only_cell(&only_run_dir(&dir.join("single")));
    let (m, o) = (merged.latency.unwrap(), one.latency.unwrap());
    eprintln!(
        "merged p50 {} p99 {}; one process p50 {} p99 {}",
        m.p50_ms, m.p99_ms, o.p50_ms, o.p99_ms
    );
    assert!(
        within(m.p50_ms, o.p50_ms, 0.10),
        "p50 {} vs {}",
        m.p50_ms,
        o.p50_ms
    );
    assert!(
        within(m.p99_ms, o.p99_ms, 0.10),
        "p99 {} vs {}",
        m.p99_ms,
        o.p99_ms
    );
}

/// Closed loop c=10 over three shards: 4 + 3 + 3 workers (each shard's throughput × latency
/// matches its share), merged back into one c=10 cell the server's count agrees with. The
/// same folders then serve the merge's refusals and its order independence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_loop_splits_4_3_3_and_merge_checks_its_shards() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = TestServer::start(Behaviour {
        delay: Duration::from_millis(25),
        ..Behaviour::default()
    })
    .await;
    let dir = temp_dir("scale-out-closed");
    let load = r#"{ mode = "closed", concurrency = [10] }"#;
    let path = profile(&dir, &server.url("/ok"), load, "1s");
    let dirs = run_shards(&path, 3, &start_at(1_500), &dir.join("shards")).await;
    let mut cells = Vec::new();
    for (i, d) in dirs.iter().enumerate() {
        let (rec, cell) = only_cell(d);
        let id = rec.scale_out.unwrap();
        assert_eq!((id.shard, id.shards), (Some(i as u32), 3));
        assert!(id.clock_offset_ms.contains_key(&(i as u32)));
        cells.push(cell);
    }
    let workers: Vec<f64> = cells.iter().map(|c| c.load.level()).collect();
    assert_eq!(workers, vec![4.0, 3.0, 3.0]);
    for c in &cells {
        // Little's law holds against the shard's own share: it ran that many workers.
        assert_eq!(c.littles_law, None, "{:?}", c.load);
    }
    let ab = dir.join("merged-ab");
    assert!(merge(&dirs, &ab).status.success());
    let (_, merged) = only_cell(&ab);
    assert_eq!(merged.load.level(), 10.0);
    assert_eq!(merged.littles_law, None);
    assert_eq!(
        merged.requests,
        cells.iter().map(|c| c.requests).sum::<u64>()
    );
    assert_eq!(
        server.received(),
        merged.requests + 3,
        "server vs merged record"
    );

    let reversed: Vec<PathBuf> = dirs.iter().rev().cloned().collect();
    let ba = dir.join("merged-ba");
    assert!(merge(&reversed, &ba).status.success());
    for file in ["summary.json", "results.csv", "report.html", "junit.xml"] {
        let (a, b) = (ab.join(file), ba.join(file));
        assert!(
            std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
            "{file} differs with the order of the shards"
        );
    }
    merge_refuses_what_is_not_one_run(&dir, &dirs);
}

fn merge_refuses_what_is_not_one_run(dir: &Path, dirs: &[PathBuf]) {
    let refused = |dirs: &[PathBuf], needle: &str| {
        let out = merge(dirs, &dir.join("refused"));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "merge should refuse ({needle}): {err}"
        );
        assert!(err.contains(needle), "expected {needle:?} in {err}");
    };
    refused(&dirs[..2], "shards [2] of 3 are missing");
    let twice = [
        dirs[0].clone(),
        dirs[1].clone(),
        dirs[0].clone(),
        dirs[2].clone(),
    ];
    refused(&twice, "shard 0 is given twice");
    let other = dir.join("other-profile");
    std::fs::create_dir_all(&other).unwrap();
    let mut rec = record::read(&dirs[2]).unwrap();
    if let Some(id) = rec.scale_out.as_mut() {
        id.profile_hash = "0123456789abcdef".into();
    }
    std::fs::write(
        other.join("summary.json"),
        serde_json::to_vec_pretty(&rec).unwrap(),
    )
    .unwrap();
    let mixed = [dirs[0].clone(), dirs[1].clone(), other];
    refused(&mixed, "its profile (hash) is 0123456789abcdef");
}

/// A shard that starts after its first slot began skips that cell, recorded as missed, and
/// runs the next in its slot.
#[tokio::test]
async fn a_late_shard_records_missed_cells() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = TestServer::start(Behaviour::default()).await;
    let dir = temp_dir("scale-out-late");
    let load = r#"{ mode = "closed", concurrency = [1, 2] }"#;
    let path = profile(&dir, &server.url("/ok"), load, "1s");
    // Slots are 1 s + 0.6 s long; the run started 0.5 s ago, so the first slot is past and
    // the second begins about a second from now.
    let mut cmd = loadtest();
    cmd.arg("run")
        .arg(&path)
        .arg("--quiet")
        .arg("--shard=1/2")
        .arg(format!("--start-at={}", start_at(-500)))
        .arg("--out")
        .arg(dir.join("out"));
    let out = output(cmd).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("missed cell 0"), "{err}");
    let rec = record::read(&only_run_dir(&dir.join("out"))).unwrap();
    let id = rec.scale_out.unwrap();
    assert_eq!(id.missed.get(&0), Some(&vec![1]));
    let run: Vec<usize> = rec.cells.iter().map(|c| c.index).collect();
    assert_eq!(run, vec![1]);
    assert!(!rec.complete);
}

/// Shards run grids only, need a start time, and `--shards` needs the Indexed Job's index.
#[test]
fn shards_refuse_what_they_cannot_run() {
    let dir = temp_dir("scale-out-usage");
    let load = r#"{ mode = "closed", concurrency = [1, 2] }"#;
    let path = profile(&dir, "http://127.0.0.1:9/ok", load, "1s");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text + "[sla]\npercentile = 99\nlatency_ms = 100\n").unwrap();
    let run = |args: &[&str], env: Option<&str>| {
        let mut cmd = loadtest();
        cmd.arg("run")
            .arg(&path)
            .args(args)
            .env_remove("JOB_COMPLETION_INDEX");
        if let Some(index) = env {
            cmd.env("JOB_COMPLETION_INDEX", index);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, err) = run(&["--shard=0/2"], None);
    assert_eq!(code, Some(2));
    assert!(err.contains("needs `--start-at"), "{err}");
    let at = "--start-at=2026-12-01T12:00:00Z";
    let (code, err) = run(&["--shard=0/2", at, "--adaptive"], None);
    assert_eq!(code, Some(2));
    assert!(err.contains("grids only: an adaptive sweep"), "{err}");
    let (code, err) = run(&["--shards=3", at], None);
    assert_eq!(code, Some(2));
    assert!(err.contains("JOB_COMPLETION_INDEX"), "{err}");
    let (code, err) = run(&["--shards=3", at, "--dry-run"], Some("2"));
    assert_eq!(code, Some(0), "{err}");
    let (code, _) = run(&["--shards=3", at, "--dry-run"], Some("3"));
    assert_eq!(code, Some(2));
}
