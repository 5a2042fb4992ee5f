//! The run records of a scaled-out run's shards merged into one record, as if one machine had
//! run the whole plan: checked to be the shards of one run (same profile, start time and
//! shard count, every index once), then merged cell by cell
//! ([`crate::results::merge::merge_cell`]). The result does not depend on the order of the
//! shards.

use crate::results::merge::{MergeError, merge_cell};
use crate::store::record::{RunRecord, ScaleOut};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Why records cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum ShardsError {
    /// A record was not written by a shard (`loadtest run --shard`).
    #[error(
        "{path} is not a shard's run record (no shard identity); give the folders `loadtest run --shard I/N --start-at …` wrote"
    )]
    NotAShard {
        /// The record.
        path: PathBuf,
    },
    /// A record belongs to another run.
    #[error(
        "{path} is a shard of another run: its {what} is {found}, the other shards' is {expected}"
    )]
    Different {
        /// The record.
        path: PathBuf,
        /// `profile (hash)`, `start time` or `shard count`.
        what: &'static str,
        /// What the lowest shard has.
        expected: String,
        /// What this record has.
        found: String,
    },
    /// Two records claim the same shard.
    #[error("shard {index} is given twice: {first} and {second}; give each shard's folder once")]
    Duplicate {
        /// The shard index.
        index: u32,
        /// One folder.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// Shards of the run are not given.
    #[error("shards {missing:?} of {count} are missing; give every shard's run folder")]
    Missing {
        /// The indexes not given.
        missing: Vec<u32>,
        /// Shards of the run.
        count: u32,
    },
    /// A cell's histograms could not be merged.
    #[error("cell {index}: {source}")]
    Cell {
        /// The cell.
        index: usize,
        /// Why.
        source: MergeError,
    },
}

/// Merges the records of every shard of one run (in any order) into one record.
pub fn merge(parts: Vec<(PathBuf, RunRecord)>) -> Result<RunRecord, ShardsError> {
    let mut shards = Vec::with_capacity(parts.len());
    for (path, record) in parts {
        match record.scale_out.clone() {
            Some(id @ ScaleOut { shard: Some(_), .. }) => shards.push((id, path, record)),
            _ => return Err(ShardsError::NotAShard { path }),
        }
    }
    shards.sort_by(|a, b| (a.0.shard, &a.1).cmp(&(b.0.shard, &b.1)));
    check(&shards)?;
    let (base_id, _, base) = &shards[0];
    let mut merged = base.clone();
    let mut scale_out = ScaleOut {
        shard: None,
        ..base_id.clone()
    };
    for (id, _, record) in &shards {
        scale_out.clock_offset_ms.extend(&id.clock_offset_ms);
        for (cell, missed_by) in &id.missed {
            scale_out.missed.entry(*cell).or_default().extend(missed_by);
        }
        merged.interrupted |= record.interrupted;
        merged.complete &= record.complete;
        if record.ended_at > merged.ended_at {
            merged.ended_at.clone_from(&record.ended_at);
        }
    }
    merged.cells = merge_cells(&shards, &mut scale_out)?;
    merged.complete &= scale_out.missed.is_empty() && merged.cells.len() == merged.planned_cells;
    merged.started_at.clone_from(&scale_out.start_at);
    merged.recommendation = None;
    merged.scale_out = Some(scale_out);
    Ok(merged)
}

/// Every record is a shard of the lowest's run, and every index is there once.
fn check(shards: &[(ScaleOut, PathBuf, RunRecord)]) -> Result<(), ShardsError> {
    let Some((first, _, _)) = shards.first() else {
        return Err(ShardsError::Missing {
            missing: Vec::new(),
            count: 0,
        });
    };
    for (id, path, _) in shards {
        let differs = [
            ("profile (hash)", &first.profile_hash, &id.profile_hash),
            ("start time", &first.start_at, &id.start_at),
        ]
        .into_iter()
        .map(|(what, a, b)| (what, a.clone(), b.clone()))
        .chain(std::iter::once((
            "shard count",
            first.shards.to_string(),
            id.shards.to_string(),
        )))
        .find(|(_, a, b)| a != b);
        if let Some((what, expected, found)) = differs {
            return Err(ShardsError::Different {
                path: path.clone(),
                what,
                expected,
                found,
            });
        }
    }
    let mut seen: BTreeMap<u32, &PathBuf> = BTreeMap::new();
    for (id, path, _) in shards {
        let index = id.shard.unwrap_or_default();
        if let Some(first) = seen.insert(index, path) {
            return Err(ShardsError::Duplicate {
                index,
                first: first.clone(),
                second: path.clone(),
            });
        }
    }
    let missing: Vec<u32> = (0..first.shards)
        .filter(|i| !seen.contains_key(i))
        .collect();
    if !missing.is_empty() {
        return Err(ShardsError::Missing {
            missing,
            count: first.shards,
        });
    }
    Ok(())
}

/// Each planned cell every shard measured, merged; a cell some shard lacks is left out and
/// listed under `missed` with the shards that lack it.
fn merge_cells(
    shards: &[(ScaleOut, PathBuf, RunRecord)],
    scale_out: &mut ScaleOut,
) -> Result<Vec<crate::results::CellSummary>, ShardsError> {
    let plan = &shards[0].2.plan;
    let mut cells = Vec::new();
    for planned in &plan.cells {
        let parts: Vec<_> = shards
            .iter()
            .filter_map(|(id, _, r)| {
                let cell = r.cells.iter().find(|c| c.index == planned.index)?;
                Some((id.shard.unwrap_or_default(), cell))
            })
            .collect();
        if parts.len() < shards.len() {
            let lacking = shards
                .iter()
                .filter_map(|(id, _, _)| id.shard)
                .filter(|i| !parts.iter().any(|(p, _)| p == i));
            let missed = scale_out.missed.entry(planned.index).or_default();
            missed.extend(lacking);
            missed.sort_unstable();
            missed.dedup();
            continue;
        }
        let cell = merge_cell(planned.load, &parts).map_err(|source| ShardsError::Cell {
            index: planned.index,
            source,
        })?;
        cells.push(cell);
    }
    Ok(cells)
}
