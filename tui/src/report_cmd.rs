//! `dockwatch-tui report` and `dockwatch-tui export`: the non-interactive side of the tool.
//!
//! Both read the events of one (host, boot) from MongoDB or a capture file, run the filter
//! pipeline, and print: `report` the whole tree as text (or JSON with `--format json`) and
//! stores the result in the cooked database; `export --pid PID` the JSON of one process and
//! everything below it. Progress goes to stderr when it is a terminal; the result goes to
//! stdout or `--out FILE`.

use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use dockwatch_shared::load::{self, LoadProgress, Loaded};
use dockwatch_shared::model::investigation::{Investigation, NodeId};
use dockwatch_shared::presentation::report::{ExportDoc, write_json, write_text};
use dockwatch_shared::presentation::sanitize::{for_terminal, message_for_terminal};
use dockwatch_shared::storage::cooked;
use dockwatch_shared::storage::output::{self, OutputPolicy};
use dockwatch_shared::storage::store::{MongoAddress, Store, StoreConfig};
use dockwatch_shared::{Pid, Timestamp};

mod follow;

/// The report subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the Docker process tree, each process's args and the files they changed.
    Report(ReportArgs),
    /// Write the JSON export of one process and everything below it.
    Export(ExportArgs),
}

/// Where the events come from and which boot to investigate.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("input").args(["mongo", "uri", "replay"])))]
pub struct InputArgs {
    /// MongoDB server as host:port [default: 127.0.0.1:27017].
    #[arg(long, value_name = "HOST:PORT")]
    pub mongo: Option<String>,
    /// MongoDB connection string (user, password, TLS options pass through).
    #[arg(long, value_name = "URI")]
    pub uri: Option<String>,
    /// Read a capture file written by `godo --write` (JSON lines, .zst allowed) instead.
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
    /// Database with the raw events.
    #[arg(long, default_value = "test", value_name = "NAME")]
    pub db: String,
    /// Database the result is written to (MongoDB input only).
    #[arg(long, default_value = "cooked", value_name = "NAME")]
    pub cooked_db: String,
    /// Host to investigate (the TUI asks when there are several; `report` takes the one with
    /// the newest events).
    #[arg(long)]
    pub host: Option<String>,
    /// Boot id or a prefix of one (the TUI asks when there are several; `report` takes the one
    /// with the newest events).
    #[arg(long)]
    pub boot: Option<String>,
}

impl InputArgs {
    /// The database to read: `--uri`, `--mongo` or the default server, with `--db` and
    /// `--cooked-db`.
    pub fn store_config(&self) -> StoreConfig {
        let address = MongoAddress::from_flags(self.uri.as_deref(), self.mongo.as_deref());
        let mut config = StoreConfig::with_address(address);
        config.raw_db.clone_from(&self.db);
        config.cooked_db.clone_from(&self.cooked_db);
        config
    }
}

/// Output format of `report`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The indented tree, args and changed files, safe for a terminal.
    Text,
    /// One JSON document (docs/report-schema.md).
    Json,
}

/// Flags of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    output: OutputArgs,
    /// Do not store the result in the cooked database.
    #[arg(long)]
    no_cooked: bool,
    /// Keep reading as godo records, writing one JSON line per change (a process or file
    /// record that appeared or changed, a new gap) until interrupted; needs --format json.
    #[arg(long, conflicts_with = "pretty")]
    follow: bool,
}

/// Flags of `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The process to export (with everything below it); a thread id finds its process.
    #[arg(long, value_name = "PID")]
    pid: Pid,
    #[command(flatten)]
    output: OutputArgs,
}

/// Where and how the result is written.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Write to FILE instead of stdout. It is created readable by its owner only (0600); an
    /// existing file or a symbolic link is refused.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Replace an existing --out file (never through a symbolic link).
    #[arg(long, requires = "out")]
    force: bool,
    /// Create the --out file readable by its group too (0640).
    #[arg(long, requires = "out")]
    group_readable: bool,
    /// Indent the JSON (it is compact by default).
    #[arg(long)]
    pretty: bool,
}

