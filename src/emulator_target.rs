//! The `emulator` target kind: deploys one emulated endpoint per swept variant on
//! 127.0.0.1 (ephemeral port) and hands out their URLs.

/// Placeholder until the emulator module exports its error type.
pub type EmulatorError = std::convert::Infallible;
use crate::plan::{Plan, Variant};
use crate::profile::Profile;
use std::collections::BTreeMap;

/// Emulated endpoints started for a run.
pub struct Deployed {
    /// URL of each variant's endpoint.
    pub urls: BTreeMap<Variant, String>,
}

impl Deployed {
    /// Stops the emulator.
    pub async fn stop(self) {}
}

/// Checks that every endpoint of the plan can be deployed (exit 2 otherwise).
pub fn check(_profile: &Profile, _plan: &Plan) -> Result<(), EmulatorError> {
    Ok(())
}

/// Starts the emulator when the profile targets it; `None` for other targets.
pub async fn start(_profile: &Profile, _plan: &Plan) -> Result<Option<Deployed>, EmulatorError> {
    Ok(None)
}
