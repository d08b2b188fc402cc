//! Rate limits against ticket hoarding (号贩子) and against hammering the public endpoints: a
//! token bucket per kiosk (ticket issuing) and one per client address (the ticket page, the
//! ticket status, the rating tablet's routes, the sign-in form, and `/api/hall` for addresses
//! that are not devices). Over the limit, the answer
//! is `429` with a JSON message the kiosk shows.
//!
//! And caps on what one client address may hold at once, so that one phone (or one broken
//! device) on the hall's network cannot take the hub's open files: connections (checked by the
//! accept loop, `crate::http::conn`, before any byte is read) and event-stream subscriptions.
//! Devices before strangers: an address that showed a device's or a person's credentials
//! lately is a *device address*; it is not capped per address, and the strangers together may
//! hold at most the hub's connection capacity less a reserve kept for devices. Past a cap the
//! answer is `503` with `Retry-After`. Behind a reverse proxy at a trusted address, the client
//! address is the one the proxy forwards (`X-Forwarded-For`, `X-Real-IP`).
//!
//! Small on purpose: a `Mutex<HashMap>` of buckets, pruned of full ones now and then. The hub
//! is one process, so there is nothing to share; real (monotonic) time drives the buckets, not
//! the hall's clock, since a limit is about how fast requests arrive.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::auth::{Principal, Via};
use crate::http::error::ApiError;
use crate::http::state::AppState;
use jiaohao_store::Role;

/// How many requests may come at once (`burst`) and how fast the allowance comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub burst: u32,
    pub per_minute: u32,
}

impl Rate {
    /// Parses `30/min` or `30/min,10` (a rate and a burst; the burst defaults to a third of
    /// the rate, at least 1).
    pub fn parse(text: &str) -> Result<Rate, String> {
        let bad = || format!("'{text}' is not a rate such as 30/min or 30/min,10");
        let (rate, burst) = match text.split_once(',') {
            Some((rate, burst)) => (rate, Some(burst.trim())),
            None => (text, None),
        };
        let per_minute: u32 = rate
            .trim()
            .strip_suffix("/min")
            .ok_or_else(bad)?
            .trim()
            .parse()
            .map_err(|_| bad())?;
        let burst = match burst {
            Some(burst) => burst.parse().map_err(|_| bad())?,
            None => (per_minute / 3).max(1),
        };
        if per_minute == 0 || burst == 0 {
            return Err(format!("{}: a rate and a burst of at least 1", bad()));
        }
        Ok(Rate { burst, per_minute })
    }
}

/// The limits a hub enforces; `None` switches one off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitConfig {
    /// Tickets issued per kiosk token. Staff (admins) issuing at the counter are not limited.
    pub tickets: Option<Rate>,
    /// Requests to the public endpoints per client address.
    pub public: Option<Rate>,
}

/// What one client address may hold at once, the room kept for devices, and whose forwarded
/// client address is believed; `None` switches a cap off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caps {
    /// Connections one client address (not a device address) may hold open at once.
    pub connections_per_address: Option<u32>,
    /// Event-stream subscriptions one client address (not a device address) may hold at once.
    pub streams_per_address: Option<u32>,
    /// Connections kept for device addresses: strangers together may hold at most the hub's
    /// capacity (its open-file limit less the files it needs itself) less these.
    pub device_reserve: u32,
    /// Reverse proxies whose `X-Forwarded-For` / `X-Real-IP` name the client address. A
    /// proxy's own connections are not capped per address (it carries many clients), but
    /// count among the strangers'.
    pub trusted_proxies: Vec<IpAddr>,
    /// Connections the hub may hold at once; `None`: its open-file limit less the files it
    /// needs itself (a figure given here is also held to that).
    pub max_connections: Option<u32>,
}

