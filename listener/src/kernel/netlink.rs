//! A raw netlink socket over `libc`, shared by the process connector and the audit socket.
//!
//! Hand-written on purpose: both users need exactly one datagram per `recv` (audit's `nlmsg_len`
//! in kernel messages is not reliable, so the datagram length is the truth), `ENOBUFS` reported as
//! its own outcome (it means the kernel dropped messages: a gap), `SO_RCVBUFFORCE`, and a receive
//! timeout so reader threads can notice a shutdown. That is a few dozen lines of libc; the
//! `netlink-sys` socket hides the datagram boundary behind its own buffering and framing.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// Size of `struct nlmsghdr`.
pub const NLMSG_HDRLEN: usize = 16;
/// `NLMSG_ERROR`: an error or an acknowledgement.
pub const NLMSG_ERROR: u16 = 2;
/// `NLMSG_DONE`: end of a multi-part reply.
pub const NLMSG_DONE: u16 = 3;
/// `NLM_F_REQUEST`.
pub const NLM_F_REQUEST: u16 = 1;
/// `NLM_F_ACK`.
pub const NLM_F_ACK: u16 = 4;

/// How long a reader socket's `recv` waits before returning [`Received::Timeout`].
pub const READER_TIMEOUT: Duration = Duration::from_millis(200);

/// What one `recv` gave.
#[derive(Debug)]
pub enum Received {
    /// A datagram of this many bytes is in the buffer.
    Datagram(usize),
    /// The kernel could not queue messages for this socket (`ENOBUFS`): some were lost.
    Overflow,
    /// Nothing arrived before the receive timeout.
    Timeout,
}

/// A bound netlink socket.
#[derive(Debug)]
pub struct NetlinkSocket {
    fd: OwnedFd,
}

/// A netlink message header, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NlHeader {
    /// `nlmsg_len` as the sender wrote it.
    pub len: u32,
    /// `nlmsg_type`.
    pub kind: u16,
    /// `nlmsg_flags`.
    pub flags: u16,
    /// `nlmsg_seq`.
    pub seq: u32,
    /// `nlmsg_pid`.
    pub pid: u32,
}

impl NlHeader {
    /// Decodes the first 16 bytes of `b`.
    pub fn parse(b: &[u8]) -> Option<Self> {
        Some(Self {
            len: u32::from_ne_bytes(b.get(0..4)?.try_into().ok()?),
            kind: u16::from_ne_bytes(b.get(4..6)?.try_into().ok()?),
            flags: u16::from_ne_bytes(b.get(6..8)?.try_into().ok()?),
            seq: u32::from_ne_bytes(b.get(8..12)?.try_into().ok()?),
            pid: u32::from_ne_bytes(b.get(12..16)?.try_into().ok()?),
        })
    }

    /// Encodes a header followed by `payload` into one message.
    pub fn message(kind: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let len = NLMSG_HDRLEN + payload.len();
        let mut m = Vec::with_capacity(len.next_multiple_of(4));
        m.extend_from_slice(&(len as u32).to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&flags.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(payload);
        m.resize(len.next_multiple_of(4), 0);
        m
    }
}

impl NetlinkSocket {
    /// Opens a datagram netlink socket of `protocol` and binds it to `groups` (a multicast group
    /// bitmask, 0 for none); the kernel picks the port id.
    pub fn open(protocol: libc::c_int, groups: u32) -> io::Result<Self> {
        // SAFETY: plain socket(2) call; the result is checked.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
                protocol,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a new, valid descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: sockaddr_nl is plain data; all-zero is a valid value.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        addr.nl_groups = groups;
        // SAFETY: `addr` is a valid sockaddr_nl and the length matches it.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Self { fd })
    }

    /// Opens a socket that a reader thread receives a kernel stream on: bound to `groups`, with
    /// a receive buffer of `recv_buffer` bytes (see [`Self::set_recv_buffer`]) and a
    /// [`READER_TIMEOUT`] so the thread notices a shutdown.
    pub fn open_reader(protocol: libc::c_int, groups: u32, recv_buffer: usize) -> io::Result<Self> {
        let sock = Self::open(protocol, groups)?;
        sock.set_recv_buffer(recv_buffer)?;
        sock.set_recv_timeout(READER_TIMEOUT)?;
        Ok(sock)
    }

    /// Joins a multicast group after binding (`NETLINK_ADD_MEMBERSHIP`).
    pub fn add_membership(&self, group: u32) -> io::Result<()> {
        self.setsockopt(
            libc::SOL_NETLINK,
            libc::NETLINK_ADD_MEMBERSHIP,
            group as libc::c_int,
        )
    }

