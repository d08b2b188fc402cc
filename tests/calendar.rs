//! The hall calendar over HTTP: the default hall's calendar, setting one as the admin, bad
//! calendars refused with a reason, and a closed day refusing tickets (今日不办公) while the
//! hall view says so and when the hall next opens.

use reqwest::Method;
use serde_json::json;

use crate::support::{TestHub, WAIT, send, send_json};
use jiaohao_wire as wire;

#[tokio::test]
async fn the_default_hall_works_monday_to_friday_with_its_holidays() {
    let hub = TestHub::start().await;
    let reply = send(hub.public.request(Method::GET, "/api/calendar")).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let calendar: wire::Calendar = reply.json();
    assert_eq!(
        calendar.working_weekdays,
        ["monday", "tuesday", "wednesday", "thursday", "friday"]
    );
    assert!(calendar.holidays.contains(&"2026-10-01".to_owned()));
    assert!(calendar.working_days.contains(&"2026-10-10".to_owned()));
    // Monday 09:00: open.
    let hall = hub.hall().await;
    assert!(hall.open_today);
    assert_eq!(hall.closed_reason, None);
    let next = hall.next_opening.expect("a next opening");
    assert_eq!(
        (next.date.as_str(), next.time.as_str()),
        ("2026-11-24", "08:30")
    );
    hub.stop().await;
}

#[tokio::test]
async fn a_closed_day_refuses_tickets_and_says_when_the_hall_opens() {
    let hub = TestHub::start().await;
    // Saturday 28 November 2026, 10:00.
    hub.set_time("2026-11-28T10:00:00+08:00");
    let reply = send_json(
        &hub.kiosk,
        Method::POST,
        "/api/tickets",
        json!({"service": "hukou"}),
    )
    .await;
    reply.expect_error(409, "hall_closed");
    let body: wire::ErrorBody = reply.json();
    assert!(body.error.starts_with("今日不办公"), "{}", body.error);
    assert!(
        body.error.contains("The hall is closed today"),
        "{}",
        body.error
    );
    assert!(body.error.contains("2026-11-30"), "{}", body.error);
    let hall = hall_when(&hub, |hall| hall.date.as_deref() == Some("2026-11-28")).await;
    assert!(!hall.open_today);
    assert_eq!(hall.closed_reason.as_deref(), Some("rest_day"));
    let next = hall.next_opening.expect("a next opening");
    assert_eq!(
        (
            next.date.as_str(),
            next.time.as_str(),
            next.weekday.as_str()
        ),
        ("2026-11-30", "08:30", "monday")
    );
    assert!(
        hall.services
            .iter()
            .all(|s| !s.available && s.unavailable_reason.as_deref() == Some("hall_closed"))
    );

    // The admin makes this Saturday a working day (调休) and Monday a holiday.
    let reply = send_json(
        &hub.admin,
        Method::PUT,
        "/api/calendar",
        json!({"working_weekdays": ["monday", "tuesday", "wednesday", "thursday", "friday"],
               "holidays": ["2026-11-30"], "working_days": ["2026-11-28"]}),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let ticket = hub.issue("hukou").await;
    assert_eq!(ticket.number, "A001");
    let hall = hub.hall().await;
    assert!(hall.open_today);
    // Monday is a holiday now: after today the hall next opens on Tuesday.
    hub.set_time("2026-11-30T10:00:00+08:00");
    // The writer's clock tick starts the new day and publishes its view.
    let hall = hall_when(&hub, |hall| hall.date.as_deref() == Some("2026-11-30")).await;
    assert_eq!(hall.closed_reason.as_deref(), Some("holiday"));
    assert_eq!(
        hall.next_opening.map(|n| n.date).as_deref(),
        Some("2026-12-01")
    );
    let reply = send(hub.public.request(Method::GET, "/api/calendar")).await;
    let calendar: wire::Calendar = reply.json();
    assert_eq!(calendar.holidays, ["2026-11-30"]);
    hub.stop().await;
}

/// The hall view once `ready` holds, waiting a bounded time for the hub's clock tick.
async fn hall_when(hub: &TestHub, ready: impl Fn(&wire::HallView) -> bool) -> wire::HallView {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let hall = hub.hall().await;
        if ready(&hall) {
            return hall;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the hall view never got there: {hall:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn only_the_admin_sets_the_calendar_and_bad_ones_are_refused() {
    let hub = TestHub::start().await;
    let good = json!({"working_weekdays": ["monday"]});
    send_json(&hub.public, Method::PUT, "/api/calendar", good.clone())
        .await
        .expect_error(401, "unauthorized");
    send_json(&hub.kiosk, Method::PUT, "/api/calendar", good.clone())
        .await
        .expect_error(403, "forbidden");
    for bad in [
        json!({"working_weekdays": ["someday"]}),
        json!({"holidays": ["2026-02-30"]}),
        json!({"holidays": ["2026-10-01"], "working_days": ["2026-10-01"]}),
        json!({"holidays": "2026-10-01"}),
        json!({"weekends": []}),
        json!({"working_weekdays": ["monday", "monday"]}),
        json!({"holidays": ["2026-10-01", "2026-10-01"]}),
        json!({"holidays": [" 2026-10-01"]}),
    ] {
        let reply = send_json(&hub.admin, Method::PUT, "/api/calendar", bad.clone()).await;
        reply.expect_error(400, "invalid");
    }
    // Nothing was changed by the refusals; the good one is kept and named in the audit.
    let reply = send_json(&hub.admin, Method::PUT, "/api/calendar", good).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let calendar: wire::Calendar = reply.json();
    assert_eq!(calendar.working_weekdays, ["monday"]);
    assert!(calendar.holidays.is_empty());
    hub.stop().await;
}

#[tokio::test]
async fn the_admin_console_has_a_calendar_section() {
    let hub = TestHub::start().await;
    let script = send(hub.public.request(Method::GET, "/assets/admin.js")).await;
    assert_eq!(script.status, 200);
    assert!(
        script.body.contains("\"/api/calendar\""),
        "admin.js edits the calendar"
    );
    assert!(
        script.body.contains("renderCalendar"),
        "admin.js has the calendar tab"
    );
    hub.stop().await;
}
