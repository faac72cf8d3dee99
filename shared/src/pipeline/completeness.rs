//! What is missing from, or repeated in, an event stream read from a file.
//!
//! Every event godo writes is unique by `(run, seq)`, and each run numbers its events from 0
//! with no hole. A capture file read back can therefore tell on itself:
//!
//! * an event read twice (a capture concatenated with itself, events re-sent after an outage
//!   and also present in the file) has a `(run, seq)` already seen: it is dropped, so it cannot
//!   make phantom processes;
//! * events missing without a trace (a frame cut out of a `.zst` file, lines removed) leave a
//!   hole in their run's seq numbers: a `capture_seq_jump` gap with the exact count;
//! * damage the reader reported (a bad or overlong line, a corrupt frame, a cut, a missing end
//!   record) becomes a `capture_damaged` gap between the events around it. When those events are
//!   of one run, the seq numbers missing between them say exactly how many events the damage
//!   cost;
//! * an end record whose count differs from the events read before it is a `capture_damaged`
//!   gap for the events the holes in seq numbers do not already show (lines removed at the end
//!   of a run leave no hole), and for lines added.
//!
//! Memory stays small whatever the size of the file: each run keeps its seq numbers as ranges
//! (one range for an intact run).

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use crate::model::event::{Event, GapReason};
use crate::model::investigation::GapRecord;
use crate::model::time::Timestamp;
use crate::storage::capture::CaptureError;

/// Damage details kept per gap (the count is kept whatever the number).
const DETAILS_PER_GAP: usize = 3;

/// Whether an event was new.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// First time its `(run, seq)` was read.
    New,
    /// Its `(run, seq)` was read before: drop it.
    Duplicate,
}

/// An event's place: its run, seq, time and boot (indices into the interned names).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Mark {
    run: usize,
    seq: u64,
    time: Timestamp,
    boot: usize,
}

/// Consecutive seq numbers `start..=end` of one run, read.
#[derive(Copy, Clone, Debug)]
struct Span {
    end: u64,
    first: Timestamp,
    last: Timestamp,
    first_boot: usize,
    last_boot: usize,
}

/// Damage reports met between the same two events.
#[derive(Debug)]
struct Damage {
    before: Option<Mark>,
    after: Option<Mark>,
    details: Vec<String>,
    reports: u64,
    /// Lines the reports say were lost; `None` when a report could not count them.
    lines: Option<u64>,
}

/// An end record that counted other than the events read before it.
#[derive(Debug)]
struct CountMismatch {
    before: Option<Mark>,
    written: u64,
    read: u64,
    detail: String,
}

/// A gap for one (host, boot).
#[derive(Clone, Debug, PartialEq)]
pub struct BootGap {
    /// The host whose events are missing.
    pub host: String,
    /// The boot of that host they belong to.
    pub boot_id: String,
    /// How many are missing, where, and why.
    pub gap: GapRecord,
}

/// The ledger of one stream: feed it every event ([`Completeness::event`]) and every damage
/// report ([`Completeness::damage`]) in file order, then take the gaps.
#[derive(Debug, Default)]
pub struct Completeness {
    run_ids: FxHashMap<String, usize>,
    runs: Vec<BTreeMap<u64, Span>>,
    boot_ids: FxHashMap<(String, String), usize>,
    boots: Vec<(String, String)>,
    last: Option<Mark>,
    damage: Vec<Damage>,
    count_mismatches: Vec<CountMismatch>,
    /// Whether the last damage entry still waits for the event after it.
    open: bool,
    duplicates: u64,
}

impl Completeness {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Events dropped as repeats so far.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    fn intern_run(&mut self, run: &str) -> usize {
        if let Some(&i) = self.run_ids.get(run) {
            return i;
        }
        self.runs.push(BTreeMap::new());
        self.run_ids.insert(run.to_owned(), self.runs.len() - 1);
        self.runs.len() - 1
    }

    fn intern_boot(&mut self, host: &str, boot_id: &str) -> usize {
        // A lookup without allocating: the pair is owned only when new.
        if let Some(i) = self
            .boots
            .last()
            .filter(|(h, b)| h == host && b == boot_id)
            .map(|_| self.boots.len() - 1)
        {
            return i;
        }
        let key = (host.to_owned(), boot_id.to_owned());
        if let Some(&i) = self.boot_ids.get(&key) {
            return i;
        }
        self.boots.push(key.clone());
        self.boot_ids.insert(key, self.boots.len() - 1);
        self.boots.len() - 1
    }

