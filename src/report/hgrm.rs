//! `.hgrm`: a cell's percentile distribution in the text format of HdrHistogram's
//! `outputPercentileDistribution` as the C library and wrk2 print it — what HdrHistogram's
//! plotter (`plotFiles.html`) reads. Values are in milliseconds (µs histogram, scaling ratio
//! 1000), five percentile ticks per half distance to 100%.

use hdrhistogram::Histogram;
use std::io::{self, Write};

/// Recorded units (µs) per printed unit (ms).
pub const SCALING_RATIO: f64 = 1000.0;

/// Percentile ticks per half distance to 100%, HdrHistogram's default.
pub const TICKS_PER_HALF_DISTANCE: u32 = 5;

/// Writes the percentile distribution of `h` (recorded in µs).
pub fn write(h: &Histogram<u64>, out: &mut dyn Write) -> io::Result<()> {
    let digits = usize::from(h.sigfig());
    writeln!(
        out,
        "{:>12} {:>12} {:>12} {:>12}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    let mut total = 0u64;
    for v in h.iter_quantiles(TICKS_PER_HALF_DISTANCE) {
        total += v.count_since_last_iteration();
        let q = v.quantile_iterated_to();
        let value = v.value_iterated_to() as f64 / SCALING_RATIO;
        if q < 1.0 {
            writeln!(
                out,
                "{value:12.digits$} {q:12.6} {total:12} {:12.2}",
                1.0 / (1.0 - q)
            )?;
        } else {
            writeln!(out, "{value:12.digits$} {q:12.6} {total:12} {:>12}", "inf")?;
        }
    }
    writeln!(
        out,
        "#[Mean    = {:12.digits$}, StdDeviation   = {:12.digits$}]",
        h.mean() / SCALING_RATIO,
        h.stdev() / SCALING_RATIO
    )?;
    writeln!(
        out,
        "#[Max     = {:12.digits$}, Total count    = {:12}]",
        h.max() as f64 / SCALING_RATIO,
        h.len()
    )?;
    writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        h.buckets(),
        sub_buckets(h)
    )
}

/// Sub-buckets per bucket: the power of two that holds 2 × 10^digits distinct values.
fn sub_buckets(h: &Histogram<u64>) -> u64 {
    (2 * 10u64.pow(u32::from(h.sigfig()))).next_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(h: &Histogram<u64>) -> String {
        let mut out = Vec::new();
        write(h, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn matches_the_hdrhistogram_layout() {
        let mut h = crate::recorder::latency_histogram();
        for v in 1..=10_000u64 {
            h.record(v * 10).unwrap();
        }
        let t = text(&h);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "       Value   Percentile   TotalCount 1/(1-Percentile)"
        );
        assert_eq!(lines[1], "");
        assert_eq!(
            lines[2],
            "       0.010     0.000000            1         1.00"
        );
        assert!(
            t.contains("      50.015     0.500000         5001         2.00\n"),
            "{t}"
        );
        let last = lines[lines.len() - 4];
        assert!(
            last.ends_with("     1.000000        10000          inf"),
            "{last}"
        );
        assert_eq!(
            lines[lines.len() - 1],
            "#[Buckets =           22, SubBuckets     =         2048]"
        );
        assert!(
            lines[lines.len() - 2]
                .starts_with("#[Max     =      100.031, Total count    =        10000]")
        );
    }

    #[test]
    fn empty_histogram_still_has_header_and_footer() {
        let t = text(&crate::recorder::latency_histogram());
        assert!(t.starts_with("       Value"));
        assert!(t.contains("Total count    =            0]"));
    }
}
