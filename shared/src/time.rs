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
    /// From microseconds since the epoch.
    pub const fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    /// From seconds and a sub-second part in milliseconds, as audit writes `audit(SEC.MS:SERIAL)`.
    pub fn from_secs_millis(secs: i64, millis: u32) -> Self {
        Self(secs.saturating_mul(1_000_000) + i64::from(millis) * 1_000)
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

    /// RFC 3339 with microseconds and a `Z` suffix, e.g. `2026-11-28T11:29:07.123456Z`.
    pub fn to_rfc3339(self) -> String {
        match self.to_datetime() {
            Some(dt) => dt.to_rfc3339_opts(SecondsFormat::Micros, true),
            None => format!("{}us", self.0),
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
        let t = Timestamp::from_secs_millis(1_764_329_347, 123);
        assert_eq!(t.as_micros(), 1_764_329_347_123_000);
        assert_eq!(t.to_rfc3339(), "2025-11-28T11:29:07.123000Z");
    }

    #[test]
    fn serialises_as_an_integer() {
        assert_eq!(serde_json::to_string(&Timestamp(42)).unwrap(), "42");
    }
}
