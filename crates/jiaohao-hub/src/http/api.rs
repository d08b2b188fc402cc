//! The HTTP handlers of `/api`: each checks who asks, turns the request into a core command
//! for the writer, and the writer's answer into JSON.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiaohao_core::{
    Absence, AbsenceClass, Command, Outcome, Rating, RatingReason, ServiceCode, TicketNumber,
    TransferTarget, WindowNumber,
};
use jiaohao_store::Role;
use jiaohao_wire as wire;
use serde::de::DeserializeOwned;

use crate::codec;
use crate::engine::writer::Answer;
use crate::http::auth::Principal;
use crate::http::cases;
use crate::http::error::{ApiError, storage};
use crate::http::state::AppState;

/// A JSON body whose rejection is a 400 with our error body, saying what is wrong.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let message = match &rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "send the body as JSON with Content-Type: application/json".to_owned()
        }
        JsonRejection::JsonSyntaxError(_) => {
            format!("the body is not valid JSON: {}", inner(&rejection))
        }
        JsonRejection::JsonDataError(_) => format!("the body does not fit: {}", inner(&rejection)),
        _ => format!("the body cannot be read: {}", inner(&rejection)),
    };
    ApiError::bad_request(message)
}

/// The deepest cause of a rejection: serde's own words, without axum's prefix.
fn inner(rejection: &JsonRejection) -> String {
    let mut source: &dyn std::error::Error = rejection;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

/// A JSON body that may be left out: `None` when the request has no body, or the body is
/// JSON `null` (as clients of before the body send).
pub struct OptionalBody<T>(pub Option<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OptionalBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.trim_start().starts_with("application/json"));
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                ApiError::bad_request(format!(
                    "the body cannot be read: {}",
                    rejection.body_text()
                ))
            })?;
        let text = bytes.trim_ascii();
        if text.is_empty() || text == b"null" {
            return Ok(OptionalBody(None));
        }
        if !is_json {
            return Err(ApiError::bad_request(
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        match Json::<T>::from_bytes(&bytes) {
            Ok(Json(value)) => Ok(OptionalBody(Some(value))),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// Query parameters whose rejection is a 400 with our error body.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Params(value)),
            Err(rejection) => Err(ApiError::bad_request(format!(
                "the query parameters do not fit: {}",
                rejection.body_text()
            ))),
        }
    }
}

fn window_number(text: &str) -> Result<WindowNumber, ApiError> {
    Ok(WindowNumber::parse(text)?)
}

/// The numeric id of a row (a token, a user) from a path segment; `what` names it in the error.
pub fn row_id(text: &str, what: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("'{text}' is not a {what} id")))
}

fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    (status, Json(value)).into_response()
}

/// Turns a writer answer into a response of the given success status.
fn respond(answer: Answer, status: StatusCode) -> Response {
    match answer {
        Answer::Issued(ticket) => json(status, &ticket),
        Answer::Ticket(Some(ticket)) => json(status, &ticket),
        Answer::Ticket(None) => StatusCode::NO_CONTENT.into_response(),
        Answer::Window(window) => json(status, &window),
        Answer::Service(service) => json(status, &service),
        Answer::Settings(settings) => json(status, &settings),
        Answer::Done => StatusCode::NO_CONTENT.into_response(),
    }
}

async fn run(state: &AppState, who: &Principal, command: Command) -> Result<Answer, ApiError> {
    Ok(state.writer.command(command, who.actor()).await?)
}

pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::http::openapi::document(),
    )
        .into_response()
}

pub async fn hall(State(state): State<AppState>) -> Response {
    let published = state.hall.borrow().clone();
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.timed_hall_json(&published.json),
    )
        .into_response()
}

pub async fn get_settings(State(state): State<AppState>) -> Result<Response, ApiError> {
    let settings = state
        .writer
        .read(|context| codec::settings_to_wire(context.hall.settings()))
        .await?;
    Ok(json(StatusCode::OK, &settings))
}

