//! Enrichment from `/proc`: what the kernel says of a live process (args, exe, cwd, root, comm,
//! uid, start time, container id, Docker role).
//!
//! Plain `std::fs` is used rather than the `procfs` crate: every field here must be kept as raw
//! bytes (paths and arguments are not UTF-8 in general, `procfs` turns several of them into
//! `String`s or `PathBuf`s with its own error handling), each field that cannot be read must be
//! named in `missing` without failing the others, and the connector reads `/proc` on its hot path
//! right after a fork, where a few direct reads are cheapest. The parsers are pure functions over
//! the file contents and are tested with table-driven tests.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use dockwatch_shared::model::event::{ContainerIdSource, DockerRole, Pid, ProcessInfo};
use dockwatch_shared::{ByteString, Timestamp};

/// Reads processes from a `/proc` tree and converts their start times to wall-clock time.
#[derive(Clone, Debug)]
pub struct ProcReader {
    root: PathBuf,
    boot_wall_us: i64,
    clk_tck: i64,
}

/// What `/proc/PID/stat` says that the recorder needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatLine {
    /// Parent process id (field 4).
    pub ppid: Pid,
    /// Start time in clock ticks since boot (field 22).
    pub start_ticks: u64,
}

impl ProcReader {
    /// A reader of the host's `/proc`; the boot time is taken from `CLOCK_REALTIME -
    /// CLOCK_BOOTTIME` now (microsecond precision, unlike `btime` in `/proc/stat`).
    pub fn new() -> Self {
        Self::with_root("/proc")
    }

    /// A reader of another proc tree (tests).
    pub fn with_root(root: impl Into<PathBuf>) -> Self {
        // SAFETY: sysconf has no preconditions.
        let tck = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        Self {
            root: root.into(),
            boot_wall_us: boot_wall_time_us(),
            clk_tck: if tck > 0 { tck as i64 } else { 100 },
        }
    }

    /// The proc tree this reader reads.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Converts a start time in clock ticks since boot to wall-clock time.
    pub fn ticks_to_wall(&self, ticks: u64) -> Timestamp {
        let us = (ticks as i64).saturating_mul(1_000_000) / self.clk_tck;
        Timestamp(self.boot_wall_us.saturating_add(us))
    }

    /// Wall-clock time of a `CLOCK_MONOTONIC` nanosecond reading (the connector's timestamps).
    pub fn monotonic_to_wall(mono_ns: u64) -> Timestamp {
        let now_wall = clock_us(libc::CLOCK_REALTIME);
        let now_mono = clock_us(libc::CLOCK_MONOTONIC);
        Timestamp(now_wall - now_mono + (mono_ns / 1_000) as i64)
    }

    /// Reads `/proc/PID/stat` of a process (or of task `tid` of process `tgid`).
    pub fn stat(&self, tgid: Pid, tid: Pid) -> Option<StatLine> {
        std::fs::read(self.task_dir(tgid, tid).join("stat"))
            .ok()
            .and_then(|b| parse_stat(&b))
    }

    /// The pids of task `tid` of process `tgid` in its nested pid namespaces (see
    /// [`parse_status_ns_pids`]); `None` when it could not be read (the task is gone).
    pub fn ns_pids(&self, tgid: Pid, tid: Pid) -> Option<Vec<Pid>> {
        std::fs::read(self.task_dir(tgid, tid).join("status"))
            .ok()
            .and_then(|b| parse_status_ns_pids(&b))
    }

    /// Where the filesystem on device `dev` (audit's hex `major:minor`) is mounted in this
    /// reader's mount namespace (see [`mount_point_of`]).
    pub fn mount_point(&self, dev: &str) -> Option<ByteString> {
        let info = std::fs::read(self.root.join("self/mountinfo")).ok()?;
        mount_point_of(&info, dev)
    }

    /// The container id of process `tgid` from its cgroup: `Some(None)` when it is in none,
    /// `None` when the cgroup could not be read.
    pub fn container_id(&self, tgid: Pid) -> Option<Option<String>> {
        std::fs::read(self.root.join(tgid.to_string()).join("cgroup"))
            .ok()
            .map(|b| container_id_from_cgroup(&b))
    }

    /// Thread ids of a process other than its leader, from `/proc/PID/task`.
    pub fn threads(&self, tgid: Pid) -> Vec<Pid> {
        let mut out: Vec<Pid> =
            match std::fs::read_dir(self.root.join(tgid.to_string()).join("task")) {
                Ok(rd) => rd
                    .filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
                    .filter(|&t| t != tgid)
                    .collect(),
                Err(_) => Vec::new(),
            };
        out.sort_unstable();
        out
    }

