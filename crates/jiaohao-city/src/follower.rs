//! Following one hall's replication stream (`GET /api/replication?after=SEQ`, NDJSON
//! `ReplicationLine`s, with the hall's `ingest` token) into PostgreSQL through the one ingest
//! function. It resumes after the last sequence number PostgreSQL holds, so a restart of the
//! city, of PostgreSQL or of the hall loses nothing and writes nothing twice. The hall never
//! waits for the city: the city reads at its own pace and reconnects with a growing pause
//! (1 s doubling to 30 s) when the hall, the network or PostgreSQL is away. A refused token
//! shows on the board as such.

use std::time::Duration;

use futures_util::StreamExt;
use jiaohao_wire::ReplicationLine;
use tokio::sync::watch;

use crate::board::{LiveHall, LiveHalls};
use crate::halls::{self, HallEntry, LinkState};
use crate::ingest::{HallIngest, Incoming};
use crate::{CityError, KeyFile};

/// The most records written in one transaction.
pub const MAX_BATCH: usize = 2000;
/// A stream silent this long (the hall sends a heartbeat every 5 s at most) is dropped.
const SILENCE: Duration = Duration::from_secs(20);
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// Why one session with the hall ended.
#[derive(Debug)]
enum Ended {
    Unreachable(String),
    TokenRefused(u16),
    Postgres(CityError),
    Other(String),
}

/// Follows a hall until `stop` turns true.
pub async fn follow(
    postgres: String,
    hall: HallEntry,
    key: std::sync::Arc<KeyFile>,
    live: LiveHalls,
    mut stop: watch::Receiver<bool>,
) {
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .build()
        .expect("an HTTP client");
    let token = match key.open_token(&hall.name, &hall.token_sealed) {
        Ok(token) => token,
        Err(error) => {
            tracing::error!(hall = %hall.name, %error, "cannot open the hall's token");
            return;
        }
    };
    let mut pause = Duration::from_secs(1);
    let mut ingest = HallIngest::new(hall.id);
    loop {
        if *stop.borrow() {
            return;
        }
        let ended = tokio::select! {
            ended = session(&postgres, &hall, &token, &http, &mut ingest, &live, &mut pause) => ended,
            _ = stop.changed() => return,
        };
        let (state, detail) = match &ended {
            Ended::Unreachable(detail) => (LinkState::Unreachable, detail.clone()),
            Ended::TokenRefused(status) => (
                LinkState::TokenRefused,
                format!("the hall refused the token (HTTP {status})"),
            ),
            Ended::Postgres(error) => (LinkState::Error, error.to_string()),
            Ended::Other(detail) => (LinkState::Error, detail.clone()),
        };
        tracing::warn!(hall = %hall.name, state = state.as_str(), %detail, "link to the hall ended");
        if let Ok(client) = crate::db::connect(&postgres).await {
            let _ = halls::set_state(&client, hall.id, state, &detail).await;
        }
        let wait = if state == LinkState::TokenRefused {
            MAX_PAUSE
        } else {
            pause
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

async fn session(
    postgres: &str,
    hall: &HallEntry,
    token: &str,
    http: &reqwest::Client,
    ingest: &mut HallIngest,
    live: &LiveHalls,
    pause: &mut Duration,
) -> Ended {
    let mut client = match crate::db::connect(postgres).await {
        Ok(client) => client,
        Err(error) => return Ended::Postgres(error),
    };
    let after = match HallIngest::last_seq(&client, hall.id).await {
        Ok(seq) => seq,
        Err(error) => return Ended::Postgres(error),
    };
    let url = format!("{}/api/replication?after={after}", hall.url);
    let response = match http.get(&url).bearer_auth(token).send().await {
        Ok(response) => response,
        Err(error) => return Ended::Unreachable(format!("cannot reach the hall: {error}")),
    };
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return Ended::TokenRefused(status.as_u16());
    }
    if !status.is_success() {
        return Ended::Other(format!("the hall answered HTTP {status}"));
    }
    if let Err(error) = halls::set_state(&client, hall.id, LinkState::Connected, "").await {
        return Ended::Postgres(error);
    }
    *pause = Duration::from_secs(1);
    let mut body = response.bytes_stream();
    let mut pending: Vec<u8> = Vec::new();
    let mut batch: Vec<Incoming> = Vec::new();
    let mut hall_now_ms: Option<i64> = None;
    loop {
        let chunk = match tokio::time::timeout(SILENCE, body.next()).await {
            Err(_) => return Ended::Unreachable("the hall fell silent".into()),
            Ok(None) => return Ended::Unreachable("the hall ended the stream".into()),
            Ok(Some(Err(error))) => {
                return Ended::Unreachable(format!("the stream broke: {error}"));
            }
            Ok(Some(Ok(chunk))) => chunk,
        };
        pending.extend_from_slice(&chunk);
        let mut beat = false;
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let line = &line[..line.len() - 1];
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<ReplicationLine>(line) {
                Ok(ReplicationLine::Record {
                    seq,
                    term,
                    at_ms,
                    actor,
                    kind,
                    body,
                    ..
                }) => {
                    hall_now_ms = Some(hall_now_ms.map_or(at_ms, |n| n.max(at_ms)));
                    batch.push(Incoming {
                        seq,
                        term,
                        at_ms,
                        actor,
                        kind,
                        body,
                    });
                }
                Ok(ReplicationLine::Heartbeat { at_ms, .. }) => {
                    hall_now_ms = Some(at_ms);
                    beat = true;
                }
                Ok(ReplicationLine::Side { .. }) => {}
                Err(error) => return Ended::Other(format!("a line the city cannot read: {error}")),
            }
            if batch.len() >= MAX_BATCH {
                if let Err(error) = ingest.ingest(&mut client, &batch).await {
                    return Ended::Postgres(error);
                }
                batch.clear();
            }
        }
        if !batch.is_empty() {
            if let Err(error) = ingest.ingest(&mut client, &batch).await {
                return Ended::Postgres(error);
            }
            batch.clear();
        }
        if beat
            && let Err(error) = halls::set_state(&client, hall.id, LinkState::Connected, "").await
        {
            return Ended::Postgres(error);
        }
        if ingest.fold().is_none() {
            // Nothing new since the city started: load the fold to show the hall.
            match crate::ingest::load_fold(&client, hall.id, after).await {
                Ok(fold) => {
                    let _ = ingest.adopt(fold);
                }
                Err(error) => return Ended::Postgres(error),
            }
        }
        if let (Some(fold), Some(now)) = (ingest.fold(), hall_now_ms) {
            live.set(hall.id, LiveHall::of(fold.hall(), fold.last_seq(), now));
        }
    }
}
