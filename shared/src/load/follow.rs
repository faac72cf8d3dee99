//! Following a recording while godo still writes it: the events stored so far are investigated,
//! then the source is watched and the investigation made again whenever new events came.
//!
//! Each update is the batch pipeline run over every event read so far (on a copy, with
//! [`Pipeline::snapshot`]), so a followed recording ends exactly as a load of the finished one:
//! a late exit, a reparented orphan or a fork that arrives after its child are placed as the
//! batch pipeline places them. The cost of an update grows with the recording, so updates come
//! at most every [`POLL`], and no more often than twice the time the last one took (following
//! then takes at most a third of a core, however large the recording).
//!
//! Two sources: a capture file godo is still writing (read through a
//! [`GrowingFile`](crate::storage::capture::growing::GrowingFile) that waits at its end), and
//! the MongoDB event log, asked every [`POLL`] for the events stored after the highest seq read
//! of each run ([`Store::stream_events_after`]). A database that stops answering is reported
//! ([`FollowUpdate::Trouble`]) and asked again; nothing read is lost, and reading resumes from
//! the same place once it answers.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use super::{CaptureRead, Checkpoints, LoadError, LoadProgress, Loaded, read_store};
use crate::model::event::Event;
use crate::model::time::Timestamp;
use crate::presentation::throttle::progress_due;
use crate::storage::capture::growing::{GrowingFile, Tail};
use crate::storage::capture::{CaptureError, CaptureReader, is_zstd};
use crate::storage::store::{BootSummary, Store};

/// How often a followed source is looked at, and the shortest time between two updates.
pub const POLL: Duration = Duration::from_millis(250);

/// The longest a followed capture's update waits for the reader to be found at the file's end.
const STALE: Duration = Duration::from_secs(1);

/// Events read from a capture between two looks at the clock (a large backlog is read in
/// slices, so that stopping is prompt).
const SLICE: usize = 65_536;

/// What following reports.
#[derive(Debug)]
pub enum FollowUpdate {
    /// The investigation of every event read so far; the first is the recording up to the
    /// moment following began.
    Investigation(Box<Loaded>),
    /// The source cannot be read just now (the database stopped answering): following goes
    /// on, and [`FollowUpdate::Back`] says when it answers again.
    Trouble(String),
    /// The source answers again after [`FollowUpdate::Trouble`].
    Back,
}

/// Decides when to investigate again: every [`POLL`] at most, and not sooner than twice the
/// time the last investigation took.
#[derive(Debug, Default)]
struct Pace {
    last: Option<Instant>,
    cost: Duration,
}

impl Pace {
    fn due(&self) -> bool {
        self.last
            .is_none_or(|at| at.elapsed() >= POLL.max(self.cost * 2))
    }

    fn since_last(&self) -> Duration {
        self.last.map_or(Duration::MAX, |at| at.elapsed())
    }

    fn ran(&mut self, started: Instant) {
        self.last = Some(Instant::now());
        self.cost = started.elapsed();
    }
}

