//! Unguessable secrets from the operating system's random source.

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

/// An API or device token: 256 random bits, 64 hex digits.
pub fn api_token() -> String {
    random_hex(32)
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
}
