//! 差评 cases: a bad rating opens one, due N working days later by the hall calendar; a
//! supervisor calls back, fixes and closes it, forward only; cases outlive the day.

use jiaohao_core::case::{CaseFigures, due_date};
use jiaohao_core::{
    CaseState, ClockTime, Command, Error, Event, Hall, HallCalendar, HallSettings, History,
    LocalDate, Millis, Now, Prefix, Rating, RatingReason, Service, ServiceCode, TicketId,
    TicketNumber, WindowDef, WindowNumber,
};
use proptest::prelude::*;

/// 2026-03-02 (a Monday) 08:00 in Asia/Shanghai.
const EIGHT_MS: i64 = 1_772_409_600_000;
const DAY_MS: i64 = 24 * 60 * Millis::MINUTE;

fn date(text: &str) -> LocalDate {
    LocalDate::parse(text).unwrap()
}

/// `minutes` after 08:00, `days` after 2026-03-02.
fn at(days: u8, minutes: u16) -> Now {
    let mut day = date("2026-03-02");
    for _ in 0..days {
        day = day.next_day().unwrap();
    }
    Now {
        at: Millis(EIGHT_MS + i64::from(days) * DAY_MS + i64::from(minutes) * Millis::MINUTE),
        date: day,
        time: ClockTime::from_minutes(8 * 60 + minutes).unwrap(),
    }
}

fn win(n: u32) -> WindowNumber {
    WindowNumber::new(n).unwrap()
}

/// A hall (Monday to Friday, 2026-03-04 a holiday) with window 1 serving id_card; B001
/// finished at 08:10 on Monday 2026-03-02. The log so far beside it.
fn hall() -> (Hall, Vec<(Event, Millis)>) {
    let mut hall = Hall::new();
    let mut log = Vec::new();
    let mut calendar = HallCalendar::default();
    calendar.holidays.insert(date("2026-03-04"));
    let commands = vec![
        (Command::SetCalendar(calendar), 0),
        (
            Command::AddService(
                Service::new(
                    ServiceCode::parse("id_card").unwrap(),
                    Prefix::parse("B").unwrap(),
                    "身份证",
                    "ID card",
                )
                .with_targets(20, 10),
            ),
            0,
        ),
        (
            Command::AddWindow(WindowDef {
                number: win(1),
                name_zh: "1号窗口".into(),
                name_en: "Window 1".into(),
                services: vec![ServiceCode::parse("id_card").unwrap()],
                breaks: Vec::new(),
            }),
            0,
        ),
        (Command::Open { window: win(1) }, 0),
        (
            Command::IssueTicket {
                service: ServiceCode::parse("id_card").unwrap(),
                green_channel: false,
                token: "token-0000000000000001".into(),
                idempotency_key: None,
            },
            1,
        ),
        (Command::CallNext { window: win(1) }, 2),
        (Command::finish(win(1)), 10),
    ];
    for (command, minutes) in commands {
        let now = at(0, minutes);
        for event in hall.apply(&command, now).unwrap() {
            log.push((event, now.at));
        }
    }
    (hall, log)
}

fn rate_badly() -> Command {
    Command::RateTicket {
        window: win(1),
        number: TicketNumber::parse("B001").unwrap(),
        rating: Rating::Dissatisfied,
        reason: Some(RatingReason::Waiting),
    }
}

fn callback(case: TicketId) -> Command {
    Command::CallBackCase {
        case,
        note: "已电话回访，群众表示理解".into(),
        by: "wang".into(),
    }
}

fn fix(case: TicketId) -> Command {
    Command::FixCase {
        case,
        fix: "高峰时段增开窗口".into(),
        by: "wang".into(),
    }
}

fn close(case: TicketId) -> Command {
    Command::CloseCase {
        case,
        by: "li".into(),
    }
}

