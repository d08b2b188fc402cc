//! A hall-day scenario as `crates/jiaohao-sim/scenarios/README.md` defines it: the services, the windows
//! and how citizens arrive. [`Scenario::parse`] reads the TOML and checks every field, naming
//! the field that is wrong.

use std::path::Path;

use jiaohao_core::{ClockTime, Prefix, ServiceCode, WindowNumber};
use serde::Deserialize;

/// Minutes in a day, for clock times that wrap past midnight.
const DAY_MIN: f64 = 24.0 * 60.0;

/// Why a scenario cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// Not TOML, a missing or unknown field, or a value of the wrong type; the message names
    /// the field and the place.
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    #[error("field `{field}`: {message}")]
    Field { field: String, message: String },
}

fn field_error(field: impl Into<String>, message: impl Into<String>) -> ScenarioError {
    ScenarioError::Field {
        field: field.into(),
        message: message.into(),
    }
}

/// How a service's handling times are distributed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dist {
    Lognormal,
    Exponential,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpec {
    pub code: ServiceCode,
    pub name_zh: String,
    pub prefix: Prefix,
    /// Mean handling time in minutes.
    pub mean_min: f64,
    /// Coefficient of variation of the handling time (ignored for exponential).
    pub cv: f64,
    pub dist: Dist,
    pub mix_am: f64,
    pub mix_pm: f64,
    /// The share of the service's arrivals that book a slot (预约) instead of walking in; 0
    /// when the service takes no bookings.
    pub booking_share: f64,
}

/// How the services with a `booking_share` take bookings (the scenario's `[booking]` table).
#[derive(Debug, Clone, PartialEq)]
pub struct BookingSpec {
    /// The length of a slot: 30 or 60 minutes.
    pub slot_min: u16,
    /// Each slot holds the expected bookings of the day (no-shows included) times
    /// `1 + capacity_headroom`, shared evenly over the slots (as the hub's share of the cap
    /// is); a booker whose slot is full takes the nearest slot with room, or walks in.
    pub capacity_headroom: f64,
    /// A booker arrives at the slot's start plus a normal lateness of this mean …
    pub lateness_mean_min: f64,
    /// … and this standard deviation (never before check-in opens, 30 minutes before the
    /// slot, nor before the hall opens; after it closes, 15 minutes after the start, the
    /// booker takes a walk-in ticket).
    pub lateness_sd_min: f64,
    /// The share of verified bookings that never come: they hold a place and nothing else.
    pub no_show_share: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WindowSpec {
    pub number: WindowNumber,
    /// The services the window may serve, its primary service first.
    pub services: Vec<ServiceCode>,
    /// A break: it finishes the ticket in hand, then calls no one until the interval ends.
    pub closed: Option<(ClockTime, ClockTime)>,
}

impl WindowSpec {
    /// The window's primary service: the first it lists.
    pub fn primary(&self) -> Option<&ServiceCode> {
        self.services.first()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub days: u32,
    pub seed: u64,
    pub open: ClockTime,
    pub arrivals_per_hour: Vec<f64>,
    pub last_ticket: Option<ClockTime>,
    pub day_volume_cv: f64,
    pub noon: ClockTime,
    pub green_channel_share: f64,
    pub no_show_share: f64,
    pub no_show_clerk_min: f64,
    pub target_wait_min: f64,
    pub warmup_hours: f64,
    pub services: Vec<ServiceSpec>,
    pub windows: Vec<WindowSpec>,
    /// How bookings are made, where a service has a `booking_share`.
    pub booking: Option<BookingSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    days: u32,
    seed: u64,
    open: String,
    arrivals_per_hour: Vec<f64>,
    last_ticket: Option<String>,
    day_volume_cv: f64,
    noon: String,
    green_channel_share: f64,
    no_show_share: f64,
    no_show_clerk_min: f64,
    target_wait_min: f64,
    warmup_hours: Option<f64>,
    service: Vec<RawService>,
    window: Vec<RawWindow>,
    booking: Option<RawBooking>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBooking {
    slot_min: Option<u16>,
    capacity_headroom: Option<f64>,
    lateness_mean_min: Option<f64>,
    lateness_sd_min: Option<f64>,
    no_show_share: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    code: String,
    name_zh: String,
    prefix: String,
    mean_min: f64,
    cv: Option<f64>,
    dist: Option<Dist>,
    mix_am: f64,
    mix_pm: f64,
    booking_share: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    number: u32,
    services: Vec<String>,
    closed: Option<Vec<String>>,
}

fn clock(field: &str, text: &str) -> Result<ClockTime, ScenarioError> {
    ClockTime::parse(text).map_err(|error| field_error(field, error.to_string()))
}

/// A finite number within `range`, or an error naming the field.
fn number_in(
    field: &str,
    value: f64,
    range: std::ops::RangeInclusive<f64>,
) -> Result<f64, ScenarioError> {
    if value.is_finite() && range.contains(&value) {
        Ok(value)
    } else {
        Err(field_error(
            field,
            format!(
                "{value} is not between {} and {}",
                range.start(),
                range.end()
            ),
        ))
    }
}

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Scenario::parse(&text)
    }

