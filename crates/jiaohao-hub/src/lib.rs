//! The hub daemon of a service hall: one writer over the pure core and the SQLite event log,
//! an HTTP API, and a live event stream for kiosks, displays and pages.
//!
//! `main` is thin: [`cli::main`]. Tests and the demo start a real hub with [`spawn`] or
//! [`run`] on `127.0.0.1:0`.

// The OpenAPI document is written as `json!` literals; the base one has more schemas than the
// macro's default recursion allows.
#![recursion_limit = "256"]

pub mod app;
pub mod backups;
pub mod cli;
pub mod clock;
pub mod codec;
pub mod engine;
pub mod files;
pub mod hall_file;
pub mod http;
pub mod identity;
pub mod people;
pub mod reports;
pub mod secret;
pub mod sms;
pub mod standby;

// The paths other crates name (limits in their hub configs, the routes the OpenAPI test checks).
pub use http::{limits, openapi};

pub use app::{Hub, HubConfig, RunningHub, run, spawn};
pub use clock::{Clock, ManualClock, SystemClock};
pub use http::error::ApiError;
pub use http::router;
