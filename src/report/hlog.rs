//! `.hlog`: a cell's response-time histogram as an HdrHistogram interval log (format V1.3,
//! what Java's `HistogramLogReader`/`HistogramLogProcessor` and the Rust crate's
//! `IntervalLogIterator` read), so logs from several runs or machines can be merged.
//!
//! summary.json keeps each cell's whole-cell histogram only (the per-second histograms live
//! only while the cell runs; the series keeps their p50/p99), so each log holds **one
//! interval covering the whole measured window** of the cell. The cell's own start time is
//! not stored either: StartTime and BaseTime are the run's start, and the interval starts
//! at 0. Histograms are V2 deflate ("compressed") encoded in base64, values in µs; the
//! Interval_Max column is in ms. Intervals are written with the crate's
//! `IntervalLogWriter`.

use hdrhistogram::Histogram;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, IntervalLogWriterError};
use std::io::{self, Write};
use std::time::{Duration, SystemTime};

/// The facts a log header records.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogHeader<'a> {
    /// `loadtest 0.1.0`.
    pub logged_with: &'a str,
    /// When the run started.
    pub start_time: SystemTime,
    /// Length of the cell's measured window.
    pub interval: Duration,
}

/// Writes a log holding `h` (µs) as its one interval.
pub fn write(header: &LogHeader, h: &Histogram<u64>, out: &mut dyn Write) -> io::Result<()> {
    let mut serializer = V2DeflateSerializer::new();
    let mut out = out;
    let stamp = humantime::format_rfc3339_seconds(header.start_time);
    IntervalLogWriterBuilder::new()
        .add_comment(&format!("[Logged with {}]", header.logged_with))
        .add_comment("[Histogram log format version 1.3]")
        .with_start_time(header.start_time)
        .with_base_time(header.start_time)
        .begin_log_with(&mut out, &mut serializer)?;
    writeln!(
        out,
        "#[Run started {stamp}; values recorded in microseconds]"
    )?;
    writeln!(
        out,
        r#""StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram""#
    )?;
    let mut log = IntervalLogWriterBuilder::new()
        .with_max_value_divisor(1000.0)
        .begin_log_with(&mut out, &mut serializer)?;
    log.write_histogram(h, Duration::ZERO, header.interval, None)
        .map_err(|e| match e {
            IntervalLogWriterError::IoError(e) => e,
            IntervalLogWriterError::SerializeError(e) => {
                io::Error::other(format!("histogram does not serialize: {e:?}"))
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::Deserializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

    #[test]
    fn round_trips_through_the_interval_log_reader() {
        let h = crate::report::test_support::latencies(500, 12.0);
        let header = LogHeader {
            logged_with: "loadtest test",
            start_time: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            interval: Duration::from_millis(4_500),
        };
        let mut out = Vec::new();
        write(&header, &h, &mut out).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.starts_with("#[Logged with loadtest test]\n#[Histogram log format version 1.3]\n#[StartTime: 1800000000.000 (seconds since epoch)]\n#[BaseTime: 1800000000.000"), "{text}");
        let entries: Vec<LogEntry> = IntervalLogIterator::new(&out)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(entries.len(), 3);
        let LogEntry::Interval(i) = &entries[2] else {
            panic!("no interval")
        };
        assert_eq!(i.duration(), Duration::from_millis(4_500));
        assert!((i.max() - h.max() as f64 / 1000.0).abs() < 1e-3);
        let bytes = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            i.encoded_histogram(),
        )
        .unwrap();
        let back: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .unwrap();
        assert_eq!(back, h);
    }
}
