//! Histograms in files: HdrHistogram V2 deflate encoding, then base64, as in HdrHistogram logs.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};

/// Why a stored histogram could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum HistogramError {
    /// Not base64.
    #[error("histogram is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// Not an HdrHistogram V2 encoding.
    #[error("histogram does not decode: {0:?}")]
    Decode(hdrhistogram::serialization::DeserializeError),
}

/// Encodes a histogram as base64 of its V2 deflate serialization.
pub fn encode<T: hdrhistogram::Counter>(h: &Histogram<T>) -> String {
    let mut buf = Vec::new();
    // Serializing into a Vec only fails on counts the format cannot hold, which µs latencies never reach.
    match V2DeflateSerializer::new().serialize(h, &mut buf) {
        Ok(_) => STANDARD.encode(buf),
        Err(_) => String::new(),
    }
}

/// Decodes what [`encode`] wrote.
pub fn decode(text: &str) -> Result<Histogram<u64>, HistogramError> {
    let bytes = STANDARD.decode(text)?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(HistogramError::Decode)
}

/// Quantile `q` of the stored µs histograms `texts` merged, in ms (3 decimals); `None` when
/// one does not decode or none holds a value.
pub fn merged_quantile_ms<'a>(texts: impl IntoIterator<Item = &'a str>, q: f64) -> Option<f64> {
    let mut merged: Option<Histogram<u64>> = None;
    for text in texts {
        let h = decode(text).ok()?;
        match merged.as_mut() {
            Some(m) => m.add(&h).ok()?,
            None => merged = Some(h),
        }
    }
    let h = merged.filter(|h| !h.is_empty())?;
    Some(crate::domain::units::round3(
        h.value_at_quantile(q) as f64 / 1000.0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let mut h = crate::recorder::latency_histogram();
        for v in [1, 150, 2_000, 2_500_000] {
            h.record(v).unwrap();
        }
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back, h);
    }
}
