//! The one test harness of the workspace: a real hub in the test's process on `127.0.0.1` over
//! a fresh SQLite file, with a clock the test moves, tokens and clients for each role, bounded
//! waits on answers and on the live stream, and a browser's session kept by hand. The system
//! tests use [`TestHub`] from async tests; the kiosk's and the display's egui tests use
//! [`BlockingHub`], which owns its runtime.

mod blocking;
pub mod flood;
mod http;
mod metrics;
pub mod tls_proxy;
mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use blocking::BlockingHub;
pub use http::*;
pub use metrics::{parse_exposition, scrape};
pub use web::*;

use jiaohao_client::Client;
use jiaohao_hub::limits::{LimitConfig, Rate};
use jiaohao_hub::{HubConfig, ManualClock, RunningHub, hall_file};
use jiaohao_store::Role;
use jiaohao_wire as wire;
use jiff::Timestamp;
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
    /// Where the hub listens; [`TestHub::start_again`] listens there again.
    pub addr: SocketAddr,
    pub tokens: Tokens,
    /// No token: what a citizen's phone or a curious visitor uses.
    pub public: Client,
    pub admin: Client,
    pub kiosk: Client,
    pub display: Client,
    pub clerk3: Client,
    pub clerk: Client,
    running: Option<RunningHub>,
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
        TestHub::start_at_with(MORNING, adjust).await
    }

    /// A new hall on a fresh database with the clock at `instant`, the configuration changed
    /// by `adjust` (also on restarts).
    pub async fn start_at_with(
        instant: &str,
        adjust: impl Fn(&mut HubConfig) + Send + Sync + 'static,
    ) -> TestHub {
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
        let clock = Arc::new(ManualClock::new(at(instant)));
        let adjust: Adjust = Arc::new(adjust);
        let running = spawn(&db, &clock, &adjust, "127.0.0.1:0").await;
        TestHub::around(dir, db, clock, tokens, adjust, running)
    }

    fn around(
        dir: TempDir,
        db: PathBuf,
        clock: Arc<ManualClock>,
        tokens: Tokens,
        adjust: Adjust,
        running: RunningHub,
    ) -> TestHub {
        let public = Client::new(running.url());
        TestHub {
            admin: public.with_token(&tokens.admin),
            kiosk: public.with_token(&tokens.kiosk),
            display: public.with_token(&tokens.display),
            clerk3: public.with_token(&tokens.clerk3),
            clerk: public.with_token(&tokens.clerk),
            public,
            addr: running.addr,
            clock,
            db,
            tokens,
            running: Some(running),
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
        if let Some(running) = running {
            running.stop().await.expect("the hub stops cleanly");
        }
        let running = spawn(&db, &clock, &adjust, "127.0.0.1:0").await;
        TestHub::around(dir, db, clock, tokens, adjust, running)
    }

    pub async fn stop(mut self) {
        self.halt().await;
    }

    /// Stops the hub gracefully (its event streams end, its port closes), keeping its
    /// database, clock and port for [`TestHub::start_again`].
    pub async fn halt(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("the hub stops cleanly");
        }
    }

    /// Starts the hub again on the same database and the same port (the clients still fit).
    pub async fn start_again(&mut self) {
        assert!(self.running.is_none(), "stop the hub first");
        let listen = self.addr.to_string();
        let running = spawn(&self.db, &self.clock, &self.adjust, &listen).await;
        assert_eq!(running.addr, self.addr);
        self.running = Some(running);
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A standby of this hub (`serve --follow` with a new `replica` token) over a fresh
    /// database beside this hub's, listening on `listen` (`127.0.0.1:0` for any port).
    pub async fn start_standby(&self, listen: &str) -> RunningHub {
        let token = jiaohao_hub::cli::create_token(&self.db, Role::Replica, None, "standby")
            .expect("a replica token");
        let config = HubConfig {
            clock: self.clock.clone(),
            limits: test_limits(),
            follow: Some(jiaohao_hub::standby::FollowConfig {
                primary: self.url(),
                token,
            }),
            ..HubConfig::new(self._dir.path().join("standby.sqlite"))
        };
        jiaohao_hub::spawn(listen, config)
            .await
            .expect("the standby starts")
    }

    /// The SMS code last sent to `phone` (the only run of six digits in its message).
    pub fn sms_code(&self, phone: &str) -> Option<String> {
        let text = std::fs::read_to_string(sms_sink(&self.db)).unwrap_or_default();
        text.lines()
            .rev()
            .filter_map(|line| line.split_once('\t'))
            .filter(|(to, _)| *to == phone)
            .find_map(|(_, message)| six_digits(message))
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

/// The file a test hub over `db` writes its booking SMS to.
pub fn sms_sink(db: &std::path::Path) -> PathBuf {
    db.with_file_name("sms.txt")
}

/// Starts a hub on the default hall over `db`. The port of a hub that just stopped is free at
/// once (SO_REUSEADDR), but a moment is allowed.
async fn spawn(
    db: &std::path::Path,
    clock: &Arc<ManualClock>,
    adjust: &Adjust,
    listen: &str,
) -> RunningHub {
    let config = || {
        let mut config = HubConfig {
            seed: hall_file::parse(hall_file::DEFAULT_HALL).expect("the default hall parses"),
            clock: clock.clone(),
            limits: test_limits(),
            sms: jiaohao_hub::sms::SmsSender::File(sms_sink(db)),
            ..HubConfig::new(db)
        };
        adjust(&mut config);
        config
    };
    let deadline = Instant::now() + WAIT;
    loop {
        match jiaohao_hub::spawn(listen, config()).await {
            Ok(running) => return running,
            Err(error) if Instant::now() < deadline => {
                eprintln!("hub not started yet on {listen}: {error}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("the hub does not start on {listen}: {error}"),
        }
    }
}

/// The only run of exactly six digits in a message, if there is one.
pub fn six_digits(message: &str) -> Option<String> {
    let runs: Vec<String> = message
        .split(|c: char| !c.is_ascii_digit())
        .filter(|run| !run.is_empty())
        .map(str::to_owned)
        .collect();
    let six: Vec<&String> = runs.iter().filter(|run| run.len() == 6).collect();
    (six.len() == 1 && runs.iter().all(|run| run.len() < 6 || run.len() == 6))
        .then(|| six[0].clone())
}
