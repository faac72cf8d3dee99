//! Every process's descriptor table on one host, kept right whatever order the kernel's streams
//! arrive in.
//!
//! Two streams describe the same processes. The process connector reports a fork the moment it
//! happens, with the exact parent. Audit reports the parent's syscalls (the open of a file, the
//! `clone`/`fork`/`vfork`/`clone3` call that made the child, the close after it) later, through
//! the kernel's audit queue, in the order each task made them. A child's table is its parent's
//! *as it stood at the clone call*; so the connector says who the parent is, and audit says where
//! among the parent's syscalls the fork happened.
//!
//! [`FdTracker`] puts the two together. Each input is a [`Step`] carrying a token (the caller's
//! event); the tracker hands every token back in [`Done`], with the file behind the descriptor
//! it used, once the table it needs is known:
//!
//! * a clone call ([`FdTracker::clone_call`]) is matched to its fork report by the child's pid
//!   (the call returns the child's pid in the caller's pid namespace: the host pid, or one of the
//!   pids the report read from `/proc/PID/status`'s `NSpid`), else, when the child's namespace
//!   pids are unknown (it exited before they could be read), by order: one task's forks and its
//!   clone calls come in the same order in both streams. A match places the child: its table is
//!   the caller's table at the clone call;
//! * a fork reported before its clone call waits, and so do the child's own steps; one whose
//!   clone call came first takes the table the tracker kept at that call;
//! * steps of a process the tracker has not met (its own syscalls can arrive before its fork
//!   report) wait for the report too, with the parent their audit record named;
//! * nothing waits for ever: when audit has delivered records more than [`SETTLE_MICROS`] newer
//!   than a waiting fork, its clone call is not coming (lost, or the caller is not audited), and
//!   after [`HOLD_TICKS`] ticks anything still waiting is placed from what is known: the
//!   parent's table when the fork was reported ([`Placement::ForkReport`]).
//!
//! An offline import has no connector: it runs the tracker in [`Mode::Replay`], where nothing
//! waits, and a fork whose clone call the assembler found ([`ForkReport::clone_serial`]) takes
//! the table kept at that call.

use std::collections::VecDeque;

use rustc_hash::{FxHashMap, FxHashSet};

use super::steps::{CloneCall, Done, ForkReport, Meta, Mode, Placement, Stats, Step};
use super::table::FdTable;
use super::tables::Tables;
use crate::model::event::Pid;
use crate::model::time::Timestamp;

/// How far (record time) audit must have gone past a fork report before its clone call is
/// taken as lost: a clone call's record carries the time the call started, which is before the
/// fork, and audit delivers each task's records in order.
pub const SETTLE_MICROS: i64 = 1_000_000;
/// Ticks (the live recorder ticks every second) after which anything still waiting is placed
/// from what is known.
pub const HOLD_TICKS: u64 = 5;
/// How long unmatched fork reports and clone calls are kept for matching (record time).
pub const KEEP_MICROS: i64 = 10_000_000;
/// The same in ticks, for fork reports when audit is quiet.
pub const KEEP_TICKS: u64 = 10;
/// Unmatched fork reports and clone calls kept per calling process.
pub const PER_CALLER: usize = 16_384;
/// Steps held back in all; past this, everything waiting is placed at once.
pub const MAX_HELD: usize = 100_000;

/// One held input.
#[derive(Debug)]
enum Item<F, T> {
    Step(Step<F>, T, Meta),
    Clone(CloneCall, Meta),
}

/// Why a process waits.
#[derive(Debug)]
enum Wait<F> {
    /// Its fork was reported; its clone call has not come.
    Report {
        caller: Pid,
        fallback: Option<FdTable<F>>,
        time: Timestamp,
        tick: u64,
    },
    /// Its own steps came before any report of its fork.
    Unknown { ppid: Option<Pid>, tick: u64 },
}

#[derive(Debug)]
struct Held<F, T> {
    wait: Wait<F>,
    /// The fork report's token, handed back when the child is placed.
    fork: Option<(T, Meta)>,
    items: Vec<Item<F, T>>,
}

