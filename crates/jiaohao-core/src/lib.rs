//! The pure domain of a service hall: services, windows, tickets, the hall state machine,
//! the call-next policy, the wait estimate and the assignment advice.
//!
//! Nothing here reads the clock, touches a file or a socket, or draws a random number: the
//! caller passes `now` and any token, so the hub, the simulator and the tests all drive the
//! very same code and get the very same answers.
//!
//! The hall is event-sourced: [`Hall::apply`] decides which [`Event`]s a [`Command`] causes and
//! folds them into the state; [`Hall::evolve`] folds a stored event, so the state after a
//! restart is the fold of the log. The read side (reports, audit, replay) folds the same log
//! once more, into how the past went: [`History`].

pub mod absence;
pub mod advice;
pub mod booking;
pub mod calendar;
pub mod case;
pub mod dispatch;
pub mod error;
pub mod estimate;
pub mod event;
pub mod hall;
pub mod history;
pub mod identity;
pub mod ids;
pub mod outcome;
pub mod rating;
pub mod rota;
pub mod service;
pub mod ticket;
pub mod time;
pub mod window;

pub use absence::{Absence, AbsenceClass};
pub use advice::{Suggestion, advise};
pub use booking::{
    Booking, BookingCode, BookingRules, BookingSettings, BookingStatus, Registry, Slot,
};
pub use calendar::{DayKind, HallCalendar, Opening, Weekday};
pub use case::{Case, CaseState, CaseStep};
pub use dispatch::{Policy, Queues};
pub use error::Error;
pub use estimate::Projection;
pub use event::{Command, Event, TransferTarget};
pub use hall::{Call, Hall, HallSettings, HallSnapshot};
pub use history::{Fact, History};
pub use identity::{IdNumber, IdNumberError, PersonKey};
pub use ids::{Prefix, ServiceCode, TicketId, TicketNumber, WindowNumber};
pub use outcome::Outcome;
pub use rating::{RatableTicket, Rating, RatingReason, TicketRating};
pub use rota::{Rota, Shift};
pub use service::Service;
pub use ticket::{Ticket, TicketStatus, Transfer};
pub use time::{ClockTime, LocalDate, Millis, Now};
pub use window::{Break, Window, WindowDef, WindowState};
