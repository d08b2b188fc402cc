//! The routes and the guard of two hubs in a hall: `GET /api/health` with the hub's part,
//! term, last record and (on a standby) its lag; `POST /api/promote`, which makes a standby the
//! primary; and the guard that answers every change sent to a hub that is not the primary
//! with 503 `standby` (or `fenced`), naming where changes go.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jiaohao_store::Role;
use jiaohao_wire as wire;

use crate::engine::writer::FollowError;
use crate::http::auth::Principal;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::standby::Part;

pub async fn health(State(state): State<AppState>) -> Json<wire::Health> {
    let marks = *state.marks.borrow();
    let part = state.role.part();
    let (role, primary, lag) = match &part {
        Part::Primary => ("primary", None, None),
        Part::Standby { primary } => (
            "standby",
            Some(primary.clone()),
            Some(state.role.primary_last_seq().saturating_sub(marks.seq)),
        ),
        Part::Fenced { .. } => ("fenced", None, None),
    };
    Json(wire::Health {
        status: "ok".into(),
        role: Some(role.into()),
        term: Some(marks.term),
        last_seq: Some(marks.seq),
        primary,
        lag,
        alone: state.sync.as_ref().map(|sync| sync.alone()),
    })
}

/// Lets a change through only on the primary: a standby and a fenced hub answer 503 and say
/// where changes go. Reads (`GET`, `HEAD`) pass everywhere, and so does `POST /api/promote`.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe || request.uri().path() == "/api/promote" {
        return next.run(request).await;
    }
    match state.role.part() {
        Part::Primary => next.run(request).await,
        Part::Standby { primary } => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "standby",
            format!(
                "本机是备用中心机，只读；请在主中心机 {primary} 上操作 / this hub is a standby of {primary} and takes no changes: send them to the primary"
            ),
        )
        .into_response(),
        Part::Fenced { peer, term } => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "fenced",
            format!(
                "本机已被接替（{peer} 的任期 {term} 更新），不再接受操作 / this hub was taken over: {peer} holds the newer term {term}; it takes no changes. Rejoin it as a standby: stop it, run `jiaohao-hub rejoin --db <its database> --primary {peer} --follow-token <a replica token of {peer}> --set-aside <file>`, then start it as a standby of {peer} (README, Two hubs in a hall)"
            ),
        )
        .into_response(),
    }
}

/// With `--sync-standby`: a change's answer goes out once a standby has acknowledged the
/// records it wrote (at most the set wait; then the hub answers alone, see `SyncStandby`).
pub async fn wait_for_standby(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(sync) = state.sync.clone() else {
        return next.run(request).await;
    };
    // The standby's acknowledgement itself never waits (it is what the others wait for).
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) || request.uri().path() == "/api/replication/ack"
    {
        return next.run(request).await;
    }
    let before = *state.marks.borrow();
    let response = next.run(request).await;
    // The answer is made once its records (and side changes: a new user, token, session or
    // device problem) are durable here, and the marks before it.
    let after = *state.marks.borrow();
    if after.seq > before.seq || after.side_seq > before.side_seq {
        sync.wait_for(after.seq, after.side_seq).await;
    }
    response
}

/// `POST /api/promote` (admin): the standby stops following, records `promoted` with the next
/// term, and takes changes from now on.
pub async fn promote(State(state): State<AppState>, who: Principal) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    if !matches!(state.role.part(), Part::Standby { .. }) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_standby",
            "this hub is not a standby; only a standby can be promoted",
        ));
    }
    match state.writer.promote(who.actor()).await {
        Ok(promotion) => {
            state.role.set(Part::Primary);
            Ok((
                StatusCode::OK,
                Json(wire::Promoted {
                    seq: promotion.seq,
                    term: promotion.term,
                }),
            )
                .into_response())
        }
        Err(FollowError::NotFollowing) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_standby",
            "this hub is not a standby; only a standby can be promoted",
        )),
        Err(_) => Err(ApiError::unavailable()),
    }
}

/// The schemas of two hubs in a hall for the OpenAPI document (`Health` replaces the plain one).
pub fn openapi_schemas() -> serde_json::Value {
    serde_json::json!({
        "Health": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"},
            "role": {"type": "string", "enum": ["primary", "standby", "fenced"]}, "term": {"type": "integer"},
            "last_seq": {"type": "integer"}, "primary": {"type": "string"}, "lag": {"type": "integer"},
            "alone": {"type": "boolean"}}},
        "Promoted": {"type": "object", "required": ["seq", "term"], "properties": {
            "seq": {"type": "integer"}, "term": {"type": "integer"}}},
        "ReplicationAck": {"type": "object", "additionalProperties": false, "required": ["seq"], "properties": {
            "seq": {"type": "integer", "minimum": 0}, "side_seq": {"type": "integer", "minimum": 0}}}
    })
}

/// The paths of two hubs in a hall (health, promotion, the replication stream).
pub fn openapi_paths() -> serde_json::Value {
    use serde_json::json;
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let answer = |description: &str, schema: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}});
    let position = |name: &str, description: &str| json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}});
    json!({
        "/api/health": {"get": {"summary": "Liveness, and the hub's part: primary, standby (with its primary and lag) or fenced; its term and last record",
            "responses": {"200": answer("The hub runs", "Health")}}},
        "/api/promote": {"post": {"summary": "Make this standby the primary (admin): it stops following, records `promoted` with the next term, and takes changes",
            "security": [{"bearer": []}],
            "responses": {"200": answer("Promoted", "Promoted"), "401": error("No token or session"),
                "403": error("Not an admin"), "409": error("This hub is not a standby (not_standby)"),
                "503": error("The promotion cannot be recorded now")}}},
        "/api/replication/ack": {"post": {"summary": "A standby (replica token) holds every record up to seq durably: a primary with --sync-standby answers the changes that wait for it",
            "security": [{"bearer": []}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ReplicationAck"}}}},
            "responses": {"204": {"description": "Noted"}, "400": error("Malformed input"), "401": error("No token"),
                "403": error("Not a replica token"), "503": error("The hub is stopping")}}},
        "/api/replication": {"get": {"summary": "The hub's history as NDJSON lines (ReplicationLine: record, side, heartbeat), for a standby (replica token: everything) or the city (ingest token: records without secrets, heartbeats); resumes after the given sequence numbers and stays open for what comes next",
            "security": [{"bearer": []}],
            "parameters": [position("after", "the last record the reader holds (0: from the start)"),
                position("side_after", "the last side change the reader holds (replica only)")],
            "responses": {"200": {"description": "application/x-ndjson: one ReplicationLine per line", "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
                "400": error("A position that is not a sequence number"), "401": error("No token"),
                "403": error("Not a replica or ingest token"),
                "409": error("The reader holds more than this hub (ahead_of_log): another history"),
                "503": error("The hub cannot read its log now")}}}
    })
}
