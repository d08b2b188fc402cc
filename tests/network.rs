//! A hostile or broken client on the hall's network (issue 19): slow request heads and bodies,
//! idle kept-alive connections, one address holding many connections or event streams, a
//! forwarded client address, and the room kept for devices. Raw sockets, bound to a second
//! loopback address (`127.0.0.2`) where a test needs a stranger apart from the devices.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use jiaohao_hub::http::conn::Timeouts;
use jiaohao_testkit::scrape;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::support::TestHub;

const STRANGER: &str = "127.0.0.2";
const BOUND: Duration = Duration::from_secs(10);

async fn connect_from(from: &str, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(from.parse::<IpAddr>().unwrap(), 0))
        .unwrap();
    socket.connect(to).await.unwrap()
}

/// Reads until the hub closes the connection (or the bound passes); what it sent.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut all = Vec::new();
    let _ = tokio::time::timeout(BOUND, stream.read_to_end(&mut all)).await;
    String::from_utf8_lossy(&all).into_owned()
}

/// Reads what arrives first (an answer's head at least), bounded.
async fn read_some(stream: &mut TcpStream) -> String {
    let mut buffer = vec![0u8; 8192];
    match tokio::time::timeout(BOUND, stream.read(&mut buffer)).await {
        Ok(Ok(n)) => String::from_utf8_lossy(&buffer[..n]).into_owned(),
        _ => String::new(),
    }
}

/// Opens an event stream from `from` with extra header lines; the first bytes of the answer.
async fn open_stream(from: &str, to: SocketAddr, headers: &str) -> (TcpStream, String) {
    let mut stream = connect_from(from, to).await;
    stream
        .write_all(format!("GET /api/events HTTP/1.1\r\nHost: hub\r\n{headers}\r\n").as_bytes())
        .await
        .unwrap();
    let head = read_some(&mut stream).await;
    (stream, head)
}

async fn metric(hub: &TestHub, name: &str) -> f64 {
    scrape(&hub.public).await.get(name).copied().unwrap_or(0.0)
}

