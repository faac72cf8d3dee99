//! Rendering tests: every screen and pane state drawn into ratatui's `TestBackend` and compared
//! with a stored snapshot (`cargo insta review` after an intended change).

use dockwatch_shared::Timestamp;
use dockwatch_shared::storage::store::StoreConfig;
use dockwatch_tui::app::{App, LiveState};
use dockwatch_tui::event::AppEvent;
use dockwatch_tui::keys::{Action, Context};
use dockwatch_tui::loader::JobMsg;
use dockwatch_tui::loader::{
    BootChoice, Failure, FailureKind, Loaded, MongoSource, Outcome, Progress, ReplaySource, Source,
};
use dockwatch_tui::synthetic;
use dockwatch_tui::ui;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Modifier;

fn render(app: &mut App) -> Buffer {
    let (w, h) = app.size;
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| ui::draw(f, app)).unwrap();
    term.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// No cell holds a C0 or C1 control character (what would reach the terminal raw).
fn assert_no_control_characters(buf: &Buffer) {
    for cell in buf.content() {
        assert!(
            !cell
                .symbol()
                .chars()
                .any(|c| c.is_control() || ('\u{80}'..='\u{9f}').contains(&c)),
            "control character {:?} in a cell",
            cell.symbol()
        );
    }
}

fn demo_app(size: (u16, u16)) -> App {
    App::browsing(
        Loaded {
            inv: synthetic::demo(),
            origin: "synthetic demo".into(),
            warnings: Vec::new(),
        },
        size,
    )
}

fn key(app: &mut App, code: KeyCode) {
    app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn mongo() -> Source {
    Source::Mongo(MongoSource {
        config: StoreConfig::host_port("db.example:27017"),
        host: None,
        boot: None,
        follow: false,
    })
}

fn finished(app: &mut App, outcome: Outcome) {
    app.update(AppEvent::Job {
        job: 1,
        msg: JobMsg::Finished(outcome),
    });
}

#[test]
fn loading_screen_shows_progress() {
    let mut app = App::new(mongo(), (80, 24));
    app.update(AppEvent::Job {
        job: 1,
        msg: JobMsg::Progress(Progress::Reading {
            read: 1500,
            total: Some(6000),
        }),
    });
    insta::assert_snapshot!(text(&render(&mut app)));
}

#[test]
fn picker_lists_boots_with_counts_and_times() {
    let mut app = App::new(mongo(), (100, 24));
    let boot = |host: &str, id: &str, events, a, b| BootChoice {
        host: host.into(),
        boot_id: id.into(),
        events,
        first: synthetic::t(a),
        last: synthetic::t(b),
    };
    finished(
        &mut app,
        Outcome::Choose(vec![
            boot(
                "web-1",
                "5f0d3a44-1b2c-4d5e-8f90-a1b2c3d4e5f6",
                120_345,
                0.0,
                3600.0,
            ),
            boot(
                "web-1",
                "77aa3a44-1b2c-4d5e-8f90-a1b2c3d4e5f6",
                2_001,
                7200.0,
                7300.0,
            ),
            boot(
                "db\x1b[31m-2",
                "0badf00d-1b2c-4d5e-8f90-a1b2c3d4e5f6",
                9,
                10.0,
                11.0,
            ),
        ]),
    );
    key(&mut app, KeyCode::Down);
    insta::assert_snapshot!(text(&render(&mut app)));
}

#[test]
fn tree_with_details_of_a_container_process() {
    let mut app = demo_app((120, 40));
    // The runtime hidden, the containers' processes open: httpd, sh, then the batch job's
    // sh 1420, cat and grep.
    for _ in 0..4 {
        app.act(Context::Tree, Action::Down);
    }
    let buf = render(&mut app);
    insta::assert_snapshot!(text(&buf));
}

#[test]
fn browser_fits_80x24() {
    let mut app = demo_app((80, 24));
    let screen = text(&render(&mut app));
    // Container names and exit marks in the tree; the keys of the analyst's questions in the
    // status line, before the moving keys everyone tries anyway.
    assert!(
        screen.contains("[web]") && screen.contains("✗1"),
        "{screen}"
    );
    let keys = screen.lines().last().unwrap_or_default();
    for hint in ["/ search", "c containers", "T timeline", "? help", "q quit"] {
        assert!(keys.contains(hint), "{hint} in {keys:?}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn files_of_the_subtree_under_a_time_filter_and_dimmed_tree() {
    let mut app = demo_app((120, 40));
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down); // the batch job's sh 1420
    key(&mut app, KeyCode::Char('s'));
    key(&mut app, KeyCode::Char('t'));
    typed(&mut app, "10:02:00..10:02:00.700");
    key(&mut app, KeyCode::Enter);
    let buf = render(&mut app);
    insta::assert_snapshot!(text(&buf));
    // The web server had no activity in the window: its row is dimmed; the batch job's is not.
    let row = |needle: &str| {
        (0..buf.area.height)
            .find(|&y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
                    .contains(needle)
            })
            .unwrap()
    };
    let style_at = |y: u16, needle: &str| {
        let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        let col = line.chars().take_while(|_| true).collect::<Vec<_>>();
        let x = col.iter().position(|_| true).unwrap_or(0);
        let idx = line.find(needle).unwrap();
        let x = x + line[..idx].chars().count();
        buf[(x as u16, y)].modifier
    };
    let web = row("httpd 1220");
    assert!(style_at(web, "httpd").contains(Modifier::DIM));
    let job = row("sh 1420");
    assert!(!style_at(job, "sh 1420").contains(Modifier::DIM));
}

#[test]
fn search_hit_is_selected_and_reported() {
    // The process that renamed the file to report.txt comes first, with the file's row
    // selected (bold: the tree keeps the focus); the shell whose script names it second.
    let mut app = demo_app((120, 40));
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "report.txt");
    key(&mut app, KeyCode::Enter);
    insta::assert_snapshot!("file_path_hit", text(&render(&mut app)));
    key(&mut app, KeyCode::Char('n'));
    insta::assert_snapshot!("args_hit", text(&render(&mut app)));
}

