//! Token figures in text: under the results table, one line per streamed cell (TTFT, ITL,
//! TPOT, tokens and tokens/s); under the recommendation, each candidate's TTFT and TPOT at
//! the SLA percentile and its cost per million tokens.

use crate::domain::Sla;
use crate::recommend::Recommendation;
use crate::results::CellSummary;
use std::io::{self, Write};

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"))
}

/// `, TTFT p99 ≤ 250 ms, TPOT p99 ≤ 12 ms` for an SLA with token limits, else empty.
pub fn sla_text(sla: &Sla) -> String {
    let mut out = String::new();
    if let Some(l) = sla.ttft_ms {
        out.push_str(&format!(", TTFT {} ≤ {l} ms", sla.percentile));
    }
    if let Some(l) = sla.tpot_ms {
        out.push_str(&format!(", TPOT {} ≤ {l} ms", sla.percentile));
    }
    out
}

/// One line per streamed cell; nothing when no cell streamed.
pub fn write_cells(cells: &[CellSummary], out: &mut dyn Write) -> io::Result<()> {
    let streamed: Vec<&CellSummary> = cells.iter().filter(|c| c.tokens.is_some()).collect();
    if streamed.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "\nTokens (TTFT from the intended send; ITL: every gap; TPOT: (last − first token) / (output tokens − 1)):"
    )?;
    writeln!(
        out,
        "{:<16} {:<18} {:<14} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7}  counted",
        "instance",
        "payload",
        "load",
        "out tok/s",
        "TTFT p50",
        "TTFT p99",
        "ITL mean",
        "ITL p99",
        "TPOT p50",
        "TPOT p99",
        "in/req",
        "out/req"
    )?;
    for c in streamed {
        let Some(t) = &c.tokens else { continue };
        let (ttft, itl, tpot) = (t.ttft, t.itl, t.tpot);
        writeln!(
            out,
            "{:<16} {:<18} {:<14} {:>9.1} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7.0} {:>7.0}  {:?}",
            c.deployment.variant_label(),
            c.payload_label(),
            c.load.to_string(),
            t.output_tokens_per_s,
            ms(ttft.map(|p| p.p50_ms)),
            ms(ttft.map(|p| p.p99_ms)),
            ms(itl.map(|p| p.mean_ms)),
            ms(itl.map(|p| p.p99_ms)),
            ms(tpot.map(|p| p.p50_ms)),
            ms(tpot.map(|p| p.p99_ms)),
            t.mean_input_tokens,
            t.mean_output_tokens,
            t.counted_from,
        )?;
    }
    Ok(())
}

/// Rows of the candidates with token figures: `[#, candidate, load, TTFT, TPOT, tok/s, $/M out, $/M tok]`.
fn rows(rec: &Recommendation) -> Vec<[String; 8]> {
    let usd = |u: Option<crate::pricing::Usd>| u.map_or_else(|| "-".to_string(), |u| u.to_string());
    rec.candidates
        .iter()
        .filter_map(|c| {
            let t = c.tokens.as_ref()?;
            let rank = c.rank.map_or_else(|| "-".to_string(), |r| r.to_string());
            let load = c
                .operating
                .as_ref()
                .map_or("-".to_string(), |o| o.load.to_string());
            Some([
                rank,
                c.label(),
                load,
                ms(t.ttft_ms),
                ms(t.tpot_ms),
                format!("{:.1}", t.output_tokens_per_s),
                usd(t.per_million_output),
                usd(t.per_million_tokens),
            ])
        })
        .collect()
}

/// The candidates' token figures as an aligned text table; nothing without any.
pub fn write_candidates(rec: &Recommendation, out: &mut dyn Write) -> io::Result<()> {
    let rows = rows(rec);
    if rows.is_empty() {
        return Ok(());
    }
    let p = rec.sla.percentile;
    let headings = [
        "#".to_string(),
        "candidate".into(),
        "best load".into(),
        format!("TTFT {p} ms"),
        format!("TPOT {p} ms"),
        "out tok/s".into(),
        "$/M out tok".into(),
        "$/M in+out tok".into(),
    ];
    let mut widths = headings.clone().map(|h| h.chars().count());
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    writeln!(
        out,
        "In tokens (at each candidate's operating point; streamed candidates rank by $/M output tokens):"
    )?;
    for r in std::iter::once(&headings).chain(&rows) {
        let cells: Vec<String> = r
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        writeln!(out, "{}", cells.join("  ").trim_end())?;
    }
    writeln!(out)
}

/// The candidates' token figures as a Markdown table; nothing without any.
pub fn write_candidates_markdown(rec: &Recommendation, out: &mut dyn Write) -> io::Result<()> {
    let rows = rows(rec);
    if rows.is_empty() {
        return Ok(());
    }
    let p = rec.sla.percentile;
    writeln!(out, "## In tokens\n")?;
    writeln!(
        out,
        "| # | candidate | best load | TTFT {p} ms | TPOT {p} ms | out tok/s | $/M out tok | $/M in+out tok |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|---|")?;
    for r in rows {
        writeln!(out, "| {} |", r.join(" | "))?;
    }
    writeln!(out)
}
