//! `loadtest run` with `[provision]` against the emulator's control plane: every candidate
//! deployed, measured and deleted (ListEndpoints empty after), also when a candidate
//! cannot deploy (a quota, an endpoint that fails: listed as a losing candidate) and when the
//! run is interrupted mid-cell; nothing created without --yes.

use super::control::{client, start_control, start_with};
use crate::bin::{interrupted_run_with, loadtest, temp_dir};
use loadtest::store::record;
use std::path::{Path, PathBuf};
use std::process::Output;

pub fn write_profile(dir: &Path, url: &str, instances: &str, extra: &str) -> PathBuf {
    let text = format!(
        r#"name = "prov"
[target]
kind = "sagemaker"
region = "us-east-1"
endpoint_url = "{url}"
timeout = "5s"
[provision]
kind = "sagemaker"
image = "img"
execution_role_arn = "arn:aws:iam::123456789012:role/r"
{extra}
[sweep]
instance_types = [{instances}]
payload_sizes = ["256B"]
load = {{ mode = "closed", concurrency = [1, 2] }}
duration = "1s"
warmup = "0s"
[sla]
percentile = 99
latency_ms = 500
[traffic]
peak_rps = 20
"#
    );
    let path = dir.join("prov.toml");
    std::fs::write(&path, text).unwrap();
    path
}

pub async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        loadtest()
            .args(&args)
            .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

pub fn args(profile: &Path, out: &Path, more: &[&str]) -> Vec<String> {
    let mut a = vec![
        "run".to_string(),
        profile.display().to_string(),
        "--out".into(),
        out.display().to_string(),
    ];
    a.extend(more.iter().map(ToString::to_string));
    a
}

