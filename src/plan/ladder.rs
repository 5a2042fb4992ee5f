//! Adaptive probing: which cell to measure next for each candidate (variant and payload
//! size). Over a grid's levels, the top level first; when it misses the SLA, a bisection
//! over the lower levels finds the highest one that meets it. Over a search's range, the
//! [`Search`] state machine. Either way, the lowest load that missed and its throughput
//! are kept: no lower load sustains more, which bounds what the candidate can cost, so the
//! runner can stop probing candidates that cannot beat the cheapest feasible one. Pure
//! state; the runner measures the cells.
//!
//! Assumes what a closed or open loop shows in practice: throughput does not fall, and the
//! SLA does not start to hold again, as the load rises.

use crate::domain::Deployment;
use crate::domain::Load;
use crate::plan::search::{Found, Search};
use crate::plan::{Cell, SearchTask};

/// The loads one candidate may be probed at.
#[derive(Clone, Debug)]
enum Steps {
    /// The grid's cells, lowest load first, with the highest index known to meet the SLA
    /// and the lowest known to miss it.
    Grid {
        cells: Vec<Cell>,
        passed: Option<usize>,
        failed: Option<usize>,
    },
    /// A search over a range of rates or concurrencies.
    Range { task: SearchTask, search: Search },
}

/// One candidate's loads and what probing them found.
#[derive(Clone, Debug)]
pub struct Ladder {
    steps: Steps,
    /// The lowest load that missed the SLA, and the throughput measured there.
    ceiling: Option<(Load, f64)>,
    /// Nothing more is worth probing (pruned, or a limit no load changes).
    settled: bool,
    /// Cells measured for it.
    pub probes: u32,
}

/// Groups `cells` (in plan order) into one ladder per variant and payload size, in the
/// order the candidates first appear.
pub fn ladders(cells: &[Cell]) -> Vec<Ladder> {
    let mut groups: Vec<Vec<Cell>> = Vec::new();
    for cell in cells {
        let same = |g: &&mut Vec<Cell>| {
            g[0].deployment == cell.deployment
                && g[0].payload_bytes == cell.payload_bytes
                && g[0].payload_file == cell.payload_file
        };
        match groups.iter_mut().find(same) {
            Some(group) => group.push(cell.clone()),
            None => groups.push(vec![cell.clone()]),
        }
    }
    groups
        .into_iter()
        .map(|mut cells| {
            cells.sort_by(|a, b| a.load.level().total_cmp(&b.load.level()));
            Ladder::new(Steps::Grid {
                cells,
                passed: None,
                failed: None,
            })
        })
        .collect()
}

impl Ladder {
    fn new(steps: Steps) -> Ladder {
        Ladder {
            steps,
            ceiling: None,
            settled: false,
            probes: 0,
        }
    }

    /// A ladder over a search task's range.
    pub fn range(task: &SearchTask) -> Ladder {
        Ladder::new(Steps::Range {
            search: task.search(),
            task: task.clone(),
        })
    }

    /// The candidate's hosting option and variant.
    pub fn deployment(&self) -> &Deployment {
        match &self.steps {
            Steps::Grid { cells, .. } => &cells[0].deployment,
            Steps::Range { task, .. } => &task.deployment,
        }
    }

    /// The candidate's request body size.
    pub fn payload_bytes(&self) -> u64 {
        match &self.steps {
            Steps::Grid { cells, .. } => cells[0].payload_bytes,
            Steps::Range { task, .. } => task.payload_bytes,
        }
    }

    /// The next cell to measure (its `index` is the caller's to set), or `None` when this
    /// candidate is done.
    pub fn next(&self) -> Option<Cell> {
        if self.settled {
            return None;
        }
        match &self.steps {
            Steps::Grid {
                cells,
                passed,
                failed,
            } => grid_next(cells.len(), *passed, *failed).map(|i| cells[i].clone()),
            Steps::Range { task, search } => search.next().map(|level| task.probe(0, level)),
        }
    }

    /// Records that `load` met the SLA or not, with the throughput measured there.
    pub fn record(&mut self, load: &Load, passed: bool, throughput_rps: f64) {
        self.probes += 1;
        if !passed && self.ceiling.is_none_or(|(l, _)| load.level() < l.level()) {
            self.ceiling = Some((*load, throughput_rps));
        }
        match &mut self.steps {
            Steps::Grid {
                cells,
                passed: p,
                failed: f,
            } => {
                let Some(i) = cells.iter().position(|c| c.load == *load) else {
                    return;
                };
                let known = if passed { p } else { f };
                let better = |k: usize| if passed { i > k } else { i < k };
                if known.is_none_or(better) {
                    *known = Some(i);
                }
            }
            Steps::Range { search, .. } => search.record(load.level(), passed),
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
        self.ceiling.as_ref().map(|(load, rps)| (load, *rps))
    }

    /// What probing found: the levels that met and missed the SLA.
    pub fn found(&self) -> Found {
        match &self.steps {
            Steps::Grid {
                cells,
                passed,
                failed,
            } => match (passed, failed) {
                (None, _) => Found::NothingPasses,
                (Some(p), None) => Found::AtLeast(cells[*p].load.level()),
                (Some(p), Some(f)) => Found::Between {
                    passed: cells[*p].load.level(),
                    failed: cells[*f].load.level(),
                },
            },
            Steps::Range { search, .. } => search.found(),
        }
    }
}

/// Next grid index: the top first, then a bisection between what passed and what failed.
fn grid_next(len: usize, passed: Option<usize>, failed: Option<usize>) -> Option<usize> {
    match (passed, failed) {
        (None, None) => Some(len - 1),
        (Some(_), None) => None,
        (None, Some(0)) => None,
        (None, Some(f)) => Some((f - 1) / 2),
        (Some(p), Some(f)) => (f - p > 1).then_some((p + f) / 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ladder(concurrency: &[u32]) -> Ladder {
        let cells: Vec<Cell> = concurrency
            .iter()
            .enumerate()
            .map(|(index, &c)| Cell {
                index,
                deployment: Deployment::default(),
                payload_bytes: 1024,
                payload_file: None,
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
        while let Some(cell) = ladder.next() {
            let l = cell.load.level();
            probed.push(l);
            ladder.record(&cell.load, l <= f64::from(limit), l * 10.0);
        }
        probed
    }

    #[test]
    fn a_passing_top_level_ends_the_candidate_at_once() {
        let mut l = ladder(&[1, 4, 8, 16]);
        assert_eq!(probe_until_done(&mut l, 64), vec![16.0]);
        assert_eq!(l.found(), Found::AtLeast(16.0));
    }

    #[test]
    fn a_failing_top_level_bisects_to_the_grid_answer() {
        for limit in [0, 1, 4, 8, 12] {
            let mut l = ladder(&[16, 1, 8, 4]);
            let probed = probe_until_done(&mut l, limit);
            let grid_answer = [1, 4, 8, 16].into_iter().filter(|&c| c <= limit).max();
            let found = match l.found() {
                Found::Between { passed, .. } | Found::AtLeast(passed) => Some(passed as u32),
                Found::NothingPasses => None,
            };
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
        assert!(l.next().is_none());
    }
}
