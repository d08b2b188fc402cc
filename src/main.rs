//! `cargo run --release`: the whole demo hall on the embedded default — the hub with its SQLite
//! file in a data folder and the default county hall, a kiosk window and a wall-display window
//! — and the URLs and tokens to use it. `jiaohao kiosk …` and `jiaohao display …` run the two
//! apps on their own (the demo starts them that way, as child processes, since each needs its
//! own window system event loop).

use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::Arc;

use anyhow::Context;
use clap::{Args as ClapArgs, Parser, Subcommand};
use jiaohao::simulate;
use jiaohao_config::LogFormat;
use jiaohao_core::Command as HallCommand;
use jiaohao_hub::{HubConfig, cli, hall_file};
use jiaohao_store::{Role, Store};
use tokio::sync::watch;

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
    #[arg(long, env = "JIAOHAO_DEMO_DATA", default_value = "data")]
    data: PathBuf,
    /// Address the hub listens on.
    #[arg(long, env = "JIAOHAO_DEMO_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// A hall file to seed a new database with (default: the built-in county hall).
    #[arg(long, env = "JIAOHAO_DEMO_HALL")]
    hall: Option<PathBuf>,
    /// Start only the hub: no kiosk or display window.
    #[arg(long, env = "JIAOHAO_DEMO_NO_WINDOWS")]
    no_windows: bool,
    /// Bring the hall to life (the default): simulated citizens take tickets and simulated
    /// clerks serve them at every window, on a demo clock that starts shortly before the hall's
    /// next opening by its calendar, on a database of its own (`jiaohao-simulated.db`). The
    /// kiosk window stays usable beside them.
    #[arg(long, env = "JIAOHAO_DEMO_SIMULATE", conflicts_with = "real_clock")]
    simulate: bool,
    /// The plain hall on the machine's clock, with nobody simulated (`jiaohao.db`): on a closed
    /// day or outside the hours, the kiosk says so.
    #[arg(long, env = "JIAOHAO_DEMO_REAL_CLOCK")]
    real_clock: bool,
    /// How many times faster than real time the simulated hall runs.
    #[arg(long, env = "JIAOHAO_DEMO_SPEED", default_value_t = 10.0, value_parser = parse_speed)]
    speed: f64,
    /// A TOML file of settings, keys named like the flags (`simulate = true`); a flag or an
    /// environment variable beats the file.
    #[arg(long, env = "JIAOHAO_DEMO_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log lines as readable text or as JSON objects, one per line.
    #[arg(long, env = "JIAOHAO_LOG_FORMAT", value_enum, default_value = "human")]
    log_format: LogFormat,
}

fn parse_speed(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|speed| (0.1..=10_000.0).contains(speed))
        .ok_or_else(|| format!("'{text}' is not a speed-up between 0.1 and 10000"))
}

/// Names of the tokens the demo makes; the ones of an earlier run are revoked.
const DEMO_PREFIX: &str = "demo ";

/// Where the demo hall's booking SMS go (beside its database).
fn demo_sms_sink(db: &std::path::Path) -> std::path::PathBuf {
    db.with_file_name("demo-sms.txt")
}