#[test]
fn container_view_lists_containers_and_one_containers_changes() {
    let mut app = demo_app((120, 40));
    key(&mut app, KeyCode::Char('c'));
    let list = text(&render(&mut app));
    assert!(list.contains("batch-job") && list.contains("web"), "{list}");
    insta::assert_snapshot!("containers_list", list);
    key(&mut app, KeyCode::End);
    key(&mut app, KeyCode::Enter);
    insta::assert_snapshot!("container_changes", text(&render(&mut app)));
}

#[test]
fn prompts_show_what_was_typed_and_why_it_was_refused() {
    let mut app = demo_app((100, 30));
    key(&mut app, KeyCode::Char('t'));
    typed(&mut app, "yesterday");
    key(&mut app, KeyCode::Enter);
    insta::assert_snapshot!(text(&render(&mut app)));
}

#[test]
fn help_lists_every_key() {
    // Tall enough for the whole help (a shorter screen scrolls it).
    let mut app = demo_app((100, 70));
    key(&mut app, KeyCode::Char('?'));
    let screen = text(&render(&mut app));
    for b in dockwatch_tui::keys::BINDINGS {
        assert!(screen.contains(b.shown), "{} missing from help", b.shown);
    }
    insta::assert_snapshot!(screen);
}

fn error_screen(kind: FailureKind, detail: &str, hint: &str) -> String {
    let mut app = App::new(mongo(), (80, 24));
    finished(
        &mut app,
        Outcome::Failed(Failure {
            kind,
            detail: detail.into(),
            hint: hint.into(),
        }),
    );
    text(&render(&mut app))
}

