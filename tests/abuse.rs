//! Abuse and bad input against a real hub: rate limits on ticket issuing (per kiosk) and on the
//! public endpoints (per address), and thousands of mutated JSON bodies posted to every route
//! that takes one — never a 5xx, every refusal a JSON error that says what is wrong.

use std::collections::BTreeSet;

use jiaohao_client::Client;
use jiaohao_hub::limits::{LimitConfig, Rate};
use jiaohao_store::Role;
use jiaohao_wire as wire;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Reply, TestHub, WebSession, expect_api_error, send};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kiosk_over_its_ticket_limit_gets_429_with_a_message_and_others_go_on() {
    let hub = TestHub::start_with(|config| {
        config.limits = LimitConfig {
            // One more ticket a minute after the burst: a test never waits that long.
            tickets: Some(Rate {
                burst: 3,
                per_minute: 1,
            }),
            public: None,
        };
    })
    .await;
    for _ in 0..3 {
        hub.issue("hukou").await;
    }
    let refused = hub.kiosk.issue_ticket("hukou", false, None).await;
    expect_api_error(refused, 429, "too_many_requests");
    let response = hub
        .kiosk
        .request(Method::POST, "/api/tickets")
        .json(&json!({"service": "id_card"}))
        .send()
        .await
        .unwrap();
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let reply = Reply {
        status: response.status().as_u16(),
        content_type: response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned(),
        body: response.text().await.unwrap(),
    };
    reply.expect_error(429, "too_many_requests");
    let body: wire::ErrorBody = reply.json();
    assert!(body.error.contains("try again in"), "{}", body.error);
    // The OpenAPI document describes the header too.
    let document: Value = hub
        .public
        .request(Method::GET, "/api/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        document["paths"]["/api/tickets"]["post"]["responses"]["429"]["headers"]["Retry-After"]["schema"]
            ["type"],
        "integer"
    );

    // Nothing was issued for the refused requests; another kiosk is not held back.
    let hall = hub.hall().await;
    let issued: u32 = hall.services.iter().map(|s| s.issued_today).sum();
    assert_eq!(issued, 3);
    let other = send(
        hub.admin
            .request(Method::POST, "/api/tokens")
            .json(&json!({"role": "kiosk", "name": "kiosk 2"})),
    )
    .await
    .json::<wire::CreatedToken>();
    let second = hub.public.with_token(other.token);
    let ticket = second.issue_ticket("hukou", false, None).await.unwrap();
    assert_eq!(ticket.number, "A004");
    // Other routes of the limited kiosk still work.
    assert!(hub.kiosk.hall().await.is_ok());
    hub.stop().await;
}

