//! The recorder's core: one thread that takes everything the kernel readers produced, in
//! arrival order, and turns it into the events handed to the output stage.
//!
//! Inputs ([`Input`]) come from the reader threads through one bounded queue: raw audit records
//! (decoded and assembled by an [`AuditDecoder`]), connector and snapshot events, Docker
//! metadata, gap events, and timer ticks. Every event, and every audited clone call, then
//! passes the [`FdPaths`] stage (paths for writes, closes and dups, placed at the right point of
//! the parent's syscalls whatever order the streams arrive in; write coalescing); new container
//! ids are handed to the Docker
//! lookup; audit events of excluded processes (godo itself, the local database server) are
//! dropped so the database's own writes never feed back into the log.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;

use dockwatch_shared::Timestamp;
use dockwatch_shared::model::event::{ContainerIdSource, Event, EventKind, Pid, Source};

use crate::enrich::fd_paths::{Assembled, FdPaths};
use crate::kernel::audit_netlink::{RawRecord, RecordBatch};
use crate::recording::audit::Counters;

/// The host and boot every event of this run is stamped with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostIdentity {
    /// Host name (`uname -n`).
    pub host: String,
    /// `/proc/sys/kernel/random/boot_id`.
    pub boot_id: String,
}

impl HostIdentity {
    /// Reads the host name and boot id of this machine; unknown parts become `"unknown"`.
    pub fn detect() -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown".into());
        let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown".into());
        Self { host, boot_id }
    }
}

/// Turns raw audit records into events (the parser and assembler of `crate::recording::audit`).
pub trait AuditDecoder: Send {
    /// Takes one record; appends finished events (and clone calls) to `out`.
    fn push(&mut self, record: RawRecord<'_>, out: &mut Vec<Assembled>);
    /// Finishes events whose records are older than `before` (their EOE never came).
    fn flush_older_than(&mut self, before: Timestamp, out: &mut Vec<Assembled>);
    /// Finishes everything at shutdown.
    fn finish(&mut self, out: &mut Vec<Assembled>);
    /// Records that could not be parsed so far.
    fn parse_errors(&self) -> u64 {
        0
    }
    /// What the decoder has seen and made so far (records, kernel events, missing serials).
    fn counters(&self) -> Counters {
        Counters::default()
    }
}

/// What the reader threads send to the recorder.
#[derive(Debug)]
pub enum Input {
    /// Audit records as received, in order (the reader hands on what it drained in one go).
    Audit(RecordBatch),
    /// Finished events (connector, snapshot, Docker, gaps).
    Events(Vec<Event>),
    /// Timer: finish stale audit events, flush coalesced writes.
    Tick,
    /// From now on, drop the audit events of these processes instead (the local database
    /// server came back with a new pid).
    Exclude(HashSet<Pid>),
    /// Shutdown: everything queued before it is handled, nothing after.
    Stop,
}

/// The recorder's state.
pub struct Recorder {
    decoder: Box<dyn AuditDecoder>,
    fds: FdPaths,
    exclude: HashSet<Pid>,
    containers: HashSet<String>,
    /// Container of each process seen in one (from the connector and the snapshot), to give
    /// audit execs (which know no cgroup) their container id.
    in_container: HashMap<Pid, (String, ContainerIdSource)>,
    diag: Option<std::io::BufWriter<std::fs::File>>,
    /// What the decoder and the readers produced, kept between inputs.
    staged: Vec<Assembled>,
    ticks: u64,
    flush_every: u64,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("exclude", &self.exclude)
            .finish_non_exhaustive()
    }
}

/// How long an audit event may wait for its EOE record before it is finished anyway.
const AUDIT_STALE_US: i64 = 2_000_000;

impl Recorder {
    /// A recorder decoding audit with `decoder`, dropping audit events of `exclude` processes,
    /// flushing coalesced writes every `flush_every` ticks, and writing raw records to `diag`.
    pub fn new(
        decoder: Box<dyn AuditDecoder>,
        exclude: HashSet<Pid>,
        flush_every: u64,
        diag: Option<std::fs::File>,
    ) -> Self {
        let mut fds = FdPaths::live();
        fds.set_unaudited(exclude.iter().copied());
        Self {
            decoder,
            fds,
            exclude,
            containers: HashSet::new(),
            in_container: HashMap::new(),
            diag: diag.map(std::io::BufWriter::new),
            staged: Vec::new(),
            ticks: 0,
            flush_every: flush_every.max(1),
        }
    }

