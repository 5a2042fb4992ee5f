//! Runtime state of one emulated endpoint: its instances and their workers, the bounded
//! queue, least-outstanding-requests routing, and the simulate step every hosting mode
//! shares (wait for a worker, wait out cold starts and stalls, hold the worker for the
//! service time).

use super::batcher::{self, BatchJob};
use super::catalog::{self, Instance};
use super::clock::{self, Clock};
use super::config::EndpointSpec;
use super::error::DeployError;
use super::faults::Stall;
use super::llm::Shape;
use super::model::Jitter;
use super::pool::CorePool;
use super::scheduler::{self, Event, Sequence};
use super::serving::{Gate, ServeError, Timing};
use super::slots::{self, SlotTracker};
use crate::domain::Hosting;
use axum::http::HeaderValue;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// Requests that may wait per real-time (or batch) instance unless `queue_capacity` is set.
pub const REALTIME_QUEUE_PER_INSTANCE: usize = 100;

/// Requests an async endpoint's internal queue holds unless `queue_capacity` is set.
pub const ASYNC_QUEUE: usize = 100_000;

/// Idle time (model time) after which serverless and async capacity scales to zero.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// One running endpoint.
pub(crate) struct Endpoint {
    pub(crate) spec: EndpointSpec,
    pub(crate) variant_header: HeaderValue,
    pub(crate) instance: Option<&'static Instance>,
    index: u64,
    replicas: Box<[Replica]>,
    in_system: AtomicUsize,
    capacity: usize,
    pub(crate) queue_capacity: usize,
    seq: AtomicU64,
    jitter: Jitter,
    gate: Arc<Gate>,
    slots: Option<SlotTracker>,
    idle_wall: Duration,
    limit_wall: Duration,
}

/// One instance behind the endpoint.
struct Replica {
    outstanding: AtomicUsize,
    workers: Workers,
}

/// The worker limit of one instance.
enum Workers {
    /// One worker per vCPU (or per serverless slot).
    Cores(CorePool),
    /// Batching accelerator workers fed by a FIFO channel.
    Accelerators { jobs: mpsc::Sender<BatchJob> },
    /// An LLM's continuous-batching scheduler (one per instance).
    Llm {
        sequences: mpsc::UnboundedSender<Sequence>,
    },
}

/// An admitted LLM request being generated: its tokens arrive on `events`; it holds its
/// place in the endpoint until dropped.
pub(crate) struct Generation {
    /// Tokens (or a failure) as the scheduler produces them.
    pub(crate) events: mpsc::UnboundedReceiver<Event>,
    /// When the request was admitted.
    pub(crate) arrived: Instant,
    _ticket: Ticket,
}

/// Why a request was not admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// The endpoint's queue is full.
    QueueFull { capacity: usize },
    /// Serverless MaxConcurrency is reached.
    Throttled { max_concurrency: u32 },
}

/// What a request asks of the model.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Work {
    /// Payload size.
    pub(crate) payload_bytes: u64,
    /// Injected extra service time (model ms).
    pub(crate) spike_ms: f64,
}

/// A CPU worker booked at admission: when the request starts and how long it holds it.
#[derive(Clone, Copy, Debug)]
struct Booking {
    started: Instant,
    cost: Duration,
}

/// An admitted request: holds its place in the queue until dropped.
pub(crate) struct Ticket {
    endpoint: Arc<Endpoint>,
    replica: usize,
    arrived: Instant,
    work: Work,
    booking: Option<Booking>,
    slot: Option<OwnedSemaphorePermit>,
    cold_start: Duration,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let ep = &self.endpoint;
        ep.replicas[self.replica]
            .outstanding
            .fetch_sub(1, Ordering::AcqRel);
        ep.in_system.fetch_sub(1, Ordering::AcqRel);
        if let Some(slots) = &ep.slots {
            slots.release();
        }
        ep.gate.note_done(Instant::now());
    }
}

