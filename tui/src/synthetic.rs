//! Hand-built [`Investigation`]s for the TUI's tests and benchmarks (the `test-support`
//! feature). Nothing here was recorded: every process and file below is invented.

use dockwatch_shared::ByteString;
use dockwatch_shared::Timestamp;
use dockwatch_shared::model::event::DockerRole;
use dockwatch_shared::model::investigation::{
    FileId, FileOp, FileRecord, Investigation, NodeId, ProcessKey, ProcessNode,
};

/// Builds an [`Investigation`] node by node; `build` fills roots, children and counts.
#[derive(Debug)]
pub struct Builder {
    inv: Investigation,
}

impl Builder {
    /// An empty investigation of one host and boot.
    pub fn new(host: &str, boot_id: &str, generated_at: Timestamp) -> Self {
        Self {
            inv: Investigation {
                host: host.to_owned(),
                boot_id: boot_id.to_owned(),
                generated_at,
                ..Investigation::default()
            },
        }
    }

    /// Adds a process under `parent` (a root when `None`) started at `start`.
    pub fn process(
        &mut self,
        parent: Option<NodeId>,
        pid: i32,
        start: Timestamp,
        args: &[&[u8]],
    ) -> NodeId {
        let id = self.inv.processes.len();
        let args: Vec<ByteString> = args.iter().map(|a| ByteString::from_bytes(*a)).collect();
        let comm = args.first().map(|a| {
            let bytes = a.as_bytes();
            let base = bytes.rsplit(|&b| b == b'/').next().unwrap_or(bytes);
            ByteString::from_bytes(&base[..base.len().min(15)])
        });
        let ppid = parent.map(|p| self.inv.processes[p].pid);
        let inherited = parent.map(|p| {
            let parent = &self.inv.processes[p];
            (
                parent.container_id.clone(),
                parent.container_name.clone(),
                parent.image.clone(),
                parent.rootfs.clone(),
                parent.cwd.clone(),
            )
        });
        let (container_id, container_name, image, rootfs, cwd) = inherited.unwrap_or_default();
        self.inv.processes.push(ProcessNode {
            id,
            key: ProcessKey { tgid: pid, start },
            pid,
            tgid: pid,
            ppid,
            exe: args.first().cloned(),
            comm,
            args,
            cwd: cwd.or_else(|| Some(ByteString::from("/"))),
            rootfs: rootfs.or_else(|| Some(ByteString::from("/"))),
            container_id,
            container_name,
            image,
            start: Some(start),
            parent,
            ..ProcessNode::default()
        });
        id
    }

    /// The node, to set what `process` does not.
    pub fn node_mut(&mut self, id: NodeId) -> &mut ProcessNode {
        &mut self.inv.processes[id]
    }

    /// Puts the node (and later children, which inherit it) in a container.
    pub fn container(&mut self, id: NodeId, container_id: &str, name: &str, image: &str) {
        let node = &mut self.inv.processes[id];
        node.container_id = Some(container_id.to_owned());
        node.container_name = Some(name.to_owned());
        node.image = Some(image.to_owned());
        node.rootfs = Some(ByteString::from(format!(
            "/var/lib/docker/overlay2/{}/merged",
            &container_id[..container_id.len().min(12)]
        )));
    }

    /// Marks the node as exited at `at` with `code`.
    pub fn exit(&mut self, id: NodeId, at: Timestamp, code: i32) {
        let node = &mut self.inv.processes[id];
        node.exit = Some(at);
        node.exit_code = Some(code);
    }

