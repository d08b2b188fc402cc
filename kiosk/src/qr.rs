//! The ticket's QR code on screen: the `qrcode` crate makes the modules, egui draws them as
//! rectangles (one per horizontal run), snapped to whole pixels so a phone camera reads them.

use egui::{Color32, Painter, Rect, pos2, vec2};
use qrcode::{Color, EcLevel, QrCode};

/// Light modules around the symbol, as the QR standard asks.
const QUIET_ZONE: usize = 4;

/// The modules of one QR code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    /// The text it encodes.
    pub text: String,
    width: usize,
    dark: Vec<bool>,
}

impl QrMatrix {
    /// Encodes `text` with medium error correction; `None` if it is too long for a QR code.
    pub fn encode(text: &str) -> Option<QrMatrix> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
        let dark = code
            .to_colors()
            .into_iter()
            .map(|color| color == Color::Dark)
            .collect();
        Some(QrMatrix {
            text: text.to_owned(),
            width: code.width(),
            dark,
        })
    }

    /// Modules per side, without the quiet zone.
    pub fn width(&self) -> usize {
        self.width
    }

    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.width + x]
    }

    /// Paints the code, with its quiet zone on white, centred in `rect`; returns the square used.
    pub fn paint(&self, painter: &Painter, rect: Rect, pixels_per_point: f32) -> Rect {
        let modules = self.width + 2 * QUIET_ZONE;
        let side_px = (rect.width().min(rect.height()) * pixels_per_point).floor();
        let module_px = (side_px / modules as f32).floor().max(1.0);
        let module = module_px / pixels_per_point;
        let side = module * modules as f32;
        let min = rect.center() - vec2(side, side) / 2.0;
        // Snap the corner to a whole pixel so every module edge is sharp.
        let min = pos2(
            (min.x * pixels_per_point).round() / pixels_per_point,
            (min.y * pixels_per_point).round() / pixels_per_point,
        );
        let square = Rect::from_min_size(min, vec2(side, side));
        painter.rect_filled(square, 0.0, Color32::WHITE);
        let origin = min + vec2(module, module) * QUIET_ZONE as f32;
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if !self.is_dark(x, y) {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < self.width && self.is_dark(x, y) {
                    x += 1;
                }
                let run = Rect::from_min_size(
                    origin + vec2(start as f32 * module, y as f32 * module),
                    vec2((x - start) as f32 * module, module),
                );
                painter.rect_filled(run, 0.0, Color32::BLACK);
            }
        }
        square
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_url_makes_a_small_code_with_finder_patterns() {
        let url = "http://192.168.1.10:8080/t/3q9S1v7m0Zb2XkLw4RtE";
        let matrix = QrMatrix::encode(url).unwrap();
        assert!(
            matrix.width() >= 21 && matrix.width() <= 41,
            "{}",
            matrix.width()
        );
        // The top-left finder pattern: a dark 7×7 ring around a light ring.
        for i in 0..7 {
            assert!(matrix.is_dark(i, 0) && matrix.is_dark(0, i) && matrix.is_dark(6, i));
        }
        assert!(!matrix.is_dark(1, 1) && matrix.is_dark(3, 3));
    }
}
