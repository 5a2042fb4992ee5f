//! The traffic production must serve (`[traffic]`): what sizing and daily cost are worked
//! out for — the peak, the day's shape hour by hour, the payload mix, and the fewest
//! instances an endpoint may run.

use super::Hosting;
use serde::{Deserialize, Serialize};

/// Hours in an average month (365 × 24 / 12), as AWS's pricing calculator counts them.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// Fewest real-time instances production should run when `[traffic] min_instances` is not
/// given: AWS recommends at least two instances per production endpoint, so SageMaker can
/// spread them over Availability Zones ("Deploy multiple instances for each production
/// endpoint", SageMaker developer guide, *Best practices for deploying models on SageMaker
/// Hosting Services*, <https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-best-practices.html>;
/// AWS Config checks it as `sagemaker-endpoint-config-prod-instance-count`,
/// <https://docs.aws.amazon.com/config/latest/developerguide/sagemaker-endpoint-config-prod-instance-count.html>).
pub const REAL_TIME_MIN_INSTANCES: u32 = 2;

/// Why the fewest instances is what it is, as printed next to the count.
pub const MIN_INSTANCES_REASON: &str =
    "AWS recommends at least 2 instances per production endpoint, spread over Availability Zones";

/// One payload level's share of production requests (`[traffic] payload_mix`): a payload
/// size, or for `source = "prompt"` payloads a prompt level (input × output tokens).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MixShare {
    /// Request body size (0 for a prompt level, which is matched by its tokens).
    pub payload_bytes: u64,
    /// Fraction of requests of that size (the shares sum to 1).
    pub weight: f64,
    /// The prompt level this share weights, for prompt payloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_level: Option<PromptLevel>,
}

/// A prompt level of an LLM workload: prompt length (none for a dataset) × generation length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptLevel {
    /// Prompt tokens; `None` for prompts from a dataset.
    pub input_tokens: Option<u32>,
    /// Generation length (`max_tokens`).
    pub output_tokens: u32,
}

impl PromptLevel {
    /// `in128 out512`, or `dataset out512`: the level's label in cells and reports.
    pub fn label(&self) -> String {
        match self.input_tokens {
            Some(i) => format!("in{i} out{}", self.output_tokens),
            None => format!("dataset out{}", self.output_tokens),
        }
    }
}

impl MixShare {
    /// Whether this share weights the payload level of `bytes` (and `file`, the level's
    /// label for prompt levels and `files` payloads).
    pub fn weights(&self, bytes: u64, file: Option<&str>) -> bool {
        match &self.prompt_level {
            Some(level) => file == Some(level.label().as_str()),
            None => self.payload_bytes == bytes,
        }
    }
}

/// The traffic production must serve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Traffic {
    /// Peak requests per second (with an hourly shape: its highest hour).
    pub peak_rps: f64,
    /// Requests per day, when known (with an hourly shape: its day).
    pub requests_per_day: Option<f64>,
    /// Spare capacity on top of the peak (0.2 = 20 %).
    pub headroom: f64,
    /// Traffic stops for minutes at a time, so serverless cold starts hit live requests.
    #[serde(default)]
    pub intermittent: bool,
    /// The mean rate of each hour of the day, 0–23 (`hourly`, or `shape = "diurnal"`).
    pub hourly: Option<[f64; 24]>,
    /// How production requests split over the swept payload sizes; empty: every size must
    /// be served alone.
    pub payload_mix: Vec<MixShare>,
    /// `[traffic] min_instances`, when given; else [`Traffic::min_instances`] defaults.
    pub min_instances: Option<u32>,
}

impl Traffic {
    /// Peak traffic only: no shape, no mix, the default instance floor.
    pub fn at_peak(peak_rps: f64, requests_per_day: Option<f64>, headroom: f64) -> Traffic {
        Traffic {
            peak_rps,
            requests_per_day,
            headroom,
            intermittent: false,
            hourly: None,
            payload_mix: Vec::new(),
            min_instances: None,
        }
    }

    /// The fewest instances an endpoint of `hosting` runs: the profile's `min_instances`,
    /// else 2 for real-time ([`REAL_TIME_MIN_INSTANCES`]) and 0 for async (scaled to zero);
    /// 0 for serverless and batch, which run no standing instances.
    pub fn min_instances(&self, hosting: Hosting) -> u32 {
        match hosting {
            Hosting::RealTime => self.min_instances.unwrap_or(REAL_TIME_MIN_INSTANCES).max(1),
            Hosting::Async => self.min_instances.unwrap_or(0),
            Hosting::Serverless | Hosting::Batch => 0,
        }
    }

    /// Why the floor is what it is: the AWS guidance by default, else the profile.
    pub fn min_instances_reason(&self, hosting: Hosting) -> String {
        let n = self.min_instances(hosting);
        match (self.min_instances, hosting) {
            (None, Hosting::RealTime) => format!("at least {n}: {MIN_INSTANCES_REASON}"),
            (None, _) => format!("at least {n}: scaled to zero when idle"),
            (Some(_), _) => format!("at least {n}: `[traffic] min_instances`"),
        }
    }

    /// The rate of each hour: the hourly shape, else the peak all day.
    pub fn hours(&self) -> [f64; 24] {
        self.hourly.unwrap_or([self.peak_rps; 24])
    }
}

/// A day whose rate follows a cosine from `trough_rps` at 03:00 to `peak_rps` at 15:00
/// (`shape = "diurnal"`); each hour takes the rate at its middle.
pub fn diurnal(peak_rps: f64, trough_rps: f64) -> [f64; 24] {
    let mut hours = [0.0; 24];
    for (h, rate) in hours.iter_mut().enumerate() {
        let t = (h as f64 + 0.5 - 3.0) / 24.0 * std::f64::consts::TAU;
        *rate = trough_rps + (peak_rps - trough_rps) * (1.0 - t.cos()) / 2.0;
    }
    hours
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diurnal_runs_from_trough_to_peak() {
        let d = diurnal(100.0, 10.0);
        let (lo, hi) = d
            .iter()
            .fold((f64::MAX, 0.0f64), |(l, h), v| (l.min(*v), h.max(*v)));
        assert!(lo >= 10.0 && hi <= 100.0 && hi > 99.0 && lo < 11.0, "{d:?}");
        assert!(d[15] > d[9] && d[3] < d[9], "{d:?}");
    }

    #[test]
    fn instance_floors_by_hosting() {
        let mut t = Traffic::at_peak(10.0, None, 0.2);
        assert_eq!(t.min_instances(Hosting::RealTime), 2);
        assert_eq!(t.min_instances(Hosting::Async), 0);
        assert!(
            t.min_instances_reason(Hosting::RealTime)
                .contains("Availability Zones")
        );
        t.min_instances = Some(0);
        assert_eq!(t.min_instances(Hosting::RealTime), 1);
        assert_eq!(t.min_instances(Hosting::Async), 0);
    }
}
