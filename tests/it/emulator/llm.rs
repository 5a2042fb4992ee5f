//! LLM endpoints: tokens over SageMaker's response stream (through the real SDK, dummy
//! credentials, `endpoint_url` = the emulator on 127.0.0.1) and over OpenAI SSE (reqwest),
//! with the model's token timing, usage, errors before the stream and faults during it.

use super::{client, start};
use aws_sdk_sagemakerruntime::Client;
use aws_sdk_sagemakerruntime::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sagemakerruntime::primitives::Blob;
use aws_sdk_sagemakerruntime::types::ResponseStream;
use loadtest::domain::Hosting;
use loadtest::emulator::{EndpointSpec, Faults, Model, Running, ServiceDistribution};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Keeps the timing tests of this file and `llm_load` from running at the same time.
pub static TIMING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// An LLM preset without step jitter, at `time_scale`.
pub fn llm(preset: &str, time_scale: f64) -> Model {
    Model {
        service: ServiceDistribution::Fixed,
        ..Model::preset(preset)
            .expect("LLM preset")
            .with_time_scale(time_scale)
    }
}

/// A real-time LLM endpoint.
pub fn endpoint(name: &str, instance_type: &str, model: Model) -> EndpointSpec {
    EndpointSpec::new(name, Hosting::RealTime, instance_type, model)
}

/// An emulator serving one real-time endpoint `small`: the llm-small preset on
/// `instance_type`, at `time_scale`.
pub async fn small_llm(instance_type: &str, time_scale: f64) -> Running {
    start(vec![endpoint(
        "small",
        instance_type,
        llm("llm-small", time_scale),
    )])
    .await
}

/// llm-7b's weights and step at a fifth of real time, with 16 MiB of KV cache per token and
/// no prefill cost, so that short requests show how many sequences fit: a T4 holds 1.8 GiB /
/// 16 MiB = 115 tokens (3 sequences of 8 + 24 tokens), an A10G 9 GiB = 576 tokens (18).
pub fn kv_bound_7b() -> Model {
    let mut model = llm("llm-7b", 0.2);
    if let Some(l) = model.llm.as_mut() {
        l.kv_kib_per_token = 16_384.0;
        l.prefill_ms_per_token = 0.0;
    }
    model
}

/// An emulator serving `model` as the real-time endpoints `t4` (ml.g4dn.xlarge) and `a10g`
/// (ml.g5.xlarge).
pub async fn t4_and_a10g(model: Model) -> Running {
    start(vec![
        endpoint("t4", "ml.g4dn.xlarge", model.clone()),
        endpoint("a10g", "ml.g5.xlarge", model),
    ])
    .await
}

/// A prompt of `words` tokens.
pub fn prompt(words: usize) -> String {
    vec!["tok"; words].join(" ")
}

/// A chat request body.
pub fn chat_body(words: usize, max_tokens: u32, stream: bool) -> String {
    serde_json::json!({
        "model": "m",
        "messages": [{"role": "user", "content": prompt(words)}],
        "max_tokens": max_tokens,
        "stream": stream,
        "ignore_eos": true,
        "stream_options": {"include_usage": true},
    })
    .to_string()
}

/// What a client saw of one stream: every SSE event's JSON (or `[DONE]`) with its arrival.
#[derive(Debug, Default)]
pub struct Seen {
    /// (arrival since the request was sent, the event's data).
    pub events: Vec<(Duration, String)>,
    /// The error that ended the stream, if any.
    pub error: Option<String>,
    /// Time from sending to the end of the stream.
    pub end_to_end: Duration,
}

impl Seen {
    /// Arrivals of the chunks that carry a token.
    pub fn token_times(&self) -> Vec<Duration> {
        self.events
            .iter()
            .filter(|(_, data)| data != "[DONE]")
            .filter(|(_, data)| {
                let v: Value = serde_json::from_str(data).expect("JSON chunk");
                v["choices"].as_array().is_some_and(|c| !c.is_empty())
            })
            .map(|(at, _)| *at)
            .collect()
    }

    /// Time to the first token.
    pub fn ttft(&self) -> Duration {
        self.token_times().first().copied().expect("a token")
    }

    /// Mean gap between tokens.
    pub fn mean_itl(&self) -> Duration {
        let times = self.token_times();
        assert!(times.len() >= 2, "{times:?}");
        (times[times.len() - 1] - times[0]) / (times.len() as u32 - 1)
    }

