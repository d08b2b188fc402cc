//! What an announcement says (语音叫号): a pure mapping from a call to the recorded clips it is
//! joined from, with the pauses between them. No audio and no I/O here; `audio` joins the clips
//! and `announcer` plays the result.

use std::fmt;

/// Which languages the display speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Voice {
    /// Mandarin only.
    #[value(name = "zh")]
    Zh,
    /// Mandarin, then English.
    #[value(name = "zh+en")]
    ZhEn,
    /// Silent.
    #[value(name = "off")]
    Off,
}

impl fmt::Display for Voice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Voice::Zh => "zh",
            Voice::ZhEn => "zh+en",
            Voice::Off => "off",
        })
    }
}

/// One call of a ticket to a window, as it is announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The ticket number, such as `A012`.
    pub number: String,
    /// The service code, such as `hukou`.
    pub service: String,
    pub window: u16,
    /// A clerk's recall (重呼): announced again, with the same words.
    pub recall: bool,
}

/// A piece of an announcement: a clip by its name under the voice directory (`zh/qing` is
/// `zh/qing.wav`), or silence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Clip(String),
    Pause { ms: u32 },
}

impl Part {
    pub fn clip(&self) -> Option<&str> {
        match self {
            Part::Clip(name) => Some(name),
            Part::Pause { .. } => None,
        }
    }
}

/// Silence after the chime, so the first word is not lost in its decay (assets/voice/README.md).
pub const PAUSE_AFTER_CHIME_MS: u32 = 300;
/// Silence between two words.
pub const PAUSE_BETWEEN_CLIPS_MS: u32 = 80;
/// Silence between the Mandarin and the English announcement.
pub const PAUSE_BETWEEN_LANGUAGES_MS: u32 = 600;

/// Every clip an announcement may use, by name: what a hall must provide to replace the set.
pub fn all_clip_names() -> Vec<String> {
    let mut names: Vec<String> = ["chime", "qing", "hao", "dao", "chuangkou", "banli", "1-yao"]
        .iter()
        .map(|n| format!("zh/{n}"))
        .collect();
    for lang in ["zh", "en"] {
        names.extend(('0'..='9').map(|d| format!("{lang}/{d}")));
        names.extend(('A'..='Z').map(|l| format!("{lang}/{l}")));
    }
    names.push("en/number".into());
    names.push("en/please-go-to-window".into());
    names
}

/// The Mandarin name of one character of a ticket or window number: digits one by one with 1 as
/// 幺 (yāo) so it is not heard as 七 or the letter E; letters by name; anything else is skipped.
fn zh_char(c: char) -> Option<String> {
    match c {
        '1' => Some("zh/1-yao".into()),
        '0'..='9' => Some(format!("zh/{c}")),
        'a'..='z' | 'A'..='Z' => Some(format!("zh/{}", c.to_ascii_uppercase())),
        _ => None,
    }
}

fn en_char(c: char) -> Option<String> {
    match c {
        '0'..='9' => Some(format!("en/{c}")),
        'a'..='z' | 'A'..='Z' => Some(format!("en/{}", c.to_ascii_uppercase())),
        _ => None,
    }
}

/// The clips of one call, in order: chime, 请, the ticket number read character by character,
/// 号, 到, the window number digit by digit, 号, 窗口, 办理; then, for `zh+en`, "Number", the
/// ticket, "please go to window", the window. Empty when the voice is off.
pub fn clips(call: &Call, voice: Voice) -> Vec<String> {
    script(call, voice)
        .into_iter()
        .filter_map(|part| match part {
            Part::Clip(name) => Some(name),
            Part::Pause { .. } => None,
        })
        .collect()
}

/// The whole announcement: [`clips`] with the silences between them.
pub fn script(call: &Call, voice: Voice) -> Vec<Part> {
    if voice == Voice::Off {
        return Vec::new();
    }
    let window = call.window.to_string();
    let mut zh = vec!["zh/qing".to_owned()];
    zh.extend(call.number.chars().filter_map(zh_char));
    zh.push("zh/hao".into());
    zh.push("zh/dao".into());
    zh.extend(window.chars().filter_map(zh_char));
    zh.extend(["zh/hao", "zh/chuangkou", "zh/banli"].map(String::from));

    let mut parts = vec![
        Part::Clip("zh/chime".into()),
        Part::Pause {
            ms: PAUSE_AFTER_CHIME_MS,
        },
    ];
    push_words(&mut parts, zh);
    if voice == Voice::ZhEn {
        let mut en = vec!["en/number".to_owned()];
        en.extend(call.number.chars().filter_map(en_char));
        en.push("en/please-go-to-window".into());
        en.extend(window.chars().filter_map(en_char));
        parts.push(Part::Pause {
            ms: PAUSE_BETWEEN_LANGUAGES_MS,
        });
        push_words(&mut parts, en);
    }
    parts
}

fn push_words(parts: &mut Vec<Part>, words: Vec<String>) {
    for (i, word) in words.into_iter().enumerate() {
        if i > 0 {
            parts.push(Part::Pause {
                ms: PAUSE_BETWEEN_CLIPS_MS,
            });
        }
        parts.push(Part::Clip(word));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(number: &str, window: u16) -> Call {
        Call {
            number: number.into(),
            service: "hukou".into(),
            window,
            recall: false,
        }
    }

    #[test]
    fn window_numbers_are_read_digit_by_digit() {
        let clips = clips(&call("E101", 10), Voice::Zh);
        assert_eq!(
            clips[2..6],
            ["zh/E", "zh/1-yao", "zh/0", "zh/1-yao"].map(String::from)
        );
        assert_eq!(
            clips[8..10],
            ["zh/1-yao", "zh/0"].map(String::from),
            "window 10 is 幺 零"
        );
    }

    #[test]
    fn pauses_sit_between_words_only() {
        let script = script(&call("A1", 2), Voice::Zh);
        assert_eq!(script.first(), Some(&Part::Clip("zh/chime".into())));
        assert_eq!(
            script[1],
            Part::Pause {
                ms: PAUSE_AFTER_CHIME_MS
            }
        );
        assert!(matches!(script.last(), Some(Part::Clip(_))));
        for pair in script.windows(2) {
            assert!(
                pair[0].clip().is_some() != pair[1].clip().is_some(),
                "clips and pauses alternate: {pair:?}"
            );
        }
    }

    #[test]
    fn every_clip_used_is_in_the_set() {
        let all = all_clip_names();
        for number in ["A012", "Z999", "B1", "x7"] {
            for clip in clips(&call(number, 65535), Voice::ZhEn) {
                assert!(all.contains(&clip), "{clip}");
            }
        }
        assert!(clips(&call("A012", 3), Voice::Off).is_empty());
    }
}
