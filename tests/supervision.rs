//! Supervision (督办): how each visit ended (办理结果) through the finish route, with the
//! body left out as before, and the reports computed from it.

use jiaohao_wire as wire;
use jiff::SignedDuration;
use reqwest::Method;
use serde_json::json;

use crate::support::{TestHub, send, send_json};

const HUKOU_DOCUMENT: &str = "居民户口簿原件";

fn outcome(kind: &str) -> wire::FinishRequest {
    wire::FinishRequest {
        outcome: kind.into(),
        documents: Vec::new(),
        reason: None,
        office: None,
    }
}

#[tokio::test]
async fn a_finish_records_how_the_visit_ended() {
    let hub = TestHub::start().await;
    let clerk = &hub.clerk3;
    clerk.window_action(3, "open").await.unwrap();
    let mut events = hub.events(None).await;
    for _ in 0..6 {
        hub.issue("hukou").await;
    }

    // No body at all: done, as every client before outcomes finishes.
    clerk.call_next(3).await.unwrap().unwrap();
    let reply = send(clerk.request(Method::POST, "/api/windows/3/finish")).await;
    assert_eq!(reply.status, 200, "{reply:?}");

    clerk.call_next(3).await.unwrap().unwrap();
    let missing = wire::FinishRequest {
        documents: vec![HUKOU_DOCUMENT.into()],
        ..outcome("documents_missing")
    };
    let done = clerk.finish(3, &missing).await.unwrap();
    assert_eq!(done.status, "done");

    clerk.call_next(3).await.unwrap().unwrap();
    for (body, words) in [
        (
            json!({"outcome": "documents_missing", "documents": ["结婚证"]}),
            "not one of the documents",
        ),
        (
            json!({"outcome": "documents_missing", "documents": []}),
            "at least one",
        ),
        (json!({"outcome": "refused"}), "reason"),
        (
            json!({"outcome": "referred", "reason": "x"}),
            "takes no reason",
        ),
        (json!({"outcome": "lost"}), "not an outcome"),
        (json!({"outcome": "done", "extra": 1}), "unknown field"),
    ] {
        let reply = send_json(clerk, Method::POST, "/api/windows/3/finish", body.clone()).await;
        reply.expect_error(400, "invalid");
        assert!(reply.body.contains(words), "{body}: {reply:?}");
    }
    let refused = wire::FinishRequest {
        reason: Some("非本辖区户籍".into()),
        ..outcome("refused")
    };
    clerk.finish(3, &refused).await.unwrap();
    clerk.call_next(3).await.unwrap().unwrap();
    // Past the 15-minute handling limit of hukou (限时办结).
    hub.clock.advance(SignedDuration::from_mins(16));
    let referred = wire::FinishRequest {
        office: Some("区出入境管理大队".into()),
        ..outcome("referred")
    };
    clerk.finish(3, &referred).await.unwrap();

    // The stream tells the kind of each outcome, nothing more.
    let mut told = Vec::new();
    while told.len() < 4 {
        let event = events.until("ticket_finished").await;
        let message: wire::ChangeMessage = event.json().unwrap();
        if let wire::Change::TicketFinished { outcome, .. } = message.change {
            told.push(outcome);
        }
    }
    assert_eq!(told, ["done", "documents_missing", "refused", "referred"]);

    // The report counts them per service, window and clerk.
    let report: wire::Report = hub
        .admin
        .send(hub.admin.request(Method::GET, "/api/reports"))
        .await
        .unwrap()
        .unwrap();
    let window = report.windows.iter().find(|r| r.key == "3").unwrap();
    let hukou = report.services.iter().find(|r| r.key == "hukou").unwrap();
    let clerk_row = report.clerks.iter().find(|r| r.served > 0).unwrap();
    for row in [window, hukou, clerk_row, &report.total] {
        assert_eq!(
            row.outcomes,
            wire::OutcomeCounts {
                done: 1,
                documents_missing: 1,
                refused: 1,
                referred: 1
            },
            "{row:?}"
        );
        assert_eq!(row.served, 4);
        assert_eq!(row.done_pct, Some(25.0));
        assert_eq!((row.over_limit, row.within_limit_pct), (1, Some(75.0)));
    }
    assert_eq!(
        report.missing_documents,
        [wire::MissingDocument {
            service: "hukou".into(),
            document: HUKOU_DOCUMENT.into(),
            count: 1,
        }]
    );
    let csv = send(hub.admin.request(Method::GET, "/api/reports/csv")).await;
    assert!(csv.body.contains(",done_pct,"), "{}", csv.body);
    hub.stop().await;
}

