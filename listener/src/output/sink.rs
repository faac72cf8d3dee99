//! The output stage: stamps `run` and `seq`, writes the capture file, and feeds the database
//! through a bounded backlog.
//!
//! Two tasks share a [`Backlog`]: the intake takes batches from the recorder, stamps them
//! (`seq` in emission order), writes them to the capture file at once, and queues them for the
//! database; the writer inserts the oldest queued events in batches and removes them only once
//! the database has them. While the database is down (at start or later) events wait in the
//! backlog and go in, in order, when it returns; a retried batch is safe because every event has
//! the idempotent `_id` `<run>:<seq>`.
//!
//! When the backlog is full the **newest** events are dropped, not the oldest: the oldest hold
//! the start-up snapshot and the beginning of whatever is happening (the entry point of an
//! attack), which later events cannot replace, and keeping them keeps the database a gap-marked
//! prefix of the run. When there is room again a [`GapReason::BacklogFull`] event records how
//! many were dropped and between which times. The capture file (local, never down) has them.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dockwatch_shared::Timestamp;
use dockwatch_shared::model::event::{Event, EventKind, Gap, GapReason, Source};
use dockwatch_shared::storage::capture::CaptureError;
use tokio::sync::{Notify, mpsc};

/// Where stored events go: the database (or a test double that fails on demand).
pub trait EventStore: Send + 'static {
    /// Why an insert failed (logged; the insert is tried again).
    type Error: std::fmt::Display + Send;

    /// Stores `events` (idempotently: the same event twice is stored once). An error means
    /// "try again later"; the events stay in the backlog.
    fn insert(&mut self, events: &[Event]) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Closes the connection once the output stage is done with it.
    fn close(self) -> impl Future<Output = ()> + Send
    where
        Self: Sized,
    {
        async {}
    }
}

/// Where the capture goes (JSON lines); written synchronously by the intake.
pub trait CaptureOut: Send + 'static {
    /// Appends a batch.
    fn write_batch(&mut self, events: &[Event]) -> Result<(), CaptureError>;
    /// Flushes and closes.
    fn finish(self: Box<Self>) -> Result<(), CaptureError>;
}

/// Counters shared with the status line.
#[derive(Debug, Default)]
pub struct SinkStats {
    /// Events stamped (accepted from the recorder).
    pub accepted: AtomicU64,
    /// Events the database confirmed.
    pub stored: AtomicU64,
    /// Events dropped because the backlog was full.
    pub dropped: AtomicU64,
    /// Bytes waiting in the backlog.
    pub backlog_bytes: AtomicU64,
    /// Events waiting in the backlog.
    pub backlog_events: AtomicU64,
    /// Failed database writes so far.
    pub store_errors: AtomicU64,
}

impl SinkStats {
    /// Publishes the backlog's current size for the status line.
    fn show_backlog(&self, backlog: &Backlog) {
        self.backlog_bytes
            .store(backlog.bytes() as u64, Ordering::Relaxed);
        self.backlog_events
            .store(backlog.len() as u64, Ordering::Relaxed);
    }
}

/// Gives each event of a run its `run` id and `seq`.
#[derive(Debug)]
pub struct Stamper {
    run: String,
    next: u64,
}

impl Stamper {
    /// A stamper for `run`, starting at seq 0.
    pub fn new(run: String) -> Self {
        Self { run, next: 0 }
    }

    /// The run id.
    pub fn run(&self) -> &str {
        &self.run
    }

    /// Stamps one event with the next seq.
    pub fn stamp(&mut self, ev: &mut Event) {
        ev.run.clone_from(&self.run);
        ev.seq = self.next;
        self.next += 1;
    }

    /// Stamps a batch of events, in order.
    pub fn stamp_all(&mut self, events: &mut [Event]) {
        for ev in events {
            self.stamp(ev);
        }
    }
}

/// A random 16-hex-digit run id (from the kernel's random source; falls back to time and pid).
pub fn new_run_id() -> String {
    let id = getrandom::u64().unwrap_or_else(|_| {
        // No OS randomness: the time and pid still make a run id that does not repeat.
        (Timestamp::now().0 as u64) ^ (u64::from(std::process::id()) << 40)
    });
    format!("{id:016x}")
}