async fn assert_nothing_left(sm: &aws_sdk_sagemaker::Client) {
    let endpoints = sm.list_endpoints().send().await.unwrap();
    assert!(endpoints.endpoints().is_empty(), "{endpoints:?}");
    let configs = sm.list_endpoint_configs().send().await.unwrap();
    assert!(configs.endpoint_configs().is_empty(), "{configs:?}");
    let models = sm.list_models().send().await.unwrap();
    assert!(models.models().is_empty(), "{models:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_instance_sweep_deploys_measures_and_deletes_both() {
    let emu = start_control(&[]).await;
    let dir = temp_dir("prov-sweep");
    let profile = write_profile(
        &dir,
        &emu.base_url(),
        "\"ml.c5.xlarge\", \"ml.m5.xlarge\"",
        "",
    );
    let out = run(args(&profile, &dir.join("out"), &["--yes"])).await;
    let err = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{err}\n{stdout}");
    assert!(
        stdout.contains("Provisioning plan: 2 endpoint(s) and 1 model"),
        "{stdout}"
    );
    assert!(err.contains("InService after"), "{err}");
    assert_eq!(err.matches("deleted Endpoint ").count(), 2, "{err}");
    let run_dir = crate::bin::only_run_dir(&dir.join("out"));
    let summary = record::read(&run_dir.join("summary.json")).unwrap();
    assert_eq!(summary.cells.len(), 4, "both candidates measured");
    assert!(summary.cells.iter().all(|c| c.ok > 0), "every cell served");
    assert_nothing_left(&client(&emu)).await;
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_over_its_quota_is_skipped_and_the_others_are_measured() {
    let emu = start_control(&["ml.c5.4xlarge"]).await;
    let dir = temp_dir("prov-quota");
    let profile = write_profile(
        &dir,
        &emu.base_url(),
        "\"ml.c5.4xlarge\", \"ml.m5.xlarge\"",
        "",
    );
    let out = run(args(&profile, &dir.join("out"), &["--yes"])).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{err}");
    assert!(
        err.contains("could not deploy: ResourceLimitExceeded"),
        "{err}"
    );
    let run_dir = crate::bin::only_run_dir(&dir.join("out"));
    let summary = record::read(&run_dir.join("summary.json")).unwrap();
    assert_eq!(summary.cells.len(), 2, "only ml.m5.xlarge measured");
    let [refused] = summary.not_deployed.as_slice() else {
        panic!("one could-not-deploy entry: {:?}", summary.not_deployed);
    };
    assert_eq!(refused.deployment.variant_label(), "ml.c5.4xlarge");
    assert_eq!(refused.count, 1);
    assert!(
        refused.reason.starts_with("ResourceLimitExceeded"),
        "{refused:?}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("real-time ml.c5.4xlarge: could not deploy: ResourceLimitExceeded"),
        "a losing candidate in the recommendation: {stdout}"
    );
    assert_nothing_left(&client(&emu)).await;
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_fails_is_deleted_shown_and_recorded_and_the_other_is_recommended() {
    let emu = start_control(&[]).await;
    let dir = temp_dir("prov-failed");
    // A type the emulator's catalog does not have (its endpoint fails), with a price so the
    // plan accepts it.
    let prices = dir.join("prices.csv");
    std::fs::write(
        &prices,
        "region,hosting,item,unit,usd,confidence,as_of,source\n\
         us-east-1,real-time,ml.nope.xlarge,hour,0.2,high,2026-11,test\n",
    )
    .unwrap();
    let pricing = format!("[pricing]\nfile = \"{}\"", prices.display());
    let profile = write_profile(
        &dir,
        &emu.base_url(),
        "\"ml.nope.xlarge\", \"ml.m5.xlarge\"",
        &pricing,
    );
    let out = run(args(&profile, &dir.join("out"), &["--yes"])).await;
    let err = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{err}\n{stdout}");
    assert!(
        err.contains("real-time ml.nope.xlarge): Failed after"),
        "{err}"
    );
    assert!(
        err.contains("could not deploy: endpoint Failed:") && err.contains("ml.nope.xlarge"),
        "the FailureReason is shown: {err}"
    );
    assert_eq!(
        err.matches("deleted Endpoint ").count(),
        2,
        "the failed endpoint is deleted too: {err}"
    );
    let run_dir = crate::bin::only_run_dir(&dir.join("out"));
    let summary = record::read(&run_dir.join("summary.json")).unwrap();
    assert_eq!(summary.cells.len(), 2, "ml.m5.xlarge measured");
    assert!(summary.cells.iter().all(|c| c.ok > 0), "every cell served");
    let [failed] = summary.not_deployed.as_slice() else {
        panic!("one could-not-deploy entry: {:?}", summary.not_deployed);
    };
    assert_eq!(failed.deployment.variant_label(), "ml.nope.xlarge");
    assert!(failed.reason.contains("ml.nope.xlarge"), "{failed:?}");
    let rec = summary.recommendation.as_ref().expect("a recommendation");
    let chosen = &rec.candidates[rec.choice.expect("a choice")];
    assert_eq!(chosen.label(), "real-time ml.m5.xlarge");
    let line = "real-time ml.nope.xlarge: could not deploy: endpoint Failed:";
    assert!(stdout.contains(line), "{stdout}");
    let md = std::fs::read_to_string(run_dir.join("recommendation.md")).unwrap();
    assert!(md.contains("| could not deploy: endpoint Failed:"), "{md}");
    let html = std::fs::read_to_string(run_dir.join("report.html")).unwrap();
    assert!(
        html.contains("could not deploy: endpoint Failed:"),
        "in the HTML report"
    );
    assert_nothing_left(&client(&emu)).await;
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_yes_and_no_terminal_nothing_is_created_and_the_exit_is_2() {
    let emu = start_control(&[]).await;
    let dir = temp_dir("prov-noyes");
    let profile = write_profile(
        &dir,
        &emu.base_url(),
        "\"ml.c5.xlarge\", \"ml.m5.xlarge\"",
        "",
    );
    let out = run(args(&profile, &dir.join("out"), &[])).await;
    let err = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        stdout.contains("instance-hours"),
        "the plan is printed: {stdout}"
    );
    assert!(
        err.contains("nothing was created") && err.contains("--yes"),
        "{err}"
    );
    assert!(!dir.join("out").exists(), "no run folder");
    assert_nothing_left(&client(&emu)).await;
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_run_deletes_what_it_created() {
    let emu = start_control(&[]).await;
    let dir = temp_dir("prov-int");
    let profile = write_profile(
        &dir,
        &emu.base_url(),
        "\"ml.c5.xlarge\", \"ml.m5.xlarge\"",
        "confirm = true",
    );
    let creds = [
        ("AWS_ACCESS_KEY_ID", "AKIDTEST"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ];
    let out = interrupted_run_with(&profile, &dir.join("out"), &creds).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("deleted Endpoint"), "{err}");
    assert_nothing_left(&client(&emu)).await;
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_permission_exits_3_naming_the_action_and_leaves_nothing() {
    let emu = start_with(loadtest::emulator::ControlSettings {
        deploy_delay: std::time::Duration::from_millis(50),
        denied: vec!["CreateEndpoint".into()],
        ..Default::default()
    })
    .await;
    let dir = temp_dir("prov-denied");
    let profile = write_profile(&dir, &emu.base_url(), "\"ml.c5.xlarge\"", "");
    let out = run(args(&profile, &dir.join("out"), &["--yes"])).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("access denied for `sagemaker:CreateEndpoint`"),
        "{err}"
    );
    assert_nothing_left(&client(&emu)).await;
    emu.stop().await;
}

/// Sends SIGINT to the process `pid`.
fn interrupt(pid: u32) {
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// A control plane whose deletes take 20 s to answer: the first Ctrl-C (once the first cell
/// is saved) starts the teardown, which waits on them; the second stops the waiting. Every
/// delete is still sent (ListEndpoints empty), what may be left is printed with the command
/// that deletes it, and the exit is 3, long before the deletes would have answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_ctrl_c_stops_waiting_but_sends_every_delete_and_says_what_may_be_left() {
    let emu = start_with(loadtest::emulator::ControlSettings {
        deploy_delay: std::time::Duration::from_millis(150),
        model: loadtest::emulator::Model::custom(1.0),
        delete_delay: std::time::Duration::from_secs(20),
        ..Default::default()
    })
    .await;
    let dir = temp_dir("prov-int2");
    let profile = write_profile(
        &dir,
        &emu.base_url(),
        "\"ml.c5.xlarge\", \"ml.m5.xlarge\"",
        "confirm = true",
    );
    let out_dir = dir.join("out");
    let child = crate::bin::loadtest()
        .args(args(&profile, &out_dir, &[]))
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let first_saved = async {
        loop {
            let saved = std::fs::read_dir(&out_dir)
                .ok()
                .and_then(|mut d| d.next())
                .and_then(|e| record::read(&e.ok()?.path().join("summary.json")).ok());
            if saved.is_some_and(|s| !s.cells.is_empty()) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), first_saved)
        .await
        .expect("first cell saved");
    interrupt(child.id());
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    interrupt(child.id());
    let second = std::time::Instant::now();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let took = second.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        took < std::time::Duration::from_secs(12),
        "stopped waiting: {took:?}\n{err}"
    );
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("Second Ctrl-C: not waiting any more"), "{err}");
    assert!(err.contains("may be billing; delete them with:"), "{err}");
    assert!(
        err.contains("aws sagemaker delete-endpoint --endpoint-name"),
        "{err}"
    );
    assert_nothing_left(&client(&emu)).await;
    emu.stop().await;
}

/// An async sweep through S3 under `s3_prefix`: the run uploads its inputs and its requests'
/// outputs land under `<prefix>/<run id>/`; the teardown deletes them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_run_deletes_its_s3_objects_at_teardown() {
    let emu = start_control(&[]).await;
    let dir = temp_dir("prov-s3");
    let profile = write_profile(
        &dir,
        &emu.base_url(),
        "\"ml.m5.xlarge\"",
        "s3_prefix = \"s3://bkt/lt\"",
    );
    let text = std::fs::read_to_string(&profile).unwrap();
    std::fs::write(
        &profile,
        text.replace("[sweep]\n", "[sweep]\nhosting = [\"async\"]\n"),
    )
    .unwrap();
    let out = run(args(&profile, &dir.join("out"), &["--yes"])).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{err}");
    let run_dir = crate::bin::only_run_dir(&dir.join("out"));
    let summary = record::read(&run_dir.join("summary.json")).unwrap();
    assert!(summary.cells.iter().all(|c| c.ok > 0), "{err}");
    assert!(
        summary
            .cells
            .iter()
            .all(|c| c.poll_granularity_ms == Some(200.0)),
        "async cells record their poll granularity"
    );
    let deleted = err
        .lines()
        .find(|l| l.starts_with("deleted ") && l.contains("S3 object(s) under s3://bkt/lt/lt-"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(!deleted.starts_with("deleted 0 "), "{deleted}");
    let listing = reqwest::Client::new()
        .get(format!("{}/bkt?list-type=2&prefix=lt%2F", emu.base_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listing.contains("<KeyCount>0</KeyCount>"), "{listing}");
    assert_nothing_left(&client(&emu)).await;
    emu.stop().await;
}
