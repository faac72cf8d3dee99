//! Watching one node's audit serial numbers: serials that never arrive become losses, a counter
//! that starts again is a reboot, and one damaged serial is neither.
//!
//! The kernel numbers its events from 0 at boot, one serial per event, and records of
//! concurrent events arrive a few serials out of order. So:
//!
//! * a serial skipped by a small step is *missing*; when it has not turned up after
//!   [`MISSING_WINDOW`] more records (input position, not record time: a log pasted together
//!   out of order, or a clock stepped back, must not decide), it is reported lost;
//! * a serial far from where the counter is ([`FAR`] ahead, or [`REBOOT_DROP`] behind at a time
//!   that goes on) is *suspect*: one record with a damaged serial (one digit changed) must not
//!   split a log into two boots, nor report a million lost serials. The assembler holds the
//!   suspect record and the next ones until the counter's next serials say: [`AGREEING`]
//!   distinct serials continuing from the suspect one confirm it (a reboot, or a loss of that
//!   many serials), a serial back near where the counter was refutes it (the damaged serial is
//!   then ignored);
//! * auditd's start record (`DAEMON_START`, which auditd writes before the kernel sends it
//!   anything) followed by a drop of more than [`REBOOT_DROP_AFTER_DAEMON_START`] is a reboot
//!   at once: after a reboot every record of the new boot follows that record, and after
//!   auditd restarting alone the serials go on.

use std::collections::BTreeMap;

use dockwatch_shared::Timestamp;

/// Records after which a skipped serial that has not turned up is reported lost.
pub const MISSING_WINDOW: u64 = 10_000;
/// A serial this far ahead of the counter is suspect (a forward step this large is a damaged
/// serial more often than a loss; a loss is confirmed by the serials that follow it).
pub const FAR: u64 = 1_000;
/// A serial this much below the highest one seen, at a record time that did not go back, may be
/// the counter starting again: a reboot. Records of concurrent events arrive a few serials out
/// of order, never a thousand; and a log pasted together out of order goes back in time too.
pub const REBOOT_DROP: u64 = 1_000;
/// The same for the first kernel record after auditd's start record, which is evidence enough.
pub const REBOOT_DROP_AFTER_DAEMON_START: u64 = 64;
/// A jump larger than this is the counter restarting (its 32-bit value wrapping, say), not a
/// loss: nothing is reported missing.
pub const SERIAL_RESET: u64 = 100_000_000;
/// Distinct serials continuing from a suspect one (itself included) that confirm it.
pub const AGREEING: u32 = 3;
/// How close (in serials) a serial must be to the suspect run, or to where the counter was, to
/// count as continuing it.
const NEAR: u64 = 256;

/// A range of serials that has not turned up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Missing {
    /// First serial of the range.
    pub start: u64,
    /// Last serial of the range (inclusive).
    pub end: u64,
    /// Record time before the range.
    pub from: Timestamp,
    /// Record time when the range was noticed.
    pub noticed: Timestamp,
}

/// What a serial did.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// Counted: in order, late, or a small step (the serials skipped are now missing).
    Counted,
    /// Far from the counter: the record waits for the serials after it (see the module
    /// documentation); [`SerialTracker::judge`] takes them.
    Suspect,
    /// The counter started again here, after auditd's start record: a reboot.
    Reboot,
}

/// What the serials after a suspect one say of it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not decided yet.
    Undecided,
    /// Enough serials continue from it: a reboot (the counter started again) or a loss.
    Confirmed {
        /// The counter started again (the old boot ended).
        reboot: bool,
    },
    /// A serial came back near where the counter was: the suspect serial was damaged.
    Refuted,
}

#[derive(Clone, Copy, Debug)]
struct Suspect {
    serial: u64,
    time: Timestamp,
    reboot: bool,
    last: u64,
    distinct: u32,
}

#[derive(Clone, Copy, Debug)]
struct Range {
    end: u64,
    noticed_at: u64,
    from: Timestamp,
    noticed: Timestamp,
}

/// The serial numbers of one node.
#[derive(Debug, Default)]
pub struct SerialTracker {
    max: Option<u64>,
    max_time: Timestamp,
    missing: BTreeMap<u64, Range>,
    /// auditd's start record came, and no kernel record since.
    after_daemon_start: bool,
    suspect: Option<Suspect>,
    /// A serial judged damaged: its record is taken without counting it.
    ignore: Option<u64>,
}

impl SerialTracker {
    /// auditd's start record came.
    pub fn daemon_started(&mut self) {
        self.after_daemon_start = true;
    }

