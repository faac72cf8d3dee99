//! The application state and its one mutator, [`App::update`]: an event in, a new state out.
//!
//! `update` does no I/O. What needs the outside world (start or cancel the background job, write
//! an export) is queued as a [`Command`] for the run loop, which carries it out and feeds the
//! result back as an event or through [`App::export_finished`]. So every key binding is tested
//! on the state alone.

use std::path::PathBuf;

use dockwatch_shared::Timestamp;
use dockwatch_shared::investigation::{Investigation, NodeId};
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};

use crate::event::{AppEvent, JobMsg};
use crate::file_table::{FileTable, Scope, SortKey};
use crate::keys::{self, Action, Context};
use crate::loader::{BootChoice, Failure, Loaded, Outcome, Progress, Source};
use crate::search::{self, Search};
use crate::timefilter::{Anchors, TimeFilter};
use crate::tree_model::TreeModel;
use crate::ui;

/// The panes of the browser.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pane {
    /// The process tree.
    #[default]
    Tree,
    /// The selected process's details.
    Details,
    /// The file table.
    Files,
}

impl Pane {
    fn next(self) -> Self {
        match self {
            Self::Tree => Self::Details,
            Self::Details => Self::Files,
            Self::Files => Self::Tree,
        }
    }

    fn prev(self) -> Self {
        self.next().next()
    }
}

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
    },
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
}

/// A one-line text prompt over the browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    /// What for.
    pub kind: PromptKind,
    /// What was typed.
    pub text: String,
    /// Why the last attempt was refused.
    pub error: Option<String>,
}

/// A window over the screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Overlay {
    /// The help, scrolled by this many lines.
    Help(u16),
    /// The list of gaps, scrolled by this many lines.
    Gaps(u16),
    /// A prompt.
    Prompt(Prompt),
}

/// A loaded investigation and everything the panes show of it.
#[derive(Debug)]
pub struct Browser {
    /// The investigation.
    pub inv: Investigation,
    /// Where it came from.
    pub origin: String,
    /// The tree pane.
    pub tree: TreeModel,
    /// The file pane.
    pub files: FileTable,
    /// The focused pane.
    pub focus: Pane,
    /// Lines the details pane is scrolled by.
    pub details_scroll: u16,
    /// The time filter.
    pub filter: TimeFilter,
    /// Per process: active in the filter window (itself or a descendant); empty when no filter.
    pub active: Vec<bool>,
    /// The last search.
    pub search: Option<Search>,
    /// Processes in tree order, and each process's place in it.
    order: Vec<NodeId>,
    order_index: Vec<usize>,
    /// First and last recorded times (for relative time filters).
    pub anchors: Anchors,
}

/// Which processes were active in the window: started, exited or touched a file in it, or have a
/// descendant that did (so the path to an active process is never dimmed). Empty when no filter.
pub fn activity(inv: &Investigation, filter: &TimeFilter) -> Vec<bool> {
    if filter.is_empty() {
        return Vec::new();
    }
    let mut active: Vec<bool> = inv
        .processes
        .iter()
        .map(|p| {
            p.start.is_some_and(|t| filter.contains(t))
                || p.exit.is_some_and(|t| filter.contains(t))
        })
        .collect();
    for f in &inv.files {
        let overlaps = match (f.first_time(), f.last_time()) {
            (Some(a), Some(b)) => filter.overlaps(a, b),
            _ => false,
        };
        if let Some(slot) = active.get_mut(f.node).filter(|_| overlaps) {
            *slot = true;
        }
    }
    for id in 0..active.len() {
        if active[id] {
            let mut cur = inv.processes[id].parent;
            let mut steps = 0;
            while let Some(p) = cur {
                if active[p] || steps > active.len() {
                    break;
                }
                active[p] = true;
                cur = inv.processes[p].parent;
                steps += 1;
            }
        }
    }
    active
}

