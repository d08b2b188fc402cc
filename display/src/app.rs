//! [`DisplayApp`]: the wall display as an egui app, testable without a window. Each frame it
//! takes the changes that arrived from the hub (calls to highlight and announce, in order),
//! draws the latest hall in hall or window mode, and asks for the next frame only when
//! something will move: the highlight of a new call, the notice ticker's next step, the clock's
//! next minute, or the hub waking it. Idle, it draws nothing.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use jiaohao_client::{Client, HallTime};
use jiaohao_ui::{HubLink, LinkStatus};
use jiaohao_wire::{Change, ChangeMessage, HallView};

use crate::announcer::{self, Announcer, AudioOut};
use crate::audio::ClipBank;
use crate::screen::{ClockText, HIGHLIGHT_SECS, Highlight, Screen};
use crate::text;
use crate::ticker::{BUSY_SECS, Ticker, TickerMode};
use crate::voice::{Call, Voice};

/// Where the display's hall comes from: the hub's live stream ([`HubLink`]) or, in tests of the
/// drawing alone, a [`FixedSource`].
pub trait HallSource: Send {
    fn hall(&self) -> Option<HallView>;
    fn status(&self) -> LinkStatus;
    /// The changes received since the last call, oldest first.
    fn take_changes(&self) -> Vec<ChangeMessage>;
    /// The hall's clock, when the source knows it; the machine's clock stands in otherwise.
    fn hall_time(&self) -> Option<HallTime> {
        None
    }
}

impl HallSource for HubLink {
    fn hall(&self) -> Option<HallView> {
        HubLink::hall(self)
    }

    fn status(&self) -> LinkStatus {
        HubLink::status(self)
    }

    fn take_changes(&self) -> Vec<ChangeMessage> {
        HubLink::take_changes(self)
    }

    fn hall_time(&self) -> Option<HallTime> {
        HubLink::hall_time(self)
    }
}

/// A hall set by hand, for tests of the drawing: no network.
#[derive(Default)]
pub struct FixedSource {
    state: Mutex<Fixed>,
}

#[derive(Default)]
struct Fixed {
    hall: Option<HallView>,
    status: Option<LinkStatus>,
    changes: VecDeque<ChangeMessage>,
}

