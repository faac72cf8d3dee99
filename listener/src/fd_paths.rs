//! The recorder's fd stage (pure, no I/O): every write, close, dup and fd-based change gets the
//! path of the file it touched, forks say how their child's descriptors were chosen, and writes
//! to one fd are coalesced.
//!
//! The descriptor tables are [`dockwatch_shared::fds`]'s, the kernel's rules written once for
//! the recorder, the offline import and the pipeline. Live, the tracker there places each forked
//! child at its parent's audited clone call, whatever order the process connector and audit
//! arrive in, and holds a child's steps until then; this stage maps events to its steps and
//! back, so an event may come out later than it went in (never before an event of its process
//! that went in earlier).
//!
//! Writes to one fd of one process are held back and merged (count exact, first and last time
//! kept, bytes summed when known) until that fd is closed or replaced, the process exits or
//! execs, or [`FdPaths::flush`] is called (the live recorder does so on a timer; the offline
//! import calls [`FdPaths::flush_idle`] for the runs that went quiet, in record time), so a
//! process writing a million times does not make a million documents.
//!
//! Exit drops a table only at the second flush after it: live, the process connector reports
//! an exit the moment it happens, while the audit records of the process's last syscalls come
//! later through the kernel's audit queue.

use std::collections::BTreeMap;
use std::sync::Arc;

use dockwatch_shared::event::{Event, EventKind, FdFrom, Pid, Source, Write};
use dockwatch_shared::fds::{
    CloneCall, Done, FdTracker, ForkReport, Meta, O_CLOEXEC, Placement, Slot, Stats, Step,
};
use dockwatch_shared::{ByteString, Timestamp};

use crate::audit::Output;

/// A file as the descriptor tables hold it: its path, shared by every descriptor that refers to
/// it (a fork copies its parent's descriptors, and a shell's pipeline children all share the
/// bytes of the shell's stdin, stdout and stderr).
type File = Arc<[u8]>;

/// What the audit assembler hands on: events, and clone calls at their place among them.
#[derive(Clone, Debug)]
// Nearly every item is an event: boxing it to shrink the rare clone call would cost an
// allocation per event.
#[allow(clippy::large_enum_variant)]
pub enum Assembled {
    /// A finished event.
    Event(Event),
    /// A successful clone-family call of a process of `host`.
    Clone {
        /// The host the call was made on.
        host: String,
        /// Its boot.
        boot_id: String,
        /// When.
        time: Timestamp,
        /// The call.
        call: CloneCall,
    },
}

impl Output for Vec<Assembled> {
    fn event(&mut self, event: Event) {
        self.push(Assembled::Event(event));
    }
    fn clone_call(&mut self, host: &str, boot_id: &str, time: Timestamp, call: CloneCall) {
        self.push(Assembled::Clone {
            host: host.to_owned(),
            boot_id: boot_id.to_owned(),
            time,
            call,
        });
    }
}

/// Writes held back for coalescing, by (tgid, fd): the order in which each run started (so
/// flushes are deterministic) and the merged event, which keeps the header of its first write.
/// A `BTreeMap` so that one process's runs are a range; the event is boxed because an `Event`
/// is over 500 bytes and a map node holds eleven entries, most of them unused.
type Held = BTreeMap<(Pid, i32), (u64, Box<Event>)>;

/// Paths for fd-based events, and write coalescing.
#[derive(Debug)]
pub struct FdPaths {
    tracker: FdTracker<File, Event>,
    pending: Held,
    /// Start order of the next held-back run.
    next: u64,
    done: Vec<Done<File, Event>>,
    finalizing: Vec<Done<File, Event>>,
}

impl FdPaths {
    /// The live recorder's stage: both kernel streams, every process's table kept until its exit.
    pub fn live() -> Self {
        Self::with(FdTracker::live())
    }

    /// An import's stage: one audit log in order, keeping at most `max` processes' tables (the
    /// least recently used go first; see [`FdPaths::dropped`]).
    pub fn replay(max: usize) -> Self {
        Self::with(FdTracker::replay(max))
    }

