//! Key bindings as data: one table ([`BINDINGS`]) drives key dispatch, the status line's hints
//! and the `?` help screen, so the three cannot disagree.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a key does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Cursor up / scroll up.
    Up,
    /// Cursor down / scroll down.
    Down,
    /// Close the node, or go to its parent.
    Left,
    /// Open the node.
    Right,
    /// One page up.
    PageUp,
    /// One page down.
    PageDown,
    /// First row.
    Home,
    /// Last row.
    End,
    /// Open or close the node.
    Toggle,
    /// Open the node and everything below it.
    ExpandAll,
    /// Close the node and everything below it.
    CollapseAll,
    /// Go to the process that touched the file under the cursor.
    Writer,
    /// List every operation on the path under the cursor, in the whole tree.
    WhoTouched,
    /// Open the chosen (host, boot).
    Choose,
    /// Focus the next pane.
    NextPane,
    /// Focus the previous pane.
    PrevPane,
    /// Start a search.
    Search,
    /// Next search hit.
    NextMatch,
    /// Previous search hit.
    PrevMatch,
    /// Set the time filter.
    TimeFilter,
    /// Toggle the file table between the process and its subtree.
    Subtree,
    /// Toggle the file table's order (time / path).
    Sort,
    /// Export the selected subtree to JSON.
    Export,
    /// Re-run the pipeline (or retry after an error).
    Rerun,
    /// Show the help.
    Help,
    /// List the gaps (where events were lost).
    Gaps,
    /// Show the containers and what each changed.
    Containers,
    /// Show the selected subtree's timeline.
    Timeline,
    /// Zoom the focused pane to the whole screen, or back.
    Zoom,
    /// Copy the selected value to the clipboard.
    Copy,
    /// Narrow the tree to matching processes.
    Narrow,
    /// Show times since the container's start, or times of day.
    RelativeTime,
    /// Filter the list shown (the timeline).
    Filter,
    /// Show or hide the runtime's own changes in the container view.
    Plumbing,
    /// Pause or resume the updates of a followed recording.
    Pause,
    /// Close the help or the prompt.
    Close,
    /// Accept the prompt.
    Submit,
    /// Quit (or cancel loading).
    Quit,
}

/// Where the analyst is; each binding lists where it works.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Context {
    /// The progress screen of a running job.
    Loading,
    /// Choosing a (host, boot).
    Picker,
    /// An error screen.
    Error,
    /// The process tree pane.
    Tree,
    /// The details pane.
    Details,
    /// The file table pane.
    Files,
    /// The help screen.
    Help,
    /// A text prompt (search, time filter, export path).
    Prompt,
    /// The container view.
    Containers,
    /// The timeline.
    Timeline,
}

/// One key (code plus Ctrl/Alt; Shift is part of the character or of BackTab).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Ctrl and Alt.
    pub mods: KeyModifiers,
}

const fn k(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::NONE,
    }
}

const fn ch(c: char) -> Key {
    k(KeyCode::Char(c))
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
    }
}

/// A row of the table.
#[derive(Debug)]
pub struct Binding {
    /// What it does.
    pub action: Action,
    /// The keys that do it.
    pub keys: &'static [Key],
    /// The keys as shown to the analyst.
    pub shown: &'static str,
    /// A word or two for the status line (empty: not in the status line).
    pub hint: &'static str,
    /// A sentence for the help screen.
    pub help: &'static str,
    /// Where it works.
    pub contexts: &'static [Context],
}

use Context::{Containers, Details, Error, Files, Help, Loading, Picker, Prompt, Timeline, Tree};

const BROWSE: &[Context] = &[Tree, Details, Files];
const MOVE: &[Context] = &[Picker, Tree, Details, Files, Help, Containers, Timeline];

