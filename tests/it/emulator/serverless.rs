//! Serverless: cold starts after idle and on scale-out, throttling above MaxConcurrency.

use super::{classify, client, fixed, header_f64, send_all, start};
use loadtest::emulator::EndpointSpec;
use loadtest::sample::ErrorKind;
use std::time::Duration;

const COLD: &str = "x-emulator-cold-start-ms";

#[tokio::test]
async fn cold_start_after_idle_and_on_scale_out_only() {
    // Model time: 20 ms per request, 2 s cold start, scale to zero after 4 s idle.
    // At time_scale 0.05: 1 ms, 100 ms and 200 ms of wall time.
    let model = loadtest::emulator::Model {
        cold_start: Duration::from_secs(2),
        ..fixed(20.0, 0.05)
    };
    let spec = EndpointSpec {
        idle_timeout: Some(Duration::from_secs(4)),
        ..EndpointSpec::serverless("sl", 2048, 10, model)
    };
    let emu = start(vec![spec]).await;
    let http = client();
    let url = emu.invocations_url("sl");
    let invoke = || http.post(&url).body("x").send();

    let first = invoke().await.expect("first");
    assert_eq!(first.status(), 200);
    let cold = header_f64(&first, COLD).expect("first request starts cold");
    assert!((99.0..=101.0).contains(&cold), "cold start {cold} ms");
    assert!(header_f64(&first, "x-emulator-service-ms").expect("service") >= 100.0);

    let warm = invoke().await.expect("second");
    assert_eq!(
        header_f64(&warm, COLD),
        None,
        "a warm slot has no cold start"
    );
    assert!(header_f64(&warm, "x-emulator-service-ms").expect("service") < 50.0);

    // Two at once: one slot is warm, the second is a scale-out and starts cold.
    let pair = send_all((0..2).map(|_| http.post(&url).body("x").send())).await;
    let colds = pair
        .iter()
        .filter(|r| header_f64(r, COLD).is_some())
        .count();
    assert_eq!(colds, 1, "only the new slot is cold");
    let pair = send_all((0..2).map(|_| http.post(&url).body("x").send())).await;
    assert!(
        pair.iter().all(|r| header_f64(r, COLD).is_none()),
        "both slots warm now"
    );

    tokio::time::sleep(Duration::from_millis(300)).await;
    let after_idle = invoke().await.expect("after idle");
    assert!(
        header_f64(&after_idle, COLD).is_some(),
        "idle endpoint scaled to zero"
    );
    emu.stop().await;
}

#[tokio::test]
async fn requests_above_max_concurrency_are_throttled() {
    let emu = start(vec![EndpointSpec::serverless(
        "sl",
        2048,
        2,
        fixed(300.0, 1.0),
    )])
    .await;
    let http = client();
    let url = emu.invocations_url("sl");
    let answers = send_all((0..5).map(|_| http.post(&url).body("x").send())).await;
    let throttled: Vec<_> = answers.iter().filter(|r| r.status() == 400).collect();
    assert_eq!(
        throttled.len(),
        3,
        "{:?}",
        answers.iter().map(|r| r.status()).collect::<Vec<_>>()
    );
    assert!(
        throttled
            .iter()
            .all(|r| classify(r) == ErrorKind::Throttled)
    );
    assert!(throttled.iter().all(|r| {
        r.headers()["x-amzn-errortype"]
            .to_str()
            .is_ok_and(|t| t.starts_with("ThrottlingException:"))
    }));
    assert_eq!(answers.iter().filter(|r| r.status() == 200).count(), 2);
    emu.stop().await;
}

#[tokio::test]
async fn more_memory_serves_faster() {
    let model = fixed(100.0, 0.5);
    let emu = start(vec![
        EndpointSpec::serverless("small", 1024, 1, model.clone()),
        EndpointSpec::serverless("large", 6144, 1, model),
    ])
    .await;
    let http = client();
    let mut service = Vec::new();
    for name in ["small", "large"] {
        // The first request pays no cold start (cold_start is 0 for this model).
        let r = http
            .post(emu.invocations_url(name))
            .body("x")
            .send()
            .await
            .expect("send");
        service.push(header_f64(&r, "x-emulator-service-ms").expect("service"));
    }
    // 1 GB = 0.5× an m5 core (100 ms → 200 ms, × 0.5 scale); 6 GB = 2× (25 ms).
    assert!((99.0..110.0).contains(&service[0]), "{service:?}");
    assert!((24.0..35.0).contains(&service[1]), "{service:?}");
    emu.stop().await;
}
