//! Why the hall refuses a command. Each variant says what is wrong in words a person can act
//! on, and belongs to one [`ErrorKind`] that the hub maps to an HTTP status.

use std::fmt;

use crate::booking::BookingCode;
use crate::calendar::{DayKind, Opening};
use crate::case::CaseState;
use crate::ids::{ServiceCode, TicketId, TicketNumber, WindowNumber};
use crate::time::{ClockTime, LocalDate};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The input itself is malformed (a bad code, an empty name, …).
    Invalid(String),
    UnknownService(ServiceCode),
    UnknownWindow(WindowNumber),
    UnknownTicket(TicketNumber),
    ServiceExists(ServiceCode),
    WindowExists(WindowNumber),
    PrefixTaken {
        prefix: char,
        service: ServiceCode,
    },
    ServiceInUse {
        service: ServiceCode,
        windows: Vec<WindowNumber>,
    },
    ServiceDisabled(ServiceCode),
    /// The hall does not work today by its calendar (今日不办公).
    HallClosed {
        date: LocalDate,
        kind: DayKind,
        /// When it next opens, if within a year.
        next: Option<Opening>,
    },
    ServiceNotOpen {
        service: ServiceCode,
        opens: ClockTime,
        closes: ClockTime,
    },
    DailyCapReached {
        service: ServiceCode,
        cap: u32,
    },
    IdempotencyKeyReused,
    WindowClosed(WindowNumber),
    WindowPaused(WindowNumber),
    WindowAlreadyOpen(WindowNumber),
    WindowAlreadyClosed(WindowNumber),
    WindowNotClosed(WindowNumber),
    WindowNotPaused(WindowNumber),
    WindowServing {
        window: WindowNumber,
        ticket: TicketNumber,
    },
    WindowNotServing(WindowNumber),
    WindowHasQueue {
        window: WindowNumber,
        waiting: usize,
    },
    TicketNotWaiting(TicketNumber),
    NotAssigned {
        window: WindowNumber,
        service: ServiceCode,
    },
    TransferToSelf,
    /// The ticket was rated already: one rating per ticket.
    AlreadyRated(TicketNumber),
    /// The ticket is not the one just finished at this window, or its rating time is over.
    NotRatable {
        window: WindowNumber,
        ticket: TicketNumber,
    },
    UnknownBooking(BookingCode),
    /// A booking, its cancelling or its check-in is refused by the booking rules; `code` says
    /// which rule (`slot_full`, `already_booked`, `booking_barred`, …), `message` says it in
    /// Chinese and English.
    BookingRefused {
        code: &'static str,
        message: String,
    },
    /// No ticket of today, nor a finished one of the days before that is still kept, has this
    /// token.
    UnknownToken,
    /// The time to rate the ticket from the phone ended with `until` (the next working day
    /// after its day).
    RatingEnded {
        ticket: TicketNumber,
        until: LocalDate,
    },
    /// The ticket has not been finished at a window (yet), so it cannot be rated.
    NotFinished(TicketNumber),
    /// No 差评 case has this id.
    UnknownCase(TicketId),
    /// A case step out of order: the case is in `state`, the step to `step` needs the state
    /// just before it (steps only go forward, none is skipped).
    CaseStepRefused {
        case: TicketId,
        state: CaseState,
        step: CaseState,
    },
}

/// The broad class of an error, for callers that map errors to statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Invalid,
    NotFound,
    Conflict,
}

impl Error {
    pub fn invalid(message: impl Into<String>) -> Error {
        Error::Invalid(message.into())
    }