/// Runs a report subcommand to completion.
pub fn run(command: Command) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        match command {
            Command::Report(args) => report(args).await,
            Command::Export(args) => export(args).await,
        }
    })
}

/// Shows progress on stderr when it is a terminal.
fn progress_printer() -> impl FnMut(LoadProgress) + Send {
    let tty = std::io::stderr().is_terminal();
    move |p| {
        if !tty {
            return;
        }
        let line = match p {
            LoadProgress::Reading { read, total: 0 } => format!("reading events: {read}"),
            LoadProgress::Reading { read, total } => format!("reading events: {read}/{total}"),
            LoadProgress::Pipeline(p) => {
                format!("{} ({:.0}%)", p.step.label(), p.fraction() * 100.0)
            }
        };
        eprint!("\r\x1b[2K{line}");
        if matches!(p, LoadProgress::Pipeline(p) if p.step == dockwatch_shared::pipeline::Step::Done)
        {
            eprint!("\r\x1b[2K");
        }
    }
}

/// Loads and investigates the chosen boot; returns the store too when the input was MongoDB.
async fn investigate(
    input: &InputArgs,
    checkpoints: load::Checkpoints,
) -> Result<(Loaded, Option<Store>)> {
    let mut progress = progress_printer();
    let now = Timestamp::now();
    let (loaded, store) = match &input.replay {
        Some(path) => {
            let loaded = load::from_capture(
                path,
                input.host.as_deref(),
                input.boot.as_deref(),
                now,
                &mut progress,
            )
            .context("cannot investigate the capture")?;
            (loaded, None)
        }
        None => {
            let config = input.store_config();
            // The store's error names the address and the cause; this says what else to do.
            let store = Store::connect(&config)
                .await
                .context("reading the recorded events (or investigate a capture: --replay FILE)")?;
            let loaded = load::from_store(
                &store,
                input.host.as_deref(),
                input.boot.as_deref(),
                checkpoints,
                now,
                &mut progress,
            )
            .await
            .context("cannot investigate the recorded events")?;
            (loaded, Some(store))
        }
    };
    for warning in &loaded.warnings {
        eprintln!("dockwatch-tui: warning: {}", message_for_terminal(warning));
    }
    let inv = &loaded.investigation;
    if inv.roots.is_empty() {
        bail!(
            "no Docker daemon (dockerd), containerd or containerd-shim process in the {} events of host {} boot {}: \
             was godo started while Docker ran (its start-up snapshot finds the daemon)? Other boots: {}",
            inv.stats.events,
            inv.host,
            inv.boot_id,
            other_boots(&loaded)
        );
    }
    if !inv.processes.iter().any(|p| p.star) {
        eprintln!(
            "dockwatch-tui: warning: no dockerd in the events of host {} boot {}; the tree is rooted at containerd",
            for_terminal(&inv.host),
            for_terminal(&inv.boot_id)
        );
    }
    Ok((loaded, store))
}

fn other_boots(loaded: &Loaded) -> String {
    let others: Vec<String> = loaded
        .boots
        .iter()
        .filter(|b| b.host != loaded.boot.host || b.boot_id != loaded.boot.boot_id)
        .map(|b| {
            format!(
                "--host {} --boot {} ({} events)",
                b.host, b.boot_id, b.events
            )
        })
        .collect();
    if others.is_empty() {
        "none".to_owned()
    } else {
        others.join(", ")
    }
}

/// Creates the `--out` file as [`output`] says (never onto the capture being read).
fn create_out(args: &OutputArgs, input: &InputArgs, path: &Path) -> Result<std::fs::File> {
    let policy = OutputPolicy {
        replace: args.force,
        group_readable: args.group_readable,
    };
    let inputs: Vec<&Path> = input.replay.iter().map(PathBuf::as_path).collect();
    Ok(output::create(path, policy, &inputs)?)
}

