//! [`Timestamp`]: wall-clock time with microsecond precision.
//!
//! BSON dates only keep milliseconds, and audit and connector events of one process often fall in
//! the same millisecond, so times are stored as a plain 64-bit integer of microseconds since the
//! Unix epoch (UTC), in BSON and JSON alike. It sorts and range-queries as a number; reports and
//! exports show it as RFC 3339.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// Microseconds since the Unix epoch, UTC.
#[derive(Copy, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The latest time a recording can hold: 9999-12-31T23:59:59.999999Z, the last RFC 3339 can
    /// write with its four-digit year.
    pub const LATEST: Self = Self(253_402_300_799_999_999);

    /// Whether this can be the time of something recorded: after the epoch and no later than
    /// [`Timestamp::LATEST`]. A time at or before 0 or beyond is damage (a corrupt file, a
    /// hostile log); the pipeline gives such an event the time of its neighbour in its run.
    pub const fn is_plausible(self) -> bool {
        self.0 > 0 && self.0 <= Self::LATEST.0
    }

    /// The nearest plausible time (1 µs after the epoch, or [`Timestamp::LATEST`]).
    pub const fn clamp_plausible(self) -> Self {
        if self.0 <= 0 {
            Self(1)
        } else if self.0 > Self::LATEST.0 {
            Self::LATEST
        } else {
            self
        }
    }

    /// From microseconds since the epoch.
    pub const fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    /// From seconds and a sub-second part in milliseconds, as audit writes `audit(SEC.MS:SERIAL)`.
    /// `None` when that is not a plausible time ([`Timestamp::is_plausible`]; a sub-second part
    /// of 1000 or more is not one either).
    pub fn from_secs_millis(secs: i64, millis: u32) -> Option<Self> {
        if millis >= 1_000 {
            return None;
        }
        let t = secs
            .checked_mul(1_000_000)?
            .checked_add(i64::from(millis) * 1_000)?;
        Some(Self(t)).filter(|t| t.is_plausible())
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// The current wall-clock time.
    pub fn now() -> Self {
        Self::from(Utc::now())
    }

    /// As a chrono time; `None` only for values outside chrono's range.
    pub fn to_datetime(self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_micros(self.0)
    }

    /// RFC 3339 with microseconds and a `Z` suffix, e.g. `2026-11-28T11:29:07.123456Z`. RFC 3339
    /// years have four digits: a time beyond that range (only damage makes one; the pipeline
    /// repairs event times) is written as the nearest one it can write.
    pub fn to_rfc3339(self) -> String {
        /// 0000-01-01T00:00:00Z.
        const EARLIEST: i64 = -62_167_219_200_000_000;
        let clamped = self.0.clamp(EARLIEST, Self::LATEST.0);
        match DateTime::from_timestamp_micros(clamped) {
            Some(dt) => dt.to_rfc3339_opts(SecondsFormat::Micros, true),
            None => "0000-01-01T00:00:00.000000Z".to_owned(),
        }
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(dt: DateTime<Utc>) -> Self {
        Self(dt.timestamp_micros())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_time_keeps_milliseconds_and_prints_rfc3339() {
        let t = Timestamp::from_secs_millis(1_764_329_347, 123).unwrap();
        assert_eq!(t.as_micros(), 1_764_329_347_123_000);
        assert_eq!(t.to_rfc3339(), "2025-11-28T11:29:07.123000Z");
    }

    #[test]
    fn serialises_as_an_integer() {
        assert_eq!(serde_json::to_string(&Timestamp(42)).unwrap(), "42");
    }

    #[test]
    fn impossible_times_are_refused_at_the_edge_and_always_print_as_rfc3339() {
        // The largest audit time a log can claim overflows microseconds: refused, not wrapped.
        assert_eq!(Timestamp::from_secs_millis(9_223_372_036_854, 999), None);
        assert_eq!(Timestamp::from_secs_millis(i64::MAX, 0), None);
        assert_eq!(Timestamp::from_secs_millis(0, 0), None, "at the epoch");
        assert_eq!(Timestamp::from_secs_millis(-5, 0), None);
        assert_eq!(Timestamp::from_secs_millis(1, 1_000), None);
        assert!(Timestamp::from_secs_millis(253_402_300_799, 999).is_some());
        assert_eq!(Timestamp::from_secs_millis(253_402_300_800, 0), None);
        for (t, shown) in [
            (Timestamp(i64::MAX), "9999-12-31T23:59:59.999999Z"),
            (Timestamp(i64::MIN), "0000-01-01T00:00:00.000000Z"),
            (Timestamp(0), "1970-01-01T00:00:00.000000Z"),
            (Timestamp(-1), "1969-12-31T23:59:59.999999Z"),
        ] {
            assert_eq!(t.to_rfc3339(), shown);
        }
        assert!(!Timestamp(0).is_plausible() && !Timestamp(i64::MAX).is_plausible());
        assert_eq!(Timestamp(i64::MIN).clamp_plausible(), Timestamp(1));
        assert_eq!(Timestamp(i64::MAX).clamp_plausible(), Timestamp::LATEST);
    }
}
