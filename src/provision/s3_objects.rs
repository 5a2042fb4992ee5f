//! The S3 objects of provisioned runs: everything a run puts under `<s3_prefix>/<run id>/`
//! (its async inputs, and the output and failure objects of its requests), listed and
//! deleted at the run's teardown and by `loadtest cleanup --s3-prefix`.

use aws_sdk_s3::Client;

/// One object of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunObject {
    /// The run id its key carries.
    pub run: String,
    /// `s3://bucket/key`.
    pub location: String,
}

/// `<prefix>/<run id>`: where a run's objects go.
pub fn run_prefix(prefix: &str, run_id: &str) -> String {
    format!("{}/{run_id}", prefix.trim_end_matches('/'))
}

/// `s3://bucket/some/prefix` → (bucket, `some/prefix/`); `s3://bucket` → (bucket, ``).
fn bucket_and_keys(prefix: &str) -> Option<(&str, String)> {
    let rest = prefix.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    let key = key.trim_end_matches('/');
    let key = if key.is_empty() {
        String::new()
    } else {
        format!("{key}/")
    };
    (!bucket.is_empty()).then_some((bucket, key))
}

/// The objects of runs under `prefix` (of the run `run` only, when given): keys whose first
/// part after the prefix is a run id (`lt-…`).
pub async fn list(s3: &Client, prefix: &str, run: Option<&str>) -> Result<Vec<RunObject>, String> {
    let (bucket, keys) =
        bucket_and_keys(prefix).ok_or_else(|| format!("`{prefix}` is not an s3:// location"))?;
    let under = match run {
        Some(run) => format!("{keys}{run}/"),
        None => keys.clone(),
    };
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(&under)
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(|e| {
                format!(
                    "cannot list {prefix}: {}",
                    crate::endpoint::http::error_chain(&e)
                )
            })?;
        for object in page.contents() {
            let Some(key) = object.key() else { continue };
            let Some(id) = key[keys.len().min(key.len())..].split('/').next() else {
                continue;
            };
            if id.starts_with("lt-") && run.is_none_or(|r| r == id) {
                out.push(RunObject {
                    run: id.to_string(),
                    location: format!("s3://{bucket}/{key}"),
                });
            }
        }
        match page.next_continuation_token() {
            Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_string()),
            _ => return Ok(out),
        }
    }
}

/// Deletes `objects`; returns those that could not be deleted.
pub async fn delete(s3: &Client, objects: &[RunObject]) -> Vec<RunObject> {
    let mut left = Vec::new();
    for o in objects {
        let Some((bucket, key)) = o
            .location
            .strip_prefix("s3://")
            .and_then(|l| l.split_once('/'))
        else {
            continue;
        };
        if let Err(e) = s3.delete_object().bucket(bucket).key(key).send().await {
            eprintln!(
                "warning: could not delete {}: {}",
                o.location,
                crate::endpoint::http::error_chain(&e)
            );
            left.push(o.clone());
        }
    }
    left
}

/// The AWS CLI command that deletes the objects of `run` under `prefix`.
pub fn delete_command(prefix: &str, run: &str) -> String {
    format!("aws s3 rm --recursive {}/", run_prefix(prefix, run))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_split_into_bucket_and_key_prefix() {
        assert_eq!(
            bucket_and_keys("s3://b/load/test/"),
            Some(("b", "load/test/".to_string()))
        );
        assert_eq!(bucket_and_keys("s3://b"), Some(("b", String::new())));
        assert_eq!(bucket_and_keys("http://b"), None);
        assert_eq!(run_prefix("s3://b/p/", "lt-1"), "s3://b/p/lt-1");
        assert_eq!(
            delete_command("s3://b/p", "lt-1"),
            "aws s3 rm --recursive s3://b/p/lt-1/"
        );
    }
}
