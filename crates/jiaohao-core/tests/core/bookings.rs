//! Appointments (预约) through the hall's commands: slots and their places, one booking per
//! person, service and day, verifying and lapsing, cancelling, the check-in window, queue
//! time, the no-show bar, the walk-ins' share of the cap and the registry across day starts.

use jiaohao_core::booking::slots_of;
use jiaohao_core::{
    BookingCode, BookingRules, BookingSettings, BookingStatus, ClockTime, Command, Error, Event,
    Hall, HallSettings, LocalDate, Millis, Now, PersonKey, Prefix, Service, ServiceCode, WindowDef,
    WindowNumber,
};
use proptest::prelude::*;

/// Midnight starting Monday 2026-03-02 in Asia/Shanghai.
const MONDAY_MIDNIGHT_MS: i64 = 1_772_380_800_000;
const DAY_MS: i64 = 24 * 60 * Millis::MINUTE;

fn code(text: &str) -> ServiceCode {
    ServiceCode::parse(text).unwrap()
}

fn date(day: i64) -> LocalDate {
    let mut date = LocalDate::new(2026, 3, 2).unwrap();
    for _ in 0..day {
        date = date.next_day().unwrap();
    }
    date
}

/// `day` days after Monday 2026-03-02 at `hh:mm`.
fn at(day: i64, time: &str) -> Now {
    let time = ClockTime::parse(time).unwrap();
    Now {
        at: Millis(MONDAY_MIDNIGHT_MS + day * DAY_MS + i64::from(time.minutes()) * Millis::MINUTE),
        date: date(day),
        time,
    }
}

fn person(n: u8) -> PersonKey {
    PersonKey::parse(&format!("{n:02x}").repeat(32)).unwrap()
}

fn booking(n: u8) -> BookingCode {
    BookingCode::from_random([n; 8])
}

fn exit_entry() -> Service {
    Service::new(
        code("exit_entry"),
        Prefix::parse("C").unwrap(),
        "出入境",
        "Exit-entry",
    )
    .with_hours(
        ClockTime::parse("09:00").unwrap(),
        ClockTime::parse("11:00").unwrap(),
    )
    .with_daily_cap(10)
}

/// A hall with exit-entry (09:00–11:00, cap 10) taking bookings in hour slots of 2 places,
/// and window 1 serving it, open from Monday 08:00.
fn hall() -> Hall {
    let mut hall = Hall::new();
    let settings = BookingSettings {
        capacities: vec![2, 2],
        ..BookingSettings::from_share(&exit_entry(), 60, 40).unwrap()
    };
    for command in [
        Command::AddService(exit_entry()),
        Command::AddWindow(WindowDef {
            number: WindowNumber::new(1).unwrap(),
            name_zh: "1号窗口".into(),
            name_en: "Window 1".into(),
            services: vec![code("exit_entry")],
            breaks: Vec::new(),
        }),
        Command::ConfigureBooking {
            service: code("exit_entry"),
            settings: Some(settings),
        },
    ] {
        hall.apply(&command, at(0, "08:00")).unwrap();
    }
    hall
}

fn book(
    hall: &mut Hall,
    n: u8,
    who: u8,
    day: i64,
    start: &str,
    now: Now,
) -> Result<Vec<Event>, Error> {
    let start_time = ClockTime::parse(start).unwrap();
    hall.apply(
        &Command::Book {
            code: booking(n),
            service: code("exit_entry"),
            date: date(day),
            start: start_time,
            starts_at: at(day, start).at,
            person: person(who),
            masked_id: "1101**********002X".into(),
        },
        now,
    )
}

fn verify(hall: &mut Hall, n: u8, now: Now) {
    hall.apply(&Command::VerifyBooking { code: booking(n) }, now)
        .unwrap();
}

fn check_in(hall: &mut Hall, n: u8, now: Now) -> Result<Vec<Event>, Error> {
    hall.apply(
        &Command::CheckIn {
            code: booking(n),
            green_channel: false,
            token: format!("booking-token-{n:04}-xxxxxxxx"),
        },
        now,
    )
}

/// When person `who`'s misses bar them from booking at `now`, by the hall's own rules.
fn barred_until(hall: &Hall, who: u8, now: Millis) -> Option<Millis> {
    hall.registry()
        .barred_until(&hall.settings().booking_rules, &person(who), now)
}

