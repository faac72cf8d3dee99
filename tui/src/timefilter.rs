//! The time filter: a window `[from, to]` and the parser for what the analyst types.
//!
//! Accepted forms for each end (the prompt takes `FROM..TO`, either side may be empty):
//!
//! * RFC 3339, e.g. `2026-11-28T11:29:07Z` or `2026-11-28T12:29:07.5+01:00`;
//! * a time of day `HH:MM` or `HH:MM:SS[.fff]`, in UTC, on the day the recording ends;
//! * relative to the end of the recording: `-10m`, `-2h`, `-30s`, `-1d` (and `-1h30m`);
//! * relative to its start: `+5m`.
//!
//! Relative times count from the recording, not from the wall clock, because an investigation
//! usually looks at data recorded hours or days ago.

use chrono::{DateTime, NaiveTime, Utc};
use dockwatch_shared::Timestamp;

/// A time window; an open end is unbounded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeFilter {
    /// Earliest time shown.
    pub from: Option<Timestamp>,
    /// Latest time shown.
    pub to: Option<Timestamp>,
}

/// The times relative inputs count from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Anchors {
    /// The first recorded time.
    pub start: Timestamp,
    /// The last recorded time.
    pub end: Timestamp,
}

/// Why a time could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TimeParseError {
    /// Nothing matched.
    #[error("cannot read {input:?} as a time: use 2026-11-28T11:29:07Z, 11:29[:07], -10m or +5m")]
    Unrecognised {
        /// What was typed.
        input: String,
    },
    /// The window ends before it starts.
    #[error("the window ends before it starts: swap FROM and TO")]
    Reversed,
}

impl TimeFilter {
    /// True when neither end is set.
    pub fn is_empty(&self) -> bool {
        self.from.is_none() && self.to.is_none()
    }

    /// True when the span `[first, last]` overlaps the window.
    pub fn overlaps(&self, first: Timestamp, last: Timestamp) -> bool {
        self.from.is_none_or(|from| last >= from) && self.to.is_none_or(|to| first <= to)
    }

    /// True when the instant lies in the window.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.overlaps(t, t)
    }

    /// Parses `FROM..TO` (or a single `FROM`); an empty input clears the filter.
    pub fn parse(input: &str, anchors: Anchors) -> Result<Self, TimeParseError> {
        let input = input.trim();
        let (from, to) = match input.split_once("..") {
            Some((from, to)) => (from.trim(), to.trim()),
            None => (input, ""),
        };
        let end = |s: &str| -> Result<Option<Timestamp>, TimeParseError> {
            if s.is_empty() {
                Ok(None)
            } else {
                parse_time(s, anchors).map(Some)
            }
        };
        let filter = Self {
            from: end(from)?,
            to: end(to)?,
        };
        if let (Some(from), Some(to)) = (filter.from, filter.to) {
            if to < from {
                return Err(TimeParseError::Reversed);
            }
        }
        Ok(filter)
    }

    /// The filter as the analyst would type it (times in RFC 3339).
    pub fn describe(&self) -> String {
        let side = |t: Option<Timestamp>| t.map(short_time).unwrap_or_default();
        format!("{}..{}", side(self.from), side(self.to))
    }
}

/// A time as `HH:MM:SS.mmm` (UTC), the short form the panes show.
pub fn short_time(t: Timestamp) -> String {
    match t.to_datetime() {
        Some(dt) => dt.format("%H:%M:%S%.3f").to_string(),
        None => format!("{}us", t.as_micros()),
    }
}

/// Parses one end of a window; see the module documentation for the forms.
pub fn parse_time(s: &str, anchors: Anchors) -> Result<Timestamp, TimeParseError> {
    let s = s.trim();
    let bad = || TimeParseError::Unrecognised {
        input: s.to_owned(),
    };
    if let Some(rest) = s.strip_prefix('-') {
        let micros = parse_duration(rest).ok_or_else(bad)?;
        return Ok(Timestamp::from_micros(anchors.end.as_micros() - micros));
    }
    if let Some(rest) = s.strip_prefix('+') {
        let micros = parse_duration(rest).ok_or_else(bad)?;
        return Ok(Timestamp::from_micros(anchors.start.as_micros() + micros));
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Ok(Timestamp::from(dt.with_timezone(&Utc)));
    }
    for format in ["%H:%M:%S%.f", "%H:%M"] {
        if let Ok(time) = NaiveTime::parse_from_str(s, format) {
            let day = anchors.end.to_datetime().ok_or_else(bad)?.date_naive();
            return Ok(Timestamp::from(day.and_time(time).and_utc()));
        }
    }
    Err(bad())
}

