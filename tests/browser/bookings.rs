//! The admin console's bookings (预约): the no-show list (people who missed verified bookings,
//! masked, the barred first), the booking rules changed on the console, and the reports'
//! booked / walk-in split with the booking no-show rate.

use std::path::Path;

use jiaohao_core::identity::check_character;
use jiaohao_store::Role;
use reqwest::Method;
use serde_json::json;
use thirtyfour::prelude::*;

use super::support::{TestHub, send, send_json};
use super::{Driver, Result, select, shot, sign_in, wait_for, wait_text};

/// A valid ID number, different for each `n` below 1000.
fn id_number(n: u32) -> String {
    let first17 = format!("11010519900{:01}{:02}{:03}", 1 + n % 9, 1 + n % 28, n);
    let check = char::from(check_character(first17.as_bytes()));
    format!("{first17}{check}")
}

/// Person `n` books exit-entry on `date` at `start` and verifies it; the booking's code.
async fn booked(hub: &TestHub, n: u32, date: &str, start: &str) -> Result<String> {
    let phone = format!("138{n:08}");
    let reply = send_json(
        &hub.public,
        Method::POST,
        "/api/bookings",
        json!({"service": "exit_entry", "date": date, "start": start, "name": "张三",
            "id_number": id_number(n), "phone": phone}),
    )
    .await;
    if reply.status != 201 {
        return Err(format!("booking: {reply:?}").into());
    }
    let created: jiaohao_wire::BookingCreated = reply.json();
    let sms = hub.sms_code(&phone).ok_or("no SMS code was sent")?;
    let reply = send_json(
        &hub.public,
        Method::POST,
        &format!("/api/bookings/{}/verify", created.code),
        json!({"sms_code": sms}),
    )
    .await;
    if reply.status != 200 {
        return Err(format!("verifying: {reply:?}").into());
    }
    Ok(created.code)
}

pub async fn bookings_console(shots: &Path, driver: &Driver) -> Result {
    let hub = TestHub::start().await;
    hub.add_user("li", Role::Admin);
    let base = hub.url();
    let reply = send_json(
        &hub.admin,
        Method::PUT,
        "/api/services/exit_entry/booking",
        json!({"slot_min": 30, "capacities": vec![2; 16]}),
    )
    .await;
    if reply.status != 200 {
        return Err(format!("booking settings: {reply:?}").into());
    }
    // Person 7 books Tuesday to Thursday and never comes; person 8 books Thursday 09:30.
    for date in ["2026-11-24", "2026-11-25", "2026-11-26"] {
        booked(&hub, 7, date, "09:00").await?;
    }
    let code = booked(&hub, 8, "2026-11-26", "09:30").await?;
    // Thursday: person 8 checks in at 09:05 (queued from 09:30), a walk-in comes at 09:05.
    hub.set_time("2026-11-26T09:05:00+08:00");
    let reply = send(
        hub.kiosk
            .request(Method::POST, &format!("/api/bookings/{code}/check-in")),
    )
    .await;
    if reply.status != 201 {
        return Err(format!("check-in: {reply:?}").into());
    }
    hub.issue("exit_entry").await;
    hub.open(2).await;
    let first = hub.call_next(2).await;
    hub.admin
        .ticket_action(2, "finish")
        .await
        .map_err(|e| format!("finishing: {e}"))?;
    // The booking is called at 09:40: a 10-minute wait from its slot's start.
    hub.set_time("2026-11-26T09:40:00+08:00");
    let second = hub.call_next(2).await;
    if (first.number.as_str(), second.number.as_str()) != ("E002", "E001") {
        return Err(format!("called {} then {}", first.number, second.number).into());
    }
    hub.set_time("2026-11-26T09:50:00+08:00");

    let browser = driver.browser("bookings", 1920, 1080).await?;
    let outcome = async {
        browser.goto(format!("{base}/admin")).await?;
        wait_for(&browser, "#sign-in").await?;
        sign_in(&browser, &base, "/login?next=/admin", "li", None).await?;
        wait_for(&browser, "button[data-tab='bookings']")
            .await?
            .click()
            .await?;
        let masked = format!("{}**********{}", &id_number(7)[..4], &id_number(7)[14..]);
        let row = wait_text(&browser, "#no-show-list tr[data-barred='yes']", &masked).await?;
        let text = row.text().await?;
        if !text.contains("2026-12-26") || !text.contains('3') {
            return Err(format!("the no-show row says '{text}'").into());
        }
        let page = browser.source().await?;
        if page.contains(&id_number(7)) {
            return Err("an ID number in clear on the page".into());
        }
        browser
            .execute(
                "document.querySelector('#no-show-list').scrollIntoView()",
                vec![],
            )
            .await?;
        shot(&browser, shots, "18-admin-no-show-list").await?;
        // The booking rules are shown and changed here: two misses bar for 10 days.
        wait_text(&browser, "#no-show-rule", "180 天内未到 3 次").await?;
        for (rule, value) in [("misses_to_bar", "2"), ("bar_days", "10")] {
            let input = wait_for(&browser, &format!("#booking-rule-{rule}")).await?;
            input.clear().await?;
            input.send_keys(value).await?;
        }
        browser
            .find(By::Css("#booking-rules-save"))
            .await?
            .click()
            .await?;
        wait_text(
            &browser,
            "#no-show-rule",
            "180 天内未到 2 次，10 天内不能预约",
        )
        .await?;
        let settings: jiaohao_wire::HallSettings =
            send(hub.public.request(Method::GET, "/api/hall/settings"))
                .await
                .json();
        let rules = settings
            .booking_rules
            .ok_or("no booking rules in the settings")?;
        if (rules.misses_to_bar, rules.bar_days, rules.lapse_min) != (2, 10, 10) {
            return Err(format!("the console saved {rules:?}").into());
        }
        browser
            .execute(
                "document.querySelector('#booking-rules').scrollIntoView()",
                vec![],
            )
            .await?;
        shot(&browser, shots, "18b-admin-booking-rules").await?;
        browser
            .find(By::Css("button[data-tab='reports']"))
            .await?
            .click()
            .await?;
        wait_text(&browser, "#report-arrivals tr[data-key='booked']", "10").await?;
        wait_text(&browser, "#report-arrivals tr[data-key='walk_in']", "1").await?;
        // Thursday's verified bookings: person 8 came, person 7 did not.
        wait_text(&browser, "#report-booking-no-show", "50%").await?;
        browser
            .execute(
                "document.querySelector('#report-arrivals').scrollIntoView()",
                vec![],
            )
            .await?;
        shot(&browser, shots, "19-admin-report-booked-walk-in").await?;
        Ok(())
    }
    .await;
    if outcome.is_err() {
        let _ = shot(&browser, shots, "failed-bookings").await;
    }
    browser.quit().await?;
    hub.stop().await;
    outcome
}