fn refusal(result: Result<Vec<Event>, Error>) -> &'static str {
    match result {
        Err(error) => error.code(),
        Ok(events) => panic!("expected a refusal, got {events:?}"),
    }
}

#[test]
fn slots_hold_their_places_and_one_booking_per_person_and_day() {
    let mut hall = hall();
    let now = at(0, "08:30");
    book(&mut hall, 1, 1, 1, "09:00", now).unwrap();
    assert_eq!(
        refusal(book(&mut hall, 2, 1, 1, "10:00", now)),
        "already_booked"
    );
    book(&mut hall, 3, 2, 1, "09:00", now).unwrap();
    assert_eq!(refusal(book(&mut hall, 4, 3, 1, "09:00", now)), "slot_full");
    assert_eq!(refusal(book(&mut hall, 4, 3, 1, "09:30", now)), "invalid");
    assert_eq!(
        refusal(book(&mut hall, 1, 3, 1, "10:00", now)),
        "booking_code_taken"
    );
    // Today and past the horizon are closed; Saturday is a working day without a calendar.
    assert_eq!(
        refusal(book(&mut hall, 5, 3, 0, "10:00", now)),
        "booking_day_closed"
    );
    assert_eq!(
        refusal(book(&mut hall, 5, 3, 6, "10:00", now)),
        "booking_day_closed"
    );
    book(&mut hall, 5, 3, 5, "10:00", now).unwrap();
    let slots = hall
        .booking_slots(&code("exit_entry"), date(1), now)
        .unwrap();
    let remaining: Vec<u32> = slots.iter().map(|s| s.remaining).collect();
    assert_eq!(remaining, vec![0, 2]);
    // An unverified booking lapses after 10 minutes and frees its place.
    let later = Now {
        at: now.at.plus_ms(10 * Millis::MINUTE),
        ..now
    };
    let slots = hall
        .booking_slots(&code("exit_entry"), date(1), later)
        .unwrap();
    assert_eq!(slots[0].remaining, 2);
    assert_eq!(
        refusal(hall.apply(&Command::VerifyBooking { code: booking(1) }, later)),
        "booking_lapsed"
    );
    book(&mut hall, 6, 1, 1, "10:00", later).unwrap();
}

fn walk_in(hall: &mut Hall, n: u32, now: Now) -> Result<Vec<Event>, Error> {
    hall.apply(
        &Command::IssueTicket {
            service: code("exit_entry"),
            green_channel: false,
            token: format!("walk-in-token-{n:08}"),
            idempotency_key: None,
        },
        now,
    )
}

#[test]
fn a_day_nobody_could_book_keeps_the_whole_cap_for_walk_ins() {
    let service = exit_entry();
    assert_eq!(slots_of(&service, 30).unwrap().len(), 4);
    // Bookings opened this morning: nobody could book today (bookings close the day before),
    // so the 4 places of today's slots are not held back: all 10 of the cap are walk-ins'.
    let mut hall = hall();
    assert_eq!(
        hall.walk_in_cap(&code("exit_entry"), at(0, "09:00").at),
        Some(10)
    );
    for n in 0..10 {
        walk_in(&mut hall, n, at(0, "09:10")).unwrap();
    }
    assert_eq!(
        refusal(walk_in(&mut hall, 99, at(0, "09:11"))),
        "daily_cap_reached"
    );
}

