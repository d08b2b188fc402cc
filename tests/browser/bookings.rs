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
use super::{Driver, Result, shot, sign_in, wait_for, wait_text};

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
        browser
            .find(By::Css("button[data-tab='bookings']"))
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