impl FixedSource {
    pub fn new(hall: Option<HallView>, status: LinkStatus) -> Arc<FixedSource> {
        Arc::new(FixedSource {
            state: Mutex::new(Fixed {
                hall,
                status: Some(status),
                changes: VecDeque::new(),
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Fixed> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_hall(&self, hall: Option<HallView>) {
        self.lock().hall = hall;
    }

    pub fn set_status(&self, status: LinkStatus) {
        self.lock().status = Some(status);
    }

    /// Queues a change, as if it had just arrived from the hub.
    pub fn push_change(&self, change: ChangeMessage) {
        self.lock().changes.push_back(change);
    }
}

impl HallSource for Arc<FixedSource> {
    fn hall(&self) -> Option<HallView> {
        self.lock().hall.clone()
    }

    fn status(&self) -> LinkStatus {
        self.lock().status.clone().unwrap_or(LinkStatus::Connecting)
    }

    fn take_changes(&self) -> Vec<ChangeMessage> {
        self.lock().changes.drain(..).collect()
    }
}

/// How the display runs: everything the command line decides.
#[derive(Debug, Clone)]
pub struct DisplayConfig {
    /// The hub, such as `http://127.0.0.1:8080`.
    pub hub: String,
    /// A `display` token. The stream is public, so a display runs without one; but the hub
    /// then serves it as a stranger (see [`DisplayConfig::missing_token_warning`]).
    pub token: Option<String>,
    /// Window mode for this window; hall mode when `None`.
    pub window: Option<u16>,
    pub voice: Voice,
    pub audio_out: AudioOut,
    /// A hall's own recordings, replacing the built-in clips of the same name.
    pub voice_dir: Option<std::path::PathBuf>,
    pub ticker: TickerMode,
    /// Whether the notice strip leads with today's figures (警务公开: served, mean wait, share
    /// within target, 满意率).
    pub figures: bool,
}

impl DisplayConfig {
    /// Hall mode on `hub`, speaking Mandarin through the speaker.
    pub fn hall(hub: impl Into<String>) -> DisplayConfig {
        DisplayConfig {
            hub: hub.into(),
            token: None,
            window: None,
            voice: Voice::Zh,
            audio_out: AudioOut::Speaker,
            voice_dir: None,
            ticker: TickerMode::Auto,
            figures: true,
        }
    }
}

impl DisplayConfig {
    /// What the display logs at its start when it has no token: the hub keeps room for devices
    /// only for an address that showed a valid token in the last 15 minutes (or holds a stream
    /// opened with one), so a display
    /// without one competes with the phones under a flood. It still runs (the stream is
    /// public, and a hall's screens must not go dark over a missing setting).
    pub fn missing_token_warning(&self) -> Option<&'static str> {
        self.token.is_none().then_some(
            "no display token: the hub serves this screen as a stranger, so under a flood from \
             the hall's Wi-Fi its stream can be refused with the phones'; give it one made with \
             `jiaohao-hub token create --role display` (token = \"…\" in display.toml)",
        )
    }
}

/// A call older than this, against the newest change seen, is shown but not announced: after a
/// long cut the replayed calls are history, not someone's turn.
const STALE_CALL: jiff::SignedDuration = jiff::SignedDuration::from_mins(2);
/// Frame interval while a call is highlighted: a slow pulse needs few frames, and each frame
/// of a large screen is costly when rendered in software.
const PULSE_FRAME: Duration = Duration::from_millis(100);

/// The wall display.
pub struct DisplayApp {
    config: DisplayConfig,
    source: Box<dyn HallSource>,
    /// Set on the first frame, so the link can wake the UI.
    ctx: Arc<OnceLock<egui::Context>>,
    announcer: Option<Announcer>,
    highlight: Option<Highlight>,
    /// The newest change's time on the hub's clock.
    newest_change: Option<jiff::Timestamp>,
    started: bool,
    ticker: Ticker,
    /// When the last change arrived (egui seconds): the hall is busy.
    last_change: Option<f64>,
    zone: Option<(String, jiff::tz::TimeZone)>,
    /// Every call taken from the stream and announced, in order (for tests and logs).
    calls: Vec<Call>,
}

impl DisplayApp {
    /// Starts following the hub and the announcer. Fails on a bad `--voice-dir` or an audio
    /// directory that cannot be made.
    pub fn new(config: DisplayConfig) -> anyhow::Result<DisplayApp> {
        let ctx: Arc<OnceLock<egui::Context>> = Arc::new(OnceLock::new());
        let wake_ctx = ctx.clone();
        let mut client = Client::new(config.hub.clone());
        if let Some(token) = &config.token {
            client = client.with_token(token);
        }
        let link = HubLink::start(client, move || {
            if let Some(ctx) = wake_ctx.get() {
                ctx.request_repaint();
            }
        })?;
        DisplayApp::with_source(config, Box::new(link), ctx)
    }

    /// A display drawing from `source` instead of a hub (tests of the drawing).
    pub fn from_source(
        config: DisplayConfig,
        source: Box<dyn HallSource>,
    ) -> anyhow::Result<DisplayApp> {
        DisplayApp::with_source(config, source, Arc::new(OnceLock::new()))
    }

    fn with_source(
        config: DisplayConfig,
        source: Box<dyn HallSource>,
        ctx: Arc<OnceLock<egui::Context>>,
    ) -> anyhow::Result<DisplayApp> {
        let announcer = match config.voice {
            Voice::Off => None,
            voice => {
                let bank = match &config.voice_dir {
                    Some(dir) => ClipBank::from_dir(dir)?,
                    None => ClipBank::built_in()?,
                };
                let output = announcer::output_for(&config.audio_out)?;
                Some(Announcer::start(voice, Arc::new(bank), output))
            }
        };
        Ok(DisplayApp {
            config,
            source,
            ctx,
            announcer,
            highlight: None,
            newest_change: None,
            started: false,
            ticker: Ticker::default(),
            last_change: None,
            zone: None,
            calls: Vec::new(),
        })
    }

    /// Every call taken from the stream for announcing, in order.
    pub fn calls(&self) -> &[Call] {
        &self.calls
    }

    /// Calls queued or being announced.
    pub fn announcements_pending(&self) -> usize {
        self.announcer.as_ref().map_or(0, Announcer::pending)
    }

    /// Stops taking calls and waits until every queued announcement has been made.
    pub fn finish_announcements(&mut self) {
        if let Some(announcer) = self.announcer.take() {
            announcer.finish();
        }
    }

    /// The highlighted call, while it is highlighted.
    pub fn highlight(&self) -> Option<&Highlight> {
        self.highlight.as_ref()
    }

    fn start(&mut self, ctx: &egui::Context) {
        if self.started {
            return;
        }
        self.started = true;
        let _ = self.ctx.set(ctx.clone());
        jiaohao_ui::fonts::install(ctx);
        ctx.set_visuals(egui::Visuals::dark());
        ctx.global_style_mut(|style| {
            style.interaction.selectable_labels = false;
            style.visuals.panel_fill = crate::palette::BACKGROUND;
            style.visuals.window_fill = crate::palette::BACKGROUND;
        });
    }

    /// One frame: take the changes, draw, and decide when the next frame is due.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.start(&ctx);
        let now = ui.input(|i| i.time);
        let changes = self.source.take_changes();
        // The newest time of the whole batch first: a replay after a long cut ends with the
        // present, and the calls before it are history.
        for message in &changes {
            if let Ok(at) = message.at.parse::<jiff::Timestamp>() {
                self.newest_change = Some(self.newest_change.map_or(at, |n| n.max(at)));
            }
        }
        for message in changes {
            self.take_change(message, now);
        }
        if self
            .highlight
            .as_ref()
            .is_some_and(|h| now - h.since >= HIGHLIGHT_SECS)
        {
            self.highlight = None;
        }
        let hall = self.source.hall();
        let status = self.source.status();
        let clock = self.clock(hall.as_ref());
        let ticker_scrolls = match self.config.ticker {
            TickerMode::Scroll => true,
            TickerMode::Page => false,
            TickerMode::Auto => self.last_change.is_some_and(|at| now - at < BUSY_SECS),
        };
        let screen = Screen {
            hall: hall.as_ref(),
            status: &status,
            highlight: self
                .highlight
                .as_ref()
                .filter(|_| status == LinkStatus::Live),
            now,
            clock: &clock,
            hub: &self.config.hub,
            ticker_scrolls,
            figures: self.config.figures,
        };
        match self.config.window {
            None => crate::hall::show(ui, &screen, &mut self.ticker),
            Some(number) => crate::window::show(ui, &screen, number),
        }
        self.schedule(&ctx, now, &status);
    }

    /// A call starts a highlight and is queued for announcing; recalls too.
    fn take_change(&mut self, message: ChangeMessage, now: f64) {
        self.last_change = Some(now);
        let at = message.at.parse::<jiff::Timestamp>().ok();
        let Change::TicketCalled {
            number,
            service,
            window,
            recall,
            ..
        } = message.change
        else {
            return;
        };
        if self.config.window.is_some_and(|mine| mine != window) {
            return;
        }
        let stale = match (at, self.newest_change) {
            (Some(at), Some(newest)) => newest.duration_since(at) > STALE_CALL,
            _ => false,
        };
        if stale {
            tracing::info!(%number, window, "not announcing a call from before the connection was lost");
            return;
        }
        self.highlight = Some(Highlight {
            number: number.clone(),
            window,
            recall,
            since: now,
        });
        let call = Call {
            number,
            service,
            window,
            recall,
        };
        if let Some(announcer) = &self.announcer {
            announcer.announce(call.clone());
        }
        self.calls.push(call);
    }

    /// The hall's clock (the hub's, which runs faster on a simulated day) in the hall's time
    /// zone (Asia/Shanghai until the hall says otherwise).
    fn clock(&mut self, hall: Option<&HallView>) -> ClockText {
        let name = hall.map_or("Asia/Shanghai", |h| h.timezone.as_str());
        if self.zone.as_ref().is_none_or(|(n, _)| n != name) {
            let zone = jiff::tz::TimeZone::get(name)
                .unwrap_or_else(|_| jiff::tz::TimeZone::fixed(jiff::tz::offset(8)));
            self.zone = Some((name.to_owned(), zone));
        }
        let zone = self
            .zone
            .as_ref()
            .map(|(_, z)| z.clone())
            .unwrap_or(jiff::tz::TimeZone::UTC);
        let local = self.hall_now().to_zoned_datetime(zone);
        let weekday = local.weekday().to_monday_one_offset();
        ClockText {
            time: format!("{:02}:{:02}", local.hour(), local.minute()),
            date_zh: text::date_zh(local.month(), local.day(), weekday),
            date_en: text::date_en(local.month(), local.day(), weekday),
        }
    }

    /// The hall's time now, by the hub's clock when the source knows it.
    fn hall_now(&self) -> jiff::Timestamp {
        self.source
            .hall_time()
            .map_or_else(jiff::Timestamp::now, |time| time.now())
    }

    /// Asks for the next frame only when something will change on screen.
    fn schedule(&self, ctx: &egui::Context, now: f64, status: &LinkStatus) {
        let mut next = match self.source.hall_time() {
            Some(time) => time.until_next_minute().unwrap_or(STILL_CLOCK),
            None => seconds_to_next_minute(),
        };
        if self.highlight.is_some() && *status == LinkStatus::Live {
            next = next.min(PULSE_FRAME);
        }
        if self.config.window.is_none()
            && let Some(ticker) = self.ticker.next_frame(now)
        {
            next = next.min(ticker);
        }
        ctx.request_repaint_after(next);
    }
}

/// How long to wait for the next frame when the hall's clock stands still (a test's clock):
/// nothing on the clock will change.
const STILL_CLOCK: Duration = Duration::from_secs(3600);

/// Time until the machine's clock shows the next minute (a little after, so it has turned).
fn seconds_to_next_minute() -> Duration {
    let now = jiff::Timestamp::now();
    let into_minute = now.as_millisecond().rem_euclid(60_000);
    Duration::from_millis((60_000 - into_minute) as u64 + 20)
}

impl eframe::App for DisplayApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn clear_color(&self, _visuals: &egui::Visuals) -> [f32; 4] {
        // The whole background: hall and window mode draw no full-screen fill of their own,
        // which saves a third of each frame when rendered in software.
        crate::palette::BACKGROUND.to_normalized_gamma_f32()
    }
}
