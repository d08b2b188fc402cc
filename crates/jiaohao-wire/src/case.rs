//! 差评 cases (差评工单) as the admin console and the API see them.

use serde::{Deserialize, Serialize};

/// One step of a case: who, when, what they wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseStepView {
    /// RFC 3339 in the hall's time zone.
    pub at: String,
    /// The hall's day of the step, `YYYY-MM-DD`.
    pub date: String,
    pub by: String,
    /// The callback note or the fix; empty for the close.
    pub text: String,
}

/// A case: the rating that opened it, its state, its steps and its due date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseView {
    /// The case's id (the rated ticket's id).
    pub id: u64,
    pub number: String,
    pub service: String,
    pub service_name_zh: String,
    pub service_name_en: String,
    pub window: u16,
    /// The hall's day of the rating.
    pub date: String,
    pub rating: String,
    pub reason: Option<String>,
    pub opened_at: String,
    /// The last day the fix is due on.
    pub due: String,
    /// `open`, `called_back`, `fixed` or `closed`.
    pub state: String,
    /// Not fixed and past its due date.
    pub overdue: bool,
    /// Fixed on or before its due date.
    pub fixed_in_time: bool,
    pub called_back: Option<CaseStepView>,
    pub fixed: Option<CaseStepView>,
    pub closed: Option<CaseStepView>,
    /// The phone number the citizen left for the callback, if any and not erased yet.
    pub callback_phone: Option<String>,
    /// Who served the rated ticket: the user who finished it (`zhang`), or the device's actor
    /// when no user was signed in.
    #[serde(default)]
    pub clerk: Option<String>,
}

/// The answer of `GET /api/cases`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseList {
    /// The hall's day, against which `overdue` is judged.
    pub today: String,
    pub cases: Vec<CaseView>,
}

/// The body of `POST /api/cases/{id}/callback`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseNoteRequest {
    pub note: String,
}

/// The body of `POST /api/cases/{id}/fix`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFixRequest {
    pub fix: String,
}