    fn task_dir(&self, tgid: Pid, tid: Pid) -> PathBuf {
        let p = self.root.join(tgid.to_string());
        if tid == tgid {
            p
        } else {
            p.join("task").join(tid.to_string())
        }
    }

    /// Everything `/proc` says of task `tid` of process `tgid`. Never fails: whatever could not be
    /// read is named in `missing` (usually because the process is already gone).
    pub fn read(&self, tgid: Pid, tid: Pid) -> ProcessInfo {
        let dir = self.root.join(tgid.to_string());
        let task = self.task_dir(tgid, tid);
        let mut info = ProcessInfo::default();
        let mut missing = Vec::new();

        info.comm = read_comm(&task);
        if info.comm.is_none() {
            missing.push("comm");
        }
        info.exe = read_exe(&dir);
        if info.exe.is_none() {
            missing.push("exe");
        }
        match std::fs::read(dir.join("cmdline")) {
            Ok(b) => {
                info.args = split_cmdline(&b);
                info.args_from = Some(dockwatch_shared::model::event::ArgsSource::Procfs);
            }
            Err(_) => missing.push("args"),
        }
        match std::fs::read_link(dir.join("cwd")) {
            Ok(p) => {
                info.cwd = Some(ByteString::from_bytes(
                    p.into_os_string().into_encoded_bytes(),
                ))
            }
            Err(_) => missing.push("cwd"),
        }
        match std::fs::read_link(dir.join("root")) {
            Ok(p) => {
                info.root = Some(ByteString::from_bytes(
                    p.into_os_string().into_encoded_bytes(),
                ))
            }
            Err(_) => missing.push("root"),
        }
        match std::fs::read(task.join("status")) {
            Ok(b) => {
                match parse_status_uid(&b) {
                    Some(uid) => info.uid = Some(uid),
                    None => missing.push("uid"),
                }
                info.ns_pids = parse_status_ns_pids(&b).unwrap_or_default();
            }
            Err(_) => missing.push("uid"),
        }
        match std::fs::read(task.join("stat"))
            .ok()
            .and_then(|b| parse_stat(&b))
        {
            Some(st) => info.start_time = Some(self.ticks_to_wall(st.start_ticks)),
            None => missing.push("start_time"),
        }
        if !read_container_id(&dir, &mut info) {
            missing.push("cgroup");
        }
        classify(&mut info);
        container_id_from_shim_args(&mut info);
        info.missing = missing.into_iter().map(String::from).collect();
        info
    }

    /// What an exec needs from `/proc` beyond the audit record of the same exec, which has the
    /// arguments (complete, from EXECVE), the working directory, the executable and the user:
    /// the name, the executable (to tell Docker's own programs), the container id from the
    /// cgroup, and the arguments only for Docker's programs (a shim's or runc's `-id` names
    /// its container). Three or four small reads instead of eight: the process connector
    /// reports every exec on the host, and these reads were most of the recorder's cost.
    pub fn read_exec(&self, tgid: Pid, tid: Pid) -> ProcessInfo {
        let dir = self.root.join(tgid.to_string());
        let mut info = ProcessInfo::default();
        let mut missing = Vec::new();
        info.comm = read_comm(&self.task_dir(tgid, tid));
        if info.comm.is_none() {
            missing.push("comm");
        }
        info.exe = read_exe(&dir);
        if info.exe.is_none() {
            missing.push("exe");
        }
        if !read_container_id(&dir, &mut info) {
            missing.push("cgroup");
        }
        classify(&mut info);
        if info.role.is_some() {
            match std::fs::read(dir.join("cmdline")) {
                Ok(b) => {
                    info.args = split_cmdline(&b);
                    info.args_from = Some(dockwatch_shared::model::event::ArgsSource::Procfs);
                }
                Err(_) => missing.push("args"),
            }
            container_id_from_shim_args(&mut info);
        }
        info.missing = missing.into_iter().map(String::from).collect();
        info
    }

    /// The inode of the pid namespace process `tgid` is in (`/proc/PID/ns/pid`).
    pub fn pid_namespace(&self, tgid: Pid) -> Option<u64> {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(self.root.join(tgid.to_string()).join("ns/pid"))
            .ok()
            .map(|m| m.ino())
    }
}

