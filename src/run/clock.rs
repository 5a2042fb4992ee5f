//! One clock for every generator shard of a scaled-out run: each cell waits for its slot
//! from the run's start instant, and a cell whose slot began too long ago is missed rather
//! than run out of step with the other shards.

use crate::plan::scale_out::GeneratorShard;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// A shard that reaches a cell up to this long after its slot began still runs it.
pub const GRACE: Duration = Duration::from_millis(250);

/// The generator shard this process is, and the run's start instant.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    /// Which share of every cell this process sends.
    pub generator: GeneratorShard,
    /// The instant the first slot begins, on this machine's clock.
    pub start_at: SystemTime,
}

/// What reaching a cell's slot came to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Slot {
    /// Run the cell now: this many ms after its slot began (negative: early).
    Start {
        /// Lateness against the slot, ms.
        late_ms: f64,
    },
    /// The slot began this long ago, past [`GRACE`]: skip the cell.
    Missed {
        /// How late the shard reached it.
        late: Duration,
    },
    /// Ctrl-C while waiting.
    Cancelled,
}

impl Clock {
    /// Waits until the slot at `offset` from the start instant begins (or Ctrl-C).
    pub async fn reach(&self, offset: Duration, cancel: &watch::Receiver<bool>) -> Slot {
        let at = self.start_at + offset;
        match at.duration_since(SystemTime::now()) {
            Ok(wait) => {
                let mut cancel = cancel.clone();
                let cancelled = async move {
                    if cancel.wait_for(|c| *c).await.is_err() {
                        std::future::pending::<()>().await;
                    }
                };
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = cancelled => return Slot::Cancelled,
                }
            }
            Err(e) if e.duration() > GRACE => return Slot::Missed { late: e.duration() },
            Err(_) => {}
        }
        let late_ms = match SystemTime::now().duration_since(at) {
            Ok(late) => late.as_secs_f64() * 1000.0,
            Err(early) => -early.duration().as_secs_f64() * 1000.0,
        };
        Slot::Start {
            late_ms: crate::domain::units::round3(late_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_slot_long_past_is_missed_and_a_near_one_runs() {
        let (_tx, cancel) = watch::channel(false);
        let clock = Clock {
            generator: GeneratorShard::WHOLE,
            start_at: SystemTime::now() - Duration::from_secs(2),
        };
        assert!(matches!(
            clock.reach(Duration::ZERO, &cancel).await,
            Slot::Missed { .. }
        ));
        let soon = clock.reach(Duration::from_millis(2_050), &cancel).await;
        let Slot::Start { late_ms } = soon else {
            panic!("{soon:?}")
        };
        assert!(
            (-1.0..GRACE.as_secs_f64() * 1000.0).contains(&late_ms),
            "{late_ms}"
        );
    }
}
