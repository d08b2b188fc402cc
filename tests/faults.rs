//! Faults of the machine under a running hub: a disk that fills up (a real small tmpfs under
//! the database, filled with a ballast file), a sync of the log that fails, and the automatic
//! daily backup with its restore.
//!
//! A read-only remount cannot be tested the same way: Linux refuses `remount,ro` while the hub
//! holds the database open for writing. SQLite reports both as a failed write, which takes the
//! same path in the writer (503, reload from the log).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use jiaohao_client::Client;
use jiaohao_hub::backups::DailyBackup;
use jiaohao_hub::limits::LimitConfig;
use jiaohao_hub::{HubConfig, ManualClock, hall_file};
use jiaohao_store::{Role, Store};
use reqwest::Method;

use crate::support::{Events, MORNING, Reply, TestHub, WAIT, at, send};

/// A tmpfs mounted on a directory for one test; unmounted (lazily, so an open file cannot
/// keep it) when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (such as `8m`) on `dir`, or says why it cannot.
    fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let output = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "mount -t tmpfs failed (not root, or no CAP_SYS_ADMIN in this container): {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Ok(Tmpfs {
            dir: dir.to_owned(),
        })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// Fills the file system of `path` with one ballast file until it refuses another byte.
fn fill(path: &Path) {
    let mut file = std::fs::File::create(path).expect("the ballast file");
    let mut chunk = 1 << 20;
    while chunk >= 512 {
        let block = vec![0xA5u8; chunk];
        while file.write_all(&block).and_then(|()| file.flush()).is_ok() {}
        chunk /= 2;
    }
    let _ = file.sync_all();
}

/// Toggles window 3 open and closed until the hub refuses a change; answers that refusal.
async fn change_until_refused(admin: &Client) -> Reply {
    for round in 0..5_000 {
        // Closing a window takes a reason.
        let request = if round % 2 == 0 {
            admin
                .request(Method::POST, "/api/windows/3/close")
                .json(&serde_json::json!({"reason": "other"}))
        } else {
            admin.request(Method::POST, "/api/windows/3/open")
        };
        let reply = send(request).await;
        match reply.status {
            200 => continue,
            _ => return reply,
        }
    }
    panic!("5000 changes on a full disk were all saved")
}

