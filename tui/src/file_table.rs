//! The file pane's model: which file records are shown, in which order, and where the cursor is.
//!
//! The index vector is computed when its inputs change (selected process, subtree toggle, sort,
//! time filter), never per frame; drawing reads only the rows on screen.

use dockwatch_shared::ByteString;
use dockwatch_shared::model::investigation::{FileId, Investigation, NodeId};

use dockwatch_shared::presentation::containers::{by_the_runtime, is_plumbing};

use crate::timefilter::TimeFilter;

/// Whose files are shown.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Scope {
    /// The selected process only.
    #[default]
    Process,
    /// The selected process and every descendant.
    Subtree,
    /// Who touched this path: every record of it in the whole tree (renames to it included),
    /// whatever process is selected.
    Path(ByteString),
}

impl Scope {
    /// The scope `s` toggles to: process ⇄ subtree (a path's list goes back to the process).
    pub fn toggled(&self) -> Scope {
        match self {
            Scope::Process => Scope::Subtree,
            Scope::Subtree | Scope::Path(_) => Scope::Process,
        }
    }
}

/// The order of the rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortKey {
    /// By first activity (open, first write, close).
    #[default]
    Time,
    /// By path, then time.
    Path,
}

/// The shown file records and the scroll position.
#[derive(Clone, Debug, Default)]
pub struct FileTable {
    rows: Vec<FileId>,
    cursor: usize,
    offset: usize,
    /// Whose files are shown.
    pub scope: Scope,
    /// The order.
    pub sort: SortKey,
    /// Records of the scope before the time filter.
    pub unfiltered: usize,
    /// Whether the runtime's records are shown (see [`is_runtime_record`]).
    pub plumbing: bool,
    /// Records of the scope left out because the runtime made them.
    pub hidden: usize,
}

/// True for a record the container runtime made: by one of its processes, or by a workload
/// process before its first exec, when it was still `runc init` (see
/// [`by_the_runtime`]).
pub fn is_runtime_record(inv: &Investigation, f: FileId) -> bool {
    is_plumbing(&inv.processes[inv.files[f].node]) || by_the_runtime(inv, f)
}

impl FileTable {
    /// Recomputes the rows for `node` (none: empty) under the scope, sort, runtime choice and
    /// filter.
    pub fn recompute(&mut self, inv: &Investigation, node: Option<NodeId>, filter: &TimeFilter) {
        self.rows.clear();
        self.unfiltered = 0;
        match (&self.scope, node) {
            (Scope::Path(path), _) => {
                self.rows.extend(
                    inv.files
                        .iter()
                        .enumerate()
                        .filter(|(_, f)| f.path == *path || f.renamed_to.as_ref() == Some(path))
                        .map(|(id, _)| id),
                );
            }
            (_, None) => {}
            (Scope::Process, Some(node)) => self.rows.extend_from_slice(&inv.processes[node].files),
            (Scope::Subtree, Some(node)) => {
                let mut stack = vec![node];
                while let Some(n) = stack.pop() {
                    let p = &inv.processes[n];
                    self.rows.extend_from_slice(&p.files);
                    stack.extend_from_slice(&p.children);
                }
            }
        }
        self.hidden = 0;
        if !self.plumbing {
            let before = self.rows.len();
            self.rows.retain(|&f| !is_runtime_record(inv, f));
            self.hidden = before - self.rows.len();
        }
        self.unfiltered = self.rows.len();
        if !filter.is_empty() {
            self.rows.retain(|&f| {
                let r = &inv.files[f];
                match (r.first_time(), r.last_time()) {
                    (Some(a), Some(b)) => filter.overlaps(a, b),
                    _ => false,
                }
            });
        }
        let time = |f: FileId| {
            inv.files[f]
                .first_time()
                .map_or(i64::MIN, |t| t.as_micros())
        };
        match self.sort {
            SortKey::Time => self.rows.sort_unstable_by_key(|&f| (time(f), f)),
            SortKey::Path => self.rows.sort_unstable_by(|&a, &b| {
                inv.files[a]
                    .path
                    .cmp(&inv.files[b].path)
                    .then_with(|| time(a).cmp(&time(b)))
                    .then(a.cmp(&b))
            }),
        }
        self.cursor = 0;
        self.offset = 0;
    }

