//! Fork inference for the [`Assembler`](super::Assembler): process lineage from the records'
//! pid/ppid fields and the fork-family calls.
//!
//! A process that appears (a SYSCALL record with a pid not seen before, or with a new parent
//! that just forked) gets a fork. The fork-family call's return value is the child's pid in the
//! caller's pid namespace, which differs from the host pid audit reports inside a container, so
//! the fork is inferred when the child's first record shows up with `ppid=` the caller, taking
//! the time and serial of the clone call when there was one.

use std::collections::VecDeque;

use rustc_hash::FxHashMap as HashMap;

use dockwatch_shared::model::event::AuditOrigin;
use dockwatch_shared::model::fds::CloneKind;
use dockwatch_shared::{Pid, Timestamp};

use super::super::convert::Converted;

/// How far back a clone call is matched to a child appearing (record time).
const CLONE_MATCH_MICROS: i64 = 10_000_000;
/// Clone calls remembered per parent (clone3 calls that made threads are never matched, and go
/// when this many newer ones came or after [`CLONE_MATCH_MICROS`]).
const CLONES_PER_PARENT: usize = 32;
/// A child that logs before its parent's clone call returns is matched to that call when the
/// call comes at most this long (record time) after the child's first record.
const EARLY_CHILD_MICROS: i64 = 1_000_000;

struct CloneSeen {
    time: Timestamp,
    child_in_ns: Pid,
    maybe_thread: bool,
    origin: AuditOrigin,
}

/// A fork the records show: `parent` made `child`, at `time`, by the call `origin` names (the
/// clone call when one was seen, else the child's first record).
pub(super) struct InferredFork {
    pub(super) time: Timestamp,
    pub(super) origin: AuditOrigin,
    pub(super) parent: Pid,
    pub(super) child: Pid,
    pub(super) clone_serial: Option<u64>,
}

/// Process lineage from pid/ppid fields and clone calls, by node.
#[derive(Default)]
pub(super) struct Lineage {
    /// Parent of each process seen, by node: an entry for every pid of the log (exits are
    /// rarely audited), so kept small (8 bytes, not 24 with the node in the key).
    parent_of: HashMap<u64, HashMap<Pid, Pid>>,
    clones: HashMap<(u64, Pid), VecDeque<CloneSeen>>,
    /// Children given a fork before any clone call of their parent was seen: parent → times.
    early: HashMap<(u64, Pid), VecDeque<Timestamp>>,
}

impl Lineage {
    /// Forgets a process that exited: its pid may come back as a new process of the same
    /// parent.
    pub(super) fn exited(&mut self, node: u64, tgid: Pid) {
        if let Some(m) = self.parent_of.get_mut(&node) {
            m.remove(&tgid);
        }
        self.clones.remove(&(node, tgid));
        self.early.remove(&(node, tgid));
    }

    /// Forgets every process of a node that rebooted (pids start again).
    pub(super) fn forget_node(&mut self, node: u64) {
        self.parent_of.remove(&node);
        self.clones.retain(|k, _| k.0 != node);
        self.early.retain(|k, _| k.0 != node);
    }

    /// Learns from one kernel event of `node`. Returns a fork when a process shows up for the
    /// first time, or with a new parent that had just called a fork-family syscall (pid reuse);
    /// remembers clone calls to match them.
    pub(super) fn observe(&mut self, node: u64, conv: &Converted) -> Option<InferredFork> {
        let mut fork = None;
        if let Some(task) = conv.task {
            let known = self
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
                        let q = self.early.entry((node, task.ppid)).or_default();
                        if q.len() >= CLONES_PER_PARENT {
                            q.pop_front();
                        }
                        q.push_back(conv.time);
                        (conv.time, conv.origin.clone())
                    }
                };
                fork = Some(InferredFork {
                    time,
                    origin,
                    parent: task.ppid,
                    child: task.pid,
                    clone_serial,
                });
            } else if let Some(c) = clone {
                // Not a new process after all: put the clone back for its real child.
                self.put_clone(node, task.ppid, c);
            }
            if known != Some(task.ppid) {
                self.parent_of
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
        fork
    }

    fn claimed_early(&mut self, node: u64, parent: Pid, now: Timestamp) -> bool {
        let Some(q) = self.early.get_mut(&(node, parent)) else {
            return false;
        };
        while q.front().is_some_and(|&t| now.0 - t.0 > EARLY_CHILD_MICROS) {
            q.pop_front();
        }
        let claimed = q.pop_front().is_some();
        if q.is_empty() {
            self.early.remove(&(node, parent));
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
        let q = self.clones.get_mut(&(node, parent))?;
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
            self.clones.remove(&(node, parent));
        }
        c
    }

    fn put_clone(&mut self, node: u64, parent: Pid, c: CloneSeen) {
        let q = self.clones.entry((node, parent)).or_default();
        if q.len() >= CLONES_PER_PARENT {
            q.pop_front();
        }
        q.push_back(c);
    }
}
