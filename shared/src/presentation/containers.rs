//! What each container of an investigation did: like `docker diff`, with who and when.
//!
//! [`containers`] lists the containers of the recording with their life and counts;
//! [`changes`] lists the paths one container changed, each with its final state (created,
//! modified, deleted, renamed, mode or owner changed), the processes that changed it, the first
//! and last time, and where the file is on the host.
//!
//! Runtime plumbing ([`is_plumbing`]: the shim, runc and its stages, dockerd's helpers such as
//! `libnetwork-setkey`) carries its container's id but is not the container's workload; its
//! processes and changes are left out unless asked for. So are the changes a workload process
//! made before its first exec when runc forked it: that was `runc init` preparing the container
//! (mounts, devices, `/proc` settings), not the workload.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::event::DockerRole;
use crate::model::investigation::{FileOp, FileRecord, Investigation, NodeId, ProcessNode};
use crate::model::mounts::FsKind;
use crate::model::text::ByteString;
use crate::model::time::Timestamp;

/// True for the runtime's own processes: the Docker daemon, containerd, a shim, runc (and its
/// `runc:[N:...]` stages and `runc init` before its exec), and dockerd's re-executed helpers
/// (`libnetwork-setkey`).
pub fn is_plumbing(p: &ProcessNode) -> bool {
    let role = matches!(
        p.role,
        Some(
            DockerRole::Dockerd
                | DockerRole::Containerd
                | DockerRole::ContainerdShim
                | DockerRole::Runc
        )
    );
    let named = |b: &ByteString, what: &[u8]| b.as_bytes().windows(what.len()).any(|w| w == what);
    let comm_runc = p
        .comm
        .as_ref()
        .is_some_and(|c| c.as_bytes().starts_with(b"runc"));
    let args_say = p.args.iter().take(3).any(|a| {
        named(a, b"libnetwork-setkey")
            || named(a, b"containerd-shim")
            || a.as_bytes().ends_with(b"/runc")
            || a.as_bytes() == b"runc"
    });
    p.star || role || comm_runc || args_say
}

/// One container of the recording.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContainerSummary {
    /// The container id (64 hex digits).
    pub id: String,
    /// Its name, from the Docker API.
    pub name: Option<String>,
    /// The image it was started from.
    pub image: Option<String>,
    /// When its first workload process started.
    pub start: Option<Timestamp>,
    /// When its last workload process exited (`None` while one still ran at the end).
    pub exit: Option<Timestamp>,
    /// The exit code of its first workload process (the container's own exit code).
    pub exit_code: Option<i32>,
    /// Its workload processes (plumbing left out).
    pub processes: usize,
    /// Paths its workload changed.
    pub changed_paths: usize,
}

/// What became of a path.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PathState {
    /// It was created.
    pub created: bool,
    /// It was written to or truncated.
    pub modified: bool,
    /// Its last change deleted it.
    pub deleted: bool,
    /// It was renamed to this (and nothing of that name came back).
    pub renamed_to: Option<ByteString>,
    /// It got its content by a rename from this path.
    pub renamed_from: Option<ByteString>,
    /// Its mode changed.
    pub mode_changed: bool,
    /// Its owner changed.
    pub owner_changed: bool,
}

impl PathState {
    /// A few words for a table: `created`, `modified`, `deleted`, `renamed → X`, ...
    pub fn describe(&self) -> String {
        let mut words: Vec<String> = Vec::new();
        if self.deleted {
            words.push(
                if self.created {
                    "created, deleted"
                } else {
                    "deleted"
                }
                .to_owned(),
            );
        } else if let Some(to) = &self.renamed_to {
            words.push(format!("renamed → {}", to.display_safe()));
        } else if self.created {
            words.push("created".to_owned());
        } else if self.modified {
            words.push("modified".to_owned());
        }
        if let Some(from) = &self.renamed_from {
            words.push(format!("renamed from {}", from.display_safe()));
        }
        if self.mode_changed {
            words.push("mode".to_owned());
        }
        if self.owner_changed {
            words.push("owner".to_owned());
        }
        if words.is_empty() {
            words.push("opened for writing".to_owned());
        }
        words.join(", ")
    }
}

