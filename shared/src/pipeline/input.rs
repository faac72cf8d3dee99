//! The pipeline's compact form of the event log: one [`Rec`] per event that matters, in
//! `(time, run, seq)` order.
//!
//! An [`Event`] carries its host, boot id and run id as strings and every kind's fields inline;
//! a million of them take more than half a gigabyte. [`Input`] keeps only what the later steps
//! read, moves (never clones) the byte strings out of each event, boxes the rare large kinds, and
//! replaces the run id by a small number. It also notices whether the events came in order, so
//! [`Input::into_sorted`] sorts only when needed (capture files are in emission order, the store
//! streams in time order; both must give the same result).

use rustc_hash::FxHashMap;

use crate::model::event::{
    Container, Event, EventKind, Gap, Pid, ProcessInfo, Snapshot, Source, SyscallInfo,
};
use crate::model::investigation::FileOp;
use crate::model::text::ByteString;
use crate::model::time::Timestamp;

/// One event of the log, reduced to what the pipeline reads.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Rec {
    /// When it happened.
    pub time: Timestamp,
    /// The run that recorded it (an index into the runs seen, ranked by name before sorting).
    pub run: u32,
    /// Its position in the run.
    pub seq: u64,
    /// What happened.
    pub op: Op,
}

/// What a [`Rec`] says happened.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum Op {
    /// A task created another.
    Fork {
        /// Parent task id as reported.
        parent_pid: Pid,
        /// Parent process id as reported.
        parent_tgid: Pid,
        /// The new task.
        child_pid: Pid,
        /// The new task's process.
        child_tgid: Pid,
        /// What `/proc` said of the child.
        child: Option<Box<ProcessInfo>>,
        /// Reported by the kernel's process connector (one report per fork, exact time and
        /// parent), not inferred by the audit assembler (see [`crate::pipeline::fold`]).
        kernel: bool,
    },
    /// A process ran a new program.
    Exec {
        /// Task id.
        pid: Pid,
        /// Process id.
        tgid: Pid,
        /// Live parent, when the source knew it.
        ppid: Option<Pid>,
        /// The process after the exec (taken by the fold).
        info: Box<ProcessInfo>,
        /// Reported by the process connector (the exact time; what `/proc` showed when it was
        /// read, which may already be a later program), not by audit (the program's arguments).
        kernel: bool,
    },
    /// A task ended.
    Exit {
        /// Task id.
        pid: Pid,
        /// Process id.
        tgid: Pid,
        /// Exit status.
        code: Option<i32>,
        /// Killing signal.
        signal: Option<i32>,
    },
    /// A process that existed when the recorder started.
    Snapshot(Box<Snapshot>),
    /// A process changed its root filesystem.
    PivotRoot {
        /// Task id.
        pid: Pid,
        /// Process id.
        tgid: Pid,
        /// The new root as the host sees it.
        new_root: ByteString,
    },
    /// A successful open for writing.
    Open {
        /// Task id.
        pid: Pid,
        /// Process id.
        tgid: Pid,
        /// Descriptor returned.
        fd: i32,
        /// `open(2)` flags (0 when unknown).
        flags: u32,
        /// Whether the open created the file.
        created: bool,
        /// The resolved path when the recorder gave one, else the path as passed.
        path: ByteString,
        /// The working directory, kept only when `path` is relative.
        cwd: Option<ByteString>,
    },
    /// Writes through an fd.
    Write {
        /// Task id.
        pid: Pid,
        /// Process id.
        tgid: Pid,
        /// Descriptor.
        fd: i32,
        /// Number of write calls.
        count: u64,
        /// First of them.
        first: Timestamp,
        /// Last of them.
        last: Timestamp,
        /// The file, when the recorder knew it.
        path: Option<ByteString>,
    },
    /// An fd was closed.
    Close {
        /// Task id.
        pid: Pid,
        /// Process id.
        tgid: Pid,
        /// Descriptor.
        fd: i32,
    },
    /// An fd was duplicated.
    Dup {
        /// Task id.
        pid: Pid,
        /// Process id.
        tgid: Pid,
        /// Source descriptor.
        old_fd: i32,
        /// New descriptor.
        new_fd: i32,
        /// The file behind `old_fd`, when the recorder knew it.
        path: Option<ByteString>,
        /// The new descriptor is close-on-exec.
        cloexec: bool,
    },
    /// A range of fds was closed, or marked close-on-exec.
    CloseRange {
        /// Task id.
        pid: Pid,
        /// Process id.
        tgid: Pid,
        /// First descriptor.
        first: i32,
        /// Last descriptor (inclusive).
        last: i32,
        /// Marked close-on-exec instead of closed.
        cloexec: bool,
    },
    /// What a task is called: a name change it made (the process connector), or the name and
    /// executable its audit records carry.
    Name {
        /// Task id.
        pid: Pid,
        /// Process id.
        tgid: Pid,
        /// The kernel's short name of the task (`comm`, at most 15 bytes).
        comm: Option<ByteString>,
        /// Executable, from audit records.
        exe: Option<ByteString>,
        /// From an audit record: the name the kernel had for the task at one of its syscalls,
        /// which names a process that never exec'd (a busybox applet run by its shell).
        from_audit: bool,
    },
    /// A rename.
    Rename(Box<RenameOp>),
    /// Unlink, truncate, chmod or chown, by name or through an fd.
    Change {
        /// Task id.
        pid: Pid,
        /// Process id.
        tgid: Pid,
        /// Which change ([`FileOp::Unlink`], `Truncate`, `Chmod` or `Chown`).
        op: FileOp,
        /// The file by name, when given.
        path: Option<ByteString>,
        /// The descriptor, when the change went through one.
        fd: Option<i32>,
        /// The working directory, kept only when `path` is relative.
        cwd: Option<ByteString>,
    },
    /// Container metadata.
    Container(Box<Container>),
    /// Lost events.
    Gap(Box<Gap>),
}

