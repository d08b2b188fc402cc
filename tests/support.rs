//! What every whole-system test needs: a real hub on `127.0.0.1:0` over a fresh SQLite file,
//! with a clock the test moves, tokens for each role, clients, and bounded waits on answers and
//! on the live stream.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jiaohao_client::{Client, ClientError, EventStream, StreamEvent};
use jiaohao_hub::limits::{LimitConfig, Rate};
use jiaohao_hub::{HubConfig, ManualClock, RunningHub, hall_file};
use jiaohao_store::Role;
use jiaohao_wire as wire;
use jiff::Timestamp;
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use tempfile::TempDir;

/// Monday 2026-11-23, 09:00 in Asia/Shanghai: every service of the default hall issues tickets.
pub const MORNING: &str = "2026-11-23T09:00:00+08:00";

/// The longest a test waits for an answer or a stream event before it fails.
pub const WAIT: Duration = Duration::from_secs(5);

/// An instant written with its offset, such as `2026-11-23T17:30:00+08:00`.
pub fn at(text: &str) -> Timestamp {
    text.parse()
        .unwrap_or_else(|e| panic!("'{text}' is not an instant: {e}"))
}

/// The secrets of the tokens a test hub is made with.
#[derive(Clone)]
pub struct Tokens {
    pub admin: String,
    pub kiosk: String,
    pub display: String,
    /// A clerk bound to window 3.
    pub clerk3: String,
    /// A clerk who may act for every window.
    pub clerk: String,
}

/// What a test changes in the hub's configuration; kept across restarts.
pub type Adjust = Arc<dyn Fn(&mut HubConfig) + Send + Sync>;

/// The limits every test hub runs with unless a test says otherwise: on (so the code runs
/// in every test), but far above what any test asks for.
pub fn test_limits() -> LimitConfig {
    let wide = Rate {
        burst: 100_000,
        per_minute: 1_000_000,
    };
    LimitConfig {
        tickets: Some(wide),
        public: Some(wide),
    }
}

/// A hub running in this process on the default hall, and a client for each role.
pub struct TestHub {
    pub clock: Arc<ManualClock>,
    pub db: PathBuf,
    pub tokens: Tokens,
    /// No token: what a citizen's phone or a curious visitor uses.
    pub public: Client,
    pub admin: Client,
    pub kiosk: Client,
    pub display: Client,
    pub clerk3: Client,
    pub clerk: Client,
    running: RunningHub,
    adjust: Adjust,
    // Dropped last, so the database outlives the hub that uses it.
    _dir: TempDir,
}

impl TestHub {
    /// A new hall on a fresh database at 09:00 on a weekday.
    pub async fn start() -> TestHub {
        TestHub::start_with(|_| {}).await
    }

    /// As [`TestHub::start`], with the configuration changed by `adjust` (also on restarts).
    pub async fn start_with(adjust: impl Fn(&mut HubConfig) + Send + Sync + 'static) -> TestHub {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = dir.path().join("hall.sqlite");
        let token = |role, window, name| {
            jiaohao_hub::cli::create_token(&db, role, window, name).expect("a token")
        };
        let tokens = Tokens {
            admin: token(Role::Admin, None, "admin"),
            kiosk: token(Role::Kiosk, None, "kiosk"),
            display: token(Role::Display, None, "display"),
            clerk3: token(Role::Clerk, Some(3), "窗口3"),
            clerk: token(Role::Clerk, None, "clerk"),
        };
        let clock = Arc::new(ManualClock::new(at(MORNING)));
        TestHub::spawn(dir, db, clock, tokens, Arc::new(adjust)).await
    }

    async fn spawn(
        dir: TempDir,
        db: PathBuf,
        clock: Arc<ManualClock>,
        tokens: Tokens,
        adjust: Adjust,
    ) -> TestHub {
        let mut config = HubConfig {
            seed: hall_file::parse(hall_file::DEFAULT_HALL).expect("the default hall parses"),
            clock: clock.clone(),
            limits: test_limits(),
            ..HubConfig::new(db.clone())
        };
        adjust(&mut config);
        let running = jiaohao_hub::spawn("127.0.0.1:0", config)
            .await
            .expect("the hub starts");
        let public = Client::new(running.url());
        TestHub {
            admin: public.with_token(&tokens.admin),
            kiosk: public.with_token(&tokens.kiosk),
            display: public.with_token(&tokens.display),
            clerk3: public.with_token(&tokens.clerk3),
            clerk: public.with_token(&tokens.clerk),
            public,
            clock,
            db,
            tokens,
            running,
            adjust,
            _dir: dir,
        }
    }

    /// Stops the hub gracefully and starts a new one on the same database and clock (on a new
    /// port: the clients are made anew).
    pub async fn restart(self) -> TestHub {
        let TestHub {
            clock,
            db,
            tokens,
            running,
            adjust,
            _dir: dir,
            ..
        } = self;
        running.stop().await.expect("the hub stops cleanly");
        TestHub::spawn(dir, db, clock, tokens, adjust).await
    }

    pub async fn stop(self) {
        self.running.stop().await.expect("the hub stops cleanly");
    }

    /// Moves the hub's clock to an instant such as `2026-11-23T17:30:00+08:00`.
    pub fn set_time(&self, instant: &str) {
        self.clock.set(at(instant));
    }

