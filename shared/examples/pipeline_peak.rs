//! Runs the pipeline as the product does, on N synthetic events (default 1,000,000) streamed
//! into it one at a time (as from a store cursor or a capture file), and prints the thread's CPU
//! time (user + system, the honest figure on a shared machine) per step, wall time, the machine's
//! load average and the peak of heap memory in use, measured by a counting global allocator in a
//! second run (counting costs time, so the timed run does not count).
//!
//! `cargo run --release -p dockwatch-shared --example pipeline_peak [N]`; pin it to one core
//! with `taskset -c 1`. For the process's whole peak RSS run the built binary under
//! `/usr/bin/time -v`.

use std::time::{Duration, Instant};

use dockwatch_shared::model::time::Timestamp;
use dockwatch_shared::pipeline::synthetic::{self, measure};
use dockwatch_shared::pipeline::{Step, investigate};

#[global_allocator]
static GLOBAL: measure::CountingAllocator = measure::CountingAllocator;

fn cpu() -> Duration {
    measure::thread_cpu().unwrap_or_default()
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    println!("load average before: {:?}", measure::load_average());

    // The source alone: what generating the events costs (decoding them, in the product).
    let started = cpu();
    let generated = synthetic::events(n).filter(|e| !e.host.is_empty()).count();
    let generate = cpu() - started;

    // The pipeline taking the events as they are generated, then its steps; "Take" is the
    // generation plus the pipeline's intake, before its first step.
    let (wall, started) = (Instant::now(), cpu());
    let mut last = (None, started);
    let mut steps = Vec::new();
    let inv = investigate(
        synthetic::events(n),
        synthetic::HOST,
        synthetic::BOOT_ID,
        Timestamp(0),
        &mut |p| {
            if last.0 != Some(p.step) {
                let now = cpu();
                let name = last.0.map_or("Take".to_owned(), |s: Step| format!("{s:?}"));
                steps.push(format!("{name} {:.0}", (now - last.1).as_secs_f64() * 1e3));
                last = (Some(p.step), now);
            }
        },
    );
    let (total, wall) = (
        (cpu() - started).as_secs_f64(),
        wall.elapsed().as_secs_f64(),
    );
    if let Some(step) = last.0 {
        steps.push(format!(
            "{step:?} {:.0}",
            (cpu() - last.1).as_secs_f64() * 1e3
        ));
    }
    let tree = inv.stats.tree_processes;
    let started = cpu();
    drop(inv);
    let freeing = (cpu() - started).as_secs_f64();
    println!(
        "{generated} events streamed: {total:.3} s CPU ({wall:.3} s wall) with generating them, \
         generation alone {:.3} s; {tree} tree processes; freeing the result afterwards {freeing:.3} s",
        generate.as_secs_f64()
    );
    println!("  CPU ms per step: {}", steps.join(", "));

    let (inv, peak) = measure::peak_heap_of(|| synthetic::investigate(synthetic::events(n)));
    println!(
        "peak heap in use while streaming {} events: {:.1} MB",
        inv.stats.events,
        peak as f64 / 1e6
    );
    println!("load average after: {:?}", measure::load_average());
}
