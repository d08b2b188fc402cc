//! The read side's one fold of the log: how the hall's past went, for reports, the audit trail
//! and the simulator's replay.
//!
//! [`Hall::evolve`](crate::Hall::evolve) folds the log into the hall as it stands now, and
//! forgets a day when the next one starts. A [`History`] folds the same events, with their
//! times and actors, into how things went: each ticket's issue, calls and departure, each
//! window's spans of open, serving, paused and closed time, and the service definitions in
//! force when each ticket was issued. While it folds it tells its caller what each event meant
//! as a [`Fact`], so a report adds facts up instead of reading events a second time.
//!
//! It trusts the log: events come from [`Hall::apply`](crate::Hall::apply), so a window calls
//! only while open and a ticket is called only after it was issued. An event about a ticket
//! the history never saw issued (the log was read from the middle) moves its window but
//! tells nothing about the ticket.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::absence::Absence;
use crate::booking::BookingCode;
use crate::case::Case;
use crate::event::{Event, TransferTarget};
use crate::hall::HallSettings;
use crate::identity::PersonKey;
use crate::ids::{ServiceCode, TicketId, TicketNumber, WindowNumber};
use crate::outcome::Outcome;
use crate::rating::Rating;
use crate::service::Service;
use crate::time::Millis;
use crate::window::WindowDef;

/// The hall's configuration as the log defined it so far, keeping what was removed since: a
/// report still names a service removed last week by its last definition.
#[derive(Debug, Clone, Default)]
pub struct Definitions {
    settings: HallSettings,
    /// Codes in the order they were first defined.
    order: Vec<ServiceCode>,
    /// The latest definition of every service ever defined.
    services: HashMap<ServiceCode, Arc<Service>>,
    live_services: BTreeSet<ServiceCode>,
    /// The latest definition of every window ever defined.
    windows: BTreeMap<WindowNumber, WindowDef>,
    live_windows: BTreeSet<WindowNumber>,
}

impl Definitions {
    /// The hall's settings as last configured (the defaults before any).
    pub fn settings(&self) -> &HallSettings {
        &self.settings
    }

    /// The latest definition of a service, even if it was removed since.
    pub fn service(&self, code: &ServiceCode) -> Option<&Service> {
        self.services.get(code).map(Arc::as_ref)
    }

    /// Every service ever defined, as last defined, in the order they were first defined.
    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.order.iter().filter_map(|code| self.service(code))
    }

    /// Whether the service is defined and not removed.
    pub fn is_live(&self, code: &ServiceCode) -> bool {
        self.live_services.contains(code)
    }

    /// The services defined and not removed, in the order of their codes.
    pub fn live_services(&self) -> impl Iterator<Item = &Service> {
        self.live_services
            .iter()
            .filter_map(|code| self.service(code))
    }

    /// The latest definition of a window, even if it was removed since.
    pub fn window(&self, number: WindowNumber) -> Option<&WindowDef> {
        self.windows.get(&number)
    }

    /// The definition of a window that is defined and not removed.
    pub fn live_window(&self, number: WindowNumber) -> Option<&WindowDef> {
        self.live_windows
            .contains(&number)
            .then(|| self.windows.get(&number))
            .flatten()
    }
}

/// A call of a ticket to a window (recalls are not counted as calls).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallMark {
    pub at: Millis,
    pub window: WindowNumber,
    /// Who called, as the log names them.
    pub actor: String,
}

/// How a ticket left a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Departure {
    /// Finished, with how the visit ended.
    Finished(Outcome),
    NoShow,
    Transferred(TransferTarget),
}

/// When and where a ticket left a window, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departed {
    pub at: Millis,
    pub window: WindowNumber,
    pub how: Departure,
}

/// One ticket's life as the log tells it.
#[derive(Debug, Clone)]
pub struct TicketLife {
    pub id: TicketId,
    pub number: TicketNumber,
    pub issued_at: Millis,
    /// What its queue ordered it by: the issue time, or a checked-in booking's slot start
    /// (or its check-in, if late).
    pub queue_time: Millis,
    /// The booking whose check-in issued it.
    pub booking: Option<BookingCode>,
    pub green_channel: bool,
    /// The service the ticket was issued for.
    pub issued_service: ServiceCode,
    /// That service as it was defined when the ticket was issued (`None` if the log had not
    /// defined it); later changes to its targets do not rejudge old tickets.
    pub issued_definition: Option<Arc<Service>>,
    /// The service the ticket is in now: the issued one until a transfer moves it.
    pub service: ServiceCode,
    pub first_call: Option<CallMark>,
    /// How many tickets of the history had their first call before this one did.
    pub first_call_order: Option<u64>,
    pub last_call: Option<CallMark>,
    /// How many of its calls were out of order (选号).
    pub out_of_order_calls: u32,
    /// The first time it left a window (a transfer, then perhaps a finish elsewhere).
    pub first_departure: Option<Departed>,
    pub rating: Option<Rating>,
    /// The person it was issued to, where known (an ID-card kiosk, a booking's check-in).
    pub person: Option<PersonKey>,
    /// For a known person: whether this ticket opened their matter of its service (`true`), or
    /// the person came back for a matter not yet done on an earlier ticket within
    /// [`MATTER_DAYS`] (`false`).
    pub first_visit: Option<bool>,
}

