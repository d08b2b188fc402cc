//! The rota (排班): shifts that end after they start and never overlap, applied on the days
//! the calendar opens; a 调休 working day without shifts of its own takes Monday's.

use std::collections::BTreeSet;

use jiaohao_core::{ClockTime, HallCalendar, LocalDate, Rota, Shift, Weekday, WindowNumber};
use proptest::prelude::*;

fn shift(window: u32, weekday: Weekday, from: &str, to: &str) -> Shift {
    Shift {
        window: WindowNumber::new(window).unwrap(),
        weekday,
        from: ClockTime::parse(from).unwrap(),
        to: ClockTime::parse(to).unwrap(),
    }
}

#[test]
fn shifts_apply_on_open_days_and_swapped_weekends_take_mondays() {
    let rota = Rota::new(vec![
        shift(1, Weekday::Monday, "13:00", "17:30"),
        shift(1, Weekday::Monday, "08:30", "12:00"),
        shift(2, Weekday::Tuesday, "08:30", "12:00"),
    ])
    .unwrap();
    // Sorted by window, weekday and start.
    assert_eq!(rota.shifts()[0].from, ClockTime::parse("08:30").unwrap());
    let monday = LocalDate::new(2026, 11, 23).unwrap();
    assert_eq!(monday.weekday(), Weekday::Monday);
    assert_eq!(rota.on(monday, None).len(), 2);
    let mut calendar = HallCalendar::default();
    calendar.holidays.insert(monday);
    assert!(
        rota.on(monday, Some(&calendar)).is_empty(),
        "a holiday has no shifts"
    );
    let saturday = LocalDate::new(2026, 11, 28).unwrap();
    assert!(rota.on(saturday, Some(&calendar)).is_empty());
    calendar.working_days.insert(saturday);
    let swapped = rota.on(saturday, Some(&calendar));
    assert_eq!(swapped.len(), 2);
    assert!(swapped.iter().all(|s| s.weekday == Weekday::Saturday));
}

#[test]
fn bad_shifts_are_refused() {
    for shifts in [
        vec![shift(1, Weekday::Monday, "12:00", "08:30")],
        vec![shift(1, Weekday::Monday, "12:00", "12:00")],
        vec![
            shift(1, Weekday::Monday, "08:30", "12:00"),
            shift(1, Weekday::Monday, "11:30", "13:00"),
        ],
    ] {
        assert!(Rota::new(shifts.clone()).is_err(), "{shifts:?}");
    }
    // The same hours on another window or weekday are fine.
    Rota::new(vec![
        shift(1, Weekday::Monday, "08:30", "12:00"),
        shift(2, Weekday::Monday, "08:30", "12:00"),
        shift(1, Weekday::Tuesday, "08:30", "12:00"),
    ])
    .unwrap();
}

proptest! {
    /// Any accepted rota holds every shift it was given, and no two of one window's shifts on
    /// one weekday overlap.
    #[test]
    fn an_accepted_rota_never_overlaps(raw in prop::collection::vec((1..4u32, 0..7usize, 0..48u16, 1..16u16), 0..12)) {
        let shifts: Vec<Shift> = raw.iter().map(|(w, d, start, length)| Shift {
            window: WindowNumber::new(*w).unwrap(),
            weekday: Weekday::ALL[*d],
            from: ClockTime::from_minutes(start * 30).unwrap(),
            to: ClockTime::from_minutes((start * 30 + length * 30).min(24 * 60 - 1)).unwrap(),
        }).collect();
        if let Ok(rota) = Rota::new(shifts.clone()) {
            prop_assert_eq!(rota.shifts().len(), shifts.len());
            let given: BTreeSet<Shift> = shifts.into_iter().collect();
            let kept: BTreeSet<Shift> = rota.shifts().iter().copied().collect();
            prop_assert_eq!(given, kept);
            for (i, a) in rota.shifts().iter().enumerate() {
                prop_assert!(a.from < a.to);
                for b in &rota.shifts()[i + 1..] {
                    if a.window == b.window && a.weekday == b.weekday {
                        prop_assert!(b.from >= a.to || a.from >= b.to);
                    }
                }
            }
        }
    }
}
