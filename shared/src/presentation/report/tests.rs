//! Tests of the report and export formats.

use super::*;
use crate::model::event::{Event, EventKind};
use crate::model::investigation::{ProcessKey, Stats};
use crate::model::mounts::{Mount, MountKind};
use crate::pipeline::investigate;
use crate::pipeline::testkit::*;

const ROOTFS: &str = "/var/lib/docker/overlay2/abc/merged";
const UPPER: &str = "/var/lib/docker/overlay2/abc/diff";

/// Docker's metadata of the sample container, with its upper directory and `mounts`.
fn container_with(time: i64, mounts: Vec<Mount>) -> Event {
    let mut e = container(time, CID, "demo", "dockwatch-busybox:latest");
    if let EventKind::Container(c) = &mut e.kind {
        c.upper_dir = Some(UPPER.into());
        c.mounts = mounts;
    }
    e
}

fn sample() -> Investigation {
    let mut evil = in_container(
        exec(22, 130, &["/bin/sh", "-c", "echo hi > /tmp/x", "x"]),
        CID,
    );
    if let EventKind::Exec(e) = &mut evil.kind {
        // An escape sequence and invalid UTF-8 in attacker-chosen arguments.
        e.process.args[3] = ByteString::from_bytes(b"\x1b[2Jgone\xff".to_vec());
    }
    let events: Vec<Event> = vec![
        snapshot(2, 100, 1, &["/usr/bin/dockerd", "-H", "fd://"]),
        snapshot(3, 110, 100, &["/usr/bin/containerd"]),
        fork(10, 110, 110, 120),
        exec(11, 120, &["/usr/bin/containerd-shim-runc-v2", "-id", CID]),
        in_container(fork(20, 120, 120, 130), CID),
        pivot_root(21, 130, ROOTFS),
        evil,
        open(23, 130, 130, "/tmp/x", 3),
        write(24, 130, 130, 3, 2),
        close(25, 130, 130, 3),
        rename(26, 130, "/tmp/x", "/tmp/y"),
        container_with(27, Vec::new()),
        gap(28, 5, 9, 3),
        exit(30, 130),
    ];
    investigate(events, HOST, BOOT, t(1_000_000), &mut |_| {})
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

#[test]
fn json_has_exactly_the_documented_fields() {
    let doc = export_json(&sample(), None);
    assert_eq!(
        keys(&doc),
        [
            "boot_id",
            "containers",
            "gaps",
            "generated_at",
            "host",
            "roots",
            "stats"
        ]
    );
    let c = &doc["containers"][0];
    assert_eq!(
        keys(c),
        [
            "changes",
            "exit",
            "exit_code",
            "id",
            "image",
            "name",
            "processes",
            "start"
        ]
    );
    assert_eq!(
        keys(&c["changes"][0]),
        [
            "first",
            "fs",
            "host_path",
            "last",
            "path",
            "state",
            "summary",
            "upper_path",
            "writers"
        ]
    );
    let root = &doc["roots"][0];
    assert_eq!(
        keys(root),
        [
            "args",
            "children",
            "comm",
            "container_id",
            "container_name",
            "cwd",
            "exe",
            "execs",
            "exit",
            "exit_code",
            "files",
            "image",
            "inherited",
            "pid",
            "ppid",
            "rootfs",
            "runtime",
            "star",
            "start",
            "tgid",
            "threads"
        ]
    );
    assert_eq!(root["runtime"], true, "dockerd is the runtime");
    let sh = &root["children"][0]["children"][0]["children"][0];
    assert_eq!(sh["pid"], 130);
    assert_eq!(sh["runtime"], false, "the workload is not");
    let file = &sh["files"][0];
    assert_eq!(
        keys(file),
        [
            "by_runtime",
            "closed",
            "exec",
            "fd",
            "first_write",
            "fs",
            "host_path",
            "last_write",
            "opened",
            "ops",
            "path",
            "pid",
            "renamed_to",
            "upper_path",
            "writes"
        ]
    );
    assert_eq!(file["host_path"], format!("{ROOTFS}/tmp/x"));
    assert_eq!(file["upper_path"], format!("{UPPER}/tmp/x"));
    assert_eq!(file["fs"], "rootfs");
    assert_eq!(file["by_runtime"], false);
    assert_eq!(file["renamed_to"], "/tmp/y");
    assert_eq!(
        file["ops"],
        serde_json::json!(["open", "create", "write", "close", "rename"])
    );
    assert_eq!(
        keys(&doc["gaps"][0]),
        ["detail", "from", "lost", "reason", "to"]
    );
}

/// Files on a volume, a bind, a tmpfs and the pseudo filesystems: each with the host path,
/// upper path and kind of filesystem it really has, in the files and the container's changes
/// (a rename in a bind too).
#[test]
fn json_files_and_changes_say_where_each_file_is() {
    let mount = |kind, source: Option<&str>, dest: &str| Mount {
        kind,
        source: source.map(ByteString::from),
        destination: dest.into(),
    };
    let events: Vec<Event> = vec![
        snapshot(2, 100, 1, &["/usr/bin/dockerd", "-H", "fd://"]),
        in_container(fork(20, 100, 100, 130), CID),
        pivot_root(21, 130, ROOTFS),
        in_container(exec(22, 130, &["/bin/sh", "-c", "work"]), CID),
        container_with(
            23,
            vec![
                mount(
                    MountKind::Volume,
                    Some("/var/lib/docker/volumes/v/_data"),
                    "/vol",
                ),
                mount(MountKind::Bind, Some("/tmp/xyz"), "/bind"),
                mount(MountKind::Tmpfs, None, "/scratch"),
            ],
        ),
        open(30, 130, 130, "/vol/a.txt", 3),
        open(31, 130, 130, "/bind/b.txt", 4),
        rename(32, 130, "/bind/b.txt", "/bind/c.txt"),
        open(33, 130, 130, "/tmp/c.txt", 5),
        open(34, 130, 130, "/dev/null", 6),
        open(35, 130, 130, "/proc/self/comm", 7),
        open(36, 130, 130, "/scratch/s", 8),
        exit(40, 130),
    ];
    let inv = investigate(events, HOST, BOOT, t(1_000_000), &mut |_| {});
    let doc = export_json(&inv, None);
    let sh = &doc["roots"][0]["children"][0];
    let file = |p: &str| {
        sh["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == p)
            .unwrap_or_else(|| panic!("{p} in {sh}"))
            .clone()
    };
    let at = |f: Value| {
        (
            f["host_path"].clone(),
            f["upper_path"].clone(),
            f["fs"].clone(),
        )
    };
    let json = |v: Option<&str>| v.map_or(Value::Null, |s| Value::String(s.to_owned()));
    let want = |h: Option<&str>, u: Option<&str>, fs: &str| (json(h), json(u), json(Some(fs)));
    assert_eq!(
        at(file("/vol/a.txt")),
        want(
            Some("/var/lib/docker/volumes/v/_data/a.txt"),
            None,
            "volume"
        )
    );
    assert_eq!(
        at(file("/bind/b.txt")),
        want(Some("/tmp/xyz/b.txt"), None, "bind")
    );
    assert_eq!(
        at(file("/tmp/c.txt")),
        want(
            Some(&format!("{ROOTFS}/tmp/c.txt")),
            Some(&format!("{UPPER}/tmp/c.txt")),
            "rootfs"
        )
    );
    assert_eq!(at(file("/dev/null")), want(None, None, "dev"));
    assert_eq!(at(file("/proc/self/comm")), want(None, None, "proc"));
    assert_eq!(at(file("/scratch/s")), want(None, None, "tmpfs"));
    // The container's changes: the renamed file's new name through the same bind.
    let changes = doc["containers"][0]["changes"].as_array().unwrap();
    let change = |p: &str| changes.iter().find(|c| c["path"] == p).unwrap().clone();
    assert_eq!(
        at(change("/bind/c.txt")),
        want(Some("/tmp/xyz/c.txt"), None, "bind")
    );
    assert_eq!(
        at(change("/tmp/c.txt")),
        want(
            Some(&format!("{ROOTFS}/tmp/c.txt")),
            Some(&format!("{UPPER}/tmp/c.txt")),
            "rootfs"
        )
    );
    assert_eq!(at(change("/dev/null")), want(None, None, "dev"));
    // The text report names them too.
    let text = render_text(&inv);
    assert!(
        text.contains("/vol/a.txt  (host /var/lib/docker/volumes/v/_data/a.txt)  [volume]"),
        "{text}"
    );
    assert!(text.contains("/dev/null  [dev]"), "{text}");
}

#[test]
fn json_times_are_rfc3339_and_bytes_are_lossless() {
    let doc = export_json(&sample(), None);
    assert_eq!(doc["generated_at"], "2025-11-24T16:00:01.000000Z");
    let sh = &doc["roots"][0]["children"][0]["children"][0]["children"][0];
    assert_eq!(sh["start"], "2025-11-24T16:00:00.000020Z");
    assert_eq!(sh["exit_code"], 0);
    assert_eq!(sh["args"][3]["hex"], "1b5b324a676f6e65ff");
    let back: ByteString = serde_json::from_value(sh["args"][3].clone()).unwrap();
    assert_eq!(back.as_bytes(), b"\x1b[2Jgone\xff");
}

fn written(inv: &Investigation, pretty: bool) -> String {
    let mut out = Vec::new();
    write_json(&mut out, &ExportDoc::new(inv, None), pretty).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn json_snapshot() {
    insta::assert_snapshot!("report_json", written(&sample(), true));
}

#[test]
fn the_written_document_is_the_documented_one_compact_unless_pretty() {
    let inv = sample();
    let compact = written(&inv, false);
    assert!(
        !compact.contains('\n') && !compact.contains("  "),
        "{compact}"
    );
    let pretty = written(&inv, true);
    assert!(pretty.len() > compact.len() && pretty.contains("\n  "));
    for text in [compact, pretty] {
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, export_json(&inv, None));
    }
}

#[test]
fn json_escapes_c1_and_bidi_controls_and_reads_them_back() {
    let mut inv = sample();
    let hostile = "a\u{9b}31mb\u{202e}txt.exe\u{2066}c\u{85}\u{1b}d\u{7}";
    inv.host = hostile.to_owned();
    inv.processes[0].args[0] = ByteString::from_bytes(hostile.as_bytes().to_vec());
    for pretty in [false, true] {
        let text = written(&inv, pretty);
        for c in text.chars() {
            assert!(
                !needs_escape(c) && (c >= ' ' || c == '\n'),
                "raw {:?} in the JSON output",
                c
            );
        }
        assert!(
            text.contains("a\\u009b31mb\\u202etxt.exe\\u2066c\\u0085\\u001bd\\u0007"),
            "{text}"
        );
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["host"], hostile);
        assert_eq!(back["roots"][0]["args"][0], hostile);
    }
}

#[test]
fn a_subtree_export_has_that_node_as_its_only_root() {
    let inv = sample();
    let shim = inv.processes.iter().position(|p| p.pid == 120).unwrap();
    let doc = export_json(&inv, Some(shim));
    let roots = doc["roots"].as_array().unwrap();
    assert_eq!(roots.len(), 1);
    assert_eq!(roots[0]["pid"], 120);
    assert_eq!(roots[0]["children"][0]["pid"], 130);
    // The stats count the subtree: the shim and its shell, and the shell's one file.
    assert_eq!(doc["stats"]["tree_processes"], 2, "{}", doc["stats"]);
    assert_eq!(doc["stats"]["processes"], 2);
    assert_eq!(doc["stats"]["files"], 1);
    assert_eq!(doc["stats"]["events"], inv.stats.events, "the input's");
    assert_eq!(export_json(&inv, None)["stats"]["tree_processes"], 4);
    assert!(
        export_json(&inv, Some(999))
            .get("roots")
            .unwrap()
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn text_report_snapshot() {
    insta::assert_snapshot!("report_text", render_text(&sample()));
}

#[test]
fn text_report_escapes_attacker_chosen_strings() {
    let text = render_text(&sample());
    assert!(!text.contains('\x1b'), "{text}");
    assert!(text.contains("\\x1b[2Jgone\\xff"), "{text}");
    assert!(text.contains("'echo hi > /tmp/x'"), "{text}");
}

#[test]
fn text_report_without_docker_says_so() {
    let inv = investigate(
        vec![snapshot(1, 1, 0, &["/sbin/init"])],
        HOST,
        BOOT,
        t(0),
        &mut |_| {},
    );
    let text = render_text(&inv);
    assert!(text.contains("no dockerd"), "{text}");
    assert!(text.contains("Changed files:\n  (none)"), "{text}");
}

fn chain(depth: usize) -> Investigation {
    let processes = (0..depth)
        .map(|i| ProcessNode {
            id: i,
            key: ProcessKey {
                tgid: i as i32 + 2,
                start: t(i as i64),
            },
            pid: i as i32 + 2,
            tgid: i as i32 + 2,
            parent: i.checked_sub(1),
            children: if i + 1 < depth { vec![i + 1] } else { vec![] },
            ..ProcessNode::default()
        })
        .collect();
    Investigation {
        processes,
        roots: vec![0],
        stats: Stats::default(),
        ..Investigation::default()
    }
}

#[test]
fn a_deep_fork_chain_renders_without_recursion() {
    let inv = chain(3_000);
    let text = render_text(&inv);
    assert!(
        text.contains("[depth 3000] 3001"),
        "deep lines name their depth"
    );
    let doc = export_json(&inv, None);
    let roots = doc["roots"].as_array().unwrap();
    assert_eq!(roots.len(), 3_000usize.div_ceil(MAX_JSON_DEPTH));
    let mut count = 0;
    for root in roots {
        let mut node = root;
        count += 1;
        while let Some(child) = node["children"].get(0) {
            node = child;
            count += 1;
        }
    }
    assert_eq!(count, 3_000, "every process is in the document once");
    assert_eq!(roots[1]["pid"], MAX_JSON_DEPTH + 2);
    // A standard parser with its default nesting limit reads it back.
    let text = serde_json::to_string(&doc).unwrap();
    let _: Value = serde_json::from_str(&text).unwrap();
}
