//! The pure part of an import: audit records in, events out (no I/O); see [`Importer`].

use std::collections::HashSet;

use dockwatch_shared::{Event, Timestamp};

use crate::audit::{Assembler, Counters, ParseError, Record};
use crate::fd_table::FdTable;

/// A run of coalesced writes to one fd that has seen no write for this long (record time) is
/// recorded. The live recorder flushes every run every 2 s of wall time instead; an import has
/// no one waiting to see the events, so only quiet runs go. Without it every process that wrote
/// and never closed the fd (a log rarely has exit events) would keep its write in memory until
/// the end: thousands of events for a large log. Record time, not wall time, so that importing
/// a log twice gives the same events.
pub const WRITE_IDLE_MICROS: i64 = 1_000_000;
/// Processes whose fd tables an import keeps (the least recently used go first; see
/// [`FdTable::bounded`]): a log rarely says when a process exits. At under 100 bytes a
/// process, a few MB.
pub const MAX_FD_TABLES: usize = 65_536;
/// How often (record time) the quiet runs are looked for.
const IDLE_SWEEP_MICROS: i64 = 250_000;

/// The pure part of an import: records in, events out. The [`Assembler`] makes the events,
/// the [`FdTable`] gives writes, closes and dups their paths and coalesces writes, runs of
/// writes go out once they are [`WRITE_IDLE_MICROS`] quiet in record time, and the fd tables
/// start afresh after a reboot in the log. No I/O: [`read_log`](super::read_log) feeds it the
/// lines of a file, the benchmarks lines in memory.
pub struct Importer {
    asm: Assembler,
    fds: FdTable,
    staged: Vec<Event>,
    /// Boot ids seen: the first event of a new one means the old boot's processes are gone.
    boots: HashSet<String>,
    /// Record time at which quiet runs of writes are next looked for.
    next_sweep: Option<Timestamp>,
    /// fd table counters of the boots before the current one.
    dropped: u64,
    without_table: u64,
}

impl Importer {
    /// An import of records of `host` (when they carry no `node=`) and `boot_id`.
    pub fn new(host: &str, boot_id: &str) -> Self {
        Self {
            asm: Assembler::new(host, boot_id),
            fds: FdTable::bounded(MAX_FD_TABLES),
            staged: Vec::with_capacity(64),
            boots: HashSet::from([boot_id.to_owned()]),
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
            self.fds.flush_idle(quiet_since, out);
            *due = Timestamp(time.0.saturating_add(IDLE_SWEEP_MICROS));
        }
    }

    /// Counts a line that could not be parsed (see [`Assembler::parse_error`]).
    pub fn parse_error(&mut self, error: &ParseError, detail: impl Into<String>) {
        self.asm.parse_error(error, detail);
    }

    /// Completes everything still open and appends it to `out`.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        self.asm.finish(&mut self.staged);
        self.track_fds(out);
        self.fds.flush(out);
    }

    /// Passes the assembled events through the fd table.
    fn track_fds(&mut self, out: &mut Vec<Event>) {
        let rebooted = self.asm.counters().reboots >= self.boots.len() as u64;
        for ev in self.staged.drain(..) {
            if rebooted && !self.boots.contains(&ev.boot_id) {
                self.boots.insert(ev.boot_id.clone());
                self.fds.flush(out);
                self.dropped += self.fds.dropped();
                self.without_table += self.fds.without_table();
                self.fds = FdTable::bounded(MAX_FD_TABLES);
            }
            self.fds.process(ev, out);
        }
    }

    /// The assembler's counters.
    pub fn counters(&self) -> &Counters {
        self.asm.counters()
    }

    /// fd tables dropped because more than [`MAX_FD_TABLES`] processes were kept, and writes,
    /// closes and dups of processes without a table (so without a path unless the record had
    /// one).
    pub fn fd_counters(&self) -> (u64, u64) {
        (
            self.dropped + self.fds.dropped(),
            self.without_table + self.fds.without_table(),
        )
    }
}
