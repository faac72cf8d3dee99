//! The recorder behind `godo`: the kernel sources (audit netlink, the process connector, the
//! start-up walk of `/proc`), what turns them into [`dockwatch_shared::Event`]s (audit record
//! parsing and assembly, process enrichment, fd tracking), and the output stage (MongoDB and
//! capture file with a bounded backlog). [`import`] is the offline path: an auditd log file
//! instead of the kernel.
//!
//! Pure parts ([`audit`], [`proc_info`]'s parsers, [`fd_paths`]) have no I/O and are tested with
//! plain data; the sockets live in [`connector`] and [`audit_netlink`].

pub mod audit;
pub mod audit_netlink;
pub mod connector;
pub mod docker;
pub mod fd_paths;
pub mod import;
pub mod netlink;
pub mod proc_info;
pub mod recorder;
pub mod sink;
pub mod snapshot;