/// A fork report not matched to a clone call yet.
#[derive(Debug)]
struct PendingFork {
    /// The new process (or thread).
    child: Pid,
    thread: bool,
    /// Every pid the call may have returned for it.
    pids: Vec<Pid>,
    ns_known: bool,
    time: Timestamp,
    tick: u64,
}

/// A clone call not matched to a fork report yet, with the caller's table at the call.
#[derive(Debug)]
struct PendingClone<F> {
    call: CloneCall,
    time: Timestamp,
    table: FdTable<F>,
}

/// The unmatched forks and clone calls of one calling process, each in arrival order.
#[derive(Debug)]
struct Caller<F> {
    forks: VecDeque<PendingFork>,
    clones: VecDeque<PendingClone<F>>,
}

impl<F> Default for Caller<F> {
    fn default() -> Self {
        Self {
            forks: VecDeque::new(),
            clones: VecDeque::new(),
        }
    }
}

/// Every process's descriptor table on one host; see the module documentation.
#[derive(Debug)]
pub struct FdTracker<F, T> {
    mode: Mode,
    tables: Tables<F>,
    /// Processes that exited, with the retire count and the time of their exit.
    exited: FxHashMap<Pid, (u64, Timestamp)>,
    retires: u64,
    callers: FxHashMap<Pid, Caller<F>>,
    waiting: FxHashMap<Pid, Held<F, T>>,
    /// Fork reports waiting for their clone call, in arrival order (stale entries are skipped).
    report_order: VecDeque<(Timestamp, Pid)>,
    /// Processes whose syscalls are not audited (the recorder itself, the local database).
    unaudited: FxHashSet<Pid>,
    audit_latest: Timestamp,
    ticks: u64,
    held: usize,
    stats: Stats,
}

impl<F: Clone, T> FdTracker<F, T> {
    /// A tracker for both live streams, keeping every process's table until its exit.
    pub fn live() -> Self {
        Self::new(Mode::Live, None)
    }

    /// A tracker for an audit log read in order, keeping at most `max_tables` tables (the
    /// least recently used go first: a log rarely says when a process exits).
    pub fn replay(max_tables: usize) -> Self {
        Self::new(Mode::Replay, Some(max_tables))
    }

    fn new(mode: Mode, max_tables: Option<usize>) -> Self {
        Self {
            mode,
            tables: Tables::new(max_tables),
            exited: FxHashMap::default(),
            retires: 0,
            callers: FxHashMap::default(),
            waiting: FxHashMap::default(),
            report_order: VecDeque::new(),
            unaudited: FxHashSet::default(),
            audit_latest: Timestamp::default(),
            ticks: 0,
            held: 0,
            stats: Stats::default(),
        }
    }

    /// Processes whose syscalls audit does not report: their forks are placed at once.
    pub fn set_unaudited(&mut self, pids: impl IntoIterator<Item = Pid>) {
        self.unaudited = pids.into_iter().collect();
    }

    /// What the tracker has done so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Tables dropped because a bounded tracker was full.
    pub fn dropped(&self) -> u64 {
        self.tables.dropped()
    }

    /// Number of processes with a table.
    pub fn processes(&self) -> usize {
        self.tables.len()
    }

    /// Number of steps waiting for a fork report or a clone call.
    pub fn held(&self) -> usize {
        self.held
    }

    /// The file behind `fd` of process `tgid`, when known.
    pub fn file(&self, tgid: Pid, fd: i32) -> Option<&F> {
        self.tables.get(tgid)?.file(fd)
    }

    /// The table of process `tgid`, when it has one.
    pub fn table(&self, tgid: Pid) -> Option<&FdTable<F>> {
        self.tables.get(tgid)
    }

