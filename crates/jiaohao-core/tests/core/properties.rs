//! Property tests of the hall: random sequences of what citizens, clerks and admins do — with
//! time passing and days ending — applied through `Hall::apply`, checking after every step
//! what must hold whatever happens: the invariants, unique numbers, strict order within a
//! queue, the log folding back into the live state (and into the read side's history, which
//! must tell each of today's tickets and each window as the hall has them), that no window
//! idles while a ticket it may serve waits, and that a snapshot taken at a day start folds
//! forward to the hall of the whole log.

use std::collections::{BTreeSet, HashMap, HashSet};

use jiaohao_core::dispatch::{self, Caller, GREEN_STREAK_LIMIT, NEAR_TIE_MS};
use jiaohao_core::history::Activity;
use jiaohao_core::{
    BookingCode, BookingSettings, Case, ClockTime, Command, Event, Hall, HallSnapshot, History,
    LocalDate, Millis, Now, PersonKey, Prefix, Projection, Rating, RatingReason, Service,
    ServiceCode, TicketId, TicketNumber, TransferTarget, WindowDef, WindowNumber, WindowState,
};
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};

/// Midnight starting 2026-03-02 in Asia/Shanghai, in milliseconds since the epoch.
const DAY_ZERO_MIDNIGHT_MS: i64 = 1_772_380_800_000;

const MINUTES_PER_DAY: u32 = 24 * 60;

/// The services a command may name; the last one does not exist.
const SERVICES: [&str; 4] = ["hukou", "id_card", "vehicle", "passport"];

/// The windows a command may name; the last one does not exist.
const WINDOWS: u32 = 4;

fn code(text: &str) -> ServiceCode {
    ServiceCode::parse(text).unwrap()
}

fn win(number: u32) -> WindowNumber {
    WindowNumber::new(number).unwrap()
}

fn service(code_text: &str, prefix: &str) -> Service {
    Service {
        prefix: Prefix::parse(prefix).unwrap(),
        ..service_named(code(code_text))
    }
}

fn service_named(code: ServiceCode) -> Service {
    Service::new(
        code.clone(),
        Prefix::parse("Z").unwrap(),
        format!("{code}业务"),
        format!("{code} business"),
    )
    .with_targets(30, 20)
}

fn window_def(number: u32, services: Vec<ServiceCode>) -> WindowDef {
    WindowDef {
        number: win(number),
        name_zh: format!("{number}号窗口"),
        name_en: format!("Window {number}"),
        services,
        breaks: Vec::new(),
    }
}

