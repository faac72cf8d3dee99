//! Synthetic event logs shaped like what `godo` records on a busy Docker host, for the
//! pipeline's benchmark and for tests of the tools built on it (the `test-support` feature:
//! not in product builds).
//!
//! The log starts with a start-up snapshot (init, dockerd with open fds, containerd under it,
//! cron outside Docker), then runs containers one after another the way Docker starts them:
//! containerd runs `containerd-shim-runc-v2 start`, which forks the long-lived shim (with
//! threads) and exits; the shim runs runc, whose `runc init` child does pivot_root into the
//! container's overlay rootfs and execs `/bin/sh -c ...`; the shell forks busybox children that
//! open a file, `dup2` it onto stdout, close the original fd and write through fd 1; one renames
//! its output, one unlinks a file, one chmods it; the shell keeps a log open until it exits.
//! Every container also gets a `docker exec` process (no pivot_root) and its Docker metadata,
//! and a cron job outside Docker writes a file of its own. Pids are allocated like the kernel
//! does with `pid_max = 32768`, so they wrap around and are reused within the boot.
//!
//! [`Shape`] sets how much each container does and how much of godo's detail each event
//! carries: [`Shape::DEFAULT`] (what [`Synthetic::new`] and [`events`] give) is small containers
//! with the fields the pipeline reads, [`Shape::CAPTURE`] is a capture file's worth of a busy
//! host (about 500 containers and 51,000 processes per million events, with the audit context
//! godo writes), for the benchmark of the report from a capture file.

pub mod kind;
pub mod measure;

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use crate::model::event::{
    ArgsSource, AuditOrigin, ContainerIdSource, DockerRole, Event, EventKind, FdFrom, Name, OpenFd,
    Pid, ProcessInfo, Source, SyscallInfo,
};
use crate::model::investigation::Investigation;
use crate::model::text::ByteString;
use crate::model::time::Timestamp;
use crate::storage::capture::{CaptureError, CaptureWriter};

/// Host name of the synthetic log.
pub const HOST: &str = "synthetic-host";
/// Boot id of the synthetic log.
pub const BOOT_ID: &str = "00000000-0000-4000-8000-000000000000";
/// pid of the synthetic dockerd.
pub const DOCKERD_PID: Pid = 400;
/// pid of the synthetic containerd (a child of dockerd).
pub const CONTAINERD_PID: Pid = 410;

const START: i64 = 1_764_329_347_000_000;
const PID_MAX: Pid = 32_768;
const FIRST_DYNAMIC_PID: Pid = 1_000;

/// How much each container does, and how much of what godo records each event carries.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Busybox children the container's shell forks, each writing a file through its stdout.
    pub children: u32,
    /// Files each child also opens, writes and closes itself.
    pub files_per_child: u32,
    /// Whether events carry what godo records beyond what the pipeline needs: audit events get
    /// their audit origin (serial, record types, the syscall's context with the task's comm and
    /// exe) and audit's millisecond time, execs their ppid, argc, argument source and uid, forks
    /// their descriptor placement. Without it, events carry the pipeline's fields only.
    pub recorder_detail: bool,
}

impl Shape {
    /// Five children writing one file each, no recorder detail: about 90 events and 11
    /// processes per container.
    pub const DEFAULT: Shape = Shape {
        children: 5,
        files_per_child: 0,
        recorder_detail: false,
    };

    /// A capture file of a busy host as godo writes it: 96 children writing five files each,
    /// with recorder detail. About 1,970 events and 102 processes per container, so a million
    /// events hold about 508 containers and 51,800 processes.
    pub const CAPTURE: Shape = Shape {
        children: 96,
        files_per_child: 4,
        recorder_detail: true,
    };
}

