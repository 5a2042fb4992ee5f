//! Built-in emulator of SageMaker hosting: a real HTTP server that serves the runtime API
//! (`InvokeEndpoint`, `InvokeEndpointAsync`), the container contract (`/ping`,
//! `/invocations`) and emulated batch transform jobs for any number of endpoints, each an
//! instance type × count × model with SageMaker's limits, queueing, cold starts and errors.
//!
//! ```text
//! request ─► routes (errors shaped like SageMaker's)
//!              └► modes/{realtime,serverless,async_inference,batch}: parse → admit → simulate → respond
//!                   └► endpoint: least-outstanding routing, bounded FIFO queue,
//!                        per instance a Semaphore of CPU workers or batching accelerator workers
//! ```
//!
//! LLM endpoints (a model with [`Llm`] parameters) generate tokens with continuous batching
//! and a KV-cache budget (`llm`, `scheduler`) and stream them over
//! `InvokeEndpointWithResponseStream` (`eventstream`) and OpenAI-compatible SSE (`openai`,
//! `modes/stream`).
//!
//! Durations reported by the emulator (`x-emulator-queue-ms`, `x-emulator-service-ms`,
//! async result times) are wall-clock milliseconds; with a model `time_scale` of 0.1 they
//! are a tenth of the model times they stand for.

mod batcher;
pub mod catalog;
mod clock;
pub mod config;
mod control;
mod endpoint;
mod error;
mod eventstream;
mod faults;
mod file;
pub mod llm;
pub mod model;
mod modes;
mod openai;
mod pool;
mod presets;
pub mod queueing;
mod response;
mod routes;
mod s3;
mod scheduler;
mod server;
mod serving;
mod slots;
mod state;
mod validate;

pub use config::{
    DEFAULT_VARIANT, EndpointSpec, Faults, InjectedError, ModelConfig, ModelConfigError,
    ServerlessSpec,
};
pub use control::{ControlSettings, PRESET_ENV};
pub use endpoint::{ASYNC_QUEUE, DEFAULT_IDLE_TIMEOUT, REALTIME_QUEUE_PER_INSTANCE};
pub use error::{DeployError, EmulatorError};
pub use file::{EmulatorFile, EndpointEntry};
pub use llm::Llm;
pub use model::{Model, ServiceDistribution};
pub use modes::batch::{TransformError, TransformEstimate, simulate_transform};
pub use presets::{LLM_7B, LLM_SMALL, PRESETS, Preset};
pub use slots::{slot_speed as serverless_speed, vcpu_share as serverless_vcpu};
pub use validate::validate;

use crate::domain::Hosting;
use std::io::Write;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Serves `endpoints` on `listener` until `shutdown` completes. The endpoints are
/// validated first; nothing is served if one of them cannot be deployed.
pub async fn serve(
    listener: TcpListener,
    endpoints: Vec<EndpointSpec>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), EmulatorError> {
    validate::validate_all(&endpoints)?;
    serve_with(listener, endpoints, ControlSettings::default(), shutdown).await
}

/// Serves `endpoints` (none is fine: the control plane deploys more) and the control plane
/// with `settings` on `listener` until `shutdown` completes.
pub async fn serve_with(
    listener: TcpListener,
    endpoints: Vec<EndpointSpec>,
    settings: ControlSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), EmulatorError> {
    validate_some(&endpoints)?;
    let clock = clock::Clock::start();
    let running = endpoints
        .into_iter()
        .zip(0u64..)
        .map(|(spec, index)| endpoint::Endpoint::start(spec, index, clock))
        .collect::<Result<Vec<_>, _>>()?;
    let router = routes::router(state::App::with_control(running, clock, settings));
    server::run(listener, router, shutdown).await;
    Ok(())
}

/// Checks the endpoints, allowing none.
fn validate_some(endpoints: &[EndpointSpec]) -> Result<(), DeployError> {
    if endpoints.is_empty() {
        Ok(())
    } else {
        validate::validate_all(endpoints)
    }
}

/// An emulator running in this process on its own task; dropping it stops the server.
pub struct Running {
    /// The address it listens on (useful when started on port 0).
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), EmulatorError>>,
}

impl Running {
    /// Validates the endpoints, binds `listen` (port 0 picks a free port) and starts serving.
    pub async fn start(
        listen: SocketAddr,
        endpoints: Vec<EndpointSpec>,
    ) -> Result<Running, EmulatorError> {
        validate::validate_all(&endpoints)?;
        Running::start_with(listen, endpoints, ControlSettings::default()).await
    }

