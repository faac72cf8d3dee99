//! End-to-end: where a container's files really are. `godo` records (into a capture file) while
//! a container with a named volume and a bind mount writes to both, to its root filesystem, to
//! `/dev/null` and to `/proc`; the report the pipeline makes of the capture must give each file
//! its true host path (the volume's mountpoint, the bind's source, the overlay's merged
//! directory), the overlay's upper directory for the root filesystem's file, and no path under
//! the merged directory for `/dev`, `/proc` and `/sys`, which carry their pseudo filesystem's
//! mark.
//!
//! Needs root and a running dockerd with the image `dockwatch-busybox:latest`; outside CI it
//! skips (saying why) when one is missing, under CI it fails. Holds the team's audit lock while
//! godo runs, like the other live tests.

use std::process::Command;
use std::time::Duration;

use dockwatch_shared::Timestamp;
use dockwatch_shared::testing::{AuditLock, Need, require};
use serde_json::Value;

use dockwatch_e2e::godo::{Godo, IMAGE, files_of, godo_binary, host_identity, keep, report_nodes};

/// The container's shell: a file on the volume, one on the bind, one in its root filesystem,
/// writes to `/dev/null` and to `/proc`.
const SCRIPT: &str = "echo a > /vol/a.txt; echo b > /bind/b.txt; echo c > /tmp/c.txt; \
     echo x > /dev/null; cat /proc/self/status > /dev/null; echo dwmounts > /proc/self/comm; \
     sleep 1";

/// Removes the container and the volume when the test ends, passed or not.
struct Cleanup {
    container: String,
    volume: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", &self.container])
            .output();
        let _ = Command::new("docker")
            .args(["volume", "rm", "-f", &self.volume])
            .output();
    }
}

