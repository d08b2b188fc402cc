//! The kiosk as a citizen uses it, against a real hub: find buttons by their words, tap them,
//! read what the screen says.

use std::time::{Duration, Instant};

use jiaohao_client::Client;

use egui_kittest::kittest::{NodeT, Queryable};
use jiaohao_kiosk::{ELDERLY_SCALE, HubState, PrintState, Screen};

use crate::support::*;

#[test]
fn tap_hukou_and_see_a001_with_its_qr_code_and_documents() {
    let hub = TestHub::start();
    let mut kiosk = kiosk(&hub, |_| {});
    wait_for_welcome(&mut kiosk);
    assert!(
        shows(&kiosk, "您好，请选择您要办理的业务"),
        "the kiosk greets"
    );
    assert!(
        shows(&kiosk, "清河县公安局行政服务中心"),
        "the hall's name is shown"
    );

    tap(&mut kiosk, "户籍");
    // The service step: its documents are told before the ticket is taken, with both choices.
    wait_for_label(&mut kiosk, "取号");
    assert!(shows(&kiosk, "绿色通道取号"));
    assert!(shows(&kiosk, "1. 居民户口簿原件"));

    tap(&mut kiosk, "取号");
    wait_for_label(&mut kiosk, "A001");
    let app = kiosk.state();
    assert_eq!(app.issued().len(), 1);
    let ticket = app.issued()[0].clone();
    assert_eq!(ticket.number, "A001");
    let Screen::Ticket(shown) = app.screen() else {
        panic!("not on the ticket screen: {:?}", app.screen());
    };
    // The QR code carries the ticket's public page: <hub URL>/t/<token>.
    let url = format!("{}/t/{}", hub.url(), ticket.token);
    assert_eq!(shown.url, url);
    assert_eq!(
        shown.qr.as_ref().map(|qr| qr.text.as_str()),
        Some(url.as_str())
    );
    let qr = kiosk.get_by_label_contains("号票二维码");
    assert!(
        qr.accesskit_node()
            .label()
            .unwrap_or_default()
            .ends_with(&url)
    );
    assert!(
        qr.rect().width() >= 300.0,
        "the code is large enough to scan"
    );

    // The documents (一次性告知) and the fee note, the service, and the courtesy line.
    assert!(shows(&kiosk, "1. 居民户口簿原件"));
    assert!(shows(
        &kiosk,
        "2. 本人居民身份证原件（未满16周岁的提供出生医学证明）"
    ));
    assert!(shows(&kiosk, "户籍"));
    assert!(shows(&kiosk, "您的号码"));
    assert!(shows(&kiosk, "请保管好您的号票，留意叫号"));
    assert!(
        shows(&kiosk, "请拍照或扫码保存号码"),
        "no printer: keep the code"
    );
    assert_eq!(shown.print, PrintState::NoPrinter);
    assert_eq!(hub.issued_today("hukou"), 1);

    // A tap on 完成 goes back to the start.
    tap(&mut kiosk, "完成");
    wait_for_label(&mut kiosk, "您好，请选择您要办理的业务");
    assert_eq!(kiosk.state().screen(), &Screen::Welcome);
}

#[test]
fn a_double_tap_gives_one_ticket() {
    let hub = TestHub::start();
    let mut kiosk = kiosk(&hub, |_| {});
    wait_for_welcome(&mut kiosk);
    tap(&mut kiosk, "户籍");
    wait_for_label(&mut kiosk, "取号");
    // Two taps 100 ms apart, as a bouncing or impatient finger does, and a third where the
    // button was, just as the ticket appears.
    let button = kiosk.get_by_label("取号").rect().center();
    let press = |kiosk: &mut Kiosk| {
        for pressed in [true, false] {
            kiosk.event(egui::Event::PointerButton {
                pos: button,
                button: egui::PointerButton::Primary,
                pressed,
                modifiers: egui::Modifiers::default(),
            });
        }
        kiosk.run_steps(2);
    };
    kiosk.hover_at(button);
    press(&mut kiosk);
    kiosk.run_steps(4);
    press(&mut kiosk);
    wait_for_label(&mut kiosk, "A001");
    press(&mut kiosk);
    pass(&mut kiosk, 2.0);
    assert!(shows(&kiosk, "A001"), "still the ticket screen");
    assert_eq!(kiosk.state().issued().len(), 1);
    assert_eq!(hub.issued_today("hukou"), 1, "the hub issued one ticket");
    assert!(kiosk.query_by_label("A002").is_none());
}

