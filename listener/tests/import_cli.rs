//! `godo --audit-log` end to end: the real binary on a real audit log, into the real
//! MongoDB-wire server (env `DOCKWATCH_TEST_MONGO`) and into a capture file.

#![allow(clippy::unwrap_used)] // Tests may unwrap: a failure is the test failing.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use bson::doc;
use dockwatch_shared::storage::capture::CaptureReader;
use dockwatch_shared::storage::store::Store;
use dockwatch_shared::{Event, EventKind};

fn godo(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_godo"))
        .args(args)
        .output()
        .unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn read_capture(path: &Path) -> Vec<Event> {
    let mut reader = CaptureReader::open(path).unwrap();
    let events: Vec<Event> = reader.by_ref().map(Result::unwrap).collect();
    assert_eq!(reader.skipped(), 0);
    events
}

/// What the container of `record.sh large` did (2,500 rounds of write, append, mv, cat | wc,
/// rm), as the capture file or the database must show it.
fn check_large(events: &[Event]) {
    let run = &events[0].run;
    assert_eq!(run.len(), 16);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(
            (&e.run, e.seq),
            (run, i as u64),
            "run and seq stamped in order"
        );
        assert_eq!(e.host, "busy-host");
    }
    let count = |name: &str| events.iter().filter(|e| e.kind.name() == name).count();
    assert_eq!(count("rename"), 2500);
    assert_eq!(count("unlink"), 2500);
    assert_eq!(count("gap"), 0);
    assert!(count("exec") >= 5000, "cat and wc of every round");
    assert!(count("fork") >= 10_000);
    assert!(events.iter().any(|e| matches!(&e.kind, EventKind::Rename(r)
        if r.from.as_bytes() == b"f1234" && r.to.as_bytes() == b"g1234")));
    assert!(events.iter().any(|e| matches!(&e.kind, EventKind::Open(o)
        if o.resolved.as_ref().is_some_and(|p| p.as_bytes() == b"/tmp/f2499") && o.created)));
}

#[test]
fn imports_a_large_real_log_into_a_capture_file() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("large.jsonl.zst");
    let log = common::fixtures().join("large-raw.log.zst");
    let out = godo(&[
        "--audit-log",
        log.to_str().unwrap(),
        "--host",
        "busy-host",
        "--write",
        capture.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("257579 records"), "{stderr}");
    assert!(stderr.contains("no parse errors"), "{stderr}");
    check_large(&read_capture(&capture));
}

