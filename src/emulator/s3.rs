//! The S3 subset the emulator serves, path-style (`/{bucket}/{key}`): PUT, GET, HEAD and
//! DELETE of objects, plus `PUT /{bucket}` (create bucket) and `GET /{bucket}?list-type=2`
//! (ListObjectsV2, by prefix, one page). Async endpoints read their
//! input objects from it and write their output and failure objects into it, so a client
//! sees completion the way an account shows it: an object appears. Those outputs expire as
//! under a lifecycle rule (after [`OUTPUT_EXPIRY`], oldest first past [`OUTPUT_BYTES`]), so a
//! long async run keeps memory bounded; objects a client PUT stay until deleted.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// Largest object the emulator stores.
const MAX_OBJECT: usize = 64 << 20;

/// How long an object the emulator wrote (an async output or failure) stays, from its write,
/// like an S3 lifecycle rule on the output buckets. The tool reads an output within one poll
/// pause of its write (at most 200 ms, `endpoint::async_poll`) whatever the request's TTL
/// (`target.timeout`, up to 24 h, counts from the invoke, and no poll outlives it), so ten
/// minutes is ample for it and still leaves a person time to fetch one by hand.
pub(crate) const OUTPUT_EXPIRY: Duration = Duration::from_secs(600);

/// Most bytes (keys and bodies) of emulator-written objects kept; past it the oldest go first.
/// An output object is a few hundred bytes, so this still holds tens of seconds of outputs
/// at any rate the emulator serves, far beyond a poll pause.
pub(crate) const OUTPUT_BYTES: usize = 64 << 20;

/// One stored object; `output` numbers an object the emulator wrote (it expires).
struct Object {
    body: Bytes,
    output: Option<u64>,
}

/// An emulator-written object in write order: when, its number, where, and its bytes.
struct Written {
    at: Instant,
    output: u64,
    key: (String, String),
    bytes: usize,
}

/// The objects, and the emulator-written ones in write order for expiry.
#[derive(Default)]
struct Objects {
    map: HashMap<(String, String), Object>,
    written: VecDeque<Written>,
    /// Bytes of `written` (keys and bodies).
    written_bytes: usize,
    next_output: u64,
}

impl Objects {
    /// Drops the emulator-written objects older than `expiry` at `now`, then the oldest while
    /// they hold more than `cap` bytes. Objects a client PUT are never dropped.
    fn expire(&mut self, now: Instant, (expiry, cap): (Duration, usize)) {
        while let Some(w) = self.written.front() {
            let expired = now.saturating_duration_since(w.at) >= expiry;
            if !expired && self.written_bytes <= cap {
                break;
            }
            let Some(w) = self.written.pop_front() else {
                break;
            };
            self.written_bytes -= w.bytes;
            // A client may have replaced or deleted it since.
            if self
                .map
                .get(&w.key)
                .is_some_and(|o| o.output == Some(w.output))
            {
                self.map.remove(&w.key);
            }
        }
    }
}

/// Objects by (bucket, key): what clients PUT, kept until deleted, and what the emulator
/// writes (async outputs and failures), which expire ([`OUTPUT_EXPIRY`], [`OUTPUT_BYTES`]),
/// checked on each write.
#[derive(Clone)]
pub(crate) struct Store {
    objects: Arc<Mutex<Objects>>,
    /// The expiry and byte cap of emulator-written objects.
    limits: (Duration, usize),
}

impl Default for Store {
    fn default() -> Store {
        Store::with_limits(OUTPUT_EXPIRY, OUTPUT_BYTES)
    }
}

impl Store {
    /// A store whose emulator-written objects expire after `expiry` or past `cap` bytes.
    fn with_limits(expiry: Duration, cap: usize) -> Store {
        Store {
            objects: Arc::default(),
            limits: (expiry, cap),
        }
    }

    fn objects(&self) -> MutexGuard<'_, Objects> {
        self.objects.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores an object a client PUT; it stays until deleted.
    pub(crate) fn put(&self, bucket: &str, key: &str, body: Bytes) {
        let mut objects = self.objects();
        objects.expire(Instant::now(), self.limits);
        let key = (bucket.to_string(), key.to_string());
        objects.map.insert(key, Object { body, output: None });
    }

    /// Stores an object the emulator wrote at `now` (an async output or failure), which
    /// expires.
    fn put_output(&self, bucket: &str, key: &str, body: Bytes, now: Instant) {
        let mut objects = self.objects();
        let key = (bucket.to_string(), key.to_string());
        let bytes = key.0.len() + key.1.len() + body.len();
        let output = objects.next_output;
        objects.next_output += 1;
        objects.written.push_back(Written {
            at: now,
            output,
            key: key.clone(),
            bytes,
        });
        objects.written_bytes += bytes;
        let output = Some(output);
        objects.map.insert(key, Object { body, output });
        objects.expire(now, self.limits);
    }

