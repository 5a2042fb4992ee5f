//! Throughput of the emulator on this machine: a near-zero-cost model behind one real-time
//! endpoint, driven by concurrent keep-alive reqwest clients in the same process. The
//! emulator and the clients run on separate runtimes (one worker thread each by default,
//! so each gets about one of the two cores), and the emulator's own CPU time per request is
//! read from its threads' CPU clocks.
//!
//! `cargo bench --bench emulator_throughput [-- SECONDS CLIENTS SERVER_THREADS CLIENT_THREADS]`
//! (defaults: 5 s, 64 clients, 1 emulator thread, 1 client thread).

use loadtest::domain::Hosting;
use loadtest::emulator::{EndpointSpec, Model, Running, ServiceDistribution};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

type BoxError = Box<dyn std::error::Error>;

fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with('-'));
    let seconds: u64 = args.next().map_or(Ok(5), |s| s.parse())?;
    let clients: usize = args.next().map_or(Ok(64), |s| s.parse())?;
    let server_threads: usize = args.next().map_or(Ok(1), |s| s.parse())?;
    let server = runtime("emulator", server_threads)?;
    let client_threads: usize = args.next().map_or(Ok(1), |s| s.parse())?;
    let client = runtime("client", client_threads)?;
    let emulator = server.block_on(start_emulator(clients))?;
    let url = emulator.invocations_url("bench");
    let cpu_before = thread_cpu_seconds("emulator");
    let window = Duration::from_secs(seconds);
    let (ok, failed, elapsed) = client.block_on(drive(url, window, clients))?;
    let server_cpu = thread_cpu_seconds("emulator") - cpu_before;
    server.block_on(emulator.stop());
    println!(
        "emulator_throughput: {clients} clients, {elapsed:.1} s: {ok} ok, {failed} failed, \
         {:.0} req/s; emulator CPU {:.1} us/request ({:.2} cores)",
        ok as f64 / elapsed,
        server_cpu * 1e6 / ok.max(1) as f64,
        server_cpu / elapsed
    );
    Ok(())
}

fn runtime(name: &str, threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()
}

async fn start_emulator(clients: usize) -> Result<Running, BoxError> {
    let model = Model {
        service: ServiceDistribution::Fixed,
        ..Model::custom(0.0)
    };
    let spec = EndpointSpec {
        queue_capacity: Some(clients * 2),
        ..EndpointSpec::new("bench", Hosting::RealTime, "ml.c5.4xlarge", model)
    };
    Ok(Running::start("127.0.0.1:0".parse()?, vec![spec]).await?)
}

/// Closed loop: each client sends its next request when the previous one is answered.
async fn drive(url: String, window: Duration, clients: usize) -> Result<(u64, u64, f64), BoxError> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (http, url) = (http.clone(), url.clone());
            let (ok, failed, stop) = (ok.clone(), failed.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let counter = match http.post(&url).body(&b"{\"x\":1}"[..]).send().await {
                        Ok(r) if r.status().is_success() => match r.bytes().await {
                            Ok(_) => &ok,
                            Err(_) => &failed,
                        },
                        _ => &failed,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(window).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok((
        ok.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        elapsed,
    ))
}

/// CPU seconds used so far by this process's threads whose name starts with `prefix`
/// (Linux; 0 elsewhere). Assumes the usual 100 clock ticks per second.
fn thread_cpu_seconds(prefix: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    tasks
        .flatten()
        .filter_map(|task| {
            let comm = std::fs::read_to_string(task.path().join("comm")).ok()?;
            if !comm.starts_with(prefix) {
                return None;
            }
            let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            let user: f64 = fields.get(11)?.parse().ok()?;
            let system: f64 = fields.get(12)?.parse().ok()?;
            Some((user + system) / 100.0)
        })
        .sum()
}
