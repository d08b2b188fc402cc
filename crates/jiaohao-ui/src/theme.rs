//! The hall's colours (UI.md): one police blue accent, red only for warnings and closed
//! states, green only for "your turn"; light for the kiosk, dark navy for the wall display.

use egui::Color32;

pub const POLICE_BLUE: Color32 = Color32::from_rgb(0x0B, 0x4E, 0xA2);
pub const WARNING_RED: Color32 = Color32::from_rgb(0xC8, 0x10, 0x2E);
pub const YOUR_TURN_GREEN: Color32 = Color32::from_rgb(0x0A, 0x7A, 0x3D);
pub const INK: Color32 = Color32::from_rgb(0x11, 0x18, 0x27);
pub const PAPER: Color32 = Color32::from_rgb(0xFF, 0xFF, 0xFF);
pub const MUTED_INK: Color32 = Color32::from_rgb(0x37, 0x41, 0x51);
pub const NAVY: Color32 = Color32::from_rgb(0x07, 0x1A, 0x3A);
pub const NAVY_PANEL: Color32 = Color32::from_rgb(0x0E, 0x2A, 0x5C);
pub const ON_NAVY: Color32 = Color32::from_rgb(0xF5, 0xF7, 0xFA);
pub const AMBER: Color32 = Color32::from_rgb(0xF2, 0xB1, 0x34);

/// Relative luminance of an sRGB colour (WCAG 2).
pub fn luminance(color: Color32) -> f64 {
    let channel = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(color.r()) + 0.7152 * channel(color.g()) + 0.0722 * channel(color.b())
}

/// The WCAG contrast ratio of two colours, from 1 to 21.
pub fn contrast(a: Color32, b: Color32) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (light, dark) = if la > lb { (la, lb) } else { (lb, la) };
    (light + 0.05) / (dark + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_colours_meet_wcag_aaa() {
        for (text, background) in [
            (INK, PAPER),
            (MUTED_INK, PAPER),
            (PAPER, POLICE_BLUE),
            (ON_NAVY, NAVY),
            (ON_NAVY, NAVY_PANEL),
            (AMBER, NAVY),
        ] {
            let ratio = contrast(text, background);
            assert!(ratio >= 7.0, "{text:?} on {background:?}: {ratio:.2}");
        }
        assert!((contrast(Color32::BLACK, Color32::WHITE) - 21.0).abs() < 1e-9);
    }
}
