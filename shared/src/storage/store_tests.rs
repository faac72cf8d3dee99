//! Store tests against the real MongoDB-wire server at `DOCKWATCH_TEST_MONGO` (skipped, with a
//! message, when it is unset outside CI). Each test uses its own databases and drops them.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use futures_util::{FutureExt, StreamExt};

use super::*;
use crate::model::event::{Event, EventKind, Exit, Source};
use crate::testing::{samples, test_store_config};

/// Runs `body` with a fresh store on unique databases, then drops them, even when `body` panics.
async fn with_store<F, Fut>(prefix: &str, body: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some(config) = test_store_config(prefix) else {
        return;
    };
    let store = Store::connect(&config)
        .await
        .expect("connect to the test server");
    let outcome = AssertUnwindSafe(body(store.clone())).catch_unwind().await;
    let _ = store.raw_db().drop().await;
    let _ = store.cooked_db().drop().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

fn exit_event(host: &str, boot: &str, run: &str, seq: u64, time: i64) -> Event {
    Event {
        host: host.to_owned(),
        boot_id: boot.to_owned(),
        run: run.to_owned(),
        seq,
        time: Timestamp(time),
        source: Source::Connector,
        audit: None,
        kind: EventKind::Exit(Exit {
            pid: (seq % 30_000) as i32 + 2,
            tgid: (seq % 30_000) as i32 + 2,
            exit_code: Some(0),
            signal: None,
        }),
    }
}

const BOOTS: [(&str, &str); 3] = [("alpha", "boot-1"), ("alpha", "boot-2"), ("beta", "boot-1")];

/// 100,000 events over three (host, boot) pairs, in an order that is not time order, with equal
/// times so that run and seq decide, and two runs whose names sort against insertion order.
fn many_events(n: u64) -> Vec<Event> {
    (0..n)
        .map(|i| {
            let (host, boot) = BOOTS[(i % 3) as usize];
            let run = if i < n / 2 { "r1" } else { "r0" };
            let time = 1_700_000_000_000_000 + ((i * 7919) % n / 6) as i64;
            exit_event(host, boot, run, i, time)
        })
        .collect()
}

#[tokio::test]
async fn hundred_thousand_events_round_trip_in_order_per_boot() {
    with_store("dw_store_100k", |store| async move {
        let events = many_events(100_000);
        let mut inserted = 0;
        for batch in events.chunks(5_000) {
            let r = store.insert_events(batch).await.expect("insert");
            assert_eq!(r.duplicates, 0);
            inserted += r.inserted;
        }
        assert_eq!(inserted, 100_000);

        let mut expected: HashMap<(&str, &str), Vec<&Event>> = HashMap::new();
        for e in &events {
            expected
                .entry((e.host.as_str(), e.boot_id.as_str()))
                .or_default()
                .push(e);
        }
        for list in expected.values_mut() {
            list.sort_by(|a, b| (a.time, &a.run, a.seq).cmp(&(b.time, &b.run, b.seq)));
        }

        let boots = store.list_boots().await.expect("list");
        for (host, boot) in BOOTS {
            let want = &expected[&(host, boot)];
            let mut stream = if host == BOOTS[0].0 {
                let summary = boots
                    .iter()
                    .find(|b| b.host == host && b.boot_id == boot)
                    .expect("listed");
                let stream = store.stream_boot(summary).await.expect("stream");
                assert_eq!(stream.total(), Some(want.len() as u64));
                stream
            } else {
                let stream = store.stream_events(host, boot).await.expect("stream");
                assert_eq!(stream.total(), None, "nothing is counted");
                stream
            };
            assert_eq!(stream.read(), 0);
            let mut got = Vec::with_capacity(want.len());
            while let Some(e) = stream.next().await {
                got.push(e.expect("a valid event"));
                assert_eq!(stream.read(), got.len() as u64);
            }
            assert_eq!(got.len(), want.len(), "{host}/{boot}");
            for (g, w) in got.iter().zip(want.iter()) {
                assert_eq!(g, *w);
            }
        }
    })
    .await;
}

#[tokio::test]
async fn list_boots_counts_and_time_ranges() {
    with_store("dw_store_boots", |store| async move {
        assert!(store.list_boots().await.expect("empty list").is_empty());
        let events = many_events(3_000);
        store.insert_events(&events).await.expect("insert");
        let boots = store.list_boots().await.expect("list");
        let hosts: Vec<(&str, &str)> = boots
            .iter()
            .map(|b| (b.host.as_str(), b.boot_id.as_str()))
            .collect();
        // Sorted by host, then by first event time (boot-1 and boot-2 of alpha start together;
        // boot id decides).
        assert_eq!(hosts, BOOTS.to_vec());
        for b in &boots {
            let mine: Vec<&Event> = events
                .iter()
                .filter(|e| e.host == b.host && e.boot_id == b.boot_id)
                .collect();
            assert_eq!(b.events, mine.len() as u64);
            assert_eq!(b.first, mine.iter().map(|e| e.time).min().expect("some"));
            assert_eq!(b.last, mine.iter().map(|e| e.time).max().expect("some"));
        }
    })
    .await;
}

#[tokio::test]
async fn the_boot_list_comes_from_summaries_the_writer_keeps_equal_to_a_scan() {
    with_store("dw_store_summaries", |store| async move {
        let events = many_events(3_000);
        for batch in events.chunks(400) {
            store.insert_events(batch).await.expect("insert");
        }
        // A retried batch: its boots are recounted, nothing is counted twice.
        let report = store.insert_events(&events[..400]).await.expect("retry");
        assert_eq!(report.duplicates, 400);
        let listed = store.list_boots().await.expect("list");
        assert_eq!(listed, store.list_boots_by_scan().await.expect("scan"));
        assert_eq!(listed.iter().map(|b| b.events).sum::<u64>(), 3_000);
        let summaries = store.raw_db().collection::<Document>(BOOTS_COLLECTION);
        let count = |c: Collection<Document>| async move {
            c.count_documents(doc! {}).await.expect("count")
        };
        assert_eq!(count(summaries.clone()).await, 3, "one summary per boot");
        // A log written before summaries existed: listed by a scan until a writer opens it,
        // which summarizes every boot once.
        summaries.drop().await.expect("drop the summaries");
        assert_eq!(store.list_boots().await.expect("by scan"), listed);
        store.backfill_boot_summaries().await.expect("backfill");
        assert_eq!(count(summaries.clone()).await, 3);
        assert_eq!(store.list_boots().await.expect("summaries"), listed);
        // A boot first seen after the summaries exist is recounted from the log, whatever the
        // summaries held before.
        let mut late = exit_event("gamma", "boot-9", "r9", 1, 5);
        store
            .insert_events(std::slice::from_ref(&late))
            .await
            .expect("insert");
        late.seq = 2;
        late.time = Timestamp(7);
        store.insert_events(&[late]).await.expect("insert");
        let gamma = store.list_boots().await.expect("list");
        let gamma = gamma
            .iter()
            .find(|b| b.host == "gamma")
            .expect("gamma listed");
        assert_eq!(
            (gamma.events, gamma.first, gamma.last),
            (2, Timestamp(5), Timestamp(7))
        );
    })
    .await;
}

#[tokio::test]
async fn a_retried_batch_counts_duplicates_and_stores_nothing_twice() {
    with_store("dw_store_retry", |store| async move {
        let events = many_events(1_000);
        let first = store.insert_events(&events[..600]).await.expect("first");
        assert_eq!(
            first,
            InsertReport {
                inserted: 600,
                duplicates: 0
            }
        );
        // A retry that overlaps: 600 already there, 400 new.
        let second = store.insert_events(&events).await.expect("retry");
        assert_eq!(
            second,
            InsertReport {
                inserted: 400,
                duplicates: 600
            }
        );
        let n = store
            .events_collection()
            .count_documents(doc! {})
            .await
            .expect("count");
        assert_eq!(n, 1_000);
    })
    .await;
}

#[tokio::test]
async fn every_kind_round_trips_through_the_store_with_its_id() {
    with_store("dw_store_kinds", |store| async move {
        let events = samples();
        store.insert_events(&events).await.expect("insert");
        let mut stream = store
            .stream_events(&events[0].host, &events[0].boot_id)
            .await
            .expect("stream");
        let mut got = Vec::new();
        while let Some(e) = stream.next().await {
            got.push(e.expect("valid"));
        }
        assert_eq!(got, events);
        let doc = store
            .events_collection()
            .find_one(doc! { "kind": "gap" })
            .await
            .expect("find")
            .expect("present");
        assert_eq!(doc.get_str("_id").expect("_id"), "00112233aabbccdd:17");
    })
    .await;
}

#[tokio::test]
async fn a_bad_document_is_reported_and_reading_goes_on() {
    with_store("dw_store_bad", |store| async move {
        let events: Vec<Event> = (0..3)
            .map(|i| exit_event("h", "b", "r", i, 10 + i as i64))
            .collect();
        store.insert_events(&events).await.expect("insert");
        store
            .events_collection()
            .insert_one(
                doc! { "_id": "x:1", "host": "h", "boot_id": "b", "time": 11_i64,
                "run": "x", "seq": 1_i64, "kind": "no_such_kind" },
            )
            .await
            .expect("insert bad");
        let mut stream = store.stream_events("h", "b").await.expect("stream");
        assert_eq!(stream.total(), None);
        let mut good = 0;
        let mut bad = Vec::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(_) => good += 1,
                Err(e) => bad.push(e.to_string()),
            }
        }
        assert_eq!(good, 3);
        assert_eq!(bad.len(), 1);
        assert!(bad[0].contains("x:1"), "{}", bad[0]);
        assert_eq!(stream.read(), 4);
    })
    .await;
}

