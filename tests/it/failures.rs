//! A target that only fails: the probe before any load needs a success (exit 3 naming the
//! status, class and answer), failures keep their statuses and first messages, and a run
//! whose every cell failed exits 1 without an `[sla]`.

use crate::bin::{only_run_dir, quiet_run, temp_dir};
use crate::support::{Behaviour, TestServer, post_target};
use loadtest::endpoint::{Endpoint, EndpointError};
use loadtest::sample::ErrorKind;
use loadtest::store::record;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

/// Runs `loadtest run --quiet` on an http target at `url`: two payload sizes, c=2, short cells.
async fn run(dir: &Path, url: &str) -> Output {
    let text = format!(
        r#"name = "fail-test"
[target]
kind = "http"
url = "{url}"
timeout = "2s"
[sweep]
payload_sizes = ["512B", "1KiB"]
load = {{ mode = "closed", concurrency = [2] }}
duration = "300ms"
warmup = "50ms"
"#
    );
    let path = dir.join("profile.toml");
    std::fs::write(&path, text).unwrap();
    quiet_run(&path, &dir.join("out")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_path_exits_3_with_the_status_and_the_answer_before_any_load() {
    let server = TestServer::start(Behaviour::default()).await;
    let dir = temp_dir("fail-wrong-path");
    let out = run(&dir, &server.url("/nope")).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    for needle in [
        "HTTP 404",
        "http_4xx",
        "no route for /nope",
        "before any load",
    ] {
        assert!(err.contains(needle), "missing {needle}: {err}");
    }
    assert_eq!(server.received(), 1, "only the probe was sent");
    assert!(!dir.join("out").exists(), "no run folder");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_is_credentials_or_permissions_whatever_its_body() {
    let server = TestServer::start(Behaviour::default()).await;
    let dir = temp_dir("fail-denied");
    let out = run(&dir, &server.url("/denied")).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    for needle in [
        "credentials or permissions",
        "HTTP 403, auth",
        "403 Forbidden",
    ] {
        assert!(err.contains(needle), "missing {needle}: {err}");
    }
    assert_eq!(server.received(), 1, "only the probe was sent");
    // During a run too, a 403 is its own class, not an ordinary 4xx.
    let target = post_target(&server.url("/denied"), Duration::from_secs(2), 1);
    assert_eq!(
        target.send(bytes::Bytes::from_static(b"{}")).await,
        Err(ErrorKind::Auth)
    );
    let failure = target
        .request(bytes::Bytes::from_static(b"{}"))
        .await
        .expect_err("403");
    assert_eq!(failure.status, Some(403));
    assert!(
        failure.excerpt.text().contains("403 Forbidden"),
        "{failure:?}"
    );
}

#[tokio::test]
async fn a_redirect_is_its_own_class() {
    let server = TestServer::start(Behaviour::default()).await;
    let target = post_target(&server.url("/status/307"), Duration::from_secs(2), 1);
    let failure = target
        .request(bytes::Bytes::from_static(b"x"))
        .await
        .expect_err("307");
    assert_eq!(
        (failure.kind, failure.status),
        (ErrorKind::Http3xx, Some(307))
    );
    let err = target
        .probe(bytes::Bytes::from_static(b"x"))
        .await
        .expect_err("a redirect is no success");
    assert!(matches!(err, EndpointError::Failed { .. }), "{err:?}");
    assert!(err.to_string().contains("HTTP 307, http_3xx"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_keep_their_statuses_and_first_three_messages() {
    let server = TestServer::start(Behaviour::default()).await;
    let dir = temp_dir("fail-flaky");
    let out = run(&dir, &server.url("/flaky")).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let run_dir = only_run_dir(&dir.join("out"));
    let summary = record::read(&run_dir.join("summary.json")).unwrap();
    for cell in &summary.cells {
        assert!(cell.ok > 0 && cell.errors > 0, "{cell:?}");
        let detail = &cell.error_details[&ErrorKind::Http4xx];
        let statuses: Vec<u16> = detail.statuses.keys().copied().collect();
        assert_eq!(statuses, [415, 422], "{detail:?}");
        assert_eq!(
            detail.statuses.values().sum::<u64>(),
            cell.errors_by_kind[&ErrorKind::Http4xx],
            "every failure's status is counted"
        );
        assert_eq!(detail.messages.len(), 3, "{detail:?}");
        assert!(detail.messages.iter().all(|m| m.len() <= 200));
        assert!(
            detail
                .messages
                .iter()
                .any(|m| m.starts_with("Input should be a valid dictionary")),
            "{detail:?}"
        );
        assert_eq!(cell.error_details.len(), 1, "only http_4xx failed");
    }
    let md = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(md.contains("### What the failures said"), "{md}");
    assert!(
        md.contains("HTTP 415 ×") && md.contains("HTTP 422 ×"),
        "{md}"
    );
    assert!(
        md.contains("unsupported Content-Type: use application/json"),
        "{md}"
    );
    let html = std::fs::read_to_string(run_dir.join("report.html")).unwrap();
    assert!(html.contains("What the failures said"), "report.html");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Errors:") && stdout.contains("(HTTP 415 ×"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_every_cell_failed_exits_1_without_an_sla() {
    let server = TestServer::start(Behaviour {
        fail_after: Some(1),
        ..Behaviour::default()
    })
    .await;
    let dir = temp_dir("fail-all-failed");
    let out = run(&dir, &server.url("/ok")).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("Every request of every cell failed"), "{err}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("EVERY REQUEST FAILED"), "{stdout}");
    assert!(stdout.contains("\"model worker crashed\""), "{stdout}");
    let run_dir = only_run_dir(&dir.join("out"));
    let summary = record::read(&run_dir.join("summary.json")).unwrap();
    assert_eq!(summary.cells.len(), 2);
    assert!(summary.cells.iter().all(|c| c.ok == 0 && c.errors > 0));
    let md = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    assert!(md.contains("**every request failed**"), "{md}");
    let html = std::fs::read_to_string(run_dir.join("report.html")).unwrap();
    assert!(html.contains("<strong>every request failed</strong>"));
}
