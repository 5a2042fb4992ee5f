//! The vocabulary every stage shares: hosting options, variants, loads, the SLA, traffic,
//! regression thresholds, units, and the evidence a run keeps about what it skipped.
//!
//! It imports nothing of the crate: the profile builds these values from TOML, the plan
//! carries them, and every stage below reads them without reaching back up.

pub mod evidence;
pub mod hosting;
pub mod load;
pub mod names;
pub mod sla;
pub mod template;
pub mod thresholds;
pub mod traffic;
pub mod units;
pub mod variant;

pub use evidence::{FirstRequest, NotDeployed, Pruned, Unfit};
pub use hosting::{
    ASYNC_INLINE_BODY_BYTES, Hosting, SERVERLESS_MAX_CONCURRENCY, SERVERLESS_MEMORY_MB,
};
pub use load::{Arrivals, Load};
pub use sla::{Quantile, Sla};
pub use traffic::Traffic;
pub use variant::{Deployment, InstanceType, Variant};
