//! The JSON that crosses between the hub, the kiosk, the display, the web pages and the tests.
//!
//! These types are a boundary: they change only compatibly, whatever the core does inside, so
//! a deployed kiosk keeps working. The hub converts to and from the core explicitly.
//! Times are RFC 3339 strings; ticket numbers are strings such as `A012`.

mod booking;
mod case;
pub use booking::{
    BookingCreated, BookingEntry, BookingRequest, BookingRules, BookingSettingsDef, BookingSlot,
    BookingSlots, CheckInById, CheckedIn, NoShowPerson, VerifyBooking,
};
pub use case::{CaseFixRequest, CaseList, CaseNoteRequest, CaseStepView, CaseView};
use serde::{Deserialize, Serialize};

mod pads;
pub mod text;
pub use pads::{PairRequest, PairingCode, RatingPad};

/// The body of every error answer: what is wrong, and a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub code: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    /// `primary` (takes changes), `standby` (follows `primary`, read-only) or `fenced` (a
    /// former primary that found a newer term at its peer and takes no changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The term of the hub's log (1 until the first promotion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<u64>,
    /// The last record the hub holds (durable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<u64>,
    /// A standby: the primary it follows, and how many records behind its last word it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag: Option<u64>,
    /// A primary started with `--sync-standby`: true while no standby has acknowledged its
    /// changes in time, so it answers alone (an acknowledged change may be on this disk only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alone: Option<bool>,
}

/// The body of `POST /api/replication/ack`: a standby holds every record up to `seq` and every
/// side change up to `side_seq` durably.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicationAck {
    pub seq: u64,
    /// The last side change (users, tokens, sessions, …) it holds durably; absent from a
    /// standby older than this field (a primary then waits for its records only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side_seq: Option<u64>,
}

/// The answer of `POST /api/promote`: the `promoted` record that opened the new term.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promoted {
    pub seq: u64,
    pub term: u64,
}

/// The hall's names, time zone and public notices, as in the `[hall]` table of a hall file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HallSettings {
    pub name_zh: String,
    pub name_en: String,
    #[serde(default = "default_timezone")]
    pub timezone: String,
    #[serde(default)]
    pub notices_zh: Vec<String>,
    #[serde(default)]
    pub notices_en: Vec<String>,
    /// How many working days a 差评 case has from its rating to its fix (1 to 60); left out,
    /// a hall file seeds 5 and the admin API keeps the hall's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_due_working_days: Option<u8>,
    /// The share of a service's daily cap (0 to 100 per cent) its booking slots hold when its
    /// bookings are switched on without capacities or a share of their own; left out, a hall
    /// file seeds 50 and the admin API keeps the hall's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_share_pct: Option<u8>,
    /// The local booking rules (lapse of unverified bookings, the no-show bar); left out, a
    /// hall file seeds the defaults and the admin API keeps the hall's rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_rules: Option<BookingRules>,
}

fn default_timezone() -> String {
    "Asia/Shanghai".to_owned()
}

fn yes() -> bool {
    true
}

/// A service's definition, as in a `[[service]]` table of a hall file and the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDef {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub prefix: String,
    pub wait_target_min: u32,
    pub handling_target_min: u32,
    pub handling_estimate_min: u32,
    #[serde(default)]
    pub daily_cap: Option<u32>,
    /// `["08:30", "17:00"]`: tickets are issued between these local times.
    #[serde(default)]
    pub hours: Option<[String; 2]>,
    #[serde(default)]
    pub documents_zh: Vec<String>,
    #[serde(default)]
    pub documents_en: Vec<String>,
    #[serde(default)]
    pub fee_note_zh: String,
    #[serde(default)]
    pub fee_note_en: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `required`: tickets only with the citizen's ID number (one per person a day); left out
    /// (or `none`) when not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// In a hall file only (`[service.booking]`): the service takes bookings with these
    /// settings from the first start. The API sets them at `/api/services/{code}/booking`
    /// and refuses them here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking: Option<BookingSettingsDef>,
}

