//! Regression thresholds: the `[regression]` table of a profile, `--threshold METRIC=LIMIT`
//! overrides, and the limits they amount to.
//!
//! Relative limits are percentages of the baseline (`p99 = "10%"`); the sign is optional
//! because each metric's bad direction is fixed (latency and cost up, throughput and
//! sustainable rate down), so `throughput = "-5%"` and `"5%"` mean the same, while a sign
//! that contradicts the direction (`p99 = "-10%"`) is an error. `error_rate` is an absolute
//! difference of failed fractions (`0.001` or `"0.1%"`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// What counts as "past the threshold" for each metric, as magnitudes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Largest tolerated rise of the median latency, as a fraction of the baseline.
    pub p50: f64,
    /// Largest tolerated rise of the 99th percentile, as a fraction of the baseline.
    pub p99: f64,
    /// Largest tolerated fall of throughput, as a fraction of the baseline.
    pub throughput: f64,
    /// Largest tolerated rise of the error rate, in absolute terms (0.001 = 0.1 points).
    pub error_rate: f64,
    /// Largest tolerated fall of the sustainable rate per instance, as a fraction.
    pub sustainable_rate: f64,
    /// Largest tolerated rise of the cost per million requests, as a fraction.
    pub cost: f64,
    /// Largest tolerated rise of the median time to first token (streamed cells).
    pub ttft_p50: f64,
    /// Largest tolerated rise of the 99th-percentile time to first token.
    pub ttft_p99: f64,
    /// Largest tolerated rise of the median time per output token.
    pub tpot_p50: f64,
    /// Largest tolerated rise of the 99th-percentile time per output token.
    pub tpot_p99: f64,
    /// Largest tolerated rise of the median inter-token latency.
    pub itl_p50: f64,
    /// Largest tolerated rise of the 99th-percentile inter-token latency.
    pub itl_p99: f64,
}

impl Default for Thresholds {
    /// p50 and p99 +10 %, throughput −5 %, error rate +0.001, sustainable rate −5 %, cost +5 %;
    /// TTFT, TPOT and ITL p50 and p99 +10 %, as latency.
    fn default() -> Thresholds {
        Thresholds {
            p50: 0.10,
            p99: 0.10,
            throughput: 0.05,
            error_rate: 0.001,
            sustainable_rate: 0.05,
            cost: 0.05,
            ttft_p50: 0.10,
            ttft_p99: 0.10,
            tpot_p50: 0.10,
            tpot_p99: 0.10,
            itl_p50: 0.10,
            itl_p99: 0.10,
        }
    }
}

/// A metric that has a threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// Median latency of successful requests.
    P50,
    /// 99th-percentile latency of successful requests.
    P99,
    /// Successful responses per second.
    Throughput,
    /// Failed fraction of requests.
    ErrorRate,
    /// Highest measured throughput per instance that meets the SLA (from the recommendation).
    SustainableRate,
    /// Cost per million requests at the operating point (from the recommendation).
    Cost,
    /// Median time to first token of streamed replies.
    TtftP50,
    /// 99th-percentile time to first token.
    TtftP99,
    /// Median time per output token after the first.
    TpotP50,
    /// 99th-percentile time per output token.
    TpotP99,
    /// Median inter-token latency (every gap).
    ItlP50,
    /// 99th-percentile inter-token latency.
    ItlP99,
}

/// Which way a metric gets worse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Worse {
    /// Larger is worse (latency, errors, cost).
    Up,
    /// Smaller is worse (throughput, sustainable rate).
    Down,
}

impl Metric {
    /// Every metric, in report order.
    pub const ALL: [Metric; 12] = [
        Metric::P50,
        Metric::P99,
        Metric::Throughput,
        Metric::ErrorRate,
        Metric::SustainableRate,
        Metric::Cost,
        Metric::TtftP50,
        Metric::TtftP99,
        Metric::TpotP50,
        Metric::TpotP99,
        Metric::ItlP50,
        Metric::ItlP99,
    ];

