//! The chart sections of report.html, each reading the summary and drawing with [`super::svg`]
//! (on log axes where the values span more than a decade); the run's timeline is
//! [`super::timeline`].

use super::escape::Esc;
use super::svg::{self, Bar, Chart, Series, XScale};
use super::view;
use crate::domain::Sla;
use crate::domain::units::format_size;
use crate::results::CellSummary;
use crate::sample::ErrorKind;
use crate::store::record::RunRecord;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Quantile ticks per half distance to 100%, as HdrHistogram's percentile output uses.
const TICKS_PER_HALF: u32 = 5;

fn rule(sla: Option<&Sla>) -> Vec<(f64, String)> {
    sla.map(|s| vec![(s.latency_ms, format!("SLA {}", s.describe()))])
        .unwrap_or_default()
}

/// Latency (p50 dashed, p99 solid) vs throughput, one series per (hosting, instance type)
/// in load order; one chart per payload size.
pub fn latency_vs_throughput(
    summary: &RunRecord,
    sla: Option<&Sla>,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        r#"<section><h2>Latency vs throughput</h2><div class="charts">"#
    )?;
    let variants = variant_colors(&summary.cells);
    let mut by_payload: BTreeMap<u64, BTreeMap<String, Vec<&CellSummary>>> = BTreeMap::new();
    for c in &summary.cells {
        let group = by_payload.entry(c.payload_bytes).or_default();
        group.entry(view::variant_label(c)).or_default().push(c);
    }
    for (payload, group) in by_payload {
        let mut series = Vec::new();
        for (variant, mut cells) in group {
            cells.sort_by(|a, b| view::load_level(&a.load).total_cmp(&view::load_level(&b.load)));
            let color = variants.get(&variant).copied().unwrap_or(0);
            let pick = |f: fn(&crate::results::Percentiles) -> f64| {
                cells
                    .iter()
                    .filter_map(|c| Some((c.throughput_rps, f(c.latency.as_ref()?))))
                    .collect()
            };
            series.push(line(
                format!("{variant} p99"),
                color,
                false,
                pick(|l| l.p99_ms),
            ));
            series.push(line(
                format!("{variant} p50"),
                color,
                true,
                pick(|l| l.p50_ms),
            ));
        }
        let title = format!("Latency vs throughput, payload {}", format_size(payload));
        let wide = svg::spans_decade(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
        let scale = if wide { XScale::Log } else { XScale::Linear };
        let x = ("throughput (successful req/s)", scale);
        latency_chart(&title, x, &series, sla, out)?;
    }
    writeln!(out, "</div></section>")
}

/// Percentile distribution of each cell's response times, read off its stored histogram;
/// one chart per (hosting, instance type, payload), one curve per load level.
pub fn percentile_curves(
    summary: &RunRecord,
    sla: Option<&Sla>,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, r#"<section><h2>Latency by percentile</h2>"#)?;
    writeln!(
        out,
        r#"<p class="muted">x: percentile on a 1/(1−p) scale, as HdrHistogram plots it; y: response time.</p><div class="charts">"#
    )?;
    let mut groups: BTreeMap<(String, u64), Vec<&CellSummary>> = BTreeMap::new();
    for c in &summary.cells {
        groups
            .entry((view::variant_label(c), c.payload_bytes))
            .or_default()
            .push(c);
    }
    for ((variant, payload), cells) in groups {
        let mut series = Vec::new();
        for (i, c) in cells.iter().enumerate() {
            let name = format!("#{} {}", c.index, c.load);
            match view::response_histogram(c) {
                Ok(h) => series.push(line(name, i, false, curve(&h))),
                Err(e) => writeln!(
                    out,
                    r#"<p class="fail">{}: histogram unreadable ({})</p>"#,
                    Esc(&name),
                    Esc(&e.to_string())
                )?,
            }
        }
        let title = format!("{variant}, payload {}", format_size(payload));
        latency_chart(
            &title,
            ("percentile", XScale::Percentile),
            &series,
            sla,
            out,
        )?;
    }
    writeln!(out, "</div></section>")
}

