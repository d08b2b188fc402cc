//! A small async client for the hub's HTTP API and its live event stream, used by the kiosk,
//! the display and the whole-system tests.

use std::time::Duration;

use jiaohao_wire as wire;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the hub: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the hub answered {status}: {} ({})", body.error, body.code)]
    Api { status: u16, body: wire::ErrorBody },
    #[error("the hub answered {status} with a body that is not an error: {text}")]
    Unexpected { status: u16, text: String },
    #[error("the hub's stream went silent for longer than its heartbeat allows")]
    Stalled,
}

impl ClientError {
    /// The HTTP status of an API error, if it is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } | ClientError::Unexpected { status, .. } => {
                Some(*status)
            }
            ClientError::Http(_) | ClientError::Stalled => None,
        }
    }

    /// The error code of an API error, such as `daily_cap_reached`.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { body, .. } => Some(&body.code),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, ClientError>;

/// How often a client of several hubs asks them for their terms while its own hub answers:
/// a promotion is seen within this (plus a probe's second) even when nothing breaks, such as
/// an idle kiosk or a former primary that is fenced but still up.
pub const PRIMARY_CHECK: Duration = Duration::from_secs(2);

/// How long the event stream may stay silent (the hub's heartbeat comes every 15 s).
pub const STREAM_SILENCE: Duration = Duration::from_secs(40);

#[derive(Clone)]
pub struct Client {
    /// The hall's hubs and the one in use: shared by every clone (and `with_token`,
    /// `with_timeout`), so a move to a new primary moves them all.
    hubs: std::sync::Arc<Hubs>,
    token: Option<String>,
    /// The longest a request may take; never applied to the event stream, which lives on.
    timeout: Option<Duration>,
    http: reqwest::Client,
}

/// The hubs a client knows (`--hub URL1,URL2`), the one it uses, and the highest term it has
/// seen: it never moves to a hub of a lower term.
#[derive(Debug)]
struct Hubs {
    all: Vec<String>,
    current: std::sync::RwLock<String>,
    term: std::sync::atomic::AtomicU64,
}

impl Client {
    /// A client for the hub at `base`, such as `http://127.0.0.1:8080`, or for the hall's two
    /// hubs, `http://10.0.0.10:8080,http://10.0.0.11:8080` (it uses the first until
    /// [`Client::find_primary`] finds another).
    pub fn new(base: impl Into<String>) -> Client {
        let all: Vec<String> = base
            .into()
            .split(',')
            .map(|url| url.trim().trim_end_matches('/').to_owned())
            .filter(|url| !url.is_empty())
            .collect();
        let first = all.first().cloned().unwrap_or_default();
        Client {
            hubs: std::sync::Arc::new(Hubs {
                all,
                current: std::sync::RwLock::new(first),
                term: std::sync::atomic::AtomicU64::new(0),
            }),
            token: None,
            timeout: None,
            http: reqwest::Client::new(),
        }
    }

    /// The same client, sending `Authorization: Bearer <token>`.
    pub fn with_token(&self, token: impl Into<String>) -> Client {
        Client {
            token: Some(token.into()),
            ..self.clone()
        }
    }

    /// The same client, giving up on any request (but the event stream) after `timeout`, so a
    /// kiosk can tell a citizen within seconds that the hub is unreachable.
    pub fn with_timeout(&self, timeout: Duration) -> Client {
        Client {
            timeout: Some(timeout),
            ..self.clone()
        }
    }

