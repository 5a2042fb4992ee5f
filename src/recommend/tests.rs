//! Hand-computed cases for [`recommend`].

use super::*;
use crate::domain::Deployment;

/// `ml.c5.xlarge`, or `serverless-2048` for a serverless size.
fn variant(label: &str) -> Variant {
    match label.strip_prefix("serverless-").map(str::parse) {
        Some(Ok(memory_mb)) => Variant::Serverless { memory_mb },
        _ => Variant::instance(label),
    }
}
use crate::domain::Arrivals;
use crate::domain::FirstRequest;
use crate::pricing::{Confidence, Origin, PriceRow, Usd};

const SLA: Sla = Sla {
    percentile: crate::domain::Quantile::P99,
    latency_ms: 100.0,
    max_error_rate: 0.01,
    ttft_ms: None,
    tpot_ms: None,
};

/// A cell of 1,000 responses all at `latency_ms`, measured at `throughput_rps`.
pub(super) fn cell(
    hosting: Hosting,
    instance: &str,
    concurrency: u32,
    latency_ms: f64,
    throughput_rps: f64,
) -> CellSummary {
    let mut c = crate::recommend::sla::tests::cell(&[latency_ms], 1000, 0);
    c.deployment = Deployment::new(hosting, variant(instance));
    c.load = Load::Closed { concurrency };
    c.throughput_rps = throughput_rps;
    c
}

pub(super) fn traffic(peak_rps: f64, requests_per_day: Option<f64>) -> Traffic {
    Traffic::at_peak(peak_rps, requests_per_day, 0.2)
}

fn run(
    cells: &[CellSummary],
    traffic: Option<&Traffic>,
    table: &PriceTable,
    options: &Options,
) -> Recommendation {
    let prices = Prices {
        table,
        region: "us-east-1",
    };
    recommend(cells, &SLA, traffic, prices, options)
}

pub(super) fn embedded(cells: &[CellSummary], traffic: Option<&Traffic>) -> Recommendation {
    run(cells, traffic, &PriceTable::embedded(), &Options::default())
}

pub(super) fn find<'a>(r: &'a Recommendation, instance: &str) -> &'a Candidate {
    r.candidates
        .iter()
        .find(|c| c.variant_label() == instance)
        .expect(instance)
}

fn close(a: Usd, b: f64) -> bool {
    (a.0 - b).abs() <= b.abs() * 1e-3
}

/// A price row for a made-up instance type.
pub(super) fn row(item: &str, usd: f64) -> PriceRow {
    PriceRow {
        region: "us-east-1".into(),
        hosting: Hosting::RealTime,
        item: item.into(),
        unit: crate::pricing::Unit::Hour,
        usd: Usd(usd),
        confidence: Confidence::High,
        as_of: "2026-11".into(),
        source: "test".into(),
        origin: Origin::Override,
    }
}

fn instances(c: &Candidate) -> Option<u32> {
    match c.cost.as_ref()?.billing {
        Billing::AlwaysOn { instances, .. } => instances,
        _ => None,
    }
}

