//! The live city board: each hall's state folded by the core ([`LiveHall::of`] runs the core's
//! projection on the folded hall) beside its link state from PostgreSQL, sorted by pressure
//! (the longest projected wait against its target).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiaohao_core::{ClockTime, Hall, LocalDate, Millis, Now, Projection, WindowState};
use serde::Serialize;
use tokio_postgres::GenericClient;

use crate::CityError;

/// One service of a hall, as projected.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LiveService {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub waiting: usize,
    /// The projected wait of a ticket issued now, in whole minutes rounded up as the hall's own
    /// view shows it (`GET /api/hall`'s `estimated_wait_min`); `None` if no open window
    /// serves it.
    pub projected_wait_min: Option<u32>,
    pub target_min: u32,
}

/// One window of a hall.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LiveWindow {
    pub number: u16,
    /// closed, open, paused, serving
    pub state: &'static str,
    pub serving: Option<String>,
}

/// A hall as its own view shows it, folded by the city.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LiveHall {
    pub name_zh: String,
    /// The last record folded: the hall's own view at this sequence number shows the same.
    pub seq: u64,
    /// The hall's clock at the last line it sent (ms since the epoch).
    pub hall_now_ms: i64,
    pub date: Option<String>,
    pub open_windows: usize,
    pub waiting: usize,
    /// The highest projected wait against its service's target, as a ratio (1.0 = at target),
    /// of the waits as shown (whole minutes).
    pub pressure: Option<f64>,
    pub longest_wait_min: Option<u32>,
    pub longest_target_min: Option<u32>,
    pub services: Vec<LiveService>,
    pub windows: Vec<LiveWindow>,
}

/// The hall's local `Now` at an instant, in its own time zone.
pub fn now_of(hall: &Hall, at_ms: i64) -> Option<Now> {
    let zone = jiff::tz::TimeZone::get(&hall.settings().timezone).ok()?;
    let civil = zone.to_datetime(jiff::Timestamp::from_millisecond(at_ms).ok()?);
    Some(Now {
        at: Millis(at_ms),
        date: LocalDate::new(civil.year(), civil.month() as u8, civil.day() as u8).ok()?,
        time: ClockTime::from_minutes(civil.hour() as u16 * 60 + civil.minute() as u16).ok()?,
    })
}

impl LiveHall {
    /// The hall after record `seq`, at `at_ms` on its clock, projected by the core.
    pub fn of(hall: &Hall, seq: u64, at_ms: i64) -> LiveHall {
        let projection = now_of(hall, at_ms).map(|now| Projection::of(hall, now));
        let services: Vec<LiveService> = hall
            .services()
            .into_iter()
            .filter(|s| s.enabled)
            .map(|service| LiveService {
                code: service.code.to_string(),
                name_zh: service.name_zh.clone(),
                name_en: service.name_en.clone(),
                waiting: hall
                    .tickets()
                    .iter()
                    .filter(|t| t.status.is_queued() && t.service == service.code)
                    .count(),
                projected_wait_min: projection
                    .as_ref()
                    .and_then(|p| p.new_ticket_wait_ms(&service.code))
                    .map(Millis::minutes_up),
                target_min: service.wait_target_min,
            })
            .collect();
        let longest = services
            .iter()
            .filter_map(|s| {
                let wait = s.projected_wait_min?;
                Some((
                    f64::from(wait) / f64::from(s.target_min.max(1)),
                    wait,
                    s.target_min,
                ))
            })
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let windows: Vec<LiveWindow> = hall
            .windows()
            .map(|w| LiveWindow {
                number: w.number().get(),
                state: match &w.state {
                    WindowState::Closed => "closed",
                    WindowState::Open => "open",
                    WindowState::Paused { .. } => "paused",
                    WindowState::Serving { .. } => "serving",
                },
                serving: w
                    .serving()
                    .and_then(|id| hall.ticket(id))
                    .map(|t| t.number.to_string()),
            })
            .collect();
        LiveHall {
            name_zh: hall.settings().name_zh.clone(),
            seq,
            hall_now_ms: at_ms,
            date: hall.date().map(|d| d.to_string()),
            open_windows: windows.iter().filter(|w| w.state != "closed").count(),
            waiting: hall
                .tickets()
                .iter()
                .filter(|t| t.status.is_queued())
                .count(),
            pressure: longest.map(|l| (l.0 * 100.0).round() / 100.0),
            longest_wait_min: longest.map(|l| l.1),
            longest_target_min: longest.map(|l| l.2),
            services,
            windows,
        }
    }
}

/// The live halls by id, written by the followers, read by the pages.
#[derive(Debug, Clone, Default)]
pub struct LiveHalls(Arc<Mutex<HashMap<i32, LiveHall>>>);

impl LiveHalls {
    pub fn set(&self, hall: i32, live: LiveHall) {
        self.0.lock().expect("live halls lock").insert(hall, live);
    }

    pub fn get(&self, hall: i32) -> Option<LiveHall> {
        self.0.lock().expect("live halls lock").get(&hall).cloned()
    }
}

/// One row of the board.
#[derive(Debug, Clone, Serialize)]
pub struct BoardRow {
    pub id: i32,
    pub name: String,
    /// connected, unreachable, token_refused, error, never
    pub link: String,
    pub link_detail: String,
    /// Since when the link is in its state, on the hall's clock (`YYYY-MM-DD HH:MM`).
    pub link_since: String,
    /// How long the link is in its state, in seconds (PostgreSQL's clock, as `link_since`).
    pub link_for_s: i64,
    /// The instant of the hall's last record, on the hall's clock.
    pub last_record_at: Option<String>,
    /// The hall's time zone (IANA name, from its settings): the times above are in it.
    pub timezone: String,
    pub last_seq: i64,
    /// Tickets of the hall's latest day in PostgreSQL: issued, and still waiting.
    pub issued_today: i64,
    pub live: Option<LiveHall>,
}

/// The board: every hall with its link state and latest day's counts (one query), and its
/// live state; the most pressed first, halls not connected after them in name order.
pub async fn board(
    client: &impl GenericClient,
    live: &LiveHalls,
) -> Result<Vec<BoardRow>, CityError> {
    let rows = client
        .query(
            "SELECT h.id, h.name, h.state, h.state_detail,
                    to_char(h.state_since AT TIME ZONE h.timezone, 'YYYY-MM-DD HH24:MI'),
                    to_char(h.last_record_at AT TIME ZONE h.timezone, 'YYYY-MM-DD HH24:MI:SS'),
                    h.last_seq,
                    coalesce((SELECT d.issued FROM hall_days d WHERE d.hall = h.id
                              ORDER BY d.day DESC LIMIT 1), 0),
                    h.timezone,
                    greatest(extract(epoch FROM now() - h.state_since), 0)::bigint
             FROM halls h ORDER BY h.name",
            &[],
        )
        .await?;
    let mut board: Vec<BoardRow> = rows
        .into_iter()
        .map(|r| {
            let id: i32 = r.get(0);
            BoardRow {
                id,
                name: r.get(1),
                link: r.get(2),
                link_detail: r.get(3),
                link_since: r.get(4),
                last_record_at: r.get(5),
                last_seq: r.get(6),
                issued_today: r.get(7),
                timezone: r.get(8),
                link_for_s: r.get(9),
                live: live.get(id),
            }
        })
        .collect();
    board.sort_by(|a, b| {
        let key = |row: &BoardRow| {
            (
                row.link != "connected",
                -(row.live.as_ref().and_then(|l| l.pressure).unwrap_or(0.0) * 1000.0) as i64,
            )
        };
        key(a).cmp(&key(b))
    });
    Ok(board)
}