    /// Handles one input. Events ready for the output stage go to `out`; container ids seen for
    /// the first time go to `new_containers`.
    pub fn handle(&mut self, input: Input, out: &mut Vec<Event>, new_containers: &mut Vec<String>) {
        // A buffer kept between calls: most calls make a few hundred events.
        let mut produced = std::mem::take(&mut self.staged);
        match input {
            Input::Audit(records) => {
                for rec in records.iter() {
                    if let Some(d) = self.diag.as_mut() {
                        // One line per record, as auditd writes its log: type=N then the body.
                        let _ = write!(d, "type={} msg=", rec.rtype);
                        let _ = d.write_all(rec.body);
                        let _ = d.write_all(b"\n");
                    }
                    self.decoder.push(rec, &mut produced);
                }
            }
            Input::Events(evs) => produced.extend(evs.into_iter().map(Assembled::Event)),
            Input::Exclude(pids) => {
                self.fds.set_unaudited(pids.iter().copied());
                self.exclude = pids;
            }
            Input::Stop => {}
            Input::Tick => {
                self.ticks += 1;
                self.decoder.flush_older_than(
                    Timestamp(Timestamp::now().0 - AUDIT_STALE_US),
                    &mut produced,
                );
                self.fds.tick(out);
                if let Some(d) = self.diag.as_mut() {
                    let _ = d.flush();
                }
            }
        }
        for item in produced.drain(..) {
            let mut ev = match item {
                Assembled::Event(ev) => ev,
                Assembled::Clone { time, call, .. } => {
                    if !self.exclude.contains(&call.caller) {
                        self.fds.clone_call(time, call, out);
                    }
                    continue;
                }
            };
            if ev.source == Source::Audit && self.is_excluded(&ev) {
                continue;
            }
            if let EventKind::PivotRoot(p) = &mut ev.kind {
                locate_new_root(p);
            }
            self.track_container(&mut ev);
            if let Some(cid) = container_of(&ev) {
                if self.containers.insert(cid.to_string()) {
                    new_containers.push(cid.to_string());
                }
            }
            self.fds.process(ev, out);
        }
        self.staged = produced;
        if self.ticks >= self.flush_every {
            self.ticks = 0;
            self.fds.flush(out);
        }
    }

    /// Finishes everything at shutdown.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        let mut produced = Vec::new();
        self.decoder.finish(&mut produced);
        for item in produced {
            match item {
                Assembled::Event(ev) => {
                    if !(ev.source == Source::Audit && self.is_excluded(&ev)) {
                        self.fds.process(ev, out);
                    }
                }
                Assembled::Clone { time, call, .. } => {
                    if !self.exclude.contains(&call.caller) {
                        self.fds.clone_call(time, call, out);
                    }
                }
            }
        }
        self.fds.finish(out);
        if let Some(d) = self.diag.as_mut() {
            let _ = d.flush();
        }
    }

    /// Audit records that could not be parsed so far.
    pub fn parse_errors(&self) -> u64 {
        self.decoder.parse_errors()
    }

    /// The audit decoder's counters (records, kernel events assembled, missing serials).
    pub fn audit_counters(&self) -> Counters {
        self.decoder.counters()
    }

    /// Remembers which process is in which container, and fills in the container id of audit
    /// execs from it (the same process, as the connector or the snapshot saw it).
    fn track_container(&mut self, ev: &mut Event) {
        if self.in_container.len() > 200_000 {
            self.in_container.clear();
        }
        match &mut ev.kind {
            EventKind::Exec(e) => match (&e.process.container_id, e.process.container_id_from) {
                (Some(cid), Some(from)) => {
                    self.in_container.insert(e.tgid, (cid.clone(), from));
                }
                (None, _) => {
                    // The connector's view of this process may still be on its way: fall back
                    // to the process's own cgroup, then to its parent's container.
                    let found = self
                        .in_container
                        .get(&e.tgid)
                        .cloned()
                        .or_else(|| {
                            let cg = std::fs::read(format!("/proc/{}/cgroup", e.tgid)).ok()?;
                            Some((
                                crate::enrich::proc_info::container_id_from_cgroup(&cg)?,
                                ContainerIdSource::Cgroup,
                            ))
                        })
                        .or_else(|| {
                            let (cid, _) = self.in_container.get(&e.ppid?)?;
                            Some((cid.clone(), ContainerIdSource::Parent))
                        });
                    if let Some((cid, from)) = found {
                        self.in_container.insert(e.tgid, (cid.clone(), from));
                        e.process.container_id = Some(cid);
                        e.process.container_id_from = Some(from);
                    }
                }
                _ => {}
            },
            EventKind::Fork(f) if f.child_pid == f.child_tgid => {
                match f
                    .child
                    .as_ref()
                    .and_then(|c| Some((c.container_id.clone()?, c.container_id_from?)))
                {
                    Some(known) => {
                        self.in_container.insert(f.child_tgid, known);
                    }
                    None => {
                        self.in_container.remove(&f.child_tgid);
                    }
                }
            }
            EventKind::Snapshot(s) => {
                if let (Some(cid), Some(from)) =
                    (&s.process.container_id, s.process.container_id_from)
                {
                    self.in_container.insert(s.tgid, (cid.clone(), from));
                }
            }
            _ => {}
        }
    }

    fn is_excluded(&self, ev: &Event) -> bool {
        !self.exclude.is_empty() && tgid_of(ev).is_some_and(|t| self.exclude.contains(&t))
    }
}