    /// The hall as `GET /api/hall` shows it.
    pub async fn hall(&self) -> wire::HallView {
        self.public.hall().await.expect("GET /api/hall")
    }

    /// Issues a ticket from the kiosk.
    pub async fn issue(&self, service: &str) -> wire::IssuedTicket {
        self.kiosk
            .issue_ticket(service, false, None)
            .await
            .unwrap_or_else(|e| panic!("issuing a {service} ticket: {e}"))
    }

    /// Opens a window as an admin.
    pub async fn open(&self, window: u16) -> wire::WindowStatus {
        self.admin
            .window_action(window, "open")
            .await
            .unwrap_or_else(|e| panic!("opening window {window}: {e}"))
    }

    /// Calls the next ticket to a window as an admin; fails if nothing waits.
    pub async fn call_next(&self, window: u16) -> wire::TicketDetail {
        self.admin
            .call_next(window)
            .await
            .unwrap_or_else(|e| panic!("call-next at window {window}: {e}"))
            .unwrap_or_else(|| panic!("call-next at window {window} found nothing waiting"))
    }

    /// Opens the live stream as the display does.
    pub async fn events(&self, last_event_id: Option<u64>) -> Events {
        Events::open(&self.display, last_event_id).await
    }
}

/// A raw answer: its status, content type and body, for checks the typed client hides.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Reply {
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("the body does not parse ({e}): {}", self.body))
    }

    /// Checks that this is an error of `status` whose body is JSON with a non-empty message
    /// and the code `code`.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "status of {self:?}");
        assert!(
            self.content_type.starts_with("application/json"),
            "an error is JSON, not {:?}: {self:?}",
            self.content_type
        );
        let body: wire::ErrorBody = serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("an error body is {{error, code}} ({e}): {self:?}"));
        assert!(
            !body.error.trim().is_empty(),
            "an error says what is wrong: {self:?}"
        );
        assert_eq!(body.code, code, "error code of {self:?}");
    }
}

/// Sends a request built with [`Client::request`] and reads the whole answer.
pub async fn send(builder: RequestBuilder) -> Reply {
    let response = tokio::time::timeout(WAIT, builder.send())
        .await
        .expect("the hub answers in time")
        .expect("the hub answers");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.text().await.expect("the body arrives");
    Reply {
        status,
        content_type,
        body,
    }
}

/// Shorthand for a request with a JSON body.
pub async fn send_json(
    client: &Client,
    method: Method,
    path: &str,
    body: serde_json::Value,
) -> Reply {
    send(client.request(method, path).json(&body)).await
}

/// Checks that a typed call failed with an API error of `status` and `code`.
#[track_caller]
pub fn expect_api_error<T: std::fmt::Debug>(
    result: Result<T, ClientError>,
    status: u16,
    code: &str,
) {
    match result {
        Err(ClientError::Api { status: got, body }) => {
            assert_eq!(got, status, "status of {body:?}");
            assert_eq!(body.code, code, "code of {body:?}");
            assert!(!body.error.trim().is_empty(), "an error says what is wrong");
        }
        other => panic!("expected a {status} {code} error, got {other:?}"),
    }
}

/// A live stream with a bound on every wait.
pub struct Events {
    stream: EventStream,
}

impl Events {
    pub async fn open(client: &Client, last_event_id: Option<u64>) -> Events {
        let stream = tokio::time::timeout(WAIT, client.events(last_event_id))
            .await
            .expect("the stream opens in time")
            .expect("the stream opens");
        Events { stream }
    }

    /// The next message; fails if none comes within [`WAIT`] or the stream ends.
    pub async fn next(&mut self) -> StreamEvent {
        match tokio::time::timeout(WAIT, self.stream.next()).await {
            Ok(Ok(Some(event))) => event,
            Ok(Ok(None)) => panic!("the stream ended"),
            Ok(Err(e)) => panic!("the stream broke: {e}"),
            Err(_) => panic!("no stream event within {WAIT:?}"),
        }
    }

    /// Skips messages until one named `name`, and returns it.
    pub async fn until(&mut self, name: &str) -> StreamEvent {
        loop {
            let event = self.next().await;
            if event.event == name {
                return event;
            }
        }
    }

    /// Whether the hub ends the stream within [`WAIT`] (messages before the end are skipped).
    pub async fn ends(&mut self) -> bool {
        let end = async {
            loop {
                match self.stream.next().await {
                    Ok(Some(_)) => continue,
                    Ok(None) | Err(_) => return,
                }
            }
        };
        tokio::time::timeout(WAIT, end).await.is_ok()
    }
}

/// The change a stream message carries.
#[track_caller]
pub fn change(event: &StreamEvent) -> wire::ChangeMessage {
    event
        .json()
        .unwrap_or_else(|e| panic!("{} is not a change ({e}): {}", event.event, event.data))
}

/// The password every test user is made with.
pub const PASSWORD: &str = "correct-horse-battery";

impl TestHub {
    /// Adds a person who signs in to the pages, as `jiaohao-hub user add` does.
    pub fn add_user(&self, username: &str, role: Role) {
        jiaohao_hub::people::add_user(&self.db, username, role, PASSWORD)
            .unwrap_or_else(|e| panic!("adding user {username}: {e}"));
    }

    pub fn url(&self) -> String {
        self.running.url()
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
