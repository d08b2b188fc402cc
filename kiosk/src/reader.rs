//! The ID-card reader in serial mode (`--id-reader DEVICE`): it sends each card's number as a
//! line of 18 characters. A thread reads the device (set raw with termios through `nix`, so no
//! unsafe code here) and hands each line to the kiosk; a reader that is unplugged or sends
//! garbage is reported and retried, and never blocks typed entry. (A reader in keyboard mode
//! needs none of this: its characters arrive as typing, see `KioskApp`.)

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

/// How long the thread waits before opening an unplugged reader again.
const REOPEN_AFTER: Duration = Duration::from_secs(2);

/// What the reader said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderEvent {
    /// A card's ID number (18 characters, digits and a last `X`).
    IdNumber(String),
    /// A line that is no ID number.
    Garbage,
    /// The device cannot be opened or read (unplugged).
    Unplugged,
    /// The device is open and read.
    Connected,
}

/// Reads `device` on a thread of its own for as long as the process runs.
pub fn spawn(device: PathBuf, on_event: impl Fn(ReaderEvent) + Send + 'static) {
    let spawned = std::thread::Builder::new()
        .name("id-reader".into())
        .spawn(move || {
            // The first failure to open is logged, not each retry every 2 s of a reader that
            // stays unplugged; once it is read again, a later failure is logged anew.
            let mut said = false;
            loop {
                match std::fs::File::open(&device) {
                    Ok(file) => {
                        make_raw(&file);
                        if said {
                            tracing::info!(device = %device.display(), "the ID-card reader is back");
                        }
                        said = false;
                        on_event(ReaderEvent::Connected);
                        read_lines(file, &on_event);
                        tracing::warn!(device = %device.display(), "the ID-card reader stopped");
                    }
                    Err(error) if !said => {
                        said = true;
                        tracing::warn!(device = %device.display(), %error, "cannot open the ID-card reader; trying again every 2 s");
                    }
                    Err(_) => {}
                }
                on_event(ReaderEvent::Unplugged);
                std::thread::sleep(REOPEN_AFTER);
            }
        });
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start the ID-card reader's thread");
    }
}

/// Sets a terminal device raw (no echo, no line editing); a file that is no terminal is read
/// as it is.
fn make_raw(file: &std::fs::File) {
    use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
    if let Ok(mut settings) = tcgetattr(file) {
        cfmakeraw(&mut settings);
        let _ = tcsetattr(file, SetArg::TCSANOW, &settings);
    }
}

/// Reads lines (ended by CR or LF) until the device ends or fails.
fn read_lines(mut file: std::fs::File, on_event: &impl Fn(ReaderEvent)) {
    let mut line: Vec<u8> = Vec::new();
    let mut buffer = [0u8; 256];
    loop {
        let read = match file.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        for &byte in &buffer[..read] {
            if byte == b'\n' || byte == b'\r' {
                if !line.is_empty() {
                    on_event(parse_line(&line));
                    line.clear();
                }
            } else if line.len() < 256 {
                line.push(byte);
            }
        }
    }
}

/// An ID number line, or garbage.
pub fn parse_line(line: &[u8]) -> ReaderEvent {
    let text = String::from_utf8_lossy(line).trim().to_ascii_uppercase();
    let bytes = text.as_bytes();
    let fits = bytes.len() == 18
        && bytes[..17].iter().all(u8::is_ascii_digit)
        && (bytes[17].is_ascii_digit() || bytes[17] == b'X');
    if fits {
        ReaderEvent::IdNumber(text)
    } else {
        ReaderEvent::Garbage
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_id_numbers_or_garbage() {
        assert_eq!(
            parse_line(b" 11010519491231002x "),
            ReaderEvent::IdNumber("11010519491231002X".into())
        );
        assert_eq!(parse_line(b"\x02\x7fnoise"), ReaderEvent::Garbage);
        assert_eq!(parse_line(b"1101051949123100"), ReaderEvent::Garbage);
    }
}
