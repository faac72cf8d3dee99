//! The pure part of an import: audit records in, events out (no I/O); see [`Importer`].

use std::collections::{BTreeMap, HashSet};

use dockwatch_shared::{Event, Timestamp};

use crate::enrich::fd_paths::{Assembled, FdPaths};
use crate::recording::audit::{Assembler, Counters, ParseError, Record};

/// A run of coalesced writes to one fd that has seen no write for this long (record time) is
/// recorded. The live recorder flushes every run every 2 s of wall time instead; an import has
/// no one waiting to see the events, so only quiet runs go. Without it every process that wrote
/// and never closed the fd (a log rarely has exit events) would keep its write in memory until
/// the end: thousands of events for a large log. Record time, not wall time, so that importing
/// a log twice gives the same events.
pub const WRITE_IDLE_MICROS: i64 = 1_000_000;
/// Processes whose fd tables an import keeps (the least recently used go first; see
/// [`FdPaths::replay`]): a log rarely says when a process exits. At under 100 bytes a
/// process, a few MB.
pub const MAX_FD_TABLES: usize = 65_536;
/// How often (record time) the quiet runs are looked for.
const IDLE_SWEEP_MICROS: i64 = 250_000;

/// The pure part of an import: records in, events out. The [`Assembler`] makes the events,
/// the [`FdPaths`] stage gives writes, closes and dups their paths (a forked child's table is
/// its parent's at the clone call the assembler matched) and coalesces writes, runs of
/// writes go out once they are [`WRITE_IDLE_MICROS`] quiet in record time, and the fd tables
/// start afresh after a reboot in the log. Each host has its own fd tables: a log gathered from
/// several hosts (records with `node=`) holds the same pids on each. No I/O:
/// [`read_log`](super::read_log) feeds it the lines of a file, the benchmarks lines in memory.
pub struct Importer {
    asm: Assembler,
    /// By host name; a `BTreeMap` so that the final flush goes host by host in a fixed order.
    hosts: BTreeMap<String, HostFds>,
    staged: Vec<Assembled>,
    /// Record time at which quiet runs of writes are next looked for.
    next_sweep: Option<Timestamp>,
    /// fd table counters of the boots before the current one of each host.
    dropped: u64,
    without_table: u64,
}

/// The fd tables of one host, for its current boot.
struct HostFds {
    fds: FdPaths,
    /// The boot the tables belong to.
    boot_id: String,
    /// Boot ids of this host seen so far: the first event of a new one means the old boot's
    /// processes are gone. (A late event of an earlier boot keeps the current tables.)
    boots: HashSet<String>,
}

impl HostFds {
    fn new(boot_id: &str) -> Self {
        Self {
            fds: FdPaths::replay(MAX_FD_TABLES),
            boot_id: boot_id.to_owned(),
            boots: HashSet::from([boot_id.to_owned()]),
        }
    }
}

impl Importer {
    /// An import of records of `host` (when they carry no `node=`) and `boot_id`.
    pub fn new(host: &str, boot_id: &str) -> Self {
        Self {
            asm: Assembler::new(host, boot_id),
            hosts: BTreeMap::new(),
            staged: Vec::with_capacity(64),
            next_sweep: None,
            dropped: 0,
            without_table: 0,
        }
    }

    /// Adds one record; the events that are ready are appended to `out`.
    pub fn push(&mut self, record: Record, out: &mut Vec<Event>) {
        let time = record.time();
        self.asm.push(record, &mut self.staged);
        self.track_fds(out);
        let due = self.next_sweep.get_or_insert(time);
        if time >= *due {
            let quiet_since = Timestamp(time.0.saturating_sub(WRITE_IDLE_MICROS));
            for host in self.hosts.values_mut() {
                host.fds.flush_idle(quiet_since, out);
            }
            *due = Timestamp(time.0.saturating_add(IDLE_SWEEP_MICROS));
        }
    }

    /// Counts a line that could not be parsed (see [`Assembler::parse_error`]).
    pub fn parse_error(&mut self, error: &ParseError, detail: impl Into<String>) {
        self.asm.parse_error(error, detail);
    }

    /// Records that the rest of the log could not be read (see
    /// [`Assembler::input_unreadable`]).
    pub fn input_unreadable(&mut self, detail: impl Into<String>, out: &mut Vec<Event>) {
        self.asm.input_unreadable(detail, &mut self.staged);
        self.track_fds(out);
    }

