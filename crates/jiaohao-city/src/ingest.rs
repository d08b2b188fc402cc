//! Writing a hall's records into PostgreSQL exactly once: one function, [`HallIngest::ingest`],
//! fed by the stream follower and by the bench's generator alike.
//!
//! A batch is written in ONE transaction together with the hall's `last_seq`, with the hall's
//! row locked: records at or below `last_seq` are skipped (a resent batch writes nothing), a
//! gap is refused, and a crash before the commit leaves nothing of the batch. The per-ticket
//! rows and the day-start snapshot the fold says are written in the same transaction, so they
//! always match the records. The fold in memory is dropped on any error and rebuilt from
//! PostgreSQL before the next batch.

use std::time::Instant;

use jiaohao_core::{Event, Millis};
use jiaohao_store::stored;
use tokio_postgres::{Client, GenericClient};

use crate::CityError;
use crate::fold::{FoldRecord, Folded, HallFold};

/// One record as the hall's replication stream carries it (a `ReplicationLine::Record`).
#[derive(Debug, Clone)]
pub struct Incoming {
    pub seq: u64,
    pub term: u64,
    pub at_ms: i64,
    pub actor: String,
    pub kind: String,
    /// The stored event JSON, verbatim.
    pub body: String,
}

impl Incoming {
    /// A record made here from an event (the bench's generator): the stored JSON the hub
    /// would have written.
    pub fn from_event(seq: u64, at: Millis, actor: &str, event: &Event) -> Incoming {
        Incoming {
            seq,
            term: 1,
            at_ms: at.0,
            actor: actor.to_owned(),
            kind: event.kind().to_owned(),
            body: stored::event_to_json(event),
        }
    }
}

/// What one call wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Records new to PostgreSQL.
    pub records: usize,
    /// Records skipped because PostgreSQL had them already.
    pub skipped: usize,
    pub last_seq: u64,
}

/// The ingest of one hall: its id and its fold (absent until loaded or after an error).
pub struct HallIngest {
    pub hall: i32,
    fold: Option<HallFold>,
}

/// The SQL for an instant given in milliseconds since the epoch.
const AT: &str = "(timestamptz 'epoch' + $X::bigint * interval '1 millisecond')";

fn at_sql(param: &str) -> String {
    AT.replace("$X", param)
}

impl HallIngest {
    pub fn new(hall: i32) -> HallIngest {
        HallIngest { hall, fold: None }
    }

    /// The fold as of the last batch written, if loaded.
    pub fn fold(&self) -> Option<&HallFold> {
        self.fold.as_ref()
    }

