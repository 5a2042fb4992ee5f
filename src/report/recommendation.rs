//! Renders a [`Recommendation`]: a plain-text table for the terminal ([`write_text`]) and
//! Markdown for `recommendation.md` ([`write_markdown`]). Render only: every figure comes
//! from the recommendation.

use crate::domain::Quantile;
use crate::domain::units::format_size;
use crate::recommend::{Billing, Candidate, CostBasis, Recommendation, RepeatRange};
use std::io::{self, Write};

/// Column headings, shared by both renderers.
const HEADINGS: [&str; 12] = [
    "#",
    "hosting",
    "instance",
    "payload",
    "best load",
    "rps/inst",
    "latency",
    "capacity",
    "$/hour",
    "$/M req",
    "$/day",
    "verdict",
];

/// Writes the recommendation as an aligned plain-text table with the choice and frontier.
pub fn write_text(rec: &Recommendation, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "Recommendation: {}", objective(rec))?;
    writeln!(out, "Ranked by {}.", basis(rec.basis))?;
    writeln!(out)?;
    let rows: Vec<[String; 12]> = rec.candidates.iter().map(|c| row(rec, c)).collect();
    let mut widths = HEADINGS.map(|h| h.chars().count());
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let headings = HEADINGS.map(String::from);
    for r in std::iter::once(&headings).chain(&rows) {
        let cells: Vec<String> = r
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        writeln!(out, "{}", cells.join("  ").trim_end())?;
    }
    writeln!(out)?;
    super::token_table::write_candidates(rec, out)?;
    for line in conclusion(rec) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// Writes the recommendation as Markdown: objective, choice, ranked table, frontier, notes.
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
        "`*` after the rank: on the cost–latency Pareto frontier. `~`: the percentile rests on fewer samples than it needs (low confidence)."
    )?;
    writeln!(out)?;
    super::token_table::write_candidates_markdown(rec, out)?;
    Ok(())
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
            text.push_str(&format!(", {n} requests/day"));
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
    }
}

/// One table row for a candidate.
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
    [
        rank,
        c.hosting_label().to_string(),
        c.variant_label(),
        format_size(c.payload_bytes),
        op.map_or_else(dash, |o| o.load.to_string()),
        op.map_or_else(dash, |o| format!("{:.1}", o.per_instance_rps)),
        latency,
        cost.map_or_else(dash, |c| capacity(&c.billing)),
        cost.and_then(|c| c.per_hour)
            .map_or_else(dash, |u| u.to_string()),
        cost.map_or_else(dash, |c| c.per_million.to_string()),
        cost.and_then(|c| c.per_day)
            .map_or_else(dash, |u| u.to_string()),
        verdict(c),
    ]
}

