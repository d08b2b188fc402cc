//! The printed ticket slip: ESC/POS bytes for a thermal receipt printer (text in GB18030 with the
//! printer's Chinese mode, the QR code as a native model-2 symbol, then a cut), and the sinks
//! that take them: a network printer (`tcp://HOST:9100`), a device file (`/dev/usb/lp0`) or a
//! plain file. Printing runs off the UI thread and a fault never blocks ticketing.

use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::rc::Rc;
use std::str::FromStr;
use std::time::Duration;

use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::printer_options::PrinterOptions;
use escpos::utils::{
    Encoder, JustifyMode, Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption,
};

use crate::text::{Lang, fill};

/// `FS &`: the printer's Chinese character mode, so two-byte GB18030 codes print as hanzi.
pub const CHINESE_MODE: &[u8] = &[0x1C, 0x26];
/// `DLE EOT 4`: ask the paper roll sensor's status (answered at once, even mid-job).
const PAPER_STATUS: &[u8] = &[0x10, 0x04, 0x04];
/// Bits of the paper-sensor answer that mean "paper end" (roll sensor).
const PAPER_END_BITS: u8 = 0x60;

/// What is printed on one slip, already in the citizen's language.
#[derive(Debug, Clone, PartialEq)]
pub struct Slip {
    pub lang: Lang,
    pub hall_name: String,
    pub number: String,
    pub service_name: String,
    pub green_channel: bool,
    /// A booking's ticket: `预约 09:30–10:00`.
    pub booking: Option<String>,
    /// The person's earlier ticket of today printed again (补打号票), where the service
    /// requires identity.
    pub reprint: bool,
    /// Local time of issue, `2026-11-23 09:00`.
    pub issued_at: String,
    pub ahead: u32,
    pub estimated_wait_min: Option<u32>,
    pub documents: Vec<String>,
    pub fee_note: String,
    /// The ticket's public page, for the QR code.
    pub url: String,
}

/// Why a slip was not printed.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("the slip cannot be encoded: {0}")]
    Encode(String),
    #[error("the printer at {target} cannot be reached: {source}")]
    Unreachable {
        target: String,
        source: std::io::Error,
    },
    #[error("writing to the printer at {target} failed: {source}")]
    Write {
        target: String,
        source: std::io::Error,
    },
    #[error("the printer at {0} is out of paper")]
    PaperOut(String),
    #[error("the printer at {0} did not finish in time")]
    TimedOut(String),
}

/// Where slips go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    /// A network printer: `tcp://HOST:PORT` (raw port 9100 on most printers).
    Tcp { host: String, port: u16 },
    /// A device file such as `/dev/usb/lp0`, or a plain file (`file:PATH` or a path) that slips
    /// are appended to.
    File(PathBuf),
}

impl FromStr for Sink {
    type Err = String;

    fn from_str(text: &str) -> Result<Sink, String> {
        let text = text.trim();
        if let Some(address) = text.strip_prefix("tcp://") {
            let address = address.trim_end_matches('/');
            let (host, port) = address
                .rsplit_once(':')
                .ok_or_else(|| format!("'{text}' has no port: write tcp://HOST:9100"))?;
            let port = port
                .parse::<u16>()
                .map_err(|_| format!("'{port}' in '{text}' is not a port number"))?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if host.is_empty() {
                return Err(format!("'{text}' has no host: write tcp://HOST:9100"));
            }
            return Ok(Sink::Tcp {
                host: host.to_owned(),
                port,
            });
        }
        let path = text.strip_prefix("file:").unwrap_or(text);
        if path.is_empty() || path.contains("://") {
            return Err(format!(
                "'{text}' is not a printer: use tcp://HOST:9100, a device such as /dev/usb/lp0, or a file"
            ));
        }
        Ok(Sink::File(PathBuf::from(path)))
    }
}

impl std::fmt::Display for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sink::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            Sink::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Collects the printer's output in memory, so the bytes can go to any sink with our own
/// timeouts (escpos' network driver takes only IP addresses, not host names).
#[derive(Clone, Default)]
struct Collect(Rc<RefCell<Vec<u8>>>);

impl Driver for Collect {
    fn name(&self) -> String {
        "memory".to_owned()
    }

    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(())
    }

    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }

    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

/// The slip as ESC/POS bytes.
pub fn escpos(slip: &Slip) -> Result<Vec<u8>, PrintError> {
    build(slip).map_err(|e| PrintError::Encode(e.to_string()))
}

