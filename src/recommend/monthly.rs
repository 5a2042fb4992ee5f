//! A month's cost under the traffic's daily shape (24 hourly rates, the same every day; a
//! month is 730 hours, 730/24 days), per hosting option:
//!
//! - **real-time, always on at peak**: the peak's fleet every hour;
//! - **real-time, autoscaled**: each hour the instances that hour needs,
//!   `ceil(rate × (1 + headroom) / capacity)`, never below `min_instances`;
//! - **serverless**: every request at its per-request price;
//! - **async, scaled to zero**: each hour with traffic the instances it needs, idle hours at
//!   the floor (0 by default);
//! - **batch**: the day's records as one job a day, `records / capacity` instance-seconds.
//!
//! The cheapest option for the shape is named, with the crossover: the average rate at which
//! another option becomes cheaper when the same shape is scaled up or down.

use super::capacity::Capacity;
use super::cost::instances_needed;
use super::{Billing, Candidate};
use crate::domain::traffic::HOURS_PER_MONTH;
use crate::domain::{Hosting, Traffic};
use crate::pricing::Usd;
use serde::{Deserialize, Serialize};

/// Days in a month of [`HOURS_PER_MONTH`].
const DAYS_PER_MONTH: f64 = HOURS_PER_MONTH / 24.0;

/// What a candidate costs a month under the traffic's shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonthlyCost {
    /// The option's month: real-time autoscaled, serverless per request, async scaled to
    /// zero, batch for the day's records.
    pub usd: Usd,
    /// Real-time only: the peak's fleet all month, without autoscaling.
    pub always_on_usd: Option<Usd>,
    /// Instance-hours a month (instance-billed options).
    pub instance_hours: Option<f64>,
}

/// How a candidate bills, for costing any traffic shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rates {
    /// Instances by the hour (real-time, async, batch): the price and one instance's capacity.
    Instances {
        /// Hosting option.
        hosting: Hosting,
        /// Dollars per instance-hour.
        usd_per_hour: f64,
        /// Requests per second one instance sustains.
        capacity_rps: f64,
    },
    /// Serverless: dollars per request.
    PerRequest(f64),
}

/// Instance-hours a day when each hour runs what its rate needs, never below `floor`; an
/// idle hour runs `floor` (0: scaled to zero).
fn autoscaled_hours(hours: &[f64; 24], capacity: f64, headroom: f64, floor: u32) -> f64 {
    hours
        .iter()
        .map(|&rate| {
            let needed = if rate > 0.0 {
                instances_needed(rate, headroom, capacity)
            } else {
                0
            };
            f64::from(needed.max(floor))
        })
        .sum()
}

/// The month of `rates` under `hours` (req/s per hour of the day).
pub fn month(rates: Rates, hours: &[f64; 24], traffic: &Traffic) -> MonthlyCost {
    let requests_per_day: f64 = hours.iter().map(|r| r * 3600.0).sum();
    let Rates::Instances {
        hosting,
        usd_per_hour,
        capacity_rps,
    } = rates
    else {
        let Rates::PerRequest(per_request) = rates else {
            unreachable!()
        };
        return MonthlyCost {
            usd: Usd(per_request * requests_per_day * DAYS_PER_MONTH),
            always_on_usd: None,
            instance_hours: None,
        };
    };
    let floor = traffic.min_instances(hosting);
    let (per_day, always_on) = match hosting {
        Hosting::Batch => (requests_per_day / (capacity_rps * 3600.0), None),
        _ => {
            let peak = hours.iter().copied().fold(0.0, f64::max);
            let at_peak =
                f64::from(instances_needed(peak, traffic.headroom, capacity_rps).max(floor.max(1)));
            let autoscaled = autoscaled_hours(hours, capacity_rps, traffic.headroom, floor);
            let always_on = (hosting == Hosting::RealTime).then_some(at_peak * 24.0);
            (autoscaled, always_on)
        }
    };
    MonthlyCost {
        usd: Usd(per_day * DAYS_PER_MONTH * usd_per_hour),
        always_on_usd: always_on.map(|h| Usd(h * DAYS_PER_MONTH * usd_per_hour)),
        instance_hours: Some(per_day * DAYS_PER_MONTH),
    }
}

