//! `results.csv`: one row per cell; the header comes from [`Row`]'s fields.

use crate::results::CellSummary;
use crate::sample::ErrorKind;
use serde::{Deserialize, Serialize};
use std::io::Write;

/// One CSV row. Columns that do not apply to a cell are empty.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub hosting: String,
    pub instance_type: String,
    pub payload_bytes: u64,
    pub load_mode: String,
    pub concurrency: Option<u32>,
    pub target_rps: Option<f64>,
    pub duration_s: f64,
    pub requests: u64,
    pub ok: u64,
    pub errors: u64,
    pub error_rate: f64,
    pub throughput_rps: f64,
    pub mean_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p999_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub achieved_rps: f64,
    pub service_p50_ms: Option<f64>,
    pub service_p99_ms: Option<f64>,
    pub cancelled: u64,
    pub dropped: u64,
    pub late: u64,
    pub mean_send_slip_ms: f64,
    pub err_http_4xx: u64,
    pub err_http_5xx: u64,
    pub err_throttled: u64,
    pub err_validation: u64,
    pub err_model_error: u64,
    pub err_model_not_ready: u64,
    pub err_service_unavailable: u64,
    pub err_internal_failure: u64,
    pub err_timeout: u64,
    pub err_connect: u64,
    pub err_io: u64,
    #[serde(default)]
    pub err_http_3xx: u64,
    #[serde(default)]
    pub err_auth: u64,
    pub accounting_ok: bool,
    pub interrupted: bool,
    pub phase: String,
    pub stopped_early: bool,
    pub retries: u64,
    pub late_ok: u64,
    pub warmup_retries: u64,
    pub probe_retries: u64,
    pub saturated: bool,
    pub littles_law: Option<String>,
    pub cold_starts: u64,
    #[serde(default = "one")]
    pub repeat: u32,
    /// The request file of a `files` payload level; empty for sized payloads.
    #[serde(default)]
    pub payload_file: Option<String>,
    /// Streamed replies failed as a broken stream (cut, bad SSE line, error event).
    #[serde(default)]
    pub err_stream: u64,
    /// Streaming: output tokens per second.
    #[serde(default)]
    pub output_tokens_per_s: Option<f64>,
    /// Streaming: time to first token, median, ms.
    #[serde(default)]
    pub ttft_p50_ms: Option<f64>,
    /// Streaming: time to first token, 99th percentile, ms.
    #[serde(default)]
    pub ttft_p99_ms: Option<f64>,
    /// Streaming: mean inter-token gap, ms.
    #[serde(default)]
    pub itl_mean_ms: Option<f64>,
    /// Streaming: inter-token gap, 99th percentile, ms.
    #[serde(default)]
    pub itl_p99_ms: Option<f64>,
    /// Streaming: time per output token, median, ms.
    #[serde(default)]
    pub tpot_p50_ms: Option<f64>,
    /// Streaming: time per output token, 99th percentile, ms.
    #[serde(default)]
    pub tpot_p99_ms: Option<f64>,
    /// Streaming: mean input tokens per request (when the server says).
    #[serde(default)]
    pub mean_input_tokens: Option<f64>,
    /// Streaming: mean output tokens per request.
    #[serde(default)]
    pub mean_output_tokens: Option<f64>,
}

fn one() -> u32 {
    1
}

