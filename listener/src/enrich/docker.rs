//! Docker metadata: when a new container id shows up, ask the Docker Engine API (bollard) for
//! the container's name, image, creation time, root filesystem (the storage driver's merged
//! directory) and upper directory, and its mounts (binds, volumes, tmpfs, and the files Docker
//! binds itself: `/etc/hosts`, `/etc/resolv.conf`, `/etc/hostname`), and record a [`Container`]
//! event. Without a reachable `/var/run/docker.sock` the recorder goes on without names.

use std::collections::HashSet;

use bollard::Docker;
use bollard::models::ContainerInspectResponse;
use dockwatch_shared::model::event::{Container, Event, EventKind, Source};
use dockwatch_shared::model::mounts::{Mount, MountKind};
use dockwatch_shared::{ByteString, Timestamp};

use crate::recording::recorder::HostIdentity;

/// The Docker daemon's default socket.
pub const DOCKER_SOCKET: &str = "/var/run/docker.sock";

/// Asks the Docker Engine API about containers, each id once.
pub struct DockerLookup {
    docker: Option<Docker>,
    id: HostIdentity,
    asked: HashSet<String>,
}

impl std::fmt::Debug for DockerLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerLookup")
            .field("connected", &self.docker.is_some())
            .finish()
    }
}

impl DockerLookup {
    /// Connects to `socket` when it exists; otherwise lookups give nothing.
    pub fn connect(socket: &str, id: HostIdentity) -> Self {
        let docker = if std::path::Path::new(socket).exists() {
            match Docker::connect_with_unix(socket, 5, bollard::API_DEFAULT_VERSION) {
                Ok(d) => Some(d),
                Err(e) => {
                    tracing::info!(
                        "Docker API at {socket} not usable ({e}); recording without container names"
                    );
                    None
                }
            }
        } else {
            tracing::info!("no Docker socket at {socket}; recording without container names");
            None
        };
        Self {
            docker,
            id,
            asked: HashSet::new(),
        }
    }

    /// Whether a Docker API client was set up.
    pub fn connected(&self) -> bool {
        self.docker.is_some()
    }

    /// A container event for `cid`, the first time it is asked and Docker knows it.
    pub async fn lookup(&mut self, cid: &str) -> Option<Event> {
        if !self.asked.insert(cid.to_string()) {
            return None;
        }
        let docker = self.docker.as_ref()?;
        let info = match docker.inspect_container(cid, None).await {
            Ok(i) => i,
            Err(e) => {
                tracing::debug!("Docker API: no container {cid}: {e}");
                return None;
            }
        };
        let mounts = mounts_of(&info);
        let driver = |key: &str| {
            info.graph_driver
                .as_ref()
                .and_then(|g| g.data.get(key))
                .filter(|p| p.starts_with('/'))
                .map(|p| ByteString::from(p.as_str()))
        };
        let (rootfs, upper_dir) = (driver("MergedDir"), driver("UpperDir"));
        let created = info
            .created
            .as_deref()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|d| Timestamp::from(d.with_timezone(&chrono::Utc)));
        Some(Event {
            host: self.id.host.clone(),
            boot_id: self.id.boot_id.clone(),
            run: String::new(),
            seq: 0,
            time: Timestamp::now(),
            source: Source::Docker,
            audit: None,
            kind: EventKind::Container(Container {
                id: info.id.unwrap_or_else(|| cid.to_string()),
                name: info.name.map(|n| n.trim_start_matches('/').to_string()),
                image: info.config.and_then(|c| c.image),
                image_id: info.image,
                created,
                pid: info
                    .state
                    .and_then(|s| s.pid)
                    .filter(|&p| p > 0)
                    .and_then(|p| i32::try_from(p).ok()),
                rootfs,
                upper_dir,
                mounts,
            }),
        })
    }
}