/// One thing that happens in the hall; indexes pick from [`SERVICES`] and the windows.
#[derive(Debug, Clone)]
enum Op {
    /// A citizen rates a ticket (of today or an earlier day) from its page, by token.
    RateOwn {
        pick: u64,
        bad: bool,
    },
    Issue {
        service: usize,
        green_channel: bool,
        key: Option<u8>,
        reuse_token: bool,
    },
    CallNext {
        window: u32,
    },
    CallTicket {
        window: u32,
        pick: usize,
        blank_reason: bool,
    },
    Recall {
        window: u32,
    },
    NoShow {
        window: u32,
    },
    Finish {
        window: u32,
    },
    TransferToService {
        window: u32,
        service: usize,
    },
    TransferToWindow {
        window: u32,
        target: u32,
    },
    Open {
        window: u32,
    },
    Close {
        window: u32,
    },
    Pause {
        window: u32,
    },
    Resume {
        window: u32,
    },
    /// Assigns the services whose bits are set, in reverse order if `reversed`.
    Assign {
        window: u32,
        services: u8,
        reversed: bool,
    },
    /// Gives a service the prefix `A` + `letter` (taken prefixes are refused).
    Reprefix {
        service: usize,
        letter: u8,
    },
    Wait {
        minutes: u32,
    },
    /// Jumps to the next morning, and sends a tick there if `tick`.
    NextDay {
        minutes: u32,
        tick: bool,
    },
    /// Books an id_card slot (by index, perhaps one that does not exist) on one of the
    /// bookable days, for one of a few people.
    Book {
        day: usize,
        slot: usize,
        person: u8,
    },
    /// Verifies, cancels or checks in one of the bookings made.
    Verify {
        pick: usize,
    },
    /// Issues a ticket to one of a few known people.
    IssueAs {
        service: usize,
        person: u8,
    },
    Cancel {
        pick: usize,
    },
    CheckIn {
        pick: usize,
        green_channel: bool,
    },
    /// The citizen at a window rates the ticket it finished last, badly (a 差评, which opens a
    /// case) or well.
    Rate {
        window: u32,
        bad: bool,
    },
    /// A supervisor takes a step (0 callback, 1 fix, 2 close) on one of the cases, in any
    /// order: most are refused, and a case must only ever move forward.
    CaseStep {
        pick: usize,
        step: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    // Mostly things that exist, now and then one that does not.
    let window = || prop_oneof![12 => 1..WINDOWS, 1 => Just(WINDOWS)];
    let service = || prop_oneof![12 => 0..SERVICES.len() - 1, 1 => Just(SERVICES.len() - 1)];
    prop_oneof![
        8 => (
            service(),
            prop::bool::weighted(0.25),
            prop::option::weighted(0.2, 0..4u8),
            prop::bool::weighted(0.05),
        )
            .prop_map(|(service, green_channel, key, reuse_token)| Op::Issue {
                service,
                green_channel,
                key,
                reuse_token,
            }),
        7 => window().prop_map(|window| Op::CallNext { window }),
        2 => (any::<u64>(), any::<bool>()).prop_map(|(pick, bad)| Op::RateOwn { pick, bad }),
        2 => (window(), any::<usize>(), prop::bool::weighted(0.1)).prop_map(
            |(window, pick, blank_reason)| Op::CallTicket {
                window,
                pick,
                blank_reason,
            }
        ),
        1 => window().prop_map(|window| Op::Recall { window }),
        1 => window().prop_map(|window| Op::NoShow { window }),
        3 => window().prop_map(|window| Op::Finish { window }),
        2 => (window(), service())
            .prop_map(|(window, service)| Op::TransferToService { window, service }),
        2 => (window(), window())
            .prop_map(|(window, target)| Op::TransferToWindow { window, target }),
        3 => window().prop_map(|window| Op::Open { window }),
        1 => window().prop_map(|window| Op::Close { window }),
        1 => window().prop_map(|window| Op::Pause { window }),
        1 => window().prop_map(|window| Op::Resume { window }),
        1 => (window(), 0..16u8, any::<bool>()).prop_map(|(window, services, reversed)| {
            Op::Assign {
                window,
                services,
                reversed,
            }
        }),
        2 => (service(), 0..4u8).prop_map(|(service, letter)| Op::Reprefix { service, letter }),
        4 => (0..=20u32).prop_map(|minutes| Op::Wait { minutes }),
        1 => (30..=240u32).prop_map(|minutes| Op::Wait { minutes }),
        1 => (0..=120u32, any::<bool>()).prop_map(|(minutes, tick)| Op::NextDay { minutes, tick }),
        2 => (0..3usize, 0..5usize, 0..4u8)
            .prop_map(|(day, slot, person)| Op::Book { day, slot, person }),
        2 => any::<usize>().prop_map(|pick| Op::Verify { pick }),
        2 => (service(), 0..4u8).prop_map(|(service, person)| Op::IssueAs { service, person }),
        1 => any::<usize>().prop_map(|pick| Op::Cancel { pick }),
        3 => (any::<usize>(), prop::bool::weighted(0.2))
            .prop_map(|(pick, green_channel)| Op::CheckIn { pick, green_channel }),
        2 => (window(), prop::bool::weighted(0.6)).prop_map(|(window, bad)| Op::Rate { window, bad }),
        3 => (any::<usize>(), 0..3u8).prop_map(|(pick, step)| Op::CaseStep { pick, step }),
    ]
}

/// The caller's clock: a day count from 2026-03-02 and the minute of that day.
struct Clock {
    day: u32,
    minute: u32,
    date: LocalDate,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            day: 0,
            minute: 8 * 60,
            date: LocalDate::new(2026, 3, 2).unwrap(),
        }
    }

    fn advance(&mut self, minutes: u32) {
        self.minute += minutes;
        while self.minute >= MINUTES_PER_DAY {
            self.minute -= MINUTES_PER_DAY;
            self.day += 1;
            self.date = next_date(self.date);
        }
    }

    /// The instant of a local time on a date on or after the clock's.
    fn instant(&self, date: LocalDate, minute: u16) -> Millis {
        let mut day = self.day;
        let mut walk = self.date;
        while walk < date {
            walk = next_date(walk);
            day += 1;
        }
        let minutes = i64::from(day * MINUTES_PER_DAY + u32::from(minute));
        Millis(DAY_ZERO_MIDNIGHT_MS + minutes * Millis::MINUTE)
    }

    fn now(&self) -> Now {
        let minutes = i64::from(self.day * MINUTES_PER_DAY + self.minute);
        Now {
            at: Millis(DAY_ZERO_MIDNIGHT_MS + minutes * Millis::MINUTE),
            date: self.date,
            time: ClockTime::from_minutes(self.minute as u16).unwrap(),
        }
    }
}