impl Default for Caps {
    fn default() -> Caps {
        Caps {
            max_connections: None,
            connections_per_address: Some(DEFAULT_CONNECTIONS_PER_ADDRESS),
            streams_per_address: Some(DEFAULT_STREAMS_PER_ADDRESS),
            device_reserve: DEFAULT_DEVICE_RESERVE,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for LimitConfig {
    /// A kiosk needs two taps and a printed slip per ticket, so 30 a minute (10 at once) is
    /// more than a crowd at one kiosk can take. A hall's phones may share one address behind
    /// its Wi-Fi, and each re-reads its ticket on every call, so the public allowance is wide.
    fn default() -> LimitConfig {
        LimitConfig {
            tickets: Some(Rate {
                burst: 10,
                per_minute: 30,
            }),
            public: Some(Rate {
                burst: 120,
                per_minute: 600,
            }),
        }
    }
}

/// A hall's phones may all share one address behind the Wi-Fi's NAT, each holding its ticket
/// page's event stream and a connection or two for the page itself: 400 phones at once fit.
/// One address can still take no more than half of a hub at the usual 1,024 open files.
pub const DEFAULT_CONNECTIONS_PER_ADDRESS: u32 = 480;
pub const DEFAULT_STREAMS_PER_ADDRESS: u32 = 400;
/// Enough for the kiosks, displays, counters and admin pages of a large hall.
pub const DEFAULT_DEVICE_RESERVE: u32 = 128;
/// Open files the hub needs besides connections: the database and its journal (writer,
/// reader, backups), the listener, the runtime's own.
pub const FILES_FOR_THE_HUB: u64 = 64;
/// How long an address stays a device address after its last credentials.
const DEVICE_MEMORY: Duration = Duration::from_secs(15 * 60);

impl LimitConfig {
    /// No limits at all (benchmarks that drive one kiosk token at thousands a second).
    pub fn off() -> LimitConfig {
        LimitConfig {
            tickets: None,
            public: None,
        }
    }
}

/// Prune full buckets at most this often.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// Prune at once when this many keys have buckets (a flood from many addresses).
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Duration,
}

/// Token buckets by key, in time measured from an origin (so tests can drive time).
pub struct Buckets<K> {
    rate: Rate,
    inner: Mutex<(HashMap<K, Bucket>, Duration)>,
}

impl<K: Eq + Hash + Clone> Buckets<K> {
    pub fn new(rate: Rate) -> Buckets<K> {
        Buckets {
            rate,
            inner: Mutex::new((HashMap::new(), Duration::ZERO)),
        }
    }

    fn per_second(&self) -> f64 {
        f64::from(self.rate.per_minute) / 60.0
    }

    /// Takes one request's token for `key` at time `now`; when there is none, how long until
    /// there is.
    pub fn take(&self, key: &K, now: Duration) -> Result<(), Duration> {
        let burst = f64::from(self.rate.burst);
        let per_second = self.per_second();
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (buckets, pruned_at) = &mut *inner;
        if now.saturating_sub(*pruned_at) >= PRUNE_EVERY || buckets.len() >= MAX_KEYS {
            // A bucket that has filled up again is the same as no bucket.
            buckets.retain(|_, bucket| {
                bucket.tokens + now.saturating_sub(bucket.at).as_secs_f64() * per_second < burst
            });
            *pruned_at = now;
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_sub(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(burst);
        bucket.at = bucket.at.max(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
        }
    }

    /// How many keys have a bucket (for tests of the pruning).
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The limits of one running hub.
pub struct Limits {
    origin: Instant,
    /// By kiosk token id.
    tickets: Option<Buckets<i64>>,
    public: Option<Buckets<IpAddr>>,
    caps: Caps,
    /// Connections the hub may hold at once (from its open-file limit).
    capacity: u32,
    held: Mutex<Held>,
    /// Device addresses and when they last showed credentials.
    devices: Mutex<HashMap<IpAddr, Instant>>,
}

/// What client addresses hold now.
#[derive(Default)]
struct Held {
    connections: HashMap<IpAddr, u32>,
    streams: HashMap<IpAddr, u32>,
    /// Streams opened with valid credentials (a display's), per address: while one is held,
    /// its address stays a device's, however long ago the credentials were shown.
    device_streams: HashMap<IpAddr, u32>,
    total: u32,
    strangers: u32,
}

/// Why a connection was refused at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Its address holds as many connections as one address may.
    PerAddress,
    /// The strangers hold all they may (the rest is kept for devices), or the hub is full.
    Capacity,
}

impl Refused {
    pub fn as_str(self) -> &'static str {
        match self {
            Refused::PerAddress => "per_address",
            Refused::Capacity => "capacity",
        }
    }
}

/// Seconds a refused client is asked to wait before it tries again.
pub const RETRY_AFTER_S: u64 = 5;

/// Holds one connection's place until it is dropped.
pub struct ConnectionGuard {
    limits: std::sync::Arc<Limits>,
    key: IpAddr,
    stranger: bool,
}

impl ConnectionGuard {
    /// Whether the connection counts among the strangers' (not a device address's).
    pub fn is_stranger(&self) -> bool {
        self.stranger
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        let mut held = self.limits.held();
        decrement(&mut held.connections, self.key);
        held.total = held.total.saturating_sub(1);
        if self.stranger {
            held.strangers = held.strangers.saturating_sub(1);
        }
    }
}

/// Holds one event-stream subscription's place until it is dropped.
pub struct StreamGuard {
    limits: std::sync::Arc<Limits>,
    key: IpAddr,
    with_credentials: bool,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let mut held = self.limits.held();
        decrement(&mut held.streams, self.key);
        if self.with_credentials {
            decrement(&mut held.device_streams, self.key);
        }
    }
}

fn decrement(counts: &mut HashMap<IpAddr, u32>, key: IpAddr) {
    if let Some(count) = counts.get_mut(&key) {
        *count = count.saturating_sub(1);
        if *count == 0 {
            counts.remove(&key);
        }
    }
}

/// A refusal over a limit: `429` with the JSON error body and a `Retry-After` header.
#[derive(Debug)]
pub struct TooMany {
    pub error: ApiError,
    pub retry_after_s: u64,
}

impl IntoResponse for TooMany {
    fn into_response(self) -> Response {
        let mut response = self.error.into_response();
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(self.retry_after_s),
        );
        response
    }
}

fn too_many(what: &str, wait: Duration) -> TooMany {
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    TooMany {
        error: ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!("{what}; try again in {seconds} s"),
        ),
        retry_after_s: seconds,
    }
}

