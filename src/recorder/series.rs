//! The per-second series of one shard, kept small over long cells: the last few seconds'
//! latency histograms stay live; an older second is packed (HdrHistogram V2, sparse: a few
//! hundred bytes instead of ~13 KiB) and its live histogram is reused for the next second.
//! Unpacked, a second is exactly what a live histogram of it would have held.

use super::{MAX_LATENCY_US, Second};
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use std::collections::VecDeque;

/// Seconds whose histograms stay live: answers complete nearly in order, and one that ends
/// in an older second (an async completion seen late) unpacks and repacks that second.
const LIVE_SECONDS: usize = 2;

/// Per-second histograms use 2 significant digits: enough for p50/p99 per second, and 8× smaller.
fn second_histogram() -> Histogram<u32> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 2).expect("constant bounds are valid")
}

/// Counts of one second of the series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Successful responses completed in this second.
    pub ok: u64,
    /// Failures completed in this second.
    pub errors: u64,
}

/// One shard's (or a merged cell's) seconds, by completion time from the window's start.
#[derive(Clone, Debug, Default)]
pub struct Series {
    /// Counts of every second.
    tallies: Vec<Tally>,
    /// Response-time histograms of seconds `0..packed.len()`, V2-encoded; empty when the
    /// second had no success.
    packed: Vec<Box<[u8]>>,
    /// Histograms of the seconds after those, at most [`LIVE_SECONDS`].
    live: VecDeque<Histogram<u32>>,
}

impl std::ops::Index<usize> for Series {
    type Output = Tally;

    fn index(&self, second: usize) -> &Tally {
        &self.tallies[second]
    }
}

impl Series {
    /// Seconds in the series.
    pub fn len(&self) -> usize {
        self.tallies.len()
    }

    /// Whether no second has been recorded.
    pub fn is_empty(&self) -> bool {
        self.tallies.is_empty()
    }

    /// Counts a success of `response_us` completed in `second`.
    pub fn record_ok(&mut self, second: usize, response_us: u64) {
        self.reach(second);
        self.tallies[second].ok += 1;
        // Values are clamped into the histogram's bounds, so recording cannot fail.
        self.with_histogram(second, |h| {
            let _ = h.record(response_us);
        });
    }

    /// Counts a failure completed in `second`.
    pub fn record_error(&mut self, second: usize) {
        self.reach(second);
        self.tallies[second].errors += 1;
    }

    /// Adds another series second by second.
    pub fn merge(&mut self, other: &Series) {
        if other.is_empty() {
            return;
        }
        self.reach(other.len() - 1);
        for i in 0..other.len() {
            self.tallies[i].ok += other.tallies[i].ok;
            self.tallies[i].errors += other.tallies[i].errors;
            if let Some(theirs) = other.histogram(i) {
                // Same bounds on both sides, so adding cannot fail.
                self.with_histogram(i, |h| {
                    let _ = h.add(&theirs);
                });
            }
        }
    }

    /// Second `i` with its histogram unpacked; `None` past the end.
    pub fn get(&self, i: usize) -> Option<Second> {
        let tally = *self.tallies.get(i)?;
        Some(Second {
            ok: tally.ok,
            errors: tally.errors,
            latency: self.histogram(i).unwrap_or_else(second_histogram),
        })
    }

    /// Every second, in order, each unpacked in turn.
    pub fn iter(&self) -> impl Iterator<Item = Second> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Bytes the series holds beyond its own struct (for the memory tests).
    pub fn heap_bytes(&self) -> usize {
        let live = self.live.len() * second_histogram_bytes();
        let packed: usize = self.packed.iter().map(|p| p.len() + 16).sum();
        live + packed + self.tallies.capacity() * size_of::<Tally>()
    }

    /// Extends the series to hold `second`, packing seconds that fall out of the live window.
    fn reach(&mut self, second: usize) {
        if self.tallies.len() <= second {
            self.tallies.resize(second + 1, Tally::default());
        }
        while self.packed.len() + self.live.len() <= second {
            if self.live.len() < LIVE_SECONDS {
                self.live.push_back(second_histogram());
                continue;
            }
            let mut oldest = self.live.pop_front().expect("the live window is full");
            self.packed.push(pack(&oldest));
            oldest.reset();
            self.live.push_back(oldest);
        }
    }

    /// Runs `f` on the histogram of `second` (reached already): the live one, or a packed one
    /// unpacked and packed again.
    fn with_histogram(&mut self, second: usize, f: impl FnOnce(&mut Histogram<u32>)) {
        match second.checked_sub(self.packed.len()) {
            Some(live) => f(&mut self.live[live]),
            None => {
                let mut h = unpack(&self.packed[second]);
                f(&mut h);
                self.packed[second] = pack(&h);
            }
        }
    }

