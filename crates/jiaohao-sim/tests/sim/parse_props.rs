//! Property tests of the scenario parser (proptest): any text, any damaged copy of a benchmark
//! hall, and any field of it set to any value is parsed or refused with a message, never
//! a panic; what is accepted has sane figures.

use jiaohao_sim::{Scenario, ScenarioError};
use proptest::prelude::*;

fn scenario_text(file: &str) -> String {
    let path = crate::scenarios_dir().join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Parses `text`: an error has a message; an accepted scenario has a finite horizon.
fn check(text: &str) -> Result<Scenario, ScenarioError> {
    let parsed = Scenario::parse(text);
    match &parsed {
        Ok(scenario) => assert!(scenario.issue_horizon_min().is_finite()),
        Err(error) => assert!(!error.to_string().trim().is_empty()),
    }
    parsed
}

fn nasty() -> impl Strategy<Value = toml::Value> {
    prop_oneof![
        any::<i64>().prop_map(toml::Value::Integer),
        any::<f64>().prop_map(toml::Value::Float),
        prop::sample::select(vec![
            0.0,
            -0.0,
            1e-300,
            1e300,
            f64::NAN,
            f64::INFINITY,
            -1.0
        ])
        .prop_map(toml::Value::Float),
        any::<bool>().prop_map(toml::Value::Boolean),
        ".{0,24}".prop_map(toml::Value::String),
        prop::sample::select(vec![
            "",
            "00:00",
            "24:00",
            "23:59",
            "12:00",
            "A",
            "hukou",
            "lognormal"
        ])
        .prop_map(|s| toml::Value::String(s.to_owned())),
        prop::collection::vec(any::<f64>().prop_map(toml::Value::Float), 0..30)
            .prop_map(toml::Value::Array),
        Just(toml::Value::Array(vec![])),
    ]
}

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
        toml::Value::Table(table) => table.get_mut(key).expect("the key"),
        toml::Value::Array(items) => &mut items[key.parse::<usize>().expect("an index")],
        _ => unreachable!("a path leads through tables and arrays"),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_is_parsed_or_refused(text in ".{0,300}") {
        let _ = check(&text);
    }

    #[test]
    fn a_damaged_scenario_is_parsed_or_refused(
        at in 0.0..1.0f64, cut in 0usize..30, piece in ".{0,10}",
    ) {
        let chars: Vec<char> = scenario_text("county-hall.toml").chars().collect();
        let at = (at * chars.len() as f64) as usize;
        let end = (at + cut).min(chars.len());
        let text: String = chars[..at].iter().copied()
            .chain(piece.chars())
            .chain(chars[end..].iter().copied())
            .collect();
        let _ = check(&text);
    }

    #[test]
    fn any_field_set_to_anything_is_refused_naming_it_or_accepted(
        file in prop::sample::select(vec!["county-hall.toml", "county-hall-busy.toml", "erlang-c.toml"]),
        pick in any::<prop::sample::Index>(),
        value in nasty(),
    ) {
        let mut scenario: toml::Value = toml::from_str(&scenario_text(file)).unwrap();
        let mut all = Vec::new();
        leaves(&scenario, &mut Vec::new(), &mut all);
        let path = pick.get(&all).clone();
        *at_path(&mut scenario, &path) = value;
        // NaN and infinities have a TOML spelling (nan, inf); the parser must refuse them.
        let text = toml::to_string(&scenario).unwrap();
        if let Err(error) = check(&text) {
            let message = error.to_string();
            // A field error names the field or its section (as the field in error, or in the
            // message when the fault is how two fields fit together); a TOML error (a wrong
            // type) the line.
            let named = match &error {
                ScenarioError::Field { field, .. } => path.iter().any(|part| {
                    let is_name = part.parse::<usize>().is_err();
                    field.contains(part.as_str()) || (is_name && message.contains(part.as_str()))
                }),
                _ => message.contains("line "),
            };
            prop_assert!(named, "{path:?}: {message}");
        }
    }
}