/// A window's definition, as in a `[[window]]` table of a hall file and the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowDef {
    pub number: u16,
    pub name_zh: String,
    pub name_en: String,
    /// Service codes, the primary service first.
    #[serde(default)]
    pub services: Vec<String>,
    /// Scheduled daily breaks (e.g. lunch, `[["12:00", "13:00"]]`), from and to as `HH:MM`,
    /// in clock order; the wait estimate plans with them. Absent in definitions written
    /// before breaks existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breaks: Vec<[String; 2]>,
}

/// The body of `PUT /api/windows/{n}/services`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowServices {
    pub services: Vec<String>,
}

/// A hall file (`assets/halls/default.toml`): it seeds an empty database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HallFile {
    pub hall: HallSettings,
    #[serde(default)]
    pub service: Vec<ServiceDef>,
    #[serde(default)]
    pub window: Vec<WindowDef>,
    /// The hall calendar; a file without one leaves the hall open every day.
    #[serde(default)]
    pub calendar: Option<Calendar>,
}

/// A service with its live figures, as `/api/hall` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceStatus {
    #[serde(flatten)]
    pub def: ServiceDef,
    pub waiting: u32,
    pub issued_today: u32,
    /// Projected wait of a ticket taken now; `null` when no working window would call it.
    pub estimated_wait_min: Option<u32>,
    /// Whether a ticket can be taken now.
    pub available: bool,
    /// Why not, when not: `hall_closed` (a closed day by the calendar), `disabled`,
    /// `not_open` or `daily_cap_reached`.
    pub unavailable_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowStatus {
    pub number: u16,
    pub name_zh: String,
    pub name_en: String,
    pub services: Vec<String>,
    /// `closed`, `open`, `paused` or `serving`.
    pub state: String,
    /// The class of the pause's reason: `break`, `meeting`, `system_fault`, `training`,
    /// `off_duty` or `other`.
    pub pause_reason: Option<String>,
    /// The clerk's own words about the pause, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_note: Option<String>,
    pub state_since: String,
    pub current_ticket: Option<String>,
    pub current_service: Option<String>,
    /// Tickets waiting that this window may call.
    pub waiting: u32,
}

/// One call of a ticket to a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallInfo {
    pub number: String,
    pub service: String,
    pub window: u16,
    pub at: String,
    pub recall: bool,
}

/// The whole hall at one moment: `GET /api/hall` and the `snapshot` / `hall_changed` events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HallView {
    /// The id of the last event included.
    pub seq: u64,
    pub name_zh: String,
    pub name_en: String,
    pub timezone: String,
    /// The hall's local date, `YYYY-MM-DD`; `null` before its first day.
    pub date: Option<String>,
    pub notices_zh: Vec<String>,
    pub notices_en: Vec<String>,
    pub services: Vec<ServiceStatus>,
    pub windows: Vec<WindowStatus>,
    /// The latest calls, newest first.
    pub recent_calls: Vec<CallInfo>,
    /// Whether the hall works today by its calendar; `false` is 今日不办公.
    #[serde(default = "open_by_default")]
    pub open_today: bool,
    /// Why today is closed: `holiday` (法定节假日) or `rest_day` (休息日); `null` when open.
    #[serde(default)]
    pub closed_reason: Option<String>,
    /// When the hall next opens after now (the next open day at the earliest service opening
    /// time); `null` if no open day is set within a year.
    #[serde(default)]
    pub next_opening: Option<Opening>,
    /// Today's figures for the public (警务公开); absent from a hub of before them.
    #[serde(default)]
    pub today: Option<TodayFigures>,
}

/// The day's figures a hall shows the public (警务公开), from its tickets of today.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TodayFigures {
    /// Tickets finished at a window.
    pub served: u32,
    /// The mean wait of the tickets called, from issue to first call.
    pub mean_wait_min: Option<f64>,
    /// Of the tickets called, the share that waited no longer than their service's target.
    pub within_target_pct: Option<f64>,
    /// Ratings given today, and the share of them that were good (满意率: 非常满意, 满意,
    /// 基本满意).
    pub rated: u32,
    pub satisfied_pct: Option<f64>,
}

fn open_by_default() -> bool {
    true
}

/// A day and time the hall opens, in its own zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opening {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `HH:MM`.
    pub time: String,
    /// The weekday in lower-case English, such as `monday`.
    pub weekday: String,
}

