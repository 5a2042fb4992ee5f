//! Async inference (202, queued work, results) and batch transform jobs.

use super::{classify, client, fixed, json, start};
use loadtest::domain::Hosting;
use loadtest::emulator::{EndpointSpec, Model};
use loadtest::endpoint::Endpoint;
use loadtest::endpoint::async_http::AsyncHttpEndpoint;
use loadtest::sample::ErrorKind;
use std::time::Duration;

/// Polls the emulator's S3 (path-style GET) for the object at an `s3://bucket/key` location
/// until it appears (bounded), as a client of an account polls the output location.
async fn wait_for_object(http: &reqwest::Client, base: &str, location: &str) -> serde_json::Value {
    let path = location.strip_prefix("s3://").expect("an s3:// location");
    for _ in 0..500 {
        let r = http
            .get(format!("{base}/{path}"))
            .send()
            .await
            .expect("poll");
        match r.status().as_u16() {
            404 => tokio::time::sleep(Duration::from_millis(10)).await,
            200 => return json(r).await,
            other => panic!("unexpected status {other}"),
        }
    }
    panic!("async output never appeared")
}

#[tokio::test]
async fn async_invocations_answer_202_and_results_appear() {
    let spec = EndpointSpec {
        idle_timeout: Some(Duration::from_secs(2)),
        ..EndpointSpec::new(
            "az",
            Hosting::Async,
            "ml.m5.large",
            Model {
                cold_start: Duration::from_secs(3),
                ..fixed(100.0, 0.5)
            },
        )
    };
    let emu = start(vec![spec]).await;
    let http = client();
    let submitted = http
        .post(emu.async_url("az"))
        .header(
            "X-Amzn-SageMaker-InputLocation",
            "emulator://bytes/500000000",
        )
        .send()
        .await
        .expect("submit");
    assert_eq!(submitted.status(), 202);
    let id = submitted.headers()["x-amzn-sagemaker-inferenceid"]
        .to_str()
        .expect("id")
        .to_string();
    let location = submitted.headers()["x-amzn-sagemaker-outputlocation"]
        .to_str()
        .expect("loc")
        .to_string();
    assert!(
        location.starts_with("s3://") && location.ends_with(&format!("{id}.out")),
        "{location}"
    );
    assert!(
        !submitted.headers().contains_key("x-emulator-result-path"),
        "no private result path"
    );
    let body = json(submitted).await;
    assert_eq!(body["InferenceId"], id.as_str());
    assert_eq!(body["OutputLocation"], location.as_str());

    let result = wait_for_object(&http, &emu.base_url(), &location).await;
    assert_eq!(result["InferenceId"], id.as_str(), "{result}");
    let f = |k: &str| result[k].as_f64().unwrap_or(f64::NAN);
    assert!(
        f("submitted_ms") <= f("started_ms") && f("started_ms") <= f("completed_ms"),
        "{result}"
    );
    assert!((f("completed_ms") - f("submitted_ms") - f("queue_ms") - f("service_ms")).abs() < 0.01);
    assert!((49.0..70.0).contains(&f("service_ms")), "{result}");
    assert!(f("queue_ms") < 20.0, "a fresh endpoint is warm: {result}");

    // Idle past 2 s of model time (1 s wall): the endpoint scaled to zero, 1.5 s cold start.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let again = http
        .post(emu.async_url("az"))
        .body("inline")
        .send()
        .await
        .expect("submit");
    assert_eq!(again.status(), 202);
    let location = again.headers()["x-amzn-sagemaker-outputlocation"]
        .to_str()
        .expect("loc")
        .to_string();
    let result = wait_for_object(&http, &emu.base_url(), &location).await;
    assert!(
        result["queue_ms"].as_f64().unwrap_or(0.0) >= 1490.0,
        "cold start queued: {result}"
    );
    emu.stop().await;
}

#[tokio::test]
async fn async_inputs_are_checked() {
    let emu = start(vec![EndpointSpec::new(
        "az",
        Hosting::Async,
        "ml.m5.large",
        fixed(1.0, 1.0),
    )])
    .await;
    let http = client();
    let inline = http
        .post(emu.async_url("az"))
        .body(vec![0u8; 128_001])
        .send()
        .await
        .expect("send");
    assert_eq!(classify(&inline), ErrorKind::Validation);
    let huge = http
        .post(emu.async_url("az"))
        .header(
            "X-Amzn-SageMaker-InputLocation",
            "emulator://bytes/1073741825",
        )
        .send()
        .await
        .expect("send");
    assert_eq!(classify(&huge), ErrorKind::Validation);
    let s3 = http
        .post(emu.async_url("az"))
        .header("X-Amzn-SageMaker-InputLocation", "s3://bucket/key")
        .send()
        .await
        .expect("send");
    assert_eq!(classify(&s3), ErrorKind::Validation);
    let gone = http
        .get(format!("{}/async-results/none", emu.base_url()))
        .send()
        .await
        .expect("get");
    assert_ne!(gone.status(), 200, "the private result path is gone");
    assert_ne!(gone.status(), 202, "the private result path is gone");
    emu.stop().await;
}