#[test]
fn error_screens_say_what_to_do() {
    insta::assert_snapshot!(
        "unreachable",
        error_screen(
            FailureKind::Unreachable,
            "no answer from db.example:27017 within 5 s (connection refused)",
            "Start MongoDB or check --mongo/--uri, then press r to retry.",
        )
    );
    insta::assert_snapshot!(
        "empty",
        error_screen(
            FailureKind::EmptyDatabase,
            "database test on db.example:27017 has no events",
            "Run godo on the Docker host with --mongo pointing here, or open a capture with --replay FILE.",
        )
    );
    let mut inv = synthetic::demo();
    inv.roots.clear();
    inv.stats.events = 5000;
    inv.stats.processes = 40;
    let Outcome::Failed(f) = dockwatch_tui::loader::check(Loaded {
        inv,
        origin: String::new(),
        warnings: Vec::new(),
    }) else {
        panic!("expected a failure");
    };
    insta::assert_snapshot!("no_docker", error_screen(f.kind, &f.detail, &f.hint));
}

#[test]
fn hostile_names_never_reach_the_terminal_raw() {
    let mut app = App::browsing(
        Loaded {
            inv: synthetic::hostile(),
            origin: "hostile\x1b]0;title\x07".into(),
            warnings: Vec::new(),
        },
        (120, 40),
    );
    app.act(Context::Tree, Action::Down);
    for size in [(120, 40), (80, 24)] {
        app.update(AppEvent::Resize(size.0, size.1));
        for focus in 0..3 {
            let buf = render(&mut app);
            assert_no_control_characters(&buf);
            let screen = text(&buf);
            if focus == 0 && size.0 == 120 {
                assert!(
                    screen.contains("\\x1b[2J"),
                    "escape shown visibly:\n{screen}"
                );
                insta::assert_snapshot!(screen);
            }
            app.act(Context::Tree, Action::NextPane);
        }
    }
    // The 10 KB argument scrolls in the details pane without trouble.
    app.act(Context::Details, Action::End);
    let _ = render(&mut app);
    // And the export of it is valid JSON keeping the exact bytes.
    let doc =
        dockwatch_shared::presentation::report::export_json(&app.browser().unwrap().inv, Some(1));
    assert_eq!(doc["roots"][0]["args"][3]["hex"], "626164fffe75746638");
    let _ = Timestamp::default();
}

#[test]
fn a_deep_scroll_draws_only_the_window_with_the_right_indentation() {
    let mut app = App::browsing(
        Loaded {
            inv: synthetic::large(50, 40, 0),
            origin: "large".into(),
            warnings: Vec::new(),
        },
        (80, 24),
    );
    let last = app.browser().unwrap().inv.processes.len() - 1;
    let pid = app.browser().unwrap().inv.processes[last].pid;
    if let Some(b) = app.browser_mut() {
        b.tree.set_plumbing(&b.inv, true, 10); // the daemon's tree, as recorded
        b.tree.reveal(&b.inv, last, 10);
    }
    let screen = text(&render(&mut app));
    let tree_rows: Vec<&str> = screen.lines().skip(2).take(10).collect();
    assert!(
        !tree_rows[0].contains("dockerd"),
        "scrolled past the root:\n{screen}"
    );
    let hit = tree_rows
        .iter()
        .find(|l| l.contains(&format!("worker {pid}")))
        .expect("selected row shown");
    // Four levels deep: eight cells of indentation (its guide line in the last two), then
    // the two of the open/close mark.
    let name_at = hit.chars().position(|c| c == 'w');
    assert_eq!(name_at, Some(1 + 8 + 2), "four levels deep: {hit:?}");
    assert!(hit.contains("└─") || hit.contains("├─"), "{hit:?}");
    insta::assert_snapshot!(screen);
}

