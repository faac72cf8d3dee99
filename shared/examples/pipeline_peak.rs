//! Runs the pipeline on N synthetic events (default 1,000,000) and prints its CPU time (user +
//! system, the honest figure on a shared machine), wall time, the machine's load average and the
//! peak of heap memory in use, measured by a counting global allocator.
//!
//! `cargo run --release -p dockwatch-shared --example pipeline_peak [N]`; pin it to one core
//! with `taskset -c 1`. For the process's whole peak RSS run the built binary under
//! `/usr/bin/time -v`.

use std::time::Instant;

use dockwatch_shared::pipeline::synthetic::{self, measure};
use dockwatch_shared::pipeline::{Step, investigate};
use dockwatch_shared::time::Timestamp;

#[global_allocator]
static GLOBAL: measure::CountingAllocator = measure::CountingAllocator;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    println!("load average before: {:?}", measure::load_average());

    // 1. From a vector built first: the pipeline alone, step by step (CPU ms per step).
    let events: Vec<_> = synthetic::events(n).collect();
    let (wall, cpu) = (Instant::now(), measure::cpu_seconds());
    let mut last = (Step::Sort, measure::cpu_seconds());
    let mut steps = Vec::new();
    let inv = investigate(
        events,
        synthetic::HOST,
        synthetic::BOOT_ID,
        Timestamp(0),
        &mut |p| {
            if p.step != last.0 {
                let now = measure::cpu_seconds();
                steps.push(format!("{:?} {:.0}", last.0, (now - last.1) * 1e3));
                last = (p.step, now);
            }
        },
    );
    let (vec_cpu, vec_wall) = (measure::cpu_seconds() - cpu, wall.elapsed().as_secs_f64());
    let t = Instant::now();
    let tree = inv.stats.tree_processes;
    drop(inv);
    println!(
        "{n} events from a vector: pipeline {vec_cpu:.2} s CPU, {vec_wall:.3} s wall ({tree} tree processes); \
         freeing the result {:.3} s",
        t.elapsed().as_secs_f64()
    );
    println!(
        "  CPU ms per step (10 ms ticks; the events were taken before Sort): {}",
        steps.join(", ")
    );

    // 2. Streamed, as from a store cursor: events generated one at a time while the pipeline
    // takes them. The generator's own cost is measured alone first and subtracted.
    let cpu = measure::cpu_seconds();
    let generated = synthetic::events(n).filter(|e| !e.host.is_empty()).count();
    let generate = measure::cpu_seconds() - cpu;
    let (cpu, wall) = (measure::cpu_seconds(), Instant::now());
    let (inv, peak) = measure::peak_heap_of(|| synthetic::investigate(synthetic::events(n)));
    let streamed = measure::cpu_seconds() - cpu;
    println!(
        "{generated} events fed one at a time: peak heap {:.1} MB; {streamed:.2} s CPU ({:.3} s wall) with generation, \
         generation alone {generate:.2} s: pipeline {:.2} s CPU (result {} processes)",
        peak as f64 / 1e6,
        wall.elapsed().as_secs_f64(),
        streamed - generate,
        inv.stats.tree_processes
    );
    println!("load average after: {:?}", measure::load_average());
}
