//! The control-plane client of a run: the same AWS config as the runtime client (region,
//! profile, credentials checked once), `endpoint_url` when set (the emulator, moto), and
//! standard retries (control-plane calls are not measured, and throttle under bursts).

use crate::endpoint::EndpointError;
use crate::endpoint::sagemaker::shared_config;
use crate::profile::SageMakerTarget;
use aws_sdk_sagemaker::Client;
use aws_sdk_sagemaker::config::retry::RetryConfig;
use aws_sdk_sagemakerruntime::config::Credentials;
use std::time::Duration;

/// Longest wait for one control-plane call.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// The control-plane client for `target`, with fixed `credentials` when given (tests).
pub async fn client(
    target: &SageMakerTarget,
    credentials: Option<Credentials>,
) -> Result<Client, EndpointError> {
    let sdk = shared_config(target, CALL_TIMEOUT, credentials).await?;
    let mut config = aws_sdk_sagemaker::config::Builder::from(&sdk)
        .retry_config(RetryConfig::standard().with_max_attempts(4));
    if let Some(url) = &target.endpoint_url {
        config = config.endpoint_url(url);
    }
    Ok(Client::from_conf(config.build()))
}
