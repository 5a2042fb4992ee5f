//! The `http` target's own HTTP/1.1 connections: one per in-flight slot of a shard, driven
//! by the requests that use it (no task of its own), a lazily re-armed timeout, and answers
//! read without keeping their bodies.

use super::Reply;
use super::variants::VariantNames;
use crate::sample::{ErrorKind, Excerpt, Failure};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use reqwest::header::HeaderMap;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// An HTTP/1.1 connection driven by the request that uses it: no task of its own, so an
/// answer wakes the shard directly. `None` once the connection has ended.
pub(crate) struct Link {
    sender: SendRequest<Full<Bytes>>,
    connection: Option<Pin<Box<Connection>>>,
}

type Connection = hyper::client::conn::http1::Connection<TokioIo<TcpStream>, Full<Bytes>>;

/// What became of a request on a [`Link`].
pub(crate) enum Sent {
    /// It was sent; this is its answer (or failure).
    Answered(Result<Reply, HttpFailure>),
    /// The connection had closed before the request was written: here it is back.
    Unsent(hyper::Request<Full<Bytes>>),
}

impl Link {
    pub(crate) fn is_open(&self) -> bool {
        self.connection.is_some() && !self.sender.is_closed()
    }

    /// Sends `request` and reads its answer, driving the connection meanwhile.
    pub(crate) async fn exchange(
        &mut self,
        request: hyper::Request<Full<Bytes>>,
        variants: &VariantNames,
    ) -> Sent {
        let Link { sender, connection } = self;
        let work = async {
            if sender.ready().await.is_err() {
                return Sent::Unsent(request);
            }
            match sender.try_send_request(request).await {
                Ok(response) => Sent::Answered(reply(response, variants).await),
                Err(mut e) => match e.take_message() {
                    Some(unsent) => Sent::Unsent(unsent),
                    None => Sent::Answered(Err(HttpFailure::Hyper(e.into_error()))),
                },
            }
        };
        let mut work = std::pin::pin!(work);
        let mut drive = |cx: &mut std::task::Context<'_>| {
            if connection
                .as_mut()
                .is_some_and(|c| c.as_mut().poll(cx).is_ready())
            {
                // Dropping the connection fails whatever still waits on it.
                *connection = None;
            }
        };
        let mut first = true;
        std::future::poll_fn(|cx| {
            if first {
                // An idle connection is not polled between requests: let it see a close
                // the server sent meanwhile before a request is written on it.
                first = false;
                drive(cx);
            }
            if let Poll::Ready(sent) = work.as_mut().poll(cx) {
                return Poll::Ready(sent);
            }
            drive(cx);
            work.as_mut().poll(cx)
        })
        .await
    }
}

/// Opens one keep-alive HTTP/1.1 connection (to be driven by its requests).
pub(crate) async fn connect(authority: &str, timeout: Duration) -> Result<Link, HttpFailure> {
    let stream = match tokio::time::timeout(timeout, TcpStream::connect(authority)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return Err(HttpFailure::Connect(e)),
        Err(_) => return Err(HttpFailure::Timeout),
    };
    stream.set_nodelay(true).map_err(HttpFailure::Connect)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(HttpFailure::Hyper)?;
    Ok(Link {
        sender,
        connection: Some(Box::pin(connection)),
    })
}

/// Reads a hyper answer into a [`Reply`].
async fn reply(
    response: hyper::Response<hyper::body::Incoming>,
    variants: &VariantNames,
) -> Result<Reply, HttpFailure> {
    let (parts, body) = response.into_parts();
    let variant = variant_of(variants, &parts.headers);
    let cold_start = parts.headers.contains_key("x-emulator-cold-start-ms");
    let bytes_in = read_body(parts.status, &parts.headers, body).await?;
    Ok(Reply {
        bytes_in,
        done_after: None,
        variant,
        cold_start,
        tokens: None,
    })
}

/// The production variant that answered, as an id of `variants`.
pub(crate) fn variant_of(variants: &VariantNames, headers: &HeaderMap) -> Option<u16> {
    headers
        .get("x-amzn-invoked-production-variant")
        .and_then(|v| v.to_str().ok())
        .map(|name| variants.id(name))
}

/// Runs `work` until `deadline`. The slot's one timer is re-armed only when it fires before
/// the deadline, so a request costs no timer registration.
pub(crate) async fn within<F>(
    timer: &mut Pin<Box<Sleep>>,
    deadline: Instant,
    work: F,
) -> Result<Reply, HttpFailure>
where
    F: std::future::Future<Output = Result<Reply, HttpFailure>>,
{
    let mut work = std::pin::pin!(work);
    loop {
        tokio::select! {
            biased;
            result = &mut work => return result,
            () = timer.as_mut() => {
                if Instant::now() >= deadline {
                    return Err(HttpFailure::Timeout);
                }
                timer.as_mut().reset(deadline);
            }
        }
    }
}

/// Reads a hyper body, counting bytes without keeping them; an error status becomes a
/// classified [`HttpFailure::Status`] with the first bytes of its body, copied inline.
async fn read_body(
    status: hyper::StatusCode,
    headers: &HeaderMap,
    mut body: hyper::body::Incoming,
) -> Result<u64, HttpFailure> {
    let mut bytes_in = 0u64;
    let mut excerpt = Excerpt::default();
    if let Some(location) = headers
        .get(reqwest::header::LOCATION)
        .filter(|_| status.is_redirection())
    {
        excerpt.push(b"Location: ");
        excerpt.push(location.as_bytes());
        excerpt.push(b" ");
    }
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(HttpFailure::Hyper)?;
        if let Some(chunk) = frame.data_ref() {
            bytes_in += chunk.len() as u64;
            if !status.is_success() && !excerpt.is_full() {
                excerpt.push(chunk);
            }
        }
    }
    if status.is_success() {
        return Ok(bytes_in);
    }
    let error_type = headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok());
    Err(HttpFailure::Status(Failure {
        kind: ErrorKind::from_http(status.as_u16(), error_type),
        status: Some(status.as_u16()),
        excerpt,
    }))
}

/// How one exchange failed: an error answer, or no answer.
#[derive(Debug)]
pub(crate) enum HttpFailure {
    /// The server answered with an error status (or an unusable answer), already classified.
    Status(Failure),
    /// The client gave up: timeout, connect or I/O failure.
    Client(reqwest::Error),
    /// No connection could be opened (refused, unreachable).
    Connect(std::io::Error),
    /// No answer within the target's timeout.
    Timeout,
    /// The connection failed mid-exchange (closed, reset, unparsable answer).
    Hyper(hyper::Error),
}

impl HttpFailure {
    /// An unusable answer of class `kind`, saying why.
    pub(crate) fn answer(kind: ErrorKind, status: Option<u16>, why: &str) -> HttpFailure {
        HttpFailure::Status(Failure {
            kind,
            status,
            excerpt: Excerpt::of(why),
        })
    }
}

impl From<reqwest::Error> for HttpFailure {
    fn from(e: reqwest::Error) -> HttpFailure {
        HttpFailure::Client(e)
    }
}

#[cfg(test)]
mod tests {
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

    #[tokio::test]
    async fn a_connection_the_server_closed_while_idle_is_replaced_not_failed() {
        let (url, accepted) = closing_server().await;
        let settings = ClientSettings {
            timeout: Duration::from_secs(5),
            max_in_flight: 1,
        };
        let target = HttpEndpoint::new(
            client(&settings).unwrap(),
            "GET",
            &url,
            "text/plain",
            &Default::default(),
        )
        .unwrap();
        let mut slot = Slot::default();
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
}