impl Default for Shape {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What the recorder knows of a live process, for the audit context of its events.
#[derive(Clone, Debug)]
struct Known {
    ppid: Pid,
    comm: ByteString,
    exe: ByteString,
}

/// An endless supply of events (take as many as needed).
#[derive(Debug)]
pub struct Synthetic {
    shape: Shape,
    queue: VecDeque<Event>,
    time: i64,
    seq: u64,
    next_pid: Pid,
    container: u64,
    /// With recorder detail: the next audit serial, and the live processes by tgid.
    serial: u64,
    known: FxHashMap<Pid, Known>,
}

impl Default for Synthetic {
    fn default() -> Self {
        Self::new()
    }
}

/// What the recorder would say of a process started with `args`: comm, exe, Docker role and
/// star taken from the program name, as godo does.
pub(crate) fn info(args: &[&str], cid: Option<&str>) -> ProcessInfo {
    let exe = args.first().copied().unwrap_or("");
    let base = exe.rsplit('/').next().unwrap_or(exe);
    let role = match base {
        "dockerd" => Some(DockerRole::Dockerd),
        "containerd" => Some(DockerRole::Containerd),
        b if b.starts_with("containerd-shim") => Some(DockerRole::ContainerdShim),
        "runc" => Some(DockerRole::Runc),
        _ => None,
    };
    ProcessInfo {
        comm: Some(base.chars().take(15).collect::<String>().into()),
        exe: Some(exe.into()),
        args: args.iter().map(|&a| ByteString::from(a)).collect(),
        container_id: cid.map(str::to_owned),
        star: base == "dockerd",
        role,
        ..ProcessInfo::default()
    }
}

impl Synthetic {
    /// A new log of [`Shape::DEFAULT`]; its first events are the start-up snapshot.
    pub fn new() -> Self {
        Self::with_shape(Shape::DEFAULT)
    }

    /// A new log of the given shape; its first events are the start-up snapshot.
    pub fn with_shape(shape: Shape) -> Self {
        let mut s = Self {
            shape,
            queue: VecDeque::new(),
            time: START,
            seq: 0,
            next_pid: FIRST_DYNAMIC_PID,
            container: 0,
            serial: 1_000,
            known: FxHashMap::default(),
        };
        s.snapshot(1, 0, &["/sbin/init"], vec![]);
        s.snapshot(300, 1, &["/usr/sbin/cron", "-f"], vec![]);
        s.snapshot(
            DOCKERD_PID,
            1,
            &["/usr/bin/dockerd", "-H", "fd://"],
            vec![
                OpenFd {
                    fd: 12,
                    target: "/var/lib/docker/engine.log".into(),
                    flags: Some(0o2_002_001),
                },
                OpenFd {
                    fd: 13,
                    target: "socket:[4242]".into(),
                    flags: Some(0o2),
                },
            ],
        );
        s.snapshot(
            CONTAINERD_PID,
            DOCKERD_PID,
            &[
                "/usr/bin/containerd",
                "--config",
                "/var/run/docker/containerd/containerd.toml",
            ],
            vec![],
        );
        s
    }

    fn push(&mut self, source: Source, mut kind: EventKind) {
        self.time += 37;
        let mut time = Timestamp(self.time);
        let mut audit = None;
        if self.shape.recorder_detail {
            self.detail(source, &mut kind);
            if source == Source::Audit {
                // Audit's clock has milliseconds: its events sort among the connector's by them.
                time = Timestamp(self.time / 1_000 * 1_000);
                audit = Some(self.audit_origin(&kind));
            }
        }
        let event = Event {
            host: HOST.to_owned(),
            boot_id: BOOT_ID.to_owned(),
            run: "5f3c2a1b0d9e8f70".to_owned(),
            seq: self.seq,
            time,
            source,
            audit,
            kind,
        };
        self.seq += 1;
        self.queue.push_back(event);
    }

    /// The recorder's detail for `kind`, and what it learns of the processes from it.
    fn detail(&mut self, source: Source, kind: &mut EventKind) {
        match kind {
            EventKind::Snapshot(s) => {
                let known = Known {
                    ppid: s.ppid,
                    comm: s.process.comm.clone().unwrap_or_default(),
                    exe: s.process.exe.clone().unwrap_or_default(),
                };
                self.known.insert(s.tgid, known);
            }
            EventKind::Fork(f) if f.child_pid == f.child_tgid => {
                f.fd_from = Some(FdFrom::CloneCall);
                f.clone_serial = Some(self.serial);
                self.serial += 1;
                let mut known = self.known.get(&f.parent_tgid).cloned().unwrap_or(Known {
                    ppid: 0,
                    comm: ByteString::default(),
                    exe: ByteString::default(),
                });
                known.ppid = f.parent_tgid;
                self.known.insert(f.child_tgid, known);
            }
            EventKind::Exec(e) if source == Source::Audit => {
                let known = self.known.entry(e.tgid).or_insert(Known {
                    ppid: 1,
                    comm: ByteString::default(),
                    exe: ByteString::default(),
                });
                known.comm = e.process.comm.clone().unwrap_or_default();
                known.exe = e.process.exe.clone().unwrap_or_default();
                e.ppid = Some(known.ppid);
                let p = &mut e.process;
                p.args_from = Some(ArgsSource::Execve);
                p.argc = Some(p.args.len() as u32);
                p.uid = Some(0);
                if p.container_id.is_some() {
                    p.container_id_from = Some(ContainerIdSource::Cgroup);
                }
            }
            EventKind::Exit(e) if e.pid == e.tgid => {
                self.known.remove(&e.tgid);
            }
            _ => {}
        }
    }

