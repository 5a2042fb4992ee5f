//! The `http` target's own HTTP/1.1 connections: one per in-flight slot of a shard, driven
//! by the request that uses it (no task, channel or header map per request). The request
//! head is encoded once per target and a request is one write; the answer is parsed in a
//! buffer the connection keeps, its body counted and not kept ([`super::h1_answer`]).

use super::Reply;
use super::h1_answer::{AnswerHead, Framing, Malformed, follow_body, parse_head};
use super::h1_wire::{SlotHarvest, Wire};
use super::variants::VariantNames;
use crate::sample::{ErrorKind, Excerpt, Failure};
use reqwest::header::HeaderMap;
use std::pin::Pin;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// Bytes a connection reads at a time (its buffer; more only for a longer answer head).
const READ_BUFFER: usize = 16 * 1024;
/// Longest answer head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Bodies up to this size go in the same write as the head; longer ones in a second.
const INLINE_BODY: usize = 16 * 1024;

/// A target's request line and headers, encoded once; each request adds its length.
#[derive(Debug, Clone)]
pub(crate) struct RequestHead {
    /// `METHOD /path HTTP/1.1\r\n` and every header line, without the closing blank line.
    bytes: Vec<u8>,
    /// A `HEAD` request: its answer has no body.
    is_head: bool,
    /// Whether an empty body still says `content-length: 0` (methods that carry a body).
    always_length: bool,
}

