//! The `loadtest` binary as a user runs it: exit codes, messages, run folders, Ctrl-C.

use crate::bin::{interrupted_run, loadtest, only_run_dir, temp_dir};
use crate::support::{Behaviour, TestServer};
use loadtest::store::{csv as results_csv, record};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

fn write_profile(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("profile.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn http_profile(url: &str, load: &str) -> String {
    format!(
        r#"name = "cli-test"
[target]
kind = "http"
url = "{url}"
timeout = "2s"
[sweep]
payload_sizes = ["512B", "2KiB"]
load = {load}
duration = "400ms"
warmup = "100ms"
"#
    )
}

async fn run_async(cmd: &mut Command) -> Output {
    let mut cmd = std::mem::replace(cmd, loadtest());
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

#[test]
fn a_bad_profile_exits_2_naming_line_column_and_fix() {
    let dir = temp_dir("bad-profile");
    let path = write_profile(
        &dir,
        &http_profile(
            "http://127.0.0.1:9/ok",
            r#"{ mode = "closed", concurency = [1] }"#,
        ),
    );
    let out = loadtest().arg("validate").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("profile.toml:8:27:"), "{err}");
    assert!(err.contains("did you mean `concurrency`?"), "{err}");
    let run = loadtest().arg("run").arg(&path).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
}

#[test]
fn validate_lists_every_problem_at_once() {
    let dir = temp_dir("many-problems");
    let text = http_profile(
        "ftp://nowhere",
        r#"{ mode = "open", rates = [0, 10], arrivals = "poison" }"#,
    )
    .replace("2KiB", "2kb");
    let path = write_profile(&dir, &text);
    let out = loadtest().arg("validate").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "target.url",
        "payload_sizes[1]",
        "rates[0]",
        "arrivals",
        "4 problems",
    ] {
        assert!(err.contains(needle), "missing {needle} in {err}");
    }
}