/// The hall calendar (工作日历), as `GET`/`PUT /api/calendar` and a hall file's `[calendar]`
/// section write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calendar {
    /// The weekdays the hall works, in lower-case English (`monday` … `sunday`).
    #[serde(default = "monday_to_friday")]
    pub working_weekdays: Vec<String>,
    /// Public holidays, `YYYY-MM-DD`: closed whatever the weekday.
    #[serde(default)]
    pub holidays: Vec<String>,
    /// Working days that replace holidays (调休), `YYYY-MM-DD`: open whatever the weekday.
    #[serde(default)]
    pub working_days: Vec<String>,
}

fn monday_to_friday() -> Vec<String> {
    ["monday", "tuesday", "wednesday", "thursday", "friday"]
        .map(str::to_owned)
        .to_vec()
}

/// The hall's clock at one moment: `now` in the hall's time, and how many hall seconds pass per
/// real second (1 for a real hall; more for the demo's simulated day; 0 for a test's clock
/// that stands still). A client shows `now + speed × (time since it received this)`, so a
/// kiosk, a display and a page all read the hall's time, not their machine's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HallClock {
    /// RFC 3339 with the hall's offset, such as `2026-11-23T09:05:00.25+08:00`.
    pub now: String,
    pub speed: f64,
}

/// A hall view as `GET /api/hall` and the stream's `snapshot` send it: the view with the
/// hall's clock of the moment it was sent (`clock`, an extra member beside the view's own).
/// The stream's `hall_changed` views are made once per change and carry no clock, since it
/// would be stale for a client that reads them later; a client keeps the last clock it got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimedHallView {
    #[serde(flatten)]
    pub view: HallView,
    /// Absent from a hub older than the clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<HallClock>,
}

/// The body of `POST /api/tickets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueTicketRequest {
    pub service: String,
    #[serde(default)]
    pub green_channel: bool,
    /// The citizen's ID number (read from the card or typed): required by a service with
    /// `identity = "required"`, where a second request reprints the person's first ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
}

/// The answer to `POST /api/tickets`: everything the kiosk shows and prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuedTicket {
    pub number: String,
    pub service: String,
    pub service_name_zh: String,
    pub service_name_en: String,
    pub green_channel: bool,
    pub token: String,
    pub ahead: u32,
    pub estimated_wait_min: Option<u32>,
    pub issued_at: String,
    /// The ticket page, relative to the hub: `/t/<token>`.
    pub url: String,
    pub documents: Vec<String>,
    pub documents_en: Vec<String>,
    pub fee_note_zh: String,
    pub fee_note_en: String,
    /// `true` when a service with `identity = "required"` answered the person's earlier
    /// ticket of today instead of a new one (a reprint, 补打); absent (false) otherwise and
    /// from a hub of before reprints.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reprint: bool,
}

/// The public view of one ticket (`GET /api/tickets/{token}`): nothing personal, nothing about
/// other tickets but how many are ahead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketStatus {
    pub number: String,
    pub service: String,
    pub service_name_zh: String,
    pub service_name_en: String,
    /// `waiting`, `called`, `done`, `no_show`, `transferred` or `expired`.
    pub status: String,
    pub green_channel: bool,
    /// The window it was called to, while called.
    pub window: Option<u16>,
    pub ahead: Option<u32>,
    pub estimated_wait_min: Option<u32>,
    pub issued_at: String,
    pub called_at: Option<String>,
    pub documents: Vec<String>,
    pub documents_en: Vec<String>,
    /// The citizen's rating of the ticket, once given (`very_satisfied` … `very_dissatisfied`).
    #[serde(default)]
    pub rating: Option<String>,
    /// Whether the citizen may rate it now from this page: finished at a window and not rated
    /// yet (一次一评), today or up to the end of the next working day.
    #[serde(default)]
    pub can_rate: bool,
    /// The last day (`YYYY-MM-DD`) it may be rated from this page, once finished at a window.
    #[serde(default)]
    pub rate_until: Option<String>,
}