/// One path a container changed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathChange {
    /// The path as the container's processes saw it.
    pub path: ByteString,
    /// Where it is on the host (through the container's mounts or its root filesystem), when
    /// it has a known name there.
    pub host_path: Option<ByteString>,
    /// Where it is in the storage driver's upper directory (the container's changed bytes),
    /// for a file of the container's root filesystem, when known.
    pub upper_path: Option<ByteString>,
    /// The kind of filesystem it is on (`rootfs`, `bind`, `volume`, `tmpfs`, `proc`, ...),
    /// when known.
    pub fs: Option<FsKind>,
    /// What became of it.
    pub state: PathState,
    /// The processes that changed it, in the order of their first change.
    pub writers: Vec<NodeId>,
    /// Its first change.
    pub first: Option<Timestamp>,
    /// Its last change.
    pub last: Option<Timestamp>,
}

/// True for a file record a workload process made while it was still the runtime: before its
/// first exec, forked from runc (`runc init` setting up mounts, devices and `/proc`).
pub fn by_the_runtime(inv: &Investigation, f: usize) -> bool {
    let r = &inv.files[f];
    let p = &inv.processes[r.node];
    r.exec.is_none()
        && !p.execs.is_empty()
        && p.parent.is_some_and(|q| is_plumbing(&inv.processes[q]))
}

/// Whether a process belongs to container `id` (and is its workload unless `plumbing`).
fn of_container(p: &ProcessNode, id: &str, plumbing: bool) -> bool {
    p.container_id.as_deref() == Some(id) && (plumbing || !is_plumbing(p))
}

/// Every container of the investigation, by start time.
pub fn containers(inv: &Investigation) -> Vec<ContainerSummary> {
    containers_with_changes(inv)
        .into_iter()
        .map(|(c, _)| c)
        .collect()
}

/// Every container of the investigation, by start time, with the paths its workload changed
/// (one pass over the processes, for reports of many containers).
pub fn containers_with_changes(inv: &Investigation) -> Vec<(ContainerSummary, Vec<PathChange>)> {
    let mut by_id: BTreeMap<&str, Vec<&ProcessNode>> = BTreeMap::new();
    for p in &inv.processes {
        if let Some(id) = p.container_id.as_deref() {
            by_id.entry(id).or_default().push(p);
        }
    }
    let mut out: Vec<(ContainerSummary, Vec<PathChange>)> = by_id
        .into_iter()
        .map(|(id, procs)| {
            let workload: Vec<&&ProcessNode> = procs.iter().filter(|p| !is_plumbing(p)).collect();
            let first = workload.iter().min_by_key(|p| p.start);
            let exit = if workload.iter().all(|p| p.exit.is_some()) {
                workload.iter().filter_map(|p| p.exit).max()
            } else {
                None
            };
            let named = procs.iter().find(|p| p.container_name.is_some());
            let changed = changes_among(inv, workload.iter().map(|p| p.id), false);
            let summary = ContainerSummary {
                id: id.to_owned(),
                name: named.and_then(|p| p.container_name.clone()),
                image: named.and_then(|p| p.image.clone()),
                start: first.and_then(|p| p.start),
                exit,
                exit_code: first.and_then(|p| p.exit_code),
                processes: workload.len(),
                changed_paths: changed.len(),
            };
            (summary, changed)
        })
        .collect();
    out.sort_by(|(a, _), (b, _)| (a.start, &a.id).cmp(&(b.start, &b.id)));
    out
}

/// Where a file is: its host path, upper-directory path and kind of filesystem.
struct Place<'a> {
    host: Option<&'a ByteString>,
    upper: Option<&'a ByteString>,
    fs: Option<FsKind>,
}