/// A local port with nothing listening on it.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    port
}

#[tokio::test]
async fn a_refused_connection_is_a_clear_error_at_once() {
    let addr = format!("127.0.0.1:{}", closed_port());
    let mut config = StoreConfig::host_port(&addr);
    // A long server-selection timeout: a refusal must not wait for it.
    config.timeout = Duration::from_secs(60);
    let start = Instant::now();
    let err = Store::connect(&config)
        .await
        .expect_err("nothing listens there");
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(30),
        "waited {took:?} for a refusal"
    );
    assert!(matches!(err, StoreError::Unreachable { .. }), "{err:?}");
    let msg = err.to_string();
    eprintln!("unreachable after {took:?}: {msg}");
    assert!(msg.contains(&addr), "{msg}");
    assert!(msg.contains("check that the server is running"), "{msg}");
    assert!(msg.contains("connection refused"), "{msg}");
    // One readable line: no driver topology dump, in the message or its sources.
    let chain = format!("{:?}", anyhow_like_chain(&err));
    assert!(!chain.contains("Topology"), "{chain}");
    assert!(!msg.contains('\n'), "{msg}");
}

/// Every message of an error and its sources, as a binary's edge prints them.
fn anyhow_like_chain(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        out.push(e.to_string());
        cur = e.source();
    }
    out
}