/// What the option runs at peak: instances, or serverless requests in flight.
fn capacity(billing: &Billing) -> String {
    match billing {
        Billing::AlwaysOn { instances, .. } => {
            instances.map_or("-".into(), |n| format!("{n} inst"))
        }
        Billing::PerUse {
            concurrency_at_peak,
            ..
        } => concurrency_at_peak.map_or("-".into(), |n| format!("{n:.1} in flight")),
        Billing::WhileBusy {
            instances_at_peak, ..
        } => instances_at_peak.map_or("-".into(), |n| format!("{n} inst busy")),
    }
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
        Some(c) => lines.push(format!("Recommended: {}{}", c.label(), choice_figures(c))),
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
    let gate = if rec.traffic.is_some_and(|t| t.intermittent) {
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

/// ` — 3 inst, $0.6120/hour, $0.4250 per million requests, $14.6880/day`; unpriced:
/// ` — meets the SLA up to closed c=4 (50.0 rps, p99 20.1 ms); no price`.
fn choice_figures(c: &Candidate) -> String {
    let Some(cost) = &c.cost else {
        return c.operating.as_ref().map_or_else(String::new, |o| {
            format!(
                " — meets the SLA up to {} ({:.1} rps, {:.1} ms at the SLA percentile); no hosting option or instance type to price",
                o.load, o.throughput_rps, o.latency_ms
            )
        });
    };
    let mut parts = vec![capacity(&cost.billing)];
    if let Some(h) = cost.per_hour {
        parts.push(format!("{h}/hour at peak"));
    }
    parts.push(format!("{} per million requests", cost.per_million));
    if let Some(d) = cost.per_day {
        parts.push(format!("{d}/day"));
    }
    parts.retain(|p| p != "-");
    format!(" — {}", parts.join(", "))
}

/// Keeps `|` from splitting a Markdown table cell.
fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Hosting;
    use crate::domain::Load;
    use crate::domain::{Sla, Traffic};
    use crate::pricing::{MissingPrice, Unit, Usd};
    use crate::recommend::{Cost, NearestMiss, OperatingPoint, Options, Reason, Verdict};

    fn candidate(instance: &str, rank: Option<usize>, verdict: Verdict) -> Candidate {
        let feasible = matches!(verdict, Verdict::Feasible);
        Candidate {
            hosting: Some(Hosting::RealTime),
            variant: Some(crate::domain::Variant::instance(instance)),
            payload_bytes: 1024,
            payload_file: None,
            cells: 2,
            operating: feasible.then_some(OperatingPoint {
                cell_index: 1,
                load: Load::Closed { concurrency: 4 },
                throughput_rps: 180.0,
                per_instance_rps: 180.0,
                latency_ms: 80.06,
                mean_latency_ms: 40.0,
                mean_service_ms: 39.0,
                response_bytes: 100.0,
                error_rate: 0.0,
                low_confidence: true,
            }),
            cost: feasible.then_some(Cost {
                per_million: Usd(0.425),
                per_hour: Some(Usd(0.612)),
                per_day: None,
                billing: Billing::AlwaysOn {
                    usd_per_instance_hour: Usd(0.204),
                    instances: Some(3),
                },
            }),
            verdict,
            rank,
            on_frontier: feasible,
            repeats: None,
            first_request_ms: None,
            tokens: None,
        }
    }

    fn recommendation(
        candidates: Vec<Candidate>,
        choice: Option<usize>,
        nearest_miss: Option<NearestMiss>,
    ) -> Recommendation {
        Recommendation {
            sla: Sla {
                percentile: Quantile::P99,
                latency_ms: 100.0,
                max_error_rate: 0.01,
                ttft_ms: None,
                tpot_ms: None,
            },
            traffic: Some(Traffic {
                peak_rps: 400.0,
                requests_per_day: None,
                headroom: 0.2,
                intermittent: false,
            }),
            region: "us-east-1".into(),
            prices_as_of: vec!["2026-11".into()],
            basis: CostBasis::AtPeak { peak_rps: 400.0 },
            options: Options::default(),
            candidates,
            choice,
            nearest_miss,
            unattributed_cells: 0,
            interrupted: None,
        }
    }

    fn no_price() -> Verdict {
        Verdict::Infeasible {
            reasons: vec![Reason::NoPrice(MissingPrice {
                region: "us-east-1".into(),
                hosting: Hosting::RealTime,
                item: "ml.x|y".into(),
                unit: Unit::Hour,
            })],
        }
    }

    fn render(
        f: fn(&Recommendation, &mut dyn Write) -> io::Result<()>,
        rec: &Recommendation,
    ) -> String {
        let mut out = Vec::new();
        f(rec, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// A feasible c5.xlarge (the choice) and an instance type without a price.
    fn feasible_and_unpriced() -> Recommendation {
        recommendation(
            vec![
                candidate("ml.c5.xlarge", Some(1), Verdict::Feasible),
                candidate("ml.x|y", None, no_price()),
            ],
            Some(0),
            None,
        )
    }

    #[test]
    fn text_shows_choice_figures_and_reasons() {
        let rec = feasible_and_unpriced();
        let text = render(write_text, &rec);
        assert!(text.starts_with("Recommendation: p99 ≤ 100 ms, errors ≤ 1.000%; peak 400 rps + 20% headroom; prices us-east-1 as of 2026-11\n"), "{text}");
        let c5 = text.lines().find(|l| l.starts_with("1*")).unwrap();
        for figure in [
            "closed c=4",
            "180.0",
            "p99 ~80.1 ms",
            "3 inst",
            "$0.6120",
            "$0.4250",
            "feasible",
        ] {
            assert!(c5.contains(figure), "{figure} in {c5}");
        }
        assert!(
            text.contains("no price for ml.x|y (real-time) in us-east-1"),
            "{text}"
        );
        assert!(text.contains("Recommended: real-time ml.c5.xlarge 1KiB — 3 inst, $0.6120/hour at peak, $0.4250 per million requests"), "{text}");
        assert!(
            text.contains(
                "Pareto frontier (cost vs p99): real-time ml.c5.xlarge 1KiB ($0.4250/M, 80.1 ms)"
            ),
            "{text}"
        );
        assert!(text.contains("~ low confidence"), "{text}");
    }

    #[test]
    fn markdown_is_a_table_with_escaped_cells() {
        let rec = feasible_and_unpriced();
        let md = render(write_markdown, &rec);
        assert!(md.starts_with("# Recommendation\n"), "{md}");
        assert!(md.contains("| # | hosting | instance |"), "{md}");
        assert!(md.contains("|---|---|"), "{md}");
        assert!(md.contains("| - | real-time | ml.x\\|y |"), "{md}");
        let table_rows = md.lines().filter(|l| l.starts_with("| ")).count();
        assert_eq!(table_rows, 3);
    }

    #[test]
    fn an_interrupted_run_and_an_unpriced_choice_say_so() {
        let mut target = candidate("x", Some(1), Verdict::Feasible);
        (target.hosting, target.variant, target.cost) = (None, None, None);
        let mut rec = recommendation(vec![target], Some(0), None);
        rec.interrupted = Some(crate::recommend::Interruption {
            measured: 2,
            planned: 6,
            partial: vec![1],
        });
        for text in [render(write_text, &rec), render(write_markdown, &rec)] {
            assert!(text.contains("Run interrupted: 2 of 6 cells, the last one partial; partial cells are left out of the recommendation (#1)."), "{text}");
            assert!(
                text.contains(
                    "Recommended: target 1KiB — meets the SLA up to closed c=4 (180.0 rps"
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn nothing_feasible_shows_the_nearest_miss() {
        let miss = NearestMiss {
            candidate: 0,
            explanation: "nothing meets the SLA; closest is real-time ml.x|y 1KiB".into(),
        };
        let rec = recommendation(
            vec![candidate("ml.x|y", None, no_price())],
            None,
            Some(miss),
        );
        assert!(
            render(write_text, &rec)
                .contains("No candidate is feasible: nothing meets the SLA; closest is")
        );
        assert!(render(write_markdown, &rec).contains("closest is real-time ml.x\\|y 1KiB"));
    }

    #[test]
    fn write_errors_propagate() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let rec = recommendation(Vec::new(), None, None);
        assert!(write_text(&rec, &mut Broken).is_err());
        assert!(write_markdown(&rec, &mut Broken).is_err());
    }
}
