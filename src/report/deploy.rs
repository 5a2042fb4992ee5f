//! The deployment parts of recommendation.md: the autoscaling policy (ready-to-use JSON and
//! the commands that apply it), how each candidate did on each payload size, and the month
//! of each hosting option under the traffic's shape.

use super::headline::dollars;
use crate::domain::units::format_size;
use crate::recommend::{Recommendation, ScalingPolicy};
use std::io::{self, Write};

/// `## Autoscaling`: the target-tracking policy and the commands that apply it.
pub fn write_policy_markdown(p: &ScalingPolicy, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "## Autoscaling")?;
    writeln!(out)?;
    writeln!(
        out,
        "Target tracking on `{}`: {:.0} invocations per instance per minute (the sustainable rate less the headroom), {} to {} instances.{}",
        crate::recommend::scaling::METRIC,
        p.configuration.target_value,
        p.min_instances,
        p.max_instances,
        if p.conservative {
            " The capacity is the sweep's top, so the target is conservative."
        } else {
            ""
        }
    )?;
    writeln!(out)?;
    writeln!(out, "```sh")?;
    writeln!(
        out,
        "aws application-autoscaling register-scalable-target --service-namespace sagemaker \\\n  --resource-id endpoint/ENDPOINT/variant/AllTraffic \\\n  --scalable-dimension sagemaker:variant:DesiredInstanceCount \\\n  --min-capacity {} --max-capacity {}",
        p.min_instances, p.max_instances
    )?;
    writeln!(
        out,
        "aws application-autoscaling put-scaling-policy --policy-name loadtest-target-tracking \\\n  --service-namespace sagemaker --resource-id endpoint/ENDPOINT/variant/AllTraffic \\\n  --scalable-dimension sagemaker:variant:DesiredInstanceCount \\\n  --policy-type TargetTrackingScaling \\\n  --target-tracking-scaling-policy-configuration file://policy.json"
    )?;
    writeln!(out, "```")?;
    writeln!(out)?;
    writeln!(out, "policy.json:")?;
    writeln!(out)?;
    writeln!(out, "```json\n{}\n```", p.json())?;
    writeln!(out)
}

/// `## Workload`: each candidate on each payload size alone (the mix's share when given).
pub fn write_workload_markdown(rec: &Recommendation, out: &mut dyn Write) -> io::Result<()> {
    if rec.candidates.iter().all(|c| c.workload.len() <= 1) {
        return Ok(());
    }
    writeln!(out, "## Workload: each payload size alone")?;
    writeln!(out)?;
    let mix = rec
        .traffic
        .as_ref()
        .map(|t| {
            let parts: Vec<String> = t
                .payload_mix
                .iter()
                .map(|s| format!("{} {:.0}%", format_size(s.payload_bytes), s.weight * 100.0))
                .collect();
            parts.join(", ")
        })
        .filter(|m| !m.is_empty());
    match &mix {
        Some(m) => writeln!(
            out,
            "Mix {m}: capacity 1 / Σ(wᵢ / rpsᵢ); the percentile from the sizes' histograms weighted by the mix.\n"
        )?,
        None => writeln!(
            out,
            "No `[traffic] payload_mix`: every size must meet the SLA; capacity is the slowest size's.\n"
        )?,
    }
    writeln!(
        out,
        "| candidate | payload | share | best load | rps/inst | latency | verdict |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|")?;
    for c in &rec.candidates {
        for s in &c.workload {
            let op = s.operating.as_ref();
            let reasons: Vec<String> = s.reasons.iter().map(ToString::to_string).collect();
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                c.label(),
                s.label(),
                s.weight
                    .map_or("-".into(), |w| format!("{:.0}%", w * 100.0)),
                op.map_or("-".into(), |o| o.load.to_string()),
                op.map_or("-".into(), |o| format!(
                    "{}{:.1}",
                    if s.at_top() { "≥ " } else { "" },
                    o.per_instance_rps
                )),
                op.map_or("-".into(), |o| format!("{:.1} ms", o.latency_ms)),
                if reasons.is_empty() {
                    "meets the SLA".into()
                } else {
                    reasons.join("; ").replace('|', "\\|")
                }
            )?;
        }
    }
    writeln!(out)
}

/// `## A month of traffic`: each hosting option's month under the shape, cheapest first.
pub fn write_monthly_markdown(rec: &Recommendation, out: &mut dyn Write) -> io::Result<()> {
    let Some(m) = &rec.monthly else {
        return Ok(());
    };
    if m.options.is_empty() {
        return Ok(());
    }
    writeln!(out, "## A month of traffic")?;
    writeln!(out)?;
    let rates: Vec<String> = m.hours.iter().map(|r| format!("{r:.0}")).collect();
    writeln!(
        out,
        "Hourly req/s (00:00 first): {}; {:.1} req/s average; 730 hours a month.\n",
        rates.join(", "),
        m.average_rps
    )?;
    writeln!(out, "| option | $/month |")?;
    writeln!(out, "|---|---|")?;
    for o in &m.options {
        writeln!(out, "| {} | {} |", o.label, dollars(o.usd.0))?;
    }
    writeln!(out)?;
    for x in &m.crossovers {
        writeln!(out, "Crossover: {x}.\n")?;
    }
    Ok(())
}
