//! The provisioning engine: keep a site's users in line with a source of truth.
//!
//! [`plan`] reads the source (through a [`Mapping`]) and the site (paged
//! LstsummaryUser, then GetUser for the users both hold, concurrently) and
//! decides, per user: create, link, update (only the changed attributes),
//! deactivate, reactivate, unchanged, or invalid (with row, attribute, reason).
//! [`apply`] carries a plan out concurrently, recording each operation in a
//! [`Journal`], and returns a [`Report`] (`report.rs`). On a site profile in
//! Control Hub mode each user has two halves, the person (Webex identity)
//! first, then the Meetings settings (`control_hub.rs`). The CLI
//! (`wbxprov sync`) is a thin layer over these two functions.

mod breaker;
mod control_hub;
pub mod journal;
pub mod mapping;
mod report;
pub mod source;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;

pub use breaker::DEFAULT_LIMIT as DEFAULT_MAX_CONSECUTIVE_FAILURES;
use breaker::{Breaker, Unanswered};
pub use journal::Journal;
pub use mapping::{Mapping, MatchKey};
pub use report::{HalfReport, Report, ReportError, Summary, UserReport, preview};
use report::{client_error, control_hub_report, identity_error, report_from, user_report};
pub use source::{Record, RecordError, Records};

use crate::client::{Client, Error as ClientError, ErrorKind, count_attempts};
use crate::identity::{IdentityClient, IdentityError, Person, patch_ops};
use crate::ops::{LstsummaryUser, UserSummary};
use crate::schema::{Attribute, FlatKey, FlatUser, User, Value};
use crate::site::SiteProfile;
use crate::validate::{self, Operation as Op};

/// How a sync behaves.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Deactivate active site users absent from the source.
    pub deprovision: bool,
    /// Above this share of the site's active users, deprovisioning stops the run before any write.
    pub max_deprovision_share: f64,
    /// Send passwords on update too (they cannot be read back, so they never count as a change).
    pub push_passwords: bool,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Site users never deactivated (the admin running the sync).
    pub protected: Vec<String>,
    /// A fault point for crash tests: abort the process after this many writes.
    pub abort_after_writes: Option<usize>,
    /// Control Hub mode (a profile with `[controlHub]`): the organisation's
    /// identity client, which people go through.
    pub identity: Option<Arc<IdentityClient>>,
    /// Run with a source that holds no user (with `deprovision`, that plans
    /// to deactivate everyone): refused unless set.
    pub allow_empty: bool,
    /// Stop the run (resumable) after this many calls in a row got no answer
    /// from the site; 0: never stop.
    pub max_consecutive_failures: usize,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            deprovision: false,
            max_deprovision_share: 0.10,
            push_passwords: false,
            concurrency: 8,
            protected: Vec::new(),
            abort_after_writes: None,
            identity: None,
            allow_empty: false,
            max_consecutive_failures: DEFAULT_MAX_CONSECUTIVE_FAILURES,
        }
    }
}

/// What the plan does to one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, strum::AsRefStr, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
#[strum(serialize_all = "camelCase")]
pub enum Action {
    Create,
    /// The user already exists under the match key and the sync takes charge of it.
    Link,
    Update,
    Deactivate,
    Reactivate,
    Unchanged,
    Invalid,
    /// The site (or the identity) could not tell what the user is now: a
    /// failure of this user alone; the next run tries again.
    Unreadable,
}

impl Action {
    fn writes(self, change: &FlatUser) -> bool {
        match self {
            Action::Create | Action::Update | Action::Deactivate | Action::Reactivate => true,
            Action::Link => !change.is_empty(),
            Action::Unchanged | Action::Invalid | Action::Unreadable => false,
        }
    }
}

/// One problem of an invalid row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub attribute: Option<String>,
    pub reason: String,
}

/// One user's part of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The site user (or, for invalid rows, what the row would have been).
    pub web_ex_id: String,
    /// The match key value, for the journal.
    pub key: String,
    /// The source row, when the user comes from the source.
    pub row: Option<usize>,
    pub action: Action,
    /// What is sent: every attribute for create, the changed ones otherwise.
    /// In Control Hub mode, the Meetings half (SetUser, after the person).
    pub change: FlatUser,
    pub problems: Vec<Problem>,
    /// Control Hub mode: the person's half, carried out first.
    pub identity: Option<IdentityStep>,
}

