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

use futures_util::StreamExt;
use rustc_hash::FxHashMap;

use crate::model::investigation::Investigation;
use crate::model::time::Timestamp;
use crate::pipeline::completeness::{Completeness, Seen};
use crate::pipeline::{Pipeline, Progress};
use crate::presentation::throttle::progress_due;
use crate::storage::capture::{CaptureError, CaptureReader};
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
    generated_at: Timestamp,
    progress: &mut (dyn FnMut(LoadProgress) + Send),
) -> Result<Loaded, LoadError> {
    let source_name = format!("database {} at {}", store.raw_db().name(), store.address());
    let boots = store.list_boots().await?;
    let chosen = choose_boot(&boots, host, boot, &source_name)?;
    from_store_boot(store, chosen, boots, generated_at, progress).await
}

/// Investigates `chosen`, one of the `boots` the caller already listed with
/// [`Store::list_boots`] (so they are not listed again); the listed event count is the reading
/// progress's total.
pub async fn from_store_boot(
    store: &Store,
    chosen: BootSummary,
    boots: Vec<BootSummary>,
    generated_at: Timestamp,
    progress: &mut (dyn FnMut(LoadProgress) + Send),
) -> Result<Loaded, LoadError> {
    let mut stream = store.stream_boot(&chosen).await?;
    let total = stream.total().unwrap_or(0);
    let mut pipeline = Pipeline::new(&chosen.host, &chosen.boot_id);
    pipeline.reserve(usize::try_from(total).unwrap_or(0));
    let mut skipped = 0;
    let mut warnings = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(event) => pipeline.push(event),
            Err(e @ StoreError::BadDocument { .. }) => {
                if skipped < 5 {
                    warnings.push(format!("skipped: {e}"));
                }
                skipped += 1;
            }
            Err(e) => return Err(e.into()),
        }
        let read = stream.read();
        if progress_due(read) {
            progress(LoadProgress::Reading { read, total });
        }
    }
    progress(LoadProgress::Reading {
        read: stream.read(),
        total,
    });
    if skipped > 5 {
        warnings.push(format!("{skipped} undecodable documents skipped in all"));
    }
    let investigation = pipeline.finish(generated_at, &mut |p| progress(LoadProgress::Pipeline(p)));
    warn_repaired_times(&investigation, &mut warnings);
    Ok(Loaded {
        investigation,
        boot: chosen,
        boots,
        skipped,
        warnings,
    })
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
    // By host, then boot: looked up by reference, as a key made for every event would cost two
    // allocations each.
    let mut pipelines: FxHashMap<String, FxHashMap<String, (Pipeline, BootSummary)>> =
        FxHashMap::default();
    let mut ledger = Completeness::new();
    let mut warnings = Vec::new();
    let mut damage = 0u64;
    let mut read = 0u64;
    // The first line that was no event, for a file with no events at all.
    let mut first_bad: Option<(u64, String)> = None;
    for item in reader.by_ref() {
        read += 1;
        if progress_due(read) {
            progress(LoadProgress::Reading { read, total: 0 });
        }
        let event = match item {
            Ok(event) => event,
            Err(e @ (CaptureError::Open { .. } | CaptureError::Create { .. })) => {
                return Err(e.into());
            }
            Err(e) => {
                damage += 1;
                if first_bad.is_none() {
                    first_bad = match &e {
                        CaptureError::BadLine { line, message } => Some((*line, message.clone())),
                        CaptureError::LineTooLong { line, len } => {
                            Some((*line, format!("{len} bytes long")))
                        }
                        _ => None,
                    };
                }
                if warnings.len() < WARNINGS_KEPT {
                    warnings.push(format!("{e} (recorded as a gap)"));
                }
                ledger.reader_error(&e);
                continue;
            }
        };
        if ledger.event(&event) == Seen::Duplicate {
            continue;
        }
        let wanted = is_wanted(&event.host, &event.boot_id, host, boot);
        if !pipelines.contains_key(&event.host) {
            pipelines.insert(event.host.clone(), FxHashMap::default());
        }
        let Some(of_host) = pipelines.get_mut(&event.host) else {
            continue;
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
            continue;
        };
        summary.events += 1;
        summary.first = summary.first.min(event.time);
        summary.last = summary.last.max(event.time);
        if wanted {
            pipeline.push(event);
        }
    }
    progress(LoadProgress::Reading { read, total: 0 });
    let skipped = reader.skipped();
    if damage > WARNINGS_KEPT as u64 {
        warnings.push(format!(
            "{damage} damaged places in all, {skipped} lines lost with them; each is a gap"
        ));
    }
    let duplicates = ledger.duplicates();
    if duplicates > 0 {
        warnings.push(format!(
            "{duplicates} events appear more than once (same run and seq): each was used once"
        ));
    }
    let gaps = ledger.gaps();
    if !gaps.is_empty() && damage == 0 {
        warnings.push(format!(
            "events are missing from {source_name} (their seq numbers jump): {} gaps",
            gaps.len()
        ));
    }
    for g in gaps {
        if let Some((pipeline, _)) = pipelines
            .get_mut(&g.host)
            .and_then(|b| b.get_mut(&g.boot_id))
        {
            pipeline.add_gap(g.gap);
        }
    }
    let mut boots: Vec<BootSummary> = pipelines
        .values()
        .flat_map(|of_host| of_host.values().map(|(_, s)| s.clone()))
        .collect();
    sort_boots(&mut boots);
    if let (true, Some((line, message))) = (boots.is_empty(), first_bad) {
        return Err(LoadError::NotACapture {
            source_name: source_name.to_owned(),
            line,
            message,
        });
    }
    let chosen = choose_boot(&boots, host, boot, source_name)?;
    let Some((pipeline, _)) = pipelines
        .get_mut(&chosen.host)
        .and_then(|of_host| of_host.remove(&chosen.boot_id))
    else {
        return Err(LoadError::Empty {
            source_name: source_name.to_owned(),
        });
    };
    drop(pipelines);
    let investigation = pipeline.finish(generated_at, &mut |p| progress(LoadProgress::Pipeline(p)));
    warn_repaired_times(&investigation, &mut warnings);
    Ok(Loaded {
        investigation,
        boot: chosen,
        boots,
        skipped,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::Event;
    use crate::pipeline::testkit::*;
    use crate::storage::capture::CaptureWriter;
    use crate::storage::store::StoreConfig;
    use crate::testing::test_store_config;

    fn summary(host: &str, boot: &str, first: i64, last: i64) -> BootSummary {
        BootSummary {
            host: host.into(),
            boot_id: boot.into(),
            events: 1,
            first: t(first),
            last: t(last),
        }
    }

    #[test]
    fn the_default_boot_is_the_one_with_the_newest_events() {
        let boots = [
            summary("a", "1", 0, 50),
            summary("a", "2", 60, 70),
            summary("b", "9", 10, 90),
        ];
        assert_eq!(choose_boot(&boots, None, None, "db").unwrap().boot_id, "9");
        assert_eq!(
            choose_boot(&boots, Some("a"), None, "db").unwrap().boot_id,
            "2"
        );
        assert_eq!(
            choose_boot(&boots, None, Some("1"), "db").unwrap().host,
            "a"
        );
        let err = choose_boot(&boots, Some("c"), None, "db").unwrap_err();
        assert!(err.to_string().contains("host a boot 1"), "{err}");
        let err = choose_boot(&[], None, None, "db").unwrap_err();
        assert!(matches!(err, LoadError::Empty { .. }), "{err}");
    }

    fn two_boots() -> Vec<Event> {
        let mut old = vec![
            snapshot(1, 100, 1, &["/usr/bin/dockerd"]),
            fork(2, 100, 100, 200),
        ];
        for e in &mut old {
            e.boot_id = "old-boot".into();
        }
        let mut events = old;
        events.extend([
            snapshot(10, 100, 1, &["/usr/bin/dockerd"]),
            fork(11, 100, 100, 300),
            fork(12, 100, 100, 301),
        ]);
        for (i, e) in events.iter_mut().enumerate() {
            e.seq = i as u64;
        }
        events
    }

    #[test]
    fn a_capture_with_two_boots_gives_the_newest_or_the_chosen_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.jsonl.zst");
        let mut w = CaptureWriter::create(&path).unwrap();
        w.write_batch(&two_boots()).unwrap();
        w.finish().unwrap();

        let loaded = from_capture(&path, None, None, t(0), &mut |_| {}).unwrap();
        assert_eq!(loaded.boot.boot_id, BOOT);
        assert_eq!(loaded.boots.len(), 2);
        assert_eq!(loaded.investigation.processes.len(), 3);
        assert_eq!(loaded.boot.events, 3);

        let loaded = from_capture(&path, None, Some("old-boot"), t(0), &mut |_| {}).unwrap();
        assert_eq!(loaded.investigation.boot_id, "old-boot");
        assert_eq!(loaded.investigation.processes.len(), 2);

        let err = from_capture(&path, Some("nope"), None, t(0), &mut |_| {}).unwrap_err();
        assert!(matches!(err, LoadError::NoSuchBoot { .. }), "{err}");
    }

    #[test]
    fn a_capture_with_a_bad_line_is_read_past_it_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.jsonl");
        let mut text = String::new();
        for (i, e) in two_boots().iter().enumerate() {
            text.push_str(&serde_json::to_string(e).unwrap());
            text.push('\n');
            if i == 0 {
                text.push_str("{not json\n");
            }
        }
        std::fs::write(&path, text).unwrap();
        let loaded = from_capture(&path, None, None, t(0), &mut |_| {}).unwrap();
        assert_eq!(loaded.skipped, 1);
        assert!(
            loaded.warnings[0].contains("line 2"),
            "{:?}",
            loaded.warnings
        );
        assert_eq!(loaded.investigation.processes.len(), 3);
    }

    #[test]
    fn an_empty_capture_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.jsonl");
        std::fs::write(&path, "").unwrap();
        let err = from_capture(&path, None, None, t(0), &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("no events"), "{err}");
    }

    #[test]
    fn a_file_that_is_no_capture_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.jsonl");
        std::fs::write(&path, "\n{\"hello\": 1}\nplain text\n").unwrap();
        let err = from_capture(&path, None, None, t(0), &mut |_| {}).unwrap_err();
        assert!(
            matches!(err, LoadError::NotACapture { line: 2, .. }),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("line 2 is not a dockwatch event"), "{msg}");
        assert!(msg.contains("notes.jsonl"), "{msg}");
    }

    #[tokio::test]
    async fn the_store_and_a_capture_of_the_same_events_give_the_same_investigation() {
        let Some(config): Option<StoreConfig> = test_store_config("load") else {
            return;
        };
        let store = Store::connect(&config).await.unwrap();
        let events = two_boots();
        store.insert_events(&events).await.unwrap();
        let from_db = from_store(&store, None, None, t(0), &mut |_| {}).await;
        store.raw_db().drop().await.unwrap();
        store.cooked_db().drop().await.unwrap();
        let from_db = from_db.unwrap();

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.jsonl");
        let mut w = CaptureWriter::create(&path).unwrap();
        w.write_batch(&events).unwrap();
        w.finish().unwrap();
        let from_file = from_capture(&path, None, None, t(0), &mut |_| {}).unwrap();
        assert_eq!(from_db.boot, from_file.boot);
        assert_eq!(from_db.investigation, from_file.investigation);
        assert_eq!(from_db.investigation.processes.len(), 3);
    }
}