/// Where the new name of the renamed file of `r` is: as the pipeline mapped it, else (a record
/// made before it did) by swapping the old name for the new one at the end of the old host path
/// (which holds for a rootfs, not for a bind or volume whose destination is part of the path).
fn renamed_place(r: &FileRecord, to: &ByteString) -> (Option<ByteString>, Option<ByteString>) {
    if r.renamed_host_path.is_some() || r.renamed_upper_path.is_some() {
        return (r.renamed_host_path.clone(), r.renamed_upper_path.clone());
    }
    let swap = |h: &ByteString| {
        let (h, p) = (h.as_bytes(), r.path.as_bytes());
        h.ends_with(p).then(|| {
            let mut b = h[..h.len() - p.len()].to_vec();
            b.extend_from_slice(to.as_bytes());
            ByteString::from_bytes(b)
        })
    };
    let host = r
        .host_path
        .as_ref()
        .filter(|_| matches!(r.fs, None | Some(FsKind::Rootfs)))
        .and_then(swap);
    (host, r.upper_path.as_ref().and_then(swap))
}

/// The entry of `path`, made on its first change, with `node` among its writers and `time`
/// within its first and last.
fn touch<'a>(
    by_path: &'a mut BTreeMap<ByteString, PathChange>,
    order: &mut Vec<ByteString>,
    path: &ByteString,
    node: NodeId,
    place: Place<'_>,
    time: Option<Timestamp>,
) -> &'a mut PathChange {
    let change = by_path.entry(path.clone()).or_insert_with(|| {
        order.push(path.clone());
        PathChange {
            path: path.clone(),
            host_path: None,
            upper_path: None,
            fs: None,
            state: PathState::default(),
            writers: Vec::new(),
            first: None,
            last: None,
        }
    });
    if !change.writers.contains(&node) {
        change.writers.push(node);
    }
    if place.host.is_some() {
        change.host_path = place.host.cloned();
    }
    if place.upper.is_some() {
        change.upper_path = place.upper.cloned();
    }
    if place.fs.is_some() {
        change.fs = place.fs;
    }
    change.first = match (change.first, time) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    change.last = change.last.max(time);
    change
}

/// The paths container `id` changed, by first change; with `plumbing`, the runtime's changes
/// too.
pub fn changes(inv: &Investigation, id: &str, plumbing: bool) -> Vec<PathChange> {
    let procs = inv
        .processes
        .iter()
        .filter(|p| of_container(p, id, plumbing))
        .map(|p| p.id);
    changes_among(inv, procs, plumbing)
}

