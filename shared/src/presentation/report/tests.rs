//! Tests of the report and export formats.

use super::*;
use crate::model::event::{Event, EventKind};
use crate::model::investigation::{ProcessKey, Stats};
use crate::pipeline::investigate;
use crate::pipeline::testkit::*;

const ROOTFS: &str = "/var/lib/docker/overlay2/abc/merged";

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
        container(27, CID, "demo", "dockwatch-busybox:latest"),
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
            "host_path",
            "last",
            "path",
            "state",
            "summary",
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
            "star",
            "start",
            "tgid",
            "threads"
        ]
    );
    let sh = &root["children"][0]["children"][0]["children"][0];
    assert_eq!(sh["pid"], 130);
    let file = &sh["files"][0];
    assert_eq!(
        keys(file),
        [
            "closed",
            "exec",
            "fd",
            "first_write",
            "host_path",
            "last_write",
            "opened",
            "ops",
            "path",
            "pid",
            "renamed_to",
            "writes"
        ]
    );
    assert_eq!(file["host_path"], format!("{ROOTFS}/tmp/x"));
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
