//! The read side's history fold, fed with the events a real hall emits: ticket times, the
//! service definition in force at issue, window spans, out-of-order calls, transfers, ratings,
//! the day's end, and a log read from its middle.

use jiaohao_core::history::{Activity, Departure, WindowSpan};
use jiaohao_core::{
    ClockTime, Command, Event, Fact, Hall, History, LocalDate, Millis, Now, Outcome, Prefix,
    Rating, Service, ServiceCode, TicketNumber, TransferTarget, WindowDef, WindowNumber,
};

/// 2026-03-02 08:00 in Asia/Shanghai, in milliseconds since the epoch.
const DAY_ZERO_AT_EIGHT_MS: i64 = 1_772_409_600_000;
const MINUTE: i64 = Millis::MINUTE;

fn on_day(day: u8, minutes: u16) -> Now {
    Now {
        at: Millis(DAY_ZERO_AT_EIGHT_MS + (i64::from(day) * 24 * 60 + i64::from(minutes)) * MINUTE),
        date: LocalDate::new(2026, 3, 2 + day).unwrap(),
        time: ClockTime::from_minutes(8 * 60 + minutes).unwrap(),
    }
}

fn ms(minutes: u16) -> Millis {
    on_day(0, minutes).at
}

fn code(text: &str) -> ServiceCode {
    ServiceCode::parse(text).unwrap()
}

fn win(number: u32) -> WindowNumber {
    WindowNumber::new(number).unwrap()
}

fn service(text: &str, prefix: &str, wait_target_min: u32) -> Service {
    Service::new(code(text), Prefix::parse(prefix).unwrap(), text, text)
        .with_targets(wait_target_min, 30)
}

/// A hall and the log it wrote, with each event's time and actor, as the hub stores them.
struct Log {
    hall: Hall,
    records: Vec<(Event, Millis, String)>,
    tokens: u32,
}

impl Log {
    /// Services hukou/A (wait target 20) and id_card/B, windows 1 and 2 serving both.
    fn new() -> Log {
        let mut log = Log {
            hall: Hall::new(),
            records: Vec::new(),
            tokens: 0,
        };
        log.run("admin", Command::AddService(service("hukou", "A", 20)), 0);
        log.run("admin", Command::AddService(service("id_card", "B", 20)), 0);
        for number in [1, 2] {
            let def = WindowDef {
                number: win(number),
                name_zh: format!("{number}号窗口"),
                name_en: format!("Window {number}"),
                services: vec![code("hukou"), code("id_card")],
                breaks: Vec::new(),
            };
            log.run("admin", Command::AddWindow(def), 0);
        }
        log
    }

    fn run(&mut self, actor: &str, command: Command, minutes: u16) {
        self.run_on(0, actor, command, minutes)
    }

    fn run_on(&mut self, day: u8, actor: &str, command: Command, minutes: u16) {
        let now = on_day(day, minutes);
        let events = self.hall.apply(&command, now).unwrap();
        for event in events {
            self.records.push((event, now.at, actor.to_owned()));
        }
    }

    fn issue(&mut self, service: &str, minutes: u16) {
        self.tokens += 1;
        let command = Command::IssueTicket {
            service: code(service),
            green_channel: false,
            token: format!("token-{:016}", self.tokens),
            idempotency_key: None,
        };
        self.run("kiosk", command, minutes);
    }

    /// Folds the whole log, keeping every fact as text and every window span.
    fn fold(&self) -> (History, Vec<String>, Vec<WindowSpan>) {
        let mut history = History::new();
        let (mut facts, mut spans) = (Vec::new(), Vec::new());
        for (event, at, actor) in &self.records {
            history.fold(event, *at, actor, |fact| {
                if let Fact::WindowSpan(span) = &fact {
                    spans.push((*span).clone());
                }
                facts.push(describe(&fact));
            });
        }
        (history, facts, spans)
    }
}