    /// Takes one step; tokens that are ready (this one, or ones it released) go to `out`.
    pub fn push(&mut self, step: Step<F>, meta: Meta, token: T, out: &mut Vec<Done<F, T>>) {
        self.tables.tick();
        if meta.audit {
            self.audit_progress(meta.time, out);
        }
        if let Some(owner) = step.owner() {
            if let Some(h) = self.waiting.get_mut(&owner) {
                h.items.push(Item::Step(step, token, meta));
                self.held += 1;
                self.bound_held(out);
                return;
            }
            let unmet = self.mode == Mode::Live
                && meta.audit
                && step.needs_table()
                && !self.tables.contains(owner);
            if unmet {
                self.waiting.insert(
                    owner,
                    Held {
                        wait: Wait::Unknown {
                            ppid: meta.ppid,
                            tick: self.ticks,
                        },
                        fork: None,
                        items: vec![Item::Step(step, token, meta)],
                    },
                );
                self.held += 1;
                self.bound_held(out);
                return;
            }
        }
        self.apply(step, meta, token, out);
    }

    /// An audited clone-family call, at its place in the caller's audit stream.
    pub fn clone_call(&mut self, call: CloneCall, meta: Meta, out: &mut Vec<Done<F, T>>) {
        self.tables.tick();
        self.audit_progress(meta.time, out);
        if let Some(h) = self.waiting.get_mut(&call.caller) {
            // The caller's own table is not known yet: the call waits with it.
            h.items.push(Item::Clone(call, meta));
            self.held += 1;
            self.bound_held(out);
            return;
        }
        self.clone_now(call, meta, out);
    }

    /// A timer tick (the live recorder ticks every second): places what has waited
    /// [`HOLD_TICKS`] ticks and forgets unmatched reports and calls too old to match.
    pub fn tick(&mut self, out: &mut Vec<Done<F, T>>) {
        self.ticks += 1;
        let now = self.ticks;
        let mut due: Vec<Pid> = self
            .waiting
            .iter()
            .filter(|(_, h)| match h.wait {
                Wait::Report { tick, .. } | Wait::Unknown { tick, .. } => tick + HOLD_TICKS <= now,
            })
            .map(|(&pid, _)| pid)
            .collect();
        due.sort_unstable();
        for pid in due {
            self.place_from_what_is_known(pid, out);
        }
        let latest = self.audit_latest;
        self.callers.retain(|_, c| {
            c.forks.retain(|f| {
                f.tick + KEEP_TICKS > now && f.time.0.saturating_add(KEEP_MICROS) > latest.0
            });
            c.clones
                .retain(|k| k.time.0.saturating_add(KEEP_MICROS) > latest.0);
            !(c.forks.is_empty() && c.clones.is_empty())
        });
    }

    /// Drops the tables of processes that exited before the previous call and whose audit
    /// records have all come. Live, the connector reports an exit at once while audit delivers
    /// the process's last syscalls later, after a lag that grows with the load: a table is kept
    /// until the second call after the exit (the recorder calls this at each write flush) and
    /// until audit has gone [`SETTLE_MICROS`] past the exit, or [`KEEP_TICKS`] calls when audit
    /// stays quiet.
    pub fn retire(&mut self) {
        self.retires += 1;
        let now = self.retires;
        let latest = self.audit_latest;
        let tables = &mut self.tables;
        self.exited.retain(|&tgid, &mut (at, time)| {
            let settled = time.0.saturating_add(SETTLE_MICROS) < latest.0;
            let gone = (now - at >= 2 && settled) || now - at >= KEEP_TICKS;
            if gone {
                tables.remove(tgid);
            }
            !gone
        });
    }

    /// Places everything still waiting (at shutdown, or the end of the input).
    pub fn finish(&mut self, out: &mut Vec<Done<F, T>>) {
        let mut all: Vec<Pid> = self.waiting.keys().copied().collect();
        all.sort_unstable();
        for pid in all {
            self.place_from_what_is_known(pid, out);
        }
    }

    fn bound_held(&mut self, out: &mut Vec<Done<F, T>>) {
        if self.held > MAX_HELD {
            self.stats.forced += 1;
            self.finish(out);
        }
    }

