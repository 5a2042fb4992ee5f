//! The emulator's LLM endpoints through the client's streaming paths: the SDK's
//! `InvokeEndpointWithResponseStream` (`mode = "stream"`), the event-stream route the
//! emulator target uses, and OpenAI SSE; measured TTFT, ITL and TPOT against the model's
//! figures, continuous batching, and the KV-cache budget of each instance type.

use super::sse::stream_cell;
use crate::emulator::llm::{TIMING, endpoint, llm, small_llm, t4_and_a10g};
use crate::emulator::start;
use aws_sdk_sagemakerruntime::config::Credentials;
use loadtest::domain::{Deployment, Load};
use loadtest::emulator::Llm;
use loadtest::endpoint::openai::Framing;
use loadtest::endpoint::sagemaker::{SageMakerEndpoint, client_with_credentials};
use loadtest::engine::{CellOptions, run_cell};
use loadtest::payload;
use loadtest::plan::{Cell, PayloadFile};
use loadtest::profile::prompt::{Api, PromptSource, Prompts};
use loadtest::profile::{InvokeMode, PayloadSource, SageMakerTarget};
use loadtest::results::CellSummary;
use loadtest::results::histogram;
use loadtest::results::tokens::{CountedFrom, TokenSummary};
use loadtest::sample::ErrorKind;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

fn prompts(input: u32, output: u32) -> PayloadSource {
    PayloadSource::Prompt(Prompts {
        origin: PromptSource::Synthetic {
            input_tokens: vec![input],
        },
        output_tokens: vec![output],
        api: Api::Chat,
        model: "m".into(),
    })
}

fn cell(concurrency: u32, ms: u64) -> Cell {
    Cell {
        index: 0,
        deployment: Deployment::default(),
        payload_bytes: 0,
        payload_file: Some(PayloadFile {
            index: 0,
            name: "prompt".into(),
        }),
        load: Load::Closed { concurrency },
        duration: Duration::from_millis(ms),
        warmup: Duration::from_millis(100),
        timeout: Duration::from_secs(20),
        repeat: 1,
    }
}

/// A closed loop through the SDK against the emulator's `name` endpoint.
async fn sdk_cell(base_url: &str, name: &str, input: u32, output: u32, c: u32) -> CellSummary {
    let settings = SageMakerTarget {
        region: "us-east-1".into(),
        endpoint_url: Some(base_url.into()),
        endpoints: BTreeMap::new(),
        profile: None,
        mode: InvokeMode::Stream,
        custom_attributes: None,
        target_variant: None,
        target_model: None,
        target_container_hostname: None,
        inference_component: None,
        accept: None,
        retries: 0,
        input_location: None,
    };
    let creds = Credentials::new("AKIDLOADTESTDUMMY0001", "dummy", None, None, "tests");
    let timeout = Duration::from_secs(20);
    let client = client_with_credentials(&settings, timeout, 32, Some(creds))
        .await
        .expect("client");
    let endpoint = SageMakerEndpoint::new(client, name, &settings, "application/json", timeout);
    let cell = cell(c, 1_200);
    let bodies = payload::build_level(&prompts(input, output), 0, Some(0), 3).unwrap();
    let (_tx, cancel) = tokio::sync::watch::channel(false);
    let result = run_cell(
        &cell,
        Arc::new(endpoint),
        Arc::new(bodies),
        &CellOptions::seeded(7),
        cancel,
    )
    .await;
    CellSummary::from_result(&result)
}

