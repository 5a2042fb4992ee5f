//! The SageMaker runtime client of a run: AWS config (region, named profile, endpoint URL),
//! credentials resolved once before any load, retries off unless asked, timeouts from the
//! profile and a connection pool sized for the load.

use crate::endpoint::EndpointError;
use crate::endpoint::http::error_chain;
use crate::profile::SageMakerTarget;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_sagemakerruntime::Client;
use aws_sdk_sagemakerruntime::config::interceptors::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_sagemakerruntime::config::retry::RetryConfig;
use aws_sdk_sagemakerruntime::config::timeout::TimeoutConfig;
use aws_sdk_sagemakerruntime::config::{
    ConfigBag, Credentials, Intercept, ProvideCredentials, Region, RuntimeComponents,
    StalledStreamProtectionConfig,
};
use aws_sdk_sagemakerruntime::error::BoxError;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// Longest wait for a TCP/TLS connection, whatever the profile's timeout.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Idle connections are closed after this long.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Builds the SageMaker runtime client a run shares, with the standard AWS credential chain
/// (environment, shared config and `profile`, SSO, process, container and instance
/// metadata). Credentials are resolved here, once: a missing or expired one is
/// [`EndpointError::Credentials`] before any load is sent.
pub async fn client(
    settings: &SageMakerTarget,
    timeout: Duration,
    max_in_flight: usize,
) -> Result<Client, EndpointError> {
    client_with_credentials(settings, timeout, max_in_flight, None).await
}

/// As [`client`], with fixed `credentials` instead of the standard chain when given (tests,
/// `loadtest emulate`).
pub async fn client_with_credentials(
    settings: &SageMakerTarget,
    timeout: Duration,
    max_in_flight: usize,
    credentials: Option<Credentials>,
) -> Result<Client, EndpointError> {
    let sdk = sdk_config(settings, timeout, max_in_flight, credentials).await;
    check_credentials(&sdk, settings).await?;
    let mut config = aws_sdk_sagemakerruntime::config::Builder::from(&sdk);
    if let Some(url) = &settings.endpoint_url {
        // Only the runtime API goes to `endpoint_url`; STS and SSO stay where they are.
        config = config.endpoint_url(url);
    }
    Ok(Client::from_conf(config.build()))
}

/// The shared AWS config of `settings` (region, profile, credentials checked once), for
/// the other SDK clients of a run (control plane, S3); their endpoint URL is theirs to set.
pub async fn shared_config(
    settings: &SageMakerTarget,
    timeout: Duration,
    credentials: Option<Credentials>,
) -> Result<SdkConfig, EndpointError> {
    let sdk = sdk_config(settings, timeout, 4, credentials).await;
    check_credentials(&sdk, settings).await?;
    Ok(sdk)
}

/// Loads the shared AWS config with this run's region, profile, retries, timeouts and client.
async fn sdk_config(
    settings: &SageMakerTarget,
    timeout: Duration,
    max_in_flight: usize,
    credentials: Option<Credentials>,
) -> SdkConfig {
    let http_client = aws_smithy_http_client::Builder::new()
        .pool_max_idle_per_host(max_in_flight.max(1))
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(settings.region.clone()))
        .retry_config(retry_config(settings.retries))
        .timeout_config(timeout_config(timeout))
        // The profile's timeout is the only limit on a slow answer.
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .http_client(http_client);
    if let Some(name) = &settings.profile {
        loader = loader.profile_name(name);
    }
    if let Some(credentials) = credentials {
        loader = loader.credentials_provider(credentials);
    }
    loader.load().await
}

/// No retries unless asked: a retried request hides throttling and distorts latency.
fn retry_config(retries: u32) -> RetryConfig {
    if retries == 0 {
        RetryConfig::disabled()
    } else {
        RetryConfig::standard().with_max_attempts(retries.saturating_add(1))
    }
}

/// Every attempt and the whole operation end at the profile's timeout.
fn timeout_config(timeout: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
        .operation_attempt_timeout(timeout)
        .operation_timeout(timeout)
        .build()
}

/// Resolves credentials once; missing or expired ones become a message saying what to do,
/// which never includes a key, token or signature.
async fn check_credentials(
    sdk: &SdkConfig,
    settings: &SageMakerTarget,
) -> Result<(), EndpointError> {
    let failed = |reason: String| EndpointError::Credentials {
        reason: format!("{reason}; {}", remedy(settings)),
    };
    let provider = sdk
        .credentials_provider()
        .ok_or_else(|| failed("no AWS credential provider is configured".into()))?;
    let credentials = provider.provide_credentials().await.map_err(|e| {
        failed(format!(
            "no AWS credentials could be loaded ({})",
            error_chain(&e)
        ))
    })?;
    match credentials.expiry() {
        Some(expiry) if expiry <= SystemTime::now() => {
            Err(failed("the AWS credentials found have expired".into()))
        }
        _ => Ok(()),
    }
}

/// What to do about missing credentials, naming the profile when one is set.
pub(super) fn remedy(settings: &SageMakerTarget) -> String {
    match &settings.profile {
        Some(profile) => format!(
            "check profile `{profile}` in ~/.aws/config, or run `aws sso login --profile {profile}` \
             if it uses SSO"
        ),
        None => "set AWS_PROFILE (and run `aws sso login` if that profile uses SSO), set \
                 AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or set `profile` in [target]"
            .to_string(),
    }
}

/// Counts operations and attempts of one endpoint's requests, so retries (attempts beyond
/// the first of each operation) can be reported.
#[derive(Debug, Default)]
pub(super) struct AttemptCounter {
    operations: AtomicU64,
    attempts: AtomicU64,
    /// Retries already handed out by [`AttemptCounter::take_retries`].
    taken: AtomicU64,
}

impl AttemptCounter {
    /// Attempts beyond the first of each operation so far.
    pub(super) fn retries(&self) -> u64 {
        let attempts = self.attempts.load(Ordering::Relaxed);
        attempts.saturating_sub(self.operations.load(Ordering::Relaxed))
    }

    /// Retries since the previous call. `retries` can read low for an instant (an operation
    /// counted before its first attempt), so the mark only moves up.
    pub(super) fn take_retries(&self) -> u64 {
        let now = self.retries();
        now.saturating_sub(self.taken.fetch_max(now, Ordering::Relaxed))
    }
}

/// The interceptor feeding an [`AttemptCounter`].
#[derive(Debug)]
pub(super) struct CountAttempts(pub(super) Arc<AttemptCounter>);

impl Intercept for CountAttempts {
    fn name(&self) -> &'static str {
        "CountAttempts"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.operations.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.attempts.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_are_off_unless_asked() {
        assert_eq!(retry_config(0).max_attempts(), 1);
        assert_eq!(retry_config(2).max_attempts(), 3);
    }

    #[test]
    fn every_timeout_is_the_profiles() {
        let t = timeout_config(Duration::from_secs(30));
        assert_eq!(t.operation_timeout(), Some(Duration::from_secs(30)));
        assert_eq!(t.operation_attempt_timeout(), Some(Duration::from_secs(30)));
        assert_eq!(t.connect_timeout(), Some(MAX_CONNECT_TIMEOUT));
    }
}