/// The body of `POST /api/tickets/{token}/rating`: the citizen rates a finished ticket from
/// its own page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnRatingRequest {
    /// `very_satisfied`, `satisfied`, `basic`, `dissatisfied` or `very_dissatisfied`.
    pub rating: String,
    /// For the two bad ratings: `attitude`, `waiting`, `requirements_unclear` or `other`.
    #[serde(default)]
    pub reason: Option<String>,
    /// As in [`RateRequest`]: a phone number for the callback of a bad rating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_phone: Option<String>,
}

/// A ticket as a clerk sees it: the answer of the window actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketDetail {
    pub number: String,
    pub service: String,
    pub status: String,
    pub green_channel: bool,
    pub window: Option<u16>,
    pub issued_at: String,
    pub called_at: Option<String>,
    pub finished_at: Option<String>,
    pub recalls: u32,
    pub transfers: u32,
}

/// The body of `POST /api/windows/{n}/pause`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PauseRequest {
    /// The class: `break` (休息), `meeting` (会议), `system_fault` (故障), `training` (培训),
    /// `off_duty` (下班) or `other` (其他). Other words, as clients before classes sent, are
    /// taken as `other` with those words.
    pub reason: String,
    /// Free text beside the class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The body of `POST /api/windows/{n}/close`: why the window closes, as for a pause (but only
/// the classes). Required: a close without one is `400`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One shift of the rota (排班): a window expected open on a weekday from `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    pub window: u16,
    /// `monday` … `sunday`.
    pub weekday: String,
    /// `HH:MM`, local time.
    pub from: String,
    pub to: String,
}

/// `GET`/`PUT /api/rota`: the whole rota, sorted by window, weekday and start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Rota {
    pub shifts: Vec<Shift>,
}

/// The body of `POST /api/windows/{n}/finish`, which may be left out (then the visit is
/// `done`): how the visit ended. `documents` (for `documents_missing`) are picked from the
/// service's documents to bring, by their Chinese names; `refused` needs a `reason`,
/// `referred` the `office` the citizen is sent to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinishRequest {
    /// `done`, `documents_missing`, `refused` or `referred`.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<String>,
}

/// The body of `POST /api/windows/{n}/transfer`: exactly one of the two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_window: Option<u16>,
}

/// The body of `POST /api/windows/{n}/call`: call one ticket out of order (选号).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallTicketRequest {
    pub number: String,
    pub reason: String,
}

/// One change to the hall, as the event stream sends it (the SSE event name is `type`).
/// Carries no ticket token: the stream is public.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    DayStarted {
        date: String,
    },
    HallConfigured,
    ServiceChanged {
        code: String,
        removed: bool,
    },
    WindowChanged {
        window: u16,
        /// `defined`, `removed`, `opened`, `closed`, `paused` or `resumed`.
        action: String,
        /// For `paused` and `closed`: the class of the reason (no free text: the stream is
        /// public); `null` for a close without one.
        reason: Option<String>,
    },
    TicketIssued {
        number: String,
        service: String,
        green_channel: bool,
    },
    TicketCalled {
        number: String,
        service: String,
        window: u16,
        recall: bool,
        out_of_order: bool,
    },
    TicketFinished {
        number: String,
        service: String,
        window: u16,
        /// How the visit ended: `done`, `documents_missing`, `refused` or `referred` (only
        /// the kind: the stream is public). Missing from streams of before it: `done`.
        #[serde(default = "outcome_done")]
        outcome: String,
    },
    TicketNoShow {
        number: String,
        service: String,
        window: u16,
    },
    TicketTransferred {
        number: String,
        from_window: u16,
        to_service: Option<String>,
        to_window: Option<u16>,
    },
}

fn outcome_done() -> String {
    "done".to_owned()
}

impl Change {
    /// The event's name on the stream, such as `ticket_called`.
    pub fn name(&self) -> &'static str {
        match self {
            Change::DayStarted { .. } => "day_started",
            Change::HallConfigured => "hall_configured",
            Change::ServiceChanged { .. } => "service_changed",
            Change::WindowChanged { .. } => "window_changed",
            Change::TicketIssued { .. } => "ticket_issued",
            Change::TicketCalled { .. } => "ticket_called",
            Change::TicketFinished { .. } => "ticket_finished",
            Change::TicketNoShow { .. } => "ticket_no_show",
            Change::TicketTransferred { .. } => "ticket_transferred",
        }
    }
}

