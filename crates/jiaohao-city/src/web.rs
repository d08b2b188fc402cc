//! The city's pages, behind the shared sign-in, Chinese first (English with `/lang?to=en`):
//! the live city board, a hall's drill-down, reports across halls for a range of days (with
//! CSV), bad ratings across halls, and the halls' registration (city admin). Rendered on the
//! server with the hall's admin console stylesheet; no script, so `default-src 'self'` holds.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiaohao_wire::text::escape_html;
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio_postgres::Client;

use crate::board::{self, LiveHalls};
use crate::users::{self, CityRole, Refused, SignedIn};
use crate::{CityError, KeyFile, halls, reports};

const COOKIE: &str = "jiaohao_city_session";
const LANG_COOKIE: &str = "jiaohao_city_lang";
const APP_CSS: &str = include_str!("../../jiaohao-hub/assets/web/app.css");
const CITY_CSS: &str = include_str!("../assets/city.css");

/// One PostgreSQL connection for the pages, made again when it ends.
#[derive(Clone)]
pub struct Db {
    url: String,
    client: Arc<Mutex<Option<Arc<Client>>>>,
}

impl Db {
    pub fn new(url: &str) -> Db {
        Db {
            url: url.to_owned(),
            client: Arc::new(Mutex::new(None)),
        }
    }

    pub async fn get(&self) -> Result<Arc<Client>, CityError> {
        let mut slot = self.client.lock().await;
        if let Some(client) = slot.as_ref()
            && !client.is_closed()
        {
            return Ok(client.clone());
        }
        let client = Arc::new(crate::db::connect(&self.url).await?);
        *slot = Some(client.clone());
        Ok(client)
    }
}

/// What the pages share.
#[derive(Clone)]
pub struct WebState {
    pub db: Db,
    pub live: LiveHalls,
    pub key: Arc<KeyFile>,
    /// Woken when the admin page registers a hall, so the supervisor follows it at once.
    pub halls_changed: Arc<tokio::sync::Notify>,
    /// The city's time zone (`--time-zone`).
    pub zone: CityZone,
}

/// The city's time zone: its name and the zone itself.
#[derive(Clone, Debug)]
pub struct CityZone {
    pub name: String,
    pub zone: jiff::tz::TimeZone,
}

impl CityZone {
    /// The zone of an IANA name such as `Asia/Shanghai`.
    pub fn new(name: &str) -> Result<CityZone, CityError> {
        let zone = jiff::tz::TimeZone::get(name).map_err(|_| {
            CityError::Invalid(format!(
                "'{name}' is not a time zone such as Asia/Shanghai or Asia/Urumqi"
            ))
        })?;
        Ok(CityZone {
            name: name.to_owned(),
            zone,
        })
    }

    /// Today's date in this zone.
    pub fn today(&self) -> jiff::civil::Date {
        self.zone.to_datetime(jiff::Timestamp::now()).date()
    }
}

impl Default for CityZone {
    /// Most of the country keeps Beijing time.
    fn default() -> CityZone {
        CityZone {
            name: "Asia/Shanghai".to_owned(),
            zone: jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC),
        }
    }
}

pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(board_page))
        .route("/halls/{id}", get(hall_page))
        .route("/reports", get(reports_page))
        .route("/reports.csv", get(reports_csv))
        .route("/reports/services.csv", get(reports_services_csv))
        .route("/ratings", get(ratings_page))
        .route("/admin/halls", get(admin_page).post(add_hall))
        .route("/admin/users", get(users_page).post(add_user))
        .route("/admin/users/disabled", post(set_user_disabled))
        .route("/admin/users/password", post(reset_user_password))
        .route(
            "/account/password",
            get(password_page).post(change_password),
        )
        .route("/api/board", get(board_json))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/lang", get(set_lang))
        .route("/assets/app.css", get(|| async { css(APP_CSS) }))
        .route("/assets/city.css", get(|| async { css(CITY_CSS) }))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn css(text: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], text).into_response()
}