/// A rename, boxed because it is rare and large.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RenameOp {
    /// Task id.
    pub pid: Pid,
    /// Process id.
    pub tgid: Pid,
    /// Old name.
    pub from: ByteString,
    /// New name.
    pub to: ByteString,
    /// Working directory, kept only when a name is relative.
    pub cwd: Option<ByteString>,
}

impl Op {
    /// The task (pid) the op happened in, for the ops that belong to one task. A fork belongs to
    /// its child.
    pub fn pid(&self) -> Option<Pid> {
        Some(match self {
            Op::Fork { child_pid, .. } => *child_pid,
            Op::Exec { pid, .. }
            | Op::Exit { pid, .. }
            | Op::PivotRoot { pid, .. }
            | Op::Open { pid, .. }
            | Op::Write { pid, .. }
            | Op::Close { pid, .. }
            | Op::Dup { pid, .. }
            | Op::CloseRange { pid, .. }
            | Op::Name { pid, .. }
            | Op::Change { pid, .. } => *pid,
            Op::Snapshot(s) => s.pid,
            Op::Rename(r) => r.pid,
            Op::Container(_) | Op::Gap(_) => return None,
        })
    }
}

fn is_relative(path: &ByteString) -> bool {
    path.as_bytes().first() != Some(&b'/')
}

fn keep_cwd_if_relative(path: Option<&ByteString>, cwd: Option<ByteString>) -> Option<ByteString> {
    match path {
        Some(p) if is_relative(p) => cwd,
        _ => None,
    }
}