/// How long a person's matter stays open for their next ticket of the same service: a visit
/// within this many days of the matter's first ticket, while it is not done, is a repeat visit.
pub const MATTER_DAYS: i64 = 30;

/// A person's matter of one service: when its first ticket was issued, and whether it is done.
#[derive(Debug, Clone, Copy)]
struct Matter {
    opened_at: Millis,
    done: bool,
}

impl TicketLife {
    /// How long the ticket waited from its queue time to its first call: a walk-in from its
    /// issue, a booking from the later of its slot start and its check-in.
    pub fn wait_ms(&self) -> Option<i64> {
        self.first_call
            .as_ref()
            .map(|call| call.at.since(self.queue_time).max(0))
    }

    /// The issued service's wait target when the ticket was issued.
    pub fn wait_target_min(&self) -> Option<u32> {
        self.issued_definition
            .as_ref()
            .map(|service| service.wait_target_min)
    }
}

/// What a window was doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activity {
    /// Closed: by a clerk or admin with the reason given (`None`: none given, or closed by
    /// the day's start or before the window first opened).
    Closed {
        reason: Option<Absence>,
    },
    /// Open and idle.
    Open,
    Serving,
    /// Paused, with the reason given and who paused it.
    Paused {
        reason: Absence,
        actor: String,
    },
}

impl Activity {
    /// Whether a clerk was at the window calling (idle or serving).
    pub fn is_staffed(&self) -> bool {
        matches!(self, Activity::Open | Activity::Serving)
    }
}

/// A stretch of time a window spent doing one thing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSpan {
    pub window: WindowNumber,
    pub activity: Activity,
    pub from: Millis,
    pub to: Millis,
}

impl WindowSpan {
    /// The span's length in milliseconds (never negative).
    pub fn length_ms(&self) -> i64 {
        self.to.since(self.from).max(0)
    }
}