/// Every binding, in the order the help and the status line show them.
pub const BINDINGS: &[Binding] = &[
    Binding {
        action: Action::Up,
        keys: &[k(KeyCode::Up), ch('k')],
        shown: "↑/k",
        hint: "",
        help: "move up (scroll in details and help)",
        contexts: MOVE,
    },
    Binding {
        action: Action::Down,
        keys: &[k(KeyCode::Down), ch('j')],
        shown: "↓/j",
        hint: "↑↓ move",
        help: "move down",
        contexts: MOVE,
    },
    Binding {
        action: Action::Left,
        keys: &[k(KeyCode::Left), ch('h')],
        shown: "←/h",
        hint: "",
        help: "close the node, or go to its parent",
        contexts: &[Tree],
    },
    Binding {
        action: Action::Right,
        keys: &[k(KeyCode::Right), ch('l')],
        shown: "→/l",
        hint: "←→ close/open",
        help: "open the node",
        contexts: &[Tree],
    },
    Binding {
        action: Action::PageUp,
        keys: &[k(KeyCode::PageUp)],
        shown: "PgUp",
        hint: "",
        help: "one page up",
        contexts: MOVE,
    },
    Binding {
        action: Action::PageDown,
        keys: &[k(KeyCode::PageDown)],
        shown: "PgDn",
        hint: "",
        help: "one page down",
        contexts: MOVE,
    },
    Binding {
        action: Action::Home,
        keys: &[k(KeyCode::Home), ch('g')],
        shown: "Home/g",
        hint: "",
        help: "first row",
        contexts: MOVE,
    },
    Binding {
        action: Action::End,
        keys: &[k(KeyCode::End), ch('G')],
        shown: "End/G",
        hint: "",
        help: "last row",
        contexts: MOVE,
    },
    Binding {
        action: Action::Toggle,
        keys: &[k(KeyCode::Enter), ch(' ')],
        shown: "Enter/Space",
        hint: "Enter toggle",
        help: "open or close the node",
        contexts: &[Tree],
    },
    Binding {
        action: Action::ExpandAll,
        keys: &[ch('+'), ch('*')],
        shown: "+/*",
        hint: "",
        help: "open the node and every process below it",
        contexts: &[Tree],
    },
    Binding {
        action: Action::CollapseAll,
        keys: &[ch('-')],
        shown: "-",
        hint: "",
        help: "close the node and every process below it",
        contexts: &[Tree],
    },
    Binding {
        action: Action::Writer,
        keys: &[k(KeyCode::Enter)],
        shown: "Enter",
        hint: "Enter writer",
        help: "go to the process that touched the file, in the tree",
        contexts: &[Files],
    },
    Binding {
        action: Action::WhoTouched,
        keys: &[ch('w')],
        shown: "w",
        hint: "w who touched",
        help: "who touched this path: every operation on it in the whole tree, in time order",
        contexts: &[Files],
    },
    Binding {
        action: Action::Choose,
        keys: &[k(KeyCode::Enter)],
        shown: "Enter",
        hint: "Enter open",
        help: "investigate the chosen host and boot",
        contexts: &[Picker],
    },
    Binding {
        action: Action::Choose,
        keys: &[k(KeyCode::Enter)],
        shown: "Enter",
        hint: "Enter open/writer",
        help: "a container's changed paths; on a path, go to the process that changed it",
        contexts: &[Containers],
    },
    Binding {
        action: Action::Choose,
        keys: &[k(KeyCode::Enter)],
        shown: "Enter",
        hint: "Enter process",
        help: "in the timeline: go to the process of the line",
        contexts: &[Timeline],
    },
    Binding {
        action: Action::Filter,
        keys: &[ch('/')],
        shown: "/",
        hint: "/ filter",
        help: "in the timeline: keep paths below prefixes and kinds (write, unlink, exec, exit...)",
        contexts: &[Timeline],
    },
    Binding {
        action: Action::Plumbing,
        keys: &[ch('p')],
        shown: "p",
        hint: "p runtime",
        help: "show or hide the runtime (dockerd, containerd, shim, runc, runc init): its processes and changes",
        contexts: &[Tree, Details, Files, Containers],
    },
    Binding {
        action: Action::Pause,
        keys: &[ch('F')],
        shown: "F",
        hint: "",
        help: "following a recording (--follow): pause the updates, or take them again",
        contexts: BROWSE,
    },
    Binding {
        action: Action::Submit,
        keys: &[k(KeyCode::Enter)],
        shown: "Enter",
        hint: "Enter apply",
        help: "apply what was typed",
        contexts: &[Prompt],
    },
    Binding {
        action: Action::NextPane,
        keys: &[k(KeyCode::Tab)],
        shown: "Tab",
        hint: "Tab pane",
        help: "next pane (tree, details, files)",
        contexts: BROWSE,
    },
    Binding {
        action: Action::PrevPane,
        keys: &[k(KeyCode::BackTab)],
        shown: "Shift-Tab",
        hint: "",
        help: "previous pane",
        contexts: BROWSE,
    },
    Binding {
        action: Action::Zoom,
        keys: &[ch('z')],
        shown: "z",
        hint: "z zoom",
        help: "zoom the focused pane to the whole screen, or back",
        contexts: BROWSE,
    },
    Binding {
        action: Action::RelativeTime,
        keys: &[ch('R')],
        shown: "R",
        hint: "",
        help: "times since the container's start / times of day (UTC)",
        contexts: &[Tree, Details, Files, Timeline],
    },
    Binding {
        action: Action::Copy,
        keys: &[ch('y')],
        shown: "y",
        hint: "",
        help: "copy to the clipboard (OSC 52): the file's host path (else its path) in the file pane, the command line elsewhere",
        contexts: BROWSE,
    },
    Binding {
        action: Action::Search,
        keys: &[ch('/')],
        shown: "/",
        hint: "/ search",
        help: "search a pid, comm, args, container or file path",
        contexts: BROWSE,
    },
    Binding {
        action: Action::Narrow,
        keys: &[ch('f')],
        shown: "f",
        hint: "f filter",
        help: "narrow the tree to the processes matching (as / does) and their ancestors; empty shows all",
        contexts: BROWSE,
    },
    Binding {
        action: Action::NextMatch,
        keys: &[ch('n')],
        shown: "n",
        hint: "",
        help: "next search hit",
        contexts: BROWSE,
    },
    Binding {
        action: Action::PrevMatch,
        keys: &[ch('N')],
        shown: "N",
        hint: "",
        help: "previous search hit",
        contexts: BROWSE,
    },
    Binding {
        action: Action::TimeFilter,
        keys: &[ch('t')],
        shown: "t",
        hint: "t time",
        help: "time filter FROM..TO (11:20, -10m, +5m, RFC 3339; empty clears)",
        contexts: BROWSE,
    },
    Binding {
        action: Action::Subtree,
        keys: &[ch('s')],
        shown: "s",
        hint: "s subtree",
        help: "files of the process / of its whole subtree",
        contexts: BROWSE,
    },
    Binding {
        action: Action::Sort,
        keys: &[ch('o')],
        shown: "o",
        hint: "o sort",
        help: "sort files by time / by path",
        contexts: BROWSE,
    },
    Binding {
        action: Action::Export,
        keys: &[ch('e')],
        shown: "e",
        hint: "e export",
        help: "export the selected subtree to JSON",
        contexts: BROWSE,
    },
    Binding {
        action: Action::Rerun,
        keys: &[ch('r')],
        shown: "r",
        hint: "r rerun",
        help: "re-run the pipeline",
        contexts: BROWSE,
    },
    Binding {
        action: Action::Rerun,
        keys: &[ch('r')],
        shown: "r",
        hint: "r retry",
        help: "try loading again",
        contexts: &[Error],
    },
    Binding {
        action: Action::Help,
        keys: &[ch('?')],
        shown: "?",
        hint: "? help",
        help: "this help",
        contexts: &[Picker, Tree, Details, Files, Error],
    },
    Binding {
        action: Action::Gaps,
        keys: &[ch('!')],
        shown: "!",
        hint: "",
        help: "list the gaps: where events were lost, how many, and why",
        contexts: BROWSE,
    },
    Binding {
        action: Action::Containers,
        keys: &[ch('c')],
        shown: "c",
        hint: "c containers",
        help: "the containers and what each changed, like docker diff with who and when",
        contexts: BROWSE,
    },
    Binding {
        action: Action::Close,
        keys: &[k(KeyCode::Esc), ch('?'), ch('q'), ch('!')],
        shown: "Esc",
        hint: "Esc close",
        help: "close the help, the gap list or the prompt",
        contexts: &[Help, Prompt],
    },
    Binding {
        action: Action::Timeline,
        keys: &[ch('T')],
        shown: "T",
        hint: "T timeline",
        help: "the timeline of the selected subtree: starts, execs, exits, file changes and gaps in time order",
        contexts: BROWSE,
    },
    Binding {
        action: Action::Close,
        keys: &[k(KeyCode::Esc), ch('q'), ch('T')],
        shown: "Esc",
        hint: "Esc close",
        help: "close the timeline",
        contexts: &[Timeline],
    },
    Binding {
        action: Action::Close,
        keys: &[k(KeyCode::Esc), ch('q'), ch('c')],
        shown: "Esc",
        hint: "Esc back",
        help: "back to the container list, or close it",
        contexts: &[Containers],
    },
    Binding {
        action: Action::Quit,
        keys: &[ch('q'), ctrl('c')],
        shown: "q/Ctrl-C",
        hint: "q quit",
        help: "quit",
        contexts: &[Picker, Error, Tree, Details, Files],
    },
    Binding {
        action: Action::Quit,
        keys: &[ch('q'), ctrl('c'), k(KeyCode::Esc)],
        shown: "q/Ctrl-C/Esc",
        hint: "q cancel",
        help: "cancel loading (back to the previous result, or quit)",
        contexts: &[Loading],
    },
    Binding {
        action: Action::Quit,
        keys: &[ctrl('c')],
        shown: "Ctrl-C",
        hint: "",
        help: "quit",
        contexts: &[Help, Prompt, Containers, Timeline],
    },
];

