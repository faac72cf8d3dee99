//! The periodic duties of a live recording, on one task: the recorder's clock tick, the
//! kernel's audit `lost` counter, keeping a local database server out of audit across its
//! restarts, and the status line. Each duty has its own interval; all stop together when the
//! recording is cancelled.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dockwatch_shared::Timestamp;
use dockwatch_shared::model::event::{GapReason, Pid, Source};
use tokio::time::{Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::gap;
use crate::enrich::proc_info::pids_listening_on;
use crate::kernel::audit_netlink::{AuditControl, AuditError, AuditSession};
use crate::output::sink::SinkStats;
use crate::recording::recorder::{HostIdentity, Input};

/// How often the recorder gets a clock tick (it completes what waited while input was quiet).
const TICK: Duration = Duration::from_secs(1);
/// How often the kernel's audit `lost` counter is read.
const LOST_CHECK: Duration = Duration::from_secs(1);
/// How often the local database server's pids are checked.
const EXCLUDE_CHECK: Duration = Duration::from_secs(2);

/// The kernel's audit `lost` counter, read on a socket of its own; a rise becomes a gap.
pub(super) struct LostCounter {
    ctl: AuditControl,
    last: Option<u32>,
    since: Timestamp,
    id: HostIdentity,
    /// Events the kernel lost so far (for the status line and the exit summary).
    total: Arc<AtomicU64>,
}

impl LostCounter {
    /// Opens the control socket and reads the counter's start value.
    pub(super) fn open(id: HostIdentity, total: Arc<AtomicU64>) -> Result<Self, AuditError> {
        let mut ctl = AuditControl::open()?;
        let last = ctl.status().map(|s| s.lost).ok();
        Ok(Self {
            ctl,
            last,
            since: Timestamp::now(),
            id,
            total,
        })
    }

    /// Reads the counter; returns the gap to record when it rose.
    fn check(&mut self) -> Option<Input> {
        let s = self.ctl.status().ok()?;
        let mut found = None;
        if let Some(prev) = self.last {
            let lost = s.lost.wrapping_sub(prev);
            if lost > 0 && lost < u32::MAX / 2 {
                self.total.fetch_add(u64::from(lost), Ordering::Relaxed);
                let detail = format!(
                    "kernel audit lost counter {prev} -> {} (backlog {} of {})",
                    s.lost, s.backlog, s.backlog_limit
                );
                found = Some(Input::Events(vec![gap(
                    &self.id,
                    Source::Audit,
                    GapReason::AuditLost,
                    Some(u64::from(lost)),
                    self.since,
                    detail,
                )]));
            }
        }
        self.last = Some(s.lost);
        self.since = Timestamp::now();
        found
    }
}

/// Keeps the local database server excluded from audit across its restarts: while the pids
/// listening on `port` live, only checks that they do (cheap); when one is gone, looks for the
/// listener again (`/proc/net/tcp`, then the fds of every process only when the port is
/// listened on) and swaps the rules and the recorder's exclusion set to the new pids (dead pids
/// are dropped too: a reused pid must not hide another program).
pub(super) struct DatabaseExclusion {
    /// The database server's port.
    pub(super) port: u16,
    /// The pids excluded now.
    pub(super) server: Vec<Pid>,
    /// The audit session whose rules exclude them (`None` once it was restored).
    pub(super) session: Arc<Mutex<Option<AuditSession>>>,
}

impl DatabaseExclusion {
    /// Checks the server; returns the recorder's new exclusion set when it changed.
    fn check(&mut self) -> Option<Input> {
        let alive = |p: &Pid| std::path::Path::new(&format!("/proc/{p}")).exists();
        if !self.server.is_empty() && self.server.iter().all(alive) {
            return None;
        }
        let mut now = pids_listening_on(self.port);
        now.sort_unstable();
        if now == self.server {
            return None;
        }
        tracing::info!(old = ?self.server, new = ?now, port = self.port, "the local database server changed: updating the audit exclusions");
        let godo = std::process::id() as Pid;
        let pids: Vec<u32> = std::iter::once(godo)
            .chain(now.iter().copied())
            .map(|p| p as u32)
            .collect();
        let updated = {
            let mut session = self.session.lock().ok()?;
            session.as_mut()?.set_exclusions(&pids)
        };
        match updated {
            Ok(()) => self.server.clone_from(&now),
            // Tried again at the next check.
            Err(e) => {
                tracing::warn!("could not update the audit rules for the new database server: {e}")
            }
        }
        let set: HashSet<Pid> = std::iter::once(godo).chain(now).collect();
        Some(Input::Exclude(set))
    }
}

/// The status line on stderr every `every`.
pub(super) struct StatusLine {
    /// How often.
    pub(super) every: Duration,
    /// The output stage's counters.
    pub(super) stats: Arc<SinkStats>,
    /// Events the kernel lost so far.
    pub(super) lost: Arc<AtomicU64>,
}

impl StatusLine {
    fn print(&self, prev: &mut u64) {
        let now = self.stats.accepted.load(Ordering::Relaxed);
        eprintln!(
            "godo: {:.0} events/s, stored {}, backlog {} events ({} bytes), lost {} (kernel) {} (backlog full)",
            now.saturating_sub(*prev) as f64 / self.every.as_secs_f64().max(0.001),
            self.stats.stored.load(Ordering::Relaxed),
            self.stats.backlog_events.load(Ordering::Relaxed),
            self.stats.backlog_bytes.load(Ordering::Relaxed),
            self.lost.load(Ordering::Relaxed),
            self.stats.dropped.load(Ordering::Relaxed),
        );
        *prev = now;
    }
}

/// The duties, and where their findings go.
pub(super) struct Housekeeping {
    /// The recorder's queue.
    pub(super) recorder: SyncSender<Input>,
    /// The kernel's lost counter, unless its socket could not be opened.
    pub(super) lost: Option<LostCounter>,
    /// The local database server, when there is one.
    pub(super) exclusion: Option<DatabaseExclusion>,
    /// The status line, when asked for.
    pub(super) status: Option<StatusLine>,
}

/// An interval whose first tick is one period away, and that does not catch up on ticks
/// missed while a duty ran long.
fn every(period: Duration) -> Interval {
    let mut i = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    i.set_missed_tick_behavior(MissedTickBehavior::Delay);
    i
}

/// Waits for the next tick of `interval`, or forever when there is no such duty.
async fn next(interval: &mut Option<Interval>) {
    match interval {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Runs the duties until `cancel` is cancelled or the recorder's queue is gone. Runs on a
/// multi-threaded runtime: the duties' blocking calls (netlink, `/proc`, a full queue) run in
/// place, off the runtime's other tasks.
pub(super) async fn run(mut h: Housekeeping, cancel: CancellationToken) {
    let mut tick = every(TICK);
    let mut lost = h.lost.as_ref().map(|_| every(LOST_CHECK));
    let mut exclusion = h.exclusion.as_ref().map(|_| every(EXCLUDE_CHECK));
    let mut status = h.status.as_ref().map(|s| every(s.every));
    let mut accepted_before = 0;
    loop {
        let found = tokio::select! {
            () = cancel.cancelled() => return,
            _ = tick.tick() => {
                // A tick only matters when input is quiet: with the queue full, skip it.
                match h.recorder.try_send(Input::Tick) {
                    Ok(()) | Err(TrySendError::Full(_)) => None,
                    Err(TrySendError::Disconnected(_)) => return,
                }
            }
            () = next(&mut lost) => {
                tokio::task::block_in_place(|| h.lost.as_mut().and_then(LostCounter::check))
            }
            () = next(&mut exclusion) => {
                tokio::task::block_in_place(|| h.exclusion.as_mut().and_then(DatabaseExclusion::check))
            }
            () = next(&mut status) => {
                if let Some(s) = &h.status {
                    s.print(&mut accepted_before);
                }
                None
            }
        };
        if let Some(input) = found {
            // Gaps and exclusions must not be lost: wait for room in the queue.
            if tokio::task::block_in_place(|| h.recorder.send(input)).is_err() {
                return;
            }
        }
    }
}
