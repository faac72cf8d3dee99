//! `dockwatch-tui`: the analyst's terminal investigator. Parses the command line, checks it
//! into a [`Source`], and hands over to the run loop (or to a subcommand).

mod report_cmd;

use std::process::ExitCode;

use clap::{ArgGroup, Args, Parser, Subcommand};
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

/// Where the investigator reads from: the report's inputs, or the built-in demo.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").args(["mongo", "uri", "replay", "demo"])))]
struct OpenArgs {
    #[command(flatten)]
    input: report_cmd::InputArgs,
    /// Open the built-in demo (no database needed).
    #[arg(long)]
    demo: bool,
    /// Keep reading as godo records (MongoDB, or a capture file it still writes): new
    /// processes and files appear as they are stored; F pauses.
    #[arg(long, conflicts_with = "demo")]
    follow: bool,
}

impl OpenArgs {
    /// The checked source (clap's group already refused two sources at once).
    fn source(self) -> Source {
        if self.demo {
            return Source::Demo;
        }
        let config = self.input.store_config();
        let input = self.input;
        if let Some(path) = input.replay {
            return Source::Replay(ReplaySource {
                path,
                host: input.host,
                boot: input.boot,
                follow: self.follow,
            });
        }
        Source::Mongo(MongoSource {
            config,
            host: input.host,
            boot: input.boot,
            follow: self.follow,
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
                dockwatch_shared::presentation::sanitize::message_for_terminal(&format!("{e:#}"))
            );
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockwatch_shared::storage::store::{DEFAULT_ADDRESS, MongoAddress};

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
            MongoAddress::HostPort(DEFAULT_ADDRESS.into())
        );
    }

    #[test]
    fn follow_is_taken_for_a_database_or_a_capture_and_refused_for_the_demo() {
        assert!(source(&["--follow"]).follows());
        assert!(source(&["--replay", "live.jsonl", "--follow"]).follows());
        assert!(!source(&["--replay", "live.jsonl"]).follows());
        assert!(Cli::try_parse_from(["dockwatch-tui", "--demo", "--follow"]).is_err());
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
