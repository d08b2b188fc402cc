//! The engine: the one writer over the core and the log (`writer`), the sync threads that make
//! its work durable before anyone hears of it (`syncer`), when waits are re-projected (the
//! projection schedule in `writer`), and the typed hall view it publishes (`views`, an
//! `Arc<HallView>` beside its JSON) with the stream's messages (`stream`) and what it measures
//! (`metrics`). It knows nothing of HTTP: no axum and no `crate::http` here, and its own error
//! type (`error`).

pub mod error;
pub mod metrics;
pub mod stream;
pub mod syncer;
pub mod views;
pub mod writer;

pub use error::EngineError;
