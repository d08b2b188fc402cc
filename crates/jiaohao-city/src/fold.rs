//! One hall's log folded in memory, with no I/O: the core's [`Hall`] (the live state the board
//! shows, with its projection) and the core's [`History`] (each ticket's life, the rows the
//! reports read). The ingest function feeds it every record it writes and writes what it says.
//!
//! Memory stays bounded by one day: when a day starts, the history begins anew from the
//! configuration events alone (a ticket of an earlier day is already a row in PostgreSQL), and
//! the hall is the core's day-start snapshot, which the ingest stores so a restart folds only
//! the records since. An event about a ticket of an earlier day (a late rating) is not lost:
//! it becomes a [`LateRating`] that updates that day's row.

use std::collections::{BTreeSet, HashMap};

use jiaohao_core::history::{Departure, TicketLife};
use jiaohao_core::{
    Case, Event, Fact, Hall, HallSnapshot, History, LocalDate, Millis, Rating, RatingReason,
    TicketId,
};

/// What the fold adds to the history's ticket life for a row.
#[derive(Debug, Clone, Default)]
struct TicketExtra {
    handling_ms: Option<i64>,
    finished_at: Option<Millis>,
    no_shows: i32,
    transfers: i32,
    rated_at: Option<Millis>,
    rating_reason: Option<RatingReason>,
    outcome: Outcome,
}

/// How a ticket's visit stands (the last departure, or still waiting or at a window).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Outcome {
    #[default]
    Waiting,
    Called,
    Finished,
    NoShow,
    Transferred,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Waiting => "waiting",
            Outcome::Called => "called",
            Outcome::Finished => "finished",
            Outcome::NoShow => "no_show",
            Outcome::Transferred => "transferred",
        }
    }
}

/// One ticket as a row of the `tickets` table.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRow {
    pub ticket: i64,
    pub day: LocalDate,
    pub number: String,
    pub issued_service: String,
    pub service: String,
    pub green_channel: bool,
    pub issued_at: Millis,
    pub first_called_at: Option<Millis>,
    pub wait_ms: Option<i64>,
    pub wait_target_min: Option<i32>,
    pub within_target: Option<bool>,
    pub called_window: Option<i32>,
    pub clerk: Option<String>,
    pub finished_at: Option<Millis>,
    pub handling_ms: Option<i64>,
    pub outcome: Outcome,
    pub no_shows: i32,
    pub transfers: i32,
    pub out_of_order: i32,
    pub rating: Option<i16>,
    pub rating_reason: Option<String>,
    pub rated_at: Option<Millis>,
    /// The wait in tenths of a minute, rounded exactly as the hall's reports round minutes.
    pub wait_bin: Option<i32>,
}

/// A wait in tenths of a minute, by the very arithmetic of the hub's reports (`minutes`), so
/// the p90 found from these bins is the one the hall's report prints.
pub fn wait_bin(wait_ms: i64) -> i32 {
    (wait_ms as f64 / Millis::MINUTE as f64 * 10.0).round() as i32
}

/// A rating of a ticket the fold no longer holds (issued on an earlier day).
#[derive(Debug, Clone, PartialEq)]
pub struct LateRating {
    pub ticket: i64,
    pub rating: i16,
    pub reason: Option<String>,
    pub at: Millis,
}

/// What folding a batch asks the ingest to write.
#[derive(Debug, Default)]
pub struct Folded {
    /// Every ticket the batch touched, as it stands after the batch.
    pub rows: Vec<TicketRow>,
    pub late_ratings: Vec<LateRating>,
    /// The snapshot of the latest day start in the batch, with its sequence number.
    pub snapshot: Option<(u64, HallSnapshot)>,
    /// Every 差评 case the batch opened or moved, as it stands after the batch (the hall's
    /// registry keeps cases across days, so a step a week later finds its case).
    pub cases: Vec<Case>,
}

