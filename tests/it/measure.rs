//! What a cell's figures mean (issue 13): throughput is what the window saw, an overloaded
//! open loop is `saturated`, closed loops obey Little's law, warmup does not leak into the
//! window, a partial last second is not a drop, and retries add up to what the server got.

use crate::bin::{run_ok, temp_dir};
use crate::engine::{cell_with_timeout, measure};
use crate::support::{Behaviour, TestServer, post_target};
use aws_sdk_sagemakerruntime::config::Credentials;
use loadtest::domain::{Arrivals, Hosting, Load, Quantile, Sla};
use loadtest::emulator::{EndpointSpec, Model, Running, ServiceDistribution};
use loadtest::endpoint::sagemaker::{SageMakerEndpoint, client_with_credentials};
use loadtest::endpoint::{AnyEndpoint, Endpoint};
use loadtest::profile::{InvokeMode, SageMakerTarget};
use loadtest::recommend::sla::{SlaFailure, check};
use loadtest::store::record;
use std::collections::BTreeMap;
use std::time::Duration;

fn fixed(base_ms: f64) -> Model {
    Model {
        service: ServiceDistribution::Fixed,
        ..Model::custom(base_ms)
    }
}

async fn emulator(spec: EndpointSpec) -> Running {
    Running::start("127.0.0.1:0".parse().unwrap(), vec![spec])
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overloaded_open_loop_reports_capacity_and_is_saturated() {
    // One ml.m5.large (2 workers) at a fixed 10 ms: capacity 200 req/s; asked for 400.
    let emu = emulator(EndpointSpec::new(
        "m5",
        Hosting::RealTime,
        "ml.m5.large",
        fixed(10.0),
    ))
    .await;
    let timeout = Duration::from_secs(5);
    let load = Load::Open {
        rate: 400.0,
        arrivals: Arrivals::Constant,
        max_in_flight: 2_000,
    };
    let target = post_target(&emu.invocations_url("m5"), timeout, 2_000);
    let s = measure(target, &cell_with_timeout(load, 1_500, 200, timeout)).await;
    assert!(
        (180.0..=220.0).contains(&s.throughput_rps),
        "throughput {} req/s against a capacity of 200 (ok {}, late_ok {}, errors {})",
        s.throughput_rps,
        s.ok,
        s.late_ok,
        s.errors
    );
    assert!(s.late_ok > 0, "the backlog is answered after the window");
    assert!(s.saturated, "{s:?}");
    assert!(s.accounting_ok);
    assert_eq!(s.requests, s.ok + s.late_ok + s.errors + s.cancelled);
    let sla = Sla {
        percentile: Quantile::P99,
        latency_ms: 60_000.0,
        max_error_rate: 1.0,
        ttft_ms: None,
        tpot_ms: None,
    };
    let verdict = check(&s, &sla);
    assert!(
        verdict
            .failures
            .iter()
            .any(|f| matches!(f, SlaFailure::Saturated { .. })),
        "{verdict:?}"
    );
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_loop_within_capacity_is_not_saturated() {
    let server = TestServer::start(Behaviour {
        delay: Duration::from_millis(5),
        ..Default::default()
    })
    .await;
    let timeout = Duration::from_secs(5);
    let load = Load::Open {
        rate: 100.0,
        arrivals: Arrivals::Constant,
        max_in_flight: 64,
    };
    let s = measure(
        post_target(&server.url("/ok"), timeout, 64),
        &cell_with_timeout(load, 1_000, 100, timeout),
    )
    .await;
    assert!(!s.saturated, "{s:?}");
    assert!(s.accounting_ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warmup_cold_starts_do_not_leak_into_the_window() {
    // Serverless, 20 ms per request, 400 ms cold start on each new slot. The warmup (50 ms)
    // is shorter than the cold start: before, the cold warmup requests held every worker
    // well into the window without being counted.
    let emu = emulator(EndpointSpec::serverless("sl", 2048, 10, model_cold())).await;
    let timeout = Duration::from_secs(5);
    let c4 = Load::Closed { concurrency: 4 };
    let target = || post_target(&emu.invocations_url("sl"), timeout, 8);
    let s = measure(target(), &cell_with_timeout(c4, 800, 50, timeout)).await;
    assert!(s.warmup_requests >= 4, "{s:?}");
    assert_eq!(s.littles_law, None, "{s:?}");
    assert_eq!(s.cold_starts, 0, "every slot was warmed before the window");
    assert!(
        s.throughput_rps > 120.0,
        "4 workers at ~20 ms: {} req/s",
        s.throughput_rps
    );
    // Without warmup the window meets the cold starts, and says how many.
    let emu2 = emulator(EndpointSpec::serverless("sl", 2048, 10, model_cold())).await;
    let cold = measure(
        post_target(&emu2.invocations_url("sl"), timeout, 8),
        &cell_with_timeout(c4, 800, 0, timeout),
    )
    .await;
    assert!(
        (1..=4).contains(&cold.cold_starts),
        "cold starts {}",
        cold.cold_starts
    );
    emu.stop().await;
    emu2.stop().await;
}

/// 20 ms per request, 400 ms cold start on each new slot.
fn model_cold() -> Model {
    Model {
        cold_start: Duration::from_millis(400),
        ..fixed(20.0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_last_second_is_not_a_drop() {
    let server = TestServer::start(Behaviour {
        delay: Duration::from_millis(10),
        ..Default::default()
    })
    .await;
    let timeout = Duration::from_secs(5);
    let s = measure(
        post_target(&server.url("/ok"), timeout, 8),
        &cell_with_timeout(Load::Closed { concurrency: 4 }, 1_600, 100, timeout),
    )
    .await;
    assert_eq!(s.series.len(), 2, "{:?}", s.series);
    let last = s.series[1];
    assert!((last.span_s - 0.6).abs() < 0.05, "{last:?}");
    assert!(
        (last.throughput_rps / s.throughput_rps - 1.0).abs() < 0.2,
        "last second {} req/s against {} overall",
        last.throughput_rps,
        s.throughput_rps
    );
}

fn sagemaker_settings(endpoint_url: &str, retries: u32) -> SageMakerTarget {
    SageMakerTarget {
        region: "us-east-1".into(),
        endpoint_url: Some(endpoint_url.into()),
        endpoints: BTreeMap::new(),
        profile: None,
        mode: InvokeMode::Sync,
        custom_attributes: None,
        target_variant: None,
        target_model: None,
        target_container_hostname: None,
        inference_component: None,
        accept: None,
        retries,
        input_location: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_add_up_to_the_attempts_the_server_received() {
    let server = TestServer::start(Behaviour::default()).await;
    let timeout = Duration::from_secs(20);
    let settings = sagemaker_settings(&server.url(""), 2);
    let credentials = Credentials::new("AKIDLOADTEST", "dummy", None, None, "tests");
    let client = client_with_credentials(&settings, timeout, 8, Some(credentials))
        .await
        .unwrap();
    let target = AnyEndpoint::SageMaker(SageMakerEndpoint::new(
        client,
        "failing",
        &settings,
        "application/octet-stream",
        timeout,
    ));
    let _ = target.probe(bytes::Bytes::from_static(b"probe")).await;
    let probe_attempts = server.received();
    let s = measure(
        target,
        &cell_with_timeout(Load::Closed { concurrency: 2 }, 500, 100, timeout),
    )
    .await;
    assert!(s.requests > 0 && s.retries > 0, "{s:?}");
    assert_eq!(s.probe_retries + 1, probe_attempts, "the probe's retries");
    assert!(s.accounting_ok, "{s:?}");
    assert_eq!(
        server.received(),
        (1 + s.probe_retries) + (s.warmup_requests + s.warmup_retries) + (s.requests + s.retries),
        "attempts = requests + retries, phase by phase: {s:?}"
    );
}

/// The quickstart's model (bert-base) on real-time ml.c5.xlarge and serverless 4096 MB,
/// closed loops, run by the binary at a quarter of the model's time.
#[test]
fn every_closed_loop_cell_of_the_quickstart_model_obeys_littles_law() {
    let dir = temp_dir("little");
    let profile = r#"name = "little"
[target]
kind = "emulator"
timeout = "30s"
max_concurrency = 20
[model]
preset = "bert-base"
[sweep]
hosting = ["real-time", "serverless"]
instance_types = ["ml.c5.xlarge"]
serverless_memory_mb = [4096]
payload_sizes = ["1KiB"]
load = { mode = "closed", concurrency = [1, 4] }
duration = "1s"
warmup = "250ms"
[payload]
source = "json"
template = '{"inputs": "{{bytes}}"}'
"#;
    let path = dir.join("profile.toml");
    std::fs::write(&path, profile).unwrap();
    let (run_dir, _) = run_ok(&path, &dir.join("out"), &["--time-scale", "0.25"]);
    let summary = record::read(&run_dir.join("summary.json")).unwrap();
    assert_eq!(summary.cells.len(), 4);
    for c in &summary.cells {
        let Load::Closed { concurrency } = c.load else {
            panic!("closed loops only")
        };
        let busy = c.throughput_rps * c.latency.unwrap().mean_ms / 1000.0;
        let off = (busy / f64::from(concurrency) - 1.0).abs();
        assert_eq!(c.littles_law.is_some(), off > 0.10, "{c:?}");
        assert!(
            off <= 0.10,
            "{} {} c={concurrency}: {:.2} in flight; {:?}",
            c.deployment.hosting_label(),
            c.deployment.variant_label(),
            busy,
            c.littles_law
        );
        assert!(c.accounting_ok);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
