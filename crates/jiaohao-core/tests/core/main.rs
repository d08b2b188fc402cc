//! The core's tests, in one binary: each command and error, and properties of random command
//! sequences.

mod booking_properties;
mod bookings;
mod cases;
mod commands;
mod history;
mod identity;
mod late_ratings;
mod outcomes;
mod properties;
mod ratings;
mod reasons;
mod rota;
