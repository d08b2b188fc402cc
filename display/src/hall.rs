//! Hall mode (综合屏): the newest call very large, the last calls, every window and every
//! service, under the header and above the notice ticker. One layout for landscape (1920×1080)
//! and one for portrait (1080×1920); both scale with the screen.

use egui::{Align2, Color32, Pos2, Rect, Ui, Vec2};
use jiaohao_wire::{CallInfo, HallView, ServiceStatus, WindowStatus};

use crate::paint::{self, Line, Piece, bold, regular};
use crate::palette;
use crate::screen::{self, Screen, grid, scale, take_bottom, take_top};
use crate::text::{self, Words};
use crate::ticker::Ticker;

/// Draws hall mode over the whole of `ui`, moving the notice ticker.
pub fn show(ui: &mut Ui, screen: &Screen<'_>, ticker: &mut Ticker) {
    let full = ui.max_rect();
    let s = scale(full);
    // No full-screen fill: the background is the clear colour (`DisplayApp::clear_color`).
    let mut rest = full;
    let header = take_top(&mut rest, 100.0 * s);
    let ticker_rect = take_bottom(&mut rest, 68.0 * s);
    let body = rest.shrink(20.0 * s);

    let (title_zh, title_en) = match screen.hall {
        Some(hall) => (hall.name_zh.as_str(), hall.name_en.as_str()),
        None => (text::TITLE.zh, text::TITLE.en),
    };
    screen::header(ui, header, screen, title_zh, title_en);
    screen::ticker(ui, ticker_rect, screen, ticker);
    let Some(hall) = screen.hall else {
        screen::waiting_screen(ui, body, screen);
        return;
    };

    let gap = 18.0 * s;
    let mut area = body;
    if full.width() >= full.height() {
        let call = take_top(&mut area, body.height() * 0.46);
        take_top(&mut area, gap);
        call_panel(ui, call, screen, hall, s);
        let columns = [0.30, 0.41, 0.29];
        let usable = area.width() - 2.0 * gap;
        let mut left = area.left();
        let mut rects = columns.iter().map(|fraction| {
            let rect = Rect::from_min_size(
                Pos2::new(left, area.top()),
                Vec2::new(usable * fraction, area.height()),
            );
            left += usable * fraction + gap;
            rect
        });
        let (recent, windows, services) = (
            rects.next().unwrap_or(area),
            rects.next().unwrap_or(area),
            rects.next().unwrap_or(area),
        );
        recent_calls(ui, recent, hall, 1, s);
        window_cards(ui, windows, hall, 2, s);
        service_rows(ui, services, hall, 1, s);
    } else {
        let height = body.height() - 3.0 * gap;
        let call = take_top(&mut area, height * 0.33);
        take_top(&mut area, gap);
        // Three rows of recent calls, two to a row.
        let recent = take_top(&mut area, HEADING * s + 3.0 * (RECENT_ROW + RECENT_GAP) * s);
        take_top(&mut area, gap);
        let windows = take_top(&mut area, height * 0.29);
        take_top(&mut area, gap);
        call_panel(ui, call, screen, hall, s);
        recent_calls(ui, recent, hall, 2, s);
        window_cards(ui, windows, hall, 2, s);
        service_rows(ui, area, hall, 2, s);
    }
    if !screen.live() {
        screen::stale_banner(ui, body);
    }
}

/// The height of a section heading, and of a row of recent calls, in design points.
const HEADING: f32 = 54.0;
const RECENT_ROW: f32 = 86.0;
const RECENT_GAP: f32 = 10.0;

/// A section heading: Chinese bold, English beside it; returns the rest of `rect`.
fn heading(ui: &mut Ui, rect: Rect, words: Words, s: f32) -> Rect {
    let mut rest = rect;
    let top = take_top(&mut rest, (HEADING - 6.0) * s);
    let line = Line::new(
        ui,
        &[
            Piece::words(words.zh, bold(32.0 * s), palette::TEXT),
            Piece::words(format!("  {}", words.en), regular(24.0 * s), palette::MUTED),
        ],
        top.width(),
    );
    line.paint(ui, top, Align2::LEFT_CENTER);
    take_top(&mut rest, 6.0 * s);
    rest
}

fn service_names<'a>(hall: &'a HallView, code: &str) -> Option<&'a ServiceStatus> {
    hall.services.iter().find(|s| s.def.code == code)
}

