//! The open loop's floor on this machine: what it costs a shard only to sleep between
//! arrivals and wake for each one, with nothing sent. One current-thread runtime (as
//! `loadtest run` has on one core) sleeps on the engine's [`FineTimer`] until each arrival
//! of a constant RATE (default 2000/s) for SECS seconds (default 5), and prints the
//! process's CPU µs per wake (user + sys from `getrusage`) and how late the wakes were.
//! An open loop that sends at its arrivals' times pays this at least once per arrival
//! (plus once per answer that arrives while it sleeps); a generator that wakes less often
//! sends late. Then, for comparison, the operating system's own floor: a plain thread with
//! no runtime that only sleeps (`std::thread::sleep`, a `nanosleep`) until each arrival.
//! It prints figures and asserts nothing.
//!
//! `cargo bench --bench pacing_floor`, or `taskset -c 0 target/release/deps/pacing_floor-*`
//! for the one core `benches/generator.sh` pins to.

use loadtest::engine::timer::FineTimer;
use std::time::Duration;
use tokio::time::Instant;

fn main() {
    let rate: f64 = env_or("RATE", 2000.0);
    let secs: f64 = env_or("SECS", 5.0);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    let wakes = (rate * secs) as u32;
    let before = cpu_seconds();
    let (late_sum, late_max, fine) = runtime.block_on(async {
        let mut timer = FineTimer::new();
        let start = Instant::now();
        let (mut sum, mut max) = (Duration::ZERO, Duration::ZERO);
        for i in 1..=wakes {
            let due = start + Duration::from_secs_f64(f64::from(i) / rate);
            timer.sleep_until(due).await;
            let late = Instant::now().saturating_duration_since(due);
            sum += late;
            max = max.max(late);
        }
        (sum, max, timer.is_fine())
    });
    let cpu = cpu_seconds() - before;
    println!(
        "{wakes} wakes at {rate}/s on a {} timer: {:.1} µs CPU per wake; \
         late by {:.1} µs on average, {:.1} µs at most",
        if fine { "timerfd" } else { "tokio" },
        cpu * 1e6 / f64::from(wakes),
        late_sum.as_secs_f64() * 1e6 / f64::from(wakes),
        late_max.as_secs_f64() * 1e6,
    );
    let before = cpu_seconds();
    let (late_sum, late_max) = os_floor(rate, wakes);
    let cpu = cpu_seconds() - before;
    println!(
        "{wakes} wakes at {rate}/s of a bare thread (nanosleep, no runtime): {:.1} µs CPU per \
         wake; late by {:.1} µs on average, {:.1} µs at most",
        cpu * 1e6 / f64::from(wakes),
        late_sum.as_secs_f64() * 1e6 / f64::from(wakes),
        late_max.as_secs_f64() * 1e6,
    );
}

/// Sleeps until each of `wakes` arrivals at `rate` with nothing but the system's sleep;
/// returns the summed and the largest lateness.
fn os_floor(rate: f64, wakes: u32) -> (Duration, Duration) {
    let start = std::time::Instant::now();
    let (mut sum, mut max) = (Duration::ZERO, Duration::ZERO);
    for i in 1..=wakes {
        let due = start + Duration::from_secs_f64(f64::from(i) / rate);
        std::thread::sleep(due.saturating_duration_since(std::time::Instant::now()));
        let late = std::time::Instant::now().saturating_duration_since(due);
        sum += late;
        max = max.max(late);
    }
    (sum, max)
}

fn env_or(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// User + system CPU of this process so far, seconds.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &raw mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
