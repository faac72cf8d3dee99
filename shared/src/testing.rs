//! Test support shared by the crates' tests and benches: sample events of every kind, awkward
//! byte strings, the test database's address, a private server for outage tests, the audit lock,
//! and the one rule for skipping a test whose real part is missing ([`require`]).
//!
//! Only with the `test-support` feature, which the workspace's tests, benches and examples turn
//! on through their dev-dependencies; product builds do not have it.

use crate::model::event::*;
use crate::model::mounts::{Mount, MountKind};
use crate::model::text::ByteString;
use crate::model::time::Timestamp;
use crate::storage::store::StoreConfig;

/// The machine-wide lock that tests hold while they are the audit daemon or change audit rules
/// (both are global to the kernel): `flock /tmp/dockwatch-audit.lock`, the same lock scripts
/// take with flock(1). Released when dropped.
#[derive(Debug)]
pub struct AuditLock(#[allow(dead_code)] std::fs::File);

impl AuditLock {
    /// The lock file's path.
    pub const PATH: &str = "/tmp/dockwatch-audit.lock";

    /// Waits for the lock and takes it.
    pub fn take() -> Self {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(Self::PATH)
            .unwrap_or_else(|e| panic!("opening the audit lock {}: {e}", Self::PATH));
        // `File::lock` would do, but it needs Rust 1.89 and the workspace supports 1.85.
        // SAFETY: flock on a descriptor this function owns.
        let rc = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&file), libc::LOCK_EX) };
        assert_eq!(
            rc,
            0,
            "locking {}: {}",
            Self::PATH,
            std::io::Error::last_os_error()
        );
        Self(file)
    }
}

/// A real part a test needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Running as root (audit netlink, the process connector, namespaces).
    Root,
    /// dockerd answering, with the test image `dockwatch-busybox:latest`.
    Docker,
    /// The tmux terminal multiplexer (the TUI's end-to-end tests).
    Tmux,
    /// The MongoDB-wire server named by [`MONGO_ENV`].
    Mongo,
    /// `python3` (stand-in servers).
    Python3,
    /// `secantusd-py`, named by [`SECANTUSD_ENV`], for tests that stop and start a server.
    Secantusd,
    /// A program on `PATH`, with the Debian package that has it.
    Program {
        /// The program's name.
        name: &'static str,
        /// The Debian package to install.
        package: &'static str,
    },
}

