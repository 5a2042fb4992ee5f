//! The `http` target's own connections, read through the reactor and through a shard's
//! answer set.

use crate::endpoint::harvest::Harvest;
use crate::endpoint::http::{ClientSettings, HttpEndpoint, client};
use crate::endpoint::{Endpoint, Slot};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Answers one request per connection with a keep-alive `200 ok`, then closes the idle
/// connection after 20 ms, as a server's keep-alive timeout does.
async fn closing_server() -> (String, Arc<AtomicU32>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicU32::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    let Ok(n @ 1..) = socket.read(&mut buf).await else {
                        return;
                    };
                    got.extend_from_slice(&buf[..n]);
                }
                let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                let _ = socket.write_all(answer).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            });
        }
    });
    (url, accepted)
}

/// A `GET` target for `url` with a 5 s timeout.
fn target(url: &str) -> HttpEndpoint {
    let settings = ClientSettings {
        timeout: Duration::from_secs(5),
        max_in_flight: 1,
    };
    HttpEndpoint::new(
        client(&settings).unwrap(),
        "GET",
        url,
        "text/plain",
        &Default::default(),
    )
    .unwrap()
}

/// Answers each request head it reads with the next of `answers` (whatever connection
/// it came on), closing the connection after it when its flag says so. Counts
/// connections.
async fn canned_server(answers: Vec<(Vec<u8>, bool)>) -> (String, Arc<AtomicU32>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicU32::new(0));
    let count = accepted.clone();
    let answers = Arc::new(std::sync::Mutex::new(answers.into_iter()));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let answers = answers.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                loop {
                    while let Some(at) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                        got.drain(..at + 4);
                        let next = answers.lock().unwrap().next();
                        let Some((answer, close)) = next else { return };
                        if socket.write_all(&answer).await.is_err() || close {
                            return;
                        }
                    }
                    let Ok(n @ 1..) = socket.read(&mut buf).await else {
                        return;
                    };
                    got.extend_from_slice(&buf[..n]);
                }
            });
        }
    });
    (url, accepted)
}

/// Chunked, long and error answers are read to their ends on one kept connection: body
/// bytes counted (decoded), an error's status, class and first bytes kept.
#[tokio::test]
async fn chunked_long_and_error_answers_share_one_kept_connection() {
    chunked_long_and_error_answers(Slot::default()).await;
    let (slot, collecting) = harvested_slot(Duration::from_millis(1));
    chunked_long_and_error_answers(slot).await;
    assert_eq!(
        collecting.harvest.watching(),
        0,
        "the connection left the set"
    );
}

async fn chunked_long_and_error_answers(mut slot: Slot) {
    let mut long = b"HTTP/1.1 200 OK\r\ncontent-length: 65536\r\n\r\n".to_vec();
    long.resize(long.len() + 65536, b'x');
    let answers = vec![
        (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n".to_vec(), false),
        (long, false),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Busy\r\ncontent-length: 9\r\n\r\ntoo busy!".to_vec(), false),
        (b"HTTP/1.1 204 No Content\r\n\r\n".to_vec(), false),
    ];
    let (url, accepted) = canned_server(answers).await;
    let target = target(&url);
    let mut send = async || target.request_in(&mut slot, bytes::Bytes::new()).await;
    assert_eq!(send().await.map(|r| r.bytes_in), Ok(9));
    assert_eq!(send().await.map(|r| r.bytes_in), Ok(65536));
    let failure = send().await.unwrap_err();
    assert_eq!(failure.status, Some(503));
    assert_eq!(failure.kind, crate::sample::ErrorKind::from_http(503, None));
    assert_eq!(failure.excerpt.text(), "too busy!");
    assert_eq!(send().await.map(|r| r.bytes_in), Ok(0));
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "one connection throughout"
    );
}

