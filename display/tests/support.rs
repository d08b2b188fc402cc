//! What the display's tests share: a real hub in this process on `127.0.0.1` over a fresh
//! SQLite file with a clock standing at 09:00 on a weekday, clients for the admin and the
//! kiosk, a harness around a `DisplayApp`, and bounded waits for what the screen shows.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use jiaohao_client::Client;
use jiaohao_display::{DisplayApp, DisplayConfig};
use jiaohao_hub::{HubConfig, ManualClock, RunningHub, hall_file};
use jiaohao_store::Role;
use jiaohao_wire as wire;
use tempfile::TempDir;

/// The longest a test waits for the screen to show something.
pub const WAIT: Duration = Duration::from_secs(10);

/// Monday 2026-11-23 01:00 UTC, 09:00 in Shanghai: every service of the default hall issues.
pub fn morning() -> jiff::Timestamp {
    "2026-11-23T01:00:00Z".parse().expect("an instant")
}

/// A hub running in this process, and clients to drive it.
pub struct TestHub {
    pub runtime: tokio::runtime::Runtime,
    pub db: PathBuf,
    pub clock: Arc<ManualClock>,
    pub addr: std::net::SocketAddr,
    pub admin: Client,
    pub kiosk: Client,
    running: Option<RunningHub>,
    // Dropped last: the database outlives the hub.
    _dir: TempDir,
}

impl TestHub {
    pub fn start() -> TestHub {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = dir.path().join("hall.sqlite");
        let token =
            |role, name| jiaohao_hub::cli::create_token(&db, role, None, name).expect("a token");
        let admin = token(Role::Admin, "admin");
        let kiosk = token(Role::Kiosk, "kiosk");
        let clock = Arc::new(ManualClock::new(morning()));
        let running = runtime.block_on(spawn(&db, &clock, "127.0.0.1:0"));
        let addr = running.addr;
        let public = Client::new(running.url());
        TestHub {
            admin: public.with_token(admin),
            kiosk: public.with_token(kiosk),
            runtime,
            db,
            clock,
            addr,
            running: Some(running),
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the hub gracefully (its streams end).
    pub fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            self.runtime
                .block_on(running.stop())
                .expect("the hub stops cleanly");
        }
    }

    /// Starts the hub again on the same database and the same port.
    pub fn start_again(&mut self) {
        assert!(self.running.is_none(), "stop the hub first");
        let listen = self.addr.to_string();
        let running = self.runtime.block_on(spawn(&self.db, &self.clock, &listen));
        assert_eq!(running.addr, self.addr);
        self.running = Some(running);
    }

    pub fn issue(&self, service: &str) -> wire::IssuedTicket {
        self.runtime
            .block_on(self.kiosk.issue_ticket(service, false, None))
            .unwrap_or_else(|e| panic!("issuing a {service} ticket: {e}"))
    }

    pub fn window(&self, window: u16, action: &str) -> wire::WindowStatus {
        self.runtime
            .block_on(self.admin.window_action(window, action))
            .unwrap_or_else(|e| panic!("{action} window {window}: {e}"))
    }

    pub fn pause(&self, window: u16, reason: &str) -> wire::WindowStatus {
        self.runtime
            .block_on(self.admin.pause(window, reason))
            .unwrap_or_else(|e| panic!("pausing window {window}: {e}"))
    }

    pub fn call_next(&self, window: u16) -> wire::TicketDetail {
        self.runtime
            .block_on(self.admin.call_next(window))
            .unwrap_or_else(|e| panic!("call-next at window {window}: {e}"))
            .unwrap_or_else(|| panic!("nothing waits for window {window}"))
    }

    pub fn finish(&self, window: u16) -> wire::TicketDetail {
        self.runtime
            .block_on(self.admin.ticket_action(window, "finish"))
            .unwrap_or_else(|e| panic!("finish at window {window}: {e}"))
    }

    pub fn recall(&self, window: u16) -> wire::TicketDetail {
        self.runtime
            .block_on(self.admin.ticket_action(window, "recall"))
            .unwrap_or_else(|e| panic!("recall at window {window}: {e}"))
    }

    pub fn hall(&self) -> wire::HallView {
        self.runtime
            .block_on(self.admin.hall())
            .expect("GET /api/hall")
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn spawn(db: &std::path::Path, clock: &Arc<ManualClock>, listen: &str) -> RunningHub {
    let config = || HubConfig {
        seed: hall_file::parse(hall_file::DEFAULT_HALL).expect("the default hall parses"),
        clock: clock.clone(),
        ..HubConfig::new(db)
    };
    // The port of a hub that just stopped is free at once (SO_REUSEADDR), but allow a moment.
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

/// A display in hall mode on `hub`, silent.
pub fn hall_config(hub: &TestHub) -> DisplayConfig {
    DisplayConfig {
        voice: jiaohao_display::Voice::Off,
        ..DisplayConfig::hall(hub.url())
    }
}

/// A harness around a display at `size` (1920×1080 or 1080×1920).
pub fn harness(app: DisplayApp, size: (f32, f32)) -> Harness<'static, DisplayApp> {
    Harness::builder()
        .with_size(egui::Vec2::new(size.0, size.1))
        .with_step_dt(1.0 / 60.0)
        .build_ui_state(|ui, app: &mut DisplayApp| app.show(ui), app)
}

pub const LANDSCAPE: (f32, f32) = (1920.0, 1080.0);
pub const PORTRAIT: (f32, f32) = (1080.0, 1920.0);

/// Every label on screen, for failure messages.
pub fn labels(harness: &Harness<'_, DisplayApp>) -> Vec<String> {
    harness
        .root()
        .children_recursive()
        .filter_map(|node| {
            let node = node.accesskit_node();
            node.value().or(node.label()).map(|s| s.to_string())
        })
        .collect()
}

/// Steps the display until `done` holds; fails after [`WAIT`] with what the screen shows.
#[track_caller]
pub fn wait_for(
    harness: &mut Harness<'_, DisplayApp>,
    what: &str,
    done: impl Fn(&Harness<'_, DisplayApp>) -> bool,
) {
    let deadline = Instant::now() + WAIT;
    loop {
        harness.step();
        if done(harness) {
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "the display did not show {what} within {WAIT:?}; it shows: {:#?}",
                labels(harness)
            );
        }
        // The hub and the display's link run on their own threads: give them a moment.
        std::thread::sleep(Duration::from_millis(15));
    }
}

/// Steps the display until a label containing `text` is on screen.
#[track_caller]
pub fn wait_for_text(harness: &mut Harness<'_, DisplayApp>, text: &str) {
    wait_for(harness, &format!("{text:?}"), |h| {
        h.query_all_by_label_contains(text).next().is_some()
    });
}

/// Steps the display until no label contains `text`.
#[track_caller]
pub fn wait_for_no_text(harness: &mut Harness<'_, DisplayApp>, text: &str) {
    wait_for(harness, &format!("no {text:?}"), |h| {
        h.query_all_by_label_contains(text).next().is_none()
    });
}
