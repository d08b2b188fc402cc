//! The wall display's colours (UI.md): light text on deep navy, the police blue as the one
//! accent, red only for closed windows and the lost connection, green only for the call that
//! is someone's turn. Every text colour meets WCAG AAA (7:1) on the surfaces it is drawn on.

use egui::Color32;
use jiaohao_ui::theme;

/// The screen's background.
pub const BACKGROUND: Color32 = theme::NAVY;
/// Cards and panels.
pub const PANEL: Color32 = theme::NAVY_PANEL;
/// The header and ticker bars.
pub const BAR: Color32 = theme::POLICE_BLUE;
/// Outlines of panels: the accent, lighter so it shows on navy.
pub const ACCENT_LINE: Color32 = Color32::from_rgb(0x2F, 0x74, 0xD0);

/// Main text.
pub const TEXT: Color32 = theme::ON_NAVY;
/// Secondary text (English lines, captions).
pub const MUTED: Color32 = Color32::from_rgb(0xC9, 0xD3, 0xE3);
/// A paused window: a pause is a notice, not an alarm.
pub const PAUSED: Color32 = theme::AMBER;
/// Text of a closed window or the lost connection, light enough to read on navy.
pub const CLOSED_TEXT: Color32 = Color32::from_rgb(0xFF, 0xA3, 0xAD);
/// Red marks (bars, dots, outlines) of closed windows and the lost connection.
pub const WARNING: Color32 = theme::WARNING_RED;
/// The call being made: someone's turn. For marks and outlines.
pub const YOUR_TURN: Color32 = theme::YOUR_TURN_GREEN;
/// Text of the call being made, light enough to read on navy.
pub const YOUR_TURN_TEXT: Color32 = Color32::from_rgb(0x7C, 0xE3, 0xA1);
/// The live-connection dot (a mark, never text).
pub const LIVE: Color32 = Color32::from_rgb(0x9C, 0xC4, 0xF5);

/// Every (text, surface) pair the display draws, for the contrast check.
pub const TEXT_ON_SURFACE: &[(Color32, Color32)] = &[
    (TEXT, BACKGROUND),
    (TEXT, PANEL),
    (TEXT, BAR),
    (MUTED, BACKGROUND),
    (MUTED, PANEL),
    (PAUSED, BACKGROUND),
    (PAUSED, PANEL),
    (CLOSED_TEXT, BACKGROUND),
    (CLOSED_TEXT, PANEL),
    (YOUR_TURN_TEXT, BACKGROUND),
    (YOUR_TURN_TEXT, PANEL),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_colour_meets_wcag_aaa_on_its_surface() {
        for (text, surface) in TEXT_ON_SURFACE {
            let ratio = theme::contrast(*text, *surface);
            assert!(ratio >= 7.0, "{text:?} on {surface:?}: {ratio:.2}");
        }
    }
}