/// A change with its place in the log: the data of one stream event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeMessage {
    pub id: u64,
    pub at: String,
    #[serde(flatten)]
    pub change: Change,
}

/// The body of `POST /api/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// `admin`, `clerk`, `kiosk` or `display`.
    pub role: String,
    /// For a clerk: the one window it may act for.
    #[serde(default)]
    pub window: Option<u16>,
    pub name: String,
}

/// The answer to `POST /api/tokens`: the secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub id: i64,
    pub token: String,
    pub role: String,
    pub window: Option<u16>,
    pub name: String,
}

/// A device or API token (`GET /api/tokens`); the secret itself is shown once, at creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub id: i64,
    pub role: String,
    pub window: Option<u16>,
    pub name: String,
    pub created_at: String,
    pub revoked: bool,
}

/// The kinds of problem a device may report.
pub const DEVICE_PROBLEM_KINDS: [&str; 4] = ["printer", "display", "audio", "other"];

/// The body of `POST /api/devices/problems`: a kiosk or display tells the hub something is
/// wrong with it (the printer failed, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceProblemReport {
    /// One of [`DEVICE_PROBLEM_KINDS`]: `printer`, `display`, `audio` or `other`.
    pub kind: String,
    /// What went wrong, in words: 1 to 500 characters.
    pub message: String,
}

/// A problem a device reported (`GET /api/devices/problems`, newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceProblem {
    pub id: i64,
    /// When the hub received it.
    pub at: String,
    /// Who reported it, as the audit names actors: `kiosk:kiosk 1#2` (a token's role, name and
    /// id).
    pub device: String,
    pub kind: String,
    pub message: String,
}

/// Who is asking (`GET /api/me`): a signed-in person or a device token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// The user name, or the token's name.
    pub name: String,
    /// `admin`, `supervisor`, `clerk`, `kiosk` or `display`.
    pub role: String,
    /// The window a clerk signed in at (or a clerk token is bound to).
    pub window: Option<u16>,
    /// `session` (a browser signed in) or `token`.
    pub via: String,
    /// A session's anti-forgery token: send it as `X-CSRF-Token` with every change.
    pub csrf_token: Option<String>,
    /// When a session ends.
    pub expires_at: Option<String>,
}

/// The body of `PUT /api/me/window`: the window a signed-in clerk works at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChooseWindow {
    pub window: Option<u16>,
}

/// A person who signs in to the pages (`GET /api/users`); never the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: i64,
    pub username: String,
    /// `admin`, `supervisor` or `clerk`.
    pub role: String,
    pub created_at: String,
    pub disabled: bool,
    /// Set while wrong passwords keep the account locked.
    pub locked_until: Option<String>,
}

/// The body of `POST /api/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub username: String,
    /// `admin`, `supervisor` or `clerk`.
    pub role: String,
    pub password: String,
}

/// The body of `PUT /api/hall/notices`: the public notices (警务公开), which a supervisor may
/// edit too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notices {
    pub notices_zh: Vec<String>,
    pub notices_en: Vec<String>,
}

/// The ticket a window is serving, for its counter page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServingTicket {
    pub number: String,
    pub service: String,
    pub green_channel: bool,
    pub issued_at: String,
    pub called_at: Option<String>,
    pub recalls: u32,
    pub transfers: u32,
}

/// A ticket a window may call, with how long it has waited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedTicket {
    pub number: String,
    pub service: String,
    pub green_channel: bool,
    pub issued_at: String,
    pub waited_min: u32,
    /// Sent here by a transfer to this very window.
    pub pinned: bool,
    /// Came back into a queue by a transfer.
    pub transferred: bool,
    /// The ticket call-next would call now.
    pub next: bool,
    /// Issued by a booking's check-in (预约): it queues by its slot start.
    #[serde(default)]
    pub booked: bool,
}

/// `GET /api/windows/{n}/queue`: what the counter page shows besides the hall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowQueue {
    pub window: u16,
    /// The hub's clock, so a page can run timers against it.
    pub now: String,
    pub state: String,
    pub serving: Option<ServingTicket>,
    /// Oldest first, green channel first.
    pub waiting: Vec<QueuedTicket>,
}