/// One record to fold: its number, time, actor and event.
pub struct FoldRecord<'a> {
    pub seq: u64,
    pub at: Millis,
    pub actor: &'a str,
    pub event: &'a Event,
}

/// Who a clerk is in reports: the actor without the window a person signed in at (the hub's
/// reports use the same key).
pub fn clerk_key(actor: &str) -> String {
    match actor.rsplit_once('@') {
        Some((person, window))
            if !window.is_empty() && window.chars().all(|c| c.is_ascii_digit()) =>
        {
            person.to_owned()
        }
        _ => actor.to_owned(),
    }
}

/// The fold of one hall's log; see the module's documentation.
#[derive(Debug, Clone, Default)]
pub struct HallFold {
    hall: Hall,
    history: History,
    /// Every configuration event so far, to seed the history of a new day.
    configuration: Vec<(Event, Millis, String)>,
    extras: HashMap<TicketId, TicketExtra>,
    day: Option<LocalDate>,
    last_seq: u64,
    last_at: Option<Millis>,
}

impl HallFold {
    pub fn new() -> HallFold {
        HallFold::default()
    }

    /// A fold resumed from a day-start snapshot and the configuration events logged up to it
    /// (the ingest stores both); the records after `snapshot_seq` are folded next.
    pub fn resume(
        snapshot: &HallSnapshot,
        snapshot_seq: u64,
        configuration: Vec<(Event, Millis, String)>,
    ) -> HallFold {
        let mut fold = HallFold {
            hall: Hall::from_snapshot(snapshot),
            configuration,
            day: Some(snapshot.date),
            last_seq: snapshot_seq,
            last_at: Some(snapshot.day_started_at),
            ..HallFold::default()
        };
        fold.history = fold.fresh_history();
        fold
    }

    /// The hall as it stands after the last folded record.
    pub fn hall(&self) -> &Hall {
        &self.hall
    }

    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Counts the records up to `seq` as folded: those that carry no hall event (`promoted`)
    /// are passed over, not folded.
    pub fn pass_to(&mut self, seq: u64) {
        self.last_seq = self.last_seq.max(seq);
    }

    /// The time of the last folded record.
    pub fn last_at(&self) -> Option<Millis> {
        self.last_at
    }

    fn fresh_history(&self) -> History {
        let mut history = History::new();
        for (event, at, actor) in &self.configuration {
            history.fold(event, *at, actor, |_| {});
        }
        history
    }

