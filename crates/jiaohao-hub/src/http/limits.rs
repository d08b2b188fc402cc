//! Rate limits against ticket hoarding (号贩子) and against hammering the public endpoints: a
//! token bucket per kiosk (ticket issuing) and one per client address (the ticket page, the
//! ticket status, the rating tablet's routes and the sign-in form). Over the limit, the answer
//! is `429` with a JSON message the kiosk shows.
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
    pub fn new(config: LimitConfig) -> Limits {
        Limits {
            origin: Instant::now(),
            tickets: config.tickets.map(Buckets::new),
            public: config.public.map(Buckets::new),
        }
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