/// Hostile events as godo would store them: a dockerd from the start-up snapshot, and a container
/// process whose comm, arguments, cwd, file name and container name carry escape sequences,
/// newlines, a 10 KB argument and invalid UTF-8.
fn hostile_events() -> Vec<dockwatch_shared::Event> {
    use dockwatch_shared::model::event::*;
    use dockwatch_shared::{ByteString, Event, EventKind, Source as EvSource};
    let cid = "ab".repeat(32);
    let hostile_path = ByteString::from("/tmp/evil\x1b[2Jname\n.txt");
    let kinds = vec![
        (
            EvSource::Procfs,
            EventKind::Snapshot(Snapshot {
                pid: 100,
                tgid: 100,
                ppid: 1,
                process: ProcessInfo {
                    comm: Some("dockerd".into()),
                    exe: Some("/usr/bin/dockerd".into()),
                    args: vec!["dockerd".into()],
                    star: true,
                    role: Some(DockerRole::Dockerd),
                    start_time: Some(Timestamp(1_000_000)),
                    ..ProcessInfo::default()
                },
                ..Snapshot::default()
            }),
        ),
        (
            EvSource::Connector,
            EventKind::Fork(Fork {
                parent_pid: 100,
                parent_tgid: 100,
                child_pid: 200,
                child_tgid: 200,
                ..Fork::default()
            }),
        ),
        (
            EvSource::Audit,
            EventKind::Exec(Exec {
                pid: 200,
                tgid: 200,
                ppid: Some(100),
                process: ProcessInfo {
                    comm: Some("evil\x1b[2J".into()),
                    exe: Some("/bin/sh".into()),
                    args: vec![
                        "/bin/sh".into(),
                        "-c".into(),
                        "echo \x1b]0;owned\x07\nrm -rf / \u{9b}31m".into(),
                        "A".repeat(10 * 1024).into(),
                        ByteString::from_bytes(b"bad\xff\xfe\x1b[5m".to_vec()),
                    ],
                    cwd: Some("/tmp/\x1b[31mred".into()),
                    container_id: Some(cid.clone()),
                    ..ProcessInfo::default()
                },
            }),
        ),
        (
            EvSource::Docker,
            EventKind::Container(Container {
                id: cid.clone(),
                name: Some("\x1b[5mblink\r".into()),
                image: Some("img\x07".into()),
                ..Container::default()
            }),
        ),
        (
            EvSource::Audit,
            EventKind::Open(Open {
                pid: 200,
                tgid: 200,
                path: hostile_path.clone(),
                fd: Some(3),
                created: true,
                ..Open::default()
            }),
        ),
        (
            EvSource::Audit,
            EventKind::Write(Write {
                pid: 200,
                tgid: 200,
                fd: 3,
                path: Some(hostile_path.clone()),
                count: 2,
                first: Timestamp(3_000_000),
                last: Timestamp(3_000_100),
                bytes: None,
            }),
        ),
        (
            EvSource::Audit,
            EventKind::Close(Close {
                pid: 200,
                tgid: 200,
                fd: 3,
                path: Some(hostile_path),
            }),
        ),
        (
            EvSource::Connector,
            EventKind::Exit(Exit {
                pid: 200,
                tgid: 200,
                exit_code: Some(1),
                signal: None,
            }),
        ),
    ];
    kinds
        .into_iter()
        .enumerate()
        .map(|(i, (source, kind))| Event {
            host: "host\x1b[1m".into(),
            boot_id: "boot".into(),
            run: "hostile-run".into(),
            seq: i as u64,
            time: Timestamp(2_000_000 + i as i64 * 1_000),
            source,
            audit: None,
            kind,
        })
        .collect()
}

