//! The foundation end to end: a capture file written in batches, read back and imported into the
//! real MongoDB-wire server, then listed and streamed back per boot, equal to what was written.

use dockwatch_e2e::{samples, test_store_config};
use dockwatch_shared::Event;
use dockwatch_shared::storage::capture::{CaptureReader, CaptureWriter};
use dockwatch_shared::storage::store::Store;

/// Every sample kind on two boots of one host, 40 copies each, stamped with one run.
fn recording() -> Vec<Event> {
    let mut out = Vec::new();
    for copy in 0..40_i64 {
        for (i, mut e) in samples().into_iter().enumerate() {
            e.boot_id = if copy % 2 == 0 { "boot-a" } else { "boot-b" }.to_owned();
            e.seq = out.len() as u64;
            e.time = dockwatch_shared::Timestamp(1_000_000 * copy + i as i64);
            out.push(e);
        }
    }
    out
}

#[tokio::test]
async fn capture_file_imported_into_the_store_reads_back_identically() {
    let Some(config) = test_store_config("dw_e2e_found") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.jsonl.zst");
    let events = recording();

    let mut writer = CaptureWriter::create(&path).unwrap();
    for batch in events.chunks(100) {
        writer.write_batch(batch).unwrap();
    }
    writer.finish().unwrap();

    let mut reader = CaptureReader::open(&path).unwrap();
    let read: Vec<Event> = reader.by_ref().map(Result::unwrap).collect();
    assert_eq!(reader.skipped(), 0);
    assert_eq!(read, events);

    let store = Store::connect(&config).await.unwrap();
    // Run the checks in a task so that a failure still drops the test databases below.
    let checks = tokio::spawn({
        let store = store.clone();
        async move {
            for batch in read.chunks(250) {
                store.insert_events(batch).await.unwrap();
            }
            let boots = store.list_boots().await.unwrap();
            assert_eq!(boots.len(), 2);
            for boot in &boots {
                let want: Vec<&Event> = events
                    .iter()
                    .filter(|e| e.boot_id == boot.boot_id)
                    .collect();
                assert_eq!(boot.events, want.len() as u64);
                let mut stream = store.stream_boot(boot).await.unwrap();
                let mut got = Vec::new();
                while let Some(e) = stream.next_event().await {
                    got.push(e.unwrap());
                }
                assert_eq!(Some(stream.read()), stream.total());
                assert_eq!(got.iter().collect::<Vec<_>>(), want);
            }
        }
    })
    .await;
    let _ = store.raw_db().drop().await;
    let _ = store.cooked_db().drop().await;
    if let Err(e) = checks {
        std::panic::resume_unwind(e.into_panic());
    }
}
