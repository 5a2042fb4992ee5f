//! Integration tests: one binary, every server on 127.0.0.1 port 0.

mod architecture;
mod bin;
mod cli;
mod compare;
mod emulator;
mod engine;
mod failures;
mod kubernetes;
mod measure;
#[cfg(feature = "provision")]
mod provision;
mod provision_plan;
mod recommend;
mod recommend_sweeps;
mod report;
mod sagemaker;
mod scale_out;
mod search;
mod streaming;
mod support;
mod verdicts;
mod workload;
