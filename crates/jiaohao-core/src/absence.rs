//! Why a window is paused or closed (暂停、关窗原因): a fixed class, so reports can group
//! and a rota can excuse, plus the clerk's own words.

use crate::error::Error;

/// The longest note, in characters.
pub const ABSENCE_NOTE_MAX: usize = 200;

/// The fixed classes of a reason, in the order a clerk is offered them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AbsenceClass {
    /// 休息
    Break,
    /// 会议
    Meeting,
    /// 故障 (a system or device fault)
    SystemFault,
    /// 培训
    Training,
    /// 下班
    OffDuty,
    /// 其他
    Other,
}

impl AbsenceClass {
    pub const ALL: [AbsenceClass; 6] = [
        AbsenceClass::Break,
        AbsenceClass::Meeting,
        AbsenceClass::SystemFault,
        AbsenceClass::Training,
        AbsenceClass::OffDuty,
        AbsenceClass::Other,
    ];

    /// The stable name, such as `system_fault`.
    pub fn as_str(self) -> &'static str {
        match self {
            AbsenceClass::Break => "break",
            AbsenceClass::Meeting => "meeting",
            AbsenceClass::SystemFault => "system_fault",
            AbsenceClass::Training => "training",
            AbsenceClass::OffDuty => "off_duty",
            AbsenceClass::Other => "other",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            AbsenceClass::Break => "休息",
            AbsenceClass::Meeting => "会议",
            AbsenceClass::SystemFault => "故障",
            AbsenceClass::Training => "培训",
            AbsenceClass::OffDuty => "下班",
            AbsenceClass::Other => "其他",
        }
    }

    /// The class by its stable name, or by its Chinese name (also 系统故障, as the counter
    /// page once sent it).
    pub fn parse(text: &str) -> Option<AbsenceClass> {
        let text = text.trim();
        AbsenceClass::ALL
            .into_iter()
            .find(|c| c.as_str() == text || c.name_zh() == text)
            .or_else(|| (text == "系统故障").then_some(AbsenceClass::SystemFault))
    }

    /// The index of the class in [`AbsenceClass::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A reason for a pause or a close: its class and, optionally, the clerk's words.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Absence {
    pub class: AbsenceClass,
    /// Free text; empty when none was given. Trimmed.
    pub note: String,
}

impl Absence {
    pub fn new(class: AbsenceClass) -> Absence {
        Absence {
            class,
            note: String::new(),
        }
    }

    /// A reason from a class name and optional words, saying what is wrong.
    pub fn parse(class: &str, note: Option<&str>) -> Result<Absence, Error> {
        let class = AbsenceClass::parse(class).ok_or_else(|| {
            Error::invalid(format!(
                "'{}' is not a reason class: break, meeting, system_fault, training, off_duty or other",
                class.trim()
            ))
        })?;
        let absence = Absence {
            class,
            note: note.map(str::trim).unwrap_or_default().to_owned(),
        };
        absence.validate()?;
        Ok(absence)
    }

    /// A reason as given before classes existed (a pause's free text): a class name stands
    /// for its class, any other words are `other` with those words.
    pub fn from_words(text: &str) -> Absence {
        match AbsenceClass::parse(text) {
            Some(class) => Absence::new(class),
            None => Absence {
                class: AbsenceClass::Other,
                note: text.trim().to_owned(),
            },
        }
    }

    /// A note is at most [`ABSENCE_NOTE_MAX`] characters.
    pub fn validate(&self) -> Result<(), Error> {
        if self.note.chars().count() > ABSENCE_NOTE_MAX {
            return Err(Error::invalid(format!(
                "a reason's note is at most {ABSENCE_NOTE_MAX} characters"
            )));
        }
        Ok(())
    }
}

impl From<&str> for Absence {
    /// As [`Absence::from_words`].
    fn from(text: &str) -> Absence {
        Absence::from_words(text)
    }
}
