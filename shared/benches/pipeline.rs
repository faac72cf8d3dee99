//! Benchmarks of the filter pipeline and of reading its input.
//!
//! The pipeline group is timed in CPU time of the benchmark thread (user + system, from
//! `/proc/thread-self/schedstat`), not wall time: on a shared machine the two differ by the load.
//!
//! * `pipeline/investigate_1m_streamed`: the pipeline as the product runs it, on 1,000,000
//!   synthetic events shaped like a busy Docker host's log (`pipeline::synthetic`) generated one
//!   at a time while it takes them (as a store cursor or a capture file hands them over), up to
//!   the investigation it returns; freeing that result is not timed (the product keeps it).
//!   `generate_1m` times the generation alone: the source's share, not the pipeline's.
//! * peak memory: printed once before the timings. A counting global allocator records the most
//!   heap in use while the pipeline takes 1,000,000 events generated one at a time (as from a
//!   store cursor), so the figure is the pipeline's own state, not an input vector.
//! * `read/store_stream_events` against `read/driver_cursor`: reading the same stored events
//!   through `Store::stream_events` and through a plain driver cursor decoding the same type
//!   (needs DOCKWATCH_TEST_MONGO; skipped with a message otherwise). The median of nine
//!   interleaved pairs' ratios is printed too.
//!
//! `cargo bench -p dockwatch-shared --bench pipeline` (set DOCKWATCH_BENCH_SKIP_PIPELINE=1 to run
//! only the read comparison).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dockwatch_shared::model::event::Event;
use dockwatch_shared::pipeline::synthetic::{self, measure};
use dockwatch_shared::storage::store::{EVENTS_COLLECTION, Store};
use dockwatch_shared::testing::test_store_config;
use futures_util::StreamExt;

const EVENTS: usize = 1_000_000;
const STORED: usize = 20_000;

#[global_allocator]
static GLOBAL: measure::CountingAllocator = measure::CountingAllocator;

fn peak_memory() {
    let (files, peak) = measure::peak_heap_of(|| {
        synthetic::investigate(synthetic::events(EVENTS))
            .stats
            .files
    });
    println!(
        "pipeline on {EVENTS} synthetic events streamed into it: peak heap in use {:.1} MB ({files} file records; a run of its own, untimed: counting costs time), load average {:?}",
        peak as f64 / 1e6,
        measure::load_average(),
    );
}

