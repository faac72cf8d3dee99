//! fd tracking (pure, no I/O): which file is behind each descriptor of each process, so writes,
//! closes and dups carry the path they touched, and coalescing of writes per fd.
//!
//! The table follows the kernel: one table per process (threads share it, so it is keyed by
//! tgid); `open` adds an entry, `dup`/`dup2`/`dup3`/`fcntl(F_DUPFD)` copies one (replacing what
//! the new number pointed to), `close` removes one, `exec` drops the close-on-exec ones, a fork
//! that makes a new process copies the parent's table, exit drops the table (after a grace
//! period, see below), and the start-up snapshot seeds it from `/proc/PID/fd`. So `sh -c 'echo x > /tmp/f'` (open `/tmp/f` as 3,
//! `dup2(3, 1)`, `close(3)`, `write(1)`) yields a write to `/tmp/f`.
//!
//! Writes to one fd of one process are held back and merged (count exact, first and last time
//! kept, bytes summed when known) until that fd is closed or replaced, the process exits or execs,
//! or [`FdTable::flush`] is called (the live recorder does so on a timer; the offline import
//! calls [`FdTable::flush_idle`] for the runs that went quiet, in record time), so a process
//! writing a million times does not make a million documents.
//!
//! Exit drops a table only at the second flush ([`FdTable::flush`] or [`FdTable::flush_idle`])
//! after it: live, the process connector reports an exit the moment it happens, while the audit
//! records of the process's last syscalls (open, dup2, write) come later through the kernel's
//! audit queue, so they often arrive after the exit and still need the table. A fork or snapshot
//! that reuses the tgid in the meantime replaces the table and cancels the drop.
//!
//! The same two streams race at fork: the connector's fork of a child can reach the table after
//! the audit records of the child's first syscalls (`open`, `dup2` of a redirection), since the
//! connector's reader reads `/proc` for each fork. An audit event of a process without a table
//! therefore starts one as a copy of its parent's (the SYSCALL record's `ppid=`), and the late
//! fork then keeps that table instead of resetting it.
//!
//! Not followed: fd tables shared between processes (`clone(CLONE_FILES)` without
//! `CLONE_THREAD`), fds passed over Unix sockets, and `close_range`. Those writes keep `path`
//! unset rather than guessing.

use std::collections::BTreeMap;
use std::sync::Arc;

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap as HashMap, FxHashSet as HashSet};

use dockwatch_shared::event::{Close, Dup, Event, EventKind, Pid, Write};
use dockwatch_shared::{ByteString, Timestamp};

/// `O_CLOEXEC` on Linux.
const O_CLOEXEC: u32 = 0o2_000_000;

/// One open descriptor of a process.
///
/// The path is an `Arc<[u8]>`: a fork copies its parent's descriptors and a dup copies one, and
/// neither copies the path bytes themselves (a shell's pipeline children all share the bytes of
/// the shell's stdin/stdout/stderr).
#[derive(Clone, Debug, PartialEq)]
struct Slot {
    fd: i32,
    cloexec: bool,
    path: Option<Arc<[u8]>>,
}

/// One process's descriptors, sorted by fd.
///
/// A process holds a handful of fds, so a sorted slice (24 bytes a descriptor, one allocation)
/// is both smaller and faster than a map (one `BTreeMap` leaf is ~400 bytes). The `Arc` makes a
/// fork's copy free: parent and child share one table until either changes it, and a change
/// builds a new slice ([`FdTable::edit`]). That matters because an audit log usually holds no
/// exit events (the rules rarely audit `exit_group`), so the tables of every process ever seen
/// stay until its pid is reused.
type Table = Arc<[Slot]>;

fn find(table: &[Slot], fd: i32) -> Result<usize, usize> {
    table.binary_search_by_key(&fd, |s| s.fd)
}

/// Writes held back for coalescing, by (tgid, fd): the order in which each run started (so
/// flushes are deterministic) and the merged event, which keeps the header of its first write.
/// A `BTreeMap` so that one process's runs are a range ([`FdTable::flush_process`]); the event
/// is boxed because an `Event` is over 500 bytes and a map node holds eleven entries, most of
/// them unused.
type Held = BTreeMap<(Pid, i32), (u64, Box<Event>)>;

