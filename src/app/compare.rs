//! `loadtest compare`: judge a run against a baseline.

use super::{AppError, exit};
use crate::cli::CompareArgs;
use std::process::ExitCode;

/// `loadtest compare`: judges a run against a baseline; exit 1 on a regression.
pub fn compare(args: &CompareArgs) -> Result<ExitCode, AppError> {
    let regressed = crate::compare::compare_runs(
        &args.baseline,
        &args.current,
        &args.thresholds,
        args.out.as_deref(),
    )
    .map_err(AppError::Compare)?;
    Ok(ExitCode::from(if regressed {
        exit::FAILED_CHECK
    } else {
        exit::OK
    }))
}
