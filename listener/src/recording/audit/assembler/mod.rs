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
//! Two concerns have files of their own: `serial_watch.rs` watches each node's serial numbers
//! ([`super::serials`]): a serial that is skipped and does not turn up is reported as a gap
//! (`audit_serial_jump`), and a serial far from the counter is held with the records after it
//! until they say whether it is a reboot, a large loss or a damaged serial; after a reboot the
//! node's later events get a boot id of their own (`-2`, `-3`... appended). `lineage.rs` infers
//! forks from the records' pid/ppid fields and fork-family calls. Consecutive unparsable lines
//! are reported as one `parse_error` gap.
//!
//! Events come out with `run` empty and `seq` 0: the output stage stamps them.

use std::collections::VecDeque;

use rustc_hash::FxHashMap as HashMap;

use dockwatch_shared::model::event::{Fork, GapReason};
use dockwatch_shared::model::fds;
use dockwatch_shared::{Event, EventKind, Timestamp};

use super::convert::convert;
use super::record::{ParseError, Record, types};
use super::serials::{Seen, SerialTracker, Verdict};
use lineage::Lineage;

mod lineage;
mod serial_watch;

/// Records after which an event still waiting for more of its records is completed anyway.
/// Records of concurrent events interleave a few hundred apart at most; counting input
/// positions, not record time, keeps a log pasted together out of order, or a clock stepped
/// back, from cutting events short.
pub const EVENT_WINDOW: u64 = 10_000;
/// Records held at most while a serial is suspect before it is taken as damaged.
const HOLD_MAX: usize = 256;
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
        self.expire_serials(|t| t.expire_older_than(before), out);
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
        self.expire_serials(|t| t.expire(None), out);
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
        self.expire_serials(
            |t| {
                if t.has_missing() {
                    t.expire(Some(before))
                } else {
                    Vec::new()
                }
            },
            out,
        );
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
        let fork = if self.infer_forks {
            self.lineage.observe(key.node, &conv)
        } else {
            None
        };
        if let Some(fork) = fork {
            self.counters.forks += 1;
            self.counters.events += 1;
            let kind = EventKind::Fork(Fork {
                parent_pid: fork.parent,
                parent_tgid: fork.parent,
                child_pid: fork.child,
                child_tgid: fork.child,
                child: None,
                fd_from: None,
                clone_serial: fork.clone_serial,
            });
            out.event(self.event(key.node, fork.time, Some(fork.origin), kind));
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
            self.lineage.exited(key.node, x.tgid);
        }
        if let Some(kind) = conv.kind {
            self.counters.events += 1;
            out.event(self.event(key.node, conv.time, Some(conv.origin), kind));
        }
    }
}

#[cfg(test)]
mod tests;