/// Names a pivot_root's new root as the host sees it when audit could not: runtimes call
/// `pivot_root(".", ".")` from inside the new root, which audit then names `/`. The filesystem
/// the new root is on (the device audit gives) is mounted on the host where the container's
/// root filesystem is; while the container runs, the host's mount table says where.
fn locate_new_root(p: &mut dockwatch_shared::model::event::PivotRoot) {
    let named = p.new_root.as_bytes();
    if named.first() == Some(&b'/') && named != b"/" {
        return;
    }
    let mount = p
        .new_root_dev
        .as_deref()
        .and_then(|dev| crate::enrich::proc_info::ProcReader::new().mount_point(dev));
    if let Some(mount) = mount.filter(|m| m.as_bytes() != b"/") {
        p.new_root = mount;
    }
}

/// The process an event is about, when it has one.
pub fn tgid_of(ev: &Event) -> Option<Pid> {
    Some(match &ev.kind {
        EventKind::Fork(f) => f.parent_tgid,
        EventKind::Exec(e) => e.tgid,
        EventKind::Exit(e) => e.tgid,
        EventKind::Snapshot(s) => s.tgid,
        EventKind::Open(o) => o.tgid,
        EventKind::Write(w) => w.tgid,
        EventKind::Close(c) => c.tgid,
        EventKind::Dup(d) => d.tgid,
        EventKind::CloseRange(c) => c.tgid,
        EventKind::Comm(c) => c.tgid,
        EventKind::Rename(r) => r.tgid,
        EventKind::Unlink(u) => u.tgid,
        EventKind::Truncate(t) => t.tgid,
        EventKind::Chmod(c) => c.tgid,
        EventKind::Chown(c) => c.tgid,
        EventKind::PivotRoot(p) => p.tgid,
        EventKind::Container(_) | EventKind::Gap(_) => return None,
    })
}

/// The container id an event names (exec, snapshot, or a fork's child).
pub fn container_of(ev: &Event) -> Option<&str> {
    match &ev.kind {
        EventKind::Exec(e) => e.process.container_id.as_deref(),
        EventKind::Snapshot(s) => s.process.container_id.as_deref(),
        EventKind::Fork(f) => f.child.as_ref()?.container_id.as_deref(),
        _ => None,
    }
}

/// The audit decoder for live records: [`crate::recording::audit::parse_netlink`] then the
/// [`crate::recording::audit::Assembler`] (which also reports serial-number jumps as gaps).
pub fn audit_decoder(id: &HostIdentity) -> Box<dyn AuditDecoder> {
    Box::new(LiveAudit(
        crate::recording::audit::Assembler::new(id.host.clone(), id.boot_id.clone())
            .without_forks(),
    ))
}

/// Live audit decoding: parse each datagram, assemble events by serial.
///
/// The assembler infers no forks ([`crate::recording::audit::Assembler::without_forks`]): live, the process
/// connector reports every fork with the parent at fork time (and its losses as gaps), while an
/// inferred fork names the parent at the child's first audited syscall, which for an orphan is
/// the reaper. Such a false fork named the wrong parent, reset the orphan's fd table to the
/// reaper's and cleared its container.
pub struct LiveAudit(crate::recording::audit::Assembler);

impl std::fmt::Debug for LiveAudit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("LiveAudit").field(self.0.counters()).finish()
    }
}

