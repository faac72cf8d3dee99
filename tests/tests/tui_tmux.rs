//! End to end: the real `dockwatch-tui` binary in a real terminal (tmux), driven with
//! `send-keys` and read back with `capture-pane`.
//!
//! Each test runs its own tmux server (`tmux -L <unique socket>`), so it neither sees nor
//! disturbs anyone else's sessions, and kills only that server at the end.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::time::Duration;

use dockwatch_e2e::tmux::{Tmux, line_with};

/// The `dockwatch-tui` binary of this build.
fn binary() -> PathBuf {
    dockwatch_e2e::workspace_binary("dockwatch-tui")
}

fn have_tmux() -> bool {
    dockwatch_shared::testing::require(&[dockwatch_shared::testing::Need::Tmux])
}

/// After the tool exits, the shell prints its exit code and whether the terminal is back in
/// cooked mode with echo (what a broken exit leaves off).
fn then_report(command: &str) -> String {
    format!(
        "{command}; echo \"EXIT=$?\"; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; echo END; sleep 60"
    )
}

/// What both walks do, on the demo capture (from the binary or from MongoDB): find the process
/// that renamed a file and the batch job's shell that ran it, read its arguments, list its subtree's file writes, narrow
/// them with time filters, search, export the subtree, resize, quit.
fn walk_the_demo(t: &Tmux, export: &Path) {
    // Loading reads, folds and (from MongoDB) stores the cooked result: give it time.
    t.wait_for_within(Duration::from_secs(300), "the tree", |s| {
        s.contains("Processes ")
    });

    // Search by a file name from the job's command line: first the process that renamed the
    // file, with the file's row (its pid and process beside the operation)...
    t.keys(&["/"]);
    t.wait_text(" Search ");
    t.text("report.txt");
    t.keys(&["Enter"]);
    let screen = t.wait_text("hit 1/");
    assert!(screen.contains("(file path)"), "{screen}");
    let row = line_with(&screen, "rename ");
    assert!(row.contains("/out/report.txt"), "{screen}");
    let pid = line_with(&screen, "pid ")
        .split("pid")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("the details name a pid:\n{screen}"))
        .to_owned();
    assert!(
        row.split_whitespace().nth(1) == Some(pid.as_str()),
        "the file row names the selected process {pid}:\n{screen}"
    );
    // ... then, after the other processes that touched it, the shell whose script names it.
    let mut screen = screen;
    for next in 2..=6 {
        if screen.contains("(args)") {
            break;
        }
        t.keys(&["n"]);
        screen = t.wait_text(&format!("hit {next}/"));
    }
    assert!(screen.contains("(args)"), "{screen}");
    // The details pane shows the container's shell and its full arguments.
    let args = line_with(&screen, "args ");
    assert!(args.contains("/bin/sh -c"), "{screen}");
    assert!(screen.contains("grep root"), "{screen}");
    assert!(line_with(&screen, "container ").len() > 20, "{screen}");

    // The container view: the job's container and what it changed, then back.
    t.keys(&["c"]);
    let screen = t.wait_text("Containers:");
    assert!(screen.contains("dw-demo-job"), "{screen}");
    t.keys(&["Esc"]);
    t.wait_for("the view closed", |s| !s.contains("Containers:"));

    // The files of its whole subtree: the pipeline's output file is among them.
    t.keys(&["s"]);
    let screen = t.wait_text("Files of the subtree:");
    assert!(screen.contains("/out/root.txt"), "{screen}");

    // A time filter around everything keeps them; an empty window keeps none.
    t.keys(&["t"]);
    t.wait_text("Time filter");
    t.text("-1h..");
    t.keys(&["Enter"]);
    let screen = t.wait_text("[time ");
    assert!(screen.contains("/out/root.txt"), "{screen}");
    t.keys(&["t"]);
    t.wait_text("Time filter");
    t.keys(&["C-u"]);
    t.text("+0ms..+1ms");
    t.keys(&["Enter"]);
    t.wait_for("an empty window", |s| {
        s.contains("Files of the subtree: 0 of")
    });
    t.keys(&["t"]);
    t.wait_text("Time filter");
    t.keys(&["C-u", "Enter"]);
    t.wait_text("time filter cleared");

    // Export the shell's subtree and check the JSON.
    t.keys(&["e"]);
    t.wait_text("Export the subtree");
    t.keys(&["C-u"]);
    t.text(&export.display().to_string());
    t.keys(&["Enter"]);
    t.wait_text("exported to");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(export).unwrap()).unwrap();
    let root = &doc["roots"][0];
    let args = root["args"].to_string();
    assert!(args.contains("grep root"), "{args}");
    assert!(
        root["container_id"].as_str().is_some_and(|c| c.len() == 64),
        "{root}"
    );
    assert!(!root["children"].as_array().unwrap().is_empty(), "{root}");

    // Down to 80x24: still drawn, still says how to get help and out.
    t.run(&["resize-window", "-t", "t", "-x", "80", "-y", "24"]);
    let screen = t.wait_for("an 80-column redraw", |s| {
        s.lines().count() <= 24
            && s.lines()
                .any(|l| l.contains("? help") && l.contains("q quit"))
    });
    assert!(screen.contains("Processes "), "{screen}");
    assert!(screen.lines().all(|l| l.chars().count() <= 80), "{screen}");

    // Quit: exit code 0, terminal back in cooked mode with echo, off the alternate screen.
    t.keys(&["q"]);
    let screen = t.wait_text("END");
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(
        line_with(&screen, "END").contains("icanon echo"),
        "{screen}"
    );
    assert!(
        !screen.contains("Processes "),
        "still on the alternate screen:\n{screen}"
    );
}

