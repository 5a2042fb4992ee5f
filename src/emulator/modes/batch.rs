//! Batch transform: an offline job over a whole dataset. Records are grouped into
//! mini-batches of at most `max_payload` bytes; every worker of every instance runs one
//! mini-batch at a time (CPU: records one after another; accelerators: in model batches).
//! [`simulate_transform`] computes the job without HTTP; `POST /transform-jobs` runs it,
//! time-scaled. `POST /transform-jobs/{name}/invocations` is the model's container as a
//! transform job calls it, one record (or mini-batch) per request, so a load test can
//! measure the records per second an instance sustains.

use crate::domain::Hosting;
use crate::emulator::catalog::{self, Instance};
use crate::emulator::config::ModelConfig;
use crate::emulator::endpoint::Endpoint;
use crate::emulator::model::{Model, batch_ms};
use crate::emulator::response::{ApiError, json_response};
use crate::emulator::state::App;
use axum::body::Body;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// Mini-batch size SageMaker uses when `MaxPayloadInMB` is not set.
pub const DEFAULT_MAX_PAYLOAD_MB: u32 = 6;

/// The expected course of a transform job, in model time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TransformEstimate {
    /// Records in the dataset.
    pub records: u64,
    /// Records per full mini-batch.
    pub records_per_mini_batch: u64,
    /// Mini-batches (invocations) in the job.
    pub mini_batches: u64,
    /// Mini-batches running at once: instances × workers per instance.
    pub parallel_invocations: u64,
    /// Processing time of one full mini-batch (s).
    pub mini_batch_seconds: f64,
    /// Model load before the first mini-batch (s).
    pub startup_seconds: f64,
    /// From the first to the last mini-batch (s).
    pub processing_seconds: f64,
    /// Whole job: startup + processing (s).
    pub duration_seconds: f64,
    /// Records per second of processing.
    pub records_per_second: f64,
    /// Billed instance time: duration × instances (h).
    pub instance_hours: f64,
}

/// A transform job SageMaker would refuse or fail.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TransformError {
    /// No instances.
    #[error("instance_count is 0; use at least 1 instance")]
    NoInstances,
    /// Empty records cannot be batched by size.
    #[error("record_bytes is 0; give the size of one record in bytes")]
    EmptyRecords,
    /// Mini-batch size over the 100 MB limit (or zero).
    #[error(
        "a mini-batch of {max_payload_bytes} bytes is outside 1 B..=100 MB; set max_payload_mb between 1 and 100"
    )]
    PayloadLimit {
        /// The size asked for.
        max_payload_bytes: u64,
    },
    /// One record does not fit a mini-batch.
    #[error(
        "a record of {record_bytes} bytes does not fit a mini-batch of {max_payload_bytes} bytes; raise max_payload_mb (up to 100) or split the records"
    )]
    RecordTooLarge {
        /// Size of one record.
        record_bytes: u64,
        /// Mini-batch size.
        max_payload_bytes: u64,
    },
    /// A mini-batch runs past the invocation timeout.
    #[error(
        "one mini-batch takes {seconds:.0} s, over the {limit_seconds} s invocation timeout; lower max_payload_mb or use a faster instance"
    )]
    InvocationTimeout {
        /// Model seconds of one mini-batch.
        seconds: f64,
        /// The timeout.
        limit_seconds: u64,
    },
}

/// Simulates a transform job of `records` records of `record_bytes` each on
/// `instance_count` instances, in mini-batches of at most `max_payload_bytes`.
pub fn simulate_transform(
    model: &Model,
    instance: &Instance,
    instance_count: u32,
    records: u64,
    record_bytes: u64,
    max_payload_bytes: u64,
) -> Result<TransformEstimate, TransformError> {
    let per_batch = check_shape(instance_count, record_bytes, max_payload_bytes)?;
    let full_batches = records / per_batch;
    let remainder = records % per_batch;
    let workers = if instance.has_accelerator() {
        instance.accelerator_count
    } else {
        instance.vcpu
    };
    let parallel = u64::from(instance_count) * u64::from(workers.max(1));
    let full_ms = mini_batch_ms(model, instance, per_batch, record_bytes);
    let rest_ms = mini_batch_ms(model, instance, remainder, record_bytes);
    let limit = Hosting::Batch.max_processing_time();
    if full_batches > 0 && full_ms / 1000.0 > limit.as_secs_f64()
        || rest_ms / 1000.0 > limit.as_secs_f64()
    {
        return Err(TransformError::InvocationTimeout {
            seconds: full_ms.max(rest_ms) / 1000.0,
            limit_seconds: limit.as_secs(),
        });
    }
    // Greedy makespan: full batches spread evenly, the smaller last one on the least loaded worker.
    let rounds = full_batches.div_ceil(parallel) as f64 * full_ms;
    let with_rest = (full_batches / parallel) as f64 * full_ms + rest_ms;
    let processing_ms = rounds.max(with_rest);
    let startup_seconds = model.cold_start.as_secs_f64();
    let processing_seconds = processing_ms / 1000.0;
    let duration_seconds = startup_seconds + processing_seconds;
    Ok(TransformEstimate {
        records,
        records_per_mini_batch: per_batch,
        mini_batches: full_batches + u64::from(remainder > 0),
        parallel_invocations: parallel,
        mini_batch_seconds: full_ms / 1000.0,
        startup_seconds,
        processing_seconds,
        duration_seconds,
        records_per_second: if processing_seconds > 0.0 {
            records as f64 / processing_seconds
        } else {
            0.0
        },
        instance_hours: duration_seconds * f64::from(instance_count) / 3600.0,
    })
}