/// Chinese and English side by side; the page shows one.
fn t(zh: &str, en: &str) -> String {
    format!(r#"<span class="zh">{zh}</span><span class="en">{en}</span>"#)
}

fn english(headers: &HeaderMap) -> bool {
    cookies(headers).any(|c| jiaohao_signin::web::cookie([c], LANG_COOKIE) == Some("en"))
}

fn cookies(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
}

fn page(
    headers: &HeaderMap,
    who: Option<&SignedIn>,
    tab: &str,
    title: (&str, &str),
    refresh: bool,
    body: &str,
) -> Response {
    let lang = if english(headers) {
        " class=\"lang-en\""
    } else {
        ""
    };
    let refresh = if refresh {
        r#"<meta http-equiv="refresh" content="10">"#
    } else {
        ""
    };
    let tabs = [
        ("board", "/", ("城市看板", "City board")),
        ("reports", "/reports", ("跨厅报表", "Reports")),
        ("ratings", "/ratings", ("差评", "Bad ratings")),
        ("admin", "/admin/halls", ("大厅接入", "Halls")),
        ("users", "/admin/users", ("用户管理", "Users")),
    ];
    let nav: String = match who {
        Some(who) => tabs
            .iter()
            .filter(|(key, ..)| !matches!(*key, "admin" | "users") || who.role == CityRole::Admin)
            .map(|(key, href, (zh, en))| {
                let active = if *key == tab { " class=\"active\"" } else { "" };
                format!(r#"<a href="{href}"{active}>{}</a>"#, t(zh, en))
            })
            .collect(),
        None => String::new(),
    };
    let user = match who {
        Some(who) => format!(
            r#"<div class="who"><a href="/account/password" id="account" title="{}">{}</a> · {}</div>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{}"><button type="submit">{}</button></form>"#,
            if english(headers) {
                "Change my password"
            } else {
                "修改密码"
            },
            escape_html(&who.name),
            match who.role {
                CityRole::Admin => t("市局管理员", "City admin"),
                CityRole::Viewer => t("查看", "Viewer"),
            },
            escape_html(&who.csrf),
            t("退出", "Sign out"),
        ),
        None => String::new(),
    };
    let (zh, en) = title;
    let language = if english(headers) {
        r#"<a class="button" href="/lang?to=zh">中文</a>"#
    } else {
        r#"<a class="button" href="/lang?to=en">English</a>"#
    };
    let html = format!(
        r#"<!doctype html>
<html lang="zh-CN"{lang}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{refresh}
<title>{zh} {en} · 市局平台</title>
<link rel="stylesheet" href="/assets/app.css">
<link rel="stylesheet" href="/assets/city.css">
</head>
<body>
<header class="topbar">
  <div class="hall">{}</div>
  <div class="page">{}</div>
  <div class="spacer"></div>
  {user}
  {language}
</header>
<nav class="tabs city-tabs">{nav}</nav>
<main class="panel">
{body}
</main>
</body>
</html>"#,
        t("市局平台", "City service"),
        t(zh, en),
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

fn failure(headers: &HeaderMap, error: &CityError) -> Response {
    tracing::warn!(%error, "a city page failed");
    let (status, zh, en) = match error {
        CityError::Invalid(message) => (
            StatusCode::BAD_REQUEST,
            "输入有误，请检查后重试。".to_owned(),
            escape_html(message),
        ),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            "数据库暂时无法访问，请稍后刷新页面。".to_owned(),
            "The database cannot be reached just now; reload the page in a moment.".to_owned(),
        ),
    };
    let mut response = page(
        headers,
        None,
        "",
        ("出错了", "Something went wrong"),
        false,
        &format!(r#"<div class="notice error">{}</div>"#, t(&zh, &en)),
    );
    *response.status_mut() = status;
    response
}

/// The signed-in user, or a redirect to the sign-in page.
async fn who(state: &WebState, headers: &HeaderMap, next: &str) -> Result<SignedIn, Response> {
    let secret = cookies(headers).find_map(|c| jiaohao_signin::web::cookie([c], COOKIE));
    if let Some(secret) = secret {
        let client = state.db.get().await.map_err(|e| failure(headers, &e))?;
        if let Some(who) = users::session(&*client, secret)
            .await
            .map_err(|e| failure(headers, &e))?
        {
            return Ok(who);
        }
    }
    Err(Redirect::to(&format!("/login?next={}", encode(next))).into_response())
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"/-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn same_origin(headers: &HeaderMap) -> bool {
    let get = |name| headers.get(name).map(|v| v.to_str().unwrap_or(""));
    jiaohao_signin::web::same_origin(get(header::ORIGIN), get(header::HOST))
}

#[derive(Deserialize)]
struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") => n.to_owned(),
        _ => "/".to_owned(),
    }
}

fn login_form(headers: &HeaderMap, next: &str, notice: &str) -> Response {
    page(
        headers,
        None,
        "",
        ("登录", "Sign in"),
        false,
        &format!(
            r#"<form class="card login" method="post" action="/login" autocomplete="off">
<h1>{}</h1>{notice}
<input type="hidden" name="next" value="{}">
<label for="username">{}</label><input id="username" name="username" autocapitalize="none" spellcheck="false" required autofocus>
<label for="password">{}</label><input id="password" name="password" type="password" required>
<p><button class="btn" type="submit" id="sign-in">{}</button></p>
</form>"#,
            t("市局平台登录", "City service sign-in"),
            escape_html(next),
            t("用户名", "User name"),
            t("密码", "Password"),
            t("登录", "Sign in"),
        ),
    )
}

async fn login_page(headers: HeaderMap, Query(query): Query<NextQuery>) -> Response {
    login_form(&headers, &safe_next(query.next.as_deref()), "")
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

async fn login(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    if !same_origin(&headers) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let client = match state.db.get().await {
        Ok(client) => client,
        Err(error) => return failure(&headers, &error),
    };
    match users::sign_in(&*client, &form.username, &form.password).await {
        Ok(Ok((secret, _))) => (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, next),
                (
                    header::SET_COOKIE,
                    jiaohao_signin::web::session_cookie(
                        COOKIE,
                        &secret,
                        jiaohao_signin::SESSION_MS / 1000,
                    ),
                ),
            ],
        )
            .into_response(),
        Ok(Err(refused)) => {
            let words = match refused {
                Refused::WrongPassword => t(
                    "用户名或密码不正确，请重新输入。",
                    "The user name or password is wrong; try again.",
                ),
                Refused::Disabled => t(
                    "该账号已被停用，请联系市局管理员。",
                    "This account is disabled; ask a city admin.",
                ),
                Refused::Locked => t(
                    "密码错误次数过多，账号已暂时锁定，请 15 分钟后再试。",
                    "Too many wrong passwords: the account is locked for 15 minutes.",
                ),
            };
            let mut response = login_form(
                &headers,
                &next,
                &format!(r#"<div class="notice error">{words}</div>"#),
            );
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response
        }
        Err(error) => failure(&headers, &error),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let who = match who(&state, &headers, "/").await {
        Ok(who) => who,
        Err(redirect) => return redirect,
    };
    if !same_origin(&headers) || !jiaohao_signin::secret::same(&form.csrf, &who.csrf) {
        return StatusCode::FORBIDDEN.into_response();
    }
    if let Some(secret) = cookies(&headers).find_map(|c| jiaohao_signin::web::cookie([c], COOKIE))
        && let Ok(client) = state.db.get().await
    {
        let _ = users::sign_out(&*client, secret).await;
    }
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/login".to_owned()),
            (
                header::SET_COOKIE,
                jiaohao_signin::web::clear_cookie(COOKIE),
            ),
        ],
    )
        .into_response()
}

#[derive(Deserialize)]
struct LangQuery {
    to: String,
}

async fn set_lang(Query(query): Query<LangQuery>) -> Response {
    let value = if query.to == "en" { "en" } else { "zh" };
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/".to_owned()),
            (
                header::SET_COOKIE,
                format!("{LANG_COOKIE}={value}; Path=/; SameSite=Strict; Max-Age=31536000"),
            ),
        ],
    )
        .into_response()
}

