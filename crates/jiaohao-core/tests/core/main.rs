//! The core's tests, in one binary: each command and error, and properties of random command
//! sequences.

mod bookings;
mod commands;
mod history;
mod identity;
mod properties;
mod ratings;
