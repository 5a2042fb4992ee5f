//! What a run concluded, once: interrupted, accounting, the SLA (the recommendation's choice)
//! and the baseline. `loadtest run` takes its exit code from [`RunVerdict::outcome`] and
//! junit.xml renders the same [`RunVerdict`], so the two cannot disagree.

use crate::recommend::{Interruption, Recommendation};
use crate::store::record::RunRecord;

/// How a `--baseline` check (or `loadtest compare`) came out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Baseline {
    /// No metric got worse.
    NoRegression,
    /// A metric got worse beyond its threshold.
    Regressed,
    /// Every cell the runs share is partial in one of them (interrupted): nothing to judge.
    NothingComparable,
}

/// What the run's exit code says (DESIGN.md §8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every check passed.
    Passed,
    /// The SLA or a regression check failed.
    Failed,
    /// The baseline could not be judged against (a usage problem).
    Unusable,
    /// Measurements were lost (accounting does not balance).
    Aborted,
    /// Stopped by Ctrl-C.
    Interrupted,
}

/// Every check of a finished run and its result.
#[derive(Clone, Debug, PartialEq)]
pub struct RunVerdict {
    /// How far the run got, when it was interrupted.
    pub interrupted: Option<Interruption>,
    /// Plan indices of cells whose accounting does not balance.
    pub unbalanced: Vec<usize>,
    /// With an SLA: the recommended candidate's label, or `None` when nothing meets it.
    pub sla: Option<Option<String>>,
    /// With `--baseline`: how the comparison came out, and against what.
    pub baseline: Option<(String, Baseline)>,
    /// Every request of every cell failed: the run measured nothing, `[sla]` or not.
    pub all_failed: bool,
}

impl RunVerdict {
    /// The verdict of `summary` (its stored recommendation included) and, when the run was
    /// checked against one, its baseline.
    pub fn of(summary: &RunRecord, baseline: Option<(String, Baseline)>) -> RunVerdict {
        let rec: Option<&Recommendation> = summary.recommendation.as_ref();
        RunVerdict {
            interrupted: Interruption::of(
                &summary.cells,
                summary.planned_cells,
                summary.interrupted,
            ),
            unbalanced: summary
                .cells
                .iter()
                .filter(|c| !c.accounting_ok)
                .map(|c| c.index)
                .collect(),
            sla: rec.map(|r| {
                r.choice
                    .and_then(|i| r.candidates.get(i))
                    .map(|c| c.label())
            }),
            baseline,
            all_failed: !summary.cells.is_empty() && summary.cells.iter().all(|c| c.all_failed()),
        }
    }

    /// The outcome, first of: interrupted, aborted, unusable baseline, failed, passed.
    pub fn outcome(&self) -> Outcome {
        let regressed = matches!(self.baseline, Some((_, Baseline::Regressed)));
        let sla_missed = matches!(self.sla, Some(None));
        if self.interrupted.is_some() {
            Outcome::Interrupted
        } else if !self.unbalanced.is_empty() {
            Outcome::Aborted
        } else if matches!(self.baseline, Some((_, Baseline::NothingComparable))) {
            Outcome::Unusable
        } else if regressed || sla_missed || self.all_failed {
            Outcome::Failed
        } else {
            Outcome::Passed
        }
    }

    /// Whether the SLA was judged and nothing meets it.
    pub fn sla_missed(&self) -> bool {
        matches!(self.sla, Some(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::summary;

    #[test]
    fn the_first_failing_check_decides() {
        let s = summary(true);
        assert_eq!(RunVerdict::of(&s, None).outcome(), Outcome::Passed);
        let regressed = Some(("base".to_string(), Baseline::Regressed));
        assert_eq!(RunVerdict::of(&s, regressed).outcome(), Outcome::Failed);
        let nothing = Some(("base".to_string(), Baseline::NothingComparable));
        assert_eq!(RunVerdict::of(&s, nothing).outcome(), Outcome::Unusable);
        let mut broken = s.clone();
        broken.cells[0].accounting_ok = false;
        assert_eq!(RunVerdict::of(&broken, None).outcome(), Outcome::Aborted);
        let mut stopped = broken;
        stopped.cells[1].interrupted = true;
        stopped.interrupted = true;
        let v = RunVerdict::of(&stopped, None);
        assert_eq!(v.outcome(), Outcome::Interrupted);
        assert_eq!(
            v.interrupted.unwrap().to_string(),
            format!(
                "interrupted: 2 of {} cells, the last one partial",
                stopped.planned_cells
            )
        );
    }
}
