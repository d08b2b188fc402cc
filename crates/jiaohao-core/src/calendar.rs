//! The hall calendar (工作日历): which weekdays the hall works, the dated public holidays on
//! which it is closed, and the dated working days that replace them (调休, open although a
//! weekend). Ticketing, the demo clock and the faces ask it whether a day is open and when
//! the hall next opens.

use std::collections::BTreeSet;

use crate::error::Error;
use crate::time::{ClockTime, LocalDate, Now};

/// A day of the week, Monday first (as the Chinese week counts: 星期一 … 星期日).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    /// Monday is 0, Sunday 6.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The lower-case English name, such as `monday`: the stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Monday => "monday",
            Weekday::Tuesday => "tuesday",
            Weekday::Wednesday => "wednesday",
            Weekday::Thursday => "thursday",
            Weekday::Friday => "friday",
            Weekday::Saturday => "saturday",
            Weekday::Sunday => "sunday",
        }
    }

    pub fn parse(text: &str) -> Result<Weekday, Error> {
        Weekday::ALL
            .into_iter()
            .find(|day| day.as_str() == text)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "'{text}' is not a weekday (monday, tuesday, … sunday)"
                ))
            })
    }
}

impl LocalDate {
    /// The day of the week (proleptic Gregorian calendar).
    pub fn weekday(self) -> Weekday {
        // Sakamoto's method: 0 is Sunday.
        const OFFSETS: [i32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
        let month = i32::from(self.month);
        let year = i32::from(self.year) - i32::from(month < 3);
        let sunday_first = (year + year / 4 - year / 100
            + year / 400
            + OFFSETS[(month - 1) as usize]
            + i32::from(self.day))
            % 7;
        Weekday::ALL[((sunday_first + 6) % 7) as usize]
    }

    /// The day after, or `None` after 9999-12-31.
    pub fn next_day(self) -> Option<LocalDate> {
        if let Ok(next) = LocalDate::new(self.year, self.month, self.day + 1) {
            return Some(next);
        }
        if let Ok(next) = LocalDate::new(self.year, self.month + 1, 1) {
            return Some(next);
        }
        LocalDate::new(self.year.checked_add(1)?, 1, 1).ok()
    }
}

/// The most dated days (holidays and 调休 days each) a calendar holds: decades of them.
pub const MAX_DATED_DAYS: usize = 2_000;

/// How far ahead the next opening is looked for: a hall closed for longer than a year (or a
/// calendar with no working weekday and no 调休 ahead) has no next opening.
const LOOKAHEAD_DAYS: u32 = 400;

/// Why a day is open or closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    /// One of the working weekdays.
    Workday,
    /// A weekday the hall does not work (a weekend).
    RestDay,
    /// A public holiday (法定节假日).
    Holiday,
    /// A weekend day worked to replace a holiday (调休).
    SwappedWorkday,
}

impl DayKind {
    pub fn is_open(self) -> bool {
        matches!(self, DayKind::Workday | DayKind::SwappedWorkday)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Workday => "workday",
            DayKind::RestDay => "rest_day",
            DayKind::Holiday => "holiday",
            DayKind::SwappedWorkday => "swapped_workday",
        }
    }
}

/// The hall's working days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HallCalendar {
    /// Whether the hall works on each weekday, Monday first.
    pub working_weekdays: [bool; 7],
    /// Public holidays: closed whatever the weekday.
    pub holidays: BTreeSet<LocalDate>,
    /// Working days that replace holidays (调休): open whatever the weekday.
    pub working_days: BTreeSet<LocalDate>,
}

impl Default for HallCalendar {
    /// Monday to Friday, no dated days.
    fn default() -> Self {
        HallCalendar {
            working_weekdays: [true, true, true, true, true, false, false],
            holidays: BTreeSet::new(),
            working_days: BTreeSet::new(),
        }
    }
}

/// When the hall next opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opening {
    pub date: LocalDate,
    pub time: ClockTime,
}

