//! `dockwatch-tui`: the analyst's terminal investigator.

mod report_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Browse the Docker process tree of a host and the files it changed, from MongoDB or a capture.
#[derive(Debug, Parser)]
#[command(name = "dockwatch-tui", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// MongoDB server as host:port.
    #[arg(long)]
    mongo: Option<String>,
}

/// Subcommands; without one, the interactive investigator opens.
#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Report(report_cmd::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Report(command)) = cli.command {
        return match report_cmd::run(command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("dockwatch-tui: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let _ = &cli.mongo;
    eprintln!("dockwatch-tui: the investigator is not built yet");
    ExitCode::from(2)
}
