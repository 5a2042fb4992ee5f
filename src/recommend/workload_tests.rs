//! Hand-computed cases for the workload: several payload sizes, a mix, the sweep's top.

use super::tests::{cell, embedded, find, traffic};
use super::*;

/// Two sizes on c5 (fast on 1 KiB, slow on 64 KiB) and g4dn (steady on both).
fn two_sizes() -> Vec<CellSummary> {
    let rt = Hosting::RealTime;
    let sized = |instance: &str, bytes: u64, latency_ms: f64, rps: f64, index: usize| {
        let mut c = cell(rt, instance, 4, latency_ms, rps);
        c.payload_bytes = bytes;
        c.index = index;
        c
    };
    vec![
        sized("ml.c5.xlarge", 1024, 20.0, 200.0, 0),
        sized("ml.c5.xlarge", 65536, 90.0, 20.0, 1),
        sized("ml.g4dn.xlarge", 1024, 10.0, 300.0, 2),
        sized("ml.g4dn.xlarge", 65536, 15.0, 250.0, 3),
    ]
}

#[test]
fn every_swept_size_is_the_workload_without_a_mix() {
    let r = embedded(&two_sizes(), Some(&traffic(100.0, None)));
    assert_eq!(r.candidates.len(), 2, "one candidate per instance type");
    // c5 must serve 64 KiB alone at 20 rps: 120 / 20 = 6 × $0.204 = $1.224/h; g4dn needs
    // ceil(120 / 250) = 1, raised to 2 × $0.7364 = $1.4728/h: c5 is still cheaper.
    let c5 = find(&r, "ml.c5.xlarge");
    assert_eq!(c5.operating.as_ref().unwrap().per_instance_rps, 20.0);
    assert_eq!(c5.fleet.as_ref().unwrap().count, 6);
    assert_eq!(r.candidates[0].variant_label(), "ml.c5.xlarge");
}

#[test]
fn a_mix_weighs_capacity_and_latency() {
    let mut t = traffic(100.0, None);
    t.payload_mix = vec![
        crate::domain::traffic::MixShare {
            payload_bytes: 1024,
            weight: 0.8,
            prompt_level: None,
        },
        crate::domain::traffic::MixShare {
            payload_bytes: 65536,
            weight: 0.2,
            prompt_level: None,
        },
    ];
    let r = embedded(&two_sizes(), Some(&t));
    let c5 = find(&r, "ml.c5.xlarge");
    // 1 / (0.8 / 200 + 0.2 / 20) = 1 / 0.014 = 71.43 rps per instance.
    let op = c5.operating.as_ref().unwrap();
    assert!((op.per_instance_rps - 1.0 / 0.014).abs() < 1e-6, "{op:?}");
    // p99 of 80 % at 20 ms and 20 % at 90 ms is 90 ms (the top 20 % are all 64 KiB).
    assert!((op.latency_ms - 90.0).abs() < 0.1, "{op:?}");
    // 120 / 71.43 = 1.68 → 2 instances; the mix's shares are kept per size.
    assert_eq!(c5.fleet.as_ref().unwrap().count, 2);
    assert_eq!(
        c5.workload.iter().map(|s| s.weight).collect::<Vec<_>>(),
        [Some(0.8), Some(0.2)]
    );
    assert_eq!(r.candidates[0].variant_label(), "ml.c5.xlarge");
}

#[test]
fn a_size_that_fails_alone_is_named_and_a_mix_without_it_passes() {
    let mut cells = two_sizes();
    cells[1] = {
        let mut c = cell(Hosting::RealTime, "ml.c5.xlarge", 4, 300.0, 20.0);
        c.payload_bytes = 65536;
        c.index = 1;
        c
    };
    let r = embedded(&cells, Some(&traffic(100.0, None)));
    let c5 = find(&r, "ml.c5.xlarge");
    assert!(!c5.feasible());
    assert!(
        matches!(c5.reasons(), [Reason::AtPayload { payload, .. }] if payload == "64KiB"),
        "{:?}",
        c5.reasons()
    );
    assert!(
        c5.reasons()[0]
            .to_string()
            .starts_with("at 64KiB: p99 over 100 ms")
    );
    let mut t = traffic(100.0, None);
    t.payload_mix = vec![crate::domain::traffic::MixShare {
        payload_bytes: 1024,
        weight: 1.0,
        prompt_level: None,
    }];
    let r = embedded(&cells, Some(&t));
    assert!(find(&r, "ml.c5.xlarge").feasible());
}

#[test]
fn the_sweeps_top_is_a_lower_bound_with_a_load_to_add() {
    let rt = Hosting::RealTime;
    let cells = [
        cell(rt, "ml.g4dn.xlarge", 4, 20.0, 300.0),
        cell(rt, "ml.g4dn.xlarge", 16, 40.0, 650.0),
    ];
    let r = embedded(&cells, Some(&traffic(2000.0, None)));
    let c = &r.candidates[0];
    let cap = c.capacity.as_ref().unwrap();
    assert!(cap.at_least);
    assert_eq!(cap.add_load, Some(Load::Closed { concurrency: 32 }));
    // 2400 / 650 = 3.69 → at most 4.
    let fleet = c.fleet.as_ref().unwrap();
    assert!(fleet.at_most && fleet.count == 4, "{fleet:?}");
    assert_eq!(fleet.describe(), "at most 4 instances");
    let policy = c.scaling.as_ref().unwrap();
    // 650 × 60 / 1.2 = 32,500 invocations per instance per minute.
    assert_eq!(policy.configuration.target_value, 32_500.0);
    assert_eq!((policy.min_instances, policy.max_instances), (2, 4));
    // Below the top: exact.
    let cells = [
        cells[0].clone(),
        cell(rt, "ml.g4dn.xlarge", 16, 400.0, 700.0),
    ];
    let r = embedded(&cells, Some(&traffic(1000.0, None)));
    assert!(!r.candidates[0].capacity.as_ref().unwrap().at_least);
}

#[test]
fn a_mix_weighs_prompt_levels_of_the_same_size() {
    use crate::domain::traffic::{MixShare, PromptLevel};
    // Two prompt levels whose bodies are the same size (only `max_tokens` differs): short
    // generations at 200 rps, long ones at 20 rps, told apart by their labels.
    let mut cells = two_sizes();
    for c in &mut cells {
        let long = c.payload_bytes == 65536;
        c.payload_bytes = 1100;
        c.payload_file = Some(if long { "in128 out512" } else { "in128 out16" }.into());
    }
    let level = |output_tokens| PromptLevel {
        input_tokens: Some(128),
        output_tokens,
    };
    let mut t = traffic(100.0, None);
    t.payload_mix = vec![
        MixShare {
            payload_bytes: 0,
            weight: 0.8,
            prompt_level: Some(level(16)),
        },
        MixShare {
            payload_bytes: 0,
            weight: 0.2,
            prompt_level: Some(level(512)),
        },
    ];
    let r = embedded(&cells, Some(&t));
    let c5 = find(&r, "ml.c5.xlarge");
    // As for sizes: 1 / (0.8 / 200 + 0.2 / 20) = 71.43 rps per instance.
    let op = c5.operating.as_ref().unwrap();
    assert!((op.per_instance_rps - 1.0 / 0.014).abs() < 1e-6, "{op:?}");
    let weights: Vec<(Option<&str>, Option<f64>)> = c5
        .workload
        .iter()
        .map(|s| (s.payload_file.as_deref(), s.weight))
        .collect();
    assert_eq!(
        weights,
        [
            (Some("in128 out16"), Some(0.8)),
            (Some("in128 out512"), Some(0.2))
        ]
    );
}
