//! The comparison as a printed table, `compare.md` and `compare-junit.xml`. Render only: every
//! figure comes from [`Comparison`]; every write error is returned.

use super::judge::{self, ALPHA, LOW_CONFIDENCE_MARGIN, MIN_SAMPLES, Row, Verdict};
use super::{Baseline, Comparison};
use crate::domain::thresholds::Metric;
use crate::report::junit::Xml;
use std::io::{self, Write};

/// A figure with its unit: `12.345 ms`, `201.8 req/s`, `0.100%`, `$1.2345`.
pub fn figure(metric: Metric, value: Option<f64>) -> String {
    let Some(v) = value else { return "-".into() };
    match metric {
        Metric::P50
        | Metric::P99
        | Metric::TtftP50
        | Metric::TtftP99
        | Metric::TpotP50
        | Metric::TpotP99
        | Metric::ItlP50
        | Metric::ItlP99 => format!("{v:.3} ms"),
        Metric::Throughput | Metric::SustainableRate => format!("{v:.1} req/s"),
        Metric::ErrorRate => format!("{:.3}%", v * 100.0),
        Metric::Cost => format!("${v:.4}"),
    }
}

/// The change: `+12.3%`, or percentage points for the error rate.
pub fn change(metric: Metric, value: Option<f64>) -> String {
    match value {
        None => "-".into(),
        Some(v) if metric.is_absolute() => format!("{:+.3} pp", v * 100.0),
        Some(v) => judge::pct(v),
    }
}

/// `worse`, `same (low confidence)`.
pub fn verdict(row: &Row) -> String {
    if row.low_confidence {
        format!("{} (low confidence)", row.verdict)
    } else {
        row.verdict.to_string()
    }
}

fn cells(row: &Row) -> [String; 7] {
    [
        row.cell.clone(),
        row.metric.to_string(),
        figure(row.metric, row.baseline),
        figure(row.metric, row.current),
        change(row.metric, row.change),
        verdict(row),
        row.evidence.clone(),
    ]
}

const HEADER: [&str; 7] = [
    "cell", "metric", "baseline", "current", "change", "verdict", "test",
];

