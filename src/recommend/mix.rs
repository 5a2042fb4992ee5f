//! The payload mix (`[traffic] payload_mix`): one instance's capacity and latency when its
//! requests split over several payload sizes.
//!
//! - **Capacity** is the time-share combination `1 / Σ(wᵢ / rpsᵢ)`: serving a mix of
//!   requests, an instance spends `wᵢ / rpsᵢ` seconds per request on size i, where `rpsᵢ` is
//!   what it sustains on size i alone.
//! - **Latency** at the SLA percentile is read off one histogram of the mix: each size's
//!   response-time histogram (at its operating point) is rescaled to carry mass `wᵢ` — every
//!   recorded value is recorded again with `count × wᵢ × 10⁹ / totalᵢ` counts — and the
//!   rescaled histograms are added. A request of the mix is then of size i with probability
//!   `wᵢ`, and its response time is distributed as size i's: the mixture distribution,
//!   within HdrHistogram's precision.

use crate::domain::Quantile;
use hdrhistogram::Histogram;

/// Counts each size's histogram is rescaled to before adding (× its weight).
const MIX_MASS: f64 = 1e9;

/// Requests per second an instance sustains on the mix: `1 / Σ(wᵢ / rpsᵢ)` over
/// `(weight, rps)` pairs (weights normalised here); 0 when any weighted size has no
/// capacity.
pub fn mix_capacity(shares: &[(f64, f64)]) -> f64 {
    let total: f64 = shares.iter().map(|(w, _)| w).sum();
    if total <= 0.0 {
        return 0.0;
    }
    let seconds_per_request: f64 = shares
        .iter()
        .filter(|(w, _)| *w > 0.0)
        .map(|(w, rps)| (w / total) / rps)
        .sum();
    if seconds_per_request.is_finite() && seconds_per_request > 0.0 {
        1.0 / seconds_per_request
    } else {
        0.0
    }
}

/// The mixture of `(weight, histogram)` parts: each part rescaled to its weight, then added.
pub fn mix_histogram(parts: &[(f64, &Histogram<u64>)]) -> Histogram<u64> {
    let mut mixed = crate::recorder::latency_histogram();
    let total: f64 = parts.iter().map(|(w, _)| w).sum();
    for (w, h) in parts {
        if *w <= 0.0 || h.is_empty() || total <= 0.0 {
            continue;
        }
        let scale = w / total * MIX_MASS / h.len() as f64;
        for v in h.iter_recorded() {
            let n = (v.count_at_value() as f64 * scale).round() as u64;
            if n > 0 {
                // Values come from a histogram of the same bounds: they fit.
                let _ = mixed.record_n(v.value_iterated_to(), n);
            }
        }
    }
    mixed
}

/// The mixture's latency at `percentile`, ms; `None` when no part has a sample.
pub fn mix_percentile(parts: &[(f64, &Histogram<u64>)], percentile: Quantile) -> Option<f64> {
    let h = mix_histogram(parts);
    (!h.is_empty()).then(|| h.value_at_quantile(percentile.fraction()) as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(values_ms: &[(f64, u64)]) -> Histogram<u64> {
        let mut h = crate::recorder::latency_histogram();
        for (ms, n) in values_ms {
            h.record_n((ms * 1000.0) as u64, *n).unwrap();
        }
        h
    }

    #[test]
    fn capacity_is_the_time_share_combination() {
        // 80 % at 100 rps, 20 % at 25 rps: 0.8/100 + 0.2/25 = 0.008 + 0.008 = 0.016 s → 62.5 rps.
        assert!((mix_capacity(&[(0.8, 100.0), (0.2, 25.0)]) - 62.5).abs() < 1e-9);
        // Unnormalised weights are normalised: 4:1 is 0.8/0.2.
        assert!((mix_capacity(&[(4.0, 100.0), (1.0, 25.0)]) - 62.5).abs() < 1e-9);
        // One size alone is its own capacity; a size without capacity leaves none.
        assert_eq!(mix_capacity(&[(1.0, 40.0)]), 40.0);
        assert_eq!(mix_capacity(&[(0.5, 40.0), (0.5, 0.0)]), 0.0);
        // A zero weight does not count.
        assert_eq!(mix_capacity(&[(1.0, 40.0), (0.0, 0.0)]), 40.0);
    }

    #[test]
    fn percentile_comes_from_the_weighted_histograms() {
        // Small: 1,000 responses at 10 ms. Large: 100 responses, 50 at 100 ms and 50 at 300 ms.
        let small = hist(&[(10.0, 1000)]);
        let large = hist(&[(100.0, 50), (300.0, 50)]);
        let q = |p| Quantile::new(p).unwrap();
        // Mix 0.8 / 0.2: 80 % at 10 ms, 10 % at 100 ms, 10 % at 300 ms, whatever the
        // sample counts: p80 = 10 ms, p85 = 100 ms, p95 = 300 ms.
        let parts = [(0.8, &small), (0.2, &large)];
        let near = |got: Option<f64>, ms: f64| got.is_some_and(|g| (g - ms).abs() <= ms * 1e-3);
        assert!(near(mix_percentile(&parts, q(80.0)), 10.0));
        assert!(near(mix_percentile(&parts, q(85.0)), 100.0));
        assert!(near(mix_percentile(&parts, q(95.0)), 300.0));
        // Mix 0.95 / 0.05: p95 is still small, p99 is in the large size's upper half.
        let parts = [(0.95, &small), (0.05, &large)];
        assert!(near(mix_percentile(&parts, q(95.0)), 10.0));
        assert!(near(mix_percentile(&parts, q(99.0)), 300.0));
        // Unweighted sample counts would say p99 = 300 ms for 0.8/0.2 too, but also p90 =
        // 10 ms (1,000 of 1,100); the mix says p90 = 100 ms.
        let parts = [(0.8, &small), (0.2, &large)];
        assert!(near(mix_percentile(&parts, q(90.0)), 100.0));
        assert_eq!(mix_percentile(&[], q(99.0)), None);
    }
}