/// A hub whose public routes take `burst` requests per address, then one a minute.
async fn hub_limiting_the_public_to(burst: u32) -> TestHub {
    TestHub::start_with(move |config| {
        config.limits = LimitConfig {
            tickets: None,
            public: Some(Rate {
                burst,
                per_minute: 1,
            }),
        };
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_booking_routes_are_limited_per_address_and_spare_other_addresses() {
    let hub = hub_limiting_the_public_to(4).await;
    let reply = send(
        hub.admin
            .request(Method::PUT, "/api/services/exit_entry/booking")
            .json(&json!({"slot_min": 30, "capacities": vec![2; 16]})),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    // A phone on another address of the hall's Wi-Fi.
    let base = format!("http://{}", hub.addr);
    let stranger = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .no_proxy()
        .build()
        .unwrap();
    let slots = "/api/bookings/slots?service=exit_entry&date=2026-11-24";
    let booking = json!({"service": "exit_entry", "date": "2026-11-24", "start": "09:00",
        "name": "张三", "id_number": "11010519491231002X", "phone": "13800000001"});
    // One bucket for the address across the booking routes: four requests pass …
    for _ in 0..3 {
        let response = stranger.get(format!("{base}{slots}")).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
    let response = stranger
        .post(format!("{base}/api/bookings"))
        .json(&booking)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    // … then every booking route answers 429 with Retry-After and a JSON error.
    for request in [
        stranger.get(format!("{base}{slots}")),
        stranger.post(format!("{base}/api/bookings")).json(&booking),
        stranger
            .post(format!("{base}/api/bookings/ABCD2345/verify"))
            .json(&json!({"sms_code": "123456"})),
        stranger.delete(format!("{base}/api/bookings/ABCD2345?cancel_token=x")),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 429);
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        let body: wire::ErrorBody = response.json().await.unwrap();
        assert_eq!(body.code, "too_many_requests");
    }
    // Another address is not held back: it reads the slots and books.
    assert_eq!(
        send(hub.public.request(Method::GET, slots)).await.status,
        200
    );
    let first17 = "11010519800101123";
    let check = char::from(jiaohao_core::identity::check_character(first17.as_bytes()));
    let reply = send(hub.public.request(Method::POST, "/api/bookings").json(
        &json!({"service": "exit_entry", "date": "2026-11-24", "start": "09:00",
                "name": "李四", "id_number": format!("{first17}{check}"), "phone": "13800000002"}),
    ))
    .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_endpoints_are_limited_per_address_with_429() {
    let hub = hub_limiting_the_public_to(6).await;
    let ticket = hub.issue("hukou").await;
    // One bucket per address across every public endpoint.
    for path in [
        format!("/api/tickets/{}", ticket.token),
        format!("/t/{}", ticket.token),
        "/api/windows/3/rating".to_owned(),
        "/login".to_owned(),
        format!("/api/tickets/{}", ticket.token),
        format!("/t/{}", ticket.token),
    ] {
        let reply = send(hub.public.request(Method::GET, &path)).await;
        assert!(
            [200, 204].contains(&reply.status),
            "{path} within the limit: {reply:?}"
        );
    }
    for path in [
        format!("/api/tickets/{}", ticket.token),
        format!("/t/{}", ticket.token),
        "/api/windows/3/rating".to_owned(),
        "/login".to_owned(),
    ] {
        let response = hub.public.request(Method::GET, &path).send().await.unwrap();
        assert!(response.headers().contains_key("retry-after"), "{path}");
        send(hub.public.request(Method::GET, &path))
            .await
            .expect_error(429, "too_many_requests");
    }
    let rate = send(
        hub.public
            .request(Method::POST, "/api/windows/3/rating")
            .json(&json!({"number": "B001", "rating": "satisfied"})),
    )
    .await;
    rate.expect_error(429, "too_many_requests");
    // The routes of the hall's own devices are not public ones: the display, the kiosk and
    // the hall view go on.
    assert!(hub.public.hall().await.is_ok());
    assert!(hub.kiosk.issue_ticket("hukou", false, None).await.is_ok());
    hub.stop().await;
}

/// A small deterministic generator (xorshift), so a failure names a reproducible case.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Values a field might wrongly hold.
fn nasty_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(65_536),
        json!(4_294_967_296u64),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1e308),
        json!(0.5),
        json!(""),
        json!(" "),
        json!("\u{0}"),
        json!("\u{feff}\u{202e}"),
        json!("🎫".repeat(2000)),
        json!("x".repeat(100_000)),
        json!("A001"),
        json!("hukou"),
        json!("admin"),
        json!([]),
        json!([null]),
        json!(["hukou", 3, null]),
        json!({}),
        json!({"a": {"b": [1, 2, {"c": null}]}}),
    ]
}

/// Mutants of a valid JSON body: each field removed, set to each nasty value, an unknown field
/// added, the whole body replaced; plus some random combinations.
fn mutants(valid: &Value, generator: &mut Gen) -> Vec<Value> {
    let nasty = nasty_values();
    let mut out = Vec::new();
    if let Some(object) = valid.as_object() {
        for key in object.keys() {
            let mut removed = valid.clone();
            removed.as_object_mut().unwrap().remove(key);
            out.push(removed);
            for value in &nasty {
                let mut changed = valid.clone();
                changed[key] = value.clone();
                out.push(changed);
            }
        }
        let mut extra = valid.clone();
        extra["unexpected"] = json!(1);
        out.push(extra);
        let keys: Vec<&String> = object.keys().collect();
        for _ in 0..20 {
            let mut changed = valid.clone();
            for _ in 0..1 + generator.below(3) {
                let key = keys[generator.below(keys.len())];
                changed[key] = nasty[generator.below(nasty.len())].clone();
            }
            out.push(changed);
        }
    }
    out.extend(nasty);
    out
}

/// Raw bodies that are not JSON, or not quite.
fn raw_mutants(valid: &Value, generator: &mut Gen) -> Vec<Vec<u8>> {
    let text = valid.to_string();
    let mut out: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"null".to_vec(),
        b"{".to_vec(),
        b"{\"a\":}".to_vec(),
        vec![0xff, 0xfe, 0x7b, 0x7d],
        format!("{text}{text}").into_bytes(),
        "[".repeat(5000).into_bytes(),
        format!("{}1{}", "[".repeat(200), "]".repeat(200)).into_bytes(),
    ];
    for _ in 0..10 {
        let cut = generator.below(text.len().max(1));
        out.push(text.as_bytes()[..cut].to_vec());
        let mut flipped = text.clone().into_bytes();
        let at = generator.below(flipped.len());
        flipped[at] = (generator.next() & 0xff) as u8;
        out.push(flipped);
    }
    out
}

#[track_caller]
fn never_a_server_error(what: &str, reply: &Reply) {
    assert!(reply.status < 500, "{what}: {reply:?}");
    if reply.status >= 400 {
        let body: wire::ErrorBody = serde_json::from_str(&reply.body)
            .unwrap_or_else(|e| panic!("{what}: a refusal is a JSON error ({e}): {reply:?}"));
        assert!(
            reply.content_type.starts_with("application/json"),
            "{what}: {reply:?}"
        );
        assert!(!body.error.trim().is_empty(), "{what}: {reply:?}");
    }
}

/// Who sends the body to a route: the role that may, so the body itself is what is tested.
enum Sender {
    Admin,
    Kiosk,
    Public,
    Session,
    /// A standby hub's `replica` token.
    Replica,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutated_json_bodies_on_every_route_are_refused_cleanly() {
    let hub = TestHub::start().await;
    hub.add_user("zhang", Role::Clerk);
    let session: WebSession = hub.sign_in("zhang", Some(3)).await;
    hub.open(3).await;
    hub.issue("hukou").await;
    let service = json!({"code": "residence_permit", "name_zh": "居住证", "name_en": "Residence permit",
        "prefix": "F", "wait_target_min": 20, "handling_target_min": 10, "handling_estimate_min": 5});
    let window =
        json!({"number": 11, "name_zh": "11号窗口", "name_en": "Window 11", "services": ["hukou"]});
    use Sender::*;
    let routes: Vec<(&str, &str, &str, Sender, Value)> = vec![
        (
            "PUT",
            "/api/hall/settings",
            "/api/hall/settings",
            Admin,
            json!({"name_zh": "测试大厅", "name_en": "Test hall", "timezone": "Asia/Shanghai"}),
        ),
        (
            "PUT",
            "/api/hall/notices",
            "/api/hall/notices",
            Admin,
            json!({"notices_zh": ["热线 110"], "notices_en": ["Hotline 110"]}),
        ),
        (
            "POST",
            "/api/tickets",
            "/api/tickets",
            Kiosk,
            json!({"service": "hukou", "green_channel": false}),
        ),
        (
            "POST",
            "/api/services",
            "/api/services",
            Admin,
            service.clone(),
        ),
        (
            "PUT",
            "/api/services/{code}",
            "/api/services/residence_permit",
            Admin,
            service,
        ),
        (
            "POST",
            "/api/windows",
            "/api/windows",
            Admin,
            window.clone(),
        ),
        ("PUT", "/api/windows/{n}", "/api/windows/11", Admin, window),
        (
            "PUT",
            "/api/windows/{n}/services",
            "/api/windows/3/services",
            Admin,
            json!({"services": ["id_card", "hukou"]}),
        ),
        (
            "POST",
            "/api/windows/{n}/call",
            "/api/windows/3/call",
            Admin,
            json!({"number": "B001", "reason": "老人行动不便"}),
        ),
        (
            "POST",
            "/api/windows/{n}/transfer",
            "/api/windows/3/transfer",
            Admin,
            json!({"to_window": 5}),
        ),
        (
            "POST",
            "/api/windows/{n}/pause",
            "/api/windows/3/pause",
            Admin,
            json!({"reason": "meeting"}),
        ),
        (
            "POST",
            "/api/windows/{n}/finish",
            "/api/windows/3/finish",
            Admin,
            json!({"outcome": "documents_missing", "documents": ["居民户口簿原件"]}),
        ),
        (
            "POST",
            "/api/windows/{n}/close",
            "/api/windows/3/close",
            Admin,
            json!({"reason": "training", "note": "新系统"}),
        ),
        (
            "PUT",
            "/api/rota",
            "/api/rota",
            Admin,
            json!({"shifts": [{"window": 3, "weekday": "monday", "from": "08:30", "to": "12:00"}]}),
        ),
        (
            "POST",
            "/api/cases/{id}/callback",
            "/api/cases/0/callback",
            Admin,
            json!({"note": "已电话回访"}),
        ),
        (
            "POST",
            "/api/cases/{id}/fix",
            "/api/cases/0/fix",
            Admin,
            json!({"fix": "已整改"}),
        ),
        (
            "POST",
            "/api/tickets/{token}/rating",
            "/api/tickets/0123456789abcdef0123456789abcdef/rating",
            Public,
            json!({"rating": "dissatisfied", "reason": "waiting"}),
        ),
        (
            "POST",
            "/api/windows/{n}/rating",
            "/api/windows/3/rating",
            Admin,
            json!({"number": "B001", "rating": "dissatisfied", "reason": "waiting"}),
        ),
        (
            "POST",
            "/api/rating-pad",
            "/api/rating-pad",
            Public,
            json!({"code": "ABCDEF"}),
        ),
        (
            "POST",
            "/api/tokens",
            "/api/tokens",
            Admin,
            json!({"role": "clerk", "window": 4, "name": "窗口4"}),
        ),
        (
            "PUT",
            "/api/me/window",
            "/api/me/window",
            Session,
            json!({"window": 3}),
        ),
        (
            "POST",
            "/api/users",
            "/api/users",
            Admin,
            json!({"username": "zhao", "role": "clerk", "password": "another-password"}),
        ),
        (
            "POST",
            "/api/devices/problems",
            "/api/devices/problems",
            Kiosk,
            json!({"kind": "printer", "message": "paper end"}),
        ),
        (
            "PUT",
            "/api/services/{code}/booking",
            "/api/services/exit_entry/booking",
            Admin,
            json!({"slot_min": 30, "share_pct": 20}),
        ),
        (
            "POST",
            "/api/bookings",
            "/api/bookings",
            Public,
            json!({"service": "exit_entry", "date": "2026-11-24", "start": "09:00", "name": "张三",
                "id_number": "11010519491231002X", "phone": "13800138000"}),
        ),
        (
            "POST",
            "/api/bookings/{code}/verify",
            "/api/bookings/ABCD2345/verify",
            Public,
            json!({"sms_code": "123456"}),
        ),
        (
            "POST",
            "/api/bookings/check-in",
            "/api/bookings/check-in",
            Kiosk,
            json!({"id_number": "11010519491231002X"}),
        ),
        (
            "POST",
            "/api/replication/ack",
            "/api/replication/ack",
            Replica,
            json!({"seq": 1}),
        ),
        // Last: a mutated calendar may close the hall for the routes after it.
        (
            "PUT",
            "/api/calendar",
            "/api/calendar",
            Admin,
            json!({"working_weekdays": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
                "holidays": ["2026-10-01"], "working_days": ["2026-10-10"]}),
        ),
    ];

    // Every route the OpenAPI document gives a request body is here.
    let document: Value = send(hub.public.request(Method::GET, "/api/openapi.json"))
        .await
        .json();
    let mut with_body = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if operation.get("requestBody").is_some() {
                with_body.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let covered: BTreeSet<(String, String)> = routes
        .iter()
        .map(|(m, r, ..)| ((*m).to_owned(), (*r).to_owned()))
        .collect();
    assert_eq!(covered, with_body, "every route with a JSON body is fuzzed");

    let replica = hub.public.with_token(
        jiaohao_hub::cli::create_token(&hub.db, Role::Replica, None, "standby").unwrap(),
    );
    let client = |sender: &Sender| -> Client {
        match sender {
            Replica => replica.clone(),
            Admin => hub.admin.clone(),
            Kiosk => hub.kiosk.clone(),
            Public | Session => hub.public.clone(),
        }
    };
    let mut generator = Gen(0x9E37_79B9_7F4A_7C15);
    let mut sent = 0;
    for (method, _, path, sender, valid) in &routes {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let request = || match sender {
            Session => session.request(method.clone(), path),
            _ => client(sender).request(method.clone(), path),
        };
        for body in mutants(valid, &mut generator) {
            let reply = send(request().json(&body)).await;
            let shown: String = body.to_string().chars().take(200).collect();
            never_a_server_error(&format!("{method} {path} {shown}"), &reply);
            sent += 1;
        }
        for raw in raw_mutants(valid, &mut generator) {
            let reply = send(
                request()
                    .header("Content-Type", "application/json")
                    .body(raw.clone()),
            )
            .await;
            never_a_server_error(
                &format!(
                    "{method} {path} raw {:?}",
                    String::from_utf8_lossy(&raw[..raw.len().min(100)])
                ),
                &reply,
            );
            sent += 1;
        }
    }
    assert!(sent > 1000, "{sent} bodies");
    // The hub is still whole.
    assert!(hub.public.health().await.is_ok());
    hub.stop().await;
}