fn short_timeouts() -> Timeouts {
    Timeouts {
        header_read: Duration::from_secs(1),
        body_read: Duration::from_secs(1),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_head_that_does_not_arrive_in_time_is_cut_off_and_counted() {
    let hub = TestHub::start_with(|config| config.timeouts = short_timeouts()).await;
    let mut stream = connect_from("127.0.0.1", hub.addr).await;
    stream
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: hub\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let answer = read_to_close(&mut stream).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "closed after {took:?}: {answer}"
    );
    assert_eq!(
        metric(&hub, "jiaohao_slow_clients_total{cut=\"header\"}").await,
        1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_kept_alive_connection_is_closed_and_counted() {
    let hub = TestHub::start_with(|config| config.timeouts = short_timeouts()).await;
    let mut stream = connect_from("127.0.0.1", hub.addr).await;
    stream
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: hub\r\n\r\n")
        .await
        .unwrap();
    let answer = read_some(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let started = Instant::now();
    read_to_close(&mut stream).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    // At least this one (the test's own clients' pooled connections may idle out too).
    assert!(metric(&hub, "jiaohao_slow_clients_total{cut=\"idle\"}").await >= 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_trickles_in_gets_408_and_is_counted() {
    let hub = TestHub::start_with(|config| config.timeouts = short_timeouts()).await;
    let mut stream = connect_from("127.0.0.1", hub.addr).await;
    let request = format!(
        "POST /api/tickets HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"service\":",
        hub.tokens.kiosk
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    assert_eq!(
        metric(&hub, "jiaohao_slow_clients_total{cut=\"body\"}").await,
        1.0
    );
    // Nothing was issued, and a whole request is answered as before.
    hub.issue("hukou").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_past_its_connection_cap_gets_503_with_retry_after_and_others_go_on() {
    let hub = TestHub::start_with(|config| config.caps.connections_per_address = Some(3)).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = connect_from(STRANGER, hub.addr).await;
        stream
            .write_all(b"GET /api/hall HTTP/1.1\r\n")
            .await
            .unwrap();
        held.push(stream);
    }
    let mut refused = connect_from(STRANGER, hub.addr).await;
    let answer = read_to_close(&mut refused).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 5"), "{answer}");
    assert!(
        answer.contains("\"code\":\"too_many_connections_per_address\""),
        "{answer}"
    );
    // Another address is served meanwhile.
    hub.public.health().await.unwrap();
    hub.issue("hukou").await;
    assert_eq!(
        metric(
            &hub,
            "jiaohao_connections_refused_total{reason=\"per_address\"}"
        )
        .await,
        1.0
    );
    // When one of the three goes, the address may connect again.
    drop(held.pop());
    let deadline = Instant::now() + BOUND;
    loop {
        let mut stream = connect_from(STRANGER, hub.addr).await;
        stream
            .write_all(b"GET /api/health HTTP/1.1\r\nHost: hub\r\n\r\n")
            .await
            .unwrap();
        if read_some(&mut stream).await.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the address was never let in again"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_past_its_stream_cap_gets_503_and_a_device_address_is_not_capped() {
    let hub = TestHub::start_with(|config| config.caps.streams_per_address = Some(2)).await;
    let (_a, head) = open_stream(STRANGER, hub.addr, "").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let (_b, head) = open_stream(STRANGER, hub.addr, "").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let (_c, head) = open_stream(STRANGER, hub.addr, "").await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert!(head.contains("retry-after: 5"), "{head}");
    assert!(head.contains("\"code\":\"too_many_streams\""), "{head}");
    assert_eq!(metric(&hub, "jiaohao_streams_refused_total").await, 1.0);
    // A display shows its token: its address follows the stream as often as it needs.
    let auth = format!("Authorization: Bearer {}\r\n", hub.tokens.display);
    let mut displays = Vec::new();
    for _ in 0..4 {
        let (stream, head) = open_stream("127.0.0.1", hub.addr, &auth).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        displays.push(stream);
    }
    // A place is given back when its stream goes.
    drop(_a);
    let deadline = Instant::now() + BOUND;
    loop {
        let (_stream, head) = open_stream(STRANGER, hub.addr, "").await;
        if head.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "the place was never given back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_client_address_counts_only_from_a_trusted_proxy() {
    let hub = TestHub::start_with(|config| {
        config.caps.streams_per_address = Some(1);
        config.caps.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    // Through the trusted proxy: the address it forwards (its own entry, the last) counts.
    let forwarded = |address: &str| format!("X-Forwarded-For: 192.0.2.99, {address}\r\n");
    let (_one, head) = open_stream("127.0.0.1", hub.addr, &forwarded("10.0.0.1")).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let (_two, head) = open_stream("127.0.0.1", hub.addr, &forwarded("10.0.0.1")).await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    let (_three, head) = open_stream("127.0.0.1", hub.addr, &forwarded("10.0.0.2")).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let (_four, head) = open_stream("127.0.0.1", hub.addr, "X-Real-IP: 10.0.0.3\r\n").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // From anywhere else the header is not believed: the peer's address counts.
    let (_five, head) = open_stream(STRANGER, hub.addr, &forwarded("10.0.0.4")).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let (_six, head) = open_stream(STRANGER, hub.addr, &forwarded("10.0.0.5")).await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_cannot_take_the_room_kept_for_devices() {
    let hub = TestHub::start_with(|config| {
        config.caps.max_connections = Some(24);
        config.caps.device_reserve = 12;
        config.caps.connections_per_address = None;
    })
    .await;
    // The kiosk shows its token: its address is a device's from now on.
    hub.issue("hukou").await;
    let mut strangers = Vec::new();
    let mut refused = 0;
    for _ in 0..20 {
        let mut stream = connect_from(STRANGER, hub.addr).await;
        stream
            .write_all(b"GET /api/hall HTTP/1.1\r\n")
            .await
            .unwrap();
        let mut probe = [0u8; 64];
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut probe)).await {
            Ok(Ok(n)) if probe[..n].starts_with(b"HTTP/1.1 503") => refused += 1,
            _ => strangers.push(stream),
        }
    }
    // All but the reserve (less a connection the test's own clients may have opened from
    // 127.0.0.1 before the kiosk's token made it a device's).
    assert!(
        (10..=12).contains(&strangers.len()),
        "the strangers hold all but the reserve: {}",
        strangers.len()
    );
    assert_eq!(refused, 20 - strangers.len());
    // The devices are served from the room kept for them, on new connections too.
    for _ in 0..3 {
        let kiosk = jiaohao_client::Client::new(hub.url()).with_token(&hub.tokens.kiosk);
        kiosk.issue_ticket("hukou", false, None).await.unwrap();
    }
    assert_eq!(
        metric(
            &hub,
            "jiaohao_connections_refused_total{reason=\"capacity\"}"
        )
        .await,
        refused as f64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_listener_serves_a_phone_and_nothing_of_the_staff() {
    use jiaohao_hub::{HubConfig, ManualClock, hall_file};
    use jiaohao_store::Role;

    use crate::support::{MORNING, at};

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hall.sqlite");
    let kiosk_token = jiaohao_hub::cli::create_token(&db, Role::Kiosk, None, "kiosk").unwrap();
    let admin_token = jiaohao_hub::cli::create_token(&db, Role::Admin, None, "admin").unwrap();
    let config = HubConfig {
        seed: hall_file::parse(hall_file::DEFAULT_HALL).unwrap(),
        clock: std::sync::Arc::new(ManualClock::new(at(MORNING))),
        ..HubConfig::new(db.clone())
    };
    let staff = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (staff_addr, public_addr) = (staff.local_addr().unwrap(), public.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let hub = jiaohao_hub::Hub::open(config).unwrap();
    let served = tokio::spawn(hub.serve_with_public(staff, Some(public), async move {
        let _ = stopped.await;
    }));
    let staff = jiaohao_client::Client::new(format!("http://{staff_addr}"));
    let ticket = staff
        .with_token(&kiosk_token)
        .issue_ticket("hukou", false, None)
        .await
        .unwrap();

    let phone = reqwest::Client::new();
    let get = async |path: &str| {
        phone
            .get(format!("http://{public_addr}{path}"))
            .header("Authorization", format!("Bearer {admin_token}"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    for path in [
        ticket.url.clone(),
        format!("/api/tickets/{}", ticket.token),
        "/api/health".to_owned(),
        "/assets/ticket.js".to_owned(),
        "/assets/app.css".to_owned(),
        "/book".to_owned(),
        "/assets/book.js".to_owned(),
        "/api/services".to_owned(),
    ] {
        assert_eq!(get(&path).await, 200, "{path} on the public listener");
    }
    // The booking routes a phone uses reach the hub (whatever it answers), the staff ones not.
    let slots = get("/api/bookings/slots?service=exit_entry&date=2026-11-24").await;
    assert_ne!(slots, 404, "the free slots on the public listener");
    let verify = phone
        .post(format!("http://{public_addr}/api/bookings/ABCD2345/verify"))
        .json(&serde_json::json!({"sms_code": "123456"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        verify.json::<serde_json::Value>().await.unwrap()["code"],
        "unknown_booking",
        "verifying reaches the hub"
    );
    // The phone's rating reaches the hub (the ticket is not finished yet: 409 from the hub).
    let rating = phone
        .post(format!(
            "http://{public_addr}/api/tickets/{}/rating",
            ticket.token
        ))
        .json(&serde_json::json!({"rating": 5}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_ne!(rating, 404, "the phone's rating on the public listener");
    let (_stream, head) = open_stream("127.0.0.1", public_addr, "").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    for path in [
        "/api/hall",
        "/api/windows",
        "/admin",
        "/counter",
        "/login",
        "/metrics",
        "/assets/admin.js",
        "/api/bookings?date=2026-11-24",
    ] {
        assert_eq!(
            get(path).await,
            404,
            "{path} must not answer on the public listener"
        );
    }
    let issue = phone
        .post(format!("http://{public_addr}/api/tickets"))
        .header("Authorization", format!("Bearer {kiosk_token}"))
        .json(&serde_json::json!({"service": "hukou", "green_channel": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(issue.status().as_u16(), 404);
    let check_in = phone
        .post(format!("http://{public_addr}/api/bookings/check-in"))
        .header("Authorization", format!("Bearer {kiosk_token}"))
        .json(&serde_json::json!({"id_number": "11010519491231002X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        check_in.status().as_u16(),
        404,
        "no check-in from the street"
    );
    // The staff listener serves everything as before.
    assert!(staff.hall().await.is_ok());

    drop(_stream);
    let _ = stop.send(());
    tokio::time::timeout(BOUND, served)
        .await
        .expect("both listeners stop")
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_reading_the_hall_too_often_gets_429_and_a_device_address_does_not() {
    let hub = TestHub::start_with(|config| {
        config.limits.public = Some(jiaohao_hub::limits::Rate {
            burst: 3,
            per_minute: 6,
        });
    })
    .await;
    let addr = hub.addr;
    let read_hall = |from: &'static str| async move {
        let mut stream = connect_from(from, addr).await;
        stream
            .write_all(b"GET /api/hall HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        read_to_close(&mut stream).await
    };
    for _ in 0..3 {
        let answer = read_hall(STRANGER).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    let answer = read_hall(STRANGER).await;
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(answer.contains("retry-after: "), "{answer}");
    assert!(
        answer.contains("\"code\":\"too_many_requests\""),
        "{answer}"
    );
    // The kiosk shows its token: its address reads the hall as often as it needs, even
    // without credentials (a display polls it so).
    hub.issue("hukou").await;
    for _ in 0..10 {
        let answer = read_hall("127.0.0.1").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    let answer = read_hall(STRANGER).await;
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
}

/// Holds half-open connections from `from` (a request head begun, never finished) until the
/// hub refuses one at the door; how many it holds.
async fn hold_until_refused(from: &str, to: SocketAddr, held: &mut Vec<TcpStream>) -> usize {
    for count in 0..64 {
        let mut stream = connect_from(from, to).await;
        stream
            .write_all(b"GET /api/hall HTTP/1.1\r\n")
            .await
            .unwrap();
        let mut probe = [0u8; 64];
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut probe)).await {
            Ok(Ok(n)) if probe[..n].starts_with(b"HTTP/1.1 503") => return count,
            _ => held.push(stream),
        }
    }
    panic!("{from} was never refused");
}

/// Waits (bounded) for the link to bring a call of `number`.
async fn called_on(link: &jiaohao_ui::HubLink, number: &str) {
    let deadline = Instant::now() + BOUND;
    loop {
        let called = link.take_changes().into_iter().any(|change| {
            matches!(&change.change, jiaohao_wire::Change::TicketCalled { number: n, .. } if n == number)
        });
        if called {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the display never showed {number}: {:?}",
            link.status()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn live_link(client: jiaohao_client::Client) -> jiaohao_ui::HubLink {
    let link = jiaohao_ui::HubLink::start(client, || {}).unwrap();
    let deadline = Instant::now() + BOUND;
    while link.status() != jiaohao_ui::LinkStatus::Live {
        assert!(
            Instant::now() < deadline,
            "the display does not go live: {:?}",
            link.status()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    link
}

/// The display's own link (`jiaohao_ui::HubLink`, with its `display` token) keeps its stream
/// and opens new ones while one stranger address is past its connection and stream caps and
/// another holds every connection the strangers may.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_display_with_its_token_is_served_while_strangers_are_past_their_caps() {
    let hub = TestHub::start_with(|config| {
        config.caps.max_connections = Some(24);
        config.caps.device_reserve = 12;
        config.caps.connections_per_address = Some(8);
        config.caps.streams_per_address = Some(2);
    })
    .await;
    let display = live_link(hub.display.clone()).await;

    // One stranger: two streams, then refused a third; then connections up to its cap.
    let (_a1, head) = open_stream(STRANGER, hub.addr, "").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let (_a2, head) = open_stream(STRANGER, hub.addr, "").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let (_a3, head) = open_stream(STRANGER, hub.addr, "").await;
    assert!(head.contains("too_many_streams"), "{head}");
    drop(_a3);
    let mut held = Vec::new();
    let first = hold_until_refused(STRANGER, hub.addr, &mut held).await;
    assert_eq!(
        first, 6,
        "127.0.0.2 is held to 8 connections, its 2 streams among them"
    );
    // Another takes what is left to strangers (12, less those 8 and the display's first
    // connection, made before its token was seen): the rest is kept for the devices.
    let second = hold_until_refused("127.0.0.3", hub.addr, &mut held).await;
    assert!((1..=4).contains(&second), "{second}");
    assert!(
        metric(
            &hub,
            "jiaohao_connections_refused_total{reason=\"capacity\"}"
        )
        .await
            >= 1.0
    );

    // The display that was following goes on, and a display started now gets its stream.
    hub.clerk.window_action(1, "open").await.unwrap();
    let ticket = hub.issue("hukou").await;
    hub.clerk.call_next(1).await.unwrap();
    called_on(&display, &ticket.number).await;
    let second_display = live_link(hub.display.clone()).await;
    let next = hub.issue("hukou").await;
    hub.clerk.call_next(1).await.unwrap();
    called_on(&display, &next.number).await;
    called_on(&second_display, &next.number).await;
    drop(held);
}
