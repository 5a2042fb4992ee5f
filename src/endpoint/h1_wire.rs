//! The socket under an `http://` connection: in tokio's reactor, or in its shard's
//! [`Harvest`] set, where it is read when the shard wakes and its answers are timed by the
//! kernel's receive timestamp (`SO_TIMESTAMPNS`, on the realtime clock), not by the read.

use super::harvest::Harvest;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, SystemTime};
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
        // SAFETY: the stream stays open and the same until the `AsyncFd` drops it.
        match unsafe { AsyncFd::register_with_interest(std, Interest::WRITABLE) } {
            Ok(io) => Ok(Wire::Harvested {
                io,
                slot: slot.clone(),
            }),
            Err(e) => {
                slot.harvest.forget();
                Err(e.into_parts().1)
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
    /// connection nor sent anything). Costs no system call unless there is.
    pub(crate) fn is_quiet(&mut self, buf: &mut [u8]) -> bool {
        let read = match self {
            Wire::Reactor(stream) => stream.try_read(buf),
            Wire::Harvested { io, slot } => {
                if !slot.harvest.is_flagged(slot.index) {
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

/// Whether the kernel timestamps what TCP sockets receive here. Linux turns receive
/// timestamps on for the whole machine a moment after the first socket asks for them (and
/// off after the last one closes), so a loopback pair that asks is kept for the process's
/// life, and its first timestamped byte shows that answers will carry theirs.
pub(crate) fn kernel_timestamps() -> bool {
    static KEEPER: std::sync::OnceLock<Option<[std::net::TcpStream; 2]>> =
        std::sync::OnceLock::new();
    KEEPER.get_or_init(|| timestamped_pair().ok()).is_some()
}

/// A connected loopback pair whose reading side has received a timestamped byte (within
/// 200 ms).
fn timestamped_pair() -> io::Result<[std::net::TcpStream; 2]> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let mut writer = std::net::TcpStream::connect(listener.local_addr()?)?;
    let (reader, _) = listener.accept()?;
    set_timestamping(reader.as_raw_fd())?;
    reader.set_nonblocking(true)?;
    let mut byte = [0u8; 1];
    for _ in 0..200 {
        writer.write_all(b"x")?;
        std::thread::sleep(Duration::from_millis(1));
        if let Ok((1, Some(_))) = receive(&reader, &mut byte) {
            return Ok([writer, reader]);
        }
    }
    Err(io::Error::other("no receive timestamps"))
}

/// Asks the kernel to timestamp what socket `fd` receives.
fn set_timestamping(fd: std::os::fd::RawFd) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: valid socket, option value of the size given.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&raw const on).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// One non-blocking `recvmsg`: the bytes read, and when the last of them was received.
fn receive(stream: &std::net::TcpStream, buf: &mut [u8]) -> io::Result<(usize, Option<Instant>)> {
    // Room for one `SCM_TIMESTAMPNS` message, aligned as the kernel writes it.
    let mut control = [0u64; 8];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: zeroed msghdr is valid; its pointers are set to live buffers below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of_val(&control) as _;
    // SAFETY: valid socket and msghdr; buffers outlive the call.
    let n = unsafe { libc::recvmsg(stream.as_raw_fd(), &raw mut msg, libc::MSG_DONTWAIT) };
    let Ok(n) = usize::try_from(n) else {
        return Err(io::Error::last_os_error());
    };
    Ok((n, received_at(&msg)))
}

/// The `SCM_TIMESTAMPNS` of `msg` as an `Instant`: the realtime stamp's age, back from now.
fn received_at(msg: &libc::msghdr) -> Option<Instant> {
    // SAFETY: `msg` was filled by recvmsg; the CMSG macros walk its control buffer.
    let stamp = unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(msg);
        let mut found = None;
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
            {
                found = Some(std::ptr::read_unaligned(
                    libc::CMSG_DATA(cmsg).cast::<libc::timespec>(),
                ));
            }
            cmsg = libc::CMSG_NXTHDR(msg, cmsg);
        }
        found?
    };
    let stamp = Duration::new(
        u64::try_from(stamp.tv_sec).ok()?,
        u32::try_from(stamp.tv_nsec).ok()?,
    );
    let (now, wall) = (Instant::now(), SystemTime::now());
    let age = wall
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()?
        .saturating_sub(stamp);
    now.checked_sub(age)
}
