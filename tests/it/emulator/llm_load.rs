//! LLM endpoints under load: the decode step grows with the running batch as the model
//! says, and an instance type whose KV cache holds too few sequences queues them (TTFT
//! grows) while a larger GPU does not; the profile's `[model]` resolves the LLM presets.

use super::llm::{TIMING, chat_body, endpoint, kv_bound_7b, llm, sse_stream_with, t4_and_a10g};
use super::{client, start};
use loadtest::profile::Target;
use std::time::Duration;

/// Sends `n` streams at once to `url` and waits for all of them, after opening `n`
/// connections with one-token requests (so connection setup is not in the TTFT).
async fn concurrent(url: &str, n: usize, body: &str) -> Vec<super::llm::Seen> {
    let http = client();
    let warm = chat_body(1, 1, true);
    launch(&http, url, n, &warm).await;
    launch(&http, url, n, body).await
}

async fn launch(http: &reqwest::Client, url: &str, n: usize, body: &str) -> Vec<super::llm::Seen> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (url, body, http) = (url.to_string(), body.to_string(), http.clone());
            tokio::spawn(async move { sse_stream_with(&http, &url, body).await })
        })
        .collect();
    let mut seen = Vec::new();
    for task in tasks {
        seen.push(task.await.expect("stream task"));
    }
    seen
}

fn mean(values: impl Iterator<Item = Duration>) -> Duration {
    let all: Vec<_> = values.collect();
    all.iter().sum::<Duration>() / u32::try_from(all.len()).expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_decode_step_grows_with_the_running_batch() {
    let _alone = TIMING.lock().await;
    // llm-7b on an A10G at half real time: (45 + (b − 1) × 1.5) / 2 × 0.5 ms,
    // 11.25 ms alone and 16.875 ms in a batch of 16.
    let model = llm("llm-7b", 0.5);
    let step = |b: usize| {
        let ms = model.llm.expect("LLM").step_ms(b, 2.0) * 0.5;
        Duration::from_secs_f64(ms / 1000.0)
    };
    let emu = start(vec![endpoint("big", "ml.g5.xlarge", model.clone())]).await;
    let url = format!("{}/chat/completions", emu.openai_base_url("big"));
    let body = chat_body(8, 30, true);
    let alone = concurrent(&url, 1, &body).await;
    let sixteen = concurrent(&url, 16, &body).await;
    emu.stop().await;
    let itl_1 = alone[0].mean_itl();
    let itl_16 = mean(sixteen.iter().map(|s| s.mean_itl()));
    eprintln!(
        "llm-7b on ml.g5.xlarge ×0.5: ITL batch 1 {itl_1:?} (model {:?}), batch 16 {itl_16:?} (model {:?})",
        step(1),
        step(16)
    );
    let ratio =
        |measured: Duration, expected: Duration| measured.as_secs_f64() / expected.as_secs_f64();
    assert!(
        (ratio(itl_1, step(1)) - 1.0).abs() < 0.10,
        "batch 1: {itl_1:?} vs {:?}",
        step(1)
    );
    // The sixteen streams share most steps; a straggler joining a step late runs a few
    // steps at batch 15, so allow 10 % either way.
    assert!(
        (ratio(itl_16, step(16)) - 1.0).abs() < 0.10,
        "batch 16: {itl_16:?} vs {:?}",
        step(16)
    );
    assert!(itl_16 > itl_1.mul_f64(1.3), "{itl_16:?} vs {itl_1:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_little_kv_cache_queues_sequences_and_a_larger_gpu_does_not() {
    let _alone = TIMING.lock().await;
    // A T4 holds 3 sequences of 8 + 24 tokens, an A10G 18 (see `kv_bound_7b`).
    let emu = t4_and_a10g(kv_bound_7b()).await;
    let body = chat_body(8, 24, true);
    let t4_url = format!("{}/chat/completions", emu.openai_base_url("t4"));
    let a10g_url = format!("{}/chat/completions", emu.openai_base_url("a10g"));
    let t4 = concurrent(&t4_url, 8, &body).await;
    let a10g = concurrent(&a10g_url, 8, &body).await;
    emu.stop().await;
    let ttft =
        |runs: &[super::llm::Seen]| -> Vec<Duration> { runs.iter().map(|s| s.ttft()).collect() };
    let (t4_ttft, a10g_ttft) = (ttft(&t4), ttft(&a10g));
    eprintln!("TTFT of 8 streams: ml.g4dn.xlarge {t4_ttft:?}, ml.g5.xlarge {a10g_ttft:?}");
    for seen in t4.iter().chain(&a10g) {
        assert_eq!(seen.token_times().len(), 24);
    }
    // T4: three run at once, so five of the eight wait at least one round of 24 steps
    // of (45 + 2 × 1.5) × 0.2 = 9.6 ms (230 ms); an A10G runs all eight from the first steps.
    let round = Duration::from_secs_f64(24.0 * 9.6 / 1000.0);
    let waited = t4_ttft.iter().filter(|t| **t > round.mul_f64(0.8)).count();
    assert!(waited >= 5, "T4 TTFTs {t4_ttft:?}, round {round:?}");
    let a10g_max = a10g_ttft.iter().max().copied().unwrap_or_default();
    assert!(a10g_max < round / 2, "A10G TTFTs {a10g_ttft:?}");
    let t4_mean = mean(t4_ttft.into_iter());
    let a10g_mean = mean(a10g_ttft.into_iter());
    assert!(t4_mean > a10g_mean * 2, "{t4_mean:?} vs {a10g_mean:?}");
}

#[test]
fn a_profile_model_table_resolves_llm_presets_and_parameters() {
    let text = r#"
name = "llm"
[target]
kind = "emulator"
[model]
preset = "llm-7b"
decode_ms_per_seq = 2.0
[sweep]
instance_types = ["ml.g5.xlarge"]
load = { mode = "closed", concurrency = [1] }
duration = "1s"
"#;
    let profile =
        loadtest::profile::parse(text, std::path::Path::new("llm.toml")).expect("profile");
    let Target::Emulator(emu) = &profile.target else {
        panic!("emulator target");
    };
    let llm = emu.model.llm.expect("an LLM model");
    assert_eq!(emu.model.name, "llm-7b");
    assert_eq!(llm.decode_ms, 45.0);
    assert_eq!(llm.decode_ms_per_seq, 2.0);
    assert_eq!(emu.model.memory_mb, 12_903);
    let typo = text.replace("decode_ms_per_seq", "decode_ms_per_sequence");
    let err = loadtest::profile::parse(&typo, std::path::Path::new("llm.toml")).unwrap_err();
    assert!(err.to_string().contains("decode_ms_per_seq"), "{err}");
}