    /// Records that the node wrote `writes` times to `path` from `opened` to `closed`.
    pub fn file(
        &mut self,
        node: NodeId,
        path: &[u8],
        ops: &[FileOp],
        opened: Timestamp,
        writes: u64,
        closed: Option<Timestamp>,
    ) -> FileId {
        let id = self.inv.files.len();
        let process = &self.inv.processes[node];
        let path = ByteString::from_bytes(path);
        let host_path = match (&process.rootfs, path.as_bytes().first()) {
            (Some(root), Some(b'/')) if root.as_bytes() != b"/" => {
                let mut p = root.as_bytes().to_vec();
                p.extend_from_slice(path.as_bytes());
                Some(ByteString::from_bytes(p))
            }
            _ => Some(path.clone()),
        };
        let last_write = (writes > 0).then(|| Timestamp(opened.as_micros() + 1_000));
        self.inv.files.push(FileRecord {
            path,
            host_path,
            node,
            pid: process.pid,
            fd: Some(3),
            ops: ops.to_vec(),
            opened: Some(opened),
            first_write: (writes > 0).then(|| Timestamp(opened.as_micros() + 500)),
            last_write,
            writes,
            closed,
            ..FileRecord::default()
        });
        self.inv.processes[node].files.push(id);
        id
    }

    /// The finished investigation: roots, children (by start time), threads' counts and stats.
    pub fn build(mut self) -> Investigation {
        let inv = &mut self.inv;
        for p in &mut inv.processes {
            p.children.clear();
        }
        inv.roots.clear();
        for i in 0..inv.processes.len() {
            match inv.processes[i].parent {
                Some(parent) => inv.processes[parent].children.push(i),
                None => inv.roots.push(i),
            }
        }
        let starts: Vec<Option<Timestamp>> = inv.processes.iter().map(|p| p.start).collect();
        for p in &mut inv.processes {
            p.children.sort_by_key(|&c| starts[c]);
        }
        inv.stats.processes = inv.processes.len() as u64;
        inv.stats.tree_processes = inv.processes.len() as u64;
        inv.stats.files = inv.files.len() as u64;
        self.inv
    }
}

/// 2026-11-28T10:00:00Z plus `secs` seconds.
pub fn t(secs: f64) -> Timestamp {
    Timestamp::from_micros(1_795_860_000_000_000 + (secs * 1_000_000.0) as i64)
}

