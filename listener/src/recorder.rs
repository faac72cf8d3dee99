//! The recorder's identity and glue: which host and boot the events belong to.

/// The host and boot every event of this run is stamped with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostIdentity {
    /// Host name (`uname -n`).
    pub host: String,
    /// `/proc/sys/kernel/random/boot_id`.
    pub boot_id: String,
}

impl HostIdentity {
    /// Reads the host name and boot id of this machine; unknown parts become `"unknown"`.
    pub fn detect() -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown".into());
        let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown".into());
        Self { host, boot_id }
    }
}
