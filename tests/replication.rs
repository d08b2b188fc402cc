//! The replication route (`GET /api/replication`) on a real hub: what a standby (`replica`
//! token) and the city (`ingest` token) are sent, resuming, live records, and refusals.

use jiaohao_client::{Client, ReplicationStream};
use jiaohao_store::Role;
use jiaohao_wire::{self as wire, ReplicationLine};
use serde_json::json;

use crate::support::{TestHub, WAIT, send_json};

/// A token of `role` made on the hub's file, as `jiaohao-hub token create` does.
fn token(hub: &TestHub, role: Role) -> String {
    jiaohao_hub::cli::create_token(&hub.db, role, None, role.as_str()).expect("a token")
}

async fn open(client: &Client, after: u64, side_after: u64) -> ReplicationStream {
    client
        .replication(after, side_after)
        .await
        .expect("the stream opens")
}

async fn next(stream: &mut ReplicationStream) -> ReplicationLine {
    tokio::time::timeout(WAIT, stream.next())
        .await
        .expect("a line in time")
        .expect("a readable line")
        .expect("the stream stays open")
}

/// Every line up to and including the record `seq` (and, with `side`, the side change `side`).
async fn until(stream: &mut ReplicationStream, seq: u64, side: u64) -> Vec<ReplicationLine> {
    let mut lines = Vec::new();
    let (mut have_seq, mut have_side) = (0, 0);
    while have_seq < seq || have_side < side {
        let line = next(stream).await;
        match &line {
            ReplicationLine::Record { seq, .. } => have_seq = *seq,
            ReplicationLine::Side { seq, .. } => have_side = *seq,
            ReplicationLine::Heartbeat { .. } => {}
        }
        lines.push(line);
    }
    lines
}

fn records(lines: &[ReplicationLine]) -> Vec<u64> {
    lines
        .iter()
        .filter_map(|line| match line {
            ReplicationLine::Record { seq, .. } => Some(*seq),
            _ => None,
        })
        .collect()
}

/// The opening heartbeat: where the log stands.
async fn opening(stream: &mut ReplicationStream) -> (u64, u64, u64) {
    match next(stream).await {
        ReplicationLine::Heartbeat {
            last_seq,
            last_side_seq,
            term,
            ..
        } => (last_seq, last_side_seq, term),
        other => panic!("the stream opens with a heartbeat, not {other:?}"),
    }
}

