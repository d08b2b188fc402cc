//! The display's settings: a flag beats an environment variable, which beats the `--config`
//! file, which beats the built-in default.

use std::ffi::{OsStr, OsString};

use jiaohao_display::{Args, TickerMode};

fn parse(args: &[&str], env: &[(&str, &str)]) -> Args {
    let lookup = |name: &OsStr| {
        env.iter()
            .find(|(key, _)| OsStr::new(key) == name)
            .map(|(_, value)| OsString::from(value))
    };
    let args = std::iter::once("jiaohao-display").chain(args.iter().copied());
    jiaohao_config::try_parse_with_env(args, &lookup).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn flags_beat_environment_beat_file_beat_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("display.toml");
    std::fs::write(
        &file,
        "hub = \"http://10.0.0.2:8080\"\nwindow = 3\nticker = \"page\"\nfullscreen = true\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();

    let args = parse(&["--hub", "http://h:1"], &[]);
    assert_eq!(args.window, None);
    assert_eq!(args.ticker, TickerMode::Auto);
    assert!(!args.fullscreen);

    let args = parse(&["--config", file], &[]);
    assert_eq!(args.hub, "http://10.0.0.2:8080");
    assert_eq!(args.window, Some(3));
    assert_eq!(args.ticker, TickerMode::Page);
    assert!(args.fullscreen);

    let env = [
        ("JIAOHAO_DISPLAY_CONFIG", file),
        ("JIAOHAO_DISPLAY_WINDOW", "5"),
        ("JIAOHAO_DISPLAY_TICKER", "scroll"),
    ];
    let args = parse(&[], &env);
    assert_eq!(args.window, Some(5));
    assert_eq!(args.ticker, TickerMode::Scroll);
    assert_eq!(args.hub, "http://10.0.0.2:8080");

    let args = parse(&["--window", "7"], &env);
    assert_eq!(args.window, Some(7));
}

#[test]
fn a_display_without_a_token_says_at_its_start_that_it_is_served_as_a_stranger() {
    let without = parse(&["--hub", "http://h:1"], &[]).config();
    let warning = without
        .missing_token_warning()
        .expect("a display without a token warns");
    assert!(warning.contains("stranger"), "{warning}");
    assert!(warning.contains("--role display"), "{warning}");
    let with = parse(
        &["--hub", "http://h:1"],
        &[("JIAOHAO_DISPLAY_TOKEN", "abc")],
    )
    .config();
    assert_eq!(with.missing_token_warning(), None);
}