/// The shared MongoDB-wire server takes minutes for the large log's 87,520 events, so the
/// database half uses the small real log (RAW and ENRICHED in one file).
#[test]
fn imports_a_real_log_into_mongodb_and_a_capture_file_alike() {
    let Some(config) = dockwatch_shared::testing::test_store_config("godo_import") else {
        return;
    };
    let addr = std::env::var(dockwatch_shared::testing::MONGO_ENV).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("small.jsonl");
    let log = common::fixtures().join("small-raw.log");
    let out = godo(&[
        "--audit-log",
        log.to_str().unwrap(),
        "--host",
        "small-host",
        "--boot-id",
        "boot-1",
        "--mongo",
        &addr,
        "--db",
        &config.raw_db,
        "--write",
        capture.to_str().unwrap(),
    ]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = rt.block_on(Store::connect(&config)).unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert!(out.status.success());
        let events = read_capture(&capture);
        // What the library makes of the log (assembler, fd table, flushes by record time).
        let mut want = Vec::new();
        dockwatch_listener::import::read_log(
            dockwatch_listener::import::input::Logs::one(
                dockwatch_listener::import::input::LogReader::open(&log).unwrap(),
            ),
            "small-host",
            "boot-1",
            false,
            100,
            |b| {
                want.extend(b);
                true
            },
        );
        assert_eq!(events.len(), want.len());
        for (got, want) in events.iter().zip(&want) {
            assert_eq!((&got.host[..], &got.boot_id[..]), ("small-host", "boot-1"));
            assert_eq!(
                (&got.kind, got.time, &got.audit),
                (&want.kind, want.time, &want.audit)
            );
        }
        // The fd table attributes the redirected write (open, dup2 to 1, write on 1) to its file.
        assert!(events.iter().any(|e| matches!(&e.kind, EventKind::Write(w)
            if w.path.as_ref().is_some_and(|p| p.as_bytes().ends_with(b"a file with spaces")))));
        rt.block_on(async {
            let coll = store.events_collection();
            let total = coll.count_documents(doc! {}).await.unwrap();
            assert_eq!(total, events.len() as u64, "the database has every event once");
            let count = |filter| {
                let coll = coll.clone();
                async move { coll.count_documents(filter).await.unwrap() }
            };
            assert_eq!(count(doc! {"kind": "rename", "from": "a file with spaces", "to": "renamed.txt"}).await, 1);
            assert_eq!(count(doc! {"kind": "exec", "args": ["wc", "-c"], "host": "small-host", "boot_id": "boot-1"}).await, 1);
            assert_eq!(count(doc! {"kind": "pivot_root"}).await, 1);
            assert_eq!(count(doc! {"kind": "open", "path.hex": "6f646401ff6e616d65", "created": true}).await, 1);
            let forks = events.iter().filter(|e| e.kind.name() == "fork").count() as u64;
            assert_eq!(count(doc! {"kind": "fork", "source": "audit"}).await, forks);
        });
    }));
    rt.block_on(async {
        let _ = store.raw_db().drop().await;
        let _ = store.cooked_db().drop().await;
    });
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

#[test]
fn write_alone_needs_no_database_and_bad_lines_are_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let mut text = std::fs::read(common::fixtures().join("small-enriched.log")).unwrap();
    text.extend_from_slice(b"garbage that is no audit record\n\xff\xfe\n");
    text.extend_from_slice(
        &std::fs::read(common::fixtures().join("handwritten-edge-cases.log")).unwrap(),
    );
    std::fs::write(&log, text).unwrap();
    let capture = dir.path().join("out.jsonl");
    // An address nothing listens on: with --write alone it must not be contacted.
    let out = godo(&[
        "--audit-log",
        log.to_str().unwrap(),
        "--write",
        capture.to_str().unwrap(),
        "--uri-unused-check",
    ]);
    assert!(!out.status.success(), "unknown flags are refused");
    let out = godo(&[
        "--audit-log",
        log.to_str().unwrap(),
        "--write",
        capture.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("MongoDB"), "{stderr}");
    assert!(stderr.contains("4 lines could not be parsed"), "{stderr}");
    let bad = common::fixture_lines("small-enriched.log").len() + 1;
    assert!(
        stderr.contains(&format!("line {bad}: no `type=`")),
        "{stderr}"
    );
    let events = read_capture(&capture);
    let parse_gaps = events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Gap(g) if g.reason == dockwatch_shared::model::event::GapReason::ParseError))
        .count();
    assert_eq!(parse_gaps, 2, "one gap per run of bad lines");
    // Host: node= where the records have it, else the file name.
    assert!(events.iter().any(|e| e.host == "web-1"));
    assert!(events.iter().any(|e| e.host == "audit.log"));
    assert!(events.iter().any(|e| e.kind.name() == "exec"));
}