fn link_badge(row: &board::BoardRow) -> String {
    match row.link.as_str() {
        "connected" => match row.live.as_ref().and_then(|l| l.pressure) {
            Some(p) if p > 1.0 => format!(
                r#"<span class="badge red">{}</span>"#,
                t("超时限", "Over target")
            ),
            Some(p) if p > 0.7 => {
                format!(r#"<span class="badge amber">{}</span>"#, t("繁忙", "Busy"))
            }
            _ => format!(
                r#"<span class="badge green">{}</span>"#,
                t("正常", "Normal")
            ),
        },
        "token_refused" => format!(
            r#"<span class="badge red">{}</span>"#,
            t("令牌被拒绝（已吊销？）", "Token refused (revoked?)")
        ),
        "never" => format!(
            r#"<span class="badge grey">{}</span>"#,
            t("尚未连接", "Never connected")
        ),
        _ => {
            let (zh, en) = down_for(row.link_for_s);
            let since = escape_html(&row.link_since);
            format!(
                r#"<span class="badge red">{}</span> <span class="muted link-since">{}</span>"#,
                t(&format!("已断开 {zh}"), &format!("Down for {en}")),
                t(&format!("{since} 起"), &format!("since {since}")),
            )
        }
    }
}

/// How long a link is down, in words: under a minute, minutes, hours and minutes, days and
/// hours; (Chinese, English).
fn down_for(seconds: i64) -> (String, String) {
    let minutes = seconds.max(0) / 60;
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    if minutes == 0 {
        ("不到 1 分钟".into(), "under a minute".into())
    } else if minutes < 60 {
        (format!("{mins} 分钟"), format!("{mins} min"))
    } else if days == 0 {
        (
            format!("{hours} 小时 {mins} 分"),
            format!("{hours} h {mins} min"),
        )
    } else {
        (
            format!("{days} 天 {hours} 小时"),
            format!("{days} d {hours} h"),
        )
    }
}

/// The hall's time zone after its times, when it is not the city's (`--time-zone`).
fn zone_note(row: &board::BoardRow, city: &CityZone) -> String {
    if row.timezone == city.name {
        String::new()
    } else {
        format!(
            r#" <span class="muted">{}</span>"#,
            escape_html(&row.timezone)
        )
    }
}

fn whole(value: Option<u32>) -> String {
    value.map_or("—".into(), |v| v.to_string())
}

fn opt_min(value: Option<f64>) -> String {
    value.map_or("—".into(), |v| format!("{v:.1}"))
}

async fn board_page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let who = match who(&state, &headers, "/").await {
        Ok(who) => who,
        Err(redirect) => return redirect,
    };
    let client = match state.db.get().await {
        Ok(client) => client,
        Err(error) => return failure(&headers, &error),
    };
    let rows = match board::board(&*client, &state.live).await {
        Ok(rows) => rows,
        Err(error) => return failure(&headers, &error),
    };
    let mut table = format!(
        r#"<table class="city-board"><thead><tr><th>{}</th><th>{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th>{}</th></tr></thead><tbody>"#,
        t("大厅", "Hall"),
        t("状态", "State"),
        t("开放窗口", "Open windows"),
        t("等候人数", "Waiting"),
        t("最长预计等待（分钟）", "Longest projected wait (min)"),
        t("时限", "Target"),
        t("最后记录", "Last record"),
    );
    for row in &rows {
        let live = row.live.as_ref();
        table.push_str(&format!(
            r#"<tr><td><a href="/halls/{}">{}</a></td><td>{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="num">{}</td></tr>"#,
            row.id,
            escape_html(&row.name),
            link_badge(row),
            live.map_or("—".into(), |l| l.open_windows.to_string()),
            live.map_or("—".into(), |l| l.waiting.to_string()),
            whole(live.and_then(|l| l.longest_wait_min)),
            live.and_then(|l| l.longest_target_min).map_or("—".into(), |m| m.to_string()),
            escape_html(row.last_record_at.as_deref().unwrap_or("—")) + &zone_note(row, &state.zone),
        ));
    }
    table.push_str("</tbody></table>");
    if rows.is_empty() {
        table = format!(
            r#"<div class="notice">{}</div>"#,
            t(
                "尚未接入任何大厅。市局管理员可在“大厅接入”中添加。",
                "No hall is registered yet. A city admin adds halls under Halls."
            )
        );
    }
    page(
        &headers,
        Some(&who),
        "board",
        ("城市看板", "City board"),
        true,
        &format!(
            r#"<h2>{}</h2><p class="muted">{}</p>{table}"#,
            t("各大厅实况", "Every hall now"),
            t(
                "按压力排序：预计等待与时限之比最高者在前。每 10 秒刷新。",
                "Sorted by pressure: the longest projected wait against its target first. Refreshes every 10 s."
            )
        ),
    )
}

