//! `loadtest compare` on real emulator runs: no false alarm between identical runs, an injected
//! 30 % slowdown is caught (exit 1), a 2 % one is not, missing cells, incompatible runs (exit
//! 2), threshold overrides, and a JUnit file that parses.
//!
//! Every run is one 6-second cell against an emulated 50 ms model; the runs are made once,
//! a few at a time, and shared by the tests below.

use crate::bin::{loadtest, run_ok};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

/// Identical runs (different model and sweep seeds) for the false-alarm measurement.
const IDENTICAL: u64 = 6;
/// Service time of the emulated model on one m5 core, ms: long enough that scheduler noise
/// on a busy machine stays small beside it.
const BASE_MS: f64 = 50.0;
/// Runs in flight at once (each uses about a quarter of a core in a debug build).
const PARALLEL: usize = 2;

struct Runs {
    dir: PathBuf,
    identical: Vec<PathBuf>,
    slower_30: PathBuf,
    slower_2: PathBuf,
}

fn profile(base_ms: f64, seed: u64) -> String {
    format!(
        r#"name = "nightly-it"
[target]
kind = "emulator"
timeout = "5s"
[model]
base_ms = {base_ms}
per_kib_ms = {per_kib}
jitter = 0.1
seed = {seed}
[sweep]
hosting = ["real-time"]
instance_types = ["ml.c5.xlarge"]
payload_sizes = ["1KiB"]
load = {{ mode = "closed", concurrency = [4] }}
duration = "6s"
warmup = "300ms"
seed = {seed}
[regression]
p99 = "10%"
throughput = "-5%"
error_rate = 0.001
"#,
        per_kib = base_ms / 100.0
    )
}

/// Runs a profile into `<dir>/<tag>/`, returning the run folder.
fn run(dir: &Path, tag: &str, text: &str) -> PathBuf {
    let root = dir.join(tag);
    std::fs::create_dir_all(&root).unwrap();
    let path = root.join("profile.toml");
    std::fs::write(&path, text).unwrap();
    run_ok(&path, &root.join("out"), &[]).0
}

fn runs() -> &'static Runs {
    static RUNS: OnceLock<Runs> = OnceLock::new();
    RUNS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("loadtest-it-compare-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut jobs: Vec<(String, String)> = (1..=IDENTICAL)
            .map(|s| (format!("same-{s}"), profile(BASE_MS, s)))
            .collect();
        jobs.push(("slower-30".into(), profile(BASE_MS * 1.3, 101)));
        jobs.push(("slower-2".into(), profile(BASE_MS * 1.02, 102)));
        let mut done = Vec::new();
        for batch in jobs.chunks(PARALLEL) {
            let made: Vec<PathBuf> = std::thread::scope(|s| {
                let handles: Vec<_> = batch
                    .iter()
                    .map(|(tag, text)| s.spawn(|| run(&dir, tag, text)))
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            done.extend(made);
        }
        let slower_2 = done.pop().unwrap();
        let slower_30 = done.pop().unwrap();
        Runs {
            dir,
            identical: done,
            slower_30,
            slower_2,
        }
    })
}

fn compare(base: &Path, cur: &Path, out: &Path, extra: &[&str]) -> Output {
    loadtest()
        .arg("compare")
        .arg(base)
        .arg(cur)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The verdict column of the `p99` row of a printed table.
fn row<'a>(stdout: &'a str, metric: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.split_whitespace().any(|w| w == metric))
        .unwrap_or("")
}

#[test]
fn identical_runs_compare_as_same_and_the_false_alarm_rate_is_zero() {
    let r = runs();
    let (mut comparisons, mut alarms, mut metric_rows, mut worse_rows) = (0, 0, 0, 0);
    for i in 0..r.identical.len() {
        for j in (i + 1)..r.identical.len() {
            let out = compare(
                &r.identical[i],
                &r.identical[j],
                &r.dir.join(format!("cmp-{i}-{j}")),
                &[],
            );
            let stdout = String::from_utf8_lossy(&out.stdout).to_string();
            comparisons += 1;
            metric_rows += ["p50", "p99", "throughput", "error_rate"].len();
            worse_rows += stdout.lines().filter(|l| l.contains(" worse ")).count();
            match out.status.code() {
                Some(0) => assert!(stdout.contains("No regression"), "{stdout}"),
                Some(1) => {
                    alarms += 1;
                    eprintln!("false alarm comparing runs {i} and {j}:\n{stdout}");
                }
                other => panic!("exit {other:?}: {}", text(&out)),
            }
        }
    }
    println!(
        "false alarms: {alarms} of {comparisons} comparisons ({:.1}%), {worse_rows} of {metric_rows} metric verdicts, over {} identical runs",
        100.0 * f64::from(alarms) / f64::from(comparisons),
        r.identical.len()
    );
    assert_eq!(alarms, 0, "identical runs must not be flagged");
}

