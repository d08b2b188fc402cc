//! Drawing helpers for a screen read from across a hall: lines of text whose pieces differ in
//! size but share one baseline, ticket numbers in fixed-width cells (A012 and A112 line up and
//! never jump, though the font's digits are proportional), text that shrinks to fit its box
//! rather than overflow, and an accessible label on everything drawn, so a screen reader (and
//! `egui_kittest`) finds the text by what it says.

use std::sync::Arc;

use egui::{
    Align2, Color32, FontId, Galley, Pos2, Rect, Role, Sense, Stroke, Ui, Vec2, WidgetInfo,
};

/// The regular face at `size` points.
pub fn regular(size: f32) -> FontId {
    FontId::proportional(size)
}

/// The bold face at `size` points, for numbers and headings.
pub fn bold(size: f32) -> FontId {
    FontId::new(size, jiaohao_ui::fonts::bold())
}

/// One piece of a line: words, or a ticket or window number in fixed-width cells.
#[derive(Debug, Clone)]
pub struct Piece {
    pub text: String,
    pub font: FontId,
    pub color: Color32,
    pub tabular: bool,
}

impl Piece {
    pub fn words(text: impl Into<String>, font: FontId, color: Color32) -> Piece {
        Piece {
            text: text.into(),
            font,
            color,
            tabular: false,
        }
    }

    pub fn number(text: impl Into<String>, font: FontId, color: Color32) -> Piece {
        Piece {
            text: text.into(),
            font,
            color,
            tabular: true,
        }
    }

    fn scaled(&self, factor: f32) -> Piece {
        Piece {
            font: FontId::new(self.font.size * factor, self.font.family.clone()),
            ..self.clone()
        }
    }
}

/// A piece laid out: its galleys (one per cell for a number) and where each starts.
struct Laid {
    size: f32,
    glyphs: Vec<(f32, Arc<Galley>)>,
    width: f32,
    ascent: f32,
    descent: f32,
}

fn baseline(galley: &Galley, font_size: f32) -> f32 {
    galley
        .rows
        .first()
        .and_then(|row| row.glyphs.first().map(|g| row.pos.y + g.pos.y))
        .unwrap_or(font_size * 0.85)
}

/// The width of the widest digit, and of the widest capital but the extra-wide M and W: the
/// cells of a ticket number.
fn cells(ui: &Ui, font: &FontId) -> (f32, f32) {
    ui.ctx().fonts_mut(|fonts| {
        let mut widest = |chars: &mut dyn Iterator<Item = char>| {
            chars
                .map(|c| fonts.glyph_width(font, c))
                .fold(0.0_f32, f32::max)
        };
        (
            widest(&mut ('0'..='9')),
            widest(&mut ('A'..='Z').filter(|c| !matches!(c, 'M' | 'W'))),
        )
    })
}

fn lay_out(ui: &Ui, piece: &Piece) -> Laid {
    let painter = ui.painter();
    if !piece.tabular {
        let galley = painter.layout_no_wrap(piece.text.clone(), piece.font.clone(), piece.color);
        let ascent = baseline(&galley, piece.font.size);
        let size = galley.size();
        return Laid {
            size: piece.font.size,
            width: size.x,
            ascent,
            descent: size.y - ascent,
            glyphs: vec![(0.0, galley)],
        };
    }
    let (digit, letter) = cells(ui, &piece.font);
    let mut x = 0.0;
    let mut glyphs = Vec::new();
    let (mut ascent, mut descent) = (0.0_f32, 0.0_f32);
    for c in piece.text.chars() {
        let galley = painter.layout_no_wrap(c.to_string(), piece.font.clone(), piece.color);
        let cell = if c.is_ascii_digit() {
            digit
        } else if c.is_ascii_uppercase() {
            letter.max(galley.size().x)
        } else {
            galley.size().x
        };
        let a = baseline(&galley, piece.font.size);
        ascent = ascent.max(a);
        descent = descent.max(galley.size().y - a);
        glyphs.push((x + (cell - galley.size().x) / 2.0, galley));
        x += cell;
    }
    Laid {
        size: piece.font.size,
        glyphs,
        width: x,
        ascent,
        descent,
    }
}

/// A line of pieces, laid out once and then measured or painted.
pub struct Line {
    laid: Vec<Laid>,
    label: String,
}

