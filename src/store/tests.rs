//! The run record's format, pinned by a golden file: `tests/golden/summary.json` holds the
//! JSON of a fixed record with every part filled in. A change to the format fails here
//! until the golden file is rewritten on purpose, with `UPDATE_GOLDEN=1 cargo test`
//! (and, for an incompatible change, a new [`record::SCHEMA_VERSION`]).

use super::record::{self, RunRecord, SearchSummary};
use crate::domain::{Deployment, FirstRequest, Hosting, Load, NotDeployed, Pruned, Unfit, Variant};
use crate::plan::Plan;
use crate::plan::search::Found;
use crate::results::CellSummary;
use std::path::{Path, PathBuf};

const PROFILE: &str = r#"
name = "golden"
description = "every part of a run record"
[target]
kind = "emulator"
[model]
preset = "bert-base"
[sweep]
hosting = ["real-time", "serverless"]
instance_types = ["ml.c5.xlarge"]
serverless_memory_mb = [2048]
payload_sizes = ["1KiB"]
load = { mode = "closed", concurrency = [1, 4] }
duration = "2s"
warmup = "500ms"
[sla]
percentile = 99
latency_ms = 250
[traffic]
peak_rps = 100
requests_per_day = 1000000
[regression]
p99 = "10%"
"#;

fn golden_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/summary.json")
}

/// A cell of `deployment` at `concurrency`, with `n` responses at 10 ms and one error.
fn cell(index: usize, deployment: Deployment, concurrency: u32, n: u64) -> CellSummary {
    let mut h = crate::recorder::latency_histogram();
    for i in 0..n {
        h.record(10_000 + i % 500).unwrap();
    }
    let detail = crate::results::ErrorDetail {
        statuses: [(422, 1)].into(),
        messages: vec!["Input should be a valid dictionary".into()],
    };
    CellSummary {
        index,
        deployment,
        load: Load::Closed { concurrency },
        error_details: [(crate::sample::ErrorKind::Http4xx, detail)].into(),
        ..CellSummary::for_tests(&h, 1, 2.0)
    }
}

/// Token figures of `n` streamed replies: TTFT 50 ms, 31 gaps of 4 ms, 32 output and 100
/// input tokens each, over 2 s.
fn tokens(n: u64) -> crate::results::tokens::TokenSummary {
    let mut t = crate::recorder::tokens::TokenRecorder::default();
    for _ in 0..n {
        t.ttft.record(50_000).unwrap();
        t.itl.record_n(4_000, 31).unwrap();
        t.tpot.record(4_000).unwrap();
    }
    t.replies = n;
    t.output_tokens = 32 * n;
    t.output_tokens_in_window = 32 * n;
    t.input_tokens = 100 * n;
    t.from_usage = n;
    t.tokens_per_s_sum = n as f64 * 320.0;
    crate::results::tokens::TokenSummary::of(&t, 2.0)
}

/// A record with every field filled: cells, a search, evidence and a recommendation.
fn record() -> RunRecord {
    let mut r = RunRecord::for_tests("profiles/golden.toml", PROFILE, Vec::new());
    r.plan = Plan::from_profile(&r.profile).unwrap();
    let c5 = Deployment::new(Hosting::RealTime, Variant::instance("ml.c5.xlarge"));
    let sl = Deployment::new(Hosting::Serverless, Variant::Serverless { memory_mb: 2048 });
    r.cells = vec![
        cell(0, c5.clone(), 1, 200),
        cell(1, c5.clone(), 4, 800),
        cell(2, sl.clone(), 1, 150),
    ];
    r.cells[1].poll_granularity_ms = Some(200.0);
    for c in &mut r.cells[..2] {
        c.tokens = Some(tokens(c.ok));
    }
    r.planned_cells = r.plan.cells.len();
    r.complete = false;
    r.searches = vec![SearchSummary {
        deployment: sl.clone(),
        payload_bytes: 1024,
        found: Found::Between {
            passed: 1.0,
            failed: 4.0,
        },
        probes: 2,
        load_seconds: 5.0,
        pruned: Some(Pruned {
            at: Load::Closed { concurrency: 4 },
            per_instance_rps: 80.0,
            floor_per_million: 9.5,
            beaten_by: "real-time ml.c5.xlarge 1KiB".into(),
            beaten_per_million: 1.2,
        }),
    }];
    r.first_requests = vec![FirstRequest {
        deployment: sl,
        ms: 812.5,
    }];
    r.unfit = vec![Unfit {
        deployment: Deployment::new(Hosting::RealTime, Variant::instance("ml.t2.medium")),
        model_mb: 5000,
        available_mb: 4096,
    }];
    r.not_deployed = vec![NotDeployed {
        deployment: Deployment::new(Hosting::RealTime, Variant::instance("ml.c5.4xlarge")),
        count: 1,
        reason: "ResourceLimitExceeded: The account-level service limit is 0 Instances".into(),
    }];
    r.scale_out = Some(crate::store::record::ScaleOut {
        shards: 3,
        shard: Some(1),
        start_at: "2026-11-28T12:00:00Z".into(),
        profile_hash: "00112233aabbccdd".into(),
        clock_offset_ms: [(1, 2.5)].into(),
        missed: [(2, vec![1])].into(),
    });
    let table = crate::pricing::PriceTable::embedded();
    let prices = crate::recommend::Prices {
        table: &table,
        region: "us-east-1",
    };
    let sla = r.profile.sla.unwrap();
    r.recommendation = Some(crate::recommend::recommend(
        &r.cells,
        &sla,
        r.profile.traffic.as_ref(),
        prices,
        &Default::default(),
    ));
    r
}

/// The record as summary.json holds it, with the tool version made fixed so a release
/// does not rewrite the golden file.
fn json(r: &RunRecord) -> String {
    let mut r = r.clone();
    r.tool.version = "0.0.0-golden".into();
    serde_json::to_string_pretty(&r).unwrap() + "\n"
}

#[test]
fn summary_json_matches_the_golden_file() {
    let written = json(&record());
    let path = golden_path();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &written).unwrap();
    }
    let golden = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        written == golden,
        "summary.json changed shape; if that is meant, run `UPDATE_GOLDEN=1 cargo test` \
         and bump record::SCHEMA_VERSION for an incompatible change.\n--- written\n{written}"
    );
}

#[test]
fn the_reader_reads_back_what_the_runner_writes() {
    let dir = std::env::temp_dir().join(format!("loadtest-record-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let original = record();
    std::fs::write(dir.join("summary.json"), json(&original)).unwrap();
    let mut back = record::read(&dir).unwrap();
    // The profile's folder is where it was read from, not part of the record.
    back.profile.base_dir = original.profile.base_dir.clone();
    let (a, b) = (json(&back), json(&original));
    for (x, y) in a.lines().zip(b.lines()) {
        assert_eq!(x, y, "first line that differs after a round trip");
    }
    assert_eq!(a, b);
    assert_eq!(back.recommendation, original.recommendation);
    assert_eq!(back.profile, original.profile);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn another_schema_version_names_both() {
    let dir = std::env::temp_dir().join(format!("loadtest-record-v-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("summary.json");
    std::fs::write(
        &path,
        r#"{"schema_version": 1, "tool": {"name": "loadtest", "version": "0.0.9"}, "cells": 3}"#,
    )
    .unwrap();
    let err = record::read(&path).unwrap_err().to_string();
    assert!(
        err.contains("schema version 1")
            && err.contains("loadtest 0.0.9")
            && err.contains(&format!("reads version {}", record::SCHEMA_VERSION)),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
