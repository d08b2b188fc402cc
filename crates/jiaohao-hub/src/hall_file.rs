//! Hall files (`assets/halls/default.toml`): a hall's settings, services and windows in TOML.
//! A hall file seeds an empty database; later edits live in the database. A service's
//! `[service.booking]` table makes it take bookings (预约) from the first start.

use std::path::Path;

use jiaohao_core::Command;
use jiaohao_wire::HallFile;

use crate::codec;

/// The default hall, built into the binary so a fresh machine runs with no files around.
pub const DEFAULT_HALL: &str = include_str!("../../../assets/halls/default.toml");

/// Parses a hall file and turns it into the commands that build that hall. Every error names
/// the part of the file that is wrong.
pub fn parse(text: &str) -> Result<Vec<Command>, String> {
    let file: HallFile = toml::from_str(text).map_err(|e| format!("hall file: {e}"))?;
    let settings =
        codec::settings_from_wire(&file.hall).map_err(|e| format!("hall file [hall]: {e}"))?;
    crate::clock::known_time_zone(&settings.timezone)
        .map_err(|e| format!("hall file [hall] timezone: {e}"))?;
    let default_share = settings.booking_share_pct;
    let mut commands = vec![Command::ConfigureHall(settings)];
    for (index, def) in file.service.iter().enumerate() {
        let service = codec::service_from_wire(def)
            .map_err(|e| format!("hall file [[service]] #{} ({}): {e}", index + 1, def.code))?;
        // `[service.booking]`: the service takes bookings from the first start; left-out
        // fields take the defaults, the places the hall's `booking_share_pct` of its cap.
        let booking = def
            .booking
            .as_ref()
            .map(|booking| {
                let settings =
                    codec::booking_settings_from_wire(booking, &service, None, default_share)
                        .map_err(|e| {
                            format!(
                                "hall file [[service]] #{} ({}) [service.booking]: {e}",
                                index + 1,
                                def.code
                            )
                        })?;
                Ok::<_, String>(Command::ConfigureBooking {
                    service: service.code.clone(),
                    settings: Some(settings),
                })
            })
            .transpose()?;
        commands.push(Command::AddService(service));
        commands.extend(booking);
    }
    for def in &file.window {
        let window = codec::window_from_wire(def)
            .map_err(|e| format!("hall file [[window]] {}: {e}", def.number))?;
        commands.push(Command::AddWindow(window));
    }
    if let Some(calendar) = &file.calendar {
        let calendar = crate::http::calendar::from_wire(calendar)
            .map_err(|e| format!("hall file [calendar]: {e}"))?;
        commands.push(Command::SetCalendar(calendar));
    }
    Ok(commands)
}