/// The key table of the README, made from [`BINDINGS`] (a test keeps the README's copy equal
/// to it): one row per key and meaning, in the table's order.
pub fn markdown_table() -> String {
    let mut out = String::from("| key | action |\n|---|---|\n");
    let mut seen = Vec::new();
    for b in BINDINGS {
        if seen.contains(&(b.shown, b.help)) {
            continue;
        }
        seen.push((b.shown, b.help));
        out.push_str(&format!(
            "| {} | {} |\n",
            b.shown.replace('|', "\\|"),
            b.help
        ));
    }
    out
}

fn matches(key: &Key, event: &KeyEvent) -> bool {
    let relevant = KeyModifiers::CONTROL | KeyModifiers::ALT;
    key.code == event.code && key.mods == (event.modifiers & relevant)
}

/// The action of a key press in a context, if any.
pub fn action_for(context: Context, event: &KeyEvent) -> Option<Action> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    BINDINGS
        .iter()
        .filter(|b| b.contexts.contains(&context))
        .find(|b| b.keys.iter().any(|key| matches(key, event)))
        .map(|b| b.action)
}

/// The status line's hints for a context, in table order.
pub fn hints(context: Context) -> impl Iterator<Item = &'static str> {
    hint_bindings(context).map(|b| b.hint)
}

