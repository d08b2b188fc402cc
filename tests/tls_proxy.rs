//! The phone side over TLS through a real reverse proxy (issue 19): Debian's nginx with the
//! repository's `packaging/nginx` files and a throwaway certificate, in front of a real hub.
//! Through it a phone reads its ticket page, the assets and the status, and follows the live
//! stream over HTTPS; no staff route answers through it. Without nginx (or curl, or openssl)
//! the test says SKIPPED loudly, and fails under CI=true.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use jiaohao_testkit::tls_proxy::{self, TlsProxy};

use crate::support::TestHub;

/// `curl` over HTTPS trusting only the proxy's certificate: the status and the body.
fn curl(proxy: &TlsProxy, method: &str, path: &str, headers: &[&str]) -> (u16, String) {
    let mut command = Command::new("curl");
    command
        .args(["-sS", "--max-time", "10", "-X", method, "--cacert"])
        .arg(proxy.certificate())
        .args(["-w", "\n%{http_code}"]);
    for header in headers {
        command.args(["-H", header]);
    }
    if method == "POST" {
        command.args([
            "-H",
            "Content-Type: application/json",
            "-d",
            r#"{"service":"hukou","green_channel":false}"#,
        ]);
    }
    let out = command
        .arg(format!("{}{path}", proxy.url))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
    (
        status.trim().parse().unwrap_or_else(|_| {
            panic!(
                "curl {path}: {text} {}",
                String::from_utf8_lossy(&out.stderr)
            )
        }),
        body.to_owned(),
    )
}

fn found(program: &str) -> Option<PathBuf> {
    ["/usr/bin", "/bin", "/usr/sbin"]
        .iter()
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.exists())
}

/// nginx, if it and curl and openssl are installed; otherwise says SKIPPED loudly (and fails
/// under CI=true).
fn nginx_or_skip() -> Option<PathBuf> {
    let nginx = tls_proxy::nginx();
    if nginx.is_none() || found("curl").is_none() || found("openssl").is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "nginx, curl or openssl is missing, and CI=true (apt-get install nginx-light curl openssl)"
        );
        eprintln!(
            "\n*** SKIPPED: nginx, curl or openssl is not installed; the TLS proxy test did not run ***\n"
        );
    }
    nginx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_tls_proxy_a_phone_follows_its_ticket_and_no_staff_route_answers() {
    let Some(nginx) = nginx_or_skip() else {
        return;
    };
    let hub = TestHub::start_with(|config| {
        config.caps.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let proxy = TlsProxy::start(&nginx, hub.addr).unwrap();
    let ticket = hub.issue("hukou").await;
    let token = ticket.token.clone();

    let proxy = std::sync::Arc::new(proxy);
    let get = |path: String| {
        let proxy = proxy.clone();
        tokio::task::spawn_blocking(move || curl(&proxy, "GET", &path, &[]))
    };

    // The ticket page, what it loads, and its status.
    let (status, page) = get(ticket.url.clone()).await.unwrap();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("/assets/ticket.js"), "{page}");
    for asset in [
        "app.css",
        "common.js",
        "ticket.js",
        "book.js",
        "favicon.svg",
    ] {
        let (status, body) = get(format!("/assets/{asset}")).await.unwrap();
        assert_eq!(status, 200, "{asset}: {body}");
    }
    let (status, body) = get(format!("/api/tickets/{token}")).await.unwrap();
    assert_eq!(status, 200, "{body}");
    let status_json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status_json["number"], ticket.number.as_str(), "{body}");

    // The live stream over HTTPS: the snapshot at once, then the call as it happens.
    let mut stream = Command::new("curl")
        .args(["-sS", "-N", "--max-time", "20", "--cacert"])
        .arg(proxy.certificate())
        .arg(format!("{}/api/events", proxy.url))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    let out = stream.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let wait_for = async |lines: &mut tokio::sync::mpsc::UnboundedReceiver<String>, want: &str| {
        tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(line) = lines.recv().await {
                if line == want {
                    return true;
                }
            }
            false
        })
        .await
        .unwrap_or(false)
    };
    assert!(
        wait_for(&mut lines, "event: snapshot").await,
        "no snapshot through the proxy"
    );
    hub.clerk.window_action(1, "open").await.unwrap();
    let called = hub.clerk.call_next(1).await.unwrap();
    assert_eq!(called.map(|t| t.number), Some(ticket.number.clone()));
    assert!(
        wait_for(&mut lines, "event: ticket_called").await,
        "the call did not come through the proxy's stream"
    );
    let _ = stream.kill();
    let _ = stream.wait();

    // No staff route answers through the proxy, whatever the credentials.
    let kiosk = format!("Authorization: Bearer {}", hub.tokens.kiosk);
    let admin = format!("Authorization: Bearer {}", hub.tokens.admin);
    let refused = [
        ("POST", "/api/tickets".to_owned(), kiosk.clone()),
        ("POST", "/api/windows/1/call-next".to_owned(), admin.clone()),
        ("GET", "/api/windows".to_owned(), admin.clone()),
        ("GET", "/api/tokens".to_owned(), admin.clone()),
        ("GET", "/api/hall".to_owned(), admin.clone()),
        ("GET", "/admin".to_owned(), admin.clone()),
        ("GET", "/counter".to_owned(), admin.clone()),
        ("GET", "/login".to_owned(), admin.clone()),
        ("GET", "/metrics".to_owned(), admin.clone()),
        ("GET", "/assets/admin.js".to_owned(), admin.clone()),
        ("GET", "/api/openapi.json".to_owned(), admin.clone()),
        ("POST", format!("/t/{token}"), kiosk.clone()),
        ("POST", "/api/events".to_owned(), kiosk.clone()),
    ];
    let issued_before = hub.public.hall().await.unwrap();
    for (method, path, header) in refused {
        let proxy = proxy.clone();
        let path2 = path.clone();
        let (status, body) =
            tokio::task::spawn_blocking(move || curl(&proxy, method, &path2, &[&header]))
                .await
                .unwrap();
        assert!(
            status == 404 || status == 403,
            "{method} {path} answered {status} through the proxy: {body}"
        );
    }
    let issued_after = hub.public.hall().await.unwrap();
    assert_eq!(
        serde_json::to_value(&issued_before.services).unwrap(),
        serde_json::to_value(&issued_after.services).unwrap(),
        "nothing changed in the hall"
    );
}