/// The per-process tables, each with the tick of its last use, and at most `max` of them.
///
/// A log rarely says when a process ends, so an import keeps the table of every pid it saw;
/// pid reuse bounds that by `pid_max`, which can be 4 million. A bounded table drops the
/// least recently used eighth when it is full: those processes have most likely exited, and
/// when one has not, its later writes carry no path (counted, see [`FdTable::dropped`]). Ages
/// are computed with wrapping arithmetic, so only a process idle for 4 billion events is
/// misjudged.
///
/// A `HashTable` of [`Entry`] rather than a `HashMap<Pid, (u32, Table)>`: the map's
/// `(key, (tick, table))` pairs take 32 bytes a process, as the nested pair cannot use the
/// padding beside the key, while an `Entry` takes 24. It holds one entry for every process of
/// an imported log, so that is a quarter of the largest allocation of an import.
#[derive(Debug, Default)]
struct Tables {
    map: HashTable<Entry>,
    clock: u32,
    max: Option<usize>,
    dropped: u64,
}

/// One process's table and the tick of its last use.
#[derive(Debug)]
struct Entry {
    tgid: Pid,
    used: u32,
    table: Table,
}

fn hash(tgid: Pid) -> u64 {
    FxBuildHasher.hash_one(tgid)
}

impl Tables {
    fn len(&self) -> usize {
        self.map.len()
    }

    fn entry(&self, tgid: Pid) -> Option<&Entry> {
        self.map.find(hash(tgid), |e| e.tgid == tgid)
    }

    fn entry_mut(&mut self, tgid: Pid) -> Option<&mut Entry> {
        self.map.find_mut(hash(tgid), |e| e.tgid == tgid)
    }

    fn get(&self, tgid: Pid) -> Option<&Table> {
        self.entry(tgid).map(|e| &e.table)
    }

    fn touch(&mut self, tgid: Pid) {
        let clock = self.clock;
        if let Some(e) = self.entry_mut(tgid) {
            e.used = clock;
        }
    }

    fn insert(&mut self, tgid: Pid, table: Table) {
        let used = self.clock;
        match self.entry_mut(tgid) {
            Some(e) => *e = Entry { tgid, used, table },
            None => {
                let entry = Entry { tgid, used, table };
                self.map.insert_unique(hash(tgid), entry, |e| hash(e.tgid));
                self.bound();
            }
        }
    }

    fn remove(&mut self, tgid: Pid) -> Option<Table> {
        let found = self.map.find_entry(hash(tgid), |e| e.tgid == tgid).ok()?;
        Some(found.remove().0.table)
    }

    /// The table of `tgid`, created empty when missing.
    fn get_or_empty(&mut self, tgid: Pid) -> &mut Table {
        if self.entry(tgid).is_none() {
            self.insert(tgid, Arc::new([]));
        }
        let clock = self.clock;
        let e = self
            .map
            .entry(hash(tgid), |e| e.tgid == tgid, |e| hash(e.tgid))
            .or_insert_with(|| Entry {
                tgid,
                used: clock,
                table: Arc::new([]),
            })
            .into_mut();
        e.used = clock;
        &mut e.table
    }

    fn bound(&mut self) {
        let Some(max) = self.max.filter(|&m| self.map.len() > m) else {
            return;
        };
        let keep = max - max / 8;
        // Oldest first; the pid breaks ties, so the same log always drops the same tables.
        let mut by_age: Vec<(u32, Pid)> = self
            .map
            .iter()
            .map(|e| (self.clock.wrapping_sub(e.used), e.tgid))
            .collect();
        by_age.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, pid) in &by_age[..by_age.len().saturating_sub(keep)] {
            self.remove(pid);
            self.dropped += 1;
        }
    }
}

