//! 预约签到 at the kiosk against a real hub: a citizen who booked types the ID number on the
//! keypad (shown masked but the last four) and gets the booking's ticket; a keyboard-mode card
//! reader's line on the welcome screen does the same; a refusal is said in words.

use egui_kittest::kittest::Queryable;
use jiaohao_kiosk::Screen;
use jiaohao_testkit::{send_json, six_digits};
use reqwest::Method;
use serde_json::json;

use crate::support::*;

/// Exit-entry takes bookings; `id` books Tuesday's slot at `start` and verifies it; the
/// booking's code.
pub(crate) fn booked(hub: &TestHub, id: &str, phone: &str, start: &str) -> String {
    hub.block_on(async {
        let reply = send_json(
            &hub.admin,
            Method::PUT,
            "/api/services/exit_entry/booking",
            json!({"slot_min": 30, "capacities": vec![2; 16]}),
        )
        .await;
        assert_eq!(reply.status, 200, "{reply:?}");
        let reply = send_json(
            &hub.public,
            Method::POST,
            "/api/bookings",
            json!({"service": "exit_entry", "date": "2026-11-24", "start": start, "name": "张三",
                "id_number": id, "phone": phone}),
        )
        .await;
        assert_eq!(reply.status, 201, "{reply:?}");
        let created: jiaohao_wire::BookingCreated = reply.json();
        let code = hub.sms_code(phone).expect("an SMS was sent");
        assert!(six_digits(&code).is_some());
        let reply = send_json(
            &hub.public,
            Method::POST,
            &format!("/api/bookings/{}/verify", created.code),
            json!({"sms_code": code}),
        )
        .await;
        assert_eq!(reply.status, 200, "{reply:?}");
        created.code
    })
}

#[test]
fn a_booked_citizen_types_the_id_number_and_gets_the_ticket() {
    let hub = TestHub::start();
    booked(&hub, "11010519491231002X", "13800138000", "09:00");
    // Tuesday 08:40: inside the check-in window of the 09:00 slot.
    hub.set_time("2026-11-24T08:40:00+08:00");
    let dir = tempfile::tempdir().unwrap();
    let slips = dir.path().join("slips.bin");
    let printer: jiaohao_kiosk::Sink = slips.display().to_string().parse().unwrap();
    let mut kiosk = kiosk(&hub, |options| options.printer = Some(printer));
    wait_for_label(&mut kiosk, "预约签到");
    pass(&mut kiosk, 0.6);
    tap(&mut kiosk, "预约签到");
    wait_for_label(&mut kiosk, "请刷身份证，或输入身份证号码、预约号");
    assert_eq!(kiosk.state().screen(), &Screen::CheckIn);
    for key in "11010519491231002X".chars() {
        tap(&mut kiosk, &key.to_string());
    }
    assert!(
        shows(&kiosk, "entry **************002X"),
        "the number is masked but its last four: {:?}",
        on_screen(&kiosk)
    );
    tap(&mut kiosk, "签到");
    wait_for_label(&mut kiosk, "E001");
    let Screen::Ticket(shown) = kiosk.state().screen() else {
        panic!("not on the ticket screen");
    };
    let booked = shown.booking.clone().expect("the ticket says it is booked");
    assert_eq!(booked.code.len(), 8);
    // The ticket screen and the slip say 预约 and the slot.
    assert!(shows(&kiosk, "预约 09:00–09:30"), "{:?}", on_screen(&kiosk));
    wait_for(
        &mut kiosk,
        "the slip",
        |k| matches!(k.state().screen(), Screen::Ticket(shown) if shown.print == jiaohao_kiosk::PrintState::Printed),
    );
    let printed = std::fs::read(&slips).unwrap();
    let (mark, _, _) = encoding_rs::GB18030.encode("【预约 09:00–09:30】");
    assert!(
        printed.windows(mark.len()).any(|w| w == &mark[..]),
        "the slip says 预约 and the slot"
    );
    let issued = kiosk.state().issued().to_vec();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].service, "exit_entry");
}

#[test]
fn a_keyboard_mode_reader_checks_in_from_the_welcome_screen() {
    let hub = TestHub::start();
    booked(&hub, "440524188001010014", "13900139000", "10:00");
    hub.set_time("2026-11-24T09:00:00+08:00");
    let mut kiosk = kiosk(&hub, |_| {});
    wait_for_welcome(&mut kiosk);
    // Too early: check-in opens at 09:30; the kiosk says so.
    kiosk.event(egui::Event::Text("440524188001010014".into()));
    kiosk.key_press(egui::Key::Enter);
    wait_for(&mut kiosk, "the refusal", |k| {
        on_screen(k).iter().any(|text| text.contains("09:30"))
    });
    assert_eq!(kiosk.state().screen(), &Screen::CheckIn);
    tap(&mut kiosk, "◀ 返回");
    wait_for_welcome(&mut kiosk);
    hub.set_time("2026-11-24T09:35:00+08:00");
    kiosk.event(egui::Event::Text("440524188001010014".into()));
    kiosk.key_press(egui::Key::Enter);
    wait_for_label(&mut kiosk, "E001");
}

