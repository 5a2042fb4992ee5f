//! `loadtest run` with `[provision]` against the emulator's control plane: every candidate
//! deployed, measured and deleted (ListEndpoints empty after), also when a candidate
//! cannot deploy and when the run is interrupted mid-cell; nothing created without --yes.

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