#[test]
fn a_30_percent_slower_model_is_a_p99_regression_and_exits_1() {
    let r = runs();
    let out_dir = r.dir.join("cmp-slow-30");
    let out = compare(&r.identical[0], &r.slower_30, &out_dir, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    println!("injected 30% slowdown:\n{stdout}");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let p99 = row(&stdout, "p99");
    assert!(
        p99.contains("worse") && p99.contains("Mann–Whitney") && p99.contains("p="),
        "{p99}"
    );
    assert!(stdout.contains("REGRESSION"));
    let md = std::fs::read_to_string(out_dir.join("compare.md")).unwrap();
    assert!(md.contains("**worse**") && md.contains("p99 +10%"), "{md}");
    let loose = compare(
        &r.identical[0],
        &r.slower_30,
        &out_dir,
        &[
            "--threshold",
            "p99=300%",
            "--threshold",
            "p50=300%",
            "--threshold",
            "throughput=-90%",
        ],
    );
    assert_eq!(
        loose.status.code(),
        Some(0),
        "overrides loosen every threshold: {}",
        text(&loose)
    );
}

#[test]
fn a_2_percent_slower_model_under_a_10_percent_threshold_is_not_flagged() {
    let r = runs();
    let out = compare(&r.identical[0], &r.slower_2, &r.dir.join("cmp-slow-2"), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    println!("injected 2% slowdown:\n{stdout}");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!row(&stdout, "p99").contains("worse"));
    assert!(
        text(&out).contains("target.model.base_ms"),
        "model difference is a warning"
    );
}

#[test]
fn compare_junit_xml_parses_with_one_case_per_metric_per_cell() {
    let r = runs();
    let out_dir = r.dir.join("cmp-junit");
    compare(&r.identical[0], &r.slower_30, &out_dir, &[]);
    let xml = std::fs::read_to_string(out_dir.join("compare-junit.xml")).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures) = (Vec::new(), 0);
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                let name = e.name().0.to_string();
                if name == "testcase" {
                    let attr = e.try_get_attribute("name").unwrap().unwrap();
                    cases.push(attr.value.to_string());
                }
                failures += usize::from(name == "failure");
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(cases, ["p50", "p99", "throughput", "error_rate"]);
    assert!(failures >= 1);
    assert!(xml.contains("<testsuites") && xml.contains("</testsuites>"));
}

/// Writes a copy of a run's summary.json changed by `edit`; returns the copy's path.
fn edited(run: &Path, dest: &Path, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    edit(&mut json);
    std::fs::create_dir_all(dest).unwrap();
    let path = dest.join("summary.json");
    std::fs::write(&path, serde_json::to_string(&json).unwrap()).unwrap();
    path
}

#[test]
fn a_cell_the_current_run_lacks_is_reported_missing() {
    let r = runs();
    let base = edited(&r.identical[0], &r.dir.join("base-extra-cell"), |j| {
        let mut extra = j["cells"][0].clone();
        extra["load"]["concurrency"] = 8.into();
        j["cells"].as_array_mut().unwrap().push(extra);
    });
    let out = compare(&base, &r.identical[1], &r.dir.join("cmp-missing"), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let missing: Vec<&str> = stdout.lines().filter(|l| l.contains("missing")).collect();
    assert!(
        missing.len() >= 4 && missing.iter().any(|l| l.contains("closed c=8")),
        "{stdout}"
    );
    assert!(stdout.contains("4 missing"), "{stdout}");
}

#[test]
fn incompatible_runs_exit_2_naming_what_differs() {
    let r = runs();
    let cur = edited(&r.identical[1], &r.dir.join("cur-other-grid"), |j| {
        j["profile"]["sweep"]["load"]["concurrency"] = serde_json::json!([8]);
        j["profile"]["target"] = serde_json::json!({
            "kind": "http",
            "urls": { "one": "http://127.0.0.1:9/invocations" },
            "method": "POST",
            "headers": {},
        });
    });
    let out = compare(&r.identical[0], &cur, &r.dir.join("cmp-incompatible"), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("profile hash")
            && err.contains("sweep.load.concurrency: [4] vs [8]")
            && err.contains("target.kind: \"emulator\" vs \"http\""),
        "{err}"
    );
    let cur = edited(&r.identical[1], &r.dir.join("cur-other-tool"), |j| {
        j["tool"]["version"] = "7.0.0".into()
    });
    let out = compare(&r.identical[0], &cur, &r.dir.join("cmp-tool"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tool version"));
}

#[test]
fn bad_thresholds_and_paths_exit_2_with_a_fix() {
    let r = runs();
    let out = compare(
        &r.identical[0],
        &r.identical[1],
        &r.dir.join("cmp-bad"),
        &["--threshold", "p99=5"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("p99=5") && err.contains("e.g. `p99=10%`"),
        "{err}"
    );
    let out = compare(
        &r.identical[0],
        &r.identical[1],
        &r.dir.join("cmp-bad"),
        &["--threshold", "p98=5%"],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `p99`"));
    let out = compare(
        &r.dir.join("nope"),
        &r.identical[1],
        &r.dir.join("cmp-bad"),
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("summary.json"));
}
