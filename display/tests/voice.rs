//! Voice announcements: the clips of a call, a recall and a burst; the WAVs the display writes
//! with `--audio-out file:DIR` for calls made over the hub's API, in order, none dropped, each
//! exactly as long as its clips and pauses.

use std::path::{Path, PathBuf};

use egui_kittest::kittest::Queryable;
use jiaohao_display::voice::{self, Call, Part, Voice};
use jiaohao_display::{AudioOut, DisplayApp, DisplayConfig};

use crate::support::{LANDSCAPE, TestHub, harness, wait_for};

fn call(number: &str, window: u16, recall: bool) -> Call {
    Call {
        number: number.into(),
        service: "hukou".into(),
        window,
        recall,
    }
}

fn strings(clips: &[&str]) -> Vec<String> {
    clips.iter().map(|c| (*c).to_owned()).collect()
}

#[test]
fn a012_to_window_3_is_chime_then_qing_a_ling_yao_er_hao_dao_san_hao_chuangkou_banli() {
    assert_eq!(
        voice::clips(&call("A012", 3, false), Voice::Zh),
        strings(&[
            "zh/chime",
            "zh/qing",
            "zh/A",
            "zh/0",
            "zh/1-yao",
            "zh/2",
            "zh/hao",
            "zh/dao",
            "zh/3",
            "zh/hao",
            "zh/chuangkou",
            "zh/banli",
        ])
    );
}

#[test]
fn english_follows_the_mandarin_when_configured() {
    let clips = voice::clips(&call("A012", 3, false), Voice::ZhEn);
    assert_eq!(
        clips[..12],
        voice::clips(&call("A012", 3, false), Voice::Zh)[..]
    );
    assert_eq!(
        clips[12..],
        strings(&[
            "en/number",
            "en/A",
            "en/0",
            "en/1",
            "en/2",
            "en/please-go-to-window",
            "en/3",
        ])
    );
    assert!(voice::clips(&call("A012", 3, false), Voice::Off).is_empty());
}

#[test]
fn a_recall_is_announced_again_with_the_same_words() {
    assert_eq!(
        voice::clips(&call("B007", 12, true), Voice::Zh),
        voice::clips(&call("B007", 12, false), Voice::Zh)
    );
    assert_eq!(
        voice::clips(&call("B007", 12, true), Voice::Zh)[8..10],
        strings(&["zh/1-yao", "zh/2"]),
        "window 12 is read 幺 二"
    );
}

#[test]
fn a_burst_of_five_calls_maps_to_five_clip_lists_in_order() {
    let burst = [
        call("A001", 1, false),
        call("B001", 2, false),
        call("C001", 5, false),
        call("D001", 8, false),
        call("E001", 9, false),
    ];
    let letters: Vec<String> = burst
        .iter()
        .map(|c| voice::clips(c, Voice::Zh)[2].clone())
        .collect();
    assert_eq!(letters, strings(&["zh/A", "zh/B", "zh/C", "zh/D", "zh/E"]));
    let windows: Vec<String> = burst
        .iter()
        .map(|c| voice::clips(c, Voice::Zh)[8].clone())
        .collect();
    assert_eq!(
        windows,
        strings(&["zh/1-yao", "zh/2", "zh/5", "zh/8", "zh/9"])
    );
}

