//! A timer finer than tokio's millisecond wheel, for the open loop's arrivals: a `timerfd`
//! (Linux) awaited through tokio's reactor, so a shard sleeps until its next arrival instead
//! of yielding in a loop. Elsewhere (or if the timerfd cannot be made) it is tokio's timer.

use std::time::Duration;
use tokio::time::Instant;

/// One shard's arrival timer. Arming is a system call, so the timer remembers what it is
/// armed for and re-arms only when the deadline changes.
#[derive(Debug)]
pub struct FineTimer {
    fd: Option<imp::TimerFd>,
    armed: Option<Instant>,
}

impl FineTimer {
    /// A fine timer, or tokio's when no timerfd can be made.
    pub fn new() -> FineTimer {
        FineTimer {
            fd: imp::TimerFd::new().ok(),
            armed: None,
        }
    }

    /// Whether the timer is finer than tokio's (a timerfd).
    pub fn is_fine(&self) -> bool {
        self.fd.is_some()
    }

    /// Returns at `until` or shortly after (never before); at once when it has passed.
    pub async fn sleep_until(&mut self, until: Instant) {
        let now = Instant::now();
        if until <= now {
            return;
        }
        let Some(fd) = &self.fd else {
            tokio::time::sleep_until(until).await;
            return;
        };
        if self.armed != Some(until) {
            if fd.arm(until - now).is_err() {
                tokio::time::sleep_until(until).await;
                return;
            }
            self.armed = Some(until);
        }
        if fd.fired(until).await.is_err() {
            tokio::time::sleep_until(until).await;
        }
        self.armed = None;
    }
}

impl Default for FineTimer {
    fn default() -> FineTimer {
        FineTimer::new()
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use super::Duration;
    use crate::endpoint::fd;
    use std::io;
    use std::os::fd::{AsRawFd, OwnedFd};
    use tokio::io::Interest;
    use tokio::io::unix::AsyncFd;

    /// A non-blocking `CLOCK_MONOTONIC` timerfd (the clock of `Instant`) in the reactor.
    #[derive(Debug)]
    pub struct TimerFd(AsyncFd<OwnedFd>);

    impl TimerFd {
        pub fn new() -> io::Result<TimerFd> {
            // SAFETY: plain system call; the descriptor is owned below.
            let fd = unsafe {
                libc::timerfd_create(
                    libc::CLOCK_MONOTONIC,
                    libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
                )
            };
            let owned = fd::adopt(fd)?;
            Ok(TimerFd(fd::register(owned, Interest::READABLE)?))
        }

        /// Arms the timer to fire once, `after` from now (> 0; zero would disarm it).
        pub fn arm(&self, after: Duration) -> io::Result<()> {
            let after = after.max(Duration::from_nanos(1));
            let spec = libc::itimerspec {
                it_interval: libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                },
                it_value: libc::timespec {
                    tv_sec: after.as_secs() as libc::time_t,
                    tv_nsec: after.subsec_nanos() as libc::c_long,
                },
            };
            // SAFETY: valid descriptor, valid spec, no old value wanted.
            let rc = unsafe {
                libc::timerfd_settime(self.0.as_raw_fd(), 0, &raw const spec, std::ptr::null_mut())
            };
            if rc < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        }

        /// Waits until the timer armed for `until` has fired. The expiry is not read: arming
        /// resets the timerfd's count and its next expiry wakes epoll again (edge), so the
        /// clock, not a `read` system call per arrival, tells a real expiry from readiness
        /// left over from an earlier deadline.
        pub async fn fired(&self, until: tokio::time::Instant) -> io::Result<()> {
            loop {
                let mut guard = self.0.readable().await?;
                guard.clear_ready();
                if tokio::time::Instant::now() >= until {
                    return Ok(());
                }
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::Duration;
    use std::io;

    /// No fine timer on this platform: tokio's is used.
    #[derive(Debug)]
    pub struct TimerFd;

    impl TimerFd {
        pub fn new() -> io::Result<TimerFd> {
            Err(io::ErrorKind::Unsupported.into())
        }
        pub fn arm(&self, _after: Duration) -> io::Result<()> {
            Err(io::ErrorKind::Unsupported.into())
        }
        pub async fn fired(&self, _until: tokio::time::Instant) -> io::Result<()> {
            Err(io::ErrorKind::Unsupported.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn never_wakes_before_the_deadline_and_rearms_for_each() {
        let mut timer = FineTimer::new();
        #[cfg(target_os = "linux")]
        assert!(timer.is_fine(), "a timerfd should be available on Linux");
        let start = Instant::now();
        for i in 1..=50u32 {
            let until = start + Duration::from_micros(200) * i;
            timer.sleep_until(until).await;
            assert!(Instant::now() >= until, "woke before deadline {i}");
        }
        // A deadline in the past returns at once, armed or not.
        timer.sleep_until(start).await;
    }

    /// An expiry nobody awaited leaves the fd ready in the reactor; the next, later deadline
    /// must still not return early (the clock, not the stale readiness, decides).
    #[tokio::test]
    async fn readiness_left_by_an_unawaited_expiry_does_not_end_a_later_sleep() {
        let mut timer = FineTimer::new();
        let near = Instant::now() + Duration::from_millis(2);
        tokio::select! {
            () = timer.sleep_until(near) => {}
            () = tokio::time::sleep(Duration::from_micros(100)) => {}
        }
        // Let the near deadline pass and its expiry reach the reactor unawaited (a tokio
        // sleep parks the runtime, which polls epoll and marks the fd ready).
        std::thread::sleep(Duration::from_millis(5));
        tokio::time::sleep(Duration::from_millis(2)).await;
        for _ in 0..3 {
            let later = Instant::now() + Duration::from_millis(20);
            timer.sleep_until(later).await;
            assert!(Instant::now() >= later, "woke before the later deadline");
        }
    }

    #[tokio::test]
    async fn a_dropped_sleep_leaves_the_timer_usable() {
        let mut timer = FineTimer::new();
        let far = Instant::now() + Duration::from_secs(60);
        let near = Instant::now() + Duration::from_millis(2);
        tokio::select! {
            () = timer.sleep_until(far) => panic!("a 60 s timer fired"),
            () = tokio::time::sleep(Duration::from_millis(5)) => {}
        }
        tokio::time::timeout(Duration::from_secs(10), timer.sleep_until(near))
            .await
            .expect("re-armed for an earlier deadline");
        let later = Instant::now() + Duration::from_millis(3);
        timer.sleep_until(later).await;
        assert!(Instant::now() >= later);
    }
}
