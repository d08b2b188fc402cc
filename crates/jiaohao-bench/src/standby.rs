//! `jiaohao-bench standby`: two hubs in a hall under load. 50 kiosks issue tickets on a lone
//! primary, on a primary followed by a standby, and on a primary with `--sync-standby`; it
//! prints issuance p50/p99 for each and the replication lag (from a ticket's message on the
//! primary's live stream to the same message on the standby's) p50/p99, in one run; then it
//! kills a primary without `--sync-standby` under the same load and counts the answered
//! tickets its standby never received.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiaohao_client::Client;

use crate::hub_process::{self, HubProcess};
use crate::perf::issue_load;
use crate::stats::percentile_ms;

const KIOSKS: usize = 50;

/// When each `ticket_issued` message (by its id) reached this stream's reader.
async fn arrivals(client: Client, until: Instant) -> HashMap<u64, Instant> {
    let mut seen = HashMap::new();
    let Ok(mut stream) = client.events(None).await else {
        return seen;
    };
    while Instant::now() < until {
        let next = tokio::time::timeout_at(until.into(), stream.next()).await;
        match next {
            Ok(Ok(Some(event))) if event.event == "ticket_issued" => {
                if let Some(id) = event.id {
                    seen.insert(id, Instant::now());
                }
            }
            Ok(Ok(Some(_))) => {}
            _ => break,
        }
    }
    seen
}

/// Waits until the standby holds the primary's last record.
async fn caught_up(primary: &Client, standby: &Client) -> anyhow::Result<()> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let (p, s) = (primary.health().await?, standby.health().await?);
        if p.last_seq == s.last_seq {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    anyhow::bail!("the standby did not catch up within a minute")
}

struct Pair {
    primary: HubProcess,
    standby: HubProcess,
    kiosk: String,
    display: String,
}

async fn pair(
    binary: &Path,
    dir: &Path,
    name: &str,
    primary_args: &[&str],
) -> anyhow::Result<Pair> {
    let hall = hub_process::write_hall(dir)?;
    let db = dir.join(format!("{name}-primary.db"));
    let kiosk = hub_process::token(binary, &db, "kiosk")?;
    let display = hub_process::token(binary, &db, "display")?;
    let replica = hub_process::token(binary, &db, "replica")?;
    let primary = HubProcess::start_with(
        binary,
        &db,
        &hall,
        &dir.join(format!("{name}-primary.log")),
        primary_args,
    )
    .await?;
    let standby = HubProcess::start_with(
        binary,
        &dir.join(format!("{name}-standby.db")),
        &hall,
        &dir.join(format!("{name}-standby.log")),
        &["--follow", &primary.url, "--follow-token", &replica],
    )
    .await?;
    caught_up(&Client::new(&primary.url), &Client::new(&standby.url)).await?;
    Ok(Pair {
        primary,
        standby,
        kiosk,
        display,
    })
}

pub async fn run(binary: PathBuf, seconds: u64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    println!(
        "| setup | tickets/s | issue p50 ms | issue p99 ms | replication lag p50 ms | lag p99 ms |"
    );
    println!("|---|---|---|---|---|---|");

    // A lone primary.
    {
        let hall = hub_process::write_hall(dir.path())?;
        let db = dir.path().join("lone.db");
        let kiosk = hub_process::token(&binary, &db, "kiosk")?;
        let mut hub = HubProcess::start(&binary, &db, &hall, &dir.path().join("lone.log")).await?;
        let (rate, mut latencies, _) = issue_load(&hub.url, &kiosk, KIOSKS, seconds).await?;
        println!(
            "| lone primary | {rate:.0} | {:.2} | {:.2} | – | – |",
            percentile_ms(&mut latencies, 50.0),
            percentile_ms(&mut latencies, 99.0)
        );
        hub.stop()?;
    }

    for (name, args) in [("async", &[][..]), ("sync", &["--sync-standby"][..])] {
        let mut pair = pair(&binary, dir.path(), name, args).await?;
        let until = Instant::now() + Duration::from_secs(seconds + 5);
        let on_primary = tokio::spawn(arrivals(
            Client::new(&pair.primary.url).with_token(&pair.display),
            until,
        ));
        let on_standby = tokio::spawn(arrivals(
            Client::new(&pair.standby.url).with_token(&pair.display),
            until,
        ));
        // Both streams are open before the load starts.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (rate, mut latencies, failed) =
            issue_load(&pair.primary.url, &pair.kiosk, KIOSKS, seconds).await?;
        caught_up(
            &Client::new(&pair.primary.url),
            &Client::new(&pair.standby.url),
        )
        .await?;
        let alone = Client::new(&pair.primary.url).health().await?.alone;
        let (primary_seen, standby_seen) = (on_primary.await?, on_standby.await?);
        let mut lags: Vec<Duration> = primary_seen
            .iter()
            .filter_map(|(id, at)| {
                standby_seen
                    .get(id)
                    .map(|there| there.saturating_duration_since(*at))
            })
            .collect();
        let setup = match name {
            "async" => "primary + standby".to_owned(),
            _ => format!(
                "primary --sync-standby + standby{}",
                if alone == Some(true) {
                    " (went alone)"
                } else {
                    ""
                }
            ),
        };
        println!(
            "| {setup} | {rate:.0} | {:.2} | {:.2} | {:.2} | {:.2} |{}",
            percentile_ms(&mut latencies, 50.0),
            percentile_ms(&mut latencies, 99.0),
            percentile_ms(&mut lags, 50.0),
            percentile_ms(&mut lags, 99.0),
            if failed > 0 {
                format!(" {failed} failed")
            } else {
                String::new()
            }
        );
        eprintln!("{name}: lag measured on {} of the tickets", lags.len());
        pair.standby.stop()?;
        pair.primary.stop()?;
    }

    // What losing the primary costs without --sync-standby: `kill -9` halfway through the
    // load, then count the tickets the kiosks were answered that the standby never received.
    {
        let mut pair = pair(&binary, dir.path(), "kill", &[]).await?;
        let (url, kiosk) = (pair.primary.url.clone(), pair.kiosk.clone());
        let load = tokio::spawn(async move { issue_load(&url, &kiosk, KIOSKS, seconds).await });
        tokio::time::sleep(Duration::from_millis(seconds * 500)).await;
        pair.primary.kill_hard()?;
        let (_, answered, _) = load.await??;
        // The standby folds what it had received before the kill.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let hall = Client::new(&pair.standby.url)
            .with_token(&pair.display)
            .hall()
            .await?;
        let held: u32 = hall.services.iter().map(|s| s.issued_today).sum();
        println!(
            "\nkill -9 of a primary without --sync-standby under {KIOSKS} kiosks: {} tickets answered, {held} on the standby, {} lost",
            answered.len(),
            answered.len() as i64 - i64::from(held)
        );
        pair.standby.stop()?;
    }
    Ok(())
}
