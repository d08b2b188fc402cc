//! The http layer: the accept loop (`conn`), the router (one per resource, merged here), the
//! handlers, who may ask (`auth`), rate limits and caps (`limits`), the one API error type (`error`), and the shared state
//! (`state`). It turns requests into engine requests and engine answers into JSON; the engine
//! knows nothing of it.

pub mod api;
pub mod auth;
pub mod bookings;
pub mod calendar;
pub mod cases;
pub mod conn;
pub mod error;
pub mod events;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod pads;
pub mod pages;
pub mod replication;
pub mod rota;
pub mod standby;
pub mod state;

use axum::Router;
use axum::routing::{delete, get, post, put};

pub use state::AppState;

use crate::{people, reports};

/// The whole HTTP surface: one router per resource, merged.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(hall(&state))
        .merge(calendar::routes())
        .merge(bookings::routes(&state))
        .merge(rota::routes())
        .merge(cases::routes())
        .merge(tickets(&state))
        .merge(services())
        .merge(windows(&state))
        .merge(tokens_and_devices())
        .merge(people_and_reports())
        .merge(pages_routes(&state))
        .fallback(pages::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            standby::wait_for_standby,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            standby::guard,
        ))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// The same surface for the public listener (`--public-listen`): only what a citizen's phone
/// needs (the ticket page, its status, the live stream, the booking page and its routes, the
/// pages' assets, health); every
/// other path is not found there, whatever credentials come with it.
pub fn public_router(state: AppState) -> Router {
    router(state).layer(axum::middleware::from_fn(public_only))
}

