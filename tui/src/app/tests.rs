//! Every key binding and event, tested on the state alone.

use super::*;
use crate::file_table::Scope;
use crate::loader::{FailureKind, ReplaySource};
use crate::synthetic;
use dockwatch_shared::Timestamp;

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
    // The runtime is hidden: the containers' first processes are the roots, opened.
    press(&mut app, KeyCode::Char('G'));
    assert_eq!(selected_pid(&app), 1426);
    press(&mut app, KeyCode::Home);
    assert_eq!(selected_pid(&app), 1220);
    press(&mut app, KeyCode::Down);
    assert_eq!(selected_pid(&app), 1301);
    press(&mut app, KeyCode::Char('h')); // a leaf: to its parent
    assert_eq!(selected_pid(&app), 1220);
    press(&mut app, KeyCode::Enter); // close
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(selected_pid(&app), 1420);
    press(&mut app, KeyCode::Char('h')); // close
    press(&mut app, KeyCode::Char('l')); // open
    press(&mut app, KeyCode::Down);
    assert_eq!(selected_pid(&app), 1421);
    press(&mut app, KeyCode::Char('k'));
    assert_eq!(selected_pid(&app), 1420);
    press(&mut app, KeyCode::PageDown);
    assert_eq!(selected_pid(&app), 1426, "a page is longer than the tree");
}

#[test]
fn p_shows_and_hides_the_runtime_in_the_tree_the_files_and_the_search() {
    let mut app = browsing();
    let runtime_rows = |app: &App| {
        let b = app.browser().unwrap();
        b.files
            .rows()
            .iter()
            .filter(|&&f| crate::file_table::is_runtime_record(&b.inv, f))
            .count()
    };
    // dockerd's own write is not searchable while the runtime is hidden.
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "config.v2.json");
    press(&mut app, KeyCode::Enter);
    assert!(
        app.message.as_deref().unwrap().contains("no match"),
        "{:?}",
        app.message
    );
    assert_eq!(selected_pid(&app), 1220);
    press(&mut app, KeyCode::Char('p'));
    assert_eq!(selected_pid(&app), 1220, "the cursor stays");
    let b = app.browser().unwrap();
    assert_eq!(b.inv.processes[b.tree.rows()[0].node].pid, 812);
    press(&mut app, KeyCode::Char('n'));
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "config.v2.json");
    press(&mut app, KeyCode::Enter);
    assert_eq!(selected_pid(&app), 812, "{:?}", app.message);
    assert_eq!(runtime_rows(&app), 1, "dockerd's record shown");
    press(&mut app, KeyCode::Char('p'));
    assert_eq!(selected_pid(&app), 1220, "dockerd hidden: the first row");
    press(&mut app, KeyCode::Char('s'));
    assert_eq!(runtime_rows(&app), 0);
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
    assert_eq!(selected_pid(&app), 1220);
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
    // The web server wrote two files; its cgi child one more.
    assert_eq!(app.browser().unwrap().files.rows().len(), 2);
    press(&mut app, KeyCode::Char('s'));
    assert_eq!(app.browser().unwrap().files.rows().len(), 3);
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

/// The path of the file row under the cursor, with the focused pane.
fn file_row(app: &App) -> (Option<String>, Pane) {
    let b = app.browser().unwrap();
    let path = b
        .files
        .current()
        .map(|f| b.inv.files[f].path.to_str_lossy().into_owned());
    (path, b.focus)
}

#[test]
fn search_jumps_and_n_walks_the_hits() {
    let mut app = browsing();
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "root.txt");
    press(&mut app, KeyCode::Enter);
    // First the processes that touched the file, each with the file's row selected.
    assert_eq!(selected_pid(&app), 1422);
    assert_eq!(
        file_row(&app),
        (Some("/out/root.txt".to_owned()), Pane::Tree)
    );
    assert!(app.message.as_deref().unwrap().contains("1/3"));
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(selected_pid(&app), 1423);
    assert_eq!(file_row(&app).0.as_deref(), Some("/out/root.txt"));
    // Then the shell whose script names it.
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(selected_pid(&app), 1420);
    press(&mut app, KeyCode::Char('n'));
    press(&mut app, KeyCode::Char('N'));
    assert_eq!(selected_pid(&app), 1420, "wraps back to the last hit");
    // q typed into the prompt is text, not quit.
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "q");
    assert!(!app.quit);
    press(&mut app, KeyCode::Esc);
    assert!(app.overlay.is_none());
}