    /// Puts the cursor on record `file` when it is shown; false when it is not.
    pub fn select(&mut self, file: FileId, height: usize) -> bool {
        match self.rows.iter().position(|&f| f == file) {
            Some(row) => {
                self.cursor = row;
                self.scroll_into_view(height);
                true
            }
            None => false,
        }
    }

    /// Puts the cursor and the window back where they were (after the rows were recomputed
    /// for a later investigation), as far as the rows reach.
    pub fn keep_position(&mut self, cursor: usize, offset: usize, height: usize) {
        self.cursor = cursor.min(self.rows.len().saturating_sub(1));
        self.offset = offset.min(self.cursor);
        self.scroll_into_view(height);
    }

    /// The record under the cursor.
    pub fn current(&self) -> Option<FileId> {
        self.rows.get(self.cursor).copied()
    }

    /// The shown records, in order.
    pub fn rows(&self) -> &[FileId] {
        &self.rows
    }

    /// The cursor's row.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// The first row on screen.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Moves the cursor by `delta` rows and scrolls so it stays in a window of `height` rows.
    pub fn move_by(&mut self, delta: isize, height: usize) {
        self.cursor = self
            .cursor
            .saturating_add_signed(delta)
            .min(self.rows.len().saturating_sub(1));
        self.scroll_into_view(height);
    }

    /// Scrolls the view by `delta` rows without moving past either end (mouse wheel).
    pub fn scroll_by(&mut self, delta: isize, height: usize) {
        let max = self.rows.len().saturating_sub(height.max(1));
        self.offset = self.offset.saturating_add_signed(delta).min(max);
        self.cursor = self.cursor.clamp(
            self.offset,
            (self.offset + height.max(1) - 1)
                .min(self.rows.len().saturating_sub(1))
                .max(self.offset),
        );
    }

    /// Puts the cursor on the row shown at `line` (0 = first row on screen).
    pub fn click(&mut self, line: usize, height: usize) {
        let row = self.offset + line;
        if row < self.rows.len() {
            self.cursor = row;
            self.scroll_into_view(height);
        }
    }

    /// Keeps the cursor inside a window of `height` rows.
    pub fn scroll_into_view(&mut self, height: usize) {
        let height = height.max(1);
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + height {
            self.offset = self.cursor + 1 - height;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::{self, t};

    fn paths(inv: &Investigation, table: &FileTable) -> Vec<String> {
        table
            .rows()
            .iter()
            .map(|&f| inv.files[f].path.to_str_lossy().into_owned())
            .collect()
    }

    #[test]
    fn subtree_scope_collects_descendants_and_sorts() {
        let inv = synthetic::demo();
        let job = inv.processes.iter().position(|p| p.pid == 1420).unwrap();
        let mut table = FileTable::default();
        table.recompute(&inv, Some(job), &TimeFilter::default());
        assert!(table.rows().is_empty());
        table.scope = Scope::Subtree;
        table.recompute(&inv, Some(job), &TimeFilter::default());
        assert_eq!(
            paths(&inv, &table),
            ["/out/root.txt", "/out/root.txt", "/tmp/scratch"]
        );
        table.sort = SortKey::Path;
        table.recompute(&inv, Some(job), &TimeFilter::default());
        assert_eq!(paths(&inv, &table)[2], "/tmp/scratch");
    }

    #[test]
    fn time_filter_keeps_overlapping_records() {
        let inv = synthetic::demo();
        let mut table = FileTable {
            scope: Scope::Subtree,
            ..FileTable::default()
        };
        let filter = TimeFilter {
            from: Some(t(95.0)),
            to: Some(t(100.0)),
        };
        table.recompute(&inv, Some(0), &filter);
        assert_eq!(paths(&inv, &table), ["/tmp/hits"]);
        assert!(table.unfiltered > 5);
    }

    #[test]
    fn cursor_scrolls_the_window() {
        let inv = synthetic::large(1, 10, 100);
        let mut table = FileTable {
            scope: Scope::Subtree,
            ..FileTable::default()
        };
        table.recompute(&inv, Some(0), &TimeFilter::default());
        table.move_by(15, 10);
        assert_eq!((table.cursor(), table.offset()), (15, 6));
        table.move_by(-100, 10);
        assert_eq!((table.cursor(), table.offset()), (0, 0));
        table.move_by(1000, 10);
        assert_eq!((table.cursor(), table.offset()), (99, 90));
        table.scroll_by(-50, 10);
        assert_eq!(table.offset(), 40);
        assert!(table.cursor() < 50);
    }
}
