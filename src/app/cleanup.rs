//! `loadtest cleanup`: lists the SageMaker resources provisioned runs left (tagged
//! `loadtest:run`) and, with `--s3-prefix`, their S3 objects (keys carry the run id), and
//! deletes them with `--yes`.

use super::{AppError, exit};
use crate::cli::CleanupArgs;
use std::process::ExitCode;

/// `loadtest cleanup`: list, and with `--yes` delete, tagged leftovers; exit 3 when some
/// could not be deleted.
#[cfg(feature = "provision")]
pub async fn cleanup(args: &CleanupArgs) -> Result<ExitCode, AppError> {
    use crate::provision::cleanup::{Filter, find};
    use crate::provision::deploy::Provisioner;
    let target = crate::profile::SageMakerTarget {
        region: args.region.clone(),
        endpoint_url: args.endpoint_url.clone(),
        profile: args.profile.clone(),
        ..crate::profile::SageMakerTarget::default()
    };
    let sm = crate::provision::client::client(&target, None).await?;
    let filter = Filter {
        run: args.run.clone(),
        older_than: args.older_than,
    };
    let found = find(&sm, &filter)
        .await
        .map_err(|e| AppError::Provisioning(e.to_string()))?;
    let objects = s3_objects(args, &target).await?;
    if found.is_empty() && objects.as_ref().is_none_or(|(_, o)| o.is_empty()) {
        println!("No loadtest resources left in {}.", args.region);
        return Ok(ExitCode::from(exit::OK));
    }
    let objects_left = match &objects {
        Some((s3, objects)) => {
            for o in objects {
                println!("{:<15} {:<48} run {}", "S3Object", o.location, o.run);
            }
            if args.yes {
                crate::provision::s3_objects::delete(s3, objects)
                    .await
                    .len()
            } else {
                0
            }
        }
        None => 0,
    };
    for l in &found {
        let age = l.age.map_or_else(
            || "age unknown".to_string(),
            |a| humantime::format_duration(std::time::Duration::from_secs(a.as_secs())).to_string(),
        );
        println!(
            "{:<15} {:<48} run {} ({age} old)",
            format!("{:?}", l.resource.kind),
            l.resource.name,
            l.run
        );
    }
    if !args.yes {
        let n = found.len() + objects.as_ref().map_or(0, |(_, o)| o.len());
        println!("{n} resource(s); rerun with --yes to delete them.");
        return Ok(ExitCode::from(exit::OK));
    }
    let deleter = Provisioner::new(sm, "cleanup");
    deleter.adopt(found.into_iter().map(|l| l.resource));
    let left = deleter.teardown().await;
    let commands: Vec<String> = left
        .iter()
        .map(|r| r.delete_command(&args.region))
        .collect();
    super::report_leftovers(&commands);
    Ok(ExitCode::from(if left.is_empty() && objects_left == 0 {
        exit::OK
    } else {
        exit::TARGET
    }))
}

/// With `--s3-prefix`: the S3 client and the objects of runs under the prefix.
#[cfg(feature = "provision")]
async fn s3_objects(
    args: &CleanupArgs,
    target: &crate::profile::SageMakerTarget,
) -> Result<
    Option<(
        aws_sdk_s3::Client,
        Vec<crate::provision::s3_objects::RunObject>,
    )>,
    AppError,
> {
    use crate::endpoint::sagemaker;
    let Some(prefix) = &args.s3_prefix else {
        return Ok(None);
    };
    let timeout = std::time::Duration::from_secs(60);
    let sdk = sagemaker::shared_config(target, timeout, None).await?;
    let s3 = sagemaker::s3_async::s3_client(&sdk, target.endpoint_url.as_deref());
    let objects = crate::provision::s3_objects::list(&s3, prefix, args.run.as_deref())
        .await
        .map_err(AppError::Provisioning)?;
    Ok(Some((s3, objects)))
}

/// Without the `provision` feature: the command that builds it (exit 2).
#[cfg(not(feature = "provision"))]
pub async fn cleanup(_args: &CleanupArgs) -> Result<ExitCode, AppError> {
    eprintln!(
        "error: this build of loadtest cannot reach the SageMaker control plane; build and run it with:\n  cargo run --release --features provision -- cleanup"
    );
    Ok(ExitCode::from(exit::USAGE))
}
