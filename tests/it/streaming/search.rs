//! The SLA search on token limits against the emulator's LLM: the highest concurrency that
//! meets `[sla] ttft_ms` (or `tpot_ms`) is where the model says it is, and an instance type
//! whose KV cache holds few sequences stops earlier than a larger GPU.
//!
//! The model: llm-7b's decode step at a fifth of real time, 6 ms per further running sequence
//! (model time on a T4) so that TPOT clearly grows with the batch, 16 MiB of KV cache per
//! token and no prefill cost, with prompts of 8 tokens and 24 generated: a sequence reserves
//! 32 tokens, so a T4 (1.8 GiB free beside the weights) runs 3 at once and an A10G (9 GiB)
//! 18; the A10G is twice as fast.

use super::openai_profile;
use crate::bin::{only_run_dir, quiet_run, temp_dir};
use crate::emulator::llm::{TIMING, kv_bound_7b, t4_and_a10g};
use loadtest::emulator::Model;
use loadtest::plan::search::Found;
use loadtest::store::record;

fn model() -> Model {
    let mut model = kv_bound_7b();
    if let Some(l) = model.llm.as_mut() {
        l.decode_ms_per_seq = 6.0;
    }
    model
}

/// Searches concurrency 1..=32 on `base_url` under `sla`; what the search found.
async fn search(tag: &str, base_url: String, sla: &str) -> (Found, record::RunRecord) {
    let dir = temp_dir(&format!("token-search-{tag}"));
    let profile = dir.join("p.toml");
    let rest = format!(
        r#"[sweep]
load = {{ mode = "search", min_concurrency = 1, max_concurrency = 32 }}
duration = "1200ms"
warmup = "300ms"
[payload]
source = "prompt"
input_tokens = [8]
output_tokens = [24]
[sla]
percentile = 99
max_error_rate = 0.01
{sla}
"#
    );
    std::fs::write(&profile, openai_profile("token-search", &base_url, &rest)).unwrap();
    let out_dir = dir.join("out");
    let out = quiet_run(&profile, &out_dir).await;
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = record::read(&only_run_dir(&out_dir).join("summary.json")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(summary.searches.len(), 1, "{:?}", summary.searches);
    (summary.searches[0].found, summary)
}

fn passed(found: Found) -> f64 {
    match found {
        Found::Between { passed, .. } | Found::AtLeast(passed) => passed,
        Found::NothingPasses => 0.0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ttft_search_stops_where_the_kv_cache_runs_out() {
    let _alone = TIMING.lock().await;
    let emu = t4_and_a10g(model()).await;
    // One more sequence than fit waits a whole reply (24 steps, ≥ 200 ms) for its first
    // token: over a 100 ms TTFT limit, so the search stops at the KV cache's capacity.
    let sla = "ttft_ms = 100";
    let (t4, t4_run) = search("ttft-t4", emu.openai_base_url("t4"), sla).await;
    let (a10g, _) = search("ttft-a10g", emu.openai_base_url("a10g"), sla).await;
    emu.stop().await;
    eprintln!("TTFT search: ml.g4dn.xlarge {t4:?}, ml.g5.xlarge {a10g:?}");
    assert!(
        matches!(t4, Found::Between { passed, failed } if (2.0..=3.0).contains(&passed) && failed <= 4.0),
        "T4 holds 3 sequences: {t4:?}"
    );
    assert!(
        matches!(a10g, Found::Between { passed, failed } if (14.0..=18.0).contains(&passed) && failed <= 20.0),
        "A10G holds 18 sequences: {a10g:?}"
    );
    // Every probe judged TTFT: the failing ones are over the limit.
    let over = t4_run
        .cells
        .iter()
        .filter(|c| c.load.level() > 3.0)
        .all(|c| {
            c.tokens
                .as_ref()
                .and_then(|t| t.ttft)
                .is_some_and(|t| t.p99_ms > 100.0)
        });
    assert!(over, "probes past capacity have TTFT p99 over 100 ms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tpot_search_stops_where_the_batch_makes_steps_too_long() {
    let _alone = TIMING.lock().await;
    let step = |b: usize, speed: f64| model().llm.unwrap().step_ms(b, speed) * 0.2;
    // A10G: (45 + (b − 1) × 6) × 0.2 / 2 = 4.5 + 0.6 (b − 1) ms per token, so a 10 ms TPOT
    // holds up to 10 sequences; a T4 is over 10 ms from 2 sequences on.
    let limit_ms = 10.0;
    let fits = (1..=32)
        .filter(|b| step(*b, 2.0) <= limit_ms)
        .max()
        .unwrap();
    assert_eq!(fits, 10);
    let emu = t4_and_a10g(model()).await;
    let sla = format!("tpot_ms = {limit_ms}");
    let (t4, _) = search("tpot-t4", emu.openai_base_url("t4"), &sla).await;
    let (a10g, _) = search("tpot-a10g", emu.openai_base_url("a10g"), &sla).await;
    emu.stop().await;
    eprintln!("TPOT search: ml.g4dn.xlarge {t4:?}, ml.g5.xlarge {a10g:?}");
    // Timer granularity adds up to about a millisecond a step, so allow a few sequences less.
    assert!(
        (6.0..=10.0).contains(&passed(a10g)) && matches!(a10g, Found::Between { .. }),
        "A10G: model says {fits}, found {a10g:?}"
    );
    assert!(
        passed(t4) <= 1.0,
        "T4 steps are over 10 ms from batch 2: {t4:?}"
    );
}