/// `GET /api/windows/{n}/rating`: the ticket the window finished last, which its citizen may
/// rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingPrompt {
    pub window: u16,
    pub number: String,
    pub service: String,
    pub service_name_zh: String,
    pub service_name_en: String,
    pub finished_at: String,
    /// Whether a rating can still be given (not rated yet and not too late).
    pub open: bool,
    /// The rating given, if any: `very_satisfied` … `very_dissatisfied`.
    pub rating: Option<String>,
}

/// The body of `POST /api/windows/{n}/rating`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateRequest {
    pub number: String,
    /// `very_satisfied`, `satisfied`, `basic`, `dissatisfied` or `very_dissatisfied`.
    pub rating: String,
    /// For the two bad ratings: `attitude`, `waiting`, `requirements_unclear` or `other`.
    #[serde(default)]
    pub reason: Option<String>,
    /// For a bad rating, optionally: a mobile number for the supervisor's callback. Kept
    /// outside the event log and erased 30 days after the case closes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_phone: Option<String>,
}

/// Ratings counted by level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingCounts {
    pub very_satisfied: u32,
    pub satisfied: u32,
    pub basic: u32,
    pub dissatisfied: u32,
    pub very_dissatisfied: u32,
}

/// Finished tickets counted by how the visit ended (办理结果).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeCounts {
    pub done: u32,
    pub documents_missing: u32,
    pub refused: u32,
    pub referred: u32,
}

/// How often one of a service's documents was missing (补正) over a report's days.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingDocument {
    pub service: String,
    pub document: String,
    pub count: u32,
}

/// Pause minutes by the class of their reason.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PauseMinutes {
    #[serde(rename = "break")]
    pub break_: f64,
    pub meeting: f64,
    pub system_fault: f64,
    /// Added with 培训 and 下班 as classes.
    #[serde(default)]
    pub training: f64,
    #[serde(default)]
    pub off_duty: f64,
    pub other: f64,
}

/// Minutes a window was expected open by the rota (排班) but was closed, or closed or paused
/// without an excusing reason (休息, 会议, 故障 and 培训 excuse; 下班, 其他 and none do not).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OffRotaMinutes {
    /// Before the window's first opening of the day.
    pub late_open: f64,
    /// After its last close of the day.
    pub early_close: f64,
    /// Between them, and whole rostered days it never opened.
    pub absent: f64,
}

/// Closes of windows by the class of their reason; `none` for closes without one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseCounts {
    #[serde(rename = "break")]
    pub break_: u32,
    pub meeting: u32,
    pub system_fault: u32,
    pub training: u32,
    pub off_duty: u32,
    pub other: u32,
    pub none: u32,
}

/// The figures of one service, window or clerk (or the whole hall) over a report's days.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportRow {
    /// The service code, window number or clerk; `all` for the hall.
    pub key: String,
    pub name_zh: String,
    pub name_en: String,
    /// Tickets issued (services and the hall only).
    pub issued: Option<u32>,
    /// Tickets called the first time.
    pub called: u32,
    pub served: u32,
    pub no_shows: u32,
    pub transfers: u32,
    pub mean_wait_min: Option<f64>,
    pub p90_wait_min: Option<f64>,
    pub mean_handling_min: Option<f64>,
    /// Of the tickets called, the share that waited no longer than their service's target.
    pub within_target_pct: Option<f64>,
    pub ratings: RatingCounts,
    /// Mean score, 5 (very satisfied) to 1 (very dissatisfied).
    pub rating_mean: Option<f64>,
    pub pause_min: PauseMinutes,
    pub out_of_order: u32,
    /// Windows: minutes open or serving, and the share of them spent serving.
    pub staffed_min: Option<f64>,
    pub busy_pct: Option<f64>,
    /// How the finished tickets ended (`served` is their sum).
    #[serde(default)]
    pub outcomes: OutcomeCounts,
    /// 一次办结率: of the finished tickets, the share that ended `done`.
    #[serde(default)]
    pub done_pct: Option<f64>,
    /// 限时办结: of the finished tickets, the share handled (from the last call to the finish)
    /// within their service's handling time limit as it was defined then.
    #[serde(default)]
    pub within_limit_pct: Option<f64>,
    /// Finished tickets handled longer than their service's limit.
    #[serde(default)]
    pub over_limit: u32,
    /// 满意率: of the ratings, the share of 好评 (非常满意, 满意, 基本满意).
    #[serde(default)]
    pub satisfied_pct: Option<f64>,
    /// Where the person is known (ID-card kiosk, booking check-in): the finished tickets that
    /// were a person's first visit for a matter of the service …
    #[serde(default)]
    pub first_visits: u32,
    /// … and the share of them done on that first ticket (最多跑一次); the others needed
    /// another visit.
    #[serde(default)]
    pub first_visit_done_pct: Option<f64>,
    /// Windows closed by a clerk or admin, by the class of the reason given.
    #[serde(default)]
    pub closes: CloseCounts,
    /// Windows and clerks: time off the rota (see `OffRotaMinutes`). A clerk answers for a
    /// late opening they opened, and a close or pause they made.
    #[serde(default)]
    pub off_rota_min: OffRotaMinutes,
}

