//! The background job: everything slow (connecting, listing boots, reading events, running the
//! pipeline, storing the cooked result) runs here, off the UI thread, and reports over the app's
//! event channel. Cancelling (q / Ctrl-C on the progress screen) fires a token the job checks
//! between steps and races against every wait.
//!
//! The job's result is an [`Outcome`]: an investigation to browse, a list of (host, boot) pairs
//! to choose from, or a [`Failure`] that the error screen explains (unreachable database, empty
//! database, no Docker daemon in the events, unreadable capture).

use std::path::PathBuf;
use std::sync::mpsc::Sender;

use dockwatch_shared::Timestamp;
use dockwatch_shared::investigation::Investigation;
use tokio_util::sync::CancellationToken;

use crate::event::{AppEvent, JobMsg};

/// Where the events come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A MongoDB deployment.
    Mongo(MongoSource),
    /// A capture file (JSON lines, zstd when it ends in `.zst`).
    Replay(PathBuf),
    /// The demo built into the binary.
    Demo,
}

/// How to reach MongoDB and which (host, boot) to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MongoSource {
    /// `host:port` or a `mongodb://` URI.
    pub address: MongoAddr,
    /// The raw event database.
    pub raw_db: String,
    /// The database the cooked result is written to.
    pub cooked_db: String,
    /// The host to investigate (asked when several and none given).
    pub host: Option<String>,
    /// The boot to investigate (asked when several and none given).
    pub boot: Option<String>,
}

/// A MongoDB address as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MongoAddr {
    /// `--mongo host:port`.
    HostPort(String),
    /// `--uri mongodb://...` (shown without credentials).
    Uri(String),
}

impl MongoAddr {
    /// The address for screens: a URI loses its user and password.
    pub fn display(&self) -> String {
        match self {
            Self::HostPort(hp) => hp.clone(),
            Self::Uri(uri) => match (uri.find("://"), uri.rfind('@')) {
                (Some(scheme), Some(at)) if at > scheme => {
                    format!("{}://…@{}", &uri[..scheme], &uri[at + 1..])
                }
                _ => uri.clone(),
            },
        }
    }
}

impl Source {
    /// A short description for the title bar and progress screen.
    pub fn describe(&self) -> String {
        match self {
            Self::Mongo(m) => format!("MongoDB {}", m.address.display()),
            Self::Replay(path) => format!("capture {}", path.display()),
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

async fn run(
    source: Source,
    _cancel: &CancellationToken,
    report: &(dyn Fn(JobMsg) + Sync),
) -> Outcome {
    match source {
        Source::Demo => {
            report(JobMsg::Progress(Progress::Step {
                name: "building the synthetic demo".to_owned(),
                done: 0,
                of: 1,
            }));
            check(Loaded {
                inv: crate::synthetic::demo(),
                origin: "synthetic demo: invented data, not a recording".to_owned(),
                synthetic: true,
                warnings: Vec::new(),
            })
        }
        Source::Replay(path) => Outcome::Failed(Failure {
            kind: FailureKind::NotAvailable,
            detail: format!(
                "reading {} needs the capture reader and the pipeline, which this build lacks",
                path.display()
            ),
            hint: "Build from a revision that includes dockwatch_shared::capture and ::pipeline."
                .to_owned(),
        }),
        Source::Mongo(m) => Outcome::Failed(Failure {
            kind: FailureKind::NotAvailable,
            detail: format!(
                "reading {} needs the store and the pipeline, which this build lacks",
                m.address.display()
            ),
            hint: "Build from a revision that includes dockwatch_shared::store and ::pipeline."
                .to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_credentials_are_not_shown() {
        let addr = MongoAddr::Uri("mongodb://alice:s3cret@db.example:27017/?tls=true".to_owned());
        assert_eq!(addr.display(), "mongodb://…@db.example:27017/?tls=true");
    }

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
}