impl Limits {
    /// Limits for a hub that may hold `capacity` connections at once.
    pub fn new(config: LimitConfig, caps: Caps, capacity: u32) -> Limits {
        let capacity = caps
            .max_connections
            .map_or(capacity, |max| max.min(capacity));
        Limits {
            origin: Instant::now(),
            tickets: config.tickets.map(Buckets::new),
            public: config.public.map(Buckets::new),
            caps,
            capacity,
            held: Mutex::new(Held::default()),
            devices: Mutex::new(HashMap::new()),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Connections the hub may hold at once.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Whether `peer` is a reverse proxy whose forwarded client address is believed.
    pub fn is_trusted_proxy(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        self.caps
            .trusted_proxies
            .iter()
            .any(|proxy| proxy.to_canonical() == peer)
    }

    /// The client a request comes from: the peer, or, when the peer is a trusted proxy, the
    /// address it forwards (the last `X-Forwarded-For` entry, which the proxy itself added,
    /// else `X-Real-IP`).
    pub fn client_address(&self, peer: IpAddr, headers: &axum::http::HeaderMap) -> IpAddr {
        if !self.is_trusted_proxy(peer) {
            return peer;
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(|entry| entry.trim().parse::<IpAddr>().ok())
            .next_back();
        let real = || {
            headers
                .get("x-real-ip")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<IpAddr>().ok())
        };
        forwarded.or_else(real).unwrap_or(peer)
    }

    /// Remembers that `address` showed a device's or a person's credentials just now.
    pub fn saw_device(&self, address: IpAddr) {
        let key = client_key(address);
        let now = Instant::now();
        let mut devices = self.devices.lock().unwrap_or_else(|e| e.into_inner());
        if devices.len() >= 10_000 {
            devices.retain(|_, seen| now.duration_since(*seen) < DEVICE_MEMORY);
        }
        devices.insert(key, now);
    }

    /// Whether `address` showed credentials lately, or holds a stream it opened with them (a
    /// display follows one stream for hours and sends nothing else: it must not become a
    /// stranger while it does, or its next connection could be refused under a flood).
    pub fn is_device(&self, address: IpAddr) -> bool {
        let key = client_key(address);
        let remembered = self
            .devices
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .is_some_and(|seen| seen.elapsed() < DEVICE_MEMORY);
        remembered || self.held().device_streams.contains_key(&key)
    }

    /// Admits one connection from `peer`, or says why not.
    pub fn admit(self: &std::sync::Arc<Self>, peer: IpAddr) -> Result<ConnectionGuard, Refused> {
        let key = client_key(peer);
        let proxy = self.is_trusted_proxy(peer);
        // A proxy's connections carry strangers, even if someone once signed in through it.
        let device = !proxy && self.is_device(peer);
        let mut held = self.held();
        if held.total >= self.capacity {
            return Err(Refused::Capacity);
        }
        if !device {
            if held.strangers >= self.capacity.saturating_sub(self.caps.device_reserve) {
                return Err(Refused::Capacity);
            }
            if let Some(cap) = self.caps.connections_per_address
                && !proxy
                && held.connections.get(&key).copied().unwrap_or(0) >= cap
            {
                return Err(Refused::PerAddress);
            }
            held.strangers += 1;
        }
        held.total += 1;
        *held.connections.entry(key).or_insert(0) += 1;
        Ok(ConnectionGuard {
            limits: self.clone(),
            key,
            stranger: !device,
        })
    }

    /// Takes one event-stream place for `address` (a device address is not capped);
    /// `with_credentials`: the stream was opened with valid credentials, and keeps its address
    /// a device's while it is held.
    pub fn stream(
        self: &std::sync::Arc<Self>,
        address: IpAddr,
        with_credentials: bool,
    ) -> Result<StreamGuard, TooMany> {
        let key = client_key(address);
        let capped = !self.is_device(address);
        let mut held = self.held();
        let count = held.streams.entry(key).or_insert(0);
        if let Some(cap) = self.caps.streams_per_address
            && capped
            && *count >= cap
        {
            let mut refusal = too_many(
                "this address follows the live stream too many times at once",
                Duration::from_secs(RETRY_AFTER_S),
            );
            refusal.error.status = StatusCode::SERVICE_UNAVAILABLE;
            refusal.error.code = "too_many_streams";
            return Err(refusal);
        }
        *count += 1;
        if with_credentials {
            *held.device_streams.entry(key).or_insert(0) += 1;
        }
        Ok(StreamGuard {
            limits: self.clone(),
            key,
            with_credentials,
        })
    }

    /// Connections held now: all, and the strangers'.
    pub fn connections_held(&self) -> (u32, u32) {
        let held = self.held();
        (held.total, held.strangers)
    }

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    /// Counts one ticket against the kiosk that issues it.
    pub fn ticket(&self, who: &Principal) -> Result<(), TooMany> {
        let (Some(buckets), Role::Kiosk, Via::Token { id }) = (&self.tickets, who.role, &who.via)
        else {
            return Ok(());
        };
        buckets.take(id, self.now()).map_err(|wait| {
            tracing::warn!(actor = %who.actor(), "ticket rate limit reached");
            too_many(
                "this kiosk has issued too many tickets in a short time",
                wait,
            )
        })
    }

    /// Counts one request to a public endpoint against the client's address.
    pub fn public(&self, address: IpAddr) -> Result<(), TooMany> {
        let Some(buckets) = &self.public else {
            return Ok(());
        };
        buckets
            .take(&client_key(address), self.now())
            .map_err(|wait| too_many("too many requests from this address", wait))
    }
}

/// The key of a client address: an IPv4 address, or the /64 network of an IPv6 one (one
/// household or phone gets a whole /64, so single addresses would be free to rotate).
fn client_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
        v4 => v4,
    }
}

