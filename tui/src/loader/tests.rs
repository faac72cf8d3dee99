//! Loader tests: failures explained, sources read, jobs cancelled.

use super::*;
use dockwatch_shared::Event;

#[test]
fn an_investigation_without_roots_is_explained() {
    let mut inv = crate::synthetic::demo();
    inv.roots.clear();
    inv.stats.events = 10;
    let outcome = check(Loaded {
        inv,
        origin: String::new(),
        warnings: Vec::new(),
    });
    match outcome {
        Outcome::Failed(f) => assert_eq!(f.kind, FailureKind::NoDocker),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_demo_job_reports_and_finishes() {
    // The recorded demo: real data, a Docker tree with containers in it.
    match outcome_of(Source::Demo) {
        Outcome::Loaded(l) => {
            assert!(l.origin.contains("real capture"), "{}", l.origin);
            assert!(!l.inv.roots.is_empty());
            assert!(l.inv.processes.iter().any(|p| p.container_id.is_some()));
        }
        other => panic!("{other:?}"),
    }
}

/// Runs a job to its end and returns how it ended.
fn outcome_of(source: Source) -> Outcome {
    let (tx, rx) = std::sync::mpsc::channel();
    let _job = spawn(source, move |msg| {
        let _ = tx.send(msg);
    });
    for msg in rx.iter() {
        if let JobMsg::Finished(outcome) = msg {
            return outcome;
        }
    }
    panic!("the job ended without a result");
}

fn failure(outcome: Outcome) -> Failure {
    match outcome {
        Outcome::Failed(f) => f,
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn events_of(host: &str, boot: &str, n: usize) -> Vec<Event> {
    let mut events = dockwatch_shared::testing::samples();
    events.truncate(n);
    for (i, e) in events.iter_mut().enumerate() {
        e.host = host.to_owned();
        e.boot_id = boot.to_owned();
        e.run = format!("run-{host}-{boot}");
        e.seq = i as u64;
    }
    events
}

#[test]
fn an_unreachable_database_is_explained_within_the_timeout() {
    // Nothing listens on a port we just bound and released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = StoreConfig::host_port(&format!("127.0.0.1:{port}"));
    config.timeout = Duration::from_millis(500);
    let started = std::time::Instant::now();
    let f = failure(outcome_of(Source::Mongo(MongoSource {
        config,
        host: None,
        boot: None,
        follow: false,
    })));
    assert_eq!(f.kind, FailureKind::Unreachable, "{f:?}");
    assert!(f.hint.contains("--mongo"), "{}", f.hint);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn empty_database_then_picker_then_one_boot_read() {
    let Some(config) = dockwatch_shared::testing::test_store_config("tui_loader") else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime.block_on(Store::connect(&config)).unwrap();
    let source = |host: Option<&str>, boot: Option<&str>| {
        Source::Mongo(MongoSource {
            config: config.clone(),
            host: host.map(str::to_owned),
            boot: boot.map(str::to_owned),
            follow: false,
        })
    };
    let f = failure(outcome_of(source(None, None)));
    assert_eq!(f.kind, FailureKind::EmptyDatabase, "{f:?}");

    runtime
        .block_on(store.insert_events(&events_of("web-1", "boot-a", 5)))
        .unwrap();
    runtime
        .block_on(store.insert_events(&events_of("web-1", "boot-b", 3)))
        .unwrap();
    match outcome_of(source(None, None)) {
        Outcome::Choose(boots) => {
            let pairs: Vec<_> = boots
                .iter()
                .map(|b| (b.boot_id.as_str(), b.events))
                .collect();
            assert_eq!(pairs, [("boot-a", 5), ("boot-b", 3)]);
        }
        other => panic!("expected the picker, got {other:?}"),
    }
    let f = failure(outcome_of(source(Some("db-9"), None)));
    assert_eq!(f.kind, FailureKind::NoSuchBoot);
    assert!(f.detail.contains("host web-1 boot boot-a"), "{}", f.detail);
    // One boot named: its events go through the pipeline, and the result is stored.
    match outcome_of(source(Some("web-1"), Some("boot-b"))) {
        Outcome::Loaded(l) => {
            assert_eq!(
                (l.inv.host.as_str(), l.inv.boot_id.as_str()),
                ("web-1", "boot-b")
            );
            assert!(l.inv.processes[l.inv.roots[0]].star);
            assert!(l.warnings.is_empty(), "{:?}", l.warnings);
            let cooked = runtime
                .block_on(cooked::read_investigation(
                    store.cooked_db(),
                    "web-1",
                    "boot-b",
                ))
                .unwrap()
                .expect("the cooked result was stored");
            assert_eq!(cooked.processes.len(), l.inv.processes.len());
        }
        other => panic!("expected an investigation, got {other:?}"),
    }
    runtime.block_on(async {
        let _ = store.raw_db().drop().await;
        let _ = store.cooked_db().drop().await;
    });
}

#[test]
fn a_capture_with_two_boots_asks_which() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.jsonl.zst");
    let mut w = dockwatch_shared::storage::capture::CaptureWriter::create(&path).unwrap();
    w.write_batch(&events_of("h", "b1", 4)).unwrap();
    w.write_batch(&events_of("h", "b2", 2)).unwrap();
    w.finish().unwrap();
    let replay = |boot: Option<&str>| {
        Source::Replay(ReplaySource {
            path: path.clone(),
            host: None,
            boot: boot.map(str::to_owned),
            follow: false,
        })
    };
    match outcome_of(replay(None)) {
        Outcome::Choose(boots) => assert_eq!(boots.len(), 2),
        other => panic!("expected the picker, got {other:?}"),
    }
    let f = failure(outcome_of(Source::Replay(ReplaySource {
        path: dir.path().join("missing.jsonl"),
        host: None,
        boot: None,
        follow: false,
    })));
    assert_eq!(f.kind, FailureKind::BadInput);
    assert!(f.detail.contains("missing.jsonl"), "{}", f.detail);
}
