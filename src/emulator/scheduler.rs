//! The continuous-batching scheduler of one LLM instance: sequences wait in FIFO order
//! until the KV cache and the batch limit have room for them, join the running batch at a
//! step boundary (their prefill is part of that step, which ends with their first token),
//! get one token per decode step, and leave when done. Steps follow one absolute schedule
//! (each starts when the previous one ended, simulated time), so the emulator's own wake-up
//! delays do not accumulate into the token gaps.

use super::clock;
use super::llm::{Llm, Shape};
use super::model::{Jitter, Model};
use super::serving::Gate;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// One request for tokens.
pub(crate) struct Sequence {
    /// Prompt and output lengths.
    pub(crate) shape: Shape,
    /// Injected extra prefill time (model ms).
    pub(crate) spike_ms: f64,
    /// Fail instead of generating token number `n` (0-based): a mid-stream fault.
    pub(crate) fail_at: Option<u32>,
    /// Where its tokens go; a closed receiver (client gone) frees the sequence.
    pub(crate) events: mpsc::UnboundedSender<Event>,
}

/// What a sequence hears from the scheduler.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Event {
    /// Token `index` (0-based) was generated at `at` (wall clock), in a step of `batch`
    /// running sequences.
    Token { index: u32, at: Instant, batch: u32 },
    /// The model failed part way (an injected stream fault).
    Failed { at: Instant },
}

/// What the scheduler of one instance needs.
pub(crate) struct Config {
    /// The model (jitter, time scale, running-sequence limit in `max_batch`).
    pub(crate) model: Model,
    /// Its LLM parameters.
    pub(crate) llm: Llm,
    /// GPU speed from the catalog (T4 = 1.0).
    pub(crate) speed: f64,
    /// Tokens of KV cache the instance holds.
    pub(crate) kv_budget: u64,
    /// Stalls and scale-from-zero.
    pub(crate) gate: Arc<Gate>,
    /// Seed of the step jitter.
    pub(crate) seed: u64,
}

/// Starts the scheduler task; it ends when the returned sender is dropped and nothing runs.
pub(crate) fn start(config: Config) -> mpsc::UnboundedSender<Sequence> {
    let (tx, rx) = mpsc::unbounded_channel();
    let scheduler = Scheduler {
        jitter: Jitter::of(&config.model),
        rng: SmallRng::seed_from_u64(config.seed),
        waiting: VecDeque::new(),
        running: Vec::new(),
        kv_used: 0,
        step_end: Instant::now(),
        config,
    };
    tokio::spawn(scheduler.run(rx));
    tx
}

struct Running {
    seq: Sequence,
    emitted: u32,
    joined: bool,
}

struct Scheduler {
    config: Config,
    jitter: Jitter,
    rng: SmallRng,
    waiting: VecDeque<Sequence>,
    running: Vec<Running>,
    kv_used: u64,
    /// When the last step ended (simulated time).
    step_end: Instant,
}