#[tokio::test]
async fn pauses_and_closes_take_a_reason_class_and_reports_group_by_it() {
    let hub = TestHub::start().await;
    let clerk = &hub.clerk3;
    clerk.window_action(3, "open").await.unwrap();

    // A pause: a class and, optionally, words.
    let paused = send_json(
        clerk,
        Method::POST,
        "/api/windows/3/pause",
        json!({"reason": "training", "note": "新系统上线培训"}),
    )
    .await;
    assert_eq!(paused.status, 200, "{paused:?}");
    let paused: wire::WindowStatus = paused.json();
    assert_eq!(paused.pause_reason.as_deref(), Some("training"));
    assert_eq!(paused.pause_note.as_deref(), Some("新系统上线培训"));
    for body in [
        json!({"reason": "nap", "note": "x"}),
        json!({"reason": "   "}),
        json!({"reason": "other", "note": "字".repeat(201)}),
    ] {
        send_json(clerk, Method::POST, "/api/windows/3/pause", body)
            .await
            .expect_error(400, "invalid");
    }
    hub.clock.advance(SignedDuration::from_mins(20));
    clerk.window_action(3, "resume").await.unwrap();

    // A close: a class, as for a pause; no body at all is refused too.
    for body in [json!({"reason": "nap"}), json!({"reason": "other", "x": 1})] {
        send_json(clerk, Method::POST, "/api/windows/3/close", body)
            .await
            .expect_error(400, "invalid");
    }
    let closed = clerk.close(3, "meeting", Some("局务会")).await.unwrap();
    assert_eq!(closed.state, "closed");
    clerk.window_action(3, "open").await.unwrap();
    send(clerk.request(Method::POST, "/api/windows/3/close"))
        .await
        .expect_error(400, "invalid");
    assert_eq!(
        hub.hall().await.windows[2].state,
        "open",
        "a refused close changes nothing"
    );
    hub.clock.advance(SignedDuration::from_mins(30));
    clerk.close(3, "off_duty", None).await.unwrap();

    let report: wire::Report = hub
        .admin
        .send(hub.admin.request(Method::GET, "/api/reports"))
        .await
        .unwrap()
        .unwrap();
    let window = report.windows.iter().find(|r| r.key == "3").unwrap();
    assert_eq!(window.pause_min.training, 20.0);
    assert_eq!(
        (
            window.closes.meeting,
            window.closes.off_duty,
            window.closes.none
        ),
        (1, 1, 0)
    );
    assert_eq!(
        (
            report.total.closes.meeting,
            report.total.closes.off_duty,
            report.total.closes.none
        ),
        (1, 1, 0)
    );
    let audit = send(hub.admin.request(Method::GET, "/api/audit")).await;
    assert!(audit.body.contains("meeting: 局务会"), "{}", audit.body);
    assert!(audit.body.contains("training: 新系统上线培训"));
    hub.stop().await;
}