impl AuditDecoder for LiveAudit {
    fn push(&mut self, record: RawRecord<'_>, out: &mut Vec<Assembled>) {
        match crate::recording::audit::parse_netlink(record.rtype, record.body) {
            Ok(r) => self.0.push(r, out),
            Err(e) => self
                .0
                .parse_error(&e, format!("audit netlink record type {}", record.rtype)),
        }
    }
    fn flush_older_than(&mut self, before: Timestamp, out: &mut Vec<Assembled>) {
        self.0.flush_older_than(before, out);
    }
    fn finish(&mut self, out: &mut Vec<Assembled>) {
        self.0.finish(out);
    }
    fn parse_errors(&self) -> u64 {
        self.0.counters().parse_errors
    }
    fn counters(&self) -> Counters {
        self.0.counters().clone()
    }
}

/// A decoder that only keeps records for `--diag` (used when audit is not read).
#[derive(Debug, Default)]
pub struct NoAudit;

impl AuditDecoder for NoAudit {
    fn push(&mut self, _: RawRecord<'_>, _: &mut Vec<Assembled>) {}
    fn flush_older_than(&mut self, _: Timestamp, _: &mut Vec<Assembled>) {}
    fn finish(&mut self, _: &mut Vec<Assembled>) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::audit::Output;
    use dockwatch_shared::model::event::{Exec, ProcessInfo, Write};

    fn ev(source: Source, kind: EventKind) -> Event {
        Event {
            host: "h".into(),
            boot_id: "b".into(),
            run: String::new(),
            seq: 0,
            time: Timestamp(1),
            source,
            audit: None,
            kind,
        }
    }

    /// A process the start-up snapshot found.
    fn known(pid: Pid) -> Event {
        ev(
            Source::Procfs,
            EventKind::Snapshot(dockwatch_shared::model::event::Snapshot {
                pid,
                tgid: pid,
                ppid: 1,
                ..Default::default()
            }),
        )
    }

    struct Echo;
    impl AuditDecoder for Echo {
        fn push(&mut self, r: RawRecord<'_>, out: &mut Vec<Assembled>) {
            let tgid = r.rtype as Pid;
            out.event(ev(
                Source::Audit,
                EventKind::Write(Write {
                    pid: tgid,
                    tgid,
                    fd: 1,
                    count: 1,
                    ..Default::default()
                }),
            ));
        }
        fn flush_older_than(&mut self, _: Timestamp, _: &mut Vec<Assembled>) {}
        fn finish(&mut self, _: &mut Vec<Assembled>) {}
    }

    fn netlink(rtype: u16, body: &str) -> RawRecord<'_> {
        RawRecord {
            rtype,
            body: body.as_bytes(),
        }
    }

    /// An orphan (pid 52, forked by 51) whose first audited syscall comes after its parent
    /// exited names the container's init (50) as `ppid=`, right after 50 cloned another child:
    /// the assembler alone reads that as a fork by 50. Live, no audit fork comes out; the
    /// orphan's write still does.
    #[test]
    fn live_audit_leaves_forks_to_the_connector() {
        let id = HostIdentity {
            host: "h".into(),
            boot_id: "b".into(),
        };
        let mut d = audit_decoder(&id);
        let mut out = Vec::new();
        let records = [
            (
                1300,
                "audit(1000.000:1): arch=c000003e syscall=56 success=yes exit=9 a0=1200011 ppid=40 pid=50 comm=\"sh\" exe=\"/bin/busybox\"",
            ),
            (1327, "audit(1000.000:1): proctitle=7368"),
            (1320, "audit(1000.000:1): "),
            (
                1300,
                "audit(1001.000:2): arch=c000003e syscall=1 success=yes exit=5 a0=1 a1=0 a2=5 a3=0 items=0 ppid=50 pid=52 comm=\"sh\" exe=\"/bin/busybox\"",
            ),
            (1327, "audit(1001.000:2): proctitle=7368"),
            (1320, "audit(1001.000:2): "),
        ];
        for (t, b) in records {
            d.push(netlink(t, b), &mut out);
        }
        d.finish(&mut out);
        let clones = out
            .iter()
            .filter(|a| matches!(a, Assembled::Clone { call, .. } if call.caller == 50 && call.ret == 9))
            .count();
        assert_eq!(clones, 1, "the clone call goes to fd tracking");
        let out: Vec<Event> = out
            .into_iter()
            .filter_map(|a| match a {
                Assembled::Event(e) => Some(e),
                Assembled::Clone { .. } => None,
            })
            .collect();
        assert!(
            !out.iter().any(|e| matches!(e.kind, EventKind::Fork(_))),
            "no audit fork: {out:#?}"
        );
        assert!(
            out.iter()
                .any(|e| matches!(&e.kind, EventKind::Write(w) if w.tgid == 52)),
            "the orphan's write: {out:#?}"
        );
        // The assembler on its own (offline import) does infer the forks.
        let mut a = crate::recording::audit::Assembler::new("h", "b");
        let mut raw: Vec<Event> = Vec::new();
        for (t, b) in records {
            a.push(
                crate::recording::audit::parse_netlink(t, b.as_bytes()).unwrap(),
                &mut raw,
            );
        }
        a.finish(&mut raw);
        assert!(
            raw.iter().any(
                |e| matches!(&e.kind, EventKind::Fork(f) if f.child_pid == 52 && f.parent_pid == 50)
            ),
            "the assembler's inferred fork: {raw:#?}"
        );
    }

