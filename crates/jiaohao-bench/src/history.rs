//! `jiaohao-bench history`: what a long history costs the hub. Builds a database of about
//! `--events` events through the core (working days of a busy hall: tickets issued, called,
//! finished, not shown up, transferred, rated; windows opened, paused for lunch, closed; now
//! and then an admin change), written with the store directly in big transactions, and one
//! that holds today only; then starts the real hub binary on each and prints, side by side,
//! the time until it serves `/api/health` and its memory.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiaohao_core::{
    Absence, AbsenceClass, ClockTime, Command, Event, Hall, HallSettings, LocalDate, Millis, Now,
    Outcome, Prefix, Rating, RatingReason, Service, ServiceCode, TransferTarget, WindowDef,
    WindowNumber,
};
use jiaohao_store::{NewRecord, Store};
use jiff::tz::TimeZone;

use crate::crash_loop::SplitMix;
use crate::hub_process::{self, HubProcess};

const DAY_MS: i64 = 86_400_000;
/// Events are written in transactions of this many.
const CHUNK: usize = 100_000;
/// The hall's services: code, prefix, share of the tickets in percent.
const SERVICES: [(&str, &str, u64); 5] = [
    ("hukou", "A", 30),
    ("id_card", "B", 30),
    ("vehicle", "C", 20),
    ("violation", "D", 12),
    ("exit_entry", "E", 8),
];
/// The windows' services, primary first (as in the default hall).
const WINDOWS: [&[&str]; 10] = [
    &["hukou", "id_card"],
    &["hukou", "exit_entry"],
    &["id_card", "hukou"],
    &["id_card", "violation"],
    &["vehicle", "violation"],
    &["vehicle", "id_card"],
    &["vehicle"],
    &["violation", "vehicle"],
    &["exit_entry", "hukou"],
    &["exit_entry", "id_card"],
];

fn code(text: &str) -> ServiceCode {
    ServiceCode::parse(text).expect("the bench's service codes are valid")
}

fn window(number: usize) -> WindowNumber {
    WindowNumber::new(number as u32).expect("the bench's windows are 1 to 10")
}

/// Writes a hall's log through the core: every command is applied to a `Hall` as the hub
/// would, and its events are appended with their sequence numbers.
struct LogBuilder {
    hall: Hall,
    store: Store,
    seq: u64,
    pending: Vec<(Millis, Event)>,
    random: SplitMix,
    tokens: u64,
    /// The local midnight of the day being written, and the minute of that day.
    midnight: Millis,
    minute_ms: i64,
    date: LocalDate,
}

impl LogBuilder {
    fn new(db: &Path, seed: u64) -> anyhow::Result<LogBuilder> {
        let store = Store::open(db)?;
        // The file is made and then synced once at the end: no need to sync every chunk.
        store.defer_syncs()?;
        Ok(LogBuilder {
            hall: Hall::new(),
            store,
            seq: 0,
            pending: Vec::new(),
            random: SplitMix(seed),
            tokens: 0,
            midnight: Millis(0),
            minute_ms: 0,
            date: LocalDate::new(2026, 1, 1)?,
        })
    }

    fn now(&self) -> Now {
        Now {
            at: Millis(self.midnight.0 + self.minute_ms),
            date: self.date,
            time: ClockTime::from_minutes((self.minute_ms / Millis::MINUTE) as u16)
                .expect("the bench's days end before midnight"),
        }
    }

    /// Applies a command; one the hall refuses (nobody waiting, a window not serving) is what
    /// a clerk's click would have been refused too, and leaves nothing in the log.
    fn apply(&mut self, command: Command) -> Vec<Event> {
        let now = self.now();
        match self.hall.apply(&command, now) {
            Ok(events) => {
                self.pending
                    .extend(events.iter().cloned().map(|event| (now.at, event)));
                events
            }
            Err(_) => Vec::new(),
        }
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        let records: Vec<NewRecord<'_>> = self
            .pending
            .iter()
            .enumerate()
            .map(|(i, (at, event))| NewRecord {
                seq: self.seq + 1 + i as u64,
                at: *at,
                actor: "bench",
                event,
                public: None,
            })
            .collect();
        self.store.append(&records)?;
        self.seq += self.pending.len() as u64;
        self.pending.clear();
        Ok(())
    }

