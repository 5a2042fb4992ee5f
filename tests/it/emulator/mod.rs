//! Emulator behaviour tests: every server on 127.0.0.1 port 0, short time-scaled models,
//! bounded request counts.

mod async_batch;
mod deploy;
mod faults;
pub mod llm;
mod queueing;
mod runtime;
mod serverless;

mod llm_load;

use loadtest::emulator::{EndpointSpec, Model, Running};
use loadtest::sample::ErrorKind;
use std::net::SocketAddr;

/// Starts an emulator with these endpoints on an ephemeral loopback port.
pub async fn start(endpoints: Vec<EndpointSpec>) -> Running {
    let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
    Running::start(any, endpoints)
        .await
        .expect("emulator starts")
}

/// A client with a bounded timeout, so no test can hang on a request.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .expect("client")
}

/// A model with only a base cost, no jitter and no cold start, at the given time scale.
pub fn fixed(base_ms: f64, time_scale: f64) -> Model {
    Model {
        service: loadtest::emulator::ServiceDistribution::Fixed,
        ..Model::custom(base_ms).with_time_scale(time_scale)
    }
}

/// A header parsed as f64, if present.
pub fn header_f64(response: &reqwest::Response, name: &str) -> Option<f64> {
    response.headers().get(name)?.to_str().ok()?.parse().ok()
}

/// Classifies an error answer the way the load engine does.
pub fn classify(response: &reqwest::Response) -> ErrorKind {
    let error_type = response
        .headers()
        .get("x-amzn-ErrorType")
        .and_then(|v| v.to_str().ok());
    ErrorKind::from_http(response.status().as_u16(), error_type)
}

/// The response body as JSON.
pub async fn json(response: reqwest::Response) -> serde_json::Value {
    let bytes = response.bytes().await.expect("body");
    serde_json::from_slice(&bytes).expect("JSON body")
}

/// Sends every request at once and waits for all answers, in order.
pub async fn send_all<F>(sends: impl Iterator<Item = F>) -> Vec<reqwest::Response>
where
    F: Future<Output = reqwest::Result<reqwest::Response>> + Send + 'static,
{
    let tasks: Vec<_> = sends.map(tokio::spawn).collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("task").expect("answer"));
    }
    answers
}
