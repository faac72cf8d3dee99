//! Syscall numbers to names for the architectures audit reports on an x86_64 host.
//!
//! The tables (in `tables.rs`) are generated from the kernel headers by
//! `listener/tools/gen-audit-tables.py`; see that script for the sources. The audit `arch=` field
//! is the `AUDIT_ARCH_*` constant: `c000003e` for x86_64, `40000003` for i386 (a 32-bit program,
//! or the int 0x80 entry of a 64-bit one).

use super::tables::{I386, X86_64};

/// `AUDIT_ARCH_X86_64`.
pub const AUDIT_ARCH_X86_64: u64 = 0xc000_003e;
/// `AUDIT_ARCH_I386`.
pub const AUDIT_ARCH_I386: u64 = 0x4000_0003;

/// An audit architecture.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Arch {
    /// 64-bit x86.
    X86_64,
    /// 32-bit x86.
    I386,
    /// Any other `arch=` value (kept as the raw number).
    Other(u64),
}

impl Arch {
    /// From the `arch=` value of a SYSCALL record.
    pub fn from_audit(value: u64) -> Self {
        match value {
            AUDIT_ARCH_X86_64 => Arch::X86_64,
            AUDIT_ARCH_I386 => Arch::I386,
            other => Arch::Other(other),
        }
    }

    /// The name stored in events: `x86_64`, `i386`, or the raw hex value.
    pub fn name(self) -> dockwatch_shared::model::event::Name {
        match self {
            Arch::X86_64 => "x86_64".into(),
            Arch::I386 => "i386".into(),
            Arch::Other(v) => format!("{v:x}").into(),
        }
    }

    /// The `AUDIT_ARCH_*` value of a known architecture (what audit rules filter on).
    pub fn audit_value(self) -> u32 {
        match self {
            Arch::X86_64 => AUDIT_ARCH_X86_64 as u32,
            Arch::I386 => AUDIT_ARCH_I386 as u32,
            Arch::Other(v) => v as u32,
        }
    }

    /// The number of syscall `name` on this architecture, if its table has it.
    pub fn syscall_number(self, name: &str) -> Option<u32> {
        let table: &[&str] = match self {
            Arch::X86_64 => &X86_64,
            Arch::I386 => &I386,
            Arch::Other(_) => return None,
        };
        let nr = table.iter().position(|&n| n == name)?;
        u32::try_from(nr).ok()
    }

    /// The syscall's name, if this architecture's table has the number.
    pub fn syscall_name(self, nr: u32) -> Option<&'static str> {
        let table: &[&str] = match self {
            Arch::X86_64 => &X86_64,
            Arch::I386 => &I386,
            Arch::Other(_) => return None,
        };
        table
            .get(usize::try_from(nr).ok()?)
            .copied()
            .filter(|n| !n.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x86_64_and_i386_tables_differ_where_the_kernel_says() {
        let x = Arch::from_audit(0xc000003e);
        let i = Arch::from_audit(0x40000003);
        assert_eq!(x.syscall_name(59), Some("execve"));
        assert_eq!(x.syscall_name(257), Some("openat"));
        assert_eq!(x.syscall_name(155), Some("pivot_root"));
        assert_eq!(x.syscall_name(435), Some("clone3"));
        assert_eq!(x.syscall_name(452), Some("fchmodat2"));
        assert_eq!(i.syscall_name(11), Some("execve"));
        assert_eq!(i.syscall_name(5), Some("open"));
        assert_eq!(i.syscall_name(120), Some("clone"));
        assert_eq!(i.syscall_name(212), Some("chown32"));
        assert_eq!(i.syscall_name(217), Some("pivot_root"));
        assert_eq!(x.syscall_name(100_000), None);
        assert_eq!(Arch::from_audit(0xc00000b7).syscall_name(1), None);
        assert_eq!(Arch::from_audit(0xc00000b7).name(), "c00000b7");
    }
}
