//! The HTTP surface: the SageMaker runtime paths and the container contract, each
//! dispatched to its hosting option's handler, plus the endpoint listing and the answer to
//! unknown paths.

use super::modes::{async_inference, batch, realtime, serverless};
use super::response::{ApiError, json_response};
use super::state::App;
use crate::domain::Hosting;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

/// The router of every path the emulator serves.
pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route("/endpoints", get(list_endpoints))
        .route("/endpoints/{name}/invocations", post(invoke))
        .route(
            "/endpoints/{name}/async-invocations",
            post(async_inference::submit),
        )
        .route("/async-results/{id}", get(async_inference::result))
        .route("/transform-jobs", post(batch::transform))
        .route(
            "/transform-jobs/{name}/invocations",
            post(batch::invoke_record),
        )
        .route("/", post(super::control::handle))
        .route("/{bucket}", axum::routing::put(super::s3::create_bucket))
        .route(
            "/{bucket}/{*key}",
            get(super::s3::get_object)
                .put(super::s3::put_object)
                .head(super::s3::head_object)
                .delete(super::s3::delete_object),
        )
        .route("/ping", get(ping))
        .route("/invocations", post(container_invoke))
        .fallback(unknown_operation)
        .with_state(app)
}

async fn invoke(
    State(app): State<App>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let answer = match app.endpoint(&name) {
        Ok(ep) => match ep.spec.hosting {
            Hosting::RealTime => realtime::invoke(ep, &headers, body).await,
            Hosting::Serverless => serverless::invoke(ep, &headers, body).await,
            Hosting::Async => Err(ApiError::Validation(format!(
                "Endpoint {name} is an asynchronous endpoint; call InvokeEndpointAsync \
                 (POST /endpoints/{name}/async-invocations)."
            ))),
            Hosting::Batch => Err(ApiError::Validation(format!(
                "{name} is a batch transform model, not an endpoint; POST /transform-jobs, \
                 or /transform-jobs/{name}/invocations for one record."
            ))),
        },
        Err(e) => Err(e),
    };
    answer.unwrap_or_else(IntoResponse::into_response)
}

/// Container contract `POST /invocations`: the first endpoint, answered synchronously.
async fn container_invoke(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
    let Some(ep) = app.endpoints().first().cloned() else {
        return ApiError::ServiceUnavailable("No model is loaded.".into()).into_response();
    };
    let answer = match ep.spec.hosting {
        Hosting::Serverless => serverless::invoke(ep, &headers, body).await,
        _ => realtime::invoke(ep, &headers, body).await,
    };
    answer.unwrap_or_else(IntoResponse::into_response)
}

async fn ping() -> StatusCode {
    StatusCode::OK
}

async fn list_endpoints(State(app): State<App>) -> Response {
    let list: Vec<_> = app
        .endpoints()
        .iter()
        .map(|ep| {
            json!({
                "name": ep.name(),
                "hosting": ep.spec.hosting.as_str(),
                "instance_type": ep.instance.map(|i| i.name.as_str()),
                "instance_count": ep.spec.instance_count,
                "variant": ep.spec.variant,
                "model": ep.spec.model.name,
            })
        })
        .collect();
    json_response(StatusCode::OK, &list)
}

async fn unknown_operation() -> Response {
    ApiError::NotFound {
        code: "UnknownOperationException",
        message: "The emulator does not serve this path; see GET /endpoints.".into(),
    }
    .into_response()
}