    /// Sets the receive buffer, beyond `rmem_max` when allowed (`SO_RCVBUFFORCE`, root), falling
    /// back to `SO_RCVBUF`. Returns the size the kernel reports afterwards.
    pub fn set_recv_buffer(&self, bytes: usize) -> io::Result<usize> {
        let v = bytes.min(i32::MAX as usize) as libc::c_int;
        if self
            .setsockopt(libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, v)
            .is_err()
        {
            self.setsockopt(libc::SOL_SOCKET, libc::SO_RCVBUF, v)?;
        }
        let mut got: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `got` and `len` are valid for writes of the sizes given.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                (&mut got as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(got.max(0) as usize)
    }

    /// Makes `recv` return [`Received::Timeout`] after `timeout` without data.
    pub fn set_recv_timeout(&self, timeout: Duration) -> io::Result<()> {
        let tv = libc::timeval {
            // `as _`: the field types differ between C libraries (glibc and musl).
            tv_sec: timeout.as_secs() as _,
            tv_usec: timeout.subsec_micros() as _,
        };
        // SAFETY: `tv` is a valid timeval and the length matches it.
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn setsockopt(&self, level: libc::c_int, name: libc::c_int, v: libc::c_int) -> io::Result<()> {
        // SAFETY: `v` is a valid c_int and the length matches it.
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                level,
                name,
                (&v as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Sends one message to the kernel (port 0).
    pub fn send_to_kernel(&self, msg: &[u8]) -> io::Result<()> {
        // SAFETY: sockaddr_nl is plain data; all-zero is the kernel's address.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: `msg` is valid for reads of its length; `addr` is a valid sockaddr_nl.
        let rc = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                msg.as_ptr().cast(),
                msg.len(),
                0,
                (&addr as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Receives one datagram into `buf` (a longer one is cut to the buffer), waiting up to the
    /// receive timeout.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Received> {
        self.recv_flags(buf, 0)
    }

    /// Like [`Self::recv`] without waiting: [`Received::Timeout`] when nothing is queued.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<Received> {
        self.recv_flags(buf, libc::MSG_DONTWAIT)
    }

    /// Receives, without waiting, as many queued datagrams as fit: `buf` is cut into slots of
    /// `slot` bytes, one datagram each (a longer one is cut to its slot), all in one `recvmmsg`
    /// call; `lens` gets each datagram's length. One call for a burst of datagrams, not one
    /// each: at the kernel's full audit rate the receive calls were a fifth of godo's CPU.
    /// [`Received::Datagram`] holds how many came; [`Received::Timeout`] means none was queued.
    pub fn try_recv_many(
        &self,
        buf: &mut [u8],
        slot: usize,
        lens: &mut Vec<usize>,
    ) -> io::Result<Received> {
        lens.clear();
        let slot = slot.max(1);
        let count = (buf.len() / slot).min(1024);
        if count == 0 {
            return Ok(Received::Timeout);
        }
        let mut iovs: Vec<libc::iovec> = buf
            .chunks_exact_mut(slot)
            .take(count)
            .map(|c| libc::iovec {
                iov_base: c.as_mut_ptr().cast(),
                iov_len: c.len(),
            })
            .collect();
        let mut msgs: Vec<libc::mmsghdr> = iovs
            .iter_mut()
            .map(|iov| {
                // SAFETY: msghdr and mmsghdr are plain data; all-zero is valid.
                let mut m: libc::mmsghdr = unsafe { std::mem::zeroed() };
                m.msg_hdr.msg_iov = iov;
                m.msg_hdr.msg_iovlen = 1;
                m
            })
            .collect();
        loop {
            // SAFETY: every header points at one iovec, each at its own slot of `buf`, all
            // alive for the call; the count matches the headers.
            let n = unsafe {
                libc::recvmmsg(
                    self.fd.as_raw_fd(),
                    msgs.as_mut_ptr(),
                    msgs.len() as libc::c_uint,
                    // The flags are `int` in glibc's prototype and `unsigned` in musl's.
                    libc::MSG_DONTWAIT as _,
                    std::ptr::null_mut(),
                )
            };
            if n >= 0 {
                let n = n as usize;
                lens.extend(msgs[..n].iter().map(|m| (m.msg_len as usize).min(slot)));
                return Ok(if n == 0 {
                    Received::Timeout
                } else {
                    Received::Datagram(n)
                });
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::ENOBUFS) => return Ok(Received::Overflow),
                Some(libc::EAGAIN) => return Ok(Received::Timeout),
                _ => return Err(err),
            }
        }
    }

    fn recv_flags(&self, buf: &mut [u8], flags: libc::c_int) -> io::Result<Received> {
        loop {
            // SAFETY: `buf` is valid for writes of its length.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    flags,
                )
            };
            if n >= 0 {
                return Ok(Received::Datagram(n as usize));
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::ENOBUFS) => return Ok(Received::Overflow),
                Some(libc::EAGAIN) => return Ok(Received::Timeout),
                _ => return Err(err),
            }
        }
    }