/// The paths the processes `procs` changed (see [`changes`]).
fn changes_among(
    inv: &Investigation,
    procs: impl Iterator<Item = NodeId>,
    plumbing: bool,
) -> Vec<PathChange> {
    let mut records: Vec<usize> = procs
        .flat_map(|n| inv.processes[n].files.iter().copied())
        .filter(|&f| plumbing || !by_the_runtime(inv, f))
        .collect();
    records.sort_by_key(|&f| (inv.files[f].first_time(), f));
    let mut order: Vec<ByteString> = Vec::new();
    let mut by_path: BTreeMap<ByteString, PathChange> = BTreeMap::new();
    for f in records {
        let r = &inv.files[f];
        let (first, last) = (r.first_time(), r.last_time());
        let place = Place {
            host: r.host_path.as_ref(),
            upper: r.upper_path.as_ref(),
            fs: r.fs,
        };
        let change = touch(&mut by_path, &mut order, &r.path, r.node, place, first);
        change.last = change.last.max(last);
        for op in &r.ops {
            match op {
                FileOp::Create => {
                    change.state.created = true;
                    change.state.deleted = false;
                    change.state.renamed_to = None;
                }
                FileOp::Write | FileOp::Truncate => change.state.modified = true,
                FileOp::Unlink => change.state.deleted = true,
                FileOp::Chmod => change.state.mode_changed = true,
                FileOp::Chown => change.state.owner_changed = true,
                FileOp::Rename => change.state.renamed_to.clone_from(&r.renamed_to),
                FileOp::Open | FileOp::Close => {}
            }
        }
        if let (true, Some(to)) = (r.ops.contains(&FileOp::Rename), &r.renamed_to) {
            // The new name holds what the old one had, on the same filesystem (a rename never
            // leaves it).
            let (host, upper) = renamed_place(r, to);
            let place = Place {
                host: host.as_ref(),
                upper: upper.as_ref(),
                fs: r.fs,
            };
            let target = touch(&mut by_path, &mut order, to, r.node, place, last);
            target.state.renamed_from = Some(r.path.clone());
            target.state.deleted = false;
            target.state.renamed_to = None;
        }
    }
    order
        .into_iter()
        .filter_map(|p| by_path.remove(&p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::investigate;
    use crate::pipeline::testkit::*;

    fn scenario() -> Investigation {
        let root = "/var/lib/docker/overlay2/abc/merged";
        investigate(
            vec![
                snapshot(1, 100, 1, &["/usr/bin/dockerd"]),
                snapshot(2, 110, 100, &["/usr/bin/containerd"]),
                fork(10, 110, 110, 120),
                in_container(
                    exec(11, 120, &["/usr/bin/containerd-shim-runc-v2", "-id", CID]),
                    CID,
                ),
                // The shim writes its own state: plumbing.
                open(12, 120, 120, "/run/shim.log", 3),
                in_container(fork(20, 120, 120, 130), CID),
                pivot_root(21, 130, root),
                in_container(exec(22, 130, &["/bin/sh", "-c", "work"]), CID),
                open(23, 130, 130, "/tmp/a", 3),
                write(24, 130, 130, 3, 1),
                close(25, 130, 130, 3),
                rename(26, 130, "/tmp/a", "/tmp/b"),
                open(27, 130, 130, "/tmp/gone", 4),
                close(28, 130, 130, 4),
                unlink(29, 130, "/tmp/gone"),
                container(30, CID, "demo", "busybox"),
                exit(40, 130),
            ],
            HOST,
            BOOT,
            t(1_000),
            &mut |_| {},
        )
    }

    #[test]
    fn a_container_is_listed_with_its_workload_and_changes() {
        let inv = scenario();
        let list = containers(&inv);
        assert_eq!(list.len(), 1, "{list:?}");
        let c = &list[0];
        assert_eq!(c.id, CID);
        assert_eq!(c.name.as_deref(), Some("demo"));
        assert_eq!(c.processes, 1, "the shim is plumbing");
        assert_eq!(c.changed_paths, 3);
        assert_eq!(c.exit, Some(t(40)));
    }

    #[test]
    fn changes_say_what_became_of_each_path_and_who_did_it() {
        let inv = scenario();
        let list = changes(&inv, CID, false);
        let states: Vec<(String, String)> = list
            .iter()
            .map(|c| (c.path.to_str_lossy().into_owned(), c.state.describe()))
            .collect();
        assert_eq!(
            states,
            [
                ("/tmp/a".to_owned(), "renamed → /tmp/b".to_owned()),
                ("/tmp/b".to_owned(), "renamed from /tmp/a".to_owned()),
                ("/tmp/gone".to_owned(), "created, deleted".to_owned()),
            ]
        );
        let sh = inv.processes.iter().position(|p| p.pid == 130).unwrap();
        assert!(list.iter().all(|c| c.writers == [sh]));
        assert_eq!(
            list[1]
                .host_path
                .as_ref()
                .map(|h| h.to_str_lossy().into_owned()),
            Some("/var/lib/docker/overlay2/abc/merged/tmp/b".to_owned())
        );
        // The runtime's own writes appear only when asked for.
        let all = changes(&inv, CID, true);
        assert!(all.iter().any(|c| c.path.to_str_lossy() == "/run/shim.log"));
        assert!(
            !list
                .iter()
                .any(|c| c.path.to_str_lossy() == "/run/shim.log")
        );
    }
}