    /// Records `event`; a repeat of an event already read is [`Seen::Duplicate`].
    pub fn event(&mut self, event: &Event) -> Seen {
        let run = self.intern_run(&event.run);
        let boot = self.intern_boot(&event.host, &event.boot_id);
        let seq = event.seq;
        let spans = &mut self.runs[run];
        let below = spans.range(..=seq).next_back().map(|(&s, &span)| (s, span));
        if below.is_some_and(|(_, span)| span.end >= seq) {
            self.duplicates += 1;
            return Seen::Duplicate;
        }
        let mark = Mark {
            run,
            seq,
            time: event.time,
            boot,
        };
        let above = seq
            .checked_add(1)
            .and_then(|next| spans.get(&next).copied().map(|span| (next, span)));
        let mut span = Span {
            end: seq,
            first: event.time,
            last: event.time,
            first_boot: boot,
            last_boot: boot,
        };
        let mut start = seq;
        if let Some((s, lower)) = below.filter(|(_, b)| b.end.checked_add(1) == Some(seq)) {
            start = s;
            span.first = lower.first;
            span.first_boot = lower.first_boot;
        }
        if let Some((s, upper)) = above {
            spans.remove(&s);
            span.end = upper.end;
            span.last = upper.last;
            span.last_boot = upper.last_boot;
        }
        spans.insert(start, span);
        if self.open {
            if let Some(d) = self.damage.last_mut() {
                d.after = Some(mark);
            }
            self.open = false;
        }
        self.last = Some(mark);
        Seen::New
    }

    /// Records a capture reader's report of damage at this point of the stream (what the
    /// loader does with every error item of a [`CaptureReader`](crate::storage::capture::CaptureReader)
    /// but failing to open the file).
    pub fn reader_error(&mut self, error: &CaptureError) {
        let lines = match error {
            CaptureError::BadLine { .. } | CaptureError::LineTooLong { .. } => Some(1),
            &CaptureError::CountMismatch { written, read, .. } => {
                self.count_mismatches.push(CountMismatch {
                    before: self.last,
                    written,
                    read,
                    detail: error.to_string(),
                });
                return;
            }
            _ => None,
        };
        self.damage(error.to_string(), lines);
    }

    /// Records damage the reader met at this point of the stream: `detail` says what and where,
    /// `lines` how many lines it cost when the reader could count them.
    pub fn damage(&mut self, detail: String, lines: Option<u64>) {
        if !self.open {
            self.damage.push(Damage {
                before: self.last,
                after: None,
                details: Vec::new(),
                reports: 0,
                lines: Some(0),
            });
            self.open = true;
        }
        let Some(d) = self.damage.last_mut() else {
            return;
        };
        d.reports += 1;
        if d.details.len() < DETAILS_PER_GAP {
            d.details.push(detail);
        }
        d.lines = match (d.lines, lines) {
            (Some(a), Some(b)) => Some(a.saturating_add(b)),
            _ => None,
        };
    }

