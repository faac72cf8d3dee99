//! The rule policy: which syscalls godo audits and how each is filtered, and the
//! `struct audit_rule_data` layout the kernel takes them in.

use crate::recording::audit::syscalls::Arch;

pub(super) const AUDIT_FILTER_EXIT: u32 = 0x04;
pub(super) const AUDIT_ALWAYS: u32 = 2;
pub(super) const AUDIT_BITMASK_SIZE: usize = 64;
pub(super) const AUDIT_MAX_FIELDS: usize = 64;

pub(super) const F_PID: u32 = 0;
pub(super) const F_ARCH: u32 = 11;
pub(super) const F_SUCCESS: u32 = 104;
pub(super) const F_ARG1: u32 = 201;
pub(super) const F_ARG2: u32 = 202;
pub(super) const F_FILTERKEY: u32 = 210;

pub(super) const OP_EQUAL: u32 = 0x4000_0000;
pub(super) const OP_NOT_EQUAL: u32 = 0x3000_0000;
pub(super) const OP_BIT_MASK: u32 = 0x0800_0000;

/// The key every rule of ours carries (`auditctl -l` shows `-k dockwatch`).
pub const RULE_KEY: &str = "dockwatch";

/// `O_WRONLY | O_RDWR | O_CREAT | O_TRUNC`: an open with write intent has one of these.
pub(super) const WRITE_INTENT: u32 = 0o1103;
/// `F_DUPFD` and `F_DUPFD_CLOEXEC`: the fcntl commands that duplicate an fd.
pub(super) const F_DUPFD: u32 = 0;
pub(super) const F_DUPFD_CLOEXEC: u32 = 1030;

/// One audit rule (`struct audit_rule_data`), built field by field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    mask: [u32; AUDIT_BITMASK_SIZE],
    pub(super) fields: Vec<(u32, u32, u32)>,
    pub(super) buf: Vec<u8>,
}

impl Rule {
    /// An exit-filter "always" rule for `arch` and these syscall numbers.
    pub fn syscalls(arch: u32, nrs: &[u32]) -> Self {
        let mut mask = [0u32; AUDIT_BITMASK_SIZE];
        for &nr in nrs {
            if let Some(word) = mask.get_mut(nr as usize / 32) {
                *word |= 1 << (nr % 32);
            }
        }
        Self {
            mask,
            fields: vec![(F_ARCH, OP_EQUAL, arch)],
            buf: Vec::new(),
        }
    }

    /// Adds a field comparison.
    pub fn field(mut self, field: u32, op: u32, value: u32) -> Self {
        self.fields.push((field, op, value));
        self
    }

    /// Adds the filter key (a string field).
    pub fn key(mut self, key: &str) -> Self {
        self.fields.push((F_FILTERKEY, OP_EQUAL, key.len() as u32));
        self.buf.extend_from_slice(key.as_bytes());
        self
    }

    /// Whether syscall `nr` is in the rule.
    pub fn has_syscall(&self, nr: u32) -> bool {
        self.mask
            .get(nr as usize / 32)
            .is_some_and(|w| w & (1 << (nr % 32)) != 0)
    }

    /// The `struct audit_rule_data` bytes the kernel takes (and needs again, identical, to delete).
    pub fn encode(&self) -> Vec<u8> {
        let n = self.fields.len().min(AUDIT_MAX_FIELDS);
        let mut fields = [0u32; AUDIT_MAX_FIELDS];
        let mut values = [0u32; AUDIT_MAX_FIELDS];
        let mut flags = [0u32; AUDIT_MAX_FIELDS];
        for (i, &(f, op, v)) in self.fields.iter().take(n).enumerate() {
            fields[i] = f;
            values[i] = v;
            flags[i] = op;
        }
        let mut out = Vec::with_capacity(
            16 + 4 * (AUDIT_BITMASK_SIZE + 3 * AUDIT_MAX_FIELDS) + self.buf.len(),
        );
        for v in [AUDIT_FILTER_EXIT, AUDIT_ALWAYS, n as u32] {
            out.extend_from_slice(&v.to_ne_bytes());
        }
        for arr in [&self.mask[..], &fields[..], &values[..], &flags[..]] {
            for v in arr {
                out.extend_from_slice(&v.to_ne_bytes());
            }
        }
        out.extend_from_slice(&(self.buf.len() as u32).to_ne_bytes());
        out.extend_from_slice(&self.buf);
        out
    }
}