    fn random_below(&mut self, n: u64) -> u64 {
        self.random.next() % n
    }

    fn configure(&mut self) {
        self.apply(Command::ConfigureHall(HallSettings {
            name_zh: "清河县公安局行政服务中心".into(),
            name_en: "Qinghe County Public Security Service Hall".into(),
            ..HallSettings::default()
        }));
        for (service, prefix, _) in SERVICES {
            self.apply(Command::AddService(Service {
                code: code(service),
                name_zh: format!("{service}业务"),
                name_en: format!("{service} business"),
                prefix: Prefix::parse(prefix).expect("the bench's prefixes are letters"),
                wait_target_min: 20,
                handling_target_min: 15,
                handling_estimate_min: 8,
                daily_cap: None,
                hours: None,
                documents_zh: vec!["本人居民身份证原件".into()],
                documents_en: vec!["Your original resident ID card".into()],
                fee_note_zh: String::new(),
                fee_note_en: String::new(),
                enabled: true,
                identity_required: false,
            }));
        }
        for (index, services) in WINDOWS.iter().enumerate() {
            let number = index + 1;
            self.apply(Command::AddWindow(WindowDef {
                number: window(number),
                name_zh: format!("{number}号窗口"),
                name_en: format!("Window {number}"),
                services: services.iter().map(|s| code(s)).collect(),
                breaks: Vec::new(),
            }));
        }
    }

    fn random_service(&mut self) -> ServiceCode {
        let mut pick = self.random_below(100);
        for (service, _, share) in SERVICES {
            if pick < share {
                return code(service);
            }
            pick -= share;
        }
        code(SERVICES[0].0)
    }

    /// One working day of `tickets` tickets between 08:30 and 16:30.
    fn day(&mut self, date: LocalDate, midnight: Millis, tickets: u64) -> anyhow::Result<()> {
        self.date = date;
        self.midnight = midnight;
        self.minute_ms = (8 * 60 + 30) * Millis::MINUTE;
        if self.hall.date().is_none() {
            self.configure();
        }
        self.apply(Command::Tick);
        if self.random_below(20) == 0 {
            // Now and then an admin edits the notices.
            let mut settings = self.hall.settings().clone();
            settings.notices_zh = vec![format!("{date} 起办理时间调整")];
            self.apply(Command::ConfigureHall(settings));
        }
        for number in 1..=WINDOWS.len() {
            self.apply(Command::Open {
                window: window(number),
            });
        }
        let day_ms = 8 * 60 * Millis::MINUTE;
        let lunch = tickets / 2;
        let back = lunch + tickets / 8;
        for i in 0..tickets {
            self.minute_ms = (8 * 60 + 30) * Millis::MINUTE + day_ms * i as i64 / tickets as i64;
            if i == lunch || i == back {
                for number in 1..=3 {
                    let window = window(number);
                    if i == lunch {
                        self.apply(Command::finish(window));
                        self.apply(Command::Pause {
                            window,
                            reason: Absence::new(AbsenceClass::Break),
                        });
                    } else {
                        self.apply(Command::Resume { window });
                    }
                }
            }
            self.tokens += 1;
            let service = self.random_service();
            let green_channel = self.random_below(20) == 0;
            let kiosk = self.random_below(4);
            let token = format!("{:016x}{:016x}", self.random.next(), self.tokens);
            self.apply(Command::IssueTicket {
                service,
                green_channel,
                token,
                idempotency_key: Some(format!("kiosk{kiosk}-{}", self.tokens)),
            });
            let window = window(1 + self.random_below(WINDOWS.len() as u64) as usize);
            match self.random_below(100) {
                0..=4 => {
                    self.apply(Command::NoShow { window });
                }
                5..=7 => {
                    let to = TransferTarget::Service(self.random_service());
                    self.apply(Command::Transfer { window, to });
                }
                8..=9 => {
                    self.apply(Command::Recall { window });
                }
                // Not every visit ends done (一次办结): some are refused or referred.
                10..=12 => {
                    self.apply(Command::Finish {
                        window,
                        outcome: Outcome::Refused("不属于本大厅受理范围".into()),
                    });
                }
                13..=14 => {
                    self.apply(Command::Finish {
                        window,
                        outcome: Outcome::Referred("县公安局交通管理大队".into()),
                    });
                }
                _ => {}
            }
            let events = self.apply(Command::CallNext { window });
            let finished = events.iter().find_map(|event| match event {
                Event::TicketFinished { id, .. } => Some(*id),
                _ => None,
            });
            if let Some(id) = finished
                && self.random_below(3) == 0
                && let Some(number) = self.hall.ticket(id).map(|t| t.number)
            {
                // Mostly good, about one in twenty bad (差评, because of the wait).
                let rating = match self.random_below(20) {
                    0 => Rating::Dissatisfied,
                    1..=2 => Rating::Basic,
                    _ => Rating::VerySatisfied,
                };
                self.apply(Command::RateTicket {
                    window,
                    number,
                    rating,
                    reason: rating.is_bad().then_some(RatingReason::Waiting),
                });
            }
            if self.pending.len() >= CHUNK {
                self.flush()?;
            }
        }
        self.minute_ms = (17 * 60) * Millis::MINUTE;
        for number in 1..=WINDOWS.len() {
            let window = window(number);
            self.apply(Command::finish(window));
            self.apply(Command::Resume { window });
            self.apply(Command::Close {
                window,
                reason: Some(Absence::new(AbsenceClass::OffDuty)),
            });
        }
        Ok(())
    }