impl RequestHead {
    /// The head of `method path` with `headers` (names and values already checked).
    pub(crate) fn new<'a>(
        method: &str,
        path: &str,
        headers: impl Iterator<Item = (&'a str, &'a [u8])>,
    ) -> RequestHead {
        let mut bytes = format!("{method} {path} HTTP/1.1\r\n").into_bytes();
        for (name, value) in headers {
            bytes.extend_from_slice(name.as_bytes());
            bytes.extend_from_slice(b": ");
            bytes.extend_from_slice(value);
            bytes.extend_from_slice(b"\r\n");
        }
        RequestHead {
            bytes,
            is_head: method == "HEAD",
            always_length: matches!(method, "POST" | "PUT" | "PATCH"),
        }
    }

    /// Writes the whole head for a body of `len` bytes into `out`.
    fn encode(&self, len: usize, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&self.bytes);
        if len > 0 || self.always_length {
            out.extend_from_slice(b"content-length: ");
            out.extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// One keep-alive HTTP/1.1 connection with the buffers it reuses for every exchange.
pub(crate) struct Link {
    wire: Wire,
    read: Vec<u8>,
    write: Vec<u8>,
    /// Cleared when the last answer ended the connection (or left it mid-message).
    reusable: bool,
    /// When the last read of the exchange under way was received, when the kernel says.
    received: Option<Instant>,
}

impl Link {
    /// Opens a connection to `authority` (`host:port`) within `timeout`, read through the
    /// reactor or, for a slot of a shard that collects its answers, through `harvest`.
    pub(crate) async fn connect(
        authority: &str,
        timeout: Duration,
        harvest: Option<&SlotHarvest>,
    ) -> Result<Link, HttpFailure> {
        let stream = match tokio::time::timeout(timeout, TcpStream::connect(authority)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => return Err(HttpFailure::Connect(e)),
            Err(_) => return Err(HttpFailure::Timeout),
        };
        stream.set_nodelay(true).map_err(HttpFailure::Connect)?;
        Ok(Link {
            wire: Wire::new(stream, harvest).map_err(HttpFailure::Connect)?,
            read: vec![0; READ_BUFFER],
            write: Vec::with_capacity(512),
            reusable: true,
            received: None,
        })
    }

    /// Whether the last exchange left the connection able to carry another request: its
    /// answer read to the end and not closing it. (Cleared while an exchange is under way,
    /// so a timed-out or failed one leaves it cleared.)
    pub(crate) fn is_kept(&self) -> bool {
        self.reusable
    }

    /// Whether another request may be written here: the last answer kept the connection,
    /// and the server has neither closed it nor sent anything since. The reactor knows
    /// when the socket has something to read, so this costs no system call when it has not.
    pub(crate) fn is_reusable(&mut self) -> bool {
        if !self.is_kept() {
            return false;
        }
        // Closed (0 bytes), unasked bytes, or an error: not for another request.
        self.reusable = self.wire.is_quiet(&mut self.read);
        self.reusable
    }

    /// How long after `started` the last exchange's last read was received, when the kernel
    /// timestamped it (a harvested connection).
    pub(crate) fn received_after(&self, started: Instant) -> Option<Duration> {
        self.received
            .map(|at| at.saturating_duration_since(started))
    }

    /// Writes one request and reads its answer; when the kernel timestamped it, see
    /// [`Link::received_after`].
    pub(crate) async fn exchange(
        &mut self,
        head: &RequestHead,
        body: &[u8],
        variants: &VariantNames,
    ) -> Result<Reply, HttpFailure> {
        self.reusable = false;
        self.received = None;
        head.encode(body.len(), &mut self.write);
        if body.len() <= INLINE_BODY {
            self.write.extend_from_slice(body);
            self.wire
                .write_all(&self.write)
                .await
                .map_err(HttpFailure::Io)?;
        } else {
            self.wire
                .write_all(&self.write)
                .await
                .map_err(HttpFailure::Io)?;
            self.wire.write_all(body).await.map_err(HttpFailure::Io)?;
        }
        let (answer, start) = self.read_head(head.is_head, variants).await?;
        let (bytes_in, excerpt, clean) = self.read_body(&answer, start).await?;
        self.reusable = answer.keep_alive && clean;
        if let Some(kind) = answer.error {
            return Err(HttpFailure::Status(Failure {
                kind,
                status: Some(answer.status),
                excerpt,
            }));
        }
        Ok(Reply {
            bytes_in,
            done_after: None,
            variant: answer.variant,
            cold_start: answer.cold_start,
            tokens: None,
        })
    }

    /// Reads until an answer's head (past any 1xx interim answers) is in the buffer; returns
    /// it with the buffer range after it.
    async fn read_head(
        &mut self,
        is_head: bool,
        variants: &VariantNames,
    ) -> Result<(AnswerHead, Filled), HttpFailure> {
        let mut filled = Filled { start: 0, end: 0 };
        loop {
            let parsed = parse_head(&self.read[filled.start..filled.end], is_head, variants)
                .map_err(HttpFailure::Malformed)?;
            if let Some((taken, answer)) = parsed {
                filled.start += taken;
                match answer.status {
                    101 => return Err(HttpFailure::Malformed(Malformed("an upgrade answer"))),
                    100..=199 => continue,
                    _ => return Ok((answer, filled)),
                }
            }
            filled
                .make_room(&mut self.read, MAX_HEAD, "an answer head over 64 KiB")
                .map_err(HttpFailure::Malformed)?;
            let n = self.fill(&mut filled).await?;
            if n == 0 {
                return Err(HttpFailure::Closed);
            }
        }
    }

    /// Follows the body after `answer`'s head: bytes counted, an error's first bytes kept;
    /// returns them and whether the buffer ended exactly with the answer.
    async fn read_body(
        &mut self,
        answer: &AnswerHead,
        mut filled: Filled,
    ) -> Result<(u64, Excerpt, bool), HttpFailure> {
        let mut framing = answer.framing;
        let (mut bytes_in, mut excerpt) = (0u64, answer.excerpt);
        let keep = answer.error.is_some();
        loop {
            let data = &self.read[filled.start..filled.end];
            let (used, done) = follow_body(&mut framing, data, |piece| {
                bytes_in += piece.len() as u64;
                if keep && !excerpt.is_full() {
                    excerpt.push(piece);
                }
            })
            .map_err(HttpFailure::Malformed)?;
            filled.start += used;
            if done {
                return Ok((bytes_in, excerpt, filled.start == filled.end));
            }
            filled
                .make_room(&mut self.read, READ_BUFFER, "a chunk line over 16 KiB")
                .map_err(HttpFailure::Malformed)?;
            if self.fill(&mut filled).await? == 0 {
                return match framing {
                    Framing::UntilClose => Ok((bytes_in, excerpt, false)),
                    _ => Err(HttpFailure::Closed),
                };
            }
        }
    }

    /// One read into the free end of the buffer.
    async fn fill(&mut self, filled: &mut Filled) -> Result<usize, HttpFailure> {
        let (n, received) = self
            .wire
            .read(&mut self.read[filled.end..])
            .await
            .map_err(HttpFailure::Io)?;
        self.received = received.or(self.received);
        filled.end += n;
        Ok(n)
    }
}

/// The unread part of a connection's buffer.
#[derive(Debug, Clone, Copy)]
struct Filled {
    start: usize,
    end: usize,
}

impl Filled {
    /// Makes space at the end of `buf` for the next read: drops what was read, then grows
    /// the buffer up to `limit` (a longer head or chunk line is `too_long`).
    fn make_room(
        &mut self,
        buf: &mut Vec<u8>,
        limit: usize,
        too_long: &'static str,
    ) -> Result<(), Malformed> {
        if self.start > 0 {
            buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end < buf.len() {
            return Ok(());
        }
        if buf.len() >= limit {
            return Err(Malformed(too_long));
        }
        buf.resize((buf.len() * 2).min(limit), 0);
        Ok(())
    }
}

/// The production variant that answered, as an id of `variants` (the pooled client's
/// answers; the connections here read it while parsing).
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
    /// The connection failed mid-exchange (reset, broken pipe).
    Io(std::io::Error),
    /// The connection closed before the answer was complete.
    Closed,
    /// The answer was not HTTP/1.1 this client can read.
    Malformed(Malformed),
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
#[path = "h1_tests.rs"]
mod tests;
