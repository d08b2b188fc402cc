//! What the hub shows: the core's state and projection turned into wire views.

use jiaohao_core::dispatch::Caller;
use jiaohao_core::rating::{RATING_WINDOW_MS, phone_rating_until};
use jiaohao_core::{
    Absence, Event, Hall, Millis, Now, Projection, RatableTicket, Service, Ticket, TicketStatus,
    TransferTarget, Window, WindowNumber, WindowState,
};
use jiaohao_wire as wire;
use jiff::tz::TimeZone;

use crate::clock::rfc3339;
use crate::codec;

/// Everything a view is built from: the state, its projection, the moment and the zone.
pub struct ViewContext<'a> {
    pub hall: &'a Hall,
    pub projection: &'a Projection,
    pub now: Now,
    pub zone: &'a TimeZone,
}

/// Milliseconds as whole minutes, rounded up: a wait of 30 s reads as "about 1 minute".
fn minutes_up(ms: i64) -> u32 {
    Millis::minutes_up(ms)
}

impl ViewContext<'_> {
    /// The hall's day: its date, which never goes back with the clock.
    fn today(&self) -> jiaohao_core::LocalDate {
        self.hall.date().unwrap_or(self.now.date).max(self.now.date)
    }

    fn time(&self, at: Millis) -> String {
        rfc3339(at, self.zone)
    }

    pub fn hall_view(&self, seq: u64) -> wire::HallView {
        let hall = self.hall;
        let settings = hall.settings();
        wire::HallView {
            seq,
            name_zh: settings.name_zh.clone(),
            name_en: settings.name_en.clone(),
            timezone: settings.timezone.clone(),
            date: hall.date().map(|d| d.to_string()),
            notices_zh: settings.notices_zh.clone(),
            notices_en: settings.notices_en.clone(),
            services: hall
                .services()
                .into_iter()
                .map(|s| self.service_status(s))
                .collect(),
            windows: hall.windows().map(|w| self.window_status(w)).collect(),
            recent_calls: hall
                .recent_calls()
                .map(|call| wire::CallInfo {
                    number: call.number.to_string(),
                    service: call.service.to_string(),
                    window: call.window.get(),
                    at: self.time(call.at),
                    recall: call.recall,
                })
                .collect(),
            open_today: hall.is_open_on(self.today()),
            closed_reason: hall
                .calendar()
                .map(|calendar| calendar.day_kind(self.today()))
                .filter(|kind| !kind.is_open())
                .map(|kind| kind.as_str().to_owned()),
            next_opening: hall.next_opening(self.now).map(|opening| wire::Opening {
                date: opening.date.to_string(),
                time: opening.time.to_string(),
                weekday: opening.date.weekday().as_str().to_owned(),
            }),
            today: Some(self.today_figures()),
        }
    }

    /// Today's figures for the wall (警务公开): served, waits against their targets, 满意率.
    fn today_figures(&self) -> wire::TodayFigures {
        let hall = self.hall;
        let (mut served, mut called, mut within, mut rated, mut good) =
            (0u32, 0u32, 0u32, 0u32, 0u32);
        let mut waited_ms = 0i64;
        for ticket in hall.tickets() {
            served += u32::from(ticket.status == TicketStatus::Done);
            if let Some(first) = ticket.first_called_at {
                let wait = first.since(ticket.issued_at).max(0);
                called += 1;
                waited_ms += wait;
                // Judged against the service it was issued for, before any transfer.
                let issued = ticket
                    .transfers
                    .first()
                    .map_or(&ticket.service, |t| &t.from_service);
                if hall
                    .service(issued)
                    .is_some_and(|s| wait <= i64::from(s.wait_target_min) * Millis::MINUTE)
                {
                    within += 1;
                }
            }
            if let Some(rating) = &ticket.rating {
                rated += 1;
                good += u32::from(!rating.rating.is_bad());
            }
        }
        let share = |part: u32, whole: u32| {
            (whole > 0).then(|| (1000.0 * f64::from(part) / f64::from(whole)).round() / 10.0)
        };
        wire::TodayFigures {
            served,
            mean_wait_min: (called > 0).then(|| {
                (waited_ms as f64 / f64::from(called) / Millis::MINUTE as f64 * 10.0).round() / 10.0
            }),
            within_target_pct: share(within, called),
            rated,
            satisfied_pct: share(good, rated),
        }
    }

    /// Why a ticket of this service cannot be taken now, if it cannot.
    fn unavailable_reason(&self, service: &Service) -> Option<&'static str> {
        if !self.hall.is_open_on(self.today()) {
            Some("hall_closed")
        } else if !service.enabled {
            Some("disabled")
        } else if !service.issues_at(self.now.time) {
            Some("not_open")
        } else if self.hall.walk_in_cap_reached(&service.code, self.now.at) {
            Some("daily_cap_reached")
        } else {
            None
        }
    }

    pub fn service_status(&self, service: &Service) -> wire::ServiceStatus {
        let reason = self.unavailable_reason(service);
        wire::ServiceStatus {
            def: codec::service_to_wire(service),
            waiting: self.hall.queues().waiting_for_service(&service.code) as u32,
            issued_today: self.hall.issued_today(&service.code),
            estimated_wait_min: self
                .projection
                .new_ticket_wait_ms(&service.code)
                .map(minutes_up),
            available: reason.is_none(),
            unavailable_reason: reason.map(str::to_owned),
        }
    }

    pub fn window_status(&self, window: &Window) -> wire::WindowStatus {
        let current = window.serving().and_then(|id| self.hall.ticket(id));
        let queues = self.hall.queues();
        let waiting = queues.pinned_to(window.number())
            + window
                .def
                .services
                .iter()
                .map(|code| queues.waiting_for_service(code))
                .sum::<usize>();
        wire::WindowStatus {
            number: window.number().get(),
            name_zh: window.def.name_zh.clone(),
            name_en: window.def.name_en.clone(),
            services: window
                .def
                .services
                .iter()
                .map(ToString::to_string)
                .collect(),
            state: window.state.as_str().to_owned(),
            pause_reason: match &window.state {
                WindowState::Paused { reason } => Some(reason.class.as_str().to_owned()),
                _ => None,
            },
            pause_note: match &window.state {
                WindowState::Paused { reason } if !reason.note.is_empty() => {
                    Some(reason.note.clone())
                }
                _ => None,
            },
            state_since: self.time(window.state_since),
            current_ticket: current.map(|t| t.number.to_string()),
            current_service: current.map(|t| t.service.to_string()),
            waiting: waiting as u32,
        }
    }

    fn remaining_wait_min(&self, ticket: &Ticket) -> Option<u32> {
        match self.projection.call_at(ticket.id) {
            Some(at) => Some(minutes_up(at.since(self.now.at))),
            // Issued after the projection was made (the writer re-projects at most every
            // few hundred milliseconds under load): it waits like a ticket issued then.
            None if ticket.issued_at > self.projection.made_at()
                && ticket.pinned_window.is_none() =>
            {
                self.projection
                    .new_ticket_wait_ms(&ticket.service)
                    .map(minutes_up)
            }
            None => None,
        }
    }

    pub fn issued_ticket(&self, ticket: &Ticket) -> wire::IssuedTicket {
        let service = self.hall.service(&ticket.service);
        let text = |f: fn(&Service) -> &String| service.map(f).cloned().unwrap_or_default();
        wire::IssuedTicket {
            number: ticket.number.to_string(),
            service: ticket.service.to_string(),
            service_name_zh: text(|s| &s.name_zh),
            service_name_en: text(|s| &s.name_en),
            green_channel: ticket.green_channel,
            token: ticket.token.clone(),
            ahead: self.hall.ahead_of(ticket).unwrap_or(0) as u32,
            estimated_wait_min: match ticket.status.is_queued() {
                true => self.remaining_wait_min(ticket),
                false => Some(0),
            },
            issued_at: self.time(ticket.issued_at),
            url: format!("/t/{}", ticket.token),
            documents: service.map(|s| s.documents_zh.clone()).unwrap_or_default(),
            documents_en: service.map(|s| s.documents_en.clone()).unwrap_or_default(),
            fee_note_zh: text(|s| &s.fee_note_zh),
            fee_note_en: text(|s| &s.fee_note_en),
            reprint: false,
        }
    }

    pub fn ticket_status(&self, ticket: &Ticket) -> wire::TicketStatus {
        let service = self.hall.service(&ticket.service);
        let text = |f: fn(&Service) -> &String| service.map(f).cloned().unwrap_or_default();
        let queued = ticket.status.is_queued();
        wire::TicketStatus {
            number: ticket.number.to_string(),
            service: ticket.service.to_string(),
            service_name_zh: text(|s| &s.name_zh),
            service_name_en: text(|s| &s.name_en),
            status: ticket.status.as_str().to_owned(),
            green_channel: ticket.green_channel,
            window: match ticket.status {
                jiaohao_core::TicketStatus::Called => ticket.window.map(|w| w.get()),
                _ => None,
            },
            ahead: self.hall.ahead_of(ticket).map(|n| n as u32),
            estimated_wait_min: if queued {
                self.remaining_wait_min(ticket)
            } else {
                None
            },
            issued_at: self.time(ticket.issued_at),
            called_at: ticket.called_at.map(|at| self.time(at)),
            documents: service.map(|s| s.documents_zh.clone()).unwrap_or_default(),
            documents_en: service.map(|s| s.documents_en.clone()).unwrap_or_default(),
            rating: ticket.rating.map(|r| r.rating.as_str().to_owned()),
            can_rate: ticket.status == jiaohao_core::TicketStatus::Done
                && ticket.window.is_some()
                && ticket.rating.is_none(),
            rate_until: (ticket.status == jiaohao_core::TicketStatus::Done)
                .then(|| {
                    let today = self.hall.date()?;
                    Some(phone_rating_until(self.hall.calendar(), today).to_string())
                })
                .flatten(),
        }
    }

    /// A ticket finished on an earlier day, as its page shows it while it may still be rated
    /// from the phone (and a few days after, to say the time ended).
    pub fn earlier_ticket_status(&self, ticket: &RatableTicket) -> wire::TicketStatus {
        let service = self.hall.service(&ticket.service);
        let text = |f: fn(&Service) -> &String| service.map(f).cloned().unwrap_or_default();
        wire::TicketStatus {
            number: ticket.number.to_string(),
            service: ticket.service.to_string(),
            service_name_zh: text(|s| &s.name_zh),
            service_name_en: text(|s| &s.name_en),
            status: jiaohao_core::TicketStatus::Done.as_str().to_owned(),
            green_channel: false,
            window: None,
            ahead: None,
            estimated_wait_min: None,
            issued_at: self.time(ticket.issued_at),
            called_at: None,
            documents: service.map(|s| s.documents_zh.clone()).unwrap_or_default(),
            documents_en: service.map(|s| s.documents_en.clone()).unwrap_or_default(),
            rating: ticket.rating.map(|r| r.rating.as_str().to_owned()),
            can_rate: ticket.rating.is_none() && self.now.date <= ticket.rate_until,
            rate_until: Some(ticket.rate_until.to_string()),
        }
    }
}