    /// Writes what is pending and leaves one self-contained, synced file.
    fn finish(mut self) -> anyhow::Result<u64> {
        self.flush()?;
        self.store.checkpoint()?;
        Ok(self.seq)
    }
}

/// The working days (Monday to Friday) that end today in the hall's zone, oldest first, with
/// their local midnights; today is always one, whatever weekday it is.
fn working_days(zone: &TimeZone, count: usize) -> Vec<(LocalDate, Millis)> {
    let now = jiff::Timestamp::now();
    let today = zone.to_datetime(now);
    let offset_ms = i64::from(zone.to_offset(now).seconds()) * 1000;
    let today_midnight = (now.as_millisecond() + offset_ms).div_euclid(DAY_MS) * DAY_MS - offset_ms;
    let mut days = Vec::new();
    let mut back = 0;
    while days.len() < count {
        let midnight = today_midnight - back * DAY_MS;
        back += 1;
        let Ok(at) = jiff::Timestamp::from_millisecond(midnight + DAY_MS / 2) else {
            break;
        };
        let civil = zone.to_datetime(at);
        let weekend = matches!(
            civil.weekday(),
            jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
        );
        if weekend && civil.date() != today.date() {
            continue;
        }
        let date = LocalDate {
            year: civil.year(),
            month: civil.month() as u8,
            day: civil.day() as u8,
        };
        days.push((date, Millis(midnight)));
    }
    days.reverse();
    days
}

/// Builds a database of `days` working days ending today; returns its event count.
fn build(db: &Path, days: &[(LocalDate, Millis)], tickets: u64) -> anyhow::Result<u64> {
    let mut builder = LogBuilder::new(db, 14)?;
    for (date, midnight) in days {
        builder.day(*date, *midnight, tickets)?;
    }
    builder.finish()
}

/// How many events one day of `tickets` tickets makes (one day written to a scratch file).
fn events_per_day(dir: &Path, tickets: u64, zone: &TimeZone) -> anyhow::Result<u64> {
    let db = dir.join("probe.db");
    let events = build(&db, &working_days(zone, 1), tickets)?;
    std::fs::remove_file(&db)?;
    Ok(events)
}

/// One start of the hub: the time until `/api/health` answers, and its memory then.
struct Start {
    millis: f64,
    rss_mib: f64,
    peak_mib: f64,
}

