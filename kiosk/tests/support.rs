//! What the kiosk tests share: the workspace's test hub (`jiaohao-testkit`: a real hub in this
//! process on `127.0.0.1` over a fresh SQLite file with a clock the test sets), the real
//! `KioskApp` in an `egui_kittest` harness at 1920×1080, and bounded waits (no bare sleeps
//! standing in for events).

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use jiaohao_kiosk::{KioskApp, Options};
pub use jiaohao_testkit::{BlockingHub as TestHub, at};

/// The longest a test waits for the kiosk to show something.
pub const WAIT: Duration = Duration::from_secs(10);

pub type Kiosk = Harness<'static, KioskApp>;

/// The real kiosk app on a 1920×1080 screen, following `hub`.
pub fn kiosk(hub: &TestHub, adjust: impl FnOnce(&mut Options)) -> Kiosk {
    let mut options = Options::new(hub.url(), hub.tokens.kiosk.clone());
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

/// A pseudo-terminal standing in for a serial ID card reader: the slave's device path (the
/// kiosk's `--id-reader`), the master side, into which a test writes card lines, and the slave
/// itself, which the test keeps open (closing it would hang up the line).
pub fn pty_reader() -> (std::path::PathBuf, std::fs::File, std::os::fd::OwnedFd) {
    let pty = nix::pty::openpty(
        None::<&nix::pty::Winsize>,
        None::<&nix::sys::termios::Termios>,
    )
    .expect("a pseudo-terminal");
    let device = nix::unistd::ttyname(&pty.slave).expect("the slave's name");
    (device, std::fs::File::from(pty.master), pty.slave)
}
