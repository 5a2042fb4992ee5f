//! One timeline of the whole run for report.html: the cells' measured seconds back to back,
//! throughput and errors per second above, p99 per second below (log scale when it spans
//! more than a decade), every cell's boundary drawn and numbered, and each deployment's
//! stretch named; streamed cells add output tokens/s above and TTFT p99 per second below.

use super::escape::Esc;
use super::svg::{self, Axis, PALETTE, Series, short_number};
use super::view;
use crate::store::record::RunRecord;
use std::io::{self, Write};

const WIDTH: f64 = 1000.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 20.0;
/// Room above the plots for the deployment names and cell numbers.
const BANDS: f64 = 58.0;
const TOP_H: f64 = 190.0;
const GAP: f64 = 34.0;
const LOW_H: f64 = 150.0;
const BOTTOM: f64 = 40.0;

/// A cell's stretch of the timeline.
struct Stretch {
    start: f64,
    end: f64,
    index: usize,
    group: String,
    title: String,
}

/// Writes the timeline section.
pub fn write(summary: &RunRecord, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        r#"<section id="timeline"><h2>Timeline of the run</h2><p class="muted">Measured seconds of every cell back to back (warmups and drains left out); grey lines are cell boundaries, numbered by cell; hover a cell for its load.</p>"#
    )?;
    let mut stretches = Vec::new();
    let (mut ok, mut errors, mut p99) = (Vec::new(), Vec::new(), Vec::new());
    let (mut tokens, mut ttft) = (Vec::new(), Vec::new());
    let mut at = 0.0;
    for c in &summary.cells {
        let length = c
            .series
            .iter()
            .map(|s| f64::from(s.second) + s.span_s)
            .fold(c.duration_s, f64::max)
            .max(0.1);
        for s in &c.series {
            let x = at + f64::from(s.second) + s.span_s / 2.0;
            ok.push((x, s.throughput_rps));
            errors.push((x, s.errors_per_s()));
            if let Some(ms) = s.p99_ms {
                p99.push((x, ms));
            }
        }
        super::token_charts::timeline_points(c, at, &mut tokens, &mut ttft);
        stretches.push(Stretch {
            start: at,
            end: at + length,
            index: c.index,
            group: format!("{} {}", view::variant_label(c), c.payload_label()),
            title: view::cell_label(c),
        });
        at += length;
    }
    let mut series = vec![
        (line("successful req/s", 0, false, ok), false),
        (line("errors/s", 2, true, errors), false),
        (line("p99 per second (ms)", 1, false, p99), true),
    ];
    if !tokens.is_empty() {
        series.push((line("output tokens/s", 3, false, tokens), false));
        series.push((line("TTFT p99 per second (ms)", 4, true, ttft), true));
    }
    draw(&series, &stretches, at, out)?;
    writeln!(out, "</section>")
}

fn line(name: &str, color: usize, dashed: bool, points: Vec<(f64, f64)>) -> Series {
    Series {
        name: name.into(),
        color,
        dashed,
        markers: true,
        line: true,
        points,
        labels: Vec::new(),
        point_labels: false,
        hollow: false,
    }
}

/// The figure: one SVG of two panels sharing the time axis, and the legend.
/// `series` are (line, drawn in the lower panel).
fn draw(
    series: &[(Series, bool)],
    cells: &[Stretch],
    total: f64,
    out: &mut dyn Write,
) -> io::Result<()> {
    let height = BANDS + TOP_H + GAP + LOW_H + BOTTOM;
    let count: usize = series.iter().map(|(s, _)| s.points.len()).sum();
    let values = |low: bool| -> Vec<f64> {
        series
            .iter()
            .filter(|(_, l)| *l == low)
            .flat_map(|(s, _)| s.points.iter().map(|p| p.1))
            .collect()
    };
    svg::open_svg(
        "Throughput, errors and p99 over the run",
        WIDTH as u32,
        height as u32,
        count,
        out,
    )?;
    let x = Axis::exact(total, LEFT, WIDTH - RIGHT);
    let (top_y, low_y) = (values(false), values(true));
    let top = Axis::over(&top_y, false, BANDS + TOP_H, BANDS);
    let low_top = BANDS + TOP_H + GAP;
    let low = Axis::over(
        &low_y,
        svg::spans_decade(low_y.iter().copied()),
        low_top + LOW_H,
        low_top,
    );
    panel(&top, &x, "req/s", out)?;
    panel(&low, &x, "p99 ms", out)?;
    boundaries(cells, &x, height - BOTTOM, out)?;
    for (s, low_panel) in series {
        path(s, &x, if *low_panel { &low } else { &top }, out)?;
    }
    writeln!(
        out,
        r#"<text class="axis-label" x="{:.1}" y="{:.1}" text-anchor="middle">measured seconds of the run</text>"#,
        (LEFT + WIDTH - RIGHT) / 2.0,
        height - 6.0
    )?;
    writeln!(out, "</svg>")?;
    let lines: Vec<Series> = series.iter().map(|(s, _)| s.clone()).collect();
    svg::legend(&lines, out)?;
    writeln!(out, "</figure>")
}

