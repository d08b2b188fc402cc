//! A `jiaohao-hub serve` child process on a free loopback port, with an all-day hall.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use jiaohao_client::Client;

/// The default hall without issuing hours or caps, so a measurement runs at any time of day.
const ALLDAY_HALL: &str = include_str!("../../../tests/halls/allday.toml");

pub struct HubProcess {
    child: Child,
    pub url: String,
}

pub fn write_hall(dir: &Path) -> anyhow::Result<PathBuf> {
    let path = dir.join("allday.toml");
    std::fs::write(&path, ALLDAY_HALL)?;
    Ok(path)
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

impl HubProcess {
    pub async fn start(
        binary: &Path,
        db: &Path,
        hall: &Path,
        log: &Path,
    ) -> anyhow::Result<HubProcess> {
        HubProcess::start_within(binary, db, hall, log, Duration::from_secs(10)).await
    }

    /// As [`HubProcess::start`], with more arguments for `serve`.
    pub async fn start_with(
        binary: &Path,
        db: &Path,
        hall: &Path,
        log: &Path,
        extra: &[&str],
    ) -> anyhow::Result<HubProcess> {
        HubProcess::launch(binary, db, hall, log, Duration::from_secs(10), extra).await
    }

    /// Starts the hub and waits up to `limit` for it to answer `/api/health`, asking every
    /// 5 ms (so a start-up time measured around this is exact to a few milliseconds).
    pub async fn start_within(
        binary: &Path,
        db: &Path,
        hall: &Path,
        log: &Path,
        limit: Duration,
    ) -> anyhow::Result<HubProcess> {
        HubProcess::launch(binary, db, hall, log, limit, &[]).await
    }

    async fn launch(
        binary: &Path,
        db: &Path,
        hall: &Path,
        log: &Path,
        limit: Duration,
        extra: &[&str],
    ) -> anyhow::Result<HubProcess> {
        let listen = format!("127.0.0.1:{}", free_port()?);
        let child = Command::new(binary)
            .arg("serve")
            .arg("--db")
            .arg(db)
            .args(["--listen", &listen, "--hall"])
            .arg(hall)
            // One kiosk token drives thousands of tickets a second here: no rate limits.
            .args(["--ticket-limit", "off", "--public-limit", "off"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log)?)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut hub = HubProcess {
            child,
            url: format!("http://{listen}"),
        };
        let client = Client::new(&hub.url);
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            if client.health().await.is_ok() {
                return Ok(hub);
            }
            if let Some(status) = hub.child.try_wait()? {
                anyhow::bail!(
                    "the hub exited at start ({status}): {}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        anyhow::bail!("the hub did not answer /api/health within {limit:?}")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The hub's peak resident memory so far, in MiB (Linux `VmHWM`).
    pub fn peak_rss_mib(&self) -> Option<f64> {
        self.memory_mib("VmHWM:")
    }

    /// The hub's resident memory now, in MiB (Linux `VmRSS`).
    pub fn rss_mib(&self) -> Option<f64> {
        self.memory_mib("VmRSS:")
    }

    fn memory_mib(&self, field: &str) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|line| line.starts_with(field))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }

    /// `kill -9`: the process gets no chance to clean up.
    pub fn kill_hard(&mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// SIGTERM through the `kill` command, then wait for a clean exit.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        Command::new("kill")
            .args(["-s", "TERM", &self.pid().to_string()])
            .status()?;
        let status = self.child.wait()?;
        anyhow::ensure!(status.success(), "the hub stopped with {status}");
        Ok(())
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Makes a token with the binary's own `token create`.
pub fn token(binary: &Path, db: &Path, role: &str) -> anyhow::Result<String> {
    let output = Command::new(binary)
        .args(["token", "create", "--role", role, "--db"])
        .arg(db)
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "token create: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}
