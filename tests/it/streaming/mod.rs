//! Streaming targets against servers the tests start: a small SSE server of our own (this
//! module's `server`), and the emulator's LLM endpoints over the SageMaker event stream
//! (through the SDK and the emulator target) and OpenAI SSE.

/// A profile named `name` whose target is the OpenAI completions API at `base_url` (model
/// `m`, a 10 s timeout), then `rest`: more target keys, the sweep, payload and SLA.
fn openai_profile(name: &str, base_url: &str, rest: &str) -> String {
    format!(
        r#"name = "{name}"
[target]
kind = "openai"
base_url = "{base_url}"
model = "m"
api = "completions"
timeout = "10s"
{rest}"#
    )
}

mod cli;
mod compare;
mod emulated;
mod search;
mod server;
mod sse;