fn anchors(inv: &Investigation) -> Anchors {
    let times = inv
        .processes
        .iter()
        .flat_map(|p| [p.start, p.exit])
        .chain(
            inv.files
                .iter()
                .flat_map(|f| [f.first_time(), f.last_time()]),
        )
        .flatten();
    let (start, end) = times.fold(
        (None, None),
        |(lo, hi): (Option<Timestamp>, Option<Timestamp>), t| {
            (
                Some(lo.map_or(t, |l| l.min(t))),
                Some(hi.map_or(t, |h| h.max(t))),
            )
        },
    );
    Anchors {
        start: start.unwrap_or(inv.generated_at),
        end: end.unwrap_or(inv.generated_at),
    }
}

impl Browser {
    /// A browser over a freshly loaded investigation.
    pub fn new(loaded: Loaded) -> Self {
        let Loaded { inv, origin, .. } = loaded;
        let tree = TreeModel::new(&inv);
        let order = search::tree_order(&inv);
        let mut order_index = vec![usize::MAX; inv.processes.len()];
        for (i, &n) in order.iter().enumerate() {
            order_index[n] = i;
        }
        let anchors = anchors(&inv);
        let mut browser = Self {
            inv,
            origin,
            tree,
            files: FileTable::default(),
            focus: Pane::Tree,
            details_scroll: 0,
            filter: TimeFilter::default(),
            active: Vec::new(),
            search: None,
            order,
            order_index,
            anchors,
        };
        browser.selection_changed();
        browser
    }

    /// The selected process.
    pub fn selected(&self) -> Option<NodeId> {
        self.tree.selected()
    }

    fn selection_changed(&mut self) {
        self.details_scroll = 0;
        let node = self.tree.selected();
        self.files.recompute(&self.inv, node, &self.filter);
    }

    fn refresh_files(&mut self) {
        let node = self.tree.selected();
        self.files.recompute(&self.inv, node, &self.filter);
    }

    /// Applies a time filter: dims inactive processes and filters the file table.
    pub fn set_filter(&mut self, filter: TimeFilter) {
        self.filter = filter;
        self.active = activity(&self.inv, &self.filter);
        self.refresh_files();
    }

    /// Runs a search and jumps to the first hit at or after the selection.
    pub fn run_search(&mut self, query: &str, height: usize) -> String {
        let mut s = search::search(&self.inv, &self.order, query);
        if let Some(sel) = self.selected() {
            let index = &self.order_index;
            s.start_from(|n| index.get(n).copied().unwrap_or(usize::MAX), sel);
        }
        let hit = s.hit();
        let msg = search_message(&s);
        self.search = Some(s);
        if let Some(hit) = hit {
            self.jump_to(hit.node, height);
        }
        msg
    }

    fn jump_to(&mut self, node: NodeId, height: usize) {
        self.tree.reveal(&self.inv, node, height);
        self.selection_changed();
    }

    fn step_search(&mut self, forward: bool, height: usize) -> String {
        let Some(s) = self.search.as_mut() else {
            return "no search yet: press / to search".to_owned();
        };
        let hit = if forward { s.next_hit() } else { s.prev_hit() };
        let msg = search_message(s);
        if let Some(hit) = hit {
            self.jump_to(hit.node, height);
        }
        msg
    }

    fn tree_action(&mut self, action: Action, page: usize) -> bool {
        let before = self.tree.selected();
        let h = page.max(1);
        let page = h as isize;
        match action {
            Action::Up => self.tree.move_by(-1, h),
            Action::Down => self.tree.move_by(1, h),
            Action::PageUp => self.tree.move_by(-page, h),
            Action::PageDown => self.tree.move_by(page, h),
            Action::Home => self.tree.home(h),
            Action::End => self.tree.end(h),
            Action::Left => self.tree.collapse(&self.inv, h),
            Action::Right => self.tree.expand(&self.inv, h),
            Action::Toggle => self.tree.toggle(&self.inv, h),
            _ => return false,
        }
        if self.tree.selected() != before {
            self.selection_changed();
        }
        true
    }

    fn files_action(&mut self, action: Action, page: usize) -> bool {
        let p = page.max(1) as isize;
        match action {
            Action::Up => self.files.move_by(-1, page),
            Action::Down => self.files.move_by(1, page),
            Action::PageUp => self.files.move_by(-p, page),
            Action::PageDown => self.files.move_by(p, page),
            Action::Home => self.files.move_by(isize::MIN, page),
            Action::End => self.files.move_by(isize::MAX, page),
            _ => return false,
        }
        true
    }