/// Translates host pids into the pid namespace of a process, the one its clone calls return
/// pids of. With the kernel's `NS_GET_PID_IN_PIDNS` (Linux 6.11 and later) a translation is
/// one `ioctl` on the namespace's file, kept open for the next ones (a burst of forks in one
/// container); older kernels answer from `/proc/PID/status`'s `NSpid`, which costs a formatted
/// read of the whole status.
#[derive(Debug, Default)]
pub struct PidNamespaces {
    /// Open namespace files by inode; at most [`PidNamespaces::KEEP`].
    open: std::collections::HashMap<u64, std::fs::File>,
    /// The kernel has no `NS_GET_PID_IN_PIDNS`.
    no_ioctl: bool,
}

impl PidNamespaces {
    /// Namespace files kept open.
    pub const KEEP: usize = 64;

    /// The pid of task `tid` (of process `tgid`) in the pid namespace `ns` (an inode, see
    /// [`ProcReader::pid_namespace`]) that process `holder` is in. `None` when the task is gone
    /// (an exiting task has left its namespaces) or the namespace cannot be opened.
    pub fn pid_in(
        &mut self,
        procs: &ProcReader,
        ns: u64,
        holder: Pid,
        tgid: Pid,
        tid: Pid,
    ) -> Option<Pid> {
        if !self.no_ioctl {
            if !self.open.contains_key(&ns) {
                if self.open.len() >= Self::KEEP {
                    self.open.clear();
                }
                let f = std::fs::File::open(procs.root().join(holder.to_string()).join("ns/pid"))
                    .ok()?;
                self.open.insert(ns, f);
            }
            let fd = std::os::fd::AsRawFd::as_raw_fd(self.open.get(&ns)?);
            // SAFETY: an ioctl on a descriptor this struct owns; the argument is a plain pid.
            let r = unsafe { libc::ioctl(fd, libc::NS_GET_PID_IN_PIDNS, tid) };
            if r > 0 {
                return Some(r);
            }
            let err = std::io::Error::last_os_error().raw_os_error();
            if !matches!(err, Some(libc::ENOTTY | libc::EINVAL)) {
                return None;
            }
            self.no_ioctl = true;
        }
        // Older kernels: the task's own NSpid, whose last entry is its innermost namespace.
        procs.ns_pids(tgid, tid)?.last().copied()
    }
}

impl Default for ProcReader {
    fn default() -> Self {
        Self::new()
    }
}

fn clock_us(clock: libc::clockid_t) -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec * 1_000_000 + ts.tv_nsec / 1_000
}

fn boot_wall_time_us() -> i64 {
    clock_us(libc::CLOCK_REALTIME) - clock_us(libc::CLOCK_BOOTTIME)
}

/// Splits `/proc/PID/cmdline` (NUL-separated, usually NUL-terminated) into arguments.
pub fn split_cmdline(b: &[u8]) -> Vec<ByteString> {
    let b = b.strip_suffix(b"\0").unwrap_or(b);
    if b.is_empty() {
        return Vec::new();
    }
    b.split(|&c| c == 0).map(ByteString::from).collect()
}

/// Parses `/proc/PID/stat`. The `comm` field may hold spaces and parentheses, so the fields are
/// counted after the last `)`.
pub fn parse_stat(b: &[u8]) -> Option<StatLine> {
    let close = b.iter().rposition(|&c| c == b')')?;
    let rest = std::str::from_utf8(b.get(close + 1..)?).ok()?;
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    // fields[0] is field 3 (state).
    Some(StatLine {
        ppid: fields.get(1)?.parse().ok()?,
        start_ticks: fields.get(19)?.parse().ok()?,
    })
}

/// The pids of a task in the pid namespaces it is in, from `/proc/PID/status`
/// (`NSpid:\t12345\t7`: the host's first, its own last), without the host's: empty for a task
/// of the host's namespace. `None` when the line is missing (a kernel before 4.1), or when it
/// shows 0 for a namespace (a task that is exiting has left its namespaces' pid tables).
pub fn parse_status_ns_pids(b: &[u8]) -> Option<Vec<Pid>> {
    let s = std::str::from_utf8(b).ok()?;
    let line = s.lines().find_map(|l| l.strip_prefix("NSpid:"))?;
    let pids: Option<Vec<Pid>> = line
        .split_ascii_whitespace()
        .map(|v| v.parse().ok().filter(|&p: &Pid| p > 0))
        .collect();
    Some(pids?.into_iter().skip(1).collect())
}

