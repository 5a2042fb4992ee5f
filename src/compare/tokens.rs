//! Token timings of streamed cells judged like end-to-end latency: TTFT, TPOT and ITL at p50
//! and p99, each the run-level figure of the cell's (repeats') merged histogram, with the
//! per-second values of whole seconds as the samples of the same rank test and thresholds
//! ([`super::judge`]). Samples: each metric's own per-second percentile (a p99 row tests
//! per-second p99s, off each second's histogram), never per-second means.

use super::judge::{Row, fnv, missing, series_row};
use super::matching::Pair;
use crate::domain::thresholds::{Metric, Thresholds};
use crate::results::CellSummary;
use crate::results::tokens::{TokenSecondStats, TokenSummary};

/// Rows of the token metrics of a pair of cells; none when neither side streamed, or a side
/// lacks the cell (its other rows say `missing`).
pub fn token_rows(pair: &Pair<'_>, thresholds: &Thresholds) -> Vec<Row> {
    let streamed = |cells: &[&CellSummary]| cells.iter().any(|c| c.tokens.is_some());
    let (b, c) = (streamed(&pair.baseline), streamed(&pair.current));
    if (!b && !c) || pair.baseline.is_empty() || pair.current.is_empty() {
        return Vec::new();
    }
    let label = &pair.key.label();
    let seed = fnv(label);
    if !(b && c) {
        let why = if c {
            "no token timings in the baseline"
        } else {
            "no token timings in the current run"
        };
        return Metric::TOKENS
            .iter()
            .map(|&m| missing(label, m, why))
            .collect();
    }
    Metric::TOKENS
        .iter()
        .enumerate()
        .map(|(i, &metric)| {
            series_row(
                label,
                metric,
                thresholds,
                (
                    figure(&pair.baseline, metric),
                    figure(&pair.current, metric),
                ),
                (
                    samples(&pair.baseline, metric),
                    samples(&pair.current, metric),
                ),
                seed ^ (16 + i as u64),
            )
        })
        .collect()
}

/// The stored histogram a metric reads, and its quantile.
fn histogram_of(t: &TokenSummary, metric: Metric) -> (&str, f64) {
    match metric {
        Metric::TtftP50 => (&t.ttft_histogram, 0.5),
        Metric::TpotP50 => (&t.tpot_histogram, 0.5),
        Metric::TpotP99 => (&t.tpot_histogram, 0.99),
        Metric::ItlP50 => (&t.itl_histogram, 0.5),
        Metric::ItlP99 => (&t.itl_histogram, 0.99),
        _ => (&t.ttft_histogram, 0.99),
    }
}

/// The metric off the cells' merged histograms, ms.
fn figure(cells: &[&CellSummary], metric: Metric) -> Option<f64> {
    let read: Vec<(&str, f64)> = cells
        .iter()
        .filter_map(|c| c.tokens.as_ref())
        .map(|t| histogram_of(t, metric))
        .collect();
    let q = read.first().map_or(0.5, |&(_, q)| q);
    crate::results::histogram::merged_quantile_ms(read.iter().map(|&(text, _)| text), q)
}

/// Per-second values of whole seconds, pooled over repeats.
fn samples(cells: &[&CellSummary], metric: Metric) -> Vec<f64> {
    let pick = |s: &TokenSecondStats| match metric {
        Metric::TtftP50 => s.ttft_p50_ms,
        Metric::TpotP50 => s.tpot_p50_ms,
        Metric::TpotP99 => s.tpot_p99_ms,
        Metric::ItlP50 => s.itl_p50_ms,
        Metric::ItlP99 => s.itl_p99_ms,
        _ => s.ttft_p99_ms,
    };
    cells
        .iter()
        .filter_map(|c| {
            let whole = c.duration_s.floor() as u32;
            c.tokens
                .as_ref()
                .map(move |t| t.series.iter().filter(move |s| s.second < whole))
        })
        .flatten()
        .filter_map(pick)
        .collect()
}