    /// The hub in use now.
    pub fn base(&self) -> String {
        self.hubs
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether the client knows more than one hub (`--hub URL1,URL2`).
    pub fn has_several_hubs(&self) -> bool {
        self.hubs.all.len() > 1
    }

    /// With several hubs (`--hub URL1,URL2`): asks each for its part and term and moves to
    /// the primary of the highest term, never to one of a lower term than any seen before
    /// (a former primary that came back must not take changes). Returns whether it moved.
    /// With one hub it does nothing.
    pub async fn find_primary(&self) -> bool {
        use std::sync::atomic::Ordering;
        if self.hubs.all.len() < 2 {
            return false;
        }
        let asks = self.hubs.all.iter().map(|url| {
            let probe = Client::new(url.clone()).with_timeout(Duration::from_secs(1));
            async move { (url.clone(), probe.health().await.ok()) }
        });
        let answers = futures_util::future::join_all(asks).await;
        let best = answers
            .into_iter()
            .filter_map(|(url, health)| {
                let health = health?;
                // A hub of a version before terms is a primary of term 1.
                let primary = health.role.as_deref().is_none_or(|role| role == "primary");
                primary.then(|| (health.term.unwrap_or(1), url))
            })
            .max_by_key(|(term, _)| *term);
        let Some((term, url)) = best else {
            return false;
        };
        if term < self.hubs.term.load(Ordering::Relaxed) {
            return false;
        }
        self.hubs.term.fetch_max(term, Ordering::Relaxed);
        let mut current = self.hubs.current.write().unwrap_or_else(|e| e.into_inner());
        if *current == url {
            return false;
        }
        *current = url;
        true
    }

    /// A request to `path` with the client's token and timeout.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let builder = self.untimed_request(method, path);
        match self.timeout {
            Some(timeout) => builder.timeout(timeout),
            None => builder,
        }
    }

