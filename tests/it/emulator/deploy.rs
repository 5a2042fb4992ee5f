//! Deploy errors: what SageMaker would refuse, with what to change.

use loadtest::domain::Hosting;
use loadtest::emulator::{DeployError, EmulatorError, EmulatorFile, EndpointSpec, Model, Running};

async fn deploy(spec: EndpointSpec) -> EmulatorError {
    let any = "127.0.0.1:0".parse().expect("address");
    match Running::start(any, vec![spec]).await {
        Ok(running) => {
            running.stop().await;
            panic!("deployed an endpoint that should be refused")
        }
        Err(e) => e,
    }
}

#[tokio::test]
async fn gpu_instances_cannot_host_serverless() {
    let spec = EndpointSpec {
        instance_type: "ml.g4dn.xlarge".into(),
        ..EndpointSpec::serverless("sl", 2048, 5, Model::preset("bert-base").expect("preset"))
    };
    let err = deploy(spec).await;
    assert!(
        matches!(
            err,
            EmulatorError::Deploy(DeployError::AcceleratorOnServerless { .. })
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("host it real-time or async"),
        "{err}"
    );
}

#[tokio::test]
async fn a_model_too_big_for_its_memory_is_refused() {
    let llm = Model::preset("textgen-small").expect("preset");
    let err = deploy(EndpointSpec::new(
        "llm",
        Hosting::RealTime,
        "ml.c5.large",
        Model {
            memory_mb: 8192,
            ..llm.clone()
        },
    ))
    .await;
    assert!(
        err.to_string()
            .contains("needs 8192 MB but ml.c5.large has 4096 MB"),
        "{err}"
    );
    let err = deploy(EndpointSpec::serverless("llm", 1024, 5, llm)).await;
    assert!(
        err.to_string()
            .contains("pick a larger serverless memory size"),
        "{err}"
    );
}

#[tokio::test]
async fn unknown_instance_types_list_close_matches() {
    let spec = EndpointSpec::new("e", Hosting::RealTime, "ml.g4dn.xlrage", Model::custom(1.0));
    let err = deploy(spec).await;
    let text = err.to_string();
    assert!(
        text.contains("unknown instance type `ml.g4dn.xlrage`"),
        "{text}"
    );
    assert!(text.contains("did you mean ml.g4dn.xlarge"), "{text}");
}

#[tokio::test]
async fn emulator_files_load_and_validate() {
    let path = std::env::temp_dir().join(format!("loadtest-emulator-{}.toml", std::process::id()));
    let text = r#"
        time_scale = 0.1
        [[endpoint]]
        name = "bert-c5"
        hosting = "real-time"
        instance_type = "ml.c5.xlarge"
        [[endpoint]]
        name = "bert-sl"
        hosting = "serverless"
        serverless_memory_mb = 3072
        max_concurrency = 50
        [endpoint.model]
        preset = "resnet50"
    "#;
    std::fs::write(&path, text).expect("write file");
    let loaded = EmulatorFile::load(&path);
    std::fs::remove_file(&path).expect("remove file");
    let specs = loaded.expect("file loads");
    assert_eq!(specs.len(), 2);
    assert_eq!(specs[1].model.name, "resnet50");
    assert_eq!(specs[1].model.time_scale, 0.1);
    let emu = super::start(specs).await;
    emu.stop().await;
    let missing =
        EmulatorFile::load(std::path::Path::new("/nonexistent/emulator.toml")).unwrap_err();
    assert!(
        missing.to_string().contains("cannot read emulator file"),
        "{missing}"
    );
}
