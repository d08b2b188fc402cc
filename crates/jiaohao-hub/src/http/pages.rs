//! The pages the hub serves itself: sign-in, the counter, the rating tablet, the citizen's
//! ticket page and the admin console. Plain HTML, CSS and JavaScript embedded in the binary
//! (no build step); every script and style is a file of its own, so the content policy
//! `default-src 'self'` holds on every page. The pages talk to the same API as every other
//! client and follow `/api/events` live.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use jiaohao_store::Role;
use jiaohao_wire::text::escape_html;

use crate::http::auth::{MaybeSession, Principal};
use crate::http::state::AppState;

/// The cookie that ties the sign-in form to the browser it was sent to.
pub const LOGIN_COOKIE: &str = "jiaohao_login";

const LOGIN_HTML: &str = include_str!("../../assets/web/login.html");
const COUNTER_HTML: &str = include_str!("../../assets/web/counter.html");
const ADMIN_HTML: &str = include_str!("../../assets/web/admin.html");
const RATE_HTML: &str = include_str!("../../assets/web/rate.html");
const TICKET_HTML: &str = include_str!("../../assets/web/ticket.html");
const BOOK_HTML: &str = include_str!("../../assets/web/book.html");
const MESSAGE_HTML: &str = include_str!("../../assets/web/message.html");

/// The embedded files under `/assets/`: name, content type, content.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/web/app.css"),
    ),
    (
        "common.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/web/common.js"),
    ),
    (
        "counter.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/web/counter.js"),
    ),
    (
        "admin.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/web/admin.js"),
    ),
    (
        "rate.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/web/rate.js"),
    ),
    (
        "ticket.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/web/ticket.js"),
    ),
    (
        "book.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/web/book.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../assets/web/favicon.svg"),
    ),
];

/// A message for the sign-in form, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub zh: String,
    pub en: String,
}

impl Notice {
    pub fn expired() -> Notice {
        Notice {
            zh: "登录页面已过期，请重新输入用户名和密码。".into(),
            en: "The sign-in page had expired. Please enter your user name and password again."
                .into(),
        }
    }

    pub fn unavailable() -> Notice {
        Notice {
            zh: "系统暂时无法登录，请稍后再试；如仍不行，请联系管理员。".into(),
            en: "Signing in is not possible right now. Try again shortly, or call the administrator.".into(),
        }
    }

    /// `until` is an RFC 3339 instant; the form shows its local time of day.
    pub fn locked(until: &str) -> Notice {
        let time = until.get(11..16).unwrap_or(until);
        Notice {
            zh: format!("密码连续输错 5 次，该账户已锁定，请于 {time} 后再试，或联系管理员解锁。"),
            en: format!(
                "Five wrong passwords in a row: this account is locked. Try again after {time}, or ask the administrator."
            ),
        }
    }

    /// `left`: how many tries remain before the account locks, when the name was known.
    pub fn wrong_password(left: Option<u32>) -> Notice {
        match left {
            Some(left) if left > 0 && left < 4 => Notice {
                zh: format!("用户名或密码不正确。再输错 {left} 次，账户将锁定 15 分钟。"),
                en: format!(
                    "The user name or password is wrong. {left} more wrong tries lock the account for 15 minutes."
                ),
            },
            _ => Notice {
                zh: "用户名或密码不正确，请重新输入。".into(),
                en: "The user name or password is wrong. Please try again.".into(),
            },
        }
    }