/// The code of the `n`th booking of a run.
fn booking_code(n: u64) -> BookingCode {
    BookingCode::from_random(n.to_le_bytes())
}

fn next_date(date: LocalDate) -> LocalDate {
    LocalDate::new(date.year, date.month, date.day + 1)
        .or_else(|_| LocalDate::new(date.year, date.month + 1, 1))
        .or_else(|_| LocalDate::new(date.year + 1, 1, 1))
        .unwrap()
}

/// The live hall, the fold of everything it emitted, and what the checks remember.
struct Run {
    hall: Hall,
    replayed: Hall,
    /// The read side's fold of the same log.
    history: History,
    /// Every event emitted, with its time: the log.
    log: Vec<(Millis, Event)>,
    clock: Clock,
    tokens: u64,
    bookings: u64,
    numbers: HashMap<LocalDate, HashSet<TicketNumber>>,
}

impl Run {
    /// Services hukou/A (all day), id_card/B (08:00–12:00) and vehicle/C (at most 25 a day);
    /// windows 1 (hukou, id_card), 2 (id_card, hukou) and 3 (vehicle), all open.
    fn start() -> Result<Run, TestCaseError> {
        let mut run = Run {
            hall: Hall::new(),
            replayed: Hall::new(),
            history: History::new(),
            log: Vec::new(),
            clock: Clock::start(),
            tokens: 0,
            bookings: 0,
            numbers: HashMap::new(),
        };
        let mut id_card = service("id_card", "B");
        id_card.hours = Some((
            ClockTime::parse("08:00").unwrap(),
            ClockTime::parse("12:00").unwrap(),
        ));
        let mut vehicle = service("vehicle", "C");
        vehicle.daily_cap = Some(25);
        let mut setup = vec![
            Command::AddService(service("hukou", "A")),
            Command::AddService(id_card),
            Command::AddService(vehicle),
            Command::AddWindow(window_def(1, vec![code("hukou"), code("id_card")])),
            Command::AddWindow(window_def(2, vec![code("id_card"), code("hukou")])),
            Command::AddWindow(window_def(3, vec![code("vehicle")])),
        ];
        setup.extend((1..=3).map(|number| Command::Open {
            window: win(number),
        }));
        setup.push(Command::ConfigureBooking {
            service: code("id_card"),
            settings: Some(BookingSettings {
                slot_min: 60,
                capacities: vec![2, 1, 2, 0],
                days_ahead: 2,
                cancel_before_min: 120,
                check_in_before_min: 30,
                check_in_after_min: 15,
            }),
        });
        for command in setup {
            let result = run.apply(&command)?;
            prop_assert!(result.is_ok(), "setup {command:?} failed: {result:?}");
        }
        Ok(run)
    }

    fn new_token(&mut self) -> String {
        self.tokens += 1;
        format!("token-{:016}", self.tokens)
    }

