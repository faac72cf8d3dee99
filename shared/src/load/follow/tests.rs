//! Following equals loading: at every cut of a real capture into batches, the update that
//! follows the batch is the batch pipeline's investigation of the events written so far.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use super::*;
use crate::model::event::Event;
use crate::model::investigation::Investigation;
use crate::pipeline::{Pipeline, investigate};
use crate::storage::capture::{CaptureWriter, read_all};
use crate::testing::{SecantusServer, test_store_config};

/// The events of the demo capture, recorded by godo on a Docker host.
fn demo_events() -> Vec<Event> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/demo.jsonl.zst");
    let (events, errors) = read_all(&path).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    assert!(events.len() > 5000);
    events
}

/// Cut points of `n` events into `pieces` batches of random sizes (a fixed seed per case).
fn cuts(n: usize, pieces: usize, seed: u64) -> Vec<usize> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut cuts: Vec<usize> = (0..pieces - 1)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            usize::try_from(x % n as u64).unwrap()
        })
        .collect();
    cuts.push(n);
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// The batch pipeline's investigation of `events`, stamped `at`.
fn batch(events: &[Event], at: Timestamp) -> Investigation {
    let first = &events[0];
    investigate(
        events.iter().cloned(),
        &first.host,
        &first.boot_id,
        at,
        &mut |_| {},
    )
}

/// Waits for the investigation that covers `events` events (earlier updates may still come).
fn wait_for(updates: &mpsc::Receiver<FollowUpdate>, events: u64) -> Investigation {
    loop {
        match updates.recv_timeout(Duration::from_secs(20)) {
            Ok(FollowUpdate::Investigation(l)) if l.investigation.stats.events == events => {
                return l.investigation;
            }
            Ok(_) => {}
            Err(e) => panic!("no update with {events} events: {e}"),
        }
    }
}

fn follow_a_capture_cut_at(name: &str, seed: u64) {
    let events = demo_events();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    let mut writer = CaptureWriter::create(&path).unwrap();
    let (tx, updates) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let follower = {
        let (path, stop) = (path.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            follow_capture(
                &path,
                None,
                None,
                &|| stop.load(Ordering::Relaxed),
                &mut |_| {},
                &mut |u| {
                    let _ = tx.send(u);
                    ControlFlow::Continue(())
                },
            )
        })
    };
    let mut from = 0;
    for to in cuts(events.len(), 6, seed) {
        writer.write_batch(&events[from..to]).unwrap();
        from = to;
        let mut live = wait_for(&updates, to as u64);
        let oracle = batch(&events[..to], live.generated_at);
        live.generated_at = oracle.generated_at;
        assert_eq!(live, oracle, "after {to} of {} events", events.len());
    }
    writer.finish().unwrap();
    stop.store(true, Ordering::Relaxed);
    follower.join().unwrap().unwrap();
}

#[test]
fn a_followed_plain_capture_equals_the_batch_investigation_at_every_cut() {
    for seed in [1, 2] {
        follow_a_capture_cut_at("live.jsonl", seed);
    }
}

#[test]
fn a_followed_zstd_capture_equals_the_batch_investigation_at_every_cut() {
    for seed in [3, 4] {
        follow_a_capture_cut_at("live.jsonl.zst", seed);
    }
}

#[test]
fn an_empty_capture_is_waited_on_and_stopping_ends_the_follow() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.jsonl");
    std::fs::write(&path, b"").unwrap();
    let stop = AtomicBool::new(false);
    let mut updates = 0;
    let result = follow_capture(
        &path,
        None,
        None,
        // Not stopped at the first look, stopped at the second.
        &|| stop.swap(true, Ordering::Relaxed),
        &mut |_| {},
        &mut |_| {
            updates += 1;
            ControlFlow::Continue(())
        },
    );
    assert!(result.is_ok());
    assert_eq!(updates, 0);
}

#[test]
fn a_missing_capture_is_a_clear_error() {
    let err = follow_capture(
        std::path::Path::new("/nonexistent/live.jsonl"),
        None,
        None,
        &|| false,
        &mut |_| {},
        &mut |_| ControlFlow::Continue(()),
    )
    .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/live.jsonl"), "{err}");
}

