//! Ordering candidates: the cost ranking (ties broken by latency), the cost–latency Pareto
//! frontier, and the nearest miss when nothing is feasible.

use super::{Candidate, NearestMiss, Reason};
use std::cmp::Ordering;

/// Which of `points` (cost, latency) no other point dominates: another point is at most as
/// costly and at most as slow, and strictly better in one. Equal points are all on it.
pub fn pareto(points: &[(f64, f64)]) -> Vec<bool> {
    points
        .iter()
        .map(|&(cost, latency)| {
            !points
                .iter()
                .any(|&(c, l)| c <= cost && l <= latency && (c < cost || l < latency))
        })
        .collect()
}

/// Costs within a billionth of each other are a tie; no cost (infinite: unpriced) comes
/// after every price.
fn cost_order(a: f64, b: f64) -> Ordering {
    if a.is_finite() != b.is_finite() {
        a.total_cmp(&b)
    } else if a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()) {
        Ordering::Equal
    } else {
        a.total_cmp(&b)
    }
}

/// How far a candidate is from feasible: the worst measured/limit ratio of its reasons
/// (1.25 = 25 % over); infinite for reasons no load level fixes (payload, price).
pub fn miss_ratio(reasons: &[Reason]) -> f64 {
    reasons.iter().map(Reason::miss_ratio).fold(0.0, f64::max)
}

/// Feasible candidates first, cheapest first, ties by lower SLA latency, then by name;
/// infeasible ones after, nearest miss first.
fn compare(a: &Candidate, b: &Candidate) -> Ordering {
    let key = |c: &Candidate| (c.hosting, c.variant.clone(), c.payload_bytes);
    match (a.feasible(), b.feasible()) {
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (true, true) => cost_order(a.ranking_cost(), b.ranking_cost())
            .then_with(|| a.sla_latency().total_cmp(&b.sla_latency()))
            .then_with(|| key(a).cmp(&key(b))),
        (false, false) => miss_ratio(a.reasons())
            .total_cmp(&miss_ratio(b.reasons()))
            .then_with(|| key(a).cmp(&key(b))),
    }
}

/// Sorts candidates (feasible cheapest first, ties by latency; then infeasible nearest
/// first), numbers the feasible ones from 1 and marks the frontier.
pub fn rank(candidates: &mut [Candidate]) {
    candidates.sort_by(compare);
    let feasible: Vec<usize> = (0..candidates.len())
        .filter(|&i| candidates[i].feasible())
        .collect();
    let points: Vec<(f64, f64)> = feasible
        .iter()
        .map(|&i| (candidates[i].ranking_cost(), candidates[i].sla_latency()))
        .collect();
    for (n, (&i, on)) in feasible.iter().zip(pareto(&points)).enumerate() {
        candidates[i].rank = Some(n + 1);
        candidates[i].on_frontier = on;
    }
}

/// The infeasible candidate closest to feasible, explained; `None` when any is feasible or
/// there are none. Expects candidates ordered by [`rank`].
pub fn nearest_miss(candidates: &[Candidate]) -> Option<NearestMiss> {
    if candidates.iter().any(Candidate::feasible) {
        return None;
    }
    let first = candidates.first()?;
    let reasons: Vec<String> = first.reasons().iter().map(ToString::to_string).collect();
    let ratio = miss_ratio(first.reasons());
    let closeness = if ratio.is_finite() {
        format!(
            " ({:.0}% over the nearest limit)",
            (ratio - 1.0).max(0.0) * 100.0
        )
    } else {
        String::new()
    };
    Some(NearestMiss {
        candidate: 0,
        explanation: format!(
            "nothing meets the SLA; closest is {}{closeness}: {}",
            first.label(),
            reasons.join("; ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dominated_points_are_off_the_frontier() {
        let points = [
            (1.0, 100.0),
            (2.0, 50.0),
            (2.0, 60.0),
            (3.0, 50.0),
            (0.5, 200.0),
            (1.0, 100.0),
        ];
        assert_eq!(pareto(&points), vec![true, true, false, false, true, true]);
        assert_eq!(pareto(&[]), Vec::<bool>::new());
    }

    #[test]
    fn near_equal_costs_tie() {
        assert_eq!(cost_order(1.0, 1.0 + 1e-12), Ordering::Equal);
        assert_eq!(cost_order(1.0, 1.01), Ordering::Less);
        assert_eq!(cost_order(1.0, f64::INFINITY), Ordering::Less);
        assert_eq!(cost_order(f64::INFINITY, f64::INFINITY), Ordering::Equal);
    }
}
