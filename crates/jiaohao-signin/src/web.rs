//! How a browser's requests are judged: the session cookie a sign-in sets and a sign-out
//! clears, reading one cookie of a request, and whether a request comes from the service's own
//! pages. Plain strings in and out, so any HTTP library can use them.

/// The `Set-Cookie` value of a session: only for this site's requests (`SameSite=Strict`),
/// never readable by scripts (`HttpOnly`), for `max_age_s` seconds.
pub fn session_cookie(name: &str, secret: &str, max_age_s: i64) -> String {
    format!("{name}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_s}")
}

/// The `Set-Cookie` value that removes a cookie.
pub fn clear_cookie(name: &str) -> String {
    format!("{name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The value of the cookie `name` among a request's `Cookie` headers.
pub fn cookie<'a>(headers: impl IntoIterator<Item = &'a str>, name: &str) -> Option<&'a str> {
    headers
        .into_iter()
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// Whether a request comes from the service's own pages: its `Origin`, when sent, names the
/// host the request was sent to. Browsers send `Origin` with every cross-site POST, PUT and
/// DELETE; `None` for a header means it was not sent, an unreadable one is passed as `Some("")`.
pub fn same_origin(origin: Option<&str>, host: Option<&str>) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    let Some(host) = host else {
        return false;
    };
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|rest| rest == host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_set_read_and_cleared() {
        let set = session_cookie("s", "abc", 60);
        assert_eq!(set, "s=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=60");
        assert!(clear_cookie("s").ends_with("Max-Age=0"));
        assert_eq!(cookie(["a=1; s=abc", "t=2"], "s"), Some("abc"));
        assert_eq!(cookie(["a=1", "s = x"], "t"), None);
    }

    #[test]
    fn only_the_own_origin_or_none_is_the_same_origin() {
        assert!(same_origin(None, Some("hall:8080")));
        assert!(same_origin(Some("http://hall:8080"), Some("hall:8080")));
        assert!(same_origin(Some("https://hall:8080"), Some("hall:8080")));
        assert!(!same_origin(Some("http://evil"), Some("hall:8080")));
        assert!(!same_origin(Some("http://hall:8080"), None));
        assert!(!same_origin(Some(""), Some("hall:8080")));
    }
}
