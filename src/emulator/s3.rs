//! The S3 subset the emulator serves, path-style (`/{bucket}/{key}`): PUT, GET, HEAD and
//! DELETE of objects, plus `PUT /{bucket}` (create bucket) and `GET /{bucket}?list-type=2`
//! (ListObjectsV2, by prefix, one page). Async endpoints read their
//! input objects from it and write their output and failure objects into it, so a client
//! sees completion the way an account shows it: an object appears.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Largest object the emulator stores.
const MAX_OBJECT: usize = 64 << 20;

/// Objects by (bucket, key).
#[derive(Clone, Default)]
pub(crate) struct Store(Arc<Mutex<HashMap<(String, String), Bytes>>>);

impl Store {
    fn objects(&self) -> MutexGuard<'_, HashMap<(String, String), Bytes>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores an object.
    pub(crate) fn put(&self, bucket: &str, key: &str, body: Bytes) {
        self.objects()
            .insert((bucket.to_string(), key.to_string()), body);
    }

    /// An object's body.
    pub(crate) fn get(&self, bucket: &str, key: &str) -> Option<Bytes> {
        self.objects()
            .get(&(bucket.to_string(), key.to_string()))
            .cloned()
    }

    /// The keys of `bucket` that start with `prefix`, sorted, with their sizes.
    fn keys(&self, bucket: &str, prefix: &str) -> Vec<(String, usize)> {
        let mut keys: Vec<(String, usize)> = self
            .objects()
            .iter()
            .filter(|((b, k), _)| b == bucket && k.starts_with(prefix))
            .map(|((_, k), body)| (k.clone(), body.len()))
            .collect();
        keys.sort();
        keys
    }

    fn delete(&self, bucket: &str, key: &str) {
        self.objects()
            .remove(&(bucket.to_string(), key.to_string()));
    }

    /// Stores an object at an `s3://bucket/key` location (ignored when it is not one).
    pub(crate) fn put_location(&self, location: &str, body: Bytes) {
        if let Some((bucket, key)) = split_location(location) {
            self.put(bucket, key, body);
        }
    }

    /// The body at an `s3://bucket/key` location.
    pub(crate) fn get_location(&self, location: &str) -> Option<Bytes> {
        let (bucket, key) = split_location(location)?;
        self.get(bucket, key)
    }
}

/// `s3://bucket/key` → (bucket, key).
pub(crate) fn split_location(location: &str) -> Option<(&str, &str)> {
    let rest = location.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then_some((bucket, key))
}

fn etag(body: &[u8]) -> HeaderValue {
    // Not MD5, but stable per content, which is all a client compares.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in body {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    HeaderValue::from_str(&format!("\"{h:016x}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

fn no_such_key(bucket: &str, key: &str) -> Response {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code>\
         <Message>The specified key does not exist.</Message><Key>{key}</Key>\
         <BucketName>{bucket}</BucketName></Error>"
    );
    let mut r = (StatusCode::NOT_FOUND, xml).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    r
}

/// `PUT /{bucket}/{key}`.
pub(crate) async fn put_object(
    State(store): State<Store>,
    Path((bucket, key)): Path<(String, String)>,
    body: Body,
) -> Response {
    let Ok(bytes) = axum::body::to_bytes(body, MAX_OBJECT).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "object too large").into_response();
    };
    let tag = etag(&bytes);
    store.put(&bucket, &key, bytes);
    let mut r = StatusCode::OK.into_response();
    r.headers_mut().insert(header::ETAG, tag);
    r
}

/// `GET /{bucket}/{key}`.
pub(crate) async fn get_object(
    State(store): State<Store>,
    Path((bucket, key)): Path<(String, String)>,
) -> Response {
    match store.get(&bucket, &key) {
        Some(bytes) => {
            let tag = etag(&bytes);
            let mut r = (StatusCode::OK, bytes).into_response();
            r.headers_mut().insert(header::ETAG, tag);
            r
        }
        None => no_such_key(&bucket, &key),
    }
}

/// `HEAD /{bucket}/{key}`: the headers of GET, no body; 404 with no body when missing.
pub(crate) async fn head_object(
    State(store): State<Store>,
    Path((bucket, key)): Path<(String, String)>,
) -> Response {
    match store.get(&bucket, &key) {
        Some(bytes) => {
            let mut r = StatusCode::OK.into_response();
            let h = r.headers_mut();
            h.insert(header::ETAG, etag(&bytes));
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            r
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `DELETE /{bucket}/{key}`: 204, whether or not it existed (as S3 answers).
pub(crate) async fn delete_object(
    State(store): State<Store>,
    Path((bucket, key)): Path<(String, String)>,
) -> StatusCode {
    store.delete(&bucket, &key);
    StatusCode::NO_CONTENT
}

/// The `prefix` parameter of a query string, percent-decoded; empty when absent.
fn prefix_of(query: Option<&str>) -> String {
    let Some(raw) = query
        .unwrap_or("")
        .split('&')
        .find_map(|p| p.strip_prefix("prefix="))
    else {
        return String::new();
    };
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `GET /{bucket}?list-type=2&prefix=…`: every key under the prefix, in one page.
pub(crate) async fn list_objects(
    State(store): State<Store>,
    Path(bucket): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let prefix = prefix_of(query.as_deref());
    let keys = store.keys(&bucket, &prefix);
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
         <Name>{}</Name><Prefix>{}</Prefix><KeyCount>{}</KeyCount><MaxKeys>{}</MaxKeys>\
         <IsTruncated>false</IsTruncated>",
        escape(&bucket),
        escape(&prefix),
        keys.len(),
        keys.len().max(1000)
    );
    for (key, size) in &keys {
        xml.push_str(&format!(
            "<Contents><Key>{}</Key><Size>{size}</Size></Contents>",
            escape(key)
        ));
    }
    xml.push_str("</ListBucketResult>");
    let mut r = (StatusCode::OK, xml).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    r
}

/// XML text escaping of a key or name.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `PUT /{bucket}`: buckets exist as soon as they are named; 200.
pub(crate) async fn create_bucket() -> StatusCode {
    StatusCode::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_split_into_bucket_and_key() {
        assert_eq!(split_location("s3://b/k/1.out"), Some(("b", "k/1.out")));
        assert_eq!(split_location("s3://b/"), None);
        assert_eq!(split_location("http://b/k"), None);
        let store = Store::default();
        store.put_location("s3://b/in/1.bin", Bytes::from_static(b"abc"));
        assert_eq!(store.get("b", "in/1.bin").as_deref(), Some(&b"abc"[..]));
        assert!(store.get_location("s3://b/in/2.bin").is_none());
    }

    #[test]
    fn list_prefixes_are_percent_decoded_and_select_keys() {
        assert_eq!(prefix_of(Some("list-type=2&prefix=lt%2Fa%20b")), "lt/a b");
        assert_eq!(prefix_of(Some("list-type=2")), "");
        let store = Store::default();
        store.put("b", "p/lt-1/in.bin", Bytes::from_static(b"ab"));
        store.put("b", "p/lt-2/in.bin", Bytes::from_static(b"c"));
        store.put("other", "p/lt-1/x", Bytes::from_static(b"c"));
        assert_eq!(
            store.keys("b", "p/lt-1/"),
            [("p/lt-1/in.bin".to_string(), 2)]
        );
        assert_eq!(store.keys("b", "p/").len(), 2);
    }
}