    /// The command an op stands for, or `None` if the op only moves the clock.
    fn command(&mut self, op: &Op) -> Option<Command> {
        let command = match *op {
            Op::RateOwn { pick, bad } => Command::RateOwnTicket {
                token: format!("token-{:016}", pick % (self.tokens + 1)),
                rating: if bad {
                    jiaohao_core::Rating::VeryDissatisfied
                } else {
                    jiaohao_core::Rating::Satisfied
                },
                reason: bad.then_some(jiaohao_core::RatingReason::Waiting),
            },
            Op::Issue {
                service,
                green_channel,
                key,
                reuse_token,
            } => Command::IssueTicket {
                service: code(SERVICES[service]),
                green_channel,
                token: if reuse_token && self.tokens > 0 {
                    format!("token-{:016}", self.tokens)
                } else {
                    self.new_token()
                },
                idempotency_key: key.map(|key| format!("kiosk-{key}")),
            },
            Op::CallNext { window } => Command::CallNext {
                window: win(window),
            },
            Op::CallTicket {
                window,
                pick,
                blank_reason,
            } => {
                let tickets = self.hall.tickets();
                let number = if tickets.is_empty() {
                    TicketNumber::parse("A999").unwrap()
                } else {
                    tickets[pick % tickets.len()].number
                };
                Command::CallTicket {
                    window: win(window),
                    number,
                    reason: if blank_reason { " " } else { "elderly citizen" }.into(),
                }
            }
            Op::Recall { window } => Command::Recall {
                window: win(window),
            },
            Op::NoShow { window } => Command::NoShow {
                window: win(window),
            },
            Op::Finish { window } => Command::finish(win(window)),
            Op::TransferToService { window, service } => Command::Transfer {
                window: win(window),
                to: TransferTarget::Service(code(SERVICES[service])),
            },
            Op::TransferToWindow { window, target } => Command::Transfer {
                window: win(window),
                to: TransferTarget::Window(win(target)),
            },
            Op::Open { window } => Command::Open {
                window: win(window),
            },
            Op::Close { window } => Command::Close {
                window: win(window),
                reason: None,
            },
            Op::Pause { window } => Command::Pause {
                window: win(window),
                reason: "lunch".into(),
            },
            Op::Resume { window } => Command::Resume {
                window: win(window),
            },
            Op::Assign {
                window,
                services,
                reversed,
            } => {
                let mut codes: Vec<ServiceCode> = SERVICES
                    .iter()
                    .enumerate()
                    .filter(|(bit, _)| services & (1 << bit) != 0)
                    .map(|(_, text)| code(text))
                    .collect();
                if reversed {
                    codes.reverse();
                }
                Command::UpdateWindow(window_def(window, codes))
            }
            Op::Reprefix { service, letter } => {
                let code = code(SERVICES[service]);
                let mut changed = match self.hall.service(&code) {
                    Some(known) => known.clone(),
                    None => service_named(code),
                };
                changed.prefix = Prefix::parse(&char::from(b'A' + letter).to_string()).unwrap();
                Command::UpdateService(changed)
            }
            Op::Wait { minutes } => {
                self.clock.advance(minutes);
                return None;
            }
            Op::NextDay { minutes, tick } => {
                self.clock
                    .advance(MINUTES_PER_DAY - self.clock.minute + 7 * 60 + minutes);
                if !tick {
                    return None;
                }
                Command::Tick
            }
            Op::Book { day, slot, person } => {
                let id_card = code("id_card");
                let days = self
                    .hall
                    .bookable_days(&id_card, self.clock.now())
                    .unwrap_or_default();
                let date = days.get(day).copied().unwrap_or(self.clock.date);
                let start = ClockTime::from_minutes(8 * 60 + 60 * slot as u16).unwrap();
                self.bookings += 1;
                Command::Book {
                    code: booking_code(self.bookings),
                    service: id_card,
                    date,
                    start,
                    starts_at: self.clock.instant(date, start.minutes()),
                    person: PersonKey::parse(&format!("{person:02x}").repeat(16)).unwrap(),
                    masked_id: "1101**********002X".into(),
                }
            }
            Op::IssueAs { service, person } => Command::IssueForPerson {
                service: code(SERVICES[service]),
                green_channel: false,
                token: self.new_token(),
                idempotency_key: None,
                person: PersonKey::parse(&format!("{person:02x}").repeat(16)).unwrap(),
            },
            Op::Verify { pick } => Command::VerifyBooking {
                code: booking_code(pick as u64 % (self.bookings + 1)),
            },
            Op::Cancel { pick } => Command::CancelBooking {
                code: booking_code(pick as u64 % (self.bookings + 1)),
            },
            Op::CheckIn {
                pick,
                green_channel,
            } => Command::CheckIn {
                code: booking_code(pick as u64 % (self.bookings + 1)),
                green_channel,
                token: self.new_token(),
            },
            Op::Rate { window, bad } => Command::RateTicket {
                window: win(window),
                number: self
                    .hall
                    .last_finished(win(window))
                    .map_or(TicketNumber::parse("A001").unwrap(), |t| t.number),
                rating: if bad {
                    Rating::VeryDissatisfied
                } else {
                    Rating::Satisfied
                },
                reason: bad.then_some(RatingReason::Attitude),
            },
            Op::CaseStep { pick, step } => {
                let ids: Vec<TicketId> = self.hall.registry().cases.keys().copied().collect();
                let case = ids
                    .get(pick % (ids.len() + 1))
                    .copied()
                    .unwrap_or(TicketId(999_999));
                let by = "supervisor".to_owned();
                match step {
                    0 => Command::CallBackCase {
                        case,
                        note: "已电话回访".into(),
                        by,
                    },
                    1 => Command::FixCase {
                        case,
                        fix: "已整改".into(),
                        by,
                    },
                    _ => Command::CloseCase { case, by },
                }
            }
        };
        Some(command)
    }

    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let Some(command) = self.command(op) else {
            return Ok(());
        };
        let before = matches!(command, Command::CallNext { .. }).then(|| self.hall.clone());
        let cases_before = self.hall.registry().cases.clone();
        let result = self.apply(&command)?;
        check_cases_forward(&cases_before, &self.hall, &self.history)?;
        if let (Command::CallNext { window }, Some(before), Ok(events)) =
            (&command, &before, &result)
            && !events
                .iter()
                .any(|event| matches!(event, Event::TicketCalled { .. }))
        {
            check_nothing_waits_for(before, *window)?;
        }
        Ok(())
    }

    /// Applies a command to the live hall and folds its events into the replayed one,
    /// checking each event as it is folded and the whole state afterwards.
    fn apply(
        &mut self,
        command: &Command,
    ) -> Result<Result<Vec<Event>, jiaohao_core::Error>, TestCaseError> {
        let now = self.clock.now();
        let before = self.hall.clone();
        let result = self.hall.apply(command, now);
        match &result {
            Err(error) => {
                prop_assert!(
                    self.hall == before,
                    "{command:?} was refused ({error}) but changed the state"
                );
            }
            Ok(events) => {
                for event in events {
                    match event {
                        Event::TicketIssued { number, .. } => {
                            let fresh = self.numbers.entry(now.date).or_default().insert(*number);
                            prop_assert!(fresh, "{number} was issued twice on {}", now.date);
                        }
                        Event::TicketCalled {
                            id,
                            window,
                            recall: false,
                            out_of_order: None,
                        } => {
                            check_called_in_order(&self.replayed, *id)?;
                            check_hub_bounds(&self.replayed, *id, *window)?;
                        }
                        _ => {}
                    }
                    self.replayed.evolve(event, now.at);
                    self.history.fold(event, now.at, "test", |_| {});
                    self.log.push((now.at, event.clone()));
                }
            }
        }
        self.check_state(command)?;
        check_history(&self.hall, &self.history)?;
        Ok(result)
    }

    fn check_state(&self, command: &Command) -> Result<(), TestCaseError> {
        let hall = &self.hall;
        if let Err(broken) = hall.check_invariants() {
            return Err(TestCaseError::fail(format!("after {command:?}: {broken}")));
        }
        check_slot_capacity(hall, self.clock.now().at)?;
        let mut holders: HashMap<TicketId, WindowNumber> = HashMap::new();
        for window in hall.windows() {
            if let Some(id) = window.serving()
                && let Some(other) = holders.insert(id, window.number())
            {
                return Err(TestCaseError::fail(format!(
                    "after {command:?}: ticket {id:?} is held by windows {other} and {}",
                    window.number()
                )));
            }
        }
        prop_assert!(
            self.replayed == *hall,
            "after {command:?}: the fold of the log differs from the live state"
        );
        let mut codes: BTreeSet<ServiceCode> =
            hall.services().iter().map(|s| s.code.clone()).collect();
        codes.extend(hall.tickets().iter().map(|t| t.service.clone()));
        for code in &codes {
            let waiting = hall
                .tickets()
                .iter()
                .filter(|t| t.status.is_queued() && t.pinned_window.is_none() && &t.service == code)
                .count();
            prop_assert_eq!(
                hall.queues().waiting_for_service(code),
                waiting,
                "after {:?}: waiting for {}",
                command,
                code
            );
        }
        for number in 1..=WINDOWS {
            let pinned = hall
                .tickets()
                .iter()
                .filter(|t| t.status.is_queued() && t.pinned_window == Some(win(number)))
                .count();
            prop_assert_eq!(hall.queues().pinned_to(win(number)), pinned);
        }
        Ok(())
    }
}