impl Step {
    /// Whether carrying the step out writes anything.
    pub fn writes(&self) -> bool {
        self.action.writes(&self.change) || self.identity.as_ref().is_some_and(IdentityStep::writes)
    }
}

/// What happens to a person in the Webex identity.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityStep {
    /// Create, Link, Update, Deactivate, Reactivate or Unchanged.
    pub action: Action,
    /// The person's SCIM id (absent before creation).
    pub person_id: Option<String>,
    /// Create: the whole person; otherwise the attributes that change
    /// (`active` included), each sent as a PATCH replace.
    pub change: FlatUser,
    /// The displayName to set, when the names change.
    pub display_name: Option<String>,
    /// The externalId to set, when it changes.
    pub external_id: Option<String>,
}

impl IdentityStep {
    pub fn writes(&self) -> bool {
        self.action == Action::Create
            || !self.change.is_empty()
            || self.external_id.is_some()
            || self.display_name.is_some()
    }
}

/// What a sync would do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Reading calls the plan took (list pages and GetUser), for reports and benchmarks.
    pub reads: usize,
}

impl Plan {
    pub fn count(&self, action: Action) -> usize {
        self.steps.iter().filter(|s| s.action == action).count()
    }
}

/// Why a sync could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    #[error("reading the site: {0}")]
    Site(ClientError),
    #[error(
        "deprovisioning would deactivate {planned} of {active} active users, more than {share:.0} %: stopping before any write"
    )]
    TooManyDeactivations {
        planned: usize,
        active: usize,
        share: f64,
    },
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    #[error("reading the organisation: {0}")]
    Identity(IdentityError),
    #[error(
        "the site profile is in Control Hub mode: an identity client is needed (identity token)"
    )]
    NoIdentityClient,
    #[error(
        "the source holds no user: refusing to sync it (with --deprovision that would deactivate everyone); pass --allow-empty if it is meant to be empty"
    )]
    EmptySource,
    #[error(
        "stopped: {failures} calls in a row got no answer from the site (last: {last}); what was done is in the journal, and the next run resumes"
    )]
    SiteUnreachable { failures: usize, last: String },
    /// With deprovisioning on, some rows could not be matched to a site user
    /// (their mapping failed or the match key is missing): the person such a
    /// row describes could be deactivated, so nothing is written.
    #[error(
        "source rows {rows:?} could not be matched to a site user, so deprovisioning could deactivate the people they describe: fix them, or run without --deprovision; nothing was written"
    )]
    UnmatchedRows { rows: Vec<usize> },
}

/// The site as the planner reads it.
struct SiteUsers {
    summaries: Vec<UserSummary>,
}

async fn read_site(client: &Client) -> Result<(SiteUsers, usize), ClientError> {
    let (summaries, calls) = client.list_all_users(&LstsummaryUser::default()).await?;
    Ok((SiteUsers { summaries }, calls))
}

/// The match key value of a desired user.
fn key_of(user: &FlatUser, match_key: MatchKey) -> Option<String> {
    let a = match match_key {
        MatchKey::WebExId => Attribute::WebExId,
        MatchKey::Email => Attribute::Email,
    };
    match user.get(&FlatKey::new(a)) {
        Some(Value::Text(t)) if !t.is_empty() => Some(t.to_lowercase()),
        _ => None,
    }
}

fn problems(violations: Vec<validate::Violation>) -> Vec<Problem> {
    violations
        .into_iter()
        .map(|v| Problem {
            attribute: Some(v.attribute.to_string()),
            reason: v.message,
        })
        .collect()
}

