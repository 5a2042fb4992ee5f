//! `loadtest cleanup` against the emulator's control plane: planted leftovers tagged
//! `loadtest:run` are listed, then deleted with --yes; an untagged resource is not touched.

use super::control::{client, start_control};
use crate::bin::loadtest;
use aws_sdk_sagemaker::types::{
    ContainerDefinition, ProductionVariant, ProductionVariantInstanceType, Tag,
};
use std::process::Output;

async fn cleanup(url: &str, more: &[&str]) -> Output {
    let mut args = vec![
        "cleanup".to_string(),
        "--endpoint-url".into(),
        url.to_string(),
    ];
    args.extend(more.iter().map(ToString::to_string));
    tokio::task::spawn_blocking(move || {
        loadtest()
            .args(&args)
            .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

async fn plant(sm: &aws_sdk_sagemaker::Client, name: &str, tags: Vec<Tag>) {
    sm.create_model()
        .model_name(format!("{name}-model"))
        .primary_container(ContainerDefinition::builder().image("img").build())
        .execution_role_arn("arn:aws:iam::123456789012:role/r")
        .set_tags(Some(tags.clone()))
        .send()
        .await
        .unwrap();
    let variant = ProductionVariant::builder()
        .variant_name("AllTraffic")
        .model_name(format!("{name}-model"))
        .initial_instance_count(1)
        .instance_type(ProductionVariantInstanceType::MlC5Xlarge)
        .build();
    sm.create_endpoint_config()
        .endpoint_config_name(name)
        .production_variants(variant)
        .set_tags(Some(tags.clone()))
        .send()
        .await
        .unwrap();
    sm.create_endpoint()
        .endpoint_name(name)
        .endpoint_config_name(name)
        .set_tags(Some(tags))
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_lists_then_deletes_tagged_leftovers_only() {
    let emu = start_control(&[]).await;
    let sm = client(&emu);
    let run_tag = |id: &str| Tag::builder().key("loadtest:run").value(id).build();
    let old = Tag::builder().key("loadtest:created").value("1000").build();
    plant(&sm, "lt-old-0-c5-xlarge", vec![run_tag("lt-old"), old]).await;
    plant(&sm, "lt-mine", vec![]).await;

    let listed = cleanup(&emu.base_url(), &["--older-than", "2h"]).await;
    let stdout = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(
        listed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert!(
        stdout.contains("lt-old-0-c5-xlarge") && stdout.contains("lt-old-0-c5-xlarge-model"),
        "{stdout}"
    );
    assert!(
        stdout.contains("3 resource(s); rerun with --yes"),
        "{stdout}"
    );
    assert!(!stdout.contains("lt-mine"), "untagged: {stdout}");
    assert_eq!(
        sm.list_endpoints().send().await.unwrap().endpoints().len(),
        2,
        "only listed"
    );

    let other_run = cleanup(&emu.base_url(), &["--run", "lt-other", "--yes"]).await;
    assert!(String::from_utf8_lossy(&other_run.stdout).contains("No loadtest resources"));

    let deleted = cleanup(&emu.base_url(), &["--yes"]).await;
    let err = String::from_utf8_lossy(&deleted.stderr);
    assert_eq!(deleted.status.code(), Some(0), "{err}");
    let left = sm.list_endpoints().send().await.unwrap();
    let names: Vec<_> = left
        .endpoints()
        .iter()
        .filter_map(|e| e.endpoint_name())
        .collect();
    assert_eq!(
        names,
        ["lt-mine"],
        "the tagged endpoint is gone, the untagged one stays"
    );
    assert_eq!(sm.list_models().send().await.unwrap().models().len(), 1);
    assert_eq!(
        sm.list_endpoint_configs()
            .send()
            .await
            .unwrap()
            .endpoint_configs()
            .len(),
        1
    );
    emu.stop().await;
}