/// Follows the store at `config` in a task of its own, sending every update to the returned
/// receiver.
fn follow_in_background(
    store: &Store,
    events: &[Event],
) -> (mpsc::Receiver<FollowUpdate>, tokio::task::JoinHandle<()>) {
    let (tx, updates) = mpsc::channel();
    let store = store.clone();
    let boot = BootSummary {
        host: events[0].host.clone(),
        boot_id: events[0].boot_id.clone(),
        events: 0,
        first: events[0].time,
        last: events[0].time,
    };
    let task = tokio::spawn(async move {
        follow_store(
            &store,
            boot.clone(),
            vec![boot],
            Checkpoints::Off,
            &mut |_| {},
            &mut |u| {
                let _ = tx.send(u);
                ControlFlow::Continue(())
            },
        )
        .await
        .unwrap();
    });
    (updates, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_followed_store_equals_the_batch_investigation_at_every_cut() {
    let Some(config) = test_store_config("follow") else {
        return;
    };
    let store = Store::connect(&config).await.unwrap();
    let events = demo_events();
    let cuts = cuts(events.len(), 5, 7);
    store.insert_events(&events[..cuts[0]]).await.unwrap();
    let (updates, task) = follow_in_background(&store, &events);
    let mut from = cuts[0];
    for (i, &to) in cuts.iter().enumerate() {
        if i > 0 {
            store.insert_events(&events[from..to]).await.unwrap();
            from = to;
        }
        let mut live = tokio::task::block_in_place(|| wait_for(&updates, to as u64));
        let oracle = batch(&events[..to], live.generated_at);
        live.generated_at = oracle.generated_at;
        assert_eq!(live, oracle, "after {to} of {} events", events.len());
    }
    task.abort();
    store.raw_db().drop().await.unwrap();
    store.cooked_db().drop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_survives_a_database_outage_and_reads_on_from_where_it_was() {
    let Some(mut server) = SecantusServer::launch() else {
        return;
    };
    let store = Store::connect(&crate::storage::store::StoreConfig::host_port(
        &server.address(),
    ))
    .await
    .unwrap();
    let events = demo_events();
    let half = events.len() / 2;
    store.insert_events(&events[..half]).await.unwrap();
    let (updates, task) = follow_in_background(&store, &events);
    tokio::task::block_in_place(|| wait_for(&updates, half as u64));
    server.stop();
    let trouble = tokio::task::block_in_place(|| {
        loop {
            match updates.recv_timeout(Duration::from_secs(60)) {
                Ok(FollowUpdate::Trouble(why)) => break why,
                Ok(_) => {}
                Err(e) => panic!("no trouble reported while the database was down: {e}"),
            }
        }
    });
    assert!(trouble.contains("asking again"), "{trouble}");
    server.start();
    let store = Store::connect(&crate::storage::store::StoreConfig::host_port(
        &server.address(),
    ))
    .await
    .unwrap();
    store.insert_events(&events[half..]).await.unwrap();
    let mut back = false;
    let live = tokio::task::block_in_place(|| {
        loop {
            match updates.recv_timeout(Duration::from_secs(60)) {
                Ok(FollowUpdate::Back) => back = true,
                Ok(FollowUpdate::Investigation(l))
                    if l.investigation.stats.events == events.len() as u64 =>
                {
                    break l.investigation;
                }
                Ok(_) => {}
                Err(e) => panic!("no update with every event after the outage: {e}"),
            }
        }
    });
    assert!(back, "the return of the database was not reported");
    let oracle = batch(&events, live.generated_at);
    assert_eq!(live, oracle);
    task.abort();
}

#[test]
fn a_snapshot_leaves_the_pipeline_taking_more_events() {
    let events = demo_events();
    let first = &events[0];
    let mut pipeline = Pipeline::new(&first.host, &first.boot_id);
    let at = Timestamp(1);
    for (i, e) in events.iter().enumerate() {
        pipeline.push(e.clone());
        if i == events.len() / 3 {
            assert_eq!(pipeline.snapshot(at, &mut |_| {}), batch(&events[..=i], at));
        }
    }
    assert_eq!(pipeline.finish(at, &mut |_| {}), batch(&events, at));
}
