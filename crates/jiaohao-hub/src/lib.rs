//! The hub daemon of a service hall: one writer over the pure core and the SQLite event log,
//! an HTTP API, and a live event stream for kiosks, displays and pages.
//!
//! `main` is thin: [`cli::main`]. Tests and the demo start a real hub with [`spawn`] or
//! [`run`] on `127.0.0.1:0`.

pub mod api;
pub mod app;
pub mod auth;
pub mod backups;
pub mod cli;
pub mod clock;
pub mod codec;
pub mod error;
pub mod events;
pub mod hall_file;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod people;
pub mod reports;
pub mod secret;
pub mod syncer;
pub mod views;
pub mod writer;

pub use app::{Hub, HubConfig, RunningHub, router, run, spawn};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::ApiError;