#[test]
fn demo_navigate_filter_search_export_resize_quit() {
    if !have_tmux() {
        return;
    }
    let bin = binary();
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::start(&then_report(&format!("{} --demo", bin.display())), 120, 40);
    walk_the_demo(&t, &dir.path().join("job.json"));
}

#[test]
fn mongo_loaded_from_the_demo_capture() {
    if !have_tmux() {
        return;
    }
    let Some(config) = dockwatch_shared::testing::test_store_config("tui_tmux") else {
        return;
    };
    let bin = binary();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/demo.jsonl.zst");
    let (events, errors) = dockwatch_shared::storage::capture::read_all(&demo).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime
        .block_on(dockwatch_shared::storage::store::Store::connect(&config))
        .unwrap();
    runtime.block_on(store.insert_events(&events)).unwrap();
    let dockwatch_shared::storage::store::MongoAddress::HostPort(addr) = &config.address else {
        panic!("test config is host:port");
    };
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::start(
        &then_report(&format!(
            "{} --mongo {addr} --db {} --cooked-db {}",
            bin.display(),
            config.raw_db,
            config.cooked_db
        )),
        120,
        40,
    );
    walk_the_demo(&t, &dir.path().join("job.json"));
    // The cooked result was stored.
    let boots = runtime.block_on(store.list_boots()).unwrap();
    let cooked = runtime
        .block_on(dockwatch_shared::storage::cooked::read_investigation(
            store.cooked_db(),
            &boots[0].host,
            &boots[0].boot_id,
        ))
        .unwrap();
    assert!(cooked.is_some_and(|inv| !inv.roots.is_empty()));
    runtime.block_on(async {
        let _ = store.raw_db().drop().await;
        let _ = store.cooked_db().drop().await;
    });
}

#[test]
fn unreachable_database_gets_a_clear_screen_and_q_quits_non_zero_saying_why() {
    if !have_tmux() {
        return;
    }
    let bin = binary();
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let t = Tmux::start(
        &then_report(&format!("{} --mongo 127.0.0.1:{port}", bin.display())),
        100,
        30,
    );
    let screen = t.wait_text("Cannot reach the database");
    assert!(screen.contains(&format!("127.0.0.1:{port}")), "{screen}");
    assert!(screen.contains("r retry"), "{screen}");
    t.keys(&["q"]);
    let screen = t.wait_text("END");
    // The terminal is restored, the cause is left on it, and the exit status says it failed.
    assert!(
        screen.contains("EXIT=1") && line_with(&screen, "END").contains("icanon echo"),
        "{screen}"
    );
    assert!(
        screen.contains("quit on an error: Cannot reach the database"),
        "{screen}"
    );
}