    /// Audit has reached `time`: a fork reported more than [`SETTLE_MICROS`] before that will
    /// get no clone call.
    fn audit_progress(&mut self, time: Timestamp, out: &mut Vec<Done<F, T>>) {
        if time <= self.audit_latest {
            return;
        }
        self.audit_latest = time;
        while let Some(&(at, pid)) = self.report_order.front() {
            if at.0.saturating_add(SETTLE_MICROS) >= time.0 {
                break;
            }
            self.report_order.pop_front();
            let still = matches!(
                self.waiting.get(&pid),
                Some(Held { wait: Wait::Report { time: t, .. }, .. }) if *t == at
            );
            if still {
                self.place_from_what_is_known(pid, out);
            }
        }
    }

    fn apply(&mut self, step: Step<F>, meta: Meta, token: T, out: &mut Vec<Done<F, T>>) {
        let mut done = Done::plain(token);
        match step {
            Step::Snapshot { tgid, slots } => {
                self.exited.remove(&tgid);
                self.tables.insert(tgid, FdTable::from_slots(slots));
            }
            Step::Open {
                tgid,
                fd,
                cloexec,
                file,
            } => {
                self.tables.get_or_empty(tgid).open(fd, cloexec, file);
            }
            Step::Dup {
                tgid,
                old,
                new,
                cloexec,
            } => {
                if !self.tables.contains(tgid) {
                    self.stats.without_table += 1;
                }
                done.file = self.tables.get_or_empty(tgid).dup(old, new, cloexec).file;
            }
            Step::Close { tgid, fd } => match self.tables.get_mut(tgid) {
                Some(t) => done.file = t.close(fd).and_then(|s| s.file),
                None => self.stats.without_table += 1,
            },
            Step::CloseRange {
                tgid,
                first,
                last,
                cloexec_only,
            } => {
                if let Some(t) = self.tables.get_mut(tgid) {
                    t.close_range(first, last, cloexec_only);
                }
            }
            Step::Use { tgid, fd } => match self.tables.get_mut(tgid) {
                Some(t) => done.file = t.file(fd).cloned(),
                None => self.stats.without_table += 1,
            },
            Step::Exec { tgid } => {
                if let Some(t) = self.tables.get_mut(tgid) {
                    t.exec();
                }
            }
            Step::Exit { tgid } => {
                self.exited.insert(tgid, (self.retires, meta.time));
            }
            Step::Fork(report) => return self.fork(report, meta, done.token, out),
            Step::Nothing => {}
        }
        out.push(done);
    }

    fn fork(&mut self, report: ForkReport, meta: Meta, token: T, out: &mut Vec<Done<F, T>>) {
        let caller = report.caller();
        if report.is_thread() {
            if self.mode == Mode::Live {
                // A thread's clone call must not be taken for a process's.
                let pending = pending_fork(&report, meta.time, self.ticks);
                if self.claim_clone(caller, &pending).is_none() && !self.unaudited(caller) {
                    self.remember_fork(caller, pending);
                }
            }
            out.push(Done {
                placed: Some(Placement::Thread),
                ..Done::plain(token)
            });
            return;
        }
        let child = report.child_tgid;
        self.exited.remove(&child);
        if matches!(
            self.waiting.get(&child),
            Some(Held {
                wait: Wait::Report { .. },
                ..
            })
        ) {
            // An earlier process of this pid still waits for its clone call: it is over (its
            // pid is free again), so it is placed with what is known before this one starts.
            self.place_from_what_is_known(child, out);
        }
        if self.mode == Mode::Replay {
            let kept = report
                .clone_serial
                .and_then(|serial| self.take_clone_by_serial(caller, serial));
            let (table, placed) = match kept {
                Some(k) => (
                    k.table,
                    Placement::CloneCall {
                        serial: k.call.serial,
                    },
                ),
                None => (self.current(caller), Placement::ForkReport),
            };
            return self.place(child, table, placed, Some((token, meta)), out);
        }
        if self.unaudited(caller) {
            let table = self.current(caller);
            return self.place(
                child,
                table,
                Placement::ForkReport,
                Some((token, meta)),
                out,
            );
        }
        let pending = pending_fork(&report, meta.time, self.ticks);
        if let Some(k) = self.claim_clone(caller, &pending) {
            let placed = Placement::CloneCall {
                serial: k.call.serial,
            };
            return self.place(child, k.table, placed, Some((token, meta)), out);
        }
        // Wait for the clone call, with the child's own steps that came before this report.
        self.remember_fork(caller, pending);
        let fallback = self.tables.get(caller).cloned();
        let earlier = self.waiting.remove(&child).map(|h| h.items);
        self.waiting.insert(
            child,
            Held {
                wait: Wait::Report {
                    caller,
                    fallback,
                    time: meta.time,
                    tick: self.ticks,
                },
                fork: Some((token, meta)),
                items: earlier.unwrap_or_default(),
            },
        );
        self.report_order.push_back((meta.time, child));
    }

