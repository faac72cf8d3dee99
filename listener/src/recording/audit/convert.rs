//! Turning the records of one kernel event into the model's event.
//!
//! Pure: the records of one serial in, at most one [`EventKind`] out, plus what the assembler
//! needs for the process tree (the task and, for fork-family calls, the clone). Which syscalls map
//! to which kind, and where each field comes from:
//!
//! | kind        | syscalls                                  | fields                                   |
//! |-------------|-------------------------------------------|------------------------------------------|
//! | exec        | execve, execveat (successful)             | EXECVE args (else PROCTITLE), exe, cwd   |
//! | open        | open, openat, openat2, creat, write intent| PATH name, flags, fd = exit, created     |
//! | write       | write, pwrite64, writev, pwritev(2)       | fd = a0, bytes = exit                    |
//! | close       | close                                     | fd = a0                                  |
//! | dup         | dup, dup2, dup3, fcntl(64) F_DUPFD(_CLOEXEC)| old = a0, new = a1 or exit, cloexec   |
//! | close_range | close_range                               | first = a0, last = a1, cloexec = a2 flag |
//! | rename      | rename, renameat, renameat2               | PATH DELETE name → CREATE name           |
//! | unlink      | unlink, unlinkat, rmdir                   | PATH DELETE name; dir for rmdir/AT_REMOVEDIR |
//! | truncate    | (f)truncate(64)                           | PATH name or fd, length                  |
//! | chmod/chown | chmod family, chown family (16/32-bit)    | PATH name or fd, mode / uid, gid         |
//! | pivot_root  | pivot_root                                | PATH names resolved against CWD, dev     |
//! | exit        | exit_group (when the rules audit it)      | exit code = a0 & 0xff                    |
//!
//! Only successful calls become events, except opens with write intent, which are kept with no
//! fd when they fail (an attempt to write `/etc/shadow` matters to an analyst). An open counts
//! as having write intent when its flags ask for writing, creating or truncating; `openat2`
//! passes its flags in memory audit does not show, so it is always kept. `created` is true only
//! when the kernel says the open created the file (a PATH record with `nametype=CREATE`):
//! `O_CREAT` alone does not create an existing file (`echo x >> f`).

use std::borrow::Cow;

use dockwatch_shared::model::event::{
    ArgsSource, AuditOrigin, Chmod, Chown, Close, CloseRange, Dup, EventKind, Exec, Exit, Open,
    PivotRoot, ProcessInfo, Rename, SyscallInfo, Truncate, Unlink, Write,
};
use dockwatch_shared::model::fds::{CLOSE_RANGE_CLOEXEC, CloneKind, O_CLOEXEC};
use dockwatch_shared::{ByteString, Pid, Timestamp};

use super::record::{Record, Value, types};
use super::syscalls::Arch;

/// `AT_FDCWD` as the kernel passes it (`-100`).
const AT_FDCWD: i32 = -100;
/// `unlinkat` flag that makes it an rmdir.
const AT_REMOVEDIR: u64 = 0x200;
/// `clone` flag: the new task is a thread of the caller's process.
const CLONE_THREAD: u64 = 0x10000;
/// `fcntl` commands that duplicate a descriptor.
const F_DUPFD: u64 = 0;
const F_DUPFD_CLOEXEC: u64 = 1030;
/// `open` flags that show an intent to change the file.
const O_WRONLY: u32 = 0o1;
const O_RDWR: u32 = 0o2;
const O_CREAT: u32 = 0o100;
const O_TRUNC: u32 = 0o1000;

/// The task a syscall event came from (audit's `pid=` is the process id).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Task {
    /// Process id.
    pub pid: Pid,
    /// Parent process id at the time.
    pub ppid: Pid,
}

