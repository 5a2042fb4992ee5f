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
        for n in &record.not_deployed {
            if !merged.not_deployed.contains(n) {
                merged.not_deployed.push(n.clone());
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Load;
    use crate::plan::Plan;
    use crate::results::CellSummary;

    const PROFILE: &str = r#"
name = "shards"
[target]
kind = "http"
url = "http://127.0.0.1:9/ok"
[sweep]
payload_sizes = ["1KiB"]
load = { mode = "closed", concurrency = [2, 4] }
duration = "1s"
warmup = "0s"
"#;

    /// Shard `index` of 2 with the cells `measured` (each with a share of the workers).
    fn shard(index: u32, measured: &[usize]) -> (PathBuf, RunRecord) {
        let mut h = crate::recorder::latency_histogram();
        h.record(1_000 + u64::from(index)).unwrap();
        let cells = measured
            .iter()
            .map(|&i| CellSummary {
                index: i,
                load: Load::Closed { concurrency: 1 },
                ..CellSummary::for_tests(&h, 0, 1.0)
            })
            .collect();
        let mut r = RunRecord::for_tests("shards.toml", PROFILE, cells);
        r.plan = Plan::from_profile(&r.profile).unwrap();
        r.planned_cells = r.plan.cells.len();
        // What differs between shards beyond their cells: their first request's time.
        r.first_requests = vec![crate::domain::FirstRequest {
            deployment: r.plan.cells[0].deployment.clone(),
            ms: 10.0 + f64::from(index),
        }];
        r.scale_out = Some(ScaleOut {
            shards: 2,
            shard: Some(index),
            start_at: "2026-12-01T12:00:00Z".into(),
            profile_hash: "abc".into(),
            clock_offset_ms: [(index, f64::from(index))].into(),
            missed: BTreeMap::new(),
        });
        (PathBuf::from(format!("shard-{index}")), r)
    }

    #[test]
    fn a_cell_one_shard_missed_is_left_out_and_listed() {
        let (p0, r0) = shard(0, &[0, 1]);
        let (p1, mut r1) = shard(1, &[1]);
        if let Some(id) = r1.scale_out.as_mut() {
            id.missed.insert(0, vec![1]);
        }
        let merged = merge(vec![(p1, r1), (p0, r0)]).unwrap();
        let id = merged.scale_out.as_ref().unwrap();
        assert_eq!(id.shard, None);
        assert_eq!(id.missed.get(&0), Some(&vec![1]));
        assert_eq!(id.clock_offset_ms.len(), 2);
        assert_eq!(merged.cells.len(), 1);
        assert_eq!(merged.cells[0].index, 1);
        assert_eq!(merged.cells[0].load, Load::Closed { concurrency: 4 });
        assert_eq!(merged.cells[0].ok, 2);
        assert!(!merged.complete);
    }

    #[test]
    fn candidates_a_shard_could_not_deploy_are_kept_once() {
        let refused = crate::domain::NotDeployed {
            deployment: crate::domain::Deployment::new(
                crate::domain::Hosting::RealTime,
                crate::domain::Variant::instance("ml.c5.4xlarge"),
            ),
            count: 1,
            reason: "ResourceLimitExceeded: quota".into(),
        };
        let (p0, mut r0) = shard(0, &[0, 1]);
        let (p1, mut r1) = shard(1, &[0, 1]);
        r0.not_deployed = vec![refused.clone()];
        r1.not_deployed = vec![refused.clone()];
        let (p2, r2) = shard(1, &[0, 1]);
        let merged = merge(vec![(p1, r1), (p0, r0)]).unwrap();
        assert_eq!(merged.not_deployed, std::slice::from_ref(&refused));
        let (p0, r0) = shard(0, &[0, 1]);
        let mut r2 = r2;
        r2.not_deployed = vec![refused.clone()];
        let merged = merge(vec![(p0, r0), (p2, r2)]).unwrap();
        assert_eq!(merged.not_deployed, [refused], "kept from any shard");
    }

    #[test]
    fn the_merge_does_not_depend_on_the_order_of_the_shards() {
        let json = |parts| serde_json::to_string(&merge(parts).unwrap()).unwrap();
        let ab = json(vec![shard(0, &[0, 1]), shard(1, &[0, 1])]);
        let ba = json(vec![shard(1, &[0, 1]), shard(0, &[0, 1])]);
        assert_eq!(ab, ba);
    }

    #[test]
    fn a_record_that_is_not_a_shard_is_refused() {
        let (p, mut r) = shard(0, &[0]);
        r.scale_out = None;
        let err = merge(vec![(p, r), shard(1, &[0])]).unwrap_err();
        assert!(matches!(err, ShardsError::NotAShard { .. }), "{err}");
    }
}
