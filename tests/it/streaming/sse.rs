//! OpenAI SSE streams from our own server through the engine: TTFT, ITL, TPOT and token
//! counts against what the server did, and malformed streams as `stream` errors.

use super::server::{Behaviour, Mode, SseServer};
use loadtest::domain::{Deployment, Load};
use loadtest::endpoint::http::{ClientSettings, client};
use loadtest::endpoint::openai::{Framing, StreamEndpoint, StreamSettings};
use loadtest::engine::{CellOptions, run_cell};
use loadtest::payload;
use loadtest::plan::{Cell, PayloadFile};
use loadtest::profile::PayloadSource;
use loadtest::profile::prompt::{Api, PromptSource, Prompts};
use loadtest::results::CellSummary;
use loadtest::results::tokens::CountedFrom;
use loadtest::sample::ErrorKind;
use std::sync::Arc;
use std::time::Duration;

fn prompts(output: u32) -> PayloadSource {
    PayloadSource::Prompt(Prompts {
        origin: PromptSource::Synthetic {
            input_tokens: vec![8],
        },
        output_tokens: vec![output],
        api: Api::Chat,
        model: "m".into(),
    })
}

/// Runs a closed loop of `concurrency` for `ms` against `url`, framed as `framing`.
pub(crate) async fn stream_cell(
    url: &str,
    framing: Framing,
    output: u32,
    concurrency: u32,
    ms: u64,
) -> CellSummary {
    let cell = Cell {
        index: 0,
        deployment: Deployment::default(),
        payload_bytes: 0,
        payload_file: Some(PayloadFile {
            index: 0,
            name: format!("in8 out{output}"),
        }),
        load: Load::Closed { concurrency },
        duration: Duration::from_millis(ms),
        warmup: Duration::ZERO,
        timeout: Duration::from_secs(10),
        repeat: 1,
    };
    let http = client(&ClientSettings {
        timeout: cell.timeout,
        max_in_flight: 16,
    })
    .unwrap();
    let settings = StreamSettings {
        content_type: "application/json".into(),
        ..StreamSettings::default()
    };
    let endpoint = StreamEndpoint::new(http.reqwest(), url, framing, &settings).unwrap();
    let bodies = payload::build_level(&prompts(output), 0, Some(0), 1).unwrap();
    let (_tx, cancel) = tokio::sync::watch::channel(false);
    let options = CellOptions::seeded(7);
    let result = run_cell(
        &cell,
        Arc::new(endpoint),
        Arc::new(bodies),
        &options,
        cancel,
    )
    .await;
    CellSummary::from_result(&result)
}

async fn run(b: Behaviour, output: u32, concurrency: u32, ms: u64) -> (CellSummary, SseServer) {
    let server = SseServer::start(b).await;
    let url = format!("{}/chat/completions", server.base_url());
    let s = stream_cell(&url, Framing::Sse, output, concurrency, ms).await;
    (s, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_replies_give_ttft_itl_tpot_and_the_servers_token_count() {
    let b = Behaviour {
        first_ms: 40,
        step_ms: 10,
        mode: Mode::Good,
    };
    let (s, server) = run(b, 12, 2, 1_200).await;
    let t = s
        .tokens
        .as_ref()
        .expect("a streamed cell has token figures");
    let (ttft, itl, tpot) = (t.ttft.unwrap(), t.itl.unwrap(), t.tpot.unwrap());
    let e2e = s.latency.unwrap();
    assert!(
        ttft.p50_ms >= 40.0 && ttft.p50_ms < e2e.p50_ms,
        "TTFT {ttft:?} e2e {e2e:?}"
    );
    // The server's own step is 10 ms plus its timer's slack: compare with what it kept.
    let step = server.mean_gap_ms();
    assert!(step >= 10.0, "server step {step}");
    let within = |v: f64| (v - step).abs() <= 0.1 * step;
    assert!(
        within(itl.mean_ms),
        "ITL mean {} vs the server's {step} ms step",
        itl.mean_ms
    );
    assert!(within(tpot.mean_ms), "TPOT {tpot:?} vs {step} ms");
    assert_eq!(t.counted_from, CountedFrom::Usage);
    assert_eq!(t.mean_output_tokens, 12.0);
    assert_eq!(t.mean_input_tokens, 5.0, "the server's usage says 5");
    // Every reply's tokens are the server's: nothing in flight is left out of the count.
    assert_eq!(t.replies * 12, server.generated(), "{t:?}");
    assert!(t.output_tokens_per_s > 0.0 && s.errors == 0, "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_usage_the_stream_is_counted() {
    let b = Behaviour {
        first_ms: 5,
        step_ms: 2,
        mode: Mode::NoUsage,
    };
    let (s, _server) = run(b, 7, 1, 400).await;
    let t = s.tokens.unwrap();
    assert_eq!(t.counted_from, CountedFrom::Stream);
    assert_eq!(t.mean_output_tokens, 7.0);
    assert_eq!(t.input_tokens, 0, "no usage: input tokens unknown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_streams_are_stream_errors_with_an_example() {
    for (mode, said) in [
        (
            Mode::CutMidEvent,
            "stream cut mid-event: data: {\"id\":\"cmpl-1\",\"choi",
        ),
        (Mode::BadLine, "bad SSE line: this is not an SSE line"),
    ] {
        let b = Behaviour {
            first_ms: 2,
            step_ms: 2,
            mode,
        };
        let (s, _server) = run(b, 5, 2, 300).await;
        assert!(s.ok == 0 && s.errors > 0, "{mode:?}: {s:?}");
        assert_eq!(s.errors_by_kind[&ErrorKind::Stream], s.errors, "{mode:?}");
        let detail = &s.error_details[&ErrorKind::Stream];
        assert_eq!(detail.messages, vec![said.to_string()], "{mode:?}");
        assert!(s.accounting_ok);
    }
}
