//! What a run measured, per cell: [`CellSummary`], made from the engine's result when the
//! cell ends, with its histograms encoded for the run record (`crate::store` keeps it).

pub mod checks;
pub mod histogram;
pub mod merge;
pub mod tokens;

use crate::domain::Load;
use crate::domain::units::round3;
use crate::domain::{Deployment, Quantile};
#[cfg(test)]
use crate::domain::{Hosting, Variant};
use crate::engine::CellResult;
use crate::recorder::{Counts, Recorder};
use crate::sample::ErrorKind;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The repeat of a cell written before repeats existed.
fn first_repeat() -> u32 {
    1
}

/// Latency figures of one histogram, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest value.
    pub max_ms: f64,
}

impl Percentiles {
    /// Reads the figures off a µs histogram; `None` when it is empty.
    pub fn of(h: &Histogram<u64>) -> Option<Percentiles> {
        if h.is_empty() {
            return None;
        }
        let ms = |us: u64| round3(us as f64 / 1000.0);
        Some(Percentiles {
            mean_ms: round3(h.mean() / 1000.0),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p95_ms: ms(h.value_at_quantile(0.95)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        })
    }
}

/// One second of a cell.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecondStats {
    /// Seconds since measurement started.
    pub second: u32,
    /// Length of the window this second covers, s: 1 except for a partial last second
    /// (one shorter than half a second is left out of the series).
    pub span_s: f64,
    /// Successful responses completed in this second, per second of its span.
    pub throughput_rps: f64,
    /// Median response time of those, ms.
    pub p50_ms: Option<f64>,
    /// 99th percentile, ms.
    pub p99_ms: Option<f64>,
    /// Failures completed in this second (a count: divide by `span_s` for a rate).
    pub errors: u64,
}

/// What the failures of one error class said.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// HTTP statuses of the answers, with their counts (none for timeouts, connect and I/O
    /// failures, which had no answer).
    pub statuses: BTreeMap<u16, u64>,
    /// The first few (at most 3) distinct messages: answer excerpts of at most 200 bytes, or
    /// the client's error.
    pub messages: Vec<String>,
}

impl ErrorDetail {
    /// The details of every class that failed in `rec`.
    fn of(rec: &Recorder) -> BTreeMap<ErrorKind, ErrorDetail> {
        ErrorKind::ALL
            .into_iter()
            .filter(|k| rec.counts.errors[k.index()] > 0)
            .map(|k| {
                let log = rec.failures.of(k);
                let mut messages: Vec<String> = Vec::new();
                for text in log.messages.iter().map(crate::sample::Excerpt::text) {
                    if !messages.contains(&text) {
                        messages.push(text);
                    }
                }
                let detail = ErrorDetail {
                    statuses: log.statuses.iter().copied().collect(),
                    messages,
                };
                (k, detail)
            })
            .collect()
    }
}

impl SecondStats {
    /// Failures per second of the span.
    pub fn errors_per_s(&self) -> f64 {
        self.errors as f64 / self.span_s.max(1e-9)
    }
}

/// Why a cell ran: part of the grid, or a probe of an SLA search.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// A point of the profile's grid.
    #[default]
    Grid,
    /// A probe chosen by an SLA search.
    Search,
}

impl Phase {
    /// `grid` or `search`, as in the CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Grid => "grid",
            Phase::Search => "search",
        }
    }
}