/// The events waiting for the database, bounded in bytes.
#[derive(Debug)]
pub struct Backlog {
    queue: VecDeque<(Event, usize)>,
    bytes: usize,
    limit: usize,
    dropped: u64,
    dropped_range: Option<(Timestamp, Timestamp)>,
}

impl Backlog {
    /// An empty backlog of at most `limit` bytes (as serialised JSON).
    pub fn new(limit: usize) -> Self {
        Self {
            queue: VecDeque::new(),
            bytes: 0,
            limit,
            dropped: 0,
            dropped_range: None,
        }
    }

    /// Queues a stamped event of `size` bytes; when there is no room it is dropped (and counted)
    /// and `false` is returned.
    pub fn offer(&mut self, ev: Event, size: usize) -> bool {
        if self.bytes + size > self.limit && !self.queue.is_empty() {
            self.dropped += 1;
            let t = ev.time;
            self.dropped_range = Some(match self.dropped_range {
                Some((a, b)) => (a.min(t), b.max(t)),
                None => (t, t),
            });
            return false;
        }
        self.bytes += size;
        self.queue.push_back((ev, size));
        true
    }

    /// When events were dropped and there is room again: how many, and between which times.
    /// The count restarts.
    pub fn take_drops_if_room(&mut self, room_for: usize) -> Option<(u64, Timestamp, Timestamp)> {
        if self.dropped == 0 || self.bytes + room_for > self.limit {
            return None;
        }
        let (from, to) = self.dropped_range.take().unwrap_or_default();
        Some((std::mem::take(&mut self.dropped), from, to))
    }

    /// Events dropped and not yet reported.
    pub fn unreported_drops(&self) -> u64 {
        self.dropped
    }

    /// Copies of the oldest `n` events.
    pub fn front(&self, n: usize) -> Vec<Event> {
        self.queue.iter().take(n).map(|(e, _)| e.clone()).collect()
    }

