//! The wall display of a service hall (综合屏) and the screen above each window (窗口屏).
//!
//! [`DisplayApp`] follows the hub's event stream (a snapshot, then changes; reconnecting by
//! itself) and draws the hall for people 5–15 m away: the newest call very large, the last
//! calls, every window and service, the notices, a clock and a connection indicator. Each call
//! is announced in Mandarin (and English when asked) from recorded clips, one announcement at a
//! time, in order. [`run`] opens it in a native window; `main.rs` only parses [`Args`].

pub mod announcer;
pub mod app;
pub mod audio;
pub mod hall;
pub mod paint;
pub mod palette;
pub mod screen;
pub mod text;
pub mod ticker;
pub mod voice;
pub mod window;

use std::path::PathBuf;

use clap::Parser;

pub use announcer::AudioOut;
pub use app::{DisplayApp, DisplayConfig, FixedSource, HallSource};
pub use ticker::TickerMode;
pub use voice::Voice;

/// The display's command line.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "jiaohao-display",
    version,
    about = "The wall display of a jiaohao service hall: calls in large type, heard in Mandarin"
)]
pub struct Args {
    /// The hub, such as http://127.0.0.1:8080; with two hubs in the hall, both (`URL1,URL2`):
    /// the display follows the primary of the highest term and moves on a promotion.
    #[arg(long, env = "JIAOHAO_DISPLAY_HUB")]
    pub hub: String,
    /// A `display` token (`jiaohao-hub token create --role display`). The stream is public,
    /// so a display runs without one, but then the hub serves it as a stranger: under a flood
    /// from the hall's Wi-Fi its stream can be refused with the phones'.
    #[arg(long, env = "JIAOHAO_DISPLAY_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Window mode: the small screen above window N, showing only that window.
    #[arg(long, env = "JIAOHAO_DISPLAY_WINDOW", value_name = "N")]
    pub window: Option<u16>,
    /// Fill the screen without decorations (needs a window manager under X11).
    #[arg(long, env = "JIAOHAO_DISPLAY_FULLSCREEN")]
    pub fullscreen: bool,
    /// Announce calls in zh, zh+en or off. Default: zh in hall mode, off in window mode (one
    /// voice per hall; a window screen announces only its own window's calls when asked).
    #[arg(long, env = "JIAOHAO_DISPLAY_VOICE", value_enum)]
    pub voice: Option<Voice>,
    /// Where announcements go: `speaker`, or `file:DIR` to write each as a numbered WAV.
    #[arg(
        long,
        env = "JIAOHAO_DISPLAY_AUDIO_OUT",
        default_value = "speaker",
        value_name = "speaker|file:DIR"
    )]
    pub audio_out: AudioOut,
    /// A directory with the hall's own recordings (zh/qing.wav, …), replacing built-in clips.
    #[arg(long, env = "JIAOHAO_DISPLAY_VOICE_DIR", value_name = "DIR")]
    pub voice_dir: Option<PathBuf>,
    /// When the notice ticker scrolls: auto (while the hall is busy; pages turn when it is
    /// quiet), scroll (always) or page (never: one frame every few seconds, for machines that
    /// render in software).
    #[arg(
        long,
        env = "JIAOHAO_DISPLAY_TICKER",
        value_enum,
        default_value = "auto"
    )]
    pub ticker: TickerMode,
    /// Leave today's figures (警务公开) out of the notice strip.
    #[arg(long, env = "JIAOHAO_DISPLAY_NO_FIGURES")]
    pub no_figures: bool,
    /// The window's size when not fullscreen, such as 1920x1080 or 1080x1920.
    #[arg(long, env = "JIAOHAO_DISPLAY_SIZE", value_name = "WxH", value_parser = parse_size)]
    pub size: Option<(u32, u32)>,
    /// A TOML file of settings, keys named like the flags (`window = 3`); a flag or an
    /// environment variable beats the file.
    #[arg(long, env = "JIAOHAO_DISPLAY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log lines as readable text or as JSON objects, one per line.
    #[arg(long, env = "JIAOHAO_LOG_FORMAT", value_enum, default_value = "human")]
    pub log_format: jiaohao_config::LogFormat,
}

fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("'{text}' is not a size like 1920x1080"))?;
    let parse = |v: &str| {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|v| (100..=16_384).contains(v))
            .ok_or_else(|| format!("'{text}' is not a size like 1920x1080"))
    };
    Ok((parse(w)?, parse(h)?))
}

impl Args {
    /// Hall mode on `hub` with the defaults, for a launcher that starts the display itself.
    pub fn for_hub(hub: impl Into<String>) -> Args {
        Args {
            hub: hub.into(),
            token: None,
            window: None,
            fullscreen: false,
            voice: None,
            audio_out: AudioOut::Speaker,
            voice_dir: None,
            ticker: TickerMode::Auto,
            no_figures: false,
            size: None,
            config: None,
            log_format: jiaohao_config::LogFormat::Human,
        }
    }

    /// What the display runs with.
    pub fn config(&self) -> DisplayConfig {
        let voice = self.voice.unwrap_or(match self.window {
            None => Voice::Zh,
            Some(_) => Voice::Off,
        });
        DisplayConfig {
            hub: self.hub.clone(),
            token: self.token.clone(),
            window: self.window,
            voice,
            audio_out: self.audio_out.clone(),
            voice_dir: self.voice_dir.clone(),
            ticker: self.ticker,
            figures: !self.no_figures,
        }
    }
}

/// Opens the display in a native window and runs it until the window closes. Callable from any
/// thread, so a launcher (the demo hall) can run its hub on the main thread.
pub fn run(args: Args) -> anyhow::Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .try_init();
    let config = args.config();
    tracing::info!(
        hub = %config.hub,
        window = ?config.window,
        voice = %config.voice,
        audio_out = ?config.audio_out,
        "starting the display"
    );
    if let Some(warning) = config.missing_token_warning() {
        tracing::warn!("{warning}");
    }
    let app = DisplayApp::new(config)?;
    let (w, h) = args.size.unwrap_or(match args.window {
        None => (1920, 1080),
        Some(_) => (1280, 720),
    });
    let title = match args.window {
        None => "叫号显示屏 jiaohao display".to_owned(),
        Some(n) => format!("{n}号窗口屏 jiaohao window {n}"),
    };
    let mut viewport = egui::ViewportBuilder::default()
        .with_title(title)
        .with_inner_size([w as f32, h as f32]);
    if args.fullscreen {
        viewport = viewport
            .with_fullscreen(true)
            .with_decorations(false)
            .with_position([0.0, 0.0]);
    }
    let options = eframe::NativeOptions {
        viewport,
        event_loop_builder: Some(Box::new(|builder| {
            #[cfg(target_os = "linux")]
            {
                use winit::platform::x11::EventLoopBuilderExtX11;
                builder.with_any_thread(true);
            }
            let _ = builder;
        })),
        ..Default::default()
    };
    eframe::run_native(
        "jiaohao-display",
        options,
        Box::new(move |_cc| Ok(Box::new(app))),
    )
    .map_err(|e| anyhow::anyhow!("the display window failed: {e}"))
}