#[test]
fn cheapest_feasible_real_time_fleet_is_chosen() {
    let rt = Hosting::RealTime;
    let cells = [
        cell(rt, "ml.c5.xlarge", 1, 20.0, 50.0),
        cell(rt, "ml.c5.xlarge", 4, 80.0, 180.0),
        cell(rt, "ml.c5.xlarge", 8, 300.0, 200.0), // over the SLA: not the operating point
        cell(rt, "ml.m5.xlarge", 4, 50.0, 200.0),
    ];
    let r = embedded(&cells, Some(&traffic(400.0, None)));
    assert_eq!(r.basis, CostBasis::AtPeak { peak_rps: 400.0 });
    let c5 = find(&r, "ml.c5.xlarge");
    // 480 / 180 = 2.67 → 3 × $0.204 = $0.612/h; / (400 × 3600) × 1e6 = $0.425/M.
    assert_eq!(instances(c5), Some(3));
    let cost = c5.cost.as_ref().unwrap();
    assert!(close(cost.per_hour.unwrap(), 0.612));
    assert!(close(cost.per_million, 0.425));
    assert_eq!(
        c5.operating.as_ref().unwrap().load,
        Load::Closed { concurrency: 4 }
    );
    // 480 / 200 = 2.4 → 3 × $0.23 = $0.69/h.
    let m5 = find(&r, "ml.m5.xlarge");
    assert_eq!(instances(m5), Some(3));
    assert_eq!(r.choice, Some(0));
    assert_eq!(r.candidates[0].variant_label(), "ml.c5.xlarge");
    assert_eq!((c5.rank, m5.rank), (Some(1), Some(2)));
    // Cheaper but slower, dearer but faster: both on the frontier.
    assert!(c5.on_frontier && m5.on_frontier);
    assert_eq!(r.nearest_miss, None);
    assert_eq!(r.prices_as_of, vec!["2026-11".to_string()]);
}

#[test]
fn measured_throughput_is_shared_by_the_endpoints_instances() {
    let cells = [cell(Hosting::RealTime, "ml.c5.xlarge", 4, 80.0, 180.0)];
    let options = Options {
        instance_count: 2,
        ..Options::default()
    };
    let r = run(
        &cells,
        Some(&traffic(400.0, None)),
        &PriceTable::embedded(),
        &options,
    );
    let c5 = &r.candidates[0];
    assert_eq!(c5.operating.as_ref().unwrap().per_instance_rps, 90.0);
    assert_eq!(instances(c5), Some(6)); // 480 / 90 = 5.33
}

#[test]
fn open_loop_cells_count_like_closed_ones() {
    let mut open = cell(Hosting::RealTime, "ml.c5.xlarge", 1, 60.0, 240.0);
    open.load = Load::Open {
        rate: 240.0,
        arrivals: Arrivals::Poisson,
        max_in_flight: 100,
    };
    let cells = [
        cell(Hosting::RealTime, "ml.c5.xlarge", 4, 80.0, 180.0),
        open,
    ];
    let r = embedded(&cells, Some(&traffic(400.0, None)));
    assert_eq!(
        r.candidates[0].operating.as_ref().unwrap().throughput_rps,
        240.0
    );
    assert_eq!(instances(&r.candidates[0]), Some(2)); // 480 / 240 exactly
}

#[test]
fn equal_cost_ties_go_to_the_lower_latency() {
    let table = PriceTable::embedded().with_rows(vec![row("ml.a", 0.2), row("ml.b", 0.2)]);
    let cells = [
        cell(Hosting::RealTime, "ml.a", 4, 90.0, 100.0),
        cell(Hosting::RealTime, "ml.b", 4, 40.0, 100.0),
    ];
    let r = run(
        &cells,
        Some(&traffic(100.0, None)),
        &table,
        &Options::default(),
    );
    assert_eq!(r.candidates[0].variant_label(), "ml.b");
    assert_eq!(r.candidates[1].variant_label(), "ml.a");
    // Same cost, slower: ml.a is dominated.
    assert!(r.candidates[0].on_frontier && !r.candidates[1].on_frontier);
}

#[test]
fn frontier_drops_dominated_candidates() {
    let table = PriceTable::embedded().with_rows(vec![
        row("ml.cheap", 0.1),
        row("ml.fast", 0.5),
        row("ml.bad", 0.5),
    ]);
    let cells = [
        cell(Hosting::RealTime, "ml.cheap", 4, 90.0, 100.0),
        cell(Hosting::RealTime, "ml.fast", 4, 20.0, 100.0),
        cell(Hosting::RealTime, "ml.bad", 4, 60.0, 100.0),
    ];
    let r = run(&cells, None, &table, &Options::default());
    assert_eq!(r.basis, CostBasis::AtCapacity);
    // $0.1/h at 100 rps = $0.2778/M; no fleet without a peak.
    let cheap = find(&r, "ml.cheap");
    assert!(close(cheap.cost.as_ref().unwrap().per_million, 0.1 / 0.36));
    assert_eq!(instances(cheap), None);
    assert!(cheap.on_frontier && find(&r, "ml.fast").on_frontier);
    assert!(!find(&r, "ml.bad").on_frontier);
    assert_eq!(find(&r, "ml.bad").rank, Some(3));
}

