//! The city service's pages in Chromium: sign-in, the live board with two halls, a hall's
//! drill-down, reports with their CSV link, bad ratings across halls, the users page. Two real hubs on
//! 127.0.0.1, `jiaohao_city::serve::run` in this process on a fresh database of the PostgreSQL
//! cluster named by `JIAOHAO_TEST_POSTGRES` (`scripts/pg-throwaway.sh`, started by
//! `.ci/browser.sh`). Without it the test says SKIPPED loudly; under `CI=true` it fails.

use std::path::Path;
use std::time::{Duration, Instant};

use jiaohao_store::Role;
use serde_json::json;
use thirtyfour::prelude::*;

use crate::support::TestHub;
use crate::{Driver, Result, shot, wait_for, wait_text};

const PASSWORD: &str = "a-long-password-1";
/// The test hubs' day (their clock starts at 09:00 on it).
const DAY: &str = "2026-11-23";

/// What the city part needs and does not have: `Err` under CI, a loud skip otherwise.
pub fn postgres() -> std::result::Result<Option<String>, String> {
    match std::env::var("JIAOHAO_TEST_POSTGRES") {
        Ok(url) => Ok(Some(url)),
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => Err(
            "JIAOHAO_TEST_POSTGRES is not set under CI=true: start scripts/pg-throwaway.sh".into(),
        ),
        Err(_) => {
            eprintln!(
                "\n*** SKIPPED browser::city_pages: no PostgreSQL (set JIAOHAO_TEST_POSTGRES, see scripts/pg-throwaway.sh) ***"
            );
            Ok(None)
        }
    }
}

/// A new empty database on the cluster at `base`, migrated; its URL.
async fn database(base: &str) -> Result<String> {
    let admin = jiaohao_city::db::connect(base).await?;
    let name = format!("city_browser_{}", jiaohao_signin::secret::random_hex(4));
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await?;
    let (prefix, _) = base.rsplit_once('/').ok_or("a URL with a database name")?;
    let url = format!("{prefix}/{name}");
    jiaohao_city::db::open(&url).await?;
    Ok(url)
}

fn last_seq(hub: &TestHub) -> Result<i64> {
    Ok(jiaohao_store::Store::open_read_only(&hub.db)?.last_seq()? as i64)
}

pub async fn city_pages(postgres: String, shots: &Path, driver: &Driver) -> Result {
    let url = database(&postgres).await?;
    let client = jiaohao_city::db::connect(&url).await?;
    let keys = tempfile::tempdir()?;
    let key = std::sync::Arc::new(jiaohao_city::KeyFile::open_or_create(
        &keys.path().join("city.key"),
    )?);
    jiaohao_city::users::add(
        &client,
        "wang",
        jiaohao_city::users::CityRole::Admin,
        PASSWORD,
    )
    .await?;

    // Two halls: 清河县 with window 1 serving, two waiting and a 差评; 东城分局 with one waiting.
    let qinghe = TestHub::start().await;
    let dongcheng = TestHub::start().await;
    for (hub, name) in [(&qinghe, "清河县大厅"), (&dongcheng, "东城分局大厅")] {
        let token = jiaohao_hub::cli::create_token(&hub.db, Role::Ingest, None, "city")?;
        jiaohao_city::halls::add(&client, &key, name, &hub.url(), &token).await?;
    }
    qinghe.open(1).await;
    for service in ["id_card", "id_card", "hukou", "hukou"] {
        qinghe.issue(service).await;
    }
    let called = qinghe.call_next(1).await;
    qinghe
        .admin
        .ticket_action(1, "finish")
        .await
        .map_err(|e| format!("finish: {e}"))?;
    // Rated at the window (an admin may, as the window's paired pad does).
    let rated = qinghe
        .admin
        .request(reqwest::Method::POST, "/api/windows/1/rating")
        .json(&json!({"number": called.number, "rating": "very_dissatisfied", "reason": "waiting"}))
        .send()
        .await?;
    if !rated.status().is_success() {
        return Err(format!("rating: {}", rated.text().await?).into());
    }
    qinghe.call_next(1).await;
    dongcheng.issue("vehicle").await;
    // A third hall the admin registers on the halls page, and an address no one answers at.
    let xicheng = TestHub::start().await;
    xicheng.open(2).await;
    xicheng.issue("exit_entry").await;
    let xicheng_token = jiaohao_hub::cli::create_token(&xicheng.db, Role::Ingest, None, "city")?;
    let nobody = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        format!("http://{}", listener.local_addr()?)
    };

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop_tx, mut stop) = tokio::sync::watch::channel(false);
    let service = tokio::spawn({
        let url = url.clone();
        async move {
            jiaohao_city::serve::run(&url, key, listener, async move {
                let _ = stop.changed().await;
            })
            .await
        }
    });
    // Both halls' logs in PostgreSQL before the pages are looked at.
    let targets = [last_seq(&qinghe)?, last_seq(&dongcheng)?];
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = client
            .query("SELECT last_seq FROM halls ORDER BY id", &[])
            .await?;
        let seqs: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        if seqs == targets {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("the city holds {seqs:?} of {targets:?} records").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let browser = driver.browser("city", 1280, 720).await?;
    let outcome = pages(
        &browser,
        &base,
        shots,
        [
            (
                "西城分局大厅",
                xicheng.url().as_str(),
                xicheng_token.as_str(),
            ),
            ("南城分局大厅", nobody.as_str(), "a-token-of-no-hall"),
        ],
    )
    .await;
    if outcome.is_err() {
        let _ = shot(&browser, shots, "failed-city").await;
    }
    browser.quit().await?;
    outcome?;
    // The passwords the pages set are the ones that sign in now.
    for (name, password, old) in [("zhao", ZHAO_RESET, PASSWORD), ("wang", WANG_NEW, PASSWORD)] {
        if jiaohao_city::users::sign_in(&client, name, password)
            .await?
            .is_err()
        {
            return Err(format!("{name} does not sign in with the new password").into());
        }
        if jiaohao_city::users::sign_in(&client, name, old)
            .await?
            .is_ok()
        {
            return Err(format!("{name} still signs in with the old password").into());
        }
    }
    // The hall registered on the page is followed to its last record.
    let target = last_seq(&xicheng)?;
    let held: i64 = client
        .query_one(
            "SELECT last_seq FROM halls WHERE name = '西城分局大厅'",
            &[],
        )
        .await?
        .get(0);
    if held != target {
        return Err(format!("the hall registered on the page: {held} of {target} records").into());
    }
    let _ = stop_tx.send(true);
    service.await??;
    qinghe.stop().await;
    dongcheng.stop().await;
    xicheng.stop().await;
    Ok(())
}

