//! Who a citizen is: the 18-character resident ID number (GB 11643) as a typed, checked
//! [`IdNumber`], its masked form for staff, and the key the hall knows a person by
//! ([`PersonKey`]: a keyed hash the caller makes, so the core never holds a number in clear).

use std::fmt;

use crate::time::LocalDate;

/// The weights of the first 17 characters (ISO 7064 MOD 11-2).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// The check character for each value of the weighted sum modulo 11.
const CHECK: &[u8; 11] = b"10X98765432";

/// The first two digits of a valid region code: the provinces, autonomous regions and
/// municipalities of GB/T 2260, Taiwan (71), Hong Kong (81), Macao (82) and the residence
/// permits of Hong Kong, Macao and Taiwan residents (83).
const PROVINCES: [u8; 35] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
];

/// Why a text is not a resident ID number, said so a citizen can correct it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdNumberError {
    /// Not 18 characters.
    Length(usize),
    /// A character other than a digit (or `X` last).
    Character { position: usize },
    /// The first two digits name no province.
    Region,
    /// Characters 7–14 are not a date.
    BirthDate,
    /// The last character does not match the others: a digit was mistyped.
    CheckCharacter { expected: char },
}

impl IdNumberError {
    /// A stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            IdNumberError::Length(_) => "id_number_length",
            IdNumberError::Character { .. } => "id_number_character",
            IdNumberError::Region => "id_number_region",
            IdNumberError::BirthDate => "id_number_birth_date",
            IdNumberError::CheckCharacter { .. } => "id_number_check",
        }
    }
}

impl fmt::Display for IdNumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdNumberError::Length(n) => write!(
                f,
                "身份证号码应为 18 位，您输入了 {n} 位；an ID number has 18 characters, this has {n}"
            ),
            IdNumberError::Character { position } => write!(
                f,
                "身份证号码第 {position} 位不是数字（只有最后一位可以是 X）；character {position} of the ID number is not a digit (only the last may be X)"
            ),
            IdNumberError::Region => f.write_str(
                "身份证号码前两位不是有效的地区代码；the first two digits of the ID number are no region",
            ),
            IdNumberError::BirthDate => f.write_str(
                "身份证号码中的出生日期不存在；the birth date in the ID number does not exist",
            ),
            IdNumberError::CheckCharacter { .. } => f.write_str(
                "身份证号码校验位不对，请检查是否输错；the ID number's check character is wrong: please check it for a typing error",
            ),
        }
    }
}

/// A resident ID number that passed every check of GB 11643: 18 characters, a region, a
/// birth date that exists, and the ISO 7064 MOD 11-2 check character (`X` for 10).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

