//! The socket under an `http://` connection: in tokio's reactor, or in its shard's
//! [`Harvest`] set, where it is read when the shard wakes and its answers are timed by the
//! kernel's receive timestamp ([`super::stamp`]), not by the read.

use super::fd::register;
use super::harvest::Harvest;
use super::stamp::{receive, set_timestamping};
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// A shard's set and the slot a connection belongs to.
#[derive(Debug, Clone)]
pub struct SlotHarvest {
    /// The shard's set.
    pub harvest: Arc<Harvest>,
    /// The slot's entry in it.
    pub index: u32,
}

/// A connected socket and how its reads are awaited.
#[derive(Debug)]
pub(crate) enum Wire {
    /// In tokio's reactor: readable wakes the task.
    Reactor(TcpStream),
    /// Only writability in the reactor; reads wait for the shard's collect.
    Harvested {
        io: AsyncFd<std::net::TcpStream>,
        slot: SlotHarvest,
    },
}

impl Wire {
    /// `stream` as it reads: in the reactor, or watched by `harvest` when given (and the
    /// kernel can timestamp its answers; otherwise in the reactor).
    pub(crate) fn new(stream: TcpStream, harvest: Option<&SlotHarvest>) -> io::Result<Wire> {
        let Some(slot) = harvest else {
            return Ok(Wire::Reactor(stream));
        };
        if set_timestamping(stream.as_raw_fd()).is_err() {
            return Ok(Wire::Reactor(stream));
        }
        let std = stream.into_std()?;
        slot.harvest.watch(std.as_raw_fd(), slot.index)?;
        match register(std, Interest::WRITABLE) {
            Ok(io) => Ok(Wire::Harvested {
                io,
                slot: slot.clone(),
            }),
            Err(e) => {
                slot.harvest.forget();
                Err(e)
            }
        }
    }

    /// Writes all of `buf`. (Futures of `poll_fn`s: they add only their captures to every
    /// request's future.)
    pub(crate) fn write_all<'a>(
        &'a mut self,
        mut buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + 'a {
        poll_fn(move |cx| {
            while !buf.is_empty() {
                let n = ready!(self.poll_write(cx, buf))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                buf = &buf[n..];
            }
            Poll::Ready(Ok(()))
        })
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let io = match self {
            Wire::Reactor(stream) => return Pin::new(stream).poll_write(cx, buf),
            Wire::Harvested { io, .. } => io,
        };
        loop {
            match (&mut io.get_ref()).write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let mut ready = ready!(io.poll_write_ready(cx))?;
                    ready.clear_ready();
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return Poll::Ready(result),
            }
        }
    }

    /// One read into `buf`; with the moment its last byte reached this machine when the
    /// kernel says (harvested connections).
    pub(crate) fn read<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<(usize, Option<Instant>)>> + 'a {
        poll_fn(move |cx| self.poll_read(cx, buf))
    }

    fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, Option<Instant>)>> {
        let (io, slot) = match self {
            Wire::Reactor(stream) => {
                let mut read = ReadBuf::new(buf);
                ready!(Pin::new(stream).poll_read(cx, &mut read))?;
                return Poll::Ready(Ok((read.filled().len(), None)));
            }
            Wire::Harvested { io, slot } => (io, slot),
        };
        loop {
            // Read only what a collect has seen arrive: no system call to find nothing.
            ready!(slot.harvest.poll_readable(slot.index, cx));
            match receive(io.get_ref(), buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => {
                    if matches!(result, Ok((n, _)) if n == buf.len()) {
                        // It filled the buffer: more may be waiting already.
                        slot.harvest.flag(slot.index);
                    }
                    return Poll::Ready(result);
                }
            }
        }
    }

    /// Whether nothing is waiting to be read (the server has neither closed the idle
    /// connection nor sent anything). Costs no system call unless there is; a harvested
    /// connection's mark is taken by the read, so a mark that found nothing costs one read.
    pub(crate) fn is_quiet(&mut self, buf: &mut [u8]) -> bool {
        let read = match self {
            Wire::Reactor(stream) => stream.try_read(buf),
            Wire::Harvested { io, slot } => {
                if !slot.harvest.take_flag(slot.index) {
                    return true;
                }
                (&mut io.get_ref()).read(buf)
            }
        };
        matches!(read, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }
}

impl Drop for Wire {
    fn drop(&mut self) {
        if let Wire::Harvested { slot, .. } = self {
            slot.harvest.forget();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mark on an idle harvested connection that finds nothing to read is used up: the
    /// next check reads nothing (no system call) until a collect marks it again.
    #[tokio::test]
    async fn an_idle_connections_mark_is_taken_by_the_check_that_finds_nothing() {
        assert!(
            super::super::harvest::prepare(),
            "Linux timestamps what it receives"
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let _server = listener.accept().await.unwrap();
        let slot = SlotHarvest {
            harvest: Arc::new(Harvest::new(1).unwrap()),
            index: 0,
        };
        let mut wire = Wire::new(stream, Some(&slot)).unwrap();
        slot.harvest.flag(0);
        let mut buf = [0u8; 64];
        assert!(wire.is_quiet(&mut buf));
        assert!(!slot.harvest.take_flag(0), "the check took the mark");
    }
}
