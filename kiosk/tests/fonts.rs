//! The bundled font has every character the kiosk can show: every UI string in both
//! languages, every character written in the kiosk's source, and the default hall's names,
//! documents, fees and notices. `egui_kittest` panics on a character no font can draw, which
//! these tests rely on (and check).

use egui_kittest::Harness;
use jiaohao_kiosk::text::{EN, ZH};
use jiaohao_wire::HallFile;

fn render(strings: Vec<String>) {
    let mut harness = Harness::builder()
        .with_size([1920.0, 1080.0])
        .with_context_setup(jiaohao_ui::fonts::install)
        .build_ui(move |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                for text in &strings {
                    ui.label(text.as_str());
                    ui.label(egui::RichText::new(text.as_str()).family(jiaohao_ui::fonts::bold()));
                }
            });
        });
    harness.run();
}

/// Every non-ASCII character in the kiosk's source: what it can draw or print (comments too,
/// which costs nothing and keeps the check simple).
fn source_characters() -> String {
    let sources = [
        include_str!("../src/app.rs"),
        include_str!("../src/app/screens.rs"),
        include_str!("../src/draw.rs"),
        include_str!("../src/lib.rs"),
        include_str!("../src/slip.rs"),
        include_str!("../src/text.rs"),
    ];
    let mut chars: Vec<char> = sources
        .iter()
        .flat_map(|s| s.chars())
        .filter(|c| !c.is_ascii())
        .collect();
    chars.sort_unstable();
    chars.dedup();
    chars.into_iter().collect()
}

#[test]
fn the_font_has_every_character_of_both_languages() {
    let mut strings: Vec<String> = ZH
        .all()
        .into_iter()
        .chain(EN.all())
        .map(str::to_owned)
        .collect();
    strings.push(source_characters());
    let hall: HallFile = toml::from_str(jiaohao_hub::hall_file::DEFAULT_HALL).unwrap();
    strings.extend([hall.hall.name_zh, hall.hall.name_en]);
    strings.extend(hall.hall.notices_zh);
    strings.extend(hall.hall.notices_en);
    for service in hall.service {
        strings.extend([
            service.name_zh,
            service.name_en,
            service.fee_note_zh,
            service.fee_note_en,
        ]);
        strings.extend(service.documents_zh);
        strings.extend(service.documents_en);
    }
    render(strings);
}

#[test]
fn a_character_missing_from_the_font_fails_the_check() {
    // ♿ is not in Noto Sans CJK SC: the harness must refuse it, or the test above proves nothing.
    let result = std::panic::catch_unwind(|| render(vec!["轮椅 ♿".to_owned()]));
    assert!(result.is_err(), "a missing glyph was not noticed");
}
