//! The kernel audit netlink interface: status, settings, our rules, and the record stream.
//!
//! Written over [`crate::kernel::netlink`] (libc) rather than `netlink-packet-audit` 0.7 + `netlink-sys`:
//! that crate encodes the `exe=` rule field wrongly (a number instead of a path), its framing
//! trusts `nlmsg_len`, which the kernel's audit records do not fill reliably (here every datagram
//! is one record and its length is the truth), and the recorder needs `ENOBUFS` as a loss signal.
//! The structures involved (`audit_status`, `audit_rule_data`) are two fixed C layouts.
//!
//! Life cycle ([`AuditSession`]): read the status, refuse if the configuration is locked or
//! another daemon owns the socket (unless `--multicast`), install the rules tagged
//! [`RULE_KEY`], set the kernel backlog and its wait time, enable auditing, and register as the
//! audit daemon (unicast) or join the read-only log group (multicast). [`AuditSession::restore`]
//! (also on drop) deletes exactly our rules, restores the enabled flag, then the daemon pid, the
//! backlog limit and the backlog wait time it changed.

use std::io;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::kernel::netlink::{
    NLM_F_ACK, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NetlinkSocket, NlHeader,
    Received,
};

const NETLINK_AUDIT: libc::c_int = 9;
/// `AUDIT_NLGRP_READLOG`: the read-only multicast group of audit records.
const AUDIT_NLGRP_READLOG: u32 = 1;

const AUDIT_GET: u16 = 1000;
const AUDIT_SET: u16 = 1001;
const AUDIT_ADD_RULE: u16 = 1011;
const AUDIT_DEL_RULE: u16 = 1012;

const STATUS_ENABLED: u32 = 0x1;
const STATUS_PID: u32 = 0x4;
const STATUS_BACKLOG_LIMIT: u32 = 0x10;
const STATUS_BACKLOG_WAIT_TIME: u32 = 0x20;

/// Audit failures, with what to do about them.
#[derive(Debug, Error)]
pub enum AuditError {
    /// A netlink call failed.
    #[error(
        "audit netlink {what} failed: {source} (godo needs root: CAP_AUDIT_CONTROL and CAP_AUDIT_READ)"
    )]
    Io {
        /// What was being done.
        what: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// The kernel refused a request.
    #[error("the kernel refused audit {what}: {source}")]
    Refused {
        /// What was being done.
        what: &'static str,
        /// The errno the kernel answered with.
        source: io::Error,
    },
    /// No answer in time.
    #[error("no answer from the kernel to audit {0} within 5 s")]
    Timeout(&'static str),
    /// The audit configuration is locked (`auditctl -e 2`).
    #[error(
        "the audit configuration is locked (enabled=2, `auditctl -e 2`); rules cannot be added until reboot"
    )]
    Locked,
    /// Another process is the audit daemon.
    #[error(
        "another process (pid {0}, usually auditd) is the audit daemon; stop it, or run godo with --multicast to record beside it"
    )]
    DaemonRunning(u32),
}

/// `struct audit_status`, all fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuditStatus {
    /// Which fields a SET changes.
    pub mask: u32,
    /// 0 off, 1 on, 2 locked.
    pub enabled: u32,
    /// Failure action.
    pub failure: u32,
    /// The audit daemon's pid (0: none).
    pub pid: u32,
    /// Messages per second limit.
    pub rate_limit: u32,
    /// Records the kernel queues before it drops or waits.
    pub backlog_limit: u32,
    /// Records lost so far.
    pub lost: u32,
    /// Records queued now.
    pub backlog: u32,
    /// The audit features the kernel has (`AUDIT_FEATURE_BITMAP_*` bits).
    pub feature_bitmap: u32,
    /// How long (jiffies) a task waits when the backlog is full.
    pub backlog_wait_time: u32,
    /// Time spent waiting.
    pub backlog_wait_time_actual: u32,
}

impl AuditStatus {
    /// Decodes a status (older kernels send a shorter struct; missing fields are 0).
    pub fn parse(b: &[u8]) -> Option<Self> {
        let f = |i: usize| -> u32 {
            b.get(i * 4..i * 4 + 4)
                .and_then(|s| s.try_into().ok())
                .map(u32::from_ne_bytes)
                .unwrap_or(0)
        };
        (b.len() >= 32).then(|| Self {
            mask: f(0),
            enabled: f(1),
            failure: f(2),
            pid: f(3),
            rate_limit: f(4),
            backlog_limit: f(5),
            lost: f(6),
            backlog: f(7),
            feature_bitmap: f(8),
            backlog_wait_time: f(9),
            backlog_wait_time_actual: f(10),
        })
    }

