//! Hall files (`assets/halls/default.toml`): a hall's settings, services and windows in TOML.
//! A hall file seeds an empty database; later edits live in the database.

use std::path::Path;

use jiaohao_core::Command;
use jiaohao_store::codec;
use jiaohao_wire::HallFile;

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
    let mut commands = vec![Command::ConfigureHall(settings)];
    for (index, def) in file.service.iter().enumerate() {
        let service = codec::service_from_wire(def)
            .map_err(|e| format!("hall file [[service]] #{} ({}): {e}", index + 1, def.code))?;
        commands.push(Command::AddService(service));
    }
    for def in &file.window {
        let window = codec::window_from_wire(def)
            .map_err(|e| format!("hall file [[window]] {}: {e}", def.number))?;
        commands.push(Command::AddWindow(window));
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
