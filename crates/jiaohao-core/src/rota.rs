//! The rota (排班): when each window is expected to be open, per weekday, on the days the hall
//! calendar opens. Reports compare a window's day against it (late opening, early closing,
//! unexplained absence). Part of the hall's settings.

use crate::calendar::{HallCalendar, Weekday};
use crate::error::Error;
use crate::ids::WindowNumber;
use crate::time::{ClockTime, LocalDate};

/// The most shifts a rota holds.
pub const MAX_SHIFTS: usize = 2000;

/// One stretch of a weekday a window is expected to be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shift {
    pub window: WindowNumber,
    pub weekday: Weekday,
    pub from: ClockTime,
    pub to: ClockTime,
}

/// The shifts of every window, kept sorted by window, weekday and start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rota {
    shifts: Vec<Shift>,
}

impl Rota {
    /// A rota of these shifts: each ends after it starts, and a window's shifts of one weekday
    /// do not overlap.
    pub fn new(mut shifts: Vec<Shift>) -> Result<Rota, Error> {
        if shifts.len() > MAX_SHIFTS {
            return Err(Error::invalid(format!(
                "a rota holds at most {MAX_SHIFTS} shifts"
            )));
        }
        shifts.sort();
        for shift in &shifts {
            if shift.from >= shift.to {
                return Err(Error::invalid(format!(
                    "a shift of window {} on {} starts at {}, not before its end at {}",
                    shift.window,
                    shift.weekday.as_str(),
                    shift.from,
                    shift.to
                )));
            }
        }
        for pair in shifts.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if a.window == b.window && a.weekday == b.weekday && b.from < a.to {
                return Err(Error::invalid(format!(
                    "shifts of window {} on {} overlap ({}–{} and {}–{})",
                    a.window,
                    a.weekday.as_str(),
                    a.from,
                    a.to,
                    b.from,
                    b.to
                )));
            }
        }
        Ok(Rota { shifts })
    }

    pub fn shifts(&self) -> &[Shift] {
        &self.shifts
    }

    pub fn is_empty(&self) -> bool {
        self.shifts.is_empty()
    }

    /// The shifts of a date: none on a day the calendar closes (with no calendar the hall is
    /// open every day); on an open day, those of its weekday, and on a weekend day worked
    /// instead of a holiday (调休) that has no shifts of its own, Monday's.
    pub fn on(&self, date: LocalDate, calendar: Option<&HallCalendar>) -> Vec<Shift> {
        if calendar.is_some_and(|c| !c.is_open(date)) {
            return Vec::new();
        }
        let weekday = date.weekday();
        let of = |day: Weekday| -> Vec<Shift> {
            self.shifts
                .iter()
                .filter(|s| s.weekday == day)
                .copied()
                .collect()
        };
        let own = of(weekday);
        let swapped = calendar.is_some_and(|c| c.working_days.contains(&date));
        if own.is_empty() && swapped {
            return of(Weekday::Monday)
                .into_iter()
                .map(|s| Shift { weekday, ..s })
                .collect();
        }
        own
    }
}
