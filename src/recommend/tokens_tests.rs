//! Hand-computed cases for the SLA and the recommendation in tokens ([`super::tokens`]).

use super::tests::row;
use super::*;
use crate::domain::Deployment;
use crate::recorder::tokens::TokenRecorder;
use crate::results::tokens::TokenSummary;

const SLA: Sla = Sla {
    percentile: crate::domain::Quantile::P99,
    latency_ms: 10_000.0,
    max_error_rate: 0.01,
    ttft_ms: Some(500.0),
    tpot_ms: Some(50.0),
};

/// A streamed cell at concurrency `c`: 1,000 replies of TTFT `ttft_ms`, TPOT `tpot_ms`,
/// `input` and `output` tokens each, `rps` requests/s over 10 s, on `instance`.
fn cell(instance: &str, c: u32, ttft_ms: u64, tpot_ms: u64, rps: f64) -> CellSummary {
    let (input, output) = (800u64, 200u64);
    let mut cell = crate::recommend::sla::tests::cell(&[2_000.0], 1000, 0);
    cell.index = c as usize;
    cell.deployment = Deployment::new(Hosting::RealTime, Variant::instance(instance));
    cell.load = Load::Closed { concurrency: c };
    cell.throughput_rps = rps;
    let mut t = TokenRecorder::default();
    for _ in 0..1000 {
        t.ttft.record(ttft_ms * 1000).unwrap();
        t.tpot.record(tpot_ms * 1000).unwrap();
        t.itl.record(tpot_ms * 1000).unwrap();
    }
    t.replies = 1000;
    t.output_tokens = 1000 * output;
    t.output_tokens_in_window = 1000 * output;
    t.input_tokens = 1000 * input;
    t.from_usage = 1000;
    cell.tokens = Some(TokenSummary::of(&t, 10.0));
    cell
}

fn recommend_cells(cells: &[CellSummary]) -> Recommendation {
    let table = PriceTable::embedded().with_rows(vec![row("ml.gpu", 3.6)]);
    let prices = Prices {
        table: &table,
        region: "us-east-1",
    };
    recommend(cells, &SLA, None, prices, &Options::default())
}

#[test]
fn a_cell_over_the_ttft_or_tpot_limit_fails_the_sla() {
    let ok = cell("ml.gpu", 1, 200, 20, 1.0);
    assert!(sla::check(&ok, &SLA).passed());
    let slow_first = cell("ml.gpu", 1, 900, 20, 1.0);
    let v = sla::check(&slow_first, &SLA);
    assert_eq!(
        v.failures,
        vec![sla::SlaFailure::Tokens(token_sla::TokenMiss::OverLimit {
            metric: token_sla::TokenMetric::Ttft,
            percentile: SLA.percentile,
            measured_ms: 900.095, // the histogram bucket of 900 ms
            limit_ms: 500.0,
        })]
    );
    let slow_steps = cell("ml.gpu", 1, 200, 80, 1.0);
    assert!(matches!(
        sla::check(&slow_steps, &SLA).failures[..],
        [sla::SlaFailure::Tokens(token_sla::TokenMiss::OverLimit {
            metric: token_sla::TokenMetric::Tpot,
            ..
        })]
    ));
    let mut plain = ok.clone();
    plain.tokens = None;
    assert_eq!(
        sla::check(&plain, &SLA).failures,
        vec![sla::SlaFailure::Tokens(token_sla::TokenMiss::NoTimings)]
    );
}

#[test]
fn candidates_are_sized_on_the_highest_load_meeting_ttft_and_tpot_and_priced_per_token() {
    // c=8 has the most throughput but breaks TPOT: c=4 is the operating point.
    let cells = [
        cell("ml.gpu", 1, 100, 20, 1.0),
        cell("ml.gpu", 4, 300, 40, 2.0),
        cell("ml.gpu", 8, 450, 70, 3.0),
    ];
    let r = recommend_cells(&cells);
    let c = &r.candidates[0];
    assert!(c.feasible(), "{c:?}");
    let op = c.operating.as_ref().unwrap();
    assert_eq!(op.load, Load::Closed { concurrency: 4 });
    // $3.60/h at 2 req/s = 7,200 req/h → $500 per million requests; 200 output tokens a
    // request → $2.50 per million output tokens; 1,000 tokens in + out → $0.50 per million.
    let cost = c.cost.as_ref().unwrap();
    assert!((cost.per_million.0 - 500.0).abs() < 1e-6, "{cost:?}");
    let t = c.tokens.as_ref().unwrap();
    assert!(
        (t.per_million_output.unwrap().0 - 2.5).abs() < 1e-9,
        "{t:?}"
    );
    assert!(
        (t.per_million_tokens.unwrap().0 - 0.5).abs() < 1e-9,
        "{t:?}"
    );
    assert_eq!((t.mean_output_tokens, t.mean_input_tokens), (200.0, 800.0));
    assert!((t.ttft_ms.unwrap() - 300.0).abs() < 1.0 && (t.tpot_ms.unwrap() - 40.0).abs() < 0.1);
    assert_eq!(t.output_tokens_per_s, 20_000.0, "200,000 tokens in 10 s");
}

#[test]
fn a_candidate_no_load_of_which_meets_tpot_says_so_with_the_nearest_value() {
    let cells = [
        cell("ml.gpu", 1, 100, 60, 1.0),
        cell("ml.gpu", 4, 300, 75, 2.0),
    ];
    let r = recommend_cells(&cells);
    let reasons = r.candidates[0].reasons();
    let reason = reasons
        .iter()
        .find(|r| matches!(r, Reason::Tokens(_)))
        .expect("a TPOT reason");
    assert_eq!(
        reason.to_string(),
        "TPOT p99 over 50 ms at 2 of 2 loads; lowest 60.031 ms at closed c=1"
    );
}