impl ViewContext<'_> {
    /// What a window's counter page shows besides the hall: its ticket, and the tickets it may
    /// call with their waits, in the order of the queues (green channel first, then oldest).
    pub fn window_queue(&self, number: WindowNumber) -> Option<wire::WindowQueue> {
        let hall = self.hall;
        let window = hall.window(number)?;
        let next = hall
            .policy()
            .choose(
                hall.queues(),
                Caller {
                    window: number,
                    services: &window.def.services,
                    consecutive_green: window.consecutive_green,
                },
            )
            .map(|choice| choice.id);
        let mut waiting: Vec<&Ticket> = hall
            .tickets()
            .iter()
            .filter(|t| t.status.is_queued())
            .filter(|t| match t.pinned_window {
                Some(pinned) => pinned == number,
                None => window.def.services.contains(&t.service),
            })
            .collect();
        waiting.sort_by_key(|t| (!t.green_channel, t.queue_key()));
        let serving =
            window
                .serving()
                .and_then(|id| hall.ticket(id))
                .map(|t| wire::ServingTicket {
                    number: t.number.to_string(),
                    service: t.service.to_string(),
                    green_channel: t.green_channel,
                    issued_at: self.time(t.issued_at),
                    called_at: t.called_at.map(|at| self.time(at)),
                    recalls: t.recalls,
                    transfers: t.transfers.len() as u32,
                });
        Some(wire::WindowQueue {
            window: number.get(),
            now: self.time(self.now.at),
            state: window.state.as_str().to_owned(),
            serving,
            waiting: waiting
                .into_iter()
                .map(|t| wire::QueuedTicket {
                    number: t.number.to_string(),
                    service: t.service.to_string(),
                    green_channel: t.green_channel,
                    issued_at: self.time(t.issued_at),
                    waited_min: u32::try_from(
                        self.now.at.since(t.issued_at).max(0) / Millis::MINUTE,
                    )
                    .unwrap_or(u32::MAX),
                    pinned: t.pinned_window.is_some(),
                    transferred: t.status == TicketStatus::Transferred,
                    next: Some(t.id) == next,
                    booked: t.booking.is_some(),
                })
                .collect(),
        })
    }

    /// The ticket a window finished last today, for its rating tablet.
    pub fn rating_prompt(&self, number: WindowNumber) -> Option<wire::RatingPrompt> {
        let ticket = self.hall.last_finished(number)?;
        let finished_at = ticket.finished_at?;
        let service = self.hall.service(&ticket.service);
        let open = ticket.rating.is_none()
            && ticket.status == TicketStatus::Done
            && self.now.at.since(finished_at) <= RATING_WINDOW_MS;
        Some(wire::RatingPrompt {
            window: number.get(),
            number: ticket.number.to_string(),
            service: ticket.service.to_string(),
            service_name_zh: service.map(|s| s.name_zh.clone()).unwrap_or_default(),
            service_name_en: service.map(|s| s.name_en.clone()).unwrap_or_default(),
            finished_at: self.time(finished_at),
            open,
            rating: ticket.rating.map(|r| r.rating.as_str().to_owned()),
        })
    }
}

