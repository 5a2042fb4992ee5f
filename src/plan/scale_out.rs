//! Scale-out: one run's plan split over N generator shards (processes, machines, pods of a
//! Kubernetes Indexed Job) on one clock. Shard `I` of `N` sends its share of every cell, and
//! every cell runs in a fixed slot from the shared start instant.

use crate::domain::Load;
use crate::plan::{Cell, Plan};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One generator shard of a run: `index` of `count` (from 0). Not to be confused with the
/// engine's shards, the tasks one process splits a cell over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneratorShard {
    /// This shard, from 0.
    pub index: u32,
    /// Shards of the run, at least 1.
    pub count: u32,
}

impl Default for GeneratorShard {
    fn default() -> GeneratorShard {
        GeneratorShard::WHOLE
    }
}

impl std::fmt::Display for GeneratorShard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Why a shard specification is unusable.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// Not `I/N` with numbers.
    #[error("`{0}` is not a shard: write it as I/N, e.g. 0/3 for the first of three")]
    Syntax(String),
    /// `N` is 0 or `I` is not below `N`.
    #[error(
        "shard {index}/{count} does not exist: the index runs from 0 to N-1 and N is at least 1"
    )]
    OutOfRange {
        /// The index given.
        index: u32,
        /// The count given.
        count: u32,
    },
}

impl GeneratorShard {
    /// The whole run on one machine: shard 0 of 1.
    pub const WHOLE: GeneratorShard = GeneratorShard { index: 0, count: 1 };

    /// Shard `index` of `count`, checked.
    pub fn new(index: u32, count: u32) -> Result<GeneratorShard, ShardError> {
        if count == 0 || index >= count {
            return Err(ShardError::OutOfRange { index, count });
        }
        Ok(GeneratorShard { index, count })
    }

    /// Parses `I/N`.
    pub fn parse(text: &str) -> Result<GeneratorShard, ShardError> {
        let syntax = || ShardError::Syntax(text.to_string());
        let (i, n) = text.split_once('/').ok_or_else(syntax)?;
        let index = i.trim().parse().map_err(|_| syntax())?;
        let count = n.trim().parse().map_err(|_| syntax())?;
        GeneratorShard::new(index, count)
    }

    /// This shard's part of `total` split as evenly as possible, larger parts first
    /// (10 over 3: 4, 3, 3).
    pub fn share(&self, total: u32) -> u32 {
        total / self.count + u32::from(self.index < total % self.count)
    }

    /// The load this shard applies of a cell's `load`: its share of the workers; for an open
    /// loop, its share of the rate (its arrivals are [`GeneratorShard::lane`]'s) and of
    /// `max_in_flight` (at least 1).
    pub fn local_load(&self, load: Load) -> Load {
        match load {
            Load::Closed { concurrency } => Load::Closed {
                concurrency: self.share(concurrency),
            },
            Load::Open {
                rate,
                arrivals,
                max_in_flight,
            } => Load::Open {
                rate: rate / f64::from(self.count),
                arrivals,
                max_in_flight: self.share(max_in_flight).max(1),
            },
        }
    }

    /// The arrival lane of the engine's shard `index` of `shards` inside this generator shard:
    /// lane `I + N·index` of `N·shards`, so generator shard `I` sends the arrivals
    /// `I, I+N, I+2N, …` of the cell's constant schedule (or an independent Poisson stream),
    /// whatever the engine's shard count on each machine.
    pub fn lane(&self, index: u32, shards: u32) -> (u32, u32) {
        (self.index + self.count * index, self.count * shards)
    }
}

/// Most a cell's drain can take: its timeout and a margin (the engine's drain).
fn drain(cell: &Cell) -> Duration {
    cell.timeout + Duration::from_millis(100)
}

/// Each cell's slot from the run's start instant: (offset, length). A slot is the cell's
/// warmup + duration + the longest drain of the plan, so every shard runs the same cell at
/// the same time even when one drains longer.
pub fn slots(plan: &Plan) -> Vec<(Duration, Duration)> {
    let longest_drain = plan.cells.iter().map(drain).max().unwrap_or_default();
    let mut offset = Duration::ZERO;
    plan.cells
        .iter()
        .map(|cell| {
            let length = cell.warmup + cell.duration + longest_drain;
            let slot = (offset, length);
            offset += length;
            slot
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Arrivals;

    #[test]
    fn shares_split_evenly_larger_first() {
        let parts: Vec<u32> = (0..3)
            .map(|i| GeneratorShard::new(i, 3).unwrap().share(10))
            .collect();
        assert_eq!(parts, vec![4, 3, 3]);
        let one: Vec<u32> = (0..3)
            .map(|i| GeneratorShard::new(i, 3).unwrap().share(1))
            .collect();
        assert_eq!(one, vec![1, 0, 0]);
    }

    #[test]
    fn parses_and_checks_shards() {
        assert_eq!(
            GeneratorShard::parse("2/3"),
            Ok(GeneratorShard { index: 2, count: 3 })
        );
        assert!(matches!(
            GeneratorShard::parse("3/3"),
            Err(ShardError::OutOfRange { .. })
        ));
        assert!(matches!(
            GeneratorShard::parse("1-3"),
            Err(ShardError::Syntax(_))
        ));
        assert!(GeneratorShard::parse("0/0").is_err());
    }

    #[test]
    fn lanes_of_all_shards_cover_every_arrival_once() {
        // Three generator shards with different engine shard counts: together they take
        // every arrival index exactly once.
        let engine_shards = [2u32, 4, 1];
        let mut seen = vec![0u32; 600];
        for (g, &m) in engine_shards.iter().enumerate() {
            let shard = GeneratorShard::new(g as u32, 3).unwrap();
            for s in 0..m {
                let (mut i, stride) = shard.lane(s, m);
                while (i as usize) < seen.len() {
                    seen[i as usize] += 1;
                    i += stride;
                }
            }
        }
        assert!(seen.iter().all(|&n| n == 1), "{seen:?}");
    }

    #[test]
    fn open_loads_split_rate_and_in_flight() {
        let load = Load::Open {
            rate: 90.0,
            arrivals: Arrivals::Constant,
            max_in_flight: 2,
        };
        let last = GeneratorShard::new(2, 3).unwrap().local_load(load);
        assert_eq!(
            last,
            Load::Open {
                rate: 30.0,
                arrivals: Arrivals::Constant,
                max_in_flight: 1
            }
        );
    }
}
