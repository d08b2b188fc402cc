//! What the kiosk tests share: a real hub in this process on `127.0.0.1` over a fresh SQLite
//! file with a clock the test sets, a kiosk token, the real `KioskApp` in an `egui_kittest`
//! harness at 1920×1080, and bounded waits (no bare sleeps standing in for events).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use jiaohao_client::Client;
use jiaohao_hub::{HubConfig, ManualClock, RunningHub, hall_file};
use jiaohao_kiosk::{KioskApp, Options};
use jiaohao_store::Role;
use jiaohao_wire::{DeviceProblem, HallView};
use jiff::Timestamp;
use tempfile::TempDir;

/// Monday 2026-11-23, 09:00 in Asia/Shanghai: every service of the default hall is open.
pub const MORNING: &str = "2026-11-23T01:00:00Z";

/// The longest a test waits for the kiosk to show something.
pub const WAIT: Duration = Duration::from_secs(10);

pub fn at(text: &str) -> Timestamp {
    text.parse()
        .unwrap_or_else(|e| panic!("'{text}' is not an instant: {e}"))
}

/// A hub running in this process, which a test can stop and start again on the same port.
pub struct TestHub {
    pub runtime: tokio::runtime::Runtime,
    pub clock: Arc<ManualClock>,
    pub db: PathBuf,
    pub addr: SocketAddr,
    pub kiosk_token: String,
    /// For reading what the hub was told, as the admin console does.
    pub admin_token: String,
    running: Option<RunningHub>,
    _dir: TempDir,
}

impl TestHub {
    /// The default hall on a fresh database at 09:00 on a weekday.
    pub fn start() -> TestHub {
        TestHub::start_at(MORNING)
    }

    pub fn start_at(instant: &str) -> TestHub {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = dir.path().join("hall.sqlite");
        let kiosk_token =
            jiaohao_hub::cli::create_token(&db, Role::Kiosk, None, "kiosk").expect("a token");
        let admin_token =
            jiaohao_hub::cli::create_token(&db, Role::Admin, None, "admin").expect("a token");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let clock = Arc::new(ManualClock::new(at(instant)));
        let running = runtime
            .block_on(jiaohao_hub::spawn("127.0.0.1:0", config(&db, &clock)))
            .expect("the hub starts");
        TestHub {
            addr: running.addr,
            runtime,
            clock,
            db,
            kiosk_token,
            admin_token,
            running: Some(running),
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the hub gracefully (its event streams end, its port closes).
    pub fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            self.runtime
                .block_on(running.stop())
                .expect("the hub stops cleanly");
        }
    }

