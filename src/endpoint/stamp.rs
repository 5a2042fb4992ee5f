//! Receive timestamps: when the kernel got the bytes a read returns (`SO_TIMESTAMPNS`, on
//! the realtime clock), as an `Instant`, so an answer read late is timed when it arrived.

use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

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
pub(crate) fn set_timestamping(fd: std::os::fd::RawFd) -> io::Result<()> {
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
pub(crate) fn receive(
    stream: &std::net::TcpStream,
    buf: &mut [u8],
) -> io::Result<(usize, Option<Instant>)> {
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