/// The aligned table and a one-line verdict.
pub fn table(c: &Comparison, out: &mut dyn Write) -> io::Result<()> {
    let rows: Vec<[String; 7]> = c.rows.iter().map(cells).collect();
    let mut widths = HEADER.map(|h| h.chars().count());
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cols: &[String]| -> io::Result<()> {
        let mut text = String::new();
        for (i, (cell, w)) in cols.iter().zip(widths).enumerate() {
            let pad = w.saturating_sub(cell.chars().count());
            let last = i + 1 == cols.len();
            if (2..=4).contains(&i) {
                text.push_str(&format!("{}{cell}  ", " ".repeat(pad)));
            } else if last {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell}{}  ", " ".repeat(pad)));
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(out, &HEADER.map(String::from))?;
    for r in &rows {
        line(out, r)?;
    }
    writeln!(out, "\n{}", headline(c))
}

/// `REGRESSION: 2 worse, 10 same, 0 better, 1 missing` or `No regression: …`, with
/// `, 4 interrupted` when partial cells were left out; `NOTHING COMPARABLE: …` when no cell
/// was whole in both runs.
pub fn headline(c: &Comparison) -> String {
    let mut counts = format!(
        "{} worse, {} same, {} better, {} missing",
        c.count(Verdict::Worse),
        c.count(Verdict::Same),
        c.count(Verdict::Better),
        c.count(Verdict::Missing)
    );
    let interrupted = c.count(Verdict::Interrupted);
    if interrupted > 0 {
        counts.push_str(&format!(", {interrupted} interrupted"));
    }
    match c.outcome() {
        Baseline::Regressed => format!("REGRESSION: {counts}"),
        Baseline::NothingComparable => format!(
            "NOTHING COMPARABLE (every shared cell is partial in a run; interrupted cells are left out): {counts}"
        ),
        Baseline::NoRegression => format!("No regression: {counts}"),
    }
}

/// `compare.md`: the runs, thresholds, rules, warnings and the table.
pub fn markdown(c: &Comparison, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# Comparison\n")?;
    writeln!(
        out,
        "- Baseline: `{}`\n- Current: `{}`",
        c.baseline, c.current
    )?;
    writeln!(out, "- Result: **{}**\n", headline(c))?;
    let limits: Vec<String> = Metric::ALL
        .iter()
        .map(|m| format!("{m} {}", c.thresholds.describe(*m)))
        .collect();
    writeln!(out, "Thresholds: {}.\n", limits.join(", "))?;
    writeln!(
        out,
        "A change counts as *worse* (or *better*) only when it is past its threshold and unlikely \
         to be noise: p < {ALPHA} in a Mann–Whitney U test of the per-second values of whole seconds \
         (p50, p99, throughput; for streamed cells TTFT, TPOT and ITL at p50 and p99, whose \
         samples are the per-second TTFT p50/p99 and mean TPOT/ITL) or a two-proportion z-test \
         (error rate). With fewer than \
         {MIN_SAMPLES} seconds per side there is no test: the verdict needs {LOW_CONFIDENCE_MARGIN}× \
         the threshold and is marked *low confidence*. Sustainable rate and cost are single \
         figures from the recommendation, judged on the threshold alone.\n"
    )?;
    if !c.warnings.is_empty() {
        writeln!(out, "## Warnings\n")?;
        for w in &c.warnings {
            writeln!(out, "- {}", md(w))?;
        }
        writeln!(out)?;
    }
    writeln!(out, "## Cells\n")?;
    writeln!(out, "| {} |", HEADER.join(" | "))?;
    writeln!(out, "|---|---|--:|--:|--:|---|---|")?;
    for row in &c.rows {
        let mut cols = cells(row);
        if row.verdict == Verdict::Worse {
            cols[5] = format!("**{}**", cols[5]);
        }
        let cols: Vec<String> = cols.iter().map(|s| md(s)).collect();
        writeln!(out, "| {} |", cols.join(" | "))?;
    }
    Ok(())
}

fn md(text: &str) -> String {
    text.replace('|', "\\|")
}

/// `compare-junit.xml`: one suite per cell, one case per metric verdict; *worse* fails,
/// *missing* and *interrupted* are skipped, and every case carries its figures and test in
/// `<system-out>`. When nothing was comparable (the exit is 2) one more case fails saying
/// so, so `failures="0"` exactly when `loadtest compare` exits 0.
pub fn junit(c: &Comparison, out: &mut dyn Write) -> io::Result<()> {
    let mut suites: Vec<(&str, Vec<&Row>)> = Vec::new();
    for row in &c.rows {
        match suites.last_mut() {
            Some((cell, rows)) if *cell == row.cell => rows.push(row),
            _ => suites.push((&row.cell, vec![row])),
        }
    }
    let skips = |r: &Row| matches!(r.verdict, Verdict::Missing | Verdict::Interrupted);
    let nothing = c.outcome() == Baseline::NothingComparable;
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="loadtest compare" tests="{}" failures="{}" errors="0" skipped="{}">"#,
        c.rows.len() + usize::from(nothing),
        c.count(Verdict::Worse) + usize::from(nothing),
        c.rows.iter().filter(|r| skips(r)).count()
    )?;
    if nothing {
        writeln!(
            out,
            r#"  <testsuite name="comparison" tests="1" failures="1" errors="0" skipped="0">
    <testcase classname="comparison" name="comparable cells" time="0">
      <failure message="{m}" type="nothing comparable"/>
    </testcase>
  </testsuite>"#,
            m = Xml(&headline(c))
        )?;
    }
    for (cell, rows) in &suites {
        let failures = rows.iter().filter(|r| r.verdict == Verdict::Worse).count();
        let skipped = rows.iter().filter(|r| skips(r)).count();
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{failures}" errors="0" skipped="{skipped}">"#,
            Xml(cell),
            rows.len()
        )?;
        for row in rows {
            case(c, row, out)?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

fn case(c: &Comparison, row: &Row, out: &mut dyn Write) -> io::Result<()> {
    let detail = format!(
        "{}: {} -> {} ({}, limit {}): {}; {}",
        row.metric,
        figure(row.metric, row.baseline),
        figure(row.metric, row.current),
        change(row.metric, row.change),
        c.thresholds.describe(row.metric),
        verdict(row),
        row.evidence
    );
    writeln!(
        out,
        r#"    <testcase classname="{}" name="{}" time="0">"#,
        Xml(&row.cell),
        row.metric
    )?;
    match row.verdict {
        Verdict::Worse => writeln!(
            out,
            r#"      <failure message="{}" type="regression"/>"#,
            Xml(&detail)
        )?,
        Verdict::Missing | Verdict::Interrupted => {
            writeln!(out, r#"      <skipped message="{}"/>"#, Xml(&detail))?;
        }
        Verdict::Same | Verdict::Better => {}
    }
    writeln!(out, "      <system-out>{}</system-out>", Xml(&detail))?;
    writeln!(out, "    </testcase>")
}
