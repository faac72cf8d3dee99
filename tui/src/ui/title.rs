//! The title bar: which host and boot, how much data, gaps, and where it came from.

use dockwatch_shared::presentation::sanitize::for_terminal;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::Browser;

/// Draws the title bar.
pub fn draw(frame: &mut Frame, area: Rect, b: &Browser) {
    let inv = &b.inv;
    let bar = Style::default().bg(Color::Blue).fg(Color::White);
    let mut spans = vec![Span::styled(
        " dockwatch ",
        bar.add_modifier(Modifier::BOLD),
    )];
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
