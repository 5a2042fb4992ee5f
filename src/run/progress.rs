//! Progress on stderr: a bar on a terminal, one plain line per cell otherwise; never on stdout.

use crate::engine::live::LiveStats;
use crate::plan::{Cell, Plan};
use crate::results::CellSummary;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

/// Reports cells as they start and end.
pub struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
    total: usize,
    live_line: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    /// A bar when stderr is a terminal and not `quiet`; plain lines otherwise.
    pub fn new(plan: &Plan, quiet: bool) -> Progress {
        let total = plan.cells.len()
            + plan
                .searches
                .iter()
                .map(|s| s.max_probes() as usize)
                .sum::<usize>();
        let tty = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let bar = (tty && !quiet).then(|| {
            let bar = ProgressBar::new(plan.estimated_duration().as_secs().max(1));
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} eta {eta}  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            quiet,
            total,
            live_line: None,
        }
    }

    /// Announces a cell; on a terminal, its live figures update the bar while it runs.
    pub fn start_cell(&mut self, cell: &Cell, live: &Arc<LiveStats>) {
        let repeat = if cell.repeat > 1 {
            format!(" (repeat {})", cell.repeat)
        } else {
            String::new()
        };
        let what = format!(
            "cell {}/{}: {} {} {} {}{repeat}",
            cell.index + 1,
            self.total,
            cell.deployment.hosting_label(),
            cell.deployment.variant_label(),
            cell.payload_label(),
            cell.load
        );
        if let Some(bar) = &self.bar {
            bar.set_message(what.clone());
            self.live_line = Some(tokio::spawn(live_line(bar.clone(), what, live.clone())));
        }
    }

    /// Reports a finished cell.
    pub fn finish_cell(&mut self, s: &CellSummary) {
        if let Some(task) = self.live_line.take() {
            task.abort();
        }
        let p = |f: fn(&crate::results::Percentiles) -> f64| {
            s.latency
                .as_ref()
                .map_or("-".to_string(), |l| format!("{:.1}", f(l)))
        };
        let line = format!(
            "cell {}/{} done: {:.1} req/s, p50 {} ms, p99 {} ms, errors {:.2}%",
            s.index + 1,
            self.total,
            s.throughput_rps,
            p(|l| l.p50_ms),
            p(|l| l.p99_ms),
            s.error_rate * 100.0
        );
        match &self.bar {
            Some(bar) => {
                bar.inc((s.duration_s.round() as u64).max(1));
                bar.println(line);
            }
            None if !self.quiet => eprintln!("{line}"),
            None => {}
        }
    }

    /// Clears the bar.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// Every 250 ms: the running cell's req/s, approximate p50/p99 and errors on the bar.
async fn live_line(bar: ProgressBar, what: String, live: Arc<LiveStats>) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut last = (live.snapshot().ok, tokio::time::Instant::now());
    loop {
        tick.tick().await;
        let now = tokio::time::Instant::now();
        let snap = live.snapshot();
        let secs = now.duration_since(last.1).as_secs_f64().max(1e-3);
        let rps = snap.ok.saturating_sub(last.0) as f64 / secs;
        last = (snap.ok, now);
        let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
        bar.set_message(format!(
            "{what} | {rps:.0} req/s, p50 ~{} ms, p99 ~{} ms, {} errors",
            ms(snap.p50_ms),
            ms(snap.p99_ms),
            snap.errors
        ));
    }
}