pub fn ticket_detail(ticket: &Ticket, zone: &TimeZone) -> wire::TicketDetail {
    wire::TicketDetail {
        number: ticket.number.to_string(),
        service: ticket.service.to_string(),
        status: ticket.status.as_str().to_owned(),
        green_channel: ticket.green_channel,
        window: ticket.window.map(|w| w.get()),
        issued_at: rfc3339(ticket.issued_at, zone),
        called_at: ticket.called_at.map(|at| rfc3339(at, zone)),
        finished_at: ticket.finished_at.map(|at| rfc3339(at, zone)),
        recalls: ticket.recalls,
        transfers: ticket.transfers.len() as u32,
    }
}

/// The public stream's form of an event, read against the state right after it.
/// The stream event name of the change an event of `kind` (`Event::kind`, as logged) makes:
/// what `change(..).name()` said when it was logged, for replaying the log without parsing
/// its messages back. A kind this hub does not know is sent as a plain `change`.
pub fn change_name(kind: &str) -> &'static str {
    match kind {
        "day_started" => "day_started",
        "hall_configured" | "calendar_configured" => "hall_configured",
        "service_defined" | "service_removed" => "service_changed",
        "window_defined" | "window_removed" | "window_opened" | "window_closed"
        | "window_paused" | "window_resumed" => "window_changed",
        "ticket_issued" => "ticket_issued",
        "ticket_called" => "ticket_called",
        "ticket_finished" => "ticket_finished",
        "ticket_no_show" => "ticket_no_show",
        "ticket_transferred" => "ticket_transferred",
        _ => "change",
    }
}

