//! Command-line shapes (clap). Parsing only; [`crate::app`] does the work.

use crate::plan::scale_out::GeneratorShard;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Measure how a model-inference endpoint behaves under load, and what hosting it costs.
#[derive(Debug, Parser)]
#[command(name = "loadtest", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a profile's sweep and write results.csv and summary.json.
    #[command(
        after_help = "Example:\n  loadtest run profiles/quickstart.toml\n  loadtest run profiles/quickstart.toml --adaptive   # the same answer from fewer cells\n  loadtest run profiles/http-example.toml --out /tmp/runs --quiet"
    )]
    Run(RunArgs),
    /// Check a profile and print its plan, without sending anything.
    #[command(after_help = "Example:\n  loadtest validate profiles/quickstart.toml")]
    Validate(ValidateArgs),
    /// Compare a run with a baseline; exit 1 when something got worse.
    #[command(
        after_help = "Example:\n  loadtest compare reports/baseline-quickstart reports/quickstart-20261128T120000Z\n  loadtest compare base/summary.json new/summary.json --threshold p99=5%"
    )]
    Compare(CompareArgs),
    /// Rebuild a run folder's reports from its summary.json.
    #[command(
        after_help = "Example:\n  loadtest report reports/quickstart-20261128T120000Z\n  loadtest report reports/quickstart-20261128T120000Z --format html,md"
    )]
    Report(ReportArgs),
    /// Print the price table (embedded, or with your overrides) and its date.
    #[command(
        after_help = "Example:\n  loadtest prices\n  loadtest prices --region us-east-1 --file my-prices.csv"
    )]
    Prices(PricesArgs),
    /// Merge the run folders of a scaled-out run's shards into one run folder and its reports.
    #[command(
        after_help = "Example:\n  loadtest merge /results/quickstart-shard0of3-20261201T120000Z /results/quickstart-shard1of3-20261201T120000Z /results/quickstart-shard2of3-20261201T120000Z --out /results/merged"
    )]
    Merge(MergeArgs),
    /// Serve the emulator of SageMaker hosting until Ctrl-C.
    #[command(
        after_help = "Example:\n  loadtest emulate --listen 127.0.0.1:8080\n  curl -X POST --data-binary @body.bin http://127.0.0.1:8080/endpoints/<name>/invocations"
    )]
    Emulate(EmulateArgs),
    /// List (and with --yes delete) SageMaker resources that provisioned runs left behind.
    #[command(
        after_help = "Example:\n  loadtest cleanup --region us-east-1\n  loadtest cleanup --run lt-20261201t113000-4242 --yes\n  loadtest cleanup --older-than 2h --yes --endpoint-url http://127.0.0.1:8080"
    )]
    Cleanup(CleanupArgs),
}

/// `loadtest cleanup`.
#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// Only the resources of this run id (`lt-…`, printed by the run and tagged `loadtest:run`).
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
    /// Only resources at least this old (e.g. `2h`).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub older_than: Option<std::time::Duration>,
    /// Delete what is listed (without it, only list).
    #[arg(long)]
    pub yes: bool,
    /// AWS region.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Named AWS profile.
    #[arg(long)]
    pub profile: Option<String>,
    /// Control-plane URL instead of AWS's (e.g. `loadtest emulate`).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Also the S3 objects of runs under this prefix (`provision.s3_prefix`, e.g.
    /// `s3://bucket/loadtest`): keys `<prefix>/<run id>/…` (`--older-than` does not apply).
    #[arg(long, value_name = "S3_URI")]
    pub s3_prefix: Option<String>,
}

/// `loadtest run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The profile (TOML) to run.
    pub profile: PathBuf,
    /// Folder for the run folder (default: the profile's `[report] dir`, else `reports`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No progress bar; only the final table and errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Emulator only: multiplies every simulated duration (0.1 = ten times faster).
    #[arg(long, value_name = "FACTOR")]
    pub time_scale: Option<f64>,
    /// After the run, compare it with this run folder (exit 1 on a regression).
    #[arg(long, value_name = "RUN_DIR")]
    pub baseline: Option<PathBuf>,
    /// Also save this run as `<report dir>/baseline-<name>/`, replacing an older one.
    #[arg(long)]
    pub save_baseline: bool,
    /// Print the plan (cells, estimated duration, load-seconds) and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Measure only the cells the recommendation needs (as `strategy = "adaptive"` in
    /// `[sweep]`): each candidate's top load first, a bisection below it when it misses the
    /// SLA, and no more probing of candidates that cannot beat the cheapest feasible one.
    #[arg(long)]
    pub adaptive: bool,
    /// Scale-out: run as generator shard I of N (from 0), sending shard I's share of every
    /// cell; needs `--start-at`. Grid runs only.
    #[arg(long, value_name = "I/N", conflicts_with = "shards", value_parser = parse_shard)]
    pub shard: Option<GeneratorShard>,
    /// Scale-out: one of N shards, its index read from `JOB_COMPLETION_INDEX` (set by a
    /// Kubernetes Indexed Job); needs `--start-at`.
    #[arg(long, value_name = "N")]
    pub shards: Option<u32>,
    /// When the first cell's slot begins (RFC 3339 UTC, e.g. 2026-12-01T12:00:00Z): each
    /// cell runs in a fixed slot from it, so every shard runs the same cell at the same time.
    #[arg(long, value_name = "RFC3339")]
    pub start_at: Option<String>,
    /// With `[provision]`: accept the printed cost plan and create the endpoints.
    #[arg(long)]
    pub yes: bool,
}

/// Parses `--shard I/N`.
fn parse_shard(text: &str) -> Result<GeneratorShard, String> {
    GeneratorShard::parse(text).map_err(|e| e.to_string())
}

/// `loadtest merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' run folders (each holding summary.json), in any order.
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// The merged run folder to write (default: `<name>-merged-<start>` beside the first).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `loadtest validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The profile (TOML) to check.
    pub profile: PathBuf,
}

/// `loadtest emulate`.
#[derive(Debug, Args)]
pub struct EmulateArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Endpoints to emulate (TOML with `[[endpoint]]` tables); a default set without it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Multiplies every simulated duration (0.1 = ten times faster).
    #[arg(long, value_name = "FACTOR")]
    pub time_scale: Option<f64>,
    /// How long an endpoint created through the control plane stays `Creating`.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = humantime::parse_duration)]
    pub deploy_delay: std::time::Duration,
}

/// `loadtest report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run folder (holding summary.json).
    pub run_dir: PathBuf,
    /// Outputs to write, comma-separated: html, md, csv, json, junit, hgrm (default: all).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub format: Vec<String>,
}

/// `loadtest prices`.
#[derive(Debug, Args)]
pub struct PricesArgs {
    /// Only rows of this region.
    #[arg(long)]
    pub region: Option<String>,
    /// A CSV whose rows override or add to the embedded table.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// `loadtest compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline: a run folder or its summary.json.
    pub baseline: PathBuf,
    /// The run to judge: a run folder or its summary.json.
    pub current: PathBuf,
    /// Override a threshold, e.g. `p99=5%`, `throughput=-5%`, `error_rate=0.001` (repeatable).
    #[arg(long = "threshold", value_name = "METRIC=LIMIT")]
    pub thresholds: Vec<String>,
    /// Folder for compare.md and compare-junit.xml (default: the current run's folder).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}