async fn board_json(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let who = who(&state, &headers, "/").await;
    if who.is_err() {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({"error": "sign in first", "code": "unauthorized"})),
        )
            .into_response();
    }
    let client = match state.db.get().await {
        Ok(client) => client,
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
    };
    match board::board(&*client, &state.live).await {
        Ok(rows) => axum::Json(rows).into_response(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

async fn hall_page(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<i32>,
) -> Response {
    let who = match who(&state, &headers, &format!("/halls/{id}")).await {
        Ok(who) => who,
        Err(redirect) => return redirect,
    };
    let client = match state.db.get().await {
        Ok(client) => client,
        Err(error) => return failure(&headers, &error),
    };
    let rows = match board::board(&*client, &state.live).await {
        Ok(rows) => rows,
        Err(error) => return failure(&headers, &error),
    };
    let Some(row) = rows.into_iter().find(|r| r.id == id) else {
        return failure(&headers, &CityError::Invalid(format!("no hall {id}")));
    };
    let mut body = format!(
        r#"<h2>{}</h2><p>{} · {} {} · {} {} · {} {}</p>"#,
        escape_html(&row.name),
        link_badge(&row),
        t("最后记录", "Last record"),
        escape_html(row.last_record_at.as_deref().unwrap_or("—")),
        t("记录序号", "Records up to"),
        row.last_seq,
        t("大厅时区", "Hall's time zone"),
        escape_html(&row.timezone),
    );
    match &row.live {
        Some(live) => {
            body.push_str(&format!(
                r#"<h3>{}</h3><table><thead><tr><th>{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th></tr></thead><tbody>"#,
                t("业务", "Services"),
                t("业务", "Service"),
                t("等候", "Waiting"),
                t("新取号预计等待（分钟）", "Projected wait of a new ticket (min)"),
                t("等候时限（分钟）", "Wait target (min)"),
            ));
            for s in &live.services {
                body.push_str(&format!(
                    r#"<tr><td>{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td></tr>"#,
                    t(&escape_html(&s.name_zh), &escape_html(&s.name_en)),
                    s.waiting,
                    whole(s.projected_wait_min),
                    s.target_min
                ));
            }
            body.push_str(&format!(
                r#"</tbody></table><h3>{}</h3><table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>"#,
                t("窗口", "Windows"),
                t("窗口", "Window"),
                t("状态", "State"),
                t("正在办理", "Serving"),
            ));
            for w in &live.windows {
                let state = match w.state {
                    "open" => t("空闲", "Idle"),
                    "serving" => t("办理中", "Serving"),
                    "paused" => t("暂停服务", "Paused"),
                    _ => t("关闭", "Closed"),
                };
                body.push_str(&format!(
                    r#"<tr><td class="num">{}</td><td>{state}</td><td class="num">{}</td></tr>"#,
                    w.number,
                    escape_html(w.serving.as_deref().unwrap_or("—"))
                ));
            }
            body.push_str("</tbody></table>");
        }
        None => body.push_str(&format!(
            r#"<div class="notice">{}</div>"#,
            t(
                "尚无该大厅的实时状态（未连接或尚无记录）。",
                "No live state of this hall yet (not connected, or no records)."
            )
        )),
    }
    match recent_days(&client, id).await {
        Ok(days) => body.push_str(&days),
        Err(error) => return failure(&headers, &error),
    }
    page(
        &headers,
        Some(&who),
        "board",
        ("大厅详情", "Hall"),
        true,
        &body,
    )
}

/// The hall's last 14 days with tickets, from the per-day sums.
async fn recent_days(client: &Client, hall: i32) -> Result<String, CityError> {
    let rows = client
        .query(
            "SELECT day::text, issued, called, served, no_shows, wait_sum, judged, within_target,
                    rated_5 * 5 + rated_4 * 4 + rated_3 * 3 + rated_2 * 2 + rated_1,
                    rated_5 + rated_4 + rated_3 + rated_2 + rated_1, rated_2 + rated_1
             FROM hall_days WHERE hall = $1 ORDER BY day DESC LIMIT 14",
            &[&hall],
        )
        .await?;
    let mut out = format!(
        r#"<h3>{}</h3><table><thead><tr><th>{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th></tr></thead><tbody>"#,
        t("近 14 个办公日", "The last 14 days open"),
        t("日期", "Day"),
        t("取号", "Issued"),
        t("叫号", "Called"),
        t("办结", "Served"),
        t("过号", "No-shows"),
        t("平均等待（分钟）", "Mean wait (min)"),
        t("时限内 %", "Within target %"),
        t("满意度", "Rating mean"),
        t("差评", "Bad ratings"),
    );
    for r in &rows {
        let called: i64 = r.get(2);
        let wait_sum: i64 = r.get(5);
        let judged: i64 = r.get(6);
        let within: i64 = r.get(7);
        let score: i64 = r.get(8);
        let rated: i64 = r.get(9);
        let bad: i64 = r.get(10);
        out.push_str(&format!(
            r#"<tr><td class="num">{}</td><td class="n num">{}</td><td class="n num">{called}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{bad}</td></tr>"#,
            r.get::<_, String>(0),
            r.get::<_, i64>(1),
            r.get::<_, i64>(3),
            r.get::<_, i64>(4),
            opt_min((called > 0).then(|| {
                (wait_sum as f64 / called as f64 / 60_000.0 * 10.0).round() / 10.0
            })),
            opt_min((judged > 0).then(|| (1000.0 * within as f64 / judged as f64).round() / 10.0)),
            if rated > 0 {
                format!("{:.2}", score as f64 / rated as f64)
            } else {
                "—".into()
            },
        ));
    }
    out.push_str("</tbody></table>");
    Ok(out)
}

#[derive(Deserialize)]
struct RangeQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

/// The range a page asks for; by default from the first of this month to today, in the
/// city's time zone.
/// What a page over a range of days starts with: who is signed in (else the way to sign in,
/// back to `back`), the range asked for (see [`range_of`]) and a database client; or the
/// answer that ends it.
async fn ranged(
    state: &WebState,
    headers: &HeaderMap,
    query: &RangeQuery,
    back: &str,
) -> Result<
    (
        SignedIn,
        jiaohao_core::LocalDate,
        jiaohao_core::LocalDate,
        Arc<Client>,
    ),
    Response,
> {
    let who = who(state, headers, back).await?;
    let (from, to) = range_of(&state.zone, query).map_err(|error| failure(headers, &error))?;
    let client = state
        .db
        .get()
        .await
        .map_err(|error| failure(headers, &error))?;
    Ok((who, from, to, client))
}

fn range_of(
    zone: &CityZone,
    query: &RangeQuery,
) -> Result<(jiaohao_core::LocalDate, jiaohao_core::LocalDate), CityError> {
    let today = zone.today();
    let default_from = today.first_of_month().to_string();
    let from = query
        .from
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or(default_from);
    let to = query
        .to
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or(today.to_string());
    reports::parse_range(&from, &to)
}

fn range_form(action: &str, from: &str, to: &str, extra: &str) -> String {
    format!(
        r#"<form class="card range" method="get" action="{action}"><label for="from">{}</label><input id="from" name="from" type="date" value="{from}"><label for="to">{}</label><input id="to" name="to" type="date" value="{to}"> <button class="btn" type="submit">{}</button> {extra}</form>"#,
        t("起始日期", "From"),
        t("截止日期", "To"),
        t("查询", "Show"),
    )
}

async fn reports_page(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(query): Query<RangeQuery>,
) -> Response {
    let (who, from, to, client) = match ranged(&state, &headers, &query, "/reports").await {
        Ok(parts) => parts,
        Err(answer) => return answer,
    };
    let rows = match reports::across_halls(&*client, from, to).await {
        Ok(rows) => rows,
        Err(error) => return failure(&headers, &error),
    };
    let by_service = match reports::across_halls_by_service(&*client, from, to).await {
        Ok(rows) => rows,
        Err(error) => return failure(&headers, &error),
    };
    let csv_link = format!(
        r#"<a class="btn secondary" href="/reports.csv?from={from}&amp;to={to}">{}</a> <a class="btn secondary" href="/reports/services.csv?from={from}&amp;to={to}">{}</a>"#,
        t("下载 CSV", "Download CSV"),
        t("按服务下载 CSV", "Download CSV by service")
    );
    let mut body = range_form("/reports", &from.to_string(), &to.to_string(), &csv_link);
    body.push_str(&format!(
        r#"<table><thead><tr><th>{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th></tr></thead><tbody>"#,
        t("大厅", "Hall"),
        t("取号", "Issued"),
        t("叫号", "Called"),
        t("办结", "Served"),
        t("过号", "No-shows"),
        t("平均等待", "Mean wait"),
        t("P90 等待", "P90 wait"),
        t("平均办理", "Mean handling"),
        t("时限内 %", "Within target %"),
        t("满意度", "Rating mean"),
        t("差评工单", "Cases"),
        t("回访率", "Callback rate"),
        t("按期整改率", "Fixed in time"),
    ));
    for r in &rows {
        body.push_str(&format!(
            r#"<tr><td>{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td></tr>"#,
            escape_html(&r.hall),
            r.issued,
            r.called,
            r.served,
            r.no_shows,
            opt_min(r.mean_wait_min),
            opt_min(r.p90_wait_min),
            opt_min(r.mean_handling_min),
            opt_min(r.within_target_pct),
            r.rating_mean.map_or("—".into(), |v| format!("{v:.2}")),
            if r.cases_overdue > 0 {
                format!(
                    r#"{} <span class="badge red">{} {}</span>"#,
                    r.cases,
                    r.cases_overdue,
                    t("件超期", "overdue")
                )
            } else {
                r.cases.to_string()
            },
            r.callback_pct.map_or("—".into(), |v| format!("{v}%")),
            r.fixed_in_time_pct.map_or("—".into(), |v| format!("{v}%")),
        ));
    }
    body.push_str("</tbody></table>");
    body.push_str(&services_table(&by_service));
    page(
        &headers,
        Some(&who),
        "reports",
        ("跨厅报表", "Reports across halls"),
        false,
        &body,
    )
}

async fn reports_csv(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(query): Query<RangeQuery>,
) -> Response {
    let (_, from, to, client) = match ranged(&state, &headers, &query, "/reports").await {
        Ok(parts) => parts,
        Err(answer) => return answer,
    };
    match reports::across_halls(&*client, from, to).await {
        Ok(rows) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"jiaohao-city-{from}_{to}.csv\""),
                ),
            ],
            reports::csv(&rows),
        )
            .into_response(),
        Err(error) => failure(&headers, &error),
    }
}