pub fn load(path: &Path) -> Result<Vec<Command>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the hall file {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiaohao_core::{ClockTime, Hall, LocalDate, Millis, Now};

    fn morning() -> Now {
        Now {
            at: Millis(0),
            date: LocalDate::new(2026, 11, 23).unwrap(),
            time: ClockTime::parse("09:00").unwrap(),
        }
    }

    #[test]
    fn the_default_hall_builds_a_whole_hall() {
        let commands = parse(DEFAULT_HALL).unwrap();
        let mut hall = Hall::new();
        for command in &commands {
            hall.apply(command, morning()).unwrap();
        }
        let prefixes: String = hall.services().iter().map(|s| s.prefix.letter()).collect();
        assert_eq!(prefixes, "ABCDE");
        assert_eq!(hall.windows().count(), 10);
        for service in hall.services() {
            assert!(
                hall.windows_serving(&service.code).len() >= 2,
                "{} needs two windows",
                service.code
            );
            assert!(
                !service.documents_zh.is_empty(),
                "{} lists documents",
                service.code
            );
            assert_eq!(service.documents_zh.len(), service.documents_en.len());
        }
        assert!(hall.windows().any(|w| w.def.services.len() >= 2));
        // Some windows take a lunch break, never all that serve one service.
        assert!(hall.windows().any(|w| !w.def.breaks.is_empty()));
        let noon = ClockTime::parse("12:30").unwrap();
        for service in hall.services() {
            assert!(
                hall.windows_serving(&service.code)
                    .iter()
                    .filter_map(|number| hall.window(*number))
                    .any(|w| w.def.break_at(noon).is_none()),
                "{} has a window over lunch",
                service.code
            );
        }
    }

    #[test]
    fn the_default_hall_works_monday_to_friday_with_holidays_and_swapped_days() {
        let commands = parse(DEFAULT_HALL).unwrap();
        let mut hall = Hall::new();
        for command in &commands {
            hall.apply(command, morning()).unwrap();
        }
        let calendar = hall.calendar().expect("the default hall sets a calendar");
        assert_eq!(
            calendar.working_weekdays,
            [true, true, true, true, true, false, false]
        );
        let date = |text| LocalDate::parse(text).unwrap();
        assert!(!calendar.is_open(date("2026-10-01")), "National Day");
        assert!(calendar.is_open(date("2026-10-10")), "a 调休 Saturday");
        let text = DEFAULT_HALL.replacen("\"2026-01-04\"", "\"2026-01-03\"", 1);
        let error = parse(&text).unwrap_err();
        assert!(
            error.contains("[calendar]") && error.contains("2026-01-03"),
            "{error}"
        );
    }

    #[test]
    fn the_default_hall_takes_bookings_for_household_vehicles_and_exit_entry() {
        let commands = parse(DEFAULT_HALL).unwrap();
        let mut hall = Hall::new();
        for command in &commands {
            hall.apply(command, morning()).unwrap();
        }
        assert_eq!(hall.settings().booking_share_pct, 50);
        let settings = |code: &str| {
            hall.registry()
                .settings(&jiaohao_core::ServiceCode::parse(code).unwrap())
                .cloned()
        };
        // Household registration: 17 half-hour slots sharing half its cap of 300.
        let hukou = settings("hukou").expect("hukou takes bookings");
        assert_eq!((hukou.slot_min, hukou.capacities.len()), (30, 17));
        assert_eq!(hukou.booked_capacity(), 150);
        assert_eq!(
            (
                hukou.days_ahead,
                hukou.cancel_before_min,
                hukou.check_in_before_min,
                hukou.check_in_after_min
            ),
            (5, 120, 30, 15)
        );
        // Vehicles: its own share, 30% of 250 over 8 hour-long slots.
        let vehicle = settings("vehicle").expect("vehicles take bookings");
        assert_eq!((vehicle.slot_min, vehicle.capacities.len()), (60, 8));
        assert_eq!(vehicle.booked_capacity(), 75);
        // Exit-entry: the hall's share, 50% of 200.
        assert_eq!(settings("exit_entry").unwrap().booked_capacity(), 100);
        assert!(settings("id_card").is_none() && settings("violation").is_none());
    }

    #[test]
    fn a_booking_section_takes_the_halls_share_and_names_its_errors() {
        let text = DEFAULT_HALL.replacen("booking_share_pct = 50", "booking_share_pct = 20", 1);
        let commands = parse(&text).unwrap();
        let booked = commands.iter().find_map(|command| match command {
            Command::ConfigureBooking { service, settings } if service.as_str() == "exit_entry" => {
                settings.as_ref().map(|s| s.booked_capacity())
            }
            _ => None,
        });
        assert_eq!(booked, Some(40));
        let text = DEFAULT_HALL.replacen("slot_min = 60", "slot_min = 45", 1);
        let error = parse(&text).unwrap_err();
        assert!(
            error.contains("(vehicle) [service.booking]") && error.contains("30 or 60"),
            "{error}"
        );
        let text = DEFAULT_HALL.replacen("share_pct = 30", "share_pct = 30\nseats = 3", 1);
        let error = parse(&text).unwrap_err();
        assert!(error.contains("seats"), "{error}");
        let text = DEFAULT_HALL.replacen("booking_share_pct = 50", "booking_share_pct = 101", 1);
        let error = parse(&text).unwrap_err();
        assert!(error.contains("booking_share_pct"), "{error}");
    }

    #[test]
    fn the_hall_file_seeds_the_booking_rules_and_names_a_broken_one() {
        let seeded = |text: &str| {
            let mut hall = Hall::new();
            for command in &parse(text).unwrap() {
                hall.apply(command, morning()).unwrap();
            }
            hall.settings().booking_rules
        };
        assert_eq!(seeded(DEFAULT_HALL), jiaohao_core::BookingRules::default());
        let text = DEFAULT_HALL
            .replacen("misses_to_bar = 3", "misses_to_bar = 2", 1)
            .replacen("lapse_min = 10", "lapse_min = 5", 1);
        let rules = seeded(&text);
        assert_eq!((rules.misses_to_bar, rules.lapse_min), (2, 5));
        assert_eq!((rules.miss_window_days, rules.bar_days), (180, 30));
        // A file without the table seeds the defaults; a rule out of range is named.
        let start = DEFAULT_HALL.find("[hall.booking_rules]").unwrap();
        let end = DEFAULT_HALL.find("bar_days = 30\n").unwrap() + "bar_days = 30\n".len();
        let without = format!("{}{}", &DEFAULT_HALL[..start], &DEFAULT_HALL[end..]);
        assert_eq!(seeded(&without), jiaohao_core::BookingRules::default());
        let error = parse(&DEFAULT_HALL.replacen("bar_days = 30", "bar_days = 0", 1)).unwrap_err();
        assert!(
            error.contains("[hall]") && error.contains("booking_rules.bar_days"),
            "{error}"
        );
    }

    #[test]
    fn a_broken_break_is_refused() {
        let text = DEFAULT_HALL.replacen(
            r#"breaks = [["12:00", "13:00"]]"#,
            r#"breaks = [["13:00", "12:00"]]"#,
            1,
        );
        let error = parse(&text).unwrap_err();
        assert!(error.contains("[[window]] 2"), "{error}");
        assert!(error.contains("break"), "{error}");
    }

    #[test]
    fn errors_name_the_broken_part() {
        let text = DEFAULT_HALL.replacen("prefix = \"A\"", "prefix = \"a\"", 1);
        let error = parse(&text).unwrap_err();
        assert!(error.contains("[[service]] #1 (hukou)"), "{error}");
        assert!(error.contains("prefix"), "{error}");
        let error = parse("[hall]\nname_zh = 1").unwrap_err();
        assert!(error.starts_with("hall file:"), "{error}");
        let text = DEFAULT_HALL.replacen("Asia/Shanghai", "Mars/Olympus", 1);
        let error = parse(&text).unwrap_err();
        assert!(
            error.contains("timezone") && error.contains("Mars/Olympus"),
            "{error}"
        );
        let error = parse("nonsense").unwrap_err();
        assert!(error.starts_with("hall file:"), "{error}");
    }
}