/// A successful fork-family call (`clone`, `clone3`, `fork`, `vfork`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CloneCall {
    /// The calling process.
    pub parent: Pid,
    /// The return value: the child's pid in the caller's pid namespace (not the host's pid when
    /// the caller is in a container).
    pub child_in_ns: Pid,
    /// What it made: `clone` shows `CLONE_THREAD` in its flags, `fork` and `vfork` make
    /// processes, and `clone3`'s flags are in memory that audit does not show (a0 is a pointer),
    /// so it may have made a thread (`pthread_create`) as well as a process (`posix_spawn`). A
    /// thread never shows up under a pid of its own (audit's `pid=` is the thread group).
    pub kind: CloneKind,
}

/// What one kernel event turned into.
#[derive(Clone, Debug)]
pub struct Converted {
    /// The time of the event (its first record's).
    pub time: Timestamp,
    /// Serial and record types.
    pub origin: AuditOrigin,
    /// The model event, when the syscall maps to one.
    pub kind: Option<EventKind>,
    /// The calling task, for syscall events.
    pub task: Option<Task>,
    /// Set for successful fork-family calls.
    pub clone: Option<CloneCall>,
}

struct PathItem<'a> {
    name: Option<Cow<'a, [u8]>>,
    nametype: &'a [u8],
    dev: Option<&'a [u8]>,
}

/// The SYSCALL record's fields this module reads, found in one pass (a SYSCALL record has
/// about 27 fields; looking each up by name would compare keys hundreds of times per event).
#[derive(Default)]
struct SysFields<'a> {
    arch: Option<Value<'a>>,
    syscall: Option<Value<'a>>,
    success: Option<Value<'a>>,
    exit: Option<Value<'a>>,
    args: [Option<Value<'a>>; 4],
    ppid: Option<Value<'a>>,
    pid: Option<Value<'a>>,
    uid: Option<Value<'a>>,
    auid: Option<Value<'a>>,
    ses: Option<Value<'a>>,
    comm: Option<Value<'a>>,
    exe: Option<Value<'a>>,
}

impl<'a> SysFields<'a> {
    fn read(sys: &'a Record) -> Self {
        let mut f = SysFields::default();
        for (key, value) in sys.fields() {
            let slot = match key {
                b"arch" => &mut f.arch,
                b"syscall" => &mut f.syscall,
                b"success" => &mut f.success,
                b"exit" => &mut f.exit,
                b"a0" => &mut f.args[0],
                b"a1" => &mut f.args[1],
                b"a2" => &mut f.args[2],
                b"a3" => &mut f.args[3],
                b"ppid" => &mut f.ppid,
                b"pid" => &mut f.pid,
                b"uid" => &mut f.uid,
                b"auid" => &mut f.auid,
                b"ses" => &mut f.ses,
                b"comm" => &mut f.comm,
                b"exe" => &mut f.exe,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value);
            }
        }
        f
    }
}

struct Call<'a> {
    sys: &'a Record,
    args: [u64; 4],
    name: &'static str,
    arch: Arch,
    success: bool,
    exit: Option<i64>,
    pid: Pid,
    cwd: Option<Cow<'a, [u8]>>,
    paths: Vec<PathItem<'a>>,
}

