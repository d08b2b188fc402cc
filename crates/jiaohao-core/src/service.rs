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
    /// Tickets only with the citizen's ID number (`identity = "required"`): one ticket per
    /// person a day, a second request reprints the first (against ticket hoarding, 号贩子).
    pub identity_required: bool,
}

impl Service {
    /// A service open all day with no cap, no documents and no fee note, enabled, with a wait
    /// target of 20 minutes, a handling target of 30 and a handling estimate of 10; the
    /// `with_*` setters change what differs.
    pub fn new(
        code: ServiceCode,
        prefix: Prefix,
        name_zh: impl Into<String>,
        name_en: impl Into<String>,
    ) -> Service {
        Service {
            code,
            name_zh: name_zh.into(),
            name_en: name_en.into(),
            prefix,
            wait_target_min: 20,
            handling_target_min: 30,
            handling_estimate_min: 10,
            daily_cap: None,
            hours: None,
            documents_zh: Vec::new(),
            documents_en: Vec::new(),
            fee_note_zh: String::new(),
            fee_note_en: String::new(),
            enabled: true,
            identity_required: false,
        }
    }

    /// The wait target and the handling target, in minutes.
    pub fn with_targets(mut self, wait_min: u32, handling_min: u32) -> Service {
        self.wait_target_min = wait_min;
        self.handling_target_min = handling_min;
        self
    }

    /// The expected mean handling time, in minutes.
    pub fn with_handling_estimate(mut self, minutes: u32) -> Service {
        self.handling_estimate_min = minutes;
        self
    }

    pub fn with_daily_cap(mut self, cap: u32) -> Service {
        self.daily_cap = Some(cap);
        self
    }

    /// The local times between which tickets are issued.
    pub fn with_hours(mut self, opens: ClockTime, closes: ClockTime) -> Service {
        self.hours = Some((opens, closes));
        self
    }

    /// The documents to bring (一次性告知), in Chinese and English.
    pub fn with_documents(mut self, zh: Vec<String>, en: Vec<String>) -> Service {
        self.documents_zh = zh;
        self.documents_en = en;
        self
    }

    pub fn with_fee_note(mut self, zh: impl Into<String>, en: impl Into<String>) -> Service {
        self.fee_note_zh = zh.into();
        self.fee_note_en = en.into();
        self
    }

    /// Whether tickets need the citizen's ID number.
    pub fn with_identity_required(mut self, required: bool) -> Service {
        self.identity_required = required;
        self
    }

    pub fn with_enabled(mut self, enabled: bool) -> Service {
        self.enabled = enabled;
        self
    }

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
