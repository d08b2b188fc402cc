//! 差评 cases (差评工单) over HTTP: the list and one case for supervisors and admins, the steps
//! (callback, fix, close) taken by the signed-in user, the callback phone a citizen may leave
//! with a bad rating (kept beside the log, erased 30 days after the case closes), and their
//! part of the OpenAPI document. The cases themselves are the core's, folded from the log.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiaohao_core::{
    Case, CaseState, CaseStep, Command, Event, LocalDate, Millis, TicketId, TicketNumber,
};
use jiaohao_store::Role;
use jiaohao_wire as wire;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::engine::views::ViewContext;
use crate::http::api::{Body, Params};
use crate::http::auth::Principal;
use crate::http::error::{ApiError, storage};
use crate::http::state::AppState;
use crate::reports::clerk_key;

/// A callback phone is erased this long after its case closed.
pub const KEEP_PHONE_AFTER_CLOSE_MS: i64 = 30 * 24 * 60 * Millis::MINUTE;

/// Who may read and work cases.
const CASE_ROLES: &[Role] = &[Role::Admin, Role::Supervisor];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/cases", get(list))
        .route("/api/cases/{id}", get(one))
        .route("/api/cases/{id}/callback", post(call_back))
        .route("/api/cases/{id}/fix", post(fix))
        .route("/api/cases/{id}/close", post(close))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseQuery {
    /// `open`, `called_back`, `fixed`, `closed`, or `overdue` (not fixed, past due).
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub window: Option<u16>,
    /// First day of the rating, `YYYY-MM-DD`.
    #[serde(default)]
    pub from: Option<String>,
    /// Last day of the rating (included).
    #[serde(default)]
    pub to: Option<String>,
}

fn step_view(step: &CaseStep, context: &ViewContext<'_>) -> wire::CaseStepView {
    wire::CaseStepView {
        at: rfc3339(step.at, context.zone),
        date: step.date.to_string(),
        by: step.by.clone(),
        text: step.text.clone(),
    }
}

/// The hall's day, against which `overdue` is judged.
fn today(context: &ViewContext<'_>) -> LocalDate {
    context
        .hall
        .date()
        .unwrap_or(context.now.date)
        .max(context.now.date)
}

pub fn case_view(case: &Case, context: &ViewContext<'_>) -> wire::CaseView {
    let service = context.hall.service(&case.service);
    wire::CaseView {
        id: case.ticket.0,
        number: case.number.to_string(),
        service: case.service.to_string(),
        service_name_zh: service.map_or_else(|| case.service.to_string(), |s| s.name_zh.clone()),
        service_name_en: service.map_or_else(|| case.service.to_string(), |s| s.name_en.clone()),
        window: case.window.get(),
        date: case.date.to_string(),
        rating: case.rating.as_str().to_owned(),
        reason: case.reason.map(|r| r.as_str().to_owned()),
        opened_at: rfc3339(case.opened_at, context.zone),
        due: case.due.to_string(),
        state: case.state().as_str().to_owned(),
        overdue: case.is_overdue(today(context)),
        fixed_in_time: case.fixed_in_time(),
        called_back: case.called_back.as_ref().map(|s| step_view(s, context)),
        fixed: case.fixed.as_ref().map(|s| step_view(s, context)),
        closed: case.closed.as_ref().map(|s| step_view(s, context)),
        callback_phone: None,
        clerk: None,
    }
}

/// A rated ticket was finished at most this long before its case opened (rated on the pad
/// within 15 minutes, or from the phone until the end of the next working day, holidays
/// between included).
const FINISHED_BEFORE_RATING: i64 = 40 * 24 * 60 * Millis::MINUTE;

/// Fills in what is kept beside the log for each case, in one read of the store: who served
/// its ticket (the actor of its finish, as reports name clerks) and the callback phone. The
/// cases opened between `opened.0` and `opened.1`; their tickets' finishes are looked for
/// before that.
async fn attach_beside_the_log(
    state: &AppState,
    cases: &mut [wire::CaseView],
    opened: (Millis, Millis),
) -> Result<(), ApiError> {
    let ids: Vec<u64> = cases.iter().map(|case| case.id).collect();
    let (from, to) = (
        Millis(opened.0.0 - FINISHED_BEFORE_RATING),
        Millis(opened.1.0 + 1),
    );
    let (clerks, phones) = state
        .read(move |store| {
            let mut clerks = HashMap::new();
            store.for_each_record_of_kinds(&["ticket_finished"], from, to, |record| {
                if let Event::TicketFinished { id, .. } = record.event
                    && ids.contains(&id.0)
                {
                    clerks.insert(id.0, clerk_key(&record.actor));
                }
            })?;
            let kept = store.cases_with_phone()?;
            let phones = ids
                .iter()
                .filter(|id| kept.binary_search(id).is_ok())
                .map(|&id| Ok((id, store.case_phone(id)?)))
                .collect::<jiaohao_store::Result<HashMap<_, _>>>()?;
            Ok((clerks, phones))
        })
        .await?;
    for case in cases {
        case.clerk = clerks.get(&case.id).cloned();
        case.callback_phone = phones.get(&case.id).cloned().flatten();
    }
    Ok(())
}