impl Call<'_> {
    fn arg(&self, n: usize) -> u64 {
        self.args[n]
    }

    /// An fd argument: the low 32 bits, as the kernel reads an `int`.
    fn fd_arg(&self, n: usize) -> i32 {
        self.arg(n) as u32 as i32
    }

    fn exit_fd(&self) -> Option<i32> {
        self.exit
            .filter(|&e| self.success && e >= 0)
            .and_then(|e| i32::try_from(e).ok())
    }

    fn cwd(&self) -> Option<ByteString> {
        self.cwd.as_deref().map(ByteString::from)
    }

    /// The name of the first PATH item of that nametype.
    fn named(&self, nametype: &[u8]) -> Option<&[u8]> {
        self.paths
            .iter()
            .filter(|p| p.nametype == nametype)
            .find_map(|p| p.name.as_deref())
    }

    /// Names of the PATH items that are not parents, in order.
    fn object_names(&self) -> impl Iterator<Item = &[u8]> {
        self.paths
            .iter()
            .filter(|p| p.nametype != b"PARENT")
            .filter_map(|p| p.name.as_deref())
    }

    /// The file a call on one name acted on.
    fn object(&self) -> Option<ByteString> {
        self.named(b"CREATE")
            .or_else(|| self.named(b"NORMAL"))
            .or_else(|| self.named(b"DELETE"))
            .or_else(|| self.object_names().next())
            .or_else(|| self.paths.iter().find_map(|p| p.name.as_deref()))
            .map(ByteString::from)
    }

    /// The object's path made absolute with the event's own CWD record (the process's working
    /// directory when it made the call: a short-lived process is often gone before `/proc`
    /// can say it, and a forked shell's `cd` leaves no other trace). `dirfd` is the argument
    /// holding the directory fd of an `*at` call; a path relative to another directory than
    /// the cwd, or without a CWD record, stays as it was.
    fn object_from_cwd(&self, dirfd: Option<usize>) -> Option<ByteString> {
        let path = self.object()?;
        let relative_to_cwd = dirfd.is_none_or(|i| self.fd_arg(i) == AT_FDCWD);
        Some(resolve(self.cwd.as_deref(), path.as_bytes(), relative_to_cwd).unwrap_or(path))
    }
}

/// Converts the records of one kernel event (one serial), in arrival order.
pub fn convert(records: &[Record]) -> Converted {
    let first = &records[0];
    let mut origin = AuditOrigin {
        serial: first.serial(),
        records: records.iter().map(Record::type_name_owned).collect(),
        syscall: None,
    };
    let mut out = Converted {
        time: first.time(),
        origin: AuditOrigin::default(),
        kind: None,
        task: None,
        clone: None,
    };
    let Some(sys) = records.iter().find(|r| r.rtype() == types::SYSCALL) else {
        out.origin = origin;
        return out;
    };
    let f = SysFields::read(sys);
    let arch = Arch::from_audit(f.arch.and_then(|v| v.hex()).unwrap_or_default());
    let nr = f.syscall.and_then(|v| v.dec::<u32>());
    let name = nr.and_then(|nr| arch.syscall_name(nr));
    let success = f.success.map(|v| v.raw() == b"yes");
    let exit = f.exit.and_then(|v| v.dec::<i64>());
    let pid = f.pid.and_then(|v| v.dec::<Pid>());
    let ppid = f.ppid.and_then(|v| v.dec::<Pid>());
    origin.syscall = Some(SyscallInfo {
        // Unknown to our tables (another architecture): auditd's ENRICHED `SYSCALL=` name,
        // else the number.
        name: match (name, sys.enriched("SYSCALL"), nr) {
            (Some(n), _, _) => n.into(),
            (None, Some(v), _) => String::from_utf8_lossy(v.raw()).into_owned().into(),
            (None, None, Some(nr)) => nr.to_string().into(),
            (None, None, None) => "".into(),
        },
        nr: nr.unwrap_or_default(),
        arch: arch.name(),
        success,
        exit,
        ppid,
        uid: f.uid.and_then(|v| v.dec()),
        auid: f.auid.and_then(|v| v.dec()),
        ses: f.ses.and_then(|v| v.dec()),
        comm: f.comm.and_then(|v| v.byte_string()),
        exe: f.exe.and_then(|v| v.byte_string()),
    });
    if let (Some(pid), Some(ppid)) = (pid, ppid) {
        out.task = Some(Task { pid, ppid });
    }
    let (Some(name), Some(pid)) = (name, pid) else {
        out.origin = origin;
        return out;
    };
    let call = Call {
        sys,
        args: f.args.map(|a| a.and_then(|v| v.hex()).unwrap_or_default()),
        name,
        arch,
        success: success.unwrap_or(false),
        exit,
        pid,
        cwd: records
            .iter()
            .find(|r| r.rtype() == types::CWD)
            .and_then(|r| r.get("cwd"))
            .and_then(|v| v.text()),
        paths: records
            .iter()
            .filter(|r| r.rtype() == types::PATH)
            .map(|r| PathItem {
                name: r.get("name").and_then(|v| v.text()),
                nametype: r.get("nametype").map(|v| v.raw()).unwrap_or_default(),
                dev: r.get("dev").map(|v| v.raw()),
            })
            .collect(),
    };
    out.kind = kind(&call, records, ppid);
    if matches!(name, "clone" | "clone3" | "fork" | "vfork") && call.success {
        let kind = match name {
            "clone3" => CloneKind::Either,
            "clone" if call.arg(0) & CLONE_THREAD != 0 => CloneKind::Thread,
            _ => CloneKind::Process,
        };
        if let Some(child) = exit.filter(|&e| e > 0).and_then(|e| Pid::try_from(e).ok()) {
            out.clone = Some(CloneCall {
                parent: pid,
                child_in_ns: child,
                kind,
            });
        }
    }
    out.origin = origin;
    out
}

