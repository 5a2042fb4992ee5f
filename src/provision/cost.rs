//! The cost guard's plan: what a provisioned run will create (one endpoint per candidate,
//! instance type and count), how long each is up (deployment, warmup, measurement,
//! teardown) and what that costs at the price table's rates. Pure: printed before anything
//! is created, and by `--dry-run`.

use crate::domain::{Deployment, Hosting, Variant};
use crate::plan::Plan;
use crate::pricing::{PriceTable, Usd};
use crate::profile::Provision;
use std::io::Write;
use std::time::Duration;

/// Time from DeleteEndpoint until the instances stop billing, as the plan counts it.
pub const TEARDOWN_TIME: Duration = Duration::from_secs(60);

/// One endpoint the run will create.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedEndpoint {
    /// What it deploys.
    pub deployment: Deployment,
    /// Instances behind it (1 for serverless, which has none to count).
    pub instances: u32,
    /// Time up: deployment + warmup and measurement of its cells + teardown.
    pub up: Duration,
    /// Warmup and measurement of its cells alone.
    pub measuring: Duration,
    /// Instance-hours billed (0 for serverless).
    pub instance_hours: f64,
    /// Dollars, when the price table has the row; serverless: an upper bound with every
    /// concurrent slot busy for the whole measurement.
    pub usd: Option<Usd>,
}

/// Everything a provisioned run will create, and its estimated cost.
#[derive(Clone, Debug, PartialEq)]
pub struct CostPlan {
    /// One row per candidate endpoint.
    pub endpoints: Vec<PlannedEndpoint>,
    /// Whether the run creates the model too.
    pub creates_model: bool,
}

impl CostPlan {
    /// The plan of `plan`'s deployments under `provision`, priced from `prices` in `region`.
    pub fn new(plan: &Plan, provision: &Provision, prices: &PriceTable, region: &str) -> CostPlan {
        let endpoints = plan
            .deployments()
            .into_iter()
            .map(|d| planned(plan, provision, prices, region, d))
            .collect();
        CostPlan {
            endpoints,
            creates_model: matches!(
                provision.model,
                crate::profile::ProvisionModel::Create { .. }
            ),
        }
    }

    /// Instance-hours of every endpoint.
    pub fn instance_hours(&self) -> f64 {
        self.endpoints.iter().map(|e| e.instance_hours).sum()
    }

    /// Dollars of every endpoint the table prices.
    pub fn usd(&self) -> Usd {
        Usd(self
            .endpoints
            .iter()
            .filter_map(|e| e.usd)
            .map(Usd::value)
            .sum())
    }

    /// Prints the plan: one line per endpoint, then the totals.
    pub fn write(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "Provisioning plan: {} endpoint(s){}, each deleted as soon as its cells are measured:",
            self.endpoints.len(),
            if self.creates_model {
                " and 1 model"
            } else {
                ""
            }
        )?;
        for e in &self.endpoints {
            let usd = e
                .usd
                .map_or_else(|| "no price row".to_string(), |u| u.to_string());
            let hours = if e.instance_hours > 0.0 {
                format!("{:.3} instance-hours", e.instance_hours)
            } else {
                "billed per use".to_string()
            };
            writeln!(
                out,
                "  {:<10} {:<16} x{:<2} up ~{} (measuring {}): {hours}, {usd}",
                e.deployment.hosting_label(),
                e.deployment.variant_label(),
                e.instances,
                humantime::format_duration(round_s(e.up)),
                humantime::format_duration(round_s(e.measuring)),
            )?;
        }
        writeln!(
            out,
            "  total: {:.3} instance-hours, about {} (deployment, warmup, measurement, teardown)",
            self.instance_hours(),
            self.usd()
        )
    }
}

fn round_s(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs())
}

fn planned(
    plan: &Plan,
    provision: &Provision,
    prices: &PriceTable,
    region: &str,
    deployment: Deployment,
) -> PlannedEndpoint {
    let measuring: Duration = plan
        .cells
        .iter()
        .filter(|c| c.deployment == deployment)
        .map(|c| c.warmup + c.duration)
        .chain(
            plan.searches
                .iter()
                .filter(|s| s.deployment == deployment)
                .map(|s| (s.warmup + s.duration) * s.max_probes()),
        )
        .sum();
    let up = provision.deploy_time + measuring + TEARDOWN_TIME;
    let hosting = deployment.hosting.unwrap_or(Hosting::RealTime);
    let (instances, instance_hours, usd) = match &deployment.variant {
        Some(Variant::Instance(t)) => {
            let n = provision.instance_count;
            let hours = f64::from(n) * up.as_secs_f64() / 3600.0;
            let usd = prices
                .instance_hourly(region, hosting, t)
                .map(|row| Usd(row.usd.value() * hours));
            (n, hours, usd)
        }
        Some(Variant::Serverless { memory_mb }) => {
            let busy = measuring.as_secs_f64() * f64::from(provision.max_concurrency);
            let usd = prices.serverless(region).map(|p| {
                Usd(p.compute_per_gb_second.value() * f64::from(*memory_mb) / 1024.0 * busy)
            });
            (1, 0.0, usd)
        }
        None => (provision.instance_count, 0.0, None),
    };
    PlannedEndpoint {
        deployment,
        instances,
        up,
        measuring,
        instance_hours,
        usd,
    }
}
