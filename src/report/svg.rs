//! Hand-written inline SVG charts for report.html: line/scatter charts on a linear or a
//! percentile ("1/(1-p)", as HdrHistogram's plotter draws) x axis, and horizontal bar charts.
//!
//! Each chart is a `<figure>` holding one `<svg class="chart" data-points="N">` (N = points
//! drawn, so tests and readers can tell an empty chart) and an HTML legend that wraps.
//! Points carry `<title>` tooltips; no script is needed.

use super::escape::Esc;
use std::io::{self, Write};

/// Colours of series, in order (Tableau 10: distinct, print-safe).
pub const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#7f7f7f",
];

const LEFT: f64 = 60.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 42.0;

/// How x values map to the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XScale {
    /// Linear from 0.
    Linear,
    /// x is a quantile in [0, 1), drawn at log10(1 / (1 - q)): 90%, 99%, 99.9% equally spaced.
    Percentile,
    /// Logarithmic, decades apart (for values spanning more than a decade).
    Log,
}

/// Whether positive `values` span more than a decade, so a log axis reads better.
pub fn spans_decade(values: impl Iterator<Item = f64>) -> bool {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    hi > 0.0 && hi / lo > 10.0
}

/// One line (and/or set of markers) on a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Index into [`PALETTE`] (wraps).
    pub color: usize,
    /// Dashed line (e.g. p50 beside a solid p99).
    pub dashed: bool,
    /// Draw a marker at each point.
    pub markers: bool,
    /// Join the points with a line.
    pub line: bool,
    /// (x, y) in data units; non-finite points are skipped.
    pub points: Vec<(f64, f64)>,
    /// Tooltip names of the points, by position; may be shorter (or empty).
    pub labels: Vec<String>,
    /// Write each point's label beside its marker, not only as a tooltip.
    pub point_labels: bool,
    /// Hollow rings instead of dots (e.g. the frontier around the points it joins).
    pub hollow: bool,
}

/// A line or scatter chart.
#[derive(Clone, Debug)]
pub struct Chart<'a> {
    /// Heading drawn above the plot.
    pub title: &'a str,
    /// Text under the x axis.
    pub x_label: &'a str,
    /// Text beside the y axis.
    pub y_label: &'a str,
    /// How x maps to the page.
    pub x_scale: XScale,
    /// Width in px.
    pub width: u32,
    /// Height in px.
    pub height: u32,
    /// The data.
    pub series: &'a [Series],
    /// Horizontal reference lines (y, label), e.g. the SLA limit.
    pub rules: &'a [(f64, String)],
    /// Whether to write the legend under the chart.
    pub legend: bool,
    /// A logarithmic y axis (for values spanning more than a decade).
    pub y_log: bool,
}

/// A data range mapped onto a pixel range.
#[derive(Clone, Copy, Debug)]
pub(super) struct Axis {
    min: f64,
    max: f64,
    step: f64,
    from_px: f64,
    to_px: f64,
    log: bool,
}

