//! The recorder behind `godo`, in four layers:
//!
//! * [`kernel`]: the sockets: netlink, the audit netlink session and its rules, the process
//!   connector;
//! * [`enrich`]: what `/proc`, Docker and the fd tables add to a process: args, cwd, rootfs,
//!   container, the paths of fds, the start-up walk of `/proc`;
//! * [`recording`]: what turns kernel messages into [`dockwatch_shared::Event`]s (audit record
//!   parsing and assembly, syscall tables) and the recorder that orders and numbers them;
//! * [`output`]: MongoDB and the capture file, with a bounded backlog.
//!
//! Two ways to run it: [`live`] records this host from the kernel; [`import`] reads auditd log
//! files instead. Pure parts (audit parsing and assembly, `/proc` parsers, fd paths) have no
//! I/O and are tested with plain data.

pub mod enrich;
pub mod import;
pub mod kernel;
pub mod live;
pub mod output;
pub mod recording;
