//! The hub's clock, injectable so tests can move time (a day rollover) without waiting, and
//! the translation of an instant into the hall's local calendar for the core.

use std::sync::Mutex;

use jiaohao_core::{ClockTime, LocalDate, Millis, Now};
use jiff::{Timestamp, tz::TimeZone};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;

    /// How many seconds of this clock pass per real second: 1 for the machine's clock, more
    /// for a simulated day. Clients extrapolate the hall's time from one reading and this.
    fn speed(&self) -> f64 {
        1.0
    }
}

/// The machine's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until told to move: for tests.
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock(Mutex::new(start))
    }

    pub fn set(&self, to: Timestamp) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = to;
    }

    pub fn advance(&self, by: jiff::SignedDuration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now = now.checked_add(by).unwrap_or(*now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// It stands still between moves, so a client keeps showing the reading it was sent.
    fn speed(&self) -> f64 {
        0.0
    }
}

/// Looks up a time zone by IANA name, falling back to China Standard Time (UTC+8, no DST) when
/// the name is unknown, so a typo in a hall file cannot stop the hall.
pub fn time_zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or_else(|_| {
        tracing::warn!(zone = name, "unknown time zone; using UTC+8");
        TimeZone::fixed(jiff::tz::offset(8))
    })
}

/// Checks that a time zone name is one this hub knows, before a hall is set to it.
pub fn known_time_zone(name: &str) -> Result<(), String> {
    TimeZone::get(name)
        .map(|_| ())
        .map_err(|_| format!("'{name}' is not a known time zone name such as Asia/Shanghai"))
}

pub fn millis(at: Timestamp) -> Millis {
    Millis(at.as_millisecond())
}

/// The core's view of an instant: the instant, and the local date and time in the hall's zone.
pub fn core_now(at: Timestamp, zone: &TimeZone) -> Now {
    let civil = zone.to_datetime(at);
    let date = LocalDate {
        year: civil.year(),
        month: civil.month() as u8,
        day: civil.day() as u8,
    };
    let minutes = civil.hour() as u16 * 60 + civil.minute() as u16;
    Now {
        at: millis(at),
        date,
        time: ClockTime::from_minutes(minutes)
            .expect("hour ≤ 23 and minute ≤ 59 make a time of day"),
    }
}

/// An instant as RFC 3339 with the hall's offset, such as `2026-11-23T09:05:00+08:00`.
pub fn rfc3339(at: Millis, zone: &TimeZone) -> String {
    let Ok(timestamp) = Timestamp::from_millisecond(at.0) else {
        return String::new();
    };
    let offset = zone.to_offset(timestamp);
    timestamp.display_with_offset(offset).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_calendar_in_shanghai() {
        let zone = time_zone("Asia/Shanghai");
        let at: Timestamp = "2026-11-23T16:30:00Z".parse().unwrap();
        let now = core_now(at, &zone);
        assert_eq!(now.date.to_string(), "2026-11-24");
        assert_eq!(now.time.to_string(), "00:30");
        assert_eq!(rfc3339(now.at, &zone), "2026-11-24T00:30:00+08:00");
    }

    #[test]
    fn an_unknown_zone_falls_back_to_utc_plus_8() {
        let zone = time_zone("Mars/Olympus");
        let at: Timestamp = "2026-11-23T01:00:00Z".parse().unwrap();
        assert_eq!(core_now(at, &zone).time.to_string(), "09:00");
    }
}