impl Endpoint {
    /// Builds the endpoint and starts its accelerator workers (needs a tokio runtime).
    pub(crate) fn start(
        spec: EndpointSpec,
        index: u64,
        clock: Clock,
    ) -> Result<Arc<Endpoint>, DeployError> {
        let instance = deployed_instance(&spec)?;
        let variant_header =
            HeaderValue::from_str(&spec.variant).map_err(|_| DeployError::InvalidVariant {
                endpoint: spec.name.clone(),
                variant: spec.variant.clone(),
            })?;
        let model = &spec.model;
        let stall = (!spec.faults.stall_for.is_zero()).then(|| Stall {
            at: model.wall_duration(spec.faults.stall_at),
            length: model.wall_duration(spec.faults.stall_for),
        });
        let gate = Arc::new(Gate::new(clock, stall));
        let limit_wall = model.wall_duration(spec.hosting.max_processing_time());
        let (queue_capacity, workers_total) = capacity_of(&spec, instance);
        let replicas = build_replicas(
            &spec,
            instance,
            &gate,
            limit_wall,
            queue_capacity.saturating_add(workers_total),
        );
        let slots = spec.serverless.map(|_| SlotTracker::default());
        let capacity = if slots.is_some() {
            usize::MAX
        } else {
            queue_capacity.saturating_add(workers_total)
        };
        Ok(Arc::new(Endpoint {
            variant_header,
            instance,
            index,
            replicas,
            in_system: AtomicUsize::new(0),
            capacity,
            queue_capacity,
            seq: AtomicU64::new(0),
            jitter: Jitter::of(model),
            gate,
            slots,
            idle_wall: model.wall_duration(spec.idle_timeout.unwrap_or(DEFAULT_IDLE_TIMEOUT)),
            limit_wall,
            spec,
        }))
    }

    /// The endpoint's name.
    pub(crate) fn name(&self) -> &str {
        &self.spec.name
    }

    /// The emulator's clock.
    pub(crate) fn clock(&self) -> Clock {
        self.gate.clock()
    }

    /// A fresh random stream for the next request: seeded from the model's seed, the
    /// endpoint and a request counter, so there is no shared RNG to lock.
    pub(crate) fn next_rng(&self) -> SmallRng {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        SmallRng::seed_from_u64(stream_seed(self.spec.model.seed, self.index, seq))
    }

    /// Admits a request into the bounded queue of the least busy instance.
    pub(crate) fn admit(
        self: &Arc<Self>,
        mut rng: SmallRng,
        work: Work,
    ) -> Result<Ticket, Rejection> {
        let now = Instant::now();
        let before = self.in_system.fetch_add(1, Ordering::AcqRel);
        if before >= self.capacity {
            self.in_system.fetch_sub(1, Ordering::AcqRel);
            return Err(Rejection::QueueFull {
                capacity: self.queue_capacity,
            });
        }
        let idle = self.gate.note_arrival(now);
        if self.spec.hosting == Hosting::Async && before == 0 && idle > self.idle_wall {
            let cold = self.spec.model.wall_duration(self.spec.model.cold_start);
            self.gate.start_cold(now, cold);
        }
        let replica = self.least_outstanding(rng.random());
        Ok(self.ticket(replica, now, &mut rng, work, None, Duration::ZERO))
    }

    /// Admits a serverless request into a concurrency slot, or throttles it.
    pub(crate) fn admit_slot(
        self: &Arc<Self>,
        mut rng: SmallRng,
        work: Work,
    ) -> Result<Ticket, Rejection> {
        let max_concurrency = self.spec.serverless.map_or(0, |s| s.max_concurrency);
        let throttled = Rejection::Throttled { max_concurrency };
        let (Workers::Cores(pool), Some(slots)) = (&self.replicas[0].workers, &self.slots) else {
            return Err(throttled);
        };
        let slot = pool.try_acquire().map_err(|_| throttled)?;
        let now = Instant::now();
        self.in_system.fetch_add(1, Ordering::AcqRel);
        let idle = self.gate.note_arrival(now);
        let cold_start = if slots.acquire(idle > self.idle_wall) {
            self.spec.model.wall_duration(self.spec.model.cold_start)
        } else {
            Duration::ZERO
        };
        Ok(self.ticket(0, now, &mut rng, work, Some(slot), cold_start))
    }

