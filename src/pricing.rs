//! Price tables (placeholder).

/// Why prices could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    /// Not implemented in this version.
    #[error("`loadtest prices` is not available in this version")]
    Unavailable,
}

/// `loadtest prices`: prints the table and its date.
pub fn cli_prices(_args: &crate::cli::PricesArgs) -> Result<(), PricingError> {
    Err(PricingError::Unavailable)
}