/// Property tests: no text makes the parser panic, and whatever it accepts builds a hall.
#[cfg(test)]
mod props {
    use super::*;
    use jiaohao_core::{ClockTime, Hall, LocalDate, Millis, Now};
    use proptest::prelude::*;

    fn morning() -> Now {
        Now {
            at: Millis(0),
            date: LocalDate::new(2026, 11, 23).unwrap(),
            time: ClockTime::parse("09:00").unwrap(),
        }
    }

    /// Parses `text`; an error must say it is about the hall file; an accepted file must
    /// build a hall without a panic (the core may still refuse, e.g. a window serving an
    /// unknown service, with an error).
    fn check(text: &str) {
        match parse(text) {
            Ok(commands) => {
                let mut hall = Hall::new();
                for command in &commands {
                    let _ = hall.apply(command, morning());
                }
                hall.check_invariants().unwrap();
            }
            Err(error) => assert!(error.starts_with("hall file"), "{error}"),
        }
    }

    /// Values a field of a hall file might wrongly hold.
    fn nasty() -> impl Strategy<Value = toml::Value> {
        prop_oneof![
            any::<i64>().prop_map(toml::Value::Integer),
            any::<f64>().prop_map(toml::Value::Float),
            any::<bool>().prop_map(toml::Value::Boolean),
            ".{0,40}".prop_map(toml::Value::String),
            prop::sample::select(vec![
                "",
                " ",
                "00:00",
                "24:00",
                "23:59",
                "08:30",
                "A",
                "Z9",
                "hukou",
                "id_card",
                "Asia/Shanghai",
                "Mars/Olympus",
                "a\u{0}b",
                "窗口",
            ])
            .prop_map(|s| toml::Value::String(s.to_owned())),
            prop::collection::vec(".{0,8}".prop_map(toml::Value::String), 0..4)
                .prop_map(toml::Value::Array),
            Just(toml::Value::Array(vec![])),
        ]
    }

    /// Every leaf of a TOML value, as a path of keys and indices.
    fn leaves(value: &toml::Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match value {
            toml::Value::Table(table) => {
                for (key, value) in table {
                    path.push(key.clone());
                    leaves(value, path, out);
                    path.pop();
                }
            }
            toml::Value::Array(items) if items.iter().any(|v| v.is_table()) => {
                for (index, value) in items.iter().enumerate() {
                    path.push(index.to_string());
                    leaves(value, path, out);
                    path.pop();
                }
            }
            _ => out.push(path.clone()),
        }
    }

    fn at_path<'a>(value: &'a mut toml::Value, path: &[String]) -> &'a mut toml::Value {
        path.iter().fold(value, |value, key| match value {
            toml::Value::Table(table) => table.get_mut(key).unwrap(),
            toml::Value::Array(items) => &mut items[key.parse::<usize>().unwrap()],
            _ => unreachable!("a path leads through tables and arrays"),
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_is_parsed_or_refused(text in ".{0,400}") {
            check(&text);
        }

        #[test]
        fn a_damaged_default_hall_is_parsed_or_refused(
            at in 0.0..1.0f64, cut in 0usize..40, piece in ".{0,12}",
        ) {
            let chars: Vec<char> = DEFAULT_HALL.chars().collect();
            let at = (at * chars.len() as f64) as usize;
            let end = (at + cut).min(chars.len());
            let text: String = chars[..at].iter().copied()
                .chain(piece.chars())
                .chain(chars[end..].iter().copied())
                .collect();
            check(&text);
        }

        #[test]
        fn any_field_set_to_anything_is_parsed_or_refused_by_name(
            pick in any::<prop::sample::Index>(), value in nasty(),
        ) {
            let mut file: toml::Value = toml::from_str(DEFAULT_HALL).unwrap();
            let mut all = Vec::new();
            leaves(&file, &mut Vec::new(), &mut all);
            let path = pick.get(&all).clone();
            *at_path(&mut file, &path) = value;
            let text = toml::to_string(&file).unwrap();
            check(&text);
            if let Err(error) = parse(&text) {
                // The error names the section the field is in, or (a value of the wrong type)
                // the line and column of the file.
                let section = &path[0];
                prop_assert!(
                    error.contains(section.as_str()) || error.contains("line "),
                    "{path:?}: {error}"
                );
            }
        }
    }
}