/// Decides what to do for every source record and site user. Writes nothing.
pub async fn plan(
    records: Records,
    mapping: &Mapping,
    client: &Arc<Client>,
    profile: &SiteProfile,
    journal: Option<&Journal>,
    options: &SyncOptions,
) -> Result<Plan, SyncError> {
    // Control Hub mode: people are matched by email (their userName).
    let control_hub = match (&profile.control_hub, &options.identity) {
        (Some(_), Some(identity)) => Some(identity.clone()),
        (Some(_), None) => return Err(SyncError::NoIdentityClient),
        (None, _) => None,
    };
    let match_key = if control_hub.is_some() {
        MatchKey::Email
    } else {
        mapping.match_key
    };
    let mut steps = Vec::new();
    // The source, mapped.
    let mut desired: Vec<control_hub::Desired> = Vec::new();
    // Records in scope, readable or not: none at all is refused.
    let mut in_scope = 0usize;
    for record in records {
        if record.as_ref().is_ok_and(|r| !mapping.in_scope(r)) {
            continue;
        }
        in_scope += 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                steps.push(invalid_step(
                    e.row,
                    "",
                    vec![Problem {
                        attribute: None,
                        reason: e.message,
                    }],
                ));
                continue;
            }
        };
        let user = match mapping.apply(&record) {
            Ok(u) => u,
            Err(errors) => {
                let problems = errors
                    .into_iter()
                    .map(|e| Problem {
                        attribute: e.attribute,
                        reason: e.reason,
                    })
                    .collect();
                steps.push(invalid_step(record.row, "", problems));
                continue;
            }
        };
        let external_id = match mapping.external_id(&record) {
            Ok(e) => e,
            Err(e) => {
                steps.push(invalid_step(
                    record.row,
                    user.web_ex_id().unwrap_or(""),
                    vec![Problem {
                        attribute: e.attribute,
                        reason: e.reason,
                    }],
                ));
                continue;
            }
        };
        let Some(key) = key_of(&user, match_key) else {
            let name = match match_key {
                MatchKey::WebExId => "webExId",
                MatchKey::Email => "email",
            };
            steps.push(invalid_step(
                record.row,
                user.web_ex_id().unwrap_or(""),
                vec![Problem {
                    attribute: Some(name.into()),
                    reason: format!("the match key {name} is missing"),
                }],
            ));
            continue;
        };
        desired.push(control_hub::Desired {
            row: record.row,
            key,
            user,
            external_id,
        });
    }
    if in_scope == 0 && !options.allow_empty {
        return Err(SyncError::EmptySource);
    }
    let desired = refuse_duplicates(desired, &mut steps);
    if options.deprovision {
        refuse_unmatched_rows(&steps)?;
    }
    if let Some(identity) = control_hub {
        let reads = control_hub::plan(
            desired, client, &identity, profile, journal, options, &mut steps,
        )
        .await?;
        sort_steps(&mut steps);
        return Ok(Plan { steps, reads });
    }

    let (site, mut reads) = read_site(client).await.map_err(SyncError::Site)?;
    let breaker = Arc::new(Breaker::new(options.max_consecutive_failures));
    let by_key: HashMap<String, &UserSummary> = site
        .summaries
        .iter()
        .filter_map(|s| {
            let k = match match_key {
                MatchKey::WebExId => Some(s.web_ex_id.to_lowercase()),
                MatchKey::Email => s.email.as_ref().map(|e| e.to_lowercase()),
            };
            k.map(|k| (k, s))
        })
        .collect();

    // GetUser for every user both sides hold, concurrently.
    let matched: Vec<String> = desired
        .iter()
        .filter_map(|d| by_key.get(&d.key).map(|s| s.web_ex_id.clone()))
        .collect();
    let current = fetch_users(client, matched, options.concurrency, &breaker).await;
    breaker.check()?;
    reads += current.len();

    for control_hub::Desired { row, key, user, .. } in desired {
        let Some(summary) = by_key.get(&key) else {
            let violations = validate::validate(&user, Op::Create, profile);
            steps.push(if violations.is_empty() {
                Step {
                    web_ex_id: user.web_ex_id().unwrap_or("").to_owned(),
                    key,
                    row: Some(row),
                    action: Action::Create,
                    change: user,
                    problems: Vec::new(),
                    identity: None,
                }
            } else {
                invalid_step(row, user.web_ex_id().unwrap_or(""), problems(violations))
            });
            continue;
        };
        let site_user = match &current[&summary.web_ex_id.to_lowercase()] {
            Ok(u) => u,
            Err(e) => {
                steps.push(unreadable_step(Some(row), &summary.web_ex_id, key, e));
                continue;
            }
        };
        // The whole desired user, as an update of the site user, is what must be
        // valid (cross-field rules judge the user it makes); only the diff is sent.
        let settable: FlatUser = user
            .iter()
            .filter(|(k, _)| k.attribute.info().ops.set)
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        let site_flat = site_user.to_flat();
        let violations = validate::validate_update(&settable, &site_flat, profile);
        if !violations.is_empty() {
            // Keyed, so that deprovisioning leaves the site user alone.
            steps.push(Step {
                key,
                ..invalid_step(row, &summary.web_ex_id, problems(violations))
            });
            continue;
        }
        let mut change = diff(&settable, site_user, options.push_passwords);
        validate::complete_supported_services(&mut change, &site_flat, profile);
        let deactivated = summary.active.as_deref() == Some("DEACTIVATED");
        let wants_inactive = matches!(
            user.get(&FlatKey::new(Attribute::Active)),
            Some(Value::Text(a)) if a == "DEACTIVATED"
        );
        let known = match journal {
            Some(j) => j.is_known(&key)?,
            None => true,
        };
        let action = if deactivated && !wants_inactive {
            change.insert(
                FlatKey::new(Attribute::Active),
                Value::Text("ACTIVATED".into()),
            );
            Action::Reactivate
        } else if !known {
            Action::Link
        } else if change.is_empty() {
            Action::Unchanged
        } else {
            Action::Update
        };
        steps.push(Step {
            web_ex_id: summary.web_ex_id.clone(),
            key,
            row: Some(row),
            action,
            change,
            problems: Vec::new(),
            identity: None,
        });
    }

    if options.deprovision {
        let wanted: HashSet<&str> = steps.iter().map(|s| s.key.as_str()).collect();
        let active = site
            .summaries
            .iter()
            .filter(|s| s.active.as_deref() != Some("DEACTIVATED"))
            .count();
        let leaving: Vec<Step> = by_key
            .iter()
            .filter(|(k, s)| {
                !wanted.contains(k.as_str())
                    && s.active.as_deref() != Some("DEACTIVATED")
                    && !options
                        .protected
                        .iter()
                        .any(|p| p.eq_ignore_ascii_case(&s.web_ex_id))
            })
            .map(|(k, s)| Step {
                web_ex_id: s.web_ex_id.clone(),
                key: k.clone(),
                row: None,
                action: Action::Deactivate,
                change: FlatUser::new(),
                problems: Vec::new(),
                identity: None,
            })
            .collect();
        if !leaving.is_empty()
            && leaving.len() as f64 > options.max_deprovision_share * active as f64
        {
            return Err(SyncError::TooManyDeactivations {
                planned: leaving.len(),
                active,
                share: options.max_deprovision_share * 100.0,
            });
        }
        steps.extend(leaving);
    }
    sort_steps(&mut steps);
    Ok(Plan { steps, reads })
}