fn case_id(text: &str) -> Result<TicketId, ApiError> {
    text.parse()
        .map(TicketId)
        .map_err(|_| ApiError::bad_request(format!("'{text}' is not a case id")))
}

fn date(text: Option<&str>) -> Result<Option<LocalDate>, ApiError> {
    text.map(|text| {
        LocalDate::parse(text)
            .map_err(|_| ApiError::bad_request(format!("'{text}' is not a date like 2026-11-23")))
    })
    .transpose()
}

/// `GET /api/cases`: the cases, newest rating first, filtered.
async fn list(
    State(state): State<AppState>,
    who: Principal,
    Params(query): Params<CaseQuery>,
) -> Result<Response, ApiError> {
    who.require(CASE_ROLES)?;
    let wanted = match query.state.as_deref() {
        None | Some("") => None,
        Some("overdue") => Some(None),
        Some(text) => Some(Some(CaseState::parse(text).ok_or_else(|| {
            ApiError::bad_request("state must be one of open, called_back, fixed, closed, overdue")
        })?)),
    };
    let (from, to) = (date(query.from.as_deref())?, date(query.to.as_deref())?);
    let window = query.window;
    let answer = state
        .writer
        .read(move |context| {
            let today = today(context);
            let matching: Vec<&Case> = context
                .hall
                .registry()
                .cases
                .values()
                .rev()
                .filter(|case| match wanted {
                    None => true,
                    Some(None) => case.is_overdue(today),
                    Some(Some(state)) => case.state() == state,
                })
                .filter(|case| window.is_none_or(|w| case.window.get() == w))
                .filter(|case| from.is_none_or(|from| case.date >= from))
                .filter(|case| to.is_none_or(|to| case.date <= to))
                .collect();
            let opened = matching.iter().map(|case| case.opened_at);
            let span = opened.clone().min().zip(opened.max());
            let list = wire::CaseList {
                today: today.to_string(),
                cases: matching
                    .iter()
                    .map(|case| case_view(case, context))
                    .collect(),
            };
            (list, span)
        })
        .await?;
    let (mut answer, span) = answer;
    if let Some(span) = span {
        attach_beside_the_log(&state, &mut answer.cases, span).await?;
    }
    Ok((StatusCode::OK, axum::Json(answer)).into_response())
}

/// One case with its callback phone.
async fn read_case(state: &AppState, id: TicketId) -> Result<wire::CaseView, ApiError> {
    let (view, opened_at) = state
        .writer
        .read(move |context| {
            context
                .hall
                .registry()
                .case(id)
                .map(|case| (case_view(case, context), case.opened_at))
        })
        .await?
        .ok_or(jiaohao_core::Error::UnknownCase(id))?;
    let mut views = [view];
    attach_beside_the_log(state, &mut views, (opened_at, opened_at)).await?;
    let [view] = views;
    Ok(view)
}

/// `GET /api/cases/{id}`.
async fn one(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    who.require(CASE_ROLES)?;
    let view = read_case(&state, case_id(&id)?).await?;
    Ok((StatusCode::OK, axum::Json(view)).into_response())
}

/// Takes a step of a case as the signed-in user and answers the case.
async fn step(state: &AppState, who: &Principal, command: Command) -> Result<Response, ApiError> {
    let id = match &command {
        Command::CallBackCase { case, .. }
        | Command::FixCase { case, .. }
        | Command::CloseCase { case, .. } => *case,
        _ => return Err(ApiError::unavailable()),
    };
    state.writer.command(command, who.actor()).await?;
    let view = read_case(state, id).await?;
    Ok((StatusCode::OK, axum::Json(view)).into_response())
}

/// `POST /api/cases/{id}/callback` `{"note"}`.
async fn call_back(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    Body(body): Body<wire::CaseNoteRequest>,
) -> Result<Response, ApiError> {
    who.require(CASE_ROLES)?;
    let command = Command::CallBackCase {
        case: case_id(&id)?,
        note: body.note,
        by: who.name.clone(),
    };
    step(&state, &who, command).await
}

