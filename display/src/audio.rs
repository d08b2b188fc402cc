//! The recorded clips and joining them into one announcement, in memory: a small WAV reader and
//! writer (16-bit PCM), the clip set (built in from `assets/voice/`, or a hall's own recordings
//! from a directory), and [`render`], which lays the clips of a script end to end with silences.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::voice::{self, Part};

/// Every announcement is joined at this rate, the rate of the shipped clips.
pub const SAMPLE_RATE: u32 = 22_050;

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("{name}: not a WAV file we can read: {why}")]
    BadWav { name: String, why: String },
    #[error("cannot read the voice clip {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the voice clip {0} is missing")]
    Missing(String),
}

/// Mono 16-bit audio at [`SAMPLE_RATE`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Audio {
    pub samples: Vec<i16>,
}

impl Audio {
    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / f64::from(SAMPLE_RATE)
    }

    /// The audio as a WAV file: PCM, 16-bit, mono, with the plain 44-byte header.
    pub fn to_wav(&self) -> Vec<u8> {
        let data_len = u32::try_from(self.samples.len() * 2).unwrap_or(u32::MAX);
        let mut out = Vec::with_capacity(44 + data_len as usize);
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + data_len).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes()); // PCM
        out.extend_from_slice(&1u16.to_le_bytes()); // mono
        out.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
        out.extend_from_slice(&(SAMPLE_RATE * 2).to_le_bytes()); // bytes per second
        out.extend_from_slice(&2u16.to_le_bytes()); // block align
        out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data_len.to_le_bytes());
        for sample in &self.samples {
            out.extend_from_slice(&sample.to_le_bytes());
        }
        out
    }

    /// Reads a 16-bit PCM WAV file of any channel count and rate: channels are mixed down and
    /// the rate converted (linearly) to [`SAMPLE_RATE`], so a hall's own recordings work even
    /// if they were not saved exactly as the README asks.
    pub fn from_wav(name: &str, bytes: &[u8]) -> Result<Audio, AudioError> {
        let bad = |why: &str| AudioError::BadWav {
            name: name.to_owned(),
            why: why.to_owned(),
        };
        if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
            return Err(bad("no RIFF/WAVE header"));
        }
        let mut format: Option<(u16, u16, u32, u16)> = None;
        let mut at = 12;
        while at + 8 <= bytes.len() {
            let id = &bytes[at..at + 4];
            let size =
                u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]])
                    as usize;
            let body = &bytes[at + 8..(at + 8 + size).min(bytes.len())];
            match id {
                b"fmt " => {
                    if body.len() < 16 {
                        return Err(bad("short fmt chunk"));
                    }
                    let u16_at = |i: usize| u16::from_le_bytes([body[i], body[i + 1]]);
                    let rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
                    format = Some((u16_at(0), u16_at(2), rate, u16_at(14)));
                }
                b"data" => {
                    let (tag, channels, rate, bits) =
                        format.ok_or_else(|| bad("data before fmt"))?;
                    // 1 is PCM; 0xFFFE (extensible) carries PCM too in every file we make.
                    if !(tag == 1 || tag == 0xFFFE) || bits != 16 {
                        return Err(bad("only 16-bit PCM is supported"));
                    }
                    if channels == 0 || rate == 0 {
                        return Err(bad("no channels or no sample rate"));
                    }
                    let frames = body.len() / (2 * channels as usize);
                    let mut mono = Vec::with_capacity(frames);
                    for frame in body.chunks_exact(2 * channels as usize) {
                        let sum: i32 = frame
                            .chunks_exact(2)
                            .map(|s| i32::from(i16::from_le_bytes([s[0], s[1]])))
                            .sum();
                        mono.push((sum / i32::from(channels)) as i16);
                    }
                    return Ok(Audio {
                        samples: resample(&mono, rate, SAMPLE_RATE),
                    });
                }
                _ => {}
            }
            // Chunks are padded to an even length.
            at += 8 + size + (size & 1);
        }
        Err(bad("no data chunk"))
    }
}

/// Linear resampling; the identity when the rates match.
fn resample(samples: &[i16], from: u32, to: u32) -> Vec<i16> {
    if from == to || samples.is_empty() {
        return samples.to_vec();
    }
    let len = (samples.len() as u64 * u64::from(to) / u64::from(from)) as usize;
    (0..len)
        .map(|i| {
            let position = i as f64 * f64::from(from) / f64::from(to);
            let index = position as usize;
            let fraction = position - index as f64;
            let a = f64::from(samples[index.min(samples.len() - 1)]);
            let b = f64::from(samples[(index + 1).min(samples.len() - 1)]);
            (a + (b - a) * fraction).round() as i16
        })
        .collect()
}

macro_rules! built_in {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("../../assets/voice/", $name, ".wav")))),*]
    };
}

