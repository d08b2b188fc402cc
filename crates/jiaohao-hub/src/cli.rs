//! The `jiaohao-hub` command line: serve a hall, manage tokens.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use jiaohao_store::{Role, Store};

use crate::app::{HubConfig, run};
use crate::clock::millis;
use crate::hall_file;

#[derive(Parser)]
#[command(
    name = "jiaohao-hub",
    version,
    about = "The hub of a jiaohao service hall: queues, tickets, calls and the live stream"
)]
struct Cli {
    #[command(subcommand)]
    command: Top,
}

#[derive(Subcommand)]
enum Top {
    /// Serve the hall's API and live stream.
    Serve {
        /// The SQLite database file; created if missing.
        #[arg(long)]
        db: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// A hall file that seeds an empty database (default: the built-in county hall).
        #[arg(long)]
        hall: Option<PathBuf>,
    },
    /// Copy the database to a new file with SQLite's online backup; safe while the hub serves.
    Backup {
        #[arg(long)]
        db: PathBuf,
        /// The backup file to write; it must not exist yet.
        #[arg(long)]
        out: PathBuf,
    },
    /// Manage API and device tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage the people who sign in to the pages.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a person; the password is read from standard input (one line).
    Add {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        username: String,
        /// admin, supervisor or clerk.
        #[arg(long)]
        role: String,
    },
    /// List the people (never their passwords).
    List {
        #[arg(long)]
        db: PathBuf,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print it alone on stdout.
    Create {
        #[arg(long)]
        db: PathBuf,
        /// admin, clerk, kiosk or display.
        #[arg(long)]
        role: String,
        /// For a clerk: the one window it may act for.
        #[arg(long)]
        window: Option<u16>,
        #[arg(long)]
        name: Option<String>,
    },
    /// List tokens (never their secrets).
    List {
        #[arg(long)]
        db: PathBuf,
    },
    /// Revoke a token by its id.
    Revoke {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        id: i64,
    },
}

pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .try_init();
}

/// Creates a token in the database at `db` and returns its secret.
pub fn create_token(
    db: &std::path::Path,
    role: Role,
    window: Option<u16>,
    name: &str,
) -> anyhow::Result<String> {
    if let Some(window) = window {
        jiaohao_core::WindowNumber::new(u32::from(window))?;
    }
    let store = Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    let secret = crate::secret::api_token();
    store.add_token(&secret, role, window, name, millis(jiff::Timestamp::now()))?;
    Ok(secret)
}

pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Top::Serve { db, listen, hall } => {
            init_logging();
            let seed = match hall {
                Some(path) => hall_file::load(&path).map_err(anyhow::Error::msg)?,
                None => hall_file::parse(hall_file::DEFAULT_HALL).map_err(anyhow::Error::msg)?,
            };
            let config = HubConfig {
                seed,
                ..HubConfig::new(db)
            };
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&listen)
                    .await
                    .with_context(|| format!("cannot listen on {listen}"))?;
                run(listener, config, shutdown_signal()).await
            })
        }
        Top::Backup { db, out } => {
            if !db.exists() {
                anyhow::bail!("there is no database at {}", db.display());
            }
            let store = Store::open(&db).with_context(|| format!("opening {}", db.display()))?;
            store
                .backup_to(&out)
                .with_context(|| format!("backing up to {}", out.display()))?;
            writeln!(std::io::stdout(), "{}", out.display())?;
            Ok(())
        }
        Top::User { command } => match command {
            UserCommand::Add { db, username, role } => {
                let role = crate::people::parse_user_role(&role).map_err(anyhow::Error::msg)?;
                let mut password = String::new();
                std::io::stdin()
                    .read_line(&mut password)
                    .context("reading the password from standard input")?;
                let password = password.trim_end_matches(['\r', '\n']);
                let id = crate::people::add_user(&db, &username, role, password)?;
                writeln!(std::io::stdout(), "{id}")?;
                Ok(())
            }
            UserCommand::List { db } => {
                let store = Store::open(&db)?;
                let mut out = std::io::stdout().lock();
                for user in store.list_users()? {
                    let state = if user.disabled { "disabled" } else { "enabled" };
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{state}",
                        user.id,
                        user.role.as_str(),
                        user.username
                    )?;
                }
                Ok(())
            }
        },
        Top::Token { command } => match command {
            TokenCommand::Create {
                db,
                role,
                window,
                name,
            } => {
                let role = Role::parse(&role)
                    .filter(|r| *r != Role::Supervisor)
                    .with_context(|| {
                        format!("unknown role '{role}': use admin, clerk, kiosk or display")
                    })?;
                if window.is_some() && role != Role::Clerk {
                    anyhow::bail!("--window is for clerk tokens only");
                }
                let name = name.unwrap_or_else(|| match window {
                    Some(window) => format!("{} {window}", role.as_str()),
                    None => role.as_str().to_owned(),
                });
                let secret = create_token(&db, role, window, &name)?;
                writeln!(std::io::stdout(), "{secret}")?;
                Ok(())
            }
            TokenCommand::List { db } => {
                let store = Store::open(&db)?;
                let mut out = std::io::stdout().lock();
                for token in store.list_tokens()? {
                    let window = token.window.map(|w| w.to_string()).unwrap_or("-".into());
                    let state = if token.revoked { "revoked" } else { "live" };
                    writeln!(
                        out,
                        "{}\t{}\t{window}\t{state}\t{}",
                        token.id,
                        token.role.as_str(),
                        token.name
                    )?;
                }
                Ok(())
            }
            TokenCommand::Revoke { db, id } => {
                let store = Store::open(&db)?;
                if !store.revoke_token(id, millis(jiff::Timestamp::now()))? {
                    anyhow::bail!("there is no live token {id}");
                }
                Ok(())
            }
        },
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("stopping");
}
