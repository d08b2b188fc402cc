//! Rating from the phone after the day ended (一次一评): a finished ticket stays ratable from
//! its page until the end of the next working day by the hall calendar, kept in the registry
//! across day starts (and so in the day-start snapshot), rated once however and whenever
//! given, and the rating belongs to the ticket's day in the history.

use jiaohao_core::rating::{ENDED_RATINGS_KEPT_DAYS, phone_rating_until};
use jiaohao_core::{
    ClockTime, Command, Error, Event, Hall, HallCalendar, History, LocalDate, Millis, Now, Prefix,
    Rating, RatingReason, Service, ServiceCode, TicketNumber, TicketRating, WindowDef,
    WindowNumber,
};
use proptest::prelude::*;

/// Midnight starting 2026-03-02 (a Monday) in Asia/Shanghai.
const MONDAY_MIDNIGHT_MS: i64 = 1_772_380_800_000;
const DAY_MS: i64 = 24 * 60 * Millis::MINUTE;

fn date(day: u8) -> LocalDate {
    LocalDate::new(2026, 3, day).unwrap()
}

/// `minutes` after midnight on 2026-03-`day`.
fn on(day: u8, minutes: u16) -> Now {
    Now {
        at: Millis(
            MONDAY_MIDNIGHT_MS + i64::from(day - 2) * DAY_MS + i64::from(minutes) * Millis::MINUTE,
        ),
        date: date(day),
        time: ClockTime::from_minutes(minutes).unwrap(),
    }
}

fn token(i: u32) -> String {
    format!("token-{i:016}")
}

fn rate_own(i: u32, rating: Rating) -> Command {
    Command::RateOwnTicket {
        token: token(i),
        rating,
        reason: rating.is_bad().then_some(RatingReason::Attitude),
    }
}

/// A hall open Monday to Friday, with window 1 serving id_card; on Friday 2026-03-06 it
/// finishes tickets 0, 1 and 2 and leaves ticket 3 waiting. Returns the hall and its log.
fn friday() -> (Hall, Vec<(Event, Millis)>) {
    let mut hall = Hall::new();
    let mut log = Vec::new();
    let id_card = ServiceCode::parse("id_card").unwrap();
    let mut commands = vec![
        (Command::SetCalendar(HallCalendar::default()), 8 * 60),
        (
            Command::AddService(
                Service::new(
                    id_card.clone(),
                    Prefix::parse("B").unwrap(),
                    "身份证",
                    "ID card",
                )
                .with_targets(20, 10),
            ),
            8 * 60,
        ),
        (
            Command::AddWindow(WindowDef {
                number: WindowNumber::new(1).unwrap(),
                name_zh: "1号窗口".into(),
                name_en: "Window 1".into(),
                services: vec![id_card.clone()],
                breaks: Vec::new(),
            }),
            8 * 60,
        ),
        (
            Command::Open {
                window: WindowNumber::new(1).unwrap(),
            },
            8 * 60,
        ),
    ];
    for i in 0..4 {
        commands.push((
            Command::IssueTicket {
                service: id_card.clone(),
                green_channel: false,
                token: token(i),
                idempotency_key: None,
            },
            9 * 60,
        ));
    }
    for minute in [10, 20, 30] {
        commands.push((
            Command::CallNext {
                window: WindowNumber::new(1).unwrap(),
            },
            9 * 60 + minute,
        ));
        commands.push((
            Command::finish(WindowNumber::new(1).unwrap()),
            9 * 60 + minute + 5,
        ));
    }
    for (command, minutes) in commands {
        let now = on(6, minutes);
        for event in hall.apply(&command, now).unwrap() {
            log.push((event, now.at));
        }
    }
    (hall, log)
}

fn apply(hall: &mut Hall, log: &mut Vec<(Event, Millis)>, command: &Command, now: Now) {
    for event in hall.apply(command, now).unwrap() {
        log.push((event, now.at));
    }
}

