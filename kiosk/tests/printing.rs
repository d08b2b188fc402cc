//! The printed slip: ESC/POS bytes sent to a fake network printer on `127.0.0.1:0`, decoded
//! back command by command: GB18030 text in the printer's Chinese mode, a model-2 QR code with
//! the ticket's URL, and a cut at the end. And a printer fault never stops a ticket, and the
//! hub is told of it.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use egui_kittest::kittest::Queryable;
use jiaohao_kiosk::{Lang, PrintState, Screen, Sink, Slip, slip};

use crate::support::*;

/// A network printer that takes one job and hands over its bytes. With `status`, it answers
/// the kiosk's paper-status request (`DLE EOT 4`) with that byte.
fn fake_printer(status: Option<u8>) -> (Sink, mpsc::Receiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut bytes = Vec::new();
        let mut buffer = [0u8; 4096];
        let mut answered = false;
        loop {
            match stream.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => bytes.extend_from_slice(&buffer[..n]),
            }
            if let Some(status) = status
                && !answered
                && bytes.windows(3).any(|w| w == [0x10, 0x04, 0x04])
            {
                let _ = stream.write_all(&[status]);
                answered = true;
            }
        }
        let _ = tx.send(bytes);
    });
    let sink = format!("tcp://127.0.0.1:{port}").parse().expect("a sink");
    (sink, rx)
}

/// What a slip's bytes say.
#[derive(Debug, Default)]
struct Decoded {
    /// Printed text, line by line (GB18030 decoded).
    lines: Vec<String>,
    /// Whether `FS &` came before the first text.
    chinese_mode_first: bool,
    qr_model: Option<u8>,
    qr_data: Option<String>,
    qr_printed: bool,
    /// The last command.
    last: Option<&'static str>,
    status_requests: usize,
}

/// Reads ESC/POS command by command; fails on anything it does not know, so a malformed
/// stream cannot pass.
fn decode(bytes: &[u8]) -> Decoded {
    let mut out = Decoded::default();
    let mut line: Vec<u8> = Vec::new();
    let mut seen_text = false;
    let mut chinese = false;
    let mut i = 0;
    let flush = |line: &mut Vec<u8>, out: &mut Decoded| {
        let (text, _, bad) = encoding_rs::GB18030.decode(line);
        assert!(!bad, "text that is not GB18030: {line:?}");
        out.lines.push(text.into_owned());
        line.clear();
    };
    while i < bytes.len() {
        let b = bytes[i];
        let rest = &bytes[i..];
        let (name, len): (&'static str, usize) = match b {
            0x1B => match rest.get(1) {
                Some(b'@') => ("init", 2),
                Some(b'a') => ("justify", 3),
                Some(b'E') => ("bold", 3),
                Some(b'-') => ("underline", 3),
                Some(b'd') => {
                    for _ in 0..rest[2].max(1) {
                        flush(&mut line, &mut out);
                    }
                    ("feed", 3)
                }
                other => panic!("unknown ESC command {other:?} at {i}"),
            },
            0x1D => match rest.get(1) {
                Some(b'!') => ("size", 3),
                Some(b'V') => match rest.get(2) {
                    Some(b'A' | b'B') => ("cut", 4),
                    _ => ("cut", 3),
                },
                Some(b'(') => {
                    assert_eq!(rest[2], b'k', "only 2D codes are expected");
                    let n = usize::from(rest[3]) + 256 * usize::from(rest[4]);
                    let body = &rest[5..5 + n];
                    assert_eq!(body[0], 49, "a QR code (cn = 49)");
                    match body[1] {
                        65 => out.qr_model = Some(body[2]),
                        67 | 69 => {}
                        80 => {
                            assert_eq!(body[2], 48);
                            out.qr_data = Some(String::from_utf8(body[3..].to_vec()).unwrap());
                        }
                        81 => out.qr_printed = true,
                        other => panic!("unknown QR function {other}"),
                    }
                    ("qr", 5 + n)
                }
                other => panic!("unknown GS command {other:?} at {i}"),
            },
            0x1C => match rest.get(1) {
                Some(b'&') => {
                    chinese = true;
                    if !seen_text {
                        out.chinese_mode_first = true;
                    }
                    ("chinese mode", 2)
                }
                other => panic!("unknown FS command {other:?} at {i}"),
            },
            0x10 => {
                assert_eq!(rest.get(1), Some(&0x04), "DLE EOT");
                out.status_requests += 1;
                ("status", 3)
            }
            0x0A => {
                flush(&mut line, &mut out);
                ("line feed", 1)
            }
            b if b < 0x20 => panic!("unknown control byte {b:#04x} at {i}"),
            _ => {
                assert!(chinese, "text before the Chinese mode");
                seen_text = true;
                line.push(b);
                i += 1;
                continue;
            }
        };
        out.last = Some(name);
        i += len;
    }
    if !line.is_empty() {
        flush(&mut line, &mut out);
    }
    out
}

