//! Asynchronous inference through S3 against the emulator: the input uploaded once, the
//! completion seen on the output object, so latency includes the emulated queue; failure
//! objects land as model errors with their message.

use aws_sdk_sagemakerruntime::config::Credentials;
use bytes::Bytes;
use loadtest::domain::Hosting;
use loadtest::emulator::{
    EndpointSpec, Faults, InjectedError, Model, Running, ServiceDistribution,
};
use loadtest::endpoint::Endpoint;
use loadtest::endpoint::sagemaker::s3_async::s3_client;
use loadtest::endpoint::sagemaker::{SageMakerEndpoint, client_with_credentials, shared_config};
use loadtest::profile::{InvokeMode, SageMakerTarget};
use loadtest::sample::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);

fn credentials() -> Credentials {
    Credentials::new("AKIDTEST", "secret", None, None, "test")
}

async fn endpoint(emu: &Running, name: &str) -> SageMakerEndpoint {
    let settings = SageMakerTarget {
        region: "us-east-1".into(),
        endpoint_url: Some(emu.base_url()),
        mode: InvokeMode::Async,
        input_location: Some("s3://inputs/loadtest/{bytes}.bin".into()),
        ..SageMakerTarget::default()
    };
    let runtime = client_with_credentials(&settings, TIMEOUT, 64, Some(credentials()))
        .await
        .expect("runtime client");
    let sdk = shared_config(&settings, TIMEOUT, Some(credentials()))
        .await
        .expect("config");
    let s3 = s3_client(&sdk, settings.endpoint_url.as_deref());
    SageMakerEndpoint::new(
        runtime,
        name,
        &settings,
        "application/octet-stream",
        TIMEOUT,
    )
    .with_s3(s3, settings.input_location.as_deref().unwrap_or_default())
}

/// Two workers (ml.c5.large: 2 vCPUs), 200 ms each: 10 requests/s at most.
fn two_workers(name: &str, faults: Faults) -> EndpointSpec {
    let model = Model {
        service: ServiceDistribution::Fixed,
        ..Model::custom(200.0)
    };
    EndpointSpec {
        faults,
        ..EndpointSpec::new(name, Hosting::Async, "ml.c5.large", model)
    }
}

async fn start(specs: Vec<EndpointSpec>) -> Running {
    let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
    Running::start(any, specs).await.expect("emulator")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_three_times_capacity_async_latency_grows_with_the_queue() {
    let emu = start(vec![two_workers("q", Faults::default())]).await;
    let ep = Arc::new(endpoint(&emu, "q").await);
    let body = Bytes::from(vec![7u8; 256]);
    ep.probe(body.clone()).await.expect("probe");
    // One request to completion first: the endpoint has scaled out of its cold start.
    ep.request(body.clone()).await.expect("first completion");
    // 30 requests/s for 1 s against 10 requests/s of capacity.
    let mut tasks = Vec::new();
    for i in 0..30u32 {
        let (ep, body) = (Arc::clone(&ep), body.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_micros(33_333) * i).await;
            let sent = std::time::Instant::now();
            let reply = ep.request(body).await.expect("completed");
            reply.done_after.unwrap_or_else(|| sent.elapsed())
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.push(t.await.expect("task").as_secs_f64() * 1000.0);
    }
    let first: f64 = latencies[..5].iter().sum::<f64>() / 5.0;
    let last: f64 = latencies[25..].iter().sum::<f64>() / 5.0;
    assert!(first >= 200.0, "at least one service time: {first:.1} ms");
    assert!(
        last > first * 2.0 && last > first + 600.0,
        "the queue grows: first {first:.1} ms, last {last:.1} ms"
    );
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_object_is_a_model_error_with_its_message() {
    let faults = Faults {
        error_rate: 1.0,
        error_type: InjectedError::ModelError,
        ..Faults::default()
    };
    let emu = start(vec![two_workers("bad", faults)]).await;
    let ep = endpoint(&emu, "bad").await;
    let failure = ep
        .request(Bytes::from_static(b"x"))
        .await
        .expect_err("a failure object");
    assert_eq!(failure.kind, ErrorKind::ModelError);
    assert!(
        failure.excerpt.text().contains("injected fault"),
        "{}",
        failure.excerpt.text()
    );
    emu.stop().await;
}
