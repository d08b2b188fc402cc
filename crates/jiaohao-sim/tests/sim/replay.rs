//! `jiaohao-sim replay` on a database written by the hub's own store with the core's own
//! events: two recorded days, one replayed as recorded and under another assignment.

use jiaohao_core::{
    BookingCode, BookingSettings, ClockTime, Command, Hall, LocalDate, Millis, Now, PersonKey,
    Prefix, Service, ServiceCode, WindowDef, WindowNumber,
};
use jiaohao_sim::Figure;
use jiaohao_sim::replay::{ReplayError, load_day, parse_assignment, replay};
use jiaohao_store::{NewRecord, Store};

/// 2026-03-01 00:00 in Asia/Shanghai, in milliseconds since the epoch.
const MARCH_FIRST_MIDNIGHT_MS: i64 = 1_772_294_400_000;

fn at(day: u8, clock: &str) -> Now {
    let time = ClockTime::parse(clock).unwrap();
    Now {
        at: Millis(
            MARCH_FIRST_MIDNIGHT_MS
                + (i64::from(day - 1) * 24 * 60 + i64::from(time.minutes())) * Millis::MINUTE,
        ),
        date: LocalDate::new(2026, 3, day).unwrap(),
        time,
    }
}

fn code(text: &str) -> ServiceCode {
    ServiceCode::parse(text).unwrap()
}

fn service(name: &str, prefix: &str, minutes: u32) -> Service {
    Service::new(code(name), Prefix::parse(prefix).unwrap(), name, name)
        .with_handling_estimate(minutes)
}

/// The hall and its log, as the hub keeps them: every command's events appended in order.
struct Recorder {
    hall: Hall,
    store: Store,
    seq: u64,
    tokens: u32,
}

impl Recorder {
    fn apply(&mut self, command: Command, now: Now) {
        let events = self.hall.apply(&command, now).unwrap();
        for event in &events {
            self.seq += 1;
            self.store
                .append(&[NewRecord {
                    seq: self.seq,
                    at: now.at,
                    actor: "test",
                    event,
                    public: None,
                }])
                .unwrap();
        }
    }

    fn issue(&mut self, service: &str, now: Now) {
        self.tokens += 1;
        let token = format!("token-{:016}", self.tokens);
        self.apply(
            Command::IssueTicket {
                service: code(service),
                green_channel: false,
                token,
                idempotency_key: None,
            },
            now,
        );
    }

    fn window(&mut self, command: fn(WindowNumber) -> Command, number: u32, now: Now) {
        self.apply(command(WindowNumber::new(number).unwrap()), now);
    }
}

fn call(window: WindowNumber) -> Command {
    Command::CallNext { window }
}

fn finish(window: WindowNumber) -> Command {
    Command::finish(window)
}

/// Day 1: one ticket. Day 2: window 1 (hukou) works off six hukou tickets of ten minutes
/// each, all taken at 09:00, while window 3 (id_card) serves one four-minute ticket and then
/// idles; one more hukou ticket, taken at 11:00, is never called.
fn recorded_hall(path: &std::path::Path) {
    let mut recorder = Recorder {
        hall: Hall::new(),
        store: Store::open(path).unwrap(),
        seq: 0,
        tokens: 0,
    };
    let start = at(1, "08:00");
    recorder.apply(Command::AddService(service("hukou", "A", 8)), start);
    recorder.apply(Command::AddService(service("id_card", "B", 4)), start);
    for (number, services) in [
        (1, vec![code("hukou")]),
        (2, vec![code("hukou")]),
        (3, vec![code("id_card")]),
    ] {
        let def = WindowDef {
            number: WindowNumber::new(number).unwrap(),
            name_zh: format!("{number}号窗口"),
            name_en: format!("Window {number}"),
            services,
            breaks: Vec::new(),
        };
        recorder.apply(Command::AddWindow(def), start);
    }
    recorder.window(|window| Command::Open { window }, 1, at(1, "09:00"));
    recorder.issue("hukou", at(1, "09:00"));
    recorder.window(call, 1, at(1, "09:00"));
    recorder.window(finish, 1, at(1, "09:30"));

    recorder.window(|window| Command::Open { window }, 1, at(2, "09:00"));
    recorder.window(|window| Command::Open { window }, 3, at(2, "09:00"));
    for _ in 0..6 {
        recorder.issue("hukou", at(2, "09:00"));
    }
    recorder.issue("id_card", at(2, "09:00"));
    recorder.window(call, 3, at(2, "09:00"));
    recorder.window(finish, 3, at(2, "09:04"));
    for slot in 0..6u16 {
        let minute = 9 * 60 + slot * 10;
        let clock = format!("{:02}:{:02}", minute / 60, minute % 60);
        recorder.window(call, 1, at(2, &clock));
    }
    recorder.window(finish, 1, at(2, "10:00"));
    recorder.issue("hukou", at(2, "11:00"));
}

