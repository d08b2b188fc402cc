//! Drawing helpers for the kiosk's screens: the hall's light look, large touch buttons that
//! carry an accessible name (so tests and screen readers find them by their words), text that
//! shrinks to fit its box, and panels.

use std::sync::Arc;

use egui::{
    Color32, CornerRadius, FontFamily, FontId, Galley, Id, Label, Rect, Response, Role, Sense,
    Stroke, StrokeKind, Ui, Vec2, WidgetInfo, pos2, vec2,
};
use jiaohao_ui::{fonts, theme};

/// The page behind the cards: a very light blue-grey.
pub const BACKGROUND: Color32 = Color32::from_rgb(0xF2, 0xF5, 0xF9);
/// A card's border.
pub const CARD_BORDER: Color32 = Color32::from_rgb(0xC5, 0xD0, 0xDE);
/// A button while a finger is on it.
pub const PRESSED: Color32 = Color32::from_rgb(0xDC, 0xE7, 0xF5);
/// A darker police blue for a pressed primary button.
pub const BLUE_PRESSED: Color32 = Color32::from_rgb(0x08, 0x3B, 0x7A);
/// The soft circle behind a service icon.
pub const ICON_BACKGROUND: Color32 = Color32::from_rgb(0xE6, 0xEE, 0xF8);
/// A closed service's button.
pub const CLOSED_FILL: Color32 = Color32::from_rgb(0xEC, 0xEE, 0xF1);
pub const CLOSED_BORDER: Color32 = Color32::from_rgb(0xB4, 0xBB, 0xC6);
/// Red text for closed states and faults: the hall's warning red, darkened to keep 7:1 on the
/// light backgrounds (UI.md asks AAA contrast for all kiosk text).
pub const WARNING_TEXT: Color32 = Color32::from_rgb(0x9E, 0x0B, 0x23);

pub fn font(size: f32, bold: bool) -> FontId {
    if bold {
        FontId::new(size, fonts::bold())
    } else {
        FontId::new(size, FontFamily::Proportional)
    }
}

/// Lays out `text`, wrapped at `width`.
pub fn galley(
    ui: &Ui,
    text: &str,
    size: f32,
    bold: bool,
    color: Color32,
    width: f32,
) -> Arc<Galley> {
    ui.painter()
        .layout(text.to_owned(), font(size, bold), color, width.max(1.0))
}

/// Lays out `text` at `size`, shrinking it (down to `min_size`) until it fits `max`.
pub fn fit(
    ui: &Ui,
    text: &str,
    size: f32,
    min_size: f32,
    bold: bool,
    color: Color32,
    max: Vec2,
) -> Arc<Galley> {
    let mut size = size;
    loop {
        let laid = galley(ui, text, size, bold, color, max.x);
        if (laid.size().y <= max.y && laid.size().x <= max.x + 0.5) || size <= min_size {
            return laid;
        }
        size = (size * 0.92).max(min_size);
    }
}

/// Lays out `text` on one line, shrinking it (down to `min_size`) to fit `width`; wraps only
/// if it still does not fit (so a name never breaks before its last character needlessly).
pub fn fit_line(
    ui: &Ui,
    text: &str,
    size: f32,
    min_size: f32,
    bold: bool,
    color: Color32,
    width: f32,
) -> Arc<Galley> {
    let mut size = size;
    loop {
        let laid = galley(ui, text, size, bold, color, f32::INFINITY);
        if laid.size().x <= width {
            return laid;
        }
        if size <= min_size {
            return galley(ui, text, size, bold, color, width);
        }
        size = (size * 0.94).max(min_size);
    }
}

/// Places a laid-out text as a label (readable by screen readers and tests) at `pos`.
pub fn put(ui: &mut Ui, pos: egui::Pos2, laid: Arc<Galley>) -> Rect {
    let rect = Rect::from_min_size(pos, laid.size());
    ui.put(rect, Label::new(laid).selectable(false));
    rect
}

/// Places `text` wrapped at `width` below `top` (x from `left`), returning the bottom.
#[expect(clippy::too_many_arguments)]
pub fn text_line(
    ui: &mut Ui,
    left: f32,
    top: f32,
    width: f32,
    text: &str,
    size: f32,
    bold: bool,
    color: Color32,
) -> f32 {
    let laid = galley(ui, text, size, bold, color, width);
    put(ui, pos2(left, top), laid).bottom()
}

/// Places `text` centred horizontally in `[left, left + width]` below `top`; returns the bottom.
#[expect(clippy::too_many_arguments)]
pub fn text_centred(
    ui: &mut Ui,
    left: f32,
    top: f32,
    width: f32,
    text: &str,
    size: f32,
    bold: bool,
    color: Color32,
) -> f32 {
    let laid = galley(ui, text, size, bold, color, width);
    let x = left + (width - laid.size().x) / 2.0;
    put(ui, pos2(x, top), laid).bottom()
}

/// How a button looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Filled police blue with white words: the main action of a screen.
    Primary,
    /// White with a blue border: other actions and the service buttons.
    Outline,
    /// On the blue header: a white outline, filled white while the mode is on.
    OnBlue { on: bool },
    /// A closed service: grey, still readable, not tappable.
    Closed,
}

/// The colours a button's contents use.
#[derive(Debug, Clone, Copy)]
pub struct Ink {
    pub text: Color32,
    pub detail: Color32,
    pub icon: Color32,
}

