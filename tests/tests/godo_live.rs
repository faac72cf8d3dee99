//! End-to-end: `godo` on the real kernel, dockerd and MongoDB-wire server.
//!
//! Needs root, a running dockerd with the image `dockwatch-busybox:latest`, and
//! `DOCKWATCH_TEST_MONGO`; outside CI it skips (saying why) when one is missing, under CI it
//! fails. The `godo` binary is another package's, which cargo does not build for this one's
//! tests, so the test builds it (`cargo build -p dockwatch-listener --bin godo`, a no-op when
//! it is up to date) and runs it from the same target directory as this test executable.
//!
//! The audit daemon and the audit rules are global: the test holds the team's audit lock
//! (`flock /tmp/dockwatch-audit.lock`) while godo runs, and checks that the rules and settings
//! are as before once godo has exited on SIGTERM.
//!
//! The container scenario runs twice: on the running dockerd (which started its own
//! containerd), and on a private dockerd pointed at a private containerd started first as its
//! own service (`dockerd --containerd=SOCKET`), both with their own sockets and directories, so
//! the shared daemon is never touched. Each run is checked twice: on the events godo stored,
//! and on the report the pipeline makes of them (`dockwatch_shared::presentation::report::export_json` and
//! `dockwatch-tui report --format json`), against what the container did.

use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::time::Duration;

use dockwatch_shared::Timestamp;
use dockwatch_shared::model::event::{DockerRole, Event, EventKind, Pid};
use dockwatch_shared::storage::store::{Store, StoreConfig};
use dockwatch_shared::testing::{AuditLock, Need, SecantusServer, require};
use futures_util::StreamExt;
use serde_json::Value;

use dockwatch_e2e::private_docker::PrivateDocker;

use dockwatch_e2e::godo::{
    Godo, IMAGE, args_of, assert_no_file_before_its_process, audit_state, auditctl, files_of,
    godo_binary, has_op, host_identity, keep, report_nodes,
};

/// The container's shell: a pipeline, a write by redirection, a rename, a deletion, an inner
/// shell that leaves a background child running after it exits (the child writes `/tmp/late` a
/// second later, as an orphan), and a process that execs twice (a shell that writes
/// `/tmp/twice`, then becomes `sleep`); then it exits 3.
const SCRIPT: &str = "echo one two | tr o 0 > /tmp/piped; \
     echo hello > /tmp/a.txt; mv /tmp/a.txt /tmp/b.txt; \
     echo bye > /tmp/gone; rm /tmp/gone; \
     sh -c '(sleep 1; echo late > /tmp/late) & exit 0'; \
     sh -c 'echo twice > /tmp/twice; exec sleep 0.2'; \
     sleep 4; exit 3";

fn exec_args(e: &Event) -> Option<(Pid, Vec<String>, Option<&str>)> {
    match &e.kind {
        EventKind::Exec(x) => Some((
            x.tgid,
            x.process
                .args
                .iter()
                .map(|a| a.to_str_lossy().into_owned())
                .collect(),
            x.process.container_id.as_deref(),
        )),
        _ => None,
    }
}

/// Which Docker the scenario runs on.
struct Target {
    /// `docker -H` value; `None` for the running dockerd.
    host: Option<String>,
    /// The containerd started first as its own service (the private target): the lineage must
    /// lead to it, and it must not be below a dockerd.
    containerd: Option<Pid>,
}

impl Target {
    fn docker(&self) -> Command {
        let mut c = Command::new("docker");
        if let Some(h) = &self.host {
            c.args(["-H", h]);
        }
        c
    }
}

/// The scenario on the running dockerd, which started its own containerd.
#[test]
fn godo_records_a_container_and_restores_audit() {
    if !require(&[Need::Root, Need::Docker, Need::Mongo]) {
        return;
    }
    let Some(mongo) = dockwatch_e2e::test_mongo() else {
        return;
    };
    let target = Target {
        host: None,
        containerd: None,
    };
    record_a_container_and_restore_audit(&mongo, &target);
}

