//! Grouping records into kernel events and those into the model's events.
//!
//! The kernel writes one event as several records sharing a serial number (SYSCALL, EXECVE,
//! CWD, PATH..., PROCTITLE, then EOE on the netlink socket; auditd does not log EOE). Records of
//! different events interleave when several CPUs log at once. The [`Assembler`] keeps the open
//! events by serial and completes one when:
//!
//! * its EOE arrives;
//! * its PROCTITLE arrives after its SYSCALL record (the kernel's `audit_log_exit` writes
//!   PROCTITLE last, then EOE: nothing else of that serial can follow), which lets logs without
//!   EOE complete events at once;
//! * the record type is outside 1300-2099 (user-space and daemon messages are single records);
//! * [`EVENT_WINDOW`] more records have come since its first one (input positions, not record
//!   time: a log pasted together out of order, or a clock stepped back, must not cut events
//!   short); or at [`Assembler::finish`]. Live, [`Assembler::flush_older_than`] also
//!   completes what waited while the stream was quiet.
//!
//! It also watches each node's serial numbers ([`super::serials`]): a serial that is skipped
//! and does not turn up is reported as a [`Gap`] (`audit_serial_jump`), consecutive unparsable
//! lines are reported as one `parse_error` gap, and a serial far from the counter is held with
//! the records after it until they say whether it is a reboot, a large loss or a damaged
//! serial. After a reboot the node's later events get a boot id of their own (`-2`, `-3`...
//! appended) and its process tree starts afresh. And it builds the process tree from what
//! audit says: each process that appears (a SYSCALL record with a pid not seen before, or with a new parent that
//! just forked) gets a [`Fork`] event. The fork-family call's return value is the child's pid in
//! the caller's pid namespace, which differs from the host pid audit reports inside a container,
//! so the fork is emitted when the child's first record shows up with `ppid=` the caller, taking
//! the time and serial of the clone call when there was one.
//!
//! Events come out with `run` empty and `seq` 0: the output stage stamps them.

use std::collections::VecDeque;

use rustc_hash::FxHashMap as HashMap;

use dockwatch_shared::model::event::{AuditOrigin, Fork, Gap, GapReason};
use dockwatch_shared::model::fds::{self, CloneKind};
use dockwatch_shared::{Event, EventKind, Pid, Source, Timestamp};

use super::convert::{Converted, convert};
use super::record::{ParseError, Record, types};
use super::serials::{Missing, Seen, SerialTracker, Verdict};

/// Records after which an event still waiting for more of its records is completed anyway.
/// Records of concurrent events interleave a few hundred apart at most; counting input
/// positions, not record time, keeps a log pasted together out of order, or a clock stepped
/// back, from cutting events short.
pub const EVENT_WINDOW: u64 = 10_000;
/// Records held at most while a serial is suspect before it is taken as damaged.
const HOLD_MAX: usize = 256;
/// How far back a clone call is matched to a child appearing (record time).
const CLONE_MATCH_MICROS: i64 = 10_000_000;
/// Clone calls remembered per parent (clone3 calls that made threads are never matched, and go
/// when this many newer ones came or after [`CLONE_MATCH_MICROS`]).
const CLONES_PER_PARENT: usize = 32;
/// A child that logs before its parent's clone call returns is matched to that call when the
/// call comes at most this long (record time) after the child's first record.
const EARLY_CHILD_MICROS: i64 = 1_000_000;

/// Where the assembler puts what it makes: events, and the clone calls that fd tracking needs
/// at their place among them (a child's descriptor table is its parent's as it stood at the
/// call, see [`dockwatch_shared::model::fds`]). A `Vec<Event>` takes the events and drops the calls.
pub trait Output {
    /// A finished event.
    fn event(&mut self, event: Event);
    /// A successful clone-family call of a process of `host` in boot `boot_id`, in the
    /// records' order.
    fn clone_call(&mut self, host: &str, boot_id: &str, time: Timestamp, call: fds::CloneCall) {
        let _ = (host, boot_id, time, call);
    }
}

impl Output for Vec<Event> {
    fn event(&mut self, event: Event) {
        self.push(event);
    }
}

