//! What the fold knows of a process's program: its [`Info`] (name, executable, arguments,
//! directories, container, Docker role), which of those fields it holds from its parent at fork
//! ([`Inherited`]), and its exec history.

use std::rc::Rc;

use crate::model::event::{DockerRole, ProcessInfo};
use crate::model::investigation::ExecRecord;
use crate::model::text::ByteString;

/// Which of a process's [`Info`] fields it holds from its parent at fork, not from its own
/// exec, snapshot, `/proc` read or records (a forked child that never exec'd, or whose `/proc`
/// was gone before it could be read). A set of bits, one per field.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Inherited(u8);

impl Inherited {
    /// The kernel's short name of the task (`comm`, at most 15 bytes).
    pub const COMM: u8 = 1;
    /// `exe`.
    pub const EXE: u8 = 1 << 1;
    /// `args`.
    pub const ARGS: u8 = 1 << 2;
    /// `cwd`.
    pub const CWD: u8 = 1 << 3;
    /// `root`.
    pub const ROOT: u8 = 1 << 4;
    /// `container_id`.
    pub const CONTAINER: u8 = 1 << 5;
    const NAMES: [(u8, &'static str); 6] = [
        (Self::COMM, "comm"),
        (Self::EXE, "exe"),
        (Self::ARGS, "args"),
        (Self::CWD, "cwd"),
        (Self::ROOT, "rootfs"),
        (Self::CONTAINER, "container_id"),
    ];

    /// The fields of `info` that are known.
    pub(super) fn known_in(info: &Info) -> u8 {
        let mut bits = 0;
        for (bit, known) in [
            (Self::COMM, info.comm.is_some()),
            (Self::EXE, info.exe.is_some()),
            (Self::ARGS, !info.args.is_empty()),
            (Self::CWD, info.cwd.is_some()),
            (Self::ROOT, info.root.is_some()),
            (Self::CONTAINER, info.container_id.is_some()),
        ] {
            if known {
                bits |= bit;
            }
        }
        bits
    }

    /// The fields `p` tells.
    pub(super) fn told_by(p: &ProcessInfo) -> u8 {
        let mut bits = 0;
        for (bit, known) in [
            (Self::COMM, p.comm.is_some()),
            (Self::EXE, p.exe.is_some()),
            (Self::ARGS, !p.args.is_empty()),
            (Self::CWD, p.cwd.is_some()),
            (Self::ROOT, p.root.is_some()),
            (Self::CONTAINER, p.container_id.is_some()),
        ] {
            if known {
                bits |= bit;
            }
        }
        bits
    }

    /// Marks `bits` as inherited.
    pub fn add(&mut self, bits: u8) {
        self.0 |= bits;
    }

    /// Marks `bits` as the process's own.
    pub fn clear(&mut self, bits: u8) {
        self.0 &= !bits;
    }

    /// Whether field `bit` is inherited.
    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    /// The names of the inherited fields, as the report calls them.
    pub fn names(self) -> Vec<String> {
        Self::NAMES
            .iter()
            .filter(|(bit, _)| self.has(*bit))
            .map(|(_, name)| (*name).to_owned())
            .collect()
    }
}

/// What is known of a process's program; kept on the leader task of each process.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Info {
    /// The kernel's short name of the task (`comm`, at most 15 bytes).
    pub comm: Option<ByteString>,
    /// Executable path.
    pub exe: Option<ByteString>,
    /// Arguments.
    pub args: Vec<ByteString>,
    /// Working directory.
    pub cwd: Option<ByteString>,
    /// Root directory as the host sees it.
    pub root: Option<ByteString>,
    /// Docker container id.
    pub container_id: Option<String>,
    /// The Docker daemon.
    pub star: bool,
    /// Its part in Docker.
    pub role: Option<DockerRole>,
}

pub(super) fn is_slash(root: &ByteString) -> bool {
    root.as_bytes() == b"/"
}

impl Info {
    /// What a forked child has of its parent before it execs: everything but the Docker role,
    /// which belongs to the program the parent was started as. Shared, not copied, when the
    /// parent has no role (most forks; the child's exec replaces it soon).
    pub fn inherited(parent: &Rc<Info>) -> Rc<Info> {
        if !parent.star && parent.role.is_none() {
            return Rc::clone(parent);
        }
        Rc::new(Info {
            star: false,
            role: None,
            ..Info::clone(parent)
        })
    }

    /// [`Info::apply`] on a shared `Info`: copies only what `p` does not replace (an exec
    /// replaces the program, its arguments and its directory) when others still share it.
    pub fn apply_shared(info: &mut Rc<Info>, p: ProcessInfo) {
        if let Some(own) = Rc::get_mut(info) {
            own.apply(p);
            return;
        }
        let old = &**info;
        let mut new = Info {
            comm: if p.comm.is_some() {
                None
            } else {
                old.comm.clone()
            },
            exe: if p.exe.is_some() {
                None
            } else {
                old.exe.clone()
            },
            args: if p.args.is_empty() {
                old.args.clone()
            } else {
                Vec::new()
            },
            cwd: if p.cwd.is_some() {
                None
            } else {
                old.cwd.clone()
            },
            root: old.root.clone(),
            container_id: if p.container_id.is_some() {
                None
            } else {
                old.container_id.clone()
            },
            star: old.star,
            role: old.role,
        };
        new.apply(p);
        *info = Rc::new(new);
    }

