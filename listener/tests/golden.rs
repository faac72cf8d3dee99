//! Golden tests: the events made of real (and a few hand-written) audit logs.
//!
//! Regenerate the `*.events.jsonl` files with `UPDATE_GOLDEN=1 cargo test -p dockwatch-listener
//! --test golden` and review the diff.

#![allow(clippy::unwrap_used)] // Tests may unwrap: a failure is the test failing.

mod common;

use common::{assemble, fixture_lines, fixtures};
use dockwatch_shared::EventKind;
use dockwatch_shared::model::event::{ArgsSource, GapReason};

fn golden(name: &str) -> Vec<dockwatch_shared::Event> {
    let (events, counters) = assemble(&fixture_lines(name));
    let text: String = events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap() + "\n")
        .collect();
    let path = fixtures().join(format!("{}.events.jsonl", name.trim_end_matches(".log")));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    if want != text {
        let first = want.lines().zip(text.lines()).position(|(a, b)| a != b);
        panic!(
            "{name}: events differ from {} (first differing event: {first:?}; want {} events, got {}); \
             if the change is intended, regenerate with UPDATE_GOLDEN=1",
            path.display(),
            want.lines().count(),
            text.lines().count()
        );
    }
    assert_eq!(counters.parse_errors, 0, "{name}: {counters:?}");
    events
}

fn kinds(events: &[dockwatch_shared::Event], kind: &str) -> usize {
    events.iter().filter(|e| e.kind.name() == kind).count()
}

#[test]
fn small_raw_log_gives_the_container_story() {
    let events = golden("small-raw.log");
    check_container_story(&events);
}

#[test]
fn small_enriched_log_gives_the_same_story() {
    let events = golden("small-enriched.log");
    check_container_story(&events);
}

/// What the container in `record.sh small` did, whichever format auditd wrote.
fn check_container_story(events: &[dockwatch_shared::Event]) {
    let gaps: Vec<_> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Gap(_)))
        .collect();
    assert!(gaps.is_empty(), "a complete log has no gaps: {gaps:?}");
    // runc's pivot_root into the container's rootfs.
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::PivotRoot(_)))
    );
    // The container's first exec, with its full script as argv[2] (from EXECVE, not PROCTITLE).
    let sh = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Exec(x)
                if x.process
                    .args
                    .first()
                    .is_some_and(|a| a.as_bytes() == b"/bin/sh") =>
            {
                Some(x)
            }
            _ => None,
        })
        .expect("exec of /bin/sh");
    assert_eq!(sh.process.argc, Some(3));
    assert_eq!(sh.process.args_from, Some(ArgsSource::Execve));
    assert!(
        sh.process.args[2].as_bytes().len() > 128,
        "argv not cut like PROCTITLE"
    );
    assert_eq!(sh.process.exe.as_ref().unwrap().as_bytes(), b"/bin/busybox");
    // The redirection to a name with spaces: created, resolved against /tmp.
    let open = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Open(o) if o.path.as_bytes() == b"a file with spaces" => Some(o),
            _ => None,
        })
        .expect("open of 'a file with spaces'");
    assert!(open.created);
    assert_eq!(
        open.resolved.as_ref().unwrap().as_bytes(),
        b"/tmp/a file with spaces"
    );
    assert!(open.fd.is_some());
    // The name with bytes 0x01 and 0xff survives.
    assert!(events.iter().any(|e| matches!(&e.kind,
        EventKind::Open(o) if o.path.as_bytes() == b"odd\x01\xffname")));
    // mv, rm, rmdir.
    assert!(events.iter().any(|e| matches!(&e.kind, EventKind::Rename(r)
        if r.from.as_bytes() == b"a file with spaces" && r.to.as_bytes() == b"renamed.txt")));
    assert!(events.iter().any(|e| matches!(&e.kind, EventKind::Unlink(u)
        if u.path.as_bytes() == b"count.txt" && !u.dir)));
    assert!(events.iter().any(|e| matches!(&e.kind, EventKind::Unlink(u)
        if u.path.as_bytes() == b"d" && u.dir)));
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::Chmod(c) if c.mode == 0o600))
    );
    assert!(
        events.iter().any(
            |e| matches!(&e.kind, EventKind::Chown(c) if c.uid == Some(1) && c.gid == Some(1))
        )
    );
    // Redirections are dups (fcntl F_DUPFD and dup2).
    assert!(kinds(events, "dup") >= 4);
    assert!(kinds(events, "write") >= 5);
    assert!(kinds(events, "close") >= 10);
    // The process tree: every process of the container has a fork from its parent.
    let forks: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Fork(f) => Some((f.parent_pid, f.child_pid)),
            _ => None,
        })
        .collect();
    let execs: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Exec(x) => Some((x.ppid.unwrap(), x.pid)),
            _ => None,
        })
        .collect();
    // (runc's init is re-parented to the shim before its exec, so the fork's parent can differ
    // from the exec's ppid.)
    for (ppid, pid) in &execs {
        assert!(
            forks.iter().any(|&(_, c)| c == *pid),
            "exec of {pid} (ppid {ppid}) has a fork: {forks:?}"
        );
    }
    for e in events {
        assert!(
            e.run.is_empty() && e.seq == 0,
            "producers leave run/seq to the output stage"
        );
        assert!(e.audit.is_some() || matches!(e.kind, EventKind::Gap(_)));
    }
}

