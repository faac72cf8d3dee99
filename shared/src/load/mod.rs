//! Running the pipeline on a real input: the raw MongoDB log or a capture file, one event stream
//! either way.
//!
//! This module owns choosing the (host, boot) to investigate ([`choose_boot`]: the caller's
//! choice, a boot id prefix being enough, else the boot with the newest events; the TUI's picker
//! uses the same [`matching`]) and feeding the chosen events to the
//! [`Pipeline`] as they are read, so the raw events are never all held at once. A capture file
//! is read once: the per-boot summary (the same [`BootSummary`] the store lists) is computed
//! while the events are fed to one pipeline per boot, and the chosen one is finished.

use std::path::Path;

pub mod follow;

use futures_util::StreamExt;
use rustc_hash::FxHashMap;

use crate::model::event::Event;
use crate::model::investigation::{GapRecord, Investigation};
use crate::model::time::Timestamp;
use crate::pipeline::completeness::{Completeness, Seen};
use crate::pipeline::{Pipeline, Progress};
use crate::presentation::throttle::progress_due;
use crate::storage::capture::{CaptureError, CaptureReader};
use crate::storage::checkpoint::{self, RunSpan};
use crate::storage::store::{BootSummary, Store, StoreError, sort_boots};

/// What can stop a load.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The capture file could not be read.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// There are no events at all.
    #[error("no events in {source_name}: has godo recorded anything there yet?")]
    Empty {
        /// The database or file.
        source_name: String,
    },
    /// Nothing in the file is an event: it is not a capture (or not one this version reads).
    #[error(
        "{source_name} is not a dockwatch capture: line {line} is not a dockwatch event \
         ({message}); captures are written by `godo --write FILE`"
    )]
    NotACapture {
        /// The file.
        source_name: String,
        /// The first line that is not an event.
        line: u64,
        /// What is wrong with it.
        message: String,
    },
    /// The requested host or boot is not in the input.
    #[error("no events for {wanted} in {source_name}; present: {present}")]
    NoSuchBoot {
        /// What was asked for.
        wanted: String,
        /// The database or file.
        source_name: String,
        /// The (host, boot) pairs that are there.
        present: String,
    },
}

/// Where a load is.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum LoadProgress {
    /// Reading events: `read` so far of `total` (0 when unknown, as for capture files).
    Reading {
        /// Events read.
        read: u64,
        /// Events expected.
        total: u64,
    },
    /// Running a pipeline step.
    Pipeline(Progress),
}

/// A finished load.
#[derive(Debug)]
pub struct Loaded {
    /// The result.
    pub investigation: Investigation,
    /// The boot it is about.
    pub boot: BootSummary,
    /// Every (host, boot) of the input.
    pub boots: Vec<BootSummary>,
    /// Events that could not be decoded and were skipped.
    pub skipped: u64,
    /// Things the analyst should know (a truncated capture, skipped documents).
    pub warnings: Vec<String>,
    /// Events read from the source by this load (fewer than the investigation holds when it
    /// started from a checkpoint).
    pub read: u64,
}

/// The (host, boot) pairs of `boots`, for messages.
pub fn describe(boots: &[BootSummary]) -> String {
    boots
        .iter()
        .map(|b| format!("host {} boot {} ({} events)", b.host, b.boot_id, b.events))
        .collect::<Vec<_>>()
        .join(", ")
}

/// True when (`host`, `boot_id`) is what the caller asked for: the named host (when given) and a
/// boot id equal to, or starting with, the named boot (when given; a short prefix is enough).
pub fn is_wanted(
    host: &str,
    boot_id: &str,
    want_host: Option<&str>,
    want_boot: Option<&str>,
) -> bool {
    want_host.is_none_or(|h| host == h) && want_boot.is_none_or(|b| boot_id.starts_with(b))
}

/// The boots of `boots` that match `host` and `boot` (see [`is_wanted`]).
pub fn matching<'a>(
    boots: &'a [BootSummary],
    host: Option<&'a str>,
    boot: Option<&'a str>,
) -> impl Iterator<Item = &'a BootSummary> {
    boots
        .iter()
        .filter(move |b| is_wanted(&b.host, &b.boot_id, host, boot))
}

