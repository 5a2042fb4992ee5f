//! loadtest: measure how a model-inference endpoint behaves under load, and what hosting it
//! costs, then recommend the cheapest configuration that meets the SLA.
//!
//! # The pipeline
//!
//! ```text
//! profile.toml ──► profile::Profile ──► plan::Plan (cells, searches)
//!                                           │
//!      endpoint::build ◄────────────────────┤   (endpoint::emulated deploys the emulator)
//!            │ one Endpoint per Deployment   ▼
//!            └──────────────────────► engine::run_cell ──► payload (request bodies)
//!                                           │ a Sample per request
//!                                           ▼
//!                                 recorder::Recorder (HdrHistograms per shard, merged)
//!                                           │
//!                                           ▼
//!                                 results::CellSummary ──► recommend (+ pricing)
//!                                           │                     │
//!                                           ▼                     ▼
//!                                 store::record (summary.json, results.csv)
//!                                           │
//!                                           ▼
//!                                 report (md, html, junit, hgrm, hlog) · compare
//! ```
//!
//! `run` drives a plan through the engine cell by cell (grid, adaptive sweep or search) and
//! keeps the run folder; `app` wires the stages for each subcommand.
//!
//! # Layers
//!
//! A module imports only modules below it (the architecture test in `tests/it` keeps it so,
//! and keeps sibling submodules free of import cycles). Top first:
//!
//! ```text
//! app        one function per subcommand; the only user of cli
//! cli        flag shapes (clap)
//! run        drives a plan: grid cells, adaptive sweeps, searches; progress; the run folder
//! provision  live SageMaker control plane: deploy, wait, tear down, cleanup; the cost plan
//! compare    a run against a baseline, with statistics
//! report     renders a run record: Markdown, HTML with SVG charts, JUnit, hgrm, hlog, tables
//! store      the typed run record (summary.json) and results.csv: written atomically, read back
//! recommend  cells + SLA + traffic + prices → candidates, choice, frontier; SLA checks
//! pricing    the embedded price table and user overrides
//! results    what one cell measured (CellSummary), from the engine's result
//! engine     run_cell: one shard loop for closed and open loops; the pacer; live counters
//! recorder   per-shard HdrHistograms, counts and per-second series
//! endpoint   the Endpoint trait: HTTP, asynchronous HTTP, SageMaker; build, emulated
//! sample     one plain record per request, and the error classes
//! plan       Profile → Plan: cells in order; the ladder and search state machines
//! payload    request bodies: random bytes, a file, a folder, a JSON template
//! profile    TOML → validated Profile, every problem at once
//! emulator   the emulated SageMaker hosting: runtime API, control plane, models, queues, faults
//! domain     shared vocabulary: hosting, variant, deployment, load, SLA, traffic, units
//! ```
//!
//! # Glossary
//!
//! - **target**: what the profile's `[target]` points at (`emulator`, `http`, `sagemaker`):
//!   [`profile::Target`].
//! - **endpoint**: where requests go, the [`endpoint::Endpoint`] trait; one per deployment,
//!   made by [`endpoint::build`].
//! - **hosting option**: real-time, serverless, asynchronous or batch: [`domain::Hosting`].
//! - **variant**: what an endpoint runs on, an instance type or a serverless memory size:
//!   [`domain::Variant`].
//! - **deployment**: a hosting option and a variant, each when the target names one:
//!   [`domain::Deployment`].
//! - **cell**: one deployment × payload size × load, measured for a duration: [`plan::Cell`].
//! - **load**: a closed loop of N workers or an open loop of scheduled arrivals:
//!   [`domain::Load`].
//! - **candidate**: a hosting option × variant × payload size the recommendation judges:
//!   [`recommend::Candidate`].
//! - **ladder**: one candidate's load levels, probed top first by an adaptive sweep:
//!   [`plan::ladder`]. **search**: the bisection for the highest load that meets the SLA:
//!   [`plan::search`].
//! - **run record**: everything a run measured and decided, `summary.json`:
//!   [`store::record::RunRecord`].
//! - **generator shard**: one of N processes (machines, pods) that run one plan together on
//!   one clock, each sending its share of every cell, merged by `loadtest merge`:
//!   [`plan::scale_out::GeneratorShard`]. The engine's own shards are the tasks one process
//!   splits a cell over.

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
pub mod provision;
pub mod recommend;
pub mod recorder;
pub mod report;
pub mod results;
pub mod run;
pub mod sample;
pub mod store;
