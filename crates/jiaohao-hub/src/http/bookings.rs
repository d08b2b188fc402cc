//! Appointments (预约) over HTTP: a service's slots, booking from a phone (verified by an SMS
//! code), cancelling, checking in at the kiosk (by booking code or ID number), the admin's
//! list of a day's bookings and a service's booking settings; and their part of the OpenAPI
//! document.
//!
//! The ID number is checked here (GB 11643) and turned into a keyed hash and a masked form at
//! once: the core, the log and every answer to staff see only those. Names and phone numbers
//! go to the store's contact table (erased when due), never into the log.

use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiaohao_core::{BookingCode, ClockTime, Command, IdNumber, LocalDate, Millis, ServiceCode};
use jiaohao_store::{BookingContact, Role};
use jiaohao_wire as wire;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::codec;
use crate::engine::writer::Answer;
use crate::http::api::{Body, Params};
use crate::http::auth::Principal;
use crate::http::error::{ApiError, storage};
use crate::http::state::AppState;
use crate::identity::{IdentityKey, sha256_hex};
use crate::sms::SmsSender;
use std::sync::atomic::{AtomicU64, Ordering};

/// How long an `Idempotency-Key` of `POST /api/bookings` is remembered (in the database, so
/// across restarts).
const IDEMPOTENCY_TTL_MS: i64 = 24 * 60 * Millis::MINUTE;

/// Names and phones are kept this long after the booking's slot, then erased.
const KEEP_CONTACT_MS: i64 = 30 * 24 * 60 * Millis::MINUTE;

/// What the booking routes share: the identity key, the SMS sender, the answers by key.
pub struct BookingDesk {
    pub key: IdentityKey,
    pub sms: SmsSender,
    /// Citizens this old by their ID number get the green channel without asking.
    pub green_channel_age: Option<u8>,
    /// Booking SMS handed to the sender, and those it could not send (a failed command, an
    /// HTTP gateway's non-2xx answer or timeout), for `/metrics`.
    pub sms_sent: AtomicU64,
    pub sms_failed: AtomicU64,
}

impl BookingDesk {
    pub fn new(key: IdentityKey, sms: SmsSender, green_channel_age: Option<u8>) -> BookingDesk {
        BookingDesk {
            key,
            sms,
            green_channel_age,
            sms_sent: AtomicU64::new(0),
            sms_failed: AtomicU64::new(0),
        }
    }

    fn count_sms(&self, sent: bool) {
        let counter = if sent {
            &self.sms_sent
        } else {
            &self.sms_failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

impl BookingDesk {
    /// Whether the ID number shows the green channel's age today (by the hall's clock).
    pub fn green_by_age(&self, id: &IdNumber, state: &AppState) -> bool {
        self.green_channel_age
            .is_some_and(|age| id.age_on(core_now(state).date) >= u32::from(age))
    }
}

macro_rules! limited {
    ($state:expr) => {
        axum::middleware::from_fn_with_state($state.clone(), crate::http::limits::public)
    };
}

pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/bookings/slots", get(slots).layer(limited!(state)))
        .route(
            "/api/bookings",
            get(list).merge(post(book).layer(limited!(state))),
        )
        .route(
            "/api/bookings/{code}/verify",
            post(verify).layer(limited!(state)),
        )
        .route(
            "/api/bookings/{code}",
            axum::routing::delete(cancel).layer(limited!(state)),
        )
        .route("/api/bookings/{code}/check-in", post(check_in_by_code))
        .route("/api/bookings/check-in", post(check_in_by_id))
        .route("/api/bookings/no-shows", get(no_shows))
        .route("/api/bookings.csv", get(list_csv))
        .route(
            "/api/services/{code}/booking",
            get(get_settings).put(put_settings).delete(delete_settings),
        )
}

fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    (status, axum::Json(value)).into_response()
}

pub fn id_number(text: &str) -> Result<IdNumber, ApiError> {
    IdNumber::parse(text)
        .map_err(|error| ApiError::new(StatusCode::BAD_REQUEST, error.code(), error.to_string()))
}

fn booking_code(text: &str) -> Result<BookingCode, ApiError> {
    BookingCode::parse(text).map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_booking",
            format!("没有预约号 {text}；there is no booking {text}"),
        )
    })
}

/// The instant a local time of a date begins in the hall's time zone.
fn instant(state: &AppState, date: LocalDate, time: ClockTime) -> Result<Millis, ApiError> {
    let minutes = time.minutes();
    let civil = jiff::civil::date(date.year, date.month as i8, date.day as i8).at(
        (minutes / 60) as i8,
        (minutes % 60) as i8,
        0,
        0,
    );
    let at = state
        .zone()
        .to_timestamp(civil)
        .map_err(|e| ApiError::bad_request(format!("{date} {time} is no time in the hall: {e}")))?;
    Ok(Millis(at.as_millisecond()))
}

