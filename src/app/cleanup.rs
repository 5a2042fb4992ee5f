//! `loadtest cleanup`: lists the SageMaker resources provisioned runs left (tagged
//! `loadtest:run`), and deletes them with `--yes`.

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
    if found.is_empty() {
        println!("No loadtest resources left in {}.", args.region);
        return Ok(ExitCode::from(exit::OK));
    }
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
        println!(
            "{} resource(s); rerun with --yes to delete them.",
            found.len()
        );
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
    Ok(ExitCode::from(if left.is_empty() {
        exit::OK
    } else {
        exit::TARGET
    }))
}

/// Without the `provision` feature: the command that builds it (exit 2).
#[cfg(not(feature = "provision"))]
pub async fn cleanup(_args: &CleanupArgs) -> Result<ExitCode, AppError> {
    eprintln!(
        "error: this build of loadtest cannot reach the SageMaker control plane; build and run it with:\n  cargo run --release --features provision -- cleanup"
    );
    Ok(ExitCode::from(exit::USAGE))
}
