//! Connecting to PostgreSQL and bringing its schema up to date: the SQL files of
//! `migrations/`, applied in order, each in one transaction with its number in
//! `schema_version`; a database newer than this program is refused.

use tokio_postgres::{Client, NoTls};

use crate::CityError;

/// The migrations in order: (number, SQL). Append only.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_user_disabled.sql")),
    (3, include_str!("../migrations/0003_hall_timezone.sql")),
    (4, include_str!("../migrations/0004_cases.sql")),
];

/// Connects and spawns the connection's task on the current runtime. The connection's end
/// (PostgreSQL restarted, the network gone) shows as an error on the next query
/// (`Client::is_closed`), and the caller connects again.
pub async fn connect(url: &str) -> Result<Client, CityError> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(CityError::Postgres)?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "PostgreSQL connection ended");
        }
    });
    Ok(client)
}

/// Applies the migrations this database lacks. Two processes starting at once are kept in
/// line by an advisory lock.
pub async fn migrate(client: &mut Client) -> Result<i32, CityError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock(1786001)", &[])
        .await?;
    let current: i32 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
        .await?
        .get(0);
    let newest = MIGRATIONS.last().map_or(0, |(n, _)| *n);
    if current > newest {
        return Err(CityError::NewerSchema { current, newest });
    }
    for (number, sql) in MIGRATIONS.iter().filter(|(n, _)| *n > current) {
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[number],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(newest)
}

/// Connects and migrates: what every command does first.
pub async fn open(url: &str) -> Result<Client, CityError> {
    let mut client = connect(url).await?;
    migrate(&mut client).await?;
    Ok(client)
}