    /// The hall's last sequence number in PostgreSQL: where its stream resumes.
    pub async fn last_seq(client: &impl GenericClient, hall: i32) -> Result<u64, CityError> {
        let row = client
            .query_opt("SELECT last_seq FROM halls WHERE id = $1", &[&hall])
            .await?
            .ok_or(CityError::NoSuchHall(hall))?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    /// Writes a batch of records (in sequence order) exactly once; see the module's
    /// documentation.
    pub async fn ingest(
        &mut self,
        client: &mut Client,
        records: &[Incoming],
    ) -> Result<Written, CityError> {
        let result = self.ingest_inner(client, records).await;
        if result.is_err() {
            self.fold = None;
        }
        result
    }

    async fn ingest_inner(
        &mut self,
        client: &mut Client,
        records: &[Incoming],
    ) -> Result<Written, CityError> {
        let mut events = Vec::with_capacity(records.len());
        for record in records {
            events.push(decode(record.seq as i64, &record.kind, &record.body)?);
        }
        let tx = client.transaction().await?;
        let last_seq = HallIngest::locked_last_seq(&tx, self.hall).await?;
        let start = records.partition_point(|r| r.seq <= last_seq);
        let (old, new) = (&records[..start], &records[start..]);
        let events = &events[start..];
        for (expected, record) in (last_seq + 1..).zip(new) {
            if record.seq != expected {
                return Err(CityError::Gap {
                    hall: self.hall,
                    expected,
                    got: record.seq,
                });
            }
        }
        if new.is_empty() {
            return Ok(Written {
                records: 0,
                skipped: old.len(),
                last_seq,
            });
        }
        if self.fold.as_ref().map(HallFold::last_seq) != Some(last_seq) {
            self.fold = Some(load_fold(&tx, self.hall, last_seq).await?);
        }
        let fold = self.fold.as_mut().expect("loaded above");
        let folded = fold.fold(new.iter().zip(events).filter_map(|(record, event)| {
            Some(FoldRecord {
                seq: record.seq,
                at: Millis(record.at_ms),
                actor: &record.actor,
                event: event.as_ref()?,
            })
        }));
        let new_last = new.last().map_or(last_seq, |r| r.seq);
        fold.pass_to(new_last);
        // The hall's own time zone for the pages; a name the time zone database does not know
        // (the hub refuses those) leaves the last known one.
        let timezone = Some(fold.hall().settings().timezone.trim().to_owned())
            .filter(|name| jiff::tz::TimeZone::get(name).is_ok());
        insert_records(&tx, self.hall, new, events).await?;
        write_folded(&tx, self.hall, &folded).await?;
        let last_at = new.last().map_or(0, |r| r.at_ms);
        tx.execute(
            &format!(
                "UPDATE halls SET last_seq = $2, last_record_at = {},
                 timezone = coalesce($4, timezone) WHERE id = $1",
                at_sql("$3")
            ),
            &[&self.hall, &(new_last as i64), &last_at, &timezone],
        )
        .await?;
        if let Some((seq, snapshot)) = &folded.snapshot {
            tx.execute(
                "UPDATE halls SET snapshot = $2, snapshot_seq = $3 WHERE id = $1",
                &[
                    &self.hall,
                    &stored::snapshot_to_json(snapshot),
                    &(*seq as i64),
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Written {
            records: new.len(),
            skipped: old.len(),
            last_seq: new_last,
        })
    }

    async fn locked_last_seq(
        tx: &tokio_postgres::Transaction<'_>,
        hall: i32,
    ) -> Result<u64, CityError> {
        let row = tx
            .query_opt(
                "SELECT last_seq FROM halls WHERE id = $1 FOR UPDATE",
                &[&hall],
            )
            .await?
            .ok_or(CityError::NoSuchHall(hall))?;
        Ok(row.get::<_, i64>(0) as u64)
    }
}

/// A record's hall event, or `None` for a store record that is none (`promoted`: a standby
/// of the hall took over; it is kept with its number, and the fold skips it as the hub's does).
fn decode(seq: i64, kind: &str, body: &str) -> Result<Option<Event>, CityError> {
    if kind == jiaohao_store::PROMOTED_KIND {
        return Ok(None);
    }
    stored::event_from_json(body)
        .map(Some)
        .map_err(|error| CityError::Undecodable {
            seq: seq as u64,
            kind: kind.to_owned(),
            error: error.to_string(),
        })
}

/// Rebuilds a hall's fold from PostgreSQL: the latest day-start snapshot, the configuration
/// records up to it, then every record after it up to `last_seq`.
pub async fn load_fold(
    client: &impl GenericClient,
    hall: i32,
    last_seq: u64,
) -> Result<HallFold, CityError> {
    let row = client
        .query_one(
            "SELECT snapshot, snapshot_seq FROM halls WHERE id = $1",
            &[&hall],
        )
        .await?;
    let snapshot: Option<String> = row.get(0);
    let snapshot_seq: i64 = row.get(1);
    let read = |sql: &'static str, from: i64, to: i64| async move {
        let rows = client.query(sql, &[&hall, &from, &to]).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let seq: i64 = row.get(0);
            let at: i64 = row.get(1);
            let actor: String = row.get(2);
            let kind: String = row.get(3);
            let body: String = row.get(4);
            if let Some(event) = decode(seq, &kind, &body)? {
                out.push((seq as u64, Millis(at), actor, event));
            }
        }
        Ok::<_, CityError>(out)
    };
    const CONFIGURATION: &str = "SELECT seq, (extract(epoch FROM at) * 1000)::bigint, actor, kind, body FROM records WHERE hall = $1 AND configuration AND seq > $2 AND seq <= $3 ORDER BY seq";
    const ALL: &str = "SELECT seq, (extract(epoch FROM at) * 1000)::bigint, actor, kind, body FROM records WHERE hall = $1 AND seq > $2 AND seq <= $3 ORDER BY seq";
    let mut fold = match snapshot {
        Some(text) => {
            let snapshot =
                stored::snapshot_from_json(&text).map_err(|error| CityError::Undecodable {
                    seq: snapshot_seq as u64,
                    kind: "snapshot".into(),
                    error: error.to_string(),
                })?;
            let configuration = read(CONFIGURATION, 0, snapshot_seq)
                .await?
                .into_iter()
                .map(|(_, at, actor, event)| (event, at, actor))
                .collect();
            HallFold::resume(&snapshot, snapshot_seq as u64, configuration)
        }
        None => HallFold::new(),
    };
    let rest = read(ALL, snapshot_seq, last_seq as i64).await?;
    // Rows are already written for these; the fold only catches up.
    let _ = fold.fold(rest.iter().map(|(seq, at, actor, event)| FoldRecord {
        seq: *seq,
        at: *at,
        actor,
        event,
    }));
    fold.pass_to(last_seq);
    Ok(fold)
}

async fn insert_records(
    tx: &tokio_postgres::Transaction<'_>,
    hall: i32,
    records: &[Incoming],
    events: &[Option<Event>],
) -> Result<(), CityError> {
    let seqs: Vec<i64> = records.iter().map(|r| r.seq as i64).collect();
    let terms: Vec<i64> = records.iter().map(|r| r.term as i64).collect();
    let ats: Vec<i64> = records.iter().map(|r| r.at_ms).collect();
    let actors: Vec<&str> = records.iter().map(|r| r.actor.as_str()).collect();
    let kinds: Vec<&str> = records.iter().map(|r| r.kind.as_str()).collect();
    let configuration: Vec<bool> = events
        .iter()
        .map(|event| event.as_ref().is_some_and(Event::is_configuration))
        .collect();
    let bodies: Vec<&str> = records.iter().map(|r| r.body.as_str()).collect();
    tx.execute(
        "INSERT INTO records (hall, seq, term, at, actor, kind, configuration, body)
         SELECT $1, seq, term, timestamptz 'epoch' + at_ms * interval '1 millisecond', actor, kind, configuration, body
         FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::bool[], $8::text[])
           AS r(seq, term, at_ms, actor, kind, configuration, body)",
        &[&hall, &seqs, &terms, &ats, &actors, &kinds, &configuration, &bodies],
    )
    .await?;
    Ok(())
}

