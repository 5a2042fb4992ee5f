//! `[provision]` in any build: `--dry-run` prints the cost plan without creating anything,
//! and a build without the `provision` feature refuses the run with the command to build it.

use crate::bin::{loadtest, temp_dir};
use std::path::{Path, PathBuf};

fn profile(dir: &Path) -> PathBuf {
    let text = r#"name = "plan"
[target]
kind = "sagemaker"
region = "us-east-1"
endpoint_url = "http://127.0.0.1:9"
[provision]
kind = "sagemaker"
model_name = "bert"
instance_count = 2
deploy_time = "6m"
[sweep]
instance_types = ["ml.c5.xlarge", "ml.m5.xlarge"]
payload_sizes = ["1KiB"]
load = { mode = "closed", concurrency = [1, 4] }
duration = "30s"
warmup = "0s"
"#;
    let path = dir.join("plan.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn dry_run_prints_endpoints_instance_hours_and_dollars() {
    let dir = temp_dir("prov-plan");
    let out = loadtest()
        .arg("run")
        .arg(profile(&dir))
        .arg("--dry-run")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Provisioning plan: 2 endpoint(s), each deleted"),
        "{stdout}"
    );
    // 2 instances × (6 min deploy + 2 × 30 s + 1 min teardown) = 16 instance-minutes each.
    assert!(stdout.contains("ml.c5.xlarge     x2"), "{stdout}");
    assert!(stdout.contains("0.267 instance-hours"), "{stdout}");
    assert!(
        stdout.contains("total: 0.533 instance-hours, about $"),
        "{stdout}"
    );
}

#[cfg(not(feature = "provision"))]
#[test]
fn a_build_without_the_feature_exits_2_with_the_command_to_build_it() {
    let dir = temp_dir("prov-nofeature");
    let path = profile(&dir);
    let out = loadtest()
        .arg("run")
        .arg(&path)
        .arg("--yes")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "cargo run --release --features provision -- run {}",
            path.display()
        )),
        "{err}"
    );
}