    /// Completes everything still open and appends it to `out`.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        self.asm.finish(&mut self.staged);
        self.track_fds(out);
        for host in self.hosts.values_mut() {
            host.fds.finish(out);
        }
    }

    /// Passes the assembled events and clone calls through their host's fd tables.
    fn track_fds(&mut self, out: &mut Vec<Event>) {
        let mut staged = std::mem::take(&mut self.staged);
        for item in staged.drain(..) {
            match item {
                Assembled::Event(ev) => {
                    let host = self.host_fds(&ev.host, &ev.boot_id, out);
                    host.fds.process(ev, out);
                }
                Assembled::Clone {
                    host,
                    boot_id,
                    time,
                    call,
                } => self
                    .host_fds(&host, &boot_id, out)
                    .fds
                    .clone_call(time, call, out),
            }
        }
        self.staged = staged;
    }

    /// The fd tables of `host` for `boot_id`. The first record of a new boot means the old
    /// boot's processes are gone: their tables are dropped (a late event of an earlier boot
    /// keeps the current ones).
    fn host_fds(&mut self, host: &str, boot_id: &str, out: &mut Vec<Event>) -> &mut HostFds {
        // `get_mut` first: `entry` takes an owned key, a copy of the host name per event.
        if !self.hosts.contains_key(host) {
            self.hosts.insert(host.to_owned(), HostFds::new(boot_id));
        }
        let Some(fds) = self.hosts.get_mut(host) else {
            unreachable!("inserted above");
        };
        if fds.boot_id != boot_id && fds.boots.insert(boot_id.to_owned()) {
            fds.fds.finish(out);
            self.dropped += fds.fds.dropped();
            self.without_table += fds.fds.without_table();
            fds.fds = FdPaths::replay(MAX_FD_TABLES);
            fds.boot_id = boot_id.to_owned();
        }
        fds
    }

    /// The assembler's counters.
    pub fn counters(&self) -> &Counters {
        self.asm.counters()
    }

    /// fd tables dropped because more than [`MAX_FD_TABLES`] processes were kept, and writes,
    /// closes and dups of processes without a table (so without a path unless the record had
    /// one).
    pub fn fd_counters(&self) -> (u64, u64) {
        self.hosts.values().fold(
            (self.dropped, self.without_table),
            |(dropped, without), host| {
                (
                    dropped + host.fds.dropped(),
                    without + host.fds.without_table(),
                )
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::audit::parse_log_line;
    use dockwatch_shared::model::event::EventKind;

    /// The records of one `openat` of `path` as fd 3 and one `write` to it, by pid 700 of `node`
    /// (serials from `serial`, times from `sec`), each event ended by its EOE.
    fn open_and_write(node: &str, serial: u64, sec: u64, path: &str) -> Vec<String> {
        let head = |s: u64, nr: u32, exit: i32, a0: &str, items: u32| {
            format!(
                "node={node} type=SYSCALL msg=audit({sec}.000:{s}): arch=c000003e syscall={nr} \
                 success=yes exit={exit} a0={a0} a1=1 a2=241 a3=1b6 items={items} ppid=1 pid=700 \
                 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) \
                 ses=1 comm=\"sh\" exe=\"/bin/sh\" key=\"k\""
            )
        };
        let eoe = |s: u64| format!("node={node} type=EOE msg=audit({sec}.000:{s}): ");
        vec![
            head(serial, 257, 3, "ffffff9c", 1),
            format!("node={node} type=CWD msg=audit({sec}.000:{serial}): cwd=\"/\""),
            format!(
                "node={node} type=PATH msg=audit({sec}.000:{serial}): item=0 name=\"{path}\" \
                 inode=1 dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=CREATE"
            ),
            eoe(serial),
            head(serial + 1, 1, 5, "3", 0),
            eoe(serial + 1),
        ]
    }

    fn import(lines: &[String]) -> Vec<Event> {
        let mut import = Importer::new("h", "b");
        let mut out = Vec::new();
        for line in lines {
            import.push(parse_log_line(line.as_bytes()).unwrap(), &mut out);
        }
        import.finish(&mut out);
        out
    }

    fn written_paths(events: &[Event]) -> Vec<(String, String)> {
        let mut paths: Vec<(String, String)> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Write(w) => Some((
                    e.host.clone(),
                    w.path
                        .as_ref()
                        .map(|p| p.to_str_lossy().into_owned())
                        .unwrap_or_default(),
                )),
                _ => None,
            })
            .collect();
        paths.sort();
        paths
    }

    #[test]
    fn hosts_of_one_log_keep_their_own_fd_tables() {
        // Pid 700 of host a opens /a/file as fd 3, then pid 700 of host b opens /b/file as fd 3,
        // then each writes to its fd 3: each write is to its own host's file.
        let a = open_and_write("a", 10, 1_700_000_000, "/a/file");
        let b = open_and_write("b", 90, 1_700_000_000, "/b/file");
        let (a_open, a_write) = a.split_at(4);
        let (b_open, b_write) = b.split_at(4);
        let lines = [a_open, b_open, a_write, b_write].concat();
        let events = import(&lines);
        assert_eq!(
            written_paths(&events),
            [
                ("a".to_owned(), "/a/file".to_owned()),
                ("b".to_owned(), "/b/file".to_owned())
            ]
        );
    }
}
