//! A streamed reply's token timings, recorded once its sample is: into the shard's recorder
//! (exact histograms) and, for the measured window, the live counters early stops read.

use super::live::LiveStats;
use crate::endpoint::stream::Tokens;
use crate::recorder::Recorder;
use crate::sample::{Outcome, Sample};

/// Records `tokens` of the finished request `sample` (nothing for a plain reply).
pub(super) fn record(
    rec: &mut Recorder,
    live: &LiveStats,
    sample: &Sample,
    tokens: Option<&Tokens>,
) {
    let Some(t) = tokens else {
        return;
    };
    if sample.outcome == Outcome::Ok && rec.measures(sample.intended_start) {
        live.tokens(sample.send_slip() + t.first_token, t.tpot());
    }
    rec.record_tokens(sample, Some(t));
}