    /// The audit origin godo gives an audit event: its serial, record types and syscall
    /// context, with the name and executable of the process as they are at that moment.
    fn audit_origin(&mut self, kind: &EventKind) -> AuditOrigin {
        let (syscall, nr, records, exit): (&'static str, u32, &[&'static str], i64) = match kind {
            EventKind::Exec(_) => (
                "execve",
                59,
                &["SYSCALL", "EXECVE", "CWD", "PATH", "PATH", "PROCTITLE"],
                0,
            ),
            EventKind::Open(o) => (
                "openat",
                257,
                &["SYSCALL", "CWD", "PATH", "PATH", "PROCTITLE"],
                o.fd.map_or(-2, i64::from),
            ),
            EventKind::Write(w) => (
                "write",
                1,
                &["SYSCALL", "PROCTITLE"],
                w.bytes.map_or(1, |b| (b / w.count.max(1)) as i64),
            ),
            EventKind::Close(_) => ("close", 3, &["SYSCALL", "PROCTITLE"], 0),
            EventKind::Dup(d) => ("dup2", 33, &["SYSCALL", "PROCTITLE"], i64::from(d.new_fd)),
            EventKind::Rename(_) => (
                "rename",
                82,
                &[
                    "SYSCALL",
                    "CWD",
                    "PATH",
                    "PATH",
                    "PATH",
                    "PATH",
                    "PROCTITLE",
                ],
                0,
            ),
            EventKind::Unlink(_) => (
                "unlink",
                87,
                &["SYSCALL", "CWD", "PATH", "PATH", "PROCTITLE"],
                0,
            ),
            EventKind::Chmod(_) => ("chmod", 90, &["SYSCALL", "CWD", "PATH", "PROCTITLE"], 0),
            EventKind::PivotRoot(_) => (
                "pivot_root",
                155,
                &["SYSCALL", "CWD", "PATH", "PATH", "PROCTITLE"],
                0,
            ),
            _ => ("syscall", 0, &["SYSCALL"], 0),
        };
        let serial = self.serial;
        self.serial += 1;
        let known = match kind {
            EventKind::Write(w) => self.known.get(&w.tgid),
            EventKind::Exec(e) => self.known.get(&e.tgid),
            EventKind::Open(o) => self.known.get(&o.tgid),
            EventKind::Close(c) => self.known.get(&c.tgid),
            EventKind::Dup(d) => self.known.get(&d.tgid),
            EventKind::Rename(r) => self.known.get(&r.tgid),
            EventKind::Unlink(u) => self.known.get(&u.tgid),
            EventKind::Chmod(c) => self.known.get(&c.tgid),
            EventKind::PivotRoot(p) => self.known.get(&p.tgid),
            _ => None,
        };
        AuditOrigin {
            serial,
            records: records.iter().map(|&r| Name::Borrowed(r)).collect(),
            syscall: Some(SyscallInfo {
                name: Name::Borrowed(syscall),
                nr,
                arch: Name::Borrowed("x86_64"),
                success: Some(true),
                exit: Some(exit),
                ppid: known.map(|k| k.ppid),
                uid: Some(0),
                auid: Some(u32::MAX),
                ses: Some(u32::MAX),
                comm: known.map(|k| k.comm.clone()),
                exe: known.map(|k| k.exe.clone()),
            }),
        }
    }

    fn pid(&mut self) -> Pid {
        let pid = self.next_pid;
        self.next_pid += 1;
        if self.next_pid >= PID_MAX {
            self.next_pid = FIRST_DYNAMIC_PID;
        }
        pid
    }

    fn snapshot(&mut self, pid: Pid, ppid: Pid, args: &[&str], fds: Vec<OpenFd>) {
        let mut process = info(args, None);
        process.start_time = Some(Timestamp(START - 3_600_000_000));
        process.cwd = Some("/".into());
        self.push(Source::Procfs, kind::snapshot(pid, ppid, process, fds));
    }

    fn fork(&mut self, parent: Pid, child: Pid, cid: Option<&str>) {
        let info = cid.map(|c| ProcessInfo {
            container_id: Some(c.to_owned()),
            ..ProcessInfo::default()
        });
        self.push(
            Source::Connector,
            kind::fork(parent, parent, child, child, info),
        );
    }

