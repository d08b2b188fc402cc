//! The hub's own accept loop, so that a slow or greedy client cannot hold the hub's open
//! files: hyper's HTTP/1 server with a timer (a request's head must arrive within the
//! header-read timeout, which also closes a kept-alive connection left idle that long), a
//! deadline on reading a request's body (`408`), and the per-address and capacity caps of
//! `limits.rs` checked before a connection costs anything but its file (`503` at once).
//!
//! `axum::serve` gives hyper no timer, so none of hyper's timeouts apply there; this loop is
//! its replacement and keeps its graceful shutdown: at the signal it stops accepting, tells
//! each connection to finish the request in flight and close, and returns when all have.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body::Frame;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::engine::metrics::{ConnectionCounts, Metrics};
use crate::http::error::ApiError;
use crate::http::limits::{Limits, RETRY_AFTER_S, Refused};

/// How long a client may take: to send a request's head (and, after an answer, the next one
/// on a kept-alive connection), and to send a request's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub header_read: Duration,
    pub body_read: Duration,
}

impl Default for Timeouts {
    /// A phone on a poor Wi-Fi sends a request head in well under a second; ten seconds
    /// leave room for a bad moment. Bodies here are small forms and JSON.
    fn default() -> Timeouts {
        Timeouts {
            header_read: Duration::from_secs(10),
            body_read: Duration::from_secs(30),
        }
    }
}

