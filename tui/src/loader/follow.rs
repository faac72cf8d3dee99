//! The job of a followed recording (`--follow`): the first investigation ends the loading
//! screen, each later one updates the browser ([`Live::Update`]), and a database that stops
//! answering is reported while the job asks again ([`Live::Trouble`], [`Live::Back`]). The
//! reading itself is `dockwatch_shared::load::follow`.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use dockwatch_shared::load::LoadProgress;
use dockwatch_shared::load::follow::{FollowUpdate, follow_capture, follow_store};
use tokio_util::sync::CancellationToken;

use super::{
    BootChoice, Failure, FailureKind, JobMsg, Live, Loaded, MongoSource, Outcome, ReplaySource,
    Report, ScreenProgress, Source, check, load_failure, mongo_origin, open_store,
};

/// Follows `source` until the job is cancelled, or ends it with a choice of boots or a failure.
pub(super) async fn run(
    source: &Source,
    cancel: &CancellationToken,
    report: Report<'_>,
) -> Outcome {
    match source {
        Source::Replay(r) => capture(source, r, cancel, report).await,
        Source::Mongo(m) => store(source, m, report).await,
        Source::Demo => Outcome::Cancelled,
    }
}

/// Turns the follow's updates into the app's messages. The first investigation is checked as
/// a load's is ([`check`]); a capture holding several boots, none named, asks which first.
struct Forward<'a> {
    report: Report<'a>,
    origin: String,
    ask_boot: bool,
    first: bool,
    /// How the job ends, when an update ended it.
    ended: Option<Outcome>,
}

impl<'a> Forward<'a> {
    fn new(report: Report<'a>, origin: String, ask_boot: bool) -> Self {
        Self {
            report,
            origin,
            ask_boot,
            first: true,
            ended: None,
        }
    }

    fn update(&mut self, update: FollowUpdate) -> ControlFlow<()> {
        let loaded = match update {
            FollowUpdate::Investigation(loaded) => *loaded,
            FollowUpdate::Trouble(why) => {
                (self.report)(JobMsg::Live(Live::Trouble(why)));
                return ControlFlow::Continue(());
            }
            FollowUpdate::Back => {
                (self.report)(JobMsg::Live(Live::Back));
                return ControlFlow::Continue(());
            }
        };
        let first = std::mem::replace(&mut self.first, false);
        if first && self.ask_boot && loaded.boots.len() > 1 {
            let boots = loaded.boots.into_iter().map(BootChoice::from).collect();
            self.ended = Some(Outcome::Choose(boots));
            return ControlFlow::Break(());
        }
        let newest_event = loaded.boot.last;
        let mut warnings = loaded.warnings;
        if first {
            warnings.push(
                "following: new events are shown as godo stores them (F pauses); the result is \
                 not stored in the cooked database"
                    .to_owned(),
            );
        }
        let loaded = Loaded {
            inv: loaded.investigation,
            origin: self.origin.clone(),
            warnings,
        };
        match check(loaded) {
            Outcome::Loaded(loaded) => {
                (self.report)(JobMsg::Live(Live::Update {
                    loaded,
                    newest_event,
                }));
                ControlFlow::Continue(())
            }
            failed => {
                self.ended = Some(failed);
                ControlFlow::Break(())
            }
        }
    }
}

/// What the capture's reading thread hands over.
enum FromReader {
    Progress(LoadProgress),
    Update(FollowUpdate),
}

async fn capture(
    source: &Source,
    r: &ReplaySource,
    cancel: &CancellationToken,
    report: Report<'_>,
) -> Outcome {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // Set when an update ended the follow (a choice of boots, a failure).
    let ended = Arc::new(AtomicBool::new(false));
    let mut reading = {
        let (r, token, ended) = (r.clone(), cancel.clone(), Arc::clone(&ended));
        tokio::task::spawn_blocking(move || {
            let progress_tx = tx.clone();
            follow_capture(
                &r.path,
                r.host.as_deref(),
                r.boot.as_deref(),
                &|| token.is_cancelled() || ended.load(Ordering::Relaxed),
                &mut |p| {
                    let _ = progress_tx.send(FromReader::Progress(p));
                },
                &mut |u| {
                    let _ = tx.send(FromReader::Update(u));
                    ControlFlow::Continue(())
                },
            )
        })
    };
    let ask_boot = r.host.is_none() && r.boot.is_none();
    let mut forward = Forward::new(report, source.describe(), ask_boot);
    let mut screen = ScreenProgress::new(report);
    loop {
        tokio::select! {
            Some(msg) = rx.recv() => match msg {
                FromReader::Progress(p) => screen.load(p),
                FromReader::Update(u) => {
                    if forward.update(u).is_break() {
                        ended.store(true, Ordering::Relaxed);
                    }
                }
            },
            done = &mut reading => {
                return match done {
                    Ok(Ok(())) => forward.ended.unwrap_or(Outcome::Cancelled),
                    Ok(Err(e)) => Outcome::Failed(load_failure(source, e)),
                    Err(e) => Outcome::Failed(Failure {
                        kind: FailureKind::BadInput,
                        detail: format!("the capture reader stopped: {e}"),
                        hint: "This is a bug; please report it with the capture file.".to_owned(),
                    }),
                };
            }
        }
    }
}

async fn store(source: &Source, m: &MongoSource, report: Report<'_>) -> Outcome {
    let (store, one, boots) = match open_store(m, report).await {
        Ok(Ok(opened)) => opened,
        Ok(Err(several)) => return Outcome::Choose(several),
        Err(failure) => return Outcome::Failed(failure),
    };
    let mut forward = Forward::new(report, mongo_origin(m), false);
    let mut screen = ScreenProgress::new(report);
    let checkpoints = dockwatch_shared::load::Checkpoints::Use;
    let mut progress = |p| screen.load(p);
    let mut update = |u| forward.update(u);
    let followed = follow_store(&store, one, boots, checkpoints, &mut progress, &mut update).await;
    match followed {
        Ok(()) => forward.ended.unwrap_or(Outcome::Cancelled),
        Err(e) => Outcome::Failed(load_failure(source, e)),
    }
}
