//! People and pages: signing in (argon2, the session cookie, the lock after five wrong
//! passwords), protection against cross-site requests, who may reach each route (a table over
//! every page and API route), the counter's queue, the rating tablet, reports and the audit
//! trail — all over HTTP against a real hub.

use std::collections::BTreeSet;

use jiaohao_store::{Role, Store};
use jiaohao_wire as wire;
use jiff::SignedDuration;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{
    PASSWORD, Reply, TestHub, WebSession, no_redirects, post_login, send, send_json, set_cookie,
};

/// A hub with a clerk `zhang`, a supervisor `wang` and an admin `li`.
async fn hub_with_people() -> TestHub {
    let hub = TestHub::start().await;
    hub.add_user("zhang", Role::Clerk);
    hub.add_user("wang", Role::Supervisor);
    hub.add_user("li", Role::Admin);
    hub
}

fn minutes(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_cookie_that_expires() {
    let hub = hub_with_people().await;
    let clerk = hub.sign_in("zhang", Some(3)).await;
    assert_eq!(clerk.location, "/counter");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(
            clerk.set_cookie.contains(attribute),
            "{attribute} in {}",
            clerk.set_cookie
        );
    }
    let me: wire::Me = clerk.get("/api/me").await.json();
    assert_eq!(
        (
            me.name.as_str(),
            me.role.as_str(),
            me.window,
            me.via.as_str()
        ),
        ("zhang", "clerk", Some(3), "session")
    );
    assert!(me.expires_at.unwrap().starts_with("2026-11-23T21:00"));
    let admin = hub.sign_in("li", None).await;
    assert_eq!(admin.location, "/admin");

    // Signing out ends the session at once; time ends the others.
    let out = send(admin.request(Method::POST, "/logout")).await;
    assert_eq!(out.status, 303);
    admin.get("/api/me").await.expect_error(401, "unauthorized");
    hub.clock.advance(minutes(12 * 60 + 1));
    clerk.get("/api/me").await.expect_error(401, "unauthorized");
    let page = send(clerk.request(Method::GET, "/counter")).await;
    assert_eq!(page.status, 303, "an expired session is sent to sign in");
    hub.stop().await;
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_for_a_while_and_say_so() {
    let hub = hub_with_people().await;
    let url = hub.url();
    for attempt in 1..=4 {
        let (response, _) = post_login(&url, "zhang", "wrong-password", None, None).await;
        assert_eq!(response.status().as_u16(), 401, "attempt {attempt}");
        assert!(set_cookie(&response, "jiaohao_session").is_none());
        let page = response.text().await.unwrap();
        assert!(page.contains("用户名或密码不正确"), "{page}");
    }
    let (response, _) = post_login(&url, "zhang", "wrong-password", None, None).await;
    assert_eq!(response.status().as_u16(), 423);
    let page = response.text().await.unwrap();
    assert!(page.contains("已锁定") && page.contains("09:15"), "{page}");
    assert!(page.contains("locked"), "the English says so too");

    // Locked: even the right password is refused, until the lock ends.
    let refused = WebSession::sign_in(&url, "zhang", PASSWORD, None).await;
    assert_eq!(refused.err().map(|r| r.status), Some(423));
    let users: Vec<wire::UserInfo> = hub.sign_in("li", None).await.get("/api/users").await.json();
    let zhang = users.iter().find(|u| u.username == "zhang").unwrap();
    assert!(zhang.locked_until.is_some(), "the admin sees the lock");
    hub.clock.advance(minutes(16));
    hub.sign_in("zhang", None).await;

    // An unknown name is refused like a wrong password, without saying which it was.
    let (response, _) = post_login(&url, "nobody", PASSWORD, None, None).await;
    assert_eq!(response.status().as_u16(), 401);
    hub.stop().await;
}

#[tokio::test]
async fn changes_from_pages_need_the_anti_forgery_token_and_the_same_origin() {
    let hub = hub_with_people().await;
    let clerk = hub.sign_in("zhang", Some(3)).await;
    let base = hub.url();
    let open = || {
        no_redirects()
            .post(format!("{base}/api/windows/3/open"))
            .header("Cookie", format!("jiaohao_session={}", clerk.cookie))
    };
    send(open()).await.expect_error(403, "csrf");
    send(open().header("X-CSRF-Token", "0".repeat(32)))
        .await
        .expect_error(403, "csrf");
    send(
        open()
            .header("X-CSRF-Token", &clerk.csrf)
            .header("Origin", "http://evil.example"),
    )
    .await
    .expect_error(403, "csrf");
    let host = base.trim_start_matches("http://").to_owned();
    let ok = send(
        open()
            .header("X-CSRF-Token", &clerk.csrf)
            .header("Origin", format!("http://{host}")),
    )
    .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    // Reading needs no token.
    assert_eq!(clerk.get("/api/windows/3/queue").await.status, 200);

    // The sign-in form: from this hub, with the token of the form it was given.
    let (response, _) =
        post_login(&base, "zhang", PASSWORD, None, Some("http://evil.example")).await;
    assert_eq!(response.status().as_u16(), 403);
    assert!(set_cookie(&response, "jiaohao_session").is_none());
    let forged = no_redirects()
        .post(format!("{base}/login"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "username=zhang&password={PASSWORD}&login_token=guess"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    assert!(forged.text().await.unwrap().contains("登录页面已过期"));
    // Signing out is a change too.
    let out = no_redirects()
        .post(format!("{base}/logout"))
        .header("Cookie", format!("jiaohao_session={}", clerk.cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_u16(), 403);
    assert_eq!(clerk.get("/api/me").await.status, 200, "still signed in");
    hub.stop().await;
}

#[tokio::test]
async fn a_clerk_signs_in_at_a_window_and_every_action_names_them() {
    let hub = hub_with_people().await;
    let clerk = hub.sign_in("zhang", None).await;
    // No window chosen yet: no window action.
    clerk
        .send_json(Method::POST, "/api/windows/3/open", json!(null))
        .await
        .expect_error(403, "forbidden");
    clerk
        .send_json(Method::PUT, "/api/me/window", json!({"window": 99}))
        .await
        .expect_error(404, "unknown_window");
    let me: wire::Me = clerk
        .send_json(Method::PUT, "/api/me/window", json!({"window": 3}))
        .await
        .json();
    assert_eq!(me.window, Some(3));
    for action in ["open", "pause"] {
        let body = json!({"reason": "break"});
        let reply = clerk
            .send_json(Method::POST, &format!("/api/windows/3/{action}"), body)
            .await;
        assert_eq!(reply.status, 200, "{action}: {reply:?}");
    }
    send(clerk.request(Method::POST, "/api/windows/3/resume"))
        .await
        .json::<wire::WindowStatus>();
    hub.issue("id_card").await;
    let called: wire::TicketDetail = send(clerk.request(Method::POST, "/api/windows/3/call-next"))
        .await
        .json();
    assert_eq!(called.number, "B001");
    let transfer = clerk
        .send_json(
            Method::POST,
            "/api/windows/3/transfer",
            json!({"to_service": "hukou"}),
        )
        .await;
    assert_eq!(transfer.status, 200, "{transfer:?}");
    send(clerk.request(Method::POST, "/api/windows/4/call-next"))
        .await
        .expect_error(403, "forbidden");

    let store = Store::open(&hub.db).unwrap();
    let mut actors = Vec::new();
    store
        .for_each_record_after(0, |record| {
            if matches!(
                record.event.kind(),
                "window_opened"
                    | "window_paused"
                    | "window_resumed"
                    | "ticket_called"
                    | "ticket_transferred"
            ) {
                actors.push((record.event.kind(), record.actor));
            }
        })
        .unwrap();
    assert_eq!(actors.len(), 5, "{actors:?}");
    for (kind, actor) in actors {
        assert_eq!(actor, "clerk:zhang@3", "{kind}");
    }
    hub.stop().await;
}

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Anyone, signed in or not.
    Public,
    /// Anyone signed in, or with a valid token (the replication readers' too: it says only
    /// who is asking).
    SignedIn,
    /// Clerks (for themselves) and admins.
    ClerkOrAdmin,
    /// Kiosks and admins.
    KioskOrAdmin,
    /// Devices (kiosks, displays) and admins.
    DeviceOrAdmin,
    /// Admins only.
    Admin,
    /// Admins and supervisors.
    Reader,
    /// Admins and the clerk of the window named (3 here; the clerk works at 3).
    Window,
    /// As `Window`, for window 4: the clerk of window 3 may not.
    OtherWindow,
    /// Admins, supervisors and the clerk of the window.
    WindowRead,
    /// As `WindowRead`, for window 4.
    OtherWindowRead,
    /// The counter page: clerks and admins; nobody signed in is sent to sign in.
    CounterPage,
    /// The admin console: admins and supervisors.
    AdminPage,
    /// A public page.
    PublicPage,
    /// Replication readers only (`replica` and `ingest` tokens): not even an admin.
    Replication,
    /// A standby's acknowledgement: `replica` tokens only (not the city's `ingest`).
    ReplicaOnly,
    /// A paired rating pad only (none of the people or tokens here).
    Pad,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Nobody,
    /// A clerk signed in at window 3 (this window).
    Clerk3,
    /// A clerk signed in at window 4 (another window).
    Clerk4,
    /// A clerk token bound to window 3.
    Clerk3Token,
    Supervisor,
    KioskToken,
    DisplayToken,
    /// A standby hub's `replica` token.
    ReplicaToken,
    /// The city's `ingest` token: the stripped log, and nothing else of the hall.
    IngestToken,
    Admin,
}

/// What a route must answer someone: allowed (any answer but 401 and 403), 401, 403, a page,
/// or the sign-in page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allowed,
    Unauthorized,
    Forbidden,
    Page,
    SignIn,
}

fn expect(rule: Rule, who: Who) -> Expect {
    use Expect::*;
    use Rule::*;
    let token = matches!(
        who,
        Who::Clerk3Token
            | Who::KioskToken
            | Who::DisplayToken
            | Who::ReplicaToken
            | Who::IngestToken
    );
    match (rule, who) {
        (Public, _) => Allowed,
        (PublicPage, _) => Page,
        // The pages know people by their cookie only: a device token is nobody there.
        (CounterPage | AdminPage, Who::Nobody) => SignIn,
        (CounterPage | AdminPage, _) if token => SignIn,
        (CounterPage, Who::Clerk3 | Who::Clerk4 | Who::Admin) => Page,
        (AdminPage, Who::Supervisor | Who::Admin) => Page,
        (CounterPage | AdminPage, _) => Forbidden,
        (_, Who::Nobody) => Unauthorized,
        (Replication, Who::ReplicaToken | Who::IngestToken) => Allowed,
        (ReplicaOnly, Who::ReplicaToken) => Allowed,
        (Replication | ReplicaOnly | Pad, _) => Forbidden,
        (_, Who::Admin) => Allowed,
        (SignedIn, _) => Allowed,
        (ClerkOrAdmin, Who::Clerk3 | Who::Clerk4 | Who::Clerk3Token) => Allowed,
        (Window | WindowRead, Who::Clerk3 | Who::Clerk3Token) => Allowed,
        (OtherWindow | OtherWindowRead, Who::Clerk4) => Allowed,
        (Reader | WindowRead | OtherWindowRead, Who::Supervisor) => Allowed,
        (KioskOrAdmin | DeviceOrAdmin, Who::KioskToken) => Allowed,
        (DeviceOrAdmin, Who::DisplayToken) => Allowed,
        _ => Forbidden,
    }
}

/// Every route of the hub with its rule, a concrete path and a body that is valid, so a
/// refusal can only be about who asks.
fn table() -> Vec<(&'static str, &'static str, Rule, String, Option<Value>)> {
    let service = json!({"code": "residence_permit", "name_zh": "居住证", "name_en": "Residence permit",
        "prefix": "F", "wait_target_min": 20, "handling_target_min": 10, "handling_estimate_min": 5});
    let window =
        json!({"number": 11, "name_zh": "11号窗口", "name_en": "Window 11", "services": ["hukou"]});
    let settings =
        json!({"name_zh": "测试大厅", "name_en": "Test hall", "timezone": "Asia/Shanghai"});
    let p = |s: &str| s.to_owned();
    use Rule::*;
    vec![
        ("GET", "/api/health", Public, p("/api/health"), None),
        ("POST", "/api/promote", Admin, p("/api/promote"), None),
        (
            "POST",
            "/api/replication/ack",
            ReplicaOnly,
            p("/api/replication/ack"),
            Some(json!({"seq": 0})),
        ),
        (
            "GET",
            "/api/replication",
            Replication,
            p("/api/replication?after=0"),
            None,
        ),
        (
            "GET",
            "/api/openapi.json",
            Public,
            p("/api/openapi.json"),
            None,
        ),
        ("GET", "/api/hall", Public, p("/api/hall"), None),
        (
            "GET",
            "/api/hall/settings",
            Public,
            p("/api/hall/settings"),
            None,
        ),
        (
            "PUT",
            "/api/hall/settings",
            Admin,
            p("/api/hall/settings"),
            Some(settings),
        ),
        ("GET", "/api/calendar", Public, p("/api/calendar"), None),
        ("GET", "/api/rota", Reader, p("/api/rota"), None),
        (
            "GET",
            "/api/cases",
            Reader,
            p("/api/cases?state=open"),
            None,
        ),
        ("GET", "/api/cases/{id}", Reader, p("/api/cases/0"), None),
        (
            "POST",
            "/api/cases/{id}/callback",
            Reader,
            p("/api/cases/0/callback"),
            Some(json!({"note": "已回访"})),
        ),
        (
            "POST",
            "/api/cases/{id}/fix",
            Reader,
            p("/api/cases/0/fix"),
            Some(json!({"fix": "已整改"})),
        ),
        (
            "POST",
            "/api/cases/{id}/close",
            Reader,
            p("/api/cases/0/close"),
            None,
        ),
        (
            "PUT",
            "/api/rota",
            Admin,
            p("/api/rota"),
            Some(
                json!({"shifts": [{"window": 3, "weekday": "monday", "from": "08:30", "to": "12:00"}]}),
            ),
        ),
        (
            "GET",
            "/api/bookings/slots",
            Public,
            p("/api/bookings/slots?service=exit_entry&date=2026-11-24"),
            None,
        ),
        (
            "GET",
            "/api/bookings",
            Reader,
            p("/api/bookings?date=2026-11-24"),
            None,
        ),
        (
            "GET",
            "/api/bookings.csv",
            Reader,
            p("/api/bookings.csv?date=2026-11-24"),
            None,
        ),
        (
            "GET",
            "/api/bookings/no-shows",
            Reader,
            p("/api/bookings/no-shows"),
            None,
        ),
        (
            "POST",
            "/api/bookings",
            Public,
            p("/api/bookings"),
            Some(
                json!({"service": "exit_entry", "date": "2026-11-24", "start": "09:00", "name": "张三",
                    "id_number": "11010519491231002X", "phone": "13800138000"}),
            ),
        ),
        (
            "POST",
            "/api/bookings/{code}/verify",
            Public,
            p("/api/bookings/ABCD2345/verify"),
            Some(json!({"sms_code": "123456"})),
        ),
        (
            "DELETE",
            "/api/bookings/{code}",
            Public,
            p("/api/bookings/ABCD2345?cancel_token=x"),
            None,
        ),
        (
            "POST",
            "/api/bookings/{code}/check-in",
            KioskOrAdmin,
            p("/api/bookings/ABCD2345/check-in"),
            None,
        ),
        (
            "POST",
            "/api/bookings/check-in",
            KioskOrAdmin,
            p("/api/bookings/check-in"),
            Some(json!({"id_number": "11010519491231002X"})),
        ),
        (
            "GET",
            "/api/services/{code}/booking",
            Public,
            p("/api/services/exit_entry/booking"),
            None,
        ),
        (
            "PUT",
            "/api/services/{code}/booking",
            Admin,
            p("/api/services/exit_entry/booking"),
            Some(json!({"slot_min": 30, "share_pct": 20})),
        ),
        (
            "DELETE",
            "/api/services/{code}/booking",
            Admin,
            p("/api/services/exit_entry/booking"),
            None,
        ),
        (
            "PUT",
            "/api/calendar",
            Admin,
            p("/api/calendar"),
            Some(
                json!({"working_weekdays": ["monday", "tuesday", "wednesday", "thursday", "friday"]}),
            ),
        ),
        (
            "PUT",
            "/api/hall/notices",
            Reader,
            p("/api/hall/notices"),
            Some(json!({"notices_zh": ["热线 110"], "notices_en": ["Hotline 110"]})),
        ),
        ("GET", "/api/events", Public, p("/api/events"), None),
        (
            "POST",
            "/api/tickets",
            KioskOrAdmin,
            p("/api/tickets"),
            Some(json!({"service": "hukou"})),
        ),
        (
            "GET",
            "/api/tickets/{token}",
            Public,
            p("/api/tickets/0123456789abcdef0123456789abcdef"),
            None,
        ),
        (
            "POST",
            "/api/tickets/{token}/rating",
            Public,
            p("/api/tickets/0123456789abcdef0123456789abcdef/rating"),
            Some(json!({"rating": "satisfied"})),
        ),
        ("GET", "/api/services", Public, p("/api/services"), None),
        (
            "POST",
            "/api/services",
            Admin,
            p("/api/services"),
            Some(service.clone()),
        ),
        (
            "GET",
            "/api/services/{code}",
            Public,
            p("/api/services/hukou"),
            None,
        ),
        (
            "PUT",
            "/api/services/{code}",
            Admin,
            p("/api/services/residence_permit"),
            Some(service),
        ),
        (
            "DELETE",
            "/api/services/{code}",
            Admin,
            p("/api/services/residence_permit"),
            None,
        ),
        ("GET", "/api/windows", Public, p("/api/windows"), None),
        (
            "POST",
            "/api/windows",
            Admin,
            p("/api/windows"),
            Some(window.clone()),
        ),
        ("GET", "/api/windows/{n}", Public, p("/api/windows/3"), None),
        (
            "PUT",
            "/api/windows/{n}",
            Admin,
            p("/api/windows/11"),
            Some(window),
        ),
        (
            "DELETE",
            "/api/windows/{n}",
            Admin,
            p("/api/windows/11"),
            None,
        ),
        (
            "GET",
            "/api/windows/{n}/services",
            Public,
            p("/api/windows/3/services"),
            None,
        ),
        (
            "PUT",
            "/api/windows/{n}/services",
            Admin,
            p("/api/windows/3/services"),
            Some(json!({"services": ["id_card", "hukou"]})),
        ),
        (
            "POST",
            "/api/windows/{n}/open",
            Window,
            p("/api/windows/3/open"),
            None,
        ),
        (
            "POST",
            "/api/windows/{n}/open",
            OtherWindow,
            p("/api/windows/4/open"),
            None,
        ),
        (
            "POST",
            "/api/windows/{n}/call-next",
            Window,
            p("/api/windows/3/call-next"),
            None,
        ),
        (
            "POST",
            "/api/windows/{n}/call-next",
            OtherWindow,
            p("/api/windows/4/call-next"),
            None,
        ),
        (
            "POST",
            "/api/windows/{n}/call",
            Window,
            p("/api/windows/3/call"),
            Some(json!({"number": "B001", "reason": "老人行动不便"})),
        ),
        (
            "POST",
            "/api/windows/{n}/call",
            OtherWindow,
            p("/api/windows/4/call"),
            Some(json!({"number": "B001", "reason": "x"})),
        ),
        (
            "POST",
            "/api/windows/{n}/recall",
            Window,
            p("/api/windows/3/recall"),
            None,
        ),
        (
            "POST",
            "/api/windows/{n}/recall",
            OtherWindow,
            p("/api/windows/4/recall"),
            None,
        ),
        (
            "POST",
            "/api/windows/{n}/transfer",
            Window,
            p("/api/windows/3/transfer"),
            Some(json!({"to_window": 5})),
        ),
        (
            "POST",
            "/api/windows/{n}/transfer",
            OtherWindow,
            p("/api/windows/4/transfer"),
            Some(json!({"to_window": 5})),
        ),
        (
            "POST",
            "/api/windows/{n}/no-show",
            Window,
            p("/api/windows/3/no-show"),
            None,
        ),
        (
            "POST",
            "/api/windows/{n}/no-show",
            OtherWindow,
            p("/api/windows/4/no-show"),
            None,
        ),
        (
            "POST",
            "/api/windows/{n}/finish",
            Window,
            p("/api/windows/3/finish"),
            None,
        ),
        (
            "POST",
            "/api/windows/{n}/finish",
            OtherWindow,
            p("/api/windows/4/finish"),
            None,
        ),
        (
            "POST",
            "/api/windows/{n}/pause",
            Window,
            p("/api/windows/3/pause"),
            Some(json!({"reason": "meeting"})),
        ),
        (
            "POST",
            "/api/windows/{n}/pause",
            OtherWindow,
            p("/api/windows/4/pause"),
            Some(json!({"reason": "meeting"})),
        ),
        (
            "POST",
            "/api/windows/{n}/resume",
            Window,
            p("/api/windows/3/resume"),
            None,
        ),
        (
            "POST",
            "/api/windows/{n}/resume",
            OtherWindow,
            p("/api/windows/4/resume"),
            None,
        ),
        (
            "POST",
            "/api/windows/{n}/close",
            Window,
            p("/api/windows/3/close"),
            Some(json!({"reason": "off_duty"})),
        ),
        (
            "POST",
            "/api/windows/{n}/close",
            OtherWindow,
            p("/api/windows/4/close"),
            Some(json!({"reason": "off_duty"})),
        ),
        (
            "GET",
            "/api/windows/{n}/queue",
            WindowRead,
            p("/api/windows/3/queue"),
            None,
        ),
        (
            "GET",
            "/api/windows/{n}/queue",
            OtherWindowRead,
            p("/api/windows/4/queue"),
            None,
        ),
        (
            "GET",
            "/api/windows/{n}/rating",
            Public,
            p("/api/windows/3/rating"),
            None,
        ),
        (
            "POST",
            "/api/windows/{n}/rating",
            Admin,
            p("/api/windows/3/rating"),
            Some(json!({"number": "B001", "rating": "satisfied"})),
        ),
        (
            "POST",
            "/api/windows/{n}/pairing",
            Admin,
            p("/api/windows/3/pairing"),
            None,
        ),
        ("GET", "/api/rating-pad", Pad, p("/api/rating-pad"), None),
        (
            "POST",
            "/api/rating-pad",
            Public,
            p("/api/rating-pad"),
            Some(json!({"code": "ABCDEF"})),
        ),
        (
            "GET",
            "/api/rating-pads",
            Admin,
            p("/api/rating-pads"),
            None,
        ),
        (
            "DELETE",
            "/api/rating-pads/{id}",
            Admin,
            p("/api/rating-pads/99"),
            None,
        ),
        ("GET", "/api/tokens", Reader, p("/api/tokens"), None),
        (
            "POST",
            "/api/tokens",
            Admin,
            p("/api/tokens"),
            Some(json!({"role": "kiosk", "name": "kiosk 9"})),
        ),
        (
            "DELETE",
            "/api/tokens/{id}",
            Admin,
            p("/api/tokens/99"),
            None,
        ),
        ("GET", "/api/me", SignedIn, p("/api/me"), None),
        (
            "PUT",
            "/api/me/window",
            ClerkOrAdmin,
            p("/api/me/window"),
            Some(json!({"window": 3})),
        ),
        ("GET", "/api/users", Reader, p("/api/users"), None),
        (
            "POST",
            "/api/users",
            Admin,
            p("/api/users"),
            Some(json!({"username": "zhao", "role": "clerk", "password": "another-password"})),
        ),
        ("DELETE", "/api/users/{id}", Admin, p("/api/users/99"), None),
        ("GET", "/api/reports", Reader, p("/api/reports"), None),
        ("GET", "/api/advice", Reader, p("/api/advice"), None),
        // Open to the hub's own machine (a test runs there); elsewhere it needs an admin.
        ("GET", "/metrics", Public, p("/metrics"), None),
        (
            "GET",
            "/api/reports/csv",
            Reader,
            p("/api/reports/csv"),
            None,
        ),
        (
            "GET",
            "/api/audit",
            Reader,
            p("/api/audit?number=B001"),
            None,
        ),
        (
            "GET",
            "/api/devices/problems",
            Reader,
            p("/api/devices/problems"),
            None,
        ),
        (
            "POST",
            "/api/devices/problems",
            DeviceOrAdmin,
            p("/api/devices/problems"),
            Some(json!({"kind": "printer", "message": "paper end"})),
        ),
        ("GET", "/login", PublicPage, p("/login"), None),
        ("GET", "/counter", CounterPage, p("/counter"), None),
        ("GET", "/admin", AdminPage, p("/admin"), None),
        // Open to a scraper on the hub's own machine, which every test client is.
        ("GET", "/metrics", Public, p("/metrics"), None),
        ("GET", "/rate/{n}", PublicPage, p("/rate/3"), None),
        ("GET", "/rate", PublicPage, p("/rate"), None),
        (
            "GET",
            "/t/{token}",
            PublicPage,
            p("/t/0123456789abcdef0123456789abcdef"),
            None,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_only_those_it_is_for() {
    let hub = hub_with_people().await;
    hub.add_user("zhou", Role::Clerk);
    hub.open(4).await;
    let sessions = [
        (Who::Clerk3, Some(hub.sign_in("zhang", Some(3)).await)),
        (Who::Clerk4, Some(hub.sign_in("zhou", Some(4)).await)),
        (Who::Clerk3Token, None),
        (Who::Supervisor, Some(hub.sign_in("wang", None).await)),
        (Who::KioskToken, None),
        (Who::DisplayToken, None),
        (Who::ReplicaToken, None),
        (Who::IngestToken, None),
        (Who::Nobody, None),
        // Last: the admin's changes may make later answers 404 or 409, never 401 or 403.
        (Who::Admin, Some(hub.sign_in("li", None).await)),
    ];
    let table = table();
    let covered: BTreeSet<(&str, &str)> = table.iter().map(|(m, r, ..)| (*m, *r)).collect();
    for route in crate::api::ROUTES {
        assert!(
            covered.contains(route),
            "{route:?} is missing from the table"
        );
    }
    let base = hub.url();
    let replica = jiaohao_hub::cli::create_token(&hub.db, Role::Replica, None, "standby").unwrap();
    let ingest = jiaohao_hub::cli::create_token(&hub.db, Role::Ingest, None, "city").unwrap();
    for (who, session) in &sessions {
        for (method, route, rule, path, body) in &table {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let bearer = match who {
                Who::Clerk3Token => Some(&hub.tokens.clerk3),
                Who::KioskToken => Some(&hub.tokens.kiosk),
                Who::DisplayToken => Some(&hub.tokens.display),
                Who::ReplicaToken => Some(&replica),
                Who::IngestToken => Some(&ingest),
                _ => None,
            };
            let request = match (session, bearer) {
                (Some(session), _) => session.request(method.clone(), path),
                (None, Some(token)) => no_redirects()
                    .request(method.clone(), format!("{base}{path}"))
                    .bearer_auth(token),
                (None, None) => no_redirects().request(method.clone(), format!("{base}{path}")),
            };
            let request = match body {
                Some(body) => request.json(body),
                None => request,
            };
            let response = request.send().await.expect("the hub answers");
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            // The event stream and an opened replication stream never end: do not read them.
            let body = if *route == "/api/events" || (*route == "/api/replication" && status == 200)
            {
                String::new()
            } else {
                response.text().await.unwrap_or_default()
            };
            let expected = expect(*rule, *who);
            let what = format!("{who:?} {method} {path} ({rule:?}): {status} {body:.200}");
            match expected {
                // Allowed: a success, or a refusal about the request or the hall's state (an
                // unknown ticket, nothing to recall, …) as a JSON error; never a 5xx.
                Expect::Allowed if status < 400 => {}
                Expect::Allowed => {
                    assert!(
                        status < 500 && ![401, 403].contains(&status),
                        "allowed: {what}"
                    );
                    let error: wire::ErrorBody = serde_json::from_str(&body)
                        .unwrap_or_else(|e| panic!("a JSON error ({e}): {what}"));
                    assert!(!error.error.is_empty(), "{what}");
                }
                // A rating pad's routes tell a stranger to pair first.
                Expect::Unauthorized => Reply {
                    status,
                    content_type,
                    body,
                }
                .expect_error(
                    401,
                    if matches!(*rule, Rule::Pad) || *route == "/api/windows/{n}/rating" {
                        "not_paired"
                    } else {
                        "unauthorized"
                    },
                ),
                Expect::Forbidden if route.starts_with("/api") => Reply {
                    status,
                    content_type,
                    body,
                }
                .expect_error(403, "forbidden"),
                Expect::Forbidden => {
                    assert_eq!(status, 403, "{what}");
                    assert!(
                        content_type.starts_with("text/html") && body.contains("无权访问"),
                        "{what}"
                    );
                }
                Expect::Page => {
                    assert_eq!(status, 200, "{what}");
                    assert!(content_type.starts_with("text/html"), "{what}");
                }
                Expect::SignIn => {
                    assert_eq!(status, 303, "{what}");
                    assert!(location.starts_with("/login?next="), "{what}");
                }
            }
        }
    }
    hub.stop().await;
}

#[tokio::test]
async fn a_supervisor_reads_everything_and_edits_notices_only() {
    let hub = hub_with_people().await;
    let supervisor = hub.sign_in("wang", None).await;
    assert_eq!(supervisor.location, "/admin");
    let settings: wire::HallSettings = supervisor
        .send_json(
            Method::PUT,
            "/api/hall/notices",
            json!({"notices_zh": ["服务热线 12345"], "notices_en": ["Hotline 12345"]}),
        )
        .await
        .json();
    assert_eq!(settings.notices_zh, ["服务热线 12345"]);
    assert_eq!(
        settings.name_en, "Qinghe County Public Security Service Hall",
        "names kept"
    );
    assert_eq!(hub.hall().await.notices_en, ["Hotline 12345"]);
    let mut service = hub.hall().await.services[0].def.clone();
    service.wait_target_min = 99;
    send(
        supervisor
            .request(Method::PUT, &format!("/api/services/{}", service.code))
            .json(&service),
    )
    .await
    .expect_error(403, "forbidden");
    for path in [
        "/api/reports",
        "/api/audit",
        "/api/users",
        "/api/tokens",
        "/api/windows/3/queue",
    ] {
        assert_eq!(supervisor.get(path).await.status, 200, "{path}");
    }
    hub.stop().await;
}

#[tokio::test]
async fn the_counter_queue_shows_the_ticket_and_who_waits_how_long() {
    let hub = hub_with_people().await;
    hub.open(3).await;
    hub.issue("hukou").await;
    hub.clock.advance(minutes(2));
    hub.issue("id_card").await;
    hub.issue("vehicle").await;
    hub.clock.advance(minutes(5));
    let clerk = hub.sign_in("zhang", Some(3)).await;
    let queue: wire::WindowQueue = clerk.get("/api/windows/3/queue").await.json();
    assert_eq!(queue.now, "2026-11-23T09:07:00+08:00");
    assert!(queue.serving.is_none());
    let waiting: Vec<(&str, u32, bool)> = queue
        .waiting
        .iter()
        .map(|t| (t.number.as_str(), t.waited_min, t.next))
        .collect();
    // Window 3 serves id_card and hukou, the oldest first; vehicle is not its business.
    assert_eq!(waiting, [("A001", 7, true), ("B001", 5, false)]);
    hub.call_next(3).await;
    let queue: wire::WindowQueue = clerk.get("/api/windows/3/queue").await.json();
    let serving = queue.serving.expect("A001 is served");
    assert_eq!(
        (serving.number.as_str(), queue.state.as_str()),
        ("A001", "serving")
    );
    assert_eq!(
        serving.called_at.as_deref(),
        Some("2026-11-23T09:07:00+08:00")
    );
    hub.stop().await;
}

#[tokio::test]
async fn a_citizen_rates_the_ticket_just_finished_once() {
    let hub = hub_with_people().await;
    hub.open(3).await;
    hub.issue("id_card").await;
    hub.call_next(3).await;
    let none = send(hub.public.request(Method::GET, "/api/windows/3/rating")).await;
    assert_eq!(none.status, 204, "nothing finished yet");
    hub.admin.ticket_action(3, "finish").await.unwrap();
    let prompt: wire::RatingPrompt = send(hub.public.request(Method::GET, "/api/windows/3/rating"))
        .await
        .json();
    assert_eq!((prompt.number.as_str(), prompt.open), ("B001", true));
    // An unpaired tablet cannot rate.
    send_json(
        &hub.public,
        Method::POST,
        "/api/windows/3/rating",
        json!({"number": "B001", "rating": "satisfied"}),
    )
    .await
    .expect_error(401, "not_paired");
    let rate = |body: Value| send_json(&hub.admin, Method::POST, "/api/windows/3/rating", body);
    rate(json!({"number": "B001", "rating": "very_dissatisfied"}))
        .await
        .expect_error(400, "invalid");
    rate(json!({"number": "B001", "rating": "great"}))
        .await
        .expect_error(400, "invalid");
    rate(json!({"number": "B001", "rating": "satisfied"}).clone()).await;
    rate(json!({"number": "B001", "rating": "satisfied"}))
        .await
        .expect_error(409, "already_rated");
    let prompt: wire::RatingPrompt = send(hub.public.request(Method::GET, "/api/windows/3/rating"))
        .await
        .json();
    assert_eq!(
        (prompt.open, prompt.rating.as_deref()),
        (false, Some("satisfied"))
    );
    // Not from another window either.
    send_json(
        &hub.admin,
        Method::POST,
        "/api/windows/4/rating",
        json!({"number": "B001", "rating": "satisfied"}),
    )
    .await
    .expect_error(409, "already_rated");
    // The rating is in the log, folded back after a restart.
    let hub = hub.restart().await;
    let prompt: wire::RatingPrompt = send(hub.public.request(Method::GET, "/api/windows/3/rating"))
        .await
        .json();
    assert_eq!(prompt.rating.as_deref(), Some("satisfied"));
    hub.stop().await;
}

#[tokio::test]
async fn reports_and_the_audit_trail_come_from_the_log() {
    let hub = hub_with_people().await;
    let clerk = hub.sign_in("zhang", Some(3)).await;
    let act = |path: &'static str, body: Value| {
        let clerk = clerk.clone();
        async move {
            let reply = clerk.send_json(Method::POST, path, body).await;
            assert!(reply.status < 300, "{path}: {reply:?}");
            reply
        }
    };
    act("/api/windows/3/open", json!(null)).await;
    hub.issue("id_card").await; // B001 at 09:00
    hub.issue("id_card").await; // B002 at 09:00
    hub.clock.advance(minutes(4));
    hub.issue("hukou").await; // A001 at 09:04
    hub.clock.advance(minutes(6));
    act("/api/windows/3/call-next", json!(null)).await; // B001 waited 10 min
    hub.clock.advance(minutes(8));
    act("/api/windows/3/finish", json!(null)).await; // handled 8 min
    send_json(
        &hub.admin,
        Method::POST,
        "/api/windows/3/rating",
        json!({"number": "B001", "rating": "dissatisfied", "reason": "waiting"}),
    )
    .await;
    // A001 out of order: B002 would be next.
    act(
        "/api/windows/3/call",
        json!({"number": "A001", "reason": "老人行动不便"}),
    )
    .await;
    hub.clock.advance(minutes(2));
    act("/api/windows/3/no-show", json!(null)).await;
    act("/api/windows/3/pause", json!({"reason": "break"})).await;
    hub.clock.advance(minutes(15));
    act("/api/windows/3/resume", json!(null)).await;
    let admin = hub.sign_in("li", None).await;
    let assign = admin
        .send_json(
            Method::PUT,
            "/api/windows/5/services",
            json!({"services": ["id_card", "vehicle"]}),
        )
        .await;
    assert_eq!(assign.status, 200);

    let report: wire::Report = admin
        .get("/api/reports?from=2026-11-23&to=2026-11-23")
        .await
        .json();
    let total = &report.total;
    assert_eq!(
        (
            total.issued,
            total.called,
            total.served,
            total.no_shows,
            total.out_of_order
        ),
        (Some(3), 2, 1, 1, 1)
    );
    assert_eq!(total.mean_wait_min, Some(12.0), "B001 10 min, A001 14 min");
    assert_eq!(total.p90_wait_min, Some(14.0));
    assert_eq!(total.mean_handling_min, Some(8.0));
    assert_eq!(total.pause_min.break_, 15.0);
    assert_eq!(total.ratings.dissatisfied, 1);
    assert_eq!(total.rating_mean, Some(2.0));
    let id_card = report.services.iter().find(|r| r.key == "id_card").unwrap();
    assert_eq!(
        (id_card.issued, id_card.served, id_card.within_target_pct),
        (Some(2), 1, Some(100.0))
    );
    let window = report.windows.iter().find(|r| r.key == "3").unwrap();
    assert_eq!(
        (window.served, window.no_shows, window.out_of_order),
        (1, 1, 1)
    );
    assert_eq!(
        window.busy_pct,
        Some(50.0),
        "serving 10 of the 20 minutes it was open"
    );
    let zhang = report
        .clerks
        .iter()
        .find(|r| r.key == "clerk:zhang")
        .expect("zhang's row");
    assert_eq!(
        (zhang.called, zhang.served, zhang.pause_min.break_),
        (2, 1, 15.0)
    );
    assert_eq!(zhang.ratings.dissatisfied, 1);
    let arrivals: u32 = report.hours.iter().map(|h| h.arrivals).sum();
    assert_eq!((report.hours[9].arrivals, arrivals), (3, 3));

    let csv = admin.get("/api/reports/csv?from=2026-11-23").await;
    assert!(csv.content_type.starts_with("text/csv"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert!(lines[0].contains("scope,key,name_zh") && lines[0].contains("pause_break_min"));
    assert!(
        lines.iter().any(|l| l.starts_with("clerk,clerk:zhang,")),
        "{}",
        csv.body
    );
    assert!(lines.iter().any(|l| l.starts_with("hour,09,")));

    let audit: wire::AuditPage = admin.get("/api/audit?number=b001").await.json();
    let kinds: Vec<(&str, &str)> = audit
        .entries
        .iter()
        .map(|e| (e.kind.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("case_opened", "citizen@3"),
            ("ticket_rated", "citizen@3"),
            ("ticket_finished", "clerk:zhang@3"),
            ("ticket_called", "clerk:zhang@3"),
            ("ticket_issued", "kiosk:kiosk#2"),
        ]
    );
    let flagged: wire::AuditPage = admin.get("/api/audit?flagged=true").await.json();
    let first = &flagged.entries[0];
    assert_eq!(
        (
            first.kind.as_str(),
            first.actor.as_str(),
            first.configuration
        ),
        ("window_defined", "admin:li", true)
    );
    assert_eq!(first.detail, "services: id_card, vehicle");
    let ooo = flagged
        .entries
        .iter()
        .find(|e| e.out_of_order)
        .expect("the out-of-order call");
    assert_eq!(
        (ooo.number.as_deref(), ooo.detail.as_str()),
        (Some("A001"), "老人行动不便")
    );
    for bad in [
        "/api/reports?to=",
        "/api/reports/csv?from=%202026-11-23",
        "/api/audit?flagged=maybe",
    ] {
        admin.get(bad).await.expect_error(400, "invalid");
    }
    admin
        .get("/api/audit?limit=0")
        .await
        .expect_error(400, "invalid");
    admin
        .get("/api/reports?from=2026-11-24&to=2026-11-23")
        .await
        .expect_error(400, "invalid");
    admin
        .get("/api/reports?from=23.11.2026")
        .await
        .expect_error(400, "invalid");
    hub.stop().await;
}

#[tokio::test]
async fn reports_judge_and_name_services_as_they_were_defined_that_day() {
    let hub = hub_with_people().await;
    // Sessions last 12 hours: each day signs in anew.
    let serve_one = |wait_min: i64| {
        let hub = &hub;
        async move {
            let clerk = hub.sign_in("zhang", Some(3)).await;
            let open = clerk
                .send_json(Method::POST, "/api/windows/3/open", json!(null))
                .await;
            assert!(open.status < 300, "{open:?}");
            hub.issue("id_card").await;
            hub.clock.advance(minutes(wait_min));
            for (action, body) in [
                ("call-next", json!(null)),
                ("finish", json!(null)),
                ("close", json!({"reason": "off_duty"})),
            ] {
                let reply = clerk
                    .send_json(Method::POST, &format!("/api/windows/3/{action}"), body)
                    .await;
                assert!(reply.status < 300, "{action}: {reply:?}");
            }
        }
    };
    // Monday: 身份证 has a 20-minute target; a 15-minute wait is within it.
    serve_one(15).await;
    // Tuesday morning the admin renames the service and tightens its target to 10 minutes.
    hub.set_time("2026-11-24T08:30:00+08:00");
    let admin = hub.sign_in("li", None).await;
    let mut id_card: wire::ServiceDef = admin.get("/api/services/id_card").await.json();
    id_card.name_zh = "居民身份证".into();
    id_card.wait_target_min = 10;
    let put = admin
        .send_json(
            Method::PUT,
            "/api/services/id_card",
            serde_json::to_value(&id_card).unwrap(),
        )
        .await;
    assert_eq!(put.status, 200, "{put:?}");
    let mut new_service: wire::ServiceDef = admin.get("/api/services/hukou").await.json();
    new_service.code = "residence_permit".into();
    new_service.prefix = "F".into();
    let added = admin
        .send_json(
            Method::POST,
            "/api/services",
            serde_json::to_value(&new_service).unwrap(),
        )
        .await;
    assert!(added.status < 300, "{added:?}");
    hub.set_time("2026-11-24T09:00:00+08:00");
    serve_one(15).await;

    let row = |report: &wire::Report| {
        let row = report.services.iter().find(|r| r.key == "id_card").unwrap();
        (row.name_zh.clone(), row.served, row.within_target_pct)
    };
    let monday: wire::Report = admin.get("/api/reports?from=2026-11-23").await.json();
    assert_eq!(row(&monday), ("身份证".to_owned(), 1, Some(100.0)));
    assert!(
        monday.services.iter().all(|r| r.key != "residence_permit"),
        "a service defined later is not in an earlier day's report"
    );
    let tuesday: wire::Report = admin.get("/api/reports?from=2026-11-24").await.json();
    assert_eq!(row(&tuesday), ("居民身份证".to_owned(), 1, Some(0.0)));
    assert!(tuesday.services.iter().any(|r| r.key == "residence_permit"));
    let both: wire::Report = admin
        .get("/api/reports?from=2026-11-23&to=2026-11-24")
        .await
        .json();
    assert_eq!(row(&both), ("居民身份证".to_owned(), 2, Some(50.0)));
    hub.stop().await;
}

#[tokio::test]
async fn user_and_token_changes_are_in_the_audit_with_who_made_them() {
    let hub = hub_with_people().await;
    let admin = hub.sign_in("li", None).await;
    let user: wire::UserInfo = admin
        .send_json(
            Method::POST,
            "/api/users",
            json!({"username": "zhao", "role": "clerk", "password": "long-enough-secret"}),
        )
        .await
        .json();
    hub.clock.advance(minutes(1));
    let token: wire::CreatedToken = admin
        .send_json(
            Method::POST,
            "/api/tokens",
            json!({"role": "kiosk", "name": "kiosk 9"}),
        )
        .await
        .json();
    hub.clock.advance(minutes(1));
    let revoked = admin
        .send_json(
            Method::DELETE,
            &format!("/api/tokens/{}", token.id),
            json!(null),
        )
        .await;
    assert_eq!(revoked.status, 204, "{revoked:?}");
    hub.clock.advance(minutes(1));
    let disabled = admin
        .send_json(
            Method::DELETE,
            &format!("/api/users/{}", user.id),
            json!(null),
        )
        .await;
    assert_eq!(disabled.status, 204, "{disabled:?}");

    let flagged: wire::AuditPage = admin.get("/api/audit?flagged=true").await.json();
    let changes: Vec<(&str, &str, &str)> = flagged
        .entries
        .iter()
        // The three people of `hub_with_people` were added with the command line, by the
        // wall clock, which may or may not be today on the hub's test clock.
        .filter(|e| e.seq == 0 && e.actor != "cli")
        .map(|e| (e.kind.as_str(), e.actor.as_str(), e.detail.as_str()))
        .collect();
    let token_subject = format!("token {} \"kiosk 9\" (kiosk)", token.id);
    assert_eq!(
        changes,
        [
            ("user_disabled", "admin:li", "user zhao (clerk)"),
            ("token_revoked", "admin:li", token_subject.as_str()),
            ("token_created", "admin:li", token_subject.as_str()),
            ("user_created", "admin:li", "user zhao (clerk)"),
        ],
        "newest first, each with who made it"
    );
    assert!(
        flagged
            .entries
            .iter()
            .filter(|e| e.seq == 0)
            .all(|e| e.configuration)
    );
    // A ticket search shows tickets only.
    let search: wire::AuditPage = admin.get("/api/audit?number=B001").await.json();
    assert!(search.entries.iter().all(|e| e.seq != 0));
    hub.stop().await;
}

#[tokio::test]
async fn pages_are_plain_files_the_content_policy_allows() {
    let hub = hub_with_people().await;
    let clerk = hub.sign_in("zhang", Some(3)).await;
    let admin = hub.sign_in("li", None).await;
    let pages = [
        (hub.public.clone(), "/login"),
        (hub.public.clone(), "/rate/3"),
        (hub.public.clone(), "/t/0123456789abcdef0123456789abcdef"),
    ];
    let mut bodies = Vec::new();
    for (client, path) in pages {
        let reply = send(client.request(Method::GET, path)).await;
        assert_eq!(reply.status, 200, "{path}");
        bodies.push((path, reply.body));
    }
    bodies.push(("/counter", clerk.get("/counter").await.body));
    bodies.push(("/admin", admin.get("/admin").await.body));
    for (path, body) in &bodies {
        assert!(body.contains("<html lang=\"zh-CN\">"), "{path}");
        assert!(
            body.contains("/assets/app.css") && body.contains("/assets/common.js"),
            "{path}"
        );
        assert!(
            !body.contains("<script>") && !body.contains("style=") && !body.contains("<style"),
            "{path}: no inline script or style, which the content policy forbids"
        );
        assert!(!body.contains("{{"), "{path}: every placeholder is filled");
    }
    let response = reqwest::get(format!("{}/counter", hub.url()))
        .await
        .unwrap();
    assert!(
        response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    for (name, kind) in [
        ("app.css", "text/css"),
        ("counter.js", "text/javascript"),
        ("admin.js", "text/javascript"),
        ("rate.js", "text/javascript"),
        ("ticket.js", "text/javascript"),
        ("favicon.svg", "image/svg+xml"),
    ] {
        let reply = send(hub.public.request(Method::GET, &format!("/assets/{name}"))).await;
        assert_eq!(reply.status, 200, "{name}");
        assert!(
            reply.content_type.starts_with(kind),
            "{name}: {}",
            reply.content_type
        );
    }
    assert_eq!(
        send(hub.public.request(Method::GET, "/assets/../Cargo.toml"))
            .await
            .status,
        404
    );
    assert_eq!(
        send(hub.public.request(Method::GET, "/rate/99"))
            .await
            .status,
        404
    );
    hub.stop().await;
}

#[tokio::test]
async fn a_rating_pad_is_paired_with_its_window_by_a_one_time_code_and_unpaired() {
    let hub = TestHub::start().await;
    hub.open(3).await;
    hub.open(4).await;
    let code: wire::PairingCode = send(hub.admin.request(Method::POST, "/api/windows/3/pairing"))
        .await
        .json();
    assert_eq!((code.window, code.code.len()), (3, 6));
    send(hub.public.request(Method::POST, "/api/windows/3/pairing"))
        .await
        .expect_error(401, "unauthorized");
    // The tablet types the code (in lower case, as people do): it gets its cookie.
    let response = hub
        .public
        .request(Method::POST, "/api/rating-pad")
        .json(&json!({"code": code.code.to_lowercase()}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let (secret, header) = set_cookie(&response, "jiaohao_pad").expect("the pad's cookie");
    assert!(header.contains("HttpOnly") && header.contains("SameSite=Strict"));
    let paired: wire::RatingPad = response.json().await.unwrap();
    assert_eq!(paired.window, 3);
    // Once only.
    send_json(
        &hub.public,
        Method::POST,
        "/api/rating-pad",
        json!({"code": code.code}),
    )
    .await
    .expect_error(404, "unknown_code");
    let cookie = format!("jiaohao_pad={secret}");
    let pad = |method: Method, path: &str| {
        hub.public
            .request(method, path)
            .header("Cookie", cookie.clone())
    };
    let me: wire::RatingPad = send(pad(Method::GET, "/api/rating-pad")).await.json();
    assert_eq!((me.id, me.window), (paired.id, 3));
    send(hub.public.request(Method::GET, "/api/rating-pad"))
        .await
        .expect_error(401, "not_paired");

    // It rates the ticket just finished at its window, not another window's.
    for window in [3, 4] {
        hub.issue("id_card").await;
        hub.call_next(window).await;
        hub.admin.ticket_action(window, "finish").await.unwrap();
    }
    let rated = send(
        pad(Method::POST, "/api/windows/3/rating")
            .json(&json!({"number": "B001", "rating": "very_satisfied"})),
    )
    .await;
    assert_eq!(rated.status, 200, "{rated:?}");
    send(
        pad(Method::POST, "/api/windows/4/rating")
            .json(&json!({"number": "B002", "rating": "satisfied"})),
    )
    .await
    .expect_error(403, "forbidden");
    // A page of another site cannot use the cookie.
    send(
        pad(Method::POST, "/api/windows/3/rating")
            .header("Origin", "http://evil.example")
            .json(&json!({"number": "B001", "rating": "satisfied"})),
    )
    .await
    .expect_error(403, "csrf");

    // The pairing is a row beside the log: it survives a restart.
    let hub = hub.restart().await;
    let pad = |method: Method, path: &str| {
        hub.public
            .request(method, path)
            .header("Cookie", cookie.clone())
    };
    assert_eq!(send(pad(Method::GET, "/api/rating-pad")).await.status, 200);
    let pads: Vec<wire::RatingPad> = send(hub.admin.request(Method::GET, "/api/rating-pads"))
        .await
        .json();
    assert_eq!(pads.len(), 1);
    // The admin unpairs it: the cookie stops working at once.
    let gone = send(
        hub.admin
            .request(Method::DELETE, &format!("/api/rating-pads/{}", pads[0].id)),
    )
    .await;
    assert_eq!(gone.status, 204, "{gone:?}");
    send(pad(Method::GET, "/api/rating-pad"))
        .await
        .expect_error(401, "not_paired");
    send(
        pad(Method::POST, "/api/windows/3/rating")
            .json(&json!({"number": "B001", "rating": "satisfied"})),
    )
    .await
    .expect_error(401, "not_paired");
    // Tokens of other roles are not unpaired here.
    send(hub.admin.request(Method::DELETE, "/api/rating-pads/1"))
        .await
        .expect_error(404, "not_found");
    hub.stop().await;
}