#[test]
fn booked_places_are_held_until_check_in_closes_then_go_to_walk_ins() {
    let mut hall = hall();
    // Tomorrow: two verified bookings (09:00 and 10:00), one unverified that lapses, one
    // cancelled; the slots' other places were never booked.
    for (n, who, start) in [
        (1, 1, "09:00"),
        (2, 2, "10:00"),
        (3, 3, "10:00"),
        (4, 4, "09:00"),
    ] {
        book(&mut hall, n, who, 1, start, at(0, "12:00")).unwrap();
    }
    verify(&mut hall, 1, at(0, "12:01"));
    verify(&mut hall, 2, at(0, "12:01"));
    verify(&mut hall, 4, at(0, "12:01"));
    hall.apply(&Command::CancelBooking { code: booking(4) }, at(0, "12:02"))
        .unwrap();
    // At the day start only the two verified bookings hold places: 8 walk-ins.
    let cap = |hall: &Hall, time: &str| hall.walk_in_cap(&code("exit_entry"), at(1, time).at);
    for n in 0..8 {
        walk_in(&mut hall, n, at(1, "09:00")).unwrap();
    }
    assert_eq!(cap(&hall, "09:00"), Some(8));
    assert!(hall.walk_in_cap_reached(&code("exit_entry"), at(1, "09:00").at));
    assert_eq!(
        refusal(walk_in(&mut hall, 50, at(1, "09:01"))),
        "daily_cap_reached"
    );
    // The 09:00 booking never came: when its check-in closes (09:15) its place is a walk-in's.
    assert_eq!(cap(&hall, "09:15"), Some(8));
    assert_eq!(cap(&hall, "09:16"), Some(9));
    assert!(!hall.walk_in_cap_reached(&code("exit_entry"), at(1, "09:16").at));
    walk_in(&mut hall, 52, at(1, "09:16")).unwrap();
    assert_eq!(
        refusal(walk_in(&mut hall, 53, at(1, "09:17"))),
        "daily_cap_reached"
    );
    // The 10:00 booking checks in: its place stays taken, by its ticket.
    check_in(&mut hall, 2, at(1, "09:50")).unwrap();
    assert_eq!(cap(&hall, "09:50"), Some(9));
    assert_eq!(
        refusal(walk_in(&mut hall, 54, at(1, "09:51"))),
        "daily_cap_reached"
    );
    assert_eq!(
        hall.places_booked_today(&code("exit_entry"), at(1, "09:53").at),
        1
    );
}

#[test]
fn check_in_opens_30_minutes_before_and_closes_15_after_the_start() {
    let mut hall = hall();
    book(&mut hall, 1, 1, 1, "10:00", at(0, "12:00")).unwrap();
    assert_eq!(
        refusal(check_in(&mut hall, 1, at(1, "09:40"))),
        "booking_not_active"
    );
    verify(&mut hall, 1, at(0, "12:01"));
    assert_eq!(
        refusal(check_in(&mut hall, 1, at(1, "09:29"))),
        "check_in_too_early"
    );
    let events = check_in(&mut hall, 1, at(1, "09:30")).unwrap();
    let [
        Event::DayStarted { .. },
        Event::TicketIssued { id, .. },
        Event::TicketHolder { .. },
        Event::BookingCheckedIn { queue_time, .. },
    ] = &events[..]
    else {
        panic!("{events:?}");
    };
    assert_eq!(
        *queue_time,
        at(1, "10:00").at,
        "an early check-in queues at its slot start"
    );
    assert_eq!(hall.ticket(*id).unwrap().queue_time, at(1, "10:00").at);
    assert_eq!(
        refusal(check_in(&mut hall, 1, at(1, "09:31"))),
        "booking_not_active"
    );

    book(&mut hall, 2, 2, 2, "10:00", at(1, "12:00")).unwrap();
    verify(&mut hall, 2, at(1, "12:00"));
    assert_eq!(
        refusal(check_in(&mut hall, 2, at(2, "10:16"))),
        "check_in_too_late"
    );
    book(&mut hall, 3, 3, 2, "09:00", at(1, "12:00")).unwrap();
    verify(&mut hall, 3, at(1, "12:00"));
    let events = check_in(&mut hall, 3, at(2, "09:10")).unwrap();
    assert!(events.iter().any(|e| matches!(e, Event::BookingCheckedIn { queue_time, .. } if *queue_time == at(2, "09:10").at)),
        "a late check-in queues at its check-in");
}

