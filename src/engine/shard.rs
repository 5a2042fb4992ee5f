//! One shard of a cell: a single task that issues requests, awaits them and records them.
//!
//! Closed and open loops share this loop; they differ only in *when* the next request is
//! due ([`Issue`]). The shard owns its recorder and its in-flight slots (each with the
//! target's connection for it), so nothing mutable is shared across threads. Between
//! arrivals it sleeps on a [`FineTimer`] and then sends every arrival that is due.

use super::answers::Answers;
use super::live::LiveStats;
use super::pacer::Pacer;
use super::slots::IdleSlots;
use super::timer::FineTimer;
use crate::endpoint::stream::Tokens;
use crate::endpoint::{Endpoint, Slot};
use crate::payload::Bodies;
use crate::recorder::Recorder;
use crate::sample::{Failure, Outcome, Sample};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

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

    /// The set the shard's answers are collected from, for a dense open loop.
    fn answers(&self) -> Answers {
        match self {
            Issue::Open {
                pacer,
                max_in_flight,
                ..
            } => Answers::new(Some(pacer.mean_gap()), *max_in_flight),
            Issue::Closed { .. } => Answers::new(None, 0),
        }
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
    let mut answers = issue.answers();
    let mut slots = IdleSlots::new(Instant::now(), answers.harvest());
    let mut timer = FineTimer::new();
    let mut measured_in_flight = 0u64;
    let mut drain_until = window.end + window.drain;
    let mut stopping = match *stop.borrow() {
        Stop::Abort => return rec,
        initial => initial != Stop::Running,
    };
    loop {
        answers.collect_if_woken();
        let now = Instant::now();
        slots.trim(now);
        if !stopping && now >= window.end {
            stopping = true;
            record_unsent(&mut issue, &window, &mut rec);
        }
        let mut wake = drain_until;
        if !stopping {
            loop {
                match issue.next(now, &window, in_flight.len()) {
                    Due::Send(intended) => {
                        let counted = rec.measures(intended);
                        measured_in_flight += u64::from(counted);
                        let scheduled = issue.is_scheduled().then_some(intended);
                        let body = bodies.get(next_body);
                        in_flight.push(in_slot(target, slots.take(), body, scheduled, counted));
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
        answers.listen_unless_due(now, (!stopping).then_some(wake));
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
            Some(((sample, failure, tokens), counted, slot)) = in_flight.next(), if !in_flight.is_empty() => {
                measured_in_flight -= u64::from(counted);
                slots.put(slot);
                record_answer(&mut rec, live, &sample, failure.as_ref(), tokens.as_deref());
            }
            () = timer.sleep_until(wake), if !stopping => answers.woke(),
            () = answers.arrived() => answers.woke(),
            () = sleep_until(drain_until), if stopping => {
                if Instant::now() >= drain_until {
                    break;
                }
            }
        }
    }
    rec.cancel_in_flight(measured_in_flight);
    rec
}

/// Counts the arrivals scheduled before the window's end that were never sent as dropped.
fn record_unsent(issue: &mut Issue, window: &Window, rec: &mut Recorder) {
    for due in issue.unsent(window) {
        rec.record(&dropped_sample(due));
    }
}

/// One request in flight on `slot`: its answer, whether it `counted` in the window, and the
/// slot back for the next request.
async fn in_slot<T: Endpoint>(
    target: &T,
    mut slot: Slot,
    body: bytes::Bytes,
    scheduled: Option<Instant>,
    counted: bool,
) -> ((Sample, Option<Failure>, Option<Box<Tokens>>), bool, Slot) {
    let answer = one_request(target, &mut slot, body, scheduled).await;
    (answer, counted, slot)
}

/// Records a finished request (and its tokens), and shows it live when it counts in the
/// window.
fn record_answer(
    rec: &mut Recorder,
    live: &LiveStats,
    sample: &Sample,
    failure: Option<&Failure>,
    tokens: Option<&Tokens>,
) {
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
    super::tokens::record(rec, live, sample, tokens);
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
    slot: &mut Slot,
    body: bytes::Bytes,
    scheduled: Option<Instant>,
) -> (Sample, Option<Failure>, Option<Box<Tokens>>) {
    let bytes_out = body.len() as u64;
    let start = Instant::now();
    let intended = scheduled.unwrap_or(start);
    let result = target.request_in(slot, body).await;
    let mut end = Instant::now();
    let mut tokens = None;
    // When the answer was received, if the target or the slot's connection knows better
    // than the moment the request's future returned.
    let known = result.as_ref().ok().and_then(|reply| reply.done_after);
    if let Some(done) = known.or_else(|| slot.answered_after()) {
        end = end.min(start + done);
    }
    let (outcome, bytes_in, variant, cold_start, failure) = match result {
        Ok(mut reply) => {
            tokens = reply.tokens.take();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Arrivals;
    use crate::endpoint::{EndpointError, Reply};
    use std::sync::Mutex;

    /// Answers at once (or after `stall` for request `stall_at`), noting when each request
    /// reached it.
    #[derive(Default)]
    struct Clock {
        sends: Mutex<Vec<Instant>>,
        stall_at: Option<usize>,
        stall: Duration,
    }

    impl Endpoint for Clock {
        async fn request(&self, _body: bytes::Bytes) -> Result<Reply, Failure> {
            let n = {
                let mut sends = self.sends.lock().unwrap();
                sends.push(Instant::now());
                sends.len() - 1
            };
            if self.stall_at == Some(n) {
                tokio::time::sleep(self.stall).await;
            }
            Ok(Reply::bytes(1))
        }
        async fn probe(&self, _body: bytes::Bytes) -> Result<(), EndpointError> {
            Ok(())
        }
        fn describe(&self) -> String {
            "clock".into()
        }
    }

    /// Runs one shard at `rate` for `ms` against `target`; returns its recorder and the
    /// schedule's origin.
    async fn paced(
        target: &Clock,
        rate: f64,
        ms: u64,
        max_in_flight: usize,
    ) -> (Recorder, Instant) {
        let bodies = crate::payload::build(&crate::profile::PayloadSource::Random, 8, 1).unwrap();
        let start = Instant::now() + Duration::from_millis(5);
        let window = Window {
            start,
            measure_from: start,
            end: start + Duration::from_millis(ms),
            drain: Duration::from_secs(2),
        };
        let issue = Issue::Open {
            pacer: Pacer::new(Arrivals::Constant, rate, 0, 1, 0),
            max_in_flight,
            give_up_after: Duration::from_secs(2),
        };
        let (_tx, stop) = watch::channel(Stop::Running);
        let rec = run(
            target,
            &bodies,
            issue,
            window,
            0,
            stop,
            &LiveStats::default(),
        )
        .await;
        (rec, start)
    }

    /// The fine-timer path sends every arrival of the schedule (no more), in order, and none
    /// before its time: 2000/s for 300 ms is exactly 600 arrivals.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_arrival_is_sent_in_order_and_never_early() {
        let target = Clock::default();
        let (rec, start) = paced(&target, 2000.0, 300, 64).await;
        let sends = target.sends.lock().unwrap().clone();
        // Every arrival is sent or, if a starved shard woke after the window closed, counted
        // as dropped: never lost, never duplicated (a loaded machine may cause a few drops).
        assert_eq!(
            rec.counts.sent + rec.counts.dropped,
            600,
            "{:?}",
            rec.counts
        );
        assert!(rec.counts.sent >= 300, "{:?}", rec.counts);
        assert_eq!(sends.len() as u64, rec.counts.sent);
        assert!(rec.counts.balanced(), "{:?}", rec.counts);
        assert!(sends.windows(2).all(|w| w[0] <= w[1]), "out of order");
        for (i, at) in sends.iter().enumerate() {
            let due = start + constant(i as u64, 2000.0);
            assert!(*at >= due, "arrival {i} sent {:?} early", due - *at);
        }
    }

    /// Arrivals held up by a full shard are sent late and the slip is reported: one slot,
    /// request 10 stalls 30 ms, so the arrivals behind it slip by up to ~30 ms.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn arrivals_held_up_are_sent_late_with_their_slip_reported() {
        let target = Clock {
            stall_at: Some(10),
            stall: Duration::from_millis(30),
            ..Clock::default()
        };
        let (rec, _) = paced(&target, 1000.0, 200, 1).await;
        assert_eq!(
            rec.counts.sent + rec.counts.dropped,
            200,
            "{:?}",
            rec.counts
        );
        assert!(rec.slip_max_us >= 20_000, "max slip {} µs", rec.slip_max_us);
        assert!(rec.counts.late >= 15, "late sends {}", rec.counts.late);
        let sends = target.sends.lock().unwrap();
        assert!(sends.windows(2).all(|w| w[0] <= w[1]), "out of order");
    }

    /// The shard moves one request's future into its in-flight set per request (a heap
    /// block and a copy of its size): through `AnyEndpoint` to an `http` target it stays
    /// small, whatever the other kinds' futures weigh (the SDK's made it 6.3 KiB, hyper's 3.4 KiB;
    /// 1.9 KiB on the target's own connections).
    #[test]
    fn a_request_future_to_an_http_target_is_small() {
        use crate::endpoint::AnyEndpoint;
        let target = AnyEndpoint::Http(http_target("http://127.0.0.1:9/"));
        let mut slot = Slot::default();
        let future = one_request(&target, &mut slot, bytes::Bytes::new(), None);
        let size = std::mem::size_of_val(&future);
        assert!(size <= 2048, "a request's future is {size} bytes");
    }

    fn http_target(url: &str) -> crate::endpoint::http::HttpEndpoint {
        use crate::endpoint::http::{ClientSettings, HttpEndpoint, client};
        let settings = ClientSettings {
            timeout: Duration::from_secs(5),
            max_in_flight: 1,
        };
        let client = client(&settings).unwrap();
        HttpEndpoint::new(client, "GET", url, "text/plain", &Default::default()).unwrap()
    }

    /// An answer a dense open loop collects 60 ms after it arrived ends, in its sample, when
    /// it arrived: a success and an error status alike.
    #[tokio::test]
    async fn an_answer_collected_late_ends_when_it_arrived() {
        use crate::endpoint::harvest::{Harvest, prepare};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        assert!(prepare(), "Linux timestamps what it receives");
        for answer in [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"[..],
            b"HTTP/1.1 503 Busy\r\ncontent-length: 4\r\n\r\nbusy",
        ] {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/", listener.local_addr().unwrap());
            tokio::spawn(async move {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut request = [0u8; 1024];
                let _ = socket.read(&mut request).await.unwrap();
                socket.write_all(answer).await.unwrap();
                tokio::time::sleep(Duration::from_secs(1)).await;
            });
            let target = http_target(&url);
            let harvest = std::sync::Arc::new(Harvest::new(1).unwrap());
            let mut slot = Slot::harvested(&harvest, 0);
            let late = async {
                tokio::time::sleep(Duration::from_millis(60)).await;
                harvest.collect()
            };
            let request = one_request(&target, &mut slot, bytes::Bytes::new(), None);
            let ((sample, _, _), collected) = tokio::join!(request, late);
            assert_eq!(collected, 1, "the answer waited in the set");
            let took = sample.end - sample.start;
            let head = String::from_utf8_lossy(&answer[..15]);
            assert!(took < Duration::from_millis(20), "{head}: took {took:?}");
        }
    }

    fn constant(i: u64, rate: f64) -> Duration {
        super::super::pacer::constant_offset(i, rate)
    }
}
