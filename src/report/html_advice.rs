//! The recommendation section of report.html, at a glance: a headline with what to deploy
//! (hosting option, instance type, count, $/hour, $/month, $/million requests, the scaling
//! policy, why the runner-up lost), the notes behind it, the policy JSON, the candidate table
//! (counts, `~` confidence marks, cold starts, reasons), cost vs latency with labelled
//! points and the frontier drawn, and the month of each hosting option.

use super::candidates::{self, Advice, Candidate};
use super::escape::Esc;
use super::headline::{self, dollars};
use super::svg::{self, Chart, Series, XScale};
use crate::recommend::Recommendation;
use std::io::{self, Write};

/// Writes the section (a placeholder without a recommendation).
pub fn write(rec: Option<&Recommendation>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        r#"<section id="recommendation"><h2>Recommendation</h2>"#
    )?;
    let Some(rec) = rec else {
        return writeln!(
            out,
            r#"<p class="placeholder">No recommendation in this run: it needs <code>[sla]</code> and <code>[traffic]</code> in the profile.</p></section>"#
        );
    };
    let advice = Advice::of(rec);
    match (headline::headline(rec), &advice.choice) {
        (Some(h), _) => headline_box(&h, out)?,
        (None, Some(choice)) => writeln!(
            out,
            r#"<p class="callout">Meets the SLA: <strong>{}</strong></p>"#,
            Esc(choice)
        )?,
        (None, None) => writeln!(out, r#"<p class="fail">No candidate meets the SLA.</p>"#)?,
    }
    // The headline shows the policy and the month table the crossovers.
    let shown_elsewhere = |n: &&String| {
        ["Autoscaling:", "A month at", "Crossover:"]
            .iter()
            .any(|p| n.starts_with(p))
    };
    let notes = headline::notes(rec);
    for note in advice
        .notes
        .iter()
        .chain(notes.iter().filter(|n| !shown_elsewhere(n)))
    {
        writeln!(out, "<p>{}</p>", Esc(note))?;
    }
    let policy = rec
        .choice
        .and_then(|i| rec.candidates.get(i))
        .and_then(|c| c.scaling.as_ref());
    if let Some(p) = policy {
        writeln!(
            out,
            r#"<details open><summary>Autoscaling policy (<code>aws application-autoscaling put-scaling-policy --policy-type TargetTrackingScaling --target-tracking-scaling-policy-configuration file://policy.json</code>, after <code>register-scalable-target --min-capacity {} --max-capacity {}</code>)</summary><pre class="json">{}</pre></details>"#,
            p.min_instances,
            p.max_instances,
            Esc(&p.json())
        )?;
    }
    candidate_table(&advice.candidates, out)?;
    cost_chart(&advice.candidates, out)?;
    monthly_table(rec, out)?;
    writeln!(out, "</section>")
}

fn headline_box(h: &headline::Headline, out: &mut dyn Write) -> io::Result<()> {
    let count = if h.count == "-" {
        String::new()
    } else {
        format!(" — {}", Esc(&h.count))
    };
    writeln!(
        out,
        r#"<div class="headline" id="headline"><p class="what">Deploy {} {}{count}</p><dl>"#,
        Esc(&h.hosting),
        Esc(&h.instance),
    )?;
    let dash = || "-".to_string();
    let figures = [
        ("hosting", h.hosting.clone()),
        ("instance type", h.instance.clone()),
        ("instances", h.count.clone()),
        ("$/hour at peak", h.per_hour.clone().unwrap_or_else(dash)),
        ("$/month", h.per_month.clone().unwrap_or_else(dash)),
        (
            "$/million requests",
            h.per_million.clone().unwrap_or_else(dash),
        ),
    ];
    for (k, v) in figures {
        writeln!(out, "<div><dt>{k}</dt><dd>{}</dd></div>", Esc(&v))?;
    }
    writeln!(out, "</dl>")?;
    if let Some(s) = &h.scaling {
        writeln!(out, "<p><strong>Scaling policy:</strong> {}</p>", Esc(s))?;
    }
    if let Some(r) = &h.runner_up {
        writeln!(out, "<p><strong>Runner-up:</strong> {}</p>", Esc(r))?;
    }
    writeln!(out, "</div>")
}

