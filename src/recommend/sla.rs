//! Typed SLA evaluation of one cell: the measured percentile latency and error rate against
//! the `[sla]` limits, every reason it fails, and whether there were enough samples to trust
//! the percentile.
//!
//! Confidence rule: a percentile `p` is trusted when at least 10 successful responses lie
//! beyond it, i.e. the cell has at least `ceil(10 / (1 − p/100))` of them (p50: 20, p90: 100,
//! p99: 1,000, p99.9: 10,000). Fewer makes the verdict *low confidence*, never a failure.

use crate::domain::{Quantile, Sla};
use crate::results::CellSummary;
use serde::{Deserialize, Serialize};

/// Responses that must lie beyond the percentile for it to be trusted.
const TAIL_SAMPLES: f64 = 10.0;

/// One reason a cell does not meet the SLA.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SlaFailure {
    /// The percentile latency is over the limit.
    #[error("{percentile} {measured_ms} ms over the {limit_ms} ms limit")]
    LatencyOverLimit {
        /// The SLA percentile.
        percentile: Quantile,
        /// Measured latency at it, ms.
        measured_ms: f64,
        /// The limit, ms.
        limit_ms: f64,
    },
    /// Too many requests failed.
    #[error("error rate {:.3}% over the {:.3}% limit", error_rate * 100.0, limit * 100.0)]
    ErrorsOverLimit {
        /// errors / requests.
        error_rate: f64,
        /// The limit.
        limit: f64,
    },
    /// Nothing succeeded, so there is no latency to judge.
    #[error("no successful responses")]
    NoSuccessfulResponses,
    /// Responses succeeded but the stored histogram could not be read.
    #[error("latency histogram unreadable; rerun the cell")]
    LatencyUnknown,
    /// The open-loop generator dropped arrivals: the load asked for was not applied.
    #[error("generator-bound: {dropped} arrivals dropped; raise `max_in_flight` or lower the rate")]
    GeneratorBound {
        /// Arrivals not sent.
        dropped: u64,
    },
    /// A token limit (TTFT, TPOT) is broken, or cannot be judged.
    #[error("{0}")]
    Tokens(super::token_sla::TokenMiss),
    /// The open loop's completions fell behind its arrivals: the target cannot keep up.
    #[error(
        "saturated: {completed_rps} req/s completed against {target_rps} req/s asked; the load exceeds capacity"
    )]
    Saturated {
        /// Answers completed inside the window per second.
        completed_rps: f64,
        /// The open loop's rate.
        target_rps: f64,
    },
}

/// The SLA verdict of one cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlaVerdict {
    /// The SLA percentile.
    pub percentile: Quantile,
    /// Measured latency at that percentile, ms; `None` without successful responses.
    pub latency_ms: Option<f64>,
    /// errors / requests.
    pub error_rate: f64,
    /// Successful responses the percentile was read from.
    pub samples: u64,
    /// Successful responses needed to trust the percentile (see the module doc).
    pub min_samples: u64,
    /// Why the SLA does not hold; empty when it does.
    pub failures: Vec<SlaFailure>,
}

impl SlaVerdict {
    /// Whether the SLA holds.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// Whether the percentile rests on fewer samples than the confidence rule asks for.
    pub fn low_confidence(&self) -> bool {
        self.samples < self.min_samples
    }
}

/// Successful responses needed to trust percentile `p` (0 < p < 100): `ceil(10 / (1 − p/100))`.
/// `u64::MAX` for p ≥ 100, which no sample count supports.
pub fn min_samples(percentile: Quantile) -> u64 {
    let tail_percent = 100.0 - percentile.percent();
    if tail_percent <= 0.0 || tail_percent.is_nan() {
        return u64::MAX;
    }
    let needed = TAIL_SAMPLES * 100.0 / tail_percent;
    // Absorb float noise so p99.9 needs 10,000 rather than 10,001.
    (needed - needed * 1e-9).ceil() as u64
}

/// The SLA a cell of `hosting` is held to. A batch transform job answers no live requests,
/// so its latency limit is the invocation timeout (3600 s) rather than the online one; its
/// error limit stays.
pub fn for_hosting(sla: &Sla, hosting: Option<crate::domain::Hosting>) -> Sla {
    match hosting {
        Some(h @ crate::domain::Hosting::Batch) => Sla {
            latency_ms: h.max_processing_time().as_secs_f64() * 1000.0,
            ..*sla
        },
        _ => *sla,
    }
}

/// Judges one cell against the SLA.
pub fn check(cell: &CellSummary, sla: &Sla) -> SlaVerdict {
    let latency_ms = measured_latency(cell, sla.percentile);
    let mut failures = Vec::new();
    match latency_ms {
        _ if cell.ok == 0 => failures.push(SlaFailure::NoSuccessfulResponses),
        None => failures.push(SlaFailure::LatencyUnknown),
        Some(ms) if ms > sla.latency_ms => failures.push(SlaFailure::LatencyOverLimit {
            percentile: sla.percentile,
            measured_ms: ms,
            limit_ms: sla.latency_ms,
        }),
        Some(_) => {}
    }
    if cell.error_rate > sla.max_error_rate {
        failures.push(SlaFailure::ErrorsOverLimit {
            error_rate: cell.error_rate,
            limit: sla.max_error_rate,
        });
    }
    if cell.dropped > 0 {
        failures.push(SlaFailure::GeneratorBound {
            dropped: cell.dropped,
        });
    }
    if let (true, crate::domain::Load::Open { rate, .. }) = (cell.saturated, cell.load) {
        failures.push(SlaFailure::Saturated {
            completed_rps: cell.throughput_rps,
            target_rps: rate,
        });
    }
    failures.extend(
        super::token_sla::check(cell, sla)
            .into_iter()
            .map(SlaFailure::Tokens),
    );
    SlaVerdict {
        percentile: sla.percentile,
        latency_ms,
        error_rate: cell.error_rate,
        samples: cell.ok,
        min_samples: min_samples(sla.percentile),
        failures,
    }
}

