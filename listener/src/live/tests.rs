//! Tests of `live`.

use super::*;
use std::process::{Child, Command};

/// A stand-in database server: a process listening on `port` until killed.
fn listener(port: u16) -> Option<Child> {
    let child = Command::new("python3")
        .args([
            "-c",
            "import socket, sys, time\n\
             s = socket.socket()\n\
             s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
             s.bind(('127.0.0.1', int(sys.argv[1])))\n\
             s.listen()\n\
             time.sleep(300)",
            &port.to_string(),
        ])
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(child)
}

fn auditctl_rules() -> String {
    let o = Command::new("auditctl")
        .arg("-l")
        .output()
        .expect("auditctl is installed");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Real kernel, under the team's audit lock: the local database server is killed and started
/// again on its port; the recorder is told the new pid and the rules exclude it (and no
/// longer the old one); afterwards the rules are as before.
#[test]
fn a_restarted_database_server_is_excluded_again() {
    use dockwatch_shared::testing::{Need, require};
    if !require(&[Need::Root, Need::Python3]) {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let mut first = listener(port).expect("python3 starts a stand-in server");
    let lock = dockwatch_shared::testing::AuditLock::take();
    let before = auditctl_rules();
    let me = std::process::id() as Pid;
    let server = pids_listening_on(port);
    assert_eq!(server, vec![first.id() as Pid]);
    let reader = AuditReader::open(false, 1 << 20).unwrap();
    let session = AuditSession::start(
        &SessionConfig {
            multicast: false,
            backlog_limit: 8192,
            backlog_wait_time: 0,
            exclude_pids: vec![me as u32, first.id()],
        },
        &reader,
    )
    .unwrap();
    let session = Arc::new(Mutex::new(Some(session)));
    let (tx, rx) = sync_channel(16);
    let cancel = CancellationToken::new();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let chores = housekeeping::Housekeeping {
        recorder: tx,
        lost: None,
        exclusion: Some(housekeeping::DatabaseExclusion {
            port,
            server,
            session: session.clone(),
        }),
        status: None,
    };
    let watcher = rt.spawn(housekeeping::run(chores, cancel.clone()));

    first.kill().unwrap();
    first.wait().unwrap();
    let old = first.id();
    let mut second = listener(port).unwrap();
    let new = second.id() as Pid;
    // The recorder hears of the server's absence (maybe) and then of its new pid.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut told = None;
    while Instant::now() < deadline {
        if let Ok(Input::Exclude(set)) = rx.recv_timeout(Duration::from_millis(200)) {
            if set.contains(&new) {
                told = Some(set);
                break;
            }
        }
    }
    let rules = auditctl_rules();
    cancel.cancel();
    rt.block_on(watcher).unwrap();
    let restored = session.lock().unwrap().take().map(AuditSession::restore);
    drop(reader);
    second.kill().unwrap();
    second.wait().unwrap();
    let after = auditctl_rules();
    drop(lock);

    assert_eq!(told, Some(HashSet::from([me, new])));
    assert_eq!(
        rules.matches(&format!("-F pid!={new} ")).count(),
        14,
        "{rules}"
    );
    assert_eq!(
        rules.matches(&format!("-F pid!={me} ")).count(),
        14,
        "{rules}"
    );
    assert!(!rules.contains(&format!("-F pid!={old} ")), "{rules}");
    assert!(matches!(restored, Some(Ok(()))));
    assert_eq!(after, before);
}

#[test]
fn local_database_ports() {
    assert_eq!(
        local_db_port(&MongoAddress::HostPort("127.0.0.1:27017".into())),
        Some(27017)
    );
    assert_eq!(
        local_db_port(&MongoAddress::HostPort("localhost".into())),
        Some(27017)
    );
    assert_eq!(
        local_db_port(&MongoAddress::HostPort("db.example:27017".into())),
        None
    );
    assert_eq!(
        local_db_port(&MongoAddress::Uri(
            "mongodb://u:p@127.0.0.1:28000/?tls=false".into()
        )),
        Some(28000)
    );
    assert_eq!(
        local_db_port(&MongoAddress::Uri("mongodb+srv://cluster.example/x".into())),
        None
    );
    assert_eq!(
        local_db_port(&MongoAddress::HostPort("[::1]:27018".into())),
        Some(27018)
    );
    assert_eq!(
        local_db_port(&MongoAddress::Uri(
            "mongodb://localhost,db.example:1/".into()
        )),
        Some(dockwatch_shared::storage::store::DEFAULT_PORT)
    );
}