/// Invalid rows without a key name nobody, so deprovisioning cannot tell
/// whether the site user they describe is wanted: stop before any write.
fn refuse_unmatched_rows(steps: &[Step]) -> Result<(), SyncError> {
    let rows: Vec<usize> = steps
        .iter()
        .filter(|s| s.action == Action::Invalid && s.key.is_empty())
        .filter_map(|s| s.row)
        .collect();
    if rows.is_empty() {
        Ok(())
    } else {
        Err(SyncError::UnmatchedRows { rows })
    }
}

/// Source rows in order, then the users the source lacks.
fn sort_steps(steps: &mut [Step]) {
    steps.sort_by(|a, b| {
        (a.row.unwrap_or(usize::MAX), &a.web_ex_id)
            .cmp(&(b.row.unwrap_or(usize::MAX), &b.web_ex_id))
    });
}

/// The attributes the site holds unique (catalogue flag `unique`: the service
/// refuses a second user with the same webExId, 030004, or email, 030005).
fn unique_attributes() -> impl Iterator<Item = Attribute> {
    <Attribute as strum::IntoEnumIterator>::iter().filter(|a| a.info().unique)
}

/// Rows that share the value of a unique attribute (case aside) with another
/// row are all invalid, each naming the rows it collides with: the site would
/// refuse all but one, and which one would be chance.
fn refuse_duplicates(
    desired: Vec<control_hub::Desired>,
    steps: &mut Vec<Step>,
) -> Vec<control_hub::Desired> {
    let mut rows: HashMap<(Attribute, String), Vec<usize>> = HashMap::new();
    for d in &desired {
        for attribute in unique_attributes() {
            if let Some(value) = d.user.text(attribute).filter(|v| !v.is_empty()) {
                rows.entry((attribute, value.to_lowercase()))
                    .or_default()
                    .push(d.row);
            }
        }
    }
    let mut kept = Vec::with_capacity(desired.len());
    for d in desired {
        let problems: Vec<Problem> = unique_attributes()
            .filter_map(|attribute| {
                let value = d.user.text(attribute).filter(|v| !v.is_empty())?;
                let others: Vec<String> = rows[&(attribute, value.to_lowercase())]
                    .iter()
                    .filter(|&&r| r != d.row)
                    .map(|r| format!("row {r}"))
                    .collect();
                (!others.is_empty()).then(|| Problem {
                    attribute: Some(attribute.name().to_owned()),
                    reason: format!(
                        "{}={value:?} is unique on the site, and also in {}",
                        attribute.name(),
                        others.join(", ")
                    ),
                })
            })
            .collect();
        if problems.is_empty() {
            kept.push(d);
        } else {
            // Keyed, so that deprovisioning leaves the site user alone.
            steps.push(Step {
                key: d.key,
                ..invalid_step(d.row, d.user.web_ex_id().unwrap_or(""), problems)
            });
        }
    }
    kept
}