#[test]
fn missing_price_and_payload_over_limit_are_reasons() {
    let mut big = cell(Hosting::Serverless, "serverless-2048", 1, 50.0, 20.0);
    big.payload_bytes = 5 << 20;
    let cells = [cell(Hosting::RealTime, "ml.unknown", 4, 50.0, 100.0), big];
    let r = embedded(&cells, Some(&traffic(10.0, None)));
    assert_eq!(r.choice, None);
    let unknown = find(&r, "ml.unknown");
    assert!(unknown.operating.is_some() && unknown.cost.is_none());
    assert!(matches!(unknown.reasons(), [Reason::NoPrice(m)] if m.item == "ml.unknown"));
    assert!(
        unknown.reasons()[0]
            .to_string()
            .contains("add a row `us-east-1,real-time,ml.unknown,hour,")
    );
    let serverless = find(&r, "serverless-2048");
    assert_eq!(
        serverless.reasons(),
        &[Reason::PayloadOverLimit {
            hosting: Hosting::Serverless,
            payload_bytes: 5 << 20,
            limit_bytes: 4 << 20,
        }]
    );
    assert_eq!(
        serverless.reasons()[0].to_string(),
        "payload 5MiB over the 4MiB limit of serverless"
    );
}

#[test]
fn nothing_feasible_names_the_nearest_miss() {
    let cells = [
        cell(Hosting::RealTime, "ml.c5.xlarge", 1, 150.0, 50.0),
        cell(Hosting::RealTime, "ml.c5.xlarge", 4, 400.0, 150.0),
        cell(Hosting::RealTime, "ml.m5.xlarge", 1, 120.0, 60.0),
    ];
    let r = embedded(&cells, Some(&traffic(100.0, None)));
    assert_eq!(r.choice, None);
    assert_eq!(r.candidates[0].variant_label(), "ml.m5.xlarge");
    let c5 = find(&r, "ml.c5.xlarge");
    let [
        Reason::LatencyOverLimit {
            lowest_ms,
            at,
            loads_over,
            loads,
            ..
        },
    ] = c5.reasons()
    else {
        panic!("{:?}", c5.reasons())
    };
    assert!((lowest_ms - 150.0).abs() < 0.2, "{lowest_ms}");
    assert_eq!(
        (*at, *loads_over, *loads),
        (Load::Closed { concurrency: 1 }, 2, 2)
    );
    let miss = r.nearest_miss.as_ref().unwrap();
    assert_eq!(miss.candidate, 0);
    assert!(
        miss.explanation
            .contains("closest is real-time ml.m5.xlarge (20% over"),
        "{}",
        miss.explanation
    );
    assert!(
        miss.explanation.contains("at closed c=1"),
        "{}",
        miss.explanation
    );
}