    fn thread(&mut self, reported_parent: Pid, tgid: Pid, tid: Pid) {
        let fork = kind::fork(reported_parent, reported_parent, tid, tgid, None);
        self.push(Source::Connector, fork);
    }

    fn exec(&mut self, pid: Pid, args: &[&str], cid: Option<&str>, cwd: &str) {
        let mut process = info(args, cid);
        process.cwd = Some(cwd.into());
        self.push(Source::Audit, kind::exec(pid, process));
    }

    fn exit(&mut self, pid: Pid, tgid: Pid) {
        self.push(Source::Connector, kind::exit(pid, tgid, Some(0)));
    }

    fn open(&mut self, pid: Pid, path: &str, cwd: Option<&str>, fd: i32) {
        self.push(Source::Audit, kind::open(pid, pid, path, cwd, fd));
    }

    fn write(&mut self, pid: Pid, tgid: Pid, fd: i32, count: u64) {
        let t = Timestamp(self.time + 37);
        let span = (t, Timestamp(t.0 + 5 * count as i64));
        let write = kind::write(pid, tgid, fd, count, span, Some(64 * count));
        self.push(Source::Audit, write);
    }

    fn close(&mut self, pid: Pid, fd: i32) {
        self.push(Source::Audit, kind::close(pid, pid, fd));
    }

    /// Queues the events of one more container's life (about 90 events).
    fn container(&mut self) {
        self.container += 1;
        let n = self.container;
        let cid = format!("{n:016x}{:048x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let cid = cid.as_str();
        let rootfs = format!("/var/lib/docker/overlay2/{:064x}/merged", n);

        // containerd: `shim start`, which forks the long-lived shim and exits.
        let start = self.pid();
        self.fork(CONTAINERD_PID, start, None);
        let shim_args = [
            "/usr/bin/containerd-shim-runc-v2",
            "-namespace",
            "moby",
            "-id",
            cid,
            "-address",
            "/run/containerd/containerd.sock",
        ];
        self.exec(start, &shim_args, None, "/");
        let shim = self.pid();
        self.fork(start, shim, None);
        self.exit(start, start);
        let mut shim_threads = Vec::new();
        for _ in 0..4 {
            let tid = self.pid();
            // The shim's parent has exited: the kernel reports init as the parent.
            self.thread(1, shim, tid);
            shim_threads.push(tid);
        }

        // runc create: runc init does pivot_root, then execs the entrypoint.
        let runc = self.pid();
        self.fork(shim, runc, None);
        let bundle = format!("/run/containerd/io.containerd.runtime.v2.task/moby/{cid}");
        self.exec(
            runc,
            &[
                "runc",
                "--root",
                "/var/run/docker/runtime-runc/moby",
                "create",
                "--bundle",
                &bundle,
                cid,
            ],
            None,
            &bundle,
        );
        let init = self.pid();
        self.fork(runc, init, Some(cid));
        self.push(
            Source::Audit,
            kind::pivot_root(init, &rootfs, Some(&rootfs)),
        );
        self.exit(runc, runc);
        let name = format!("job-{n}");
        let image = "dockwatch-busybox:latest";
        self.push(
            Source::Docker,
            kind::container(cid, &name, image, Some(init)),
        );
        let script = format!("cd /work && for i in 1 2 3 4 5; do echo $i > out-$i; done # {n}");
        self.exec(init, &["/bin/sh", "-c", &script], Some(cid), "/work");
        // The shell keeps a log open until it exits.
        self.open(init, "/var/log/job.log", None, 5);

        for i in 0..self.shape.children {
            let child = self.pid();
            self.fork(init, child, None);
            self.exec(child, &["echo", &i.to_string()], Some(cid), "/work");
            self.open(child, &format!("out-{i}"), Some("/work"), 3);
            self.push(Source::Audit, kind::dup(child, 3, 1));
            self.close(child, 3);
            self.write(child, child, 1, 1 + u64::from(i));
            for f in 0..self.shape.files_per_child {
                let path = format!("/work/data/{i}/part-{f}.log");
                self.open(child, &path, None, 4);
                self.write(child, child, 4, 1 + u64::from(f));
                self.close(child, 4);
            }
            self.exit(child, child);
            self.write(init, init, 5, 2);
        }
        let rename = kind::rename(init, "out-0", "result", Some("/work"));
        self.push(Source::Audit, rename);
        self.push(Source::Audit, kind::unlink(init, "/work/out-1"));
        self.push(Source::Audit, kind::chmod(init, "/work/result", 0o600));

        // `docker exec` into the container: no pivot_root, its rootfs comes from the repair.
        let exec_proc = self.pid();
        self.fork(shim, exec_proc, Some(cid));
        self.exec(exec_proc, &["/bin/cat", "/etc/hostname"], Some(cid), "/");
        self.open(exec_proc, "/tmp/exec.out", None, 4);
        self.write(exec_proc, exec_proc, 4, 1);
        self.exit(exec_proc, exec_proc);

        // A shim thread writes to the shim's log through an fd it opened.
        self.open(shim, "/run/containerd/shim.log", None, 8);
        self.write(shim_threads[0], shim, 8, 3);

        // Outside Docker: a cron job writes a file of its own.
        let job = self.pid();
        self.fork(300, job, None);
        self.exec(
            job,
            &["/usr/bin/logrotate", "/etc/logrotate.conf"],
            None,
            "/",
        );
        self.open(job, "/var/log/syslog.1", None, 3);
        self.write(job, job, 3, 4);
        self.close(job, 3);
        self.exit(job, job);

        self.exit(init, init);
        for tid in shim_threads {
            self.exit(tid, shim);
        }
        self.exit(shim, shim);
        // dockerd writes a line to its log through an fd it had before godo started.
        self.write(DOCKERD_PID, DOCKERD_PID, 12, 1);
    }
}

impl Iterator for Synthetic {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        if self.queue.is_empty() {
            self.container();
        }
        self.queue.pop_front()
    }
}

