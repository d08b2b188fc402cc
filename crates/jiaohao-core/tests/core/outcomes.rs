//! How a visit ended (办理结果): a finish carries an outcome; missing documents come from the
//! service's list, a refusal has a reason, a referral an office; a call of the next ticket
//! finishes the one before as done; the history tells each finish with its outcome.

use jiaohao_core::history::Departure;
use jiaohao_core::{
    ClockTime, Command, Error, Event, Hall, History, LocalDate, Millis, Now, Outcome, Prefix,
    Service, ServiceCode, WindowDef, WindowNumber,
};
use proptest::prelude::*;

/// 2026-03-02 08:00 in Asia/Shanghai.
const EIGHT_MS: i64 = 1_772_409_600_000;

const DOCUMENTS: [&str; 3] = ["居民身份证", "户口簿", "近期照片"];

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

/// The hukou service (A) with three documents to bring, window 1 open, A001 being served
/// there; returns the hall and its log.
fn serving() -> (Hall, Vec<(Event, Millis)>) {
    let code = ServiceCode::parse("hukou").unwrap();
    let service = Service::new(code.clone(), Prefix::parse("A").unwrap(), "户籍", "Hukou")
        .with_documents(
            DOCUMENTS.iter().map(|d| (*d).to_owned()).collect(),
            vec![
                "ID card".into(),
                "Household register".into(),
                "Photo".into(),
            ],
        );
    let mut hall = Hall::new();
    let mut log = Vec::new();
    let commands = [
        Command::AddService(service),
        Command::AddWindow(WindowDef {
            number: win(1),
            name_zh: "1号窗口".into(),
            name_en: "Window 1".into(),
            services: vec![code.clone()],
            breaks: Vec::new(),
        }),
        Command::Open { window: win(1) },
        Command::IssueTicket {
            service: code.clone(),
            green_channel: false,
            token: "t".repeat(32),
            idempotency_key: None,
        },
        Command::IssueTicket {
            service: code,
            green_channel: false,
            token: "u".repeat(32),
            idempotency_key: None,
        },
        Command::CallNext { window: win(1) },
    ];
    for command in commands {
        for event in hall.apply(&command, at(1)).unwrap() {
            log.push((event, at(1).at));
        }
    }
    (hall, log)
}

fn finish(outcome: Outcome) -> Command {
    Command::Finish {
        window: win(1),
        outcome,
    }
}

#[test]
fn each_outcome_is_recorded_and_told_by_the_history() {
    for outcome in [
        Outcome::Done,
        Outcome::DocumentsMissing(vec!["户口簿".into(), "近期照片".into()]),
        Outcome::Refused("不属于本辖区业务".into()),
        Outcome::Referred("区出入境管理大队".into()),
    ] {
        let (mut hall, mut log) = serving();
        let events = hall.apply(&finish(outcome.clone()), at(9)).unwrap();
        let [Event::TicketFinished { outcome: told, .. }] = events.as_slice() else {
            panic!("{events:?}");
        };
        assert_eq!(told, &outcome);
        log.extend(events.into_iter().map(|e| (e, at(9).at)));
        let mut history = History::new();
        for (event, at) in &log {
            history.fold(event, *at, "clerk:zhang@1", |_| {});
        }
        let departed = history.tickets()[0].first_departure.clone().unwrap();
        assert_eq!(departed.how, Departure::Finished(outcome));
    }
}

#[test]
fn calling_the_next_ticket_finishes_the_one_before_as_done() {
    let (mut hall, _) = serving();
    let events = hall
        .apply(&Command::CallNext { window: win(1) }, at(9))
        .unwrap();
    assert!(matches!(
        &events[0],
        Event::TicketFinished {
            outcome: Outcome::Done,
            ..
        }
    ));
}

