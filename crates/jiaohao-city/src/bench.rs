//! The city bench (`jiaohao-city bench`, manual): a city of simulated halls, each hall-day made
//! by the simulator on the core (`jiaohao_sim::simulate_logged_day`) and fed, as stored records,
//! to the very ingest function the stream feeds, with no hub processes. It prints the ingest
//! rate, the database's size, and p50/p95 of the board's query and of a one-month report across
//! all halls. It resumes: the halls `bench-NN` are found again, each day is generated again
//! (deterministic) and the ingest skips what PostgreSQL holds, so a run killed midway and run
//! again ends complete with nothing twice. A failed write (PostgreSQL restarted) is retried
//! on a new connection.

use std::fmt;
use std::time::{Duration, Instant};

use jiaohao_core::{Hall, LocalDate, Millis};
use jiaohao_sim::{BenchPolicy, Options, Scenario, draw_day, simulate_logged_day};
use tokio_postgres::Client;

use crate::board::LiveHalls;
use crate::ingest::{HallIngest, Incoming};
use crate::{CityError, reports};

const SCENARIO: &str = include_str!("../../jiaohao-sim/scenarios/county-hall.toml");
/// Records per transaction, as the follower writes them at most.
const BATCH: usize = crate::follower::MAX_BATCH;
/// The first simulated day.
const FIRST_DAY: (i16, i8, i8) = (2026, 1, 5);

/// What the bench measured.
#[derive(Debug, Clone)]
pub struct BenchReport {
    pub halls: u32,
    pub days: u32,
    pub records: u64,
    pub tickets: i64,
    /// Seconds spent inside the ingest function, summed over the writers and divided by how
    /// many ran side by side: the ingest's own time, without the simulator's.
    pub ingest_s: f64,
    /// The whole run's wall time, simulator included.
    pub wall_s: f64,
    pub database_bytes: i64,
    pub board_ms: (f64, f64),
    pub month_report_ms: (f64, f64),
    pub month: (LocalDate, LocalDate),
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "city bench: {} halls × {} days", self.halls, self.days)?;
        writeln!(
            f,
            "  ingested {} records ({} tickets): {:.0} records/s in the ingest ({:.1} s), {:.0} records/s with the simulator ({:.1} s wall)",
            self.records,
            self.tickets,
            self.records as f64 / self.ingest_s.max(1e-9),
            self.ingest_s,
            self.records as f64 / self.wall_s.max(1e-9),
            self.wall_s,
        )?;
        writeln!(
            f,
            "  PostgreSQL database size: {:.1} MiB",
            self.database_bytes as f64 / 1024.0 / 1024.0
        )?;
        writeln!(
            f,
            "  board query: p50 {:.1} ms, p95 {:.1} ms",
            self.board_ms.0, self.board_ms.1
        )?;
        write!(
            f,
            "  report across all halls {}..{}: p50 {:.1} ms, p95 {:.1} ms",
            self.month.0, self.month.1, self.month_report_ms.0, self.month_report_ms.1
        )
    }
}

fn date_after(days: u32) -> (LocalDate, Millis) {
    let (y, m, d) = FIRST_DAY;
    let date = jiff::civil::date(y, m, d)
        .checked_add(jiff::Span::new().days(i64::from(days)))
        .expect("a date in range");
    let zone = jiff::tz::TimeZone::get("Asia/Shanghai").expect("the bundled time zone");
    let midnight = zone
        .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .expect("a midnight");
    (
        LocalDate::new(date.year(), date.month() as u8, date.day() as u8).expect("a date"),
        Millis(midnight.as_millisecond()),
    )
}

/// Finds or registers the bench's halls (a token sealed with a throwaway key: they are never
/// followed).
async fn bench_halls(client: &Client, count: u32) -> Result<Vec<i32>, CityError> {
    let mut ids = Vec::new();
    for n in 1..=count {
        let name = format!("bench-{n:02}");
        let row = client
            .query_one(
                "INSERT INTO halls (name, url, token_sealed) VALUES ($1, 'http://127.0.0.1:9', '\\x00')
                 ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id",
                &[&name],
            )
            .await?;
        ids.push(row.get(0));
    }
    Ok(ids)
}

fn percentiles(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len()) - 1];
    (at(0.5), at(0.95))
}