/// Arrivals and waits by hour of the day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HourRow {
    pub hour: u8,
    pub arrivals: u32,
    /// The mean wait of the tickets issued in that hour and called.
    pub mean_wait_min: Option<f64>,
}

/// `GET /api/reports`: a day or a range of days, from the event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub from: String,
    pub to: String,
    pub total: ReportRow,
    pub services: Vec<ReportRow>,
    pub windows: Vec<ReportRow>,
    pub clerks: Vec<ReportRow>,
    pub hours: Vec<HourRow>,
    /// The hall's tickets split by how they came: `booked` (a booking's check-in; its wait
    /// counts from the later of its slot start and its check-in) and `walk_in`.
    #[serde(default)]
    pub arrivals: Vec<ReportRow>,
    /// The documents found missing (补正), most often first within each service, services in
    /// the order of `services`.
    #[serde(default)]
    pub missing_documents: Vec<MissingDocument>,
    /// The windows rated in the range, best 满意率 first (then more ratings first, then the
    /// window number): the ranking local rules hold talks (约谈) on, usually over a month.
    #[serde(default)]
    pub window_ranking: Vec<RankedWindow>,
    /// 差评 cases of the ratings given in the range, per month and window (`window` null: the
    /// whole hall), as they stand now: a case called back or fixed after the range still
    /// counts for the day it was rated on.
    #[serde(default)]
    pub cases: Vec<CaseFigureRow>,
    /// Whether the period's bookings were kept (the booking no-show rate).
    #[serde(default)]
    pub bookings: BookingAttendance,
}

/// The 差评 cases of a month (and a window): how many, how many called back (回访率) and fixed
/// by their due date (按期整改率), and how many are overdue now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseFigureRow {
    /// `YYYY-MM`.
    pub month: String,
    pub window: Option<u16>,
    pub cases: u32,
    pub called_back: u32,
    pub fixed_in_time: u32,
    pub overdue: u32,
    pub callback_pct: Option<f64>,
    pub fixed_in_time_pct: Option<f64>,
}

/// The bookings of a period's days that were to be kept: verified, not cancelled, and
/// checked in or past their check-in's close (a booking whose check-in is still open counts
/// neither way). From the bookings the hub keeps (about 220 days).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BookingAttendance {
    pub verified: u32,
    /// Of those, not checked in before check-in closed.
    pub no_shows: u32,
    /// `no_shows` of `verified` in per cent, one decimal; `None` without such bookings.
    pub no_show_pct: Option<f64>,
}

/// One window's place in the ranking by 满意率.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RankedWindow {
    /// 1 for the best; windows with equal figures share a rank.
    pub rank: u32,
    pub window: u16,
    pub name_zh: String,
    pub name_en: String,
    pub rated: u32,
    pub satisfied_pct: f64,
}

/// One event of the log as the audit page lists it, or a change to a user or token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The event's place in the log; 0 for changes to users and tokens (`user_created`,
    /// `user_disabled`, `token_created`, `token_revoked`), which are not hall events.
    pub seq: u64,
    pub at: String,
    /// Who did it: `clerk:zhang@3` (a signed-in clerk at window 3), `kiosk:kiosk 1#2` (a token),
    /// `hall-file`, `clock`.
    pub actor: String,
    /// The event kind, such as `ticket_called`.
    pub kind: String,
    pub number: Option<String>,
    pub service: Option<String>,
    pub window: Option<u16>,
    /// What else there is to know, in short: a reason, a target, a rating.
    pub detail: String,
    pub out_of_order: bool,
    pub configuration: bool,
}

