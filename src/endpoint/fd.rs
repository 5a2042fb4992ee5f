//! Descriptors this crate makes with system calls of its own and awaits through tokio's
//! reactor: the engine's arrival timer, a shard's answer set, a harvested connection.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// Owns the descriptor a system call returned, or gives the error it set when it returned
/// a negative number instead.
pub fn adopt(returned: libc::c_int) -> io::Result<OwnedFd> {
    if returned < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a system call just made this descriptor and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(returned) })
}

/// Registers `owned`, which owns its descriptor, in tokio's reactor for `interest`.
pub fn register<T>(owned: T, interest: Interest) -> io::Result<AsyncFd<T>>
where
    T: AsRawFd + Into<OwnedFd>,
{
    // SAFETY: `T` owns its descriptor (it converts into an `OwnedFd`), so the descriptor
    // stays open and the same until the `AsyncFd` drops it.
    unsafe { AsyncFd::register_with_interest(owned, interest) }.map_err(|e| e.into_parts().1)
}