async fn start_once(binary: &Path, db: &Path, dir: &Path) -> anyhow::Result<Start> {
    let hall = hub_process::write_hall(dir)?;
    let log = dir.join("hub.log");
    let started = Instant::now();
    let mut hub =
        HubProcess::start_within(binary, db, &hall, &log, Duration::from_secs(600)).await?;
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    let start = Start {
        millis,
        rss_mib: hub.rss_mib().unwrap_or(f64::NAN),
        peak_mib: hub.peak_rss_mib().unwrap_or(f64::NAN),
    };
    hub.stop()?;
    Ok(start)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn file_mib(path: &Path) -> f64 {
    std::fs::metadata(path).map_or(f64::NAN, |m| m.len() as f64 / (1024.0 * 1024.0))
}

pub async fn run(
    binary: PathBuf,
    events: u64,
    tickets_per_day: u64,
    starts: usize,
    keep: Option<PathBuf>,
) -> anyhow::Result<()> {
    let temporary = tempfile::tempdir()?;
    let dir = match &keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => temporary.path().to_owned(),
    };
    let zone = TimeZone::get("Asia/Shanghai")?;
    let per_day = events_per_day(&dir, tickets_per_day, &zone)?;
    let days = (events.div_ceil(per_day.max(1))).max(1) as usize;
    println!(
        "history: {tickets_per_day} tickets a day make {per_day} events; {days} working days \
         for about {events} events"
    );

    let one_day_db = dir.join("one-day.db");
    let history_db = dir.join("history.db");
    for db in [&one_day_db, &history_db] {
        for path in [db.clone(), jiaohao_store::wal_path(db)] {
            let _ = std::fs::remove_file(path);
        }
    }
    let building = Instant::now();
    let one_day_events = build(&one_day_db, &working_days(&zone, 1), tickets_per_day)?;
    let history_events = build(&history_db, &working_days(&zone, days), tickets_per_day)?;
    println!(
        "history: databases built through the core in {:.1} s",
        building.elapsed().as_secs_f64()
    );

    // The history as the bench wrote it has no snapshot: its first start folds the whole
    // log (and saves one), as after an upgrade from a version without snapshots.
    let first = start_once(&binary, &history_db, &dir).await?;
    let mut one_day = Vec::new();
    let mut history = Vec::new();
    for _ in 0..starts.max(1) {
        one_day.push(start_once(&binary, &one_day_db, &dir).await?);
        history.push(start_once(&binary, &history_db, &dir).await?);
    }
    let row = |name: &str, events: u64, db: &Path, runs: &[Start]| {
        println!(
            "{name:<34} {events:>10} {:>9.1} {:>12.0} {:>9.1} {:>9.1}",
            file_mib(db),
            median(runs.iter().map(|s| s.millis).collect()),
            median(runs.iter().map(|s| s.rss_mib).collect()),
            median(runs.iter().map(|s| s.peak_mib).collect()),
        );
    };
    println!();
    println!(
        "{:<34} {:>10} {:>9} {:>12} {:>9} {:>9}",
        "database (median of starts)", "events", "file MiB", "start-up ms", "RSS MiB", "peak MiB"
    );
    row(
        &format!("one day (today), {} starts", one_day.len()),
        one_day_events,
        &one_day_db,
        &one_day,
    );
    row(
        &format!("history, {} starts", history.len()),
        history_events,
        &history_db,
        &history,
    );
    row(
        "history, first start, no snapshot",
        history_events,
        &history_db,
        std::slice::from_ref(&first),
    );
    let startup = median(history.iter().map(|s| s.millis).collect());
    let rss = median(history.iter().map(|s| s.rss_mib).collect());
    let rss_one_day = median(one_day.iter().map(|s| s.rss_mib).collect());
    let growth = (rss / rss_one_day - 1.0) * 100.0;
    println!();
    println!(
        "start-up with {history_events} events: {startup:.0} ms ({} the 1 s target); RSS \
         {rss:.1} MiB vs {rss_one_day:.1} MiB after one day: {growth:+.1}% ({} the 10% target)",
        if startup < 1000.0 { "within" } else { "over" },
        if growth.abs() <= 10.0 {
            "within"
        } else {
            "over"
        },
    );
    if let Some(dir) = keep {
        println!("history: databases kept in {}", dir.display());
    }
    Ok(())
}
