//! The background job: everything slow (connecting, listing boots, reading events, running the
//! pipeline, storing the cooked result) runs here, off the UI thread, and reports over the app's
//! event channel. Cancelling (q / Ctrl-C on the progress screen) fires a token that every wait
//! is raced against and that blocking loops check.
//!
//! The job's result is an [`Outcome`]: an investigation to browse, a list of (host, boot) pairs
//! to choose from, or a [`Failure`] that the error screen explains (unreachable database, empty
//! database, no Docker daemon in the events, unreadable capture).

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use dockwatch_shared::capture::CaptureReader;
use dockwatch_shared::investigation::Investigation;
use dockwatch_shared::store::{Store, StoreConfig, StoreError};
use dockwatch_shared::{Event, Timestamp};
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::event::{AppEvent, JobMsg};

/// How often progress is reported while reading.
const REPORT_EVERY: Duration = Duration::from_millis(50);

/// Where the events come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A MongoDB deployment.
    Mongo(MongoSource),
    /// A capture file (JSON lines, zstd when it ends in `.zst`).
    Replay(ReplaySource),
    /// The demo built into the binary.
    Demo,
}

/// How to reach MongoDB and which (host, boot) to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MongoSource {
    /// Address, database names and timeout.
    pub config: StoreConfig,
    /// The host to investigate (asked when several and none given).
    pub host: Option<String>,
    /// The boot to investigate (asked when several and none given).
    pub boot: Option<String>,
}

/// A capture file and which (host, boot) of it to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplaySource {
    /// The file.
    pub path: PathBuf,
    /// The host to investigate (asked when several and none given).
    pub host: Option<String>,
    /// The boot to investigate (asked when several and none given).
    pub boot: Option<String>,
}

impl Source {
    /// The same source narrowed to one (host, boot) (after the picker).
    pub fn with_boot(&self, host: &str, boot: &str) -> Source {
        let mut s = self.clone();
        match &mut s {
            Source::Mongo(m) => {
                m.host = Some(host.to_owned());
                m.boot = Some(boot.to_owned());
            }
            Source::Replay(r) => {
                r.host = Some(host.to_owned());
                r.boot = Some(boot.to_owned());
            }
            Source::Demo => {}
        }
        s
    }

    /// A short description for the title bar and progress screen.
    pub fn describe(&self) -> String {
        match self {
            Self::Mongo(m) => format!("MongoDB {}", m.config.address.display()),
            Self::Replay(r) => format!("capture {}", r.path.display()),
            Self::Demo => "built-in demo".to_owned(),
        }
    }
}

/// How far the job got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Connecting to the database.
    Connecting(String),
    /// Listing the (host, boot) pairs.
    ListingBoots,
    /// Reading events.
    Reading {
        /// Events read so far.
        read: u64,
        /// Events in all, when known.
        total: Option<u64>,
    },
    /// A pipeline step.
    Step {
        /// Its name.
        name: String,
        /// Steps finished.
        done: usize,
        /// Steps in all.
        of: usize,
    },
    /// Writing the cooked result.
    StoringCooked,
}

/// One (host, boot) pair in the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootChoice {
    /// Host name.
    pub host: String,
    /// Boot id.
    pub boot_id: String,
    /// Events recorded.
    pub events: u64,
    /// First event.
    pub first: Timestamp,
    /// Last event.
    pub last: Timestamp,
}

/// A loaded investigation and where it came from.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The result.
    pub inv: Investigation,
    /// Where it came from, for the title bar.
    pub origin: String,
    /// True for invented data (the synthetic demo): the title bar says so.
    pub synthetic: bool,
    /// Things the analyst should know (skipped capture lines, cooked result not stored).
    pub warnings: Vec<String>,
}

/// Why loading failed; each kind gets its own screen text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The database did not answer.
    Unreachable,
    /// No events at all.
    EmptyDatabase,
    /// Events, but no Docker daemon or containerd among them.
    NoDocker,
    /// The named host/boot is not there.
    NoSuchBoot,
    /// The capture file could not be read.
    BadInput,
    /// This build lacks what the source needs.
    NotAvailable,
}

/// A failed load, explained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Which kind.
    pub kind: FailureKind,
    /// What happened (may contain data from outside: sanitised when shown).
    pub detail: String,
    /// What to do about it.
    pub hint: String,
}

impl Failure {
    /// The screen's title.
    pub fn title(&self) -> &'static str {
        match self.kind {
            FailureKind::Unreachable => "Cannot reach the database",
            FailureKind::EmptyDatabase => "No events recorded",
            FailureKind::NoDocker => "No Docker daemon in these events",
            FailureKind::NoSuchBoot => "No such host or boot",
            FailureKind::BadInput => "Cannot read the capture",
            FailureKind::NotAvailable => "Not available in this build",
        }
    }
}

