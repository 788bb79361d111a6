//! `wbxprov user …`: one site user at a time (or a few), against the live
//! service, a recording (`--replay DIR`) or while recording (`--record DIR`).
//! Every create and update is validated against the site first.

use std::io::{self, Write};
use std::path::PathBuf;

use serde_json::{Value as Json, json};

use super::connect::Connection;
use super::exit;
use wbxprov::client::{Client, Error, ErrorKind};
use wbxprov::ops::{LstsummaryUser, Operation};
use wbxprov::schema::{Attribute, FlatKey, FlatUser, Value};
use wbxprov::secret::Secret;
use wbxprov::xml::ServiceErrorKind;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
    /// Write every exchange to DIR (secrets masked), for replay.
    #[arg(long, global = true, value_name = "DIR")]
    record: Option<PathBuf>,
    /// Answer from the exchanges recorded in DIR; nothing goes over the network.
    #[arg(long, global = true, value_name = "DIR", conflicts_with = "record")]
    replay: Option<PathBuf>,
    /// Validate against this site profile (GetSite XML or TOML) instead of
    /// fetching the site's settings once at the start.
    #[arg(long, global = true, value_name = "PROFILE")]
    site: Option<PathBuf>,
    /// Print JSON.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Show a user's attributes.
    Get {
        /// The user's Webex ID.
        web_ex_id: String,
    },
    /// Create a user from a flat JSON object (`wbxprov attrs` lists the keys).
    Create {
        /// The new user as a flat JSON object of catalogue names.
        #[arg(long, value_name = "USER.json")]
        user: PathBuf,
    },
    /// Change the given attributes of a user.
    Update {
        /// The user's Webex ID.
        web_ex_id: String,
        /// The attributes to change, as a flat JSON object of catalogue names.
        #[arg(long, value_name = "CHANGES.json")]
        user: PathBuf,
    },
    /// Deactivate users (DelUser never deletes).
    Deactivate {
        /// The Webex IDs of the users to deactivate.
        #[arg(required = true)]
        web_ex_ids: Vec<String>,
    },
    /// Activate users again.
    Reactivate {
        /// The Webex IDs of the users to activate.
        #[arg(required = true)]
        web_ex_ids: Vec<String>,
    },
    /// Set a user's password, read from standard input or an environment variable.
    SetPassword {
        /// The user's Webex ID.
        web_ex_id: String,
        /// Read the new password from this environment variable instead of standard input.
        #[arg(long, value_name = "VAR")]
        password_env: Option<String>,
    },
    /// List the site's users.
    List {
        /// Only activated users.
        #[arg(long)]
        active: bool,
    },
}

/// Why the command could not run at all (as opposed to some users failing).
struct CouldNotRun(String);

pub fn run(args: &Args, out: &mut impl Write) -> io::Result<u8> {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .enable_io()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit::COULD_NOT_RUN);
        }
    };
    if let Command::List { active } = args.command {
        return runtime.block_on(list(args, active, out));
    }
    let mut report = Report::default();
    let result = runtime.block_on(execute(args, &mut report));
    print_report(args, result.map(|()| report), out)
}

/// Prints what a command did (lines, or JSON with `--json`) and gives its exit status.
fn print_report(
    args: &Args,
    result: Result<Report, CouldNotRun>,
    out: &mut impl Write,
) -> io::Result<u8> {
    match result {
        Ok(mut report) => {
            if args.json {
                let doc = if report.json.len() == 1 {
                    report.json.remove(0)
                } else {
                    Json::Array(report.json)
                };
                serde_json::to_writer_pretty(&mut *out, &doc)?;
                writeln!(out)?;
            } else {
                for line in &report.lines {
                    writeln!(out, "{line}")?;
                }
            }
            Ok(if report.failed {
                exit::SOME_FAILED
            } else {
                exit::OK
            })
        }
        Err(CouldNotRun(message)) => {
            eprintln!("error: {message}");
            Ok(exit::COULD_NOT_RUN)
        }
    }
}

