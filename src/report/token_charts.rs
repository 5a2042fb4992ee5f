//! The streaming sections of report.html: time to first token and time per output token
//! against output-token throughput, one chart each per payload level (prompt and generation
//! lengths), one series per (hosting, instance type), read off the stored token figures.

use super::svg::{self, Chart, Series, XScale};
use super::view;
use crate::domain::Sla;
use crate::results::CellSummary;
use crate::results::tokens::TokenSummary;
use crate::store::record::RunRecord;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Which token timing a chart draws.
#[derive(Clone, Copy)]
enum Metric {
    Ttft,
    Tpot,
}

impl Metric {
    fn name(self) -> &'static str {
        match self {
            Metric::Ttft => "TTFT",
            Metric::Tpot => "TPOT",
        }
    }

    fn figures(self, t: &TokenSummary) -> Option<crate::results::Percentiles> {
        match self {
            Metric::Ttft => t.ttft,
            Metric::Tpot => t.tpot,
        }
    }

    fn limit(self, sla: &Sla) -> Option<f64> {
        match self {
            Metric::Ttft => sla.ttft_ms,
            Metric::Tpot => sla.tpot_ms,
        }
    }
}

/// TTFT and TPOT (p50 dashed, p99 solid) vs output tokens/s; nothing for a run without
/// streamed replies.
pub fn charts(summary: &RunRecord, sla: Option<&Sla>, out: &mut dyn Write) -> io::Result<()> {
    if summary.cells.iter().all(|c| c.tokens.is_none()) {
        return Ok(());
    }
    writeln!(
        out,
        r#"<section><h2>TTFT and TPOT vs throughput</h2><div class="charts">"#
    )?;
    let mut colors: BTreeMap<String, usize> = BTreeMap::new();
    let mut levels: BTreeMap<String, BTreeMap<String, Vec<&CellSummary>>> = BTreeMap::new();
    for c in summary.cells.iter().filter(|c| c.tokens.is_some()) {
        let n = colors.len();
        colors.entry(view::variant_label(c)).or_insert(n);
        let level = levels.entry(c.payload_label()).or_default();
        level.entry(view::variant_label(c)).or_default().push(c);
    }
    for (level, group) in &levels {
        for metric in [Metric::Ttft, Metric::Tpot] {
            let series = series(metric, group, &colors);
            let title = format!("{} vs output tokens/s, {level}", metric.name());
            chart(&title, metric, &series, sla, out)?;
        }
    }
    writeln!(out, "</div></section>")
}

/// A streamed cell's points on the run's timeline, its stretch starting at `at` s: output
/// tokens/s and TTFT p99 per second.
pub fn timeline_points(
    c: &CellSummary,
    at: f64,
    tokens: &mut Vec<(f64, f64)>,
    ttft: &mut Vec<(f64, f64)>,
) {
    let Some(t) = &c.tokens else { return };
    for s in &t.series {
        let x = at + f64::from(s.second) + s.span_s / 2.0;
        tokens.push((x, s.output_tokens_per_s));
        if let Some(ms) = s.ttft_p99_ms {
            ttft.push((x, ms));
        }
    }
}

fn series(
    metric: Metric,
    group: &BTreeMap<String, Vec<&CellSummary>>,
    colors: &BTreeMap<String, usize>,
) -> Vec<Series> {
    let mut out = Vec::new();
    for (variant, cells) in group {
        let mut cells = cells.clone();
        cells.sort_by(|a, b| view::load_level(&a.load).total_cmp(&view::load_level(&b.load)));
        let color = colors.get(variant).copied().unwrap_or(0);
        let pick = |f: fn(&crate::results::Percentiles) -> f64| -> Vec<(f64, f64)> {
            cells
                .iter()
                .filter_map(|c| {
                    let t = c.tokens.as_ref()?;
                    Some((t.output_tokens_per_s, f(&metric.figures(t)?)))
                })
                .collect()
        };
        for (label, dashed, points) in [
            ("p99", false, pick(|p| p.p99_ms)),
            ("p50", true, pick(|p| p.p50_ms)),
        ] {
            out.push(Series {
                name: format!("{variant} {} {label}", metric.name()),
                color,
                dashed,
                markers: !dashed,
                line: true,
                points,
                labels: cells.iter().map(|c| c.load.to_string()).collect(),
                point_labels: false,
                hollow: false,
            });
        }
    }
    out
}

fn chart(
    title: &str,
    metric: Metric,
    series: &[Series],
    sla: Option<&Sla>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let rules: Vec<(f64, String)> = sla
        .and_then(|s| Some((metric.limit(s)?, s.percentile)))
        .map(|(limit, p)| vec![(limit, format!("SLA {} {p} ≤ {limit} ms", metric.name()))])
        .unwrap_or_default();
    let y_label = format!("{} (ms)", metric.name());
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let ys = series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
    let chart = Chart {
        title,
        x_label: "output tokens/s",
        y_label: &y_label,
        x_scale: if svg::spans_decade(xs) {
            XScale::Log
        } else {
            XScale::Linear
        },
        y_log: svg::spans_decade(ys.chain(rules.iter().map(|r| r.0))),
        width: 600,
        height: 360,
        series,
        rules: &rules,
        legend: true,
    };
    svg::line_chart(&chart, out)
}