/// Records per mini-batch, after checking the job's shape.
fn check_shape(
    instance_count: u32,
    record_bytes: u64,
    max_payload_bytes: u64,
) -> Result<u64, TransformError> {
    if instance_count == 0 {
        return Err(TransformError::NoInstances);
    }
    if record_bytes == 0 {
        return Err(TransformError::EmptyRecords);
    }
    if max_payload_bytes == 0 || max_payload_bytes > Hosting::Batch.max_payload_bytes() {
        return Err(TransformError::PayloadLimit { max_payload_bytes });
    }
    if record_bytes > max_payload_bytes {
        return Err(TransformError::RecordTooLarge {
            record_bytes,
            max_payload_bytes,
        });
    }
    Ok(max_payload_bytes / record_bytes)
}

/// Model ms for one worker to run a mini-batch of `records` records.
fn mini_batch_ms(model: &Model, instance: &Instance, records: u64, record_bytes: u64) -> f64 {
    let single = model.single_ms(record_bytes, model.worker_speed(instance));
    if !instance.has_accelerator() {
        return records as f64 * single;
    }
    let max_batch = u64::from(model.max_batch.max(1));
    let full = records / max_batch;
    let rest = u32::try_from(records % max_batch).unwrap_or(u32::MAX);
    let rest_ms = if rest > 0 {
        batch_ms(single, rest)
    } else {
        0.0
    };
    full as f64 * batch_ms(single, model.max_batch.max(1)) + rest_ms
}

/// Body of `POST /transform-jobs`: an endpoint to take model and instances from, or an
/// instance type and a model.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TransformRequest {
    endpoint: Option<String>,
    instance_type: Option<String>,
    instance_count: Option<u32>,
    model: Option<ModelConfig>,
    records: u64,
    record_bytes: u64,
    max_payload_mb: Option<u32>,
    /// `false` answers at once instead of waiting the (time-scaled) job duration.
    wait: Option<bool>,
}

