//! SageMaker endpoints through the real AWS SDK, end to end against the emulator on
//! 127.0.0.1 (`endpoint_url`), with dummy static credentials set on the client.

use aws_sdk_sagemakerruntime::config::Credentials;
use bytes::Bytes;
use loadtest::domain::{Deployment, Hosting, Load};
use loadtest::emulator::{
    EndpointSpec, Faults, InjectedError, Model, Running, ServiceDistribution,
};
use loadtest::endpoint::sagemaker::{SageMakerEndpoint, client_with_credentials};
use loadtest::endpoint::{AnyEndpoint, Endpoint, EndpointError};
use loadtest::engine::{CellOptions, run_cell};
use loadtest::payload;
use loadtest::plan::Cell;
use loadtest::profile::{InvokeMode, PayloadSource, SageMakerTarget};
use loadtest::results::CellSummary;
use loadtest::sample::ErrorKind;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const KEY_ID: &str = "AKIDLOADTESTDUMMY0001";
const SECRET: &str = "loadtest-dummy-secret-never-printed";
const TIMEOUT: Duration = Duration::from_secs(2);

fn credentials() -> Credentials {
    Credentials::new(KEY_ID, SECRET, None, None, "loadtest-tests")
}

/// A model with only a base cost and no jitter.
fn fixed(base_ms: f64) -> Model {
    Model {
        service: ServiceDistribution::Fixed,
        ..Model::custom(base_ms)
    }
}

fn realtime(name: &str, model: Model) -> EndpointSpec {
    EndpointSpec::new(name, Hosting::RealTime, "ml.m5.xlarge", model)
}

fn faulty(name: &str, error_type: InjectedError) -> EndpointSpec {
    EndpointSpec {
        faults: Faults {
            error_rate: 1.0,
            error_type,
            ..Faults::default()
        },
        ..realtime(name, fixed(1.0))
    }
}

async fn start(endpoints: Vec<EndpointSpec>) -> Running {
    let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
    Running::start(any, endpoints)
        .await
        .expect("emulator starts")
}

fn settings(endpoint_url: &str, mode: InvokeMode) -> SageMakerTarget {
    SageMakerTarget {
        region: "us-east-1".into(),
        endpoint_url: Some(endpoint_url.into()),
        endpoints: BTreeMap::new(),
        profile: None,
        mode,
        custom_attributes: Some("trace=loadtest".into()),
        target_variant: None,
        target_model: None,
        target_container_hostname: None,
        inference_component: None,
        accept: Some("application/json".into()),
        retries: 0,
        input_location: (mode == InvokeMode::Async).then(|| "emulator://bytes/{bytes}".into()),
    }
}

async fn endpoint(name: &str, settings: &SageMakerTarget, timeout: Duration) -> SageMakerEndpoint {
    let client = client_with_credentials(settings, timeout, 8, Some(credentials()))
        .await
        .expect("client");
    SageMakerEndpoint::new(client, name, settings, "application/octet-stream", timeout)
}