/// What the assembler has seen and made so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Records pushed.
    pub records: u64,
    /// Kernel events assembled (groups of records).
    pub assembled: u64,
    /// Of those, completed by the timeout rather than by EOE/PROCTITLE.
    pub timed_out: u64,
    /// Model events emitted (gaps included).
    pub events: u64,
    /// Lines or datagrams that could not be parsed.
    pub parse_errors: u64,
    /// Gap events emitted.
    pub gaps: u64,
    /// Serial numbers that never arrived.
    pub lost_serials: u64,
    /// Fork events emitted.
    pub forks: u64,
    /// Reboots seen in the records (the serial counter starting again).
    pub reboots: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct Key {
    node: u64,
    serial: u64,
}

struct Pending {
    /// Input position of its first record.
    at: u64,
    /// Record time of its first record.
    first: Timestamp,
    records: Vec<Record>,
    has_syscall: bool,
}

/// Records held while a node's serial is suspect (see [`super::serials`]).
struct Held {
    node: u64,
    records: Vec<Record>,
}

struct CloneSeen {
    time: Timestamp,
    child_in_ns: Pid,
    maybe_thread: bool,
    origin: AuditOrigin,
}

/// Process lineage from pid/ppid fields and clone calls.
#[derive(Default)]
struct Lineage {
    /// Parent of each process seen, by node: an entry for every pid of the log (exits are
    /// rarely audited), so kept small (8 bytes, not 24 with the node in the key).
    parent_of: HashMap<u64, HashMap<Pid, Pid>>,
    clones: HashMap<(u64, Pid), VecDeque<CloneSeen>>,
    /// Children given a fork before any clone call of their parent was seen: parent → times.
    early: HashMap<(u64, Pid), VecDeque<Timestamp>>,
}

/// Groups audit records into events; see the module documentation.
pub struct Assembler {
    host: String,
    boot_id: String,
    /// Records an event may wait for more of its records, counted in input positions.
    window: u64,
    pending: HashMap<Key, Pending>,
    /// Events waiting, oldest first, with their first record's input position (entries of
    /// events already completed are skipped when they reach the front).
    order: VecDeque<(Key, u64)>,
    latest: Timestamp,
    serials: HashMap<u64, SerialTracker>,
    /// Records held while a node's serial is suspect.
    held: Option<Held>,
    lineage: Lineage,
    parse_gap: Option<(u64, Timestamp, String)>,
    nodes: HashMap<u64, String>,
    /// Boot number (2, 3...) and id of nodes that rebooted within the records (the others
    /// have `boot_id`).
    boots: HashMap<u64, (u64, String)>,
    counters: Counters,
    /// Infer forks from the records' pid/ppid (see [`Assembler::without_forks`]).
    infer_forks: bool,
}

fn node_key(node: Option<&[u8]>) -> u64 {
    // FNV-1a: a stable, dependency-free hash of the node name; 0 is "no node".
    node.map_or(0, |n| {
        n.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        }) | 1
    })
}

/// Record types numbered by the kernel's serial counter (auditd numbers its own `DAEMON_*`
/// records with a counter of its own).
fn counted(rtype: u16) -> bool {
    !(1200..1300).contains(&rtype)
}