fn core_now(state: &AppState) -> jiaohao_core::Now {
    crate::clock::core_now(state.clock.now(), &state.zone())
}

#[derive(Deserialize)]
struct SlotsQuery {
    service: String,
    date: String,
}

async fn slots(
    State(state): State<AppState>,
    Params(query): Params<SlotsQuery>,
) -> Result<Response, ApiError> {
    let code = ServiceCode::parse(&query.service)?;
    let date = LocalDate::parse(&query.date)?;
    let now = core_now(&state);
    let (days, slots) = state
        .writer
        .read(move |context| {
            let days = context.hall.bookable_days(&code, now);
            let slots = context.hall.booking_slots(&code, date, now);
            (days, slots)
        })
        .await?;
    let days = days?;
    let answer = match slots {
        Ok(slots) => wire::BookingSlots {
            service: query.service.clone(),
            date: date.to_string(),
            bookable: true,
            reason: None,
            slots: slots
                .iter()
                .map(|s| wire::BookingSlot {
                    start: s.slot.start.to_string(),
                    end: s.slot.end.to_string(),
                    capacity: s.capacity,
                    remaining: s.remaining,
                })
                .collect(),
            days: days.iter().map(ToString::to_string).collect(),
        },
        Err(jiaohao_core::Error::BookingRefused { message, .. }) => wire::BookingSlots {
            service: query.service.clone(),
            date: date.to_string(),
            bookable: false,
            reason: Some(message),
            slots: Vec::new(),
            days: days.iter().map(ToString::to_string).collect(),
        },
        Err(error) => return Err(error.into()),
    };
    Ok(json(StatusCode::OK, &answer))
}

/// A name of 1 to 50 characters, no control characters.
fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    let count = name.chars().count();
    if count == 0 || count > 50 || name.chars().any(char::is_control) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_name",
            "请填写姓名（最多 50 个字）；give a name of 1 to 50 characters",
        ));
    }
    Ok(name.to_owned())
}

/// A mainland mobile number: 11 digits starting with 1.
pub(crate) fn check_phone(phone: &str) -> Result<String, ApiError> {
    let phone = phone.trim();
    if phone.len() == 11 && phone.starts_with('1') && phone.bytes().all(|b| b.is_ascii_digit()) {
        Ok(phone.to_owned())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_phone",
            "手机号码应为 1 开头的 11 位数字；the phone number must be 11 digits starting with 1",
        ))
    }
}

/// Six random digits for the SMS.
fn sms_code() -> String {
    let hex = jiaohao_signin::secret::random_hex(8);
    let value = u64::from_str_radix(&hex, 16).unwrap_or(0);
    format!("{:06}", value % 1_000_000)
}

fn random_booking_code() -> BookingCode {
    let hex = jiaohao_signin::secret::random_hex(8);
    let mut bytes = [0u8; 8];
    for (index, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * index..2 * index + 2], 16).unwrap_or(0);
    }
    BookingCode::from_random(bytes)
}

