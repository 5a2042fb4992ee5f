//! Shared state of the HTTP handlers: the running endpoints by name, the emulator's clock,
//! and the results of async invocations (bounded by count and age).

use super::clock::{self, Clock};
use super::control::{ControlPlane, ControlSettings};
use super::endpoint::Endpoint;
use super::response::{ACCOUNT, ApiError};
use super::serving::Timing;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// Shared state of the router.
#[derive(Clone)]
pub(crate) struct App(Arc<AppInner>);

struct AppInner {
    endpoints: Vec<Arc<Endpoint>>,
    by_name: HashMap<String, usize>,
    results: AsyncResults,
    clock: Clock,
    control: ControlPlane,
    s3: super::s3::Store,
}

impl App {
    /// State for the given running endpoints, with a control plane deploying more.
    pub(crate) fn with_control(
        endpoints: Vec<Arc<Endpoint>>,
        clock: Clock,
        settings: ControlSettings,
    ) -> App {
        let by_name = endpoints
            .iter()
            .enumerate()
            .map(|(i, ep)| (ep.name().to_string(), i))
            .collect();
        App(Arc::new(AppInner {
            endpoints,
            by_name,
            results: AsyncResults::default(),
            clock,
            control: ControlPlane::new(settings, clock),
            s3: super::s3::Store::default(),
        }))
    }

    /// Every running endpoint, in the order they were given.
    pub(crate) fn endpoints(&self) -> &[Arc<Endpoint>] {
        &self.0.endpoints
    }

    /// The endpoint of that name (configured, or deployed through the control plane and in
    /// service), or SageMaker's "not found" ValidationError.
    pub(crate) fn endpoint(&self, name: &str) -> Result<Arc<Endpoint>, ApiError> {
        self.0
            .by_name
            .get(name)
            .map(|&i| Arc::clone(&self.0.endpoints[i]))
            .or_else(|| self.0.control.endpoint(name))
            .ok_or_else(|| {
                ApiError::Validation(format!("Endpoint {name} of account {ACCOUNT} not found."))
            })
    }

    /// Results of async invocations.
    pub(crate) fn results(&self) -> &AsyncResults {
        &self.0.results
    }

    /// The control plane.
    pub(crate) fn control(&self) -> &ControlPlane {
        &self.0.control
    }

    /// The S3 objects.
    pub(crate) fn s3(&self) -> &super::s3::Store {
        &self.0.s3
    }

    /// The emulator's clock.
    pub(crate) fn clock(&self) -> Clock {
        self.0.clock
    }
}

impl axum::extract::FromRef<App> for ControlPlane {
    fn from_ref(app: &App) -> ControlPlane {
        app.0.control.clone()
    }
}

impl axum::extract::FromRef<App> for super::s3::Store {
    fn from_ref(app: &App) -> super::s3::Store {
        app.0.s3.clone()
    }
}

/// Most async results kept; the oldest are dropped first.
pub const MAX_RESULTS: usize = 100_000;

/// How long (wall clock) an async result is kept, like SageMaker's 6-hour request TTL.
pub const RESULT_TTL: Duration = Duration::from_secs(6 * 3600);

/// State of one async invocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub(crate) enum Status {
    InProgress,
    Completed,
    Failed,
}

/// What `GET /async-results/{id}` answers; times are ms since the emulator started.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Record {
    #[serde(rename = "InferenceId")]
    id: String,
    #[serde(rename = "OutputLocation")]
    output_location: String,
    status: Status,
    submitted_ms: f64,
    started_ms: Option<f64>,
    completed_ms: Option<f64>,
    queue_ms: Option<f64>,
    service_ms: Option<f64>,
    error: Option<String>,
}

/// Results of async invocations, bounded by [`MAX_RESULTS`] and [`RESULT_TTL`].
#[derive(Clone, Default)]
pub(crate) struct AsyncResults(Arc<Mutex<Store>>);

#[derive(Default)]
struct Store {
    records: HashMap<String, (u64, Record)>,
    order: VecDeque<(String, u64, Instant)>,
    next_stamp: u64,
}

impl AsyncResults {
    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps a record, first dropping the oldest past the count or age limit.
    pub(crate) fn insert(&self, record: Record) {
        let now = Instant::now();
        let mut store = self.store();
        while let Some((id, stamp, at)) = store.order.front().cloned() {
            if store.order.len() < MAX_RESULTS && now.duration_since(at) < RESULT_TTL {
                break;
            }
            store.order.pop_front();
            if store.records.get(&id).is_some_and(|(s, _)| *s == stamp) {
                store.records.remove(&id);
            }
        }
        let stamp = store.next_stamp;
        store.next_stamp += 1;
        store.order.push_back((record.id.clone(), stamp, now));
        store.records.insert(record.id.clone(), (stamp, record));
    }

    /// Changes the record of `id` in place, if it is still kept.
    pub(crate) fn update(&self, id: &str, f: impl FnOnce(&mut Record)) {
        if let Some((_, record)) = self.store().records.get_mut(id) {
            f(record);
        }
    }

    /// A copy of the record of `id`, if it is still kept.
    pub(crate) fn get(&self, id: &str) -> Option<Record> {
        self.store().records.get(id).map(|(_, r)| r.clone())
    }
}

/// Why a job failed, with its timing when it got as far as a worker.
pub(crate) type Failure = (String, Option<Timing>);

impl Record {
    /// A record of a job just accepted, not yet started.
    pub(crate) fn in_progress(id: String, output_location: String, submitted_ms: f64) -> Record {
        Record {
            id,
            output_location,
            status: Status::InProgress,
            submitted_ms,
            started_ms: None,
            completed_ms: None,
            queue_ms: None,
            service_ms: None,
            error: None,
        }
    }

    /// The job's state.
    pub(crate) fn status(&self) -> Status {
        self.status
    }

    /// Marks the job done with its outcome, taking its times from the timing if it has one.
    pub(crate) fn finish(&mut self, clock: Clock, outcome: Result<Timing, Failure>) {
        let (timing, error) = match outcome {
            Ok(t) => (Some(t), None),
            Err((message, t)) => (t, Some(message)),
        };
        self.status = if error.is_some() {
            Status::Failed
        } else {
            Status::Completed
        };
        self.error = error;
        self.completed_ms = Some(clock.ms(Instant::now()));
        if let Some(t) = timing {
            self.submitted_ms = clock.ms(t.arrived);
            self.started_ms = Some(clock.ms(t.started));
            self.completed_ms = Some(clock.ms(t.completed));
            self.queue_ms = Some(clock::ms(t.queue()));
            self.service_ms = Some(clock::ms(t.service()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(id: &str) -> Record {
        Record {
            id: id.to_string(),
            output_location: String::new(),
            status: Status::InProgress,
            submitted_ms: 0.0,
            started_ms: None,
            completed_ms: None,
            queue_ms: None,
            service_ms: None,
            error: None,
        }
    }

    #[tokio::test]
    async fn results_are_updated_in_place() {
        let results = AsyncResults::default();
        results.insert(pending("a"));
        assert_eq!(results.get("a").map(|r| r.status), Some(Status::InProgress));
        results.update("a", |r| {
            r.finish(Clock::start(), Err(("boom".into(), None)))
        });
        let done = results.get("a").expect("record");
        assert_eq!(done.status, Status::Failed);
        assert_eq!(done.error.as_deref(), Some("boom"));
        assert!(results.get("b").is_none());
    }
}
