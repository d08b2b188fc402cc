//! Sending the SMS that verifies a booking, through what the hall configures: a file sink
//! (the demo and the tests: one line per message, the phone number, a tab, the text) or a
//! command (the hall's own gateway script, given the phone number and the text as its two
//! arguments). With neither, the hub takes no bookings.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

/// Where booking SMS go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SmsSender {
    /// No sender: bookings are refused (nobody could verify them).
    #[default]
    None,
    /// Appends `phone<TAB>text` lines to a file.
    File(PathBuf),
    /// Runs the program with the phone number and the text as arguments; exit 0 is sent.
    Command(PathBuf),
}

/// Keeps file-sink lines whole when two bookings send at once.
static FILE_LOCK: Mutex<()> = Mutex::new(());

impl SmsSender {
    pub fn is_configured(&self) -> bool {
        *self != SmsSender::None
    }

    /// Sends one message (blocking: call it off the async workers).
    pub fn send(&self, phone: &str, text: &str) -> Result<(), String> {
        let text = text.replace(['\n', '\t'], " ");
        match self {
            SmsSender::None => Err("no SMS sender is configured".into()),
            SmsSender::File(path) => {
                let _guard = FILE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("cannot open the SMS sink {}: {e}", path.display()))?;
                file.write_all(format!("{phone}\t{text}\n").as_bytes())
                    .map_err(|e| format!("cannot write the SMS sink: {e}"))
            }
            SmsSender::Command(program) => {
                let status = std::process::Command::new(program)
                    .arg(phone)
                    .arg(&text)
                    .stdin(std::process::Stdio::null())
                    .status()
                    .map_err(|e| {
                        format!("cannot run the SMS command {}: {e}", program.display())
                    })?;
                if status.success() {
                    Ok(())
                } else {
                    Err(format!("the SMS command failed ({status})"))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_sink_writes_one_line_per_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sms.txt");
        let sender = SmsSender::File(path.clone());
        sender.send("13800138000", "验证码 123456\n第二行").unwrap();
        sender.send("13900139000", "code 654321").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "13800138000\t验证码 123456 第二行\n13900139000\tcode 654321\n"
        );
        assert!(SmsSender::None.send("1", "x").is_err());
    }

    #[test]
    fn the_command_gets_the_phone_and_the_text() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.txt");
        let script = dir.path().join("send.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s|%s' \"$1\" \"$2\" > {}\n",
                out.display()
            ),
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        SmsSender::Command(script)
            .send("13800138000", "code 123456")
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "13800138000|code 123456"
        );
        assert!(
            SmsSender::Command("/nonexistent/sms".into())
                .send("1", "x")
                .is_err()
        );
    }
}
