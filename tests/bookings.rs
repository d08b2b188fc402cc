//! Appointments (预约) over HTTP: settings, slots, booking from a phone with the SMS code,
//! checking in at the kiosk (by code and by ID number) inside its window, cancelling, the
//! no-show bar, 50 bookings at once for 5 places, the admin's list with masked ID numbers,
//! the erasure of names and phones, and no ID number in clear anywhere in the database.

use reqwest::Method;
use serde_json::json;

use crate::support::{TestHub, send, send_json};
use jiaohao_core::identity::check_character;
use jiaohao_wire as wire;

/// A valid ID number, different for each `n` below 1000.
fn id_number(n: u32) -> String {
    let first17 = format!("11010519900{:01}{:02}{:03}", 1 + n % 9, 1 + n % 28, n);
    let check = char::from(check_character(first17.as_bytes()));
    format!("{first17}{check}")
}

fn phone(n: u32) -> String {
    format!("138{n:08}")
}

/// An admin's `PUT` of exit-entry's booking settings.
async fn put_booking(hub: &TestHub, body: serde_json::Value) -> crate::support::Reply {
    send_json(
        &hub.admin,
        Method::PUT,
        "/api/services/exit_entry/booking",
        body,
    )
    .await
}

/// Exit-entry takes bookings: 16 half-hour slots of `places` each.
async fn take_bookings(hub: &TestHub, places: u32) {
    let reply = put_booking(hub, json!({"slot_min": 30, "capacities": vec![places; 16]})).await;
    assert_eq!(reply.status, 200, "{reply:?}");
}

async fn book(hub: &TestHub, n: u32, date: &str, start: &str) -> crate::support::Reply {
    send_json(
        &hub.public,
        Method::POST,
        "/api/bookings",
        json!({"service": "exit_entry", "date": date, "start": start, "name": "张三",
            "id_number": id_number(n), "phone": phone(n)}),
    )
    .await
}

async fn verify(hub: &TestHub, n: u32, code: &str) {
    let sms = hub.sms_code(&phone(n)).expect("an SMS code was sent");
    let reply = send_json(
        &hub.public,
        Method::POST,
        &format!("/api/bookings/{code}/verify"),
        json!({"sms_code": sms}),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
}

async fn booked(hub: &TestHub, n: u32, date: &str, start: &str) -> wire::BookingCreated {
    let reply = book(hub, n, date, start).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let created: wire::BookingCreated = reply.json();
    verify(hub, n, &created.code).await;
    created
}

#[tokio::test]
async fn a_citizen_books_verifies_and_checks_in_inside_the_window() {
    let hub = TestHub::start().await;
    take_bookings(&hub, 2).await;
    let reply = send(hub.public.request(
        Method::GET,
        "/api/bookings/slots?service=exit_entry&date=2026-11-24",
    ))
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let slots: wire::BookingSlots = reply.json();
    assert!(slots.bookable);
    assert_eq!(slots.slots.len(), 16);
    assert_eq!(slots.slots[0].start, "08:30");
    assert_eq!(
        slots.days.len(),
        5,
        "five working days ahead: {:?}",
        slots.days
    );
    assert!(
        !slots.days.contains(&"2026-11-28".to_owned()),
        "Saturday is closed"
    );
    // Saturday cannot be booked, and says why.
    let saturday: wire::BookingSlots = send(hub.public.request(
        Method::GET,
        "/api/bookings/slots?service=exit_entry&date=2026-11-28",
    ))
    .await
    .json();
    assert!(!saturday.bookable && saturday.reason.is_some());

    // A wrong check character is a 400 that says so in both languages.
    let mut wrong = id_number(1);
    wrong.replace_range(17.., if wrong.ends_with('1') { "2" } else { "1" });
    let reply = send_json(
        &hub.public,
        Method::POST,
        "/api/bookings",
        json!({"service": "exit_entry", "date": "2026-11-24", "start": "09:00", "name": "张三",
            "id_number": wrong, "phone": phone(1)}),
    )
    .await;
    reply.expect_error(400, "id_number_check");
    assert!(reply.body.contains("校验位") && reply.body.contains("check character"));

    let reply = book(&hub, 1, "2026-11-24", "09:00").await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let created: wire::BookingCreated = reply.json();
    assert_eq!(created.code.len(), 8);
    assert!(!created.verified);
    assert_eq!(created.end, "09:30");
    book(&hub, 1, "2026-11-24", "10:00")
        .await
        .expect_error(409, "already_booked");
    let wrong_code = send_json(
        &hub.public,
        Method::POST,
        &format!("/api/bookings/{}/verify", created.code),
        json!({"sms_code": "000000x"}),
    )
    .await;
    wrong_code.expect_error(400, "wrong_sms_code");
    verify(&hub, 1, &created.code).await;

    // The admin's list shows the ID number masked.
    let reply = send(
        hub.admin
            .request(Method::GET, "/api/bookings?date=2026-11-24"),
    )
    .await;
    let list: Vec<wire::BookingEntry> = reply.json();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].status, "verified");
    assert_eq!(
        list[0].masked_id,
        format!("1101**********{}", &id_number(1)[14..])
    );
    send(
        hub.public
            .request(Method::GET, "/api/bookings?date=2026-11-24"),
    )
    .await
    .expect_error(401, "unauthorized");

    // Tuesday 08:29: too early; 08:31: checked in, queued by its slot start.
    hub.set_time("2026-11-24T08:29:00+08:00");
    let path = format!("/api/bookings/{}/check-in", created.code);
    let early = send(hub.kiosk.request(Method::POST, &path)).await;
    early.expect_error(409, "check_in_too_early");
    assert!(early.body.contains("08:30"), "{early:?}");
    hub.set_time("2026-11-24T08:31:00+08:00");
    let reply = send_json(
        &hub.kiosk,
        Method::POST,
        "/api/bookings/check-in",
        json!({"id_number": id_number(1)}),
    )
    .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let checked: wire::CheckedIn = reply.json();
    assert_eq!(checked.booking, created.code);
    assert!(checked.ticket.number.starts_with('E'), "{checked:?}");
    send(hub.kiosk.request(Method::POST, &path))
        .await
        .expect_error(409, "booking_not_active");
    send_json(
        &hub.kiosk,
        Method::POST,
        "/api/bookings/check-in",
        json!({"id_number": id_number(2)}),
    )
    .await
    .expect_error(404, "no_booking_today");

    // Another, checked in too late, is offered a walk-in ticket.
    hub.set_time("2026-11-24T10:00:00+08:00");
    let late = booked(&hub, 3, "2026-11-25", "09:00").await;
    hub.set_time("2026-11-25T09:16:00+08:00");
    let reply = send(hub.kiosk.request(
        Method::POST,
        &format!("/api/bookings/{}/check-in", late.code),
    ))
    .await;
    reply.expect_error(409, "check_in_too_late");
    assert!(reply.body.contains("现场取号"), "{reply:?}");

    // No ID number in clear anywhere in the file.
    let mut hub = hub;
    hub.halt().await;
    let mut bytes = std::fs::read(&hub.db).unwrap();
    bytes.extend(std::fs::read(jiaohao_store::wal_path(&hub.db)).unwrap_or_default());
    for n in [1, 3] {
        let id = id_number(n);
        assert!(
            !bytes.windows(18).any(|w| w == id.as_bytes()),
            "the database holds {id} in clear"
        );
    }
}

