//! Logged days (`simulate_logged_day`): the events of days that go on from one hall, on real
//! dates, as a hub would have logged them.

use jiaohao_core::{Event, Hall, LocalDate, Millis};
use jiaohao_sim::{BenchPolicy, Options, draw_day, simulate_logged_day};

use crate::bench_scenario;

#[test]
fn logged_days_start_their_date_and_go_on_from_the_hall_before() {
    let scenario = bench_scenario("county-hall.toml");
    let options = Options {
        check: true,
        estimates: false,
    };
    let date = |d: u8| LocalDate::new(2026, 3, d).unwrap();
    let midnight = |d: i64| Millis(1_772_380_800_000 + (d - 2) * 86_400_000);
    let mut hall = Hall::new();
    let mut last_id: Option<u64> = None;
    for (n, d) in [2u8, 3].into_iter().enumerate() {
        let day = simulate_logged_day(
            hall,
            date(d),
            midnight(i64::from(d)),
            &scenario,
            &draw_day(&scenario, n as u32),
            BenchPolicy::Hub,
            n as u32,
            options,
        )
        .unwrap();
        assert_eq!(day.events[0].1, Event::DayStarted { date: date(d) });
        let (start, end) = (midnight(i64::from(d)), midnight(i64::from(d) + 1));
        assert!(day.events.iter().all(|(at, _)| *at >= start && *at < end));
        assert!(day.events.windows(2).all(|w| w[0].0 <= w[1].0));
        let ids: Vec<u64> = day
            .events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::TicketIssued { id, .. } => Some(id.0),
                _ => None,
            })
            .collect();
        assert_eq!(ids.len(), day.record.tickets.len());
        if let Some(last) = last_id {
            assert_eq!(ids[0], last + 1, "ticket ids go on across days");
        }
        last_id = ids.last().copied();
        // Services are defined once, on the first day.
        let defined = day
            .events
            .iter()
            .filter(|(_, e)| matches!(e, Event::ServiceDefined(_)))
            .count();
        assert_eq!(defined > 0, n == 0);
        hall = day.hall;
    }
}

#[test]
fn a_logged_day_has_outcomes_and_ratings_with_a_few_bad_ones() {
    let scenario = bench_scenario("county-hall.toml");
    let options = Options {
        check: true,
        estimates: false,
    };
    let day = simulate_logged_day(
        Hall::new(),
        LocalDate::new(2026, 3, 2).unwrap(),
        Millis(1_772_380_800_000),
        &scenario,
        &draw_day(&scenario, 0),
        BenchPolicy::Hub,
        0,
        options,
    )
    .unwrap();
    let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
    let (mut rated, mut bad) = (0, 0);
    for (_, event) in &day.events {
        match event {
            Event::TicketFinished { outcome, .. } => *kinds.entry(outcome.kind()).or_default() += 1,
            Event::TicketRated { rating, .. } => {
                rated += 1;
                bad += usize::from(rating.is_bad());
            }
            _ => {}
        }
    }
    let finished: usize = kinds.values().sum();
    let done = kinds.get("done").copied().unwrap_or_default();
    assert!(
        kinds.len() == 4 && done * 100 > finished * 75 && done < finished,
        "{kinds:?}"
    );
    assert!(
        rated * 4 > finished && rated * 2 < finished,
        "{rated} of {finished}"
    );
    assert!(bad > 0 && bad * 10 < rated, "{bad} bad of {rated}");
}
