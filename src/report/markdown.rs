//! `report.md`: the findings of report.html as Markdown tables — the run, the
//! recommendation, results, latency percentiles, SLA checks and errors by class.

use super::view;
use crate::domain::Sla;
use crate::recommend::Recommendation;
use crate::sample::ErrorKind;
use crate::store::record::RunRecord;
use std::fmt;
use std::io::{self, Write};

/// Text safe inside a Markdown table cell: pipes escaped, line breaks flattened, HTML escaped.
struct Md<'a>(&'a str);

impl fmt::Display for Md<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for ch in self.0.chars() {
            match ch {
                '|' => f.write_str("\\|")?,
                '\n' | '\r' => f.write_str(" ")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '&' => f.write_str("&amp;")?,
                c => write!(f, "{c}")?,
            }
        }
        Ok(())
    }
}

/// Writes the whole document.
pub fn write(summary: &RunRecord, out: &mut dyn Write) -> io::Result<()> {
    let sla = summary.profile.sla;
    overview(summary, sla.as_ref(), out)?;
    recommendation(summary.recommendation.as_ref(), out)?;
    results(summary, sla.as_ref(), out)?;
    percentiles(summary, out)?;
    if let Some(sla) = &sla {
        sla_checks(summary, sla, out)?;
    }
    errors(summary, out)
}

fn overview(summary: &RunRecord, sla: Option<&Sla>, out: &mut dyn Write) -> io::Result<()> {
    let name = summary.profile.name.as_str();
    writeln!(
        out,
        "# {}\n",
        Md(if name.is_empty() {
            "loadtest run"
        } else {
            name
        })
    )?;
    let description = summary.profile.description.as_str();
    if !description.is_empty() {
        writeln!(out, "{}\n", Md(description))?;
    }
    writeln!(out, "| | |\n|---|---|")?;
    for (k, v) in view::facts(summary, sla) {
        writeln!(out, "| {k} | {} |", Md(&v))?;
    }
    writeln!(out)
}

/// The recommendation as tables (the recommendation's own Markdown when it is of this
/// version's type), or a note that the run made none.
pub fn recommendation(rec: Option<&Recommendation>, out: &mut dyn Write) -> io::Result<()> {
    let Some(rec) = rec else {
        return writeln!(
            out,
            "## Recommendation\n\nNo recommendation in this run: it needs `[sla]` and `[traffic]` in the profile.\n"
        );
    };
    nested(|w| super::recommendation::write_markdown(rec, w), out)
}

/// Writes a Markdown document one heading level down (`#` → `##`), to sit inside this one.
fn nested(
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut doc = Vec::new();
    render(&mut doc)?;
    for line in String::from_utf8_lossy(&doc).lines() {
        if line.starts_with('#') {
            write!(out, "#")?;
        }
        writeln!(out, "{line}")?;
    }
    writeln!(out)
}

fn results(summary: &RunRecord, sla: Option<&Sla>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "## Results\n")?;
    writeln!(
        out,
        "| # | hosting | instance | payload | load | req/s | sent/s | p50 ms | p99 ms | errors | SLA | notes |"
    )?;
    writeln!(
        out,
        "|---:|---|---|---:|---|---:|---:|---:|---:|---:|---|---|"
    )?;
    for c in &summary.cells {
        let lat = |f: fn(&crate::results::Percentiles) -> f64| {
            c.latency
                .as_ref()
                .map_or("-".to_string(), |l| format!("{:.1}", f(l)))
        };
        let verdict = match sla {
            Some(s) if view::sla_checks(s, c).iter().all(|k| k.passed) => "pass",
            Some(_) => "**fail**",
            None => "-",
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {:.1} | {:.1} | {} | {} | {:.2}% | {verdict} | {} |",
            c.index,
            c.deployment.hosting_label(),
            Md(&c.deployment.variant_label()),
            Md(&c.payload_label()),
            c.load,
            c.throughput_rps,
            c.achieved_rps,
            lat(|l| l.p50_ms),
            lat(|l| l.p99_ms),
            c.error_rate * 100.0,
            notes(c)
        )?;
    }
    writeln!(out)
}

/// A cell's notes, escaped; a cell whose every request failed says so first, in bold.
fn notes(c: &crate::results::CellSummary) -> String {
    view::notes_line(c, |s| Md(s).to_string(), |s| format!("**{s}**"))
}

