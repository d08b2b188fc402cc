//! `GET /api/openapi.json`: the OpenAPI 3 description of every route. A test checks that each
//! route of the router is described here and that answers fit their schemas.

use std::sync::OnceLock;

use serde_json::{Value, json};

fn error_responses(codes: &[&str]) -> Value {
    let mut responses = serde_json::Map::new();
    for code in codes {
        let description = match *code {
            "400" => "Malformed input: the message says what is wrong",
            "401" => "No token or session, or an unknown, revoked or expired one",
            "403" => {
                "The role or window may not do this, or a page's change lacks its anti-forgery token"
            }
            "404" => "Unknown service, window, ticket or token",
            "409" => {
                "Not possible now: the hall closed today (今日不办公, hall_closed), service closed, daily cap reached, window paused or closed, …"
            }
            "429" => {
                "Too many requests: this kiosk's ticket limit, or this address's limit on public routes; the message says when to try again"
            }
            "503" => "The hub cannot save changes right now; nothing was changed",
            _ => "Error",
        };
        let mut response = json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
        if *code == "429" {
            response["headers"] = json!({"Retry-After": {
                "description": "Whole seconds until the limit lets this client in again",
                "schema": {"type": "integer", "minimum": 1}
            }});
        }
        responses.insert((*code).to_owned(), response);
    }
    Value::Object(responses)
}

fn ok(status: &str, description: &str, schema: Value) -> Value {
    json!({ status: {"description": description, "content": {"application/json": {"schema": schema}}}})
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn merge(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

fn body(name: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema_ref(name)}}})
}

fn window_param() -> Value {
    json!({"name": "n", "in": "path", "required": true, "description": "window number", "schema": {"type": "integer", "minimum": 1, "maximum": 999}})
}

/// One window action: `POST /api/windows/{n}/<action>`.
fn window_action(summary: &str, request: Option<&str>, answer: Value, extra: &[&str]) -> Value {
    let mut codes = vec!["400", "401", "403", "404", "409", "503"];
    codes.extend_from_slice(extra);
    let mut operation = json!({
        "summary": summary,
        "security": [{"bearer": []}],
        "parameters": [window_param()],
        "responses": merge(answer, error_responses(&codes)),
    });
    if let Some(request) = request {
        operation["requestBody"] = body(request);
    }
    json!({ "post": operation })
}

/// The schemas of supervision (督办): how a visit ended, why a window closes, the day's
/// figures for the public, a rating from the citizen's own page.
fn supervision_schemas() -> Value {
    json!({
                "FinishRequest": {"type": "object", "additionalProperties": false, "required": ["outcome"], "properties": {
                    "outcome": {"type": "string", "enum": ["done", "documents_missing", "refused", "referred"]},
                    "documents": {"type": "array", "maxItems": 30, "items": {"type": "string", "maxLength": 500}, "description": "for documents_missing: the missing ones, by the Chinese names of the service's documents"},
                    "reason": nullable_text(200), "office": nullable_text(200)}},
                "CloseRequest": {"type": "object", "additionalProperties": false, "required": ["reason"], "properties": {
                    "reason": {"type": "string", "enum": ["break", "meeting", "system_fault", "training", "off_duty", "other", "休息", "会议", "故障", "系统故障", "培训", "下班", "其他"]},
                    "note": {"type": ["string", "null"], "maxLength": 200}}},
                "TransferRequest": {"description": "exactly one of to_service and to_window", "oneOf": [
                    {"type": "object", "additionalProperties": false, "required": ["to_service"], "properties": {"to_service": code()}},
                    {"type": "object", "additionalProperties": false, "required": ["to_window"], "properties": {"to_window": {"type": "integer", "minimum": 1, "maximum": 999}}}]},
                "TodayFigures": {"type": "object", "required": ["served", "mean_wait_min", "within_target_pct", "rated", "satisfied_pct"],
                    "description": "Today's figures for the public (警务公开)",
                    "properties": {"served": {"type": "integer", "minimum": 0}, "mean_wait_min": {"type": ["number", "null"]},
                        "within_target_pct": {"type": ["number", "null"]}, "rated": {"type": "integer", "minimum": 0},
                        "satisfied_pct": {"type": ["number", "null"]}}},
                "OwnRatingRequest": {"type": "object", "additionalProperties": false, "required": ["rating"], "properties": {
                    "rating": {"type": "string", "enum": ["very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied"]},
                    "reason": {"type": ["string", "null"], "enum": ["attitude", "waiting", "requirements_unclear", "other", null]},
                    "callback_phone": {"type": ["string", "null"], "description": "for a bad rating: an 11-digit mobile number for the callback (kept outside the log, erased 30 days after the case closes)"}}}
    })
}

/// The paths of supervision kept out of the base document (its `json!` is at its recursion
/// limit).
fn supervision_paths() -> Value {
    json!({
            "/api/tickets/{token}/rating": {"post": {"summary": "The citizen rates a finished ticket from its own page until the end of the next working day (一次一评: once per ticket, pad or phone); a bad rating needs a reason; 409 rating_ended after that",
                "parameters": [{"name": "token", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": body("OwnRatingRequest"),
                "responses": merge(ok("200", "The ticket, rated", schema_ref("TicketStatus")), error_responses(&["400", "404", "409", "429", "503"]))}}
    })
}

/// As [`text`], or `null`.
fn nullable_text(max: u32) -> Value {
    json!({"type": ["string", "null"], "minLength": 1, "maxLength": max, "pattern": "\\S"})
}

/// Marks an operation's request body as one that may be left out.
fn optional_body(mut path: Value) -> Value {
    path["post"]["requestBody"]["required"] = json!(false);
    path
}

/// A service code as `ServiceCode::parse` accepts it.
fn code() -> Value {
    json!({"type": "string", "pattern": "^[a-z][a-z0-9_]{0,31}$"})
}

/// A name or reason: not blank, at most `max` characters.
fn text(max: u32) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max, "pattern": "\\S"})
}

