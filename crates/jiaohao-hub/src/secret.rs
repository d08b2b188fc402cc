//! Unguessable secrets from the operating system's random source, and comparing them.

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    // The OS random source failing leaves no safe way to make a secret; the hub cannot go on.
    getrandom::fill(&mut buffer).expect("the operating system's random source failed");
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

/// A ticket page token: 128 random bits, 32 hex digits.
pub fn ticket_token() -> String {
    random_hex(16)
}

/// An API or device token, or a session cookie: 256 random bits, 64 hex digits.
pub fn api_token() -> String {
    random_hex(32)
}

/// An anti-forgery token for a session or the sign-in form: 128 random bits.
pub fn csrf_token() -> String {
    random_hex(16)
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_long_and_different() {
        let a = super::ticket_token();
        let b = super::ticket_token();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert_eq!(super::api_token().len(), 64);
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(super::same("abc", "abc"));
        assert!(!super::same("abc", "abd"));
        assert!(!super::same("abc", "ab"));
        assert!(!super::same("", ""));
    }
}