/// The report per hall and service: one row per service that had tickets in each hall.
fn services_table(rows: &[reports::ServiceFigures]) -> String {
    let mut out = format!(
        r#"<h2>{}</h2><table id="by-service"><thead><tr><th>{}</th><th>{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th></tr></thead><tbody>"#,
        t("按大厅和服务", "By hall and service"),
        t("大厅", "Hall"),
        t("服务", "Service"),
        t("取号", "Issued"),
        t("叫号", "Called"),
        t("办结", "Served"),
        t("过号", "No-shows"),
        t("平均等待", "Mean wait"),
        t("P90 等待", "P90 wait"),
        t("平均办理", "Mean handling"),
        t("时限内 %", "Within target %"),
        t("满意度", "Rating mean"),
    );
    for row in rows {
        let r = &row.figures;
        out.push_str(&format!(
            r#"<tr><td>{}</td><td>{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td><td class="n num">{}</td></tr>"#,
            escape_html(&r.hall),
            escape_html(&row.service),
            r.issued,
            r.called,
            r.served,
            r.no_shows,
            opt_min(r.mean_wait_min),
            opt_min(r.p90_wait_min),
            opt_min(r.mean_handling_min),
            opt_min(r.within_target_pct),
            r.rating_mean.map_or("—".into(), |v| format!("{v:.2}")),
        ));
    }
    out.push_str("</tbody></table>");
    out
}

async fn reports_services_csv(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(query): Query<RangeQuery>,
) -> Response {
    let (_, from, to, client) = match ranged(&state, &headers, &query, "/reports").await {
        Ok(parts) => parts,
        Err(answer) => return answer,
    };
    match reports::across_halls_by_service(&*client, from, to).await {
        Ok(rows) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"jiaohao-city-services-{from}_{to}.csv\""),
                ),
            ],
            reports::services_csv(&rows),
        )
            .into_response(),
        Err(error) => failure(&headers, &error),
    }
}

async fn ratings_page(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(query): Query<RangeQuery>,
) -> Response {
    let (who, from, to, client) = match ranged(&state, &headers, &query, "/ratings").await {
        Ok(parts) => parts,
        Err(answer) => return answer,
    };
    let rows = match reports::bad_ratings(&*client, from, to).await {
        Ok(rows) => rows,
        Err(error) => return failure(&headers, &error),
    };
    let mut body = range_form("/ratings", &from.to_string(), &to.to_string(), "");
    body.push_str(&format!(
        r#"<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>"#,
        t("评价时间", "Rated at"),
        t("大厅", "Hall"),
        t("号票", "Ticket"),
        t("业务", "Service"),
        t("窗口", "Window"),
        t("工作人员", "Clerk"),
        t("评价", "Rating"),
        t("原因", "Reason"),
        t("工单状态", "Case"),
        t("整改时限", "Fix due"),
    ));
    for r in &rows {
        let rating = if r.rating == 1 {
            t("非常不满意", "Very dissatisfied")
        } else {
            t("不满意", "Dissatisfied")
        };
        let reason = match r.reason.as_deref() {
            Some("attitude") => t("服务态度", "Attitude"),
            Some("waiting") => t("等候时间长", "Long wait"),
            Some("requirements_unclear") => t("告知不清", "Requirements unclear"),
            Some(_) => t("其他", "Other"),
            None => "—".into(),
        };
        let state = match r.case_state.as_deref() {
            Some("open") => t("待回访", "Open"),
            Some("called_back") => t("已回访", "Called back"),
            Some("fixed") => t("已整改", "Fixed"),
            Some("closed") => t("已办结", "Closed"),
            Some(other) => escape_html(other),
            None => "—".into(),
        };
        // Overdue in words as well as in red, not by colour alone.
        let overdue = if r.case_overdue {
            format!(
                r#" <span class="badge red">{}</span>"#,
                t("已超期", "Overdue")
            )
        } else {
            String::new()
        };
        body.push_str(&format!(
            r#"<tr><td class="num">{}</td><td>{}</td><td class="num">{}</td><td>{}</td><td class="num">{}</td><td>{}</td><td><span class="badge red">{rating}</span></td><td>{reason}</td><td>{state}{overdue}</td><td class="num">{}</td></tr>"#,
            escape_html(r.rated_at.as_deref().unwrap_or(&r.day)),
            escape_html(&r.hall),
            escape_html(&r.number),
            escape_html(&r.service),
            r.window.map_or("—".into(), |w| w.to_string()),
            escape_html(r.clerk.as_deref().unwrap_or("—")),
            escape_html(r.case_due.as_deref().unwrap_or("—")),
        ));
    }
    body.push_str("</tbody></table>");
    if rows.is_empty() {
        body.push_str(&format!(
            r#"<div class="notice ok">{}</div>"#,
            t("该时段内没有差评。", "No bad ratings in this range.")
        ));
    }
    page(
        &headers,
        Some(&who),
        "ratings",
        ("差评", "Bad ratings"),
        false,
        &body,
    )
}

