//! `cargo run --release`: the whole demo hall on the embedded default — the hub with its SQLite
//! file in a data folder and the default county hall — and the URLs and tokens to use it.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use jiaohao_core::Command;
use jiaohao_hub::{HubConfig, SystemClock, cli, hall_file};
use jiaohao_store::{Role, Store};

#[derive(Parser)]
#[command(name = "jiaohao", version, about = "Run a whole demo service hall")]
struct Args {
    /// Folder for the hall's database.
    #[arg(long, default_value = "data")]
    data: PathBuf,
    /// Address the hub listens on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// A hall file to seed a new database with (default: the built-in county hall).
    #[arg(long)]
    hall: Option<PathBuf>,
}

/// Names of the tokens the demo makes; the ones of an earlier run are revoked.
const DEMO_PREFIX: &str = "demo ";

fn demo_tokens(db: &std::path::Path, windows: &[u16]) -> anyhow::Result<Vec<(String, String)>> {
    let store = Store::open(db)?;
    for token in store.list_tokens()? {
        if token.name.starts_with(DEMO_PREFIX) && !token.revoked {
            store.revoke_token(token.id, jiaohao_hub::clock::millis(jiff::Timestamp::now()))?;
        }
    }
    drop(store);
    let mut made = Vec::new();
    for (label, role, window) in [
        ("admin", Role::Admin, None),
        ("kiosk", Role::Kiosk, None),
        ("display", Role::Display, None),
    ]
    .into_iter()
    .chain(windows.iter().map(|&w| ("clerk", Role::Clerk, Some(w))))
    {
        let name = match window {
            Some(w) => format!("{DEMO_PREFIX}{label} window {w}"),
            None => format!("{DEMO_PREFIX}{label}"),
        };
        let secret = cli::create_token(db, role, window, &name)?;
        made.push((name.trim_start_matches(DEMO_PREFIX).to_owned(), secret));
    }
    Ok(made)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    cli::init_logging();
    std::fs::create_dir_all(&args.data)
        .with_context(|| format!("cannot create the data folder {}", args.data.display()))?;
    let db = args.data.join("jiaohao.db");
    let seed = match &args.hall {
        Some(path) => hall_file::load(path).map_err(anyhow::Error::msg)?,
        None => hall_file::parse(hall_file::DEFAULT_HALL).map_err(anyhow::Error::msg)?,
    };
    let windows: Vec<u16> = seed
        .iter()
        .filter_map(|command| match command {
            Command::AddWindow(def) => Some(def.number.get()),
            _ => None,
        })
        .collect();
    let config = HubConfig {
        db: db.clone(),
        seed,
        clock: Arc::new(SystemClock),
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let hub = jiaohao_hub::Hub::open(config)?;
        let tokens = demo_tokens(&db, &windows)?;
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let url = format!("http://{}", listener.local_addr()?);
        println!("\njiaohao demo hall — database {}\n", db.display());
        println!("  hall (JSON)      {url}/api/hall");
        println!("  live events      {url}/api/events");
        println!("  API description  {url}/api/openapi.json\n");
        println!("  tokens (Authorization: Bearer …):");
        for (name, secret) in &tokens {
            println!("    {name:<18} {secret}");
        }
        println!("\n  try: curl -X POST {url}/api/tickets -H 'Authorization: Bearer <kiosk>' \\");
        println!("            -H 'Content-Type: application/json' -d '{{\"service\":\"hukou\"}}'");
        println!("\n  Ctrl-C stops the hall.\n");
        hub.serve(listener, cli::shutdown_signal()).await
    })
}
