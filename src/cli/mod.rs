//! The `wbxprov` command line. Each command parses its arguments, calls the
//! library and prints; none holds logic of its own.

mod attrs;
pub mod config;
mod connect;
mod decode;
mod demo;
mod import;
mod render;
mod rows;
mod scim;
mod sim;
mod site;
mod sync;
mod user;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit statuses, distinct so that scripts can tell "could not run" from "ran and found problems".
pub mod exit {
    /// Everything succeeded.
    pub const OK: u8 = 0;
    /// The command could not run (bad arguments, unreadable input, no connection).
    pub const COULD_NOT_RUN: u8 = 1;
    /// The command ran but some users failed or were invalid.
    pub const SOME_FAILED: u8 = 2;
    /// `decode`: the response is a FAILURE of the service.
    pub const SERVICE_FAILURE: u8 = 3;
    /// `validate`: the change breaks rules; nothing was sent.
    pub const INVALID: u8 = 4;
}

#[derive(Debug, Parser)]
#[command(
    name = "wbxprov",
    version,
    about = "Provision Webex Meetings site users through the XML API, checked against the site's features first."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// More log detail on stderr: -v for debug, -vv for trace. RUST_LOG, when set, wins.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Only errors on stderr (progress and waits are not shown).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// How log lines on stderr are written: text for people, json (one object per line) for machines.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

impl Cli {
    /// The filter for `-q`/`-v`/`-vv`: wbxprov's own info (waits, requests
    /// served) shows by default; dependencies speak only when they warn.
    fn log_filter(&self) -> &'static str {
        match (self.quiet, self.verbose) {
            (true, _) => "error",
            (false, 0) => "warn,wbxprov=info",
            (false, 1) => "info,wbxprov=debug",
            (false, _) => "debug,wbxprov=trace",
        }
    }

    /// Logs on stderr (stdout carries the command's output), filtered by
    /// `RUST_LOG` when set, else by the verbosity flags.
    fn init_logging(&self) {
        use tracing_subscriber::EnvFilter;
        use tracing_subscriber::prelude::*;
        let filter = match std::env::var(EnvFilter::DEFAULT_ENV) {
            Ok(text) if !text.trim().is_empty() => EnvFilter::new(text),
            _ => EnvFilter::new(self.log_filter()),
        };
        let lines = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .with_target(false);
        let registry = tracing_subscriber::registry()
            .with(filter)
            .with(sync::CallCounter);
        let _ = match self.log_format {
            LogFormat::Text => registry.with(lines).try_init(),
            LogFormat::Json => registry.with(lines.json()).try_init(),
        };
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the attribute catalogue: every user attribute, its XML path, type, operations and gating feature.
    Attrs(attrs::Args),
    /// Decode a saved XML API response of any operation, success or FAILURE.
    Decode(decode::Args),
    /// Print the request document for an operation and a user given as flat JSON.
    Render(render::Args),
    /// Inspect or export a site profile (from a saved GetSite response or a profile TOML).
    #[command(subcommand)]
    Site(site::Command),
    /// Check a change against the catalogue and a site profile, listing every violation.
    Validate(validate::Args),
    /// Get, create, update, deactivate, reactivate, list users; set a password.
    User(user::Args),
    /// Run a simulated Webex Meetings site.
    #[command(subcommand)]
    Sim(sim::Command),
    /// Provision demo users on an in-process simulated site and print the report.
    Demo(demo::Args),
    /// Keep the site's users in line with a source file (plan, then apply).
    Sync(sync::Args),
    /// Export every site user to CSV, JSON or JSON Lines.
    Import(import::Args),
    /// Serve the site's users as SCIM 2.0, for identity providers.
    #[command(subcommand)]
    Scim(scim::Command),
}

/// Operation names as `--operation` and `render` take them (with `ignore_case`).
fn operation_parser() -> clap::builder::PossibleValuesParser {
    use strum::VariantNames;
    clap::builder::PossibleValuesParser::new(wbxprov::ops::Operation::VARIANTS)
}

/// A user as a flat JSON object in a file (`-`: standard input); every problem
/// of the file listed in the error.
fn read_flat_user(path: &std::path::Path) -> Result<wbxprov::schema::FlatUser, String> {
    let bytes = read_input(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    let mut object = match json {
        serde_json::Value::Object(o) => o,
        _ => {
            return Err(format!(
                "{}: expected a flat JSON object of attributes",
                path.display()
            ));
        }
    };
    resolve_env_references(&mut object)?;
    wbxprov::schema::FlatUser::from_json(&object).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
        format!("{}:\n{}", path.display(), lines.join("\n"))
    })
}