#[test]
fn tickets_are_called_in_queue_time_order() {
    let mut hall = hall();
    book(&mut hall, 1, 1, 1, "10:00", at(0, "12:00")).unwrap();
    verify(&mut hall, 1, at(0, "12:00"));
    let window = WindowNumber::new(1).unwrap();
    hall.apply(&Command::Open { window }, at(1, "09:00"))
        .unwrap();
    let issue = |hall: &mut Hall, n: u8, time: &str| {
        hall.apply(
            &Command::IssueTicket {
                service: code("exit_entry"),
                green_channel: false,
                token: format!("walk-in-token-{n:08}"),
                idempotency_key: None,
            },
            at(1, time),
        )
        .unwrap();
    };
    issue(&mut hall, 1, "09:35");
    check_in(&mut hall, 1, at(1, "09:40")).unwrap();
    issue(&mut hall, 2, "09:50");
    issue(&mut hall, 3, "10:05");
    let mut called = Vec::new();
    for time in ["10:06", "10:07", "10:08", "10:09"] {
        let events = hall
            .apply(&Command::CallNext { window }, at(1, time))
            .unwrap();
        for event in events {
            if let Event::TicketCalled { id, .. } = event {
                called.push(hall.ticket(id).unwrap().number.to_string());
            }
        }
    }
    // C001 (09:35), C003 (09:50), the booking C002 (slot 10:00), C004 (10:05).
    assert_eq!(called, ["C001", "C003", "C002", "C004"]);
    assert_eq!(
        hall.registry().status(
            hall.registry().booking(&booking(1)).unwrap(),
            at(1, "10:09").at
        ),
        BookingStatus::Served,
        "the next call finished the booking's ticket"
    );
    hall.apply(
        &Command::Finish {
            window,
            outcome: jiaohao_core::Outcome::Done,
        },
        at(1, "10:10"),
    )
    .unwrap();
    // An early booking is called before its slot when nobody with an earlier queue time waits.
    let mut early = hall.clone();
    book(&mut early, 2, 2, 2, "10:00", at(1, "10:11")).unwrap();
    verify(&mut early, 2, at(1, "10:11"));
    early
        .apply(&Command::Open { window }, at(2, "09:00"))
        .unwrap();
    check_in(&mut early, 2, at(2, "09:31")).unwrap();
    let events = early
        .apply(&Command::CallNext { window }, at(2, "09:32"))
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::TicketCalled { .. }))
    );
}

#[test]
fn cancelling_closes_two_hours_before_the_slot() {
    let mut hall = hall();
    book(&mut hall, 1, 1, 1, "10:00", at(0, "12:00")).unwrap();
    verify(&mut hall, 1, at(0, "12:00"));
    assert_eq!(
        refusal(hall.apply(&Command::CancelBooking { code: booking(1) }, at(1, "08:01"))),
        "cancel_too_late"
    );
    hall.apply(&Command::CancelBooking { code: booking(1) }, at(1, "08:00"))
        .unwrap();
    assert_eq!(
        refusal(hall.apply(&Command::CancelBooking { code: booking(1) }, at(1, "08:00"))),
        "booking_not_active"
    );
    assert_eq!(
        refusal(hall.apply(&Command::CancelBooking { code: booking(9) }, at(1, "08:00"))),
        "unknown_booking"
    );
}

#[test]
fn three_missed_bookings_in_180_days_bar_booking_for_30_days() {
    let mut hall = hall();
    // Misses on days 1, 3 and 5 (each booked the day before, verified, never checked in).
    for (n, day) in [(1u8, 1i64), (2, 3), (3, 5)] {
        book(&mut hall, n, 7, day, "09:00", at(day - 1, "12:00")).unwrap();
        verify(&mut hall, n, at(day - 1, "12:00"));
    }
    let after = at(5, "09:16");
    assert!(barred_until(&hall, 7, after.at).is_some());
    assert_eq!(
        refusal(book(&mut hall, 4, 7, 6, "09:00", after)),
        "booking_barred"
    );
    // Another person books as before; walking in stays possible.
    book(&mut hall, 5, 8, 6, "09:00", after).unwrap();
    // 30 days after the third miss the bar is over.
    let later = at(35, "09:16");
    assert!(barred_until(&hall, 7, later.at).is_none());
    book(&mut hall, 6, 7, 36, "09:00", later).unwrap();
}

#[test]
fn the_registry_outlives_the_day_and_rides_in_the_snapshot() {
    let mut hall = hall();
    book(&mut hall, 1, 1, 2, "10:00", at(0, "12:00")).unwrap();
    verify(&mut hall, 1, at(0, "12:00"));
    let snapshot = hall.day_start_snapshot(date(1), at(1, "00:00").at);
    assert!(snapshot.registry.booking(&booking(1)).is_some());
    let mut restored = Hall::from_snapshot(&snapshot);
    hall.apply(&Command::Tick, at(1, "00:00")).unwrap();
    assert_eq!(restored, hall);
    check_in(&mut restored, 1, at(2, "09:45")).unwrap();
    // Bookings older than the bar needs are dropped at a day start.
    restored.apply(&Command::Tick, at(400, "00:00")).unwrap();
    assert!(restored.registry().bookings.is_empty());
    assert!(restored.registry().settings(&code("exit_entry")).is_some());
}

