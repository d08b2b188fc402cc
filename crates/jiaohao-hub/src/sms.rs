//! Sending the SMS that verifies a booking, through what the hall configures: a file sink
//! (the demo and the tests: one line per message, the phone number, a tab, the text), a
//! command (the hall's own gateway script, given the phone number and the text as its two
//! arguments) or an HTTP endpoint (the hall's gateway, sent `POST {"phone","text"}` as JSON).
//! With none, the hub takes no bookings.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

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
    /// Posts `{"phone","text"}` as JSON to the hall's gateway; a 2xx answer in time is sent.
    Http(HttpGateway),
}

/// The hall's SMS gateway over HTTP.
#[derive(Debug, Clone)]
pub struct HttpGateway {
    url: String,
    timeout: Duration,
    client: reqwest::Client,
}

impl PartialEq for HttpGateway {
    fn eq(&self, other: &Self) -> bool {
        (&self.url, self.timeout) == (&other.url, other.timeout)
    }
}

impl Eq for HttpGateway {}

impl HttpGateway {
    /// How long a gateway may take to answer before the message counts as not sent.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// A gateway at `url` (`http://…`: the hub speaks no TLS itself, so an `https` provider is
    /// reached through a relay on the hall's network), answering within `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Result<HttpGateway, String> {
        let url = url.trim();
        let parsed =
            reqwest::Url::parse(url).map_err(|e| format!("--sms-url '{url}' is not a URL: {e}"))?;
        if parsed.scheme() != "http" {
            return Err(format!(
                "--sms-url '{url}' must be an http:// URL (the hub speaks no TLS: reach an https gateway through a relay on the hall's network)"
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .no_proxy()
            .build()
            .map_err(|e| format!("cannot make the SMS gateway's client: {e}"))?;
        Ok(HttpGateway {
            url: url.to_owned(),
            timeout,
            client,
        })
    }

    async fn send(&self, phone: &str, text: &str) -> Result<(), String> {
        let answer = self
            .client
            .post(&self.url)
            .json(&serde_json::json!({"phone": phone, "text": text}))
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    format!(
                        "the SMS gateway did not answer within {} ms",
                        self.timeout.as_millis()
                    )
                } else {
                    format!("cannot reach the SMS gateway: {e}")
                }
            })?;
        let status = answer.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the SMS gateway answered {status}"))
        }
    }
}

/// Keeps file-sink lines whole when two bookings send at once.
static FILE_LOCK: Mutex<()> = Mutex::new(());

impl SmsSender {
    pub fn is_configured(&self) -> bool {
        *self != SmsSender::None
    }

    /// Sends one message; the file and the command run off the async workers.
    pub async fn send(&self, phone: &str, text: &str) -> Result<(), String> {
        let text = text.replace(['\n', '\t'], " ");
        match self {
            SmsSender::Http(gateway) => gateway.send(phone, &text).await,
            other => {
                let (sender, phone) = (other.clone(), phone.to_owned());
                tokio::task::spawn_blocking(move || sender.send_blocking(&phone, &text))
                    .await
                    .map_err(|e| format!("the SMS sender stopped: {e}"))?
            }
        }
    }

    fn send_blocking(&self, phone: &str, text: &str) -> Result<(), String> {
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
                    .arg(text)
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
            SmsSender::Http(_) => Err("an HTTP gateway is sent to asynchronously".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex as StdMutex};

    #[tokio::test]
    async fn the_file_sink_writes_one_line_per_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sms.txt");
        let sender = SmsSender::File(path.clone());
        sender
            .send("13800138000", "验证码 123456\n第二行")
            .await
            .unwrap();
        sender.send("13900139000", "code 654321").await.unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "13800138000\t验证码 123456 第二行\n13900139000\tcode 654321\n"
        );
        assert!(SmsSender::None.send("1", "x").await.is_err());
    }

    #[tokio::test]
    async fn the_command_gets_the_phone_and_the_text() {
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
            .await
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "13800138000|code 123456"
        );
        assert!(
            SmsSender::Command("/nonexistent/sms".into())
                .send("1", "x")
                .await
                .is_err()
        );
    }

    /// A gateway on 127.0.0.1: it keeps what it is sent, answers 200, or 500 for the phone
    /// `500`, or nothing for a while for the phone `slow`.
    async fn gateway() -> (String, Arc<StdMutex<Vec<serde_json::Value>>>) {
        use axum::{Json, Router, http::StatusCode, routing::post};
        let received = Arc::new(StdMutex::new(Vec::new()));
        let kept = received.clone();
        let app = Router::new().route(
            "/sms",
            post(move |Json(body): Json<serde_json::Value>| {
                let kept = kept.clone();
                async move {
                    let phone = body["phone"].as_str().unwrap_or_default().to_owned();
                    kept.lock().unwrap().push(body);
                    match phone.as_str() {
                        "500" => StatusCode::INTERNAL_SERVER_ERROR,
                        "slow" => {
                            tokio::time::sleep(Duration::from_secs(5)).await;
                            StatusCode::OK
                        }
                        _ => StatusCode::OK,
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}/sms"), received)
    }

    #[tokio::test]
    async fn the_http_gateway_gets_the_phone_and_the_text_as_json() {
        let (url, received) = gateway().await;
        let sender = SmsSender::Http(HttpGateway::new(&url, Duration::from_millis(500)).unwrap());
        assert!(sender.is_configured());
        sender
            .send("13800138000", "验证码 123456\n请勿告诉他人")
            .await
            .unwrap();
        assert_eq!(
            received.lock().unwrap()[..],
            [serde_json::json!({"phone": "13800138000", "text": "验证码 123456 请勿告诉他人"})]
        );
        // A non-2xx answer, a gateway too slow and one that is not there are not sent.
        let refused = sender.send("500", "x").await.unwrap_err();
        assert!(refused.contains("500"), "{refused}");
        let slow = sender.send("slow", "x").await.unwrap_err();
        assert!(slow.contains("did not answer within 500 ms"), "{slow}");
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            drop(listener);
            format!("http://{addr}/sms")
        };
        let gone = SmsSender::Http(HttpGateway::new(&closed, Duration::from_millis(500)).unwrap());
        assert!(gone.send("1", "x").await.is_err());
        // Only http:// URLs.
        assert!(HttpGateway::new("https://sms.example/send", Duration::from_secs(1)).is_err());
        assert!(HttpGateway::new("not a url", Duration::from_secs(1)).is_err());
    }
}