/// `POST /api/cases/{id}/fix` `{"fix"}`.
async fn fix(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    Body(body): Body<wire::CaseFixRequest>,
) -> Result<Response, ApiError> {
    who.require(CASE_ROLES)?;
    let command = Command::FixCase {
        case: case_id(&id)?,
        fix: body.fix,
        by: who.name.clone(),
    };
    step(&state, &who, command).await
}

/// `POST /api/cases/{id}/close`.
async fn close(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    who.require(CASE_ROLES)?;
    let command = Command::CloseCase {
        case: case_id(&id)?,
        by: who.name.clone(),
    };
    step(&state, &who, command).await
}

/// Which ticket a rating was of, to find the case it opened.
pub enum RatedTicket {
    Number(TicketNumber),
    Token(String),
}

/// The callback phone of a rating's body, checked (a mainland mobile number); before the
/// rating is applied, so a bad number refuses the rating as a whole.
pub fn callback_phone(phone: Option<&str>) -> Result<Option<String>, ApiError> {
    match phone.map(str::trim) {
        None | Some("") => Ok(None),
        Some(phone) => crate::http::bookings::check_phone(phone).map(Some),
    }
}

/// Keeps the callback phone of a rating that opened a case (a good rating opens none, and
/// its phone is dropped).
pub async fn keep_callback_phone(
    state: &AppState,
    ticket: RatedTicket,
    phone: Option<String>,
) -> Result<(), ApiError> {
    let Some(phone) = phone else {
        return Ok(());
    };
    let case = state
        .writer
        .read(move |context| {
            // Today's ticket, or (from the phone) one of an earlier day still ratable.
            let registry = context.hall.registry();
            let id = match &ticket {
                RatedTicket::Number(number) => context.hall.ticket_by_number(*number)?.id,
                RatedTicket::Token(token) => match context.hall.ticket_by_token(token) {
                    Some(today) => today.id,
                    None => registry.ratable_by_token(token)?.id,
                },
            };
            registry.case(id).map(|case| case.ticket)
        })
        .await?;
    let Some(case) = case else {
        return Ok(());
    };
    state
        .writer
        .store(move |store, now| {
            store
                .put_case_phone(case.0, &phone, now.at)
                .map_err(storage("saving a callback phone"))
        })
        .await
}

/// Erases the callback phones of cases closed more than 30 days ago; part of the daily
/// erasure of personal data (`bookings::erase_contacts`). Returns how many were erased.
pub async fn erase_callback_phones(state: &AppState) -> Result<usize, ApiError> {
    let kept = state.read(|store| store.cases_with_phone()).await?;
    if kept.is_empty() {
        return Ok(0);
    }
    let due = state
        .writer
        .read(move |context| {
            let cutoff = context.now.at.plus_ms(-KEEP_PHONE_AFTER_CLOSE_MS);
            kept.into_iter()
                .filter(|id| {
                    context
                        .hall
                        .registry()
                        .case(TicketId(*id))
                        .and_then(|case| case.closed.as_ref())
                        .is_some_and(|closed| closed.at <= cutoff)
                })
                .collect::<Vec<u64>>()
        })
        .await?;
    if due.is_empty() {
        return Ok(0);
    }
    state
        .writer
        .store(move |store, _| {
            store
                .erase_case_phones(&due)
                .map_err(storage("erasing callback phones"))
        })
        .await
}