    /// Notes `serial`, the record at input position `at` with record time `time`.
    pub fn see(&mut self, serial: u64, time: Timestamp, at: u64) -> Seen {
        if self.ignore == Some(serial) {
            return Seen::Counted;
        }
        self.ignore = None;
        let after_start = std::mem::take(&mut self.after_daemon_start);
        let Some(max) = self.max else {
            self.max = Some(serial);
            self.max_time = time;
            return Seen::Counted;
        };
        if serial > max {
            let step = serial - max;
            if step > FAR {
                return self.suspect(serial, time, false);
            }
            if step > 1 {
                self.missing.insert(
                    max + 1,
                    Range {
                        end: serial - 1,
                        noticed_at: at,
                        from: self.max_time,
                        noticed: time,
                    },
                );
            }
            self.max = Some(serial);
            self.max_time = time;
            return Seen::Counted;
        }
        let drop = max - serial;
        if after_start && drop > REBOOT_DROP_AFTER_DAEMON_START && time >= self.max_time {
            return Seen::Reboot;
        }
        if drop > REBOOT_DROP && time >= self.max_time {
            return self.suspect(serial, time, true);
        }
        if drop > SERIAL_RESET {
            return self.suspect(serial, time, false);
        }
        // A late serial: it fills (part of) a missing range.
        if let Some((&start, &range)) = self.missing.range(..=serial).next_back() {
            if serial <= range.end {
                self.missing.remove(&start);
                if start < serial {
                    self.missing.insert(
                        start,
                        Range {
                            end: serial - 1,
                            ..range
                        },
                    );
                }
                if serial < range.end {
                    self.missing.insert(serial + 1, range);
                }
            }
        }
        Seen::Counted
    }

    fn suspect(&mut self, serial: u64, time: Timestamp, reboot: bool) -> Seen {
        self.suspect = Some(Suspect {
            serial,
            time,
            reboot,
            last: serial,
            distinct: 1,
        });
        Seen::Suspect
    }

    /// Whether a suspect serial is waiting to be judged.
    pub fn suspecting(&self) -> bool {
        self.suspect.is_some()
    }

    /// Takes the serial of a record that came after a suspect one.
    pub fn judge(&mut self, serial: u64) -> Verdict {
        let (Some(s), Some(max)) = (self.suspect.as_mut(), self.max) else {
            return Verdict::Undecided;
        };
        if serial > s.last && serial - s.last <= NEAR {
            s.last = serial;
            s.distinct += 1;
            if s.distinct >= AGREEING {
                return Verdict::Confirmed { reboot: s.reboot };
            }
        } else if serial != s.serial && serial <= max + NEAR && serial + NEAR >= max {
            return Verdict::Refuted;
        }
        Verdict::Undecided
    }

    /// The input ended while a serial was suspect: taken as confirmed when at least one distinct
    /// serial continued from it, else as damaged.
    pub fn judge_at_end(&self) -> Verdict {
        match self.suspect {
            Some(s) if s.distinct >= 2 => Verdict::Confirmed { reboot: s.reboot },
            Some(_) => Verdict::Refuted,
            None => Verdict::Undecided,
        }
    }

    /// The suspect serial started a new run of the counter. For a loss, the serials skipped
    /// become missing (noticed at input position `at`); for a reboot the caller takes the
    /// missing ranges of the old boot ([`SerialTracker::expire`]) and calls
    /// [`SerialTracker::restart`].
    pub fn confirm(&mut self, at: u64) {
        let Some(s) = self.suspect.take() else {
            return;
        };
        if s.reboot {
            return;
        }
        match self.max {
            Some(max) if s.serial > max && s.serial - max <= SERIAL_RESET => {
                self.missing.insert(
                    max + 1,
                    Range {
                        end: s.serial - 1,
                        noticed_at: at,
                        from: self.max_time,
                        noticed: s.time,
                    },
                );
            }
            // The counter restarted (a huge jump either way): nothing is missing.
            _ => self.missing.clear(),
        }
        self.max = Some(s.serial.saturating_sub(1));
        self.max_time = s.time;
    }

    /// The suspect serial was damaged: its record is taken without counting it.
    pub fn refute(&mut self) {
        if let Some(s) = self.suspect.take() {
            self.ignore = Some(s.serial);
        }
    }

    /// Starts counting afresh (after a reboot).
    pub fn restart(&mut self) {
        *self = Self::default();
    }

    /// Removes and returns the missing ranges noticed before input position `before` (all of
    /// them for `None`).
    pub fn expire(&mut self, before: Option<u64>) -> Vec<Missing> {
        self.take_missing(|r| before.is_none_or(|b| r.noticed_at < b))
    }

    /// Removes and returns the missing ranges noticed at a record time before `before` (live:
    /// the stream went quiet, and the wall clock says nothing more is coming).
    pub fn expire_older_than(&mut self, before: Timestamp) -> Vec<Missing> {
        self.take_missing(|r| r.noticed < before)
    }

    /// Removes and returns the missing ranges `expired` picks.
    fn take_missing(&mut self, expired: impl Fn(&Range) -> bool) -> Vec<Missing> {
        let mut out = Vec::new();
        self.missing.retain(|&start, r| {
            if !expired(r) {
                return true;
            }
            out.push(Missing {
                start,
                end: r.end,
                from: r.from,
                noticed: r.noticed,
            });
            false
        });
        out
    }

    /// Whether any range is missing.
    pub fn has_missing(&self) -> bool {
        !self.missing.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp(s * 1_000_000)
    }

