//! End-to-end: what `godo` records when the kernel's streams race, on the real kernel, dockerd
//! and MongoDB-wire server.
//!
//! The process connector reports a fork at once; audit reports the parent's open before it and
//! its close after it later, through the kernel's audit queue; `/proc` of a short-lived child is
//! often gone before anyone reads it. A static helper (`tests/helpers/fork_writer.c`, built
//! here with `cc -static`) runs in a busybox container: two loops in parallel each open a file
//! and fork at once, 4,000 times as fast as they can, the child writes through the descriptor
//! it inherited and exits, and the parent closes its descriptor right after the fork; then a
//! one-off where the parent keeps its descriptor until its child is done; then the shell's
//! forked busybox applets (`chmod`, `mv`, `rm`), which never exec.
//!
//! Checked on the stored events, the capture file and the report JSON (the pipeline on the
//! stored events, and `dockwatch-tui report` on the capture): every child's write is in that
//! child's file list with the path its parent opened for it (the last open before the parent's
//! clone call, by audit serial), and every process of the container has a name.
//!
//! Needs root, dockerd with `dockwatch-busybox:latest`, `cc` and `DOCKWATCH_TEST_MONGO`;
//! outside CI it skips (saying why) when one is missing, under CI it fails.

use std::collections::{BTreeMap, HashMap};
use std::process::Command;
use std::time::Duration;

use dockwatch_shared::Timestamp;
use dockwatch_shared::model::event::{Event, EventKind, FdFrom, Pid};
use dockwatch_shared::storage::store::{Store, StoreConfig};
use dockwatch_shared::testing::{AuditLock, Need, require};
use futures_util::StreamExt;
use serde_json::Value;

use dockwatch_e2e::godo::{
    Godo, IMAGE, args_of, assert_no_file_before_its_process, audit_state, files_of, godo_binary,
    has_op, host_identity, keep, report_nodes,
};

/// Forks per loop.
const FORKS: usize = 4_000;

/// The container's shell: the two racing loops, the one-off, and the applets (not last: the
/// shell runs its last command in its own process).
fn script() -> String {
    format!(
        "mkdir /out; \
         /h/fork_writer burst /out a {FORKS} & /h/fork_writer burst /out b {FORKS} & wait; \
         /h/fork_writer once /out/inherited.txt; \
         echo x > /out/named; chmod 600 /out/named; mv /out/named /out/renamed; rm /out/renamed; \
         echo done"
    )
}

#[test]
fn every_inherited_write_is_the_childs_and_every_process_has_a_name() {
    if !require(&[
        Need::Root,
        Need::Docker,
        Need::Mongo,
        dockwatch_e2e::godo::CC,
    ]) {
        return;
    }
    let Some(mongo) = dockwatch_e2e::test_mongo() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let helper = dockwatch_e2e::godo::fork_writer(dir.path());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let db = format!("dwraces_{}_{}", std::process::id(), nanos % 1_000_000_000);
    let name = format!("dwraces-{}-{}", std::process::id(), nanos % 1_000_000);
    let capture = dir.path().join("capture.jsonl");

    let lock = AuditLock::take();
    let before = audit_state();
    let mut godo = Godo::start(
        &godo_binary(),
        &[
            "--mongo",
            &mongo,
            "--db",
            &db,
            "--write",
            capture.to_str().expect("utf-8 path"),
        ],
    );
    godo.wait_for("start-up snapshot taken", Duration::from_secs(60));
    let volume = format!("{}:/h/fork_writer:ro", helper.display());
    let run = Command::new("docker")
        .args(["run", "--name", &name, "--network", "none", "-v", &volume])
        .args([IMAGE, "/bin/sh", "-c", &script()])
        .status()
        .expect("docker run");
    let cid = String::from_utf8_lossy(
        &Command::new("docker")
            .args(["inspect", "-f", "{{.Id}}", &name])
            .output()
            .expect("docker inspect")
            .stdout,
    )
    .trim()
    .to_string();
    let _ = Command::new("docker").args(["rm", "-f", &name]).output();
    assert!(run.success(), "the container's script succeeds: {run}");
    // Let held events, coalesced writes and unfinished audit events flush.
    std::thread::sleep(Duration::from_secs(5));
    let status = godo.terminate();
    let after = audit_state();
    drop(lock);
    assert!(status.success(), "godo exits 0 on SIGTERM: {status}");
    assert_eq!(after, before, "audit rules and settings are restored");

    let (host, boot) = host_identity();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut cfg = StoreConfig::host_port(&mongo);
    cfg.raw_db.clone_from(&db);
    let (events, store) = rt.block_on(async {
        let store = Store::connect(&cfg).await.expect("connect");
        let mut stream = store
            .stream_events(&host, &boot)
            .await
            .expect("stream events");
        let mut v = Vec::new();
        while let Some(e) = stream.next().await {
            v.push(e.expect("event decodes"));
        }
        (v, store)
    });
    keep(
        &format!("{name}.capture.jsonl"),
        &std::fs::read(&capture).unwrap_or_default(),
    );
    let check = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let (mut captured, errors) =
            dockwatch_shared::storage::capture::read_all(&capture).expect("read the capture");
        assert!(errors.is_empty(), "{errors:?}");
        let mut stored = events.clone();
        stored.sort_by_key(|e| e.seq);
        captured.sort_by_key(|e| e.seq);
        assert!(
            captured == stored,
            "the capture holds the events the database holds"
        );
        let story = Story::of(&events);
        story.check_events(&events);

        let loaded = rt
            .block_on(dockwatch_shared::load::from_store(
                &store,
                Some(&host),
                Some(&boot),
                dockwatch_shared::load::Checkpoints::Off,
                Timestamp::now(),
                &mut |_| {},
            ))
            .expect("the pipeline runs on the stored events");
        let doc = dockwatch_shared::presentation::report::export_json(&loaded.investigation, None);
        keep(&format!("{name}.report.json"), doc.to_string().as_bytes());
        story.check_report(&doc, &cid);
        let tui = dockwatch_e2e::workspace_binary("dockwatch-tui");
        let out = Command::new(tui)
            .args(["report", "--replay"])
            .arg(&capture)
            .args(["--format", "json"])
            .output()
            .expect("dockwatch-tui report");
        assert!(
            out.status.success(),
            "dockwatch-tui report: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: Value = serde_json::from_slice(&out.stdout).expect("the report is JSON");
        story.check_report(&doc, &cid);
    }));
    rt.block_on(async { store.raw_db().drop().await })
        .expect("drop the test database");
    if let Err(p) = check {
        std::panic::resume_unwind(p);
    }
}

