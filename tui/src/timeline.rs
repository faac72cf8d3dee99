//! The `T` timeline's model: everything the selected subtree did, in time order, one entry
//! each: a process started, ran a program (every exec), exited, or touched a file; and the gaps
//! (events lost) that fall in that time, so the analyst sees where the story may have holes.
//!
//! A filter narrows the entries: words naming an event kind or a file operation (`exec`,
//! `exit`, `write`, `unlink`, ...) keep the entries of those kinds; any other word is a path
//! prefix and keeps the file entries below it. Gaps are always kept. The runtime's processes
//! and records follow the tree's choice (hidden unless shown).

use dockwatch_shared::Timestamp;
use dockwatch_shared::model::investigation::{FileId, FileOp, Investigation, NodeId};
use dockwatch_shared::presentation::containers::is_plumbing;

use crate::file_table::is_runtime_record;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    /// The process started (forked, or was first seen).
    Start,
    /// The process ran a program: an index into its `execs`.
    Exec(usize),
    /// The process exited.
    Exit,
    /// The process touched a file: the record.
    File(FileId),
    /// Events were lost: an index into the investigation's gaps.
    Gap(usize),
}

impl What {
    /// The kind's word, as the filter and the screen use it.
    pub fn word(self) -> &'static str {
        match self {
            What::Start => "start",
            What::Exec(_) => "exec",
            What::Exit => "exit",
            What::File(_) => "file",
            What::Gap(_) => "gap",
        }
    }
}

/// One line of the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// When.
    pub time: Timestamp,
    /// Which process (none for a gap).
    pub node: Option<NodeId>,
    /// What.
    pub what: What,
}

/// The timeline of one subtree, its filter and its cursor.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// The subtree's root.
    pub root: NodeId,
    /// Every entry, in time order.
    pub entries: Vec<Entry>,
    /// The entries the filter keeps (indices into `entries`).
    pub shown: Vec<usize>,
    /// The filter, as typed.
    pub filter: String,
    /// The cursor, in `shown`.
    pub cursor: usize,
}

/// Event-kind words of the filter, beside the file operations' names.
const KIND_WORDS: [&str; 4] = ["start", "exec", "exit", "gap"];

impl Timeline {
    /// The timeline of the subtree of `root`; with `plumbing`, the runtime's processes and
    /// records too.
    pub fn new(inv: &Investigation, root: NodeId, plumbing: bool) -> Self {
        let mut entries = Vec::new();
        let mut stack = vec![root];
        let mut seen = 0usize;
        while let Some(n) = stack.pop() {
            seen += 1;
            if seen > inv.processes.len() {
                break; // a parent cycle in bad input
            }
            let p = &inv.processes[n];
            stack.extend_from_slice(&p.children);
            if !plumbing && is_plumbing(p) {
                continue;
            }
            let node = Some(n);
            if let Some(time) = p.start {
                entries.push(Entry {
                    time,
                    node,
                    what: What::Start,
                });
            }
            entries.extend(p.execs.iter().enumerate().map(|(i, e)| Entry {
                time: e.time,
                node,
                what: What::Exec(i),
            }));
            if let Some(time) = p.exit {
                entries.push(Entry {
                    time,
                    node,
                    what: What::Exit,
                });
            }
            entries.extend(
                p.files
                    .iter()
                    .filter(|&&f| plumbing || !is_runtime_record(inv, f))
                    .filter_map(|&f| {
                        inv.files[f].first_time().map(|time| Entry {
                            time,
                            node,
                            what: What::File(f),
                        })
                    }),
            );
        }
        // The gaps that overlap the subtree's time.
        let lo = entries.iter().map(|e| e.time).min();
        let hi = entries.iter().map(|e| e.time).max();
        if let (Some(lo), Some(hi)) = (lo, hi) {
            entries.extend(
                inv.gaps
                    .iter()
                    .enumerate()
                    .filter(|(_, g)| g.from <= hi && g.to >= lo)
                    .map(|(i, g)| Entry {
                        time: g.from,
                        node: None,
                        what: What::Gap(i),
                    }),
            );
        }
        // In time order; at one time, a start before its exec before its files before its exit.
        let rank = |w: What| match w {
            What::Gap(_) => 0,
            What::Start => 1,
            What::Exec(_) => 2,
            What::File(_) => 3,
            What::Exit => 4,
        };
        entries.sort_by_key(|e| (e.time, e.node, rank(e.what)));
        let mut timeline = Self {
            root,
            entries,
            ..Self::default()
        };
        timeline.set_filter(inv, "");
        timeline
    }