/// How a feasible, priced candidate bills; `None` otherwise.
pub fn rates(c: &Candidate, capacity: &Capacity) -> Option<Rates> {
    let hosting = c.hosting?;
    match &c.cost.as_ref()?.billing {
        Billing::PerUse { per_request, .. } => Some(Rates::PerRequest(per_request.0)),
        Billing::AlwaysOn {
            usd_per_instance_hour,
            ..
        }
        | Billing::WhileBusy {
            usd_per_instance_hour,
            ..
        } => Some(Rates::Instances {
            hosting,
            usd_per_hour: usd_per_instance_hour.0,
            capacity_rps: capacity.per_instance_rps,
        }),
    }
}

/// A candidate offered for the month: how it bills, and how far the shape may scale before
/// it breaks a limit (serverless MaxConcurrency; infinite otherwise).
#[derive(Clone, Debug, PartialEq)]
pub struct Offer {
    /// Index into [`super::Recommendation::candidates`].
    pub candidate: usize,
    /// `real-time ml.c5.xlarge`.
    pub label: String,
    /// How it bills.
    pub rates: Rates,
    /// The largest factor the shape may be scaled by and the candidate still serve it.
    pub max_scale: f64,
}

/// One hosting option's cheapest candidate under the shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonthlyOption {
    /// `real-time ml.c5.xlarge, autoscaled`.
    pub label: String,
    /// Index into [`super::Recommendation::candidates`].
    pub candidate: usize,
    /// Its month.
    pub usd: Usd,
}

/// The month of each hosting option under the traffic's shape, the cheapest, and where the
/// winner changes as the shape scales.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonthlyComparison {
    /// The rates of the day, hour 0 first.
    pub hours: [f64; 24],
    /// Average requests per second over the day.
    pub average_rps: f64,
    /// Each option's cheapest feasible candidate, cheapest first.
    pub options: Vec<MonthlyOption>,
    /// Where another option becomes the cheapest when the shape is scaled, in words
    /// (`serverless serverless-4096 is cheaper below 9.2 req/s average`).
    pub crossovers: Vec<String>,
}

/// Each option's month for `options` (index, label, rates): best one per hosting option.
pub fn compare(options: &[Offer], traffic: &Traffic) -> MonthlyComparison {
    let hours = traffic.hours();
    let average_rps = hours.iter().sum::<f64>() / 24.0;
    let mut priced: Vec<MonthlyOption> = Vec::new();
    for Offer {
        candidate: i,
        label,
        rates: r,
        max_scale,
    } in options
    {
        if *max_scale < 1.0 {
            continue;
        }
        let m = month(*r, &hours, traffic);
        let mut push = |label: String, usd: Usd| {
            priced.push(MonthlyOption {
                label,
                candidate: *i,
                usd,
            })
        };
        match r {
            Rates::Instances {
                hosting: Hosting::RealTime,
                ..
            } => {
                push(format!("{label}, autoscaled"), m.usd);
                if let Some(a) = m.always_on_usd {
                    push(format!("{label}, always on at peak"), a);
                }
            }
            Rates::Instances {
                hosting: Hosting::Async,
                ..
            } => push(format!("{label}, scaled to zero when idle"), m.usd),
            Rates::Instances {
                hosting: Hosting::Batch,
                ..
            } => push(format!("{label}, one job a day"), m.usd),
            _ => push(label.clone(), m.usd),
        }
    }
    priced.sort_by(|a, b| a.usd.0.total_cmp(&b.usd.0));
    MonthlyComparison {
        hours,
        average_rps,
        crossovers: crossovers(options, traffic, average_rps),
        options: priced,
    }
}

/// The cheapest of `options` able to serve the shape scaled by `k` (real-time autoscaled).
fn cheapest_at(options: &[Offer], traffic: &Traffic, k: f64) -> Option<usize> {
    let hours = traffic.hours().map(|r| r * k);
    options
        .iter()
        .enumerate()
        .filter(|(_, o)| k <= o.max_scale)
        .map(|(n, o)| (n, month(o.rates, &hours, traffic).usd.0))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(n, _)| n)
}

