//! How every jiaohao program reads its settings, in one order: a command-line flag beats an
//! environment variable, which beats the TOML file named by `--config`, which beats the
//! built-in default. And how each sets up its logs (human-readable or JSON lines).
//!
//! Flags and environment variables are clap's own (`#[arg(long, env = "…")]`). The file is
//! the one layer clap lacks; it is added by turning each of its keys into the *default value*
//! of the flag of the same name before clap parses, since clap already ranks a default below
//! a flag and an environment variable. So a setting has one name in all three places: the flag
//! `--idle-after`, the key `idle-after` (or `idle_after`), the variable the flag declares.
//!
//! The program's own arguments hold the `--config FILE` flag (with its environment variable);
//! for a program with subcommands (`jiaohao-hub serve`), the file fills the subcommand named on
//! the command line.

use std::ffi::{OsStr, OsString};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::error::ErrorKind;
use clap::{CommandFactory, FromArgMatches};

/// The id (and long flag) of the argument that names the settings file.
pub const CONFIG_ARG: &str = "config";

/// Parses the process's arguments with the file layer; prints the error and exits on bad
/// input, as clap's own `parse` does.
pub fn parse<T: CommandFactory + FromArgMatches>() -> T {
    try_parse_from::<T, _, _>(std::env::args_os()).unwrap_or_else(|error| error.exit())
}

/// Parses `args` (the program name first) with the file layer, in the process's environment.
pub fn try_parse_from<T, I, A>(args: I) -> Result<T, clap::Error>
where
    T: CommandFactory + FromArgMatches,
    I: IntoIterator<Item = A>,
    A: Into<OsString> + Clone,
{
    try_parse_with_env(args, &|name| std::env::var_os(name))
}

/// Parses `args` as if `env` were the environment: what tests use to prove the order without
/// changing the process's environment (which other threads read).
///
/// The environment is applied as a default above the file's; clap also reads the real
/// environment for each `env = …` argument, which in a real run says the same.
pub fn try_parse_with_env<T, I, A>(
    args: I,
    env: &dyn Fn(&OsStr) -> Option<OsString>,
) -> Result<T, clap::Error>
where
    T: CommandFactory + FromArgMatches,
    I: IntoIterator<Item = A>,
    A: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let path = subcommand_path(&T::command(), &args);
    let command = fill(T::command(), &path, &args, env)?;
    let mut matches = command.clone().try_get_matches_from(&args)?;
    T::from_arg_matches_mut(&mut matches).map_err(|error| error.format(&mut command.clone()))
}

/// The names of the subcommands `args` selects, outermost first.
fn subcommand_path(command: &clap::Command, args: &[OsString]) -> Vec<String> {
    let mut path = Vec::new();
    let mut current = command;
    for arg in args.iter().skip(1) {
        let Some(text) = arg.to_str() else { continue };
        if text == "--" {
            break;
        }
        if let Some(sub) = current.find_subcommand(text) {
            path.push(sub.get_name().to_owned());
            current = sub;
        }
    }
    path
}

