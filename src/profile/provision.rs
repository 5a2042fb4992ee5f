//! `[provision]`: the run deploys each candidate on SageMaker itself (an endpoint config
//! and an endpoint per candidate, from an existing model or one it creates), measures it
//! and deletes it. Validation names the field and the fix.

use super::checker::Checker;
use super::raw::{RawProfile, RawProvision, SpannedStr};
use crate::domain::Hosting;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use toml::Spanned;

/// The model every candidate endpoint runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProvisionModel {
    /// A model that exists in the account already; never deleted by the run.
    Existing {
        /// Its name.
        name: String,
    },
    /// A model the run creates once (and deletes at the end).
    Create {
        /// The inference container image URI.
        image: String,
        /// The model artifacts (`s3://…/model.tar.gz`), when the image needs them.
        model_data_url: Option<String>,
        /// The IAM role SageMaker assumes to pull the image and artifacts.
        execution_role_arn: String,
        /// The container's environment.
        env: BTreeMap<String, String>,
    },
}

/// A validated `[provision]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provision {
    /// The model the endpoints run.
    pub model: ProvisionModel,
    /// Candidates deployed at once (the one measured and those deploying ahead of it).
    pub max_parallel: u32,
    /// Initial instance count of instance-backed endpoints.
    pub instance_count: u32,
    /// Serverless MaxConcurrency.
    pub max_concurrency: u32,
    /// Async MaxConcurrentInvocationsPerInstance.
    pub max_concurrent_invocations: u32,
    /// `s3://bucket/prefix` for async inputs and outputs.
    pub s3_prefix: Option<String>,
    /// The cost plan is accepted without `--yes`.
    pub confirm: bool,
    /// Expected time from CreateEndpoint to InService, for the cost plan.
    #[serde(with = "crate::domain::units::serde_duration")]
    pub deploy_time: Duration,
}

/// Expected time from CreateEndpoint to InService when `deploy_time` is not given.
pub const DEFAULT_DEPLOY_TIME: Duration = Duration::from_secs(8 * 60);

fn count(c: &mut Checker, value: Option<&Spanned<i64>>, key: &str, default: u32) -> u32 {
    match value {
        None => default,
        Some(v) => match u32::try_from(*v.get_ref()) {
            Ok(n) if n >= 1 => n,
            _ => {
                c.on(
                    v,
                    key,
                    format!("is {}; it must be at least 1", v.get_ref()),
                    Some(format!(
                        "write e.g. `{} = {default}`",
                        key.rsplit('.').next().unwrap_or(key)
                    )),
                );
                default
            }
        },
    }
}

/// Checks `[provision]`, when present.
pub(super) fn check(c: &mut Checker, raw: &RawProfile) -> Option<Provision> {
    let p = raw.provision.as_ref()?;
    if p.kind.get_ref() != "sagemaker" {
        c.unknown_name(&p.kind, "provision.kind", "provision kind", &["sagemaker"]);
    }
    if raw.target.kind.get_ref() != "sagemaker" {
        c.on(
            &raw.target.kind,
            "target.kind",
            "[provision] deploys SageMaker endpoints, and the target is not sagemaker".into(),
            Some("write `kind = \"sagemaker\"` in [target] (with `region`)".into()),
        );
    }
    let model = check_model(c, p);
    if let Some(prefix) = &p.s3_prefix
        && !prefix.get_ref().starts_with("s3://")
    {
        c.on(
            prefix,
            "provision.s3_prefix",
            format!("`{}` is not an S3 location", prefix.get_ref()),
            Some("write e.g. `s3_prefix = \"s3://my-bucket/loadtest\"`".into()),
        );
    }
    let deploy_time = c.duration(
        p.deploy_time.as_ref(),
        "provision.deploy_time",
        DEFAULT_DEPLOY_TIME,
        false,
    );
    Some(Provision {
        model,
        max_parallel: count(c, p.max_parallel.as_ref(), "provision.max_parallel", 2),
        instance_count: count(c, p.instance_count.as_ref(), "provision.instance_count", 1),
        max_concurrency: count(
            c,
            p.max_concurrency.as_ref(),
            "provision.max_concurrency",
            20,
        ),
        max_concurrent_invocations: count(
            c,
            p.max_concurrent_invocations.as_ref(),
            "provision.max_concurrent_invocations",
            4,
        ),
        s3_prefix: p.s3_prefix.as_ref().map(|s| s.get_ref().clone()),
        confirm: p.confirm.unwrap_or(false),
        deploy_time,
    })
}

