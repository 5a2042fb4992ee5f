//! Streaming targets against servers the tests start: a small SSE server of our own (this
//! module's `server`), and the emulator's LLM endpoints over the SageMaker event stream
//! (through the SDK and the emulator target) and OpenAI SSE.

mod cli;
mod compare;
mod emulated;
mod search;
mod server;
mod sse;