/// `user list`, written page by page as the LstsummaryUser pages arrive, so
/// memory stays one page (500 users) whatever the site's size (issue 21).
/// The lines and the JSON are those of a list read whole, except that the
/// text columns are as wide as each page's longest webExId, and that `total`
/// comes after `users`. A failure on the first page is reported as any
/// command's; a later one stops the listing with an error and exit status 1.
async fn list(args: &Args, active: bool, out: &mut impl Write) -> io::Result<u8> {
    let c = match client(args) {
        Ok(c) => c,
        Err(e) => return print_report(args, Err(e), out),
    };
    let query = LstsummaryUser {
        active: active.then(|| "ACTIVATED".to_owned()),
        ..Default::default()
    };
    let mut pages = c.user_pages(&query, 500);
    let first = match pages.next_page().await {
        Ok(page) => page.unwrap_or_default(),
        Err(e) => {
            let mut report = Report::default();
            let result = handle(&mut report, e).map(|()| report);
            return print_report(args, result, out);
        }
    };
    let mut out = io::BufWriter::new(out);
    let mut listing = Listing::start(&mut out, args.json)?;
    let mut page = first;
    loop {
        listing.page(&mut out, &page)?;
        page = match pages.next_page().await {
            Ok(Some(next)) => next,
            Ok(None) => break,
            Err(e) => {
                out.flush()?;
                eprintln!(
                    "error: the listing stopped after {} user(s): {e}",
                    listing.count
                );
                return Ok(exit::COULD_NOT_RUN);
            }
        };
    }
    listing.finish(&mut out)?;
    out.flush()?;
    Ok(exit::OK)
}

/// A user list being written: as text lines or as one JSON document.
struct Listing {
    json: bool,
    count: usize,
}

impl Listing {
    fn start(out: &mut impl Write, json: bool) -> io::Result<Self> {
        if json {
            out.write_all(b"{\n  \"operation\": \"LstsummaryUser\",\n  \"users\": [")?;
        }
        Ok(Listing { json, count: 0 })
    }

    fn page(
        &mut self,
        out: &mut impl Write,
        users: &[wbxprov::ops::UserSummary],
    ) -> io::Result<()> {
        if self.json {
            for user in users {
                out.write_all(if self.count == 0 { b"\n" } else { b",\n" })?;
                // The user as `to_writer_pretty` would nest it: 4 more spaces a
                // line (JSON strings hold no raw newline, so lines are safe to indent).
                let pretty = serde_json::to_string_pretty(user).map_err(io::Error::other)?;
                for (i, line) in pretty.lines().enumerate() {
                    if i > 0 {
                        out.write_all(b"\n")?;
                    }
                    write!(out, "    {line}")?;
                }
                self.count += 1;
            }
            return Ok(());
        }
        let width = users.iter().map(|u| u.web_ex_id.len()).max().unwrap_or(0);
        for user in users {
            writeln!(out, "{}", super::summary_line(user, width))?;
        }
        self.count += users.len();
        Ok(())
    }

    fn finish(self, out: &mut impl Write) -> io::Result<()> {
        if !self.json {
            return writeln!(out, "{} user(s)", self.count);
        }
        if self.count > 0 {
            out.write_all(b"\n  ")?;
        }
        writeln!(out, "],\n  \"total\": {}\n}}", self.count)
    }
}

/// What the command says: lines for people, JSON for machines, and whether a user failed.
#[derive(Default)]
struct Report {
    lines: Vec<String>,
    json: Vec<Json>,
    failed: bool,
}

impl Report {
    fn ok(&mut self, line: String, json: Json) {
        self.lines.push(line);
        self.json.push(json);
    }

    /// A user's failure: named, with the attribute (for violations) and the reason.
    fn failed(&mut self, error: &Error) {
        self.failed = true;
        self.lines.push(format!("error: {error}"));
        let mut doc = json!({
            "operation": error.operation.as_ref(),
            "webExId": error.key,
        });
        match &error.kind {
            ErrorKind::Invalid(invalid) => {
                doc["violations"] =
                    serde_json::to_value(&invalid.violations).expect("violations serialize");
            }
            _ => doc["error"] = error_json(error),
        }
        self.json.push(doc);
    }
}