/// Per-process fd tables and the writes held back for coalescing.
#[derive(Debug, Default)]
pub struct FdTable {
    tables: Tables,
    pending: Held,
    /// Start order of the next held-back run.
    next: u64,
    /// Writes, closes and dups whose process had no table.
    without_table: u64,
    /// Processes that exited, with the flush count at their exit: their tables go at a later flush.
    exited: HashMap<Pid, u64>,
    /// Flushes so far.
    flushes: u64,
    /// Processes whose table an audit event started from the parent's before their fork came.
    early: HashSet<Pid>,
}

impl FdTable {
    /// An empty table, unbounded (the live recorder drops a process's table when the process
    /// connector reports its exit).
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty table that keeps at most `max` processes' tables (see [`FdTable::dropped`]).
    pub fn bounded(max: usize) -> Self {
        let mut t = Self::default();
        t.tables.max = Some(max.max(8));
        t
    }

    /// Number of processes with a table (for status and tests).
    pub fn processes(&self) -> usize {
        self.tables.len()
    }

    /// Tables dropped because a bounded table was full.
    pub fn dropped(&self) -> u64 {
        self.tables.dropped
    }

    /// Writes, closes and dups of a process without a table (it started before the records,
    /// or its table was dropped), which therefore carry no path unless the event had one.
    pub fn without_table(&self) -> u64 {
        self.without_table
    }

    /// Number of writes held back.
    pub fn pending_writes(&self) -> usize {
        self.pending.len()
    }

    /// The path behind `fd` of process `tgid`, when known.
    pub fn path_of(&self, tgid: Pid, fd: i32) -> Option<&[u8]> {
        let table = self.tables.get(tgid)?;
        table[find(table, fd).ok()?].path.as_deref()
    }

    fn path_bytes(&self, tgid: Pid, fd: i32) -> Option<ByteString> {
        self.path_of(tgid, fd).map(ByteString::from)
    }

    /// Changes the table of `tgid` (created empty when missing). The table may be shared with
    /// forked children, so the change is made on a copy that then replaces this process's table
    /// (tables are a few slots long: the copy costs less than the sharing saves).
    fn edit(&mut self, tgid: Pid, change: impl FnOnce(&mut Vec<Slot>)) {
        let table = self.tables.get_or_empty(tgid);
        let mut slots = table.to_vec();
        change(&mut slots);
        *table = slots.into();
    }

