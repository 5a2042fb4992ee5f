//! Hand-built summaries for the reporters' unit tests.

use crate::domain::Load;
use crate::results::{CellSummary, Percentiles, SecondStats};
use crate::sample::ErrorKind;
use crate::store::record::RunRecord;

/// A histogram of `n` latencies spread from `base_ms` up to about 3 × `base_ms` (µs).
pub fn latencies(n: u64, base_ms: f64) -> hdrhistogram::Histogram<u64> {
    let mut h = crate::recorder::latency_histogram();
    let base = (base_ms * 1000.0) as u64;
    for i in 0..n {
        h.record(base + (i * i * 7919) % (2 * base)).unwrap();
    }
    h
}

/// A 4-second closed-loop cell with `errors` timeouts.
pub fn cell(index: usize, concurrency: u32, base_ms: f64, errors: u64) -> CellSummary {
    let h = latencies(400 * u64::from(concurrency), base_ms);
    let ok = h.len();
    let requests = ok + errors;
    let mut errors_by_kind: std::collections::BTreeMap<ErrorKind, u64> =
        ErrorKind::ALL.iter().map(|k| (*k, 0)).collect();
    errors_by_kind.insert(ErrorKind::Timeout, errors);
    let p = Percentiles::of(&h);
    let series = (0..4)
        .map(|s| SecondStats {
            second: s,
            span_s: 1.0,
            throughput_rps: (ok / 4) as f64,
            p50_ms: p.map(|p| p.p50_ms),
            p99_ms: p.map(|p| p.p99_ms + f64::from(s)),
            errors: errors / 4,
        })
        .collect();
    CellSummary {
        index,
        load: Load::Closed { concurrency },
        errors_by_kind,
        warmup_requests: 10,
        bytes_out: requests * 1024,
        bytes_in: ok * 10,
        series,
        ..CellSummary::for_tests(&h, errors, 4.0)
    }
}

/// Two cells (c=1 fast, c=4 slower with errors); an SLA of p99 ≤ 50 ms, errors ≤ 1% if asked.
pub fn summary(with_sla: bool) -> RunRecord {
    let mut profile = String::from(
        r#"
name = "bert"
description = "BERT & friends"
[target]
kind = "emulator"
[model]
preset = "bert-base"
[sweep]
hosting = ["real-time"]
instance_types = ["ml.c5.xlarge"]
load = { mode = "closed", concurrency = [1, 4] }
"#,
    );
    if with_sla {
        profile.push_str("[sla]\npercentile = 99\nlatency_ms = 50\nmax_error_rate = 0.01\n");
    }
    let cells = vec![cell(0, 1, 5.0, 0), cell(1, 4, 30.0, 80)];
    let mut summary = RunRecord::for_tests("profiles/bert.toml", &profile, cells);
    // A hand-edited record may hold any name: reports escape it.
    summary.profile.name = "bert <launch>".into();
    summary
}
