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
    listening: Listening,
    due: bool,
}

/// How a shard with an answer set learns that answers arrived between its wakes.
#[derive(Debug)]
enum Listening {
    /// It does not: its next wake is soon, and it collects then.
    No,
    /// The set is in tokio's reactor, which wakes the shard.
    Reactor(Listener),
    /// The set could not join the reactor: the shard wakes every [`DEFER_AT_MOST`] to
    /// collect, so no answer waits longer than that.
    Polled,
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
            listening: Listening::No,
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

    /// Listens for answers unless the shard's next wake (`until`, `None` when only answers
    /// can wake it) is within [`DEFER_AT_MOST`] of `now`. Joining the reactor reports what
    /// is already waiting, so nothing that arrived before is missed.
    pub fn listen_unless_due(&mut self, now: Instant, until: Option<Instant>) {
        let Some(h) = &self.harvest else {
            return;
        };
        let soon = until.is_some_and(|at| at.saturating_duration_since(now) <= DEFER_AT_MOST);
        if soon {
            self.listening = Listening::No;
        } else if matches!(self.listening, Listening::No) {
            self.listening = match h.listener() {
                Ok(listener) => Listening::Reactor(listener),
                Err(_) => Listening::Polled,
            };
        }
    }

    /// Returns when answers may have arrived while listening; never when not listening.
    pub async fn arrived(&self) {
        match &self.listening {
            Listening::Reactor(listener) => listener.ready().await,
            Listening::Polled => tokio::time::sleep(DEFER_AT_MOST).await,
            Listening::No => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    /// A shard waiting only for answers (nothing else due) is woken by one that arrives,
    /// and its collect marks the slot, whether the set is in the reactor or polled.
    async fn an_answer_arriving_while_the_shard_waits_is_collected(polled: bool) {
        let mut answers = Answers::new(Some(Duration::from_millis(1)), 1);
        let harvest = answers.harvest().expect("a dense open loop has a set");
        let (ours, theirs) = UnixStream::pair().unwrap();
        harvest.watch(ours.as_raw_fd(), 0).unwrap();
        answers.listen_unless_due(Instant::now(), None);
        assert!(matches!(answers.listening, Listening::Reactor(_)));
        if polled {
            answers.listening = Listening::Polled;
        }
        let server = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            (&theirs).write_all(b"answer").unwrap();
            theirs
        });
        tokio::time::timeout(Duration::from_secs(2), answers.arrived())
            .await
            .expect("the answer wakes the shard");
        let _theirs = server.join().unwrap();
        answers.woke();
        answers.collect_if_woken();
        assert!(harvest.take_flag(0), "the collect marks the slot");
        harvest.forget();
    }

    #[tokio::test]
    async fn a_listening_shard_is_woken_by_its_answers() {
        an_answer_arriving_while_the_shard_waits_is_collected(false).await;
    }

    #[tokio::test]
    async fn a_set_outside_the_reactor_is_still_collected_while_the_shard_waits() {
        an_answer_arriving_while_the_shard_waits_is_collected(true).await;
    }

    #[tokio::test]
    async fn a_shard_whose_next_wake_is_near_does_not_listen() {
        let mut answers = Answers::new(Some(Duration::from_millis(1)), 1);
        let now = Instant::now();
        answers.listen_unless_due(now, Some(now + Duration::from_millis(1)));
        assert!(matches!(answers.listening, Listening::No));
        let woke = tokio::time::timeout(Duration::from_millis(50), answers.arrived()).await;
        assert!(woke.is_err(), "only its timer wakes it");
    }
}