    /// Parses and checks a scenario.
    pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        let raw: RawScenario = toml::from_str(text)?;
        if raw.name.trim().is_empty() {
            return Err(field_error("name", "must not be empty"));
        }
        if raw.days == 0 {
            return Err(field_error("days", "must be at least 1"));
        }
        let open = clock("open", &raw.open)?;
        let noon = clock("noon", &raw.noon)?;
        if raw.arrivals_per_hour.is_empty() {
            return Err(field_error("arrivals_per_hour", "lists no hour"));
        }
        // A year of hours is far more than any run needs and keeps the arithmetic small.
        if raw.arrivals_per_hour.len() > 24 * 366 {
            return Err(field_error("arrivals_per_hour", "lists more than a year"));
        }
        for (hour, &rate) in raw.arrivals_per_hour.iter().enumerate() {
            number_in(&format!("arrivals_per_hour[{hour}]"), rate, 0.0..=100_000.0)?;
        }
        let last_ticket = raw
            .last_ticket
            .as_deref()
            .map(|text| clock("last_ticket", text))
            .transpose()?;
        if last_ticket == Some(open) {
            return Err(field_error(
                "last_ticket",
                "is the opening time: no ticket could be issued",
            ));
        }
        let scenario = Scenario {
            name: raw.name,
            days: raw.days,
            seed: raw.seed,
            open,
            arrivals_per_hour: raw.arrivals_per_hour,
            last_ticket,
            day_volume_cv: number_in("day_volume_cv", raw.day_volume_cv, 0.0..=10.0)?,
            noon,
            green_channel_share: number_in(
                "green_channel_share",
                raw.green_channel_share,
                0.0..=1.0,
            )?,
            no_show_share: number_in("no_show_share", raw.no_show_share, 0.0..=1.0)?,
            no_show_clerk_min: number_in(
                "no_show_clerk_min",
                raw.no_show_clerk_min,
                0.0..=DAY_MIN,
            )?,
            target_wait_min: number_in("target_wait_min", raw.target_wait_min, 0.0..=DAY_MIN)?,
            warmup_hours: number_in("warmup_hours", raw.warmup_hours.unwrap_or(0.0), 0.0..=1e6)?,
            services: raw
                .service
                .into_iter()
                .enumerate()
                .map(|(index, service)| parse_service(index, service))
                .collect::<Result<_, _>>()?,
            windows: raw
                .window
                .into_iter()
                .enumerate()
                .map(|(index, window)| parse_window(index, window))
                .collect::<Result<_, _>>()?,
            booking: raw.booking.map(parse_booking).transpose()?,
        };
        scenario.check_whole()?;
        Ok(scenario)
    }

