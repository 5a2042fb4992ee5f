//! One cell measured by several generator shards on one clock, merged exactly: histograms
//! added, counts and error classes summed, the per-second series summed second by second,
//! and every derived figure (rates, percentiles, saturation, Little's law) computed again from
//! the sums as for a cell measured on one machine.

use super::histogram::{self, HistogramError};
use super::tokens::{CountedFrom, TokenSummary};
use super::{CellSummary, ErrorDetail, Percentiles, SecondStats};
use crate::domain::Load;
use crate::domain::units::round3;
use crate::recorder::Counts;
use crate::sample::ErrorKind;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;

/// Why a cell's parts could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// No part to merge.
    #[error("no shard measured the cell")]
    Empty,
    /// A stored histogram does not decode.
    #[error(transparent)]
    Histogram(#[from] HistogramError),
    /// Two histograms do not add (values out of the other's bounds).
    #[error("histograms do not add: {0}")]
    Add(String),
}

/// The shards' summaries of one cell, merged: `load` is the cell's whole load (each shard's
/// record shows its share); `parts` are (shard index, summary), in shard order.
pub fn merge_cell(load: Load, parts: &[(u32, &CellSummary)]) -> Result<CellSummary, MergeError> {
    let Some((_, first)) = parts.first() else {
        return Err(MergeError::Empty);
    };
    let sum = |f: fn(&CellSummary) -> u64| parts.iter().map(|(_, c)| f(c)).sum::<u64>();
    let response = add_histograms(parts.iter().map(|(_, c)| c.histogram.as_str()))?;
    let service = add_histograms(parts.iter().map(|(_, c)| c.service_histogram.as_str()))?;
    let duration_s = parts.iter().map(|(_, c)| c.duration_s).fold(0.0, f64::max);
    let counts = counts(parts);
    let slip_total_ms: f64 = parts
        .iter()
        .map(|(_, c)| c.mean_send_slip_ms * c.requests as f64)
        .sum();
    let (series, series_histograms) = series(parts)?;
    let counted = CellSummary::counted(load, &counts, duration_s, &response, &service);
    Ok(CellSummary {
        index: first.index,
        repeat: first.repeat,
        deployment: first.deployment.clone(),
        payload_bytes: first.payload_bytes,
        payload_file: first.payload_file.clone(),
        phase: first.phase,
        poll_granularity_ms: first.poll_granularity_ms,
        error_details: error_details(parts),
        mean_send_slip_ms: round3(slip_total_ms / counts.sent.max(1) as f64),
        max_send_slip_ms: parts
            .iter()
            .map(|(_, c)| c.max_send_slip_ms)
            .fold(0.0, f64::max),
        bytes_out: sum(|c| c.bytes_out),
        bytes_in: sum(|c| c.bytes_in),
        accounting_ok: counted.accounting_ok && parts.iter().all(|(_, c)| c.accounting_ok),
        saturated: counted.saturated || parts.iter().any(|(_, c)| c.saturated),
        interrupted: parts.iter().any(|(_, c)| c.interrupted),
        series,
        invoked_variants: parts.iter().fold(BTreeMap::new(), |mut all, (_, c)| {
            for (name, n) in &c.invoked_variants {
                *all.entry(name.clone()).or_insert(0) += n;
            }
            all
        }),
        stopped_early: parts.iter().any(|(_, c)| c.stopped_early),
        retries: sum(|c| c.retries),
        warmup_retries: sum(|c| c.warmup_retries),
        probe_retries: sum(|c| c.probe_retries),
        series_histograms,
        generator_bound_shards: parts
            .iter()
            .filter(|(_, c)| c.dropped > 0 || c.late > 0)
            .map(|(i, _)| *i)
            .collect(),
        tokens: tokens(parts)?,
        ..counted
    })
}