/// A fact in a line, for asserting the order and content of what the history tells.
fn describe(fact: &Fact<'_>) -> String {
    match fact {
        Fact::ServiceDefined(service) => format!("defined {}", service.code),
        Fact::Issued(ticket) => format!("issued {}", ticket.number),
        Fact::Called {
            ticket,
            window,
            actor,
            first,
            out_of_order,
        } => format!(
            "called {} at {window} by {actor}{}{}",
            ticket.number,
            if *first { " first" } else { "" },
            out_of_order
                .map(|r| format!(" out of order: {r}"))
                .unwrap_or_default()
        ),
        Fact::Departed {
            ticket,
            window,
            how,
            handled_ms,
            ..
        } => format!(
            "{} left {window} ({how:?}) from {} after {:?} min",
            ticket.number,
            ticket.service,
            handled_ms.map(|ms| ms / MINUTE)
        ),
        Fact::Rated { ticket, rating, .. } => {
            format!("rated {} {}", ticket.number, rating.as_str())
        }
        Fact::WindowEntered {
            window, activity, ..
        } => format!("window {window} {activity:?}"),
        Fact::WindowSpan(span) => format!("window {} was {:?}", span.window, span.activity),
        Fact::Case(case) => format!("case {} is {:?}", case.ticket.0, case.state()),
    }
}

fn num(text: &str) -> TicketNumber {
    TicketNumber::parse(text).unwrap()
}

#[test]
fn a_ticket_keeps_its_times_and_the_definition_it_was_issued_under() {
    let mut log = Log::new();
    log.run("clerk:zhang@1", Command::Open { window: win(1) }, 0);
    log.issue("hukou", 1);
    // The wait target changes after A001 was issued and before A002.
    log.run(
        "admin",
        Command::UpdateService(service("hukou", "A", 45)),
        2,
    );
    log.issue("hukou", 3);
    log.run("clerk:zhang@1", Command::CallNext { window: win(1) }, 31);
    log.run("clerk:zhang@1", Command::finish(win(1)), 38);
    log.run("clerk:zhang@1", Command::CallNext { window: win(1) }, 40);
    let (history, facts, _) = log.fold();

    let [first, second] = history.tickets() else {
        panic!("two tickets: {:?}", history.tickets())
    };
    assert_eq!(first.number, num("A001"));
    assert_eq!(first.issued_at, ms(1));
    assert_eq!(first.wait_target_min(), Some(20));
    assert_eq!(second.wait_target_min(), Some(45));
    assert_eq!(first.wait_ms(), Some(30 * MINUTE));
    assert_eq!(second.wait_ms(), Some(37 * MINUTE));
    assert_eq!(first.first_call_order, Some(0));
    assert_eq!(second.first_call_order, Some(1));
    assert_eq!(history.first_calls(), 2);
    let call = first.first_call.as_ref().unwrap();
    assert_eq!(
        (call.at, call.window, call.actor.as_str()),
        (ms(31), win(1), "clerk:zhang@1")
    );
    let departed = first.first_departure.as_ref().unwrap();
    assert_eq!(
        (departed.at, &departed.how),
        (ms(38), &Departure::Finished(Outcome::Done))
    );
    assert!(second.first_departure.is_none());
    assert_eq!(history.ticket(second.id).unwrap().number, num("A002"));
    assert!(
        facts.contains(&"A001 left 1 (Finished(Done)) from hukou after Some(7) min".to_owned())
    );
    assert!(facts.contains(&"called A002 at 1 by clerk:zhang@1 first".to_owned()));
    // The latest definition is what the hall's definitions say now.
    let hukou = history.definitions().service(&code("hukou")).unwrap();
    assert_eq!(hukou.wait_target_min, 45);
}

#[test]
fn window_spans_cover_open_serving_paused_and_closed_time() {
    let mut log = Log::new();
    log.run("clerk:zhang@1", Command::Open { window: win(1) }, 0);
    log.issue("hukou", 0);
    log.run("clerk:zhang@1", Command::CallNext { window: win(1) }, 10);
    log.run("clerk:zhang@1", Command::finish(win(1)), 25);
    let pause = Command::Pause {
        window: win(1),
        reason: "休息".into(),
    };
    log.run("clerk:li@1", pause, 30);
    log.run("clerk:li@1", Command::Resume { window: win(1) }, 45);
    log.run(
        "clerk:li@1",
        Command::Close {
            window: win(1),
            reason: None,
        },
        50,
    );
    let (history, _, spans) = log.fold();

    let shape: Vec<(Activity, i64, i64)> = spans
        .iter()
        .map(|s| {
            assert_eq!(s.window, win(1));
            (
                s.activity.clone(),
                s.from.since(ms(0)) / MINUTE,
                s.length_ms() / MINUTE,
            )
        })
        .collect();
    let paused = Activity::Paused {
        reason: "休息".into(),
        actor: "clerk:li@1".into(),
    };
    assert_eq!(
        shape,
        vec![
            // A new window starts closed; it opened at once.
            (Activity::Closed { reason: None }, 0, 0),
            (Activity::Open, 0, 10),
            (Activity::Serving, 10, 15),
            (Activity::Open, 25, 5),
            (paused, 30, 15),
            (Activity::Open, 45, 5),
        ]
    );
    let staffed: i64 = spans
        .iter()
        .filter(|s| s.activity.is_staffed())
        .map(|s| s.length_ms())
        .sum();
    assert_eq!(staffed, 35 * MINUTE);
    assert_eq!(
        history.activity(win(1)),
        Some((&Activity::Closed { reason: None }, ms(50)))
    );
    assert_eq!(
        history.activity(win(2)),
        Some((&Activity::Closed { reason: None }, ms(0))),
        "window 2 never did anything but start closed"
    );
}

