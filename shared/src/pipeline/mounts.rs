//! Where a file is, from the path a process used: through the container's mounts to the host's
//! name of the file, the overlay's upper directory, and the kind of filesystem it was on.
//!
//! A container's process sees its root filesystem (the storage driver's merged directory) with
//! Docker's mounts on it: binds and volumes (whose files are their source on the host), tmpfs
//! mounts (memory only), and the kernel's pseudo filesystems at `/proc`, `/sys` and `/dev`
//! (whose files are on no disk and never under the merged directory). The longest mount
//! destination that holds the path wins, as in the kernel's mount tree; a mount Docker named
//! wins over a pseudo filesystem at the same place. Without mount facts (events recorded before
//! they were, or without the Docker API) the pseudo filesystems are still known.
//!
//! Lexical only, on bytes: nothing here touches the file system.

use crate::model::mounts::{FsKind, Mount, MountKind};
use crate::model::text::ByteString;
use crate::pipeline::paths::is_rootfs;

/// The pseudo filesystems every container has (and the host too), by mount point.
const PSEUDO: [(&[u8], FsKind); 3] = [
    (b"/proc", FsKind::Proc),
    (b"/sys", FsKind::Sysfs),
    (b"/dev", FsKind::Dev),
];

/// What a container's processes see, as far as the recording knows.
#[derive(Clone, Copy, Debug, Default)]
pub struct ContainerFs<'a> {
    /// The root filesystem as the host sees it (the merged directory), when known.
    pub rootfs: Option<&'a ByteString>,
    /// The storage driver's upper directory (changed bytes), when known.
    pub upper: Option<&'a ByteString>,
    /// The container's mounts (empty when unknown).
    pub mounts: &'a [Mount],
}

/// The filesystem a process sees.
#[derive(Clone, Copy, Debug)]
pub enum View<'a> {
    /// The host's own: a process outside any container, or a container's process before it did
    /// pivot_root (runc init preparing the container).
    Host,
    /// A container's.
    Container(ContainerFs<'a>),
}

/// Where a file is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Location {
    /// The file as the host sees it, when it has a name there that is known.
    pub host: Option<ByteString>,
    /// Its name in the storage driver's upper directory, for a file of a container's root
    /// filesystem whose upper directory is known.
    pub upper: Option<ByteString>,
    /// The kind of filesystem it is on, when known (`None` for a host process's ordinary file).
    pub fs: Option<FsKind>,
}

/// `p` without a trailing `/` (`/` becomes empty: the root holds every path).
fn trim(p: &[u8]) -> &[u8] {
    p.strip_suffix(b"/").unwrap_or(p)
}

/// What is left of `path` below `dest` (`""` for `dest` itself, else `/...`), when `dest` holds
/// it.
fn below<'p>(path: &'p [u8], dest: &[u8]) -> Option<&'p [u8]> {
    path.strip_prefix(trim(dest))
        .filter(|rest| rest.is_empty() || rest.first() == Some(&b'/'))
}

/// `base` + `rest`, as one path.
fn join(base: &[u8], rest: &[u8]) -> ByteString {
    let base = trim(base);
    let mut out = Vec::with_capacity(base.len() + rest.len() + 1);
    out.extend_from_slice(base);
    out.extend_from_slice(rest);
    if out.is_empty() {
        out.push(b'/');
    }
    ByteString::from_bytes(out)
}

/// The pseudo filesystem holding `path`, with the length of its mount point.
fn pseudo(path: &[u8]) -> Option<(usize, FsKind)> {
    PSEUDO
        .iter()
        .find(|(dest, _)| below(path, dest).is_some())
        .map(|&(dest, kind)| (dest.len(), kind))
}

