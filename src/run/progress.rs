//! Progress on stderr: a bar on a terminal, one plain line per cell otherwise; never on stdout.
//!
//! The bar counts estimated wall time in milliseconds ([`Plan::estimated_duration`]: every
//! cell's warmup, measurement and drains). It advances within a cell as the cell's time
//! passes (up to the cell's estimate) and jumps to the cell's end when it finishes, so the
//! time left ("left") is the estimate of the remaining cells from the start of the run.

use crate::engine::live::LiveStats;
use crate::plan::{Cell, Plan};
use crate::results::CellSummary;
use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

/// Reports cells as they start and end.
pub struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
    total: usize,
    live_line: Option<tokio::task::JoinHandle<()>>,
    /// Estimated ms of the cells finished so far.
    done_ms: u64,
    /// Estimated ms of the running cell.
    cell_ms: u64,
}

/// The time left on the bar.
fn time_left(state: &ProgressState, w: &mut dyn std::fmt::Write) {
    let _ = w.write_str(&left_text(state.len().unwrap_or(0), state.pos()));
}

/// `1m 05s` / `12s`: what is left of `len` ms at `pos`.
pub fn left_text(len: u64, pos: u64) -> String {
    let s = (len.saturating_sub(pos) + 500) / 1000;
    if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// Where the bar stands `elapsed` into a cell of `cell_ms` after `done_ms` of cells.
pub fn position(done_ms: u64, cell_ms: u64, elapsed: Duration) -> u64 {
    done_ms + (elapsed.as_millis() as u64).min(cell_ms)
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
            let bar = ProgressBar::new((plan.estimated_duration().as_millis() as u64).max(1));
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {left} left  {msg}",
            )
            .map(|s| s.with_key("left", time_left))
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
            done_ms: 0,
            cell_ms: 0,
        }
    }

    /// Announces a cell; on a terminal, its live figures and elapsed time move the bar.
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
        self.cell_ms = cell.estimated_duration().as_millis() as u64;
        if let Some(bar) = &self.bar {
            bar.set_message(what.clone());
            let at = (self.done_ms, self.cell_ms);
            self.live_line = Some(tokio::spawn(live_line(bar.clone(), what, live.clone(), at)));
        }
    }

    /// Reports a finished cell.
    pub fn finish_cell(&mut self, s: &CellSummary) {
        if let Some(task) = self.live_line.take() {
            task.abort();
        }
        self.done_ms += self.cell_ms;
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
                bar.set_position(self.done_ms.min(bar.length().unwrap_or(u64::MAX)));
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

/// Every 250 ms: the bar's position within the cell, and the running cell's req/s,
/// approximate p50/p99 and errors.
async fn live_line(bar: ProgressBar, what: String, live: Arc<LiveStats>, (done, cell): (u64, u64)) {
    let started = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut last = (live.snapshot().ok, tokio::time::Instant::now());
    loop {
        tick.tick().await;
        let now = tokio::time::Instant::now();
        bar.set_position(position(done, cell, now.duration_since(started)));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_advances_within_a_cell_up_to_its_estimate() {
        // 3 s of cells done, a 2.1 s cell 0.5 s in: 3.5 s; past its estimate it waits.
        assert_eq!(position(3000, 2100, Duration::from_millis(500)), 3500);
        assert_eq!(position(3000, 2100, Duration::from_secs(5)), 5100);
        assert_eq!(position(0, 2100, Duration::ZERO), 0);
    }

    #[test]
    fn time_left_counts_the_remaining_estimate() {
        // 82.5 s left half a second into an 83 s run: not 0 s.
        assert_eq!(left_text(83_000, 500), "1m 23s");
        assert_eq!(left_text(83_000, 78_000), "5s");
        assert_eq!(left_text(1000, 5000), "0s");
    }
}