/// Picks the boot to investigate among `boots`: those matching `host` and `boot` when given
/// ([`matching`]), and among them the one whose newest event is the latest.
pub fn choose_boot(
    boots: &[BootSummary],
    host: Option<&str>,
    boot: Option<&str>,
    source_name: &str,
) -> Result<BootSummary, LoadError> {
    if boots.is_empty() {
        return Err(LoadError::Empty {
            source_name: source_name.to_owned(),
        });
    }
    matching(boots, host, boot)
        .max_by_key(|b| (b.last, b.first))
        .cloned()
        .ok_or_else(|| LoadError::NoSuchBoot {
            wanted: match (host, boot) {
                (Some(h), Some(b)) => format!("host {h} boot {b}"),
                (Some(h), None) => format!("host {h}"),
                (None, Some(b)) => format!("boot {b}"),
                (None, None) => "any boot".to_owned(),
            },
            source_name: source_name.to_owned(),
            present: describe(boots),
        })
}

/// Investigates one boot from the store's raw log: lists the boots, picks one
/// ([`choose_boot`]) and runs [`from_store_boot`] on it.
pub async fn from_store(
    store: &Store,
    host: Option<&str>,
    boot: Option<&str>,
    checkpoints: Checkpoints,
    generated_at: Timestamp,
    progress: &mut (dyn FnMut(LoadProgress) + Send),
) -> Result<Loaded, LoadError> {
    let source_name = format!("database {} at {}", store.raw_db().name(), store.address());
    let boots = store.list_boots().await?;
    let chosen = choose_boot(&boots, host, boot, &source_name)?;
    from_store_boot(store, chosen, boots, checkpoints, generated_at, progress).await
}

/// Whether a load from the store starts from the boot's checkpoint and leaves a new one
/// ([`crate::storage::checkpoint`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Checkpoints {
    /// Start from the checkpoint when there is one this version trusts; write one after
    /// reading new events.
    Use,
    /// Read every event; write nothing (`report --no-cooked`, tests of a full read).
    Off,
}

/// Investigates `chosen`, one of the `boots` the caller already listed with
/// [`Store::list_boots`] (so they are not listed again); the listed event count is the reading
/// progress's total.
pub async fn from_store_boot(
    store: &Store,
    chosen: BootSummary,
    boots: Vec<BootSummary>,
    checkpoints: Checkpoints,
    generated_at: Timestamp,
    progress: &mut (dyn FnMut(LoadProgress) + Send),
) -> Result<Loaded, LoadError> {
    let read = read_store(store, chosen, boots, checkpoints, progress).await?;
    Ok(read.finish(generated_at, progress))
}

/// Reads the events of `chosen` (from its checkpoint on, when `checkpoints` allows and one is
/// trusted) and leaves a new checkpoint when new events were read: what [`from_store_boot`]
/// investigates, and where [`follow::follow_store`] goes on from.
async fn read_store(
    store: &Store,
    chosen: BootSummary,
    boots: Vec<BootSummary>,
    checkpoints: Checkpoints,
    progress: &mut (dyn FnMut(LoadProgress) + Send),
) -> Result<StoreRead, LoadError> {
    let mut warnings = Vec::new();
    let saved = match checkpoints {
        Checkpoints::Off => None,
        Checkpoints::Use => checkpoint::read(store.cooked_db(), checkpoint_of(store, &chosen))
            .await
            .unwrap_or_else(|e| {
                warnings.push(format!("the checkpoint was not read, every event is: {e}"));
                None
            }),
    };
    let (mut read, mut stream, total) = match saved {
        Some(saved) => {
            let stream = store
                .stream_events_after(&chosen.host, &chosen.boot_id, &last_seqs(&saved.runs))
                .await?;
            let total = chosen.events.saturating_sub(saved.pipeline.events());
            (StoreRead::resume(saved, chosen, boots), stream, total)
        }
        None => {
            let stream = store.stream_boot(&chosen).await?;
            let total = stream.total().unwrap_or(0);
            let mut read = StoreRead::new(chosen, boots);
            read.pipeline.reserve(usize::try_from(total).unwrap_or(0));
            (read, stream, total)
        }
    };
    read.warnings.append(&mut warnings);
    while let Some(item) = stream.next().await {
        read.take(item)?;
        let n = stream.read();
        if progress_due(n) {
            progress(LoadProgress::Reading { read: n, total });
        }
    }
    progress(LoadProgress::Reading {
        read: stream.read(),
        total,
    });
    let runs: Vec<(String, RunSpan)> = read.runs.iter().map(|(r, s)| (r.clone(), *s)).collect();
    let whole = runs.iter().all(|(_, span)| span.is_whole());
    if checkpoints == Checkpoints::Use && read.read > 0 && whole {
        let of = checkpoint_of(store, &read.boot);
        if let Err(e) = checkpoint::write(store.cooked_db(), of, &read.pipeline, &runs).await {
            read.warnings.push(format!(
                "no checkpoint was written (the next load reads every event): {e}"
            ));
        }
    }
    Ok(read)
}

