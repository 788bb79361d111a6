//! Planning: the source mapped into desired people, each found on the site
//! (key, then match key, then webExId, then email), conflicts named before
//! anything is written, each half read only where it must be, and
//! deprovisioning of the active site users no step claims.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::breaker::Breaker;
use super::differ::{self, diff, listed_user, listing_agrees, listing_suffices};
use super::fields::SourceFields;
use super::half::{Current, Half, Meetings, Readings, Seen};
use super::licences;
use super::snapshot::{FoundBy, Snapshot};
use super::{
    Action, KnownPerson, MatchKey, Mode, Plan, Problem, Records, Step, Sync, SyncError,
    account_state, active_key, control_hub,
};
use crate::ops::LstsummaryUser;
use crate::schema::{Attribute, FlatKey, FlatUser, Value};
use crate::validate;

/// One person of the source, mapped.
pub(super) struct Desired {
    pub row: usize,
    /// The journal's key: the source key, else the match key's value
    /// (lower-cased webExId or email).
    pub key: String,
    pub user: FlatUser,
    pub external_id: Option<String>,
    /// `differ::digest` of `user` and `external_id`.
    pub digest: String,
    /// Control Hub mode: the mapping's `attendee` says this person attends
    /// the site rather than hosting.
    pub attendee: bool,
}

impl Desired {
    pub fn web_ex_id(&self) -> &str {
        self.user.web_ex_id().unwrap_or("")
    }
}

pub(super) async fn plan(sync: &Sync, records: Records) -> Result<Plan, SyncError> {
    let control_hub = sync.loaded_profile().and_then(|p| p.control_hub.as_ref());
    let identity = match (control_hub, &sync.identity) {
        (Some(_), Some(identity)) => Some(identity.clone()),
        (Some(_), None) => return Err(SyncError::NoIdentityClient),
        (None, _) => None,
    };
    // Control Hub mode: people are matched by email (their userName), which
    // is also their key there (the source key is for standalone sites).
    let match_key = if identity.is_some() {
        MatchKey::Email
    } else {
        sync.mapping.match_key
    };
    let mut steps = Vec::new();
    let keyed = identity.is_none();
    let mut fields = SourceFields::new(&sync.mapping, keyed);
    let (desired, in_scope) = map_records(sync, records, match_key, keyed, &mut fields, &mut steps);
    fields.check()?;
    if in_scope == 0 && !sync.options.allow_empty {
        return Err(SyncError::EmptySource);
    }
    if sync.options.deprovision {
        refuse_unmatched_rows(&steps)?;
    }
    let (users, list_calls) = sync
        .client
        .list_all_users(&LstsummaryUser::default())
        .await
        .map_err(SyncError::Site)?;
    let known = match &sync.journal {
        Some(j) => j.people()?,
        None => Vec::new(),
    };
    let snapshot = Snapshot::new(users, known);
    let breaker = Arc::new(Breaker::new(sync.options.max_consecutive_failures));
    let duplicates = duplicate_problems(&desired);
    // Control Hub mode reads every person (and site user): always full.
    let mode = if sync.options.full || identity.is_some() {
        Mode::Full
    } else {
        Mode::Incremental
    };
    let reads = match identity {
        Some(identity) => {
            let desired = refuse_duplicates(desired, duplicates, &mut steps);
            let people = control_hub::People {
                sync,
                identity,
                snapshot: &snapshot,
                breaker: &breaker,
            };
            people.plan(desired, &mut steps).await?
        }
        None => {
            let reads =
                standalone(sync, &snapshot, desired, duplicates, &breaker, &mut steps).await?;
            if sync.options.deprovision {
                steps.extend(deprovision(sync, &snapshot, &steps)?);
            }
            // Not read: no one was validated, so no one takes a licence.
            if let Some(profile) = sync.loaded_profile() {
                licences::check(profile, &steps)?;
            }
            reads
        }
    };
    sort_steps(&mut steps);
    Ok(Plan {
        steps,
        reads: list_calls + reads,
        mode,
    })
}

/// The match key value of a desired user.
fn key_of(user: &FlatUser, match_key: MatchKey) -> Option<String> {
    user.text(match_key_attribute(match_key))
        .map(str::to_lowercase)
}

fn match_key_attribute(match_key: MatchKey) -> Attribute {
    match match_key {
        MatchKey::WebExId => Attribute::WebExId,
        MatchKey::Email => Attribute::Email,
    }
}