/// The mount point of the filesystem on device `dev` (audit's `major:minor`, in hex) whose
/// mount shows the filesystem from its root, from a `/proc/PID/mountinfo` text (its first such
/// mount): where a container's root filesystem is mounted on the host, found from the device
/// audit's PATH record of its `pivot_root` names.
pub fn mount_point_of(mountinfo: &[u8], dev: &str) -> Option<ByteString> {
    let (major, minor) = dev.split_once(':')?;
    let (major, minor) = (
        u32::from_str_radix(major, 16).ok()?,
        u32::from_str_radix(minor, 16).ok()?,
    );
    let want = format!("{major}:{minor}");
    mountinfo.split(|&c| c == b'\n').find_map(|line| {
        let mut fields = line.split(|&c| c == b' ');
        let (_, _, numbers, root, point) = (
            fields.next()?,
            fields.next()?,
            fields.next()?,
            fields.next()?,
            fields.next()?,
        );
        (numbers == want.as_bytes() && root == b"/").then(|| unescape_mount_field(point))
    })
}

/// A path field of `mountinfo`, where the kernel writes space, tab, newline and backslash as
/// octal escapes (`\040`).
fn unescape_mount_field(b: &[u8]) -> ByteString {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| b[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                out.push(d.iter().fold(0u8, |v, c| v.wrapping_mul(8) + (c - b'0')));
                i += 4;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    ByteString::from_bytes(out)
}

/// The real uid from `/proc/PID/status` (`Uid:\treal\teffective\tsaved\tfs`).
pub fn parse_status_uid(b: &[u8]) -> Option<u32> {
    let s = std::str::from_utf8(b).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|r| r.split_ascii_whitespace().next())
        .and_then(|v| v.parse().ok())
}

fn is_container_id(s: &[u8]) -> bool {
    s.len() == 64 && s.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// The Docker container id in `/proc/PID/cgroup`, for both layouts:
/// cgroup v1 `N:ctrl:/docker/<id>` (cgroupfs driver) and `.../docker-<id>.scope` (systemd
/// driver, v1 or v2 `0::/system.slice/docker-<id>.scope`). Nested cgroups below the container's
/// (`/docker/<id>/sub`) still count.
pub fn container_id_from_cgroup(b: &[u8]) -> Option<String> {
    for line in b.split(|&c| c == b'\n') {
        // hierarchy-id:controllers:path; the path may itself contain ':'.
        let mut parts = line.splitn(3, |&c| c == b':');
        let (_, _, Some(path)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let segs: Vec<&[u8]> = path.split(|&c| c == b'/').collect();
        for (i, seg) in segs.iter().enumerate() {
            if is_container_id(seg) && i > 0 && segs[i - 1] == b"docker" {
                return Some(String::from_utf8_lossy(seg).into_owned());
            }
            if let Some(id) = seg
                .strip_prefix(b"docker-")
                .and_then(|r| r.strip_suffix(b".scope"))
            {
                if is_container_id(id) {
                    return Some(String::from_utf8_lossy(id).into_owned());
                }
            }
        }
    }
    None
}

/// The container id on a containerd-shim or runc command line: `-id <id>` / `--id <id>`, or the
/// last path component of `-workdir`/`--bundle`/`-bundle` (`.../moby/<id>`), or (runc) a bare
/// 64-hex-digit argument.
pub fn container_id_from_args(args: &[ByteString]) -> Option<String> {
    let mut it = args.iter().map(|a| a.as_bytes()).peekable();
    let mut bare = None;
    while let Some(a) = it.next() {
        let (flag, inline) = match a.iter().position(|&c| c == b'=') {
            Some(eq) if a.starts_with(b"-") => (&a[..eq], Some(&a[eq + 1..])),
            _ => (a, None),
        };
        let flag_name = flag.strip_prefix(b"--").or_else(|| flag.strip_prefix(b"-"));
        match flag_name {
            Some(b"id") => {
                let v = inline.or_else(|| it.peek().copied());
                if let Some(v) = v.filter(|v| is_container_id(v)) {
                    return Some(String::from_utf8_lossy(v).into_owned());
                }
            }
            Some(b"workdir" | b"bundle") => {
                let v = inline.or_else(|| it.peek().copied());
                if let Some(last) = v.and_then(|v| v.rsplit(|&c| c == b'/').find(|s| !s.is_empty()))
                {
                    if is_container_id(last) {
                        return Some(String::from_utf8_lossy(last).into_owned());
                    }
                }
            }
            _ => {
                if is_container_id(a) && bare.is_none() {
                    bare = Some(String::from_utf8_lossy(a).into_owned());
                }
            }
        }
    }
    bare
}

/// The Docker role of a program, from the base name of its executable path.
pub fn role_of_exe(exe: &[u8]) -> Option<DockerRole> {
    let exe = exe.strip_suffix(b" (deleted)").unwrap_or(exe);
    let base = Path::new(OsStr::from_bytes(exe)).file_name()?.as_bytes();
    match base {
        b"dockerd" => Some(DockerRole::Dockerd),
        b"containerd" | b"docker-containerd" => Some(DockerRole::Containerd),
        b"runc" | b"docker-runc" => Some(DockerRole::Runc),
        b if b.starts_with(b"containerd-shim") || b.starts_with(b"docker-containerd-shim") => {
            Some(DockerRole::ContainerdShim)
        }
        _ => None,
    }
}

/// Sets `role` (and `star` for dockerd) from the executable path (or, when it could not be read,
/// from `argv[0]`).
pub fn classify(info: &mut ProcessInfo) {
    let role = match &info.exe {
        Some(exe) => role_of_exe(exe.as_bytes()),
        None => info.args.first().and_then(|a| role_of_exe(a.as_bytes())),
    };
    info.role = role;
    info.star = role == Some(DockerRole::Dockerd);
}

/// Socket inodes listening on TCP `port` in a `/proc/net/tcp` or `/proc/net/tcp6` table.
pub fn listening_inodes(table: &str, port: u16) -> Vec<u64> {
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_ascii_whitespace().collect();
            let local_port = f.get(1)?.rsplit(':').next()?;
            let listening = *f.get(3)? == "0A";
            (listening && u16::from_str_radix(local_port, 16).ok()? == port)
                .then(|| f.get(9)?.parse().ok())?
        })
        .collect()
}