/// The checkpoint of `boot` in `store`'s event log.
fn checkpoint_of<'a>(store: &'a Store, boot: &'a BootSummary) -> checkpoint::Of<'a> {
    checkpoint::Of {
        raw_db: store.raw_db().name(),
        host: &boot.host,
        boot_id: &boot.boot_id,
    }
}

/// The last seq of each run of `runs`, where reading goes on from.
fn last_seqs(runs: &[(String, RunSpan)]) -> Vec<(String, u64)> {
    runs.iter()
        .map(|(run, span)| (run.clone(), span.last))
        .collect()
}

/// Says so when events had impossible times (the pipeline gave them their neighbour's).
fn warn_repaired_times(inv: &Investigation, warnings: &mut Vec<String>) {
    let n = inv.stats.repairs.times_from_neighbours;
    if n > 0 {
        warnings.push(format!(
            "{n} events had impossible times (at or before 1970, or beyond year 9999): each was \
             given the time of its neighbour in its run, keeping its place in the story"
        ));
    }
}

/// Investigates one boot from a capture file (plain or `.zst` JSON lines).
pub fn from_capture(
    path: &Path,
    host: Option<&str>,
    boot: Option<&str>,
    generated_at: Timestamp,
    progress: &mut dyn FnMut(LoadProgress),
) -> Result<Loaded, LoadError> {
    let reader = CaptureReader::open(path)?;
    let source_name = format!("capture file {}", path.display());
    from_capture_reader(reader, &source_name, host, boot, generated_at, progress)
}

/// Warnings kept for each kind of damage (every one is counted, and is in a gap).
const WARNINGS_KEPT: usize = 5;

/// Investigates one boot from an open capture. The capture is read once, past any damage:
/// every loss (a bad or overlong line, a damaged zstd frame, a cut, events missing from a run)
/// becomes a gap of the investigation, and events read twice are used once (see
/// [`crate::pipeline::completeness`]).
pub fn from_capture_reader(
    mut reader: CaptureReader,
    source_name: &str,
    host: Option<&str>,
    boot: Option<&str>,
    generated_at: Timestamp,
    progress: &mut dyn FnMut(LoadProgress),
) -> Result<Loaded, LoadError> {
    let mut read = CaptureRead::new(host, boot);
    for item in reader.by_ref() {
        read.take(item)?;
        if progress_due(read.read) {
            progress(LoadProgress::Reading {
                read: read.read,
                total: 0,
            });
        }
    }
    progress(LoadProgress::Reading {
        read: read.read,
        total: 0,
    });
    read.skipped = reader.skipped();
    let chosen = read.choose(source_name)?;
    read.finish(chosen, source_name, generated_at, progress)
}

/// What reading a capture has gathered so far: one pipeline and summary per (host, boot) (the
/// wanted ones take events, the others are only counted), the completeness ledger, and the
/// damage met. [`from_capture_reader`] feeds it a whole capture, [`follow`] one still growing.
#[derive(Debug)]
struct CaptureRead {
    /// By host, then boot: looked up by reference, as a key made for every event would cost two
    /// allocations each.
    pipelines: FxHashMap<String, FxHashMap<String, (Pipeline, BootSummary)>>,
    ledger: Completeness,
    want_host: Option<String>,
    want_boot: Option<String>,
    warnings: Vec<String>,
    /// Damaged places met.
    damage: u64,
    /// Lines lost with them (the reader counts them).
    skipped: u64,
    /// Items read (events and damage).
    read: u64,
    /// The first line that was no event, for a file with no events at all.
    first_bad: Option<(u64, String)>,
}