/// `GET /api/audit`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// More entries match than were sent.
    pub truncated: bool,
}

/// One line of `GET /api/replication?after=SEQ&side_after=SEQ` (`application/x-ndjson`: one
/// JSON object per line, in order). A standby (`replica` token) receives every kind; the city
/// (`ingest` token) receives `record` and `heartbeat` lines only, with secrets stripped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReplicationLine {
    /// One record of the event log as stored: its own sequence number, the term it was
    /// written in, and the stored JSON text of its event verbatim in `body` (for an `ingest`
    /// reader, a ticket's page token and idempotency key are blanked: `""` and `null`).
    /// `public` is the stored public stream message (`null` for `ingest`). A record of kind
    /// `promoted` (body `{"type":"promoted","term":N}`) is the store's record of a promotion
    /// that opened term N, not a hall event: a reader skips it (its number stays taken).
    Record {
        seq: u64,
        term: u64,
        at_ms: i64,
        actor: String,
        kind: String,
        body: String,
        public: Option<String>,
    },
    /// A change to a row kept outside the event log (device tokens, users, password hashes,
    /// sessions, device problems), numbered in a change log of its own (`replica` only).
    Side {
        seq: u64,
        table: String,
        op: String,
        row: serde_json::Value,
    },
    /// Sent when the stream is idle (every 5 s at most): the writer's last sequence numbers
    /// and term, so a reader knows its lag and that the link is alive.
    Heartbeat {
        last_seq: u64,
        last_side_seq: u64,
        term: u64,
        at_ms: i64,
        /// `replica` only: a fingerprint of the primary's identity key (the HMAC key of ID
        /// numbers; never the key itself), so a standby with another key stops instead of
        /// taking over a hall whose people it would not recognise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        identity_key_id: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_messages_carry_their_type_flat() {
        let message = ChangeMessage {
            id: 7,
            at: "2026-11-23T09:00:00+08:00".into(),
            change: Change::TicketCalled {
                number: "A012".into(),
                service: "hukou".into(),
                window: 3,
                recall: false,
                out_of_order: false,
            },
        };
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(json["type"], "ticket_called");
        assert_eq!(json["number"], "A012");
        assert_eq!(json["id"], 7);
        let back: ChangeMessage = serde_json::from_value(json).unwrap();
        assert_eq!(back, message);
        assert_eq!(back.change.name(), "ticket_called");
    }

    #[test]
    fn unknown_fields_in_requests_are_refused() {
        let err = serde_json::from_str::<IssueTicketRequest>(r#"{"service":"hukou","x":1}"#);
        assert!(err.is_err());
        let err = serde_json::from_str::<DeviceProblemReport>(
            r#"{"kind":"printer","message":"paper end","device":"x"}"#,
        );
        assert!(err.is_err());
        let ok: IssueTicketRequest = serde_json::from_str(r#"{"service":"hukou"}"#).unwrap();
        assert!(!ok.green_channel);
    }

    #[test]
    fn replication_lines_are_tagged_by_type() {
        let line = ReplicationLine::Record {
            seq: 7,
            term: 1,
            at_ms: 1_700_000_000_000,
            actor: "kiosk:1".into(),
            kind: "ticket_issued".into(),
            body: r#"{"type":"ticket_issued"}"#.into(),
            public: None,
        };
        let text = serde_json::to_string(&line).unwrap();
        assert!(
            text.starts_with(r#"{"type":"record","seq":7,"term":1"#),
            "{text}"
        );
        assert_eq!(
            serde_json::from_str::<ReplicationLine>(&text).unwrap(),
            line
        );
        let beat: ReplicationLine = serde_json::from_str(
            r#"{"type":"heartbeat","last_seq":9,"last_side_seq":0,"term":2,"at_ms":5}"#,
        )
        .unwrap();
        assert!(matches!(
            beat,
            ReplicationLine::Heartbeat {
                last_seq: 9,
                term: 2,
                ..
            }
        ));
    }
}