impl Need {
    /// Whether the part is here; else what is missing and how to get it.
    fn check(self) -> Result<(), String> {
        let runs = |program: &str, args: &[&str]| {
            std::process::Command::new(program)
                .args(args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        let here = match self {
            // SAFETY: geteuid has no preconditions.
            Need::Root => (unsafe { libc::geteuid() }) == 0,
            Need::Docker => runs("docker", &["image", "inspect", "dockwatch-busybox:latest"]),
            Need::Tmux => runs("tmux", &["-V"]),
            Need::Mongo => std::env::var(MONGO_ENV).is_ok_and(|a| !a.is_empty()),
            Need::Python3 => runs("python3", &["--version"]),
            Need::Secantusd => std::env::var_os(SECANTUSD_ENV).is_some_and(|p| !p.is_empty()),
            Need::Program { name, .. } => on_path(name),
        };
        if here {
            return Ok(());
        }
        Err(match self {
            Need::Program { name, package } => {
                return Err(format!("it needs {name} (apt-get install -y {package})"));
            }
            Need::Secantusd => {
                "DOCKWATCH_SECANTUSD is not set (the path of secantusd-py, from PyPI's secantusdb; .ci/run sets it)"
            }
            Need::Root => "it needs root (run the tests as root, as .ci/run does)",
            Need::Docker => {
                "it needs dockerd with the image dockwatch-busybox:latest (.ci/run starts dockerd and imports it)"
            }
            Need::Tmux => "it needs tmux (apt-get install -y tmux)",
            Need::Mongo => {
                "DOCKWATCH_TEST_MONGO is not set (start a MongoDB-wire server and set it to host:port; .ci/run does)"
            }
            Need::Python3 => "it needs python3 (apt-get install -y python3)",
        }
        .to_owned())
    }
}

/// Whether an executable `name` is in a directory of `PATH`.
fn on_path(name: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(name))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// Whether every part in `needs` is here, for a test that uses real parts. Outside CI a missing
/// part makes the test print why it skips and return `false`; under CI (`CI` set) it panics,
/// because CI must run every test. The one rule for skipping: every test that needs a real part
/// starts with `if !require(&[...]) { return; }`.
pub fn require(needs: &[Need]) -> bool {
    for &need in needs {
        if let Err(why) = need.check() {
            assert!(
                std::env::var_os("CI").is_none(),
                "under CI this test must run, but {why}"
            );
            eprintln!("skipping: {why}");
            return false;
        }
    }
    true
}

/// The environment variable that holds the `host:port` of the MongoDB-wire server tests use.
pub const MONGO_ENV: &str = "DOCKWATCH_TEST_MONGO";

/// The test database's `host:port`, or `None` (after printing why the test skips) when
/// [`MONGO_ENV`] is unset. Under CI (`CI` set) a missing database panics instead: CI must run
/// every test.
pub fn test_mongo() -> Option<String> {
    if !require(&[Need::Mongo]) {
        return None;
    }
    std::env::var(MONGO_ENV).ok()
}

/// A store configuration for the test database with database names unique to this process and
/// call (`<prefix>_<pid>_<nanos>_raw` / `..._cooked`), so tests never share data. Drop them
/// afterwards. `None` when the test should skip (see [`test_mongo`]).
pub fn test_store_config(prefix: &str) -> Option<StoreConfig> {
    let addr = test_mongo()?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let base = format!("{prefix}_{}_{nanos}", std::process::id());
    let mut config = StoreConfig::host_port(&addr);
    config.raw_db = format!("{base}_raw");
    config.cooked_db = format!("{base}_cooked");
    Some(config)
}

/// The environment variable that holds the path of `secantusd-py`, for tests that start and
/// stop a server of their own.
pub const SECANTUSD_ENV: &str = "DOCKWATCH_SECANTUSD";

/// A private SecantusDB server on a free local port, for tests that need to stop and restart the
/// database (an outage, a backlog flush). Its data lives in a temporary directory that survives
/// [`SecantusServer::stop`] / [`SecantusServer::start`] and is removed on drop; the process is
/// killed on drop.
#[derive(Debug)]
pub struct SecantusServer {
    bin: std::path::PathBuf,
    dir: std::path::PathBuf,
    port: u16,
    child: Option<std::process::Child>,
}

impl SecantusServer {
    /// Starts a server from [`SECANTUSD_ENV`] and waits until it accepts connections. `None`
    /// (after printing why) when the variable is unset outside CI; panics under CI or when the
    /// server does not come up (this is test support: a broken environment should fail loudly).
    pub fn launch() -> Option<Self> {
        if !require(&[Need::Secantusd]) {
            return None;
        }
        let bin = std::path::PathBuf::from(std::env::var_os(SECANTUSD_ENV)?);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free local port: {e}"));
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("dockwatch-secantus-{}-{nanos}", std::process::id()));
        let mut server = Self {
            bin,
            dir,
            port,
            child: None,
        };
        server.start();
        Some(server)
    }

    /// `127.0.0.1:PORT`, the same across restarts.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// (Re)starts the server on its port and data directory; waits up to 60 s until it accepts
    /// connections. Does nothing when it is running.
    pub fn start(&mut self) {
        if self.child.is_some() {
            return;
        }
        std::fs::create_dir_all(&self.dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", self.dir.display()));
        let log_path = self.dir.join("secantusd.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log_path.display()));
        let log2 = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot reopen {}: {e}", log_path.display()));
        let mut child = std::process::Command::new(&self.bin)
            .arg("--host")
            .arg("127.0.0.1")
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--storage-path")
            .arg(self.dir.join("data"))
            // Durable commits, as a journaled MongoDB: a killed server keeps what it acknowledged.
            .arg("--sync-on-commit")
            .stdin(std::process::Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.bin.display()));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let tail = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("secantusd-py exited during start-up ({status}); log:\n{tail}");
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                break;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                let tail = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("secantusd-py did not accept connections within 60 s; log:\n{tail}");
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        self.child = Some(child);
    }

    /// Stops the server (SIGKILL, like a crash); what it acknowledged stays for
    /// [`SecantusServer::start`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl SecantusServer {
    /// Stops the server as an operator's restart does (SIGINT: a clean shutdown) and waits for
    /// it to exit; its data stays for [`SecantusServer::start`].
    pub fn shut_down(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Ok(pid) = i32::try_from(child.id()) {
                // SAFETY: kill(2) with the pid of our own child and a valid signal.
                unsafe { libc::kill(pid, libc::SIGINT) };
            }
            let _ = child.wait();
        }
    }
}

impl Drop for SecantusServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Bytes that are not UTF-8 and contain a newline, a NUL and a terminal escape.
pub fn awkward_bytes() -> ByteString {
    ByteString::from_bytes(b"bad\xff\xfe utf8\n\0\x1b[31m tail\xc3".to_vec())
}

/// A 4 KiB argument (valid UTF-8, including multi-byte characters).
pub fn long_arg() -> ByteString {
    let mut s = String::with_capacity(4096);
    while s.len() < 4096 - 3 {
        s.push(if s.len() % 97 == 0 { 'é' } else { 'x' });
    }
    while s.len() < 4096 {
        s.push('y');
    }
    ByteString::from(s)
}

/// A full process description with every optional field set, awkward bytes included.
pub fn sample_process() -> ProcessInfo {
    ProcessInfo {
        comm: Some(ByteString::from("sh")),
        exe: Some(ByteString::from("/bin/busybox")),
        args: vec![
            ByteString::from("/bin/sh"),
            ByteString::from("-c"),
            ByteString::from("echo 'line one\nline two' > /tmp/x\0y"),
            awkward_bytes(),
            long_arg(),
        ],
        args_from: Some(ArgsSource::Execve),
        argc: Some(5),
        cwd: Some(ByteString::from("/root")),
        root: Some(ByteString::from(
            "/var/lib/docker/overlay2/0123456789abcdef/merged",
        )),
        container_id: Some("a".repeat(64)),
        container_id_from: Some(ContainerIdSource::Cgroup),
        ns_pids: vec![4242, 7],
        start_time: Some(Timestamp(1_764_329_347_000_001)),
        uid: Some(0),
        star: true,
        role: Some(DockerRole::Dockerd),
        missing: vec!["cgroup".to_owned()],
    }
}

fn header(seq: u64, source: Source, kind: EventKind) -> Event {
    Event {
        host: "host-a".to_owned(),
        boot_id: "5f0c9a7e-0d1b-4c39-9d55-8f4f0c0e1a2b".to_owned(),
        run: "00112233aabbccdd".to_owned(),
        seq,
        time: Timestamp(1_764_329_347_123_456 + seq as i64),
        source,
        audit: None,
        kind,
    }
}

fn audit_origin(syscall: &str, nr: u32) -> AuditOrigin {
    AuditOrigin {
        serial: 4242,
        records: vec![
            "SYSCALL".into(),
            "CWD".into(),
            "PATH".into(),
            "PROCTITLE".into(),
        ],
        syscall: Some(SyscallInfo {
            name: syscall.to_owned().into(),
            nr,
            arch: "x86_64".into(),
            success: Some(true),
            exit: Some(3),
            ppid: Some(1),
            uid: Some(0),
            auid: Some(4_294_967_295),
            ses: Some(4_294_967_295),
            comm: Some(awkward_bytes()),
            exe: Some(ByteString::from("/bin/busybox")),
        }),
    }
}

/// One sample event of every [`EventKind`], in the order the kinds are declared, with every
/// optional field set and awkward text (newlines, NUL, invalid UTF-8, 4 KiB arguments) where the
/// model has text. `seq` is the position in the list.
pub fn samples() -> Vec<Event> {
    let bytes = awkward_bytes();
    let kinds: Vec<(Source, Option<AuditOrigin>, EventKind)> = vec![
        (
            Source::Connector,
            None,
            EventKind::Fork(Fork {
                parent_pid: 100,
                parent_tgid: 100,
                child_pid: 101,
                child_tgid: 101,
                child: Some(sample_process()),
                fd_from: Some(FdFrom::CloneCall),
                clone_serial: Some(4711),
            }),
        ),
        (
            Source::Audit,
            Some(audit_origin("execve", 59)),
            EventKind::Exec(Exec {
                pid: 101,
                tgid: 101,
                ppid: Some(100),
                process: sample_process(),
            }),
        ),
        (
            Source::Connector,
            None,
            EventKind::Exit(Exit {
                pid: 101,
                tgid: 101,
                exit_code: Some(2),
                signal: Some(9),
            }),
        ),
        (
            Source::Procfs,
            None,
            EventKind::Snapshot(Snapshot {
                pid: 1,
                tgid: 1,
                ppid: 0,
                threads: vec![2, 3],
                process: sample_process(),
                fds: vec![
                    OpenFd {
                        fd: 1,
                        target: ByteString::from("/var/log/x.log"),
                        flags: Some(0o100_001),
                    },
                    OpenFd {
                        fd: 2,
                        target: bytes.clone(),
                        flags: None,
                    },
                ],
            }),
        ),
        (
            Source::Audit,
            Some(audit_origin("openat", 257)),
            EventKind::Open(Open {
                pid: 101,
                tgid: 101,
                path: bytes.clone(),
                cwd: Some(ByteString::from("/root")),
                resolved: Some(ByteString::from("/root/x")),
                flags: Some(0o1101),
                fd: Some(3),
                created: true,
            }),
        ),
        (
            Source::Audit,
            Some(audit_origin("write", 1)),
            EventKind::Write(Write {
                pid: 101,
                tgid: 101,
                fd: 3,
                path: Some(ByteString::from("/root/x")),
                count: 4,
                first: Timestamp(1_764_329_347_000_000),
                last: Timestamp(1_764_329_348_000_000),
                bytes: Some(4096),
            }),
        ),
        (
            Source::Audit,
            Some(audit_origin("close", 3)),
            EventKind::Close(Close {
                pid: 101,
                tgid: 101,
                fd: 3,
                path: Some(ByteString::from("/root/x")),
            }),
        ),
        (
            Source::Audit,
            Some(audit_origin("dup2", 33)),
            EventKind::Dup(Dup {
                pid: 101,
                tgid: 101,
                old_fd: 3,
                new_fd: 1,
                path: Some(bytes.clone()),
                cloexec: true,
            }),
        ),
        (
            Source::Audit,
            Some(audit_origin("close_range", 436)),
            EventKind::CloseRange(CloseRange {
                pid: 101,
                tgid: 101,
                first: 3,
                last: i32::MAX,
                cloexec: true,
            }),
        ),
        (
            Source::Connector,
            None,
            EventKind::Comm(Comm {
                pid: 101,
                tgid: 101,
                comm: bytes.clone(),
            }),
        ),
        (
            Source::Audit,
            Some(audit_origin("renameat2", 316)),
            EventKind::Rename(Rename {
                pid: 101,
                tgid: 101,
                from: ByteString::from("a\nb"),
                to: bytes.clone(),
                cwd: Some(ByteString::from("/tmp")),
            }),
        ),
        (
            Source::Audit,
            Some(audit_origin("unlinkat", 263)),
            EventKind::Unlink(Unlink {
                pid: 101,
                tgid: 101,
                path: ByteString::from("dir\0name"),
                cwd: Some(ByteString::from("/tmp")),
                dir: true,
            }),
        ),
        (
            Source::Audit,
            Some(audit_origin("ftruncate", 77)),
            EventKind::Truncate(Truncate {
                pid: 101,
                tgid: 101,
                path: Some(ByteString::from("/root/x")),
                fd: Some(3),
                length: Some(0),
            }),
        ),
        (
            Source::Audit,
            Some(audit_origin("fchmodat", 268)),
            EventKind::Chmod(Chmod {
                pid: 101,
                tgid: 101,
                path: Some(ByteString::from("/root/x")),
                fd: Some(3),
                mode: 0o4755,
            }),
        ),
        (
            Source::Audit,
            Some(audit_origin("fchownat", 260)),
            EventKind::Chown(Chown {
                pid: 101,
                tgid: 101,
                path: Some(ByteString::from("/root/x")),
                fd: Some(3),
                uid: Some(1000),
                gid: Some(4_294_967_294),
            }),
        ),
        (
            Source::Audit,
            Some(audit_origin("pivot_root", 155)),
            EventKind::PivotRoot(PivotRoot {
                pid: 101,
                tgid: 101,
                new_root: ByteString::from("/var/lib/docker/overlay2/0123456789abcdef/merged"),
                put_old: Some(ByteString::from(".pivot_root123")),
                cwd: Some(ByteString::from(
                    "/var/lib/docker/overlay2/0123456789abcdef/merged",
                )),
                new_root_dev: Some("00:27".to_owned()),
            }),
        ),
        (
            Source::Docker,
            None,
            EventKind::Container(Container {
                id: "a".repeat(64),
                name: Some("web-1".to_owned()),
                image: Some("dockwatch-busybox:latest".to_owned()),
                image_id: Some(format!("sha256:{}", "b".repeat(64))),
                created: Some(Timestamp(1_764_329_000_000_000)),
                pid: Some(4321),
                rootfs: Some(ByteString::from(
                    "/var/lib/docker/overlay2/0123456789abcdef/merged",
                )),
                upper_dir: Some(ByteString::from(
                    "/var/lib/docker/overlay2/0123456789abcdef/diff",
                )),
                mounts: vec![
                    Mount {
                        kind: MountKind::Volume,
                        source: Some(ByteString::from("/var/lib/docker/volumes/data/_data")),
                        destination: ByteString::from("/data"),
                    },
                    Mount {
                        kind: MountKind::Bind,
                        source: Some(ByteString::from_bytes(b"/srv/odd\xff name".to_vec())),
                        destination: ByteString::from("/srv"),
                    },
                    Mount {
                        kind: MountKind::Tmpfs,
                        source: None,
                        destination: ByteString::from("/run"),
                    },
                ],
            }),
        ),
        (
            Source::Recorder,
            None,
            EventKind::Gap(Gap {
                reason: GapReason::BacklogFull,
                lost: Some(12_345),
                from: Timestamp(1_764_329_347_000_000),
                to: Timestamp(1_764_329_349_000_000),
                detail: Some("backlog of 1073741824 bytes full\nserials 10..20".to_owned()),
            }),
        ),
    ];
    kinds
        .into_iter()
        .enumerate()
        .map(|(i, (source, audit, kind))| {
            let mut ev = header(i as u64, source, kind);
            ev.audit = audit;
            ev
        })
        .collect()
}

/// The position of a kind in declaration order. Exhaustive on purpose: adding a kind to the
/// model fails to compile here until [`samples`] is extended.
pub fn kind_index(kind: &EventKind) -> usize {
    match kind {
        EventKind::Fork(_) => 0,
        EventKind::Exec(_) => 1,
        EventKind::Exit(_) => 2,
        EventKind::Snapshot(_) => 3,
        EventKind::Open(_) => 4,
        EventKind::Write(_) => 5,
        EventKind::Close(_) => 6,
        EventKind::Dup(_) => 7,
        EventKind::CloseRange(_) => 8,
        EventKind::Comm(_) => 9,
        EventKind::Rename(_) => 10,
        EventKind::Unlink(_) => 11,
        EventKind::Truncate(_) => 12,
        EventKind::Chmod(_) => 13,
        EventKind::Chown(_) => 14,
        EventKind::PivotRoot(_) => 15,
        EventKind::Container(_) => 16,
        EventKind::Gap(_) => 17,
    }
}

/// The number of event kinds.
pub const KIND_COUNT: usize = 18;

/// The offsets where the zstd frames of a `.zst` capture start (each batch godo writes is one
/// frame), for tests that damage or cut out a frame.
pub fn zstd_frame_starts(bytes: &[u8]) -> Vec<usize> {
    const MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
    bytes
        .windows(MAGIC.len())
        .enumerate()
        .filter(|(_, w)| *w == MAGIC)
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_cover_every_kind_once_in_order() {
        let s = samples();
        assert_eq!(s.len(), KIND_COUNT);
        for (i, ev) in s.iter().enumerate() {
            assert_eq!(kind_index(&ev.kind), i, "{}", ev.kind.name());
            assert_eq!(ev.seq, i as u64);
        }
    }

    #[test]
    fn awkward_text_is_really_awkward() {
        let b = awkward_bytes();
        assert!(b.as_str().is_none(), "must not be UTF-8");
        assert!(b.as_bytes().contains(&0) && b.as_bytes().contains(&b'\n'));
        assert_eq!(long_arg().len(), 4096);
        assert!(long_arg().as_str().is_some());
    }
}

#[cfg(test)]
mod require_tests {
    use super::*;

    #[test]
    fn a_missing_program_names_its_package_and_a_present_one_passes() {
        let missing = Need::Program {
            name: "dockwatch-no-such-program",
            package: "dockwatch-no-such-package",
        };
        let why = missing.check().expect_err("not on PATH");
        assert!(
            why.contains("apt-get install -y dockwatch-no-such-package"),
            "{why}"
        );
        let sh = Need::Program {
            name: "sh",
            package: "dash",
        };
        assert_eq!(sh.check(), Ok(()));
    }

    #[test]
    fn an_empty_list_of_needs_is_met() {
        assert!(require(&[]));
    }
}