    fn with(tracker: FdTracker<File, Event>) -> Self {
        Self {
            tracker,
            pending: Held::new(),
            next: 0,
            done: Vec::new(),
            finalizing: Vec::new(),
        }
    }

    /// Processes whose syscalls are not audited (godo itself, the local database server): their
    /// forks are placed at once.
    pub fn set_unaudited(&mut self, pids: impl IntoIterator<Item = Pid>) {
        self.tracker.set_unaudited(pids);
    }

    /// Number of processes with a table (for status and tests).
    pub fn processes(&self) -> usize {
        self.tracker.processes()
    }

    /// Tables dropped because a bounded stage was full.
    pub fn dropped(&self) -> u64 {
        self.tracker.dropped()
    }

    /// Writes, closes and dups of a process without a table (it started before the records, or
    /// its table was dropped), which therefore carry no path unless the event had one.
    pub fn without_table(&self) -> u64 {
        self.tracker.stats().without_table
    }

    /// How forks were placed, and the like.
    pub fn stats(&self) -> &Stats {
        self.tracker.stats()
    }

    /// Number of writes held back.
    pub fn pending_writes(&self) -> usize {
        self.pending.len()
    }

    /// Number of events held back until their process's fork is placed.
    pub fn held(&self) -> usize {
        self.tracker.held()
    }

    /// The path behind `fd` of process `tgid`, when known.
    pub fn path_of(&self, tgid: Pid, fd: i32) -> Option<&[u8]> {
        self.tracker.file(tgid, fd).map(|f| &f[..])
    }

    /// Feeds one event; appends to `out` what is ready to be recorded (writes are held back;
    /// flushed writes come before the event that flushed them).
    pub fn process(&mut self, ev: Event, out: &mut Vec<Event>) {
        let (step, meta) = step_of(&ev);
        self.tracker.push(step, meta, ev, &mut self.done);
        self.drain(out);
    }

    /// An audited clone-family call, in the order of the audit stream.
    pub fn clone_call(&mut self, time: Timestamp, call: CloneCall, out: &mut Vec<Event>) {
        let meta = Meta {
            time,
            audit: true,
            ppid: None,
        };
        self.tracker.clone_call(call, meta, &mut self.done);
        self.drain(out);
    }

    /// A timer tick (live, every second): places forks whose clone call did not come.
    pub fn tick(&mut self, out: &mut Vec<Event>) {
        self.tracker.tick(&mut self.done);
        self.drain(out);
    }

