//! [`KioskApp`]: the kiosk's screens and behaviour. The UI reads the hall from the
//! [`HubLink`] and emits [`Action`]s; requests and printing run on the link's runtime and hand
//! their outcome back through [`Shared`] with a repaint, so the UI thread never waits on the
//! network or the printer.

use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use egui::{Color32, Rect, Ui, ViewportCommand, pos2};
use jiaohao_client::{Client, ClientError};
use jiaohao_ui::{HubLink, LinkStatus, fonts, theme};
use jiaohao_wire::{HallView, IssuedTicket};

use crate::Options;
use crate::draw;
use crate::qr::QrMatrix;
use crate::slip::{self, Slip};
use crate::text::{Lang, Words, fill};

mod screens;

use screens::documents_of;

/// Taps in this long after a screen changes are ignored: a bouncing finger must not press the
/// button that appears where it just pressed.
const SCREEN_GUARD: f64 = 0.4;
/// Taps closer together than this count as one.
const TAP_DEBOUNCE: f64 = 0.3;
/// Keypad taps closer together than this count as one.
const KEY_DEBOUNCE: f64 = 0.08;
/// After a ticket tap, further ticket taps are ignored this long (and while it is in flight).
const TAKE_DEBOUNCE: f64 = 1.5;
/// The hub has this long to answer at start-up before the kiosk says ticketing is paused.
const CONNECT_GRACE: f64 = 2.0;
/// The service step goes back to the welcome screen when nobody touches it this long.
const SERVICE_STEP_TIMEOUT: f64 = 60.0;
/// The idle screen turns its page of notices this often.
const NOTICE_PAGE_SECONDS: f64 = 12.0;
/// How often the kiosk asks the hub whether it is there.
const HEALTH_INTERVAL: Duration = Duration::from_secs(1);
/// A ticket request is retried with the same idempotency key for this long after a timeout.
const ISSUE_RETRY_FOR: Duration = Duration::from_secs(4);
/// The longest device-problem message the hub takes, in characters.
const PROBLEM_MESSAGE_MAX_CHARS: usize = 500;
/// How many of its latest tickets the kiosk remembers ([`KioskApp::issued`]).
const MAX_KEPT_TICKETS: usize = 100;
/// The elderly mode's scale (UI.md: at least 1.4).
pub const ELDERLY_SCALE: f32 = 1.4;

/// What a tap asks for; applied after the frame is drawn.
#[derive(Debug, Clone, PartialEq)]
enum Action {
    Open(String),
    Back,
    Take {
        green: bool,
    },
    Done,
    Language,
    Elderly,
    ServicePage(isize),
    DocumentsPage(isize),
    /// In the elderly mode, show the ticket's documents (or the ticket again).
    TicketDocuments(bool),
    Wake,
    /// The welcome screen's 预约签到 button.
    CheckIn,
    /// A key of the check-in keypad.
    Key(char),
    /// The keypad's letter page (for a booking code) or its digit page.
    Letters(bool),
    DeleteKey,
    /// Sends the keypad's entry: checks it in (签到) on the check-in screen, or takes the
    /// ticket with it (取号) on the ID screen.
    Submit,
}

/// The screen shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Screen {
    Welcome,
    /// The service step: confirm, with the green-channel choice.
    Service(String),
    Ticket(Box<Shown>),
    /// 预约签到: the keypad for an ID number or booking code.
    CheckIn,
    /// A service with `identity = "required"`: the ID number, read from the card or typed on
    /// the keypad, before the ticket (normal or green channel) is taken with it.
    Identify {
        service: String,
        green: bool,
    },
    Idle,
}

/// A ticket on screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub ticket: IssuedTicket,
    /// The ticket's public page, which the QR code encodes.
    pub url: String,
    pub qr: Option<QrMatrix>,
    pub print: PrintState,
    /// The booking whose check-in issued the ticket (预约).
    pub booking: Option<Booked>,
    since: f64,
}

/// The booking of a checked-in ticket, as the ticket screen and the slip mark it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booked {
    pub code: String,
    /// `09:30–10:00`; the code where the hub did not send the slot.
    pub slot: String,
}

impl Booked {
    fn of(checked: &jiaohao_wire::CheckedIn) -> Booked {
        let slot = match (&checked.slot_start, &checked.slot_end) {
            (Some(start), Some(end)) => format!("{start}–{end}"),
            _ => checked.booking.clone(),
        };
        Booked {
            code: checked.booking.clone(),
            slot,
        }
    }

    /// `预约 09:30–10:00`.
    pub fn mark(&self, lang: Lang) -> String {
        fill(lang.words().booked_mark, &[("slot", &self.slot)])
    }
}

/// Where the printed slip stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintState {
    /// The kiosk has no printer (`--printer` not given).
    NoPrinter,
    Printing,
    Printed,
    /// The printer failed; the citizen is asked to photograph or scan the code.
    Failed(String),
}

/// Why a ticket was not issued, in the words the citizen reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Unreachable,
    /// The hall does not work today by its calendar (今日不办公).
    HallClosed,
    NotOpen,
    DailyCap,
    Disabled,
    Busy,
    TooMany,
    KioskRefused,
    ServiceChanged,
    Other,
}