/// The cases' schemas for the OpenAPI document.
pub fn openapi_schemas() -> Value {
    let s = || json!({"type": "string"});
    let date = || json!({"type": "string", "format": "date"});
    let step = json!({"type": ["object", "null"], "required": ["at", "date", "by", "text"], "properties": {
        "at": {"type": "string", "format": "date-time"}, "date": date(), "by": s(), "text": s()}});
    let percent = || json!({"type": ["number", "null"], "minimum": 0, "maximum": 100});
    let count = || json!({"type": "integer", "minimum": 0});
    json!({
        "Case": {"type": "object", "required": ["id", "number", "service", "service_name_zh", "service_name_en", "window", "date",
            "rating", "reason", "opened_at", "due", "state", "overdue", "fixed_in_time", "called_back", "fixed", "closed", "callback_phone"],
            "properties": {
                "id": {"type": "integer", "minimum": 0}, "number": s(), "service": s(), "service_name_zh": s(), "service_name_en": s(),
                "window": {"type": "integer"}, "date": date(),
                "rating": {"type": "string", "enum": ["dissatisfied", "very_dissatisfied"]},
                "reason": {"type": ["string", "null"]},
                "opened_at": {"type": "string", "format": "date-time"}, "due": date(),
                "state": {"type": "string", "enum": ["open", "called_back", "fixed", "closed"]},
                "overdue": {"type": "boolean", "description": "not fixed and past its due date"},
                "fixed_in_time": {"type": "boolean", "description": "fixed on or before its due date"},
                "called_back": step.clone(), "fixed": step.clone(), "closed": step,
                "callback_phone": {"type": ["string", "null"], "description": "the phone the citizen left for the callback; erased 30 days after the case closes"},
                "clerk": {"type": ["string", "null"], "description": "who served the rated ticket: the user who finished it, as reports name clerks"}}},
        "CaseList": {"type": "object", "required": ["today", "cases"], "properties": {
            "today": date(), "cases": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}}}},
        "CaseNoteRequest": {"type": "object", "additionalProperties": false, "required": ["note"], "properties": {
            "note": {"type": "string", "minLength": 1, "maxLength": jiaohao_core::case::MAX_CASE_TEXT}}},
        "CaseFixRequest": {"type": "object", "additionalProperties": false, "required": ["fix"], "properties": {
            "fix": {"type": "string", "minLength": 1, "maxLength": jiaohao_core::case::MAX_CASE_TEXT}}},
        "CaseFigureRow": {"type": "object", "required": ["month", "window", "cases", "called_back", "fixed_in_time", "overdue", "callback_pct", "fixed_in_time_pct"],
            "properties": {"month": s(), "window": {"type": ["integer", "null"]}, "cases": count(), "called_back": count(),
                "fixed_in_time": count(), "overdue": count(), "callback_pct": percent(), "fixed_in_time_pct": percent()}}
    })
}

/// The cases' paths for the OpenAPI document.
pub fn openapi_paths() -> Value {
    let case = || json!({"$ref": "#/components/schemas/Case"});
    let answer = |description: &str| json!({"description": description, "content": {"application/json": {"schema": case()}}});
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "description": "the case's id"});
    let body = |name: &str| json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{name}")}}}});
    let step_responses = || {
        json!({"200": answer("The case after the step"),
            "400": error("Malformed input: an empty or too long text, a bad id"),
            "401": error("No token or session"), "403": error("Not a supervisor or admin"),
            "404": error("No such case"),
            "409": error("The case is not in the state just before this step (steps go forward: callback, fix, close)"),
            "503": error("The hub cannot save changes right now; nothing was changed")})
    };
    let security = json!([{"bearer": []}, {"session": []}]);
    json!({
        "/api/cases": {"get": {"summary": "差评 cases, newest rating first (supervisor, admin)", "security": security.clone(),
            "parameters": [
                {"name": "state", "in": "query", "required": false, "schema": {"type": "string", "enum": ["open", "called_back", "fixed", "closed", "overdue"]}},
                {"name": "window", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0, "maximum": 65535}},
                {"name": "from", "in": "query", "required": false, "description": "first day of the rating", "schema": {"type": "string", "format": "date"}},
                {"name": "to", "in": "query", "required": false, "description": "last day of the rating (included)", "schema": {"type": "string", "format": "date"}}],
            "responses": {"200": {"description": "The cases", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CaseList"}}}},
                "400": error("A bad state, window or date"), "401": error("No token or session"),
                "403": error("Not a supervisor or admin"), "503": error("The hub is stopping")}}},
        "/api/cases/{id}": {"get": {"summary": "One 差评 case with its steps and callback phone (supervisor, admin)", "security": security.clone(),
            "parameters": [id.clone()],
            "responses": {"200": answer("The case"), "400": error("A bad id"), "401": error("No token or session"),
                "403": error("Not a supervisor or admin"), "404": error("No such case"), "503": error("The hub is stopping")}}},
        "/api/cases/{id}/callback": {"post": {"summary": "Record the callback (回访) of an open case; the signed-in user is who", "security": security.clone(),
            "parameters": [id.clone()], "requestBody": body("CaseNoteRequest"), "responses": step_responses()}},
        "/api/cases/{id}/fix": {"post": {"summary": "Record the fix (整改) of a case called back", "security": security.clone(),
            "parameters": [id.clone()], "requestBody": body("CaseFixRequest"), "responses": step_responses()}},
        "/api/cases/{id}/close": {"post": {"summary": "Close (办结) a fixed case", "security": security,
            "parameters": [id], "responses": step_responses()}}
    })
}