/// No slot holds more bookings (verified, checked in, or unverified and not yet lapsed) than
/// its capacity (the run never lowers a capacity once set).
fn check_slot_capacity(hall: &Hall, now: Millis) -> Result<(), TestCaseError> {
    let registry = hall.registry();
    let mut held: HashMap<(&ServiceCode, LocalDate, ClockTime), u32> = HashMap::new();
    for booking in registry.bookings.values() {
        if registry.status(booking, now).holds_place() {
            *held
                .entry((&booking.service, booking.date, booking.start))
                .or_default() += 1;
        }
    }
    for ((service, date, start), count) in held {
        let (Some(settings), Some(definition)) =
            (registry.settings(service), hall.service(service))
        else {
            continue;
        };
        let slots = jiaohao_core::booking::slots_of(definition, settings.slot_min)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let index = slots.iter().position(|slot| slot.start == start);
        let capacity = index.map_or(0, |index| settings.capacities[index]);
        prop_assert!(
            count <= capacity,
            "the {} slot of {} on {} holds {} bookings, its capacity is {}",
            start,
            service,
            date,
            count,
            capacity
        );
    }
    Ok(())
}

/// Checks that the history tells each of today's tickets and each window as the hall has
/// them: number, issue time, service (after transfers), first call, rating and activity.
fn check_history(hall: &Hall, history: &History) -> Result<(), TestCaseError> {
    for ticket in hall.tickets() {
        let Some(life) = history.ticket(ticket.id) else {
            return Err(TestCaseError::fail(format!(
                "the history lacks {}",
                ticket.number
            )));
        };
        prop_assert_eq!(life.number, ticket.number);
        prop_assert_eq!(life.issued_at, ticket.issued_at);
        prop_assert_eq!(life.queue_time, ticket.queue_time);
        prop_assert_eq!(&life.booking, &ticket.booking);
        prop_assert_eq!(
            &life.service,
            &ticket.service,
            "service of {}",
            ticket.number
        );
        prop_assert_eq!(life.green_channel, ticket.green_channel);
        let first_call = life.first_call.as_ref().map(|call| call.at);
        prop_assert_eq!(
            first_call,
            ticket.first_called_at,
            "first call of {}",
            ticket.number
        );
        prop_assert_eq!(life.rating, ticket.rating.map(|r| r.rating));
    }
    for window in hall.windows() {
        let expected = match &window.state {
            WindowState::Closed => Activity::Closed { reason: None },
            WindowState::Open => Activity::Open,
            WindowState::Serving { .. } => Activity::Serving,
            WindowState::Paused { reason } => Activity::Paused {
                reason: reason.clone(),
                actor: "test".into(),
            },
        };
        let told = history
            .activity(window.number())
            .map_or(Activity::Closed { reason: None }, |(activity, _)| {
                activity.clone()
            });
        prop_assert_eq!(told, expected, "window {}", window.number());
    }
    Ok(())
}

