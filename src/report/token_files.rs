//! The token histograms of a streamed cell as files beside its end-to-end ones: TTFT, ITL
//! and TPOT, each a `.hgrm` percentile distribution and a `.hlog` interval log
//! (`<stem>-ttft.hgrm`, `<stem>-itl.hlog`, …), decoded from summary.json as the latency
//! ones are, so HdrHistogram tools read and merge them.

use crate::results::CellSummary;
use crate::results::histogram::{self, HistogramError};
use hdrhistogram::Histogram;

/// The file-name suffixes and histograms (µs) of a cell's token timings; none for a cell
/// whose replies did not stream.
pub fn histograms(c: &CellSummary) -> Result<Vec<(&'static str, Histogram<u64>)>, HistogramError> {
    let Some(t) = &c.tokens else {
        return Ok(Vec::new());
    };
    [
        ("ttft", &t.ttft_histogram),
        ("itl", &t.itl_histogram),
        ("tpot", &t.tpot_histogram),
    ]
    .into_iter()
    .map(|(name, text)| Ok((name, histogram::decode(text)?)))
    .collect()
}
