//! One shard of a cell: a single task that issues requests, awaits them and records them.
//!
//! Closed and open loops share this loop; they differ only in *when* the next request is
//! due ([`Issue`]). The shard owns its recorder, so nothing mutable is shared across threads.

use super::live::LiveStats;
use super::pacer::Pacer;
use crate::endpoint::Endpoint;
use crate::endpoint::stream::Tokens;
use crate::payload::Bodies;
use crate::recorder::Recorder;
use crate::sample::{Failure, Outcome, Sample};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

/// Below this gap to the next arrival the shard yields instead of sleeping: tokio's timer
/// has 1 ms resolution and would otherwise send up to 1 ms late.
const SPIN_BELOW: Duration = Duration::from_millis(1);

/// When a shard sends its next request.
#[derive(Debug)]
pub enum Issue {
    /// Keep `workers` requests in flight; each completion starts the next.
    Closed {
        /// Requests kept in flight.
        workers: u32,
    },
    /// Send at the pacer's times. At `max_in_flight` an arrival waits for a free slot and is
    /// sent late (latency still counts from its intended time); one that waited longer than
    /// `give_up_after`, or was still waiting when the window closed, is dropped and counted.
    Open {
        /// The shard's schedule.
        pacer: Pacer,
        /// Most requests in flight in this shard.
        max_in_flight: usize,
        /// Longest wait for a slot before an arrival is dropped.
        give_up_after: Duration,
    },
}

/// Times that bound a cell.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// Start of warmup: the schedule's origin.
    pub start: Instant,
    /// End of warmup, start of measurement.
    pub measure_from: Instant,
    /// No request is sent at or after this.
    pub end: Instant,
    /// Longest wait for in-flight requests after `end`.
    pub drain: Duration,
}

/// What the shard does next.
enum Due {
    /// Send a request intended at this time.
    Send(Instant),
    /// Count an arrival at this time as dropped.
    Drop(Instant),
    /// Nothing is due before this time.
    Wait(Instant),
}

impl Issue {
    /// The next action at `now` with `in_flight` requests outstanding.
    fn next(&mut self, now: Instant, window: &Window, in_flight: usize) -> Due {
        match self {
            Issue::Closed { workers } if in_flight < *workers as usize => Due::Send(now),
            Issue::Closed { .. } => Due::Wait(window.end),
            Issue::Open {
                pacer,
                max_in_flight,
                give_up_after,
            } => {
                let due = window.start + pacer.peek();
                if due >= window.end {
                    return Due::Wait(window.end);
                }
                if due > now {
                    return Due::Wait(due);
                }
                if now.saturating_duration_since(due) > *give_up_after {
                    pacer.advance();
                    return Due::Drop(due);
                }
                if in_flight >= *max_in_flight {
                    // Woken by the next completion, which frees a slot.
                    return Due::Wait(window.end);
                }
                pacer.advance();
                Due::Send(due)
            }
        }
    }

    /// Whether requests have intended times of their own (open loop) rather than being
    /// intended when sent (closed loop).
    fn is_scheduled(&self) -> bool {
        matches!(self, Issue::Open { .. })
    }

    /// Arrivals scheduled before the window's end that were never sent.
    fn unsent(&mut self, window: &Window) -> Vec<Instant> {
        let mut out = Vec::new();
        if let Issue::Open { pacer, .. } = self {
            while window.start + pacer.peek() < window.end {
                out.push(window.start + pacer.peek());
                pacer.advance();
            }
        }
        out
    }
}

/// Why a cell ends before its window does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Not stopping.
    Running,
    /// The SLA is clearly broken (at this instant): send no more, let the requests in
    /// flight finish, so the target is left without a backlog for the next cell.
    Drain(Instant),
    /// Ctrl-C: stop at once; requests in flight are cancelled and counted.
    Abort,
}

