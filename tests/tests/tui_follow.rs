//! End to end: the analyst follows a host while it works. godo records on the real kernel and
//! dockerd (into SecantusDB, or into a capture file); `dockwatch-tui --follow` runs in tmux; a
//! container starts after the TUI opened, writes one file, waits, writes another. While the
//! container still runs, its process and both writes appear on screen, and the process the
//! analyst selected stays selected across the updates.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::process::Command;
use std::time::Duration;

use dockwatch_e2e::godo::{Godo, IMAGE, audit_state, godo_binary};
use dockwatch_e2e::tmux::{Tmux, has_file_row, line_with};
use dockwatch_shared::testing::{AuditLock, Need, require};

/// The container's work: a pause (the TUI is already following), a write, a pause long
/// enough for an update in between, a second write, and a long sleep (it is still running
/// while the test looks).
const SCRIPT: &str = "sleep 2; echo a > /tmp/first.txt; sleep 5; echo b > /tmp/second.txt; \
                      sleep 120";

/// How long a change may take to reach the screen: godo's batching, the store, the TUI's
/// poll and investigation, on a busy CI machine.
const SHOWN_WITHIN: Duration = Duration::from_secs(45);

/// One test for both sources: only one godo at a time can be the kernel's audit daemon.
#[test]
fn the_tui_follows_godo_recording_into_the_database_and_into_a_capture_file() {
    if !require(&[Need::Root, Need::Docker, Need::Tmux, Need::Mongo]) {
        return;
    }
    let mongo = dockwatch_e2e::test_mongo().unwrap();
    let db = format!("dwfollow_{}", std::process::id());
    follow_a_container(
        &["--mongo", &mongo, "--db", &db],
        &format!("--mongo {mongo} --db {db}"),
        "db",
    );
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("live.jsonl.zst");
    let path = capture.to_str().unwrap();
    follow_a_container(&["--write", path], &format!("--replay {path}"), "file");
}

/// Records with godo (`godo_args`), follows with the TUI (`tui_args`), runs the container and
/// checks the screen while it runs.
fn follow_a_container(godo_args: &[&str], tui_args: &str, tag: &str) {
    let lock = AuditLock::take();
    let before = audit_state();
    let mut godo = Godo::start(&godo_binary(), godo_args);
    godo.wait_for("start-up snapshot taken", Duration::from_secs(60));
    // The snapshot is stored before the TUI looks (an empty database is an error to it).
    std::thread::sleep(Duration::from_secs(2));

    let tui = dockwatch_e2e::workspace_binary("dockwatch-tui");
    let t = Tmux::start(
        &format!("exec {} {tui_args} --follow", tui.display()),
        160,
        45,
    );
    t.wait_for_within(SHOWN_WITHIN, "the live tree", |s| {
        s.contains("Processes ") && s.contains("● live")
    });

    // A script follows the same recording with `report --follow`.
    let changes_dir = tempfile::tempdir().unwrap();
    let changes = changes_dir.path().join("changes.jsonl");
    let mut report = Stopped(
        Command::new(&tui)
            .arg("report")
            .args(tui_args.split(' '))
            .args(["--follow", "--format", "json", "--out"])
            .arg(&changes)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start report --follow"),
    );

    let name = format!("dwfollow-{tag}-{}", std::process::id());
    let container = Removed(name.clone());
    container.remove();
    let run = Command::new("docker")
        .args(["run", "-d", "--name", &name, "--network", "none", IMAGE])
        .args(["/bin/sh", "-c", SCRIPT])
        .output()
        .expect("docker run");
    assert!(run.status.success(), "docker run: {run:?}");
    let running = || {
        let out = Command::new("docker")
            .args(["inspect", "-f", "{{.State.Running}}", &name])
            .output()
            .expect("docker inspect");
        String::from_utf8_lossy(&out.stdout).trim() == "true"
    };

    // The new container's process appears.
    t.wait_for_within(SHOWN_WITHIN, "the new container in the tree", |s| {
        s.contains(&name)
    });
    // Narrowed to it, its first process (the script's shell) is the first row.
    t.keys(&["f"]);
    t.text(&name);
    t.keys(&["Enter", "Home"]);
    // Its first write appears in the file pane of the selected process while it runs.
    let screen = t.wait_for_within(SHOWN_WITHIN, "the first write", |s| {
        has_file_row(s, "/tmp/first.txt")
    });
    assert!(
        running(),
        "the container ended before its first write was shown"
    );
    let selected = selected_process(&screen);
    assert!(
        !has_file_row(&screen, "/tmp/second.txt"),
        "the second write is shown before it happened:\n{screen}"
    );

    // The second write arrives with a later update; the same process is still selected.
    let screen = t.wait_for_within(SHOWN_WITHIN, "the second write", |s| {
        has_file_row(s, "/tmp/second.txt")
    });
    assert!(
        running(),
        "the container ended before its second write was shown"
    );
    assert_eq!(
        selected_process(&screen),
        selected,
        "the selection moved with the update:\n{screen}"
    );
    assert!(has_file_row(&screen, "/tmp/first.txt"), "{screen}");

    t.keys(&["q"]);
    drop(container);
    dockwatch_e2e::godo::stop_child(&mut report.0, Duration::from_secs(10));
    let status = report.0.try_wait().unwrap();
    assert!(
        status.is_some_and(|s| s.success()),
        "report --follow ends cleanly on SIGTERM: {status:?}"
    );
    the_changes_tell_the_story(&std::fs::read_to_string(&changes).unwrap(), &name);
    let status = godo.terminate();
    let after = audit_state();
    drop(lock);
    assert!(status.success(), "godo exits 0 on SIGTERM: {status}");
    assert_eq!(after, before, "audit rules and settings are restored");
}

/// The details pane's line naming the selected process (pid, tgid, ppid).
fn selected_process(screen: &str) -> String {
    let line = line_with(screen, "tgid");
    line.rsplit("││").next().unwrap_or(line).trim().to_owned()
}

/// A child process killed if the test ends before it stopped it.
struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A container removed when the test ends, passed or not (and before it starts, in case a
/// killed run left it).
struct Removed(String);

impl Removed {
    fn remove(&self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}

impl Drop for Removed {
    fn drop(&mut self) {
        self.remove();
    }
}

/// The lines of `report --follow`: the container's first process appeared, its two writes
/// appeared as file records, and a process was announced again when it changed (exited).
fn the_changes_tell_the_story(text: &str, name: &str) {
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON value"))
        .collect();
    let ours = |l: &&serde_json::Value| l["process"]["container_name"] == name;
    let new_process = lines
        .iter()
        .filter(ours)
        .any(|l| l["change"] == "process" && l["new"] == true);
    assert!(
        new_process,
        "no line announced the container's process: {text}"
    );
    for path in ["/tmp/first.txt", "/tmp/second.txt"] {
        let written = lines
            .iter()
            .filter(ours)
            .any(|l| l["change"] == "file" && l["file"]["path"] == path);
        assert!(written, "no line announced {path}: {text}");
    }
    let changed = lines
        .iter()
        .any(|l| l["change"] == "process" && l["new"] == false);
    assert!(
        changed,
        "no process was announced again when it changed: {text}"
    );
}