fn percentiles(summary: &RunRecord, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "## Latency percentiles (ms)\n")?;
    writeln!(
        out,
        "| cell | mean | p50 | p90 | p95 | p99 | p99.9 | max | service p50 | service p99 |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")?;
    for c in &summary.cells {
        let Some(l) = c.latency else {
            writeln!(
                out,
                "| {} | no successful responses | | | | | | | | |",
                Md(&view::cell_label(c))
            )?;
            continue;
        };
        let service = |f: fn(&crate::results::Percentiles) -> f64| {
            c.service
                .as_ref()
                .map_or("-".to_string(), |s| format!("{:.2}", f(s)))
        };
        writeln!(
            out,
            "| {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} |",
            Md(&view::cell_label(c)),
            l.mean_ms,
            l.p50_ms,
            l.p90_ms,
            l.p95_ms,
            l.p99_ms,
            l.p999_ms,
            l.max_ms,
            service(|s| s.p50_ms),
            service(|s| s.p99_ms)
        )?;
    }
    writeln!(out)
}

fn sla_checks(summary: &RunRecord, sla: &Sla, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "## SLA checks ({})\n", Md(&sla.describe()))?;
    writeln!(
        out,
        "| cell | check | measured | allowed | result |\n|---|---|---|---|---|"
    )?;
    for c in &summary.cells {
        for k in view::sla_checks(sla, c) {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                Md(&view::cell_label(c)),
                Md(&k.name),
                Md(&k.measured),
                Md(&k.allowed),
                if k.passed { "pass" } else { "**fail**" }
            )?;
        }
    }
    writeln!(out)
}

fn errors(summary: &RunRecord, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "## Errors by class\n")?;
    let count = |c: &crate::results::CellSummary, k: &ErrorKind| {
        c.errors_by_kind.get(k).copied().unwrap_or(0)
    };
    let kinds: Vec<ErrorKind> = ErrorKind::ALL
        .into_iter()
        .filter(|k| summary.cells.iter().any(|c| count(c, k) > 0))
        .collect();
    if kinds.is_empty() {
        return writeln!(out, "No failed requests.");
    }
    write!(out, "| cell | errors |")?;
    for k in &kinds {
        write!(out, " {k} |")?;
    }
    writeln!(out, "\n|---|---:|{}", "---:|".repeat(kinds.len()))?;
    for c in summary.cells.iter().filter(|c| c.errors > 0) {
        write!(out, "| {} | {} |", Md(&view::cell_label(c)), c.errors)?;
        for k in &kinds {
            write!(out, " {} |", count(c, k))?;
        }
        writeln!(out)?;
    }
    error_messages(summary, out)
}

/// Per cell and class that failed: the statuses seen and the first distinct messages.
fn error_messages(summary: &RunRecord, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "\n### What the failures said\n")?;
    writeln!(out, "| cell | class | count | statuses | first messages |")?;
    writeln!(out, "|---|---|---:|---|---|")?;
    for c in summary.cells.iter().filter(|c| c.errors > 0) {
        let label = Md(&view::cell_label(c)).to_string();
        let label = if c.all_failed() {
            format!("**{label}** ({})", view::ALL_FAILED)
        } else {
            label
        };
        for line in view::error_lines(c) {
            let messages: Vec<String> = line
                .messages
                .iter()
                .map(|m| format!("“{}”", Md(m)))
                .collect();
            writeln!(
                out,
                "| {label} | {} | {} | {} | {} |",
                line.kind,
                line.count,
                Md(&line.statuses),
                messages.join("<br>")
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::summary;

    #[test]
    fn tables_have_a_row_per_cell_and_escape_text() {
        let mut out = Vec::new();
        write(&summary(true), &mut out).unwrap();
        let md = String::from_utf8(out).unwrap();
        assert!(md.starts_with("# bert &lt;launch&gt;\n"), "{md}");
        assert!(
            md.contains("| 1 | real-time | ml.c5.xlarge | 1KiB | closed c=4 |"),
            "{md}"
        );
        assert!(
            md.contains("| #1 real-time ml.c5.xlarge 1KiB closed c=4 | error rate |"),
            "{md}"
        );
        assert!(md.contains("| cell | errors | timeout |"), "{md}");
        assert!(md.contains("No recommendation in this run"));
    }

    #[test]
    fn pipes_are_escaped() {
        assert_eq!(Md("a|b\nc").to_string(), "a\\|b c");
    }
}
