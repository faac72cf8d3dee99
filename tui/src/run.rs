//! The main loop: events in (terminal input on its own thread, job reports, ticks), `update`,
//! carry out the app's commands, draw.

use std::sync::mpsc::{self, Sender};
use std::time::Duration;

use anyhow::Context as _;
use ratatui::crossterm::event::{self, Event};

use crate::app::{App, Command, Screen};
use crate::event::AppEvent;
use crate::loader::{self, JobHandle, Source};
use crate::{export, terminal, ui};

const TICK: Duration = Duration::from_millis(250);

fn input_thread(tx: Sender<AppEvent>) {
    std::thread::spawn(move || {
        loop {
            let event = match event::poll(TICK) {
                Ok(true) => match event::read() {
                    Ok(Event::Key(k)) => AppEvent::Key(k),
                    Ok(Event::Mouse(m)) => AppEvent::Mouse(m),
                    Ok(Event::Resize(w, h)) => AppEvent::Resize(w, h),
                    Ok(_) => continue,
                    Err(_) => break,
                },
                Ok(false) => AppEvent::Tick,
                Err(_) => break,
            };
            if tx.send(event).is_err() {
                break;
            }
        }
    });
}

/// Carries out the app's commands.
fn perform(app: &mut App, job: &mut Option<JobHandle>, tx: &Sender<AppEvent>) {
    for command in app.take_commands() {
        match command {
            Command::StartJob(id, source) => {
                let tx = tx.clone();
                *job = Some(loader::spawn(source, move |msg| {
                    // The receiver is gone only when the app is quitting; nothing to tell then.
                    let _ = tx.send(AppEvent::Job { job: id, msg });
                }));
            }
            Command::CancelJob => {
                if let Some(j) = job.take() {
                    j.cancel();
                }
            }
            Command::Copy(text) => {
                // The terminal decodes it into its clipboard; a terminal without OSC 52 ignores it.
                let copy = ratatui::crossterm::clipboard::CopyToClipboard::to_clipboard_from(text);
                if let Err(e) = ratatui::crossterm::execute!(std::io::stdout(), copy) {
                    app.message = Some(format!("copy failed: {e}"));
                }
            }
            Command::Export {
                node,
                path,
                replace,
            } => {
                let result = match app.browser() {
                    Some(b) => export::write(&b.inv, node, &path, replace),
                    None => Err(export::ExportError::NoSuchNode(node)),
                };
                app.export_finished(node, result);
            }
        }
    }
}

/// Whether `event` may change what is on screen: anything but a tick, and a tick while the
/// progress screen animates.
fn changes_screen(app: &App, event: &AppEvent) -> bool {
    !matches!(event, AppEvent::Tick) || app.animating()
}

/// Runs the investigator on the terminal until the analyst quits. Quitting from an error screen
/// is an error too (the caller exits non-zero and prints it, once the terminal is restored), so
/// a script that ran the investigator learns that nothing was investigated.
pub fn run(source: Source) -> anyhow::Result<()> {
    let (mut term, _guard) = terminal::enter().context("cannot set up the terminal")?;
    let size = term.size().context("cannot read the terminal size")?;
    let (tx, rx) = mpsc::channel();
    input_thread(tx.clone());
    let mut app = App::new(source, (size.width, size.height));
    let mut job = None;
    let mut redraw = true;
    loop {
        perform(&mut app, &mut job, &tx);
        if app.quit {
            break;
        }
        // Drawn only when something may have changed: an idle screen costs nothing, however
        // much it shows.
        if redraw {
            term.draw(|frame| ui::draw(frame, &app))
                .context("cannot draw on the terminal")?;
        }
        let event = rx.recv().context("the input thread stopped")?;
        redraw = changes_screen(&app, &event);
        app.update(event);
        // Take whatever else is already queued before drawing again (fast typing, wheel).
        while let Ok(event) = rx.try_recv() {
            redraw |= changes_screen(&app, &event);
            app.update(event);
            perform(&mut app, &mut job, &tx);
            if app.quit {
                break;
            }
        }
    }
    if let Some(j) = job {
        j.cancel();
    }
    match &app.screen {
        Screen::Error(f) => Err(anyhow::anyhow!(
            "quit on an error: {}: {}",
            f.title(),
            f.detail
        )),
        _ => Ok(()),
    }
}
