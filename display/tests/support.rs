//! What the display's tests share: the workspace's test hub (`jiaohao-testkit`: a real hub in
//! this process on `127.0.0.1` over a fresh SQLite file with a clock standing at 09:00 on a
//! weekday, clients for the admin and the kiosk), a harness around a `DisplayApp`, and bounded
//! waits for what the screen shows.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use jiaohao_display::{DisplayApp, DisplayConfig};
pub use jiaohao_testkit::BlockingHub as TestHub;

/// The longest a test waits for the screen to show something.
pub const WAIT: Duration = Duration::from_secs(10);

/// A display in hall mode on `hub`, silent.
pub fn hall_config(hub: &TestHub) -> DisplayConfig {
    DisplayConfig {
        voice: jiaohao_display::Voice::Off,
        ..DisplayConfig::hall(hub.url())
    }
}

/// A harness around a display at `size` (1920×1080 or 1080×1920).
pub fn harness(app: DisplayApp, size: (f32, f32)) -> Harness<'static, DisplayApp> {
    Harness::builder()
        .with_size(egui::Vec2::new(size.0, size.1))
        .with_step_dt(1.0 / 60.0)
        .build_ui_state(|ui, app: &mut DisplayApp| app.show(ui), app)
}

pub const LANDSCAPE: (f32, f32) = (1920.0, 1080.0);
pub const PORTRAIT: (f32, f32) = (1080.0, 1920.0);

/// Every label on screen, for failure messages.
pub fn labels(harness: &Harness<'_, DisplayApp>) -> Vec<String> {
    harness
        .root()
        .children_recursive()
        .filter_map(|node| {
            let node = node.accesskit_node();
            node.value().or(node.label()).map(|s| s.to_string())
        })
        .collect()
}

/// Steps the display until `done` holds; fails after [`WAIT`] with what the screen shows.
#[track_caller]
pub fn wait_for(
    harness: &mut Harness<'_, DisplayApp>,
    what: &str,
    done: impl Fn(&Harness<'_, DisplayApp>) -> bool,
) {
    let deadline = Instant::now() + WAIT;
    loop {
        harness.step();
        if done(harness) {
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "the display did not show {what} within {WAIT:?}; it shows: {:#?}",
                labels(harness)
            );
        }
        // The hub and the display's link run on their own threads: give them a moment.
        std::thread::sleep(Duration::from_millis(15));
    }
}

/// Steps the display until a label containing `text` is on screen.
#[track_caller]
pub fn wait_for_text(harness: &mut Harness<'_, DisplayApp>, text: &str) {
    wait_for(harness, &format!("{text:?}"), |h| {
        h.query_all_by_label_contains(text).next().is_some()
    });
}

/// Steps the display until no label contains `text`.
#[track_caller]
pub fn wait_for_no_text(harness: &mut Harness<'_, DisplayApp>, text: &str) {
    wait_for(harness, &format!("no {text:?}"), |h| {
        h.query_all_by_label_contains(text).next().is_none()
    });
}
