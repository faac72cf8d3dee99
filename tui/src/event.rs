//! The one event type the main loop handles: input from the terminal, ticks, and messages from
//! the background job.

use ratatui::crossterm::event::{KeyEvent, MouseEvent};

use crate::loader::JobMsg;

/// Something happened; `App::update` decides what it means.
#[derive(Debug)]
pub enum AppEvent {
    /// A key press.
    Key(KeyEvent),
    /// A mouse click or wheel turn.
    Mouse(MouseEvent),
    /// The terminal's new size (columns, rows).
    Resize(u16, u16),
    /// Time passed (animates the progress screen).
    Tick,
    /// The background job `job` reported.
    Job {
        /// Which job (messages of a cancelled job are ignored).
        job: u64,
        /// What it said.
        msg: JobMsg,
    },
}
