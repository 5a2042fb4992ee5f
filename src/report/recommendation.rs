//! Renders a [`Recommendation`]: a plain-text table for the terminal ([`write_text`]) and
//! Markdown for `recommendation.md` ([`write_markdown`]). Render only: every figure comes
//! from the recommendation.

use crate::domain::Quantile;
use crate::recommend::{Candidate, CostBasis, Recommendation, RepeatRange};
use std::io::{self, Write};

/// Column headings of recommendation.md.
const HEADINGS: [&str; 12] = [
    "#",
    "hosting",
    "instance",
    "instances",
    "best load",
    "rps/inst",
    "latency",
    "cold start",
    "$/hour",
    "$/month",
    "$/M req",
    "verdict",
];

/// Columns of the terminal table (it fits 100 columns; the files keep every column); an
/// infeasible candidate's reasons follow the table, numbered.
const TEXT_COLUMNS: [usize; 9] = [0, 1, 2, 3, 5, 6, 9, 10, 11];

/// The terminal's width the table keeps to.
const TEXT_WIDTH: usize = super::table::WIDTH;

/// Writes the recommendation as an aligned plain-text table (within 100 columns) with the
/// choice and the notes behind it.
pub fn write_text(rec: &Recommendation, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "Recommendation: {}", objective(rec))?;
    writeln!(out, "Ranked by {}.", basis(rec.basis))?;
    writeln!(out)?;
    let pick = |r: [String; 12]| TEXT_COLUMNS.map(|i| r[i].clone());
    let mut rows: Vec<[String; 9]> = rec.candidates.iter().map(|c| pick(row(rec, c))).collect();
    let mut why: Vec<String> = Vec::new();
    for (r, c) in rows.iter_mut().zip(&rec.candidates) {
        r[2] = r[2].trim_start_matches("ml.").to_string();
        r[3] = r[3]
            .replace(" requests in flight at peak", " in flight")
            .replace(" instances", "")
            .replace(" instance", "");
        r[3] = r[3].split(" (").next().unwrap_or("").to_string();
        r[5] = r[5]
            .trim_start_matches(&format!("{} ", rec.sla.percentile))
            .trim_end_matches(" ms")
            .to_string();
        if !c.feasible() {
            why.push(format!("({}) {}: {}", why.len() + 1, c.label(), r[8]));
            r[8] = format!("no, see ({})", why.len());
        }
    }
    let headings = TEXT_COLUMNS.map(|i| HEADINGS[i].to_string());
    let mut widths = headings.clone().map(|h| h.chars().count());
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let fixed: usize = widths[..8].iter().map(|w| w + 2).sum();
    widths[8] = TEXT_WIDTH.saturating_sub(fixed).max(10);
    for r in std::iter::once(&headings).chain(&rows) {
        let cells: Vec<String> = r
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{:<w$}", super::table::clip(cell, w)))
            .collect();
        writeln!(out, "{}", cells.join("  ").trim_end())?;
    }
    for line in &why {
        writeln!(out, "{line}")?;
    }
    writeln!(out)?;
    super::token_table::write_candidates(rec, out)?;
    for line in conclusion(rec) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// Writes the recommendation as Markdown: objective, choice, the deployment (scaling policy
/// JSON, the month), ranked table, each size of the workload, notes.
pub fn write_markdown(rec: &Recommendation, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# Recommendation")?;
    writeln!(out)?;
    writeln!(out, "{}.", objective(rec))?;
    writeln!(out, "Ranked by {}.", basis(rec.basis))?;
    writeln!(out)?;
    for line in conclusion(rec) {
        writeln!(out, "{}", escape(&line))?;
        writeln!(out)?;
    }
    if let Some(policy) = rec
        .choice
        .and_then(|i| rec.candidates.get(i))
        .and_then(|c| c.scaling.as_ref())
    {
        super::deploy::write_policy_markdown(policy, out)?;
    }
    writeln!(out, "## Candidates")?;
    writeln!(out)?;
    writeln!(out, "| {} |", HEADINGS.join(" | "))?;
    writeln!(out, "|{}", "---|".repeat(HEADINGS.len()))?;
    for c in &rec.candidates {
        let cells: Vec<String> = row(rec, c).iter().map(|s| escape(s)).collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "`*` after the rank: on the cost–latency Pareto frontier. `~`: the percentile rests on fewer samples than it needs (low confidence). `≥`: the best load is the sweep's top, so capacity may be higher and the instance count is at most the one shown."
    )?;
    writeln!(out)?;
    super::token_table::write_candidates_markdown(rec, out)?;
    super::deploy::write_workload_markdown(rec, out)?;
    super::deploy::write_monthly_markdown(rec, out)
}

