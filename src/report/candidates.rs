//! What the HTML and Markdown reports show of a run's [`Recommendation`]: the choice, every
//! candidate as a table row, and the cost-per-million vs latency points of the Pareto
//! frontier.

use crate::domain::Quantile;
use crate::recommend::Recommendation;

/// What the reports show of a recommendation.
#[derive(Clone, Debug, PartialEq)]
pub struct Advice {
    /// Label of the cheapest configuration that meets the SLA, if any.
    pub choice: Option<String>,
    /// A sentence to show when nothing is feasible, or about the prices.
    pub notes: Vec<String>,
    /// Every candidate, ranked ones first.
    pub candidates: Vec<Candidate>,
}

impl Advice {
    /// The rows and notes of `rec`.
    pub fn of(rec: &Recommendation) -> Advice {
        let percentile = rec.sla.percentile;
        let candidates = rec
            .candidates
            .iter()
            .map(|c| typed_candidate(c, percentile))
            .collect();
        let choice = rec
            .choice
            .and_then(|i| rec.candidates.get(i))
            .map(|c| c.label());
        let mut notes: Vec<String> = super::recommendation::interruption_line(rec)
            .into_iter()
            .collect();
        notes.push(format!(
            "Prices: {} as of {}.",
            rec.region,
            rec.prices_as_of.join(", ")
        ));
        if let Some(miss) = &rec.nearest_miss {
            notes.push(format!(
                "Nothing meets the SLA; nearest: {}",
                miss.explanation
            ));
        }
        Advice {
            choice,
            notes,
            candidates,
        }
    }
}

fn typed_candidate(c: &crate::recommend::Candidate, percentile: Quantile) -> Candidate {
    let op = c.operating.as_ref();
    let cost = c.cost.as_ref();
    let dash = || "-".to_string();
    let reasons: Vec<String> = c.reasons().iter().map(ToString::to_string).collect();
    let mut fields = vec![
        ("rank", c.rank.map_or_else(dash, |r| r.to_string())),
        ("instances", super::headline::count(c).unwrap_or_else(dash)),
        ("best load", op.map_or_else(dash, |o| o.load.to_string())),
        (
            "req/s per instance",
            c.capacity.as_ref().map_or_else(
                || op.map_or_else(dash, |o| format!("{:.1}", o.per_instance_rps)),
                |k| k.describe(),
            ),
        ),
        (
            "latency ms",
            op.map_or_else(dash, |o| {
                let mark = if o.low_confidence { "~" } else { "" };
                format!("{percentile} {mark}{:.1}", o.latency_ms)
            }),
        ),
        (
            "cold start",
            c.first_request_ms
                .map_or_else(dash, |ms| format!("{ms:.0} ms")),
        ),
        (
            "USD per hour",
            cost.and_then(|k| k.per_hour)
                .map_or_else(dash, |u| u.to_string()),
        ),
        (
            "USD per month",
            c.monthly
                .as_ref()
                .map_or_else(dash, |m| super::headline::dollars(m.usd.0)),
        ),
        (
            "USD per million",
            cost.map_or_else(dash, |k| k.per_million.to_string()),
        ),
        ("why not", reasons.join("; ")),
    ];
    if let Some(r) = &c.repeats {
        let range = super::recommendation::range_text(r, percentile);
        fields.push(("over repeats", range));
    }
    Candidate {
        label: c.label(),
        fields: fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        cost_per_million: cost.map(|k| k.per_million.0),
        latency_ms: op.map(|o| o.latency_ms),
        feasible: c.feasible(),
        reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
        on_frontier: c.on_frontier,
    }
}

/// One candidate configuration as the reports show it.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// `real-time ml.c5.xlarge`.
    pub label: String,
    /// The columns of its table row, in order.
    pub fields: Vec<(String, String)>,
    /// Cost per million requests (USD), when given.
    pub cost_per_million: Option<f64>,
    /// Latency at the SLA percentile (ms), when given.
    pub latency_ms: Option<f64>,
    /// Whether the candidate meets every limit.
    pub feasible: bool,
    /// Why it does not, when it does not.
    pub reason: Option<String>,
    /// Whether the recommendation marks it as on the cost–latency Pareto frontier.
    pub on_frontier: bool,
}

/// The cost–latency Pareto frontier among feasible candidates, as (latency, cost) points,
/// cheapest first.
pub fn frontier(cands: &[Candidate]) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = cands
        .iter()
        .filter(|c| c.feasible && c.on_frontier)
        .filter_map(|c| Some((c.latency_ms?, c.cost_per_million?)))
        .collect();
    points.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.total_cmp(&b.0)));
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_every_candidate_of_a_recommendation() {
        let s = crate::report::test_support::summary(true);
        let sla = s.profile.sla.unwrap();
        let table = crate::pricing::PriceTable::embedded();
        let prices = crate::recommend::Prices {
            table: &table,
            region: "us-east-1",
        };
        let rec = crate::recommend::recommend(&s.cells, &sla, None, prices, &Default::default());
        let advice = Advice::of(&rec);
        assert_eq!(advice.candidates.len(), rec.candidates.len());
        assert_eq!(advice.choice.as_deref(), Some("real-time ml.c5.xlarge"));
        let c = &advice.candidates[0];
        assert!(
            c.feasible && c.cost_per_million.is_some() && c.latency_ms.is_some(),
            "{c:?}"
        );
        assert_eq!(frontier(&advice.candidates).len(), 1);
    }
}
