//! `godo`'s library: everything between the kernel's words and the event sinks.
//!
//! * [`audit`]: audit record parsing and event assembly (pure);
//! * [`import`]: `godo --audit-log FILE`, the offline import of an auditd log;
//! * the live sources: [`audit_netlink`] (audit socket, rules, settings), [`connector`] (the
//!   process connector), [`snapshot`] (the start-up walk of `/proc`), [`proc_info`] (`/proc`
//!   enrichment), [`docker`] (container names from the Docker API);
//! * [`fd_table`] (pure): paths for writes, closes and dups, and write coalescing;
//! * [`recorder`]: the thread that turns inputs into events; [`sink`]: the output stage
//!   (run/seq stamps, capture file, MongoDB with a bounded backlog).

pub mod audit;
pub mod audit_netlink;
pub mod connector;
pub mod docker;
pub mod fd_table;
pub mod import;
pub mod netlink;
pub mod proc_info;
pub mod recorder;
pub mod sink;
pub mod snapshot;
