//! `dockwatch-tui report` and `export`, run as the real binary on capture files and on the real
//! MongoDB-wire server (DOCKWATCH_TEST_MONGO).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use dockwatch_shared::model::event::{Event, EventKind, ProcessInfo, Snapshot, Source};
use dockwatch_shared::pipeline::synthetic;
use dockwatch_shared::storage::capture::CaptureWriter;
use dockwatch_shared::storage::cooked;
use dockwatch_shared::storage::store::Store;
use dockwatch_shared::testing::test_store_config;
use dockwatch_shared::{ByteString, Timestamp};
use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dockwatch-tui"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

fn capture(dir: &Path, name: &str, events: &[Event]) -> PathBuf {
    let path = dir.join(name);
    let mut w = CaptureWriter::create(&path).expect("create the capture");
    w.write_batch(events).expect("write the capture");
    w.finish().expect("finish the capture");
    path
}

fn small_log() -> Vec<Event> {
    synthetic::events(3_000).collect()
}

#[test]
fn report_prints_the_tree_args_and_changed_files_of_a_capture() {
    let dir = tempfile::tempdir().unwrap();
    let path = capture(dir.path(), "c.jsonl.zst", &small_log());
    let out = run(&["report", "--replay", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("{} dockerd [host]", synthetic::DOCKERD_PID)),
        "{stdout}"
    );
    assert!(stdout.contains("args: /bin/sh -c 'cd /work"), "{stdout}");
    assert!(stdout.contains("Changed files:"), "{stdout}");
    assert!(
        stdout.contains("/work/out-2  (host /var/lib/docker/overlay2/"),
        "{stdout}"
    );
    assert!(!stdout.contains("syslog"), "cron is not in the Docker tree");
}

