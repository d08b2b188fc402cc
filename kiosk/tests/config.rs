//! The kiosk's settings: a flag beats an environment variable, which beats the `--config`
//! file, which beats the built-in default.

use std::ffi::{OsStr, OsString};

use jiaohao_kiosk::Args;

fn parse(args: &[&str], env: &[(&str, &str)]) -> Args {
    let lookup = |name: &OsStr| {
        env.iter()
            .find(|(key, _)| OsStr::new(key) == name)
            .map(|(_, value)| OsString::from(value))
    };
    let args = std::iter::once("jiaohao-kiosk").chain(args.iter().copied());
    jiaohao_config::try_parse_with_env(args, &lookup).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn flags_beat_environment_beat_file_beat_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kiosk.toml");
    std::fs::write(
        &file,
        "hub = \"http://10.0.0.2:8080\"\ntoken = \"from-file\"\nfullscreen = true\nidle-after = 120\nreturn_after = 20\nprinter = \"tcp://10.0.0.9:9100\"\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();

    let args = parse(&["--hub", "http://h:1", "--token", "t"], &[]);
    assert_eq!((args.idle_after, args.return_after), (90, 30));
    assert!(!args.fullscreen);
    assert!(args.printer.is_none());

    // Everything, even the required hub and token, can come from the file.
    let args = parse(&["--config", file], &[]);
    assert_eq!(args.hub, "http://10.0.0.2:8080");
    assert_eq!(args.token, "from-file");
    assert!(args.fullscreen);
    assert_eq!((args.idle_after, args.return_after), (120, 20));
    assert!(args.printer.is_some());

    let env = [
        ("JIAOHAO_KIOSK_CONFIG", file),
        ("JIAOHAO_KIOSK_TOKEN", "from-env"),
        ("JIAOHAO_KIOSK_IDLE_AFTER", "150"),
    ];
    let args = parse(&[], &env);
    assert_eq!(args.token, "from-env");
    assert_eq!(args.idle_after, 150);
    assert_eq!(args.hub, "http://10.0.0.2:8080");

    let args = parse(&["--token", "from-flag", "--idle-after", "200"], &env);
    assert_eq!(args.token, "from-flag");
    assert_eq!(args.idle_after, 200);

    // A misspelt key is refused, naming the right ones.
    std::fs::write(dir.path().join("bad.toml"), "idle = 5\n").unwrap();
    let bad = dir.path().join("bad.toml");
    let error = jiaohao_config::try_parse_from::<Args, _, _>([
        "jiaohao-kiosk",
        "--hub",
        "h",
        "--token",
        "t",
        "--config",
        bad.to_str().unwrap(),
    ])
    .unwrap_err();
    assert!(error.to_string().contains("idle-after"), "{error}");
}
