//! 差评工单: the follow-up a bad rating opens. A case is opened by the rating itself (the
//! rating commands emit [`Event::CaseOpened`](crate::Event::CaseOpened) right after
//! `TicketRated`), and a supervisor moves it forward, one step at a time and never back:
//! `open` → `called_back` (回访, with a note) → `fixed` (整改, what was done) → `closed`. No
//! step may be skipped: the national rules ask for a callback on every 差评, and a case is
//! closed only once its fix is recorded.
//!
//! A case is due N working days after the day of its rating, by the hall calendar (N is the
//! hall setting `case_due_working_days`). It is **overdue** while it is not yet fixed and the
//! hall's day is past its due date; a fixed case is no longer overdue even if it is not closed
//! yet, since the fix is what the rules set a time for. It is **fixed in time** when its fix was
//! recorded on or before its due date.
//!
//! A case's id is its ticket's id: one rating per ticket (一次一评), so at most one case.

use crate::calendar::HallCalendar;
use crate::error::Error;
use crate::event::Event;
use crate::ids::{ServiceCode, TicketId, TicketNumber, WindowNumber};
use crate::rating::{Rating, RatingReason};
use crate::time::{LocalDate, Millis};

/// The default number of working days a case has from its rating to its fix.
pub const DEFAULT_DUE_WORKING_DAYS: u8 = 5;
/// The most working days a hall may give a case.
pub const MAX_DUE_WORKING_DAYS: u8 = 60;
/// The longest callback note or fix, in characters.
pub const MAX_CASE_TEXT: usize = 2000;

/// Where a case stands; the order is the order of the steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CaseState {
    /// 待回访
    Open,
    /// 已回访
    CalledBack,
    /// 已整改
    Fixed,
    /// 已办结
    Closed,
}

impl CaseState {
    pub const ALL: [CaseState; 4] = [
        CaseState::Open,
        CaseState::CalledBack,
        CaseState::Fixed,
        CaseState::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Open => "open",
            CaseState::CalledBack => "called_back",
            CaseState::Fixed => "fixed",
            CaseState::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<CaseState> {
        CaseState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            CaseState::Open => "待回访",
            CaseState::CalledBack => "已回访",
            CaseState::Fixed => "已整改",
            CaseState::Closed => "已办结",
        }
    }

    /// The state a case must be in for a step to `self`: the one just before it.
    pub fn before(self) -> Option<CaseState> {
        match self {
            CaseState::Open => None,
            CaseState::CalledBack => Some(CaseState::Open),
            CaseState::Fixed => Some(CaseState::CalledBack),
            CaseState::Closed => Some(CaseState::Fixed),
        }
    }
}

/// One step of a case: who took it, when, on which day of the hall, and what they wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseStep {
    pub at: Millis,
    /// The hall's local day of the step.
    pub date: LocalDate,
    /// Who took the step, as the signed-in user's name.
    pub by: String,
    /// The callback note or the fix; empty for the close.
    pub text: String,
}

/// A 差评 case as the log tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The rated ticket's id, which is also the case's id.
    pub ticket: TicketId,
    pub number: TicketNumber,
    pub service: ServiceCode,
    pub window: WindowNumber,
    /// The hall's day of the rating: the day whose figures the case counts in.
    pub date: LocalDate,
    pub rating: Rating,
    pub reason: Option<RatingReason>,
    pub opened_at: Millis,
    /// The last day the fix is due on.
    pub due: LocalDate,
    pub called_back: Option<CaseStep>,
    pub fixed: Option<CaseStep>,
    pub closed: Option<CaseStep>,
}

impl Case {
    pub fn state(&self) -> CaseState {
        if self.closed.is_some() {
            CaseState::Closed
        } else if self.fixed.is_some() {
            CaseState::Fixed
        } else if self.called_back.is_some() {
            CaseState::CalledBack
        } else {
            CaseState::Open
        }
    }

    /// Not yet fixed and `today` is past the due date (see the module's documentation).
    pub fn is_overdue(&self, today: LocalDate) -> bool {
        self.fixed.is_none() && today > self.due
    }

    /// The fix was recorded on or before the due date.
    pub fn fixed_in_time(&self) -> bool {
        self.fixed
            .as_ref()
            .is_some_and(|step| step.date <= self.due)
    }

    /// Checks that the case may take the step to `to` now.
    pub fn check_step(&self, to: CaseState) -> Result<(), Error> {
        let state = self.state();
        if to.before() == Some(state) {
            Ok(())
        } else {
            Err(Error::CaseStepRefused {
                case: self.ticket,
                state,
                step: to,
            })
        }
    }

