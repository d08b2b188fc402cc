//! A window (窗口): its number, name, assigned services (primary first) and state.

use crate::absence::Absence;
use crate::error::Error;
use crate::ids::{ServiceCode, TicketId, WindowNumber};
use crate::time::{ClockTime, Millis};

/// The most scheduled breaks one window may have in a day.
pub const MAX_BREAKS: usize = 6;

/// A scheduled break (e.g. lunch, 12:00–13:00): the window stops calling at `from` (it finishes
/// the ticket in hand) and is back at `to`, every day. The wait estimate plans with it; the
/// clerk still pauses and resumes the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Break {
    pub from: ClockTime,
    pub to: ClockTime,
}

impl Break {
    /// Whether the clock time falls inside the break.
    pub fn contains(&self, time: ClockTime) -> bool {
        self.from <= time && time < self.to
    }
}

/// What an admin defines about a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowDef {
    pub number: WindowNumber,
    pub name_zh: String,
    pub name_en: String,
    /// The services the window calls for, its primary service first.
    pub services: Vec<ServiceCode>,
    /// Scheduled breaks, in clock order, not overlapping.
    pub breaks: Vec<Break>,
}

impl WindowDef {
    /// A window definition from the plain words every boundary writes it in (the API, the
    /// stored log): names trimmed, service codes and `HH:MM` break times parsed, the whole
    /// validated. The one parse both use.
    pub fn parse(
        number: u32,
        name_zh: &str,
        name_en: &str,
        services: &[String],
        breaks: &[[String; 2]],
    ) -> Result<WindowDef, Error> {
        let window = WindowDef {
            number: WindowNumber::new(number)?,
            name_zh: name_zh.trim().to_owned(),
            name_en: name_en.trim().to_owned(),
            services: services
                .iter()
                .map(|code| ServiceCode::parse(code))
                .collect::<Result<_, _>>()?,
            breaks: breaks
                .iter()
                .map(|[from, to]| {
                    Ok(Break {
                        from: ClockTime::parse(from)?,
                        to: ClockTime::parse(to)?,
                    })
                })
                .collect::<Result<_, Error>>()?,
        };
        window.validate()?;
        Ok(window)
    }

    pub fn validate(&self) -> Result<(), Error> {
        if self.name_zh.trim().is_empty() || self.name_en.trim().is_empty() {
            return Err(Error::invalid(format!(
                "window {} needs a Chinese and an English name",
                self.number
            )));
        }
        if self.name_zh.chars().count() > 100 || self.name_en.chars().count() > 100 {
            return Err(Error::invalid(format!(
                "the name of window {} is longer than 100 characters",
                self.number
            )));
        }
        for (i, code) in self.services.iter().enumerate() {
            if self.services[..i].contains(code) {
                return Err(Error::invalid(format!(
                    "window {} lists service '{code}' twice",
                    self.number
                )));
            }
        }
        if self.breaks.len() > MAX_BREAKS {
            return Err(Error::invalid(format!(
                "window {} has more than {MAX_BREAKS} breaks",
                self.number
            )));
        }
        for (i, one) in self.breaks.iter().enumerate() {
            if one.from >= one.to {
                return Err(Error::invalid(format!(
                    "the break {}–{} of window {} ends before it starts",
                    one.from, one.to, self.number
                )));
            }
            if let Some(before) = i.checked_sub(1).map(|j| self.breaks[j])
                && before.to > one.from
            {
                return Err(Error::invalid(format!(
                    "the breaks of window {} overlap or are out of order",
                    self.number
                )));
            }
        }
        Ok(())
    }

    /// The scheduled break the clock time falls in, if any.
    pub fn break_at(&self, time: ClockTime) -> Option<Break> {
        self.breaks.iter().copied().find(|b| b.contains(time))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowState {
    Closed,
    /// Open and idle, ready to call.
    Open,
    Paused {
        reason: Absence,
    },
    Serving {
        ticket: TicketId,
    },
}

impl WindowState {
    pub fn as_str(&self) -> &'static str {
        match self {
            WindowState::Closed => "closed",
            WindowState::Open => "open",
            WindowState::Paused { .. } => "paused",
            WindowState::Serving { .. } => "serving",
        }
    }

    /// Whether the window is staffed and calling (idle or serving).
    pub fn is_working(&self) -> bool {
        matches!(self, WindowState::Open | WindowState::Serving { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub def: WindowDef,
    pub state: WindowState,
    /// When the window entered its current state.
    pub state_since: Millis,
    /// How many green-channel tickets in a row this window called last (the starvation guard).
    pub consecutive_green: u32,
}

impl Window {
    pub fn number(&self) -> WindowNumber {
        self.def.number
    }

    pub fn serving(&self) -> Option<TicketId> {
        match self.state {
            WindowState::Serving { ticket } => Some(ticket),
            _ => None,
        }
    }
}