#[test]
fn a_recorded_day_replays_as_recorded_and_under_another_assignment() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hall.sqlite");
    recorded_hall(&db);

    let day = load_day(&db, LocalDate::new(2026, 3, 2).unwrap()).unwrap();
    assert_eq!(day.citizens.len(), 7);
    assert_eq!(day.never_called, 1);
    // Windows 1 and 3 worked that day; window 2 never opened.
    let windows: Vec<u16> = day
        .scenario
        .windows
        .iter()
        .map(|w| w.number.get())
        .collect();
    assert_eq!(windows, [1, 3]);
    assert_eq!(day.scenario.open, ClockTime::parse("09:00").unwrap());

    let result = replay(&day, None).unwrap();
    // Waits 0, 10, …, 50 minutes for hukou and 0 for id_card: 150 / 7 minutes on average.
    let mean = |figures: &jiaohao_sim::Figures| figures.get(Figure::MeanWait).unwrap();
    assert!(
        (mean(&result.recorded) - 150.0 / 7.0).abs() < 0.01,
        "{result:?}"
    );
    assert!((result.recorded.get(Figure::MaxWait).unwrap() - 50.0).abs() < 0.01);
    // The same windows, tickets and handling times re-simulated give the same day.
    assert!(
        (mean(&result.resimulated) - mean(&result.recorded)).abs() < 0.01,
        "{result:?}"
    );
    assert!(result.what_if.is_none());

    // What if window 3 had also taken hukou?
    let assignment =
        parse_assignment("[[window]]\nnumber = 3\nservices = [\"id_card\", \"hukou\"]\n").unwrap();
    let result = replay(&day, Some(&assignment)).unwrap();
    let what_if = result.what_if.as_ref().unwrap();
    assert!(
        mean(what_if) < mean(&result.resimulated) - 5.0,
        "{result:?}"
    );
    assert!(what_if.get(Figure::MaxWait).unwrap() < 30.0, "{result:?}");
    let table = result.markdown(&day);
    assert!(table.contains("| what-if, --assign |"), "{table}");

    // The first day is there too; a day without a log is an error that says so.
    let first = load_day(&db, LocalDate::new(2026, 3, 1).unwrap()).unwrap();
    assert_eq!(first.citizens.len(), 1);
    assert!(matches!(
        load_day(&db, LocalDate::new(2026, 3, 3).unwrap()),
        Err(ReplayError::NoSuchDay(_))
    ));
    // An assignment with an unknown service is refused.
    let bad = parse_assignment("[[window]]\nnumber = 3\nservices = [\"passport\"]\n").unwrap();
    assert!(matches!(
        replay(&day, Some(&bad)),
        Err(ReplayError::Assignment(_))
    ));
    assert!(parse_assignment("[[window]]\nnumber = 0\nservices = [\"hukou\"]\n").is_err());
}