async fn book(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(request): Body<wire::BookingRequest>,
) -> Result<Response, ApiError> {
    let desk = state.bookings.clone();
    let key = match headers.get("idempotency-key") {
        Some(value) => {
            let key = value
                .to_str()
                .map_err(|_| ApiError::bad_request("the Idempotency-Key header must be ASCII"))?;
            if key.is_empty() || key.len() > 200 {
                return Err(ApiError::bad_request(
                    "an Idempotency-Key must have 1 to 200 characters",
                ));
            }
            Some(key.to_owned())
        }
        None => None,
    };
    // The request as an HMAC (it holds an ID number), to tell a retry from another request.
    let request_mac = desk.key.mac(
        "booking-request",
        &serde_json::to_string(&request).unwrap_or_default(),
    );
    if let Some(key) = &key {
        let since = state.now().plus_ms(-IDEMPOTENCY_TTL_MS);
        let found = {
            let key = key.clone();
            state
                .read(move |store| store.booking_by_idempotency_key(&key, since))
                .await?
        };
        if let Some((earlier_mac, code)) = found {
            if !crate::secret::same(&earlier_mac, &request_mac) {
                return Err(jiaohao_core::Error::IdempotencyKeyReused.into());
            }
            let code = BookingCode::parse(&code)?;
            let booking = state
                .writer
                .read({
                    let code = code.clone();
                    move |context| context.hall.registry().booking(&code).cloned()
                })
                .await?
                .ok_or_else(|| jiaohao_core::Error::UnknownBooking(code.clone()))?;
            return Ok(json(
                StatusCode::CREATED,
                &wire::BookingCreated {
                    code: code.to_string(),
                    service: booking.service.to_string(),
                    date: booking.date.to_string(),
                    start: booking.start.to_string(),
                    end: booking.end.to_string(),
                    cancel_token: idempotent_cancel_token(&desk.key, &code, key),
                    url: format!("/book/{code}"),
                    verified: false,
                },
            ));
        }
    }
    if !desk.sms.is_configured() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "booking_closed",
            "本大厅暂未开通短信，暂不接受预约；this hall sends no SMS, so it takes no bookings",
        ));
    }
    let service = ServiceCode::parse(&request.service)?;
    let date = LocalDate::parse(&request.date)?;
    let start = ClockTime::parse(&request.start)?;
    let name = check_name(&request.name)?;
    let phone = check_phone(&request.phone)?;
    let id = id_number(&request.id_number)?;
    let person = desk.key.person(&id);
    let starts_at = instant(&state, date, start)?;
    // A code already taken (one in 32^8) is refused by the core: draw again.
    let mut attempts = 0;
    let code = loop {
        let code = random_booking_code();
        let command = Command::Book {
            code: code.clone(),
            service: service.clone(),
            date,
            start,
            starts_at,
            person: person.clone(),
            masked_id: id.masked(),
        };
        match state
            .writer
            .command(command, "citizen:booking".into())
            .await
        {
            Ok(_) => break code,
            Err(crate::engine::EngineError::Refused(jiaohao_core::Error::BookingRefused {
                code: "booking_code_taken",
                ..
            })) if attempts < 3 => attempts += 1,
            Err(error) => return Err(error.into()),
        }
    };
    let (end, hall_name, lapse_min) = state
        .writer
        .read({
            let code = code.clone();
            move |context| {
                let end = context.hall.registry().booking(&code).map(|b| b.end);
                let settings = context.hall.settings();
                (
                    end,
                    settings.name_zh.clone(),
                    settings.booking_rules.lapse_min,
                )
            }
        })
        .await?;
    let sms = sms_code();
    // With an Idempotency-Key the cancel token can be made again for a retry after a restart,
    // without keeping it: an HMAC of the code and the key.
    let cancel_token = match &key {
        Some(key) => idempotent_cancel_token(&desk.key, &code, key),
        None => crate::secret::ticket_token(),
    };
    let contact = BookingContact {
        code: code.to_string(),
        name: Some(name),
        phone: Some(phone.clone()),
        sms_code_sha256: sha256_hex(&sms),
        cancel_sha256: sha256_hex(&cancel_token),
        sms_sent_at: state.now(),
        erase_after: starts_at.plus_ms(KEEP_CONTACT_MS + 24 * 60 * Millis::MINUTE),
    };
    state
        .writer
        .store(move |store, _| {
            store
                .put_booking_contact(&contact)
                .map_err(storage("saving a booking's contact"))
        })
        .await?;
    let text = format!(
        "【{hall_name}】您的预约验证码为 {sms}，{lapse_min} 分钟内有效，请勿告诉他人。Your booking verification code, valid for {lapse_min} minutes."
    );
    let sent = desk.sms.send(&phone, &text).await;
    desk.count_sms(sent.is_ok());
    if let Err(error) = sent {
        // The booking lapses unverified (after the hall's lapse, 10 minutes by default); the citizen may try again.
        tracing::error!(%error, booking = %code, "the booking's SMS could not be sent");
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "sms_failed",
            "验证短信发送失败，请稍后重试；the verification SMS could not be sent: try again shortly",
        ));
    }
    let created = wire::BookingCreated {
        code: code.to_string(),
        service: service.to_string(),
        date: date.to_string(),
        start: start.to_string(),
        end: end.map(|e| e.to_string()).unwrap_or_default(),
        cancel_token,
        url: format!("/book/{code}"),
        verified: false,
    };
    if let Some(key) = key {
        let code = code.to_string();
        let now = state.now();
        state
            .writer
            .store(move |store, _| {
                store
                    .put_booking_idempotency_key(
                        &key,
                        &request_mac,
                        &code,
                        now,
                        now.plus_ms(-IDEMPOTENCY_TTL_MS),
                    )
                    .map_err(storage("saving a booking's Idempotency-Key"))
            })
            .await?;
    }
    Ok(json(StatusCode::CREATED, &created))
}

/// The cancel token of a booking made with an `Idempotency-Key`: 32 hex digits of an HMAC of
/// its code and the key, under the hub's key file.
fn idempotent_cancel_token(
    key: &crate::identity::IdentityKey,
    code: &BookingCode,
    idempotency_key: &str,
) -> String {
    let mut token = key.mac("booking-cancel", &format!("{code}\0{idempotency_key}"));
    token.truncate(32);
    token
}