/// How a job ended.
#[derive(Debug)]
pub enum Outcome {
    /// An investigation to browse.
    Loaded(Box<Loaded>),
    /// Several (host, boot) pairs and none named: ask.
    Choose(Vec<BootChoice>),
    /// It failed.
    Failed(Failure),
    /// It was cancelled.
    Cancelled,
}

/// A running job: cancel it, or let it finish.
#[derive(Debug)]
pub struct JobHandle {
    cancel: CancellationToken,
}

impl JobHandle {
    /// Asks the job to stop; it reports `Outcome::Cancelled` (or nothing if it already ended).
    pub fn cancel(&self) {
        self.cancel.cancel();
    }
}

impl Drop for JobHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Checks a loaded investigation for the cases the analyst must be told about.
pub fn check(loaded: Loaded) -> Outcome {
    if loaded.inv.roots.is_empty() {
        let events = loaded.inv.stats.events;
        return Outcome::Failed(Failure {
            kind: if events == 0 && loaded.inv.processes.is_empty() {
                FailureKind::EmptyDatabase
            } else {
                FailureKind::NoDocker
            },
            detail: format!(
                "host {} boot {}: {} events, {} processes, none of them dockerd or containerd",
                loaded.inv.host, loaded.inv.boot_id, events, loaded.inv.stats.processes
            ),
            hint: "Was godo running on a Docker host, and was Docker running while it recorded? \
                   Pick another host or boot with --host/--boot, or record again with godo \
                   started before or with Docker."
                .to_owned(),
        });
    }
    Outcome::Loaded(Box::new(loaded))
}

/// Starts job `id` for `source`, reporting on `tx`.
pub fn spawn(id: u64, source: Source, tx: Sender<AppEvent>) -> JobHandle {
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    std::thread::spawn(move || {
        let report = |msg: JobMsg| {
            // The receiver is gone only when the app is quitting; nothing to tell then.
            let _ = tx.send(AppEvent::Job { job: id, msg });
        };
        let outcome = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime.block_on(async {
                tokio::select! {
                    _ = token.cancelled() => Outcome::Cancelled,
                    outcome = run(source, &token, &report) => outcome,
                }
            }),
            Err(e) => Outcome::Failed(Failure {
                kind: FailureKind::NotAvailable,
                detail: format!("cannot start the async runtime: {e}"),
                hint: "Check the process limits (threads, open files) and try again.".to_owned(),
            }),
        };
        report(JobMsg::Finished(outcome));
    });
    JobHandle { cancel }
}

type Report<'a> = &'a (dyn Fn(JobMsg) + Sync);

fn progress(report: Report<'_>, p: Progress) {
    report(JobMsg::Progress(p));
}

async fn run(source: Source, cancel: &CancellationToken, report: Report<'_>) -> Outcome {
    let result = match &source {
        Source::Demo => {
            progress(
                report,
                Progress::Step {
                    name: "building the synthetic demo".to_owned(),
                    done: 0,
                    of: 1,
                },
            );
            return check(Loaded {
                inv: crate::synthetic::demo(),
                origin: "synthetic demo: invented data, not a recording".to_owned(),
                synthetic: true,
                warnings: Vec::new(),
            });
        }
        Source::Mongo(m) => from_mongo(m, report).await,
        Source::Replay(r) => {
            let r = r.clone();
            let token = cancel.clone();
            let (tx, rx) = std::sync::mpsc::channel::<Progress>();
            let reader = tokio::task::spawn_blocking(move || from_capture(&r, &token, &tx));
            // Forward the blocking reader's progress until it ends.
            let mut reader = reader;
            loop {
                tokio::select! {
                    done = &mut reader => break done.unwrap_or_else(|e| Err(Failure {
                        kind: FailureKind::BadInput,
                        detail: format!("the capture reader stopped: {e}"),
                        hint: "This is a bug; please report it with the capture file.".to_owned(),
                    })),
                    _ = tokio::time::sleep(REPORT_EVERY) => {
                        while let Ok(p) = rx.try_recv() {
                            progress(report, p);
                        }
                    }
                }
            }
        }
    };
    let events = match result {
        Ok(Read::Events(events)) => events,
        Ok(Read::Choose(boots)) => return Outcome::Choose(boots),
        Err(f) => return Outcome::Failed(f),
    };
    let origin = source.describe();
    match crate::pipeline_bridge::investigate(events, report) {
        Ok((inv, warnings)) => check(Loaded {
            inv,
            origin,
            synthetic: false,
            warnings,
        }),
        Err(f) => Outcome::Failed(f),
    }
}