/// What the container did, from the recorded events: each burst child and the file its parent
/// opened for it.
struct Story {
    /// Burst child → the path its parent opened last before the clone call that made it.
    burst: BTreeMap<Pid, String>,
    /// The one-off's child.
    once_child: Pid,
}

/// A recorded fork of a process: the child, how its table was chosen, its clone call's serial.
type ForkSeen = (Pid, Option<FdFrom>, Option<u64>);

fn args_of_exec(e: &Event) -> Option<(Pid, Vec<String>)> {
    match &e.kind {
        EventKind::Exec(x) => Some((
            x.tgid,
            x.process
                .args
                .iter()
                .map(|a| a.to_str_lossy().into_owned())
                .collect(),
        )),
        _ => None,
    }
}

impl Story {
    fn of(events: &[Event]) -> Self {
        let exec_of = |want: &[&str]| -> Vec<Pid> {
            let mut pids: Vec<Pid> = events
                .iter()
                .filter_map(args_of_exec)
                .filter(|(_, a)| a.iter().map(String::as_str).eq(want.iter().copied()))
                .map(|(p, _)| p)
                .collect();
            pids.sort_unstable();
            pids.dedup();
            pids
        };
        let forks = FORKS.to_string();
        let parents: Vec<Pid> = ["a", "b"]
            .iter()
            .flat_map(|tag| exec_of(&["/h/fork_writer", "burst", "/out", tag, &forks]))
            .collect();
        assert_eq!(parents.len(), 2, "both burst loops exec'd: {parents:?}");
        let once = exec_of(&["/h/fork_writer", "once", "/out/inherited.txt"]);
        assert_eq!(once.len(), 1, "the one-off exec'd");

        // Each parent's opens by audit serial, and its forks with the clone call that made them.
        let mut opens: HashMap<Pid, Vec<(u64, String)>> = HashMap::new();
        let mut forks: HashMap<Pid, Vec<ForkSeen>> = HashMap::new();
        for e in events {
            match &e.kind {
                EventKind::Open(o) if o.fd.is_some() => {
                    let serial = e.audit.as_ref().map_or(0, |a| a.serial);
                    let path = o.resolved.as_ref().unwrap_or(&o.path);
                    opens
                        .entry(o.tgid)
                        .or_default()
                        .push((serial, path.to_str_lossy().into_owned()));
                }
                EventKind::Fork(f) if f.child_pid == f.child_tgid => {
                    forks.entry(f.parent_tgid).or_default().push((
                        f.child_tgid,
                        f.fd_from,
                        f.clone_serial,
                    ));
                }
                _ => {}
            }
        }
        let mut burst = BTreeMap::new();
        for p in &parents {
            let kids = forks.get(p).map(Vec::as_slice).unwrap_or_default();
            assert_eq!(kids.len(), FORKS, "every fork of burst loop {p} recorded");
            let placed: Vec<&ForkSeen> = kids
                .iter()
                .filter(|k| k.1 != Some(FdFrom::CloneCall))
                .collect();
            assert!(
                placed.is_empty(),
                "{} of {FORKS} forks of {p} not placed at their clone call: {:?}",
                placed.len(),
                &placed[..placed.len().min(10)]
            );
            let mut own = opens.get(p).cloned().unwrap_or_default();
            own.sort_unstable();
            for &(child, _, clone) in kids {
                let clone = clone.expect("a clone serial");
                let at = own.partition_point(|(s, _)| *s < clone);
                let (_, path) = &own[at.checked_sub(1).expect("an open before the fork")];
                burst.insert(child, path.clone());
            }
        }
        let mut files: Vec<&String> = burst.values().collect();
        files.sort_unstable();
        files.dedup();
        assert_eq!(
            files.len(),
            2 * FORKS,
            "each burst child had a file of its own"
        );
        let once_child = forks
            .get(&once[0])
            .and_then(|k| k.first())
            .map(|k| k.0)
            .expect("the one-off's child");
        Self { burst, once_child }
    }

