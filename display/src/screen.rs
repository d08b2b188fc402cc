//! What one frame draws from, and the parts both modes share: the header with the hall's name,
//! the connection indicator and the clock; the notice ticker; the banner that says the
//! connection is lost; the screens shown before the first snapshot arrives.

use egui::{Align2, Color32, Pos2, Rect, Ui, Vec2};
use jiaohao_ui::LinkStatus;
use jiaohao_wire::HallView;

use crate::paint::{self, Piece, bold, regular};
use crate::palette;
use crate::text;
use crate::ticker::Ticker;

/// The call being made: someone's turn, highlighted for a few seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Highlight {
    pub number: String,
    pub window: u16,
    pub recall: bool,
    /// When it was taken from the stream, in egui's clock (seconds).
    pub since: f64,
}

/// How long a new call stays highlighted.
pub const HIGHLIGHT_SECS: f64 = 10.0;
/// One pulse of the highlight.
pub const PULSE_SECS: f64 = 1.25;

/// The wall clock in the hall's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClockText {
    /// "09:05"
    pub time: String,
    /// "11月23日 星期一"
    pub date_zh: String,
    /// "Mon 23 Nov"
    pub date_en: String,
}

/// Everything one frame is drawn from.
pub struct Screen<'a> {
    pub hall: Option<&'a HallView>,
    pub status: &'a LinkStatus,
    /// The highlighted call, while it is highlighted.
    pub highlight: Option<&'a Highlight>,
    /// egui's clock, for the pulse.
    pub now: f64,
    pub clock: &'a ClockText,
    /// The hub's address, shown while it cannot be reached.
    pub hub: &'a str,
    /// Whether the notice ticker scrolls (else it turns pages).
    pub ticker_scrolls: bool,
    /// Whether the notice strip leads with today's figures.
    pub figures: bool,
}

impl Screen<'_> {
    pub fn live(&self) -> bool {
        *self.status == LinkStatus::Live
    }

    /// 0 → 1 → 0 over one pulse, while the highlight lasts; `None` when nothing is highlighted.
    pub fn pulse(&self) -> Option<f32> {
        let highlight = self.highlight?;
        let age = self.now - highlight.since;
        let phase = (age / PULSE_SECS).fract() * std::f64::consts::TAU;
        Some((0.5 - 0.5 * phase.cos()) as f32)
    }
}

/// The size a layout was designed for, and the factor that scales it to the screen: 1.0 on a
/// 1920×1080 (or 1080×1920) screen.
pub fn scale(rect: Rect) -> f32 {
    let (w, h) = (rect.width(), rect.height());
    let s = if w >= h {
        (w / 1920.0).min(h / 1080.0)
    } else {
        (w / 1080.0).min(h / 1920.0)
    };
    s.clamp(0.25, 8.0)
}

/// Splits `rect` into a `cols` × `rows` grid of cells with `gap` between them, row by row.
pub fn grid(rect: Rect, cols: usize, rows: usize, gap: f32) -> Vec<Rect> {
    let cols = cols.max(1);
    let rows = rows.max(1);
    let w = (rect.width() - gap * (cols - 1) as f32) / cols as f32;
    let h = (rect.height() - gap * (rows - 1) as f32) / rows as f32;
    (0..rows)
        .flat_map(|r| {
            (0..cols).map(move |c| {
                Rect::from_min_size(
                    Pos2::new(
                        rect.left() + c as f32 * (w + gap),
                        rect.top() + r as f32 * (h + gap),
                    ),
                    Vec2::new(w, h),
                )
            })
        })
        .collect()
}

/// Takes a slice of `height` off the top of `rect`.
pub fn take_top(rect: &mut Rect, height: f32) -> Rect {
    let top = Rect::from_min_max(
        rect.min,
        Pos2::new(rect.right(), (rect.top() + height).min(rect.bottom())),
    );
    rect.min.y = top.bottom();
    top
}

/// Takes a slice of `height` off the bottom of `rect`.
pub fn take_bottom(rect: &mut Rect, height: f32) -> Rect {
    let bottom = Rect::from_min_max(
        Pos2::new(rect.left(), (rect.bottom() - height).max(rect.top())),
        rect.max,
    );
    rect.max.y = bottom.top();
    bottom
}