#[test]
fn a_service_that_needs_the_id_issues_one_ticket_per_person_and_day() {
    let mut hall = hall();
    let hukou = Service::new(
        code("hukou"),
        Prefix::parse("A").unwrap(),
        "户籍",
        "Household",
    )
    .with_identity_required(true);
    hall.apply(&Command::AddService(hukou), at(0, "08:00"))
        .unwrap();
    let plain = hall.apply(
        &Command::IssueTicket {
            service: code("hukou"),
            green_channel: false,
            token: "walk-in-token-00000001".into(),
            idempotency_key: None,
        },
        at(0, "09:00"),
    );
    assert_eq!(refusal(plain), "identity_required");
    let issue = |hall: &mut Hall, who: u8, n: u32| {
        hall.apply(
            &Command::IssueForPerson {
                service: code("hukou"),
                green_channel: false,
                token: format!("person-token-{n:08}"),
                idempotency_key: None,
                person: person(who),
            },
            at(0, "09:01"),
        )
        .unwrap()
    };
    let first = issue(&mut hall, 1, 1);
    assert!(matches!(
        first[..],
        [Event::TicketIssued { .. }, Event::TicketHolder { .. }]
    ));
    assert!(
        issue(&mut hall, 1, 2).is_empty(),
        "a second request issues nothing"
    );
    let reprint = hall.ticket_of(&person(1), &code("hukou")).unwrap();
    assert_eq!(reprint.number.to_string(), "A001");
    assert_eq!(
        issue(&mut hall, 2, 3).len(),
        2,
        "another person gets a ticket"
    );
    // The next day the person may take one again.
    hall.apply(&Command::Tick, at(1, "00:00")).unwrap();
    assert!(hall.ticket_of(&person(1), &code("hukou")).is_none());
}

/// The hall of [`hall`] with its booking rules set as a hall setting.
fn hall_with_rules(rules: BookingRules) -> Hall {
    let mut hall = hall();
    hall.apply(
        &Command::ConfigureHall(HallSettings {
            booking_rules: rules,
            ..HallSettings::default()
        }),
        at(0, "08:00"),
    )
    .unwrap();
    hall
}

/// Person 7 books and verifies a 09:00 slot on each of `days` (all on day 0, so a bar the
/// first misses raise cannot stop the later bookings), and never comes.
fn miss_on(hall: &mut Hall, days: &[i64]) {
    for (n, &day) in days.iter().enumerate() {
        let n = n as u8 + 1;
        book(hall, n, 7, day, "09:00", at(0, "12:00")).unwrap();
        verify(hall, n, at(0, "12:00"));
    }
}

#[test]
fn the_bar_follows_the_halls_rules() {
    // Two misses bar when the hall says two …
    let rules = BookingRules {
        misses_to_bar: 2,
        ..BookingRules::default()
    };
    let mut strict = hall_with_rules(rules);
    miss_on(&mut strict, &[1, 3]);
    let after = at(3, "09:16");
    assert_eq!(
        refusal(book(&mut strict, 9, 7, 4, "09:00", after)),
        "booking_barred"
    );
    // … and not by the default of three.
    let mut lenient = hall();
    miss_on(&mut lenient, &[1, 3]);
    assert!(barred_until(&lenient, 7, after.at).is_none());
    book(&mut lenient, 9, 7, 4, "09:00", after).unwrap();

    // The bar lasts the hall's bar_days after the last miss (here 3: the miss on day 3 closed
    // at 09:15, so the bar ends on day 6 at 09:15).
    let mut short = hall_with_rules(BookingRules {
        misses_to_bar: 2,
        bar_days: 3,
        ..BookingRules::default()
    });
    miss_on(&mut short, &[1, 3]);
    assert!(barred_until(&short, 7, at(6, "09:14").at).is_some());
    assert!(barred_until(&short, 7, at(6, "09:15").at).is_none());

    // Misses further apart than the hall's window do not count together.
    let mut narrow = hall_with_rules(BookingRules {
        misses_to_bar: 2,
        miss_window_days: 1,
        ..BookingRules::default()
    });
    miss_on(&mut narrow, &[1, 3]);
    assert!(barred_until(&narrow, 7, after.at).is_none());
}