/// `p99 ≤ 100 ms, errors ≤ 1.000 %; peak 400 rps + 20 % headroom, 2000000 requests/day; prices us-east-1 as of 2026-11`.
fn objective(rec: &Recommendation) -> String {
    let sla = &rec.sla;
    let mut text = format!(
        "{} ≤ {} ms, errors ≤ {:.3}%",
        sla.percentile,
        sla.latency_ms,
        sla.max_error_rate * 100.0
    );
    text.push_str(&super::token_table::sla_text(sla));
    if let Some(t) = &rec.traffic {
        let headroom_pct = (t.headroom * 100_000.0).round() / 1000.0;
        text.push_str(&format!(
            "; peak {} rps + {headroom_pct}% headroom",
            t.peak_rps
        ));
        if let Some(n) = t.requests_per_day {
            text.push_str(&format!(", {n:.0} requests/day"));
        }
    }
    text.push_str(&format!(
        "; prices {} as of {}",
        rec.region,
        rec.prices_as_of.join(", ")
    ));
    if rec.options.instance_count > 1 {
        text.push_str(&format!(
            "; {} instances per measured endpoint",
            rec.options.instance_count
        ));
    }
    text
}

/// What `$/M req` means.
fn basis(basis: CostBasis) -> String {
    match basis {
        CostBasis::PerDay { requests_per_day } => {
            format!("cost per day for {requests_per_day} requests/day ($/M req: that cost per million requests)")
        }
        CostBasis::AtPeak { peak_rps } => format!("cost per million requests while serving the peak of {peak_rps} rps"),
        CostBasis::AtCapacity => {
            "cost per million requests with one instance at its sustainable throughput (no [traffic] given)".into()
        }
        CostBasis::Monthly { requests_per_month } => format!(
            "a month's cost of the hourly traffic shape ({:.1} M requests; $/M req: that cost per million requests)",
            requests_per_month / 1e6
        ),
    }
}

/// One table row for a candidate, in [`HEADINGS`] order.
fn row(rec: &Recommendation, c: &Candidate) -> [String; 12] {
    let op = c.operating.as_ref();
    let cost = c.cost.as_ref();
    let dash = || "-".to_string();
    let rank = c.rank.map_or_else(dash, |r| {
        format!("{r}{}", if c.on_frontier { "*" } else { "" })
    });
    let latency = op.map_or_else(dash, |o| {
        let mark = if o.low_confidence { "~" } else { "" };
        format!("{} {mark}{:.1} ms", rec.sla.percentile, o.latency_ms)
    });
    let rate = c.capacity.as_ref().map_or_else(
        || op.map_or_else(dash, |o| format!("{:.1}", o.per_instance_rps)),
        |k| {
            let at_least = if k.at_least { "≥ " } else { "" };
            format!("{at_least}{:.1}", k.per_instance_rps)
        },
    );
    [
        rank,
        c.hosting_label().to_string(),
        c.variant_label(),
        super::headline::count(c).unwrap_or_else(dash),
        op.map_or_else(dash, |o| o.load.to_string()),
        rate,
        latency,
        c.first_request_ms
            .map_or_else(dash, |ms| format!("{ms:.0} ms")),
        cost.and_then(|c| c.per_hour)
            .map_or_else(dash, |u| u.to_string()),
        c.monthly
            .as_ref()
            .map_or_else(dash, |m| super::headline::dollars(m.usd.0)),
        cost.map_or_else(dash, |c| c.per_million.to_string()),
        verdict(c),
    ]
}

fn verdict(c: &Candidate) -> String {
    if c.feasible() {
        return "feasible".into();
    }
    let reasons: Vec<String> = c.reasons().iter().map(ToString::to_string).collect();
    reasons.join("; ")
}

/// `Run interrupted: 2 of 6 cells, the last one partial; …left out…`, when it was.
pub fn interruption_line(rec: &Recommendation) -> Option<String> {
    let stop = rec.interrupted.as_ref()?;
    let left_out = if stop.partial.is_empty() {
        "the recommendation rests on the cells measured before it".to_string()
    } else {
        let cells: Vec<String> = stop.partial.iter().map(|i| format!("#{i}")).collect();
        format!(
            "partial cells are left out of the recommendation ({})",
            cells.join(", ")
        )
    };
    Some(format!("Run {stop}; {left_out}."))
}

