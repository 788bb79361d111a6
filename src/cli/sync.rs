//! `wbxprov sync`: keep the site's users in line with a source file.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use super::connect::Connection;
use super::exit;
use wbxprov::sync::{self, Action, Journal, Mapping, Plan, Report, Sync, SyncOptions};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The source of truth: .csv (header row), .json (array of objects) or .jsonl.
    #[arg(long, value_name = "FILE")]
    source: PathBuf,
    /// Mapping from source fields to attributes (default: fields named like attributes).
    #[arg(long, value_name = "MAP.toml")]
    map: Option<PathBuf>,
    /// Print the plan and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print JSON (the plan's per-user diffs, or the report).
    #[arg(long)]
    json: bool,
    /// Also write the JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Deactivate active site users absent from the source.
    #[arg(long)]
    deprovision: bool,
    /// Stop before writing when deprovisioning would deactivate more than this share of active users.
    #[arg(long, default_value_t = 10.0, value_name = "PERCENT")]
    max_deprovision: f64,
    /// Send passwords on update too (never counted as a change otherwise).
    #[arg(long)]
    push_passwords: bool,
    /// Calls in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Sync a source that holds no user (refused otherwise: with --deprovision
    /// it would deactivate everyone).
    #[arg(long)]
    allow_empty: bool,
    /// Stop the run (resumable) after this many calls in a row got no answer
    /// from the site; 0: never stop.
    #[arg(long, default_value_t = sync::DEFAULT_MAX_CONSECUTIVE_FAILURES, value_name = "N")]
    max_consecutive_failures: usize,
    /// Read every user (GetUser) to catch changes made on the site; otherwise
    /// people unchanged since their last sync are not read again.
    #[arg(long)]
    full: bool,
    /// The journal that makes runs resumable (one run at a time holds it).
    #[arg(long, default_value = "wbxprov-journal.sqlite", value_name = "FILE")]
    journal: PathBuf,
    /// Validate against this site profile instead of the site's GetSite.
    #[arg(long, value_name = "PROFILE")]
    site: Option<PathBuf>,
    /// Write every exchange to DIR (secrets masked).
    #[arg(long, value_name = "DIR")]
    record: Option<PathBuf>,
    /// Answer from the exchanges recorded in DIR.
    #[arg(long, value_name = "DIR", conflicts_with = "record")]
    replay: Option<PathBuf>,
}

pub fn run(args: &Args, out: &mut impl Write) -> io::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match runtime.block_on(execute(args)) {
        Err(message) => {
            tracing::error!("{message}");
            Ok(exit::COULD_NOT_RUN)
        }
        Ok(Outcome::Planned(plan)) => {
            if args.json {
                serde_json::to_writer_pretty(&mut *out, &sync::preview(&plan))?;
                writeln!(out)?;
            } else {
                write_plan(out, &plan)?;
            }
            let refused = plan.steps.iter().filter(|s| {
                matches!(
                    s.action,
                    Action::Invalid | Action::Conflict | Action::Unreadable
                )
            });
            Ok(if refused.count() == 0 {
                exit::OK
            } else {
                exit::SOME_FAILED
            })
        }
        Ok(Outcome::Stopped { message, done }) => {
            // What was done before the stop is still reported.
            tracing::info!("{}", done.summary.retry_line());
            write_report_file(args, &done)?;
            tracing::error!("{message}");
            Ok(exit::COULD_NOT_RUN)
        }
        Ok(Outcome::Done(report)) => {
            tracing::info!("{}", report.summary.retry_line());
            if !write_report_file(args, &report)? {
                return Ok(exit::COULD_NOT_RUN);
            }
            if args.json {
                serde_json::to_writer_pretty(&mut *out, &report)?;
                writeln!(out)?;
            } else {
                write_report(out, &report)?;
            }
            Ok(if report.all_ok() {
                exit::OK
            } else {
                exit::SOME_FAILED
            })
        }
    }
}