#[tokio::test]
async fn cancelling_needs_the_token_and_closes_two_hours_before() {
    let hub = TestHub::start().await;
    take_bookings(&hub, 2).await;
    let created = booked(&hub, 1, "2026-11-24", "09:00").await;
    let path = |token: &str| format!("/api/bookings/{}?cancel_token={token}", created.code);
    send(hub.public.request(Method::DELETE, &path("nope")))
        .await
        .expect_error(403, "wrong_cancel_token");
    hub.set_time("2026-11-24T07:01:00+08:00");
    send(
        hub.public
            .request(Method::DELETE, &path(&created.cancel_token)),
    )
    .await
    .expect_error(409, "cancel_too_late");
    hub.set_time("2026-11-24T07:00:00+08:00");
    let reply = send(
        hub.public
            .request(Method::DELETE, &path(&created.cancel_token)),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    // The place is free again, and the person may book again that day.
    let slots: wire::BookingSlots = send(hub.public.request(
        Method::GET,
        "/api/bookings/slots?service=exit_entry&date=2026-11-25",
    ))
    .await
    .json();
    assert_eq!(slots.slots[1].remaining, 2);
    hub.stop().await;
}

#[tokio::test]
async fn three_missed_bookings_bar_booking_for_30_days() {
    let hub = TestHub::start().await;
    take_bookings(&hub, 2).await;
    // Booked on Monday for Tuesday, Wednesday and Thursday; never came.
    for date in ["2026-11-24", "2026-11-25", "2026-11-26"] {
        booked(&hub, 7, date, "09:00").await;
    }
    hub.set_time("2026-11-26T09:16:00+08:00");
    book(&hub, 7, "2026-11-27", "09:00")
        .await
        .expect_error(409, "booking_barred");
    // Another person books as before.
    assert_eq!(book(&hub, 8, "2026-11-27", "09:00").await.status, 201);
    // The no-show list: person 7, barred, by the masked ID number only.
    let list = send(hub.admin.request(Method::GET, "/api/bookings/no-shows")).await;
    assert_eq!(list.status, 200, "{list:?}");
    assert!(!list.body.contains(&id_number(7)), "an ID number in clear");
    let list: Vec<wire::NoShowPerson> = list.json();
    assert_eq!(
        list,
        [wire::NoShowPerson {
            masked_id: format!("{}**********{}", &id_number(7)[..4], &id_number(7)[14..]),
            misses: 3,
            last_missed: "2026-11-26".into(),
            barred_until: Some("2026-12-26".into()),
        }]
    );
    send(hub.public.request(Method::GET, "/api/bookings/no-shows"))
        .await
        .expect_error(401, "unauthorized");
    // 30 days after the third miss the bar is over.
    hub.set_time("2026-12-28T09:00:00+08:00");
    assert_eq!(book(&hub, 7, "2026-12-29", "09:00").await.status, 201);
    hub.stop().await;
}

#[tokio::test]
async fn the_booking_rules_are_hall_settings_checked_and_kept() {
    let hub = TestHub::start().await;
    take_bookings(&hub, 2).await;
    let settings: wire::HallSettings = send(hub.public.request(Method::GET, "/api/hall/settings"))
        .await
        .json();
    // Seeded from the hall file, as the defaults.
    assert_eq!(settings.booking_rules, Some(wire::BookingRules::default()));
    let with_rules = |rules: serde_json::Value| {
        let mut body = serde_json::to_value(&settings).unwrap();
        body["booking_rules"] = rules;
        body
    };
    for (bad, rule) in [
        (json!({"lapse_min": 0}), "lapse_min"),
        (json!({"lapse_min": 61}), "lapse_min"),
        (json!({"misses_to_bar": 11}), "misses_to_bar"),
        (json!({"miss_window_days": 0}), "miss_window_days"),
        (json!({"bar_days": 366}), "bar_days"),
    ] {
        let reply = send_json(
            &hub.admin,
            Method::PUT,
            "/api/hall/settings",
            with_rules(bad),
        )
        .await;
        reply.expect_error(400, "invalid");
        assert!(
            reply.body.contains(&format!("booking_rules.{rule}")),
            "{reply:?}"
        );
    }
    // Two misses within 90 days bar for 10 days; unverified bookings lapse in 5 minutes.
    let rules = json!({"lapse_min": 5, "misses_to_bar": 2, "miss_window_days": 90, "bar_days": 10});
    let reply = send_json(
        &hub.admin,
        Method::PUT,
        "/api/hall/settings",
        with_rules(rules.clone()),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    // A client that leaves the rules out keeps them; the log keeps them over a restart.
    let mut old_client = settings.clone();
    old_client.booking_rules = None;
    let reply = send_json(
        &hub.admin,
        Method::PUT,
        "/api/hall/settings",
        serde_json::to_value(&old_client).unwrap(),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let hub = hub.restart().await;
    let kept: wire::HallSettings = send(hub.public.request(Method::GET, "/api/hall/settings"))
        .await
        .json();
    assert_eq!(
        serde_json::to_value(kept.booking_rules).unwrap(),
        rules,
        "the rules survive a settings change without them and a restart"
    );

    // The SMS names the hall's lapse, and the booking lapses after it.
    let reply = book(&hub, 3, "2026-11-24", "09:00").await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let sent = std::fs::read_to_string(jiaohao_testkit::sms_sink(&hub.db)).unwrap();
    assert!(
        sent.contains("5 分钟内有效") && sent.contains("valid for 5 minutes"),
        "{sent}"
    );
    hub.set_time("2026-11-23T09:05:00+08:00");
    let created: wire::BookingCreated = reply.json();
    let sms = hub.sms_code(&phone(3)).unwrap();
    send_json(
        &hub.public,
        Method::POST,
        &format!("/api/bookings/{}/verify", created.code),
        json!({"sms_code": sms}),
    )
    .await
    .expect_error(409, "booking_lapsed");

    // Two misses bar, and the refusal says the hall's rule.
    for date in ["2026-11-24", "2026-11-25"] {
        booked(&hub, 7, date, "10:00").await;
    }
    hub.set_time("2026-11-25T10:16:00+08:00");
    let refused = book(&hub, 7, "2026-11-26", "09:00").await;
    refused.expect_error(409, "booking_barred");
    assert!(
        refused.body.contains("90 天内已有 2 次") && refused.body.contains("10 天内不能预约"),
        "{refused:?}"
    );
    let list: Vec<wire::NoShowPerson> =
        send(hub.admin.request(Method::GET, "/api/bookings/no-shows"))
            .await
            .json();
    assert_eq!(list[0].barred_until.as_deref(), Some("2026-12-05"));
    hub.stop().await;
}

/// A small HTTP SMS gateway on 127.0.0.1: it keeps each request's JSON body and answers
/// with `status` (one request a connection).
async fn sms_gateway(
    status: u16,
) -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    let kept = received.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            // Read the head, then the body its Content-Length announces.
            let body = loop {
                let n = socket.read(&mut buffer).await.unwrap_or(0);
                if n == 0 {
                    break None;
                }
                request.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&request).into_owned();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length: usize = text[..end]
                        .lines()
                        .find_map(|line| {
                            let (name, value) = line.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break Some(request[end + 4..end + 4 + length].to_vec());
                    }
                }
            };
            if let Some(body) = body {
                kept.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap_or_default());
            }
            let answer =
                format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    (url, received)
}