/// A ticket called in order (neither out of order nor a recall, and not pinned to the window)
/// may pass no ticket of its own service and class that waited longer.
fn check_called_in_order(hall: &Hall, id: TicketId) -> Result<(), TestCaseError> {
    let Some(ticket) = hall.ticket(id) else {
        return Err(TestCaseError::fail(format!(
            "an unknown ticket {id:?} was called"
        )));
    };
    prop_assert!(
        ticket.status.is_queued(),
        "{} was called while {}",
        ticket.number,
        ticket.status.as_str()
    );
    if ticket.pinned_window.is_some() {
        return Ok(());
    }
    let passed = hall.tickets().iter().find(|other| {
        other.status.is_queued()
            && other.pinned_window.is_none()
            && other.service == ticket.service
            && other.green_channel == ticket.green_channel
            && other.queue_key() < ticket.queue_key()
    });
    if let Some(passed) = passed {
        return Err(TestCaseError::fail(format!(
            "{} was called in order although {} of the same queue waited longer",
            ticket.number, passed.number
        )));
    }
    Ok(())
}

/// The hub's rule keeps its bounds: a green-channel call after [`GREEN_STREAK_LIMIT`] green
/// calls in a row passes no normal ticket the window may serve that waited longer (the
/// starvation guard), and a normal call was issued at most [`NEAR_TIE_MS`] after the
/// longest-waiting normal ticket the window may serve.
fn check_hub_bounds(hall: &Hall, id: TicketId, window: WindowNumber) -> Result<(), TestCaseError> {
    let (Some(ticket), Some(caller)) = (hall.ticket(id), hall.window(window)) else {
        return Err(TestCaseError::fail(format!(
            "unknown ticket {id:?} or window {window}"
        )));
    };
    if ticket.pinned_window.is_some() {
        return Ok(());
    }
    let longest_normal = hall
        .tickets()
        .iter()
        .filter(|t| {
            t.status.is_queued()
                && !t.green_channel
                && t.pinned_window.is_none()
                && caller.def.services.contains(&t.service)
        })
        .map(|t| t.queue_key())
        .min();
    let Some(longest_normal) = longest_normal else {
        return Ok(());
    };
    if ticket.green_channel {
        prop_assert!(
            caller.consecutive_green < GREEN_STREAK_LIMIT || ticket.queue_key() < longest_normal,
            "window {window} made green call number {} in a row with {} while a normal ticket \
             waited longer",
            caller.consecutive_green + 1,
            ticket.number
        );
    } else {
        prop_assert!(
            ticket.queue_time.since(longest_normal.0) <= NEAR_TIE_MS,
            "window {window} called {} more than the near-tie bound after the longest wait",
            ticket.number
        );
    }
    Ok(())
}