impl Axis {
    /// 0..max rounded up to a "nice" step (1, 2 or 5 × 10^k), about five ticks.
    pub(super) fn nice(max: f64, from_px: f64, to_px: f64) -> Axis {
        let max = if max.is_finite() && max > 0.0 {
            max
        } else {
            1.0
        };
        let raw = max / 5.0;
        let magnitude = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * magnitude)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * magnitude);
        Axis {
            min: 0.0,
            max: (max / step).ceil() * step,
            step,
            from_px,
            to_px,
            log: false,
        }
    }

    /// 0..max exactly (ticks at a nice step below it): for a time axis that ends with the data.
    pub(super) fn exact(max: f64, from_px: f64, to_px: f64) -> Axis {
        let nice = Axis::nice(max, from_px, to_px);
        Axis {
            max: if max.is_finite() && max > 0.0 {
                max
            } else {
                nice.max
            },
            ..nice
        }
    }

    /// Whole decades around the positive values from `lo` to `hi`.
    pub(super) fn logarithmic(lo: f64, hi: f64, from_px: f64, to_px: f64) -> Axis {
        let lo = if lo.is_finite() && lo > 0.0 { lo } else { 1.0 };
        let hi = if hi.is_finite() && hi > lo {
            hi
        } else {
            lo * 10.0
        };
        // The nearest 1, 2 or 5 × 10^k below the data and above it.
        let down = |v: f64| {
            let d = 10f64.powf(v.log10().floor());
            [5.0, 2.0, 1.0]
                .iter()
                .map(|m| m * d)
                .find(|x| *x <= v * 1.0001)
                .unwrap_or(d)
        };
        let up = |v: f64| {
            let d = 10f64.powf(v.log10().floor());
            [1.0, 2.0, 5.0, 10.0]
                .iter()
                .map(|m| m * d)
                .find(|x| *x >= v * 0.9999)
                .unwrap_or(10.0 * d)
        };
        Axis {
            min: down(lo),
            max: up(hi),
            step: 10.0,
            from_px,
            to_px,
            log: true,
        }
    }

    /// A linear axis from 0 or a log one, over `values`.
    pub(super) fn over(values: &[f64], log: bool, from_px: f64, to_px: f64) -> Axis {
        let positive = values.iter().copied().filter(|v| v.is_finite() && *v > 0.0);
        if log {
            let lo = positive.clone().fold(f64::INFINITY, f64::min);
            let hi = positive.fold(0.0, f64::max);
            Axis::logarithmic(lo, hi, from_px, to_px)
        } else {
            let hi = values
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max);
            Axis::nice(hi * 1.05, from_px, to_px)
        }
    }

    /// Whole decades for a percentile axis: 0%, 90%, 99%, ... up to the data.
    fn decades(max: f64, from_px: f64, to_px: f64) -> Axis {
        Axis {
            min: 0.0,
            max: max.ceil().max(1.0),
            step: 1.0,
            from_px,
            to_px,
            log: false,
        }
    }

    pub(super) fn px(&self, v: f64) -> f64 {
        let t = if self.log {
            let v = v.max(self.min * 0.5);
            (v / self.min).log10() / (self.max / self.min).log10()
        } else {
            v / self.max
        };
        self.from_px + t.clamp(-0.05, 1.05) * (self.to_px - self.from_px)
    }

    /// The pixel ends of the axis: (where its lowest value sits, where its highest does).
    pub(super) fn ends_px(&self) -> (f64, f64) {
        (self.from_px, self.to_px)
    }

    pub(super) fn ticks(&self) -> Vec<f64> {
        if self.log {
            let first = self.min.log10().floor() as i32;
            let last = self.max.log10().ceil() as i32;
            let marks: &[f64] = if last - first <= 2 {
                &[1.0, 2.0, 5.0]
            } else {
                &[1.0]
            };
            let mut out = Vec::new();
            for d in first..=last {
                for m in marks {
                    let v = 10f64.powi(d) * m;
                    if v >= self.min * 0.9999 && v <= self.max * 1.0001 {
                        out.push(v);
                    }
                }
            }
            return out;
        }
        let n = (self.max / self.step + 1e-9).floor() as u32;
        (0..=n).map(|i| f64::from(i) * self.step).collect()
    }
}

/// Where a quantile sits on a [`XScale::Percentile`] axis.
pub fn percentile_x(q: f64) -> f64 {
    (1.0 / (1.0 - q)).log10()
}

/// `12`, `2.5`, `0.125`, `1.2k`: short tick and tooltip numbers.
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    if a >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if a >= 1000.0 {
        format!("{:.1}k", v / 1000.0).replace(".0k", "k")
    } else if a >= 100.0 || v == v.trunc() {
        format!("{v:.0}")
    } else if a >= 1.0 {
        trim(format!("{v:.2}"))
    } else {
        trim(format!("{v:.3}"))
    }
}

fn trim(s: String) -> String {
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn percentile_tick(decade: f64) -> String {
    let q = 1.0 - 10f64.powf(-decade);
    trim(format!("{:.6}", q * 100.0)) + "%"
}

/// A point on the page's data axes (x already mapped through the scale).
struct Point<'a> {
    x: f64,
    y: f64,
    label: Option<&'a str>,
}