/// The newest call, very large: 请 A012 号 到 3 号窗口, the service, and the English; a green
/// outline pulses while it is new.
fn call_panel(ui: &mut Ui, rect: Rect, screen: &Screen<'_>, hall: &HallView, s: f32) {
    let newest = hall.recent_calls.first();
    let highlighted = newest.and_then(|call| {
        screen
            .highlight
            .filter(|h| h.number == call.number && h.window == call.window)
    });
    let pulse = highlighted
        .and_then(|_| screen.pulse())
        .filter(|_| screen.live());
    let outline = match pulse {
        Some(p) => (
            10.0 * s,
            lerp(palette::YOUR_TURN, palette::YOUR_TURN_TEXT, p),
        ),
        None => (3.0 * s, palette::ACCENT_LINE),
    };
    paint::panel(ui, rect, palette::PANEL, Some(outline), 16.0 * s);
    let mut inner = rect.shrink(28.0 * s);
    let caption = take_top(&mut inner, 50.0 * s);
    let Some(call) = newest else {
        let (zh, en) = inner.split_top_bottom_at_fraction(0.6);
        // A closed day by the hall calendar says so, and when the hall opens.
        let closed = !hall.open_today;
        paint::words(
            ui,
            zh,
            Align2::CENTER_BOTTOM,
            if closed {
                text::HALL_CLOSED.zh
            } else {
                text::NO_CALLS_YET.zh
            },
            bold(110.0 * s),
            if closed {
                palette::CLOSED_TEXT
            } else {
                palette::TEXT
            },
        );
        let line = match (closed, text::next_opening(hall.next_opening.as_ref())) {
            (true, Some((next_zh, next_en))) => format!(
                "{}：{next_zh}  {} · {}: {next_en}",
                text::NEXT_OPENING.zh,
                text::HALL_CLOSED.en,
                text::NEXT_OPENING.en
            ),
            (true, None) => text::HALL_CLOSED.en.to_owned(),
            (false, _) => format!(
                "{}  {} · {}",
                text::LISTEN.zh,
                text::NO_CALLS_YET.en,
                text::LISTEN.en
            ),
        };
        paint::words(
            ui,
            en,
            Align2::CENTER_CENTER,
            &line,
            regular(40.0 * s),
            palette::MUTED,
        );
        return;
    };
    let caption_color = if pulse.is_some() {
        palette::YOUR_TURN_TEXT
    } else {
        palette::MUTED
    };
    let words = if call.recall {
        text::CALLING_AGAIN
    } else {
        text::NOW_CALLING
    };
    Line::new(
        ui,
        &[
            Piece::words(words.zh, bold(34.0 * s), caption_color),
            Piece::words(format!("  {}", words.en), regular(26.0 * s), caption_color),
        ],
        caption.width(),
    )
    .paint(ui, caption, Align2::LEFT_CENTER);

    let sub = take_bottom(&mut inner, 60.0 * s);
    let service = service_names(hall, &call.service);
    let mut pieces = Vec::new();
    if let Some(service) = service {
        pieces.push(Piece::words(
            &service.def.name_zh,
            bold(40.0 * s),
            palette::TEXT,
        ));
        pieces.push(Piece::words(
            format!("  {}    ", service.def.name_en),
            regular(32.0 * s),
            palette::MUTED,
        ));
    }
    pieces.push(Piece::words(
        text::call_en(&call.number, call.window),
        regular(32.0 * s),
        palette::MUTED,
    ));
    Line::new(ui, &pieces, sub.width()).paint(ui, sub, Align2::CENTER_CENTER);

    hero(ui, inner, call, s);
}

/// "请 A012 号 到 3 号窗口" as large as it fits: on one line if it can be at least as large
/// as on two, else on two lines (a portrait screen).
fn hero(ui: &mut Ui, rect: Rect, call: &CallInfo, s: f32) {
    let pieces = |em: f32| {
        let word = |t: &str| Piece::words(t, bold(em * 0.5), palette::TEXT);
        let space = || Piece::words(" ", bold(em * 0.25), palette::TEXT);
        let first = vec![
            word(text::CALL_PLEASE),
            space(),
            Piece::number(&call.number, bold(em), palette::TEXT),
            space(),
            word(text::CALL_NUMBER),
        ];
        let second = vec![
            word(text::CALL_TO),
            space(),
            Piece::number(call.window.to_string(), bold(em), palette::TEXT),
            space(),
            word(text::CALL_WINDOW),
        ];
        (first, second)
    };
    // The height of the ink of one line is about 0.9 em (digits 0.73 em above the baseline,
    // ideographs 0.12 em below).
    let one_em = (rect.height() / 0.95).min(250.0 * s);
    let (first, second) = pieces(one_em);
    let mut all = first.clone();
    all.push(Piece::words("  ", bold(one_em * 0.25), palette::TEXT));
    all.extend(second);
    let one = Line::new(ui, &all, rect.width());

    let two_em = (rect.height() / 1.95).min(250.0 * s);
    if one.em() >= two_em * 0.98 {
        let baseline = rect.center().y + 0.5 * (0.73 - 0.12) * one.em() + 0.12 * one.em() * 0.5;
        let left = rect.center().x - one.width() / 2.0;
        one.paint_on_baseline(ui, left, baseline);
        return;
    }
    let (first, second) = pieces(two_em);
    let first =
        Line::new(ui, &first, rect.width()).labelled(text::call_zh(&call.number, call.window));
    let second = Line::new(ui, &second, rect.width()).labelled("");
    let em = first.em().min(second.em());
    let block = 0.73 * em + 1.05 * em + 0.12 * em;
    let baseline1 = rect.center().y - block / 2.0 + 0.73 * em;
    let baseline2 = baseline1 + 1.05 * em;
    let left1 = rect.center().x - first.width() / 2.0;
    let left2 = rect.center().x - second.width() / 2.0;
    first.paint_on_baseline(ui, left1, baseline1);
    second.paint_on_baseline(ui, left2, baseline2);
}