    /// The token timings of streamed cells, judged like latency.
    pub const TOKENS: [Metric; 6] = [
        Metric::TtftP50,
        Metric::TtftP99,
        Metric::TpotP50,
        Metric::TpotP99,
        Metric::ItlP50,
        Metric::ItlP99,
    ];

    /// The name used in profiles, flags and reports.
    pub fn name(self) -> &'static str {
        match self {
            Metric::P50 => "p50",
            Metric::P99 => "p99",
            Metric::Throughput => "throughput",
            Metric::ErrorRate => "error_rate",
            Metric::SustainableRate => "sustainable_rate",
            Metric::Cost => "cost",
            Metric::TtftP50 => "ttft_p50",
            Metric::TtftP99 => "ttft_p99",
            Metric::TpotP50 => "tpot_p50",
            Metric::TpotP99 => "tpot_p99",
            Metric::ItlP50 => "itl_p50",
            Metric::ItlP99 => "itl_p99",
        }
    }

    /// The direction in which a change is a regression.
    pub fn worse(self) -> Worse {
        match self {
            Metric::Throughput | Metric::SustainableRate => Worse::Down,
            _ => Worse::Up,
        }
    }

    /// Whether its limit is an absolute difference rather than a fraction of the baseline.
    pub fn is_absolute(self) -> bool {
        self == Metric::ErrorRate
    }

    fn parse(name: &str) -> Option<Metric> {
        let name = if name == "recommended_cost" {
            "cost"
        } else {
            name
        };
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Thresholds {
    /// The limit of one metric.
    pub fn get(&self, metric: Metric) -> f64 {
        match metric {
            Metric::P50 => self.p50,
            Metric::P99 => self.p99,
            Metric::Throughput => self.throughput,
            Metric::ErrorRate => self.error_rate,
            Metric::SustainableRate => self.sustainable_rate,
            Metric::Cost => self.cost,
            Metric::TtftP50 => self.ttft_p50,
            Metric::TtftP99 => self.ttft_p99,
            Metric::TpotP50 => self.tpot_p50,
            Metric::TpotP99 => self.tpot_p99,
            Metric::ItlP50 => self.itl_p50,
            Metric::ItlP99 => self.itl_p99,
        }
    }

    fn set(&mut self, metric: Metric, limit: f64) {
        let slot = match metric {
            Metric::P50 => &mut self.p50,
            Metric::P99 => &mut self.p99,
            Metric::Throughput => &mut self.throughput,
            Metric::ErrorRate => &mut self.error_rate,
            Metric::SustainableRate => &mut self.sustainable_rate,
            Metric::Cost => &mut self.cost,
            Metric::TtftP50 => &mut self.ttft_p50,
            Metric::TtftP99 => &mut self.ttft_p99,
            Metric::TpotP50 => &mut self.tpot_p50,
            Metric::TpotP99 => &mut self.tpot_p99,
            Metric::ItlP50 => &mut self.itl_p50,
            Metric::ItlP99 => &mut self.itl_p99,
        };
        *slot = limit;
    }

    /// A limit as written in profiles: `+10%`, `-5%`, `0.001`.
    pub fn describe(&self, metric: Metric) -> String {
        let limit = self.get(metric);
        if metric.is_absolute() {
            return format!("{limit}");
        }
        let sign = if metric.worse() == Worse::Up {
            '+'
        } else {
            '-'
        };
        format!("{sign}{}%", round_pct(limit * 100.0))
    }

    /// Applies `METRIC=LIMIT` overrides in order (later ones win).
    pub fn with_overrides(mut self, overrides: &[String]) -> Result<Thresholds, ThresholdError> {
        for given in overrides {
            let err = |message: String| ThresholdError {
                given: given.clone(),
                message,
            };
            let (name, limit) = given
                .split_once('=')
                .ok_or_else(|| err("expected METRIC=LIMIT, e.g. `p99=5%`".into()))?;
            let metric = parse_metric(name.trim()).map_err(err)?;
            let value = parse_limit(metric, &RawLimit::Text(limit.trim().into())).map_err(err)?;
            self.set(metric, value);
        }
        Ok(self)
    }
}

fn round_pct(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// A threshold that could not be read.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("bad threshold `{given}`: {message}")]
pub struct ThresholdError {
    /// What was written.
    pub given: String,
    /// What is wrong and how to write it.
    pub message: String,
}

/// `[regression]` of a profile, as written (serde mirror).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegression {
    /// Rise of the median latency, e.g. `"10%"`.
    pub p50: Option<RawLimit>,
    /// Rise of the 99th percentile, e.g. `"10%"`.
    pub p99: Option<RawLimit>,
    /// Fall of throughput, e.g. `"-5%"`.
    pub throughput: Option<RawLimit>,
    /// Rise of the failed fraction, e.g. `0.001`.
    pub error_rate: Option<RawLimit>,
    /// Fall of the sustainable rate, e.g. `"-5%"`.
    pub sustainable_rate: Option<RawLimit>,
    /// Rise of the cost per million requests, e.g. `"5%"`.
    pub cost: Option<RawLimit>,
    /// Rise of the median TTFT, e.g. `"10%"`.
    pub ttft_p50: Option<RawLimit>,
    /// Rise of the p99 TTFT.
    pub ttft_p99: Option<RawLimit>,
    /// Rise of the median TPOT.
    pub tpot_p50: Option<RawLimit>,
    /// Rise of the p99 TPOT.
    pub tpot_p99: Option<RawLimit>,
    /// Rise of the median ITL.
    pub itl_p50: Option<RawLimit>,
    /// Rise of the p99 ITL.
    pub itl_p99: Option<RawLimit>,
}

/// A limit as TOML gives it: a string (`"10%"`) or a number (`0.001`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum RawLimit {
    /// `"10%"`, `"-5%"`, `"0.001"`.
    Text(String),
    /// `0.001`.
    Number(f64),
}