    /// The gaps: one per stretch of damage, one per hole in a run's seq numbers that no damage
    /// explains. Each names the boots of the events around it (a gap between two boots is
    /// given to both; damage with no event around it is given to every boot read).
    pub fn gaps(&self) -> Vec<BootGap> {
        // Holes per run: (start, end, time before, time after, boot before, boot after).
        let mut holes: Vec<Vec<Hole>> = self.runs.iter().map(holes_of).collect();
        let mut out = Vec::new();
        for d in &self.damage {
            let mut lost = d.lines;
            if let (Some(a), Some(b)) = (d.before, d.after) {
                if a.run == b.run && b.seq > a.seq {
                    let explained: u64 = holes[a.run]
                        .iter_mut()
                        .filter(|h| !h.explained && h.start > a.seq && h.end < b.seq)
                        .map(|h| {
                            h.explained = true;
                            h.end - h.start + 1
                        })
                        .sum();
                    if explained > 0 {
                        lost = Some(explained);
                    }
                }
            }
            let from = d.before.or(d.after).map_or(Timestamp(0), |m| m.time);
            let to = d.after.or(d.before).map_or(Timestamp(0), |m| m.time);
            let mut detail = d.details.join("; ");
            if d.reports > d.details.len() as u64 {
                detail.push_str(&format!(
                    "; and {} more reports",
                    d.reports - d.details.len() as u64
                ));
            }
            let gap = GapRecord {
                reason: GapReason::CaptureDamaged,
                lost,
                from,
                to: to.max(from),
                detail: Some(detail),
            };
            let boots: Vec<usize> = match (d.before, d.after) {
                (None, None) => (0..self.boots.len()).collect(),
                (a, b) => a.iter().chain(b.iter()).map(|m| m.boot).collect(),
            };
            self.push_for(&mut out, &boots, gap);
        }
        // Events an end record misses that no hole shows (and lines added): holes are reported
        // below with their exact place, so only the rest is a gap of its own.
        let mut shown_by_holes: u64 = holes
            .iter()
            .flatten()
            .filter(|h| !h.explained)
            .map(|h| h.end - h.start + 1)
            .sum();
        for m in &self.count_mismatches {
            let missing = m.written.saturating_sub(m.read);
            let shown = missing.min(shown_by_holes);
            shown_by_holes -= shown;
            if missing == shown && m.read <= m.written {
                continue;
            }
            let at = m.before.map_or(Timestamp(0), |b| b.time);
            let gap = GapRecord {
                reason: GapReason::CaptureDamaged,
                lost: Some(missing - shown),
                from: at,
                to: at,
                detail: Some(m.detail.clone()),
            };
            let boots: Vec<usize> = match m.before {
                Some(b) => vec![b.boot],
                None => (0..self.boots.len()).collect(),
            };
            self.push_for(&mut out, &boots, gap);
        }
        let run_names: Vec<&str> = {
            let mut names = vec![""; self.runs.len()];
            for (name, &i) in &self.run_ids {
                names[i] = name;
            }
            names
        };
        for (run, holes) in holes.iter().enumerate() {
            for h in holes.iter().filter(|h| !h.explained) {
                let gap = GapRecord {
                    reason: GapReason::CaptureSeqJump,
                    lost: Some(h.end - h.start + 1),
                    from: h.before.min(h.after),
                    to: h.after.max(h.before),
                    detail: Some(format!(
                        "events {}..={} of run {} are not in the input",
                        h.start, h.end, run_names[run]
                    )),
                };
                self.push_for(&mut out, &[h.boot_before, h.boot_after], gap);
            }
        }
        out
    }

    fn push_for(&self, out: &mut Vec<BootGap>, boots: &[usize], gap: GapRecord) {
        let mut seen: Vec<usize> = Vec::new();
        for &b in boots {
            if seen.contains(&b) {
                continue;
            }
            seen.push(b);
            let (host, boot_id) = &self.boots[b];
            out.push(BootGap {
                host: host.clone(),
                boot_id: boot_id.clone(),
                gap: gap.clone(),
            });
        }
    }
}

/// Seq numbers `start..=end` of a run that were not read.
#[derive(Debug)]
struct Hole {
    start: u64,
    end: u64,
    before: Timestamp,
    after: Timestamp,
    boot_before: usize,
    boot_after: usize,
    explained: bool,
}

