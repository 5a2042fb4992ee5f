//! The statistics behind a verdict: the Mann–Whitney U test (exact by enumeration of the
//! rank-sum distribution for small samples, normal approximation with tie correction for
//! larger ones), a two-proportion z-test for error rates, and a seeded bootstrap interval
//! of the relative change of medians. Pure functions, no clock.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// Samples at or below this total are tested exactly; above it, by the normal approximation.
pub const EXACT_MAX_SAMPLES: usize = 50;

/// The result of a Mann–Whitney U test of two independent samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RankTest {
    /// U of the first sample (pairs where it is larger, ties counting one half).
    pub u: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// Whether `p` comes from the exact distribution (else the normal approximation).
    pub exact: bool,
}

/// Mann–Whitney U of `a` against `b`; `None` when either is empty.
pub fn mann_whitney(a: &[f64], b: &[f64]) -> Option<RankTest> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let doubled = doubled_ranks(a, b);
    let (n, m) = (a.len() as u64, b.len() as u64);
    let rank_sum2: u64 = doubled[..a.len()].iter().sum();
    let u = rank_sum2 as f64 / 2.0 - (n * (n + 1)) as f64 / 2.0;
    let exact = a.len() + b.len() <= EXACT_MAX_SAMPLES;
    let p = if exact {
        exact_p(&doubled, a.len(), rank_sum2)
    } else {
        normal_p(u, n as f64, m as f64, tie_term(&doubled))
    };
    Some(RankTest { u, p, exact })
}

/// Twice the mid-ranks (so they stay integers) of `a` then `b` in the pooled order.
fn doubled_ranks(a: &[f64], b: &[f64]) -> Vec<u64> {
    let pooled: Vec<f64> = a.iter().chain(b).copied().collect();
    let mut order: Vec<usize> = (0..pooled.len()).collect();
    order.sort_by(|&i, &j| pooled[i].total_cmp(&pooled[j]));
    let mut ranks = vec![0u64; pooled.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && pooled[order[end + 1]] == pooled[order[start]] {
            end += 1;
        }
        // 1-based ranks start+1 ..= end+1; their mean, doubled, is (start + end + 2).
        for &i in &order[start..=end] {
            ranks[i] = (start + end + 2) as u64;
        }
        start = end + 1;
    }
    ranks
}

/// P(|R − E| ≥ |observed − E|) over every way of drawing `n` of the pooled (doubled) ranks.
fn exact_p(doubled: &[u64], n: usize, observed: u64) -> f64 {
    let total: u64 = doubled.iter().sum();
    // ways[j][s]: subsets of size j whose doubled rank sum is s.
    let mut ways = vec![vec![0f64; total as usize + 1]; n + 1];
    ways[0][0] = 1.0;
    for &r in doubled {
        for j in (0..n).rev() {
            let (lower, upper) = ways.split_at_mut(j + 1);
            for (s, &w) in lower[j].iter().enumerate() {
                if w > 0.0 && s + (r as usize) <= total as usize {
                    upper[0][s + r as usize] += w;
                }
            }
        }
    }
    let expected = (n as u64 * (doubled.len() as u64 + 1)) as f64;
    let dev = (observed as f64 - expected).abs();
    let all: f64 = ways[n].iter().sum();
    let tail: f64 = ways[n]
        .iter()
        .enumerate()
        .filter(|(s, _)| (*s as f64 - expected).abs() >= dev - 1e-9)
        .map(|(_, w)| w)
        .sum();
    (tail / all).min(1.0)
}

/// Σ(t³ − t) over groups of tied values.
fn tie_term(doubled: &[u64]) -> f64 {
    let mut sorted = doubled.to_vec();
    sorted.sort_unstable();
    sorted
        .chunk_by(|x, y| x == y)
        .map(|g| {
            let t = g.len() as f64;
            t * t * t - t
        })
        .sum()
}

/// Two-sided p of U under the normal approximation, tie-corrected, with continuity correction.
fn normal_p(u: f64, n: f64, m: f64, ties: f64) -> f64 {
    let total = n + m;
    let var = n * m / 12.0 * ((total + 1.0) - ties / (total * (total - 1.0)));
    if var <= 0.0 {
        return 1.0;
    }
    let z = ((u - n * m / 2.0).abs() - 0.5).max(0.0) / var.sqrt();
    two_sided(z)
}

/// Two-sided tail of the standard normal beyond |z|.
pub fn two_sided(z: f64) -> f64 {
    erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0)
}

/// Complementary error function (Numerical Recipes `erfcc`, relative error < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Two-sided p of a two-proportion z-test: `errors_a / n_a` vs `errors_b / n_b`.
/// 1 when there is nothing to test (no requests, or a pooled rate of 0 or 1).
pub fn two_proportion_p(errors_a: u64, n_a: u64, errors_b: u64, n_b: u64) -> f64 {
    if n_a == 0 || n_b == 0 {
        return 1.0;
    }
    let (na, nb) = (n_a as f64, n_b as f64);
    let pooled = (errors_a + errors_b) as f64 / (na + nb);
    let se = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    if se <= 0.0 {
        return 1.0;
    }
    two_sided((errors_b as f64 / nb - errors_a as f64 / na) / se)
}

