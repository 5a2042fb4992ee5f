//! Reads the recommendation stored in summary.json (`"recommendation"`) into what the HTML
//! and Markdown reports show: the choice, ranked candidates as table rows, and the
//! cost-per-million vs latency points with the Pareto frontier.
//!
//! A [`Recommendation`] is read as that type; anything else (an older or newer layout) is read
//! loosely as JSON — field names matched by shape (`cost_per_million*`, `*latency*`,
//! `feasible`, `reason`) — so a report can still be made from any run folder.

use crate::domain::Quantile;
use crate::recommend::Recommendation;
use serde::Deserialize;
use serde_json::{Map, Value};

/// What the reports show of a recommendation.
#[derive(Clone, Debug, PartialEq)]
pub struct Advice {
    /// The typed recommendation, when summary.json holds one in this version's layout.
    pub typed: Option<Recommendation>,
    /// Label of the cheapest configuration that meets the SLA, if any.
    pub choice: Option<String>,
    /// A sentence to show when nothing is feasible, or about the prices.
    pub notes: Vec<String>,
    /// Every candidate, ranked ones first.
    pub candidates: Vec<Candidate>,
}

/// Reads a stored recommendation.
pub fn read(rec: &Value) -> Advice {
    match Recommendation::deserialize(rec) {
        Ok(typed) => from_typed(typed),
        Err(_) => Advice {
            typed: None,
            choice: choice(rec).map(|c| c.label),
            notes: Vec::new(),
            candidates: candidates(rec),
        },
    }
}

fn from_typed(rec: Recommendation) -> Advice {
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
    let mut notes = vec![format!(
        "Prices: {} as of {}.",
        rec.region,
        rec.prices_as_of.join(", ")
    )];
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
        typed: Some(rec),
    }
}

fn typed_candidate(c: &crate::recommend::Candidate, percentile: Quantile) -> Candidate {
    let op = c.operating.as_ref();
    let cost = c.cost.as_ref();
    let dash = || "-".to_string();
    let reasons: Vec<String> = c.reasons().iter().map(ToString::to_string).collect();
    let mut fields = vec![
        ("rank", c.rank.map_or_else(dash, |r| r.to_string())),
        ("best load", op.map_or_else(dash, |o| o.load.to_string())),
        (
            "req/s per instance",
            op.map_or_else(dash, |o| format!("{:.1}", o.per_instance_rps)),
        ),
        (
            "latency ms",
            op.map_or_else(dash, |o| format!("{:.1}", o.latency_ms)),
        ),
        (
            "USD per million",
            cost.map_or_else(dash, |k| k.per_million.to_string()),
        ),
        (
            "USD per hour",
            cost.and_then(|k| k.per_hour)
                .map_or_else(dash, |u| u.to_string()),
        ),
        (
            "USD per day",
            cost.and_then(|k| k.per_day)
                .map_or_else(dash, |u| u.to_string()),
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
    /// `real-time ml.c5.xlarge 1KiB` (from hosting, instance type and payload fields).
    pub label: String,
    /// Every scalar field, nested objects flattened with `.`, in document order.
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

/// The candidates of a recommendation read loosely: ranked ones first, then rejected ones.
pub fn candidates(rec: &Value) -> Vec<Candidate> {
    let lists = [
        "candidates",
        "ranked",
        "ranking",
        "feasible",
        "rejected",
        "infeasible",
    ];
    let frontier = frontier_labels(rec);
    let mut out: Vec<Candidate> = Vec::new();
    for key in lists {
        let Some(items) = rec.get(key).and_then(Value::as_array) else {
            continue;
        };
        let rejected_list = key == "rejected" || key == "infeasible";
        for item in items.iter().filter_map(Value::as_object) {
            let mut c = candidate(item);
            if rejected_list {
                c.feasible = false;
            }
            c.on_frontier |= frontier.contains(&c.label);
            if !out.iter().any(|o| o.fields == c.fields) {
                out.push(c);
            }
        }
    }
    out
}

/// The cheapest feasible choice, when a loosely read recommendation names one.
pub fn choice(rec: &Value) -> Option<Candidate> {
    ["cheapest", "choice", "best", "recommended"]
        .iter()
        .find_map(|k| rec.get(*k).and_then(Value::as_object))
        .map(candidate)
}

fn candidate(item: &Map<String, Value>) -> Candidate {
    let mut fields = Vec::new();
    flatten("", item, &mut fields);
    let number = |pred: &dyn Fn(&str) -> bool| {
        fields
            .iter()
            .find(|(k, _)| pred(k))
            .and_then(|(_, v)| v.parse::<f64>().ok())
    };
    let cost_per_million = number(&|k| k.contains("per_million"));
    let latency_ms =
        number(&|k| k.contains("latency") || (k.starts_with('p') && k.ends_with("_ms")));
    let reason = ["reason", "rejection", "why", "rejected_because"]
        .iter()
        .find_map(|k| item.get(*k))
        .and_then(text)
        .filter(|r| !r.is_empty());
    let feasible = ["feasible", "meets_sla", "ok"]
        .iter()
        .find_map(|k| item.get(*k).and_then(Value::as_bool))
        .unwrap_or(reason.is_none());
    let on_frontier = ["pareto", "on_frontier", "frontier"]
        .iter()
        .any(|k| item.get(*k).and_then(Value::as_bool) == Some(true));
    Candidate {
        label: label(item),
        fields,
        cost_per_million,
        latency_ms,
        feasible,
        reason,
        on_frontier,
    }
}

/// `real-time ml.c5.xlarge 1KiB` from whichever of those fields the candidate has.
fn label(item: &Map<String, Value>) -> String {
    let hosting = item.get("hosting").and_then(text);
    let instance = ["instance_type", "instance", "variant"]
        .iter()
        .find_map(|k| item.get(*k).and_then(text));
    let payload = item
        .get("payload_bytes")
        .and_then(Value::as_u64)
        .map(crate::domain::units::format_size);
    let parts: Vec<String> = [hosting, instance, payload].into_iter().flatten().collect();
    if parts.is_empty() {
        "candidate".into()
    } else {
        parts.join(" ")
    }
}

fn frontier_labels(rec: &Value) -> Vec<String> {
    ["pareto", "frontier", "pareto_frontier"]
        .iter()
        .find_map(|k| rec.get(*k).and_then(Value::as_array))
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_object)
                .map(label)
                .collect()
        })
        .unwrap_or_default()
}