/// A pseudo-terminal stands in for a serial reader: the kiosk reads the slave side as its
/// `--id-reader` device; the test writes card lines into the master side.
#[test]
fn a_serial_reader_on_a_pty_checks_in_and_garbage_is_said() {
    use std::io::Write;
    let hub = TestHub::start();
    booked(&hub, "11010519491231002X", "13800138000", "09:00");
    hub.set_time("2026-11-24T08:40:00+08:00");
    let (device, mut reader, slave) = pty_reader();
    let mut kiosk = kiosk(&hub, |options| options.id_reader = Some(device));
    wait_for_welcome(&mut kiosk);
    // Garbage first: the kiosk stays usable; on the check-in screen it says so.
    tap(&mut kiosk, "预约签到");
    reader.write_all(b"\x02#garbage#\r\n").unwrap();
    wait_for_label(&mut kiosk, "读卡失败，请重新刷卡或手动输入");
    tap(&mut kiosk, "1");
    assert!(shows(&kiosk, "entry 1"), "typed entry still works");
    reader.write_all(b"11010519491231002X\r\n").unwrap();
    wait_for_label(&mut kiosk, "E001");
    drop(slave);
}

/// In the elderly mode, a booking code is typed on the keypad's letter page and digit page
/// (large keys that still fit the screen), and checks the booking in.
#[test]
fn a_booking_code_is_typed_on_the_letter_page_in_the_elderly_mode() {
    let hub = TestHub::start();
    let code = booked(&hub, "11010519491231002X", "13800138000", "09:00");
    hub.set_time("2026-11-24T08:40:00+08:00");
    let mut kiosk = kiosk(&hub, |_| {});
    wait_for_welcome(&mut kiosk);
    tap(&mut kiosk, "长者模式");
    wait_for_label(&mut kiosk, "标准模式");
    tap(&mut kiosk, "预约签到");
    wait_for_label(&mut kiosk, "字母 ABC");
    let digit_key = kiosk.get_by_label("1").rect();
    tap(&mut kiosk, "字母 ABC");
    wait_for_label(&mut kiosk, "数字 123");
    // Every letter of a code, none that looks like a digit, each key large (at least 100 px,
    // some 2.5 cm on a 21.5-inch kiosk: the elderly mode's big text leaves four rows that
    // much) and on screen.
    for letter in "ABCDEFGHJKLMNPQRSTUVWXYZ".chars() {
        let rect = kiosk.get_by_label(&letter.to_string()).rect();
        assert!(rect.width() >= 100.0, "{letter}: {rect:?}");
        assert!(
            rect.right() <= 1920.0 && rect.bottom() <= 1080.0,
            "{letter}: {rect:?}"
        );
    }
    assert!(kiosk.query_by_label("I").is_none() && kiosk.query_by_label("O").is_none());
    assert!(kiosk.get_by_label("A").rect().width() >= digit_key.width() * 0.99);
    assert!(digit_key.bottom() <= 1080.0);
    let mut letters = true;
    for c in code.chars() {
        let wants_letters = c.is_ascii_alphabetic();
        if wants_letters != letters {
            tap(
                &mut kiosk,
                if wants_letters {
                    "字母 ABC"
                } else {
                    "数字 123"
                },
            );
            letters = wants_letters;
        }
        tap(&mut kiosk, &c.to_string());
    }
    let masked = format!("entry ****{}", &code[4..]);
    assert!(shows(&kiosk, &masked), "{masked}: {:?}", on_screen(&kiosk));
    // A wrong letter can be deleted on the letter page.
    if !letters {
        tap(&mut kiosk, "字母 ABC");
    }
    tap(&mut kiosk, "Z");
    let nine = format!("entry *****{}Z", &code[5..]);
    assert!(shows(&kiosk, &nine), "{nine}: {:?}", on_screen(&kiosk));
    tap(&mut kiosk, "删除");
    assert!(shows(&kiosk, &masked), "{:?}", on_screen(&kiosk));
    tap(&mut kiosk, "签到");
    wait_for_label(&mut kiosk, "E001");
    let Screen::Ticket(shown) = kiosk.state().screen() else {
        panic!("not on the ticket screen");
    };
    assert_eq!(
        shown.booking.as_ref().map(|b| b.code.as_str()),
        Some(code.as_str())
    );
    assert!(shows(&kiosk, "预约 09:00–09:30"), "{:?}", on_screen(&kiosk));
}
