//! The per-second series of one shard, kept small over long cells: the last few seconds'
//! latency histograms stay live; an older second is packed (HdrHistogram V2, sparse: a few
//! hundred bytes instead of ~13 KiB) and its live histogram is reused for the next second.
//! Unpacked, a second is exactly what a live histogram of it would have held. The packing
//! ([`Packed`]) also keeps the token series' per-second histograms (`recorder::tokens`).

use super::{MAX_LATENCY_US, Second};
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use std::collections::VecDeque;

/// Seconds whose histograms stay live: answers complete nearly in order, and one that ends
/// in an older second (an async completion seen late) unpacks and repacks that second.
const LIVE_SECONDS: usize = 2;

/// Per-second histograms use 2 significant digits: enough for p50/p99 per second, and 8× smaller.
const LATENCY_DIGITS: u8 = 2;

/// An empty per-second latency histogram.
fn second_histogram() -> Histogram<u32> {
    new_histogram(LATENCY_DIGITS)
}

/// An empty per-second histogram (µs) of `digits` significant digits.
fn new_histogram(digits: u8) -> Histogram<u32> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, digits).expect("constant bounds are valid")
}

/// `K` histograms (µs, `DIGITS` significant digits) for each second: those of the last `LIVE`
/// seconds reached stay live, older ones are packed (V2) and their live ones reused. Touching
/// a packed second unpacks and packs it again.
#[derive(Clone, Debug)]
pub struct Packed<const K: usize, const DIGITS: u8, const LIVE: usize> {
    /// Histograms of seconds `0..packed.len()`, V2-encoded; empty when one held nothing.
    packed: Vec<[Box<[u8]>; K]>,
    /// Histograms of the seconds after those, at most `LIVE`.
    live: VecDeque<[Histogram<u32>; K]>,
}

impl<const K: usize, const DIGITS: u8, const LIVE: usize> Default for Packed<K, DIGITS, LIVE> {
    fn default() -> Self {
        Packed {
            packed: Vec::new(),
            live: VecDeque::new(),
        }
    }
}

impl<const K: usize, const DIGITS: u8, const LIVE: usize> Packed<K, DIGITS, LIVE> {
    /// Extends to hold `second`, packing seconds that fall out of the live window.
    pub fn reach(&mut self, second: usize) {
        while self.packed.len() + self.live.len() <= second {
            if self.live.len() < LIVE {
                self.live
                    .push_back(std::array::from_fn(|_| new_histogram(DIGITS)));
                continue;
            }
            let mut oldest = self.live.pop_front().expect("the live window is full");
            self.packed.push(std::array::from_fn(|k| pack(&oldest[k])));
            for h in &mut oldest {
                h.reset();
            }
            self.live.push_back(oldest);
        }
    }

    /// Runs `f` on the histograms of `second` (reached first): the live ones, or packed ones
    /// unpacked and packed again.
    pub fn with(&mut self, second: usize, f: impl FnOnce(&mut [Histogram<u32>; K])) {
        self.reach(second);
        match second.checked_sub(self.packed.len()) {
            Some(live) => f(&mut self.live[live]),
            None => {
                let packed = &mut self.packed[second];
                let mut h: [Histogram<u32>; K] =
                    std::array::from_fn(|k| unpack(&packed[k], DIGITS));
                f(&mut h);
                *packed = std::array::from_fn(|k| pack(&h[k]));
            }
        }
    }

    /// Histogram `k` of second `i`, unpacked or copied; `None` when it holds nothing or `i`
    /// was never reached.
    pub fn histogram(&self, i: usize, k: usize) -> Option<Histogram<u32>> {
        match i.checked_sub(self.packed.len()) {
            Some(live) => self
                .live
                .get(live)
                .map(|hs| &hs[k])
                .filter(|h| !h.is_empty())
                .cloned(),
            None => (!self.packed[i][k].is_empty()).then(|| unpack(&self.packed[i][k], DIGITS)),
        }
    }

    /// The histograms of second `i`, empty ones for nothing.
    pub fn get(&self, i: usize) -> [Histogram<u32>; K] {
        std::array::from_fn(|k| {
            self.histogram(i, k)
                .unwrap_or_else(|| new_histogram(DIGITS))
        })
    }

    /// Adds another's histograms second by second (each second touched once).
    pub fn merge(&mut self, other: &Self) {
        for i in 0..other.packed.len() + other.live.len() {
            let theirs: [Option<Histogram<u32>>; K] =
                std::array::from_fn(|k| other.histogram(i, k));
            if theirs.iter().all(Option::is_none) {
                continue;
            }
            self.with(i, |mine| {
                for (m, t) in mine.iter_mut().zip(&theirs) {
                    if let Some(t) = t {
                        // Same bounds on both sides, so adding cannot fail.
                        let _ = m.add(t);
                    }
                }
            });
        }
    }

    /// Bytes held beyond the struct itself.
    pub fn heap_bytes(&self) -> usize {
        let live = self.live.len() * K * new_histogram(DIGITS).distinct_values() * size_of::<u32>();
        let packed: usize = self.packed.iter().flatten().map(|p| p.len() + 16).sum();
        live + packed
    }
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
    /// The response-time histogram of each second, packed once [`LIVE_SECONDS`] old.
    histograms: Packed<1, LATENCY_DIGITS, LIVE_SECONDS>,
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
        self.histograms.with(second, |[h]| {
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
        }
        self.histograms.merge(&other.histograms);
    }

    /// Second `i` with its histogram unpacked; `None` past the end.
    pub fn get(&self, i: usize) -> Option<Second> {
        let tally = *self.tallies.get(i)?;
        Some(Second {
            ok: tally.ok,
            errors: tally.errors,
            latency: self
                .histograms
                .histogram(i, 0)
                .unwrap_or_else(second_histogram),
        })
    }

    /// Every second, in order, each unpacked in turn.
    pub fn iter(&self) -> impl Iterator<Item = Second> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Bytes the series holds beyond its own struct (for the memory tests).
    pub fn heap_bytes(&self) -> usize {
        self.histograms.heap_bytes() + self.tallies.capacity() * size_of::<Tally>()
    }

    /// Extends the series to hold `second`, packing seconds that fall out of the live window.
    fn reach(&mut self, second: usize) {
        if self.tallies.len() <= second {
            self.tallies.resize(second + 1, Tally::default());
        }
        self.histograms.reach(second);
    }
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

/// What [`pack`] wrote, as a histogram again; an empty one of `digits` for nothing.
fn unpack(bytes: &[u8], digits: u8) -> Histogram<u32> {
    if bytes.is_empty() {
        return new_histogram(digits);
    }
    // The bytes are this module's own encoding, so they decode.
    Deserializer::new()
        .deserialize(&mut &bytes[..])
        .unwrap_or_else(|_| new_histogram(digits))
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
        assert_eq!(
            s.histograms.packed.len(),
            10usize.saturating_sub(LIVE_SECONDS)
        );
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
