//! `dockwatch-tui`: the analyst's terminal investigator. Parses the command line, checks it
//! into a [`Source`], and hands over to the run loop (or to a subcommand).

mod report_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Args, Parser, Subcommand};
use dockwatch_shared::store::StoreConfig;
use dockwatch_tui::loader::{MongoSource, ReplaySource, Source};

/// Browse the Docker process tree of a host and the files it changed, from MongoDB or a capture.
#[derive(Debug, Parser)]
#[command(name = "dockwatch-tui", version, about, long_about = None)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    open: OpenArgs,
}

/// Subcommands; without one, the interactive investigator opens.
#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Report(report_cmd::Command),
}

/// Where the investigator reads from.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").args(["mongo", "uri", "replay", "demo"])))]
struct OpenArgs {
    /// MongoDB server as host:port (default 127.0.0.1:27017).
    #[arg(long, value_name = "HOST:PORT")]
    mongo: Option<String>,
    /// MongoDB connection string, e.g. mongodb://user:pass@host/?tls=true.
    #[arg(long, value_name = "URI")]
    uri: Option<String>,
    /// Database with the raw events.
    #[arg(long, default_value = "test", value_name = "NAME")]
    db: String,
    /// Database the cooked result is written to.
    #[arg(long, default_value = "cooked", value_name = "NAME")]
    cooked_db: String,
    /// Host to investigate (asked when there are several).
    #[arg(long)]
    host: Option<String>,
    /// Boot id to investigate (asked when there are several).
    #[arg(long)]
    boot: Option<String>,
    /// Read a capture file written by `godo --write` instead of MongoDB.
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,
    /// Open the built-in demo (no database needed).
    #[arg(long)]
    demo: bool,
}

impl OpenArgs {
    /// The checked source (clap's group already refused two sources at once).
    fn source(self) -> Source {
        if self.demo {
            return Source::Demo;
        }
        if let Some(path) = self.replay {
            return Source::Replay(ReplaySource {
                path,
                host: self.host,
                boot: self.boot,
            });
        }
        let mut config = match (self.uri, self.mongo) {
            (Some(uri), _) => StoreConfig::uri(&uri),
            (None, Some(hp)) => StoreConfig::host_port(&hp),
            (None, None) => StoreConfig::host_port("127.0.0.1:27017"),
        };
        config.raw_db = self.db;
        config.cooked_db = self.cooked_db;
        Source::Mongo(MongoSource {
            config,
            host: self.host,
            boot: self.boot,
        })
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Report(command)) => report_cmd::run(command),
        None => dockwatch_tui::run::run(cli.open.source()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "dockwatch-tui: {}",
                dockwatch_shared::sanitize::message_for_terminal(&format!("{e:#}"))
            );
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockwatch_shared::store::MongoAddress;

    fn source(args: &[&str]) -> Source {
        let mut argv = vec!["dockwatch-tui"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).unwrap().open.source()
    }

    #[test]
    fn sources_from_flags() {
        assert_eq!(source(&["--demo"]), Source::Demo);
        let Source::Replay(r) = source(&["--replay", "x.jsonl.zst", "--boot", "b"]) else {
            panic!()
        };
        assert_eq!(
            (r.path, r.boot),
            ("x.jsonl.zst".into(), Some("b".to_owned()))
        );
        let Source::Mongo(m) = source(&["--mongo", "db:27018", "--host", "h", "--cooked-db", "c"])
        else {
            panic!()
        };
        assert_eq!(m.config.address, MongoAddress::HostPort("db:27018".into()));
        assert_eq!(
            (
                m.config.raw_db.as_str(),
                m.config.cooked_db.as_str(),
                m.host.as_deref()
            ),
            ("test", "c", Some("h"))
        );
        let Source::Mongo(m) = source(&[]) else {
            panic!()
        };
        assert_eq!(
            m.config.address,
            MongoAddress::HostPort("127.0.0.1:27017".into())
        );
    }

    #[test]
    fn two_sources_are_refused() {
        assert!(Cli::try_parse_from(["dockwatch-tui", "--demo", "--mongo", "x:1"]).is_err());
        assert!(
            Cli::try_parse_from(["dockwatch-tui", "--uri", "mongodb://x", "--mongo", "x:1"])
                .is_err()
        );
    }
}
