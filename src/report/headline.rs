//! What to deploy, in words every report shares (terminal, recommendation.md, report.html):
//! the headline (hosting option, instance type, count, $/hour, $/month, $/million requests,
//! the scaling policy, why the runner-up lost) and the notes behind it (capacity beyond the
//! sweep, the instance floor, the month per hosting option, the crossover).

use crate::recommend::{Billing, Candidate, Recommendation};

/// The recommendation at a glance.
#[derive(Clone, Debug, PartialEq)]
pub struct Headline {
    /// `real-time`.
    pub hosting: String,
    /// `ml.g4dn.xlarge` or `serverless-4096`.
    pub instance: String,
    /// `2 instances`, `at most 3 instances`, `up to 34 requests in flight`.
    pub count: String,
    /// `$1.4728` at peak, when known.
    pub per_hour: Option<String>,
    /// `$1,075.14` under the traffic's shape, when known.
    pub per_month: Option<String>,
    /// `$0.5114`.
    pub per_million: Option<String>,
    /// `target tracking … = 28,335/min, 2–2 instances`.
    pub scaling: Option<String>,
    /// Why the runner-up lost, when there is one.
    pub runner_up: Option<String>,
}

/// `$1,234.57`: dollars with thousands separators and cents.
pub fn dollars(usd: f64) -> String {
    let cents = (usd * 100.0).round() as i64;
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("${grouped}.{:02}", (cents % 100).abs())
}

/// The instances (or serverless concurrency) a candidate runs at peak.
pub fn count(c: &Candidate) -> Option<String> {
    if let Some(f) = &c.fleet {
        return Some(f.count_label());
    }
    match &c.cost.as_ref()?.billing {
        Billing::PerUse {
            concurrency_at_peak: Some(n),
            ..
        } => Some(format!("{n:.1} requests in flight at peak")),
        Billing::WhileBusy {
            busy_hours_per_day: Some(h),
            ..
        } => Some(format!("{h:.1} instance-hours a day")),
        Billing::AlwaysOn {
            instances: Some(n), ..
        } => Some(format!("{n} instance{}", if *n == 1 { "" } else { "s" })),
        _ => None,
    }
}

/// The headline of the choice; `None` when nothing is feasible.
pub fn headline(rec: &Recommendation) -> Option<Headline> {
    let c = rec.candidates.get(rec.choice?)?;
    let cost = c.cost.as_ref();
    Some(Headline {
        hosting: c.hosting_label().to_string(),
        instance: c.variant_label(),
        count: count(c).unwrap_or_else(|| "-".into()),
        per_hour: cost.and_then(|k| k.per_hour).map(|u| u.to_string()),
        per_month: c.monthly.as_ref().map(|m| dollars(m.usd.0)),
        per_million: cost.map(|k| k.per_million.to_string()),
        scaling: c.scaling.as_ref().map(|s| s.describe()),
        runner_up: runner_up(rec, c),
    })
}

/// Why the second-ranked candidate is not the choice.
fn runner_up(rec: &Recommendation, choice: &Candidate) -> Option<String> {
    let second = rec.candidates.iter().find(|c| !std::ptr::eq(*c, choice))?;
    let name = second.label();
    if !second.feasible() {
        let why: Vec<String> = second.reasons().iter().map(ToString::to_string).collect();
        return Some(format!("{name} does not meet the SLA: {}", why.join("; ")));
    }
    let month = |c: &Candidate| c.monthly.as_ref().map(|m| m.usd.0);
    if let (Some(a), Some(b)) = (month(choice), month(second)) {
        return Some(format!(
            "{name} costs {} a month, {} more",
            dollars(b),
            dollars(b - a)
        ));
    }
    let per_m = |c: &Candidate| c.cost.as_ref().map(|k| k.per_million.0);
    match (per_m(choice), per_m(second)) {
        (Some(a), Some(b)) if b > a => Some(format!(
            "{name} costs ${b:.4} per million requests against ${a:.4}"
        )),
        _ => Some(format!("{name} is slower at the same cost")),
    }
}

/// The choice in one line: `real-time ml.g4dn.xlarge — 2 instances, $1.4728/hour at peak, …`.
pub fn choice_line(h: &Headline) -> String {
    let mut parts = vec![h.count.clone()];
    if let Some(v) = &h.per_hour {
        parts.push(format!("{v}/hour at peak"));
    }
    if let Some(v) = &h.per_month {
        parts.push(format!("{v}/month"));
    }
    if let Some(v) = &h.per_million {
        parts.push(format!("{v} per million requests"));
    }
    format!("{} {} — {}", h.hosting, h.instance, parts.join(", "))
}

/// Notes behind the choice: capacity beyond the sweep, the floor, scaling, the month of each
/// hosting option and the crossover.
pub fn notes(rec: &Recommendation) -> Vec<String> {
    let mut lines = Vec::new();
    let Some(c) = rec.choice.and_then(|i| rec.candidates.get(i)) else {
        return lines;
    };
    if let Some(cap) = c.capacity.as_ref().filter(|k| k.at_least) {
        let add = cap.add_load.map_or_else(String::new, |l| {
            format!("; add {l} to the sweep to find its limit")
        });
        lines.push(format!(
            "Capacity per instance: ≥ {:.1} req/s (the sweep's top){add}.",
            cap.per_instance_rps
        ));
    }
    if let Some(f) = c.fleet.as_ref().filter(|f| f.min_instances > 0) {
        lines.push(format!(
            "Instances: {} at peak (the peak needs {}), {}.",
            f.count, f.needed, f.floor_reason
        ));
    }
    if let Some(s) = &c.scaling {
        lines.push(format!("Autoscaling: {}.", s.describe()));
    }
    if let Some(m) = &rec.monthly {
        let options: Vec<String> = m
            .options
            .iter()
            .map(|o| format!("{} {}", o.label, dollars(o.usd.0)))
            .collect();
        if !options.is_empty() {
            lines.push(format!(
                "A month at {:.1} req/s average, cheapest first: {}.",
                m.average_rps,
                options.join(" · ")
            ));
        }
        for x in &m.crossovers {
            lines.push(format!("Crossover: {x}."));
        }
    }
    lines
}

/// Candidates whose capacity is a lower bound, and the load to add for each.
pub fn beyond_sweep(rec: &Recommendation) -> Vec<String> {
    rec.candidates
        .iter()
        .filter_map(|c| {
            let cap = c.capacity.as_ref().filter(|k| k.at_least)?;
            let add = cap
                .add_load
                .map(|l| format!(": add {l}"))
                .unwrap_or_default();
            Some(format!("{} {}{add}", c.label(), cap.describe()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_group_thousands() {
        assert_eq!(dollars(1234.567), "$1,234.57");
        assert_eq!(dollars(0.5), "$0.50");
        assert_eq!(dollars(1_000_000.0), "$1,000,000.00");
    }
}