/// What reading a source gave: the events of one (host, boot), or the pairs to choose from.
enum Read {
    Events(ReadEvents),
    Choose(Vec<BootChoice>),
}

/// The events of one (host, boot) and what was skipped on the way.
#[derive(Debug, Default)]
pub struct ReadEvents {
    /// Host.
    pub host: String,
    /// Boot id.
    pub boot_id: String,
    /// The events, in time order.
    pub events: Vec<Event>,
    /// Input records that were not valid events.
    pub skipped: u64,
}

/// Narrows `boots` to the named host and boot: one pair to read, several to choose from, or a
/// failure that lists what there is.
fn choose(
    boots: Vec<BootChoice>,
    host: Option<&str>,
    boot: Option<&str>,
    empty: Failure,
) -> Result<Result<BootChoice, Vec<BootChoice>>, Failure> {
    if boots.is_empty() {
        return Err(empty);
    }
    let all: Vec<String> = boots
        .iter()
        .map(|b| format!("{} {}", b.host, b.boot_id))
        .collect();
    let matching: Vec<BootChoice> = boots
        .into_iter()
        .filter(|b| {
            host.is_none_or(|h| b.host == h) && boot.is_none_or(|id| b.boot_id.starts_with(id))
        })
        .collect();
    match matching.len() {
        0 => Err(Failure {
            kind: FailureKind::NoSuchBoot,
            detail: format!(
                "no recording matches --host {} --boot {}; there are: {}",
                host.unwrap_or("(any)"),
                boot.unwrap_or("(any)"),
                all.join(", ")
            ),
            hint: "Use one of the host names and boot ids listed, or leave --host/--boot out to choose.".to_owned(),
        }),
        1 => Ok(Ok(matching.into_iter().next().expect("one element"))),
        _ => Ok(Err(matching)),
    }
}

fn store_failure(config: &StoreConfig, e: &StoreError) -> Failure {
    let unreachable = matches!(
        e,
        StoreError::Unreachable { .. } | StoreError::Timeout { .. } | StoreError::BadAddress { .. }
    );
    Failure {
        kind: if unreachable {
            FailureKind::Unreachable
        } else {
            FailureKind::BadInput
        },
        detail: e.to_string(),
        hint: format!(
            "Start MongoDB at {} or point --mongo HOST:PORT / --uri at it, then press r to retry. \
             Without a database: --replay FILE or --demo.",
            config.address.display()
        ),
    }
}

async fn from_mongo(m: &MongoSource, report: Report<'_>) -> Result<Read, Failure> {
    let config = &m.config;
    progress(report, Progress::Connecting(config.address.display()));
    let store = Store::connect(config)
        .await
        .map_err(|e| store_failure(config, &e))?;
    progress(report, Progress::ListingBoots);
    let boots = store
        .list_boots()
        .await
        .map_err(|e| store_failure(config, &e))?;
    let boots = boots
        .into_iter()
        .map(|b| BootChoice {
            host: b.host,
            boot_id: b.boot_id,
            events: b.events,
            first: b.first,
            last: b.last,
        })
        .collect();
    let empty = Failure {
        kind: FailureKind::EmptyDatabase,
        detail: format!(
            "database {:?} at {} holds no events",
            config.raw_db,
            config.address.display()
        ),
        hint: format!(
            "Record with `godo --mongo {}` on the Docker host, check --db, or open a capture with --replay FILE (or try --demo).",
            config.address.display()
        ),
    };
    let one = match choose(boots, m.host.as_deref(), m.boot.as_deref(), empty)? {
        Ok(one) => one,
        Err(several) => return Ok(Read::Choose(several)),
    };
    let mut stream = store
        .stream_events(&one.host, &one.boot_id)
        .await
        .map_err(|e| store_failure(config, &e))?;
    let total = stream.total();
    let mut out = ReadEvents {
        host: one.host,
        boot_id: one.boot_id,
        ..ReadEvents::default()
    };
    let mut last = Instant::now();
    progress(
        report,
        Progress::Reading {
            read: 0,
            total: Some(total),
        },
    );
    while let Some(item) = stream.next().await {
        match item {
            Ok(e) => out.events.push(e),
            Err(StoreError::BadDocument { .. }) => out.skipped += 1,
            Err(e) => return Err(store_failure(config, &e)),
        }
        if last.elapsed() >= REPORT_EVERY {
            last = Instant::now();
            progress(
                report,
                Progress::Reading {
                    read: stream.read(),
                    total: Some(total),
                },
            );
        }
    }
    progress(
        report,
        Progress::Reading {
            read: stream.read(),
            total: Some(total),
        },
    );
    Ok(Read::Events(out))
}

