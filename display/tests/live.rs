//! The display against a real hub: tickets issued and called over the API appear on screen; a
//! paused window says 暂停服务; after a hub restart the display says it is reconnecting, then
//! shows the new state live; window mode shows only its window.

use egui_kittest::kittest::Queryable;
use jiaohao_display::{DisplayApp, DisplayConfig};

use crate::support::{
    LANDSCAPE, PORTRAIT, TestHub, hall_config, harness, wait_for, wait_for_no_text, wait_for_text,
};

#[test]
fn tickets_called_over_the_api_appear_on_the_display() {
    let hub = TestHub::start();
    let app = DisplayApp::new(hall_config(&hub)).expect("the display starts");
    let mut display = harness(app, LANDSCAPE);
    wait_for_text(&mut display, "实时 Live");
    wait_for_text(&mut display, "暂无叫号");

    hub.window(3, "open");
    hub.window(1, "open");
    assert_eq!(hub.issue("hukou").number, "A001");
    assert_eq!(hub.issue("hukou").number, "A002");
    wait_for_text(&mut display, "等候 2 人");

    assert_eq!(hub.call_next(3).number, "A001");
    wait_for_text(&mut display, "请 A001 号 到 3 号窗口");
    assert!(
        display
            .query_by_label_contains("Number A001, please go to window 3")
            .is_some()
    );
    let highlight = display
        .state()
        .highlight()
        .expect("a new call is highlighted");
    assert_eq!((highlight.number.as_str(), highlight.window), ("A001", 3));

    assert_eq!(hub.call_next(1).number, "A002");
    wait_for_text(&mut display, "请 A002 号 到 1 号窗口");
    // The call before it moves to the list of recent calls, and window 3 shows its ticket.
    display.get_by_label_contains("A001 → 3 号窗口");
    wait_for_no_text(&mut display, "等候 1 人");
    let called: Vec<&str> = display
        .state()
        .calls()
        .iter()
        .map(|c| c.number.as_str())
        .collect();
    assert_eq!(called, ["A001", "A002"]);
}

#[test]
fn the_portrait_layout_shows_the_same_hall() {
    let hub = TestHub::start();
    hub.window(2, "open");
    hub.issue("exit_entry");
    hub.call_next(2);
    let app = DisplayApp::new(hall_config(&hub)).expect("the display starts");
    let mut display = harness(app, PORTRAIT);
    wait_for_text(&mut display, "请 E001 号 到 2 号窗口");
    display.get_by_label("出入境");
    display.get_by_label_contains("2号窗口");
}

#[test]
fn a_paused_window_shows_paused() {
    let hub = TestHub::start();
    let app = DisplayApp::new(hall_config(&hub)).expect("the display starts");
    let mut display = harness(app, LANDSCAPE);
    wait_for_text(&mut display, "实时 Live");
    assert!(
        display.query_by_label("暂停服务").is_none(),
        "every window starts closed"
    );
    assert_eq!(display.query_all_by_label("已关闭").count(), 10);

    hub.window(4, "open");
    hub.pause(4, "系统维护");
    wait_for_text(&mut display, "暂停服务");
    assert_eq!(display.query_all_by_label("已关闭").count(), 9);

    hub.window(4, "resume");
    wait_for_no_text(&mut display, "暂停服务");
    display.get_by_label("等候叫号");
}

#[test]
fn the_display_says_it_is_reconnecting_then_shows_the_hall_after_a_hub_restart() {
    let mut hub = TestHub::start();
    hub.window(3, "open");
    hub.issue("id_card");
    hub.call_next(3);
    let app = DisplayApp::new(hall_config(&hub)).expect("the display starts");
    let mut display = harness(app, LANDSCAPE);
    wait_for_text(&mut display, "请 B001 号 到 3 号窗口");
    wait_for_text(&mut display, "实时 Live");

    hub.stop();
    wait_for_text(&mut display, "连接中断，正在重新连接");
    // Not stale data as if live: the indicator and a banner over the dimmed hall say so.
    display.get_by_label_contains("以下信息可能不是最新");
    display.get_by_label("正在重新连接 Reconnecting");
    assert!(display.query_by_label_contains("实时 Live").is_none());

    hub.start_again();
    wait_for_text(&mut display, "实时 Live");
    wait_for_no_text(&mut display, "以下信息可能不是最新");
    // The state after the restart, live: a new call is shown and highlighted.
    hub.issue("id_card");
    hub.window(4, "open");
    assert_eq!(hub.call_next(4).number, "B002");
    wait_for_text(&mut display, "请 B002 号 到 4 号窗口");
    display.get_by_label_contains("B001 → 3 号窗口");
}

#[test]
fn window_mode_shows_only_its_window() {
    let hub = TestHub::start();
    let config = DisplayConfig {
        window: Some(3),
        ..hall_config(&hub)
    };
    let app = DisplayApp::new(config).expect("the display starts");
    let mut display = harness(app, (1280.0, 720.0));
    wait_for_text(&mut display, "3号窗口");
    // The window's name can show before the hall arrives; its state comes with the hall.
    wait_for(&mut display, "window 3 closed", |h| {
        h.query_by_label("已关闭").is_some()
    });
    display.get_by_label_contains("身份证 · 户籍");

    hub.window(3, "open");
    hub.window(1, "open");
    hub.issue("hukou");
    hub.issue("hukou");
    wait_for_text(&mut display, "本窗口等候 2 人");
    assert_eq!(hub.call_next(1).number, "A001");
    assert_eq!(hub.call_next(3).number, "A002");
    wait_for(&mut display, "A002 in huge type", |h| {
        h.query_by_label("A002").is_some()
    });
    assert!(
        display.query_by_label_contains("A001").is_none(),
        "window 1's call is not shown above window 3"
    );
    display.get_by_label_contains("请到本窗口办理");
    let called: Vec<(String, u16)> = display
        .state()
        .calls()
        .iter()
        .map(|c| (c.number.clone(), c.window))
        .collect();
    assert_eq!(called, [("A002".to_owned(), 3)]);

    hub.finish(3);
    hub.pause(3, "午间休息");
    wait_for_text(&mut display, "暂停服务");
    display.get_by_label_contains("请稍候，或到其他窗口办理");
}

#[test]
fn a_window_the_hall_does_not_have_is_named_plainly() {
    let hub = TestHub::start();
    let config = DisplayConfig {
        window: Some(42),
        ..hall_config(&hub)
    };
    let app = DisplayApp::new(config).expect("the display starts");
    let mut display = harness(app, (1280.0, 720.0));
    wait_for_text(&mut display, "本大厅没有 42 号窗口");
}

#[test]
fn a_closed_day_says_the_hall_is_closed_and_when_it_opens() {
    let hub = TestHub::start();
    let app = DisplayApp::new(hall_config(&hub)).expect("the display starts");
    let mut display = harness(app, LANDSCAPE);
    wait_for_text(&mut display, "暂无叫号");
    // Saturday 28 November 2026: the default hall works Monday to Friday.
    hub.clock
        .set("2026-11-28T02:00:00Z".parse().expect("an instant"));
    wait_for_text(&mut display, "今日不办公");
    wait_for_text(
        &mut display,
        "下次办公时间：11月30日 星期一 08:30  The hall is closed today · Next opening: Mon 30 Nov 08:30",
    );
}