impl RawRegression {
    /// The thresholds it sets over the defaults; `Err` lists `(key, message)` for every bad one.
    pub fn thresholds(&self) -> Result<Thresholds, Vec<(String, String)>> {
        let mut out = Thresholds::default();
        let mut problems = Vec::new();
        let fields = [
            (Metric::P50, &self.p50),
            (Metric::P99, &self.p99),
            (Metric::Throughput, &self.throughput),
            (Metric::ErrorRate, &self.error_rate),
            (Metric::SustainableRate, &self.sustainable_rate),
            (Metric::Cost, &self.cost),
            (Metric::TtftP50, &self.ttft_p50),
            (Metric::TtftP99, &self.ttft_p99),
            (Metric::TpotP50, &self.tpot_p50),
            (Metric::TpotP99, &self.tpot_p99),
            (Metric::ItlP50, &self.itl_p50),
            (Metric::ItlP99, &self.itl_p99),
        ];
        for (metric, raw) in fields {
            let Some(raw) = raw else { continue };
            match parse_limit(metric, raw) {
                Ok(v) => out.set(metric, v),
                Err(msg) => problems.push((format!("regression.{}", metric.name()), msg)),
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(problems)
        }
    }
}

fn parse_metric(name: &str) -> Result<Metric, String> {
    Metric::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        match crate::domain::names::closest(name, &names) {
            Some(best) => format!("unknown metric `{name}`; did you mean `{best}`?"),
            None => format!("unknown metric `{name}`; use one of {}", names.join(", ")),
        }
    })
}