#[tokio::test]
async fn the_city_is_sent_the_log_without_a_secret() {
    let hub = TestHub::start().await;
    let city = hub.public.with_token(token(&hub, Role::Ingest));
    let ticket = hub.issue("hukou").await;
    let retried = hub
        .kiosk
        .issue_ticket("hukou", false, Some("kiosk-retry-key-1"))
        .await
        .unwrap();
    hub.add_user("zhang", Role::Clerk);
    // A 差评 with a callback phone: the case is in the log, the phone beside it.
    hub.open(3).await;
    let served = hub.call_next(3).await;
    hub.admin.ticket_action(3, "finish").await.unwrap();
    // Rated at the window (an admin may, as the window's paired pad does).
    let rated = crate::support::send_json(
        &hub.admin,
        reqwest::Method::POST,
        "/api/windows/3/rating",
        serde_json::json!({"number": served.number, "rating": "dissatisfied", "reason": "waiting",
            "callback_phone": "13800138000"}),
    )
    .await;
    assert_eq!(rated.status, 200, "{rated:?}");

    let mut stream = open(&city, 0, 0).await;
    let (last, side, term) = opening(&mut stream).await;
    assert_eq!((side, term), (0, 1), "no side log for the city; term 1");
    let lines = until(&mut stream, last, 0).await;
    assert_eq!(records(&lines), (1..=last).collect::<Vec<_>>());
    let text = serde_json::to_string(&lines).unwrap();
    for secret in [
        ticket.token.as_str(),
        retried.token.as_str(),
        "kiosk-retry-key-1",
        hub.tokens.admin.as_str(),
        "argon2",
        "zhang",
        "13800138000",
    ] {
        assert!(!text.contains(secret), "{secret} reached the city");
    }
    assert!(
        text.contains("case_opened"),
        "the case itself reaches the city"
    );
    let mut issued = 0;
    for line in &lines {
        match line {
            ReplicationLine::Record {
                kind, body, public, ..
            } => {
                assert_eq!(*public, None);
                if kind == "ticket_issued" {
                    issued += 1;
                    assert!(
                        body.ends_with(r#""token":"","idempotency_key":null}"#),
                        "{body}"
                    );
                }
            }
            ReplicationLine::Side { .. } => panic!("a side line reached the city: {line:?}"),
            ReplicationLine::Heartbeat { .. } => {}
        }
    }
    assert_eq!(issued, 2);
    // New records arrive live, stripped too.
    let third = hub.issue("hukou").await;
    let lines = until(&mut stream, last + 1, 0).await;
    let text = serde_json::to_string(&lines).unwrap();
    assert!(
        text.contains(r#"\"number\":\"A003\""#) || text.contains("A003"),
        "{text}"
    );
    assert!(!text.contains(&third.token));
}

#[tokio::test]
async fn a_standby_is_sent_the_records_as_stored_and_the_rows_beside_the_log() {
    let hub = TestHub::start().await;
    let replica = hub.public.with_token(token(&hub, Role::Replica));
    let ticket = hub.issue("hukou").await;

    let mut stream = open(&replica, 0, 0).await;
    let (last, side, _) = opening(&mut stream).await;
    // Five test tokens and the replica's own: six token rows.
    assert_eq!(side, 6);
    let lines = until(&mut stream, last, side).await;
    let stored = {
        let store = jiaohao_store::Store::open_read_only(&hub.db).unwrap();
        store.raw_records_after(0, u64::MAX, 10_000).unwrap()
    };
    let sent: Vec<(u64, u64, String, Option<String>)> = lines
        .iter()
        .filter_map(|line| match line {
            ReplicationLine::Record {
                seq,
                term,
                body,
                public,
                ..
            } => Some((*seq, *term, body.clone(), public.clone())),
            _ => None,
        })
        .collect();
    let expected: Vec<(u64, u64, String, Option<String>)> = stored
        .iter()
        .map(|r| (r.seq, r.term, r.body.clone(), r.public.clone()))
        .collect();
    assert_eq!(sent, expected, "every record, its bytes verbatim");
    assert!(
        serde_json::to_string(&lines)
            .unwrap()
            .contains(&ticket.token)
    );
    let tokens: Vec<&serde_json::Value> = lines
        .iter()
        .filter_map(|line| match line {
            ReplicationLine::Side { table, row, .. } if table == "api_tokens" => Some(row),
            _ => None,
        })
        .collect();
    assert_eq!(tokens.len(), 6);
    assert!(
        tokens
            .iter()
            .all(|row| row["token_hash"].as_str().unwrap().len() == 64)
    );
    assert!(
        !serde_json::to_string(&lines)
            .unwrap()
            .contains(&hub.tokens.admin),
        "only hashes of tokens travel"
    );

    // A user made through the API, and a session, arrive live with the password hash.
    let made = send_json(
        &hub.admin,
        reqwest::Method::POST,
        "/api/users",
        json!({"username": "zhang", "role": "clerk", "password": "correct-horse-battery"}),
    )
    .await;
    assert_eq!(made.status, 201, "{made:?}");
    let lines = until(&mut stream, 0, side + 1).await;
    let Some(ReplicationLine::Side { table, op, row, .. }) = lines.last() else {
        panic!("{lines:?}")
    };
    assert_eq!((table.as_str(), op.as_str()), ("users", "upsert"));
    assert_eq!(row["username"], "zhang");
    assert!(
        row["password_hash"]
            .as_str()
            .unwrap()
            .starts_with("$argon2")
    );
    // Signing in starts a session (and clears the user's failed sign-ins first).
    hub.sign_in("zhang", Some(3)).await;
    loop {
        if let ReplicationLine::Side { table, row, .. } = next(&mut stream).await
            && table == "sessions"
        {
            assert_eq!(row["window"], 3);
            assert!(row["token_hash"].as_str().unwrap().len() == 64);
            break;
        }
    }
}

#[tokio::test]
async fn a_resumed_stream_sends_exactly_the_rest_then_what_comes() {
    let hub = TestHub::start().await;
    let replica = hub.public.with_token(token(&hub, Role::Replica));
    for _ in 0..3 {
        hub.issue("hukou").await;
    }
    let last = {
        let mut stream = open(&replica, 0, 0).await;
        opening(&mut stream).await.0
    };
    let mut stream = open(&replica, last - 2, 6).await;
    assert_eq!(opening(&mut stream).await.0, last);
    let lines = until(&mut stream, last, 0).await;
    assert_eq!(records(&lines), [last - 1, last]);
    assert!(
        !lines
            .iter()
            .any(|line| matches!(line, ReplicationLine::Side { .. })),
        "the side log was held already: {lines:?}"
    );
    hub.open(3).await;
    let lines = until(&mut stream, last + 1, 0).await;
    assert_eq!(records(&lines), [last + 1]);
    // Idle: a heartbeat within five seconds (and a little).
    let beat = tokio::time::timeout(std::time::Duration::from_secs(7), stream.next())
        .await
        .expect("a heartbeat in time")
        .unwrap()
        .unwrap();
    assert!(
        matches!(beat, ReplicationLine::Heartbeat { last_seq, .. } if last_seq == last + 1),
        "{beat:?}"
    );
}

#[tokio::test]
async fn the_route_refuses_other_roles_bad_positions_and_a_future_it_has_not_seen() {
    let hub = TestHub::start().await;
    let replica = hub.public.with_token(token(&hub, Role::Replica));
    for (client, status, code) in [
        (&hub.admin, 403, "forbidden"),
        (&hub.kiosk, 403, "forbidden"),
        (&hub.display, 403, "forbidden"),
        (&hub.public, 401, "unauthorized"),
    ] {
        let error = client.replication(0, 0).await.err().expect("refused");
        assert_eq!(
            (error.status(), error.code()),
            (Some(status), Some(code)),
            "{error}"
        );
    }
    for query in ["after=abc", "after=-1", "side_after=1.5"] {
        let reply = crate::support::send(
            replica.request(reqwest::Method::GET, &format!("/api/replication?{query}")),
        )
        .await;
        reply.expect_error(400, "invalid");
    }
    let error = replica.replication(1_000_000, 0).await.err().unwrap();
    assert_eq!(
        (error.status(), error.code()),
        (Some(409), Some("ahead_of_log"))
    );
    let health: wire::Health = hub.public.health().await.unwrap();
    assert_eq!(health.status, "ok");
}

/// Revoking the token a stream was opened with ends the open stream (the hub does not wait for
/// the reader to reconnect), and the reader's next request is refused.
#[tokio::test]
async fn a_stream_ends_when_its_token_is_revoked() {
    let hub = TestHub::start().await;
    hub.issue("hukou").await;
    let city = hub.public.with_token(token(&hub, Role::Ingest));
    let mut stream = open(&city, 0, 0).await;
    opening(&mut stream).await;
    let tokens: Vec<wire::TokenInfo> = hub
        .admin
        .request(reqwest::Method::GET, "/api/tokens")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = tokens.iter().find(|t| t.role == "ingest").unwrap().id;
    let revoked = hub
        .admin
        .request(reqwest::Method::DELETE, &format!("/api/tokens/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    // Whatever was already on its way may still arrive; then the stream ends.
    let ended = tokio::time::timeout(WAIT * 2, async {
        while let Ok(Some(_)) = stream.next().await {}
    })
    .await;
    assert!(
        ended.is_ok(),
        "the stream stayed open after its token was revoked"
    );
    assert!(
        city.replication(0, 0).await.is_err(),
        "a revoked token is refused"
    );
    hub.stop().await;
}

/// A token revoked by another process (`jiaohao-hub token revoke` on the hall's file) ends the
/// open stream too, by the next heartbeat.
#[tokio::test]
async fn a_stream_ends_when_its_token_is_revoked_by_the_cli() {
    let hub = TestHub::start().await;
    let city = hub.public.with_token(token(&hub, Role::Ingest));
    let mut stream = open(&city, 0, 0).await;
    opening(&mut stream).await;
    let store = jiaohao_store::Store::open(&hub.db).unwrap();
    let id = store
        .list_tokens()
        .unwrap()
        .into_iter()
        .find(|t| t.role == Role::Ingest)
        .unwrap()
        .id;
    assert!(
        store
            .revoke_token(id, jiaohao_core::Millis(0), "cli")
            .unwrap()
    );
    let ended = tokio::time::timeout(WAIT * 2, async {
        while let Ok(Some(_)) = stream.next().await {}
    })
    .await;
    assert!(
        ended.is_ok(),
        "the stream stayed open after its token was revoked"
    );
    hub.stop().await;
}