pub fn change(hall: &Hall, event: &Event) -> Option<wire::Change> {
    let ticket = |id| hall.ticket(id);
    let window_change =
        |window: jiaohao_core::WindowNumber, action: &str, reason: Option<&Absence>| {
            wire::Change::WindowChanged {
                window: window.get(),
                action: action.to_owned(),
                reason: reason.map(|r| r.class.as_str().to_owned()),
            }
        };
    let change = match event {
        Event::DayStarted { date } => wire::Change::DayStarted {
            date: date.to_string(),
        },
        // A new calendar is a change of the hall's configuration to every reader.
        Event::HallConfigured(_) | Event::CalendarConfigured(_) => wire::Change::HallConfigured,
        Event::ServiceDefined(service) => wire::Change::ServiceChanged {
            code: service.code.to_string(),
            removed: false,
        },
        Event::ServiceRemoved { code } => wire::Change::ServiceChanged {
            code: code.to_string(),
            removed: true,
        },
        Event::WindowDefined(def) => window_change(def.number, "defined", None),
        Event::WindowRemoved { number } => window_change(*number, "removed", None),
        Event::WindowOpened { window } => window_change(*window, "opened", None),
        Event::WindowClosed { window, reason } => window_change(*window, "closed", reason.as_ref()),
        Event::WindowPaused { window, reason } => window_change(*window, "paused", Some(reason)),
        Event::WindowResumed { window } => window_change(*window, "resumed", None),
        Event::TicketIssued {
            number,
            service,
            green_channel,
            ..
        } => wire::Change::TicketIssued {
            number: number.to_string(),
            service: service.to_string(),
            green_channel: *green_channel,
        },
        Event::TicketCalled {
            id,
            window,
            recall,
            out_of_order,
        } => {
            let ticket = ticket(*id)?;
            wire::Change::TicketCalled {
                number: ticket.number.to_string(),
                service: ticket.service.to_string(),
                window: window.get(),
                recall: *recall,
                out_of_order: out_of_order.is_some(),
            }
        }
        Event::TicketFinished {
            id,
            window,
            outcome,
        } => {
            let ticket = ticket(*id)?;
            wire::Change::TicketFinished {
                number: ticket.number.to_string(),
                service: ticket.service.to_string(),
                window: window.get(),
                outcome: outcome.kind().to_owned(),
            }
        }
        Event::TicketNoShow { id, window } => {
            let ticket = ticket(*id)?;
            wire::Change::TicketNoShow {
                number: ticket.number.to_string(),
                service: ticket.service.to_string(),
                window: window.get(),
            }
        }
        Event::TicketTransferred { id, window, to } => {
            let ticket = ticket(*id)?;
            let (to_service, to_window) = match to {
                TransferTarget::Service(code) => (Some(code.to_string()), None),
                TransferTarget::Window(number) => (None, Some(number.get())),
            };
            wire::Change::TicketTransferred {
                number: ticket.number.to_string(),
                from_window: window.get(),
                to_service,
                to_window,
            }
        }
        // Ratings are not public: the stream is read by every display in the hall.
        Event::TicketRated { .. } => return None,
        // 差评 cases are the supervisors' business, not the hall's screens'.
        Event::CaseOpened { .. }
        | Event::CaseCalledBack { .. }
        | Event::CaseFixed { .. }
        | Event::CaseClosed { .. } => return None,
        // Bookings are personal and not the hall's traffic; a check-in's ticket is announced
        // by its own `TicketIssued`.
        Event::BookingConfigured { .. }
        | Event::TicketHolder { .. }
        | Event::BookingMade { .. }
        | Event::BookingVerified { .. }
        | Event::BookingCancelled { .. }
        | Event::BookingCheckedIn { .. } => return None,
    };
    Some(change)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiaohao_core::{ClockTime, Command, LocalDate, Prefix, ServiceCode};

    /// The replay names a logged change from its kind alone: that name must be the one the
    /// writer gave it when it was logged, for every kind of event.
    #[test]
    fn the_name_of_a_logged_kind_is_the_name_its_change_had() {
        let window = |n| WindowNumber::new(n).unwrap();
        let service = |code| ServiceCode::parse(code).unwrap();
        let mut commands = crate::hall_file::parse(crate::hall_file::DEFAULT_HALL).unwrap();
        let mut extra = commands
            .iter()
            .find_map(|command| match command {
                Command::AddService(s) if s.code.as_str() == "hukou" => Some(s.clone()),
                _ => None,
            })
            .unwrap();
        extra.code = service("extra");
        extra.prefix = Prefix::parse("X").unwrap();
        let extra_window = commands
            .iter()
            .find_map(|command| match command {
                Command::AddWindow(def) => Some(def.clone()),
                _ => None,
            })
            .map(|mut def| {
                def.number = window(99);
                def
            })
            .unwrap();
        let ticket = |i: u32| Command::IssueTicket {
            service: service("hukou"),
            green_channel: false,
            token: format!("{i:032}"),
            idempotency_key: None,
        };
        commands.extend([
            Command::AddService(extra),
            Command::RemoveService(service("extra")),
            Command::AddWindow(extra_window),
            Command::RemoveWindow(window(99)),
            Command::Open { window: window(1) },
            Command::Open { window: window(2) },
            ticket(1),
            ticket(2),
            ticket(3),
            Command::CallNext { window: window(1) },
            Command::NoShow { window: window(1) },
            Command::CallNext { window: window(1) },
            Command::Transfer {
                window: window(1),
                to: TransferTarget::Service(service("id_card")),
            },
            Command::CallNext { window: window(2) },
            Command::finish(window(2)),
            Command::Pause {
                window: window(2),
                reason: "break".into(),
            },
            Command::Resume { window: window(2) },
            Command::Close {
                window: window(2),
                reason: None,
            },
        ]);
        let now = Now {
            at: Millis(1_800_000_000_000),
            date: LocalDate::new(2026, 12, 2).unwrap(),
            time: ClockTime::from_minutes(10 * 60).unwrap(),
        };
        let mut hall = Hall::new();
        let mut kinds = std::collections::BTreeSet::new();
        for command in &commands {
            let events = hall
                .apply(command, now)
                .unwrap_or_else(|e| panic!("{command:?}: {e}"));
            for event in events {
                if let Some(made) = change(&hall, &event) {
                    assert_eq!(change_name(event.kind()), made.name(), "{event:?}");
                }
                kinds.insert(event.kind());
            }
        }
        // Every public kind was tried (ratings are never public), booking settings among them
        // (the default hall file's `[service.booking]`).
        assert_eq!(kinds.len(), 17, "{kinds:?}");
        assert_eq!(change_name("a_kind_from_a_newer_hub"), "change");
    }
}