impl Op {
    /// The compact form of an event's kind; `None` for events the pipeline does not use (a
    /// failed open).
    pub fn from_kind(source: Source, kind: EventKind) -> Option<Op> {
        Some(match kind {
            EventKind::Fork(f) => Op::Fork {
                parent_pid: f.parent_pid,
                parent_tgid: f.parent_tgid,
                child_pid: f.child_pid,
                child_tgid: f.child_tgid,
                child: f.child.map(Box::new),
                kernel: source == Source::Connector,
            },
            EventKind::Exec(e) => Op::Exec {
                pid: e.pid,
                tgid: e.tgid,
                ppid: e.ppid,
                info: Box::new(e.process),
                kernel: source == Source::Connector,
            },
            EventKind::Exit(e) => Op::Exit {
                pid: e.pid,
                tgid: e.tgid,
                code: e.exit_code,
                signal: e.signal,
            },
            EventKind::Snapshot(s) => Op::Snapshot(Box::new(s)),
            EventKind::Open(o) => {
                let fd = o.fd?;
                let path = o.resolved.unwrap_or(o.path);
                let cwd = keep_cwd_if_relative(Some(&path), o.cwd);
                Op::Open {
                    pid: o.pid,
                    tgid: o.tgid,
                    fd,
                    flags: o.flags.unwrap_or(0),
                    created: o.created,
                    path,
                    cwd,
                }
            }
            EventKind::Write(w) => Op::Write {
                pid: w.pid,
                tgid: w.tgid,
                fd: w.fd,
                count: w.count.max(1),
                first: w.first,
                last: w.last,
                path: w.path,
            },
            EventKind::Close(c) => Op::Close {
                pid: c.pid,
                tgid: c.tgid,
                fd: c.fd,
            },
            EventKind::Dup(d) => Op::Dup {
                pid: d.pid,
                tgid: d.tgid,
                old_fd: d.old_fd,
                new_fd: d.new_fd,
                path: d.path,
                cloexec: d.cloexec,
            },
            EventKind::CloseRange(c) => Op::CloseRange {
                pid: c.pid,
                tgid: c.tgid,
                first: c.first,
                last: c.last,
                cloexec: c.cloexec,
            },
            EventKind::Comm(c) => Op::Name {
                pid: c.pid,
                tgid: c.tgid,
                comm: Some(c.comm),
                exe: None,
                from_audit: false,
            },
            EventKind::Rename(r) => {
                let relative = is_relative(&r.from) || is_relative(&r.to);
                Op::Rename(Box::new(RenameOp {
                    pid: r.pid,
                    tgid: r.tgid,
                    from: r.from,
                    to: r.to,
                    cwd: if relative { r.cwd } else { None },
                }))
            }
            EventKind::Unlink(u) => Op::Change {
                pid: u.pid,
                tgid: u.tgid,
                op: FileOp::Unlink,
                cwd: keep_cwd_if_relative(Some(&u.path), u.cwd),
                path: Some(u.path),
                fd: None,
            },
            EventKind::Truncate(t) => Op::Change {
                pid: t.pid,
                tgid: t.tgid,
                op: FileOp::Truncate,
                path: t.path,
                fd: t.fd,
                cwd: None,
            },
            EventKind::Chmod(c) => Op::Change {
                pid: c.pid,
                tgid: c.tgid,
                op: FileOp::Chmod,
                path: c.path,
                fd: c.fd,
                cwd: None,
            },
            EventKind::Chown(c) => Op::Change {
                pid: c.pid,
                tgid: c.tgid,
                op: FileOp::Chown,
                path: c.path,
                fd: c.fd,
                cwd: None,
            },
            EventKind::PivotRoot(p) => Op::PivotRoot {
                pid: p.pid,
                tgid: p.tgid,
                new_root: p.new_root,
            },
            EventKind::Container(c) => Op::Container(Box::new(c)),
            EventKind::Gap(g) => Op::Gap(Box::new(g)),
        })
    }
}

/// The events of one (host, boot) as the pipeline keeps them while they arrive.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Input {
    host: String,
    boot_id: String,
    recs: Vec<Rec>,
    runs: Vec<String>,
    run_ids: FxHashMap<String, u32>,
    /// Events accepted (of the wanted host and boot).
    pub events: u64,
    /// Events of another host or boot, ignored.
    pub foreign: u64,
    in_order: bool,
    /// The last (comm, exe) the audit records of each process carried.
    names: FxHashMap<Pid, (Option<ByteString>, Option<ByteString>)>,
}

