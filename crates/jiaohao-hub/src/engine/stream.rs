//! The live stream's messages as the engine makes them: each change and each hall view is
//! turned into the bytes of one Server-Sent Events message once, in the writer, and every
//! subscriber (`crate::http::events`) is handed the same bytes.

use bytes::Bytes;

/// One message of the live stream, as the bytes every subscriber is sent (made once here).
#[derive(Debug, Clone)]
pub enum StreamItem {
    Change { seq: u64, frame: Bytes },
    HallChanged { seq: u64, frame: Bytes },
}

/// One Server-Sent Events message, ready to write: `event`, `id` and `data` lines and the
/// blank line that ends it.
pub fn frame(name: &str, id: u64, data: &str) -> Bytes {
    let mut text = String::with_capacity(name.len() + data.len() + 40);
    text.push_str("event: ");
    text.push_str(name);
    text.push_str("\nid: ");
    text.push_str(&id.to_string());
    text.push('\n');
    // Compact JSON has no line breaks; should one ever come, each line is a `data` field.
    for line in data.split('\n') {
        text.push_str("data: ");
        text.push_str(line.trim_end_matches('\r'));
        text.push('\n');
    }
    text.push('\n');
    Bytes::from(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_one_complete_server_sent_event() {
        let bytes = frame("ticket_called", 42, r#"{"id":42,"number":"A001"}"#);
        assert_eq!(
            &bytes[..],
            b"event: ticket_called\nid: 42\ndata: {\"id\":42,\"number\":\"A001\"}\n\n"
        );
        // A line break in the data cannot end the message early or forge a field.
        let bytes = frame("hall_changed", 7, "{\"a\":1,\r\nid: 99\n}");
        assert_eq!(
            &bytes[..],
            b"event: hall_changed\nid: 7\ndata: {\"a\":1,\ndata: id: 99\ndata: }\n\n"
        );
    }
}