#[test]
fn a_bad_rating_opens_a_case_due_five_working_days_later() {
    let (mut hall, _) = hall();
    let events = hall.apply(&rate_badly(), at(0, 11)).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].kind(), "ticket_rated");
    let Event::CaseOpened {
        case,
        number,
        date: day,
        due,
        rating,
        reason,
        window,
        ..
    } = &events[1]
    else {
        panic!("{:?}", events[1]);
    };
    assert_eq!(number.to_string(), "B001");
    assert_eq!((*window, *rating), (win(1), Rating::Dissatisfied));
    assert_eq!(*reason, Some(RatingReason::Waiting));
    assert_eq!(*day, date("2026-03-02"));
    // Tue 3, (Wed 4 a holiday), Thu 5, Fri 6, (weekend), Mon 9, Tue 10.
    assert_eq!(*due, date("2026-03-10"));
    let opened = hall.registry().case(*case).unwrap();
    assert_eq!(opened.state(), CaseState::Open);
    assert_eq!(opened.opened_at, at(0, 11).at);
}

#[test]
fn a_good_rating_opens_no_case() {
    let (mut hall, _) = hall();
    let good = Command::RateTicket {
        window: win(1),
        number: TicketNumber::parse("B001").unwrap(),
        rating: Rating::Basic,
        reason: None,
    };
    assert_eq!(hall.apply(&good, at(0, 11)).unwrap().len(), 1);
    assert!(hall.registry().cases.is_empty());
}

#[test]
fn the_phone_rating_opens_a_case_too() {
    let (mut hall, _) = hall();
    let events = hall
        .apply(
            &Command::RateOwnTicket {
                token: "token-0000000000000001".into(),
                rating: Rating::VeryDissatisfied,
                reason: Some(RatingReason::Attitude),
            },
            at(0, 30),
        )
        .unwrap();
    assert_eq!(events[1].kind(), "case_opened");
}

#[test]
fn the_hall_setting_sets_the_working_days_and_is_checked() {
    let (mut hall, _) = hall();
    let settings = HallSettings {
        case_due_working_days: 1,
        ..HallSettings::default()
    };
    hall.apply(&Command::ConfigureHall(settings), at(0, 10))
        .unwrap();
    let events = hall.apply(&rate_badly(), at(0, 11)).unwrap();
    assert!(matches!(events[1], Event::CaseOpened { due, .. } if due == date("2026-03-03")));
    for days in [0, 61] {
        let bad = HallSettings {
            case_due_working_days: days,
            ..HallSettings::default()
        };
        assert!(matches!(
            hall.apply(&Command::ConfigureHall(bad), at(0, 12)),
            Err(Error::Invalid(_))
        ));
    }
}

#[test]
fn a_case_goes_forward_step_by_step_and_outlives_the_day() {
    let (mut hall, mut log) = hall();
    let now = at(0, 11);
    for event in hall.apply(&rate_badly(), now).unwrap() {
        log.push((event, now.at));
    }
    let case = TicketId(hall.registry().cases.keys().next().unwrap().0);
    // Nothing may be skipped or repeated.
    for refused in [fix(case), close(case)] {
        let error = hall.apply(&refused, at(0, 12)).unwrap_err();
        assert_eq!(error.code(), "case_step_refused");
        assert!(error.to_string().contains("待回访"), "{error}");
    }
    // The next morning: the day starts, the case stays.
    for (command, when) in [(callback(case), at(1, 0)), (fix(case), at(3, 0))] {
        for event in hall.apply(&command, when).unwrap() {
            log.push((event, when.at));
        }
    }
    assert_eq!(
        hall.apply(&callback(case), at(3, 1)).unwrap_err().code(),
        "case_step_refused"
    );
    let when = at(7, 0);
    for event in hall.apply(&close(case), when).unwrap() {
        log.push((event, when.at));
    }
    let closed = hall.registry().case(case).unwrap();
    assert_eq!(closed.state(), CaseState::Closed);
    let called = closed.called_back.as_ref().unwrap();
    assert_eq!(
        (called.by.as_str(), called.date),
        ("wang", date("2026-03-03"))
    );
    assert_eq!(closed.closed.as_ref().unwrap().by, "li");
    assert!(closed.fixed_in_time());
    assert!(!closed.is_overdue(date("2026-12-31")));
    assert_eq!(
        hall.apply(&close(case), at(7, 1)).unwrap_err().code(),
        "case_step_refused"
    );
    assert_eq!(
        hall.apply(&close(TicketId(77)), at(7, 1)).unwrap_err(),
        Error::UnknownCase(TicketId(77))
    );
    // Empty notes and who took it are refused.
    let (mut other, _) = self::hall();
    other.apply(&rate_badly(), at(0, 11)).unwrap();
    let empty = Command::CallBackCase {
        case,
        note: "  ".into(),
        by: "wang".into(),
    };
    assert!(matches!(
        other.apply(&empty, at(0, 12)),
        Err(Error::Invalid(_))
    ));
    // The log folds into the same cases, in the hall and in the history.
    let mut replayed = Hall::new();
    let mut history = History::new();
    for (event, at) in &log {
        replayed.evolve(event, *at);
        history.fold(event, *at, "test", |_| {});
    }
    assert_eq!(replayed.registry().cases, hall.registry().cases);
    assert_eq!(history.case(case), hall.registry().case(case));
}

