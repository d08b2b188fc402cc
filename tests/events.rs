//! The live stream (`GET /api/events`): a snapshot first, then every change in order with
//! increasing ids, no ticket tokens ever, and resuming with `Last-Event-ID` — also across a
//! restart of the hub.

use futures_util::StreamExt;
use jiaohao_client::StreamEvent;
use jiaohao_wire::{Change, HallView, TransferRequest};

use crate::support::{TestHub, change};

fn names(events: &[StreamEvent]) -> Vec<&str> {
    events.iter().map(|e| e.event.as_str()).collect()
}

fn id(event: &StreamEvent) -> u64 {
    event
        .id
        .unwrap_or_else(|| panic!("{} has no id: {event:?}", event.event))
}

/// Checks a run of stream events: the changes have strictly increasing ids, one after the
/// other from `after + 1`; each `hall_changed` carries the id of the change before it and a
/// hall view of exactly that sequence number.
#[track_caller]
fn check_ids(after: u64, events: &[StreamEvent]) {
    let mut last = after;
    for event in events {
        if event.event == "hall_changed" {
            assert_eq!(
                id(event),
                last,
                "hall_changed follows its change: {event:?}"
            );
            let view: HallView = event.json().expect("hall_changed carries the hall");
            assert_eq!(view.seq, last);
        } else {
            assert_eq!(id(event), last + 1, "ids go up one by one: {event:?}");
            last += 1;
            assert_eq!(change(event).id, last, "the data repeats the id");
        }
    }
}

async fn take(events: &mut crate::support::Events, count: usize) -> Vec<StreamEvent> {
    let mut taken = Vec::with_capacity(count);
    for _ in 0..count {
        taken.push(events.next().await);
    }
    taken
}

#[tokio::test]
async fn the_stream_starts_with_a_snapshot_then_sends_each_change_in_order() {
    let hub = TestHub::start().await;
    let mut events = hub.events(None).await;
    let snapshot = events.next().await;
    assert_eq!(snapshot.event, "snapshot");
    let view: HallView = snapshot.json().expect("a snapshot is the hall view");
    assert_eq!(Some(view.seq), snapshot.id);
    assert_eq!(
        view,
        hub.hall().await,
        "the snapshot is the hall as GET /api/hall shows it"
    );
    let start = id(&snapshot);

    hub.issue("id_card").await;
    hub.clerk3.window_action(3, "open").await.unwrap();
    let called = hub.clerk3.call_next(3).await.unwrap().expect("B001 waits");
    assert_eq!(called.number, "B001");

    let seen = take(&mut events, 6).await;
    assert_eq!(
        names(&seen),
        [
            "ticket_issued",
            "hall_changed",
            "window_changed",
            "hall_changed",
            "ticket_called",
            "hall_changed"
        ]
    );
    check_ids(start, &seen);
    assert_eq!(
        change(&seen[0]).change,
        Change::TicketIssued {
            number: "B001".into(),
            service: "id_card".into(),
            green_channel: false,
        }
    );
    assert_eq!(
        change(&seen[4]).change,
        Change::TicketCalled {
            number: "B001".into(),
            service: "id_card".into(),
            window: 3,
            recall: false,
            out_of_order: false,
        }
    );
    let view: HallView = seen[5].json().unwrap();
    assert_eq!(view.windows[2].current_ticket.as_deref(), Some("B001"));
    assert_eq!(view.recent_calls[0].number, "B001");

    // A recall is a call again, marked as such.
    hub.clerk3.ticket_action(3, "recall").await.unwrap();
    let seen = take(&mut events, 2).await;
    assert_eq!(names(&seen), ["ticket_called", "hall_changed"]);
    check_ids(start + 3, &seen);
    match change(&seen[0]).change {
        Change::TicketCalled {
            number,
            window,
            recall,
            ..
        } => assert_eq!((number.as_str(), window, recall), ("B001", 3, true)),
        other => panic!("a recall is a ticket_called, not {other:?}"),
    }
    let view: HallView = seen[1].json().unwrap();
    assert!(view.recent_calls[0].recall);
    hub.stop().await;
}