/// After a call-next that called no one, nothing the window may serve was waiting.
fn check_nothing_waits_for(before: &Hall, window: WindowNumber) -> Result<(), TestCaseError> {
    let Some(found) = before.window(window) else {
        return Err(TestCaseError::fail(format!(
            "unknown window {window} could call"
        )));
    };
    prop_assert!(
        matches!(found.state, WindowState::Open | WindowState::Serving { .. }),
        "window {window} called while {}",
        found.state.as_str()
    );
    let caller = Caller {
        window,
        services: &found.def.services,
        consecutive_green: found.consecutive_green,
    };
    prop_assert_eq!(dispatch::choose(before.queues(), caller), None);
    let servable = before.tickets().iter().find(|t| {
        t.status.is_queued()
            && match t.pinned_window {
                Some(pinned) => pinned == window,
                None => found.def.services.contains(&t.service),
            }
    });
    if let Some(ticket) = servable {
        return Err(TestCaseError::fail(format!(
            "window {window} called no one while {} waited for it",
            ticket.number
        )));
    }
    Ok(())
}

/// The projection reaches exactly the tickets a working window may serve, keeps each queue's
/// order, and puts a new ticket behind the normal tickets of its service.
fn check_projection(hall: &Hall, now: Now) -> Result<(), TestCaseError> {
    let projection = Projection::of(hall, now);
    let working: Vec<_> = hall.windows().filter(|w| w.state.is_working()).collect();
    let waiting: Vec<_> = hall
        .tickets()
        .iter()
        .filter(|t| t.status.is_queued())
        .collect();
    for ticket in &waiting {
        let reachable = working.iter().any(|w| match ticket.pinned_window {
            Some(pinned) => pinned == w.number(),
            None => w.def.services.contains(&ticket.service),
        });
        prop_assert_eq!(
            projection.wait_ms(ticket.id).is_some(),
            reachable,
            "projection of {}",
            ticket.number
        );
    }
    for first in waiting.iter().filter(|t| t.pinned_window.is_none()) {
        for second in waiting.iter().filter(|t| {
            t.pinned_window.is_none()
                && t.service == first.service
                && t.green_channel == first.green_channel
                && t.queue_key() > first.queue_key()
        }) {
            if let (Some(a), Some(b)) =
                (projection.wait_ms(first.id), projection.wait_ms(second.id))
            {
                prop_assert!(
                    a <= b,
                    "{} is projected after {}",
                    first.number,
                    second.number
                );
            }
        }
    }
    for service in hall.services() {
        let reachable = working
            .iter()
            .any(|w| w.def.services.contains(&service.code));
        let new_wait = projection.new_ticket_wait_ms(&service.code);
        prop_assert_eq!(
            new_wait.is_some(),
            reachable,
            "new ticket of {}",
            service.code
        );
        for ticket in waiting
            .iter()
            .filter(|t| t.pinned_window.is_none() && !t.green_channel && t.service == service.code)
        {
            if let (Some(new_wait), Some(wait)) = (new_wait, projection.wait_ms(ticket.id)) {
                prop_assert!(
                    wait <= new_wait,
                    "a new {} ticket passes {}",
                    service.code,
                    ticket.number
                );
            }
        }
    }
    Ok(())
}

