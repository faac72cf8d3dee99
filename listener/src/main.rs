//! `godo`: the recorder that runs as root on each Docker host.
//!
//! `main` only parses the command line and hands over to `live::run`; see the library's modules
//! for the parts (kernel sources, enrichment, fd tracking, sinks).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Parser};
use dockwatch_shared::presentation::sanitize::message_for_terminal;
use dockwatch_shared::storage::output::OutputPolicy;
use dockwatch_shared::storage::store::MongoAddress;

use dockwatch_listener::live;

/// Records what runs in Docker and what it changes: kernel audit + process connector + /proc,
/// into MongoDB or a capture file.
#[derive(Debug, Parser)]
#[command(name = "godo", version, about, long_about = None)]
struct Cli {
    /// MongoDB server as host:port [default: 127.0.0.1:27017, unless only --write is given].
    #[arg(long)]
    mongo: Option<String>,
    /// Full MongoDB connection string (user, password, TLS options); overrides --mongo.
    #[arg(long)]
    uri: Option<String>,
    /// Database for the raw event log.
    #[arg(long, default_value = "test")]
    db: String,
    /// Write events to this capture file (JSON lines; zstd when it ends in .zst). Alone it
    /// replaces the database; with --mongo or --uri both are written.
    #[arg(long, value_name = "FILE")]
    write: Option<PathBuf>,
    /// Replace an existing --write or --diag file (never through a symbolic link). Without it
    /// an existing file is refused.
    #[arg(long)]
    force: bool,
    /// Create the --write and --diag files readable by their group too (mode 0640, not 0600).
    #[arg(long)]
    group_readable: bool,
    /// Bytes of events kept while MongoDB is unreachable; when full, the newest are dropped and
    /// a gap is recorded.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 30)]
    backlog: u64,
    /// Kernel audit backlog limit (records queued in the kernel before it drops them).
    #[arg(long, value_name = "RECORDS", default_value_t = 65536)]
    kernel_backlog: u32,
    /// Do not become the audit daemon: read the read-only audit log group, beside auditd.
    #[arg(long)]
    multicast: bool,
    /// Write every raw audit record, as received, to FILE.
    #[arg(long, value_name = "FILE")]
    diag: Option<PathBuf>,
    /// Print a status line (events/s, backlog, lost) on stderr every SECS seconds, and a
    /// summary line at exit (events written, audit records and kernel events, losses).
    #[arg(long, value_name = "SECS")]
    status_interval: Option<u64>,
    /// Log what godo does (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = ArgAction::Count)]
    verbose: u8,
    /// Offline import of an auditd log (`--audit-log FILE`, `--host`, `--boot-id`).
    #[command(flatten)]
    import: dockwatch_listener::import::ImportArgs,
}

impl Cli {
    /// The database to write to: the one `--uri` or `--mongo` names, or the default one, unless
    /// `--write` was given alone (a capture file and no database).
    fn database(&self) -> Option<MongoAddress> {
        (self.uri.is_some() || self.mongo.is_some() || self.write.is_none())
            .then(|| MongoAddress::from_flags(self.uri.as_deref(), self.mongo.as_deref()))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let output = OutputPolicy {
        replace: cli.force,
        group_readable: cli.group_readable,
    };
    let database = cli.database();
    if !cli.import.audit_log.is_empty() {
        let dest = dockwatch_listener::import::Destinations {
            mongo: database.map(|address| (address, cli.db.clone())),
            write: cli.write.clone(),
            output,
        };
        return match dockwatch_listener::import::run(&cli.import, dest) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("godo: {}", message_for_terminal(&format!("{e:#}")));
                ExitCode::FAILURE
            }
        };
    }
    let cfg = live::Config {
        database,
        db: cli.db,
        write: cli.write,
        backlog: cli.backlog,
        kernel_backlog: cli.kernel_backlog,
        multicast: cli.multicast,
        diag: cli.diag,
        output,
        status_interval: cli.status_interval,
        verbose: cli.verbose,
    };
    match live::run(cfg) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("godo: {}", message_for_terminal(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockwatch_shared::storage::store::DEFAULT_ADDRESS;

    fn database(args: &[&str]) -> Option<MongoAddress> {
        Cli::try_parse_from([&["godo"], args].concat())
            .expect("valid flags")
            .database()
    }

    #[test]
    fn write_alone_needs_no_database() {
        assert_eq!(database(&["--write", "x.jsonl"]), None);
        assert_eq!(
            database(&["--write", "x.jsonl", "--mongo", "h:1"]),
            Some(MongoAddress::HostPort("h:1".into()))
        );
        assert_eq!(
            database(&[]),
            Some(MongoAddress::HostPort(DEFAULT_ADDRESS.into()))
        );
        assert_eq!(
            database(&["--write", "x", "--mongo", "h:1", "--uri", "mongodb://u@h/"]),
            Some(MongoAddress::Uri("mongodb://u@h/".into()))
        );
    }
}
