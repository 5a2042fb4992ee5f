//! Human units in profiles: durations ("15s", "2m") and sizes ("512B", "64KiB", "1MiB").

use std::time::Duration;

/// Rounds to 3 decimals (µs precision for ms figures).
pub fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Parses a humantime duration such as `15s`, `500ms` or `2m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|e| {
        format!("`{text}` is not a duration ({e}); write e.g. \"15s\", \"500ms\", \"2m\"")
    })
}

/// Parses a size such as `512B`, `64KiB`, `1MiB`, `2GiB`, `10KB` or a bare byte count.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let multiplier: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        _ => return Err(size_hint(text)),
    };
    let value: f64 = number.parse().map_err(|_| size_hint(text))?;
    let bytes = value * multiplier as f64;
    if !(bytes.is_finite() && bytes >= 0.0 && bytes.fract() == 0.0) {
        return Err(size_hint(text));
    }
    Ok(bytes as u64)
}

fn size_hint(text: &str) -> String {
    format!("`{text}` is not a size; write e.g. \"512B\", \"64KiB\", \"1MiB\"")
}

/// Formats bytes the way profiles write them: `512B`, `64KiB`, `1.5MiB`.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if bytes >= size {
            let value = bytes as f64 / size as f64;
            return if value.fract() == 0.0 {
                format!("{value}{unit}")
            } else {
                format!("{value:.1}{unit}")
            };
        }
    }
    format!("{bytes}B")
}

/// Serde helpers that write a [`Duration`] as a humantime string.
pub mod serde_duration {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    /// Writes `15s`.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    /// Reads `15s`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_binary_and_decimal_units() {
        assert_eq!(parse_size("512B"), Ok(512));
        assert_eq!(parse_size("64KiB"), Ok(65_536));
        assert_eq!(parse_size("1MiB"), Ok(1_048_576));
        assert_eq!(parse_size("1.5KiB"), Ok(1_536));
        assert_eq!(parse_size("10KB"), Ok(10_000));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("64kib").is_err());
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0.3B").is_err());
    }

    #[test]
    fn sizes_format_back() {
        assert_eq!(format_size(512), "512B");
        assert_eq!(format_size(65_536), "64KiB");
        assert_eq!(format_size(1_572_864), "1.5MiB");
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("15").is_err());
    }
}