/// (quantile, ms) at HdrHistogram's percentile ticks, up to the last one below 100%.
fn curve(h: &hdrhistogram::Histogram<u64>) -> Vec<(f64, f64)> {
    h.iter_quantiles(TICKS_PER_HALF)
        .map(|v| (v.quantile_iterated_to(), view::ms(v.value_iterated_to())))
        .filter(|(q, _)| *q < 1.0)
        .collect()
}

/// A full-width latency chart with a legend and the SLA limit drawn as a rule.
fn latency_chart(
    title: &str,
    (x_label, x_scale): (&str, XScale),
    series: &[Series],
    sla: Option<&Sla>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let rules = rule(sla);
    let ys = series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
    let chart = Chart {
        title,
        x_label,
        y_label: "latency (ms)",
        x_scale,
        width: 600,
        height: 360,
        series,
        rules: &rules,
        legend: true,
        y_log: svg::spans_decade(ys.chain(rules.iter().map(|r| r.0))),
    };
    svg::line_chart(&chart, out)
}

/// Failed requests by class: totals as bars, and a table of the cells that had any.
pub fn errors(summary: &RunRecord, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, r#"<section><h2>Errors by class</h2>"#)?;
    let total = |k: &ErrorKind| {
        summary
            .cells
            .iter()
            .map(|c| c.errors_by_kind.get(k).copied().unwrap_or(0))
            .sum::<u64>()
    };
    let kinds: Vec<ErrorKind> = ErrorKind::ALL
        .into_iter()
        .filter(|k| total(k) > 0)
        .collect();
    if kinds.is_empty() {
        return writeln!(out, "<p>No failed requests.</p></section>");
    }
    let bars: Vec<Bar> = kinds
        .iter()
        .map(|k| Bar {
            label: k.to_string(),
            value: total(k) as f64,
        })
        .collect();
    svg::bar_chart(
        "Failed requests by class, all cells",
        "failed requests",
        &bars,
        600,
        out,
    )?;
    write!(out, r#"<table><tr><th class="l">cell</th><th>errors</th>"#)?;
    for k in &kinds {
        write!(out, "<th>{k}</th>")?;
    }
    writeln!(out, "</tr>")?;
    for c in summary.cells.iter().filter(|c| c.errors > 0) {
        write!(
            out,
            r#"<tr><td class="l">{}</td><td>{}</td>"#,
            Esc(&view::cell_label(c)),
            c.errors
        )?;
        for k in &kinds {
            write!(
                out,
                "<td>{}</td>",
                c.errors_by_kind.get(k).copied().unwrap_or(0)
            )?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</table></section>")
}

/// A stable colour per (hosting, instance type) across charts.
fn variant_colors(cells: &[CellSummary]) -> BTreeMap<String, usize> {
    let mut colors = BTreeMap::new();
    for c in cells {
        let n = colors.len();
        colors.entry(view::variant_label(c)).or_insert(n);
    }
    colors
}

fn line(name: String, color: usize, dashed: bool, points: Vec<(f64, f64)>) -> Series {
    Series {
        name,
        color,
        dashed,
        markers: !dashed,
        line: true,
        points,
        labels: Vec::new(),
        point_labels: false,
        hollow: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::summary;

    fn render(f: fn(&RunRecord, &mut dyn Write) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        f(&summary(true), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn curves_come_from_the_histograms() {
        let s = summary(true);
        let h = view::response_histogram(&s.cells[0]).unwrap();
        let points = curve(&h);
        assert!(points.len() > 20, "{}", points.len());
        assert!(
            points
                .windows(2)
                .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1)
        );
        let mut out = Vec::new();
        percentile_curves(&s, s.profile.sla.as_ref(), &mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("SLA p99"));
    }

    #[test]
    fn error_bars() {
        let errors = render(errors);
        assert!(errors.contains("timeout"));
        assert_eq!(errors.matches("<svg").count(), 1);
    }
}