/// The header bar: a title on the left; the connection and the clock on the right.
pub fn header(ui: &mut Ui, rect: Rect, screen: &Screen<'_>, title_zh: &str, title_en: &str) {
    let s = scale(ui.max_rect());
    ui.painter().rect_filled(rect, 0.0, palette::BAR);
    let inner = rect.shrink2(Vec2::new(28.0 * s, 8.0 * s));

    // The clock: time large, the date to its right.
    let date_w = 180.0 * s;
    let time_w = 200.0 * s;
    let date_rect = Rect::from_min_max(Pos2::new(inner.right() - date_w, inner.top()), inner.max);
    let time_rect = Rect::from_min_max(
        Pos2::new(date_rect.left() - 16.0 * s - time_w, inner.top()),
        Pos2::new(date_rect.left() - 16.0 * s, inner.bottom()),
    );
    let clock = time_rect.union(date_rect);
    paint::number(
        ui,
        time_rect,
        Align2::RIGHT_CENTER,
        &screen.clock.time,
        bold(rect.height() * 0.56),
        palette::TEXT,
    );
    let date_rect = date_rect.shrink2(Vec2::new(0.0, 8.0 * s));
    let (zh, en) = date_rect.split_top_bottom_at_fraction(0.55);
    paint::words(
        ui,
        zh,
        Align2::RIGHT_BOTTOM,
        &screen.clock.date_zh,
        regular(rect.height() * 0.25),
        palette::TEXT,
    );
    paint::words(
        ui,
        en,
        Align2::RIGHT_TOP,
        &screen.clock.date_en,
        regular(rect.height() * 0.22),
        palette::TEXT,
    );

    // The connection indicator: a small dot and two words, as wide as they need.
    let indicator_w = connection_width(ui, screen.status, s).min(420.0 * s);
    let indicator = Rect::from_min_max(
        Pos2::new(clock.left() - indicator_w - 28.0 * s, inner.top()),
        Pos2::new(clock.left() - 28.0 * s, inner.bottom()),
    );
    connection(ui, indicator, screen.status, s);

    // The title, in what is left.
    let title = Rect::from_min_max(
        inner.min,
        Pos2::new(indicator.left() - 16.0 * s, inner.bottom()),
    );
    let (zh, en) = title.split_top_bottom_at_fraction(0.62);
    paint::words(
        ui,
        zh,
        Align2::LEFT_BOTTOM,
        title_zh,
        bold(rect.height() * 0.38),
        palette::TEXT,
    );
    paint::words(
        ui,
        en,
        Align2::LEFT_TOP,
        title_en,
        regular(rect.height() * 0.2),
        palette::TEXT,
    );
}

fn connection_words(status: &LinkStatus) -> (text::Words, Color32) {
    match status {
        LinkStatus::Live => (text::LIVE, palette::LIVE),
        LinkStatus::Connecting => (text::CONNECTING, palette::MUTED),
        LinkStatus::Reconnecting { .. } => (text::RECONNECTING, palette::WARNING),
    }
}

const INDICATOR_TEXT: f32 = 22.0;

fn connection_width(ui: &Ui, status: &LinkStatus, s: f32) -> f32 {
    let (words, _) = connection_words(status);
    let line = paint::Line::new(
        ui,
        &[Piece::words(
            format!("{} {}", words.zh, words.en),
            regular(INDICATOR_TEXT * s),
            palette::TEXT,
        )],
        f32::INFINITY,
    );
    line.width() + 34.0 * s
}

/// The small connection indicator: a dot (light blue when live, red otherwise) and the state
/// in both languages, right-aligned in `rect`.
fn connection(ui: &mut Ui, rect: Rect, status: &LinkStatus, s: f32) {
    let (words, dot) = connection_words(status);
    let line = paint::Line::new(
        ui,
        &[Piece::words(
            format!("{} {}", words.zh, words.en),
            regular(INDICATOR_TEXT * s),
            palette::TEXT,
        )],
        rect.width() - 34.0 * s,
    );
    let text_rect = line.paint(ui, rect, Align2::RIGHT_CENTER);
    let center = Pos2::new(text_rect.left() - 18.0 * s, rect.center().y);
    ui.painter().circle_filled(center, 8.0 * s, dot);
    if !matches!(status, LinkStatus::Live) {
        ui.painter()
            .circle_stroke(center, 8.0 * s, egui::Stroke::new(2.0 * s, palette::TEXT));
    }
}

/// Today's figures (警务公开) as the notice strip shows them, Chinese then English; nothing
/// before the hall's first ticket is called or from a hub of before figures.
pub fn figures_line(hall: &HallView) -> Option<(String, String)> {
    let today = hall.today.as_ref()?;
    if today.served == 0 && today.mean_wait_min.is_none() {
        return None;
    }
    let mut zh = vec![format!("今日已办结 {} 件", today.served)];
    let mut en = vec![format!("Today: {} served", today.served)];
    if let Some(wait) = today.mean_wait_min {
        zh.push(format!("平均等候 {wait:.1} 分钟"));
        en.push(format!("mean wait {wait:.1} min"));
    }
    if let Some(share) = today.within_target_pct {
        zh.push(format!("等候达标率 {share:.1}%"));
        en.push(format!("{share:.1}% within target"));
    }
    if let Some(share) = today.satisfied_pct {
        zh.push(format!("满意率 {share:.1}%"));
        en.push(format!("{share:.1}% satisfied"));
    }
    Some((zh.join(" · "), en.join(" · ")))
}

/// The notices of the hall, Chinese and English in turn, as one line of text; led by today's
/// figures when `figures` is set.
pub fn notice_line(hall: &HallView, figures: bool) -> String {
    let mut items = Vec::new();
    if figures && let Some((zh, en)) = figures_line(hall) {
        items.push(zh);
        items.push(en);
    }
    let longest = hall.notices_zh.len().max(hall.notices_en.len());
    for i in 0..longest {
        if let Some(zh) = hall.notices_zh.get(i) {
            items.push(zh.trim().to_owned());
        }
        if let Some(en) = hall.notices_en.get(i) {
            items.push(en.trim().to_owned());
        }
    }
    items.retain(|item| !item.is_empty());
    items.join("        ")
}