/// Median; `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// Resamples drawn by [`bootstrap_change`].
pub const BOOTSTRAP_RESAMPLES: usize = 2000;

/// A `level` (e.g. 0.99) percentile-bootstrap interval of median(cur) / median(base) − 1,
/// from [`BOOTSTRAP_RESAMPLES`] seeded resamples; `None` when a side is empty or a median is 0.
pub fn bootstrap_change(base: &[f64], cur: &[f64], level: f64, seed: u64) -> Option<(f64, f64)> {
    if base.is_empty() || cur.is_empty() {
        return None;
    }
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let mut changes = Vec::with_capacity(BOOTSTRAP_RESAMPLES);
    let resample = |values: &[f64], rng: &mut Pcg64Mcg| {
        let drawn: Vec<f64> = (0..values.len())
            .map(|_| values[rng.random_range(0..values.len())])
            .collect();
        median(&drawn).unwrap_or(0.0)
    };
    for _ in 0..BOOTSTRAP_RESAMPLES {
        let b = resample(base, &mut rng);
        let c = resample(cur, &mut rng);
        if b != 0.0 {
            changes.push(c / b - 1.0);
        }
    }
    if changes.is_empty() {
        return None;
    }
    changes.sort_by(f64::total_cmp);
    let at = |q: f64| changes[((changes.len() - 1) as f64 * q).round() as usize];
    let tail = (1.0 - level) / 2.0;
    Some((at(tail), at(1.0 - tail)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn complete_separation_of_three_is_p_one_tenth() {
        // Two of the C(6,3) = 20 splits are as extreme: p = 2/20.
        let t = mann_whitney(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]).unwrap();
        assert_eq!(t.u, 0.0);
        assert!(t.exact && close(t.p, 0.1, 1e-12), "{t:?}");
    }

    #[test]
    fn complete_separation_of_five_is_below_one_percent() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [6.0, 7.0, 8.0, 9.0, 10.0];
        let t = mann_whitney(&b, &a).unwrap();
        assert_eq!(t.u, 25.0);
        assert!(close(t.p, 2.0 / 252.0, 1e-12), "{t:?}");
    }

    #[test]
    fn ties_use_mid_ranks_in_the_exact_distribution() {
        // Pooled 1,2,2,2,3,4: mid-ranks 1,3,3,3,5,6; a = {1,2,2} has U = 1.
        // Of the 20 splits, 6 have a rank sum at least as far from 10.5 as a's (7): p = 0.3.
        let t = mann_whitney(&[1.0, 2.0, 2.0], &[2.0, 3.0, 4.0]).unwrap();
        assert_eq!(t.u, 1.0);
        assert!(close(t.p, 0.3, 1e-12), "{t:?}");
    }

    #[test]
    fn identical_samples_are_not_different() {
        let t = mann_whitney(&[5.0; 6], &[5.0; 6]).unwrap();
        assert!(close(t.p, 1.0, 1e-12), "{t:?}");
        assert!(mann_whitney(&[], &[1.0]).is_none());
    }

    #[test]
    fn normal_approximation_matches_hand_computation() {
        // n = m = 5, U = 0: z = (12.5 − 0.5) / sqrt(25·11/12) = 2.5067, p = 0.01219.
        assert!(close(normal_p(0.0, 5.0, 5.0, 0.0), 0.012_19, 2e-5));
        assert!(close(two_sided(1.959_964), 0.05, 1e-6));
        // Large samples shifted by half a spread: far below 1 %.
        let a: Vec<f64> = (0..40).map(f64::from).collect();
        let b: Vec<f64> = (20..60).map(f64::from).collect();
        let t = mann_whitney(&a, &b).unwrap();
        assert!(!t.exact && t.p < 1e-4, "{t:?}");
    }

    #[test]
    fn exact_and_normal_agree_roughly_at_the_switch() {
        let a: Vec<f64> = (0..25).map(|i| f64::from(i) * 1.3).collect();
        let b: Vec<f64> = (0..25).map(|i| f64::from(i) * 1.3 + 6.0).collect();
        let exact = mann_whitney(&a, &b).unwrap();
        let doubled = doubled_ranks(&a, &b);
        let normal = normal_p(exact.u, 25.0, 25.0, tie_term(&doubled));
        assert!(exact.exact);
        assert!(close(exact.p, normal, 0.01), "{} vs {normal}", exact.p);
    }

    #[test]
    fn two_proportions() {
        assert_eq!(two_proportion_p(0, 1000, 0, 1000), 1.0);
        assert!(two_proportion_p(1, 1000, 40, 1000) < 1e-6);
        assert!(two_proportion_p(10, 1000, 12, 1000) > 0.5);
    }

    #[test]
    fn bootstrap_brackets_the_change_and_is_seeded() {
        let base = [10.0, 10.5, 9.8, 10.2, 10.1, 9.9];
        let cur: Vec<f64> = base.iter().map(|v| v * 1.3).collect();
        let (lo, hi) = bootstrap_change(&base, &cur, 0.99, 7).unwrap();
        assert!(lo > 0.2 && hi < 0.4 && lo <= 0.3 && hi >= 0.3, "{lo} {hi}");
        assert_eq!(bootstrap_change(&base, &cur, 0.99, 7), Some((lo, hi)));
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), Some(2.5));
    }
}