    /// Counts the request on its instance and, for CPU workers, books one.
    fn ticket(
        self: &Arc<Self>,
        replica: usize,
        now: Instant,
        rng: &mut SmallRng,
        work: Work,
        slot: Option<OwnedSemaphorePermit>,
        cold_start: Duration,
    ) -> Ticket {
        let target = &self.replicas[replica];
        target.outstanding.fetch_add(1, Ordering::AcqRel);
        let (arrived, booking) = match &target.workers {
            Workers::Cores(pool) => {
                let jitter = self.jitter.sample(rng);
                let model_ms = self.spec.model.single_ms(work.payload_bytes, pool.speed) * jitter
                    + work.spike_ms;
                let cost = self.spec.model.wall(model_ms) + cold_start;
                let gate = &self.gate;
                let (arrived, started) =
                    pool.book(|arrived, free| gate.serving_from(arrived.max(free)), cost);
                (arrived, Some(Booking { started, cost }))
            }
            Workers::Accelerators { .. } | Workers::Llm { .. } => (now, None),
        };
        Ticket {
            endpoint: Arc::clone(self),
            replica,
            arrived,
            work,
            booking,
            slot,
            cold_start,
        }
    }

    fn least_outstanding(&self, tie_break: u32) -> usize {
        let n = self.replicas.len();
        if n <= 1 {
            return 0;
        }
        let offset = tie_break as usize % n;
        (0..n)
            .map(|i| (i + offset) % n)
            .min_by_key(|&i| self.replicas[i].outstanding.load(Ordering::Acquire))
            .unwrap_or(0)
    }
}

impl Ticket {
    /// Waits for a worker, then holds it for the request's service time.
    pub(crate) async fn serve(mut self) -> Result<Timing, ServeError> {
        let ep = Arc::clone(&self.endpoint);
        match (&ep.replicas[self.replica].workers, self.booking) {
            (Workers::Cores(pool), Some(Booking { started, cost })) => {
                let permit = match self.slot.take() {
                    Some(permit) => permit,
                    None => pool.acquire().await.map_err(|_| ServeError::ShuttingDown)?,
                };
                let timing = |completed| Timing {
                    arrived: self.arrived,
                    started,
                    completed,
                    cold_start: self.cold_start,
                };
                occupy(started, cost, ep.limit_wall, permit)
                    .await
                    .map(timing)
                    .map_err(|end| ServeError::TimedOut(timing(end)))
            }
            (Workers::Accelerators { jobs }, _) => {
                let (reply, answer) = oneshot::channel();
                let job = BatchJob {
                    payload_bytes: self.work.payload_bytes,
                    spike_ms: self.work.spike_ms,
                    arrived: self.arrived,
                    reply,
                };
                jobs.send(job).await.map_err(|_| ServeError::ShuttingDown)?;
                answer.await.map_err(|_| ServeError::ShuttingDown)?
            }
            // LLM endpoints are served through `generate`; Cores always book.
            (Workers::Cores(_), None) | (Workers::Llm { .. }, _) => Err(ServeError::ShuttingDown),
        }
    }

    /// Hands an LLM request to its instance's scheduler; `fail_at` makes the stream fail
    /// instead of producing that token (0-based).
    pub(crate) fn generate(
        self,
        shape: Shape,
        fail_at: Option<u32>,
    ) -> Result<Generation, ServeError> {
        let Workers::Llm { sequences } = &self.endpoint.replicas[self.replica].workers else {
            return Err(ServeError::ShuttingDown);
        };
        let (events, receiver) = mpsc::unbounded_channel();
        let seq = Sequence {
            shape,
            spike_ms: self.work.spike_ms,
            fail_at,
            events,
        };
        sequences.send(seq).map_err(|_| ServeError::ShuttingDown)?;
        Ok(Generation {
            events: receiver,
            arrived: self.arrived,
            _ticket: self,
        })
    }
}

impl Endpoint {
    /// How long (wall clock) a request may take before SageMaker answers a timeout.
    pub(crate) fn limit_wall(&self) -> Duration {
        self.limit_wall
    }

    /// Tokens of KV cache one instance holds, for an LLM endpoint.
    pub(crate) fn kv_budget(&self) -> Option<u64> {
        let llm = self.spec.model.llm?;
        Some(llm.kv_budget_tokens(self.instance?))
    }
}

