//! Insert throughput through `Store::insert_events` against a plain driver `insert_many` of the
//! same documents (pre-encoded, with the same `_id`s, into a collection with the same index), on
//! the real server at `DOCKWATCH_TEST_MONGO`. The store's overhead (encoding events, building
//! `_id`s, sorting out duplicate-key errors) should stay under 10%.
//!
//! Run: `DOCKWATCH_TEST_MONGO=127.0.0.1:27017 cargo bench -p dockwatch-shared --bench store_insert`.
//! Without the variable it prints why and does nothing.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bson::Document;
use criterion::{Criterion, SamplingMode, Throughput};
use dockwatch_shared::model::event::{Event, EventKind};
use dockwatch_shared::model::text::ByteString;
use dockwatch_shared::storage::store::{Store, StoreConfig, event_document};
use dockwatch_shared::testing::{MONGO_ENV, samples};

/// Events per insert call: about what `godo` sends per batch under load.
const BATCH: usize = 1_000;

/// A realistic mix: every kind, with short arguments (the 4 KiB test arguments are not typical).
fn batch(run: &str) -> Vec<Event> {
    let kinds: Vec<Event> = samples()
        .into_iter()
        .map(|mut e| {
            let process = match &mut e.kind {
                EventKind::Exec(x) => Some(&mut x.process),
                EventKind::Snapshot(x) => Some(&mut x.process),
                EventKind::Fork(x) => x.child.as_mut(),
                _ => None,
            };
            if let Some(p) = process {
                p.args = vec![
                    ByteString::from("/bin/sh"),
                    ByteString::from("-c"),
                    ByteString::from("echo hello > /tmp/x"),
                ];
            }
            e
        })
        .collect();
    (0..BATCH)
        .map(|i| {
            let mut e = kinds[i % kinds.len()].clone();
            e.run = run.to_owned();
            e.seq = i as u64;
            e
        })
        .collect()
}

/// Total time and events of one variant, across all of criterion's iterations.
#[derive(Default)]
struct Tally {
    events: u64,
    time: Duration,
}

impl Tally {
    fn per_second(&self) -> f64 {
        self.events as f64 / self.time.as_secs_f64().max(1e-9)
    }
}

static RUN: AtomicU64 = AtomicU64::new(0);

fn next_run() -> String {
    format!("bench{:011x}", RUN.fetch_add(1, Ordering::Relaxed))
}

