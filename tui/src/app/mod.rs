//! The application state and its one mutator, [`App::update`]: an event in, a new state out.
//!
//! `update` does no I/O. What needs the outside world (start or cancel the background job, write
//! an export) is queued as a [`Command`] for the run loop, which carries it out and feeds the
//! result back as an event or through [`App::export_finished`]. So every key binding is tested
//! on the state alone.

use std::path::PathBuf;

use dockwatch_shared::model::investigation::NodeId;
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};

use crate::event::AppEvent;
use crate::file_table::SortKey;
use crate::keys::{self, Action, Context};
use crate::loader::JobMsg;
use crate::loader::{BootChoice, Failure, Loaded, Outcome, Progress, Source};
use crate::timefilter::TimeFilter;

pub use crate::layout::Pane;

/// Work the run loop does for the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Start job `id` for this source (cancelling any running one).
    StartJob(u64, Source),
    /// Cancel the running job.
    CancelJob,
    /// Write the subtree of `node` as JSON to `path`.
    Export {
        /// The subtree's root.
        node: NodeId,
        /// Where.
        path: PathBuf,
        /// Replace a file there (the analyst confirmed it).
        replace: bool,
    },
    /// Put text on the terminal's clipboard (OSC 52).
    Copy(String),
}

/// The progress screen.
#[derive(Debug)]
pub struct Loading {
    /// What is being loaded.
    pub what: String,
    /// The last report.
    pub progress: Option<Progress>,
    /// The browser to go back to when a re-run is cancelled.
    pub previous: Option<Box<Browser>>,
}

/// The (host, boot) picker.
#[derive(Debug)]
pub struct Picker {
    /// The database's boots.
    pub boots: Vec<BootChoice>,
    /// The highlighted row.
    pub cursor: usize,
    /// The source they came from (host/boot get filled in on choice).
    pub source: Source,
}

/// What fills the screen.
#[derive(Debug)]
pub enum Screen {
    /// A job is running.
    Loading(Loading),
    /// Choose a (host, boot).
    Picker(Picker),
    /// Browse an investigation.
    Browse(Box<Browser>),
    /// Loading failed.
    Error(Failure),
}

/// What the prompt is asking for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptKind {
    /// A search query.
    Search,
    /// A time window.
    Time,
    /// Where to export the subtree of a node.
    Export(NodeId),
    /// The timeline's filter.
    Timeline,
    /// The tree's narrowing filter.
    Narrow,
}

impl PromptKind {
    /// Which history the prompt recalls (one per kind of prompt).
    fn history_slot(self) -> usize {
        match self {
            PromptKind::Search => 0,
            PromptKind::Time => 1,
            PromptKind::Export(_) => 2,
            PromptKind::Timeline => 3,
            PromptKind::Narrow => 4,
        }
    }
}

/// Entries kept in each prompt's history.
const HISTORY_KEPT: usize = 50;

/// A one-line text prompt over the browser. It starts empty; ↑ and ↓ walk what was entered
/// before (and a suggestion: the current query or window, an export's default name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    /// What for.
    pub kind: PromptKind,
    /// What was typed.
    pub text: String,
    /// Why the last attempt was refused.
    pub error: Option<String>,
    /// Earlier entries, oldest first, for ↑/↓.
    pub history: Vec<String>,
    /// The history entry shown, while walking it.
    pub recall: Option<usize>,
    /// An export's file name that exists: submitting it again replaces the file.
    pub confirm: Option<String>,
}

impl Prompt {
    /// An empty prompt over `history`, with `suggestion` as its most recent entry.
    fn new(kind: PromptKind, history: &[String], suggestion: Option<String>) -> Self {
        let mut history = history.to_vec();
        if let Some(s) = suggestion.filter(|s| !s.is_empty() && history.last() != Some(s)) {
            history.push(s);
        }
        Prompt {
            kind,
            text: String::new(),
            error: None,
            history,
            recall: None,
            confirm: None,
        }
    }

