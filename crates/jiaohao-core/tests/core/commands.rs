//! Every hall command and every error it refuses with, driven through `Hall::apply` on a small
//! hall that is itself built by commands: services hukou/A, id_card/B and vehicle/C, and
//! windows 1 (hukou, id_card), 2 (id_card, hukou) and 3 (vehicle).
//!
//! Each refused command is also checked to leave the state exactly as it was.

use jiaohao_core::dispatch::{GREEN_STREAK_LIMIT, NEAR_TIE_MS};
use jiaohao_core::hall::RECENT_CALLS;
use jiaohao_core::{
    ClockTime, Command, DayKind, Error, Event, Hall, HallCalendar, HallSettings, LocalDate, Millis,
    Now, Outcome, Policy, Prefix, Projection, Service, ServiceCode, Ticket, TicketId, TicketNumber,
    TicketStatus, Transfer, TransferTarget, WindowDef, WindowNumber, WindowState,
};

// ----- the fixture -----

/// 2026-03-02 08:00 in Asia/Shanghai (00:00 UTC), in milliseconds since the epoch.
const DAY_ZERO_AT_EIGHT_MS: i64 = 1_772_409_600_000;

const MINUTE: i64 = Millis::MINUTE;

fn date(day: u8) -> LocalDate {
    LocalDate::new(2026, 3, 2 + day).unwrap()
}

/// The moment `minutes` after 08:00 on the fixture's day.
fn at(minutes: u16) -> Now {
    on_day(0, minutes)
}

/// The moment `minutes` after 08:00, `day` days after the fixture's day.
fn on_day(day: u8, minutes: u16) -> Now {
    let since_day_zero = i64::from(day) * 24 * 60 + i64::from(minutes);
    Now {
        at: Millis(DAY_ZERO_AT_EIGHT_MS + since_day_zero * MINUTE),
        date: date(day),
        time: ClockTime::from_minutes(8 * 60 + minutes).unwrap(),
    }
}

fn code(text: &str) -> ServiceCode {
    ServiceCode::parse(text).unwrap()
}

fn win(number: u32) -> WindowNumber {
    WindowNumber::new(number).unwrap()
}

fn num(text: &str) -> TicketNumber {
    TicketNumber::parse(text).unwrap()
}

/// A service with a handling estimate of 10 minutes, no cap and no hours.
fn service(code_text: &str, prefix: &str) -> Service {
    Service::new(
        code(code_text),
        Prefix::parse(prefix).unwrap(),
        format!("{code_text}业务"),
        format!("{code_text} business"),
    )
    .with_targets(30, 20)
}

fn window_def(number: u32, services: &[&str]) -> WindowDef {
    WindowDef {
        number: win(number),
        name_zh: format!("{number}号窗口"),
        name_en: format!("Window {number}"),
        services: services.iter().map(|text| code(text)).collect(),
        breaks: Vec::new(),
    }
}

struct Fixture {
    hall: Hall,
    tokens: u32,
}

impl Fixture {
    /// The three services and three windows, all windows closed, at 08:00.
    fn new() -> Fixture {
        let mut fixture = Fixture {
            hall: Hall::new(),
            tokens: 0,
        };
        for (code_text, prefix) in [("hukou", "A"), ("id_card", "B"), ("vehicle", "C")] {
            fixture.ok(Command::AddService(service(code_text, prefix)), 0);
        }
        for (number, services) in [
            (1, &["hukou", "id_card"][..]),
            (2, &["id_card", "hukou"][..]),
            (3, &["vehicle"][..]),
        ] {
            fixture.ok(Command::AddWindow(window_def(number, services)), 0);
        }
        fixture
    }

    /// The fixture with all three windows open.
    fn open() -> Fixture {
        let mut fixture = Fixture::new();
        for number in 1..=3 {
            fixture.ok(
                Command::Open {
                    window: win(number),
                },
                0,
            );
        }
        fixture
    }

    /// Applies a command on the fixture's day.
    fn apply(&mut self, command: Command, minutes: u16) -> Result<Vec<Event>, Error> {
        self.apply_at(command, at(minutes))
    }

    /// Applies a command; checks the invariants after a success and that a refusal changed
    /// nothing.
    fn apply_at(&mut self, command: Command, now: Now) -> Result<Vec<Event>, Error> {
        let before = self.hall.clone();
        let result = self.hall.apply(&command, now);
        match &result {
            Ok(_) => assert_eq!(self.hall.check_invariants(), Ok(()), "after {command:?}"),
            Err(error) => assert!(
                self.hall == before,
                "{command:?} was refused ({error}) but changed the state"
            ),
        }
        result
    }

    #[track_caller]
    fn ok(&mut self, command: Command, minutes: u16) -> Vec<Event> {
        let described = format!("{command:?}");
        self.apply(command, minutes)
            .unwrap_or_else(|error| panic!("{described} was refused: {error}"))
    }

    #[track_caller]
    fn err(&mut self, command: Command, minutes: u16) -> Error {
        let described = format!("{command:?}");
        match self.apply(command, minutes) {
            Ok(events) => panic!("{described} was accepted with {events:?}"),
            Err(error) => error,
        }
    }

    fn next_token(&mut self) -> String {
        self.tokens += 1;
        format!("token-{:016}", self.tokens)
    }

    fn issue_command(&mut self, service: &str, green_channel: bool) -> Command {
        Command::IssueTicket {
            service: code(service),
            green_channel,
            token: self.next_token(),
            idempotency_key: None,
        }
    }

    /// Issues a ticket and returns its number.
    #[track_caller]
    fn issue(&mut self, service: &str, green_channel: bool, minutes: u16) -> TicketNumber {
        let command = self.issue_command(service, green_channel);
        match self.ok(command, minutes).last() {
            Some(Event::TicketIssued { number, .. }) => *number,
            other => panic!("issuing gave {other:?}"),
        }
    }

    /// Lets a window call its next ticket and returns the number called, if any.
    #[track_caller]
    fn call_next(&mut self, window: u32, minutes: u16) -> Option<String> {
        let events = self.ok(
            Command::CallNext {
                window: win(window),
            },
            minutes,
        );
        called(&self.hall, &events).pop()
    }

    #[track_caller]
    fn ticket(&self, number: &str) -> &Ticket {
        self.hall
            .ticket_by_number(num(number))
            .unwrap_or_else(|| panic!("no ticket {number}"))
    }

    fn id(&self, number: &str) -> TicketId {
        self.ticket(number).id
    }

    fn window_state(&self, number: u32) -> WindowState {
        self.hall.window(win(number)).unwrap().state.clone()
    }
}

/// The numbers of the tickets called (not recalled) by these events.
fn called(hall: &Hall, events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::TicketCalled {
                id, recall: false, ..
            } => Some(hall.ticket(*id).unwrap().number.to_string()),
            _ => None,
        })
        .collect()
}

fn called_event(id: TicketId, window: u32) -> Event {
    Event::TicketCalled {
        id,
        window: win(window),
        recall: false,
        out_of_order: None,
    }
}

// ----- issuing tickets -----

#[test]
fn issuing_numbers_tickets_per_prefix() {
    let mut fixture = Fixture::new();
    let command = fixture.issue_command("hukou", false);
    let events = fixture.ok(command, 1);
    assert_eq!(
        events,
        vec![Event::TicketIssued {
            id: TicketId(0),
            number: num("A001"),
            service: code("hukou"),
            green_channel: false,
            token: "token-0000000000000001".into(),
            idempotency_key: None,
        }]
    );
    let numbers: Vec<String> = [
        ("hukou", 2),
        ("id_card", 3),
        ("hukou", 4),
        ("vehicle", 5),
        ("id_card", 6),
    ]
    .into_iter()
    .map(|(service, minute)| fixture.issue(service, false, minute).to_string())
    .collect();
    assert_eq!(numbers, ["A002", "B001", "A003", "C001", "B002"]);

    let ticket = fixture.ticket("A001");
    assert_eq!(ticket.status, TicketStatus::Waiting);
    assert_eq!(ticket.issued_at, at(1).at);
    assert_eq!(ticket.service, code("hukou"));
    assert_eq!(ticket.window, None);
    assert_eq!(ticket.called_at, None);
    assert_eq!(
        fixture
            .hall
            .ticket_by_token("token-0000000000000001")
            .map(|t| t.number),
        Some(num("A001"))
    );
    assert_eq!(fixture.hall.issued_today(&code("hukou")), 3);
    assert_eq!(fixture.hall.issued_today(&code("id_card")), 2);
    assert_eq!(fixture.hall.queues().waiting_for_service(&code("hukou")), 3);
}