    /// Hands on everything still held (at shutdown, or the end of a log).
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        self.tracker.finish(&mut self.done);
        self.drain(out);
        self.flush(out);
    }

    fn drain(&mut self, out: &mut Vec<Event>) {
        // Swapped with a spare so that both keep their capacity.
        std::mem::swap(&mut self.done, &mut self.finalizing);
        let mut ready = std::mem::take(&mut self.finalizing);
        for done in ready.drain(..) {
            self.finalize(done, out);
        }
        self.finalizing = ready;
    }

    /// An event whose step the tracker has taken: its path filled in, its fork's placement
    /// said, the writes it ends recorded before it.
    fn finalize(&mut self, done: Done<File, Event>, out: &mut Vec<Event>) {
        let Done {
            token: mut ev,
            file,
            placed,
        } = done;
        let path = || file.as_deref().map(ByteString::from);
        match &mut ev.kind {
            EventKind::Fork(f) => {
                match placed {
                    Some(Placement::CloneCall { serial }) => {
                        f.fd_from = Some(FdFrom::CloneCall);
                        f.clone_serial = Some(serial);
                    }
                    Some(Placement::ForkReport) => f.fd_from = Some(FdFrom::ForkReport),
                    Some(Placement::Thread) | None => {}
                }
                if f.child_pid == f.child_tgid {
                    // A reused pid: what the previous process wrote is recorded first.
                    self.flush_process(f.child_tgid, out);
                }
            }
            EventKind::Exec(e) => self.flush_process(e.tgid, out),
            EventKind::Exit(x) if x.pid == x.tgid => self.flush_process(x.tgid, out),
            EventKind::Open(o) => {
                if let Some(fd) = o.fd {
                    self.flush_fd(o.tgid, fd, out);
                }
            }
            EventKind::Dup(d) => {
                self.flush_fd(d.tgid, d.old_fd, out);
                self.flush_fd(d.tgid, d.new_fd, out);
                if d.path.is_none() {
                    d.path = path();
                }
            }
            EventKind::Close(c) => {
                self.flush_fd(c.tgid, c.fd, out);
                if c.path.is_none() {
                    c.path = path();
                }
            }
            EventKind::CloseRange(c) => {
                let range: Vec<i32> = self
                    .pending
                    .range((c.tgid, c.first)..=(c.tgid, c.last))
                    .map(|(&(_, fd), _)| fd)
                    .collect();
                for fd in range {
                    self.flush_fd(c.tgid, fd, out);
                }
            }
            EventKind::Write(w) => {
                if w.path.is_none() {
                    w.path = path();
                }
                return self.coalesce(ev, out);
            }
            EventKind::Truncate(t) if t.path.is_none() => t.path = path(),
            EventKind::Chmod(c) if c.path.is_none() => c.path = path(),
            EventKind::Chown(c) if c.path.is_none() => c.path = path(),
            _ => {}
        }
        out.push(ev);
    }

    fn coalesce(&mut self, ev: Event, out: &mut Vec<Event>) {
        let EventKind::Write(w) = &ev.kind else {
            return out.push(ev);
        };
        let key = (w.tgid, w.fd);
        if let Some((_, held)) = self.pending.get_mut(&key) {
            if let EventKind::Write(h) = &mut held.kind {
                if h.path == w.path {
                    merge(h, w);
                    return;
                }
            }
            // A different file behind the same number (a missed close): record the old run and
            // start a new one.
            self.flush_fd(key.0, key.1, out);
        }
        self.pending.insert(key, (self.next, Box::new(ev)));
        self.next += 1;
    }

    fn flush_fd(&mut self, tgid: Pid, fd: i32, out: &mut Vec<Event>) {
        if let Some((_, ev)) = self.pending.remove(&(tgid, fd)) {
            out.push(*ev);
        }
    }

    fn flush_process(&mut self, tgid: Pid, out: &mut Vec<Event>) {
        let mut keys: Vec<(u64, i32)> = self
            .pending
            .range((tgid, i32::MIN)..=(tgid, i32::MAX))
            .map(|(&(_, fd), &(order, _))| (order, fd))
            .collect();
        keys.sort_unstable();
        for (_, fd) in keys {
            self.flush_fd(tgid, fd, out);
        }
    }

    /// Emits every held-back write (oldest first), and drops the tables of processes that exited
    /// before the previous flush.
    pub fn flush(&mut self, out: &mut Vec<Event>) {
        let mut held: Vec<(u64, Box<Event>)> =
            std::mem::take(&mut self.pending).into_values().collect();
        held.sort_unstable_by_key(|&(order, _)| order);
        out.extend(held.into_iter().map(|(_, ev)| *ev));
        self.tracker.retire();
    }

    /// Emits the held-back writes whose last write is older than `before` (oldest run first):
    /// the runs that have gone quiet. For a replayed log, where `before` is record time. Counts as
    /// a flush for dropping the tables of exited processes.
    pub fn flush_idle(&mut self, before: Timestamp, out: &mut Vec<Event>) {
        let mut idle: Vec<(u64, (Pid, i32))> = self
            .pending
            .iter()
            .filter(|(_, (_, ev))| match &ev.kind {
                EventKind::Write(w) => w.last < before,
                _ => true,
            })
            .map(|(&key, &(order, _))| (order, key))
            .collect();
        idle.sort_unstable();
        for (_, (tgid, fd)) in idle {
            self.flush_fd(tgid, fd, out);
        }
        self.tracker.retire();
    }
}