    fn untimed_request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let builder = self.http.request(method, format!("{}{path}", self.base()));
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// Sends a request and reads a JSON answer; `None` for `204 No Content`. A hub that
    /// answers 503 `standby` or `fenced` took no change: with several hubs the client then
    /// looks for the primary and, if it moves, sends the same request there once more.
    pub async fn send<T: DeserializeOwned>(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<Option<T>> {
        let (http, request) = builder.build_split();
        let mut request = request?;
        loop {
            let again = request.try_clone();
            let sent_to = self.base();
            let response = http.execute(request).await?;
            let status = response.status();
            if status == StatusCode::NO_CONTENT {
                return Ok(None);
            }
            let text = response.text().await?;
            if status.is_success() {
                return serde_json::from_str(&text).map(Some).map_err(|_| {
                    ClientError::Unexpected {
                        status: status.as_u16(),
                        text,
                    }
                });
            }
            let error = match serde_json::from_str::<wire::ErrorBody>(&text) {
                Ok(body) => ClientError::Api {
                    status: status.as_u16(),
                    body,
                },
                Err(_) => {
                    return Err(ClientError::Unexpected {
                        status: status.as_u16(),
                        text,
                    });
                }
            };
            if status == StatusCode::SERVICE_UNAVAILABLE
                && matches!(error.code(), Some("standby" | "fenced"))
                && let Some(again) = again
                && self.find_primary().await
                && let Some(moved) = moved_to(again, &sent_to, &self.base())
            {
                request = moved;
                continue;
            }
            return Err(error);
        }
    }

    async fn expect<T: DeserializeOwned>(&self, builder: reqwest::RequestBuilder) -> Result<T> {
        self.send(builder).await?.ok_or(ClientError::Unexpected {
            status: 204,
            text: String::new(),
        })
    }

    pub async fn health(&self) -> Result<wire::Health> {
        self.expect(self.request(Method::GET, "/api/health")).await
    }

    /// Tells the primary that this standby holds every record up to `seq` durably
    /// (`POST /api/replication/ack`, a `replica` token).
    pub async fn acknowledge(&self, seq: u64, side_seq: u64) -> Result<()> {
        self.send::<serde_json::Value>(self.request(Method::POST, "/api/replication/ack").json(
            &wire::ReplicationAck {
                seq,
                side_seq: Some(side_seq),
            },
        ))
        .await
        .map(|_| ())
    }

    /// Asks a standby to become the primary (`POST /api/promote`, an admin token).
    pub async fn promote(&self) -> Result<wire::Promoted> {
        self.expect(self.request(Method::POST, "/api/promote"))
            .await
    }

    pub async fn hall(&self) -> Result<wire::HallView> {
        self.expect(self.request(Method::GET, "/api/hall")).await
    }

    /// The hall with the hall's clock at the moment the hub answered (`None` from a hub older
    /// than the clock).
    pub async fn timed_hall(&self) -> Result<(wire::HallView, Option<HallTime>)> {
        let answer: wire::TimedHallView =
            self.expect(self.request(Method::GET, "/api/hall")).await?;
        let time = answer.clock.as_ref().and_then(HallTime::from_wire);
        Ok((answer.view, time))
    }

    /// Issues a ticket; the same `idempotency_key` on a retry returns the same ticket.
    pub async fn issue_ticket(
        &self,
        service: &str,
        green_channel: bool,
        idempotency_key: Option<&str>,
    ) -> Result<wire::IssuedTicket> {
        let request = wire::IssueTicketRequest {
            service: service.to_owned(),
            green_channel,
            id_number: None,
        };
        self.issue_ticket_with(&request, idempotency_key).await
    }

    /// Issues a ticket as `request` says, with the citizen's ID number where the service
    /// requires identity (a second request of the person's that day answers the first ticket,
    /// marked `reprint`); the same `idempotency_key` on a retry returns the same ticket.
    pub async fn issue_ticket_with(
        &self,
        request: &wire::IssueTicketRequest,
        idempotency_key: Option<&str>,
    ) -> Result<wire::IssuedTicket> {
        let mut builder = self.request(Method::POST, "/api/tickets").json(request);
        if let Some(key) = idempotency_key {
            builder = builder.header("Idempotency-Key", key);
        }
        self.expect(builder).await
    }

    /// Checks a booking in (预约签到) by its booking code or, for 18 characters, by the ID
    /// number; answers the booking's ticket.
    pub async fn check_in(&self, code_or_id: &str) -> Result<wire::CheckedIn> {
        let entry = code_or_id.trim();
        let builder = if entry.len() == 18 {
            self.request(Method::POST, "/api/bookings/check-in")
                .json(&wire::CheckInById {
                    id_number: entry.to_owned(),
                })
        } else {
            self.request(
                Method::POST,
                &format!("/api/bookings/{}/check-in", entry.to_ascii_uppercase()),
            )
        };
        self.expect(builder).await
    }

    pub async fn ticket(&self, token: &str) -> Result<wire::TicketStatus> {
        self.expect(self.request(Method::GET, &format!("/api/tickets/{token}")))
            .await
    }

    /// Calls the next ticket to window `n`; `None` when nothing waits for it.
    pub async fn call_next(&self, window: u16) -> Result<Option<wire::TicketDetail>> {
        self.send(self.request(Method::POST, &format!("/api/windows/{window}/call-next")))
            .await
    }

    /// A window action that answers with the ticket: `recall`, `no-show`, `finish`.
    pub async fn ticket_action(&self, window: u16, action: &str) -> Result<wire::TicketDetail> {
        self.expect(self.request(Method::POST, &format!("/api/windows/{window}/{action}")))
            .await
    }

    /// A window action that answers with the window: `open`, `close`, `resume`.
    pub async fn window_action(&self, window: u16, action: &str) -> Result<wire::WindowStatus> {
        self.expect(self.request(Method::POST, &format!("/api/windows/{window}/{action}")))
            .await
    }

    /// Finishes the ticket the window is serving with how the visit ended.
    pub async fn finish(
        &self,
        window: u16,
        outcome: &wire::FinishRequest,
    ) -> Result<wire::TicketDetail> {
        self.expect(
            self.request(Method::POST, &format!("/api/windows/{window}/finish"))
                .json(outcome),
        )
        .await
    }

    /// Closes the window with the class of the reason and, optionally, words.
    pub async fn close(
        &self,
        window: u16,
        reason: &str,
        note: Option<&str>,
    ) -> Result<wire::WindowStatus> {
        let body = wire::CloseRequest {
            reason: reason.to_owned(),
            note: note.map(str::to_owned),
        };
        self.expect(
            self.request(Method::POST, &format!("/api/windows/{window}/close"))
                .json(&body),
        )
        .await
    }

    pub async fn pause(&self, window: u16, reason: &str) -> Result<wire::WindowStatus> {
        self.pause_with(window, reason, None).await
    }

    /// Pauses the window with the class of the reason and, optionally, words.
    pub async fn pause_with(
        &self,
        window: u16,
        reason: &str,
        note: Option<&str>,
    ) -> Result<wire::WindowStatus> {
        let body = wire::PauseRequest {
            reason: reason.to_owned(),
            note: note.map(str::to_owned),
        };
        self.expect(
            self.request(Method::POST, &format!("/api/windows/{window}/pause"))
                .json(&body),
        )
        .await
    }

    pub async fn transfer(
        &self,
        window: u16,
        to: &wire::TransferRequest,
    ) -> Result<wire::TicketDetail> {
        self.expect(
            self.request(Method::POST, &format!("/api/windows/{window}/transfer"))
                .json(to),
        )
        .await
    }

    pub async fn call_ticket(
        &self,
        window: u16,
        number: &str,
        reason: &str,
    ) -> Result<wire::TicketDetail> {
        let body = wire::CallTicketRequest {
            number: number.to_owned(),
            reason: reason.to_owned(),
        };
        self.expect(
            self.request(Method::POST, &format!("/api/windows/{window}/call"))
                .json(&body),
        )
        .await
    }

    pub async fn set_window_services(
        &self,
        window: u16,
        services: &[&str],
    ) -> Result<wire::WindowStatus> {
        let body = wire::WindowServices {
            services: services.iter().map(|s| (*s).to_owned()).collect(),
        };
        self.expect(
            self.request(Method::PUT, &format!("/api/windows/{window}/services"))
                .json(&body),
        )
        .await
    }

    /// Reports a problem with this device to the hub (`kind`: `printer`, `display`, `audio` or
    /// `other`; `message`: what went wrong, 1 to 500 characters).
    pub async fn report_device_problem(
        &self,
        kind: &str,
        message: &str,
    ) -> Result<wire::DeviceProblem> {
        let body = wire::DeviceProblemReport {
            kind: kind.to_owned(),
            message: message.to_owned(),
        };
        self.expect(
            self.request(Method::POST, "/api/devices/problems")
                .json(&body),
        )
        .await
    }

    /// The latest problems devices reported, newest first (admins and supervisors).
    pub async fn device_problems(&self) -> Result<Vec<wire::DeviceProblem>> {
        self.expect(self.request(Method::GET, "/api/devices/problems"))
            .await
    }

    /// Opens the live stream, resuming after `last_event_id` if given.
    pub async fn events(&self, last_event_id: Option<u64>) -> Result<EventStream> {
        let mut builder = self
            .untimed_request(Method::GET, "/api/events")
            .header("Accept", "text/event-stream");
        if let Some(id) = last_event_id {
            builder = builder.header("Last-Event-ID", id.to_string());
        }
        let response = builder.send().await?;
        if !response.status().is_success() {
            return Err(ClientError::Unexpected {
                status: response.status().as_u16(),
                text: response.text().await.unwrap_or_default(),
            });
        }
        Ok(EventStream {
            response,
            buffer: Vec::new(),
        })
    }
}

/// The same request sent to the hub `to` instead of `from` (the path and query kept).
fn moved_to(mut request: reqwest::Request, from: &str, to: &str) -> Option<reqwest::Request> {
    let rest = request.url().as_str().strip_prefix(from)?.to_owned();
    *request.url_mut() = reqwest::Url::parse(&format!("{to}{rest}")).ok()?;
    Some(request)
}

impl Client {
    /// Opens the replication stream (`GET /api/replication`) after record `after` and side
    /// change `side_after` (a `replica` or `ingest` token). An error answer (403, 409, …) is
    /// returned as the API error it is.
    pub async fn replication(&self, after: u64, side_after: u64) -> Result<ReplicationStream> {
        let response = self
            .untimed_request(
                Method::GET,
                &format!("/api/replication?after={after}&side_after={side_after}"),
            )
            .send()
            .await?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            return Err(match serde_json::from_str::<wire::ErrorBody>(&text) {
                Ok(body) => ClientError::Api {
                    status: status.as_u16(),
                    body,
                },
                Err(_) => ClientError::Unexpected {
                    status: status.as_u16(),
                    text,
                },
            });
        }
        Ok(ReplicationStream {
            response,
            buffer: Vec::new(),
        })
    }
}