async fn contact(state: &AppState, code: &BookingCode) -> Result<BookingContact, ApiError> {
    let text = code.to_string();
    state
        .read(move |store| store.booking_contact(&text))
        .await?
        .ok_or_else(|| jiaohao_core::Error::UnknownBooking(code.clone()).into())
}

async fn verify(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Body(request): Body<wire::VerifyBooking>,
) -> Result<Response, ApiError> {
    let code = booking_code(&code)?;
    let contact = contact(&state, &code).await?;
    if !crate::secret::same(
        &sha256_hex(request.sms_code.trim()),
        &contact.sms_code_sha256,
    ) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "wrong_sms_code",
            "短信验证码不对，请核对后重新输入；the SMS code is wrong: check it and enter it again",
        ));
    }
    state
        .writer
        .command(
            Command::VerifyBooking { code: code.clone() },
            "citizen:booking".into(),
        )
        .await?;
    Ok(json(
        StatusCode::OK,
        &json!({"code": code.to_string(), "verified": true}),
    ))
}

#[derive(Deserialize)]
struct CancelQuery {
    cancel_token: String,
}

async fn cancel(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Params(query): Params<CancelQuery>,
) -> Result<Response, ApiError> {
    let code = booking_code(&code)?;
    let contact = contact(&state, &code).await?;
    if !crate::secret::same(&sha256_hex(&query.cancel_token), &contact.cancel_sha256) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_cancel_token",
            "取消凭证不对；the cancel token does not belong to this booking",
        ));
    }
    state
        .writer
        .command(
            Command::CancelBooking { code: code.clone() },
            "citizen:booking".into(),
        )
        .await?;
    Ok(json(
        StatusCode::OK,
        &json!({"code": code.to_string(), "status": "cancelled"}),
    ))
}

/// Checks a booking in and answers its ticket with the booking's code.
async fn check_in(
    state: &AppState,
    who: &Principal,
    code: BookingCode,
    green_channel: bool,
) -> Result<Response, ApiError> {
    let command = Command::CheckIn {
        code: code.clone(),
        green_channel,
        token: crate::secret::ticket_token(),
    };
    let Answer::Issued(ticket) = state.writer.command(command, who.actor()).await? else {
        return Err(ApiError::unavailable());
    };
    let slot = state
        .writer
        .read({
            let code = code.clone();
            move |context| {
                context
                    .hall
                    .registry()
                    .booking(&code)
                    .map(|b| (b.start.to_string(), b.end.to_string()))
            }
        })
        .await?;
    Ok(json(
        StatusCode::CREATED,
        &wire::CheckedIn {
            ticket,
            booking: code.to_string(),
            slot_start: slot.as_ref().map(|(start, _)| start.clone()),
            slot_end: slot.map(|(_, end)| end),
        },
    ))
}

async fn check_in_by_code(
    State(state): State<AppState>,
    who: Principal,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Kiosk, Role::Admin])?;
    let code = booking_code(&code)?;
    check_in(&state, &who, code, false).await
}

async fn check_in_by_id(
    State(state): State<AppState>,
    who: Principal,
    Body(request): Body<wire::CheckInById>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Kiosk, Role::Admin])?;
    let id = id_number(&request.id_number)?;
    let person = state.bookings.key.person(&id);
    let now = core_now(&state);
    let found = state
        .writer
        .read(move |context| {
            let registry = context.hall.registry();
            let today = context.hall.date().unwrap_or(now.date).max(now.date);
            registry
                .bookings_on(today, None)
                .into_iter()
                .filter(|b| b.person == person && b.cancelled_at.is_none())
                .min_by_key(|b| (b.verified_at.is_none(), b.starts_at))
                .map(|b| b.code.clone())
        })
        .await?;
    match found {
        Some(code) => {
            let green = state.bookings.green_by_age(&id, &state);
            check_in(&state, &who, code, green).await
        }
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_booking_today",
            "今天没有此身份证号的预约，请现场取号；there is no booking today for this ID number: please take a walk-in ticket",
        )),
    }
}

#[derive(Deserialize)]
struct ListQuery {
    date: String,
    #[serde(default)]
    service: Option<String>,
}