/// The mounts of a container, from its inspect: `Mounts` (binds, volumes, tmpfs mounts made
/// with `--mount`), `HostConfig.Tmpfs` (`--tmpfs`), and the files Docker binds into it itself
/// (`HostsPath`, `ResolvConfPath`, `HostnamePath`) where no mount of the container's own is at
/// their place. Entries without an absolute destination are left out.
pub fn mounts_of(info: &ContainerInspectResponse) -> Vec<Mount> {
    let absolute = |p: &&String| p.starts_with('/');
    let mut out: Vec<Mount> = info
        .mounts
        .iter()
        .flatten()
        .filter_map(|m| {
            let destination = m.destination.as_ref().filter(absolute)?;
            let kind = MountKind::from_docker(m.typ.as_deref().unwrap_or(""));
            Some(Mount {
                kind,
                source: m
                    .source
                    .as_ref()
                    .filter(absolute)
                    .filter(|_| matches!(kind, MountKind::Bind | MountKind::Volume))
                    .map(|s| ByteString::from(s.as_str())),
                destination: ByteString::from(destination.as_str()),
            })
        })
        .collect();
    let mut tmpfs: Vec<&String> = info
        .host_config
        .as_ref()
        .and_then(|h| h.tmpfs.as_ref())
        .into_iter()
        .flat_map(|t| t.keys())
        .filter(absolute)
        .collect();
    tmpfs.sort();
    for dest in tmpfs {
        out.push(Mount {
            kind: MountKind::Tmpfs,
            source: None,
            destination: ByteString::from(dest.as_str()),
        });
    }
    for (dest, source) in [
        ("/etc/hosts", &info.hosts_path),
        ("/etc/resolv.conf", &info.resolv_conf_path),
        ("/etc/hostname", &info.hostname_path),
    ] {
        let Some(source) = source.as_ref().filter(absolute) else {
            continue;
        };
        if out
            .iter()
            .any(|m| m.destination.as_bytes() == dest.as_bytes())
        {
            continue;
        }
        out.push(Mount {
            kind: MountKind::Bind,
            source: Some(ByteString::from(source.as_str())),
            destination: ByteString::from(dest),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_come_from_mounts_tmpfs_and_dockers_own_files() {
        use bollard::models::{HostConfig, MountPoint};
        let point = |typ: &str, source: Option<&str>, dest: &str| MountPoint {
            typ: Some(typ.to_owned()),
            source: source.map(str::to_owned),
            destination: Some(dest.to_owned()),
            ..MountPoint::default()
        };
        let info = ContainerInspectResponse {
            mounts: Some(vec![
                point("volume", Some("/var/lib/docker/volumes/v/_data"), "/vol"),
                point("bind", Some("/tmp/xyz"), "/bind"),
                point("bind", Some("/srv/my-hosts"), "/etc/hosts"),
                point("tmpfs", Some(""), "/scratch"),
                point("npipe", Some("pipe"), "relative"),
            ]),
            host_config: Some(HostConfig {
                tmpfs: Some([("/run".to_owned(), "rw,noexec".to_owned())].into()),
                ..HostConfig::default()
            }),
            hosts_path: Some("/var/lib/docker/containers/c/hosts".to_owned()),
            resolv_conf_path: Some("/var/lib/docker/containers/c/resolv.conf".to_owned()),
            hostname_path: Some(String::new()),
            ..ContainerInspectResponse::default()
        };
        let got: Vec<(MountKind, Option<String>, String)> = mounts_of(&info)
            .into_iter()
            .map(|m| {
                (
                    m.kind,
                    m.source.map(|s| s.to_str_lossy().into_owned()),
                    m.destination.to_str_lossy().into_owned(),
                )
            })
            .collect();
        let m = |k, s: Option<&str>, d: &str| (k, s.map(str::to_owned), d.to_owned());
        assert_eq!(
            got,
            [
                m(
                    MountKind::Volume,
                    Some("/var/lib/docker/volumes/v/_data"),
                    "/vol"
                ),
                m(MountKind::Bind, Some("/tmp/xyz"), "/bind"),
                m(MountKind::Bind, Some("/srv/my-hosts"), "/etc/hosts"),
                m(MountKind::Tmpfs, None, "/scratch"),
                m(MountKind::Tmpfs, None, "/run"),
                m(
                    MountKind::Bind,
                    Some("/var/lib/docker/containers/c/resolv.conf"),
                    "/etc/resolv.conf"
                ),
            ]
        );
    }

    #[tokio::test]
    async fn without_a_socket_lookups_give_nothing() {
        let id = HostIdentity {
            host: "h".into(),
            boot_id: "b".into(),
        };
        let mut d = DockerLookup::connect("/nonexistent/docker.sock", id);
        assert!(!d.connected());
        assert_eq!(d.lookup(&"a".repeat(64)).await, None);
    }

    /// Real dockerd: a running container is described by name and image.
    #[tokio::test]
    async fn live_docker_names_a_running_container() {
        use dockwatch_shared::testing::{Need, require};
        if !require(&[Need::Docker]) {
            return;
        }
        let name = format!("dockwatch-unit-{}", std::process::id());
        let out = std::process::Command::new("docker")
            .args([
                "run",
                "-d",
                "--rm",
                "--network",
                "none",
                "--name",
                &name,
                "dockwatch-busybox:latest",
                "/bin/sleep",
                "30",
            ])
            .output()
            .expect("docker CLI");
        assert!(
            out.status.success(),
            "docker run failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cid = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let id = HostIdentity {
            host: "h".into(),
            boot_id: "b".into(),
        };
        let mut d = DockerLookup::connect(DOCKER_SOCKET, id);
        let ev = d.lookup(&cid).await;
        let _ = std::process::Command::new("docker")
            .args(["rm", "-f", &name])
            .output();
        let ev = ev.expect("container event");
        let EventKind::Container(c) = ev.kind else {
            panic!()
        };
        assert_eq!(c.id, cid);
        assert_eq!(c.name.as_deref(), Some(name.as_str()));
        assert_eq!(c.image.as_deref(), Some("dockwatch-busybox:latest"));
        assert!(c.created.is_some() && c.pid.is_some());
        if let Some(root) = &c.rootfs {
            // overlay2: the upper directory beside the merged one.
            let upper = c
                .upper_dir
                .as_ref()
                .expect("the upper directory with the merged one");
            assert!(
                upper.as_bytes().ends_with(b"/diff"),
                "{upper:?} beside {root:?}"
            );
        }
        assert!(
            c.mounts
                .iter()
                .any(|m| m.destination.as_bytes() == b"/etc/hosts" && m.source.is_some()),
            "Docker's own /etc/hosts: {:?}",
            c.mounts
        );
        assert_eq!(d.lookup(&cid).await, None, "asked once");
    }
}
