//! Queueing behaviour against theory: an M/M/c endpoint against Erlang C, and accelerator
//! batching against CPU workers.

use super::{client, header_f64, start};
use loadtest::domain::Hosting;
use loadtest::emulator::queueing::mean_queue_wait;
use loadtest::emulator::{EndpointSpec, Model, ServiceDistribution};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use rand_distr::{Distribution, Exp};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// Workers of ml.m5.xlarge (4 vCPU at speed 1.0).
const SERVERS: u32 = 4;
/// Mean service time: 60 model ms at time_scale 0.1.
const MEAN_SERVICE_MS: f64 = 6.0;
const UTILISATION: f64 = 0.7;
const REQUESTS: usize = 2000;

/// The timing-sensitive tests here run one at a time, so neither starves the other's
/// load generator of CPU.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One answered request: (arrival, queue, service) in ms, as the emulator reported them.
type Observed = (f64, f64, f64);

/// Attempts at the M/M/c experiment: one whose load generator was starved of CPU (by a
/// busy machine) is run again rather than judged.
const ATTEMPTS: usize = 3;

/// Mean wait of a FIFO queue with `servers` servers replaying the observed arrivals and
/// service times: what the emulator must have produced if it is an exact c-server queue.
fn replay_mean_wait(servers: u32, observed: &[Observed]) -> f64 {
    let mut sorted = observed.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut free: BinaryHeap<Reverse<u64>> = (0..servers).map(|_| Reverse(0)).collect();
    let mut total = 0.0;
    for (arrival, _, service) in &sorted {
        let Reverse(free_at) = free.pop().unwrap_or(Reverse(0));
        let start = arrival.max(free_at as f64 / 1000.0);
        total += start - arrival;
        free.push(Reverse(((start + service) * 1000.0) as u64));
    }
    total / sorted.len() as f64
}

/// Drives Poisson arrivals (seeded) at `rate_per_ms` and collects what the emulator reports,
/// with how late each request reached the emulator against its schedule (ms).
async fn poisson_run(url: String, rate_per_ms: f64) -> (Vec<Observed>, Vec<f64>) {
    let http = client();
    let gaps = Exp::new(rate_per_ms).expect("rate");
    let mut rng = SmallRng::seed_from_u64(42);
    let start = Instant::now() + Duration::from_millis(20);
    let mut at_ms = 0.0;
    let mut tasks = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        at_ms += gaps.sample(&mut rng);
        let (http, url) = (http.clone(), url.clone());
        let when = start + Duration::from_secs_f64(at_ms / 1000.0);
        let intended_ms = at_ms;
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(when).await;
            let r = http.post(&url).body("x").send().await.expect("send");
            assert_eq!(r.status(), 200);
            let h = |name| header_f64(&r, name).expect(name);
            let arrival = h("x-emulator-arrival-ms");
            let observed = (
                arrival,
                h("x-emulator-queue-ms"),
                h("x-emulator-service-ms"),
            );
            (observed, arrival - intended_ms)
        }));
    }
    let mut observed = Vec::with_capacity(REQUESTS);
    let mut offsets = Vec::with_capacity(REQUESTS);
    for task in tasks {
        let (o, offset) = task.await.expect("request task");
        observed.push(o);
        offsets.push(offset);
    }
    // The clocks differ by a constant: lateness is the offset beyond the smallest one.
    let base = offsets.iter().copied().fold(f64::MAX, f64::min);
    (observed, offsets.into_iter().map(|o| o - base).collect())
}

/// Coefficient of variation of the gaps between arrivals as the emulator saw them.
fn gap_cv(observed: &[Observed]) -> f64 {
    let mut arrivals: Vec<f64> = observed.iter().map(|o| o.0).collect();
    arrivals.sort_by(f64::total_cmp);
    let gaps: Vec<f64> = arrivals.windows(2).map(|w| w[1] - w[0]).collect();
    let n = gaps.len() as f64;
    let mean = gaps.iter().sum::<f64>() / n;
    let variance = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (n - 1.0);
    variance.sqrt() / mean
}

