//! End to end: an analyst's five questions, asked of the real `dockwatch-tui` in a real terminal
//! (tmux) about a capture that godo records here, on the real kernel and dockerd, of a container
//! that writes, deletes, renames, chmods and leaves an orphan writing after its parent exited:
//!
//! 1. what did the container do (its changed paths, with writers),
//! 2. which process wrote `/data/orphan.txt`, and when,
//! 3. what did the container change, with host paths,
//! 4. who deleted `/data/del.txt`,
//! 5. export the container's subtree.
//!
//! Each answer is checked on screen (and the export in its file). The keys pressed are counted
//! (the words typed at a prompt are the question, not keys): the five together take at most
//! [`KEY_BUDGET`], at 160x45 and at 80x24, as the README's table of questions says.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use dockwatch_e2e::godo::{Godo, IMAGE, audit_state, godo_binary};
use dockwatch_e2e::tmux::{Tmux, file_row, has_file_row, line_with};
use dockwatch_shared::testing::{AuditLock, Need, require};

/// The most keys the five questions may take.
const KEY_BUDGET: usize = 25;

/// The container's work: a file kept and chmod'ed, one deleted, one renamed, a helper whose
/// second thread writes a file, and a background child that writes a second after its parent
/// shell exited (an orphan).
const SCRIPT: &str = "mkdir -p /data; cd /data; echo v1 > keep.txt; echo x > del.txt; \
     rm del.txt; echo y > old.txt; mv old.txt renamed.txt; chmod 600 keep.txt; \
     /h/fork_writer thread /data/thread.txt; \
     sh -c '(sleep 1; echo late > /data/orphan.txt) & exit 0'; sleep 2";

/// The TUI in tmux, with the keys pressed so far.
struct Analyst {
    t: Tmux,
    keys: usize,
}

impl Analyst {
    fn press(&mut self, keys: &[&str]) {
        self.keys += keys.len();
        self.t.keys(keys);
    }
}