async fn admin_page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let who = match who(&state, &headers, "/admin/halls").await {
        Ok(who) => who,
        Err(redirect) => return redirect,
    };
    admin_view(&state, &headers, &who, "").await
}

async fn admin_view(
    state: &WebState,
    headers: &HeaderMap,
    who: &SignedIn,
    notice: &str,
) -> Response {
    if who.role != CityRole::Admin {
        return admin_only(headers, who, "admin", ("大厅接入", "Halls"));
    }
    let client = match state.db.get().await {
        Ok(client) => client,
        Err(error) => return failure(headers, &error),
    };
    let list = match halls::list(&*client).await {
        Ok(list) => list,
        Err(error) => return failure(headers, &error),
    };
    let mut body = format!(
        "{notice}<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t("大厅", "Hall"),
        t("地址", "Address"),
        t("接入令牌", "Ingest token")
    );
    for hall in &list {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape_html(&hall.name),
            escape_html(&hall.url),
            t(
                "已加密保存，不再显示",
                "Stored encrypted, never shown again"
            )
        ));
    }
    body.push_str(&format!(
        r#"</tbody></table>
<form class="card" method="post" action="/admin/halls" autocomplete="off">
<h3>{}</h3>
<input type="hidden" name="csrf" value="{}">
<label for="name">{}</label><input id="name" name="name" required>
<label for="url">{}</label><input id="url" name="url" placeholder="http://192.168.1.20:8080" required>
<label for="token">{}</label><input id="token" name="token" type="password" required>
<p><button class="btn" type="submit" id="add-hall">{}</button></p>
</form>"#,
        t("接入新大厅", "Register a hall"),
        escape_html(&who.csrf),
        t("大厅名称", "Hall name"),
        t("大厅地址", "Hall address"),
        t("大厅的 ingest 令牌（保存后不再显示）", "The hall's ingest token (never shown again)"),
        t("添加", "Add"),
    ));
    page(
        headers,
        Some(who),
        "admin",
        ("大厅接入", "Halls"),
        false,
        &body,
    )
}

#[derive(Deserialize)]
struct HallForm {
    csrf: String,
    name: String,
    url: String,
    token: String,
}

async fn add_hall(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<HallForm>,
) -> Response {
    let who = match who(&state, &headers, "/admin/halls").await {
        Ok(who) => who,
        Err(redirect) => return redirect,
    };
    if who.role != CityRole::Admin
        || !same_origin(&headers)
        || !jiaohao_signin::secret::same(&form.csrf, &who.csrf)
    {
        return StatusCode::FORBIDDEN.into_response();
    }
    let client = match state.db.get().await {
        Ok(client) => client,
        Err(error) => return failure(&headers, &error),
    };
    match halls::add(&*client, &state.key, &form.name, &form.url, &form.token).await {
        Ok(_) => {
            state.halls_changed.notify_one();
            let notice = format!(
                r#"<div class="notice ok">{}</div>"#,
                t("已添加，正在连接。", "Added; connecting.")
            );
            admin_view(&state, &headers, &who, &notice).await
        }
        Err(CityError::Invalid(message)) => {
            let notice = format!(
                r#"<div class="notice error">{}</div>"#,
                t("无法添加：", "Not added: ") + &escape_html(&message)
            );
            admin_view(&state, &headers, &who, &notice).await
        }
        Err(error) => failure(&headers, &error),
    }
}

/// The "only a city admin" page, 403.
fn admin_only(headers: &HeaderMap, who: &SignedIn, tab: &str, title: (&str, &str)) -> Response {
    let mut response = page(
        headers,
        Some(who),
        tab,
        title,
        false,
        &format!(
            r#"<div class="notice error">{}</div>"#,
            t(
                "仅市局管理员可使用此页面。",
                "Only a city admin uses this page."
            )
        ),
    );
    *response.status_mut() = StatusCode::FORBIDDEN;
    response
}

async fn users_page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let who = match who(&state, &headers, "/admin/users").await {
        Ok(who) => who,
        Err(redirect) => return redirect,
    };
    users_view(&state, &headers, &who, "").await
}