/// `POST /transform-jobs/{name}/invocations`: one record or mini-batch of batch model
/// `name`, answered when processed (payloads up to 100 MB, up to 3600 s).
pub(crate) async fn invoke_record(
    State(app): State<App>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let answer = match app.endpoint(&name) {
        Ok(ep) if ep.spec.hosting == Hosting::Batch => {
            super::invoke_sync(ep, &headers, body, Hosting::Batch, Endpoint::admit).await
        }
        Ok(ep) => Err(ApiError::Validation(format!(
            "{name} is a {} endpoint, not a batch transform model; POST /endpoints/{name}/invocations.",
            ep.spec.hosting
        ))),
        Err(e) => Err(e),
    };
    answer.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /transform-jobs`: runs an emulated transform job and reports its duration.
pub(crate) async fn transform(State(app): State<App>, body: Bytes) -> Response {
    run_job(&app, &body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn run_job(app: &App, body: &[u8]) -> Result<Response, ApiError> {
    // Parse.
    let request: TransformRequest = serde_json::from_slice(body)
        .map_err(|e| ApiError::Validation(format!("Invalid transform job: {e}.")))?;
    let (model, instance, default_count) = job_target(app, &request)?;
    let count = request.instance_count.unwrap_or(default_count);
    let max_payload_mb = request.max_payload_mb.unwrap_or(DEFAULT_MAX_PAYLOAD_MB);
    let max_payload = u64::from(max_payload_mb) * 1024 * 1024;
    // Admit and simulate.
    let estimate = simulate_transform(
        &model,
        instance,
        count,
        request.records,
        request.record_bytes,
        max_payload,
    )
    .map_err(|e| ApiError::Validation(e.to_string()))?;
    let started = Instant::now();
    if request.wait.unwrap_or(true) {
        let wall = model.wall(estimate.duration_seconds * 1000.0);
        tokio::time::sleep(wall).await;
    }
    // Respond.
    let mut json = serde_json::to_value(&estimate)
        .map_err(|e| ApiError::InternalFailure(format!("Could not encode the estimate: {e}.")))?;
    if let Some(fields) = json.as_object_mut() {
        fields.insert(
            "wall_seconds".into(),
            started.elapsed().as_secs_f64().into(),
        );
        fields.insert("time_scale".into(), model.time_scale.into());
        fields.insert("instance_type".into(), instance.name.clone().into());
    }
    Ok(json_response(StatusCode::OK, &json))
}

/// The model, instance type and default instance count a job runs with.
fn job_target(
    app: &App,
    req: &TransformRequest,
) -> Result<(Model, &'static Instance, u32), ApiError> {
    if let Some(name) = &req.endpoint {
        let ep = app.endpoint(name)?;
        let instance = ep.instance.ok_or_else(|| {
            ApiError::Validation(format!(
                "Endpoint {name} is serverless; batch transform needs instances."
            ))
        })?;
        return Ok((ep.spec.model.clone(), instance, ep.spec.instance_count));
    }
    let missing =
        || ApiError::Validation("Give an `endpoint`, or an `instance_type` and a `model`.".into());
    let name = req.instance_type.as_deref().ok_or_else(missing)?;
    let instance = catalog::lookup(name).ok_or_else(|| {
        ApiError::Validation(format!(
            "Unknown instance type {name}; close matches: {}.",
            catalog::close_matches(name).join(", ")
        ))
    })?;
    let model = req
        .model
        .as_ref()
        .ok_or_else(missing)?
        .resolve()
        .map_err(|e| ApiError::Validation(e.to_string()))?;
    Ok((model, instance, 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn instance(name: &str) -> &'static Instance {
        catalog::lookup(name).expect("catalog")
    }

    #[test]
    fn cpu_job_spreads_mini_batches_over_cores() {
        let model = Model {
            cold_start: Duration::from_secs(10),
            ..Model::custom(10.0)
        };
        // 4 vCPU at speed 1.0: 10 ms per record; 1 KiB records, 10 per mini-batch.
        let est = simulate_transform(&model, instance("ml.m5.xlarge"), 2, 1000, 1024, 10 * 1024)
            .expect("job");
        assert_eq!(est.records_per_mini_batch, 10);
        assert_eq!(est.mini_batches, 100);
        assert_eq!(est.parallel_invocations, 8);
        assert!((est.mini_batch_seconds - 0.1).abs() < 1e-9);
        // ceil(100 / 8) = 13 rounds of 0.1 s.
        assert!((est.processing_seconds - 1.3).abs() < 1e-9, "{est:?}");
        assert!((est.duration_seconds - 11.3).abs() < 1e-9);
        assert!((est.instance_hours - 11.3 * 2.0 / 3600.0).abs() < 1e-12);
    }

    #[test]
    fn a_smaller_last_batch_goes_to_the_least_loaded_worker() {
        let model = Model::custom(10.0);
        // 2 workers, 3 full batches of 10 records (100 ms) and one of 5 (50 ms): 200 ms.
        let est = simulate_transform(&model, instance("ml.m5.large"), 1, 35, 1024, 10 * 1024)
            .expect("job");
        assert_eq!(est.mini_batches, 4);
        assert!((est.processing_seconds - 0.2).abs() < 1e-9, "{est:?}");
    }

    #[test]
    fn accelerators_batch_records_within_a_mini_batch() {
        let model = Model {
            gpu_speedup: 10.0,
            max_batch: 8,
            ..Model::custom(10.0)
        };
        let g4 = instance("ml.g4dn.xlarge");
        let est = simulate_transform(&model, g4, 1, 16, 1024, 16 * 1024).expect("job");
        // One mini-batch of 16 = two model batches of 8 at 1 ms × (1 + 7 × 0.15).
        let expected = 2.0 * batch_ms(1.0, 8) / 1000.0;
        assert!((est.processing_seconds - expected).abs() < 1e-12, "{est:?}");
    }

    #[test]
    fn bad_jobs_say_what_to_change() {
        let m = Model::custom(1.0);
        let i = instance("ml.m5.large");
        let mb = 1024 * 1024;
        assert_eq!(
            simulate_transform(&m, i, 0, 1, 1, mb),
            Err(TransformError::NoInstances)
        );
        assert!(matches!(
            simulate_transform(&m, i, 1, 1, 2 * mb, mb),
            Err(TransformError::RecordTooLarge { .. })
        ));
        assert!(matches!(
            simulate_transform(&m, i, 1, 1, 1, 101 * mb),
            Err(TransformError::PayloadLimit { .. })
        ));
        let slow = Model::custom(4_000_000.0);
        assert!(matches!(
            simulate_transform(&slow, i, 1, 1, 1, mb),
            Err(TransformError::InvocationTimeout { .. })
        ));
        let empty = simulate_transform(&m, i, 1, 0, 1, mb).expect("empty job");
        assert_eq!((empty.mini_batches, empty.records_per_second), (0, 0.0));
    }
}