#[test]
fn enter_on_a_file_goes_to_its_writer_and_w_lists_who_touched_the_path() {
    let mut app = browsing();
    // The subtree of the batch job's shell holds its children's files.
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "grep");
    press(&mut app, KeyCode::Enter);
    assert_eq!(selected_pid(&app), 1420);
    press(&mut app, KeyCode::Char('s'));
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    assert_eq!(
        file_row(&app),
        (Some("/out/root.txt".to_owned()), Pane::Files)
    );
    let writer = {
        let b = app.browser().unwrap();
        b.inv.processes[b.inv.files[b.files.current().unwrap()].node].pid
    };
    assert_ne!(writer, 1420, "the file is a child's");
    // w: every operation on the path in the whole tree, whoever is selected.
    press(&mut app, KeyCode::Char('w'));
    {
        let b = app.browser().unwrap();
        assert!(matches!(&b.files.scope, Scope::Path(p) if p.to_str_lossy() == "/out/root.txt"));
        let writers: Vec<i32> = b
            .files
            .rows()
            .iter()
            .map(|&f| b.inv.processes[b.inv.files[f].node].pid)
            .collect();
        assert_eq!(writers, [1422, 1423], "in time order");
        let all = b
            .inv
            .files
            .iter()
            .filter(|f| f.path.to_str_lossy() == "/out/root.txt")
            .count();
        assert_eq!(b.files.rows().len(), all);
    }
    // Enter: to the writer in the tree, the file row kept.
    press(&mut app, KeyCode::Enter);
    assert_eq!(selected_pid(&app), writer);
    assert_eq!(
        file_row(&app),
        (Some("/out/root.txt".to_owned()), Pane::Tree)
    );
    // s goes back to the selected process's own files.
    press(&mut app, KeyCode::Char('s'));
    assert_eq!(app.browser().unwrap().files.scope, Scope::Process);
}

fn prompt_text(app: &App) -> String {
    match &app.overlay {
        Some(Overlay::Prompt(p)) => p.text.clone(),
        other => panic!("no prompt: {other:?}"),
    }
}

#[test]
fn export_asks_for_a_path_with_a_default_and_queues_the_write() {
    let mut app = browsing();
    press(&mut app, KeyCode::Char('G'));
    press(&mut app, KeyCode::Char('e'));
    // Empty at first; ↑ suggests the default name.
    assert_eq!(prompt_text(&app), "");
    press(&mut app, KeyCode::Enter);
    assert!(app.take_commands().is_empty(), "no file name, no export");
    press(&mut app, KeyCode::Up);
    assert_eq!(
        prompt_text(&app),
        "dockwatch-synthetic-host-1426-false.json"
    );
    press(&mut app, KeyCode::Enter);
    let node = app.browser().unwrap().selected().unwrap();
    assert_eq!(
        app.take_commands(),
        [Command::Export {
            node,
            path: "dockwatch-synthetic-host-1426-false.json".into(),
            replace: false,
        }]
    );
    app.export_finished(node, Ok("/tmp/x.json".into()));
    assert_eq!(app.message.as_deref(), Some("exported to /tmp/x.json"));
    // The file exists: the prompt comes back, and Enter again replaces it.
    app.export_finished(
        node,
        Err(crate::export::ExportError::Exists {
            path: "x.json".into(),
        }),
    );
    assert_eq!(app.context(), Context::Prompt);
    assert_eq!(prompt_text(&app), "x.json");
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        app.take_commands(),
        [Command::Export {
            node,
            path: "x.json".into(),
            replace: true,
        }]
    );
    // An edited name is a new file: no replacing.
    app.export_finished(
        node,
        Err(crate::export::ExportError::Exists {
            path: "x.json".into(),
        }),
    );
    for _ in 0..5 {
        press(&mut app, KeyCode::Backspace);
    }
    typed(&mut app, "2.json");
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        app.take_commands(),
        [Command::Export {
            node,
            path: "x2.json".into(),
            replace: false,
        }]
    );
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
        follow: false,
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
    let areas = crate::layout::layout(Rect::new(0, 0, 120, 40), None);
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
    assert_eq!(selected_pid(&app), 1421, "three rows down");
    app.update(AppEvent::Mouse(wheel(
        MouseEventKind::Down(MouseButton::Left),
        areas.files.x + 2,
        areas.files.y + 2,
    )));
    assert_eq!(app.context(), Context::Files);
}

