//! The pages in a real browser: Debian's Chromium, headless, driven over WebDriver by its
//! `chromedriver`, against a real hub started in this process on `127.0.0.1:0`.
//!
//! Runs only with `JIAOHAO_BROWSER_TESTS=1` (`.ci/browser.sh` installs Chromium and sets it);
//! then a missing Chromium or driver is a failure, not a skip. Without the variable it prints
//! a notice and passes, so `cargo test --workspace` needs no browser. Screenshots of every page
//! are written to `target/screenshots/web/`.
//!
//! The city service's pages (`city.rs`) also need PostgreSQL (`JIAOHAO_TEST_POSTGRES`, which
//! `.ci/browser.sh` provides); without it that part says SKIPPED, and fails under `CI=true`.

mod bookings;
mod city;

#[path = "../support.rs"]
#[allow(dead_code)]
mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jiaohao_store::Role;
use jiff::SignedDuration;
use serde_json::json;
use support::{PASSWORD, TestHub};
use thirtyfour::prelude::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The longest a page may take to show what a test waits for.
const PAGE_WAIT: Duration = Duration::from_secs(15);

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn main() {
    if std::env::var("JIAOHAO_BROWSER_TESTS").as_deref() != Ok("1") {
        println!(
            "browser tests skipped: set JIAOHAO_BROWSER_TESTS=1 to run them (they need Debian's chromium and chromium-driver; .ci/browser.sh installs both)"
        );
        return;
    }
    for needed in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(needed).exists(),
            "JIAOHAO_BROWSER_TESTS=1 but {needed} is missing: apt-get install chromium chromium-driver fonts-noto-cjk"
        );
    }
    let shots = screenshot_dir();
    for old in std::fs::read_dir(&shots).into_iter().flatten().flatten() {
        if old.path().extension().is_some_and(|e| e == "png") {
            let _ = std::fs::remove_file(old.path());
        }
    }
    println!("screenshots: {}", shots.display());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let mut passed = 0;
    let mut failed = 0;
    let mut report = |name: &str, started: Instant, outcome: Result| match outcome {
        Ok(()) => {
            let seconds = started.elapsed().as_secs_f64();
            println!("test {name} ... ok ({seconds:.1} s)");
            passed += 1;
        }
        Err(error) => {
            println!("test {name} ... FAILED: {error}");
            failed += 1;
        }
    };
    let started = Instant::now();
    report(
        "browser::a_ticket_from_assignment_to_audit_and_the_phone",
        started,
        runtime.block_on(a_ticket_from_assignment_to_audit(shots.clone())),
    );
    let started = Instant::now();
    let outcome = runtime.block_on(async {
        let driver = Driver::start()?;
        driver.ready().await?;
        bookings::bookings_console(&shots, &driver).await
    });
    report(
        "browser::bookings_no_show_list_and_report_split",
        started,
        outcome,
    );
    let started = Instant::now();
    let outcome = runtime.block_on(async {
        let driver = Driver::start()?;
        driver.ready().await?;
        bookings::booking_settings_console(&shots, &driver).await
    });
    report(
        "browser::booking_settings_identity_and_csv_in_the_console",
        started,
        outcome,
    );
    let started = Instant::now();
    report(
        "browser::a_rating_pad_is_paired_from_the_console",
        started,
        runtime.block_on(a_rating_pad_is_paired_from_the_console(shots.clone())),
    );
    let started = Instant::now();
    report(
        "browser::a_phone_rates_badly_the_next_working_day",
        started,
        runtime.block_on(a_phone_rates_badly_the_next_working_day(shots.clone())),
    );
    match city::postgres() {
        Ok(Some(postgres)) => {
            let started = Instant::now();
            let outcome = runtime.block_on(async {
                let driver = Driver::start()?;
                driver.ready().await?;
                city::city_pages(postgres, &shots, &driver).await
            });
            report("browser::city_pages", started, outcome);
        }
        Ok(None) => {}
        Err(why) => report("browser::city_pages", Instant::now(), Err(why.into())),
    }
    println!("screenshots: {}", shots.display());
    println!("browser: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}

/// `target/screenshots/web/` of this workspace.
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("screenshots").join("web");
    std::fs::create_dir_all(&dir).expect("the screenshot folder");
    dir
}

/// A chromedriver this test started; stopped (by its own process id) when dropped.
struct Driver {
    child: Child,
    url: String,
    _profiles: tempfile::TempDir,
}

