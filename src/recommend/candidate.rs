//! A candidate before anything is known of it but what it is and its verdict.

use super::{Candidate, Verdict};
use crate::domain::{Hosting, Variant};

impl Candidate {
    /// A candidate with its `verdict` and nothing measured, priced or ranked yet: the
    /// figures a caller has are set over it (`Candidate { cost, ..Candidate::new(..) }`).
    pub fn new(
        hosting: Option<Hosting>,
        variant: Option<Variant>,
        payload_bytes: u64,
        verdict: Verdict,
    ) -> Candidate {
        Candidate {
            hosting,
            variant,
            payload_bytes,
            payload_file: None,
            cells: 0,
            operating: None,
            workload: Vec::new(),
            capacity: None,
            fleet: None,
            scaling: None,
            monthly: None,
            cost: None,
            verdict,
            rank: None,
            on_frontier: false,
            repeats: None,
            first_request_ms: None,
            tokens: None,
        }
    }
}
