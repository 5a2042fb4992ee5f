//! The load applied to a cell: a closed loop of workers, or an open loop of scheduled
//! arrivals.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The load applied during one cell.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Load {
    /// `concurrency` workers, each sending when its previous request ends.
    Closed {
        /// Number of workers.
        concurrency: u32,
    },
    /// Requests at scheduled times.
    Open {
        /// Requests per second.
        rate: f64,
        /// Spacing of arrivals.
        arrivals: Arrivals,
        /// Most requests in flight; later arrivals are dropped and counted.
        max_in_flight: u32,
    },
}

impl Load {
    /// `closed` or `open`, as in the CSV.
    pub fn mode(&self) -> &'static str {
        match self {
            Load::Closed { .. } => "closed",
            Load::Open { .. } => "open",
        }
    }

    /// The level a sweep orders loads by: concurrency, or rate.
    pub fn level(&self) -> f64 {
        match *self {
            Load::Closed { concurrency } => f64::from(concurrency),
            Load::Open { rate, .. } => rate,
        }
    }

    /// The most requests this load can have in flight.
    pub fn max_in_flight(&self) -> u32 {
        match *self {
            Load::Closed { concurrency } => concurrency,
            Load::Open { max_in_flight, .. } => max_in_flight,
        }
    }
}

impl fmt::Display for Load {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Load::Closed { concurrency } => write!(f, "closed c={concurrency}"),
            Load::Open { rate, arrivals, .. } => {
                // A shard's share of a rate (100 / 3) reads 33.333.
                let rate = super::units::round3(*rate);
                write!(f, "open {rate} rps {arrivals}")
            }
        }
    }
}

/// How open-loop arrivals are spaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrivals {
    /// Evenly, every 1/rate seconds.
    Constant,
    /// Exponential gaps of mean 1/rate: independent users.
    Poisson,
}

impl fmt::Display for Arrivals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Arrivals::Constant => "constant",
            Arrivals::Poisson => "poisson",
        })
    }
}
