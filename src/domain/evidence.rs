//! What a run keeps about the configurations it did not measure in full: variants the
//! model does not fit, candidates that could not be deployed, candidates an adaptive sweep
//! stopped probing, and the timed first request to each deployment (its cold start).

use super::{Deployment, Load};
use serde::{Deserialize, Serialize};

/// A swept variant the model does not fit: it is not deployed, and the recommendation
/// lists it with this reason.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unfit {
    /// Hosting option and variant.
    pub deployment: Deployment,
    /// Memory the model needs, MB.
    pub model_mb: u32,
    /// Memory the instance, accelerator or serverless size has, MB.
    pub available_mb: u32,
}

/// A candidate the run tried to deploy and could not (a quota or capacity refusal, or an
/// endpoint that reached `Failed`): it is not measured, and the recommendation lists it
/// with this reason.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NotDeployed {
    /// Hosting option and variant (instance type or serverless memory).
    pub deployment: Deployment,
    /// Instances asked for (`InitialInstanceCount`), or serverless `MaxConcurrency`.
    pub count: u32,
    /// What the control plane said: the error code and message, or the `FailureReason`.
    pub reason: String,
}

/// Why an adaptive sweep stopped probing a candidate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pruned {
    /// The lowest load that missed the SLA.
    pub at: Load,
    /// Throughput per instance measured there: more than any lower load would sustain.
    pub per_instance_rps: f64,
    /// Cost per million requests at that throughput: the least the candidate could cost.
    pub floor_per_million: f64,
    /// The feasible candidate it could not beat.
    pub beaten_by: String,
    /// That candidate's cost per million requests.
    pub beaten_per_million: f64,
}

/// The first request of a run to one variant, timed before any load. On an endpoint that
/// was idle (serverless scaled to zero, a freshly deployed emulated endpoint) it includes
/// the cold start.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FirstRequest {
    /// Hosting option and variant.
    pub deployment: Deployment,
    /// Its response time, ms.
    pub ms: f64,
}