#[test]
fn error_rate_and_generator_bound_cells_never_pass() {
    let mut erring = cell(Hosting::RealTime, "ml.c5.xlarge", 1, 10.0, 50.0);
    (erring.errors, erring.error_rate) = (50, 0.05);
    erring
        .errors_by_kind
        .insert(crate::sample::ErrorKind::Timeout, 50);
    let mut worse = cell(Hosting::RealTime, "ml.c5.xlarge", 4, 10.0, 150.0);
    (worse.errors, worse.error_rate) = (200, 0.2);
    let mut dropping = cell(Hosting::RealTime, "ml.m5.xlarge", 4, 10.0, 150.0);
    dropping.dropped = 7;
    let r = embedded(&[erring, worse, dropping], Some(&traffic(100.0, None)));
    let c5 = find(&r, "ml.c5.xlarge");
    assert!(matches!(
        c5.reasons(),
        [Reason::ErrorsOverLimit {
            lowest_rate: 0.05,
            at: Load::Closed { concurrency: 1 },
            loads_over: 2,
            mostly: Some(crate::sample::ErrorKind::Timeout),
            ..
        }]
    ));
    assert!(c5.reasons()[0].to_string().ends_with("mostly timeout"));
    let m5 = find(&r, "ml.m5.xlarge");
    assert_eq!(
        m5.reasons(),
        &[Reason::GeneratorBound {
            loads_dropping: 1,
            loads: 1
        }]
    );
}

#[test]
fn a_saturated_open_loop_is_not_feasible_and_says_why() {
    let mut saturated = cell(Hosting::RealTime, "ml.c5.xlarge", 4, 10.0, 150.0);
    saturated.load = Load::Open {
        rate: 100.0,
        arrivals: crate::domain::Arrivals::Constant,
        max_in_flight: 1000,
    };
    saturated.saturated = true;
    let r = embedded(&[saturated], Some(&traffic(100.0, None)));
    let c5 = find(&r, "ml.c5.xlarge");
    assert_eq!(
        c5.reasons(),
        &[Reason::Saturated {
            loads_saturated: 1,
            loads: 1
        }]
    );
    assert!(c5.reasons()[0].to_string().contains("exceeds capacity"));
}

#[test]
fn serverless_concurrency_over_max_is_infeasible() {
    let cells = [cell(Hosting::Serverless, "serverless-2048", 8, 50.0, 100.0)];
    // Little's law: 1,000 rps × ~0.05 s = 50 in flight; a MaxConcurrency of 20 is too small.
    let options = Options {
        max_concurrency: 20,
        ..Options::default()
    };
    let r = run(
        &cells,
        Some(&traffic(1000.0, None)),
        &PriceTable::embedded(),
        &options,
    );
    let c = &r.candidates[0];
    let [Reason::ConcurrencyOverLimit { needed, limit: 20 }] = c.reasons() else {
        panic!("{:?}", c.reasons())
    };
    assert!((needed - 50.0).abs() < 0.1, "{needed}");
    assert!(embedded(&cells, Some(&traffic(1000.0, None))).candidates[0].feasible());
}

#[test]
fn daily_cost_compares_hosting_options() {
    let mut serverless = cell(Hosting::Serverless, "serverless-2048", 8, 50.0, 100.0);
    serverless.bytes_in = 0;
    serverless.payload_bytes = 0;
    let cells = [
        cell(Hosting::RealTime, "ml.c5.xlarge", 4, 50.0, 100.0),
        serverless,
        cell(Hosting::Async, "ml.c5.xlarge", 4, 50.0, 100.0),
        cell(Hosting::Batch, "ml.m5.xlarge", 4, 50.0, 50.0),
    ];
    let r = embedded(&cells, Some(&traffic(10.0, Some(100_000.0))));
    assert_eq!(
        r.basis,
        CostBasis::PerDay {
            requests_per_day: 100_000.0
        }
    );
    let day = |h: Hosting| {
        let c = r.candidates.iter().find(|c| c.hosting == Some(h)).unwrap();
        c.cost.as_ref().unwrap().per_day.unwrap()
    };
    // Real-time: 1 instance needed, 2 run (the default floor, AWS's availability guidance)
    // all day = 2 × $0.204 × 24.
    assert!(close(day(Hosting::RealTime), 9.792));
    // Serverless: 0.05 s × 2 GB × $0.00002 = $0.000002 per request × 100,000.
    assert!(close(day(Hosting::Serverless), 0.2));
    // Async: 100,000 / (100 × 3600) = 0.2778 busy hours × $0.204.
    assert!(close(day(Hosting::Async), 0.204 / 3.6));
    // Batch: 100,000 / (50 × 3600) = 0.5556 hours × $0.23.
    assert!(close(day(Hosting::Batch), 0.23 / 1.8));
    let order: Vec<Hosting> = r.candidates.iter().filter_map(|c| c.hosting).collect();
    assert_eq!(
        order,
        [
            Hosting::Async,
            Hosting::Serverless,
            Hosting::RealTime,
            Hosting::Batch
        ],
        "batch is cheapest per day, but answers no live requests"
    );
    assert_eq!(r.candidates[3].reasons(), &[Reason::OfflineOnly]);
    // per_million is the daily cost per million requests, so the ranking matches it.
    assert!(close(
        r.candidates[0].cost.as_ref().unwrap().per_million,
        0.204 / 3.6 * 10.0
    ));
}

