//! A service the hall offers: its names, ticket prefix, time targets, daily cap, issuing hours
//! and the documents a citizen must bring (一次性告知).

use crate::error::Error;
use crate::ids::{Prefix, ServiceCode};
use crate::time::ClockTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub code: ServiceCode,
    pub name_zh: String,
    pub name_en: String,
    pub prefix: Prefix,
    /// The time target for waiting, in minutes: a wait up to this is "within target".
    pub wait_target_min: u32,
    /// The time target for handling at the window (限时办结), in minutes.
    pub handling_target_min: u32,
    /// The expected mean handling time in minutes; seeds the wait estimate until the day's
    /// own handling times take over.
    pub handling_estimate_min: u32,
    /// The most tickets issued per day; `None` for no cap.
    pub daily_cap: Option<u32>,
    /// Local times between which tickets are issued; `None` for all day.
    pub hours: Option<(ClockTime, ClockTime)>,
    pub documents_zh: Vec<String>,
    pub documents_en: Vec<String>,
    pub fee_note_zh: String,
    pub fee_note_en: String,
    pub enabled: bool,
}

impl Service {
    /// Checks what the types cannot: names present, sensible targets and hours.
    pub fn validate(&self) -> Result<(), Error> {
        if self.name_zh.trim().is_empty() || self.name_en.trim().is_empty() {
            return Err(Error::invalid(format!(
                "service '{}' needs a Chinese and an English name",
                self.code
            )));
        }
        for (field, value) in [
            ("wait_target_min", self.wait_target_min),
            ("handling_target_min", self.handling_target_min),
            ("handling_estimate_min", self.handling_estimate_min),
        ] {
            if !(1..=24 * 60).contains(&value) {
                return Err(Error::invalid(format!(
                    "{field} of service '{}' must be between 1 and 1440 minutes",
                    self.code
                )));
            }
        }
        if self.daily_cap == Some(0) {
            return Err(Error::invalid(format!(
                "daily_cap of service '{}' must be at least 1 (leave it out for no cap)",
                self.code
            )));
        }
        if let Some((opens, closes)) = self.hours
            && opens >= closes
        {
            return Err(Error::invalid(format!(
                "service '{}' opens at {opens}, which is not before its close at {closes}",
                self.code
            )));
        }
        let texts = self.documents_zh.iter().chain(&self.documents_en).chain([
            &self.fee_note_zh,
            &self.fee_note_en,
            &self.name_zh,
            &self.name_en,
        ]);
        for text in texts {
            if text.chars().count() > 500 {
                return Err(Error::invalid(format!(
                    "a text of service '{}' is longer than 500 characters",
                    self.code
                )));
            }
        }
        if self.documents_zh.len() > 30 || self.documents_en.len() > 30 {
            return Err(Error::invalid(format!(
                "service '{}' lists more than 30 documents",
                self.code
            )));
        }
        Ok(())
    }

    /// Whether tickets may be issued at `time` by the service's hours.
    pub fn issues_at(&self, time: ClockTime) -> bool {
        match self.hours {
            Some((opens, closes)) => opens <= time && time < closes,
            None => true,
        }
    }
}
