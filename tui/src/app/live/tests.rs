//! A followed recording in the app, on the demo capture's events cut in two: the first update
//! ends the loading screen, later ones keep the analyst's place, `F` and the views of the old
//! investigation hold them back.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::app::Context;
use crate::event::AppEvent;
use crate::loader::{Failure, FailureKind, ReplaySource, Source};
use dockwatch_shared::model::event::Event;
use dockwatch_shared::model::investigation::ProcessKey;

fn demo_events() -> Vec<Event> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/demo.jsonl.zst");
    let (events, errors) = dockwatch_shared::storage::capture::read_all(&path).unwrap();
    assert!(errors.is_empty());
    events
}

/// The investigation of the first `n` events, as a followed capture's update holds it.
fn first(events: &[Event], n: usize) -> Box<Loaded> {
    let e = &events[0];
    Box::new(Loaded {
        inv: dockwatch_shared::pipeline::investigate(
            events[..n].iter().cloned(),
            &e.host,
            &e.boot_id,
            Timestamp(1),
            &mut |_| {},
        ),
        origin: "capture live.jsonl".into(),
        warnings: Vec::new(),
    })
}

fn following() -> App {
    let mut app = App::new(
        Source::Replay(ReplaySource {
            path: "live.jsonl".into(),
            host: None,
            boot: None,
            follow: true,
        }),
        (160, 45),
    );
    app.take_commands();
    app
}

fn send(app: &mut App, msg: JobMsg) {
    app.update(AppEvent::Job { job: 1, msg });
}

fn update(app: &mut App, loaded: Box<Loaded>) {
    send(
        app,
        JobMsg::Live(Live::Update {
            loaded,
            newest_event: Timestamp::now(),
        }),
    );
}

fn press(app: &mut App, c: char) {
    app.update(AppEvent::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )));
}

fn processes(app: &App) -> usize {
    app.browser().unwrap().inv.processes.len()
}

fn selected_key(app: &App) -> ProcessKey {
    let b = app.browser().unwrap();
    b.inv.processes[b.selected().unwrap()].key
}

/// The selected row's line in the tree pane.
fn selected_line(app: &App) -> usize {
    let b = app.browser().unwrap();
    let (tree_page, ..) = app.pages();
    b.tree.cursor() - b.tree.window_start(tree_page)
}

/// Where the demo's events are cut: the Docker tree is there, later containers are not.
fn cut(events: &[Event]) -> usize {
    events.len() / 2
}

#[test]
fn the_first_update_opens_the_browser_and_later_ones_keep_the_selection_and_its_line() {
    let events = demo_events();
    let mut app = following();
    update(&mut app, first(&events, cut(&events)));
    assert_eq!(app.context(), Context::Tree);
    assert!(app.live.as_ref().is_some_and(|l| !l.paused));
    let before = processes(&app);
    for _ in 0..4 {
        press(&mut app, 'j');
    }
    let (key, line) = (selected_key(&app), selected_line(&app));
    update(&mut app, first(&events, events.len()));
    assert!(processes(&app) > before, "the update brought no process");
    assert_eq!(selected_key(&app), key);
    assert_eq!(selected_line(&app), line);
    let b = app.browser().unwrap();
    let (tree_page, ..) = app.pages();
    assert!(
        b.tree.window_start(tree_page) <= b.tree.rows().len().saturating_sub(tree_page),
        "rows above the window are hidden while there is room below"
    );
    assert_eq!(
        app.browser().unwrap().inv,
        first(&events, events.len()).inv,
        "the browser shows the latest investigation"
    );
}

#[test]
fn f_holds_updates_back_until_pressed_again() {
    let events = demo_events();
    let mut app = following();
    update(&mut app, first(&events, cut(&events)));
    let before = processes(&app);
    press(&mut app, 'F');
    assert!(app.live.as_ref().unwrap().paused);
    update(&mut app, first(&events, events.len()));
    assert_eq!(processes(&app), before, "paused, yet updated");
    assert!(app.live.as_ref().unwrap().pending.is_some());
    press(&mut app, 'F');
    assert!(processes(&app) > before);
    assert!(app.live.as_ref().unwrap().pending.is_none());
}

