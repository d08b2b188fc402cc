//! A browser's side of the pages: users who sign in, the sign-in form, and a session kept by
//! hand (the session cookie and the anti-forgery token).

use jiaohao_store::Role;
use jiaohao_wire as wire;
use reqwest::{Method, RequestBuilder};

use crate::{Reply, TestHub, send};

/// The password every test user is made with.
pub const PASSWORD: &str = "correct-horse-battery";

impl TestHub {
    /// Adds a person who signs in to the pages, as `jiaohao-hub user add` does.
    pub fn add_user(&self, username: &str, role: Role) {
        jiaohao_hub::people::add_user(&self.db, username, role, PASSWORD)
            .unwrap_or_else(|e| panic!("adding user {username}: {e}"));
    }

    /// Signs in through the form, as a browser does; fails if the hub refuses.
    pub async fn sign_in(&self, username: &str, window: Option<u16>) -> WebSession {
        match WebSession::sign_in(&self.url(), username, PASSWORD, window).await {
            Ok(session) => session,
            Err(reply) => panic!("signing in as {username} failed: {reply:?}"),
        }
    }
}

/// Percent-encodes a form value.
fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of a cookie in a response's `Set-Cookie` headers, with the whole header.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<(String, String)> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|header| {
            let (pair, _) = header.split_once(';').unwrap_or((header, ""));
            let (key, value) = pair.split_once('=')?;
            (key.trim() == name).then(|| (value.trim().to_owned(), header.to_owned()))
        })
}

/// A browser's session, kept by hand: the session cookie and the page's anti-forgery token.
#[derive(Clone)]
pub struct WebSession {
    pub base: String,
    pub cookie: String,
    pub csrf: String,
    /// The whole `Set-Cookie` header the sign-in answered with.
    pub set_cookie: String,
    /// Where the sign-in sent the browser.
    pub location: String,
    http: reqwest::Client,
}

/// A client that does not follow redirects, so a test sees them.
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

/// Fetches the sign-in form: its form token and the cookie that goes with it.
pub async fn login_form(base: &str) -> (String, String) {
    let response = no_redirects()
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("the sign-in page");
    let (cookie, _) = set_cookie(&response, "jiaohao_login").expect("the form's cookie");
    let body = response.text().await.expect("the page");
    let marker = "name=\"login_token\" value=\"";
    let start = body.find(marker).expect("the form token") + marker.len();
    let token = body[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned();
    (cookie, token)
}

/// Posts the sign-in form; answers the raw reply.
pub async fn post_login(
    base: &str,
    username: &str,
    password: &str,
    window: Option<u16>,
    origin: Option<&str>,
) -> (reqwest::Response, Reply) {
    let (cookie, token) = login_form(base).await;
    let body = format!(
        "username={}&password={}&window={}&next=&login_token={}",
        form_encode(username),
        form_encode(password),
        window.map(|w| w.to_string()).unwrap_or_default(),
        token
    );
    let mut request = no_redirects()
        .post(format!("{base}/login"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Cookie", format!("jiaohao_login={cookie}"))
        .body(body);
    if let Some(origin) = origin {
        request = request.header("Origin", origin);
    }
    let response = request.send().await.expect("the hub answers");
    let reply = Reply {
        status: response.status().as_u16(),
        content_type: response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        body: String::new(),
    };
    (response, reply)
}

impl WebSession {
    pub async fn sign_in(
        base: &str,
        username: &str,
        password: &str,
        window: Option<u16>,
    ) -> Result<WebSession, Reply> {
        let (response, mut reply) = post_login(base, username, password, window, None).await;
        let found = set_cookie(&response, "jiaohao_session");
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        reply.body = response.text().await.unwrap_or_default();
        let Some((cookie, set_cookie)) = found.filter(|_| reply.status == 303) else {
            return Err(reply);
        };
        let mut session = WebSession {
            base: base.to_owned(),
            cookie,
            csrf: String::new(),
            set_cookie,
            location,
            http: no_redirects(),
        };
        let me: wire::Me = session.get("/api/me").await.json();
        session.csrf = me.csrf_token.expect("a session has an anti-forgery token");
        Ok(session)
    }

    /// A request with the session cookie and, for changes, the anti-forgery token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let change = method != Method::GET;
        let builder = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("Cookie", format!("jiaohao_session={}", self.cookie));
        if change {
            builder.header("X-CSRF-Token", &self.csrf)
        } else {
            builder
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        send(self.request(Method::GET, path)).await
    }

    pub async fn send_json(&self, method: Method, path: &str, body: serde_json::Value) -> Reply {
        send(self.request(method, path).json(&body)).await
    }
}