/// The shards' token figures, merged: TTFT, ITL and TPOT histograms added, token counts
/// summed, rates added (the shards share the cell's window), means weighted by each shard's
/// replies; `None` when no shard streamed.
fn tokens(parts: &[(u32, &CellSummary)]) -> Result<Option<TokenSummary>, MergeError> {
    let streamed: Vec<&TokenSummary> = parts
        .iter()
        .filter_map(|(_, c)| c.tokens.as_ref())
        .collect();
    let Some(first) = streamed.first() else {
        return Ok(None);
    };
    let ttft = add_histograms(streamed.iter().map(|t| t.ttft_histogram.as_str()))?;
    let itl = add_histograms(streamed.iter().map(|t| t.itl_histogram.as_str()))?;
    let tpot = add_histograms(streamed.iter().map(|t| t.tpot_histogram.as_str()))?;
    let replies: u64 = streamed.iter().map(|t| t.replies).sum();
    let token_series = super::tokens::merge_series(&streamed)?;
    let n = replies.max(1) as f64;
    let weighted = |f: fn(&TokenSummary) -> f64| {
        round3(
            streamed
                .iter()
                .map(|t| f(t) * t.replies as f64)
                .sum::<f64>()
                / n,
        )
    };
    let per_s = |f: fn(&TokenSummary) -> f64| round3(streamed.iter().map(|t| f(t)).sum::<f64>());
    let counted_from = if streamed
        .iter()
        .all(|t| t.counted_from == first.counted_from)
    {
        first.counted_from
    } else {
        CountedFrom::Mixed
    };
    Ok(Some(TokenSummary {
        replies,
        output_tokens: streamed.iter().map(|t| t.output_tokens).sum(),
        input_tokens: streamed.iter().map(|t| t.input_tokens).sum(),
        counted_from,
        output_tokens_per_s: per_s(|t| t.output_tokens_per_s),
        total_tokens_per_s: per_s(|t| t.total_tokens_per_s),
        mean_request_tokens_per_s: weighted(|t| t.mean_request_tokens_per_s),
        mean_output_tokens: weighted(|t| t.mean_output_tokens),
        mean_input_tokens: weighted(|t| t.mean_input_tokens),
        ttft: Percentiles::of(&ttft),
        itl: Percentiles::of(&itl),
        tpot: Percentiles::of(&tpot),
        ttft_histogram: histogram::encode(&ttft),
        itl_histogram: histogram::encode(&itl),
        tpot_histogram: histogram::encode(&tpot),
        series: token_series.series,
        series_histograms: token_series.ttft,
        series_tpot_histograms: token_series.tpot,
        series_itl_histograms: token_series.itl,
    }))
}

/// The outcome tallies of all parts, added.
fn counts(parts: &[(u32, &CellSummary)]) -> Counts {
    let mut counts = Counts::default();
    for (_, c) in parts {
        counts.sent += c.requests;
        counts.ok += c.ok;
        counts.late_ok += c.late_ok;
        counts.late_errors += c.late_errors;
        counts.cold_starts += c.cold_starts;
        for kind in ErrorKind::ALL {
            counts.errors[kind.index()] += c.errors_by_kind.get(&kind).copied().unwrap_or(0);
        }
        counts.cancelled += c.cancelled;
        counts.dropped += c.dropped;
        counts.late += c.late;
        counts.warmup += c.warmup_requests;
    }
    counts
}

/// Adds stored histograms (µs).
fn add_histograms<'a>(
    encoded: impl Iterator<Item = &'a str>,
) -> Result<Histogram<u64>, MergeError> {
    let mut total = crate::recorder::latency_histogram();
    for text in encoded {
        let h = histogram::decode(text)?;
        total
            .add(&h)
            .map_err(|e| MergeError::Add(format!("{e:?}")))?;
    }
    Ok(total)
}

/// Each class's statuses summed and its first three distinct messages, shard by shard.
fn error_details(parts: &[(u32, &CellSummary)]) -> BTreeMap<ErrorKind, ErrorDetail> {
    let mut all: BTreeMap<ErrorKind, ErrorDetail> = BTreeMap::new();
    for (_, c) in parts {
        for (kind, detail) in &c.error_details {
            let merged = all.entry(*kind).or_default();
            for (status, n) in &detail.statuses {
                *merged.statuses.entry(*status).or_insert(0) += n;
            }
            for m in &detail.messages {
                if merged.messages.len() < 3 && !merged.messages.contains(m) {
                    merged.messages.push(m.clone());
                }
            }
        }
    }
    all
}

