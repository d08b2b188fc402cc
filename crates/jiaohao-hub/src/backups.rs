//! The automatic daily backup: once per local day of the hall (and at start when today's is
//! missing) a copy `jiaohao-YYYY-MM-DD.sqlite3` is written with SQLite's online backup, from
//! its own read-only connection so the writer never waits for it; the oldest copies beyond the
//! retention count are deleted.
//!
//! A copy is written under a `.partial` name and renamed when complete, so a crash halfway
//! never leaves a file that looks like a good backup.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiaohao_store::Store;

use crate::http::state::AppState;

/// Where automatic backups go and how many are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyBackup {
    pub dir: PathBuf,
    /// The newest this many daily files are kept; at least 1.
    pub keep: usize,
}

/// How often the task looks at the clock for a new day.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// After a failed backup (disk full, …) the next try waits this long.
const RETRY_AFTER: Duration = Duration::from_secs(60);

/// The file name of the backup of `date`.
pub fn file_name(date: jiff::civil::Date) -> String {
    format!("jiaohao-{date}.sqlite3")
}

/// Whether `name` is a daily backup's file name.
fn is_daily(name: &str) -> bool {
    name.strip_prefix("jiaohao-")
        .and_then(|rest| rest.strip_suffix(".sqlite3"))
        .is_some_and(|date| date.parse::<jiff::civil::Date>().is_ok())
}

/// Writes the backup of `date` unless it exists, then deletes the oldest daily backups beyond
/// `keep`. Answers the new file, if one was written.
pub fn backup_once(
    db: &Path,
    config: &DailyBackup,
    date: jiff::civil::Date,
) -> anyhow::Result<Option<PathBuf>> {
    std::fs::create_dir_all(&config.dir)?;
    let target = config.dir.join(file_name(date));
    let written = if target.exists() {
        None
    } else {
        let partial = target.with_extension("sqlite3.partial");
        // A leftover of a crash or a full disk: start over.
        let _ = std::fs::remove_file(&partial);
        let result = Store::open_read_only(db)
            .and_then(|store| store.backup_to(&partial))
            .map_err(anyhow::Error::from)
            .and_then(|()| Ok(std::fs::rename(&partial, &target)?));
        if let Err(error) = result {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
        Some(target)
    };
    prune(&config.dir, config.keep.max(1))?;
    Ok(written)
}

/// Deletes the oldest daily backups in `dir` beyond `keep` (names sort by date).
fn prune(dir: &Path, keep: usize) -> anyhow::Result<()> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| is_daily(name))
        .collect();
    names.sort();
    let excess = names.len().saturating_sub(keep);
    for name in &names[..excess] {
        std::fs::remove_file(dir.join(name))?;
        tracing::info!(file = %name, "old daily backup deleted");
    }
    Ok(())
}

/// Runs until the hub shuts down: a backup whenever the hall's local date has none yet.
pub async fn daily(db: PathBuf, config: DailyBackup, state: AppState) {
    let mut shutdown = state.shutdown.clone();
    let mut done: Option<jiff::civil::Date> = None;
    loop {
        let today = state.zone().to_datetime(state.clock.now()).date();
        let mut wait = CHECK_EVERY;
        if done != Some(today) {
            let (db, config) = (db.clone(), config.clone());
            let result =
                tokio::task::spawn_blocking(move || backup_once(&db, &config, today)).await;
            match result {
                Ok(Ok(written)) => {
                    if let Some(file) = written {
                        tracing::info!(file = %file.display(), "daily backup written");
                    }
                    done = Some(today);
                }
                Ok(Err(error)) => {
                    tracing::error!(%error, "the daily backup failed; trying again later");
                    wait = RETRY_AFTER;
                }
                Err(_) => return,
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_daily_backup_names_count() {
        assert!(is_daily("jiaohao-2026-11-23.sqlite3"));
        for other in [
            "jiaohao-2026-11-23.sqlite3.partial",
            "jiaohao-2026-13-01.sqlite3",
            "hall.sqlite3",
            "jiaohao-latest.sqlite3",
        ] {
            assert!(!is_daily(other), "{other}");
        }
    }

    #[test]
    fn a_backup_is_written_once_a_day_and_the_oldest_go() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hall.sqlite3");
        drop(Store::open(&db).unwrap());
        let config = DailyBackup {
            dir: dir.path().join("backups"),
            keep: 2,
        };
        std::fs::create_dir_all(&config.dir).unwrap();
        std::fs::write(config.dir.join("notes.txt"), "kept").unwrap();
        let day = |d: i8| jiff::civil::date(2026, 11, d);
        assert!(backup_once(&db, &config, day(20)).unwrap().is_some());
        assert!(
            backup_once(&db, &config, day(20)).unwrap().is_none(),
            "once a day"
        );
        backup_once(&db, &config, day(21)).unwrap();
        backup_once(&db, &config, day(22)).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&config.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "jiaohao-2026-11-21.sqlite3",
                "jiaohao-2026-11-22.sqlite3",
                "notes.txt"
            ]
        );
    }
}