/// Reads a capture (blocking; checks `cancel` as it goes).
fn from_capture(
    r: &ReplaySource,
    cancel: &CancellationToken,
    tx: &std::sync::mpsc::Sender<Progress>,
) -> Result<Read, Failure> {
    let reader = CaptureReader::open(&r.path).map_err(|e| Failure {
        kind: FailureKind::BadInput,
        detail: e.to_string(),
        hint: "Check the path; captures are written by `godo --write FILE` (JSON lines, .zst for zstd).".to_owned(),
    })?;
    read_capture(reader, r.host.as_deref(), r.boot.as_deref(), cancel, tx)
}

/// Reads events from a capture reader and keeps those of one (host, boot).
fn read_capture(
    mut reader: CaptureReader,
    host: Option<&str>,
    boot: Option<&str>,
    cancel: &CancellationToken,
    tx: &std::sync::mpsc::Sender<Progress>,
) -> Result<Read, Failure> {
    let mut by_boot: BTreeMap<(String, String), Vec<Event>> = BTreeMap::new();
    let mut last = Instant::now();
    for (read, item) in reader.by_ref().enumerate() {
        let read = read as u64 + 1;
        if let Ok(e) = item {
            by_boot
                .entry((e.host.clone(), e.boot_id.clone()))
                .or_default()
                .push(e);
        }
        if last.elapsed() >= REPORT_EVERY {
            last = Instant::now();
            if cancel.is_cancelled() {
                return Err(Failure {
                    kind: FailureKind::BadInput,
                    detail: "cancelled".to_owned(),
                    hint: String::new(),
                });
            }
            let _ = tx.send(Progress::Reading { read, total: None });
        }
    }
    let skipped = reader.skipped();
    let boots: Vec<BootChoice> = by_boot
        .iter()
        .map(|((h, b), evs)| BootChoice {
            host: h.clone(),
            boot_id: b.clone(),
            events: evs.len() as u64,
            first: evs.iter().map(|e| e.time).min().unwrap_or_default(),
            last: evs.iter().map(|e| e.time).max().unwrap_or_default(),
        })
        .collect();
    let empty = Failure {
        kind: FailureKind::EmptyDatabase,
        detail: format!("the capture holds no valid events ({skipped} lines skipped)"),
        hint: "Check that the file is a godo capture (JSON lines, one event per line).".to_owned(),
    };
    let one = match choose(boots, host, boot, empty)? {
        Ok(one) => one,
        Err(several) => return Ok(Read::Choose(several)),
    };
    let mut events = by_boot
        .remove(&(one.host.clone(), one.boot_id.clone()))
        .unwrap_or_default();
    events.sort_by(|a, b| (a.time, &a.run, a.seq).cmp(&(b.time, &b.run, b.seq)));
    Ok(Read::Events(ReadEvents {
        host: one.host,
        boot_id: one.boot_id,
        events,
        skipped,
    }))
}