impl CaptureRead {
    fn new(host: Option<&str>, boot: Option<&str>) -> Self {
        Self {
            pipelines: FxHashMap::default(),
            ledger: Completeness::new(),
            want_host: host.map(str::to_owned),
            want_boot: boot.map(str::to_owned),
            warnings: Vec::new(),
            damage: 0,
            skipped: 0,
            read: 0,
            first_bad: None,
        }
    }

    /// Takes one item of the reader: an event goes to its boot's pipeline (once, however often
    /// it is read), damage to the ledger. Only a capture that cannot be read at all stops.
    fn take(&mut self, item: Result<Event, CaptureError>) -> Result<(), LoadError> {
        self.read += 1;
        let event = match item {
            Ok(event) => event,
            Err(e @ (CaptureError::Open { .. } | CaptureError::Create { .. })) => {
                return Err(e.into());
            }
            Err(e) => {
                self.damage += 1;
                if self.first_bad.is_none() {
                    self.first_bad = match &e {
                        CaptureError::BadLine { line, message } => Some((*line, message.clone())),
                        CaptureError::LineTooLong { line, len } => {
                            Some((*line, format!("{len} bytes long")))
                        }
                        _ => None,
                    };
                }
                if self.warnings.len() < WARNINGS_KEPT {
                    self.warnings.push(format!("{e} (recorded as a gap)"));
                }
                self.ledger.reader_error(&e);
                return Ok(());
            }
        };
        if self.ledger.event(&event) == Seen::Duplicate {
            return Ok(());
        }
        let wanted = is_wanted(
            &event.host,
            &event.boot_id,
            self.want_host.as_deref(),
            self.want_boot.as_deref(),
        );
        if !self.pipelines.contains_key(&event.host) {
            self.pipelines
                .insert(event.host.clone(), FxHashMap::default());
        }
        let Some(of_host) = self.pipelines.get_mut(&event.host) else {
            return Ok(());
        };
        if !of_host.contains_key(&event.boot_id) {
            let new = (
                Pipeline::new(&event.host, &event.boot_id),
                BootSummary {
                    host: event.host.clone(),
                    boot_id: event.boot_id.clone(),
                    events: 0,
                    first: event.time,
                    last: event.time,
                },
            );
            of_host.insert(event.boot_id.clone(), new);
        }
        let Some((pipeline, summary)) = of_host.get_mut(&event.boot_id) else {
            return Ok(());
        };
        summary.events += 1;
        summary.first = summary.first.min(event.time);
        summary.last = summary.last.max(event.time);
        if wanted {
            pipeline.push(event);
        }
        Ok(())
    }

    /// Every (host, boot) read so far.
    fn boots(&self) -> Vec<BootSummary> {
        let mut boots: Vec<BootSummary> = self
            .pipelines
            .values()
            .flat_map(|of_host| of_host.values().map(|(_, s)| s.clone()))
            .collect();
        sort_boots(&mut boots);
        boots
    }

    /// The boot to investigate ([`choose_boot`]); from then on only its events are kept.
    fn choose(&mut self, source_name: &str) -> Result<BootSummary, LoadError> {
        let boots = self.boots();
        if let (true, Some((line, message))) = (boots.is_empty(), self.first_bad.clone()) {
            return Err(LoadError::NotACapture {
                source_name: source_name.to_owned(),
                line,
                message,
            });
        }
        let chosen = choose_boot(
            &boots,
            self.want_host.as_deref(),
            self.want_boot.as_deref(),
            source_name,
        )?;
        self.want_host = Some(chosen.host.clone());
        self.want_boot = Some(chosen.boot_id.clone());
        for (host, of_host) in &mut self.pipelines {
            for (boot_id, (pipeline, _)) in of_host.iter_mut() {
                if *host != chosen.host || *boot_id != chosen.boot_id {
                    // Its summary stays (the picker lists it); its events are not needed.
                    *pipeline = Pipeline::new(host, boot_id);
                }
            }
        }
        Ok(chosen)
    }