    /// An object's body.
    pub(crate) fn get(&self, bucket: &str, key: &str) -> Option<Bytes> {
        self.objects()
            .map
            .get(&(bucket.to_string(), key.to_string()))
            .map(|o| o.body.clone())
    }

    /// The keys of `bucket` that start with `prefix`, sorted, with their sizes.
    fn keys(&self, bucket: &str, prefix: &str) -> Vec<(String, usize)> {
        let mut keys: Vec<(String, usize)> = self
            .objects()
            .map
            .iter()
            .filter(|((b, k), _)| b == bucket && k.starts_with(prefix))
            .map(|((_, k), o)| (k.clone(), o.body.len()))
            .collect();
        keys.sort();
        keys
    }

    fn delete(&self, bucket: &str, key: &str) {
        self.objects()
            .map
            .remove(&(bucket.to_string(), key.to_string()));
    }

    /// Stores an async output or failure the emulator wrote at an `s3://bucket/key` location
    /// (ignored when it is not one); it expires like the others the emulator writes.
    pub(crate) fn put_output_location(&self, location: &str, body: Bytes) {
        if let Some((bucket, key)) = split_location(location) {
            self.put_output(bucket, key, body, Instant::now());
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
        store.put_output_location("s3://b/in/1.bin", Bytes::from_static(b"abc"));
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

    #[test]
    fn outputs_expire_a_fixed_time_after_their_write_and_inputs_stay() {
        let store = Store::with_limits(Duration::from_secs(600), usize::MAX);
        let t0 = Instant::now();
        let body = || Bytes::from_static(b"{}");
        store.put_output("out", "e/1.out", body(), t0);
        store.put("in", "1.bin", body());
        store.put_output("out", "e/2.out", body(), t0 + Duration::from_secs(599));
        assert!(store.get("out", "e/1.out").is_some(), "not yet 10 minutes");
        store.put_output("out", "e/3.out", body(), t0 + Duration::from_secs(600));
        assert!(
            store.get("out", "e/1.out").is_none(),
            "expired on the write"
        );
        assert!(store.get("out", "e/2.out").is_some());
        store.put_output("out", "e/4.out", body(), t0 + Duration::from_secs(86_400));
        assert_eq!(store.keys("out", "e/"), [("e/4.out".to_string(), 2)]);
        assert!(
            store.get("in", "1.bin").is_some(),
            "a client's PUT never expires"
        );
        assert_eq!(
            store.objects().written.len(),
            1,
            "the write order holds only what is kept"
        );
    }

    #[test]
    fn past_the_byte_cap_the_oldest_outputs_go_first_and_inputs_stay() {
        // Each output holds 3 (bucket) + 5 (key) + 100 bytes.
        let store = Store::with_limits(Duration::from_secs(600), 3 * 108);
        let t0 = Instant::now();
        store.put("in", "big.bin", Bytes::from(vec![0; 1000]));
        for i in 0..5u64 {
            let at = t0 + Duration::from_millis(i);
            store.put_output("out", &format!("{i}.out"), Bytes::from(vec![1; 100]), at);
        }
        let kept: Vec<String> = store.keys("out", "").into_iter().map(|(k, _)| k).collect();
        assert_eq!(kept, ["2.out", "3.out", "4.out"]);
        assert_eq!(store.objects().written_bytes, 3 * 108);
        assert!(
            store.get("in", "big.bin").is_some(),
            "inputs do not count or go"
        );
    }

    #[test]
    fn an_output_a_client_replaced_or_the_emulator_rewrote_is_not_expired_early() {
        let store = Store::with_limits(Duration::from_secs(10), usize::MAX);
        let t0 = Instant::now();
        let body = |b: &'static [u8]| Bytes::from_static(b);
        store.put_output("b", "k", body(b"out"), t0);
        store.put("b", "k", body(b"client"));
        store.put_output("b", "r", body(b"first"), t0);
        store.delete("b", "r");
        store.put_output("b", "r", body(b"second"), t0 + Duration::from_secs(5));
        store.put_output("b", "x", body(b"x"), t0 + Duration::from_secs(10));
        assert_eq!(store.get("b", "k").as_deref(), Some(&b"client"[..]));
        assert_eq!(store.get("b", "r").as_deref(), Some(&b"second"[..]));
        store.put_output("b", "y", body(b"y"), t0 + Duration::from_secs(15));
        assert!(store.get("b", "r").is_none(), "its own 10 s are up");
        assert!(store.get("b", "k").is_some());
    }
}