impl Input {
    /// An empty input for the events of `host` and `boot_id`.
    pub fn new(host: &str, boot_id: &str) -> Self {
        Self {
            host: host.to_owned(),
            boot_id: boot_id.to_owned(),
            recs: Vec::new(),
            runs: Vec::new(),
            run_ids: FxHashMap::default(),
            events: 0,
            foreign: 0,
            in_order: true,
            names: FxHashMap::default(),
        }
    }

    /// Makes room for `additional` more events (avoids regrowing a large vector while events
    /// stream in, when the caller knows how many will come).
    pub fn reserve(&mut self, additional: usize) {
        self.recs.reserve(additional);
    }

    /// Host the input is for.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Boot id the input is for.
    pub fn boot_id(&self) -> &str {
        &self.boot_id
    }

    fn run_id(&mut self, run: String) -> u32 {
        // Nearly every event comes from the same run as the one before it.
        if self.runs.last() == Some(&run) {
            return (self.runs.len() - 1) as u32;
        }
        if let Some(&id) = self.run_ids.get(&run) {
            return id;
        }
        let id = self.runs.len() as u32;
        self.run_ids.insert(run.clone(), id);
        self.runs.push(run);
        id
    }

    /// Takes one event. Events of another host or boot are counted in `foreign` and dropped.
    pub fn push(&mut self, event: Event) {
        if event.host != self.host || event.boot_id != self.boot_id {
            self.foreign += 1;
            return;
        }
        self.events += 1;
        let run = self.run_id(event.run);
        let syscall = event.audit.and_then(|a| a.syscall);
        let Some(op) = Op::from_kind(event.source, event.kind) else {
            return;
        };
        let (time, seq) = (event.time, event.seq);
        if let Some(name) = self.name_change(&op, syscall) {
            self.add(Rec {
                time,
                run,
                seq,
                op: name,
            });
        }
        self.add(Rec { time, run, seq, op });
    }

    /// A [`Op::Name`] for the process of an audit `op` whose record names it differently than
    /// its previous record did (most records repeat the name: only changes are kept).
    fn name_change(&mut self, op: &Op, syscall: Option<SyscallInfo>) -> Option<Op> {
        match op {
            // A new process, or a pid free for reuse: forget what its predecessor was called.
            Op::Fork { child_tgid, .. } => {
                self.names.remove(child_tgid);
                None
            }
            Op::Exit { pid, tgid, .. } if pid == tgid => {
                self.names.remove(tgid);
                None
            }
            // An exec names the process itself.
            Op::Exec { .. } => None,
            _ => {
                let sc = syscall?;
                let tgid = op.pid()?;
                if sc.comm.is_none() && sc.exe.is_none() {
                    return None;
                }
                let named = (sc.comm, sc.exe);
                if self.names.get(&tgid) == Some(&named) {
                    return None;
                }
                self.names.insert(tgid, named.clone());
                Some(Op::Name {
                    pid: tgid,
                    tgid,
                    comm: named.0,
                    exe: named.1,
                    from_audit: true,
                })
            }
        }
    }

    fn add(&mut self, rec: Rec) {
        if let Some(last) = self.recs.last().filter(|_| self.in_order) {
            let before = (last.time, last.run, last.seq);
            // Run ids are ranked by name only at the end; a new run id breaks the order
            // conservatively, which only costs a sort.
            if (rec.time, rec.run, rec.seq) < before
                || (rec.time == last.time && rec.run != last.run)
            {
                self.in_order = false;
            }
        }
        self.recs.push(rec);
    }

