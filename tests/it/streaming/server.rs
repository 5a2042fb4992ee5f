//! A tiny OpenAI-style streaming server over raw TCP, so tests control every byte: each
//! request gets a first token after `first_ms`, then one every `step_ms`, `max_tokens` in
//! all, a usage chunk and `[DONE]`; or a malformed stream (cut mid-event, a bad SSE line).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A well-formed stream with a usage chunk.
    Good,
    /// A well-formed stream without usage (the client counts).
    NoUsage,
    /// Two tokens, then half an event and the end of the body.
    CutMidEvent,
    /// Two tokens, then a line that is not SSE.
    BadLine,
}

/// Server behaviour.
#[derive(Clone, Copy, Debug)]
pub struct Behaviour {
    pub first_ms: u64,
    pub step_ms: u64,
    pub mode: Mode,
}

/// A running server and what it generated.
pub struct SseServer {
    pub addr: SocketAddr,
    generated: Arc<AtomicU64>,
    gaps: Arc<Gaps>,
    task: tokio::task::JoinHandle<()>,
}

impl SseServer {
    pub async fn start(b: Behaviour) -> SseServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let generated = Arc::new(AtomicU64::new(0));
        let gaps = Arc::new(Gaps::default());
        let (counter, seen) = (generated.clone(), gaps.clone());
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(connection(sock, b, counter.clone(), seen.clone()));
            }
        });
        SseServer {
            addr,
            generated,
            gaps,
            task,
        }
    }

    /// Mean gap between the server's token writes, ms: the decode step it really kept.
    pub fn mean_gap_ms(&self) -> f64 {
        let n = self.gaps.count.load(Ordering::SeqCst).max(1);
        self.gaps.total_us.load(Ordering::SeqCst) as f64 / n as f64 / 1000.0
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Tokens sent so far, over every request.
    pub fn generated(&self) -> u64 {
        self.generated.load(Ordering::SeqCst)
    }
}

impl Drop for SseServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Gaps between successive token writes of one reply, summed over replies.
#[derive(Default)]
struct Gaps {
    total_us: AtomicU64,
    count: AtomicU64,
}

#[derive(serde::Deserialize)]
struct Asked {
    max_tokens: u64,
}

/// Reads one request (headers and a Content-Length body); `None` at the end of the connection.
async fn read_request(sock: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap_or(0));
            if buf.len() >= end + 4 + len {
                let body = buf[end + 4..end + 4 + len].to_vec();
                buf.drain(..end + 4 + len);
                return Some(body);
            }
        }
        let mut chunk = [0u8; 4096];
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn chunk(sock: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    sock.write_all(format!("{:x}\r\n", bytes.len()).as_bytes())
        .await?;
    sock.write_all(bytes).await?;
    sock.write_all(b"\r\n").await
}

fn token(i: u64, last: bool) -> String {
    let finish = if last { "\"length\"" } else { "null" };
    format!(
        "data: {{\"id\":\"cmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\" tok{i}\"}},\"finish_reason\":{finish}}}]}}\n\n"
    )
}

async fn connection(mut sock: TcpStream, b: Behaviour, generated: Arc<AtomicU64>, gaps: Arc<Gaps>) {
    let mut buf = Vec::new();
    while let Some(body) = read_request(&mut sock, &mut buf).await {
        let n = serde_json::from_slice::<Asked>(&body).map_or(16, |a| a.max_tokens);
        if respond(&mut sock, b, n, &generated, &gaps).await.is_err() {
            return;
        }
    }
}

async fn respond(
    sock: &mut TcpStream,
    b: Behaviour,
    n: u64,
    generated: &AtomicU64,
    gaps: &Gaps,
) -> std::io::Result<()> {
    sock.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(b.first_ms)).await;
    let count = match b.mode {
        Mode::Good | Mode::NoUsage => n,
        Mode::CutMidEvent | Mode::BadLine => 2.min(n),
    };
    let mut last = tokio::time::Instant::now();
    for i in 0..count {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(b.step_ms)).await;
            let now = tokio::time::Instant::now();
            let gap = now.duration_since(last).as_micros() as u64;
            gaps.total_us.fetch_add(gap, Ordering::SeqCst);
            gaps.count.fetch_add(1, Ordering::SeqCst);
        }
        last = tokio::time::Instant::now();
        chunk(sock, token(i, i + 1 == n).as_bytes()).await?;
        generated.fetch_add(1, Ordering::SeqCst);
    }
    match b.mode {
        Mode::Good => {
            let usage = format!(
                "data: {{\"id\":\"cmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{{\"prompt_tokens\":5,\"completion_tokens\":{n},\"total_tokens\":{}}}}}\n\n",
                n + 5
            );
            chunk(sock, usage.as_bytes()).await?;
            chunk(sock, b"data: [DONE]\n\n").await?;
        }
        Mode::NoUsage => chunk(sock, b"data: [DONE]\n\n").await?,
        Mode::CutMidEvent => chunk(sock, b"data: {\"id\":\"cmpl-1\",\"choi").await?,
        Mode::BadLine => chunk(sock, b"this is not an SSE line\n\n").await?,
    }
    sock.write_all(b"0\r\n\r\n").await
}