#[test]
fn the_container_view_holds_updates_until_it_closes() {
    let events = demo_events();
    let mut app = following();
    update(&mut app, first(&events, cut(&events)));
    let before = processes(&app);
    press(&mut app, 'c');
    assert_eq!(app.context(), Context::Containers);
    update(&mut app, first(&events, events.len()));
    assert_eq!(processes(&app), before, "updated under the container view");
    app.update(AppEvent::Key(KeyEvent::new(
        KeyCode::Esc,
        KeyModifiers::NONE,
    )));
    assert_eq!(app.context(), Context::Tree);
    assert!(processes(&app) > before);
}

#[test]
fn trouble_is_shown_until_the_source_is_back_and_an_ended_job_says_so() {
    let events = demo_events();
    let mut app = following();
    update(&mut app, first(&events, cut(&events)));
    send(&mut app, JobMsg::Live(Live::Trouble("refused".into())));
    assert_eq!(
        app.live.as_ref().unwrap().trouble.as_deref(),
        Some("refused")
    );
    send(&mut app, JobMsg::Live(Live::Back));
    assert_eq!(app.live.as_ref().unwrap().trouble, None);
    send(
        &mut app,
        JobMsg::Finished(Outcome::Failed(Failure {
            kind: FailureKind::BadInput,
            detail: "the capture vanished".into(),
            hint: String::new(),
        })),
    );
    assert_eq!(app.context(), Context::Tree, "the last investigation stays");
    assert!(app.live.as_ref().unwrap().stopped.is_some());
    assert!(
        app.message
            .as_deref()
            .is_some_and(|m| m.contains("following stopped") && m.contains("vanished")),
        "{:?}",
        app.message
    );
}

#[test]
fn f_without_follow_says_how_to_follow() {
    let events = demo_events();
    let mut app = App::browsing(*first(&events, events.len()), (120, 40));
    press(&mut app, 'F');
    assert!(app.live.is_none());
    assert!(
        app.message
            .as_deref()
            .is_some_and(|m| m.contains("--follow"))
    );
}

/// The first cut of the demo's events whose tree has the runtime but no workload yet.
fn before_any_container(events: &[Event]) -> usize {
    (1..events.len() / 100)
        .map(|i| i * 100)
        .find(|&n| {
            let inv = first(events, n).inv;
            !inv.roots.is_empty() && crate::tree_model::TreeModel::new(&inv).shape().plumbing()
        })
        .expect("a moment with dockerd and no container")
}

#[test]
fn the_runtime_shown_for_lack_of_a_container_is_hidden_when_one_starts_unless_chosen() {
    let events = demo_events();
    let early = before_any_container(&events);
    let shown = |app: &App| app.browser().unwrap().tree.shape().plumbing();

    let mut app = following();
    update(&mut app, first(&events, early));
    assert!(shown(&app));
    update(&mut app, first(&events, events.len()));
    assert!(
        !shown(&app),
        "the containers' workload is what start-up shows"
    );
    let b = app.browser().unwrap();
    let workload_rows = b
        .tree
        .rows()
        .iter()
        .filter(|r| b.inv.processes[r.node].container_name.is_some())
        .count();
    assert!(
        workload_rows > 3,
        "the new containers are opened: {workload_rows} rows"
    );

    // The analyst's own choice stays.
    let mut app = following();
    update(&mut app, first(&events, early));
    press(&mut app, 'p');
    press(&mut app, 'p');
    assert!(shown(&app));
    update(&mut app, first(&events, events.len()));
    assert!(
        shown(&app),
        "the runtime was hidden against the analyst's choice"
    );
}