    /// Feeds one event: updates the tables, fills in `path` where the event lacks it, and appends
    /// to `out` what is ready to be recorded (writes are held back; flushed writes come before the
    /// event that flushed them).
    pub fn process(&mut self, mut ev: Event, out: &mut Vec<Event>) {
        self.tables.clock = self.tables.clock.wrapping_add(1);
        self.start_before_fork(&ev);
        if let Some(tgid) = owner(&ev.kind) {
            self.tables.touch(tgid);
        }
        if let EventKind::Write(Write { tgid, .. })
        | EventKind::Close(Close { tgid, .. })
        | EventKind::Dup(Dup { tgid, .. }) = &ev.kind
        {
            if self.tables.get(*tgid).is_none() {
                self.without_table += 1;
            }
        }
        match &mut ev.kind {
            EventKind::Snapshot(s) => {
                let mut slots: Vec<Slot> = s
                    .fds
                    .iter()
                    .map(|f| Slot {
                        fd: f.fd,
                        cloexec: f.flags.is_some_and(|fl| fl & O_CLOEXEC != 0),
                        path: Some(Arc::from(f.target.as_bytes())),
                    })
                    .collect();
                slots.sort_by_key(|s| s.fd);
                slots.dedup_by_key(|s| s.fd);
                self.exited.remove(&s.tgid);
                self.tables.insert(s.tgid, slots.into());
            }
            // A new process (the new task leads its own thread group) starts with a copy of its
            // parent's table; a reused tgid starts afresh. A new thread shares its process's
            // table. (For a thread the kernel reports the *process's* parent as the parent, so
            // `parent_tgid != child_tgid` does not mean a new process.)
            EventKind::Fork(f) if f.child_pid == f.child_tgid => {
                self.flush_process(f.child_tgid, out);
                self.exited.remove(&f.child_tgid);
                // The child's own events came first and started its table from this parent's.
                if !self.early.remove(&f.child_tgid) {
                    match self.tables.get(f.parent_tgid).cloned() {
                        Some(t) => self.tables.insert(f.child_tgid, t),
                        None => {
                            self.tables.remove(f.child_tgid);
                        }
                    }
                }
            }
            EventKind::Exec(e) => {
                let tgid = e.tgid;
                self.flush_process(tgid, out);
                if self
                    .tables
                    .get(tgid)
                    .is_some_and(|t| t.iter().any(|s| s.cloexec))
                {
                    self.edit(tgid, |t| t.retain(|s| !s.cloexec));
                }
            }
            EventKind::Exit(x) if x.pid == x.tgid => {
                let tgid = x.tgid;
                self.flush_process(tgid, out);
                self.early.remove(&tgid);
                self.exited.insert(tgid, self.flushes);
            }
            EventKind::Open(o) => {
                if let Some(fd) = o.fd {
                    let path = o.resolved.as_ref().unwrap_or(&o.path).as_bytes();
                    let slot = Slot {
                        fd,
                        cloexec: o.flags.is_some_and(|fl| fl & O_CLOEXEC != 0),
                        path: Some(Arc::from(path)),
                    };
                    let tgid = o.tgid;
                    self.flush_fd(tgid, fd, out);
                    self.edit(tgid, |t| put(t, slot));
                }
            }
            EventKind::Dup(d) => {
                let (tgid, old, new) = (d.tgid, d.old_fd, d.new_fd);
                self.flush_fd(tgid, old, out);
                self.flush_fd(tgid, new, out);
                let path: Option<Arc<[u8]>> = match &d.path {
                    Some(p) => Some(Arc::from(p.as_bytes())),
                    None => self
                        .tables
                        .get(tgid)
                        .and_then(|t| t[find(t, old).ok()?].path.clone()),
                };
                if d.path.is_none() {
                    d.path = path.as_deref().map(ByteString::from);
                }
                if old != new {
                    let slot = Slot {
                        fd: new,
                        cloexec: false,
                        path,
                    };
                    self.edit(tgid, |t| put(t, slot));
                } else {
                    self.tables.get_or_empty(tgid);
                }
            }
            EventKind::Close(c) => {
                let (tgid, fd) = (c.tgid, c.fd);
                self.flush_fd(tgid, fd, out);
                let mut removed = None;
                if self.tables.get(tgid).is_some_and(|t| find(t, fd).is_ok()) {
                    self.edit(tgid, |t| {
                        if let Ok(i) = find(t, fd) {
                            removed = t.remove(i).path;
                        }
                    });
                }
                if c.path.is_none() {
                    c.path = removed.as_deref().map(ByteString::from);
                }
            }
            EventKind::Write(w) => {
                if w.path.is_none() {
                    w.path = self.path_bytes(w.tgid, w.fd);
                }
                let key = (w.tgid, w.fd);
                match self.pending.get_mut(&key) {
                    Some((_, held)) => {
                        if let EventKind::Write(h) = &mut held.kind {
                            if h.path == w.path {
                                merge(h, w);
                                return;
                            }
                        }
                        // A different file behind the same number (a missed close): record
                        // the old run and start a new one.
                        self.flush_fd(key.0, key.1, out);
                        self.hold(key, ev);
                    }
                    None => self.hold(key, ev),
                }
                return;
            }
            EventKind::Truncate(t) => {
                if let (None, Some(fd)) = (&t.path, t.fd) {
                    t.path = self.path_bytes(t.tgid, fd);
                }
            }
            EventKind::Chmod(c) => {
                if let (None, Some(fd)) = (&c.path, c.fd) {
                    c.path = self.path_bytes(c.tgid, fd);
                }
            }
            EventKind::Chown(c) => {
                if let (None, Some(fd)) = (&c.path, c.fd) {
                    c.path = self.path_bytes(c.tgid, fd);
                }
            }
            _ => {}
        }
        out.push(ev);
    }