/// Everything reported about one cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellSummary {
    /// Position in the plan.
    pub index: usize,
    /// Hosting option and variant, each when known.
    pub deployment: Deployment,
    /// Request body size.
    pub payload_bytes: u64,
    /// The request file's name, for a `files` payload level; none for sized payloads.
    pub payload_file: Option<String>,
    /// Load applied.
    pub load: Load,
    /// Measured window, seconds.
    pub duration_s: f64,
    /// Requests sent in the window (= ok + late_ok + errors + cancelled).
    pub requests: u64,
    /// Successful responses completed inside the window.
    pub ok: u64,
    /// Successful responses to requests of the window that completed after it closed: in
    /// the latency figures, not in `ok` nor in throughput.
    pub late_ok: u64,
    /// Failed requests of every class.
    pub errors: u64,
    /// Failures (in `errors`) that completed after the window closed.
    pub late_errors: u64,
    /// errors / requests.
    pub error_rate: f64,
    /// Successful responses completed inside the window, per second of it.
    pub throughput_rps: f64,
    /// Requests sent per second.
    pub achieved_rps: f64,
    /// Response time of successful requests, from the intended send (open loop corrected).
    pub latency: Option<Percentiles>,
    /// Service time of successful requests, from the actual send.
    pub service: Option<Percentiles>,
    /// Failures by class (every class listed, zeros included).
    pub errors_by_kind: BTreeMap<ErrorKind, u64>,
    /// Per class that failed: the HTTP statuses seen and the first distinct messages.
    pub error_details: BTreeMap<ErrorKind, ErrorDetail>,
    /// Sent but unanswered when the cell stopped.
    pub cancelled: u64,
    /// Open-loop arrivals not sent: the generator, not the target, was the limit.
    pub dropped: u64,
    /// Sends more than 1 ms behind schedule.
    pub late: u64,
    /// Mean send slip behind schedule, ms.
    pub mean_send_slip_ms: f64,
    /// Largest send slip behind schedule, ms.
    pub max_send_slip_ms: f64,
    /// Requests sent during warmup, not recorded.
    pub warmup_requests: u64,
    /// Request bytes sent.
    pub bytes_out: u64,
    /// Response bytes received.
    pub bytes_in: u64,
    /// Whether sent = ok + late_ok + errors + cancelled held, and retries stayed within
    /// the client's retries per request.
    pub accounting_ok: bool,
    /// Open loop: fewer than 95% of the window's arrivals completed inside it; the load
    /// exceeds capacity, and the cell is never an SLA pass.
    pub saturated: bool,
    /// Closed loop: why throughput × mean response time is more than 10% off the
    /// concurrency; `None` when Little's law holds (or does not apply).
    pub littles_law: Option<String>,
    /// Measured requests that met a cold start (serverless on the emulator); 0 when the
    /// target does not say.
    pub cold_starts: u64,
    /// Whether Ctrl-C cut the cell short.
    pub interrupted: bool,
    /// Per-second throughput, p50, p99 and errors.
    pub series: Vec<SecondStats>,
    /// Response-time histogram (µs), HdrHistogram V2 deflate, base64.
    pub histogram: String,
    /// Service-time histogram (µs), same encoding.
    pub service_histogram: String,
    /// Successful responses inside the window per production variant
    /// (`x-Amzn-Invoked-Production-Variant`); they add up to `ok`.
    #[serde(default)]
    pub invoked_variants: BTreeMap<String, u64>,
    /// Grid cell or search probe.
    #[serde(default)]
    pub phase: Phase,
    /// Which pass over the grid, from 1 (`sweep.repeats`).
    #[serde(default = "first_repeat")]
    pub repeat: u32,
    /// Whether the cell stopped before its duration because its SLA was clearly broken.
    #[serde(default)]
    pub stopped_early: bool,
    /// Attempts the client retried for the requests of the window (SageMaker SDK with
    /// `retries` set); 0 otherwise. Attempts the server received in the window are
    /// `requests + retries`.
    #[serde(default)]
    pub retries: u64,
    /// Retries of warmup requests (attempts: `warmup_requests + warmup_retries`).
    pub warmup_retries: u64,
    /// Retries made before the cell, by the probe for an endpoint's first cell.
    pub probe_retries: u64,
    /// The response-time histogram of each second of `series` (same encoding), so the
    /// series of runs from several machines merge exactly.
    pub series_histograms: Vec<String>,
    /// Scale-out merges: the generator shards whose share of this cell was generator-bound
    /// (dropped or late sends); empty otherwise.
    pub generator_bound_shards: Vec<u32>,
    /// Streaming targets: TTFT, ITL, TPOT and token counts; `None` for plain replies.
    #[serde(default)]
    pub tokens: Option<tokens::TokenSummary>,
    /// Asynchronous cells: the longest pause between two polls of a result, ms, which bounds
    /// how late a completion (and so the latency) can be seen; `None` for other cells.
    pub poll_granularity_ms: Option<f64>,
}

impl CellSummary {
    /// Seconds of load the cell applied: its unrecorded `warmup` plus its measured time.
    pub fn load_seconds(&self, warmup: std::time::Duration) -> f64 {
        warmup.as_secs_f64() + self.duration_s
    }