impl Problem {
    fn of(error: &ClientError) -> Problem {
        if matches!(error, ClientError::Http(_)) {
            return Problem::Unreachable;
        }
        match (error.status(), error.code()) {
            (_, Some("hall_closed")) => Problem::HallClosed,
            (_, Some("service_not_open")) => Problem::NotOpen,
            (_, Some("daily_cap_reached")) => Problem::DailyCap,
            (_, Some("service_disabled")) => Problem::Disabled,
            (_, Some("unknown_service")) | (Some(404), _) => Problem::ServiceChanged,
            (Some(429), _) => Problem::TooMany,
            (Some(401 | 403), _) => Problem::KioskRefused,
            (Some(502..=504), _) => Problem::Busy,
            _ => Problem::Other,
        }
    }

    pub fn words(self, words: &Words) -> &'static str {
        match self {
            Problem::Unreachable => words.paused,
            Problem::HallClosed => words.error_hall_closed,
            Problem::NotOpen => words.error_not_open,
            Problem::DailyCap => words.error_cap,
            Problem::Disabled => words.error_disabled,
            Problem::Busy => words.error_busy,
            Problem::TooMany => words.error_too_many,
            Problem::KioskRefused => words.error_kiosk,
            Problem::ServiceChanged => words.error_service_changed,
            Problem::Other => words.error_other,
        }
    }
}

/// Whether tickets can be taken now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HubState {
    Connecting,
    Ready,
    Paused,
}

/// One tap's request for a ticket; its key makes retries return the same ticket.
#[derive(Debug, Clone)]
struct Attempt {
    service: String,
    green: bool,
    /// The citizen's ID number, for a service that requires identity.
    id_number: Option<String>,
    key: String,
}

/// What the background tasks hand back to the UI.
#[derive(Default)]
struct Shared {
    issued: Vec<(String, Result<IssuedTicket, ClientError>)>,
    printed: Vec<(String, Result<(), String>)>,
    checked_in: Vec<Result<jiaohao_wire::CheckedIn, ClientError>>,
    reader: Vec<crate::reader::ReaderEvent>,
    /// The last health probe: `None` before the first answer.
    reachable: Option<bool>,
}

/// Wakes the UI from any thread once the egui context is known.
#[derive(Clone, Default)]
struct Waker(Arc<OnceLock<egui::Context>>);

impl Waker {
    fn wake(&self) {
        if let Some(ctx) = self.0.get() {
            ctx.request_repaint();
        }
    }
}

/// Pages of a list that does not fit its box.
#[derive(Debug, Default, Clone, Copy)]
struct Pager {
    page: usize,
}

/// The kiosk. Build it with [`KioskApp::new`]; draw it with [`KioskApp::show`] (what
/// `eframe::App::ui` calls), so tests drive it without a window.
pub struct KioskApp {
    options: Options,
    link: HubLink,
    /// The kiosk's client: its token and a request timeout.
    client: Client,
    shared: Arc<Mutex<Shared>>,
    waker: Waker,
    ready: bool,
    lang: Lang,
    elderly: bool,
    screen: Screen,
    screen_since: f64,
    started: Option<f64>,
    now: f64,
    last_touch: f64,
    last_tap: f64,
    last_take: f64,
    service_page: usize,
    documents: Pager,
    /// The elderly mode's ticket screen shows its documents instead of the ticket.
    ticket_documents: bool,
    notice_page: usize,
    notice_since: f64,
    attempt: Option<Attempt>,
    pending: bool,
    problem: Option<Problem>,
    hall: Option<HallView>,
    actions: Vec<Action>,
    /// Every ticket this kiosk was given, oldest first (for tests and the log).
    issued: Vec<IssuedTicket>,
    /// What is typed on the check-in keypad.
    entry: String,
    /// A check-in is on its way to the hub.
    checking: bool,
    /// The keypad shows its letter page (a booking code's letters) instead of digits.
    letters: bool,
    /// Why the keypad's last entry was refused (a check-in, or a ticket with an ID number),
    /// in the citizen's language.
    keypad_error: Option<String>,
    /// Characters typed by a keyboard-mode ID-card reader (or a scanner) since its last Enter.
    reader_line: String,
    /// The serial ID-card reader is configured but not connected.
    reader_unplugged: bool,
}