#[tokio::test]
async fn the_public_stream_never_carries_a_ticket_token() {
    let hub = TestHub::start().await;
    let mut events = hub.events(None).await;
    let mut data = vec![events.next().await.data];

    let mut tokens = Vec::new();
    for service in ["hukou", "hukou", "id_card"] {
        tokens.push(hub.issue(service).await.token);
    }
    tokens.push(
        hub.kiosk
            .issue_ticket("hukou", true, Some("k-1"))
            .await
            .unwrap()
            .token,
    );
    hub.open(1).await;
    hub.call_next(1).await;
    hub.admin.ticket_action(1, "recall").await.unwrap();
    let to_id_card = TransferRequest {
        to_service: Some("id_card".into()),
        to_window: None,
    };
    hub.admin.transfer(1, &to_id_card).await.unwrap();
    hub.call_next(1).await;
    hub.admin.ticket_action(1, "no-show").await.unwrap();
    hub.call_next(1).await;
    let last = hub.admin.ticket_action(1, "finish").await.unwrap();
    assert_eq!(last.status, "done");

    let end = hub.hall().await.seq;
    loop {
        let event = events.next().await;
        data.push(event.data.clone());
        if event.event == "hall_changed" && event.id == Some(end) {
            break;
        }
    }
    data.push(
        hub.public
            .request(reqwest::Method::GET, "/api/hall")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    for token in &tokens {
        for text in &data {
            assert!(
                !text.contains(token.as_str()),
                "a ticket token went public: {text}"
            );
        }
    }
    assert!(data.iter().all(|text| !text.contains("\"token\"")));
    hub.stop().await;
}

#[tokio::test]
async fn last_event_id_resumes_with_exactly_the_missed_changes() {
    let hub = TestHub::start().await;
    let mut events = hub.events(None).await;
    let noted = id(&events.next().await);
    drop(events);

    hub.issue("hukou").await;
    hub.issue("hukou").await;
    hub.open(1).await;
    // See `a_resumed_stream_never_goes_back_in_time` for why.

    let mut events = hub.events(Some(noted)).await;
    let seen = take(&mut events, 4).await;
    assert_eq!(
        names(&seen),
        [
            "ticket_issued",
            "ticket_issued",
            "window_changed",
            "hall_changed"
        ]
    );
    check_ids(noted, &seen);
    let numbers: Vec<String> = seen[..2]
        .iter()
        .map(|e| match change(e).change {
            Change::TicketIssued { number, .. } => number,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(numbers, ["A001", "A002"]);
    let view: HallView = seen[3].json().unwrap();
    assert_eq!(view, hub.hall().await);

    // And it goes on live from there, with nothing twice.
    hub.issue("hukou").await;
    let seen = take(&mut events, 2).await;
    assert_eq!(names(&seen), ["ticket_issued", "hall_changed"]);
    check_ids(noted + 3, &seen);
    hub.stop().await;
}

#[tokio::test]
async fn a_last_event_id_from_the_future_gets_a_snapshot() {
    let hub = TestHub::start().await;
    let current = hub.hall().await.seq;
    let mut events = hub.events(Some(current + 100)).await;
    let first = events.next().await;
    assert_eq!(first.event, "snapshot");
    assert_eq!(first.id, Some(current));
    let view: HallView = first.json().unwrap();
    assert_eq!(view.seq, current);
    hub.stop().await;
}

#[tokio::test]
async fn a_client_too_far_behind_gets_a_snapshot() {
    let hub = TestHub::start().await;
    let base = hub.hall().await.seq;
    // More changes than the hub replays (1000): within the daily caps of three services.
    let services = std::iter::repeat_n("hukou", 300)
        .chain(std::iter::repeat_n("id_card", 400))
        .chain(std::iter::repeat_n("violation", 300));
    let issued: Vec<_> = futures_util::stream::iter(services)
        .map(|service| hub.kiosk.issue_ticket(service, false, None))
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(
        issued.iter().all(Result::is_ok),
        "all 1000 tickets were issued"
    );
    let current = hub.hall().await.seq;
    assert_eq!(current, base + 1000);

    let mut events = hub.events(Some(base - 1)).await;
    let first = events.next().await;
    assert_eq!(first.event, "snapshot", "1001 changes behind is too far");
    assert_eq!(first.id, Some(current));
    drop(events);

    // Exactly 1000 behind is still replayed, every change in order.
    let mut events = hub.events(Some(base)).await;
    let seen = take(&mut events, 1001).await;
    assert!(seen[..1000].iter().all(|e| e.event == "ticket_issued"));
    assert_eq!(seen[1000].event, "hall_changed");
    check_ids(base, &seen);
    hub.stop().await;
}

#[tokio::test]
async fn resuming_works_across_a_hub_restart() {
    let hub = TestHub::start().await;
    let mut events = hub.events(None).await;
    let noted = id(&events.next().await);
    drop(events);

    hub.issue("hukou").await;
    hub.open(2).await;
    hub.issue("exit_entry").await;
    let before = hub.hall().await;

    let hub = hub.restart().await;
    assert_eq!(
        hub.hall().await,
        before,
        "the restarted hub folds the log to the same hall"
    );
    let mut events = hub.events(Some(noted)).await;
    let seen = take(&mut events, 4).await;
    assert_eq!(
        names(&seen),
        [
            "ticket_issued",
            "window_changed",
            "ticket_issued",
            "hall_changed"
        ]
    );
    check_ids(noted, &seen);
    assert_eq!(
        change(&seen[1]).change,
        Change::WindowChanged {
            window: 2,
            action: "opened".into(),
            reason: None,
        }
    );

    // Ids go on from the log, not from zero.
    hub.issue("hukou").await;
    let seen = take(&mut events, 2).await;
    assert_eq!(names(&seen), ["ticket_issued", "hall_changed"]);
    check_ids(noted + 3, &seen);
    match change(&seen[0]).change {
        Change::TicketIssued { number, .. } => assert_eq!(number, "A002"),
        other => panic!("{other:?}"),
    }
    hub.stop().await;
}

#[tokio::test]
async fn a_resumed_stream_never_goes_back_in_time() {
    let hub = TestHub::start().await;
    let mut last = hub.hall().await.seq;
    for round in 0..30 {
        // Reconnect right after the answer, as a display does after a network blip.
        hub.issue("hukou").await;
        let mut events = hub.events(Some(last)).await;
        let replayed = events.next().await;
        assert_eq!(
            (replayed.event.as_str(), replayed.id),
            ("ticket_issued", Some(last + 1))
        );
        let after = events.next().await;
        assert_eq!(after.event, "hall_changed");
        assert_eq!(
            after.id,
            Some(last + 1),
            "round {round}: the hall view after change {} is of an earlier change",
            last + 1
        );
        last += 1;
    }
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_resumed_while_tickets_are_issued_misses_none() {
    let hub = TestHub::start().await;
    // Kiosks issue without pause while a display reconnects again and again: a change
    // committed between the hub's read of the log and its opening view must still go out.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut kiosks = Vec::new();
    for service in ["hukou", "id_card"] {
        let (kiosk, stop) = (hub.kiosk.clone(), stop.clone());
        kiosks.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                kiosk.issue_ticket(service, false, None).await.unwrap();
            }
        }));
    }
    let mut last = hub.hall().await.seq;
    for round in 0..60 {
        let mut events = hub.events(Some(last)).await;
        let until = last + 3;
        let from = last;
        let mut seen = Vec::new();
        while last < until {
            let event = events.next().await;
            seen.push((event.event.clone(), event.id));
            if event.event == "ticket_issued" {
                assert_eq!(
                    id(&event),
                    last + 1,
                    "round {round}: after {from} the resumed stream sent {seen:?}"
                );
                last += 1;
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for kiosk in kiosks {
        kiosk.await.unwrap();
    }
    hub.stop().await;
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_still_gets_every_change_in_order() {
    let hub = TestHub::start().await;
    let mut events = hub.events(None).await;
    let start = id(&events.next().await);
    // Nobody reads the stream while 600 tickets are issued, 16 at a time: its connection backs
    // up, and the hub may skip hall views a later one supersedes, but never a change.
    let services = std::iter::repeat_n("hukou", 300).chain(std::iter::repeat_n("id_card", 300));
    let issued: Vec<_> = futures_util::stream::iter(services)
        .map(|service| hub.kiosk.issue_ticket(service, false, None))
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(issued.iter().all(Result::is_ok));
    let end = hub.hall().await.seq;
    assert_eq!(end, start + 600);
    let mut seen = Vec::new();
    loop {
        let event = events.next().await;
        let done = event.event == "hall_changed" && event.id == Some(end);
        seen.push(event);
        if done {
            break;
        }
    }
    check_ids(start, &seen);
    let changes = seen.iter().filter(|e| e.event == "ticket_issued").count();
    assert_eq!(changes, 600, "every change arrives");
    // The last view holds every ticket. (Its wait estimates may be refreshed by a later view:
    // a queue this long is re-projected after the answers.)
    let last: HallView = seen.last().unwrap().json().unwrap();
    assert_eq!(last.seq, end);
    let waiting: u32 = last.services.iter().map(|s| s.waiting).sum();
    assert_eq!(waiting, 600, "the last view holds every ticket");
    hub.stop().await;
}