pub(super) fn problems(violations: Vec<validate::Violation>) -> Vec<Problem> {
    violations
        .into_iter()
        .map(|v| Problem {
            attribute: Some(v.attribute.to_string()),
            reason: v.message,
        })
        .collect()
}

/// Every record in scope, mapped; the ones that cannot be are invalid steps
/// (without a key: they name nobody). Also how many records were in scope.
fn map_records(
    sync: &Sync,
    records: Records,
    match_key: MatchKey,
    keyed: bool,
    fields: &mut SourceFields,
    steps: &mut Vec<Step>,
) -> (Vec<Desired>, usize) {
    let mapping = &sync.mapping;
    let mut desired = Vec::new();
    let mut in_scope = 0usize;
    for record in records {
        if let Ok(r) = &record {
            fields.observe(r);
        }
        if record.as_ref().is_ok_and(|r| !mapping.in_scope(r)) {
            continue;
        }
        in_scope += 1;
        match record {
            Ok(record) => match map_record(mapping, &record, match_key, keyed) {
                Ok(d) => desired.push(d),
                Err(step) => steps.push(*step),
            },
            Err(e) => steps.push(Step::invalid(
                e.row,
                "",
                vec![Problem {
                    attribute: None,
                    reason: e.message,
                }],
            )),
        }
    }
    (desired, in_scope)
}