pub async fn put_settings(
    State(state): State<AppState>,
    who: Principal,
    Body(settings): Body<wire::HallSettings>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let keep_case_days = settings.case_due_working_days.is_none();
    let keep_booking_share = settings.booking_share_pct.is_none();
    let keep_booking_rules = settings.booking_rules.is_none();
    let mut settings = codec::settings_from_wire(&settings)?;
    crate::clock::known_time_zone(&settings.timezone).map_err(ApiError::bad_request)?;
    // The rota is set on its own route; the settings keep it, and the cases' working days, the
    // default booking share and the booking rules when the body leaves them out (a client of
    // before them).
    let answer = state
        .writer
        .command_from(
            move |hall| {
                settings.rota = hall.settings().rota.clone();
                if keep_case_days {
                    settings.case_due_working_days = hall.settings().case_due_working_days;
                }
                if keep_booking_share {
                    settings.booking_share_pct = hall.settings().booking_share_pct;
                }
                if keep_booking_rules {
                    settings.booking_rules = hall.settings().booking_rules;
                }
                Ok(Command::ConfigureHall(settings))
            },
            who.actor(),
        )
        .await?;
    Ok(respond(answer, StatusCode::OK))
}

pub async fn issue_ticket(
    State(state): State<AppState>,
    who: Principal,
    headers: HeaderMap,
    Body(request): Body<wire::IssueTicketRequest>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Kiosk, Role::Admin])?;
    if let Err(too_many) = state.limits.ticket(&who) {
        return Ok(too_many.into_response());
    }
    let idempotency_key = match headers.get("idempotency-key") {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| ApiError::bad_request("the Idempotency-Key header must be ASCII"))?
                .to_owned(),
        ),
        None => None,
    };
    let service = ServiceCode::parse(&request.service)?;
    let command = match &request.id_number {
        None => Command::IssueTicket {
            service,
            green_channel: request.green_channel,
            token: crate::secret::ticket_token(),
            idempotency_key,
        },
        Some(text) => {
            let id = crate::http::bookings::id_number(text)?;
            let desk = &state.bookings;
            Command::IssueForPerson {
                service,
                green_channel: request.green_channel || desk.green_by_age(&id, &state),
                token: crate::secret::ticket_token(),
                idempotency_key,
                person: desk.key.person(&id),
            }
        }
    };
    let answer = run(&state, &who, command).await?;
    Ok(respond(answer, StatusCode::CREATED))
}

pub async fn ticket_status(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let status = state.writer.ticket_status(token).await?;
    match status {
        Some(status) => Ok(json(StatusCode::OK, &status)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_ticket",
            "no ticket of today has this token",
        )),
    }
}

pub async fn list_services(State(state): State<AppState>) -> Result<Response, ApiError> {
    let view = state.hall_view();
    let services: Vec<&wire::ServiceDef> = view.services.iter().map(|s| &s.def).collect();
    Ok(json(StatusCode::OK, &services))
}

pub async fn get_service(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let code = ServiceCode::parse(&code)?;
    let view = state.hall_view();
    view.services
        .iter()
        .find(|s| s.def.code == code.as_str())
        .map(|s| json(StatusCode::OK, &s.def))
        .ok_or_else(|| jiaohao_core::Error::UnknownService(code).into())
}

pub async fn add_service(
    State(state): State<AppState>,
    who: Principal,
    Body(def): Body<wire::ServiceDef>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    no_booking_here(&def)?;
    let service = codec::service_from_wire(&def)?;
    let answer = run(&state, &who, Command::AddService(service)).await?;
    Ok(respond(answer, StatusCode::CREATED))
}

pub async fn put_service(
    State(state): State<AppState>,
    who: Principal,
    Path(code): Path<String>,
    Body(def): Body<wire::ServiceDef>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let code = ServiceCode::parse(&code)?;
    if def.code != code.as_str() {
        return Err(ApiError::bad_request(format!(
            "the body is for service '{}' but the path names '{code}'",
            def.code
        )));
    }
    no_booking_here(&def)?;
    let mut service = codec::service_from_wire(&def)?;
    // A body without `identity` (a client of before it) keeps whether the service requires
    // the ID number, rather than switching it off unasked.
    let keep_identity = def.identity.is_none();
    let answer = state
        .writer
        .command_from(
            move |hall| {
                if keep_identity && let Some(current) = hall.service(&service.code) {
                    service.identity_required = current.identity_required;
                }
                Ok(Command::UpdateService(service))
            },
            who.actor(),
        )
        .await?;
    Ok(respond(answer, StatusCode::OK))
}

/// Booking settings have their own route; a service's body carries them in hall files only.
fn no_booking_here(def: &wire::ServiceDef) -> Result<(), ApiError> {
    if def.booking.is_some() {
        return Err(ApiError::bad_request(format!(
            "预约设置请在 /api/services/{0}/booking 中修改；set booking settings with PUT /api/services/{0}/booking, not in the service's body",
            def.code
        )));
    }
    Ok(())
}