    /// Encodes the struct.
    pub fn encode(&self) -> Vec<u8> {
        [
            self.mask,
            self.enabled,
            self.failure,
            self.pid,
            self.rate_limit,
            self.backlog_limit,
            self.lost,
            self.backlog,
            self.feature_bitmap,
            self.backlog_wait_time,
            self.backlog_wait_time_actual,
        ]
        .iter()
        .flat_map(|v| v.to_ne_bytes())
        .collect()
    }
}

/// A control socket: status, settings and rules, one request at a time.
#[derive(Debug)]
pub struct AuditControl {
    sock: NetlinkSocket,
    seq: u32,
}

impl AuditControl {
    /// Opens a control socket.
    pub fn open() -> Result<Self, AuditError> {
        let sock = NetlinkSocket::open(NETLINK_AUDIT, 0).map_err(|source| AuditError::Io {
            what: "socket",
            source,
        })?;
        sock.set_recv_timeout(Duration::from_millis(500))
            .map_err(|source| AuditError::Io {
                what: "socket",
                source,
            })?;
        Ok(Self { sock, seq: 0 })
    }

    /// Sends a request and waits for its acknowledgement; also returns the payload of a reply of
    /// type `reply` when one is wanted.
    fn request(
        &mut self,
        what: &'static str,
        kind: u16,
        payload: &[u8],
        reply: Option<u16>,
    ) -> Result<Option<Vec<u8>>, AuditError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        send(
            &self.sock,
            &NlHeader::message(kind, NLM_F_REQUEST | NLM_F_ACK, seq, payload),
            what,
        )?;
        let mut buf = vec![0u8; 16384];
        let (mut acked, mut got) = (false, None);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && !(acked && (reply.is_none() || got.is_some())) {
            let n = match self.sock.recv(&mut buf) {
                Ok(Received::Datagram(n)) => n,
                Ok(Received::Timeout | Received::Overflow) => continue,
                Err(source) => return Err(AuditError::Io { what, source }),
            };
            let Some(h) = NlHeader::parse(&buf[..n]) else {
                continue;
            };
            if h.seq != seq {
                continue;
            }
            let body = &buf[NLMSG_HDRLEN.min(n)..n];
            if h.kind == NLMSG_ERROR {
                let code = body
                    .get(0..4)
                    .and_then(|b| b.try_into().ok())
                    .map(i32::from_ne_bytes)
                    .unwrap_or(0);
                if code != 0 {
                    return Err(AuditError::Refused {
                        what,
                        source: io::Error::from_raw_os_error(-code),
                    });
                }
                acked = true;
            } else if Some(h.kind) == reply {
                got = Some(body.to_vec());
            } else if h.kind == NLMSG_DONE {
                acked = true;
            }
        }
        if acked && (reply.is_none() || got.is_some()) {
            Ok(got)
        } else {
            Err(AuditError::Timeout(what))
        }
    }

    /// The current audit status.
    pub fn status(&mut self) -> Result<AuditStatus, AuditError> {
        let body = self
            .request("status", AUDIT_GET, &[], Some(AUDIT_GET))?
            .unwrap_or_default();
        AuditStatus::parse(&body).ok_or(AuditError::Timeout("status"))
    }

    /// Changes the fields named in `s.mask`.
    pub fn set(&mut self, s: &AuditStatus) -> Result<(), AuditError> {
        self.request("set", AUDIT_SET, &s.encode(), None)
            .map(|_| ())
    }

    /// Adds a rule (already encoded).
    pub fn add_rule(&mut self, rule: &[u8]) -> Result<(), AuditError> {
        self.request("add rule", AUDIT_ADD_RULE, rule, None)
            .map(|_| ())
    }

    /// Deletes a rule (the same bytes it was added with).
    pub fn delete_rule(&mut self, rule: &[u8]) -> Result<(), AuditError> {
        self.request("delete rule", AUDIT_DEL_RULE, rule, None)
            .map(|_| ())
    }
}