fn check_model(c: &mut Checker, p: &RawProvision) -> ProvisionModel {
    let text = |s: &Option<SpannedStr>| {
        s.as_ref()
            .map(|v| v.get_ref().trim().to_string())
            .filter(|v| !v.is_empty())
    };
    if let Some(name) = text(&p.model_name) {
        if let Some(image) = &p.image {
            c.on(
                image,
                "provision.image",
                "both `model_name` and `image` are set".into(),
                Some("keep `model_name` to use an existing model, or `image` (with `execution_role_arn`) to create one".into()),
            );
        }
        return ProvisionModel::Existing { name };
    }
    let image = text(&p.image).unwrap_or_else(|| {
        c.on(
            &p.kind,
            "provision.image",
            "[provision] needs a model: an existing `model_name`, or an `image` to create one".into(),
            Some("add `model_name = \"my-model\"`, or `image = \"<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>\"` with `execution_role_arn`".into()),
        );
        String::new()
    });
    let role = text(&p.execution_role_arn).unwrap_or_else(|| {
        c.on(
            &p.kind,
            "provision.execution_role_arn",
            "creating a model needs the IAM role SageMaker runs it with".into(),
            Some("add `execution_role_arn = \"arn:aws:iam::<account>:role/<SageMaker execution role>\"`".into()),
        );
        String::new()
    });
    ProvisionModel::Create {
        image,
        model_data_url: text(&p.model_data_url),
        execution_role_arn: role,
        env: p.env.clone(),
    }
}

impl Provision {
    /// Whether a hosting option can be provisioned (batch transform has no endpoint).
    pub fn supports(hosting: Hosting) -> bool {
        hosting != Hosting::Batch
    }
}

#[cfg(test)]
mod tests {
    use crate::profile::{Problem, ProfileError, ProvisionModel, parse};
    use std::path::Path;

    const HEAD: &str = r#"name = "t"
[target]
kind = "sagemaker"
region = "us-east-1"
[sweep]
instance_types = ["ml.c5.xlarge", "ml.m5.xlarge"]
load = { mode = "closed", concurrency = [1] }
[provision]
kind = "sagemaker"
"#;

    fn problems(text: &str) -> Vec<Problem> {
        match parse(text, Path::new("p.toml")) {
            Err(ProfileError::Invalid { problems, .. }) => problems,
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn a_model_to_create_needs_an_image_and_a_role_each_named_with_its_fix() {
        let p = problems(HEAD);
        let keys: Vec<&str> = p.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["provision.image", "provision.execution_role_arn"]);
        assert!(p[1].fix.as_deref().unwrap_or("").contains("arn:aws:iam::"));
        assert!(p[0].line_col.is_some());
        let p = problems(&format!("{HEAD}image = \"img\"\n"));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].key, "provision.execution_role_arn");
    }

    #[test]
    fn an_existing_model_needs_no_image_and_the_sweep_names_what_to_deploy() {
        let text = format!("{HEAD}model_name = \"bert\"\nmax_parallel = 3\n");
        let profile = parse(&text, Path::new("p.toml")).expect("valid");
        let provision = profile.provision.expect("provision");
        assert_eq!(
            provision.model,
            ProvisionModel::Existing {
                name: "bert".into()
            }
        );
        assert_eq!(provision.max_parallel, 3);
        assert!(!provision.confirm);
        assert_eq!(profile.sweep.instance_types.len(), 2);
    }

    #[test]
    fn named_endpoints_and_a_non_sagemaker_target_are_refused() {
        let text = HEAD.replace(
            "region = \"us-east-1\"",
            "region = \"us-east-1\"\nendpoint = \"mine\"",
        );
        let p = problems(&format!("{text}model_name = \"m\"\n"));
        assert_eq!(p[0].key, "target.endpoint", "{p:#?}");
        let text = HEAD.replace(
            "kind = \"sagemaker\"\nregion = \"us-east-1\"",
            "kind = \"http\"\nurl = \"http://127.0.0.1:9/\"",
        );
        let p = problems(&format!("{text}model_name = \"m\"\n"));
        assert!(p.iter().any(|p| p.key == "target.kind"), "{p:#?}");
    }
}
