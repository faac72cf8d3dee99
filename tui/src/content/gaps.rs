//! What the `!` gap list says: every place where events were lost (by the kernel, the recorder, or in a
//! damaged capture file), with its time range, count and reason, so the analyst knows which
//! part of the story may be incomplete.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use dockwatch_shared::model::investigation::GapRecord;
use dockwatch_shared::presentation::sanitize::for_terminal;

/// Lines the list has for `gaps` gaps (for scrolling).
pub fn line_count(gaps: usize) -> usize {
    gaps.max(1) * 2
}

/// The list's lines: per gap, its range, count and reason, then its detail.
pub fn lines(gaps: &[GapRecord]) -> Vec<Line<'static>> {
    if gaps.is_empty() {
        return vec![Line::raw(" No gaps: nothing is known to be missing.")];
    }
    let mut out = Vec::with_capacity(line_count(gaps.len()));
    for g in gaps {
        let reason = serde_json::to_value(g.reason)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let lost = g
            .lost
            .map_or_else(|| "an unknown number of".to_owned(), |n| n.to_string());
        out.push(Line::from(vec![
            Span::styled(
                format!(" {} .. {} ", g.from, g.to),
                Style::default().fg(Color::Yellow),
            ),
            Span::styled(
                format!("{lost} events lost"),
                Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!(" ({reason})")),
        ]));
        let detail = g.detail.as_deref().map(for_terminal).unwrap_or_default();
        out.push(Line::styled(
            format!("     {detail}"),
            Style::default().fg(Color::DarkGray),
        ));
    }
    out
}