/// One hall's whole run: every day simulated, then ingested in batches; a failed batch is
/// written again on a new connection until it goes in.
async fn one_hall(
    postgres: String,
    scenario: Scenario,
    hall: i32,
    index: u32,
    days: u32,
) -> Result<(u64, Duration), CityError> {
    let mut client = crate::db::connect(&postgres).await?;
    let mut ingest = HallIngest::new(hall);
    let mut state = Hall::new();
    let mut seq = 0u64;
    let mut spent = Duration::ZERO;
    for day in 0..days {
        let (date, midnight) = date_after(day);
        let citizens = draw_day(&scenario, index * 1000 + day);
        let (scenario_copy, hall_state) = (scenario.clone(), std::mem::take(&mut state));
        let logged = tokio::task::spawn_blocking(move || {
            simulate_logged_day(
                hall_state,
                date,
                midnight,
                &scenario_copy,
                &citizens,
                BenchPolicy::Hub,
                day,
                Options {
                    check: false,
                    estimates: false,
                },
            )
        })
        .await
        .map_err(|e| CityError::Invalid(format!("the simulator stopped: {e}")))?
        .map_err(|e| CityError::Invalid(format!("the simulator refused a day: {e}")))?;
        state = logged.hall;
        let records: Vec<Incoming> = logged
            .events
            .iter()
            .map(|(at, event)| {
                seq += 1;
                Incoming::from_event(seq, *at, "sim", event)
            })
            .collect();
        for batch in records.chunks(BATCH) {
            let mut pause = Duration::from_millis(200);
            loop {
                let started = Instant::now();
                let result = ingest.ingest(&mut client, batch).await;
                spent += started.elapsed();
                match result {
                    Ok(_) => break,
                    Err(error) => {
                        tracing::warn!(hall, %error, "bench: a batch failed; writing it again");
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(Duration::from_secs(5));
                        if let Ok(fresh) = crate::db::connect(&postgres).await {
                            client = fresh;
                        }
                    }
                }
            }
        }
    }
    Ok((seq, spent))
}

/// Runs the bench on the database at `postgres` (best an empty one).
pub async fn run(
    postgres: &str,
    halls: u32,
    days: u32,
    print: bool,
) -> Result<BenchReport, CityError> {
    let scenario = Scenario::parse(SCENARIO)
        .map_err(|e| CityError::Invalid(format!("the bench's scenario: {e}")))?;
    let client = crate::db::open(postgres).await?;
    let ids = bench_halls(&client, halls).await?;
    drop(client);
    let started = Instant::now();
    let writers = ids.len().clamp(1, 4);
    let mut spent = Duration::ZERO;
    let mut tasks = Vec::new();
    for (index, hall) in ids.iter().enumerate() {
        tasks.push(tokio::spawn(one_hall(
            postgres.to_owned(),
            scenario.clone(),
            *hall,
            index as u32,
            days,
        )));
        // At most a few writers at once: two cores here.
        if tasks.len() >= writers {
            let first = tasks.remove(0);
            let (records, time) = first
                .await
                .map_err(|e| CityError::Invalid(e.to_string()))??;
            spent += time;
            if print {
                eprintln!(
                    "hall {} of {} done: {records} records, {:.0} s so far",
                    index + 1 - writers + 1,
                    ids.len(),
                    started.elapsed().as_secs_f64()
                );
            }
        }
    }
    for task in tasks {
        spent += task
            .await
            .map_err(|e| CityError::Invalid(e.to_string()))??
            .1;
    }
    let wall = started.elapsed();
    // A new connection: the first one may have ended meanwhile (PostgreSQL restarted).
    let client = crate::db::connect(postgres).await?;
    let records: i64 = client
        .query_one("SELECT count(*) FROM records", &[])
        .await?
        .get(0);
    let tickets: i64 = client
        .query_one("SELECT count(*) FROM tickets", &[])
        .await?
        .get(0);
    if print {
        println!("generated and ingested in {:.1} s", wall.as_secs_f64());
    }
    client.batch_execute("ANALYZE").await?;
    let database_bytes: i64 = client
        .query_one("SELECT pg_database_size(current_database())", &[])
        .await?
        .get(0);
    let live = LiveHalls::default();
    let mut board_ms = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        crate::board::board(&client, &live).await?;
        board_ms.push(crate::ingest::elapsed_ms(t));
    }
    let last = days.saturating_sub(1);
    let month = (date_after(last.saturating_sub(29)).0, date_after(last).0);
    let mut report_ms = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        reports::across_halls(&client, month.0, month.1).await?;
        report_ms.push(crate::ingest::elapsed_ms(t));
    }
    Ok(BenchReport {
        halls,
        days,
        records: records as u64,
        tickets,
        ingest_s: spent.as_secs_f64() / writers as f64,
        wall_s: wall.as_secs_f64(),
        database_bytes,
        board_ms: percentiles(board_ms),
        month_report_ms: percentiles(report_ms),
        month,
    })
}
