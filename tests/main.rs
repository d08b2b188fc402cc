//! Whole-system tests: real hubs on ephemeral ports over fresh SQLite files, driven over HTTP
//! and the live stream exactly as kiosks, displays, clerks and phones drive them. One test
//! binary, one module per area.

mod support;

mod abuse;
mod api;
mod bookings;
mod calendar;
mod cases;
mod events;
mod faults;
mod hall_clock;
mod network;
mod ops;
mod replication;
mod rollover;
mod simulate;
mod standby;
mod supervision;
mod tls_proxy;
mod web;