/// `new_halls`: (name, address, token) of the halls registered on the halls page; the first
/// answers, the second does not.
async fn pages(
    browser: &WebDriver,
    base: &str,
    shots: &Path,
    new_halls: [(&str, &str, &str); 2],
) -> Result {
    // Signed out, the board sends to the sign-in page.
    browser.goto(format!("{base}/")).await?;
    wait_for(browser, "#sign-in").await?;
    shot(browser, shots, "city-01-login").await?;
    browser
        .find(By::Id("username"))
        .await?
        .send_keys("wang")
        .await?;
    browser
        .find(By::Id("password"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    browser.find(By::Id("sign-in")).await?.click().await?;

    // The board: both halls, the busier one first, its figures the hall's own.
    let table = wait_text(browser, "table.city-board", "东城分局大厅").await?;
    let rows = table.find_all(By::Css("tbody tr")).await?;
    if rows.len() != 2 {
        return Err(format!("{} rows on the board", rows.len()).into());
    }
    let (first, second) = (rows[0].text().await?, rows[1].text().await?);
    if !(first.contains("清河县大厅") && second.contains("东城分局大厅")) {
        return Err(format!("the board's rows: {first} / {second}").into());
    }
    shot(browser, shots, "city-02-board").await?;

    // The drill-down: services and windows of 清河县 now.
    rows[0].find(By::Css("a")).await?.click().await?;
    wait_text(browser, "main", "窗口").await?;
    let main = browser.find(By::Css("main")).await?.text().await?;
    for expected in ["清河县大厅", "业务", "办理中", DAY] {
        if !main.contains(expected) {
            return Err(format!("the drill-down lacks '{expected}': {main}").into());
        }
    }
    shot(browser, shots, "city-03-hall").await?;

    // Reports across halls for the day, with the CSV link.
    browser
        .goto(format!("{base}/reports?from={DAY}&to={DAY}"))
        .await?;
    wait_text(browser, "main", "东城分局大厅").await?;
    let csv = browser
        .find(By::Css("a[href^='/reports.csv']"))
        .await?
        .attr("href")
        .await?
        .ok_or("the CSV link has no href")?;
    if !csv.contains(&format!("from={DAY}")) {
        return Err(format!("CSV link {csv}").into());
    }
    let body = reqwest::get(format!("{base}{csv}")).await?;
    // The CSV is behind the sign-in like the pages: without the cookie, a redirect.
    if body.status().is_success() && body.text().await?.contains("清河县大厅") {
        return Err("the CSV answered without a sign-in".into());
    }
    // With the browser's session, both halls' rows.
    let session = browser.get_named_cookie("jiaohao_city_session").await?;
    let text = reqwest::Client::new()
        .get(format!("{base}{csv}"))
        .header("cookie", format!("{}={}", session.name, session.value))
        .send()
        .await?
        .text()
        .await?;
    if !(text.contains("清河县大厅") && text.contains("东城分局大厅")) {
        return Err(format!("the CSV: {text}").into());
    }
    shot(browser, shots, "city-04-reports").await?;

    // Bad ratings across halls: the 非常不满意 of 清河县, with its reason.
    browser
        .goto(format!("{base}/ratings?from={DAY}&to={DAY}"))
        .await?;
    let main = wait_text(browser, "main", "非常不满意")
        .await?
        .text()
        .await?;
    if !(main.contains("清河县大厅") && main.contains("等候时间长")) {
        return Err(format!("the bad ratings page: {main}").into());
    }
    shot(browser, shots, "city-05-ratings").await?;

    // The users page (city admin): a viewer added with the form shows in the list.
    browser.goto(format!("{base}/admin/users")).await?;
    wait_for(browser, "#add-user").await?;
    browser
        .find(By::Id("new-name"))
        .await?
        .send_keys("zhao")
        .await?;
    browser
        .find(By::Id("new-password"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    browser.find(By::Id("add-user")).await?.click().await?;
    wait_text(browser, "#users", "zhao").await?;
    wait_for(browser, "#toggle-zhao").await?;
    shot(browser, shots, "city-06-users").await?;

    // The admin resets zhao's password (zhao forgot it); a too short one is refused first.
    for (password, expected) in [("short", "未重置"), (ZHAO_RESET, "已重置密码")] {
        browser
            .find(By::Id("reset-password-zhao"))
            .await?
            .send_keys(password)
            .await?;
        // The browser's own check of minlength would stop the short one: past it, the hub's.
        browser
            .execute(
                "document.getElementById('reset-password-zhao').removeAttribute('minlength')",
                vec![],
            )
            .await?;
        browser.find(By::Id("reset-zhao")).await?.click().await?;
        wait_text(browser, "main", expected).await?;
    }
    shot(browser, shots, "city-07-reset").await?;

    // wang changes their own password from the link on their name: the repeat must match and
    // the current one be right.
    browser.find(By::Id("account")).await?.click().await?;
    wait_for(browser, "#change").await?;
    for (current, new, repeat, expected) in [
        (PASSWORD, WANG_NEW, "something-else-1", "不一致"),
        ("not-the-password", WANG_NEW, WANG_NEW, "当前密码不正确"),
        (PASSWORD, WANG_NEW, WANG_NEW, "密码已修改"),
    ] {
        for (id, text) in [("current", current), ("password", new), ("repeat", repeat)] {
            let field = browser.find(By::Id(id)).await?;
            field.clear().await?;
            field.send_keys(text).await?;
        }
        browser.find(By::Id("change")).await?.click().await?;
        wait_text(browser, "main", expected).await?;
    }
    shot(browser, shots, "city-08-password").await?;
    // Still signed in on this session; signed out, the new password signs in.
    browser.goto(format!("{base}/")).await?;
    wait_for(browser, "table.city-board").await?;
    browser
        .find(By::Css("form[action='/logout'] button"))
        .await?
        .click()
        .await?;
    wait_for(browser, "#sign-in").await?;
    browser
        .find(By::Id("username"))
        .await?
        .send_keys("wang")
        .await?;
    browser
        .find(By::Id("password"))
        .await?
        .send_keys(WANG_NEW)
        .await?;
    browser.find(By::Id("sign-in")).await?.click().await?;
    wait_for(browser, "table.city-board").await?;

    // The halls page: two halls registered with the form; the token is never shown again.
    for (name, address, token) in new_halls {
        browser.goto(format!("{base}/admin/halls")).await?;
        wait_for(browser, "#add-hall").await?;
        for (id, text) in [("name", name), ("url", address), ("token", token)] {
            browser.find(By::Id(id)).await?.send_keys(text).await?;
        }
        browser.find(By::Id("add-hall")).await?.click().await?;
        wait_text(browser, "main", "已添加，正在连接").await?;
        wait_text(browser, "main", name).await?;
        if browser.source().await?.contains(token) {
            return Err(format!("the halls page shows {name}'s token after it was added").into());
        }
        if browser
            .find(By::Id("token"))
            .await?
            .value()
            .await?
            .as_deref()
            != Some("")
        {
            return Err("the token field is not empty after adding".into());
        }
    }
    shot(browser, shots, "city-09-halls").await?;
    // The board follows both at once: the one that answers is normal, the other says for how
    // long it is down (under a minute here) and since when.
    let (answers, silent) = (new_halls[0].0, new_halls[1].0);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        browser.goto(format!("{base}/")).await?;
        let table = wait_for(browser, "table.city-board").await?;
        let mut rows = Vec::new();
        for row in table.find_all(By::Css("tbody tr")).await? {
            rows.push(row.text().await?);
        }
        let row = |name: &str| rows.iter().find(|r| r.contains(name)).cloned();
        let followed = row(answers).is_some_and(|r| r.contains("正常"));
        let down =
            row(silent).is_some_and(|r| r.contains("已断开 不到 1 分钟") && r.contains("起"));
        if rows.len() == 4 && followed && down {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("the board with the halls added: {rows:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    shot(browser, shots, "city-10-board-down").await?;
    Ok(())
}

/// The password the admin gives zhao, and wang's own new one.
const ZHAO_RESET: &str = "zhao-new-password-2";
const WANG_NEW: &str = "wang-new-password-3";