    /// What the analyst should be told about the whole read, and the gaps of `chosen`.
    fn outcome(&self, chosen: &BootSummary, source_name: &str) -> (Vec<String>, Vec<GapRecord>) {
        let mut warnings = self.warnings.clone();
        if self.damage > WARNINGS_KEPT as u64 {
            warnings.push(format!(
                "{} damaged places in all, {} lines lost with them; each is a gap",
                self.damage, self.skipped
            ));
        }
        let duplicates = self.ledger.duplicates();
        if duplicates > 0 {
            warnings.push(format!(
                "{duplicates} events appear more than once (same run and seq): each was used once"
            ));
        }
        let gaps = self.ledger.gaps();
        if !gaps.is_empty() && self.damage == 0 {
            warnings.push(format!(
                "events are missing from {source_name} (their seq numbers jump): {} gaps",
                gaps.len()
            ));
        }
        let gaps = gaps
            .into_iter()
            .filter(|g| g.host == chosen.host && g.boot_id == chosen.boot_id)
            .map(|g| g.gap)
            .collect();
        (warnings, gaps)
    }

    /// The pipeline of `chosen`.
    fn pipeline(&self, chosen: &BootSummary) -> Option<&Pipeline> {
        self.pipelines
            .get(&chosen.host)
            .and_then(|of_host| of_host.get(&chosen.boot_id))
            .map(|(pipeline, _)| pipeline)
    }

    /// The investigation of `chosen` from everything read so far, the reading going on.
    fn snapshot(
        &self,
        chosen: &BootSummary,
        source_name: &str,
        generated_at: Timestamp,
        progress: &mut dyn FnMut(LoadProgress),
    ) -> Result<Loaded, LoadError> {
        let pipeline = self
            .pipeline(chosen)
            .cloned()
            .ok_or_else(|| LoadError::Empty {
                source_name: source_name.to_owned(),
            })?;
        let (warnings, gaps) = self.outcome(chosen, source_name);
        let loaded = investigate_read(
            pipeline,
            gaps,
            warnings,
            self.summary_of(chosen),
            self.boots(),
            self.skipped,
            generated_at,
            progress,
        );
        Ok(Loaded {
            read: self.read,
            ..loaded
        })
    }

    /// The investigation of `chosen`, the reading over.
    fn finish(
        mut self,
        chosen: BootSummary,
        source_name: &str,
        generated_at: Timestamp,
        progress: &mut dyn FnMut(LoadProgress),
    ) -> Result<Loaded, LoadError> {
        let (warnings, gaps) = self.outcome(&chosen, source_name);
        let boots = self.boots();
        let Some((pipeline, _)) = self
            .pipelines
            .get_mut(&chosen.host)
            .and_then(|of_host| of_host.remove(&chosen.boot_id))
        else {
            return Err(LoadError::Empty {
                source_name: source_name.to_owned(),
            });
        };
        let (skipped, read) = (self.skipped, self.read);
        drop(self);
        let loaded = investigate_read(
            pipeline,
            gaps,
            warnings,
            chosen,
            boots,
            skipped,
            generated_at,
            progress,
        );
        Ok(Loaded { read, ..loaded })
    }

    /// The latest summary of `chosen` (its counts grow while a capture is followed).
    fn summary_of(&self, chosen: &BootSummary) -> BootSummary {
        self.pipelines
            .get(&chosen.host)
            .and_then(|of_host| of_host.get(&chosen.boot_id))
            .map_or_else(|| chosen.clone(), |(_, summary)| summary.clone())
    }
}

/// Runs `pipeline` with the `gaps` the reading found into a [`Loaded`].
#[allow(clippy::too_many_arguments)]
fn investigate_read(
    mut pipeline: Pipeline,
    gaps: Vec<GapRecord>,
    mut warnings: Vec<String>,
    boot: BootSummary,
    boots: Vec<BootSummary>,
    skipped: u64,
    generated_at: Timestamp,
    progress: &mut dyn FnMut(LoadProgress),
) -> Loaded {
    for gap in gaps {
        pipeline.add_gap(gap);
    }
    let investigation = pipeline.finish(generated_at, &mut |p| progress(LoadProgress::Pipeline(p)));
    warn_repaired_times(&investigation, &mut warnings);
    Loaded {
        investigation,
        boot,
        boots,
        skipped,
        warnings,
        read: 0,
    }
}

