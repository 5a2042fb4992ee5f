//! The cost arithmetic of each hosting option, as pure functions of prices, measured
//! throughput and traffic.
//!
//! - **Always on** (real-time): `instances = ceil(peak × (1 + headroom) / per-instance rps)`,
//!   billed every hour of the day whatever the load.
//! - **Serverless**: per request, `mean service s × memory GB × $/GB-s + bytes in × $/GB in +
//!   bytes out × $/GB out` (1 GB = 1024 MB of memory, 2^30 bytes of data; the mean service
//!   time is not rounded up to whole milliseconds per request).
//! - **While busy** (async scaled to zero, batch transform): instance-hours of work only,
//!   `1e6 / (per-instance rps × 3600)` instance-hours per million requests.
//!
//! Every option ends in a [`Cost`] whose `per_million` is comparable across options (see
//! [`CostBasis`]).

use super::CostBasis;
use crate::domain::Traffic;
use crate::pricing::{ServerlessPrices, Usd};
use serde::{Deserialize, Serialize};

/// Bytes in a GB of data.
const BYTES_PER_GB: f64 = (1u64 << 30) as f64;

/// What a candidate costs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// Dollars per million requests at the traffic of the [`CostBasis`]; the ranking figure.
    pub per_million: Usd,
    /// Dollars for one hour at peak, when the peak is known.
    pub per_hour: Option<Usd>,
    /// Dollars per day for `requests_per_day`, when given (real-time: the peak fleet all day).
    pub per_day: Option<Usd>,
    /// How the option bills, with its own figures.
    pub billing: Billing,
}

/// How a hosting option bills.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Billing {
    /// Instances billed every hour, busy or not (real-time).
    AlwaysOn {
        /// Price of one instance-hour.
        usd_per_instance_hour: Usd,
        /// Instances the peak needs, when the peak is known.
        instances: Option<u32>,
    },
    /// Billed per GB-second of processing plus data (serverless).
    PerUse {
        /// Configured memory, GB.
        memory_gb: f64,
        /// Dollars per request.
        per_request: Usd,
        /// Requests in flight at peak by Little's law, when the peak is known.
        concurrency_at_peak: Option<f64>,
    },
    /// Instances billed only while they work (async scaled to zero, batch transform).
    WhileBusy {
        /// Price of one instance-hour.
        usd_per_instance_hour: Usd,
        /// Instance-hours to serve a million requests.
        instance_hours_per_million: f64,
        /// Instance-hours per day for `requests_per_day`, when given.
        busy_hours_per_day: Option<f64>,
        /// Instances the peak needs, when the peak is known.
        instances_at_peak: Option<u32>,
    },
}

/// `ceil(x)` that forgives float noise: 110.00000000000001 instances is 110, not 111.
fn ceil_forgiving(x: f64) -> f64 {
    let nearest = x.round();
    if (x - nearest).abs() <= 1e-9 * nearest.abs().max(1.0) {
        nearest
    } else {
        x.ceil()
    }
}

/// Instances needed to serve `peak_rps` with `headroom` spare at `per_instance_rps` each
/// (at least 1; saturates at `u32::MAX`).
pub fn instances_needed(peak_rps: f64, headroom: f64, per_instance_rps: f64) -> u32 {
    let needed = ceil_forgiving(peak_rps * (1.0 + headroom) / per_instance_rps);
    if needed.is_nan() {
        return u32::MAX;
    }
    needed.clamp(1.0, u32::MAX as f64) as u32
}

/// Requests in flight at `rate_rps` when each takes `mean_latency_ms` (Little's law L = λW).
pub fn littles_law(rate_rps: f64, mean_latency_ms: f64) -> f64 {
    rate_rps * mean_latency_ms / 1000.0
}

/// Dollars per million requests for `per_hour` spent serving `rps`.
fn per_million_from_hourly(per_hour: f64, rps: f64) -> Usd {
    Usd(per_hour / (rps * 3600.0) * 1e6)
}

/// Per-million figure for a basis from a daily cost (`PerDay`) or a given figure.
fn per_million_for(basis: CostBasis, per_day: Option<Usd>, otherwise: Usd) -> Usd {
    match (basis, per_day) {
        (CostBasis::PerDay { requests_per_day }, Some(day)) => Usd(day.0 / requests_per_day * 1e6),
        _ => otherwise,
    }
}