fn build(slip: &Slip) -> escpos::errors::Result<Vec<u8>> {
    let words = slip.lang.words();
    let out = Collect::default();
    let protocol = Protocol::new(Encoder::new(encoding_rs::GB18030));
    let mut printer = Printer::new(
        out.clone(),
        protocol,
        Some(PrinterOptions::new(None, None, 48)),
    );
    printer
        .init()?
        .custom(CHINESE_MODE)?
        .justify(JustifyMode::CENTER)?
        .bold(true)?
        .writeln(&slip.hall_name)?
        .bold(false)?
        .writeln(&fill(words.slip_service, &[("n", &slip.service_name)]))?
        .size(4, 4)?
        .bold(true)?
        .writeln(&slip.number)?
        .reset_size()?
        .bold(false)?;
    if slip.green_channel {
        printer.writeln(&format!("【{}】", words.green_mark))?;
    }
    if slip.reprint {
        printer
            .bold(true)?
            .writeln(&format!("【{}】", words.reprint_mark))?
            .bold(false)?;
    }
    if let Some(mark) = &slip.booking {
        printer
            .bold(true)?
            .writeln(&format!("【{mark}】"))?
            .bold(false)?;
    }
    printer.writeln(&ahead_text(slip.lang, slip.ahead))?;
    if let Some(minutes) = slip.estimated_wait_min {
        printer.writeln(&fill(words.slip_wait, &[("n", &minutes)]))?;
    }
    printer
        .writeln(&fill(words.issued_at, &[("time", &slip.issued_at)]))?
        .qrcode_option(
            &slip.url,
            QRCodeOption::new(QRCodeModel::Model2, 6, QRCodeCorrectionLevel::M),
        )?
        .writeln(words.slip_scan)?
        .justify(JustifyMode::LEFT)?
        .bold(true)?
        .writeln(words.slip_documents)?
        .bold(false)?;
    if slip.documents.is_empty() {
        printer.writeln(words.no_documents)?;
    }
    for (i, document) in slip.documents.iter().enumerate() {
        printer.writeln(&format!("{}. {document}", i + 1))?;
    }
    if !slip.fee_note.trim().is_empty() {
        printer.writeln(&fill(words.slip_fee, &[("n", &slip.fee_note)]))?;
    }
    printer
        .justify(JustifyMode::CENTER)?
        .writeln(words.thanks)?
        .feeds(3)?
        .print_cut()?;
    let bytes = out.0.borrow().clone();
    Ok(bytes)
}

fn ahead_text(lang: Lang, ahead: u32) -> String {
    let words = lang.words();
    if ahead == 0 {
        words.ahead_none.to_owned()
    } else {
        fill(words.ahead, &[("n", &ahead)])
    }
}

/// Sends a slip's bytes to the sink, giving up after about `timeout` per step. Blocking: run it
/// off the UI thread.
pub fn send(sink: &Sink, bytes: &[u8], timeout: Duration) -> Result<(), PrintError> {
    let target = sink.to_string();
    match sink {
        Sink::Tcp { host, port } => {
            let unreachable = |source| PrintError::Unreachable {
                target: target.clone(),
                source,
            };
            let addresses = (host.as_str(), *port)
                .to_socket_addrs()
                .map_err(unreachable)?;
            let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
            let mut connected = None;
            for address in addresses {
                match TcpStream::connect_timeout(&address, timeout) {
                    Ok(stream) => {
                        connected = Some(stream);
                        break;
                    }
                    Err(error) => last = error,
                }
            }
            let mut stream = connected.ok_or_else(|| unreachable(last))?;
            let write = |source| PrintError::Write {
                target: target.clone(),
                source,
            };
            stream.set_write_timeout(Some(timeout)).map_err(write)?;
            stream.set_nodelay(true).map_err(write)?;
            if paper_out(&mut stream).map_err(write)? {
                return Err(PrintError::PaperOut(target));
            }
            stream.write_all(bytes).map_err(write)?;
            stream.flush().map_err(write)?;
            Ok(())
        }
        Sink::File(path) => {
            let is_device = path.starts_with("/dev");
            let write = |source| PrintError::Write {
                target: target.clone(),
                source,
            };
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .create(!is_device)
                .open(path)
                .map_err(|source| PrintError::Unreachable {
                    target: target.clone(),
                    source,
                })?;
            file.write_all(bytes).map_err(write)?;
            file.flush().map_err(write)?;
            Ok(())
        }
    }
}

/// Asks a network printer whether its roll is out of paper. A printer that does not answer
/// within a moment is taken to be fine: not every model answers, and a real fault shows up as
/// a failed write.
fn paper_out(stream: &mut TcpStream) -> std::io::Result<bool> {
    stream.write_all(PAPER_STATUS)?;
    stream.set_read_timeout(Some(Duration::from_millis(400)))?;
    let mut answer = [0u8; 1];
    let result = match stream.read(&mut answer) {
        Ok(1) => Ok(answer[0] & PAPER_END_BITS != 0),
        Ok(_) => Ok(false),
        Err(error)
            if matches!(
                error.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Ok(false)
        }
        Err(error) => Err(error),
    };
    stream.set_read_timeout(None)?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sinks_parse() {
        assert_eq!(
            "tcp://192.168.1.50:9100".parse::<Sink>(),
            Ok(Sink::Tcp {
                host: "192.168.1.50".into(),
                port: 9100
            })
        );
        assert_eq!(
            "tcp://printer.local:9100/".parse::<Sink>(),
            Ok(Sink::Tcp {
                host: "printer.local".into(),
                port: 9100
            })
        );
        assert_eq!(
            "/dev/usb/lp0".parse::<Sink>(),
            Ok(Sink::File("/dev/usb/lp0".into()))
        );
        assert_eq!(
            "file:slips.bin".parse::<Sink>(),
            Ok(Sink::File("slips.bin".into()))
        );
        assert!("tcp://printer".parse::<Sink>().is_err());
        assert!("tcp://:9100".parse::<Sink>().is_err());
        assert!("http://printer:9100".parse::<Sink>().is_err());
    }

    #[test]
    fn a_slip_starts_in_chinese_mode_and_ends_with_a_cut() {
        let slip = Slip {
            lang: Lang::Zh,
            hall_name: "清河县公安局行政服务中心".into(),
            number: "A001".into(),
            service_name: "户籍".into(),
            green_channel: true,
            booking: None,
            reprint: false,
            issued_at: "2026-11-23 09:00".into(),
            ahead: 0,
            estimated_wait_min: None,
            documents: vec![],
            fee_note: String::new(),
            url: "http://hall/t/abc".into(),
        };
        let bytes = escpos(&slip).unwrap();
        assert_eq!(&bytes[..4], &[0x1B, b'@', 0x1C, 0x26]);
        assert!(bytes.ends_with(&[0x1D, b'V', b'A', 0]));
    }
}
