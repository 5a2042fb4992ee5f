//! Reporters: render results, never compute them.

pub mod table;

/// Why reports could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Not implemented in this version.
    #[error("`loadtest report` is not available in this version")]
    Unavailable,
}

impl ReportError {
    /// Whether the user asked for something wrong (exit 2) rather than an I/O failure.
    pub fn is_usage(&self) -> bool {
        true
    }
}

/// `loadtest report <RUN_DIR>`: rebuilds the reports of a run folder.
pub fn cli_report(_args: &crate::cli::ReportArgs) -> Result<(), ReportError> {
    Err(ReportError::Unavailable)
}
