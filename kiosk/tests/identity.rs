//! A service with `identity = "required"` at the kiosk against a real hub: the citizen picks
//! it, the kiosk asks for the ID number (typed on the keypad, a keyboard-mode reader's line, or
//! a card on the serial reader, here a pseudo-terminal), and takes the ticket with it. A second
//! request of the day reprints the first ticket and says so; a wrong check character shows the
//! hub's words and keeps the entry; `--green-channel-age` gives elderly walk-ins the green
//! channel; an unplugged reader is said while typing still works.

use std::io::Write;

use egui_kittest::kittest::Queryable;
use jiaohao_kiosk::{PrintState, Screen};
use jiaohao_testkit::{send, send_json};
use reqwest::Method;

use crate::support::*;

/// Born 1 January 1990: no green channel by age.
const YOUNG: &str = "110105199001010010";
/// The same with a wrong check character (`1` for `0`).
const YOUNG_MISTYPED: &str = "110105199001010011";
/// Born 31 December 1949: 76 on the test day, green by age at 70.
const ELDER: &str = "11010519491231002X";

/// The default hall with 户籍 (hukou) issuing tickets only with the ID number, and the green
/// channel by age from 70.
fn hub_with_identity() -> TestHub {
    let hub = TestHub::start_at_with(jiaohao_testkit::MORNING, |config| {
        config.green_channel_age = Some(70);
    });
    hub.block_on(async {
        let mut hukou: serde_json::Value =
            send(hub.admin.request(Method::GET, "/api/services/hukou"))
                .await
                .json();
        hukou["identity"] = serde_json::json!("required");
        let reply = send_json(&hub.admin, Method::PUT, "/api/services/hukou", hukou).await;
        assert_eq!(reply.status, 200, "{reply:?}");
    });
    hub
}

/// Taps 户籍 and one of its take buttons, and waits for the ID screen.
#[track_caller]
fn open_identify(kiosk: &mut Kiosk, take: &str) {
    tap(kiosk, "户籍");
    wait_for_label(kiosk, "本业务需凭身份证取号，每人每天一个号");
    tap(kiosk, take);
    wait_for_label(kiosk, "办理“户籍”请刷身份证，或输入身份证号码");
    assert!(
        matches!(kiosk.state().screen(), Screen::Identify { service, .. } if service == "hukou")
    );
}

fn shown(kiosk: &Kiosk) -> jiaohao_kiosk::Shown {
    match kiosk.state().screen() {
        Screen::Ticket(shown) => (**shown).clone(),
        other => panic!("not on the ticket screen but {other:?}"),
    }
}

#[test]
fn a_typed_id_takes_the_ticket_a_wrong_one_is_said_and_a_second_request_reprints() {
    let hub = hub_with_identity();
    let dir = tempfile::tempdir().unwrap();
    let slips = dir.path().join("slips.bin");
    let printer: jiaohao_kiosk::Sink = slips.display().to_string().parse().unwrap();
    let mut kiosk = kiosk(&hub, |options| options.printer = Some(printer));
    wait_for_welcome(&mut kiosk);
    open_identify(&mut kiosk, "取号");
    for key in YOUNG_MISTYPED.chars() {
        tap(&mut kiosk, &key.to_string());
    }
    assert!(
        shows(&kiosk, "entry **************0011"),
        "{:?}",
        on_screen(&kiosk)
    );
    tap(&mut kiosk, "取号");
    // The hub's words, on screen; the entry and the step are kept to be corrected.
    wait_for_label(&mut kiosk, "身份证号码校验位不对，请检查是否输错");
    assert!(
        shows(&kiosk, "entry **************0011"),
        "{:?}",
        on_screen(&kiosk)
    );
    assert!(matches!(kiosk.state().screen(), Screen::Identify { .. }));
    assert!(kiosk.state().issued().is_empty());
    tap(&mut kiosk, "删除");
    tap(&mut kiosk, "0");
    tap(&mut kiosk, "取号");
    wait_for_label(&mut kiosk, "A001");
    let first = shown(&kiosk);
    assert!(!first.ticket.reprint && !first.ticket.green_channel);
    assert!(!shows(&kiosk, "补打号票"));
    wait_for(
        &mut kiosk,
        "the first slip",
        |k| matches!(k.state().screen(), Screen::Ticket(s) if s.print == PrintState::Printed),
    );
    tap(&mut kiosk, "完成");
    wait_for_welcome(&mut kiosk);

    // The same person again, by a keyboard-mode reader's line on the service step: the first
    // ticket, said and printed as a reprint, and no second ticket.
    tap(&mut kiosk, "户籍");
    wait_for_label(&mut kiosk, "本业务需凭身份证取号，每人每天一个号");
    kiosk.event(egui::Event::Text(YOUNG.into()));
    kiosk.key_press(egui::Key::Enter);
    wait_for_label(&mut kiosk, "补打号票");
    let again = shown(&kiosk);
    assert!(again.ticket.reprint);
    assert_eq!(
        (again.ticket.number.as_str(), again.ticket.token.as_str()),
        ("A001", first.ticket.token.as_str())
    );
    assert!(shows(&kiosk, "您今天已取过该业务的号，号码不变"));
    wait_for(
        &mut kiosk,
        "the reprinted slip",
        |k| matches!(k.state().screen(), Screen::Ticket(s) if s.print == PrintState::Printed),
    );
    let printed = std::fs::read(&slips).unwrap();
    let (mark, _, _) = encoding_rs::GB18030.encode("【补打号票】");
    let marks = printed
        .windows(mark.len())
        .filter(|w| *w == &mark[..])
        .count();
    assert_eq!(marks, 1, "only the second slip says 补打号票");
    assert_eq!(hub.issued_today("hukou"), 1);
}