/// Middleware for the public routes: a limit per client address. A router served without
/// connection info (a test calling it directly) is not limited.
pub async fn public(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip());
    if let Some(address) = address
        && let Err(error) = state.limits.public(address)
    {
        return error.into_response();
    }
    next.run(request).await
}

/// Middleware for a route that devices read often and strangers may read too (`/api/hall`,
/// which displays poll without credentials): the public limit per client address, except for
/// a device address (one that showed valid credentials lately), which is not limited.
pub async fn public_unless_device(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip());
    if let Some(address) = address
        && !state.limits.is_device(address)
        && let Err(error) = state.limits.public(address)
    {
        return error.into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(seconds: f64) -> Duration {
        Duration::from_secs_f64(seconds)
    }

    #[test]
    fn a_burst_is_allowed_then_the_rate() {
        let buckets = Buckets::new(Rate {
            burst: 3,
            per_minute: 30,
        });
        for _ in 0..3 {
            assert!(buckets.take(&"kiosk", s(0.0)).is_ok());
        }
        let wait = buckets.take(&"kiosk", s(0.0)).unwrap_err();
        assert!((wait.as_secs_f64() - 2.0).abs() < 0.01, "{wait:?}");
        assert!(buckets.take(&"other", s(0.0)).is_ok(), "keys are separate");
        assert!(buckets.take(&"kiosk", s(1.9)).is_err());
        assert!(buckets.take(&"kiosk", s(2.0)).is_ok());
        // A long pause refills up to the burst, no more.
        for _ in 0..3 {
            assert!(buckets.take(&"kiosk", s(1000.0)).is_ok());
        }
        assert!(buckets.take(&"kiosk", s(1000.0)).is_err());
    }

    #[test]
    fn time_going_backwards_neither_refills_nor_panics() {
        let buckets = Buckets::new(Rate {
            burst: 1,
            per_minute: 1,
        });
        assert!(buckets.take(&1, s(100.0)).is_ok());
        assert!(buckets.take(&1, s(50.0)).is_err());
        assert!(buckets.take(&1, s(100.0)).is_err());
    }

    #[test]
    fn full_buckets_are_pruned() {
        let buckets = Buckets::new(Rate {
            burst: 2,
            per_minute: 60,
        });
        for key in 0..1000 {
            assert!(buckets.take(&key, s(0.0)).is_ok());
        }
        assert_eq!(buckets.len(), 1000);
        assert!(buckets.take(&0, s(61.0)).is_ok());
        assert_eq!(buckets.len(), 1, "only the bucket just used is left");
    }

    #[test]
    fn an_ipv6_network_shares_one_bucket() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_forwarded_address_is_believed_only_from_a_trusted_proxy() {
        let limits = Limits::new(
            LimitConfig::off(),
            Caps {
                trusted_proxies: vec![ip("10.0.0.1")],
                ..Caps::default()
            },
            100,
        );
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7".parse().unwrap(),
        );
        headers.insert("x-real-ip", "192.0.2.1".parse().unwrap());
        // The proxy's own entry is the last one; a client can write the others.
        assert_eq!(
            limits.client_address(ip("10.0.0.1"), &headers),
            ip("198.51.100.7")
        );
        assert_eq!(
            limits.client_address(ip("::ffff:10.0.0.1"), &headers),
            ip("198.51.100.7")
        );
        assert_eq!(
            limits.client_address(ip("10.0.0.2"), &headers),
            ip("10.0.0.2")
        );
        headers.remove("x-forwarded-for");
        assert_eq!(
            limits.client_address(ip("10.0.0.1"), &headers),
            ip("192.0.2.1")
        );
        headers.insert("x-real-ip", "not an address".parse().unwrap());
        assert_eq!(
            limits.client_address(ip("10.0.0.1"), &headers),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn connections_are_capped_per_address_and_strangers_leave_the_reserve() {
        let limits = std::sync::Arc::new(Limits::new(
            LimitConfig::off(),
            Caps {
                connections_per_address: Some(3),
                device_reserve: 4,
                trusted_proxies: vec![ip("10.0.0.1")],
                ..Caps::default()
            },
            10,
        ));
        let mut held: Vec<_> = (0..3)
            .map(|_| limits.admit(ip("10.0.0.5")).unwrap())
            .collect();
        assert_eq!(
            limits.admit(ip("10.0.0.5")).err(),
            Some(Refused::PerAddress)
        );
        // A proxy is not capped per address, but counts among the strangers.
        held.extend((0..3).map(|_| limits.admit(ip("10.0.0.1")).unwrap()));
        assert_eq!(limits.admit(ip("10.0.0.6")).err(), Some(Refused::Capacity));
        assert_eq!(limits.connections_held(), (6, 6));
        // A device takes from the reserve, up to the whole capacity.
        limits.saw_device(ip("10.0.0.9"));
        held.extend((0..4).map(|_| limits.admit(ip("10.0.0.9")).unwrap()));
        assert_eq!(limits.admit(ip("10.0.0.9")).err(), Some(Refused::Capacity));
        // A proxy stays a stranger even after credentials came through it.
        limits.saw_device(ip("10.0.0.1"));
        held.truncate(3);
        assert_eq!(limits.connections_held(), (3, 3));
        assert_eq!(
            limits.admit(ip("10.0.0.5")).err(),
            Some(Refused::PerAddress)
        );
        assert!(limits.admit(ip("10.0.0.1")).is_ok());
        drop(held);
        assert_eq!(limits.connections_held(), (0, 0));
    }

    /// Limits of one event stream per address (and otherwise none).
    fn one_stream_per_address() -> std::sync::Arc<Limits> {
        std::sync::Arc::new(Limits::new(
            LimitConfig::off(),
            Caps {
                streams_per_address: Some(1),
                ..Caps::default()
            },
            100,
        ))
    }

    #[test]
    fn streams_are_capped_per_address_but_not_for_a_device() {
        let limits = one_stream_per_address();
        let first = limits.stream(ip("10.0.0.5"), false).unwrap();
        let refused = limits.stream(ip("10.0.0.5"), false).err().unwrap();
        assert_eq!(refused.error.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(refused.retry_after_s, RETRY_AFTER_S);
        drop(first);
        let _again = limits.stream(ip("10.0.0.5"), false).unwrap();
        limits.saw_device(ip("10.0.0.9"));
        let _displays: Vec<_> = (0..5)
            .map(|_| limits.stream(ip("10.0.0.9"), false).unwrap())
            .collect();
    }

    #[test]
    fn an_address_holding_a_stream_opened_with_credentials_stays_a_devices() {
        let limits = one_stream_per_address();
        let display = ip("10.0.0.7");
        assert!(!limits.is_device(display));
        // Its credentials were shown (and may be forgotten after 15 minutes); the stream it
        // holds keeps it a device's, uncapped, until it goes.
        let held = limits.stream(display, true).unwrap();
        assert!(limits.is_device(display));
        let more: Vec<_> = (0..3)
            .map(|_| limits.stream(display, false).unwrap())
            .collect();
        drop(more);
        drop(held);
        assert!(!limits.is_device(display));
        // A stream without credentials makes no device.
        let _stranger = limits.stream(display, false).unwrap();
        assert!(!limits.is_device(display));
        assert!(limits.stream(display, false).is_err());
    }

    #[test]
    fn rates_parse_from_the_command_line() {
        assert_eq!(
            Rate::parse("30/min,10"),
            Ok(Rate {
                burst: 10,
                per_minute: 30
            })
        );
        assert_eq!(
            Rate::parse("600/min"),
            Ok(Rate {
                burst: 200,
                per_minute: 600
            })
        );
        for bad in ["", "30", "30/s", "0/min", "30/min,0", "-1/min", "x/min,3"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
    }
}