/// A capture reader over bytes compiled into the binary (zstd-compressed JSON lines).
pub fn embedded_capture(
    name: &str,
    zstd_bytes: &'static [u8],
) -> Result<CaptureReader, std::io::Error> {
    let decoder = zstd::stream::read::Decoder::new(zstd_bytes)?;
    let input: Box<dyn BufRead + Send> = Box::new(std::io::BufReader::new(decoder));
    Ok(CaptureReader::from_reader(
        std::path::Path::new(name),
        input,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_investigation_without_roots_is_explained() {
        let mut inv = crate::synthetic::demo();
        inv.roots.clear();
        inv.stats.events = 10;
        let outcome = check(Loaded {
            inv,
            origin: String::new(),
            synthetic: false,
            warnings: Vec::new(),
        });
        match outcome {
            Outcome::Failed(f) => assert_eq!(f.kind, FailureKind::NoDocker),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_demo_job_reports_and_finishes() {
        let (tx, rx) = std::sync::mpsc::channel();
        let _job = spawn(7, Source::Demo, tx);
        let mut finished = None;
        for event in rx.iter() {
            if let AppEvent::Job {
                job: 7,
                msg: JobMsg::Finished(outcome),
            } = event
            {
                finished = Some(outcome);
                break;
            }
        }
        assert!(matches!(finished, Some(Outcome::Loaded(l)) if l.synthetic));
    }

    /// Runs a job to its end and returns how it ended.
    fn outcome_of(source: Source) -> Outcome {
        let (tx, rx) = std::sync::mpsc::channel();
        let _job = spawn(1, source, tx);
        for event in rx.iter() {
            if let AppEvent::Job {
                msg: JobMsg::Finished(outcome),
                ..
            } = event
            {
                return outcome;
            }
        }
        panic!("the job ended without a result");
    }

    fn failure(outcome: Outcome) -> Failure {
        match outcome {
            Outcome::Failed(f) => f,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    fn events_of(host: &str, boot: &str, n: usize) -> Vec<Event> {
        let mut events = dockwatch_shared::testing::samples();
        events.truncate(n);
        for (i, e) in events.iter_mut().enumerate() {
            e.host = host.to_owned();
            e.boot_id = boot.to_owned();
            e.run = format!("run-{host}-{boot}");
            e.seq = i as u64;
        }
        events
    }

    #[test]
    fn an_unreachable_database_is_explained_within_the_timeout() {
        // Nothing listens on a port we just bound and released.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut config = StoreConfig::host_port(&format!("127.0.0.1:{port}"));
        config.timeout = Duration::from_millis(500);
        let started = Instant::now();
        let f = failure(outcome_of(Source::Mongo(MongoSource {
            config,
            host: None,
            boot: None,
        })));
        assert_eq!(f.kind, FailureKind::Unreachable, "{f:?}");
        assert!(f.hint.contains("--mongo"), "{}", f.hint);
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn empty_database_then_picker_then_one_boot_read() {
        let Some(config) = dockwatch_shared::testing::test_store_config("tui_loader") else {
            return;
        };
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let store = runtime.block_on(Store::connect(&config)).unwrap();
        let source = |host: Option<&str>, boot: Option<&str>| {
            Source::Mongo(MongoSource {
                config: config.clone(),
                host: host.map(str::to_owned),
                boot: boot.map(str::to_owned),
            })
        };
        let f = failure(outcome_of(source(None, None)));
        assert_eq!(f.kind, FailureKind::EmptyDatabase, "{f:?}");

        runtime
            .block_on(store.insert_events(&events_of("web-1", "boot-a", 5)))
            .unwrap();
        runtime
            .block_on(store.insert_events(&events_of("web-1", "boot-b", 3)))
            .unwrap();
        match outcome_of(source(None, None)) {
            Outcome::Choose(boots) => {
                let pairs: Vec<_> = boots
                    .iter()
                    .map(|b| (b.boot_id.as_str(), b.events))
                    .collect();
                assert_eq!(pairs, [("boot-a", 5), ("boot-b", 3)]);
            }
            other => panic!("expected the picker, got {other:?}"),
        }
        let f = failure(outcome_of(source(Some("db-9"), None)));
        assert_eq!(f.kind, FailureKind::NoSuchBoot);
        assert!(f.detail.contains("web-1 boot-a"), "{}", f.detail);
        // One boot named: its events are read and handed to the pipeline.
        let outcome = outcome_of(source(Some("web-1"), Some("boot-b")));
        match outcome {
            Outcome::Failed(f) if f.kind == FailureKind::NotAvailable => {
                assert!(f.detail.contains("read 3 events"), "{}", f.detail);
            }
            Outcome::Loaded(_) | Outcome::Failed(_) => {}
            other => panic!("{other:?}"),
        }
        runtime.block_on(async {
            let _ = store.raw_db().drop().await;
            let _ = store.cooked_db().drop().await;
        });
    }

    #[test]
    fn a_capture_with_two_boots_asks_which() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("two.jsonl.zst");
        let mut w = dockwatch_shared::capture::CaptureWriter::create(&path).unwrap();
        w.write_batch(&events_of("h", "b1", 4)).unwrap();
        w.write_batch(&events_of("h", "b2", 2)).unwrap();
        w.finish().unwrap();
        let replay = |boot: Option<&str>| {
            Source::Replay(ReplaySource {
                path: path.clone(),
                host: None,
                boot: boot.map(str::to_owned),
            })
        };
        match outcome_of(replay(None)) {
            Outcome::Choose(boots) => assert_eq!(boots.len(), 2),
            other => panic!("expected the picker, got {other:?}"),
        }
        let f = failure(outcome_of(Source::Replay(ReplaySource {
            path: dir.path().join("missing.jsonl"),
            host: None,
            boot: None,
        })));
        assert_eq!(f.kind, FailureKind::BadInput);
        assert!(f.detail.contains("missing.jsonl"), "{}", f.detail);
    }
}