/// The first `n` events of a [`Synthetic`] log.
pub fn events(n: usize) -> impl Iterator<Item = Event> {
    Synthetic::new().take(n)
}

/// The first `n` events of a [`Synthetic`] log of [`Shape::CAPTURE`]: what godo would write to a
/// capture file on a busy host.
pub fn capture_events(n: usize) -> impl Iterator<Item = Event> {
    Synthetic::with_shape(Shape::CAPTURE).take(n)
}

/// Events per batch in [`write_capture`]: godo writes each batch as one zstd frame.
pub const CAPTURE_BATCH: usize = 4_096;

/// Writes `events` to `writer` in batches of `batch` events (one zstd frame each in a `.zst`
/// file), as godo does; returns how many were written. The caller finishes the writer.
pub fn write_capture(
    writer: &mut CaptureWriter,
    events: impl IntoIterator<Item = Event>,
    batch: usize,
) -> Result<u64, CaptureError> {
    let mut pending = Vec::with_capacity(batch.max(1));
    for event in events {
        pending.push(event);
        if pending.len() >= batch.max(1) {
            writer.write_batch(&pending)?;
            pending.clear();
        }
    }
    writer.write_batch(&pending)?;
    Ok(writer.written())
}

/// The pipeline on `events` of the synthetic host and boot, with no progress reports: what the
/// benchmark and the `pipeline_peak` example time.
pub fn investigate(events: impl IntoIterator<Item = Event>) -> Investigation {
    crate::pipeline::investigate(events, HOST, BOOT_ID, Timestamp(0), &mut |_| {})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::investigate;

    #[test]
    fn a_synthetic_log_gives_a_full_tree_with_reused_pids() {
        let inv = investigate(events(400_000), HOST, BOOT_ID, Timestamp(0), &mut |_| {});
        assert_eq!(inv.stats.events, 400_000);
        assert_eq!(inv.roots.len(), 1);
        let containerd = inv
            .processes
            .iter()
            .filter(|p| p.pid == CONTAINERD_PID)
            .count();
        assert_eq!(containerd, 1);
        // Pids wrapped at 32768: some pid has several processes in the tree.
        let mut pids: Vec<Pid> = inv.processes.iter().map(|p| p.pid).collect();
        pids.sort_unstable();
        let before = pids.len();
        pids.dedup();
        assert!(pids.len() < before, "pids were reused");
        // Every container process (including docker exec) has its rootfs, and files their host path.
        let in_container: Vec<_> = inv
            .processes
            .iter()
            .filter(|p| p.container_id.is_some())
            .collect();
        assert!(!in_container.is_empty());
        assert!(in_container.iter().all(|p| p.rootfs.is_some()));
        let echo_files = inv
            .files
            .iter()
            .filter(|f| f.path.as_bytes().starts_with(b"/work/out-"))
            .count();
        assert!(echo_files > 1000);
        assert!(
            inv.files
                .iter()
                .all(|f| !f.path.as_bytes().starts_with(b"/var/log/syslog"))
        );
        assert!(inv.stats.repairs.rootfs_propagated > 0);
        assert!(inv.stats.repairs.close_from_exit > 0);
    }
}