    /// The histogram of second `i`, unpacked or copied; `None` when it holds nothing.
    fn histogram(&self, i: usize) -> Option<Histogram<u32>> {
        match i.checked_sub(self.packed.len()) {
            Some(live) => self.live.get(live).filter(|h| !h.is_empty()).cloned(),
            None => (!self.packed[i].is_empty()).then(|| unpack(&self.packed[i])),
        }
    }
}

/// Bytes of one live per-second histogram's counts.
fn second_histogram_bytes() -> usize {
    second_histogram().distinct_values() * size_of::<u32>()
}

/// A second's histogram, V2-encoded; nothing for an empty one.
fn pack(h: &Histogram<u32>) -> Box<[u8]> {
    if h.is_empty() {
        return Box::default();
    }
    let mut buf = Vec::new();
    // Encoding into a Vec fails only on counts beyond i64, which one second never reaches.
    match V2Serializer::new().serialize(h, &mut buf) {
        Ok(_) => buf.into_boxed_slice(),
        Err(_) => Box::default(),
    }
}

/// What [`pack`] wrote, as a histogram again; an empty one for nothing.
fn unpack(bytes: &[u8]) -> Histogram<u32> {
    if bytes.is_empty() {
        return second_histogram();
    }
    // The bytes are this module's own encoding, so they decode.
    Deserializer::new()
        .deserialize(&mut &bytes[..])
        .unwrap_or_else(|_| second_histogram())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A live histogram holding `values`, the reference a packed second must equal.
    fn reference(values: &[u64]) -> Histogram<u32> {
        let mut h = second_histogram();
        for v in values {
            h.record(*v).unwrap();
        }
        h
    }

    #[test]
    fn packed_seconds_unpack_to_what_was_recorded() {
        let mut s = Series::default();
        let per_second: Vec<Vec<u64>> = (0..10u64)
            .map(|i| (0..50).map(|j| 1_000 + i * 997 + j * 131).collect())
            .collect();
        for (i, values) in per_second.iter().enumerate() {
            for v in values {
                s.record_ok(i, *v);
            }
        }
        s.record_error(3);
        assert_eq!(s.len(), 10);
        assert_eq!(s.packed.len(), 10usize.saturating_sub(LIVE_SECONDS));
        for (i, values) in per_second.iter().enumerate() {
            let second = s.get(i).unwrap();
            assert_eq!(second.latency, reference(values), "second {i}");
            assert_eq!(second.ok, 50);
            assert_eq!(second.errors, u64::from(i == 3));
            assert_eq!(
                crate::results::histogram::encode(&second.latency),
                crate::results::histogram::encode(&reference(values))
            );
        }
    }

    #[test]
    fn an_answer_for_a_packed_second_lands_in_it() {
        let mut s = Series::default();
        s.record_ok(0, 5_000);
        s.record_ok(9, 7_000);
        s.record_ok(0, 6_000);
        assert_eq!(s.get(0).unwrap().latency, reference(&[5_000, 6_000]));
        assert_eq!(s[0].ok, 2);
        assert!(s.get(4).unwrap().latency.is_empty());
    }

    #[test]
    fn merging_adds_second_by_second() {
        let mut a = Series::default();
        let mut b = Series::default();
        for i in 0..6 {
            a.record_ok(i, 1_000 + i as u64);
        }
        b.record_ok(1, 2_000);
        b.record_ok(8, 3_000);
        b.record_error(8);
        a.merge(&b);
        assert_eq!(a.len(), 9);
        assert_eq!(a.get(1).unwrap().latency, reference(&[1_001, 2_000]));
        assert_eq!(a.get(8).unwrap().latency, reference(&[3_000]));
        assert_eq!((a[8].ok, a[8].errors), (1, 1));
        assert_eq!(a.iter().map(|s| s.ok).sum::<u64>(), 8);
    }

    #[test]
    fn a_long_series_stays_small() {
        let mut s = Series::default();
        for second in 0..600 {
            for j in 0..500u64 {
                s.record_ok(second, 10_000 + (j * 37) % 3_000);
            }
        }
        // Live, 600 seconds would hold 600 histograms of ~13 KiB (7.6 MiB).
        let bytes = s.heap_bytes();
        assert!(bytes < 600 * 1024, "{bytes} bytes for 600 seconds");
    }
}