fn send(sock: &NetlinkSocket, msg: &[u8], what: &'static str) -> Result<(), AuditError> {
    sock.send_to_kernel(msg)
        .map_err(|source| AuditError::Io { what, source })
}

/// The socket records arrive on: registered as the audit daemon (unicast) or a member of the
/// read-only log group (multicast).
#[derive(Debug)]
pub struct AuditReader {
    sock: NetlinkSocket,
}

/// Room for one record in a receive buffer: the kernel's longest audit message (8,970 bytes)
/// and its netlink header.
pub const RECORD_SLOT: usize = 9 * 1024;

/// One record as received: its type and its text (`audit(SEC.MS:SERIAL): key=value ...`),
/// borrowed from the receive buffer or a [`RecordBatch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawRecord<'a> {
    /// The record type (`nlmsg_type`, e.g. 1300 for SYSCALL).
    pub rtype: u16,
    /// The record body, without trailing NULs or newline.
    pub body: &'a [u8],
}

/// Records received in one go, packed in one buffer: handing a batch to the recorder costs one
/// allocation, not one per record (at the kernel's full rate a per-record allocation, freed on
/// another thread, was a tenth of the reader's CPU).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordBatch {
    bytes: Vec<u8>,
    /// Each record's type and the end of its body in `bytes`.
    ends: Vec<(u16, usize)>,
}

impl RecordBatch {
    /// A batch of `records`.
    pub fn of(records: &[RawRecord<'_>]) -> Self {
        let mut b = Self::default();
        for r in records {
            b.push(*r);
        }
        b
    }

    /// An empty batch with room for `records` records of a typical size (a SYSCALL record is
    /// about 300 bytes), so that filling it does not grow it over and over.
    pub fn with_capacity(records: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(records * 320),
            ends: Vec::with_capacity(records),
        }
    }

    /// Adds a record (its body is copied).
    pub fn push(&mut self, r: RawRecord<'_>) {
        self.bytes.extend_from_slice(r.body);
        self.ends.push((r.rtype, self.bytes.len()));
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when it holds no record.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The records, in the order they came.
    pub fn iter(&self) -> impl Iterator<Item = RawRecord<'_>> {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|&(_, end)| end));
        self.ends
            .iter()
            .zip(starts)
            .map(|(&(rtype, end), start)| RawRecord {
                rtype,
                body: &self.bytes[start..end],
            })
    }
}

impl AuditReader {
    /// Opens the record socket with a receive buffer of `recv_buffer` bytes. In multicast mode it
    /// joins the log group; otherwise it must be registered with [`AuditSession::start`].
    pub fn open(multicast: bool, recv_buffer: usize) -> Result<Self, AuditError> {
        let io = |source| AuditError::Io {
            what: "record socket",
            source,
        };
        let sock = NetlinkSocket::open_reader(NETLINK_AUDIT, 0, recv_buffer).map_err(io)?;
        if multicast {
            sock.add_membership(AUDIT_NLGRP_READLOG).map_err(io)?;
        }
        Ok(Self { sock })
    }

    /// Receives one datagram and decodes it as one record. `Ok(None)` on timeout or for
    /// netlink acknowledgements; `Err` on a socket error. An overflow is returned as
    /// [`Received::Overflow`] in the second element.
    pub fn recv<'b>(
        &self,
        buf: &'b mut [u8],
    ) -> io::Result<Result<Option<RawRecord<'b>>, Received>> {
        let got = self.sock.recv(buf)?;
        Ok(Self::decode(got, buf))
    }

    /// Like [`Self::recv`] without waiting (`Ok(None)` when nothing is queued): the reader
    /// drains what is queued after each wake-up and hands it on as one batch.
    pub fn try_recv<'b>(
        &self,
        buf: &'b mut [u8],
    ) -> io::Result<Result<Option<RawRecord<'b>>, Received>> {
        let got = self.sock.try_recv(buf)?;
        Ok(Self::decode(got, buf))
    }

    /// Like [`Self::try_recv`] for every queued record that fits in `buf` ([`RECORD_SLOT`]
    /// bytes a record), in one call, appended to `batch`; `lens` is scratch space. `Ok(Ok(n))`
    /// when `n` datagrams came (acknowledgements among them, which are not records), 0 when
    /// none was queued.
    pub fn try_recv_many(
        &self,
        buf: &mut [u8],
        lens: &mut Vec<usize>,
        batch: &mut RecordBatch,
    ) -> io::Result<Result<usize, Received>> {
        match self.sock.try_recv_many(buf, RECORD_SLOT, lens)? {
            Received::Datagram(n) => {
                for (i, &len) in lens.iter().enumerate() {
                    let at = i * RECORD_SLOT;
                    if let Some(r) = decode_record(&buf[at..at + len]) {
                        batch.push(r);
                    }
                }
                Ok(Ok(n))
            }
            Received::Timeout => Ok(Ok(0)),
            Received::Overflow => Ok(Err(Received::Overflow)),
        }
    }

    fn decode(got: Received, buf: &[u8]) -> Result<Option<RawRecord<'_>>, Received> {
        match got {
            Received::Datagram(n) => Ok(decode_record(&buf[..n])),
            Received::Timeout => Ok(None),
            Received::Overflow => Err(Received::Overflow),
        }
    }
}