    /// Folds records in sequence order and says which rows, late ratings and snapshot to
    /// write. Records at or below the last folded sequence number are skipped.
    pub fn fold<'a>(&mut self, records: impl IntoIterator<Item = FoldRecord<'a>>) -> Folded {
        let mut folded = Folded::default();
        let mut touched: BTreeSet<TicketId> = BTreeSet::new();
        let mut cases: BTreeSet<TicketId> = BTreeSet::new();
        for record in records {
            if record.seq <= self.last_seq {
                continue;
            }
            self.last_seq = record.seq;
            self.last_at = Some(record.at);
            let event = record.event;
            if let Event::DayStarted { date } = event {
                // The tickets of the day that ends are rows already; write their last state
                // now, before the history that holds them is dropped.
                self.history.fold(event, record.at, record.actor, |_| {});
                folded.rows.extend(self.rows_of(&touched));
                touched.clear();
                folded.snapshot =
                    Some((record.seq, self.hall.day_start_snapshot(*date, record.at)));
                self.hall.evolve(event, record.at);
                self.day = Some(*date);
                self.extras.clear();
                self.history = self.fresh_history();
                continue;
            }
            if let Some(case) = Case::opened_by(event, record.at)
                .map(|case| case.ticket)
                .or_else(|| Case::step_of(event, record.at).map(|(case, ..)| case))
            {
                cases.insert(case);
            }
            if event.is_configuration() {
                self.configuration
                    .push((event.clone(), record.at, record.actor.to_owned()));
            }
            if let Event::TicketRated {
                id, rating, reason, ..
            } = event
                && self.history.ticket(*id).is_none()
            {
                folded.late_ratings.push(LateRating {
                    ticket: id.0 as i64,
                    rating: i16::from(rating.score()),
                    reason: reason.map(|r| r.as_str().to_owned()),
                    at: record.at,
                });
            }
            let extras = &mut self.extras;
            let reason = match event {
                Event::TicketRated { reason, .. } => *reason,
                _ => None,
            };
            self.history.fold(event, record.at, record.actor, |fact| {
                let id = match &fact {
                    Fact::Issued(ticket) => ticket.id,
                    Fact::Called { ticket, .. }
                    | Fact::Departed { ticket, .. }
                    | Fact::Rated { ticket, .. } => ticket.id,
                    _ => return,
                };
                let extra = extras.entry(id).or_default();
                match fact {
                    Fact::Called { .. } => extra.outcome = Outcome::Called,
                    Fact::Departed {
                        how, handled_ms, ..
                    } => match how {
                        Departure::Finished(_) => {
                            extra.outcome = Outcome::Finished;
                            extra.handling_ms = handled_ms;
                            extra.finished_at = Some(record.at);
                        }
                        Departure::NoShow => {
                            extra.outcome = Outcome::NoShow;
                            extra.no_shows += 1;
                        }
                        Departure::Transferred(_) => {
                            extra.outcome = Outcome::Transferred;
                            extra.transfers += 1;
                        }
                    },
                    Fact::Rated { .. } => {
                        extra.rated_at = Some(record.at);
                        extra.rating_reason = reason;
                    }
                    _ => {}
                }
                touched.insert(id);
            });
            self.hall.evolve(event, record.at);
        }
        folded.rows.extend(self.rows_of(&touched));
        folded.cases = cases
            .iter()
            .filter_map(|id| self.hall.registry().case(*id).cloned())
            .collect();
        folded
    }

    fn rows_of(&self, ids: &BTreeSet<TicketId>) -> Vec<TicketRow> {
        let day = self.day.unwrap_or(LocalDate {
            year: 1970,
            month: 1,
            day: 1,
        });
        ids.iter()
            .filter_map(|id| {
                let life = self.history.ticket(*id)?;
                let extra = self.extras.get(id).cloned().unwrap_or_default();
                Some(row(life, &extra, day))
            })
            .collect()
    }
}

fn row(life: &TicketLife, extra: &TicketExtra, day: LocalDate) -> TicketRow {
    let wait_ms = life.wait_ms();
    let wait_target_min = life.wait_target_min();
    let within_target = match (wait_ms, wait_target_min) {
        (Some(wait), Some(target)) => Some(wait <= i64::from(target) * Millis::MINUTE),
        _ => None,
    };
    TicketRow {
        ticket: life.id.0 as i64,
        day,
        number: life.number.to_string(),
        issued_service: life.issued_service.to_string(),
        service: life.service.to_string(),
        green_channel: life.green_channel,
        issued_at: life.issued_at,
        first_called_at: life.first_call.as_ref().map(|c| c.at),
        wait_ms,
        wait_target_min: wait_target_min.map(|m| m as i32),
        within_target,
        called_window: life.last_call.as_ref().map(|c| i32::from(c.window.get())),
        clerk: life.last_call.as_ref().map(|c| clerk_key(&c.actor)),
        finished_at: extra.finished_at,
        handling_ms: extra.handling_ms,
        outcome: extra.outcome,
        no_shows: extra.no_shows,
        transfers: extra.transfers,
        out_of_order: life.out_of_order_calls as i32,
        rating: life.rating.map(|r: Rating| i16::from(r.score())),
        rating_reason: extra.rating_reason.map(|r| r.as_str().to_owned()),
        rated_at: extra.rated_at,
        wait_bin: wait_ms.map(wait_bin),
    }
}
