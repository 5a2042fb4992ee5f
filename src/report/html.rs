//! `report.html`: one self-contained page (inline CSS and SVG, no script, nothing loaded
//! from the network) that opens in any browser, reads at 1400 and 800 px and prints.
//!
//! Sections: the run (profile, SLA, environment), the recommendation at a glance
//! ([`super::html_advice`]), the results table, one timeline of the whole run
//! ([`super::timeline`]), error examples, and charts — latency vs throughput per (hosting,
//! instance type), percentile distribution curves per cell from the stored histograms, and
//! errors by class. The charts live in [`super::html_charts`].

use super::escape::Esc;
use super::html_charts;
use super::view;
use crate::domain::Sla;
use crate::recommend::Recommendation;
use crate::store::record::RunRecord;
use std::io::{self, Write};

const CSS: &str = r#"
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: #222; margin: 0 auto; padding: 16px 24px; max-width: 1240px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 28px 0 8px;
  border-bottom: 1px solid #ddd; padding-bottom: 4px; } h3 { font-size: 15px; margin: 14px 0 4px; }
.muted { color: #666; } .pass { color: #1a7f37; font-weight: 600; } .fail { color: #c62828; font-weight: 600; }
table { border-collapse: collapse; margin: 6px 0 12px; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: right; vertical-align: top; }
th { background: #f4f6f8; } td.l, th.l { text-align: left; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 8px 0; }
dl.facts dt { color: #555; } dl.facts dd { margin: 0; }
.charts { display: flex; flex-wrap: wrap; gap: 12px 20px; }
svg.chart { max-width: 100%; height: auto; } .scroll { overflow-x: auto; max-width: 100%; }
svg.chart .point-label { fill: #333; font-size: 11px; } svg.chart .cell-rule { stroke: #bbb; }
svg.chart .cell-label { fill: #555; font-size: 10px; } svg.chart .group-label { fill: #222; font-size: 11px; font-weight: 600; }
.headline { border: 1px solid #cfe3d6; background: #f3faf5; padding: 10px 14px; margin: 8px 0 12px; }
.headline .what { font-size: 18px; font-weight: 600; margin: 0 0 6px; }
.headline dl { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 6px 16px; margin: 6px 0; }
.headline dt { color: #555; font-size: 12px; } .headline dd { margin: 0; font-size: 16px; font-weight: 600; }
pre.json { background: #f6f8fa; padding: 8px 10px; overflow-x: auto; font-size: 12px; }
#timeline svg.chart { font-size: 13px; } #timeline svg.chart .cell-label { font-size: 11px; }
#timeline svg.chart .group-label { font-size: 13px; }
td.notes { min-width: 220px; max-width: 460px; font-size: 12px; } td.l, th.l { white-space: normal; }
@media (max-width: 960px) { body { padding: 10px 12px; } .wide { display: none; } td.notes { min-width: 180px; }
  .headline .what { font-size: 16px; } }
figure { margin: 0; break-inside: avoid; }
svg.chart { background: #fff; font-size: 11px; }
svg.chart .grid line { stroke: #e6e6e6; } svg.chart .tick { fill: #555; }
svg.chart .title { font-weight: 600; font-size: 13px; } svg.chart .axis-label { fill: #333; }
svg.chart .series { stroke-width: 2; } svg.chart .rule { stroke: #c62828; stroke-dasharray: 6 4; }
svg.chart .rule-label { fill: #c62828; } svg.chart .empty { fill: #999; font-size: 14px; }
.legend { display: flex; flex-wrap: wrap; gap: 2px 14px; max-width: 600px; font-size: 12px; }
.legend i { display: inline-block; width: 18px; margin-right: 5px; vertical-align: middle;
  border-top: 3px solid; } .legend i.dashed { border-top-style: dashed; }
.callout { border-left: 4px solid #1a7f37; background: #f3faf5; padding: 8px 12px; margin: 8px 0; }
.placeholder { border: 1px dashed #bbb; padding: 8px 12px; color: #666; }
@media print { body { max-width: none; padding: 0; } h2 { break-after: avoid; } }
"#;

/// Writes the whole page.
pub fn write(summary: &RunRecord, out: &mut dyn Write) -> io::Result<()> {
    let name = summary.profile.name.as_str();
    let sla = summary.profile.sla;
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    )?;
    writeln!(
        out,
        r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#
    )?;
    writeln!(
        out,
        "<title>loadtest: {}</title><style>{CSS}</style></head><body>",
        Esc(name)
    )?;
    overview(summary, sla.as_ref(), out)?;
    recommendation(summary.recommendation.as_ref(), out)?;
    super::timeline::write(summary, out)?;
    html_charts::latency_vs_throughput(summary, sla.as_ref(), out)?;
    results_table(summary, sla.as_ref(), out)?;
    super::token_charts::charts(summary, sla.as_ref(), out)?;
    html_charts::percentile_curves(summary, sla.as_ref(), out)?;
    html_charts::errors(summary, out)?;
    error_messages(summary, out)?;
    writeln!(
        out,
        r#"<p class="muted">Written by {} {} from summary.json (schema {}).</p></body></html>"#,
        Esc(&summary.tool.name),
        Esc(&summary.tool.version),
        summary.schema_version
    )
}

fn overview(summary: &RunRecord, sla: Option<&Sla>, out: &mut dyn Write) -> io::Result<()> {
    let name = summary.profile.name.as_str();
    let description = summary.profile.description.as_str();
    writeln!(
        out,
        "<header><h1>{}</h1>",
        Esc(if name.is_empty() {
            "loadtest run"
        } else {
            name
        })
    )?;
    if !description.is_empty() {
        writeln!(out, "<p>{}</p>", Esc(description))?;
    }
    writeln!(out, r#"<dl class="facts">"#)?;
    for (k, v) in view::facts(summary, sla) {
        writeln!(out, "<dt>{k}</dt><dd>{}</dd>", Esc(&v))?;
    }
    writeln!(out, "</dl></header>")
}

fn results_table(summary: &RunRecord, sla: Option<&Sla>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<section><h2>Results</h2>")?;
    writeln!(
        out,
        "<p class=\"muted\">Latency is response time in ms, from the intended send (open loop) \
         or the send (closed loop); req/s counts successful responses.</p>"
    )?;
    writeln!(
        out,
        r#"<div class="scroll"><table id="results"><tr><th>#</th><th class="l">hosting</th><th class="l">instance</th><th>payload</th><th class="l">load</th><th>req/s</th><th class="wide">sent/s</th><th>p50</th><th class="wide">p90</th><th>p99</th><th class="wide">p99.9</th><th>max</th><th>errors</th><th>SLA</th><th class="l notes">notes</th></tr>"#
    )?;
    for c in &summary.cells {
        let lat = |f: fn(&crate::results::Percentiles) -> f64| {
            c.latency
                .as_ref()
                .map_or("-".to_string(), |l| format!("{:.1}", f(l)))
        };
        let verdict = match sla {
            Some(s) if view::sla_checks(s, c).iter().all(|k| k.passed) => {
                r#"<span class="pass">pass</span>"#
            }
            Some(_) => r#"<span class="fail">fail</span>"#,
            None => "-",
        };
        writeln!(
            out,
            r#"<tr><td>{}</td><td class="l">{}</td><td class="l">{}</td><td>{}</td><td class="l">{}</td><td>{:.1}</td><td class="wide">{:.1}</td><td>{}</td><td class="wide">{}</td><td>{}</td><td class="wide">{}</td><td>{}</td><td>{:.2}%</td><td>{verdict}</td><td class="l notes">{}</td></tr>"#,
            c.index,
            c.deployment.hosting_label(),
            Esc(&c.deployment.variant_label()),
            Esc(&c.payload_label()),
            c.load,
            c.throughput_rps,
            c.achieved_rps,
            lat(|l| l.p50_ms),
            lat(|l| l.p90_ms),
            lat(|l| l.p99_ms),
            lat(|l| l.p999_ms),
            lat(|l| l.max_ms),
            c.error_rate * 100.0,
            notes(c)
        )?;
    }
    writeln!(out, "</table></div></section>")
}

/// A cell's notes, escaped; a cell whose every request failed says so first, in bold.
fn notes(c: &crate::results::CellSummary) -> String {
    view::notes_line(
        c,
        |s| Esc(s).to_string(),
        |s| format!("<strong>{s}</strong>"),
    )
}

/// Per cell and class that failed: the statuses seen and the first distinct messages.
fn error_messages(summary: &RunRecord, out: &mut dyn Write) -> io::Result<()> {
    if summary.cells.iter().all(|c| c.errors == 0) {
        return writeln!(
            out,
            r#"<section id="error-examples"><h2>Error examples</h2><p>No failed requests.</p></section>"#
        );
    }
    writeln!(
        out,
        r#"<section id="error-examples"><h2>Error examples: What the failures said</h2><div class="scroll"><table><tr><th class="l">cell</th><th class="l">class</th><th>count</th><th class="l">statuses</th><th class="l">first messages</th></tr>"#
    )?;
    for c in summary.cells.iter().filter(|c| c.errors > 0) {
        let label = if c.all_failed() {
            format!(
                "<strong>{}</strong> ({})",
                Esc(&view::cell_label(c)),
                view::ALL_FAILED
            )
        } else {
            Esc(&view::cell_label(c)).to_string()
        };
        for line in view::error_lines(c) {
            let messages: Vec<String> = line
                .messages
                .iter()
                .map(|m| format!("<code>{}</code>", Esc(m)))
                .collect();
            writeln!(
                out,
                r#"<tr><td class="l">{label}</td><td class="l">{}</td><td>{}</td><td class="l">{}</td><td class="l">{}</td></tr>"#,
                Esc(&line.kind),
                line.count,
                Esc(&line.statuses),
                messages.join("<br>")
            )?;
        }
    }
    writeln!(out, "</table></div></section>")
}

/// The recommendation section: the headline (what to deploy, its cost and scaling policy,
/// why the runner-up lost), the ranked candidates and the cost-per-million vs latency chart
/// with its Pareto frontier — or a marked placeholder when the run made no recommendation
/// (`summary.json` has no `"recommendation"`). See [`super::html_advice`].
pub fn recommendation(rec: Option<&Recommendation>, out: &mut dyn Write) -> io::Result<()> {
    super::html_advice::write(rec, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::summary;

    fn page(s: &RunRecord) -> String {
        let mut out = Vec::new();
        write(s, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_profile_text() {
        let html = page(&summary(true));
        assert!(html.contains("bert &lt;launch&gt;"));
        assert!(html.contains("BERT &amp; friends"));
        assert!(!html.contains("<launch>"));
    }

    #[test]
    fn marks_the_recommendation_placeholder_or_renders_it() {
        let mut s = summary(true);
        assert!(page(&s).contains(r#"class="placeholder""#));
        let table = crate::pricing::PriceTable::embedded();
        let prices = crate::recommend::Prices {
            table: &table,
            region: "us-east-1",
        };
        let sla = s.profile.sla.unwrap();
        let rec = crate::recommend::recommend(&s.cells, &sla, None, prices, &Default::default());
        s.recommendation = Some(rec);
        let html = page(&s);
        assert!(!html.contains(r#"class="placeholder""#));
        assert!(html.contains("Cost per million requests vs latency"));
    }

    #[test]
    fn write_errors_propagate() {
        let mut small = [0u8; 4096];
        assert!(write(&summary(true), &mut &mut small[..]).is_err());
    }
}