async fn users_view(
    state: &WebState,
    headers: &HeaderMap,
    who: &SignedIn,
    notice: &str,
) -> Response {
    const TITLE: (&str, &str) = ("用户管理", "Users");
    if who.role != CityRole::Admin {
        return admin_only(headers, who, "users", TITLE);
    }
    let client = match state.db.get().await {
        Ok(client) => client,
        Err(error) => return failure(headers, &error),
    };
    let list = match users::list(&*client).await {
        Ok(list) => list,
        Err(error) => return failure(headers, &error),
    };
    let mut body = format!(
        r#"{notice}<table id="users"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>"#,
        t("用户名", "User name"),
        t("角色", "Role"),
        t("状态", "State"),
    );
    for user in &list {
        let role = match user.role {
            CityRole::Admin => t("市局管理员", "City admin"),
            CityRole::Viewer => t("查看", "Viewer"),
        };
        let (state_badge, action, label) = if user.disabled {
            (
                format!(
                    r#"<span class="badge grey">{}</span>"#,
                    t("已停用", "Disabled")
                ),
                "false",
                t("启用", "Enable"),
            )
        } else {
            (
                format!(
                    r#"<span class="badge green">{}</span>"#,
                    t("正常", "Active")
                ),
                "true",
                t("停用", "Disable"),
            )
        };
        // Nobody disables themselves: the last admin would lock the city out.
        let button = if user.name == who.name {
            String::new()
        } else {
            format!(
                r#"<form method="post" action="/admin/users/disabled"><input type="hidden" name="csrf" value="{}"><input type="hidden" name="name" value="{}"><input type="hidden" name="disabled" value="{action}"><button class="btn secondary" type="submit" id="toggle-{}">{label}</button></form>"#,
                escape_html(&who.csrf),
                escape_html(&user.name),
                escape_html(&user.name),
            )
        };
        // Their own password: on the account page, with the current one.
        let reset = if user.name == who.name {
            String::new()
        } else {
            format!(
                r#"<form method="post" action="/admin/users/password" autocomplete="off"><input type="hidden" name="csrf" value="{}"><input type="hidden" name="name" value="{}"><input name="password" type="password" minlength="8" required aria-label="{}" id="reset-password-{}"> <button class="btn secondary" type="submit" id="reset-{}">{}</button></form>"#,
                escape_html(&who.csrf),
                escape_html(&user.name),
                if english(headers) {
                    "New password"
                } else {
                    "新密码"
                },
                escape_html(&user.name),
                escape_html(&user.name),
                t("重置密码", "Reset password"),
            )
        };
        body.push_str(&format!(
            r#"<tr><td>{}</td><td>{role}</td><td>{state_badge}</td><td>{button}{reset}</td></tr>"#,
            escape_html(&user.name)
        ));
    }
    body.push_str(&format!(
        r#"</tbody></table>
<form class="card" method="post" action="/admin/users" autocomplete="off">
<h3>{}</h3>
<input type="hidden" name="csrf" value="{}">
<label for="new-name">{}</label><input id="new-name" name="name" autocapitalize="none" spellcheck="false" required>
<label for="new-role">{}</label><select id="new-role" name="role"><option value="viewer">{}</option><option value="city_admin">{}</option></select>
<label for="new-password">{}</label><input id="new-password" name="password" type="password" minlength="8" required>
<p><button class="btn" type="submit" id="add-user">{}</button></p>
</form>"#,
        t("添加用户", "Add a user"),
        escape_html(&who.csrf),
        t("用户名（小写字母、数字）", "User name (lower-case letters, digits)"),
        t("角色", "Role"),
        // An <option> holds plain text only: the page's language, not both.
        if english(headers) { "Viewer" } else { "查看" },
        if english(headers) { "City admin" } else { "市局管理员" },
        t("初始密码（至少 8 位）", "First password (8 characters or more)"),
        t("添加", "Add"),
    ));
    page(headers, Some(who), "users", TITLE, false, &body)
}

#[derive(Deserialize)]
struct UserForm {
    csrf: String,
    name: String,
    role: String,
    password: String,
}