/// `10m`, `2h`, `30s`, `1d`, `1h30m`, `500ms` as microseconds.
fn parse_duration(s: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let value: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit: i64 = match &rest[..unit_len] {
            "ms" => 1_000,
            "s" => 1_000_000,
            "m" => 60_000_000,
            "h" => 3_600_000_000,
            "d" => 86_400_000_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total = total.checked_add(value.checked_mul(unit)?)?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchors() -> Anchors {
        let start = Timestamp::from(
            DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        );
        let end = Timestamp::from(
            DateTime::parse_from_rfc3339("2026-11-28T12:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        );
        Anchors { start, end }
    }

    fn at(s: &str) -> Timestamp {
        Timestamp::from(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
    }

    #[test]
    fn absolute_times_parse() {
        let a = anchors();
        assert_eq!(
            parse_time("2026-11-28T11:29:07Z", a).unwrap(),
            at("2026-11-28T11:29:07Z")
        );
        assert_eq!(
            parse_time("2026-11-28T12:29:07+01:00", a).unwrap(),
            at("2026-11-28T11:29:07Z")
        );
        assert_eq!(parse_time("11:29", a).unwrap(), at("2026-11-28T11:29:00Z"));
        assert_eq!(
            parse_time("11:29:07.250", a).unwrap(),
            at("2026-11-28T11:29:07.25Z")
        );
    }

    #[test]
    fn relative_times_count_from_the_recording() {
        let a = anchors();
        assert_eq!(parse_time("-10m", a).unwrap(), at("2026-11-28T11:50:00Z"));
        assert_eq!(parse_time("-2h", a).unwrap(), at("2026-11-28T10:00:00Z"));
        assert_eq!(parse_time("-1h30m", a).unwrap(), at("2026-11-28T10:30:00Z"));
        assert_eq!(parse_time("+5m", a).unwrap(), at("2026-11-28T10:05:00Z"));
        assert_eq!(
            parse_time("-500ms", a).unwrap(),
            at("2026-11-28T11:59:59.5Z")
        );
    }

    #[test]
    fn nonsense_is_refused_with_the_accepted_forms() {
        let a = anchors();
        for bad in ["", "-", "-10", "-m", "-10x", "25:00", "yesterday", "+1h-"] {
            let err = parse_time(bad, a).unwrap_err();
            assert!(err.to_string().contains("-10m"), "{bad}: {err}");
        }
    }

    #[test]
    fn windows_parse_and_check_order() {
        let a = anchors();
        let f = TimeFilter::parse("-10m..", a).unwrap();
        assert_eq!(f.from, Some(at("2026-11-28T11:50:00Z")));
        assert_eq!(f.to, None);
        let f = TimeFilter::parse("11:00..11:30", a).unwrap();
        assert_eq!(f.to, Some(at("2026-11-28T11:30:00Z")));
        assert!(TimeFilter::parse("", a).unwrap().is_empty());
        assert_eq!(
            TimeFilter::parse("11:30..11:00", a),
            Err(TimeParseError::Reversed)
        );
    }

    #[test]
    fn overlap_is_inclusive_and_open_ends_are_unbounded() {
        let f = TimeFilter {
            from: Some(Timestamp(10)),
            to: Some(Timestamp(20)),
        };
        assert!(f.overlaps(Timestamp(0), Timestamp(10)));
        assert!(f.overlaps(Timestamp(20), Timestamp(30)));
        assert!(!f.overlaps(Timestamp(21), Timestamp(30)));
        assert!(!f.contains(Timestamp(9)));
        assert!(TimeFilter::default().contains(Timestamp(i64::MIN)));
    }
}