#[test]
fn a_hostile_capture_goes_through_the_pipeline_and_is_shown_safely() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.jsonl.zst");
    let mut writer = dockwatch_shared::storage::capture::CaptureWriter::create(&path).unwrap();
    writer.write_batch(&hostile_events()).unwrap();
    writer.finish().unwrap();

    // The real loading path: capture reader, pipeline, checks.
    let (tx, rx) = std::sync::mpsc::channel();
    let _job = dockwatch_tui::loader::spawn(
        Source::Replay(ReplaySource {
            path,
            host: None,
            boot: None,
            follow: false,
        }),
        move |msg| {
            let _ = tx.send(msg);
        },
    );
    let loaded = rx
        .iter()
        .find_map(|msg| match msg {
            JobMsg::Finished(outcome) => Some(outcome),
            JobMsg::Progress(_) | JobMsg::Live(_) => None,
        })
        .expect("the loader finishes");
    let Outcome::Loaded(loaded) = loaded else {
        panic!("the hostile capture did not load: {loaded:?}");
    };
    // The pipeline kept the hostile data, byte for byte, so the screen below really shows it.
    let shell = loaded
        .inv
        .processes
        .iter()
        .find(|p| p.pid == 200)
        .expect("the container process is in the tree");
    assert_eq!(shell.args[3].len(), 10 * 1024);
    assert_eq!(shell.args[4].as_bytes(), b"bad\xff\xfe\x1b[5m");
    assert!(
        loaded
            .inv
            .files
            .iter()
            .any(|f| f.path.as_bytes() == b"/tmp/evil\x1b[2Jname\n.txt"),
        "the hostile file name is among the files: {:?}",
        loaded.inv.files
    );

    let mut app = App::browsing(*loaded, (120, 40));
    let mut shown_escaped = false;
    for _ in 0..3 {
        for size in [(120, 40), (80, 24)] {
            app.update(AppEvent::Resize(size.0, size.1));
            for _pane in 0..3 {
                let buf = render(&mut app);
                assert_no_control_characters(&buf);
                shown_escaped |= text(&buf).contains("\\x1b[2J");
                app.act(Context::Tree, Action::NextPane);
            }
        }
        app.act(Context::Tree, Action::Down);
    }
    assert!(
        shown_escaped,
        "the hostile names were never shown (escaped) on any screen"
    );
}

#[test]
fn the_gaps_of_a_damaged_capture_are_listed_with_where_and_how_many() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.jsonl.zst");
    let events: Vec<dockwatch_shared::Event> =
        dockwatch_shared::pipeline::synthetic::events(3_000).collect();
    let mut writer = dockwatch_shared::storage::capture::CaptureWriter::create(&path).unwrap();
    for chunk in events.chunks(300) {
        writer.write_batch(chunk).unwrap();
    }
    writer.finish().unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let starts = dockwatch_shared::testing::zstd_frame_starts(&bytes);
    bytes[(starts[4] + starts[5]) / 2] ^= 0x10;
    std::fs::write(&path, bytes).unwrap();

    let (tx, rx) = std::sync::mpsc::channel();
    let _job = dockwatch_tui::loader::spawn(
        Source::Replay(ReplaySource {
            path,
            host: None,
            boot: None,
            follow: false,
        }),
        move |msg| {
            let _ = tx.send(msg);
        },
    );
    let outcome = rx
        .iter()
        .find_map(|msg| match msg {
            JobMsg::Finished(outcome) => Some(outcome),
            JobMsg::Progress(_) | JobMsg::Live(_) => None,
        })
        .expect("the loader finishes");
    let Outcome::Loaded(loaded) = outcome else {
        panic!("the damaged capture did not load: {outcome:?}");
    };
    let mut app = App::browsing(*loaded, (120, 40));
    let screen = text(&render(&mut app));
    assert!(screen.contains("1 gaps (300 events lost"), "{screen}");
    key(&mut app, KeyCode::Char('!'));
    let screen = text(&render(&mut app));
    assert!(
        screen.contains("300 events lost (capture_damaged)"),
        "{screen}"
    );
    assert!(screen.contains("damaged zstd data at byte"), "{screen}");
    key(&mut app, KeyCode::Esc);
    let screen = text(&render(&mut app));
    assert!(!screen.contains("(capture_damaged)"), "closed: {screen}");
}

/// The work of one frame of the tree pane, whatever the depth: at most `MAX_INDENT` ancestors
/// above the window, and the widget's open paths at most `MAX_INDENT + 1` ids each.
fn assert_frame_bounded(app: &App, height: usize) {
    use dockwatch_tui::tree_model::MAX_INDENT;
    let b = app.browser().expect("browsing");
    let start = b.tree.window_start(height);
    let (items, state, prefix) = ui::tree::window_items(b, start, height, MAX_INDENT);
    assert!(prefix <= MAX_INDENT, "{prefix} ancestors drawn");
    assert!(items.len() <= MAX_INDENT + height);
    let ids: usize = state.opened().iter().map(Vec::len).sum();
    assert!(
        ids <= (MAX_INDENT + height) * (MAX_INDENT + 1),
        "{ids} ids in the open paths"
    );
}