/// How long the replication stream may stay silent (the hub's heartbeat comes every 5 s).
pub const REPLICATION_SILENCE: Duration = Duration::from_secs(15);

/// The hub's replication stream, parsed line by line.
pub struct ReplicationStream {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl ReplicationStream {
    /// The next line; `None` when the hub closed the stream. A line that is not a
    /// `ReplicationLine` is an error (`Unexpected`): the reader must not skip history.
    pub async fn next(&mut self) -> Result<Option<wire::ReplicationLine>> {
        loop {
            if let Some(line) = self.buffered() {
                return line.map(Some);
            }
            let chunk = tokio::time::timeout(REPLICATION_SILENCE, self.response.chunk())
                .await
                .map_err(|_| ClientError::Stalled)??;
            match chunk {
                Some(chunk) => self.buffer.extend_from_slice(&chunk),
                None => return Ok(None),
            }
        }
    }
}

impl ReplicationStream {
    /// The next line if it has arrived already (nothing is read from the network): a reader
    /// takes what is there in one batch.
    pub fn buffered(&mut self) -> Option<Result<wire::ReplicationLine>> {
        loop {
            let end = self.buffer.iter().position(|b| *b == b'\n')?;
            let line: Vec<u8> = self.buffer.drain(..=end).collect();
            let text = String::from_utf8_lossy(&line[..end]);
            if text.trim().is_empty() {
                continue;
            }
            return Some(
                serde_json::from_str(&text).map_err(|_| ClientError::Unexpected {
                    status: 200,
                    text: text.into_owned(),
                }),
            );
        }
    }
}

/// One message of the live stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEvent {
    /// The event name: `snapshot`, `hall_changed`, `ticket_called`, …
    pub event: String,
    pub id: Option<u64>,
    pub data: String,
}