#[tokio::test]
async fn booking_sms_go_to_the_halls_http_gateway_and_a_refusal_is_counted() {
    use jiaohao_hub::sms::{HttpGateway, SmsSender};
    let (url, received) = sms_gateway(200).await;
    let hub = TestHub::start_with(move |config| {
        config.sms = SmsSender::Http(HttpGateway::new(&url, HttpGateway::DEFAULT_TIMEOUT).unwrap());
    })
    .await;
    take_bookings(&hub, 2).await;
    let reply = book(&hub, 1, "2026-11-24", "09:00").await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let created: wire::BookingCreated = reply.json();
    // The gateway got the phone and the text; the code in the text verifies the booking.
    let message = received
        .lock()
        .unwrap()
        .pop()
        .expect("the gateway got the SMS");
    assert_eq!(message["phone"], phone(1));
    let text = message["text"].as_str().unwrap();
    let sms: String = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == 6)
        .expect("a six-digit code")
        .to_owned();
    let reply = send_json(
        &hub.public,
        Method::POST,
        &format!("/api/bookings/{}/verify", created.code),
        json!({"sms_code": sms}),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let figures = crate::support::scrape(&hub.admin).await;
    assert_eq!(figures["jiaohao_sms_total{result=\"sent\"}"], 1.0);
    assert_eq!(figures["jiaohao_sms_total{result=\"failed\"}"], 0.0);
    hub.stop().await;

    // A gateway that answers 503: no booking is confirmed, the citizen is told, it is counted.
    let (url, received) = sms_gateway(503).await;
    let hub = TestHub::start_with(move |config| {
        config.sms = SmsSender::Http(HttpGateway::new(&url, HttpGateway::DEFAULT_TIMEOUT).unwrap());
    })
    .await;
    take_bookings(&hub, 2).await;
    book(&hub, 2, "2026-11-24", "09:00")
        .await
        .expect_error(503, "sms_failed");
    assert_eq!(received.lock().unwrap().len(), 1);
    let figures = crate::support::scrape(&hub.admin).await;
    assert_eq!(figures["jiaohao_sms_total{result=\"failed\"}"], 1.0);
    hub.stop().await;
}