/// Real-time: the fleet the peak needs, never below `min_instances`, billed all day.
pub fn always_on(usd_per_hour: Usd, per_instance_rps: f64, traffic: Option<&Traffic>) -> Cost {
    let basis = CostBasis::of(traffic);
    let Some(t) = traffic else {
        return Cost {
            per_million: per_million_from_hourly(usd_per_hour.0, per_instance_rps),
            per_hour: None,
            per_day: None,
            billing: Billing::AlwaysOn {
                usd_per_instance_hour: usd_per_hour,
                instances: None,
            },
        };
    };
    let instances = instances_needed(t.peak_rps, t.headroom, per_instance_rps)
        .max(t.min_instances(crate::domain::Hosting::RealTime));
    let per_hour = usd_per_hour.0 * f64::from(instances);
    let per_day = t.requests_per_day.map(|_| Usd(per_hour * 24.0));
    Cost {
        per_million: per_million_for(
            basis,
            per_day,
            per_million_from_hourly(per_hour, t.peak_rps),
        ),
        per_hour: Some(Usd(per_hour)),
        per_day,
        billing: Billing::AlwaysOn {
            usd_per_instance_hour: usd_per_hour,
            instances: Some(instances),
        },
    }
}

/// What one serverless request is billed.
pub fn serverless_per_request(
    prices: &ServerlessPrices,
    memory_mb: u32,
    mean_service_ms: f64,
    request_bytes: f64,
    response_bytes: f64,
) -> Usd {
    let memory_gb = f64::from(memory_mb) / 1024.0;
    let compute = mean_service_ms / 1000.0 * memory_gb * prices.compute_per_gb_second.0;
    let data = request_bytes / BYTES_PER_GB * prices.data_in_per_gb.0
        + response_bytes / BYTES_PER_GB * prices.data_out_per_gb.0;
    Usd(compute + data)
}

/// Serverless: billed per request; `mean_latency_ms` sizes the concurrency at peak.
pub fn per_use(
    memory_mb: u32,
    per_request: Usd,
    mean_latency_ms: f64,
    traffic: Option<&Traffic>,
) -> Cost {
    let per_hour = traffic.map(|t| Usd(per_request.0 * t.peak_rps * 3600.0));
    let per_day = traffic
        .and_then(|t| t.requests_per_day)
        .map(|n| Usd(per_request.0 * n));
    Cost {
        per_million: Usd(per_request.0 * 1e6),
        per_hour,
        per_day,
        billing: Billing::PerUse {
            memory_gb: f64::from(memory_mb) / 1024.0,
            per_request,
            concurrency_at_peak: traffic.map(|t| littles_law(t.peak_rps, mean_latency_ms)),
        },
    }
}

