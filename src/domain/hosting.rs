//! The four SageMaker hosting options and the limits each one enforces.
//!
//! Limits are from the SageMaker developer guide and API reference (Quotas; InvokeEndpoint,
//! InvokeEndpointAsync; serverless endpoints; batch transform), as summarised in DESIGN.md §1.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// How a model is hosted: one of SageMaker's four inference options.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hosting {
    /// Always-on instances behind an HTTPS endpoint.
    RealTime,
    /// On-demand compute billed per GB-second; scales to zero; no GPUs.
    Serverless,
    /// Queued requests answered 202 at once; results delivered later.
    Async,
    /// Offline transform job over a whole dataset.
    Batch,
}

/// Serverless memory sizes that SageMaker accepts (MB), 1 GB steps.
pub const SERVERLESS_MEMORY_MB: [u32; 6] = [1024, 2048, 3072, 4096, 5120, 6144];

/// Serverless MaxConcurrency bounds per endpoint.
pub const SERVERLESS_MAX_CONCURRENCY: std::ops::RangeInclusive<u32> = 1..=200;

/// Largest inline body accepted by InvokeEndpointAsync (bytes); larger inputs live in S3.
pub const ASYNC_INLINE_BODY_BYTES: u64 = 128_000;

impl Hosting {
    /// All options, in the order reports list them.
    pub const ALL: [Hosting; 4] = [
        Hosting::RealTime,
        Hosting::Serverless,
        Hosting::Async,
        Hosting::Batch,
    ];

    /// The name used in profiles, CSV columns and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Hosting::RealTime => "real-time",
            Hosting::Serverless => "serverless",
            Hosting::Async => "async",
            Hosting::Batch => "batch",
        }
    }

    /// Largest request payload the option accepts, in bytes.
    pub fn max_payload_bytes(self) -> u64 {
        match self {
            Hosting::RealTime => 6 * 1024 * 1024,
            Hosting::Serverless => 4 * 1024 * 1024,
            Hosting::Async => 1024 * 1024 * 1024,
            Hosting::Batch => 100 * 1024 * 1024,
        }
    }

    /// Longest processing time the option allows for one invocation.
    pub fn max_processing_time(self) -> Duration {
        match self {
            Hosting::RealTime | Hosting::Serverless => Duration::from_secs(60),
            Hosting::Async | Hosting::Batch => Duration::from_secs(3600),
        }
    }

    /// Parses a profile name such as `real-time`; `None` for anything else.
    pub fn parse(name: &str) -> Option<Hosting> {
        Hosting::ALL.into_iter().find(|h| h.as_str() == name)
    }
}

impl fmt::Display for Hosting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for h in Hosting::ALL {
            assert_eq!(Hosting::parse(h.as_str()), Some(h));
        }
        assert_eq!(Hosting::parse("realtime"), None);
    }

    #[test]
    fn payload_limits_follow_sagemaker() {
        assert_eq!(Hosting::RealTime.max_payload_bytes(), 6_291_456);
        assert_eq!(Hosting::Serverless.max_payload_bytes(), 4_194_304);
    }
}
