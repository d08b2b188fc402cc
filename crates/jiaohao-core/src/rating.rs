//! The citizen's rating of a finished ticket (好差评, 群众评议): five levels, and for the two
//! bad ones the reason the citizen gives. One rating per ticket (一次一评), given at the window's
//! rating pad in the minutes after the ticket was finished there ([`RATING_WINDOW_MS`]), or
//! from the citizen's own phone until the end of the next working day ([`phone_rating_until`]).

use crate::calendar::HallCalendar;
use crate::ids::{ServiceCode, TicketId, TicketNumber, WindowNumber};
use crate::time::{LocalDate, Millis};

/// How long after a ticket is finished its citizen may still rate it on the window's rating
/// pad, in milliseconds.
pub const RATING_WINDOW_MS: i64 = 15 * crate::time::Millis::MINUTE;

/// The five levels of the national 好差评 scale, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rating {
    /// 非常满意
    VerySatisfied,
    /// 满意
    Satisfied,
    /// 基本满意
    Basic,
    /// 不满意
    Dissatisfied,
    /// 非常不满意
    VeryDissatisfied,
}

impl Rating {
    pub const ALL: [Rating; 5] = [
        Rating::VerySatisfied,
        Rating::Satisfied,
        Rating::Basic,
        Rating::Dissatisfied,
        Rating::VeryDissatisfied,
    ];

    pub fn parse(text: &str) -> Option<Rating> {
        Rating::ALL.into_iter().find(|r| r.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Rating::VerySatisfied => "very_satisfied",
            Rating::Satisfied => "satisfied",
            Rating::Basic => "basic",
            Rating::Dissatisfied => "dissatisfied",
            Rating::VeryDissatisfied => "very_dissatisfied",
        }
    }

    /// 5 for very satisfied down to 1 for very dissatisfied.
    pub fn score(self) -> u8 {
        match self {
            Rating::VerySatisfied => 5,
            Rating::Satisfied => 4,
            Rating::Basic => 3,
            Rating::Dissatisfied => 2,
            Rating::VeryDissatisfied => 1,
        }
    }

    /// A bad rating (差评): the citizen is asked why.
    pub fn is_bad(self) -> bool {
        matches!(self, Rating::Dissatisfied | Rating::VeryDissatisfied)
    }
}

/// Why a citizen gave a bad rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RatingReason {
    /// 服务态度
    Attitude,
    /// 等候时间长
    Waiting,
    /// 办事要求不清楚
    RequirementsUnclear,
    /// 其他
    Other,
}

impl RatingReason {
    pub const ALL: [RatingReason; 4] = [
        RatingReason::Attitude,
        RatingReason::Waiting,
        RatingReason::RequirementsUnclear,
        RatingReason::Other,
    ];

    pub fn parse(text: &str) -> Option<RatingReason> {
        RatingReason::ALL.into_iter().find(|r| r.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RatingReason::Attitude => "attitude",
            RatingReason::Waiting => "waiting",
            RatingReason::RequirementsUnclear => "requirements_unclear",
            RatingReason::Other => "other",
        }
    }
}

/// The rating a ticket was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketRating {
    pub rating: Rating,
    pub reason: Option<RatingReason>,
}

/// How many days past its last day to rate a finished ticket is still remembered, so a late
/// rating is told the time to rate is over (and the ticket page still shows the ticket)
/// instead of meeting an unknown token.
pub const ENDED_RATINGS_KEPT_DAYS: u8 = 7;

/// A ticket finished on an earlier day, kept in the [`Registry`](crate::Registry) so its
/// citizen can still rate it from the phone (the ticket page `/t/{token}`) until the end of
/// the next working day after it, by the hall calendar ([`phone_rating_until`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatableTicket {
    /// The ticket page's token: it proves the ticket, as on the day itself.
    pub token: String,
    pub id: TicketId,
    pub number: TicketNumber,
    /// The service it was finished in.
    pub service: ServiceCode,
    /// The window that finished it.
    pub window: WindowNumber,
    /// The day it was issued and finished.
    pub date: LocalDate,
    pub issued_at: Millis,
    pub finished_at: Millis,
    /// The last day on which it may be rated.
    pub rate_until: LocalDate,
    /// The rating, once given (on its day or later).
    pub rating: Option<TicketRating>,
}

/// The last day on which the citizen may rate, from the phone, a ticket finished on `date`:
/// the next working day after it by the hall calendar (the next day when no calendar is set,
/// or when the calendar has no working day within a year).
pub fn phone_rating_until(calendar: Option<&HallCalendar>, date: LocalDate) -> LocalDate {
    let Some(next) = date.next_day() else {
        return date;
    };
    calendar
        .and_then(|calendar| calendar.next_open_date(next))
        .unwrap_or(next)
}

/// The date `days` days after `date` (`date` itself past 9999-12-31).
pub(crate) fn days_after(date: LocalDate, days: u8) -> LocalDate {
    (0..days).fold(date, |day, _| day.next_day().unwrap_or(day))
}
