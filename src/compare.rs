//! Baseline vs current run (placeholder).

/// Why two runs could not be compared.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// Not implemented in this version.
    #[error("`loadtest compare` is not available in this version")]
    Unavailable,
}

/// `loadtest compare`: `Ok(true)` when a regression was found.
pub fn cli_compare(_args: &crate::cli::CompareArgs) -> Result<bool, CompareError> {
    Err(CompareError::Unavailable)
}