    #[test]
    fn excluded_audit_events_are_dropped_and_new_containers_reported_once() {
        let dir = tempfile::tempdir().unwrap();
        let diag = dir.path().join("diag");
        let mut r = Recorder::new(
            Box::new(Echo),
            HashSet::from([1300]),
            2,
            Some(std::fs::File::create(&diag).unwrap()),
        );
        let (mut out, mut cids) = (Vec::new(), Vec::new());
        // Both processes existed when the recorder started.
        r.handle(
            Input::Events(vec![known(1300), known(1301), known(5)]),
            &mut out,
            &mut cids,
        );
        out.clear();
        r.handle(
            Input::Audit(RecordBatch::of(&[RawRecord {
                rtype: 1300,
                body: b"audit(1.0:1): x",
            }])),
            &mut out,
            &mut cids,
        );
        r.handle(
            Input::Audit(RecordBatch::of(&[RawRecord {
                rtype: 1301,
                body: b"audit(1.0:2): y",
            }])),
            &mut out,
            &mut cids,
        );
        assert!(out.is_empty(), "writes are held for coalescing");
        let cid = "c".repeat(64);
        let exec = |pid| {
            ev(
                Source::Connector,
                EventKind::Exec(Exec {
                    pid,
                    tgid: pid,
                    process: ProcessInfo {
                        container_id: Some(cid.clone()),
                        ..Default::default()
                    },
                    ..Default::default()
                }),
            )
        };
        r.handle(Input::Events(vec![exec(5), exec(6)]), &mut out, &mut cids);
        assert_eq!(cids, vec![cid.clone()]);
        // An audit exec of the same process gets the container id the connector saw.
        let mut audit_exec = exec(5);
        audit_exec.source = Source::Audit;
        if let EventKind::Exec(e) = &mut audit_exec.kind {
            e.process.container_id = None;
        }
        let mut r2 = Recorder::new(Box::new(NoAudit), HashSet::new(), 1, None);
        let mut out2 = Vec::new();
        let mut first = exec(5);
        if let EventKind::Exec(e) = &mut first.kind {
            e.process.container_id_from = Some(ContainerIdSource::Cgroup);
        }
        r2.handle(
            Input::Events(vec![known(5), first, audit_exec]),
            &mut out2,
            &mut Vec::new(),
        );
        match &out2[2].kind {
            EventKind::Exec(e) => {
                assert_eq!(e.process.container_id.as_deref(), Some(cid.as_str()));
                assert_eq!(e.process.container_id_from, Some(ContainerIdSource::Cgroup));
            }
            k => panic!("{k:?}"),
        }
        // The excluded set is replaced: 1301 is excluded from now on, 1300 no longer.
        r.handle(Input::Exclude(HashSet::from([1301])), &mut out, &mut cids);
        let batch = [1301, 1300].map(|t| RawRecord {
            rtype: t,
            body: b"audit(1.0:3): z",
        });
        r.handle(Input::Audit(RecordBatch::of(&batch)), &mut out, &mut cids);
        r.handle(Input::Tick, &mut out, &mut cids);
        r.handle(Input::Tick, &mut out, &mut cids);
        let mut writes: Vec<Pid> = out
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Write(w) => Some(w.tgid),
                _ => None,
            })
            .collect();
        writes.sort_unstable();
        assert_eq!(
            writes,
            vec![1300, 1301],
            "each process's writes while it was excluded are gone, the others flushed"
        );
        r.finish(&mut out);
        let text = std::fs::read_to_string(&diag).unwrap();
        assert_eq!(
            text,
            "type=1300 msg=audit(1.0:1): x\ntype=1301 msg=audit(1.0:2): y\n\
             type=1301 msg=audit(1.0:3): z\ntype=1300 msg=audit(1.0:3): z\n"
        );
    }
}
