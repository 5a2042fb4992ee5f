//! The run folder's report files: which formats to write ([`Formats`]), and [`write_all`],
//! which renders each one from a [`RunRecord`] into its file, atomically.
//!
//! | format | files |
//! |---|---|
//! | `json` | summary.json (rewritten as read) |
//! | `csv` | results.csv |
//! | `hgrm` | `cell-<index>-<hosting>-<instance>-<payload>-<load>.hgrm` and `.hlog` per cell; for streamed cells also `-ttft`, `-itl`, `-tpot` ones |
//! | `md` | report.md |
//! | `html` | report.html |
//! | `junit` | junit.xml |

use super::view::{self};
use super::{ReportError, hgrm, hlog, html, junit, markdown};
use crate::store::files::write_atomic;
use crate::store::record::RunRecord;
use std::collections::BTreeSet;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One kind of report output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// summary.json.
    Json,
    /// results.csv.
    Csv,
    /// Per-cell .hgrm percentile distributions and .hlog interval logs.
    Hgrm,
    /// report.md.
    Md,
    /// report.html.
    Html,
    /// junit.xml.
    Junit,
}

impl Format {
    /// Every format, in the order they are written.
    pub const ALL: [Format; 6] = [
        Format::Json,
        Format::Csv,
        Format::Hgrm,
        Format::Md,
        Format::Html,
        Format::Junit,
    ];

    /// The name used by `--format`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Hgrm => "hgrm",
            Format::Md => "md",
            Format::Html => "html",
            Format::Junit => "junit",
        }
    }

    /// The format named `name` (case-insensitive), if any.
    pub fn parse(name: &str) -> Option<Format> {
        let name = name.trim();
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(name))
    }
}

/// A set of formats to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Formats(BTreeSet<Format>);

impl Default for Formats {
    fn default() -> Formats {
        Formats::all()
    }
}

impl Formats {
    /// Every format.
    pub fn all() -> Formats {
        Formats(Format::ALL.into_iter().collect())
    }

    /// Exactly these formats.
    pub fn only(formats: &[Format]) -> Formats {
        Formats(formats.iter().copied().collect())
    }

    /// Parses `--format` values; no values (or only empty ones) means every format.
    pub fn parse(names: &[String]) -> Result<Formats, ReportError> {
        let mut set = BTreeSet::new();
        for name in names.iter().filter(|n| !n.trim().is_empty()) {
            let format = Format::parse(name).ok_or_else(|| ReportError::UnknownFormat {
                given: name.clone(),
                valid: Format::ALL.map(Format::as_str).join(", "),
            })?;
            set.insert(format);
        }
        Ok(if set.is_empty() {
            Formats::all()
        } else {
            Formats(set)
        })
    }

    /// Whether `format` is in the set.
    pub fn contains(&self, format: Format) -> bool {
        self.0.contains(&format)
    }
}

/// Writes every selected report of `summary` into `run_dir`, each file atomically, and
/// returns the paths written, in order.
pub fn write_all(
    run_dir: &Path,
    summary: &RunRecord,
    formats: &Formats,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = Vec::new();
    for format in Format::ALL.into_iter().filter(|f| formats.contains(*f)) {
        match format {
            Format::Json => written.push(file(run_dir, "summary.json", |w| {
                serde_json::to_writer_pretty(&mut *w, summary).map_err(io::Error::other)?;
                writeln!(w)
            })?),
            Format::Csv if summary.cells.is_empty() => {}
            Format::Csv => written.push(file(run_dir, "results.csv", |w| {
                crate::store::csv::write(&summary.cells, w).map_err(io::Error::other)
            })?),
            Format::Hgrm => written.extend(histogram_files(run_dir, summary)?),
            Format::Md => {
                written.push(file(run_dir, "report.md", |w| markdown::write(summary, w))?)
            }
            Format::Html => {
                written.push(file(run_dir, "report.html", |w| html::write(summary, w))?)
            }
            Format::Junit => {
                written.push(file(run_dir, "junit.xml", |w| junit::write(summary, w))?)
            }
        }
    }
    Ok(written)
}

/// Writes `<run_dir>/<name>` atomically with `fill`.
fn file(
    run_dir: &Path,
    name: &str,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<PathBuf, ReportError> {
    let path = run_dir.join(name);
    write_atomic(&path, |w| fill(w)).map_err(|source| ReportError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// A .hgrm and a .hlog per cell.
fn histogram_files(run_dir: &Path, summary: &RunRecord) -> Result<Vec<PathBuf>, ReportError> {
    let start_time = humantime::parse_rfc3339_weak(&summary.started_at).map_err(|e| {
        ReportError::InvalidSummary {
            path: run_dir.join("summary.json"),
            reason: format!(
                "started_at `{}` is not an RFC 3339 time: {e}",
                summary.started_at
            ),
        }
    })?;
    let logged_with = format!("{} {}", summary.tool.name, summary.tool.version);
    let width = view::index_width(summary);
    let mut written = Vec::new();
    for c in &summary.cells {
        let h = view::response_histogram(c).map_err(|source| ReportError::Histogram {
            index: c.index,
            source,
        })?;
        let stem = view::cell_file_stem(c, width);
        written.push(file(run_dir, &format!("{stem}.hgrm"), |w| {
            hgrm::write(&h, w)
        })?);
        let header = hlog::LogHeader {
            logged_with: &logged_with,
            start_time,
            interval: Duration::try_from_secs_f64(c.duration_s).unwrap_or_default(),
        };
        written.push(file(run_dir, &format!("{stem}.hlog"), |w| {
            hlog::write(&header, &h, w)
        })?);
        let tokens =
            super::token_files::histograms(c).map_err(|source| ReportError::Histogram {
                index: c.index,
                source,
            })?;
        for (name, h) in tokens {
            written.push(file(run_dir, &format!("{stem}-{name}.hgrm"), |w| {
                hgrm::write(&h, w)
            })?);
            written.push(file(run_dir, &format!("{stem}-{name}.hlog"), |w| {
                hlog::write(&header, &h, w)
            })?);
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_default_to_all() {
        assert_eq!(Formats::parse(&[]).unwrap(), Formats::all());
        let f = Formats::parse(&["HTML".into(), " md".into()]).unwrap();
        assert!(f.contains(Format::Html) && f.contains(Format::Md) && !f.contains(Format::Csv));
        let err = Formats::parse(&["pdf".into()]).unwrap_err();
        assert!(err.is_usage());
        assert!(
            err.to_string().contains("json, csv, hgrm, md, html, junit"),
            "{err}"
        );
    }

    #[test]
    fn writes_the_selected_files_only() {
        let dir =
            std::env::temp_dir().join(format!("loadtest-report-write-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let s = crate::report::test_support::summary(true);
        let written = write_all(&dir, &s, &Formats::only(&[Format::Hgrm, Format::Junit])).unwrap();
        let names: Vec<String> = written
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "cell-0-real-time-ml.c5.xlarge-1KiB-closed-c1.hgrm",
                "cell-0-real-time-ml.c5.xlarge-1KiB-closed-c1.hlog",
                "cell-1-real-time-ml.c5.xlarge-1KiB-closed-c4.hgrm",
                "cell-1-real-time-ml.c5.xlarge-1KiB-closed-c4.hlog",
                "junit.xml"
            ]
        );
        assert!(!dir.join("report.html").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
