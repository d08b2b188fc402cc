//! The day rollover, driven by the injected clock: at local midnight yesterday's tickets expire,
//! numbering starts again at 001 and every window is closed — and a restart folds the log to
//! the very same hall.

use jiaohao_wire::{self as wire, Change, HallView};
use reqwest::Method;

use crate::support::{TestHub, change, expect_api_error, send};

#[tokio::test]
async fn a_new_day_starts_fresh_at_midnight() {
    let hub = TestHub::start().await;
    let called = hub.issue("hukou").await;
    let waiting = hub.issue("hukou").await;
    let also_waiting = hub.issue("id_card").await;
    hub.open(3).await;
    hub.open(5).await;
    let serving = hub.call_next(3).await;
    assert_eq!(serving.number, called.number);
    let today = hub.hall().await;
    assert_eq!(today.date.as_deref(), Some("2026-11-23"));
    assert_eq!(
        (today.services[0].waiting, today.services[1].waiting),
        (1, 1)
    );
    assert_eq!(today.windows[2].current_ticket.as_deref(), Some("A001"));

    let mut events = hub.events(None).await;
    assert_eq!(events.next().await.event, "snapshot");

    // Past midnight, to 09:00 the next morning; the hub looks at its clock every second.
    hub.set_time("2026-11-24T00:00:01+08:00");
    let started = events.until("day_started").await;
    assert_eq!(
        change(&started).change,
        Change::DayStarted {
            date: "2026-11-24".into()
        }
    );
    let view: HallView = events.until("hall_changed").await.json().unwrap();
    assert_eq!(view.date.as_deref(), Some("2026-11-24"));
    hub.set_time("2026-11-24T09:00:00+08:00");

    let hall = hub.hall().await;
    assert_eq!(hall.date.as_deref(), Some("2026-11-24"));
    assert!(
        hall.windows
            .iter()
            .all(|w| w.state == "closed" && w.current_ticket.is_none()),
        "every window is closed overnight: {:?}",
        hall.windows
    );
    assert!(
        hall.services
            .iter()
            .all(|s| s.waiting == 0 && s.issued_today == 0)
    );
    assert!(hall.recent_calls.is_empty());
    for ticket in [&waiting, &also_waiting, &called] {
        expect_api_error(
            hub.public.ticket(&ticket.token).await,
            404,
            "unknown_ticket",
        );
    }
    expect_api_error(hub.admin.call_next(3).await, 409, "window_closed");

    let fresh = hub.issue("hukou").await;
    assert_eq!(fresh.number, "A001", "numbering starts again each day");
    assert_eq!(fresh.ahead, 0);
    assert_eq!(hub.issue("id_card").await.number, "B001");
    hub.open(3).await;
    let after = hub.hall().await;

    // The state after a restart is the fold of the log: the same hall, the same answers.
    let hub = hub.restart().await;
    assert_eq!(hub.hall().await, after);
    for ticket in [&waiting, &also_waiting, &called] {
        expect_api_error(
            hub.public.ticket(&ticket.token).await,
            404,
            "unknown_ticket",
        );
    }
    let page = hub.public.ticket(&fresh.token).await.unwrap();
    assert_eq!(
        (page.number.as_str(), page.status.as_str()),
        ("A001", "waiting")
    );
    assert_eq!(hub.issue("hukou").await.number, "A002");
    hub.stop().await;
}

#[tokio::test]
async fn a_local_date_going_back_does_not_start_a_new_day() {
    let hub = TestHub::start().await;
    hub.set_time("2026-11-23T08:45:00+08:00");
    let first = hub.issue("hukou").await;
    assert_eq!(first.number, "A001");

    // 08:45 in Shanghai is 16:45 the day before in Los Angeles, when hukou still issues. Moving the hall's time zone
    // west (or a system clock stepped back over midnight) makes the local date go back.
    let mut settings: wire::HallSettings =
        send(hub.public.request(Method::GET, "/api/hall/settings"))
            .await
            .json();
    settings.timezone = "America/Los_Angeles".into();
    let reply = send(
        hub.admin
            .request(Method::PUT, "/api/hall/settings")
            .json(&settings),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");

    let second = hub.issue("hukou").await;
    assert_eq!(
        second.number, "A002",
        "the day goes on: no second A001 on 2026-11-23"
    );
    let page = hub.public.ticket(&first.token).await;
    assert!(page.is_ok(), "A001 is still waiting: {page:?}");
    assert_eq!(hub.hall().await.date.as_deref(), Some("2026-11-23"));
    hub.stop().await;
}
