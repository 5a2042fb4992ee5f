//! The target itself as an unpriced candidate, instance types without a hosting option, and
//! interrupted runs' partial cells.

use super::*;
use crate::domain::Deployment;

const SLA: Sla = Sla {
    percentile: crate::domain::Quantile::P99,
    latency_ms: 250.0,
    max_error_rate: 0.001,
    ttft_ms: None,
    tpot_ms: None,
};

/// A cell of 1,000 responses all at `latency_ms` against `deployment`, at plan index `index`.
fn cell(deployment: Deployment, index: usize, latency_ms: f64, rps: f64) -> CellSummary {
    let mut c = crate::recommend::sla::tests::cell(&[latency_ms], 1000, 0);
    c.deployment = deployment;
    c.index = index;
    c.load = Load::Closed {
        concurrency: index as u32 + 1,
    };
    c.throughput_rps = rps;
    c
}

fn judge(cells: &[CellSummary], evidence: &Evidence<'_>) -> Recommendation {
    let table = PriceTable::embedded();
    let prices = Prices {
        table: &table,
        region: "us-east-1",
    };
    recommend_with(cells, &SLA, None, prices, &Options::default(), evidence)
}

#[test]
fn a_target_without_hosting_is_one_unpriced_candidate_judged_on_the_sla() {
    let met = [
        cell(Deployment::default(), 0, 20.0, 50.0),
        cell(Deployment::default(), 1, 900.0, 60.0),
    ];
    let r = judge(&met, &Evidence::default());
    assert_eq!(r.candidates.len(), 1, "{r:?}");
    let target = &r.candidates[0];
    assert!(target.feasible() && target.unpriced(), "{target:?}");
    assert_eq!(target.label(), "target");
    assert_eq!(target.cost, None);
    let op = target.operating.as_ref().unwrap();
    assert_eq!((op.cell_index, op.throughput_rps), (0, 50.0));
    assert_eq!(r.choice, Some(0));
    assert!(r.nearest_miss.is_none());

    let missed = [cell(Deployment::default(), 0, 900.0, 50.0)];
    let r = judge(&missed, &Evidence::default());
    assert_eq!(r.choice, None);
    assert!(
        matches!(r.candidates[0].reasons(), [Reason::LatencyOverLimit { .. }]),
        "{r:?}"
    );
    let miss = r.nearest_miss.expect("the target is the nearest miss");
    assert!(miss.explanation.contains("target"), "{}", miss.explanation);
}

#[test]
fn an_instance_type_without_a_hosting_option_is_priced_as_real_time() {
    let url_per_type = Deployment {
        hosting: None,
        variant: Some(Variant::instance("ml.c5.xlarge")),
    };
    let r = judge(&[cell(url_per_type, 0, 20.0, 50.0)], &Evidence::default());
    let c = &r.candidates[0];
    assert_eq!(c.hosting, Some(Hosting::RealTime));
    assert!(c.feasible() && c.cost.is_some(), "{c:?}");
    assert_eq!(r.unattributed_cells, 0);
}

#[test]
fn partial_cells_are_left_out_and_the_interruption_is_told() {
    let mut partial = cell(Deployment::default(), 1, 20.0, 500.0);
    partial.interrupted = true;
    let cells = [cell(Deployment::default(), 0, 20.0, 50.0), partial];
    let evidence = Evidence {
        planned_cells: 6,
        interrupted: true,
        ..Evidence::default()
    };
    let r = judge(&cells, &evidence);
    let op = r.candidates[0].operating.as_ref().unwrap();
    assert_eq!(
        op.cell_index, 0,
        "the verdict never rests on the partial cell"
    );
    assert_eq!(r.candidates[0].cells, 1);
    let stop = r.interrupted.as_ref().expect("interrupted");
    assert_eq!(stop.partial, vec![1]);
    assert_eq!(
        stop.to_string(),
        "interrupted: 2 of 6 cells, the last one partial"
    );

    let only_partial = judge(&cells[1..], &evidence);
    assert!(only_partial.candidates.is_empty() && only_partial.choice.is_none());
    assert!(
        judge(&cells[..1], &Evidence::default())
            .interrupted
            .is_none()
    );
}