/// Writes a line or scatter chart.
pub fn line_chart(chart: &Chart, out: &mut dyn Write) -> io::Result<()> {
    let to_x = |x: f64| match chart.x_scale {
        XScale::Linear | XScale::Log => x,
        XScale::Percentile => percentile_x(x),
    };
    let points: Vec<Vec<Point>> = chart
        .series
        .iter()
        .map(|s| {
            let pts = s.points.iter().enumerate().map(|(i, &(x, y))| Point {
                x: to_x(x),
                y,
                label: s.labels.get(i).map(String::as_str),
            });
            pts.filter(|p| p.x.is_finite() && p.y.is_finite()).collect()
        })
        .collect();
    let all = points.iter().flatten();
    let xs: Vec<f64> = all.clone().map(|p| p.x).collect();
    let x_max = xs.iter().copied().fold(0.0, f64::max);
    let ys: Vec<f64> = all
        .clone()
        .map(|p| p.y)
        .chain(chart.rules.iter().map(|r| r.0))
        .collect();
    let (w, h) = (f64::from(chart.width), f64::from(chart.height));
    let x = match chart.x_scale {
        XScale::Linear => Axis::nice(x_max, LEFT, w - RIGHT),
        XScale::Log => Axis::over(&xs, true, LEFT, w - RIGHT),
        XScale::Percentile => Axis::decades(x_max, LEFT, w - RIGHT),
    };
    let y = Axis::over(&ys, chart.y_log, h - BOTTOM, TOP);
    let count: usize = points.iter().map(Vec::len).sum();
    open_svg(chart.title, chart.width, chart.height, count, out)?;
    axes(chart, &x, &y, out)?;
    for (s, pts) in chart.series.iter().zip(&points) {
        draw_series(s, pts, &x, &y, chart.x_scale, out)?;
    }
    for (value, label) in chart.rules {
        let py = y.px(*value);
        writeln!(
            out,
            r##"<line class="rule" x1="{LEFT}" x2="{:.1}" y1="{py:.1}" y2="{py:.1}"/><text class="rule-label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            w - RIGHT,
            w - RIGHT - 2.0,
            py - 4.0,
            Esc(label)
        )?;
    }
    if count == 0 {
        writeln!(
            out,
            r#"<text class="empty" x="{:.1}" y="{:.1}" text-anchor="middle">no data</text>"#,
            w / 2.0,
            h / 2.0
        )?;
    }
    writeln!(out, "</svg>")?;
    if chart.legend {
        legend(chart.series, out)?;
    }
    writeln!(out, "</figure>")
}

pub(super) fn open_svg(
    title: &str,
    width: u32,
    height: u32,
    points: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        r#"<figure><svg class="chart" role="img" aria-label="{t}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" data-points="{points}"><title>{t}</title>"#,
        t = Esc(title)
    )?;
    writeln!(
        out,
        r#"<text class="title" x="{LEFT}" y="18">{}</text>"#,
        Esc(title)
    )
}