/// An event stream opened with curl through the proxy from the local address `from` (curl
/// binds its socket there, so nginx sees that client address): the status the hub gave, and
/// for an admitted stream the running curl, held open until dropped.
struct ProxiedStream {
    status: u16,
    curl: std::process::Child,
}

impl Drop for ProxiedStream {
    fn drop(&mut self) {
        let _ = self.curl.kill();
        let _ = self.curl.wait();
    }
}

/// Opens `/api/events` through the proxy from `from`; for a 200, waits for its snapshot.
fn open_stream(proxy: &TlsProxy, from: &str) -> ProxiedStream {
    let mut curl = Command::new("curl")
        .args(["-sS", "-i", "-N", "--max-time", "30", "--interface", from])
        .arg("--cacert")
        .arg(proxy.certificate())
        .arg(format!("{}/api/events", proxy.url))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel();
    let out = curl.stdout.take().unwrap();
    // Reads curl's output to its end, long after anyone listens: a pipe nobody reads would
    // stop curl at the next heartbeat, and the hub would count one stream fewer.
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let next = || {
        lines
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("no answer through the proxy from {from}"))
    };
    // `HTTP/1.1 200 OK`
    let status_line = next();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("{status_line:?}"));
    if status == 200 {
        while next().trim_end() != "event: snapshot" {}
    }
    ProxiedStream { status, curl }
}

/// Through nginx the hub counts the phone's address, not the proxy's: with a cap of three
/// streams per address, a fourth from one phone's address is refused while a stream from
/// another phone through the same nginx is still admitted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_tls_proxy_the_stream_cap_counts_the_phones_address_not_the_proxys() {
    let Some(nginx) = nginx_or_skip() else {
        return;
    };
    let hub = TestHub::start_with(|config| {
        config.caps.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        config.caps.streams_per_address = Some(3);
    })
    .await;
    let proxy = std::sync::Arc::new(TlsProxy::start(&nginx, hub.addr).unwrap());
    let open = |from: &'static str| {
        let proxy = proxy.clone();
        tokio::task::spawn_blocking(move || open_stream(&proxy, from))
    };

    let mut held = Vec::new();
    for _ in 0..3 {
        let stream = open("127.0.0.2").await.unwrap();
        assert_eq!(stream.status, 200, "127.0.0.2 is within its cap");
        held.push(stream);
    }
    let past = open("127.0.0.2").await.unwrap();
    assert!(
        past.status == 429 || past.status == 503,
        "a fourth stream from 127.0.0.2 answered {}",
        past.status
    );
    let other = open("127.0.0.3").await.unwrap();
    assert_eq!(
        other.status, 200,
        "another phone through the same proxy is not counted with the first"
    );
    // The first phone gets a stream again once it lets one go.
    drop(held.pop());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let again = open("127.0.0.2").await.unwrap();
        if again.status == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "127.0.0.2 stays refused after closing a stream: {}",
            again.status
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