fn main() {
    let Ok(addr) = std::env::var(MONGO_ENV) else {
        eprintln!(
            "store_insert: skipped, {MONGO_ENV} is not set (host:port of a MongoDB-wire server)"
        );
        return;
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("store_insert: cannot start a tokio runtime: {e}");
            std::process::exit(1);
        }
    };
    let tag = format!("dw_bench_{}", std::process::id());
    let connect = |suffix: &str| {
        let mut c = StoreConfig::host_port(&addr);
        c.raw_db = format!("{tag}_{suffix}");
        c.cooked_db = format!("{tag}_{suffix}_cooked");
        rt.block_on(async {
            let s = Store::connect(&c).await?;
            s.ensure_indexes().await?;
            Ok::<_, dockwatch_shared::storage::store::StoreError>(s)
        })
    };
    let (store, plain) = match (connect("store"), connect("driver")) {
        (Ok(s), Ok(p)) => (s, p),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("store_insert: {e}");
            std::process::exit(1);
        }
    };
    let plain_coll = plain.events_collection();

    // Warm both collections (and the server) up, so neither variant pays for a cold start.
    for _ in 0..2 {
        let events = batch(&next_run());
        let docs: Vec<Document> = batch(&next_run())
            .iter()
            .filter_map(|e| event_document(e).ok())
            .collect();
        let warm = rt.block_on(async {
            store.insert_events(&events).await?;
            plain_coll
                .insert_many(&docs)
                .ordered(false)
                .await
                .map_err(
                    |e| dockwatch_shared::storage::store::StoreError::BadResult {
                        operation: "warm-up insert",
                        detail: e.to_string(),
                    },
                )?;
            Ok::<_, dockwatch_shared::storage::store::StoreError>(())
        });
        if let Err(e) = warm {
            eprintln!("store_insert: {e}");
            std::process::exit(1);
        }
    }

    let store_tally = Mutex::new(Tally::default());
    let driver_tally = Mutex::new(Tally::default());

    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(12))
        .configure_from_args();
    {
        let mut group = criterion.benchmark_group("insert");
        group.sampling_mode(SamplingMode::Flat);
        group.throughput(Throughput::Elements(BATCH as u64));
        group.bench_function("store_insert_events", |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let store = store.clone();
                let tally = &store_tally;
                async move {
                    let mut spent = Duration::ZERO;
                    for _ in 0..iters {
                        let events = batch(&next_run());
                        let start = Instant::now();
                        let report = store.insert_events(&events).await;
                        spent += start.elapsed();
                        if let Err(e) = report {
                            eprintln!("store_insert: {e}");
                            std::process::exit(1);
                        }
                    }
                    if let Ok(mut t) = tally.lock() {
                        t.events += iters * BATCH as u64;
                        t.time += spent;
                    }
                    spent
                }
            });
        });
        group.bench_function("driver_insert_many", |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let coll = plain_coll.clone();
                let tally = &driver_tally;
                async move {
                    let mut spent = Duration::ZERO;
                    for _ in 0..iters {
                        let docs: Vec<Document> = batch(&next_run())
                            .iter()
                            .filter_map(|e| event_document(e).ok())
                            .collect();
                        let start = Instant::now();
                        let result = coll.insert_many(&docs).ordered(false).await;
                        spent += start.elapsed();
                        if let Err(e) = result {
                            eprintln!("store_insert: plain insert_many: {e}");
                            std::process::exit(1);
                        }
                    }
                    if let Ok(mut t) = tally.lock() {
                        t.events += iters * BATCH as u64;
                        t.time += spent;
                    }
                    spent
                }
            });
        });
        group.finish();
    }
    {
        // What the store adds on the client: turning events into BSON documents with their `_id`.
        let events = batch("encode0000000000");
        let mut group = criterion.benchmark_group("encode");
        group.throughput(Throughput::Elements(BATCH as u64));
        group.bench_function("event_documents", |b| {
            b.iter(|| events.iter().filter_map(|e| event_document(e).ok()).count())
        });
        group.finish();
    }
    criterion.final_summary();

    // Criterion runs one variant after the other; on a shared, loaded machine the server's speed
    // drifts between them. Alternating batches cancels that drift out of the ratio.
    let rounds = 12;
    let (mut store_time, mut driver_time) = (Duration::ZERO, Duration::ZERO);
    for round in 0..rounds {
        let events = batch(&next_run());
        let docs: Vec<Document> = batch(&next_run())
            .iter()
            .filter_map(|e| event_document(e).ok())
            .collect();
        let timed = rt.block_on(async {
            let mut t = [Duration::ZERO; 2];
            for which in [round % 2, 1 - round % 2] {
                let start = Instant::now();
                if which == 0 {
                    store.insert_events(&events).await.map(|_| ())?;
                } else {
                    plain_coll
                        .insert_many(&docs)
                        .ordered(false)
                        .await
                        .map(|_| ())
                        .map_err(
                            |e| dockwatch_shared::storage::store::StoreError::BadResult {
                                operation: "plain insert_many",
                                detail: e.to_string(),
                            },
                        )?;
                }
                t[which] = start.elapsed();
            }
            Ok::<_, dockwatch_shared::storage::store::StoreError>(t)
        });
        match timed {
            Ok([s, d]) => {
                store_time += s;
                driver_time += d;
            }
            Err(e) => {
                eprintln!("store_insert: {e}");
                std::process::exit(1);
            }
        }
    }
    let n = (rounds * BATCH) as f64;
    let (s_rate, d_rate) = (
        n / store_time.as_secs_f64().max(1e-9),
        n / driver_time.as_secs_f64().max(1e-9),
    );
    println!(
        "store_insert interleaved ({rounds} batches of {BATCH} each): store {s_rate:.0} events/s, \
         plain driver {d_rate:.0} events/s, store overhead {:+.1}%",
        (d_rate / s_rate - 1.0) * 100.0
    );

    let (s, d) = match (store_tally.lock(), driver_tally.lock()) {
        (Ok(s), Ok(d)) => (s.per_second(), d.per_second()),
        _ => (0.0, 0.0),
    };
    if s > 0.0 && d > 0.0 {
        println!(
            "store_insert criterion totals: store {s:.0} events/s, plain driver {d:.0} events/s, \
             store/driver throughput ratio {:.3} (store overhead {:+.1}%)",
            s / d,
            (d / s - 1.0) * 100.0
        );
    }
    rt.block_on(async {
        for s in [&store, &plain] {
            let _ = s.raw_db().drop().await;
            let _ = s.cooked_db().drop().await;
        }
    });
}
