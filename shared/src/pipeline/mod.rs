//! The filter pipeline: the event log of one (host, boot) in, an [`Investigation`] out.
//!
//! Pure: no I/O, no clock (the caller passes `generated_at`). The filter is split into
//! stages, each a function of its own module with its own tests:
//!
//! 1. [`input`]: events become compact records, sorted by `(time, run, seq)` when needed;
//! 2. [`fold`]: records become one task per task life (pid reuse gives two tasks);
//! 3. [`group`]: tasks become processes (tgid nodes) with threads, parent and children;
//! 4. [`tree`]: the roots (dockerd, then containerd and shims not below it) and a breadth-first
//!    walk along fork lineage;
//! 5. [`repair`]: rootfs per container, threads' parent and exit from their leader, counted;
//! 6. [`nodes`]: the tree's processes become [`ProcessNode`](crate::model::investigation::ProcessNode)s;
//! 7. [`gaps`]: lost events carried with their time range;
//! 8. [`files`]: descriptor tables replayed into file records (dup, inheritance, snapshot fds,
//!    close at exit, cwd paths, and host paths through the container's mounts with
//!    [`mounts`]).
//!
//! [`Pipeline`] takes events one at a time (so a caller streaming from MongoDB never holds the
//! raw events), [`investigate`] runs it over any iterator. Memory is about 150 bytes per event
//! plus its path strings; see docs/benchmarks.md for its speed on a million events.

pub mod completeness;
pub mod files;
pub mod fold;
pub mod gaps;
pub mod group;
pub mod input;
pub mod mounts;
pub mod nodes;
pub mod paths;
pub mod repair;
#[cfg(any(test, feature = "test-support"))]
pub mod synthetic;
pub mod tree;

/// How far audit's coarse clock can run behind the process connector's precise one: audit
/// stamps records with the kernel's coarse clock (updated once per tick, 10 ms at the lowest
/// common `HZ` of 100) cut to milliseconds; with margin. Two reports of one exec this close are
/// one exec; a file operation this close before its process's start is taken as at the start.
pub const AUDIT_CLOCK_SLACK: Timestamp = Timestamp(20_000);

#[cfg(test)]
pub(crate) mod testkit;

use crate::model::event::Event;
use crate::model::investigation::{GapRecord, Investigation, Repairs, Stats};
use crate::model::time::Timestamp;

use self::fold::NONE;
use self::input::Input;

/// A step of the pipeline, for progress bars.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// Ordering the records by time.
    Sort,
    /// Folding records into tasks.
    Fold,
    /// Grouping tasks into processes.
    Group,
    /// Finding the roots and walking the tree.
    Tree,
    /// Repairing the tree's data.
    Repair,
    /// Collecting gaps.
    Gaps,
    /// Replaying file descriptors into file records.
    Files,
    /// Finished.
    Done,
}

impl Step {
    /// Every step, in order.
    pub const ALL: [Step; 8] = [
        Step::Sort,
        Step::Fold,
        Step::Group,
        Step::Tree,
        Step::Repair,
        Step::Gaps,
        Step::Files,
        Step::Done,
    ];

    /// A short name for a progress line.
    pub fn label(self) -> &'static str {
        match self {
            Step::Sort => "sorting events",
            Step::Fold => "folding events into tasks",
            Step::Group => "grouping tasks into processes",
            Step::Tree => "walking the Docker process tree",
            Step::Repair => "repairing rootfs, parents and exits",
            Step::Files => "replaying file descriptors",
            Step::Gaps => "collecting gaps",
            Step::Done => "done",
        }
    }

    /// The position of the step in [`Step::ALL`].
    pub fn index(self) -> usize {
        Step::ALL.iter().position(|&s| s == self).unwrap_or(0)
    }
}

/// Where the pipeline is: the step, and within it `done` of `total` records (both 0 for steps
/// that are not counted in records).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The step running.
    pub step: Step,
    /// Records done in this step.
    pub done: u64,
    /// Records this step will go through.
    pub total: u64,
}

impl Progress {
    /// Overall completion in `0.0..=1.0`, treating every step as an equal share.
    pub fn fraction(&self) -> f64 {
        let steps = (Step::ALL.len() - 1) as f64;
        let within = if self.total == 0 {
            0.0
        } else {
            self.done as f64 / self.total as f64
        };
        ((self.step.index() as f64 + within) / steps).min(1.0)
    }
}

/// The pipeline fed one event at a time. Its state (the events taken, reduced to what the
/// steps read) can be saved and restored ([`crate::storage::checkpoint`]).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Pipeline {
    input: Input,
    /// Gaps found by whoever read the events (damage in a capture file), not in the events.
    found_gaps: Vec<GapRecord>,
}