#[tokio::test]
async fn fifty_bookings_at_once_for_five_places_give_exactly_five() {
    let hub = TestHub::start().await;
    take_bookings(&hub, 5).await;
    let answers =
        futures_util::future::join_all((100..150).map(|n| book(&hub, n, "2026-11-24", "09:00")))
            .await;
    let created = answers.iter().filter(|r| r.status == 201).count();
    let full = answers
        .iter()
        .filter(|r| r.status == 409 && r.body.contains("slot_full"))
        .count();
    assert_eq!(
        (created, full),
        (5, 45),
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    // After a restart the log agrees.
    let hub = hub.restart().await;
    let slots: wire::BookingSlots = send(hub.public.request(
        Method::GET,
        "/api/bookings/slots?service=exit_entry&date=2026-11-24",
    ))
    .await
    .json();
    assert_eq!(slots.slots[1].start, "09:00");
    assert_eq!(slots.slots[1].remaining, 0);
    let list: Vec<wire::BookingEntry> = send(
        hub.admin
            .request(Method::GET, "/api/bookings?date=2026-11-24"),
    )
    .await
    .json();
    assert_eq!(list.len(), 5);
    hub.stop().await;
}

#[tokio::test]
async fn names_and_phones_are_erased_30_days_after_the_booking() {
    let hub = TestHub::start().await;
    take_bookings(&hub, 2).await;
    let created = booked(&hub, 1, "2026-11-24", "09:00").await;
    let row = |db: &std::path::Path| -> (Option<String>, Option<String>) {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.query_row(
            "SELECT name, phone FROM booking_contacts WHERE code = ?1",
            [&created.code],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap()
    };
    hub.set_time("2026-12-24T10:00:00+08:00");
    let hub = hub.restart().await;
    assert_eq!(
        row(&hub.db),
        (Some("张三".into()), Some(phone(1))),
        "kept 30 days"
    );
    hub.set_time("2026-12-26T10:00:00+08:00");
    // The job runs at start and every hour.
    let hub = hub.restart().await;
    let deadline = std::time::Instant::now() + crate::support::WAIT;
    while row(&hub.db) != (None, None) {
        assert!(std::time::Instant::now() < deadline, "not erased");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The booking itself stays in the log with its masked ID.
    let list: Vec<wire::BookingEntry> = send(
        hub.admin
            .request(Method::GET, "/api/bookings?date=2026-11-24"),
    )
    .await
    .json();
    assert_eq!(list.len(), 1);
    hub.stop().await;
}

/// Makes `service` issue tickets only with the ID number, as an admin does (the service's
/// definition read back, `identity` set, saved); answers the saved definition.
async fn require_identity(hub: &TestHub, service: &str) -> serde_json::Value {
    let path = format!("/api/services/{service}");
    let mut def: serde_json::Value = send(hub.admin.request(Method::GET, &path)).await.json();
    def["identity"] = json!("required");
    let reply = send_json(&hub.admin, Method::PUT, &path, def).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let saved: serde_json::Value = reply.json();
    assert_eq!(saved["identity"], json!("required"));
    saved
}

#[tokio::test]
async fn a_service_that_needs_the_id_issues_one_ticket_per_person_and_day() {
    let hub = TestHub::start_with(|config| config.green_channel_age = Some(70)).await;
    require_identity(&hub, "hukou").await;
    send_json(
        &hub.kiosk,
        Method::POST,
        "/api/tickets",
        json!({"service": "hukou"}),
    )
    .await
    .expect_error(409, "identity_required");
    let ticket = |id: String| {
        let kiosk = hub.kiosk.clone();
        async move {
            let reply = send_json(
                &kiosk,
                Method::POST,
                "/api/tickets",
                json!({"service": "hukou", "id_number": id}),
            )
            .await;
            assert_eq!(reply.status, 201, "{reply:?}");
            reply.json::<wire::IssuedTicket>()
        }
    };
    let first = ticket(id_number(1)).await;
    let again = ticket(id_number(1)).await;
    assert_eq!(
        (first.number.as_str(), again.number.as_str()),
        ("A001", "A001")
    );
    assert_eq!(
        first.token, again.token,
        "a second request reprints the first ticket"
    );
    assert!(
        !first.reprint && again.reprint,
        "the answer says it is a reprint"
    );
    // A retry of one request (its Idempotency-Key) is no reprint: its answer was lost.
    let retry = || {
        let kiosk = hub.kiosk.clone();
        async move {
            let reply = send(
                kiosk
                    .request(Method::POST, "/api/tickets")
                    .header("Idempotency-Key", "kiosk-retry-1")
                    .json(&json!({"service": "hukou", "id_number": id_number(2)})),
            )
            .await;
            assert_eq!(reply.status, 201, "{reply:?}");
            reply.json::<wire::IssuedTicket>()
        }
    };
    let (once, twice) = (retry().await, retry().await);
    assert_eq!(once.token, twice.token);
    assert!(!once.reprint && !twice.reprint);
    assert!(!first.green_channel, "born 1990: no green channel by age");
    // Born 31 December 1949: 76 on 23 November 2026, green by age.
    let elder = ticket("11010519491231002X".into()).await;
    assert_eq!(elder.number, "A003");
    assert!(elder.green_channel);
    send_json(
        &hub.kiosk,
        Method::POST,
        "/api/tickets",
        json!({"service": "hukou", "id_number": "110105194912310021"}),
    )
    .await
    .expect_error(400, "id_number_check");
    hub.stop().await;
}

#[tokio::test]
async fn the_booking_page_its_qr_code_and_its_calendar_entry_are_served() {
    let hub = TestHub::start().await;
    take_bookings(&hub, 2).await;
    let page = send(hub.public.request(Method::GET, "/book")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("/assets/book.js"), "{page:?}");
    let created = booked(&hub, 1, "2026-11-24", "09:00").await;
    let page = send(
        hub.public
            .request(Method::GET, &format!("/book/{}", created.code)),
    )
    .await;
    assert_eq!(page.status, 200);
    let qr = send(
        hub.public
            .request(Method::GET, &format!("/book/{}/qr.svg", created.code)),
    )
    .await;
    assert_eq!(qr.status, 200);
    assert!(qr.content_type.starts_with("image/svg+xml") && qr.body.starts_with("<svg"));
    let ics = send(
        hub.public
            .request(Method::GET, &format!("/book/{}/calendar.ics", created.code)),
    )
    .await;
    assert_eq!(ics.status, 200);
    assert!(
        ics.body
            .contains("DTSTART;TZID=Asia/Shanghai:20261124T090000"),
        "{}",
        ics.body
    );
    assert!(
        ics.body
            .contains("DTEND;TZID=Asia/Shanghai:20261124T093000")
    );
    assert!(!ics.body.contains("张三"), "no name in the calendar entry");
    let script = send(hub.public.request(Method::GET, "/assets/book.js")).await;
    assert_eq!(script.status, 200);
    assert_eq!(
        send(hub.public.request(Method::GET, "/book/NOTACODE0"))
            .await
            .status,
        404
    );
    hub.stop().await;
}

#[tokio::test]
async fn reports_split_booked_and_walk_in_tickets() {
    let hub = TestHub::start().await;
    take_bookings(&hub, 2).await;
    let created = booked(&hub, 1, "2026-11-24", "09:00").await;
    // A second booking, verified, never comes.
    booked(&hub, 2, "2026-11-24", "09:30").await;
    hub.set_time("2026-11-24T08:50:00+08:00");
    let reply = send(hub.kiosk.request(
        Method::POST,
        &format!("/api/bookings/{}/check-in", created.code),
    ))
    .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    hub.set_time("2026-11-24T09:05:00+08:00");
    hub.issue("exit_entry").await;
    hub.open(2).await;
    hub.set_time("2026-11-24T09:10:00+08:00");
    // The counter page's queue marks the booked ticket, first in line.
    let queue: wire::WindowQueue = send(hub.admin.request(Method::GET, "/api/windows/2/queue"))
        .await
        .json();
    let marks: Vec<(&str, bool, bool)> = queue
        .waiting
        .iter()
        .map(|t| (t.number.as_str(), t.booked, t.next))
        .collect();
    assert_eq!(marks, [("E001", true, true), ("E002", false, false)]);
    // The booking queued at 09:00, before the walk-in of 09:05: called first.
    let first = hub.call_next(2).await;
    assert_eq!(first.number, "E001");
    let second = hub.call_next(2).await;
    assert_eq!(second.number, "E002");
    let report: wire::Report = send(
        hub.admin
            .request(Method::GET, "/api/reports?from=2026-11-24&to=2026-11-24"),
    )
    .await
    .json();
    let row = |key: &str| {
        report
            .arrivals
            .iter()
            .find(|r| r.key == key)
            .unwrap()
            .clone()
    };
    let (booked, walk_in) = (row("booked"), row("walk_in"));
    assert_eq!((booked.called, walk_in.called), (1, 1));
    // Booked wait: 09:10 less the slot start 09:00; walk-in: 09:10 less 09:05.
    assert_eq!(booked.mean_wait_min, Some(10.0));
    assert_eq!(walk_in.mean_wait_min, Some(5.0));
    let csv = send(hub.admin.request(
        Method::GET,
        "/api/reports/csv?from=2026-11-24&to=2026-11-24",
    ))
    .await;
    assert!(csv.body.contains("arrival,booked,预约"), "{}", csv.body);
    // At 09:10 the 09:30 booking may still check in: it counts neither way yet.
    assert_eq!(
        report.bookings,
        wire::BookingAttendance {
            verified: 1,
            no_shows: 0,
            no_show_pct: Some(0.0)
        }
    );
    // Its check-in closed at 09:45: one of the two verified bookings was missed.
    hub.set_time("2026-11-24T09:46:00+08:00");
    let report: wire::Report = send(
        hub.admin
            .request(Method::GET, "/api/reports?from=2026-11-24&to=2026-11-24"),
    )
    .await
    .json();
    assert_eq!(
        report.bookings,
        wire::BookingAttendance {
            verified: 2,
            no_shows: 1,
            no_show_pct: Some(50.0)
        }
    );
    let csv = send(hub.admin.request(
        Method::GET,
        "/api/reports/csv?from=2026-11-24&to=2026-11-24",
    ))
    .await;
    let header = csv.body.lines().next().unwrap();
    let column = header
        .split(',')
        .position(|name| name == "booking_no_show_pct")
        .expect("a booking no-show column");
    let booked_line = csv
        .body
        .lines()
        .find(|line| line.starts_with("arrival,booked,"))
        .unwrap();
    let rate: f64 = booked_line.split(',').nth(column).unwrap().parse().unwrap();
    assert_eq!(rate, 50.0);
    assert_eq!(
        booked_line.split(',').count(),
        header.split(',').count(),
        "{booked_line}"
    );
    hub.stop().await;
}

#[tokio::test]
async fn the_same_idempotency_key_after_a_restart_returns_the_same_booking() {
    let hub = TestHub::start().await;
    take_bookings(&hub, 2).await;
    let request = |start: &str| {
        json!({"service": "exit_entry", "date": "2026-11-24", "start": start, "name": "张三",
            "id_number": id_number(7), "phone": phone(7)})
    };
    let book_with_key = |hub: &TestHub, start: &str| {
        hub.public
            .request(Method::POST, "/api/bookings")
            .header("Idempotency-Key", "phone-7/booking-1")
            .json(&request(start))
    };
    let first = send(book_with_key(&hub, "09:00")).await;
    assert_eq!(first.status, 201, "{first:?}");
    let first: wire::BookingCreated = first.json();
    let hub = hub.restart().await;
    let retry = send(book_with_key(&hub, "09:00")).await;
    assert_eq!(retry.status, 201, "{retry:?}");
    let retry: wire::BookingCreated = retry.json();
    assert_eq!(retry, first, "the retry got another answer");
    let list: Vec<wire::BookingEntry> = send(
        hub.admin
            .request(Method::GET, "/api/bookings?date=2026-11-24"),
    )
    .await
    .json();
    assert_eq!(list.len(), 1, "the retry booked a second time");
    // The same key for another request is a mistake, not a retry.
    send(book_with_key(&hub, "10:00"))
        .await
        .expect_error(409, "idempotency_key_reused");
    // The cancel token the retry gave back cancels the booking.
    let reply = send(hub.public.request(
        Method::DELETE,
        &format!(
            "/api/bookings/{}?cancel_token={}",
            retry.code, retry.cancel_token
        ),
    ))
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    hub.stop().await;
}

#[tokio::test]
async fn reports_tell_the_share_of_known_people_done_on_their_first_visit() {
    let hub = TestHub::start().await;
    require_identity(&hub, "hukou").await;
    hub.open(1).await;
    let visit = |n: u32, outcome: &'static str| {
        let (kiosk, admin) = (hub.kiosk.clone(), hub.admin.clone());
        async move {
            let reply = send_json(
                &kiosk,
                Method::POST,
                "/api/tickets",
                json!({"service": "hukou", "id_number": id_number(n)}),
            )
            .await;
            assert_eq!(reply.status, 201, "{reply:?}");
            admin.call_next(1).await.unwrap().unwrap();
            let body = match outcome {
                "done" => json!({"outcome": "done"}),
                _ => json!({"outcome": "refused", "reason": "材料不全"}),
            };
            let reply = send_json(&admin, Method::POST, "/api/windows/1/finish", body).await;
            assert_eq!(reply.status, 200, "{reply:?}");
        }
    };
    // Monday: person 1 is sent away, person 2 is done.
    visit(1, "refused").await;
    visit(2, "done").await;
    // Tuesday: person 1 comes back (a repeat visit, done), person 3 comes the first time.
    hub.set_time("2026-11-24T09:00:00+08:00");
    hub.open(1).await;
    visit(1, "done").await;
    visit(3, "done").await;
    let report = |day: &'static str| {
        let admin = hub.admin.clone();
        async move {
            let path = format!("/api/reports?from={day}");
            let report: wire::Report = admin
                .send(admin.request(Method::GET, &path))
                .await
                .unwrap()
                .unwrap();
            report
        }
    };
    let monday = report("2026-11-23").await;
    assert_eq!(
        (monday.total.first_visits, monday.total.first_visit_done_pct),
        (2, Some(50.0))
    );
    // Tuesday's report knows Monday's visit: person 1's ticket is no first visit.
    let tuesday = report("2026-11-24").await;
    assert_eq!(
        (
            tuesday.total.first_visits,
            tuesday.total.first_visit_done_pct
        ),
        (1, Some(100.0))
    );
    let row = tuesday.services.iter().find(|r| r.key == "hukou").unwrap();
    assert_eq!(row.first_visits, 1);
    hub.stop().await;
}

/// The booking settings of a service, as the admin reads them.
async fn settings_of(hub: &TestHub, service: &str) -> wire::BookingSettingsDef {
    let reply = send(
        hub.admin
            .request(Method::GET, &format!("/api/services/{service}/booking")),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json()
}

#[tokio::test]
async fn the_hall_file_seeds_booking_settings_on_the_first_start_only() {
    let hub = TestHub::start().await;
    // The default hall's [service.booking] tables: household registration by the hall's share
    // (50% of 300 over 17 half-hour slots), vehicles by its own (30% of 250, hourly),
    // exit-entry by the hall's (50% of 200); the other services take no bookings.
    let hukou = settings_of(&hub, "hukou").await;
    assert_eq!(hukou.slot_min, Some(30));
    assert_eq!(hukou.capacities.len(), 17);
    assert_eq!(hukou.capacities.iter().sum::<u32>(), 150);
    assert_eq!(
        (
            hukou.days_ahead,
            hukou.cancel_before_min,
            hukou.check_in_before_min,
            hukou.check_in_after_min
        ),
        (Some(5), Some(120), Some(30), Some(15))
    );
    let vehicle = settings_of(&hub, "vehicle").await;
    assert_eq!(vehicle.slot_min, Some(60));
    assert_eq!(vehicle.capacities.iter().sum::<u32>(), 75);
    let exit_entry = settings_of(&hub, "exit_entry").await;
    assert_eq!(exit_entry.capacities.iter().sum::<u32>(), 100);
    send(
        hub.admin
            .request(Method::GET, "/api/services/id_card/booking"),
    )
    .await
    .expect_error(404, "no_booking_settings");
    // A citizen can book a seeded service straight away.
    let slots: wire::BookingSlots = send(hub.public.request(
        Method::GET,
        "/api/bookings/slots?service=hukou&date=2026-11-24",
    ))
    .await
    .json();
    assert!(slots.bookable, "{slots:?}");
    assert_eq!(slots.slots[0].capacity, 9);
    // Later edits live in the database: a restart does not seed the hall file again.
    let reply = send(
        hub.admin
            .request(Method::DELETE, "/api/services/vehicle/booking"),
    )
    .await;
    assert_eq!(reply.status, 204, "{reply:?}");
    let hub = hub.restart().await;
    send(
        hub.admin
            .request(Method::GET, "/api/services/vehicle/booking"),
    )
    .await
    .expect_error(404, "no_booking_settings");
    assert_eq!(settings_of(&hub, "hukou").await, hukou);
    hub.stop().await;
}

#[tokio::test]
async fn the_default_share_is_a_hall_setting_that_fills_the_slots() {
    let hub = TestHub::start().await;
    let settings: wire::HallSettings = send(hub.admin.request(Method::GET, "/api/hall/settings"))
        .await
        .json();
    assert_eq!(settings.booking_share_pct, Some(50));
    // The admin sets 20%: violation (cap 300, 08:30–17:00) switched on with no capacities and
    // no share of its own gets 20% of its cap over 17 half-hour slots.
    let mut changed = settings.clone();
    changed.booking_share_pct = Some(20);
    let reply = send_json(
        &hub.admin,
        Method::PUT,
        "/api/hall/settings",
        serde_json::to_value(&changed).unwrap(),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let reply = send_json(
        &hub.admin,
        Method::PUT,
        "/api/services/violation/booking",
        json!({}),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let violation: wire::BookingSettingsDef = reply.json();
    assert_eq!(violation.slot_min, Some(30));
    assert_eq!(violation.capacities.len(), 17);
    assert_eq!(violation.capacities.iter().sum::<u32>(), 60);
    assert_eq!(&violation.capacities[..2], &[4, 4]);
    assert_eq!(violation.capacities[16], 3);
    // The admin then edits the capacities; they are kept as given.
    let mut edited = violation.capacities.clone();
    edited[0] = 0;
    edited[1] = 10;
    let reply = send_json(
        &hub.admin,
        Method::PUT,
        "/api/services/violation/booking",
        json!({"capacities": edited}),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(settings_of(&hub, "violation").await.capacities, edited);
    // A client of before the setting (no booking_share_pct in its body) keeps the hall's.
    let mut old_client = changed.clone();
    old_client.booking_share_pct = None;
    old_client.notices_zh.push("今日停电".into());
    old_client.notices_en.push("Power cut today".into());
    let reply = send_json(
        &hub.admin,
        Method::PUT,
        "/api/hall/settings",
        serde_json::to_value(&old_client).unwrap(),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let settings: wire::HallSettings = send(hub.admin.request(Method::GET, "/api/hall/settings"))
        .await
        .json();
    assert_eq!(settings.booking_share_pct, Some(20));
    // Out of range: 400 saying what is wrong.
    changed.booking_share_pct = Some(101);
    let reply = send_json(
        &hub.admin,
        Method::PUT,
        "/api/hall/settings",
        serde_json::to_value(&changed).unwrap(),
    )
    .await;
    reply.expect_error(400, "invalid");
    assert!(reply.body.contains("booking_share_pct"), "{reply:?}");
    // The setting outlives a restart.
    let hub = hub.restart().await;
    let settings: wire::HallSettings = send(hub.admin.request(Method::GET, "/api/hall/settings"))
        .await
        .json();
    assert_eq!(settings.booking_share_pct, Some(20));
    hub.stop().await;
}

#[tokio::test]
async fn a_put_of_booking_settings_keeps_what_it_leaves_out() {
    let hub = TestHub::start().await;
    let reply = put_booking(
        &hub,
        json!({"slot_min": 30, "capacities": vec![3; 16], "days_ahead": 3,
            "cancel_before_min": 60, "check_in_before_min": 20, "check_in_after_min": 10}),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    // Changing the share only: the cut-off, the check-in window and the days ahead stay.
    let reply = put_booking(&hub, json!({"share_pct": 40})).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let saved = settings_of(&hub, "exit_entry").await;
    assert_eq!(saved.capacities.iter().sum::<u32>(), 80);
    assert_eq!(
        (
            saved.slot_min,
            saved.days_ahead,
            saved.cancel_before_min,
            saved.check_in_before_min,
            saved.check_in_after_min
        ),
        (Some(30), Some(3), Some(60), Some(20), Some(10))
    );
    // Changing the check-in window only: the capacities stay.
    let reply = put_booking(&hub, json!({"check_in_after_min": 5})).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let after = settings_of(&hub, "exit_entry").await;
    assert_eq!(after.capacities, saved.capacities);
    assert_eq!(after.check_in_after_min, Some(5));
    assert_eq!(after.cancel_before_min, Some(60));
    // A new slot length recomputes the places by the hall's share (50% of 200, hourly).
    let reply = put_booking(&hub, json!({"slot_min": 60})).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let hourly = settings_of(&hub, "exit_entry").await;
    assert_eq!(hourly.capacities.len(), 8);
    assert_eq!(hourly.capacities.iter().sum::<u32>(), 100);
    assert_eq!(hourly.days_ahead, Some(3));
    // Capacities that do not fit the slots, or both ways of giving places: 400.
    put_booking(&hub, json!({"capacities": [1, 2, 3]}))
        .await
        .expect_error(400, "invalid");
    put_booking(&hub, json!({"capacities": vec![1; 8], "share_pct": 10}))
        .await
        .expect_error(400, "invalid");
    // Booking settings are not part of a service's body.
    let mut hukou: serde_json::Value = send(hub.admin.request(Method::GET, "/api/services/hukou"))
        .await
        .json();
    hukou["booking"] = json!({"slot_min": 30});
    send_json(&hub.admin, Method::PUT, "/api/services/hukou", hukou)
        .await
        .expect_error(400, "invalid");
    hub.stop().await;
}

#[tokio::test]
async fn saving_a_service_without_identity_keeps_the_id_requirement() {
    let hub = TestHub::start().await;
    let mut hukou = require_identity(&hub, "hukou").await;
    // A client that does not know the field leaves it out: the requirement stays.
    let mut old_client = hukou.clone();
    old_client.as_object_mut().unwrap().remove("identity");
    old_client["wait_target_min"] = json!(25);
    let reply = send_json(&hub.admin, Method::PUT, "/api/services/hukou", old_client).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let saved: wire::ServiceDef = reply.json();
    assert_eq!(saved.identity.as_deref(), Some("required"));
    assert_eq!(saved.wait_target_min, 25);
    let hall = hub.hall().await;
    let listed = hall
        .services
        .iter()
        .find(|s| s.def.code == "hukou")
        .unwrap();
    assert_eq!(listed.def.identity.as_deref(), Some("required"));
    // Saying "none" switches it off.
    hukou["identity"] = json!("none");
    let reply = send_json(&hub.admin, Method::PUT, "/api/services/hukou", hukou).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let saved: wire::ServiceDef = reply.json();
    assert_eq!(saved.identity, None);
    hub.stop().await;
}

#[tokio::test]
async fn the_days_bookings_come_as_csv_with_status_and_masked_ids_only() {
    let hub = TestHub::start().await;
    take_bookings(&hub, 2).await;
    let first = booked(&hub, 1, "2026-11-24", "09:00").await;
    // Person 2 books and never verifies: the booking lapses.
    let reply = book(&hub, 2, "2026-11-24", "09:30").await;
    assert_eq!(reply.status, 201, "{reply:?}");
    // Person 3 books household registration (seeded by the hall file).
    let reply = send_json(
        &hub.public,
        Method::POST,
        "/api/bookings",
        json!({"service": "hukou", "date": "2026-11-24", "start": "10:00", "name": "李四",
            "id_number": id_number(3), "phone": phone(3)}),
    )
    .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    hub.set_time("2026-11-23T09:20:00+08:00");
    let reply = send(
        hub.admin
            .request(Method::GET, "/api/bookings.csv?date=2026-11-24"),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(reply.content_type.starts_with("text/csv"), "{reply:?}");
    let body = reply.body.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(
        lines[0],
        "code,service,date,start,end,status,masked_id,booked_at,ticket"
    );
    assert_eq!(lines.len(), 4, "{body}");
    let row = lines
        .iter()
        .find(|line| line.starts_with(&first.code))
        .expect("the verified booking's row");
    let masked = format!("{}**********{}", &id_number(1)[..4], &id_number(1)[14..]);
    assert!(
        row.starts_with(&format!(
            "{},exit_entry,2026-11-24,09:00,09:30,verified,{masked},",
            first.code
        )),
        "{row}"
    );
    assert!(body.contains(",lapsed,"), "{body}");
    assert!(
        body.contains(",hukou,2026-11-24,10:00,10:30,lapsed,"),
        "{body}"
    );
    for n in 1..=3 {
        assert!(
            !body.contains(&id_number(n)),
            "an ID number in clear: {body}"
        );
        assert!(!body.contains(&phone(n)), "a phone number: {body}");
    }
    assert!(
        !body.contains("张三") && !body.contains("李四"),
        "a name: {body}"
    );
    // One service only.
    let reply = send(hub.admin.request(
        Method::GET,
        "/api/bookings.csv?date=2026-11-24&service=hukou",
    ))
    .await;
    assert_eq!(reply.body.lines().count(), 2, "{reply:?}");
    // Admins and supervisors only; bad input is a JSON error.
    send(
        hub.kiosk
            .request(Method::GET, "/api/bookings.csv?date=2026-11-24"),
    )
    .await
    .expect_error(403, "forbidden");
    send(
        hub.admin
            .request(Method::GET, "/api/bookings.csv?date=tomorrow"),
    )
    .await
    .expect_error(400, "invalid");
    hub.stop().await;
}
