//! Raw answers, typed API errors and the live stream, each with a bound on every wait.

use jiaohao_client::{Client, ClientError, EventStream, StreamEvent};
use jiaohao_wire as wire;
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;

use crate::WAIT;

/// A raw answer: its status, content type and body, for checks the typed client hides.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Reply {
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("the body does not parse ({e}): {}", self.body))
    }

    /// Checks that this is an error of `status` whose body is JSON with a non-empty message
    /// and the code `code`.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "status of {self:?}");
        assert!(
            self.content_type.starts_with("application/json"),
            "an error is JSON, not {:?}: {self:?}",
            self.content_type
        );
        let body: wire::ErrorBody = serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("an error body is {{error, code}} ({e}): {self:?}"));
        assert!(
            !body.error.trim().is_empty(),
            "an error says what is wrong: {self:?}"
        );
        assert_eq!(body.code, code, "error code of {self:?}");
    }
}

/// Sends a request built with [`Client::request`] and reads the whole answer.
pub async fn send(builder: RequestBuilder) -> Reply {
    let response = tokio::time::timeout(WAIT, builder.send())
        .await
        .expect("the hub answers in time")
        .expect("the hub answers");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.text().await.expect("the body arrives");
    Reply {
        status,
        content_type,
        body,
    }
}

/// Shorthand for a request with a JSON body.
pub async fn send_json(
    client: &Client,
    method: Method,
    path: &str,
    body: serde_json::Value,
) -> Reply {
    send(client.request(method, path).json(&body)).await
}

/// Checks that a typed call failed with an API error of `status` and `code`.
#[track_caller]
pub fn expect_api_error<T: std::fmt::Debug>(
    result: Result<T, ClientError>,
    status: u16,
    code: &str,
) {
    match result {
        Err(ClientError::Api { status: got, body }) => {
            assert_eq!(got, status, "status of {body:?}");
            assert_eq!(body.code, code, "code of {body:?}");
            assert!(!body.error.trim().is_empty(), "an error says what is wrong");
        }
        other => panic!("expected a {status} {code} error, got {other:?}"),
    }
}

/// A live stream with a bound on every wait.
pub struct Events {
    stream: EventStream,
}

impl Events {
    pub async fn open(client: &Client, last_event_id: Option<u64>) -> Events {
        let stream = tokio::time::timeout(WAIT, client.events(last_event_id))
            .await
            .expect("the stream opens in time")
            .expect("the stream opens");
        Events { stream }
    }

    /// The next message; fails if none comes within [`WAIT`] or the stream ends.
    pub async fn next(&mut self) -> StreamEvent {
        match tokio::time::timeout(WAIT, self.stream.next()).await {
            Ok(Ok(Some(event))) => event,
            Ok(Ok(None)) => panic!("the stream ended"),
            Ok(Err(e)) => panic!("the stream broke: {e}"),
            Err(_) => panic!("no stream event within {WAIT:?}"),
        }
    }

    /// Skips messages until one named `name`, and returns it.
    pub async fn until(&mut self, name: &str) -> StreamEvent {
        loop {
            let event = self.next().await;
            if event.event == name {
                return event;
            }
        }
    }

    /// Whether the hub ends the stream within [`WAIT`] (messages before the end are skipped).
    pub async fn ends(&mut self) -> bool {
        let end = async {
            loop {
                match self.stream.next().await {
                    Ok(Some(_)) => continue,
                    Ok(None) | Err(_) => return,
                }
            }
        };
        tokio::time::timeout(WAIT, end).await.is_ok()
    }
}

/// The change a stream message carries.
#[track_caller]
pub fn change(event: &StreamEvent) -> wire::ChangeMessage {
    event
        .json()
        .unwrap_or_else(|e| panic!("{} is not a change ({e}): {}", event.event, event.data))
}