/// Runs one shard until the window ends (or `stop` says so) and returns its recorder.
pub async fn run<T: Endpoint>(
    target: &T,
    bodies: &Bodies,
    mut issue: Issue,
    window: Window,
    mut next_body: usize,
    mut stop: watch::Receiver<Stop>,
    live: &LiveStats,
) -> Recorder {
    let mut rec = Recorder::window(window.measure_from, window.end);
    let mut in_flight = FuturesUnordered::new();
    let mut measured_in_flight = 0u64;
    let mut drain_until = window.end + window.drain;
    let initial = *stop.borrow();
    let mut stopping = initial != Stop::Running;
    if initial == Stop::Abort {
        return rec;
    }
    loop {
        let now = Instant::now();
        if !stopping && now >= window.end {
            stopping = true;
            for due in issue.unsent(&window) {
                rec.record(&dropped_sample(due));
            }
        }
        let mut wake = drain_until;
        if !stopping {
            loop {
                match issue.next(now, &window, in_flight.len()) {
                    Due::Send(intended) => {
                        let counted = rec.measures(intended);
                        measured_in_flight += u64::from(counted);
                        let scheduled = issue.is_scheduled().then_some(intended);
                        let request = one_request(target, bodies.get(next_body), scheduled);
                        in_flight.push(async move { (request.await, counted) });
                        next_body += 1;
                    }
                    Due::Drop(intended) => rec.record(&dropped_sample(intended)),
                    Due::Wait(until) => {
                        wake = until;
                        break;
                    }
                }
            }
        }
        if stopping && in_flight.is_empty() {
            break;
        }
        let spin = !stopping && wake.saturating_duration_since(now) < SPIN_BELOW;
        let sleep_to = if stopping {
            drain_until
        } else {
            wake.checked_sub(SPIN_BELOW).unwrap_or(wake)
        };
        tokio::select! {
            biased;
            changed = stop.changed() => match (changed, *stop.borrow()) {
                (Ok(()), Stop::Drain(at)) => {
                    stopping = true;
                    rec.close_at(at);
                    drain_until = drain_until.min(at + window.drain);
                }
                (Ok(()), Stop::Running) => {}
                _ => break,
            },
            Some(((sample, failure, tokens), counted)) = in_flight.next(), if !in_flight.is_empty() => {
                measured_in_flight -= u64::from(counted);
                record_answer(&mut rec, live, &sample, failure.as_ref());
                super::tokens::record(&mut rec, live, &sample, tokens.as_deref());
            }
            _ = pause(spin, sleep_to) => {
                if stopping && Instant::now() >= drain_until {
                    break;
                }
            }
        }
    }
    rec.cancel_in_flight(measured_in_flight);
    rec
}

/// Records a finished request, and shows it live when it counts in the window.
fn record_answer(rec: &mut Recorder, live: &LiveStats, sample: &Sample, failure: Option<&Failure>) {
    if rec.measures(sample.intended_start) {
        match sample.outcome {
            Outcome::Ok => live.ok(sample.response_time()),
            _ => live.error(),
        }
    }
    rec.record(sample);
    if let Some(f) = failure {
        rec.record_failure(sample.intended_start, f);
    }
}

async fn pause(spin: bool, until: Instant) {
    if spin {
        tokio::task::yield_now().await;
    } else {
        sleep_until(until).await;
    }
}

fn dropped_sample(intended: Instant) -> Sample {
    Sample {
        intended_start: intended,
        start: intended,
        end: intended,
        outcome: Outcome::Dropped,
        bytes_out: 0,
        bytes_in: 0,
        variant: None,
        cold_start: false,
    }
}

/// Sends one request. `scheduled` is its intended time in an open loop; a closed loop's
/// request is intended when it is actually sent, so client-side scheduling never counts.
/// A failure comes back beside the sample (status and excerpt, inline: no allocation).
async fn one_request<T: Endpoint>(
    target: &T,
    body: bytes::Bytes,
    scheduled: Option<Instant>,
) -> (Sample, Option<Failure>, Option<Box<Tokens>>) {
    let bytes_out = body.len() as u64;
    let start = Instant::now();
    let intended = scheduled.unwrap_or(start);
    let result = target.request(body).await;
    let mut end = Instant::now();
    let mut tokens = None;
    let (outcome, bytes_in, variant, cold_start, failure) = match result {
        Ok(mut reply) => {
            tokens = reply.tokens.take();
            if let Some(done) = reply.done_after {
                end = end.min(start + done);
            }
            let cold = reply.cold_start;
            (Outcome::Ok, reply.bytes_in, reply.variant, cold, None)
        }
        Err(f) => (Outcome::Error(f.kind), 0, None, false, Some(f)),
    };
    let sample = Sample {
        intended_start: intended,
        start,
        end,
        outcome,
        bytes_out,
        bytes_in,
        variant,
        cold_start,
    };
    (sample, failure, tokens)
}
