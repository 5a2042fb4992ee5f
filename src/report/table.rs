//! The results table printed at the end of a run.

use crate::results::CellSummary;
use std::io::{self, Write};

/// Writes one line per cell: where, how much load, what came back.
pub fn write(cells: &[CellSummary], out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{:<10} {:<16} {:>8} {:<22} {:>9} {:>9} {:>9} {:>9} {:>7}  notes",
        "hosting", "instance", "payload", "load", "req/s", "p50 ms", "p99 ms", "max ms", "errors"
    )?;
    for c in cells {
        let lat = |f: fn(&crate::results::Percentiles) -> f64| {
            c.latency
                .as_ref()
                .map_or("-".to_string(), |l| format!("{:.1}", f(l)))
        };
        writeln!(
            out,
            "{:<10} {:<16} {:>8} {:<22} {:>9.1} {:>9} {:>9} {:>9} {:>6.2}%  {}",
            c.deployment.hosting_label(),
            c.deployment.variant_label(),
            c.payload_label(),
            c.load.to_string(),
            c.throughput_rps,
            lat(|l| l.p50_ms),
            lat(|l| l.p99_ms),
            lat(|l| l.max_ms),
            c.error_rate * 100.0,
            notes(c)
        )?;
    }
    super::token_table::write_cells(cells, out)?;
    errors(cells, out)
}

/// Under the table: per cell that failed, each class with its statuses and first messages.
fn errors(cells: &[CellSummary], out: &mut dyn Write) -> io::Result<()> {
    let failing: Vec<&CellSummary> = cells.iter().filter(|c| c.errors > 0).collect();
    if failing.is_empty() {
        return Ok(());
    }
    writeln!(out, "\nErrors:")?;
    for c in failing {
        let every = if c.all_failed() {
            " (EVERY REQUEST FAILED)"
        } else {
            ""
        };
        writeln!(out, "  {}{every}", super::view::cell_label(c))?;
        for line in super::view::error_lines(c) {
            let statuses = if line.statuses.is_empty() {
                String::new()
            } else {
                format!(" ({})", line.statuses)
            };
            writeln!(out, "    {} {}{statuses}", line.count, line.kind)?;
            for m in &line.messages {
                writeln!(out, "      \"{m}\"")?;
            }
        }
    }
    Ok(())
}

/// Short flags a reader must not miss, and the most frequent error class.
fn notes(c: &CellSummary) -> String {
    let mut notes = super::view::notes(c);
    if c.all_failed() {
        notes.insert(0, super::view::ALL_FAILED.to_uppercase());
    }
    if c.repeat > 1 {
        notes.insert(0, format!("repeat {}", c.repeat));
    }
    if c.stopped_early {
        notes.push("stopped early: SLA clearly broken".into());
    }
    let worst = c
        .errors_by_kind
        .iter()
        .filter(|(_, n)| **n > 0)
        .max_by_key(|(_, n)| **n);
    if let Some((kind, n)) = worst {
        notes.push(format!("{n} {kind}"));
    }
    notes.join("; ")
}
