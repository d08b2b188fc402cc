//! The scenario parser: the benchmark halls parse, bad input is refused with the field named,
//! and no input makes it panic.

use jiaohao_sim::random::Rng;
use jiaohao_sim::{Scenario, ScenarioError};

use crate::bench_scenario;

const VALID: &str = r#"
name = "tiny"
days = 2
seed = 5
open = "09:00"
arrivals_per_hour = [20, 30]
last_ticket = "10:30"
day_volume_cv = 0.1
noon = "12:00"
green_channel_share = 0.1
no_show_share = 0.05
no_show_clerk_min = 1.0
target_wait_min = 20

[[service]]
code = "hukou"
name_zh = "户籍"
prefix = "A"
mean_min = 8.0
cv = 0.8
mix_am = 0.5
mix_pm = 0.5

[[service]]
code = "id_card"
name_zh = "身份证"
prefix = "B"
mean_min = 4.0
cv = 0.8
mix_am = 0.5
mix_pm = 0.5

[[window]]
number = 1
services = ["hukou", "id_card"]

[[window]]
number = 2
services = ["id_card", "hukou"]
closed = ["09:30", "10:00"]
"#;

#[test]
fn the_benchmark_halls_parse() {
    for (file, name, windows) in [
        ("county-hall.toml", "county-hall", 12),
        ("county-hall-busy.toml", "county-hall-busy", 12),
        ("erlang-c.toml", "erlang-c", 5),
    ] {
        let scenario = bench_scenario(file);
        assert_eq!(scenario.name, name);
        assert_eq!(scenario.windows.len(), windows);
    }
    let county = bench_scenario("county-hall.toml");
    // 09:00 to 16:30.
    assert_eq!(county.issue_horizon_min(), 450.0);
    assert_eq!(county.services.len(), 5);
    let erlang = bench_scenario("erlang-c.toml");
    assert_eq!(erlang.issue_horizon_min(), 72.0 * 60.0);
    assert_eq!(erlang.warmup_hours, 8.0);
}

#[test]
fn a_valid_scenario_parses_with_its_defaults() {
    let scenario = Scenario::parse(VALID).unwrap();
    assert_eq!(scenario.issue_horizon_min(), 90.0);
    assert_eq!(scenario.warmup_hours, 0.0);
    assert_eq!(
        scenario.windows[1]
            .closed
            .map(|(a, b)| (a.minutes(), b.minutes())),
        Some((570, 600))
    );
}