    /// The JSON of every event but `[DONE]`.
    pub fn json(&self) -> Vec<Value> {
        self.events
            .iter()
            .filter(|(_, d)| d != "[DONE]")
            .map(|(_, d)| serde_json::from_str(d).expect("JSON chunk"))
            .collect()
    }
}

/// Splits complete SSE events off the front of `buffer`.
fn take_events(buffer: &mut String, at: Duration, seen: &mut Seen) {
    while let Some(end) = buffer.find("\n\n") {
        let event: String = buffer.drain(..end + 2).collect();
        let data = event
            .trim_end()
            .strip_prefix("data: ")
            .unwrap_or_else(|| panic!("not an SSE data event: {event:?}"));
        seen.events.push((at, data.to_string()));
    }
}

/// An SDK client for the emulator, with dummy credentials.
pub fn sdk(emu: &Running) -> Client {
    let config = aws_sdk_sagemakerruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDDUMMY", "dummy", None, None, "tests"))
        .endpoint_url(emu.base_url())
        .build();
    Client::from_conf(config)
}

/// One `InvokeEndpointWithResponseStream` through the SDK, every event timed.
pub async fn sdk_stream(client: &Client, endpoint: &str, body: String) -> Seen {
    let sent = Instant::now();
    let output = client
        .invoke_endpoint_with_response_stream()
        .endpoint_name(endpoint)
        .content_type("application/json")
        .body(Blob::new(body))
        .send()
        .await
        .expect("stream starts");
    assert_eq!(output.content_type(), Some("text/event-stream"));
    let mut stream = output.body;
    let mut seen = Seen::default();
    let mut buffer = String::new();
    for _ in 0..100_000 {
        match stream.recv().await {
            Ok(Some(ResponseStream::PayloadPart(part))) => {
                let bytes = part.bytes.expect("payload bytes").into_inner();
                buffer.push_str(std::str::from_utf8(&bytes).expect("UTF-8"));
                take_events(&mut buffer, sent.elapsed(), &mut seen);
            }
            Ok(Some(other)) => panic!("unexpected event {other:?}"),
            Ok(None) => break,
            Err(e) => {
                seen.error = Some(format!(
                    "{}",
                    aws_sdk_sagemakerruntime::error::DisplayErrorContext(&e)
                ));
                break;
            }
        }
    }
    assert!(buffer.is_empty(), "a partial event is left: {buffer:?}");
    seen.end_to_end = sent.elapsed();
    seen
}

/// One OpenAI streaming request over reqwest, every event timed.
pub async fn sse_stream(url: &str, body: String) -> Seen {
    sse_stream_with(&client(), url, body).await
}

/// [`sse_stream`] on a given client (so its setup is not timed).
pub async fn sse_stream_with(http: &reqwest::Client, url: &str, body: String) -> Seen {
    let sent = Instant::now();
    let mut response = http
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("stream starts");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().ok(),
        Some("text/event-stream")
    );
    let mut seen = Seen::default();
    let mut buffer = String::new();
    for _ in 0..100_000 {
        match response.chunk().await {
            Ok(Some(bytes)) => {
                buffer.push_str(std::str::from_utf8(&bytes).expect("UTF-8"));
                take_events(&mut buffer, sent.elapsed(), &mut seen);
            }
            Ok(None) => break,
            Err(e) => {
                seen.error = Some(e.to_string());
                break;
            }
        }
    }
    assert!(buffer.is_empty(), "a partial event is left: {buffer:?}");
    seen.end_to_end = sent.elapsed();
    seen
}

/// The checks every complete stream passes: `max_tokens` token chunks, the last with
/// `finish_reason` `length`, then a usage chunk saying so, then `[DONE]`.
fn check_complete(seen: &Seen, prompt_tokens: u64, max_tokens: u64) {
    assert_eq!(seen.error, None);
    assert_eq!(seen.token_times().len() as u64, max_tokens);
    let json = seen.json();
    let last_token = &json[json.len() - 2];
    assert_eq!(last_token["choices"][0]["finish_reason"], "length");
    let usage = &json[json.len() - 1]["usage"];
    assert_eq!(usage["completion_tokens"], max_tokens);
    assert_eq!(usage["prompt_tokens"], prompt_tokens);
    assert_eq!(usage["total_tokens"], prompt_tokens + max_tokens);
    assert_eq!(seen.events.last().map(|(_, d)| d.as_str()), Some("[DONE]"));
    assert!(seen.ttft() < seen.end_to_end, "{seen:?}");
}