/// The clips of `assets/voice/`, built into the binary so a fresh machine speaks with no files
/// around.
const BUILT_IN: &[(&str, &[u8])] = built_in!(
    "zh/chime",
    "zh/qing",
    "zh/hao",
    "zh/dao",
    "zh/chuangkou",
    "zh/banli",
    "zh/1-yao",
    "zh/0",
    "zh/1",
    "zh/2",
    "zh/3",
    "zh/4",
    "zh/5",
    "zh/6",
    "zh/7",
    "zh/8",
    "zh/9",
    "zh/A",
    "zh/B",
    "zh/C",
    "zh/D",
    "zh/E",
    "zh/F",
    "zh/G",
    "zh/H",
    "zh/I",
    "zh/J",
    "zh/K",
    "zh/L",
    "zh/M",
    "zh/N",
    "zh/O",
    "zh/P",
    "zh/Q",
    "zh/R",
    "zh/S",
    "zh/T",
    "zh/U",
    "zh/V",
    "zh/W",
    "zh/X",
    "zh/Y",
    "zh/Z",
    "en/number",
    "en/please-go-to-window",
    "en/0",
    "en/1",
    "en/2",
    "en/3",
    "en/4",
    "en/5",
    "en/6",
    "en/7",
    "en/8",
    "en/9",
    "en/A",
    "en/B",
    "en/C",
    "en/D",
    "en/E",
    "en/F",
    "en/G",
    "en/H",
    "en/I",
    "en/J",
    "en/K",
    "en/L",
    "en/M",
    "en/N",
    "en/O",
    "en/P",
    "en/Q",
    "en/R",
    "en/S",
    "en/T",
    "en/U",
    "en/V",
    "en/W",
    "en/X",
    "en/Y",
    "en/Z",
);

/// Every clip an announcement can use, decoded once at start.
#[derive(Debug, Clone)]
pub struct ClipBank {
    clips: HashMap<String, Audio>,
}

impl ClipBank {
    /// The clips built into the binary.
    pub fn built_in() -> Result<ClipBank, AudioError> {
        let clips = BUILT_IN
            .iter()
            .map(|(name, bytes)| Ok(((*name).to_owned(), Audio::from_wav(name, bytes)?)))
            .collect::<Result<_, AudioError>>()?;
        Ok(ClipBank { clips })
    }

    /// A hall's own recordings: `DIR/zh/qing.wav` and so on, the same names as
    /// `assets/voice/`. A clip missing from `dir` falls back to the built-in one, so a hall can
    /// replace a few; each replacement is logged.
    pub fn from_dir(dir: &Path) -> Result<ClipBank, AudioError> {
        let mut bank = ClipBank::built_in()?;
        for name in voice::all_clip_names() {
            let path = dir.join(format!("{name}.wav"));
            match std::fs::read(&path) {
                Ok(bytes) => {
                    let audio = Audio::from_wav(&path.display().to_string(), &bytes)?;
                    tracing::info!(clip = %path.display(), "using the hall's own recording");
                    bank.clips.insert(name, audio);
                }
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(AudioError::Read { path, source }),
            }
        }
        Ok(bank)
    }

    pub fn get(&self, name: &str) -> Option<&Audio> {
        self.clips.get(name)
    }
}

/// The silence of `ms` milliseconds, in samples.
pub fn pause_samples(ms: u32) -> usize {
    (u64::from(ms) * u64::from(SAMPLE_RATE) / 1000) as usize
}

/// Joins the clips of a script with its silences into one piece of audio.
pub fn render(script: &[Part], bank: &ClipBank) -> Result<Audio, AudioError> {
    let mut samples = Vec::new();
    for part in script {
        match part {
            Part::Clip(name) => {
                let clip = bank
                    .get(name)
                    .ok_or_else(|| AudioError::Missing(name.clone()))?;
                samples.extend_from_slice(&clip.samples);
            }
            Part::Pause { ms } => samples.resize(samples.len() + pause_samples(*ms), 0),
        }
    }
    Ok(Audio { samples })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_wav_reads_back_the_same() {
        let audio = Audio {
            samples: vec![0, 1, -1, i16::MAX, i16::MIN, 1234],
        };
        let wav = audio.to_wav();
        assert_eq!(wav.len(), 44 + 12);
        assert_eq!(Audio::from_wav("t", &wav).unwrap(), audio);
    }

    #[test]
    fn stereo_and_other_rates_are_converted() {
        let mut wav = Audio {
            samples: vec![100, 300, -100, -300],
        }
        .to_wav();
        // Declare it as two channels at 11025 Hz (block align 4, bytes per second 44100).
        wav[22..24].copy_from_slice(&2u16.to_le_bytes());
        wav[24..28].copy_from_slice(&11_025u32.to_le_bytes());
        let audio = Audio::from_wav("t", &wav).unwrap();
        assert_eq!(audio.samples.len(), 4, "two frames at half the rate");
        assert_eq!(audio.samples[0], 200);
        assert_eq!(audio.samples[2], -200);
    }

    #[test]
    fn broken_files_are_refused_with_their_name() {
        let error = Audio::from_wav("zh/qing.wav", b"not a wav").unwrap_err();
        assert!(error.to_string().contains("zh/qing.wav"), "{error}");
    }

    #[test]
    fn every_clip_is_built_in_at_the_shared_rate() {
        let bank = ClipBank::built_in().unwrap();
        for name in voice::all_clip_names() {
            let clip = bank
                .get(&name)
                .unwrap_or_else(|| panic!("{name} is built in"));
            assert!(!clip.samples.is_empty(), "{name} is not empty");
        }
        assert_eq!(BUILT_IN.len(), voice::all_clip_names().len());
    }
}
