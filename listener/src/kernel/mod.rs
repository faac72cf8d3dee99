//! The kernel's sockets: netlink framing ([`netlink`]), the audit netlink session and its rules
//! ([`audit_netlink`]), and the process connector ([`connector`]).

pub mod audit_netlink;
pub mod connector;
pub mod netlink;
