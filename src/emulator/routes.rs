//! The HTTP surface: the SageMaker runtime paths (with the response stream), the
//! OpenAI-compatible paths of LLM endpoints and the container contract, each dispatched to
//! its hosting option's handler, plus the endpoint listing and the answer to unknown paths.

use super::endpoint::Endpoint;
use super::modes::{async_inference, batch, realtime, serverless, stream};
use super::openai::Api;
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
use std::sync::Arc;

/// The router of every path the emulator serves.
pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route("/endpoints", get(list_endpoints))
        .route("/endpoints/{name}/invocations", post(invoke))
        .route(
            "/endpoints/{name}/invocations-response-stream",
            post(invoke_stream),
        )
        .route(
            "/endpoints/{name}/openai/v1/chat/completions",
            post(|app, name, body| openai_named(app, name, body, Api::Chat)),
        )
        .route(
            "/endpoints/{name}/openai/v1/completions",
            post(|app, name, body| openai_named(app, name, body, Api::Completions)),
        )
        .route("/endpoints/{name}/openai/v1/models", get(models_named))
        .route("/v1/models", get(models_only))
        .route(
            "/v1/chat/completions",
            post(|app, body| openai_only(app, body, Api::Chat)),
        )
        .route(
            "/v1/completions",
            post(|app, body| openai_only(app, body, Api::Completions)),
        )
        .route(
            "/endpoints/{name}/async-invocations",
            post(async_inference::submit),
        )
        .route("/transform-jobs", post(batch::transform))
        .route(
            "/transform-jobs/{name}/invocations",
            post(batch::invoke_record),
        )
        .route("/", post(super::control::handle))
        .route(
            "/{bucket}",
            axum::routing::put(super::s3::create_bucket).get(super::s3::list_objects),
        )
        .route("/{bucket}/", get(super::s3::list_objects))
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
    answer(app.endpoint(&name), |ep| async move {
        match ep.spec.hosting {
            _ if ep.spec.model.is_llm() => stream::invoke(ep, &headers, body).await,
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
        }
    })
    .await
}

/// `InvokeEndpointWithResponseStream`: real-time LLM endpoints stream their tokens.
async fn invoke_stream(
    State(app): State<App>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    answer(app.endpoint(&name), |ep| {
        stream::sagemaker_stream(ep, &headers, body)
    })
    .await
}

/// The OpenAI paths of a named endpoint (`base_url` = `…/endpoints/{name}/openai/v1`).
async fn openai_named(
    State(app): State<App>,
    Path(name): Path<String>,
    body: Body,
    api: Api,
) -> Response {
    answer(app.endpoint(&name), |ep| stream::openai(ep, api, body)).await
}

/// The OpenAI paths at the root (`base_url` = `http://HOST:PORT/v1`): the only endpoint.
async fn openai_only(State(app): State<App>, body: Body, api: Api) -> Response {
    answer(only_endpoint(&app), |ep| stream::openai(ep, api, body)).await
}

/// What `serve` answers for the endpoint found, or the error of finding it.
async fn answer<F, Fut>(found: Result<Arc<Endpoint>, ApiError>, serve: F) -> Response
where
    F: FnOnce(Arc<Endpoint>) -> Fut,
    Fut: Future<Output = Result<Response, ApiError>>,
{
    match found {
        Ok(ep) => serve(ep).await.unwrap_or_else(IntoResponse::into_response),
        Err(e) => e.into_response(),
    }
}

/// OpenAI `GET /models` of a named endpoint: its model.
async fn models_named(State(app): State<App>, Path(name): Path<String>) -> Response {
    app.endpoint(&name)
        .map(|ep| model_list(&ep))
        .unwrap_or_else(IntoResponse::into_response)
}

/// OpenAI `GET /v1/models` at the root: the only endpoint's model.
async fn models_only(State(app): State<App>) -> Response {
    only_endpoint(&app)
        .map(|ep| model_list(&ep))
        .unwrap_or_else(IntoResponse::into_response)
}

fn model_list(ep: &Endpoint) -> Response {
    let list = json!({
        "object": "list",
        "data": [{"id": ep.spec.model.name, "object": "model", "owned_by": "loadtest-emulator"}],
    });
    json_response(StatusCode::OK, &list)
}

fn only_endpoint(app: &App) -> Result<Arc<Endpoint>, ApiError> {
    match app.endpoints() {
        [only] => Ok(Arc::clone(only)),
        many => Err(ApiError::Validation(format!(
            "/v1/... serves the only endpoint, but {} are deployed; use \
             /endpoints/{{name}}/openai/v1/... (GET /endpoints lists them).",
            many.len()
        ))),
    }
}

/// Container contract `POST /invocations`: the first endpoint, answered synchronously.
async fn container_invoke(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
    let first = app.endpoints().first().cloned();
    let found = first.ok_or_else(|| ApiError::ServiceUnavailable("No model is loaded.".into()));
    answer(found, |ep| async move {
        match ep.spec.hosting {
            _ if ep.spec.model.is_llm() => stream::invoke(ep, &headers, body).await,
            Hosting::Serverless => serverless::invoke(ep, &headers, body).await,
            _ => realtime::invoke(ep, &headers, body).await,
        }
    })
    .await
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