#[test]
fn wrong_outcomes_are_refused_and_change_nothing() {
    for (outcome, words) in [
        (Outcome::DocumentsMissing(vec![]), "at least one"),
        (
            Outcome::DocumentsMissing(vec!["结婚证".into()]),
            "not one of the documents",
        ),
        (
            Outcome::DocumentsMissing(vec!["户口簿".into(), "户口簿".into()]),
            "twice",
        ),
        (Outcome::Refused("  ".into()), "1 to 200"),
        (Outcome::Referred("办".repeat(201)), "1 to 200"),
    ] {
        let (mut hall, _) = serving();
        match hall.apply(&finish(outcome.clone()), at(9)) {
            Err(Error::Invalid(message)) => assert!(message.contains(words), "{message}"),
            other => panic!("{outcome:?}: {other:?}"),
        }
        assert!(hall.window(win(1)).unwrap().serving().is_some());
    }
}

#[test]
fn an_outcome_parses_from_its_parts() {
    let docs = |d: &[&str]| d.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        Outcome::parse("done", vec![], None, None),
        Ok(Outcome::Done)
    );
    assert_eq!(
        Outcome::parse("documents_missing", docs(&[" 户口簿 "]), None, None),
        Ok(Outcome::DocumentsMissing(docs(&["户口簿"])))
    );
    assert_eq!(
        Outcome::parse("refused", vec![], Some(" 材料不全 "), None),
        Ok(Outcome::Refused("材料不全".into()))
    );
    assert_eq!(
        Outcome::parse("referred", vec![], None, Some("交警大队")),
        Ok(Outcome::Referred("交警大队".into()))
    );
    for (kind, documents, reason, office) in [
        ("finished", vec![], None, None),
        ("done", docs(&["户口簿"]), None, None),
        ("done", vec![], Some("x"), None),
        ("documents_missing", vec![], None, None),
        ("documents_missing", docs(&["户口簿"]), Some("x"), None),
        ("refused", vec![], None, None),
        ("refused", vec![], Some("x"), Some("y")),
        ("referred", vec![], None, None),
        ("referred", docs(&["户口簿"]), None, Some("y")),
    ] {
        assert!(
            Outcome::parse(kind, documents.clone(), reason, office).is_err(),
            "{kind} {documents:?} {reason:?} {office:?}"
        );
    }
}

fn any_outcome() -> impl Strategy<Value = Outcome> {
    let document = prop::sample::select(vec!["居民身份证", "户口簿", "近期照片", "结婚证", ""])
        .prop_map(str::to_owned);
    prop_oneof![
        Just(Outcome::Done),
        prop::collection::vec(document, 0..4).prop_map(Outcome::DocumentsMissing),
        "[ 不予受理a-z]{0,8}".prop_map(Outcome::Refused),
        "[ 交警大队a-z]{0,8}".prop_map(Outcome::Referred),
    ]
}

proptest! {
    /// Whatever outcome a clerk sends, the finish either records exactly that outcome and
    /// ends the ticket, or is refused and leaves the ticket being served; an accepted list of
    /// missing documents is never empty, holds only the service's documents, none twice.
    #[test]
    fn a_finish_records_its_outcome_or_changes_nothing(outcome in any_outcome()) {
        let (mut hall, _) = serving();
        match hall.apply(&finish(outcome.clone()), at(9)) {
            Ok(events) => {
                prop_assert_eq!(events.len(), 1);
                let Event::TicketFinished { outcome: told, .. } = &events[0] else {
                    return Err(TestCaseError::fail(format!("{events:?}")));
                };
                prop_assert_eq!(told, &outcome);
                prop_assert!(hall.window(win(1)).unwrap().serving().is_none());
                if let Outcome::DocumentsMissing(documents) = &outcome {
                    prop_assert!(!documents.is_empty());
                    for (i, d) in documents.iter().enumerate() {
                        prop_assert!(DOCUMENTS.contains(&d.as_str()));
                        prop_assert!(!documents[..i].contains(d));
                    }
                }
                if let Outcome::Refused(text) | Outcome::Referred(text) = &outcome {
                    prop_assert!(!text.trim().is_empty());
                }
            }
            Err(_) => prop_assert!(hall.window(win(1)).unwrap().serving().is_some()),
        }
    }
}