/// The signed-in city admin of a form post, or the answer refusing it.
async fn admin_post(
    state: &WebState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<SignedIn, Response> {
    let who = who(state, headers, "/admin/users").await?;
    if who.role != CityRole::Admin
        || !same_origin(headers)
        || !jiaohao_signin::secret::same(csrf, &who.csrf)
    {
        return Err(StatusCode::FORBIDDEN.into_response());
    }
    Ok(who)
}

fn notice(ok: bool, text: String) -> String {
    let class = if ok { "ok" } else { "error" };
    format!(r#"<div class="notice {class}">{text}</div>"#)
}

/// A city admin's change on the users page: the post is checked as [`admin_post`] does, then
/// `change` runs with the admin and a database connection and says what happened (a notice),
/// and the page is shown again with it. A database failure is the failure page.
async fn users_change(
    state: &WebState,
    headers: &HeaderMap,
    csrf: &str,
    change: impl AsyncFnOnce(&SignedIn, &Client) -> Result<String, CityError>,
) -> Response {
    let who = match admin_post(state, headers, csrf).await {
        Ok(who) => who,
        Err(response) => return response,
    };
    let client = match state.db.get().await {
        Ok(client) => client,
        Err(error) => return failure(headers, &error),
    };
    match change(&who, &client).await {
        Ok(said) => users_view(state, headers, &who, &said).await,
        Err(error) => failure(headers, &error),
    }
}

async fn add_user(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<UserForm>,
) -> Response {
    let Some(role) = CityRole::parse(&form.role) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    users_change(&state, &headers, &form.csrf, async |_, client| {
        Ok(
            match users::create(client, &form.name, role, &form.password).await {
                Ok(()) => notice(
                    true,
                    t("已添加用户 ", "Added user ") + &escape_html(form.name.trim()),
                ),
                Err(CityError::Invalid(message)) => notice(
                    false,
                    t("无法添加：", "Not added: ") + &escape_html(&message),
                ),
                Err(error) => return Err(error),
            },
        )
    })
    .await
}

#[derive(Deserialize)]
struct DisableForm {
    csrf: String,
    name: String,
    disabled: bool,
}

async fn set_user_disabled(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<DisableForm>,
) -> Response {
    users_change(&state, &headers, &form.csrf, async |who, client| {
        if form.name == who.name {
            return Ok(notice(
                false,
                t(
                    "不能停用自己的账号。",
                    "You cannot disable your own account.",
                ),
            ));
        }
        Ok(
            match users::set_disabled(client, &form.name, form.disabled).await? {
                true if form.disabled => {
                    notice(true, t("已停用 ", "Disabled ") + &escape_html(&form.name))
                }
                true => notice(true, t("已启用 ", "Enabled ") + &escape_html(&form.name)),
                false => notice(
                    false,
                    t("没有该用户：", "No such user: ") + &escape_html(&form.name),
                ),
            },
        )
    })
    .await
}

#[derive(Deserialize)]
struct ResetForm {
    csrf: String,
    name: String,
    password: String,
}

/// A city admin sets another user's password.
async fn reset_user_password(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<ResetForm>,
) -> Response {
    users_change(&state, &headers, &form.csrf, async |who, client| {
        if form.name == who.name {
            return Ok(notice(
                false,
                t(
                    "自己的密码请在“修改密码”页面修改。",
                    "Change your own password on the account page.",
                ),
            ));
        }
        Ok(
            match users::reset_password(client, &form.name, &form.password).await {
                Ok(true) => notice(
                    true,
                    t("已重置密码：", "Password reset for ") + &escape_html(&form.name),
                ),
                Ok(false) => notice(
                    false,
                    t("没有该用户：", "No such user: ") + &escape_html(&form.name),
                ),
                Err(CityError::Invalid(message)) => {
                    notice(false, t("未重置：", "Not reset: ") + &escape_html(&message))
                }
                Err(error) => return Err(error),
            },
        )
    })
    .await
}

const PASSWORD_TITLE: (&str, &str) = ("修改密码", "Change my password");

/// The signed-in user's own password: the form.
async fn password_page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let who = match who(&state, &headers, "/account/password").await {
        Ok(who) => who,
        Err(redirect) => return redirect,
    };
    password_view(&headers, &who, "")
}

fn password_view(headers: &HeaderMap, who: &SignedIn, notice: &str) -> Response {
    let body = format!(
        r#"{notice}<form class="card" method="post" action="/account/password" autocomplete="off">
<input type="hidden" name="csrf" value="{}">
<label for="current">{}</label><input id="current" name="current" type="password" autocomplete="current-password" required>
<label for="password">{}</label><input id="password" name="password" type="password" minlength="8" autocomplete="new-password" required>
<label for="repeat">{}</label><input id="repeat" name="repeat" type="password" minlength="8" autocomplete="new-password" required>
<p><button class="btn" type="submit" id="change">{}</button></p>
</form>"#,
        escape_html(&who.csrf),
        t("当前密码", "Current password"),
        t("新密码（至少 8 位）", "New password (8 characters or more)"),
        t("再次输入新密码", "New password again"),
        t("修改", "Change"),
    );
    page(headers, Some(who), "account", PASSWORD_TITLE, false, &body)
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf: String,
    current: String,
    password: String,
    repeat: String,
}

/// The signed-in user changes their own password; their other sessions end.
async fn change_password(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    let who = match who(&state, &headers, "/account/password").await {
        Ok(who) => who,
        Err(redirect) => return redirect,
    };
    if !same_origin(&headers) || !jiaohao_signin::secret::same(&form.csrf, &who.csrf) {
        return StatusCode::FORBIDDEN.into_response();
    }
    if form.password != form.repeat {
        let said = notice(
            false,
            t("两次输入的新密码不一致。", "The two new passwords differ."),
        );
        return password_view(&headers, &who, &said);
    }
    let Some(secret) = cookies(&headers).find_map(|c| jiaohao_signin::web::cookie([c], COOKIE))
    else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let client = match state.db.get().await {
        Ok(client) => client,
        Err(error) => return failure(&headers, &error),
    };
    let said =
        match users::change_password(&*client, &who.name, &form.current, &form.password, secret)
            .await
        {
            Ok(Ok(())) => notice(
                true,
                t(
                    "密码已修改；其他已登录的会话已退出。",
                    "Password changed; your other sessions were signed out.",
                ),
            ),
            Ok(Err(users::Refused::Locked)) => notice(
                false,
                t(
                    "尝试次数过多，账号暂时锁定，请稍后再试。",
                    "Too many wrong tries: the account is locked for a while.",
                ),
            ),
            Ok(Err(_)) => notice(
                false,
                t("当前密码不正确。", "The current password is wrong."),
            ),
            Err(CityError::Invalid(message)) => notice(
                false,
                t("未修改：", "Not changed: ") + &escape_html(&message),
            ),
            Err(error) => return failure(&headers, &error),
        };
    password_view(&headers, &who, &said)
}

#[cfg(test)]
mod zone_tests {
    use super::*;

    #[test]
    fn the_default_range_is_this_month_in_the_city_s_zone() {
        for name in ["Asia/Shanghai", "Pacific/Kiritimati", "Pacific/Pago_Pago"] {
            let zone = CityZone::new(name).unwrap();
            let (from, to) = range_of(
                &zone,
                &RangeQuery {
                    from: None,
                    to: None,
                },
            )
            .unwrap();
            let today = zone.today();
            assert_eq!(to.to_string(), today.to_string(), "{name}");
            assert_eq!(
                from.to_string(),
                today.first_of_month().to_string(),
                "{name}"
            );
        }
        // Fourteen and eleven hours from UTC: 25 hours apart, never the same day.
        let east = CityZone::new("Pacific/Kiritimati").unwrap().today();
        let west = CityZone::new("Pacific/Pago_Pago").unwrap().today();
        assert_ne!(east, west);
    }

    #[test]
    fn a_link_down_says_for_how_long_in_both_languages() {
        for (seconds, zh, en) in [
            (0, "不到 1 分钟", "under a minute"),
            (59, "不到 1 分钟", "under a minute"),
            (60, "1 分钟", "1 min"),
            (59 * 60 + 59, "59 分钟", "59 min"),
            (2 * 3600 + 15 * 60 + 7, "2 小时 15 分", "2 h 15 min"),
            (23 * 3600 + 59 * 60, "23 小时 59 分", "23 h 59 min"),
            (26 * 3600 + 30 * 60, "1 天 2 小时", "1 d 2 h"),
            (-5, "不到 1 分钟", "under a minute"),
        ] {
            assert_eq!(
                super::down_for(seconds),
                (zh.into(), en.into()),
                "{seconds} s"
            );
        }
    }

    #[test]
    fn a_zone_that_does_not_exist_is_refused_with_a_message() {
        let error = CityZone::new("Asia/Atlantis").unwrap_err().to_string();
        assert!(error.contains("Asia/Atlantis"), "{error}");
        assert_eq!(CityZone::default().name, "Asia/Shanghai");
    }
}