#[test]
fn a_case_fixed_after_its_due_date_counts_as_late_and_was_overdue() {
    let (mut hall, _) = hall();
    hall.apply(&rate_badly(), at(0, 11)).unwrap();
    let case = *hall.registry().cases.keys().next().unwrap();
    hall.apply(&callback(case), at(1, 0)).unwrap();
    let open = hall.registry().case(case).unwrap().clone();
    assert!(!open.is_overdue(date("2026-03-10")));
    assert!(open.is_overdue(date("2026-03-11")));
    hall.apply(&fix(case), at(10, 0)).unwrap();
    let fixed = hall.registry().case(case).unwrap();
    assert!(!fixed.fixed_in_time());
    assert!(!fixed.is_overdue(date("2026-03-20")));
    let mut figures = CaseFigures::default();
    figures.add(&open, date("2026-03-11"));
    figures.add(fixed, date("2026-03-11"));
    assert_eq!(
        (figures.cases, figures.called_back, figures.overdue),
        (2, 2, 1)
    );
    assert_eq!(figures.callback_pct(), Some(100.0));
    assert_eq!(figures.fixed_in_time_pct(), Some(0.0));
}

fn calendar() -> impl Strategy<Value = HallCalendar> {
    (
        prop::array::uniform7(prop::bool::weighted(0.7)),
        prop::collection::btree_set(0..120u16, 0..20),
        prop::collection::btree_set(0..120u16, 0..6),
    )
        .prop_map(|(weekdays, holidays, working)| {
            let day = |n: u16| {
                let mut d = date("2026-01-01");
                for _ in 0..n {
                    d = d.next_day().unwrap();
                }
                d
            };
            let holidays: std::collections::BTreeSet<LocalDate> =
                holidays.into_iter().map(day).collect();
            HallCalendar {
                working_weekdays: weekdays,
                working_days: working
                    .into_iter()
                    .map(day)
                    .filter(|d| !holidays.contains(d))
                    .collect(),
                holidays,
            }
        })
}

proptest! {
    #[test]
    fn due_dates_are_the_nth_open_day_and_never_a_closed_one(
        calendar in calendar(),
        start in 0..100u16,
        days in 1..=15u8,
    ) {
        let mut from = date("2026-01-01");
        for _ in 0..start {
            from = from.next_day().unwrap();
        }
        let due = due_date(Some(&calendar), from, days);
        prop_assert!(due > from);
        if calendar.working_weekdays.iter().any(|w| *w) || !calendar.working_days.is_empty() {
            let any_open_ahead = calendar.next_open_date(from.next_day().unwrap()).is_some();
            if any_open_ahead && calendar.working_weekdays.iter().any(|w| *w) {
                prop_assert!(calendar.is_open(due), "{due} is closed");
                // Exactly `days` open days in (from, due].
                let mut open = 0;
                let mut day = from.next_day().unwrap();
                while day <= due {
                    open += u8::from(calendar.is_open(day));
                    day = day.next_day().unwrap();
                }
                prop_assert_eq!(open, days);
            }
        }
        // Without a calendar every day is open.
        let mut plain = from;
        for _ in 0..days {
            plain = plain.next_day().unwrap();
        }
        prop_assert_eq!(due_date(None, from, days), plain);
    }
}
