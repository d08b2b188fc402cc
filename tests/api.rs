//! Every route of the HTTP API against a real hub on the default hall: what each answers, and
//! every kind of error with its status and JSON body.

use std::collections::BTreeSet;

use jiaohao_wire as wire;
use jiff::SignedDuration;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{TestHub, WAIT, expect_api_error, send, send_json};

/// Every route of the hub's router, as `crates/jiaohao-hub/src/http/mod.rs` declares it.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/health"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/hall"),
    ("GET", "/api/hall/settings"),
    ("PUT", "/api/hall/settings"),
    ("GET", "/api/calendar"),
    ("PUT", "/api/calendar"),
    ("GET", "/api/bookings/slots"),
    ("GET", "/api/bookings"),
    ("GET", "/api/bookings/no-shows"),
    ("GET", "/api/bookings.csv"),
    ("POST", "/api/bookings"),
    ("POST", "/api/bookings/{code}/verify"),
    ("DELETE", "/api/bookings/{code}"),
    ("POST", "/api/bookings/{code}/check-in"),
    ("POST", "/api/bookings/check-in"),
    ("GET", "/api/services/{code}/booking"),
    ("PUT", "/api/services/{code}/booking"),
    ("DELETE", "/api/services/{code}/booking"),
    ("GET", "/api/rota"),
    ("PUT", "/api/rota"),
    ("GET", "/api/cases"),
    ("GET", "/api/cases/{id}"),
    ("POST", "/api/cases/{id}/callback"),
    ("POST", "/api/cases/{id}/fix"),
    ("POST", "/api/cases/{id}/close"),
    ("GET", "/api/events"),
    ("GET", "/api/replication"),
    ("POST", "/api/promote"),
    ("POST", "/api/replication/ack"),
    ("POST", "/api/tickets"),
    ("GET", "/api/tickets/{token}"),
    ("POST", "/api/tickets/{token}/rating"),
    ("GET", "/api/services"),
    ("POST", "/api/services"),
    ("GET", "/api/services/{code}"),
    ("PUT", "/api/services/{code}"),
    ("DELETE", "/api/services/{code}"),
    ("GET", "/api/windows"),
    ("POST", "/api/windows"),
    ("GET", "/api/windows/{n}"),
    ("PUT", "/api/windows/{n}"),
    ("DELETE", "/api/windows/{n}"),
    ("GET", "/api/windows/{n}/services"),
    ("PUT", "/api/windows/{n}/services"),
    ("POST", "/api/windows/{n}/call-next"),
    ("POST", "/api/windows/{n}/call"),
    ("POST", "/api/windows/{n}/recall"),
    ("POST", "/api/windows/{n}/no-show"),
    ("POST", "/api/windows/{n}/finish"),
    ("POST", "/api/windows/{n}/transfer"),
    ("POST", "/api/windows/{n}/open"),
    ("POST", "/api/windows/{n}/close"),
    ("POST", "/api/windows/{n}/pause"),
    ("POST", "/api/windows/{n}/resume"),
    ("GET", "/api/tokens"),
    ("POST", "/api/tokens"),
    ("DELETE", "/api/tokens/{id}"),
    ("PUT", "/api/hall/notices"),
    ("GET", "/api/windows/{n}/queue"),
    ("GET", "/api/windows/{n}/rating"),
    ("POST", "/api/windows/{n}/rating"),
    ("POST", "/api/windows/{n}/pairing"),
    ("GET", "/api/rating-pad"),
    ("POST", "/api/rating-pad"),
    ("GET", "/api/rating-pads"),
    ("DELETE", "/api/rating-pads/{id}"),
    ("GET", "/api/me"),
    ("PUT", "/api/me/window"),
    ("GET", "/api/users"),
    ("POST", "/api/users"),
    ("DELETE", "/api/users/{id}"),
    ("GET", "/api/reports"),
    ("GET", "/api/reports/csv"),
    ("GET", "/api/audit"),
    ("GET", "/api/devices/problems"),
    ("POST", "/api/devices/problems"),
    ("GET", "/api/advice"),
    ("GET", "/metrics"),
];

/// A service the default hall does not have.
fn residence_permit() -> wire::ServiceDef {
    wire::ServiceDef {
        code: "residence_permit".into(),
        name_zh: "居住证".into(),
        name_en: "Residence permit".into(),
        prefix: "F".into(),
        wait_target_min: 20,
        handling_target_min: 10,
        handling_estimate_min: 5,
        daily_cap: None,
        hours: Some(["08:30".into(), "17:00".into()]),
        documents_zh: vec!["本人居民身份证原件".into()],
        documents_en: vec!["Your original resident ID card".into()],
        fee_note_zh: "免费".into(),
        fee_note_en: "Free of charge".into(),
        enabled: true,
        identity: None,
        booking: None,
    }
}