/// The latency at a percentile: from the histogram, else from the stored figures when the
/// percentile is one of them.
fn measured_latency(cell: &CellSummary, percentile: Quantile) -> Option<f64> {
    if cell.ok == 0 {
        return None;
    }
    cell.latency_at(percentile).or_else(|| {
        let l = cell.latency.as_ref()?;
        let stored = [
            (50.0, l.p50_ms),
            (90.0, l.p90_ms),
            (95.0, l.p95_ms),
            (99.0, l.p99_ms),
            (99.9, l.p999_ms),
        ];
        stored
            .iter()
            .find(|(p, _)| *p == percentile.percent())
            .map(|(_, ms)| *ms)
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn q(p: f64) -> Quantile {
        Quantile::new(p).unwrap()
    }

    /// A cell with `ok` responses of the given latencies (ms) spread evenly, `errors` failures.
    pub(crate) fn cell(latencies_ms: &[f64], ok: u64, errors: u64) -> CellSummary {
        let mut h = crate::recorder::latency_histogram();
        for i in 0..ok {
            let ms = latencies_ms[(i as usize) % latencies_ms.len()];
            h.record((ms * 1000.0) as u64).unwrap();
        }
        let requests = ok + errors;
        CellSummary {
            deployment: Default::default(),
            errors_by_kind: Default::default(),
            bytes_out: 1024 * requests,
            bytes_in: 100 * requests,
            ..CellSummary::for_tests(&h, errors, 10.0)
        }
    }

    /// Within HdrHistogram's 3-digit precision.
    pub(crate) fn close(measured: Option<f64>, ms: f64) -> bool {
        measured.is_some_and(|m| (m - ms).abs() <= ms * 1e-3)
    }

    const SLA: Sla = Sla {
        percentile: Quantile::P99,
        latency_ms: 100.0,
        max_error_rate: 0.01,
        ttft_ms: None,
        tpot_ms: None,
    };

    #[test]
    fn passes_under_the_limits() {
        let v = check(&cell(&[10.0], 1000, 0), &SLA);
        assert!(v.passed(), "{v:?}");
        assert!(close(v.latency_ms, 10.0), "{v:?}");
        assert!(!v.low_confidence());
    }

    #[test]
    fn latency_is_read_at_the_sla_percentile_from_the_histogram() {
        // 98 % at 10 ms, 2 % at 200 ms: p95 passes, p99 fails.
        let mut lat = vec![10.0; 98];
        lat.extend([200.0, 200.0]);
        let c = cell(&lat, 1000, 0);
        assert!(
            check(
                &c,
                &Sla {
                    percentile: Quantile::new(95.0).unwrap(),
                    ..SLA
                }
            )
            .passed()
        );
        let v = check(&c, &SLA);
        assert!(close(v.latency_ms, 200.0), "{v:?}");
        assert!(matches!(
            v.failures[..],
            [SlaFailure::LatencyOverLimit {
                limit_ms: 100.0,
                ..
            }]
        ));
    }

    #[test]
    fn errors_generator_bound_and_empty_cells_fail() {
        let v = check(&cell(&[10.0], 980, 20), &SLA);
        assert!(matches!(
            v.failures[..],
            [SlaFailure::ErrorsOverLimit { .. }]
        ));
        let mut dropped = cell(&[10.0], 1000, 0);
        dropped.dropped = 3;
        assert_eq!(
            check(&dropped, &SLA).failures,
            vec![SlaFailure::GeneratorBound { dropped: 3 }]
        );
        let mut saturated = cell(&[10.0], 1000, 0);
        saturated.saturated = true;
        saturated.load = crate::domain::Load::Open {
            rate: 100.0,
            arrivals: crate::domain::Arrivals::Constant,
            max_in_flight: 1000,
        };
        let failures = check(&saturated, &SLA).failures;
        assert!(
            matches!(failures[..], [SlaFailure::Saturated { target_rps, .. }] if target_rps == 100.0),
            "{failures:?}"
        );
        assert!(failures[0].to_string().contains("exceeds capacity"));
        let v = check(&cell(&[10.0], 0, 5), &SLA);
        assert_eq!(v.latency_ms, None);
        assert_eq!(v.failures[0], SlaFailure::NoSuccessfulResponses);
    }

    #[test]
    fn few_samples_are_low_confidence_not_failure() {
        let v = check(&cell(&[10.0], 999, 0), &SLA);
        assert!(v.passed() && v.low_confidence());
        assert_eq!(min_samples(q(99.0)), 1000);
        assert_eq!(min_samples(q(99.9)), 10_000);
        assert_eq!(min_samples(q(50.0)), 20);
        assert_eq!(min_samples(q(95.0)), 200);
        assert_eq!(min_samples(q(100.0)), u64::MAX);
    }

    #[test]
    fn unreadable_histogram_falls_back_to_stored_percentiles() {
        let mut c = cell(&[10.0], 1000, 0);
        c.histogram = "not base64!".into();
        assert_eq!(check(&c, &SLA).latency_ms, c.latency.map(|l| l.p99_ms));
        assert_eq!(
            check(
                &c,
                &Sla {
                    percentile: Quantile::new(97.0).unwrap(),
                    ..SLA
                }
            )
            .failures,
            vec![SlaFailure::LatencyUnknown]
        );
    }
}