    fn unaudited(&self, caller: Pid) -> bool {
        // 0 and 2 (the idle task and kthreadd) make kernel threads, without a syscall.
        caller == 0 || caller == 2 || self.unaudited.contains(&caller)
    }

    /// The table of `tgid` as it stands, or an empty one.
    fn current(&self, tgid: Pid) -> FdTable<F> {
        self.tables.get(tgid).cloned().unwrap_or_default()
    }

    fn remember_fork(&mut self, caller: Pid, pending: PendingFork) {
        let forks = &mut self.callers.entry(caller).or_default().forks;
        if forks.len() >= PER_CALLER {
            forks.pop_front();
        }
        forks.push_back(pending);
    }

    /// The kept clone call of `caller` that made the reported child: the one that returned one
    /// of its pids, else (its namespace pids unknown) the oldest that fits. An exact match also
    /// drops the calls before it: their children were reported before this one, so no report
    /// is left to claim them.
    fn claim_clone(&mut self, caller: Pid, fork: &PendingFork) -> Option<PendingClone<F>> {
        let c = self.callers.get_mut(&caller)?;
        let exact = c
            .clones
            .iter()
            .position(|k| k.call.kind.fits(fork.thread) && fork.pids.contains(&k.call.ret));
        let at = exact.or_else(|| {
            (!fork.ns_known)
                .then(|| c.clones.iter().position(|k| k.call.kind.fits(fork.thread)))
                .flatten()
        })?;
        if exact.is_some() {
            c.clones.drain(..at);
            c.clones.pop_front()
        } else {
            c.clones.remove(at)
        }
    }

    fn take_clone_by_serial(&mut self, caller: Pid, serial: u64) -> Option<PendingClone<F>> {
        let c = self.callers.get_mut(&caller)?;
        let at = c.clones.iter().position(|k| k.call.serial == serial)?;
        c.clones.remove(at)
    }

    /// A clone call of a placed (or unknown) caller, at its position in the caller's stream.
    fn clone_now(&mut self, call: CloneCall, meta: Meta, out: &mut Vec<Done<F, T>>) {
        let caller = call.caller;
        if self.mode == Mode::Live {
            if let Some((fork, dropped)) = self.claim_report(&call) {
                for d in dropped.into_iter().filter(|d| !d.thread) {
                    self.place_from_what_is_known(d.child, out);
                }
                let waits_for_this = matches!(
                    self.waiting.get(&fork.child),
                    Some(Held { wait: Wait::Report { caller: c, .. }, .. }) if *c == caller
                );
                if !fork.thread && waits_for_this {
                    let table = self.current(caller);
                    let placed = Placement::CloneCall {
                        serial: call.serial,
                    };
                    self.release(fork.child, table, placed, out);
                }
                return;
            }
        }
        let table = self.current(caller);
        let clones = &mut self.callers.entry(caller).or_default().clones;
        let latest = self.audit_latest;
        while clones
            .front()
            .is_some_and(|k| k.time.0.saturating_add(KEEP_MICROS) <= latest.0)
            || clones.len() >= PER_CALLER
        {
            clones.pop_front();
        }
        clones.push_back(PendingClone {
            call,
            time: meta.time,
            table,
        });
    }