pub async fn delete_service(
    State(state): State<AppState>,
    who: Principal,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let code = ServiceCode::parse(&code)?;
    let answer = run(&state, &who, Command::RemoveService(code)).await?;
    Ok(respond(answer, StatusCode::NO_CONTENT))
}

pub async fn list_windows(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(json(StatusCode::OK, &state.hall_view().windows))
}

fn find_window(state: &AppState, number: WindowNumber) -> Result<wire::WindowStatus, ApiError> {
    state
        .hall_view()
        .windows
        .iter()
        .find(|w| w.number == number.get())
        .cloned()
        .ok_or_else(|| jiaohao_core::Error::UnknownWindow(number).into())
}

pub async fn get_window(
    State(state): State<AppState>,
    Path(n): Path<String>,
) -> Result<Response, ApiError> {
    let window = find_window(&state, window_number(&n)?)?;
    Ok(json(StatusCode::OK, &window))
}

pub async fn add_window(
    State(state): State<AppState>,
    who: Principal,
    Body(def): Body<wire::WindowDef>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let def = codec::window_from_wire(&def)?;
    let answer = run(&state, &who, Command::AddWindow(def)).await?;
    Ok(respond(answer, StatusCode::CREATED))
}

pub async fn put_window(
    State(state): State<AppState>,
    who: Principal,
    Path(n): Path<String>,
    Body(def): Body<wire::WindowDef>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let number = window_number(&n)?;
    if def.number != number.get() {
        return Err(ApiError::bad_request(format!(
            "the body is for window {} but the path names window {number}",
            def.number
        )));
    }
    let def = codec::window_from_wire(&def)?;
    let answer = run(&state, &who, Command::UpdateWindow(def)).await?;
    Ok(respond(answer, StatusCode::OK))
}

pub async fn delete_window(
    State(state): State<AppState>,
    who: Principal,
    Path(n): Path<String>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let answer = run(&state, &who, Command::RemoveWindow(window_number(&n)?)).await?;
    Ok(respond(answer, StatusCode::NO_CONTENT))
}

pub async fn get_window_services(
    State(state): State<AppState>,
    Path(n): Path<String>,
) -> Result<Response, ApiError> {
    let window = find_window(&state, window_number(&n)?)?;
    Ok(json(
        StatusCode::OK,
        &wire::WindowServices {
            services: window.services,
        },
    ))
}

/// Changes which services a window serves (primary first); applies to its next call.
pub async fn put_window_services(
    State(state): State<AppState>,
    who: Principal,
    Path(n): Path<String>,
    Body(body): Body<wire::WindowServices>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let window = window_number(&n)?;
    let services = body
        .services
        .iter()
        .map(|code| ServiceCode::parse(code))
        .collect::<Result<Vec<_>, _>>()?;
    let answer = run(&state, &who, Command::AssignServices { window, services }).await?;
    Ok(respond(answer, StatusCode::OK))
}

/// A window action without a body, for a clerk of that window or an admin.
async fn window_action(
    state: &AppState,
    who: &Principal,
    n: &str,
    command: impl FnOnce(WindowNumber) -> Command,
) -> Result<Response, ApiError> {
    let window = window_number(n)?;
    who.require_window(window)?;
    let answer = run(state, who, command(window)).await?;
    Ok(respond(answer, StatusCode::OK))
}

pub async fn call_next(
    State(state): State<AppState>,
    who: Principal,
    Path(n): Path<String>,
) -> Result<Response, ApiError> {
    window_action(&state, &who, &n, |window| Command::CallNext { window }).await
}

pub async fn call_ticket(
    State(state): State<AppState>,
    who: Principal,
    Path(n): Path<String>,
    Body(body): Body<wire::CallTicketRequest>,
) -> Result<Response, ApiError> {
    let number = TicketNumber::parse(body.number.trim())?;
    window_action(&state, &who, &n, |window| Command::CallTicket {
        window,
        number,
        reason: body.reason,
    })
    .await
}

pub async fn recall(
    State(state): State<AppState>,
    who: Principal,
    Path(n): Path<String>,
) -> Result<Response, ApiError> {
    window_action(&state, &who, &n, |window| Command::Recall { window }).await
}