#[tokio::test]
async fn the_rota_is_set_and_reports_time_off_it() {
    let hub = TestHub::start().await;
    let clerk = &hub.clerk3;
    let mut shifts: Vec<serde_json::Value> = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .iter()
    .map(|day| json!({"window": 3, "weekday": day, "from": "09:00", "to": "12:00"}))
    .collect();
    let today = hub.hall().await.date.unwrap();
    let weekday = ["monday", "tuesday", "wednesday", "thursday", "friday"]
        .into_iter()
        .find(|day| {
            let date = jiaohao_core::LocalDate::parse(&today).unwrap();
            date.weekday().as_str() == *day
        })
        .expect("the test hall starts on a weekday");
    shifts.push(json!({"window": 4, "weekday": weekday, "from": "09:00", "to": "10:00"}));
    for bad in [
        json!({"shifts": [{"window": 3, "weekday": "monday", "from": "12:00", "to": "09:00"}]}),
        json!({"shifts": [{"window": 3, "weekday": "someday", "from": "09:00", "to": "12:00"}]}),
        json!({"shifts": [
            {"window": 3, "weekday": "monday", "from": "09:00", "to": "12:00"},
            {"window": 3, "weekday": "monday", "from": "11:00", "to": "13:00"}]}),
    ] {
        send_json(&hub.admin, Method::PUT, "/api/rota", bad)
            .await
            .expect_error(400, "invalid");
    }
    send_json(clerk, Method::PUT, "/api/rota", json!({"shifts": []}))
        .await
        .expect_error(403, "forbidden");
    let saved = send_json(
        &hub.admin,
        Method::PUT,
        "/api/rota",
        json!({"shifts": shifts}),
    )
    .await;
    assert_eq!(saved.status, 200, "{saved:?}");
    let rota: wire::Rota = hub
        .admin
        .send(hub.admin.request(Method::GET, "/api/rota"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rota.shifts.len(), 8);
    assert_eq!(rota.shifts[0].weekday, "monday");
    // Saving the hall's settings keeps the rota.
    let settings: wire::HallSettings = hub
        .admin
        .send(hub.admin.request(Method::GET, "/api/hall/settings"))
        .await
        .unwrap()
        .unwrap();
    send_json(
        &hub.admin,
        Method::PUT,
        "/api/hall/settings",
        serde_json::to_value(&settings).unwrap(),
    )
    .await;

    // 09:10 opens (10 minutes late), 09:30–09:40 away for 其他 (absent), 09:50–10:00 休息
    // (excused), 10:30 下班 (90 minutes early); window 4 never opens (60 minutes absent).
    let minute = |n| SignedDuration::from_mins(n);
    hub.clock.advance(minute(10));
    clerk.window_action(3, "open").await.unwrap();
    hub.clock.advance(minute(20));
    send_json(
        clerk,
        Method::POST,
        "/api/windows/3/pause",
        json!({"reason": "other", "note": "取快递"}),
    )
    .await;
    hub.clock.advance(minute(10));
    clerk.window_action(3, "resume").await.unwrap();
    hub.clock.advance(minute(10));
    clerk.pause(3, "break").await.unwrap();
    hub.clock.advance(minute(10));
    clerk.window_action(3, "resume").await.unwrap();
    hub.clock.advance(minute(30));
    clerk.close(3, "off_duty", None).await.unwrap();
    hub.clock.advance(minute(120));

    let report: wire::Report = hub
        .admin
        .send(hub.admin.request(Method::GET, "/api/reports"))
        .await
        .unwrap()
        .unwrap();
    let off = |key: &str| {
        report
            .windows
            .iter()
            .find(|r| r.key == key)
            .map(|r| r.off_rota_min.clone())
            .unwrap()
    };
    assert_eq!(
        off("3"),
        wire::OffRotaMinutes {
            late_open: 10.0,
            early_close: 90.0,
            absent: 10.0
        }
    );
    assert_eq!(
        off("4"),
        wire::OffRotaMinutes {
            late_open: 0.0,
            early_close: 0.0,
            absent: 60.0
        }
    );
    let clerk_row = report
        .clerks
        .iter()
        .find(|r| r.off_rota_min.early_close > 0.0)
        .unwrap();
    assert_eq!(
        clerk_row.off_rota_min,
        wire::OffRotaMinutes {
            late_open: 10.0,
            early_close: 90.0,
            absent: 10.0
        }
    );
    hub.stop().await;
}

async fn rate(hub: &TestHub, token: &str, body: serde_json::Value) -> jiaohao_testkit::Reply {
    let path = format!("/api/tickets/{token}/rating");
    send_json(&hub.public, Method::POST, &path, body).await
}

async fn report_of(hub: &TestHub, day: &str) -> wire::Report {
    let path = format!("/api/reports?from={day}");
    hub.admin
        .send(hub.admin.request(Method::GET, &path))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_ticket_is_rated_from_the_phone_until_the_end_of_the_next_working_day() {
    // Friday 2026-11-27; the default hall is closed at the weekend.
    let hub = TestHub::start_at_with("2026-11-27T09:00:00+08:00", |_| {}).await;
    hub.clerk3.window_action(3, "open").await.unwrap();
    let early = hub.issue("hukou").await;
    let late = hub.issue("hukou").await;
    for _ in 0..2 {
        hub.clerk3.call_next(3).await.unwrap().unwrap();
        hub.clerk3.ticket_action(3, "finish").await.unwrap();
    }
    // Saturday, after a day start and a restart: the page still shows the ticket, ratable.
    hub.set_time("2026-11-28T10:00:00+08:00");
    hub.clerk3.window_action(3, "open").await.unwrap();
    let hub = hub.restart().await;
    let status = hub.public.ticket(&early.token).await.unwrap();
    assert_eq!(
        (
            status.status.as_str(),
            status.can_rate,
            status.rate_until.as_deref()
        ),
        ("done", true, Some("2026-11-30"))
    );
    // Monday evening: rated, once.
    hub.set_time("2026-11-30T21:00:00+08:00");
    let rated = rate(
        &hub,
        &early.token,
        json!({"rating": "dissatisfied", "reason": "waiting", "callback_phone": "13900139000"}),
    )
    .await;
    assert_eq!(rated.status, 200, "{rated:?}");
    // The 差评 opened a case on Monday, which keeps the phone left for the callback.
    let cases: wire::CaseList = hub
        .admin
        .send(hub.admin.request(Method::GET, "/api/cases"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        cases
            .cases
            .iter()
            .map(|c| (c.date.as_str(), c.callback_phone.as_deref()))
            .collect::<Vec<_>>(),
        [("2026-11-30", Some("13900139000"))]
    );
    let rated: wire::TicketStatus = rated.json();
    assert_eq!(
        (rated.rating.as_deref(), rated.can_rate),
        (Some("dissatisfied"), false)
    );
    rate(&hub, &early.token, json!({"rating": "satisfied"}))
        .await
        .expect_error(409, "already_rated");
    // The rating belongs to Friday in the reports: Friday's 满意率 changed, Monday's has none.
    let friday = report_of(&hub, "2026-11-27").await;
    assert_eq!(friday.total.ratings.dissatisfied, 1);
    assert_eq!(friday.total.satisfied_pct, Some(0.0));
    let monday = report_of(&hub, "2026-11-30").await;
    assert_eq!(monday.total.ratings.dissatisfied, 0);
    // Tuesday: too late, and the citizen is told so.
    hub.set_time("2026-12-01T08:00:00+08:00");
    let refused = rate(&hub, &late.token, json!({"rating": "satisfied"})).await;
    refused.expect_error(409, "rating_ended");
    assert!(refused.body.contains("评价期已过"), "{refused:?}");
    let status = hub.public.ticket(&late.token).await.unwrap();
    assert_eq!(
        (status.can_rate, status.rate_until.as_deref()),
        (false, Some("2026-11-30"))
    );
    hub.stop().await;
}

#[tokio::test]
async fn a_citizen_rates_a_finished_ticket_once_from_its_own_page() {
    let hub = TestHub::start().await;
    let clerk = &hub.clerk3;
    clerk.window_action(3, "open").await.unwrap();
    let ticket = hub.issue("hukou").await;
    let path = format!("/api/tickets/{}/rating", ticket.token);
    let rate = |body: serde_json::Value| send_json(&hub.public, Method::POST, &path, body);

    // Not before it is finished.
    assert!(!hub.public.ticket(&ticket.token).await.unwrap().can_rate);
    rate(json!({"rating": "satisfied"}))
        .await
        .expect_error(409, "not_finished");
    clerk.call_next(3).await.unwrap().unwrap();
    clerk.ticket_action(3, "finish").await.unwrap();
    assert!(hub.public.ticket(&ticket.token).await.unwrap().can_rate);

    rate(json!({"rating": "dissatisfied"}))
        .await
        .expect_error(400, "invalid");
    rate(json!({"rating": "great"}))
        .await
        .expect_error(400, "invalid");
    let rated = rate(json!({"rating": "very_satisfied"})).await;
    assert_eq!(rated.status, 200, "{rated:?}");
    let rated: wire::TicketStatus = rated.json();
    assert_eq!(
        (rated.rating.as_deref(), rated.can_rate),
        (Some("very_satisfied"), false)
    );
    // 一次一评: once, from the phone or the window's tablet.
    rate(json!({"rating": "satisfied"}))
        .await
        .expect_error(409, "already_rated");
    send_json(
        &hub.admin,
        Method::POST,
        "/api/windows/3/rating",
        json!({"number": ticket.number, "rating": "satisfied"}),
    )
    .await
    .expect_error(409, "already_rated");
    send_json(
        &hub.public,
        Method::POST,
        "/api/tickets/0123456789abcdef0123456789abcdef/rating",
        json!({"rating": "satisfied"}),
    )
    .await
    .expect_error(404, "unknown_ticket");
    let report: wire::Report = hub
        .admin
        .send(hub.admin.request(Method::GET, "/api/reports"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.total.ratings.very_satisfied, 1);
    assert_eq!(
        report.window_ranking,
        [wire::RankedWindow {
            rank: 1,
            window: 3,
            name_zh: "3号窗口".into(),
            name_en: "Window 3".into(),
            rated: 1,
            satisfied_pct: 100.0,
        }]
    );
    assert_eq!(report.total.satisfied_pct, Some(100.0));
    assert_eq!(hub.hall().await.today.unwrap().satisfied_pct, Some(100.0));
    hub.stop().await;
}