/// The synthetic demo scene: dockerd, containerd and two containers (a web server writing logs,
/// a job with a shell pipeline, a rename, a deletion, an orphan and a failing command).
pub fn demo() -> Investigation {
    use FileOp::*;
    let mut b = Builder::new("synthetic-host", "00000000-synthetic-demo", t(600.0));
    let dockerd = b.process(
        None,
        812,
        t(0.0),
        &[
            b"/usr/bin/dockerd",
            b"-H",
            b"fd://",
            b"--containerd=/run/containerd/containerd.sock",
        ],
    );
    b.node_mut(dockerd).star = true;
    b.node_mut(dockerd).role = Some(DockerRole::Dockerd);
    b.node_mut(dockerd).threads = vec![813, 814, 815, 820];
    b.file(
        dockerd,
        b"/var/lib/docker/containers/4f1c/config.v2.json",
        &[Open, Write, Close],
        t(12.0),
        2,
        Some(t(12.1)),
    );
    let containerd = b.process(
        Some(dockerd),
        830,
        t(0.5),
        &[
            b"containerd",
            b"--config",
            b"/var/run/docker/containerd/containerd.toml",
        ],
    );
    b.node_mut(containerd).role = Some(DockerRole::Containerd);
    // Container 1: a web server.
    let shim1 = b.process(
        Some(containerd),
        1201,
        t(10.0),
        &[
            b"/usr/bin/containerd-shim-runc-v2",
            b"-namespace",
            b"moby",
            b"-id",
            b"4f1c2a9e8b7d",
        ],
    );
    b.node_mut(shim1).role = Some(DockerRole::ContainerdShim);
    let web = b.process(
        Some(shim1),
        1220,
        t(10.2),
        &[b"/bin/httpd", b"-f", b"-p", b"8080", b"-h", b"/www"],
    );
    b.container(
        web,
        "4f1c2a9e8b7d6c5b4a3928170605f4e3d2c1b0a99887766554433221100ffee",
        "web",
        "dockwatch-busybox:latest",
    );
    b.node_mut(web).cwd = Some(ByteString::from("/www"));
    b.file(
        web,
        b"/var/log/httpd.log",
        &[Open, Create, Write],
        t(10.3),
        42,
        None,
    );
    b.file(
        web,
        b"/www/index.html",
        &[Open, Create, Write, Close],
        t(10.25),
        1,
        Some(t(10.26)),
    );
    let cgi = b.process(
        Some(web),
        1301,
        t(95.0),
        &[b"/bin/sh", b"-c", b"echo hit >> /tmp/hits"],
    );
    b.file(
        cgi,
        b"/tmp/hits",
        &[Open, Write, Close],
        t(95.01),
        1,
        Some(t(95.02)),
    );
    b.exit(cgi, t(95.03), 0);
    // Container 2: a batch job.
    let shim2 = b.process(
        Some(containerd),
        1402,
        t(120.0),
        &[
            b"/usr/bin/containerd-shim-runc-v2",
            b"-namespace",
            b"moby",
            b"-id",
            b"9a8b7c6d5e4f",
        ],
    );
    b.node_mut(shim2).role = Some(DockerRole::ContainerdShim);
    let job = b.process(Some(shim2), 1420, t(120.3), &[b"/bin/sh", b"-c", b"cat /etc/passwd | grep root > /out/root.txt; mv /out/root.txt /out/report.txt; rm /tmp/scratch; sleep 300 & false"]);
    b.container(
        job,
        "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b",
        "batch-job",
        "dockwatch-busybox:latest",
    );
    b.node_mut(job).cwd = Some(ByteString::from("/work"));
    b.exit(job, t(121.0), 1);
    let cat = b.process(Some(job), 1421, t(120.4), &[b"cat", b"/etc/passwd"]);
    b.exit(cat, t(120.5), 0);
    let grep = b.process(Some(job), 1422, t(120.4), &[b"grep", b"root"]);
    b.file(
        grep,
        b"/out/root.txt",
        &[Open, Create, Write, Close],
        t(120.45),
        1,
        Some(t(120.5)),
    );
    b.exit(grep, t(120.5), 0);
    let mv = b.process(
        Some(job),
        1423,
        t(120.6),
        &[b"mv", b"/out/root.txt", b"/out/report.txt"],
    );
    let rename = b.file(
        mv,
        b"/out/root.txt",
        &[Rename],
        t(120.61),
        0,
        Some(t(120.61)),
    );
    b.inv.files[rename].renamed_to = Some(ByteString::from("/out/report.txt"));
    b.exit(mv, t(120.62), 0);
    let rm = b.process(Some(job), 1424, t(120.7), &[b"rm", b"/tmp/scratch"]);
    b.file(
        rm,
        b"/tmp/scratch",
        &[Unlink],
        t(120.71),
        0,
        Some(t(120.71)),
    );
    b.exit(rm, t(120.72), 0);
    let sleeper = b.process(Some(job), 1425, t(120.8), &[b"sleep", b"300"]);
    b.exit(sleeper, t(420.8), 0);
    let fail = b.process(Some(job), 1426, t(120.9), &[b"false"]);
    b.exit(fail, t(120.95), 1);
    b.build()
}

/// A capture of hostile names: escape sequences, newlines, a 10 KB argument, invalid UTF-8.
pub fn hostile() -> Investigation {
    let mut b = Builder::new("host\x1b[31mred", "boot\nid", t(60.0));
    let dockerd = b.process(None, 1, t(0.0), &[b"/usr/bin/dockerd"]);
    b.node_mut(dockerd).star = true;
    let mut long = b"A".repeat(10 * 1024);
    long.extend_from_slice(b"\x1b]0;owned\x07");
    let evil = b.process(
        Some(dockerd),
        66,
        t(1.0),
        &[
            b"\x1b[2J\x1b[Hevil\rcomm",
            b"line1\nline2",
            &long,
            b"bad\xff\xfeutf8",
            b"\x9b31mC1",
        ],
    );
    b.container(
        evil,
        "c0ffee\x1b[5m0000000000000000000000000000000000000000000000000000000",
        "name\x1b[8mhidden",
        "img\u{202e}gnp.exe",
    );
    b.node_mut(evil).cwd = Some(ByteString::from_bytes(b"/tmp/\x1b[1A\x1b[2Kdir".to_vec()));
    b.file(
        evil,
        b"/tmp/\x1b[31mred\nfile\xff",
        &[FileOp::Open, FileOp::Write],
        t(1.5),
        3,
        Some(t(2.0)),
    );
    b.build()
}

