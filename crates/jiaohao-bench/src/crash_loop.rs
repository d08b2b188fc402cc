//! `jiaohao-bench crash-loop`: cycles of load + `kill -9` at a random moment + restart on the
//! same database. After each restart: every acknowledged ticket is there with its number,
//! every acknowledged call left its ticket called or beyond, no number repeats within a day,
//! and the log folded afresh gives the state the restarted hub shows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiaohao_client::Client;
use jiaohao_core::{Event, Hall};
use jiaohao_store::Store;

use crate::hub_process::{self, HubProcess};

/// A small seeded generator (SplitMix64) for the kill moments: the same seed, the same run.
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[derive(Default)]
struct Acknowledged {
    /// token → number of every ticket answered 201.
    tickets: Vec<(String, String)>,
    /// numbers of tickets answered as called.
    calls: Vec<String>,
}

pub async fn run(binary: PathBuf, cycles: u32, seed: u64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("hall.db");
    let hall = hub_process::write_hall(dir.path())?;
    let log = dir.path().join("hub.log");
    let mut random = SplitMix(seed);
    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    let mut tokens: Option<(String, String)> = None;

    for cycle in 1..=cycles {
        let mut hub = HubProcess::start(&binary, &db, &hall, &log).await?;
        let (kiosk_token, admin_token) = match &tokens {
            Some(tokens) => tokens.clone(),
            None => {
                let made = (
                    hub_process::token(&binary, &db, "kiosk")?,
                    hub_process::token(&binary, &db, "admin")?,
                );
                tokens = Some(made.clone());
                made
            }
        };
        let public = Client::new(&hub.url);
        check(&public, &db, &acknowledged).await?;

        let kiosk = public.with_token(&kiosk_token);
        let admin = public.with_token(&admin_token);
        for window in 1..=4u16 {
            // Windows are open already after the first cycle; that answer is a 409.
            let _ = admin.window_action(window, "open").await;
        }
        let mut load = Vec::new();
        for worker in 0..16usize {
            let kiosk = kiosk.clone();
            let acknowledged = acknowledged.clone();
            load.push(tokio::spawn(async move {
                let service = ["hukou", "id_card", "vehicle", "violation"][worker % 4];
                while let Ok(ticket) = kiosk.issue_ticket(service, worker % 5 == 0, None).await {
                    let mut acknowledged = acknowledged.lock().unwrap_or_else(|e| e.into_inner());
                    acknowledged.tickets.push((ticket.token, ticket.number));
                }
            }));
        }
        for window in 1..=4u16 {
            let admin = admin.clone();
            let acknowledged = acknowledged.clone();
            load.push(tokio::spawn(async move {
                loop {
                    match admin.call_next(window).await {
                        Ok(Some(ticket)) => acknowledged
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .calls
                            .push(ticket.number),
                        Ok(None) => tokio::time::sleep(Duration::from_millis(5)).await,
                        Err(_) => break,
                    }
                }
            }));
        }
        let moment = Duration::from_millis(100 + random.next() % 700);
        tokio::time::sleep(moment).await;
        hub.kill_hard()?;
        for task in load {
            let _ = task.await;
        }
        let counts = {
            let acknowledged = acknowledged.lock().unwrap_or_else(|e| e.into_inner());
            (acknowledged.tickets.len(), acknowledged.calls.len())
        };
        println!(
            "cycle {cycle:2}: killed after {} ms; acknowledged so far: {} tickets, {} calls",
            moment.as_millis(),
            counts.0,
            counts.1
        );
    }
    let hub = HubProcess::start(&binary, &db, &hall, &log).await?;
    check(&Client::new(&hub.url), &db, &acknowledged).await?;
    println!("crash loop: {cycles} cycles, nothing acknowledged was lost");
    Ok(())
}

/// Everything acknowledged is in the restarted hub, no number repeats, and the log replays to
/// what the hub shows.
async fn check(
    public: &Client,
    db: &std::path::Path,
    acknowledged: &Mutex<Acknowledged>,
) -> anyhow::Result<()> {
    let (tickets, calls) = {
        let acknowledged = acknowledged.lock().unwrap_or_else(|e| e.into_inner());
        (acknowledged.tickets.clone(), acknowledged.calls.clone())
    };
    let called: BTreeSet<&String> = calls.iter().collect();
    for (token, number) in &tickets {
        let status = public
            .ticket(token)
            .await
            .map_err(|e| anyhow::anyhow!("acknowledged ticket {number} is lost: {e}"))?;
        anyhow::ensure!(
            &status.number == number,
            "ticket {number} came back as {}",
            status.number
        );
        if called.contains(number) {
            anyhow::ensure!(
                status.status != "waiting",
                "ticket {number} was called, but is waiting again"
            );
        }
    }

    // Numbers never repeat within a day, and the fold of the log is the hub's state.
    let store = Store::open_read_only(db)?;
    let mut hall = Hall::new();
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut day = String::new();
    let mut repeated = None;
    store.for_each_record_after(0, |record| {
        match &record.event {
            Event::DayStarted { date } => day = date.to_string(),
            Event::TicketIssued { number, .. }
                if !seen
                    .entry(day.clone())
                    .or_default()
                    .insert(number.to_string()) =>
            {
                repeated = Some(number.to_string());
            }
            _ => {}
        }
        hall.evolve(&record.event, record.at);
    })?;
    if let Some(number) = repeated {
        anyhow::bail!("ticket number {number} was issued twice on {day}");
    }
    hall.check_invariants().map_err(anyhow::Error::msg)?;
    let view = public.hall().await?;
    for service in &view.services {
        let code = jiaohao_core::ServiceCode::parse(&service.def.code)?;
        anyhow::ensure!(
            service.waiting as usize == hall.queues().waiting_for_service(&code)
                && service.issued_today == hall.issued_today(&code),
            "service {} differs between the hub and the folded log",
            service.def.code
        );
    }
    for window in &view.windows {
        let number = jiaohao_core::WindowNumber::new(u32::from(window.number))?;
        let folded = hall
            .window(number)
            .and_then(|w| w.serving())
            .and_then(|id| hall.ticket(id))
            .map(|t| t.number.to_string());
        anyhow::ensure!(
            folded == window.current_ticket,
            "window {} serves {:?} in the hub but {folded:?} in the folded log",
            window.number,
            window.current_ticket
        );
    }
    Ok(())
}