    /// The port id the kernel gave this socket.
    pub fn port_id(&self) -> io::Result<u32> {
        // SAFETY: sockaddr_nl is plain data; all-zero is valid.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        // SAFETY: `addr` and `len` are valid for writes.
        let rc = unsafe {
            libc::getsockname(
                self.fd.as_raw_fd(),
                (&mut addr as *mut libc::sockaddr_nl).cast(),
                &mut len,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(addr.nl_pid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_padding() {
        let m = NlHeader::message(1000, NLM_F_REQUEST | NLM_F_ACK, 7, &[1, 2, 3]);
        assert_eq!(m.len(), 20);
        let h = NlHeader::parse(&m).unwrap();
        assert_eq!(h.len, 19);
        assert_eq!((h.kind, h.flags, h.seq, h.pid), (1000, 5, 7, 0));
        assert_eq!(NlHeader::parse(&m[..10]), None);
    }

    /// `try_recv` answers at once when nothing is queued, and hands over what is (here the
    /// kernel's reply to a route dump request, which needs no privilege).
    #[test]
    fn try_recv_does_not_wait_and_takes_what_is_queued() {
        let sock = NetlinkSocket::open(libc::NETLINK_ROUTE, 0).unwrap();
        sock.set_recv_timeout(Duration::from_secs(30)).unwrap();
        let mut buf = vec![0u8; 1 << 16];
        let t = std::time::Instant::now();
        assert!(matches!(sock.try_recv(&mut buf), Ok(Received::Timeout)));
        assert!(t.elapsed() < Duration::from_secs(10), "it did not wait");
        // RTM_GETLINK dump: struct ifinfomsg (16 bytes) with family AF_UNSPEC.
        let req = NlHeader::message(18, NLM_F_REQUEST | 0x300, 1, &[0; 16]);
        sock.send_to_kernel(&req).unwrap();
        let mut got = None;
        for _ in 0..1000 {
            match sock.try_recv(&mut buf).unwrap() {
                Received::Datagram(n) => {
                    got = NlHeader::parse(&buf[..n]);
                    break;
                }
                _ => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        let h = got.expect("the dump reply was queued");
        assert_eq!(h.seq, 1);
        assert!(
            h.kind == 16 || h.kind == NLMSG_DONE,
            "RTM_NEWLINK or done: {h:?}"
        );
    }

    /// Several queued datagrams come in one call, each in its own slot, each whole.
    #[test]
    fn try_recv_many_takes_several_datagrams_in_one_call() {
        let sock = NetlinkSocket::open(libc::NETLINK_ROUTE, 0).unwrap();
        let mut buf = vec![0u8; 16 * 8192];
        let mut lens = Vec::new();
        assert!(matches!(
            sock.try_recv_many(&mut buf, 8192, &mut lens),
            Ok(Received::Timeout)
        ));
        assert!(lens.is_empty());
        // Three requests whose replies are three error/ack messages (seq 1, 2, 3): an unknown
        // message type is refused with an NLMSG_ERROR reply each.
        for seq in 1..=3 {
            let req = NlHeader::message(0x7f0, NLM_F_REQUEST | NLM_F_ACK, seq, &[0; 4]);
            sock.send_to_kernel(&req).unwrap();
        }
        let mut seqs = Vec::new();
        for _ in 0..1000 {
            if let Received::Datagram(n) = sock.try_recv_many(&mut buf, 8192, &mut lens).unwrap() {
                assert_eq!(lens.len(), n);
                for (i, &len) in lens.iter().enumerate() {
                    let h = NlHeader::parse(&buf[i * 8192..i * 8192 + len]).unwrap();
                    assert_eq!(h.len as usize, len, "a whole datagram");
                    seqs.push(h.seq);
                }
            }
            if seqs.len() >= 3 {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(seqs, [1, 2, 3]);
    }
}