#[test]
fn processes_that_lived_through_a_gap_are_marked() {
    use dockwatch_shared::model::event::GapReason;
    use dockwatch_shared::model::investigation::GapRecord;
    let mut inv = synthetic::demo();
    let grep = inv.processes.iter().position(|p| p.pid == 1422).unwrap();
    let (start, exit) = (
        inv.processes[grep].start.unwrap(),
        inv.processes[grep].exit.unwrap(),
    );
    // A gap inside grep's life, and one long after everything ended.
    inv.gaps = vec![
        GapRecord {
            reason: GapReason::AuditLost,
            lost: Some(7),
            from: Timestamp(start.0 + 1),
            to: Timestamp(exit.0 - 1),
            detail: None,
        },
        GapRecord {
            reason: GapReason::AuditLost,
            lost: None,
            from: Timestamp(i64::MAX / 2),
            to: Timestamp(i64::MAX / 2 + 10),
            detail: None,
        },
    ];
    let marked = super::browser::lived_through_gaps(&inv);
    assert!(marked[grep]);
    // Every process alive across the gap is marked, and no process that ended before it.
    for (i, p) in inv.processes.iter().enumerate() {
        let lived = p.start.unwrap() <= Timestamp(exit.0 - 1)
            && p.exit.is_none_or(|e| e >= Timestamp(start.0 + 1));
        let still_running = p.exit.is_none();
        assert_eq!(marked[i], lived || still_running, "pid {}", p.pid);
    }
    let lines = crate::content::details::lines(&inv, grep);
    let text: Vec<String> = lines
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect();
    assert!(
        text.iter()
            .any(|l| l.starts_with("lost") && l.contains("(7 lost)")),
        "{text:#?}"
    );
}

#[test]
fn prompts_start_empty_and_up_and_down_walk_their_history() {
    let mut app = browsing();
    for query in ["grep", "report.txt"] {
        press(&mut app, KeyCode::Char('/'));
        assert_eq!(prompt_text(&app), "", "a prompt starts empty");
        typed(&mut app, query);
        press(&mut app, KeyCode::Enter);
    }
    press(&mut app, KeyCode::Char('/'));
    press(&mut app, KeyCode::Up);
    assert_eq!(prompt_text(&app), "report.txt");
    press(&mut app, KeyCode::Up);
    assert_eq!(prompt_text(&app), "grep");
    press(&mut app, KeyCode::Up);
    assert_eq!(prompt_text(&app), "grep", "the oldest stays");
    press(&mut app, KeyCode::Down);
    assert_eq!(prompt_text(&app), "report.txt");
    press(&mut app, KeyCode::Down);
    assert_eq!(prompt_text(&app), "", "past the newest: empty again");
    press(&mut app, KeyCode::Esc);
    // The time filter has a history of its own.
    press(&mut app, KeyCode::Char('t'));
    press(&mut app, KeyCode::Up);
    assert_eq!(prompt_text(&app), "");
}

#[test]
fn the_container_view_goes_from_a_container_to_a_changed_path_to_its_writer() {
    let mut app = browsing();
    press(&mut app, KeyCode::Char('c'));
    assert_eq!(app.context(), Context::Containers);
    let job = match &app.overlay {
        Some(Overlay::Containers(v)) => v
            .list
            .iter()
            .position(|c| c.name.as_deref() == Some("batch-job"))
            .expect("the batch job"),
        other => panic!("{other:?}"),
    };
    for _ in 0..job {
        press(&mut app, KeyCode::Down);
    }
    press(&mut app, KeyCode::Enter);
    let (path, writer) = match &app.overlay {
        Some(Overlay::Containers(v)) => {
            let (change, writer) = v.writer().expect("an opened container with a change");
            (change.path.clone(), writer)
        }
        other => panic!("{other:?}"),
    };
    // Esc goes back to the list, Enter opens it again.
    press(&mut app, KeyCode::Esc);
    assert!(matches!(&app.overlay, Some(Overlay::Containers(v)) if v.opened.is_none()));
    press(&mut app, KeyCode::Enter);
    // Enter on the change: its writer in the tree, the file's row selected, the view closed.
    press(&mut app, KeyCode::Enter);
    assert!(app.overlay.is_none());
    let b = app.browser().unwrap();
    assert_eq!(b.selected(), Some(writer));
    let row = b
        .files
        .current()
        .map(|f| &b.inv.files[f])
        .expect("a file row");
    assert!(row.path == path || row.renamed_to.as_ref() == Some(&path));
}