/// Parses `VALID` with one line replaced, and returns the error's text.
fn refused(from: &str, to: &str) -> String {
    assert!(VALID.contains(from), "the fixture has no `{from}`");
    let text = VALID.replacen(from, to, 1);
    match Scenario::parse(&text) {
        Ok(_) => panic!("accepted with `{to}`"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn bad_input_is_refused_naming_the_field() {
    let cases = [
        ("seed = 5\n", "", "seed"),
        ("seed = 5", "sed = 5", "sed"),
        ("days = 2", "days = \"two\"", "days"),
        ("days = 2", "days = 0", "days"),
        ("days = 2", "days = -1", "days"),
        ("name = \"tiny\"", "name = \" \"", "name"),
        ("open = \"09:00\"", "open = \"9:00\"", "open"),
        ("noon = \"12:00\"", "noon = \"25:00\"", "noon"),
        (
            "last_ticket = \"10:30\"",
            "last_ticket = \"09:00\"",
            "last_ticket",
        ),
        ("[20, 30]", "[]", "arrivals_per_hour"),
        ("[20, 30]", "[20, -3]", "arrivals_per_hour[1]"),
        ("[20, 30]", "[20, nan]", "arrivals_per_hour[1]"),
        (
            "day_volume_cv = 0.1",
            "day_volume_cv = -0.1",
            "day_volume_cv",
        ),
        (
            "green_channel_share = 0.1",
            "green_channel_share = 1.5",
            "green_channel_share",
        ),
        (
            "no_show_share = 0.05",
            "no_show_share = inf",
            "no_show_share",
        ),
        (
            "no_show_clerk_min = 1.0",
            "no_show_clerk_min = -1",
            "no_show_clerk_min",
        ),
        (
            "target_wait_min = 20",
            "target_wait_min = 20\nwarmup_hours = 2",
            "warmup_hours",
        ),
        ("code = \"hukou\"", "code = \"Hukou\"", "service[0].code"),
        ("code = \"id_card\"", "code = \"hukou\"", "service[1].code"),
        ("prefix = \"A\"", "prefix = \"a\"", "service[0].prefix"),
        ("prefix = \"B\"", "prefix = \"A\"", "service[1].prefix"),
        ("name_zh = \"户籍\"", "name_zh = \"\"", "service[0].name_zh"),
        ("mean_min = 8.0", "mean_min = 0", "service[0].mean_min"),
        (
            "cv = 0.8\nmix_am = 0.5\nmix_pm = 0.5\n\n[[service]]\ncode = \"id_card\"",
            "mix_am = 0.5\nmix_pm = 0.5\n\n[[service]]\ncode = \"id_card\"",
            "service[0].cv",
        ),
        ("dist", "dist", "dist"),
        ("mix_am = 0.5", "mix_am = 0.6", "mix_am"),
        ("mix_pm = 0.5", "mix_pm = 0.2", "mix_pm"),
        ("number = 2", "number = 1", "window[1].number"),
        ("number = 2", "number = 1000", "window[1].number"),
        (
            "services = [\"id_card\", \"hukou\"]",
            "services = []",
            "window[1].services",
        ),
        (
            "services = [\"id_card\", \"hukou\"]",
            "services = [\"id_card\", \"passport\"]",
            "window[1].services",
        ),
        (
            "services = [\"id_card\", \"hukou\"]",
            "services = [\"id_card\", \"id_card\"]",
            "window[1].services",
        ),
        (
            "services = [\"id_card\", \"hukou\"]",
            "services = [\"hukou\"]",
            "service[1].code",
        ),
        (
            "closed = [\"09:30\", \"10:00\"]",
            "closed = [\"09:30\"]",
            "window[1].closed",
        ),
        (
            "closed = [\"09:30\", \"10:00\"]",
            "closed = [\"10:00\", \"09:30\"]",
            "window[1].closed",
        ),
        (
            "closed = [\"09:30\", \"10:00\"]",
            "closed = [\"09:30\", \"noon\"]",
            "window[1].closed",
        ),
    ];
    for (from, to, field) in cases {
        if from == "dist" {
            // Not a replacement: an unknown distribution name.
            let text = VALID.replacen("cv = 0.8", "cv = 0.8\ndist = \"gamma\"", 1);
            let error = Scenario::parse(&text).unwrap_err().to_string();
            assert!(error.contains("gamma") && error.contains("dist"), "{error}");
            continue;
        }
        let error = refused(from, to);
        assert!(
            error.contains(field),
            "`{to}` was refused without naming `{field}`: {error}"
        );
    }
}

#[test]
fn what_is_not_toml_is_refused() {
    assert!(matches!(
        Scenario::parse("this is [not toml"),
        Err(ScenarioError::Toml(_))
    ));
    let missing = Scenario::load(std::path::Path::new("/no/such/scenario.toml")).unwrap_err();
    assert!(
        missing.to_string().contains("/no/such/scenario.toml"),
        "{missing}"
    );
}

/// Thousands of damaged copies of a valid file: each is parsed or refused, never a panic.
#[test]
fn damaged_input_never_panics() {
    let mut rng = Rng::seeded(99);
    let pieces = [
        "",
        "0",
        "-1",
        "1e308",
        "nan",
        "\"\"",
        "\"24:00\"",
        "[",
        "]",
        "=",
        "\n",
        "[[window]]",
        "\"hukou\"",
        "99999999999999999999",
        "\"09:00\"",
        ",",
    ];
    let base: Vec<char> = VALID.chars().collect();
    for _ in 0..3000 {
        let mut text = base.clone();
        for _ in 0..1 + rng.categorical(&[0.5, 0.3, 0.2]) {
            let at = (rng.uniform() * text.len() as f64) as usize;
            let cut = (at + (rng.uniform() * 6.0) as usize).min(text.len());
            let piece = pieces[(rng.uniform() * pieces.len() as f64) as usize];
            text.splice(at..cut, piece.chars());
        }
        let text: String = text.into_iter().collect();
        let _ = Scenario::parse(&text);
    }
}