#[test]
fn the_same_tap_retried_returns_the_same_ticket() {
    // The kiosk's retry after a timeout resends the tap's idempotency key; the hub then answers
    // with the ticket it already issued rather than a second one.
    let hub = TestHub::start();
    let kiosk = hub.client().with_token(&hub.tokens.kiosk);
    let first = hub
        .runtime
        .block_on(kiosk.issue_ticket("hukou", false, Some("kiosk-tap-1")))
        .unwrap();
    let again = hub
        .runtime
        .block_on(kiosk.issue_ticket("hukou", false, Some("kiosk-tap-1")))
        .unwrap();
    assert_eq!(first.number, again.number);
    assert_eq!(first.token, again.token);
    assert_eq!(hub.issued_today("hukou"), 1);
}

#[test]
fn a_stopped_hub_pauses_ticketing_within_two_seconds_and_it_recovers_without_a_restart() {
    let mut hub = TestHub::start();
    let mut kiosk = kiosk(&hub, |_| {});
    wait_for_welcome(&mut kiosk);
    tap(&mut kiosk, "户籍");
    tap(&mut kiosk, "取号");
    wait_for_label(&mut kiosk, "A001");
    tap(&mut kiosk, "完成");
    wait_for_welcome(&mut kiosk);

    hub.stop();
    let took = wait_for_within(
        &mut kiosk,
        "the paused message",
        Duration::from_secs(2),
        |k| shows(k, "暂停取号，请到咨询台"),
    );
    eprintln!("paused shown {took:?} after the hub stopped");
    assert!(shows(&kiosk, "网络连接中断，正在自动重新连接…"));
    assert!(
        kiosk.query_by_label("户籍").is_none(),
        "no service can be tapped"
    );
    assert_eq!(kiosk.state().hub_state(), HubState::Paused);

    // The language and elderly buttons still work while paused.
    tap(&mut kiosk, "English");
    wait_for_label(
        &mut kiosk,
        "Ticketing paused, please ask at the information desk",
    );
    tap(&mut kiosk, "中文");

    hub.start_again();
    wait_for_welcome(&mut kiosk);
    tap(&mut kiosk, "户籍");
    tap(&mut kiosk, "取号");
    wait_for_label(&mut kiosk, "A002");
    assert_eq!(hub.issued_today("hukou"), 2);
}

#[test]
fn english_and_elderly_mode_are_one_tap_away() {
    let hub = TestHub::start();
    let mut kiosk = kiosk(&hub, |_| {});
    wait_for_welcome(&mut kiosk);
    let normal_button = kiosk.get_by_label("English").rect();
    let normal_service = kiosk.get_by_label("户籍").rect();

    tap(&mut kiosk, "English");
    wait_for_label(&mut kiosk, "Hello! Please choose the service you need");
    assert!(shows(&kiosk, "Household registration"));
    assert!(shows(&kiosk, "Qinghe County Public Security Service Hall"));

    tap(&mut kiosk, "Large text");
    wait_for_label(&mut kiosk, "Standard text");
    assert!(kiosk.state().elderly());
    let big_button = kiosk.get_by_label("中文").rect();
    assert!(
        big_button.height() >= normal_button.height() * ELDERLY_SCALE - 0.5,
        "{big_button:?} vs {normal_button:?}"
    );
    let big_service = kiosk.get_by_label("Household registration").rect();
    assert!(big_service.width() > normal_service.width() * 1.4);
    // Fewer items per screen: four services, then the next page.
    assert!(!shows(&kiosk, "Exit and entry"));
    tap(&mut kiosk, "Next ▶");
    wait_for_label(&mut kiosk, "Exit and entry");
    tap(&mut kiosk, "◀ Previous");

    tap(&mut kiosk, "Household registration");
    wait_for_label(&mut kiosk, "Take a ticket");
    assert!(shows(&kiosk, "Priority ticket"));
    tap(&mut kiosk, "Priority ticket");
    wait_for_label(&mut kiosk, "A001");
    assert!(shows(&kiosk, "Your number"));
    assert!(shows(&kiosk, "Priority"), "the green channel is marked");
    assert!(kiosk.state().issued()[0].green_channel);
    // The ticket screen's number is bigger in the elderly mode too.
    assert!(kiosk.get_by_label("A001").rect().height() >= 200.0);
    // Fewer items at once: the documents are one tap away.
    tap(&mut kiosk, "Documents to bring (7) ▶");
    wait_for_label(&mut kiosk, "1. Original household register (hukou booklet)");
    tap(&mut kiosk, "◀ Back to my ticket");
    wait_for_label(&mut kiosk, "A001");

    // Back to Chinese from the ticket screen, in one tap.
    tap(&mut kiosk, "中文");
    wait_for_label(&mut kiosk, "您的号码");
    tap(&mut kiosk, "标准模式");
    wait_for_label(&mut kiosk, "长者模式");
    assert!(!kiosk.state().elderly());

    // Whatever this citizen chose, the next one starts in Chinese, in the standard mode.
    tap(&mut kiosk, "English");
    tap(&mut kiosk, "Large text");
    tap(&mut kiosk, "Done");
    wait_for_label(&mut kiosk, "您好，请选择您要办理的业务");
    assert!(!kiosk.state().elderly());
}