/// A user whose current state could not be read: its failure, alone.
fn unreadable_step(
    row: Option<usize>,
    web_ex_id: &str,
    key: String,
    error: &impl std::fmt::Display,
) -> Step {
    Step {
        web_ex_id: web_ex_id.to_owned(),
        key,
        row,
        action: Action::Unreadable,
        change: FlatUser::new(),
        problems: vec![Problem {
            attribute: None,
            reason: error.to_string(),
        }],
        identity: None,
    }
}

fn invalid_step(row: usize, web_ex_id: &str, problems: Vec<Problem>) -> Step {
    Step {
        web_ex_id: web_ex_id.to_owned(),
        key: String::new(),
        row: Some(row),
        action: Action::Invalid,
        change: FlatUser::new(),
        problems,
        identity: None,
    }
}

/// The attributes of `desired` whose values differ on the site. Write-only
/// attributes (the password) cannot be compared: sent only when asked.
fn diff(desired: &FlatUser, site: &User, push_passwords: bool) -> FlatUser {
    desired
        .iter()
        .filter(|(k, v)| {
            let info = k.attribute.info();
            if k.attribute == Attribute::WebExId {
                return false;
            }
            if !info.ops.get {
                return push_passwords && k.attribute == Attribute::Password;
            }
            site.get(**k).as_ref() != Some(*v)
        })
        .map(|(k, v)| (*k, v.clone()))
        .collect()
}

/// GetUser for each id: each user's answer or its own failure.
async fn fetch_users(
    client: &Arc<Client>,
    ids: Vec<String>,
    concurrency: usize,
    breaker: &Arc<Breaker>,
) -> HashMap<String, Result<User, ClientError>> {
    let client = client.clone();
    gather(ids, concurrency, breaker, move |id| {
        let client = client.clone();
        async move { client.get_user(&id).await.map(Some) }
    })
    .await
}

/// `call` for every key, at most `concurrency` at once; each key's answer or
/// failure by lower-cased key (keys answered `None` left out). Once the
/// breaker trips, no further call starts: check it before using the answers.
async fn gather<T, E, F, Fut>(
    keys: Vec<String>,
    concurrency: usize,
    breaker: &Arc<Breaker>,
    call: F,
) -> HashMap<String, Result<T, E>>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, E>> + Send + 'static,
    T: Send + 'static,
    E: Unanswered + Send + 'static,
{
    let semaphore = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for key in keys {
        let semaphore = semaphore.clone();
        let breaker = breaker.clone();
        let answer = call(key.clone());
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await.expect("semaphore open");
            if breaker.tripped() {
                return (key, None);
            }
            let answer = answer.await;
            breaker.record(&answer);
            (key, Some(answer))
        });
    }
    let mut out = HashMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (key, answer) = joined.expect("a read task");
        if let Some(found) = answer.and_then(Result::transpose) {
            out.insert(key.to_lowercase(), found);
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Carrying a plan out

/// Progress of [`apply`], for progress bars and logs.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The writes to come.
    Started { writes: usize },
    /// One user done (`ok` false: it failed).
    Done {
        web_ex_id: String,
        action: Action,
        ok: bool,
    },
}

