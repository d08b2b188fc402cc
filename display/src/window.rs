//! Window mode (窗口屏, `--window N`): the small screen above one window. Only that window: its
//! current call in huge type, its state, and what it serves. Read from 1–3 m away.

use egui::{Align2, Pos2, Rect, Ui};
use jiaohao_wire::{HallView, WindowStatus};

use crate::paint::{self, Line, Piece, bold, regular};
use crate::palette;
use crate::screen::{self, Screen, scale, take_bottom, take_top};
use crate::text::{self, Words};

/// Draws window mode for window `number` over the whole of `ui`.
pub fn show(ui: &mut Ui, screen: &Screen<'_>, number: u16) {
    let full = ui.max_rect();
    let s = scale(full);
    // No full-screen fill: the background is the clear colour (`DisplayApp::clear_color`).
    let mut rest = full;
    let header = take_top(&mut rest, 100.0 * s);
    let body = rest.shrink(24.0 * s);
    let window = screen
        .hall
        .and_then(|hall| hall.windows.iter().find(|w| w.number == number));
    let (title_zh, title_en) = match window {
        Some(window) => (window.name_zh.clone(), window.name_en.clone()),
        None => (text::window_zh(number), text::window_en(number)),
    };
    screen::header(ui, header, screen, &title_zh, &title_en);
    let Some(hall) = screen.hall else {
        screen::waiting_screen(ui, body, screen);
        return;
    };
    let Some(window) = window else {
        let (zh, en) = body.split_top_bottom_at_fraction(0.55);
        paint::words(
            ui,
            zh,
            Align2::CENTER_BOTTOM,
            &text::no_such_window_zh(number),
            bold(80.0 * s),
            palette::CLOSED_TEXT,
        );
        paint::words(
            ui,
            en,
            Align2::CENTER_TOP,
            &text::no_such_window_en(number),
            regular(48.0 * s),
            palette::TEXT,
        );
        return;
    };
    window_body(ui, body, screen, hall, window, s);
    if !screen.live() {
        screen::stale_banner(ui, body);
    }
}

fn window_body(
    ui: &mut Ui,
    body: Rect,
    screen: &Screen<'_>,
    hall: &HallView,
    window: &WindowStatus,
    s: f32,
) {
    let mut area = body;
    // What it serves, Chinese over English.
    let serves = take_top(&mut area, 110.0 * s);
    let names = |english: bool| -> Vec<String> {
        window
            .services
            .iter()
            .map(|code| {
                hall.services
                    .iter()
                    .find(|s| &s.def.code == code)
                    .map(|s| {
                        if english {
                            s.def.name_en.clone()
                        } else {
                            s.def.name_zh.clone()
                        }
                    })
                    .unwrap_or_else(|| code.clone())
            })
            .collect()
    };
    let (zh, en) = serves.split_top_bottom_at_fraction(0.6);
    paint::words(
        ui,
        zh,
        Align2::CENTER_CENTER,
        &names(false).join(" · "),
        bold(52.0 * s),
        palette::TEXT,
    );
    paint::words(
        ui,
        en,
        Align2::CENTER_CENTER,
        &names(true).join(" · "),
        regular(32.0 * s),
        palette::MUTED,
    );
    take_top(&mut area, 16.0 * s);

    let footer = take_bottom(&mut area, 70.0 * s);
    Line::new(
        ui,
        &[
            Piece::words(
                text::window_waiting_zh(window.waiting),
                bold(40.0 * s),
                palette::TEXT,
            ),
            Piece::words(
                format!("   {}", text::window_waiting_en(window.waiting)),
                regular(30.0 * s),
                palette::MUTED,
            ),
        ],
        footer.width(),
    )
    .paint(ui, footer, Align2::CENTER_CENTER);
    take_bottom(&mut area, 16.0 * s);

    let highlighted = screen.highlight.is_some_and(|h| {
        h.window == window.number && window.current_ticket.as_deref() == Some(h.number.as_str())
    });
    let pulse = screen.pulse().filter(|_| highlighted && screen.live());
    let outline = match pulse {
        Some(p) => (
            12.0 * s,
            if p > 0.5 {
                palette::YOUR_TURN_TEXT
            } else {
                palette::YOUR_TURN
            },
        ),
        None => (3.0 * s, palette::ACCENT_LINE),
    };
    paint::panel(ui, area, palette::PANEL, Some(outline), 18.0 * s);
    let mut inner = area.shrink(30.0 * s);

    let state: Option<(Words, Words, egui::Color32)> = match window.state.as_str() {
        "paused" => Some((text::PAUSED, text::PAUSED_ADVICE, palette::PAUSED)),
        "closed" => Some((text::CLOSED, text::CLOSED_ADVICE, palette::CLOSED_TEXT)),
        "serving" if window.current_ticket.is_some() => None,
        _ => Some((text::READY, text::READY_ADVICE, palette::TEXT)),
    };
    match (state, &window.current_ticket) {
        (None, Some(ticket)) => {
            let words = if pulse.is_some() {
                text::COME_TO_THIS_WINDOW
            } else {
                text::SERVING
            };
            let color = if pulse.is_some() {
                palette::YOUR_TURN_TEXT
            } else {
                palette::MUTED
            };
            let caption = take_top(&mut inner, 80.0 * s);
            Line::new(
                ui,
                &[
                    Piece::words(words.zh, bold(56.0 * s), color),
                    Piece::words(format!("  {}", words.en), regular(36.0 * s), color),
                ],
                caption.width(),
            )
            .paint(ui, caption, Align2::CENTER_CENTER);
            // The number as large as the panel allows: ink is about 0.75 em tall.
            let em = (inner.height() / 0.95).min(inner.width() / 2.6);
            let line = Line::new(
                ui,
                &[Piece::number(ticket, bold(em), palette::TEXT)],
                inner.width(),
            );
            let em = line.em();
            let baseline = inner.center().y + 0.36 * em;
            let left = inner.center().x - line.width() / 2.0;
            line.paint_on_baseline(ui, left, baseline);
        }
        (Some((state, advice, color)), _) => {
            let (top, bottom) = inner.split_top_bottom_at_fraction(0.62);
            let em = (top.height() * 0.8).min(top.width() / 4.6);
            paint::words(ui, top, Align2::CENTER_BOTTOM, state.zh, bold(em), color);
            let lines = Rect::from_min_max(
                Pos2::new(bottom.left(), bottom.top() + 10.0 * s),
                bottom.max,
            );
            let (en, advice_rect) = lines.split_top_bottom_at_fraction(0.4);
            paint::words(
                ui,
                en,
                Align2::CENTER_CENTER,
                state.en,
                regular(em * 0.3),
                color,
            );
            Line::new(
                ui,
                &[
                    Piece::words(advice.zh, bold(em * 0.24), palette::TEXT),
                    Piece::words(
                        format!("  {}", advice.en),
                        regular(em * 0.18),
                        palette::MUTED,
                    ),
                ],
                advice_rect.width() - 40.0 * s,
            )
            .paint(ui, advice_rect, Align2::CENTER_CENTER);
        }
        (None, None) => {}
    }
}
