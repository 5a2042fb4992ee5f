//! Runtime API shape: payload limits, unknown endpoints, variants, custom attributes,
//! timeouts, queueing, routing and the container contract.

use super::{classify, client, fixed, header_f64, json, send_all, start};
use loadtest::domain::Hosting;
use loadtest::emulator::{EndpointSpec, Model};
use loadtest::sample::ErrorKind;

#[tokio::test]
async fn payload_limits_answer_validation_errors() {
    let tiny = fixed(0.0, 1.0);
    let emu = start(vec![
        EndpointSpec::new("rt", Hosting::RealTime, "ml.c5.xlarge", tiny.clone()),
        EndpointSpec::serverless("sl", 2048, 5, tiny),
    ])
    .await;
    let http = client();
    let cases = [("rt", 6_291_456usize), ("sl", 4_194_304)];
    for (name, limit) in cases {
        let url = emu.invocations_url(name);
        let at_limit = http
            .post(&url)
            .body(vec![0u8; limit])
            .send()
            .await
            .expect("send");
        assert_eq!(at_limit.status(), 200, "{name} at its limit");
        let over = http
            .post(&url)
            .body(vec![0u8; limit + 1])
            .send()
            .await
            .expect("send");
        assert_eq!(over.status(), 400, "{name} over its limit");
        assert_eq!(classify(&over), ErrorKind::Validation);
        let body = json(over).await;
        assert!(
            body["message"].as_str().unwrap_or("").contains("exceeds"),
            "{body}"
        );
    }
    emu.stop().await;
}

#[tokio::test]
async fn unknown_endpoint_is_a_validation_error() {
    let emu = start(vec![EndpointSpec::new(
        "known",
        Hosting::RealTime,
        "ml.m5.large",
        fixed(0.0, 1.0),
    )])
    .await;
    let response = client()
        .post(emu.invocations_url("nope"))
        .body("x")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 400);
    assert_eq!(classify(&response), ErrorKind::Validation);
    let body = json(response).await;
    assert_eq!(
        body["message"],
        "Endpoint nope of account 123456789012 not found."
    );
    emu.stop().await;
}

#[tokio::test]
async fn target_variant_is_honoured_and_echoed() {
    let spec = EndpointSpec {
        variant: "Blue".into(),
        ..EndpointSpec::new("ab", Hosting::RealTime, "ml.m5.large", fixed(0.0, 1.0))
    };
    let emu = start(vec![spec]).await;
    let http = client();
    let url = emu.invocations_url("ab");
    let plain = http.post(&url).body("x").send().await.expect("send");
    assert_eq!(plain.headers()["x-amzn-invoked-production-variant"], "Blue");
    let targeted = http
        .post(&url)
        .header("X-Amzn-SageMaker-Target-Variant", "Blue")
        .body("x")
        .send()
        .await
        .expect("send");
    assert_eq!(targeted.status(), 200);
    assert_eq!(
        targeted.headers()["x-amzn-invoked-production-variant"],
        "Blue"
    );
    let unknown = http
        .post(&url)
        .header("X-Amzn-SageMaker-Target-Variant", "Green")
        .body("x")
        .send()
        .await
        .expect("send");
    assert_eq!(unknown.status(), 400);
    assert_eq!(classify(&unknown), ErrorKind::Validation);
    let long = http
        .post(&url)
        .header("X-Amzn-SageMaker-Custom-Attributes", "a".repeat(1025))
        .body("x")
        .send()
        .await
        .expect("send");
    assert_eq!(classify(&long), ErrorKind::Validation);
    emu.stop().await;
}