/// What reading a boot from the store has gathered: its pipeline, its summary as read, the
/// highest seq read per run (where a followed recording goes on from), and the ledger that
/// drops an event read twice.
struct StoreRead {
    pipeline: Pipeline,
    boot: BootSummary,
    boots: Vec<BootSummary>,
    /// The seqs read of each run.
    runs: FxHashMap<String, RunSpan>,
    ledger: Completeness,
    skipped: u64,
    warnings: Vec<String>,
    /// Events read from the store (not counting a checkpoint's).
    read: u64,
}

impl StoreRead {
    fn new(boot: BootSummary, boots: Vec<BootSummary>) -> Self {
        Self {
            pipeline: Pipeline::new(&boot.host, &boot.boot_id),
            boot: BootSummary { events: 0, ..boot },
            boots,
            runs: FxHashMap::default(),
            ledger: Completeness::new(),
            skipped: 0,
            warnings: Vec::new(),
            read: 0,
        }
    }

    /// Goes on from a checkpoint: its events are taken, the store is asked for those after.
    fn resume(saved: checkpoint::Checkpoint, boot: BootSummary, boots: Vec<BootSummary>) -> Self {
        let events = saved.pipeline.events();
        Self {
            pipeline: saved.pipeline,
            boot: BootSummary { events, ..boot },
            boots,
            runs: saved.runs.into_iter().collect(),
            ledger: Completeness::new(),
            skipped: 0,
            warnings: Vec::new(),
            read: 0,
        }
    }

    /// Takes one item of a stream: `Ok(true)` for a new event. A document that is not an
    /// event is counted and skipped (as a load does); an error of the store is returned.
    fn take(&mut self, item: Result<Event, StoreError>) -> Result<bool, StoreError> {
        let event = match item {
            Ok(event) => event,
            Err(e @ StoreError::BadDocument { .. }) => {
                if self.skipped < 5 {
                    self.warnings.push(format!("skipped: {e}"));
                }
                self.skipped += 1;
                return Ok(false);
            }
            Err(e) => return Err(e),
        };
        if self.ledger.event(&event) == Seen::Duplicate {
            return Ok(false);
        }
        self.read += 1;
        match self.runs.get_mut(&event.run) {
            Some(span) => span.take(event.seq),
            None => {
                self.runs.insert(event.run.clone(), RunSpan::of(event.seq));
            }
        }
        self.boot.events += 1;
        if self.boot.events == 1 {
            self.boot.first = event.time;
            self.boot.last = event.time;
        }
        self.boot.first = self.boot.first.min(event.time);
        self.boot.last = self.boot.last.max(event.time);
        self.pipeline.push(event);
        Ok(true)
    }

    /// The highest seq read of each run.
    fn read_so_far(&self) -> Vec<(String, u64)> {
        self.runs
            .iter()
            .map(|(run, span)| (run.clone(), span.last))
            .collect()
    }

    /// The investigation of the events read so far, the reading going on.
    fn snapshot(
        &self,
        generated_at: Timestamp,
        progress: &mut (dyn FnMut(LoadProgress) + Send),
    ) -> Loaded {
        let investigation = self
            .pipeline
            .snapshot(generated_at, &mut |p| progress(LoadProgress::Pipeline(p)));
        self.loaded(investigation)
    }

    /// The investigation of the events read, the reading over.
    fn finish(
        mut self,
        generated_at: Timestamp,
        progress: &mut (dyn FnMut(LoadProgress) + Send),
    ) -> Loaded {
        let pipeline = std::mem::replace(&mut self.pipeline, Pipeline::new("", ""));
        let investigation =
            pipeline.finish(generated_at, &mut |p| progress(LoadProgress::Pipeline(p)));
        self.loaded(investigation)
    }

    fn loaded(&self, investigation: Investigation) -> Loaded {
        let mut warnings = self.warnings.clone();
        if self.skipped > 5 {
            warnings.push(format!(
                "{} undecodable documents skipped in all",
                self.skipped
            ));
        }
        warn_repaired_times(&investigation, &mut warnings);
        Loaded {
            investigation,
            boot: self.boot.clone(),
            boots: self.boots.clone(),
            skipped: self.skipped,
            warnings,
            read: self.read,
        }
    }
}

#[cfg(test)]
mod tests;
