//! `loadtest validate`: check a profile and print its plan, sending nothing.

use super::{AppError, Checked, check_plan, exit, ignore_broken_pipe, print_plan};
use crate::cli::ValidateArgs;
use crate::profile;
use std::process::ExitCode;

/// `loadtest validate`: checks the profile and prints its plan; a profile `run` would refuse
/// before sending (an async SageMaker target this build cannot see complete) exits 2 alike.
pub fn validate(args: &ValidateArgs) -> Result<ExitCode, AppError> {
    let profile = profile::load(&args.profile)?;
    let Checked { plan, .. } = check_plan(&profile)?;
    super::guard::async_needs_s3(&args.profile, &profile)?;
    let mut out = std::io::stdout().lock();
    ignore_broken_pipe(print_plan(&mut out, &args.profile, &profile, &plan))?;
    Ok(ExitCode::from(exit::OK))
}