    /// Like [`Running::start`], with a control plane deploying with `settings`; `endpoints`
    /// may be empty.
    pub async fn start_with(
        listen: SocketAddr,
        endpoints: Vec<EndpointSpec>,
        settings: ControlSettings,
    ) -> Result<Running, EmulatorError> {
        validate_some(&endpoints)?;
        let listener = bind(listen).await?;
        let addr = listener.local_addr().map_err(EmulatorError::LocalAddr)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            // Stop on the signal, or when the handle is dropped without one.
            let _ = stopped.await;
        };
        let task = tokio::spawn(serve_with(listener, endpoints, settings, shutdown));
        Ok(Running { addr, stop, task })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// URL of `InvokeEndpoint` for an endpoint.
    pub fn invocations_url(&self, endpoint: &str) -> String {
        format!("{}/endpoints/{endpoint}/invocations", self.base_url())
    }

    /// URL of `InvokeEndpointWithResponseStream` for an (LLM) endpoint.
    pub fn stream_url(&self, endpoint: &str) -> String {
        format!(
            "{}/endpoints/{endpoint}/invocations-response-stream",
            self.base_url()
        )
    }

    /// OpenAI `base_url` of an (LLM) endpoint: `…/endpoints/{name}/openai/v1`, under which
    /// `/chat/completions` and `/completions` answer.
    pub fn openai_base_url(&self, endpoint: &str) -> String {
        format!("{}/endpoints/{endpoint}/openai/v1", self.base_url())
    }

    /// URL where a batch model's container takes one record, as a transform job sends it.
    pub fn transform_invocations_url(&self, model: &str) -> String {
        format!("{}/transform-jobs/{model}/invocations", self.base_url())
    }

    /// URL of `InvokeEndpointAsync` for an endpoint.
    pub fn async_url(&self, endpoint: &str) -> String {
        format!("{}/endpoints/{endpoint}/async-invocations", self.base_url())
    }

    /// Stops accepting, lets open requests finish briefly, and waits for the server task.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        // The server has nothing left to report once it is told to stop.
        let _ = self.task.await;
    }
}

/// Serves until `shutdown`, first printing each endpoint's URL to stdout (one line each:
/// name, hosting, instance, URL).
pub async fn run_standalone(
    listen: SocketAddr,
    endpoints: Vec<EndpointSpec>,
    settings: ControlSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), EmulatorError> {
    validate::validate_all(&endpoints)?;
    let listener = bind(listen).await?;
    let addr = listener.local_addr().map_err(EmulatorError::LocalAddr)?;
    print_endpoints(&mut std::io::stdout().lock(), addr, &endpoints)?;
    serve_with(listener, endpoints, settings, shutdown).await
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, EmulatorError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| EmulatorError::Bind { addr, source })
}

/// Writes one line per endpoint; a closed stdout (broken pipe) is not an error.
fn print_endpoints(
    out: &mut impl Write,
    addr: SocketAddr,
    endpoints: &[EndpointSpec],
) -> Result<(), EmulatorError> {
    let write = |out: &mut dyn Write| -> std::io::Result<()> {
        writeln!(out, "emulator listening on http://{addr}")?;
        writeln!(
            out,
            "control plane (SageMaker.CreateEndpoint, …) on POST http://{addr}/; \
             set `endpoint_url = \"http://{addr}\"`"
        )?;
        for spec in endpoints {
            let (instance, path) = match spec.hosting {
                Hosting::Serverless => {
                    let mb = spec.serverless.map_or(0, |s| s.memory_mb);
                    (
                        format!("{mb} MB"),
                        format!("endpoints/{}/invocations", spec.name),
                    )
                }
                Hosting::Async => (
                    format!("{} x{}", spec.instance_type, spec.instance_count),
                    format!("endpoints/{}/async-invocations", spec.name),
                ),
                Hosting::Batch => (
                    format!("{} x{}", spec.instance_type, spec.instance_count),
                    "transform-jobs".to_string(),
                ),
                Hosting::RealTime if spec.model.is_llm() => (
                    format!("{} x{}", spec.instance_type, spec.instance_count),
                    format!(
                        "endpoints/{0}/invocations-response-stream (OpenAI: \
                         http://{addr}/endpoints/{0}/openai/v1)",
                        spec.name
                    ),
                ),
                Hosting::RealTime => (
                    format!("{} x{}", spec.instance_type, spec.instance_count),
                    format!("endpoints/{}/invocations", spec.name),
                ),
            };
            writeln!(
                out,
                "{:<24} {:<10} {:<22} {:<10} http://{addr}/{path}",
                spec.name, spec.hosting, instance, spec.model.name
            )?;
        }
        out.flush()
    };
    match write(out) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(EmulatorError::Stdout(e)),
        _ => Ok(()),
    }
}
