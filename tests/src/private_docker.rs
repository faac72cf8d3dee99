//! A private Docker for end-to-end tests: a containerd started as its own service and a dockerd
//! pointed at it, so a test can check a process tree whose containerd is not below dockerd.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dockwatch_shared::model::event::Pid;

use crate::godo::{IMAGE, stop_child};

/// A containerd started as its own service and a dockerd pointed at its socket, each with its
/// own sockets, state and data directories under one temporary directory, with the busybox
/// image imported the way `.ci/run` builds it. Dropping it removes its containers, stops both
/// daemons, unmounts what they left mounted and deletes the directory, also when a test fails.
pub struct PrivateDocker {
    dir: tempfile::TempDir,
    containerd: Option<Child>,
    dockerd: Option<Child>,
    /// The `docker -H` value that reaches the private dockerd.
    pub host: String,
}

impl PrivateDocker {
    /// Starts containerd, then dockerd on it, and imports the test image; panics (a broken
    /// environment) when one does not come up.
    pub fn start() -> Self {
        // Short paths: unix socket paths are limited to 108 bytes.
        let dir = tempfile::Builder::new()
            .prefix("dwctd")
            .tempdir_in("/tmp")
            .expect("tempdir");
        let d = dir.path().to_path_buf();
        let sock = d.join("containerd.sock");
        let config = format!(
            "version = 2\n\
             root = \"{root}\"\n\
             state = \"{state}\"\n\
             disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
             [grpc]\n  address = \"{sock}\"\n\
             [ttrpc]\n  address = \"{sock}.ttrpc\"\n\
             [debug]\n  address = \"{debug}\"\n\
             [metrics]\n  address = \"\"\n\
             [plugins.\"io.containerd.internal.v1.opt\"]\n  path = \"{opt}\"\n",
            root = d.join("ctd-root").display(),
            state = d.join("ctd-state").display(),
            sock = sock.display(),
            debug = d.join("ctd-debug.sock").display(),
            opt = d.join("ctd-opt").display(),
        );
        std::fs::write(d.join("containerd.toml"), config).expect("write containerd.toml");
        std::fs::write(d.join("daemon.json"), "{}").expect("write daemon.json");
        let log = |name: &str| std::fs::File::create(d.join(name)).expect("log file");
        let mut me = Self {
            host: format!("unix://{}", d.join("docker.sock").display()),
            containerd: None,
            dockerd: None,
            dir,
        };
        me.containerd = Some(
            Command::new("containerd")
                .arg("--config")
                .arg(d.join("containerd.toml"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log("containerd.log"))
                .spawn()
                .expect("start containerd"),
        );
        me.wait_until("containerd", || sock.exists());
        me.dockerd = Some(
            Command::new("dockerd")
                .arg("--containerd")
                .arg(&sock)
                .arg("--data-root")
                .arg(d.join("data"))
                .arg("--exec-root")
                .arg(d.join("exec"))
                .arg("--pidfile")
                .arg(d.join("dockerd.pid"))
                .arg("--config-file")
                .arg(d.join("daemon.json"))
                .args(["-H", &me.host])
                .args([
                    "--bridge=none",
                    "--iptables=false",
                    "--ip6tables=false",
                    "--ip-masq=false",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log("dockerd.log"))
                .spawn()
                .expect("start dockerd"),
        );
        let host = me.host.clone();
        me.wait_until("dockerd", || {
            Command::new("docker")
                .args(["-H", &host, "info"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
        me.import_image();
        me
    }

    /// The private containerd's pid.
    pub fn containerd_pid(&self) -> Pid {
        Pid::try_from(self.containerd.as_ref().expect("containerd running").id()).expect("pid fits")
    }

    /// Waits up to 60 s for `ready`; panics with the daemons' logs when it does not come.
    fn wait_until(&mut self, what: &str, mut ready: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ready() {
            let exited = [&mut self.containerd, &mut self.dockerd]
                .into_iter()
                .flatten()
                .any(|c| c.try_wait().ok().flatten().is_some());
            if exited || Instant::now() > deadline {
                panic!(
                    "the private {what} did not come up{}:\n{}",
                    if exited {
                        " (a daemon exited)"
                    } else {
                        " within 60 s"
                    },
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn logs(&self) -> String {
        ["containerd.log", "dockerd.log"]
            .iter()
            .map(|n| {
                let text = std::fs::read_to_string(self.dir.path().join(n)).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(20).collect();
                format!(
                    "---- {n} ----\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The image of `.ci/run`: busybox-static with its applet links, `/tmp`, `/etc/passwd` and
    /// `/etc/group`, imported from a tar stream (no registry).
    fn import_image(&self) {
        let root = self.dir.path().join("image-root");
        for sub in ["bin", "tmp", "etc", "root"] {
            std::fs::create_dir_all(root.join(sub)).expect("image dirs");
        }
        let script = format!(
            "set -e; r={root}; chmod 1777 $r/tmp; cp \"$(command -v busybox)\" $r/bin/busybox; \
             for a in $($r/bin/busybox --list); do [ \"$a\" = busybox ] || ln -sf busybox $r/bin/$a; done; \
             echo 'root:x:0:0:root:/root:/bin/sh' > $r/etc/passwd; echo 'root:x:0:' > $r/etc/group; \
             tar -C $r -c . | docker -H {host} import - {IMAGE} > /dev/null",
            root = root.display(),
            host = self.host,
        );
        let st = Command::new("/bin/sh")
            .args(["-c", &script])
            .status()
            .expect("build the image");
        assert!(
            st.success(),
            "importing {IMAGE} into the private dockerd failed"
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}

impl Drop for PrivateDocker {
    fn drop(&mut self) {
        if self.dockerd.is_some() {
            let ids = Command::new("docker")
                .args(["-H", &self.host, "ps", "-aq"])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            for id in ids.split_whitespace() {
                let _ = Command::new("docker")
                    .args(["-H", &self.host, "rm", "-f", id])
                    .output();
            }
        }
        if let Some(mut c) = self.dockerd.take() {
            stop_child(&mut c, Duration::from_secs(30));
        }
        if let Some(mut c) = self.containerd.take() {
            stop_child(&mut c, Duration::from_secs(30));
        }
        // Whatever the daemons left mounted below the directory, deepest first.
        let prefix = self.dir.path().to_string_lossy().into_owned();
        let mut mounts: Vec<String> = std::fs::read_to_string("/proc/self/mounts")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split(' ').nth(1))
            .filter(|m| m.starts_with(&prefix))
            .map(String::from)
            .collect();
        mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in mounts {
            let _ = Command::new("umount").args(["-l", &m]).status();
        }
    }
}
