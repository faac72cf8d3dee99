//! Where a container's paths live: the mounts Docker gave the container (recorded from the
//! Docker Engine API in the [`Container`](crate::model::event::Container) event), and the kind
//! of filesystem a file's path was on ([`FsKind`], in the investigation's file records).

use serde::{Deserialize, Serialize};

use crate::model::text::ByteString;

/// The kind of a mount Docker made in a container.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    /// A host file or directory bound into the container (`-v /host/dir:/dest`, and the files
    /// Docker itself binds: `/etc/hosts`, `/etc/resolv.conf`, `/etc/hostname`).
    #[default]
    Bind,
    /// A Docker volume (`-v NAME:/dest`); its source is the volume's directory on the host.
    Volume,
    /// A tmpfs (`--tmpfs /dest`, `--mount type=tmpfs`): memory only, no host path.
    Tmpfs,
    /// Another kind (a named pipe, a cluster volume, an image mount...): its files have no host
    /// path the recorder knows.
    #[serde(other)]
    Other,
}

impl MountKind {
    /// The kind from Docker's `Type` of a mount (`bind`, `volume`, `tmpfs`, ...).
    pub fn from_docker(kind: &str) -> Self {
        match kind {
            "bind" => Self::Bind,
            "volume" => Self::Volume,
            "tmpfs" => Self::Tmpfs,
            _ => Self::Other,
        }
    }
}

/// One mount of a container: what is found at `destination` inside it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// What kind of mount it is.
    pub kind: MountKind,
    /// The mount's source as the host sees it (a bind's host path, a volume's directory), when
    /// it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ByteString>,
    /// Where it is mounted, as the container's processes see it.
    pub destination: ByteString,
}

/// The kind of filesystem a file's path was on, as the process that used it saw it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FsKind {
    /// The container's root filesystem (the storage driver's merged directory; changed bytes
    /// are in its upper directory).
    Rootfs,
    /// A bind mount: the file is the bind's source on the host.
    Bind,
    /// A Docker volume: the file is in the volume's directory on the host.
    Volume,
    /// A tmpfs: memory only, no host path.
    Tmpfs,
    /// A mount of another kind: no host path the recorder knows.
    Mount,
    /// The kernel's process filesystem (`/proc`): not a file on any disk.
    Proc,
    /// The kernel's sysfs (`/sys`): not a file on any disk.
    Sysfs,
    /// Devices (`/dev`, with `/dev/shm`, `/dev/pts` and `/dev/mqueue`): not a file under the
    /// container's root filesystem.
    Dev,
}

impl FsKind {
    /// Every kind, in the order of the enum.
    pub const ALL: [FsKind; 8] = [
        FsKind::Rootfs,
        FsKind::Bind,
        FsKind::Volume,
        FsKind::Tmpfs,
        FsKind::Mount,
        FsKind::Proc,
        FsKind::Sysfs,
        FsKind::Dev,
    ];

    /// The kind's name, as the JSON documents and the text report show it.
    pub const fn name(self) -> &'static str {
        match self {
            FsKind::Rootfs => "rootfs",
            FsKind::Bind => "bind",
            FsKind::Volume => "volume",
            FsKind::Tmpfs => "tmpfs",
            FsKind::Mount => "mount",
            FsKind::Proc => "proc",
            FsKind::Sysfs => "sysfs",
            FsKind::Dev => "dev",
        }
    }

    /// True for the kernel's pseudo filesystems (`/proc`, `/sys`, `/dev`), whose files are not
    /// on any disk.
    pub const fn is_pseudo(self) -> bool {
        matches!(self, FsKind::Proc | FsKind::Sysfs | FsKind::Dev)
    }
}

impl From<MountKind> for FsKind {
    fn from(k: MountKind) -> Self {
        match k {
            MountKind::Bind => FsKind::Bind,
            MountKind::Volume => FsKind::Volume,
            MountKind::Tmpfs => FsKind::Tmpfs,
            MountKind::Other => FsKind::Mount,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fs_kind_is_named_as_its_json_form() {
        for k in FsKind::ALL {
            assert_eq!(serde_json::to_value(k).expect("encodes"), k.name(), "{k:?}");
        }
    }

    #[test]
    fn mount_kinds_read_docker_types_and_unknown_ones() {
        assert_eq!(MountKind::from_docker("volume"), MountKind::Volume);
        assert_eq!(MountKind::from_docker("npipe"), MountKind::Other);
        let m: Mount =
            serde_json::from_str(r#"{"kind":"cluster","destination":"/x"}"#).expect("decodes");
        assert_eq!(m.kind, MountKind::Other);
        assert_eq!(m.source, None);
    }
}
