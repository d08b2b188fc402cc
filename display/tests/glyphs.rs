//! Every word the display can show, in both modes and both languages, is drawn with the
//! bundled font: the harness panics on a character no font has, so a new word outside the
//! font subset fails here rather than as a box on the wall.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use jiaohao_display::{DisplayApp, DisplayConfig, FixedSource, Voice, text};
use jiaohao_ui::LinkStatus;
use jiaohao_wire::{Change, ChangeMessage, HallView};

use crate::support::{LANDSCAPE, PORTRAIT, TestHub};

/// The default hall in every state a window and a service can be in, with its notices.
fn every_state(hub: &TestHub) -> HallView {
    hub.window(1, "open");
    hub.window(2, "open");
    hub.window(3, "open");
    for service in ["hukou", "hukou", "id_card", "exit_entry"] {
        hub.issue(service);
    }
    hub.call_next(1);
    hub.call_next(3);
    hub.recall(3);
    hub.pause(2, "系统维护");
    let mut hall = hub.hall();
    assert!(!hall.notices_zh.is_empty() && !hall.notices_en.is_empty());
    // A service not issuing now, one without an estimate, one with one.
    hall.services[1].available = false;
    hall.services[1].unavailable_reason = Some("not_open".into());
    hall.services[2].estimated_wait_min = None;
    hall.services[0].estimated_wait_min = Some(1);
    hall
}

pub fn called(number: &str, window: u16, recall: bool) -> ChangeMessage {
    ChangeMessage {
        id: 1,
        at: "2026-11-23T09:00:00+08:00".into(),
        change: Change::TicketCalled {
            number: number.into(),
            service: "hukou".into(),
            window,
            recall,
            out_of_order: false,
        },
    }
}

pub fn display(
    source: &std::sync::Arc<FixedSource>,
    window: Option<u16>,
    size: (f32, f32),
) -> Harness<'static, DisplayApp> {
    let config = DisplayConfig {
        window,
        voice: Voice::Off,
        ..DisplayConfig::hall("http://192.0.2.1:8080")
    };
    let app = DisplayApp::from_source(config, Box::new(source.clone())).expect("a display");
    crate::support::harness(app, size)
}

#[test]
fn every_screen_of_both_modes_draws_with_the_bundled_font() {
    let hub = TestHub::start();
    let hall = every_state(&hub);
    let statuses = [
        LinkStatus::Live,
        LinkStatus::Connecting,
        LinkStatus::Reconnecting {
            error: "connection refused".into(),
        },
    ];
    let modes = [None, Some(1), Some(2), Some(3), Some(4), Some(99)];
    let mut screens = 0;
    for window in modes {
        for size in [LANDSCAPE, PORTRAIT, (1280.0, 720.0)] {
            let source = FixedSource::new(None, LinkStatus::Connecting);
            let mut harness = display(&source, window, size);
            for status in &statuses {
                for hall in [None, Some(hall.clone())] {
                    source.set_hall(hall);
                    source.set_status(status.clone());
                    source.push_change(called("A001", 1, false));
                    source.push_change(called("B001", 3, true));
                    harness.step();
                    assert!(
                        harness.query_all_by_label_contains("").next().is_some(),
                        "something is drawn"
                    );
                    screens += 1;
                }
            }
        }
    }
    assert_eq!(screens, 3 * 2 * 6 * 3);
}

#[test]
fn every_fixed_word_draws_in_both_faces() {
    let words: Vec<String> = text::ALL
        .iter()
        .flat_map(|w| [w.zh.to_owned(), w.en.to_owned()])
        .chain(text::all_date_words())
        .chain([
            text::call_zh("A012", 3),
            text::call_en("A012", 3),
            text::estimate_zh(12),
            text::estimate_en(1),
            text::estimate_en(12),
            text::waiting_zh(5),
            text::waiting_en(5),
            text::window_waiting_zh(5),
            text::window_waiting_en(5),
            text::no_such_window_zh(42),
            text::no_such_window_en(42),
            text::window_zh(10),
            text::window_en(10),
            "→ · —".to_owned(),
        ])
        .collect();
    let mut harness = Harness::new_ui(move |ui| {
        jiaohao_ui::fonts::install(ui.ctx());
        for word in &words {
            ui.label(egui::RichText::new(word).font(jiaohao_display::paint::regular(20.0)));
            ui.label(egui::RichText::new(word).font(jiaohao_display::paint::bold(20.0)));
        }
    });
    harness.run_steps(2);
}

/// The check above is real: the display's own drawing panics on a character no font has.
#[test]
#[should_panic(expected = "U+10FFFD")]
fn a_character_no_font_has_fails_the_test() {
    let mut harness = Harness::new_ui(|ui| {
        jiaohao_ui::fonts::install(ui.ctx());
        let rect = ui.max_rect();
        jiaohao_display::paint::words(
            ui,
            rect,
            egui::Align2::CENTER_CENTER,
            "\u{10FFFD}",
            jiaohao_display::paint::bold(40.0),
            egui::Color32::WHITE,
        );
    });
    harness.step();
}
