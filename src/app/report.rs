//! `loadtest report`: rebuild a run folder's reports from its summary.json.

use super::{AppError, exit};
use crate::cli::ReportArgs;
use crate::report::Formats;
use std::process::ExitCode;

/// `loadtest report`: rebuilds a run folder's reports from its summary.json.
pub fn report(args: &ReportArgs) -> Result<ExitCode, AppError> {
    let formats = Formats::parse(&args.format).map_err(AppError::Report)?;
    crate::report::rebuild(&args.run_dir, &formats).map_err(AppError::Report)?;
    Ok(ExitCode::from(exit::OK))
}