async fn write_folded(
    tx: &tokio_postgres::Transaction<'_>,
    hall: i32,
    folded: &Folded,
) -> Result<(), CityError> {
    if !folded.rows.is_empty() {
        let rows = &folded.rows;
        let ms = |v: Option<Millis>| v.map(|m| m.0);
        let ticket: Vec<i64> = rows.iter().map(|r| r.ticket).collect();
        let day: Vec<String> = rows.iter().map(|r| r.day.to_string()).collect();
        let number: Vec<&str> = rows.iter().map(|r| r.number.as_str()).collect();
        let issued_service: Vec<&str> = rows.iter().map(|r| r.issued_service.as_str()).collect();
        let service: Vec<&str> = rows.iter().map(|r| r.service.as_str()).collect();
        let green: Vec<bool> = rows.iter().map(|r| r.green_channel).collect();
        let issued_at: Vec<i64> = rows.iter().map(|r| r.issued_at.0).collect();
        let first_called_at: Vec<Option<i64>> =
            rows.iter().map(|r| ms(r.first_called_at)).collect();
        let wait_ms: Vec<Option<i64>> = rows.iter().map(|r| r.wait_ms).collect();
        let target: Vec<Option<i32>> = rows.iter().map(|r| r.wait_target_min).collect();
        let within: Vec<Option<bool>> = rows.iter().map(|r| r.within_target).collect();
        let window: Vec<Option<i32>> = rows.iter().map(|r| r.called_window).collect();
        let clerk: Vec<Option<&str>> = rows.iter().map(|r| r.clerk.as_deref()).collect();
        let finished_at: Vec<Option<i64>> = rows.iter().map(|r| ms(r.finished_at)).collect();
        let handling: Vec<Option<i64>> = rows.iter().map(|r| r.handling_ms).collect();
        let outcome: Vec<&str> = rows.iter().map(|r| r.outcome.as_str()).collect();
        let no_shows: Vec<i32> = rows.iter().map(|r| r.no_shows).collect();
        let transfers: Vec<i32> = rows.iter().map(|r| r.transfers).collect();
        let out_of_order: Vec<i32> = rows.iter().map(|r| r.out_of_order).collect();
        let rating: Vec<Option<i16>> = rows.iter().map(|r| r.rating).collect();
        let reason: Vec<Option<&str>> = rows.iter().map(|r| r.rating_reason.as_deref()).collect();
        let rated_at: Vec<Option<i64>> = rows.iter().map(|r| ms(r.rated_at)).collect();
        let wait_bin: Vec<Option<i32>> = rows.iter().map(|r| r.wait_bin).collect();
        let instant = |c: &str| format!("timestamptz 'epoch' + {c} * interval '1 millisecond'");
        let sql = format!(
            "INSERT INTO tickets (hall, ticket, day, number, issued_service, service, green_channel,
                issued_at, first_called_at, wait_ms, wait_target_min, within_target, called_window,
                clerk, finished_at, handling_ms, outcome, no_shows, transfers, out_of_order,
                rating, rating_reason, rated_at, wait_bin)
             SELECT $1, ticket, day::date, number, issued_service, service, green,
                {}, {}, wait_ms, target, within, win, clerk, {}, handling, outcome, no_shows,
                transfers, out_of_order, rating, reason, {}, wait_bin
             FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bool[],
                $8::bigint[], $9::bigint[], $10::bigint[], $11::int[], $12::bool[], $13::int[],
                $14::text[], $15::bigint[], $16::bigint[], $17::text[], $18::int[], $19::int[],
                $20::int[], $21::smallint[], $22::text[], $23::bigint[], $24::int[])
               AS r(ticket, day, number, issued_service, service, green, issued_ms, called_ms,
                wait_ms, target, within, win, clerk, finished_ms, handling, outcome, no_shows,
                transfers, out_of_order, rating, reason, rated_ms, wait_bin)
             ON CONFLICT (hall, ticket) DO UPDATE SET
                day = excluded.day, number = excluded.number,
                issued_service = excluded.issued_service, service = excluded.service,
                green_channel = excluded.green_channel, issued_at = excluded.issued_at,
                first_called_at = excluded.first_called_at, wait_ms = excluded.wait_ms,
                wait_target_min = excluded.wait_target_min, within_target = excluded.within_target,
                called_window = excluded.called_window, clerk = excluded.clerk,
                finished_at = excluded.finished_at, handling_ms = excluded.handling_ms,
                outcome = excluded.outcome, no_shows = excluded.no_shows,
                transfers = excluded.transfers, out_of_order = excluded.out_of_order,
                rating = excluded.rating, rating_reason = excluded.rating_reason,
                rated_at = excluded.rated_at, wait_bin = excluded.wait_bin",
            instant("issued_ms"),
            instant("called_ms"),
            instant("finished_ms"),
            instant("rated_ms"),
        );
        tx.execute(
            &sql,
            &[
                &hall,
                &ticket,
                &day,
                &number,
                &issued_service,
                &service,
                &green,
                &issued_at,
                &first_called_at,
                &wait_ms,
                &target,
                &within,
                &window,
                &clerk,
                &finished_at,
                &handling,
                &outcome,
                &no_shows,
                &transfers,
                &out_of_order,
                &rating,
                &reason,
                &rated_at,
                &wait_bin,
            ],
        )
        .await?;
    }
    let mut days: Vec<String> = folded.rows.iter().map(|r| r.day.to_string()).collect();
    for late in &folded.late_ratings {
        let changed = tx
            .query(
                &format!(
                    "UPDATE tickets SET rating = $3, rating_reason = $4, rated_at = {}
                     WHERE hall = $1 AND ticket = $2 AND rating IS NULL RETURNING day::text",
                    at_sql("$5")
                ),
                &[&hall, &late.ticket, &late.rating, &late.reason, &late.at.0],
            )
            .await?;
        days.extend(changed.iter().map(|row| row.get::<_, String>(0)));
    }
    days.sort();
    days.dedup();
    if !days.is_empty() {
        refresh_days(tx, hall, &days).await?;
    }
    write_cases(tx, hall, &folded.cases).await
}