#[test]
fn empty_database_gets_a_clear_screen() {
    if !have_tmux() {
        return;
    }
    let Some(addr) = dockwatch_e2e::test_mongo() else {
        return;
    };
    let bin = binary();
    let db = format!("tui_tmux_empty_{}", std::process::id());
    let t = Tmux::start(
        &then_report(&format!("{} --mongo {addr} --db {db}", bin.display())),
        100,
        30,
    );
    let screen = t.wait_text("No events recorded");
    assert!(screen.contains(&db), "{screen}");
    t.keys(&["C-c"]);
    let screen = t.wait_text("END");
    assert!(
        screen.contains("EXIT=1"),
        "nothing was investigated: {screen}"
    );
    assert!(
        screen.contains("quit on an error: No events recorded"),
        "{screen}"
    );
}

/// Peak resident memory (VmHWM) of a process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// CPU time (user + system) a process has used, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// A container forks a chain 20,000 deep (each process forks the next and exits) and one
/// process has a 1 MB command line: the real binary, on the capture's real reading path, finds
/// the deepest process, walks the chain, stays within 150 MB (the bound: the model holds a few
/// dozen bytes per process, and a frame at most `MAX_INDENT` ancestors however deep the chain
/// is), and uses no CPU while idle with the 1 MB line on screen.
#[test]
fn a_20000_deep_fork_chain_is_searched_and_walked_in_bounded_memory() {
    if !have_tmux() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("chain.jsonl.zst");
    let events = dockwatch_e2e::chain::events(20_000, 1 << 20);
    let mut w = dockwatch_shared::storage::capture::CaptureWriter::create(&capture).unwrap();
    for batch in events.chunks(4096) {
        w.write_batch(batch).unwrap();
    }
    w.finish().unwrap();
    let command = format!("exec {} --replay {}", binary().display(), capture.display());
    let t = Tmux::start(&command, 120, 40);
    t.wait_for_within(Duration::from_secs(120), "the tree", |s| {
        s.contains("Processes ")
    });
    // The daemon's tree as recorded (the chain's depth counted from dockerd).
    t.keys(&["p"]);
    t.wait_text("runtime shown");
    let pid: u32 = t
        .run(&["display-message", "-p", "-t", "t", "#{pane_pid}"])
        .trim()
        .parse()
        .unwrap();

    // The deepest process wrote the file: search for it.
    t.keys(&["/"]);
    t.wait_text(" Search ");
    t.text(dockwatch_e2e::chain::DEEPEST_FILE);
    t.keys(&["Enter"]);
    let deepest = dockwatch_e2e::chain::FIRST_PID + 19_999;
    let screen = t.wait_text(&format!("[depth 20001] sh {deepest}"));
    assert!(
        screen.contains("Processes 20004 · runtime shown"),
        "{screen}"
    );
    // Up the chain a page at a time, to the top, and back to the end.
    for _ in 0..20 {
        t.keys(&["PageUp"]);
    }
    t.wait_text("[depth 19");
    t.keys(&["End"]);
    t.wait_text(&format!("[depth 20001] sh {deepest}"));
    // Close a process a few levels up: the rest of the chain is hidden.
    t.keys(&["Up", "Up", "Up", "Left"]);
    t.wait_text(&format!("▸ [depth 19998] sh {}", deepest - 3));
    let peak = peak_rss_kib(pid);
    assert!(peak < 150 * 1024, "peak RSS {peak} KiB");

    // The shell with the 1 MB command line: shown, then left idle.
    t.keys(&["/"]);
    t.wait_text(" Search ");
    t.keys(&["C-u"]);
    t.text("xxxxxxxxxxxxxxxx");
    t.keys(&["Enter"]);
    t.wait_text("hit 1/1 (args)");
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(3));
    let used = cpu_ticks(pid) - before;
    assert!(used <= 10, "{used} ticks of CPU in 3 s of idling");
    t.keys(&["q"]);
}