/// Every case there was is still there, in the same state or a later one, with its earlier
/// steps unchanged; the read side's history has every case exactly as the hall has it.
fn check_cases_forward(
    before: &std::collections::BTreeMap<TicketId, Case>,
    hall: &Hall,
    history: &History,
) -> Result<(), TestCaseError> {
    let cases = &hall.registry().cases;
    for (id, earlier) in before {
        let Some(now) = cases.get(id) else {
            return Err(TestCaseError::fail(format!("case {} disappeared", id.0)));
        };
        prop_assert!(
            now.state() >= earlier.state(),
            "case {} went back from {:?} to {:?}",
            id.0,
            earlier.state(),
            now.state()
        );
        for (was, is) in [
            (&earlier.called_back, &now.called_back),
            (&earlier.fixed, &now.fixed),
            (&earlier.closed, &now.closed),
        ] {
            if was.is_some() {
                prop_assert_eq!(was, is, "a step of case {} changed", id.0);
            }
        }
    }
    for case in cases.values() {
        prop_assert!(
            case.rating.is_bad(),
            "case {} of a good rating",
            case.ticket.0
        );
        prop_assert!(
            case.due > case.date,
            "case {} due on its own day",
            case.ticket.0
        );
        // Steps need the one before: none is skipped.
        prop_assert!(case.closed.is_none() || case.fixed.is_some());
        prop_assert!(case.fixed.is_none() || case.called_back.is_some());
        prop_assert_eq!(history.case(case.ticket), Some(case));
    }
    prop_assert_eq!(history.cases().count(), cases.len());
    Ok(())
}

/// At every day start of the log: the snapshot taken just before it (as the hub takes it)
/// restores exactly the hall after it, and folding the rest of the log onto that gives the
/// live hall. Returns how many day starts were checked.
fn check_day_start_snapshots(run: &Run) -> Result<usize, TestCaseError> {
    let mut before = Hall::new();
    let mut day_starts = 0;
    for (index, (at, event)) in run.log.iter().enumerate() {
        if let Event::DayStarted { date } = event {
            day_starts += 1;
            let snapshot: HallSnapshot = before.day_start_snapshot(*date, *at);
            let mut after = before.clone();
            after.evolve(event, *at);
            let mut restored = Hall::from_snapshot(&snapshot);
            prop_assert!(
                restored == after,
                "the snapshot of the day start at event {index} restores another hall"
            );
            for (at, event) in &run.log[index + 1..] {
                restored.evolve(event, *at);
            }
            prop_assert!(
                restored == run.hall,
                "the hall restored from the day start at event {index} and folded forward \
                 differs from the live hall"
            );
        }
        before.evolve(event, *at);
    }
    Ok(day_starts)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_day_start_snapshot_folds_forward_to_the_hall_of_the_whole_log(
        ops in prop::collection::vec(op(), 1..300),
        extra_days in 1..4u32,
    ) {
        let mut run = Run::start()?;
        for op in &ops {
            run.step(op)?;
        }
        // A few more days (with an admin change on each) so every case spans several.
        for day in 0..extra_days {
            // A booking made today and checked in on its day crosses a day start.
            run.step(&Op::Book { day: 0, slot: 2, person: 9 + day as u8 })?;
            run.step(&Op::Verify { pick: run.bookings as usize })?;
            let booked = run.bookings as usize;
            run.step(&Op::NextDay { minutes: 30, tick: day % 2 == 0 })?;
            run.step(&Op::Wait { minutes: 120 })?;
            run.step(&Op::CheckIn { pick: booked, green_channel: false })?;
            run.step(&Op::Reprefix { service: day as usize % 3, letter: day as u8 })?;
            run.step(&Op::Open { window: 1 })?;
            run.step(&Op::Issue { service: 0, green_channel: false, key: None, reuse_token: false })?;
            run.step(&Op::CallNext { window: 1 })?;
            run.step(&Op::Finish { window: 1 })?;
            run.step(&Op::Rate { window: 1, bad: true })?;
            run.step(&Op::CaseStep { pick: day as usize, step: 0 })?;
        }
        let day_starts = check_day_start_snapshots(&run)?;
        prop_assert!(day_starts > usize::try_from(extra_days).unwrap());
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        // Keep failing cases beside this file, as `properties.regressions`.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_days_keep_the_hall_consistent(ops in prop::collection::vec(op(), 1..200)) {
        let mut run = Run::start()?;
        for (index, op) in ops.iter().enumerate() {
            run.step(op)?;
            if index % 16 == 15 {
                check_projection(&run.hall, run.clock.now())?;
            }
        }
        check_projection(&run.hall, run.clock.now())?;
    }
}