impl IdNumber {
    /// Parses an ID number; a lower-case `x` last is read as `X`, spaces around are ignored.
    pub fn parse(text: &str) -> Result<IdNumber, IdNumberError> {
        let text = text.trim().to_ascii_uppercase();
        let bytes = text.as_bytes();
        if text.chars().count() != 18 || bytes.len() != 18 {
            return Err(IdNumberError::Length(text.chars().count()));
        }
        for (index, &byte) in bytes.iter().enumerate() {
            let fits = byte.is_ascii_digit() || (index == 17 && byte == b'X');
            if !fits {
                return Err(IdNumberError::Character {
                    position: index + 1,
                });
            }
        }
        let expected = check_character(&bytes[..17]);
        if bytes[17] != expected {
            return Err(IdNumberError::CheckCharacter {
                expected: char::from(expected),
            });
        }
        let province = (bytes[0] - b'0') * 10 + (bytes[1] - b'0');
        if !PROVINCES.contains(&province) {
            return Err(IdNumberError::Region);
        }
        let number = IdNumber(text);
        number.read_birth_date().ok_or(IdNumberError::BirthDate)?;
        Ok(number)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form staff see: the region's first four digits and the last four, the rest as
    /// stars (`1101**********123X`).
    pub fn masked(&self) -> String {
        format!("{}{}{}", &self.0[..4], "*".repeat(10), &self.0[14..])
    }

    /// The birth date the number carries.
    pub fn birth_date(&self) -> LocalDate {
        self.read_birth_date()
            .expect("a parsed ID number has a birth date")
    }

    /// The age in whole years on `date` (0 before the first birthday; a birthday on 29
    /// February counts on 1 March in other years).
    pub fn age_on(&self, date: LocalDate) -> u32 {
        let born = self.birth_date();
        let mut age = i32::from(date.year) - i32::from(born.year);
        if (date.month, date.day) < (born.month, born.day) {
            age -= 1;
        }
        age.max(0) as u32
    }

    fn read_birth_date(&self) -> Option<LocalDate> {
        let year = self.0[6..10].parse().ok()?;
        let month = self.0[10..12].parse().ok()?;
        let day = self.0[12..14].parse().ok()?;
        if year < 1800 {
            return None;
        }
        LocalDate::new(year, month, day).ok()
    }
}

/// The check character of the first 17 digits.
pub fn check_character(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(&digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    CHECK[(sum % 11) as usize]
}

/// Never prints the number in clear: a log line or a panic message shows the masked form.
impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

/// The key a person is known by across days: a keyed hash (HMAC) of their ID number, made by
/// the caller with a key the core never sees; lower-case hex of 32 to 128 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PersonKey(String);

impl PersonKey {
    pub fn parse(text: &str) -> Result<PersonKey, crate::Error> {
        let fits = (32..=128).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if fits {
            Ok(PersonKey(text.to_owned()))
        } else {
            Err(crate::Error::invalid(
                "a person key is lower-case hex of 32 to 128 characters",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a masked ID number as staff see it (`1101**********123X`).
pub fn parse_masked(text: &str) -> Result<String, crate::Error> {
    let bytes = text.as_bytes();
    let fits = bytes.len() == 18
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[4..14].iter().all(|&b| b == b'*')
        && bytes[14..17].iter().all(u8::is_ascii_digit)
        && (bytes[17].is_ascii_digit() || bytes[17] == b'X');
    if fits {
        Ok(text.to_owned())
    } else {
        Err(crate::Error::invalid(format!(
            "'{text}' is not a masked ID number such as 1101**********123X"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standards_example_is_valid() {
        let number = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(number.masked(), "1101**********002X");
        assert_eq!(number.birth_date(), LocalDate::new(1949, 12, 31).unwrap());
        assert_eq!(number.age_on(LocalDate::new(2019, 12, 30).unwrap()), 69);
        assert_eq!(number.age_on(LocalDate::new(2019, 12, 31).unwrap()), 70);
        assert_eq!(
            IdNumber::parse(" 11010519491231002x ").unwrap(),
            number,
            "a lower-case x and spaces around are read"
        );
        assert!(!format!("{number:?}").contains("19491231"));
        // Other published examples.
        for valid in [
            "440524188001010014",
            "11010119900307803X",
            "110101199003074477",
        ] {
            assert!(IdNumber::parse(valid).is_ok(), "{valid}");
        }
    }

    #[test]
    fn each_fault_is_named() {
        assert_eq!(
            IdNumber::parse("1101051949123100"),
            Err(IdNumberError::Length(16))
        );
        assert_eq!(
            IdNumber::parse("1101051949123X002X"),
            Err(IdNumberError::Character { position: 14 })
        );
        assert_eq!(
            IdNumber::parse("110105194912310021"),
            Err(IdNumberError::CheckCharacter { expected: 'X' })
        );
        let mut bad_region = b"00010519491231002".to_vec();
        bad_region.push(check_character(&bad_region));
        assert_eq!(
            IdNumber::parse(std::str::from_utf8(&bad_region).unwrap()),
            Err(IdNumberError::Region)
        );
        let mut bad_date = b"11010519490231002".to_vec();
        bad_date.push(check_character(&bad_date));
        assert_eq!(
            IdNumber::parse(std::str::from_utf8(&bad_date).unwrap()),
            Err(IdNumberError::BirthDate)
        );
        assert!(
            IdNumberError::CheckCharacter { expected: 'X' }
                .to_string()
                .contains("校验位")
        );
    }

    #[test]
    fn a_birthday_on_29_february_counts_from_1_march() {
        let mut first17 = b"11010520000229123".to_vec();
        first17.push(check_character(&first17));
        let number = IdNumber::parse(std::str::from_utf8(&first17).unwrap()).unwrap();
        assert_eq!(number.age_on(LocalDate::new(2001, 2, 28).unwrap()), 0);
        assert_eq!(number.age_on(LocalDate::new(2001, 3, 1).unwrap()), 1);
        assert_eq!(number.age_on(LocalDate::new(1999, 3, 1).unwrap()), 0);
    }

    #[test]
    fn person_keys_and_masked_forms_are_checked() {
        assert!(PersonKey::parse(&"ab".repeat(32)).is_ok());
        assert!(PersonKey::parse("AB").is_err());
        assert!(PersonKey::parse(&"AB".repeat(32)).is_err());
        assert!(parse_masked("1101**********002X").is_ok());
        assert!(parse_masked("11010519491231002X").is_err());
    }
}
