//! Writes a synthetic capture file shaped like what godo records on a busy Docker host
//! ([`Shape::CAPTURE`]: about 500 containers and 51,000 processes per million events, audit
//! events with their audit context), in batches of 4,096 events, each one zstd frame in a `.zst`
//! file, as godo writes them. It is the input of the report benchmark
//! (`benches/report_path.rs`) and of `dockwatch-tui report --replay` measured by hand.
//!
//! `cargo run --release -p dockwatch-shared --example gen_capture -- OUT.jsonl.zst [EVENTS]
//! [--force]` (EVENTS defaults to 1,000,000; an existing OUT is refused unless `--force`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use dockwatch_shared::model::event::EventKind;
use dockwatch_shared::pipeline::synthetic::{self, CAPTURE_BATCH, Shape};
use dockwatch_shared::storage::capture::CaptureWriter;
use dockwatch_shared::storage::output::OutputPolicy;

const USAGE: &str = "usage: gen_capture OUT.jsonl[.zst] [EVENTS] [--force]";

fn main() -> ExitCode {
    let mut out = None;
    let mut events = 1_000_000usize;
    let mut force = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--force" => force = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ if out.is_none() => out = Some(PathBuf::from(arg)),
            _ => match arg.replace('_', "").parse() {
                Ok(n) => events = n,
                Err(_) => {
                    eprintln!("gen_capture: not a number of events: {arg}\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
        }
    }
    let Some(out) = out else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let policy = OutputPolicy {
        replace: force,
        group_readable: false,
    };
    let started = Instant::now();
    let (mut containers, mut processes) = (0u64, 0u64);
    let counted = synthetic::capture_events(events).inspect(|e| match &e.kind {
        EventKind::Container(_) => containers += 1,
        EventKind::Snapshot(_) => processes += 1,
        EventKind::Fork(f) if f.child_pid == f.child_tgid => processes += 1,
        _ => {}
    });
    let result = CaptureWriter::create_with(&out, policy, &[]).and_then(|mut writer| {
        let written = synthetic::write_capture(&mut writer, counted, CAPTURE_BATCH)?;
        writer.finish()?;
        Ok(written)
    });
    match result {
        Ok(written) => {
            let bytes = std::fs::metadata(&out).map_or(0, |m| m.len());
            println!(
                "{}: {written} events, {containers} containers, {processes} processes ({:?}); \
                 {:.1} MB, written in {:.2} s",
                out.display(),
                Shape::CAPTURE,
                bytes as f64 / 1e6,
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen_capture: {e}");
            ExitCode::FAILURE
        }
    }
}
