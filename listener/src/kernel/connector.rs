//! The netlink process connector (cn_proc): fork, exec and exit of every task on the host.
//!
//! Hand-written over [`crate::kernel::netlink`] rather than the `proc-connector` crate (0.3, young and
//! single-maintained): the wire format is three fixed C structs (`nlmsghdr`, `cn_msg`,
//! `proc_event`), the recorder needs the per-CPU sequence numbers and `ENOBUFS` as loss signals,
//! and the decoder below is pure and tested with byte fixtures.
//!
//! [`ConnectorReader`] turns messages into [`Event`]s: forks carry the child as `/proc` shows it
//! right away (container id from the parent or the shim's command line when the child is not in
//! its cgroup yet, with the source said), execs carry the new program, exits the exit code or
//! signal; a jump in a CPU's sequence numbers or a socket overflow becomes a [`Gap`].

use std::collections::HashMap;
use std::io;

use dockwatch_shared::ByteString;
use dockwatch_shared::Timestamp;
use dockwatch_shared::model::event::{
    Comm, ContainerIdSource, Event, EventKind, Exec, Exit, Fork, Gap, GapReason, Pid, ProcessInfo,
    Source,
};

use crate::enrich::proc_info::{PidNamespaces, ProcReader};
use crate::kernel::netlink::{NLMSG_DONE, NLMSG_HDRLEN, NetlinkSocket, NlHeader, Received};
use crate::recording::recorder::HostIdentity;

const NETLINK_CONNECTOR: libc::c_int = 11;
const CN_IDX_PROC: u32 = 1;
const CN_VAL_PROC: u32 = 1;
const PROC_CN_MCAST_LISTEN: u32 = 1;
const PROC_CN_MCAST_IGNORE: u32 = 2;
const CN_MSG_LEN: usize = 20;

const PROC_EVENT_FORK: u32 = 0x1;
const PROC_EVENT_EXEC: u32 = 0x2;
const PROC_EVENT_COMM: u32 = 0x200;
const PROC_EVENT_EXIT: u32 = 0x8000_0000;

/// One process event as the kernel sent it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcEvent {
    /// `PROC_EVENT_FORK`.
    Fork {
        /// Task that forked.
        parent_pid: Pid,
        /// Its process.
        parent_tgid: Pid,
        /// New task.
        child_pid: Pid,
        /// Its process.
        child_tgid: Pid,
    },
    /// `PROC_EVENT_EXEC`.
    Exec {
        /// Task.
        pid: Pid,
        /// Process.
        tgid: Pid,
    },
    /// `PROC_EVENT_EXIT`.
    Exit {
        /// Task.
        pid: Pid,
        /// Process.
        tgid: Pid,
        /// The raw wait status (`task->exit_code`).
        status: u32,
    },
    /// `PROC_EVENT_COMM`: a task changed its name.
    Comm {
        /// Task.
        pid: Pid,
        /// Process.
        tgid: Pid,
        /// The new name, up to its first NUL.
        comm: [u8; 16],
    },
    /// Any other event (uid, ptrace, ...), or the subscription's acknowledgement.
    Other(u32),
}

/// A decoded connector message: the per-CPU sequence number, CPU, monotonic time and event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectorMsg {
    /// `cn_msg.seq`: counts events per CPU.
    pub seq: u32,
    /// CPU that sent the event.
    pub cpu: u32,
    /// `CLOCK_MONOTONIC` nanoseconds.
    pub timestamp_ns: u64,
    /// What happened to which task.
    pub event: ProcEvent,
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