#[test]
fn a999_is_followed_by_a1000() {
    let mut fixture = Fixture::new();
    for seq in 1..=999 {
        let command = fixture.issue_command("hukou", false);
        let events = fixture.hall.apply(&command, at(1)).unwrap();
        assert!(matches!(events[..], [Event::TicketIssued { number, .. }] if number.seq == seq));
    }
    assert_eq!(fixture.ticket("A999").number.to_string(), "A999");
    assert_eq!(fixture.issue("hukou", false, 2).to_string(), "A1000");
    assert_eq!(fixture.issue("hukou", false, 2).to_string(), "A1001");
    assert_eq!(fixture.issue("id_card", false, 2).to_string(), "B001");
    assert_eq!(fixture.hall.check_invariants(), Ok(()));
}

#[test]
fn the_daily_cap_refuses_tickets_until_the_next_day() {
    let mut fixture = Fixture::new();
    let mut hukou = service("hukou", "A");
    hukou.daily_cap = Some(2);
    fixture.ok(Command::UpdateService(hukou), 0);
    fixture.issue("hukou", false, 1);
    fixture.issue("hukou", true, 2);
    let command = fixture.issue_command("hukou", false);
    assert_eq!(
        fixture.err(command, 3),
        Error::DailyCapReached {
            service: code("hukou"),
            cap: 2
        }
    );
    // Other services have their own count.
    assert_eq!(fixture.issue("id_card", false, 3).to_string(), "B001");

    let command = fixture.issue_command("hukou", false);
    let events = fixture.apply_at(command, on_day(1, 0)).unwrap();
    assert!(
        matches!(&events[..], [Event::DayStarted { .. }, Event::TicketIssued { number, .. }] if number.to_string() == "A001")
    );
}

#[test]
fn tickets_are_issued_within_the_service_hours_only() {
    let mut fixture = Fixture::new();
    let opens = ClockTime::parse("08:30").unwrap();
    let closes = ClockTime::parse("11:30").unwrap();
    let mut hukou = service("hukou", "A");
    hukou.hours = Some((opens, closes));
    fixture.ok(Command::UpdateService(hukou), 0);
    let not_open = Error::ServiceNotOpen {
        service: code("hukou"),
        opens,
        closes,
    };
    for minute in [0, 29, 210, 300] {
        let command = fixture.issue_command("hukou", false);
        assert_eq!(fixture.err(command, minute), not_open, "at minute {minute}");
    }
    assert_eq!(fixture.issue("hukou", false, 30).to_string(), "A001");
    assert_eq!(fixture.issue("hukou", false, 209).to_string(), "A002");
    // Services without hours issue all day.
    assert_eq!(fixture.issue("id_card", false, 0).to_string(), "B001");
}

#[test]
fn a_closed_day_issues_no_ticket_and_says_when_the_hall_opens() {
    let mut fixture = Fixture::new();
    let mut hukou = service("hukou", "A");
    hukou.hours = Some((
        ClockTime::parse("08:30").unwrap(),
        ClockTime::parse("17:00").unwrap(),
    ));
    fixture.ok(Command::UpdateService(hukou), 0);
    // A hall that never set a calendar is open every day, weekends too (day 5 is a Saturday).
    assert!(fixture.hall.calendar().is_none());
    let command = fixture_issue(&mut fixture, "id_card");
    fixture.apply_at(command, on_day(5, 60)).unwrap();

    // Monday to Friday, with Friday 2026-03-13 a holiday and Sunday 2026-03-15 worked (调休).
    let mut calendar = HallCalendar::default();
    calendar
        .holidays
        .insert(LocalDate::new(2026, 3, 13).unwrap());
    calendar
        .working_days
        .insert(LocalDate::new(2026, 3, 15).unwrap());
    let events = fixture
        .apply_at(Command::SetCalendar(calendar.clone()), on_day(5, 61))
        .unwrap();
    assert_eq!(events, vec![Event::CalendarConfigured(calendar.clone())]);
    assert!(events[0].is_configuration());
    assert_eq!(fixture.hall.calendar(), Some(&calendar));

    // Saturday: closed, and the hall opens Monday at the earliest service opening (all-day
    // services open at midnight).
    let command = fixture_issue(&mut fixture, "id_card");
    let error = fixture.apply_at(command, on_day(5, 62)).unwrap_err();
    let Error::HallClosed { date, kind, next } = &error else {
        panic!("{error:?}");
    };
    assert_eq!((*date, *kind), (on_day(5, 0).date, DayKind::RestDay));
    assert_eq!(
        next.map(|n| (n.date.to_string(), n.time.to_string())),
        Some(("2026-03-09".into(), "00:00".into()))
    );
    assert_eq!(error.code(), "hall_closed");
    assert!(error.to_string().starts_with("今日不办公"), "{error}");
    assert!(error.to_string().contains("2026-03-09"), "{error}");

    // Monday: open.
    let command = fixture_issue(&mut fixture, "id_card");
    fixture.apply_at(command, on_day(7, 60)).unwrap();
    // The holiday Friday is closed whatever the service; it names the 调休 Sunday next.
    let command = fixture_issue(&mut fixture, "vehicle");
    let error = fixture.apply_at(command, on_day(11, 60)).unwrap_err();
    assert!(
        matches!(&error, Error::HallClosed { kind: DayKind::Holiday, next: Some(next), .. }
            if next.date.to_string() == "2026-03-15"),
        "{error:?}"
    );
    assert!(error.to_string().contains("法定节假日"), "{error}");
    // The 调休 Sunday issues tickets.
    let command = fixture_issue(&mut fixture, "vehicle");
    fixture.apply_at(command, on_day(13, 60)).unwrap();

    // With every service given hours, the next opening is the earliest of them.
    let mut id_card = service("id_card", "B");
    id_card.hours = Some((
        ClockTime::parse("09:00").unwrap(),
        ClockTime::parse("12:00").unwrap(),
    ));
    let mut vehicle = service("vehicle", "C");
    vehicle.enabled = false;
    fixture
        .apply_at(Command::UpdateService(id_card), on_day(13, 61))
        .unwrap();
    fixture
        .apply_at(Command::UpdateService(vehicle), on_day(13, 61))
        .unwrap();
    assert_eq!(fixture.hall.opening_time().to_string(), "08:30");
    let opening = fixture.hall.next_opening(on_day(13, 62)).unwrap();
    assert_eq!(opening.date.to_string(), "2026-03-16");

    // A calendar that is both closed and open on one day is refused.
    calendar
        .working_days
        .insert(LocalDate::new(2026, 3, 13).unwrap());
    assert!(matches!(
        fixture.apply_at(Command::SetCalendar(calendar), on_day(13, 63)),
        Err(Error::Invalid(_))
    ));
}

fn fixture_issue(fixture: &mut Fixture, service: &str) -> Command {
    fixture.issue_command(service, false)
}

#[test]
fn a_disabled_or_unknown_service_issues_nothing() {
    let mut fixture = Fixture::new();
    let mut hukou = service("hukou", "A");
    hukou.enabled = false;
    fixture.ok(Command::UpdateService(hukou), 0);
    let command = fixture.issue_command("hukou", false);
    assert_eq!(
        fixture.err(command, 1),
        Error::ServiceDisabled(code("hukou"))
    );
    let command = fixture.issue_command("passport", false);
    assert_eq!(
        fixture.err(command, 1),
        Error::UnknownService(code("passport"))
    );
    assert!(fixture.hall.tickets().is_empty());
}