fn lerp(a: Color32, b: Color32, t: f32) -> Color32 {
    let mix = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
    Color32::from_rgb(mix(a.r(), b.r()), mix(a.g(), b.g()), mix(a.b(), b.b()))
}

/// The calls before the newest, newest first: "A011 → 2 号窗口", each at least 64 px tall.
fn recent_calls(ui: &mut Ui, rect: Rect, hall: &HallView, cols: usize, s: f32) {
    let rest = heading(ui, rect, text::RECENT_CALLS, s);
    let mut seen = Vec::new();
    let calls: Vec<&CallInfo> = hall
        .recent_calls
        .iter()
        .filter(|c| {
            let key = (c.number.as_str(), c.window);
            let new = !seen.contains(&key);
            seen.push(key);
            new
        })
        .skip(1)
        .collect();
    let row_h = RECENT_ROW * s;
    let gap = RECENT_GAP * s;
    let rows = (((rest.height() + gap) / (row_h + gap)).floor() as usize).max(1);
    let cells = grid(
        Rect::from_min_size(
            rest.min,
            Vec2::new(rest.width(), rows as f32 * (row_h + gap) - gap),
        ),
        cols,
        rows,
        gap,
    );
    // Newest first, down the first column, then the next.
    let order: Vec<usize> = (0..cols)
        .flat_map(|c| (0..rows).map(move |r| r * cols + c))
        .collect();
    for (call, &cell) in calls.iter().zip(order.iter()) {
        let Some(&cell) = cells.get(cell) else {
            continue;
        };
        paint::panel(ui, cell, palette::PANEL, None, 10.0 * s);
        let h = cell.height();
        let size = h * 0.78;
        let line = Line::new(
            ui,
            &[
                Piece::number(&call.number, bold(size), palette::TEXT),
                Piece::words(" → ", regular(size * 0.8), palette::MUTED),
                Piece::number(call.window.to_string(), bold(size), palette::TEXT),
                Piece::words(format!(" {}", text::CALL_WINDOW), bold(size), palette::TEXT),
            ],
            cell.width() - 40.0 * s,
        );
        line.paint(
            ui,
            cell.shrink2(Vec2::new(22.0 * s, 0.0)),
            Align2::LEFT_CENTER,
        );
    }
    if calls.is_empty() {
        paint::words(
            ui,
            take_top(&mut rest.clone(), row_h),
            Align2::LEFT_CENTER,
            &format!("—  {}", text::NO_CALLS_YET.zh),
            regular(40.0 * s),
            palette::MUTED,
        );
    }
}

/// Every window: number and name, what it serves, and its current ticket or its state.
fn window_cards(ui: &mut Ui, rect: Rect, hall: &HallView, cols: usize, s: f32) {
    let rest = heading(ui, rect, text::WINDOWS, s);
    let count = hall.windows.len();
    let cols = if count > 12 { cols + 1 } else { cols };
    let rows = count.div_ceil(cols).max(1);
    let cells = grid(rest, cols, rows, 10.0 * s);
    for (window, cell) in hall.windows.iter().zip(cells) {
        window_card(ui, cell, hall, window, s);
    }
}

