//! `godo`'s library: everything between the kernel's words and the event sinks.
//!
//! * [`audit`]: audit record parsing and event assembly (pure);
//! * [`import`]: `godo --audit-log FILE`, the offline import of an auditd log.

pub mod audit;
pub mod import;
