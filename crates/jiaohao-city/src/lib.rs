//! The city bureau's service (市局平台): follows every hall's replication stream into
//! PostgreSQL exactly once, folds each hall's log with the core for the live city board, and
//! serves reports across halls. See the README's city section and ARCHITECTURE.md.

pub mod bench;
pub mod board;
pub mod db;
pub mod fold;
pub mod follower;
pub mod halls;
pub mod ingest;
pub mod keyfile;
pub mod reports;
pub mod serve;
pub mod supervisor;
pub mod users;
pub mod web;

pub use fold::{HallFold, TicketRow};
pub use ingest::{HallIngest, Incoming, Written};
pub use keyfile::KeyFile;

/// What can go wrong in the city service.
#[derive(Debug, thiserror::Error)]
pub enum CityError {
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error(
        "the database's schema is version {current}, newer than this program's {newest}: run a newer jiaohao-city"
    )]
    NewerSchema { current: i32, newest: i32 },
    #[error("no hall with id {0}")]
    NoSuchHall(i32),
    #[error("hall {hall}: expected record {expected} next, got {got}")]
    Gap { hall: i32, expected: u64, got: u64 },
    #[error("record {seq} ({kind}) cannot be read: {error} (a hall running a newer jiaohao?)")]
    Undecodable {
        seq: u64,
        kind: String,
        error: String,
    },
    #[error("key file {path}: {message}")]
    KeyFile { path: String, message: String },
    #[error("{0}")]
    Invalid(String),
}