fn kind(call: &Call<'_>, records: &[Record], ppid: Option<Pid>) -> Option<EventKind> {
    let (pid, tgid) = (call.pid, call.pid);
    let i386 = call.arch == Arch::I386;
    // exit_group never returns: the kernel logs it as the task goes, without `success=` or
    // `exit=`. It ends the whole process (audit's `pid=` is the thread group), so the import
    // can drop what it kept about the process. (Plain `exit` ends one thread; audit does not
    // say which one, so it is not an event.)
    if call.name == "exit_group" {
        return Some(EventKind::Exit(Exit {
            pid,
            tgid,
            exit_code: Some((call.arg(0) & 0xff) as i32),
            signal: None,
        }));
    }
    if !call.success && !matches!(call.name, "open" | "openat" | "openat2" | "creat") {
        return None;
    }
    Some(match call.name {
        "execve" | "execveat" => EventKind::Exec(Exec {
            pid,
            tgid,
            ppid,
            process: exec_process(call, records),
        }),
        "open" | "openat" | "openat2" | "creat" => {
            let flags = match call.name {
                "open" => Some(call.arg(1) as u32),
                "openat" => Some(call.arg(2) as u32),
                "creat" => Some(O_WRONLY | O_CREAT | O_TRUNC),
                _ => None,
            };
            if flags.is_some_and(|f| f & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC) == 0) {
                return None;
            }
            let path = call.object()?;
            let relative_to_cwd = call.name != "openat" || call.fd_arg(0) == AT_FDCWD;
            let resolved = resolve(call.cwd.as_deref(), path.as_bytes(), relative_to_cwd);
            EventKind::Open(Open {
                pid,
                tgid,
                created: call.named(b"CREATE").is_some() && call.success,
                path,
                cwd: call.cwd(),
                resolved,
                flags,
                fd: call.exit_fd(),
            })
        }
        "write" | "pwrite64" | "writev" | "pwritev" | "pwritev2" => {
            let (t, bytes) = (
                records[0].time(),
                call.exit.and_then(|e| u64::try_from(e).ok()),
            );
            EventKind::Write(Write {
                pid,
                tgid,
                fd: call.fd_arg(0),
                path: None,
                count: 1,
                first: t,
                last: t,
                bytes,
            })
        }
        "close" => EventKind::Close(Close {
            pid,
            tgid,
            fd: call.fd_arg(0),
            path: None,
        }),
        "dup" | "dup2" | "dup3" | "fcntl" | "fcntl64" => {
            let new_fd = match call.name {
                "dup2" | "dup3" => call.fd_arg(1),
                "dup" => call.exit_fd()?,
                _ if matches!(call.arg(1), F_DUPFD | F_DUPFD_CLOEXEC) => call.exit_fd()?,
                _ => return None,
            };
            let cloexec = match call.name {
                "dup3" => call.arg(2) as u32 & O_CLOEXEC != 0,
                "fcntl" | "fcntl64" => call.arg(1) == F_DUPFD_CLOEXEC,
                _ => false,
            };
            EventKind::Dup(Dup {
                pid,
                tgid,
                old_fd: call.fd_arg(0),
                new_fd,
                path: None,
                cloexec,
            })
        }
        "close_range" => {
            // The range is two unsigned ints; `~0U` (all above `first`) is past any fd.
            let fd = |n: usize| i32::try_from(call.arg(n) as u32).unwrap_or(i32::MAX);
            EventKind::CloseRange(CloseRange {
                pid,
                tgid,
                first: fd(0),
                last: fd(1),
                cloexec: call.arg(2) & CLOSE_RANGE_CLOEXEC != 0,
            })
        }
        "rename" | "renameat" | "renameat2" => {
            let mut names = call.object_names();
            let (n0, n1) = (names.next(), names.next());
            let from = call.named(b"DELETE").or(n0)?;
            let to = call.named(b"CREATE").or(n1)?;
            EventKind::Rename(Rename {
                pid,
                tgid,
                from: from.into(),
                to: to.into(),
                cwd: call.cwd(),
            })
        }
        "unlink" | "unlinkat" | "rmdir" => EventKind::Unlink(Unlink {
            pid,
            tgid,
            path: call
                .named(b"DELETE")
                .or_else(|| call.object_names().next())?
                .into(),
            cwd: call.cwd(),
            dir: call.name == "rmdir"
                || (call.name == "unlinkat" && call.arg(2) & AT_REMOVEDIR != 0),
        }),
        "truncate" | "truncate64" | "ftruncate" | "ftruncate64" => {
            let by_fd = call.name.starts_with('f');
            let length = if i386 && call.name.ends_with("64") {
                (call.arg(1) & 0xffff_ffff) | (call.arg(2) << 32)
            } else {
                call.arg(1)
            };
            EventKind::Truncate(Truncate {
                pid,
                tgid,
                path: if by_fd {
                    None
                } else {
                    call.object_from_cwd(None)
                },
                fd: by_fd.then(|| call.fd_arg(0)),
                length: Some(length as i64),
            })
        }
        "chmod" | "fchmod" | "fchmodat" | "fchmodat2" => {
            let by_fd = call.name == "fchmod";
            let mode = if call.name.starts_with("fchmodat") {
                call.arg(2)
            } else {
                call.arg(1)
            };
            let dirfd = call.name.starts_with("fchmodat").then_some(0);
            EventKind::Chmod(Chmod {
                pid,
                tgid,
                path: if by_fd {
                    None
                } else {
                    call.object_from_cwd(dirfd)
                },
                fd: by_fd.then(|| call.fd_arg(0)),
                mode: (mode & 0o7777) as u32,
            })
        }
        "chown" | "lchown" | "fchown" | "chown32" | "lchown32" | "fchown32" | "fchownat" => {
            let by_fd = call.name.starts_with("fchown") && call.name != "fchownat";
            let (u, g) = if call.name == "fchownat" {
                (call.arg(2), call.arg(3))
            } else {
                (call.arg(1), call.arg(2))
            };
            // i386's chown/lchown/fchown are the old 16-bit calls: -1 is 0xffff there.
            let unchanged = if i386 && !call.name.ends_with("32") && call.name != "fchownat" {
                0xffff
            } else {
                0xffff_ffff
            };
            let id = |v: u64| Some((v & unchanged) as u32).filter(|&v| u64::from(v) != unchanged);
            let dirfd = (call.name == "fchownat").then_some(0);
            EventKind::Chown(Chown {
                pid,
                tgid,
                path: if by_fd {
                    None
                } else {
                    call.object_from_cwd(dirfd)
                },
                fd: by_fd.then(|| call.fd_arg(0)),
                uid: id(u),
                gid: id(g),
            })
        }
        "pivot_root" => {
            let mut names = call.paths.iter().filter_map(|p| p.name.as_deref());
            let new_root = names.next()?;
            let put_old = names.next();
            EventKind::PivotRoot(PivotRoot {
                pid,
                tgid,
                new_root: resolve(call.cwd.as_deref(), new_root, true)
                    .unwrap_or_else(|| new_root.into()),
                put_old: put_old.map(ByteString::from),
                cwd: call.cwd(),
                new_root_dev: call
                    .paths
                    .first()
                    .and_then(|p| p.dev)
                    .map(|d| String::from_utf8_lossy(d).into_owned()),
            })
        }
        _ => return None,
    })
}