/// `connection: close` ends the connection after its answer and the next request opens
/// a new one; a server that closes mid-answer is an I/O failure, not a success.
#[tokio::test]
async fn a_closing_answer_is_followed_by_a_new_connection_and_a_cut_one_fails() {
    a_closing_answer_then_a_cut_one(Slot::default()).await;
    let (slot, _collecting) = harvested_slot(Duration::from_millis(1));
    a_closing_answer_then_a_cut_one(slot).await;
}

async fn a_closing_answer_then_a_cut_one(mut slot: Slot) {
    let answers = vec![
        (
            b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok".to_vec(),
            false,
        ),
        (
            b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc".to_vec(),
            true,
        ),
        (
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_vec(),
            false,
        ),
    ];
    let (url, accepted) = canned_server(answers).await;
    let target = target(&url);
    let mut send = async || target.request_in(&mut slot, bytes::Bytes::new()).await;
    assert_eq!(send().await.map(|r| r.bytes_in), Ok(2));
    let cut = send().await.unwrap_err();
    assert_eq!(cut.kind, crate::sample::ErrorKind::Io, "{cut:?}");
    assert!(
        cut.excerpt.text().contains("closed before the answer"),
        "{cut:?}"
    );
    assert_eq!(send().await.map(|r| r.bytes_in), Ok(2));
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_connection_the_server_closed_while_idle_is_replaced_not_failed() {
    a_connection_closed_while_idle(Slot::default()).await;
    let (slot, _collecting) = harvested_slot(Duration::from_millis(1));
    a_connection_closed_while_idle(slot).await;
}

async fn a_connection_closed_while_idle(mut slot: Slot) {
    let (url, accepted) = closing_server().await;
    let target = target(&url);
    for _ in 0..3 {
        let reply = target.request_in(&mut slot, bytes::Bytes::new()).await;
        assert_eq!(reply.map(|r| r.bytes_in), Ok(2));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        3,
        "one connection per request"
    );
}

/// A shard's answer set, collected every `period` (as a dense open loop does at its
/// arrivals) until this drops.
struct Collecting {
    harvest: Arc<Harvest>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Collecting {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A slot of a shard that collects its answers every `period`.
fn harvested_slot(period: Duration) -> (Slot, Collecting) {
    let harvest = Arc::new(Harvest::new(4).unwrap());
    let set = harvest.clone();
    let task = tokio::spawn(async move {
        loop {
            set.collect();
            tokio::time::sleep(period).await;
        }
    });
    (Slot::harvested(&harvest, 0), Collecting { harvest, task })
}

/// An answer, success or error, read long after it arrived is timed when it arrived (the
/// kernel's receive timestamp), not when it was read: the set is collected only 60 ms after
/// the request.
#[tokio::test]
async fn an_answer_read_late_is_timed_when_it_arrived() {
    for (answer, ok) in [
        (&b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"[..], true),
        (b"HTTP/1.1 503 Busy\r\ncontent-length: 4\r\n\r\nbusy", false),
    ] {
        let (url, _) = canned_server(vec![(answer.to_vec(), false)]).await;
        let target = target(&url);
        let harvest = Arc::new(Harvest::new(1).unwrap());
        let mut slot = Slot::harvested(&harvest, 0);
        let started = tokio::time::Instant::now();
        let late = async {
            tokio::time::sleep(Duration::from_millis(60)).await;
            harvest.collect()
        };
        let (reply, collected) =
            tokio::join!(target.request_in(&mut slot, bytes::Bytes::new()), late);
        let read_after = started.elapsed();
        assert_eq!(collected, 1, "the answer was waiting in the set");
        assert_eq!(harvest.watching(), 1, "the connection is in the set");
        assert_eq!(reply.is_ok(), ok, "{reply:?}");
        let done = slot.answered_after().expect("a kernel timestamp");
        assert!(read_after >= Duration::from_millis(60), "{read_after:?}");
        assert!(
            done < Duration::from_millis(20),
            "timed {done:?} after the send"
        );
    }
}