#[tokio::test]
async fn processing_past_sixty_seconds_is_a_model_error() {
    // 61 s of model time at time_scale 0.001 = 61 ms; the 60 s limit becomes 60 ms.
    let emu = start(vec![EndpointSpec::new(
        "slow",
        Hosting::RealTime,
        "ml.m5.large",
        fixed(61_000.0, 0.001),
    )])
    .await;
    let response = client()
        .post(emu.invocations_url("slow"))
        .body("x")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 424);
    assert_eq!(classify(&response), ErrorKind::ModelError);
    let body = json(response).await;
    assert_eq!(body["OriginalStatusCode"], 0);
    assert!(
        body["LogStreamArn"]
            .as_str()
            .unwrap_or("")
            .contains("/aws/sagemaker/Endpoints/slow")
    );
    emu.stop().await;
}

#[tokio::test]
async fn a_full_queue_answers_service_unavailable() {
    // ml.t2.medium: 2 workers; 1 queue slot; 200 ms per request: of 5 at once, 2 are refused.
    let spec = EndpointSpec {
        queue_capacity: Some(1),
        ..EndpointSpec::new("busy", Hosting::RealTime, "ml.t2.medium", fixed(160.0, 1.0))
    };
    let emu = start(vec![spec]).await;
    let http = client();
    let url = emu.invocations_url("busy");
    let sends = (0..5).map(|_| http.post(&url).body("x").send());
    let answers = send_all(sends).await;
    let refused: Vec<_> = answers.iter().filter(|r| r.status() == 503).collect();
    assert_eq!(
        refused.len(),
        2,
        "{:?}",
        answers.iter().map(|r| r.status()).collect::<Vec<_>>()
    );
    assert!(
        refused
            .iter()
            .all(|r| classify(r) == ErrorKind::ServiceUnavailable)
    );
    emu.stop().await;
}

#[tokio::test]
async fn least_outstanding_routing_uses_every_instance() {
    // Two ml.t2.medium instances (2 workers each): 4 concurrent requests never queue.
    let spec = EndpointSpec {
        instance_count: 2,
        ..EndpointSpec::new("pair", Hosting::RealTime, "ml.t2.medium", fixed(100.0, 1.0))
    };
    let emu = start(vec![spec]).await;
    let http = client();
    let url = emu.invocations_url("pair");
    let answers = send_all((0..4).map(|_| http.post(&url).body("x").send())).await;
    for answer in &answers {
        assert_eq!(answer.status(), 200);
        let queue = header_f64(answer, "x-emulator-queue-ms").expect("queue header");
        assert!(queue < 20.0, "queued {queue} ms");
        let service = header_f64(answer, "x-emulator-service-ms").expect("service header");
        assert!(
            (100.0 / 0.8 - 5.0..100.0 / 0.8 + 30.0).contains(&service),
            "service {service} ms"
        );
    }
    emu.stop().await;
}

#[tokio::test]
async fn container_contract_and_listing() {
    let emu = start(vec![
        EndpointSpec::new("first", Hosting::RealTime, "ml.m5.large", fixed(0.0, 1.0)),
        EndpointSpec::new(
            "second",
            Hosting::Async,
            "ml.m5.large",
            Model::preset("tiny-mlp").expect("preset"),
        ),
    ])
    .await;
    let http = client();
    let base = emu.base_url();
    assert_eq!(
        http.get(format!("{base}/ping"))
            .send()
            .await
            .expect("ping")
            .status(),
        200
    );
    let invoked = http
        .post(format!("{base}/invocations"))
        .body("abc")
        .send()
        .await
        .expect("send");
    assert_eq!(invoked.status(), 200);
    assert_eq!(json(invoked).await["input_bytes"], 3);
    let list = json(
        http.get(format!("{base}/endpoints"))
            .send()
            .await
            .expect("list"),
    )
    .await;
    let names: Vec<_> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["name"].clone())
        .collect();
    assert_eq!(names, ["first", "second"]);
    let wrong_api = http
        .post(emu.invocations_url("second"))
        .body("x")
        .send()
        .await
        .expect("send");
    assert_eq!(classify(&wrong_api), ErrorKind::Validation);
    emu.stop().await;
}
