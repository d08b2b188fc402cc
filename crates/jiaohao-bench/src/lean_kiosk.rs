//! A lean kiosk for the load phases: one keep-alive HTTP/1.1 connection per simulated kiosk,
//! each request's bytes made once, each answer checked by its status line and its length and
//! for a ticket number, not parsed into types. In a hall the kiosks are other machines; here
//! the load generator shares the two cores with the hub, and a full client (reqwest, serde of
//! every answer) spent about as much CPU per ticket as the hub did, time the hub's latency
//! then showed. The event-stream subscribers are lean for the same reason.

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct LeanKiosk {
    address: String,
    stream: TcpStream,
    /// What has been read and not yet used.
    buffer: Vec<u8>,
    /// One ready request per service.
    requests: Vec<Vec<u8>>,
}

impl LeanKiosk {
    /// Connects to the hub at `url` (`http://host:port`) as the kiosk holding `token`.
    pub async fn connect(url: &str, token: &str, services: &[&str]) -> anyhow::Result<LeanKiosk> {
        let address = url
            .strip_prefix("http://")
            .with_context(|| format!("{url} is not an http:// address"))?
            .trim_end_matches('/')
            .to_owned();
        let requests = services
            .iter()
            .map(|service| {
                let body = format!(r#"{{"service":"{service}","green_channel":false}}"#);
                format!(
                    "POST /api/tickets HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes()
            })
            .collect();
        let stream = TcpStream::connect(&address).await?;
        stream.set_nodelay(true)?;
        Ok(LeanKiosk {
            address,
            stream,
            buffer: Vec::with_capacity(8192),
            requests,
        })
    }

    /// Issues a ticket of the `service`-th service; `true` when the hub answered with a
    /// success status and a ticket number. A broken connection is a failure, and the kiosk
    /// connects again for the next ticket, as a real one would.
    pub async fn issue_or_reconnect(&mut self, service: usize) -> bool {
        match self.issue(service).await {
            Ok(issued) => issued,
            Err(_) => {
                // If even that fails, the next ticket fails too and tries again.
                let _ = self.reconnect().await;
                false
            }
        }
    }

    /// Issues a ticket of the `service`-th service; `Ok(true)` when the hub answered with a
    /// success status and a ticket number.
    async fn issue(&mut self, service: usize) -> anyhow::Result<bool> {
        // The last answer is used up: the next one starts afresh.
        self.buffer.clear();
        let request = &self.requests[service % self.requests.len()];
        self.stream.write_all(request).await?;
        let (status, body) = self.read_answer().await?;
        Ok((200..300).contains(&status) && contains(body, br#""number":"#))
    }

    /// Reads one answer: its status and its body (which stays in the buffer until the next
    /// request).
    async fn read_answer(&mut self) -> anyhow::Result<(u16, &[u8])> {
        let head_end = loop {
            if let Some(at) = find(&self.buffer, b"\r\n\r\n") {
                break at + 4;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buffer[..head_end]).context("a non-UTF-8 head")?;
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .with_context(|| format!("no status in {head:?}"))?;
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .with_context(|| format!("no content-length in {head:?}"))?;
        while self.buffer.len() < head_end + length {
            self.fill().await?;
        }
        // Answers are read one at a time, so nothing follows this one; the next read starts
        // afresh.
        let body_end = head_end + length;
        anyhow::ensure!(
            self.buffer.len() == body_end,
            "bytes after an answer on {}",
            self.address
        );
        let body = &self.buffer[head_end..body_end];
        Ok((status, body))
    }

    async fn fill(&mut self) -> anyhow::Result<()> {
        let read = self.stream.read_buf(&mut self.buffer).await?;
        anyhow::ensure!(read > 0, "the hub closed the connection");
        Ok(())
    }

    /// After a broken connection: connects again, as a real kiosk would.
    async fn reconnect(&mut self) -> anyhow::Result<()> {
        self.buffer.clear();
        self.stream = TcpStream::connect(&self.address).await?;
        self.stream.set_nodelay(true)?;
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// Reads one request (head and a body of `Content-Length` bytes) from `stream`.
    async fn read_request(stream: &mut TcpStream) -> String {
        let mut seen = Vec::new();
        let mut chunk = [0u8; 1024];
        loop {
            let read = stream.read(&mut chunk).await.unwrap();
            seen.extend_from_slice(&chunk[..read]);
            let text = String::from_utf8_lossy(&seen).into_owned();
            if let Some(head_end) = text.find("\r\n\r\n") {
                let length: usize = text
                    .lines()
                    .find_map(|line| line.strip_prefix("Content-Length: "))
                    .unwrap()
                    .parse()
                    .unwrap();
                if seen.len() >= head_end + 4 + length {
                    return text;
                }
            }
        }
    }

    /// A listener standing in for the hub, and its `http://` address.
    async fn stand_in_hub() -> (TcpListener, String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        (listener, url)
    }

    #[tokio::test]
    async fn a_ticket_counts_and_a_refusal_does_not_on_one_kept_connection() {
        let (listener, url) = stand_in_hub().await;
        let hub = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let first = read_request(&mut stream).await;
            // An answer in two pieces: the head, then the body.
            let body = r#"{"number":"A001","service":"hukou"}"#;
            let head = format!(
                "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await.unwrap();
            stream.flush().await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            stream.write_all(body.as_bytes()).await.unwrap();
            let second = read_request(&mut stream).await;
            let body = r#"{"error":"too_many_requests","message":"slow down"}"#;
            let answer = format!(
                "HTTP/1.1 429 Too Many Requests\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(answer.as_bytes()).await.unwrap();
            (first, second)
        });
        let mut kiosk = LeanKiosk::connect(&url, "secret", &["hukou", "vehicle"])
            .await
            .unwrap();
        assert!(kiosk.issue(0).await.unwrap());
        assert!(!kiosk.issue(1).await.unwrap());
        let (first, second) = hub.await.unwrap();
        assert!(first.starts_with("POST /api/tickets HTTP/1.1\r\n"));
        assert!(first.contains("Authorization: Bearer secret\r\n"));
        assert!(first.ends_with(r#"{"service":"hukou","green_channel":false}"#));
        assert!(second.ends_with(r#"{"service":"vehicle","green_channel":false}"#));
    }

    #[tokio::test]
    async fn a_closed_connection_is_an_error() {
        let (listener, url) = stand_in_hub().await;
        let hub = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            read_request(&mut stream).await;
        });
        let mut kiosk = LeanKiosk::connect(&url, "t", &["hukou"]).await.unwrap();
        // The hub reads the request and closes without an answer.
        assert!(kiosk.issue(0).await.is_err());
        hub.await.unwrap();
    }
}
