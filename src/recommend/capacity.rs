//! A candidate's capacity per instance, whether the sweep reached it, and the fleet the peak
//! needs: `ceil(peak × (1 + headroom) / capacity)`, never below the instance floor
//! (`[traffic] min_instances`; by default 2 for real-time, as AWS recommends for production
//! endpoints spread over Availability Zones, and 0 for async).
//!
//! When a candidate's best load is the highest one measured, its capacity may be higher:
//! it is reported as "≥ X (the sweep's top)", its instance count as "at most N", and the
//! load to add to the sweep (twice the top) is named.

use crate::domain::{Hosting, Load, Traffic};
use serde::{Deserialize, Serialize};

/// What one instance sustains under the workload, and whether the sweep found its limit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    /// Requests per second one instance sustains within the SLA (serverless: per endpoint).
    pub per_instance_rps: f64,
    /// The best load is the highest measured: the capacity is at least `per_instance_rps`.
    pub at_least: bool,
    /// With `at_least`: the load to add to the sweep to find the limit.
    pub add_load: Option<Load>,
}

impl Capacity {
    /// `≥ 650.0 (the sweep's top)` or `650.0`.
    pub fn describe(&self) -> String {
        if self.at_least {
            format!("≥ {:.1} (the sweep's top)", self.per_instance_rps)
        } else {
            format!("{:.1}", self.per_instance_rps)
        }
    }
}

/// The instances an instance-billed endpoint runs at peak.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fleet {
    /// Instances the peak needs with the headroom: `ceil(peak × (1 + headroom) / capacity)`.
    pub needed: u32,
    /// The floor: `[traffic] min_instances`, or the hosting option's default.
    pub min_instances: u32,
    /// What to run at peak: the larger of the two.
    pub count: u32,
    /// The capacity is a lower bound (the sweep's top), so `count` is at most this.
    pub at_most: bool,
    /// Why the floor is what it is.
    pub floor_reason: String,
}

impl Fleet {
    /// The fleet at peak for `hosting` (real-time, async) at `capacity`; `None` for serverless
    /// and batch, which run no standing fleet.
    pub fn at_peak(hosting: Hosting, capacity: &Capacity, traffic: &Traffic) -> Option<Fleet> {
        if !matches!(hosting, Hosting::RealTime | Hosting::Async) {
            return None;
        }
        let needed = super::cost::instances_needed(
            traffic.peak_rps,
            traffic.headroom,
            capacity.per_instance_rps,
        );
        let min_instances = traffic.min_instances(hosting);
        Some(Fleet {
            needed,
            min_instances,
            count: needed.max(min_instances),
            at_most: capacity.at_least && needed > min_instances,
            floor_reason: traffic.min_instances_reason(hosting),
        })
    }

    /// `at most 2 instances` / `3 instances`: the count for tables and headlines.
    pub fn count_label(&self) -> String {
        let bound = if self.at_most { "at most " } else { "" };
        let n = self.count;
        let noun = if n == 1 { "instance" } else { "instances" };
        format!("{bound}{n} {noun}")
    }

    /// The count with the floor's reason when the floor sets it: `2 instances (the peak
    /// needs 1; at least 2: AWS recommends …)` / `3 instances`.
    pub fn describe(&self) -> String {
        if self.min_instances > self.needed {
            format!(
                "{} (the peak needs {}; {})",
                self.count_label(),
                self.needed,
                self.floor_reason
            )
        } else {
            self.count_label()
        }
    }
}

/// The load to add above `top` to find where the SLA stops holding: twice the top.
pub fn next_load(top: &Load) -> Load {
    match *top {
        Load::Closed { concurrency } => Load::Closed {
            concurrency: concurrency.saturating_mul(2),
        },
        Load::Open {
            rate,
            arrivals,
            max_in_flight,
        } => Load::Open {
            rate: rate * 2.0,
            arrivals,
            max_in_flight: max_in_flight.saturating_mul(2),
        },
    }
}

/// Whether `load` is the highest of `loads` (by level).
pub fn is_top(load: &Load, loads: impl Iterator<Item = Load>) -> bool {
    loads.into_iter().all(|l| l.level() <= load.level())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capacity(rps: f64, at_least: bool) -> Capacity {
        Capacity {
            per_instance_rps: rps,
            at_least,
            add_load: None,
        }
    }

    #[test]
    fn the_floor_raises_a_small_fleet_and_says_why() {
        // 10 rps × 1.2 / 100 rps = 0.12 → 1 instance needed, raised to the default 2.
        let t = Traffic::at_peak(10.0, None, 0.2);
        let f = Fleet::at_peak(Hosting::RealTime, &capacity(100.0, false), &t).unwrap();
        assert_eq!((f.needed, f.min_instances, f.count), (1, 2, 2));
        assert!(
            f.describe().contains("Availability Zones"),
            "{}",
            f.describe()
        );
        // 400 rps × 1.2 / 100 = 4.8 → 5, above the floor.
        let t = Traffic::at_peak(400.0, None, 0.2);
        let f = Fleet::at_peak(Hosting::RealTime, &capacity(100.0, false), &t).unwrap();
        assert_eq!((f.needed, f.count), (5, 5));
        assert_eq!(f.describe(), "5 instances");
        // Async defaults to 0: scaled to zero; a profile floor of 3 applies to both.
        let f = Fleet::at_peak(Hosting::Async, &capacity(1000.0, false), &t).unwrap();
        assert_eq!((f.min_instances, f.count), (0, 1));
        let mut t = Traffic::at_peak(10.0, None, 0.2);
        t.min_instances = Some(3);
        let f = Fleet::at_peak(Hosting::Async, &capacity(100.0, false), &t).unwrap();
        assert_eq!(f.count, 3);
        assert!(Fleet::at_peak(Hosting::Serverless, &capacity(1.0, false), &t).is_none());
    }

    #[test]
    fn the_sweeps_top_is_a_lower_bound() {
        let t = Traffic::at_peak(400.0, None, 0.2);
        let f = Fleet::at_peak(Hosting::RealTime, &capacity(160.0, true), &t).unwrap();
        assert_eq!(f.count, 3);
        assert_eq!(f.describe(), "at most 3 instances");
        assert_eq!(
            capacity(160.0, true).describe(),
            "≥ 160.0 (the sweep's top)"
        );
        assert_eq!(
            next_load(&Load::Closed { concurrency: 16 }),
            Load::Closed { concurrency: 32 }
        );
        let loads = [
            Load::Closed { concurrency: 4 },
            Load::Closed { concurrency: 16 },
        ];
        assert!(is_top(&loads[1], loads.iter().copied()));
        assert!(!is_top(&loads[0], loads.iter().copied()));
    }
}