/// Writes the cases a batch opened or moved, as they stand now (one row per case).
async fn write_cases(
    tx: &tokio_postgres::Transaction<'_>,
    hall: i32,
    cases: &[jiaohao_core::Case],
) -> Result<(), CityError> {
    if cases.is_empty() {
        return Ok(());
    }
    let date = |step: &Option<jiaohao_core::CaseStep>| step.as_ref().map(|s| s.date.to_string());
    let id: Vec<i64> = cases.iter().map(|c| c.ticket.0 as i64).collect();
    let day: Vec<String> = cases.iter().map(|c| c.date.to_string()).collect();
    let number: Vec<String> = cases.iter().map(|c| c.number.to_string()).collect();
    let service: Vec<&str> = cases.iter().map(|c| c.service.as_str()).collect();
    let window: Vec<i32> = cases.iter().map(|c| i32::from(c.window.get())).collect();
    let rating: Vec<i16> = cases.iter().map(|c| i16::from(c.rating.score())).collect();
    let reason: Vec<Option<&str>> = cases.iter().map(|c| c.reason.map(|r| r.as_str())).collect();
    let due: Vec<String> = cases.iter().map(|c| c.due.to_string()).collect();
    let state: Vec<&str> = cases.iter().map(|c| c.state().as_str()).collect();
    let called: Vec<Option<String>> = cases.iter().map(|c| date(&c.called_back)).collect();
    let fixed: Vec<Option<String>> = cases.iter().map(|c| date(&c.fixed)).collect();
    let closed: Vec<Option<String>> = cases.iter().map(|c| date(&c.closed)).collect();
    let in_time: Vec<bool> = cases.iter().map(|c| c.fixed_in_time()).collect();
    tx.execute(
        "INSERT INTO cases (hall, case_id, day, number, service, window_number, rating, reason,
            due, state, called_back_on, fixed_on, closed_on, fixed_in_time)
         SELECT $1, id, day::date, number, service, win, rating, reason, due::date, state,
            called::date, fixed::date, closed::date, in_time
         FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::int[], $7::smallint[],
            $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bool[])
           AS r(id, day, number, service, win, rating, reason, due, state, called, fixed, closed, in_time)
         ON CONFLICT (hall, case_id) DO UPDATE SET
            state = excluded.state, called_back_on = excluded.called_back_on,
            fixed_on = excluded.fixed_on, closed_on = excluded.closed_on,
            fixed_in_time = excluded.fixed_in_time",
        &[
            &hall, &id, &day, &number, &service, &window, &rating, &reason, &due, &state,
            &called, &fixed, &closed, &in_time,
        ],
    )
    .await?;
    Ok(())
}

