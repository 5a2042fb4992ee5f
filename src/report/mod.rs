//! Reporters: render results, never compute them.
//!
//! Every reporter takes the data and a `&mut dyn Write` and propagates every write error;
//! [`write_all`] puts each selected report into the run folder atomically, and
//! [`rebuild`] rebuilds a run folder's reports from its summary.json alone.

pub mod candidates;
pub mod deploy;
pub mod escape;
pub mod headline;
pub mod hgrm;
pub mod hlog;
pub mod html;
pub mod html_advice;
pub mod html_charts;
pub mod junit;
pub mod markdown;
pub mod recommendation;
pub mod svg;
pub mod table;
pub mod timeline;
pub mod token_charts;
pub mod token_files;
pub mod token_table;
pub mod verdict;
pub mod view;
pub mod write;

#[cfg(test)]
mod test_support;

pub use write::{Format, Formats, write_all};

use crate::results::histogram::HistogramError;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Why reports could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// `--format` named something this version does not write.
    #[error("unknown report format `{given}`: use one or more of {valid}, comma-separated")]
    UnknownFormat {
        /// What was asked for.
        given: String,
        /// The formats there are.
        valid: String,
    },
    /// summary.json could not be read, or is of another version.
    #[error(transparent)]
    Record(#[from] crate::store::record::RecordError),
    /// summary.json parses but cannot be used.
    #[error("{path}: {reason}")]
    InvalidSummary {
        /// The summary.json path.
        path: PathBuf,
        /// What is wrong and what to do.
        reason: String,
    },
    /// A cell's stored histogram does not decode.
    #[error("cell {index} in summary.json has an unreadable histogram: {source}")]
    Histogram {
        /// The cell's plan index.
        index: usize,
        /// The decoding error.
        source: HistogramError,
    },
    /// A report file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl ReportError {
    /// Whether the user asked for something wrong (exit 2) rather than an I/O failure.
    pub fn is_usage(&self) -> bool {
        !matches!(self, ReportError::Write { .. })
    }
}

/// `loadtest report <RUN_DIR> [--format ...]`: rebuilds the selected reports of a run
/// folder from its summary.json and lists the files written on stdout.
pub fn rebuild(run_dir: &Path, formats: &Formats) -> Result<(), ReportError> {
    let summary = crate::store::record::read(run_dir)?;
    let written = write_all(run_dir, &summary, formats)?;
    let mut stdout = std::io::stdout().lock();
    for path in written {
        match writeln!(stdout, "wrote {}", path.display()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => break,
            Err(source) => {
                return Err(ReportError::Write {
                    path: "<stdout>".into(),
                    source,
                });
            }
            Ok(()) => {}
        }
    }
    Ok(())
}