    /// Checks what no single field can: unique names, mixes that sum to 1, every service
    /// served.
    fn check_whole(&self) -> Result<(), ScenarioError> {
        if self.services.is_empty() {
            return Err(field_error(
                "service",
                "the hall needs at least one service",
            ));
        }
        if self.windows.is_empty() {
            return Err(field_error("window", "the hall needs at least one window"));
        }
        for (index, service) in self.services.iter().enumerate() {
            let earlier = &self.services[..index];
            if earlier.iter().any(|other| other.code == service.code) {
                return Err(field_error(
                    format!("service[{index}].code"),
                    format!("'{}' is defined twice", service.code),
                ));
            }
            if earlier.iter().any(|other| other.prefix == service.prefix) {
                return Err(field_error(
                    format!("service[{index}].prefix"),
                    format!("'{}' is used by another service", service.prefix),
                ));
            }
            if !self
                .windows
                .iter()
                .any(|w| w.primary() == Some(&service.code))
            {
                return Err(field_error(
                    format!("service[{index}].code"),
                    format!(
                        "'{}' is no window's primary (first) service, so the static policy \
                         would never serve it",
                        service.code
                    ),
                ));
            }
        }
        for (field, mix) in [
            (
                "mix_am",
                self.services.iter().map(|s| s.mix_am).sum::<f64>(),
            ),
            (
                "mix_pm",
                self.services.iter().map(|s| s.mix_pm).sum::<f64>(),
            ),
        ] {
            if (mix - 1.0).abs() > 1e-6 {
                return Err(field_error(
                    format!("service[].{field}"),
                    format!("the shares of all services sum to {mix}, not 1"),
                ));
            }
        }
        for (index, window) in self.windows.iter().enumerate() {
            if self.windows[..index]
                .iter()
                .any(|other| other.number == window.number)
            {
                return Err(field_error(
                    format!("window[{index}].number"),
                    format!("window {} is defined twice", window.number),
                ));
            }
            for code in &window.services {
                if !self.services.iter().any(|s| &s.code == code) {
                    return Err(field_error(
                        format!("window[{index}].services"),
                        format!("'{code}' is not a service of this scenario"),
                    ));
                }
            }
        }
        let horizon = self.issue_horizon_min();
        if self.has_bookings() {
            if self.booking.is_none() {
                return Err(field_error(
                    "booking",
                    "a service has a booking_share, so the scenario needs a [booking] table",
                ));
            }
            if f64::from(self.open.minutes()) + horizon > DAY_MIN {
                return Err(field_error(
                    "booking",
                    "booking slots need a day that ends before midnight",
                ));
            }
        }
        if self.warmup_hours * 60.0 >= horizon {
            return Err(field_error(
                "warmup_hours",
                format!(
                    "{} h covers the whole day of issuing, which ends {horizon} min after open \
                     (the hours of arrivals_per_hour, or last_ticket if earlier): no ticket \
                     would be measured",
                    self.warmup_hours
                ),
            ));
        }
        Ok(())
    }

    /// Minutes after `open` when issuing stops: the end of the last listed hour, or
    /// `last_ticket` if that comes first.
    pub fn issue_horizon_min(&self) -> f64 {
        let listed = self.arrivals_per_hour.len() as f64 * 60.0;
        match self.last_ticket {
            Some(last) => {
                let after_open = (f64::from(last.minutes()) - f64::from(self.open.minutes()))
                    .rem_euclid(DAY_MIN);
                after_open.min(listed)
            }
            None => listed,
        }
    }

    /// Whether some service takes bookings.
    pub fn has_bookings(&self) -> bool {
        self.services.iter().any(|s| s.booking_share > 0.0)
    }

    /// The hours a service taking bookings keeps (its slots lie within them): from opening
    /// to when issuing stops.
    pub fn booking_hours(&self) -> Option<(ClockTime, ClockTime)> {
        let closes = self.open.minutes() + self.issue_horizon_min().floor() as u16;
        Some((self.open, ClockTime::from_minutes(closes).ok()?))
    }

    /// The index of a service by its code.
    pub fn service_index(&self, code: &ServiceCode) -> Option<usize> {
        self.services.iter().position(|s| &s.code == code)
    }
}