#[test]
fn an_unverified_booking_lapses_after_the_halls_lapse() {
    let mut hall = hall_with_rules(BookingRules {
        lapse_min: 5,
        ..BookingRules::default()
    });
    let now = at(0, "08:30");
    book(&mut hall, 1, 1, 1, "09:00", now).unwrap();
    let status = |hall: &Hall, minutes: i64| {
        hall.registry().status(
            hall.registry().booking(&booking(1)).unwrap(),
            now.at.plus_ms(minutes * Millis::MINUTE - 1),
        )
    };
    assert_eq!(status(&hall, 5), BookingStatus::Booked);
    assert_eq!(status(&hall, 6), BookingStatus::Lapsed);
    let five = Now {
        at: now.at.plus_ms(5 * Millis::MINUTE),
        ..now
    };
    assert_eq!(
        refusal(hall.apply(&Command::VerifyBooking { code: booking(1) }, five)),
        "booking_lapsed"
    );
    let slots = hall
        .booking_slots(&code("exit_entry"), date(1), five)
        .unwrap();
    assert_eq!(slots[0].remaining, 2, "the lapsed booking's place is free");
    // A longer lapse set later does not bring the lapsed booking back (its place may be
    // taken again by then); it applies to the bookings made after it.
    hall.apply(
        &Command::ConfigureHall(HallSettings {
            booking_rules: BookingRules {
                lapse_min: 60,
                ..BookingRules::default()
            },
            ..HallSettings::default()
        }),
        five,
    )
    .unwrap();
    assert_eq!(status(&hall, 30), BookingStatus::Lapsed);
    book(&mut hall, 2, 2, 1, "09:00", five).unwrap();
    let later = hall.registry().booking(&booking(2)).unwrap();
    assert_eq!(later.lapses_at, five.at.plus_ms(60 * Millis::MINUTE));
}

#[test]
fn the_rules_are_checked_and_ride_in_the_snapshot() {
    let mut hall = hall();
    for bad in [
        BookingRules {
            lapse_min: 0,
            ..BookingRules::default()
        },
        BookingRules {
            lapse_min: 61,
            ..BookingRules::default()
        },
        BookingRules {
            misses_to_bar: 0,
            ..BookingRules::default()
        },
        BookingRules {
            misses_to_bar: 11,
            ..BookingRules::default()
        },
        BookingRules {
            miss_window_days: 366,
            ..BookingRules::default()
        },
        BookingRules {
            bar_days: 0,
            ..BookingRules::default()
        },
    ] {
        let result = hall.apply(
            &Command::ConfigureHall(HallSettings {
                booking_rules: bad,
                ..HallSettings::default()
            }),
            at(0, "08:00"),
        );
        let Err(Error::Invalid(message)) = result else {
            panic!("{bad:?} was taken: {result:?}");
        };
        assert!(message.contains("booking_rules."), "{message}");
    }
    let rules = BookingRules {
        lapse_min: 5,
        misses_to_bar: 2,
        miss_window_days: 90,
        bar_days: 60,
    };
    let mut hall = hall_with_rules(rules);
    assert_eq!(hall.settings().booking_rules, rules);
    let snapshot = hall.day_start_snapshot(date(1), at(1, "00:00").at);
    assert_eq!(snapshot.settings.booking_rules, rules);
    let restored = Hall::from_snapshot(&snapshot);
    hall.apply(&Command::Tick, at(1, "00:00")).unwrap();
    assert_eq!(restored, hall);
    assert_eq!(restored.settings().booking_rules, rules);
}

