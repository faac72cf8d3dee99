//! Docker metadata: when a new container id shows up, ask the Docker Engine API (bollard) for
//! the container's name, image, creation time and root filesystem (the storage driver's merged
//! directory) and record a [`Container`] event. Without a
//! reachable `/var/run/docker.sock` the recorder goes on without names.

use std::collections::HashSet;

use bollard::Docker;
use dockwatch_shared::model::event::{Container, Event, EventKind, Source};
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
                rootfs: info
                    .graph_driver
                    .and_then(|g| g.data.get("MergedDir").cloned())
                    .map(ByteString::from),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(d.lookup(&cid).await, None, "asked once");
    }
}