    /// ↑ (`older`) or ↓: the previous or next history entry (past the newest: empty again).
    fn recall(&mut self, older: bool) {
        let len = self.history.len();
        if len == 0 {
            return;
        }
        self.recall = match (self.recall, older) {
            (None, true) => Some(len - 1),
            (None, false) => None,
            (Some(i), true) => Some(i.saturating_sub(1)),
            (Some(i), false) if i + 1 < len => Some(i + 1),
            (Some(_), false) => None,
        };
        self.text = self
            .recall
            .map(|i| self.history[i].clone())
            .unwrap_or_default();
    }
}

/// A window over the screen.
#[derive(Clone, Debug, PartialEq)]
pub enum Overlay {
    /// The help, scrolled by this many lines.
    Help(u16),
    /// The list of gaps, scrolled by this many lines.
    Gaps(u16),
    /// A prompt.
    Prompt(Prompt),
    /// The containers and what each changed.
    Containers(Box<crate::containers_view::ContainersView>),
    /// The selected subtree's timeline (kept in the browser, so its filter prompt can come
    /// back to it).
    Timeline,
}

mod browser;
mod live;
mod overlays;

pub use browser::{Browser, activity};
pub use live::LiveState;

/// The whole application state.
#[derive(Debug)]
pub struct App {
    /// What fills the screen.
    pub screen: Screen,
    /// A help or prompt window over it.
    pub overlay: Option<Overlay>,
    /// A one-line message for the status line (export result, refused input).
    pub message: Option<String>,
    /// Set when the app should exit.
    pub quit: bool,
    /// The terminal's size.
    pub size: (u16, u16),
    /// Ticks seen (animates the progress screen).
    pub ticks: u64,
    /// The source, for re-runs.
    pub source: Source,
    job: u64,
    commands: Vec<Command>,
    /// What each kind of prompt was given, oldest first (see [`PromptKind::history_slot`]).
    histories: [Vec<String>; 5],
    /// A followed recording's state (`--follow`).
    pub live: Option<LiveState>,
}

impl App {
    /// An app that starts by loading `source` on a terminal of `size`; the first command starts
    /// the job.
    pub fn new(source: Source, size: (u16, u16)) -> Self {
        let mut app = Self {
            screen: Screen::Loading(Loading {
                what: source.describe(),
                progress: None,
                previous: None,
            }),
            overlay: None,
            message: None,
            quit: false,
            size,
            ticks: 0,
            source: source.clone(),
            job: 0,
            commands: Vec::new(),
            histories: Default::default(),
            live: None,
        };
        app.start_job(source, None);
        app
    }

    /// An app already browsing `loaded` (tests, benchmarks).
    pub fn browsing(loaded: Loaded, size: (u16, u16)) -> Self {
        let mut app = Self::new(Source::Demo, size);
        app.commands.clear();
        app.screen = Screen::Browse(Box::new(Browser::new(loaded)));
        app
    }

    /// Takes the queued commands.
    pub fn take_commands(&mut self) -> Vec<Command> {
        std::mem::take(&mut self.commands)
    }

    /// Whether the screen changes with time alone (the progress screen's animation), so ticks
    /// must redraw it.
    pub fn animating(&self) -> bool {
        matches!(self.screen, Screen::Loading(_))
    }

    /// The browser, when browsing (also under an overlay).
    pub fn browser(&self) -> Option<&Browser> {
        match &self.screen {
            Screen::Browse(b) => Some(b),
            _ => None,
        }
    }

    /// The browser, mutably.
    pub fn browser_mut(&mut self) -> Option<&mut Browser> {
        match &mut self.screen {
            Screen::Browse(b) => Some(b),
            _ => None,
        }
    }

    /// The pane zoomed to the whole body, if any.
    pub fn zoomed(&self) -> Option<Pane> {
        self.browser().filter(|b| b.zoom).map(|b| b.focus)
    }

    /// Where keys go now.
    pub fn context(&self) -> Context {
        match (&self.overlay, &self.screen) {
            (Some(Overlay::Help(_) | Overlay::Gaps(_)), _) => Context::Help,
            (Some(Overlay::Prompt(_)), _) => Context::Prompt,
            (Some(Overlay::Containers(_)), _) => Context::Containers,
            (Some(Overlay::Timeline), _) => Context::Timeline,
            (None, Screen::Loading(_)) => Context::Loading,
            (None, Screen::Picker(_)) => Context::Picker,
            (None, Screen::Error(_)) => Context::Error,
            (None, Screen::Browse(b)) => match b.focus {
                Pane::Tree => Context::Tree,
                Pane::Details => Context::Details,
                Pane::Files => Context::Files,
            },
        }
    }