    /// Folds a step from the log; one the case is not ready for (a damaged log) changes
    /// nothing, so a state only moves forward. Whether it was taken.
    pub(crate) fn fold_step(&mut self, to: CaseState, step: CaseStep) -> bool {
        if self.check_step(to).is_err() {
            return false;
        }
        match to {
            CaseState::Open => {}
            CaseState::CalledBack => self.called_back = Some(step),
            CaseState::Fixed => self.fixed = Some(step),
            CaseState::Closed => self.closed = Some(step),
        }
        true
    }

    /// The case a [`Event::CaseOpened`] logged at `at` opens; `None` for any other event.
    pub fn opened_by(event: &Event, at: Millis) -> Option<Case> {
        let Event::CaseOpened {
            case,
            number,
            service,
            window,
            date,
            rating,
            reason,
            due,
        } = event
        else {
            return None;
        };
        Some(Case {
            ticket: *case,
            number: *number,
            service: service.clone(),
            window: *window,
            date: *date,
            rating: *rating,
            reason: *reason,
            opened_at: at,
            due: *due,
            called_back: None,
            fixed: None,
            closed: None,
        })
    }

    /// The step a logged case event takes, with the case's id; `None` for any other event.
    pub fn step_of(event: &Event, at: Millis) -> Option<(TicketId, CaseState, CaseStep)> {
        let (case, to, by, date, text) = match event {
            Event::CaseCalledBack {
                case,
                note,
                by,
                date,
            } => (case, CaseState::CalledBack, by, date, note.as_str()),
            Event::CaseFixed {
                case,
                fix,
                by,
                date,
            } => (case, CaseState::Fixed, by, date, fix.as_str()),
            Event::CaseClosed { case, by, date } => (case, CaseState::Closed, by, date, ""),
            _ => return None,
        };
        let step = CaseStep {
            at,
            date: *date,
            by: by.clone(),
            text: text.to_owned(),
        };
        Some((*case, to, step))
    }
}

/// The day a case rated on `date` is due: the `working_days`th open day after `date` by the
/// calendar (every day is open without one). Never a closed day; if the calendar has no open
/// day within its look-ahead, the due date falls `working_days` calendar days later.
pub fn due_date(calendar: Option<&HallCalendar>, date: LocalDate, working_days: u8) -> LocalDate {
    let every_day = HallCalendar::every_day();
    let calendar = calendar.unwrap_or(&every_day);
    let mut day = date;
    for _ in 0..working_days.max(1) {
        let Some(next) = day
            .next_day()
            .and_then(|after| calendar.next_open_date(after))
        else {
            return plain_days_after(date, working_days);
        };
        day = next;
    }
    day
}

fn plain_days_after(date: LocalDate, days: u8) -> LocalDate {
    let mut day = date;
    for _ in 0..days.max(1) {
        day = day.next_day().unwrap_or(day);
    }
    day
}

/// Checks a callback note or a fix: not empty, not too long.
pub fn check_case_text(what: &str, text: &str) -> Result<(), Error> {
    if text.trim().is_empty() {
        return Err(Error::invalid(format!(
            "请填写{}；the {} must not be empty",
            if what == "fix" {
                "整改情况"
            } else {
                "回访记录"
            },
            if what == "fix" {
                "fix"
            } else {
                "callback note"
            }
        )));
    }
    if text.chars().count() > MAX_CASE_TEXT {
        return Err(Error::invalid(format!(
            "内容不能超过 {MAX_CASE_TEXT} 字；the text must have at most {MAX_CASE_TEXT} characters"
        )));
    }
    Ok(())
}

/// Checks who took a step: a name of 1 to 100 characters.
pub fn check_by(by: &str) -> Result<(), Error> {
    if by.trim().is_empty() || by.chars().count() > 100 {
        return Err(Error::invalid(
            "a case step needs who took it (1 to 100 characters)",
        ));
    }
    Ok(())
}

/// The figures of a set of cases, as reports give them per window and month: how many, how
/// many were called back (回访率), how many fixed by their due date (按期整改率), how many are
/// overdue now. The hub's reports and the city's use this one sum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseFigures {
    pub cases: u32,
    pub called_back: u32,
    pub fixed_in_time: u32,
    pub overdue: u32,
}

impl CaseFigures {
    /// Counts a case as it stands, judging overdue against the hall's day `today`.
    pub fn add(&mut self, case: &Case, today: LocalDate) {
        self.cases += 1;
        self.called_back += u32::from(case.called_back.is_some());
        self.fixed_in_time += u32::from(case.fixed_in_time());
        self.overdue += u32::from(case.is_overdue(today));
    }

    /// The share of cases called back, in percent with one decimal; `None` without cases.
    pub fn callback_pct(&self) -> Option<f64> {
        pct(self.called_back, self.cases)
    }

    /// The share of cases fixed by their due date, in percent with one decimal.
    pub fn fixed_in_time_pct(&self) -> Option<f64> {
        pct(self.fixed_in_time, self.cases)
    }
}

fn pct(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| (f64::from(part) * 1000.0 / f64::from(whole)).round() / 10.0)
}
