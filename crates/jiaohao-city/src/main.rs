//! `jiaohao-city`: the city bureau's service. See `jiaohao-city --help`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use jiaohao_city::users::CityRole;
use jiaohao_city::{KeyFile, halls, users};

#[derive(Parser)]
#[command(
    name = "jiaohao-city",
    about = "The city bureau's service (市局平台): every hall's log in PostgreSQL, a live city board, reports across halls"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Pg {
    /// PostgreSQL connection URL, e.g. postgres://city@127.0.0.1/jiaohao_city
    #[arg(long, env = "JIAOHAO_CITY_POSTGRES")]
    postgres: String,
}

#[derive(clap::Args)]
struct Key {
    /// The key file that seals the halls' ingest tokens (created with mode 0600 if absent);
    /// keep it outside PostgreSQL and its backups.
    #[arg(
        long,
        env = "JIAOHAO_CITY_KEY_FILE",
        default_value = "jiaohao-city.key"
    )]
    key_file: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Follow every registered hall and serve the pages.
    Serve {
        #[command(flatten)]
        pg: Pg,
        #[command(flatten)]
        key: Key,
        /// Address for the pages, e.g. 127.0.0.1:8090
        #[arg(long, env = "JIAOHAO_CITY_LISTEN", default_value = "127.0.0.1:8090")]
        listen: String,
        /// The city's time zone (IANA name): the reports' default range of days, and which
        /// halls the board marks as keeping another zone.
        #[arg(long, env = "JIAOHAO_CITY_TIME_ZONE", default_value = "Asia/Shanghai")]
        time_zone: String,
    },
    /// Register or change halls.
    Hall {
        #[command(subcommand)]
        command: HallCommand,
    },
    /// Add a city user (the password is read from JIAOHAO_CITY_PASSWORD or the first line of stdin).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Generate a city with the simulator and feed it to the ingest; print rates and query times.
    Bench {
        #[command(flatten)]
        pg: Pg,
        #[arg(long, default_value_t = 50)]
        halls: u32,
        #[arg(long, default_value_t = 250)]
        days: u32,
    },
}

#[derive(Subcommand)]
enum HallCommand {
    /// Register a hall: its name, its address and its `ingest` token (sealed, never shown again).
    Add {
        #[command(flatten)]
        pg: Pg,
        #[command(flatten)]
        key: Key,
        #[arg(long)]
        name: String,
        #[arg(long)]
        url: String,
        #[arg(long, env = "JIAOHAO_CITY_HALL_TOKEN")]
        token: String,
    },
    /// Give a hall a new token (after the hall revoked the old one).
    Token {
        #[command(flatten)]
        pg: Pg,
        #[command(flatten)]
        key: Key,
        #[arg(long)]
        name: String,
        #[arg(long, env = "JIAOHAO_CITY_HALL_TOKEN")]
        token: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    Add {
        #[command(flatten)]
        pg: Pg,
        #[arg(long)]
        name: String,
        /// city_admin or viewer
        #[arg(long)]
        role: String,
    },
}

fn password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("JIAOHAO_CITY_PASSWORD") {
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    jiaohao_config::init_logging(jiaohao_config::LogFormat::Human);
    match Cli::parse().command {
        Command::Serve {
            pg,
            key,
            listen,
            time_zone,
        } => {
            let zone = jiaohao_city::web::CityZone::new(&time_zone)?;
            let key = Arc::new(KeyFile::open_or_create(&key.key_file)?);
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            println!("jiaohao-city: pages on http://{}/", listener.local_addr()?);
            let shutdown = async {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .expect("a SIGTERM handler");
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            };
            jiaohao_city::serve::run_in(&pg.postgres, key, listener, zone, shutdown).await?;
            println!("jiaohao-city stopped");
        }
        Command::Hall { command } => match command {
            HallCommand::Add {
                pg,
                key,
                name,
                url,
                token,
            } => {
                let key = KeyFile::open_or_create(&key.key_file)?;
                let client = jiaohao_city::db::open(&pg.postgres).await?;
                let id = halls::add(&client, &key, &name, &url, &token).await?;
                println!(
                    "hall {name} registered (id {id}); its token is stored sealed and will not be shown again"
                );
            }
            HallCommand::Token {
                pg,
                key,
                name,
                token,
            } => {
                let key = KeyFile::open(&key.key_file)?;
                let client = jiaohao_city::db::open(&pg.postgres).await?;
                halls::set_token(&client, &key, &name, &token).await?;
                println!(
                    "hall {name}: new token stored sealed; a running service follows the hall with it within {} s",
                    jiaohao_city::supervisor::RESCAN.as_secs()
                );
            }
        },
        Command::User {
            command: UserCommand::Add { pg, name, role },
        } => {
            let role = CityRole::parse(&role).context("the role is city_admin or viewer")?;
            let client = jiaohao_city::db::open(&pg.postgres).await?;
            users::add(&client, &name, role, &password()?).await?;
            println!("user {name} ({}) saved", role.as_str());
        }
        Command::Bench { pg, halls, days } => {
            let report = jiaohao_city::bench::run(&pg.postgres, halls, days, true).await?;
            println!("{report}");
        }
    }
    Ok(())
}
