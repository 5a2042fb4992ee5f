//! `loadtest compare`: judge a run against a baseline.

use super::{AppError, exit};
use crate::cli::CompareArgs;
use crate::compare::Baseline;
use std::process::ExitCode;

/// `loadtest compare`: judges a run against a baseline; exit 1 on a regression, 2 when
/// nothing is left to compare once partial (interrupted) cells are left out.
pub fn compare(args: &CompareArgs) -> Result<ExitCode, AppError> {
    let outcome = crate::compare::compare_runs(
        &args.baseline,
        &args.current,
        &args.thresholds,
        args.out.as_deref(),
    )
    .map_err(AppError::Compare)?;
    Ok(ExitCode::from(match outcome {
        Baseline::NoRegression => exit::OK,
        Baseline::Regressed => exit::FAILED_CHECK,
        Baseline::NothingComparable => {
            eprintln!(
                "error: nothing to compare: every cell the runs share is partial (interrupted) in one of them; rerun it"
            );
            exit::USAGE
        }
    }))
}