/// The person's half of a step.
async fn run_identity(
    identity: &IdentityClient,
    step: &Step,
    person: &IdentityStep,
) -> Result<(), IdentityError> {
    if person.action == Action::Create {
        return identity
            .create(&Person {
                id: None,
                attributes: person.change.clone(),
                display_name: person.display_name.clone(),
                external_id: person.external_id.clone(),
            })
            .await
            .map(|_| ());
    }
    let Some(id) = &person.person_id else {
        return Err(IdentityError {
            operation: crate::identity::IdentityOp::Update,
            key: step.key.clone(),
            kind: crate::identity::IdentityErrorKind::NotFound,
            attempts: 0,
        });
    };
    let only_active =
        person.change.len() == 1 && person.external_id.is_none() && person.display_name.is_none();
    if only_active
        && let Some(Value::Text(state)) = person.change.get(&FlatKey::new(Attribute::Active))
    {
        return identity
            .set_active(id, &step.key, state != "DEACTIVATED")
            .await
            .map(|_| ());
    }
    let mut ops = patch_ops(&person.change);
    if let Some(d) = &person.display_name {
        ops.push(("displayName".into(), d.clone().into()));
    }
    if let Some(e) = &person.external_id {
        ops.push(("externalId".into(), e.clone().into()));
    }
    identity.update(id, &step.key, &ops).await.map(|_| ())
}

