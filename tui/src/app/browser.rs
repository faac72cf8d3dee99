//! The browser screen's state: the investigation, its tree and file panes, search, time window
//! and details scroll, and what the analyst's actions do to them.

use dockwatch_shared::Timestamp;
use dockwatch_shared::model::investigation::{Investigation, NodeId};

use super::Pane;
use crate::file_table::FileTable;
use crate::keys::{Action, Context};
use crate::loader::Loaded;
use crate::search::{self, Search};
use crate::timefilter::{Anchors, TimeFilter};
use crate::tree_model::TreeModel;

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
    pub(super) order: Vec<NodeId>,
    pub(super) order_index: Vec<usize>,
    /// First and last recorded times (for relative time filters).
    pub anchors: Anchors,
    /// Per process: a gap (events lost) overlaps its life, so its story may be incomplete.
    pub in_gap: Vec<bool>,
    /// How the tables show times (`R`: since the container's start).
    pub clock: crate::clock::Clock,
    /// The focused pane fills the screen (`z`).
    pub zoom: bool,
    /// The timeline last opened with `T` (shown while the timeline overlay is up).
    pub timeline: Option<crate::timeline::Timeline>,
    /// The narrowing filter's query (`f`), while one is set.
    pub narrowed: Option<String>,
}

/// Which processes lived while events were lost: a gap's range overlaps the process's life
/// (from its start to its exit, or to the end of the recording).
pub fn lived_through_gaps(inv: &Investigation) -> Vec<bool> {
    // The gaps' ranges, merged into sorted disjoint ones.
    let mut ranges: Vec<(Timestamp, Timestamp)> = inv.gaps.iter().map(|g| (g.from, g.to)).collect();
    ranges.sort_unstable();
    let mut merged: Vec<(Timestamp, Timestamp)> = Vec::with_capacity(ranges.len());
    for (from, to) in ranges {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    inv.processes
        .iter()
        .map(|p| {
            let (start, end) = crate::content::details::life_span(p);
            // The last range that begins before the process ends overlaps it when it reaches
            // its start.
            let before_end = merged.partition_point(|r| r.0 <= end);
            before_end
                .checked_sub(1)
                .is_some_and(|i| merged[i].1 >= start)
        })
        .collect()
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

pub(super) fn anchors(inv: &Investigation) -> Anchors {
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
        let in_gap = lived_through_gaps(&inv);
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
            in_gap,
            timeline: None,
            zoom: false,
            clock: crate::clock::Clock::default(),
            narrowed: None,
        };
        browser.clock = crate::clock::Clock::new(&browser.inv);
        browser.selection_changed();
        browser
    }

    /// Takes a later investigation of the same recording (one being followed), keeping what
    /// the analyst set up: the selected process and its place on screen, the open processes,
    /// the runtime shown or hidden, the narrowing filter, the search, the time filter, the
    /// file pane's scope, order and position, the focus, zoom and clock. `tree_page` and
    /// `files_page` are the panes' heights.
    pub fn take_update(&mut self, loaded: Loaded, tree_page: usize, files_page: usize) {
        let old = std::mem::replace(self, Browser::new(loaded));
        self.focus = old.focus;
        self.zoom = old.zoom;
        self.clock.relative = old.clock.relative;
        let keep = old
            .narrowed
            .as_deref()
            .and_then(|q| self.keep_for(q))
            .map(|(keep, _)| keep);
        self.narrowed = old.narrowed.clone().filter(|_| keep.is_some());
        self.tree = old.tree.carried_to(&old.inv, &self.inv, keep, tree_page);
        self.filter = old.filter;
        self.active = activity(&self.inv, &self.filter);
        self.search = old.search.as_ref().map(|s| {
            let mut again = self.search_shown(&s.query);
            again.current = s.current.min(again.hits.len().saturating_sub(1));
            again
        });
        self.files.scope = old.files.scope.clone();
        self.files.sort = old.files.sort;
        self.refresh_files();
        self.files
            .keep_position(old.files.cursor(), old.files.offset(), files_page);
        let same = |b: &Browser| b.selected().map(|n| b.inv.processes[n].key);
        if same(self) == same(&old) {
            self.details_scroll = old.details_scroll;
        }
    }

    /// The selected process.
    pub fn selected(&self) -> Option<NodeId> {
        self.tree.selected()
    }

    pub(super) fn selection_changed(&mut self) {
        self.details_scroll = 0;
        self.refresh_files();
    }

    pub(super) fn refresh_files(&mut self) {
        let node = self.tree.selected();
        self.files.plumbing = self.tree.shape().plumbing();
        self.files.recompute(&self.inv, node, &self.filter);
    }

    /// Shows or hides the container runtime's processes (tree) and records (file table).
    pub fn toggle_plumbing(&mut self, height: usize) -> String {
        let show = !self.tree.shape().plumbing();
        self.tree.set_plumbing(&self.inv, show, height);
        self.selection_changed();
        if show {
            "runtime shown (dockerd, containerd, shims, runc): p hides it".to_owned()
        } else {
            let n = self.tree.shape().hidden();
            format!("{n} runtime processes hidden, with their file records: p shows them")
        }
    }

    /// Applies a time filter: dims inactive processes and filters the file table.
    pub fn set_filter(&mut self, filter: TimeFilter) {
        self.filter = filter;
        self.active = activity(&self.inv, &self.filter);
        self.refresh_files();
    }

    /// Runs a search and jumps to its first hit (see [`Search::start_from`]).
    pub fn run_search(&mut self, query: &str, height: usize, files_page: usize) -> String {
        let runtime_hidden = !self.tree.shape().plumbing();
        let mut s = self.search_shown(query);
        if let Some(sel) = self.selected() {
            let index = &self.order_index;
            s.start_from(|n| index.get(n).copied().unwrap_or(usize::MAX), sel);
        }
        let hit = s.hit();
        let mut msg = search_message(&s);
        if hit.is_none() && runtime_hidden {
            msg.push_str(" (runtime hidden: p shows it)");
        }
        self.search = Some(s);
        if let Some(hit) = hit {
            self.show_hit(hit, height, files_page);
        }
        msg
    }

    pub(super) fn jump_to(&mut self, node: NodeId, height: usize) {
        self.tree.reveal(&self.inv, node, height);
        self.selection_changed();
    }

    /// Selects `node` in the tree and, in its file table, its record of `path` (or of a rename
    /// to it).
    pub(super) fn jump_to_file(
        &mut self,
        node: NodeId,
        path: &dockwatch_shared::ByteString,
        tree_page: usize,
        files_page: usize,
    ) {
        self.jump_to(node, tree_page);
        let file = self.inv.processes[node].files.iter().copied().find(|&f| {
            let r = &self.inv.files[f];
            r.path == *path || r.renamed_to.as_ref() == Some(path)
        });
        if let Some(f) = file {
            self.files.select(f, files_page);
        }
    }

    /// Shows a search hit: its process in the tree and, for a file-path hit, the file's row in
    /// the file table (the focus stays where it is).
    fn show_hit(&mut self, hit: search::Hit, tree_page: usize, files_page: usize) {
        self.jump_to(hit.node, tree_page);
        if let Some(file) = hit.file {
            self.files.select(file, files_page);
        }
    }

    pub(super) fn step_search(
        &mut self,
        forward: bool,
        height: usize,
        files_page: usize,
    ) -> String {
        let Some(s) = self.search.as_mut() else {
            return "no search yet: press / to search".to_owned();
        };
        let hit = if forward { s.next_hit() } else { s.prev_hit() };
        let msg = search_message(s);
        if let Some(hit) = hit {
            self.show_hit(hit, height, files_page);
        }
        msg
    }

    pub(super) fn tree_action(&mut self, action: Action, page: usize) -> bool {
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
            Action::ExpandAll => self.tree.expand_all(&self.inv, h),
            Action::CollapseAll => self.tree.collapse_all(&self.inv, h),
            _ => return false,
        }
        if self.tree.selected() != before {
            self.selection_changed();
        }
        true
    }

    pub(super) fn files_action(&mut self, action: Action, page: usize, tree_page: usize) -> bool {
        let p = page.max(1) as isize;
        match action {
            Action::Writer => {
                if let Some(file) = self.files.current() {
                    self.jump_to(self.inv.files[file].node, tree_page);
                    self.files.select(file, page);
                    self.focus = Pane::Tree;
                }
            }
            Action::WhoTouched => {
                if let Some(file) = self.files.current() {
                    let path = self.inv.files[file].path.clone();
                    self.files.scope = crate::file_table::Scope::Path(path);
                    self.refresh_files();
                    self.files.select(file, page);
                }
            }
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

    pub(super) fn details_action(&mut self, action: Action, page: usize, width: u16) -> bool {
        let max = self
            .selected()
            .map(|n| crate::content::details::content_height(&self.inv, n, width))
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

    /// Searches every process but, while it is hidden, the runtime's (a hit outside a narrowing
    /// filter clears the filter when shown).
    fn search_shown(&self, query: &str) -> Search {
        if self.tree.shape().plumbing() {
            return search::search(&self.inv, &self.order, query, true);
        }
        let order: Vec<NodeId> = self
            .order
            .iter()
            .copied()
            .filter(|&n| {
                !dockwatch_shared::presentation::containers::is_plumbing(&self.inv.processes[n])
            })
            .collect();
        search::search(&self.inv, &order, query, false)
    }

    /// Narrows the tree to the processes matching `query` (as `/` matches them: pid, comm,
    /// args, container, file path) and their ancestors; an empty query shows every process.
    pub fn narrow(&mut self, query: &str, height: usize) -> String {
        let query = query.trim();
        if query.is_empty() {
            self.tree.narrow(&self.inv, None, height);
            self.narrowed = None;
            self.selection_changed();
            return "every process shown".to_owned();
        }
        let Some((keep, hits)) = self.keep_for(query) else {
            return format!("no process matches {query:?}: the tree is unchanged");
        };
        self.tree.narrow(&self.inv, Some(keep), height);
        self.narrowed = Some(query.to_owned());
        self.selection_changed();
        format!(
            "narrowed to the {hits} processes matching {query:?} and their ancestors (f, empty: all)"
        )
    }

    /// The processes the narrowing filter `query` keeps (those it matches and their
    /// ancestors) and how many it matches; `None` when it matches none.
    fn keep_for(&self, query: &str) -> Option<(Vec<bool>, usize)> {
        let hits = self.search_shown(query).hits;
        if hits.is_empty() {
            return None;
        }
        let mut keep = vec![false; self.inv.processes.len()];
        for hit in &hits {
            let mut cur = Some(hit.node);
            while let Some(n) = cur.filter(|&n| !keep[n]) {
                keep[n] = true;
                cur = self.inv.processes[n].parent;
            }
        }
        Some((keep, hits.len()))
    }

    /// Switches the tables between times since the container's start and times of day.
    pub fn toggle_clock(&mut self) -> String {
        self.clock.relative = !self.clock.relative;
        if self.clock.relative {
            "times since each container's start (R: times of day)".to_owned()
        } else {
            "times of day, UTC (R: since each container's start)".to_owned()
        }
    }

    /// What `y` copies in `context`: in the file pane the file's host path (else its path), in
    /// the others the selected process's command line; with a word saying which.
    pub fn selected_value(&self, context: Context) -> Option<(&'static str, String)> {
        if context == Context::Files {
            let r = &self.inv.files[self.files.current()?];
            return Some(match &r.host_path {
                Some(h) => ("the host path", h.to_str_lossy().into_owned()),
                None => ("the path", r.path.to_str_lossy().into_owned()),
            });
        }
        let p = &self.inv.processes[self.selected()?];
        let args: Vec<String> = p
            .args
            .iter()
            .map(|a| a.to_str_lossy().into_owned())
            .collect();
        Some(("the command line", args.join(" ")))
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

pub(super) fn search_message(s: &Search) -> String {
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
