//! Unguessable secrets from the operating system's random source, and comparing them: the
//! hub's names for what `jiaohao-signin` makes.

use jiaohao_signin::secret::random_hex;
pub use jiaohao_signin::secret::{csrf_token, same};

/// A ticket page token: 128 random bits, 32 hex digits.
pub fn ticket_token() -> String {
    random_hex(16)
}

/// An API or device token, or a session cookie: 256 random bits, 64 hex digits.
pub fn api_token() -> String {
    jiaohao_signin::secret::session_secret()
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