/// The settings file named on the command line (`--config FILE` or `--config=FILE`) or, when
/// not, by the `--config` argument's environment variable.
fn config_file(
    command: &clap::Command,
    args: &[OsString],
    env: &dyn Fn(&OsStr) -> Option<OsString>,
) -> Option<PathBuf> {
    let arg = command
        .get_arguments()
        .find(|arg| arg.get_id() == CONFIG_ARG)?;
    let mut words = args.iter().skip(1);
    while let Some(word) = words.next() {
        let Some(text) = word.to_str() else { continue };
        if text == "--" {
            break;
        }
        if text == "--config" {
            return words.next().map(PathBuf::from);
        }
        if let Some(path) = text.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    env(arg.get_env()?)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

/// The subcommand at `path` with the settings file's values, then the environment's, as its
/// defaults.
fn fill(
    mut command: clap::Command,
    path: &[String],
    args: &[OsString],
    env: &dyn Fn(&OsStr) -> Option<OsString>,
) -> Result<clap::Command, clap::Error> {
    if let Some((first, rest)) = path.split_first() {
        let sub = command
            .find_subcommand(first)
            .cloned()
            .expect("the path was found in this command");
        let sub = fill(sub, rest, args, env)?;
        return Ok(command.mut_subcommand(first, |_| sub));
    }
    if let Some(file) = config_file(&command, args, env) {
        command = from_file(command, &file)?;
    }
    let from_env: Vec<(clap::Id, String)> = command
        .get_arguments()
        .filter_map(|arg| {
            let value = env(arg.get_env()?)?;
            Some((arg.get_id().clone(), value.to_string_lossy().into_owned()))
        })
        .collect();
    for (id, value) in from_env {
        command = command.mut_arg(id, |arg| arg.required(false).default_value(word(&value)));
    }
    Ok(command)
}

/// `command` with the values of the settings file `file` as its defaults.
fn from_file(mut command: clap::Command, file: &Path) -> Result<clap::Command, clap::Error> {
    let settings = read(file).map_err(|message| command.error(ErrorKind::Io, message))?;
    for (key, value) in settings {
        let flag = key.replace('_', "-");
        let Some(arg) = command
            .get_arguments()
            .find(|arg| arg.get_long() == Some(flag.as_str()) && arg.get_id() != CONFIG_ARG)
        else {
            let known: Vec<String> = command
                .get_arguments()
                .filter(|arg| arg.get_id() != CONFIG_ARG && arg.get_id() != "help")
                .filter_map(|arg| arg.get_long().map(str::to_owned))
                .collect();
            return Err(command.error(
                ErrorKind::UnknownArgument,
                format!(
                    "{}: there is no setting '{key}'; the settings are: {}",
                    file.display(),
                    known.join(", ")
                ),
            ));
        };
        let id = arg.get_id().clone();
        let values = values(&value).map_err(|message| {
            command.error(
                ErrorKind::InvalidValue,
                format!("{}: '{key}' {message}", file.display()),
            )
        })?;
        command = command.mut_arg(id, |arg| {
            let arg = arg.required(false);
            match values.as_slice() {
                [one] => arg.default_value(word(one)),
                many => arg.default_values(many.iter().map(|v| word(v))),
            }
        });
    }
    Ok(command)
}

/// A value clap keeps as a default.
fn word(text: &str) -> clap::builder::OsStr {
    clap::builder::Str::from(text.to_owned()).into()
}

/// The file's settings, in the order written.
fn read(file: &Path) -> Result<toml::Table, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|error| format!("cannot read the settings file {}: {error}", file.display()))?;
    text.parse::<toml::Table>()
        .map_err(|error| format!("the settings file {} is not TOML: {error}", file.display()))
}

/// A TOML value as the words clap would have read from a command line.
fn values(value: &toml::Value) -> Result<Vec<String>, &'static str> {
    let word = |value: &toml::Value| match value {
        toml::Value::String(text) => Ok(text.clone()),
        toml::Value::Integer(n) => Ok(n.to_string()),
        toml::Value::Float(x) => Ok(x.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        _ => Err("must be a string, a number, true or false, or a list of those"),
    };
    match value {
        toml::Value::Array(items) if !items.is_empty() => items.iter().map(word).collect(),
        toml::Value::Array(_) => Err("is an empty list"),
        one => Ok(vec![word(one)?]),
    }
}

/// How log lines are written to standard error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event (coloured on a terminal).
    #[default]
    Human,
    /// One JSON object per line, for a log collector (journald, Loki, …).
    Json,
}

