//! A fresh PostgreSQL database per test, and a hall's log read from its SQLite file.

use jiaohao_city::Incoming;
use jiaohao_store::{Store, stored};
use tokio_postgres::Client;

/// A new empty database on the test cluster, migrated, with its URL; `None` (after saying
/// SKIPPED loudly) when no cluster is given. Under `CI=true` a missing cluster fails the test.
pub async fn database(test: &str) -> Option<(String, Client)> {
    let Ok(base) = std::env::var("JIAOHAO_TEST_POSTGRES") else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "{test}: JIAOHAO_TEST_POSTGRES is not set under CI=true; start scripts/pg-throwaway.sh"
            );
        }
        skipped(&format!(
            "{test}: no PostgreSQL (set JIAOHAO_TEST_POSTGRES, see scripts/pg-throwaway.sh)"
        ));
        return None;
    };
    let admin = jiaohao_city::db::connect(&base)
        .await
        .expect("the test cluster answers");
    let name = format!(
        "city_{}_{}",
        test.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
        jiaohao_signin::secret::random_hex(4)
    );
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("a test database");
    let (prefix, _) = base.rsplit_once('/').expect("a URL with a database name");
    let url = format!("{prefix}/{name}");
    let client = jiaohao_city::db::open(&url).await.expect("migrated");
    Some((url, client))
}

/// Every record of a hub's log after `after`, as its replication stream would carry it.
pub fn hub_records(db: &std::path::Path, after: u64) -> Vec<Incoming> {
    let store = Store::open_read_only(db).expect("the hub's database");
    let mut out = Vec::new();
    store
        .for_each_record_after(after, |record| {
            out.push(Incoming {
                seq: record.seq,
                term: 1,
                at_ms: record.at.0,
                actor: record.actor.clone(),
                kind: record.event.kind().to_owned(),
                body: stored::event_to_json(&record.event),
            })
        })
        .expect("records");
    out
}

/// Registers a hall with a throwaway key.
pub async fn add_hall(
    client: &Client,
    name: &str,
    url: &str,
    token: &str,
) -> (
    i32,
    tempfile::TempDir,
    std::sync::Arc<jiaohao_city::KeyFile>,
) {
    let dir = tempfile::tempdir().unwrap();
    let key = jiaohao_city::KeyFile::open_or_create(&dir.path().join("city.key")).unwrap();
    let id = jiaohao_city::halls::add(client, &key, name, url, token)
        .await
        .unwrap();
    (id, dir, std::sync::Arc::new(key))
}

/// A browser-like client: cookies by hand, redirects not followed, same-origin posts.
pub struct Web {
    http: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

impl Web {
    pub fn new(base: &str) -> Web {
        Web {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
            cookie: None,
        }
    }

    pub async fn sign_in(&mut self, name: &str, password: &str) -> reqwest::Response {
        let response = self
            .post(
                "/login",
                &format!("username={name}&password={password}&next=%2F"),
            )
            .await;
        if let Some(cookie) = response.headers().get("set-cookie") {
            self.cookie = Some(
                cookie
                    .to_str()
                    .unwrap()
                    .split(';')
                    .next()
                    .unwrap()
                    .to_owned(),
            );
        }
        response
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: &str) -> reqwest::Response {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", &self.base)
            .body(body.to_owned());
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.unwrap()
    }

    /// The CSRF token of a page's form.
    pub async fn csrf(&self, path: &str) -> String {
        let html = self.get(path).await.text().await.unwrap();
        let at = html
            .find(r#"name="csrf" value=""#)
            .expect("a form with a CSRF token")
            + 19;
        html[at..at + html[at..].find('"').unwrap()].to_owned()
    }
}

/// A form's fields as `application/x-www-form-urlencoded`.
pub fn form(fields: &[(&str, &str)]) -> String {
    let encode = |text: &str| {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    fields
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Tests share the cluster; the one that restarts it has it alone.
static CLUSTER: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

pub async fn shared_cluster() -> tokio::sync::RwLockReadGuard<'static, ()> {
    CLUSTER.read().await
}

pub async fn whole_cluster() -> tokio::sync::RwLockWriteGuard<'static, ()> {
    CLUSTER.write().await
}

/// Says a test skipped on the real stderr, past the test harness's capture, so it shows in a
/// plain `cargo test`.
pub fn skipped(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED {why} ***");
}

/// The hall's own report of `day` (`YYYY-MM-DD`), as its admin reads `/api/reports`.
pub async fn hall_report(hub: &jiaohao_testkit::TestHub, day: &str) -> serde_json::Value {
    hub.admin
        .request(
            reqwest::Method::GET,
            &format!("/api/reports?from={day}&to={day}"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The hall's own report total for `day` (`YYYY-MM-DD`, as its admin reads `/api/reports`) and
/// the city's figures for that day, the city following that one hall: what a test compares.
pub async fn day_figures(
    client: &Client,
    hub: &jiaohao_testkit::TestHub,
    day: &str,
) -> (serde_json::Value, serde_json::Value) {
    let report = hall_report(hub, day).await;
    let (from, to) = jiaohao_city::reports::parse_range(day, day).unwrap();
    let city = jiaohao_city::reports::across_halls(client, from, to)
        .await
        .unwrap();
    assert_eq!(city.len(), 1, "one hall followed");
    (
        serde_json::to_value(&city[0]).unwrap(),
        report["total"].clone(),
    )
}

/// Asserts the city's `fields` equal the hall's.
#[track_caller]
pub fn same_figures(city: &serde_json::Value, hall: &serde_json::Value, fields: &[&str]) {
    for field in fields {
        assert_eq!(city[field], hall[field], "{field}: city {city} hall {hall}");
    }
}

/// A hub with window 1 open and two tickets issued, the sequence number of its last record
/// (what the city must reach) and an `ingest` token for the city.
pub async fn hall_to_follow() -> (jiaohao_testkit::TestHub, i64, String) {
    let hub = jiaohao_testkit::TestHub::start().await;
    hub.open(1).await;
    hub.issue("hukou").await;
    hub.issue("id_card").await;
    let target = hub_last_seq(&hub) as i64;
    let token = ingest_token(&hub);
    (hub, target, token)
}

/// A new `ingest` token of `hub`, for the city.
pub fn ingest_token(hub: &jiaohao_testkit::TestHub) -> String {
    jiaohao_hub::cli::create_token(&hub.db, jiaohao_store::Role::Ingest, None, "city")
        .expect("an ingest token")
}

/// The sequence number of `hub`'s last record, read from its file.
pub fn hub_last_seq(hub: &jiaohao_testkit::TestHub) -> u64 {
    jiaohao_store::Store::open_read_only(&hub.db)
        .unwrap()
        .last_seq()
        .unwrap()
}

/// `jiaohao-city serve` over the database at `url` with the key file at `key_path`, on any free
/// port; the caller says where its output goes and starts it.
pub fn city_serve(url: &str, key_path: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_jiaohao-city"));
    command
        .args([
            "serve",
            "--postgres",
            url,
            "--listen",
            "127.0.0.1:0",
            "--key-file",
        ])
        .arg(key_path);
    command
}