#[test]
fn a_fork_chain_20000_deep_is_searched_and_navigated_with_bounded_work() {
    let inv = synthetic::chain(20_000);
    let processes = inv.processes.len();
    let mut app = App::browsing(
        Loaded {
            inv,
            origin: "chain".into(),
            warnings: Vec::new(),
        },
        (120, 40),
    );
    key(&mut app, KeyCode::Char('p')); // the daemon's tree, as recorded
    // The deepest process wrote /tmp/deepest: search for it.
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "deepest");
    key(&mut app, KeyCode::Enter);
    let screen = text(&render(&mut app));
    assert!(screen.contains("[depth 20003] sh 29999"), "{screen}");
    assert_eq!(
        app.browser().unwrap().tree.rows().len(),
        processes,
        "every ancestor opened"
    );
    assert_frame_bounded(&app, 38);
    // Up through the chain, a page at a time, to the top and back down.
    for _ in 0..5 {
        key(&mut app, KeyCode::PageUp);
        let screen = text(&render(&mut app));
        assert!(screen.contains("[depth 19"), "{screen}");
        assert_frame_bounded(&app, 38);
    }
    key(&mut app, KeyCode::Home);
    let screen = text(&render(&mut app));
    assert!(screen.contains("dockerd 100"), "{screen}");
    key(&mut app, KeyCode::End);
    let screen = text(&render(&mut app));
    assert!(screen.contains("[depth 20003] sh 29999"), "{screen}");
    // Closing a process deep in the chain hides the rest; the cursor stays on it.
    for _ in 0..10 {
        key(&mut app, KeyCode::Up);
    }
    key(&mut app, KeyCode::Left);
    let b = app.browser().unwrap();
    assert_eq!(b.tree.rows().len(), processes - 10);
    let closed = b.tree.selected().unwrap();
    assert_eq!(b.inv.processes[closed].pid, 29_989);
    let screen = text(&render(&mut app));
    assert!(screen.contains("▸ [depth 19993] sh 29989"), "{screen}");
}

#[test]
fn timeline_of_a_container_s_subtree() {
    let mut app = demo_app((120, 30));
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down); // the batch job's sh 1420
    key(&mut app, KeyCode::Char('T'));
    let screen = text(&render(&mut app));
    insta::assert_snapshot!(screen);
}

#[test]
fn a_zoomed_file_pane_fills_80x24() {
    let mut app = demo_app((80, 24));
    key(&mut app, KeyCode::Char('s'));
    key(&mut app, KeyCode::BackTab); // the file pane
    key(&mut app, KeyCode::Char('z'));
    insta::assert_snapshot!(text(&render(&mut app)));
}

#[test]
fn timeline_with_times_since_the_container_s_start() {
    let mut app = demo_app((120, 30));
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down); // the batch job's sh 1420
    key(&mut app, KeyCode::Char('T'));
    key(&mut app, KeyCode::Char('R'));
    let screen = text(&render(&mut app));
    assert!(
        screen.contains("+0.150s") && screen.contains("since the container"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn a_followed_recording_says_live_with_its_lag_paused_or_in_trouble_in_the_title() {
    let title = |live: LiveState, width: u16| {
        let mut app = demo_app((width, 24));
        app.live = Some(live);
        let screen = text(&render(&mut app));
        screen.lines().next().unwrap_or_default().to_owned()
    };
    let live = || LiveState {
        lag: Some(std::time::Duration::from_millis(800)),
        ..LiveState::default()
    };
    let paused = LiveState {
        paused: true,
        ..live()
    };
    let trouble = LiveState {
        trouble: Some("connection refused".into()),
        ..live()
    };
    let stopped = LiveState {
        stopped: Some("the capture vanished".into()),
        ..live()
    };
    let lines = [
        title(live(), 160),
        title(live(), 80),
        title(paused, 80),
        title(trouble, 80),
        title(stopped, 80),
    ];
    insta::assert_snapshot!(lines.join("\n"));
}