impl Driver {
    fn start() -> Result<Driver> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _profiles: tempfile::tempdir()?,
        };
        Ok(driver)
    }

    async fn ready(&self) -> Result {
        let deadline = Instant::now() + PAGE_WAIT;
        while Instant::now() < deadline {
            if let Ok(response) = reqwest::get(format!("{}/status", self.url)).await
                && response.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err("chromedriver did not start".into())
    }

    /// A new headless Chromium of `width`×`height` with a fresh profile.
    async fn browser(&self, name: &str, width: u32, height: u32) -> Result<WebDriver> {
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(CHROMIUM)?;
        let profile = self._profiles.path().join(name);
        for arg in [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--lang=zh-CN",
            "--autoplay-policy=no-user-gesture-required",
            &format!("--window-size={width},{height}"),
            &format!("--user-data-dir={}", profile.display()),
        ] {
            caps.add_arg(arg)?;
        }
        let browser = WebDriver::new(&self.url, caps).await?;
        // The viewport exactly (a window's size would include its frame); a phone is a
        // touch device at twice the pixels.
        let phone = width < 800;
        browser
            .cdp()
            .send_raw(
                "Emulation.setDeviceMetricsOverride",
                json!({"width": width, "height": height, "deviceScaleFactor": if phone { 2 } else { 1 }, "mobile": phone}),
            )
            .await?;
        Ok(browser)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until the element `css` exists and its text contains `text`; returns the element.
async fn wait_text(driver: &WebDriver, css: &str, text: &str) -> Result<WebElement> {
    let deadline = Instant::now() + PAGE_WAIT;
    let mut last = String::new();
    loop {
        if let Ok(element) = driver.find(By::Css(css)).await {
            match element.text().await {
                Ok(found) if found.contains(text) => return Ok(element),
                Ok(found) => last = found,
                Err(_) => {}
            }
        }
        if Instant::now() > deadline {
            return Err(format!("'{css}' never showed '{text}' (last: '{last}')").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_for(driver: &WebDriver, css: &str) -> Result<WebElement> {
    wait_text(driver, css, "").await
}

/// Waits until the button `css` can be pressed.
async fn wait_enabled(driver: &WebDriver, css: &str) -> Result<WebElement> {
    let deadline = Instant::now() + PAGE_WAIT;
    loop {
        if let Ok(element) = driver.find(By::Css(css)).await
            && element.is_enabled().await.unwrap_or(false)
        {
            return Ok(element);
        }
        if Instant::now() > deadline {
            return Err(format!("'{css}' never became enabled").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn shot(driver: &WebDriver, dir: &Path, name: &str) -> Result {
    // Let the page settle: fonts drawn, the toast of the last action shown.
    tokio::time::sleep(Duration::from_millis(300)).await;
    driver.screenshot(&dir.join(format!("{name}.png"))).await?;
    Ok(())
}

async fn select(driver: &WebDriver, css: &str, value: &str) -> Result {
    driver
        .execute(
            "const s = document.querySelector(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('change'));",
            vec![json!(css), json!(value)],
        )
        .await?;
    Ok(())
}

async fn sign_in(
    driver: &WebDriver,
    base: &str,
    next: &str,
    user: &str,
    window: Option<&str>,
) -> Result {
    driver.goto(format!("{base}{next}")).await?;
    wait_for(driver, "#username").await?;
    driver
        .find(By::Id("username"))
        .await?
        .send_keys(user)
        .await?;
    driver
        .find(By::Id("password"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    if let Some(window) = window {
        select(driver, "#window", window).await?;
    }
    driver.find(By::Id("sign-in")).await?.click().await?;
    Ok(())
}

/// Presses a key on the page, as the clerk's keyboard does.
async fn press(driver: &WebDriver, key: &str) -> Result {
    driver.find(By::Tag("body")).await?.send_keys(key).await?;
    Ok(())
}

/// Pairs a fresh tablet with the code typed on `/rate`, then rates window 3's last ticket
/// (B001) 不满意 because of the wait.
async fn rate_on_pad(pad: &WebDriver, base: &str, code: &str, shots: &Path) -> Result {
    pad.goto(format!("{base}/rate")).await?;
    wait_for(pad, "#pair-code").await?.send_keys(code).await?;
    shot(pad, shots, "07a-rate-pairing").await?;
    pad.find(By::Id("pair-submit")).await?.click().await?;
    wait_text(pad, "#rate-number", "B001").await?;
    wait_text(pad, ".topbar .page", "3 号窗口").await?;
    shot(pad, shots, "07-rate-ask").await?;
    pad.find(By::Css("[data-rating='dissatisfied']"))
        .await?
        .click()
        .await?;
    wait_for(pad, "[data-reason='waiting']").await?;
    shot(pad, shots, "08-rate-reason").await?;
    pad.find(By::Css("[data-reason='waiting']"))
        .await?
        .click()
        .await?;
    // A 差评 opens a case: the pad asks, optionally, for a phone for the callback.
    wait_for(pad, "#callback-phone")
        .await?
        .send_keys("13800138000")
        .await?;
    shot(pad, shots, "08b-rate-callback-phone").await?;
    pad.find(By::Id("callback-send")).await?.click().await?;
    wait_text(pad, "#thanks", "感谢").await?;
    shot(pad, shots, "09-rate-thanks").await?;
    Ok(())
}

/// The admin shows a pairing code in the console's windows tab, the tablet types it on
/// `/rate` and rates the ticket window 3 just finished; a page never paired shows the pairing
/// form and its rating is refused.
async fn a_rating_pad_is_paired_from_the_console(shots: PathBuf) -> Result {
    let hub = TestHub::start().await;
    hub.add_user("li", Role::Admin);
    let base = hub.url();
    let driver = Driver::start()?;
    driver.ready().await?;
    let desk = driver.browser("console", 1920, 1080).await?;
    let pad = driver.browser("pad", 1280, 800).await?;
    let stranger = driver.browser("stranger", 1280, 800).await?;
    let outcome = async {
        sign_in(&desk, &base, "/login?next=%2Fadmin%23windows", "li", None).await?;
        wait_for(&desk, "#pair-3").await?.click().await?;
        let code = wait_for(&desk, "#pairing-code-3 .code").await?.text().await?;
        shot(&desk, &shots, "30-admin-pairing-code").await?;
        pad.goto(format!("{base}/rate")).await?;
        wait_for(&pad, "#pair-code").await?.send_keys(&code).await?;
        pad.find(By::Id("pair-submit")).await?.click().await?;
        wait_text(&pad, ".topbar .page", "3 号窗口").await?;
        shot(&pad, &shots, "31-pad-paired-idle").await?;
        // Window 3 finishes a ticket: the pad asks about it, and takes the rating.
        hub.open(3).await;
        hub.issue("hukou").await;
        hub.call_next(3).await;
        hub.admin.ticket_action(3, "finish").await.map_err(|e| format!("finish: {e}"))?;
        wait_text(&pad, "#rate-number", "A001").await?;
        pad.find(By::Css("[data-rating='very_satisfied']"))
            .await?
            .click()
            .await?;
        wait_text(&pad, "#thanks", "感谢").await?;
        // The console lists the pad, paired with window 3.
        desk.goto(format!("{base}/admin#windows")).await?;
        desk.refresh().await?;
        wait_text(&desk, "#rating-pads tr[data-window='3']", "3号窗口评价器").await?;
        shot(&desk, &shots, "32-admin-pads").await?;
        // A page never paired shows the pairing form, and the hub refuses its rating.
        stranger.goto(format!("{base}/rate/3")).await?;
        wait_for(&stranger, "#pair-form").await?;
        shot(&stranger, &shots, "33-rate-unpaired").await?;
        let status = stranger
            .execute(
                "return fetch('/api/windows/3/rating', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({number: 'A001', rating: 'satisfied'})}).then(r => r.status);",
                vec![],
            )
            .await?
            .json()
            .clone();
        if status != json!(401) {
            return Err(format!("an unpaired page's rating answered {status}").into());
        }
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    }
    .await;
    if outcome.is_err() {
        let _ = shot(&desk, &shots, "failed-pairing-console").await;
        let _ = shot(&pad, &shots, "failed-pairing-pad").await;
    }
    for browser in [desk, pad, stranger] {
        browser.quit().await?;
    }
    hub.stop().await;
    outcome
}

/// A ticket finished on Friday is rated badly from the citizen's phone on Monday, the next
/// working day of the default calendar: the page still shows it with the rating form, the bad
/// rating asks (optionally) for a phone for the callback, and the 差评 case carries it.
async fn a_phone_rates_badly_the_next_working_day(shots: PathBuf) -> Result {
    let hub = TestHub::start_at_with("2026-11-27T09:00:00+08:00", |_| {}).await;
    hub.open(3).await;
    let ticket = hub.issue("hukou").await;
    hub.call_next(3).await;
    hub.admin
        .ticket_action(3, "finish")
        .await
        .map_err(|e| format!("finish: {e}"))?;
    // Monday: a new day has started (window 3 opens again).
    hub.set_time("2026-11-30T10:00:00+08:00");
    hub.open(3).await;
    let base = hub.url();
    let driver = Driver::start()?;
    driver.ready().await?;
    let phone = driver.browser("late-phone", 390, 844).await?;
    let outcome = async {
        phone.goto(format!("{base}/t/{}", ticket.token)).await?;
        wait_text(&phone, "#rate", "可评价至 2026-11-30").await?;
        shot(&phone, &shots, "15d-ticket-phone-next-day").await?;
        wait_for(&phone, "[data-rating='dissatisfied']")
            .await?
            .click()
            .await?;
        wait_for(&phone, "#callback-phone")
            .await?
            .send_keys("13900139000")
            .await?;
        shot(&phone, &shots, "15e-ticket-phone-callback").await?;
        phone
            .find(By::Css("[data-reason='waiting']"))
            .await?
            .click()
            .await?;
        wait_text(&phone, "#rated", "感谢您的评价").await?;
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    }
    .await;
    if outcome.is_err() {
        let _ = shot(&phone, &shots, "failed-late-phone").await;
    }
    phone.quit().await?;
    outcome?;
    let cases: jiaohao_wire::CaseList = hub
        .admin
        .send(hub.admin.request(reqwest::Method::GET, "/api/cases"))
        .await
        .map_err(|e| format!("the cases: {e}"))?
        .ok_or("no cases")?;
    let case = cases.cases.first().ok_or("no case opened")?;
    if (case.date.as_str(), case.callback_phone.as_deref()) != ("2026-11-30", Some("13900139000")) {
        return Err(format!("the case of the late rating: {case:?}").into());
    }
    hub.stop().await;
    Ok(())
}

async fn a_ticket_from_assignment_to_audit(shots: PathBuf) -> Result {
    let hub = TestHub::start().await;
    hub.add_user("li", Role::Admin);
    hub.add_user("zhang", Role::Clerk);
    let base = hub.url();
    // Window 3 starts without the ID-card service; the admin gives it.
    hub.admin
        .set_window_services(3, &["hukou"])
        .await
        .map_err(|e| format!("setting up window 3: {e}"))?;
    let driver = Driver::start()?;
    driver.ready().await?;
    // First a citizen books exit-entry on a phone, from the service to the booking code.
    let phone = driver.browser("book", 390, 844).await?;
    let outcome = booking_page(&phone, &hub, &base, &shots).await;
    if outcome.is_err() {
        let _ = shot(&phone, &shots, "failed-book").await;
    }
    phone.quit().await?;
    outcome?;

    let browser = driver.browser("desk", 1920, 1080).await?;
    let outcome = desk(&driver, &browser, &hub, &base, &shots).await;
    if outcome.is_err() {
        let _ = shot(&browser, &shots, "failed-desk").await;
    }
    browser.quit().await?;
    outcome?;

    // The citizen's phone: a second ticket, watched at a phone's size until it is called.
    let phone = driver.browser("phone", 390, 844).await?;
    let outcome = phone_page(&phone, &hub, &base, &shots).await;
    if outcome.is_err() {
        let _ = shot(&phone, &shots, "failed-phone").await;
    }
    phone.quit().await?;
    outcome?;

    // The load-balancing advice on the live hall, applied with one click.
    let browser = driver.browser("advice", 1920, 1080).await?;
    let outcome = advice_panel(&browser, &hub, &base, &shots).await;
    if outcome.is_err() {
        let _ = shot(&browser, &shots, "failed-advice").await;
    }
    browser.quit().await?;
    outcome?;
    hub.stop().await;

    // A primary with --sync-standby and no standby runs alone after its first change, and the
    // admin console says so.
    let lone = TestHub::start_with(|config| {
        config.sync_standby = Some(Duration::from_millis(200));
    })
    .await;
    lone.add_user("li", Role::Admin);
    lone.issue("hukou").await;
    let browser = driver.browser("alone", 1920, 1080).await?;
    let outcome = async {
        sign_in(&browser, &lone.url(), "/admin", "li", None).await?;
        wait_text(&browser, "#hubstate", "单独运行").await?;
        shot(&browser, &shots, "admin-alone").await
    }
    .await;
    if outcome.is_err() {
        let _ = shot(&browser, &shots, "failed-alone").await;
    }
    browser.quit().await?;
    outcome?;
    lone.stop().await;
    Ok(())
}

async fn desk(
    driver: &Driver,
    browser: &WebDriver,
    hub: &TestHub,
    base: &str,
    shots: &Path,
) -> Result {
    // The admin signs in; the console's live hall shows.
    browser.goto(format!("{base}/admin")).await?;
    wait_for(browser, "#sign-in").await?;
    shot(browser, shots, "01-login").await?;
    sign_in(browser, base, "/login?next=/admin", "li", None).await?;
    wait_for(browser, "#live-services tr[data-service='id_card']").await?;
    shot(browser, shots, "02-admin-live-hall").await?;

    // The assignment editor: window 3 gets 身份证 (id_card).
    browser
        .find(By::Css("button[data-tab='windows']"))
        .await?
        .click()
        .await?;
    wait_for(browser, "#add-3").await?;
    select(browser, "#add-3", "id_card").await?;
    wait_for(browser, "#chips-3 [data-service='id_card']").await?;
    wait_enabled(browser, "#save-3").await?.click().await?;
    wait_text(browser, ".toasts", "3 号窗口").await?;
    let services = hub.hall().await.windows[2].services.clone();
    if services != ["hukou", "id_card"] {
        return Err(format!("window 3 serves {services:?} after the editor saved").into());
    }
    wait_text(browser, "tr[data-window='3'] td:last-child", "li").await?;
    shot(browser, shots, "03-admin-windows-assignment").await?;

    // An ID-card ticket from the kiosk, over the API.
    let ticket = hub.issue("id_card").await;
    if ticket.number != "B001" {
        return Err(format!("the ticket is {}", ticket.number).into());
    }
    hub.clock.advance(SignedDuration::from_mins(6));

    // The clerk signs in at window 3, opens it, calls (key 1) and finishes (key 4).
    browser
        .find(By::Css("[data-action='logout']"))
        .await?
        .click()
        .await?;
    wait_for(browser, "#sign-in").await?;
    sign_in(browser, base, "/login", "zhang", Some("3")).await?;
    wait_text(browser, "#who", "zhang").await?;
    wait_enabled(browser, "#open").await?.click().await?;
    wait_enabled(browser, "#call-next").await?;
    press(browser, "1").await?;
    wait_text(browser, "#current-number", "B001").await?;
    // Nine minutes into a 10-minute target: the timer turns amber. A second ticket (for the
    // phone) makes the page look again and see the hub's new time.
    hub.clock.advance(SignedDuration::from_mins(9));
    let second = hub.issue("id_card").await;
    wait_text(browser, "#queue", "B002").await?;
    wait_text(browser, "#timer", "09:").await?;
    let class = browser
        .find(By::Id("timer"))
        .await?
        .attr("class")
        .await?
        .unwrap_or_default();
    if !class.contains("amber") {
        return Err(format!("the timer is '{class}', not amber, at 9 of 10 minutes").into());
    }
    shot(browser, shots, "04-counter-serving").await?;
    browser
        .find(By::Css("[data-action='lang']"))
        .await?
        .click()
        .await?;
    wait_text(browser, "#call-next", "Call next").await?;
    shot(browser, shots, "05-counter-english").await?;
    browser
        .find(By::Css("[data-action='lang']"))
        .await?
        .click()
        .await?;
    browser.find(By::Id("pause")).await?; // present
    // Finish (key 4) asks how the visit ended with one more key: 2, documents missing
    // (补正), then the missing document is ticked from the service's list.
    press(browser, "4").await?;
    wait_for(browser, "[data-outcome='documents_missing']").await?;
    shot(browser, shots, "06a-counter-outcome").await?;
    press(browser, "2").await?;
    wait_for(browser, "input[data-doc='1']")
        .await?
        .click()
        .await?;
    shot(browser, shots, "06b-counter-documents-missing").await?;
    browser.find(By::Id("dialog-ok")).await?.click().await?;
    wait_text(browser, "#current", "请点“叫号”").await?;
    shot(browser, shots, "06-counter-after-finish").await?;
    // A pause (key 6) and a close ask why: a class, with optional words typed first.
    press(browser, "6").await?;
    wait_for(browser, "#reason-note")
        .await?
        .send_keys("新系统")
        .await?;
    shot(browser, shots, "06c-counter-pause-reason").await?;
    browser
        .find(By::Css("[data-reason='training']"))
        .await?
        .click()
        .await?;
    wait_text(browser, "#state", "培训：新系统").await?;
    press(browser, "6").await?;
    // Resumed before the close is asked for (a close sent first would race the resume).
    wait_text(browser, "#state", "空闲").await?;
    wait_enabled(browser, "#close").await?.click().await?;
    wait_for(browser, "[data-reason='off_duty']")
        .await?
        .click()
        .await?;
    wait_text(browser, "#state", "未开放").await?;
    wait_enabled(browser, "#open").await?.click().await?;
    wait_enabled(browser, "#call-next").await?;

    // The rating pad of window 3 (paired by a code, as the console shows one): 不满意,
    // because of the wait.
    let code: jiaohao_wire::PairingCode = hub
        .admin
        .send(
            hub.admin
                .request(reqwest::Method::POST, "/api/windows/3/pairing"),
        )
        .await
        .map_err(|e| format!("a pairing code: {e}"))?
        .ok_or("no pairing code")?;
    let pad = driver.browser("pad3", 1280, 800).await?;
    let outcome = rate_on_pad(&pad, base, &code.code, shots).await;
    if outcome.is_err() {
        let _ = shot(&pad, shots, "failed-pad").await;
    }
    pad.quit().await?;
    outcome?;

    // The admin finds it all in the report and the audit log.
    sign_in(browser, base, "/login?next=%2Fadmin%23reports", "li", None).await?;
    let window_row = wait_for(browser, "#report-windows tr[data-key='3']").await?;
    let text = window_row.text().await?;
    if !text.contains("3号窗口") {
        return Err(format!("the report's window 3 row reads '{text}'").into());
    }
    wait_for(browser, "#report-clerks tr[data-key='clerk:zhang']").await?;
    let report: jiaohao_wire::Report = hub
        .sign_in("li", None)
        .await
        .get("/api/reports")
        .await
        .json();
    let row = report
        .windows
        .iter()
        .find(|r| r.key == "3")
        .ok_or("no window 3 in the report")?;
    if (row.called, row.served, row.ratings.dissatisfied) != (1, 1, 1) {
        return Err(format!("window 3's report row is {row:?}").into());
    }
    wait_text(browser, "#report-ranking tr[data-window='3']", "0%").await?;
    shot(browser, shots, "10-admin-reports").await?;
    cases_tab(browser, shots).await?;
    browser
        .find(By::Css("button[data-tab='audit']"))
        .await?
        .click()
        .await?;
    wait_for(browser, "#audit-number").await?;
    browser
        .find(By::Id("audit-number"))
        .await?
        .send_keys("B001")
        .await?;
    browser.find(By::Id("audit-run")).await?.click().await?;
    for kind in [
        "ticket_issued",
        "ticket_called",
        "ticket_finished",
        "ticket_rated",
    ] {
        wait_for(browser, &format!("#audit-table tr[data-kind='{kind}']")).await?;
    }
    wait_text(
        browser,
        "#audit-table tr[data-kind='ticket_called']",
        "zhang",
    )
    .await?;
    wait_text(
        browser,
        "#audit-table tr[data-kind='ticket_rated']",
        "不满意",
    )
    .await?;
    shot(browser, shots, "11-admin-audit-B001").await?;
    browser.find(By::Id("audit-number")).await?.clear().await?;
    browser.find(By::Id("audit-flagged")).await?.click().await?;
    browser.find(By::Id("audit-run")).await?.click().await?;
    wait_text(
        browser,
        "#audit-table tr.flag-config[data-kind='window_defined']",
        "li",
    )
    .await?;
    shot(browser, shots, "12-admin-audit-configuration").await?;
    // The report names the document found missing at the counter (补正).
    browser
        .find(By::Css("button[data-tab='reports']"))
        .await?
        .click()
        .await?;
    wait_text(browser, "#report-missing tr[data-service='id_card']", "1").await?;
    // The case of that 差评, called back, fixed and closed in time, counts in the report.
    wait_text(browser, "#report-cases tr[data-window='all']", "100%").await?;
    wait_text(browser, "#report-cases tr[data-window='3']", "100%").await?;
    browser
        .execute(
            "document.getElementById('report-cases').scrollIntoView()",
            Vec::new(),
        )
        .await?;
    shot(browser, shots, "10e-admin-report-cases").await?;
    // A ticket handled past its service's time limit is listed live (超时办理): window 2
    // calls a household ticket and 16 minutes pass (its limit is 15).
    hub.admin
        .window_action(2, "open")
        .await
        .map_err(|e| format!("opening window 2: {e}"))?;
    hub.issue("hukou").await;
    hub.admin
        .call_next(2)
        .await
        .map_err(|e| format!("calling at window 2: {e}"))?;
    hub.clock.advance(SignedDuration::from_mins(16));
    hub.issue("exit_entry").await;
    browser
        .find(By::Css("button[data-tab='live']"))
        .await?
        .click()
        .await?;
    wait_text(browser, "#over-limit tr[data-window='2']", "16").await?;
    shot(browser, shots, "12b-admin-over-limit").await?;
    hub.admin
        .ticket_action(2, "finish")
        .await
        .map_err(|e| format!("finishing at window 2: {e}"))?;
    for tab in ["services", "notices", "calendar", "people", "bookings"] {
        browser
            .find(By::Css(format!("button[data-tab='{tab}']")))
            .await?
            .click()
            .await?;
        wait_for(browser, &format!("#tab-{tab} h2")).await?;
        if tab == "bookings" {
            // The booking the phone made, its ID number masked.
            wait_for(browser, "#booking-settings [data-book-service=exit_entry]").await?;
            select(browser, "#booking-date", "2026-11-24").await?;
            wait_text(browser, "#booking-list", "1101**********002X").await?;
        }
        shot(browser, shots, &format!("13-admin-{tab}")).await?;
    }
    // The rota (排班) sits under the calendar: window 3 on Mondays, saved from the grid.
    browser
        .find(By::Css("button[data-tab='calendar']"))
        .await?
        .click()
        .await?;
    wait_for(browser, "#rota-3-monday")
        .await?
        .send_keys("08:30-12:00, 13:30-17:30")
        .await?;
    shot(browser, shots, "13b-admin-rota").await?;
    browser.find(By::Id("save-rota")).await?.click().await?;
    wait_text(browser, ".toasts", "排班已保存").await?;
    let rota: jiaohao_wire::Rota = hub.sign_in("li", None).await.get("/api/rota").await.json();
    if rota.shifts.len() != 2 || rota.shifts[0].window != 3 {
        return Err(format!("the rota saved is {rota:?}").into());
    }
    // Keep the second ticket's token for the phone.
    std::fs::write(shots.join(".phone-token"), &second.token)?;
    Ok(())
}

/// The 差评工单 tab: the case of the tablet's bad rating, with the phone left for it, called
/// back, fixed and closed.
async fn cases_tab(browser: &WebDriver, shots: &Path) -> Result {
    browser
        .find(By::Css("button[data-tab='cases']"))
        .await?
        .click()
        .await?;
    let row = wait_text(browser, "#case-list tr[data-case]", "B001").await?;
    let text = row.text().await?;
    for expected in ["待回访", "13800138000", "不满意"] {
        if !text.contains(expected) {
            return Err(format!("the case row reads '{text}', without '{expected}'").into());
        }
    }
    shot(browser, shots, "10b-admin-cases").await?;
    wait_for(browser, "[data-open-case]").await?.click().await?;
    wait_for(browser, "#case-text")
        .await?
        .send_keys("已电话回访，向群众致歉并说明高峰时段等候原因")
        .await?;
    shot(browser, shots, "10c-admin-case-detail").await?;
    browser.find(By::Id("case-callback")).await?.click().await?;
    wait_text(browser, "#case-list tr[data-case]", "已回访").await?;
    wait_for(browser, "#case-fix").await?;
    browser
        .find(By::Id("case-text"))
        .await?
        .send_keys("高峰时段增开 2 号窗口办理户籍业务")
        .await?;
    browser.find(By::Id("case-fix")).await?.click().await?;
    wait_text(browser, "#case-list tr[data-case]", "已整改").await?;
    wait_enabled(browser, "#case-close").await?.click().await?;
    wait_text(browser, "#case-list tr[data-case]", "已办结").await?;
    wait_text(browser, "#case-detail", "高峰时段增开").await?;
    shot(browser, shots, "10d-admin-case-closed").await?;
    browser
        .find(By::Css("button[data-tab='reports']"))
        .await?
        .click()
        .await?;
    Ok(())
}

async fn phone_page(phone: &WebDriver, hub: &TestHub, base: &str, shots: &Path) -> Result {
    let token = std::fs::read_to_string(shots.join(".phone-token"))?;
    let _ = std::fs::remove_file(shots.join(".phone-token"));
    phone.goto(format!("{base}/t/{token}")).await?;
    wait_text(phone, "#number", "B002").await?;
    wait_text(phone, "#waiting", "前面还有 0 人").await?;
    shot(phone, shots, "14-ticket-phone-waiting").await?;
    let called = hub.call_next(3).await;
    if called.number != "B002" {
        return Err(format!("window 3 called {}", called.number).into());
    }
    wait_text(phone, "#your-turn", "请到 3 号窗口").await?;
    shot(phone, shots, "15-ticket-phone-called").await?;
    // Finished: the phone may rate it once (一次一评).
    hub.admin
        .ticket_action(3, "finish")
        .await
        .map_err(|e| format!("finishing B002: {e}"))?;
    wait_for(phone, "[data-rating='satisfied']").await?;
    shot(phone, shots, "15b-ticket-phone-rate").await?;
    phone
        .find(By::Css("[data-rating='satisfied']"))
        .await?
        .click()
        .await?;
    wait_text(phone, "#rated", "感谢您的评价").await?;
    shot(phone, shots, "15c-ticket-phone-rated").await?;
    Ok(())
}

/// Vehicle tickets pile up at window 7, the only window serving them, while windows 1 and 3
/// (household registration and ID cards) have nothing waiting: the admin console advises
/// window 3 to also take vehicles (window 1 keeps its two services within their targets), and
/// one click applies it.
async fn advice_panel(browser: &WebDriver, hub: &TestHub, base: &str, shots: &Path) -> Result {
    for window in [1, 7] {
        hub.admin
            .window_action(window, "open")
            .await
            .map_err(|e| format!("opening window {window}: {e}"))?;
    }
    for _ in 0..10 {
        hub.issue("vehicle").await;
    }
    browser.goto(format!("{base}/admin")).await?;
    wait_for(browser, "#sign-in").await?;
    sign_in(browser, base, "/login?next=/admin", "li", None).await?;
    let suggestion = "#advice li[data-window='3'][data-service='vehicle']";
    wait_text(browser, suggestion, "3号窗口增办").await?;
    shot(browser, shots, "16-admin-advice").await?;
    wait_enabled(
        browser,
        "#advice button[data-window='3'][data-service='vehicle']",
    )
    .await?
    .click()
    .await?;
    wait_text(browser, ".toasts", "3号窗口已增办").await?;
    let services = hub.hall().await.windows[2].services.clone();
    if !services.iter().any(|s| s == "vehicle")
        || services.first().map(String::as_str) != Some("hukou")
    {
        return Err(format!("window 3 serves {services:?} after applying the advice").into());
    }
    // Applied advice is not offered again.
    let deadline = Instant::now() + PAGE_WAIT;
    while !browser.find_all(By::Css(suggestion)).await?.is_empty() {
        if Instant::now() > deadline {
            return Err("the applied suggestion is still offered".into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    shot(browser, shots, "17-admin-advice-applied").await?;
    Ok(())
}

/// The phone booking page: service, day, slot, who (a wrong check character said at once),
/// the SMS code from the hub's SMS sink, and the booking code with its QR code.
async fn booking_page(phone: &WebDriver, hub: &TestHub, base: &str, shots: &Path) -> Result {
    let reply = support::send_json(
        &hub.admin,
        reqwest::Method::PUT,
        "/api/services/exit_entry/booking",
        json!({"slot_min": 30, "share_pct": 30}),
    )
    .await;
    if reply.status != 200 {
        return Err(format!("booking settings: {reply:?}").into());
    }
    phone.goto(format!("{base}/book")).await?;
    wait_for(phone, "[data-service=exit_entry]").await?;
    shot(phone, shots, "20-book-service").await?;
    phone
        .find(By::Css("[data-service=exit_entry]"))
        .await?
        .click()
        .await?;
    wait_for(phone, "[data-day='2026-11-24']").await?;
    shot(phone, shots, "21-book-day").await?;
    phone
        .find(By::Css("[data-day='2026-11-24']"))
        .await?
        .click()
        .await?;
    wait_text(phone, "[data-slot='09:00']", "剩余").await?;
    shot(phone, shots, "22-book-slot").await?;
    phone
        .find(By::Css("[data-slot='09:00']"))
        .await?
        .click()
        .await?;
    wait_for(phone, "#id-number").await?;
    phone.find(By::Id("name")).await?.send_keys("张三").await?;
    let id = phone.find(By::Id("id-number")).await?;
    id.send_keys("110105194912310021").await?;
    wait_text(phone, "#id-note", "校验位不对").await?;
    id.clear().await?;
    id.send_keys("11010519491231002X").await?;
    wait_text(phone, "#id-note", "号码格式正确").await?;
    phone
        .find(By::Id("phone"))
        .await?
        .send_keys("13800138000")
        .await?;
    shot(phone, shots, "23-book-who").await?;
    phone.find(By::Id("send")).await?.click().await?;
    wait_for(phone, "#sms-code").await?;
    let code = hub
        .sms_code("13800138000")
        .ok_or("no SMS code was sent to 13800138000")?;
    phone
        .find(By::Id("sms-code"))
        .await?
        .send_keys(&code)
        .await?;
    shot(phone, shots, "24-book-code").await?;
    phone.find(By::Id("verify")).await?.click().await?;
    wait_for(phone, "#booking-code").await?;
    wait_text(phone, "#slot", "2026-11-24 09:00").await?;
    wait_for(phone, "#ics").await?;
    shot(phone, shots, "25-book-done").await?;

    // Cancelled from the same page (the browser's confirm accepted): the page says so and
    // the hub lists the booking as cancelled, its place free again.
    let booking = phone.find(By::Id("booking-code")).await?.text().await?;
    phone.find(By::Id("cancel")).await?.click().await?;
    let asked = phone.get_alert_text().await?;
    if !asked.contains("取消") {
        return Err(format!("the cancel asks '{asked}'").into());
    }
    phone.accept_alert().await?;
    wait_text(phone, ".ended", "已取消").await?;
    wait_text(phone, "#book-again", "重新预约").await?;
    shot(phone, shots, "26-book-cancelled").await?;
    let listed = support::send(hub.admin.request(
        reqwest::Method::GET,
        "/api/bookings?date=2026-11-24&service=exit_entry",
    ))
    .await;
    let listed: serde_json::Value = serde_json::from_str(&listed.body)?;
    let status = listed
        .as_array()
        .and_then(|all| all.iter().find(|b| b["code"] == json!(booking.trim())))
        .map(|b| b["status"].clone());
    if status != Some(json!("cancelled")) {
        return Err(format!("booking {booking} is listed as {status:?}: {listed}").into());
    }
    Ok(())
}