    /// Removes the oldest `n` events (the database has them).
    pub fn confirm(&mut self, n: usize) {
        for _ in 0..n {
            if let Some((_, s)) = self.queue.pop_front() {
                self.bytes -= s;
            }
        }
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Bytes waiting.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// Settings of the output stage.
#[derive(Clone, Debug)]
pub struct SinkConfig {
    /// Backlog limit in bytes (`--backlog`).
    pub backlog_bytes: usize,
    /// Events per database insert.
    pub batch: usize,
    /// Wait between attempts while the database is down.
    pub retry: Duration,
    /// At shutdown, how long to keep trying to store what is left while the database is down.
    pub drain_timeout: Duration,
}

impl Default for SinkConfig {
    fn default() -> Self {
        Self {
            backlog_bytes: 1 << 30,
            batch: 1000,
            retry: Duration::from_secs(1),
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// What the output stage did, at the end.
#[derive(Debug, Default)]
pub struct SinkSummary {
    /// Events stamped.
    pub accepted: u64,
    /// Events the database confirmed.
    pub stored: u64,
    /// Events dropped from the database backlog (the capture has them).
    pub dropped: u64,
    /// Events still in the backlog when the drain timeout ran out.
    pub unstored: u64,
    /// The first capture error, if the capture file failed.
    pub capture_error: Option<CaptureError>,
}

struct Shared {
    backlog: Mutex<Backlog>,
    notify: Notify,
    closed: std::sync::atomic::AtomicBool,
}

/// Runs the output stage until `rx` closes and everything is stored (or the drain timeout runs
/// out while the database is down). `store` is `None` with `--write` alone.
pub async fn run<S: EventStore>(
    mut rx: mpsc::Receiver<Vec<Event>>,
    mut stamper: Stamper,
    store: Option<S>,
    mut capture: Option<Box<dyn CaptureOut>>,
    cfg: SinkConfig,
    stats: Arc<SinkStats>,
) -> SinkSummary {
    let shared = Arc::new(Shared {
        backlog: Mutex::new(Backlog::new(cfg.backlog_bytes)),
        notify: Notify::new(),
        closed: std::sync::atomic::AtomicBool::new(false),
    });
    let has_store = store.is_some();
    let writer =
        store.map(|s| tokio::spawn(write_loop(s, shared.clone(), cfg.clone(), stats.clone())));

    let mut capture_error = None;
    while let Some(mut batch) = rx.recv().await {
        let mut gap = None;
        if has_store {
            let mut bl = shared.backlog.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((lost, from, to)) =
                bl.take_drops_if_room((cfg.backlog_bytes / 4).min(64 << 10))
            {
                let mut g = Event {
                    host: batch.first().map(|e| e.host.clone()).unwrap_or_default(),
                    boot_id: batch.first().map(|e| e.boot_id.clone()).unwrap_or_default(),
                    run: String::new(),
                    seq: 0,
                    time: from,
                    source: Source::Recorder,
                    audit: None,
                    kind: EventKind::Gap(Gap {
                        reason: GapReason::BacklogFull,
                        lost: Some(lost),
                        from,
                        to,
                        detail: Some(format!(
                            "{lost} events dropped from the database backlog ({} bytes full); the capture file, if any, has them",
                            cfg.backlog_bytes
                        )),
                    }),
                };
                stamper.stamp(&mut g);
                gap = Some(g);
            }
            // The gap is stamped before the batch, so it sorts right where the drops ended.
            for ev in &mut batch {
                stamper.stamp(ev);
            }
            if let Some(g) = &gap {
                let size = serde_json::to_vec(g).map(|v| v.len()).unwrap_or(512);
                bl.offer(g.clone(), size);
            }
            for ev in &batch {
                let size = serde_json::to_vec(ev).map(|v| v.len()).unwrap_or(512);
                if !bl.offer(ev.clone(), size) {
                    stats.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
            stats.show_backlog(&bl);
            drop(bl);
            shared.notify.notify_one();
        } else {
            for ev in &mut batch {
                stamper.stamp(ev);
            }
        }
        stats.accepted.fetch_add(
            batch.len() as u64 + u64::from(gap.is_some()),
            Ordering::Relaxed,
        );
        if let Some(c) = capture.as_mut() {
            let r = match &gap {
                Some(g) => c
                    .write_batch(std::slice::from_ref(g))
                    .and_then(|_| c.write_batch(&batch)),
                None => c.write_batch(&batch),
            };
            if let Err(e) = r {
                tracing::error!("capture file: {e}; no more events are written to it");
                capture_error = Some(e);
                capture = None;
            }
        }
    }
    if let Some(c) = capture {
        if let Err(e) = c.finish() {
            capture_error.get_or_insert(e);
        }
    }
    shared.closed.store(true, Ordering::SeqCst);
    shared.notify.notify_one();
    if let Some(w) = writer {
        let _ = w.await;
    }
    let bl = shared.backlog.lock().unwrap_or_else(|p| p.into_inner());
    SinkSummary {
        accepted: stats.accepted.load(Ordering::Relaxed),
        stored: stats.stored.load(Ordering::Relaxed),
        dropped: stats.dropped.load(Ordering::Relaxed),
        unstored: bl.len() as u64,
        capture_error,
    }
}

async fn write_loop<S: EventStore>(
    mut store: S,
    shared: Arc<Shared>,
    cfg: SinkConfig,
    stats: Arc<SinkStats>,
) {
    store_backlog(&mut store, &shared, &cfg, &stats).await;
    store.close().await;
}

/// Stores the backlog as it fills, until it is closed and empty (or the drain timeout runs out
/// while the database is down).
async fn store_backlog<S: EventStore>(
    store: &mut S,
    shared: &Shared,
    cfg: &SinkConfig,
    stats: &SinkStats,
) {
    let mut drain_deadline = None;
    loop {
        let batch = {
            let bl = shared.backlog.lock().unwrap_or_else(|p| p.into_inner());
            bl.front(cfg.batch)
        };
        let closed = shared.closed.load(Ordering::SeqCst);
        if batch.is_empty() {
            if closed {
                return;
            }
            shared.notify.notified().await;
            continue;
        }
        match store.insert(&batch).await {
            Ok(()) => {
                let mut bl = shared.backlog.lock().unwrap_or_else(|p| p.into_inner());
                bl.confirm(batch.len());
                stats
                    .stored
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                stats.show_backlog(&bl);
            }
            Err(e) => {
                let n = stats.store_errors.fetch_add(1, Ordering::Relaxed);
                if n % 30 == 0 {
                    tracing::warn!(
                        "database write failed ({e}); keeping events in the backlog and retrying"
                    );
                }
                if closed {
                    let d = *drain_deadline
                        .get_or_insert_with(|| tokio::time::Instant::now() + cfg.drain_timeout);
                    if tokio::time::Instant::now() >= d {
                        tracing::error!(
                            "database still down at shutdown; events left unstored (the capture file, if any, has them)"
                        );
                        return;
                    }
                }
                tokio::time::sleep(cfg.retry).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockwatch_shared::model::event::Exit;

    fn ev(i: i64) -> Event {
        Event {
            host: "h".into(),
            boot_id: "b".into(),
            run: String::new(),
            seq: 0,
            time: Timestamp(i),
            source: Source::Connector,
            audit: None,
            kind: EventKind::Exit(Exit {
                pid: i as i32,
                tgid: i as i32,
                exit_code: Some(0),
                signal: None,
            }),
        }
    }

    /// A database that is down for its first `fail` calls, then stores (deduplicating by seq,
    /// as the real `_id` does) into a shared list.
    struct Flaky {
        fail: usize,
        got: Arc<Mutex<Vec<Event>>>,
    }

    impl EventStore for Flaky {
        type Error = &'static str;

        async fn insert(&mut self, events: &[Event]) -> Result<(), Self::Error> {
            if self.fail > 0 {
                self.fail -= 1;
                return Err("down");
            }
            let mut g = self.got.lock().unwrap();
            for e in events {
                if !g.iter().any(|x| x.seq == e.seq) {
                    g.push(e.clone());
                }
            }
            Ok(())
        }
    }

    struct Mem(Arc<Mutex<Vec<Event>>>);
    impl CaptureOut for Mem {
        fn write_batch(&mut self, events: &[Event]) -> Result<(), CaptureError> {
            self.0.lock().unwrap().extend_from_slice(events);
            Ok(())
        }
        fn finish(self: Box<Self>) -> Result<(), CaptureError> {
            Ok(())
        }
    }

    fn cfg(backlog: usize) -> SinkConfig {
        SinkConfig {
            backlog_bytes: backlog,
            batch: 7,
            retry: Duration::from_millis(5),
            drain_timeout: Duration::from_secs(10),
        }
    }

    /// The serialised size of one test event (the backlog counts bytes).
    fn event_size() -> usize {
        serde_json::to_vec(&ev(100)).unwrap().len()
    }

    /// The output stage running on `store` (and `capture`), fed through a channel of
    /// `queue` batches.
    fn start(
        queue: usize,
        store: Flaky,
        capture: Option<Box<dyn CaptureOut>>,
        c: SinkConfig,
    ) -> (
        mpsc::Sender<Vec<Event>>,
        tokio::task::JoinHandle<SinkSummary>,
        Arc<SinkStats>,
    ) {
        let (tx, rx) = mpsc::channel(queue);
        let stats = Arc::new(SinkStats::default());
        let task = tokio::spawn(run(
            rx,
            Stamper::new("r".into()),
            Some(store),
            capture,
            c,
            stats.clone(),
        ));
        (tx, task, stats)
    }

    /// A database that is down for its first `fail` calls, and the list it stores into.
    fn flaky(fail: usize) -> (Flaky, Arc<Mutex<Vec<Event>>>) {
        let got = Arc::new(Mutex::new(Vec::new()));
        (
            Flaky {
                fail,
                got: got.clone(),
            },
            got,
        )
    }

    #[tokio::test]
    async fn every_event_reaches_the_store_once_in_order_across_an_outage() {
        let (store, got) = flaky(20);
        let cap = Arc::new(Mutex::new(Vec::new()));
        let capture = Box::new(Mem(cap.clone())) as Box<dyn CaptureOut>;
        let (tx, task, stats) = start(4, store, Some(capture), cfg(1 << 20));
        for b in 0..50 {
            tx.send((0..10).map(|i| ev(b * 10 + i)).collect())
                .await
                .unwrap();
        }
        drop(tx);
        let summary = task.await.unwrap();
        let got = got.lock().unwrap();
        assert_eq!(got.len(), 500);
        assert!(
            got.iter()
                .enumerate()
                .all(|(i, e)| e.seq == i as u64 && e.run == "r" && e.time == Timestamp(i as i64))
        );
        assert_eq!(
            *cap.lock().unwrap(),
            *got,
            "the capture has the same events"
        );
        assert_eq!(
            (
                summary.accepted,
                summary.stored,
                summary.dropped,
                summary.unstored
            ),
            (500, 500, 0, 0)
        );
        assert!(summary.capture_error.is_none(), "{summary:?}");
        assert!(stats.store_errors.load(Ordering::Relaxed) >= 20);
    }

    #[test]
    fn a_full_backlog_keeps_the_oldest_and_reports_its_drops_once() {
        let size = event_size();
        let mut bl = Backlog::new(size * 10 + 20);
        for i in 0..30 {
            bl.offer(ev(100 + i), serde_json::to_vec(&ev(100 + i)).unwrap().len());
        }
        assert_eq!(bl.len(), 10);
        assert_eq!(bl.front(1)[0].time, Timestamp(100), "the oldest are kept");
        assert_eq!(bl.unreported_drops(), 20);
        assert_eq!(bl.take_drops_if_room(size), None, "still full");
        bl.confirm(10);
        assert_eq!(
            bl.take_drops_if_room(10),
            Some((20, Timestamp(110), Timestamp(129)))
        );
        assert_eq!(bl.take_drops_if_room(10), None, "reported once");
    }

    #[tokio::test]
    async fn a_full_backlog_drops_the_newest_and_counts_what_was_never_stored() {
        // The database stays down while 30 events arrive; the backlog holds about 10.
        let (store, _) = flaky(usize::MAX);
        let c = SinkConfig {
            drain_timeout: Duration::from_millis(50),
            ..cfg(event_size() * 10 + 20)
        };
        let (tx, task, _) = start(100, store, None, c);
        for i in 0..30 {
            tx.send(vec![ev(100 + i)]).await.unwrap();
        }
        drop(tx);
        let s = task.await.unwrap();
        assert_eq!(s.dropped, 20);
        assert_eq!(s.unstored, 10, "the database never came back");
    }

    #[tokio::test]
    async fn the_gap_is_recorded_in_order_when_the_backlog_has_room_again() {
        // Down for a while: the backlog (room for ~10) overflows, then the database returns.
        let (store, got) = flaky(3);
        let c = SinkConfig {
            retry: Duration::from_millis(30),
            ..cfg(event_size() * 10)
        };
        let (tx, task, _) = start(100, store, None, c);
        for i in 0..40 {
            tx.send(vec![ev(100 + i)]).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        tx.send(vec![ev(500)]).await.unwrap();
        drop(tx);
        let s = task.await.unwrap();
        let got = got.lock().unwrap();
        let gap = got
            .iter()
            .position(|e| matches!(e.kind, EventKind::Gap(_)))
            .expect("a gap was stored");
        let EventKind::Gap(g) = &got[gap].kind else {
            unreachable!()
        };
        assert_eq!(g.reason, GapReason::BacklogFull);
        assert_eq!(g.lost, Some(s.dropped));
        assert!(s.dropped > 0);
        assert_eq!(
            got[gap + 1].time,
            Timestamp(500),
            "the gap comes right before the next event"
        );
        assert!(got.windows(2).all(|w| w[0].seq < w[1].seq), "in order");
        assert_eq!(got.len() as u64, s.stored);
    }

    #[test]
    fn run_ids_are_16_hex_and_stamps_count_up() {
        let id = new_run_id();
        assert_eq!(id.len(), 16);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(id, new_run_id());
        let mut s = Stamper::new(id.clone());
        let (mut a, mut b) = (ev(1), ev(2));
        s.stamp(&mut a);
        s.stamp(&mut b);
        assert_eq!((a.seq, b.seq, a.run.as_str()), (0, 1, id.as_str()));
    }
}