fn minutes(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

#[tokio::test]
async fn health_answers_without_a_token() {
    let hub = TestHub::start().await;
    let reply = send(hub.public.request(Method::GET, "/api/health")).await;
    assert_eq!(reply.status, 200);
    assert!(reply.content_type.starts_with("application/json"));
    let health: wire::Health = reply.json();
    assert_eq!(health.status, "ok");
    hub.stop().await;
}

#[tokio::test]
async fn the_hall_shows_services_windows_and_recent_calls() {
    let hub = TestHub::start().await;
    let hall = hub.hall().await;
    assert_eq!(hall.name_zh, "清河县公安局行政服务中心");
    assert_eq!(hall.timezone, "Asia/Shanghai");
    assert_eq!(hall.date.as_deref(), Some("2026-11-23"));
    let codes: Vec<&str> = hall.services.iter().map(|s| s.def.code.as_str()).collect();
    assert_eq!(
        codes,
        ["hukou", "id_card", "vehicle", "violation", "exit_entry"]
    );
    assert!(hall.services.iter().all(|s| s.waiting == 0 && s.available));
    let numbers: Vec<u16> = hall.windows.iter().map(|w| w.number).collect();
    assert_eq!(numbers, (1..=10).collect::<Vec<u16>>());
    assert!(hall.windows.iter().all(|w| w.state == "closed"));
    assert!(hall.recent_calls.is_empty());
    assert!(!hall.notices_zh.is_empty());

    hub.issue("hukou").await;
    hub.issue("hukou").await;
    hub.issue("exit_entry").await;
    hub.open(1).await;
    hub.call_next(1).await;

    let hall = hub.hall().await;
    let hukou = &hall.services[0];
    assert_eq!((hukou.waiting, hukou.issued_today), (1, 2));
    assert!(
        hukou.estimated_wait_min.is_some(),
        "window 1 serves hukou: {hukou:?}"
    );
    let exit_entry = &hall.services[4];
    assert_eq!(exit_entry.waiting, 1);
    assert_eq!(
        exit_entry.estimated_wait_min, None,
        "no working window serves exit_entry, so no wait can be promised"
    );
    let window = &hall.windows[0];
    assert_eq!(window.state, "serving");
    assert_eq!(window.current_ticket.as_deref(), Some("A001"));
    assert_eq!(window.current_service.as_deref(), Some("hukou"));
    assert_eq!(window.waiting, 1);
    assert_eq!(hall.recent_calls.len(), 1);
    let call = &hall.recent_calls[0];
    assert_eq!(
        (call.number.as_str(), call.window, call.recall),
        ("A001", 1, false)
    );
    assert!(
        call.at.starts_with("2026-11-23T09:00:00+08:00"),
        "{}",
        call.at
    );
    hub.stop().await;
}

#[tokio::test]
async fn tickets_are_numbered_per_service() {
    let hub = TestHub::start().await;
    hub.open(1).await;

    let reply = send_json(
        &hub.kiosk,
        Method::POST,
        "/api/tickets",
        json!({"service": "hukou"}),
    )
    .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let first: wire::IssuedTicket = reply.json();
    assert_eq!(first.number, "A001");
    assert_eq!(first.service, "hukou");
    assert_eq!(first.service_name_zh, "户籍");
    assert!(!first.green_channel);
    assert!(
        first.token.len() >= 32,
        "a ticket token is long: {}",
        first.token
    );
    assert!(
        first.token.chars().all(|c| c.is_ascii_hexdigit()),
        "{}",
        first.token
    );
    assert_eq!(first.url, format!("/t/{}", first.token));
    assert!(!first.documents.is_empty());
    assert_eq!(first.documents.len(), first.documents_en.len());
    assert!(!first.fee_note_zh.is_empty());
    assert_eq!(first.ahead, 0);
    assert!(
        first.estimated_wait_min.is_some(),
        "window 1 is open and serves hukou"
    );
    assert!(
        first.issued_at.starts_with("2026-11-23T09:00:00+08:00"),
        "{}",
        first.issued_at
    );

    let second = hub.issue("hukou").await;
    assert_eq!(second.number, "A002");
    assert_eq!(second.ahead, 1);
    assert_ne!(second.token, first.token);
    assert!(second.estimated_wait_min >= first.estimated_wait_min);
    let third = hub.issue("hukou").await;
    assert_eq!(third.number, "A003");
    assert_eq!(third.ahead, 2);

    let other = hub.issue("id_card").await;
    assert_eq!(other.number, "B001");
    assert_eq!(other.ahead, 0);

    // An admin may issue too (a clerk printing a replacement at the desk).
    let by_admin = hub
        .admin
        .issue_ticket("vehicle", false, None)
        .await
        .unwrap();
    assert_eq!(by_admin.number, "C001");

    let hall = hub.hall().await;
    assert_eq!(hall.services[0].waiting, 3);
    assert_eq!(hall.services[0].issued_today, 3);
    assert_eq!(hall.services[1].waiting, 1);
    hub.stop().await;
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_returns_the_same_ticket() {
    let hub = TestHub::start().await;
    let key = Some("kiosk-1/2026-11-23/0001");
    let first = hub.kiosk.issue_ticket("hukou", false, key).await.unwrap();
    let retry = hub.kiosk.issue_ticket("hukou", false, key).await.unwrap();
    assert_eq!(retry.number, first.number);
    assert_eq!(retry.token, first.token);

    let next = hub.issue("hukou").await;
    assert_eq!(next.number, "A002", "the retry did not use up a number");
    let hall = hub.hall().await;
    assert_eq!(
        hall.services[0].issued_today, 2,
        "the retry issued no second ticket"
    );

    // The same key for something else is a mistake, not a retry.
    expect_api_error(
        hub.kiosk.issue_ticket("id_card", false, key).await,
        409,
        "idempotency_key_reused",
    );
    hub.stop().await;
}

#[tokio::test]
async fn the_ticket_page_follows_the_ticket() {
    let hub = TestHub::start().await;
    let ticket = hub.issue("id_card").await;

    let status = hub.public.ticket(&ticket.token).await.unwrap();
    assert_eq!(status.number, "B001");
    assert_eq!(status.status, "waiting");
    assert_eq!(status.window, None);
    assert_eq!(status.ahead, Some(0));
    assert_eq!(status.called_at, None);
    assert!(!status.documents.is_empty());

    hub.clerk3.window_action(3, "open").await.unwrap();
    let called = hub.clerk3.call_next(3).await.unwrap().expect("B001 waits");
    assert_eq!(called.number, "B001");
    let status = hub.public.ticket(&ticket.token).await.unwrap();
    assert_eq!(status.status, "called");
    assert_eq!(status.window, Some(3));
    assert_eq!(status.ahead, None);
    assert!(status.called_at.is_some());

    hub.clerk3.ticket_action(3, "finish").await.unwrap();
    let status = hub.public.ticket(&ticket.token).await.unwrap();
    assert_eq!(status.status, "done");
    assert_eq!(status.window, None);
    hub.stop().await;
}

#[tokio::test]
async fn window_actions_call_recall_and_finish_tickets() {
    let hub = TestHub::start().await;
    let clerk = &hub.clerk3;

    let window = clerk.window_action(3, "open").await.unwrap();
    assert_eq!(window.state, "open");
    let nothing = send(clerk.request(Method::POST, "/api/windows/3/call-next")).await;
    assert_eq!(nothing.status, 204, "nothing waits: {nothing:?}");
    assert!(nothing.body.is_empty());

    let a1 = hub.issue("hukou").await;
    hub.clock.advance(minutes(1));
    let a2 = hub.issue("hukou").await;
    hub.clock.advance(minutes(1));

    // Out of order (选号): needs a reason, which is recorded.
    let reply = send_json(
        clerk,
        Method::POST,
        "/api/windows/3/call",
        json!({"number": "A002", "reason": "  "}),
    )
    .await;
    reply.expect_error(400, "invalid");
    let reply = send_json(
        clerk,
        Method::POST,
        "/api/windows/3/call",
        json!({"number": "A002"}),
    )
    .await;
    reply.expect_error(400, "invalid");
    let called = clerk
        .call_ticket(3, &a2.number, "行动不便的老人")
        .await
        .unwrap();
    assert_eq!(called.number, "A002");
    assert_eq!(called.status, "called");
    assert_eq!(called.window, Some(3));
    assert_eq!(called.recalls, 0);
    assert_eq!(
        hub.public.ticket(&a1.token).await.unwrap().status,
        "waiting"
    );

    let recalled = clerk.ticket_action(3, "recall").await.unwrap();
    assert_eq!((recalled.number.as_str(), recalled.recalls), ("A002", 1));
    let recalled = clerk.ticket_action(3, "recall").await.unwrap();
    assert_eq!(recalled.recalls, 2);

    let gone = clerk.ticket_action(3, "no-show").await.unwrap();
    assert_eq!(
        (gone.number.as_str(), gone.status.as_str()),
        ("A002", "no_show")
    );
    assert!(gone.finished_at.is_some());
    assert_eq!(
        hub.public.ticket(&a2.token).await.unwrap().status,
        "no_show"
    );

    let next = clerk.call_next(3).await.unwrap().expect("A001 waits");
    assert_eq!(next.number, "A001");
    let done = clerk.ticket_action(3, "finish").await.unwrap();
    assert_eq!(
        (done.number.as_str(), done.status.as_str()),
        ("A001", "done")
    );
    expect_api_error(
        clerk.ticket_action(3, "finish").await,
        409,
        "window_not_serving",
    );

    let paused = clerk.pause(3, "系统维护").await.unwrap();
    assert_eq!(paused.state, "paused");
    // Words from before reason classes are kept as `other` with those words.
    assert_eq!(paused.pause_reason.as_deref(), Some("other"));
    assert_eq!(paused.pause_note.as_deref(), Some("系统维护"));
    let resumed = clerk.window_action(3, "resume").await.unwrap();
    assert_eq!(resumed.state, "open");
    assert_eq!(resumed.pause_reason, None);
    let closed = clerk.close(3, "off_duty", None).await.unwrap();
    assert_eq!(closed.state, "closed");

    let window = hub.hall().await.windows[2].clone();
    assert_eq!(window.state, "closed");
    assert_eq!(window.current_ticket, None);
    hub.stop().await;
}

#[tokio::test]
async fn a_transferred_ticket_keeps_its_place() {
    let hub = TestHub::start().await;
    let c1 = hub.issue("vehicle").await;
    let a1 = hub.issue("hukou").await;
    hub.clock.advance(minutes(1));
    let b1 = hub.issue("id_card").await;
    hub.clock.advance(minutes(1));

    // Window 2 serves hukou: A001 is there; the clerk finds it belongs to id_card.
    hub.open(2).await;
    assert_eq!(hub.call_next(2).await.number, a1.number);
    let moved = hub
        .admin
        .transfer(
            2,
            &wire::TransferRequest {
                to_service: Some("id_card".into()),
                to_window: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(moved.number, "A001");
    assert_eq!(moved.status, "transferred");
    assert_eq!(moved.service, "id_card");
    assert_eq!(moved.transfers, 1);
    let page = hub.public.ticket(&a1.token).await.unwrap();
    assert_eq!(page.service, "id_card");
    assert_eq!(page.ahead, Some(0), "A001 was issued before B001");
    assert_eq!(hub.public.ticket(&b1.token).await.unwrap().ahead, Some(1));

    // Window 4 serves id_card: A001, issued earlier, goes before the later B001.
    hub.open(4).await;
    assert_eq!(hub.call_next(4).await.number, "A001");
    assert_eq!(hub.call_next(4).await.number, "B001");

    // To a window: window 6 calls B001 before the older vehicle ticket C001.
    let moved = hub
        .admin
        .transfer(
            4,
            &wire::TransferRequest {
                to_service: None,
                to_window: Some(6),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (moved.number.as_str(), moved.status.as_str()),
        ("B001", "transferred")
    );
    let window6 = hub.open(6).await;
    assert_eq!(
        window6.waiting, 2,
        "B001 pinned to it and C001 of its service"
    );
    assert_eq!(hub.call_next(6).await.number, "B001");
    assert_eq!(hub.call_next(6).await.number, c1.number);

    // Exactly one target, and not where the ticket already is.
    let reply = send_json(
        &hub.admin,
        Method::POST,
        "/api/windows/6/transfer",
        json!({}),
    )
    .await;
    reply.expect_error(400, "invalid");
    let reply = send_json(
        &hub.admin,
        Method::POST,
        "/api/windows/6/transfer",
        json!({"to_service": "hukou", "to_window": 1}),
    )
    .await;
    reply.expect_error(400, "invalid");
    let reply = send_json(
        &hub.admin,
        Method::POST,
        "/api/windows/6/transfer",
        json!({"to_window": 6}),
    )
    .await;
    reply.expect_error(400, "transfer_to_self");
    hub.stop().await;
}

#[tokio::test]
async fn the_green_channel_goes_first() {
    let hub = TestHub::start().await;
    let normal = hub.issue("hukou").await;
    hub.clock.advance(minutes(1));
    let green = hub.kiosk.issue_ticket("hukou", true, None).await.unwrap();
    assert!(green.green_channel);
    assert_eq!(green.number, "A002");
    assert_eq!(
        green.ahead, 0,
        "a green-channel ticket waits behind no normal ticket"
    );
    assert_eq!(
        hub.public.ticket(&normal.token).await.unwrap().ahead,
        Some(1)
    );

    hub.open(1).await;
    let first = hub.call_next(1).await;
    assert_eq!(first.number, "A002");
    assert!(first.green_channel);
    assert_eq!(hub.call_next(1).await.number, "A001");
    hub.stop().await;
}

#[tokio::test]
async fn services_are_listed_added_changed_and_removed() {
    let hub = TestHub::start().await;
    let reply = send(hub.public.request(Method::GET, "/api/services")).await;
    assert_eq!(reply.status, 200);
    let services: Vec<wire::ServiceDef> = reply.json();
    assert_eq!(services.len(), 5);
    let reply = send(hub.public.request(Method::GET, "/api/services/hukou")).await;
    let hukou: wire::ServiceDef = reply.json();
    assert_eq!(hukou, services[0]);
    assert_eq!(hukou.prefix, "A");
    assert_eq!(hukou.daily_cap, Some(300));
    assert_eq!(hukou.hours, Some(["08:30".to_owned(), "17:00".to_owned()]));

    let mut def = residence_permit();
    let reply = send(hub.admin.request(Method::POST, "/api/services").json(&def)).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    assert_eq!(reply.json::<wire::ServiceDef>(), def);
    send(hub.admin.request(Method::POST, "/api/services").json(&def))
        .await
        .expect_error(409, "service_exists");
    let mut clash = residence_permit();
    clash.code = "passport".into();
    clash.prefix = "A".into();
    send(
        hub.admin
            .request(Method::POST, "/api/services")
            .json(&clash),
    )
    .await
    .expect_error(409, "prefix_taken");

    def.name_en = "Residence permit (居住证)".into();
    def.daily_cap = Some(50);
    let reply = send(
        hub.admin
            .request(Method::PUT, "/api/services/residence_permit")
            .json(&def),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.json::<wire::ServiceDef>(), def);
    let reply = send(
        hub.public
            .request(Method::GET, "/api/services/residence_permit"),
    )
    .await;
    assert_eq!(reply.json::<wire::ServiceDef>(), def);
    send(
        hub.admin
            .request(Method::PUT, "/api/services/hukou")
            .json(&def),
    )
    .await
    .expect_error(400, "invalid");
    let hall = hub.hall().await;
    assert_eq!(hall.services.len(), 6);
    assert_eq!(hall.services[5].def, def);

    let reply = send(
        hub.admin
            .request(Method::DELETE, "/api/services/residence_permit"),
    )
    .await;
    assert_eq!(reply.status, 204, "{reply:?}");
    send(
        hub.public
            .request(Method::GET, "/api/services/residence_permit"),
    )
    .await
    .expect_error(404, "unknown_service");
    send(hub.admin.request(Method::DELETE, "/api/services/hukou"))
        .await
        .expect_error(409, "service_in_use");
    assert_eq!(hub.hall().await.services.len(), 5);
    hub.stop().await;
}

#[tokio::test]
async fn windows_are_listed_added_changed_and_removed() {
    let hub = TestHub::start().await;
    let reply = send(hub.public.request(Method::GET, "/api/windows")).await;
    let windows: Vec<wire::WindowStatus> = reply.json();
    assert_eq!(windows.len(), 10);
    assert_eq!(windows[2].services, ["id_card", "hukou"]);

    let mut def = wire::WindowDef {
        number: 11,
        name_zh: "11号窗口".into(),
        name_en: "Window 11".into(),
        services: vec!["hukou".into()],
        breaks: Vec::new(),
    };
    let reply = send(hub.admin.request(Method::POST, "/api/windows").json(&def)).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let added: wire::WindowStatus = reply.json();
    assert_eq!((added.number, added.state.as_str()), (11, "closed"));
    assert_eq!(added.services, ["hukou"]);
    send(hub.admin.request(Method::POST, "/api/windows").json(&def))
        .await
        .expect_error(409, "window_exists");
    let mut unknown = def.clone();
    unknown.number = 12;
    unknown.services = vec!["passport".into()];
    send(
        hub.admin
            .request(Method::POST, "/api/windows")
            .json(&unknown),
    )
    .await
    .expect_error(404, "unknown_service");

    def.name_en = "Window 11 (green channel)".into();
    def.services = vec!["hukou".into(), "id_card".into()];
    let reply = send(hub.admin.request(Method::PUT, "/api/windows/11").json(&def)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let reply = send(hub.public.request(Method::GET, "/api/windows/11")).await;
    let changed: wire::WindowStatus = reply.json();
    assert_eq!(changed.name_en, def.name_en);
    assert_eq!(changed.services, ["hukou", "id_card"]);
    send(hub.admin.request(Method::PUT, "/api/windows/10").json(&def))
        .await
        .expect_error(400, "invalid");

    hub.open(11).await;
    send(hub.admin.request(Method::DELETE, "/api/windows/11"))
        .await
        .expect_error(409, "window_not_closed");
    hub.admin.close(11, "other", Some("撤窗")).await.unwrap();
    let reply = send(hub.admin.request(Method::DELETE, "/api/windows/11")).await;
    assert_eq!(reply.status, 204, "{reply:?}");
    send(hub.public.request(Method::GET, "/api/windows/11"))
        .await
        .expect_error(404, "unknown_window");
    assert_eq!(hub.hall().await.windows.len(), 10);
    hub.stop().await;
}

#[tokio::test]
async fn changing_a_windows_services_changes_its_next_call() {
    let hub = TestHub::start().await;
    let a1 = hub.issue("hukou").await;
    hub.clock.advance(minutes(1));
    let b1 = hub.issue("id_card").await;

    let reply = send(hub.public.request(Method::GET, "/api/windows/3/services")).await;
    assert_eq!(
        reply.json::<wire::WindowServices>().services,
        ["id_card", "hukou"]
    );

    let window = hub
        .admin
        .set_window_services(3, &["id_card"])
        .await
        .unwrap();
    assert_eq!(window.services, ["id_card"]);
    let reply = send(hub.public.request(Method::GET, "/api/windows/3/services")).await;
    assert_eq!(reply.json::<wire::WindowServices>().services, ["id_card"]);

    hub.open(3).await;
    assert_eq!(
        hub.call_next(3).await.number,
        b1.number,
        "the older A001 is not its service now"
    );
    hub.admin.set_window_services(3, &["hukou"]).await.unwrap();
    assert_eq!(hub.call_next(3).await.number, a1.number);

    expect_api_error(
        hub.admin.set_window_services(3, &["passport"]).await,
        404,
        "unknown_service",
    );
    expect_api_error(
        hub.admin.set_window_services(99, &["hukou"]).await,
        404,
        "unknown_window",
    );
    expect_api_error(
        hub.clerk3.set_window_services(3, &["hukou"]).await,
        403,
        "forbidden",
    );
    hub.stop().await;
}

#[tokio::test]
async fn hall_settings_are_read_and_changed() {
    let hub = TestHub::start().await;
    let reply = send(hub.public.request(Method::GET, "/api/hall/settings")).await;
    assert_eq!(reply.status, 200);
    let mut settings: wire::HallSettings = reply.json();
    assert_eq!(
        settings.name_en,
        "Qinghe County Public Security Service Hall"
    );
    assert_eq!(settings.timezone, "Asia/Shanghai");
    assert_eq!(settings.notices_zh.len(), 6);
    // Seeded from the hall file.
    assert_eq!(settings.case_due_working_days, Some(5));

    settings.case_due_working_days = Some(10);
    settings.notices_zh = vec!["今日14:00–15:00系统升级，暂停办理出入境业务。".into()];
    settings.notices_en =
        vec!["Exit-entry services pause from 14:00 to 15:00 today for a system upgrade.".into()];
    let reply = send(
        hub.admin
            .request(Method::PUT, "/api/hall/settings")
            .json(&settings),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.json::<wire::HallSettings>(), settings);
    let reply = send(hub.public.request(Method::GET, "/api/hall/settings")).await;
    assert_eq!(reply.json::<wire::HallSettings>(), settings);
    let hall = hub.hall().await;
    assert_eq!(hall.notices_zh, settings.notices_zh);
    assert_eq!(hall.notices_en, settings.notices_en);

    send(
        hub.kiosk
            .request(Method::PUT, "/api/hall/settings")
            .json(&settings),
    )
    .await
    .expect_error(403, "forbidden");
    let mut nameless = settings.clone();
    nameless.name_zh = " ".into();
    send(
        hub.admin
            .request(Method::PUT, "/api/hall/settings")
            .json(&nameless),
    )
    .await
    .expect_error(400, "invalid");
    // The cases' working days: 1 to 60, and kept when a client of before cases leaves them out.
    let mut never = settings.clone();
    never.case_due_working_days = Some(0);
    send(
        hub.admin
            .request(Method::PUT, "/api/hall/settings")
            .json(&never),
    )
    .await
    .expect_error(400, "invalid");
    let mut old_client = settings.clone();
    old_client.case_due_working_days = None;
    let reply = send(
        hub.admin
            .request(Method::PUT, "/api/hall/settings")
            .json(&old_client),
    )
    .await;
    assert_eq!(
        reply.json::<wire::HallSettings>().case_due_working_days,
        Some(10)
    );
    hub.stop().await;
}

#[tokio::test]
async fn tokens_are_created_listed_and_revoked() {
    let hub = TestHub::start().await;
    let reply = send_json(
        &hub.admin,
        Method::POST,
        "/api/tokens",
        json!({"role": "clerk", "window": 5, "name": "窗口5 张警官"}),
    )
    .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let created: wire::CreatedToken = reply.json();
    assert_eq!((created.role.as_str(), created.window), ("clerk", Some(5)));
    assert!(created.token.len() >= 32 && created.token.chars().all(|c| c.is_ascii_hexdigit()));

    let clerk5 = hub.public.with_token(&created.token);
    assert_eq!(clerk5.window_action(5, "open").await.unwrap().state, "open");
    expect_api_error(clerk5.window_action(4, "open").await, 403, "forbidden");

    let reply = send(hub.admin.request(Method::GET, "/api/tokens")).await;
    assert_eq!(reply.status, 200);
    assert!(
        !reply.body.contains(&created.token),
        "a token's secret is shown only once"
    );
    let tokens: Vec<wire::TokenInfo> = reply.json();
    assert_eq!(tokens.len(), 6, "the five of the test hub and the new one");
    let listed = tokens
        .iter()
        .find(|t| t.id == created.id)
        .expect("the new token is listed");
    assert_eq!(listed.name, "窗口5 张警官");
    assert!(!listed.revoked);

    let reply = send(
        hub.admin
            .request(Method::DELETE, &format!("/api/tokens/{}", created.id)),
    )
    .await;
    assert_eq!(reply.status, 204, "{reply:?}");
    expect_api_error(clerk5.close(5, "off_duty", None).await, 401, "unauthorized");
    let tokens: Vec<wire::TokenInfo> = send(hub.admin.request(Method::GET, "/api/tokens"))
        .await
        .json();
    assert!(tokens.iter().any(|t| t.id == created.id && t.revoked));
    send(
        hub.admin
            .request(Method::DELETE, &format!("/api/tokens/{}", created.id)),
    )
    .await
    .expect_error(404, "not_found");
    send(hub.admin.request(Method::DELETE, "/api/tokens/abc"))
        .await
        .expect_error(400, "invalid");
    send_json(
        &hub.admin,
        Method::POST,
        "/api/tokens",
        json!({"role": "janitor", "name": "x"}),
    )
    .await
    .expect_error(400, "invalid");
    send(hub.kiosk.request(Method::GET, "/api/tokens"))
        .await
        .expect_error(403, "forbidden");
    hub.stop().await;
}

#[tokio::test]
async fn devices_report_problems_that_admins_read() {
    let hub = TestHub::start().await;
    let reported = hub
        .kiosk
        .report_device_problem(
            "printer",
            "the printer at 10.0.0.7:9100 cannot be reached: connection refused",
        )
        .await
        .expect("the kiosk reports");
    assert_eq!(reported.kind, "printer");
    assert_eq!(
        reported.device, "kiosk:kiosk#2",
        "the kiosk token's role, name and id"
    );
    assert_eq!(
        reported.at, "2026-11-23T09:00:00+08:00",
        "the hub's time, hall-local"
    );
    let reply = send_json(
        &hub.display,
        Method::POST,
        "/api/devices/problems",
        json!({"kind": "audio", "message": "  no sound card  "}),
    )
    .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let audio: wire::DeviceProblem = reply.json();
    assert_eq!(
        (audio.device.as_str(), audio.message.as_str()),
        ("display:display#3", "no sound card")
    );

    let listed = hub.admin.device_problems().await.expect("the admin lists");
    assert_eq!(listed, [audio.clone(), reported.clone()], "newest first");

    // Who may not: a clerk neither reports nor reads, a kiosk does not read, nobody is 401.
    expect_api_error(
        hub.clerk3.report_device_problem("printer", "x").await,
        403,
        "forbidden",
    );
    expect_api_error(hub.clerk3.device_problems().await, 403, "forbidden");
    expect_api_error(hub.kiosk.device_problems().await, 403, "forbidden");
    expect_api_error(
        hub.public.report_device_problem("printer", "x").await,
        401,
        "unauthorized",
    );
    expect_api_error(hub.public.device_problems().await, 401, "unauthorized");

    // What does not fit is 400, and nothing is saved.
    let too_long = "纸".repeat(501);
    for body in [
        json!({"kind": "toaster", "message": "on fire"}),
        json!({"kind": "Printer", "message": "paper end"}),
        json!({"kind": "printer", "message": ""}),
        json!({"kind": "printer", "message": " \n\t "}),
        json!({"kind": "printer", "message": too_long}),
        json!({"kind": "printer"}),
        json!({"kind": "printer", "message": "paper end", "device": "display:wall#1"}),
    ] {
        send_json(&hub.kiosk, Method::POST, "/api/devices/problems", body)
            .await
            .expect_error(400, "invalid");
    }
    let longest = hub
        .kiosk
        .report_device_problem("other", &"纸".repeat(500))
        .await
        .expect("500 characters fit");
    let listed = hub.admin.device_problems().await.unwrap();
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(listed[0], longest);

    // They survive a restart.
    let hub = hub.restart().await;
    assert_eq!(hub.admin.device_problems().await.unwrap().len(), 3);
    hub.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let hub = TestHub::start().await;
    let reply = send(hub.public.request(Method::GET, "/api/openapi.json")).await;
    assert_eq!(reply.status, 200);
    assert!(reply.content_type.starts_with("application/json"));
    let document: Value = reply.json();
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3."))
    );

    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    let mut described = BTreeSet::new();
    let paths = document["paths"]
        .as_object()
        .expect("the document has paths");
    for (path, item) in paths {
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if let Some(operation) = item.get(method) {
                assert!(
                    operation["responses"]
                        .as_object()
                        .is_some_and(|r| !r.is_empty()),
                    "{method} {path} describes its answers"
                );
                described.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    assert_eq!(
        described, expected,
        "the served document against the router"
    );
    let listed: BTreeSet<(String, String)> = jiaohao_hub::openapi::described_routes()
        .into_iter()
        .collect();
    assert_eq!(listed, expected, "described_routes() against the router");
    hub.stop().await;
}

#[tokio::test]
async fn malformed_requests_are_400() {
    let hub = TestHub::start().await;
    let post_ticket = || hub.kiosk.request(Method::POST, "/api/tickets");
    send(
        post_ticket()
            .header("Content-Type", "application/json")
            .body("{\"service\": "),
    )
    .await
    .expect_error(400, "invalid");
    send(
        post_ticket()
            .header("Content-Type", "text/plain")
            .body(r#"{"service":"hukou"}"#),
    )
    .await
    .expect_error(400, "invalid");
    send(post_ticket().body(r#"{"service":"hukou"}"#))
        .await
        .expect_error(400, "invalid");
    send(post_ticket().json(&json!({"service": "hukou", "vip": true})))
        .await
        .expect_error(400, "invalid");
    send(post_ticket().json(&json!({"service": 7})))
        .await
        .expect_error(400, "invalid");
    send(post_ticket().json(&json!({"service": "Hukou!"})))
        .await
        .expect_error(400, "invalid");
    send(hub.public.request(Method::GET, "/api/services/HUKOU"))
        .await
        .expect_error(400, "invalid");
    send(hub.admin.request(Method::POST, "/api/windows/abc/open"))
        .await
        .expect_error(400, "invalid");
    send(hub.admin.request(Method::POST, "/api/windows/0/open"))
        .await
        .expect_error(400, "invalid");
    send(hub.public.request(Method::GET, "/api/windows/abc"))
        .await
        .expect_error(400, "invalid");
    hub.open(3).await;
    send_json(
        &hub.admin,
        Method::POST,
        "/api/windows/3/call",
        json!({"number": "3A", "reason": "x"}),
    )
    .await
    .expect_error(400, "invalid");
    send_json(
        &hub.admin,
        Method::POST,
        "/api/windows/3/pause",
        json!({"reason": ""}),
    )
    .await
    .expect_error(400, "invalid");
    let mut service = residence_permit();
    service.prefix = "ff".into();
    send(
        hub.admin
            .request(Method::POST, "/api/services")
            .json(&service),
    )
    .await
    .expect_error(400, "invalid");
    assert_eq!(
        hub.hall().await.services[0].issued_today,
        0,
        "nothing was issued"
    );
    hub.stop().await;
}

#[tokio::test]
async fn requests_without_a_valid_token_are_401() {
    let hub = TestHub::start().await;
    let body = json!({"service": "hukou"});
    send_json(&hub.public, Method::POST, "/api/tickets", body.clone())
        .await
        .expect_error(401, "unauthorized");
    send_json(
        &hub.public.with_token("0123456789abcdef"),
        Method::POST,
        "/api/tickets",
        body.clone(),
    )
    .await
    .expect_error(401, "unauthorized");
    let almost = format!("{}0", hub.tokens.kiosk);
    send_json(
        &hub.public.with_token(almost),
        Method::POST,
        "/api/tickets",
        body.clone(),
    )
    .await
    .expect_error(401, "unauthorized");
    let basic = hub
        .public
        .request(Method::POST, "/api/tickets")
        .header("Authorization", format!("Basic {}", hub.tokens.kiosk))
        .json(&body);
    send(basic).await.expect_error(401, "unauthorized");
    send(hub.public.request(Method::POST, "/api/windows/3/call-next"))
        .await
        .expect_error(401, "unauthorized");
    send(hub.public.request(Method::GET, "/api/tokens"))
        .await
        .expect_error(401, "unauthorized");
    hub.stop().await;
}

#[tokio::test]
async fn roles_and_windows_are_enforced_with_403() {
    let hub = TestHub::start().await;
    hub.open(3).await;
    hub.open(4).await;
    hub.issue("id_card").await;

    expect_api_error(hub.kiosk.call_next(3).await, 403, "forbidden");
    expect_api_error(hub.display.call_next(3).await, 403, "forbidden");
    expect_api_error(hub.clerk3.call_next(4).await, 403, "forbidden");
    expect_api_error(
        hub.clerk3.close(4, "off_duty", None).await,
        403,
        "forbidden",
    );
    expect_api_error(
        hub.clerk3.issue_ticket("hukou", false, None).await,
        403,
        "forbidden",
    );
    expect_api_error(
        hub.display.issue_ticket("hukou", false, None).await,
        403,
        "forbidden",
    );
    send(
        hub.kiosk
            .request(Method::POST, "/api/services")
            .json(&residence_permit()),
    )
    .await
    .expect_error(403, "forbidden");
    send(hub.clerk.request(Method::DELETE, "/api/windows/10"))
        .await
        .expect_error(403, "forbidden");

    // A clerk not bound to a window may act for any.
    let called = hub.clerk.call_next(4).await.unwrap().expect("B001 waits");
    assert_eq!((called.number.as_str(), called.window), ("B001", Some(4)));
    hub.stop().await;
}

#[tokio::test]
async fn unknown_things_are_404() {
    let hub = TestHub::start().await;
    expect_api_error(
        hub.kiosk.issue_ticket("passport", false, None).await,
        404,
        "unknown_service",
    );
    send(hub.public.request(Method::GET, "/api/services/passport"))
        .await
        .expect_error(404, "unknown_service");
    send(hub.public.request(Method::GET, "/api/windows/99"))
        .await
        .expect_error(404, "unknown_window");
    send(hub.public.request(Method::GET, "/api/windows/99/services"))
        .await
        .expect_error(404, "unknown_window");
    expect_api_error(
        hub.admin.window_action(99, "open").await,
        404,
        "unknown_window",
    );
    expect_api_error(hub.admin.call_next(99).await, 404, "unknown_window");
    expect_api_error(
        hub.public.ticket("0123456789abcdef0123456789abcdef").await,
        404,
        "unknown_ticket",
    );
    hub.open(3).await;
    expect_api_error(
        hub.admin.call_ticket(3, "A999", "查询").await,
        404,
        "unknown_ticket",
    );
    send(hub.public.request(Method::GET, "/api/nothing-here"))
        .await
        .expect_error(404, "not_found");
    send(hub.public.request(Method::POST, "/api/windows/3/dance"))
        .await
        .expect_error(404, "not_found");
    // Outside /api a browser is answered with a page that says so in words.
    let page = send(hub.public.request(Method::GET, "/nothing-here")).await;
    assert_eq!(page.status, 404);
    assert!(page.content_type.starts_with("text/html"), "{page:?}");
    assert!(page.body.contains("找不到这个页面"), "{page:?}");
    hub.stop().await;
}

#[tokio::test]
async fn actions_the_hall_cannot_take_now_are_409() {
    let hub = TestHub::start().await;
    hub.issue("id_card").await;

    // A closed window, a paused window, a window opened twice.
    expect_api_error(hub.clerk3.call_next(3).await, 409, "window_closed");
    hub.clerk3.window_action(3, "open").await.unwrap();
    expect_api_error(
        hub.clerk3.window_action(3, "open").await,
        409,
        "window_already_open",
    );
    hub.clerk3.pause(3, "午休").await.unwrap();
    expect_api_error(hub.clerk3.call_next(3).await, 409, "window_paused");
    hub.clerk3.window_action(3, "resume").await.unwrap();
    hub.clerk3.call_next(3).await.unwrap().expect("B001 waits");
    expect_api_error(
        hub.clerk3.close(3, "off_duty", None).await,
        409,
        "window_serving",
    );

    // A daily cap of 2, set up through the API.
    let mut capped = residence_permit();
    capped.daily_cap = Some(2);
    let reply = send(
        hub.admin
            .request(Method::POST, "/api/services")
            .json(&capped),
    )
    .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    assert_eq!(hub.issue("residence_permit").await.number, "F001");
    assert_eq!(hub.issue("residence_permit").await.number, "F002");
    expect_api_error(
        hub.kiosk
            .issue_ticket("residence_permit", false, None)
            .await,
        409,
        "daily_cap_reached",
    );
    let hall = hub.hall().await;
    let status = hall
        .services
        .iter()
        .find(|s| s.def.code == "residence_permit")
        .unwrap();
    assert_eq!(
        (status.available, status.unavailable_reason.as_deref()),
        (false, Some("daily_cap_reached"))
    );

    // A disabled service.
    let mut violation: wire::ServiceDef =
        send(hub.public.request(Method::GET, "/api/services/violation"))
            .await
            .json();
    violation.enabled = false;
    let reply = send(
        hub.admin
            .request(Method::PUT, "/api/services/violation")
            .json(&violation),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    expect_api_error(
        hub.kiosk.issue_ticket("violation", false, None).await,
        409,
        "service_disabled",
    );
    let hall = hub.hall().await;
    assert_eq!(
        hall.services[3].unavailable_reason.as_deref(),
        Some("disabled")
    );

    // Outside the hours: exit-entry stops at 16:30, the rest at 17:00.
    hub.set_time("2026-11-23T16:45:00+08:00");
    expect_api_error(
        hub.kiosk.issue_ticket("exit_entry", false, None).await,
        409,
        "service_not_open",
    );
    assert_eq!(hub.issue("hukou").await.number, "A001");
    let hall = hub.hall().await;
    assert_eq!(
        hall.services[4].unavailable_reason.as_deref(),
        Some("not_open")
    );
    assert!(hall.services[0].available);
    hub.set_time("2026-11-23T17:30:00+08:00");
    expect_api_error(
        hub.kiosk.issue_ticket("hukou", false, None).await,
        409,
        "service_not_open",
    );
    expect_api_error(
        hub.kiosk.issue_ticket("id_card", true, None).await,
        409,
        "service_not_open",
    );
    hub.stop().await;
}

#[tokio::test]
async fn the_hall_shows_a_service_closed_once_its_hours_end() {
    let hub = TestHub::start().await;
    assert!(hub.hall().await.services[0].available);
    hub.set_time("2026-11-23T17:30:00+08:00");
    // Nothing in the hall changes at 17:00, so there is no event to wait for: poll, bounded.
    // The writer looks at the clock every second; a kiosk should stop offering hukou promptly.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let hukou = hub.hall().await.services[0].clone();
        if !hukou.available {
            assert_eq!(hukou.unavailable_reason.as_deref(), Some("not_open"));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "at 17:30 /api/hall still offers hukou tickets: {hukou:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    hub.stop().await;
}

#[tokio::test]
async fn a_wrong_method_is_405_json() {
    let hub = TestHub::start().await;
    send(hub.public.request(Method::DELETE, "/api/health"))
        .await
        .expect_error(405, "method_not_allowed");
    send(hub.kiosk.request(Method::GET, "/api/tickets"))
        .await
        .expect_error(405, "method_not_allowed");
    send(hub.admin.request(Method::PATCH, "/api/windows/3"))
        .await
        .expect_error(405, "method_not_allowed");
    send(hub.admin.request(Method::GET, "/api/windows/3/call-next"))
        .await
        .expect_error(405, "method_not_allowed");
    hub.stop().await;
}

#[tokio::test]
async fn a_change_is_visible_as_soon_as_it_is_answered() {
    let hub = TestHub::start().await;
    for n in 1..=30 {
        hub.issue("hukou").await;
        // Read right after the 201: a kiosk or admin page does just this.
        let hall = hub.public.hall().await.unwrap();
        assert_eq!(
            hall.services[0].issued_today, n,
            "GET /api/hall right after ticket A{n:03} was answered"
        );
    }
    hub.stop().await;
}

#[tokio::test]
async fn a_window_rename_survives_an_immediate_services_change() {
    let hub = TestHub::start().await;
    for round in 0..30 {
        let def = wire::WindowDef {
            number: 3,
            name_zh: "3号窗口".into(),
            name_en: format!("Window 3 (round {round})"),
            services: vec!["id_card".into(), "hukou".into()],
            breaks: Vec::new(),
        };
        let reply = send(hub.admin.request(Method::PUT, "/api/windows/3").json(&def)).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        let window = hub
            .admin
            .set_window_services(3, &["hukou", "id_card"])
            .await
            .unwrap();
        assert_eq!(
            window.name_en, def.name_en,
            "round {round}: the rename was undone"
        );
    }
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_security_headers() {
    let hub = TestHub::start().await;
    for (client, path) in [
        (&hub.public, "/api/health"),
        (&hub.public, "/api/hall"),
        (&hub.public, "/api/no-such-route"),
        (&hub.kiosk, "/api/tickets/unknown"),
    ] {
        let response = client
            .request(Method::GET, path)
            .send()
            .await
            .expect("the hub answers");
        let headers = response.headers();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        assert!(
            header("content-security-policy").contains("frame-ancestors 'none'"),
            "{path}"
        );
    }
    hub.stop().await;
}

#[tokio::test]
async fn advice_names_a_window_for_a_crowded_service_and_applying_it_shortens_the_wait() {
    let hub = TestHub::start().await;
    // Window 3 (id_card, hukou) and window 7 (vehicle only) are open; ten id_card tickets of
    // four minutes each wait at one window: a new one would wait 40 minutes, past the
    // 20-minute target, while window 7 idles.
    hub.open(3).await;
    hub.open(7).await;
    for _ in 0..10 {
        hub.issue("id_card").await;
    }
    let estimate = |hall: &wire::HallView| {
        hall.services
            .iter()
            .find(|s| s.def.code == "id_card")
            .and_then(|s| s.estimated_wait_min)
            .expect("an id_card estimate")
    };
    let before = estimate(&hub.hall().await);
    assert!(before > 20, "{before}");

    let reply = send(hub.admin.request(Method::GET, "/api/advice")).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let advice: serde_json::Value = reply.json();
    assert_eq!(advice["max_services"], 3);
    assert!(
        advice["made_at"]
            .as_str()
            .is_some_and(|at| at.starts_with("2026-11-23T09:00"))
    );
    let suggestions = advice["suggestions"].as_array().expect("suggestions");
    // Best first: by minutes saved on the crowded service.
    let saved: Vec<i64> = suggestions
        .iter()
        .map(|s| {
            s["projected_wait_min_before"].as_i64().unwrap_or(i64::MAX)
                - s["projected_wait_min_after"]
                    .as_i64()
                    .expect("a wait after")
        })
        .collect();
    assert!(saved.windows(2).all(|pair| pair[0] >= pair[1]), "{advice}");
    // Window 3's hukou waits behind the id_card tickets too, so window 7 may be told to take
    // either; the id_card one is the one this test follows.
    let best = suggestions
        .iter()
        .find(|s| s["window"] == 7 && s["add_service"] == "id_card")
        .unwrap_or_else(|| panic!("no suggestion that window 7 take id_card: {advice}"));
    assert_eq!(best["service_name_zh"], "身份证");
    assert_eq!(best["projected_wait_min_before"], before);
    let after = best["projected_wait_min_after"]
        .as_u64()
        .expect("a wait after");
    assert!(after < u64::from(before), "{best}");
    assert_eq!(
        best["services_after"],
        serde_json::json!(["vehicle", "id_card"])
    );
    assert_eq!(best["others"][0]["service"], "vehicle");
    assert_eq!(
        best["text_zh"],
        format!("7号窗口增办身份证：预计等待 {before} → {after} 分钟")
    );
    assert!(
        best["text_en"]
            .as_str()
            .is_some_and(|t| t.starts_with("Window 7 also takes"))
    );

    // Clerks may not read it; a bad limit is a 400.
    send(hub.clerk3.request(Method::GET, "/api/advice"))
        .await
        .expect_error(403, "forbidden");
    send(hub.admin.request(Method::GET, "/api/advice?max_services=0"))
        .await
        .expect_error(400, "invalid");

    // Applying it through the assignment route lowers the projection to what was promised.
    let body = serde_json::json!({"services": best["services_after"]});
    let reply = send(
        hub.admin
            .request(Method::PUT, "/api/windows/7/services")
            .json(&body),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let now = estimate(&hub.hall().await);
    assert_eq!(u64::from(now), after);
    assert!(now < before);
    let reply = send(hub.admin.request(Method::GET, "/api/advice")).await;
    let advice: serde_json::Value = reply.json();
    assert!(
        !advice["suggestions"]
            .as_array()
            .expect("suggestions")
            .iter()
            .any(|s| s["window"] == 7),
        "{advice}"
    );
}
