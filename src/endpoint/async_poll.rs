//! Seeing an asynchronous inference complete the way an account shows it: the output object
//! appears at `OutputLocation`, or the failure object at `FailureLocation`. One poll
//! schedule (a short backoff) and one poll loop serve both ways of reading the objects: the
//! S3 SDK (`sagemaker::s3_async`, with the `provision` feature) and the emulator's own
//! path-style S3 over plain HTTP ([`super::async_http`]). A completion is seen at the first
//! poll after it happened, so the largest pause, the schedule's granularity, bounds how late.

use crate::sample::{ErrorKind, Excerpt, Failure};
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// The pauses between two polls of a pending result: `first`, growing by half each time up
/// to `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PollSchedule {
    /// First pause.
    pub first: Duration,
    /// Longest pause: the granularity of a completion time.
    pub max: Duration,
}

/// The schedule every async endpoint polls with.
pub const POLL: PollSchedule = PollSchedule {
    first: Duration::from_millis(5),
    max: Duration::from_millis(200),
};

impl PollSchedule {
    /// The pause after `pause`.
    pub fn next(&self, pause: Duration) -> Duration {
        (pause * 3 / 2).min(self.max)
    }

    /// How late a completion can be seen at most: the longest pause.
    pub fn granularity(&self) -> Duration {
        self.max
    }
}

/// Where the output and failure objects are read: HEAD (does it exist) and GET (its text).
pub(crate) trait Objects {
    /// Whether the object at `location` (`s3://bucket/key`) exists.
    fn exists(&self, location: &str) -> impl Future<Output = Result<bool, Failure>> + Send;
    /// The object's text (empty when it cannot be read).
    fn read(&self, location: &str) -> impl Future<Output = String> + Send;
}

/// `s3://bucket/key` → (bucket, key).
pub(crate) fn split(location: &str) -> Option<(&str, &str)> {
    let (bucket, key) = location.strip_prefix("s3://")?.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then_some((bucket, key))
}

/// Polls `output` and `failure` on `objects` by [`POLL`] until one appears or `ttl` has
/// passed since `sent`; returns the time from `sent` to the poll that saw the output. A
/// failure object is a model error holding its message (or the class its `Code: …` prefix
/// names, e.g. `ServiceUnavailable`); no object within the TTL is a timeout.
pub(crate) async fn wait<O: Objects + Sync>(
    objects: &O,
    output: &str,
    failure: Option<&str>,
    sent: Instant,
    ttl: Duration,
) -> Result<Duration, Failure> {
    let mut pause = POLL.first;
    loop {
        if objects.exists(output).await? {
            return Ok(sent.elapsed());
        }
        if let Some(failure) = failure
            && objects.exists(failure).await?
        {
            let message = objects.read(failure).await;
            return Err(failed(&message));
        }
        if sent.elapsed() + pause > ttl {
            return Err(Failure::of(ErrorKind::Timeout));
        }
        tokio::time::sleep(pause).await;
        pause = POLL.next(pause);
    }
}

/// A failure object's message as a failure: the class its `Code:` prefix names when it is an
/// AWS error code, else a model error.
fn failed(message: &str) -> Failure {
    let code = message.split(':').next().unwrap_or(message).trim();
    let kind = ErrorKind::from_aws_code(code).unwrap_or(ErrorKind::ModelError);
    Failure {
        kind,
        status: None,
        excerpt: Excerpt::of(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Objects that appear after a number of HEADs, recording the instant of each HEAD.
    struct Appearing {
        output_after: usize,
        failure: Option<&'static str>,
        heads: Mutex<Vec<Instant>>,
    }

    impl Objects for Appearing {
        async fn exists(&self, location: &str) -> Result<bool, Failure> {
            let mut heads = self.heads.lock().unwrap();
            if !location.ends_with("-error.out") {
                heads.push(Instant::now());
                return Ok(heads.len() > self.output_after);
            }
            Ok(self.failure.is_some())
        }

        async fn read(&self, _: &str) -> String {
            self.failure.unwrap_or_default().to_string()
        }
    }

    #[test]
    fn the_pauses_back_off_to_the_granularity() {
        let mut pause = POLL.first;
        let mut seen = vec![pause];
        for _ in 0..20 {
            pause = POLL.next(pause);
            seen.push(pause);
        }
        assert_eq!(seen[1], Duration::from_micros(7_500));
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
        assert_eq!(*seen.last().unwrap(), POLL.granularity());
        assert_eq!(POLL.granularity(), Duration::from_millis(200));
    }

    #[tokio::test(start_paused = true)]
    async fn completion_is_seen_at_the_first_poll_after_it_and_no_later_than_the_granularity() {
        let objects = Appearing {
            output_after: 12,
            failure: None,
            heads: Mutex::default(),
        };
        let sent = Instant::now();
        let took = wait(
            &objects,
            "s3://b/1.out",
            None,
            sent,
            Duration::from_secs(60),
        )
        .await
        .unwrap();
        let heads = objects.heads.lock().unwrap();
        assert_eq!(heads.len(), 13);
        assert_eq!(took, heads[12] - sent, "ends at the poll that saw it");
        let gaps: Vec<Duration> = heads.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.iter().all(|g| *g <= POLL.granularity()), "{gaps:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_object_is_a_model_error_and_no_object_a_timeout() {
        let failing = Appearing {
            output_after: usize::MAX,
            failure: Some("the model raised: bad input"),
            heads: Mutex::default(),
        };
        let sent = Instant::now();
        let ttl = Duration::from_secs(1);
        let failure = Some("s3://b/1-error.out");
        let f = wait(&failing, "s3://b/1.out", failure, sent, ttl)
            .await
            .unwrap_err();
        assert_eq!(f.kind, ErrorKind::ModelError);
        assert_eq!(f.excerpt.text(), "the model raised: bad input");
        assert_eq!(
            failed("ServiceUnavailable: shutting down").kind,
            ErrorKind::ServiceUnavailable
        );
        let never = Appearing {
            output_after: usize::MAX,
            failure: None,
            heads: Mutex::default(),
        };
        let f = wait(&never, "s3://b/1.out", None, sent, Duration::from_secs(1))
            .await
            .unwrap_err();
        assert_eq!(f.kind, ErrorKind::Timeout);
    }

    #[test]
    fn locations_split_into_bucket_and_key() {
        assert_eq!(split("s3://b/k/1.out"), Some(("b", "k/1.out")));
        assert_eq!(split("s3://b/"), None);
        assert_eq!(split("emulator://bytes/5"), None);
    }
}
