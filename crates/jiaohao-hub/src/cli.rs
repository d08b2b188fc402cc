//! The `jiaohao-hub` command line: serve a hall, manage tokens.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
pub use jiaohao_config::LogFormat;
use jiaohao_store::{Role, Store};

use crate::app::{Hub, HubConfig};
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
// Parsed once at start: the size of `Serve`'s many settings costs nothing.
#[allow(clippy::large_enum_variant)]
enum Top {
    /// Serve the hall's API and live stream.
    Serve {
        /// The SQLite database file; created if missing.
        #[arg(long, env = "JIAOHAO_HUB_DB")]
        db: PathBuf,
        /// Address to listen on.
        #[arg(long, env = "JIAOHAO_HUB_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// A second address serving only what a citizen's phone needs (ticket page, its status
        /// and live stream, the page's assets, health): the port for the hall's Wi-Fi.
        #[arg(long, env = "JIAOHAO_HUB_PUBLIC_LISTEN")]
        public_listen: Option<String>,
        /// A hall file that seeds an empty database (default: the built-in county hall).
        #[arg(long, env = "JIAOHAO_HUB_HALL")]
        hall: Option<PathBuf>,
        /// A TOML file of settings: keys named like the flags (`listen = "0.0.0.0:8080"`);
        /// a flag or an environment variable beats the file.
        #[arg(long, env = "JIAOHAO_HUB_CONFIG", value_name = "FILE")]
        config: Option<PathBuf>,
        /// Log lines as readable text or as JSON objects, one per line.
        #[arg(long, env = "JIAOHAO_LOG_FORMAT", value_enum, default_value = "human")]
        log_format: LogFormat,
        /// Write a backup `jiaohao-YYYY-MM-DD.sqlite3` here once a day (and at start when
        /// today's is missing).
        #[arg(long, env = "JIAOHAO_HUB_BACKUP_DIR")]
        backup_dir: Option<PathBuf>,
        /// How many daily backups to keep; older ones are deleted.
        #[arg(long, env = "JIAOHAO_HUB_BACKUP_KEEP", default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..))]
        backup_keep: u32,
        /// Tickets one kiosk may issue: a rate and a burst (`30/min,10`), or `off`.
        #[arg(long, env = "JIAOHAO_HUB_TICKET_LIMIT", default_value = "30/min,10")]
        ticket_limit: String,
        /// Requests per client address to the public endpoints (ticket page and status,
        /// rating, sign-in): a rate and a burst (`600/min,120`), or `off`.
        #[arg(long, env = "JIAOHAO_HUB_PUBLIC_LIMIT", default_value = "600/min,120")]
        public_limit: String,
        /// The identity key file: the HMAC key that turns ID numbers into the hashes bookings
        /// know people by. Created (mode 0600) on first start; never in the database or its
        /// backups. Default: `identity.key` beside the database.
        #[arg(long, env = "JIAOHAO_HUB_IDENTITY_KEY", value_name = "FILE")]
        identity_key: Option<PathBuf>,
        /// Append each booking SMS to this file as one line (phone, a tab, the text) instead
        /// of sending it: for the demo and tests.
        #[arg(
            long,
            env = "JIAOHAO_HUB_SMS_SINK",
            value_name = "FILE",
            conflicts_with = "sms_command"
        )]
        sms_sink: Option<PathBuf>,
        /// Send each booking SMS by running this program with the phone number and the text as
        /// its two arguments (the hall's gateway script). With neither this nor --sms-sink,
        /// the hub takes no bookings.
        #[arg(
            long,
            env = "JIAOHAO_HUB_SMS_COMMAND",
            value_name = "PROGRAM",
            conflicts_with = "sms_url"
        )]
        sms_command: Option<PathBuf>,
        /// Send each booking SMS by posting `{"phone","text"}` as JSON to the hall's gateway at
        /// this http:// URL; a 2xx answer within 10 s is sent.
        #[arg(
            long,
            env = "JIAOHAO_HUB_SMS_URL",
            value_name = "URL",
            conflicts_with = "sms_sink"
        )]
        sms_url: Option<String>,
        /// Citizens at least this old by the ID number the kiosk sends get the green channel
        /// without asking (e.g. 70); off when not given.
        #[arg(long, env = "JIAOHAO_HUB_GREEN_CHANNEL_AGE", value_parser = clap::value_parser!(u8).range(1..=150))]
        green_channel_age: Option<u8>,
        /// Connections one client address may hold at once, or `off`. A hall's phones may
        /// share one address behind its Wi-Fi: allow one or two per phone.
        #[arg(
            long,
            env = "JIAOHAO_HUB_CONNECTIONS_PER_ADDRESS",
            default_value = "480"
        )]
        connections_per_address: String,
        /// Live-stream subscriptions one client address may hold at once (one per open
        /// ticket page), or `off`.
        #[arg(long, env = "JIAOHAO_HUB_STREAMS_PER_ADDRESS", default_value = "400")]
        streams_per_address: String,
        /// Connections kept for devices (addresses that showed a token or a session lately):
        /// strangers together may hold the hub's capacity less these.
        #[arg(long, env = "JIAOHAO_HUB_DEVICE_RESERVE", default_value_t = crate::http::limits::DEFAULT_DEVICE_RESERVE)]
        device_reserve: u32,
        /// Connections the hub may hold at once (default: its open-file limit less 64).
        #[arg(long, env = "JIAOHAO_HUB_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(16..))]
        max_connections: Option<u32>,
        /// Addresses of reverse proxies whose X-Forwarded-For / X-Real-IP is believed
        /// (comma-separated; in the file a list).
        #[arg(long, env = "JIAOHAO_HUB_TRUSTED_PROXY", value_delimiter = ',')]
        trusted_proxy: Vec<std::net::IpAddr>,
        /// Seconds a client may take to send a request's head; a kept-alive connection idle
        /// this long is closed too.
        #[arg(long, env = "JIAOHAO_HUB_HEADER_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
        header_timeout: u64,
        /// Seconds a client may take to send a request's body (then `408`).
        #[arg(long, env = "JIAOHAO_HUB_BODY_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
        body_timeout: u64,
        /// Run as a standby of the primary hub at this address (`http://HOST:PORT`): follow
        /// its log into `--db`, serve reads, refuse changes until promoted. No hall file.
        #[arg(long, env = "JIAOHAO_HUB_FOLLOW", value_name = "URL")]
        follow: Option<String>,
        /// A `replica` token of the primary, for `--follow`.
        #[arg(
            long,
            env = "JIAOHAO_HUB_FOLLOW_TOKEN",
            value_name = "TOKEN",
            requires = "follow"
        )]
        follow_token: Option<String>,
        /// The hall's other hub: if it holds a newer term (it was promoted while this one was
        /// away), this hub takes no changes and says how to rejoin.
        #[arg(long, env = "JIAOHAO_HUB_PEER", value_name = "URL")]
        peer: Option<String>,
        /// Answer a change only once a connected standby has acknowledged it (at most
        /// `--sync-standby-wait`; then answer alone until a standby catches up).
        #[arg(long, env = "JIAOHAO_HUB_SYNC_STANDBY")]
        sync_standby: bool,
        /// How long a change waits for a standby's acknowledgement, in milliseconds.
        #[arg(
            long,
            env = "JIAOHAO_HUB_SYNC_STANDBY_WAIT",
            default_value_t = 2000,
            value_name = "MS"
        )]
        sync_standby_wait: u64,
    },
    /// Make a stopped former primary a standby of the new one: keep its records up to the
    /// point the two logs agree, set the rest aside in a file for the audit, and empty the
    /// rows beside the log (the new primary's replace them). Then start it with `--follow`.
    Rejoin {
        #[arg(long)]
        db: PathBuf,
        /// The new primary's address.
        #[arg(long, value_name = "URL")]
        primary: String,
        /// A `replica` token of the new primary.
        #[arg(long, env = "JIAOHAO_HUB_FOLLOW_TOKEN", value_name = "TOKEN")]
        follow_token: String,
        /// Where the records set aside go (JSON lines); it must not exist.
        #[arg(long, value_name = "FILE")]
        set_aside: PathBuf,
    },
    /// Make a running standby the primary (it stops following and takes changes). First make
    /// sure the old primary is off.
    Promote {
        /// The standby's address.
        #[arg(long, value_name = "URL")]
        url: String,
        /// An admin token (the primary's admin tokens work on its standby).
        #[arg(long, env = "JIAOHAO_ADMIN_TOKEN", value_name = "TOKEN")]
        token: String,
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
        /// admin, clerk, kiosk, display, replica (a standby hub) or ingest (the city).
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

/// Sets up the log for the process: readable lines or JSON objects on standard error.
pub fn init_logging(format: LogFormat) {
    jiaohao_config::init_logging(format);
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
    store.add_token(
        &secret,
        role,
        window,
        name,
        millis(jiff::Timestamp::now()),
        crate::people::CLI_ACTOR,
    )?;
    Ok(secret)
}

pub fn main() -> anyhow::Result<()> {
    // Flags beat environment variables, which beat the `--config` file.
    let cli: Cli = jiaohao_config::parse();
    match cli.command {
        Top::Serve {
            db,
            listen,
            public_listen,
            hall,
            backup_dir,
            backup_keep,
            ticket_limit,
            public_limit,
            identity_key,
            sms_sink,
            sms_command,
            sms_url,
            green_channel_age,
            connections_per_address,
            streams_per_address,
            device_reserve,
            max_connections,
            trusted_proxy,
            header_timeout,
            body_timeout,
            config: _,
            log_format,
            follow,
            follow_token,
            peer,
            sync_standby,
            sync_standby_wait,
        } => {
            init_logging(log_format);
            let follow = match (follow, follow_token) {
                (Some(primary), Some(token)) => Some(crate::standby::FollowConfig {
                    primary: primary.trim_end_matches('/').to_owned(),
                    token,
                }),
                (Some(_), None) => {
                    anyhow::bail!("--follow needs --follow-token: a replica token of the primary")
                }
                _ => None,
            };
            let seed = match hall {
                Some(path) => hall_file::load(&path).map_err(anyhow::Error::msg)?,
                None => hall_file::parse(hall_file::DEFAULT_HALL).map_err(anyhow::Error::msg)?,
            };
            let rate = |text: &str| match text {
                "off" => Ok(None),
                text => crate::http::limits::Rate::parse(text).map(Some),
            };
            let cap = |name: &str, text: &str| match text {
                "off" => Ok(None),
                text => match text.parse::<u32>() {
                    Ok(n) if n > 0 => Ok(Some(n)),
                    _ => Err(anyhow::anyhow!(
                        "--{name}: '{text}' is not a number of at least 1 or off"
                    )),
                },
            };
            let config = HubConfig {
                seed,
                limits: crate::http::limits::LimitConfig {
                    tickets: rate(&ticket_limit).map_err(anyhow::Error::msg)?,
                    public: rate(&public_limit).map_err(anyhow::Error::msg)?,
                },
                caps: crate::http::limits::Caps {
                    connections_per_address: cap(
                        "connections-per-address",
                        &connections_per_address,
                    )?,
                    streams_per_address: cap("streams-per-address", &streams_per_address)?,
                    device_reserve,
                    trusted_proxies: trusted_proxy,
                    max_connections,
                },
                timeouts: crate::http::conn::Timeouts {
                    header_read: std::time::Duration::from_secs(header_timeout),
                    body_read: std::time::Duration::from_secs(body_timeout),
                },
                backup: backup_dir.map(|dir| crate::backups::DailyBackup {
                    dir,
                    keep: backup_keep as usize,
                }),
                identity_key,
                green_channel_age,
                sms: match (sms_sink, sms_command, sms_url) {
                    (Some(file), _, _) => crate::sms::SmsSender::File(file),
                    (None, Some(program), _) => crate::sms::SmsSender::Command(program),
                    (None, None, Some(url)) => crate::sms::SmsSender::Http(
                        crate::sms::HttpGateway::new(
                            &url,
                            crate::sms::HttpGateway::DEFAULT_TIMEOUT,
                        )
                        .map_err(anyhow::Error::msg)?,
                    ),
                    (None, None, None) => crate::sms::SmsSender::None,
                },
                follow,
                peer: peer.map(|peer| peer.trim_end_matches('/').to_owned()),
                sync_standby: sync_standby
                    .then(|| std::time::Duration::from_millis(sync_standby_wait)),
                ..HubConfig::new(db)
            };
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&listen)
                    .await
                    .with_context(|| format!("cannot listen on {listen}"))?;
                let public = match &public_listen {
                    Some(address) => Some(
                        tokio::net::TcpListener::bind(address)
                            .await
                            .with_context(|| format!("cannot listen on {address}"))?,
                    ),
                    None => None,
                };
                Hub::open(config)?
                    .serve_with_public(listener, public, shutdown_signal())
                    .await
            })
        }
        Top::Rejoin {
            db,
            primary,
            follow_token,
            set_aside,
        } => {
            let runtime = tokio::runtime::Runtime::new()?;
            let primary = primary.trim_end_matches('/').to_owned();
            let done = runtime.block_on(crate::standby::rejoin(
                &db,
                &primary,
                &follow_token,
                &set_aside,
            ))?;
            writeln!(
                std::io::stdout(),
                "kept records 1 to {}; set {} records and {} side changes (users, sessions, tokens, device problems after change {}) aside in {}; now start it with --follow {primary}",
                done.agreed,
                done.set_aside,
                done.side_set_aside,
                done.side_agreed,
                done.file.display()
            )?;
            Ok(())
        }
        Top::Promote { url, token } => {
            let runtime = tokio::runtime::Runtime::new()?;
            let promoted = runtime.block_on(async move {
                let client = jiaohao_client::Client::new(url.clone()).with_token(token);
                client
                    .promote()
                    .await
                    .with_context(|| format!("promoting the standby at {url}"))
            })?;
            writeln!(
                std::io::stdout(),
                "promoted: term {}, record {}",
                promoted.term,
                promoted.seq
            )?;
            Ok(())
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
                        format!("unknown role '{role}': use admin, clerk, kiosk, display, replica or ingest")
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
                if !store.revoke_token(
                    id,
                    millis(jiff::Timestamp::now()),
                    crate::people::CLI_ACTOR,
                )? {
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

#[cfg(test)]
mod tests {
    use std::ffi::{OsStr, OsString};

    use super::*;

    /// `serve`'s listen address and database as parsed from `args` in the environment `env`.
    fn serve(args: &[&str], env: &[(&str, &str)]) -> (String, PathBuf, LogFormat) {
        let lookup = |name: &OsStr| {
            env.iter()
                .find(|(key, _)| OsStr::new(key) == name)
                .map(|(_, value)| OsString::from(value))
        };
        let args = std::iter::once("jiaohao-hub").chain(args.iter().copied());
        match jiaohao_config::try_parse_with_env::<Cli, _, _>(args, &lookup)
            .unwrap_or_else(|e| panic!("{e}"))
            .command
        {
            Top::Serve {
                listen,
                db,
                log_format,
                ..
            } => (listen, db, log_format),
            _ => panic!("serve"),
        }
    }

    #[test]
    fn the_network_settings_come_from_the_file_with_their_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hub.toml");
        std::fs::write(
            &file,
            "db = \"a.db\"\ntrusted-proxy = [\"127.0.0.1\", \"::1\"]\nstreams-per-address = \"off\"\nheader-timeout = 5\n",
        )
        .unwrap();
        let args = ["jiaohao-hub", "serve", "--config", file.to_str().unwrap()];
        let cli: Cli = jiaohao_config::try_parse_with_env(args, &|_: &OsStr| None).unwrap();
        let Top::Serve {
            trusted_proxy,
            streams_per_address,
            connections_per_address,
            header_timeout,
            body_timeout,
            device_reserve,
            max_connections,
            ..
        } = cli.command
        else {
            panic!("serve")
        };
        assert_eq!(
            trusted_proxy,
            vec![
                "127.0.0.1".parse::<std::net::IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        assert_eq!(
            (
                streams_per_address.as_str(),
                connections_per_address.as_str()
            ),
            ("off", "480")
        );
        assert_eq!((header_timeout, body_timeout), (5, 30));
        assert_eq!((device_reserve, max_connections), (128, None));
    }

    #[test]
    fn serve_settings_come_from_flags_then_environment_then_file_then_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hub.toml");
        std::fs::write(
            &file,
            "db = \"/var/lib/jiaohao/file.db\"\nlisten = \"0.0.0.0:7000\"\nlog-format = \"json\"\n",
        )
        .unwrap();
        let file = file.to_str().unwrap();

        let (listen, db, format) = serve(&["serve", "--db", "a.db"], &[]);
        assert_eq!(
            (listen.as_str(), db, format),
            ("127.0.0.1:8080", "a.db".into(), LogFormat::Human)
        );
        let (listen, db, format) = serve(&["serve", "--config", file], &[]);
        assert_eq!(
            (listen.as_str(), db, format),
            (
                "0.0.0.0:7000",
                "/var/lib/jiaohao/file.db".into(),
                LogFormat::Json
            )
        );
        let env = [
            ("JIAOHAO_HUB_LISTEN", "0.0.0.0:7001"),
            ("JIAOHAO_HUB_CONFIG", file),
            ("JIAOHAO_LOG_FORMAT", "human"),
        ];
        let (listen, db, format) = serve(&["serve"], &env);
        assert_eq!(
            (listen.as_str(), db, format),
            (
                "0.0.0.0:7001",
                "/var/lib/jiaohao/file.db".into(),
                LogFormat::Human
            )
        );
        let (listen, _, _) = serve(&["serve", "--listen", "127.0.0.1:7002"], &env);
        assert_eq!(listen, "127.0.0.1:7002");
    }

    #[test]
    fn the_sms_gateway_url_comes_from_a_flag_or_the_environment_and_excludes_the_others() {
        let parse = |args: &[&str], env: &[(&str, &str)]| {
            let lookup = |name: &OsStr| {
                env.iter()
                    .find(|(key, _)| OsStr::new(key) == name)
                    .map(|(_, value)| OsString::from(value))
            };
            let args = ["jiaohao-hub", "serve", "--db", "a.db"]
                .into_iter()
                .chain(args.iter().copied());
            jiaohao_config::try_parse_with_env::<Cli, _, _>(args, &lookup).map(|cli| {
                match cli.command {
                    Top::Serve { sms_url, .. } => sms_url,
                    _ => panic!("serve"),
                }
            })
        };
        assert_eq!(
            parse(&["--sms-url", "http://10.0.0.5:9000/sms"], &[]).unwrap(),
            Some("http://10.0.0.5:9000/sms".to_owned())
        );
        assert_eq!(
            parse(&[], &[("JIAOHAO_HUB_SMS_URL", "http://sms.lan/send")]).unwrap(),
            Some("http://sms.lan/send".to_owned())
        );
        assert!(parse(&["--sms-url", "http://a/", "--sms-sink", "s.txt"], &[]).is_err());
        assert!(
            parse(
                &["--sms-url", "http://a/", "--sms-command", "/bin/true"],
                &[]
            )
            .is_err()
        );
    }
}