    fn start_job(&mut self, source: Source, previous: Option<Box<Browser>>) {
        self.job += 1;
        self.screen = Screen::Loading(Loading {
            what: source.describe(),
            progress: None,
            previous,
        });
        self.overlay = None;
        self.commands.push(Command::StartJob(self.job, source));
    }

    /// Handles one event.
    pub fn update(&mut self, event: AppEvent) {
        match event {
            AppEvent::Key(key) => {
                self.key(key);
                // An update held back while a view of the old investigation was up.
                if self.live.as_ref().is_some_and(|l| l.pending.is_some()) {
                    self.take_pending();
                }
            }
            AppEvent::Mouse(mouse) => self.mouse(mouse),
            AppEvent::Resize(w, h) => self.size = (w, h),
            AppEvent::Tick => self.ticks = self.ticks.wrapping_add(1),
            AppEvent::Job { job, msg } if job == self.job => self.job_msg(msg),
            AppEvent::Job { .. } => {} // from a cancelled job
        }
    }

    fn job_msg(&mut self, msg: JobMsg) {
        match msg {
            JobMsg::Live(live) => self.live_msg(live),
            JobMsg::Progress(p) => {
                if let Screen::Loading(l) = &mut self.screen {
                    l.progress = Some(p);
                }
            }
            JobMsg::Finished(outcome) => {
                let previous =
                    match std::mem::replace(&mut self.screen, Screen::Error(placeholder_failure()))
                    {
                        Screen::Loading(l) => l.previous,
                        other => {
                            self.screen = other;
                            self.following_ended(outcome);
                            return;
                        }
                    };
                self.screen = match outcome {
                    Outcome::Loaded(loaded) => {
                        let warnings = loaded.warnings.join("; ");
                        let old_filter = previous.as_ref().map(|b| b.filter);
                        let mut b = Browser::new(*loaded);
                        if let Some(f) = old_filter.filter(|f| !f.is_empty()) {
                            b.set_filter(f);
                        }
                        self.message = (!warnings.is_empty()).then_some(warnings);
                        Screen::Browse(Box::new(b))
                    }
                    Outcome::Choose(boots) => Screen::Picker(Picker {
                        boots,
                        cursor: 0,
                        source: self.source.clone(),
                    }),
                    Outcome::Failed(f) => match previous {
                        Some(b) => {
                            self.message =
                                Some(format!("re-run failed: {}: {}", f.title(), f.detail));
                            Screen::Browse(b)
                        }
                        None => Screen::Error(f),
                    },
                    Outcome::Cancelled => match previous {
                        Some(b) => Screen::Browse(b),
                        None => {
                            self.quit = true;
                            Screen::Error(placeholder_failure())
                        }
                    },
                };
            }
        }
    }

    fn key(&mut self, key: KeyEvent) {
        let context = self.context();
        if context == Context::Prompt && self.prompt_text(&key) {
            return;
        }
        let Some(action) = keys::action_for(context, &key) else {
            return;
        };
        self.message = None;
        self.act(context, action);
    }