/// Adds up a hall's ticket rows of some days again (`hall_days`, `wait_bins`).
async fn refresh_days(
    tx: &tokio_postgres::Transaction<'_>,
    hall: i32,
    days: &[String],
) -> Result<(), CityError> {
    tx.execute(
        "DELETE FROM hall_days WHERE hall = $1 AND day = ANY($2::text[]::date[])",
        &[&hall, &days],
    )
    .await?;
    tx.execute(
        "INSERT INTO hall_days
         SELECT hall, day, count(*), count(wait_ms), count(*) FILTER (WHERE outcome = 'finished'),
                sum(no_shows), sum(transfers), coalesce(sum(wait_ms), 0),
                coalesce(sum(handling_ms) FILTER (WHERE outcome = 'finished'), 0),
                count(handling_ms) FILTER (WHERE outcome = 'finished'),
                count(within_target), count(*) FILTER (WHERE within_target),
                count(*) FILTER (WHERE rating = 5), count(*) FILTER (WHERE rating = 4),
                count(*) FILTER (WHERE rating = 3), count(*) FILTER (WHERE rating = 2),
                count(*) FILTER (WHERE rating = 1)
         FROM tickets WHERE hall = $1 AND day = ANY($2::text[]::date[]) GROUP BY hall, day",
        &[&hall, &days],
    )
    .await?;
    tx.execute(
        "DELETE FROM wait_bins WHERE hall = $1 AND day = ANY($2::text[]::date[])",
        &[&hall, &days],
    )
    .await?;
    tx.execute(
        "INSERT INTO wait_bins
         SELECT hall, day, wait_bin, count(*)::integer FROM tickets
         WHERE hall = $1 AND day = ANY($2::text[]::date[]) AND wait_bin IS NOT NULL
         GROUP BY hall, day, wait_bin",
        &[&hall, &days],
    )
    .await?;
    Ok(())
}

/// How long a call took, for the bench.
pub fn elapsed_ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

impl HallIngest {
    /// Takes a fold loaded elsewhere, if none is held (it is checked against PostgreSQL's
    /// `last_seq` before the next batch anyway).
    pub fn adopt(&mut self, fold: HallFold) -> bool {
        if self.fold.is_some() {
            return false;
        }
        self.fold = Some(fold);
        true
    }
}
