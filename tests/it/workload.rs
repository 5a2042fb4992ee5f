//! Issue 14, end to end on the emulator: the swept payload sizes are the workload, a
//! `[traffic] payload_mix` changes the answer, capacity at the sweep's top is reported as
//! "≥", and the deployment (instances with the floor, scaling policy, month) is printed.
//!
//! Model (fixed service, no batching): `(2 ms + 2 ms/KiB × KiB) / speed`.
//! - ml.c5.large: 2 workers at speed 1.15. 1 KiB: 4 ms / 1.15 = 3.5 ms → ~570 req/s, so
//!   100 req/s passes (the sweep's top). 64 KiB: 130 ms / 1.15 = 113 ms → ~17.7 req/s, so
//!   5 req/s passes and 100 req/s is saturated. $0.102/h.
//! - ml.g4dn.xlarge: one T4, speed 1 × gpu_speedup 50. 64 KiB: 130 / 50 = 2.6 ms → ~385
//!   req/s, so 100 req/s passes on both sizes (the top). $0.7364/h.
//!
//! Peak 400 req/s + 20 % = 480 req/s; floor 2 real-time instances (the default).
//! - 1 KiB alone: c5.large ≥ 100 → ceil(480 / 100) = 5 × $0.102 = $0.51/h; g4dn 5 ×
//!   $0.7364 = $3.68/h. c5.large wins.
//! - Mix 50 / 50: c5.large 1 / (0.5 / 100 + 0.5 / 5) = 9.5 req/s → 51 instances ×
//!   $0.102 = $5.2/h; g4dn 1 / (0.5 / 100 + 0.5 / 100) = 100 → 5 × $0.7364 = $3.68/h.
//!   g4dn wins, "≥ 100" (both its sizes at the top), at most 5 instances, add 200 req/s.

use crate::bin::{run_ok, temp_dir};
use loadtest::domain::Traffic;
use loadtest::domain::traffic::MixShare;
use loadtest::pricing::PriceTable;
use loadtest::recommend::{Prices, Recommendation, recommend};
use loadtest::store::record;

const PROFILE: &str = r#"
name = "workload-mix"
[target]
kind = "emulator"
timeout = "3s"
[model]
base_ms = 2.0
per_kib_ms = 2.0
gpu_speedup = 50.0
max_batch = 1
service = "fixed"
cold_start = "0s"
[sweep]
hosting = ["real-time"]
instance_types = ["ml.c5.large", "ml.g4dn.xlarge"]
payload_sizes = ["1KiB", "64KiB"]
load = { mode = "open", rates = [5, 100], arrivals = "constant", max_in_flight = 1000 }
duration = "600ms"
warmup = "150ms"
[sla]
percentile = 99
latency_ms = 300
max_error_rate = 0.01
[traffic]
peak_rps = 400
headroom = 0.2
payload_mix = { "1KiB" = 0.5, "64KiB" = 0.5 }
"#;

fn choice(rec: &Recommendation) -> String {
    rec.choice
        .map(|i| rec.candidates[i].label())
        .unwrap_or_else(|| "none".into())
}

fn context(rec: &Recommendation, stdout: &str) -> String {
    let lines: Vec<String> = rec
        .candidates
        .iter()
        .map(|c| {
            format!(
                "  {} feasible={} cap={:?} fleet={:?} reasons={:?}",
                c.label(),
                c.feasible(),
                c.capacity,
                c.fleet.as_ref().map(|f| f.count),
                c.reasons()
            )
        })
        .collect();
    format!("{}\nstdout:\n{stdout}", lines.join("\n"))
}

/// Runs [`PROFILE`]: its record and stdout.
fn run_profile() -> (record::RunRecord, String) {
    let dir = temp_dir("workload");
    let path = dir.join("profile.toml");
    std::fs::write(&path, PROFILE).unwrap();
    let (run_dir, stdout) = run_ok(&path, &dir.join("out"), &[]);
    let summary = record::read(&run_dir.join("summary.json")).unwrap();
    std::fs::remove_dir_all(dir).unwrap();
    (summary, stdout)
}

#[test]
fn a_payload_mix_picks_another_instance_type_than_the_small_payload_alone() {
    let (summary, stdout) = run_profile();
    let mixed = summary.recommendation.clone().unwrap();
    let ctx = context(&mixed, &stdout);
    assert_eq!(
        summary.cells.len(),
        8,
        "every cell stays in the results\n{ctx}"
    );
    assert_eq!(
        mixed.candidates.len(),
        2,
        "one candidate per instance type\n{ctx}"
    );
    assert_eq!(choice(&mixed), "real-time ml.g4dn.xlarge", "{ctx}");
    let gpu = &mixed.candidates[mixed.choice.unwrap()];
    let cap = gpu.capacity.as_ref().unwrap();
    assert!(cap.at_least, "both sizes at the sweep's top\n{ctx}");
    assert!(
        (90.0..=101.0).contains(&cap.per_instance_rps),
        "mix capacity ~100\n{ctx}"
    );
    // ceil(480 / ~100) = 5 (or 6 below 96 req/s), at most: capacity may be higher.
    let fleet = gpu.fleet.as_ref().unwrap();
    assert!((5..=6).contains(&fleet.count) && fleet.at_most, "{ctx}");
    let row = stdout.lines().find(|l| l.starts_with("1*")).unwrap_or("");
    assert!(
        row.contains("g4dn.xlarge") && row.contains("≥ "),
        "the table marks the top: {stdout}"
    );
    assert!(
        stdout.contains("(the sweep's top); add open 200 rps constant to the sweep"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Autoscaling: target tracking SageMakerVariantInvocationsPerInstance"),
        "{stdout}"
    );
    let cpu = mixed
        .candidates
        .iter()
        .find(|c| c.variant_label() == "ml.c5.large")
        .unwrap();
    let cpu_rps = cpu.capacity.as_ref().unwrap().per_instance_rps;
    assert!(
        (7.5..=11.0).contains(&cpu_rps),
        "1 / (0.5 / 100 + 0.5 / 5) = 9.5\n{ctx}"
    );
    other_traffic_on_the_same_cells(&summary);
}

/// The same cells judged for other traffic, through the library.
fn other_traffic_on_the_same_cells(summary: &record::RunRecord) {
    let mixed = summary.recommendation.clone().unwrap();
    // The same cells with only the small payload: the CPU instance wins.
    let mut small = mixed.traffic.clone().unwrap();
    small.payload_mix = vec![MixShare {
        payload_bytes: 1024,
        weight: 1.0,
        prompt_level: None,
    }];
    let table = PriceTable::embedded();
    let prices = Prices {
        table: &table,
        region: "us-east-1",
    };
    let sla = summary.profile.sla.unwrap();
    let alone = recommend(
        &summary.cells,
        &sla,
        Some(&small),
        prices,
        &Default::default(),
    );
    assert_eq!(
        choice(&alone),
        "real-time ml.c5.large",
        "{}",
        context(&alone, "")
    );
    let c5 = &alone.candidates[0];
    assert!(
        c5.capacity.as_ref().unwrap().at_least,
        "{}",
        context(&alone, "")
    );
    // Without any mix every size must be served alone: 64 KiB binds the CPU at ~10 req/s.
    let every = Traffic::at_peak(400.0, None, 0.2);
    let all = recommend(
        &summary.cells,
        &sla,
        Some(&every),
        prices,
        &Default::default(),
    );
    assert_eq!(
        choice(&all),
        "real-time ml.g4dn.xlarge",
        "{}",
        context(&all, "")
    );
}