pub async fn no_show(
    State(state): State<AppState>,
    who: Principal,
    Path(n): Path<String>,
) -> Result<Response, ApiError> {
    window_action(&state, &who, &n, |window| Command::NoShow { window }).await
}

pub async fn finish(
    State(state): State<AppState>,
    who: Principal,
    Path(n): Path<String>,
    OptionalBody(body): OptionalBody<wire::FinishRequest>,
) -> Result<Response, ApiError> {
    let outcome = match body {
        None => Outcome::Done,
        Some(body) => Outcome::parse(
            &body.outcome,
            body.documents,
            body.reason.as_deref(),
            body.office.as_deref(),
        )?,
    };
    window_action(&state, &who, &n, |window| Command::Finish {
        window,
        outcome,
    })
    .await
}

pub async fn transfer(
    State(state): State<AppState>,
    who: Principal,
    Path(n): Path<String>,
    Body(body): Body<wire::TransferRequest>,
) -> Result<Response, ApiError> {
    let to = match (body.to_service, body.to_window) {
        (Some(code), None) => TransferTarget::Service(ServiceCode::parse(&code)?),
        (None, Some(number)) => TransferTarget::Window(WindowNumber::new(u32::from(number))?),
        _ => {
            return Err(ApiError::bad_request(
                "name exactly one of to_service and to_window",
            ));
        }
    };
    window_action(&state, &who, &n, |window| Command::Transfer { window, to }).await
}

pub async fn open(
    State(state): State<AppState>,
    who: Principal,
    Path(n): Path<String>,
) -> Result<Response, ApiError> {
    window_action(&state, &who, &n, |window| Command::Open { window }).await
}

pub async fn close(
    State(state): State<AppState>,
    who: Principal,
    Path(n): Path<String>,
    OptionalBody(body): OptionalBody<wire::CloseRequest>,
) -> Result<Response, ApiError> {
    // Closing takes a reason, as a pause does (only the day start's close has none).
    let Some(body) = body else {
        return Err(ApiError::bad_request(
            "关闭窗口须选择原因 / closing a window takes a reason: {\"reason\":\"break|meeting|system_fault|training|off_duty|other\",\"note\":\"…\"}",
        ));
    };
    let reason = Some(Absence::parse(&body.reason, body.note.as_deref())?);
    window_action(&state, &who, &n, |window| Command::Close { window, reason }).await
}

pub async fn pause(
    State(state): State<AppState>,
    who: Principal,
    Path(n): Path<String>,
    Body(body): Body<wire::PauseRequest>,
) -> Result<Response, ApiError> {
    let reason = match (AbsenceClass::parse(&body.reason), body.note) {
        (Some(_), note) => Absence::parse(&body.reason, note.as_deref())?,
        (None, None) if !body.reason.trim().is_empty() => Absence::from_words(&body.reason),
        (None, _) => Absence::parse(&body.reason, None)?,
    };
    reason.validate()?;
    window_action(&state, &who, &n, |window| Command::Pause { window, reason }).await
}

pub async fn resume(
    State(state): State<AppState>,
    who: Principal,
    Path(n): Path<String>,
) -> Result<Response, ApiError> {
    window_action(&state, &who, &n, |window| Command::Resume { window }).await
}

fn token_info(token: &jiaohao_store::ApiToken) -> wire::TokenInfo {
    let created = jiff::Timestamp::from_millisecond(token.created_at.0)
        .map(|t| t.to_string())
        .unwrap_or_default();
    wire::TokenInfo {
        id: token.id,
        role: token.role.as_str().to_owned(),
        window: token.window,
        name: token.name.clone(),
        created_at: created,
        revoked: token.revoked,
    }
}

pub async fn list_tokens(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin, Role::Supervisor])?;
    let tokens = state.read(|store| store.list_tokens()).await?;
    let tokens: Vec<wire::TokenInfo> = tokens.iter().map(token_info).collect();
    Ok(json(StatusCode::OK, &tokens))
}