#[test]
fn batch_cost_per_million_records() {
    let cells = [cell(Hosting::Batch, "ml.m5.xlarge", 4, 50.0, 50.0)];
    let r = embedded(&cells, None);
    // 1e6 / (50 × 3600) = 5.556 h × $0.23 = $1.2778 per million records.
    assert!(close(
        r.candidates[0].cost.as_ref().unwrap().per_million,
        0.23 * 1e6 / 180_000.0
    ));
}

#[test]
fn low_confidence_and_unattributed_cells_are_reported() {
    let mut few = cell(Hosting::RealTime, "ml.c5.xlarge", 1, 20.0, 50.0);
    few.ok = 500;
    let mut plain = cell(Hosting::RealTime, "x", 1, 20.0, 50.0);
    plain.deployment = Deployment::default();
    let r = embedded(&[few, plain], None);
    assert!(r.candidates[0].operating.as_ref().unwrap().low_confidence);
    assert!(r.candidates[0].feasible());
    // The plain cell is the target itself: an unpriced candidate ranked after the priced one.
    assert_eq!((r.candidates.len(), r.unattributed_cells), (2, 1));
    assert!(r.candidates[1].unpriced() && r.candidates[1].cost.is_none());
}

#[test]
fn no_cells_no_choice() {
    let r = embedded(&[], None);
    assert_eq!(
        (r.candidates.len(), r.choice, r.nearest_miss.is_none()),
        (0, None, true)
    );
}

