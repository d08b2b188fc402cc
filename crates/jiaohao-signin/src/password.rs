//! Passwords as argon2id hashes, and the rules for user names and passwords.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Hashes a password with argon2id and a fresh random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, String> {
    let hash: PasswordHash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| format!("cannot hash the password: {e}"))?;
    Ok(hash.to_string())
}

/// Whether `password` matches a PHC hash; a damaged hash matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash to check unknown user names against, so that a wrong name takes as long as a wrong
/// password and a sign-in form does not tell which names exist.
pub fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password(&crate::secret::session_secret()).unwrap_or_default())
}

/// A user name: 1 to 32 of a–z, 0–9, `_`, `.`, `-`, starting with a letter or digit.
pub fn parse_username(text: &str) -> Result<String, String> {
    let name = text;
    let ok = (1..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c));
    if ok {
        Ok(name.to_owned())
    } else {
        Err(format!(
            "'{name}' is not a user name: use 1 to 32 lower-case letters, digits, '_', '.' or '-'"
        ))
    }
}

/// A password has 8 to 200 characters.
pub fn check_password(password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if !(8..=200).contains(&length) {
        return Err("a password needs 8 to 200 characters".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct-horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct-horse", &hash));
        assert!(!verify_password("correct-hors", &hash));
        assert!(!verify_password("correct-horse", "not a hash"));
        assert!(!verify_password("anything", decoy_hash()));
    }

    #[test]
    fn names_and_passwords_follow_the_rules() {
        assert_eq!(parse_username("zhang.wei-2").unwrap(), "zhang.wei-2");
        for bad in ["", "Zhang", "-x", "a b", "张伟", &"a".repeat(33)] {
            assert!(parse_username(bad).is_err(), "{bad:?}");
        }
        assert!(check_password("1234567").is_err());
        assert!(check_password("12345678").is_ok());
        assert!(check_password(&"x".repeat(201)).is_err());
    }
}