/// Where the file `path` (absolute and clean, as the process saw it) is, for a process that sees
/// `view`. A relative path has no location.
pub fn locate(view: View<'_>, path: &ByteString) -> Location {
    let p = path.as_bytes();
    if p.first() != Some(&b'/') {
        return Location::default();
    }
    let fs = match view {
        View::Host => {
            return Location {
                host: Some(path.clone()),
                upper: None,
                fs: pseudo(p).map(|(_, k)| k),
            };
        }
        View::Container(fs) => fs,
    };
    // The longest destination holding the path; at equal length the later mount (it covers the
    // earlier one).
    let mount = fs
        .mounts
        .iter()
        .filter_map(|m| {
            Some((
                trim(m.destination.as_bytes()).len(),
                m,
                below(p, m.destination.as_bytes())?,
            ))
        })
        .max_by_key(|&(len, _, _)| len);
    let pseudo = pseudo(p);
    match (mount, pseudo) {
        (Some((len, m, rest)), pseudo) if pseudo.is_none_or(|(plen, _)| len >= plen) => {
            let host = match m.kind {
                MountKind::Bind | MountKind::Volume => m
                    .source
                    .as_ref()
                    .filter(|s| s.as_bytes().first() == Some(&b'/'))
                    .map(|s| join(s.as_bytes(), rest)),
                MountKind::Tmpfs | MountKind::Other => None,
            };
            Location {
                host,
                upper: None,
                fs: Some(m.kind.into()),
            }
        }
        (_, Some((_, kind))) => Location {
            host: None,
            upper: None,
            fs: Some(kind),
        },
        (_, None) => {
            let host = fs
                .rootfs
                .filter(|r| is_rootfs(Some(r)))
                .map(|r| join(r.as_bytes(), p));
            let upper = fs
                .upper
                .filter(|u| u.as_bytes().first() == Some(&b'/'))
                .map(|u| join(u.as_bytes(), p));
            let fs = (host.is_some() || upper.is_some()).then_some(FsKind::Rootfs);
            Location { host, upper, fs }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MERGED: &str = "/var/lib/docker/overlay2/abc/merged";
    const UPPER: &str = "/var/lib/docker/overlay2/abc/diff";

    fn mount(kind: MountKind, source: Option<&str>, dest: &str) -> Mount {
        Mount {
            kind,
            source: source.map(ByteString::from),
            destination: dest.into(),
        }
    }

    fn mounts() -> Vec<Mount> {
        vec![
            mount(
                MountKind::Volume,
                Some("/var/lib/docker/volumes/v/_data"),
                "/vol",
            ),
            mount(MountKind::Bind, Some("/srv/site/"), "/bind"),
            mount(MountKind::Bind, Some("/srv/site-logs"), "/bind/logs"),
            mount(MountKind::Tmpfs, None, "/run"),
            mount(MountKind::Other, None, "/pipe"),
            mount(
                MountKind::Bind,
                Some("/var/lib/docker/containers/abc/hosts"),
                "/etc/hosts",
            ),
            mount(MountKind::Bind, Some("/host/dev/log"), "/dev/log"),
        ]
    }

    fn at(m: &[Mount], rootfs: Option<&str>, upper: Option<&str>, path: &str) -> Location {
        let (r, u) = (rootfs.map(ByteString::from), upper.map(ByteString::from));
        let view = View::Container(ContainerFs {
            rootfs: r.as_ref(),
            upper: u.as_ref(),
            mounts: m,
        });
        locate(view, &path.into())
    }

    fn loc(host: Option<&str>, upper: Option<&str>, fs: Option<FsKind>) -> Location {
        Location {
            host: host.map(ByteString::from),
            upper: upper.map(ByteString::from),
            fs,
        }
    }

    #[test]
    fn rootfs_paths_get_the_merged_and_the_upper_directory() {
        let m = mounts();
        assert_eq!(
            at(&m, Some(MERGED), Some(UPPER), "/tmp/c.txt"),
            loc(
                Some("/var/lib/docker/overlay2/abc/merged/tmp/c.txt"),
                Some("/var/lib/docker/overlay2/abc/diff/tmp/c.txt"),
                Some(FsKind::Rootfs)
            )
        );
        // A trailing slash on the rootfs; no upper directory known (an older recording).
        assert_eq!(
            at(&[], Some("/r/merged/"), None, "/etc/x"),
            loc(Some("/r/merged/etc/x"), None, Some(FsKind::Rootfs))
        );
        // Neither known: nothing, not even the kind.
        assert_eq!(at(&[], None, None, "/etc/x"), loc(None, None, None));
        // A rootfs of `/` is not a container's.
        assert_eq!(at(&[], Some("/"), None, "/etc/x"), loc(None, None, None));
    }

    #[test]
    fn binds_and_volumes_map_to_their_source_longest_destination_first() {
        let m = mounts();
        let at = |p| at(&m, Some(MERGED), Some(UPPER), p);
        assert_eq!(
            at("/vol/a.txt"),
            loc(
                Some("/var/lib/docker/volumes/v/_data/a.txt"),
                None,
                Some(FsKind::Volume)
            )
        );
        assert_eq!(
            at("/vol"),
            loc(
                Some("/var/lib/docker/volumes/v/_data"),
                None,
                Some(FsKind::Volume)
            )
        );
        assert_eq!(
            at("/bind/b.txt"),
            loc(Some("/srv/site/b.txt"), None, Some(FsKind::Bind))
        );
        assert_eq!(
            at("/bind/logs/x.log"),
            loc(Some("/srv/site-logs/x.log"), None, Some(FsKind::Bind))
        );
        assert_eq!(
            at("/etc/hosts"),
            loc(
                Some("/var/lib/docker/containers/abc/hosts"),
                None,
                Some(FsKind::Bind)
            )
        );
        // A name that only starts like a destination is not below it.
        assert_eq!(
            at("/volume/x"),
            loc(
                Some("/var/lib/docker/overlay2/abc/merged/volume/x"),
                Some("/var/lib/docker/overlay2/abc/diff/volume/x"),
                Some(FsKind::Rootfs)
            )
        );
        // Mounts are known without the rootfs.
        assert_eq!(
            super::tests::at(&m, None, None, "/vol/a"),
            loc(
                Some("/var/lib/docker/volumes/v/_data/a"),
                None,
                Some(FsKind::Volume)
            )
        );
    }

    #[test]
    fn tmpfs_and_other_mounts_have_no_host_path() {
        let m = mounts();
        assert_eq!(
            at(&m, Some(MERGED), Some(UPPER), "/run/x.pid"),
            loc(None, None, Some(FsKind::Tmpfs))
        );
        assert_eq!(
            at(&m, Some(MERGED), Some(UPPER), "/pipe/x"),
            loc(None, None, Some(FsKind::Mount))
        );
    }

    #[test]
    fn pseudo_filesystems_are_never_under_the_merged_directory() {
        let m = mounts();
        for (path, kind) in [
            ("/dev/null", FsKind::Dev),
            ("/dev/shm/seg", FsKind::Dev),
            ("/dev/pts/0", FsKind::Dev),
            ("/dev/mqueue/q", FsKind::Dev),
            ("/dev", FsKind::Dev),
            ("/proc/self/comm", FsKind::Proc),
            ("/sys/fs/cgroup/cpu.max", FsKind::Sysfs),
        ] {
            for facts in [&m[..], &[]] {
                assert_eq!(
                    at(facts, Some(MERGED), Some(UPPER), path),
                    loc(None, None, Some(kind)),
                    "{path}"
                );
            }
        }
        // `/device` and `/process` are ordinary names.
        assert_eq!(
            at(&[], Some(MERGED), None, "/device").fs,
            Some(FsKind::Rootfs)
        );
        assert_eq!(
            at(&[], Some(MERGED), None, "/process").fs,
            Some(FsKind::Rootfs)
        );
        // A bind below `/dev` wins over the pseudo filesystem.
        assert_eq!(
            at(&m, Some(MERGED), None, "/dev/log"),
            loc(Some("/host/dev/log"), None, Some(FsKind::Bind))
        );
    }

    #[test]
    fn host_processes_keep_their_paths_and_pseudo_marks() {
        let host = |p: &str| locate(View::Host, &p.into());
        assert_eq!(host("/tmp/x"), loc(Some("/tmp/x"), None, None));
        assert_eq!(
            host("/proc/1/status"),
            loc(Some("/proc/1/status"), None, Some(FsKind::Proc))
        );
        assert_eq!(
            host("/dev/null"),
            loc(Some("/dev/null"), None, Some(FsKind::Dev))
        );
        assert_eq!(
            host("/sys/x"),
            loc(Some("/sys/x"), None, Some(FsKind::Sysfs))
        );
        assert_eq!(host("relative"), Location::default());
    }
}