impl KioskApp {
    /// Starts following the hub and checking that it answers. Drawing starts with [`Self::show`].
    pub fn new(options: Options) -> anyhow::Result<KioskApp> {
        let base = Client::new(options.hub.clone());
        let client = base
            .with_token(options.token.clone())
            .with_timeout(options.request_timeout);
        let waker = Waker::default();
        let link = {
            let waker = waker.clone();
            HubLink::start(base, move || waker.wake())?
        };
        let shared = Arc::new(Mutex::new(Shared::default()));
        if let Some(device) = options.id_reader.clone() {
            let (shared, waker) = (Arc::downgrade(&shared), waker.clone());
            crate::reader::spawn(device, move |event| {
                if let Some(shared) = shared.upgrade() {
                    shared
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .reader
                        .push(event);
                    waker.wake();
                }
            });
        }
        link.spawn(watch_health(
            client.clone(),
            Arc::downgrade(&shared),
            waker.clone(),
        ));
        Ok(KioskApp {
            lang: options.lang,
            options,
            link,
            client,
            shared,
            waker,
            ready: false,
            elderly: false,
            screen: Screen::Welcome,
            screen_since: 0.0,
            started: None,
            now: 0.0,
            last_touch: 0.0,
            last_tap: f64::NEG_INFINITY,
            last_take: f64::NEG_INFINITY,
            service_page: 0,
            documents: Pager::default(),
            ticket_documents: false,
            notice_page: 0,
            notice_since: 0.0,
            attempt: None,
            pending: false,
            problem: None,
            hall: None,
            actions: Vec::new(),
            issued: Vec::new(),
            entry: String::new(),
            checking: false,
            keypad_error: None,
            reader_line: String::new(),
            letters: false,
            reader_unplugged: false,
        })
    }

