//! The citizen's rating of a finished ticket (好差评, 群众评议): five levels, and for the two
//! bad ones the reason the citizen gives. One rating per ticket, given at the window's tablet
//! in the minutes after the ticket was finished there.

/// How long after a ticket is finished its citizen may still rate it, in milliseconds.
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
