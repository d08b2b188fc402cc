//! A window (窗口): its number, name, assigned services (primary first) and state.

use crate::error::Error;
use crate::ids::{ServiceCode, TicketId, WindowNumber};
use crate::time::Millis;

/// What an admin defines about a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowDef {
    pub number: WindowNumber,
    pub name_zh: String,
    pub name_en: String,
    /// The services the window calls for, its primary service first.
    pub services: Vec<ServiceCode>,
}

impl WindowDef {
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
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowState {
    Closed,
    /// Open and idle, ready to call.
    Open,
    Paused {
        reason: String,
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
