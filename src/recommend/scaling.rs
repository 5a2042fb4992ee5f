//! The autoscaling policy for real-time and async candidates: target tracking on
//! `SageMakerVariantInvocationsPerInstance` (invocations per instance per minute), with the
//! target at the sustainable rate per instance less the headroom, `floor(rps × 60 / (1 +
//! headroom))`, between the instance floor and the fleet the peak needs.
//!
//! The configuration is ready for `aws application-autoscaling put-scaling-policy
//! --policy-type TargetTrackingScaling --target-tracking-scaling-policy-configuration
//! file://policy.json`, after `register-scalable-target` with the min and max counts.

use super::capacity::{Capacity, Fleet};
use serde::{Deserialize, Serialize};

/// The metric SageMaker publishes per variant, per minute.
pub const METRIC: &str = "SageMakerVariantInvocationsPerInstance";

/// Seconds after a scale-in before another (slow in: keeps capacity through short dips).
pub const SCALE_IN_COOLDOWN_S: u32 = 300;

/// Seconds after a scale-out before another (fast out: follows a rising load).
pub const SCALE_OUT_COOLDOWN_S: u32 = 60;

/// An Application Auto Scaling target-tracking policy for a SageMaker variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScalingPolicy {
    /// Fewest instances (`--min-capacity`).
    pub min_instances: u32,
    /// Most instances (`--max-capacity`): the fleet the peak needs, at least the floor.
    pub max_instances: u32,
    /// The capacity is a lower bound (the sweep's top): the target is conservative.
    pub conservative: bool,
    /// `TargetTrackingScalingPolicyConfiguration` as Application Auto Scaling takes it.
    pub configuration: TargetTracking,
}

/// `TargetTrackingScalingPolicyConfiguration` (field names as the API spells them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetTracking {
    /// Invocations per instance per minute to hold.
    pub target_value: f64,
    /// The SageMaker metric.
    pub predefined_metric_specification: PredefinedMetric,
    /// Seconds between scale-ins.
    pub scale_in_cooldown: u32,
    /// Seconds between scale-outs.
    pub scale_out_cooldown: u32,
}

/// `PredefinedMetricSpecification`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PredefinedMetric {
    /// Always [`METRIC`].
    pub predefined_metric_type: String,
}

/// Invocations per instance per minute to target: `floor(rps × 60 / (1 + headroom))`, at
/// least 1.
pub fn target_value(per_instance_rps: f64, headroom: f64) -> f64 {
    (per_instance_rps * 60.0 / (1.0 + headroom))
        .floor()
        .max(1.0)
}

impl ScalingPolicy {
    /// The policy for a candidate of `capacity` whose peak needs `fleet`.
    pub fn of(capacity: &Capacity, fleet: &Fleet, headroom: f64) -> ScalingPolicy {
        ScalingPolicy {
            min_instances: fleet.min_instances,
            max_instances: fleet.count.max(fleet.min_instances).max(1),
            conservative: capacity.at_least,
            configuration: TargetTracking {
                target_value: target_value(capacity.per_instance_rps, headroom),
                predefined_metric_specification: PredefinedMetric {
                    predefined_metric_type: METRIC.into(),
                },
                scale_in_cooldown: SCALE_IN_COOLDOWN_S,
                scale_out_cooldown: SCALE_OUT_COOLDOWN_S,
            },
        }
    }

    /// The configuration as pretty JSON, for `--target-tracking-scaling-policy-configuration`.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(&self.configuration).unwrap_or_default()
    }

    /// `target 2,500 invocations/instance/minute, 2–5 instances`.
    pub fn describe(&self) -> String {
        format!(
            "target tracking {METRIC} = {:.0}/min, {}–{} instances",
            self.configuration.target_value, self.min_instances, self.max_instances
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_is_the_per_minute_rate_less_the_headroom() {
        // 100 rps × 60 = 6,000/min; with 20 % headroom: 6,000 / 1.2 = 5,000.
        assert_eq!(target_value(100.0, 0.2), 5000.0);
        // 12.34 rps × 60 / 1.5 = 493.6 → 493 (rounded down: never above the sustainable rate).
        assert_eq!(target_value(12.34, 0.5), 493.0);
        assert_eq!(target_value(0.001, 0.2), 1.0);
    }

    #[test]
    fn policy_json_is_what_application_auto_scaling_takes() {
        let capacity = Capacity {
            per_instance_rps: 100.0,
            at_least: false,
            add_load: None,
        };
        let fleet = Fleet {
            needed: 5,
            min_instances: 2,
            count: 5,
            at_most: false,
            floor_reason: String::new(),
        };
        let p = ScalingPolicy::of(&capacity, &fleet, 0.2);
        assert_eq!((p.min_instances, p.max_instances), (2, 5));
        let v: serde_json::Value = serde_json::from_str(&p.json()).unwrap();
        assert_eq!(v["TargetValue"], 5000.0);
        assert_eq!(
            v["PredefinedMetricSpecification"]["PredefinedMetricType"],
            "SageMakerVariantInvocationsPerInstance"
        );
        assert_eq!(
            (
                v["ScaleInCooldown"].as_u64(),
                v["ScaleOutCooldown"].as_u64()
            ),
            (Some(300), Some(60))
        );
    }
}
