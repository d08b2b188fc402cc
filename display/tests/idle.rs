//! Next to no work when nothing happens: a call is highlighted for a few seconds and asks for
//! frames only meanwhile; a recall highlights again; the notice ticker scrolls while the hall is
//! busy and turns a page every few seconds when it is quiet; with nothing to move the next
//! frame is the clock's next minute.

use std::time::Duration;

use egui_kittest::Harness;
use jiaohao_display::screen::HIGHLIGHT_SECS;
use jiaohao_display::ticker::{BUSY_SECS, PAGE_SECS, SCROLL_STEP};
use jiaohao_display::{DisplayApp, DisplayConfig, FixedSource, TickerMode, Voice};
use jiaohao_ui::LinkStatus;

use crate::glyphs::called;
use crate::support::{LANDSCAPE, TestHub};

/// A display on a fixed hall with quarter-second frames (a minute in 240 steps).
fn display(
    source: &std::sync::Arc<FixedSource>,
    ticker: TickerMode,
) -> Harness<'static, DisplayApp> {
    let config = DisplayConfig {
        voice: Voice::Off,
        ticker,
        ..DisplayConfig::hall("http://192.0.2.1:8080")
    };
    let app = DisplayApp::from_source(config, Box::new(source.clone())).expect("a display");
    Harness::builder()
        .with_size(egui::Vec2::new(LANDSCAPE.0, LANDSCAPE.1))
        .with_step_dt(0.25)
        .build_ui_state(|ui, app: &mut DisplayApp| app.show(ui), app)
}

fn next_frame(harness: &Harness<'_, DisplayApp>) -> Duration {
    harness.output().viewport_output[&egui::ViewportId::ROOT].repaint_delay
}

/// How long until the machine's clock turns the minute.
fn machine_time_to_next_minute() -> Duration {
    let into_minute = jiff::Timestamp::now().as_millisecond().rem_euclid(60_000);
    Duration::from_millis((60_000 - into_minute) as u64)
}

fn steps(seconds: f64) -> usize {
    (seconds * 4.0).ceil() as usize
}

#[test]
fn a_call_is_highlighted_for_a_few_seconds_then_the_ticker_turns_pages() {
    let hub = TestHub::start();
    hub.window(1, "open");
    hub.issue("hukou");
    hub.call_next(1);
    let source = FixedSource::new(Some(hub.hall()), LinkStatus::Live);
    source.push_change(called("A001", 1, false));
    let mut harness = display(&source, TickerMode::Auto);
    harness.step();
    assert!(harness.state().highlight().is_some());
    assert!(
        next_frame(&harness) <= Duration::from_millis(100),
        "the pulse"
    );

    harness.run_steps(steps(HIGHLIGHT_SECS) + 1);
    assert!(harness.state().highlight().is_none(), "the highlight ends");
    assert_eq!(
        next_frame(&harness),
        SCROLL_STEP,
        "the hall is busy: the ticker scrolls"
    );

    harness.run_steps(steps(BUSY_SECS - HIGHLIGHT_SECS) + 1);
    let page = next_frame(&harness);
    // The next frame is the sooner of the next page and the clock's next minute (the fixed
    // source has no hall clock, so the machine's stands in): a run just before a minute turns
    // gets the minute.
    let to_minute = machine_time_to_next_minute();
    if to_minute > Duration::from_secs_f64(PAGE_SECS) {
        assert!(
            page > Duration::from_secs(1) && page <= Duration::from_secs_f64(PAGE_SECS),
            "quiet: the next frame is the next page, {page:?}"
        );
    } else {
        assert!(
            page > SCROLL_STEP && page <= to_minute + Duration::from_millis(100),
            "quiet: the next frame is the clock's next minute, {page:?} (the minute in {to_minute:?})"
        );
    }

    // A recall highlights again.
    source.push_change(called("A001", 1, true));
    harness.step();
    assert!(
        harness
            .state()
            .highlight()
            .expect("highlighted again")
            .recall
    );
    assert!(next_frame(&harness) <= Duration::from_millis(100));
}

#[test]
fn page_mode_never_scrolls_and_a_hall_without_notices_waits_for_the_clock() {
    let hub = TestHub::start();
    let source = FixedSource::new(Some(hub.hall()), LinkStatus::Live);
    source.push_change(called("A001", 1, false));
    let mut harness = display(&source, TickerMode::Page);
    harness.run_steps(steps(HIGHLIGHT_SECS) + 1);
    let page = next_frame(&harness);
    assert!(page > SCROLL_STEP, "{page:?}");

    let mut quiet = hub.hall();
    quiet.notices_zh.clear();
    quiet.notices_en.clear();
    source.set_hall(Some(quiet));
    harness.step();
    let clock = next_frame(&harness);
    assert!(
        clock > Duration::from_millis(10) && clock <= Duration::from_secs(61),
        "only the clock's next minute: {clock:?}"
    );
}