fn a_slip() -> Slip {
    Slip {
        lang: Lang::Zh,
        hall_name: "清河县公安局行政服务中心".into(),
        number: "A001".into(),
        service_name: "户籍".into(),
        green_channel: false,
        booking: None,
        reprint: false,
        issued_at: "2026-11-23 09:00".into(),
        ahead: 3,
        estimated_wait_min: Some(12),
        documents: vec![
            "居民户口簿原件".into(),
            "本人居民身份证原件（未满16周岁的提供出生医学证明）".into(),
        ],
        fee_note: "补领、换领居民户口簿工本费8元。".into(),
        url: "http://hall.example/t/Ab3dE".into(),
    }
}

#[test]
fn a_slip_sent_to_a_network_printer_decodes_to_its_text_qr_code_and_cut() {
    let (sink, received) = fake_printer(Some(0x12));
    let bytes = slip::escpos(&a_slip()).unwrap();
    slip::send(&sink, &bytes, Duration::from_secs(3)).expect("printed");
    let got = received.recv_timeout(Duration::from_secs(10)).unwrap();
    let decoded = decode(&got);
    assert_eq!(decoded.status_requests, 1, "paper checked first");
    assert!(decoded.chinese_mode_first, "FS & before any text");
    let text = decoded.lines.join("\n");
    for expected in [
        "清河县公安局行政服务中心",
        "业务：户籍",
        "A001",
        "前面还有 3 人",
        "预计等待约 12 分钟",
        "取号时间 2026-11-23 09:00",
        "请携带以下材料：",
        "1. 居民户口簿原件",
        "2. 本人居民身份证原件（未满16周岁的提供出生医学证明）",
        "收费：补领、换领居民户口簿工本费8元。",
        "请保管好您的号票，留意叫号",
    ] {
        assert!(
            decoded.lines.iter().any(|l| l == expected),
            "no line '{expected}' in:\n{text}"
        );
    }
    assert_eq!(decoded.qr_model, Some(50), "QR model 2");
    assert_eq!(
        decoded.qr_data.as_deref(),
        Some("http://hall.example/t/Ab3dE")
    );
    assert!(decoded.qr_printed);
    assert_eq!(decoded.last, Some("cut"), "the slip ends with a cut");
}

#[test]
fn the_kiosk_prints_the_ticket_it_shows() {
    let hub = TestHub::start();
    let (sink, received) = fake_printer(None);
    let mut kiosk = kiosk(&hub, |options| {
        options.printer = Some(sink);
        options.public_url = Some("https://hall.example.gov.cn".into());
    });
    wait_for_welcome(&mut kiosk);
    tap(&mut kiosk, "户籍");
    tap(&mut kiosk, "取号");
    wait_for_label(&mut kiosk, "A001");
    wait_for_label(&mut kiosk, "请取走打印好的号票");
    let ticket = kiosk.state().issued()[0].clone();
    let decoded = decode(&received.recv_timeout(Duration::from_secs(10)).unwrap());
    let url = format!("https://hall.example.gov.cn/t/{}", ticket.token);
    assert_eq!(decoded.qr_data.as_deref(), Some(url.as_str()));
    assert_eq!(decoded.qr_model, Some(50));
    for expected in [
        "清河县公安局行政服务中心",
        "业务：户籍",
        "A001",
        "前面没有人等候",
        "1. 居民户口簿原件",
        "7. 委托他人办理的提供授权委托书及受托人身份证原件",
    ] {
        assert!(
            decoded.lines.iter().any(|l| l == expected),
            "no line '{expected}' in {:#?}",
            decoded.lines
        );
    }
    assert_eq!(decoded.last, Some("cut"));
}