    /// The payload level as reports show it: the size, after the file's name for a `files`
    /// level (`small.json 1.2KiB`).
    pub fn payload_label(&self) -> String {
        let size = crate::domain::units::format_size(self.payload_bytes);
        match &self.payload_file {
            Some(name) => format!("{name} {size}"),
            None => size,
        }
    }

    /// A cell's figures that follow from its counts and histograms alone, over `duration_s`;
    /// the caller fills in where the cell ran and what else it knows (by struct update).
    pub(crate) fn counted(
        load: Load,
        c: &Counts,
        duration_s: f64,
        response: &Histogram<u64>,
        service: &Histogram<u64>,
    ) -> CellSummary {
        let secs = duration_s.max(1e-9);
        let errors = c.error_total();
        let latency = Percentiles::of(response);
        CellSummary {
            index: 0,
            repeat: 1,
            deployment: Deployment::default(),
            payload_bytes: 0,
            payload_file: None,
            load,
            duration_s: round3(duration_s),
            requests: c.sent,
            ok: c.ok,
            late_ok: c.late_ok,
            errors,
            late_errors: c.late_errors,
            error_rate: if c.sent == 0 {
                0.0
            } else {
                errors as f64 / c.sent as f64
            },
            throughput_rps: round3(c.ok as f64 / secs),
            achieved_rps: round3(c.sent as f64 / secs),
            latency,
            service: Percentiles::of(service),
            errors_by_kind: ErrorKind::ALL
                .iter()
                .map(|k| (*k, c.errors[k.index()]))
                .collect(),
            error_details: BTreeMap::new(),
            cancelled: c.cancelled,
            dropped: c.dropped,
            late: c.late,
            mean_send_slip_ms: 0.0,
            max_send_slip_ms: 0.0,
            warmup_requests: c.warmup,
            bytes_out: 0,
            bytes_in: 0,
            accounting_ok: c.balanced(),
            saturated: checks::saturated(&load, c, secs, fastest_s(response)),
            littles_law: checks::littles_law(&load, c, latency.map(|l| l.mean_ms), secs),
            cold_starts: c.cold_starts,
            interrupted: false,
            series: Vec::new(),
            series_histograms: Vec::new(),
            generator_bound_shards: Vec::new(),
            histogram: histogram::encode(response),
            service_histogram: histogram::encode(service),
            invoked_variants: BTreeMap::new(),
            phase: Phase::Grid,
            stopped_early: false,
            retries: 0,
            warmup_retries: 0,
            probe_retries: 0,
            tokens: None,
            poll_granularity_ms: None,
        }
    }

    /// Summarises what a cell measured.
    pub fn from_result(r: &CellResult) -> CellSummary {
        let rec: &Recorder = &r.recorder;
        let c = &rec.counts;
        let secs = r.elapsed.as_secs_f64().max(1e-9);
        let retries_fit = r.retries.measured <= c.sent * u64::from(r.retries.max_per_request)
            && r.retries.warmup <= c.warmup * u64::from(r.retries.max_per_request);
        let (series, series_histograms) = series(rec, r.elapsed.as_secs_f64());
        let counted = CellSummary::counted(
            r.cell.load,
            c,
            r.elapsed.as_secs_f64(),
            &rec.response,
            &rec.service,
        );
        CellSummary {
            index: r.cell.index,
            repeat: r.cell.repeat,
            deployment: r.cell.deployment.clone(),
            payload_bytes: r.cell.payload_bytes,
            payload_file: r.cell.payload_file.as_ref().map(|f| f.name.clone()),
            error_details: ErrorDetail::of(rec),
            mean_send_slip_ms: round3(rec.slip_total_us as f64 / c.sent.max(1) as f64 / 1000.0),
            max_send_slip_ms: round3(rec.slip_max_us as f64 / 1000.0),
            bytes_out: rec.bytes_out,
            bytes_in: rec.bytes_in,
            accounting_ok: counted.accounting_ok && retries_fit,
            interrupted: r.interrupted,
            series,
            series_histograms,
            invoked_variants: rec
                .variants
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(id, n)| {
                    (
                        r.variant_names
                            .get(id)
                            .cloned()
                            .unwrap_or_else(|| format!("#{id}")),
                        *n,
                    )
                })
                .collect(),
            stopped_early: r.stopped_early,
            retries: r.retries.measured,
            warmup_retries: r.retries.warmup,
            probe_retries: r.retries.before,
            tokens: rec
                .tokens
                .as_ref()
                .map(|t| tokens::TokenSummary::of(t, secs)),
            ..counted
        }
    }

    /// Whether every request the cell sent failed (none succeeded, at least one failed).
    pub fn all_failed(&self) -> bool {
        self.ok == 0 && self.errors > 0
    }

    /// The latency figure at an SLA percentile (e.g. 99 → p99), from the stored histogram.
    pub fn latency_at(&self, percentile: Quantile) -> Option<f64> {
        let h = histogram::decode(&self.histogram).ok()?;
        (!h.is_empty()).then(|| round3(h.value_at_quantile(percentile.fraction()) as f64 / 1000.0))
    }
}