fn window_card(ui: &mut Ui, cell: Rect, hall: &HallView, window: &WindowStatus, s: f32) {
    let (mark, state): (Color32, Option<Words>) = match window.state.as_str() {
        "paused" => (palette::PAUSED, Some(text::PAUSED)),
        "closed" => (palette::WARNING, Some(text::CLOSED)),
        "serving" if window.current_ticket.is_some() => (palette::ACCENT_LINE, None),
        _ => (palette::ACCENT_LINE, Some(text::READY)),
    };
    paint::panel(ui, cell, palette::PANEL, None, 10.0 * s);
    let stripe = Rect::from_min_size(cell.min, Vec2::new(8.0 * s, cell.height()));
    ui.painter().rect_filled(stripe, 4.0 * s, mark);
    let h = cell.height();
    let inner = cell.shrink2(Vec2::new(20.0 * s, h * 0.08));
    let inner = Rect::from_min_max(Pos2::new(inner.left() + 6.0 * s, inner.top()), inner.max);
    let (left, right) = inner.split_left_right_at_fraction(0.56);
    let (name, serves) = left.split_top_bottom_at_fraction(0.56);
    Line::new(
        ui,
        &[
            Piece::words(&window.name_zh, bold(h * 0.34), palette::TEXT),
            Piece::words(
                format!("  {}", window.name_en),
                regular(h * 0.22),
                palette::MUTED,
            ),
        ],
        name.width(),
    )
    .paint(ui, name, Align2::LEFT_CENTER);
    let services: Vec<&str> = window
        .services
        .iter()
        .map(|code| {
            service_names(hall, code)
                .map(|s| s.def.name_zh.as_str())
                .unwrap_or(code)
        })
        .collect();
    paint::words(
        ui,
        serves,
        Align2::LEFT_CENTER,
        &services.join(" · "),
        regular(h * 0.24),
        palette::MUTED,
    );
    match (state, &window.current_ticket) {
        (None, Some(ticket)) => {
            paint::number(
                ui,
                right,
                Align2::RIGHT_CENTER,
                ticket,
                bold(h * 0.62),
                palette::TEXT,
            );
        }
        (Some(words), _) => {
            let color = match window.state.as_str() {
                "paused" => palette::PAUSED,
                "closed" => palette::CLOSED_TEXT,
                _ => palette::MUTED,
            };
            let (zh, en) = right.split_top_bottom_at_fraction(0.6);
            paint::words(
                ui,
                zh,
                Align2::RIGHT_CENTER,
                words.zh,
                bold(h * 0.38),
                color,
            );
            paint::words(
                ui,
                en,
                Align2::RIGHT_CENTER,
                words.en,
                regular(h * 0.22),
                color,
            );
        }
        (None, None) => {}
    }
}

/// Every enabled service: how many wait, and the estimated wait for a ticket taken now.
fn service_rows(ui: &mut Ui, rect: Rect, hall: &HallView, cols: usize, s: f32) {
    let rest = heading(ui, rect, text::SERVICES, s);
    let services: Vec<&ServiceStatus> = hall.services.iter().filter(|s| s.def.enabled).collect();
    let rows = services.len().div_ceil(cols).max(1);
    let cells = grid(rest, cols, rows, 10.0 * s);
    for (service, cell) in services.into_iter().zip(cells) {
        paint::panel(ui, cell, palette::PANEL, None, 10.0 * s);
        let h = cell.height().min(120.0 * s);
        let inner = cell.shrink2(Vec2::new(18.0 * s, cell.height() * 0.1));
        let (top, bottom) = inner.split_top_bottom_at_fraction(0.6);
        // The figures first, on the right; the name takes what is left.
        let count = Line::new(
            ui,
            &[
                Piece::words(
                    text::waiting_zh(service.waiting),
                    bold(h * 0.36),
                    palette::TEXT,
                ),
                Piece::words(
                    format!("  {}", text::waiting_en(service.waiting)),
                    regular(h * 0.22),
                    palette::MUTED,
                ),
            ],
            top.width() * 0.62,
        )
        .paint(ui, top, Align2::RIGHT_CENTER);
        let estimate = match (
            service.estimated_wait_min,
            service.unavailable_reason.as_deref(),
        ) {
            (_, Some("hall_closed")) => {
                format!("{} · {}", text::HALL_CLOSED.zh, text::HALL_CLOSED.en)
            }
            (_, Some("not_open" | "daily_cap_reached")) => {
                format!("{} · {}", text::NOT_ISSUING.zh, text::NOT_ISSUING.en)
            }
            (Some(minutes), _) => format!(
                "{} · {}",
                text::estimate_zh(minutes),
                text::estimate_en(minutes)
            ),
            (None, _) => format!("{} · {}", text::NO_WINDOW_OPEN.zh, text::NO_WINDOW_OPEN.en),
        };
        let wait = paint::words(
            ui,
            Rect::from_min_max(
                Pos2::new(bottom.left() + bottom.width() * 0.3, bottom.top()),
                bottom.max,
            ),
            Align2::RIGHT_CENTER,
            &estimate,
            regular(h * 0.22),
            palette::MUTED,
        );
        let name = Rect::from_min_max(top.min, Pos2::new(count.left() - 12.0 * s, top.bottom()));
        paint::words(
            ui,
            name,
            Align2::LEFT_CENTER,
            &service.def.name_zh,
            bold(h * 0.36),
            palette::TEXT,
        );
        let en = Rect::from_min_max(
            bottom.min,
            Pos2::new(wait.left() - 12.0 * s, bottom.bottom()),
        );
        paint::words(
            ui,
            en,
            Align2::LEFT_CENTER,
            &service.def.name_en,
            regular(h * 0.22),
            palette::MUTED,
        );
    }
}