#[test]
fn a_friday_ticket_is_rated_on_monday_but_not_on_tuesday_when_the_weekend_is_closed() {
    let (mut hall, mut log) = friday();
    // Rated on its day from the phone: stays rated.
    apply(
        &mut hall,
        &mut log,
        &rate_own(0, Rating::Satisfied),
        on(6, 12 * 60),
    );
    // Saturday: the day starts (a tick), the finished tickets move to the registry.
    apply(&mut hall, &mut log, &Command::Tick, on(7, 9 * 60));
    assert!(hall.ticket_by_token(&token(1)).is_none());
    let kept = hall.registry().ratable_by_token(&token(1)).unwrap();
    assert_eq!(kept.number, TicketNumber::parse("B002").unwrap());
    assert_eq!((kept.date, kept.rate_until), (date(6), date(9)));
    // The waiting ticket expired unfinished: nothing to rate.
    assert!(hall.registry().ratable_by_token(&token(3)).is_none());
    assert_eq!(
        hall.apply(&rate_own(3, Rating::Satisfied), on(7, 9 * 60)),
        Err(Error::UnknownToken)
    );
    // Monday, the next working day, late in the evening: still ratable.
    apply(
        &mut hall,
        &mut log,
        &rate_own(1, Rating::Basic),
        on(9, 23 * 60),
    );
    assert_eq!(
        log.last().unwrap().0,
        Event::TicketRated {
            id: kept_id(&hall, 1),
            window: WindowNumber::new(1).unwrap(),
            rating: Rating::Basic,
            reason: None,
        }
    );
    // 一次一评, across days: ticket 0 (rated Friday) and 1 (rated Monday) never again.
    for (i, number) in [(0, "B001"), (1, "B002")] {
        assert_eq!(
            hall.apply(&rate_own(i, Rating::VerySatisfied), on(9, 23 * 60 + 1)),
            Err(Error::AlreadyRated(TicketNumber::parse(number).unwrap()))
        );
    }
    // Tuesday: the time to rate ended, and the citizen is told so, in Chinese and English.
    let late = hall.apply(&rate_own(2, Rating::VeryDissatisfied), on(10, 8 * 60));
    let Err(error) = late else {
        panic!("rated on Tuesday: {late:?}")
    };
    assert_eq!(
        error,
        Error::RatingEnded {
            ticket: TicketNumber::parse("B003").unwrap(),
            until: date(9),
        }
    );
    assert_eq!(error.code(), "rating_ended");
    let message = error.to_string();
    assert!(message.contains("评价期已过") && message.contains("ended with 2026-03-09"));
    // The log folds back to the same hall, the late rating included.
    let mut folded = Hall::new();
    for (event, at) in &log {
        folded.evolve(event, *at);
    }
    assert_eq!(folded, hall);
    assert_eq!(
        hall.registry().ratable_by_token(&token(1)).unwrap().rating,
        Some(TicketRating {
            rating: Rating::Basic,
            reason: None
        })
    );
}

fn kept_id(hall: &Hall, i: u32) -> jiaohao_core::TicketId {
    hall.registry().ratable_by_token(&token(i)).unwrap().id
}

#[test]
fn the_kept_tickets_survive_a_day_start_snapshot_and_are_dropped_a_while_after_their_time() {
    let (mut hall, _) = friday();
    apply(&mut hall, &mut Vec::new(), &Command::Tick, on(9, 9 * 60));
    // The snapshot the hub takes before Tuesday's first command restores Tuesday's hall.
    let snapshot = hall.day_start_snapshot(date(10), on(10, 0).at);
    assert_eq!(snapshot.registry.ratable.len(), 3);
    let mut rolled = hall.clone();
    rolled.evolve(&Event::DayStarted { date: date(10) }, on(10, 0).at);
    assert_eq!(Hall::from_snapshot(&snapshot), rolled);
    // Kept (to say the time ended) for a few days past it, then forgotten.
    let last_kept = 9 + ENDED_RATINGS_KEPT_DAYS;
    apply(
        &mut hall,
        &mut Vec::new(),
        &Command::Tick,
        on(last_kept, 60),
    );
    assert_eq!(hall.registry().ratable.len(), 3);
    apply(
        &mut hall,
        &mut Vec::new(),
        &Command::Tick,
        on(last_kept + 1, 60),
    );
    assert!(hall.registry().ratable.is_empty());
    assert_eq!(
        hall.apply(&rate_own(2, Rating::Satisfied), on(last_kept + 1, 61)),
        Err(Error::UnknownToken)
    );
}

#[test]
fn a_late_rating_belongs_to_the_day_of_its_ticket_in_the_history() {
    let (mut hall, mut log) = friday();
    apply(
        &mut hall,
        &mut log,
        &rate_own(2, Rating::Dissatisfied),
        on(9, 10 * 60),
    );
    let mut history = History::new();
    let mut rated = Vec::new();
    for (event, at) in &log {
        history.fold(event, *at, "citizen", |fact| {
            if let jiaohao_core::Fact::Rated { ticket, rating, .. } = fact {
                rated.push((ticket.number, ticket.issued_at, rating));
            }
        });
    }
    assert_eq!(
        rated,
        vec![(
            TicketNumber::parse("B003").unwrap(),
            on(6, 9 * 60).at,
            Rating::Dissatisfied
        )]
    );
}

proptest! {
    /// With any working weekdays, the last day to rate a ticket from the phone is the first
    /// working day after its day: every day between is closed (the next day when none works).
    #[test]
    fn the_phone_rates_until_the_next_working_day(
        weekdays in prop::array::uniform7(any::<bool>()),
        day in 2u8..=20,
    ) {
        let calendar = HallCalendar {
            working_weekdays: weekdays,
            ..HallCalendar::default()
        };
        let finished = date(day);
        let until = phone_rating_until(Some(&calendar), finished);
        prop_assert!(until > finished);
        if weekdays.iter().any(|&open| open) {
            prop_assert!(calendar.is_open(until));
            let mut between = finished.next_day().unwrap();
            while between < until {
                prop_assert!(!calendar.is_open(between));
                between = between.next_day().unwrap();
            }
        } else {
            prop_assert_eq!(Some(until), finished.next_day());
        }
    }
}
