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

pub mod app;
pub mod cli;
pub mod compare;
pub mod domain;
pub mod emulator;
pub mod endpoint;
pub mod engine;
pub mod payload;
pub mod plan;
pub mod pricing;
pub mod profile;
pub mod recommend;
pub mod recorder;
pub mod report;
pub mod results;
pub mod run;
pub mod sample;
pub mod store;
