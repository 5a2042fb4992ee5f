//! The results table printed at the end of a run.

use crate::results::CellSummary;
use std::io::{self, Write};

/// The terminal width the table keeps to; results.csv and the reports keep every column.
pub const WIDTH: usize = 100;

/// `text` in at most `width` characters, `…` marking a cut.
pub fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// `c=16`, `50 rps poisson`: a load in few columns.
fn short_load(load: &crate::domain::Load) -> String {
    match load {
        crate::domain::Load::Closed { concurrency } => format!("c={concurrency}"),
        other => other.to_string().trim_start_matches("open ").to_string(),
    }
}

/// Writes one line per cell: where, how much load, what came back; within [`WIDTH`]
/// columns (instance types without `ml.`, max latency and long notes left to the files).
pub fn write(cells: &[CellSummary], out: &mut dyn Write) -> io::Result<()> {
    const HEAD: [&str; 9] = [
        "hosting", "instance", "payload", "load", "req/s", "p50 ms", "p99 ms", "errors", "notes",
    ];
    let rows: Vec<[String; 9]> = cells
        .iter()
        .map(|c| {
            let lat = |f: fn(&crate::results::Percentiles) -> f64| {
                c.latency
                    .as_ref()
                    .map_or("-".to_string(), |l| format!("{:.1}", f(l)))
            };
            [
                c.deployment.hosting_label().to_string(),
                c.deployment
                    .variant_label()
                    .trim_start_matches("ml.")
                    .to_string(),
                c.payload_label(),
                short_load(&c.load),
                format!("{:.1}", c.throughput_rps),
                lat(|l| l.p50_ms),
                lat(|l| l.p99_ms),
                format!("{:.2}%", c.error_rate * 100.0),
                notes(c),
            ]
        })
        .collect();
    let mut widths = HEAD.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let fixed: usize = widths[..8].iter().map(|w| w + 1).sum::<usize>() + 1;
    widths[8] = WIDTH.saturating_sub(fixed).max(8);
    let head = HEAD.map(String::from);
    for r in std::iter::once(&head).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, w)) in r.iter().zip(widths).enumerate() {
            let cell = clip(cell, w);
            match i {
                0..=3 => line.push_str(&format!("{cell:<w$} ")),
                7 => line.push_str(&format!("{cell:>w$}  ")),
                8 => line.push_str(&cell),
                _ => line.push_str(&format!("{cell:>w$} ")),
            }
        }
        writeln!(out, "{}", line.trim_end())?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_fits_100_columns() {
        let mut s = crate::report::test_support::summary(true);
        s.cells[0].littles_law = Some("Little's law: a long explanation ".repeat(5));
        let mut out = Vec::new();
        write(&s.cells, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let table: Vec<&str> = text.lines().take_while(|l| !l.is_empty()).collect();
        assert_eq!(table.len(), s.cells.len() + 1, "{text}");
        for line in &table {
            assert!(
                line.chars().count() <= WIDTH,
                "{} columns: {line}",
                line.chars().count()
            );
        }
        assert!(table[1].ends_with('…'), "{}", table[1]);
        assert!(
            table[0].starts_with("hosting") && table[0].contains("p99 ms"),
            "{text}"
        );
    }
}