/// The least response time in a µs histogram, seconds (0 when empty).
fn fastest_s(h: &Histogram<u64>) -> f64 {
    if h.is_empty() {
        0.0
    } else {
        h.min() as f64 / 1e6
    }
}

/// A partial last second shorter than this is left out of the series; a longer one is
/// scaled to its length.
const MIN_PARTIAL_SECOND: f64 = 0.5;

/// The seconds of the series over `elapsed_s`, with their spans, each unpacked in turn.
fn series_seconds(
    rec: &Recorder,
    elapsed_s: f64,
) -> impl Iterator<Item = (usize, crate::recorder::Second, f64)> {
    let whole_seconds = elapsed_s.ceil() as usize;
    (0..rec.seconds.len().min(whole_seconds.max(1)))
        .map(move |i| (i, (elapsed_s - i as f64).clamp(0.0, 1.0)))
        .filter(|(i, span)| *i == 0 || *span >= MIN_PARTIAL_SECOND)
        .filter_map(|(i, span)| rec.seconds.get(i).map(|s| (i, s, span)))
}

/// The per-second series over `elapsed_s` (each second's counts as rates over its span),
/// beside each second's response-time histogram, encoded.
fn series(rec: &Recorder, elapsed_s: f64) -> (Vec<SecondStats>, Vec<String>) {
    series_seconds(rec, elapsed_s)
        .map(|(i, s, span)| {
            let span = if span > 0.0 { span } else { 1.0 };
            let q = |p: f64| {
                (!s.latency.is_empty())
                    .then(|| round3(s.latency.value_at_quantile(p) as f64 / 1000.0))
            };
            let stats = SecondStats {
                second: i as u32,
                span_s: round3(span),
                throughput_rps: round3(s.ok as f64 / span),
                p50_ms: q(0.5),
                p99_ms: q(0.99),
                errors: s.errors,
            };
            (stats, histogram::encode(&s.latency))
        })
        .unzip()
}

#[cfg(test)]
impl CellSummary {
    /// A test cell: `h` as both latency histograms, `errors` failures (no class), over
    /// `duration_s`; real-time ml.c5.xlarge, 1 KiB, closed c=1, no per-second series.
    pub(crate) fn for_tests(h: &Histogram<u64>, errors: u64, duration_s: f64) -> CellSummary {
        let ok = h.len();
        let requests = ok + errors;
        // The failures go in one class for the count, and are shown in none.
        let mut counts = Counts {
            sent: requests,
            ok,
            ..Counts::default()
        };
        counts.errors[ErrorKind::Http5xx.index()] = errors;
        // Unrounded rates and no saturation or Little's-law checks: a test sets what it needs.
        CellSummary {
            deployment: Deployment::new(Hosting::RealTime, Variant::instance("ml.c5.xlarge")),
            payload_bytes: 1024,
            duration_s,
            throughput_rps: ok as f64 / duration_s,
            achieved_rps: requests as f64 / duration_s,
            errors_by_kind: ErrorKind::ALL.iter().map(|k| (*k, 0)).collect(),
            saturated: false,
            littles_law: None,
            ..CellSummary::counted(Load::Closed { concurrency: 1 }, &counts, duration_s, h, h)
        }
    }
}