/// The choice (or the nearest miss), the frontier, and notes a reader must not miss.
fn conclusion(rec: &Recommendation) -> Vec<String> {
    let mut lines: Vec<String> = interruption_line(rec).into_iter().collect();
    match rec.choice.and_then(|i| rec.candidates.get(i)) {
        Some(c) => match super::headline::headline(rec).filter(|_| c.cost.is_some()) {
            Some(h) => {
                lines.push(format!("Recommended: {}", super::headline::choice_line(&h)));
                lines.extend(super::headline::notes(rec));
                if let Some(r) = &h.runner_up {
                    lines.push(format!("Runner-up: {r}."));
                }
            }
            None => lines.push(format!("Recommended: {}{}", c.label(), choice_figures(c))),
        },
        None => match &rec.nearest_miss {
            Some(miss) => lines.push(format!("No candidate is feasible: {}.", miss.explanation)),
            None => lines.push("No candidate to recommend: no whole cell was measured.".into()),
        },
    }
    let frontier: Vec<String> = rec
        .candidates
        .iter()
        .filter(|c| c.on_frontier)
        .map(|c| {
            let cost = c
                .cost
                .as_ref()
                .map_or_else(|| "-".into(), |k| k.per_million.to_string());
            let lat = c.operating.as_ref().map_or(f64::NAN, |o| o.latency_ms);
            format!("{} ({cost}/M, {lat:.1} ms)", c.label())
        })
        .collect();
    if !frontier.is_empty() {
        lines.push(format!(
            "Pareto frontier (cost vs {}): {}",
            rec.sla.percentile,
            frontier.join(", ")
        ));
    }
    if rec
        .candidates
        .iter()
        .any(|c| c.operating.as_ref().is_some_and(|o| o.low_confidence))
    {
        lines.push("~ low confidence: too few responses for that percentile; measure longer before relying on it.".into());
    }
    let beyond = super::headline::beyond_sweep(rec);
    if !beyond.is_empty() {
        lines.push(format!(
            "≥ the sweep's top (capacity may be higher; counts are at most): {}.",
            beyond.join("; ")
        ));
    }
    if rec
        .candidates
        .iter()
        .any(|c| c.hosting == Some(crate::domain::Hosting::Batch))
    {
        lines.push("Batch transform is held to the error limit and the 3600 s invocation timeout, not to the latency percentile: a transform job answers no live requests; its $/M is per million records.".into());
    }
    lines.extend(cold_start_line(rec));
    lines.extend(repeat_lines(rec));
    if rec.unattributed_cells > 0 {
        lines.push(format!(
            "{} cells name no hosting option or instance type: the target itself is judged on the SLA, without a price.",
            rec.unattributed_cells
        ));
    }
    lines
}

/// Serverless candidates' first requests: their cold starts, when they were idle.
fn cold_start_line(rec: &Recommendation) -> Option<String> {
    let mut seen: Vec<String> = Vec::new();
    for c in &rec.candidates {
        let Some(ms) = c.first_request_ms else {
            continue;
        };
        let item = format!("{} {ms:.0} ms", c.variant_label());
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    if seen.is_empty() {
        return None;
    }
    let gate = if rec.traffic.as_ref().is_some_and(|t| t.intermittent) {
        "intermittent traffic: a cold start must meet the SLA latency"
    } else {
        "with intermittent traffic (`[traffic] intermittent = true`) it must meet the SLA latency"
    };
    Some(format!(
        "Serverless cold start (the run's first request): {}; {gate}.",
        seen.join(", ")
    ))
}

/// With repeats: each candidate's range over them (its row shows its worst repeat).
fn repeat_lines(rec: &Recommendation) -> Vec<String> {
    let ranged: Vec<(&Candidate, &RepeatRange)> = rec
        .candidates
        .iter()
        .filter_map(|c| Some((c, c.repeats.as_ref()?)))
        .collect();
    let Some((_, first)) = ranged.first() else {
        return Vec::new();
    };
    let mut lines = vec![format!(
        "Range over {} repeats (each row above shows the candidate's worst repeat):",
        first.repeats
    )];
    for (c, r) in ranged {
        lines.push(format!(
            "  {}: {}",
            c.label(),
            range_text(r, rec.sla.percentile)
        ));
    }
    lines
}

/// `feasible in 2 of 3; 38.3–41.7 rps/inst; p99 154.4–170.4 ms; $1.7000–$1.8417/M`.
pub fn range_text(r: &RepeatRange, percentile: Quantile) -> String {
    let span = |r: Option<[f64; 2]>, before: &str, after: &str| {
        r.map(|[lo, hi]| format!("; {before}{lo:.1}–{hi:.1}{after}"))
            .unwrap_or_default()
    };
    let cost = r
        .per_million
        .map(|[lo, hi]| format!("; ${lo:.4}–${hi:.4}/M"))
        .unwrap_or_default();
    format!(
        "feasible in {} of {}{}{}{cost}",
        r.feasible,
        r.repeats,
        span(r.per_instance_rps, "", " rps/inst"),
        span(r.latency_ms, &format!("{percentile} "), " ms"),
    )
}

/// An unpriced choice: ` — meets the SLA up to closed c=4 (50.0 rps, p99 20.1 ms); no price`.
fn choice_figures(c: &Candidate) -> String {
    c.operating.as_ref().map_or_else(String::new, |o| {
        format!(
            " — meets the SLA up to {} ({:.1} rps, {:.1} ms at the SLA percentile); no hosting option or instance type to price",
            o.load, o.throughput_rps, o.latency_ms
        )
    })
}

/// Keeps `|` from splitting a Markdown table cell.
fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests;
