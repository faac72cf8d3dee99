//! Benchmark of the product path of `dockwatch-tui report --replay CAPTURE`: a capture file read
//! back, the pipeline run on it, and the report written to a file.
//!
//! A synthetic capture shaped like a busy Docker host's (`pipeline::synthetic::Shape::CAPTURE`:
//! about 500 containers and 51,000 processes per million events, audit events with the audit
//! context godo records, one zstd frame per batch of 4,096 events, as godo writes it) is written
//! once into a temporary directory; DOCKWATCH_BENCH_EVENTS sets its size (default 1,000,000).
//! Then, timed in wall time (the goal is the analyst's wait) on whatever cores the benchmark
//! runs on (pin it with `taskset -c 1`; the path itself uses one thread):
//!
//! * `report_path/json`: `load::from_capture`, then the JSON document (`ExportDoc` and
//!   `write_json`, compact) written through a `BufWriter` to a file, then dropping the result;
//! * `report_path/text`: the same load, then `report::write_text` into a file.
//!
//! Before the timings, one untimed-by-criterion run prints each part's time (load, writing) and
//! the peak of heap in use, counted by a global allocator (counting costs time, so criterion's
//! runs do not count). The whole process's peak RSS is the binary's, measured with
//! `/usr/bin/time -v target/release/dockwatch-tui report --replay ...` (docs/benchmarks.md).
//!
//! `cargo bench -p dockwatch-shared --bench report_path`

use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dockwatch_shared::load::{self, Loaded};
use dockwatch_shared::model::time::Timestamp;
use dockwatch_shared::pipeline::synthetic::{self, CAPTURE_BATCH, measure};
use dockwatch_shared::presentation::report::{ExportDoc, write_json, write_text};
use dockwatch_shared::storage::capture::CaptureWriter;

#[global_allocator]
static GLOBAL: measure::CountingAllocator = measure::CountingAllocator;

fn events() -> usize {
    std::env::var("DOCKWATCH_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(1_000_000)
}

fn load(capture: &Path) -> Loaded {
    load::from_capture(capture, None, None, Timestamp(0), &mut |_| {})
        .unwrap_or_else(|e| panic!("loading {}: {e}", capture.display()))
}

/// Writes the report as `dockwatch-tui report --out` does: through a 1 MiB buffer to a file.
fn write_report(loaded: &Loaded, out: &Path, json: bool) {
    let file = File::create(out).unwrap_or_else(|e| panic!("creating {}: {e}", out.display()));
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let inv = &loaded.investigation;
    if json {
        write_json(&mut w, &ExportDoc::new(inv, None), false).expect("writing the JSON report");
        w.write_all(b"\n").expect("writing the JSON report");
    } else {
        write_text(inv, &mut w).expect("writing the text report");
    }
    w.flush().expect("writing the report");
}

/// One run of each part, timed alone, with the peak of heap in use.
fn breakdown(capture: &Path, dir: &Path) {
    let started = Instant::now();
    let (loaded, peak_load) = measure::peak_heap_of(|| load(capture));
    let load_time = started.elapsed();
    let s = &loaded.investigation.stats;
    println!(
        "capture of {} events: {} processes ({} in the Docker tree), {} file records",
        s.events, s.processes, s.tree_processes, s.files
    );
    println!(
        "  load (read, decode, pipeline): {:.3} s wall, peak heap in use {:.1} MB (counting)",
        load_time.as_secs_f64(),
        peak_load as f64 / 1e6
    );
    for (name, json) in [("json", true), ("text", false)] {
        let out = dir.join(format!("report.{name}"));
        let started = Instant::now();
        let ((), peak) = measure::peak_heap_of(|| write_report(&loaded, &out, json));
        let size = std::fs::metadata(&out).map_or(0, |m| m.len());
        println!(
            "  write {name} ({:.1} MB): {:.3} s wall, heap it adds at most {:.1} MB",
            size as f64 / 1e6,
            started.elapsed().as_secs_f64(),
            peak as f64 / 1e6
        );
    }
    let started = Instant::now();
    drop(loaded);
    println!(
        "  freeing the result: {:.3} s; load average {:?}",
        started.elapsed().as_secs_f64(),
        measure::load_average()
    );
}

fn report_path(c: &mut Criterion) {
    let n = events();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let capture = dir.path().join("capture.jsonl.zst");
    let started = Instant::now();
    let mut writer = CaptureWriter::create(&capture).expect("creating the capture");
    synthetic::write_capture(&mut writer, synthetic::capture_events(n), CAPTURE_BATCH)
        .expect("writing the capture");
    writer.finish().expect("closing the capture");
    println!(
        "generated {} ({:.1} MB) in {:.1} s",
        capture.display(),
        std::fs::metadata(&capture).map_or(0, |m| m.len()) as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    breakdown(&capture, dir.path());

    let mut group = c.benchmark_group("report_path");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(n as u64));
    for (name, json) in [("json", true), ("text", false)] {
        let out = dir.path().join(format!("bench.{name}"));
        group.bench_function(name, |b| {
            b.iter(|| {
                let loaded = load(&capture);
                write_report(&loaded, &out, json);
                drop(black_box(loaded));
            });
        });
    }
    group.finish();
}

criterion_group!(benches, report_path);
criterion_main!(benches);