/// Follows the capture file at `path` until `stop` says so or `update` breaks: reads what is
/// there, picks the boot as [`super::from_capture`] does (at the first moment the whole file
/// is read), and sends an update each time new events were read and the reader is at the end
/// of the file again. An empty file is waited on.
pub fn follow_capture(
    path: &Path,
    host: Option<&str>,
    boot: Option<&str>,
    stop: &dyn Fn() -> bool,
    progress: &mut dyn FnMut(LoadProgress),
    update: &mut dyn FnMut(FollowUpdate) -> ControlFlow<()>,
) -> Result<(), LoadError> {
    let source_name = format!("capture file {}", path.display());
    let open_err = |source| CaptureError::Open {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(open_err)?;
    let tail = Arc::new(Tail::default());
    let input = GrowingFile::new(file, Arc::clone(&tail));
    let mut reader =
        CaptureReader::from_reader(path, Box::new(input), is_zstd(path)).map_err(open_err)?;
    // The reader blocks at the end of the file, so it reads on a thread of its own and hands
    // each item over with the count of lines lost so far.
    let (tx, rx) = mpsc::sync_channel::<Item>(SLICE);
    let reading = std::thread::spawn(move || {
        while let Some(item) = reader.next() {
            if tx.send((item, reader.skipped())).is_err() {
                break;
            }
        }
    });
    // Run as a closure so that the reader is stopped and joined however the loop ends.
    let mut follow = || -> Result<(), LoadError> {
        let mut read = CaptureRead::new(host, boot);
        let mut chosen: Option<BootSummary> = None;
        let mut fresh = false;
        let mut pace = Pace::default();
        while !stop() {
            match rx.recv_timeout(POLL) {
                Ok(item) => {
                    take(&mut read, item)?;
                    fresh = true;
                }
                Err(RecvTimeoutError::Timeout) => {}
                // The reader ended: only a read error does that before `stop`.
                Err(RecvTimeoutError::Disconnected) => break,
            }
            let mut empty = false;
            for _ in 0..SLICE {
                match rx.try_recv() {
                    Ok(item) => {
                        take(&mut read, item)?;
                        fresh = true;
                    }
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => {
                        empty = true;
                        break;
                    }
                }
            }
            if chosen.is_none() && progress_due(read.read) {
                progress(LoadProgress::Reading {
                    read: read.read,
                    total: 0,
                });
            }
            // The first update waits until the whole file is read (the boot is chosen then); a
            // later one also comes when godo writes so steadily that the reader is never found
            // waiting, at most [`STALE`] after the last.
            let caught_up = empty && tail.waiting();
            let stale = chosen.is_some() && pace.since_last() >= STALE;
            if !(fresh && pace.due() && (caught_up || stale)) {
                continue;
            }
            let boot = match &chosen {
                Some(boot) => boot.clone(),
                None => {
                    let boot = read.choose(&source_name)?;
                    chosen = Some(boot.clone());
                    boot
                }
            };
            let started = Instant::now();
            let loaded = read.snapshot(&boot, &source_name, Timestamp::now(), progress)?;
            pace.ran(started);
            fresh = false;
            if update(FollowUpdate::Investigation(Box::new(loaded))).is_break() {
                break;
            }
        }
        Ok(())
    };
    let result = follow();
    tail.stop();
    drop(rx);
    // The reader ends within one look at the file's end; it cannot fail in a way to report.
    let _ = reading.join();
    result
}

/// What the reader thread hands over: an item of the capture, and the lines lost so far.
type Item = (Result<Event, CaptureError>, u64);

fn take(read: &mut CaptureRead, (item, skipped): Item) -> Result<(), LoadError> {
    read.skipped = skipped;
    read.take(item)
}

/// Follows `chosen` (one of the `boots` listed) in the store until `update` breaks (or the
/// caller drops the future): reads its events (from its checkpoint on, as a load does), sends
/// the first update, then asks every [`POLL`] for what was stored since.
pub async fn follow_store(
    store: &Store,
    chosen: BootSummary,
    boots: Vec<BootSummary>,
    checkpoints: Checkpoints,
    progress: &mut (dyn FnMut(LoadProgress) + Send),
    update: &mut (dyn FnMut(FollowUpdate) -> ControlFlow<()> + Send),
) -> Result<(), LoadError> {
    let mut follow = read_store(store, chosen, boots, checkpoints, progress).await?;
    let mut pace = Pace::default();
    let mut fresh = true;
    let mut in_trouble = false;
    loop {
        if fresh && pace.due() {
            let started = Instant::now();
            let loaded = follow.snapshot(Timestamp::now(), progress);
            pace.ran(started);
            fresh = false;
            if update(FollowUpdate::Investigation(Box::new(loaded))).is_break() {
                return Ok(());
            }
        }
        tokio::time::sleep(POLL).await;
        let read = follow.read_so_far();
        let asked = store
            .stream_events_after(&follow.boot.host, &follow.boot.boot_id, &read)
            .await;
        let outcome = match asked {
            Ok(mut stream) => {
                let mut outcome = Ok(());
                while let Some(item) = stream.next().await {
                    match follow.take(item) {
                        Ok(true) => fresh = true,
                        Ok(false) => {}
                        Err(e) => {
                            outcome = Err(e);
                            break;
                        }
                    }
                }
                outcome
            }
            Err(e) => Err(e),
        };
        let flow = match (outcome, in_trouble) {
            (Ok(()), true) => {
                in_trouble = false;
                update(FollowUpdate::Back)
            }
            (Ok(()), false) => ControlFlow::Continue(()),
            (Err(e), _) => {
                in_trouble = true;
                update(FollowUpdate::Trouble(format!(
                    "{e}; asking again every {} ms",
                    POLL.as_millis()
                )))
            }
        };
        if flow.is_break() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests;