/// A panel's grid, y ticks and y label; x ticks under it.
fn panel(y: &Axis, x: &Axis, label: &str, out: &mut dyn Write) -> io::Result<()> {
    let (bottom, top) = y.ends_px();
    writeln!(out, r#"<g class="grid">"#)?;
    for v in y.ticks() {
        let py = y.px(v);
        writeln!(
            out,
            r#"<line x1="{LEFT}" x2="{:.1}" y1="{py:.1}" y2="{py:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            WIDTH - RIGHT,
            LEFT - 4.0,
            py + 4.0,
            short_number(v)
        )?;
    }
    for v in x.ticks() {
        writeln!(
            out,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x.px(v),
            bottom + 14.0,
            short_number(v)
        )?;
    }
    writeln!(out, "</g>")?;
    writeln!(
        out,
        r#"<text class="axis-label" transform="translate(16 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        (top + bottom) / 2.0,
        Esc(label)
    )
}

/// Cell boundaries across both panels, cell numbers (thinned to fit), deployment names.
fn boundaries(cells: &[Stretch], x: &Axis, bottom: f64, out: &mut dyn Write) -> io::Result<()> {
    let every = (cells.len() as f64 * 26.0 / (WIDTH - LEFT - RIGHT))
        .ceil()
        .max(1.0) as usize;
    let mut group_start = 0;
    for (i, c) in cells.iter().enumerate() {
        let (x0, x1) = (x.px(c.start), x.px(c.end));
        writeln!(
            out,
            r#"<line class="cell-rule" x1="{x0:.1}" x2="{x0:.1}" y1="{:.1}" y2="{bottom:.1}"/><rect x="{x0:.1}" y="{BANDS}" width="{:.1}" height="{:.1}" fill="transparent"><title>{}</title></rect>"#,
            BANDS - 14.0,
            (x1 - x0).max(0.5),
            bottom - BANDS,
            Esc(&c.title)
        )?;
        if i % every == 0 {
            writeln!(
                out,
                r#"<text class="cell-label" x="{:.1}" y="{:.1}" text-anchor="middle">#{}</text>"#,
                (x0 + x1) / 2.0,
                BANDS - 4.0,
                c.index
            )?;
        }
        let last = i + 1 == cells.len() || cells[i + 1].group != c.group;
        if last {
            let (g0, g1) = (x.px(cells[group_start].start), x1);
            let name = fit(&c.group, g1 - g0);
            writeln!(
                out,
                r#"<line class="cell-rule" x1="{g1:.1}" x2="{g1:.1}" y1="24" y2="{bottom:.1}" stroke-width="2"/><text class="group-label" x="{:.1}" y="36" text-anchor="middle">{}</text>"#,
                (g0 + g1) / 2.0,
                Esc(&name)
            )?;
            group_start = i + 1;
        }
    }
    Ok(())
}

/// `text` in about `px` at 7.8 px a character (13 px type): whole, else without the
/// hosting option, else without `ml.`, else cut.
fn fit(text: &str, px: f64) -> String {
    let room = (px / 7.8).floor() as usize;
    let short = text.split_once(' ').map_or(text, |(_, rest)| rest);
    let shorter = short.trim_start_matches("ml.");
    for candidate in [text, short, shorter] {
        if candidate.chars().count() <= room {
            return candidate.to_string();
        }
    }
    if room <= 1 {
        return String::new();
    }
    shorter.chars().take(room - 1).collect::<String>() + "…"
}

fn path(s: &Series, x: &Axis, y: &Axis, out: &mut dyn Write) -> io::Result<()> {
    let color = PALETTE[s.color % PALETTE.len()];
    if s.points.len() > 1 {
        write!(out, r#"<path class="series" fill="none" stroke="{color}""#)?;
        if s.dashed {
            write!(out, r#" stroke-dasharray="5 3""#)?;
        }
        write!(out, r#" d=""#)?;
        for (i, (px, py)) in s.points.iter().enumerate() {
            let command = if i == 0 { "M" } else { " L" };
            write!(out, "{command}{:.1} {:.1}", x.px(*px), y.px(*py))?;
        }
        writeln!(out, r#""><title>{}</title></path>"#, Esc(&s.name))?;
    }
    for (px, py) in &s.points {
        writeln!(
            out,
            r#"<circle cx="{:.1}" cy="{:.1}" r="2" fill="{color}"><title>{}: {} at {}s</title></circle>"#,
            x.px(*px),
            y.px(*py),
            Esc(&s.name),
            short_number(*py),
            short_number(*px)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::summary;

    #[test]
    fn one_chart_for_the_whole_run_with_a_boundary_per_cell() {
        let s = summary(true);
        let mut out = Vec::new();
        write(&s, &mut out).unwrap();
        let html = String::from_utf8(out).unwrap();
        assert_eq!(html.matches("<svg").count(), 1, "{html}");
        assert_eq!(
            html.matches(r#"<line class="cell-rule""#).count(),
            s.cells.len()
                + s.cells
                    .iter()
                    .map(|c| view::variant_label(c) + &c.payload_label())
                    .collect::<std::collections::BTreeSet<_>>()
                    .len(),
            "{html}"
        );
        for c in &s.cells {
            assert!(html.contains(&format!(">#{}</text>", c.index)), "{html}");
        }
        assert!(
            html.contains("p99 per second") && html.contains("errors/s"),
            "{html}"
        );
        assert_eq!(
            fit("real-time ml.g4dn.xlarge 1KiB", 160.0),
            "ml.g4dn.xlarge 1KiB"
        );
        assert_eq!(
            fit("real-time ml.g4dn.xlarge 1KiB", 130.0),
            "g4dn.xlarge 1KiB"
        );
        assert_eq!(fit("real-time ml.g4dn.xlarge 1KiB", 40.0), "g4dn…");
    }
}