/// A day's bookings as staff see them (masked ID numbers), for the list and its CSV.
async fn entries(
    state: &AppState,
    who: &Principal,
    query: ListQuery,
) -> Result<(LocalDate, Vec<wire::BookingEntry>), ApiError> {
    who.require(&[Role::Admin, Role::Supervisor])?;
    let date = LocalDate::parse(&query.date)?;
    let service = query
        .service
        .as_deref()
        .map(ServiceCode::parse)
        .transpose()?;
    let now = state.now();
    let zone = state.zone();
    let entries = state
        .writer
        .read(move |context| {
            let registry = context.hall.registry();
            registry
                .bookings_on(date, service.as_ref())
                .into_iter()
                .map(|b| wire::BookingEntry {
                    code: b.code.to_string(),
                    service: b.service.to_string(),
                    date: b.date.to_string(),
                    start: b.start.to_string(),
                    end: b.end.to_string(),
                    status: registry.status(b, now).as_str().to_owned(),
                    masked_id: b.masked_id.clone(),
                    booked_at: crate::clock::rfc3339(b.booked_at, &zone),
                    ticket: b
                        .ticket
                        .and_then(|id| context.hall.ticket(id))
                        .map(|t| t.number.to_string()),
                })
                .collect::<Vec<_>>()
        })
        .await?;
    Ok((date, entries))
}

async fn list(
    State(state): State<AppState>,
    who: Principal,
    Params(query): Params<ListQuery>,
) -> Result<Response, ApiError> {
    let (_, entries) = entries(&state, &who, query).await?;
    Ok(json(StatusCode::OK, &entries))
}

/// `GET /api/bookings.csv?date=…&service=…`: the same list as a spreadsheet file, as
/// `/api/reports/csv` gives the reports (UTF-8 with a BOM, so spreadsheets read the Chinese).
async fn list_csv(
    State(state): State<AppState>,
    who: Principal,
    Params(query): Params<ListQuery>,
) -> Result<Response, ApiError> {
    let service = query.service.clone();
    let (date, entries) = entries(&state, &who, query).await?;
    let name = match service {
        Some(service) => format!("jiaohao-bookings-{date}-{service}.csv"),
        None => format!("jiaohao-bookings-{date}.csv"),
    };
    Ok(crate::reports::csv_attachment(
        &name,
        bookings_csv(&entries),
    ))
}

