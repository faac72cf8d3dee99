//! The background job: everything slow (connecting, listing boots, reading events, running the
//! pipeline, storing the cooked result) runs here, off the UI thread, and reports over the app's
//! event channel. Cancelling (q / Ctrl-C on the progress screen) fires a token that every wait
//! is raced against and that blocking loops check.
//!
//! The job's result is an [`Outcome`]: an investigation to browse, a list of (host, boot) pairs
//! to choose from, or a [`Failure`] that the error screen explains (unreachable database, empty
//! database, no Docker daemon in the events, unreadable capture).

use std::path::PathBuf;
use std::time::Duration;

use dockwatch_shared::Timestamp;
use dockwatch_shared::load::{self, LoadProgress};
use dockwatch_shared::model::investigation::Investigation;
use dockwatch_shared::pipeline::Step;
use dockwatch_shared::presentation::throttle::Throttle;
use dockwatch_shared::storage::capture::CaptureReader;
use dockwatch_shared::storage::cooked;
use dockwatch_shared::storage::store::{BootSummary, Store, StoreConfig};
use tokio_util::sync::CancellationToken;

mod failure;
mod follow;

pub use failure::{Failure, FailureKind};
use failure::{load_failure, store_failure};

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
    /// Keep reading what godo stores after the first investigation.
    pub follow: bool,
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
    /// Keep reading what godo appends after the first investigation.
    pub follow: bool,
}

impl Source {
    /// Whether the source is followed: read on as godo records, the investigation updated.
    pub fn follows(&self) -> bool {
        match self {
            Source::Mongo(m) => m.follow,
            Source::Replay(r) => r.follow,
            Source::Demo => false,
        }
    }

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
        /// The step's label, as the progress screen shows it.
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
    /// The recording host's name.
    pub host: String,
    /// One boot of that host.
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
    /// Things the analyst should know (skipped capture lines, cooked result not stored).
    pub warnings: Vec<String>,
}

/// A background job's report.
#[derive(Debug)]
pub enum JobMsg {
    /// How far it got.
    Progress(Progress),
    /// A followed recording's news (the job goes on).
    Live(Live),
    /// It ended.
    Finished(Outcome),
}

