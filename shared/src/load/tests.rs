//! Loading: choosing the boot, capture damage, the store and a capture agreeing, checkpoints.
use super::*;
use crate::model::event::Event;
use crate::pipeline::testkit::*;
use crate::storage::capture::CaptureWriter;
use crate::storage::store::StoreConfig;
use crate::testing::test_store_config;

fn summary(host: &str, boot: &str, first: i64, last: i64) -> BootSummary {
    BootSummary {
        host: host.into(),
        boot_id: boot.into(),
        events: 1,
        first: t(first),
        last: t(last),
    }
}

#[test]
fn the_default_boot_is_the_one_with_the_newest_events() {
    let boots = [
        summary("a", "1", 0, 50),
        summary("a", "2", 60, 70),
        summary("b", "9", 10, 90),
    ];
    assert_eq!(choose_boot(&boots, None, None, "db").unwrap().boot_id, "9");
    assert_eq!(
        choose_boot(&boots, Some("a"), None, "db").unwrap().boot_id,
        "2"
    );
    assert_eq!(
        choose_boot(&boots, None, Some("1"), "db").unwrap().host,
        "a"
    );
    let err = choose_boot(&boots, Some("c"), None, "db").unwrap_err();
    assert!(err.to_string().contains("host a boot 1"), "{err}");
    let err = choose_boot(&[], None, None, "db").unwrap_err();
    assert!(matches!(err, LoadError::Empty { .. }), "{err}");
}

fn two_boots() -> Vec<Event> {
    let mut old = vec![
        snapshot(1, 100, 1, &["/usr/bin/dockerd"]),
        fork(2, 100, 100, 200),
    ];
    for e in &mut old {
        e.boot_id = "old-boot".into();
    }
    let mut events = old;
    events.extend([
        snapshot(10, 100, 1, &["/usr/bin/dockerd"]),
        fork(11, 100, 100, 300),
        fork(12, 100, 100, 301),
    ]);
    for (i, e) in events.iter_mut().enumerate() {
        e.seq = i as u64;
    }
    events
}

#[test]
fn a_capture_with_two_boots_gives_the_newest_or_the_chosen_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.jsonl.zst");
    let mut w = CaptureWriter::create(&path).unwrap();
    w.write_batch(&two_boots()).unwrap();
    w.finish().unwrap();

    let loaded = from_capture(&path, None, None, t(0), &mut |_| {}).unwrap();
    assert_eq!(loaded.boot.boot_id, BOOT);
    assert_eq!(loaded.boots.len(), 2);
    assert_eq!(loaded.investigation.processes.len(), 3);
    assert_eq!(loaded.boot.events, 3);

    let loaded = from_capture(&path, None, Some("old-boot"), t(0), &mut |_| {}).unwrap();
    assert_eq!(loaded.investigation.boot_id, "old-boot");
    assert_eq!(loaded.investigation.processes.len(), 2);

    let err = from_capture(&path, Some("nope"), None, t(0), &mut |_| {}).unwrap_err();
    assert!(matches!(err, LoadError::NoSuchBoot { .. }), "{err}");
}

#[test]
fn a_capture_with_a_bad_line_is_read_past_it_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.jsonl");
    let mut text = String::new();
    for (i, e) in two_boots().iter().enumerate() {
        text.push_str(&serde_json::to_string(e).unwrap());
        text.push('\n');
        if i == 0 {
            text.push_str("{not json\n");
        }
    }
    std::fs::write(&path, text).unwrap();
    let loaded = from_capture(&path, None, None, t(0), &mut |_| {}).unwrap();
    assert_eq!(loaded.skipped, 1);
    assert!(
        loaded.warnings[0].contains("line 2"),
        "{:?}",
        loaded.warnings
    );
    assert_eq!(loaded.investigation.processes.len(), 3);
}

#[test]
fn an_empty_capture_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.jsonl");
    std::fs::write(&path, "").unwrap();
    let err = from_capture(&path, None, None, t(0), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("no events"), "{err}");
}

#[test]
fn a_file_that_is_no_capture_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.jsonl");
    std::fs::write(&path, "\n{\"hello\": 1}\nplain text\n").unwrap();
    let err = from_capture(&path, None, None, t(0), &mut |_| {}).unwrap_err();
    assert!(
        matches!(err, LoadError::NotACapture { line: 2, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("line 2 is not a dockwatch event"), "{msg}");
    assert!(msg.contains("notes.jsonl"), "{msg}");
}

#[tokio::test]
async fn the_store_and_a_capture_of_the_same_events_give_the_same_investigation() {
    let Some(config): Option<StoreConfig> = test_store_config("load") else {
        return;
    };
    let store = Store::connect(&config).await.unwrap();
    let events = two_boots();
    store.insert_events(&events).await.unwrap();
    let from_db = from_store(&store, None, None, Checkpoints::Use, t(0), &mut |_| {}).await;
    store.raw_db().drop().await.unwrap();
    store.cooked_db().drop().await.unwrap();
    let from_db = from_db.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.jsonl");
    let mut w = CaptureWriter::create(&path).unwrap();
    w.write_batch(&events).unwrap();
    w.finish().unwrap();
    let from_file = from_capture(&path, None, None, t(0), &mut |_| {}).unwrap();
    assert_eq!(from_db.boot, from_file.boot);
    assert_eq!(from_db.investigation, from_file.investigation);
    assert_eq!(from_db.investigation.processes.len(), 3);
}

/// The events of the demo capture, recorded by godo on a Docker host.
fn demo_events() -> Vec<Event> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/demo.jsonl.zst");
    crate::storage::capture::read_all(&path).unwrap().0
}