/// What `docker ARGS` prints, trimmed; panics with its stderr when it fails.
fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker CLI");
    assert!(
        out.status.success(),
        "docker {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn godo_maps_files_through_volumes_binds_and_pseudo_filesystems() {
    if !require(&[Need::Root, Need::Docker]) {
        return;
    }
    let bin = godo_binary();
    let tag = format!(
        "{}-{}",
        std::process::id(),
        Timestamp::now().as_micros() % 1_000_000
    );
    let cleanup = Cleanup {
        container: format!("dwmounts-{tag}"),
        volume: format!("dwmounts-{tag}"),
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let capture = dir.path().join("capture.jsonl");
    let bind = tempfile::Builder::new()
        .prefix("dwmounts-bind-")
        .tempdir_in("/tmp")
        .expect("bind dir");
    let bind_dir = bind.path().to_str().expect("utf-8 path").to_owned();
    docker(&["volume", "create", &cleanup.volume]);
    let mountpoint = docker(&[
        "volume",
        "inspect",
        "-f",
        "{{.Mountpoint}}",
        &cleanup.volume,
    ]);

    let lock = AuditLock::take();
    let mut godo = Godo::start(&bin, &["--write", capture.to_str().expect("utf-8 path")]);
    godo.wait_for("start-up snapshot taken", Duration::from_secs(60));
    let vol = format!("{}:/vol", cleanup.volume);
    let bind_arg = format!("{bind_dir}:/bind");
    let run = Command::new("docker")
        .args(["run", "--name", &cleanup.container, "--network", "none"])
        .args(["-v", &vol, "-v", &bind_arg, IMAGE, "/bin/sh", "-c", SCRIPT])
        .status()
        .expect("docker run");
    let inspect = docker(&[
        "inspect",
        "-f",
        "{{.Id}} {{.GraphDriver.Data.MergedDir}} {{.GraphDriver.Data.UpperDir}}",
        &cleanup.container,
    ]);
    // Let coalesced writes (2 s) and unfinished audit events (2 s) flush.
    std::thread::sleep(Duration::from_secs(4));
    let status = godo.terminate();
    drop(lock);
    assert!(status.success(), "godo exits 0 on SIGTERM: {status}");
    assert_eq!(run.code(), Some(0), "the container's shell exits 0");
    let parts: Vec<&str> = inspect.split(' ').collect();
    let [cid, merged, upper] = parts[..] else {
        panic!("docker inspect gave {inspect:?}");
    };
    assert!(
        merged.ends_with("/merged") && upper.ends_with("/diff"),
        "an overlay2 container: {inspect}"
    );
    // The files are really there on the host.
    assert_eq!(
        std::fs::read_to_string(format!("{bind_dir}/b.txt"))
            .ok()
            .as_deref(),
        Some("b\n")
    );

    keep(
        &format!("{}.capture.jsonl", cleanup.container),
        &std::fs::read(&capture).unwrap_or_default(),
    );
    let (host, boot) = host_identity();
    let loaded = dockwatch_shared::load::from_capture(
        &capture,
        Some(&host),
        Some(&boot),
        Timestamp::now(),
        &mut |_| {},
    )
    .expect("the pipeline runs on the capture");
    let doc = dockwatch_shared::presentation::report::export_json(&loaded.investigation, None);
    keep(
        &format!("{}.report.json", cleanup.container),
        doc.to_string().as_bytes(),
    );
    check_report(&doc, cid, &mountpoint, &bind_dir, merged, upper);
    drop(cleanup);
}

/// The container's files in the report against where they really are.
fn check_report(doc: &Value, cid: &str, mountpoint: &str, bind: &str, merged: &str, upper: &str) {
    let files: Vec<&Value> = report_nodes(doc)
        .into_iter()
        .filter(|(n, _)| n["container_id"] == cid)
        .flat_map(|(n, _)| files_of(n))
        .collect();
    let file = |p: &str| {
        files
            .iter()
            .find(|f| f["path"] == p)
            .copied()
            .unwrap_or_else(|| panic!("a record of {p} among {files:#?}"))
    };
    let a = file("/vol/a.txt");
    assert_eq!(a["host_path"], format!("{mountpoint}/a.txt"), "{a}");
    assert_eq!(a["fs"], "volume", "{a}");
    assert_eq!(a["upper_path"], Value::Null, "{a}");
    let b = file("/bind/b.txt");
    assert_eq!(b["host_path"], format!("{bind}/b.txt"), "{b}");
    assert_eq!(b["fs"], "bind", "{b}");
    let c = file("/tmp/c.txt");
    assert_eq!(c["host_path"], format!("{merged}/tmp/c.txt"), "{c}");
    assert_eq!(c["upper_path"], format!("{upper}/tmp/c.txt"), "{c}");
    assert_eq!(c["fs"], "rootfs", "{c}");

    // `/dev`, `/proc` and `/sys`: never a name under the merged directory, always marked.
    let pseudo: Vec<&&Value> = files
        .iter()
        .filter(|f| {
            f["path"].as_str().is_some_and(|p| {
                ["/dev/", "/proc/", "/sys/"]
                    .iter()
                    .any(|d| p.starts_with(d))
            })
        })
        .collect();
    for f in &pseudo {
        let host = f["host_path"].as_str().unwrap_or("");
        assert!(
            !host.contains("merged/"),
            "a pseudo file under the merged directory: {f}"
        );
        assert!(
            ["dev", "proc", "sysfs"].contains(&f["fs"].as_str().unwrap_or("")),
            "a pseudo file without its mark: {f}"
        );
    }
    let null = file("/dev/null");
    assert_eq!(null["fs"], "dev", "{null}");
    assert!(
        pseudo.iter().any(|f| f["fs"] == "proc"),
        "a write under /proc: {pseudo:#?}"
    );
    // The same in the container's changes.
    let container = doc["containers"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["id"] == cid))
        .expect("the container in the report");
    let changes = container["changes"].as_array().expect("changes");
    let change = |p: &str| {
        changes
            .iter()
            .find(|c| c["path"] == p)
            .unwrap_or_else(|| panic!("a change of {p}: {container}"))
    };
    assert_eq!(change("/vol/a.txt")["host_path"], a["host_path"]);
    assert_eq!(change("/bind/b.txt")["host_path"], b["host_path"]);
    assert_eq!(change("/tmp/c.txt")["upper_path"], c["upper_path"]);
    assert_eq!(change("/dev/null")["host_path"], Value::Null);
}