/// One second of the merged series, while it is being added up.
struct Second {
    span_s: f64,
    ok: u64,
    errors: u64,
    latency: Histogram<u64>,
}

/// The per-second series summed on the common clock: second `s` of every shard is the same
/// second of the run, so its successes, errors and histograms add.
fn series(parts: &[(u32, &CellSummary)]) -> Result<(Vec<SecondStats>, Vec<String>), MergeError> {
    let mut seconds: BTreeMap<u32, Second> = BTreeMap::new();
    for (_, c) in parts {
        for (i, s) in c.series.iter().enumerate() {
            let second = seconds.entry(s.second).or_insert_with(|| Second {
                span_s: 0.0,
                ok: 0,
                errors: 0,
                latency: crate::recorder::latency_histogram(),
            });
            second.span_s = second.span_s.max(s.span_s);
            second.ok += (s.throughput_rps * s.span_s).round() as u64;
            second.errors += s.errors;
            if let Some(text) = c.series_histograms.get(i) {
                let h = histogram::decode(text)?;
                second
                    .latency
                    .add(&h)
                    .map_err(|e| MergeError::Add(format!("{e:?}")))?;
            }
        }
    }
    let q = |h: &Histogram<u64>, p: f64| {
        (!h.is_empty()).then(|| round3(h.value_at_quantile(p) as f64 / 1000.0))
    };
    Ok(seconds
        .into_iter()
        .map(|(second, s)| {
            let stats = SecondStats {
                second,
                span_s: s.span_s,
                throughput_rps: round3(s.ok as f64 / s.span_s.max(1e-9)),
                p50_ms: q(&s.latency, 0.5),
                p99_ms: q(&s.latency, 0.99),
                errors: s.errors,
            };
            (stats, histogram::encode(&s.latency))
        })
        .unzip())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(values_us: &[u64], errors: u64) -> CellSummary {
        let mut h = crate::recorder::latency_histogram();
        for v in values_us {
            h.record(*v).unwrap();
        }
        let mut c = CellSummary::for_tests(&h, errors, 2.0);
        c.errors_by_kind.insert(ErrorKind::Timeout, errors);
        c.series = vec![SecondStats {
            second: 0,
            span_s: 1.0,
            throughput_rps: values_us.len() as f64,
            p50_ms: None,
            p99_ms: None,
            errors,
        }];
        c.series_histograms = vec![histogram::encode(&h)];
        c
    }

    #[test]
    fn merging_adds_histograms_counts_and_seconds_exactly() {
        let a = part(&[1_000, 2_000, 3_000], 1);
        let b = part(&[10_000], 0);
        let load = Load::Closed { concurrency: 2 };
        let m = merge_cell(load, &[(0, &a), (1, &b)]).unwrap();
        assert_eq!((m.requests, m.ok, m.errors), (5, 4, 1));
        assert_eq!(m.errors_by_kind[&ErrorKind::Timeout], 1);
        assert_eq!(m.load, load);
        let h = histogram::decode(&m.histogram).unwrap();
        assert_eq!(h.len(), 4);
        assert_eq!(h.max(), b_max());
        assert_eq!(m.series.len(), 1);
        assert_eq!(m.series[0].throughput_rps, 4.0);
        assert_eq!(m.series[0].errors, 1);
        assert!(m.series[0].p99_ms.unwrap() >= 9.9);
        assert!(m.generator_bound_shards.is_empty());
        assert!(m.accounting_ok);
    }

    fn b_max() -> u64 {
        let mut h = crate::recorder::latency_histogram();
        h.record(10_000).unwrap();
        h.max()
    }

    #[test]
    fn a_generator_bound_shard_marks_the_merged_cell() {
        let a = part(&[1_000], 0);
        let mut b = part(&[1_000], 0);
        b.dropped = 3;
        let m = merge_cell(Load::Closed { concurrency: 2 }, &[(0, &a), (1, &b)]).unwrap();
        assert_eq!(m.generator_bound_shards, vec![1]);
        assert_eq!(m.dropped, 3);
    }

    fn streamed(replies: u64, mean_output: f64, ttft_us: &[u64]) -> TokenSummary {
        let mut ttft = crate::recorder::latency_histogram();
        for v in ttft_us {
            ttft.record(*v).unwrap();
        }
        let empty = histogram::encode(&crate::recorder::latency_histogram());
        TokenSummary {
            replies,
            output_tokens: (mean_output * replies as f64) as u64,
            input_tokens: 0,
            counted_from: CountedFrom::Usage,
            output_tokens_per_s: mean_output * replies as f64,
            total_tokens_per_s: mean_output * replies as f64,
            mean_request_tokens_per_s: 100.0,
            mean_output_tokens: mean_output,
            mean_input_tokens: 0.0,
            ttft: Percentiles::of(&ttft),
            itl: None,
            tpot: None,
            ttft_histogram: histogram::encode(&ttft),
            itl_histogram: empty.clone(),
            tpot_histogram: empty,
            series: vec![super::super::tokens::TokenSecondStats {
                second: 0,
                span_s: 1.0,
                output_tokens: (mean_output * replies as f64) as u64,
                output_tokens_per_s: mean_output * replies as f64,
                ttft_p50_ms: None,
                ttft_p99_ms: None,
                tpot_mean_ms: Some(mean_output),
                tpot_p50_ms: None,
                tpot_p99_ms: None,
                tpot_n: replies,
                itl_mean_ms: None,
                itl_p50_ms: None,
                itl_p99_ms: None,
                itl_n: 0,
            }],
            series_histograms: vec![histogram::encode(&second_ttft(ttft_us))],
            series_tpot_histograms: Vec::new(),
            series_itl_histograms: Vec::new(),
        }
    }

    fn second_ttft(values_us: &[u64]) -> Histogram<u64> {
        let mut h = Histogram::new_from(&crate::recorder::tokens::second_ttft_histogram());
        for v in values_us {
            h.record(*v).unwrap();
        }
        h
    }

    #[test]
    fn token_figures_merge_exactly() {
        let mut a = part(&[1_000, 2_000], 0);
        a.tokens = Some(streamed(2, 10.0, &[1_000, 2_000]));
        let mut b = part(&[5_000], 0);
        b.tokens = Some(streamed(1, 40.0, &[5_000]));
        let m = merge_cell(Load::Closed { concurrency: 2 }, &[(0, &a), (1, &b)]).unwrap();
        let t = m.tokens.expect("merged tokens");
        assert_eq!((t.replies, t.output_tokens), (3, 60));
        assert_eq!(t.mean_output_tokens, 20.0);
        assert_eq!(t.output_tokens_per_s, 60.0);
        let ttft = histogram::decode(&t.ttft_histogram).unwrap();
        assert_eq!(ttft.len(), 3);
        assert!(ttft.max() >= 5_000);
        assert_eq!(t.counted_from, CountedFrom::Usage);
        // The per-second token series adds up too: tokens summed, TTFT histograms added
        // (the p99 is shard b's 5 ms), mean TPOT weighted by replies: (2 × 10 + 40) / 3.
        assert_eq!(t.series.len(), 1);
        let s = &t.series[0];
        assert_eq!((s.output_tokens, s.output_tokens_per_s), (60, 60.0));
        assert_eq!((s.tpot_mean_ms, s.tpot_n), (Some(20.0), 3));
        assert!((4.5..=5.5).contains(&s.ttft_p99_ms.unwrap()), "{s:?}");
        assert!(s.ttft_p50_ms.unwrap() < 2.5, "{s:?}");
        assert_eq!(histogram::decode(&t.series_histograms[0]).unwrap().len(), 3);
    }
}