async fn load(store: &Store, checkpoints: Checkpoints) -> Loaded {
    from_store(store, None, None, checkpoints, t(0), &mut |_| {})
        .await
        .unwrap()
}

#[tokio::test]
async fn a_reopened_recording_reads_only_the_events_after_its_checkpoint() {
    let Some(config) = test_store_config("checkpoint") else {
        return;
    };
    let store = Store::connect(&config).await.unwrap();
    let events = demo_events();
    let half = events.len() / 2;
    store.insert_events(&events[..half]).await.unwrap();
    let first = load(&store, Checkpoints::Use).await;
    assert_eq!(first.read, half as u64, "the first load reads every event");

    store.insert_events(&events[half..]).await.unwrap();
    let second = load(&store, Checkpoints::Use).await;
    assert_eq!(
        second.read,
        (events.len() - half) as u64,
        "the second load reads only the events stored after the checkpoint"
    );
    let full = load(&store, Checkpoints::Off).await;
    assert_eq!(full.read, events.len() as u64);
    assert_eq!(second.investigation, full.investigation);
    assert_eq!(second.boot.events, full.boot.events);

    // Nothing new: nothing read, the same investigation.
    let third = load(&store, Checkpoints::Use).await;
    assert_eq!(third.read, 0);
    assert_eq!(third.investigation, full.investigation);
    store.raw_db().drop().await.unwrap();
    store.cooked_db().drop().await.unwrap();
}

/// Applies `change` to the checkpoint documents `filter` selects, then checks that the next
/// load ignores the checkpoint: it reads every event and gives the `full` investigation.
async fn spoil(
    store: &Store,
    filter: bson::Document,
    change: bson::Document,
    full: &Loaded,
    what: &str,
) {
    store
        .cooked_db()
        .collection::<bson::Document>(crate::storage::checkpoint::CHECKPOINTS)
        .update_one(filter, change)
        .await
        .unwrap();
    let again = load(store, Checkpoints::Use).await;
    assert_eq!(
        again.read, full.read,
        "a checkpoint with {what} was trusted"
    );
    assert_eq!(again.investigation, full.investigation);
}

#[tokio::test]
async fn a_checkpoint_of_another_format_or_damaged_is_ignored_not_trusted() {
    let Some(config) = test_store_config("checkpoint_format") else {
        return;
    };
    let store = Store::connect(&config).await.unwrap();
    let events = demo_events();
    store.insert_events(&events).await.unwrap();
    let full = load(&store, Checkpoints::Use).await;
    let header = bson::doc! { "chunk": { "$exists": false } };
    let older = bson::doc! { "$set": { "format": "0.0.1/older" } };
    spoil(&store, header, older, &full, "an older format").await;
    // The load above wrote a fresh checkpoint; damage its data.
    let junk = bson::Binary {
        subtype: bson::spec::BinarySubtype::Generic,
        bytes: b"not zstd".to_vec(),
    };
    let damaged = bson::doc! { "$set": { "data": junk } };
    spoil(
        &store,
        bson::doc! { "chunk": 0 },
        damaged,
        &full,
        "damaged data",
    )
    .await;
    store.raw_db().drop().await.unwrap();
    store.cooked_db().drop().await.unwrap();
}

#[tokio::test]
async fn no_checkpoint_is_written_while_an_event_is_missing_from_a_run() {
    let Some(config) = test_store_config("checkpoint_hole") else {
        return;
    };
    let store = Store::connect(&config).await.unwrap();
    let events = demo_events();
    let missing = events.len() / 3;
    let (before, after) = (&events[..missing], &events[missing + 1..]);
    store.insert_events(before).await.unwrap();
    store.insert_events(after).await.unwrap();
    let first = load(&store, Checkpoints::Use).await;
    assert_eq!(first.read, events.len() as u64 - 1);
    // The missing event arrives late (a retried batch): a checkpoint past it would hide it.
    store
        .insert_events(std::slice::from_ref(&events[missing]))
        .await
        .unwrap();
    let second = load(&store, Checkpoints::Use).await;
    assert_eq!(
        second.read,
        events.len() as u64,
        "the late event was not read"
    );
    let full = load(&store, Checkpoints::Off).await;
    assert_eq!(second.investigation, full.investigation);
    // Now whole: the next load starts from the checkpoint.
    assert_eq!(load(&store, Checkpoints::Use).await.read, 0);
    store.raw_db().drop().await.unwrap();
    store.cooked_db().drop().await.unwrap();
}

#[tokio::test]
async fn two_event_logs_of_the_same_boot_never_share_a_checkpoint() {
    let (Some(a), Some(mut b)) = (
        test_store_config("checkpoint_log_a"),
        test_store_config("checkpoint_log_b"),
    ) else {
        return;
    };
    b.cooked_db.clone_from(&a.cooked_db);
    let (a, b) = (
        Store::connect(&a).await.unwrap(),
        Store::connect(&b).await.unwrap(),
    );
    let events = demo_events();
    a.insert_events(&events[..events.len() / 2]).await.unwrap();
    b.insert_events(&events).await.unwrap();
    assert!(load(&a, Checkpoints::Use).await.read > 0);
    let from_b = load(&b, Checkpoints::Use).await;
    assert_eq!(
        from_b.read,
        events.len() as u64,
        "b started from a's checkpoint"
    );
    assert_eq!(
        from_b.investigation,
        load(&b, Checkpoints::Off).await.investigation
    );
    for store in [a, b] {
        store.raw_db().drop().await.unwrap();
        store.cooked_db().drop().await.unwrap();
    }
}
