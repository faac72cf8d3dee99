//! Serial and reboot tracking for the [`Assembler`]: a suspect serial decided (a reboot, a large
//! loss, or a damaged serial), a reboot's consequences (open events completed, a boot id of its
//! own, the process tree forgotten), and gaps for serials that never arrived.

use dockwatch_shared::model::event::{AuditOrigin, Gap, GapReason};
use dockwatch_shared::{Event, EventKind, Source, Timestamp};

use super::super::serials::{Missing, SerialTracker, Verdict};
use super::{Assembler, Key, Output, Pending};
use crate::recording::audit::record::Record;

impl Assembler {
    /// Decides a suspect serial and takes the records held with it.
    pub(super) fn resolve(&mut self, verdict: Verdict, out: &mut dyn Output) {
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

    /// Takes the missing serial ranges `expire` gives up on, from every node's tracker, and
    /// reports them as gaps.
    pub(super) fn expire_serials(
        &mut self,
        mut expire: impl FnMut(&mut SerialTracker) -> Vec<Missing>,
        out: &mut dyn Output,
    ) {
        let mut expired = Vec::new();
        for (&node, tracker) in &mut self.serials {
            expired.extend(expire(tracker).into_iter().map(|m| (node, m)));
        }
        self.report_missing(expired, out);
    }

    pub(super) fn report_missing(
        &mut self,
        mut expired: Vec<(u64, Missing)>,
        out: &mut dyn Output,
    ) {
        expired.sort_unstable_by_key(|&(node, m)| (node, m.start));
        for (node, m) in expired {
            self.serial_gap(node, m.start, m.end, m.from, m.noticed, out);
        }
    }

    /// The records of `node` show a reboot: what was open belongs to the old boot. Its
    /// incomplete events are completed, its missing serials reported, its process tree
    /// forgotten (pids start again), and the node's later events get a boot id of their own:
    /// the first one's with `-2`, `-3`... appended (the same for every import of the log).
    pub(super) fn reboot(&mut self, node: u64, out: &mut dyn Output) {
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
        self.lineage.forget_node(node);
        let boot = self.boots.get(&node).map_or(1, |(n, _)| *n) + 1;
        self.boots
            .insert(node, (boot, format!("{}-{boot}", self.boot_id)));
    }

    pub(super) fn boot_of(&self, node: u64) -> String {
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
    pub(super) fn emit_gap(
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
        let kind = EventKind::Gap(Gap {
            reason,
            lost,
            from: from.min(to),
            to,
            detail: Some(detail),
        });
        out.event(self.event(node, to, None, kind));
    }

    /// An event of `node`'s host and boot, from audit, not yet stamped (`run` empty, `seq` 0:
    /// the output stage stamps it).
    pub(super) fn event(
        &self,
        node: u64,
        time: Timestamp,
        audit: Option<AuditOrigin>,
        kind: EventKind,
    ) -> Event {
        Event {
            host: self.host_of(node),
            boot_id: self.boot_of(node),
            run: String::new(),
            seq: 0,
            time,
            source: Source::Audit,
            audit,
            kind,
        }
    }

    pub(super) fn host_of(&self, node: u64) -> String {
        self.nodes
            .get(&node)
            .cloned()
            .unwrap_or_else(|| self.host.clone())
    }
}