fn map_record(
    mapping: &super::Mapping,
    record: &super::Record,
    match_key: MatchKey,
    keyed: bool,
) -> Result<Desired, Box<Step>> {
    let problem = |e: super::mapping::MappingError| Problem {
        attribute: e.attribute,
        reason: e.reason,
    };
    let user = mapping.apply(record).map_err(|errors| {
        Step::invalid(record.row, "", errors.into_iter().map(problem).collect())
    })?;
    let web_ex_id = user.web_ex_id().unwrap_or("");
    let refuse = |e| Box::new(Step::invalid(record.row, web_ex_id, vec![problem(e)]));
    let external_id = mapping.external_id(record).map_err(refuse)?;
    let source_key = match keyed {
        true => mapping.source_key(record).map_err(refuse)?,
        false => None,
    };
    let key = match source_key {
        Some(k) => k,
        None => key_of(&user, match_key).ok_or_else(|| {
            let name = match_key_attribute(match_key).name();
            Box::new(Step::invalid(
                record.row,
                web_ex_id,
                vec![Problem {
                    attribute: Some(name.into()),
                    reason: format!("the match key {name} is missing"),
                }],
            ))
        })?,
    };
    let digest = differ::digest(&user, external_id.as_deref());
    Ok(Desired {
        row: record.row,
        key,
        user,
        external_id,
        digest,
        attendee: mapping.attends(record),
    })
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
/// row, by row: each names the rows it collides with. The site would refuse
/// all but one, and which one would be chance, so all are invalid.
fn duplicate_problems(desired: &[Desired]) -> HashMap<usize, Vec<Problem>> {
    let mut rows: HashMap<(Attribute, String), Vec<usize>> = HashMap::new();
    for d in desired {
        for attribute in unique_attributes() {
            if let Some(value) = d.user.text(attribute) {
                rows.entry((attribute, value.to_lowercase()))
                    .or_default()
                    .push(d.row);
            }
        }
    }
    let mut out = HashMap::new();
    for d in desired {
        let problems: Vec<Problem> = unique_attributes()
            .filter_map(|attribute| {
                let value = d.user.text(attribute)?;
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
        if !problems.is_empty() {
            out.insert(d.row, problems);
        }
    }
    out
}

/// Control Hub mode: the rows of [`duplicate_problems`] become invalid steps,
/// keyed so that deprovisioning leaves their people alone.
fn refuse_duplicates(
    desired: Vec<Desired>,
    mut duplicates: HashMap<usize, Vec<Problem>>,
    steps: &mut Vec<Step>,
) -> Vec<Desired> {
    let mut kept = Vec::with_capacity(desired.len());
    for d in desired {
        match duplicates.remove(&d.row) {
            None => kept.push(d),
            Some(problems) => steps.push(Step {
                key: d.key.clone(),
                ..Step::invalid(d.row, d.web_ex_id(), problems)
            }),
        }
    }
    kept
}

/// Where a person stands on the site before any half is read.
struct Found {
    /// The site user that is this person's (listing index).
    site: Option<usize>,
    /// Why nothing may be sent for this person, naming the holder.
    conflict: Option<Problem>,
    /// The site users the conflict names.
    holders: Vec<usize>,
}

/// Finds every person on the site and names the conflicts. The stronger
/// finds claim their site user first (key, match key, webExId, email; then
/// row order): a site user found for two people is the first one's, and a
/// conflict for the other.
fn find_all(sync: &Sync, snapshot: &Snapshot, desired: &[Desired]) -> Vec<Found> {
    let candidates: Vec<Option<(usize, FoundBy)>> = desired
        .iter()
        .map(|d| candidate(sync, snapshot, d))
        .collect();
    let mut order: Vec<usize> = (0..desired.len()).collect();
    order.sort_by_key(|&i| (candidates[i].map(|(_, by)| by), desired[i].row));
    let mut found: Vec<Found> = (0..desired.len())
        .map(|_| Found {
            site: None,
            conflict: None,
            holders: Vec::new(),
        })
        .collect();
    let mut claimed: HashMap<usize, usize> = HashMap::new();
    for i in order {
        let d = &desired[i];
        let Some((site, by)) = candidates[i] else {
            continue;
        };
        let holder = &snapshot.users[site].web_ex_id;
        if let Some(&other) = claimed.get(&site) {
            found[i].conflict = Some(conflict(format!(
                "site user {holder} is row {}'s (found by {by:?})",
                desired[other].row
            )));
        } else if let Some(problem) = not_theirs(sync, snapshot, d, site, by) {
            found[i].conflict = Some(problem);
            found[i].holders.push(site);
        } else {
            claimed.insert(site, i);
            found[i].site = Some(site);
            if let Some((problem, holder)) = taken_by_another(snapshot, d, site) {
                found[i].conflict = Some(problem);
                found[i].holders.push(holder);
            }
        }
    }
    found
}

fn conflict(reason: String) -> Problem {
    Problem {
        attribute: None,
        reason,
    }
}

/// The site user a person most likely is: the one the journal ties to their
/// key, else the one their match key names, else their webExId's, else
/// their email's.
fn candidate(sync: &Sync, snapshot: &Snapshot, d: &Desired) -> Option<(usize, FoundBy)> {
    let keyed = sync.mapping.key.is_some();
    let web_ex_id = d.user.text(Attribute::WebExId);
    let email = d.user.text(Attribute::Email);
    let by_match = match sync.mapping.match_key {
        MatchKey::WebExId => web_ex_id.and_then(|w| snapshot.by_web_ex_id(w)),
        MatchKey::Email => email.and_then(|e| snapshot.by_email(e)),
    };
    keyed
        .then(|| snapshot.by_key(&d.key))
        .flatten()
        .map(|s| (s, FoundBy::Key))
        .or(by_match.map(|s| (s, FoundBy::MatchKey)))
        .or(web_ex_id
            .and_then(|w| snapshot.by_web_ex_id(w))
            .map(|s| (s, FoundBy::WebExId)))
        .or(email
            .and_then(|e| snapshot.by_email(e))
            .map(|s| (s, FoundBy::Email)))
}

/// Why the site user found for `d` is not theirs to take, if it is not. The
/// journal ties it to another person's source key; or it was found by a
/// field the mapping does not match on and the sync never took charge of it
/// (another person's account that happens to hold the webExId or email).
fn not_theirs(
    sync: &Sync,
    snapshot: &Snapshot,
    d: &Desired,
    site: usize,
    by: FoundBy,
) -> Option<Problem> {
    let user = &snapshot.users[site];
    let holder = &user.web_ex_id;
    let owner = snapshot.owner(site);
    // A key of an unkeyed run is the user's own webExId or email: no other person's.
    let own_field = |k: &str| {
        k.eq_ignore_ascii_case(holder)
            || user
                .email
                .as_deref()
                .is_some_and(|e| k.eq_ignore_ascii_case(e))
    };
    if sync.mapping.key.is_some()
        && let Some(owner) = owner.filter(|k| !k.eq_ignore_ascii_case(&d.key) && !own_field(k))
    {
        return Some(conflict(format!(
            "site user {holder} holds this person's {} but belongs to source key {owner:?} (journal)",
            field_name(by)
        )));
    }
    let fallback = matches!(by, FoundBy::WebExId | FoundBy::Email);
    if fallback && sync.journal.is_some() && owner.is_none() {
        return Some(conflict(format!(
            "{} {:?} is held by site user {holder}, which the sync never took charge of (the mapping matches on {})",
            field_name(by),
            found_value(d, by),
            match_key_attribute(sync.mapping.match_key).name()
        )));
    }
    None
}

fn field_name(by: FoundBy) -> &'static str {
    match by {
        FoundBy::Key => "key",
        FoundBy::MatchKey => "match key",
        FoundBy::WebExId => "webExId",
        FoundBy::Email => "email",
    }
}

fn found_value(d: &Desired, by: FoundBy) -> &str {
    match by {
        FoundBy::Email => d.user.text(Attribute::Email).unwrap_or(""),
        _ => d.web_ex_id(),
    }
}

/// A webExId or email the person should get that another site user holds:
/// the SetUser would fail (030004/030005).
fn taken_by_another(snapshot: &Snapshot, d: &Desired, site: usize) -> Option<(Problem, usize)> {
    let lookups = [
        (
            Attribute::WebExId,
            d.user
                .text(Attribute::WebExId)
                .and_then(|w| snapshot.by_web_ex_id(w)),
        ),
        (
            Attribute::Email,
            d.user
                .text(Attribute::Email)
                .and_then(|e| snapshot.by_email(e)),
        ),
    ];
    lookups.into_iter().find_map(|(attribute, holder)| {
        let holder = holder.filter(|&h| h != site)?;
        let problem = Problem {
            attribute: Some(attribute.name().into()),
            reason: format!(
                "{}={:?} is held by site user {}",
                attribute.name(),
                d.user.text(attribute).unwrap_or(""),
                snapshot.users[holder].web_ex_id
            ),
        };
        Some((problem, holder))
    })
}

/// The standalone site: the Meetings half holds the whole user. Returns the
/// GetUser calls made.
async fn standalone(
    sync: &Sync,
    snapshot: &Snapshot,
    desired: Vec<Desired>,
    mut duplicates: HashMap<usize, Vec<Problem>>,
    breaker: &Arc<Breaker>,
    steps: &mut Vec<Step>,
) -> Result<usize, SyncError> {
    let found = find_all(sync, snapshot, &desired);
    if validates_someone(sync, snapshot, &desired, &found, &duplicates) {
        sync.read_profile().await?;
    }
    let meetings = Meetings {
        client: sync.client.clone(),
        settings_only: false,
        settings_api: None,
    };
    let to_read: Vec<String> = desired
        .iter()
        .zip(&found)
        .filter(|(d, f)| f.conflict.is_none() && !duplicates.contains_key(&d.row))
        .filter_map(|(d, f)| {
            let summary = &snapshot.users[f.site?];
            let skip = skippable(sync, snapshot, d, summary) || listing_suffices(&d.user);
            (!skip).then(|| summary.web_ex_id.clone())
        })
        .collect();
    let readings = meetings
        .read(to_read, sync.options.concurrency, breaker)
        .await;
    breaker.check()?;
    for (d, f) in desired.into_iter().zip(found) {
        let claims: Vec<String> = f
            .site
            .iter()
            .chain(&f.holders)
            .map(|&s| snapshot.users[s].web_ex_id.to_lowercase())
            .collect();
        let holder = f
            .site
            .map_or(d.web_ex_id(), |s| snapshot.users[s].web_ex_id.as_str());
        let refused = match (duplicates.remove(&d.row), f.conflict) {
            (Some(problems), _) => Some((Action::Invalid, problems)),
            (None, Some(problem)) => Some((Action::Conflict, vec![problem])),
            (None, None) => None,
        };
        if let Some((action, problems)) = refused {
            steps.push(Step {
                key: d.key.clone(),
                claims,
                ..Step::new(action, Some(d.row), holder, problems)
            });
            continue;
        }
        steps.push(person_step(sync, snapshot, &readings, &meetings, d, f.site));
    }
    Ok(readings.len())
}

/// Whether planning validates anyone, and so needs the site profile: every
/// person but those refused (conflicts, duplicates) and those incremental
/// mode does not read again.
fn validates_someone(
    sync: &Sync,
    snapshot: &Snapshot,
    desired: &[Desired],
    found: &[Found],
    duplicates: &HashMap<usize, Vec<Problem>>,
) -> bool {
    desired.iter().zip(found).any(|(d, f)| {
        let refused = f.conflict.is_some() || duplicates.contains_key(&d.row);
        let unchanged = f
            .site
            .is_some_and(|s| skippable(sync, snapshot, d, &snapshot.users[s]));
        !refused && !unchanged
    })
}

/// Incremental mode: the source row is as it was last applied and the
/// listing still agrees, so the user is not read again. A row with a secret
/// under `--push-passwords` is always read: the digest leaves secrets out.
fn skippable(
    sync: &Sync,
    snapshot: &Snapshot,
    d: &Desired,
    summary: &crate::ops::UserSummary,
) -> bool {
    let pushes_secret =
        sync.options.push_passwords && d.user.iter().any(|(k, _)| k.attribute.info().secret);
    !sync.options.full
        && !pushes_secret
        && snapshot
            .known(&d.key)
            .and_then(|p| p.digest.as_deref())
            .is_some_and(|digest| digest == d.digest)
        && listing_agrees(&d.user, summary)
}

/// The step of a person: create, or, for one found on the site, unchanged,
/// link, update, rename or reactivate, judged as the user it makes (the site
/// user's values with the row's); only what differs is sent.
fn person_step(
    sync: &Sync,
    snapshot: &Snapshot,
    readings: &Readings,
    meetings: &Meetings,
    d: Desired,
    site: Option<usize>,
) -> Step {
    let summary = site.map(|s| &snapshot.users[s]);
    let base = Step {
        key: d.key.clone(),
        claims: summary
            .map(|s| s.web_ex_id.to_lowercase())
            .into_iter()
            .collect(),
        ..Step::new(
            Action::Unchanged,
            Some(d.row),
            summary.map_or(d.web_ex_id(), |s| s.web_ex_id.as_str()),
            Vec::new(),
        )
    };
    let current = match summary.map(|s| current_of(sync, snapshot, readings, &d, s)) {
        None => None,
        Some(Ok(current)) => current,
        // Still this person's account: deprovisioning leaves it alone.
        Some(Err(step)) => {
            return Step {
                claims: base.claims,
                ..*step
            };
        }
    };
    let seen = Seen {
        sync,
        desired: &d,
        summary,
        site: current.as_ref(),
        person: None,
        known: sync.journal.is_none() || site.is_some_and(|s| snapshot.owner(s).is_some()),
    };
    match meetings.plan(&seen) {
        Err(problems) => Step {
            action: Action::Invalid,
            problems,
            ..base
        },
        Ok(part) => {
            let mut remember = remembered(snapshot, &d, summary);
            if let Some(Value::Int(id)) = current
                .as_ref()
                .and_then(|c| c.get(&FlatKey::new(Attribute::UserId)))
            {
                remember.user_id = Some(*id);
            }
            Step {
                action: part.action,
                change: part.change,
                before: part.before,
                remember: Some(remember),
                ..base
            }
        }
    }
}

/// What the journal will remember of a person found on the site.
fn remembered(
    snapshot: &Snapshot,
    d: &Desired,
    summary: Option<&crate::ops::UserSummary>,
) -> KnownPerson {
    let web_ex_id = Some(d.web_ex_id())
        .filter(|w| !w.is_empty())
        .or(summary.map(|s| s.web_ex_id.as_str()));
    KnownPerson {
        key: d.key.clone(),
        web_ex_id: web_ex_id.map(str::to_owned),
        email: d
            .user
            .text(Attribute::Email)
            .map(str::to_owned)
            .or(summary.and_then(|s| s.email.clone())),
        user_id: snapshot.known(&d.key).and_then(|p| p.user_id),
        digest: Some(d.digest.clone()),
    }
}

/// The site user's values to diff with: none when incremental mode skips
/// the user, the listing when it tells all the row sets, else its GetUser
/// (whose failure is the user's own).
fn current_of(
    sync: &Sync,
    snapshot: &Snapshot,
    readings: &Readings,
    d: &Desired,
    summary: &crate::ops::UserSummary,
) -> Result<Option<FlatUser>, Box<Step>> {
    if skippable(sync, snapshot, d, summary) {
        return Ok(None);
    }
    if listing_suffices(&d.user) {
        return Ok(Some(listed_user(summary)));
    }
    let unreadable = |e: &dyn std::fmt::Display| {
        Box::new(Step::unreadable(
            Some(d.row),
            &summary.web_ex_id,
            &d.key,
            &e.to_string(),
        ))
    };
    match readings.get(&summary.web_ex_id.to_lowercase()) {
        Some(Ok(Some(Current::Site(user)))) => Ok(Some(user.to_flat())),
        Some(Err(e)) => Err(unreadable(e)),
        _ => Err(unreadable(&"no answer: the run stopped before reading it")),
    }
}

/// The action and the change that bring the site user (`current`) to the
/// row, or every violation of the user it would make. The webExId is a
/// rename (`newWebExId`, case aside: the site ignores case).
pub(super) fn change_of(
    sync: &Sync,
    d: &Desired,
    summary: &crate::ops::UserSummary,
    current: &FlatUser,
) -> Result<(Action, FlatUser), Vec<Problem>> {
    let settable: FlatUser = d
        .user
        .iter()
        .filter(|(k, _)| k.attribute.info().ops.set)
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    let violations = validate::validate_update(&settable, current, sync.person_profile());
    if !violations.is_empty() {
        return Err(problems(violations));
    }
    let mut change = diff(&settable, current, sync.options.push_passwords);
    validate::complete_supported_services(&mut change, current, sync.profile());
    let new_id = d.web_ex_id();
    let renamed = !new_id.is_empty() && !new_id.eq_ignore_ascii_case(&summary.web_ex_id);
    if renamed {
        change.insert(
            FlatKey::new(Attribute::NewWebExId),
            Value::Text(new_id.to_owned()),
        );
    }
    let deactivated = summary.active.as_deref() == Some("DEACTIVATED");
    let wants_inactive = d.user.text(Attribute::Active) == Some("DEACTIVATED");
    let action = if deactivated && !wants_inactive {
        change.insert(active_key(), account_state(true));
        Action::Reactivate
    } else if renamed {
        Action::Rename
    } else if change.is_empty() {
        Action::Unchanged
    } else {
        Action::Update
    };
    Ok((action, change))
}

/// The active site users no step claims, to deactivate; refused as a whole
/// when they are more than the options allow.
fn deprovision(sync: &Sync, snapshot: &Snapshot, steps: &[Step]) -> Result<Vec<Step>, SyncError> {
    let claimed: HashSet<String> = steps.iter().flat_map(|s| s.claims.clone()).collect();
    let leaving = unclaimed(sync, snapshot, &claimed)?;
    Ok(leaving
        .into_iter()
        .map(|i| {
            let s = &snapshot.users[i];
            let key = snapshot
                .owner(i)
                .map_or_else(|| s.web_ex_id.to_lowercase(), str::to_owned);
            let change: FlatUser = [(active_key(), account_state(false))].into_iter().collect();
            let before: FlatUser = s
                .active
                .clone()
                .map(|a| (active_key(), Value::Text(a)))
                .into_iter()
                .collect();
            Step {
                key,
                change,
                before,
                claims: vec![s.web_ex_id.to_lowercase()],
                ..Step::new(Action::Deactivate, None, &s.web_ex_id, Vec::new())
            }
        })
        .collect())
}

/// The active, unprotected site users (listing indexes) whose lower-cased
/// webExId is not `claimed`: whom deprovisioning deactivates, in either mode.
/// Refused as a whole when they are more than `--max-deprovision` of the
/// active users.
pub(super) fn unclaimed(
    sync: &Sync,
    snapshot: &Snapshot,
    claimed: &HashSet<String>,
) -> Result<Vec<usize>, SyncError> {
    let protected = |w: &str| {
        sync.options
            .protected
            .iter()
            .any(|p| p.eq_ignore_ascii_case(w))
    };
    let is_active = |s: &crate::ops::UserSummary| s.active.as_deref() != Some("DEACTIVATED");
    let active = snapshot.users.iter().filter(|s| is_active(s)).count();
    let leaving: Vec<usize> = (0..snapshot.users.len())
        .filter(|&i| {
            let s = &snapshot.users[i];
            is_active(s)
                && !claimed.contains(&s.web_ex_id.to_lowercase())
                && !protected(&s.web_ex_id)
        })
        .collect();
    let share = sync.options.max_deprovision_share;
    if !leaving.is_empty() && leaving.len() as f64 > share * active as f64 {
        return Err(SyncError::TooManyDeactivations {
            planned: leaving.len(),
            active,
            share: share * 100.0,
        });
    }
    Ok(leaving)
}