    /// Takes what `p` knows: every field it has replaces ours, except that a root of `/` (what
    /// `/proc` shows for a process inside another mount namespace) never hides a known rootfs.
    pub fn apply(&mut self, p: ProcessInfo) {
        if p.comm.is_some() {
            self.comm = p.comm;
        }
        if p.exe.is_some() {
            self.exe = p.exe;
        }
        if !p.args.is_empty() {
            self.args = p.args;
        }
        if p.cwd.is_some() {
            self.cwd = p.cwd;
        }
        if let Some(root) = p.root {
            let hides_rootfs = is_slash(&root) && self.root.as_ref().is_some_and(|r| !is_slash(r));
            if !hides_rootfs {
                self.root = Some(root);
            }
        }
        if p.container_id.is_some() {
            self.container_id = p.container_id;
        }
        self.star |= p.star;
        if p.role.is_some() {
            self.role = p.role;
        }
    }

    /// Fills the fields this `Info` lacks from `parent`'s (a forked child holds its parent's
    /// program, arguments, directories and container until it execs); returns the
    /// [`Inherited`] bits of the fields filled.
    pub fn fill_from(&mut self, parent: &Info) -> u8 {
        let mut bits = 0;
        if self.comm.is_none() && parent.comm.is_some() {
            self.comm.clone_from(&parent.comm);
            bits |= Inherited::COMM;
        }
        if self.exe.is_none() && parent.exe.is_some() {
            self.exe.clone_from(&parent.exe);
            bits |= Inherited::EXE;
        }
        if self.args.is_empty() && !parent.args.is_empty() {
            self.args.clone_from(&parent.args);
            bits |= Inherited::ARGS;
        }
        if self.cwd.is_none() && parent.cwd.is_some() {
            self.cwd.clone_from(&parent.cwd);
            bits |= Inherited::CWD;
        }
        if self.root.is_none() && parent.root.is_some() {
            self.root.clone_from(&parent.root);
            bits |= Inherited::ROOT;
        }
        if self.container_id.is_none() && parent.container_id.is_some() {
            self.container_id.clone_from(&parent.container_id);
            bits |= Inherited::CONTAINER;
        }
        bits
    }

    /// Applies a fork's view of a child to a task already seen through the child's own events:
    /// the program (comm, exe, args) that an exec already named is kept, since the fork's view
    /// may have been read before that exec; the rest is applied as by [`Info::apply`].
    pub fn apply_fork_view(&mut self, p: ProcessInfo) {
        let (comm, exe, args) = (
            self.comm.take(),
            self.exe.take(),
            std::mem::take(&mut self.args),
        );
        self.apply(p);
        if comm.is_some() {
            self.comm = comm;
        }
        if exe.is_some() {
            self.exe = exe;
        }
        if !args.is_empty() {
            self.args = args;
        }
    }
}

/// Adds an exec to a process's history; returns the index of its entry.
///
/// The kernel's exec is reported twice: by audit, with the arguments of the `execve` call, and
/// by the process connector (`kernel`), with the exact time and what `/proc` showed when it was
/// read, which may already be a later program. Audit's coarse clock puts its report first (up
/// to [`AUDIT_CLOCK_SLACK`] before the connector's). So a connector report completes the
/// latest entry within that slack whatever program it names (a report of the same exec, whose
/// `/proc` view is not trusted to tell programs apart), and only starts an entry when there is
/// none (audit lost the record). An audit report completes an entry of the same program within
/// the slack (a connector report that came first), else starts one. An entry keeps the
/// earliest time.
///
/// [`AUDIT_CLOCK_SLACK`]: crate::pipeline::AUDIT_CLOCK_SLACK
pub(super) fn record_exec(execs: &mut Vec<ExecRecord>, new: ExecRecord, kernel: bool) -> usize {
    let same_program = |e: &ExecRecord| {
        let same_exe = match (&e.exe, &new.exe) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        let same_args = match (e.args.first(), new.args.first()) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        same_exe && same_args
    };
    let slack = crate::pipeline::AUDIT_CLOCK_SLACK.0;
    let found = execs
        .iter()
        .enumerate()
        .rev()
        .take_while(|(_, e)| (new.time.0 - e.time.0).abs() <= slack)
        .find(|(_, e)| kernel || same_program(e))
        .map(|(i, _)| i);
    let Some(i) = found else {
        execs.push(new);
        return execs.len() - 1;
    };
    let entry = &mut execs[i];
    entry.time = entry.time.min(new.time);
    if entry.exe.is_none() && !kernel {
        entry.exe = new.exe;
    }
    if entry.args.is_empty() && !kernel {
        entry.args = new.args;
    }
    i
}