/// What an event does to descriptors, and where it came from.
fn step_of(ev: &Event) -> (Step<File>, Meta) {
    let syscall = ev.audit.as_ref().and_then(|a| a.syscall.as_ref());
    let meta = Meta {
        time: ev.time,
        audit: ev.source == Source::Audit,
        ppid: syscall.and_then(|s| s.ppid),
    };
    let file = |p: &ByteString| -> File { Arc::from(p.as_bytes()) };
    let step = match &ev.kind {
        EventKind::Snapshot(s) => Step::Snapshot {
            tgid: s.tgid,
            slots: s
                .fds
                .iter()
                .map(|f| Slot {
                    fd: f.fd,
                    cloexec: f.flags.is_some_and(|fl| fl & O_CLOEXEC != 0),
                    file: Some(file(&f.target)),
                })
                .collect(),
        },
        EventKind::Fork(f) => Step::Fork(ForkReport {
            parent_tgid: f.parent_tgid,
            child_pid: f.child_pid,
            child_tgid: f.child_tgid,
            ns_pids: f
                .child
                .as_ref()
                .map(|c| c.ns_pids.clone())
                .unwrap_or_default(),
            ns_known: f
                .child
                .as_ref()
                .is_some_and(|c| !c.missing.iter().any(|m| m == "ns_pids")),
            clone_serial: f.clone_serial,
        }),
        // The connector reports an exec at once, ahead of the audit records of the syscalls the
        // process made before it: audit's own record of the exec is its place.
        EventKind::Exec(e) if ev.source == Source::Audit => Step::Exec { tgid: e.tgid },
        EventKind::Exit(x) if x.pid == x.tgid => Step::Exit { tgid: x.tgid },
        EventKind::Open(o) => match o.fd {
            Some(fd) => Step::Open {
                tgid: o.tgid,
                fd,
                cloexec: o.flags.is_some_and(|fl| fl & O_CLOEXEC != 0),
                file: file(o.resolved.as_ref().unwrap_or(&o.path)),
            },
            None => Step::Nothing,
        },
        EventKind::Dup(d) => Step::Dup {
            tgid: d.tgid,
            old: d.old_fd,
            new: d.new_fd,
            cloexec: d.cloexec,
        },
        EventKind::Close(c) => Step::Close {
            tgid: c.tgid,
            fd: c.fd,
        },
        EventKind::CloseRange(c) => Step::CloseRange {
            tgid: c.tgid,
            first: c.first,
            last: c.last,
            cloexec_only: c.cloexec,
        },
        EventKind::Write(w) => Step::Use {
            tgid: w.tgid,
            fd: w.fd,
        },
        EventKind::Truncate(t) => use_of(t.tgid, t.fd, &t.path),
        EventKind::Chmod(c) => use_of(c.tgid, c.fd, &c.path),
        EventKind::Chown(c) => use_of(c.tgid, c.fd, &c.path),
        _ => Step::Nothing,
    };
    (step, meta)
}

/// A change through an fd (ftruncate, fchmod, fchown) whose path the tracker gives.
fn use_of(tgid: Pid, fd: Option<i32>, path: &Option<ByteString>) -> Step<File> {
    match (fd, path) {
        (Some(fd), None) => Step::Use { tgid, fd },
        _ => Step::Nothing,
    }
}