/// Failures that stop the whole command: the admin cannot authenticate, the
/// site is unreachable, a recording lacks an exchange.
fn fatal(error: &Error) -> bool {
    match &error.kind {
        ErrorKind::Service(e) => {
            error.operation == Operation::AuthenticateUser
                || matches!(
                    e.kind(),
                    ServiceErrorKind::AccessDenied
                        | ServiceErrorKind::WrongCredentials
                        | ServiceErrorKind::InvalidSessionTicket
                        | ServiceErrorKind::SiteSuspended
                )
        }
        ErrorKind::Transport(_) | ErrorKind::Http(_) | ErrorKind::Malformed(_) => true,
        // A user's own problem: the next user may go through. Kinds the
        // library adds later are taken as such until the CLI knows them.
        _ => false,
    }
}

fn connection(args: &Args) -> Connection<'_> {
    Connection {
        record: args.record.as_deref(),
        replay: args.replay.as_deref(),
        site: args.site.as_deref(),
    }
}

fn client(args: &Args) -> Result<Client, CouldNotRun> {
    connection(args).client().map_err(CouldNotRun)
}

async fn validating_client(args: &Args) -> Result<Client, CouldNotRun> {
    connection(args)
        .validating_client()
        .await
        .map(|(c, _)| c)
        .map_err(CouldNotRun)
}

async fn execute(args: &Args, report: &mut Report) -> Result<(), CouldNotRun> {
    match &args.command {
        Command::Get { web_ex_id } => {
            let c = client(args)?;
            match c.get_user(web_ex_id).await {
                Ok(user) => {
                    let flat = user.to_flat();
                    let lines: Vec<String> = flat
                        .to_json(false)
                        .into_iter()
                        .map(|(k, v)| match v {
                            Json::String(s) => format!("{k}: {s}"),
                            other => format!("{k}: {other}"),
                        })
                        .collect();
                    report.ok(
                        lines.join("\n"),
                        json!({"operation": "GetUser", "user": flat.to_json(false)}),
                    );
                }
                Err(e) => handle(report, e)?,
            }
        }
        Command::Create { user } => {
            let change = super::read_flat_user(user).map_err(CouldNotRun)?;
            let c = validating_client(args).await?;
            match c.create_user(change.clone()).await {
                Ok(created) => {
                    let id = change.web_ex_id().unwrap_or_default().to_owned();
                    report.ok(
                        format!("created {id} (userId {})", created.user_id),
                        json!({"operation": "CreateUser", "webExId": id, "userId": created.user_id}),
                    );
                }
                Err(e) => handle(report, e)?,
            }
        }
        Command::Update { web_ex_id, user } => {
            let mut change = super::read_flat_user(user).map_err(CouldNotRun)?;
            change.remove(&FlatKey::new(Attribute::WebExId));
            let c = validating_client(args).await?;
            let n = change.len();
            // The validator judges the user the change makes: read it first.
            let current = match c.get_user(web_ex_id).await {
                Ok(user) => user.to_flat(),
                Err(e) => return handle(report, e),
            };
            match c.set_user_over(web_ex_id, change, &current).await {
                Ok(_) => report.ok(
                    format!("updated {web_ex_id} ({n} attribute(s))"),
                    json!({"operation": "SetUser", "webExId": web_ex_id, "updated": n}),
                ),
                Err(e) => handle(report, e)?,
            }
        }
        Command::Deactivate { web_ex_ids } => {
            let c = client(args)?;
            for batch in web_ex_ids.chunks(wbxprov::ops::DEL_USER_MAX) {
                match c.deactivate(batch).await {
                    Ok(deleted) => {
                        for status in deleted.users {
                            if status.is_success() {
                                report.ok(
                                    format!("deactivated {}", status.web_ex_id),
                                    json!({"operation": "DelUser", "webExId": status.web_ex_id, "status": status.status}),
                                );
                            } else {
                                not_deactivated(&c, report, &status.web_ex_id).await?;
                            }
                        }
                    }
                    Err(e) => handle(report, e)?,
                }
            }
        }
        Command::Reactivate { web_ex_ids } => {
            let c = validating_client(args).await?;
            for id in web_ex_ids {
                match c.reactivate(id).await {
                    Ok(_) => report.ok(
                        format!("reactivated {id}"),
                        json!({"operation": "SetUser", "webExId": id, "active": "ACTIVATED"}),
                    ),
                    Err(e) => handle(report, e)?,
                }
            }
        }
        Command::SetPassword {
            web_ex_id,
            password_env,
        } => {
            let password = read_password(password_env.as_deref())?;
            let change: FlatUser = [
                (
                    FlatKey::new(Attribute::WebExId),
                    Value::Text(web_ex_id.clone()),
                ),
                (FlatKey::new(Attribute::Password), Value::Secret(password)),
            ]
            .into_iter()
            .collect();
            let c = validating_client(args).await?;
            let mut change = change;
            change.remove(&FlatKey::new(Attribute::WebExId));
            match c.set_user(web_ex_id, change).await {
                Ok(_) => report.ok(
                    format!("password changed for {web_ex_id}"),
                    json!({"operation": "SetUser", "webExId": web_ex_id, "password": "changed"}),
                ),
                Err(e) => handle(report, e)?,
            }
        }
        // Written page by page by `list`, which `run` calls instead.
        Command::List { .. } => {}
    }
    Ok(())
}