#[test]
fn a_missing_log_is_a_clear_error() {
    let out = godo(&[
        "--audit-log",
        "/nonexistent/audit.log",
        "--write",
        "/tmp/never-written.jsonl",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/audit.log"), "{stderr}");
    assert!(!Path::new("/tmp/never-written.jsonl").exists());
}

/// `godo --audit-log /dev/stdin` with `bytes` written into its stdin through a pipe.
fn godo_reading_a_pipe(bytes: Vec<u8>, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_godo"))
        .args(["--audit-log", "/dev/stdin"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || stdin.write_all(&bytes));
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// The events without what differs between two imports of one log (the run id).
fn without_run(events: Vec<Event>) -> Vec<Event> {
    events
        .into_iter()
        .map(|mut e| {
            e.run.clear();
            e
        })
        .collect()
}

#[test]
fn a_log_piped_in_gives_the_same_events_as_the_file() {
    // The large real log: over a MiB, so both the boot id's hash and the read buffers are
    // crossed. Piped in compressed as it is (`cat audit.log.zst | godo --audit-log /dev/stdin`)
    // and decompressed (`zstdcat audit.log.zst | ...`).
    let zst = std::fs::read(common::fixtures().join("large-raw.log.zst")).unwrap();
    let plain = zstd::decode_all(&zst[..]).unwrap();
    assert!(plain.len() > 2 << 20);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    std::fs::write(&log, &plain).unwrap();
    let from_file = dir.path().join("file.jsonl");
    let out = godo(&[
        "--audit-log",
        log.to_str().unwrap(),
        "--host",
        "h",
        "--write",
        from_file.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let want = without_run(read_capture(&from_file));
    assert!(want.len() > 80_000);
    for (name, bytes) in [("zstd", zst), ("plain", plain)] {
        let capture = dir.path().join(format!("{name}.jsonl"));
        let out = godo_reading_a_pipe(
            bytes,
            &["--host", "h", "--write", capture.to_str().unwrap()],
        );
        assert!(out.status.success(), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("no parse errors"), "{name}: {stderr}");
        let got = without_run(read_capture(&capture));
        assert_eq!(got.len(), want.len(), "{name}: every event");
        assert!(got == want, "{name}: the same events, boot id included");
    }
}

#[test]
fn a_truncated_log_is_imported_up_to_the_damage_and_fails_loudly() {
    let zst = std::fs::read(common::fixtures().join("large-raw.log.zst")).unwrap();
    let small = std::fs::read(common::fixtures().join("small-raw.log")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&small).unwrap();
    let gz = gz.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Cut after its first MiB, and within it (the boot id is derived from what can be read).
    for (name, bytes, least) in [
        ("audit.log.zst", &zst[..zst.len() / 2], 10_000),
        ("audit.log.gz", &gz[..gz.len() * 3 / 5], 20),
    ] {
        let log = dir.path().join(name);
        std::fs::write(&log, bytes).unwrap();
        let capture = dir.path().join(format!("{name}.jsonl"));
        let out = godo(&[
            "--audit-log",
            log.to_str().unwrap(),
            "--write",
            capture.to_str().unwrap(),
        ]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{name}: a partial import is a failure"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("could not be read to its end") && stderr.contains(name),
            "{stderr}"
        );
        let events = read_capture(&capture);
        assert!(events.len() > least, "{name}: what could be read is kept");
        let gaps: Vec<_> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Gap(g) => Some(g.reason),
                _ => None,
            })
            .collect();
        assert_eq!(
            gaps,
            [dockwatch_shared::model::event::GapReason::InputUnreadable],
            "{name}"
        );
        // Piped in, the same: the boot id from what can be read, the events up to the damage.
        let piped = dir.path().join(format!("{name}.piped.jsonl"));
        let host = events[0].host.clone();
        let out = godo_reading_a_pipe(
            bytes.to_vec(),
            &["--host", &host, "--write", piped.to_str().unwrap()],
        );
        assert_eq!(out.status.code(), Some(1), "{name} piped");
        // (The gap's detail names the file read: /dev/stdin.)
        let mut from_file = without_run(events);
        for e in &mut from_file {
            if let EventKind::Gap(g) = &mut e.kind {
                g.detail = g
                    .detail
                    .as_ref()
                    .map(|d| d.replace(log.to_str().unwrap(), "/dev/stdin"));
            }
        }
        assert!(
            without_run(read_capture(&piped)) == from_file,
            "{name}: piped in, the same events"
        );
    }
}

#[test]
fn the_capture_is_private_new_and_never_the_log_being_read() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    std::fs::copy(common::fixtures().join("small-enriched.log"), &log).unwrap();
    let original = std::fs::read(&log).unwrap();
    let arg = |p: &Path| p.to_str().unwrap().to_owned();

    // Onto the log itself, by its name or by another: refused, even with --force; the log intact.
    let alias = dir.path().join("alias.log");
    std::fs::hard_link(&log, &alias).unwrap();
    for target in [&log, &alias] {
        let out = godo(&[
            "--audit-log",
            &arg(&log),
            "--write",
            &arg(target),
            "--force",
        ]);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("which is being read"), "{stderr}");
        assert_eq!(
            std::fs::read(&log).unwrap(),
            original,
            "the input is intact"
        );
    }

    // A new capture is created 0600.
    let capture = dir.path().join("out.jsonl");
    let out = godo(&["--audit-log", &arg(&log), "--write", &arg(&capture)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = std::fs::metadata(&capture).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let first = std::fs::read(&capture).unwrap();

    // An existing capture is kept unless --force; --group-readable gives 0640.
    let out = godo(&["--audit-log", &arg(&log), "--write", &arg(&capture)]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("exists") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&capture).unwrap(), first);
    let shared = dir.path().join("shared.jsonl");
    let out = godo(&[
        "--audit-log",
        &arg(&log),
        "--write",
        &arg(&shared),
        "--group-readable",
    ]);
    assert!(out.status.success());
    let mode = std::fs::metadata(&shared).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);

    // A planted link is never written through, with or without --force.
    let victim = dir.path().join("victim");
    std::fs::write(&victim, b"keep").unwrap();
    let link = dir.path().join("planted.jsonl");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    for force in [false, true] {
        let mut args = vec![
            "--audit-log".to_owned(),
            arg(&log),
            "--write".into(),
            arg(&link),
        ];
        if force {
            args.push("--force".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = godo(&args);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("symbolic link"), "{stderr}");
    }
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
}

/// Whether `bytes` can do nothing to a terminal: no control character but the line break, no
/// C1 control, no bidirectional control.
fn terminal_safe(bytes: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(bytes);
    match text.chars().find(|&c| {
        (c.is_control() && c != '\n') || dockwatch_shared::presentation::report::needs_escape(c)
    }) {
        Some(c) => Err(format!("raw {c:?} in {text:?}")),
        None => Ok(()),
    }
}

#[test]
fn host_names_and_parser_errors_from_the_log_reach_stderr_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = "evil\x1b]0;owned\x07\u{9b}31m\u{202e}gpj.exe";
    let mut log = Vec::new();
    for line in common::fixture_lines("small-enriched.log").iter().take(40) {
        let line = String::from_utf8_lossy(line);
        log.extend_from_slice(
            line.replacen("type=", &format!("node={hostile} type="), 1)
                .as_bytes(),
        );
        log.push(b'\n');
    }
    log.extend_from_slice(
        format!("type=SYSCALL msg=audit(\x1b[2J\u{9b}1;1H{hostile}\n").as_bytes(),
    );
    log.extend_from_slice(b"\x1b[31m\x07\xc2\x9b garbage \xe2\x80\xae\n");
    let path = dir.path().join("audit.log");
    std::fs::write(&path, &log).unwrap();
    let capture = dir.path().join("out.jsonl");
    let out = godo(&[
        "--audit-log",
        path.to_str().unwrap(),
        "--write",
        capture.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("2 lines could not be parsed"), "{stderr}");
    terminal_safe(&out.stderr).unwrap();
    // The recorded host is kept as it was (the truth is in the data, escaped only when shown).
    let events = read_capture(&capture);
    assert!(events.iter().any(|e| e.host == hostile));
    // A hostile --host and an unreadable file name in an error.
    let missing = dir.path().join(format!("no\x1b[2Jsuch{hostile}.log"));
    let out = godo(&[
        "--audit-log",
        missing.to_str().unwrap(),
        "--write",
        "/nonexistent/x",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no\\x1b[2Jsuch"), "shown escaped: {stderr}");
    terminal_safe(&out.stderr).unwrap();
}