#[test]
fn bookings_are_kept_as_long_as_the_halls_bar_needs() {
    // Window 10 days + bar 10 days + 10: a booking on day 2 is kept until day 32.
    let mut hall = hall_with_rules(BookingRules {
        miss_window_days: 10,
        bar_days: 10,
        ..BookingRules::default()
    });
    book(&mut hall, 1, 1, 2, "10:00", at(0, "12:00")).unwrap();
    hall.apply(&Command::Tick, at(32, "00:00")).unwrap();
    assert!(hall.registry().booking(&booking(1)).is_some());
    hall.apply(&Command::Tick, at(33, "00:00")).unwrap();
    assert!(hall.registry().booking(&booking(1)).is_none());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever the rules: an unverified booking holds its place exactly `lapse_min`
    /// minutes, and a person is barred exactly when their misses (a day apart, all within
    /// the window) reach `misses_to_bar`.
    #[test]
    fn a_changed_rule_applies(
        lapse_min in 1u32..=60,
        misses_to_bar in 1u32..=4,
        misses in 0usize..=4,
    ) {
        let rules = BookingRules { lapse_min, misses_to_bar, ..BookingRules::default() };
        let mut hall = hall_with_rules(rules);
        let days: Vec<i64> = (0..misses as i64).map(|i| 1 + i).collect();
        miss_on(&mut hall, &days);
        let after = at(misses as i64 + 1, "09:16");
        let barred = barred_until(&hall, 7, after.at).is_some();
        prop_assert_eq!(barred, misses as u32 >= misses_to_bar);

        let made = at(misses as i64 + 1, "09:20");
        let result = book(&mut hall, 40, 8, misses as i64 + 2, "10:00", made);
        prop_assert!(result.is_ok(), "{:?}", result);
        let booking = hall.registry().booking(&booking(40)).unwrap().clone();
        let lapse = i64::from(lapse_min) * Millis::MINUTE;
        prop_assert_eq!(
            hall.registry().status(&booking, made.at.plus_ms(lapse - 1)),
            BookingStatus::Booked
        );
        prop_assert_eq!(
            hall.registry().status(&booking, made.at.plus_ms(lapse)),
            BookingStatus::Lapsed
        );
    }
}

/// The projected wait of a walk-in taking an exit-entry ticket at 09:05 on day 1, after one
/// walk-in at 09:01, with window 1 open; `prepare` books (on day 0) and does what else the
/// case needs.
fn walk_in_wait(prepare: impl FnOnce(&mut Hall)) -> i64 {
    let mut hall = hall();
    prepare(&mut hall);
    let window = WindowNumber::new(1).unwrap();
    hall.apply(&Command::Open { window }, at(1, "08:59"))
        .unwrap();
    walk_in(&mut hall, 1, at(1, "09:01")).unwrap();
    jiaohao_core::Projection::of(&hall, at(1, "09:05"))
        .new_ticket_wait_ms(&code("exit_entry"))
        .expect("window 1 serves exit-entry")
}

/// Persons 1 and 2 book the day-1 slot at `start` and verify.
fn two_verified(hall: &mut Hall, start: &str) {
    for n in [1, 2] {
        book(hall, n, n, 1, start, at(0, "12:00")).unwrap();
        verify(hall, n, at(0, "12:01"));
    }
}

#[test]
fn the_wait_estimate_expects_verified_bookings_due_and_nothing_else() {
    let nobody = walk_in_wait(|_| {});
    // Two verified bookings of the 09:00 slot, not checked in yet (check-in is open until
    // 09:15): they are expected now, with a queue time before the new walk-in's.
    let due = walk_in_wait(|hall| two_verified(hall, "09:00"));
    assert!(
        due > nobody,
        "verified bookings due: {due} ms, nobody booked: {nobody} ms"
    );
    let handling = hall().expected_handling_ms(&code("exit_entry"));
    assert_eq!(
        due - nobody,
        2 * handling,
        "two bookings add two handling times"
    );
    // Unverified bookings (lapsed: nobody could verify them in time) are not expected …
    let unverified = walk_in_wait(|hall| {
        for n in [1, 2] {
            book(hall, n, n, 1, "09:00", at(0, "12:00")).unwrap();
        }
    });
    assert_eq!(unverified, nobody, "unverified bookings");
    // … nor cancelled ones …
    let cancelled = walk_in_wait(|hall| {
        two_verified(hall, "09:00");
        for n in [1, 2] {
            hall.apply(&Command::CancelBooking { code: booking(n) }, at(0, "13:00"))
                .unwrap();
        }
    });
    assert_eq!(cancelled, nobody, "cancelled bookings");
    // … and checked-in ones are tickets in the queue, counted once, not expected again.
    let checked_in = walk_in_wait(|hall| {
        two_verified(hall, "09:00");
        for n in [1, 2] {
            check_in(hall, n, at(1, "09:02")).unwrap();
        }
    });
    assert_eq!(checked_in, due, "checked-in bookings count once");
    // Bookings of a later slot queue by its start: a walk-in who takes a ticket before it
    // goes first, so they do not lengthen its wait.
    let later_slot = walk_in_wait(|hall| two_verified(hall, "10:00"));
    assert_eq!(later_slot, nobody, "bookings of the 10:00 slot");
}