#[test]
fn a_closed_service_is_greyed_with_its_reason_and_hours_and_a_refusal_is_told_in_words() {
    // 16:45: exit-entry stopped issuing at 16:30; the others issue until 17:00.
    let hub = TestHub::start_at("2026-11-23T08:45:00Z");
    let mut kiosk = kiosk(&hub, |_| {});
    wait_for_welcome(&mut kiosk);
    let closed = hub
        .hall()
        .services
        .into_iter()
        .find(|s| s.def.code == "exit_entry");
    assert_eq!(
        closed.and_then(|s| s.unavailable_reason).as_deref(),
        Some("not_open")
    );
    let exit_entry = kiosk.get_by_label("出入境");
    assert!(
        exit_entry.accesskit_node().is_disabled(),
        "a closed service is not tappable"
    );
    tap(&mut kiosk, "出入境");
    assert_eq!(kiosk.state().screen(), &Screen::Welcome);

    // The hours pass while a citizen is on the service step: the refusal is told in words
    // (from the hub's 409 if the tap is first, from the hall view if the hub says so first).
    tap(&mut kiosk, "户籍");
    wait_for_label(&mut kiosk, "取号");
    hub.clock.set(at("2026-11-23T09:01:00Z"));
    kiosk.get_by_label("取号").click();
    kiosk.run_steps(3);
    wait_for_label(
        &mut kiosk,
        "该业务现在不在取号时段，请留意大厅公告的取号时间",
    );
    assert!(kiosk.state().issued().is_empty());
    tap(&mut kiosk, "知道了");
    wait_for_label(&mut kiosk, "您好，请选择您要办理的业务");
}

#[test]
fn the_ticket_returns_to_the_start_and_the_idle_screen_shows_the_notices() {
    let hub = TestHub::start();
    let mut kiosk = kiosk(&hub, |options| {
        options.return_after = Duration::from_secs(5);
        options.idle_after = Duration::from_secs(10);
    });
    wait_for_welcome(&mut kiosk);
    tap(&mut kiosk, "户籍");
    tap(&mut kiosk, "取号");
    wait_for_label(&mut kiosk, "A001");
    assert!(kiosk.query_by_label_contains("秒后返回首页").is_some());
    pass(&mut kiosk, 5.5);
    assert_eq!(kiosk.state().screen(), &Screen::Welcome);

    pass(&mut kiosk, 10.5);
    assert_eq!(kiosk.state().screen(), &Screen::Idle);
    assert!(shows(&kiosk, "大厅公告"));
    assert!(
        kiosk
            .query_by_label_contains("咨询投诉请拨打12345政务服务便民热线")
            .is_some()
    );
    tap(&mut kiosk, "请触摸屏幕开始取号");
    assert_eq!(kiosk.state().screen(), &Screen::Welcome);
}

#[test]
fn idle_the_kiosk_asks_for_no_frames() {
    let hub = TestHub::start();
    let mut kiosk = kiosk(&hub, |_| {});
    wait_for_welcome(&mut kiosk);
    // Settles at once: nothing asks for the next frame right away…
    let steps = kiosk.run();
    assert!(steps <= 3, "{steps} frames to settle");
    // …and the next timed frame is the idle screen's, a minute and more away.
    let delay = kiosk.output().viewport_output[&egui::ViewportId::ROOT].repaint_delay;
    assert!(delay >= Duration::from_secs(60), "{delay:?}");
}

