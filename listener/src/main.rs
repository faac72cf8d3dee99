//! `godo`: the recorder that runs as root on each Docker host.
//!
//! `main` only parses the command line and hands over to `run`; see the crate's modules for the
//! parts (audit parsing, the kernel sources, the sinks).

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser};

/// Records what runs in Docker and what it changes: kernel audit + process connector + /proc,
/// into MongoDB or a capture file.
#[derive(Debug, Parser)]
#[command(name = "godo", version, about, long_about = None)]
struct Cli {
    /// MongoDB server as host:port.
    #[arg(long, default_value = "127.0.0.1:27017")]
    mongo: String,
    /// Full MongoDB connection string (user, password, TLS options); overrides --mongo.
    #[arg(long)]
    uri: Option<String>,
    /// Database for the raw event log.
    #[arg(long, default_value = "test")]
    db: String,
    /// Also (or instead, without a database) write events to this capture file (JSON lines;
    /// zstd-compressed when it ends in .zst).
    #[arg(long, value_name = "FILE")]
    write: Option<std::path::PathBuf>,
    /// Offline import of an auditd log (`--audit-log FILE`, `--host`, `--boot-id`).
    #[command(flatten)]
    import: dockwatch_listener::import::ImportArgs,
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    if cli.import.audit_log.is_some() {
        let mongo_explicit =
            matches.value_source("mongo") == Some(clap::parser::ValueSource::CommandLine);
        let dest = dockwatch_listener::import::Destinations::choose(
            &cli.mongo,
            mongo_explicit,
            cli.uri.as_deref(),
            &cli.db,
            cli.write.as_deref(),
        );
        return match dockwatch_listener::import::run(&cli.import, dest) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("godo: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let _ = (&cli.mongo, &cli.uri, &cli.db, &cli.write);
    eprintln!("godo: live recording is not built yet; nothing was recorded");
    ExitCode::from(2)
}
