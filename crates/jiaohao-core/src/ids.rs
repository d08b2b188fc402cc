//! Names of the things in a hall, each built by a `parse` that says what is wrong.

use std::fmt;

use crate::error::Error;

/// A service's code, such as `hukou`: 1–32 characters of `a-z`, `0-9` and `_`, starting
/// with a letter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceCode(String);

impl ServiceCode {
    pub fn parse(text: &str) -> Result<ServiceCode, Error> {
        let valid = !text.is_empty()
            && text.len() <= 32
            && text.starts_with(|c: char| c.is_ascii_lowercase())
            && text
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if valid {
            Ok(ServiceCode(text.to_owned()))
        } else {
            Err(Error::invalid(format!(
                "'{text}' is not a service code: use 1 to 32 of a-z, 0-9 and _, starting with a letter"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A window's number as shown above the counter: 1–999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WindowNumber(u16);

impl WindowNumber {
    pub fn new(number: u32) -> Result<WindowNumber, Error> {
        if (1..=999).contains(&number) {
            Ok(WindowNumber(number as u16))
        } else {
            Err(Error::invalid(format!(
                "window number {number} is out of range 1 to 999"
            )))
        }
    }

    pub fn parse(text: &str) -> Result<WindowNumber, Error> {
        let number: u32 = text
            .parse()
            .map_err(|_| Error::invalid(format!("'{text}' is not a window number")))?;
        WindowNumber::new(number)
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

impl fmt::Display for WindowNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The letter in front of a service's ticket numbers: one of `A`–`Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Prefix(char);

impl Prefix {
    pub fn parse(text: &str) -> Result<Prefix, Error> {
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_uppercase() => Ok(Prefix(c)),
            _ => Err(Error::invalid(format!(
                "'{text}' is not a ticket prefix: use one capital letter A to Z"
            ))),
        }
    }

    pub fn letter(self) -> char {
        self.0
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A ticket's identity in the log, unique for the life of the hall (numbers repeat daily).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TicketId(pub u64);

/// What the citizen reads: `A012` — prefix, then the per-service, per-day sequence, at least
/// three digits (`A999` is followed by `A1000`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TicketNumber {
    pub prefix: Prefix,
    pub seq: u32,
}

impl TicketNumber {
    pub fn parse(text: &str) -> Result<TicketNumber, Error> {
        let bad = || Error::invalid(format!("'{text}' is not a ticket number such as A012"));
        let mut chars = text.chars();
        let letter = chars.next().ok_or_else(bad)?;
        let prefix = Prefix::parse(&letter.to_string()).map_err(|_| bad())?;
        let digits = chars.as_str();
        if digits.len() < 3 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let seq: u32 = digits.parse().map_err(|_| bad())?;
        if seq == 0 || (digits.len() > 3 && digits.starts_with('0')) {
            return Err(bad());
        }
        Ok(TicketNumber { prefix, seq })
    }
}

impl fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:03}", self.prefix, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_codes() {
        assert!(ServiceCode::parse("hukou").is_ok());
        assert!(ServiceCode::parse("exit_entry").is_ok());
        for bad in ["", "Hukou", "1abc", "a-b", "户籍", &"a".repeat(33)] {
            assert!(ServiceCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn window_numbers() {
        assert_eq!(WindowNumber::parse("3").unwrap().get(), 3);
        for bad in ["0", "1000", "-1", "x", ""] {
            assert!(WindowNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ticket_numbers_round_trip() {
        let a = Prefix::parse("A").unwrap();
        for (seq, text) in [(1, "A001"), (12, "A012"), (999, "A999"), (1000, "A1000")] {
            let number = TicketNumber { prefix: a, seq };
            assert_eq!(number.to_string(), text);
            assert_eq!(TicketNumber::parse(text).unwrap(), number);
        }
        for bad in ["A", "A01", "a001", "A000", "A0001", "AA01", "A01x"] {
            assert!(TicketNumber::parse(bad).is_err(), "{bad}");
        }
    }
}