fn i32_at(b: &[u8], off: usize) -> Option<i32> {
    Some(i32::from_ne_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

/// Decodes every connector message in one datagram. Truncated or foreign messages are skipped.
pub fn parse_datagram(b: &[u8]) -> Vec<ConnectorMsg> {
    let mut out = Vec::new();
    let mut off = 0;
    while let Some(h) = b.get(off..).and_then(NlHeader::parse) {
        let len = h.len as usize;
        if len < NLMSG_HDRLEN || off + len > b.len() {
            break;
        }
        if let Some(m) = parse_cn_msg(&b[off + NLMSG_HDRLEN..off + len]) {
            out.push(m);
        }
        off += len.next_multiple_of(4);
    }
    out
}

fn parse_cn_msg(b: &[u8]) -> Option<ConnectorMsg> {
    if u32_at(b, 0)? != CN_IDX_PROC || u32_at(b, 4)? != CN_VAL_PROC {
        return None;
    }
    let seq = u32_at(b, 8)?;
    let ev = b.get(CN_MSG_LEN..)?;
    let what = u32_at(ev, 0)?;
    let cpu = u32_at(ev, 4)?;
    let timestamp_ns = u64::from_ne_bytes(ev.get(8..16)?.try_into().ok()?);
    let d = 16;
    let event = match what {
        PROC_EVENT_FORK => ProcEvent::Fork {
            parent_pid: i32_at(ev, d)?,
            parent_tgid: i32_at(ev, d + 4)?,
            child_pid: i32_at(ev, d + 8)?,
            child_tgid: i32_at(ev, d + 12)?,
        },
        PROC_EVENT_EXEC => ProcEvent::Exec {
            pid: i32_at(ev, d)?,
            tgid: i32_at(ev, d + 4)?,
        },
        PROC_EVENT_COMM => {
            let raw: [u8; 16] = ev.get(d + 8..d + 24)?.try_into().ok()?;
            let end = raw.iter().position(|&c| c == 0).unwrap_or(16);
            let mut comm = [0u8; 16];
            comm[..end].copy_from_slice(&raw[..end]);
            ProcEvent::Comm {
                pid: i32_at(ev, d)?,
                tgid: i32_at(ev, d + 4)?,
                comm,
            }
        }
        PROC_EVENT_EXIT => ProcEvent::Exit {
            pid: i32_at(ev, d)?,
            tgid: i32_at(ev, d + 4)?,
            status: u32_at(ev, d + 8)?,
        },
        other => ProcEvent::Other(other),
    };
    Some(ConnectorMsg {
        seq,
        cpu,
        timestamp_ns,
        event,
    })
}

/// Splits a wait status into (exit code, killing signal): exactly one of them is set.
pub fn decode_status(status: u32) -> (Option<i32>, Option<i32>) {
    let sig = (status & 0x7f) as i32;
    if sig == 0 {
        (Some(((status >> 8) & 0xff) as i32), None)
    } else {
        (None, Some(sig))
    }
}

/// Detects jumps in the per-CPU sequence numbers.
#[derive(Debug, Default)]
pub struct SeqTracker {
    last: HashMap<u32, u32>,
}

impl SeqTracker {
    /// Records `seq` from `cpu`; returns how many messages of that CPU were skipped since the
    /// previous one (the first message of a CPU never counts as a jump).
    pub fn observe(&mut self, cpu: u32, seq: u32) -> Option<(u32, u64)> {
        let prev = self.last.insert(cpu, seq)?;
        let missed = seq.wrapping_sub(prev).wrapping_sub(1);
        // A backwards or huge step (counter reset) is not reported as a loss of 4 billion.
        (missed != 0 && missed < u32::MAX / 2).then_some((prev, u64::from(missed)))
    }
}

/// The subscribed connector socket.
#[derive(Debug)]
pub struct Connector {
    sock: NetlinkSocket,
}

impl Connector {
    /// Opens the connector socket, raises its buffer to `recv_buffer` bytes and subscribes to
    /// process events. Needs root (`CAP_NET_ADMIN`).
    pub fn subscribe(recv_buffer: usize) -> io::Result<Self> {
        let sock = NetlinkSocket::open_reader(NETLINK_CONNECTOR, CN_IDX_PROC, recv_buffer)?;
        let c = Self { sock };
        c.control(PROC_CN_MCAST_LISTEN)?;
        Ok(c)
    }

    fn control(&self, op: u32) -> io::Result<()> {
        let mut payload = Vec::with_capacity(CN_MSG_LEN + 4);
        payload.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
        payload.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
        payload.extend_from_slice(&0u32.to_ne_bytes()); // seq
        payload.extend_from_slice(&0u32.to_ne_bytes()); // ack
        payload.extend_from_slice(&4u16.to_ne_bytes()); // len
        payload.extend_from_slice(&0u16.to_ne_bytes()); // flags
        payload.extend_from_slice(&op.to_ne_bytes());
        self.sock
            .send_to_kernel(&NlHeader::message(NLMSG_DONE, 0, 0, &payload))
    }

    /// Receives one datagram.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Received> {
        self.sock.recv(buf)
    }

    /// Every queued datagram that fits, without waiting (see
    /// [`NetlinkSocket::try_recv_many`](crate::kernel::netlink::NetlinkSocket::try_recv_many)).
    pub fn try_recv_many(
        &self,
        buf: &mut [u8],
        slot: usize,
        lens: &mut Vec<usize>,
    ) -> io::Result<Received> {
        self.sock.try_recv_many(buf, slot, lens)
    }
}

impl Drop for Connector {
    fn drop(&mut self) {
        let _ = self.control(PROC_CN_MCAST_IGNORE);
    }
}

/// How long a name change waits for an exec of the same task: an exec renames the task first
/// (`PROC_EVENT_COMM`, then `PROC_EVENT_EXEC`), and the exec already carries the new name.
const COMM_HOLD_NS: u64 = 20_000_000;

/// What the reader knows of a live process, to fill in its forked children without reading
/// `/proc` for each.
#[derive(Clone, Debug, Default)]
struct Known {
    /// Its container, when it is in one.
    container: Option<(String, ContainerIdSource)>,
    /// The pid namespace it is in (an inode), when known: its clone calls return pids of that
    /// namespace, so a child's pid there ties the audited call to the fork report.
    pidns: Option<u64>,
}

/// Turns connector messages into events, enriching execs from `/proc`.
///
/// A fork is not enriched from `/proc`: at the fork the child is its parent's copy (program,
/// arguments, directories, cgroup), which the pipeline takes from the parent and marks as
/// inherited; the child's own exec is read when it comes. Only what the fork changes is read:
/// the child's pid in its caller's pid namespace when that is not the host's (the return value
/// of the caller's clone call), which ties the audited call to this report.
#[derive(Debug)]
pub struct ConnectorReader {
    id: HostIdentity,
    procs: ProcReader,
    seqs: SeqTracker,
    /// Every live process met (seeded from the snapshot).
    known: HashMap<Pid, Known>,
    /// The recorder's own pid namespace (the host's).
    own_pidns: Option<u64>,
    namespaces: PidNamespaces,
    /// Name changes waiting for an exec of the same task.
    held_comm: Vec<(u64, Pid, Event)>,
    latest_ns: u64,
    mono_offset_us: i64,
}

impl ConnectorReader {
    /// A reader for `id`'s host.
    pub fn new(id: HostIdentity, procs: ProcReader) -> Self {
        let mono_offset_us = ProcReader::monotonic_to_wall(0).0;
        let own_pidns = procs.pid_namespace(std::process::id() as Pid);
        Self {
            id,
            procs,
            seqs: SeqTracker::default(),
            known: HashMap::new(),
            own_pidns,
            namespaces: PidNamespaces::default(),
            held_comm: Vec::new(),
            latest_ns: 0,
            mono_offset_us,
        }
    }

    /// Remembers what the start-up snapshot saw of process `tgid` (its container), and which
    /// pid namespace it is in.
    pub fn know_process(&mut self, tgid: Pid, container: Option<(String, ContainerIdSource)>) {
        let pidns = self.procs.pid_namespace(tgid);
        self.known.insert(tgid, Known { container, pidns });
    }

    fn event(&self, time: Timestamp, kind: EventKind) -> Event {
        Event {
            host: self.id.host.clone(),
            boot_id: self.id.boot_id.clone(),
            run: String::new(),
            seq: 0,
            time,
            source: Source::Connector,
            audit: None,
            kind,
        }
    }

    /// A gap event for a socket overflow (`ENOBUFS`) noticed now.
    pub fn overflow_gap(&self) -> Event {
        let now = Timestamp::now();
        self.event(
            now,
            EventKind::Gap(Gap {
                reason: GapReason::SocketOverflow,
                lost: None,
                from: now,
                to: now,
                detail: Some("process connector socket overflowed (ENOBUFS)".into()),
            }),
        )
    }

    /// Handles one datagram: appends its events (and any gap) to `out`.
    pub fn handle(&mut self, datagram: &[u8], out: &mut Vec<Event>) {
        for m in parse_datagram(datagram) {
            self.latest_ns = self.latest_ns.max(m.timestamp_ns);
            self.handle_msg(m, out);
        }
        let due = self.latest_ns.saturating_sub(COMM_HOLD_NS);
        self.release_comms(|at| at <= due, out);
    }

    /// Hands on every held name change (nothing arrived for a while, or at shutdown).
    pub fn flush(&mut self, out: &mut Vec<Event>) {
        self.release_comms(|_| true, out);
    }

    fn release_comms(&mut self, due: impl Fn(u64) -> bool, out: &mut Vec<Event>) {
        if self.held_comm.iter().any(|(at, _, _)| due(*at)) {
            let (ready, keep) = std::mem::take(&mut self.held_comm)
                .into_iter()
                .partition(|(at, _, _)| due(*at));
            self.held_comm = keep;
            out.extend(ready.into_iter().map(|(_, _, ev)| ev));
        }
    }

    fn handle_msg(&mut self, m: ConnectorMsg, out: &mut Vec<Event>) {
        let time = Timestamp(self.mono_offset_us + (m.timestamp_ns / 1_000) as i64);
        if !matches!(m.event, ProcEvent::Other(0)) {
            if let Some((prev, lost)) = self.seqs.observe(m.cpu, m.seq) {
                out.push(self.event(
                    time,
                    EventKind::Gap(Gap {
                        reason: GapReason::ConnectorSeqJump,
                        lost: Some(lost),
                        from: time,
                        to: time,
                        detail: Some(format!("cpu {} sequence {} -> {}", m.cpu, prev, m.seq)),
                    }),
                ));
            }
        }
        match m.event {
            ProcEvent::Fork {
                parent_pid,
                parent_tgid,
                child_pid,
                child_tgid,
            } => {
                let child = self.fork_view(parent_tgid, child_pid, child_tgid);
                out.push(self.event(
                    time,
                    EventKind::Fork(Fork {
                        parent_pid,
                        parent_tgid,
                        child_pid,
                        child_tgid,
                        child: Some(child),
                        fd_from: None,
                        clone_serial: None,
                    }),
                ));
            }
            ProcEvent::Exec { pid, tgid } => {
                // The exec carries the new name: a rename it made just before is not news.
                self.held_comm.retain(|(_, p, _)| *p != pid);
                let mut process = self.procs.read_exec(tgid, pid);
                // A container's init was made by a runtime outside its pid namespace.
                let pidns = self.procs.pid_namespace(tgid);
                let known = self.known.entry(tgid).or_default();
                if pidns.is_some() {
                    known.pidns = pidns;
                }
                match (&process.container_id, process.container_id_from) {
                    (Some(cid), Some(from)) => known.container = Some((cid.clone(), from)),
                    _ => {
                        if let Some((cid, from)) = &known.container {
                            process.container_id = Some(cid.clone());
                            process.container_id_from = Some(*from);
                        }
                    }
                }
                out.push(self.event(
                    time,
                    EventKind::Exec(Exec {
                        pid,
                        tgid,
                        ppid: None,
                        process,
                    }),
                ));
            }
            ProcEvent::Exit { pid, tgid, status } => {
                if pid == tgid {
                    self.known.remove(&tgid);
                }
                let (exit_code, signal) = decode_status(status);
                out.push(self.event(
                    time,
                    EventKind::Exit(Exit {
                        pid,
                        tgid,
                        exit_code,
                        signal,
                    }),
                ));
            }
            ProcEvent::Comm { pid, tgid, comm } => {
                let ev = self.event(
                    time,
                    EventKind::Comm(Comm {
                        pid,
                        tgid,
                        comm: ByteString::from(
                            &comm[..comm.iter().position(|&c| c == 0).unwrap_or(16)],
                        ),
                    }),
                );
                self.held_comm.push((m.timestamp_ns, pid, ev));
            }
            ProcEvent::Other(_) => {}
        }
    }

    /// What a fork changes of the child: its pid in its caller's pid namespace (when that is
    /// not the host's), and its container, known from the parent's (else read from the
    /// parent's cgroup).
    fn fork_view(&mut self, parent_tgid: Pid, child_pid: Pid, child_tgid: Pid) -> ProcessInfo {
        let thread = child_pid != child_tgid;
        // A new thread's call was made by its own process; the report names that process's
        // parent as the parent.
        let caller = if thread { child_tgid } else { parent_tgid };
        let caller_known = match self.known.get(&caller) {
            Some(k) => k.clone(),
            None => {
                let k = Known {
                    container: self
                        .procs
                        .container_id(caller)
                        .flatten()
                        .map(|cid| (cid, ContainerIdSource::Cgroup)),
                    pidns: self.procs.pid_namespace(caller),
                };
                self.known.insert(caller, k.clone());
                k
            }
        };
        let mut child = ProcessInfo::default();
        let nested = caller_known.pidns.is_none() || caller_known.pidns != self.own_pidns;
        if nested {
            let ns = caller_known.pidns.and_then(|ns| {
                self.namespaces
                    .pid_in(&self.procs, ns, caller, child_tgid, child_pid)
            });
            match ns {
                Some(p) => child.ns_pids = vec![p],
                None => child.missing.push("ns_pids".into()),
            }
        }
        if !thread {
            if let Some((cid, from)) = &caller_known.container {
                child.container_id = Some(cid.clone());
                child.container_id_from = Some(match from {
                    ContainerIdSource::ShimArgs => ContainerIdSource::ShimArgs,
                    _ => ContainerIdSource::Parent,
                });
            }
            self.known.insert(child_tgid, caller_known);
        }
        child
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn datagram(seq: u32, cpu: u32, what: u32, data: &[i32]) -> Vec<u8> {
        let mut p = Vec::new();
        for v in [CN_IDX_PROC, CN_VAL_PROC, seq, 0] {
            p.extend_from_slice(&v.to_ne_bytes());
        }
        let ev_len = 16 + 4 * data.len();
        p.extend_from_slice(&(ev_len as u16).to_ne_bytes());
        p.extend_from_slice(&0u16.to_ne_bytes());
        p.extend_from_slice(&what.to_ne_bytes());
        p.extend_from_slice(&cpu.to_ne_bytes());
        p.extend_from_slice(&5_000_000u64.to_ne_bytes());
        for v in data {
            p.extend_from_slice(&v.to_ne_bytes());
        }
        NlHeader::message(NLMSG_DONE, 0, 0, &p)
    }

    #[test]
    fn decodes_fork_exec_exit() {
        let f = parse_datagram(&datagram(3, 1, PROC_EVENT_FORK, &[10, 10, 11, 11]));
        assert_eq!(
            f,
            vec![ConnectorMsg {
                seq: 3,
                cpu: 1,
                timestamp_ns: 5_000_000,
                event: ProcEvent::Fork {
                    parent_pid: 10,
                    parent_tgid: 10,
                    child_pid: 11,
                    child_tgid: 11
                }
            }]
        );
        let e = parse_datagram(&datagram(4, 0, PROC_EVENT_EXEC, &[11, 11]));
        assert_eq!(e[0].event, ProcEvent::Exec { pid: 11, tgid: 11 });
        let x = parse_datagram(&datagram(
            5,
            0,
            PROC_EVENT_EXIT,
            &[11, 11, 3 << 8, 17, 10, 10],
        ));
        assert_eq!(
            x[0].event,
            ProcEvent::Exit {
                pid: 11,
                tgid: 11,
                status: 3 << 8
            }
        );
        assert!(parse_datagram(&[1, 2, 3]).is_empty());
        let mut short = datagram(5, 0, PROC_EVENT_EXIT, &[11]);
        short.truncate(short.len() - 2);
        assert!(parse_datagram(&short).is_empty());
    }

    #[test]
    fn wait_status_gives_code_or_signal() {
        assert_eq!(decode_status(0), (Some(0), None));
        assert_eq!(decode_status(3 << 8), (Some(3), None));
        assert_eq!(decode_status(9), (None, Some(9)));
        assert_eq!(
            decode_status(0x80 | 11),
            (None, Some(11)),
            "core dump flag ignored"
        );
    }

    #[test]
    fn sequence_jumps_per_cpu() {
        let mut t = SeqTracker::default();
        assert_eq!(t.observe(0, 10), None);
        assert_eq!(t.observe(1, 500), None);
        assert_eq!(t.observe(0, 11), None);
        assert_eq!(t.observe(0, 15), Some((11, 3)));
        assert_eq!(t.observe(1, 501), None);
        assert_eq!(t.observe(1, 1501), Some((501, 999)));
        assert_eq!(
            t.observe(1, 7),
            None,
            "a step backwards is a reset, not a loss"
        );
        assert_eq!(t.observe(2, u32::MAX), None);
        assert_eq!(t.observe(2, 0), None, "wraps");
    }

    #[test]
    fn reader_turns_messages_into_events_with_gaps() {
        let id = HostIdentity {
            host: "h".into(),
            boot_id: "b".into(),
        };
        let mut r = ConnectorReader::new(id, ProcReader::new());
        let me = std::process::id() as Pid;
        let parent = std::os::unix::process::parent_id() as Pid;
        let mut out = Vec::new();
        r.handle(
            &datagram(1, 0, PROC_EVENT_FORK, &[parent, parent, me, me]),
            &mut out,
        );
        r.handle(
            &datagram(4, 0, PROC_EVENT_EXIT, &[me, me, 2 << 8, 17]),
            &mut out,
        );
        assert_eq!(out.len(), 3, "{out:#?}");
        match &out[0].kind {
            EventKind::Fork(f) => {
                // Not read from /proc: at the fork the child is its parent's copy.
                let child = f.child.as_ref().unwrap();
                assert!(child.exe.is_none() && child.args.is_empty(), "{child:?}");
                assert!(child.missing.is_empty(), "{child:?}");
            }
            k => panic!("{k:?}"),
        }
        match &out[1].kind {
            EventKind::Gap(g) => {
                assert_eq!(g.reason, GapReason::ConnectorSeqJump);
                assert_eq!(g.lost, Some(2));
            }
            k => panic!("{k:?}"),
        }
        assert!(matches!(
            &out[2].kind,
            EventKind::Exit(Exit {
                exit_code: Some(2),
                signal: None,
                ..
            })
        ));
        assert!(out.iter().all(|e| e.source == Source::Connector));
    }

    #[test]
    fn fork_of_a_gone_child_takes_the_parents_container() {
        let id = HostIdentity {
            host: "h".into(),
            boot_id: "b".into(),
        };
        let mut r = ConnectorReader::new(id, ProcReader::new());
        let cid = "a".repeat(64);
        r.know_process(77_777_001, Some((cid.clone(), ContainerIdSource::Cgroup)));
        let mut out = Vec::new();
        let gone = i32::MAX - 3;
        r.handle(
            &datagram(1, 0, PROC_EVENT_FORK, &[77_777_001, 77_777_001, gone, gone]),
            &mut out,
        );
        let EventKind::Fork(f) = &out[0].kind else {
            panic!()
        };
        let child = f.child.as_ref().unwrap();
        assert_eq!(child.container_id.as_deref(), Some(cid.as_str()));
        assert_eq!(child.container_id_from, Some(ContainerIdSource::Parent));
        assert_eq!(
            child.missing,
            ["ns_pids"],
            "its parent is in a container: its pids there could not be read"
        );
    }

    fn comm_datagram(seq: u32, pid: i32, comm: &[u8], at_ns: u64) -> Vec<u8> {
        let mut name = [0u8; 16];
        name[..comm.len()].copy_from_slice(comm);
        let mut d = datagram(seq, 0, PROC_EVENT_COMM, &[pid, pid]);
        // The header's time, then the name after the two pids.
        let at = d.len() - 8 - 8;
        d[at..at + 8].copy_from_slice(&at_ns.to_ne_bytes());
        d.extend_from_slice(&name);
        let len = d.len() as u32;
        d[..4].copy_from_slice(&len.to_ne_bytes());
        let cn_len = (16 + 8 + 16) as u16;
        d[NLMSG_HDRLEN + 16..NLMSG_HDRLEN + 18].copy_from_slice(&cn_len.to_ne_bytes());
        d
    }

    /// A task's rename is recorded, except the one an exec makes just before its exec report
    /// (the exec names the program itself).
    #[test]
    fn a_rename_is_an_event_unless_an_exec_follows() {
        let id = HostIdentity {
            host: "h".into(),
            boot_id: "b".into(),
        };
        let mut r = ConnectorReader::new(id, ProcReader::new());
        let mut out = Vec::new();
        let gone = i32::MAX - 5;
        r.handle(&comm_datagram(1, gone, b"rm", 1_000_000_000), &mut out);
        r.handle(
            &comm_datagram(2, gone - 1, b"sleep", 1_001_000_000),
            &mut out,
        );
        r.handle(
            &datagram(3, 0, PROC_EVENT_EXEC, &[gone - 1, gone - 1]),
            &mut out,
        );
        assert!(
            out.iter().all(|e| !matches!(e.kind, EventKind::Comm(_))),
            "held for 20 ms: {out:#?}"
        );
        r.flush(&mut out);
        let renames: Vec<(Pid, Vec<u8>)> = out
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Comm(c) => Some((c.pid, c.comm.as_bytes().to_vec())),
                _ => None,
            })
            .collect();
        assert_eq!(renames, [(gone, b"rm".to_vec())]);
    }

    /// Real kernel: needs root. Forks a child and sees its fork and exit with the exit code.
    #[test]
    fn live_connector_sees_a_child_exit_code() {
        use dockwatch_shared::testing::{Need, require};
        if !require(&[Need::Root]) {
            return;
        }
        let c = Connector::subscribe(4 << 20).unwrap();
        let child = std::process::Command::new("/bin/sh")
            .args(["-c", "exit 7"])
            .spawn()
            .unwrap();
        let child_pid = child.id() as Pid;
        let id = HostIdentity {
            host: "h".into(),
            boot_id: "b".into(),
        };
        let mut r = ConnectorReader::new(id, ProcReader::new());
        let mut buf = vec![0u8; 65536];
        let mut out = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut child = child;
        let _ = child.wait();
        while std::time::Instant::now() < deadline {
            if let Received::Datagram(n) = c.recv(&mut buf).unwrap() {
                r.handle(&buf[..n], &mut out);
            }
            if out
                .iter()
                .any(|e| matches!(&e.kind, EventKind::Exit(x) if x.pid == child_pid))
            {
                break;
            }
        }
        assert!(
            out.iter()
                .any(|e| matches!(&e.kind, EventKind::Fork(f) if f.child_pid == child_pid))
        );
        assert!(out.iter().any(|e| matches!(&e.kind, EventKind::Exit(x) if x.pid == child_pid && x.exit_code == Some(7))), "{out:#?}");
    }
}
