//! What callers ask of the hall ([`Command`]) and what happened as a result ([`Event`]).
//! Events are the record: the hub stores them, and the state is their fold.

use crate::absence::Absence;
use crate::booking::{BookingCode, BookingSettings};
use crate::calendar::HallCalendar;
use crate::hall::HallSettings;
use crate::identity::PersonKey;
use crate::ids::{ServiceCode, TicketId, TicketNumber, WindowNumber};
use crate::outcome::Outcome;
use crate::rating::{Rating, RatingReason};
use crate::service::Service;
use crate::time::{ClockTime, LocalDate, Millis};
use crate::window::WindowDef;

/// Where a clerk sends a ticket (换人接待).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferTarget {
    /// Into another service's queue, keeping the original issue time.
    Service(ServiceCode),
    /// To one window, which alone may call it, keeping the original issue time.
    Window(WindowNumber),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Only rolls the day over if the date changed; the hub sends it from a timer.
    Tick,
    ConfigureHall(HallSettings),
    /// Sets the working weekdays, holidays and 调休 days, replacing the calendar before.
    SetCalendar(HallCalendar),
    AddService(Service),
    UpdateService(Service),
    RemoveService(ServiceCode),
    AddWindow(WindowDef),
    UpdateWindow(WindowDef),
    RemoveWindow(WindowNumber),
    /// Changes which services a window serves, primary first (the assignment editor); applies
    /// to the window's next call.
    AssignServices {
        window: WindowNumber,
        services: Vec<ServiceCode>,
    },
    IssueTicket {
        service: ServiceCode,
        green_channel: bool,
        /// The ticket page's token, ≥128 random bits chosen by the caller.
        token: String,
        /// A retry with the same key returns the same ticket instead of a second one.
        idempotency_key: Option<String>,
    },
    /// Issues a ticket to a known person (the kiosk read or was given their ID number): one
    /// per person, service and day; a second request issues nothing and the caller reprints
    /// the first ([`crate::Hall::ticket_of`]).
    IssueForPerson {
        service: ServiceCode,
        green_channel: bool,
        token: String,
        idempotency_key: Option<String>,
        person: PersonKey,
    },
    CallNext {
        window: WindowNumber,
    },
    /// Calls a specific ticket out of order (选号); the reason is recorded.
    CallTicket {
        window: WindowNumber,
        number: TicketNumber,
        reason: String,
    },
    Recall {
        window: WindowNumber,
    },
    NoShow {
        window: WindowNumber,
    },
    /// Ends the ticket the window is serving, with how the visit ended.
    Finish {
        window: WindowNumber,
        outcome: Outcome,
    },
    Transfer {
        window: WindowNumber,
        to: TransferTarget,
    },
    Open {
        window: WindowNumber,
    },
    /// Closes the window; the reason is `None` only from a client of before reasons.
    Close {
        window: WindowNumber,
        reason: Option<Absence>,
    },
    Pause {
        window: WindowNumber,
        reason: Absence,
    },
    Resume {
        window: WindowNumber,
    },
    /// The citizen rates the ticket just finished at a window (好差评); a bad rating needs a
    /// reason. One rating per ticket, within minutes of its end.
    RateTicket {
        window: WindowNumber,
        number: TicketNumber,
        rating: Rating,
        reason: Option<RatingReason>,
    },
    /// Sets how a service takes bookings (预约); `None` stops taking new ones.
    ConfigureBooking {
        service: ServiceCode,
        settings: Option<BookingSettings>,
    },
    /// Books a slot for a person; unverified until [`Command::VerifyBooking`].
    Book {
        /// 8 random characters chosen by the caller.
        code: BookingCode,
        service: ServiceCode,
        date: LocalDate,
        start: ClockTime,
        /// The slot's start as an instant, by the hall's time zone (which the caller knows).
        starts_at: Millis,
        person: PersonKey,
        masked_id: String,
    },
    /// The person entered the SMS code sent to the booking's phone.
    VerifyBooking {
        code: BookingCode,
    },
    CancelBooking {
        code: BookingCode,
    },
    /// The booked person arrived: issues their ticket, queued by its slot start.
    CheckIn {
        code: BookingCode,
        green_channel: bool,
        /// The ticket page's token, as for [`Command::IssueTicket`].
        token: String,
    },
    /// The citizen rates a finished ticket of today from its own page (the phone, `/t/{token}`):
    /// the token proves the ticket. One rating per ticket, however given (一次一评).
    RateOwnTicket {
        token: String,
        rating: Rating,
        reason: Option<RatingReason>,
    },
    /// A supervisor called the citizen of a 差评 case back (回访), with what was said.
    CallBackCase {
        case: TicketId,
        note: String,
        /// The signed-in user taking the step.
        by: String,
    },
    /// A supervisor records the fix (整改) of a case that was called back.
    FixCase {
        case: TicketId,
        fix: String,
        by: String,
    },
    /// A supervisor closes (办结) a case that was fixed.
    CloseCase {
        case: TicketId,
        by: String,
    },
}