fn body(bytes: usize) -> Bytes {
    Bytes::from(vec![7u8; bytes])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_invocations_run_through_the_engine_and_are_counted() {
    let emu = start(vec![realtime("tiny", fixed(2.0))]).await;
    let target = endpoint(
        "tiny",
        &settings(&emu.base_url(), InvokeMode::Sync),
        TIMEOUT,
    )
    .await;
    let cell = Cell {
        index: 0,
        deployment: Deployment::default(),
        payload_bytes: 512,
        payload_file: None,
        load: Load::Closed { concurrency: 4 },
        duration: Duration::from_millis(500),
        warmup: Duration::from_millis(100),
        timeout: TIMEOUT,
        repeat: 1,
    };
    let bodies = payload::build(&PayloadSource::Random, cell.payload_bytes, 1).expect("bodies");
    let (_tx, cancel) = tokio::sync::watch::channel(false);
    let target = Arc::new(AnyEndpoint::SageMaker(target));
    let result = run_cell(
        &cell,
        Arc::clone(&target),
        Arc::new(bodies),
        &CellOptions::seeded(7),
        cancel,
    )
    .await;
    let s = CellSummary::from_result(&result);
    assert!(s.requests > 50, "{} requests", s.requests);
    // Answers after the window are `late_ok`, not `ok` (issue 13: throughput is what the
    // window saw).
    assert_eq!(s.ok + s.late_ok, s.requests, "{:?}", s.errors_by_kind);
    assert!(s.accounting_ok);
    assert!(s.bytes_in > 0, "the answer body is counted");
    assert_eq!(
        s.invoked_variants,
        BTreeMap::from([("AllTraffic".to_string(), s.ok)])
    );
    assert!(
        target.describe().contains("InvokeEndpoint tiny"),
        "{}",
        target.describe()
    );
    emu.stop().await;
}

#[tokio::test]
async fn a_target_variant_reaches_the_emulator_and_the_invoked_variant_is_counted() {
    let emu = start(vec![EndpointSpec {
        variant: "Blue".into(),
        ..realtime("ab", fixed(1.0))
    }])
    .await;
    let mut s = settings(&emu.base_url(), InvokeMode::Sync);
    s.target_variant = Some("Blue".into());
    let blue = endpoint("ab", &s, TIMEOUT).await;
    let reply = blue.send(body(64)).await.expect("the Blue variant answers");
    assert_eq!(reply.variant, Some(0));
    assert_eq!(blue.variant_names(), vec!["Blue"]);
    // A variant the endpoint does not have is refused by the emulator: the header arrived.
    s.target_variant = Some("Green".into());
    let green = endpoint("ab", &s, TIMEOUT).await;
    assert_eq!(green.send(body(64)).await, Err(ErrorKind::Validation));
    emu.stop().await;
}

/// Completion is seen in the emulator's S3 through the S3 SDK, which only the `provision`
/// build has.
#[cfg(feature = "provision")]
#[tokio::test]
async fn async_invocations_are_accepted_and_complete_with_the_queue_included() {
    let spec = EndpointSpec::new("queue", Hosting::Async, "ml.m5.large", fixed(30.0));
    let emu = start(vec![spec]).await;
    let s = settings(&emu.base_url(), InvokeMode::Async);
    let sdk = loadtest::endpoint::sagemaker::shared_config(&s, TIMEOUT, Some(credentials()))
        .await
        .expect("config");
    let s3 = loadtest::endpoint::sagemaker::s3_async::s3_client(&sdk, s.endpoint_url.as_deref());
    let target = endpoint("queue", &s, TIMEOUT)
        .await
        .with_s3(s3, "emulator://bytes/{bytes}");
    // Above the 128,000 B inline limit: only the input location (with its size) is sent.
    let big = body(200_000);
    let replies = futures_util::future::join_all((0..6).map(|_| target.send(big.clone()))).await;
    let mut done: Vec<Duration> = replies
        .into_iter()
        .map(|r| r.expect("completed").done_after.expect("completion time"))
        .collect();
    done.sort();
    assert!(
        done[0] >= Duration::from_millis(30),
        "at least the service time: {done:?}"
    );
    // ml.m5.large has 2 workers: the last of 6 waited for two rounds before its own.
    assert!(
        done[5] >= Duration::from_millis(85),
        "queueing is included: {done:?}"
    );
    assert!(
        target.describe().contains("InvokeEndpointAsync"),
        "{}",
        target.describe()
    );
    emu.stop().await;
}

#[tokio::test]
async fn every_sagemaker_error_the_emulator_produces_lands_in_its_class() {
    let cases = [
        (InjectedError::InternalFailure, ErrorKind::InternalFailure),
        (InjectedError::ModelError, ErrorKind::ModelError),
        (InjectedError::ModelNotReady, ErrorKind::ModelNotReady),
        (
            InjectedError::ServiceUnavailable,
            ErrorKind::ServiceUnavailable,
        ),
        (
            InjectedError::InternalDependency,
            ErrorKind::InternalFailure,
        ),
        (InjectedError::Throttling, ErrorKind::Throttled),
    ];
    let mut specs: Vec<EndpointSpec> = cases
        .iter()
        .map(|(e, _)| faulty(&format!("{e:?}"), *e))
        .collect();
    specs.push(realtime("slow", fixed(2_000.0)));
    specs.push(EndpointSpec {
        faults: Faults {
            reset_rate: 1.0,
            ..Faults::default()
        },
        ..realtime("reset", fixed(1.0))
    });
    specs.push(EndpointSpec::new(
        "async",
        Hosting::Async,
        "ml.m5.large",
        fixed(1.0),
    ));
    let emu = start(specs).await;
    let sync = settings(&emu.base_url(), InvokeMode::Sync);
    for (error, kind) in cases {
        let target = endpoint(&format!("{error:?}"), &sync, TIMEOUT).await;
        assert_eq!(target.send(body(16)).await, Err(kind), "{error:?}");
    }
    let unknown = endpoint("no-such-endpoint", &sync, TIMEOUT).await;
    assert_eq!(unknown.send(body(16)).await, Err(ErrorKind::Validation));
    let slow = endpoint("slow", &sync, Duration::from_millis(150)).await;
    assert_eq!(slow.send(body(16)).await, Err(ErrorKind::Timeout));
    let reset = endpoint("reset", &sync, TIMEOUT).await;
    assert_eq!(reset.send(body(16)).await, Err(ErrorKind::Io));
    let mut unreadable = settings(&emu.base_url(), InvokeMode::Async);
    // An input location the emulator cannot read (not uploaded: not an `s3://` location).
    unreadable.input_location = Some("emulator://nothing/input-{bytes}.bin".into());
    let async_target = endpoint("async", &unreadable, TIMEOUT).await;
    assert_eq!(
        async_target.send(body(16)).await,
        Err(ErrorKind::Validation),
        "async errors too"
    );
    let closed = closed_port_url().await;
    let nothing = endpoint("tiny", &settings(&closed, InvokeMode::Sync), TIMEOUT).await;
    assert_eq!(nothing.send(body(16)).await, Err(ErrorKind::Connect));
    emu.stop().await;
}

/// A loopback URL where nothing listens.
async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    url
}