#[test]
fn five_questions_are_answered_in_a_few_keys_at_160x45_and_80x24() {
    if !require(&[
        Need::Root,
        Need::Docker,
        Need::Tmux,
        dockwatch_e2e::godo::CC,
    ]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let helper = dockwatch_e2e::godo::fork_writer(dir.path());
    let name = format!("dwq-{}", std::process::id());
    let capture = dir.path().join("questions.jsonl");
    record(&capture, &name, &helper);
    dockwatch_e2e::godo::keep("questions.jsonl", &std::fs::read(&capture).unwrap());
    applets_are_the_script_s_children(&capture, &name);
    for (width, height) in [(160, 45), (80, 24)] {
        let keys = ask_the_five_questions(&capture, &name, dir.path(), width, height);
        assert!(
            keys <= KEY_BUDGET,
            "{keys} keys at {width}x{height}, more than {KEY_BUDGET}"
        );
    }
}

/// The script's shell runs busybox applets (`mkdir`, `rm`, `mv`, `chmod`) by forking without
/// an exec, just before it execs `sleep` itself: each child holds the shell's command line, never
/// the `sleep` its parent became a moment later (audit's coarse clock sorts that exec early).
/// And no file operation is earlier than its process's start.
fn applets_are_the_script_s_children(capture: &Path, name: &str) {
    let (host, boot) = dockwatch_e2e::godo::host_identity();
    let loaded = dockwatch_shared::load::from_capture(
        capture,
        Some(&host),
        Some(&boot),
        dockwatch_shared::Timestamp::now(),
        &mut |_| {},
    )
    .expect("the pipeline runs on the capture");
    let doc = dockwatch_shared::presentation::report::export_json(&loaded.investigation, None);
    dockwatch_e2e::godo::assert_no_file_before_its_process(&doc);
    let applets: Vec<(String, Vec<&str>)> = dockwatch_e2e::godo::report_nodes(&doc)
        .into_iter()
        .filter(|(n, _)| n["container_name"] == name)
        .filter(|(n, _)| ["mkdir", "rm", "mv", "chmod"].contains(&n["comm"].as_str().unwrap_or("")))
        .map(|(n, _)| (n["comm"].to_string(), dockwatch_e2e::godo::args_of(n)))
        .collect();
    assert_eq!(applets.len(), 4, "{applets:?}");
    for (comm, args) in &applets {
        assert_eq!(args.first(), Some(&"/bin/sh"), "{comm}: {args:?}");
    }
    // The helper's second thread wrote /data/thread.txt: the write is the helper process's.
    // Audit names the process (the kernel logs its thread group id), never the thread, so the
    // record carries the process id; the helper's threads are listed beside it.
    let (helper, file) = dockwatch_e2e::godo::report_nodes(&doc)
        .into_iter()
        .find_map(|(n, _)| {
            dockwatch_e2e::godo::files_of(n)
                .iter()
                .find(|f| f["path"] == "/data/thread.txt")
                .map(|f| (n, f))
        })
        .expect("the thread's file is recorded");
    assert_eq!(file["pid"], helper["pid"], "{helper}");
    assert_eq!(helper["comm"], "fork_writer", "{helper}");
    assert!(
        helper["threads"].as_array().is_some_and(|t| !t.is_empty()),
        "the helper's second thread is listed: {helper}"
    );
}

/// godo records the container's run into `capture`.
fn record(capture: &Path, name: &str, helper: &Path) {
    let lock = AuditLock::take();
    let before = audit_state();
    let mut godo = Godo::start(&godo_binary(), &["--write", capture.to_str().unwrap()]);
    godo.wait_for("start-up snapshot taken", Duration::from_secs(60));
    let run = Command::new("docker")
        .args(["run", "--name", name, "--network", "none", "-v"])
        .arg(format!("{}:/h/fork_writer:ro", helper.display()))
        .args([IMAGE, "/bin/sh", "-c", SCRIPT])
        .status()
        .expect("docker run");
    let _ = Command::new("docker").args(["rm", "-f", name]).output();
    assert!(run.success(), "the container's script succeeds: {run}");
    // Let held events and unfinished audit events flush.
    std::thread::sleep(Duration::from_secs(3));
    let status = godo.terminate();
    let after = audit_state();
    drop(lock);
    assert!(status.success(), "godo exits 0 on SIGTERM: {status}");
    assert_eq!(after, before, "audit rules and settings are restored");
}

/// Plays the five questions at one terminal size; returns the keys pressed.
fn ask_the_five_questions(
    capture: &Path,
    name: &str,
    dir: &Path,
    width: u16,
    height: u16,
) -> usize {
    let tui = dockwatch_e2e::workspace_binary("dockwatch-tui");
    let command = format!(
        "cd {} && exec {} --replay {}",
        dir.display(),
        tui.display(),
        capture.display()
    );
    let mut a = Analyst {
        t: Tmux::start(&command, width, height),
        keys: 0,
    };
    let wide = width >= 120;
    a.t.wait_for_within(Duration::from_secs(120), "the tree", |s| {
        s.contains("Processes ")
    });

    // 1 and 3. What did the container do, and what did it change (with host paths)?
    a.press(&["c"]);
    let list = a.t.wait_for("the container list", |s| {
        s.contains("Containers:") && s.contains(name)
    });
    let rows: Vec<&str> = list
        .lines()
        .skip_while(|l| !l.contains("name"))
        .skip(1)
        .take_while(|l| l.contains('│') && !l.trim_matches(['│', ' ']).is_empty())
        .collect();
    let ours = rows
        .iter()
        .position(|l| l.contains(name))
        .unwrap_or_else(|| panic!("{name} listed:\n{list}"));
    for _ in 0..ours {
        a.press(&["Down"]);
    }
    a.press(&["Enter"]);
    let paths = ["keep.txt", "renamed.txt", "orphan.txt", "del.txt"];
    let changes = a.t.wait_for("the container's changed paths", |s| {
        s.contains("changed paths") && paths.iter().all(|p| s.contains(p))
    });
    if wide {
        let keep = line_with(&changes, "/data/keep.txt");
        assert!(keep.contains("created") && keep.contains("mode"), "{keep}");
        // The script's shell wrote it (and later exec'd sleep: the writer is still sh).
        assert!(keep.contains(" sh ") && !keep.contains("sleep"), "{keep}");
        assert!(keep.contains("/var/lib/"), "its host path: {keep}");
        let del = line_with(&changes, "/data/del.txt");
        assert!(del.contains("deleted"), "{del}");
        assert!(
            line_with(&changes, "/data/old.txt").contains("renamed.txt"),
            "{changes}"
        );
    }
    assert!(
        !changes.contains("runc"),
        "no runtime rows by default:\n{changes}"
    );
    // Back to the list, and closed (q: two Escapes in a row read as Alt-Escape).
    a.press(&["q", "q"]);
    a.t.wait_for("the view closed", |s| {
        !s.contains("changed paths") && !s.contains("Containers:")
    });

    // 2. Which process wrote /data/orphan.txt, and when?
    a.press(&["/"]);
    a.t.wait_text(" Search ");
    a.t.text("orphan.txt");
    a.press(&["Enter"]);
    // (Each wait is for the whole answer: tmux may show a frame half drawn.)
    let screen = a.t.wait_for("the orphan's file row", |s| {
        s.contains("hit 1/") && has_file_row(s, "orphan.txt")
    });
    assert!(screen.contains("(file path)"), "{screen}");
    let row = file_row(&screen, "orphan.txt");
    let writer = row.split_whitespace().nth(1).unwrap_or_default().to_owned();
    assert!(
        writer.parse::<u32>().is_ok() && row.contains(':'),
        "the row names its writer's pid and its time: {row}"
    );
    let details_pid = line_with(&screen, "pid ")
        .split("pid")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(details_pid, writer, "the writer is selected:\n{screen}");

    // 4. Who deleted /data/del.txt? Every operation on the path, in time order.
    a.press(&["/"]);
    a.t.wait_text(" Search ");
    a.t.keys(&["C-u"]);
    a.t.text("del.txt");
    a.press(&["Enter"]);
    a.t.wait_text("hit 1/");
    a.press(&["Tab", "Tab", "w"]);
    let screen = a.t.wait_for("who touched del.txt", |s| {
        s.contains("Who touched") && has_file_row(s, "unlink")
    });
    let unlink = file_row(&screen, "unlink");
    assert!(
        unlink.contains("rm") && unlink.contains("del.txt"),
        "rm deleted it:\n{screen}"
    );
    assert!(screen.contains("create"), "and a shell made it:\n{screen}");

    // 5. Export the container's subtree: its first process is the first row.
    a.press(&["Tab", "g"]);
    let screen = a.t.wait_for("the container's first process", |s| {
        s.contains("name") && s.contains(name)
    });
    assert!(
        line_with(&screen, "execs ").contains("/bin/sh -c"),
        "{screen}"
    );
    a.press(&["e"]);
    a.t.wait_text("Export the subtree");
    a.press(&["Up", "Enter"]);
    let screen = a.t.wait_text("exported to");
    let file = screen
        .lines()
        .find_map(|l| l.split("exported to ").nth(1))
        .map(|f| f.split_whitespace().next().unwrap_or_default().to_owned())
        .unwrap();
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(&file)).unwrap()).unwrap();
    let text = doc.to_string();
    assert!(
        text.contains("/data/keep.txt") && text.contains("/data/orphan.txt"),
        "the export holds the subtree's files"
    );
    assert_eq!(
        doc["roots"][0]["container_name"], name,
        "{}",
        doc["roots"][0]
    );
    let _ = std::fs::remove_file(dir.join(&file));
    let keys = a.keys;
    eprintln!("the five questions took {keys} keys at {width}x{height}");
    a.t.keys(&["q"]);
    keys
}