    /// Feeds serials (with record times in seconds) as the assembler does: a suspect one and
    /// the ones after it are held until a verdict, then taken again.
    fn feed(tr: &mut SerialTracker, serials: &[(u64, i64)]) -> Vec<&'static str> {
        let mut got = Vec::new();
        let mut held: Vec<(u64, i64)> = Vec::new();
        let mut queue: std::collections::VecDeque<(u64, i64)> = serials.iter().copied().collect();
        let mut at = 0;
        while let Some((serial, sec)) = queue.pop_front() {
            at += 1;
            if tr.suspecting() {
                held.push((serial, sec));
                match tr.judge(serial) {
                    Verdict::Confirmed { reboot } => {
                        got.push(if reboot { "reboot" } else { "jump" });
                        if reboot {
                            tr.restart();
                        } else {
                            tr.confirm(at);
                        }
                    }
                    Verdict::Refuted => {
                        got.push("damaged");
                        tr.refute();
                    }
                    Verdict::Undecided => continue,
                }
                for h in held.drain(..).rev() {
                    queue.push_front(h);
                }
                continue;
            }
            match tr.see(serial, t(sec), at) {
                Seen::Counted => {}
                Seen::Suspect => {
                    got.push("suspect");
                    held.push((serial, sec));
                }
                Seen::Reboot => got.push("reboot at once"),
            }
        }
        got
    }

    #[test]
    fn one_damaged_serial_is_neither_a_reboot_nor_a_loss() {
        // 105434 logged as 105134 (a drop of 300: in order), as 5434 (a drop of 100,000) and
        // as 905434 (a jump of 800,000).
        for bad in [5_434, 905_434] {
            let mut tr = SerialTracker::default();
            let got = feed(
                &mut tr,
                // The damaged record's sibling (its PROCTITLE) keeps the right serial.
                &[
                    (105_432, 1),
                    (105_433, 1),
                    (bad, 2),
                    (105_434, 2),
                    (105_435, 3),
                ],
            );
            assert_eq!(got, ["suspect", "damaged"], "{bad}");
            assert!(!tr.has_missing(), "{bad}: {:?}", tr.missing);
        }
    }

    #[test]
    fn a_reboot_is_confirmed_by_the_serials_after_it() {
        let mut tr = SerialTracker::default();
        let got = feed(
            &mut tr,
            &[
                (5_000, 10),
                (5_001, 10),
                (12, 20),
                (12, 20),
                (13, 20),
                (15, 21),
            ],
        );
        assert_eq!(got, ["suspect", "reboot"]);
        // A drop with the time going back is a log pasted together out of order: counted.
        let mut tr = SerialTracker::default();
        assert!(feed(&mut tr, &[(5_000, 10), (12, 5), (13, 5)]).is_empty());
    }

    #[test]
    fn a_large_loss_is_confirmed_and_reported_missing() {
        let mut tr = SerialTracker::default();
        let got = feed(&mut tr, &[(100, 1), (50_000, 2), (50_001, 2), (50_002, 2)]);
        assert_eq!(got, ["suspect", "jump"]);
        let missing = tr.expire(None);
        assert_eq!(
            missing.iter().map(|m| (m.start, m.end)).collect::<Vec<_>>(),
            [(101, 49_999)]
        );
    }

    #[test]
    fn missing_serials_are_lost_by_input_position_not_record_time() {
        let mut tr = SerialTracker::default();
        feed(&mut tr, &[(10, 100), (13, 100)]);
        // A clock stepped back an hour: the late serials still fill the range.
        feed(&mut tr, &[(11, 100 - 3_600)]);
        assert!(tr.expire(Some(2)).is_empty(), "noticed at position 2");
        let lost = tr.expire(Some(3));
        assert_eq!(
            lost.iter().map(|m| (m.start, m.end)).collect::<Vec<_>>(),
            [(12, 12)]
        );
    }

    #[test]
    fn after_auditds_start_record_a_drop_is_a_reboot_at_once() {
        let mut tr = SerialTracker::default();
        feed(&mut tr, &[(300, 1)]);
        tr.daemon_started();
        assert_eq!(tr.see(50, t(5), 1), Seen::Reboot);
        // auditd restarting alone: the serials go on.
        let mut tr = SerialTracker::default();
        feed(&mut tr, &[(300, 1)]);
        tr.daemon_started();
        assert_eq!(tr.see(301, t(5), 1), Seen::Counted);
    }

    #[test]
    fn at_the_end_a_suspect_serial_with_one_follower_is_taken() {
        let mut tr = SerialTracker::default();
        assert_eq!(
            feed(&mut tr, &[(100, 1), (90_000, 2), (90_001, 2)]),
            ["suspect"]
        );
        assert_eq!(tr.judge_at_end(), Verdict::Confirmed { reboot: false });
        let mut tr = SerialTracker::default();
        feed(&mut tr, &[(100, 1), (90_000, 2)]);
        assert_eq!(tr.judge_at_end(), Verdict::Refuted);
    }
}
