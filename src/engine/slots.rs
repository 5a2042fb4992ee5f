//! A shard's idle in-flight slots (each with its keep-alive connection), kept between requests
//! and trimmed once a second: slots that stayed idle through a whole second were left over by a
//! burst, so they are closed rather than held open on the target for the rest of the cell.

use crate::endpoint::Slot;
use crate::endpoint::harvest::Harvest;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How often idle slots are trimmed.
const TRIM_EVERY: Duration = Duration::from_secs(1);

/// Idle slots, most recently used last.
pub struct IdleSlots {
    idle: Vec<Slot>,
    /// Fewest idle slots seen since the last trim: that many were not needed in the period.
    fewest: usize,
    next_trim: Instant,
    /// The shard's answer set, when it collects answers: each new slot gets an entry.
    harvest: Option<Arc<Harvest>>,
    /// Entries of closed slots, for new ones; `entries` were ever given out.
    free: Vec<u32>,
    entries: u32,
}

impl IdleSlots {
    /// No idle slots yet; the first trim is a period after `now`. With `harvest`, the
    /// slots' connections are read when the shard collects answers.
    pub fn new(now: Instant, harvest: Option<Arc<Harvest>>) -> IdleSlots {
        IdleSlots {
            idle: Vec::new(),
            fewest: 0,
            next_trim: now + TRIM_EVERY,
            harvest,
            free: Vec::new(),
            entries: 0,
        }
    }

    /// The most recently used idle slot (its connection warm), or a new one.
    pub fn take(&mut self) -> Slot {
        let slot = match self.idle.pop() {
            Some(slot) => slot,
            None => self.new_slot(),
        };
        self.fewest = self.fewest.min(self.idle.len());
        slot
    }

    fn new_slot(&mut self) -> Slot {
        let Some(harvest) = &self.harvest else {
            return Slot::default();
        };
        let index = self.free.pop().unwrap_or_else(|| {
            self.entries += 1;
            self.entries - 1
        });
        Slot::harvested(harvest, index)
    }

    /// A slot whose request is done.
    pub fn put(&mut self, slot: Slot) {
        self.idle.push(slot);
    }

    /// Once a period, closes the slots that stayed idle through all of it (the least recently
    /// used ones).
    pub fn trim(&mut self, now: Instant) {
        if now < self.next_trim {
            return;
        }
        let closed = self.idle.drain(..self.fewest.min(self.idle.len()));
        self.free
            .extend(closed.filter_map(|slot| slot.harvest_index()));
        self.fewest = self.idle.len();
        self.next_trim = now + TRIM_EVERY;
    }

    /// How many slots are idle.
    pub fn len(&self) -> usize {
        self.idle.len()
    }

    /// Whether no slot is idle.
    pub fn is_empty(&self) -> bool {
        self.idle.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_idle_through_a_whole_period_are_closed_and_busy_ones_kept() {
        let start = Instant::now();
        let mut slots = IdleSlots::new(start, None);
        // A burst of 10 in flight, then back to 2 in flight at a time.
        let burst: Vec<Slot> = (0..10).map(|_| slots.take()).collect();
        burst.into_iter().for_each(|s| slots.put(s));
        slots.trim(start + TRIM_EVERY);
        assert_eq!(slots.len(), 10, "the burst's period used every slot");
        for _ in 0..50 {
            let (a, b) = (slots.take(), slots.take());
            slots.put(a);
            slots.put(b);
        }
        slots.trim(start + TRIM_EVERY / 2 * 3);
        assert_eq!(slots.len(), 10, "no trim before the period ends");
        slots.trim(start + TRIM_EVERY * 2);
        assert_eq!(slots.len(), 2, "the 8 slots idle all period are closed");
        let (a, b) = (slots.take(), slots.take());
        slots.put(a);
        slots.put(b);
        slots.trim(start + TRIM_EVERY * 3);
        assert_eq!(slots.len(), 2, "slots in use stay");
    }
}