    pub fn booking(code: &'static str, message: impl Into<String>) -> Error {
        Error::BookingRefused {
            code,
            message: message.into(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Invalid(_) | Error::TransferToSelf => ErrorKind::Invalid,
            Error::UnknownService(_)
            | Error::UnknownWindow(_)
            | Error::UnknownTicket(_)
            | Error::UnknownBooking(_)
            | Error::UnknownToken
            | Error::UnknownCase(_) => ErrorKind::NotFound,
            _ => ErrorKind::Conflict,
        }
    }

    /// A stable machine-readable code, such as `daily_cap_reached`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid(_) => "invalid",
            Error::UnknownService(_) => "unknown_service",
            Error::UnknownWindow(_) => "unknown_window",
            Error::UnknownTicket(_) => "unknown_ticket",
            Error::ServiceExists(_) => "service_exists",
            Error::WindowExists(_) => "window_exists",
            Error::PrefixTaken { .. } => "prefix_taken",
            Error::ServiceInUse { .. } => "service_in_use",
            Error::ServiceDisabled(_) => "service_disabled",
            Error::HallClosed { .. } => "hall_closed",
            Error::ServiceNotOpen { .. } => "service_not_open",
            Error::DailyCapReached { .. } => "daily_cap_reached",
            Error::IdempotencyKeyReused => "idempotency_key_reused",
            Error::WindowClosed(_) => "window_closed",
            Error::WindowPaused(_) => "window_paused",
            Error::WindowAlreadyOpen(_) => "window_already_open",
            Error::WindowAlreadyClosed(_) => "window_already_closed",
            Error::WindowNotClosed(_) => "window_not_closed",
            Error::WindowNotPaused(_) => "window_not_paused",
            Error::WindowServing { .. } => "window_serving",
            Error::WindowNotServing(_) => "window_not_serving",
            Error::WindowHasQueue { .. } => "window_has_queue",
            Error::TicketNotWaiting(_) => "ticket_not_waiting",
            Error::NotAssigned { .. } => "not_assigned",
            Error::TransferToSelf => "transfer_to_self",
            Error::AlreadyRated(_) => "already_rated",
            Error::NotRatable { .. } => "not_ratable",
            Error::UnknownBooking(_) => "unknown_booking",
            Error::BookingRefused { code, .. } => code,
            Error::UnknownToken => "unknown_ticket",
            Error::NotFinished(_) => "not_finished",
            Error::UnknownCase(_) => "unknown_case",
            Error::CaseStepRefused { .. } => "case_step_refused",
            Error::RatingEnded { .. } => "rating_ended",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid(message) => f.write_str(message),
            Error::UnknownService(code) => write!(f, "there is no service '{code}'"),
            Error::UnknownWindow(n) => write!(f, "there is no window {n}"),
            Error::UnknownTicket(number) => write!(f, "there is no ticket {number} today"),
            Error::ServiceExists(code) => write!(f, "service '{code}' exists already"),
            Error::WindowExists(n) => write!(f, "window {n} exists already"),
            Error::PrefixTaken { prefix, service } => {
                write!(f, "prefix {prefix} is used by service '{service}'")
            }
            Error::ServiceInUse { service, windows } => {
                let list: Vec<String> = windows.iter().map(|w| w.to_string()).collect();
                write!(
                    f,
                    "service '{service}' is still assigned to window(s) {} or has tickets today",
                    list.join(", ")
                )
            }
            Error::ServiceDisabled(code) => write!(f, "service '{code}' is not offered now"),
            Error::HallClosed { date, kind, next } => {
                let (why_zh, why_en) = match kind {
                    DayKind::Holiday => ("法定节假日", "a public holiday"),
                    _ => ("休息日", "a rest day"),
                };
                write!(f, "今日不办公（{why_zh}）")?;
                match next {
                    Some(next) => write!(f, "，下次办公时间 {} {}", next.date, next.time)?,
                    None => f.write_str("，近期无办公安排")?,
                }
                write!(f, "。The hall is closed today ({date} is {why_en})")?;
                match next {
                    Some(next) => write!(f, "; it next opens on {} at {}.", next.date, next.time),
                    None => f.write_str("; no working day is set within a year."),
                }
            }
            Error::ServiceNotOpen {
                service,
                opens,
                closes,
            } => write!(
                f,
                "service '{service}' issues tickets from {opens} to {closes} only"
            ),
            Error::DailyCapReached { service, cap } => write!(
                f,
                "service '{service}' has issued its {cap} tickets for today"
            ),
            Error::IdempotencyKeyReused => f.write_str(
                "this Idempotency-Key was used for a ticket of another service or channel",
            ),
            Error::WindowClosed(n) => write!(f, "window {n} is closed: open it first"),
            Error::WindowPaused(n) => write!(f, "window {n} is paused: resume it first"),
            Error::WindowAlreadyOpen(n) => write!(f, "window {n} is open already"),
            Error::WindowAlreadyClosed(n) => write!(f, "window {n} is closed already"),
            Error::WindowNotClosed(n) => write!(f, "window {n} is in use: close it first"),
            Error::WindowNotPaused(n) => write!(f, "window {n} is not paused"),
            Error::WindowServing { window, ticket } => write!(
                f,
                "window {window} is serving {ticket}: finish, transfer or mark it as no-show first"
            ),
            Error::WindowNotServing(n) => write!(f, "window {n} is not serving a ticket"),
            Error::WindowHasQueue { window, waiting } => write!(
                f,
                "{waiting} ticket(s) were transferred to window {window} and wait for it"
            ),
            Error::TicketNotWaiting(number) => write!(f, "ticket {number} is not waiting"),
            Error::NotAssigned { window, service } => {
                write!(f, "window {window} does not serve '{service}'")
            }
            Error::TransferToSelf => {
                f.write_str("a ticket cannot be transferred to where it already is")
            }
            Error::AlreadyRated(number) => write!(f, "ticket {number} has been rated already"),
            Error::UnknownBooking(code) => {
                write!(f, "没有预约号 {code}；there is no booking {code}")
            }
            Error::BookingRefused { message, .. } => f.write_str(message),
            Error::NotRatable { window, ticket } => write!(
                f,
                "ticket {ticket} is not the ticket just finished at window {window}, or its time to rate is over"
            ),
            Error::UnknownToken => f.write_str("没有这张票；no ticket has this token"),
            Error::RatingEnded { ticket, until } => write!(
                f,
                "评价期已过：{ticket} 号可在 {until} 以前（含当日）评价。The time to rate ticket {ticket} ended with {until}."
            ),
            Error::NotFinished(number) => {
                write!(f, "ticket {number} has not been finished at a window")
            }
            Error::UnknownCase(case) => {
                write!(
                    f,
                    "没有编号为 {} 的差评工单；there is no case {}",
                    case.0, case.0
                )
            }
            Error::CaseStepRefused { case, state, step } => {
                let (zh, en) = match step {
                    CaseState::Open => ("打开", "opened"),
                    CaseState::CalledBack => ("回访", "called back"),
                    CaseState::Fixed => ("整改", "fixed"),
                    CaseState::Closed => ("办结", "closed"),
                };
                let need = step.before().unwrap_or(CaseState::Open);
                write!(
                    f,
                    "工单 {} 当前为“{}”，只有“{}”的工单才能{zh}，工单只能按 回访→整改→办结 的顺序向前；case {} is {}: only a case that is {} can be {en} (cases go forward: called back, fixed, closed)",
                    case.0,
                    state.name_zh(),
                    need.name_zh(),
                    case.0,
                    state.as_str(),
                    need.as_str()
                )
            }
        }
    }
}

impl std::error::Error for Error {}
