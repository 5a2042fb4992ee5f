//! A third-party check: the same deploy → invoke → teardown against moto (`moto_server`,
//! PyPI `moto[server]` 5.2.5, installed by `.ci/run` into target/ci-venv). ListEndpoints is
//! empty after, and the InvokeEndpoint calls moto recorded equal what loadtest counted.
//! Skipped with a message where moto is missing, unless LOADTEST_REQUIRE_MOTO=1 (set by
//! `.ci/run`), which makes a missing moto a failure.

use super::run::{args, run, write_profile};
use loadtest::store::record;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The moto_server to start: $LOADTEST_MOTO_SERVER, else target/ci-venv's.
fn moto_server() -> Option<PathBuf> {
    let path = std::env::var_os("LOADTEST_MOTO_SERVER").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv/bin/moto_server"),
        PathBuf::from,
    );
    path.exists().then_some(path)
}

/// Stops moto when the test ends, however it ends.
struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_moto() -> Option<(Moto, String)> {
    let required = std::env::var("LOADTEST_REQUIRE_MOTO").is_ok_and(|v| v == "1");
    let Some(bin) = moto_server() else {
        assert!(
            !required,
            "moto_server is missing: run `.ci/run` (it installs moto into target/ci-venv)"
        );
        eprintln!(
            "SKIPPED moto test: moto_server is missing; `python3 -m venv target/ci-venv && target/ci-venv/bin/pip install 'moto[server]==5.2.5'`"
        );
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // moto's recorder appends to a file in its working folder: a fresh one per test.
    let dir = crate::bin::temp_dir("moto-server");
    let child = Command::new(bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .current_dir(&dir)
        .env("MOTO_RECORDER_FILEPATH", dir.join("moto_recording"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let moto = Moto(child);
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if http.get(format!("{url}/moto-api/")).send().await.is_ok() {
            return Some((moto, url));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("moto_server did not answer on {url}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_moto_nothing_is_left_and_its_invocations_match_the_counts() {
    let Some((_moto, url)) = start_moto().await else {
        return;
    };
    let http = reqwest::Client::new();
    http.post(format!("{url}/moto-api/recorder/start-recording"))
        .send()
        .await
        .expect("recording");
    let dir = crate::bin::temp_dir("prov-moto");
    let profile = write_profile(&dir, &url, "\"ml.c5.xlarge\", \"ml.m5.xlarge\"", "");
    // moto echoes the body through json.dumps, which takes text only: a JSON payload.
    let mut text = std::fs::read_to_string(&profile).unwrap();
    text.push_str("[payload]\nsource = \"json\"\ntemplate = '{\"inputs\": \"{{bytes}}\"}'\ncontent_type = \"application/json\"\n");
    std::fs::write(&profile, text).unwrap();
    let out = run(args(&profile, &dir.join("out"), &["--yes"])).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{err}");
    let recording = http
        .get(format!("{url}/moto-api/recorder/download-recording"))
        .send()
        .await
        .expect("download")
        .text()
        .await
        .expect("text");
    let invocations = recording
        .lines()
        .filter(|l| l.contains("/invocations"))
        .count() as u64;
    let summary =
        record::read(&crate::bin::only_run_dir(&dir.join("out")).join("summary.json")).unwrap();
    let probes = summary.first_requests.len() as u64;
    let counted: u64 = summary
        .cells
        .iter()
        .map(|c| c.requests + c.warmup_requests)
        .sum::<u64>()
        + probes;
    // A request cancelled when its cell stopped may not have reached moto.
    let cancelled: u64 = summary.cells.iter().map(|c| c.cancelled).sum();
    assert!(
        (counted - cancelled..=counted).contains(&invocations),
        "moto recorded {invocations} invocations; loadtest sent {counted} ({cancelled} cancelled)"
    );
    let sm = super::control::client_at(&url);
    assert!(
        sm.list_endpoints()
            .send()
            .await
            .unwrap()
            .endpoints()
            .is_empty()
    );
}