    fn details_action(&mut self, action: Action, page: usize, width: u16) -> bool {
        let max = self
            .selected()
            .map(|n| ui::details::content_height(&self.inv, n, width))
            .unwrap_or(0)
            .saturating_sub(page as u16);
        let page = page as u16;
        self.details_scroll = match action {
            Action::Up => self.details_scroll.saturating_sub(1),
            Action::Down => self.details_scroll.saturating_add(1),
            Action::PageUp => self.details_scroll.saturating_sub(page),
            Action::PageDown => self.details_scroll.saturating_add(page),
            Action::Home => 0,
            Action::End => max,
            _ => return false,
        }
        .min(max);
        true
    }

    /// The default export file name: `dockwatch-HOST-PID-COMM.json`, with anything unusual in
    /// a file name replaced by `_`.
    pub fn default_export_path(&self, node: NodeId) -> String {
        let p = &self.inv.processes[node];
        let comm = p
            .comm
            .as_ref()
            .map(|c| c.to_str_lossy().into_owned())
            .unwrap_or_default();
        let raw = format!("dockwatch-{}-{}-{}.json", self.inv.host, p.pid, comm);
        raw.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }
}

fn search_message(s: &Search) -> String {
    match s.hit() {
        Some(hit) => format!(
            "search {:?}: hit {}/{} ({})",
            s.query,
            s.current + 1,
            s.hits.len(),
            hit.field.name()
        ),
        None => format!("search {:?}: no match", s.query),
    }
}

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

    /// Where keys go now.
    pub fn context(&self) -> Context {
        match (&self.overlay, &self.screen) {
            (Some(Overlay::Help(_) | Overlay::Gaps(_)), _) => Context::Help,
            (Some(Overlay::Prompt(_)), _) => Context::Prompt,
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
            AppEvent::Key(key) => self.key(key),
            AppEvent::Mouse(mouse) => self.mouse(mouse),
            AppEvent::Resize(w, h) => self.size = (w, h),
            AppEvent::Tick => self.ticks = self.ticks.wrapping_add(1),
            AppEvent::Job { job, msg } if job == self.job => self.job_msg(msg),
            AppEvent::Job { .. } => {} // from a cancelled job
        }
    }

    fn job_msg(&mut self, msg: JobMsg) {
        match msg {
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
                    Some(Overlay::Gaps(scroll)) => (scroll, crate::ui::gaps::line_count(gaps)),
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
            (Context::Prompt, Action::Close) => self.overlay = None,
            (Context::Prompt, Action::Submit) => self.submit_prompt(),
            (_, Action::Help) => self.overlay = Some(Overlay::Help(0)),
            (_, Action::Gaps) => self.overlay = Some(Overlay::Gaps(0)),
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
        let areas = ui::layout(Rect::new(0, 0, self.size.0, self.size.1));
        (
            areas.tree.height.saturating_sub(2) as usize,
            ui::files::visible_rows(areas.files),
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
            Context::Files => b.files_action(action, files_page),
            Context::Details => b.details_action(action, details_page, details_width),
            _ => false,
        };
        if handled {
            return;
        }
        match action {
            Action::NextPane => b.focus = b.focus.next(),
            Action::PrevPane => b.focus = b.focus.prev(),
            Action::Search => {
                let text = b
                    .search
                    .as_ref()
                    .map(|s| s.query.clone())
                    .unwrap_or_default();
                self.overlay = Some(Overlay::Prompt(Prompt {
                    kind: PromptKind::Search,
                    text,
                    error: None,
                }));
            }
            Action::NextMatch => self.message = Some(b.step_search(true, tree_page)),
            Action::PrevMatch => self.message = Some(b.step_search(false, tree_page)),
            Action::TimeFilter => {
                let text = if b.filter.is_empty() {
                    String::new()
                } else {
                    b.filter.describe()
                };
                self.overlay = Some(Overlay::Prompt(Prompt {
                    kind: PromptKind::Time,
                    text,
                    error: None,
                }));
            }
            Action::Subtree => {
                b.files.scope = match b.files.scope {
                    Scope::Process => Scope::Subtree,
                    Scope::Subtree => Scope::Process,
                };
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
                    let text = b.default_export_path(node);
                    self.overlay = Some(Overlay::Prompt(Prompt {
                        kind: PromptKind::Export(node),
                        text,
                        error: None,
                    }));
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
        let tree_page = self.pages().0;
        let Some(Overlay::Prompt(prompt)) = self.overlay.clone() else {
            return;
        };
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
                    self.message = Some(b.run_search(&prompt.text, tree_page));
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
            PromptKind::Export(node) => {
                if prompt.text.trim().is_empty() {
                    if let Some(Overlay::Prompt(p)) = &mut self.overlay {
                        p.error = Some("type a file name".to_owned());
                    }
                    return;
                }
                self.commands.push(Command::Export {
                    node,
                    path: PathBuf::from(prompt.text.trim()),
                });
                self.overlay = None;
            }
        }
    }

    /// Reports how an export went (the run loop calls this after writing).
    pub fn export_finished(&mut self, result: Result<PathBuf, String>) {
        self.message = Some(match result {
            Ok(path) => format!("exported to {}", path.display()),
            Err(e) => format!("export failed: {e}"),
        });
    }

    fn mouse(&mut self, mouse: MouseEvent) {
        if self.overlay.is_some() {
            return;
        }
        let areas = ui::layout(Rect::new(0, 0, self.size.0, self.size.1));
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
mod tests {
    use super::*;
    use crate::loader::{FailureKind, ReplaySource};
    use crate::synthetic;

    fn browsing() -> App {
        App::browsing(
            Loaded {
                inv: synthetic::demo(),
                origin: "test".into(),
                warnings: Vec::new(),
            },
            (120, 40),
        )
    }

    fn press(app: &mut App, code: KeyCode) {
        app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    fn ctrl_c(app: &mut App) {
        app.update(AppEvent::Key(KeyEvent::new(
            KeyCode::Char('c'),
            KeyModifiers::CONTROL,
        )));
    }

    fn typed(app: &mut App, s: &str) {
        for c in s.chars() {
            press(app, KeyCode::Char(c));
        }
    }

    fn selected_pid(app: &App) -> i32 {
        let b = app.browser().unwrap();
        b.inv.processes[b.selected().unwrap()].pid
    }

    #[test]
    fn arrows_and_vim_keys_move_and_open() {
        let mut app = browsing();
        press(&mut app, KeyCode::Char('G'));
        assert_eq!(selected_pid(&app), 1420);
        press(&mut app, KeyCode::Char('l'));
        press(&mut app, KeyCode::Down);
        assert_eq!(selected_pid(&app), 1421);
        press(&mut app, KeyCode::Char('h'));
        assert_eq!(selected_pid(&app), 1420);
        press(&mut app, KeyCode::Enter); // close
        press(&mut app, KeyCode::Char('k'));
        assert_eq!(selected_pid(&app), 1402);
        press(&mut app, KeyCode::Home);
        assert_eq!(selected_pid(&app), 812);
        press(&mut app, KeyCode::PageDown);
        assert_eq!(selected_pid(&app), 1420, "a page is longer than the tree");
    }

    #[test]
    fn tab_cycles_panes_and_keys_follow_the_focus() {
        let mut app = browsing();
        app.update(AppEvent::Resize(80, 24)); // the details do not fit: they scroll
        assert_eq!(app.context(), Context::Tree);
        press(&mut app, KeyCode::Tab);
        assert_eq!(app.context(), Context::Details);
        press(&mut app, KeyCode::Tab);
        assert_eq!(app.context(), Context::Files);
        app.update(AppEvent::Key(KeyEvent::new(
            KeyCode::BackTab,
            KeyModifiers::SHIFT,
        )));
        assert_eq!(app.context(), Context::Details);
        // In the details pane, down scrolls instead of moving the tree's cursor.
        press(&mut app, KeyCode::Down);
        assert_eq!(selected_pid(&app), 812);
        assert_eq!(app.browser().unwrap().details_scroll, 1);
        press(&mut app, KeyCode::End);
        press(&mut app, KeyCode::Down);
        let end = app.browser().unwrap().details_scroll;
        assert!(end > 1 && end < 20, "{end}");
        app.update(AppEvent::Resize(120, 40));
        press(&mut app, KeyCode::Up);
        assert_eq!(
            app.browser().unwrap().details_scroll,
            0,
            "fits again: no scrolling"
        );
    }

    #[test]
    fn subtree_toggle_and_sort_recompute_the_file_rows() {
        let mut app = browsing();
        assert_eq!(app.browser().unwrap().files.rows().len(), 1);
        press(&mut app, KeyCode::Char('s'));
        assert_eq!(app.browser().unwrap().files.rows().len(), 7);
        press(&mut app, KeyCode::Char('o'));
        let b = app.browser().unwrap();
        let paths: Vec<_> = b
            .files
            .rows()
            .iter()
            .map(|&f| b.inv.files[f].path.clone())
            .collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted);
    }

    #[test]
    fn time_filter_prompt_refuses_nonsense_and_applies_a_window() {
        let mut app = browsing();
        press(&mut app, KeyCode::Char('s'));
        press(&mut app, KeyCode::Char('t'));
        assert_eq!(app.context(), Context::Prompt);
        typed(&mut app, "soon");
        press(&mut app, KeyCode::Enter);
        let Some(Overlay::Prompt(p)) = &app.overlay else {
            panic!()
        };
        assert!(p.error.as_deref().unwrap_or("").contains("-10m"));
        app.update(AppEvent::Key(KeyEvent::new(
            KeyCode::Char('u'),
            KeyModifiers::CONTROL,
        )));
        typed(&mut app, "10:01:30..10:01:40"); // only the CGI hit
        press(&mut app, KeyCode::Enter);
        assert!(app.overlay.is_none());
        let b = app.browser().unwrap();
        assert_eq!(b.files.rows().len(), 1);
        let active: Vec<i32> = b
            .inv
            .processes
            .iter()
            .filter(|p| b.active[p.id])
            .map(|p| p.pid)
            .collect();
        assert_eq!(
            active,
            [812, 830, 1201, 1220, 1301],
            "the hit and its ancestors"
        );
        // An empty window clears the filter.
        press(&mut app, KeyCode::Char('t'));
        app.update(AppEvent::Key(KeyEvent::new(
            KeyCode::Char('u'),
            KeyModifiers::CONTROL,
        )));
        press(&mut app, KeyCode::Enter);
        assert!(app.browser().unwrap().filter.is_empty());
    }

    #[test]
    fn search_jumps_and_n_walks_the_hits() {
        let mut app = browsing();
        press(&mut app, KeyCode::Char('/'));
        typed(&mut app, "root.txt");
        press(&mut app, KeyCode::Enter);
        assert_eq!(selected_pid(&app), 1420);
        assert!(app.message.as_deref().unwrap().contains("1/3"));
        press(&mut app, KeyCode::Char('n'));
        assert_eq!(selected_pid(&app), 1422);
        press(&mut app, KeyCode::Char('N'));
        press(&mut app, KeyCode::Char('N'));
        assert_eq!(selected_pid(&app), 1423, "wraps to the last hit");
        // q typed into the prompt is text, not quit.
        press(&mut app, KeyCode::Char('/'));
        typed(&mut app, "q");
        assert!(!app.quit);
        press(&mut app, KeyCode::Esc);
        assert!(app.overlay.is_none());
    }

    #[test]
    fn export_asks_for_a_path_with_a_default_and_queues_the_write() {
        let mut app = browsing();
        press(&mut app, KeyCode::Char('G'));
        press(&mut app, KeyCode::Char('e'));
        let Some(Overlay::Prompt(p)) = &app.overlay else {
            panic!()
        };
        assert_eq!(p.text, "dockwatch-synthetic-host-1420-sh.json");
        press(&mut app, KeyCode::Enter);
        let node = app.browser().unwrap().selected().unwrap();
        assert_eq!(
            app.take_commands(),
            [Command::Export {
                node,
                path: "dockwatch-synthetic-host-1420-sh.json".into()
            }]
        );
        app.export_finished(Ok("/tmp/x.json".into()));
        assert_eq!(app.message.as_deref(), Some("exported to /tmp/x.json"));
    }

    #[test]
    fn quit_while_loading_cancels_and_rerun_cancel_returns_to_the_old_result() {
        let mut app = App::new(Source::Demo, (80, 24));
        assert_eq!(app.take_commands(), [Command::StartJob(1, Source::Demo)]);
        press(&mut app, KeyCode::Char('q'));
        assert!(app.quit);
        assert_eq!(app.take_commands(), [Command::CancelJob]);

        let mut app = browsing();
        press(&mut app, KeyCode::Char('r'));
        assert_eq!(app.context(), Context::Loading);
        assert!(matches!(
            app.take_commands()[..],
            [Command::StartJob(_, Source::Demo)]
        ));
        ctrl_c(&mut app);
        assert!(!app.quit);
        assert_eq!(app.context(), Context::Tree);
        assert_eq!(app.message.as_deref(), Some("re-run cancelled"));
    }

    #[test]
    fn picker_choice_starts_a_job_for_that_boot_and_errors_offer_retry() {
        let source = Source::Replay(ReplaySource {
            path: "c.jsonl".into(),
            host: None,
            boot: None,
        });
        let mut app = App::new(source.clone(), (80, 24));
        app.take_commands();
        let boot = |id: &str| BootChoice {
            host: "h".into(),
            boot_id: id.into(),
            events: 1,
            first: Timestamp(0),
            last: Timestamp(1),
        };
        app.update(AppEvent::Job {
            job: 1,
            msg: JobMsg::Finished(Outcome::Choose(vec![boot("a"), boot("b")])),
        });
        assert_eq!(app.context(), Context::Picker);
        press(&mut app, KeyCode::Char('j'));
        press(&mut app, KeyCode::Enter);
        let chosen = source.with_boot("h", "b");
        assert_eq!(app.take_commands(), [Command::StartJob(2, chosen.clone())]);
        // A late message from the first job is ignored.
        app.update(AppEvent::Job {
            job: 1,
            msg: JobMsg::Finished(Outcome::Cancelled),
        });
        assert!(!app.quit);
        app.update(AppEvent::Job {
            job: 2,
            msg: JobMsg::Finished(Outcome::Failed(Failure {
                kind: FailureKind::BadInput,
                detail: "x".into(),
                hint: "y".into(),
            })),
        });
        assert_eq!(app.context(), Context::Error);
        press(&mut app, KeyCode::Char('r'));
        assert_eq!(app.take_commands(), [Command::StartJob(3, chosen)]);
    }

    #[test]
    fn help_opens_from_anywhere_and_closes_with_esc() {
        let mut app = browsing();
        press(&mut app, KeyCode::Char('?'));
        assert_eq!(app.context(), Context::Help);
        press(&mut app, KeyCode::Char('j'));
        assert_eq!(app.overlay, Some(Overlay::Help(1)));
        press(&mut app, KeyCode::Esc);
        assert_eq!(app.context(), Context::Tree);
    }

    #[test]
    fn mouse_wheel_scrolls_the_pane_under_the_pointer() {
        let mut app = browsing();
        let areas = ui::layout(Rect::new(0, 0, 120, 40));
        let wheel = |kind, x, y| MouseEvent {
            kind,
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        };
        app.update(AppEvent::Mouse(wheel(
            MouseEventKind::ScrollDown,
            areas.tree.x + 2,
            areas.tree.y + 2,
        )));
        assert_eq!(selected_pid(&app), 1220, "three rows down");
        app.update(AppEvent::Mouse(wheel(
            MouseEventKind::Down(MouseButton::Left),
            areas.files.x + 2,
            areas.files.y + 2,
        )));
        assert_eq!(app.context(), Context::Files);
    }
}