/// DelUser answers a user it did not deactivate with a bare `FAILURE` and no
/// reason (fixtures/responses/deluser-success.xml); the site's own reason comes
/// from reading the user (030001 when there is none).
async fn not_deactivated(
    c: &Client,
    report: &mut Report,
    web_ex_id: &str,
) -> Result<(), CouldNotRun> {
    let (why, reason) = match c.get_user(web_ex_id).await {
        Err(e) if fatal(&e) => return Err(CouldNotRun(e.to_string())),
        Err(e) => (e.to_string(), error_json(&e)),
        Ok(_) => {
            let words = "the site gave no reason; the user exists";
            let report = wbxprov::error::ErrorReport::new(
                "other",
                wbxprov::ErrorKind::Other,
                format!("DelUser {web_ex_id}: {words}"),
            );
            (words.to_owned(), json!(report))
        }
    };
    report.failed = true;
    report
        .lines
        .push(format!("error: DelUser {web_ex_id}: FAILURE ({why})"));
    report.json.push(json!({
        "operation": "DelUser",
        "webExId": web_ex_id,
        "status": "FAILURE",
        "error": reason,
    }));
    Ok(())
}

/// The `error` member of a failure's JSON: the crate's one error shape
/// (`kind`, `category`, `message`; the service's code and words when it sent them).
fn error_json(error: &Error) -> Json {
    json!(wbxprov::error::ErrorReport::from(error))
}

/// A user's failure is reported and the run goes on; a fatal one stops it.
fn handle(report: &mut Report, error: Error) -> Result<(), CouldNotRun> {
    if fatal(&error) {
        return Err(CouldNotRun(error.to_string()));
    }
    report.failed(&error);
    Ok(())
}

/// Standard input for a password: a line, not a stream without end.
const PASSWORD_INPUT_LIMIT: usize = 64 * 1024;

/// The new password: from the named variable, or the first line of standard input.
fn read_password(env_name: Option<&str>) -> Result<Secret, CouldNotRun> {
    let text = match env_name {
        Some(name) => std::env::var(name)
            .map_err(|_| CouldNotRun(format!("environment variable {name} is not set")))?,
        None => {
            let input = super::read_capped_from(io::stdin().lock(), PASSWORD_INPUT_LIMIT)
                .and_then(|bytes| {
                    String::from_utf8(bytes)
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
                })
                .map_err(|e| {
                    CouldNotRun(format!("reading the password from standard input: {e}"))
                })?;
            input.lines().next().unwrap_or_default().to_owned()
        }
    };
    if text.is_empty() {
        return Err(CouldNotRun("the new password is empty".into()));
    }
    Ok(Secret::from(text))
}