pub async fn create_token(
    State(state): State<AppState>,
    who: Principal,
    Body(request): Body<wire::CreateTokenRequest>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    // Rating pads are made by pairing (`pads.rs`), not here.
    let role = Role::parse(&request.role)
        .filter(|role| !matches!(role, Role::Supervisor | Role::RatingPad))
        .ok_or_else(|| {
            ApiError::bad_request(
                "role must be one of admin, clerk, kiosk, display, replica, ingest",
            )
        })?;
    if let Some(window) = request.window {
        WindowNumber::new(u32::from(window))?;
    }
    let name = request.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::bad_request(
            "a token needs a name of 1 to 100 characters",
        ));
    }
    let (window, actor) = (request.window, who.actor());
    let created = state
        .writer
        .store(move |store, now| {
            let secret = crate::secret::api_token();
            let id = store
                .add_token(&secret, role, window, &name, now.at, &actor)
                .map_err(storage("cannot save a token"))?;
            tracing::info!(id, role = role.as_str(), %actor, "token created");
            Ok::<_, ApiError>(wire::CreatedToken {
                id,
                token: secret,
                role: role.as_str().to_owned(),
                window,
                name,
            })
        })
        .await?;
    Ok(json(StatusCode::CREATED, &created))
}

pub async fn revoke_token(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let id = row_id(&id, "token")?;
    let actor = who.actor();
    let revoked = state
        .writer
        .store(move |store, now| {
            let revoked = store
                .revoke_token(id, now.at, &actor)
                .map_err(storage("cannot revoke a token"))?;
            tracing::info!(id, %actor, "token revoked");
            Ok::<_, ApiError>(revoked)
        })
        .await?;
    if revoked {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!("there is no live token {id}")))
    }
}

/// The longest message a device problem may carry, in characters.
const DEVICE_PROBLEM_MAX_CHARS: usize = 500;
/// How many problems `GET /api/devices/problems` lists.
const DEVICE_PROBLEMS_LISTED: usize = 100;

/// `POST /api/devices/problems`: a kiosk or display reports a problem with itself (a printer
/// fault, …); the device is who the token names. Saved by the writer, logged as a warning.
pub async fn report_device_problem(
    State(state): State<AppState>,
    who: Principal,
    Body(report): Body<wire::DeviceProblemReport>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Kiosk, Role::Display, Role::Admin])?;
    if !wire::DEVICE_PROBLEM_KINDS.contains(&report.kind.as_str()) {
        return Err(ApiError::bad_request(format!(
            "kind must be one of {}",
            wire::DEVICE_PROBLEM_KINDS.join(", ")
        )));
    }
    // A message of nothing but spaces, byte-order marks and control characters says nothing.
    let says_something = report
        .message
        .chars()
        .any(|c| !c.is_whitespace() && !c.is_control() && c != '\u{feff}');
    if !says_something || report.message.chars().count() > DEVICE_PROBLEM_MAX_CHARS {
        return Err(ApiError::bad_request(format!(
            "a device problem needs a message of 1 to {DEVICE_PROBLEM_MAX_CHARS} characters"
        )));
    }
    let (device, kind) = (who.actor(), report.kind);
    let message = report.message.trim().to_owned();
    let zone = state.zone();
    let problem = state
        .writer
        .store(move |store, now| {
            // Debug formatting keeps a device's words on one line of the log.
            tracing::warn!(?device, %kind, ?message, "device problem reported");
            let id = store
                .add_device_problem(now.at, &device, &kind, &message)
                .map_err(storage("cannot save a device problem"))?;
            Ok::<_, ApiError>(wire::DeviceProblem {
                id,
                at: crate::clock::rfc3339(now.at, &zone),
                device,
                kind,
                message,
            })
        })
        .await?;
    Ok(json(StatusCode::CREATED, &problem))
}

/// `GET /api/devices/problems`: the latest problems devices reported, newest first.
pub async fn list_device_problems(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin, Role::Supervisor])?;
    let problems = state
        .read(|store| store.device_problems(DEVICE_PROBLEMS_LISTED))
        .await?;
    let zone = state.zone();
    let problems: Vec<wire::DeviceProblem> = problems
        .into_iter()
        .map(|problem| wire::DeviceProblem {
            id: problem.id,
            at: crate::clock::rfc3339(problem.at, &zone),
            device: problem.device,
            kind: problem.kind,
            message: problem.message,
        })
        .collect();
    Ok(json(StatusCode::OK, &problems))
}

/// `PUT /api/hall/notices`: the public notices (警务公开); supervisors may change them too.
pub async fn put_notices(
    State(state): State<AppState>,
    who: Principal,
    Body(notices): Body<wire::Notices>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin, Role::Supervisor])?;
    let (zh, en) = (notices.notices_zh, notices.notices_en);
    let answer = state
        .writer
        .command_from(
            move |hall| {
                let mut settings = hall.settings().clone();
                settings.notices_zh = zh;
                settings.notices_en = en;
                Ok(Command::ConfigureHall(settings))
            },
            who.actor(),
        )
        .await?;
    Ok(respond(answer, StatusCode::OK))
}

