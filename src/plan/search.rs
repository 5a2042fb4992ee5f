//! SLA search: the highest load level that meets the SLA, in far fewer probes than a full
//! grid. The top of the range first (when it holds, one probe is the answer; when it does
//! not, its throughput bounds the candidate's cost); then up from the bottom, doubling, and
//! bisecting once the bracket is within a factor of two, until it is within 5 %. Pure state
//! machine; the caller runs each probe and reports whether it passed.

use serde::{Deserialize, Serialize};

/// Stop bisecting when the bracket is this narrow, relative to its lower end.
pub const BRACKET_TOLERANCE: f64 = 0.05;

/// Where a search stands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Search {
    min: f64,
    max: f64,
    whole: bool,
    /// Highest level that passed.
    pub passed: Option<f64>,
    /// Lowest level that failed.
    pub failed: Option<f64>,
    /// Probes run so far.
    pub probes: u32,
}

/// What a finished search found.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Found {
    /// Even the lowest level failed.
    NothingPasses,
    /// The highest level passed: the limit is at least this.
    AtLeast(f64),
    /// The limit lies between `passed` (met) and `failed` (missed).
    Between {
        /// Highest level that met the SLA.
        passed: f64,
        /// Lowest level that missed it.
        failed: f64,
    },
}

impl Search {
    /// A search over `[min, max]`; `whole` levels (concurrency) stay integers.
    pub fn new(min: f64, max: f64, whole: bool) -> Search {
        Search {
            min,
            max,
            whole,
            passed: None,
            failed: None,
            probes: 0,
        }
    }

    /// The next level to probe, or `None` when the search is over.
    pub fn next(&self) -> Option<f64> {
        match (self.passed, self.failed) {
            (None, None) => Some(self.max),
            (None, Some(f)) if f > self.min => Some(self.min),
            (None, Some(_)) => None,
            // Only the top can pass before anything has failed: the search is over.
            (Some(_), None) => None,
            (Some(p), Some(f)) => {
                let narrow = (f - p) / p <= BRACKET_TOLERANCE || (self.whole && f - p <= 1.0);
                if narrow {
                    return None;
                }
                let step = if f > p * 2.0 { p * 2.0 } else { (p + f) / 2.0 };
                let step = self.level(step);
                (step > p && step < f).then_some(step)
            }
        }
    }

    fn level(&self, v: f64) -> f64 {
        if self.whole { v.round() } else { v }
    }

    /// Records a probe at `level` and whether it met the SLA.
    pub fn record(&mut self, level: f64, passed: bool) {
        self.probes += 1;
        if passed {
            self.passed = Some(self.passed.map_or(level, |p| p.max(level)));
        } else {
            self.failed = Some(self.failed.map_or(level, |f| f.min(level)));
        }
    }

    /// What the search found so far.
    pub fn found(&self) -> Found {
        match (self.passed, self.failed) {
            (None, _) => Found::NothingPasses,
            (Some(p), None) => Found::AtLeast(p),
            (Some(passed), Some(failed)) => Found::Between { passed, failed },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a search against a target whose true limit is `limit`.
    fn run(min: f64, max: f64, whole: bool, limit: f64) -> (Search, Vec<f64>) {
        let mut s = Search::new(min, max, whole);
        let mut probes = Vec::new();
        while let Some(level) = s.next() {
            probes.push(level);
            s.record(level, level <= limit);
            assert!(probes.len() < 40, "search must end: {probes:?}");
        }
        (s, probes)
    }

    #[test]
    fn tries_the_top_then_ramps_and_bisects_to_within_five_percent() {
        let (s, probes) = run(10.0, 5000.0, false, 437.0);
        assert_eq!(
            &probes[..8],
            &[5000.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0]
        );
        let Found::Between { passed, failed } = s.found() else {
            panic!("{:?}", s.found())
        };
        assert!(passed <= 437.0 && failed > 437.0);
        assert!((failed - passed) / passed <= BRACKET_TOLERANCE);
        assert!(probes.len() <= 13, "{probes:?}");
    }

    #[test]
    fn concurrency_search_stays_whole_and_ends_at_adjacent_levels() {
        let (s, probes) = run(1.0, 64.0, true, 11.0);
        assert!(probes.iter().all(|p| p.fract() == 0.0), "{probes:?}");
        assert_eq!(
            s.found(),
            Found::Between {
                passed: 11.0,
                failed: 12.0
            }
        );
    }

    #[test]
    fn edges_nothing_passes_and_everything_passes() {
        let (s, probes) = run(10.0, 100.0, false, 5.0);
        assert_eq!(probes, vec![100.0, 10.0]);
        assert_eq!(s.found(), Found::NothingPasses);
        let (s, probes) = run(10.0, 100.0, false, 1e9);
        assert_eq!(probes, vec![100.0], "a passing top is the answer at once");
        assert_eq!(s.found(), Found::AtLeast(100.0));
    }
}
