//! The daemon's commands and settings: `user add` reads the password from standard input, and
//! `serve` takes the environment over its settings file, logs JSON lines and stops on SIGTERM.

use std::process::{Command, Stdio};
use std::time::Duration;

use jiaohao_client::Client;
use jiaohao_store::{Role, Store};
use jiaohao_testkit::{WAIT, scrape};

#[tokio::test]
async fn the_user_add_command_reads_the_password_from_stdin() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hall.db");
    let add = |username: &str, role: &str, password: &str| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_jiaohao-hub"))
            .args(["user", "add", "--db"])
            .arg(&db)
            .args(["--username", username, "--role", role])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the hub binary runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let made = add("zhang", "clerk", "secret-password");
    assert!(made.status.success(), "{made:?}");
    for (username, role, password) in [
        ("zhang", "clerk", "another-password"),
        ("Bad Name", "clerk", "secret-password"),
        ("kiosk1", "kiosk", "secret-password"),
        ("short", "admin", "1234"),
    ] {
        let refused = add(username, role, password);
        assert!(!refused.status.success(), "{username} {role} was accepted");
        assert!(!refused.stderr.is_empty(), "a refusal says why");
    }
    let store = Store::open(&db).unwrap();
    let users = store.list_users().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].role, Role::Clerk);
    assert!(users[0].password_hash.starts_with("$argon2id$"));
    assert!(jiaohao_hub::people::verify_password(
        "secret-password",
        &users[0].password_hash
    ));
    assert!(!users[0].password_hash.contains("secret-password"));
}

/// The real `jiaohao-hub` binary, configured by a file and the environment only: the
/// environment beats the file (with clap reading the real environment), the log is JSON lines,
/// and SIGTERM stops it cleanly.
#[tokio::test]
async fn the_hub_binary_takes_environment_over_file_logs_json_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("from-file.db");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let file = dir.path().join("hub.toml");
    // Were the file's listen address used, the hub could not start.
    std::fs::write(
        &file,
        format!(
            "db = {:?}\nlisten = \"256.0.0.1:1\"\nlog-format = \"human\"\n",
            db.to_str().unwrap()
        ),
    )
    .unwrap();
    let log = dir.path().join("hub.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_jiaohao-hub"))
        .arg("serve")
        .env("JIAOHAO_HUB_CONFIG", &file)
        .env("JIAOHAO_HUB_LISTEN", &listen)
        .env("JIAOHAO_LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("jiaohao-hub serve starts");
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();

    // A starting process sends no event: poll its health, bounded.
    let client = Client::new(format!("http://{listen}"));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while client.health().await.is_err() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the hub exited at start:\n{}",
            read_log()
        );
        assert!(tokio::time::Instant::now() < deadline, "{}", read_log());
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(scrape(&client).await["jiaohao_sse_subscribers"], 0.0);

    let status = Command::new("kill")
        .args(["-s", "TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exited = tokio::task::spawn_blocking(move || child.wait());
    let status = tokio::time::timeout(WAIT, exited)
        .await
        .expect("the hub stops within the bound after SIGTERM")
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}\n{}", read_log());
    assert!(db.exists(), "the database is where the file says");

    let lines: Vec<serde_json::Value> = read_log()
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
        })
        .collect();
    let message = |m: &str| {
        lines
            .iter()
            .find(|line| line["fields"]["message"] == m)
            .unwrap_or_else(|| panic!("no '{m}' in {lines:?}"))
    };
    let serving = message("hub serving");
    assert_eq!(serving["level"], "INFO");
    assert_eq!(serving["fields"]["address"], listen.as_str());
    message("writer stopped; database closed");
}
