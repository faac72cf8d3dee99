//! A followed recording (`--follow`) in the app: updates shown as they come while keeping the
//! analyst's place, held back while paused (`F`) or while a view of the old investigation is
//! up, and the state the title bar shows (live and its lag, paused, trouble, stopped).

use dockwatch_shared::Timestamp;

use super::{App, JobMsg, Outcome, Overlay, Screen};
use crate::loader::{Live, Loaded};

/// The state of a followed recording, for the title bar and `F`.
#[derive(Debug, Default)]
pub struct LiveState {
    /// Updates are held back (`F`).
    pub paused: bool,
    /// The latest update held back: paused, or while the container view or the timeline is
    /// up (they show what the investigation held when they opened).
    pub pending: Option<Box<Loaded>>,
    /// How far the newest event read was behind the clock when its update arrived.
    pub lag: Option<std::time::Duration>,
    /// The newest event read of the update held back.
    pub pending_newest: Option<Timestamp>,
    /// Why the source cannot be read just now.
    pub trouble: Option<String>,
    /// Why following stopped (the job ended with an error).
    pub stopped: Option<String>,
}

/// How far `newest_event` is behind the clock now.
fn lag_of(newest_event: Timestamp) -> std::time::Duration {
    let behind = Timestamp::now().0.saturating_sub(newest_event.0);
    std::time::Duration::from_micros(u64::try_from(behind).unwrap_or(0))
}

impl App {
    /// A followed recording's news: the first investigation ends the loading screen, later
    /// ones update the browser unless held back.
    pub(super) fn live_msg(&mut self, msg: Live) {
        match msg {
            Live::Update {
                loaded,
                newest_event,
            } => {
                let lag = Some(lag_of(newest_event));
                if matches!(self.screen, Screen::Loading(_)) {
                    self.job_msg(JobMsg::Finished(Outcome::Loaded(loaded)));
                    self.live = Some(LiveState {
                        lag,
                        ..LiveState::default()
                    });
                    return;
                }
                let live = self.live.get_or_insert_with(LiveState::default);
                live.pending = Some(loaded);
                live.pending_newest = Some(newest_event);
                self.take_pending();
            }
            Live::Trouble(why) => {
                self.live.get_or_insert_with(LiveState::default).trouble = Some(why);
            }
            Live::Back => {
                if let Some(live) = &mut self.live {
                    live.trouble = None;
                }
            }
        }
    }

    /// Shows the update held back, unless paused or a view of the old investigation is up.
    pub(super) fn take_pending(&mut self) {
        let held = matches!(
            self.overlay,
            Some(Overlay::Containers(_) | Overlay::Timeline)
        );
        let (tree_page, files_page, _, _) = self.pages();
        let (Some(live), Screen::Browse(b)) = (&mut self.live, &mut self.screen) else {
            return;
        };
        if live.paused || held {
            return;
        }
        if let Some(loaded) = live.pending.take() {
            live.lag = live.pending_newest.take().map(lag_of);
            b.take_update(*loaded, tree_page, files_page);
        }
    }

    /// `F`: holds back a followed recording's updates, or takes them again.
    pub(super) fn toggle_pause(&mut self) {
        let Some(live) = &mut self.live else {
            self.message = Some(
                "not following: open with --follow to watch a recording while godo writes it"
                    .to_owned(),
            );
            return;
        };
        live.paused = !live.paused;
        self.message = Some(if live.paused {
            "paused: the view stays as it is while new events are read (F takes them)".to_owned()
        } else {
            "following again".to_owned()
        });
        self.take_pending();
    }

    /// A followed recording's job ended while its investigation is shown: says why, and the
    /// title bar stops saying "live".
    pub(super) fn following_ended(&mut self, outcome: Outcome) {
        let Some(live) = &mut self.live else {
            return;
        };
        let why = match outcome {
            Outcome::Failed(f) => format!("{}: {}", f.title(), f.detail),
            Outcome::Cancelled => return,
            Outcome::Loaded(_) | Outcome::Choose(_) => "the reading ended".to_owned(),
        };
        self.message = Some(format!("following stopped: {why}"));
        live.stopped = Some(why);
    }
}

#[cfg(test)]
mod tests;