/// Replaces `{"env": "NAME"}` values with the variable's text, so that
/// secrets can stay out of files.
fn resolve_env_references(
    object: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(), String> {
    for (key, value) in object.iter_mut() {
        let serde_json::Value::Object(reference) = value else {
            continue;
        };
        let Some(serde_json::Value::String(name)) = reference.get("env") else {
            continue;
        };
        let text = std::env::var(name)
            .map_err(|_| format!("{key}: environment variable {name} is not set"))?;
        *value = serde_json::Value::String(text);
    }
    Ok(())
}

/// One user of a list, for people: webExId, status, name, email.
fn summary_line(u: &wbxprov::ops::UserSummary, width: usize) -> String {
    format!(
        "{:<width$}  {:<12}{} {} <{}>",
        u.web_ex_id,
        u.active.as_deref().unwrap_or("-"),
        u.first_name.as_deref().unwrap_or(""),
        u.last_name.as_deref().unwrap_or(""),
        u.email.as_deref().unwrap_or("")
    )
}

/// A file's bytes, or standard input's for `-`.
fn read_input(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    read_capped(path, SMALL_INPUT_LIMIT)
}

/// The most a user file, a mapping, a configuration or a password may hold:
/// far beyond any real one (a user with every attribute is about 20 KB), and
/// bounded, so a wrong file or a stream that never ends cannot eat the memory.
pub(crate) const SMALL_INPUT_LIMIT: usize = 1 << 20;

/// The whole of `path` (`-`: standard input), or an error once it holds more
/// than `limit` bytes: reading stops there, and a file's length is checked
/// before anything is read.
pub(crate) fn read_capped(path: &std::path::Path, limit: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    if path.as_os_str() == "-" {
        return read_capped_from(std::io::stdin().lock(), limit);
    }
    let file = std::fs::File::open(path)?;
    // Zero for pipes and devices, whose length is unknown.
    let len = file.metadata()?.len();
    if len > limit as u64 {
        return Err(too_large(Some(len), limit));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0) + 1);
    file.take(limit as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > limit {
        return Err(too_large(None, limit));
    }
    Ok(bytes)
}

/// [`read_capped`] of a file, as UTF-8 text.
pub(crate) fn read_text_capped(path: &std::path::Path, limit: usize) -> std::io::Result<String> {
    String::from_utf8(read_capped(path, limit)?)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// At most `limit` bytes of a stream; more is an error.
pub(crate) fn read_capped_from(
    reader: impl std::io::Read,
    limit: usize,
) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    // One more byte than the limit tells "exactly at the limit" from "beyond".
    reader.take(limit as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > limit {
        return Err(too_large(None, limit));
    }
    Ok(bytes)
}

/// `size`: the length a file declares, when known before reading.
fn too_large(size: Option<u64>, limit: usize) -> std::io::Error {
    let message = match size {
        Some(size) => format!("{size} bytes exceeds the limit of {limit} bytes"),
        None => format!("input exceeds the limit of {limit} bytes (reading stopped there)"),
    };
    std::io::Error::new(std::io::ErrorKind::InvalidData, message)
}

/// The command line's definition (every command, flag and value it accepts), for
/// tools that check a command line without running it: `tests/readme.rs`
/// includes this module and parses every `wbxprov` line of the README with it,
/// so a renamed flag fails there. The binary itself does not call it.
#[allow(dead_code)]
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Runs the command line and returns the process exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::COULD_NOT_RUN
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    cli.init_logging();
    let mut stdout = std::io::stdout().lock();
    let result = match cli.command {
        Command::Attrs(args) => attrs::run(&args, &mut stdout),
        Command::Decode(args) => decode::run(&args, &mut stdout),
        Command::Render(args) => render::run(&args, &mut stdout),
        Command::Site(command) => site::run(&command, &mut stdout),
        Command::Validate(args) => validate::run(&args, &mut stdout),
        Command::User(args) => user::run(&args, &mut stdout),
        Command::Sim(command) => sim::run(&command, &mut stdout),
        Command::Demo(args) => demo::run(&args, &mut stdout),
        Command::Sync(args) => sync::run(&args, &mut stdout),
        Command::Import(args) => import::run(&args, &mut stdout),
        Command::Scim(command) => scim::run(&command, &mut stdout),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // `wbxprov attrs | head`: the reader has gone, which is not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit::COULD_NOT_RUN)
        }
    }
}