#[test]
fn strategy_and_repeats_are_checked_with_their_fixes() {
    let dir = temp_dir("strategy");
    let base = http_profile(
        "http://127.0.0.1:9/ok",
        r#"{ mode = "closed", concurrency = [1] }"#,
    );
    let typo = base.replace(
        "[sweep]\n",
        "[sweep]\nstrategy = \"adaptiv\"\nrepeats = 0\n",
    );
    let out = loadtest()
        .arg("validate")
        .arg(write_profile(&dir, &typo))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean `adaptive`?"), "{err}");
    assert!(
        err.contains("`sweep.repeats`: 0 is not a number of repeats"),
        "{err}"
    );

    let no_sla = base.replace("[sweep]\n", "[sweep]\nstrategy = \"adaptive\"\n");
    let out = loadtest()
        .arg("validate")
        .arg(write_profile(&dir, &no_sla))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`sweep.strategy`") && err.contains("no [sla]"),
        "{err}"
    );

    let out = loadtest()
        .args(["run", "--adaptive"])
        .arg(write_profile(&dir, &base))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "no load is sent without an SLA");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`--adaptive`") && err.contains("[sla]"),
        "{err}"
    );

    let repeated = base.replace("[sweep]\n", "[sweep]\nrepeats = 2\n")
        + "[sla]\npercentile = 99\nlatency_ms = 100\n";
    let path = write_profile(&dir, &repeated);
    let out = loadtest()
        .args(["run", "--adaptive"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "no load is sent with repeats");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sets `repeats`"), "{err}");
    let out = loadtest().arg("validate").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "repeats on a grid are fine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_target_exits_3_before_any_load() {
    let server = TestServer::start(Behaviour::default()).await;
    let url = server.url("/ok");
    drop(server);
    let dir = temp_dir("unreachable");
    let path = write_profile(
        &dir,
        &http_profile(&url, r#"{ mode = "closed", concurrency = [1] }"#),
    );
    let out = run_async(
        loadtest()
            .arg("run")
            .arg(&path)
            .arg("--out")
            .arg(dir.join("out")),
    )
    .await;
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot reach") && err.contains(&url), "{err}");
    assert!(
        !dir.join("out").exists(),
        "no run folder for a run that never started"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_csv_and_summary_json_parse_and_agree() {
    let server = TestServer::start(Behaviour {
        delay: Duration::from_millis(3),
        ..Default::default()
    })
    .await;
    let dir = temp_dir("results");
    let path = write_profile(
        &dir,
        &http_profile(
            &server.url("/ok"),
            r#"{ mode = "closed", concurrency = [1, 4] }"#,
        ),
    );
    let out = run_async(
        loadtest()
            .arg("run")
            .arg(&path)
            .arg("--out")
            .arg(dir.join("out"))
            .arg("--quiet"),
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("p99 ms"), "prints a table: {stdout}");
    let run_dir = only_run_dir(&dir.join("out"));
    assert!(
        run_dir
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("cli-test-")
    );
    let rows =
        results_csv::read(std::fs::File::open(run_dir.join("results.csv")).unwrap()).unwrap();
    let summary = record::read(&run_dir.join("summary.json")).unwrap();
    assert_eq!(summary.schema_version, record::SCHEMA_VERSION);
    assert!(summary.complete);
    assert_eq!(rows.len(), 4);
    assert_eq!(summary.cells.len(), 4);
    for (row, cell) in rows.iter().zip(&summary.cells) {
        assert_eq!(row.requests, cell.requests);
        assert_eq!(row.ok, cell.ok);
        assert_eq!(row.p99_ms, cell.latency.map(|l| l.p99_ms));
        assert_eq!(
            row.p99_ms,
            cell.latency_at(loadtest::domain::Quantile::P99),
            "histogram agrees with the column"
        );
        assert_eq!(row.hosting, "-");
        assert!(row.accounting_ok && row.requests > 0);
    }
    let header = std::fs::read_to_string(run_dir.join("results.csv")).unwrap();
    assert!(header.starts_with("hosting,instance_type,payload_bytes,load_mode,concurrency,target_rps,duration_s,requests,ok,errors,error_rate,throughput_rps,mean_ms,p50_ms,p90_ms,p95_ms,p99_ms,p999_ms,max_ms,"));
    assert_eq!(
        server.received(),
        summary
            .cells
            .iter()
            .map(|c| c.requests + c.warmup_requests)
            .sum::<u64>()
            + 1,
        "plus one probe"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_keeps_what_was_measured_and_exits_130() {
    let server = TestServer::start(Behaviour {
        delay: Duration::from_millis(5),
        ..Default::default()
    })
    .await;
    let dir = temp_dir("ctrl-c");
    let text = http_profile(
        &server.url("/ok"),
        r#"{ mode = "closed", concurrency = [1, 2, 3] }"#,
    )
    .replace("duration = \"400ms\"", "duration = \"1s\"");
    let path = write_profile(&dir, &text);
    // Cells take 1.1 s each: interrupt during the second one, once the first is saved.
    let out = interrupted_run(&path, &dir.join("out")).await;
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run_dir = only_run_dir(&dir.join("out"));
    let summary = record::read(&run_dir.join("summary.json")).unwrap();
    assert!(summary.interrupted && !summary.complete);
    assert_eq!(
        summary.cells.len(),
        2,
        "the finished cell and the interrupted one"
    );
    assert!(summary.cells[1].interrupted);
    assert!(summary.cells.iter().all(|c| c.accounting_ok && c.ok > 0));
    let rows =
        results_csv::read(std::fs::File::open(run_dir.join("results.csv")).unwrap()).unwrap();
    assert_eq!(rows.len(), 2);
}

#[test]
fn batch_on_a_sagemaker_target_is_refused_with_the_fix() {
    let dir = temp_dir("sm-batch");
    let text = r#"name = "sm"
[target]
kind = "sagemaker"
region = "us-east-1"
endpoint_url = "http://127.0.0.1:9"
endpoint = "bert"
[sweep]
hosting = ["batch"]
instance_types = ["ml.c5.xlarge"]
load = { mode = "closed", concurrency = [1] }
"#;
    let out = loadtest()
        .arg("validate")
        .arg(write_profile(&dir, text))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("CreateTransformJob") && err.contains("kind = \"http\""),
        "{err}"
    );
}

#[test]
fn every_shipped_profile_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let out = loadtest().arg("validate").arg(&path).output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            checked += 1;
        }
    }
    assert!(checked >= 6, "{checked} profiles");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_folder_that_is_a_file_exits_2_before_any_load() {
    let server = TestServer::start(Behaviour::default()).await;
    let dir = temp_dir("out-is-file");
    let path = write_profile(
        &dir,
        &http_profile(
            &server.url("/ok"),
            r#"{ mode = "closed", concurrency = [1] }"#,
        ),
    );
    let file = dir.join("taken");
    std::fs::write(&file, b"not a folder").unwrap();
    for out_root in [file.clone(), file.join("below")] {
        let out = run_async(loadtest().arg("run").arg(&path).arg("--out").arg(&out_root)).await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(&out_root.display().to_string()), "{err}");
        assert!(!err.contains("unreachable"), "{err}");
    }
    assert_eq!(
        server.received(),
        0,
        "no request before the output folder is checked"
    );
}

fn validate_err(dir: &Path, text: &str) -> String {
    let path = write_profile(dir, text);
    let out = loadtest().arg("validate").arg(&path).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    err
}

#[test]
fn validate_catches_what_run_would_reject_or_change() {
    let dir = temp_dir("validate-as-run");
    let base = http_profile(
        "http://127.0.0.1:9/ok",
        r#"{ mode = "closed", concurrency = [1] }"#,
    );
    // A template larger than a swept size (run exits 2 on it), and a 100000 h cell.
    let oversize = base.replace("duration = \"400ms\"", "duration = \"100000h\"")
        + &format!(
            "[payload]\nsource = \"json\"\ntemplate = '{{\"inputs\": \"{{{{bytes}}}}\", \"pad\": \"{}\"}}'\n",
            "x".repeat(600)
        );
    let err = validate_err(&dir, &oversize);
    assert!(err.contains("2 problems"), "{err}");
    assert!(
        err.contains("`sweep.payload_sizes[0]`: 512B is smaller than the JSON template"),
        "{err}"
    );
    assert!(
        err.contains("`sweep.duration`: `100000h` is over the 24 h limit"),
        "{err}"
    );
    // A template without `{{bytes}}` while sizes are swept: 512 B would silently become 19 B.
    let fixed =
        base.clone() + "[payload]\nsource = \"json\"\ntemplate = '{\"inputs\": [1, 2, 3]}'\n";
    let err = validate_err(&dir, &fixed);
    assert!(
        err.contains("`payload.template`: has no `{{bytes}}` placeholder"),
        "{err}"
    );
    // 2 GB on real-time: over the only swept option's limit, named.
    let huge = base
        .replace(
            "payload_sizes = [\"512B\", \"2KiB\"]",
            "payload_sizes = [\"2GiB\"]",
        )
        .replace("[sweep]\n", "[sweep]\nhosting = [\"real-time\"]\n");
    let err = validate_err(&dir, &huge);
    assert!(
        err.contains("2GiB payload is over the request limit"),
        "{err}"
    );
    assert!(err.contains("real-time: 6MiB"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_files_are_sweep_levels_sent_with_their_content_type() {
    let server = TestServer::start(Behaviour::default()).await;
    let dir = temp_dir("payload-files");
    std::fs::write(dir.join("rows-1.json"), br#"{"inputs": [1]}"#).unwrap();
    std::fs::write(dir.join("rows-64.json"), vec![b' '; 3000]).unwrap();
    let text = http_profile(
        &server.url("/ok"),
        r#"{ mode = "closed", concurrency = [1] }"#,
    )
    .replace("payload_sizes = [\"512B\", \"2KiB\"]\n", "")
        + "[payload]\nsource = \"files\"\npaths = [\"rows-1.json\", \"rows-64.json\"]\n";
    let path = write_profile(&dir, &text);
    let out_dir = dir.join("out");
    let out = run_async(loadtest().arg("run").arg(&path).arg("--out").arg(&out_dir)).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(server.content_types(), ["application/json"]);
    assert!(
        stdout.contains("rows-1.json 15B") && stdout.contains("rows-64.json 2.9KiB"),
        "{stdout}"
    );
    let run = record::read(&only_run_dir(&out_dir)).unwrap();
    let files: Vec<_> = run
        .cells
        .iter()
        .map(|c| (c.payload_file.clone(), c.payload_bytes))
        .collect();
    assert_eq!(
        files,
        [
            (Some("rows-1.json".to_string()), 15),
            (Some("rows-64.json".to_string()), 3000)
        ]
    );
    let csv = std::fs::File::open(only_run_dir(&out_dir).join("results.csv")).unwrap();
    let rows = results_csv::read(csv).unwrap();
    let csv_files: Vec<_> = rows.iter().map(|r| r.payload_file.as_deref()).collect();
    assert_eq!(csv_files, [Some("rows-1.json"), Some("rows-64.json")]);
}

#[test]
fn validate_warns_when_two_instance_types_share_a_url() {
    let dir = temp_dir("shared-url");
    let text = http_profile("http://127.0.0.1:9/a", r#"{ mode = "closed", concurrency = [1] }"#)
        .replace(
            "url = \"http://127.0.0.1:9/a\"",
            "urls = { \"ml.c5.xlarge\" = \"http://127.0.0.1:9/a\", \"ml.m5.xlarge\" = \"http://127.0.0.1:9/a\" }",
        );
    let path = write_profile(&dir, &text);
    let out = loadtest().arg("validate").arg(&path).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: target.urls: `ml.c5.xlarge`, `ml.m5.xlarge`"),
        "{stderr}"
    );
    assert!(
        stdout.contains("real-time  ml.c5.xlarge"),
        "urls imply real-time: {stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_per_instance_type_are_priced_as_real_time() {
    let server = TestServer::start(Behaviour::default()).await;
    let dir = temp_dir("urls-priced");
    let text = http_profile(
        &server.url("/ok"),
        r#"{ mode = "closed", concurrency = [1] }"#,
    )
    .replace(
        &format!("url = \"{}\"", server.url("/ok")),
        &format!(
            "urls = {{ \"ml.c5.xlarge\" = \"{}\", \"ml.m5.xlarge\" = \"{}\" }}",
            server.url("/ok"),
            server.url("/ok?m5")
        ),
    )
    .replace(
        "payload_sizes = [\"512B\", \"2KiB\"]",
        "payload_sizes = [\"512B\"]",
    ) + "[sla]\npercentile = 99\nlatency_ms = 1000\n[traffic]\npeak_rps = 1\n";
    let path = write_profile(&dir, &text);
    let out_dir = dir.join("out");
    let out = run_async(loadtest().arg("run").arg(&path).arg("--out").arg(&out_dir)).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let run = record::read(&only_run_dir(&out_dir)).unwrap();
    let rec = run.recommendation.expect("a recommendation");
    assert_eq!(rec.unattributed_cells, 0, "{stderr}");
    assert_eq!(rec.candidates.len(), 2, "{stderr}");
    assert!(rec.choice.is_some(), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

/// A `mode = "async"` sagemaker target on an endpoint named per instance type (the sweep's
/// hosting option is then asynchronous); nothing listens at its `endpoint_url`.
fn async_sagemaker_profile() -> &'static str {
    r#"name = "async-sm"
[target]
kind = "sagemaker"
region = "us-east-1"
endpoint_url = "http://127.0.0.1:9"
mode = "async"
input_location = "s3://inputs/{bytes}.bin"
endpoints = { "ml.m5.large" = "q" }
[sweep]
payload_sizes = ["256B"]
load = { mode = "closed", concurrency = [1] }
duration = "1s"
warmup = "0s"
"#
}

/// Without the S3 SDK, `validate` gives `run`'s verdict on an async sagemaker target: exit 2
/// with the same message, naming the field and the build command.
#[cfg(not(feature = "provision"))]
#[test]
fn validate_refuses_an_async_sagemaker_target_as_run_does_without_the_s3_sdk() {
    let dir = temp_dir("async-sm-validate");
    let path = write_profile(&dir, async_sagemaker_profile());
    let validate = loadtest().arg("validate").arg(&path).output().unwrap();
    let run = loadtest()
        .arg("run")
        .arg(&path)
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&validate.stderr);
    assert_eq!(validate.status.code(), Some(2), "{err}");
    assert!(err.contains("`target.mode = \"async\"`"), "{err}");
    assert!(err.contains("--features provision"), "{err}");
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(
        err,
        String::from_utf8_lossy(&run.stderr),
        "the same message"
    );
    assert!(validate.stdout.is_empty(), "no plan printed");
}

/// With the S3 SDK (the `provision` build) the same async sagemaker profile validates.
#[cfg(feature = "provision")]
#[test]
fn an_async_sagemaker_target_validates_in_a_provision_build() {
    let dir = temp_dir("async-sm-validate-provision");
    let path = write_profile(&dir, async_sagemaker_profile());
    let out = loadtest().arg("validate").arg(&path).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("async"));
}
