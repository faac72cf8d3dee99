//! `godo`: the recorder that runs as root on each Docker host.
//!
//! `main` only parses the command line and hands over to `run`; see the crate's modules for the
//! parts (audit parsing, the kernel sources, the sinks).

use std::process::ExitCode;

use clap::Parser;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = (&cli.mongo, &cli.uri, &cli.db, &cli.write);
    eprintln!("godo: live recording is not built yet; nothing was recorded");
    ExitCode::from(2)
}