    pub fn no_such_window(text: &str) -> Notice {
        Notice {
            zh: format!("没有“{text}”号窗口，请重新选择窗口。"),
            en: format!("There is no window “{text}”. Please choose your window again."),
        }
    }
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// Fills a page's `{{hall_zh}}` and `{{hall_en}}`.
fn with_hall(page: &str, state: &AppState) -> String {
    let view = state.hall_view();
    page.replace("{{hall_zh}}", &escape_html(&view.name_zh))
        .replace("{{hall_en}}", &escape_html(&view.name_en))
}

/// The sign-in page, with a fresh form token (also set as a cookie) and an optional notice.
pub fn login_response(
    state: &AppState,
    status: StatusCode,
    notice: Option<Notice>,
    username: &str,
    next: &str,
) -> Response {
    let token = crate::secret::csrf_token();
    let view = state.hall_view();
    let mut options = String::new();
    for window in &view.windows {
        options.push_str(&format!(
            "<option value=\"{n}\">{zh} · {en}</option>",
            n = window.number,
            zh = escape_html(&window.name_zh),
            en = escape_html(&window.name_en)
        ));
    }
    let notice = match notice {
        Some(notice) => format!(
            "<div class=\"notice error\" role=\"alert\" id=\"login-error\"><span class=\"zh\">{}</span><span class=\"en\">{}</span></div>",
            escape_html(&notice.zh),
            escape_html(&notice.en)
        ),
        None => String::new(),
    };
    let body = with_hall(LOGIN_HTML, state)
        .replace("{{notice}}", &notice)
        .replace("{{login_token}}", &token)
        .replace("{{username}}", &escape_html(username.trim()))
        .replace("{{next}}", &escape_html(next))
        .replace("{{window_options}}", &options);
    let mut response = html(status, body);
    if let Ok(cookie) = HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600"
    )) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

#[derive(Debug, serde::Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
}

pub async fn login_page(
    State(state): State<AppState>,
    axum::extract::Query(query): axum::extract::Query<LoginQuery>,
) -> Response {
    login_response(&state, StatusCode::OK, None, "", &query.next)
}

/// A page that only says something: no access, not found.
pub fn message(status: StatusCode, zh: (&str, &str), en: (&str, &str)) -> Response {
    let body = MESSAGE_HTML
        .replace("{{title_zh}}", &escape_html(zh.0))
        .replace("{{text_zh}}", &escape_html(zh.1))
        .replace("{{title_en}}", &escape_html(en.0))
        .replace("{{text_en}}", &escape_html(en.1));
    html(status, body)
}

fn to_login(next: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, format!("/login?next={next}"))],
    )
        .into_response()
}

/// A page for signed-in people with one of `roles`: others are told they may not, and nobody
/// is sent to sign in.
fn signed_in_page(
    who: Option<Principal>,
    roles: &[Role],
    path: &str,
    page: impl FnOnce() -> String,
    refused: (&str, &str),
) -> Response {
    match who {
        None => to_login(path),
        Some(who) if roles.contains(&who.role) => html(StatusCode::OK, page()),
        Some(_) => message(
            StatusCode::FORBIDDEN,
            ("无权访问此页面", refused.0),
            ("You may not open this page", refused.1),
        ),
    }
}

pub async fn home(MaybeSession(who): MaybeSession) -> Response {
    let target = match who.map(|w| w.role) {
        Some(Role::Clerk) => "/counter",
        Some(_) => "/admin",
        None => "/login",
    };
    (StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response()
}

pub async fn counter(State(state): State<AppState>, MaybeSession(who): MaybeSession) -> Response {
    signed_in_page(
        who,
        &[Role::Clerk, Role::Admin],
        "/counter",
        || with_hall(COUNTER_HTML, &state),
        (
            "柜台页面供窗口工作人员使用。请用窗口人员账户登录。",
            "The counter page is for window clerks. Please sign in with a clerk's account.",
        ),
    )
}

pub async fn admin(State(state): State<AppState>, MaybeSession(who): MaybeSession) -> Response {
    signed_in_page(
        who,
        &[Role::Admin, Role::Supervisor],
        "/admin",
        || with_hall(ADMIN_HTML, &state),
        (
            "管理页面仅供管理员和值班长使用。",
            "The admin console is for administrators and supervisors only.",
        ),
    )
}

pub async fn rate(State(state): State<AppState>, Path(n): Path<String>) -> Response {
    match jiaohao_core::WindowNumber::parse(&n) {
        Ok(number)
            if state
                .hall_view()
                .windows
                .iter()
                .any(|w| w.number == number.get()) =>
        {
            html(
                StatusCode::OK,
                with_hall(RATE_HTML, &state).replace("{{window}}", &number.get().to_string()),
            )
        }
        _ => not_found_page(),
    }
}

/// `/rate`: the rating pad's page before it knows its window; once paired it rates for the
/// window its cookie names.
pub async fn rate_pad(State(state): State<AppState>) -> Response {
    html(
        StatusCode::OK,
        with_hall(RATE_HTML, &state).replace("{{window}}", ""),
    )
}

pub async fn ticket(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    if token.is_empty() || token.len() > 128 || !token.chars().all(|c| c.is_ascii_alphanumeric()) {
        return not_found_page();
    }
    html(StatusCode::OK, with_hall(TICKET_HTML, &state))
}

pub async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some((_, content_type, body)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return not_found_page();
    };
    // The build's version tags the files, so a browser keeps nothing from an older hub.
    let etag = format!("\"{}-{}\"", env!("CARGO_PKG_VERSION"), body.len());
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag)
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, (*content_type).to_owned()),
            (header::CACHE_CONTROL, "no-cache".to_owned()),
            (header::ETAG, etag),
        ],
        *body,
    )
        .into_response()
}