fn demo_tokens(db: &std::path::Path, windows: &[u16]) -> anyhow::Result<Vec<(String, String)>> {
    let store = Store::open(db)?;
    for token in store.list_tokens()? {
        if token.name.starts_with(DEMO_PREFIX) && !token.revoked {
            store.revoke_token(
                token.id,
                jiaohao_hub::clock::millis(jiff::Timestamp::now()),
                "demo",
            )?;
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
    // Flags beat environment variables, which beat the `--config` file (of the demo, or of
    // the kiosk or display subcommand).
    let cli: Cli = jiaohao_config::parse();
    match cli.app {
        Some(App::Kiosk(args)) => {
            jiaohao_config::init_logging(args.log_format);
            jiaohao_kiosk::run(args)
        }
        Some(App::Display(args)) => {
            jiaohao_config::init_logging(args.log_format);
            jiaohao_display::run(args)
        }
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
    cli::init_logging(demo.log_format);
    std::fs::create_dir_all(&demo.data)
        .with_context(|| format!("cannot create the data folder {}", demo.data.display()))?;
    // A simulated hall runs ahead of the calendar: it keeps its own database, so the real
    // demo's days are never mixed with virtual ones.
    let simulated = demo.simulate || !demo.real_clock;
    let db = demo.data.join(if simulated {
        "jiaohao-simulated.db"
    } else {
        "jiaohao.db"
    });
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
    let zone = seed
        .iter()
        .find_map(|command| match command {
            HallCommand::ConfigureHall(settings) => Some(settings.timezone.clone()),
            _ => None,
        })
        .map(|name| jiaohao_hub::clock::time_zone(&name))
        .unwrap_or_else(|| jiaohao_hub::clock::time_zone("Asia/Shanghai"));
    let mut config = HubConfig {
        seed,
        ..HubConfig::new(db.clone())
    };
    // The simulated day starts just before the hall next opens by its calendar, on a day
    // after any the database has seen, and runs `speed` times faster; the hub keeps the same
    // time, and every face shows it.
    let simulation = if simulated {
        let (first_day, origin) = simulate::demo_start(&db, &config.seed, &zone)?;
        let clock = Arc::new(simulate::SimClock::new(origin, demo.speed));
        config.clock = clock.clone();
        // One kiosk issues every simulated ticket, faster than a person could at a high speed.
        config.limits.tickets = None;
        // Simulated citizens book exit-entry and read their SMS codes from this file.
        config.sms = jiaohao_hub::sms::SmsSender::File(demo_sms_sink(&db));
        Some((first_day, clock))
    } else {
        None
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
        println!("  rating pad         {url}/rate  (pair it: admin console → windows → 生成配对码)");
        println!("  ticket page        {url}/t/<token>  (the QR code on each ticket)");
        println!("  hall (JSON)        {url}/api/hall");
        println!("  live events        {url}/api/events");
        println!("  API description    {url}/api/openapi.json");
        println!("  metrics            {url}/metrics  (Prometheus)\n");
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
        // Ctrl-C or SIGTERM first stops the simulated people, then the hub.
        let (stop_tx, stop) = watch::channel(false);
        let hub_stopped = stop_tx.clone();
        tokio::spawn(async move {
            cli::shutdown_signal().await;
            let _ = stop_tx.send(true);
        });
        let simulated = match simulation {
            Some((first_day, clock)) => {
                println!(
                    "\n  simulating from {} at {}× speed on the hall's own clock: citizens take tickets, clerks serve them at every window (--real-clock for the plain hall)",
                    jiaohao_hub::Clock::now(&*clock)
                        .to_zoned_datetime(zone.clone())
                        .strftime("%Y-%m-%d %H:%M"),
                    clock.speed()
                );
                let day = u32::try_from(first_day.timestamp().as_second() / 86_400).unwrap_or(0);
                let simulation = simulate::Simulation {
                    hub: url.clone(),
                    kiosk_token: token("kiosk"),
                    clerks: windows
                        .iter()
                        .map(|&w| (w, token(&format!("clerk window {w}"))))
                        .collect(),
                    first_day,
                    day,
                    bookings: Some(simulate::Booking {
                        admin_token: token("admin"),
                        sms_sink: demo_sms_sink(&db),
                        per_day: 6,
                    }),
                    admin_token: Some(token("admin")),
                };
                Some(tokio::spawn(simulate::run(simulation, clock, stop.clone())))
            }
            None => None,
        };
        println!("\n  Ctrl-C stops the hall.\n");
        let mut stopping = stop.clone();
        let stopped = async move {
            let _ = stopping.wait_for(|stopping| *stopping).await;
        };
        let served = if let Some(simulated) = simulated {
            // The hub serves while the simulation runs; both stop on the same signal, the
            // simulated people first so that no request of theirs is cut off.
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            let serving = tokio::spawn(async move {
                let served = hub
                    .serve(listener, async move {
                        let _ = rx.await;
                    })
                    .await;
                // A hub that stops by itself (a failed sync) stops the simulated people too.
                let _ = hub_stopped.send(true);
                served
            });
            match simulated.await {
                Ok(Ok(tally)) => println!("\n  simulation stopped: {}", tally.summary()),
                Ok(Err(error)) => tracing::error!(%error, "the simulation failed"),
                Err(error) => tracing::error!(%error, "the simulation stopped abnormally"),
            }
            stopped.await;
            let _ = tx.send(());
            serving.await?
        } else {
            hub.serve(listener, stopped).await
        };
        for mut child in children {
            let _ = child.kill();
            let _ = child.wait();
        }
        served
    })
}

#[cfg(test)]
mod tests {
    use std::ffi::{OsStr, OsString};

    use super::*;

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Cli {
        let lookup = |name: &OsStr| {
            env.iter()
                .find(|(key, _)| OsStr::new(key) == name)
                .map(|(_, value)| OsString::from(value))
        };
        let args = std::iter::once("jiaohao").chain(args.iter().copied());
        jiaohao_config::try_parse_with_env(args, &lookup).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn demo_settings_come_from_flags_then_environment_then_file_then_defaults() {
        let dir = std::env::temp_dir().join(format!("jiaohao-demo-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("demo.toml");
        std::fs::write(
            &file,
            "simulate = true\nspeed = 60\nlisten = \"127.0.0.1:9000\"\n",
        )
        .unwrap();
        let file = file.to_str().unwrap();

        let demo = parse(&[], &[]).demo;
        assert_eq!(
            (demo.listen.as_str(), demo.speed, demo.simulate),
            ("127.0.0.1:8080", 10.0, false)
        );
        let demo = parse(&["--config", file], &[]).demo;
        assert_eq!(
            (demo.listen.as_str(), demo.speed, demo.simulate),
            ("127.0.0.1:9000", 60.0, true)
        );
        let env = [("JIAOHAO_DEMO_CONFIG", file), ("JIAOHAO_DEMO_SPEED", "120")];
        let demo = parse(&[], &env).demo;
        assert_eq!(
            (demo.listen.as_str(), demo.speed),
            ("127.0.0.1:9000", 120.0)
        );
        let demo = parse(&["--speed", "5"], &env).demo;
        assert_eq!(demo.speed, 5.0);

        // The kiosk subcommand reads its own settings, not the demo's.
        let cli = parse(
            &["kiosk", "--hub", "http://h:1"],
            &[
                ("JIAOHAO_KIOSK_TOKEN", "from-env"),
                ("JIAOHAO_DEMO_SPEED", "120"),
            ],
        );
        match cli.app {
            Some(App::Kiosk(args)) => assert_eq!(args.token, "from-env"),
            _ => panic!("the kiosk subcommand"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
