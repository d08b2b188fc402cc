//! The citizen's rating (好差评): one per ticket, only for the ticket just finished at the
//! window, only for a while, and a bad rating needs a reason. Ratings are events, so they are
//! folded back after a restart like everything else.

use jiaohao_core::rating::RATING_WINDOW_MS;
use jiaohao_core::{
    ClockTime, Command, Error, Event, Hall, LocalDate, Millis, Now, Prefix, Rating, RatingReason,
    Service, ServiceCode, TicketNumber, TicketRating, WindowDef, WindowNumber,
};

/// 2026-03-02 08:00 in Asia/Shanghai.
const EIGHT_MS: i64 = 1_772_409_600_000;

fn at(minutes: u16) -> Now {
    Now {
        at: Millis(EIGHT_MS + i64::from(minutes) * Millis::MINUTE),
        date: LocalDate::new(2026, 3, 2).unwrap(),
        time: ClockTime::from_minutes(8 * 60 + minutes).unwrap(),
    }
}

fn win(n: u32) -> WindowNumber {
    WindowNumber::new(n).unwrap()
}

fn num(text: &str) -> TicketNumber {
    TicketNumber::parse(text).unwrap()
}

/// One service (id_card, B) and windows 1 and 2 serving it, both open, with B001 and B002
/// issued, B001 finished at window 1 at 08:10 and B002 being served at window 2.
fn hall() -> (Hall, Vec<(Event, Millis)>) {
    let mut hall = Hall::new();
    let mut log = Vec::new();
    let service = Service::new(
        ServiceCode::parse("id_card").unwrap(),
        Prefix::parse("B").unwrap(),
        "身份证",
        "ID card",
    )
    .with_targets(20, 10)
    .with_handling_estimate(6);
    let mut commands = vec![(Command::AddService(service), 0)];
    for n in 1..=2 {
        commands.push((
            Command::AddWindow(WindowDef {
                number: win(n),
                name_zh: format!("{n}号窗口"),
                name_en: format!("Window {n}"),
                services: vec![ServiceCode::parse("id_card").unwrap()],
                breaks: Vec::new(),
            }),
            0,
        ));
        commands.push((Command::Open { window: win(n) }, 0));
    }
    for i in 0..2 {
        commands.push((
            Command::IssueTicket {
                service: ServiceCode::parse("id_card").unwrap(),
                green_channel: false,
                token: format!("token-{i:016}"),
                idempotency_key: None,
            },
            1,
        ));
    }
    commands.push((Command::CallNext { window: win(1) }, 2));
    commands.push((Command::CallNext { window: win(2) }, 3));
    commands.push((Command::finish(win(1)), 10));
    for (command, minutes) in commands {
        let now = at(minutes);
        for event in hall.apply(&command, now).unwrap() {
            log.push((event, now.at));
        }
    }
    (hall, log)
}

fn rate(window: u32, number: &str, rating: Rating, reason: Option<RatingReason>) -> Command {
    Command::RateTicket {
        window: win(window),
        number: num(number),
        rating,
        reason,
    }
}

#[test]
fn the_ticket_just_finished_is_rated_once() {
    let (mut hall, _) = hall();
    assert_eq!(hall.last_finished(win(1)).unwrap().number, num("B001"));
    let events = hall
        .apply(&rate(1, "B001", Rating::VerySatisfied, None), at(11))
        .unwrap();
    assert_eq!(events.len(), 1);
    assert!(matches!(
        events[0],
        Event::TicketRated {
            rating: Rating::VerySatisfied,
            reason: None,
            ..
        }
    ));
    assert_eq!(events[0].kind(), "ticket_rated");
    assert!(!events[0].is_configuration());
    assert_eq!(
        hall.ticket_by_number(num("B001")).unwrap().rating,
        Some(TicketRating {
            rating: Rating::VerySatisfied,
            reason: None
        })
    );
    let again = hall.apply(&rate(1, "B001", Rating::Satisfied, None), at(12));
    assert_eq!(again, Err(Error::AlreadyRated(num("B001"))));
    assert_eq!(hall.check_invariants(), Ok(()));
}

#[test]
fn a_bad_rating_needs_a_reason_and_a_good_one_takes_none() {
    let (mut hall, _) = hall();
    let before = hall.clone();
    for command in [
        rate(1, "B001", Rating::Dissatisfied, None),
        rate(1, "B001", Rating::VeryDissatisfied, None),
        rate(1, "B001", Rating::Basic, Some(RatingReason::Other)),
    ] {
        let error = hall.apply(&command, at(11)).unwrap_err();
        assert_eq!(error.code(), "invalid", "{command:?}");
        assert_eq!(hall, before, "a refused rating changes nothing");
    }
    hall.apply(
        &rate(1, "B001", Rating::Dissatisfied, Some(RatingReason::Waiting)),
        at(11),
    )
    .unwrap();
    let rating = hall.ticket_by_number(num("B001")).unwrap().rating.unwrap();
    assert_eq!(rating.reason, Some(RatingReason::Waiting));
    assert!(rating.rating.is_bad());
    assert_eq!(rating.rating.score(), 2);
}

