//! Time as the core sees it: instants in milliseconds and the hall's local calendar, both
//! handed in by the caller (the core never reads a clock or knows a time zone).

use std::fmt;

use crate::error::Error;

/// An instant: milliseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(pub i64);

impl Millis {
    pub const MINUTE: i64 = 60_000;

    /// A wait of `ms` in whole minutes rounded up, as a hall shows a projected wait (预计等待约
    /// N 分钟): half a minute still to wait is 1, never 0; a negative wait is 0.
    pub fn minutes_up(ms: i64) -> u32 {
        u32::try_from((ms.max(0) + Millis::MINUTE - 1) / Millis::MINUTE).unwrap_or(u32::MAX)
    }

    pub fn plus_ms(self, ms: i64) -> Millis {
        Millis(self.0.saturating_add(ms))
    }

    /// Milliseconds from `earlier` to `self`, never negative.
    pub fn since(self, earlier: Millis) -> i64 {
        (self.0 - earlier.0).max(0)
    }
}

/// A calendar date in the hall's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalDate {
    pub year: i16,
    pub month: u8,
    pub day: u8,
}

impl LocalDate {
    pub fn new(year: i16, month: u8, day: u8) -> Result<LocalDate, Error> {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return Err(Error::invalid(format!("month {month} does not exist"))),
        };
        if !(1..=9999).contains(&year) || day == 0 || day > days_in_month {
            return Err(Error::invalid(format!(
                "{year:04}-{month:02}-{day:02} is not a date"
            )));
        }
        Ok(LocalDate { year, month, day })
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<LocalDate, Error> {
        let bad = || Error::invalid(format!("'{text}' is not a date of the form YYYY-MM-DD"));
        let parts: Vec<&str> = text.split('-').collect();
        if parts.len() != 3 || parts[0].len() != 4 || parts[1].len() != 2 || parts[2].len() != 2 {
            return Err(bad());
        }
        let year = parts[0].parse().map_err(|_| bad())?;
        let month = parts[1].parse().map_err(|_| bad())?;
        let day = parts[2].parse().map_err(|_| bad())?;
        LocalDate::new(year, month, day)
    }
}

impl fmt::Display for LocalDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A wall-clock time of the hall's day, in minutes after midnight (0..1440).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(u16);

impl ClockTime {
    pub const MIDNIGHT: ClockTime = ClockTime(0);

    pub fn from_minutes(minutes: u16) -> Result<ClockTime, Error> {
        if minutes < 24 * 60 {
            Ok(ClockTime(minutes))
        } else {
            Err(Error::invalid(format!(
                "{minutes} minutes is past the end of the day"
            )))
        }
    }

    pub fn minutes(self) -> u16 {
        self.0
    }

    /// Parses `HH:MM` (24-hour clock).
    pub fn parse(text: &str) -> Result<ClockTime, Error> {
        let bad = || Error::invalid(format!("'{text}' is not a time of the form HH:MM"));
        let (h, m) = text.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: u16 = h.parse().map_err(|_| bad())?;
        let m: u16 = m.parse().map_err(|_| bad())?;
        if h > 23 || m > 59 {
            return Err(bad());
        }
        Ok(ClockTime(h * 60 + m))
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// The moment a command happens, as the caller's clock and calendar see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    pub at: Millis,
    pub date: LocalDate,
    pub time: ClockTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_and_print() {
        let date = LocalDate::parse("2026-02-28").unwrap();
        assert_eq!(date.to_string(), "2026-02-28");
        assert!(LocalDate::parse("2026-02-29").is_err());
        assert!(LocalDate::parse("2028-02-29").is_ok());
        assert!(LocalDate::parse("2026-13-01").is_err());
        assert!(LocalDate::parse("26-01-01").is_err());
        assert!(LocalDate::parse("2026-1-01").is_err());
    }

    #[test]
    fn clock_times_parse_and_print() {
        assert_eq!(ClockTime::parse("08:30").unwrap().minutes(), 510);
        assert_eq!(ClockTime::parse("23:59").unwrap().to_string(), "23:59");
        for bad in ["24:00", "8:30", "08:60", "0830", "ab:cd", ""] {
            assert!(ClockTime::parse(bad).is_err(), "{bad}");
        }
    }
}