/// A fork chain `depth` deep in one container (each process forks the next, as a container can
/// do to blind an investigator): dockerd, containerd, a shim, the container's shell, then the
/// chain. The deepest process is pid `10_000 + depth - 1` and wrote one file.
pub fn chain(depth: usize) -> Investigation {
    let mut b = Builder::new("chain-host", "chain-boot", t(3600.0));
    let dockerd = b.process(None, 100, t(0.0), &[b"/usr/bin/dockerd"]);
    b.node_mut(dockerd).star = true;
    let containerd = b.process(Some(dockerd), 101, t(0.1), &[b"containerd"]);
    b.node_mut(containerd).role = Some(DockerRole::Containerd);
    let shim = b.process(Some(containerd), 102, t(0.2), &[b"containerd-shim-runc-v2"]);
    b.node_mut(shim).role = Some(DockerRole::ContainerdShim);
    let mut parent = b.process(Some(shim), 103, t(0.3), &[b"/bin/sh", b"-c", b"fork"]);
    b.container(parent, &"c".repeat(64), "chain", "img");
    for i in 0..depth {
        let pid = 10_000 + i as i32;
        parent = b.process(Some(parent), pid, t(1.0 + i as f64 * 0.001), &[b"sh"]);
    }
    b.file(
        parent,
        b"/tmp/deepest",
        &[FileOp::Open, FileOp::Write],
        t(2000.0),
        3,
        Some(t(2000.5)),
    );
    b.build()
}

/// A large tree: `containers` shims under containerd, each with `per_container` processes, and
/// `files` file records spread over them (the benchmark's 100,000 / 1,000,000 case).
pub fn large(containers: usize, per_container: usize, files: usize) -> Investigation {
    let mut b = Builder::new("large-host", "large-boot", t(3600.0));
    let dockerd = b.process(None, 100, t(0.0), &[b"/usr/bin/dockerd"]);
    b.node_mut(dockerd).star = true;
    let containerd = b.process(Some(dockerd), 101, t(0.1), &[b"containerd"]);
    b.node_mut(containerd).role = Some(DockerRole::Containerd);
    let mut pid = 1000;
    let mut leaves = Vec::new();
    for c in 0..containers {
        pid += 1;
        let shim = b.process(
            Some(containerd),
            pid,
            t(c as f64),
            &[b"containerd-shim-runc-v2"],
        );
        b.node_mut(shim).role = Some(DockerRole::ContainerdShim);
        pid += 1;
        let main = b.process(
            Some(shim),
            pid,
            t(c as f64 + 0.1),
            &[b"/bin/sh", b"-c", b"work"],
        );
        b.container(main, &format!("{c:064x}"), &format!("c{c}"), "img");
        for i in 0..per_container.saturating_sub(2) {
            pid += 1;
            let arg = format!("{i}");
            let p = b.process(
                Some(main),
                pid,
                t(c as f64 + 0.2 + i as f64 * 0.001),
                &[b"worker", arg.as_bytes()],
            );
            leaves.push(p);
        }
    }
    if !leaves.is_empty() {
        for f in 0..files {
            let node = leaves[f % leaves.len()];
            let path = format!("/data/{}/file-{f}.log", f % 97);
            b.file(
                node,
                path.as_bytes(),
                &[FileOp::Open, FileOp::Write, FileOp::Close],
                t(f as f64 * 0.003),
                1 + (f % 7) as u64,
                Some(t(f as f64 * 0.003 + 0.01)),
            );
        }
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_tree_hangs_from_dockerd() {
        let inv = demo();
        assert_eq!(inv.roots, vec![0]);
        assert!(inv.processes[0].star);
        for p in &inv.processes {
            for &c in &p.children {
                assert_eq!(inv.processes[c].parent, Some(p.id));
            }
        }
        assert!(inv.files.iter().any(|f| f.renamed_to.is_some()));
    }

    #[test]
    fn large_has_the_requested_size() {
        let inv = large(10, 100, 5000);
        assert_eq!(inv.processes.len(), 2 + 10 * 100);
        assert_eq!(inv.files.len(), 5000);
    }
}