/// The scenario on a private dockerd pointed at a containerd started first as its own service.
#[test]
fn godo_records_a_container_on_a_separate_containerd() {
    let programs = [
        ("containerd", "containerd"),
        ("dockerd", "docker.io"),
        ("docker", "docker.io"),
        ("busybox", "busybox-static"),
    ]
    .map(|(name, package)| Need::Program { name, package });
    if !require(&[Need::Root, Need::Mongo]) || !require(&programs) {
        return;
    }
    let Some(mongo) = dockwatch_e2e::test_mongo() else {
        return;
    };
    let private = PrivateDocker::start();
    let target = Target {
        host: Some(private.host.clone()),
        containerd: Some(private.containerd_pid()),
    };
    record_a_container_and_restore_audit(&mongo, &target);
    drop(private);
}

fn record_a_container_and_restore_audit(mongo: &str, target: &Target) {
    let bin = godo_binary();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let db = format!("dwlive_{}_{}", std::process::id(), nanos % 1_000_000_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("capture.jsonl");
    let name = format!("dwlive-{}-{}", std::process::id(), nanos % 1_000_000);

    let lock = AuditLock::take();
    let before = audit_state();
    let mut godo = Godo::start(
        &bin,
        &[
            "--mongo",
            mongo,
            "--db",
            &db,
            "--write",
            capture.to_str().expect("utf-8 path"),
        ],
    );
    godo.wait_for("start-up snapshot taken", Duration::from_secs(60));
    let during = auditctl("-l");

    let run = target
        .docker()
        .args([
            "run",
            "--name",
            &name,
            "--network",
            "none",
            IMAGE,
            "/bin/sh",
            "-c",
            SCRIPT,
        ])
        .status()
        .expect("docker run");
    let inspect = String::from_utf8_lossy(
        &target
            .docker()
            .args([
                "inspect",
                "-f",
                "{{.Id}} {{.GraphDriver.Data.MergedDir}}",
                &name,
            ])
            .output()
            .expect("docker inspect")
            .stdout,
    )
    .trim()
    .to_string();
    let _ = target.docker().args(["rm", "-f", &name]).output();
    let (cid, merged) = inspect.split_once(' ').unwrap_or((&inspect, ""));
    let (cid, merged) = (cid.to_string(), merged.to_string());
    assert_eq!(run.code(), Some(3), "the container's shell exits 3");
    assert_eq!(cid.len(), 64, "container id {cid:?}");
    // Let coalesced writes (2 s) and unfinished audit events (2 s) flush.
    std::thread::sleep(Duration::from_secs(4));
    let status = godo.terminate();
    let after = audit_state();
    drop(lock);
    assert!(status.success(), "godo exits 0 on SIGTERM: {status}");
    assert!(
        during.contains("key=dockwatch"),
        "rules were installed: {during}"
    );
    assert_eq!(
        after, before,
        "audit rules and settings are restored after SIGTERM"
    );

    // Everything from the database, for this host and boot.
    let (host, boot) = host_identity();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (events, store) = rt.block_on(async {
        let mut cfg = StoreConfig::host_port(mongo);
        cfg.raw_db.clone_from(&db);
        let store = Store::connect(&cfg)
            .await
            .expect("connect to the test database");
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
        check_events(&events, &cid, &capture, target);
        // The pipeline on what godo stored, and the report's JSON against what the container did.
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
        check_report(&doc, &cid, &merged, target);
        // The same document from the command line.
        let tui = dockwatch_e2e::workspace_binary("dockwatch-tui");
        let out = Command::new(tui)
            .args(["report", "--mongo", mongo, "--db", &db, "--host", &host])
            .args(["--boot", &boot, "--format", "json", "--no-cooked"])
            .output()
            .expect("dockwatch-tui report");
        assert!(
            out.status.success(),
            "dockwatch-tui report: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: Value = serde_json::from_slice(&out.stdout).expect("the report is JSON");
        check_report(&doc, &cid, &merged, target);
    }));
    rt.block_on(async { store.raw_db().drop().await })
        .expect("drop the test database");
    if let Err(p) = check {
        std::panic::resume_unwind(p);
    }
}

fn check_events(events: &[Event], cid: &str, capture: &std::path::Path, target: &Target) {
    assert!(!events.is_empty(), "the database has events");
    let run = &events[0].run;
    assert!(events.iter().all(|e| &e.run == run), "one run");

    // dockerd is starred by the start-up snapshot.
    assert!(
        events.iter().any(
            |e| matches!(&e.kind, EventKind::Snapshot(s) if s.process.star
            && s.process.exe.as_ref().is_some_and(|x| x.as_bytes().ends_with(b"dockerd")))
        ),
        "a starred dockerd snapshot"
    );

    // The container's execs, with args and container id.
    let in_container: Vec<(Pid, Vec<String>)> = events
        .iter()
        .filter_map(exec_args)
        .filter(|(_, _, c)| *c == Some(cid))
        .map(|(t, a, _)| (t, a))
        .collect();
    let has = |argv: &[&str]| {
        in_container
            .iter()
            .any(|(_, a)| a.iter().map(String::as_str).eq(argv.iter().copied()))
    };
    assert!(
        has(&["/bin/sh", "-c", SCRIPT]),
        "the container's sh -c exec: {in_container:#?}"
    );
    assert!(
        has(&["tr", "o", "0"]),
        "the pipeline's tr: {in_container:#?}"
    );
    // busybox's sh runs `mv` and `rm` in-process (no-fork applets): no exec for them, but the
    // rename and unlink below come from the shell itself.
    assert!(has(&["sleep", "4"]), "sleep: {in_container:#?}");
    let sh = in_container
        .iter()
        .find(|(_, a)| a.last().map(String::as_str) == Some(SCRIPT) && a.len() == 3)
        .map(|(t, _)| *t)
        .expect("sh tgid");

    // Fork lineage from dockerd or containerd down to the container's shell.
    let mut parent: HashMap<Pid, Pid> = HashMap::new();
    let mut roles: HashMap<Pid, DockerRole> = HashMap::new();
    for e in events {
        match &e.kind {
            EventKind::Fork(f) if f.child_pid == f.child_tgid => {
                parent.insert(f.child_tgid, f.parent_tgid);
            }
            EventKind::Snapshot(s) => {
                if let Some(r) = s.process.role {
                    roles.insert(s.tgid, r);
                }
            }
            _ => {}
        }
    }
    let mut chain = vec![sh];
    let mut at = sh;
    let mut reached = None;
    for _ in 0..40 {
        if let Some(r @ (DockerRole::Dockerd | DockerRole::Containerd)) = roles.get(&at) {
            reached = Some(*r);
            break;
        }
        let Some(&p) = parent.get(&at) else { break };
        chain.push(p);
        at = p;
    }
    assert!(
        reached.is_some(),
        "fork lineage from the container's sh reaches dockerd/containerd: {chain:?}"
    );
    eprintln!("lineage from the container's sh up to {reached:?}: {chain:?}");
    if let Some(ctd) = target.containerd {
        // The containerd started first, as its own service, is the root; no dockerd above it.
        assert_eq!(
            at, ctd,
            "the lineage reaches the separate containerd: {chain:?}"
        );
        let above = events.iter().find_map(|e| match &e.kind {
            EventKind::Snapshot(s) if s.tgid == ctd => Some(s.ppid),
            _ => None,
        });
        let above = above.expect("the separate containerd is in the start-up snapshot");
        assert!(
            !matches!(roles.get(&above), Some(DockerRole::Dockerd)),
            "the separate containerd is not below a dockerd (its parent is {above})"
        );
    }

    // The redirected write, attributed to its path; the pipeline's write too.
    let writes: Vec<(Pid, String)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Write(w) => Some((w.tgid, w.path.as_ref()?.to_str_lossy().into_owned())),
            _ => None,
        })
        .collect();
    assert!(
        writes.iter().any(|(t, p)| *t == sh && p == "/tmp/a.txt"),
        "write to /tmp/a.txt by sh: {writes:?}"
    );
    assert!(
        writes.iter().any(|(_, p)| p == "/tmp/piped"),
        "pipeline write to /tmp/piped"
    );

    // Rename and deletion.
    assert!(
        events.iter().any(|e| matches!(&e.kind, EventKind::Rename(r) if r.from.as_bytes() == b"/tmp/a.txt" && r.to.as_bytes() == b"/tmp/b.txt")),
        "rename recorded"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::Unlink(u) if u.path.as_bytes() == b"/tmp/gone")),
        "deletion recorded"
    );

    // Exit codes: the shell's 3.
    assert!(
        events.iter().any(|e| matches!(&e.kind, EventKind::Exit(x) if x.tgid == sh && x.pid == sh && x.exit_code == Some(3))),
        "sh exit code 3"
    );

    // The background child outlived its parent: its write to /tmp/late came after the parent's
    // exit (the parent is the one the process connector saw fork it).
    let late = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Write(w)
                if w.path
                    .as_ref()
                    .is_some_and(|p| p.as_bytes() == b"/tmp/late") =>
            {
                Some((w.tgid, w.first))
            }
            _ => None,
        })
        .expect("the background child's write to /tmp/late");
    let late_parent = *parent.get(&late.0).expect("fork of the background child");
    let parent_exit = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Exit(x) if x.pid == late_parent && x.tgid == late_parent => Some(e.time),
            _ => None,
        })
        .expect("the background child's parent exited");
    assert!(
        parent_exit < late.1,
        "the child wrote after its parent exited"
    );

    // No loss.
    let gaps: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Gap(_)))
        .collect();
    assert!(gaps.is_empty(), "no gap: {gaps:#?}");

    // The capture file has the same events.
    let (mut captured, errors) =
        dockwatch_shared::storage::capture::read_all(capture).expect("read the capture");
    assert!(errors.is_empty(), "{errors:?}");
    let mut stored = events.to_vec();
    stored.sort_by_key(|e| e.seq);
    captured.sort_by_key(|e| e.seq);
    assert_eq!(
        captured.len(),
        stored.len(),
        "same number of events in the capture and the database"
    );
    let seqs: HashSet<u64> = stored.iter().map(|e| e.seq).collect();
    assert_eq!(seqs.len(), stored.len(), "each event once");
    assert!(
        stored.iter().enumerate().all(|(i, e)| e.seq == i as u64),
        "no seq missing"
    );
    assert!(
        captured == stored,
        "the capture file holds the same events as the database"
    );
}