/// Async (scaled to zero) and batch: instance-hours of work at the measured throughput; at
/// peak, never fewer than `floor` instances.
pub fn while_busy(
    usd_per_hour: Usd,
    per_instance_rps: f64,
    traffic: Option<&Traffic>,
    floor: u32,
) -> Cost {
    let hours_per_million = 1e6 / (per_instance_rps * 3600.0);
    let busy_hours_per_day = traffic
        .and_then(|t| t.requests_per_day)
        .map(|n| n / (per_instance_rps * 3600.0));
    let instances_at_peak =
        traffic.map(|t| instances_needed(t.peak_rps, t.headroom, per_instance_rps).max(floor));
    Cost {
        per_million: Usd(usd_per_hour.0 * hours_per_million),
        per_hour: instances_at_peak.map(|n| Usd(usd_per_hour.0 * f64::from(n))),
        per_day: busy_hours_per_day.map(|h| Usd(h * usd_per_hour.0)),
        billing: Billing::WhileBusy {
            usd_per_instance_hour: usd_per_hour,
            instance_hours_per_million: hours_per_million,
            busy_hours_per_day,
            instances_at_peak,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::Confidence;

    fn traffic(peak_rps: f64, requests_per_day: Option<f64>, headroom: f64) -> Traffic {
        Traffic::at_peak(peak_rps, requests_per_day, headroom)
    }

    fn close(a: Usd, b: f64) -> bool {
        (a.0 - b).abs() <= b.abs() * 1e-9
    }

    #[test]
    fn instance_counts_round_up_but_forgive_float_noise() {
        assert_eq!(instances_needed(400.0, 0.2, 100.0), 5); // 480 / 100 = 4.8
        assert_eq!(instances_needed(400.0, 0.2, 120.0), 4); // exactly 4
        assert_eq!(instances_needed(100.0, 0.1, 10.0), 11); // 110.00000000000001 / 10
        assert_eq!(instances_needed(100.0, 0.0, 99.9), 2); // 1.001
        assert_eq!(instances_needed(1.0, 0.0, 500.0), 1); // at least one
        assert_eq!(instances_needed(100.0, 0.0, 0.0), u32::MAX);
    }

    #[test]
    fn real_time_at_peak() {
        // 5 instances × $0.204 = $1.02/h; at 400 rps: 1.02 / 1,440,000 × 1e6 = $0.708333/M.
        let c = always_on(Usd(0.204), 100.0, Some(&traffic(400.0, None, 0.2)));
        assert!(close(c.per_hour.unwrap(), 1.02));
        assert!(close(c.per_million, 1.02 / 1.44));
        assert_eq!(c.per_day, None);
        assert!(matches!(
            c.billing,
            Billing::AlwaysOn {
                instances: Some(5),
                ..
            }
        ));
    }

    #[test]
    fn real_time_per_day_bills_the_fleet_all_day() {
        // $1.02/h × 24 = $24.48/day; per million at 2M/day = $12.24.
        let c = always_on(Usd(0.204), 100.0, Some(&traffic(400.0, Some(2e6), 0.2)));
        assert!(close(c.per_day.unwrap(), 24.48));
        assert!(close(c.per_million, 12.24));
    }

    #[test]
    fn real_time_without_traffic_is_priced_at_capacity() {
        // $0.204/h at 100 rps = 360,000 req/h → $0.5667/M.
        let c = always_on(Usd(0.204), 100.0, None);
        assert!(close(c.per_million, 0.204 / 0.36));
        assert_eq!((c.per_hour, c.per_day), (None, None));
    }

    #[test]
    fn serverless_billing() {
        let p = ServerlessPrices {
            compute_per_gb_second: Usd(0.00002),
            data_in_per_gb: Usd(0.016),
            data_out_per_gb: Usd(0.016),
            confidence: Confidence::High,
        };
        // 100 ms × 2 GB × $0.00002 = $0.000004; 1 MiB in + 1 MiB out = 2/1024 GB × $0.016 = $0.00003125.
        let per_request = serverless_per_request(&p, 2048, 100.0, 1048576.0, 1048576.0);
        assert!(close(per_request, 0.000004 + 0.00003125));
        let c = per_use(
            2048,
            per_request,
            150.0,
            Some(&traffic(100.0, Some(1e6), 0.2)),
        );
        assert!(close(c.per_million, 35.25));
        assert!(close(c.per_day.unwrap(), 35.25));
        assert!(close(c.per_hour.unwrap(), 0.00003525 * 360_000.0));
        let Billing::PerUse {
            concurrency_at_peak,
            memory_gb,
            ..
        } = c.billing
        else {
            panic!("{c:?}")
        };
        assert_eq!((concurrency_at_peak, memory_gb), (Some(15.0), 2.0));
    }

    #[test]
    fn littles_law_in_flight() {
        assert_eq!(littles_law(400.0, 250.0), 100.0);
        assert_eq!(littles_law(1000.0, 200.5), 200.5);
    }

    #[test]
    fn batch_and_async_bill_busy_hours() {
        // 50 records/s = 180,000/h → 5.5556 h per million × $0.23 = $1.2778 per million records.
        let c = while_busy(
            Usd(0.23),
            50.0,
            Some(&traffic(100.0, Some(360_000.0), 0.0)),
            0,
        );
        assert!(close(c.per_million, 0.23 * 1e6 / 180_000.0));
        // 360,000/day at 50/s = 2 busy hours → $0.46/day.
        assert!(close(c.per_day.unwrap(), 0.46));
        let Billing::WhileBusy {
            busy_hours_per_day,
            instances_at_peak,
            ..
        } = c.billing
        else {
            panic!("{c:?}")
        };
        assert_eq!(
            (busy_hours_per_day, instances_at_peak),
            (Some(2.0), Some(2))
        );
    }
}