#[tokio::test]
async fn transform_jobs_report_duration_and_throughput() {
    let emu = start(vec![EndpointSpec::new(
        "bt",
        Hosting::Batch,
        "ml.m5.xlarge",
        fixed(10.0, 0.01),
    )])
    .await;
    let http = client();
    let url = format!("{}/transform-jobs", emu.base_url());
    let job = serde_json::json!({ "endpoint": "bt", "records": 4000, "record_bytes": 1024, "max_payload_mb": 1 });
    let r = http
        .post(&url)
        .body(job.to_string())
        .send()
        .await
        .expect("job");
    assert_eq!(r.status(), 200);
    let estimate = json(r).await;
    // 1 MiB mini-batches of 1024 records at 10 ms each: 4 mini-batches on 4 workers, 10.24 s.
    assert_eq!(estimate["mini_batches"], 4);
    assert_eq!(estimate["records_per_mini_batch"], 1024);
    let processing = estimate["processing_seconds"].as_f64().expect("seconds");
    assert!((processing - 10.24).abs() < 1e-9, "{estimate}");
    let wall = estimate["wall_seconds"].as_f64().expect("wall");
    assert!((0.09..0.3).contains(&wall), "time-scaled job took {wall} s");
    let bad = serde_json::json!({ "endpoint": "bt", "records": 1, "record_bytes": 1024, "max_payload_mb": 101 });
    let r = http
        .post(&url)
        .body(bad.to_string())
        .send()
        .await
        .expect("job");
    assert_eq!(classify(&r), ErrorKind::Validation);
    let by_type = serde_json::json!({
        "instance_type": "ml.g4dn.xlarge", "model": { "preset": "resnet50" },
        "records": 100, "record_bytes": 100000, "wait": false
    });
    let r = http
        .post(&url)
        .body(by_type.to_string())
        .send()
        .await
        .expect("job");
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["instance_type"], "ml.g4dn.xlarge");
    emu.stop().await;
}

#[tokio::test]
async fn a_batch_model_takes_records_as_a_transform_job_sends_them() {
    let emu = start(vec![
        EndpointSpec::new("bt", Hosting::Batch, "ml.m5.large", fixed(5.0, 1.0)),
        EndpointSpec::new("rt", Hosting::RealTime, "ml.m5.large", fixed(5.0, 1.0)),
    ])
    .await;
    let http = client();
    let record = |name: &str| format!("{}/transform-jobs/{name}/invocations", emu.base_url());
    let r = http
        .post(record("bt"))
        .body(vec![b'x'; 1024])
        .send()
        .await
        .expect("record");
    assert_eq!(r.status(), 200);
    // 7 MiB: over real-time's 6 MB, within batch transform's 100 MB mini-batch.
    let big = vec![b'x'; 7 * 1024 * 1024];
    let r = http
        .post(record("bt"))
        .body(big.clone())
        .send()
        .await
        .expect("record");
    assert_eq!(r.status(), 200, "batch takes mini-batches past 6 MB");
    let r = http
        .post(emu.invocations_url("rt"))
        .body(big)
        .send()
        .await
        .expect("invoke");
    assert_eq!(classify(&r), ErrorKind::Validation, "real-time does not");
    let r = http
        .post(record("rt"))
        .body("{}")
        .send()
        .await
        .expect("record");
    assert_eq!(
        classify(&r),
        ErrorKind::Validation,
        "a real-time endpoint is no batch model"
    );
    let r = http
        .post(emu.invocations_url("bt"))
        .body("{}")
        .send()
        .await
        .expect("invoke");
    assert_eq!(
        classify(&r),
        ErrorKind::Validation,
        "a batch model has no endpoint"
    );
    emu.stop().await;
}

/// The emulator target's async endpoint (plain HTTP, no S3 SDK) on `emu`'s endpoint `name`.
fn http_async(emu: &loadtest::emulator::Running, name: &str) -> AsyncHttpEndpoint {
    AsyncHttpEndpoint::new(
        client(),
        &emu.async_url(name),
        "application/octet-stream",
        Duration::from_secs(10),
    )
    .expect("endpoint")
}

/// Two workers (ml.c5.large), 200 ms each: 10 requests/s at most; 30 requests/s for 1 s.
/// Completion is seen by polling the output object in the emulator's S3 (no private route),
/// and the latency still includes the queue: the last requests wait far longer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_plain_http_async_latency_grows_with_the_queue_seen_in_s3() {
    let emu = start(vec![EndpointSpec::new(
        "q",
        Hosting::Async,
        "ml.c5.large",
        fixed(200.0, 1.0),
    )])
    .await;
    let ep = std::sync::Arc::new(http_async(&emu, "q"));
    assert_eq!(ep.poll_granularity(), Some(Duration::from_millis(200)));
    let body = bytes::Bytes::from(vec![7u8; 256]);
    ep.request(body.clone()).await.expect("first completion");
    let mut tasks = Vec::new();
    for i in 0..30u32 {
        let (ep, body) = (std::sync::Arc::clone(&ep), body.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_micros(33_333) * i).await;
            let reply = ep.request(body).await.expect("completed");
            reply.done_after.expect("a completion time").as_secs_f64() * 1000.0
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.push(t.await.expect("task"));
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

/// An injected model error lands as the failure object; the HTTP target reads it from S3.
#[tokio::test]
async fn over_plain_http_a_failure_object_is_a_model_error_with_its_message() {
    let spec = EndpointSpec {
        faults: loadtest::emulator::Faults {
            error_rate: 1.0,
            error_type: loadtest::emulator::InjectedError::ModelError,
            ..Default::default()
        },
        ..EndpointSpec::new("bad", Hosting::Async, "ml.c5.large", fixed(1.0, 1.0))
    };
    let emu = start(vec![spec]).await;
    let failure = http_async(&emu, "bad")
        .request(bytes::Bytes::from_static(b"x"))
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
