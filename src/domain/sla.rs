//! The service-level objective a configuration must meet: a latency percentile under a
//! limit, and an error rate under a limit.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A latency percentile in (0, 100]: `99` is p99, `99.9` is p99.9.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Quantile(f64);

impl Quantile {
    /// p50.
    pub const P50: Quantile = Quantile(50.0);
    /// p99.
    pub const P99: Quantile = Quantile(99.0);

    /// The percentile `p`, when `0 < p ≤ 100`.
    pub fn new(p: f64) -> Option<Quantile> {
        (p > 0.0 && p <= 100.0).then_some(Quantile(p))
    }

    /// As a percentage: 99 for p99.
    pub fn percent(self) -> f64 {
        self.0
    }

    /// As a fraction for `Histogram::value_at_quantile`: 0.99 for p99.
    pub fn fraction(self) -> f64 {
        self.0 / 100.0
    }
}

impl fmt::Display for Quantile {
    /// `p99`, `p99.9`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}", self.0)
    }
}

/// A latency and error objective (`[sla]`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sla {
    /// Which percentile must stay under the limit.
    pub percentile: Quantile,
    /// The latency limit in milliseconds.
    pub latency_ms: f64,
    /// Largest acceptable fraction of failed requests.
    pub max_error_rate: f64,
    /// Streaming: the time-to-first-token limit at the percentile, ms.
    #[serde(default)]
    pub ttft_ms: Option<f64>,
    /// Streaming: the time-per-output-token limit at the percentile, ms.
    #[serde(default)]
    pub tpot_ms: Option<f64>,
}

impl Sla {
    /// `p99 ≤ 250 ms, errors ≤ 0.1%`.
    pub fn describe(&self) -> String {
        let mut out = format!("{} ≤ {} ms", self.percentile, self.latency_ms);
        if let Some(ttft) = self.ttft_ms {
            out.push_str(&format!(", TTFT {} ≤ {ttft} ms", self.percentile));
        }
        if let Some(tpot) = self.tpot_ms {
            out.push_str(&format!(", TPOT {} ≤ {tpot} ms", self.percentile));
        }
        format!("{out}, errors ≤ {}%", self.max_error_rate * 100.0)
    }

    /// Whether it limits token timings (TTFT or TPOT).
    pub fn has_token_limits(&self) -> bool {
        self.ttft_ms.is_some() || self.tpot_ms.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_percentiles_in_range() {
        let p999 = Quantile::new(99.9).unwrap();
        assert!((p999.fraction() - 0.999).abs() < 1e-12);
        assert_eq!(p999.to_string(), "p99.9");
        assert_eq!(Quantile::new(100.0).map(Quantile::percent), Some(100.0));
        assert_eq!(Quantile::new(0.0), None);
        assert_eq!(Quantile::new(101.0), None);
        assert_eq!(Quantile::new(f64::NAN), None);
        assert_eq!(Quantile::P99.to_string(), "p99");
    }

    #[test]
    fn describes_itself_as_users_write_it() {
        let sla = Sla {
            percentile: Quantile::P99,
            latency_ms: 250.0,
            max_error_rate: 0.001,
            ttft_ms: None,
            tpot_ms: None,
        };
        assert_eq!(sla.describe(), "p99 ≤ 250 ms, errors ≤ 0.1%");
    }
}