/// Day 1: a booking for day 2's 09:30 slot of hukou is made and verified. Day 2: window 1
/// serves a walk-in who came at 09:05; the booking checks in early, at 09:10; another walk-in
/// comes at 09:20 and is called before the booking (queue time 09:20 against its slot's 09:30).
fn recorded_hall_with_a_booking(path: &std::path::Path) {
    let mut recorder = Recorder {
        hall: Hall::new(),
        store: Store::open(path).unwrap(),
        seq: 0,
        tokens: 0,
    };
    let hukou = service("hukou", "A", 10)
        .with_hours(
            ClockTime::parse("09:00").unwrap(),
            ClockTime::parse("12:00").unwrap(),
        )
        .with_daily_cap(20);
    let start = at(1, "08:00");
    recorder.apply(Command::AddService(hukou.clone()), start);
    recorder.apply(
        Command::AddWindow(WindowDef {
            number: WindowNumber::new(1).unwrap(),
            name_zh: "1号窗口".into(),
            name_en: "Window 1".into(),
            services: vec![code("hukou")],
            breaks: Vec::new(),
        }),
        start,
    );
    recorder.apply(
        Command::ConfigureBooking {
            service: code("hukou"),
            settings: Some(BookingSettings::from_share(&hukou, 30, 50).unwrap()),
        },
        start,
    );
    let booking = BookingCode::from_random([7; 8]);
    recorder.apply(
        Command::Book {
            code: booking.clone(),
            service: code("hukou"),
            date: LocalDate::new(2026, 3, 2).unwrap(),
            start: ClockTime::parse("09:30").unwrap(),
            starts_at: at(2, "09:30").at,
            person: PersonKey::parse(&"ab".repeat(32)).unwrap(),
            masked_id: "1101**********002X".into(),
        },
        at(1, "10:00"),
    );
    recorder.apply(
        Command::VerifyBooking {
            code: booking.clone(),
        },
        at(1, "10:01"),
    );

    recorder.window(|window| Command::Open { window }, 1, at(2, "09:00"));
    recorder.issue("hukou", at(2, "09:05"));
    recorder.window(call, 1, at(2, "09:06"));
    recorder.apply(
        Command::CheckIn {
            code: booking,
            green_channel: false,
            token: "booking-token-0007-xxxxxxxx".into(),
        },
        at(2, "09:10"),
    );
    recorder.issue("hukou", at(2, "09:20"));
    recorder.window(call, 1, at(2, "09:25"));
    recorder.window(call, 1, at(2, "09:40"));
    recorder.window(finish, 1, at(2, "09:50"));
}

#[test]
fn a_checked_in_booking_replays_from_its_queue_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hall.sqlite");
    recorded_hall_with_a_booking(&db);
    let day = load_day(&db, LocalDate::new(2026, 3, 2).unwrap()).unwrap();
    assert_eq!(day.citizens.len(), 3);
    // Recorded: the booking is booked, issued at its check-in, queued from its slot's start.
    let booked: Vec<_> = day.recorded.tickets.iter().filter(|t| t.booked).collect();
    let [booked] = booked[..] else {
        panic!("{:?}", day.recorded.tickets)
    };
    let minutes = |ms: i64| ms / Millis::MINUTE;
    assert_eq!(
        (minutes(booked.issued_ms), minutes(booked.queued_ms)),
        (10, 30)
    );
    assert_eq!(minutes(booked.wait_ms()), 10, "called 09:40, slot 09:30");
    // It arrives at its queue time in the re-simulation (the last of the three).
    assert_eq!(minutes(day.citizens[2].arrival_ms), 30);

    let result = replay(&day, None).unwrap();
    let get = |figures: &jiaohao_sim::Figures, figure| figures.get(figure).unwrap();
    // Recorded waits 1, 5 and 10 minutes; the booked one alone is 10.
    assert!(
        (get(&result.recorded, Figure::MeanWait) - 16.0 / 3.0).abs() < 0.01,
        "{result:?}"
    );
    assert!(
        (get(&result.recorded, Figure::BookedMeanWait) - 10.0).abs() < 0.01,
        "{result:?}"
    );
    // Re-simulated in the same order (09:05, 09:20, then the booking), each called as soon
    // as the window is free: waits 0, 4 and 9 minutes. Arriving at its check-in instead, the
    // booking would go before the 09:20 walk-in, and both would wait 14.
    assert!(
        (get(&result.resimulated, Figure::MeanWait) - 13.0 / 3.0).abs() < 0.01,
        "{result:?}"
    );
}