/// The number of samples of a shipped clip, from its file: a plain 44-byte header, then
/// 16-bit mono samples (assets/voice/README.md).
fn clip_samples(name: &str) -> usize {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../assets/voice")
        .join(format!("{name}.wav"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[36..40], b"data", "{name} has the plain header");
    (bytes.len() - 44) / 2
}

/// The length an announcement must have: its clips end to end, and its pauses at 22 050 Hz.
fn expected_samples(call: &Call, voice: Voice) -> usize {
    voice::script(call, voice)
        .iter()
        .map(|part| match part {
            Part::Clip(name) => clip_samples(name),
            Part::Pause { ms } => *ms as usize * 22_050 / 1000,
        })
        .sum()
}

fn wav_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the audio directory")
        .map(|entry| entry.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    files.sort();
    files
}

#[test]
fn a_burst_of_calls_over_the_api_is_written_in_order_each_with_the_expected_length() {
    let hub = TestHub::start();
    let audio = tempfile::tempdir().expect("a directory for the WAVs");
    let config = DisplayConfig {
        voice: Voice::ZhEn,
        audio_out: AudioOut::Files(audio.path().to_path_buf()),
        ..DisplayConfig::hall(hub.url())
    };
    let app = DisplayApp::new(config).expect("the display starts");
    let mut display = harness(app, LANDSCAPE);
    wait_for(&mut display, "the first snapshot", |h| {
        h.state().calls().is_empty() && h.query_all_by_label_contains("实时").next().is_some()
    });

    // Five windows, five services: a burst of five calls, then a recall.
    let plan = [
        (1, "hukou"),
        (4, "id_card"),
        (5, "vehicle"),
        (8, "violation"),
        (10, "exit_entry"),
    ];
    // Each ticket is called as soon as it is issued, so which ticket a window gets does not
    // depend on how the call-next policy breaks ties between services.
    let mut expected = Vec::new();
    for (window, service) in plan {
        hub.window(window, "open");
        let issued = hub.issue(service);
        let ticket = hub.call_next(window);
        assert_eq!(ticket.number, issued.number);
        expected.push(call(&ticket.number, window, false));
    }
    hub.recall(1);
    expected.push(call(&expected[0].number, 1, true));

    wait_for(&mut display, "six calls taken for announcing", |h| {
        h.state().calls().len() >= 6
    });
    display.state_mut().finish_announcements();
    let taken: Vec<(String, u16, bool)> = display
        .state()
        .calls()
        .iter()
        .map(|c| (c.number.clone(), c.window, c.recall))
        .collect();
    let planned: Vec<(String, u16, bool)> = expected
        .iter()
        .map(|c| (c.number.clone(), c.window, c.recall))
        .collect();
    assert_eq!(taken, planned, "every call, in the order made");

    let files = wav_files(audio.path());
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let wanted: Vec<String> = expected
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{:04}-{}-{}.wav", i + 1, c.number, c.window))
        .collect();
    assert_eq!(names, wanted, "one numbered WAV per announcement, in order");
    for (file, call) in files.iter().zip(&expected) {
        let bytes = std::fs::read(file).expect("the WAV");
        assert_eq!(&bytes[..4], b"RIFF");
        assert_eq!(u16::from_le_bytes([bytes[22], bytes[23]]), 1, "mono");
        assert_eq!(
            u32::from_le_bytes([bytes[24], bytes[25], bytes[26], bytes[27]]),
            22_050
        );
        let samples = (bytes.len() - 44) / 2;
        assert_eq!(
            samples,
            expected_samples(call, Voice::ZhEn),
            "{} is its clips plus its pauses",
            file.display()
        );
    }
    // About 6.4 s of Mandarin and 4–5 s of English: a sanity check on the whole.
    let first = expected_samples(&expected[0], Voice::ZhEn) as f64 / 22_050.0;
    assert!((9.0..14.0).contains(&first), "{first:.2} s");
}

#[test]
fn the_mandarin_announcement_of_a012_lasts_as_the_voice_readme_measured() {
    // assets/voice/README.md: 5.31 s of clips, 6.41 s with 300 ms after the chime and 80 ms
    // between the other clips.
    let seconds = expected_samples(&call("A012", 3, false), Voice::Zh) as f64 / 22_050.0;
    assert!((seconds - 6.41).abs() < 0.02, "{seconds:.3} s");
}

#[test]
fn calls_replayed_after_a_long_cut_are_shown_but_not_announced() {
    use jiaohao_display::FixedSource;
    use jiaohao_ui::LinkStatus;
    use jiaohao_wire::{Change, ChangeMessage};

    let message = |id, at: &str, number: &str| ChangeMessage {
        id,
        at: at.into(),
        change: Change::TicketCalled {
            number: number.into(),
            service: "hukou".into(),
            window: 1,
            recall: false,
            out_of_order: false,
        },
    };
    let source = FixedSource::new(None, LinkStatus::Live);
    // What a display that was cut off from 09:00 to 09:30 receives when it resumes.
    source.push_change(message(7, "2026-11-23T09:00:00+08:00", "A001"));
    source.push_change(message(8, "2026-11-23T09:29:00+08:00", "A002"));
    source.push_change(message(9, "2026-11-23T09:30:00+08:00", "A003"));
    let config = DisplayConfig {
        voice: Voice::Off,
        ..DisplayConfig::hall("http://192.0.2.1:8080")
    };
    let app = DisplayApp::from_source(config, Box::new(source.clone())).expect("a display");
    let mut display = harness(app, LANDSCAPE);
    display.step();
    let announced: Vec<&str> = display
        .state()
        .calls()
        .iter()
        .map(|c| c.number.as_str())
        .collect();
    assert_eq!(
        announced,
        ["A002", "A003"],
        "the call from half an hour ago is history"
    );
}