fn axes(chart: &Chart, x: &Axis, y: &Axis, out: &mut dyn Write) -> io::Result<()> {
    let (w, h) = (f64::from(chart.width), f64::from(chart.height));
    writeln!(out, r#"<g class="grid">"#)?;
    for v in y.ticks() {
        let py = y.px(v);
        writeln!(
            out,
            r#"<line x1="{LEFT}" x2="{:.1}" y1="{py:.1}" y2="{py:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            w - RIGHT,
            LEFT - 4.0,
            py + 4.0,
            short_number(v)
        )?;
    }
    for v in x.ticks() {
        let px = x.px(v);
        let label = match chart.x_scale {
            XScale::Linear | XScale::Log => short_number(v),
            XScale::Percentile => percentile_tick(v),
        };
        writeln!(
            out,
            r#"<line x1="{px:.1}" x2="{px:.1}" y1="{TOP}" y2="{:.1}"/><text class="tick" x="{px:.1}" y="{:.1}" text-anchor="middle">{label}</text>"#,
            h - BOTTOM,
            h - BOTTOM + 14.0
        )?;
    }
    writeln!(out, "</g>")?;
    writeln!(
        out,
        r#"<text class="axis-label" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        (LEFT + w - RIGHT) / 2.0,
        h - 6.0,
        Esc(chart.x_label)
    )?;
    writeln!(
        out,
        r#"<text class="axis-label" transform="translate(14 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        (TOP + h - BOTTOM) / 2.0,
        Esc(chart.y_label)
    )
}

fn draw_series(
    s: &Series,
    pts: &[Point],
    x: &Axis,
    y: &Axis,
    scale: XScale,
    out: &mut dyn Write,
) -> io::Result<()> {
    let color = PALETTE[s.color % PALETTE.len()];
    if s.line && pts.len() > 1 {
        write!(out, r#"<path class="series" fill="none" stroke="{color}""#)?;
        if s.dashed {
            write!(out, r#" stroke-dasharray="5 3""#)?;
        }
        write!(out, r#" d=""#)?;
        for (i, p) in pts.iter().enumerate() {
            let command = if i == 0 { "M" } else { " L" };
            write!(out, "{command}{:.1} {:.1}", x.px(p.x), y.px(p.y))?;
        }
        writeln!(out, r#""><title>{}</title></path>"#, Esc(&s.name))?;
    }
    let mut placed: Vec<(f64, f64, f64)> = Vec::new();
    if s.markers || pts.len() == 1 {
        for p in pts {
            let shown_x = match scale {
                XScale::Linear | XScale::Log => short_number(p.x),
                XScale::Percentile => percentile_tick(p.x),
            };
            let (px, py) = (x.px(p.x), y.px(p.y));
            let paint = if s.hollow {
                format!(r#"r="7" fill="none" stroke="{color}" stroke-width="2""#)
            } else {
                format!(r#"r="3.5" fill="{color}""#)
            };
            writeln!(
                out,
                r#"<circle cx="{px:.1}" cy="{py:.1}" {paint}><title>{}: {shown_x}, {}</title></circle>"#,
                Esc(p.label.unwrap_or(&s.name)),
                short_number(p.y)
            )?;
            if let (true, Some(label)) = (s.point_labels, p.label) {
                let (lx, ly, anchor) = place_label(&mut placed, label, px, py, x.to_px);
                writeln!(
                    out,
                    r#"<text class="point-label" x="{lx:.1}" y="{ly:.1}" text-anchor="{anchor}">{}</text>"#,
                    Esc(label)
                )?;
            }
        }
    }
    Ok(())
}

/// Where a point's label goes: beside the point, moved up or down until it overprints no
/// label already `placed` (left, right, baseline), at about 6 px a character.
fn place_label(
    placed: &mut Vec<(f64, f64, f64)>,
    label: &str,
    px: f64,
    py: f64,
    right_edge: f64,
) -> (f64, f64, &'static str) {
    let width = label.chars().count() as f64 * 6.0;
    let (anchor, left) = if px + 6.0 + width > right_edge {
        ("end", px - 6.0 - width)
    } else {
        ("start", px + 6.0)
    };
    let clear = |y: f64, placed: &[(f64, f64, f64)]| {
        placed
            .iter()
            .all(|&(l, r, b)| (y - b).abs() >= 12.0 || left > r || left + width < l)
    };
    let y = [-6.0, 14.0, -18.0, 26.0, -30.0, 38.0]
        .iter()
        .map(|dy| py + dy)
        .find(|y| clear(*y, placed))
        .unwrap_or(py - 6.0);
    placed.push((left, left + width, y));
    let x = if anchor == "end" { px - 6.0 } else { px + 6.0 };
    (x, y, anchor)
}

pub(super) fn legend(series: &[Series], out: &mut dyn Write) -> io::Result<()> {
    write!(out, r#"<figcaption class="legend">"#)?;
    for s in series {
        let style = if s.dashed { "dashed" } else { "solid" };
        write!(
            out,
            r#"<span><i class="{style}" style="border-color:{}"></i>{}</span>"#,
            PALETTE[s.color % PALETTE.len()],
            Esc(&s.name)
        )?;
    }
    writeln!(out, "</figcaption>")
}

/// One bar of a bar chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// Text left of the bar.
    pub label: String,
    /// Length of the bar.
    pub value: f64,
}

/// Writes a horizontal bar chart, one row per bar, `x_label` saying what the bars count.
pub fn bar_chart(
    title: &str,
    x_label: &str,
    bars: &[Bar],
    width: u32,
    out: &mut dyn Write,
) -> io::Result<()> {
    const ROW: f64 = 22.0;
    const LABEL: f64 = 170.0;
    let height = (TOP + ROW * bars.len() as f64 + 30.0).ceil() as u32;
    let max = bars.iter().map(|b| b.value).fold(0.0, f64::max).max(1.0);
    let room = f64::from(width) - LABEL - 70.0;
    open_svg(title, width, height, bars.len(), out)?;
    for (i, b) in bars.iter().enumerate() {
        let top = TOP + ROW * i as f64;
        let len = (b.value / max * room).max(1.0);
        writeln!(
            out,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{l}</text><rect x="{LABEL}" y="{:.1}" width="{len:.1}" height="{:.1}" fill="{}"><title>{l}: {v}</title></rect><text class="tick" x="{:.1}" y="{:.1}">{v}</text>"#,
            LABEL - 6.0,
            top + 15.0,
            top + 3.0,
            ROW - 6.0,
            PALETTE[2],
            LABEL + len + 4.0,
            top + 15.0,
            l = Esc(&b.label),
            v = short_number(b.value),
        )?;
    }
    writeln!(
        out,
        r#"<text class="axis-label" x="{LABEL}" y="{}">{}</text></svg>"#,
        height - 8,
        Esc(x_label)
    )?;
    writeln!(
        out,
        r#"<figcaption class="legend"><span><i class="solid" style="border-color:{}"></i>{}</span></figcaption></figure>"#,
        PALETTE[2],
        Esc(x_label)
    )
}

#[cfg(test)]
mod tests;