#[test]
fn an_idempotency_key_returns_the_same_ticket() {
    let mut fixture = Fixture::new();
    let first = Command::IssueTicket {
        service: code("hukou"),
        green_channel: false,
        token: fixture.next_token(),
        idempotency_key: Some("kiosk-1/42".into()),
    };
    let events = fixture.ok(first.clone(), 1);
    assert!(matches!(
        &events[..],
        [Event::TicketIssued { idempotency_key: Some(key), .. }] if key == "kiosk-1/42"
    ));
    // The very same request again, and a retry that brought a fresh token: no second ticket.
    assert_eq!(fixture.ok(first, 2), Vec::new());
    let retry = Command::IssueTicket {
        service: code("hukou"),
        green_channel: false,
        token: fixture.next_token(),
        idempotency_key: Some("kiosk-1/42".into()),
    };
    assert_eq!(fixture.ok(retry, 2), Vec::new());
    let ticket = fixture
        .hall
        .ticket_by_idempotency_key("kiosk-1/42")
        .unwrap();
    assert_eq!(ticket.number, num("A001"));
    assert_eq!(fixture.hall.tickets().len(), 1);
    assert_eq!(fixture.hall.issued_today(&code("hukou")), 1);
    // A new key is a new ticket.
    let other = Command::IssueTicket {
        service: code("hukou"),
        green_channel: false,
        token: fixture.next_token(),
        idempotency_key: Some("kiosk-1/43".into()),
    };
    assert_eq!(issued_numbers(&fixture.ok(other, 3)), ["A002"]);
}

