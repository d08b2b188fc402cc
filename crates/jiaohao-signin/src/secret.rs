//! Unguessable secrets from the operating system's random source, and comparing them in time
//! that does not tell where they differ.

/// `bytes` random bytes as hex digits.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    // The OS random source failing leaves no safe way to make a secret; nothing can go on.
    getrandom::fill(&mut buffer).expect("the operating system's random source failed");
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

/// A session cookie (or an API token): 256 random bits, 64 hex digits.
pub fn session_secret() -> String {
    random_hex(32)
}

/// An anti-forgery token for a session or a sign-in form: 128 random bits, 32 hex digits.
pub fn csrf_token() -> String {
    random_hex(16)
}

/// Compares two secrets in time that does not depend on where they differ; an empty secret
/// matches nothing.
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_different_and_compare_whole() {
        let (a, b) = (session_secret(), session_secret());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(csrf_token().len(), 32);
        assert!(same(&a, &a.clone()));
        assert!(!same(&a, &b));
        assert!(!same("abc", "ab"));
        assert!(!same("", ""));
    }
}