#[test]
fn report_json_goes_to_the_out_file_and_export_writes_one_subtree() {
    let dir = tempfile::tempdir().unwrap();
    let path = capture(dir.path(), "c.jsonl", &small_log());
    let json_path = dir.path().join("report.json");
    let out = run(&[
        "report",
        "--replay",
        path.to_str().unwrap(),
        "--format",
        "json",
        "--out",
        json_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let doc: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    assert_eq!(doc["host"], synthetic::HOST);
    assert_eq!(doc["boot_id"], synthetic::BOOT_ID);
    let dockerd = &doc["roots"][0];
    assert_eq!(dockerd["pid"], synthetic::DOCKERD_PID);
    assert_eq!(dockerd["star"], true);
    let containerd = &dockerd["children"][0];
    assert_eq!(containerd["pid"], synthetic::CONTAINERD_PID);

    // The first container's shell: containerd → shim start → shim → runc → runc init.
    let shim = &containerd["children"][0]["children"][0];
    let init = &shim["children"][0]["children"][0];
    let pid = init["pid"].as_i64().unwrap();
    assert_eq!(init["args"][0], "/bin/sh");

    let out = run(&[
        "export",
        "--replay",
        path.to_str().unwrap(),
        "--pid",
        &pid.to_string(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let export: Value = serde_json::from_slice(&out.stdout).unwrap();
    let roots = export["roots"].as_array().unwrap();
    assert_eq!(roots.len(), 1);
    assert_eq!(
        roots[0], *init,
        "the export is the same node as in the report"
    );
}

#[test]
fn export_of_a_pid_outside_the_tree_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = capture(dir.path(), "c.jsonl", &small_log());
    let out = run(&["export", "--replay", path.to_str().unwrap(), "--pid", "300"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("process 300 is not in the Docker tree"),
        "{}",
        text(&out.stderr)
    );
}

fn cron_only() -> Vec<Event> {
    vec![Event {
        host: "h".into(),
        boot_id: "b".into(),
        run: "r".into(),
        seq: 0,
        time: Timestamp(1_764_329_347_000_000),
        source: Source::Procfs,
        audit: None,
        kind: EventKind::Snapshot(Snapshot {
            pid: 300,
            tgid: 300,
            ppid: 1,
            threads: vec![],
            process: ProcessInfo {
                comm: Some(ByteString::from("cron")),
                args: vec!["/usr/sbin/cron".into()],
                ..ProcessInfo::default()
            },
            fds: vec![],
        }),
    }]
}

#[test]
fn no_dockerd_in_the_events_is_an_error_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = capture(dir.path(), "c.jsonl", &cron_only());
    let out = run(&["report", "--replay", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("no Docker daemon (dockerd)"), "{stderr}");
    assert!(stderr.contains("host h boot b"), "{stderr}");
}

#[test]
fn an_empty_capture_is_an_error_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.jsonl");
    std::fs::write(&path, "").unwrap();
    let out = run(&["report", "--replay", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no events in capture file"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn an_unreachable_database_fails_fast_with_a_clear_message() {
    let started = Instant::now();
    let out = run(&["report", "--mongo", "127.0.0.1:1"]);
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cannot reach the MongoDB server at 127.0.0.1:1: connection refused"),
        "{stderr}"
    );
    // One line, the cause said once, no driver topology dump.
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert_eq!(stderr.matches("127.0.0.1:1").count(), 1, "{stderr}");
    assert!(!stderr.contains("Topology"), "{stderr}");
}

#[test]
fn a_file_that_is_no_capture_says_which_line_is_no_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "just some notes\n").unwrap();
    let out = run(&["report", "--replay", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("is not a dockwatch capture: line 1 is not a dockwatch event"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("notes.txt").count(), 1, "{stderr}");
}

#[tokio::test]
async fn an_empty_database_is_an_error_that_says_so() {
    let Some(config) = test_store_config("report_empty") else {
        return;
    };
    let addr = dockwatch_shared::testing::test_mongo().unwrap();
    let out = run(&["report", "--mongo", &addr, "--db", &config.raw_db]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("no events in database"), "{stderr}");
}

#[tokio::test]
async fn reporting_twice_from_mongodb_stores_the_same_cooked_result() {
    let Some(config) = test_store_config("report_twice") else {
        return;
    };
    let addr = dockwatch_shared::testing::test_mongo().unwrap();
    let store = Store::connect(&config).await.unwrap();
    let result = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(async {
        store.insert_events(&small_log()).await.unwrap();
        let args = [
            "report",
            "--mongo",
            &addr,
            "--db",
            &config.raw_db,
            "--cooked-db",
            &config.cooked_db,
            "--format",
            "json",
        ];
        let first = run(&args);
        assert!(first.status.success(), "{}", text(&first.stderr));
        assert!(
            text(&first.stderr).contains("stored"),
            "{}",
            text(&first.stderr)
        );
        let stored_once =
            cooked::read_investigation(store.cooked_db(), synthetic::HOST, synthetic::BOOT_ID)
                .await
                .unwrap()
                .unwrap();
        let second = run(&args);
        assert!(second.status.success(), "{}", text(&second.stderr));
        assert!(text(&second.stderr).contains("replacing the earlier run"));
        let stored_twice =
            cooked::read_investigation(store.cooked_db(), synthetic::HOST, synthetic::BOOT_ID)
                .await
                .unwrap()
                .unwrap();
        assert_eq!(stored_once.processes, stored_twice.processes);
        assert_eq!(stored_once.files, stored_twice.files);
        assert_eq!(stored_once.stats, stored_twice.stats);
        assert!(stored_once.stats.tree_processes > 100);
        // The printed JSON is the stored investigation.
        let doc: Value = serde_json::from_slice(&second.stdout).unwrap();
        assert_eq!(doc["stats"]["files"], stored_twice.stats.files);
    }))
    .await;
    store.raw_db().drop().await.unwrap();
    store.cooked_db().drop().await.unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn out_files_are_private_never_replace_nor_follow_links_and_never_the_capture() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = capture(dir.path(), "c.jsonl", &small_log());
    let replay = path.to_str().unwrap();
    let before = std::fs::read(&path).unwrap();
    let report = |out: &Path, extra: &[&str]| {
        let mut args = vec!["report", "--replay", replay, "--format", "json"];
        args.extend_from_slice(&["--out", out.to_str().unwrap()]);
        args.extend_from_slice(extra);
        run(&args)
    };
    let json = dir.path().join("r.json");
    let out = report(&json, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mode = std::fs::metadata(&json).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let compact = std::fs::read_to_string(&json).unwrap();
    assert_eq!(compact.lines().count(), 1, "compact by default");

    let out = report(&json, &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--force"),
        "{}",
        text(&out.stderr)
    );
    let out = report(&json, &["--force", "--pretty"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pretty = std::fs::read_to_string(&json).unwrap();
    assert!(pretty.lines().count() > 100, "indented with --pretty");
    let a: Value = serde_json::from_str(&compact).unwrap();
    let b: Value = serde_json::from_str(&pretty).unwrap();
    assert_eq!(a["roots"], b["roots"]);

    let out = report(&path, &["--force"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("being read"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the capture is intact"
    );

    let victim = dir.path().join("victim");
    std::fs::write(&victim, b"keep").unwrap();
    let link = dir.path().join("planted.json");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    for extra in [&[][..], &["--force"][..]] {
        let out = report(&link, extra);
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains("symbolic link"),
            "{}",
            text(&out.stderr)
        );
    }
    let pid = synthetic::DOCKERD_PID.to_string();
    let export = run(&[
        "export",
        "--replay",
        replay,
        "--pid",
        &pid,
        "--out",
        link.to_str().unwrap(),
    ]);
    assert!(!export.status.success());
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
}

/// Whether `bytes` can do nothing to a terminal: no control character but the line break, no
/// C1 control, no bidirectional control.
fn assert_terminal_safe(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    if let Some(c) = text.chars().find(|&c| {
        (c.is_control() && c != '\n') || dockwatch_shared::presentation::report::needs_escape(c)
    }) {
        panic!("raw {c:?} in {text:?}");
    }
}

#[test]
fn recorded_names_reach_stderr_and_the_json_report_escaped() {
    let hostile = "evil\x1b]0;owned\x07\u{9b}31m\u{202e}gpj.exe";
    let dir = tempfile::tempdir().unwrap();
    // A recording whose host, boot and a bad line carry escape sequences, with no dockerd.
    let mut events = cron_only();
    events[0].host = hostile.into();
    events[0].boot_id = format!("boot{hostile}");
    let path = capture(dir.path(), "c.jsonl", &events);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(format!("{{\"bad\": \"{hostile}\"\n").as_bytes());
    std::fs::write(&path, bytes).unwrap();
    let out = run(&["report", "--replay", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("host evil\\x1b]0;owned"), "{stderr}");
    assert_terminal_safe(&out.stderr);

    // With a Docker tree: the warnings on stderr, and the JSON on stdout.
    let mut events = small_log();
    for e in &mut events {
        e.host = hostile.into();
    }
    if let Some(EventKind::Exec(x)) = events
        .iter_mut()
        .map(|e| &mut e.kind)
        .find(|k| matches!(k, EventKind::Exec(_)))
    {
        x.process.args.push(hostile.into());
    }
    let path = capture(dir.path(), "d.jsonl", &events);
    for format in ["json", "text"] {
        let out = run(&[
            "report",
            "--replay",
            path.to_str().unwrap(),
            "--format",
            format,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_terminal_safe(&out.stderr);
        assert_terminal_safe(&out.stdout);
        if format == "json" {
            let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(doc["host"], hostile, "the JSON reads back unchanged");
        }
    }
}

/// A `.zst` capture of `n` synthetic events in batches of `batch` (one frame each).
fn framed_capture(dir: &Path, name: &str, n: usize, batch: usize) -> (PathBuf, Vec<u8>) {
    let events: Vec<Event> = synthetic::events(n).collect();
    let path = dir.join(name);
    let mut w = CaptureWriter::create(&path).expect("create");
    for chunk in events.chunks(batch) {
        w.write_batch(chunk).expect("write");
    }
    w.finish().expect("finish");
    let bytes = std::fs::read(&path).expect("read");
    (path, bytes)
}

/// The report's gaps as (reason, lost) from `report --format json`, and the text report.
fn report_gaps(path: &Path) -> (Vec<(String, Option<u64>, String)>, String) {
    let p = path.to_str().expect("utf-8 path");
    let json = run(&["report", "--replay", p, "--format", "json", "--no-cooked"]);
    assert!(json.status.success(), "{}", text(&json.stderr));
    let doc: Value = serde_json::from_slice(&json.stdout).expect("the JSON report");
    let gaps = doc["gaps"]
        .as_array()
        .expect("gaps")
        .iter()
        .map(|g| {
            (
                g["reason"].as_str().expect("a reason").to_owned(),
                g["lost"].as_u64(),
                g["detail"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let plain = run(&["report", "--replay", p, "--no-cooked"]);
    assert!(plain.status.success(), "{}", text(&plain.stderr));
    (gaps, text(&plain.stdout))
}

#[test]
fn damage_in_a_capture_is_a_gap_in_both_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (_, bytes) = framed_capture(dir.path(), "c.jsonl.zst", 5_000, 250);
    let starts = dockwatch_shared::testing::zstd_frame_starts(&bytes);
    assert_eq!(starts.len(), 21, "20 batches and the end record");

    // One corrupt frame in the middle: that frame's 250 events, the rest read.
    let mut flipped = bytes.clone();
    flipped[(starts[6] + starts[7]) / 2] ^= 0x40;
    // A frame cut out cleanly: no damage to see, but the seq numbers jump by 250 (and the end
    // record's count, short by as many, is not a second gap).
    let mut cut = bytes[..starts[9]].to_vec();
    cut.extend_from_slice(&bytes[starts[10]..]);
    // The file cut in the middle of the last frame of events.
    let truncated = bytes[..(starts[19] + starts[20]) / 2].to_vec();
    // The last frame of events and the end record cut off cleanly: only the missing end record
    // tells, and how much is lost is unknown.
    let clean_cut = bytes[..starts[19]].to_vec();
    let cases: [(&str, Vec<u8>, &str, Option<u64>); 4] = [
        ("flipped.jsonl.zst", flipped, "capture_damaged", Some(250)),
        ("cut.jsonl.zst", cut, "capture_seq_jump", Some(250)),
        ("truncated.jsonl.zst", truncated, "capture_damaged", None),
        ("clean-cut.jsonl.zst", clean_cut, "capture_damaged", None),
    ];
    for (name, data, reason, lost) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, data).unwrap();
        let (gaps, plain) = report_gaps(&path);
        assert!(
            gaps.iter().any(|(r, l, _)| r == reason && *l == lost),
            "{name}: want a {reason} gap of {lost:?}, got {gaps:?}"
        );
        assert!(plain.contains("Gaps (events lost"), "{name}: {plain}");
        assert!(
            plain.contains(reason),
            "{name}: the text report names the gap"
        );
    }

    // Bad and overlong lines in a plain capture: each is a gap, with the line it was.
    let events: Vec<Event> = synthetic::events(2_000).collect();
    let path = capture(dir.path(), "lines.jsonl", &events);
    let mut lines: Vec<Vec<u8>> = std::fs::read(&path)
        .unwrap()
        .split(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    lines[500] = b"{\"garbage\": true".to_vec();
    lines[1500].truncate(40);
    std::fs::write(&path, lines.join(&b'\n')).unwrap();
    let (gaps, _) = report_gaps(&path);
    let damaged: Vec<_> = gaps
        .iter()
        .filter(|(r, ..)| r == "capture_damaged")
        .collect();
    assert_eq!(damaged.len(), 2, "{gaps:?}");
    assert!(
        damaged.iter().all(|(_, lost, _)| *lost == Some(1)),
        "{gaps:?}"
    );
    assert!(damaged[0].2.contains("line 501"), "{gaps:?}");
}

#[test]
fn a_capture_read_twice_gives_the_same_tree() {
    let dir = tempfile::tempdir().unwrap();
    let (path, bytes) = framed_capture(dir.path(), "once.jsonl.zst", 4_000, 500);
    let twice = dir.path().join("twice.jsonl.zst");
    std::fs::write(&twice, [bytes.clone(), bytes].concat()).unwrap();
    let doc = |p: &Path| -> Value {
        let out = run(&[
            "report",
            "--replay",
            p.to_str().unwrap(),
            "--format",
            "json",
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let (once, again) = (doc(&path), doc(&twice));
    assert_eq!(once["roots"], again["roots"], "no phantom processes");
    assert_eq!(
        once["stats"]["tree_processes"],
        again["stats"]["tree_processes"]
    );
    assert_eq!(again["gaps"], once["gaps"]);
    let out = run(&["report", "--replay", twice.to_str().unwrap()]);
    assert!(
        text(&out.stderr).contains("4000 events appear more than once"),
        "{}",
        text(&out.stderr)
    );
}