/// A change to the hall. The time it happened is stored beside it, not in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A new local day began: numbering restarts, tickets still waiting or being served
    /// expire, windows close.
    DayStarted {
        date: LocalDate,
    },
    HallConfigured(HallSettings),
    CalendarConfigured(HallCalendar),
    ServiceDefined(Service),
    ServiceRemoved {
        code: ServiceCode,
    },
    WindowDefined(WindowDef),
    WindowRemoved {
        number: WindowNumber,
    },
    TicketIssued {
        id: TicketId,
        number: TicketNumber,
        service: ServiceCode,
        green_channel: bool,
        token: String,
        idempotency_key: Option<String>,
    },
    TicketCalled {
        id: TicketId,
        window: WindowNumber,
        /// `true` for a recall (重呼) of the ticket the window is serving.
        recall: bool,
        /// Set when the ticket was called out of order, with the clerk's reason.
        out_of_order: Option<String>,
    },
    TicketFinished {
        id: TicketId,
        window: WindowNumber,
        /// How the visit ended; `Done` when a call of the next ticket finished it.
        outcome: Outcome,
    },
    TicketNoShow {
        id: TicketId,
        window: WindowNumber,
    },
    TicketTransferred {
        id: TicketId,
        window: WindowNumber,
        to: TransferTarget,
    },
    WindowOpened {
        window: WindowNumber,
    },
    /// A close by a clerk or admin, with the reason given (none from a client of before
    /// reasons). The close of every window at a day start is no event of its own.
    WindowClosed {
        window: WindowNumber,
        reason: Option<Absence>,
    },
    WindowPaused {
        window: WindowNumber,
        reason: Absence,
    },
    WindowResumed {
        window: WindowNumber,
    },
    TicketRated {
        id: TicketId,
        window: WindowNumber,
        rating: Rating,
        reason: Option<RatingReason>,
    },
    BookingConfigured {
        service: ServiceCode,
        settings: Option<BookingSettings>,
    },
    /// Follows the [`Event::TicketIssued`] of a ticket issued to a known person (a booking's
    /// check-in, or a kiosk that read the ID card).
    TicketHolder {
        ticket: TicketId,
        person: PersonKey,
    },
    BookingMade {
        code: BookingCode,
        service: ServiceCode,
        date: LocalDate,
        start: ClockTime,
        end: ClockTime,
        starts_at: Millis,
        person: PersonKey,
        masked_id: String,
    },
    BookingVerified {
        code: BookingCode,
    },
    BookingCancelled {
        code: BookingCode,
    },
    /// Follows the [`Event::TicketIssued`] of a booking's check-in: the ticket is the
    /// booking's and queues by `queue_time` (its slot start if it came early, else now).
    BookingCheckedIn {
        code: BookingCode,
        ticket: TicketId,
        queue_time: Millis,
    },
    /// Follows the [`Event::TicketRated`] of a bad rating (差评): the case it opens, whose id is
    /// the ticket's id. `date` is the hall's day of the rating; `due` the day the fix is due,
    /// by the calendar and the hall's `case_due_working_days`.
    CaseOpened {
        case: TicketId,
        number: TicketNumber,
        service: ServiceCode,
        window: WindowNumber,
        date: LocalDate,
        rating: Rating,
        reason: Option<RatingReason>,
        due: LocalDate,
    },
    /// A case was called back; `date` is the hall's day of the step.
    CaseCalledBack {
        case: TicketId,
        note: String,
        by: String,
        date: LocalDate,
    },
    CaseFixed {
        case: TicketId,
        fix: String,
        by: String,
        date: LocalDate,
    },
    CaseClosed {
        case: TicketId,
        by: String,
        date: LocalDate,
    },
}

impl Command {
    /// Finishes the ticket the window is serving as done (办结).
    pub fn finish(window: WindowNumber) -> Command {
        Command::Finish {
            window,
            outcome: Outcome::Done,
        }
    }
}

impl Event {
    /// A stable name for the event kind, such as `ticket_called`.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::DayStarted { .. } => "day_started",
            Event::HallConfigured(_) => "hall_configured",
            Event::CalendarConfigured(_) => "calendar_configured",
            Event::ServiceDefined(_) => "service_defined",
            Event::ServiceRemoved { .. } => "service_removed",
            Event::WindowDefined(_) => "window_defined",
            Event::WindowRemoved { .. } => "window_removed",
            Event::TicketIssued { .. } => "ticket_issued",
            Event::TicketCalled { .. } => "ticket_called",
            Event::TicketFinished { .. } => "ticket_finished",
            Event::TicketNoShow { .. } => "ticket_no_show",
            Event::TicketTransferred { .. } => "ticket_transferred",
            Event::WindowOpened { .. } => "window_opened",
            Event::WindowClosed { .. } => "window_closed",
            Event::WindowPaused { .. } => "window_paused",
            Event::WindowResumed { .. } => "window_resumed",
            Event::TicketRated { .. } => "ticket_rated",
            Event::BookingConfigured { .. } => "booking_configured",
            Event::TicketHolder { .. } => "ticket_holder",
            Event::BookingMade { .. } => "booking_made",
            Event::BookingVerified { .. } => "booking_verified",
            Event::BookingCancelled { .. } => "booking_cancelled",
            Event::BookingCheckedIn { .. } => "booking_checked_in",
            Event::CaseOpened { .. } => "case_opened",
            Event::CaseCalledBack { .. } => "case_called_back",
            Event::CaseFixed { .. } => "case_fixed",
            Event::CaseClosed { .. } => "case_closed",
        }
    }

    /// Whether the event changes the hall's configuration rather than the day's traffic.
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            Event::HallConfigured(_)
                | Event::CalendarConfigured(_)
                | Event::ServiceDefined(_)
                | Event::ServiceRemoved { .. }
                | Event::WindowDefined(_)
                | Event::WindowRemoved { .. }
                | Event::BookingConfigured { .. }
        )
    }
}