/// The `q` quantile of some values.
fn quantile(mut values: Vec<f64>, q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let index = ((values.len() as f64 - 1.0) * q).round() as usize;
    values.get(index).copied().unwrap_or(f64::NAN)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mmc_waiting_time_agrees_with_erlang_c() {
    let _alone = HEAVY.lock().await;
    let model = Model {
        service: ServiceDistribution::Exponential,
        ..Model::custom(MEAN_SERVICE_MS * 10.0).with_time_scale(0.1)
    };
    let spec = EndpointSpec {
        queue_capacity: Some(REQUESTS),
        ..EndpointSpec::new("mmc", Hosting::RealTime, "ml.m5.xlarge", model)
    };
    let rate = UTILISATION * f64::from(SERVERS) / MEAN_SERVICE_MS;
    let mut observed = Vec::new();
    let mut poisson = false;
    for attempt in 1..=ATTEMPTS {
        let emu = start(vec![spec.clone()]).await;
        let (run, lateness) = poisson_run(emu.invocations_url("mmc"), rate).await;
        emu.stop().await;
        // Erlang C needs Poisson arrivals (gaps with a coefficient of variation of 1); a
        // generator starved of CPU sends late and in bursts.
        let p95 = quantile(lateness, 0.95);
        let cv = gap_cv(&run);
        observed = run;
        poisson = cv < 1.2;
        if poisson {
            break;
        }
        eprintln!(
            "attempt {attempt}: arrival gaps CV {cv:.2}, p95 lateness {p95:.1} ms (machine busy)"
        );
    }

    let n = observed.len() as f64;
    let mean = |f: fn(&Observed) -> f64| observed.iter().map(f).sum::<f64>() / n;
    let measured_wait = mean(|o| o.1);
    let measured_service = mean(|o| o.2);
    let span = observed.iter().map(|o| o.0).fold(f64::MIN, f64::max)
        - observed.iter().map(|o| o.0).fold(f64::MAX, f64::min);
    let measured_rate = (n - 1.0) / span;

    // The mean of 2000 exponential draws is within ±2.2% (1 sd) of the configured mean.
    assert!(
        (measured_service / MEAN_SERVICE_MS - 1.0).abs() < 0.08,
        "mean service {measured_service} ms"
    );
    // Mechanics: an exact 4-server FIFO queue fed the same arrivals and service times.
    let replay = replay_mean_wait(SERVERS, &observed);
    assert!(
        (measured_wait - replay).abs() < 0.05 * replay + 0.15,
        "measured W_q {measured_wait:.3} ms vs replayed {replay:.3} ms"
    );
    // Theory: Erlang C at the observed arrival rate and service mean. With 2000 requests at
    // ρ = 0.7 the sample mean of W_q is noisy: simulating this M/M/4 1500 times gives a
    // standard deviation of 18% of W_q and 99.8% of runs inside the band below.
    let theory = mean_queue_wait(SERVERS, measured_rate, measured_service).expect("stable queue");
    let nominal = mean_queue_wait(SERVERS, rate, MEAN_SERVICE_MS).expect("stable queue");
    let ratio = measured_wait / theory;
    eprintln!("arrival gaps CV {:.3}", gap_cv(&observed));
    eprintln!(
        "M/M/4: W_q measured {measured_wait:.3} ms, replayed {replay:.3} ms, Erlang C {theory:.3} ms \
         (nominal {nominal:.3} ms); mean service {measured_service:.3} ms; rate {measured_rate:.3}/ms"
    );
    if !poisson {
        eprintln!(
            "WARNING: Erlang C comparison not checked: the load generator was starved of CPU in \
             all {ATTEMPTS} attempts, so arrivals were not Poisson (the queue mechanics were checked)"
        );
        return;
    }
    assert!(
        (measured_rate / rate - 1.0).abs() < 0.1,
        "arrivals at {measured_rate:.3}/ms instead of {rate:.3}/ms"
    );
    assert!(
        (0.6..1.8).contains(&ratio),
        "W_q {measured_wait:.3} ms vs Erlang C {theory:.3} ms (nominal {nominal:.3} ms), ratio {ratio:.2}"
    );
}

/// Closed-loop requests from `clients` workers for `window`; returns answers completed.
async fn closed_loop(url: String, clients: usize, window: Duration) -> u64 {
    let http = client();
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (http, url, done, stop) = (http.clone(), url.clone(), done.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let r = http
                        .post(&url)
                        .body(vec![0u8; 1024])
                        .send()
                        .await
                        .expect("send");
                    if r.status() == 200 && !stop.load(Ordering::Relaxed) {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(window).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.expect("worker");
    }
    done.load(Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gpu_batching_outperforms_cpu_on_a_large_model_at_high_concurrency() {
    let _alone = HEAVY.lock().await;
    let llm = Model::preset("textgen-small")
        .expect("preset")
        .with_time_scale(0.2);
    let emu = start(vec![
        EndpointSpec::new("cpu", Hosting::RealTime, "ml.c5.xlarge", llm.clone()),
        EndpointSpec::new("gpu", Hosting::RealTime, "ml.g4dn.xlarge", llm),
    ])
    .await;
    let window = Duration::from_millis(1500);
    let cpu = closed_loop(emu.invocations_url("cpu"), 48, window).await;
    let gpu = closed_loop(emu.invocations_url("gpu"), 48, window).await;
    emu.stop().await;
    // ml.c5.xlarge: 4 workers × 1/(1004 ms / 1.15 × 0.2) ≈ 23/s. ml.g4dn.xlarge: batches
    // of 8 in 1004 ms / 8 × (1 + 7 × 0.15) × 0.2 ≈ 51 ms ≈ 156/s.
    assert!(cpu > 15, "cpu completed {cpu}");
    assert!(
        gpu > 4 * cpu,
        "gpu {gpu} vs cpu {cpu} requests in {window:?}"
    );
}

#[test]
fn replay_of_a_single_server_queue() {
    // Arrivals at 0, 1, 2 ms with 2 ms services on one server: waits 0, 1, 2 ms.
    let observed = [(0.0, 0.0, 2.0), (1.0, 0.0, 2.0), (2.0, 0.0, 2.0)];
    assert!((replay_mean_wait(1, &observed) - 1.0).abs() < 1e-9);
    assert!(replay_mean_wait(3, &observed).abs() < 1e-9);
}
