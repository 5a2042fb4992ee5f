//! Shared state of the HTTP handlers: the running endpoints by name, the emulator's clock,
//! the control plane and the S3 objects (where async results land).

use super::clock::Clock;
use super::control::{ControlPlane, ControlSettings};
use super::endpoint::Endpoint;
use super::response::{ACCOUNT, ApiError};
use super::serving::Timing;
use std::collections::HashMap;
use std::sync::Arc;

/// Shared state of the router.
#[derive(Clone)]
pub(crate) struct App(Arc<AppInner>);

struct AppInner {
    endpoints: Vec<Arc<Endpoint>>,
    by_name: HashMap<String, usize>,
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

/// Why a job failed, with its timing when it got as far as a worker.
pub(crate) type Failure = (String, Option<Timing>);