#[tokio::test]
async fn a_server_that_never_answers_is_an_error_not_a_hang() {
    // Listening but never accepting: the kernel completes TCP handshakes, nobody replies.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let mut config = StoreConfig::host_port(&addr);
    config.timeout = Duration::from_secs(2);
    let start = Instant::now();
    let err = Store::connect(&config).await.expect_err("no MongoDB there");
    let took = start.elapsed();
    assert!(took < Duration::from_secs(10), "took {took:?}");
    eprintln!("silent server after {took:?}: {err}");
    assert!(err.to_string().contains(&addr), "{err}");
    drop(listener);
}

#[tokio::test]
async fn a_malformed_uri_is_a_bad_address() {
    let err = Store::connect(&StoreConfig::uri("mongodb://u:pw@"))
        .await
        .expect_err("no host");
    assert!(matches!(err, StoreError::BadAddress { .. }), "{err:?}");
    assert!(!err.to_string().contains("pw"), "password leaked: {err}");
}

#[tokio::test]
async fn an_event_that_cannot_be_encoded_is_named() {
    with_store("dw_store_encode", |store| async move {
        let mut events: Vec<Event> = (0..3)
            .map(|i| exit_event("h", "b", "r", i, i as i64))
            .collect();
        events[1].seq = u64::MAX;
        let err = store
            .insert_events(&events)
            .await
            .expect_err("seq too large for BSON");
        assert!(matches!(err, StoreError::Encode { .. }), "{err:?}");
        assert!(
            err.to_string().contains(&format!("r:{}", u64::MAX)),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_uri_connects_and_its_own_timeouts_win() {
    if let Some(addr) = crate::testing::test_mongo() {
        let store = Store::connect(&StoreConfig::uri(&format!(
            "mongodb://{addr}/?directConnection=true&appName=dwtest"
        )))
        .await
        .expect("connect by URI");
        assert_eq!(store.raw_db().name(), "test");
        assert_eq!(store.cooked_db().name(), "cooked");
    }
    // A port that accepts connections and never answers: the URI's own selection timeout is
    // what ends the wait.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = silent.local_addr().expect("its address").port();
    let uri = format!("mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=500");
    let start = Instant::now();
    let err = Store::connect(&StoreConfig::uri(&uri))
        .await
        .expect_err("nothing answers");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(err.to_string().contains("within 0.5 s"), "{err}");
    drop(silent);
}

/// The options a fleet sets in its URI reach the driver: `w=majority` for godo's writes (a
/// replica set acknowledges a batch once most members hold it), `readPreference` for the
/// analyst's reads. Here on one server, which accepts both.
#[tokio::test]
async fn a_uri_s_write_concern_and_read_preference_are_used() {
    let Some(mut config) = test_store_config("dw_store_fleet") else {
        return;
    };
    let crate::storage::store::MongoAddress::HostPort(addr) = &config.address else {
        panic!("a host:port test server")
    };
    config.address = crate::storage::store::MongoAddress::Uri(format!(
        "mongodb://{addr}/?directConnection=true&w=majority&readPreference=secondaryPreferred"
    ));
    let store = Store::connect(&config).await.expect("connect by URI");
    let wc = store.raw_db().write_concern().cloned();
    assert_eq!(
        wc.and_then(|w| w.w),
        Some(mongodb::options::Acknowledgment::Majority)
    );
    assert!(
        matches!(
            store.raw_db().selection_criteria(),
            Some(mongodb::options::SelectionCriteria::ReadPreference(
                mongodb::options::ReadPreference::SecondaryPreferred { .. }
            ))
        ),
        "{:?}",
        store.raw_db().selection_criteria()
    );
    let events = many_events(300);
    let report = store
        .insert_events(&events)
        .await
        .expect("insert, w=majority");
    assert_eq!(report.inserted, 300);
    let boots = store.list_boots().await.expect("list");
    let mut stream = store.stream_boot(&boots[0]).await.expect("read");
    let mut read = 0;
    while let Some(e) = stream.next_event().await {
        e.expect("an event");
        read += 1;
    }
    assert_eq!(read, boots[0].events);
    let _ = store.raw_db().drop().await;
    let _ = store.cooked_db().drop().await;
}

#[tokio::test]
async fn unstamped_events_are_refused_not_dropped_as_duplicates() {
    with_store("dw_store_unstamped", |store| async move {
        let mut events: Vec<Event> = (0..3)
            .map(|i| exit_event("h", "b", "r", i, i as i64))
            .collect();
        events[2].run.clear();
        events[2].seq = 0;
        let err = store.insert_events(&events).await.expect_err("unstamped");
        assert!(
            matches!(err, StoreError::Unstamped { index: 2, .. }),
            "{err:?}"
        );
        let n = store
            .events_collection()
            .count_documents(doc! {})
            .await
            .expect("count");
        assert_eq!(n, 0, "nothing of the batch is stored");
    })
    .await;
}

#[tokio::test]
async fn a_private_server_can_stop_and_come_back_with_its_data() {
    let Some(mut server) = crate::testing::SecantusServer::launch() else {
        return;
    };
    let mut config = StoreConfig::host_port(&server.address());
    config.timeout = Duration::from_secs(2);
    let store = Store::connect(&config).await.expect("connect");
    let events: Vec<Event> = (0..10)
        .map(|i| exit_event("h", "b", "r", i, i as i64))
        .collect();
    store.insert_events(&events[..5]).await.expect("insert");

    server.stop();
    let err = store
        .insert_events(&events[5..])
        .await
        .expect_err("server is down");
    eprintln!("while down: {err}");
    assert!(Store::connect(&config).await.is_err());

    server.start();
    let report = store
        .insert_events(&events)
        .await
        .expect("insert after restart");
    assert_eq!(
        report,
        InsertReport {
            inserted: 5,
            duplicates: 5
        }
    );
    assert_eq!(store.list_boots().await.expect("boots")[0].events, 10);
}