#[test]
fn only_the_last_ticket_finished_at_that_window_and_only_for_a_while() {
    let (mut hall, _) = hall();
    // B002 is still being served at window 2; B001 was finished at window 1, not 2.
    for (command, code) in [
        (rate(2, "B002", Rating::Satisfied, None), "not_ratable"),
        (rate(2, "B001", Rating::Satisfied, None), "not_ratable"),
        (rate(1, "B009", Rating::Satisfied, None), "unknown_ticket"),
        (rate(9, "B001", Rating::Satisfied, None), "unknown_window"),
    ] {
        assert_eq!(hall.apply(&command, at(11)).unwrap_err().code(), code);
    }
    let late = 10 + (RATING_WINDOW_MS / Millis::MINUTE) as u16 + 1;
    assert_eq!(
        hall.apply(&rate(1, "B001", Rating::Satisfied, None), at(late))
            .unwrap_err()
            .code(),
        "not_ratable"
    );
    // Once window 2 finishes B002 it is B002 there that may be rated.
    hall.apply(&Command::finish(win(2)), at(12)).unwrap();
    hall.apply(&rate(2, "B002", Rating::Basic, None), at(13))
        .unwrap();
}

#[test]
fn ratings_fold_back_from_the_log() {
    let (mut hall, mut log) = hall();
    let now = at(11);
    for event in hall
        .apply(
            &rate(
                1,
                "B001",
                Rating::VeryDissatisfied,
                Some(RatingReason::Attitude),
            ),
            now,
        )
        .unwrap()
    {
        log.push((event, now.at));
    }
    let mut folded = Hall::new();
    for (event, at) in &log {
        folded.evolve(event, *at);
    }
    assert_eq!(folded, hall);
    assert_eq!(Rating::parse("basic"), Some(Rating::Basic));
    assert_eq!(
        RatingReason::parse("requirements_unclear"),
        Some(RatingReason::RequirementsUnclear)
    );
    assert_eq!(Rating::parse("great"), None);
}

fn rate_own(token: &str, rating: Rating, reason: Option<RatingReason>) -> Command {
    Command::RateOwnTicket {
        token: token.to_owned(),
        rating,
        reason,
    }
}

#[test]
fn a_citizen_rates_a_finished_ticket_from_its_page_once_however_given() {
    let (mut hall, _) = hall();
    // B002 is being served at window 2: not yet.
    assert_eq!(
        hall.apply(
            &rate_own(&format!("token-{:016}", 1), Rating::Satisfied, None),
            at(11)
        ),
        Err(Error::NotFinished(num("B002")))
    );
    assert_eq!(
        hall.apply(
            &rate_own("token-unknown-000000", Rating::Satisfied, None),
            at(11)
        ),
        Err(Error::UnknownToken)
    );
    let b001 = format!("token-{:016}", 0);
    assert!(matches!(
        hall.apply(&rate_own(&b001, Rating::Dissatisfied, None), at(11)),
        Err(Error::Invalid(_))
    ));
    // Long after the tablet's minutes are over, the page may still rate it, as window 1's.
    let events = hall
        .apply(
            &rate_own(&b001, Rating::Dissatisfied, Some(RatingReason::Waiting)),
            at(200),
        )
        .unwrap();
    // A 差评: the rating, then the case it opens.
    assert!(matches!(
        events[..],
        [
            Event::TicketRated {
                rating: Rating::Dissatisfied,
                ..
            },
            Event::CaseOpened { .. }
        ]
    ));
    assert_eq!(
        events[0],
        Event::TicketRated {
            id: hall.ticket_by_number(num("B001")).unwrap().id,
            window: win(1),
            rating: Rating::Dissatisfied,
            reason: Some(RatingReason::Waiting),
        }
    );
    // 一次一评: never twice, from the page or the tablet.
    assert_eq!(
        hall.apply(&rate_own(&b001, Rating::Satisfied, None), at(201)),
        Err(Error::AlreadyRated(num("B001")))
    );
    assert_eq!(
        hall.apply(&rate(1, "B001", Rating::Satisfied, None), at(201)),
        Err(Error::AlreadyRated(num("B001")))
    );
}