/// The pipeline's report (docs/report-schema.md) against what the container did. `merged` is
/// the container's root directory as `docker inspect` gave it (empty when unknown).
fn check_report(doc: &Value, cid: &str, merged: &str, target: &Target) {
    assert_no_file_before_its_process(doc);
    assert_eq!(doc["gaps"].as_array().map(Vec::len), Some(0), "no gap");
    assert_eq!(doc["stats"]["gaps"], 0, "no gap in the stats");
    let nodes = report_nodes(doc);
    let (sh, up) = nodes
        .iter()
        .find(|(n, _)| n["container_id"] == cid && args_of(n) == ["/bin/sh", "-c", SCRIPT])
        .unwrap_or_else(|| panic!("the container's sh is in the tree below a root"));
    let root = up.first().expect("sh is below a root");
    match target.containerd {
        None => assert_eq!(
            root["star"], true,
            "the root above sh is the starred dockerd"
        ),
        Some(ctd) => {
            assert_eq!(
                root["pid"], ctd,
                "the root above sh is the separate containerd"
            );
            assert!(
                up.iter().all(|n| n["star"] == false),
                "no dockerd between the separate containerd and sh"
            );
        }
    }
    eprintln!(
        "report: sh {} below {}",
        sh["pid"],
        up.iter()
            .map(|n| format!("{} {}", n["pid"], n["comm"]))
            .collect::<Vec<_>>()
            .join(" > ")
    );
    assert_eq!(sh["exit_code"], 3, "sh exits 3");
    let rootfs = sh["rootfs"]
        .as_str()
        .expect("sh has its container's rootfs");
    if !merged.is_empty() {
        assert_eq!(rootfs, merged, "rootfs is the container's merged directory");
    }
    let host = |p: &str| format!("{rootfs}{p}");

    // Everything below sh is the container's, with its id.
    let below: Vec<&Value> = nodes
        .iter()
        .filter(|(_, up)| up.iter().any(|a| std::ptr::eq(*a, *sh)))
        .map(|(n, _)| *n)
        .collect();
    for n in &below {
        assert_eq!(n["container_id"], cid, "container id of {n}");
    }
    // Every process of the container has a name, those busybox forks without an exec too
    // (mv and rm: from their own audit records).
    let nameless: Vec<&&Value> = below.iter().filter(|n| n["comm"].is_null()).collect();
    assert!(
        nameless.is_empty(),
        "processes without a name: {nameless:?}"
    );
    for applet in ["mv", "rm"] {
        assert!(
            below.iter().any(|n| n["comm"] == applet),
            "a process named {applet}: {:?}",
            below.iter().map(|n| &n["comm"]).collect::<Vec<_>>()
        );
    }
    let node = |argv: &[&str]| {
        below
            .iter()
            .copied()
            .filter(|n| args_of(n) == argv)
            .collect::<Vec<&Value>>()
    };
    let file = |n: &Value, p: &str| files_of(n).iter().find(|f| f["path"] == p).cloned();

    // The redirected write, by sh itself.
    let a = file(sh, "/tmp/a.txt").expect("sh's write to /tmp/a.txt");
    assert!(has_op(&a, "write"), "{a}");
    assert_eq!(a["writes"], 1, "{a}");
    assert_eq!(a["host_path"], host("/tmp/a.txt"), "{a}");
    // The pipeline's tr writes /tmp/piped.
    let tr = node(&["tr", "o", "0"]);
    assert_eq!(tr.len(), 1, "one tr");
    assert_eq!(tr[0]["exit_code"], 0);
    let piped = file(tr[0], "/tmp/piped").expect("tr's /tmp/piped");
    assert!(piped["writes"].as_u64().is_some_and(|w| w >= 1), "{piped}");
    assert_eq!(piped["host_path"], host("/tmp/piped"));
    // The rename and the deletion (busybox runs mv and rm in a forked child without exec).
    let all_files: Vec<&Value> = std::iter::once(*sh)
        .chain(below.iter().copied())
        .flat_map(files_of)
        .collect();
    let renamed = all_files
        .iter()
        .find(|f| f["path"] == "/tmp/a.txt" && has_op(f, "rename"))
        .expect("the rename");
    assert_eq!(renamed["renamed_to"], "/tmp/b.txt");
    let gone = all_files
        .iter()
        .find(|f| f["path"] == "/tmp/gone" && has_op(f, "unlink"))
        .expect("the deletion");
    assert_eq!(gone["host_path"], host("/tmp/gone"));
    // The process that ran sh, then sleep: both programs kept, the write is the shell's.
    let twice = nodes
        .iter()
        .map(|(n, _)| *n)
        .find(|n| files_of(n).iter().any(|f| f["path"] == "/tmp/twice"))
        .expect("the writer of /tmp/twice");
    let programs: Vec<String> = twice["execs"]
        .as_array()
        .expect("execs")
        .iter()
        .map(|e| e["args"][0].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(programs, ["sh", "sleep"], "{twice}");
    assert_eq!(
        args_of(twice),
        ["sleep", "0.2"],
        "it shows its last program"
    );
    let f = file(twice, "/tmp/twice").expect("the write");
    assert_eq!(f["exec"], 0, "written by the shell, not by sleep: {f}");
    // sleep 4 exits 0.
    let sleep = node(&["sleep", "4"]);
    assert_eq!(sleep.len(), 1, "one sleep 4");
    assert_eq!(sleep[0]["exit_code"], 0);
    // The inner shell and its background child, which stays below it and writes /tmp/late once,
    // after the inner shell exited.
    let inner_args = ["sh", "-c", "(sleep 1; echo late > /tmp/late) & exit 0"];
    let (inner, child, late) = node(&inner_args)
        .into_iter()
        .find_map(|n| {
            n["children"].as_array()?.iter().find_map(|c| {
                let late = file(c, "/tmp/late")?;
                Some((n, c, late))
            })
        })
        .expect("the background child's /tmp/late below the inner shell");
    assert_eq!(inner["exit_code"], 0, "the inner shell exits 0");
    assert_eq!(child["exit_code"], 0, "the background child exits 0");
    assert_eq!(late["writes"], 1, "{late}");
    assert_eq!(late["host_path"], host("/tmp/late"));
    let (exit, wrote) = (
        inner["exit"].as_str().expect("inner shell exit time"),
        late["first_write"].as_str().expect("late write time"),
    );
    // RFC 3339 in UTC with microseconds: ordered as text.
    assert!(
        exit < wrote,
        "the child wrote ({wrote}) after its parent exited ({exit})"
    );
}

/// Stops the database in the middle of a run and starts it again: every event of the run
/// reaches it exactly once, in order, and matches the capture written at the same time.
#[test]
fn godo_keeps_events_while_the_database_is_down() {
    if !require(&[Need::Root, Need::Secantusd]) {
        return;
    }
    // The lock first: this test's own database server must not start (and write, audited)
    // while the other test's godo is recording.
    let lock = AuditLock::take();
    let bin = godo_binary();
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("capture.jsonl");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).expect("work dir");
    let Some(mut server) = SecantusServer::launch() else {
        return;
    };
    let addr = server.address();
    let mut godo = Godo::start(
        &bin,
        &[
            "--mongo",
            &addr,
            "--db",
            "fault",
            "--write",
            capture.to_str().expect("utf-8"),
        ],
    );
    godo.wait_for("start-up snapshot taken", Duration::from_secs(60));
    godo.wait_for("connected to MongoDB", Duration::from_secs(30));

    // A workload of forks, execs and file changes, for about 12 s.
    let script = format!(
        "for i in $(seq 1 60); do echo $i > {w}/f.$i; mv {w}/f.$i {w}/g.$i; rm {w}/g.$i; /bin/true; sleep 0.2; done",
        w = work.display()
    );
    let mut workload = Command::new("/bin/sh")
        .args(["-c", &script])
        .spawn()
        .expect("workload");
    std::thread::sleep(Duration::from_secs(3));
    // The database goes away as in an operator's restart (SIGINT: a clean shutdown). A SIGKILLed
    // SecantusDB can lose writes it had already acknowledged, which would test the server's
    // durability, not godo's.
    server.shut_down();
    std::thread::sleep(Duration::from_secs(5));
    server.start();
    let _ = workload.wait();
    std::thread::sleep(Duration::from_secs(3));
    let status = godo.terminate();
    drop(lock);
    assert!(status.success(), "godo exits 0: {status}");

    let (mut captured, errors) =
        dockwatch_shared::storage::capture::read_all(&capture).expect("read the capture");
    assert!(errors.is_empty(), "{errors:?}");
    captured.sort_by_key(|e| e.seq);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let stored: Vec<Event> = rt.block_on(async {
        let mut cfg = StoreConfig::host_port(&addr);
        cfg.raw_db = "fault".into();
        let store = Store::connect(&cfg).await.expect("connect");
        // Natural (insertion) order, no sort: shows the order the events went in.
        let mut cursor = store
            .events_collection()
            .find(bson::doc! {})
            .await
            .expect("find");
        let mut v = Vec::new();
        while let Some(d) = cursor.next().await {
            let mut d = d.expect("document");
            d.remove("_id");
            v.push(bson::deserialize_from_document::<Event>(d).expect("event"));
        }
        v
    });
    drop(server);

    assert!(
        captured.len() > 100,
        "a real workload was recorded ({} events)",
        captured.len()
    );
    let seqs: Vec<u64> = stored.iter().map(|e| e.seq).collect();
    let unique: HashSet<u64> = seqs.iter().copied().collect();
    assert_eq!(unique.len(), seqs.len(), "each event stored once");
    assert_eq!(
        stored.len(),
        captured.len(),
        "every event reached the database"
    );
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "stored in order");
    assert!(
        stored == captured,
        "the database holds exactly the captured events"
    );
    assert!(
        !stored.iter().any(|e| matches!(&e.kind, EventKind::Gap(g) if g.reason == dockwatch_shared::model::event::GapReason::BacklogFull)),
        "nothing dropped from the backlog"
    );
}