#[test]
fn handwritten_edge_cases() {
    let (events, counters) = assemble(&fixture_lines("handwritten-edge-cases.log"));
    assert_eq!(counters.parse_errors, 2, "{counters:?}");
    let text: String = events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap() + "\n")
        .collect();
    let path = fixtures().join("handwritten-edge-cases.events.jsonl");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text,
        "regenerate with UPDATE_GOLDEN=1 if intended"
    );

    assert!(
        events.iter().all(|e| e.host == "web-1"),
        "node= names the host"
    );
    let exec = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Exec(x) => Some(x),
            _ => None,
        })
        .unwrap();
    let args: Vec<&[u8]> = exec.process.args.iter().map(|a| a.as_bytes()).collect();
    assert_eq!(
        args,
        [&b"python3"[..], b"-c \"print\"", b"", b"odd\x01\xff"]
    );
    assert_eq!(exec.process.argc, Some(4));
    let open = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Open(o) => Some(o),
            _ => None,
        })
        .unwrap();
    assert_eq!(open.cwd.as_ref().unwrap().as_bytes(), b"/tmp/a dir");
    assert_eq!(
        open.resolved.as_ref().unwrap().as_bytes(),
        b"/tmp/b/new file"
    );
    let gaps: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Gap(g) => Some(g),
            _ => None,
        })
        .collect();
    assert!(
        gaps.iter()
            .any(|g| g.reason == GapReason::ParseError && g.lost == Some(2)),
        "{gaps:?}"
    );
    assert!(
        gaps.iter()
            .any(|g| g.reason == GapReason::AuditSerialJump && g.lost == Some(4)),
        "{gaps:?}"
    );
    // The clone's child shows up as host pid 777: its fork has the clone's serial.
    let fork = events
        .iter()
        .find(|e| matches!(&e.kind, EventKind::Fork(f) if f.child_pid == 777))
        .unwrap();
    assert_eq!(fork.audit.as_ref().unwrap().serial, 1010);
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::Unlink(u) if u.dir && u.path.as_bytes() == b"d"))
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::Dup(d) if d.old_fd == 1 && d.new_fd == 10))
    );
    // The lone CONFIG_CHANGE and the UNKNOWN[1999] record (a kernel-range type) time out.
    assert_eq!(counters.timed_out, 2, "{counters:?}");
}

/// The records of each kernel event, in log order.
fn events_of(lines: &[Vec<u8>]) -> Vec<Vec<Vec<u8>>> {
    let mut groups: Vec<(u64, Vec<Vec<u8>>)> = Vec::new();
    for l in lines {
        let serial = dockwatch_listener::recording::audit::parse_log_line(l)
            .unwrap()
            .serial();
        match groups.last_mut() {
            Some((s, g)) if *s == serial => g.push(l.clone()),
            _ => groups.push((serial, vec![l.clone()])),
        }
    }
    groups.into_iter().map(|(_, g)| g).collect()
}

#[test]
fn interleaved_events_give_the_same_events() {
    for name in ["small-raw.log", "small-enriched.log"] {
        let lines = fixture_lines(name);
        let (want, _) = assemble(&lines);
        // Interleave each pair of neighbouring events record by record, keeping the order in
        // which they complete (the first's last record before the second's).
        let groups = events_of(&lines);
        let mut mixed = Vec::new();
        for pair in groups.chunks(2) {
            match pair {
                [a, b] => {
                    let (a_last, a_body) = a.split_last().unwrap();
                    let (b_last, b_body) = b.split_last().unwrap();
                    let n = a_body.len().max(b_body.len());
                    for i in 0..n {
                        mixed.extend(a_body.get(i).cloned());
                        mixed.extend(b_body.get(i).cloned());
                    }
                    mixed.push(a_last.clone());
                    mixed.push(b_last.clone());
                }
                [a] => mixed.extend(a.iter().cloned()),
                _ => unreachable!(),
            }
        }
        assert_ne!(mixed, lines, "the test must actually interleave");
        let (got, _) = assemble(&mixed);
        assert_eq!(got, want, "{name}");
    }
}