    /// Narrows the entries to what `filter` asks for (see the module documentation).
    pub fn set_filter(&mut self, inv: &Investigation, filter: &str) {
        self.filter = filter.trim().to_owned();
        let mut kinds: Vec<&str> = Vec::new();
        let mut ops: Vec<FileOp> = Vec::new();
        let mut prefixes: Vec<&[u8]> = Vec::new();
        for word in self.filter.split_whitespace() {
            if let Some(k) = KIND_WORDS.iter().find(|k| k.eq_ignore_ascii_case(word)) {
                kinds.push(k);
            } else if let Some(op) = FileOp::ALL
                .into_iter()
                .find(|op| op.name().eq_ignore_ascii_case(word))
            {
                ops.push(op);
            } else {
                prefixes.push(word.as_bytes());
            }
        }
        let keeps = |e: &Entry| -> bool {
            match e.what {
                What::Gap(_) => true,
                What::File(f) => {
                    let r = &inv.files[f];
                    let by_kind = (kinds.is_empty() && ops.is_empty())
                        || ops.iter().any(|op| r.ops.contains(op));
                    let by_path = prefixes.is_empty()
                        || prefixes.iter().any(|p| {
                            r.path.as_bytes().starts_with(p)
                                || r.renamed_to
                                    .as_ref()
                                    .is_some_and(|t| t.as_bytes().starts_with(p))
                        });
                    by_kind && by_path
                }
                other => {
                    prefixes.is_empty()
                        && ((kinds.is_empty() && ops.is_empty()) || kinds.contains(&other.word()))
                }
            }
        };
        let selected = self.shown.get(self.cursor).copied();
        self.shown = (0..self.entries.len())
            .filter(|&i| keeps(&self.entries[i]))
            .collect();
        self.cursor = selected
            .and_then(|s| self.shown.iter().position(|&i| i >= s))
            .unwrap_or(0)
            .min(self.shown.len().saturating_sub(1));
    }

    /// The entry under the cursor.
    pub fn current(&self) -> Option<Entry> {
        self.shown.get(self.cursor).map(|&i| self.entries[i])
    }

    /// Moves the cursor by `delta` entries, clamped.
    pub fn move_by(&mut self, delta: isize) {
        self.cursor = self
            .cursor
            .saturating_add_signed(delta)
            .min(self.shown.len().saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic;

    fn pid_of(inv: &Investigation, pid: i32) -> NodeId {
        inv.processes.iter().position(|p| p.pid == pid).unwrap()
    }

    fn lines(inv: &Investigation, t: &Timeline) -> Vec<String> {
        t.shown
            .iter()
            .map(|&i| {
                let e = t.entries[i];
                let pid = e.node.map_or(0, |n| inv.processes[n].pid);
                match e.what {
                    What::File(f) => format!("{pid} {}", inv.files[f].path.to_str_lossy()),
                    w => format!("{pid} {}", w.word()),
                }
            })
            .collect()
    }

    #[test]
    fn a_subtree_s_life_is_in_time_order_and_filters_narrow_it() {
        let inv = synthetic::demo();
        let job = pid_of(&inv, 1420);
        let mut t = Timeline::new(&inv, job, false);
        let all = lines(&inv, &t);
        assert_eq!(all.first().map(String::as_str), Some("1420 start"));
        assert!(all.contains(&"1422 /out/root.txt".to_owned()), "{all:?}");
        let times: Vec<Timestamp> = t.shown.iter().map(|&i| t.entries[i].time).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "in time order");
        // Every process of the subtree starts before its own file entries.
        for (i, e) in t.entries.iter().enumerate() {
            if let (What::File(_), Some(n)) = (e.what, e.node) {
                let start = t.entries[..i]
                    .iter()
                    .any(|x| x.node == Some(n) && x.what == What::Start);
                assert!(start, "{all:?}");
            }
        }
        t.set_filter(&inv, "/out");
        let out = lines(&inv, &t);
        assert!(!out.is_empty());
        assert!(out.iter().all(|l| l.contains(" /out/")), "{out:?}");
        t.set_filter(&inv, "unlink");
        let unlinks = lines(&inv, &t);
        assert!(!unlinks.is_empty());
        for &i in &t.shown {
            let What::File(f) = t.entries[i].what else {
                panic!("{unlinks:?}")
            };
            assert!(inv.files[f].ops.contains(&FileOp::Unlink));
        }
        t.set_filter(&inv, "exit");
        let exits = lines(&inv, &t);
        assert_eq!(
            exits.len(),
            7,
            "the job and its six children exited: {exits:?}"
        );
        t.set_filter(&inv, "");
        assert_eq!(lines(&inv, &t), all);
    }

    #[test]
    fn gaps_in_the_subtree_s_time_are_entries() {
        let mut inv = synthetic::demo();
        let job = pid_of(&inv, 1420);
        let start = inv.processes[job].start.unwrap();
        inv.gaps
            .push(dockwatch_shared::model::investigation::GapRecord {
                reason: dockwatch_shared::model::event::GapReason::AuditLost,
                lost: Some(12),
                from: start,
                to: Timestamp::from_micros(start.as_micros() + 1_000),
                detail: None,
            });
        inv.gaps
            .push(dockwatch_shared::model::investigation::GapRecord {
                reason: dockwatch_shared::model::event::GapReason::AuditLost,
                lost: Some(3),
                from: Timestamp::from_micros(0),
                to: Timestamp::from_micros(1),
                detail: None,
            });
        let mut t = Timeline::new(&inv, job, false);
        let gaps: Vec<_> = t
            .entries
            .iter()
            .filter(|e| matches!(e.what, What::Gap(_)))
            .collect();
        assert_eq!(gaps.len(), 1, "only the gap in the subtree's time");
        assert_eq!(t.current().map(|e| e.what), Some(What::Gap(0)));
        t.set_filter(&inv, "/nothing/here");
        assert_eq!(t.shown.len(), 1, "gaps stay whatever the filter");
    }
}