/// Carries out a plan: creates, links, updates and reactivations one call per
/// user, deactivations 50 per call; at most `options.concurrency` at once.
pub async fn apply(
    plan: Plan,
    client: &Arc<Client>,
    journal: Option<Arc<Journal>>,
    options: &SyncOptions,
    progress: impl Fn(Event) + Send + Sync + 'static,
) -> Result<Report, SyncError> {
    let progress = Arc::new(progress);
    let writes = plan.steps.iter().filter(|s| s.writes()).count();
    progress(Event::Started { writes });
    let semaphore = Arc::new(tokio::sync::Semaphore::new(options.concurrency.max(1)));
    let done_writes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let abort_after = options.abort_after_writes;
    let breaker = Arc::new(Breaker::new(options.max_consecutive_failures));
    let mut reports: BTreeMap<usize, UserReport> = BTreeMap::new();
    let mut tasks = tokio::task::JoinSet::new();
    let mut leaving: Vec<(usize, Step)> = Vec::new();
    for (i, step) in plan.steps.into_iter().enumerate() {
        if !step.writes() {
            if let Some(j) = &journal {
                match step.action {
                    // Taking charge of an identical user writes nothing but the journal.
                    Action::Link => {
                        j.intend(&step.key, "link")?;
                        j.outcome(&step.key, None, true)?;
                    }
                    Action::Unreadable => {
                        let reason = step.problems.first().map(|p| p.reason.as_str());
                        j.intend(&step.key, "read")?;
                        j.outcome(&step.key, reason, false)?;
                    }
                    _ => {}
                }
            }
            let report = match &step.identity {
                Some(person) => control_hub_report(&step, person, None, None, true),
                None => user_report(&step, None, 0, true),
            };
            reports.insert(i, report);
            continue;
        }
        if step.action == Action::Deactivate && step.identity.is_none() {
            leaving.push((i, step));
            continue;
        }
        let client = client.clone();
        let journal = journal.clone();
        let semaphore = semaphore.clone();
        let progress = progress.clone();
        let done_writes = done_writes.clone();
        let identity = options.identity.clone();
        let breaker = breaker.clone();
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await.expect("semaphore open");
            if breaker.tripped() {
                // The site is gone: this user is left for the next run.
                return None;
            }
            if let Some(j) = &journal {
                let _ = j.intend(&step.key, step.action.as_ref());
            }
            let wrote = || {
                let n = done_writes.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                if abort_after.is_some_and(|limit| n >= limit) {
                    // The crash-test fault point: as abrupt as kill -9.
                    std::process::abort();
                }
            };
            if let Some(person) = &step.identity {
                // The person first, then the Meetings settings.
                let identity = identity.expect("Control Hub plans come with an identity client");
                let mut identity_failed = None;
                let mut attempts = 0;
                if person.writes() {
                    let (result, sent) =
                        count_attempts(run_identity(&identity, &step, person)).await;
                    breaker.record(&result);
                    (identity_failed, attempts) = (result.err(), sent);
                    wrote();
                }
                let mut meetings_failed = None;
                if identity_failed.is_none() && !step.change.is_empty() {
                    let (result, sent) =
                        count_attempts(client.set_user(&step.web_ex_id, step.change.clone())).await;
                    breaker.record(&result);
                    (meetings_failed, attempts) = (result.err(), attempts + sent);
                    wrote();
                }
                let identity_failed = identity_failed.as_ref().map(identity_error);
                let meetings_failed = meetings_failed.as_ref().map(client_error);
                if let Some(j) = &journal {
                    let message = identity_failed
                        .as_ref()
                        .or(meetings_failed.as_ref())
                        .map(|e| e.message.clone());
                    let _ = j.outcome(&step.key, message.as_deref(), true);
                }
                let mut report =
                    control_hub_report(&step, person, identity_failed, meetings_failed, true);
                report.attempts = attempts;
                progress(Event::Done {
                    web_ex_id: step.web_ex_id.clone(),
                    action: step.action,
                    ok: report.error.is_none(),
                });
                return Some((i, report));
            }
            let (result, attempts) = count_attempts(async {
                match step.action {
                    Action::Create => client.create_user(step.change.clone()).await.map(|_| ()),
                    _ => client
                        .set_user(&step.web_ex_id, step.change.clone())
                        .await
                        .map(|_| ()),
                }
            })
            .await;
            breaker.record(&result);
            let error = result.err();
            if let Some(j) = &journal {
                let message = error.as_ref().map(|e| e.to_string());
                let _ = j.outcome(&step.key, message.as_deref(), true);
            }
            wrote();
            progress(Event::Done {
                web_ex_id: step.web_ex_id.clone(),
                action: step.action,
                ok: error.is_none(),
            });
            Some((i, user_report(&step, error.as_ref(), attempts, true)))
        });
    }
    while let Some(joined) = tasks.join_next().await {
        if let Some((i, report)) = joined.expect("sync task") {
            reports.insert(i, report);
        }
    }
    for batch in leaving.chunks(crate::ops::DEL_USER_MAX) {
        if breaker.tripped() {
            break;
        }
        let ids: Vec<String> = batch.iter().map(|(_, s)| s.web_ex_id.clone()).collect();
        for (_, s) in batch {
            if let Some(j) = &journal {
                let _ = j.intend(&s.key, "deactivate");
            }
        }
        let (result, attempts) = count_attempts(client.deactivate(&ids)).await;
        breaker.record(&result);
        for (i, step) in batch {
            let failed: Option<ClientError> = match &result {
                Ok(d)
                    if d.users.iter().any(|u| {
                        u.web_ex_id.eq_ignore_ascii_case(&step.web_ex_id) && !u.is_success()
                    }) =>
                {
                    Some(ClientError {
                        operation: crate::ops::Operation::DelUser,
                        key: Some(step.web_ex_id.clone()),
                        kind: ErrorKind::Service(crate::xml::ServiceError::from(
                            crate::xml::ServiceFailure::new(
                                "",
                                "DelUser reported FAILURE for this user",
                            ),
                        )),
                        attempts,
                    })
                }
                Ok(_) => None,
                Err(e) => Some(ClientError {
                    operation: e.operation,
                    key: Some(step.web_ex_id.clone()),
                    kind: ErrorKind::Transport(crate::client::TransportError::Other(e.to_string())),
                    attempts: e.attempts,
                }),
            };
            if let Some(j) = &journal {
                let message = failed.as_ref().map(|e| e.to_string());
                let _ = j.outcome(&step.key, message.as_deref(), false);
            }
            progress(Event::Done {
                web_ex_id: step.web_ex_id.clone(),
                action: Action::Deactivate,
                ok: failed.is_none(),
            });
            reports.insert(*i, user_report(step, failed.as_ref(), attempts, true));
        }
    }
    // Stopped by the breaker: the journal stays unfinished, for the next run.
    breaker.check()?;
    if let Some(j) = &journal {
        j.finish()?;
    }
    let mut report = report_from(reports.into_values().collect());
    report.summary.add_client_totals(&client.stats());
    Ok(report)
}
