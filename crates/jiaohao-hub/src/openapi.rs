//! `GET /api/openapi.json`: the OpenAPI 3 description of every route. A test checks that each
//! route of the router is described here and that answers fit their schemas.

use std::sync::OnceLock;

use serde_json::{Value, json};

fn error_responses(codes: &[&str]) -> Value {
    let mut responses = serde_json::Map::new();
    for code in codes {
        let description = match *code {
            "400" => "Malformed input: the message says what is wrong",
            "401" => "No token, or an unknown or revoked one",
            "403" => "The token's role or window may not do this",
            "404" => "Unknown service, window, ticket or token",
            "409" => {
                "Not possible now: service closed, daily cap reached, window paused or closed, …"
            }
            "503" => "The hub cannot save changes right now; nothing was changed",
            _ => "Error",
        };
        responses.insert(
            (*code).to_owned(),
            json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
        );
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
        "enabled": {"type": "boolean"}
    });
    match properties {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

fn build() -> Value {
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
                    "notices_en": {"type": "array", "maxItems": 50, "items": {"type": "string", "maxLength": 500}}}},
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
                        "unavailable_reason": {"type": ["string", "null"], "enum": ["disabled", "not_open", "daily_cap_reached", null]}}))},
                "WindowDef": {"type": "object", "additionalProperties": false, "required": ["number", "name_zh", "name_en"], "properties": {
                    "number": {"type": "integer", "minimum": 1, "maximum": 999}, "name_zh": text(100), "name_en": text(100),
                    "services": {"type": "array", "uniqueItems": true, "items": code()}}},
                "WindowServices": {"type": "object", "additionalProperties": false, "required": ["services"], "properties": {
                    "services": {"type": "array", "uniqueItems": true, "items": code()}}},
                "WindowStatus": {"type": "object",
                    "required": ["number", "name_zh", "name_en", "services", "state", "pause_reason", "state_since", "current_ticket", "current_service", "waiting"],
                    "properties": {
                        "number": {"type": "integer"}, "name_zh": {"type": "string"}, "name_en": {"type": "string"}, "services": strings(),
                        "state": {"type": "string", "enum": ["closed", "open", "paused", "serving"]},
                        "pause_reason": nullable("string"), "state_since": {"type": "string", "format": "date-time"},
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
                        "recent_calls": {"type": "array", "items": schema_ref("CallInfo")}}},
                "IssueTicketRequest": {"type": "object", "additionalProperties": false, "required": ["service"], "properties": {
                    "service": code(), "green_channel": {"type": "boolean"}}},
                "IssuedTicket": {"type": "object",
                    "required": ["number", "service", "service_name_zh", "service_name_en", "green_channel", "token", "ahead", "estimated_wait_min", "issued_at", "url", "documents", "documents_en", "fee_note_zh", "fee_note_en"],
                    "properties": {
                        "number": {"type": "string"}, "service": {"type": "string"}, "service_name_zh": {"type": "string"}, "service_name_en": {"type": "string"},
                        "green_channel": {"type": "boolean"}, "token": {"type": "string"}, "ahead": {"type": "integer"},
                        "estimated_wait_min": nullable("integer"), "issued_at": {"type": "string", "format": "date-time"},
                        "url": {"type": "string"}, "documents": strings(), "documents_en": strings(),
                        "fee_note_zh": {"type": "string"}, "fee_note_en": {"type": "string"}}},
                "TicketStatus": {"type": "object",
                    "required": ["number", "service", "service_name_zh", "service_name_en", "status", "green_channel", "window", "ahead", "estimated_wait_min", "issued_at", "called_at", "documents", "documents_en"],
                    "properties": {
                        "number": {"type": "string"}, "service": {"type": "string"}, "service_name_zh": {"type": "string"}, "service_name_en": {"type": "string"},
                        "status": {"type": "string", "enum": ["waiting", "called", "done", "no_show", "transferred", "expired"]},
                        "green_channel": {"type": "boolean"}, "window": nullable("integer"), "ahead": nullable("integer"),
                        "estimated_wait_min": nullable("integer"), "issued_at": {"type": "string", "format": "date-time"},
                        "called_at": {"type": ["string", "null"], "format": "date-time"}, "documents": strings(), "documents_en": strings()}},
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
                "PauseRequest": {"type": "object", "additionalProperties": false, "required": ["reason"], "properties": {"reason": text(200)}},
                "TransferRequest": {"description": "exactly one of to_service and to_window", "oneOf": [
                    {"type": "object", "additionalProperties": false, "required": ["to_service"], "properties": {"to_service": code()}},
                    {"type": "object", "additionalProperties": false, "required": ["to_window"], "properties": {"to_window": {"type": "integer", "minimum": 1, "maximum": 999}}}]},
                "CallTicketRequest": {"type": "object", "additionalProperties": false, "required": ["number", "reason"], "properties": {
                    "number": {"type": "string", "pattern": "^[A-Z](00[1-9]|0[1-9][0-9]|[1-9][0-9]{2,8})$"}, "reason": text(200)}},
                "CreateTokenRequest": {"type": "object", "additionalProperties": false, "required": ["role", "name"], "properties": {
                    "role": {"type": "string", "enum": ["admin", "clerk", "kiosk", "display"]},
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
            "/api/hall": {"get": {"summary": "The whole hall: services with waiting counts and estimated waits, windows, latest calls",
                "responses": ok("200", "The hall", schema_ref("HallView"))}},
            "/api/hall/settings": {
                "get": {"summary": "The hall's names, time zone and notices", "responses": ok("200", "Settings", schema_ref("HallSettings"))},
                "put": {"summary": "Change the hall's names, time zone and notices (admin)", "security": admin(), "requestBody": body("HallSettings"),
                    "responses": merge(ok("200", "Saved", schema_ref("HallSettings")), error_responses(&["400", "401", "403", "503"]))}},
            "/api/events": {"get": {"summary": "Server-Sent Events: a snapshot, then one event per change; Last-Event-ID resumes",
                "parameters": [{"name": "Last-Event-ID", "in": "header", "required": false, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "text/event-stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}}}}},
            "/api/tickets": {"post": {"summary": "Issue a ticket (kiosk)", "security": admin(),
                "parameters": [{"name": "Idempotency-Key", "in": "header", "required": false, "description": "a retry with the same key returns the same ticket", "schema": {"type": "string", "minLength": 1, "maxLength": 200}}],
                "requestBody": body("IssueTicketRequest"),
                "responses": merge(ok("201", "The new ticket", schema_ref("IssuedTicket")), error_responses(&["400", "401", "403", "404", "409", "503"]))}},
            "/api/tickets/{token}": {"get": {"summary": "One ticket's public status (the ticket page)",
                "parameters": [{"name": "token", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": merge(ok("200", "The ticket", schema_ref("TicketStatus")), error_responses(&["404"]))}},
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
            "/api/windows/{n}/finish": window_action("The current ticket is done", None, ticket_detail(), &[]),
            "/api/windows/{n}/transfer": window_action("Send the current ticket to another service or window, keeping its place", Some("TransferRequest"), ticket_detail(), &[]),
            "/api/windows/{n}/open": window_action("Open the window", None, window_status(), &[]),
            "/api/windows/{n}/close": window_action("Close the window", None, window_status(), &[]),
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