fn assert_within(measured: Duration, expected: Duration, tolerance: f64, what: &str) {
    let ratio = measured.as_secs_f64() / expected.as_secs_f64();
    assert!(
        (ratio - 1.0).abs() <= tolerance,
        "{what}: measured {measured:?}, model {expected:?} (ratio {ratio:.3})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_response_stream_carries_every_token_at_the_decode_step() {
    let _alone = TIMING.lock().await;
    // llm-small on a T4 at real time: 8 ms per step at batch 1, first token after
    // 8 ms + 100 × 0.1 ms of prefill.
    let emu = small_llm("ml.g4dn.xlarge", 1.0).await;
    let sdk = sdk(&emu);
    // A first one-token stream opens the connection, so its setup is not in the TTFT.
    sdk_stream(&sdk, "small", chat_body(1, 1, true)).await;
    let seen = sdk_stream(&sdk, "small", chat_body(100, 32, true)).await;
    emu.stop().await;
    check_complete(&seen, 100, 32);
    eprintln!(
        "llm-small on ml.g4dn.xlarge via the SDK: TTFT {:?} (model 18 ms), ITL {:?} (model 8 ms), end to end {:?}",
        seen.ttft(),
        seen.mean_itl(),
        seen.end_to_end
    );
    let chunk = &seen.json()[0];
    assert_eq!(chunk["object"], "chat.completion.chunk");
    assert_eq!(chunk["choices"][0]["delta"]["content"], " tok");
    assert_within(seen.mean_itl(), Duration::from_millis(8), 0.10, "ITL");
    assert!(
        seen.ttft() >= Duration::from_millis(17),
        "{:?}",
        seen.ttft()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_sse_streams_chat_and_completions_at_the_decode_step() {
    let _alone = TIMING.lock().await;
    // llm-7b on an A10G (speed 2) at real time: 45 / 2 = 22.5 ms per step.
    let emu = start(vec![endpoint("big", "ml.g5.xlarge", llm("llm-7b", 1.0))]).await;
    let base = emu.openai_base_url("big");
    let http = client();
    let chat_url = format!("{base}/chat/completions");
    sse_stream_with(&http, &chat_url, chat_body(1, 1, true)).await;
    let chat = sse_stream_with(&http, &chat_url, chat_body(16, 20, true)).await;
    let body =
        serde_json::json!({"model": "m", "prompt": prompt(5), "max_tokens": 12, "stream": true});
    let only = format!("{}/v1/completions", emu.base_url());
    let completion = sse_stream(&only, body.to_string()).await;
    let models = client()
        .get(format!("{}/v1/models", emu.base_url()))
        .send()
        .await
        .expect("models");
    let models = super::json(models).await;
    assert_eq!(models["data"][0]["id"], "llm-7b");
    emu.stop().await;
    check_complete(&chat, 16, 20);
    eprintln!(
        "llm-7b on ml.g5.xlarge over SSE: TTFT {:?} (model {:?}), ITL {:?} (model 22.5 ms)",
        chat.ttft(),
        Duration::from_secs_f64((22.5 + 16.0 * 0.25) / 1000.0),
        chat.mean_itl()
    );
    assert_within(
        chat.mean_itl(),
        Duration::from_micros(22_500),
        0.10,
        "chat ITL",
    );
    check_complete(&completion, 5, 12);
    assert_eq!(completion.json()[0]["object"], "text_completion");
    assert_eq!(completion.json()[0]["choices"][0]["text"], " tok");
    assert_within(
        completion.mean_itl(),
        Duration::from_micros(22_500),
        0.10,
        "completions ITL",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mid_stream_fault_is_an_error_event_not_a_panic() {
    let faulty = EndpointSpec {
        faults: Faults {
            stream_error_rate: 1.0,
            ..Faults::default()
        },
        ..endpoint("flaky", "ml.g5.xlarge", llm("llm-small", 0.1))
    };
    let emu = start(vec![faulty]).await;
    let sdk = sdk(&emu);
    let seen = sdk_stream(&sdk, "flaky", chat_body(4, 10, true)).await;
    let error = seen.error.clone().expect("the SDK reports the failure");
    assert!(error.contains("ModelStreamError"), "{error}");
    assert!(error.contains("failed after 5 of 10 tokens"), "{error}");
    assert_eq!(seen.token_times().len(), 5);
    let url = format!("{}/chat/completions", emu.openai_base_url("flaky"));
    let sse = sse_stream(&url, chat_body(4, 10, true)).await;
    emu.stop().await;
    assert_eq!(sse.token_times().len(), 5);
    let last = sse.json().pop().expect("events");
    assert_eq!(last["error"]["code"], "ModelStreamError", "{last}");
    assert!(sse.events.iter().all(|(_, d)| d != "[DONE]"));
}

#[tokio::test]
async fn requests_over_the_context_or_the_kv_cache_are_refused_before_the_stream() {
    // llm-7b on a T4 holds 3686 tokens of KV cache; its context is 4096 tokens.
    let emu = start(vec![endpoint("big", "ml.g4dn.xlarge", llm("llm-7b", 0.01))]).await;
    let url = format!("{}/chat/completions", emu.openai_base_url("big"));
    let http = client();
    let cases = [
        (chat_body(4000, 200, true), "maximum context length is 4096"),
        (chat_body(3000, 700, true), "holds 3686"),
        ("{\"prompt\": 3}".to_string(), "OpenAI-style JSON"),
    ];
    for (body, expected) in cases {
        let answer = http.post(&url).body(body).send().await.expect("answer");
        assert_eq!(answer.status(), 400);
        let text = answer.text().await.expect("body");
        assert!(text.contains(expected), "{text}");
    }
    emu.stop().await;
}

#[tokio::test]
async fn invoke_endpoint_answers_an_llm_request_whole() {
    let emu = small_llm("ml.g5.xlarge", 0.05).await;
    let answer = sdk(&emu)
        .invoke_endpoint()
        .endpoint_name("small")
        .content_type("application/json")
        .body(Blob::new(chat_body(3, 4, false)))
        .send()
        .await
        .expect("InvokeEndpoint");
    emu.stop().await;
    let body: Value = serde_json::from_slice(answer.body.expect("body").as_ref()).expect("JSON");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["message"]["content"], " tok tok tok tok");
    assert_eq!(body["usage"]["completion_tokens"], 4);
    assert_eq!(body["usage"]["prompt_tokens"], 3);
}

#[tokio::test]
async fn a_first_token_later_than_the_sixty_second_limit_is_a_model_error() {
    // 100 s of prefill for a one-word prompt on an A10G (speed 2); at time_scale 0.001 the
    // 60 s limit is 60 ms.
    let mut slow = llm("llm-small", 0.001);
    if let Some(l) = slow.llm.as_mut() {
        l.prefill_ms_per_token = 200_000.0;
    }
    let emu = start(vec![endpoint("slow", "ml.g5.xlarge", slow)]).await;
    let url = format!("{}/chat/completions", emu.openai_base_url("slow"));
    let answer = client()
        .post(&url)
        .body(chat_body(1, 4, true))
        .send()
        .await
        .expect("answer");
    assert_eq!(answer.status(), 424);
    assert_eq!(
        super::classify(&answer),
        loadtest::sample::ErrorKind::ModelError
    );
    let text = answer.text().await.expect("body");
    assert!(
        text.contains("timed out while waiting for the first token"),
        "{text}"
    );
    emu.stop().await;
}

/// With more than one endpoint deployed, the root OpenAI path says which paths to use
/// instead, in one readable sentence.
#[tokio::test]
async fn the_root_openai_path_names_the_per_endpoint_paths_when_several_are_deployed() {
    let emu = start(vec![
        endpoint("a", "ml.g5.xlarge", llm("llm-small", 0.01)),
        endpoint("b", "ml.g5.xlarge", llm("llm-small", 0.01)),
    ])
    .await;
    let answer = client()
        .post(format!("{}/v1/chat/completions", emu.base_url()))
        .header("content-type", "application/json")
        .body(chat_body(4, 4, false))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 400);
    let text = answer.text().await.unwrap();
    emu.stop().await;
    assert!(
        text.contains("2 are deployed; use /endpoints/{name}/openai/v1/..."),
        "{text}"
    );
}