/// Decodes one audit datagram: the type from the header, the body from the datagram length
/// (never `nlmsg_len`). Acknowledgements and errors give `None`.
pub fn decode_record(d: &[u8]) -> Option<RawRecord<'_>> {
    let h = NlHeader::parse(d)?;
    if h.kind == NLMSG_ERROR || h.kind == NLMSG_DONE || h.kind < 1000 {
        return None;
    }
    let mut body = d.get(NLMSG_HDRLEN..)?;
    while let [rest @ .., 0 | b'\n'] = body {
        body = rest;
    }
    Some(RawRecord {
        rtype: h.kind,
        body,
    })
}

/// Settings for [`AuditSession::start`].
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// Join the read-only log group instead of becoming the audit daemon.
    pub multicast: bool,
    /// Kernel backlog limit (records) to set; unicast mode only.
    pub backlog_limit: u32,
    /// Kernel backlog wait time (jiffies) to set; unicast mode only.
    pub backlog_wait_time: u32,
    /// Processes whose syscalls are not audited (godo, the local database server).
    pub exclude_pids: Vec<u32>,
}

/// What godo changed in the kernel's audit state, so it can be put back.
#[derive(Debug)]
pub struct AuditSession {
    ctl: AuditControl,
    before: AuditStatus,
    installed: Vec<Vec<u8>>,
    set_pid: bool,
    changed: u32,
    restored: bool,
}

impl AuditSession {
    /// Installs the rules and settings and registers `reader` (unicast). On any error, what was
    /// already changed is undone before returning.
    pub fn start(cfg: &SessionConfig, reader: &AuditReader) -> Result<Self, AuditError> {
        let mut ctl = AuditControl::open()?;
        let before = ctl.status()?;
        if before.enabled == 2 {
            return Err(AuditError::Locked);
        }
        if !cfg.multicast && before.pid != 0 && pid_alive(before.pid) {
            return Err(AuditError::DaemonRunning(before.pid));
        }
        let mut s = Self {
            ctl,
            before,
            installed: Vec::new(),
            set_pid: false,
            changed: 0,
            restored: false,
        };
        if let Err(e) = s.apply(cfg, reader) {
            let _ = s.restore_inner();
            return Err(e);
        }
        Ok(s)
    }