impl Scheduler {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Sequence>) {
        loop {
            if self.running.is_empty() && self.waiting.is_empty() {
                let Some(seq) = rx.recv().await else {
                    return;
                };
                self.waiting.push_back(seq);
                self.step_end = Instant::now();
            }
            while let Ok(seq) = rx.try_recv() {
                self.waiting.push_back(seq);
            }
            self.admit();
            if self.running.is_empty() {
                continue;
            }
            self.step().await;
        }
    }

    /// Moves waiting sequences into the batch, oldest first, while the KV cache and the
    /// batch limit have room (no overtaking: a large head waits for room, as in vLLM's
    /// first-come-first-served policy).
    fn admit(&mut self) {
        let max_running = self.config.model.max_batch.max(1) as usize;
        while let Some(front) = self.waiting.front() {
            if front.events.is_closed() {
                self.waiting.pop_front();
                continue;
            }
            let need = front.shape.reserved_tokens();
            if self.running.len() >= max_running
                || self.kv_used.saturating_add(need) > self.config.kv_budget
            {
                break;
            }
            if let Some(seq) = self.waiting.pop_front() {
                self.kv_used += need;
                self.running.push(Running {
                    seq,
                    emitted: 0,
                    joined: true,
                });
            }
        }
    }

    /// Runs one step of the whole batch and hands out its tokens.
    async fn step(&mut self) {
        let (llm, speed) = (&self.config.llm, self.config.speed);
        let batch = self.running.len();
        let prefill: f64 = self
            .running
            .iter()
            .filter(|r| r.joined)
            .map(|r| llm.prefill_ms(r.seq.shape.input_tokens, speed) + r.seq.spike_ms)
            .sum();
        let model_ms =
            step_model_ms(llm, batch, speed, prefill) * self.jitter.sample(&mut self.rng);
        let start = self.config.gate.serving_from(self.step_end);
        let end = start + self.config.model.wall(model_ms);
        clock::sleep_until(end).await;
        self.step_end = end;
        let batch = u32::try_from(batch).unwrap_or(u32::MAX);
        let mut freed = 0;
        self.running.retain_mut(|r| {
            r.joined = false;
            let index = r.emitted;
            let event = if r.seq.fail_at == Some(index) {
                Event::Failed { at: end }
            } else {
                Event::Token {
                    index,
                    at: end,
                    batch,
                }
            };
            r.emitted += 1;
            let delivered = r.seq.events.send(event).is_ok();
            let keep = delivered
                && matches!(event, Event::Token { .. })
                && r.emitted < r.seq.shape.max_tokens;
            if !keep {
                freed += r.seq.shape.reserved_tokens();
            }
            keep
        });
        self.kv_used = self.kv_used.saturating_sub(freed);
    }
}

