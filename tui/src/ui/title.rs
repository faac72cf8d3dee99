//! The title bar: which host and boot, how much data, gaps, and where it came from.

use dockwatch_shared::presentation::sanitize::for_terminal;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{Browser, LiveState};

/// A followed recording's mark, first in the bar so a narrow terminal keeps it: live with its
/// lag, paused, the source not answering, or following stopped.
fn live_mark(live: &LiveState) -> Span<'static> {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    if live.stopped.is_some() {
        return Span::styled(" ■ following stopped ", bold.fg(Color::Red));
    }
    if live.trouble.is_some() {
        return Span::styled(
            " ● live: source not answering, retrying ",
            bold.fg(Color::Red),
        );
    }
    if live.paused {
        let waiting = if live.pending.is_some() {
            ", news waiting"
        } else {
            ""
        };
        return Span::styled(format!(" ‖ paused (F){waiting} "), bold.fg(Color::Yellow));
    }
    let lag = live.lag.map_or(String::new(), |lag| {
        let secs = lag.as_secs_f64();
        if secs < 60.0 {
            format!(" · lag {secs:.1} s")
        } else {
            format!(" · lag {:.0} min", secs / 60.0)
        }
    });
    Span::styled(format!(" ● live{lag} "), bold.fg(Color::Green))
}

/// Draws the title bar (with the live mark when the recording is followed).
pub fn draw(frame: &mut Frame, area: Rect, b: &Browser, live: Option<&LiveState>) {
    let inv = &b.inv;
    let bar = Style::default().bg(Color::Blue).fg(Color::White);
    let mut spans = vec![Span::styled(
        " dockwatch ",
        bar.add_modifier(Modifier::BOLD),
    )];
    if let Some(live) = live {
        spans.push(live_mark(live));
    }
    let boot = for_terminal(&inv.boot_id);
    let boot_short: String = boot.chars().take(13).collect();
    spans.push(Span::raw(format!(
        " {} · boot {} · {} procs · {} files",
        for_terminal(&inv.host),
        boot_short,
        inv.processes.len(),
        inv.files.len()
    )));
    // The tables show times of day: say the day(s) and the zone once, here.
    let day =
        |t: dockwatch_shared::Timestamp| t.to_datetime().map(|d| d.format("%Y-%m-%d").to_string());
    if let (Some(first), Some(last)) = (day(b.anchors.start), day(b.anchors.end)) {
        let days = if first == last {
            first
        } else {
            format!("{first}..{last}")
        };
        spans.push(Span::raw(format!(" · {days} UTC")));
    }
    if !inv.gaps.is_empty() {
        let lost: u64 = inv.gaps.iter().filter_map(|g| g.lost).sum();
        spans.push(Span::styled(
            format!(
                " · {} gaps ({lost} events lost; ! lists them)",
                inv.gaps.len()
            ),
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        ));
    }
    spans.push(Span::styled(
        format!(" · {}", for_terminal(&b.origin)),
        Style::default().fg(Color::DarkGray),
    ));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