/// Whether a phone may reach `method path` on the public listener: the ticket page and what
/// it reads, and the booking page (预约) with the few booking routes a citizen uses (slots,
/// booking, verifying, cancelling). Staff booking routes (the list, check-in, settings
/// changes) are not here.
pub fn is_public_route(method: &axum::http::Method, path: &str) -> bool {
    use axum::http::Method;
    let token = |rest: &str| {
        !rest.is_empty()
            && rest.len() <= 64
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    // A booking code: letters and digits only (so never `check-in` or `slots`).
    let code = |rest: &str| {
        !rest.is_empty() && rest.len() <= 16 && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    };
    if method == Method::POST {
        // The phone's own rating of its finished ticket (一次一评).
        let rating = path
            .strip_prefix("/api/tickets/")
            .and_then(|rest| rest.strip_suffix("/rating"))
            .is_some_and(token);
        return rating
            || path == "/api/bookings"
            || path
                .strip_prefix("/api/bookings/")
                .and_then(|rest| rest.strip_suffix("/verify"))
                .is_some_and(code);
    }
    if method == Method::DELETE {
        return path.strip_prefix("/api/bookings/").is_some_and(code);
    }
    if method != Method::GET && method != Method::HEAD {
        return false;
    }
    match path {
        "/api/events" | "/api/health" | "/book" | "/api/bookings/slots" | "/api/services" => true,
        "/assets/app.css"
        | "/assets/common.js"
        | "/assets/ticket.js"
        | "/assets/book.js"
        | "/assets/favicon.svg" => true,
        _ => {
            path.strip_prefix("/t/").is_some_and(token)
                || path.strip_prefix("/api/tickets/").is_some_and(token)
                || path
                    .strip_prefix("/book/")
                    .is_some_and(|rest| code(rest.strip_suffix("/qr.svg").unwrap_or(rest)))
                || path
                    .strip_prefix("/api/services/")
                    .and_then(|rest| rest.strip_suffix("/booking"))
                    .is_some_and(token)
        }
    }
}

async fn public_only(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if is_public_route(request.method(), request.uri().path()) {
        next.run(request).await
    } else {
        pages::not_found(request.uri().clone()).await
    }
}

/// The routes a stranger can reach are limited per client address (`limits::public`).
macro_rules! limited {
    ($state:expr) => {
        axum::middleware::from_fn_with_state($state.clone(), limits::public)
    };
}

/// The hall as a whole: its view, settings, notices, the live stream, health, the API
/// description and the metrics.
fn hall(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/health", get(standby::health))
        .route("/api/promote", post(standby::promote))
        .route("/api/openapi.json", get(api::openapi))
        .route(
            "/api/hall",
            get(api::hall).layer(axum::middleware::from_fn_with_state(
                state.clone(),
                limits::public_unless_device,
            )),
        )
        .route(
            "/api/hall/settings",
            get(api::get_settings).put(api::put_settings),
        )
        .route("/api/hall/notices", put(api::put_notices))
        .route("/api/events", get(events::stream))
        .route("/api/replication", get(replication::stream))
        .route("/api/replication/ack", post(replication::acknowledge))
        .route("/api/advice", get(api::advice))
        .route("/metrics", get(metrics::metrics))
}

fn tickets(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/tickets", post(api::issue_ticket))
        .route(
            "/api/tickets/{token}",
            get(api::ticket_status).layer(limited!(state)),
        )
        .route(
            "/api/tickets/{token}/rating",
            post(api::rate_own_ticket).layer(limited!(state)),
        )
}

fn services() -> Router<AppState> {
    Router::new()
        .route(
            "/api/services",
            get(api::list_services).post(api::add_service),
        )
        .route(
            "/api/services/{code}",
            get(api::get_service)
                .put(api::put_service)
                .delete(api::delete_service),
        )
}

fn windows(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/windows", get(api::list_windows).post(api::add_window))
        .route(
            "/api/windows/{n}",
            get(api::get_window)
                .put(api::put_window)
                .delete(api::delete_window),
        )
        .route(
            "/api/windows/{n}/services",
            get(api::get_window_services).put(api::put_window_services),
        )
        .route(
            "/api/windows/{n}/call-next",
            post(api::call_next).layer(axum::middleware::from_fn_with_state(
                state.clone(),
                metrics::time_call_next,
            )),
        )
        .route("/api/windows/{n}/call", post(api::call_ticket))
        .route("/api/windows/{n}/recall", post(api::recall))
        .route("/api/windows/{n}/no-show", post(api::no_show))
        .route("/api/windows/{n}/finish", post(api::finish))
        .route("/api/windows/{n}/transfer", post(api::transfer))
        .route("/api/windows/{n}/open", post(api::open))
        .route("/api/windows/{n}/close", post(api::close))
        .route("/api/windows/{n}/pause", post(api::pause))
        .route("/api/windows/{n}/resume", post(api::resume))
        .route("/api/windows/{n}/queue", get(api::window_queue))
        .route(
            "/api/windows/{n}/rating",
            get(api::rating_prompt)
                .post(api::rate)
                .layer(limited!(state)),
        )
        .route("/api/windows/{n}/pairing", post(pads::create_code))
        .route(
            "/api/rating-pad",
            get(pads::me).post(pads::pair).layer(limited!(state)),
        )
        .route("/api/rating-pads", get(pads::list))
        .route("/api/rating-pads/{id}", delete(pads::unpair))
}

fn tokens_and_devices() -> Router<AppState> {
    Router::new()
        .route("/api/tokens", get(api::list_tokens).post(api::create_token))
        .route("/api/tokens/{id}", delete(api::revoke_token))
        .route(
            "/api/devices/problems",
            get(api::list_device_problems).post(api::report_device_problem),
        )
}

/// The signed-in people, and the reports and audit they read.
fn people_and_reports() -> Router<AppState> {
    Router::new()
        .route("/api/me", get(people::me))
        .route("/api/me/window", put(people::choose_window))
        .route(
            "/api/users",
            get(people::list_users).post(people::create_user),
        )
        .route("/api/users/{id}", delete(people::disable_user))
        .route("/api/reports", get(reports::report))
        .route("/api/reports/csv", get(reports::report_csv))
        .route("/api/audit", get(reports::audit))
}

/// The web pages: sign-in, counter, admin console, rating tablet, ticket page, assets.
fn pages_routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route(
            "/login",
            get(pages::login_page)
                .post(people::login)
                .layer(limited!(state)),
        )
        .route("/logout", post(people::logout))
        .route("/counter", get(pages::counter))
        .route("/admin", get(pages::admin))
        .route("/rate", get(pages::rate_pad))
        .route("/rate/{n}", get(pages::rate))
        .route("/t/{token}", get(pages::ticket).layer(limited!(state)))
        .route("/book", get(pages::book))
        .route("/book/{code}", get(pages::book_code).layer(limited!(state)))
        .route(
            "/book/{code}/qr.svg",
            get(pages::booking_qr).layer(limited!(state)),
        )
        .route(
            "/book/{code}/calendar.ics",
            get(pages::booking_ics).layer(limited!(state)),
        )
        .route("/assets/{name}", get(pages::asset))
}

/// Headers every answer carries: no MIME sniffing, no framing by other sites, no referrer
/// leaking a ticket page's token, and a content policy that allows only the hub itself.
async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'; base-uri 'none'"),
    );
    response
}
