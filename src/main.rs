//! `cargo run --release`: the whole demo hall on the embedded default — the hub with its SQLite
//! file in a data folder and the default county hall, a kiosk window and a wall-display window
//! — and the URLs and tokens to use it. `jiaohao kiosk …` and `jiaohao display …` run the two
//! apps on their own (the demo starts them that way, as child processes, since each needs its
//! own window system event loop).

use std::path::PathBuf;
use std::process::{Child, Command};

use anyhow::Context;
use clap::{Args as ClapArgs, Parser, Subcommand};
use jiaohao_core::Command as HallCommand;
use jiaohao_hub::{HubConfig, cli, hall_file};
use jiaohao_store::{Role, Store};

#[derive(Parser)]
#[command(
    name = "jiaohao",
    version,
    about = "Run a whole demo service hall, or one of its apps"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    app: Option<App>,
    #[command(flatten)]
    demo: Demo,
}

#[derive(Subcommand)]
enum App {
    /// The touchscreen kiosk (the same program as `jiaohao-kiosk`).
    Kiosk(jiaohao_kiosk::Args),
    /// The wall display (the same program as `jiaohao-display`).
    Display(jiaohao_display::Args),
}

#[derive(ClapArgs)]
struct Demo {
    /// Folder for the hall's database.
    #[arg(long, default_value = "data")]
    data: PathBuf,
    /// Address the hub listens on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// A hall file to seed a new database with (default: the built-in county hall).
    #[arg(long)]
    hall: Option<PathBuf>,
    /// Start only the hub: no kiosk or display window.
    #[arg(long)]
    no_windows: bool,
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

/// People the demo signs in as on the pages; made once, in the demo's own database only.
const DEMO_PEOPLE: [(&str, Role); 3] = [
    ("admin", Role::Admin),
    ("wang", Role::Supervisor),
    ("zhang", Role::Clerk),
];
const DEMO_PASSWORD: &str = "jiaohao-demo";

fn demo_people(db: &std::path::Path) -> anyhow::Result<()> {
    let store = Store::open(db)?;
    for (username, role) in DEMO_PEOPLE {
        if store.find_user(username)?.is_none() {
            jiaohao_hub::people::add_user(db, username, role, DEMO_PASSWORD)?;
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.app {
        Some(App::Kiosk(args)) => jiaohao_kiosk::run(args),
        Some(App::Display(args)) => jiaohao_display::run(args),
        None => demo(cli.demo),
    }
}

/// Whether this machine has a screen to open windows on.
fn has_screen() -> bool {
    std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
}

/// Starts this same program as the kiosk or the display, in a window of its own.
fn open_window(app: &str, args: &[&str]) -> anyhow::Result<Child> {
    let program = std::env::current_exe()?;
    Command::new(program)
        .arg(app)
        .args(args)
        .spawn()
        .with_context(|| format!("starting the {app} window"))
}

fn demo(demo: Demo) -> anyhow::Result<()> {
    cli::init_logging();
    std::fs::create_dir_all(&demo.data)
        .with_context(|| format!("cannot create the data folder {}", demo.data.display()))?;
    let db = demo.data.join("jiaohao.db");
    let seed = match &demo.hall {
        Some(path) => hall_file::load(path).map_err(anyhow::Error::msg)?,
        None => hall_file::parse(hall_file::DEFAULT_HALL).map_err(anyhow::Error::msg)?,
    };
    let windows: Vec<u16> = seed
        .iter()
        .filter_map(|command| match command {
            HallCommand::AddWindow(def) => Some(def.number.get()),
            _ => None,
        })
        .collect();
    let config = HubConfig {
        seed,
        ..HubConfig::new(db.clone())
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let hub = jiaohao_hub::Hub::open(config)?;
        let tokens = demo_tokens(&db, &windows)?;
        demo_people(&db)?;
        let listener = tokio::net::TcpListener::bind(&demo.listen)
            .await
            .with_context(|| format!("cannot listen on {}", demo.listen))?;
        let url = format!("http://{}", listener.local_addr()?);
        let token = |name: &str| {
            tokens
                .iter()
                .find(|(label, _)| label == name)
                .map(|(_, secret)| secret.clone())
                .unwrap_or_default()
        };
        println!("\njiaohao demo hall — database {}\n", db.display());
        println!("  counter (clerks)   {url}/counter");
        println!("  admin              {url}/admin");
        println!("  rating tablet      {url}/rate/1");
        println!("  ticket page        {url}/t/<token>  (the QR code on each ticket)");
        println!("  hall (JSON)        {url}/api/hall");
        println!("  live events        {url}/api/events");
        println!("  API description    {url}/api/openapi.json\n");
        println!("  API and device tokens (Authorization: Bearer …):");
        for (name, secret) in &tokens {
            println!("    {name:<18} {secret}");
        }
        println!("\n  demo logins for the pages (password {DEMO_PASSWORD}):");
        for (username, role) in DEMO_PEOPLE {
            println!("    {username:<8} {}", role.as_str());
        }
        let mut children = Vec::new();
        if demo.no_windows || !has_screen() {
            println!("\n  no kiosk or display window (no screen, or --no-windows)");
        } else {
            let kiosk = token("kiosk");
            children.push(open_window(
                "kiosk",
                &["--hub", &url, "--token", &kiosk, "--size", "1280x800"],
            )?);
            children.push(open_window("display", &["--hub", &url])?);
            println!("\n  a kiosk window and a wall-display window are open");
        }
        println!("\n  Ctrl-C stops the hall.\n");
        let served = hub.serve(listener, cli::shutdown_signal()).await;
        for mut child in children {
            let _ = child.kill();
            let _ = child.wait();
        }
        served
    })
}