/// Average rates where the cheapest option changes as the shape scales from 1/1000 to
/// 1000 times: `X is cheaper below R req/s average; Y above` for each change.
fn crossovers(options: &[Offer], traffic: &Traffic, average: f64) -> Vec<String> {
    if options.len() < 2 || average <= 0.0 {
        return Vec::new();
    }
    const STEPS: i32 = 240;
    let k_at = |i: i32| 10f64.powf(-3.0 + 6.0 * f64::from(i) / f64::from(STEPS));
    let mut out = Vec::new();
    let mut last = cheapest_at(options, traffic, k_at(0));
    for i in 1..=STEPS {
        let now = cheapest_at(options, traffic, k_at(i));
        if now != last {
            let (mut lo, mut hi) = (k_at(i - 1), k_at(i));
            for _ in 0..40 {
                let mid = (lo * hi).sqrt();
                if cheapest_at(options, traffic, mid) == last {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            if let (Some(a), Some(b)) = (last, now) {
                out.push(format!(
                    "{} is cheaper below {:.1} req/s average; {} above",
                    options[a].label,
                    hi * average,
                    options[b].label
                ));
            }
            last = now;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    /// 12 hours at 100 req/s, 12 hours idle; capacity 50 req/s per instance, headroom 0.2,
    /// $1 per instance-hour.
    fn shape() -> ([f64; 24], Traffic) {
        let mut hours = [0.0; 24];
        for h in hours.iter_mut().skip(8).take(12) {
            *h = 100.0;
        }
        let mut t = Traffic::at_peak(100.0, None, 0.2);
        t.hourly = Some(hours);
        (hours, t)
    }

    fn instances(hosting: Hosting) -> Rates {
        Rates::Instances {
            hosting,
            usd_per_hour: 1.0,
            capacity_rps: 50.0,
        }
    }

    #[test]
    fn monthly_cost_of_each_option_for_an_hourly_shape() {
        let (hours, t) = shape();
        let days = 730.0 / 24.0;
        // Busy hours: ceil(100 × 1.2 / 50) = ceil(2.4) = 3 instances.
        // Real-time always on: 3 × 24 h = 72 instance-hours a day → 72 × 30.4167 = $2,190.
        // Real-time autoscaled: 12 h × 3 + 12 h × 2 (the floor) = 60 → $1,825.
        let rt = month(instances(Hosting::RealTime), &hours, &t);
        assert!(close(rt.always_on_usd.unwrap().0, 72.0 * days), "{rt:?}");
        assert!(close(rt.usd.0, 60.0 * days), "{rt:?}");
        // Async scaled to zero: 12 h × 3 + 12 h × 0 = 36 → $1,095.
        let a = month(instances(Hosting::Async), &hours, &t);
        assert!(close(a.usd.0, 36.0 * days), "{a:?}");
        // Batch: 12 h × 100 req/s × 3600 = 4.32 M records a day at 50/s = 24 instance-hours.
        let b = month(instances(Hosting::Batch), &hours, &t);
        assert!(close(b.usd.0, 24.0 * days), "{b:?}");
        // Serverless at $0.00001 a request: 4.32 M × $0.00001 = $43.20 a day.
        let s = month(Rates::PerRequest(0.00001), &hours, &t);
        assert!(close(s.usd.0, 43.2 * days), "{s:?}");
        // A floor of 1: autoscaled real-time 12 × 3 + 12 × 1 = 48.
        let mut one = t.clone();
        one.min_instances = Some(1);
        assert!(close(
            month(instances(Hosting::RealTime), &hours, &one).usd.0,
            48.0 * days
        ));
    }

    #[test]
    fn cheapest_is_named_with_the_crossover() {
        let (_, t) = shape();
        // Serverless at $0.0001/request vs real-time at $1/h for 50 rps: average 50 req/s.
        let offer = |candidate, label: &str, rates| Offer {
            candidate,
            label: label.into(),
            rates,
            max_scale: f64::INFINITY,
        };
        let mut options = vec![
            offer(0, "real-time ml.c5.xlarge", instances(Hosting::RealTime)),
            offer(1, "serverless serverless-4096", Rates::PerRequest(0.0001)),
        ];
        let m = compare(&options, &t);
        assert_eq!(m.average_rps, 50.0);
        assert!(m.options[0].label.starts_with("real-time"), "{m:?}");
        // Serverless costs 0.0001 × 3600 = $0.36 per req/s-hour, real-time $2/h at the floor:
        // below about 5.6 req/s average, serverless wins.
        assert_eq!(m.crossovers.len(), 1, "{m:?}");
        assert!(
            m.crossovers[0].starts_with("serverless serverless-4096 is cheaper below"),
            "{m:?}"
        );
        let rate: f64 = m.crossovers[0]
            .split("below ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!((2.0..12.0).contains(&rate), "{rate}");
        // Serverless past MaxConcurrency at 1/100 of the shape: it never wins above 0.5 req/s.
        options[1].max_scale = 0.01;
        let m = compare(&options, &t);
        assert!(
            m.options.iter().all(|o| o.label.starts_with("real-time")),
            "serverless cannot serve this shape: {m:?}"
        );
        assert!(m.crossovers[0].contains("below 0.5 req/s"), "{m:?}");
    }
}