#[test]
fn a_printer_fault_never_blocks_a_ticket() {
    let hub = TestHub::start();
    // Nothing listens on this port once the listener is dropped.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut kiosk = kiosk(&hub, |options| {
        options.printer = Some(format!("tcp://127.0.0.1:{port}").parse().unwrap());
    });
    wait_for_welcome(&mut kiosk);
    tap(&mut kiosk, "户籍");
    tap(&mut kiosk, "取号");
    wait_for_label(&mut kiosk, "A001");
    wait_for_label(&mut kiosk, "⚠ 打印机故障，请拍照或扫码保存");
    assert!(kiosk.query_by_label_contains("号票二维码").is_some());
    let Screen::Ticket(shown) = kiosk.state().screen() else {
        panic!("the ticket is shown");
    };
    assert!(matches!(shown.print, PrintState::Failed(_)));

    // Out of paper: the printer answers the status request with "paper end".
    let (sink, _received) = fake_printer(Some(0x72));
    let mut kiosk = kiosk_with({
        let mut options = jiaohao_kiosk::Options::new(hub.url(), hub.tokens.kiosk.clone());
        options.printer = Some(sink);
        options
    });
    wait_for_welcome(&mut kiosk);
    tap(&mut kiosk, "户籍");
    tap(&mut kiosk, "取号");
    wait_for_label(&mut kiosk, "A002");
    wait_for_label(&mut kiosk, "⚠ 打印机故障，请拍照或扫码保存");

    // Both faults reached the hub as device problems of the kiosk, for the admin to see.
    let problems = hub.wait_for_device_problems(2);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    for problem in &problems {
        assert_eq!(problem.kind, "printer", "{problem:?}");
        assert!(problem.device.starts_with("kiosk:kiosk#"), "{problem:?}");
    }
    let said = |words: &str| problems.iter().any(|p| p.message.contains(words));
    assert!(said("cannot be reached"), "{problems:#?}");
    assert!(said("out of paper"), "{problems:#?}");
}

#[test]
fn a_slip_can_go_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slips.bin");
    let sink: Sink = format!("file:{}", path.display()).parse().unwrap();
    let bytes = slip::escpos(&a_slip()).unwrap();
    slip::send(&sink, &bytes, Duration::from_secs(1)).unwrap();
    slip::send(&sink, &bytes, Duration::from_secs(1)).unwrap();
    let written = std::fs::read(&path).unwrap();
    assert_eq!(written.len(), 2 * bytes.len(), "slips are appended");
    assert!(decode(&written).lines.iter().any(|l| l == "A001"));
}

/// A checked-in booking's slip says 预约 and the slot, on its own line, as the printer decodes
/// it; a reprint's slip says 补打号票.
#[test]
fn a_checked_in_booking_prints_its_slot_and_a_reprint_says_so() {
    let hub = TestHub::start();
    crate::checkin::booked(&hub, "11010519491231002X", "13800138000", "09:00");
    // Tuesday 08:40: inside the check-in window of the 09:00 slot.
    hub.set_time("2026-11-24T08:40:00+08:00");
    let (sink, received) = fake_printer(None);
    let mut kiosk = kiosk(&hub, |options| options.printer = Some(sink));
    wait_for_welcome(&mut kiosk);
    // A keyboard-mode card reader's line on the welcome screen checks in.
    kiosk.event(egui::Event::Text("11010519491231002X".into()));
    kiosk.key_press(egui::Key::Enter);
    wait_for_label(&mut kiosk, "E001");
    wait_for_label(&mut kiosk, "请取走打印好的号票");
    let decoded = decode(&received.recv_timeout(Duration::from_secs(10)).unwrap());
    for expected in ["E001", "【预约 09:00–09:30】"] {
        assert!(
            decoded.lines.iter().any(|l| l == expected),
            "no line '{expected}' in {:#?}",
            decoded.lines
        );
    }
    assert!(!decoded.lines.iter().any(|l| l.contains("补打")));
    assert_eq!(decoded.last, Some("cut"));

    let reprint = Slip {
        reprint: true,
        ..a_slip()
    };
    let decoded = decode(&slip::escpos(&reprint).unwrap());
    assert!(
        decoded.lines.iter().any(|l| l == "【补打号票】"),
        "{:#?}",
        decoded.lines
    );
}
