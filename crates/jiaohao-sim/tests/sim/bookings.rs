//! Bookings in the simulator: bookers book, verify and check in through the core's own
//! commands, their tickets queue by slot start, and the bench reports booked and walk-in waits
//! apart. A short run; the timing targets are a bench run (docs/SIMULATION.md).

use jiaohao_sim::metrics::Figure;
use jiaohao_sim::{BenchPolicy, Options, Scenario, bench, draw_day, simulate_day};

use crate::bench_scenario;

fn booked_hall(days: u32) -> Scenario {
    let mut scenario = bench_scenario("county-hall-booked.toml");
    scenario.days = days;
    scenario
}

#[test]
fn the_booked_hall_is_the_county_hall_with_a_booking_share() {
    let booked = booked_hall(1);
    let plain = bench_scenario("county-hall.toml");
    assert!(booked.has_bookings() && !plain.has_bookings());
    let shares: Vec<(String, f64)> = booked
        .services
        .iter()
        .map(|s| (s.code.to_string(), s.booking_share))
        .collect();
    assert_eq!(
        shares,
        [
            ("hukou".to_owned(), 0.3),
            ("id_card".to_owned(), 0.0),
            ("vehicle".to_owned(), 0.3),
            ("violation".to_owned(), 0.0),
            ("exit_entry".to_owned(), 0.3),
        ]
    );
    // The same citizens: as many, of the same services, only the bookers come at other times.
    let with = draw_day(&booked, 5);
    let without = draw_day(&plain, 5);
    assert_eq!(with.len(), without.len());
    let count = |citizens: &[jiaohao_sim::Citizen], service: usize| {
        citizens.iter().filter(|c| c.service == service).count()
    };
    for service in 0..plain.services.len() {
        assert_eq!(count(&with, service), count(&without, service));
    }
    let bookers: Vec<_> = with.iter().filter(|c| c.booking.is_some()).collect();
    assert!(!bookers.is_empty());
    assert!(
        bookers
            .iter()
            .all(|c| booked.services[c.service].booking_share > 0.0)
    );
    assert!(with.windows(2).all(|w| w[0].arrival_ms <= w[1].arrival_ms));
    // No slot holds more than its places.
    for service in 0..booked.services.len() {
        let capacities = jiaohao_sim::citizens::slot_capacities(&booked, service);
        for (slot, &capacity) in capacities.iter().enumerate() {
            let taken = bookers
                .iter()
                .filter(|c| c.service == service && c.booking.unwrap().slot == slot)
                .count();
            assert!(taken <= capacity as usize, "service {service} slot {slot}");
        }
    }
}

#[test]
fn booked_tickets_queue_by_slot_start_and_their_waits_are_reported_apart() {
    let scenario = booked_hall(3);
    let checks = Options {
        check: true,
        estimates: false,
    };
    for day in 0..scenario.days {
        let citizens = draw_day(&scenario, day);
        for policy in BenchPolicy::ALL {
            // With checks on, every call took the first ticket in queue-time order of those
            // waiting in its service and class, and no window idled while one waited.
            let record = simulate_day(&scenario, &citizens, policy, day, checks)
                .unwrap_or_else(|error| panic!("{error}"));
            assert!(record.bookings.verified > 0);
            assert!(record.bookings.checked_in <= record.bookings.verified);
            for (citizen, ticket) in citizens.iter().zip(&record.tickets) {
                match citizen.booking {
                    Some(slot) if ticket.booked => {
                        assert_eq!(ticket.queued_ms, slot.start_ms.max(ticket.issued_ms));
                        assert!(ticket.wait_ms() >= 0);
                    }
                    _ => {
                        assert!(!ticket.booked);
                        assert_eq!(ticket.queued_ms, ticket.issued_ms);
                    }
                }
            }
            let booked = record.tickets.iter().filter(|t| t.booked).count();
            assert_eq!(booked as u32, record.bookings.checked_in);
        }
    }
    let report = bench(&scenario, &[BenchPolicy::Hub], Options::default(), 1).unwrap();
    let hub = report.figures(BenchPolicy::Hub).unwrap();
    for figure in [
        Figure::Booked,
        Figure::BookedMeanWait,
        Figure::BookedP90Wait,
        Figure::WalkIns,
        Figure::WalkInMeanWait,
        Figure::WalkInP90Wait,
        Figure::BookingNoShow,
    ] {
        assert!(hub.get(figure).is_some(), "{figure:?} missing");
    }
    let booked = hub.get(Figure::Booked).unwrap();
    let walk_ins = hub.get(Figure::WalkIns).unwrap();
    assert!(booked > 0.0 && walk_ins > booked);
    assert!(hub.get(Figure::BookedMeanWait).unwrap() >= 0.0);
    let markdown = report.markdown();
    assert!(markdown.contains("booked mean (min)") && markdown.contains("walk-in p90 (min)"));
    let json = serde_json::to_value(&report).unwrap();
    assert!(json["policies"]["hub"]["booked_p90_wait_min"].is_number());

    // A hall without bookings has no such figures, and no such columns.
    let mut plain = bench_scenario("county-hall.toml");
    plain.days = 1;
    let report = bench(&plain, &[BenchPolicy::Hub], Options::default(), 1).unwrap();
    assert!(
        report
            .figures(BenchPolicy::Hub)
            .unwrap()
            .get(Figure::Booked)
            .is_none()
    );
    assert!(!report.markdown().contains("booked"));
}

#[test]
fn a_booking_share_needs_a_booking_table() {
    let text =
        std::fs::read_to_string(crate::scenarios_dir().join("county-hall-booked.toml")).unwrap();
    let start = text.find("[booking]").unwrap();
    let end = text[start..].find("[[service]]").unwrap() + start;
    let without = format!("{}{}", &text[..start], &text[end..]);
    let error = Scenario::parse(&without).unwrap_err().to_string();
    assert!(error.contains("[booking]"), "{error}");
    let bad = text.replace("slot_min = 30", "slot_min = 45");
    let error = Scenario::parse(&bad).unwrap_err().to_string();
    assert!(error.contains("booking.slot_min"), "{error}");
}