impl Line {
    /// Lays out `pieces`, shrunk evenly so the line is at most `max_width` wide.
    pub fn new(ui: &Ui, pieces: &[Piece], max_width: f32) -> Line {
        let label = pieces
            .iter()
            .map(|p| p.text.trim())
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let mut laid: Vec<Laid> = pieces.iter().map(|p| lay_out(ui, p)).collect();
        let width: f32 = laid.iter().map(|l| l.width).sum();
        if width > max_width && width > 0.0 && max_width > 0.0 {
            let factor = max_width / width;
            laid = pieces
                .iter()
                .map(|p| lay_out(ui, &p.scaled(factor)))
                .collect();
        }
        Line { laid, label }
    }

    /// The same line with another accessible label (empty: none, when another line carries
    /// the label of both).
    pub fn labelled(mut self, label: impl Into<String>) -> Line {
        self.label = label.into();
        self
    }

    pub fn width(&self) -> f32 {
        self.laid.iter().map(|l| l.width).sum()
    }

    /// The largest font size in the line, after any shrinking.
    pub fn em(&self) -> f32 {
        self.laid.iter().map(|l| l.size).fold(0.0, f32::max)
    }

    pub fn ascent(&self) -> f32 {
        self.laid.iter().map(|l| l.ascent).fold(0.0, f32::max)
    }

    pub fn height(&self) -> f32 {
        self.ascent() + self.laid.iter().map(|l| l.descent).fold(0.0, f32::max)
    }

    pub fn size(&self) -> Vec2 {
        Vec2::new(self.width(), self.height())
    }

    /// Paints the line aligned in `rect` and gives it an accessible label; returns where.
    pub fn paint(self, ui: &mut Ui, rect: Rect, align: Align2) -> Rect {
        let at = align.align_size_within_rect(self.size(), rect);
        let baseline = at.min.y + self.ascent();
        self.paint_on_baseline(ui, at.min.x, baseline)
    }

    /// Paints the line starting at `left` with its baseline at `baseline`; returns its box.
    pub fn paint_on_baseline(self, ui: &mut Ui, left: f32, baseline: f32) -> Rect {
        let at = Rect::from_min_size(Pos2::new(left, baseline - self.ascent()), self.size());
        let painter = ui.painter().clone();
        let mut x = left;
        for laid in &self.laid {
            let top = baseline - laid.ascent;
            for (dx, galley) in &laid.glyphs {
                painter.galley(Pos2::new(x + dx, top), galley.clone(), Color32::WHITE);
            }
            x += laid.width;
        }
        label(ui, at, &self.label);
        at
    }
}

/// Gives `rect` an accessible label, as `egui::Label` would.
pub fn label(ui: &mut Ui, rect: Rect, text: &str) {
    if text.is_empty() {
        return;
    }
    let response = ui.allocate_rect(rect, Sense::hover());
    response.widget_info(|| WidgetInfo::labeled(Role::Label, true, text));
}

/// Paints one piece of text in `rect`, shrunk to fit its width.
pub fn text(ui: &mut Ui, rect: Rect, align: Align2, piece: Piece) -> Rect {
    Line::new(ui, &[piece], rect.width()).paint(ui, rect, align)
}

/// Paints words in `rect`, shrunk to fit.
pub fn words(
    ui: &mut Ui,
    rect: Rect,
    align: Align2,
    text_: &str,
    font: FontId,
    color: Color32,
) -> Rect {
    text(ui, rect, align, Piece::words(text_, font, color))
}

/// Paints a ticket number in fixed-width cells in `rect`, shrunk to fit.
pub fn number(
    ui: &mut Ui,
    rect: Rect,
    align: Align2,
    number: &str,
    font: FontId,
    color: Color32,
) -> Rect {
    text(ui, rect, align, Piece::number(number, font, color))
}

/// A filled panel with rounded corners and an optional outline.
pub fn panel(ui: &Ui, rect: Rect, fill: Color32, outline: Option<(f32, Color32)>, radius: f32) {
    let painter = ui.painter();
    painter.rect_filled(rect, radius, fill);
    if let Some((width, color)) = outline {
        painter.rect_stroke(
            rect,
            radius,
            Stroke::new(width, color),
            egui::StrokeKind::Inside,
        );
    }
}