    /// An audit event about the fds of a process that has no table yet: its fork has not been
    /// seen, so its table starts as a copy of its parent's (`ppid=` of the SYSCALL record).
    fn start_before_fork(&mut self, ev: &Event) {
        let tgid = match &ev.kind {
            EventKind::Fork(_) | EventKind::Exec(_) => return,
            kind => match owner(kind) {
                Some(tgid) => tgid,
                None => return,
            },
        };
        if self.tables.get(tgid).is_some() {
            return;
        }
        let Some(ppid) = ev
            .audit
            .as_ref()
            .and_then(|a| a.syscall.as_ref())
            .and_then(|s| s.ppid)
        else {
            return;
        };
        if let Some(t) = self.tables.get(ppid).cloned() {
            self.tables.insert(tgid, t);
            self.early.insert(tgid);
        }
    }

    /// Counts a flush and drops the tables of processes that exited before the previous one.
    fn retire_exited(&mut self) {
        self.flushes += 1;
        let now = self.flushes;
        let tables = &mut self.tables;
        self.exited.retain(|&tgid, at| {
            let keep = now - *at < 2;
            if !keep {
                tables.remove(tgid);
            }
            keep
        });
    }

    fn hold(&mut self, key: (Pid, i32), ev: Event) {
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
        self.retire_exited();
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
        self.retire_exited();
    }
}

/// The process whose table an event uses.
fn owner(kind: &EventKind) -> Option<Pid> {
    Some(match kind {
        EventKind::Fork(f) => f.parent_tgid,
        EventKind::Exec(e) => e.tgid,
        EventKind::Open(o) => o.tgid,
        EventKind::Dup(d) => d.tgid,
        EventKind::Close(c) => c.tgid,
        EventKind::Write(w) => w.tgid,
        EventKind::Truncate(t) => t.tgid,
        EventKind::Chmod(c) => c.tgid,
        EventKind::Chown(c) => c.tgid,
        _ => return None,
    })
}

/// Puts `slot` into the sorted `table`, replacing what its fd pointed to.
fn put(table: &mut Vec<Slot>, slot: Slot) {
    match find(table, slot.fd) {
        Ok(i) => table[i] = slot,
        Err(i) => table.insert(i, slot),
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
    use dockwatch_shared::event::{Close, Dup, Exec, Exit, Fork, Open, OpenFd, Snapshot, Source};

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
            }),
        )
    }
    fn feed(ft: &mut FdTable, evs: Vec<Event>) -> Vec<Event> {
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
        let mut ft = FdTable::new();
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
        assert_eq!(ft.processes(), 0, "the exited process's table is dropped");
    }

    /// Live, the connector's exit of a background child can arrive before the audit records of
    /// its last syscalls: its redirected write still gets the file's path.
    #[test]
    fn audit_records_arriving_after_the_exit_still_find_the_table() {
        let mut ft = FdTable::new();
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

    /// `echo x | tr a b > /tmp/piped`: the connector's fork of the child reaches the table after
    /// the audit records of the child's redirection; its writes still get their paths, through
    /// its own fd 1 and through fd 2 inherited from the parent.
    #[test]
    fn a_fork_that_comes_after_the_childs_first_syscalls_keeps_them() {
        let mut ft = FdTable::new();
        let mut out = feed(
            &mut ft,
            vec![
                open(1, 50, "/dev/null", 1, 1),
                open(2, 50, "/var/log/err", 2, 1),
                from_child_of(open(3, 60, "/tmp/piped", 3, 0o1101), 50),
                from_child_of(dup(4, 60, 3, 1), 50),
                from_child_of(close(5, 60, 3), 50),
                fork(6, 50, 60, 60),
                from_child_of(write(7, 60, 60, 1), 50),
                from_child_of(write(8, 60, 60, 2), 50),
            ],
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
        assert_eq!(ft.path_of(50, 1), Some(&b"/dev/null"[..]));
    }

    #[test]
    fn writes_are_coalesced_per_fd_with_exact_counts() {
        let mut ft = FdTable::new();
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
        let mut ft = FdTable::new();
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
        let mut ft = FdTable::bounded(8);
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
        let mut ft = FdTable::new();
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
        let mut ft = FdTable::new();
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
