//! The `c` container view's model: the containers of the recording, and for the one opened the
//! paths its workload changed (see `dockwatch_shared::presentation::containers`), with a cursor
//! in each list. The runtime's own changes are hidden until the analyst asks for them.

use dockwatch_shared::model::investigation::{Investigation, NodeId};
use dockwatch_shared::presentation::containers::{
    ContainerSummary, PathChange, changes, containers,
};

/// The view's state.
#[derive(Clone, Debug, PartialEq)]
pub struct ContainersView {
    /// Every container, by start time.
    pub list: Vec<ContainerSummary>,
    /// The container under the cursor.
    pub cursor: usize,
    /// The container opened, with its changes and the cursor in them.
    pub opened: Option<Opened>,
    /// Show the runtime's own changes too.
    pub plumbing: bool,
}

/// One container's changes.
#[derive(Clone, Debug, PartialEq)]
pub struct Opened {
    /// Which container (an index into the list).
    pub container: usize,
    /// Its changed paths, by first change.
    pub changes: Vec<PathChange>,
    /// The change under the cursor.
    pub cursor: usize,
}

impl ContainersView {
    /// The containers of `inv`, none opened.
    pub fn new(inv: &Investigation) -> Self {
        Self {
            list: containers(inv),
            cursor: 0,
            opened: None,
            plumbing: false,
        }
    }

    /// Rows of the list shown now (containers, or the opened one's changes).
    pub fn len(&self) -> usize {
        match &self.opened {
            Some(o) => o.changes.len(),
            None => self.list.len(),
        }
    }

    /// True when the list shown has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves the cursor of the list shown by `delta` rows.
    pub fn move_by(&mut self, delta: isize) {
        let last = self.len().saturating_sub(1);
        let cursor = match &mut self.opened {
            Some(o) => &mut o.cursor,
            None => &mut self.cursor,
        };
        *cursor = cursor.saturating_add_signed(delta).min(last);
    }

    /// Opens the container under the cursor.
    pub fn open(&mut self, inv: &Investigation) {
        let Some(c) = self.list.get(self.cursor) else {
            return;
        };
        self.opened = Some(Opened {
            container: self.cursor,
            changes: changes(inv, &c.id, self.plumbing),
            cursor: 0,
        });
    }

    /// Back from a container's changes to the list; false when the list was shown already.
    pub fn back(&mut self) -> bool {
        self.opened.take().is_some()
    }

    /// Shows or hides the runtime's own changes (and the opened container's list with them).
    pub fn toggle_plumbing(&mut self, inv: &Investigation) {
        self.plumbing = !self.plumbing;
        if let Some(o) = &mut self.opened {
            if let Some(c) = self.list.get(o.container) {
                o.changes = changes(inv, &c.id, self.plumbing);
                o.cursor = o.cursor.min(o.changes.len().saturating_sub(1));
            }
        }
    }

    /// The change under the cursor and the process that made it last, when a container is
    /// open.
    pub fn writer(&self) -> Option<(&PathChange, NodeId)> {
        let o = self.opened.as_ref()?;
        let change = o.changes.get(o.cursor)?;
        Some((change, *change.writers.last()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic;

    #[test]
    fn containers_open_to_their_changes_and_back() {
        let inv = synthetic::demo();
        let mut v = ContainersView::new(&inv);
        assert!(v.list.len() >= 2, "{:?}", v.list);
        let job = v
            .list
            .iter()
            .position(|c| c.name.as_deref() == Some("batch-job"))
            .expect("the batch job");
        v.move_by(job as isize);
        v.open(&inv);
        let paths: Vec<String> = v
            .opened
            .as_ref()
            .unwrap()
            .changes
            .iter()
            .map(|c| c.path.to_str_lossy().into_owned())
            .collect();
        assert!(paths.contains(&"/out/root.txt".to_owned()), "{paths:?}");
        let (change, writer) = v.writer().expect("a change and its writer");
        assert!(change.writers.contains(&writer));
        assert!(v.back());
        assert!(!v.back());
        assert_eq!(v.cursor, job, "the list keeps its cursor");
    }
}
