//! 差评 cases (差评工单) over HTTP: a bad rating from the window's tablet or the citizen's phone
//! opens one, with an optional callback phone kept beside the log; supervisors and admins list
//! it and take it forward (callback, fix, close), never back; the audit names each step; the
//! report of the day it was rated on counts it as it stands now, even when it was closed a
//! week later; the phone is erased 30 days after the close.

use std::time::Duration;

use jiaohao_wire as wire;
use reqwest::Method;
use serde_json::json;

use crate::support::{TestHub, send, send_json};

/// Issues, calls and finishes a hukou ticket at window 3; its number and token.
async fn finished_ticket(hub: &TestHub) -> wire::IssuedTicket {
    let ticket = hub.issue("hukou").await;
    hub.clerk3.call_next(3).await.unwrap().unwrap();
    hub.clerk3.ticket_action(3, "finish").await.unwrap();
    ticket
}

async fn cases(hub: &TestHub, query: &str) -> wire::CaseList {
    let reply = send(
        hub.admin
            .request(Method::GET, &format!("/api/cases{query}")),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json()
}

async fn report(hub: &TestHub, day: &str) -> wire::Report {
    let reply = send(
        hub.admin
            .request(Method::GET, &format!("/api/reports?from={day}&to={day}")),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json()
}

#[tokio::test]
async fn a_bad_rating_opens_a_case_that_supervisors_take_forward() {
    let hub = TestHub::start().await;
    hub.clerk3.window_action(3, "open").await.unwrap();
    let ticket = finished_ticket(&hub).await;
    // Rated at the window (an admin may, as the window's paired pad does).
    let rate = |body: serde_json::Value| {
        send_json(&hub.admin, Method::POST, "/api/windows/3/rating", body)
    };
    // A bad phone refuses the rating as a whole.
    rate(
        json!({"number": ticket.number, "rating": "dissatisfied", "reason": "waiting",
        "callback_phone": "12345"}),
    )
    .await
    .expect_error(400, "invalid_phone");
    assert!(cases(&hub, "").await.cases.is_empty());
    let rated = rate(
        json!({"number": ticket.number, "rating": "dissatisfied", "reason": "waiting",
        "callback_phone": "13800138000"}),
    )
    .await;
    assert_eq!(rated.status, 200, "{rated:?}");

    let list = cases(&hub, "").await;
    assert_eq!(list.today, "2026-11-23");
    let [case] = &list.cases[..] else {
        panic!("{list:?}")
    };
    assert_eq!(
        (
            case.number.as_str(),
            case.window,
            case.state.as_str(),
            case.date.as_str(),
            case.due.as_str(),
        ),
        (
            ticket.number.as_str(),
            3,
            "open",
            "2026-11-23",
            "2026-11-30"
        )
    );
    assert_eq!(case.callback_phone.as_deref(), Some("13800138000"));
    assert_eq!(case.reason.as_deref(), Some("waiting"));
    // Who served the ticket: the actor of its finish, as reports name clerks.
    assert!(
        case.clerk
            .as_deref()
            .is_some_and(|clerk| clerk.starts_with("clerk:窗口3#")),
        "{case:?}"
    );
    assert!(!case.overdue);
    assert_eq!(cases(&hub, "?state=closed").await.cases.len(), 0);
    assert_eq!(cases(&hub, "?state=open&window=3").await.cases.len(), 1);
    assert_eq!(cases(&hub, "?window=4").await.cases.len(), 0);
    send(hub.admin.request(Method::GET, "/api/cases?state=lost"))
        .await
        .expect_error(400, "invalid");

    // Only supervisors and admins see cases (and the phone).
    let path = format!("/api/cases/{}", case.id);
    send(hub.clerk3.request(Method::GET, &path))
        .await
        .expect_error(403, "forbidden");
    assert_eq!(
        send(hub.public.request(Method::GET, &path)).await.status,
        401
    );
    send(hub.admin.request(Method::GET, "/api/cases/999999"))
        .await
        .expect_error(404, "unknown_case");

    // Forward only, one step at a time.
    let step = |what: &str, body: serde_json::Value| {
        let url = format!("{path}/{what}");
        let admin = hub.admin.clone();
        async move { send_json(&admin, Method::POST, &url, body).await }
    };
    step("fix", json!({"fix": "增开窗口"}))
        .await
        .expect_error(409, "case_step_refused");
    step("callback", json!({"note": " "}))
        .await
        .expect_error(400, "invalid");
    let called = step("callback", json!({"note": "已电话回访，群众表示理解"})).await;
    assert_eq!(called.status, 200, "{called:?}");
    let called: wire::CaseView = called.json();
    assert_eq!(
        called.clerk, case.clerk,
        "one case read alone names its clerk too"
    );
    assert_eq!(called.state, "called_back");
    let note = called.called_back.unwrap();
    assert_eq!(
        (note.by.as_str(), note.text.as_str()),
        ("admin", "已电话回访，群众表示理解")
    );
    step("callback", json!({"note": "again"}))
        .await
        .expect_error(409, "case_step_refused");
    assert_eq!(
        step("fix", json!({"fix": "高峰时段增开窗口"})).await.status,
        200
    );
    let closed: wire::CaseView = step("close", json!({})).await.json();
    assert_eq!(closed.state, "closed");
    assert!(closed.fixed_in_time);
    step("close", json!({}))
        .await
        .expect_error(409, "case_step_refused");

    // The audit names every step.
    let audit = send(
        hub.admin
            .request(Method::GET, &format!("/api/audit?number={}", ticket.number)),
    )
    .await;
    let audit: wire::AuditPage = audit.json();
    let kinds: Vec<&str> = audit
        .entries
        .iter()
        .map(|entry| entry.kind.as_str())
        .collect();
    for kind in [
        "case_opened",
        "case_called_back",
        "case_fixed",
        "case_closed",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    // The report of the day.
    let figures = report(&hub, "2026-11-23").await.cases;
    let hall = figures.iter().find(|row| row.window.is_none()).unwrap();
    assert_eq!(
        (
            hall.month.as_str(),
            hall.cases,
            hall.called_back,
            hall.fixed_in_time
        ),
        ("2026-11", 1, 1, 1)
    );
    assert_eq!(hall.callback_pct, Some(100.0));
    assert!(
        figures
            .iter()
            .any(|row| row.window == Some(3) && row.cases == 1)
    );
    // The CSV carries the same figures, in the case rows' last six columns.
    let csv = send(hub.admin.request(
        Method::GET,
        "/api/reports/csv?from=2026-11-23&to=2026-11-23",
    ))
    .await;
    let header = csv.body.lines().next().unwrap();
    assert!(
        header.ends_with(
            ",cases,cases_called_back,callback_pct,cases_fixed_in_time,fixed_in_time_pct,cases_overdue"
        ),
        "{header}"
    );
    let rows: Vec<&str> = csv
        .body
        .lines()
        .filter(|l| l.starts_with("case,"))
        .collect();
    let columns = header.split(',').count();
    assert!(
        rows.iter().all(|row| row.split(',').count() == columns),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|row| row.starts_with("case,2026-11,") && row.ends_with(",1,1,100,1,100,0")),
        "{rows:?}"
    );
    assert!(
        rows.iter().any(|row| row.starts_with("case,2026-11/3,")),
        "{rows:?}"
    );
    // A case is never in the public stream's view, and survives a restart.
    let hub = hub.restart().await;
    assert_eq!(cases(&hub, "?state=closed").await.cases.len(), 1);
    hub.stop().await;
}

#[tokio::test]
async fn a_case_closed_a_week_later_changes_the_figures_of_its_day_and_its_phone_goes() {
    let hub = TestHub::start().await;
    hub.clerk3.window_action(3, "open").await.unwrap();
    let ticket = finished_ticket(&hub).await;
    // From the phone this time, with a phone for the callback.
    let rated = send_json(
        &hub.public,
        Method::POST,
        &format!("/api/tickets/{}/rating", ticket.token),
        json!({"rating": "very_dissatisfied", "reason": "attitude", "callback_phone": "13900139000"}),
    )
    .await;
    assert_eq!(rated.status, 200, "{rated:?}");
    let before = report(&hub, "2026-11-23").await.cases;
    let hall = before.iter().find(|row| row.window.is_none()).unwrap();
    assert_eq!((hall.cases, hall.called_back, hall.overdue), (1, 0, 0));

    // Two weeks later: overdue (due 2026-11-30), then called back, fixed (late) and closed.
    hub.set_time("2026-12-07T10:00:00+08:00");
    let list = cases(&hub, "?state=overdue").await;
    assert_eq!(list.cases.len(), 1, "{list:?}");
    assert!(list.cases[0].overdue);
    let hall = report(&hub, "2026-11-23").await.cases;
    assert_eq!(hall.iter().find(|r| r.window.is_none()).unwrap().overdue, 1);
    let id = list.cases[0].id;
    for (what, body) in [
        ("callback", json!({"note": "已回访"})),
        ("fix", json!({"fix": "已批评教育"})),
        ("close", json!({})),
    ] {
        let reply = send_json(
            &hub.admin,
            Method::POST,
            &format!("/api/cases/{id}/{what}"),
            body,
        )
        .await;
        assert_eq!(reply.status, 200, "{reply:?}");
    }
    let after = report(&hub, "2026-11-23").await.cases;
    let hall = after.iter().find(|row| row.window.is_none()).unwrap();
    assert_eq!(
        (
            hall.cases,
            hall.called_back,
            hall.fixed_in_time,
            hall.overdue
        ),
        (1, 1, 0, 0)
    );
    assert_eq!(hall.fixed_in_time_pct, Some(0.0));
    // The report of the day of the steps has no case of its own.
    assert!(report(&hub, "2026-12-07").await.cases.is_empty());

    // 31 days after the close the daily erasure (which runs at start) drops the phone.
    let path = format!("/api/cases/{id}");
    let case: wire::CaseView = send(hub.admin.request(Method::GET, &path)).await.json();
    assert_eq!(case.callback_phone.as_deref(), Some("13900139000"));
    hub.set_time("2027-01-08T10:00:00+08:00");
    let hub = hub.restart().await;
    let mut erased = false;
    for _ in 0..100 {
        let case: wire::CaseView = send(hub.admin.request(Method::GET, &path)).await.json();
        if case.callback_phone.is_none() {
            erased = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(erased, "the callback phone was not erased");
    hub.stop().await;
}
