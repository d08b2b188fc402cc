//! When the demo's clock starts: a few minutes before the hall's next opening, so that
//! `cargo run --release` shows a living hall whenever it is run (on a Sunday night, just before
//! Monday's opening). [`demo_start`] is the one place that decides it; which days the hall
//! works is [`is_working_day`] (Monday to Friday), the one place the simulated citizens ask
//! too. A hall calendar with holidays and 调休 replaces that function when there is one.

use jiaohao_core::{ClockTime, Service};
use jiff::civil::{Date, Weekday};
use jiff::{SignedDuration, ZonedDateTime};

/// How long before the opening the demo clock starts: long enough to see the hall open, short
/// enough that the first citizens come within a minute at the default speed.
pub const LEAD: SignedDuration = SignedDuration::from_mins(3);

/// The opening when no service has hours of its own (open all day): a usual hall's morning.
const USUAL_OPENING: u16 = 9 * 60;

/// Whether the hall works on `date`: Monday to Friday.
pub fn is_working_day(date: Date) -> bool {
    !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// The hall's opening time of day: the earliest opening of its enabled services' hours.
pub fn opening_time(services: &[Service]) -> ClockTime {
    services
        .iter()
        .filter(|service| service.enabled)
        .filter_map(|service| service.hours.map(|(opens, _)| opens))
        .min()
        .unwrap_or_else(|| ClockTime::from_minutes(USUAL_OPENING).expect("09:00 is a time of day"))
}

/// The instant the demo clock starts at: [`LEAD`] before the hall's next opening after
/// `after` (the opening time of `services` on the next working day), and never before `after`
/// itself, so that the clock of a database that has seen later days never goes back.
pub fn demo_start(services: &[Service], after: &ZonedDateTime) -> ZonedDateTime {
    let opens = SignedDuration::from_mins(i64::from(opening_time(services).minutes()));
    let mut day = after.start_of_day().unwrap_or_else(|_| after.clone());
    // A week holds a working day; the bound only keeps a broken calendar from looping.
    for _ in 0..366 {
        let opening = day.checked_add(opens).unwrap_or_else(|_| day.clone());
        if is_working_day(day.date()) && opening > *after {
            let start = opening.checked_sub(LEAD).unwrap_or(opening);
            return if start > *after { start } else { after.clone() };
        }
        day = match day.tomorrow() {
            Ok(next) => next,
            Err(_) => break,
        };
    }
    after.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn services() -> Vec<Service> {
        jiaohao_hub::hall_file::parse(jiaohao_hub::hall_file::DEFAULT_HALL)
            .expect("the default hall parses")
            .into_iter()
            .filter_map(|command| match command {
                jiaohao_core::Command::AddService(service) => Some(service),
                _ => None,
            })
            .collect()
    }

    fn shanghai(text: &str) -> ZonedDateTime {
        format!("{text}[Asia/Shanghai]")
            .parse()
            .expect("a zoned time")
    }

    #[test]
    fn the_default_hall_opens_at_half_past_eight() {
        assert_eq!(opening_time(&services()).to_string(), "08:30");
    }

    #[test]
    fn the_demo_starts_a_few_minutes_before_the_next_working_morning() {
        let services = services();
        let start = |at: &str| demo_start(&services, &shanghai(at)).to_string();
        // Sunday 07:19 and Sunday night: Monday's opening.
        assert_eq!(
            start("2026-12-06T07:19:00"),
            "2026-12-07T08:27:00+08:00[Asia/Shanghai]"
        );
        assert_eq!(
            start("2026-12-06T23:30:00"),
            "2026-12-07T08:27:00+08:00[Asia/Shanghai]"
        );
        // A Tuesday morning before opening: today's; during the day: tomorrow's.
        assert_eq!(
            start("2026-12-08T06:00:00"),
            "2026-12-08T08:27:00+08:00[Asia/Shanghai]"
        );
        assert_eq!(
            start("2026-12-08T10:00:00"),
            "2026-12-09T08:27:00+08:00[Asia/Shanghai]"
        );
        // Friday afternoon: Monday.
        assert_eq!(
            start("2026-12-11T15:00:00"),
            "2026-12-14T08:27:00+08:00[Asia/Shanghai]"
        );
        // Within the lead-in the clock starts where it is, never back.
        assert_eq!(
            start("2026-12-08T08:29:00"),
            "2026-12-08T08:29:00+08:00[Asia/Shanghai]"
        );
    }

    #[test]
    fn only_weekdays_are_working_days() {
        let monday = Date::constant(2026, 12, 7);
        let days: Vec<bool> = (0..7)
            .map(|n| is_working_day(monday.checked_add(jiff::Span::new().days(n)).unwrap()))
            .collect();
        assert_eq!(days, [true, true, true, true, true, false, false]);
    }
}