fn merge(into: &mut Write, w: &Write) {
    into.count += w.count.max(1);
    into.first = into.first.min(w.first);
    into.last = into.last.max(w.last);
    into.bytes = match (into.bytes, w.bytes) {
        (Some(a), Some(b)) => Some(a + b),
        _ => None,
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockwatch_shared::Timestamp;
    use dockwatch_shared::event::{Close, Dup, Exec, Exit, Fork, Open, OpenFd, Snapshot};

    fn ev(t: i64, kind: EventKind) -> Event {
        Event {
            host: "h".into(),
            boot_id: "b".into(),
            run: String::new(),
            seq: 0,
            time: Timestamp(t),
            source: Source::Audit,
            audit: None,
            kind,
        }
    }
    fn open(t: i64, tgid: Pid, path: &str, fd: i32, flags: u32) -> Event {
        ev(
            t,
            EventKind::Open(Open {
                pid: tgid,
                tgid,
                path: path.into(),
                flags: Some(flags),
                fd: Some(fd),
                ..Default::default()
            }),
        )
    }
    fn write(t: i64, pid: Pid, tgid: Pid, fd: i32) -> Event {
        ev(
            t,
            EventKind::Write(Write {
                pid,
                tgid,
                fd,
                path: None,
                count: 1,
                first: Timestamp(t),
                last: Timestamp(t),
                bytes: Some(2),
            }),
        )
    }
    fn dup(t: i64, tgid: Pid, old_fd: i32, new_fd: i32) -> Event {
        ev(
            t,
            EventKind::Dup(Dup {
                pid: tgid,
                tgid,
                old_fd,
                new_fd,
                path: None,
                cloexec: false,
            }),
        )
    }
    fn close(t: i64, tgid: Pid, fd: i32) -> Event {
        ev(
            t,
            EventKind::Close(Close {
                pid: tgid,
                tgid,
                fd,
                path: None,
            }),
        )
    }
    fn exit(t: i64, pid: Pid, tgid: Pid) -> Event {
        ev(
            t,
            EventKind::Exit(Exit {
                pid,
                tgid,
                exit_code: Some(0),
                signal: None,
            }),
        )
    }
    fn fork(t: i64, parent: Pid, child_pid: Pid, child_tgid: Pid) -> Event {
        ev(
            t,
            EventKind::Fork(Fork {
                parent_pid: parent,
                parent_tgid: parent,
                child_pid,
                child_tgid,
                child: None,
                fd_from: None,
                clone_serial: None,
            }),
        )
    }
    fn feed(ft: &mut FdPaths, evs: Vec<Event>) -> Vec<Event> {
        let mut out = Vec::new();
        for e in evs {
            ft.process(e, &mut out);
        }
        out
    }
    fn writes(out: &[Event]) -> Vec<&Write> {
        out.iter()
            .filter_map(|e| match &e.kind {
                EventKind::Write(w) => Some(w),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn shell_redirection_is_attributed_to_the_file() {
        // sh -c 'echo x > /tmp/f': open as 3, dup2(3, 1), close(3), write(1), exit.
        let mut ft = FdPaths::replay(1 << 16);
        let out = feed(
            &mut ft,
            vec![
                open(1, 50, "/tmp/f", 3, 0o1101),
                dup(2, 50, 3, 1),
                close(3, 50, 3),
                write(4, 50, 50, 1),
                exit(5, 50, 50),
            ],
        );
        let kinds: Vec<&str> = out.iter().map(|e| e.kind.name()).collect();
        assert_eq!(kinds, ["open", "dup", "close", "write", "exit"]);
        let w = writes(&out);
        assert_eq!(
            w[0].path.as_ref().map(|p| p.as_bytes()),
            Some(&b"/tmp/f"[..])
        );
        assert_eq!(w[0].fd, 1);
        match &out[2].kind {
            EventKind::Close(c) => assert_eq!(c.path, Some("/tmp/f".into())),
            k => panic!("{k:?}"),
        }
        match &out[1].kind {
            EventKind::Dup(d) => assert_eq!(d.path, Some("/tmp/f".into())),
            k => panic!("{k:?}"),
        }
        assert_eq!(
            ft.processes(),
            1,
            "kept for the exited process's late audit records"
        );
        ft.flush(&mut Vec::new());
        assert_eq!(ft.processes(), 1, "kept until the second flush");
        ft.flush(&mut Vec::new());
        assert_eq!(ft.processes(), 1, "and until audit has gone past the exit");
        feed(&mut ft, vec![write(2_000_000, 51, 51, 1)]);
        ft.flush(&mut Vec::new());
        assert_eq!(ft.processes(), 0, "the exited process's table is dropped");
    }

    /// Live, the connector's exit of a background child can arrive before the audit records of
    /// its last syscalls: its redirected write still gets the file's path.
    #[test]
    fn audit_records_arriving_after_the_exit_still_find_the_table() {
        let mut ft = FdPaths::replay(1 << 16);
        let out = feed(
            &mut ft,
            vec![
                open(1, 60, "/tmp/late", 3, 0o1101),
                exit(5, 60, 60),
                dup(2, 60, 3, 1),
                close(3, 60, 3),
                write(4, 60, 60, 1),
            ],
        );
        let mut out = out;
        ft.flush(&mut out);
        let w = writes(&out);
        assert_eq!(w.len(), 1);
        assert_eq!(
            w[0].path.as_ref().map(|p| p.as_bytes()),
            Some(&b"/tmp/late"[..])
        );
        // A new process reusing the tgid before the drop keeps its own table.
        feed(
            &mut ft,
            vec![
                exit(6, 60, 60),
                fork(7, 1, 60, 60),
                open(8, 60, "/tmp/new", 4, 0o1101),
            ],
        );
        ft.flush(&mut Vec::new());
        ft.flush(&mut Vec::new());
        ft.flush(&mut Vec::new());
        assert_eq!(ft.path_of(60, 4), Some(&b"/tmp/new"[..]));
    }

    fn from_child_of(mut ev: Event, ppid: Pid) -> Event {
        ev.audit = Some(dockwatch_shared::event::AuditOrigin {
            syscall: Some(dockwatch_shared::event::SyscallInfo {
                ppid: Some(ppid),
                ..Default::default()
            }),
            ..Default::default()
        });
        ev
    }

    fn connector(mut ev: Event) -> Event {
        ev.source = Source::Connector;
        ev
    }

    /// Live: `echo x | tr a b > /tmp/piped` with a helper that keeps a log open across the fork.
    /// The child's own records (its redirection) come first, then the connector's report of its
    /// fork, then the parent's clone call with the child's pid: the child's writes get their
    /// paths, through its own fd 1 and through fd 2 inherited from the parent, and the fork
    /// says it was placed at that call.
    #[test]
    fn live_a_childs_records_before_its_fork_report_and_clone_call_keep_their_paths() {
        let mut ft = FdPaths::live();
        let snap = ev(
            0,
            EventKind::Snapshot(Snapshot {
                pid: 50,
                tgid: 50,
                ppid: 1,
                ..Default::default()
            }),
        );
        let mut out = feed(
            &mut ft,
            vec![
                snap,
                open(1, 50, "/dev/null", 1, 1),
                open(2, 50, "/var/log/err", 2, 1),
                from_child_of(open(3, 60, "/tmp/piped", 3, 0o1101), 50),
                from_child_of(dup(4, 60, 3, 1), 50),
                from_child_of(close(5, 60, 3), 50),
                connector(fork(6, 50, 60, 60)),
                from_child_of(write(7, 60, 60, 1), 50),
                from_child_of(write(8, 60, 60, 2), 50),
            ],
        );
        assert!(writes(&out).is_empty());
        assert_eq!(ft.held(), 5, "the child's steps wait for its clone call");
        ft.clone_call(
            Timestamp(2),
            CloneCall {
                caller: 50,
                ret: 60,
                serial: 99,
                kind: dockwatch_shared::fds::CloneKind::Process,
            },
            &mut out,
        );
        ft.flush(&mut out);
        let paths: Vec<Option<&[u8]>> = writes(&out)
            .iter()
            .map(|w| w.path.as_ref().map(|p| p.as_bytes()))
            .collect();
        assert_eq!(
            paths,
            [Some(&b"/tmp/piped"[..]), Some(&b"/var/log/err"[..])]
        );
        let fork = out.iter().find_map(|e| match &e.kind {
            EventKind::Fork(f) => Some(f),
            _ => None,
        });
        assert_eq!(
            fork.map(|f| (f.fd_from, f.clone_serial)),
            Some((Some(FdFrom::CloneCall), Some(99)))
        );
        assert_eq!(ft.path_of(50, 1), Some(&b"/dev/null"[..]));
    }

    #[test]
    fn writes_are_coalesced_per_fd_with_exact_counts() {
        let mut ft = FdPaths::replay(1 << 16);
        let mut evs = vec![open(1, 7, "/data/log", 4, 1)];
        for i in 0..1000 {
            // Two threads of one process write through the shared table.
            evs.push(write(10 + i, if i % 2 == 0 { 7 } else { 8 }, 7, 4));
        }
        evs.push(open(2000, 7, "/other", 5, 1));
        evs.push(write(2001, 7, 7, 5));
        let out = feed(&mut ft, evs);
        assert!(writes(&out).is_empty(), "held back until a flush");
        assert_eq!(ft.pending_writes(), 2);
        let mut out2 = Vec::new();
        ft.flush(&mut out2);
        let w = writes(&out2);
        assert_eq!(w.len(), 2);
        assert_eq!(
            (w[0].count, w[0].first, w[0].last, w[0].bytes),
            (1000, Timestamp(10), Timestamp(1009), Some(2000))
        );
        assert_eq!(w[0].path, Some("/data/log".into()));
        assert_eq!(w[1].path, Some("/other".into()));
        assert_eq!(
            out2[0].time,
            Timestamp(10),
            "the event keeps its first write's time"
        );
        // After a flush, new writes start a new run.
        let out3 = feed(&mut ft, vec![write(3000, 7, 7, 4), close(3001, 7, 4)]);
        let w = writes(&out3);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].count, 1);
        assert_eq!(
            out3[1].kind.name(),
            "close",
            "the write is recorded before the close"
        );
    }

    #[test]
    fn fork_inherits_threads_share_exec_drops_cloexec() {
        let mut ft = FdPaths::replay(1 << 16);
        let out = feed(
            &mut ft,
            vec![
                open(1, 10, "/a", 3, 1),
                open(2, 10, "/secret", 4, 1 | O_CLOEXEC),
                fork(3, 10, 11, 11), // new process: copy
                fork(4, 10, 12, 10), // thread: same table
                // A thread of 10 made after 10's parent died: the kernel names init as parent.
                ev(
                    4,
                    EventKind::Fork(Fork {
                        parent_pid: 1,
                        parent_tgid: 1,
                        child_pid: 13,
                        child_tgid: 10,
                        child: None,
                        fd_from: None,
                        clone_serial: None,
                    }),
                ),
                ev(
                    5,
                    EventKind::Exec(Exec {
                        pid: 11,
                        tgid: 11,
                        ..Default::default()
                    }),
                ),
                write(6, 11, 11, 3),
                write(7, 11, 11, 4),
                write(8, 12, 10, 4),
                exit(9, 11, 11),
            ],
        );
        let w = writes(&out);
        assert_eq!(w.len(), 2, "{out:#?}");
        assert_eq!((w[0].fd, w[0].path.clone()), (3, Some("/a".into())));
        assert_eq!(
            (w[1].fd, w[1].path.clone()),
            (4, None),
            "close-on-exec fd dropped by exec"
        );
        let mut rest = Vec::new();
        ft.flush(&mut rest);
        let w = writes(&rest);
        assert_eq!(
            (w[0].pid, w[0].tgid, w[0].path.clone()),
            (12, 10, Some("/secret".into()))
        );
    }

    #[test]
    fn a_bounded_table_drops_the_least_recently_used_processes_and_counts() {
        let mut ft = FdPaths::replay(8);
        let mut evs = Vec::new();
        for pid in 1..=8 {
            evs.push(open(pid as i64, pid, "/f", 3, 1));
        }
        // Process 1 is used again, so 2 and 3 are now the least recently used.
        evs.push(write(9, 1, 1, 3));
        evs.push(open(10, 9, "/f", 3, 1)); // the ninth table: keep 7, drop the 2 oldest
        let _ = feed(&mut ft, evs);
        assert_eq!(ft.processes(), 7, "8 - 8/8 kept");
        assert_eq!(ft.dropped(), 2);
        assert_eq!(ft.path_of(1, 3), Some(&b"/f"[..]));
        assert_eq!(ft.path_of(2, 3), None);
        assert_eq!(ft.path_of(3, 3), None);
        assert_eq!(ft.path_of(9, 3), Some(&b"/f"[..]));
        assert_eq!(ft.without_table(), 0);
        let mut out = feed(&mut ft, vec![write(11, 2, 2, 3), close(12, 3, 3)]);
        ft.flush(&mut out);
        assert_eq!(ft.without_table(), 2);
        let w = writes(&out);
        assert!(w.iter().any(|w| w.tgid == 2));
        assert!(w.iter().filter(|w| w.tgid == 2).all(|w| w.path.is_none()));
    }

    #[test]
    fn only_quiet_runs_are_flushed_by_flush_idle() {
        let mut ft = FdPaths::replay(1 << 16);
        let out = feed(
            &mut ft,
            vec![
                open(1, 7, "/a", 3, 1),
                open(2, 8, "/b", 3, 1),
                write(10, 8, 8, 3),
                write(20, 7, 7, 3),
                write(30, 7, 7, 3), // 7's run goes on
            ],
        );
        assert!(writes(&out).is_empty());
        let mut out = Vec::new();
        ft.flush_idle(Timestamp(25), &mut out);
        let w = writes(&out);
        assert_eq!(w.len(), 1, "only 8's run is quiet since 25");
        assert_eq!((w[0].tgid, w[0].count), (8, 1));
        // 7's run keeps coalescing after the sweep.
        let mut out = feed(&mut ft, vec![write(40, 7, 7, 3)]);
        ft.flush_idle(Timestamp(41), &mut out);
        let w = writes(&out);
        assert_eq!(
            (w[0].tgid, w[0].count, w[0].first, w[0].last),
            (7, 3, Timestamp(20), Timestamp(40))
        );
        assert_eq!(ft.pending_writes(), 0);
    }

    #[test]
    fn snapshot_seeds_and_dup_replaces_and_reuse_starts_afresh() {
        let mut ft = FdPaths::replay(1 << 16);
        let snap = ev(
            0,
            EventKind::Snapshot(Snapshot {
                pid: 20,
                tgid: 20,
                ppid: 1,
                fds: vec![OpenFd {
                    fd: 2,
                    target: "/var/log/daemon.log".into(),
                    flags: Some(1),
                }],
                ..Default::default()
            }),
        );
        let out = feed(
            &mut ft,
            vec![
                snap,
                write(1, 20, 20, 2),
                open(2, 20, "/x", 5, 1),
                dup(3, 20, 5, 2), // replaces fd 2: the held write is recorded first
                write(4, 20, 20, 2),
                exit(5, 21, 20), // a thread exit does not drop the table
                close(6, 20, 2),
            ],
        );
        let w = writes(&out);
        assert_eq!(w[0].path, Some("/var/log/daemon.log".into()));
        assert_eq!(w[1].path, Some("/x".into()));
        let kinds: Vec<&str> = out.iter().map(|e| e.kind.name()).collect();
        assert_eq!(
            kinds,
            ["snapshot", "open", "write", "dup", "exit", "write", "close"]
        );
        // Same path coalesces; a write whose fd path changed without a close splits.
        let out = feed(
            &mut ft,
            vec![
                open(7, 30, "/p", 3, 1),
                write(8, 30, 30, 3),
                open(9, 30, "/q", 3, 1),
                write(10, 30, 30, 3),
            ],
        );
        let w = writes(&out);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].path, Some("/p".into()));
        // Unknown process: the write still records, without a path.
        let mut out = feed(&mut ft, vec![write(11, 99, 99, 1)]);
        ft.flush(&mut out);
        assert!(
            writes(&out)
                .iter()
                .any(|w| w.tgid == 99 && w.path.is_none())
        );
    }
}
