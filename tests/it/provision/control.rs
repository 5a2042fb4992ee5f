//! The emulator's control plane as the SDK sees it: create, describe (Creating →
//! InService, or Failed with a reason), invoke the deployed endpoint, tags, lists, deletes.

use aws_sdk_sagemaker::Client;
use aws_sdk_sagemaker::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sagemaker::types::{
    ContainerDefinition, EndpointStatus, ProductionVariant, ProductionVariantInstanceType, Tag,
};
use loadtest::emulator::{ControlSettings, Model, Running};
use std::net::SocketAddr;
use std::time::Duration;

/// The emulator with no configured endpoint and a 150 ms deploy delay.
pub async fn start_control(limited: &[&str]) -> Running {
    start_control_after(limited, Duration::from_millis(150)).await
}

/// The emulator with no configured endpoint and `deploy_delay`.
pub async fn start_control_after(limited: &[&str], deploy_delay: Duration) -> Running {
    start_with(ControlSettings {
        deploy_delay,
        model: Model::custom(1.0),
        limited: limited.iter().map(ToString::to_string).collect(),
        denied: Vec::new(),
        delete_delay: Duration::ZERO,
    })
    .await
}

/// The emulator with no configured endpoint and `settings`.
pub async fn start_with(settings: ControlSettings) -> Running {
    let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
    Running::start_with(any, vec![], settings)
        .await
        .expect("emulator")
}

/// A control-plane client of `emu` with dummy credentials.
pub fn client(emu: &Running) -> Client {
    client_at(&emu.base_url())
}

/// A control-plane client of the control plane at `url` with dummy credentials.
pub fn client_at(url: &str) -> Client {
    let config = aws_sdk_sagemaker::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(url)
        .build();
    Client::from_conf(config)
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

async fn create(sm: &Client, name: &str, instance: &str) {
    let variant = ProductionVariant::builder()
        .variant_name("AllTraffic")
        .model_name("m")
        .initial_instance_count(1)
        .instance_type(ProductionVariantInstanceType::from(instance))
        .build();
    sm.create_endpoint_config()
        .endpoint_config_name(name)
        .production_variants(variant)
        .tags(tag("loadtest:run", "r1"))
        .send()
        .await
        .expect("config");
    sm.create_endpoint()
        .endpoint_name(name)
        .endpoint_config_name(name)
        .tags(tag("loadtest:run", "r1"))
        .send()
        .await
        .expect("endpoint");
}

async fn wait_until_not_creating(sm: &Client, name: &str) -> (EndpointStatus, Option<String>) {
    for _ in 0..200 {
        let d = sm
            .describe_endpoint()
            .endpoint_name(name)
            .send()
            .await
            .expect("describe");
        let status = d.endpoint_status().cloned().expect("status");
        if status != EndpointStatus::Creating {
            return (status, d.failure_reason().map(str::to_string));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{name} still Creating");
}

async fn create_model(sm: &Client) {
    let container = ContainerDefinition::builder().image("img").build();
    sm.create_model()
        .model_name("m")
        .primary_container(container)
        .execution_role_arn("arn:aws:iam::123456789012:role/r")
        .tags(tag("loadtest:run", "r1"))
        .send()
        .await
        .expect("model");
}

async fn assert_all_empty(sm: &Client) {
    assert!(
        sm.list_endpoints()
            .send()
            .await
            .unwrap()
            .endpoints()
            .is_empty()
    );
    assert!(
        sm.list_endpoint_configs()
            .send()
            .await
            .unwrap()
            .endpoint_configs()
            .is_empty()
    );
    assert!(sm.list_models().send().await.unwrap().models().is_empty());
}

#[tokio::test]
async fn an_endpoint_goes_creating_to_in_service_and_serves_then_deletes() {
    let emu = start_control_after(&[], Duration::from_secs(1)).await;
    let sm = client(&emu);
    create_model(&sm).await;
    create(&sm, "ep-a", "ml.c5.xlarge").await;
    let first = sm
        .describe_endpoint()
        .endpoint_name("ep-a")
        .send()
        .await
        .expect("describe");
    assert_eq!(first.endpoint_status(), Some(&EndpointStatus::Creating));
    let http = reqwest::Client::new();
    let early = http
        .post(emu.invocations_url("ep-a"))
        .body("x")
        .send()
        .await
        .expect("invoke");
    assert_eq!(early.status(), 400, "not served while Creating");
    let (status, _) = wait_until_not_creating(&sm, "ep-a").await;
    assert_eq!(status, EndpointStatus::InService);
    let served = http
        .post(emu.invocations_url("ep-a"))
        .body("x")
        .send()
        .await
        .expect("invoke");
    assert_eq!(
        served.status(),
        200,
        "the runtime routes serve it once InService"
    );

    let tags = sm
        .list_tags()
        .resource_arn(first.endpoint_arn().expect("arn"))
        .send()
        .await
        .expect("tags");
    assert_eq!(tags.tags()[0].key(), Some("loadtest:run"));
    assert_eq!(tags.tags()[0].value(), Some("r1"));
    let listed = sm.list_endpoints().send().await.expect("list");
    assert_eq!(listed.endpoints().len(), 1);

    sm.delete_endpoint()
        .endpoint_name("ep-a")
        .send()
        .await
        .expect("delete");
    sm.delete_endpoint_config()
        .endpoint_config_name("ep-a")
        .send()
        .await
        .expect("delete config");
    sm.delete_model()
        .model_name("m")
        .send()
        .await
        .expect("delete model");
    assert_all_empty(&sm).await;
    let gone = http
        .post(emu.invocations_url("ep-a"))
        .body("x")
        .send()
        .await
        .expect("invoke");
    assert_eq!(gone.status(), 400, "a deleted endpoint is not served");
    emu.stop().await;
}

#[tokio::test]
async fn an_unknown_instance_type_fails_with_a_reason_and_a_quota_is_an_error() {
    let emu = start_control(&["ml.c5.4xlarge"]).await;
    let sm = client(&emu);
    let container = ContainerDefinition::builder().image("img").build();
    sm.create_model()
        .model_name("m")
        .primary_container(container)
        .execution_role_arn("arn:aws:iam::123456789012:role/r")
        .send()
        .await
        .expect("model");
    create(&sm, "ep-bad", "ml.nope.xlarge").await;
    let (status, reason) = wait_until_not_creating(&sm, "ep-bad").await;
    assert_eq!(status, EndpointStatus::Failed);
    assert!(reason.unwrap_or_default().contains("ml.nope.xlarge"));

    let err = sm
        .describe_endpoint()
        .endpoint_name("missing")
        .send()
        .await
        .expect_err("not found");
    let service = err.into_service_error();
    assert_eq!(service.meta().code(), Some("ValidationException"));

    let variant = ProductionVariant::builder()
        .variant_name("AllTraffic")
        .model_name("m")
        .initial_instance_count(1)
        .instance_type(ProductionVariantInstanceType::MlC54Xlarge)
        .build();
    sm.create_endpoint_config()
        .endpoint_config_name("big")
        .production_variants(variant)
        .send()
        .await
        .expect("config");
    let err = sm
        .create_endpoint()
        .endpoint_name("big")
        .endpoint_config_name("big")
        .send()
        .await
        .expect_err("quota");
    let service = err.into_service_error();
    assert!(service.is_resource_limit_exceeded(), "{service:?}");
    emu.stop().await;
}
