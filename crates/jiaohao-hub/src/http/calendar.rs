//! `GET`/`PUT /api/calendar`: the hall calendar (工作日历) — working weekdays, public holidays
//! and the weekend days worked instead (调休) — and its part of the OpenAPI document.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiaohao_core::{Command, HallCalendar, Weekday};
use jiaohao_store::Role;
use jiaohao_wire as wire;
use serde_json::{Value, json};

use crate::http::api::Body;
use crate::http::auth::Principal;
use crate::http::error::ApiError;
use crate::http::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/calendar", get(get_calendar).put(put_calendar))
}

/// The wire form of a calendar: weekdays in order, dates sorted.
pub fn to_wire(calendar: &HallCalendar) -> wire::Calendar {
    wire::Calendar {
        working_weekdays: Weekday::ALL
            .into_iter()
            .filter(|day| calendar.works_on(*day))
            .map(|day| day.as_str().to_owned())
            .collect(),
        holidays: calendar.holidays.iter().map(ToString::to_string).collect(),
        working_days: calendar
            .working_days
            .iter()
            .map(ToString::to_string)
            .collect(),
    }
}

pub fn from_wire(calendar: &wire::Calendar) -> Result<HallCalendar, jiaohao_core::Error> {
    HallCalendar::from_parts(
        &calendar.working_weekdays,
        &calendar.holidays,
        &calendar.working_days,
    )
}

/// The calendar as the hall runs it; a hall that never set one is open every day.
async fn get_calendar(State(state): State<AppState>) -> Result<Response, ApiError> {
    let calendar = state
        .writer
        .read(|context| {
            to_wire(
                &context
                    .hall
                    .calendar()
                    .cloned()
                    .unwrap_or_else(HallCalendar::every_day),
            )
        })
        .await?;
    Ok((StatusCode::OK, axum::Json(calendar)).into_response())
}

async fn put_calendar(
    State(state): State<AppState>,
    who: Principal,
    Body(calendar): Body<wire::Calendar>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let calendar = from_wire(&calendar)?;
    let saved = to_wire(&calendar);
    state
        .writer
        .command(Command::SetCalendar(calendar), who.actor())
        .await?;
    Ok((StatusCode::OK, axum::Json(saved)).into_response())
}

/// The calendar's schemas for the OpenAPI document.
pub fn openapi_schemas() -> Value {
    let date = json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"});
    let dates = json!({"type": "array", "maxItems": jiaohao_core::calendar::MAX_DATED_DAYS,
        "uniqueItems": true, "items": date});
    json!({
        "Calendar": {"type": "object", "additionalProperties": false,
            "description": "Working weekdays (default Monday to Friday), public holidays (closed) and the working days that replace them (调休, open). A date may not be both a holiday and a working day.",
            "properties": {
                "working_weekdays": {"type": "array", "uniqueItems": true, "maxItems": 7, "items": {"type": "string",
                    "enum": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]}},
                "holidays": dates,
                "working_days": dates}},
        "Opening": {"type": "object", "required": ["date", "time", "weekday"], "properties": {
            "date": date, "time": {"type": "string"}, "weekday": {"type": "string"}}}
    })
}

/// The calendar's paths for the OpenAPI document.
pub fn openapi_paths() -> Value {
    let calendar = || json!({"$ref": "#/components/schemas/Calendar"});
    let answer = |description: &str| json!({"description": description, "content": {"application/json": {"schema": calendar()}}});
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    json!({
        "/api/calendar": {
            "get": {"summary": "The hall calendar: working weekdays, holidays and 调休 days (a hall that never set one is open every day)",
                "responses": {"200": answer("The calendar"), "503": error("The hub is stopping")}},
            "put": {"summary": "Set the hall calendar (admin); tickets are refused on a closed day",
                "security": [{"bearer": []}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": calendar()}}},
                "responses": {"200": answer("Saved"),
                    "400": error("Malformed input: an unknown weekday, a bad date, a date both closed and worked"),
                    "401": error("No token or session"), "403": error("Not an admin"),
                    "503": error("The hub cannot save changes right now; nothing was changed")}}
        }
    })
}