impl StreamEvent {
    pub fn json<T: DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(&self.data)
    }
}

/// The hub's Server-Sent Events, parsed message by message.
pub struct EventStream {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl EventStream {
    /// The next message; `None` when the hub closed the stream. Heartbeat comments are skipped.
    pub async fn next(&mut self) -> Result<Option<StreamEvent>> {
        loop {
            if let Some(event) = self.take_message() {
                return Ok(Some(event));
            }
            // The hub sends at least a heartbeat every 15 s: a stream silent for longer than
            // `STREAM_SILENCE` hangs on a cut network and is given up, so the caller reconnects.
            let chunk = tokio::time::timeout(STREAM_SILENCE, self.response.chunk())
                .await
                .map_err(|_| ClientError::Stalled)??;
            match chunk {
                Some(chunk) => self.buffer.extend_from_slice(&chunk),
                None => return Ok(None),
            }
        }
    }

    /// Takes one complete message (ended by a blank line) out of the buffer, if there is one.
    fn take_message(&mut self) -> Option<StreamEvent> {
        loop {
            let end = self.buffer.windows(2).position(|w| w == b"\n\n")?;
            let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&block);
            let mut event = StreamEvent {
                event: "message".into(),
                id: None,
                data: String::new(),
            };
            let mut has_data = false;
            for line in text.lines() {
                let (field, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "event" => event.event = value.to_owned(),
                    "id" => event.id = value.parse().ok(),
                    "data" => {
                        if has_data {
                            event.data.push('\n');
                        }
                        event.data.push_str(value);
                        has_data = true;
                    }
                    _ => {}
                }
            }
            if has_data {
                return Some(event);
            }
        }
    }
}

/// The hall's clock as a client knows it: one reading from the hub (`wire::HallClock`) and the
/// moment it arrived, from which the hall's time now is extrapolated, so every face shows the
/// hall's time (a simulated day's too) rather than its own machine's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HallTime {
    reading: jiff::Timestamp,
    speed: f64,
    received: std::time::Instant,
}

impl HallTime {
    /// A reading received just now; `None` if its time does not parse.
    pub fn from_wire(clock: &wire::HallClock) -> Option<HallTime> {
        let reading = clock.now.parse::<jiff::Timestamp>().ok()?;
        let speed = if clock.speed.is_finite() {
            clock.speed.max(0.0)
        } else {
            1.0
        };
        Some(HallTime {
            reading,
            speed,
            received: std::time::Instant::now(),
        })
    }

    /// The hall's time now.
    pub fn now(&self) -> jiff::Timestamp {
        let hall_secs = self.received.elapsed().as_secs_f64() * self.speed;
        self.reading
            .checked_add(jiff::SignedDuration::from_secs_f64(hall_secs))
            .unwrap_or(self.reading)
    }

    /// Hall seconds per real second.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// The real time until the hall's clock shows its next minute (a little after, so that it
    /// has turned); `None` for a clock that stands still.
    pub fn until_next_minute(&self) -> Option<Duration> {
        if self.speed <= 0.0 {
            return None;
        }
        let into_minute = self.now().as_millisecond().rem_euclid(60_000);
        let hall_ms = (60_000 - into_minute) as f64 + 20.0;
        Some(Duration::from_secs_f64(hall_ms / 1000.0 / self.speed))
    }
}
