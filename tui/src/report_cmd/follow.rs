//! `report --follow`: the recording followed as godo writes it, one JSON line per change
//! ([`Changes`]) on stdout or `--out`, flushed after each update, until Ctrl-C (or SIGTERM),
//! or until stdout is closed.

use std::io::Write;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use dockwatch_shared::load::follow::{FollowUpdate, follow_capture, follow_store};
use dockwatch_shared::load::{self, LoadError};
use dockwatch_shared::presentation::report::{Changes, write_json};
use dockwatch_shared::presentation::sanitize::message_for_terminal;
use dockwatch_shared::storage::store::Store;

use super::{Format, InputArgs, OutputArgs, create_out, progress_printer};

/// Writes the lines of each update; stops (breaks) when the output cannot be written.
struct Lines {
    out: Box<dyn Write + Send>,
    changes: Changes,
    /// Why writing stopped (a closed stdout is not an error).
    failed: Option<std::io::Error>,
}

impl Lines {
    fn update(&mut self, update: FollowUpdate) -> ControlFlow<()> {
        match update {
            FollowUpdate::Investigation(loaded) => {
                for warning in &loaded.warnings {
                    eprintln!("dockwatch-tui: warning: {}", message_for_terminal(warning));
                }
                let written = self
                    .changes
                    .next(&loaded.investigation)
                    .iter()
                    .try_for_each(|line| {
                        write_json(&mut self.out, line, false)?;
                        self.out.write_all(b"\n")
                    })
                    .and_then(|()| self.out.flush());
                if let Err(e) = written {
                    self.failed = Some(e);
                    return ControlFlow::Break(());
                }
            }
            FollowUpdate::Trouble(why) => {
                eprintln!("dockwatch-tui: warning: {}", message_for_terminal(&why));
            }
            FollowUpdate::Back => eprintln!("dockwatch-tui: the database answers again"),
        }
        ControlFlow::Continue(())
    }

    fn finish(self) -> Result<()> {
        match self.failed {
            Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Some(e) => Err(e).context("cannot write the changes"),
            None => Ok(()),
        }
    }
}

/// Sets the returned flag at Ctrl-C or SIGTERM.
fn stop_on_signal() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let terminated = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminated => {}
        }
        flag.store(true, Ordering::Relaxed);
    });
    stop
}

/// Follows the input, writing the changes, until interrupted.
pub(super) async fn report(input: &InputArgs, output: &OutputArgs, format: Format) -> Result<()> {
    if format != Format::Json {
        bail!("--follow writes one JSON line per change: add --format json");
    }
    let out: Box<dyn Write + Send> = match &output.out {
        Some(path) => Box::new(create_out(output, input, path)?),
        None => Box::new(std::io::stdout()),
    };
    let mut lines = Lines {
        out,
        changes: Changes::new(),
        failed: None,
    };
    let stop = stop_on_signal();
    match &input.replay {
        Some(path) => {
            let (path, host, boot) = (path.clone(), input.host.clone(), input.boot.clone());
            let followed = tokio::task::spawn_blocking(move || {
                let result = follow_capture(
                    &path,
                    host.as_deref(),
                    boot.as_deref(),
                    &|| stop.load(Ordering::Relaxed),
                    &mut progress_printer(),
                    &mut |u| lines.update(u),
                );
                (result, lines)
            })
            .await
            .context("the capture reader stopped")?;
            let (result, lines) = followed;
            result.context("cannot follow the capture")?;
            lines.finish()
        }
        None => {
            let config = input.store_config();
            let store = Store::connect(&config)
                .await
                .context("reading the recorded events (or follow a capture: --replay FILE)")?;
            let boots = store.list_boots().await.map_err(LoadError::from)?;
            let source_name = format!("database {} at {}", config.raw_db, store.address());
            let chosen = load::choose_boot(
                &boots,
                input.host.as_deref(),
                input.boot.as_deref(),
                &source_name,
            )?;
            let mut progress = progress_printer();
            let mut write = |u| lines.update(u);
            let checkpoints = load::Checkpoints::Use;
            let followed = follow_store(
                &store,
                chosen,
                boots,
                checkpoints,
                &mut progress,
                &mut write,
            );
            tokio::select! {
                result = followed => result.context("cannot follow the recorded events")?,
                () = async {
                    while !stop.load(Ordering::Relaxed) {
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                } => {}
            }
            lines.finish()
        }
    }
}