#[tokio::test]
async fn retries_are_off_by_default_and_counted_when_asked() {
    let emu = start(vec![faulty("flaky", InjectedError::InternalFailure)]).await;
    let mut s = settings(&emu.base_url(), InvokeMode::Sync);
    let once = endpoint("flaky", &s, TIMEOUT).await;
    assert_eq!(once.send(body(16)).await, Err(ErrorKind::InternalFailure));
    assert_eq!(once.retries(), 0);
    s.retries = 1;
    let retried = endpoint("flaky", &s, Duration::from_secs(3)).await;
    let (a, b) = tokio::join!(retried.send(body(16)), retried.send(body(16)));
    assert_eq!(
        (a, b),
        (
            Err(ErrorKind::InternalFailure),
            Err(ErrorKind::InternalFailure)
        )
    );
    assert_eq!(retried.retries(), 2, "one retry per request");
    emu.stop().await;
}

#[tokio::test]
async fn expired_credentials_fail_before_any_request_without_showing_them() {
    let s = settings("http://127.0.0.1:9", InvokeMode::Sync);
    let expired = Credentials::new(
        KEY_ID,
        SECRET,
        Some("token".into()),
        Some(SystemTime::UNIX_EPOCH),
        "test",
    );
    let err = client_with_credentials(&s, TIMEOUT, 1, Some(expired))
        .await
        .expect_err("expired");
    assert!(matches!(err, EndpointError::Credentials { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("expired") && text.contains("AWS_PROFILE"),
        "{text}"
    );
    assert!(!text.contains(KEY_ID) && !text.contains(SECRET), "{text}");
}

// ---- the binary -----------------------------------------------------------------------

/// An empty folder for one test (`sm-NAME`), with an empty `home` in it.
fn temp_dir(name: &str) -> PathBuf {
    let dir = crate::bin::temp_dir(&format!("sm-{name}"));
    std::fs::create_dir_all(dir.join("home")).expect("temp dir");
    dir
}

fn profile(dir: &Path, endpoint_url: &str) -> PathBuf {
    let text = format!(
        r#"name = "sm-test"
[target]
kind = "sagemaker"
region = "us-east-1"
endpoint_url = "{endpoint_url}"
endpoint = "tiny"
timeout = "2s"
[sweep]
payload_sizes = ["512B"]
load = {{ mode = "closed", concurrency = [2] }}
duration = "300ms"
warmup = "0s"
"#
    );
    let path = dir.join("profile.toml");
    std::fs::write(&path, text).expect("profile");
    path
}

/// `loadtest run` with an environment holding no AWS settings but `extra`: an empty HOME
/// (no ~/.aws), no instance metadata.
async fn run_binary(dir: &Path, profile: &Path, extra: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_loadtest"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.join("home"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.join("home/no-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("home/no-credentials"),
        )
        .envs(extra.iter().copied())
        .arg("run")
        .arg(profile)
        .arg("--out")
        .arg(dir.join("out"))
        .arg("--quiet");
    tokio::task::spawn_blocking(move || cmd.output().expect("runs"))
        .await
        .expect("joins")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_credentials_exit_3_before_any_load() {
    let emu = start(vec![realtime("tiny", fixed(1.0))]).await;
    let dir = temp_dir("no-credentials");
    let out = run_binary(&dir, &profile(&dir, &emu.base_url()), &[]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("AWS credentials") && err.contains("AWS_PROFILE"),
        "{err}"
    );
    assert!(
        !dir.join("out").exists(),
        "no run folder for a run that never started"
    );
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credential_appears_in_any_output() {
    let emu = start(vec![realtime("tiny", fixed(1.0))]).await;
    let dir = temp_dir("secrets");
    let env = [
        ("AWS_ACCESS_KEY_ID", KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
    ];
    let out = run_binary(&dir, &profile(&dir, &emu.base_url()), &env).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut texts = vec![out.stdout.clone(), out.stderr.clone()];
    let mut files = 0;
    for path in files_under(&dir.join("out")) {
        texts.push(std::fs::read(&path).expect("read output"));
        files += 1;
    }
    assert!(files >= 2, "a run folder with results");
    for text in texts {
        let text = String::from_utf8_lossy(&text);
        assert!(
            !text.contains(KEY_ID) && !text.contains(SECRET),
            "a credential leaked"
        );
    }
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nonexistent_endpoint_exits_3_with_the_servers_message_before_any_load() {
    let emu = start(vec![realtime("tiny", fixed(1.0))]).await;
    let dir = temp_dir("no-endpoint");
    let path = profile(&dir, &emu.base_url());
    let text = std::fs::read_to_string(&path).expect("profile");
    std::fs::write(
        &path,
        text.replace("endpoint = \"tiny\"", "endpoint = \"nope\""),
    )
    .expect("profile");
    let env = [
        ("AWS_ACCESS_KEY_ID", KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
    ];
    let out = run_binary(&dir, &path, &env).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    for needle in [
        "InvokeEndpoint nope",
        "HTTP 400, validation (ValidationError)",
        "Endpoint nope of account",
        "not found",
        "before any load",
    ] {
        assert!(err.contains(needle), "missing {needle}: {err}");
    }
    assert!(!dir.join("out").exists(), "no run folder: no load was sent");
    emu.stop().await;
}

#[tokio::test]
async fn a_403_without_an_aws_error_code_is_a_credentials_or_permission_failure() {
    let server = crate::support::TestServer::start(Default::default()).await;
    let s = settings(&server.url(""), InvokeMode::Sync);
    let target = endpoint("any", &s, TIMEOUT).await;
    assert_eq!(
        target.send(body(16)).await,
        Err(ErrorKind::Auth),
        "not http_4xx"
    );
    let err = target.probe(body(16)).await.expect_err("refused");
    assert!(matches!(err, EndpointError::Credentials { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("credentials or their permissions") && text.contains("HTTP 403, auth"),
        "{text}"
    );
    assert!(!text.contains(KEY_ID) && !text.contains(SECRET), "{text}");
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path)
            } else {
                out.push(path)
            }
        }
    }
    out
}

/// The SDK's cost per request next to plain HTTP, same emulator endpoint (tiny model, 8
/// workers), closed loop at c=1 and c=8. Prints figures; run in release:
/// `cargo test --release --test it sagemaker::sdk_overhead -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check; run it in release"]
async fn sdk_overhead_next_to_plain_http() {
    use loadtest::endpoint::http::{ClientSettings, HttpEndpoint, client};
    let tiny = Model::preset("tiny-mlp").expect("preset");
    let emu = start(vec![EndpointSpec::new(
        "tiny",
        Hosting::RealTime,
        "ml.c5.2xlarge",
        tiny,
    )])
    .await;
    let http = client(&ClientSettings {
        timeout: TIMEOUT,
        max_in_flight: 8,
    })
    .expect("client");
    let url = emu.invocations_url("tiny");
    let plain = HttpEndpoint::new(
        http,
        "POST",
        &url,
        "application/octet-stream",
        &BTreeMap::new(),
    );
    let plain = Arc::new(AnyEndpoint::Http(plain.expect("target")));
    let sdk = endpoint(
        "tiny",
        &settings(&emu.base_url(), InvokeMode::Sync),
        TIMEOUT,
    )
    .await;
    let sdk = Arc::new(AnyEndpoint::SageMaker(sdk));
    for concurrency in [1, 8] {
        for (name, target) in [("http", &plain), ("sdk", &sdk)] {
            let cell = Cell {
                index: 0,
                deployment: Deployment::default(),
                payload_bytes: 1024,
                payload_file: None,
                load: Load::Closed { concurrency },
                duration: Duration::from_secs(5),
                warmup: Duration::from_secs(1),
                timeout: TIMEOUT,
                repeat: 1,
            };
            let bodies =
                payload::build(&PayloadSource::Random, cell.payload_bytes, 1).expect("bodies");
            let (_tx, cancel) = tokio::sync::watch::channel(false);
            let result = run_cell(
                &cell,
                Arc::clone(target),
                Arc::new(bodies),
                &CellOptions::seeded(7),
                cancel,
            )
            .await;
            let s = CellSummary::from_result(&result);
            let l = s.latency.expect("latency");
            println!(
                "c={concurrency} {name:>4}: {:>7.0} req/s  mean {:.3} ms  p50 {:.3} ms  p99 {:.3} ms  errors {}",
                s.throughput_rps, l.mean_ms, l.p50_ms, l.p99_ms, s.errors
            );
        }
    }
    emu.stop().await;
}

/// Without the `provision` feature there is no S3 client to see async completions: a
/// `mode = "async"` sagemaker target exits 2 before anything is sent, naming the field and
/// the command that builds a loadtest that can.
#[cfg(not(feature = "provision"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_sagemaker_target_without_the_s3_sdk_exits_2_and_sends_nothing() {
    let spec = EndpointSpec::new("q", Hosting::Async, "ml.m5.large", fixed(5.0));
    let emu = start(vec![spec]).await;
    let dir = temp_dir("async-unbuilt");
    let profile = dir.join("p.toml");
    let text = format!(
        r#"name = "async-unbuilt"
[target]
kind = "sagemaker"
region = "us-east-1"
endpoint_url = "{}"
mode = "async"
input_location = "s3://inputs/{{bytes}}.bin"
endpoints = {{ "ml.m5.large" = "q" }}
[sweep]
instance_types = ["ml.m5.large"]
payload_sizes = ["256B"]
load = {{ mode = "closed", concurrency = [1] }}
duration = "1s"
warmup = "0s"
"#,
        emu.base_url()
    );
    std::fs::write(&profile, text).unwrap();
    let out = crate::bin::loadtest()
        .args(["run", profile.to_str().unwrap(), "--out"])
        .arg(dir.join("out"))
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("`target.mode = \"async\"`"), "{err}");
    assert!(err.contains("--features provision"), "{err}");
    assert!(!dir.join("out").exists(), "nothing measured: {err}");
    emu.stop().await;
}