impl Pipeline {
    /// A pipeline for the events of `host` and `boot_id`; events of other hosts or boots are
    /// ignored (and counted in [`Pipeline::foreign`]).
    pub fn new(host: &str, boot_id: &str) -> Self {
        Self {
            input: Input::new(host, boot_id),
            found_gaps: Vec::new(),
        }
    }

    /// Adds a gap the reader of the events found (a damaged part of a capture file); it is
    /// reported with the gaps the events record, in time order.
    pub fn add_gap(&mut self, gap: GapRecord) {
        self.found_gaps.push(gap);
    }

    /// Makes room for `additional` more events, when the caller knows how many will come (an
    /// event stream's total, say); only a speed-up.
    pub fn reserve(&mut self, additional: usize) {
        self.input.reserve(additional);
    }

    /// Takes one event, in any order.
    pub fn push(&mut self, event: Event) {
        self.input.push(event);
    }

    /// Events taken so far.
    pub fn events(&self) -> u64 {
        self.input.events
    }

    /// Events ignored because they belong to another host or boot.
    pub fn foreign(&self) -> u64 {
        self.input.foreign
    }

    /// The investigation of the events taken so far, leaving the pipeline to take more (a
    /// followed recording is investigated again as events arrive). It costs what
    /// [`Pipeline::finish`] costs, on a copy of the events.
    pub fn snapshot(
        &self,
        generated_at: Timestamp,
        progress: &mut dyn FnMut(Progress),
    ) -> Investigation {
        self.clone().finish(generated_at, progress)
    }

    /// Runs the steps on the events taken.
    pub fn finish(
        mut self,
        generated_at: Timestamp,
        progress: &mut dyn FnMut(Progress),
    ) -> Investigation {
        let host = self.input.host().to_owned();
        let boot_id = self.input.boot_id().to_owned();
        let events = self.input.events;
        let mut at = |step: Step, done: u64, total: u64| progress(Progress { step, done, total });

        at(Step::Sort, 0, 0);
        let times_repaired = self.input.repair_times();
        let mut recs = self.input.into_sorted();
        let total = recs.len() as u64;

        let mut folded = fold::fold(&mut recs, &mut |done| at(Step::Fold, done, total));
        at(Step::Group, 0, 0);
        let grouped = group::group(&folded.tasks);
        at(Step::Tree, 0, 0);
        let tree = tree::walk(&grouped, &folded.tasks);
        at(Step::Repair, 0, 0);
        let mut repairs = Repairs {
            times_from_neighbours: times_repaired,
            ..Repairs::default()
        };
        repair::repair(
            &mut folded.tasks,
            &grouped,
            &tree,
            &folded.containers,
            &mut repairs,
        );
        let mut processes = nodes::nodes(&mut folded.tasks, &grouped, &tree, &folded.containers);

        at(Step::Gaps, 0, 0);
        let mut gaps = gaps::gaps(&recs);
        gaps.extend(self.found_gaps.into_iter().map(|mut g| {
            g.from = g.from.clamp_plausible();
            g.to = g.to.clamp_plausible().max(g.from);
            g
        }));
        gaps.sort_by_key(|g| (g.from, g.to));

        let task_node: Vec<u32> = grouped
            .task_proc
            .iter()
            .map(|&p| {
                if p == NONE {
                    NONE
                } else {
                    tree.node_of[p as usize]
                }
            })
            .collect();
        let (mut files, closed_at_exit) =
            files::files(recs, &folded, &task_node, &mut processes, &mut |done| {
                at(Step::Files, done, total)
            });
        repairs.close_from_exit = closed_at_exit;
        repairs.file_times_to_start = repair::file_times_after_start(&mut files, &processes);
        at(Step::Done, 0, 0);

        let stats = Stats {
            events,
            tasks: folded.tasks.len() as u64,
            processes: grouped.procs.len() as u64,
            tree_processes: processes.len() as u64,
            files: files.len() as u64,
            gaps: gaps.len() as u64,
            repairs,
        };
        Investigation {
            host,
            boot_id,
            generated_at,
            roots: (0..tree.roots.len())
                .map(|i| tree.node_of[tree.roots[i] as usize] as usize)
                .collect(),
            processes,
            files,
            gaps,
            stats,
        }
    }
}

/// Runs the whole pipeline over the events of `host` and `boot_id` (others are ignored), calling
/// `progress` as it goes.
pub fn investigate(
    events: impl IntoIterator<Item = Event>,
    host: &str,
    boot_id: &str,
    generated_at: Timestamp,
    progress: &mut dyn FnMut(Progress),
) -> Investigation {
    let mut pipeline = Pipeline::new(host, boot_id);
    let events = events.into_iter();
    pipeline.reserve(events.size_hint().0);
    for event in events {
        pipeline.push(event);
    }
    pipeline.finish(generated_at, progress)
}

#[cfg(test)]
mod tests;