/// What the job of a followed recording reports while it follows.
#[derive(Debug)]
pub enum Live {
    /// The investigation of everything read so far (the first one ends the loading screen).
    Update {
        /// The investigation.
        loaded: Box<Loaded>,
        /// The time of the newest event read, of any process (the investigation's own times
        /// are those of the Docker tree, which may be idle while the host is not).
        newest_event: Timestamp,
    },
    /// The source cannot be read just now, and why; the job asks again.
    Trouble(String),
    /// The source answers again.
    Back,
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

/// Starts a job for `source` on a thread of its own; it reports through `report`.
pub fn spawn(source: Source, report: impl Fn(JobMsg) + Send + Sync + 'static) -> JobHandle {
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    std::thread::spawn(move || {
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

/// Turns the loader's progress into the screen's, at most every [`REPORT_EVERY`] (and at each
/// new pipeline step).
struct ScreenProgress<'a> {
    report: Report<'a>,
    throttle: Throttle,
    step: Option<usize>,
}

impl<'a> ScreenProgress<'a> {
    fn new(report: Report<'a>) -> Self {
        Self {
            report,
            throttle: Throttle::new(REPORT_EVERY),
            step: None,
        }
    }

    fn load(&mut self, p: LoadProgress) {
        let (msg, step) = match p {
            LoadProgress::Reading { read, total } => (
                Progress::Reading {
                    read,
                    total: (total > 0).then_some(total),
                },
                None,
            ),
            LoadProgress::Pipeline(p) => (
                Progress::Step {
                    name: p.step.label().to_owned(),
                    done: p.step.index(),
                    of: Step::ALL.len() - 1,
                },
                Some(p.step.index()),
            ),
        };
        let new_step = step.is_some() && step != self.step;
        if new_step {
            self.throttle.reset();
        }
        if new_step || self.throttle.due() {
            if step.is_some() {
                self.step = step;
            }
            progress(self.report, msg);
        }
    }
}

async fn run(source: Source, cancel: &CancellationToken, report: Report<'_>) -> Outcome {
    if source.follows() {
        return follow::run(&source, cancel, report).await;
    }
    let generated_at = Timestamp::now();
    let loaded = match &source {
        Source::Demo => demo(report),
        Source::Mongo(m) => from_mongo(m, generated_at, report).await,
        Source::Replay(r) => {
            let r = r.clone();
            let (tx, rx) = std::sync::mpsc::channel::<LoadProgress>();
            let mut reader = tokio::task::spawn_blocking(move || {
                let mut forward = |p| {
                    let _ = tx.send(p);
                };
                load::from_capture(
                    &r.path,
                    r.host.as_deref(),
                    r.boot.as_deref(),
                    generated_at,
                    &mut forward,
                )
                .map(|l| (l, r))
            });
            let mut screen = ScreenProgress::new(report);
            let done = loop {
                tokio::select! {
                    done = &mut reader => break done,
                    _ = tokio::time::sleep(REPORT_EVERY) => {
                        while let Ok(p) = rx.try_recv() {
                            screen.load(p);
                        }
                    }
                }
            };
            match done {
                Ok(Ok((l, r))) => {
                    let several = l.boots.len() > 1 && r.host.is_none() && r.boot.is_none();
                    if several {
                        return Outcome::Choose(
                            l.boots.into_iter().map(BootChoice::from).collect(),
                        );
                    }
                    Ok(loaded_from(l, source.describe()))
                }
                Ok(Err(e)) => Err(load_failure(&source, e)),
                Err(e) => Err(Failure {
                    kind: FailureKind::BadInput,
                    detail: format!("the capture reader stopped: {e}"),
                    hint: "This is a bug; please report it with the capture file.".to_owned(),
                }),
            }
        }
    };
    let _ = cancel;
    match loaded {
        Ok(Read::Loaded(l)) => check(*l),
        Ok(Read::Choose(boots)) => Outcome::Choose(boots),
        Err(f) => Outcome::Failed(f),
    }
}

/// What a load gave: an investigation, or the (host, boot) pairs to choose from.
enum Read {
    Loaded(Box<Loaded>),
    Choose(Vec<BootChoice>),
}

impl From<BootSummary> for BootChoice {
    fn from(b: BootSummary) -> Self {
        Self {
            host: b.host,
            boot_id: b.boot_id,
            events: b.events,
            first: b.first,
            last: b.last,
        }
    }
}

fn loaded_from(l: load::Loaded, origin: String) -> Read {
    Read::Loaded(Box::new(Loaded {
        inv: l.investigation,
        origin,
        warnings: l.warnings,
    }))
}

/// The demo: the real capture compiled into the binary.
fn demo(report: Report<'_>) -> Result<Read, Failure> {
    let bad = |detail: String| Failure {
        kind: FailureKind::BadInput,
        detail,
        hint: "The demo capture built into this binary is damaged; rebuild dockwatch-tui."
            .to_owned(),
    };
    let reader = embedded_capture("demo capture", DEMO_CAPTURE).map_err(|e| bad(e.to_string()))?;
    let mut screen = ScreenProgress::new(report);
    // The demo holds one boot.
    let loaded = load::from_capture_reader(
        reader,
        "demo capture",
        None,
        None,
        Timestamp::now(),
        &mut |p| screen.load(p),
    )
    .map_err(|e| bad(e.to_string()))?;
    Ok(Read::Loaded(Box::new(Loaded {
        inv: loaded.investigation,
        origin: "demo: real capture recorded with godo (assets/demo.jsonl.zst)".to_owned(),
        warnings: loaded.warnings,
    })))
}

/// Narrows `boots` to the named host and boot ([`load::matching`]): one pair to read, several to
/// choose from, or a failure that lists what there is.
fn choose(
    boots: &[BootSummary],
    host: Option<&str>,
    boot: Option<&str>,
    empty: Failure,
) -> Result<Result<BootSummary, Vec<BootChoice>>, Failure> {
    if boots.is_empty() {
        return Err(empty);
    }
    let mut matching: Vec<BootSummary> = load::matching(boots, host, boot).cloned().collect();
    match matching.len() {
        0 => Err(Failure {
            kind: FailureKind::NoSuchBoot,
            detail: format!(
                "no recording matches --host {} --boot {}; there are: {}",
                host.unwrap_or("(any)"),
                boot.unwrap_or("(any)"),
                load::describe(boots)
            ),
            hint: "Use one of the host names and boot ids listed, or leave --host/--boot out to choose."
                .to_owned(),
        }),
        1 => Ok(Ok(matching.remove(0))),
        _ => Ok(Err(matching.into_iter().map(BootChoice::from).collect())),
    }
}

/// Connects to the store of `m`, lists its boots and picks the one to read: the store, the
/// chosen boot and every boot, or the boots to choose from.
async fn open_store(
    m: &MongoSource,
    report: Report<'_>,
) -> Result<Result<(Store, BootSummary, Vec<BootSummary>), Vec<BootChoice>>, Failure> {
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
    let empty = Failure {
        kind: FailureKind::EmptyDatabase,
        detail: format!(
            "database {:?} at {} holds no events",
            config.raw_db,
            config.address.display()
        ),
        hint: format!(
            "Record with `godo --mongo {}` on the Docker host, check --db, or open a capture with \
             --replay FILE (or try --demo).",
            config.address.display()
        ),
    };
    Ok(choose(&boots, m.host.as_deref(), m.boot.as_deref(), empty)?.map(|one| (store, one, boots)))
}

/// Where a MongoDB source's investigation says it came from.
fn mongo_origin(m: &MongoSource) -> String {
    format!(
        "MongoDB {} db {}",
        m.config.address.display(),
        m.config.raw_db
    )
}

async fn from_mongo(
    m: &MongoSource,
    generated_at: Timestamp,
    report: Report<'_>,
) -> Result<Read, Failure> {
    let config = &m.config;
    let (store, one, boots) = match open_store(m, report).await? {
        Ok(opened) => opened,
        Err(several) => return Ok(Read::Choose(several)),
    };
    let mut screen = ScreenProgress::new(report);
    // The boots were just listed: read the chosen one without listing them again.
    let checkpoints = load::Checkpoints::Use;
    let loaded = load::from_store_boot(&store, one, boots, checkpoints, generated_at, &mut |p| {
        screen.load(p);
    })
    .await
    .map_err(|e| load_failure(&Source::Mongo(m.clone()), e))?;
    let mut loaded = Loaded {
        inv: loaded.investigation,
        origin: mongo_origin(m),
        warnings: loaded.warnings,
    };
    if !loaded.inv.roots.is_empty() {
        progress(report, Progress::StoringCooked);
        match cooked::write_investigation(store.cooked_db(), &loaded.inv, Timestamp::now()).await {
            Ok(_) => {}
            Err(e) => loaded.warnings.push(format!(
                "the result was not stored in database {:?}: {e}",
                config.cooked_db
            )),
        }
    }
    Ok(Read::Loaded(Box::new(loaded)))
}

/// A capture reader over bytes compiled into the binary (zstd-compressed JSON lines).
pub fn embedded_capture(
    name: &str,
    zstd_bytes: &'static [u8],
) -> Result<CaptureReader, std::io::Error> {
    CaptureReader::from_reader(std::path::Path::new(name), Box::new(zstd_bytes), true)
}

/// The demo capture recorded with godo on a Docker host by `scripts/record-demo.sh`.
const DEMO_CAPTURE: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../assets/demo.jsonl.zst"
));

#[cfg(test)]
mod tests;
