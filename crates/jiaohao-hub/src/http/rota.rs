//! `GET`/`PUT /api/rota`: the rota (排班), when each window is expected to be open per
//! weekday; part of the hall's settings, so it is in the log and in the day-start snapshot.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiaohao_core::{ClockTime, Command, Rota, Shift, Weekday, WindowNumber};
use jiaohao_store::Role;
use jiaohao_wire as wire;
use serde_json::{Value, json};

use crate::http::api::Body;
use crate::http::auth::Principal;
use crate::http::error::ApiError;
use crate::http::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/rota", get(get_rota).put(put_rota))
}

pub fn to_wire(rota: &Rota) -> wire::Rota {
    wire::Rota {
        shifts: rota
            .shifts()
            .iter()
            .map(|s| wire::Shift {
                window: s.window.get(),
                weekday: s.weekday.as_str().to_owned(),
                from: s.from.to_string(),
                to: s.to.to_string(),
            })
            .collect(),
    }
}

pub fn from_wire(rota: &wire::Rota) -> Result<Rota, jiaohao_core::Error> {
    let shifts = rota
        .shifts
        .iter()
        .map(|s| {
            Ok(Shift {
                window: WindowNumber::new(u32::from(s.window))?,
                weekday: Weekday::parse(s.weekday.trim())?,
                from: ClockTime::parse(s.from.trim())?,
                to: ClockTime::parse(s.to.trim())?,
            })
        })
        .collect::<Result<Vec<_>, jiaohao_core::Error>>()?;
    Rota::new(shifts)
}

async fn get_rota(State(state): State<AppState>, who: Principal) -> Result<Response, ApiError> {
    who.require(&[Role::Admin, Role::Supervisor])?;
    let rota = state
        .writer
        .read(|context| to_wire(&context.hall.settings().rota))
        .await?;
    Ok((StatusCode::OK, axum::Json(rota)).into_response())
}

async fn put_rota(
    State(state): State<AppState>,
    who: Principal,
    Body(rota): Body<wire::Rota>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let rota = from_wire(&rota)?;
    let saved = to_wire(&rota);
    state
        .writer
        .command_from(
            move |hall| {
                let mut settings = hall.settings().clone();
                settings.rota = rota;
                Ok(Command::ConfigureHall(settings))
            },
            who.actor(),
        )
        .await?;
    Ok((StatusCode::OK, axum::Json(saved)).into_response())
}

/// The rota's schemas for the OpenAPI document.
pub fn openapi_schemas() -> Value {
    let time = json!({"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"});
    json!({
        "Rota": {"type": "object", "additionalProperties": false, "required": ["shifts"],
            "description": "When each window is expected to be open (排班), per weekday; applies on the days the hall calendar opens (a 调休 working day without shifts of its own takes Monday's)",
            "properties": {"shifts": {"type": "array", "maxItems": jiaohao_core::rota::MAX_SHIFTS, "items": {
                "type": "object", "additionalProperties": false, "required": ["window", "weekday", "from", "to"],
                "properties": {
                    "window": {"type": "integer", "minimum": 1, "maximum": 999},
                    "weekday": {"type": "string", "enum": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]},
                    "from": time, "to": time}}}}}
    })
}

/// The rota's paths for the OpenAPI document.
pub fn openapi_paths() -> Value {
    let rota = || json!({"$ref": "#/components/schemas/Rota"});
    let answer = |description: &str| json!({"description": description, "content": {"application/json": {"schema": rota()}}});
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    json!({
        "/api/rota": {
            "get": {"summary": "The rota (排班): when each window is expected to be open, per weekday (admin, supervisor)",
                "security": [{"bearer": []}],
                "responses": {"200": answer("The rota"), "401": error("No token or session"), "403": error("Neither admin nor supervisor"), "503": error("The hub is stopping")}},
            "put": {"summary": "Set the whole rota (admin)",
                "security": [{"bearer": []}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": rota()}}},
                "responses": {"200": answer("Saved"),
                    "400": error("Malformed input: an unknown weekday, a shift that ends before it starts, overlapping shifts"),
                    "401": error("No token or session"), "403": error("Not an admin"),
                    "503": error("The hub cannot save changes right now; nothing was changed")}}
        }
    })
}