fn pipeline(c: &mut Criterion) {
    if std::env::var_os("DOCKWATCH_BENCH_SKIP_PIPELINE").is_some() {
        return;
    }
    peak_memory();
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(EVENTS as u64));
    // Timed in this thread's CPU time (user + system): on a shared machine wall time measures
    // the neighbours' load too.
    let cpu = || measure::thread_cpu().unwrap_or_default();
    group.bench_function("investigate_1m_streamed", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                let started = cpu();
                let inv = synthetic::investigate(synthetic::events(EVENTS));
                spent += cpu() - started;
                drop(black_box(inv));
            }
            spent
        });
    });
    group.bench_function("generate_1m", |b| {
        b.iter_custom(|iters| {
            let started = cpu();
            for _ in 0..iters {
                black_box(synthetic::events(EVENTS).map(|e| e.seq).max());
            }
            cpu() - started
        });
    });
    group.finish();
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn read(c: &mut Criterion) {
    let Some(config) = test_store_config("bench_read") else {
        println!("read benchmarks skipped: set DOCKWATCH_TEST_MONGO=host:port to run them");
        return;
    };
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        println!("read benchmarks skipped: no tokio runtime");
        return;
    };
    let store = match rt.block_on(Store::connect(&config)) {
        Ok(store) => store,
        Err(e) => {
            println!("read benchmarks skipped: {e}");
            return;
        }
    };
    let events: Vec<Event> = synthetic::events(STORED).collect();
    if let Err(e) = rt.block_on(async {
        store.ensure_indexes().await?;
        for chunk in events.chunks(5_000) {
            store.insert_events(chunk).await?;
        }
        Ok::<_, dockwatch_shared::storage::store::StoreError>(())
    }) {
        println!("read benchmarks skipped: cannot store events: {e}");
        return;
    }

    // One full read each way; errors (an overloaded shared server drops connections) are
    // returned, not panicked on, so the databases are always dropped below.
    let through_store = || async {
        let mut stream = store
            .stream_events(synthetic::HOST, synthetic::BOOT_ID)
            .await
            .map_err(|e| e.to_string())?;
        let mut n = 0usize;
        while let Some(e) = stream.next().await {
            black_box(e.map_err(|e| e.to_string())?);
            n += 1;
        }
        Ok::<usize, String>(n)
    };
    let through_driver = || async {
        let coll = store.raw_db().collection::<Event>(EVENTS_COLLECTION);
        let mut cursor = coll
            .find(bson::doc! { "host": synthetic::HOST, "boot_id": synthetic::BOOT_ID })
            .sort(bson::doc! { "time": 1, "run": 1, "seq": 1 })
            .await
            .map_err(|e| e.to_string())?;
        let mut n = 0usize;
        while let Some(e) = cursor.next().await {
            black_box(e.map_err(|e| e.to_string())?);
            n += 1;
        }
        Ok::<usize, String>(n)
    };

    // Interleaved pairs for the ratio, each pair run back to back (which one goes first
    // alternates), so load on the shared machine hits both alike; the median of the pairs'
    // ratios is the figure, with the medians of each side.
    let (mut s, mut d, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let mut failed = None;
    let mut timed = |store_side: bool| {
        let t = Instant::now();
        let read = if store_side {
            rt.block_on(through_store())
        } else {
            rt.block_on(through_driver())
        };
        match read {
            Ok(n) if n == STORED => Some(t.elapsed()),
            Ok(n) => {
                failed = Some(format!("read {n} of {STORED} events"));
                None
            }
            Err(e) => {
                failed = Some(e);
                None
            }
        }
    };
    for pair in 0..9 {
        let (st, dr) = if pair % 2 == 0 {
            let st = timed(true);
            (st, timed(false))
        } else {
            let dr = timed(false);
            (timed(true), dr)
        };
        if let (Some(st), Some(dr)) = (st, dr) {
            s.push(st);
            d.push(dr);
            ratios.push(dr.as_secs_f64() / st.as_secs_f64());
        }
    }
    if let Some(e) = &failed {
        println!("read comparison incomplete: {e}");
    }
    if !ratios.is_empty() {
        ratios.sort_by(f64::total_cmp);
        let ratio = ratios[ratios.len() / 2];
        let (s, d) = (median(s), median(d));
        println!(
            "reading {STORED} stored events, {} interleaved pairs: Store::stream_events median {:.3} s, plain driver cursor {:.3} s; median of the pairs' ratios: the store runs at {:.0}% of the driver's speed (pairs from {:.0}% to {:.0}%), load average {:?}",
            ratios.len(),
            s.as_secs_f64(),
            d.as_secs_f64(),
            100.0 * ratio,
            100.0 * ratios[0],
            100.0 * ratios[ratios.len() - 1],
            measure::load_average(),
        );
    }

    let mut group = c.benchmark_group("read");
    group.sample_size(10);
    group.throughput(Throughput::Elements(STORED as u64));
    if failed.is_none() {
        group.bench_function("store_stream_events", |b| {
            b.to_async(&rt)
                .iter(|| async { black_box(through_store().await.ok()) })
        });
        group.bench_function("driver_cursor", |b| {
            b.to_async(&rt)
                .iter(|| async { black_box(through_driver().await.ok()) })
        });
    }
    group.finish();

    let _ = rt.block_on(async {
        store.raw_db().drop().await?;
        store.cooked_db().drop().await
    });
}

criterion_group!(benches, pipeline, read);
criterion_main!(benches);