fn exec_process(call: &Call<'_>, records: &[Record]) -> ProcessInfo {
    let mut info = ProcessInfo {
        comm: call.sys.get("comm").and_then(|v| v.byte_string()),
        exe: call.sys.get("exe").and_then(|v| v.byte_string()),
        cwd: call.cwd(),
        uid: call.sys.get("uid").and_then(|v| v.dec()),
        ..ProcessInfo::default()
    };
    let execve: Vec<&Record> = records
        .iter()
        .filter(|r| r.rtype() == types::EXECVE)
        .collect();
    if !execve.is_empty() {
        let (argc, args) = execve_args(&execve);
        info.argc = argc;
        info.args = args;
        info.args_from = Some(ArgsSource::Execve);
    } else if let Some(title) = records
        .iter()
        .find(|r| r.rtype() == types::PROCTITLE)
        .and_then(|r| r.get("proctitle"))
        .and_then(|v| v.text())
    {
        info.args = title.split(|&b| b == 0).map(ByteString::from).collect();
        info.args_from = Some(ArgsSource::Proctitle);
    }
    info
}

/// Reassembles argv from EXECVE records: `aN="text"`, `aN=HEX`, or for a long argument
/// `aN_len=LEN` followed by chunks `aN[0]=...`, `aN[1]=...` (possibly over several records).
/// Arguments are kept in order up to the first one missing (the kernel stops logging when a
/// record budget is exhausted), so `args.len()` can be below `argc`, never above it. Empty
/// arguments (`aN=""`) are kept as empty strings.
fn execve_args(records: &[&Record]) -> (Option<u32>, Vec<ByteString>) {
    let argc = records
        .iter()
        .find_map(|r| r.get("argc"))
        .and_then(|v| v.dec::<u32>());
    let limit = argc.unwrap_or(u32::MAX);
    let mut parts: std::collections::BTreeMap<u32, Vec<u8>> = std::collections::BTreeMap::new();
    for r in records {
        for (key, value) in r.fields() {
            let Some(rest) = key.strip_prefix(b"a") else {
                continue;
            };
            let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
            let Some(idx) = std::str::from_utf8(&rest[..digits])
                .ok()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if idx >= limit {
                continue;
            }
            let tail = &rest[digits..];
            if tail.is_empty() || tail.first() == Some(&b'[') {
                if let Some(text) = value.text() {
                    parts.entry(idx).or_default().extend_from_slice(&text);
                } else if tail.is_empty() {
                    parts.entry(idx).or_default();
                }
            }
        }
    }
    let mut args = Vec::with_capacity(parts.len());
    for (expect, (idx, bytes)) in parts.into_iter().enumerate() {
        if idx as usize != expect {
            break;
        }
        args.push(ByteString::from_bytes(bytes));
    }
    (argc, args)
}

/// `path` made absolute against `cwd` and normalised lexically (`.` and `..` removed, without
/// following symlinks, which audit cannot tell us about). `None` when `path` is relative and
/// either `cwd` is unknown or the path was relative to another directory fd.
pub fn resolve(cwd: Option<&[u8]>, path: &[u8], relative_to_cwd: bool) -> Option<ByteString> {
    let mut parts: Vec<&[u8]> = Vec::new();
    let base: &[u8] = if path.first() == Some(&b'/') {
        b""
    } else if relative_to_cwd {
        let cwd = cwd?;
        if cwd.first() != Some(&b'/') {
            return None;
        }
        cwd
    } else {
        return None;
    };
    for part in base.split(|&b| b == b'/').chain(path.split(|&b| b == b'/')) {
        match part {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let mut out = Vec::with_capacity(base.len() + path.len() + 1);
    for p in &parts {
        out.push(b'/');
        out.extend_from_slice(p);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    Some(ByteString::from_bytes(out))
}

#[cfg(test)]
mod tests;