    /// The fork report a clone call made: the one naming the pid it returned, else the oldest
    /// that fits whose namespace pids are unknown. Returns it and, for an exact match, the
    /// reports before it (their calls never came).
    fn claim_report(&mut self, call: &CloneCall) -> Option<(PendingFork, Vec<PendingFork>)> {
        let c = self.callers.get_mut(&call.caller)?;
        let exact = c
            .forks
            .iter()
            .position(|f| call.kind.fits(f.thread) && f.pids.contains(&call.ret));
        let at = exact.or_else(|| {
            c.forks
                .iter()
                .position(|f| call.kind.fits(f.thread) && !f.ns_known)
        })?;
        let dropped: Vec<PendingFork> = if exact.is_some() {
            c.forks.drain(..at).collect()
        } else {
            Vec::new()
        };
        let fork = c.forks.remove(if exact.is_some() { 0 } else { at })?;
        Some((fork, dropped))
    }

    /// Places a process that waits with what is known: a reported fork takes its parent's
    /// table at the report, a process met through its own steps its parent's table now.
    fn place_from_what_is_known(&mut self, pid: Pid, out: &mut Vec<Done<F, T>>) {
        let Some(h) = self.waiting.get_mut(&pid) else {
            return;
        };
        let (table, placed) = match &mut h.wait {
            Wait::Report {
                caller, fallback, ..
            } => {
                let caller = *caller;
                let table = fallback.take();
                (
                    table.unwrap_or_else(|| self.current(caller)),
                    Placement::ForkReport,
                )
            }
            Wait::Unknown { ppid, .. } => {
                let ppid = *ppid;
                self.stats.unreported += 1;
                (
                    ppid.map(|p| self.current(p)).unwrap_or_default(),
                    Placement::ForkReport,
                )
            }
        };
        self.release(pid, table, placed, out);
    }

    /// Gives a waiting process its table, hands back its fork report, and replays the steps it
    /// held.
    fn release(
        &mut self,
        pid: Pid,
        table: FdTable<F>,
        placed: Placement,
        out: &mut Vec<Done<F, T>>,
    ) {
        let Some(h) = self.waiting.remove(&pid) else {
            return;
        };
        self.held = self.held.saturating_sub(h.items.len());
        self.place(pid, table, placed, h.fork, out);
        for item in h.items {
            match item {
                Item::Step(step, token, meta) => self.apply(step, meta, token, out),
                Item::Clone(call, meta) => self.clone_now(call, meta, out),
            }
        }
    }

    fn place(
        &mut self,
        child: Pid,
        table: FdTable<F>,
        placed: Placement,
        fork: Option<(T, Meta)>,
        out: &mut Vec<Done<F, T>>,
    ) {
        self.tables.insert(child, table);
        if let Some((token, _)) = fork {
            match placed {
                Placement::CloneCall { .. } => self.stats.by_clone_call += 1,
                Placement::ForkReport => self.stats.by_fork_report += 1,
                Placement::Thread => {}
            }
            out.push(Done {
                placed: Some(placed),
                ..Done::plain(token)
            });
        }
        if let Some(h) = self.waiting.remove(&child) {
            // Steps of the child that came before a report placed in replay mode.
            self.held = self.held.saturating_sub(h.items.len());
            for item in h.items {
                match item {
                    Item::Step(step, token, meta) => self.apply(step, meta, token, out),
                    Item::Clone(call, meta) => self.clone_now(call, meta, out),
                }
            }
        }
    }
}

fn pending_fork(report: &ForkReport, time: Timestamp, tick: u64) -> PendingFork {
    // The call returns the child's pid as its caller's namespace sees it: the host's pid when
    // the caller is in the host's namespace (its report read no namespace pids for the child),
    // else one of the child's namespace pids. A pid of one namespace must never be compared
    // with a pid of another: a container's pid 5242 is not the host's.
    let pids = if !report.ns_known {
        Vec::new()
    } else if report.ns_pids.is_empty() {
        vec![report.child_pid]
    } else {
        report.ns_pids.clone()
    };
    PendingFork {
        child: report.child_pid,
        thread: report.is_thread(),
        pids,
        ns_known: report.ns_known,
        time,
        tick,
    }
}