/// Holds a worker `permit` until `started + cost` and returns that (simulated) completion.
/// Past `limit` the caller is answered at the limit, as `Err`, while the worker stays busy
/// in the background until the cost is spent.
async fn occupy(
    started: Instant,
    cost: Duration,
    limit: Duration,
    permit: OwnedSemaphorePermit,
) -> Result<Instant, Instant> {
    let done = started + cost;
    if cost <= limit {
        clock::sleep_until(done).await;
        drop(permit);
        return Ok(done);
    }
    let answered = started + limit;
    clock::sleep_until(answered).await;
    tokio::spawn(async move {
        clock::sleep_until(done).await;
        drop(permit);
    });
    Err(answered)
}

/// The catalog instance an endpoint runs on (`None` for serverless).
pub(crate) fn deployed_instance(
    spec: &EndpointSpec,
) -> Result<Option<&'static Instance>, DeployError> {
    if spec.hosting == Hosting::Serverless {
        return Ok(None);
    }
    catalog::lookup(&spec.instance_type)
        .map(Some)
        .ok_or_else(|| DeployError::UnknownInstance {
            endpoint: spec.name.clone(),
            instance_type: spec.instance_type.clone(),
            suggestions: catalog::close_matches(&spec.instance_type),
        })
}

/// (queue capacity, requests in service at once) of an endpoint.
fn capacity_of(spec: &EndpointSpec, instance: Option<&Instance>) -> (usize, usize) {
    let count = spec.instance_count.max(1) as usize;
    let per_instance = match instance {
        Some(_) if spec.model.is_llm() => spec.model.max_batch as usize,
        Some(i) if i.has_accelerator() => {
            i.accelerator_count as usize * spec.model.max_batch as usize
        }
        Some(i) => i.vcpu as usize,
        None => spec.serverless.map_or(1, |s| s.max_concurrency as usize),
    };
    let default_queue = match spec.hosting {
        Hosting::Async => ASYNC_QUEUE,
        Hosting::Serverless => 0,
        Hosting::RealTime | Hosting::Batch => REALTIME_QUEUE_PER_INSTANCE * count,
    };
    (
        spec.queue_capacity.unwrap_or(default_queue),
        per_instance * count,
    )
}

fn build_replicas(
    spec: &EndpointSpec,
    instance: Option<&Instance>,
    gate: &Arc<Gate>,
    limit_wall: Duration,
    channel_capacity: usize,
) -> Box<[Replica]> {
    let model = &spec.model;
    let workers = |replica: u64| match (instance, spec.serverless, model.llm) {
        (Some(i), _, Some(llm)) => Workers::Llm {
            sequences: scheduler::start(scheduler::Config {
                model: model.clone(),
                llm,
                speed: i.speed,
                kv_budget: llm.kv_budget_tokens(i),
                gate: Arc::clone(gate),
                seed: stream_seed(model.seed, u64::MAX - replica, 0),
            }),
        },
        (Some(i), _, _) if i.has_accelerator() => Workers::Accelerators {
            jobs: batcher::start(batcher::Config {
                model: model.clone(),
                speed: model.worker_speed(i),
                workers: i.accelerator_count,
                gate: Arc::clone(gate),
                limit: limit_wall,
                seed: stream_seed(model.seed, u64::MAX - replica, 0),
                channel_capacity,
            }),
        },
        (Some(i), _, _) => Workers::Cores(CorePool::new(i.vcpu as usize, model.worker_speed(i))),
        (None, serverless_spec, _) => Workers::Cores(CorePool::new(
            serverless_spec.map_or(1, |s| s.max_concurrency as usize),
            serverless_spec.map_or(1.0, |s| slots::slot_speed(s.memory_mb)),
        )),
    };
    let count = if spec.hosting == Hosting::Serverless {
        1
    } else {
        spec.instance_count.max(1)
    };
    (0..u64::from(count))
        .map(|r| Replica {
            outstanding: AtomicUsize::new(0),
            workers: workers(r),
        })
        .collect()
}

/// Mixes the model seed, an endpoint index and a counter into one seed.
fn stream_seed(seed: u64, endpoint: u64, seq: u64) -> u64 {
    seed ^ endpoint.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seq.wrapping_mul(0xD1B5_4A32_D192_ED03)
}