impl HallCalendar {
    /// A calendar from weekday names and `YYYY-MM-DD` dates, checked: the one parse the log,
    /// the API and hall files share. A name or date listed twice is refused.
    pub fn from_parts(
        working_weekdays: &[String],
        holidays: &[String],
        working_days: &[String],
    ) -> Result<HallCalendar, Error> {
        let mut calendar = HallCalendar {
            working_weekdays: [false; 7],
            ..HallCalendar::default()
        };
        for name in working_weekdays {
            let day = Weekday::parse(name)?;
            if std::mem::replace(&mut calendar.working_weekdays[day.index()], true) {
                return Err(Error::invalid(format!("{name} is listed twice")));
            }
        }
        let dates = |texts: &[String]| -> Result<BTreeSet<LocalDate>, Error> {
            let mut dates = BTreeSet::new();
            for text in texts {
                if !dates.insert(LocalDate::parse(text)?) {
                    return Err(Error::invalid(format!("{text} is listed twice")));
                }
            }
            Ok(dates)
        };
        calendar.holidays = dates(holidays)?;
        calendar.working_days = dates(working_days)?;
        calendar.validate()?;
        Ok(calendar)
    }

    /// The calendar in plain words, as [`HallCalendar::from_parts`] reads it: working weekday
    /// names (Monday first), holidays and working days as `YYYY-MM-DD`.
    pub fn to_parts(&self) -> (Vec<String>, Vec<String>, Vec<String>) {
        (
            Weekday::ALL
                .into_iter()
                .filter(|day| self.works_on(*day))
                .map(|day| day.as_str().to_owned())
                .collect(),
            self.holidays.iter().map(ToString::to_string).collect(),
            self.working_days.iter().map(ToString::to_string).collect(),
        )
    }

    /// Open every day: how a hall that never set a calendar runs (as halls ran before
    /// calendars existed, so an old log keeps its meaning).
    pub fn every_day() -> HallCalendar {
        HallCalendar {
            working_weekdays: [true; 7],
            ..HallCalendar::default()
        }
    }

    pub fn validate(&self) -> Result<(), Error> {
        if self.holidays.len() > MAX_DATED_DAYS || self.working_days.len() > MAX_DATED_DAYS {
            return Err(Error::invalid(format!(
                "a calendar holds at most {MAX_DATED_DAYS} holidays and {MAX_DATED_DAYS} working days"
            )));
        }
        if let Some(both) = self.holidays.intersection(&self.working_days).next() {
            return Err(Error::invalid(format!(
                "{both} is both a holiday and a working day"
            )));
        }
        Ok(())
    }

    pub fn works_on(&self, weekday: Weekday) -> bool {
        self.working_weekdays[weekday.index()]
    }

    /// What kind of day `date` is: a dated day beats its weekday.
    pub fn day_kind(&self, date: LocalDate) -> DayKind {
        if self.holidays.contains(&date) {
            DayKind::Holiday
        } else if self.working_days.contains(&date) {
            DayKind::SwappedWorkday
        } else if self.works_on(date.weekday()) {
            DayKind::Workday
        } else {
            DayKind::RestDay
        }
    }

    pub fn is_open(&self, date: LocalDate) -> bool {
        self.day_kind(date).is_open()
    }

    /// The first open day on or after `from`, looking at most a little over a year ahead.
    pub fn next_open_date(&self, from: LocalDate) -> Option<LocalDate> {
        let mut date = from;
        for _ in 0..LOOKAHEAD_DAYS {
            if self.is_open(date) {
                return Some(date);
            }
            date = date.next_day()?;
        }
        None
    }

