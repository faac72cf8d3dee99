//! Frame time of the browser on a large investigation (100,000 processes, 1,000,000 file
//! records), drawn into ratatui's `TestBackend` at 200x60: the target is under 16 ms a frame.

use criterion::{Criterion, criterion_group, criterion_main};
use dockwatch_tui::app::App;
use dockwatch_tui::event::AppEvent;
use dockwatch_tui::keys::{Action, Context};
use dockwatch_tui::loader::Loaded;
use dockwatch_tui::synthetic;
use dockwatch_tui::timefilter::TimeFilter;
use dockwatch_tui::ui;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn draw(term: &mut Terminal<TestBackend>, app: &mut App) {
    term.draw(|f| ui::draw(f, app)).expect("draw");
}

fn bench(c: &mut Criterion) {
    // 1,000 containers of 100 processes; 1,000,000 file records.
    let inv = synthetic::large(1_000, 100, 1_000_000);
    let size = (200, 60);
    let mut app = App::browsing(
        Loaded {
            inv,
            origin: "bench".into(),
            warnings: Vec::new(),
        },
        size,
    );
    let mut term = Terminal::new(TestBackend::new(size.0, size.1)).expect("terminal");
    let mut group = c.benchmark_group("frame");
    group.sample_size(30);

    // The opening view: dockerd, containerd and 1,000 shims with their container's main process.
    group.bench_function("tree_opening_view", |b| {
        b.iter(|| draw(&mut term, &mut app))
    });

    // Select the root and show the files of its whole subtree: 1,000,000 rows in the table.
    app.update(AppEvent::Resize(size.0, size.1));
    app.act(Context::Tree, Action::Home);
    app.act(Context::Tree, Action::Subtree);
    assert_eq!(app.browser().map(|b| b.files.rows().len()), Some(1_000_000));
    group.bench_function("subtree_1m_files", |b| b.iter(|| draw(&mut term, &mut app)));

    // Open every container: about 100,000 visible rows in the tree, cursor deep inside.
    if let Some(b) = app.browser_mut() {
        let firsts: Vec<usize> = b
            .inv
            .processes
            .iter()
            .filter(|p| p.container_id.is_some() && p.children.is_empty())
            .filter(|p| {
                p.parent
                    .is_some_and(|parent| b.inv.processes[parent].children[0] == p.id)
            })
            .map(|p| p.id)
            .collect();
        for id in firsts {
            b.tree.reveal(&b.inv, id, 50);
        }
    }
    let rows = app.browser().map(|b| b.tree.rows().len()).unwrap_or(0);
    assert!(rows > 50_000, "only {rows} rows open");
    group.bench_function("tree_many_open", |b| b.iter(|| draw(&mut term, &mut app)));

    // A time filter dims the tree and filters the table.
    if let Some(b) = app.browser_mut() {
        let from = synthetic::t(100.0);
        let to = synthetic::t(200.0);
        b.set_filter(TimeFilter {
            from: Some(from),
            to: Some(to),
        });
    }
    group.bench_function("with_time_filter", |b| b.iter(|| draw(&mut term, &mut app)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
