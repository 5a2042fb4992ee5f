//! Two stored runs of a streamed workload where only the prefill got slower: `loadtest
//! compare` flags TTFT (p50 and p99), not the medians of the rest, and exits 1; each run folder holds the
//! TTFT, ITL and TPOT histograms as .hgrm/.hlog files that read back to summary.json's, and a
//! per-second token series drawn in the timeline.

use super::openai_profile;
use crate::bin::{loadtest, only_run_dir, quiet_run, temp_dir};
use crate::emulator::llm::{TIMING, endpoint, llm};
use crate::emulator::start;
use crate::report::read_hlog;
use loadtest::emulator::Model;
use loadtest::results::histogram;
use loadtest::store::record;
use std::path::{Path, PathBuf};

/// llm-small on an A10G with `prefill_ms` per prompt token.
fn model(prefill_ms: f64) -> Model {
    let mut m = llm("llm-small", 1.0);
    if let Some(l) = m.llm.as_mut() {
        l.prefill_ms_per_token = prefill_ms;
    }
    m
}

/// One closed-loop cell of one stream at a time (so one reply's prefill never lands between
/// another's tokens), 32-token prompts, 128 generated.
async fn run(dir: &Path, tag: &str, base_url: String) -> PathBuf {
    let profile = dir.join(format!("{tag}.toml"));
    let rest = r#"[sweep]
load = { mode = "closed", concurrency = [1] }
duration = "3s"
warmup = "300ms"
[payload]
source = "prompt"
input_tokens = [32]
output_tokens = [128]
"#;
    std::fs::write(&profile, openai_profile("stream-compare", &base_url, rest)).unwrap();
    let out = dir.join(tag);
    let result = quiet_run(&profile, &out).await;
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    only_run_dir(&out)
}

/// The token files of the run's one cell, and the series and timeline.
fn check_token_files(run: &Path) {
    let summary = record::read(&run.join("summary.json")).unwrap();
    let cell = &summary.cells[0];
    let t = cell.tokens.as_ref().expect("a streamed cell");
    let names: Vec<String> = std::fs::read_dir(run)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for metric in ["ttft", "itl", "tpot"] {
        for ext in ["hgrm", "hlog"] {
            assert!(
                names
                    .iter()
                    .any(|n| n.ends_with(&format!("-{metric}.{ext}"))),
                "{metric}.{ext} in {names:?}"
            );
        }
    }
    let ttft_log = names.iter().find(|n| n.ends_with("-ttft.hlog")).unwrap();
    assert_eq!(
        read_hlog(&run.join(ttft_log)).0,
        histogram::decode(&t.ttft_histogram).unwrap()
    );
    let tpot_log = names.iter().find(|n| n.ends_with("-tpot.hlog")).unwrap();
    assert_eq!(
        read_hlog(&run.join(tpot_log)).0,
        histogram::decode(&t.tpot_histogram).unwrap()
    );
    assert_eq!(
        t.series.len(),
        cell.series.len(),
        "the latency series' seconds"
    );
    assert!(
        t.series.iter().all(|s| s.output_tokens_per_s > 0.0),
        "{:?}",
        t.series
    );
    assert!(
        t.series.iter().any(|s| s.ttft_p99_ms.is_some()),
        "{:?}",
        t.series
    );
    let streamed: u64 = t.series.iter().map(|s| s.output_tokens).sum();
    assert!(
        streamed >= t.output_tokens / 2,
        "{streamed} of {}",
        t.output_tokens
    );
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(
        html.contains("output tokens/s") && html.contains("TTFT p99 per second"),
        "the timeline draws the token series"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slower_prefill_is_a_ttft_regression_and_nothing_else() {
    let _alone = TIMING.lock().await;
    // Prefill of 32 tokens on an A10G: 0.1 ms → 1.6 ms, 1.5 ms → 24 ms; the reply's 128
    // decode steps of 4 ms (512 ms) are the same, so end-to-end latency moves by ~4 %.
    let emu = start(vec![
        endpoint("base", "ml.g5.xlarge", model(0.1)),
        endpoint("slow", "ml.g5.xlarge", model(1.5)),
    ])
    .await;
    let dir = temp_dir("stream-compare");
    let base = run(&dir, "base", emu.openai_base_url("base")).await;
    let cur = run(&dir, "cur", emu.openai_base_url("slow")).await;
    emu.stop().await;
    check_token_files(&base);
    let out = loadtest()
        .arg("compare")
        .arg(&base)
        .arg(&cur)
        .arg("--out")
        .arg(dir.join("cmp"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let worse: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains(" worse") && !l.starts_with("REGRESSION"))
        .collect();
    let is_worse = |metric: &str| worse.iter().any(|l| l.contains(&format!("  {metric}  ")));
    assert!(is_worse("ttft_p50") && is_worse("ttft_p99"), "{stdout}");
    // The medians of everything else hold. (Alone on a machine no other row is worse at all;
    // on a busy one a single stalled gap can move a p99 of ITL past its low-confidence margin.)
    for metric in ["p50", "tpot_p50", "itl_p50", "error_rate"] {
        assert!(!is_worse(metric), "{metric} in {stdout}");
    }
    for metric in ["tpot_p50", "tpot_p99", "itl_p50", "itl_p99", "p99"] {
        assert!(
            stdout.lines().any(|l| l.contains(&format!("  {metric}  "))),
            "{metric} row in {stdout}"
        );
    }
    let junit = std::fs::read_to_string(dir.join("cmp").join("compare-junit.xml")).unwrap();
    // One JUnit failure per row the terminal calls worse, the TTFT rows among them.
    let failures = format!(r#"failures="{}""#, worse.len());
    assert!(
        junit.contains(r#"name="ttft_p99""#) && junit.contains(&failures),
        "{failures} in {junit}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
