//! `loadtest cleanup` against the emulator's control plane: planted leftovers tagged
//! `loadtest:run` are listed, then deleted with --yes; an untagged resource is not touched.

use super::control::{client, start_control};
use super::run::run;
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
    run(args).await
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

/// Path-style PUT of an object into the emulator's S3.
async fn put(url: &str, path: &str) {
    let r = reqwest::Client::new()
        .put(format!("{url}/{path}"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{r:?}");
}

/// Path-style GET status of an object in the emulator's S3.
async fn status(url: &str, path: &str) -> u16 {
    let r = reqwest::Client::new()
        .get(format!("{url}/{path}"))
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_with_an_s3_prefix_lists_then_deletes_the_objects_of_runs_only() {
    let emu = start_control(&[]).await;
    let url = emu.base_url();
    let runs = ["bkt/lt/lt-aaa/inputs/256.bin", "bkt/lt/lt-bbb/output/1.out"];
    for path in runs {
        put(&url, path).await;
    }
    put(&url, "bkt/lt/notes/keep.txt").await;
    put(&url, "bkt/elsewhere/lt-aaa/keep.bin").await;
    let listed = cleanup(&url, &["--s3-prefix", "s3://bkt/lt"]).await;
    let text = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(listed.status.code(), Some(0), "{text}");
    assert!(
        text.contains("s3://bkt/lt/lt-aaa/inputs/256.bin") && text.contains("run lt-aaa"),
        "{text}"
    );
    assert!(text.contains("s3://bkt/lt/lt-bbb/output/1.out"), "{text}");
    assert!(!text.contains("keep"), "only objects of runs: {text}");
    assert!(text.contains("rerun with --yes"), "{text}");
    assert_eq!(status(&url, runs[0]).await, 200, "listing deletes nothing");
    let one = cleanup(
        &url,
        &["--s3-prefix", "s3://bkt/lt", "--run", "lt-bbb", "--yes"],
    )
    .await;
    assert_eq!(
        one.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    assert_eq!(status(&url, runs[1]).await, 404, "lt-bbb's object deleted");
    assert_eq!(status(&url, runs[0]).await, 200, "lt-aaa's kept by --run");
    let all = cleanup(&url, &["--s3-prefix", "s3://bkt/lt", "--yes"]).await;
    assert_eq!(
        all.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&all.stderr)
    );
    assert_eq!(status(&url, runs[0]).await, 404);
    assert_eq!(status(&url, "bkt/lt/notes/keep.txt").await, 200);
    assert_eq!(status(&url, "bkt/elsewhere/lt-aaa/keep.bin").await, 200);
    emu.stop().await;
}
