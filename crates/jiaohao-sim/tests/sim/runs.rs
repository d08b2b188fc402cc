//! Whole simulated days: the same seed gives the same numbers, the hall's invariants hold after
//! every command under every policy, windows are work-conserving and call each service and
//! class in issue order, and breaks and assignments are what the scenario says.

use jiaohao_sim::{BenchPolicy, Options, Scenario, bench, draw_day, run_day, simulate_day};

use crate::bench_scenario;

fn days(file: &str, days: u32) -> Scenario {
    let mut scenario = bench_scenario(file);
    scenario.days = days;
    scenario
}

#[test]
fn the_same_seed_gives_the_same_numbers() {
    let scenario = days("county-hall.toml", 4);
    let first = bench(&scenario, &BenchPolicy::ALL, Options::default(), 1).unwrap();
    let again = bench(&scenario, &BenchPolicy::ALL, Options::default(), 3).unwrap();
    assert_eq!(first, again, "the thread count changed the numbers");
    assert_eq!(
        serde_json::to_string(&first).unwrap(),
        serde_json::to_string(&again).unwrap()
    );
    let mut other = scenario.clone();
    other.seed += 1;
    let different = bench(&other, &BenchPolicy::ALL, Options::default(), 1).unwrap();
    assert_ne!(first, different, "another seed gave the same numbers");
    assert_eq!(draw_day(&scenario, 2), draw_day(&scenario, 2));
    assert_ne!(draw_day(&scenario, 2), draw_day(&scenario, 3));
}

#[test]
fn the_json_report_has_every_policy_and_figure() {
    let scenario = days("county-hall.toml", 1);
    let report = bench(&scenario, &BenchPolicy::ALL, Options::default(), 1).unwrap();
    let json: serde_json::Value = serde_json::to_value(&report).unwrap();
    assert_eq!(json["scenario"], "county-hall");
    let policies = json["policies"].as_object().unwrap();
    let names: Vec<&str> = policies.keys().map(String::as_str).collect();
    for name in ["static", "primary-first", "fcfs", "hub", "pooled"] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
        for key in [
            "mean_wait_min",
            "p95_wait_min",
            "max_wait_min",
            "within_target_pct",
            "green_mean_wait_min",
            "util_spread",
            "idle_while_waiting_min",
            "jain",
            "skips_p99",
            "est_mae_min",
            "est_bias_min",
            "est_late5_pct",
            "est_mae_ql_min",
        ] {
            assert!(policies[name][key].is_number(), "{name}.{key}");
        }
    }
    let table = report.markdown();
    assert_eq!(table.lines().filter(|l| l.starts_with("| ")).count(), 6);
}

/// Every policy on both county halls with every check on: the hall's invariants after every
/// command, no idle window while a ticket it may serve waits, every service and class called
/// in issue order.
#[test]
fn invariants_hold_under_every_policy() {
    let checked = Options {
        check: true,
        estimates: true,
    };
    for file in ["county-hall.toml", "county-hall-busy.toml"] {
        let scenario = bench_scenario(file);
        for day in 0..2 {
            let records = run_day(&scenario, day, &BenchPolicy::ALL, checked)
                .unwrap_or_else(|error| panic!("{file}: {error}"));
            let citizens = draw_day(&scenario, day);
            for (policy, record) in BenchPolicy::ALL.into_iter().zip(&records) {
                assert_eq!(record.tickets.len(), citizens.len());
                for window in &record.windows {
                    assert_eq!(
                        window.idle_while_waiting_ms, 0,
                        "{file} {policy:?}: window {} idled while work waited",
                        window.number
                    );
                }
                for (ticket, citizen) in record.tickets.iter().zip(&citizens) {
                    assert_eq!(ticket.issued_ms, citizen.arrival_ms);
                    assert!(ticket.called_ms >= ticket.issued_ms);
                    let spec = scenario
                        .windows
                        .iter()
                        .find(|w| w.number == ticket.window)
                        .unwrap();
                    let service = &scenario.services[citizen.service].code;
                    let allowed = match policy {
                        BenchPolicy::Static => spec.primary() == Some(service),
                        BenchPolicy::Pooled => true,
                        _ => spec.services.contains(service),
                    };
                    assert!(
                        allowed,
                        "{policy:?}: window {} served {service}",
                        ticket.window
                    );
                }
            }
        }
    }
}

/// A window with a break is paused for it (after the ticket in hand); the others are open all
/// day, every minute of it either busy or idle.
#[test]
fn breaks_pause_the_window_and_others_stay_open() {
    let scenario = bench_scenario("county-hall.toml");
    let citizens = draw_day(&scenario, 0);
    let record = simulate_day(
        &scenario,
        &citizens,
        BenchPolicy::Hub,
        0,
        Options::default(),
    )
    .unwrap();
    assert!(record.end_ms >= 450 * 60_000);
    for (spec, window) in scenario.windows.iter().zip(&record.windows) {
        let open_ms = window.busy_ms + window.idle_ms;
        match spec.closed {
            None => assert_eq!(open_ms, record.end_ms, "window {}", spec.number),
            Some(_) => {
                let paused_ms = record.end_ms - open_ms;
                assert!(
                    paused_ms > 30 * 60_000 && paused_ms <= 60 * 60_000,
                    "window {} paused {paused_ms} ms",
                    spec.number
                );
            }
        }
    }
}

/// A day on which nobody comes, and a hall whose rates are all zero, still run.
#[test]
fn an_empty_day_runs() {
    let mut scenario = days("county-hall.toml", 2);
    scenario.arrivals_per_hour = vec![0.0; 8];
    let report = bench(&scenario, &BenchPolicy::ALL, Options::default(), 1).unwrap();
    let table = report.markdown();
    assert!(table.contains("| hub |"), "{table}");
}