/// Writes the result with `write` to the `--out` file ([`create_out`]) or to stdout; a closed
/// stdout (`| head`) is not an error.
fn emit(
    args: &OutputArgs,
    input: &InputArgs,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let result = match &args.out {
        Some(path) => {
            let file = create_out(args, input, path)?;
            let mut out = BufWriter::with_capacity(1 << 20, file);
            return write(&mut out)
                .and_then(|()| out.flush())
                .with_context(|| format!("cannot write {}", path.display()));
        }
        None => {
            let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            write(&mut out).and_then(|()| out.flush())
        }
    };
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}

/// Writes the JSON document of `subtree` (or the whole tree) and a newline.
fn write_doc(
    out: &mut dyn Write,
    inv: &Investigation,
    subtree: Option<NodeId>,
    pretty: bool,
) -> std::io::Result<()> {
    write_json(&mut *out, &ExportDoc::new(inv, subtree), pretty)?;
    out.write_all(b"\n")
}

async fn report(args: ReportArgs) -> Result<()> {
    if args.follow {
        return follow::report(&args.input, &args.output, args.format).await;
    }
    // The checkpoint lives in the cooked database: --no-cooked writes none.
    let checkpoints = if args.no_cooked {
        load::Checkpoints::Off
    } else {
        load::Checkpoints::Use
    };
    let (loaded, store) = investigate(&args.input, checkpoints).await?;
    let inv = &loaded.investigation;
    if let Some(store) = store.filter(|_| !args.no_cooked) {
        let written = cooked::write_investigation(store.cooked_db(), inv, Timestamp::now())
            .await
            .with_context(|| {
                format!(
                    "cannot store the result in database {} (use --no-cooked to skip)",
                    args.input.cooked_db
                )
            })?;
        eprintln!(
            "dockwatch-tui: stored {} processes and {} file records of host {} boot {} in database {}{}",
            written.processes,
            written.files,
            for_terminal(&inv.host),
            for_terminal(&inv.boot_id),
            args.input.cooked_db,
            if written.replaced > 0 {
                " (replacing the earlier run)"
            } else {
                ""
            }
        );
    }
    let pretty = args.output.pretty;
    emit(&args.output, &args.input, |out| match args.format {
        Format::Text => write_text(inv, out),
        Format::Json => write_doc(out, inv, None, pretty),
    })
}

/// The node of `pid` (or of the process that has `pid` as a thread); with pid reuse, the one
/// that started last, and the others' start times for a note.
fn find_pid(inv: &Investigation, pid: Pid) -> Option<(NodeId, Vec<Timestamp>)> {
    let mut matches: Vec<&dockwatch_shared::model::investigation::ProcessNode> = inv
        .processes
        .iter()
        .filter(|p| p.pid == pid || p.threads.contains(&pid))
        .collect();
    matches.sort_by_key(|p| p.start);
    let chosen = matches.pop()?;
    Some((chosen.id, matches.iter().filter_map(|p| p.start).collect()))
}

async fn export(args: ExportArgs) -> Result<()> {
    let (loaded, _) = investigate(&args.input, load::Checkpoints::Use).await?;
    let inv = &loaded.investigation;
    let Some((node, others)) = find_pid(inv, args.pid) else {
        bail!(
            "process {} is not in the Docker tree of host {} boot {} ({} processes); `dockwatch-tui report` lists them",
            args.pid,
            inv.host,
            inv.boot_id,
            inv.processes.len()
        );
    };
    if !others.is_empty() {
        let times: Vec<String> = others.iter().map(|t| t.to_rfc3339()).collect();
        eprintln!(
            "dockwatch-tui: note: pid {} was used by {} processes; exporting the last one (the others started at {})",
            args.pid,
            others.len() + 1,
            times.join(", ")
        );
    }
    let pretty = args.output.pretty;
    emit(&args.output, &args.input, |out| {
        write_doc(out, inv, Some(node), pretty)
    })
}
