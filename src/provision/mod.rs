//! Live SageMaker provisioning: per candidate an endpoint config and an endpoint through
//! the control-plane SDK, waited for, measured by the caller and deleted at once; the model
//! too when the run created it; everything tagged with the run id, every exit path tearing
//! down what is left ([`deploy`]); `loadtest cleanup` for leftovers ([`cleanup`]); and the
//! cost guard's plan printed before anything is created ([`cost`]).
//!
//! The SDK parts build only with `--features provision` (the control-plane SDK is large);
//! the plan and the names build always, so `--dry-run` and validation work without it.

#[cfg(feature = "provision")]
pub mod cleanup;
#[cfg(feature = "provision")]
pub mod client;
pub mod cost;
#[cfg(feature = "provision")]
pub mod deploy;
#[cfg(feature = "provision")]
pub mod error;
pub mod names;
#[cfg(feature = "provision")]
pub mod s3_objects;

/// The command that builds loadtest with provisioning.
pub const BUILD_COMMAND: &str = "cargo run --release --features provision -- run";

/// Whether this build can provision.
pub const ENABLED: bool = cfg!(feature = "provision");
