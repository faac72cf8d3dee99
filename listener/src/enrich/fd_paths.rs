//! The recorder's fd stage (pure, no I/O): every write, close, dup and fd-based change gets the
//! path of the file it touched, forks say how their child's descriptors were chosen, and writes
//! to one fd are coalesced.
//!
//! The descriptor tables are [`dockwatch_shared::model::fds`]'s, the kernel's rules written once for
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

use dockwatch_shared::model::event::{Event, EventKind, FdFrom, Pid, Source, Write};
use dockwatch_shared::model::fds::{
    CloneCall, Done, FdTracker, ForkReport, Meta, O_CLOEXEC, Placement, Slot, Stats, Step,
};
use dockwatch_shared::{ByteString, Timestamp};

use crate::recording::audit::Output;

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
        /// The boot of that host.
        boot_id: String,
        /// When the call returned (the record's time).
        time: Timestamp,
        /// Who called, what it returned and what it made (process or thread).
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
mod tests;
