//! When a shard reads its answers: as they arrive (the reactor wakes it for each), or, in a
//! dense open loop, when it wakes for its next arrival anyway, from its own set of
//! connections ([`Harvest`]); the kernel's receive timestamps keep their latency exact.

use crate::endpoint::harvest::{Harvest, Listener};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// An open loop whose arrivals (per shard) are at most this far apart on average collects
/// its answers at its arrivals.
const DENSE_BELOW: Duration = Duration::from_millis(2);

/// Longest an answer is left waiting for the shard's next wake: when nothing is due sooner,
/// the shard listens for answers instead.
const DEFER_AT_MOST: Duration = Duration::from_millis(5);

/// A shard's answer set, whether it listens to it now, and whether to collect.
#[derive(Debug)]
pub struct Answers {
    harvest: Option<Arc<Harvest>>,
    listener: Option<Listener>,
    due: bool,
}

impl Answers {
    /// A set for `slots` slots when arrivals `mean_gap` apart are dense enough; otherwise
    /// none, and answers wake the shard as they arrive.
    pub fn new(mean_gap: Option<Duration>, slots: usize) -> Answers {
        let dense = mean_gap.is_some_and(|gap| gap <= DENSE_BELOW);
        Answers {
            harvest: dense
                .then(|| Harvest::new(slots).ok().map(Arc::new))
                .flatten(),
            listener: None,
            due: false,
        }
    }

    /// The set new slots join, if any.
    pub fn harvest(&self) -> Option<Arc<Harvest>> {
        self.harvest.clone()
    }

    /// The shard woke for an arrival or for answers: collect at the top of the loop.
    pub fn woke(&mut self) {
        self.due = true;
    }

    /// Marks the slots with answers (one system call) if the shard woke since the last time.
    pub fn collect_if_woken(&mut self) {
        if let (true, Some(h)) = (std::mem::take(&mut self.due), &self.harvest) {
            h.collect();
        }
    }

    /// Listens for answers through the reactor unless the shard's next wake (`until`,
    /// `None` when only answers can wake it) is within [`DEFER_AT_MOST`] of `now`.
    pub fn listen_unless_due(&mut self, now: Instant, until: Option<Instant>) {
        let Some(h) = &self.harvest else {
            return;
        };
        let soon = until.is_some_and(|at| at.saturating_duration_since(now) <= DEFER_AT_MOST);
        if soon {
            self.listener = None;
        } else if self.listener.is_none() {
            // Without a listener, answers wait for the next wake: never later than `until`.
            self.listener = h.listener().ok();
            self.due = true;
        }
    }

    /// Returns when answers arrived while listening; never when not listening.
    pub async fn arrived(&self) {
        match &self.listener {
            Some(listener) => listener.ready().await,
            None => std::future::pending().await,
        }
    }
}
