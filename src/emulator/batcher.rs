//! Accelerator workers: each takes the oldest queued request plus up to `max_batch − 1`
//! more that are already waiting, runs them as one batch, and answers them together. A
//! batch starts when the worker finished its previous one (simulated time), so the
//! emulator's own scheduling delays do not accumulate.

use super::clock;
use super::model::{Jitter, Model, batch_ms};
use super::serving::{Gate, ServeError, Timing};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::time::Instant;

/// Largest channel between an endpoint and its accelerator workers; a larger queue
/// capacity makes senders wait for room instead.
const MAX_CHANNEL: usize = 1 << 20;

/// One request waiting for an accelerator.
pub(crate) struct BatchJob {
    pub(crate) payload_bytes: u64,
    pub(crate) spike_ms: f64,
    pub(crate) arrived: Instant,
    pub(crate) reply: oneshot::Sender<Result<Timing, ServeError>>,
}

/// What the accelerator workers of one instance need.
pub(crate) struct Config {
    pub(crate) model: Model,
    pub(crate) speed: f64,
    pub(crate) workers: u32,
    pub(crate) gate: Arc<Gate>,
    pub(crate) limit: Duration,
    pub(crate) seed: u64,
    pub(crate) channel_capacity: usize,
}

/// Starts one worker task per accelerator; they end when the returned sender is dropped.
pub(crate) fn start(config: Config) -> mpsc::Sender<BatchJob> {
    let (tx, rx) = mpsc::channel(config.channel_capacity.clamp(1, MAX_CHANNEL));
    let queue = Arc::new(Mutex::new(rx));
    for worker in 0..config.workers.max(1) {
        let batcher = Batcher {
            jitter: Jitter::of(&config.model),
            model: config.model.clone(),
            speed: config.speed,
            gate: Arc::clone(&config.gate),
            limit: config.limit,
            rng: SmallRng::seed_from_u64(config.seed ^ u64::from(worker)),
            queue: Arc::clone(&queue),
            free_at: Instant::now(),
        };
        tokio::spawn(batcher.run());
    }
    tx
}

struct Batcher {
    model: Model,
    speed: f64,
    jitter: Jitter,
    gate: Arc<Gate>,
    limit: Duration,
    rng: SmallRng,
    queue: Arc<Mutex<mpsc::Receiver<BatchJob>>>,
    /// When this worker finished its last batch (simulated time).
    free_at: Instant,
}

impl Batcher {
    async fn run(mut self) {
        while let Some(batch) = self.next_batch().await {
            self.process(batch).await;
        }
    }

    /// The oldest waiting job and whatever else is already queued, up to `max_batch`.
    async fn next_batch(&self) -> Option<Vec<BatchJob>> {
        let max = self.model.max_batch.max(1) as usize;
        let mut queue = self.queue.lock().await;
        let first = queue.recv().await?;
        let mut batch = Vec::with_capacity(max);
        batch.push(first);
        while batch.len() < max {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        Some(batch)
    }

    async fn process(&mut self, batch: Vec<BatchJob>) {
        let oldest = batch
            .iter()
            .map(|j| j.arrived)
            .min()
            .unwrap_or_else(Instant::now);
        let started = self.gate.serving_from(oldest.max(self.free_at));
        let cost = self.batch_cost(&batch);
        let timed_out = cost > self.limit;
        let completed = started + cost.min(self.limit);
        self.free_at = started + cost;
        clock::sleep_until(completed).await;
        for job in batch {
            let timing = Timing {
                arrived: job.arrived,
                started,
                completed,
                cold_start: Duration::ZERO,
            };
            let answer = if timed_out {
                Err(ServeError::TimedOut(timing))
            } else {
                Ok(timing)
            };
            // A client that went away no longer waits for its answer.
            let _ = job.reply.send(answer);
        }
        if timed_out {
            clock::sleep_until(self.free_at).await;
        }
    }

    /// Wall time of a batch: the largest request's single cost, batched, with one jitter draw.
    fn batch_cost(&mut self, batch: &[BatchJob]) -> Duration {
        let single = batch
            .iter()
            .map(|j| self.model.single_ms(j.payload_bytes, self.speed))
            .fold(0.0, f64::max);
        let spike = batch.iter().map(|j| j.spike_ms).fold(0.0, f64::max);
        let size = u32::try_from(batch.len()).unwrap_or(u32::MAX);
        let model_ms = batch_ms(single, size) * self.jitter.sample(&mut self.rng) + spike;
        self.model.wall(model_ms)
    }
}