#[test]
fn a_closed_day_says_the_hall_is_closed_and_when_it_opens() {
    // Saturday 28 November 2026, 10:00 in Shanghai: the default hall works Monday to Friday.
    let hub = TestHub::start_at("2026-11-28T02:00:00Z");
    let mut kiosk = kiosk(&hub, |_| {});
    let message = "今日不办公\n下次办公时间：11月30日 星期一 08:30";
    wait_for(&mut kiosk, "the closed-day message", |k| {
        on_screen(k).iter().any(|text| text == message)
    });
    // No service can be chosen on a closed day.
    assert!(!shows(&kiosk, "户籍"), "{:?}", on_screen(&kiosk));
}

/// Waits (bounded) until the standby holds every record the primary holds.
fn wait_for_standby(hub: &TestHub, standby: &Client) {
    let deadline = Instant::now() + WAIT;
    while hub.block_on(standby.health()).unwrap().last_seq
        != hub.block_on(hub.public.health()).unwrap().last_seq
    {
        assert!(Instant::now() < deadline, "the standby does not catch up");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The tokens are rows beside the log, carried after the records: the admin's must be
    // there before it can promote the standby.
    let admin = standby.with_token(&hub.tokens.admin);
    while hub.block_on(admin.device_problems()).is_err() {
        assert!(
            Instant::now() < deadline,
            "the standby does not take the admin's token"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn with_two_hubs_the_kiosk_pauses_while_no_primary_answers_and_moves_to_the_promoted_standby() {
    let mut hub = TestHub::start();
    let standby = hub.start_standby();
    let mut kiosk = kiosk(&hub, |options| {
        options.hub = format!("{},{}", hub.url(), standby.url());
    });
    wait_for_welcome(&mut kiosk);
    tap(&mut kiosk, "户籍");
    tap(&mut kiosk, "取号");
    wait_for_label(&mut kiosk, "A001");
    tap(&mut kiosk, "完成");
    wait_for_welcome(&mut kiosk);
    let standby_client = Client::new(standby.url());
    wait_for_standby(&hub, &standby_client);

    // The primary dies: ticketing pauses, since no primary answers.
    hub.stop();
    wait_for_label(&mut kiosk, "暂停取号，请到咨询台");

    // The standby is promoted: within 5 s the kiosk issues there.
    hub.block_on(standby_client.with_token(&hub.tokens.admin).promote())
        .unwrap();
    let took = wait_for_within(
        &mut kiosk,
        "the welcome screen",
        Duration::from_secs(5),
        |k| shows(k, "户籍"),
    );
    eprintln!("ticketing resumed {took:?} after the promotion");
    pass(&mut kiosk, 0.6);
    tap(&mut kiosk, "户籍");
    tap(&mut kiosk, "取号");
    wait_for_label(&mut kiosk, "A002");
    hub.block_on(standby.stop()).unwrap();
}

#[test]
fn with_two_hubs_an_idle_kiosk_moves_to_a_promoted_standby_without_pausing() {
    // The old primary stays up (as when it is fenced): nothing breaks, yet within 5 s of the
    // promotion the kiosk issues on the new primary, and it never says ticketing is paused.
    let hub = TestHub::start();
    let standby = hub.start_standby();
    let mut kiosk = kiosk(&hub, |options| {
        options.hub = format!("{},{}", hub.url(), standby.url());
    });
    wait_for_welcome(&mut kiosk);
    let standby_client = Client::new(standby.url());
    wait_for_standby(&hub, &standby_client);
    hub.block_on(standby_client.with_token(&hub.tokens.admin).promote())
        .unwrap();
    let promoted = Instant::now();
    while promoted.elapsed() < Duration::from_secs(5) {
        kiosk.step();
        assert!(
            !shows(&kiosk, "暂停取号，请到咨询台"),
            "paused while moving to the new primary"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    tap(&mut kiosk, "户籍");
    tap(&mut kiosk, "取号");
    wait_for_label(&mut kiosk, "A001");
    // The old primary (up, and of the lower term) issued nothing: the new one did.
    assert_eq!(hub.issued_today("hukou"), 0);
    let on_new_primary = hub.block_on(standby_client.hall()).unwrap();
    let hukou = on_new_primary
        .services
        .iter()
        .find(|s| s.def.code == "hukou");
    assert_eq!(hukou.map(|s| s.issued_today), Some(1));
    hub.block_on(standby.stop()).unwrap();
}