#[test]
fn the_timeline_lists_the_subtree_filters_it_and_goes_to_a_line_s_process() {
    let mut app = browsing();
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j')); // the batch job's sh 1420
    press(&mut app, KeyCode::Char('T'));
    assert_eq!(app.context(), Context::Timeline);
    let b = app.browser().unwrap();
    let t = b.timeline.as_ref().unwrap();
    assert_eq!(b.inv.processes[t.root].pid, 1420);
    // The filter prompt comes back to the timeline, filtered.
    press(&mut app, KeyCode::Char('/'));
    assert_eq!(app.context(), Context::Prompt);
    typed(&mut app, "unlink");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.context(), Context::Timeline);
    let b = app.browser().unwrap();
    let t = b.timeline.as_ref().unwrap();
    assert_eq!(t.filter, "unlink");
    assert_eq!(t.shown.len(), 1, "one unlink in the job");
    // Esc in the filter prompt goes back to the timeline too.
    press(&mut app, KeyCode::Char('/'));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.context(), Context::Timeline);
    // Enter: to the process that unlinked, with its file row.
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.context(), Context::Tree);
    assert_eq!(selected_pid(&app), 1424);
    let b = app.browser().unwrap();
    let row = b.files.current().unwrap();
    assert!(
        b.inv.files[row]
            .ops
            .contains(&dockwatch_shared::model::investigation::FileOp::Unlink)
    );
    press(&mut app, KeyCode::Char('T'));
    press(&mut app, KeyCode::Char('T'));
    assert_eq!(app.context(), Context::Tree, "T closes it again");
}

#[test]
fn z_zooms_the_focused_pane_and_y_copies_the_selected_value() {
    let mut app = browsing();
    press(&mut app, KeyCode::Char('z'));
    assert_eq!(app.zoomed(), Some(Pane::Tree));
    let (tree_page, ..) = app.pages();
    assert_eq!(tree_page, 40 - 3 - 2, "the tree pane has the whole body");
    press(&mut app, KeyCode::Tab);
    assert_eq!(
        app.zoomed(),
        Some(Pane::Details),
        "the zoom follows the focus"
    );
    press(&mut app, KeyCode::Char('z'));
    assert_eq!(app.zoomed(), None);
    press(&mut app, KeyCode::BackTab);
    // The web server's command line, then (in the file pane) its file's host path.
    press(&mut app, KeyCode::Char('y'));
    assert_eq!(
        app.take_commands(),
        [Command::Copy("/bin/httpd -f -p 8080 -h /www".into())]
    );
    assert_eq!(
        app.message.as_deref(),
        Some("copied the command line to the clipboard")
    );
    press(&mut app, KeyCode::BackTab);
    press(&mut app, KeyCode::Char('y'));
    let b = app.browser().unwrap();
    let host = b.inv.files[b.files.current().unwrap()]
        .host_path
        .clone()
        .unwrap();
    assert_eq!(
        app.take_commands(),
        [Command::Copy(host.to_str_lossy().into_owned())]
    );
}

#[test]
fn f_narrows_the_tree_to_matching_processes_and_their_ancestors() {
    let mut app = browsing();
    let shown = |app: &App| -> Vec<i32> {
        let b = app.browser().unwrap();
        b.tree
            .rows()
            .iter()
            .map(|r| b.inv.processes[r.node].pid)
            .collect()
    };
    press(&mut app, KeyCode::Char('f'));
    assert_eq!(app.context(), Context::Prompt);
    typed(&mut app, "root.txt");
    press(&mut app, KeyCode::Enter);
    // grep wrote /out/root.txt and mv renamed it: both, under the job's shell.
    assert_eq!(shown(&app), [1420, 1422, 1423]);
    assert_eq!(selected_pid(&app), 1420, "the selection was filtered out");
    // Nothing matches: the runtime's processes while hidden (dockerd wrote config.v2.json), and
    // nonsense. The tree is left as it was.
    for query in ["config.v2.json", "nothing like this"] {
        press(&mut app, KeyCode::Char('f'));
        typed(&mut app, query);
        press(&mut app, KeyCode::Enter);
        let message = app.message.clone().unwrap_or_default();
        assert!(message.contains("no process matches"), "{query}: {message}");
    }
    assert_eq!(shown(&app), [1420, 1422, 1423], "unchanged");
    // A search hit outside the filter clears it.
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "httpd");
    press(&mut app, KeyCode::Enter);
    assert_eq!(selected_pid(&app), 1220);
    assert_eq!(shown(&app).len(), 9, "every process again");
    press(&mut app, KeyCode::Char('f'));
    typed(&mut app, "1426");
    press(&mut app, KeyCode::Enter);
    assert_eq!(shown(&app), [1420, 1426]);
    press(&mut app, KeyCode::Char('f'));
    press(&mut app, KeyCode::Enter);
    assert_eq!(shown(&app).len(), 9, "empty shows all");
}