/// Model time (ms) of a step of `batch` sequences whose joining sequences' prefill and
/// spikes add up to `prefill_ms`.
fn step_model_ms(llm: &Llm, batch: usize, speed: f64, prefill_ms: f64) -> f64 {
    llm.step_ms(batch, speed) + prefill_ms
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::clock::Clock;
    use crate::emulator::model::ServiceDistribution;
    use std::time::Duration;

    fn config(kv_budget: u64, max_batch: u32) -> Config {
        let llm = Llm {
            prefill_ms_per_token: 1.0,
            decode_ms: 10.0,
            decode_ms_per_seq: 2.0,
            weights_gib: 0.0,
            kv_kib_per_token: 1.0,
            context_tokens: 1000,
        };
        Config {
            model: Model {
                service: ServiceDistribution::Fixed,
                max_batch,
                llm: Some(llm),
                ..Model::custom(0.0)
            },
            llm,
            speed: 1.0,
            kv_budget,
            gate: Arc::new(Gate::new(Clock::start(), None)),
            seed: 1,
        }
    }

    fn submit(
        tx: &mpsc::UnboundedSender<Sequence>,
        input_tokens: u32,
        max_tokens: u32,
    ) -> mpsc::UnboundedReceiver<Event> {
        let (events, rx) = mpsc::unbounded_channel();
        let shape = Shape {
            input_tokens,
            max_tokens,
        };
        let seq = Sequence {
            shape,
            spike_ms: 0.0,
            fail_at: None,
            events,
        };
        assert!(tx.send(seq).is_ok(), "scheduler is running");
        rx
    }

    /// Every event of a sequence, until the scheduler lets it go.
    async fn drain(mut rx: mpsc::UnboundedReceiver<Event>) -> Vec<Event> {
        let mut events = Vec::new();
        while let Some(e) = rx.recv().await {
            events.push(e);
        }
        events
    }

    fn at(e: &Event) -> Instant {
        match e {
            Event::Token { at, .. } | Event::Failed { at } => *at,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn one_sequence_prefills_then_decodes_at_the_batch_one_step() {
        let tx = start(config(10_000, 8));
        let t0 = Instant::now();
        let events = drain(submit(&tx, 20, 5)).await;
        assert_eq!(events.len(), 5);
        // First step: decode (10 ms) + prefill 20 × 1 ms; then 10 ms per token.
        assert_eq!(at(&events[0]) - t0, Duration::from_millis(30));
        for pair in events.windows(2) {
            assert_eq!(at(&pair[1]) - at(&pair[0]), Duration::from_millis(10));
        }
        let Event::Token { index, batch, .. } = events[4] else {
            panic!("{:?}", events[4]);
        };
        assert_eq!((index, batch), (4, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn the_step_grows_with_the_batch() {
        let tx = start(config(10_000, 8));
        let streams: Vec<_> = (0..4).map(|_| submit(&tx, 0, 6)).collect();
        for rx in streams {
            let events = drain(rx).await;
            assert_eq!(events.len(), 6);
            for pair in events.windows(2) {
                // 10 ms + 3 × 2 ms for a batch of four.
                assert_eq!(at(&pair[1]) - at(&pair[0]), Duration::from_millis(16));
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn sequences_beyond_the_kv_budget_wait_for_room() {
        // Each sequence reserves 10 + 10 tokens; 50 tokens hold two of them.
        let tx = start(config(50, 8));
        let t0 = Instant::now();
        let streams: Vec<_> = (0..3).map(|_| submit(&tx, 10, 10)).collect();
        let mut firsts = Vec::new();
        for rx in streams {
            let events = drain(rx).await;
            assert_eq!(events.len(), 10);
            firsts.push(at(&events[0]) - t0);
        }
        // Two run at once: first step 12 ms decode + 2 × 10 ms prefill = 32 ms.
        assert_eq!(firsts[0], Duration::from_millis(32));
        assert_eq!(firsts[1], firsts[0]);
        // The third joins when they finish: 32 + 9 × 12 ms, then its own first step.
        assert_eq!(firsts[2], Duration::from_millis(32 + 9 * 12 + 20));
        let wide = start(config(1_000, 8));
        let t1 = Instant::now();
        let streams: Vec<_> = (0..3).map(|_| submit(&wide, 10, 10)).collect();
        for rx in streams {
            let events = drain(rx).await;
            assert_eq!(at(&events[0]) - t1, Duration::from_millis(14 + 30));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn spikes_lengthen_the_prefill_and_stalls_hold_the_steps() {
        let clock = Clock::start();
        let stall = crate::emulator::faults::Stall {
            at: Duration::from_millis(25),
            length: Duration::from_millis(100),
        };
        let gate = Arc::new(Gate::new(clock, Some(stall)));
        let tx = start(Config {
            gate: Arc::clone(&gate),
            ..config(10_000, 8)
        });
        let t0 = Instant::now();
        gate.note_arrival(t0);
        let (events, rx) = mpsc::unbounded_channel();
        let shape = Shape {
            input_tokens: 0,
            max_tokens: 4,
        };
        let seq = Sequence {
            shape,
            spike_ms: 5.0,
            fail_at: None,
            events,
        };
        assert!(tx.send(seq).is_ok());
        let times: Vec<_> = drain(rx).await.iter().map(|e| at(e) - t0).collect();
        // 10 ms step + 5 ms spike; 25 ms; then the stall from 25 to 125 ms holds the third
        // step, which ends at 135 ms; the fourth at 145 ms.
        let ms = Duration::from_millis;
        assert_eq!(times, [ms(15), ms(25), ms(135), ms(145)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_fault_ends_the_sequence_and_frees_its_cache() {
        let tx = start(config(20, 8));
        let (events, rx) = mpsc::unbounded_channel();
        let seq = Sequence {
            shape: Shape {
                input_tokens: 10,
                max_tokens: 10,
            },
            spike_ms: 0.0,
            fail_at: Some(3),
            events,
        };
        assert!(tx.send(seq).is_ok());
        let events = drain(rx).await;
        assert_eq!(events.len(), 4);
        assert!(matches!(events[3], Event::Failed { .. }));
        // The whole budget is free again for the next sequence.
        assert_eq!(drain(submit(&tx, 10, 10)).await.len(), 10);
    }
}
