//! Answers collected when a shard wakes anyway. In a dense open loop a shard wakes for every
//! arrival; an answer that woke it between two arrivals would cost a wake of its own (on a
//! VM, most of what a request costs the generator). So the shard's `http://` connections are
//! watched by an epoll set of its own, outside tokio's reactor: an answer arriving wakes
//! nobody, and at each arrival the shard asks the set, in one system call, which slots have
//! something to read ([`Harvest::collect`]). The answer's time is the kernel's receive
//! timestamp (`SO_TIMESTAMPNS`), so reading it later does not make it later
//! (see `stamp`). When the shard has nothing due soon it listens to the set through the
//! reactor instead ([`Harvest::listener`]), and answers wake it as before.

use futures_util::task::AtomicWaker;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// Most slots one set watches; a shard's slots past it read through the reactor.
pub const MAX_SLOTS: usize = 4096;

/// Events taken per `epoll_wait`.
const EVENTS: usize = 64;

/// Readies the kernel's receive timestamps a [`Harvest`] needs, so that the first one made
/// does not wait for them; returns whether there are any.
pub fn prepare() -> bool {
    super::stamp::kernel_timestamps()
}

/// One shard's epoll set of connections, one entry per in-flight slot.
#[derive(Debug)]
pub struct Harvest {
    epoll: OwnedFd,
    slots: Box<[Entry]>,
    /// Connections in the set: with none, [`Harvest::collect`] makes no system call.
    watched: AtomicUsize,
}

/// What a slot's connection is waiting for: set by [`Harvest::collect`], taken by the read.
#[derive(Debug, Default)]
struct Entry {
    readable: AtomicBool,
    waker: AtomicWaker,
}

impl Harvest {
    /// A set for slots `0..slots` (at most [`MAX_SLOTS`]); an error where the kernel does
    /// not timestamp what sockets receive, as answers read late need.
    pub fn new(slots: usize) -> io::Result<Harvest> {
        if !super::stamp::kernel_timestamps() {
            return Err(io::Error::other(
                "the kernel does not timestamp received data",
            ));
        }
        // SAFETY: plain system call; the descriptor is owned below.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        Ok(Harvest {
            epoll: super::fd::adopt(fd)?,
            slots: (0..slots.min(MAX_SLOTS))
                .map(|_| Entry::default())
                .collect(),
            watched: AtomicUsize::new(0),
        })
    }

    /// How many connections are in the set.
    pub fn watching(&self) -> usize {
        self.watched.load(Ordering::Relaxed)
    }

    /// How many slots the set has room for.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Watches `fd` (a connection of slot `index`) for something to read. The set drops it
    /// when the connection closes; [`Harvest::forget`] then keeps the count.
    pub(crate) fn watch(&self, fd: RawFd, index: u32) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLRDHUP) as u32,
            u64: u64::from(index),
        };
        // SAFETY: valid descriptors and event; level-triggered, so data left unread is
        // reported again at the next collect.
        let rc = unsafe {
            libc::epoll_ctl(
                self.epoll.as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                fd,
                &raw mut event,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        self.slots[index as usize]
            .readable
            .store(false, Ordering::Relaxed);
        self.watched.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// A watched connection is closing (closing it removes it from the set).
    pub(crate) fn forget(&self) {
        self.watched.fetch_sub(1, Ordering::Relaxed);
    }

    /// Marks every slot with something to read and wakes its request; returns how many
    /// were reported. The set is level-triggered and what is reported stays ready until its
    /// request reads it, after this returns: each `epoll_wait` puts what it reported last in
    /// line, so one call per `EVENTS` connections watched sees every ready one.
    pub fn collect(&self) -> usize {
        let watched = self.watched.load(Ordering::Relaxed);
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; EVENTS];
        let mut total = 0;
        for _ in 0..watched.div_ceil(EVENTS) {
            // SAFETY: valid set and buffer of `EVENTS` events; timeout 0 never blocks.
            let n = unsafe {
                libc::epoll_wait(
                    self.epoll.as_raw_fd(),
                    events.as_mut_ptr(),
                    EVENTS as libc::c_int,
                    0,
                )
            };
            let Ok(n) = usize::try_from(n) else {
                return total; // EINTR: the next collect sees them
            };
            for event in &events[..n] {
                if let Some(entry) = self.slots.get(event.u64 as usize) {
                    entry.readable.store(true, Ordering::Relaxed);
                    entry.waker.wake();
                }
            }
            total += n;
            if n < EVENTS {
                break;
            }
        }
        total
    }

    /// Slot `index` may have more to read than its last read took: read it again without
    /// waiting for a collect.
    pub(crate) fn flag(&self, index: u32) {
        self.slots[index as usize]
            .readable
            .store(true, Ordering::Relaxed);
    }

    /// Takes slot `index`'s mark: whether a collect saw something to read on it since.
    pub(crate) fn take_flag(&self, index: u32) -> bool {
        self.slots[index as usize]
            .readable
            .swap(false, Ordering::Relaxed)
    }

    /// Ready once a collect has seen something to read on slot `index` since the last
    /// time; until then the task is woken by the collect that sees it.
    pub(crate) fn poll_readable(&self, index: u32, cx: &mut Context<'_>) -> Poll<()> {
        if self.take_flag(index) {
            return Poll::Ready(());
        }
        self.slots[index as usize].waker.register(cx.waker());
        if self.take_flag(index) {
            return Poll::Ready(());
        }
        Poll::Pending
    }

    /// The set in tokio's reactor, for a shard that waits for answers rather than for its
    /// next arrival; dropping it takes the set out again.
    pub fn listener(&self) -> io::Result<Listener> {
        let copy = self.epoll.try_clone()?;
        Ok(Listener(super::fd::register(copy, Interest::READABLE)?))
    }
}

/// The set registered in the reactor (see [`Harvest::listener`]).
#[derive(Debug)]
pub struct Listener(AsyncFd<OwnedFd>);

impl Listener {
    /// Returns when the set has had something to read since the last call; the caller then
    /// collects.
    pub async fn ready(&self) {
        match self.0.readable().await {
            Ok(mut guard) => guard.clear_ready(),
            // The reactor is gone (runtime shutting down): nothing more will arrive.
            Err(_) => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;
    use std::sync::Arc;

    /// More ready connections than one `epoll_wait` returns are all flagged, and collect
    /// returns even though none of them is read (level-triggered, they stay ready).
    #[test]
    fn a_collect_flags_every_ready_connection_past_one_batch_and_returns() {
        let count = EVENTS * 2 + 7;
        let harvest = Arc::new(Harvest::new(count).unwrap());
        let pairs: Vec<(UnixStream, UnixStream)> =
            (0..count).map(|_| UnixStream::pair().unwrap()).collect();
        for (i, (ours, theirs)) in pairs.iter().enumerate() {
            harvest.watch(ours.as_raw_fd(), i as u32).unwrap();
            (&*theirs).write_all(b"x").unwrap();
        }
        let (done, wait) = std::sync::mpsc::channel();
        let set = harvest.clone();
        std::thread::spawn(move || done.send(set.collect()).unwrap());
        let reported = wait
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("collect returns");
        assert!(reported >= count, "{reported} reported of {count}");
        assert!((0..count as u32).all(|i| harvest.take_flag(i)));
        assert_eq!(harvest.watching(), count);
    }
}