/// The syscalls audited on one architecture, by name (numbers come from the generated syscall
/// tables), grouped by how the rules filter them.
pub(super) struct Table {
    pub(super) arch: Arch,
    pub(super) exec: &'static [&'static str],
    /// `open`, filtered on its flags in argument 1.
    pub(super) open: &'static str,
    /// `openat`, filtered on its flags in argument 2.
    pub(super) openat: &'static str,
    pub(super) create: &'static [&'static str],
    pub(super) fcntl: &'static [&'static str],
    pub(super) rest: &'static [&'static str],
}

/// Audited on success on both architectures (beside their own names below).
pub(super) const REST: &[&str] = &[
    "write",
    "writev",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "close",
    "close_range",
    "dup",
    "dup2",
    "dup3",
    "rename",
    "renameat",
    "renameat2",
    "unlink",
    "unlinkat",
    "rmdir",
    "truncate",
    "ftruncate",
    "chmod",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "pivot_root",
    "clone",
    "fork",
    "vfork",
    "clone3",
];

pub(super) const X86_64: Table = Table {
    arch: Arch::X86_64,
    exec: &["execve", "execveat"],
    open: "open",
    openat: "openat",
    create: &["creat", "openat2"],
    fcntl: &["fcntl"],
    rest: &[],
};

pub(super) const I386: Table = Table {
    arch: Arch::I386,
    exec: &["execve", "execveat"],
    open: "open",
    openat: "openat",
    create: &["creat", "openat2"],
    fcntl: &["fcntl", "fcntl64"],
    // The 64-bit and 32-bit-id variants the i386 table has besides the common names.
    rest: &[
        "truncate64",
        "ftruncate64",
        "chown32",
        "lchown32",
        "fchown32",
    ],
};

impl Table {
    /// The numbers of `names` on this table's architecture. Every name is in the generated
    /// tables (a test checks it); one that is not would only be left out of the rule.
    fn numbers<'a>(&self, names: impl IntoIterator<Item = &'a &'a str>) -> Vec<u32> {
        names
            .into_iter()
            .filter_map(|n| self.arch.syscall_number(n))
            .collect()
    }

    fn rule(&self, names: &[&str]) -> Rule {
        Rule::syscalls(self.arch.audit_value(), &self.numbers(names))
    }
}

/// The rules the event model needs, for x86_64 and i386, excluding the processes in
/// `exclude_pids` (godo itself and the local database server, so their own writes do not feed
/// back into the log). Successful calls only, except exec (a failed exec attempt is evidence).
/// Opens are only audited with write intent (`O_WRONLY|O_RDWR|O_CREAT|O_TRUNC` in the flags),
/// fcntl only for `F_DUPFD`/`F_DUPFD_CLOEXEC`.
pub fn rules(exclude_pids: &[u32]) -> Vec<Rule> {
    let mut out = Vec::new();
    for t in [&X86_64, &I386] {
        let ok = |r: Rule| r.field(F_SUCCESS, OP_EQUAL, 1);
        let rest: Vec<&str> = REST.iter().chain(t.rest).copied().collect();
        let mut group = vec![
            t.rule(t.exec),
            ok(t.rule(&[t.open]).field(F_ARG1, OP_BIT_MASK, WRITE_INTENT)),
            ok(t.rule(&[t.openat]).field(F_ARG2, OP_BIT_MASK, WRITE_INTENT)),
            ok(t.rule(t.create)),
            ok(t.rule(t.fcntl).field(F_ARG1, OP_EQUAL, F_DUPFD)),
            ok(t.rule(t.fcntl).field(F_ARG1, OP_EQUAL, F_DUPFD_CLOEXEC)),
            ok(t.rule(&rest)),
        ];
        for r in &mut group {
            for &pid in exclude_pids.iter().take(AUDIT_MAX_FIELDS - 8) {
                r.fields.push((F_PID, OP_NOT_EQUAL, pid));
            }
            r.fields
                .push((F_FILTERKEY, OP_EQUAL, RULE_KEY.len() as u32));
            r.buf.extend_from_slice(RULE_KEY.as_bytes());
        }
        out.extend(group);
    }
    out
}