/// Checks everything a reader needs works while writes are refused.
async fn reads_work(public: &Client, display: &Client, ticket_token: &str) {
    let hall = send(public.request(Method::GET, "/api/hall")).await;
    assert_eq!(hall.status, 200, "GET /api/hall: {hall:?}");
    let page = send(public.request(Method::GET, &format!("/t/{ticket_token}"))).await;
    assert_eq!(page.status, 200, "the ticket page: {page:?}");
    let status = send(public.request(Method::GET, &format!("/api/tickets/{ticket_token}"))).await;
    assert_eq!(status.status, 200, "the ticket's status: {status:?}");
    let counter = send(public.request(Method::GET, "/login")).await;
    assert_eq!(counter.status, 200, "the sign-in page");
    // The live stream opens (its token is checked on the read connection) and sends the hall.
    let mut events = Events::open(display, None).await;
    let first = events.next().await;
    assert!(!first.data.is_empty(), "{first:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_changes_with_503_reads_go_on_and_the_hub_recovers() {
    let outer = tempfile::tempdir().unwrap();
    let mount_point = outer.path().join("disk");
    let disk = match Tmpfs::mount(&mount_point, "8m") {
        Ok(disk) => disk,
        Err(reason) => {
            println!("SKIPPED: no small disk to fill: {reason}");
            return;
        }
    };
    let db = mount_point.join("hall.sqlite");
    let token = |role, name| jiaohao_hub::cli::create_token(&db, role, None, name).unwrap();
    let (admin_token, kiosk_token, display_token) = (
        token(Role::Admin, "admin"),
        token(Role::Kiosk, "kiosk"),
        token(Role::Display, "display"),
    );
    let clock = Arc::new(ManualClock::new(at(MORNING)));
    let config = || HubConfig {
        seed: hall_file::parse(hall_file::DEFAULT_HALL).unwrap(),
        clock: clock.clone(),
        limits: LimitConfig::off(),
        ..HubConfig::new(db.clone())
    };
    let running = jiaohao_hub::spawn("127.0.0.1:0", config()).await.unwrap();
    let public = Client::new(running.url());
    let (admin, kiosk, display) = (
        public.with_token(&admin_token),
        public.with_token(&kiosk_token),
        public.with_token(&display_token),
    );
    admin.window_action(3, "open").await.unwrap();
    let before = kiosk.issue_ticket("hukou", false, None).await.unwrap();
    assert_eq!(before.number, "A001");

    // A display follows the stream the whole time.
    let mut live = Events::open(&display, None).await;

    // The disk fills up: every change is refused with a clear 503, nothing else breaks.
    let ballast = mount_point.join("ballast");
    fill(&ballast);
    let refused = change_until_refused(&admin).await;
    refused.expect_error(503, "storage_unavailable");
    assert!(refused.body.contains("disk full"), "{}", refused.body);
    let ticket = send(
        kiosk
            .request(Method::POST, "/api/tickets")
            .json(&serde_json::json!({"service": "hukou"})),
    )
    .await;
    ticket.expect_error(503, "storage_unavailable");
    reads_work(&public, &display, &before.token).await;
    let hall_while_full = public.hall().await.unwrap();

    // Space comes back: the very next change is saved, without a restart.
    std::fs::remove_file(&ballast).unwrap();
    let after = kiosk.issue_ticket("hukou", false, None).await.unwrap();
    assert_eq!(
        after.number, "A002",
        "the refused ticket was never given out, so its number is free"
    );
    let hall = public.hall().await.unwrap();
    assert!(hall.seq > hall_while_full.seq);
    // The stream opened before the disk filled up carries on with the new ticket.
    let issued = live.until("ticket_issued").await;
    assert!(issued.data.contains("A002"), "{issued:?}");

    // A second fill, after the recovery: refused again, recovered again.
    fill(&ballast);
    let refused = change_until_refused(&admin).await;
    refused.expect_error(503, "storage_unavailable");
    reads_work(&public, &display, &after.token).await;
    std::fs::remove_file(&ballast).unwrap();
    let third = kiosk.issue_ticket("hukou", false, None).await.unwrap();
    assert_eq!(third.number, "A003");

    // After a restart the log folds to what was acknowledged: three tickets, no more.
    let seq = public.hall().await.unwrap().seq;
    running.stop().await.unwrap();
    let running = jiaohao_hub::spawn("127.0.0.1:0", config()).await.unwrap();
    let public = Client::new(running.url());
    let hall = public.hall().await.unwrap();
    assert_eq!(hall.seq, seq, "the log holds exactly what was answered");
    let hukou = hall
        .services
        .iter()
        .find(|s| s.def.code == "hukou")
        .unwrap();
    assert_eq!(hukou.issued_today, 3);
    running.stop().await.unwrap();
    drop(disk);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_sync_stops_an_embedded_hub_with_an_error_and_the_process_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hall.sqlite");
    let kiosk_token = jiaohao_hub::cli::create_token(&db, Role::Kiosk, None, "kiosk").unwrap();
    let config = HubConfig {
        seed: hall_file::parse(hall_file::DEFAULT_HALL).unwrap(),
        clock: Arc::new(ManualClock::new(at(MORNING))),
        limits: LimitConfig::off(),
        ..HubConfig::new(db.clone())
    };
    let running = jiaohao_hub::spawn("127.0.0.1:0", config).await.unwrap();
    let public = Client::new(running.url());
    let kiosk = public.with_token(&kiosk_token);
    kiosk.issue_ticket("hukou", false, None).await.unwrap();

    // The WAL's name now leads nowhere (a link to itself): the writer's connection still
    // writes its open file, but the next sync cannot open it and fails with ELOOP, as a sync
    // that fails on a bad disk does. Root may open any file, so permissions cannot do this.
    let wal = jiaohao_store::wal_path(&db);
    std::fs::remove_file(&wal).unwrap();
    std::os::unix::fs::symlink(&wal, &wal).unwrap();
    let refused = send(
        kiosk
            .request(Method::POST, "/api/tickets")
            .json(&serde_json::json!({"service": "hukou"})),
    )
    .await;
    // Nobody is told of a ticket the disk may not hold: its request learns the hub stops.
    refused.expect_error(503, "shutting_down");

    // The hub stops serving by itself, without a shutdown signal ...
    let deadline = tokio::time::Instant::now() + WAIT;
    while public.health().await.is_ok() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the hub still serves after a failed sync"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // ... and `serve` returns the error (this test's process is still alive to see it).
    let error = running
        .stop()
        .await
        .expect_err("serve returns the sync error");
    assert!(error.to_string().contains("durable"), "{error:#}");
}

/// Waits (bounded) until `path` exists.
async fn appears(path: &Path) -> bool {
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if path.exists() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

fn daily_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_is_written_every_day_the_oldest_are_deleted_and_one_restores() {
    let backups = tempfile::tempdir().unwrap();
    let dir = backups.path().to_owned();
    let hub = TestHub::start_with(move |config| {
        config.backup = Some(DailyBackup {
            dir: dir.clone(),
            keep: 2,
        });
    })
    .await;
    let dir = backups.path();
    // At start: today's backup, since there is none.
    assert!(appears(&dir.join("jiaohao-2026-11-23.sqlite3")).await);
    hub.issue("hukou").await;

    // Each new local day gets its own; only the newest two stay.
    for (day, expected) in [
        ("2026-11-24", vec!["2026-11-23", "2026-11-24"]),
        ("2026-11-25", vec!["2026-11-24", "2026-11-25"]),
    ] {
        hub.set_time(&format!("{day}T00:00:30+08:00"));
        let file = dir.join(format!("jiaohao-{day}.sqlite3"));
        assert!(appears(&file).await, "{day}");
        // Deleting the oldest follows writing the newest; wait for it too.
        let expected: Vec<String> = expected
            .iter()
            .map(|d| format!("jiaohao-{d}.sqlite3"))
            .collect();
        let deadline = tokio::time::Instant::now() + WAIT;
        while daily_files(dir) != expected && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(daily_files(dir), expected);
    }
    // 23:59 the same day: nothing new.
    hub.set_time("2026-11-25T23:59:00+08:00");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(daily_files(dir).len(), 2);

    // Restoring is copying a backup over the database while the hub is stopped (README).
    let tickets = hub.hall().await.seq;
    hub.stop().await;
    let backup = dir.join("jiaohao-2026-11-25.sqlite3");
    let restored = Store::open_read_only(&backup).expect("a backup opens as a hall database");
    assert!(restored.last_seq().unwrap() > 0);
    drop(restored);
    let db = backups.path().join("restored").join("hall.sqlite");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    std::fs::copy(&backup, &db).unwrap();
    let clock = Arc::new(ManualClock::new(at("2026-11-25T23:59:00+08:00")));
    let running = jiaohao_hub::spawn(
        "127.0.0.1:0",
        HubConfig {
            clock,
            ..HubConfig::new(db)
        },
    )
    .await
    .unwrap();
    let hall = Client::new(running.url()).hall().await.unwrap();
    assert!(
        hall.seq <= tickets && hall.seq > 0,
        "the restored hall is the backup's: {} of {tickets} events",
        hall.seq
    );
    running.stop().await.unwrap();
}