fn parse_service(index: usize, raw: RawService) -> Result<ServiceSpec, ScenarioError> {
    let field = |name: &str| format!("service[{index}].{name}");
    let code = ServiceCode::parse(&raw.code)
        .map_err(|error| field_error(field("code"), error.to_string()))?;
    if raw.name_zh.trim().is_empty() || raw.name_zh.chars().count() > 100 {
        return Err(field_error(
            field("name_zh"),
            "must have 1 to 100 characters",
        ));
    }
    let prefix = Prefix::parse(&raw.prefix)
        .map_err(|error| field_error(field("prefix"), error.to_string()))?;
    let mean_min = number_in(&field("mean_min"), raw.mean_min, 0.0..=DAY_MIN)?;
    if mean_min <= 0.0 {
        return Err(field_error(field("mean_min"), "must be more than 0"));
    }
    let dist = raw.dist.unwrap_or(Dist::Lognormal);
    let cv = match (dist, raw.cv) {
        (Dist::Exponential, cv) => cv.unwrap_or(1.0),
        (Dist::Lognormal, Some(cv)) => number_in(&field("cv"), cv, 0.0..=10.0)?,
        (Dist::Lognormal, None) => {
            return Err(field_error(
                field("cv"),
                "is missing: a lognormal service needs its coefficient of variation",
            ));
        }
    };
    Ok(ServiceSpec {
        code,
        name_zh: raw.name_zh,
        prefix,
        mean_min,
        cv,
        dist,
        mix_am: number_in(&field("mix_am"), raw.mix_am, 0.0..=1.0)?,
        mix_pm: number_in(&field("mix_pm"), raw.mix_pm, 0.0..=1.0)?,
        booking_share: number_in(
            &field("booking_share"),
            raw.booking_share.unwrap_or(0.0),
            0.0..=1.0,
        )?,
    })
}

fn parse_booking(raw: RawBooking) -> Result<BookingSpec, ScenarioError> {
    let slot_min = raw.slot_min.unwrap_or(30);
    if slot_min != 30 && slot_min != 60 {
        return Err(field_error("booking.slot_min", "must be 30 or 60"));
    }
    Ok(BookingSpec {
        slot_min,
        capacity_headroom: number_in(
            "booking.capacity_headroom",
            raw.capacity_headroom.unwrap_or(0.2),
            0.0..=10.0,
        )?,
        lateness_mean_min: number_in(
            "booking.lateness_mean_min",
            raw.lateness_mean_min.unwrap_or(-5.0),
            -30.0..=60.0,
        )?,
        lateness_sd_min: number_in(
            "booking.lateness_sd_min",
            raw.lateness_sd_min.unwrap_or(8.0),
            0.0..=60.0,
        )?,
        no_show_share: number_in(
            "booking.no_show_share",
            raw.no_show_share.unwrap_or(0.1),
            0.0..=0.9,
        )?,
    })
}

fn parse_window(index: usize, raw: RawWindow) -> Result<WindowSpec, ScenarioError> {
    let field = |name: &str| format!("window[{index}].{name}");
    let number = WindowNumber::new(raw.number)
        .map_err(|error| field_error(field("number"), error.to_string()))?;
    if raw.services.is_empty() {
        return Err(field_error(
            field("services"),
            "lists no service: a window needs at least its primary service",
        ));
    }
    let mut services: Vec<ServiceCode> = Vec::with_capacity(raw.services.len());
    for text in &raw.services {
        let code = ServiceCode::parse(text)
            .map_err(|error| field_error(field("services"), error.to_string()))?;
        if services.contains(&code) {
            return Err(field_error(
                field("services"),
                format!("lists '{code}' twice"),
            ));
        }
        services.push(code);
    }
    let closed = match raw.closed.as_deref() {
        None => None,
        Some([from, to]) => {
            let from = clock(&field("closed"), from)?;
            let to = clock(&field("closed"), to)?;
            if from >= to {
                return Err(field_error(
                    field("closed"),
                    format!("the break from {from} to {to} does not end after it starts"),
                ));
            }
            Some((from, to))
        }
        Some(_) => {
            return Err(field_error(
                field("closed"),
                "must be two times, [\"HH:MM\", \"HH:MM\"]",
            ));
        }
    };
    Ok(WindowSpec {
        number,
        services,
        closed,
    })
}
