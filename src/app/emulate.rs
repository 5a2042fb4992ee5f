//! `loadtest emulate`: serve emulated SageMaker endpoints until Ctrl-C.

use super::{AppError, exit};
use crate::cli::EmulateArgs;
use crate::emulator::EmulatorFile;
use std::process::ExitCode;

/// `loadtest emulate`: serves emulated endpoints until Ctrl-C.
pub async fn emulate(args: &EmulateArgs) -> Result<ExitCode, AppError> {
    let mut endpoints = match &args.config {
        Some(path) => EmulatorFile::load(path)?,
        None => EmulatorFile::default_endpoints(),
    };
    if let Some(scale) = args.time_scale {
        for spec in &mut endpoints {
            spec.model = spec.model.clone().with_time_scale(scale);
        }
    }
    let mut settings = crate::emulator::ControlSettings {
        deploy_delay: args.deploy_delay,
        ..Default::default()
    };
    if let Some(scale) = args.time_scale {
        settings.model = settings.model.with_time_scale(scale);
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    crate::emulator::run_standalone(args.listen, endpoints, settings, shutdown).await?;
    Ok(ExitCode::from(exit::OK))
}