    /// Installs the fonts and the kiosk's look into `ctx` (done by the first frame if not
    /// before; the fonts take effect from the next frame).
    pub fn setup(&mut self, ctx: &egui::Context) {
        fonts::install(ctx);
        ctx.set_theme(egui::Theme::Light);
        ctx.style_mut_of(egui::Theme::Light, |style| {
            style.visuals = egui::Visuals::light();
            style.visuals.panel_fill = draw::BACKGROUND;
            style.visuals.override_text_color = Some(theme::INK);
            // A touch kiosk: text is never selected, never dragged.
            style.interaction.selectable_labels = false;
            style.interaction.multi_widget_text_select = false;
        });
        // No keyboard zoom: the layout is made for the screen it runs on.
        ctx.options_mut(|options| options.zoom_with_keyboard = false);
        let _ = self.waker.0.set(ctx.clone());
        self.ready = true;
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    pub fn elderly(&self) -> bool {
        self.elderly
    }

    pub fn screen(&self) -> &Screen {
        &self.screen
    }

    /// The tickets this kiosk issued since it started (the latest 100), oldest first.
    pub fn issued(&self) -> &[IssuedTicket] {
        &self.issued
    }

    /// Whether tickets can be taken now, as the screen shows it.
    pub fn hub_state(&self) -> HubState {
        let reachable = self.lock().reachable;
        let since_start = self.started.map_or(0.0, |started| self.now - started);
        match self.link.status() {
            LinkStatus::Live if reachable != Some(false) => HubState::Ready,
            LinkStatus::Connecting if reachable != Some(false) && since_start < CONNECT_GRACE => {
                HubState::Connecting
            }
            _ => HubState::Paused,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn scale(&self) -> f32 {
        if self.elderly { ELDERLY_SCALE } else { 1.0 }
    }

    fn words(&self) -> &'static Words {
        self.lang.words()
    }

    fn ink(&self) -> Color32 {
        if self.elderly {
            Color32::BLACK
        } else {
            theme::INK
        }
    }

    fn muted(&self) -> Color32 {
        if self.elderly {
            theme::INK
        } else {
            theme::MUTED_INK
        }
    }

    /// Draws one frame: what `eframe::App::ui` calls.
    pub fn show(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        if !self.ready {
            // The fonts take effect from the next frame; Chinese drawn before would be boxes.
            self.setup(&ctx);
            ctx.request_repaint();
            return;
        }
        self.now = ui.input(|i| i.time);
        if self.started.is_none() {
            self.started = Some(self.now);
            self.last_touch = self.now;
            self.screen_since = self.now;
        }
        if self.options.fullscreen && ctx.input(|i| i.viewport().close_requested()) {
            // A kiosk is not closed from its screen.
            ctx.send_viewport_cmd(ViewportCommand::CancelClose);
        }
        if let Some(hall) = self.link.hall() {
            self.hall = Some(hall);
        }
        // The kiosk reads the hall from snapshots; the individual changes are not needed.
        let _ = self.link.take_changes();
        self.collect();
        self.read_keyboard(ui);
        if ui.input(|i| i.pointer.any_pressed()) {
            self.last_touch = self.now;
        }
        self.expire();

        let state = self.hub_state();
        if state == HubState::Ready && self.problem == Some(Problem::Unreachable) {
            // The hub is back: the buttons return by themselves.
            self.problem = None;
        }
        let full = ui.max_rect();
        ui.painter().rect_filled(full, 0.0, draw::BACKGROUND);
        let header = self.header(ui, full);
        let margin = 36.0 * self.scale().min(1.2);
        let content = Rect::from_min_max(
            pos2(full.left() + margin, header.bottom() + margin * 0.9),
            pos2(full.right() - margin, full.bottom() - margin),
        );
        match self.screen.clone() {
            Screen::Welcome => self.welcome(ui, content, state),
            Screen::Service(code) => self.service_step(ui, content, state, &code),
            Screen::Ticket(shown) => self.ticket(ui, content, &shown),
            Screen::CheckIn => self.check_in_screen(ui, content),
            Screen::Identify { service, green } => {
                self.identify_screen(ui, content, state, &service, green);
            }
            Screen::Idle => self.idle(ui, content),
        }
        for action in std::mem::take(&mut self.actions) {
            self.apply(action);
        }
        self.schedule(&ctx, state);
    }

    /// Takes the outcomes of requests and printing.
    fn collect(&mut self) {
        let (issued, printed, checked_in, reader) = {
            let mut shared = self.lock();
            (
                std::mem::take(&mut shared.issued),
                std::mem::take(&mut shared.printed),
                std::mem::take(&mut shared.checked_in),
                std::mem::take(&mut shared.reader),
            )
        };
        for event in reader {
            self.reader_event(event);
        }
        for result in checked_in {
            self.checking = false;
            match result {
                Ok(checked) => {
                    tracing::info!(booking = %checked.booking, "booking checked in");
                    self.entry.clear();
                    let booked = Booked::of(&checked);
                    self.show_ticket(checked.ticket, Some(booked));
                }
                Err(error) => {
                    tracing::warn!(%error, "the booking was not checked in");
                    self.keypad_error = Some(self.hub_words(&error));
                }
            }
        }
        for (key, result) in issued {
            let current = self.attempt.as_ref().is_some_and(|a| a.key == key);
            if current {
                self.pending = false;
            }
            match result {
                // A ticket the hub issued is always shown, even for an older tap.
                Ok(ticket) => {
                    if current {
                        self.attempt = None;
                    }
                    self.show_ticket(ticket, None);
                }
                Err(error) if current => {
                    tracing::warn!(%error, "the ticket was not issued");
                    let problem = Problem::of(&error);
                    if problem == Problem::Unreachable {
                        self.lock().reachable = Some(false);
                    }
                    if matches!(self.screen, Screen::Identify { .. }) {
                        // Said under the entry, which stays for the citizen to correct: a
                        // wrong ID number in the hub's words, anything else as on the service
                        // step.
                        self.keypad_error = Some(if error.status() == Some(400) {
                            self.hub_words(&error)
                        } else {
                            problem.words(self.words()).to_owned()
                        });
                    } else {
                        self.problem = Some(problem);
                    }
                }
                Err(_) => {}
            }
        }
        for (token, result) in printed {
            if let Screen::Ticket(shown) = &mut self.screen
                && shown.ticket.token == token
            {
                shown.print = match result {
                    Ok(()) => PrintState::Printed,
                    Err(error) => PrintState::Failed(error),
                };
            }
        }
    }

    /// Time-outs: back to the welcome screen, on to the idle screen.
    fn expire(&mut self) {
        let untouched = self.now - self.last_touch;
        match &self.screen {
            Screen::Welcome if untouched >= self.options.idle_after.as_secs_f64() => {
                self.go(Screen::Idle);
            }
            Screen::Service(_) if !self.pending && untouched >= SERVICE_STEP_TIMEOUT => {
                self.go(Screen::Welcome);
            }
            Screen::CheckIn if !self.checking && untouched >= SERVICE_STEP_TIMEOUT => {
                self.go(Screen::Welcome);
            }
            Screen::Identify { .. } if !self.pending && untouched >= SERVICE_STEP_TIMEOUT => {
                self.go(Screen::Welcome);
            }
            Screen::Ticket(shown)
                if self.now - shown.since.max(self.last_touch)
                    >= self.options.return_after.as_secs_f64() =>
            {
                self.go(Screen::Welcome);
            }
            _ => {}
        }
    }

    /// Asks for the next frame only when a timer needs one: idle, the kiosk costs nothing.
    fn schedule(&self, ctx: &egui::Context, state: HubState) {
        let mut next: Option<f64> = None;
        let mut at = |seconds: f64| {
            let seconds = seconds.max(0.05);
            next = Some(next.map_or(seconds, |n: f64| n.min(seconds)));
        };
        let untouched = self.now - self.last_touch;
        if state == HubState::Connecting {
            at(CONNECT_GRACE - self.started.map_or(0.0, |s| self.now - s));
        }
        match &self.screen {
            Screen::Welcome => at(self.options.idle_after.as_secs_f64() - untouched),
            Screen::Service(_) | Screen::CheckIn | Screen::Identify { .. } => {
                at(SERVICE_STEP_TIMEOUT - untouched);
            }
            Screen::Ticket(shown) => {
                // The countdown shows whole seconds.
                let elapsed = self.now - shown.since.max(self.last_touch);
                at(1.0 - elapsed.fract());
            }
            Screen::Idle => at(NOTICE_PAGE_SECONDS - (self.now - self.notice_since)),
        }
        if let Some(seconds) = next {
            ctx.request_repaint_after(Duration::from_secs_f64(seconds));
        }
    }

    fn go(&mut self, screen: Screen) {
        let citizen_done = screen == Screen::Idle
            || (screen == Screen::Welcome && matches!(self.screen, Screen::Ticket(_)));
        if citizen_done {
            // The next citizen starts in the hall's language, in the standard mode.
            self.lang = self.options.lang;
            self.elderly = false;
        }
        if matches!(screen, Screen::Welcome | Screen::Idle) {
            self.problem = None;
            self.attempt = None;
            self.service_page = 0;
        }
        if screen == Screen::Idle {
            self.notice_page = 0;
            self.notice_since = self.now;
        }
        self.documents = Pager::default();
        self.ticket_documents = false;
        let name = match &screen {
            Screen::Welcome => "welcome".to_owned(),
            Screen::Service(code) => format!("service {code}"),
            Screen::Ticket(shown) => format!("ticket {}", shown.ticket.number),
            Screen::CheckIn => "check-in".to_owned(),
            Screen::Identify { service, .. } => format!("identify {service}"),
            Screen::Idle => "idle".to_owned(),
        };
        // Each keypad screen starts empty (a card read fills it after this).
        self.entry.clear();
        self.keypad_error = None;
        tracing::info!(screen = %name, "screen");
        self.screen = screen;
        self.screen_since = self.now;
    }

    /// Whether a tap on a button counts: not right after the screen changed, and not a bounce.
    fn tapped(&mut self, response: &egui::Response) -> bool {
        if !response.clicked() {
            return false;
        }
        if self.now - self.screen_since < SCREEN_GUARD || self.now - self.last_tap < TAP_DEBOUNCE {
            return false;
        }
        self.last_tap = self.now;
        true
    }

    /// As [`Self::tapped`], for keypad keys, which are pressed in quick succession: only
    /// taps closer than [`KEY_DEBOUNCE`] count as one.
    fn tapped_key(&mut self, response: &egui::Response) -> bool {
        if !response.clicked() {
            return false;
        }
        if self.now - self.screen_since < SCREEN_GUARD || self.now - self.last_tap < KEY_DEBOUNCE {
            return false;
        }
        self.last_tap = self.now;
        true
    }

    fn apply(&mut self, action: Action) {
        match action {
            Action::Open(code) => {
                self.problem = None;
                self.go(Screen::Service(code));
            }
            Action::Back | Action::Done | Action::Wake => {
                match &self.screen {
                    _ if self.pending => {}
                    // Back from the ID to the service step, where the choice was made.
                    Screen::Identify { service, .. } => {
                        let service = service.clone();
                        self.go(Screen::Service(service));
                    }
                    _ => self.go(Screen::Welcome),
                }
            }
            Action::Take { green } => {
                let Screen::Service(service) = &self.screen else {
                    return;
                };
                let service = service.clone();
                if self.identity_required(&service) {
                    self.go(Screen::Identify { service, green });
                } else {
                    self.take(service, green, None);
                }
            }
            Action::CheckIn => {
                self.letters = false;
                self.go(Screen::CheckIn);
            }
            Action::Letters(letters) => self.letters = letters,
            Action::Key(key) => {
                if self.entry.chars().count() < 18 && !self.checking && !self.pending {
                    self.entry.push(key);
                    self.keypad_error = None;
                }
            }
            Action::DeleteKey => {
                if !self.checking && !self.pending {
                    self.entry.pop();
                    self.keypad_error = None;
                }
            }
            Action::Submit => match &self.screen {
                Screen::Identify { .. } => self.submit_identity(),
                _ => self.submit_check_in(),
            },
            Action::Language => {
                self.lang = self.lang.other();
                tracing::info!(lang = ?self.lang, "language");
                self.documents = Pager::default();
                self.notice_page = 0;
            }
            Action::Elderly => {
                self.elderly = !self.elderly;
                tracing::info!(elderly = self.elderly, "elderly mode");
                self.documents = Pager::default();
                self.service_page = 0;
                self.notice_page = 0;
            }
            Action::ServicePage(step) => {
                self.service_page = self.service_page.saturating_add_signed(step);
            }
            Action::TicketDocuments(show) => {
                self.ticket_documents = show;
                tracing::info!(documents = show, "ticket documents");
                self.documents = Pager::default();
            }
            Action::DocumentsPage(step) => {
                self.documents.page = self.documents.page.saturating_add_signed(step);
            }
        }
    }

    /// Whether the hall says the service issues tickets only with the ID number.
    fn identity_required(&self, service: &str) -> bool {
        self.hall.as_ref().is_some_and(|hall| {
            hall.services
                .iter()
                .any(|s| s.def.code == service && s.def.identity.as_deref() == Some("required"))
        })
    }

    /// Takes the ticket with the ID number on the keypad (18 characters; the hub checks it).
    fn submit_identity(&mut self) {
        let Screen::Identify { service, green } = &self.screen else {
            return;
        };
        let (service, green) = (service.clone(), *green);
        let entry = self.entry.trim().to_ascii_uppercase();
        if entry.len() == 18 {
            self.keypad_error = None;
            self.take(service, green, Some(entry));
        }
    }

    /// One tap, one ticket: a tap while a request is in flight or just after another does
    /// nothing, and the request carries an idempotency key that a retry reuses.
    fn take(&mut self, service: String, green: bool, id_number: Option<String>) {
        if self.pending || self.now - self.last_take < TAKE_DEBOUNCE {
            return;
        }
        self.last_take = self.now;
        // A tap again after a failure on the same step reuses the key: if the first request
        // was committed but its answer lost, the hub returns that ticket, not a second one.
        let attempt = match &self.attempt {
            Some(attempt)
                if attempt.service == service
                    && attempt.green == green
                    && attempt.id_number == id_number =>
            {
                attempt.clone()
            }
            _ => Attempt {
                service,
                green,
                id_number,
                key: idempotency_key(),
            },
        };
        self.attempt = Some(attempt.clone());
        self.pending = true;
        self.problem = None;
        let client = self.client.clone();
        let shared = self.shared.clone();
        let waker = self.waker.clone();
        self.link.spawn(async move {
            let result = issue(&client, &attempt).await;
            shared
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .issued
                .push((attempt.key, result));
            waker.wake();
        });
    }

    /// A card's number read on the ID screen, or on the service step of a service that
    /// requires identity (a normal ticket then): the ticket is taken with it, no tap needed.
    /// Returns whether the number was used so.
    fn card_for_ticket(&mut self, number: &str) -> bool {
        let target = match &self.screen {
            Screen::Identify { service, green } => Some((service.clone(), *green)),
            Screen::Service(service) if self.identity_required(service) => {
                Some((service.clone(), false))
            }
            _ => None,
        };
        let Some((service, green)) = target else {
            return false;
        };
        if self.pending {
            return true;
        }
        self.last_touch = self.now;
        if !matches!(self.screen, Screen::Identify { .. }) {
            self.go(Screen::Identify {
                service: service.clone(),
                green,
            });
        }
        self.entry = number.to_owned();
        self.submit_identity();
        true
    }

    /// A line of the serial card reader: an ID number takes the ticket on the ID screen, and
    /// checks in from the welcome and check-in screens; garbage or an unplugged reader is said
    /// on the keypad screens.
    fn reader_event(&mut self, event: crate::reader::ReaderEvent) {
        use crate::reader::ReaderEvent;
        match event {
            ReaderEvent::IdNumber(number) => {
                let checks_in = matches!(
                    self.screen,
                    Screen::Welcome | Screen::CheckIn | Screen::Idle
                );
                if !self.card_for_ticket(&number) && checks_in {
                    self.last_touch = self.now;
                    if self.screen != Screen::CheckIn {
                        self.go(Screen::CheckIn);
                    }
                    self.entry = number;
                    self.submit_check_in();
                }
            }
            ReaderEvent::Garbage => {
                tracing::warn!("the ID-card reader sent a line that is no ID number");
                if matches!(self.screen, Screen::CheckIn | Screen::Identify { .. }) {
                    self.keypad_error = Some(self.words().reader_garbage.to_owned());
                }
            }
            ReaderEvent::Unplugged => self.reader_unplugged = true,
            ReaderEvent::Connected => self.reader_unplugged = false,
        }
    }

    /// Sends the entry (an ID number or a booking code) to the hub as a check-in.
    fn submit_check_in(&mut self) {
        let entry = self.entry.trim().to_ascii_uppercase();
        if self.checking || !(entry.len() == 8 || entry.len() == 18) {
            return;
        }
        self.checking = true;
        self.keypad_error = None;
        let client = self.client.clone();
        let shared = self.shared.clone();
        let waker = self.waker.clone();
        self.link.spawn(async move {
            let result = client.check_in(&entry).await;
            shared
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .checked_in
                .push(result);
            waker.wake();
        });
    }

    /// The hub's words for a refused check-in or ID number, in the citizen's language (the
    /// hub says each in Chinese, then English, split by `；`).
    fn hub_words(&self, error: &ClientError) -> String {
        match error {
            ClientError::Api { body, .. } => {
                let mut parts = body.error.splitn(2, '；');
                let zh = parts.next().unwrap_or_default().trim();
                let en = parts.next().unwrap_or(zh).trim();
                self.lang.pick(zh, en).to_owned()
            }
            ClientError::Http(_) => self.words().paused.to_owned(),
            _ => self.words().check_in_failed.to_owned(),
        }
    }

    /// A keyboard-mode ID-card reader (or a QR scanner) types its number and presses Enter:
    /// on the welcome and check-in screens, such a line checks the booking in; on the ID
    /// screen (or the service step of a service that requires identity) it takes the ticket.
    fn read_keyboard(&mut self, ui: &Ui) {
        let reads = match &self.screen {
            Screen::Welcome | Screen::CheckIn | Screen::Identify { .. } => true,
            Screen::Service(service) => self.identity_required(service),
            _ => false,
        };
        if !reads {
            self.reader_line.clear();
            return;
        }
        let events = ui.input(|i| i.events.clone());
        for event in events {
            match event {
                egui::Event::Text(text) => {
                    for c in text.chars().filter(char::is_ascii_alphanumeric) {
                        if self.reader_line.len() < 32 {
                            self.reader_line.push(c.to_ascii_uppercase());
                        }
                    }
                }
                egui::Event::Key {
                    key: egui::Key::Enter,
                    pressed: true,
                    ..
                } => {
                    let line = std::mem::take(&mut self.reader_line);
                    let for_ticket = line.len() == 18 && self.card_for_ticket(&line);
                    if !for_ticket
                        && matches!(self.screen, Screen::Welcome | Screen::CheckIn)
                        && (line.len() == 18 || line.len() == 8)
                    {
                        self.last_touch = self.now;
                        if self.screen != Screen::CheckIn {
                            self.go(Screen::CheckIn);
                        }
                        self.entry = line;
                        self.submit_check_in();
                    }
                }
                _ => {}
            }
        }
    }

    fn show_ticket(&mut self, ticket: IssuedTicket, booking: Option<Booked>) {
        if ticket.reprint {
            tracing::info!(number = %ticket.number, service = %ticket.service, "ticket reprinted");
        } else {
            tracing::info!(number = %ticket.number, service = %ticket.service, "ticket issued");
        }
        let public = self
            .options
            .public_url
            .clone()
            // With two hubs, the one that issued it (set --public-url to the hall's one
            // address that moves with the primary: a printed slip cannot follow a move).
            .unwrap_or_else(|| self.link.client().base());
        let url = ticket_url(&public, &ticket);
        let qr = QrMatrix::encode(&url);
        let print = match &self.options.printer {
            None => PrintState::NoPrinter,
            Some(sink) => {
                let slip = self.slip(&ticket, &url, booking.as_ref());
                let sink = sink.clone();
                let token = ticket.token.clone();
                let shared = self.shared.clone();
                let waker = self.waker.clone();
                let timeout = self.options.printer_timeout;
                let client = self.client.clone();
                self.link.spawn(async move {
                    let result = print(slip, sink, timeout).await;
                    let fault = result.as_ref().err().cloned();
                    shared
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .printed
                        .push((token, result));
                    waker.wake();
                    // The screen knows first; then the hub is told, for the admin to see.
                    if let Some(error) = fault {
                        tracing::error!(%error, "printer fault; the ticket is shown on screen");
                        report_printer_fault(&client, &error).await;
                    }
                });
                PrintState::Printing
            }
        };
        self.issued.push(ticket.clone());
        // A kiosk runs for months: keep only the latest tickets.
        if self.issued.len() > MAX_KEPT_TICKETS {
            self.issued.drain(..self.issued.len() - MAX_KEPT_TICKETS);
        }
        self.go(Screen::Ticket(Box::new(Shown {
            ticket,
            url,
            qr,
            print,
            booking,
            since: self.now,
        })));
    }

    fn slip(&self, ticket: &IssuedTicket, url: &str, booking: Option<&Booked>) -> Slip {
        let lang = self.lang;
        let hall_name = self
            .hall
            .as_ref()
            .map(|hall| lang.pick(&hall.name_zh, &hall.name_en).to_owned())
            .unwrap_or_default();
        Slip {
            lang,
            hall_name,
            number: ticket.number.clone(),
            service_name: lang
                .pick(&ticket.service_name_zh, &ticket.service_name_en)
                .to_owned(),
            green_channel: ticket.green_channel,
            booking: booking.map(|booked| booked.mark(lang)),
            reprint: ticket.reprint,
            issued_at: local_time(&ticket.issued_at),
            ahead: ticket.ahead,
            estimated_wait_min: ticket.estimated_wait_min,
            documents: documents_of(ticket, lang).to_vec(),
            fee_note: lang
                .pick(&ticket.fee_note_zh, &ticket.fee_note_en)
                .to_owned(),
            url: url.to_owned(),
        }
    }
}

impl eframe::App for KioskApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn clear_color(&self, _visuals: &egui::Visuals) -> [f32; 4] {
        draw::BACKGROUND.to_normalized_gamma_f32()
    }
}

/// `2026-11-23T09:00:00.123+08:00` → `2026-11-23 09:00` (the hub sends hall-local times).
pub fn local_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(10..11), rfc3339.get(11..16)) {
        (Some(date), Some("T"), Some(time)) => format!("{date} {time}"),
        _ => rfc3339.to_owned(),
    }
}