    /// Typing into the prompt; true when the key was text editing.
    fn prompt_text(&mut self, key: &KeyEvent) -> bool {
        let Some(Overlay::Prompt(p)) = &mut self.overlay else {
            return false;
        };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Up => p.recall(true),
            KeyCode::Down => p.recall(false),
            KeyCode::Char('u') if ctrl => p.text.clear(),
            KeyCode::Char(c) if !ctrl => p.text.push(c),
            KeyCode::Backspace => {
                p.text.pop();
            }
            _ => return false,
        }
        p.error = None;
        true
    }

    /// Performs an action in a context (what a key press does once looked up).
    pub fn act(&mut self, context: Context, action: Action) {
        let (tree_page, files_page, details_page, details_width) = self.pages();
        match (context, action) {
            (_, Action::Quit) => {
                if let Screen::Loading(l) = &mut self.screen {
                    self.commands.push(Command::CancelJob);
                    if let Some(previous) = l.previous.take() {
                        self.job += 1; // ignore the cancelled job's last words
                        self.screen = Screen::Browse(previous);
                        self.message = Some("re-run cancelled".to_owned());
                        return;
                    }
                }
                self.quit = true;
            }
            (Context::Help, Action::Close) => self.overlay = None,
            (Context::Help, a) => {
                let gaps = self.browser().map_or(0, |b| b.inv.gaps.len());
                let (scroll, max) = match &mut self.overlay {
                    Some(Overlay::Help(scroll)) => (scroll, keys::BINDINGS.len()),
                    Some(Overlay::Gaps(scroll)) => (scroll, crate::content::gaps::line_count(gaps)),
                    _ => return,
                };
                let max = u16::try_from(max).unwrap_or(u16::MAX);
                *scroll = match a {
                    Action::Up => scroll.saturating_sub(1),
                    Action::Down => scroll.saturating_add(1).min(max),
                    Action::PageUp | Action::Home => 0,
                    Action::PageDown | Action::End => max,
                    _ => *scroll,
                };
            }
            (Context::Prompt, Action::Close) => {
                let back_to_timeline = matches!(
                    &self.overlay,
                    Some(Overlay::Prompt(p)) if p.kind == PromptKind::Timeline
                );
                self.overlay = back_to_timeline.then_some(Overlay::Timeline);
            }
            (Context::Prompt, Action::Submit) => self.submit_prompt(),
            (_, Action::Help) => self.overlay = Some(Overlay::Help(0)),
            (_, Action::Gaps) => self.overlay = Some(Overlay::Gaps(0)),
            (Context::Containers, a) => self.containers_action(a, tree_page, files_page),
            (Context::Timeline, a) => self.timeline_action(a, tree_page, files_page),
            (_, Action::Timeline) => {
                if let Some(b) = self.browser_mut() {
                    match b.selected() {
                        Some(node) => {
                            let plumbing = b.tree.shape().plumbing();
                            b.timeline =
                                Some(crate::timeline::Timeline::new(&b.inv, node, plumbing));
                            self.overlay = Some(Overlay::Timeline);
                        }
                        None => self.message = Some("nothing selected".to_owned()),
                    }
                }
            }
            (_, Action::Containers) => {
                if let Some(b) = self.browser() {
                    let view = crate::containers_view::ContainersView::new(&b.inv);
                    self.overlay = Some(Overlay::Containers(Box::new(view)));
                }
            }
            (Context::Error, Action::Rerun) => self.start_job(self.source.clone(), None),
            (Context::Picker, a) => self.picker_action(a),
            (Context::Tree | Context::Details | Context::Files, a) => {
                self.browse_action(
                    context,
                    a,
                    tree_page,
                    files_page,
                    details_page,
                    details_width,
                );
            }
            _ => {}
        }
    }

    fn pages(&self) -> (usize, usize, usize, u16) {
        let areas = crate::layout::layout(Rect::new(0, 0, self.size.0, self.size.1), self.zoomed());
        (
            areas.tree.height.saturating_sub(2) as usize,
            crate::layout::visible_rows(areas.files),
            areas.details.height.saturating_sub(2) as usize,
            areas.details.width.saturating_sub(2),
        )
    }

    fn picker_action(&mut self, action: Action) {
        let Screen::Picker(p) = &mut self.screen else {
            return;
        };
        let last = p.boots.len().saturating_sub(1);
        match action {
            Action::Up => p.cursor = p.cursor.saturating_sub(1),
            Action::Down => p.cursor = (p.cursor + 1).min(last),
            Action::PageUp | Action::Home => p.cursor = 0,
            Action::PageDown | Action::End => p.cursor = last,
            Action::Choose => {
                if let Some(boot) = p.boots.get(p.cursor) {
                    let source = p.source.with_boot(&boot.host, &boot.boot_id);
                    self.source = source.clone();
                    self.start_job(source, None);
                }
            }
            _ => {}
        }
    }

    fn browse_action(
        &mut self,
        context: Context,
        action: Action,
        tree_page: usize,
        files_page: usize,
        details_page: usize,
        details_width: u16,
    ) {
        let source = self.source.clone();
        let Screen::Browse(b) = &mut self.screen else {
            return;
        };
        let handled = match context {
            Context::Tree => b.tree_action(action, tree_page),
            Context::Files => b.files_action(action, files_page, tree_page),
            Context::Details => b.details_action(action, details_page, details_width),
            _ => false,
        };
        if handled {
            return;
        }
        match action {
            Action::Plumbing => self.message = Some(b.toggle_plumbing(tree_page)),
            Action::Zoom => b.zoom = !b.zoom,
            Action::Pause => self.toggle_pause(),
            Action::Narrow => {
                let kind = PromptKind::Narrow;
                let history = &self.histories[kind.history_slot()];
                self.overlay = Some(Overlay::Prompt(Prompt::new(kind, history, None)));
            }
            Action::RelativeTime => self.message = Some(b.toggle_clock()),
            Action::Copy => match b.selected_value(context) {
                Some((what, text)) => {
                    self.message = Some(format!("copied {what} to the clipboard"));
                    self.commands.push(Command::Copy(text));
                }
                None => self.message = Some("nothing to copy".to_owned()),
            },
            Action::NextPane => b.focus = b.focus.next(),
            Action::PrevPane => b.focus = b.focus.prev(),
            Action::Search => {
                let current = b.search.as_ref().map(|s| s.query.clone());
                let kind = PromptKind::Search;
                let history = &self.histories[kind.history_slot()];
                self.overlay = Some(Overlay::Prompt(Prompt::new(kind, history, current)));
            }
            Action::NextMatch => self.message = Some(b.step_search(true, tree_page, files_page)),
            Action::PrevMatch => self.message = Some(b.step_search(false, tree_page, files_page)),
            Action::TimeFilter => {
                let current = (!b.filter.is_empty()).then(|| b.filter.describe());
                let kind = PromptKind::Time;
                let history = &self.histories[kind.history_slot()];
                self.overlay = Some(Overlay::Prompt(Prompt::new(kind, history, current)));
            }
            Action::Subtree => {
                b.files.scope = b.files.scope.toggled();
                b.refresh_files();
            }
            Action::Sort => {
                b.files.sort = match b.files.sort {
                    SortKey::Time => SortKey::Path,
                    SortKey::Path => SortKey::Time,
                };
                b.refresh_files();
            }
            Action::Export => match b.selected() {
                Some(node) => {
                    let default = b.default_export_path(node);
                    let kind = PromptKind::Export(node);
                    let history = &self.histories[kind.history_slot()];
                    self.overlay = Some(Overlay::Prompt(Prompt::new(kind, history, Some(default))));
                }
                None => self.message = Some("nothing selected to export".to_owned()),
            },
            Action::Rerun => {
                let Screen::Browse(previous) =
                    std::mem::replace(&mut self.screen, Screen::Error(placeholder_failure()))
                else {
                    return;
                };
                self.start_job(source, Some(previous));
            }
            _ => {}
        }
    }

    fn submit_prompt(&mut self) {
        let (tree_page, files_page, ..) = self.pages();
        let Some(Overlay::Prompt(prompt)) = self.overlay.clone() else {
            return;
        };
        let history = &mut self.histories[prompt.kind.history_slot()];
        let entry = prompt.text.trim();
        if !entry.is_empty() && history.last().map(String::as_str) != Some(entry) {
            history.push(entry.to_owned());
            if history.len() > HISTORY_KEPT {
                history.remove(0);
            }
        }
        let Screen::Browse(b) = &mut self.screen else {
            self.overlay = None;
            return;
        };
        match prompt.kind {
            PromptKind::Search => {
                if prompt.text.is_empty() {
                    b.search = None;
                    self.message = Some("search cleared".to_owned());
                } else {
                    self.message = Some(b.run_search(&prompt.text, tree_page, files_page));
                }
                self.overlay = None;
            }
            PromptKind::Time => match TimeFilter::parse(&prompt.text, b.anchors) {
                Ok(filter) => {
                    b.set_filter(filter);
                    self.message = Some(if filter.is_empty() {
                        "time filter cleared".to_owned()
                    } else {
                        format!("time filter {}", filter.describe())
                    });
                    self.overlay = None;
                }
                Err(e) => {
                    if let Some(Overlay::Prompt(p)) = &mut self.overlay {
                        p.error = Some(e.to_string());
                    }
                }
            },
            PromptKind::Narrow => {
                self.message = Some(b.narrow(&prompt.text, tree_page));
                self.overlay = None;
            }
            PromptKind::Timeline => {
                if let Some(t) = b.timeline.as_mut() {
                    t.set_filter(&b.inv, &prompt.text);
                }
                self.overlay = Some(Overlay::Timeline);
            }
            PromptKind::Export(node) => {
                if prompt.text.trim().is_empty() {
                    if let Some(Overlay::Prompt(p)) = &mut self.overlay {
                        p.error = Some("type a file name".to_owned());
                    }
                    return;
                }
                let name = prompt.text.trim();
                self.commands.push(Command::Export {
                    node,
                    path: PathBuf::from(name),
                    replace: prompt.confirm.as_deref() == Some(name),
                });
                self.overlay = None;
            }
        }
    }

    /// Reports how an export of `node` went (the run loop calls this after writing). When the
    /// file exists, the prompt comes back with its name: Enter again replaces it.
    pub fn export_finished(
        &mut self,
        node: NodeId,
        result: Result<PathBuf, crate::export::ExportError>,
    ) {
        match result {
            Ok(path) => self.message = Some(format!("exported to {}", path.display())),
            Err(crate::export::ExportError::Exists { path }) => {
                let kind = PromptKind::Export(node);
                let history = &self.histories[kind.history_slot()];
                let mut prompt = Prompt::new(kind, history, None);
                prompt.text = path.display().to_string();
                prompt.confirm = Some(prompt.text.clone());
                prompt.error = Some(format!(
                    "{} exists: Enter again replaces it, or edit the name",
                    path.display()
                ));
                self.overlay = Some(Overlay::Prompt(prompt));
            }
            Err(e) => self.message = Some(format!("export failed: {e}")),
        }
    }

    fn mouse(&mut self, mouse: MouseEvent) {
        if self.overlay.is_some() {
            return;
        }
        let areas = crate::layout::layout(Rect::new(0, 0, self.size.0, self.size.1), self.zoomed());
        let pos = Position::new(mouse.column, mouse.row);
        let (tree_page, files_page, details_page, details_width) = self.pages();
        let Screen::Browse(b) = &mut self.screen else {
            if let Screen::Picker(p) = &mut self.screen {
                match mouse.kind {
                    MouseEventKind::ScrollDown => {
                        p.cursor = (p.cursor + 1).min(p.boots.len().saturating_sub(1))
                    }
                    MouseEventKind::ScrollUp => p.cursor = p.cursor.saturating_sub(1),
                    _ => {}
                }
            }
            return;
        };
        let pane = if areas.tree.contains(pos) {
            Pane::Tree
        } else if areas.details.contains(pos) {
            Pane::Details
        } else if areas.files.contains(pos) {
            Pane::Files
        } else {
            return;
        };
        match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                b.focus = pane;
                match pane {
                    Pane::Tree => {
                        let first_row = areas.tree.y + 1; // below the border
                        if pos.y >= first_row {
                            let before = b.tree.selected();
                            b.tree
                                .click(&b.inv, (pos.y - first_row) as usize, tree_page);
                            if b.tree.selected() != before {
                                b.selection_changed();
                            }
                        }
                    }
                    Pane::Files => {
                        let first_row = areas.files.y + 2; // border and header
                        if pos.y >= first_row {
                            b.files.click((pos.y - first_row) as usize, files_page);
                        }
                    }
                    Pane::Details => {}
                }
            }
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let down = matches!(mouse.kind, MouseEventKind::ScrollDown);
                match pane {
                    Pane::Tree => {
                        let action = if down { Action::Down } else { Action::Up };
                        for _ in 0..3 {
                            b.tree_action(action, tree_page);
                        }
                    }
                    Pane::Files => b.files.scroll_by(if down { 3 } else { -3 }, files_page),
                    Pane::Details => {
                        let action = if down { Action::Down } else { Action::Up };
                        for _ in 0..3 {
                            b.details_action(action, details_page, details_width);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn placeholder_failure() -> Failure {
    Failure {
        kind: crate::loader::FailureKind::NotAvailable,
        detail: String::new(),
        hint: String::new(),
    }
}

#[cfg(test)]
mod tests;
