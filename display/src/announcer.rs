//! The announcement queue: one worker thread takes calls in the order the display received
//! them, joins each call's clips and plays it to the end before it takes the next, so two
//! announcements never overlap and none is dropped. Where the sound goes is an [`Output`]: the
//! speaker (rodio with the `speaker` feature, else a player command), or WAV files for tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;

use crate::audio::{self, Audio, ClipBank};
use crate::voice::{self, Call, Voice};

/// Where announcements go, from `--audio-out`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioOut {
    /// The machine's speaker.
    Speaker,
    /// Each announcement as a numbered WAV file in this directory: `0001-A012-3.wav`, …
    Files(PathBuf),
}

impl FromStr for AudioOut {
    type Err = String;

    fn from_str(text: &str) -> Result<AudioOut, String> {
        match text {
            "speaker" => Ok(AudioOut::Speaker),
            _ => match text.strip_prefix("file:") {
                Some(dir) if !dir.is_empty() => Ok(AudioOut::Files(PathBuf::from(dir))),
                _ => Err(format!(
                    "'{text}' is not an audio output: use speaker or file:DIR"
                )),
            },
        }
    }
}

/// One announcement, ready to play.
#[derive(Debug, Clone)]
pub struct Announcement {
    /// 1 for the first announcement since start, then 2, 3, …
    pub seq: u64,
    pub call: Call,
    pub audio: Audio,
}

/// Plays an announcement to its end (blocking the worker, which is what keeps them apart).
pub trait Output: Send + 'static {
    fn play(&mut self, announcement: &Announcement) -> Result<(), String>;
}

/// The queue. Calls are announced in the order given to [`Announcer::announce`].
pub struct Announcer {
    queue: Option<mpsc::Sender<Call>>,
    /// Calls queued or being played.
    pending: Arc<AtomicUsize>,
    worker: Option<JoinHandle<()>>,
}

impl Announcer {
    /// Starts the worker for `voice`, joining clips from `bank`, playing through `output`.
    pub fn start(voice: Voice, bank: Arc<ClipBank>, mut output: Box<dyn Output>) -> Announcer {
        let (queue, calls) = mpsc::channel::<Call>();
        let pending = Arc::new(AtomicUsize::new(0));
        let counter = pending.clone();
        let worker = std::thread::Builder::new()
            .name("jiaohao-voice".into())
            .spawn(move || {
                let mut seq = 0;
                for call in calls {
                    seq += 1;
                    let played = audio::render(&voice::script(&call, voice), &bank)
                        .map_err(|e| e.to_string())
                        .and_then(|audio| {
                            let announcement = Announcement {
                                seq,
                                call: call.clone(),
                                audio,
                            };
                            output.play(&announcement)
                        });
                    match played {
                        Ok(()) => tracing::info!(
                            seq,
                            number = %call.number,
                            window = call.window,
                            recall = call.recall,
                            "announced"
                        ),
                        Err(error) => tracing::warn!(
                            seq,
                            number = %call.number,
                            %error,
                            "could not announce"
                        ),
                    }
                    counter.fetch_sub(1, Ordering::SeqCst);
                }
            })
            .expect("the voice thread starts");
        Announcer {
            queue: Some(queue),
            pending,
            worker: Some(worker),
        }
    }