/// `GET /api/windows/{n}/queue`: the window's ticket and the tickets it may call.
pub async fn window_queue(
    State(state): State<AppState>,
    who: Principal,
    Path(n): Path<String>,
) -> Result<Response, ApiError> {
    let window = window_number(&n)?;
    who.require_window_read(window)?;
    let queue = state
        .writer
        .read(move |context| context.window_queue(window))
        .await?
        .ok_or(jiaohao_core::Error::UnknownWindow(window))?;
    Ok(json(StatusCode::OK, &queue))
}

/// `GET /api/windows/{n}/rating`: the ticket the window finished last, for its rating tablet;
/// 204 when it has finished none today.
pub async fn rating_prompt(
    State(state): State<AppState>,
    Path(n): Path<String>,
) -> Result<Response, ApiError> {
    let window = window_number(&n)?;
    let prompt = state
        .writer
        .read(move |context| {
            context
                .hall
                .window(window)
                .map(|_| context.rating_prompt(window))
        })
        .await?
        .ok_or(jiaohao_core::Error::UnknownWindow(window))?;
    Ok(match prompt {
        Some(prompt) => json(StatusCode::OK, &prompt),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// `POST /api/windows/{n}/rating`: the citizen rates the ticket just finished there, on the
/// window's paired rating pad (`pads.rs`; an admin may too). The core accepts only the ticket
/// the window finished last, once, within minutes of its end.
pub async fn rate(
    State(state): State<AppState>,
    who: Result<Principal, ApiError>,
    Path(n): Path<String>,
    Body(body): Body<wire::RateRequest>,
) -> Result<Response, ApiError> {
    let window = window_number(&n)?;
    crate::http::pads::paired(who)?.require_pad_of(window)?;
    let number = TicketNumber::parse(&body.number)?;
    let (rating, reason) = parse_rating(&body.rating, body.reason.as_deref())?;
    let phone = cases::callback_phone(body.callback_phone.as_deref())?;
    let command = Command::RateTicket {
        window,
        number,
        rating,
        reason,
    };
    state
        .writer
        .command(command, format!("citizen@{window}"))
        .await?;
    cases::keep_callback_phone(&state, cases::RatedTicket::Number(number), phone).await?;
    let prompt = state
        .writer
        .read(move |context| context.rating_prompt(window))
        .await?
        .ok_or_else(ApiError::unavailable)?;
    Ok(json(StatusCode::OK, &prompt))
}

/// A rating and its reason from their names, saying what is wrong.
fn parse_rating(
    rating: &str,
    reason: Option<&str>,
) -> Result<(Rating, Option<RatingReason>), ApiError> {
    let rating = Rating::parse(rating).ok_or_else(|| {
        ApiError::bad_request(
            "rating must be one of very_satisfied, satisfied, basic, dissatisfied, very_dissatisfied",
        )
    })?;
    let reason = match reason {
        None => None,
        Some(text) => Some(RatingReason::parse(text).ok_or_else(|| {
            ApiError::bad_request(
                "reason must be one of attitude, waiting, requirements_unclear, other",
            )
        })?),
    };
    Ok((rating, reason))
}

/// `POST /api/tickets/{token}/rating`: the citizen rates a finished ticket from its own page
/// (the phone) until the end of the next working day; the token is the proof. Answers the
/// ticket's page data.
pub async fn rate_own_ticket(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Body(body): Body<wire::OwnRatingRequest>,
) -> Result<Response, ApiError> {
    let (rating, reason) = parse_rating(&body.rating, body.reason.as_deref())?;
    let phone = cases::callback_phone(body.callback_phone.as_deref())?;
    let command = Command::RateOwnTicket {
        token: token.clone(),
        rating,
        reason,
    };
    state
        .writer
        .command(command, "citizen@phone".to_owned())
        .await?;
    cases::keep_callback_phone(&state, cases::RatedTicket::Token(token.clone()), phone).await?;
    match state.writer.ticket_status(token).await? {
        Some(status) => Ok(json(StatusCode::OK, &status)),
        None => Err(ApiError::unavailable()),
    }
}

pub async fn no_route() -> ApiError {
    ApiError::not_found("there is no such page or API route")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}

/// The most services `GET /api/advice` lets a window take unless asked otherwise: one more
/// than the two most halls give each window, so a working window whose own queues run cold
/// can be offered a third service to help with.
const ADVICE_MAX_SERVICES: usize = 3;

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdviceQuery {
    /// How many services a window may serve at most, 1 to 10; 3 when left out.
    #[serde(default)]
    pub max_services: Option<usize>,
}

/// One suggestion of `GET /api/advice` (documented in the OpenAPI document as `Advice`).
#[derive(Debug, serde::Serialize)]
struct AdviceSuggestion {
    window: u16,
    add_service: String,
    service_name_zh: String,
    service_name_en: String,
    /// `null` when no working window serves the service now.
    projected_wait_min_before: Option<u32>,
    projected_wait_min_after: u32,
    /// The window's services with the suggestion applied, primary first: the body for
    /// `PUT /api/windows/{n}/services`.
    services_after: Vec<String>,
    /// How the window's own services' waits change.
    others: Vec<AdviceEffect>,
    text_zh: String,
    text_en: String,
}

#[derive(Debug, serde::Serialize)]
struct AdviceEffect {
    service: String,
    projected_wait_min_before: Option<u32>,
    projected_wait_min_after: Option<u32>,
}

#[derive(Debug, serde::Serialize)]
struct AdviceAnswer {
    suggestions: Vec<AdviceSuggestion>,
    max_services: usize,
    made_at: String,
}

/// Milliseconds as whole minutes, rounded up, as on the tickets.
fn wait_minutes(ms: i64) -> u32 {
    jiaohao_core::Millis::minutes_up(ms)
}

/// `GET /api/advice`: which working window should also take a service whose projected wait
/// passes its target, computed by the core's estimator on a copy of the current hall
/// (`jiaohao_core::advise`), best first.
pub async fn advice(
    State(state): State<AppState>,
    who: Principal,
    Params(query): Params<AdviceQuery>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin, Role::Supervisor])?;
    let max_services = query.max_services.unwrap_or(ADVICE_MAX_SERVICES);
    if !(1..=10).contains(&max_services) {
        return Err(ApiError::bad_request(
            "max_services must be between 1 and 10",
        ));
    }
    // Copy the hall out of the writer's turn; the trial projections run off it.
    let (hall, now) = state
        .writer
        .read(|context| (context.hall.clone(), context.now))
        .await?;
    let zone = state.zone();
    let answer = tokio::task::spawn_blocking(move || {
        let suggestions = jiaohao_core::advise(&hall, now, max_services)
            .into_iter()
            .map(|s| {
                let service = hall.service(&s.add_service);
                let name_zh =
                    service.map_or_else(|| s.add_service.to_string(), |x| x.name_zh.clone());
                let name_en =
                    service.map_or_else(|| s.add_service.to_string(), |x| x.name_en.clone());
                let before = s.wait_before_ms.map(wait_minutes);
                let after = wait_minutes(s.wait_after_ms);
                let (before_zh, before_en) = match before {
                    Some(minutes) => (minutes.to_string(), minutes.to_string()),
                    None => ("无窗口办理".to_owned(), "no window".to_owned()),
                };
                AdviceSuggestion {
                    window: s.window.get(),
                    add_service: s.add_service.to_string(),
                    text_zh: format!(
                        "{}号窗口增办{name_zh}：预计等待 {before_zh} → {after} 分钟",
                        s.window
                    ),
                    text_en: format!(
                        "Window {} also takes {name_en}: projected wait {before_en} → {after} min",
                        s.window
                    ),
                    service_name_zh: name_zh,
                    service_name_en: name_en,
                    projected_wait_min_before: before,
                    projected_wait_min_after: after,
                    services_after: s.services_after.iter().map(ToString::to_string).collect(),
                    others: s
                        .others
                        .iter()
                        .map(|effect| AdviceEffect {
                            service: effect.service.to_string(),
                            projected_wait_min_before: effect.wait_before_ms.map(wait_minutes),
                            projected_wait_min_after: effect.wait_after_ms.map(wait_minutes),
                        })
                        .collect(),
                }
            })
            .collect();
        AdviceAnswer {
            suggestions,
            max_services,
            made_at: crate::clock::rfc3339(now.at, &zone),
        }
    })
    .await
    .map_err(|_| ApiError::shutting_down())?;
    Ok(json(StatusCode::OK, &answer))
}
