//! `dockwatch-tui`: the analyst's terminal investigator.

use std::process::ExitCode;

use clap::Parser;

/// Browse the Docker process tree of a host and the files it changed, from MongoDB or a capture.
#[derive(Debug, Parser)]
#[command(name = "dockwatch-tui", version, about, long_about = None)]
struct Cli {
    /// MongoDB server as host:port.
    #[arg(long)]
    mongo: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = &cli.mongo;
    eprintln!("dockwatch-tui: the investigator is not built yet");
    ExitCode::from(2)
}