/// What one folded event meant, as the history tells it.
#[derive(Debug)]
pub enum Fact<'a> {
    /// A service was defined or redefined.
    ServiceDefined(&'a Service),
    Issued(&'a TicketLife),
    /// A ticket was called to a window (not a recall); `first` on its first call.
    Called {
        ticket: &'a TicketLife,
        window: WindowNumber,
        actor: &'a str,
        first: bool,
        /// The clerk's reason when the call was out of order.
        out_of_order: Option<&'a str>,
    },
    /// A ticket left a window. The ticket is as it was at the window: a transfer to another
    /// service moves it there after this fact.
    Departed {
        ticket: &'a TicketLife,
        window: WindowNumber,
        actor: &'a str,
        how: &'a Departure,
        /// From its last call to now, if it was called.
        handled_ms: Option<i64>,
    },
    Rated {
        ticket: &'a TicketLife,
        window: WindowNumber,
        rating: Rating,
    },
    /// A window began an activity, while it had the definition given (`None` if it was not
    /// defined then).
    WindowEntered {
        window: WindowNumber,
        activity: &'a Activity,
        at: Millis,
        def: Option<&'a WindowDef>,
    },
    /// A window ended an activity.
    WindowSpan(&'a WindowSpan),
    /// A 差评 case was opened or took a step; the case as it stands after it.
    Case(&'a Case),
}

/// The fold of the log for the read side; see the module's documentation.
#[derive(Debug, Clone, Default)]
pub struct History {
    definitions: Definitions,
    /// Every ticket in issue order.
    tickets: Vec<TicketLife>,
    index: HashMap<TicketId, usize>,
    /// What each window seen doing anything is doing, and since when.
    windows: BTreeMap<WindowNumber, (Activity, Millis)>,
    first_calls: u64,
    /// Every 差评 case, by id, as it stands after the events folded: a step taken a week
    /// later changes the case of the day it was rated on.
    cases: BTreeMap<TicketId, Case>,
    /// Each known person's latest matter per service.
    matters: HashMap<(PersonKey, ServiceCode), Matter>,
}

impl History {
    pub fn new() -> History {
        History::default()
    }

    pub fn definitions(&self) -> &Definitions {
        &self.definitions
    }

    /// Every ticket issued in the folded log, in issue order.
    pub fn tickets(&self) -> &[TicketLife] {
        &self.tickets
    }

    pub fn ticket(&self, id: TicketId) -> Option<&TicketLife> {
        self.index.get(&id).map(|&i| &self.tickets[i])
    }

    /// Every case opened in the folded log, by id (the ticket's id).
    pub fn cases(&self) -> impl Iterator<Item = &Case> {
        self.cases.values()
    }

    pub fn case(&self, id: TicketId) -> Option<&Case> {
        self.cases.get(&id)
    }

    /// How many tickets have had their first call so far.
    pub fn first_calls(&self) -> u64 {
        self.first_calls
    }

    /// What a window is doing and since when, if it has done anything in the folded log.
    pub fn activity(&self, window: WindowNumber) -> Option<(&Activity, Millis)> {
        self.windows
            .get(&window)
            .map(|(activity, since)| (activity, *since))
    }

    /// Folds one event that happened at `at`, done by `actor`, telling `on` what it meant.
    pub fn fold(&mut self, event: &Event, at: Millis, actor: &str, mut on: impl FnMut(Fact<'_>)) {
        match event {
            Event::DayStarted { .. } => self.close_windows(at, on),
            Event::HallConfigured(settings) => self.definitions.settings = settings.clone(),
            // The calendar decides whether tickets are issued, not how one is judged.
            Event::CalendarConfigured(_) => {}
            Event::ServiceDefined(service) => {
                let defs = &mut self.definitions;
                if !defs.services.contains_key(&service.code) {
                    defs.order.push(service.code.clone());
                }
                defs.services
                    .insert(service.code.clone(), Arc::new(service.clone()));
                defs.live_services.insert(service.code.clone());
                on(Fact::ServiceDefined(service));
            }
            Event::ServiceRemoved { code } => {
                self.definitions.live_services.remove(code);
            }
            Event::WindowDefined(def) => {
                self.definitions.windows.insert(def.number, def.clone());
                self.definitions.live_windows.insert(def.number);
                // A new window starts closed.
                if !self.windows.contains_key(&def.number) {
                    self.enter(def.number, Activity::Closed { reason: None }, at, &mut on);
                }
            }
            Event::WindowRemoved { number } => {
                self.definitions.live_windows.remove(number);
            }
            Event::TicketIssued {
                id,
                number,
                service,
                green_channel,
                ..
            } => {
                self.index.insert(*id, self.tickets.len());
                self.tickets.push(TicketLife {
                    id: *id,
                    number: *number,
                    issued_at: at,
                    queue_time: at,
                    booking: None,
                    green_channel: *green_channel,
                    issued_service: service.clone(),
                    issued_definition: self.definitions.services.get(service).cloned(),
                    service: service.clone(),
                    first_call: None,
                    first_call_order: None,
                    last_call: None,
                    out_of_order_calls: 0,
                    first_departure: None,
                    rating: None,
                    person: None,
                    first_visit: None,
                });
                if let Some(ticket) = self.tickets.last() {
                    on(Fact::Issued(ticket));
                }
            }
            // A recall (重呼) repeats the call of the ticket being served: nothing changes.
            Event::TicketCalled { recall: true, .. } => {}
            Event::TicketCalled {
                id,
                window,
                recall: false,
                out_of_order,
            } => {
                self.enter(*window, Activity::Serving, at, &mut on);
                let Some(&i) = self.index.get(id) else { return };
                let ticket = &mut self.tickets[i];
                let call = CallMark {
                    at,
                    window: *window,
                    actor: actor.to_owned(),
                };
                let first = ticket.first_call.is_none();
                if first {
                    ticket.first_call = Some(call.clone());
                    ticket.first_call_order = Some(self.first_calls);
                    self.first_calls += 1;
                }
                ticket.last_call = Some(call);
                ticket.out_of_order_calls += u32::from(out_of_order.is_some());
                on(Fact::Called {
                    ticket,
                    window: *window,
                    actor,
                    first,
                    out_of_order: out_of_order.as_deref(),
                });
            }
            Event::TicketFinished {
                id,
                window,
                outcome,
            } => {
                let how = Departure::Finished(outcome.clone());
                self.depart(*id, *window, how, at, actor, on)
            }
            Event::TicketNoShow { id, window } => {
                self.depart(*id, *window, Departure::NoShow, at, actor, on)
            }
            Event::TicketTransferred { id, window, to } => {
                let how = Departure::Transferred(to.clone());
                self.depart(*id, *window, how, at, actor, on)
            }
            Event::TicketRated {
                id, window, rating, ..
            } => {
                let Some(&i) = self.index.get(id) else { return };
                let ticket = &mut self.tickets[i];
                ticket.rating = Some(*rating);
                on(Fact::Rated {
                    ticket,
                    window: *window,
                    rating: *rating,
                });
            }
            Event::WindowOpened { window } | Event::WindowResumed { window } => {
                self.enter(*window, Activity::Open, at, &mut on)
            }
            Event::BookingCheckedIn {
                code,
                ticket,
                queue_time,
            } => {
                let Some(&i) = self.index.get(ticket) else {
                    return;
                };
                self.tickets[i].queue_time = *queue_time;
                self.tickets[i].booking = Some(code.clone());
            }
            Event::TicketHolder { ticket, person } => {
                let Some(&i) = self.index.get(ticket) else {
                    return;
                };
                let life = &mut self.tickets[i];
                let key = (person.clone(), life.issued_service.clone());
                let repeat = self.matters.get(&key).is_some_and(|matter| {
                    !matter.done
                        && life.issued_at.since(matter.opened_at)
                            <= MATTER_DAYS * 24 * 60 * Millis::MINUTE
                });
                if !repeat {
                    let opened = Matter {
                        opened_at: life.issued_at,
                        done: false,
                    };
                    self.matters.insert(key, opened);
                }
                life.person = Some(person.clone());
                life.first_visit = Some(!repeat);
            }
            // Bookings live in the hall's registry; a report meets them through their tickets.
            Event::BookingConfigured { .. }
            | Event::BookingMade { .. }
            | Event::BookingVerified { .. }
            | Event::BookingCancelled { .. } => {}
            Event::CaseOpened { .. } => {
                if let Some(case) = Case::opened_by(event, at) {
                    let case = self.cases.entry(case.ticket).or_insert(case);
                    on(Fact::Case(case));
                }
            }
            Event::CaseCalledBack { .. } | Event::CaseFixed { .. } | Event::CaseClosed { .. } => {
                if let Some((id, to, step)) = Case::step_of(event, at)
                    && let Some(case) = self.cases.get_mut(&id)
                    && case.fold_step(to, step)
                {
                    on(Fact::Case(case));
                }
            }
            Event::WindowClosed { window, reason } => {
                let activity = Activity::Closed {
                    reason: reason.clone(),
                };
                self.enter(*window, activity, at, &mut on)
            }
            Event::WindowPaused { window, reason } => {
                let activity = Activity::Paused {
                    reason: reason.clone(),
                    actor: actor.to_owned(),
                };
                self.enter(*window, activity, at, &mut on)
            }
        }
    }

    /// Closes every window at `at`, ending what each was doing: what a new day does, and what
    /// a reader does at the end of the stretch it reads.
    pub fn close_windows(&mut self, at: Millis, mut on: impl FnMut(Fact<'_>)) {
        // Every window doing something, and every defined window too: a window the history
        // has not seen act yet (it read from the middle of the log) is closed from here on.
        let windows: BTreeSet<WindowNumber> = self
            .windows
            .keys()
            .chain(&self.definitions.live_windows)
            .copied()
            .collect();
        for window in windows {
            self.enter(window, Activity::Closed { reason: None }, at, &mut on);
        }
    }

    /// Moves a window to a new activity at `at`, ending the one before.
    fn enter(
        &mut self,
        window: WindowNumber,
        activity: Activity,
        at: Millis,
        on: &mut impl FnMut(Fact<'_>),
    ) {
        if let Some((previous, since)) = self.windows.insert(window, (activity, at)) {
            on(Fact::WindowSpan(&WindowSpan {
                window,
                activity: previous,
                from: since,
                to: at,
            }));
        }
        if let Some((activity, _)) = self.windows.get(&window) {
            on(Fact::WindowEntered {
                window,
                activity,
                at,
                def: self.definitions.live_window(window),
            });
        }
    }

    fn depart(
        &mut self,
        id: TicketId,
        window: WindowNumber,
        how: Departure,
        at: Millis,
        actor: &str,
        mut on: impl FnMut(Fact<'_>),
    ) {
        self.enter(window, Activity::Open, at, &mut on);
        let Some(&i) = self.index.get(&id) else {
            return;
        };
        let ticket = &mut self.tickets[i];
        if let (Departure::Finished(Outcome::Done), Some(person)) = (&how, &ticket.person)
            && let Some(matter) = self
                .matters
                .get_mut(&(person.clone(), ticket.issued_service.clone()))
        {
            matter.done = true;
        }
        ticket.first_departure.get_or_insert(Departed {
            at,
            window,
            how: how.clone(),
        });
        let handled_ms = ticket
            .last_call
            .as_ref()
            .map(|call| at.since(call.at).max(0));
        on(Fact::Departed {
            ticket,
            window,
            actor,
            how: &how,
            handled_ms,
        });
        if let Departure::Transferred(TransferTarget::Service(code)) = &how {
            ticket.service = code.clone();
        }
    }
}
