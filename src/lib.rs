//! loadtest: measure how a model-inference endpoint behaves under load, and what hosting it costs.
//!
//! ```text
//! profile.toml ──► Profile ──► Plan (cells) ──► engine ──► Target (http | sagemaker | emulator)
//!                                                  │ Sample per request
//!                                                  ▼
//!                                  Recorder (HdrHistogram per shard, merged)
//!                                                  │ CellResult
//!                                                  ▼
//!                                  results (csv, json) ──► report
//! ```

pub mod emulator;
pub mod hosting;
pub mod sample;
pub mod payload;
pub mod profile;
pub mod recorder;
pub mod plan;
pub mod pricing;
pub mod sla;
pub mod recommend;
pub mod endpoint;
pub mod engine;
pub mod results;
pub mod runner;
pub mod search;
pub mod advise;
pub mod app;
pub mod cli;
pub mod compare;
pub mod emulator_target;
pub mod progress;
pub mod report;