    fn apply(&mut self, cfg: &SessionConfig, reader: &AuditReader) -> Result<(), AuditError> {
        for r in rules(&cfg.exclude_pids) {
            let bytes = r.encode();
            match self.ctl.add_rule(&bytes) {
                Ok(()) => self.installed.push(bytes),
                // Already there (a previous run died without cleaning up): ours all the same.
                Err(AuditError::Refused { source, .. })
                    if source.raw_os_error() == Some(libc::EEXIST) =>
                {
                    self.installed.push(bytes)
                }
                Err(e) => return Err(e),
            }
        }
        if !cfg.multicast {
            let mut s = AuditStatus {
                mask: 0,
                ..Default::default()
            };
            if self.before.backlog_limit != cfg.backlog_limit {
                s.mask |= STATUS_BACKLOG_LIMIT;
                s.backlog_limit = cfg.backlog_limit;
            }
            if self.before.backlog_wait_time != cfg.backlog_wait_time {
                s.mask |= STATUS_BACKLOG_WAIT_TIME;
                s.backlog_wait_time = cfg.backlog_wait_time;
            }
            if s.mask != 0 {
                self.ctl.set(&s)?;
                self.changed |= s.mask;
            }
        }
        if !cfg.multicast {
            // The kernel sends records to the port of the socket that registered the pid.
            let msg = AuditStatus {
                mask: STATUS_PID,
                pid: std::process::id(),
                ..Default::default()
            };
            send(
                &reader.sock,
                &NlHeader::message(AUDIT_SET, NLM_F_REQUEST | NLM_F_ACK, 1, &msg.encode()),
                "set pid",
            )?;
            self.set_pid = true;
            let deadline = Instant::now() + Duration::from_secs(5);
            while self.ctl.status()?.pid != std::process::id() {
                if Instant::now() > deadline {
                    return Err(AuditError::Timeout("set pid"));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        // Enable last: with no daemon registered, records would go to the kernel log.
        if self.before.enabled != 1 {
            self.ctl.set(&AuditStatus {
                mask: STATUS_ENABLED,
                enabled: 1,
                ..Default::default()
            })?;
            self.changed |= STATUS_ENABLED;
        }
        Ok(())
    }

    /// The status as it was before godo changed anything.
    pub fn before(&self) -> &AuditStatus {
        &self.before
    }

    /// Number of rules installed.
    pub fn rules_installed(&self) -> usize {
        self.installed.len()
    }

    /// Replaces the rules with ones excluding `exclude_pids` instead (a local database server
    /// restarted with a new pid). The new rules go in before the old ones come out, so no
    /// syscall goes unaudited in between; a syscall both match is still logged once.
    pub fn set_exclusions(&mut self, exclude_pids: &[u32]) -> Result<(), AuditError> {
        let new: Vec<Vec<u8>> = rules(exclude_pids).iter().map(Rule::encode).collect();
        for r in &new {
            if self.installed.contains(r) {
                continue;
            }
            match self.ctl.add_rule(r) {
                Ok(()) => self.installed.push(r.clone()),
                Err(AuditError::Refused { source, .. })
                    if source.raw_os_error() == Some(libc::EEXIST) =>
                {
                    self.installed.push(r.clone())
                }
                Err(e) => return Err(e),
            }
        }
        let (keep, old): (Vec<_>, Vec<_>) = std::mem::take(&mut self.installed)
            .into_iter()
            .partition(|r| new.contains(r));
        self.installed = keep;
        let mut first_err = None;
        for r in old {
            if let Err(e) = self.ctl.delete_rule(&r) {
                // Still ours: try again at restore.
                self.installed.push(r);
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Deletes our rules and restores every setting changed; reports the first error after
    /// trying everything.
    pub fn restore(mut self) -> Result<(), AuditError> {
        self.restore_inner()
    }

    fn restore_inner(&mut self) -> Result<(), AuditError> {
        if self.restored {
            return Ok(());
        }
        self.restored = true;
        let mut first_err = None;
        let mut note = |r: Result<(), AuditError>| {
            if let Err(e) = r {
                tracing::warn!("restoring audit state: {e}");
                first_err.get_or_insert(e);
            }
        };
        for r in std::mem::take(&mut self.installed) {
            note(self.ctl.delete_rule(&r));
        }
        // Disable before clearing the pid, or records spill to the kernel log.
        if self.changed & STATUS_ENABLED != 0 {
            note(self.ctl.set(&AuditStatus {
                mask: STATUS_ENABLED,
                enabled: self.before.enabled,
                ..Default::default()
            }));
        }
        if self.set_pid {
            let still_ours = self
                .ctl
                .status()
                .map(|s| s.pid == std::process::id())
                .unwrap_or(true);
            if still_ours {
                note(self.ctl.set(&AuditStatus {
                    mask: STATUS_PID,
                    pid: self.before.pid,
                    ..Default::default()
                }));
            }
        }
        let mask = self.changed & (STATUS_BACKLOG_LIMIT | STATUS_BACKLOG_WAIT_TIME);
        if mask != 0 {
            note(self.ctl.set(&AuditStatus {
                mask,
                backlog_limit: self.before.backlog_limit,
                backlog_wait_time: self.before.backlog_wait_time,
                ..Default::default()
            }));
        }
        first_err.map_or(Ok(()), Err)
    }
}

impl Drop for AuditSession {
    fn drop(&mut self) {
        let _ = self.restore_inner();
    }
}

fn pid_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

mod rules;
pub use rules::{RULE_KEY, Rule, rules};

#[cfg(test)]
mod tests;
