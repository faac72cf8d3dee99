//! Every process's table, by process id, optionally bounded (least recently used go first).

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use super::table::FdTable;
use crate::model::event::Pid;

/// The per-process tables, each with the tick of its last use, and at most `max` of them.
///
/// An imported log rarely says when a process ends, so an import keeps the table of every pid
/// it saw; pid reuse bounds that by `pid_max`, which can be 4 million. A bounded map drops the
/// least recently used eighth when it is full: those processes have most likely exited, and
/// when one has not, its later uses carry no file (counted in [`Tables::dropped`]). Ages are
/// computed with wrapping arithmetic, so only a process idle for 4 billion steps is misjudged.
///
/// A `HashTable` of entries rather than a `HashMap<Pid, (u32, FdTable)>`: the map's
/// `(key, (tick, table))` pairs cannot use the padding beside the key, and an import holds one
/// entry for every process of the log.
#[derive(Debug)]
pub(super) struct Tables<F> {
    map: HashTable<Entry<F>>,
    clock: u32,
    max: Option<usize>,
    dropped: u64,
}

#[derive(Debug)]
struct Entry<F> {
    tgid: Pid,
    used: u32,
    table: FdTable<F>,
}

fn hash(tgid: Pid) -> u64 {
    FxBuildHasher.hash_one(tgid)
}

impl<F: Clone> Tables<F> {
    pub(super) fn new(max: Option<usize>) -> Self {
        Self {
            map: HashTable::new(),
            clock: 0,
            max: max.map(|m| m.max(8)),
            dropped: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    pub(super) fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Advances the use clock (once per step).
    pub(super) fn tick(&mut self) {
        self.clock = self.clock.wrapping_add(1);
    }

    pub(super) fn get(&self, tgid: Pid) -> Option<&FdTable<F>> {
        self.map
            .find(hash(tgid), |e| e.tgid == tgid)
            .map(|e| &e.table)
    }

    pub(super) fn contains(&self, tgid: Pid) -> bool {
        self.get(tgid).is_some()
    }

    /// The table of `tgid`, marked as used now.
    pub(super) fn get_mut(&mut self, tgid: Pid) -> Option<&mut FdTable<F>> {
        let clock = self.clock;
        let e = self.map.find_mut(hash(tgid), |e| e.tgid == tgid)?;
        e.used = clock;
        Some(&mut e.table)
    }

    /// The table of `tgid`, created empty when missing.
    pub(super) fn get_or_empty(&mut self, tgid: Pid) -> &mut FdTable<F> {
        if !self.contains(tgid) {
            self.insert(tgid, FdTable::new());
        }
        let clock = self.clock;
        let e = self
            .map
            .entry(hash(tgid), |e| e.tgid == tgid, |e| hash(e.tgid))
            .or_insert_with(|| Entry {
                tgid,
                used: clock,
                table: FdTable::new(),
            })
            .into_mut();
        e.used = clock;
        &mut e.table
    }

    pub(super) fn insert(&mut self, tgid: Pid, table: FdTable<F>) {
        let used = self.clock;
        match self.map.find_mut(hash(tgid), |e| e.tgid == tgid) {
            Some(e) => *e = Entry { tgid, used, table },
            None => {
                self.map
                    .insert_unique(hash(tgid), Entry { tgid, used, table }, |e| hash(e.tgid));
                self.bound();
            }
        }
    }

    pub(super) fn remove(&mut self, tgid: Pid) -> Option<FdTable<F>> {
        let found = self.map.find_entry(hash(tgid), |e| e.tgid == tgid).ok()?;
        Some(found.remove().0.table)
    }

    fn bound(&mut self) {
        let Some(max) = self.max.filter(|&m| self.map.len() > m) else {
            return;
        };
        let keep = max - max / 8;
        // Oldest first; the pid breaks ties, so the same input always drops the same tables.
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