/// Types `value` into the input `css`, replacing what it held, as an admin does.
async fn retype(browser: &WebDriver, css: &str, value: &str) -> Result {
    let input = wait_for(browser, css).await?;
    input.clear().await?;
    input.send_keys(value).await?;
    Ok(())
}

/// Waits until `check` holds of the hub's answer at `path` (the console saves asynchronously).
async fn wait_saved(
    hub: &TestHub,
    path: &str,
    check: impl Fn(&serde_json::Value) -> bool,
) -> Result<serde_json::Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let value: serde_json::Value = send(hub.admin.request(Method::GET, path)).await.json();
        if check(&value) {
            return Ok(value);
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("{path} never showed the saved change: {value}").into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The console's service form keeps "ID required" through a save, and its booking settings
/// edit every setting: per-slot places in a grid, the cut-off and the check-in window, the
/// hall's default share; the day's bookings link to their CSV.
pub async fn booking_settings_console(shots: &Path, driver: &Driver) -> Result {
    let hub = TestHub::start().await;
    hub.add_user("li", Role::Admin);
    let base = hub.url();
    let code = booked(&hub, 9, "2026-11-24", "09:00").await?;
    let browser = driver.browser("booking-settings", 1920, 1080).await?;
    let outcome = async {
        sign_in(&browser, &base, "/login?next=/admin", "li", None).await?;
        wait_for(&browser, "button[data-tab='services']")
            .await?
            .click()
            .await?;
        // Household registration requires the ID card; saved once, then saved again after
        // another change: the checkbox and the hub keep it.
        for wait in ["30", "35"] {
            let edit = "#tab-services tbody tr:first-child button";
            wait_for(&browser, edit).await?.click().await?;
            let identity = wait_for(&browser, "#svc-identity").await?;
            if wait == "30" {
                if identity.is_selected().await? {
                    return Err("hukou starts without the ID requirement".into());
                }
                identity.click().await?;
            } else if !identity.is_selected().await? {
                return Err("the ID checkbox was not ticked when the form opened again".into());
            }
            retype(&browser, "#svc-wait", wait).await?;
            browser
                .find(By::Css("#service-editor button[type='submit']"))
                .await?
                .click()
                .await?;
            let wanted: u32 = wait.parse()?;
            wait_saved(&hub, "/api/services/hukou", |s| {
                s["wait_target_min"] == json!(wanted)
            })
            .await
            .and_then(|s| {
                if s["identity"] == json!("required") {
                    Ok(())
                } else {
                    Err(format!("the save dropped the ID requirement: {s}").into())
                }
            })?;
            wait_text(&browser, "#tab-services td[data-identity='hukou']", "必须").await?;
        }
        shot(&browser, shots, "22-admin-service-id-required").await?;

        // Bookings: exit-entry was seeded by the hall file (16 half-hour slots).
        wait_for(&browser, "button[data-tab='bookings']")
            .await?
            .click()
            .await?;
        wait_for(&browser, "button[data-book-service='exit_entry']")
            .await?
            .click()
            .await?;
        wait_for(&browser, "#bk-grid input[data-slot='16:00']").await?;
        let cells = browser.find_all(By::Css("#bk-grid input")).await?;
        if cells.len() != 16 {
            return Err(format!("{} slot cells, not 16", cells.len()).into());
        }
        retype(&browser, "#bk-grid input[data-slot='08:30']", "12").await?;
        retype(&browser, "#bk-grid input[data-slot='09:00']", "0").await?;
        retype(&browser, "#bk-checkin-before", "45").await?;
        retype(&browser, "#bk-checkin-after", "20").await?;
        wait_text(&browser, "#bk-total", "98").await?;
        browser
            .execute(
                "document.querySelector('#booking-form').scrollIntoView()",
                vec![],
            )
            .await?;
        shot(&browser, shots, "23-admin-booking-slot-grid").await?;
        browser.find(By::Id("bk-save")).await?.click().await?;
        let saved = wait_saved(&hub, "/api/services/exit_entry/booking", |s| {
            s["check_in_before_min"] == json!(45)
        })
        .await?;
        let capacities: Vec<u32> = serde_json::from_value(saved["capacities"].clone())?;
        // The seeded 50% of 200 over 16 slots: 7 for the first four, 6 after.
        let mut wanted = vec![7, 7, 7, 7];
        wanted.extend([6; 12]);
        wanted[0] = 12;
        wanted[1] = 0;
        if capacities != wanted
            || saved["check_in_after_min"] != json!(20)
            || saved["cancel_before_min"] != json!(120)
            || saved["days_ahead"] != json!(5)
            || saved["slot_min"] != json!(30)
        {
            return Err(format!("saved {saved}").into());
        }
        wait_text(
            &browser,
            "#booking-settings tr[data-service='exit_entry'] td.checkin",
            "45",
        )
        .await?;
        // The default share: vehicles off, the share set to 40%, vehicles on again get 40%
        // of 250 over 8 hourly slots.
        retype(&browser, "#booking-share", "40").await?;
        browser
            .find(By::Id("booking-share-save"))
            .await?
            .click()
            .await?;
        wait_saved(&hub, "/api/hall/settings", |s| {
            s["booking_share_pct"] == json!(40)
        })
        .await?;
        wait_for(&browser, "button[data-stop-booking='vehicle']")
            .await?
            .click()
            .await?;
        wait_text(
            &browser,
            "#booking-settings tr[data-service='vehicle']",
            "不接受预约",
        )
        .await?;
        wait_for(&browser, "button[data-book-service='vehicle']")
            .await?
            .click()
            .await?;
        wait_for(&browser, "#booking-form[data-service='vehicle']").await?;
        select(&browser, "#bk-slot", "60").await?;
        wait_text(&browser, "#bk-total", "100").await?;
        browser.find(By::Id("bk-save")).await?.click().await?;
        let vehicle = wait_saved(&hub, "/api/services/vehicle/booking", |s| {
            s["capacities"].as_array().is_some_and(|c| c.len() == 8)
        })
        .await?;
        let total: u64 = vehicle["capacities"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_u64())
            .sum();
        if total != 100 {
            return Err(format!("vehicles by 40%: {vehicle}").into());
        }
        // The table shows the saved settings (drawn anew after the save).
        wait_text(
            &browser,
            "#booking-settings tr[data-service='vehicle']",
            "60 min",
        )
        .await?;
        // The day's bookings and their CSV.
        browser
            .execute(
                "const d = document.querySelector('#booking-date'); d.value = '2026-11-24'; d.dispatchEvent(new Event('change'));",
                vec![],
            )
            .await?;
        wait_text(&browser, "#booking-list", &code).await?;
        let link = wait_for(&browser, "#booking-csv").await?;
        let href = link.attr("href").await?.unwrap_or_default();
        if href != "/api/bookings.csv?date=2026-11-24" {
            return Err(format!("the CSV link is '{href}'").into());
        }
        let csv: String = browser
            .execute(
                "return fetch(arguments[0]).then(r => r.text());",
                vec![json!(href)],
            )
            .await?
            .convert()?;
        if !csv.contains(",exit_entry,2026-11-24,09:00,09:30,verified,") || csv.contains(&id_number(9))
        {
            return Err(format!("the CSV says {csv}").into());
        }
        Ok(())
    }
    .await;
    if outcome.is_err() {
        let _ = shot(&browser, shots, "failed-booking-settings").await;
    }
    browser.quit().await?;
    hub.stop().await;
    outcome
}