impl Assembler {
    /// An assembler for events of `host` (used when a record has no `node=`) and `boot_id`.
    pub fn new(host: impl Into<String>, boot_id: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            boot_id: boot_id.into(),
            window: EVENT_WINDOW,
            pending: HashMap::default(),
            order: VecDeque::new(),
            latest: Timestamp::default(),
            serials: HashMap::default(),
            held: None,
            lineage: Lineage::default(),
            parse_gap: None,
            nodes: HashMap::default(),
            boots: HashMap::default(),
            counters: Counters::default(),
            infer_forks: true,
        }
    }

    /// An assembler that infers no forks, for a recorder that has the kernel's own fork reports
    /// (the process connector). Audit can only infer a fork from the `ppid=` of the child's
    /// first audited syscall, which is the parent *at that syscall*: for an orphan whose parent
    /// exited first it is the reaper (a container's init), and the reaper's unclaimed clone call
    /// then looks like pid reuse, so the inferred fork names the wrong parent.
    pub fn without_forks(mut self) -> Self {
        self.infer_forks = false;
        self
    }

    /// Sets how many records (input positions) an incomplete event waits for more of its
    /// records, and a skipped serial for its record ([`EVENT_WINDOW`] by default).
    pub fn with_window(mut self, records: u64) -> Self {
        self.window = records.max(1);
        self
    }

    /// What has been seen and made so far.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Kernel events still waiting for records.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Adds one record; completed events are appended to `out`.
    pub fn push(&mut self, record: Record, out: &mut impl Output) {
        self.counters.records += 1;
        let Some(held) = self.held.as_mut() else {
            return self.take(record, out);
        };
        // A node's serial is suspect: this record waits with it, and may decide it.
        let mut verdict = Verdict::Undecided;
        if node_key(record.node()) == held.node && counted(record.rtype()) {
            if let Some(t) = self.serials.get_mut(&held.node) {
                verdict = t.judge(record.serial());
            }
        }
        held.records.push(record);
        if verdict == Verdict::Undecided && held.records.len() >= HOLD_MAX {
            verdict = Verdict::Refuted;
        }
        if verdict != Verdict::Undecided {
            self.resolve(verdict, out);
        }
    }

    /// Decides a suspect serial and takes the records held with it.
    fn resolve(&mut self, verdict: Verdict, out: &mut dyn Output) {
        let Some(held) = self.held.take() else {
            return;
        };
        let node = held.node;
        let first = held.records.first().map(Record::serial);
        match verdict {
            Verdict::Confirmed { reboot: true } => {
                if first.is_some() {
                    self.reboot(node, out);
                }
            }
            Verdict::Confirmed { reboot: false } => {
                let at = self.counters.records;
                if let Some(t) = self.serials.get_mut(&node) {
                    t.confirm(at);
                }
            }
            Verdict::Refuted | Verdict::Undecided => {
                if let Some(t) = self.serials.get_mut(&node) {
                    t.refute();
                }
            }
        }
        for r in held.records {
            self.take(r, out);
        }
    }

    /// Takes one record (not held).
    fn take(&mut self, record: Record, out: &mut dyn Output) {
        let at = self.counters.records;
        let time = record.time();
        if time > self.latest {
            self.latest = time;
        }
        let node = node_key(record.node());
        if node != 0 && !self.nodes.contains_key(&node) {
            let name = String::from_utf8_lossy(record.node().unwrap_or_default()).into_owned();
            self.nodes.insert(node, name);
        }
        if let Some((count, from, detail)) = self.parse_gap.take() {
            self.emit_gap(
                node,
                GapReason::ParseError,
                Some(count),
                from,
                time,
                detail,
                out,
            );
        }
        let rtype = record.rtype();
        if counted(rtype) {
            let tracker = self.serials.entry(node).or_default();
            match tracker.see(record.serial(), time, at) {
                Seen::Counted => {}
                Seen::Reboot => self.reboot(node, out),
                Seen::Suspect => {
                    self.held = Some(Held {
                        node,
                        records: vec![record],
                    });
                    return;
                }
            }
        } else if rtype == types::DAEMON_START {
            self.serials.entry(node).or_default().daemon_started();
        }
        let key = Key {
            node,
            serial: record.serial(),
        };
        if !(1300..2100).contains(&rtype) {
            self.complete(key, vec![record], false, out);
        } else {
            // The event ends with its EOE (which carries nothing and is not kept), or with a
            // PROCTITLE after its SYSCALL record (see the module documentation).
            let ends = rtype == types::EOE || {
                let is_syscall = rtype == types::SYSCALL;
                let ends_it = rtype == types::PROCTITLE;
                let p = self.pending.entry(key).or_insert_with(|| {
                    self.order.push_back((key, at));
                    Pending {
                        at,
                        first: time,
                        records: Vec::with_capacity(6),
                        has_syscall: false,
                    }
                });
                p.records.push(record);
                p.has_syscall |= is_syscall;
                ends_it && p.has_syscall
            };
            if ends {
                if let Some(p) = self.pending.remove(&key) {
                    self.complete(key, p.records, false, out);
                }
            }
        }
        self.expire(at.saturating_sub(self.window), out);
    }

    /// Counts a line that could not be parsed; consecutive ones become one `parse_error` gap,
    /// emitted with the next good record (or at [`Assembler::finish`]). `detail` should say where.
    pub fn parse_error(&mut self, error: &ParseError, detail: impl Into<String>) {
        self.counters.parse_errors += 1;
        match &mut self.parse_gap {
            Some((count, _, _)) => *count += 1,
            None => {
                self.parse_gap = Some((1, self.latest, format!("{}: {error}", detail.into())));
            }
        }
    }

    /// Records that the rest of the input could not be read (a truncated or corrupt log file):
    /// a gap of unknown size at the latest record time, with `detail` saying why.
    pub fn input_unreadable(&mut self, detail: impl Into<String>, out: &mut impl Output) {
        let latest = self.latest;
        self.emit_gap(
            0,
            GapReason::InputUnreadable,
            None,
            latest,
            latest,
            detail.into(),
            out,
        );
    }

    /// Completes every event whose first record is older than `before`, and reports the
    /// serials noticed missing before then (for a live source, where the wall clock says no
    /// more records will come).
    pub fn flush_older_than(&mut self, before: Timestamp, out: &mut impl Output) {
        let mut old: Vec<(Key, u64)> = self
            .pending
            .iter()
            .filter(|(_, p)| p.first < before)
            .map(|(&k, p)| (k, p.at))
            .collect();
        old.sort_unstable_by_key(|&(k, at)| (at, k.serial));
        for (key, _) in old {
            if let Some(p) = self.pending.remove(&key) {
                self.complete(key, p.records, true, out);
            }
        }
        let mut expired = Vec::new();
        for (&node, tracker) in &mut self.serials {
            for m in tracker.expire_older_than(before) {
                expired.push((node, m));
            }
        }
        self.report_missing(expired, out);
    }

    /// Completes everything still open and reports serials that never arrived.
    pub fn finish(&mut self, out: &mut impl Output) {
        if let Some(node) = self.held.as_ref().map(|h| h.node) {
            let verdict = self
                .serials
                .get(&node)
                .map_or(Verdict::Refuted, SerialTracker::judge_at_end);
            self.resolve(verdict, out);
        }
        let mut rest: Vec<(Key, Pending)> = self.pending.drain().collect();
        rest.sort_by_key(|(k, p)| (p.at, k.serial));
        self.order.clear();
        for (key, p) in rest {
            self.complete(key, p.records, true, out);
        }
        let mut expired = Vec::new();
        for (&node, tracker) in &mut self.serials {
            for m in tracker.expire(None) {
                expired.push((node, m));
            }
        }
        self.report_missing(expired, out);
        if let Some((count, from, detail)) = self.parse_gap.take() {
            let latest = self.latest;
            self.emit_gap(
                0,
                GapReason::ParseError,
                Some(count),
                from,
                latest,
                detail,
                out,
            );
        }
    }

    /// Completes the events whose first record came before input position `before`, and
    /// reports the serials noticed missing before it.
    fn expire(&mut self, before: u64, out: &mut dyn Output) {
        // `order` still lists events that EOE or PROCTITLE completed: drop those from its front
        // as soon as they get there, or it would hold every event of the window.
        while let Some(&(key, at)) = self.order.front() {
            let waiting = self.pending.get(&key).is_some_and(|p| p.at == at);
            if waiting && at >= before {
                break;
            }
            self.order.pop_front();
            if waiting {
                if let Some(p) = self.pending.remove(&key) {
                    self.complete(key, p.records, true, out);
                }
            }
        }
        let mut expired = Vec::new();
        for (&node, tracker) in &mut self.serials {
            if tracker.has_missing() {
                for m in tracker.expire(Some(before)) {
                    expired.push((node, m));
                }
            }
        }
        self.report_missing(expired, out);
    }

    fn report_missing(&mut self, mut expired: Vec<(u64, Missing)>, out: &mut dyn Output) {
        expired.sort_unstable_by_key(|&(node, m)| (node, m.start));
        for (node, m) in expired {
            self.serial_gap(node, m.start, m.end, m.from, m.noticed, out);
        }
    }

    /// The records of `node` show a reboot: what was open belongs to the old boot. Its
    /// incomplete events are completed, its missing serials reported, its process tree
    /// forgotten (pids start again), and the node's later events get a boot id of their own:
    /// the first one's with `-2`, `-3`... appended (the same for every import of the log).
    fn reboot(&mut self, node: u64, out: &mut dyn Output) {
        self.counters.reboots += 1;
        let keys: Vec<Key> = self
            .pending
            .keys()
            .filter(|k| k.node == node)
            .copied()
            .collect();
        let mut open: Vec<(Key, Pending)> = keys
            .into_iter()
            .filter_map(|k| self.pending.remove(&k).map(|p| (k, p)))
            .collect();
        open.sort_by_key(|(k, p)| (p.at, k.serial));
        for (key, p) in open {
            self.complete(key, p.records, true, out);
        }
        let ranges = self
            .serials
            .get_mut(&node)
            .map(|t| t.expire(None))
            .unwrap_or_default();
        self.report_missing(ranges.into_iter().map(|m| (node, m)).collect(), out);
        if let Some(t) = self.serials.get_mut(&node) {
            t.restart();
        }
        self.lineage.parent_of.remove(&node);
        self.lineage.clones.retain(|k, _| k.0 != node);
        self.lineage.early.retain(|k, _| k.0 != node);
        let boot = self.boots.get(&node).map_or(1, |(n, _)| *n) + 1;
        self.boots
            .insert(node, (boot, format!("{}-{boot}", self.boot_id)));
    }

    fn boot_of(&self, node: u64) -> String {
        self.boots
            .get(&node)
            .map_or_else(|| self.boot_id.clone(), |(_, id)| id.clone())
    }

    fn serial_gap(
        &mut self,
        node: u64,
        start: u64,
        end: u64,
        from: Timestamp,
        to: Timestamp,
        out: &mut dyn Output,
    ) {
        let lost = end - start + 1;
        self.counters.lost_serials += lost;
        let detail = if start == end {
            format!("audit serial {start} never arrived")
        } else {
            format!("audit serials {start}..={end} never arrived")
        };
        self.emit_gap(
            node,
            GapReason::AuditSerialJump,
            Some(lost),
            from,
            to,
            detail,
            out,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn emit_gap(
        &mut self,
        node: u64,
        reason: GapReason,
        lost: Option<u64>,
        from: Timestamp,
        to: Timestamp,
        detail: String,
        out: &mut dyn Output,
    ) {
        self.counters.gaps += 1;
        self.counters.events += 1;
        out.event(Event {
            host: self.host_of(node),
            boot_id: self.boot_of(node),
            run: String::new(),
            seq: 0,
            time: to,
            source: Source::Audit,
            audit: None,
            kind: EventKind::Gap(Gap {
                reason,
                lost,
                from: from.min(to),
                to,
                detail: Some(detail),
            }),
        });
    }

    fn host_of(&self, node: u64) -> String {
        self.nodes
            .get(&node)
            .cloned()
            .unwrap_or_else(|| self.host.clone())
    }

    fn complete(&mut self, key: Key, records: Vec<Record>, timed_out: bool, out: &mut dyn Output) {
        if records.is_empty() {
            return;
        }
        self.counters.assembled += 1;
        if timed_out {
            self.counters.timed_out += 1;
        }
        let conv = convert(&records);
        if self.infer_forks {
            self.lineage(key.node, &conv, out);
        }
        if let Some(call) = conv.clone {
            let (host, boot) = (self.host_of(key.node), self.boot_of(key.node));
            out.clone_call(
                &host,
                &boot,
                conv.time,
                fds::CloneCall {
                    caller: call.parent,
                    ret: call.child_in_ns,
                    serial: conv.origin.serial,
                    kind: call.kind,
                },
            );
        }
        if let Some(EventKind::Exit(x)) = &conv.kind {
            // The process is gone: its pid may come back as a new process of the same parent.
            let k = (key.node, x.tgid);
            if let Some(m) = self.lineage.parent_of.get_mut(&key.node) {
                m.remove(&x.tgid);
            }
            self.lineage.clones.remove(&k);
            self.lineage.early.remove(&k);
        }
        if let Some(kind) = conv.kind {
            self.counters.events += 1;
            out.event(Event {
                host: self.host_of(key.node),
                boot_id: self.boot_of(key.node),
                run: String::new(),
                seq: 0,
                time: conv.time,
                source: Source::Audit,
                audit: Some(conv.origin),
                kind,
            });
        }
    }

    /// Emits a Fork when a process shows up for the first time, or with a new parent that had
    /// just called a fork-family syscall (pid reuse); remembers clone calls to match them.
    fn lineage(&mut self, node: u64, conv: &Converted, out: &mut dyn Output) {
        if let Some(task) = conv.task {
            let known = self
                .lineage
                .parent_of
                .get(&node)
                .and_then(|m| m.get(&task.pid))
                .copied();
            let clone = self.take_clone(node, task.ppid, task.pid, conv.time);
            let new_process = match known {
                None => true,
                Some(parent) => parent != task.ppid && clone.is_some(),
            };
            if new_process {
                let clone_serial = clone.as_ref().map(|c| c.origin.serial);
                let (time, origin) = match clone {
                    Some(c) => (c.time, c.origin),
                    None => {
                        let q = self.lineage.early.entry((node, task.ppid)).or_default();
                        if q.len() >= CLONES_PER_PARENT {
                            q.pop_front();
                        }
                        q.push_back(conv.time);
                        (conv.time, conv.origin.clone())
                    }
                };
                self.counters.forks += 1;
                self.counters.events += 1;
                out.event(Event {
                    host: self.host_of(node),
                    boot_id: self.boot_of(node),
                    run: String::new(),
                    seq: 0,
                    time,
                    source: Source::Audit,
                    audit: Some(origin),
                    kind: EventKind::Fork(Fork {
                        parent_pid: task.ppid,
                        parent_tgid: task.ppid,
                        child_pid: task.pid,
                        child_tgid: task.pid,
                        child: None,
                        fd_from: None,
                        clone_serial,
                    }),
                });
            } else if let Some(c) = clone {
                // Not a new process after all: put the clone back for its real child.
                self.put_clone(node, task.ppid, c);
            }
            if known != Some(task.ppid) {
                self.lineage
                    .parent_of
                    .entry(node)
                    .or_default()
                    .insert(task.pid, task.ppid);
            }
        }
        if let Some(call) = conv.clone.filter(|c| c.kind != CloneKind::Thread) {
            // A child that already showed up (it can run and log before its parent's clone
            // returns) was given its fork then; only remember clones no child has claimed.
            if !self.claimed_early(node, call.parent, conv.time) {
                self.put_clone(
                    node,
                    call.parent,
                    CloneSeen {
                        time: conv.time,
                        child_in_ns: call.child_in_ns,
                        maybe_thread: call.kind == CloneKind::Either,
                        origin: conv.origin.clone(),
                    },
                );
            }
        }
    }

    fn claimed_early(&mut self, node: u64, parent: Pid, now: Timestamp) -> bool {
        let Some(q) = self.lineage.early.get_mut(&(node, parent)) else {
            return false;
        };
        while q.front().is_some_and(|&t| now.0 - t.0 > EARLY_CHILD_MICROS) {
            q.pop_front();
        }
        let claimed = q.pop_front().is_some();
        if q.is_empty() {
            self.lineage.early.remove(&(node, parent));
        }
        claimed
    }

    /// The clone call of `parent` that made `child`: the one that returned `child` itself (a
    /// parent outside any pid namespace), else the oldest one not yet matched that surely made a
    /// process (children of one parent get increasing pids in every namespace, so they show up
    /// in clone order), else the latest clone3 call made before the child's first record.
    fn take_clone(
        &mut self,
        node: u64,
        parent: Pid,
        child: Pid,
        now: Timestamp,
    ) -> Option<CloneSeen> {
        let q = self.lineage.clones.get_mut(&(node, parent))?;
        while q
            .front()
            .is_some_and(|c| now.0 - c.time.0 > CLONE_MATCH_MICROS)
        {
            q.pop_front();
        }
        // A clone3 call may have made a thread, which never shows up: when guessing, take it
        // only when no call that surely made a process is left. Then take the latest one: the
        // clone3 calls left over are mostly threads (glibc's pthread_create), while a process
        // made by clone3 (glibc's posix_spawn, a vfork) shows up at once.
        let i = q
            .iter()
            .position(|c| c.child_in_ns == child)
            .or_else(|| q.iter().position(|c| !c.maybe_thread))
            .or_else(|| q.iter().rposition(|c| c.time <= now))
            .unwrap_or(0);
        let c = q.remove(i);
        if q.is_empty() {
            self.lineage.clones.remove(&(node, parent));
        }
        c
    }

    fn put_clone(&mut self, node: u64, parent: Pid, c: CloneSeen) {
        let q = self.lineage.clones.entry((node, parent)).or_default();
        if q.len() >= CLONES_PER_PARENT {
            q.pop_front();
        }
        q.push_back(c);
    }
}

#[cfg(test)]
mod tests;
