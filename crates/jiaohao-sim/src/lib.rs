//! A discrete-event simulator of whole hall-days that drives the very core the hub runs: the
//! same [`Hall::apply`](jiaohao_core::Hall::apply), the same call-next code and the same wait
//! estimate, in virtual time.
//!
//! A [`Scenario`] (the format of `crates/jiaohao-sim/scenarios/README.md`) says how citizens arrive;
//! [`draw_day`] draws one day's citizens from it once, and [`simulate_day`] runs that day under
//! each [`BenchPolicy`] on the very same citizens (common random numbers). [`bench()`] averages
//! the [`Figures`] of every day into a [`Report`].

pub mod advise;
pub mod bench;
pub mod citizens;
pub mod metrics;
pub mod policy;
pub mod random;
pub mod replay;
pub mod scenario;
pub mod simulate;

pub use advise::{Proposal, propose};
pub use bench::{Report, bench, run_day};
pub use citizens::{BookedSlot, Citizen, draw_day};
pub use metrics::{Figure, Figures};
pub use policy::BenchPolicy;
pub use scenario::{Scenario, ScenarioError};
pub use simulate::{
    BookingTally, DayRecord, LoggedDay, Options, SimError, TicketRecord, WindowRecord,
    simulate_day, simulate_logged_day,
};