/// A large touch button at `rect`: paints its frame, names it for screen readers and tests,
/// and returns the response with the colours for its contents.
pub fn button(
    ui: &mut Ui,
    id: Id,
    rect: Rect,
    label: &str,
    kind: Kind,
    elderly: bool,
) -> (Response, Ink) {
    let enabled = kind != Kind::Closed;
    let sense = if enabled {
        Sense::click()
    } else {
        Sense::hover()
    };
    let response = ui.interact(rect, id, sense);
    response.widget_info(|| WidgetInfo::labeled(Role::Button, enabled, label));
    let pressed = enabled && response.is_pointer_button_down_on();
    let radius = CornerRadius::same(14);
    let border = if elderly { 4.0 } else { 3.0 };
    let ink = if elderly { Color32::BLACK } else { theme::INK };
    let painter = ui.painter();
    let colours = match kind {
        Kind::Primary => {
            let fill = if pressed {
                BLUE_PRESSED
            } else {
                theme::POLICE_BLUE
            };
            painter.rect_filled(rect, radius, fill);
            Ink {
                text: theme::PAPER,
                detail: theme::PAPER,
                icon: theme::PAPER,
            }
        }
        Kind::Outline => {
            let fill = if pressed { PRESSED } else { theme::PAPER };
            painter.rect_filled(rect, radius, fill);
            painter.rect_stroke(
                rect,
                radius,
                Stroke::new(border, theme::POLICE_BLUE),
                StrokeKind::Inside,
            );
            Ink {
                text: ink,
                detail: if elderly { ink } else { theme::MUTED_INK },
                icon: theme::POLICE_BLUE,
            }
        }
        Kind::OnBlue { on } => {
            let fill = match (on, pressed) {
                (_, true) => PRESSED,
                (true, false) => theme::PAPER,
                (false, false) => theme::POLICE_BLUE,
            };
            painter.rect_filled(rect, radius, fill);
            painter.rect_stroke(
                rect,
                radius,
                Stroke::new(border, theme::PAPER),
                StrokeKind::Inside,
            );
            let text = match (on, pressed) {
                (_, true) => BLUE_PRESSED,
                (true, false) => theme::POLICE_BLUE,
                (false, false) => theme::PAPER,
            };
            Ink {
                text,
                detail: text,
                icon: text,
            }
        }
        Kind::Closed => {
            painter.rect_filled(rect, radius, CLOSED_FILL);
            painter.rect_stroke(
                rect,
                radius,
                Stroke::new(border, CLOSED_BORDER),
                StrokeKind::Inside,
            );
            Ink {
                text: if elderly { ink } else { theme::MUTED_INK },
                detail: WARNING_TEXT,
                icon: theme::MUTED_INK,
            }
        }
    };
    (response, colours)
}

/// Paints one laid-out line of a button centred in `rect`.
pub fn paint_centred(ui: &Ui, rect: Rect, laid: Arc<Galley>, color: Color32) {
    let pos = rect.center() - laid.size() / 2.0;
    ui.painter().galley(pos, laid, color);
}

/// A white card with a border.
pub fn card(ui: &Ui, rect: Rect, border: Color32, width: f32) {
    let radius = CornerRadius::same(16);
    ui.painter().rect_filled(rect, radius, theme::PAPER);
    ui.painter()
        .rect_stroke(rect, radius, Stroke::new(width, border), StrokeKind::Inside);
}

/// Text painted by hand (e.g. a ticket number cropped to its glyphs) still gets a label node,
/// so a screen reader and the tests can read it.
pub fn name_region(ui: &Ui, id: Id, rect: Rect, role: Role, text: &str) {
    let response = ui.interact(rect, id, Sense::hover());
    response.widget_info(|| WidgetInfo::labeled(role, true, text));
}

/// A ticket number, bold and huge, cropped to its digits' height (a CJK font's line box is
/// almost half empty above and below digits). Returns the rect used.
pub fn ticket_number(
    ui: &mut Ui,
    id: Id,
    at: egui::Pos2,
    width: f32,
    number: &str,
    size: f32,
    color: Color32,
) -> Rect {
    // Shrink so the number fits the column.
    let mut size = size;
    let laid = loop {
        let laid = ui
            .painter()
            .layout_no_wrap(number.to_owned(), font(size, true), color);
        if laid.size().x <= width || size < 40.0 {
            break laid;
        }
        size *= 0.92;
    };
    // Noto Sans CJK: ascender 1.16 em, capitals and digits 0.73 em high.
    let baseline = laid
        .rows
        .first()
        .map(|row| row.pos.y + row.row.glyphs.first().map_or(size * 1.16, |g| g.pos.y))
        .unwrap_or(size * 1.16);
    let cap_top = baseline - size * 0.74;
    let shown = Rect::from_min_size(at, vec2(laid.size().x, size * 0.84));
    let pos = pos2(at.x, at.y - cap_top + size * 0.05);
    ui.painter_at(shown.expand(2.0)).galley(pos, laid, color);
    name_region(ui, id, shown, Role::Label, number);
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kiosk_colours_meet_wcag_aaa() {
        for (text, background) in [
            (theme::INK, BACKGROUND),
            (theme::MUTED_INK, BACKGROUND),
            (theme::MUTED_INK, CLOSED_FILL),
            (WARNING_TEXT, CLOSED_FILL),
            (WARNING_TEXT, theme::PAPER),
            (theme::POLICE_BLUE, theme::PAPER),
            (BLUE_PRESSED, PRESSED),
            (theme::PAPER, BLUE_PRESSED),
            (theme::INK, PRESSED),
        ] {
            let ratio = theme::contrast(text, background);
            assert!(ratio >= 7.0, "{text:?} on {background:?}: {ratio:.2}");
        }
    }
}