    /// When the hall next opens after `now`, if the hall opens at `opens` on an open day:
    /// today if today is open and `opens` is still ahead, else the next open day.
    pub fn next_opening(&self, now: Now, opens: ClockTime) -> Option<Opening> {
        let from = if self.is_open(now.date) && now.time < opens {
            now.date
        } else {
            now.date.next_day()?
        };
        let date = self.next_open_date(from)?;
        Some(Opening { date, time: opens })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Millis;

    fn date(text: &str) -> LocalDate {
        LocalDate::parse(text).unwrap()
    }

    fn at(day: &str, time: &str) -> Now {
        Now {
            at: Millis(0),
            date: date(day),
            time: ClockTime::parse(time).unwrap(),
        }
    }

    #[test]
    fn weekdays_of_known_dates() {
        for (day, weekday) in [
            ("2026-11-23", Weekday::Monday),
            ("2026-12-06", Weekday::Sunday),
            ("2026-01-01", Weekday::Thursday),
            ("2027-01-01", Weekday::Friday),
            ("2000-02-29", Weekday::Tuesday),
            ("2024-12-31", Weekday::Tuesday),
            ("1970-01-01", Weekday::Thursday),
            ("2026-10-03", Weekday::Saturday),
        ] {
            assert_eq!(date(day).weekday(), weekday, "{day}");
        }
    }

    #[test]
    fn the_day_after_crosses_months_and_years() {
        assert_eq!(date("2026-12-31").next_day(), Some(date("2027-01-01")));
        assert_eq!(date("2026-02-28").next_day(), Some(date("2026-03-01")));
        assert_eq!(date("2028-02-28").next_day(), Some(date("2028-02-29")));
        assert_eq!(date("2026-11-30").next_day(), Some(date("2026-12-01")));
        assert_eq!(date("9999-12-31").next_day(), None);
        // Every day of a year follows the one before, and the weekdays turn in order.
        let mut day = date("2026-01-01");
        for _ in 0..365 {
            let next = day.next_day().unwrap();
            assert!(next > day);
            assert_eq!(next.weekday().index(), (day.weekday().index() + 1) % 7);
            day = next;
        }
        assert_eq!(day, date("2027-01-01"));
    }

    #[test]
    fn monday_to_friday_by_default() {
        let calendar = HallCalendar::default();
        assert!(calendar.is_open(date("2026-11-23")));
        assert!(calendar.is_open(date("2026-11-27")));
        assert_eq!(calendar.day_kind(date("2026-11-28")), DayKind::RestDay);
        assert!(!calendar.is_open(date("2026-11-29")));
        assert!((0..7).all(|i| HallCalendar::every_day().working_weekdays[i]));
    }

    #[test]
    fn holidays_close_and_swapped_days_open() {
        let mut calendar = HallCalendar::default();
        // National Day 2026: Thursday 1 October is a holiday, Saturday 10 October is worked.
        calendar.holidays.insert(date("2026-10-01"));
        calendar.working_days.insert(date("2026-10-10"));
        assert_eq!(calendar.day_kind(date("2026-10-01")), DayKind::Holiday);
        assert!(!calendar.is_open(date("2026-10-01")));
        assert_eq!(
            calendar.day_kind(date("2026-10-10")),
            DayKind::SwappedWorkday
        );
        assert!(calendar.is_open(date("2026-10-10")));
        assert_eq!(calendar.day_kind(date("2026-10-02")), DayKind::Workday);
        calendar.working_days.insert(date("2026-10-01"));
        assert!(calendar.validate().is_err(), "a day both closed and worked");
    }

    #[test]
    fn the_next_opening_skips_closed_days() {
        let mut calendar = HallCalendar::default();
        let opens = ClockTime::parse("08:30").unwrap();
        // Before the opening on an open day: today.
        let opening = calendar
            .next_opening(at("2026-11-23", "07:00"), opens)
            .unwrap();
        assert_eq!((opening.date, opening.time), (date("2026-11-23"), opens));
        // After it: the next open day.
        let opening = calendar
            .next_opening(at("2026-11-23", "09:00"), opens)
            .unwrap();
        assert_eq!(opening.date, date("2026-11-24"));
        // Friday evening: Monday.
        let opening = calendar
            .next_opening(at("2026-11-27", "18:00"), opens)
            .unwrap();
        assert_eq!(opening.date, date("2026-11-30"));
        // Sunday morning, 07:19: Monday.
        let opening = calendar
            .next_opening(at("2026-12-06", "07:19"), opens)
            .unwrap();
        assert_eq!(opening.date, date("2026-12-07"));
        // New Year: 2027-01-01 (a Friday) is a holiday, Saturday 2 January is not worked, and
        // so the last working day of 2026 leads to Monday 4 January 2027.
        calendar.holidays.insert(date("2027-01-01"));
        let opening = calendar
            .next_opening(at("2026-12-31", "17:00"), opens)
            .unwrap();
        assert_eq!(opening.date, date("2027-01-04"));
        // A 调休 Sunday opens.
        calendar.working_days.insert(date("2027-01-03"));
        let opening = calendar
            .next_opening(at("2026-12-31", "17:00"), opens)
            .unwrap();
        assert_eq!(opening.date, date("2027-01-03"));
    }

    #[test]
    fn a_hall_that_never_works_never_opens() {
        let calendar = HallCalendar {
            working_weekdays: [false; 7],
            ..HallCalendar::default()
        };
        let opens = ClockTime::parse("08:30").unwrap();
        assert_eq!(
            calendar.next_opening(at("2026-11-23", "07:00"), opens),
            None
        );
        assert_eq!(
            calendar.next_opening(at("9999-12-31", "23:00"), opens),
            None
        );
    }

    #[test]
    fn weekday_names_parse_and_print() {
        for day in Weekday::ALL {
            assert_eq!(Weekday::parse(day.as_str()), Ok(day));
        }
        assert!(Weekday::parse("Monday").is_err());
        assert!(Weekday::parse("").is_err());
    }
}