/// The properties of a service definition, shared by `ServiceDef` and `ServiceStatus`.
fn service_properties() -> serde_json::Map<String, Value> {
    let strings =
        json!({"type": "array", "maxItems": 30, "items": {"type": "string", "maxLength": 500}});
    let minutes = json!({"type": "integer", "minimum": 1, "maximum": 1440});
    let properties = json!({
        "code": code(),
        "name_zh": text(500), "name_en": text(500),
        "prefix": {"type": "string", "pattern": "^[A-Z]$"},
        "wait_target_min": minutes, "handling_target_min": minutes, "handling_estimate_min": minutes,
        "daily_cap": {"type": ["integer", "null"], "minimum": 1, "maximum": 4294967295u64},
        "hours": {"type": ["array", "null"], "items": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}, "minItems": 2, "maxItems": 2},
        "documents_zh": strings, "documents_en": strings,
        "fee_note_zh": {"type": "string", "maxLength": 500}, "fee_note_en": {"type": "string", "maxLength": 500},
        "identity": {"type": "string", "enum": ["none", "required"],
            "description": "required: tickets only with the citizen's ID number, one per person a day (a second request reprints the first); left out of a PUT: kept as it is"},
        "enabled": {"type": "boolean"}
    });
    match properties {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

fn build() -> Value {
    let mut document = build_base();
    insert_all(&mut document["components"]["schemas"], more_schemas());
    insert_all(&mut document["paths"], more_paths());
    insert_all(
        &mut document["components"]["schemas"],
        crate::http::calendar::openapi_schemas(),
    );
    insert_all(
        &mut document["paths"],
        crate::http::calendar::openapi_paths(),
    );
    insert_all(
        &mut document["components"]["schemas"],
        crate::http::bookings::openapi_schemas(),
    );
    insert_all(
        &mut document["paths"],
        crate::http::bookings::openapi_paths(),
    );
    insert_all(
        &mut document["components"]["schemas"],
        crate::http::standby::openapi_schemas(),
    );
    insert_all(
        &mut document["paths"],
        crate::http::standby::openapi_paths(),
    );
    insert_all(
        &mut document["components"]["schemas"],
        crate::http::rota::openapi_schemas(),
    );
    insert_all(&mut document["paths"], crate::http::rota::openapi_paths());
    insert_all(
        &mut document["components"]["schemas"],
        crate::http::cases::openapi_schemas(),
    );
    insert_all(&mut document["paths"], crate::http::cases::openapi_paths());
    insert_all(
        &mut document["components"]["schemas"],
        supervision_schemas(),
    );
    insert_all(&mut document["paths"], supervision_paths());
    insert_all(
        &mut document["components"]["securitySchemes"],
        json!({"session": {"type": "apiKey", "in": "cookie", "name": "jiaohao_session",
            "description": "a signed-in browser; changes also need the X-CSRF-Token header from GET /api/me"},
            "pad": {"type": "apiKey", "in": "cookie", "name": "jiaohao_pad",
            "description": "a window's paired rating pad (POST /api/rating-pad sets it)"}}),
    );
    document
}

fn build_base() -> Value {
    let ticket_detail = || ok("200", "The ticket concerned", schema_ref("TicketDetail"));
    let window_status = || ok("200", "The window's new state", schema_ref("WindowStatus"));
    let admin = || json!([{"bearer": []}]);
    let nullable = |t: &str| json!({"type": [t, "null"]});
    let strings = || json!({"type": "array", "items": {"type": "string"}});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "jiaohao hub",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Queue tickets of a public-security service hall: issue, call, transfer, watch live. Errors are JSON {error, code}."
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error", "code"], "properties": {"error": {"type": "string"}, "code": {"type": "string"}}},
                "Health": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}},
                "HallSettings": {"type": "object", "additionalProperties": false, "required": ["name_zh", "name_en"], "properties": {
                    "name_zh": text(500), "name_en": text(500), "timezone": text(100),
                    "notices_zh": {"type": "array", "maxItems": 50, "items": {"type": "string", "maxLength": 500}},
                    "notices_en": {"type": "array", "maxItems": 50, "items": {"type": "string", "maxLength": 500}},
                    "case_due_working_days": {"type": "integer", "minimum": 1, "maximum": 60,
                        "description": "working days a 差评 case has from its rating to its fix; left out: kept (5 in a new hall)"},
                    "booking_share_pct": {"type": "integer", "minimum": 0, "maximum": 100,
                        "description": "per cent of a service's daily cap its booking slots hold when its bookings are switched on without capacities or a share of their own; left out: kept (50 in a new hall)"},
                    "booking_rules": {"$ref": "#/components/schemas/BookingRules"}}},
                "BookingRules": {"type": "object", "additionalProperties": false,
                    "description": "the hall's local booking rules; left out of a PUT: kept; a rule left out: its default",
                    "properties": {
                        "lapse_min": {"type": "integer", "minimum": 1, "maximum": 60, "description": "minutes an unverified booking holds its place (10)"},
                        "misses_to_bar": {"type": "integer", "minimum": 1, "maximum": 10, "description": "missed verified bookings that bar booking (3) …"},
                        "miss_window_days": {"type": "integer", "minimum": 1, "maximum": 365, "description": "… within this many days (180) …"},
                        "bar_days": {"type": "integer", "minimum": 1, "maximum": 365, "description": "… for this many days after the last miss (30)"}}},
                "ServiceDef": {"type": "object", "additionalProperties": false,
                    "required": ["code", "name_zh", "name_en", "prefix", "wait_target_min", "handling_target_min", "handling_estimate_min"],
                    "properties": service_properties()},
                "ServiceStatus": {"type": "object",
                    "required": ["code", "name_zh", "name_en", "prefix", "wait_target_min", "handling_target_min", "handling_estimate_min",
                        "daily_cap", "hours", "documents_zh", "documents_en", "fee_note_zh", "fee_note_en", "enabled",
                        "waiting", "issued_today", "estimated_wait_min", "available", "unavailable_reason"],
                    "properties": merge(Value::Object(service_properties()), json!({
                        "waiting": {"type": "integer"}, "issued_today": {"type": "integer"},
                        "estimated_wait_min": nullable("integer"), "available": {"type": "boolean"},
                        "unavailable_reason": {"type": ["string", "null"], "enum": ["hall_closed", "disabled", "not_open", "daily_cap_reached", null]}}))},
                "WindowDef": {"type": "object", "additionalProperties": false, "required": ["number", "name_zh", "name_en"], "properties": {
                    "number": {"type": "integer", "minimum": 1, "maximum": 999}, "name_zh": text(100), "name_en": text(100),
                    "services": {"type": "array", "uniqueItems": true, "items": code()},
                    "breaks": {"type": "array", "maxItems": 6, "description": "scheduled daily breaks, [from, to] as HH:MM, in clock order; the wait estimate plans with them",
                        "items": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"}}}}},
                "WindowServices": {"type": "object", "additionalProperties": false, "required": ["services"], "properties": {
                    "services": {"type": "array", "uniqueItems": true, "items": code()}}},
                "WindowStatus": {"type": "object",
                    "required": ["number", "name_zh", "name_en", "services", "state", "pause_reason", "state_since", "current_ticket", "current_service", "waiting"],
                    "properties": {
                        "number": {"type": "integer"}, "name_zh": {"type": "string"}, "name_en": {"type": "string"}, "services": strings(),
                        "state": {"type": "string", "enum": ["closed", "open", "paused", "serving"]},
                        "pause_reason": nullable("string"), "pause_note": {"type": "string"}, "state_since": {"type": "string", "format": "date-time"},
                        "current_ticket": nullable("string"), "current_service": nullable("string"), "waiting": {"type": "integer"}}},
                "CallInfo": {"type": "object", "required": ["number", "service", "window", "at", "recall"], "properties": {
                    "number": {"type": "string"}, "service": {"type": "string"}, "window": {"type": "integer"},
                    "at": {"type": "string", "format": "date-time"}, "recall": {"type": "boolean"}}},
                "HallView": {"type": "object",
                    "required": ["seq", "name_zh", "name_en", "timezone", "date", "notices_zh", "notices_en", "services", "windows", "recent_calls"],
                    "properties": {
                        "seq": {"type": "integer"}, "name_zh": {"type": "string"}, "name_en": {"type": "string"}, "timezone": {"type": "string"},
                        "date": nullable("string"), "notices_zh": strings(), "notices_en": strings(),
                        "services": {"type": "array", "items": schema_ref("ServiceStatus")},
                        "windows": {"type": "array", "items": schema_ref("WindowStatus")},
                        "recent_calls": {"type": "array", "items": schema_ref("CallInfo")},
                        "clock": schema_ref("HallClock"),
                        "open_today": {"type": "boolean"},
                        "closed_reason": {"type": ["string", "null"], "enum": ["holiday", "rest_day", null]},
                        "next_opening": {"oneOf": [schema_ref("Opening"), {"type": "null"}]},
                        "today": {"oneOf": [{"type": "null"}, schema_ref("TodayFigures")]}}},
                "HallClock": {"type": "object", "required": ["now", "speed"],
                    "description": "The hall's clock when the answer was made (in GET /api/hall and the stream's snapshot, not in hall_changed): a client shows now + speed × the time since it received it",
                    "properties": {
                        "now": {"type": "string", "description": "RFC 3339 with the hall's offset"},
                        "speed": {"type": "number", "minimum": 0, "description": "hall seconds per real second: 1 for a real hall, more for a simulated day, 0 for a clock that stands still"}}},
                "IssueTicketRequest": {"type": "object", "additionalProperties": false, "required": ["service"], "properties": {
                    "service": code(), "green_channel": {"type": "boolean"},
                    "id_number": {"type": "string", "description": "The citizen's 18-character ID number: needed where a service requires identity; one ticket per person a day"}}},
                "IssuedTicket": {"type": "object",
                    "required": ["number", "service", "service_name_zh", "service_name_en", "green_channel", "token", "ahead", "estimated_wait_min", "issued_at", "url", "documents", "documents_en", "fee_note_zh", "fee_note_en"],
                    "properties": {
                        "number": {"type": "string"}, "service": {"type": "string"}, "service_name_zh": {"type": "string"}, "service_name_en": {"type": "string"},
                        "green_channel": {"type": "boolean"}, "token": {"type": "string"}, "ahead": {"type": "integer"},
                        "estimated_wait_min": nullable("integer"), "issued_at": {"type": "string", "format": "date-time"},
                        "url": {"type": "string"}, "documents": strings(), "documents_en": strings(),
                        "fee_note_zh": {"type": "string"}, "fee_note_en": {"type": "string"},
                        "reprint": {"type": "boolean", "description": "true: the person's earlier ticket of today for this service (identity required), answered again instead of a new one"}}},
                "TicketStatus": {"type": "object",
                    "required": ["number", "service", "service_name_zh", "service_name_en", "status", "green_channel", "window", "ahead", "estimated_wait_min", "issued_at", "called_at", "documents", "documents_en"],
                    "properties": {
                        "number": {"type": "string"}, "service": {"type": "string"}, "service_name_zh": {"type": "string"}, "service_name_en": {"type": "string"},
                        "status": {"type": "string", "enum": ["waiting", "called", "done", "no_show", "transferred", "expired"]},
                        "green_channel": {"type": "boolean"}, "window": nullable("integer"), "ahead": nullable("integer"),
                        "estimated_wait_min": nullable("integer"), "issued_at": {"type": "string", "format": "date-time"},
                        "called_at": {"type": ["string", "null"], "format": "date-time"}, "documents": strings(), "documents_en": strings(),
                        "rating": {"type": ["string", "null"], "enum": ["very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied", null]},
                        "can_rate": {"type": "boolean"}, "rate_until": {"type": ["string", "null"], "format": "date"}}},
                "TicketDetail": {"type": "object",
                    "required": ["number", "service", "status", "green_channel", "window", "issued_at", "called_at", "finished_at", "recalls", "transfers"],
                    "properties": {
                        "number": {"type": "string"}, "service": {"type": "string"},
                        "status": {"type": "string", "enum": ["waiting", "called", "done", "no_show", "transferred", "expired"]},
                        "green_channel": {"type": "boolean"}, "window": nullable("integer"),
                        "issued_at": {"type": "string", "format": "date-time"},
                        "called_at": {"type": ["string", "null"], "format": "date-time"},
                        "finished_at": {"type": ["string", "null"], "format": "date-time"},
                        "recalls": {"type": "integer"}, "transfers": {"type": "integer"}}},
                "PauseRequest": {"type": "object", "additionalProperties": false, "required": ["reason"], "properties": {
                    "reason": {"type": "string", "description": "break, meeting, system_fault, training, off_duty or other; other words are taken as other with those words", "minLength": 1, "maxLength": 200, "pattern": "\\S"},
                    "note": {"type": ["string", "null"], "maxLength": 200}}},
                "CallTicketRequest": {"type": "object", "additionalProperties": false, "required": ["number", "reason"], "properties": {
                    "number": {"type": "string", "pattern": "^[A-Z](00[1-9]|0[1-9][0-9]|[1-9][0-9]{2,8})$"}, "reason": text(200)}},
                "CreateTokenRequest": {"type": "object", "additionalProperties": false, "required": ["role", "name"], "properties": {
                    "role": {"type": "string", "enum": ["admin", "clerk", "kiosk", "display", "replica", "ingest"]},
                    "window": {"type": ["integer", "null"], "minimum": 1, "maximum": 999}, "name": text(100)}},
                "CreatedToken": {"type": "object", "required": ["id", "token", "role", "window", "name"], "properties": {
                    "id": {"type": "integer"}, "token": {"type": "string"}, "role": {"type": "string"},
                    "window": nullable("integer"), "name": {"type": "string"}}},
                "TokenInfo": {"type": "object", "required": ["id", "role", "window", "name", "created_at", "revoked"], "properties": {
                    "id": {"type": "integer"}, "role": {"type": "string"}, "window": nullable("integer"), "name": {"type": "string"},
                    "created_at": {"type": "string"}, "revoked": {"type": "boolean"}}}
            }
        },
        "paths": {
            "/api/health": {"get": {"summary": "Liveness", "responses": ok("200", "The hub runs", schema_ref("Health"))}},
            "/api/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3", "content": {"application/json": {}}}}}},
            "/api/hall": {"get": {"summary": "The whole hall: services with waiting counts and estimated waits, windows, latest calls (limited per client address unless it is a device's)",
                "responses": merge(ok("200", "The hall", schema_ref("HallView")), error_responses(&["429"]))}},
            "/api/hall/settings": {
                "get": {"summary": "The hall's names, time zone and notices", "responses": ok("200", "Settings", schema_ref("HallSettings"))},
                "put": {"summary": "Change the hall's names, time zone and notices (admin)", "security": admin(), "requestBody": body("HallSettings"),
                    "responses": merge(ok("200", "Saved", schema_ref("HallSettings")), error_responses(&["400", "401", "403", "503"]))}},
            "/api/events": {"get": {"summary": "Server-Sent Events: a snapshot (a HallView with its clock), then one event per change; Last-Event-ID resumes; a last `shutdown` event when the hub stops",
                "parameters": [{"name": "Last-Event-ID", "in": "header", "required": false, "schema": {"type": "string"}}],
                "responses": merge(json!({"200": {"description": "text/event-stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}}}), error_responses(&["503"]))}},
            "/api/tickets": {"post": {"summary": "Issue a ticket (kiosk)", "security": admin(),
                "parameters": [{"name": "Idempotency-Key", "in": "header", "required": false, "description": "a retry with the same key returns the same ticket", "schema": {"type": "string", "minLength": 1, "maxLength": 200}}],
                "requestBody": body("IssueTicketRequest"),
                "responses": merge(ok("201", "The new ticket", schema_ref("IssuedTicket")), error_responses(&["400", "401", "403", "404", "409", "429", "503"]))}},
            "/api/tickets/{token}": {"get": {"summary": "One ticket's public status (the ticket page)",
                "parameters": [{"name": "token", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": merge(ok("200", "The ticket", schema_ref("TicketStatus")), error_responses(&["404", "429", "503"]))}},
            "/api/services": {
                "get": {"summary": "All services", "responses": ok("200", "Services", json!({"type": "array", "items": schema_ref("ServiceDef")}))},
                "post": {"summary": "Add a service (admin)", "security": admin(), "requestBody": body("ServiceDef"),
                    "responses": merge(ok("201", "Added", schema_ref("ServiceDef")), error_responses(&["400", "401", "403", "409", "503"]))}},
            "/api/services/{code}": {
                "parameters": [{"name": "code", "in": "path", "required": true, "schema": code()}],
                "get": {"summary": "One service", "responses": merge(ok("200", "The service", schema_ref("ServiceDef")), error_responses(&["400", "404"]))},
                "put": {"summary": "Change a service (admin)", "security": admin(), "requestBody": body("ServiceDef"),
                    "responses": merge(ok("200", "Saved", schema_ref("ServiceDef")), error_responses(&["400", "401", "403", "404", "409", "503"]))},
                "delete": {"summary": "Remove a service no window serves (admin)", "security": admin(),
                    "responses": merge(json!({"204": {"description": "Removed"}}), error_responses(&["400", "401", "403", "404", "409", "503"]))}},
            "/api/windows": {
                "get": {"summary": "All windows", "responses": ok("200", "Windows", json!({"type": "array", "items": schema_ref("WindowStatus")}))},
                "post": {"summary": "Add a window (admin)", "security": admin(), "requestBody": body("WindowDef"),
                    "responses": merge(ok("201", "Added", schema_ref("WindowStatus")), error_responses(&["400", "401", "403", "404", "409", "503"]))}},
            "/api/windows/{n}": {
                "parameters": [window_param()],
                "get": {"summary": "One window", "responses": merge(ok("200", "The window", schema_ref("WindowStatus")), error_responses(&["400", "404"]))},
                "put": {"summary": "Change a window's names and services (admin)", "security": admin(), "requestBody": body("WindowDef"),
                    "responses": merge(ok("200", "Saved", schema_ref("WindowStatus")), error_responses(&["400", "401", "403", "404", "503"]))},
                "delete": {"summary": "Remove a closed window (admin)", "security": admin(),
                    "responses": merge(json!({"204": {"description": "Removed"}}), error_responses(&["400", "401", "403", "404", "409", "503"]))}},
            "/api/windows/{n}/services": {
                "parameters": [window_param()],
                "get": {"summary": "The services a window serves, primary first", "responses": merge(ok("200", "Services", schema_ref("WindowServices")), error_responses(&["400", "404"]))},
                "put": {"summary": "Assign services to a window, primary first; applies to its next call (admin)", "security": admin(), "requestBody": body("WindowServices"),
                    "responses": merge(ok("200", "Saved", schema_ref("WindowStatus")), error_responses(&["400", "401", "403", "404", "503"]))}},
            "/api/windows/{n}/call-next": window_action("Call the next ticket (finishes the current one)", None,
                merge(ticket_detail(), json!({"204": {"description": "Nothing waits for this window"}})), &[]),
            "/api/windows/{n}/call": window_action("Call one ticket out of order (选号), with a reason that is recorded", Some("CallTicketRequest"), ticket_detail(), &[]),
            "/api/windows/{n}/recall": window_action("Call the current ticket again", None, ticket_detail(), &[]),
            "/api/windows/{n}/no-show": window_action("The citizen did not come", None, ticket_detail(), &[]),
            "/api/windows/{n}/finish": optional_body(window_action("Finish the current ticket with how the visit ended (办理结果); no body means done", Some("FinishRequest"), ticket_detail(), &[])),
            "/api/windows/{n}/transfer": window_action("Send the current ticket to another service or window, keeping its place", Some("TransferRequest"), ticket_detail(), &[]),
            "/api/windows/{n}/open": window_action("Open the window", None, window_status(), &[]),
            "/api/windows/{n}/close": window_action("Close the window with the class of the reason (required, as for a pause)", Some("CloseRequest"), window_status(), &[]),
            "/api/windows/{n}/pause": window_action("Pause the window with a reason", Some("PauseRequest"), window_status(), &[]),
            "/api/windows/{n}/resume": window_action("Resume a paused window", None, window_status(), &[]),
            "/api/tokens": {
                "get": {"summary": "API and device tokens (admin)", "security": admin(),
                    "responses": merge(ok("200", "Tokens", json!({"type": "array", "items": schema_ref("TokenInfo")})), error_responses(&["401", "403", "503"]))},
                "post": {"summary": "Create a token; its secret is shown once (admin)", "security": admin(), "requestBody": body("CreateTokenRequest"),
                    "responses": merge(ok("201", "The token", schema_ref("CreatedToken")), error_responses(&["400", "401", "403", "503"]))}},
            "/api/tokens/{id}": {"delete": {"summary": "Revoke a token (admin)", "security": admin(),
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": merge(json!({"204": {"description": "Revoked"}}), error_responses(&["400", "401", "403", "404", "503"]))}}
        }
    })
}

fn insert_all(target: &mut Value, more: Value) {
    if let (Some(target), Value::Object(more)) = (target.as_object_mut(), more) {
        target.extend(more);
    }
}

/// The schemas of people, sessions, the counter, the rating tablet, reports, the audit and
/// device problems.
fn more_schemas() -> Value {
    let nullable = |t: &str| json!({"type": [t, "null"]});
    let time = || json!({"type": "string", "format": "date-time"});
    let minutes = || json!({"type": ["number", "null"]});
    let count = || json!({"type": "integer", "minimum": 0});
    let row = json!({"type": "object",
        "required": ["key", "name_zh", "name_en", "issued", "called", "served", "no_shows", "transfers", "mean_wait_min", "p90_wait_min",
            "mean_handling_min", "within_target_pct", "ratings", "rating_mean", "pause_min", "out_of_order", "staffed_min", "busy_pct",
            "outcomes", "done_pct", "within_limit_pct", "over_limit", "satisfied_pct", "closes"],
        "properties": {
            "key": {"type": "string"}, "name_zh": {"type": "string"}, "name_en": {"type": "string"},
            "issued": nullable("integer"), "called": count(), "served": count(), "no_shows": count(), "transfers": count(),
            "mean_wait_min": minutes(), "p90_wait_min": minutes(), "mean_handling_min": minutes(), "within_target_pct": minutes(),
            "ratings": {"type": "object", "required": ["very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied"], "properties": {
                "very_satisfied": count(), "satisfied": count(), "basic": count(), "dissatisfied": count(), "very_dissatisfied": count()}},
            "rating_mean": minutes(),
            "pause_min": {"type": "object", "required": ["break", "meeting", "system_fault", "training", "off_duty", "other"], "properties": {
                "break": {"type": "number"}, "meeting": {"type": "number"}, "system_fault": {"type": "number"},
                "training": {"type": "number"}, "off_duty": {"type": "number"}, "other": {"type": "number"}}},
            "closes": {"type": "object", "required": ["break", "meeting", "system_fault", "training", "off_duty", "other", "none"], "properties": {
                "break": count(), "meeting": count(), "system_fault": count(), "training": count(), "off_duty": count(), "other": count(), "none": count()}},
            "out_of_order": count(), "staffed_min": minutes(), "busy_pct": minutes(),
            "outcomes": {"type": "object", "required": ["done", "documents_missing", "refused", "referred"], "properties": {
                "done": count(), "documents_missing": count(), "refused": count(), "referred": count()}},
            "done_pct": minutes(), "within_limit_pct": minutes(), "over_limit": count(), "satisfied_pct": minutes(),
            "first_visits": count(), "first_visit_done_pct": minutes()}});
    json!({
        "Me": {"type": "object", "required": ["name", "role", "window", "via", "csrf_token", "expires_at"], "properties": {
            "name": {"type": "string"}, "role": {"type": "string", "enum": ["admin", "supervisor", "clerk", "kiosk", "display", "replica", "ingest", "rating_pad"]},
            "window": nullable("integer"), "via": {"type": "string", "enum": ["session", "token"]},
            "csrf_token": nullable("string"), "expires_at": {"type": ["string", "null"], "format": "date-time"}}},
        "ChooseWindow": {"type": "object", "additionalProperties": false, "required": ["window"], "properties": {
            "window": {"type": ["integer", "null"], "minimum": 1, "maximum": 999}}},
        "UserInfo": {"type": "object", "required": ["id", "username", "role", "created_at", "disabled", "locked_until"], "properties": {
            "id": {"type": "integer"}, "username": {"type": "string"}, "role": {"type": "string", "enum": ["admin", "supervisor", "clerk"]},
            "created_at": time(), "disabled": {"type": "boolean"}, "locked_until": {"type": ["string", "null"], "format": "date-time"}}},
        "CreateUserRequest": {"type": "object", "additionalProperties": false, "required": ["username", "role", "password"], "properties": {
            "username": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]{0,31}$"},
            "role": {"type": "string", "enum": ["admin", "supervisor", "clerk"]},
            "password": {"type": "string", "minLength": 8, "maxLength": 200}}},
        "Notices": {"type": "object", "additionalProperties": false, "required": ["notices_zh", "notices_en"], "properties": {
            "notices_zh": {"type": "array", "maxItems": 50, "items": {"type": "string", "maxLength": 500}},
            "notices_en": {"type": "array", "maxItems": 50, "items": {"type": "string", "maxLength": 500}}}},
        "ServingTicket": {"type": "object", "required": ["number", "service", "green_channel", "issued_at", "called_at", "recalls", "transfers"], "properties": {
            "number": {"type": "string"}, "service": {"type": "string"}, "green_channel": {"type": "boolean"}, "issued_at": time(),
            "called_at": {"type": ["string", "null"], "format": "date-time"}, "recalls": count(), "transfers": count()}},
        "QueuedTicket": {"type": "object", "required": ["number", "service", "green_channel", "issued_at", "waited_min", "pinned", "transferred", "next"], "properties": {
            "number": {"type": "string"}, "service": {"type": "string"}, "green_channel": {"type": "boolean"}, "issued_at": time(),
            "waited_min": count(), "pinned": {"type": "boolean"}, "transferred": {"type": "boolean"}, "next": {"type": "boolean"},
            "booked": {"type": "boolean", "description": "issued by a booking's check-in (预约); it queues by its slot start"}}},
        "WindowQueue": {"type": "object", "required": ["window", "now", "state", "serving", "waiting"], "properties": {
            "window": {"type": "integer"}, "now": time(), "state": {"type": "string", "enum": ["closed", "open", "paused", "serving"]},
            "serving": {"oneOf": [{"type": "null"}, schema_ref("ServingTicket")]},
            "waiting": {"type": "array", "items": schema_ref("QueuedTicket")}}},
        "RatingPrompt": {"type": "object", "required": ["window", "number", "service", "service_name_zh", "service_name_en", "finished_at", "open", "rating"], "properties": {
            "window": {"type": "integer"}, "number": {"type": "string"}, "service": {"type": "string"},
            "service_name_zh": {"type": "string"}, "service_name_en": {"type": "string"}, "finished_at": time(),
            "open": {"type": "boolean"}, "rating": {"type": ["string", "null"], "enum": ["very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied", null]}}},
        "PairingCode": {"type": "object", "required": ["window", "code", "expires_at"], "properties": {
            "window": {"type": "integer"}, "code": {"type": "string", "pattern": "^[2-9A-HJ-NP-Z]{6}$"}, "expires_at": time()}},
        "PairRequest": {"type": "object", "additionalProperties": false, "required": ["code"], "properties": {
            "code": {"type": "string", "maxLength": 32}}},
        "RatingPad": {"type": "object", "required": ["id", "window", "name", "created_at"], "properties": {
            "id": {"type": "integer"}, "window": {"type": "integer"}, "name": {"type": "string"}, "created_at": time()}},
        "RateRequest": {"type": "object", "additionalProperties": false, "required": ["number", "rating"], "properties": {
            "number": {"type": "string", "pattern": "^[A-Z](00[1-9]|0[1-9][0-9]|[1-9][0-9]{2,8})$"},
            "rating": {"type": "string", "enum": ["very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied"]},
            "reason": {"type": ["string", "null"], "enum": ["attitude", "waiting", "requirements_unclear", "other", null]},
            "callback_phone": {"type": ["string", "null"], "description": "for a bad rating: an 11-digit mobile number for the callback (kept outside the log, erased 30 days after the case closes)"}}},
        "ReportRow": row,
        "HourRow": {"type": "object", "required": ["hour", "arrivals", "mean_wait_min"], "properties": {
            "hour": {"type": "integer", "minimum": 0, "maximum": 23}, "arrivals": count(), "mean_wait_min": minutes()}},
        "Report": {"type": "object", "required": ["from", "to", "total", "services", "windows", "clerks", "hours", "missing_documents", "window_ranking", "bookings"], "properties": {
            "bookings": {"type": "object", "required": ["verified", "no_shows", "no_show_pct"], "description": "the period's verified, uncancelled bookings checked in or past their check-in's close, and how many were missed", "properties": {
                "verified": count(), "no_shows": count(), "no_show_pct": nullable("number")}},
            "window_ranking": {"type": "array", "items": {"type": "object", "required": ["rank", "window", "name_zh", "name_en", "rated", "satisfied_pct"], "properties": {
                "rank": {"type": "integer", "minimum": 1}, "window": {"type": "integer"}, "name_zh": {"type": "string"}, "name_en": {"type": "string"},
                "rated": count(), "satisfied_pct": {"type": "number"}}}},
            "cases": {"type": "array", "items": schema_ref("CaseFigureRow")},
            "missing_documents": {"type": "array", "items": {"type": "object", "required": ["service", "document", "count"], "properties": {
                "service": {"type": "string"}, "document": {"type": "string"}, "count": count()}}},
            "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"}, "total": schema_ref("ReportRow"),
            "services": {"type": "array", "items": schema_ref("ReportRow")}, "windows": {"type": "array", "items": schema_ref("ReportRow")},
            "clerks": {"type": "array", "items": schema_ref("ReportRow")}, "hours": {"type": "array", "items": schema_ref("HourRow")},
            "arrivals": {"type": "array", "items": schema_ref("ReportRow"), "description": "booked (checked-in bookings, waits from the later of slot start and check-in) and walk_in"}}},
        "AuditEntry": {"type": "object", "required": ["seq", "at", "actor", "kind", "number", "service", "window", "detail", "out_of_order", "configuration"], "properties": {
            "seq": {"type": "integer"}, "at": time(), "actor": {"type": "string"}, "kind": {"type": "string"},
            "number": nullable("string"), "service": nullable("string"), "window": nullable("integer"), "detail": {"type": "string"},
            "out_of_order": {"type": "boolean"}, "configuration": {"type": "boolean"}}},
        "AuditPage": {"type": "object", "required": ["entries", "truncated"], "properties": {
            "entries": {"type": "array", "items": schema_ref("AuditEntry")}, "truncated": {"type": "boolean"}}},
        "DeviceProblemReport": {"type": "object", "additionalProperties": false, "required": ["kind", "message"], "properties": {
            "kind": {"type": "string", "enum": jiaohao_wire::DEVICE_PROBLEM_KINDS}, "message": text(500)}},
        "DeviceProblem": {"type": "object", "required": ["id", "at", "device", "kind", "message"], "properties": {
            "id": {"type": "integer"}, "at": time(), "device": {"type": "string"},
            "kind": {"type": "string", "enum": jiaohao_wire::DEVICE_PROBLEM_KINDS}, "message": {"type": "string"}}},
        "AdviceEffect": {"type": "object", "required": ["service", "projected_wait_min_before", "projected_wait_min_after"], "properties": {
            "service": {"type": "string"}, "projected_wait_min_before": nullable("integer"), "projected_wait_min_after": nullable("integer")}},
        "AdviceSuggestion": {"type": "object", "required": ["window", "add_service", "service_name_zh", "service_name_en", "projected_wait_min_before",
            "projected_wait_min_after", "services_after", "others", "text_zh", "text_en"], "properties": {
            "window": {"type": "integer"}, "add_service": {"type": "string"}, "service_name_zh": {"type": "string"}, "service_name_en": {"type": "string"},
            "projected_wait_min_before": {"type": ["integer", "null"], "description": "null when no working window serves the service"},
            "projected_wait_min_after": {"type": "integer"},
            "services_after": {"type": "array", "items": {"type": "string"}, "description": "the window's services with the suggestion applied: the body for PUT /api/windows/{n}/services"},
            "others": {"type": "array", "items": schema_ref("AdviceEffect")}, "text_zh": {"type": "string"}, "text_en": {"type": "string"}}},
        "Advice": {"type": "object", "required": ["suggestions", "max_services", "made_at"], "properties": {
            "suggestions": {"type": "array", "items": schema_ref("AdviceSuggestion")}, "max_services": {"type": "integer"}, "made_at": time()}}
    })
}

fn date_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description,
        "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}})
}

/// The routes of people, sessions, the counter, the rating tablet, reports, the audit and
/// device problems.
fn more_paths() -> Value {
    let signed_in = || json!([{"bearer": []}, {"session": []}]);
    let range = || {
        json!([
            date_param("from", "first local day, today if left out"),
            date_param("to", "last local day (included), from if left out")
        ])
    };
    json!({
        "/api/hall/notices": {"put": {"summary": "Change the public notices (警务公开) only (admin, supervisor)", "security": signed_in(), "requestBody": body("Notices"),
            "responses": merge(ok("200", "Saved", schema_ref("HallSettings")), error_responses(&["400", "401", "403", "503"]))}},
        "/api/windows/{n}/queue": {"get": {"summary": "The window's current ticket and the tickets it may call, with their waits (clerk of n, admin, supervisor)",
            "security": signed_in(), "parameters": [window_param()],
            "responses": merge(ok("200", "The queue", schema_ref("WindowQueue")), error_responses(&["400", "401", "403", "404", "503"]))}},
        "/api/windows/{n}/rating": {
            "parameters": [window_param()],
            "get": {"summary": "The ticket the window finished last, for its rating tablet",
                "responses": merge(merge(ok("200", "The ticket to rate", schema_ref("RatingPrompt")), json!({"204": {"description": "The window finished no ticket today"}})),
                    error_responses(&["400", "404", "429", "503"]))},
            "post": {"summary": "Rate the ticket just finished at the window (好差评): once, within 15 minutes; a bad rating needs a reason. Only the window's paired rating pad (or an admin): 401 not_paired, 403 for another window's pad",
                "security": [{"pad": []}, {"bearer": []}, {"session": []}],
                "requestBody": body("RateRequest"),
                "responses": merge(ok("200", "Rated", schema_ref("RatingPrompt")), error_responses(&["400", "401", "403", "404", "409", "429", "503"]))}},
        "/api/windows/{n}/pairing": {"post": {"summary": "A one-time code (10 minutes) to pair a tablet with window n as its rating pad (admin)",
            "security": signed_in(), "parameters": [window_param()],
            "responses": merge(ok("201", "The code", schema_ref("PairingCode")), error_responses(&["400", "401", "403", "404", "503"]))}},
        "/api/rating-pad": {
            "get": {"summary": "The window this tablet is the rating pad of (401 not_paired if none)", "security": [{"pad": []}],
                "responses": merge(ok("200", "This pad", schema_ref("RatingPad")), error_responses(&["401", "403", "429", "503"]))},
            "post": {"summary": "Pair this tablet with the window of a pairing code; sets the jiaohao_pad cookie", "requestBody": body("PairRequest"),
                "responses": merge(ok("201", "Paired", schema_ref("RatingPad")), error_responses(&["400", "404", "429", "503"]))}},
        "/api/rating-pads": {"get": {"summary": "The paired rating pads (admin)", "security": signed_in(),
            "responses": merge(ok("200", "Pads", json!({"type": "array", "items": schema_ref("RatingPad")})), error_responses(&["401", "403", "503"]))}},
        "/api/rating-pads/{id}": {"delete": {"summary": "Unpair a rating pad: its cookie stops working (admin)", "security": signed_in(),
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
            "responses": merge(json!({"204": {"description": "Unpaired"}}), error_responses(&["400", "401", "403", "404", "503"]))}},
        "/api/me": {"get": {"summary": "Who is asking; a session's anti-forgery token", "security": signed_in(),
            "responses": merge(ok("200", "You", schema_ref("Me")), error_responses(&["401", "503"]))}},
        "/api/me/window": {"put": {"summary": "Choose the window a signed-in clerk works at", "security": signed_in(), "requestBody": body("ChooseWindow"),
            "responses": merge(ok("200", "You", schema_ref("Me")), error_responses(&["400", "401", "403", "404", "503"]))}},
        "/api/users": {
            "get": {"summary": "People who sign in (admin, supervisor)", "security": signed_in(),
                "responses": merge(ok("200", "Users", json!({"type": "array", "items": schema_ref("UserInfo")})), error_responses(&["401", "403", "503"]))},
            "post": {"summary": "Add a person (admin)", "security": signed_in(), "requestBody": body("CreateUserRequest"),
                "responses": merge(ok("201", "Added", schema_ref("UserInfo")), error_responses(&["400", "401", "403", "409", "503"]))}},
        "/api/users/{id}": {"delete": {"summary": "Disable a person and end their sessions (admin)", "security": signed_in(),
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
            "responses": merge(json!({"204": {"description": "Disabled"}}), error_responses(&["400", "401", "403", "404", "409", "503"]))}},
        "/api/reports": {"get": {"summary": "Figures per service, window and clerk, and by hour, from the event log (admin, supervisor)",
            "security": signed_in(), "parameters": range(),
            "responses": merge(ok("200", "The report", schema_ref("Report")), error_responses(&["400", "401", "403", "503"]))}},
        "/api/reports/csv": {"get": {"summary": "The same report as CSV (admin, supervisor)", "security": signed_in(), "parameters": range(),
            "responses": merge(json!({"200": {"description": "CSV, one row per service, window, clerk and hour", "content": {"text/csv": {"schema": {"type": "string"}}}}}),
                error_responses(&["400", "401", "403", "503"]))}},
        "/api/audit": {"get": {"summary": "Every event with who and when, newest first (admin, supervisor)", "security": signed_in(),
            "parameters": [date_param("from", "first local day, today if left out"), date_param("to", "last local day (included)"),
                {"name": "number", "in": "query", "required": false, "description": "only this ticket number", "schema": {"type": "string"}},
                {"name": "flagged", "in": "query", "required": false, "description": "only out-of-order calls and configuration changes", "schema": {"type": "boolean"}},
                {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 5000}}],
            "responses": merge(ok("200", "Entries", schema_ref("AuditPage")), error_responses(&["400", "401", "403", "503"]))}},
        "/metrics": {"get": {"summary": "Prometheus text exposition: tickets issued, served and waiting and the projected wait per service, call-next and commit latency histograms, event-stream subscribers. Open to a loopback peer; from elsewhere an admin, supervisor or display token or session",
            "security": [{}, {"bearer": []}, {"session": []}],
            "responses": merge(json!({"200": {"description": "The metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}),
                error_responses(&["401", "403", "503"]))}},
        "/api/advice": {"get": {"summary": "Assignment advice: for each service whose projected wait for a new ticket passes its target, which working window should also take it, with the projected wait before and after (same estimator as the tickets), best first (admin, supervisor)",
            "security": signed_in(),
            "parameters": [{"name": "max_services", "in": "query", "required": false, "description": "most services one window may serve (default 3)", "schema": {"type": "integer", "minimum": 1, "maximum": 10}}],
            "responses": merge(ok("200", "Suggestions", schema_ref("Advice")), error_responses(&["400", "401", "403", "503"]))}},
        "/api/devices/problems": {
            "get": {"summary": "The latest 100 problems devices reported, newest first (admin, supervisor)", "security": signed_in(),
                "responses": merge(ok("200", "Problems", json!({"type": "array", "maxItems": 100, "items": schema_ref("DeviceProblem")})),
                    error_responses(&["401", "403", "503"]))},
            "post": {"summary": "Report a problem with this device, such as a printer fault; the device is who the token names (kiosk, display, admin)",
                "security": signed_in(), "requestBody": body("DeviceProblemReport"),
                "responses": merge(ok("201", "Saved", schema_ref("DeviceProblem")), error_responses(&["400", "401", "403", "503"]))}}
    })
}

/// The document, built once.
pub fn document() -> String {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT
        .get_or_init(|| serde_json::to_string_pretty(&build()).unwrap_or_default())
        .clone()
}

/// The paths and methods described, for the test that compares them with the router.
pub fn described_routes() -> Vec<(String, String)> {
    let document = build();
    let mut routes = Vec::new();
    if let Some(paths) = document["paths"].as_object() {
        for (path, item) in paths {
            for method in ["get", "put", "post", "delete"] {
                if item.get(method).is_some() {
                    routes.push((method.to_uppercase(), path.clone()));
                }
            }
        }
    }
    routes
}