/// The bindings with a status-line hint in a context, in table order.
pub fn hint_bindings(context: Context) -> impl Iterator<Item = &'static Binding> {
    BINDINGS
        .iter()
        .filter(move |b| !b.hint.is_empty() && b.contexts.contains(&context))
}

/// Which hints a narrow status line keeps first: 0 for how to get help and out, 1 for the
/// analyst's questions (search, the container view, the timeline, the runtime, a file's writer,
/// what a view's Enter and Esc do), 2 for the other tools, 3 for moving about, which everyone
/// tries first anyway.
pub fn hint_rank(action: Action) -> u8 {
    match action {
        Action::Help | Action::Quit => 0,
        Action::Search
        | Action::Containers
        | Action::Timeline
        | Action::Plumbing
        | Action::Writer
        | Action::WhoTouched
        | Action::Choose
        | Action::Filter
        | Action::Submit
        | Action::Close => 1,
        Action::Up
        | Action::Down
        | Action::Left
        | Action::Right
        | Action::Toggle
        | Action::NextPane
        | Action::PrevPane
        | Action::PageUp
        | Action::PageDown
        | Action::Home
        | Action::End => 3,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn same_key_means_different_things_in_different_contexts() {
        let enter = press(KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(action_for(Context::Tree, &enter), Some(Action::Toggle));
        assert_eq!(action_for(Context::Picker, &enter), Some(Action::Choose));
        assert_eq!(action_for(Context::Prompt, &enter), Some(Action::Submit));
        let q = press(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(action_for(Context::Help, &q), Some(Action::Close));
        assert_eq!(action_for(Context::Files, &q), Some(Action::Quit));
    }

    #[test]
    fn shift_is_part_of_the_character_and_ctrl_is_not_ignored() {
        let big_n = press(KeyCode::Char('N'), KeyModifiers::SHIFT);
        assert_eq!(action_for(Context::Tree, &big_n), Some(Action::PrevMatch));
        let backtab = press(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert_eq!(action_for(Context::Tree, &backtab), Some(Action::PrevPane));
        let ctrl_c = press(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action_for(Context::Prompt, &ctrl_c), Some(Action::Quit));
        // Ctrl-C quits; a plain c is another key (the container view).
        let plain_c = press(KeyCode::Char('c'), KeyModifiers::NONE);
        assert_eq!(
            action_for(Context::Tree, &plain_c),
            Some(Action::Containers)
        );
        assert_eq!(action_for(Context::Prompt, &plain_c), None);
    }

    #[test]
    fn no_key_is_bound_twice_in_one_context() {
        for context in [
            Loading, Picker, Error, Tree, Details, Files, Help, Prompt, Containers, Timeline,
        ] {
            let bound: Vec<&Key> = BINDINGS
                .iter()
                .filter(|b| b.contexts.contains(&context))
                .flat_map(|b| b.keys.iter())
                .collect();
            for (i, a) in bound.iter().enumerate() {
                assert!(!bound[i + 1..].contains(a), "{a:?} twice in {context:?}");
            }
        }
    }

    #[test]
    fn hints_come_from_the_table() {
        let tree: Vec<_> = hints(Context::Tree).collect();
        assert!(tree.contains(&"/ search") && tree.contains(&"q quit"));
        assert!(!hints(Context::Files).any(|h| h == "Enter toggle"));
    }
}