fn not_found_page() -> Response {
    message(
        StatusCode::NOT_FOUND,
        ("找不到这个页面", "请检查网址，或回到首页。"),
        (
            "Page not found",
            "Please check the address, or go back to the start page.",
        ),
    )
}

/// Unknown routes: JSON under `/api`, a page elsewhere.
pub async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api") {
        crate::http::api::no_route().await.into_response()
    } else {
        not_found_page()
    }
}

/// The booking page (`/book`, and `/book/{code}` for a booking this phone made).
pub async fn book(State(state): State<AppState>) -> Response {
    html(StatusCode::OK, with_hall(BOOK_HTML, &state))
}

pub async fn book_code(State(state): State<AppState>, Path(code): Path<String>) -> Response {
    if jiaohao_core::BookingCode::parse(&code).is_err() {
        return not_found_page();
    }
    html(StatusCode::OK, with_hall(BOOK_HTML, &state))
}

/// A booking code as a QR code (SVG), for the kiosk's scanner or the citizen's screenshot.
pub async fn booking_qr(Path(code): Path<String>) -> Response {
    let Ok(code) = jiaohao_core::BookingCode::parse(&code) else {
        return not_found_page();
    };
    let Ok(qr) = qrcode::QrCode::new(code.as_str().as_bytes()) else {
        return not_found_page();
    };
    let width = qr.width();
    let colors = qr.to_colors();
    let quiet = 4;
    let size = width + 2 * quiet;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" shape-rendering=\"crispEdges\"><rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"#000\" d=\""
    );
    for (index, color) in colors.iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (x, y) = (index % width + quiet, index / width + quiet);
            svg.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    svg.push_str("\"/></svg>");
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response()
}

/// A booking as an iCalendar event, to add to the phone's calendar.
pub async fn booking_ics(State(state): State<AppState>, Path(code): Path<String>) -> Response {
    let Ok(code) = jiaohao_core::BookingCode::parse(&code) else {
        return not_found_page();
    };
    let found = state
        .writer
        .read(move |context| {
            let booking = context.hall.registry().booking(&code)?.clone();
            let service = context.hall.service(&booking.service)?;
            let name = format!("{} {}", service.name_zh, service.name_en);
            Some((booking, name, context.hall.settings().clone()))
        })
        .await;
    let Ok(Some((booking, service, hall))) = found else {
        return not_found_page();
    };
    let stamp = |time: jiaohao_core::ClockTime| {
        format!(
            "{:04}{:02}{:02}T{:02}{:02}00",
            booking.date.year,
            booking.date.month,
            booking.date.day,
            time.minutes() / 60,
            time.minutes() % 60
        )
    };
    let clean = |text: &str| text.replace(['\n', '\r', ',', ';'], " ");
    let body = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//jiaohao//booking//ZH\r\nBEGIN:VEVENT\r\nUID:{code}@jiaohao\r\nDTSTAMP:{start}\r\nDTSTART;TZID={zone}:{start}\r\nDTEND;TZID={zone}:{end}\r\nSUMMARY:预约 {service} ({code})\r\nLOCATION:{hall}\r\nDESCRIPTION:请提前到取号机签到 / Check in at the kiosk: {code}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        code = booking.code,
        start = stamp(booking.start),
        end = stamp(booking.end),
        zone = clean(&hall.timezone),
        service = clean(&service),
        hall = clean(&hall.name_zh),
    );
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}