/// The CSV of a day's bookings: one row each, its status and the masked ID number only.
pub fn bookings_csv(entries: &[wire::BookingEntry]) -> String {
    use jiaohao_wire::text::csv_field;
    let mut out = String::from('\u{feff}');
    out.push_str("code,service,date,start,end,status,masked_id,booked_at,ticket\r\n");
    for entry in entries {
        let fields = [
            &entry.code,
            &entry.service,
            &entry.date,
            &entry.start,
            &entry.end,
            &entry.status,
            &entry.masked_id,
            &entry.booked_at,
            entry.ticket.as_deref().unwrap_or(""),
        ];
        let row: Vec<String> = fields.iter().map(|field| csv_field(field)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// `GET /api/bookings/no-shows`: the people who missed verified bookings within the hall's
/// miss window (180 days by default), the barred first, then the most misses, then the latest.
async fn no_shows(State(state): State<AppState>, who: Principal) -> Result<Response, ApiError> {
    use jiaohao_core::booking::BookingStatus;
    who.require(&[Role::Admin, Role::Supervisor])?;
    let now = state.now();
    let zone = state.zone();
    let mut people = state
        .writer
        .read(move |context| {
            let registry = context.hall.registry();
            let rules = context.hall.settings().booking_rules;
            let window_days = i64::from(rules.miss_window_days);
            let since = now.plus_ms(-window_days * 24 * 60 * Millis::MINUTE);
            let mut missed: std::collections::BTreeMap<
                &jiaohao_core::PersonKey,
                Vec<&jiaohao_core::Booking>,
            > = std::collections::BTreeMap::new();
            for booking in registry.bookings.values() {
                if registry.status(booking, now) == BookingStatus::NoShow
                    && booking.starts_at >= since
                {
                    missed.entry(&booking.person).or_default().push(booking);
                }
            }
            missed
                .into_iter()
                .map(|(person, bookings)| {
                    let latest = bookings
                        .iter()
                        .max_by_key(|b| b.starts_at)
                        .expect("a person here missed at least one booking");
                    let barred_until = registry.barred_until(&rules, person, now);
                    (
                        barred_until,
                        wire::NoShowPerson {
                            masked_id: latest.masked_id.clone(),
                            misses: bookings.len() as u32,
                            last_missed: latest.date.to_string(),
                            barred_until: barred_until.map(|until| {
                                crate::clock::rfc3339(until, &zone)
                                    .get(..10)
                                    .unwrap_or_default()
                                    .to_owned()
                            }),
                        },
                    )
                })
                .collect::<Vec<_>>()
        })
        .await?;
    people.sort_by(|(a, x), (b, y)| {
        b.is_some()
            .cmp(&a.is_some())
            .then(y.misses.cmp(&x.misses))
            .then(y.last_missed.cmp(&x.last_missed))
    });
    let people: Vec<wire::NoShowPerson> = people.into_iter().map(|(_, person)| person).collect();
    Ok(json(StatusCode::OK, &people))
}

async fn get_settings(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let code = ServiceCode::parse(&code)?;
    let settings = state
        .writer
        .read({
            let code = code.clone();
            move |context| {
                context.hall.service(&code).map(|_| {
                    context
                        .hall
                        .registry()
                        .settings(&code)
                        .map(codec::booking_settings_to_wire)
                })
            }
        })
        .await?
        .ok_or(jiaohao_core::Error::UnknownService(code))?;
    match settings {
        Some(settings) => Ok(json(StatusCode::OK, &settings)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_booking_settings",
            "该业务不接受预约；this service takes no bookings",
        )),
    }
}

async fn put_settings(
    State(state): State<AppState>,
    who: Principal,
    Path(code): Path<String>,
    Body(def): Body<wire::BookingSettingsDef>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let code = ServiceCode::parse(&code)?;
    let answer = state
        .writer
        .command_from(
            {
                let code = code.clone();
                move |hall| {
                    let service = hall
                        .service(&code)
                        .ok_or_else(|| jiaohao_core::Error::UnknownService(code.clone()))?;
                    let settings = codec::booking_settings_from_wire(
                        &def,
                        service,
                        hall.registry().settings(&code),
                        hall.settings().booking_share_pct,
                    )?;
                    Ok(Command::ConfigureBooking {
                        service: code,
                        settings: Some(settings),
                    })
                }
            },
            who.actor(),
        )
        .await?;
    drop(answer);
    let saved = state
        .writer
        .read(move |context| {
            context
                .hall
                .registry()
                .settings(&code)
                .map(codec::booking_settings_to_wire)
        })
        .await?;
    Ok(json(StatusCode::OK, &saved))
}

async fn delete_settings(
    State(state): State<AppState>,
    who: Principal,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let code = ServiceCode::parse(&code)?;
    state
        .writer
        .command(
            Command::ConfigureBooking {
                service: code,
                settings: None,
            },
            who.actor(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The daily erasure of names and phone numbers whose booking's life plus 30 days is over,
/// and of the callback phones of 差评 cases closed 30 days ago (checked every hour), until the
/// hub stops.
pub async fn erase_contacts(state: AppState) {
    let mut shutdown = state.shutdown.clone();
    loop {
        let erased = state
            .writer
            .store(|store, now| {
                store
                    .erase_booking_contacts(now.at)
                    .map_err(storage("erasing booking contacts"))
            })
            .await;
        match erased {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "erased the names and phones of old bookings"),
            Err(_) => tracing::warn!("erasing old booking contacts failed; trying again later"),
        }
        match crate::http::cases::erase_callback_phones(&state).await {
            Ok(0) => {}
            Ok(count) => tracing::info!(
                count,
                "erased the callback phones of cases closed 30 days ago"
            ),
            Err(_) => tracing::warn!("erasing old callback phones failed; trying again later"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

/// The booking schemas for the OpenAPI document.
pub fn openapi_schemas() -> Value {
    let s = || json!({"type": "string"});
    let n = || json!({"type": "integer", "minimum": 0});
    json!({
        "BookingSlots": {"type": "object", "required": ["service", "date", "bookable", "reason", "slots", "days"], "properties": {
            "service": s(), "date": s(), "bookable": {"type": "boolean"},
            "reason": {"type": ["string", "null"]},
            "slots": {"type": "array", "items": {"type": "object", "required": ["start", "end", "capacity", "remaining"],
                "properties": {"start": s(), "end": s(), "capacity": n(), "remaining": n()}}},
            "days": {"type": "array", "items": s()}}},
        "BookingRequest": {"type": "object", "additionalProperties": false,
            "required": ["service", "date", "start", "name", "id_number", "phone"], "properties": {
            "service": s(), "date": {"type": "string", "description": "YYYY-MM-DD"},
            "start": {"type": "string", "description": "HH:MM, a slot's start"},
            "name": s(), "id_number": {"type": "string", "description": "18-character resident ID number (GB 11643)"},
            "phone": {"type": "string", "description": "11-digit mobile number"}}},
        "BookingCreated": {"type": "object", "required": ["code", "service", "date", "start", "end", "cancel_token", "url", "verified"], "properties": {
            "code": s(), "service": s(), "date": s(), "start": s(), "end": s(), "cancel_token": s(), "url": s(), "verified": {"type": "boolean"}}},
        "VerifyBooking": {"type": "object", "additionalProperties": false, "required": ["sms_code"], "properties": {"sms_code": s()}},
        "CheckInById": {"type": "object", "additionalProperties": false, "required": ["id_number"], "properties": {"id_number": s()}},
        "NoShowPerson": {"type": "object", "required": ["masked_id", "misses", "last_missed", "barred_until"], "properties": {
            "masked_id": {"type": "string"}, "misses": {"type": "integer", "minimum": 1}, "last_missed": {"type": "string", "format": "date"},
            "barred_until": {"type": ["string", "null"], "format": "date"}}},
        "BookingEntry": {"type": "object", "required": ["code", "service", "date", "start", "end", "status", "masked_id", "booked_at", "ticket"], "properties": {
            "code": s(), "service": s(), "date": s(), "start": s(), "end": s(),
            "status": {"type": "string", "enum": ["booked", "lapsed", "verified", "cancelled", "checked_in", "served", "no_show"]},
            "masked_id": s(), "booked_at": s(), "ticket": {"type": ["string", "null"]}}},
        "BookingSettings": {"type": "object", "additionalProperties": false,
            "description": "GET gives every field but share_pct. On PUT a field left out keeps the service's value (or the default: slot_min 30, days_ahead 5, cancel_before_min 120, check_in_before_min 30, check_in_after_min 15). Places: capacities as given, else share_pct of the daily cap, else the current capacities if slot_min stays, else the hall's booking_share_pct",
            "properties": {
            "slot_min": {"type": "integer", "enum": [30, 60]},
            "share_pct": {"type": "integer", "minimum": 0, "maximum": 100, "description": "PUT only: spread this share of the daily cap over the slots (not with capacities)"},
            "capacities": {"type": "array", "items": n(), "description": "The places of each slot of the day, from the service's opening on"},
            "days_ahead": {"type": "integer", "minimum": 1, "maximum": 5},
            "cancel_before_min": {"type": "integer", "minimum": 0, "maximum": 1440, "description": "Cancelling closes this many minutes before the slot"},
            "check_in_before_min": {"type": "integer", "minimum": 0, "maximum": 1440, "description": "Check-in opens this many minutes before the slot's start"},
            "check_in_after_min": {"type": "integer", "minimum": 0, "maximum": 1440, "description": "Check-in closes this many minutes after the slot's start"}}}
    })
}

/// The booking paths for the OpenAPI document.
pub fn openapi_paths() -> Value {
    let schema = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let answer = |description: &str, name: &str| json!({"description": description, "content": {"application/json": {"schema": schema(name)}}});
    let object = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"type": "object"}}}});
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let code =
        json!({"name": "code", "in": "path", "required": true, "schema": {"type": "string"}});
    let body = |name: &str| json!({"required": true, "content": {"application/json": {"schema": schema(name)}}});
    let checked_in = json!({"description": "Checked in: the ticket as POST /api/tickets answers it, and the booking's code",
        "content": {"application/json": {"schema": {"allOf": [schema("IssuedTicket"),
            {"type": "object", "required": ["booking"], "properties": {"booking": {"type": "string"}, "slot_start": {"type": "string"}, "slot_end": {"type": "string"}}}]}}}});
    json!({
        "/api/bookings/slots": {"get": {"summary": "A service's booking slots on a day, with places left; a day that cannot be booked says why",
            "parameters": [
                {"name": "service", "in": "query", "required": true, "schema": {"type": "string"}},
                {"name": "date", "in": "query", "required": true, "schema": {"type": "string"}}],
            "responses": {"200": answer("The slots", "BookingSlots"), "400": error("Bad service code or date"),
                "404": error("No such service"), "409": error("The service takes no bookings"),
                "429": error("Too many requests from this address"), "503": error("The hub is stopping")}}},
        "/api/bookings": {
            "post": {"summary": "Book a slot (public); an SMS code goes to the phone, and the booking lapses unless verified within the hall's lapse (booking_rules.lapse_min, 10 minutes by default)",
                "parameters": [{"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "minLength": 1, "maxLength": 200}}],
                "requestBody": body("BookingRequest"),
                "responses": {"201": answer("Booked, not yet verified", "BookingCreated"),
                    "400": error("A bad ID number (says which check failed), date, slot, name or phone"),
                    "404": error("No such service"),
                    "409": error("The slot is full, the person has a booking that day or is barred, or booking is closed"),
                    "429": error("Too many requests from this address"),
                    "503": error("The SMS could not be sent, or the hub cannot save")}},
            "get": {"summary": "A day's bookings with their status and masked ID numbers (admin, supervisor)",
                "security": [{"bearer": []}],
                "parameters": [
                    {"name": "date", "in": "query", "required": true, "schema": {"type": "string"}},
                    {"name": "service", "in": "query", "required": false, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "The bookings", "content": {"application/json": {"schema": {"type": "array", "items": schema("BookingEntry")}}}},
                    "400": error("Bad date or service code"), "401": error("No token or session"), "403": error("Not an admin or supervisor"),
                    "503": error("The hub is stopping")}}},
        "/api/bookings.csv": {"get": {"summary": "A day's bookings as CSV with their status and masked ID numbers (admin, supervisor)",
            "security": [{"bearer": []}],
            "parameters": [
                {"name": "date", "in": "query", "required": true, "schema": {"type": "string"}},
                {"name": "service", "in": "query", "required": false, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "CSV, one row per booking", "content": {"text/csv": {"schema": {"type": "string"}}}},
                "400": error("Bad date or service code"), "401": error("No token or session"), "403": error("Not an admin or supervisor"),
                "503": error("The hub is stopping")}}},
        "/api/bookings/no-shows": {"get": {"summary": "The people who missed verified bookings within 180 days, with their masked ID numbers and whether they are barred from booking (admin, supervisor)",
            "security": [{"bearer": []}],
            "responses": {"200": {"description": "The people, the barred first", "content": {"application/json": {"schema": {"type": "array", "items": schema("NoShowPerson")}}}},
                "401": error("No token or session"), "403": error("Not an admin or supervisor"), "503": error("The hub is stopping")}}},
        "/api/bookings/{code}/verify": {"post": {"summary": "Verify a booking with the SMS code (public)",
            "parameters": [code.clone()], "requestBody": body("VerifyBooking"),
            "responses": {"200": object("Verified"), "400": error("Wrong SMS code or malformed body"),
                "404": error("No such booking"), "409": error("The booking lapsed or is no longer active"),
                "429": error("Too many requests from this address"), "503": error("The hub cannot save")}}},
        "/api/bookings/{code}": {"delete": {"summary": "Cancel a booking with its cancel token (public), up to 2 hours before its slot",
            "parameters": [code.clone(), {"name": "cancel_token", "in": "query", "required": true, "schema": {"type": "string"}}],
            "responses": {"200": object("Cancelled"), "400": error("Malformed query"), "403": error("Wrong cancel token"),
                "404": error("No such booking"), "409": error("Too late to cancel, or not active"),
                "429": error("Too many requests from this address"), "503": error("The hub cannot save")}}},
        "/api/bookings/{code}/check-in": {"post": {"summary": "Check a booking in at the kiosk by its code: issues its ticket, queued by its slot start",
            "security": [{"bearer": []}], "parameters": [code.clone()],
            "responses": {"201": checked_in.clone(), "401": error("No token or session"), "403": error("Not a kiosk or admin"),
                "404": error("No such booking"),
                "409": error("Too early (says when check-in opens), too late (take a walk-in ticket), another day, or not active"),
                "503": error("The hub cannot save")}}},
        "/api/bookings/check-in": {"post": {"summary": "Check in by ID number: finds the person's booking today",
            "security": [{"bearer": []}], "requestBody": body("CheckInById"),
            "responses": {"201": checked_in, "400": error("A bad ID number"), "401": error("No token or session"),
                "403": error("Not a kiosk or admin"), "404": error("No booking today for this ID number"),
                "409": error("Too early, too late or not active"), "503": error("The hub cannot save")}}},
        "/api/services/{code}/booking": {
            "get": {"summary": "A service's booking settings", "parameters": [code.clone()],
                "responses": {"200": answer("The settings", "BookingSettings"), "400": error("Bad service code"),
                    "404": error("No such service, or it takes no bookings"), "503": error("The hub is stopping")}},
            "put": {"summary": "Set how a service takes bookings (admin): slots of 30 or 60 minutes within its hours, capacities per slot (or a share of its daily cap), 1–5 working days ahead",
                "security": [{"bearer": []}], "parameters": [code.clone()], "requestBody": body("BookingSettings"),
                "responses": {"200": answer("Saved", "BookingSettings"), "400": error("Settings that do not fit the service"),
                    "401": error("No token or session"), "403": error("Not an admin"), "404": error("No such service"),
                    "503": error("The hub cannot save")}},
            "delete": {"summary": "Stop taking bookings for a service (admin); bookings made stay",
                "security": [{"bearer": []}], "parameters": [code],
                "responses": {"204": {"description": "Stopped"}, "400": error("Bad service code"),
                    "401": error("No token or session"), "403": error("Not an admin"), "404": error("No such service"),
                    "503": error("The hub cannot save")}}}
    })
}