fn issued_numbers(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::TicketIssued { number, .. } => Some(number.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_reused_idempotency_key_for_another_request_is_refused() {
    let mut fixture = Fixture::new();
    let key = Some("kiosk-1/42".to_string());
    let first = Command::IssueTicket {
        service: code("hukou"),
        green_channel: false,
        token: fixture.next_token(),
        idempotency_key: key.clone(),
    };
    fixture.ok(first, 1);
    for (service, green_channel) in [("id_card", false), ("hukou", true), ("passport", false)] {
        let command = Command::IssueTicket {
            service: code(service),
            green_channel,
            token: fixture.next_token(),
            idempotency_key: key.clone(),
        };
        assert_eq!(
            fixture.err(command, 2),
            Error::IdempotencyKeyReused,
            "{service} green={green_channel}"
        );
    }
    for bad in [String::new(), "k".repeat(201)] {
        let command = Command::IssueTicket {
            service: code("hukou"),
            green_channel: false,
            token: fixture.next_token(),
            idempotency_key: Some(bad),
        };
        assert!(matches!(fixture.err(command, 2), Error::Invalid(_)));
    }
}

#[test]
fn an_idempotent_retry_finds_its_ticket_after_a_prefix_change_or_a_transfer() {
    let mut fixture = Fixture::open();
    let retry = Command::IssueTicket {
        service: code("hukou"),
        green_channel: false,
        token: fixture.next_token(),
        idempotency_key: Some("kiosk-1/42".into()),
    };
    fixture.ok(retry.clone(), 1);
    fixture.ok(Command::UpdateService(service("hukou", "H")), 2);
    assert_eq!(fixture.ok(retry.clone(), 3), Vec::new());
    fixture.call_next(1, 4);
    fixture.ok(
        Command::Transfer {
            window: win(1),
            to: TransferTarget::Service(code("vehicle")),
        },
        5,
    );
    assert_eq!(fixture.ok(retry, 6), Vec::new());
    assert_eq!(fixture.hall.tickets().len(), 1);
}

#[test]
fn a_ticket_needs_a_new_token_of_16_to_128_characters() {
    let mut fixture = Fixture::new();
    let issue = |token: String| Command::IssueTicket {
        service: code("hukou"),
        green_channel: false,
        token,
        idempotency_key: None,
    };
    for bad in ["t".repeat(15), "t".repeat(129), String::new()] {
        assert!(matches!(fixture.err(issue(bad), 1), Error::Invalid(_)));
    }
    fixture.ok(issue("t".repeat(16)), 1);
    fixture.ok(issue("u".repeat(128)), 1);
    // The same token twice would let one ticket page show another's ticket.
    assert!(matches!(
        fixture.err(issue("t".repeat(16)), 2),
        Error::Invalid(_)
    ));
    assert_eq!(fixture.hall.tickets().len(), 2);
}

// ----- calling the next ticket -----

#[test]
fn call_next_takes_the_oldest_ticket_across_the_windows_services() {
    let mut fixture = Fixture::open();
    fixture.issue("vehicle", false, 0);
    fixture.issue("id_card", false, 1);
    // More than NEAR_TIE_MS after B001, so B001 is plainly the oldest (see the next test).
    fixture.issue("hukou", false, 5);
    fixture.issue("hukou", false, 6);

    let events = fixture.ok(Command::CallNext { window: win(1) }, 7);
    let b001 = fixture.id("B001");
    assert_eq!(events, vec![called_event(b001, 1)]);
    let ticket = fixture.ticket("B001");
    assert_eq!(ticket.status, TicketStatus::Called);
    assert_eq!(ticket.window, Some(win(1)));
    assert_eq!(ticket.called_at, Some(at(7).at));
    assert_eq!(ticket.first_called_at, Some(at(7).at));
    assert_eq!(
        fixture.window_state(1),
        WindowState::Serving { ticket: b001 }
    );
    assert_eq!(fixture.hall.window(win(1)).unwrap().state_since, at(7).at);
    let call = fixture.hall.recent_calls().next().unwrap();
    assert_eq!(
        (call.ticket, call.number, call.window, call.at, call.recall),
        (b001, num("B001"), win(1), at(7).at, false)
    );

    assert_eq!(fixture.call_next(1, 8).as_deref(), Some("A001"));
    assert_eq!(fixture.call_next(1, 9).as_deref(), Some("A002"));
    // Window 1 does not serve vehicle.
    assert_eq!(fixture.call_next(1, 10), None);
    assert_eq!(fixture.call_next(3, 10).as_deref(), Some("C001"));
}

#[test]
fn a_near_tie_goes_to_the_longer_queue_per_window() {
    assert_eq!(NEAR_TIE_MS, 3 * MINUTE);
    let mut fixture = Fixture::open();
    // Window 1 serves hukou and id_card; both have two windows assigned, so the longer
    // queue is the longer backlog per window.
    fixture.issue("id_card", false, 0);
    fixture.issue("hukou", false, 2);
    fixture.issue("hukou", false, 2);
    // A001 came two minutes after B001 (a near tie) and hukou has two waiting: hukou first.
    assert_eq!(fixture.call_next(1, 3).as_deref(), Some("A001"));
    // Now one each: the older goes first.
    assert_eq!(fixture.call_next(1, 4).as_deref(), Some("B001"));
    assert_eq!(fixture.call_next(1, 5).as_deref(), Some("A002"));
    // The fixed reference rule stays plain oldest-first.
    let mut fixture = Fixture::open();
    fixture.hall = fixture.hall.clone().with_policy(Policy::OldestFirst);
    fixture.issue("id_card", false, 0);
    fixture.issue("hukou", false, 2);
    fixture.issue("hukou", false, 2);
    assert_eq!(fixture.call_next(1, 3).as_deref(), Some("B001"));
}

#[test]
fn green_channel_tickets_go_first() {
    let mut fixture = Fixture::open();
    fixture.issue("hukou", false, 1);
    fixture.issue("id_card", true, 2);
    fixture.issue("hukou", true, 3);
    assert_eq!(fixture.call_next(1, 4).as_deref(), Some("B001"));
    assert_eq!(fixture.call_next(2, 4).as_deref(), Some("A002"));
    assert_eq!(fixture.call_next(1, 5).as_deref(), Some("A001"));
}

#[test]
fn the_starvation_guard_calls_a_normal_ticket_after_two_green_calls() {
    assert_eq!(GREEN_STREAK_LIMIT, 2);
    let mut fixture = Fixture::open();
    fixture.issue("hukou", false, 1);
    for minute in 2..=4 {
        fixture.issue("hukou", true, minute);
    }
    let streak = |fixture: &Fixture| fixture.hall.window(win(1)).unwrap().consecutive_green;
    assert_eq!(fixture.call_next(1, 5).as_deref(), Some("A002"));
    assert_eq!(streak(&fixture), 1);
    assert_eq!(fixture.call_next(1, 6).as_deref(), Some("A003"));
    assert_eq!(streak(&fixture), 2);
    assert_eq!(fixture.call_next(1, 7).as_deref(), Some("A001"));
    assert_eq!(streak(&fixture), 0);
    assert_eq!(fixture.call_next(1, 8).as_deref(), Some("A004"));
    assert_eq!(streak(&fixture), 1);
}

#[test]
fn the_starvation_guard_lets_no_younger_normal_ticket_pass() {
    let mut fixture = Fixture::open();
    for minute in 1..=3 {
        fixture.issue("hukou", true, minute);
    }
    fixture.issue("hukou", false, 4);
    let order: Vec<Option<String>> = (5..=8).map(|minute| fixture.call_next(1, minute)).collect();
    let expected = ["A001", "A002", "A003", "A004"].map(|n| Some(n.to_string()));
    assert_eq!(order, expected);
}

#[test]
fn calling_while_serving_finishes_the_current_ticket_first() {
    let mut fixture = Fixture::open();
    fixture.issue("hukou", false, 0);
    fixture.issue("hukou", false, 0);
    fixture.call_next(1, 1);
    let (a001, a002) = (fixture.id("A001"), fixture.id("A002"));
    let events = fixture.ok(Command::CallNext { window: win(1) }, 7);
    assert_eq!(
        events,
        vec![
            Event::TicketFinished {
                id: a001,
                window: win(1),
                outcome: Outcome::Done,
            },
            called_event(a002, 1),
        ]
    );
    assert_eq!(fixture.ticket("A001").status, TicketStatus::Done);
    assert_eq!(fixture.ticket("A001").finished_at, Some(at(7).at));
    assert_eq!(fixture.ticket("A002").status, TicketStatus::Called);
    // Nothing left: the served ticket is finished and no one is called.
    let events = fixture.ok(Command::CallNext { window: win(1) }, 9);
    assert_eq!(
        events,
        vec![Event::TicketFinished {
            id: a002,
            window: win(1),
            outcome: Outcome::Done,
        }]
    );
    assert_eq!(fixture.window_state(1), WindowState::Open);
}

#[test]
fn call_next_with_nothing_waiting_calls_no_one() {
    let mut fixture = Fixture::open();
    assert_eq!(
        fixture.ok(Command::CallNext { window: win(1) }, 1),
        Vec::new()
    );
    fixture.issue("vehicle", false, 2);
    assert_eq!(
        fixture.ok(Command::CallNext { window: win(1) }, 3),
        Vec::new()
    );
    assert_eq!(fixture.window_state(1), WindowState::Open);
    assert_eq!(fixture.ticket("C001").status, TicketStatus::Waiting);
}

#[test]
fn call_next_needs_an_open_window() {
    let mut fixture = Fixture::new();
    fixture.issue("hukou", false, 0);
    assert_eq!(
        fixture.err(Command::CallNext { window: win(1) }, 1),
        Error::WindowClosed(win(1))
    );
    fixture.ok(Command::Open { window: win(1) }, 1);
    fixture.ok(
        Command::Pause {
            window: win(1),
            reason: "lunch".into(),
        },
        1,
    );
    assert_eq!(
        fixture.err(Command::CallNext { window: win(1) }, 2),
        Error::WindowPaused(win(1))
    );
    assert_eq!(
        fixture.err(Command::CallNext { window: win(9) }, 2),
        Error::UnknownWindow(win(9))
    );
}

// ----- calling a ticket out of order -----

fn call_ticket(window: u32, number: &str, reason: &str) -> Command {
    Command::CallTicket {
        window: win(window),
        number: num(number),
        reason: reason.into(),
    }
}

#[test]
fn calling_out_of_order_records_the_reason() {
    let mut fixture = Fixture::open();
    fixture.issue("hukou", false, 1);
    fixture.issue("hukou", false, 2);
    let events = fixture.ok(call_ticket(1, "A002", "  elderly citizen  "), 3);
    assert_eq!(
        events,
        vec![Event::TicketCalled {
            id: fixture.id("A002"),
            window: win(1),
            recall: false,
            out_of_order: Some("elderly citizen".into()),
        }]
    );
    assert_eq!(fixture.ticket("A002").status, TicketStatus::Called);
    assert_eq!(fixture.ticket("A001").status, TicketStatus::Waiting);
    assert_eq!(fixture.hall.ahead_of(fixture.ticket("A001")), Some(0));
}

#[test]
fn calling_the_ticket_call_next_would_pick_is_in_order() {
    let mut fixture = Fixture::open();
    fixture.issue("hukou", false, 1);
    fixture.issue("hukou", false, 2);
    let events = fixture.ok(call_ticket(1, "A001", "called by name"), 3);
    assert_eq!(events, vec![called_event(fixture.id("A001"), 1)]);
    // A green-channel ticket now goes first, so A002 is out of order; calling while serving
    // finishes the current ticket first.
    fixture.issue("hukou", true, 4);
    let events = fixture.ok(call_ticket(1, "A002", "called by name"), 5);
    assert_eq!(
        events,
        vec![
            Event::TicketFinished {
                id: fixture.id("A001"),
                window: win(1),
                outcome: Outcome::Done,
            },
            Event::TicketCalled {
                id: fixture.id("A002"),
                window: win(1),
                recall: false,
                out_of_order: Some("called by name".into()),
            },
        ]
    );
}

#[test]
fn calling_out_of_order_is_refused_when_it_cannot_be_done() {
    let mut fixture = Fixture::new();
    fixture.ok(Command::Open { window: win(1) }, 0);
    fixture.ok(Command::Open { window: win(3) }, 0);
    fixture.issue("hukou", false, 1);
    fixture.issue("hukou", false, 2);
    for reason in ["", "   "] {
        assert!(matches!(
            fixture.err(call_ticket(1, "A002", reason), 3),
            Error::Invalid(_)
        ));
    }
    assert_eq!(
        fixture.err(call_ticket(1, "A099", "x"), 3),
        Error::UnknownTicket(num("A099"))
    );
    assert_eq!(
        fixture.err(call_ticket(3, "A002", "x"), 3),
        Error::NotAssigned {
            window: win(3),
            service: code("hukou")
        }
    );
    assert_eq!(
        fixture.err(call_ticket(2, "A002", "x"), 3),
        Error::WindowClosed(win(2))
    );
    assert_eq!(
        fixture.err(call_ticket(9, "A002", "x"), 3),
        Error::UnknownWindow(win(9))
    );
    fixture.call_next(1, 4);
    assert_eq!(
        fixture.err(call_ticket(1, "A001", "x"), 5),
        Error::TicketNotWaiting(num("A001"))
    );
    fixture.call_next(1, 6);
    assert_eq!(
        fixture.err(call_ticket(1, "A001", "x"), 7),
        Error::TicketNotWaiting(num("A001"))
    );
}

// ----- recall, no-show, finish -----

#[test]
fn recall_calls_the_served_ticket_again() {
    let mut fixture = Fixture::open();
    fixture.issue("hukou", false, 1);
    fixture.call_next(1, 2);
    let a001 = fixture.id("A001");
    let events = fixture.ok(Command::Recall { window: win(1) }, 3);
    assert_eq!(
        events,
        vec![Event::TicketCalled {
            id: a001,
            window: win(1),
            recall: true,
            out_of_order: None,
        }]
    );
    fixture.ok(Command::Recall { window: win(1) }, 4);
    let ticket = fixture.ticket("A001");
    assert_eq!(ticket.recalls, 2);
    assert_eq!(ticket.status, TicketStatus::Called);
    assert_eq!(ticket.called_at, Some(at(2).at));
    assert_eq!(
        fixture.window_state(1),
        WindowState::Serving { ticket: a001 }
    );
    assert_eq!(fixture.hall.window(win(1)).unwrap().state_since, at(2).at);
    let calls: Vec<(TicketId, bool, Millis)> = fixture
        .hall
        .recent_calls()
        .map(|call| (call.ticket, call.recall, call.at))
        .collect();
    assert_eq!(
        calls,
        [
            (a001, true, at(4).at),
            (a001, true, at(3).at),
            (a001, false, at(2).at)
        ]
    );
    for (window, error) in [
        (2, Error::WindowNotServing(win(2))),
        (9, Error::UnknownWindow(win(9))),
    ] {
        assert_eq!(
            fixture.err(
                Command::Recall {
                    window: win(window)
                },
                5
            ),
            error
        );
    }
}

#[test]
fn the_wall_remembers_the_latest_calls_only() {
    let mut fixture = Fixture::open();
    for _ in 0..12 {
        fixture.issue("hukou", false, 0);
    }
    for minute in 1..=12 {
        fixture.call_next(1, minute);
    }
    let numbers: Vec<String> = fixture
        .hall
        .recent_calls()
        .map(|call| call.number.to_string())
        .collect();
    assert_eq!(numbers.len(), RECENT_CALLS);
    assert_eq!(numbers.first().map(String::as_str), Some("A012"));
    assert_eq!(numbers.last().map(String::as_str), Some("A003"));
}

#[test]
fn no_show_ends_the_ticket_without_counting_its_time() {
    let mut fixture = Fixture::open();
    fixture.issue("hukou", false, 0);
    fixture.call_next(1, 1);
    let events = fixture.ok(Command::NoShow { window: win(1) }, 9);
    assert_eq!(
        events,
        vec![Event::TicketNoShow {
            id: fixture.id("A001"),
            window: win(1)
        }]
    );
    let ticket = fixture.ticket("A001");
    assert_eq!(ticket.status, TicketStatus::NoShow);
    assert_eq!(ticket.finished_at, Some(at(9).at));
    assert_eq!(fixture.window_state(1), WindowState::Open);
    assert_eq!(
        fixture.hall.expected_handling_ms(&code("hukou")),
        10 * MINUTE
    );
    assert_eq!(
        fixture.err(Command::NoShow { window: win(1) }, 10),
        Error::WindowNotServing(win(1))
    );
    assert_eq!(
        fixture.err(Command::NoShow { window: win(9) }, 10),
        Error::UnknownWindow(win(9))
    );
}

#[test]
fn finish_ends_the_ticket() {
    let mut fixture = Fixture::open();
    fixture.issue("hukou", false, 0);
    fixture.call_next(1, 1);
    let events = fixture.ok(Command::finish(win(1)), 5);
    assert_eq!(
        events,
        vec![Event::TicketFinished {
            id: fixture.id("A001"),
            window: win(1),
            outcome: Outcome::Done,
        }]
    );
    let ticket = fixture.ticket("A001");
    assert_eq!(ticket.status, TicketStatus::Done);
    assert_eq!(ticket.finished_at, Some(at(5).at));
    assert_eq!(fixture.window_state(1), WindowState::Open);
    assert_eq!(fixture.hall.window(win(1)).unwrap().state_since, at(5).at);
    for (window, error) in [
        (1, Error::WindowNotServing(win(1))),
        (9, Error::UnknownWindow(win(9))),
    ] {
        assert_eq!(fixture.err(Command::finish(win(window)), 6), error);
    }
    fixture.ok(
        Command::Close {
            window: win(1),
            reason: None,
        },
        6,
    );
    assert_eq!(
        fixture.err(Command::finish(win(1)), 7),
        Error::WindowNotServing(win(1))
    );
}

// ----- transfers -----

fn transfer(window: u32, to: TransferTarget) -> Command {
    Command::Transfer {
        window: win(window),
        to,
    }
}

#[test]
fn a_transfer_to_a_service_keeps_the_issue_time() {
    let mut fixture = Fixture::open();
    fixture.issue("hukou", false, 0);
    fixture.issue("id_card", false, 5);
    fixture.issue("id_card", false, 6);
    assert_eq!(fixture.call_next(1, 10).as_deref(), Some("A001"));
    let a001 = fixture.id("A001");
    let to_id_card = TransferTarget::Service(code("id_card"));
    let events = fixture.ok(transfer(1, to_id_card.clone()), 16);
    assert_eq!(
        events,
        vec![Event::TicketTransferred {
            id: a001,
            window: win(1),
            to: to_id_card.clone()
        }]
    );
    let ticket = fixture.ticket("A001");
    assert_eq!(ticket.status, TicketStatus::Transferred);
    assert_eq!(ticket.service, code("id_card"));
    assert_eq!(ticket.issued_at, at(0).at);
    assert_eq!(ticket.pinned_window, None);
    assert_eq!(
        ticket.transfers,
        [Transfer {
            from_service: code("hukou"),
            from_window: win(1),
            to: to_id_card.clone(),
            at: at(16).at,
        }]
    );
    assert_eq!(fixture.window_state(1), WindowState::Open);
    assert_eq!(fixture.hall.ahead_of(fixture.ticket("A001")), Some(0));
    assert_eq!(fixture.hall.ahead_of(fixture.ticket("B001")), Some(1));
    assert_eq!(
        fixture.hall.queues().waiting_for_service(&code("id_card")),
        3
    );
    assert_eq!(fixture.hall.queues().waiting_for_service(&code("hukou")), 0);
    // A transfer is not an issue: the daily count stays.
    assert_eq!(fixture.hall.issued_today(&code("id_card")), 2);
    // The six minutes at window 1 count towards hukou's handling time.
    assert_eq!(
        fixture.hall.expected_handling_ms(&code("hukou")),
        (5 * 10 + 6) * MINUTE / 6
    );

    // Called before the id_card tickets issued after it, then sent on again.
    assert_eq!(fixture.call_next(2, 17).as_deref(), Some("A001"));
    let to_vehicle = TransferTarget::Service(code("vehicle"));
    fixture.ok(transfer(2, to_vehicle.clone()), 20);
    assert_eq!(
        fixture.ticket("A001").transfers,
        [
            Transfer {
                from_service: code("hukou"),
                from_window: win(1),
                to: to_id_card,
                at: at(16).at,
            },
            Transfer {
                from_service: code("id_card"),
                from_window: win(2),
                to: to_vehicle,
                at: at(20).at,
            }
        ]
    );
    assert_eq!(fixture.call_next(2, 21).as_deref(), Some("B001"));
    assert_eq!(fixture.call_next(3, 21).as_deref(), Some("A001"));
    assert_eq!(fixture.ticket("A001").first_called_at, Some(at(10).at));
    assert_eq!(fixture.ticket("A001").called_at, Some(at(21).at));
}

#[test]
fn a_transfer_to_a_window_pins_the_ticket_to_it() {
    let mut fixture = Fixture::open();
    fixture.issue("vehicle", false, 0);
    fixture.issue("hukou", false, 1);
    fixture.issue("hukou", false, 2);
    assert_eq!(fixture.call_next(1, 3).as_deref(), Some("A001"));
    fixture.ok(transfer(1, TransferTarget::Window(win(3))), 5);
    let ticket = fixture.ticket("A001");
    assert_eq!(ticket.status, TicketStatus::Transferred);
    assert_eq!(ticket.pinned_window, Some(win(3)));
    assert_eq!(ticket.service, code("hukou"));
    assert_eq!(fixture.hall.queues().pinned_to(win(3)), 1);
    assert_eq!(fixture.hall.queues().waiting_for_service(&code("hukou")), 1);
    assert_eq!(fixture.hall.ahead_of(fixture.ticket("A001")), Some(0));

    // Only window 3 may call it, …
    assert_eq!(
        fixture.err(call_ticket(1, "A001", "x"), 6),
        Error::NotAssigned {
            window: win(1),
            service: code("hukou")
        }
    );
    assert_eq!(fixture.call_next(2, 6).as_deref(), Some("A002"));
    // … and it goes before the older vehicle ticket there.
    let events = fixture.ok(Command::CallNext { window: win(3) }, 7);
    assert_eq!(events, vec![called_event(fixture.id("A001"), 3)]);
    let ticket = fixture.ticket("A001");
    assert_eq!(ticket.pinned_window, None);
    assert_eq!(ticket.window, Some(win(3)));
    assert_eq!(fixture.hall.queues().pinned_to(win(3)), 0);
    assert_eq!(fixture.call_next(3, 8).as_deref(), Some("C001"));
}

#[test]
fn a_transfer_needs_a_served_ticket_and_somewhere_else_to_go() {
    let mut fixture = Fixture::open();
    fixture.issue("hukou", false, 0);
    fixture.call_next(1, 1);
    for (to, error) in [
        (
            TransferTarget::Service(code("hukou")),
            Error::TransferToSelf,
        ),
        (TransferTarget::Window(win(1)), Error::TransferToSelf),
        (
            TransferTarget::Service(code("passport")),
            Error::UnknownService(code("passport")),
        ),
        (TransferTarget::Window(win(9)), Error::UnknownWindow(win(9))),
    ] {
        assert_eq!(fixture.err(transfer(1, to), 2), error);
    }
    assert_eq!(
        fixture.err(transfer(2, TransferTarget::Window(win(1))), 2),
        Error::WindowNotServing(win(2))
    );
    assert_eq!(
        fixture.err(transfer(9, TransferTarget::Window(win(1))), 2),
        Error::UnknownWindow(win(9))
    );
}

// ----- window states -----

fn pause(window: u32, reason: &str) -> Command {
    Command::Pause {
        window: win(window),
        reason: reason.into(),
    }
}

#[test]
fn windows_open_pause_resume_and_close() {
    let mut fixture = Fixture::new();
    let w = win(1);
    assert_eq!(fixture.window_state(1), WindowState::Closed);
    assert_eq!(
        fixture.ok(Command::Open { window: w }, 1),
        vec![Event::WindowOpened { window: w }]
    );
    assert_eq!(fixture.window_state(1), WindowState::Open);
    assert_eq!(fixture.hall.window(w).unwrap().state_since, at(1).at);
    assert_eq!(
        fixture.ok(pause(1, "  lunch  "), 2),
        vec![Event::WindowPaused {
            window: w,
            reason: "lunch".into()
        }]
    );
    assert_eq!(
        fixture.window_state(1),
        WindowState::Paused {
            reason: "lunch".into()
        }
    );
    assert_eq!(
        fixture.ok(Command::Resume { window: w }, 3),
        vec![Event::WindowResumed { window: w }]
    );
    assert_eq!(fixture.window_state(1), WindowState::Open);
    assert_eq!(
        fixture.ok(
            Command::Close {
                window: w,
                reason: None
            },
            4
        ),
        vec![Event::WindowClosed {
            window: w,
            reason: None
        }]
    );
    assert_eq!(fixture.window_state(1), WindowState::Closed);
    assert_eq!(fixture.hall.window(w).unwrap().state_since, at(4).at);
    // A paused window may close without resuming.
    fixture.ok(Command::Open { window: w }, 5);
    fixture.ok(pause(1, "meeting"), 6);
    fixture.ok(
        Command::Close {
            window: w,
            reason: None,
        },
        7,
    );
    assert_eq!(fixture.window_state(1), WindowState::Closed);
}

#[test]
fn window_state_changes_are_refused_when_they_do_not_fit() {
    let mut fixture = Fixture::new();
    let w = win(1);
    // Closed.
    assert_eq!(
        fixture.err(
            Command::Close {
                window: w,
                reason: None
            },
            1
        ),
        Error::WindowAlreadyClosed(w)
    );
    assert_eq!(fixture.err(pause(1, "lunch"), 1), Error::WindowClosed(w));
    assert_eq!(
        fixture.err(Command::Resume { window: w }, 1),
        Error::WindowNotPaused(w)
    );
    // Open.
    fixture.ok(Command::Open { window: w }, 1);
    assert_eq!(
        fixture.err(Command::Open { window: w }, 2),
        Error::WindowAlreadyOpen(w)
    );
    assert_eq!(
        fixture.err(Command::Resume { window: w }, 2),
        Error::WindowNotPaused(w)
    );
    // A reason's class is given by its type; its words may be left out, but not run long.
    assert!(matches!(
        fixture.err(pause(1, &"停".repeat(201)), 2),
        Error::Invalid(_)
    ));
    // Paused.
    fixture.ok(pause(1, &"停".repeat(200)), 2);
    assert_eq!(
        fixture.err(Command::Open { window: w }, 3),
        Error::WindowPaused(w)
    );
    assert_eq!(fixture.err(pause(1, "again"), 3), Error::WindowPaused(w));
    // Serving.
    fixture.ok(Command::Resume { window: w }, 3);
    fixture.issue("hukou", false, 3);
    fixture.call_next(1, 4);
    let serving = Error::WindowServing {
        window: w,
        ticket: num("A001"),
    };
    assert_eq!(
        fixture.err(
            Command::Close {
                window: w,
                reason: None
            },
            5
        ),
        serving
    );
    assert_eq!(fixture.err(pause(1, "lunch"), 5), serving);
    assert_eq!(
        fixture.err(Command::Open { window: w }, 5),
        Error::WindowAlreadyOpen(w)
    );
    assert_eq!(
        fixture.err(Command::Resume { window: w }, 5),
        Error::WindowNotPaused(w)
    );
    // Unknown.
    let nine = win(9);
    for command in [
        Command::Open { window: nine },
        Command::Close {
            window: nine,
            reason: None,
        },
        pause(9, "lunch"),
        Command::Resume { window: nine },
    ] {
        assert_eq!(fixture.err(command, 6), Error::UnknownWindow(nine));
    }
}

// ----- configuration -----

#[test]
fn adding_and_updating_services_checks_codes_and_prefixes() {
    let mut fixture = Fixture::new();
    assert_eq!(
        fixture.err(Command::AddService(service("hukou", "H")), 1),
        Error::ServiceExists(code("hukou"))
    );
    assert_eq!(
        fixture.err(Command::AddService(service("passport", "A")), 1),
        Error::PrefixTaken {
            prefix: 'A',
            service: code("hukou")
        }
    );
    let mut nameless = service("passport", "P");
    nameless.name_en = "  ".into();
    assert!(matches!(
        fixture.err(Command::AddService(nameless), 1),
        Error::Invalid(_)
    ));
    let passport = service("passport", "P");
    assert_eq!(
        fixture.ok(Command::AddService(passport.clone()), 1),
        vec![Event::ServiceDefined(passport.clone())]
    );
    assert_eq!(fixture.hall.service(&code("passport")), Some(&passport));
    let prefixes: Vec<char> = fixture
        .hall
        .services()
        .iter()
        .map(|s| s.prefix.letter())
        .collect();
    assert_eq!(prefixes, ['A', 'B', 'C', 'P']);

    assert_eq!(
        fixture.err(Command::UpdateService(service("exit_entry", "E")), 2),
        Error::UnknownService(code("exit_entry"))
    );
    assert_eq!(
        fixture.err(Command::UpdateService(service("id_card", "A")), 2),
        Error::PrefixTaken {
            prefix: 'A',
            service: code("hukou")
        }
    );
    let mut renamed = service("hukou", "A");
    renamed.name_en = "Household registration".into();
    fixture.ok(Command::UpdateService(renamed.clone()), 2);
    assert_eq!(fixture.hall.service(&code("hukou")), Some(&renamed));
}

#[test]
fn a_new_prefix_never_repeats_a_number_of_the_day() {
    let mut fixture = Fixture::new();
    fixture.issue("hukou", false, 1);
    fixture.issue("hukou", false, 1);
    fixture.ok(Command::UpdateService(service("hukou", "H")), 2);
    assert_eq!(fixture.issue("hukou", false, 3).to_string(), "H001");
    fixture.ok(Command::AddService(service("passport", "A")), 4);
    assert_eq!(fixture.issue("passport", false, 5).to_string(), "A003");
    assert_eq!(fixture.ticket("A001").service, code("hukou"));
    assert_eq!(fixture.ticket("A003").service, code("passport"));
}

#[test]
fn removing_a_service_needs_it_unused() {
    let mut fixture = Fixture::new();
    assert_eq!(
        fixture.err(Command::RemoveService(code("passport")), 1),
        Error::UnknownService(code("passport"))
    );
    assert_eq!(
        fixture.err(Command::RemoveService(code("hukou")), 1),
        Error::ServiceInUse {
            service: code("hukou"),
            windows: vec![win(1), win(2)]
        }
    );
    fixture.issue("hukou", false, 1);
    fixture.ok(Command::UpdateWindow(window_def(1, &["id_card"])), 2);
    fixture.ok(Command::UpdateWindow(window_def(2, &["id_card"])), 2);
    // A ticket still waiting keeps the service in use.
    assert_eq!(
        fixture.err(Command::RemoveService(code("hukou")), 3),
        Error::ServiceInUse {
            service: code("hukou"),
            windows: vec![]
        }
    );
    fixture.ok(Command::UpdateWindow(window_def(1, &["hukou"])), 4);
    fixture.ok(Command::Open { window: win(1) }, 4);
    fixture.call_next(1, 5);
    fixture.ok(Command::finish(win(1)), 6);
    fixture.ok(Command::UpdateWindow(window_def(1, &["id_card"])), 7);
    assert_eq!(
        fixture.ok(Command::RemoveService(code("hukou")), 8),
        vec![Event::ServiceRemoved {
            code: code("hukou")
        }]
    );
    assert_eq!(fixture.hall.service(&code("hukou")), None);
    let command = fixture.issue_command("hukou", false);
    assert_eq!(
        fixture.err(command, 9),
        Error::UnknownService(code("hukou"))
    );
}

#[test]
fn adding_and_updating_windows_checks_numbers_and_services() {
    let mut fixture = Fixture::new();
    assert_eq!(
        fixture.err(Command::AddWindow(window_def(1, &["hukou"])), 1),
        Error::WindowExists(win(1))
    );
    assert_eq!(
        fixture.err(Command::AddWindow(window_def(4, &["hukou", "passport"])), 1),
        Error::UnknownService(code("passport"))
    );
    assert!(matches!(
        fixture.err(Command::AddWindow(window_def(4, &["hukou", "hukou"])), 1),
        Error::Invalid(_)
    ));
    let four = window_def(4, &["vehicle", "hukou"]);
    assert_eq!(
        fixture.ok(Command::AddWindow(four.clone()), 1),
        vec![Event::WindowDefined(four.clone())]
    );
    assert_eq!(fixture.window_state(4), WindowState::Closed);
    assert_eq!(
        fixture.hall.windows_serving(&code("vehicle")),
        [win(3), win(4)]
    );
    assert_eq!(
        fixture.hall.windows_serving(&code("hukou")),
        [win(1), win(2), win(4)]
    );

    assert_eq!(
        fixture.err(Command::UpdateWindow(window_def(9, &["hukou"])), 2),
        Error::UnknownWindow(win(9))
    );
    assert_eq!(
        fixture.err(Command::UpdateWindow(window_def(1, &["passport"])), 2),
        Error::UnknownService(code("passport"))
    );
    // Reassigning an open window keeps it open.
    fixture.ok(Command::Open { window: win(1) }, 2);
    fixture.ok(Command::UpdateWindow(window_def(1, &["vehicle"])), 3);
    assert_eq!(fixture.window_state(1), WindowState::Open);
    assert_eq!(
        fixture.hall.window(win(1)).unwrap().def.services,
        [code("vehicle")]
    );
}

#[test]
fn removing_a_window_needs_it_closed_and_without_a_queue() {
    let mut fixture = Fixture::open();
    assert_eq!(
        fixture.err(Command::RemoveWindow(win(9)), 1),
        Error::UnknownWindow(win(9))
    );
    assert_eq!(
        fixture.err(Command::RemoveWindow(win(3)), 1),
        Error::WindowNotClosed(win(3))
    );
    fixture.issue("hukou", false, 1);
    fixture.call_next(1, 2);
    fixture.ok(transfer(1, TransferTarget::Window(win(3))), 3);
    fixture.ok(
        Command::Close {
            window: win(3),
            reason: None,
        },
        3,
    );
    assert_eq!(
        fixture.err(Command::RemoveWindow(win(3)), 4),
        Error::WindowHasQueue {
            window: win(3),
            waiting: 1
        }
    );
    fixture.ok(Command::Open { window: win(3) }, 5);
    fixture.call_next(3, 5);
    fixture.ok(Command::finish(win(3)), 6);
    fixture.ok(
        Command::Close {
            window: win(3),
            reason: None,
        },
        6,
    );
    assert_eq!(
        fixture.ok(Command::RemoveWindow(win(3)), 7),
        vec![Event::WindowRemoved { number: win(3) }]
    );
    assert!(fixture.hall.window(win(3)).is_none());
}

#[test]
fn configuring_the_hall_checks_the_settings() {
    let mut fixture = Fixture::new();
    let bad = HallSettings {
        name_zh: " ".into(),
        ..HallSettings::default()
    };
    assert!(matches!(
        fixture.err(Command::ConfigureHall(bad), 1),
        Error::Invalid(_)
    ));
    let good = HallSettings {
        name_zh: "朝阳分局出入境服务大厅".into(),
        notices_zh: vec!["请保管好您的号票".into()],
        ..HallSettings::default()
    };
    assert_eq!(
        fixture.ok(Command::ConfigureHall(good.clone()), 1),
        vec![Event::HallConfigured(good.clone())]
    );
    assert_eq!(fixture.hall.settings(), &good);
    // The default booked share: 50 unless set, at most 100.
    assert_eq!(good.booking_share_pct, 50);
    let too_much = HallSettings {
        booking_share_pct: 101,
        ..good.clone()
    };
    assert!(matches!(
        fixture.err(Command::ConfigureHall(too_much), 1),
        Error::Invalid(message) if message.contains("booking_share_pct")
    ));
    let all_booked = HallSettings {
        booking_share_pct: 100,
        ..good
    };
    fixture.ok(Command::ConfigureHall(all_booked), 1);
    assert_eq!(fixture.hall.settings().booking_share_pct, 100);
}

// ----- the day -----

#[test]
fn the_first_command_starts_the_day() {
    let mut hall = Hall::new();
    assert_eq!(hall.date(), None);
    let hukou = service("hukou", "A");
    let events = hall
        .apply(&Command::AddService(hukou.clone()), at(0))
        .unwrap();
    assert_eq!(
        events,
        vec![
            Event::DayStarted { date: date(0) },
            Event::ServiceDefined(hukou)
        ]
    );
    assert_eq!(hall.date(), Some(date(0)));
    assert_eq!(hall.apply(&Command::Tick, at(1)), Ok(Vec::new()));
}

#[test]
fn a_command_on_the_next_date_starts_a_new_day() {
    let mut fixture = Fixture::open();
    fixture.issue("hukou", false, 1);
    fixture.issue("hukou", true, 2);
    fixture.issue("id_card", false, 3);
    fixture.call_next(1, 4);
    fixture.call_next(1, 8);
    fixture.ok(pause(3, "lunch"), 9);
    assert_ne!(
        fixture.hall.expected_handling_ms(&code("hukou")),
        10 * MINUTE
    );
    let yesterday_ids: Vec<TicketId> = fixture.hall.tickets().iter().map(|t| t.id).collect();

    let command = fixture.issue_command("hukou", false);
    let events = fixture.apply_at(command, on_day(1, 0)).unwrap();
    assert_eq!(events[0], Event::DayStarted { date: date(1) });
    let Event::TicketIssued { id, number, .. } = &events[1] else {
        panic!("{events:?}");
    };
    assert_eq!(number.to_string(), "A001");
    assert!(
        yesterday_ids.iter().all(|old| old < id),
        "ids are unique for good"
    );
    assert_eq!(events.len(), 2);

    let hall = &fixture.hall;
    assert_eq!(hall.date(), Some(date(1)));
    assert_eq!(hall.tickets().len(), 1);
    assert_eq!(hall.ticket_by_number(num("A002")), None);
    assert_eq!(hall.ticket_by_number(num("B001")), None);
    assert_eq!(hall.ticket_by_token("token-0000000000000002"), None);
    assert_eq!(hall.queues().waiting_for_service(&code("hukou")), 1);
    assert_eq!(hall.queues().waiting_for_service(&code("id_card")), 0);
    assert_eq!(hall.queues().len(), 1);
    assert_eq!(hall.issued_today(&code("id_card")), 0);
    assert_eq!(hall.recent_calls().count(), 0);
    assert_eq!(hall.expected_handling_ms(&code("hukou")), 10 * MINUTE);
    for window in hall.windows() {
        assert_eq!(
            window.state,
            WindowState::Closed,
            "window {}",
            window.number()
        );
        assert_eq!(window.consecutive_green, 0);
    }
    // The configuration stays.
    assert_eq!(hall.services().len(), 3);
    assert_eq!(hall.windows().count(), 3);
}

#[test]
fn a_tick_only_starts_the_day() {
    let mut fixture = Fixture::new();
    assert_eq!(fixture.ok(Command::Tick, 5), Vec::new());
    assert_eq!(
        fixture.apply_at(Command::Tick, on_day(1, 0)),
        Ok(vec![Event::DayStarted { date: date(1) }])
    );
    assert_eq!(
        fixture.apply_at(Command::Tick, on_day(1, 1)),
        Ok(Vec::new())
    );
}

#[test]
fn a_refused_command_on_a_new_day_changes_nothing() {
    let mut fixture = Fixture::open();
    fixture.issue("hukou", false, 1);
    fixture.call_next(1, 2);
    fixture.issue("hukou", false, 3);
    let before = fixture.hall.clone();
    // The new day would close window 1, so it cannot call.
    assert_eq!(
        fixture.apply_at(Command::CallNext { window: win(1) }, on_day(1, 0)),
        Err(Error::WindowClosed(win(1)))
    );
    let command = fixture.issue_command("passport", false);
    assert_eq!(
        fixture.apply_at(command, on_day(1, 0)),
        Err(Error::UnknownService(code("passport")))
    );
    assert!(fixture.hall == before);
    assert_eq!(fixture.hall.date(), Some(date(0)));
    assert_eq!(fixture.ticket("A002").status, TicketStatus::Waiting);
    assert_eq!(fixture.ticket("A001").status, TicketStatus::Called);
}

// ----- reading the queues -----

#[test]
fn ahead_of_counts_the_tickets_before_one_in_its_queue() {
    let mut fixture = Fixture::new();
    fixture.issue("id_card", false, 0);
    fixture.issue("hukou", false, 1);
    fixture.issue("hukou", true, 2);
    fixture.issue("hukou", false, 3);
    let ahead = |fixture: &Fixture, number: &str| fixture.hall.ahead_of(fixture.ticket(number));
    assert_eq!(ahead(&fixture, "A002"), Some(0));
    assert_eq!(ahead(&fixture, "A001"), Some(1));
    assert_eq!(ahead(&fixture, "A003"), Some(2));
    assert_eq!(ahead(&fixture, "B001"), Some(0));
    fixture.ok(Command::Open { window: win(1) }, 4);
    assert_eq!(fixture.call_next(1, 4).as_deref(), Some("A002"));
    assert_eq!(ahead(&fixture, "A002"), None);
    assert_eq!(ahead(&fixture, "A001"), Some(0));
    assert_eq!(ahead(&fixture, "A003"), Some(1));
}

#[test]
fn expected_handling_blends_the_estimate_with_measured_times() {
    let mut fixture = Fixture::open();
    assert_eq!(
        fixture.hall.expected_handling_ms(&code("hukou")),
        10 * MINUTE
    );
    // An unknown service is assumed to take five minutes.
    assert_eq!(
        fixture.hall.expected_handling_ms(&code("passport")),
        5 * MINUTE
    );
    fixture.issue("hukou", false, 0);
    fixture.issue("hukou", false, 0);
    fixture.call_next(1, 0);
    fixture.call_next(1, 4);
    // The estimate weighs as much as five measured tickets: (5 × 10 + 4) / 6 minutes.
    assert_eq!(
        fixture.hall.expected_handling_ms(&code("hukou")),
        9 * MINUTE
    );
    fixture.ok(Command::finish(win(1)), 10);
    assert_eq!(
        fixture.hall.expected_handling_ms(&code("hukou")),
        (5 * 10 + 4 + 6) * MINUTE / 7
    );
    assert_eq!(
        fixture.hall.expected_handling_ms(&code("id_card")),
        10 * MINUTE
    );
}

// ----- the wait projection -----

#[test]
fn one_idle_window_calls_the_queue_one_after_another() {
    let mut fixture = Fixture::new();
    fixture.ok(Command::Open { window: win(1) }, 0);
    for minute in 0..3 {
        fixture.issue("hukou", false, minute);
    }
    let projection = Projection::of(&fixture.hall, at(5));
    let waits: Vec<Option<i64>> = ["A001", "A002", "A003"]
        .iter()
        .map(|number| projection.wait_ms(fixture.id(number)))
        .collect();
    assert_eq!(waits, [Some(0), Some(10 * MINUTE), Some(20 * MINUTE)]);
    assert_eq!(
        projection.new_ticket_wait_ms(&code("hukou")),
        Some(30 * MINUTE)
    );
    // Window 1 also serves id_card; vehicle has no working window.
    assert_eq!(
        projection.new_ticket_wait_ms(&code("id_card")),
        Some(30 * MINUTE)
    );
    assert_eq!(projection.new_ticket_wait_ms(&code("vehicle")), None);
}

#[test]
fn without_a_working_window_there_is_no_estimate() {
    let mut fixture = Fixture::new();
    fixture.issue("hukou", false, 0);
    let projection = Projection::of(&fixture.hall, at(1));
    assert_eq!(projection.wait_ms(fixture.id("A001")), None);
    assert_eq!(projection.new_ticket_wait_ms(&code("hukou")), None);
    // A paused window does not count either.
    fixture.ok(Command::Open { window: win(1) }, 1);
    fixture.ok(pause(1, "lunch"), 1);
    let projection = Projection::of(&fixture.hall, at(2));
    assert_eq!(projection.wait_ms(fixture.id("A001")), None);
    assert_eq!(projection.new_ticket_wait_ms(&code("hukou")), None);
}

#[test]
fn two_windows_share_the_load() {
    let mut fixture = Fixture::new();
    fixture.ok(Command::Open { window: win(1) }, 0);
    fixture.ok(Command::Open { window: win(2) }, 0);
    for minute in 0..4 {
        fixture.issue("hukou", false, minute);
    }
    let projection = Projection::of(&fixture.hall, at(5));
    let waits: Vec<Option<i64>> = ["A001", "A002", "A003", "A004"]
        .iter()
        .map(|number| projection.wait_ms(fixture.id(number)))
        .collect();
    assert_eq!(
        waits,
        [Some(0), Some(0), Some(10 * MINUTE), Some(10 * MINUTE)]
    );
    assert_eq!(
        projection.new_ticket_wait_ms(&code("hukou")),
        Some(20 * MINUTE)
    );
}

#[test]
fn a_serving_window_frees_after_the_rest_of_its_expected_time() {
    let mut fixture = Fixture::new();
    fixture.ok(Command::Open { window: win(1) }, 0);
    fixture.issue("hukou", false, 0);
    fixture.issue("hukou", false, 0);
    fixture.call_next(1, 0);
    let projection = Projection::of(&fixture.hall, at(4));
    assert_eq!(projection.wait_ms(fixture.id("A001")), None);
    assert_eq!(projection.wait_ms(fixture.id("A002")), Some(6 * MINUTE));
    // Past its expected time, a ticket is assumed to need a quarter of it again.
    let projection = Projection::of(&fixture.hall, at(20));
    assert_eq!(
        projection.wait_ms(fixture.id("A002")),
        Some(10 * MINUTE / 4)
    );
}

#[test]
fn assigning_services_keeps_the_names_and_changes_the_next_call() {
    let mut fixture = Fixture::new();
    fixture.ok(Command::Open { window: win(3) }, 1);
    fixture.issue("hukou", false, 2);
    // Window 3 serves vehicle only: nothing for it.
    assert_eq!(fixture.call_next(3, 3), None);
    let events = fixture.ok(
        Command::AssignServices {
            window: win(3),
            services: vec![code("vehicle"), code("hukou")],
        },
        4,
    );
    let [Event::WindowDefined(def)] = events.as_slice() else {
        panic!("one WindowDefined, got {events:?}");
    };
    assert_eq!(def.services, vec![code("vehicle"), code("hukou")]);
    assert_eq!(
        def.name_zh,
        fixture.hall.window(win(3)).unwrap().def.name_zh
    );
    assert_eq!(fixture.call_next(3, 5).as_deref(), Some("A001"));
    for (services, expected) in [
        (vec![code("nope")], Error::UnknownService(code("nope"))),
        (
            vec![code("hukou"), code("hukou")],
            Error::invalid("window 3 lists service 'hukou' twice"),
        ),
    ] {
        let error = fixture.err(
            Command::AssignServices {
                window: win(3),
                services,
            },
            6,
        );
        assert_eq!(error.code(), expected.code());
    }
    assert_eq!(
        fixture.err(
            Command::AssignServices {
                window: win(9),
                services: vec![]
            },
            6
        ),
        Error::UnknownWindow(win(9))
    );
}