#[test]
fn out_of_order_calls_recalls_transfers_and_ratings() {
    let mut log = Log::new();
    log.run("clerk:zhang@1", Command::Open { window: win(1) }, 0);
    log.run("clerk:wang@2", Command::Open { window: win(2) }, 0);
    log.issue("hukou", 1);
    log.issue("hukou", 2);
    let pick = Command::CallTicket {
        window: win(1),
        number: num("A002"),
        reason: "老人".into(),
    };
    log.run("clerk:zhang@1", pick, 5);
    log.run("clerk:zhang@1", Command::Recall { window: win(1) }, 6);
    let transfer = Command::Transfer {
        window: win(1),
        to: TransferTarget::Service(code("id_card")),
    };
    log.run("clerk:zhang@1", transfer, 9);
    log.run("clerk:wang@2", Command::CallNext { window: win(2) }, 10);
    log.run("clerk:wang@2", Command::finish(win(2)), 14);
    let finished = log.hall.last_finished(win(2)).unwrap().number;
    let rate = Command::RateTicket {
        window: win(2),
        number: finished,
        rating: Rating::Satisfied,
        reason: None,
    };
    log.run("citizen@2", rate, 15);
    let (history, facts, _) = log.fold();

    let a002 = &history.tickets()[1];
    assert_eq!(a002.out_of_order_calls, 1);
    assert_eq!(a002.issued_service, code("hukou"));
    assert_eq!(a002.service, code("id_card"), "the transfer moved it");
    assert_eq!(
        a002.first_departure.as_ref().map(|d| &d.how),
        Some(&Departure::Transferred(TransferTarget::Service(code(
            "id_card"
        ))))
    );
    let calls: Vec<&String> = facts.iter().filter(|f| f.starts_with("called")).collect();
    assert_eq!(calls.len(), 2, "the recall is no call: {calls:?}");
    assert_eq!(
        calls[0],
        "called A002 at 1 by clerk:zhang@1 first out of order: 老人"
    );
    // The ticket keeps its number when it moves; its departure from window 1 is told from the
    // service it had there.
    assert!(facts.contains(&"A002 left 1 (Transferred(Service(ServiceCode(\"id_card\")))) from hukou after Some(4) min".to_owned()), "{facts:#?}");
    let called_at_2 = calls[1];
    assert!(
        called_at_2.contains("at 2 by clerk:wang@2"),
        "{called_at_2}"
    );
    assert!(
        facts
            .iter()
            .any(|f| f.starts_with("rated ") && f.ends_with(" satisfied"))
    );
    let rated = history
        .tickets()
        .iter()
        .filter(|t| t.rating == Some(Rating::Satisfied))
        .count();
    assert_eq!(rated, 1);
}