/// The ticket's public page: `<public URL>/t/<token>`.
pub fn ticket_url(public: &str, ticket: &IssuedTicket) -> String {
    let base = public.trim_end_matches('/');
    if ticket.url.starts_with('/') {
        format!("{base}{}", ticket.url)
    } else {
        format!("{base}/t/{}", ticket.token)
    }
}

/// A fresh idempotency key: 128 random bits.
fn idempotency_key() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No system randomness: the clock is unique enough for one kiosk's taps.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = nanos.to_le_bytes();
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("kiosk-{hex}")
}

/// Issues the ticket, retrying with the same key while the hub does not answer (a timeout may
/// hide a committed ticket; the key makes the hub return it instead of a second one).
async fn issue(client: &Client, attempt: &Attempt) -> Result<IssuedTicket, ClientError> {
    let deadline = tokio::time::Instant::now() + ISSUE_RETRY_FOR;
    loop {
        let request = jiaohao_wire::IssueTicketRequest {
            service: attempt.service.clone(),
            green_channel: attempt.green,
            id_number: attempt.id_number.clone(),
        };
        let result = client.issue_ticket_with(&request, Some(&attempt.key)).await;
        match result {
            Err(ClientError::Http(_)) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            other => return other,
        }
    }
}

/// Prints off the runtime's workers, with a bound on the whole job.
async fn print(slip: Slip, sink: slip::Sink, timeout: Duration) -> Result<(), String> {
    let job = tokio::task::spawn_blocking(move || {
        let bytes = slip::escpos(&slip)?;
        slip::send(&sink, &bytes, timeout)
    });
    match tokio::time::timeout(timeout * 3, job).await {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(error))) => Err(error.to_string()),
        Ok(Err(error)) => Err(format!("the print job failed: {error}")),
        Err(_) => Err("the printer did not finish in time".to_owned()),
    }
}

