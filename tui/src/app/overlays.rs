//! What keys do in the views drawn over the browser: the container view and the timeline.

use super::{App, Overlay, Prompt, PromptKind, Screen};
use crate::keys::Action;
use crate::timeline::What;

/// How far a moving key moves the cursor of a list `page` rows high (`None`: not a move).
fn list_move(action: Action, page: usize) -> Option<isize> {
    let page = page.max(1) as isize;
    Some(match action {
        Action::Up => -1,
        Action::Down => 1,
        Action::PageUp => -page,
        Action::PageDown => page,
        Action::Home => isize::MIN,
        Action::End => isize::MAX,
        _ => return None,
    })
}

impl App {
    /// What a key does in the container view.
    pub(super) fn containers_action(
        &mut self,
        action: Action,
        tree_page: usize,
        files_page: usize,
    ) {
        let (Some(Overlay::Containers(view)), Screen::Browse(b)) =
            (&mut self.overlay, &mut self.screen)
        else {
            return;
        };
        if let Some(delta) = list_move(action, tree_page) {
            view.move_by(delta);
            return;
        }
        match action {
            Action::Plumbing => view.toggle_plumbing(&b.inv),
            Action::Close if !view.back() => self.overlay = None,
            Action::Choose => match view.writer() {
                // On a change: to the process that made it, with the file's row.
                Some((change, writer)) => {
                    let path = change.path.clone();
                    b.jump_to_file(writer, &path, tree_page, files_page);
                    self.overlay = None;
                }
                None if view.opened.is_none() => view.open(&b.inv),
                None => {}
            },
            _ => {}
        }
    }

    /// What a key does in the timeline.
    pub(super) fn timeline_action(&mut self, action: Action, tree_page: usize, files_page: usize) {
        let Screen::Browse(b) = &mut self.screen else {
            return;
        };
        let Some(t) = b.timeline.as_mut() else {
            self.overlay = None;
            return;
        };
        if let Some(delta) = list_move(action, tree_page) {
            t.move_by(delta);
            return;
        }
        match action {
            Action::Close => self.overlay = None,
            Action::RelativeTime => self.message = Some(b.toggle_clock()),
            Action::Filter => {
                let current = (!t.filter.is_empty()).then(|| t.filter.clone());
                let kind = PromptKind::Timeline;
                let history = &self.histories[kind.history_slot()];
                self.overlay = Some(Overlay::Prompt(Prompt::new(kind, history, current)));
            }
            Action::Choose => {
                if let Some(entry) = t.current() {
                    match (entry.node, entry.what) {
                        (Some(node), What::File(file)) => {
                            b.jump_to(node, tree_page);
                            b.files.select(file, files_page);
                            self.overlay = None;
                        }
                        (Some(node), _) => {
                            b.jump_to(node, tree_page);
                            self.overlay = None;
                        }
                        (None, _) => {
                            self.message =
                                Some("a gap: events were lost here (! lists every gap)".to_owned());
                        }
                    }
                }
            }
            _ => {}
        }
    }
}
