//! The touchscreen ticket kiosk (自助取号机) at the hall's entrance: a citizen takes a ticket in
//! two taps, in Chinese or English, with an elderly mode, a QR code for the ticket's page, the
//! required documents told once (一次性告知), and a printed ESC/POS slip.
//!
//! [`KioskApp`] draws the screens and is driven by tests without a window; [`run`] opens it in
//! an eframe window (fullscreen on a kiosk), so any binary can launch it.

mod app;
pub mod draw;
pub mod icons;
pub mod qr;
pub mod reader;
pub mod slip;
pub mod text;

use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;

pub use app::{Booked, ELDERLY_SCALE, HubState, KioskApp, PrintState, Problem, Screen, Shown};
pub use slip::{Sink, Slip};
pub use text::Lang;

/// How a kiosk runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The hub's base URL, such as `http://192.168.1.10:8080`.
    pub hub: String,
    /// The kiosk's API token.
    pub token: String,
    pub fullscreen: bool,
    pub printer: Option<Sink>,
    /// The language shown at start and after each citizen.
    pub lang: Lang,
    /// The base of the ticket page URL in the QR code (a citizen's phone must reach it);
    /// the hub URL when `None`.
    pub public_url: Option<String>,
    /// The ticket screen returns to the welcome screen after this long untouched.
    pub return_after: Duration,
    /// The welcome screen gives way to the notices after this long untouched.
    pub idle_after: Duration,
    /// The longest a request to the hub may take before the kiosk retries or says it is paused.
    pub request_timeout: Duration,
    /// The longest each step of printing (connect, write) may take.
    pub printer_timeout: Duration,
    /// An ID-card reader in serial mode (a tty sending 18-character lines).
    pub id_reader: Option<std::path::PathBuf>,
}

impl Options {
    /// Options with the defaults of the command line.
    pub fn new(hub: impl Into<String>, token: impl Into<String>) -> Options {
        Options {
            hub: hub.into(),
            token: token.into(),
            fullscreen: false,
            printer: None,
            lang: Lang::Zh,
            public_url: None,
            return_after: Duration::from_secs(30),
            idle_after: Duration::from_secs(90),
            request_timeout: Duration::from_millis(1500),
            printer_timeout: Duration::from_secs(3),
            id_reader: None,
        }
    }
}

/// `jiaohao-kiosk --hub URL --token TOKEN [--fullscreen] [--printer SINK] [--lang zh|en]`
#[derive(Debug, Clone, Parser)]
#[command(
    name = "jiaohao-kiosk",
    version,
    about = "The touchscreen ticket kiosk of a service hall"
)]
pub struct Args {
    /// The hub's URL, such as http://192.168.1.10:8080; with two hubs in the hall, both
    /// (`URL1,URL2`): the kiosk uses the primary of the highest term and moves on a promotion.
    #[arg(long, env = "JIAOHAO_KIOSK_HUB")]
    pub hub: String,
    /// The kiosk's token (`jiaohao-hub token create --role kiosk`).
    #[arg(long, env = "JIAOHAO_KIOSK_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Fill the screen without window decorations, and refuse to be closed from the screen.
    #[arg(long, env = "JIAOHAO_KIOSK_FULLSCREEN")]
    pub fullscreen: bool,
    /// Where slips are printed: tcp://HOST:9100, a device such as /dev/usb/lp0, or a file.
    #[arg(long, env = "JIAOHAO_KIOSK_PRINTER", value_name = "SINK")]
    pub printer: Option<Sink>,
    /// The language shown at start: zh or en.
    #[arg(long, env = "JIAOHAO_KIOSK_LANG", default_value = "zh", value_parser = parse_lang)]
    pub lang: Lang,
    /// The URL citizens' phones reach the hub's ticket pages at (default: --hub).
    #[arg(long, env = "JIAOHAO_KIOSK_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Seconds the ticket screen stays before returning to the start.
    #[arg(
        long,
        env = "JIAOHAO_KIOSK_RETURN_AFTER",
        default_value_t = 30,
        value_name = "SECONDS"
    )]
    pub return_after: u64,
    /// Seconds without a touch before the notices are shown.
    #[arg(
        long,
        env = "JIAOHAO_KIOSK_IDLE_AFTER",
        default_value_t = 90,
        value_name = "SECONDS"
    )]
    pub idle_after: u64,
    /// An ID-card reader in serial mode, such as /dev/ttyUSB0 (the kiosk's user needs the
    /// `dialout` group). A reader in keyboard mode needs no setting.
    #[arg(long, env = "JIAOHAO_KIOSK_ID_READER", value_name = "DEVICE")]
    pub id_reader: Option<std::path::PathBuf>,
    /// The window's size when not fullscreen.
    #[arg(long, env = "JIAOHAO_KIOSK_SIZE", default_value = "1920x1080", value_name = "WxH", value_parser = parse_size)]
    pub size: (f32, f32),
    /// A TOML file of settings, keys named like the flags (`printer = "tcp://10.0.0.9:9100"`);
    /// a flag or an environment variable beats the file.
    #[arg(long, env = "JIAOHAO_KIOSK_CONFIG", value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// Log lines as readable text or as JSON objects, one per line.
    #[arg(long, env = "JIAOHAO_LOG_FORMAT", value_enum, default_value = "human")]
    pub log_format: jiaohao_config::LogFormat,
}

fn parse_lang(text: &str) -> Result<Lang, String> {
    Lang::parse(text).ok_or_else(|| format!("'{text}' is not a language: use zh or en"))
}

fn parse_size(text: &str) -> Result<(f32, f32), String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("'{text}' is not a size: write it as 1920x1080"))?;
    let parse = |n: &str| {
        n.trim()
            .parse::<f32>()
            .ok()
            .filter(|n| *n >= 200.0)
            .ok_or_else(|| format!("'{text}' is not a size: write it as 1920x1080"))
    };
    Ok((parse(w)?, parse(h)?))
}

impl Args {
    pub fn options(&self) -> Options {
        Options {
            fullscreen: self.fullscreen,
            printer: self.printer.clone(),
            lang: self.lang,
            public_url: self.public_url.clone(),
            return_after: Duration::from_secs(self.return_after.max(5)),
            idle_after: Duration::from_secs(self.idle_after.max(10)),
            id_reader: self.id_reader.clone(),
            ..Options::new(self.hub.clone(), self.token.clone())
        }
    }
}

/// Opens the kiosk window and runs it until the window closes.
pub fn run(args: Args) -> anyhow::Result<()> {
    let options = args.options();
    let mut viewport = egui::ViewportBuilder::default()
        .with_title(options.lang.words().title)
        .with_app_id("jiaohao-kiosk")
        .with_inner_size([args.size.0, args.size.1]);
    if options.fullscreen {
        viewport = viewport.with_fullscreen(true).with_decorations(false);
    }
    let native = eframe::NativeOptions {
        viewport,
        ..Default::default()
    };
    let mut app = KioskApp::new(options).context("starting the kiosk")?;
    eframe::run_native(
        "jiaohao-kiosk",
        native,
        Box::new(move |cc| {
            app.setup(&cc.egui_ctx);
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("the kiosk window failed: {e}"))
}