/// Tells the hub the printer failed (a device problem of kind `printer`). Best effort: a hub
/// that does not take it leaves the kiosk's log as the only record.
async fn report_printer_fault(client: &Client, error: &str) {
    let message: String = error.chars().take(PROBLEM_MESSAGE_MAX_CHARS).collect();
    if let Err(report) = client.report_device_problem("printer", &message).await {
        tracing::warn!(%report, "the hub was not told of the printer fault");
    }
}

/// Whether the kiosk's hub answers as a primary; with several hubs (`--hub URL1,URL2`), when
/// it does not (down, a standby, or fenced), whether the client found and moved to another.
/// Ticketing shows as paused only while no primary answers, not while the kiosk moves.
async fn primary_answers(client: &Client) -> bool {
    let primary =
        |health: jiaohao_wire::Health| health.role.as_deref().is_none_or(|role| role == "primary");
    if client.health().await.is_ok_and(primary) {
        return true;
    }
    client.find_primary().await && client.health().await.is_ok_and(primary)
}

/// Asks the hub's health route every second, so a hub that stops answering shows as paused
/// within about two seconds even when the event stream has not noticed yet. Ends when the
/// kiosk is dropped.
async fn watch_health(client: Client, shared: Weak<Mutex<Shared>>, waker: Waker) {
    loop {
        let reachable = primary_answers(&client).await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let changed = {
            let mut shared = shared.lock().unwrap_or_else(|e| e.into_inner());
            let changed = shared.reachable != Some(reachable);
            shared.reachable = Some(reachable);
            changed
        };
        drop(shared);
        if changed {
            waker.wake();
        }
        tokio::time::sleep(HEALTH_INTERVAL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_and_urls() {
        assert_eq!(
            local_time("2026-11-23T09:05:00.123+08:00"),
            "2026-11-23 09:05"
        );
        assert_eq!(local_time("soon"), "soon");
        let ticket = IssuedTicket {
            number: "A001".into(),
            service: "hukou".into(),
            service_name_zh: "户籍".into(),
            service_name_en: "Household registration".into(),
            green_channel: false,
            token: "tok".into(),
            ahead: 0,
            estimated_wait_min: None,
            issued_at: "2026-11-23T09:00:00+08:00".into(),
            url: "/t/tok".into(),
            documents: vec![],
            documents_en: vec![],
            fee_note_zh: String::new(),
            fee_note_en: String::new(),
            reprint: false,
        };
        assert_eq!(
            ticket_url("http://hall.example/", &ticket),
            "http://hall.example/t/tok"
        );
        let relative = IssuedTicket {
            url: String::new(),
            ..ticket
        };
        assert_eq!(ticket_url("http://h", &relative), "http://h/t/tok");
    }

    #[test]
    fn refusals_are_told_in_words_never_codes() {
        let api = |status: u16, code: &str| ClientError::Api {
            status,
            body: jiaohao_wire::ErrorBody {
                error: "whatever the hub says".into(),
                code: code.into(),
            },
        };
        for (error, problem) in [
            (api(409, "service_not_open"), Problem::NotOpen),
            (api(409, "hall_closed"), Problem::HallClosed),
            (api(409, "daily_cap_reached"), Problem::DailyCap),
            (api(409, "service_disabled"), Problem::Disabled),
            (api(409, "something_new"), Problem::Other),
            (api(429, "too_many_requests"), Problem::TooMany),
            (api(401, "unauthorized"), Problem::KioskRefused),
            (api(403, "forbidden"), Problem::KioskRefused),
            (api(404, "unknown_service"), Problem::ServiceChanged),
            (api(503, "storage_unavailable"), Problem::Busy),
        ] {
            assert_eq!(Problem::of(&error), problem, "{error}");
            for words in [&crate::text::ZH, &crate::text::EN] {
                let text = problem.words(words);
                assert!(!text.chars().any(|c| c.is_ascii_digit()), "{text}");
            }
        }
    }

    #[test]
    fn keys_differ() {
        assert_ne!(idempotency_key(), idempotency_key());
        assert!(idempotency_key().starts_with("kiosk-"));
    }
}