    /// Every burst child's write is recorded with its path, and nothing else.
    fn check_events(&self, events: &[Event]) {
        let mut writes: HashMap<Pid, Vec<Option<String>>> = HashMap::new();
        for e in events {
            if let EventKind::Write(w) = &e.kind {
                writes
                    .entry(w.tgid)
                    .or_default()
                    .push(w.path.as_ref().map(|p| p.to_str_lossy().into_owned()));
            }
        }
        let wrong: Vec<String> = self
            .burst
            .iter()
            .filter(|(child, path)| writes.get(child) != Some(&vec![Some((*path).clone())]))
            .map(|(child, path)| format!("{child}: want {path}, got {:?}", writes.get(child)))
            .collect();
        assert!(
            wrong.is_empty(),
            "{} of {} children's writes are not to their file: {:?}",
            wrong.len(),
            self.burst.len(),
            &wrong[..wrong.len().min(10)]
        );
        assert_eq!(
            writes.get(&self.once_child),
            Some(&vec![Some("/out/inherited.txt".to_owned())]),
            "the one-off child's write"
        );
    }

    /// The report: each burst child's file list is its file, written once; the one-off child
    /// wrote `inherited.txt`; every process of the container has a name, the applets their own.
    fn check_report(&self, doc: &Value, cid: &str) {
        assert_no_file_before_its_process(doc);
        let nodes = report_nodes(doc);
        let in_container: Vec<&Value> = nodes
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| n["container_id"] == cid)
            .collect();
        assert!(
            in_container.len() > 2 * FORKS,
            "the container's processes are in the report ({})",
            in_container.len()
        );
        let by_pid: HashMap<i64, &Value> = in_container
            .iter()
            .filter_map(|n| Some((n["pid"].as_i64()?, *n)))
            .collect();
        let mut wrong = Vec::new();
        for (child, path) in &self.burst {
            let Some(n) = by_pid.get(&i64::from(*child)) else {
                wrong.push(format!("{child}: not in the report"));
                continue;
            };
            let files: Vec<(&str, u64)> = files_of(n)
                .iter()
                .map(|f| {
                    (
                        f["path"].as_str().unwrap_or(""),
                        f["writes"].as_u64().unwrap_or(0),
                    )
                })
                .collect();
            if files != [(path.as_str(), 1)] {
                wrong.push(format!("{child}: want {path} written once, got {files:?}"));
            }
        }
        assert!(
            wrong.is_empty(),
            "{} of {} children's file lists are wrong: {:?}",
            wrong.len(),
            self.burst.len(),
            &wrong[..wrong.len().min(10)]
        );
        let once = by_pid
            .get(&i64::from(self.once_child))
            .expect("the one-off child in the report");
        assert!(
            files_of(once)
                .iter()
                .any(|f| f["path"] == "/out/inherited.txt" && f["writes"] == 1),
            "the one-off child wrote inherited.txt: {once}"
        );

        let nameless: Vec<&&Value> = in_container
            .iter()
            .filter(|n| n["comm"].is_null())
            .collect();
        assert!(
            nameless.is_empty(),
            "{} processes of the container have no name: {:?}",
            nameless.len(),
            &nameless[..nameless.len().min(5)]
        );
        let named = |comm: &str| -> Vec<&&Value> {
            in_container.iter().filter(|n| n["comm"] == comm).collect()
        };
        // busybox's shell forks its applets and runs them without an exec: their names come
        // from their own audit records, the rest (arguments, directory) from the shell.
        for (applet, op, path) in [
            ("chmod", "chmod", "/out/named"),
            ("mv", "rename", "/out/named"),
            ("rm", "unlink", "/out/renamed"),
        ] {
            let found = named(applet);
            assert!(
                found.iter().any(|n| files_of(n)
                    .iter()
                    .any(|f| f["path"] == path && has_op(f, op))),
                "a process named {applet} did {op} on {path}: {found:?}"
            );
            assert!(
                found.iter().all(|n| args_of(n).first() == Some(&"/bin/sh")
                    && n["inherited"]
                        .as_array()
                        .is_some_and(|a| a.contains(&"args".into()))),
                "{applet} holds its shell's arguments, marked inherited: {found:?}"
            );
        }
        // The burst children exit at once: their name is their parent's program's.
        let kids_named = self
            .burst
            .keys()
            .filter(|c| {
                by_pid
                    .get(&i64::from(**c))
                    .is_some_and(|n| n["comm"] == "fork_writer")
            })
            .count();
        assert_eq!(kids_named, self.burst.len(), "every burst child is named");
    }
}