/// Sets up `tracing` for the process at level INFO; a second call does nothing.
pub fn init_logging(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO);
    let _ = match format {
        LogFormat::Human => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder
            .json()
            .with_ansi(false)
            .with_current_span(false)
            .try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Parser, Subcommand};

    #[derive(Debug, Parser)]
    struct Program {
        #[arg(
            long,
            env = "JIAOHAO_TEST_CONFIG_A_LISTEN",
            default_value = "127.0.0.1:1"
        )]
        listen: String,
        #[arg(long, env = "JIAOHAO_TEST_CONFIG_A_DB")]
        db: PathBuf,
        #[arg(long, env = "JIAOHAO_TEST_CONFIG_A_FULLSCREEN")]
        fullscreen: bool,
        #[arg(long, default_value_t = 30)]
        return_after: u64,
        #[arg(long, env = "JIAOHAO_TEST_CONFIG_A_CONFIG")]
        config: Option<PathBuf>,
    }

    #[derive(Debug, Parser)]
    struct WithSub {
        #[command(subcommand)]
        command: Sub,
    }

    #[derive(Debug, Subcommand)]
    enum Sub {
        Serve {
            #[arg(long)]
            listen: String,
            #[arg(long)]
            config: Option<PathBuf>,
        },
        Other {
            #[arg(long)]
            listen: Option<String>,
        },
    }

    fn file(text: &str) -> (tempfile_dir::Dir, String) {
        let dir = tempfile_dir::Dir::new();
        let path = dir.0.join("settings.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path.to_string_lossy().into_owned())
    }

    /// A private temporary folder (this crate has no tempfile dependency).
    mod tempfile_dir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                use std::sync::atomic::{AtomicU32, Ordering};
                static NEXT: AtomicU32 = AtomicU32::new(0);
                let path = std::env::temp_dir().join(format!(
                    "jiaohao-config-test-{}-{}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::Relaxed)
                ));
                std::fs::create_dir_all(&path).unwrap();
                Dir(path)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn the_file_fills_what_flags_leave_out_and_names_are_checked() {
        let (_dir, path) = file(
            "db = \"/var/lib/a.db\"\nlisten = \"0.0.0.0:8080\"\nfullscreen = true\nreturn_after = 45\n",
        );
        let program: Program = try_parse_from(["p", "--config", &path]).unwrap();
        assert_eq!(program.db, PathBuf::from("/var/lib/a.db"));
        assert_eq!(program.listen, "0.0.0.0:8080");
        assert!(program.fullscreen);
        assert_eq!(program.return_after, 45);

        let program: Program =
            try_parse_from(["p", &format!("--config={path}"), "--listen", "1.2.3.4:5"]).unwrap();
        assert_eq!(program.listen, "1.2.3.4:5", "a flag beats the file");

        let (_dir, bad) = file("lisen = \"0.0.0.0:8080\"\ndb = \"x\"\n");
        let error = try_parse_from::<Program, _, _>(["p", "--config", &bad]).unwrap_err();
        assert!(error.to_string().contains("no setting 'lisen'"), "{error}");
        assert!(error.to_string().contains("listen"), "{error}");

        let (_dir, bad) = file("db = { path = \"x\" }\n");
        let error = try_parse_from::<Program, _, _>(["p", "--config", &bad]).unwrap_err();
        assert!(error.to_string().contains("'db' must be"), "{error}");

        let error =
            try_parse_from::<Program, _, _>(["p", "--config", "/nonexistent/x.toml"]).unwrap_err();
        assert!(error.to_string().contains("cannot read"), "{error}");

        let (_dir, bad) = file("db = \n");
        let error = try_parse_from::<Program, _, _>(["p", "--config", &bad]).unwrap_err();
        assert!(error.to_string().contains("not TOML"), "{error}");

        // Without the file, a required setting is still required.
        assert!(try_parse_from::<Program, _, _>(["p"]).is_err());
        // A value the file gives goes through the flag's own parser.
        let (_dir, bad) = file("db = \"x\"\nreturn_after = \"soon\"\n");
        assert!(try_parse_from::<Program, _, _>(["p", "--config", &bad]).is_err());
    }

    #[test]
    fn a_subcommand_takes_the_file_given_to_it() {
        let (_dir, path) = file("listen = \"0.0.0.0:9\"\n");
        let parsed: WithSub = try_parse_from(["p", "serve", "--config", &path]).unwrap();
        match parsed.command {
            Sub::Serve { listen, .. } => assert_eq!(listen, "0.0.0.0:9"),
            Sub::Other { .. } => panic!("serve"),
        }
        let parsed: WithSub = try_parse_from(["p", "other"]).unwrap();
        assert!(matches!(parsed.command, Sub::Other { listen: None }));
    }

    #[test]
    fn flag_beats_environment_beats_file_beats_default() {
        let (_dir, path) = file("db = \"file.db\"\nlisten = \"file:1\"\n");
        let env_with = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &OsStr| {
                pairs
                    .iter()
                    .find(|(key, _)| OsStr::new(key) == name)
                    .map(|(_, value)| OsString::from(value))
            }
        };
        let none = env_with(&[]);
        let program: Program = try_parse_with_env(["p", "--db", "x"], &none).unwrap();
        assert_eq!(program.listen, "127.0.0.1:1", "the default");
        let program: Program = try_parse_with_env(["p", "--config", &path], &none).unwrap();
        assert_eq!(program.listen, "file:1", "the file beats the default");
        let env = env_with(&[("JIAOHAO_TEST_CONFIG_A_LISTEN", "env:2")]);
        let program: Program = try_parse_with_env(["p", "--config", &path], &env).unwrap();
        assert_eq!(program.listen, "env:2", "the environment beats the file");
        assert_eq!(program.db, PathBuf::from("file.db"));
        let program: Program =
            try_parse_with_env(["p", "--config", &path, "--listen", "flag:3"], &env).unwrap();
        assert_eq!(program.listen, "flag:3", "a flag beats the environment");

        // The file can be named by the environment too, and a required setting can come
        // from the environment alone.
        let (_dir, other) = file("listen = \"other:4\"\n");
        let named: &'static str = Box::leak(other.into_boxed_str());
        let env = env_with(Box::leak(Box::new([
            ("JIAOHAO_TEST_CONFIG_A_CONFIG", named),
            ("JIAOHAO_TEST_CONFIG_A_DB", "env.db"),
        ])));
        let program: Program = try_parse_with_env(["p"], &env).unwrap();
        assert_eq!(program.listen, "other:4");
        assert_eq!(program.db, PathBuf::from("env.db"));
    }
}
