//! deploy/kubernetes: every manifest validates against the pinned Kubernetes API with
//! `kubernetes-validate --strict` (installed by `.ci/run` into target/ci-venv), a manifest
//! with a misspelt field does not, and the Indexed Job's shard count agrees everywhere.
//! Where kubernetes-validate is missing the validation is skipped with a message, unless
//! LOADTEST_REQUIRE_KUBE_VALIDATE=1 (set by `.ci/run`), which makes it a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Kubernetes version the manifests are validated against (`.ci/run` pins it too).
const KUBERNETES_VERSION: &str = "1.33.0";

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes")
}

/// Every .yaml under deploy/kubernetes, sorted.
fn manifests() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&deploy_dir(), &mut out);
    out.sort();
    out
}

/// kubernetes-validate from target/ci-venv or PATH; `None` (with a message) when missing and
/// not required.
fn validator() -> Option<PathBuf> {
    let required = std::env::var("LOADTEST_REQUIRE_KUBE_VALIDATE").is_ok_and(|v| v == "1");
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv/bin/kubernetes-validate");
    let found = if venv.exists() {
        Some(venv)
    } else {
        Command::new("kubernetes-validate")
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|_| PathBuf::from("kubernetes-validate"))
    };
    if found.is_none() {
        assert!(
            !required,
            "kubernetes-validate is missing: run `.ci/run`, which installs it into target/ci-venv"
        );
        eprintln!(
            "SKIPPED manifest validation: kubernetes-validate is missing; run `.ci/run`, or \
             `python3 -m venv target/ci-venv && target/ci-venv/bin/pip install kubernetes-validate==1.37.0`"
        );
    }
    found
}

fn validate(bin: &Path, files: &[PathBuf]) -> std::process::Output {
    let version =
        std::env::var("LOADTEST_KUBERNETES_VERSION").unwrap_or_else(|_| KUBERNETES_VERSION.into());
    Command::new(bin)
        .args(["--strict", "-k", &version])
        .args(files)
        .output()
        .unwrap()
}

#[test]
fn manifests_validate_against_the_pinned_kubernetes() {
    let Some(bin) = validator() else {
        return;
    };
    let files = manifests();
    assert!(files.len() >= 5, "{files:?}");
    let out = validate(&bin, &files);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(!text.contains("ERROR"), "{text}");

    // The validator does catch a mistake: a misspelt field of the Indexed Job.
    let job = std::fs::read_to_string(deploy_dir().join("shards-job.yaml")).unwrap();
    let dir = crate::bin::temp_dir("kube-validate");
    let broken = dir.join("shards-job.yaml");
    std::fs::write(&broken, job.replace("completionMode:", "completionmode:")).unwrap();
    let out = validate(&bin, &[broken]);
    assert!(!out.status.success(), "a misspelt field passed validation");
}

/// `completions`, `parallelism`, `--shards` and the merge Job's folder pattern name the same
/// N, the Job is Indexed, and the shards keep to different nodes.
#[test]
fn the_indexed_job_and_the_merge_agree_on_the_shard_count() {
    let job = std::fs::read_to_string(deploy_dir().join("shards-job.yaml")).unwrap();
    let merge = std::fs::read_to_string(deploy_dir().join("after/merge-job.yaml")).unwrap();
    let value = |key: &str| {
        job.lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .map(|v| v.trim().trim_matches('"').to_string())
            .unwrap_or_else(|| panic!("no {key} in shards-job.yaml"))
    };
    let n = value("completions:");
    assert_eq!(value("parallelism:"), n);
    assert_eq!(value("completionMode:"), "Indexed");
    let lines: Vec<&str> = job.lines().map(str::trim).collect();
    let shards_at = lines
        .iter()
        .position(|l| *l == "- --shards")
        .expect("--shards");
    assert_eq!(
        lines[shards_at + 1]
            .trim_start_matches("- ")
            .trim_matches('"'),
        n
    );
    assert!(job.contains("podAntiAffinity:") && job.contains("kubernetes.io/hostname"));
    assert!(job.contains("--start-at") && job.contains("JOB_COMPLETION_INDEX"));
    assert!(
        merge.contains(&format!("shard*of{n}-")),
        "merge Job globs another N"
    );
}