    /// Gives every record whose time is impossible ([`Timestamp::is_plausible`]: at or before
    /// the epoch, or beyond year 9999, which only damage or a hostile log makes) the time of the
    /// record before it in its run's order, or after it when none is before. A run's seq order
    /// is the order it recorded in, so the event keeps its place in the story (a fork stamped 0
    /// still comes after its parent's exec). Returns how many events were given a time.
    pub fn repair_times(&mut self) -> u64 {
        if self.recs.iter().all(|r| r.time.is_plausible()) {
            return 0;
        }
        let mut order: Vec<usize> = (0..self.recs.len()).collect();
        order.sort_by_key(|&i| (self.recs[i].run, self.recs[i].seq));
        let mut repaired = 0u64;
        let mut last_event = None;
        for &i in &order {
            let r = &self.recs[i];
            if !r.time.is_plausible() && last_event != Some((r.run, r.seq)) {
                repaired += 1;
                last_event = Some((r.run, r.seq));
            }
        }
        let fill = |order: &mut dyn Iterator<Item = &usize>, recs: &mut [Rec]| {
            let mut known: Option<(u32, Timestamp)> = None;
            for &i in order {
                let r = &mut recs[i];
                if r.time.is_plausible() {
                    known = Some((r.run, r.time));
                } else if let Some((_, t)) = known.filter(|(run, _)| *run == r.run) {
                    r.time = t;
                }
            }
        };
        fill(&mut order.iter(), &mut self.recs);
        fill(&mut order.iter().rev(), &mut self.recs);
        for r in &mut self.recs {
            // A run with no plausible time at all keeps its order by seq at the epoch.
            r.time = r.time.clamp_plausible();
        }
        self.in_order = false;
        repaired
    }

    /// The records in `(time, run, seq)` order (runs compared by name, as the store sorts).
    pub fn into_sorted(self) -> Vec<Rec> {
        let mut recs = self.recs;
        if self.in_order {
            return recs;
        }
        let mut order: Vec<u32> = (0..self.runs.len() as u32).collect();
        order.sort_by(|&a, &b| self.runs[a as usize].cmp(&self.runs[b as usize]));
        let mut rank = vec![0u32; self.runs.len()];
        for (r, &id) in order.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        for rec in &mut recs {
            rec.run = rank[rec.run as usize];
        }
        recs.sort_by_key(|r| (r.time, r.run, r.seq));
        recs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::testkit::*;

    #[test]
    fn other_hosts_and_boots_are_dropped() {
        let mut input = Input::new(HOST, BOOT);
        input.push(exit(10, 5));
        let mut other = exit(11, 5);
        other.boot_id = "another-boot".into();
        input.push(other);
        assert_eq!(input.events, 1);
        assert_eq!(input.foreign, 1);
        assert_eq!(input.into_sorted().len(), 1);
    }

    #[test]
    fn out_of_order_events_are_sorted_by_time_run_and_seq() {
        let mut input = Input::new(HOST, BOOT);
        let mut a = exit(30, 1);
        a.run = "b".into();
        a.seq = 0;
        let mut b = exit(30, 2);
        b.run = "a".into();
        b.seq = 5;
        let c = exit(10, 3);
        input.push(a);
        input.push(b);
        input.push(c);
        let pids: Vec<_> = input
            .into_sorted()
            .iter()
            .map(|r| r.op.pid().unwrap())
            .collect();
        assert_eq!(pids, vec![3, 2, 1]);
    }

    #[test]
    fn a_failed_open_is_dropped_and_a_relative_one_keeps_its_cwd() {
        let mut input = Input::new(HOST, BOOT);
        let mut failed = open(1, 5, 5, "/etc/x", 3);
        if let EventKind::Open(o) = &mut failed.kind {
            o.fd = None;
        }
        input.push(failed);
        input.push(open_rel(2, 5, 5, "out.txt", "/work", 4));
        input.push(open(3, 5, 5, "/abs", 5));
        let recs = input.into_sorted();
        assert_eq!(recs.len(), 2);
        match &recs[0].op {
            Op::Open { cwd, path, .. } => {
                assert_eq!(path.as_bytes(), b"out.txt");
                assert_eq!(cwd.as_ref().unwrap().as_bytes(), b"/work");
            }
            other => panic!("{other:?}"),
        }
        match &recs[1].op {
            Op::Open { cwd, .. } => assert!(cwd.is_none()),
            other => panic!("{other:?}"),
        }
    }
}