/// Serves `router` on `listener` until `signal` completes, then shuts down gracefully.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Arc<Limits>,
    metrics: Arc<Metrics>,
    timeouts: Timeouts,
    signal: impl Future<Output = ()> + Send + 'static,
) {
    // Each connection holds a receiver of `open`; when all are dropped, all have closed.
    let (open_tx, open_rx) = watch::channel(());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut signal = std::pin::pin!(signal);
    let mut in_a_row = 0u32;
    loop {
        // A flood keeps the listener ready all the time: after a batch of accepts, let the
        // runtime run the connections it already serves (the devices' requests) first.
        in_a_row += 1;
        if in_a_row > ACCEPT_BATCH {
            in_a_row = 0;
            tokio::task::yield_now().await;
        }
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    if !is_connection_error(&error) {
                        // Out of files (EMFILE) or the like: wait for connections to close
                        // rather than spin.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    continue;
                }
            },
            () = &mut signal => break,
        };
        let guard = match limits.admit(peer.ip()) {
            Ok(guard) => guard,
            Err(refused) => {
                ConnectionCounts::count(match refused {
                    Refused::PerAddress => &metrics.connections.refused_per_address,
                    Refused::Capacity => &metrics.connections.refused_capacity,
                });
                refuse(&stream, refused);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        if guard.is_stranger() {
            let _ = socket2::SockRef::from(&stream).set_send_buffer_size(STRANGER_SEND_BUFFER);
        }
        ConnectionCounts::count(&metrics.connections.accepted);
        let connection = Connection {
            router: router.clone(),
            limits: limits.clone(),
            metrics: metrics.clone(),
            timeouts,
            peer,
        };
        let stop = stop_rx.clone();
        let open = open_rx.clone();
        tokio::spawn(async move {
            connection.run(stream, stop).await;
            drop(guard);
            drop(open);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(open_rx);
    open_tx.closed().await;
}

/// Accepts this many connections in a row at most before the runtime's other tasks run.
const ACCEPT_BATCH: u32 = 16;

/// The kernel's send buffer of a stranger's connection (it doubles the figure). A phone's
/// ticket page and its stream need a few kilobytes at a time; left to itself, the kernel grows
/// a buffer to megabytes for a client that never reads, and the hub would copy every hall
/// view into each of a flood's unread streams (the most of its CPU in the flood bench). With a
/// small buffer such a stream stops taking data, falls behind, and costs nothing until it
/// reads again (then it gets a fresh snapshot).
const STRANGER_SEND_BUFFER: usize = 32 * 1024;

/// Errors that concern one connection only (the client went away while queued).
fn is_connection_error(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// Answers a connection past a cap with `503` and `Retry-After` at once, without reading its
/// request, and closes it: a refused connection costs its file for no longer than this, and
/// the hub a few system calls and no task.
fn refuse(stream: &TcpStream, refused: Refused) {
    static ANSWERS: std::sync::LazyLock<[Vec<u8>; 2]> =
        std::sync::LazyLock::new(|| [Refused::PerAddress, Refused::Capacity].map(refusal));
    let answer = match refused {
        Refused::PerAddress => &ANSWERS[0],
        Refused::Capacity => &ANSWERS[1],
    };
    // A new socket's send buffer is empty: one non-blocking write takes the whole answer.
    let _ = stream.try_write(answer);
    let _ = socket2::SockRef::from(stream).shutdown(std::net::Shutdown::Write);
}

/// The bytes of the `503` answer to a connection refused at the door.
fn refusal(refused: Refused) -> Vec<u8> {
    let body = serde_json::json!({
        "error": "连接过多，请稍后再试 / too many connections from this address or to this hub; try again shortly",
        "code": format!("too_many_connections_{}", refused.as_str()),
    })
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: {RETRY_AFTER_S}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One accepted connection and what serving it needs.
struct Connection {
    router: Router,
    limits: Arc<Limits>,
    metrics: Arc<Metrics>,
    timeouts: Timeouts,
    peer: SocketAddr,
}

impl Connection {
    async fn run(self, stream: TcpStream, mut stop: watch::Receiver<bool>) {
        let served = Arc::new(AtomicU64::new(0));
        let metrics = self.metrics.clone();
        let header_read = self.timeouts.header_read;
        let handler = Arc::new(self);
        let counter = served.clone();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            counter.fetch_add(1, Ordering::Relaxed);
            let handler = handler.clone();
            async move { Ok::<_, Infallible>(handler.answer(request).await) }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(header_read)
            .keep_alive(true);
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let mut connection = std::pin::pin!(connection);
        let mut stopping = false;
        let result = loop {
            tokio::select! {
                result = connection.as_mut() => break result,
                _ = stop.wait_for(|stop| *stop), if !stopping => {
                    stopping = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        };
        if let Err(error) = result
            && error.is_timeout()
        {
            // Hyper's only timeout here is the header read's: before the first request it
            // caught a slow head; after an answer, an idle kept-alive connection.
            if served.load(Ordering::Relaxed) == 0 {
                ConnectionCounts::count(&metrics.connections.header_timeouts);
            } else {
                ConnectionCounts::count(&metrics.connections.idle_closed);
            }
        }
    }

    /// One request: the client address it comes from, the body under its deadline, the router.
    async fn answer(&self, request: Request<Incoming>) -> Response {
        let client = self
            .limits
            .client_address(self.peer.ip(), request.headers());
        let (mut parts, body) = request.into_parts();
        parts
            .extensions
            .insert(ConnectInfo(SocketAddr::new(client, self.peer.port())));
        let late = Arc::new(AtomicBool::new(false));
        let body = if http_body::Body::is_end_stream(&body) {
            Body::new(body)
        } else {
            Body::new(DeadlineBody {
                inner: body,
                deadline: Box::pin(tokio::time::sleep(self.timeouts.body_read)),
                late: late.clone(),
            })
        };
        let request = Request::from_parts(parts, body);
        let mut router = self.router.clone();
        let response = match tower_service::Service::call(&mut router, request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        if late.load(Ordering::Relaxed) {
            ConnectionCounts::count(&self.metrics.connections.body_timeouts);
            let mut response = ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "请求内容发送太慢 / the request body did not arrive in time",
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
        response
    }
}

/// A request body that fails once its deadline passes (and says so in `late`).
struct DeadlineBody {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
    late: Arc<AtomicBool>,
}

#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyTimeout;

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.late.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(Box::new(BodyTimeout))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