/// Reads one limit for `metric` as a magnitude.
pub fn parse_limit(metric: Metric, raw: &RawLimit) -> Result<f64, String> {
    let (text, pct) = match raw {
        RawLimit::Number(n) => (n.to_string(), false),
        RawLimit::Text(t) => match t.trim().strip_suffix('%') {
            Some(stripped) => (stripped.trim().to_string(), true),
            None => (t.trim().to_string(), false),
        },
    };
    let value: f64 = text
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| format!("`{text}` is not a number; {}", example(metric)))?;
    if metric.is_absolute() {
        let fraction = if pct { value / 100.0 } else { value };
        return match fraction {
            f if (0.0..=1.0).contains(&f) => Ok(f),
            _ => Err(format!("must be a fraction in 0..1; {}", example(metric))),
        };
    }
    if !pct {
        return Err(format!(
            "write a percentage of the baseline; {}",
            example(metric)
        ));
    }
    let contradicts = match metric.worse() {
        Worse::Up => text.starts_with('-'),
        Worse::Down => text.starts_with('+'),
    };
    if contradicts {
        return Err(format!(
            "{metric} regresses the other way; {}",
            example(metric)
        ));
    }
    Ok(value.abs() / 100.0)
}

fn example(metric: Metric) -> String {
    let default = Thresholds::default();
    let limit = default.describe(metric);
    let limit = limit.trim_start_matches('+');
    let quoted = if metric.is_absolute() {
        limit.to_string()
    } else {
        format!("\"{limit}\"")
    };
    format!("e.g. `{metric}={limit}` (flag) or `{metric} = {quoted}` (profile)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn over(list: &[&str]) -> Result<Thresholds, ThresholdError> {
        let list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        Thresholds::default().with_overrides(&list)
    }

    #[test]
    fn overrides_parse_percentages_and_fractions() {
        let t = over(&[
            "p99=5%",
            "throughput=-2%",
            "error_rate=0.01",
            "p50=+20%",
            "cost=1.5%",
        ])
        .unwrap();
        assert_eq!((t.p99, t.throughput, t.error_rate), (0.05, 0.02, 0.01));
        assert!((t.p50 - 0.2).abs() < 1e-12 && (t.cost - 0.015).abs() < 1e-12);
        assert_eq!(over(&["error_rate=0.5%"]).unwrap().error_rate, 0.005);
        assert_eq!(
            over(&["throughput=5%"]).unwrap().throughput,
            0.05,
            "sign optional"
        );
        assert_eq!(over(&["recommended_cost=7%"]).unwrap().cost, 0.07);
    }

    #[test]
    fn bad_overrides_say_how_to_write_them() {
        let e = over(&["p99=5"]).unwrap_err();
        assert!(
            e.message.contains("percentage") && e.message.contains("p99=10%"),
            "{e}"
        );
        assert!(
            over(&["p9=5%"])
                .unwrap_err()
                .message
                .contains("did you mean `p99`")
        );
        assert!(over(&["p99"]).unwrap_err().message.contains("METRIC=LIMIT"));
        assert!(
            over(&["p99=-5%"])
                .unwrap_err()
                .message
                .contains("other way")
        );
        assert!(
            over(&["throughput=+5%"])
                .unwrap_err()
                .message
                .contains("other way")
        );
        assert!(
            over(&["error_rate=2"])
                .unwrap_err()
                .message
                .contains("0..1")
        );
        assert!(
            over(&["p99=abc%"])
                .unwrap_err()
                .message
                .contains("not a number")
        );
    }

    #[test]
    fn profile_table_reads_numbers_and_strings() {
        let raw: RawRegression =
            toml::from_str("p99 = \"10%\"\nthroughput = \"-5%\"\nerror_rate = 0.001\np50 = 5")
                .unwrap();
        let problems = raw.thresholds().unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].0, "regression.p50");
        let raw: RawRegression = toml::from_str("p99 = \"12%\"\nerror_rate = 0").unwrap();
        let t = raw.thresholds().unwrap();
        assert_eq!((t.p99, t.error_rate, t.p50), (0.12, 0.0, 0.10));
        assert!(
            toml::from_str::<RawRegression>("p98 = \"1%\"").is_err(),
            "unknown keys rejected"
        );
    }

    #[test]
    fn describe_round_trips() {
        let t = Thresholds::default();
        assert_eq!(t.describe(Metric::P99), "+10%");
        assert_eq!(t.describe(Metric::Throughput), "-5%");
        assert_eq!(t.describe(Metric::ErrorRate), "0.001");
    }
}