    /// Queues a call; returns at once.
    pub fn announce(&self, call: Call) {
        if let Some(queue) = &self.queue {
            self.pending.fetch_add(1, Ordering::SeqCst);
            if queue.send(call).is_err() {
                self.pending.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    /// How many calls are queued or being announced.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }

    /// Announces everything queued, then stops the worker.
    pub fn finish(mut self) {
        self.queue.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// The output `--audio-out` asks for. For the speaker: rodio when built with the `speaker`
/// feature and a sound card opens; otherwise the first player command on PATH; otherwise a
/// clear log line, once, that announcements cannot be heard.
pub fn output_for(out: &AudioOut) -> anyhow::Result<Box<dyn Output>> {
    match out {
        AudioOut::Files(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| {
                anyhow::anyhow!("cannot create the audio directory {}: {e}", dir.display())
            })?;
            Ok(Box::new(FileOutput { dir: dir.clone() }))
        }
        AudioOut::Speaker => {
            #[cfg(feature = "speaker")]
            match speaker::RodioOutput::open() {
                Ok(output) => return Ok(Box::new(output)),
                Err(error) => tracing::warn!(
                    %error,
                    "cannot open the sound card; trying a player command instead"
                ),
            }
            match PlayerOutput::find() {
                Some(player) => {
                    tracing::info!(player = %player.program, "announcements play through a player command");
                    Ok(Box::new(player))
                }
                None => {
                    tracing::error!(
                        "announcements cannot be heard: no player command (pw-play, paplay or aplay) is on PATH \
                         and this build has no `speaker` feature; install alsa-utils or pulseaudio-utils, \
                         or build with `--features speaker`"
                    );
                    Ok(Box::new(Silent))
                }
            }
        }
    }
}

/// Writes each announcement as `DIR/0001-A012-3.wav`.
pub struct FileOutput {
    pub dir: PathBuf,
}

impl FileOutput {
    pub fn file_name(announcement: &Announcement) -> String {
        let number: String = announcement
            .call
            .number
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        format!(
            "{:04}-{number}-{}.wav",
            announcement.seq, announcement.call.window
        )
    }
}

impl Output for FileOutput {
    fn play(&mut self, announcement: &Announcement) -> Result<(), String> {
        let path = self.dir.join(FileOutput::file_name(announcement));
        // Write under a temporary name and rename, so a reader never sees half a file.
        let partial = path.with_extension("wav.part");
        std::fs::write(&partial, announcement.audio.to_wav())
            .and_then(|()| std::fs::rename(&partial, &path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

/// No way to make a sound: says so once at start (in [`output_for`]) and then stays quiet.
struct Silent;

impl Output for Silent {
    fn play(&mut self, announcement: &Announcement) -> Result<(), String> {
        tracing::debug!(number = %announcement.call.number, "not heard: no audio output");
        Ok(())
    }
}

/// Plays through a command-line player, which blocks until the sound has played.
pub struct PlayerOutput {
    program: String,
    args: Vec<String>,
    /// Whether the last attempt failed: a broken sound card is logged once, not per call.
    failing: bool,
}

impl PlayerOutput {
    /// Plays through `program ARGS… FILE.wav`.
    pub fn new(program: impl Into<String>, args: &[&str]) -> PlayerOutput {
        PlayerOutput {
            program: program.into(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            failing: false,
        }
    }

    /// The first of pw-play (PipeWire), paplay (PulseAudio) and aplay (ALSA) found on PATH.
    pub fn find() -> Option<PlayerOutput> {
        let players: [(&str, &[&str]); 3] = [("pw-play", &[]), ("paplay", &[]), ("aplay", &["-q"])];
        players
            .iter()
            .find(|(program, _)| on_path(program))
            .map(|(program, args)| PlayerOutput::new(*program, args))
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| is_executable(&dir.join(program)))
    })
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

impl Output for PlayerOutput {
    fn play(&mut self, announcement: &Announcement) -> Result<(), String> {
        // One file per play, never shared: another player in this process (a second output,
        // a test) may be reading or removing its own at the same time.
        static PLAYS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let play = PLAYS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "jiaohao-display-{}-{}-{play}.wav",
            std::process::id(),
            announcement.seq
        ));
        std::fs::write(&path, announcement.audio.to_wav())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let status = Command::new(&self.program)
            .args(&self.args)
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output();
        let _ = std::fs::remove_file(&path);
        let result = match status {
            Ok(output) if output.status.success() => Ok(()),
            Ok(output) => Err(format!(
                "{} failed ({}): {}",
                self.program,
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )),
            Err(error) => Err(format!("cannot run {}: {error}", self.program)),
        };
        match &result {
            Err(error) if !self.failing => {
                tracing::error!(%error, "announcements cannot be heard; the screen still shows every call");
                self.failing = true;
                Ok(())
            }
            Err(error) => {
                tracing::debug!(%error, "still cannot play");
                Ok(())
            }
            Ok(()) => {
                if self.failing {
                    tracing::info!(player = %self.program, "announcements can be heard again");
                }
                self.failing = false;
                Ok(())
            }
        }
    }
}

#[cfg(feature = "speaker")]
mod speaker {
    //! The sound card through rodio (cpal/ALSA), for packaged builds.

    use std::num::NonZero;

    use super::{Announcement, Output};

    pub struct RodioOutput {
        sink: rodio::MixerDeviceSink,
    }

    impl RodioOutput {
        pub fn open() -> Result<RodioOutput, String> {
            let mut sink =
                rodio::DeviceSinkBuilder::open_default_sink().map_err(|e| e.to_string())?;
            sink.log_on_drop(false);
            Ok(RodioOutput { sink })
        }
    }

    impl Output for RodioOutput {
        fn play(&mut self, announcement: &Announcement) -> Result<(), String> {
            let samples: Vec<f32> = announcement
                .audio
                .samples
                .iter()
                .map(|s| f32::from(*s) / 32768.0)
                .collect();
            let source = rodio::buffer::SamplesBuffer::new(
                NonZero::new(1).expect("one channel"),
                NonZero::new(crate::audio::SAMPLE_RATE).expect("a sample rate"),
                samples,
            );
            let player = rodio::Player::connect_new(self.sink.mixer());
            player.append(source);
            player.sleep_until_end();
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    use super::*;

    /// What the recorder played, and when.
    struct Played {
        seq: u64,
        number: String,
        start: Instant,
        end: Instant,
    }

    /// Records what it plays and when, taking a while for each like a real speaker.
    struct Recorder(Arc<Mutex<Vec<Played>>>);

    impl Output for Recorder {
        fn play(&mut self, announcement: &Announcement) -> Result<(), String> {
            let start = Instant::now();
            std::thread::sleep(Duration::from_millis(20));
            self.0.lock().unwrap().push(Played {
                seq: announcement.seq,
                number: announcement.call.number.clone(),
                start,
                end: Instant::now(),
            });
            Ok(())
        }
    }

    #[test]
    fn a_burst_is_announced_in_order_one_at_a_time() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let bank = Arc::new(ClipBank::built_in().unwrap());
        let announcer = Announcer::start(Voice::Zh, bank, Box::new(Recorder(log.clone())));
        let numbers = ["A001", "B001", "A002", "C001", "A001"];
        for (i, number) in numbers.iter().enumerate() {
            announcer.announce(Call {
                number: (*number).into(),
                service: "hukou".into(),
                window: i as u16 + 1,
                recall: i == 4,
            });
        }
        assert!(announcer.pending() > 0);
        announcer.finish();
        let log = log.lock().unwrap();
        let played: Vec<&str> = log.iter().map(|p| p.number.as_str()).collect();
        assert_eq!(played, numbers, "every call, in order, the recall too");
        let seqs: Vec<u64> = log.iter().map(|p| p.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5]);
        for pair in log.windows(2) {
            assert!(pair[0].end <= pair[1].start, "announcements never overlap");
        }
    }

    fn announcement(number: &str) -> Announcement {
        let call = Call {
            number: number.into(),
            service: "hukou".into(),
            window: 3,
            recall: false,
        };
        let bank = ClipBank::built_in().unwrap();
        let audio = audio::render(&voice::script(&call, Voice::Zh), &bank).unwrap();
        Announcement {
            seq: 1,
            call,
            audio,
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_player_command_gets_the_whole_announcement_as_a_wav_file() {
        let dir = tempfile::tempdir().unwrap();
        let heard = dir.path().join("heard.wav");
        let player = dir.path().join("player.sh");
        std::fs::write(&player, format!("cp \"$2\" '{}'\n", heard.display())).unwrap();
        let announcement = announcement("A012");
        // `sh player.sh -q FILE`: the script is read by sh, not executed itself, so a fork in
        // another test's thread that still holds it open for writing cannot make it busy.
        let script = player.display().to_string();
        let mut output = PlayerOutput::new("sh", &[script.as_str(), "-q"]);
        output.play(&announcement).unwrap();
        assert!(!output.failing, "the player ran and succeeded");
        assert_eq!(std::fs::read(&heard).unwrap(), announcement.audio.to_wav());
    }

    #[test]
    fn a_failing_player_does_not_stop_the_queue() {
        let mut output = PlayerOutput::new("/nonexistent/aplay", &[]);
        assert!(output.play(&announcement("A012")).is_ok());
        assert!(output.failing, "logged once, then quiet");
        assert!(output.play(&announcement("A013")).is_ok());
    }

    #[test]
    fn the_speaker_opens_or_says_why_without_failing() {
        // No sound card and no player here: the display still starts and logs why.
        assert!(output_for(&AudioOut::Speaker).is_ok());
    }

    #[test]
    fn audio_out_parses() {
        assert_eq!("speaker".parse(), Ok(AudioOut::Speaker));
        assert_eq!(
            "file:/tmp/x".parse(),
            Ok(AudioOut::Files(PathBuf::from("/tmp/x")))
        );
        assert!("file:".parse::<AudioOut>().is_err());
        assert!("alsa".parse::<AudioOut>().is_err());
    }
}
