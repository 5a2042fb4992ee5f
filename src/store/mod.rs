//! The run folder on disk: `summary.json` (the typed run record), `results.csv`, and atomic
//! writes so a reader never sees half a file.

pub mod csv;
pub mod files;
pub mod merge;
pub mod record;

#[cfg(test)]
mod tests;