impl Row {
    /// The row of one cell.
    pub fn from_summary(s: &CellSummary) -> Row {
        let lat = s.latency;
        let err = |k: ErrorKind| s.errors_by_kind.get(&k).copied().unwrap_or(0);
        let (concurrency, target_rps) = match s.load {
            crate::domain::Load::Closed { concurrency } => (Some(concurrency), None),
            crate::domain::Load::Open { rate, .. } => (None, Some(rate)),
        };
        Row {
            hosting: s.deployment.hosting_label().to_string(),
            instance_type: s.deployment.variant_label(),
            payload_bytes: s.payload_bytes,
            load_mode: s.load.mode().to_string(),
            concurrency,
            target_rps,
            duration_s: s.duration_s,
            requests: s.requests,
            ok: s.ok,
            late_ok: s.late_ok,
            errors: s.errors,
            error_rate: s.error_rate,
            throughput_rps: s.throughput_rps,
            mean_ms: lat.map(|l| l.mean_ms),
            p50_ms: lat.map(|l| l.p50_ms),
            p90_ms: lat.map(|l| l.p90_ms),
            p95_ms: lat.map(|l| l.p95_ms),
            p99_ms: lat.map(|l| l.p99_ms),
            p999_ms: lat.map(|l| l.p999_ms),
            max_ms: lat.map(|l| l.max_ms),
            achieved_rps: s.achieved_rps,
            service_p50_ms: s.service.map(|l| l.p50_ms),
            service_p99_ms: s.service.map(|l| l.p99_ms),
            cancelled: s.cancelled,
            dropped: s.dropped,
            late: s.late,
            mean_send_slip_ms: s.mean_send_slip_ms,
            err_http_4xx: err(ErrorKind::Http4xx),
            err_http_5xx: err(ErrorKind::Http5xx),
            err_throttled: err(ErrorKind::Throttled),
            err_validation: err(ErrorKind::Validation),
            err_model_error: err(ErrorKind::ModelError),
            err_model_not_ready: err(ErrorKind::ModelNotReady),
            err_service_unavailable: err(ErrorKind::ServiceUnavailable),
            err_internal_failure: err(ErrorKind::InternalFailure),
            err_timeout: err(ErrorKind::Timeout),
            err_connect: err(ErrorKind::Connect),
            err_io: err(ErrorKind::Io),
            err_http_3xx: err(ErrorKind::Http3xx),
            err_auth: err(ErrorKind::Auth),
            accounting_ok: s.accounting_ok,
            interrupted: s.interrupted,
            phase: s.phase.as_str().to_string(),
            stopped_early: s.stopped_early,
            retries: s.retries,
            warmup_retries: s.warmup_retries,
            probe_retries: s.probe_retries,
            saturated: s.saturated,
            littles_law: s.littles_law.clone(),
            cold_starts: s.cold_starts,
            repeat: s.repeat,
            payload_file: s.payload_file.clone(),
            err_stream: err(ErrorKind::Stream),
            output_tokens_per_s: s.tokens.as_ref().map(|t| t.output_tokens_per_s),
            ttft_p50_ms: tok(s, |t| t.ttft.map(|p| p.p50_ms)),
            ttft_p99_ms: tok(s, |t| t.ttft.map(|p| p.p99_ms)),
            itl_mean_ms: tok(s, |t| t.itl.map(|p| p.mean_ms)),
            itl_p99_ms: tok(s, |t| t.itl.map(|p| p.p99_ms)),
            tpot_p50_ms: tok(s, |t| t.tpot.map(|p| p.p50_ms)),
            tpot_p99_ms: tok(s, |t| t.tpot.map(|p| p.p99_ms)),
            mean_input_tokens: s.tokens.as_ref().map(|t| t.mean_input_tokens),
            mean_output_tokens: s.tokens.as_ref().map(|t| t.mean_output_tokens),
        }
    }
}

/// A token figure of a streamed cell.
fn tok(
    s: &CellSummary,
    f: fn(&crate::results::tokens::TokenSummary) -> Option<f64>,
) -> Option<f64> {
    s.tokens.as_ref().and_then(f)
}

/// Writes every cell as a CSV row, header first (nothing for no cells).
pub fn write(cells: &[CellSummary], out: impl Write) -> Result<(), ::csv::Error> {
    let mut w = ::csv::Writer::from_writer(out);
    for cell in cells {
        w.serialize(Row::from_summary(cell))?;
    }
    w.flush()?;
    Ok(())
}

/// Reads rows back, e.g. to check a run folder.
pub fn read(input: impl std::io::Read) -> Result<Vec<Row>, ::csv::Error> {
    ::csv::Reader::from_reader(input).deserialize().collect()
}