#[test]
fn round_trips_through_json() {
    let cells = [
        cell(Hosting::RealTime, "ml.c5.xlarge", 4, 80.0, 180.0),
        cell(Hosting::Serverless, "serverless-4096", 4, 80.0, 180.0),
        cell(Hosting::Async, "ml.nope", 4, 300.0, 180.0),
    ];
    let r = embedded(&cells, Some(&traffic(400.0, Some(1e6))));
    let json = serde_json::to_string(&r).unwrap();
    let back: Recommendation = serde_json::from_str(&json).unwrap();
    // serde_json parses floats to within an ulp, so compare the trees with that slack.
    let (a, b) = (
        serde_json::to_value(&r).unwrap(),
        serde_json::to_value(&back).unwrap(),
    );
    assert!(same_json(&a, &b), "{a}\n{b}");
    assert!(json.contains(r#""kind":"no_price""#) && json.contains(r#""verdict":"feasible""#));
}

fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= x.abs().max(y.abs()) * 1e-12
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// Three repeats of one candidate: 100, 90 and 80 req/s at c=4, the third over the SLA.
/// Peak 40 × 1.2 = 48 req/s → one ml.c5.xlarge ($0.204/h) in the two passing repeats.
#[test]
fn repeats_give_a_range_and_the_worst_repeat_stands_for_the_candidate() {
    let mut cells = Vec::new();
    for (repeat, rps, ms) in [(1, 100.0, 50.0), (2, 90.0, 60.0), (3, 80.0, 150.0)] {
        let mut c = cell(Hosting::RealTime, "ml.c5.xlarge", 4, ms, rps);
        c.repeat = repeat;
        cells.push(c);
    }
    let r = embedded(&cells, Some(&traffic(40.0, None)));
    let c = find(&r, "ml.c5.xlarge");
    let range = c.repeats.as_ref().expect("a range over the repeats");
    assert_eq!((range.repeats, range.feasible), (3, 2));
    assert_eq!(range.per_instance_rps, Some([90.0, 100.0]));
    let [lo, hi] = range.latency_ms.unwrap();
    assert!(
        (lo - 50.0).abs() < 0.1 && (hi - 60.0).abs() < 0.1,
        "{lo} {hi}"
    );
    assert!(!c.feasible(), "the failing repeat stands for it: {c:?}");
    assert_eq!(r.choice, None);

    let passing: Vec<CellSummary> = cells[..2].to_vec();
    let r = embedded(&passing, Some(&traffic(40.0, None)));
    let c = find(&r, "ml.c5.xlarge");
    assert!(c.feasible());
    let op = c.operating.as_ref().unwrap();
    assert_eq!(op.per_instance_rps, 90.0, "the slower repeat stands for it");
    assert_eq!(c.cells, 2);
}

/// A serverless first request of 800 ms against a 100 ms limit: reported always, a gate
/// only for intermittent traffic.
#[test]
fn a_cold_start_gates_serverless_only_for_intermittent_traffic() {
    let cells = [cell(Hosting::Serverless, "serverless-2048", 1, 50.0, 10.0)];
    let first = [FirstRequest {
        deployment: Deployment::new(Hosting::Serverless, Variant::Serverless { memory_mb: 2048 }),
        ms: 800.0,
    }];
    let evidence = Evidence {
        pruned: &[],
        first_requests: &first,
        unfit: &[],
        ..Evidence::default()
    };
    let table = PriceTable::embedded();
    let prices = Prices {
        table: &table,
        region: "us-east-1",
    };
    let steady = traffic(1.0, None);
    let r = recommend_with(
        &cells,
        &SLA,
        Some(&steady),
        prices,
        &Options::default(),
        &evidence,
    );
    let c = find(&r, "serverless-2048");
    assert_eq!(c.first_request_ms, Some(800.0));
    assert!(c.feasible(), "{c:?}");
    let intermittent = Traffic {
        intermittent: true,
        ..steady
    };
    let r = recommend_with(
        &cells,
        &SLA,
        Some(&intermittent),
        prices,
        &Options::default(),
        &evidence,
    );
    assert_eq!(
        find(&r, "serverless-2048").reasons(),
        &[Reason::ColdStartOverLimit {
            first_request_ms: 800.0,
            limit_ms: 100.0
        }]
    );
}

#[test]
fn payload_files_of_one_size_are_sizes_of_one_workload() {
    let mut a = cell(Hosting::RealTime, "ml.c5.xlarge", 4, 20.0, 100.0);
    a.payload_file = Some("rows-1.json".into());
    let mut b = cell(Hosting::RealTime, "ml.c5.xlarge", 4, 40.0, 50.0);
    b.payload_file = Some("rows-2.json".into());
    let r = embedded(&[a, b], None);
    let labels: Vec<String> = r.candidates.iter().map(Candidate::label).collect();
    assert_eq!(labels, ["real-time ml.c5.xlarge"]);
    let sizes: Vec<String> = r.candidates[0]
        .workload
        .iter()
        .map(SizeResult::label)
        .collect();
    assert_eq!(sizes, ["rows-1.json 1KiB", "rows-2.json 1KiB"]);
    // Without a mix the slowest file binds: 50 rps, and the higher latency.
    let op = r.candidates[0].operating.as_ref().unwrap();
    assert_eq!(op.per_instance_rps, 50.0);
    assert!((op.latency_ms - 40.0).abs() < 0.1, "{op:?}");
}