/// Processes (tgids) that hold a socket listening on local TCP `port`: the local database
/// server, whose writes must not be audited (each insert would make more events).
pub fn pids_listening_on(port: u16) -> Vec<Pid> {
    let mut inodes = Vec::new();
    for t in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(s) = std::fs::read_to_string(t) {
            inodes.extend(listening_inodes(&s, port));
        }
    }
    if inodes.is_empty() {
        return Vec::new();
    }
    let wanted: Vec<Vec<u8>> = inodes
        .iter()
        .map(|i| format!("socket:[{i}]").into_bytes())
        .collect();
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<Pid>().ok()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(e.path().join("fd")) else {
            continue;
        };
        let holds = fds.filter_map(|f| f.ok()).any(|f| {
            std::fs::read_link(f.path())
                .map(|t| {
                    wanted
                        .iter()
                        .any(|w| w.as_slice() == t.as_os_str().as_bytes())
                })
                .unwrap_or(false)
        });
        if holds {
            out.push(pid);
        }
    }
    out
}

/// A shim's or runc's container id from its `-id` argument, when the cgroup did not give one.
fn container_id_from_shim_args(info: &mut ProcessInfo) {
    let shim = matches!(
        info.role,
        Some(DockerRole::ContainerdShim | DockerRole::Runc)
    );
    if info.container_id.is_none() && shim {
        if let Some(id) = container_id_from_args(&info.args) {
            info.container_id = Some(id);
            info.container_id_from = Some(ContainerIdSource::ShimArgs);
        }
    }
}

/// A task's name from its `comm` file, without the newline.
fn read_comm(task: &Path) -> Option<ByteString> {
    let mut b = std::fs::read(task.join("comm")).ok()?;
    if b.last() == Some(&b'\n') {
        b.pop();
    }
    Some(ByteString::from_bytes(b))
}

/// Sets the container id from the process's cgroup (`/proc/PID/cgroup`), when it names one;
/// false when the file could not be read.
fn read_container_id(dir: &Path, info: &mut ProcessInfo) -> bool {
    let Ok(cgroup) = std::fs::read(dir.join("cgroup")) else {
        return false;
    };
    if let Some(id) = container_id_from_cgroup(&cgroup) {
        info.container_id = Some(id);
        info.container_id_from = Some(ContainerIdSource::Cgroup);
    }
    true
}

/// A process's executable, from the `exe` link of its `/proc` directory.
fn read_exe(dir: &Path) -> Option<ByteString> {
    let p = std::fs::read_link(dir.join("exe")).ok()?;
    Some(ByteString::from_bytes(
        p.into_os_string().into_encoded_bytes(),
    ))
}

#[cfg(test)]
mod tests;
