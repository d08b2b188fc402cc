//! The JSON that crosses between the hub, the kiosk, the display, the web pages and the tests.
//!
//! These types are a boundary: they change only compatibly, whatever the core does inside, so
//! a deployed kiosk keeps working. The hub converts to and from the core explicitly.
//! Times are RFC 3339 strings; ticket numbers are strings such as `A012`.

use serde::{Deserialize, Serialize};

/// The body of every error answer: what is wrong, and a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
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
    /// Why not, when not: `disabled`, `not_open` or `daily_cap_reached`.
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
    pub pause_reason: Option<String>,
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
}

/// The body of `POST /api/tickets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueTicketRequest {
    pub service: String,
    #[serde(default)]
    pub green_channel: bool,
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
    pub reason: String,
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
        let ok: IssueTicketRequest = serde_json::from_str(r#"{"service":"hukou"}"#).unwrap();
        assert!(!ok.green_channel);
    }
}