/// Writes `--report`, if asked; false (and the error logged) when it cannot.
fn write_report_file(args: &Args, report: &Report) -> io::Result<bool> {
    let Some(path) = &args.report else {
        return Ok(true);
    };
    let json = serde_json::to_vec_pretty(report).expect("report serializes");
    if let Err(e) = wbxprov::private_file::write(path, &json) {
        tracing::error!("{}: {e}", path.display());
        return Ok(false);
    }
    Ok(true)
}

enum Outcome {
    Planned(Plan),
    Done(Report),
    /// The breaker stopped the run while writing: what was done, and why.
    Stopped {
        message: String,
        done: Box<Report>,
    },
}

async fn execute(args: &Args) -> Result<Outcome, String> {
    let mapping = match &args.map {
        Some(path) => {
            let text = super::read_text_capped(path, super::SMALL_INPUT_LIMIT)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Mapping::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => Mapping::default(),
    };
    let records = sync::source::open(&args.source).map_err(|e| e.to_string())?;
    let journal = open_journal(args)?;
    if let Some(path) = args.report.as_deref().filter(|_| !args.dry_run) {
        writable(path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let connection = Connection {
        record: args.record.as_deref(),
        replay: args.replay.as_deref(),
        site: args.site.as_deref(),
    };
    // With --site the profile is known; without, the site's GetSite is read
    // only when a person must be validated (an unchanged incremental rerun
    // does not), and Control Hub mode, which needs `[controlHub]`, is off.
    let profile = match connection.site {
        Some(path) => Some(wbxprov::site::SiteProfile::load(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let mut client = connection.client()?;
    if let Some(profile) = &profile {
        client.validate_with(profile.clone());
    }
    let client = Arc::new(client);
    let identity = match &profile {
        Some(profile) => super::connect::identity_client(profile)?,
        None => None,
    };
    let mut options = {
        let mut built = SyncOptions::default();
        built.deprovision = args.deprovision;
        built.max_deprovision_share = args.max_deprovision / 100.0;
        built.push_passwords = args.push_passwords;
        built.concurrency = args.concurrency.max(1);
        built.allow_empty = args.allow_empty;
        built.max_consecutive_failures = args.max_consecutive_failures;
        built.full = args.full;
        built
    };
    // The admin running the sync is never deprovisioned.
    if let Some(admin) = client.admin_web_ex_id() {
        options.protected.push(admin.to_owned());
    }
    let licences = match (&identity, &profile) {
        (Some(_), Some(profile)) => site_licences(profile).await?,
        _ => None,
    };
    let engine = match profile {
        Some(profile) => Sync::builder(client.clone(), profile),
        None => Sync::builder_reading_site(client.clone()),
    };
    let mut engine = engine
        .mapping(mapping)
        .journal(journal)
        .options(options)
        .identity(identity);
    if let Some((licences, site_url)) = licences {
        engine = engine.licences(licences, site_url);
    }
    let engine = engine.build();
    let reading = ReadingProgress::start(client.clone());
    let plan = engine.plan(records).await.map_err(|e| e.to_string())?;
    reading.finish();
    match plan.mode {
        sync::Mode::Full => tracing::info!("full run: every user was read"),
        _ => tracing::info!(
            "incremental run: people unchanged since their last sync were not read again (--full reads every user)"
        ),
    }
    if args.dry_run {
        return Ok(Outcome::Planned(plan));
    }
    match plan.apply(&engine, progress_reporter(fault_point())).await {
        Ok(report) => Ok(Outcome::Done(report)),
        Err(e @ sync::SyncError::SiteUnreachable { .. }) => {
            let message = e.to_string();
            match e {
                sync::SyncError::SiteUnreachable {
                    done: Some(done), ..
                } => Ok(Outcome::Stopped { message, done }),
                _ => Err(message),
            }
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Control Hub mode: the licence half's client. Identity and licence by
/// default (Cisco recommends SCIM plus the licences API). A licences API that
/// answers 404 leaves people unlicensed by this run, said on stderr (the
/// simulator without `--control-hub-licences`, whose people are site users
/// without one; webexapis.com serves the list to every organisation). An
/// organisation that lists no licence of the site, or any other failure,
/// stops the run before any write: its new people could never host.
async fn site_licences(
    profile: &wbxprov::site::SiteProfile,
) -> Result<Option<(Arc<wbxprov::rest::licences::LicenceClient>, String)>, String> {
    let Some((client, site_url)) = super::connect::licence_client(profile)? else {
        return Ok(None);
    };
    match client.site_licence(&site_url).await {
        Ok(Some(_)) => Ok(Some((client, site_url))),
        Ok(None) => Err(format!(
            "the organisation lists no licence of site {site_url} (GET /v1/licenses, matched by siteUrl: the profile's siteName + .webex.com): set siteName in the site profile to the site's; nothing was written"
        )),
        Err(e) if matches!(e.kind, wbxprov::rest::RestErrorKind::NotFound(_)) => {
            tracing::warn!("{e}: this run licenses nobody");
            Ok(None)
        }
        Err(e) => Err(format!("reading the organisation's licences: {e}")),
    }
}

/// The journal, before the site is touched: its lock (another run may hold
/// it). A dry run only reads an existing journal, to plan as the run would.
fn open_journal(args: &Args) -> Result<Option<Arc<Journal>>, String> {
    let named = |e: sync::journal::JournalError| format!("{}: {e}", args.journal.display());
    if args.dry_run {
        return Ok(Some(Arc::new(Journal::peek(&args.journal).map_err(named)?)));
    }
    let j = Journal::open(&args.journal).map_err(named)?;
    if let Some(run) = j.resumed {
        tracing::info!("resuming: run {run} did not finish; planning again from the site");
    }
    Ok(Some(Arc::new(j)))
}

/// The crash tests' fault point (`WBXPROV_FAULT_ABORT_AFTER=N`): abort the
/// process, as abruptly as `kill -9`, once N write requests were answered.
/// Here in the CLI, through the engine's progress events: the library never
/// aborts a process.
fn fault_point() -> Option<usize> {
    std::env::var("WBXPROV_FAULT_ABORT_AFTER")
        .ok()
        .and_then(|v| v.parse().ok())
}

/// Whether `path` can be written, leaving no file behind that was not there.
fn writable(path: &std::path::Path) -> io::Result<()> {
    let existed = path.exists();
    wbxprov::private_file::touch(path)?;
    if !existed {
        std::fs::remove_file(path)?;
    }
    Ok(())
}

/// Calls begun per operation, counted from the client's `wbxprov.call` spans
/// by [`CallCounter`]: how far the listing (LstsummaryUser) and the reading
/// (GetUser) got, without a second count in the engine.
static CALLS_BEGUN: std::sync::Mutex<std::collections::BTreeMap<String, u64>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// The tracing layer behind [`CALLS_BEGUN`] (installed by `main`).
pub(super) struct CallCounter;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CallCounter {
    fn on_new_span(
        &self,
        attributes: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) {
        /// The span's `operation` field.
        struct Operation(Option<String>);
        impl tracing::field::Visit for Operation {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "operation" {
                    self.0 = Some(format!("{value:?}"));
                }
            }
        }
        if attributes.metadata().name() != "wbxprov.call" {
            return;
        }
        let mut operation = Operation(None);
        attributes.record(&mut operation);
        if let Some(name) = operation.0
            && let Ok(mut begun) = CALLS_BEGUN.lock()
        {
            *begun.entry(name).or_default() += 1;
        }
    }
}

/// "3 LstsummaryUser, 812 GetUser" (every operation begun so far).
fn calls_by_operation() -> String {
    let begun = CALLS_BEGUN.lock().map(|b| b.clone()).unwrap_or_default();
    let parts: Vec<String> = begun.iter().map(|(op, n)| format!("{n} {op}")).collect();
    parts.join(", ")
}

/// How often the reading phase says how far it got.
const READING_CADENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// The listing and reading of the site while the plan is made, shown as the
/// client's calls and their rate: a spinner on a terminal, an info line every
/// [`READING_CADENCE`] otherwise, and a closing line either way.
struct ReadingProgress {
    client: Arc<wbxprov::client::Client>,
    started: std::time::Instant,
    ticker: tokio::task::JoinHandle<()>,
    spinner: indicatif::ProgressBar,
}

impl ReadingProgress {
    fn start(client: Arc<wbxprov::client::Client>) -> ReadingProgress {
        let started = std::time::Instant::now();
        let spinner = if io::stderr().is_terminal() && tracing::enabled!(tracing::Level::INFO) {
            indicatif::ProgressBar::new_spinner()
        } else {
            indicatif::ProgressBar::hidden()
        };
        let (watched, shown) = (client.clone(), spinner.clone());
        let ticker = tokio::spawn(async move {
            let mut every = tokio::time::interval(if shown.is_hidden() {
                READING_CADENCE
            } else {
                std::time::Duration::from_millis(200)
            });
            every.tick().await;
            loop {
                every.tick().await;
                let line = format!(
                    "reading the site: {} so far ({})",
                    calls_by_operation(),
                    rate(watched.stats().calls as usize, started.elapsed())
                );
                if shown.is_hidden() {
                    tracing::info!("{line}");
                } else {
                    shown.set_message(line);
                    shown.tick();
                }
            }
        });
        ReadingProgress {
            client,
            started,
            ticker,
            spinner,
        }
    }

    fn finish(self) {
        self.ticker.abort();
        self.spinner.finish_and_clear();
        let elapsed = self.started.elapsed();
        let calls = self.client.stats().calls;
        tracing::info!(
            "read the site: {calls} calls ({}) in {:.1} s ({})",
            calls_by_operation(),
            elapsed.as_secs_f64(),
            rate(calls as usize, elapsed)
        );
    }
}

/// "61.7/s".
fn rate(n: usize, elapsed: std::time::Duration) -> String {
    let secs = elapsed.as_secs_f64().max(0.001);
    format!("{:.1}/s", n as f64 / secs)
}

/// The writes: a progress bar on a terminal, an info line per tenth of the
/// work otherwise, with the rate so far; and the fault point, if set.
fn progress_reporter(
    abort_after: Option<usize>,
) -> impl Fn(sync::Event) + Send + std::marker::Sync + 'static {
    let terminal = io::stderr().is_terminal() && tracing::enabled!(tracing::Level::INFO);
    let bar = indicatif::ProgressBar::hidden();
    let total = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let started = std::time::Instant::now();
    let written = std::sync::atomic::AtomicUsize::new(0);
    move |event| match event {
        sync::Event::Wrote { .. } => {
            let n = written.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            if abort_after.is_some_and(|limit| n >= limit) {
                std::process::abort();
            }
        }
        sync::Event::Started { writes } => {
            total.store(writes, std::sync::atomic::Ordering::SeqCst);
            if terminal && writes > 0 {
                bar.set_length(writes as u64);
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
        }
        sync::Event::Done { .. } => {
            let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            let total = total.load(std::sync::atomic::Ordering::SeqCst);
            if terminal {
                bar.inc(1);
                if n == total {
                    bar.finish_and_clear();
                }
            } else if total >= 10 && n.is_multiple_of(total / 10) || n == total {
                let rate = rate(n, started.elapsed());
                tracing::info!("writing: {n}/{total} users ({rate})");
            }
        }
        // Events the library adds later are not shown until the CLI knows them.
        _ => {}
    }
}

fn write_plan(out: &mut impl Write, plan: &Plan) -> io::Result<()> {
    for step in &plan.steps {
        let row = step.row.map(|r| format!("row {r}")).unwrap_or_default();
        // "rename klee → klee.smithson": the site user and what it becomes.
        let who = match step.rename_to() {
            Some(new) => format!("{} → {new}", step.web_ex_id),
            None => step.web_ex_id.clone(),
        };
        writeln!(
            out,
            "{:<12}{who:<23} {row:<9}{}",
            step.action.as_ref(),
            step_detail(step)
        )?;
    }
    let counts: Vec<String> = [
        Action::Create,
        Action::Link,
        Action::Update,
        Action::Rename,
        Action::Deactivate,
        Action::Reactivate,
        Action::Unchanged,
        Action::Conflict,
        Action::Invalid,
        Action::Unreadable,
    ]
    .iter()
    .map(|a| format!("{} {}", plan.count(*a), a.as_ref()))
    .collect();
    let mode = match plan.mode {
        sync::Mode::Full => "full",
        _ => "incremental",
    };
    writeln!(
        out,
        "\nplan: {} ({mode} dry run: nothing written)",
        counts.join(", ")
    )
}

/// What a plan line says after the user: the problems, or each changed
/// attribute old → new (secrets masked).
fn step_detail(step: &sync::Step) -> String {
    if matches!(
        step.action,
        Action::Invalid | Action::Conflict | Action::Unreadable
    ) {
        return step
            .problems
            .iter()
            .map(|p| p.reason.clone())
            .collect::<Vec<_>>()
            .join("; ");
    }
    let names = |u: &wbxprov::schema::FlatUser| {
        u.iter()
            .map(|(k, _)| k.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let changes = |change: &wbxprov::schema::FlatUser, before: &wbxprov::schema::FlatUser| {
        let old = before.to_json(false);
        change
            .to_json(false)
            .into_iter()
            .filter(|(name, _)| name != "newWebExId")
            .map(|(name, new)| match old.get(&name) {
                Some(old) => format!("{name}: {old} → {new}"),
                None => format!("{name}: {new}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    match &step.identity {
        // Control Hub mode: the person's half, then the Meetings half.
        Some(person) => format!(
            "identity {}: {} |{} meetings: {}",
            person.action.as_ref(),
            names(&person.change),
            step.licence
                .as_ref()
                .map(|l| format!(" licence {} |", l.action.as_ref()))
                .unwrap_or_default(),
            names(&step.change)
        ),
        None if step.action == Action::Create => names(&step.change),
        None => changes(&step.change, &step.before),
    }
}

fn write_report(out: &mut impl Write, report: &Report) -> io::Result<()> {
    for user in report.users.iter().filter(|u| u.error.is_some()) {
        let row = user.row.map(|r| format!("row {r}: ")).unwrap_or_default();
        let error = user.error.as_ref().expect("filtered");
        // Control Hub mode: which half went through.
        let halves = match (&user.identity, &user.licence, &user.meetings) {
            (Some(i), Some(l), Some(m)) => format!(
                " (identity {}, licence {}, meetings {})",
                i.status, l.status, m.status
            ),
            (Some(i), None, Some(m)) => format!(" (identity {}, meetings {})", i.status, m.status),
            _ => String::new(),
        };
        writeln!(
            out,
            "{:<8}{row}{} {}{halves}: {}",
            user.status,
            user.operation.as_ref(),
            user.web_ex_id,
            error.message
        )?;
    }
    let s = &report.summary;
    writeln!(out, "\n{:<12}{:>8}", "created", s.created)?;
    for (name, n) in [
        ("linked", s.linked),
        ("updated", s.updated),
        ("renamed", s.renamed),
        ("deactivated", s.deactivated),
        ("reactivated", s.reactivated),
        ("unchanged", s.unchanged),
        ("conflicts", s.conflicts),
        ("invalid", s.invalid),
        ("failed", s.failed),
    ] {
        writeln!(out, "{name:<12}{n:>8}")?;
    }
    Ok(())
}