fn candidate_table(cands: &[Candidate], out: &mut dyn Write) -> io::Result<()> {
    let mut columns: Vec<&str> = Vec::new();
    for c in cands {
        for (k, _) in &c.fields {
            if !columns.contains(&k.as_str()) {
                columns.push(k);
            }
        }
    }
    write!(
        out,
        r#"<div class="scroll"><table id="candidates"><tr><th class="l">candidate</th><th>meets SLA</th>"#
    )?;
    let wide = |k: &str| matches!(k, "best load" | "USD per hour" | "USD per million");
    let class = |k: &str| if wide(k) { "l wide" } else { "l" };
    for k in &columns {
        write!(out, r#"<th class="{}">{}</th>"#, class(k), Esc(k))?;
    }
    writeln!(out, "</tr>")?;
    for c in cands {
        let ok = if c.feasible {
            r#"<span class="pass">yes</span>"#
        } else {
            r#"<span class="fail">no</span>"#
        };
        write!(
            out,
            r#"<tr><td class="l">{}</td><td>{ok}</td>"#,
            Esc(&c.label)
        )?;
        for k in &columns {
            let v = c
                .fields
                .iter()
                .find(|(f, _)| f == k)
                .map_or("", |(_, v)| v.as_str());
            write!(out, r#"<td class="{}">{}</td>"#, class(k), Esc(v))?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(
        out,
        r#"</table></div><p class="muted"><code>~</code>: the percentile rests on fewer samples than it needs (low confidence). <code>≥</code>: the best load is the sweep's top, so capacity may be higher and the count is at most the one shown.</p>"#
    )
}

fn cost_chart(cands: &[Candidate], out: &mut dyn Write) -> io::Result<()> {
    let frontier_points = candidates::frontier(cands);
    let frontier = Series {
        name: "Pareto frontier (ringed, joined)".into(),
        color: 4,
        dashed: true,
        markers: true,
        line: true,
        points: frontier_points,
        labels: Vec::new(),
        point_labels: false,
        hollow: true,
    };
    let series = [
        scatter("meets the SLA", 0, cands.iter().filter(|c| c.feasible)),
        scatter("rejected", 9, cands.iter().filter(|c| !c.feasible)),
        frontier,
    ];
    let xs = cands.iter().filter_map(|c| c.latency_ms);
    let ys = cands.iter().filter_map(|c| c.cost_per_million);
    let chart = Chart {
        title: "Cost per million requests vs latency",
        x_label: "latency at the SLA percentile (ms)",
        y_label: "USD per million requests",
        x_scale: if svg::spans_decade(xs) {
            XScale::Log
        } else {
            XScale::Linear
        },
        width: 640,
        height: 380,
        series: &series,
        rules: &[],
        legend: true,
        y_log: svg::spans_decade(ys),
    };
    svg::line_chart(&chart, out)
}

/// Candidates with both figures as labelled markers.
fn scatter<'a>(name: &str, color: usize, cands: impl Iterator<Item = &'a Candidate>) -> Series {
    let (points, labels) = cands
        .filter_map(|c| Some(((c.latency_ms?, c.cost_per_million?), c.label.clone())))
        .unzip();
    Series {
        name: name.into(),
        color,
        dashed: false,
        markers: true,
        line: false,
        points,
        labels,
        point_labels: true,
        hollow: false,
    }
}

/// Each hosting option's month under the traffic's shape, cheapest first, and the crossovers.
fn monthly_table(rec: &Recommendation, out: &mut dyn Write) -> io::Result<()> {
    let Some(m) = rec.monthly.as_ref().filter(|m| !m.options.is_empty()) else {
        return Ok(());
    };
    writeln!(
        out,
        r#"<h3>A month of this traffic ({:.1} req/s average, 730 hours)</h3><table id="monthly"><tr><th class="l">option</th><th>$/month</th></tr>"#,
        m.average_rps
    )?;
    for (i, o) in m.options.iter().enumerate() {
        let name = if i == 0 {
            format!("<strong>{}</strong> (cheapest)", Esc(&o.label))
        } else {
            Esc(&o.label).to_string()
        };
        writeln!(
            out,
            r#"<tr><td class="l">{name}</td><td>{}</td></tr>"#,
            dollars(o.usd.0)
        )?;
    }
    writeln!(out, "</table>")?;
    for x in &m.crossovers {
        writeln!(out, "<p>Crossover: {}.</p>", Esc(x))?;
    }
    Ok(())
}