    /// Starts the hub again on the same database and the same port.
    pub fn start_again(&mut self) {
        assert!(self.running.is_none(), "the hub is running");
        let listen = self.addr.to_string();
        let deadline = Instant::now() + WAIT;
        let running = loop {
            match self
                .runtime
                .block_on(jiaohao_hub::spawn(&listen, config(&self.db, &self.clock)))
            {
                Ok(running) => break running,
                Err(error) if Instant::now() < deadline => {
                    eprintln!("port {listen} not free yet: {error}");
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(error) => panic!("the hub does not start again on {listen}: {error}"),
            }
        };
        self.running = Some(running);
    }

    pub fn client(&self) -> Client {
        Client::new(self.url())
    }

    /// The hall as `GET /api/hall` shows it.
    pub fn hall(&self) -> HallView {
        self.runtime
            .block_on(self.client().hall())
            .expect("GET /api/hall")
    }

    /// The problems devices reported, newest first, as the admin reads them.
    pub fn device_problems(&self) -> Vec<DeviceProblem> {
        self.runtime
            .block_on(
                self.client()
                    .with_token(self.admin_token.clone())
                    .device_problems(),
            )
            .expect("GET /api/devices/problems")
    }

    /// Waits until the hub holds at least `count` device problems (no event announces them),
    /// failing after [`WAIT`]; returns them, newest first.
    #[track_caller]
    pub fn wait_for_device_problems(&self, count: usize) -> Vec<DeviceProblem> {
        let start = Instant::now();
        loop {
            let problems = self.device_problems();
            if problems.len() >= count {
                return problems;
            }
            if start.elapsed() > WAIT {
                panic!("the hub holds {problems:?}, not {count} device problems, after {WAIT:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Tickets of `service` issued today, as the hub counts them.
    pub fn issued_today(&self, service: &str) -> u32 {
        self.hall()
            .services
            .iter()
            .find(|s| s.def.code == service)
            .unwrap_or_else(|| panic!("no service {service}"))
            .issued_today
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        self.stop();
    }
}

fn config(db: &std::path::Path, clock: &Arc<ManualClock>) -> HubConfig {
    HubConfig {
        seed: hall_file::parse(hall_file::DEFAULT_HALL).expect("the default hall parses"),
        clock: clock.clone(),
        ..HubConfig::new(db)
    }
}

pub type Kiosk = Harness<'static, KioskApp>;

/// The real kiosk app on a 1920×1080 screen, following `hub`.
pub fn kiosk(hub: &TestHub, adjust: impl FnOnce(&mut Options)) -> Kiosk {
    let mut options = Options::new(hub.url(), hub.kiosk_token.clone());
    adjust(&mut options);
    kiosk_with(options)
}

pub fn kiosk_with(options: Options) -> Kiosk {
    let app = KioskApp::new(options).expect("the kiosk starts");
    Harness::builder()
        .with_size([1920.0, 1080.0])
        .with_step_dt(1.0 / 60.0)
        .with_max_steps(20)
        .build_ui_state(|ui, app: &mut KioskApp| app.show(ui), app)
}

/// Every text and button name on screen, for failure messages.
pub fn on_screen(kiosk: &Kiosk) -> Vec<String> {
    kiosk
        .root()
        .query_all_by(|node| node.label().is_some() || node.value().is_some())
        .map(|node| {
            let node = node.accesskit_node();
            node.label().or_else(|| node.value()).unwrap_or_default()
        })
        .collect()
}

/// Whether a widget with exactly this accessible name is on screen.
pub fn shows(kiosk: &Kiosk, label: &str) -> bool {
    kiosk.query_by_label(label).is_some()
}

/// Runs frames until `done` holds, failing after [`WAIT`]; returns how long it took. Frames
/// advance egui's clock by 1/60 s each; the short pause lets the network threads run.
#[track_caller]
pub fn wait_for(kiosk: &mut Kiosk, what: &str, done: impl Fn(&Kiosk) -> bool) -> Duration {
    wait_for_within(kiosk, what, WAIT, done)
}

#[track_caller]
pub fn wait_for_within(
    kiosk: &mut Kiosk,
    what: &str,
    limit: Duration,
    done: impl Fn(&Kiosk) -> bool,
) -> Duration {
    let start = Instant::now();
    loop {
        kiosk.step();
        if done(kiosk) {
            return start.elapsed();
        }
        if start.elapsed() > limit {
            panic!(
                "the kiosk did not show {what} within {limit:?}; it shows {:?}",
                on_screen(kiosk)
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits until the label is on screen.
#[track_caller]
pub fn wait_for_label(kiosk: &mut Kiosk, label: &str) -> Duration {
    let owned = label.to_owned();
    wait_for(kiosk, &format!("'{label}'"), move |k| shows(k, &owned))
}

/// Lets `seconds` of egui time pass (frames at 1/60 s), e.g. past the tap debounce.
pub fn pass(kiosk: &mut Kiosk, seconds: f64) {
    let frames = (seconds * 60.0).ceil() as usize;
    kiosk.run_steps(frames);
}

/// Taps the widget named `label`, as a person would: after a moment to read the screen (the
/// kiosk ignores taps in the first moment of a screen, as bounces), then lets the tap settle.
#[track_caller]
pub fn tap(kiosk: &mut Kiosk, label: &str) {
    pass(kiosk, 0.5);
    kiosk.get_by_label(label).click();
    // Pointer move, press and release: one frame each.
    kiosk.run_steps(3);
    pass(kiosk, 0.6);
}

/// Waits for the welcome screen with the hall's services.
#[track_caller]
pub fn wait_for_welcome(kiosk: &mut Kiosk) {
    wait_for_label(kiosk, "户籍");
    // Past the guard that ignores taps right after a screen appears.
    pass(kiosk, 0.6);
}