/// The holes of one run: before its first range (runs start at seq 0) and between ranges.
fn holes_of(spans: &BTreeMap<u64, Span>) -> Vec<Hole> {
    let mut out = Vec::new();
    let mut prev: Option<(u64, Span)> = None;
    for (&start, &span) in spans {
        let (hole_start, before, boot_before) = match prev {
            Some((_, p)) => (p.end + 1, p.last, p.last_boot),
            None => (0, span.first, span.first_boot),
        };
        if start > hole_start {
            out.push(Hole {
                start: hole_start,
                end: start - 1,
                before,
                after: span.first,
                boot_before,
                boot_after: span.first_boot,
                explained: false,
            });
        }
        prev = Some((start, span));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::testkit::{exit, t};

    fn ev(run: &str, seq: u64, time: i64) -> Event {
        let mut e = exit(time, 100);
        e.run = run.into();
        e.seq = seq;
        e
    }

    fn feed(c: &mut Completeness, run: &str, seqs: impl IntoIterator<Item = u64>) {
        for s in seqs {
            c.event(&ev(run, s, 1_000 + s as i64));
        }
    }

    #[test]
    fn an_intact_run_has_no_gap_and_repeats_are_dropped() {
        let mut c = Completeness::new();
        feed(&mut c, "r", 0..1000);
        for s in [0, 500, 999] {
            assert_eq!(c.event(&ev("r", s, 5)), Seen::Duplicate);
        }
        // The same events again, in any order: all repeats.
        for s in (0..1000).rev() {
            assert_eq!(c.event(&ev("r", s, 5)), Seen::Duplicate);
        }
        assert_eq!(c.duplicates(), 1003);
        assert_eq!(c.runs[0].len(), 1, "one range");
        assert!(c.gaps().is_empty());
    }

    #[test]
    fn events_missing_from_a_run_are_a_gap_with_their_count_and_times() {
        let mut c = Completeness::new();
        feed(&mut c, "r", (0..10).chain(136..200));
        feed(&mut c, "other", 3..5);
        let gaps = c.gaps();
        assert_eq!(gaps.len(), 2, "{gaps:?}");
        let jump = &gaps.iter().find(|g| g.gap.lost == Some(126)).unwrap().gap;
        assert_eq!(jump.reason, GapReason::CaptureSeqJump);
        assert_eq!((jump.from, jump.to), (t(1_009), t(1_136)));
        assert!(
            jump.detail
                .as_deref()
                .unwrap()
                .contains("10..=135 of run r")
        );
        let head = &gaps.iter().find(|g| g.gap.lost == Some(3)).unwrap().gap;
        assert!(
            head.detail
                .as_deref()
                .unwrap()
                .contains("0..=2 of run other")
        );
    }

    #[test]
    fn damage_between_events_of_one_run_costs_the_seqs_missing_there() {
        let mut c = Completeness::new();
        feed(&mut c, "r", 0..10);
        c.damage("damaged zstd data at byte 100".into(), None);
        c.damage("line 12: not a valid event".into(), Some(1));
        feed(&mut c, "r", 30..40);
        c.damage("the last line is incomplete".into(), Some(1));
        let gaps = c.gaps();
        assert_eq!(
            gaps.len(),
            2,
            "one gap per stretch, the hole not counted twice: {gaps:?}"
        );
        let g = &gaps[0].gap;
        assert_eq!(g.reason, GapReason::CaptureDamaged);
        assert_eq!(g.lost, Some(20));
        assert_eq!((g.from, g.to), (t(1_009), t(1_030)));
        assert!(g.detail.as_deref().unwrap().contains("byte 100; line 12"));
        let tail = &gaps[1].gap;
        assert_eq!(
            tail.lost,
            Some(1),
            "at the end only the reader's count is known"
        );
        assert_eq!((tail.from, tail.to), (t(1_039), t(1_039)));
    }

    #[test]
    fn a_gap_between_two_boots_goes_to_both() {
        let mut c = Completeness::new();
        c.event(&ev("r", 0, 1));
        let mut other = ev("r", 5, 9);
        other.boot_id = "b2".into();
        c.event(&other);
        let gaps = c.gaps();
        let boots: Vec<&str> = gaps.iter().map(|g| g.boot_id.as_str()).collect();
        assert_eq!(boots.len(), 2, "{gaps:?}");
        assert!(boots.contains(&"b2"));
        assert!(gaps.iter().all(|g| g.gap.lost == Some(4)));
    }

    fn count_mismatch(written: u64, read: u64) -> CaptureError {
        CaptureError::CountMismatch {
            path: "c.jsonl".into(),
            line: read + 1,
            written,
            read,
        }
    }

    #[test]
    fn an_end_records_count_is_a_gap_only_for_what_no_hole_shows() {
        // The last 5 events of the run removed: no hole, so the count is the only witness.
        let mut c = Completeness::new();
        feed(&mut c, "r", 0..10);
        c.reader_error(&count_mismatch(15, 10));
        let gaps = c.gaps();
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert_eq!(gaps[0].gap.reason, GapReason::CaptureDamaged);
        assert_eq!(gaps[0].gap.lost, Some(5));
        assert!(
            gaps[0]
                .gap
                .detail
                .as_deref()
                .is_some_and(|d| d.contains("counts 15"))
        );

        // Events 3..=5 removed from the middle: the hole says where, the count adds nothing.
        let mut c = Completeness::new();
        feed(&mut c, "r", (0..3).chain(6..10));
        c.reader_error(&count_mismatch(10, 7));
        let gaps = c.gaps();
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert_eq!(gaps[0].gap.reason, GapReason::CaptureSeqJump);
        assert_eq!(gaps[0].gap.lost, Some(3));

        // A line added: nothing lost, but the capture was edited.
        let mut c = Completeness::new();
        feed(&mut c, "r", 0..10);
        c.reader_error(&count_mismatch(9, 10));
        let gaps = c.gaps();
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert_eq!(gaps[0].gap.lost, Some(0));
    }
}
