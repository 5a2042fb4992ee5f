//! Names and tags of what a run creates: a run id (`lt-` + UTC time + process id), an
//! endpoint and config name per candidate within SageMaker's 63 characters, and the tags
//! `loadtest:run` and `loadtest:created` that `loadtest cleanup` finds them by.

use crate::domain::Deployment;
use std::time::{SystemTime, UNIX_EPOCH};

/// Tag key holding the run id.
pub const RUN_TAG: &str = "loadtest:run";

/// Tag key holding the creation time (seconds since the Unix epoch).
pub const CREATED_TAG: &str = "loadtest:created";

/// Prefix of every name loadtest gives.
pub const PREFIX: &str = "lt-";

/// SageMaker's longest endpoint name.
const MAX_NAME: usize = 63;

/// A fresh run id, e.g. `lt-20261201t113000-4242`.
pub fn run_id(now: SystemTime) -> String {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let stamp = crate::store::files::rfc3339(now)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(15)
        .collect::<String>()
        .to_lowercase();
    let stamp = if stamp.is_empty() {
        secs.to_string()
    } else {
        stamp
    };
    format!("{PREFIX}{stamp}-{}", std::process::id() % 100_000)
}

/// The endpoint (and endpoint config) name of candidate `index`.
pub fn endpoint(run_id: &str, index: usize, deployment: &Deployment) -> String {
    let label: String = deployment
        .variant_label()
        .trim_start_matches("ml.")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = format!("{run_id}-{index}-{label}");
    let name: String = name.chars().take(MAX_NAME).collect();
    name.trim_end_matches('-').to_string()
}

/// The name of the model a run creates.
pub fn model(run_id: &str) -> String {
    format!("{run_id}-model")
}

/// Seconds since the Unix epoch, for [`CREATED_TAG`].
pub fn epoch_secs(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Hosting, InstanceType, Variant};

    #[test]
    fn names_are_sagemaker_names_within_63_characters() {
        let id = run_id(UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000));
        assert!(id.starts_with("lt-2027"), "{id}");
        let d = Deployment::new(
            Hosting::RealTime,
            Variant::Instance(InstanceType::new("ml.g4dn.12xlarge")),
        );
        let name = endpoint(&id, 3, &d);
        assert!(
            name.len() <= 63 && name.ends_with("-3-g4dn-12xlarge"),
            "{name}"
        );
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{name}"
        );
    }
}