/// Checks a low-load cell against the model: TTFT < end-to-end, every reply `output`
/// tokens by the server's count and by the stream's (gaps = replies × (output − 1)), ITL
/// mean within 10 % of the decode step.
fn check_low_load(s: &CellSummary, output: u32, step_ms: f64, what: &str) -> TokenSummary {
    let t = s
        .tokens
        .clone()
        .unwrap_or_else(|| panic!("{what}: no token figures: {s:?}"));
    assert_eq!(s.errors, 0, "{what}: {:?}", s.error_details);
    let (ttft, e2e) = (t.ttft.unwrap(), s.latency.unwrap());
    assert!(
        ttft.max_ms < e2e.p50_ms,
        "{what}: TTFT {ttft:?} vs end-to-end {e2e:?}"
    );
    assert_eq!(t.counted_from, CountedFrom::Usage, "{what}");
    assert_eq!(t.mean_output_tokens, f64::from(output), "{what}");
    let gaps = histogram::decode(&t.itl_histogram).unwrap().len();
    assert_eq!(
        gaps,
        t.replies * u64::from(output - 1),
        "{what}: one chunk per token"
    );
    let itl = t.itl.unwrap().mean_ms;
    assert!(
        (itl - step_ms).abs() <= 0.1 * step_ms,
        "{what}: ITL mean {itl} ms vs the model's {step_ms} ms step"
    );
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_streaming_path_measures_the_models_tokens_at_low_load() {
    let _alone = TIMING.lock().await;
    // llm-small on a T4 at real time: 8 ms per decode step at batch 1; 64 prompt tokens
    // prefill in 6.4 ms, so the first token comes after ~14.4 ms.
    let emu = small_llm("ml.g4dn.xlarge", 1.0).await;
    let sdk = sdk_cell(&emu.base_url(), "small", 64, 24, 1).await;
    let events = format!(
        "{}/endpoints/small/invocations-response-stream",
        emu.base_url()
    );
    let sse = format!("{}/chat/completions", emu.openai_base_url("small"));
    let routed = stream_cell(&events, Framing::EventStream, 24, 1, 1_200).await;
    let openai = stream_cell(&sse, Framing::Sse, 24, 1, 1_200).await;
    emu.stop().await;
    // The SDK cell sends 64 prompt tokens (14.4 ms to the first token), the others 8 (8.8 ms).
    let paths = [
        (&sdk, "SDK", 14.4),
        (&routed, "event stream", 8.8),
        (&openai, "SSE", 8.8),
    ];
    for (s, what, first_ms) in paths {
        let t = check_low_load(s, 24, 8.0, what);
        let ttft = t.ttft.unwrap().p50_ms;
        assert!(
            ttft >= first_ms,
            "{what}: TTFT {ttft} ms under prefill + one step"
        );
    }
    assert_eq!(
        sdk.tokens.unwrap().mean_input_tokens,
        64.0,
        "the emulator counts words"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tpot_grows_with_the_batch_on_a_gpu_instance() {
    let _alone = TIMING.lock().await;
    // llm-small on a T4: a step with b sequences takes 8 + 0.25 × (b − 1) ms.
    let emu = small_llm("ml.g4dn.xlarge", 1.0).await;
    let one = sdk_cell(&emu.base_url(), "small", 16, 48, 1).await;
    let many = sdk_cell(&emu.base_url(), "small", 16, 48, 24).await;
    emu.stop().await;
    let tpot = |s: &CellSummary| s.tokens.as_ref().unwrap().tpot.unwrap().p50_ms;
    let (t1, t24) = (tpot(&one), tpot(&many));
    assert!(
        (t1 - 8.0).abs() <= 0.8,
        "TPOT alone {t1} ms vs the 8 ms step"
    );
    // 24 in the batch: 8 + 23 × 0.25 = 13.75 ms per step (admitting new sequences adds more).
    assert!(
        t24 >= 13.75 * 0.9,
        "TPOT at c=24 {t24} ms vs the model's 13.75 ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_little_kv_cache_queues_requests_and_more_does_not() {
    let _alone = TIMING.lock().await;
    // A 7B-like model with a large KV cache per token (2 MiB, as a long-context model
    // without grouped-query attention), 10 ms decode steps on a T4 (5 ms on an A10G). A
    // sequence of 8 prompt and 100 output tokens reserves 108 tokens: a T4 (16 GiB × 0.9 −
    // 12.6 GiB = 1.8 GiB, 921 tokens) runs 8 at once, an A10G (9 GiB, 4,608 tokens) 42.
    let mut model = llm("llm-7b", 1.0);
    model.llm = Some(Llm {
        prefill_ms_per_token: 0.01,
        decode_ms: 10.0,
        decode_ms_per_seq: 0.1,
        weights_gib: 12.6,
        kv_kib_per_token: 2048.0,
        context_tokens: 4096,
    });
    let emu = t4_and_a10g(model).await;
    let small = sdk_cell(&emu.base_url(), "t4", 8, 100, 16).await;
    let large = sdk_cell(&emu.base_url(), "a10g", 8, 100, 16).await;
    emu.stop().await;
    let ttft = |s: &CellSummary| s.tokens.as_ref().unwrap().ttft.unwrap();
    let (queued, served) = (ttft(&small), ttft(&large));
    // On the T4, 8 of 16 wait for a running sequence to finish: ~100 steps of ~10.7 ms.
    assert!(
        queued.p90_ms > 500.0,
        "T4 TTFT {queued:?} should show the queue"
    );
    // On the A10G all 16 run at once: the first token comes a step after the request (plus
    // the client's and the emulator's own time for 16 streams), far from a generation.
    assert!(
        served.p90_ms * 3.0 < queued.p90_ms && served.p50_ms < 500.0,
        "A10G TTFT {served:?} should not queue (T4: {queued:?})"
    );
    eprintln!(
        "KV test: TTFT p90 T4 {} ms, A10G {} ms",
        queued.p90_ms, served.p90_ms
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_stream_error_mid_stream_is_a_stream_error_with_its_message() {
    let mut spec = endpoint("faulty", "ml.g5.xlarge", llm("llm-small", 0.2));
    spec.faults.stream_error_rate = 1.0;
    let emu = start(vec![spec]).await;
    let sdk = sdk_cell(&emu.base_url(), "faulty", 8, 16, 2).await;
    let sse = format!("{}/chat/completions", emu.openai_base_url("faulty"));
    let openai = stream_cell(&sse, Framing::Sse, 16, 2, 400).await;
    emu.stop().await;
    for (s, what) in [(&sdk, "SDK"), (&openai, "SSE")] {
        assert!(s.ok == 0 && s.errors > 0, "{what}: {s:?}");
        assert_eq!(s.errors_by_kind[&ErrorKind::Stream], s.errors, "{what}");
        let said = &s.error_details[&ErrorKind::Stream].messages;
        assert!(
            said[0].starts_with("ModelStreamError: "),
            "{what}: {said:?}"
        );
    }
}
