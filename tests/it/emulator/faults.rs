//! Fault injection: connection resets, injected errors, latency spikes and stalls.

use super::{classify, client, fixed, header_f64, json, start};
use loadtest::domain::Hosting;
use loadtest::emulator::{EndpointSpec, Faults, InjectedError};
use loadtest::sample::ErrorKind;
use std::time::Duration;

fn with_faults(name: &str, faults: Faults) -> EndpointSpec {
    EndpointSpec {
        faults,
        ..EndpointSpec::new(name, Hosting::RealTime, "ml.m5.xlarge", fixed(10.0, 1.0))
    }
}

#[tokio::test]
async fn reset_connections_reach_the_client_as_connection_errors() {
    let emu = start(vec![with_faults(
        "reset",
        Faults {
            reset_rate: 1.0,
            ..Faults::default()
        },
    )])
    .await;
    let err = client()
        .post(emu.invocations_url("reset"))
        .body("x")
        .send()
        .await
        .expect_err("the connection is closed without an answer");
    assert!(err.status().is_none() && !err.is_timeout(), "{err:?}");
    emu.stop().await;
}

#[tokio::test]
async fn injected_errors_classify_as_their_sagemaker_type() {
    let cases = [
        (
            InjectedError::InternalFailure,
            500,
            ErrorKind::InternalFailure,
        ),
        (InjectedError::ModelError, 424, ErrorKind::ModelError),
        (InjectedError::ModelNotReady, 429, ErrorKind::ModelNotReady),
        (
            InjectedError::ServiceUnavailable,
            503,
            ErrorKind::ServiceUnavailable,
        ),
        (
            InjectedError::InternalDependency,
            530,
            ErrorKind::InternalFailure,
        ),
        (InjectedError::Throttling, 400, ErrorKind::Throttled),
    ];
    let specs = cases
        .iter()
        .enumerate()
        .map(|(i, (kind, _, _))| {
            with_faults(
                &format!("e{i}"),
                Faults {
                    error_rate: 1.0,
                    error_type: *kind,
                    ..Faults::default()
                },
            )
        })
        .collect();
    let emu = start(specs).await;
    let http = client();
    for (i, (kind, status, class)) in cases.iter().enumerate() {
        let r = http
            .post(emu.invocations_url(&format!("e{i}")))
            .body("x")
            .send()
            .await
            .expect("send");
        assert_eq!(r.status().as_u16(), *status, "{kind:?}");
        assert_eq!(classify(&r), *class, "{kind:?}");
        assert!(json(r).await["message"].is_string());
    }
    emu.stop().await;
}

#[tokio::test]
async fn spikes_add_latency_and_stalls_stop_serving() {
    let spiky = Faults {
        spike_rate: 1.0,
        spike_ms: 50.0,
        ..Faults::default()
    };
    let stalled = Faults {
        stall_at: Duration::ZERO,
        stall_for: Duration::from_millis(200),
        ..Faults::default()
    };
    let emu = start(vec![
        with_faults("spiky", spiky),
        with_faults("stalled", stalled),
    ])
    .await;
    let http = client();
    let spike = http
        .post(emu.invocations_url("spiky"))
        .body("x")
        .send()
        .await
        .expect("send");
    let service = header_f64(&spike, "x-emulator-service-ms").expect("service");
    assert!(
        (59.0..80.0).contains(&service),
        "10 ms + 50 ms spike, got {service}"
    );
    let first = http
        .post(emu.invocations_url("stalled"))
        .body("x")
        .send()
        .await
        .expect("send");
    let queue = header_f64(&first, "x-emulator-queue-ms").expect("queue");
    assert!((195.0..260.0).contains(&queue), "stalled for {queue} ms");
    let after = http
        .post(emu.invocations_url("stalled"))
        .body("x")
        .send()
        .await
        .expect("send");
    assert!(header_f64(&after, "x-emulator-queue-ms").expect("queue") < 20.0);
    emu.stop().await;
}
