//! The bundled Noto Sans SC subset (GB2312 + ASCII + punctuation, SIL OFL 1.1), so Chinese
//! renders on a machine with no CJK font installed.

use std::sync::Arc;

use egui::{FontData, FontDefinitions, FontFamily};

pub const REGULAR: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC-Regular-subset.ttf");
pub const BOLD: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC-Bold-subset.ttf");

/// The family name of the bold face, for `egui::FontFamily::Name`.
pub const BOLD_FAMILY: &str = "bold";

/// Font definitions with Noto Sans SC first for proportional text (egui's own fonts remain as
/// fallbacks for symbols) and a `bold` family for numbers and headings.
pub fn definitions() -> FontDefinitions {
    let mut fonts = FontDefinitions::default();
    fonts.font_data.insert(
        "noto-sc".to_owned(),
        Arc::new(FontData::from_static(REGULAR)),
    );
    fonts.font_data.insert(
        "noto-sc-bold".to_owned(),
        Arc::new(FontData::from_static(BOLD)),
    );
    for family in [FontFamily::Proportional, FontFamily::Monospace] {
        fonts
            .families
            .entry(family)
            .or_default()
            .insert(0, "noto-sc".to_owned());
    }
    let mut bold = vec!["noto-sc-bold".to_owned()];
    bold.extend(
        fonts
            .families
            .get(&FontFamily::Proportional)
            .cloned()
            .unwrap_or_default(),
    );
    fonts
        .families
        .insert(FontFamily::Name(BOLD_FAMILY.into()), bold);
    fonts
}

/// Installs the fonts into an egui context.
pub fn install(ctx: &egui::Context) {
    ctx.set_fonts(definitions());
}

/// The bold family, for ticket numbers and headings.
pub fn bold() -> FontFamily {
    FontFamily::Name(BOLD_FAMILY.into())
}