fn flatten(prefix: &str, obj: &Map<String, Value>, out: &mut Vec<(String, String)>) {
    for (k, v) in obj {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(inner) => flatten(&key, inner, out),
            other => {
                if let Some(t) = text(other) {
                    out.push((key, t));
                }
            }
        }
    }
}

/// A scalar (or a list of scalars) as text; `None` for null and objects.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null | Value::Object(_) => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => Some(items.iter().filter_map(text).collect::<Vec<_>>().join("; ")),
        other => Some(other.to_string()),
    }
}

/// The cost–latency frontier among feasible candidates, cheapest first: the ones the
/// recommendation marks, or else each feasible point no cheaper point beats on latency.
pub fn frontier(cands: &[Candidate]) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64, bool)> = cands
        .iter()
        .filter(|c| c.feasible)
        .filter_map(|c| Some((c.latency_ms?, c.cost_per_million?, c.on_frontier)))
        .collect();
    points.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.total_cmp(&b.0)));
    if points.iter().any(|p| p.2) {
        return points
            .into_iter()
            .filter(|p| p.2)
            .map(|p| (p.0, p.1))
            .collect();
    }
    let mut best = f64::INFINITY;
    let mut out = Vec::new();
    for (latency, cost, _) in points {
        if latency < best {
            best = latency;
            out.push((latency, cost));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec() -> Value {
        serde_json::json!({
            "cheapest": {"hosting": "real-time", "instance_type": "ml.c5.xlarge", "cost_per_million_usd": 1.5},
            "ranked": [
                {"hosting": "real-time", "instance_type": "ml.c5.xlarge", "payload_bytes": 1024,
                 "cost_per_million_usd": 1.5, "latency_ms": 40.0, "feasible": true},
                {"hosting": "real-time", "instance_type": "ml.g4dn.xlarge", "payload_bytes": 1024,
                 "cost_per_million_usd": 3.0, "latency_ms": 10.0, "feasible": true},
                {"hosting": "real-time", "instance_type": "ml.m5.xlarge", "payload_bytes": 1024,
                 "cost_per_million_usd": 4.0, "latency_ms": 45.0, "feasible": true}
            ],
            "rejected": [
                {"hosting": "serverless", "instance_type": "serverless-2048", "cost": {"per_million": 0.9},
                 "latency_ms": 400.0, "reason": ["p99 400 ms > 250 ms"]}
            ]
        })
    }

    #[test]
    fn reads_ranked_and_rejected_candidates() {
        let c = candidates(&rec());
        assert_eq!(c.len(), 4);
        assert_eq!(c[0].label, "real-time ml.c5.xlarge 1KiB");
        assert_eq!(c[0].cost_per_million, Some(1.5));
        assert!(!c[3].feasible);
        assert_eq!(c[3].cost_per_million, Some(0.9));
        assert_eq!(c[3].reason.as_deref(), Some("p99 400 ms > 250 ms"));
        assert_eq!(choice(&rec()).unwrap().label, "real-time ml.c5.xlarge");
    }

    #[test]
    fn reads_a_typed_recommendation() {
        let s = crate::report::test_support::summary(true);
        let sla = crate::report::view::sla_of(&s).unwrap();
        let table = crate::pricing::PriceTable::embedded();
        let prices = crate::recommend::Prices {
            table: &table,
            region: "us-east-1",
        };
        let rec = crate::recommend::recommend(&s.cells, &sla, None, prices, &Default::default());
        let advice = read(&serde_json::to_value(&rec).unwrap());
        assert_eq!(advice.typed.as_ref(), Some(&rec));
        assert_eq!(
            advice.choice.as_deref(),
            Some("real-time ml.c5.xlarge 1KiB")
        );
        let c = &advice.candidates[0];
        assert!(
            c.feasible && c.cost_per_million.is_some() && c.latency_ms.is_some(),
            "{c:?}"
        );
        assert_eq!(frontier(&advice.candidates).len(), 1);
    }

    #[test]
    fn frontier_keeps_points_no_cheaper_one_beats() {
        let c = candidates(&rec());
        assert_eq!(frontier(&c), vec![(40.0, 1.5), (10.0, 3.0)]);
    }
}