/// The card on the serial reader (a pty): on the ID screen it takes the ticket with no tap,
/// and the green channel comes by age; on the service step it does the same (a reprint now).
#[test]
fn a_card_on_the_serial_reader_takes_the_ticket_and_the_elderly_get_the_green_channel() {
    let hub = hub_with_identity();
    let (device, mut reader, slave) = pty_reader();
    let mut kiosk = kiosk(&hub, |options| options.id_reader = Some(device));
    wait_for_welcome(&mut kiosk);
    open_identify(&mut kiosk, "取号");
    // Garbage is said; the screen stays usable.
    reader.write_all(b"\x02#garbage#\r\n").unwrap();
    wait_for_label(&mut kiosk, "读卡失败，请重新刷卡或手动输入");
    reader
        .write_all(format!("{}\r\n", ELDER.to_lowercase()).as_bytes())
        .unwrap();
    wait_for_label(&mut kiosk, "A001");
    let first = shown(&kiosk);
    assert!(
        first.ticket.green_channel,
        "76 years old: the green channel without asking"
    );
    assert!(shows(&kiosk, "绿色通道"), "{:?}", on_screen(&kiosk));
    tap(&mut kiosk, "完成");
    wait_for_welcome(&mut kiosk);
    tap(&mut kiosk, "户籍");
    wait_for_label(&mut kiosk, "本业务需凭身份证取号，每人每天一个号");
    reader.write_all(format!("{ELDER}\r\n").as_bytes()).unwrap();
    wait_for_label(&mut kiosk, "补打号票");
    let again = shown(&kiosk);
    assert_eq!(again.ticket.token, first.ticket.token);
    // A younger walk-in of the same service gets a normal ticket, behind the green one.
    tap(&mut kiosk, "完成");
    wait_for_welcome(&mut kiosk);
    tap(&mut kiosk, "户籍");
    wait_for_label(&mut kiosk, "本业务需凭身份证取号，每人每天一个号");
    reader.write_all(format!("{YOUNG}\r\n").as_bytes()).unwrap();
    wait_for_label(&mut kiosk, "A002");
    assert!(!shown(&kiosk).ticket.green_channel);
    drop(slave);
}

/// In the elderly mode the ID keypad's keys stay large and on screen, and the green-channel
/// choice made on the service step is kept.
#[test]
fn the_elderly_mode_keypad_takes_a_green_channel_ticket() {
    let hub = hub_with_identity();
    let mut kiosk = kiosk(&hub, |_| {});
    wait_for_welcome(&mut kiosk);
    tap(&mut kiosk, "长者模式");
    wait_for_label(&mut kiosk, "标准模式");
    open_identify(&mut kiosk, "绿色通道取号");
    assert!(
        shows(&kiosk, "绿色通道取号"),
        "the submit says which ticket"
    );
    assert!(
        kiosk.query_by_label("字母 ABC").is_none(),
        "an ID number has no letters but X"
    );
    for key in ["1", "5", "9", "X", "0", "删除"] {
        let rect = kiosk.get_by_label(key).rect();
        assert!(
            rect.width() >= 120.0 && rect.height() >= 120.0,
            "{key}: {rect:?}"
        );
        assert!(
            rect.right() <= 1920.0 && rect.bottom() <= 1080.0,
            "{key}: {rect:?}"
        );
    }
    let submit = kiosk.get_by_label("绿色通道取号").rect();
    assert!(
        submit.right() <= 1920.0 && submit.bottom() <= 1080.0,
        "{submit:?}"
    );
    for key in YOUNG.chars() {
        tap(&mut kiosk, &key.to_string());
    }
    tap(&mut kiosk, "绿色通道取号");
    wait_for_label(&mut kiosk, "A001");
    let ticket = shown(&kiosk).ticket;
    assert!(ticket.green_channel && !ticket.reprint);
    assert!(kiosk.state().elderly());
}

/// A serial reader that is not there: the keypad screens say so, and typing still works.
#[test]
fn an_unplugged_reader_is_said_and_typed_entry_still_works() {
    let hub = hub_with_identity();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("ttyUSB9");
    let mut kiosk = kiosk(&hub, |options| options.id_reader = Some(missing));
    wait_for_welcome(&mut kiosk);
    tap(&mut kiosk, "预约签到");
    wait_for_label(&mut kiosk, "读卡器未连接，请手动输入");
    tap(&mut kiosk, "◀ 返回");
    wait_for_welcome(&mut kiosk);
    open_identify(&mut kiosk, "取号");
    wait_for_label(&mut kiosk, "读卡器未连接，请手动输入");
    for key in YOUNG.chars() {
        tap(&mut kiosk, &key.to_string());
    }
    tap(&mut kiosk, "取号");
    wait_for_label(&mut kiosk, "A001");
    assert_eq!(hub.issued_today("hukou"), 1);
}

/// The welcome screen states the rule of order: queue time, the slot start for early bookings.
#[test]
fn the_welcome_screen_states_the_queue_time_rule() {
    let hub = TestHub::start();
    let mut kiosk = kiosk(&hub, |_| {});
    wait_for_welcome(&mut kiosk);
    assert!(shows(
        &kiosk,
        "同一业务、同一类别的号票按排队时间先后叫号；预约提前签到的，按预约时段开始时间排队"
    ));
    tap(&mut kiosk, "English");
    wait_for_label(
        &mut kiosk,
        "Tickets of one service and class are called in queue-time order; a booking checked in early queues from its slot start",
    );
}