/// The notice bar: a fixed "警务公开" tab, then the notices, scrolling or turning pages.
pub fn ticker(ui: &mut Ui, rect: Rect, screen: &Screen<'_>, state: &mut Ticker) {
    let s = scale(ui.max_rect());
    let painter = ui.painter().clone();
    painter.rect_filled(rect, 0.0, palette::PANEL);
    painter.line_segment(
        [rect.left_top(), rect.right_top()],
        egui::Stroke::new(3.0 * s, palette::BAR),
    );
    let tab_w = 220.0 * s;
    let (tab, rest) = rect.split_left_right_at_x(rect.left() + tab_w);
    painter.rect_filled(tab, 0.0, palette::BAR);
    let size = rect.height() * 0.42;
    paint::text(
        ui,
        tab.shrink(6.0 * s),
        Align2::CENTER_CENTER,
        Piece::words(
            format!("{} {}", text::NOTICES.zh, text::NOTICES.en),
            bold(size * 0.8),
            palette::TEXT,
        ),
    );
    let line = screen
        .hall
        .map(|hall| notice_line(hall, screen.figures))
        .unwrap_or_default();
    let lane = rest.shrink2(Vec2::new(16.0 * s, 0.0));
    let galley = painter.layout_no_wrap(line.clone(), regular(size), palette::TEXT);
    let place = state.place(
        &line,
        &galley,
        lane.width(),
        screen.now,
        screen.ticker_scrolls,
        s,
    );
    if line.is_empty() {
        return;
    }
    let clip = Rect::from_min_max(
        lane.min,
        Pos2::new(lane.left() + place.clip_right, lane.bottom()),
    );
    let top = lane.center().y - galley.size().y / 2.0;
    let clipped = painter.with_clip_rect(clip);
    clipped.galley(
        Pos2::new(lane.left() + place.x, top),
        galley.clone(),
        palette::TEXT,
    );
    if let Some(repeat) = place.repeat {
        clipped.galley(
            Pos2::new(lane.left() + place.x + repeat, top),
            galley,
            palette::TEXT,
        );
    }
    paint::label(ui, lane, &line);
}

/// Dims what is shown and says plainly, across the top of the body, that the connection is
/// lost: old data must never look live.
pub fn stale_banner(ui: &mut Ui, body: Rect) {
    let s = scale(ui.max_rect());
    ui.painter().rect_filled(
        body,
        0.0,
        Color32::from_rgba_unmultiplied(
            palette::BACKGROUND.r(),
            palette::BACKGROUND.g(),
            palette::BACKGROUND.b(),
            170,
        ),
    );
    let banner = Rect::from_center_size(
        Pos2::new(body.center().x, body.top() + 90.0 * s),
        Vec2::new(body.width().min(1500.0 * s), 140.0 * s),
    );
    paint::panel(
        ui,
        banner,
        palette::BACKGROUND,
        Some((6.0 * s, palette::WARNING)),
        12.0 * s,
    );
    let inner = banner.shrink(18.0 * s);
    let (zh, en) = inner.split_top_bottom_at_fraction(0.58);
    paint::words(
        ui,
        zh,
        Align2::CENTER_CENTER,
        text::STALE.zh,
        bold(46.0 * s),
        palette::CLOSED_TEXT,
    );
    paint::words(
        ui,
        en,
        Align2::CENTER_CENTER,
        text::STALE.en,
        regular(30.0 * s),
        palette::TEXT,
    );
}

/// Before the first snapshot: what the screen is waiting for, in words.
pub fn waiting_screen(ui: &mut Ui, rect: Rect, screen: &Screen<'_>) {
    let s = scale(rect);
    let words = match screen.status {
        LinkStatus::Reconnecting { .. } => text::UNREACHABLE_SCREEN,
        _ => text::CONNECTING_SCREEN,
    };
    let color = match screen.status {
        LinkStatus::Reconnecting { .. } => palette::CLOSED_TEXT,
        _ => palette::TEXT,
    };
    let middle = Rect::from_center_size(rect.center(), Vec2::new(rect.width() * 0.9, 300.0 * s));
    let mut area = middle;
    let zh = take_top(&mut area, 110.0 * s);
    let en = take_top(&mut area, 70.0 * s);
    paint::words(
        ui,
        zh,
        Align2::CENTER_CENTER,
        words.zh,
        bold(72.0 * s),
        color,
    );
    paint::words(
        ui,
        en,
        Align2::CENTER_CENTER,
        words.en,
        regular(44.0 * s),
        palette::TEXT,
    );
    paint::words(
        ui,
        area,
        Align2::CENTER_CENTER,
        screen.hub,
        regular(28.0 * s),
        palette::MUTED,
    );
}
