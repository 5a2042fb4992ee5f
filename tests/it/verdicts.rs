//! Verdicts as a user meets them: the exit code and junit.xml agree (an HTTP target judged
//! as itself, a sweep whose top loads miss the SLA), an interrupted run's recommendation
//! leaves its partial cell out, and `compare` leaves partial cells out too (exit 2 when
//! nothing comparable remains), with compare-junit.xml agreeing with the exit code.

use crate::bin::{loadtest, only_run_dir, temp_dir};
use crate::support::{Behaviour, TestServer};
use loadtest::store::record;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// Runs `loadtest run PROFILE --out DIR/out --quiet` off the async runtime; returns the output
/// and the run folder.
async fn run(dir: &Path, text: &str) -> (Output, PathBuf) {
    let path = dir.join("profile.toml");
    std::fs::write(&path, text).unwrap();
    let out_dir = dir.join("out");
    let out = {
        let (path, out_dir) = (path.clone(), out_dir.clone());
        tokio::task::spawn_blocking(move || {
            loadtest()
                .arg("run")
                .arg(&path)
                .arg("--out")
                .arg(&out_dir)
                .arg("--quiet")
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    (out, only_run_dir(&out_dir))
}

/// The `failures` attribute of `<testsuites>` in a JUnit file.
fn junit_failures(path: &Path) -> (usize, String) {
    let text = std::fs::read_to_string(path).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("<testsuites "))
        .unwrap()
        .to_string();
    let at = line.find("failures=\"").unwrap() + 10;
    let n = line[at..][..line[at..].find('"').unwrap()].parse().unwrap();
    (n, text)
}

fn http_profile(url: &str, latency_ms: f64, concurrency: &str, duration: &str) -> String {
    format!(
        r#"name = "verdicts"
[target]
kind = "http"
url = "{url}"
timeout = "2s"
[sweep]
payload_sizes = ["512B"]
load = {{ mode = "closed", concurrency = {concurrency} }}
duration = "{duration}"
warmup = "100ms"
[sla]
percentile = 99
latency_ms = {latency_ms}
max_error_rate = 0.01
"#
    )
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_target_without_instance_types_is_judged_as_itself() {
    let server = TestServer::start(Behaviour {
        delay: Duration::from_millis(5),
        ..Default::default()
    })
    .await;
    let dir = temp_dir("verdict-http-met");
    let (out, run_dir) = run(
        &dir,
        &http_profile(&server.url("/ok"), 250.0, "[1, 2]", "400ms"),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (failures, junit) = junit_failures(&run_dir.join("junit.xml"));
    assert_eq!(failures, 0, "{junit}");
    assert!(junit.contains(r#"name="target""#), "{junit}");
    let md = std::fs::read_to_string(run_dir.join("recommendation.md")).unwrap();
    assert!(
        md.contains("Recommended: target — meets the SLA up to"),
        "{md}"
    );

    let dir = temp_dir("verdict-http-missed");
    let (out, run_dir) = run(
        &dir,
        &http_profile(&server.url("/ok"), 1.0, "[1, 2]", "400ms"),
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("No candidate meets the SLA"),
        "{}",
        stderr(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("No candidate is feasible: nothing meets the SLA; closest is target"),
        "a nearest miss to see: {stdout}"
    );
    let (failures, junit) = junit_failures(&run_dir.join("junit.xml"));
    assert!(failures >= 1, "{junit}");
    assert!(junit.contains("p99 over 1 ms at 2 of 2 loads"), "{junit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_past_capacity_exits_0_with_no_junit_failures() {
    // Like the quickstart, with short cells: c=16 is past an ml.c5.xlarge's capacity for a
    // 120 ms model and misses p99 ≤ 250 ms; c=1 meets it.
    let text = r#"name = "quick-verdicts"
[target]
kind = "emulator"
timeout = "30s"
[model]
preset = "bert-base"
[sweep]
hosting = ["real-time"]
instance_types = ["ml.c5.xlarge"]
payload_sizes = ["1KiB"]
load = { mode = "closed", concurrency = [1, 16] }
duration = "600ms"
warmup = "150ms"
[sla]
percentile = 99
latency_ms = 250
max_error_rate = 0.001
[traffic]
peak_rps = 400
headroom = 0.2
"#;
    let dir = temp_dir("verdict-quick");
    let (out, run_dir) = run(&dir, text).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary = record::read(&run_dir).unwrap();
    let sla = summary.profile.sla.unwrap();
    let missed = summary
        .cells
        .iter()
        .filter(|c| !loadtest::recommend::sla::check(c, &sla).passed())
        .count();
    assert!(
        missed >= 1,
        "a load level past capacity: {:?}",
        summary.cells
    );
    let (failures, junit) = junit_failures(&run_dir.join("junit.xml"));
    assert_eq!(failures, 0, "{junit}");
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(
        report.contains("| **fail** |"),
        "per-cell SLA results stay in report.md: {report}"
    );
}

/// Starts a run of 1-second cells and sends it Ctrl-C during its second cell.
async fn run_interrupted(dir: &Path, text: &str) -> (Output, PathBuf) {
    let path = dir.join("profile.toml");
    std::fs::write(&path, text).unwrap();
    let out_dir = dir.join("out");
    let out = crate::bin::interrupted_run(&path, &out_dir).await;
    (out, only_run_dir(&out_dir))
}

fn compare(baseline: &Path, current: &Path, out: &Path) -> Output {
    loadtest()
        .arg("compare")
        .arg(baseline)
        .arg(current)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_run_is_told_and_its_partial_cells_are_never_judged() {
    let server = TestServer::start(Behaviour {
        delay: Duration::from_millis(5),
        ..Default::default()
    })
    .await;
    let text = http_profile(&server.url("/ok"), 250.0, "[1, 2, 3]", "1s");
    let dir = temp_dir("verdict-interrupted");
    let (out, base) = run_interrupted(&dir, &text).await;
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Interrupted: 2 of 3 cells, the last one partial"),
        "{}",
        stderr(&out)
    );
    let summary = record::read(&base).unwrap();
    assert!(summary.cells[1].interrupted, "{:?}", summary.cells);
    let rec = summary.recommendation.as_ref().unwrap();
    let op = rec.candidates[0].operating.as_ref().unwrap();
    assert_eq!(op.cell_index, 0, "never the partial cell");
    assert_eq!(rec.candidates[0].cells, 1);
    for file in ["recommendation.md", "report.md", "report.html"] {
        let text = std::fs::read_to_string(base.join(file)).unwrap();
        assert!(
            text.contains("interrupted: 2 of 3 cells, the last one partial")
                && text.contains("partial cells are left out of the recommendation (#1)"),
            "{file}: {text}"
        );
    }
    let (failures, junit) = junit_failures(&base.join("junit.xml"));
    assert!(failures >= 1, "exit 130 is not a pass: {junit}");

    // A whole run of the same profile against the interrupted baseline: the partial cell is
    // left out and listed, not judged (no regression made of a cut-short window).
    let cur_dir = temp_dir("verdict-interrupted-current");
    let (out, current) = run(&cur_dir, &text).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let cmp = compare(&base, &current, &cur_dir.join("cmp"));
    let stdout = String::from_utf8_lossy(&cmp.stdout);
    let interrupted_rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("interrupted") && l.contains("closed c=2"))
        .collect();
    assert_eq!(interrupted_rows.len(), 4, "{stdout}");
    assert!(
        !stdout
            .lines()
            .any(|l| l.contains("closed c=2") && l.contains("worse")),
        "{stdout}"
    );
    let code = cmp.status.code().unwrap();
    assert!(code == 0 || code == 1, "{stdout}{}", stderr(&cmp));
    let (failures, junit) = junit_failures(&cur_dir.join("cmp/compare-junit.xml"));
    assert_eq!(failures == 0, code == 0, "{junit}");

    // Every shared cell partial in the baseline: nothing comparable, exit 2.
    let mut all_partial = summary.clone();
    for c in &mut all_partial.cells {
        c.interrupted = true;
    }
    let partial_base = dir.join("all-partial.json");
    std::fs::write(&partial_base, serde_json::to_vec(&all_partial).unwrap()).unwrap();
    let cmp = compare(&partial_base, &current, &cur_dir.join("cmp2"));
    let stdout = String::from_utf8_lossy(&cmp.stdout);
    assert_eq!(cmp.status.code(), Some(2), "{stdout}{}", stderr(&cmp));
    assert!(stdout.contains("NOTHING COMPARABLE"), "{stdout}");
    assert!(stdout.contains("8 interrupted"), "{stdout}");
    let (failures, junit) = junit_failures(&cur_dir.join("cmp2/compare-junit.xml"));
    assert!(failures >= 1, "{junit}");
}
