//! Adaptive sweep: which cell of a load grid to measure next. Per candidate (variant and
//! payload size) the top load level is probed first; when it misses the SLA, a bisection over
//! the lower levels finds the highest one that meets it. A candidate billed per instance
//! whose throughput at a missing level would still cost more than the cheapest feasible
//! candidate found so far is not probed further. Pure state; the runner measures the cells.
//!
//! Assumes what a closed or open loop shows in practice: throughput does not fall, and the
//! SLA does not start to hold again, as the load rises.

use crate::plan::{Cell, Load};

/// One candidate's load levels, lowest first, and what probing them found.
#[derive(Clone, Debug)]
pub struct Ladder {
    /// The grid's cells for this candidate, lowest load first.
    pub cells: Vec<Cell>,
    /// Highest level index known to meet the SLA.
    passed: Option<usize>,
    /// Lowest level index known to miss it, and the throughput measured there.
    failed: Option<(usize, f64)>,
    /// Nothing more is worth probing (pruned, or a limit no load changes).
    settled: bool,
    /// Cells measured for it.
    pub probes: u32,
}

/// Groups `cells` (in plan order) into one ladder per variant and payload size, in the
/// order the candidates first appear.
pub fn ladders(cells: &[Cell]) -> Vec<Ladder> {
    let mut out: Vec<Ladder> = Vec::new();
    for cell in cells {
        let same = |l: &&mut Ladder| {
            l.cells[0].variant == cell.variant && l.cells[0].payload_bytes == cell.payload_bytes
        };
        match out.iter_mut().find(same) {
            Some(ladder) => ladder.cells.push(cell.clone()),
            None => out.push(Ladder {
                cells: vec![cell.clone()],
                passed: None,
                failed: None,
                settled: false,
                probes: 0,
            }),
        }
    }
    for ladder in &mut out {
        ladder
            .cells
            .sort_by(|a, b| a.load.level().total_cmp(&b.load.level()));
    }
    out
}

impl Ladder {
    /// Index of the next level to probe, or `None` when this candidate is done.
    pub fn next(&self) -> Option<usize> {
        if self.settled {
            return None;
        }
        let top = self.cells.len() - 1;
        match (self.passed, self.failed) {
            (None, None) => Some(top),
            (Some(_), None) => None,
            (None, Some((0, _))) => None,
            (None, Some((f, _))) => Some((f - 1) / 2),
            (Some(p), Some((f, _))) => (f - p > 1).then_some((p + f) / 2),
        }
    }

    /// Records that level `index` met the SLA or not, with its measured throughput.
    pub fn record(&mut self, index: usize, passed: bool, throughput_rps: f64) {
        self.probes += 1;
        if passed {
            self.passed = Some(self.passed.map_or(index, |p| p.max(index)));
        } else if self.failed.is_none_or(|(f, _)| index < f) {
            self.failed = Some((index, throughput_rps));
        }
    }

    /// Stops probing this candidate.
    pub fn settle(&mut self) {
        self.settled = true;
    }

    /// Whether it was ever probed.
    pub fn started(&self) -> bool {
        self.probes > 0
    }

    /// The lowest load that missed the SLA and the throughput measured there, which bounds
    /// what any lower load sustains; `None` while nothing has missed.
    pub fn ceiling(&self) -> Option<(&Load, f64)> {
        self.failed.map(|(f, rps)| (&self.cells[f].load, rps))
    }

    /// The highest level that met the SLA, if any.
    pub fn passed(&self) -> Option<&Cell> {
        self.passed.map(|p| &self.cells[p])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Variant;
    use std::time::Duration;

    fn ladder(concurrency: &[u32]) -> Ladder {
        let cells: Vec<Cell> = concurrency
            .iter()
            .enumerate()
            .map(|(index, &c)| Cell {
                index,
                variant: Variant {
                    hosting: None,
                    instance: None,
                },
                payload_bytes: 1024,
                load: Load::Closed { concurrency: c },
                duration: Duration::from_secs(1),
                warmup: Duration::ZERO,
                timeout: Duration::from_secs(1),
                repeat: 1,
            })
            .collect();
        ladders(&cells).remove(0)
    }

    /// Probes a ladder whose levels up to `limit` meet the SLA; returns the levels probed.
    fn probe_until_done(ladder: &mut Ladder, limit: u32) -> Vec<f64> {
        let mut probed = Vec::new();
        while let Some(i) = ladder.next() {
            let l = ladder.cells[i].load.level();
            probed.push(l);
            ladder.record(i, l <= f64::from(limit), l * 10.0);
        }
        probed
    }

    #[test]
    fn a_passing_top_level_ends_the_candidate_at_once() {
        let mut l = ladder(&[1, 4, 8, 16]);
        assert_eq!(probe_until_done(&mut l, 64), vec![16.0]);
        assert_eq!(l.passed().unwrap().load.level(), 16.0);
    }

    #[test]
    fn a_failing_top_level_bisects_to_the_grid_answer() {
        for limit in [0, 1, 4, 8, 12] {
            let mut l = ladder(&[16, 1, 8, 4]);
            let probed = probe_until_done(&mut l, limit);
            let grid_answer = [1, 4, 8, 16].into_iter().filter(|&c| c <= limit).max();
            let found = l.passed().map(|c| c.load.level() as u32);
            assert_eq!(found, grid_answer, "limit {limit}, probed {probed:?}");
            assert!(probed.len() <= 3, "{probed:?}");
        }
    }

    #[test]
    fn the_ceiling_is_the_lowest_failure_and_its_throughput() {
        let mut l = ladder(&[1, 2, 4, 8, 16, 32]);
        probe_until_done(&mut l, 5);
        let (load, rps) = l.ceiling().unwrap();
        assert_eq!(*load, Load::Closed { concurrency: 8 });
        assert_eq!(rps, 80.0);
    }

    #[test]
    fn a_settled_ladder_asks_for_nothing() {
        let mut l = ladder(&[1, 4]);
        l.settle();
        assert_eq!(l.next(), None);
    }
}
