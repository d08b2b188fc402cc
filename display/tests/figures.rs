//! 警务公开 on the wall: the notice strip leads with today's figures (served, mean wait, share
//! within target, 满意率), live as tickets are finished; `--no-figures` leaves them out.

use jiaohao_display::{Args, DisplayApp, DisplayConfig};

use crate::support::{LANDSCAPE, TestHub, hall_config, harness, wait_for_no_text, wait_for_text};

#[test]
fn the_notice_strip_shows_todays_figures_live() {
    let hub = TestHub::start();
    let app = DisplayApp::new(hall_config(&hub)).expect("the display starts");
    let mut display = harness(app, LANDSCAPE);
    wait_for_text(&mut display, "实时 Live");
    wait_for_no_text(&mut display, "今日已办结");

    hub.window(3, "open");
    hub.issue("hukou");
    hub.call_next(3);
    hub.finish(3);
    wait_for_text(&mut display, "今日已办结 1 件");
    wait_for_text(&mut display, "平均等候 0.0 分钟");
    wait_for_text(&mut display, "等候达标率 100.0%");
    wait_for_text(&mut display, "Today: 1 served");

    hub.issue("hukou");
    hub.call_next(3);
    hub.finish(3);
    wait_for_text(&mut display, "今日已办结 2 件");
}

#[test]
fn the_figures_can_be_turned_off() {
    let args = Args::for_hub("http://127.0.0.1:1");
    assert!(args.config().figures, "on by default");
    let hub = TestHub::start();
    hub.window(3, "open");
    hub.issue("hukou");
    hub.call_next(3);
    hub.finish(3);
    let config = DisplayConfig {
        figures: false,
        ..hall_config(&hub)
    };
    let app = DisplayApp::new(config).expect("the display starts");
    let mut display = harness(app, LANDSCAPE);
    wait_for_text(&mut display, "实时 Live");
    wait_for_text(&mut display, "A001");
    wait_for_no_text(&mut display, "今日已办结");
}