#[test]
fn a_new_day_closes_the_windows_and_definitions_outlive_removal() {
    let mut log = Log::new();
    log.run("clerk:zhang@1", Command::Open { window: win(1) }, 0);
    log.issue("hukou", 1);
    log.run("admin", Command::RemoveWindow(win(2)), 2);
    let assign = Command::AssignServices {
        window: win(1),
        services: vec![code("hukou")],
    };
    log.run("admin", assign, 2);
    log.run("admin", Command::RemoveService(code("id_card")), 2);
    log.run_on(1, "clock", Command::Tick, 0);
    let (history, _, spans) = log.fold();

    let last = spans.iter().rev().find(|s| s.window == win(1)).unwrap();
    assert_eq!(last.activity, Activity::Open);
    assert_eq!(
        last.to,
        on_day(1, 0).at,
        "the open span ends when the next day starts"
    );
    assert_eq!(
        history.activity(win(1)).map(|(a, _)| a),
        Some(&Activity::Closed { reason: None })
    );
    let definitions = history.definitions();
    assert!(!definitions.is_live(&code("id_card")));
    assert_eq!(
        definitions.service(&code("id_card")).unwrap().name_zh,
        "id_card"
    );
    let live: Vec<&ServiceCode> = definitions.live_services().map(|s| &s.code).collect();
    assert_eq!(live, [&code("hukou")]);
    let order: Vec<&ServiceCode> = definitions.services().map(|s| &s.code).collect();
    assert_eq!(order, [&code("hukou"), &code("id_card")]);
    assert!(definitions.live_window(win(2)).is_none());
    assert_eq!(definitions.window(win(2)).unwrap().name_en, "Window 2");
    assert_eq!(
        history.tickets().len(),
        1,
        "the history keeps yesterday's tickets"
    );
}

#[test]
fn a_log_read_from_its_middle_moves_windows_but_tells_nothing_of_unseen_tickets() {
    let mut log = Log::new();
    log.run("clerk:zhang@1", Command::Open { window: win(1) }, 0);
    log.issue("hukou", 1);
    let split = log.records.len();
    log.run("clerk:zhang@1", Command::CallNext { window: win(1) }, 5);
    log.run("clerk:zhang@1", Command::finish(win(1)), 9);
    let mut history = History::new();
    let mut facts = Vec::new();
    for (event, at, actor) in &log.records[split..] {
        history.fold(event, *at, actor, |fact| facts.push(describe(&fact)));
    }
    history.close_windows(ms(20), |fact| facts.push(describe(&fact)));
    assert!(history.tickets().is_empty());
    assert_eq!(
        facts,
        [
            "window 1 Serving",
            "window 1 was Serving",
            "window 1 Open",
            "window 1 was Open",
            "window 1 Closed { reason: None }",
        ]
    );
}

/// A known person's visits for one service: the ticket that opens a matter is their first
/// visit; a ticket while the matter is not done (within 30 days) is a repeat; once done, the
/// next ticket opens a new matter.
#[test]
fn a_known_persons_first_visit_opens_their_matter_until_it_is_done() {
    use jiaohao_core::history::MATTER_DAYS;
    use jiaohao_core::{PersonKey, TicketId};
    let person = PersonKey::parse(&"ab".repeat(16)).unwrap();
    let other = PersonKey::parse(&"cd".repeat(16)).unwrap();
    let mut history = History::new();
    let visit = |history: &mut History, id: u64, day: i64, who: &PersonKey, outcome: Outcome| {
        let at = Millis(DAY_ZERO_AT_EIGHT_MS + day * 24 * 60 * MINUTE);
        let ticket = TicketId(id);
        let events = [
            Event::TicketIssued {
                id: ticket,
                number: TicketNumber::parse(&format!("A00{id}")).unwrap(),
                service: code("hukou"),
                green_channel: false,
                token: format!("token-{id:016}"),
                idempotency_key: None,
            },
            Event::TicketHolder {
                ticket,
                person: who.clone(),
            },
            Event::TicketCalled {
                id: ticket,
                window: win(1),
                recall: false,
                out_of_order: None,
            },
            Event::TicketFinished {
                id: ticket,
                window: win(1),
                outcome,
            },
        ];
        for event in &events {
            history.fold(event, at, "clerk:zhang", |_| {});
        }
        history.ticket(ticket).unwrap().first_visit
    };
    let missing = || Outcome::DocumentsMissing(vec!["居民户口簿原件".into()]);
    assert_eq!(visit(&mut history, 1, 0, &person, missing()), Some(true));
    // Another person's matter is their own.
    assert_eq!(visit(&mut history, 2, 1, &other, Outcome::Done), Some(true));
    assert_eq!(
        visit(&mut history, 3, 3, &person, Outcome::Done),
        Some(false)
    );
    // Done: the next ticket is a new matter.
    assert_eq!(visit(&mut history, 4, 10, &person, missing()), Some(true));
    // Not done, but more than 30 days after the matter began: a new one.
    assert_eq!(
        visit(&mut history, 5, 11 + MATTER_DAYS, &person, Outcome::Done),
        Some(true)
    );
}
