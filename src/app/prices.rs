//! `loadtest prices`: print the price table and its date.

use super::{AppError, exit};
use crate::cli::PricesArgs;
use std::process::ExitCode;

/// `loadtest prices`: prints the price table and its date.
pub fn prices(args: &PricesArgs) -> Result<ExitCode, AppError> {
    crate::pricing::print_prices(args.file.as_deref(), args.region.as_deref())
        .map_err(AppError::Pricing)?;
    Ok(ExitCode::from(exit::OK))
}
