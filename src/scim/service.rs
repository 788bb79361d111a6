//! The SCIM operations on Users, run against a Meetings site through the
//! client: every change is validated against the site profile before any
//! call, and every failure becomes a SCIM error naming the user, the
//! attribute and the reason.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

pub use super::backend::ListQuery;
pub use super::error::{ScimError, ScimType};
use super::filter::{CompareOp, Filter};
use super::groups::unite_grants;
use super::ids::{Entry, IdStore, IndexNarrowing, IndexOp, IndexedField, StoreError};
use super::patch;
use super::schemas::MAX_RESULTS;
use super::translate::{self, Kept, TranslateConfig};
use super::user::{CORE, LIST, core_path, from_scim, to_scim};
use crate::client::{Client, Error as ClientError, ErrorKind};
use crate::ops::{LstsummaryUser, PasswordCriteria, UserSummary};
use crate::schema::{Attribute, FlatKey, FlatUser, ScalarType, Value};
use crate::xml::decode::ServiceErrorKind;

impl From<StoreError> for ScimError {
    fn from(e: StoreError) -> Self {
        ScimError::new(500, None, e.to_string())
    }
}

/// A client failure as the SCIM client should see it.
fn from_client(e: ClientError) -> ScimError {
    let detail = e.to_string();
    let (status, scim_type) = match &e.kind {
        ErrorKind::Invalid(_) | ErrorKind::Encode(_) => (400, Some(ScimType::InvalidValue)),
        ErrorKind::Service(s) => match s.kind() {
            ServiceErrorKind::UserNotFound | ServiceErrorKind::NoRecords => (404, None),
            ServiceErrorKind::WebExIdExists | ServiceErrorKind::EmailExists => {
                (409, Some(ScimType::Uniqueness))
            }
            ServiceErrorKind::RateLimited => {
                let mut err = ScimError::new(429, None, detail);
                err.retry_after = Some(s.retry_after().unwrap_or_default().as_secs().max(1));
                return err;
            }
            // The site refuses wbxprov's own admin: nothing the SCIM client can fix.
            ServiceErrorKind::WrongCredentials
            | ServiceErrorKind::AccessDenied
            | ServiceErrorKind::InvalidSessionTicket
            | ServiceErrorKind::AuthenticationFailed
            | ServiceErrorKind::SiteSuspended => (502, None),
            // Retried by the client already; the SCIM client may try later.
            ServiceErrorKind::ServiceUnavailable => (503, None),
            ServiceErrorKind::LicenceLimit
            | ServiceErrorKind::FeatureNotEnabled
            | ServiceErrorKind::Other => (400, Some(ScimType::InvalidValue)),
        },
        ErrorKind::Transport(_) => (503, None),
        ErrorKind::Http(_) | ErrorKind::Malformed(_) => (502, None),
    };
    ScimError::new(status, scim_type, detail)
}

/// Attributes a user list (LstsummaryUser) carries: filters on these alone
/// need no GetUser per user.
const SUMMARY_PATHS: [&str; 9] = [
    "id",
    "externalid",
    "username",
    "name",
    "displayname",
    "emails",
    "active",
    "meta",
    "schemas",
];

fn filter_paths<'a>(f: &'a Filter, out: &mut Vec<&'a str>) {
    match f {
        Filter::Compare { path, .. } | Filter::Present { path } => out.push(path),
        Filter::And(a, b) | Filter::Or(a, b) => {
            filter_paths(a, out);
            filter_paths(b, out);
        }
        Filter::Not(f) => filter_paths(f, out),
        Filter::ValuePath { attribute, .. } => out.push(attribute),
    }
}

/// Whether a user list carries the SCIM attribute `path` (`name.givenName`,
/// `emails[type eq "work"]`, or in the core schema's URN form).
fn summary_carries(path: &str) -> bool {
    let path = match path.get(..CORE.len()) {
        Some(urn) if urn.eq_ignore_ascii_case(CORE) => path[CORE.len()..].trim_start_matches(':'),
        _ => path,
    };
    let top = path
        .split(['.', '['])
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase();
    SUMMARY_PATHS.contains(&top.as_str())
}

/// The attributes a filter names that a user list lacks (each once, in
/// filter order): empty when the list alone can answer it.
fn beyond_summary(f: &Filter) -> Vec<&str> {
    let mut paths = Vec::new();
    filter_paths(f, &mut paths);
    let mut beyond: Vec<&str> = Vec::new();
    for path in paths.into_iter().filter(|p| !summary_carries(p)) {
        if !beyond.iter().any(|b| b.eq_ignore_ascii_case(path)) {
            beyond.push(path);
        }
    }
    beyond
}

/// How many GetUsers one list request may make to filter on what the user
/// list lacks (README "The SCIM 2.0 front", Filters). Beyond it the request
/// is refused rather than fanned out over the site: at the client's
/// concurrency of GetUsers a thousand reads already take seconds, and a
/// large site would take minutes and the site's rate limit with them. No
/// Webex document sets the figure: it is wbxprov's choice.
pub const DEFAULT_PER_USER_READ_CAP: usize = 1_000;

/// 400 `tooMany` for a filter that would read more users than the cap
/// allows, naming the attributes that need the reads and what would do.
/// RFC 7644 §3.12 (Table 9): `tooMany` is "the specified filter yields many
/// more results than the server is willing to calculate or process".
fn too_many_reads(beyond: &[&str], candidates: usize, cap: usize) -> ScimError {
    ScimError::bad(
        ScimType::TooMany,
        format!(
            "the filter on {} needs a GetUser per user and would read {candidates} users, \
             more than the {cap} a request may read; filter only on userName, name, emails, \
             active or externalId, or narrow it with `and` and an eq/sw/co/ew of userName, \
             emails.value, name.givenName or name.familyName",
            if beyond.is_empty() {
                "its key".to_owned()
            } else {
                beyond.join(", ")
            }
        ),
    )
}

/// Whether a list projected to `attributes` shows only what a user list
/// carries: then its page needs no GetUser. An empty `attributes` is the
/// whole resource.
fn summary_answers(attributes: &[String]) -> bool {
    !attributes.is_empty() && attributes.iter().all(|a| summary_carries(a))
}

/// `attr eq "v"` conjuncts of a filter: keys that narrow a list to a few users.
fn equalities<'a>(f: &'a Filter, out: &mut Vec<(&'a str, &'a str)>) {
    match f {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: Json::String(v),
        } => out.push((path, v)),
        Filter::And(a, b) => {
            equalities(a, out);
            equalities(b, out);
        }
        Filter::ValuePath {
            attribute,
            sub: Some(sub),
            ..
        } if attribute.eq_ignore_ascii_case("emails") => {
            if let Filter::Compare {
                path,
                op: CompareOp::Eq,
                value: Json::String(v),
            } = sub.as_ref()
                && path.eq_ignore_ascii_case("value")
            {
                out.push(("emails.value", v));
            }
        }
        _ => {}
    }
}

/// The narrowing of the index a filter allows: a comparison (`eq`, `sw`,
/// `co`, `ew` with a string) of an indexed field among its `and` conjuncts.
/// It selects every user the filter could match (and maybe more: the filter
/// still runs over them), except where it is the whole filter
/// ([`index_pages`]).
fn index_narrowing(f: &Filter) -> Option<IndexNarrowing> {
    match f {
        Filter::Compare {
            path,
            op,
            value: Json::String(v),
        } => {
            let op = match op {
                CompareOp::Eq => IndexOp::Eq,
                CompareOp::Sw => IndexOp::StartsWith,
                CompareOp::Co => IndexOp::Contains,
                CompareOp::Ew => IndexOp::EndsWith,
                _ => return None,
            };
            Some(IndexNarrowing::Compare(indexed_field(path)?, op, v.clone()))
        }
        Filter::And(a, b) => index_narrowing(a).or_else(|| index_narrowing(b)),
        _ => None,
    }
}

/// The indexed field a filter path names, bare or in the core schema's URN
/// form (`emails` compares by its value, as `scim::filter` does).
fn indexed_field(path: &str) -> Option<IndexedField> {
    let bare = match path.get(..CORE.len()) {
        Some(urn) if urn.eq_ignore_ascii_case(CORE) => path[CORE.len()..].trim_start_matches(':'),
        _ => path,
    };
    match bare.to_ascii_lowercase().as_str() {
        "username" => Some(IndexedField::UserName),
        "emails" | "emails.value" => Some(IndexedField::Email),
        "name.givenname" => Some(IndexedField::GivenName),
        "name.familyname" => Some(IndexedField::FamilyName),
        _ => None,
    }
}

/// Whether the index alone answers a list with `filter`, counted and paged
/// in SQLite: no filter, or one `eq`/`sw`/`co`/`ew` comparison of
/// `userName`, `emails`, `name.givenName` or `name.familyName` with a string
/// (SQLite compares the stored lowercased forms as the filter compares,
/// without case). `userName eq` and `emails.value eq` go to the site
/// instead: one GetUser or a LstsummaryUser by email, fresh.
fn index_pages(filter: Option<&Filter>) -> Option<IndexNarrowing> {
    match filter {
        None => Some(IndexNarrowing::All),
        Some(f @ Filter::Compare { .. }) => index_narrowing(f).filter(|n| {
            !matches!(
                n,
                IndexNarrowing::Compare(
                    IndexedField::UserName | IndexedField::Email,
                    IndexOp::Eq,
                    _
                )
            )
        }),
        Some(_) => None,
    }
}

/// How long the index of the site's users answers before the next list
/// rebuilds it from LstsummaryUser: users changed on the site other than
/// through this front (Control Hub, another tool) show in lists within it.
/// The front's own writes update the index at once. wbxprov's choice: no
/// document says how often a site's users change elsewhere.
pub const DEFAULT_INDEX_MAX_AGE: Duration = Duration::from_secs(300);

/// What a user list would say of the site user `user` (after a write).
fn listed_summary(user: &FlatUser) -> Option<UserSummary> {
    let text = |a: Attribute| match user.get(&FlatKey::new(a)) {
        Some(Value::Text(t)) => Some(t.clone()),
        _ => None,
    };
    Some(UserSummary {
        web_ex_id: user.web_ex_id()?.to_owned(),
        first_name: text(Attribute::FirstName),
        last_name: text(Attribute::LastName),
        email: text(Attribute::Email),
        registration_date: text(Attribute::RegistrationDate),
        active: text(Attribute::Active),
        time_zone_id: None,
    })
}

/// A random password meeting the site's criteria, for a POST without one:
/// CreateUser needs a password on sites that are not single sign-on.
fn generated_password(criteria: Option<&PasswordCriteria>) -> String {
    const SETS: [&[u8]; 4] = [
        b"ABCDEFGHJKLMNPQRSTUVWXYZ",
        b"abcdefghijkmnopqrstuvwxyz",
        b"23456789",
        b"!#%+-=?@_",
    ];
    let min = criteria
        .and_then(|c| c.min_length)
        .unwrap_or(0)
        .clamp(24, 60) as usize;
    let mut out = Vec::with_capacity(min);
    while out.len() < min {
        let set = SETS[out.len() % SETS.len()];
        let c = set[(crate::client::random_u64() % set.len() as u64) as usize];
        out.push(c);
    }
    String::from_utf8(out).expect("ASCII")
}

/// A user a list matched: its id entry, the site user as the filter saw it
/// (the user list's view, or the full user), and the full user when read.
struct Matched {
    entry: Entry,
    view: FlatUser,
    full: Option<FlatUser>,
}

/// The SCIM Users service of one Meetings site.
pub struct Service {
    client: Arc<Client>,
    ids: Arc<IdStore>,
    /// `http://host:port/scim/v2`, for `meta.location`.
    base_url: String,
    password_criteria: Option<PasswordCriteria>,
    translate: TranslateConfig,
    /// GetUsers one list request may make to filter (see
    /// [`DEFAULT_PER_USER_READ_CAP`]).
    per_user_read_cap: usize,
    /// When the index of the site's users was last built from the site, and
    /// whether a rebuild runs (shared with the background rebuild).
    index: Arc<std::sync::Mutex<IndexState>>,
    /// The first build, which lists wait on (there is no index to answer
    /// from yet): one at a time.
    first_build: tokio::sync::Mutex<()>,
    index_max_age: Duration,
}

/// The index's refresh state.
#[derive(Debug, Default)]
struct IndexState {
    /// How old the index was at an instant: (the instant, its age then). A
    /// build of this front: when its listing began, zero; an index found in
    /// the state file: when it was found, the age the file records.
    built: Option<(Instant, Duration)>,
    /// A rebuild runs: no second one starts.
    rebuilding: bool,
}

/// What a list finds of the index.
enum Freshness {
    /// Younger than `index_max_age`, or being rebuilt: answer from it.
    Fresh,
    /// Past its age: answer from it, and rebuild it in the background.
    Stale,
    /// Never built by this front: build it first.
    Missing,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// `client` should validate against the site's profile
    /// ([`crate::client::ClientBuilder::validate_with`]): then a change the
    /// site would refuse is answered 400 before any call.
    pub fn new(client: Arc<Client>, ids: IdStore, base_url: impl Into<String>) -> Self {
        Service {
            client,
            ids: Arc::new(ids),
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            password_criteria: None,
            translate: TranslateConfig::default(),
            per_user_read_cap: DEFAULT_PER_USER_READ_CAP,
            index: Arc::default(),
            first_build: tokio::sync::Mutex::new(()),
            index_max_age: DEFAULT_INDEX_MAX_AGE,
        }
    }

    /// How long the index of the site's users answers lists before it is
    /// rebuilt, in the background (default [`DEFAULT_INDEX_MAX_AGE`]; zero:
    /// every list starts a rebuild, unless one runs).
    pub fn index_max_age(mut self, max_age: Duration) -> Self {
        self.index_max_age = max_age;
        self
    }

    /// At most `cap` GetUsers per list request for a filter on attributes the
    /// user list lacks (default [`DEFAULT_PER_USER_READ_CAP`]); a filter that
    /// would read more is 400 `tooMany`.
    pub fn per_user_read_cap(mut self, cap: usize) -> Self {
        self.per_user_read_cap = cap;
        self
    }

    /// How identity providers' phones, time zones and language tags are read
    /// (default region, the site's language).
    pub fn translations(mut self, config: TranslateConfig) -> Self {
        self.translate = config;
        self
    }

    /// The user a SCIM body describes, in the site's vocabulary, its
    /// externalId, and what wbxprov keeps of it.
    fn read_body(&self, body: &Json) -> Result<(FlatUser, Option<String>, Kept), ScimError> {
        let (mut flat, external_id) = from_scim(body)?;
        let kept = translate::inbound(body, &mut flat, &self.translate)?;
        Ok((flat, external_id, kept))
    }

    /// The store of SCIM ids, shared with the groups of the same front.
    pub fn ids(&self) -> &Arc<IdStore> {
        &self.ids
    }

    /// `http://host:port/scim/v2`: where the resources are.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The site profile the client validates against, if any.
    pub fn profile(&self) -> Option<&crate::site::SiteProfile> {
        self.client.profile()
    }

    /// Sets `change` on the site user `web_ex_id`, whose values are now
    /// `current`: validated as the user it makes, then SetUser.
    pub(crate) async fn set_over(
        &self,
        web_ex_id: &str,
        change: FlatUser,
        current: &FlatUser,
    ) -> Result<(), ScimError> {
        self.client
            .set_user_over(web_ex_id, change, current)
            .await
            .map(|_| ())
            .map_err(from_client)
    }

    /// The site's password criteria, met by passwords wbxprov makes up.
    pub fn password_criteria(mut self, criteria: Option<PasswordCriteria>) -> Self {
        self.password_criteria = criteria;
        self
    }

    fn resource(&self, entry: &Entry, user: &FlatUser) -> Json {
        let location = format!("{}/Users/{}", self.base_url, entry.id);
        let mut out = to_scim(user, &entry.id, entry.external_id.as_deref(), &location);
        translate::outbound(&mut out, user, &Kept::from_text(entry.kept.as_deref()));
        // A displayName a client set wins over the names; removed, it is gone.
        match entry.display_name.as_deref() {
            Some("") => {
                if let Some(o) = out.as_object_mut() {
                    o.remove("displayName");
                }
            }
            Some(d) => out["displayName"] = json!(d),
            None => {}
        }
        let created = match user.get(&FlatKey::new(Attribute::RegistrationDate)) {
            Some(Value::Text(t)) => rfc3339_of(t),
            _ => None,
        };
        if let Some(c) = &created {
            out["meta"]["created"] = json!(c);
        }
        if let Some(m) = entry.last_modified.as_ref().or(created.as_ref()) {
            out["meta"]["lastModified"] = json!(m);
        }
        out
    }

    /// GetUser, `None` when the site has no such user.
    pub(crate) async fn site_user(&self, web_ex_id: &str) -> Result<Option<FlatUser>, ScimError> {
        match self.client.get_user(web_ex_id).await {
            Ok(user) => Ok(Some(user.to_flat())),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(from_client(e)),
        }
    }

    pub(crate) fn live_entry(&self, id: &str) -> Result<Entry, ScimError> {
        self.ids
            .by_id(id)?
            .filter(|e| !e.deleted)
            .ok_or_else(|| ScimError::not_found(id))
    }

    /// `GET /Users/{id}`: the site user the id stands for, read with GetUser.
    ///
    /// # Errors
    ///
    /// 404 when the id is unknown or deleted; the site call's failure otherwise.
    pub async fn get(&self, id: &str) -> Result<Json, ScimError> {
        let entry = self.live_entry(id)?;
        let user = self
            .site_user(&entry.web_ex_id)
            .await?
            .ok_or_else(|| ScimError::not_found(id))?;
        Ok(self.resource(&entry, &user))
    }

    /// The Webex IDs a list starts from, in a stable order, and their
    /// summaries when a user list supplied them.
    async fn candidates(
        &self,
        filter: Option<&Filter>,
    ) -> Result<Vec<(String, Option<UserSummary>)>, ScimError> {
        let mut keys = Vec::new();
        if let Some(f) = filter {
            equalities(f, &mut keys);
        }
        for (path, value) in keys {
            match path.to_ascii_lowercase().as_str() {
                "username" => return Ok(vec![(value.to_owned(), None)]),
                "id" => {
                    let found = self.ids.by_id(value)?.filter(|e| !e.deleted);
                    return Ok(found.map(|e| (e.web_ex_id, None)).into_iter().collect());
                }
                "externalid" => {
                    let found = self.ids.by_external_id(value)?;
                    return Ok(found.into_iter().map(|e| (e.web_ex_id, None)).collect());
                }
                "emails.value" => {
                    let query = LstsummaryUser {
                        email: Some(value.to_owned()),
                        ..LstsummaryUser::default()
                    };
                    return self.summaries(&query).await;
                }
                _ => {}
            }
        }
        let narrowing = filter
            .and_then(index_narrowing)
            .unwrap_or(IndexNarrowing::All);
        self.ensure_index().await?;
        let indexed = self.ids.indexed(&narrowing)?;
        Ok(indexed
            .into_iter()
            .map(|u| (u.web_ex_id.clone(), Some(u)))
            .collect())
    }

    /// Makes sure the index of the site's users can answer: built from the
    /// site's user list (LstsummaryUser, paged by the client) when this
    /// front never built it; rebuilt in the background when older than
    /// `index_max_age`, the list answering from the index it has meanwhile
    /// (issue 21: no request waits on a whole-site listing once there is an
    /// index).
    async fn ensure_index(&self) -> Result<(), ScimError> {
        match self.freshness() {
            Freshness::Fresh => Ok(()),
            Freshness::Stale => {
                self.rebuild_in_background();
                Ok(())
            }
            Freshness::Missing => {
                let _one_at_a_time = self.first_build.lock().await;
                if !matches!(self.freshness(), Freshness::Missing) {
                    return Ok(()); // built while this list waited
                }
                // Built by an earlier run on the same state: it answers, and
                // is rebuilt in the background once past its age.
                if let Some(age) = self.ids.index_age()? {
                    self.index.lock().unwrap_or_else(|p| p.into_inner()).built =
                        Some((Instant::now(), age));
                    return Box::pin(self.ensure_index()).await;
                }
                rebuild_index(&self.client, &self.ids, &self.index).await
            }
        }
    }

    fn freshness(&self) -> Freshness {
        let state = self.index.lock().unwrap_or_else(|p| p.into_inner());
        match state.built {
            None => Freshness::Missing,
            Some(_) if state.rebuilding => Freshness::Fresh,
            Some((at, then)) if then + at.elapsed() < self.index_max_age => Freshness::Fresh,
            Some(_) => Freshness::Stale,
        }
    }

    /// Starts a rebuild on its own task, unless one runs. A failure is
    /// logged; the old index answers on and the next list tries again.
    fn rebuild_in_background(&self) {
        {
            let mut state = self.index.lock().unwrap_or_else(|p| p.into_inner());
            if state.rebuilding {
                return;
            }
            state.rebuilding = true;
        }
        let (client, ids, index) = (self.client.clone(), self.ids.clone(), self.index.clone());
        let rebuild = async move {
            if let Err(e) = rebuild_index(&client, &ids, &index).await {
                tracing::warn!(
                    "the index of the site's users was not rebuilt (the old one answers): {}",
                    e.detail
                );
            }
        };
        use tracing::Instrument;
        // Its own span: the rebuild is no request's (its site calls log under it).
        tokio::spawn(rebuild.instrument(tracing::info_span!("index_rebuild")));
    }

    /// Keeps the index in step with the front's own write of `user`.
    fn index_written(&self, user: &FlatUser, renamed_from: Option<&str>) -> Result<(), ScimError> {
        if let Some(listed) = listed_summary(user) {
            self.ids.index_user(&listed, renamed_from)?;
        }
        Ok(())
    }

    /// A page answered from the index alone: its count and its users.
    async fn indexed_page(
        &self,
        narrowing: &IndexNarrowing,
        start: usize,
        count: usize,
    ) -> Result<(usize, Vec<Matched>), ScimError> {
        self.ensure_index().await?;
        let (total, listed) = self.ids.indexed_page(narrowing, start - 1, count)?;
        let names: Vec<&str> = listed.iter().map(|u| u.web_ex_id.as_str()).collect();
        let entries = self.ids.entries_for(&names)?;
        let page = listed
            .iter()
            .filter_map(|u| {
                let entry = entries.get(&u.web_ex_id.to_lowercase())?;
                Some(Matched {
                    entry: entry.clone(),
                    view: summary_user(u),
                    full: None,
                })
            })
            .collect();
        Ok((total, page))
    }

    async fn summaries(
        &self,
        query: &LstsummaryUser,
    ) -> Result<Vec<(String, Option<UserSummary>)>, ScimError> {
        let mut users = list_site(&self.client, query).await?;
        // Stable across pages and calls, whatever order the site lists in.
        users.sort_by_cached_key(|u| u.web_ex_id.to_lowercase());
        Ok(users
            .into_iter()
            .map(|u| (u.web_ex_id.clone(), Some(u)))
            .collect())
    }

    /// Full users (GetUser each, at the client's concurrency), in order;
    /// users gone meanwhile are left out.
    async fn full_users(&self, web_ex_ids: &[String]) -> Result<Vec<FlatUser>, ScimError> {
        let found = futures_util::future::join_all(web_ex_ids.iter().map(|w| self.site_user(w)))
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        Ok(found.into_iter().flatten().collect())
    }

    /// One page of the users `query` matches. The users come from the index
    /// of the site's users (built from LstsummaryUser when missing or older
    /// than `index_max_age`: no site call otherwise), unless the filter names
    /// a key (`userName`, `id`, `externalId` eq); no filter or one `userName`
    /// `sw`/`co`/`ew` is counted and paged in SQLite. A filter on attributes
    /// the list lacks reads a GetUser per candidate, at most
    /// `per_user_read_cap` (else 400 `tooMany`); otherwise a GetUser per user
    /// of the page, none when `query.attributes` asks only for what the list
    /// carries (`SUMMARY_PATHS`).
    pub async fn list(&self, query: &ListQuery) -> Result<Json, ScimError> {
        let filter = query.filter.as_ref();
        let start = query.start_index.unwrap_or(1).max(1);
        let count = query.count.unwrap_or(MAX_RESULTS).min(MAX_RESULTS);
        let (total, page) = match index_pages(filter) {
            Some(narrowing) => self.indexed_page(&narrowing, start, count).await?,
            None => {
                let matched = self.matching(filter).await?;
                let total = matched.len();
                (
                    total,
                    matched.into_iter().skip(start - 1).take(count).collect(),
                )
            }
        };
        let resources = self
            .page_resources(page, summary_answers(&query.attributes))
            .await?;
        Ok(json!({
            "schemas": [LIST],
            "totalResults": total,
            "itemsPerPage": resources.len(),
            "startIndex": start,
            "Resources": resources,
        }))
    }

    /// The users `filter` matches, in a stable order.
    async fn matching(&self, filter: Option<&Filter>) -> Result<Vec<Matched>, ScimError> {
        let candidates = self.candidates(filter).await?;
        // Filter on the user list when it carries every attribute the filter
        // names; otherwise on full users (GetUser each).
        let beyond = filter.map(beyond_summary).unwrap_or_default();
        let by_summary = beyond.is_empty() && candidates.iter().all(|(_, s)| s.is_some());
        if !by_summary && candidates.len() > self.per_user_read_cap {
            return Err(too_many_reads(
                &beyond,
                candidates.len(),
                self.per_user_read_cap,
            ));
        }
        let users: Vec<(FlatUser, Option<FlatUser>)> = if by_summary {
            candidates
                .iter()
                .filter_map(|(_, s)| s.as_ref().map(|s| (summary_user(s), None)))
                .collect()
        } else {
            let ids: Vec<String> = candidates.into_iter().map(|(w, _)| w).collect();
            self.full_users(&ids)
                .await?
                .into_iter()
                .map(|u| (u.clone(), Some(u)))
                .collect()
        };
        let names: Vec<&str> = users.iter().filter_map(|(u, _)| u.web_ex_id()).collect();
        let entries = self.ids.entries_for(&names)?;
        let mut matched = Vec::new();
        for (view, full) in users {
            // Users deleted through SCIM have no entry: they are not listed.
            let Some(entry) = view
                .web_ex_id()
                .and_then(|w| entries.get(&w.to_lowercase()))
            else {
                continue;
            };
            if filter.is_none_or(|f| f.matches(&self.resource(entry, &view))) {
                matched.push(Matched {
                    entry: entry.clone(),
                    view,
                    full,
                });
            }
        }
        Ok(matched)
    }

    /// The page's resources: from the full user where read already, from the
    /// list's view when `summary_enough`, else read now (GetUser each, users
    /// gone meanwhile left out).
    async fn page_resources(
        &self,
        page: Vec<Matched>,
        summary_enough: bool,
    ) -> Result<Vec<Json>, ScimError> {
        let missing: Vec<String> = page
            .iter()
            .filter(|m| m.full.is_none() && !summary_enough)
            .map(|m| m.entry.web_ex_id.clone())
            .collect();
        let mut fetched: HashMap<String, FlatUser> = self
            .full_users(&missing)
            .await?
            .into_iter()
            .filter_map(|u| Some((u.web_ex_id()?.to_lowercase(), u)))
            .collect();
        Ok(page
            .into_iter()
            .filter_map(|m| {
                let user = match m.full {
                    Some(full) => full,
                    None if summary_enough => m.view,
                    None => fetched.remove(&m.entry.web_ex_id.to_lowercase())?,
                };
                Some(self.resource(&m.entry, &user))
            })
            .collect())
    }

    /// POST /Users: 201 with the user, 409 when the userName is taken.
    pub async fn create(&self, body: &Json) -> Result<Json, ScimError> {
        let (mut wanted, external_id, kept) = self.read_body(body)?;
        let web_ex_id = wanted
            .web_ex_id()
            .ok_or_else(|| ScimError::invalid_value("userName is required"))?
            .to_owned();
        // Only a user deleted through SCIM is read first (the id store says
        // so without a call): any other taken userName is CreateUser's own
        // refusal (030004, README "Service errors"), one call instead of two.
        if self.ids.is_deleted(&web_ex_id)?
            && let Some(existing) = self.site_user(&web_ex_id).await?
        {
            // Deleted through SCIM (deactivated on the site): created again,
            // it is reactivated with what the body says, under a new id.
            let site_id = existing.web_ex_id().unwrap_or(&web_ex_id).to_owned();
            let before = self.scim_view(&existing)?;
            if wanted.get(&FlatKey::new(Attribute::Active)).is_none() {
                wanted.insert(
                    FlatKey::new(Attribute::Active),
                    Value::Text("ACTIVATED".into()),
                );
            }
            let now = self
                .apply(&site_id, &existing, &before, &wanted, false)
                .await?;
            let web_ex_id = now.web_ex_id().unwrap_or(&site_id);
            let entry =
                self.ids
                    .insert(web_ex_id, external_id.as_deref(), display_name_of(body))?;
            self.ids.set_kept(&entry.id, kept.to_text().as_deref())?;
            self.index_written(&now, None)?;
            return self.answer(&entry.id, &now);
        }
        if wanted.get(&FlatKey::new(Attribute::Password)).is_none() {
            wanted.insert(
                FlatKey::new(Attribute::Password),
                Value::Secret(generated_password(self.password_criteria.as_ref()).into()),
            );
        }
        let deactivated = wanted.get(&FlatKey::new(Attribute::Active))
            == Some(&Value::Text("DEACTIVATED".into()));
        if deactivated {
            // CreateUser makes active users; DelUser deactivates after.
            wanted.remove(&FlatKey::new(Attribute::Active));
        }
        self.client
            .create_user(wanted)
            .await
            .map_err(|e| taken_or(e, &web_ex_id))?;
        if deactivated {
            self.deactivate(&web_ex_id).await?;
        }
        let entry = self
            .ids
            .insert(&web_ex_id, external_id.as_deref(), display_name_of(body))?;
        self.ids.set_kept(&entry.id, kept.to_text().as_deref())?;
        // Read, not built: the site fills in what the body left out
        // (registrationDate → meta.created, userId, its defaults).
        let user = self
            .site_user(&web_ex_id)
            .await?
            .ok_or_else(|| ScimError::not_found(&entry.id))?;
        self.index_written(&user, None)?;
        self.answer(&entry.id, &user)
    }

    /// The catalogue attributes the SCIM view of a site user carries.
    fn scim_view(&self, user: &FlatUser) -> Result<FlatUser, ScimError> {
        Ok(from_scim(&to_scim(user, "", None, ""))?.0)
    }

    /// PUT /Users/{id}: sets every attribute the body carries. Site
    /// attributes it leaves out stay as they are: a Meetings user has
    /// settings no identity provider manages (PIN, personal room, privileges
    /// …), and an externalId left out is kept. What wbxprov keeps for the
    /// user (middleName, nickName, enterprise attributes …) is replaced, as
    /// RFC 7644 §3.5.1 says: left out or `null`, it is cleared. A body without userName is refused: RFC 7643 §4.1.1
    /// makes it REQUIRED, and a PUT is the whole resource.
    pub async fn replace(&self, id: &str, body: &Json) -> Result<Json, ScimError> {
        let entry = self.live_entry(id)?;
        let (wanted, external_id, kept) = self.read_body(body)?;
        if wanted.web_ex_id().is_none() {
            return Err(ScimError::invalid_value(format!(
                "{}: a PUT must carry userName (RFC 7643 §4.1.1)",
                entry.web_ex_id
            )));
        }
        let kept = kept.replacing(&Kept::from_text(entry.kept.as_deref()));
        let current = self
            .site_user(&entry.web_ex_id)
            .await?
            .ok_or_else(|| ScimError::not_found(id))?;
        let before = self.scim_view(&current)?;
        let mut wanted = wanted;
        unite_grants(&mut wanted, &self.ids.grants(&entry.id)?, None);
        let now = self
            .apply(&entry.web_ex_id, &current, &before, &wanted, false)
            .await?;
        // A displayName or externalId the body leaves out stays (identity
        // providers leave them out of updates); a displayName sent as null is
        // removed (RFC 7643 §2.5: null is unassigned).
        let nulled = body.as_object().is_some_and(|o| {
            o.iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("displayName") && v.is_null())
        });
        let display_name = match nulled {
            true => Some(""),
            false => display_name_of(body).or(entry.display_name.as_deref()),
        };
        let external_id = external_id.or(entry.external_id.clone());
        self.ids.set_kept(&entry.id, kept.to_text().as_deref())?;
        self.after_change(&entry, &now, external_id.as_deref(), display_name)
            .await
    }

    /// PATCH /Users/{id} (add, replace, remove, in any case and shape).
    pub async fn patch(&self, id: &str, body: &Json) -> Result<Json, ScimError> {
        let entry = self.live_entry(id)?;
        let current = self
            .site_user(&entry.web_ex_id)
            .await?
            .ok_or_else(|| ScimError::not_found(id))?;
        let mut resource = self.resource(&entry, &current);
        let shown_name = display_name_of(&resource).map(str::to_owned);
        let before = self.read_body(&resource)?.0;
        patch::apply(&mut resource, body)?;
        // What is kept is what the patched resource holds.
        let (mut wanted, external_id, kept) = self.read_body(&resource)?;
        unite_grants(&mut wanted, &self.ids.grants(&entry.id)?, Some(&before));
        if wanted.web_ex_id().is_none() {
            return Err(ScimError::new(
                400,
                Some(ScimType::Mutability),
                format!("{}: userName cannot be removed", entry.web_ex_id),
            ));
        }
        let now = self
            .apply(&entry.web_ex_id, &current, &before, &wanted, true)
            .await?;
        self.ids.set_kept(&entry.id, kept.to_text().as_deref())?;
        let display_name = match display_name_of(&resource) {
            // Still what the names make: nothing of its own to keep.
            Some(d) if entry.display_name.is_none() && Some(d) == shown_name.as_deref() => None,
            Some(d) => Some(d),
            None => Some(""),
        };
        self.after_change(&entry, &now, external_id.as_deref(), display_name)
            .await
    }

    /// Records the change in the id store and answers the user as it is now
    /// (`now`, the merged state): no read after the write.
    async fn after_change(
        &self,
        entry: &Entry,
        now: &FlatUser,
        external_id: Option<&str>,
        display_name: Option<&str>,
    ) -> Result<Json, ScimError> {
        let renamed = now.web_ex_id().filter(|w| *w != entry.web_ex_id);
        if let Some(web_ex_id) = renamed {
            self.ids.rename(&entry.id, web_ex_id)?;
        }
        self.index_written(now, renamed.map(|_| entry.web_ex_id.as_str()))?;
        self.ids
            .record_change(&entry.id, external_id, display_name)?;
        self.answer(&entry.id, now)
    }

    /// The resource of SCIM id `id` whose site user is `user`, the entry
    /// read again from the id store (local: no site call).
    fn answer(&self, id: &str, user: &FlatUser) -> Result<Json, ScimError> {
        let entry = self.live_entry(id)?;
        Ok(self.resource(&entry, user))
    }

    /// Brings the site user from `before` to `wanted` (both as the SCIM view
    /// sees them): reactivate first, then SetUser with what differs, then
    /// deactivate. With `removals`, attributes `wanted` lacks are cleared.
    /// Answers the site user afterwards: `current` (its GetUser) with what the
    /// site acknowledged merged in ([`merged`]).
    async fn apply(
        &self,
        web_ex_id: &str,
        current: &FlatUser,
        before: &FlatUser,
        wanted: &FlatUser,
        removals: bool,
    ) -> Result<FlatUser, ScimError> {
        let mut change: FlatUser = wanted
            .iter()
            .filter(|(k, v)| before.get(k) != Some(*v))
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        if removals {
            for (key, value) in before.iter() {
                if wanted.get(key).is_some() {
                    continue;
                }
                let enumerated = matches!(
                    key.attribute.info().value_type.scalar(),
                    ScalarType::Enum { .. }
                );
                let cleared = match value {
                    // A language, a time zone, an account state: always one of their values.
                    Value::Text(_) if !enumerated => Value::Text(String::new()),
                    Value::TextList(_) => Value::TextList(Vec::new()),
                    Value::IntList(_) => Value::IntList(Vec::new()),
                    _ => {
                        return Err(ScimError::new(
                            400,
                            Some(ScimType::Mutability),
                            format!(
                                "{web_ex_id}: {} ({key}) cannot be removed, only set to another value",
                                core_path(key.attribute).unwrap_or_else(|| key.to_string())
                            ),
                        ));
                    }
                };
                change.insert(*key, cleared);
            }
        }
        let active = change.remove(&FlatKey::new(Attribute::Active));
        let mut now = web_ex_id.to_owned();
        if let Some(Value::Text(new_id)) = change.remove(&FlatKey::new(Attribute::WebExId))
            && !new_id.eq_ignore_ascii_case(web_ex_id)
        {
            change.insert(
                FlatKey::new(Attribute::NewWebExId),
                Value::Text(new_id.clone()),
            );
            now = new_id;
        }
        // The site recomputes what is kept in step with a written attribute:
        // then the answer is read, not merged.
        let read_after = change.iter().any(|(k, _)| kept_in_step(k.attribute));
        let mut after = current.clone();
        if active == Some(Value::Text("ACTIVATED".into())) {
            self.client
                .reactivate(web_ex_id)
                .await
                .map_err(from_client)?;
        }
        if !change.is_empty() {
            after = merged(after, &change);
            // Validated as the user it makes: `before` is the site user now.
            self.client
                .set_user_over(web_ex_id, change, before)
                .await
                .map_err(from_client)?;
        }
        if active == Some(Value::Text("DEACTIVATED".into())) {
            self.deactivate(&now).await?;
        }
        if let Some(state) = active {
            after.insert(FlatKey::new(Attribute::Active), state);
        }
        if read_after {
            return self
                .site_user(&now)
                .await?
                .ok_or_else(|| ScimError::not_found(&now));
        }
        Ok(after)
    }

    async fn deactivate(&self, web_ex_id: &str) -> Result<(), ScimError> {
        let answer = self
            .client
            .deactivate(&[web_ex_id.to_owned()])
            .await
            .map_err(from_client)?;
        match answer.users.iter().find(|u| !u.is_success()) {
            Some(u) => Err(ScimError::new(
                400,
                None,
                format!(
                    "DelUser {}: the site did not deactivate the user",
                    u.web_ex_id
                ),
            )),
            None => Ok(()),
        }
    }

    /// DELETE /Users/{id}: the site user is deactivated (the XML API cannot
    /// delete) and the SCIM id answers 404 from then on.
    pub async fn delete(&self, id: &str) -> Result<(), ScimError> {
        let entry = self.live_entry(id)?;
        if let Some(user) = self.site_user(&entry.web_ex_id).await?
            && user.get(&FlatKey::new(Attribute::Active))
                != Some(&Value::Text("DEACTIVATED".into()))
        {
            self.deactivate(&entry.web_ex_id).await?;
        }
        self.ids.mark_deleted(&entry.id)?;
        // Its SCIM id is gone: so are its memberships (the site user is
        // deactivated; what groups granted stays with it, as any setting).
        self.ids.forget_groups_of(&entry.id)?;
        Ok(())
    }
}

/// Lists the site's users (every page) into a new index table and swaps
/// it in; the store is not locked while the site is paged. Marks the index
/// built as of when the listing began (a change the listing missed is
/// picked up by the next rebuild).
async fn rebuild_index(
    client: &Client,
    ids: &IdStore,
    index: &std::sync::Mutex<IndexState>,
) -> Result<(), ScimError> {
    let began = Instant::now();
    let listed = match ids.begin_rebuild() {
        Ok(rebuild) => match list_site(client, &LstsummaryUser::default()).await {
            Ok(users) => ids.finish_rebuild(rebuild, &users).map_err(ScimError::from),
            Err(e) => {
                ids.abandon_rebuild(rebuild);
                Err(e)
            }
        },
        Err(e) => Err(e.into()),
    };
    // Whatever happened, no rebuild runs any more: the next stale list may start one.
    let mut state = index.lock().unwrap_or_else(|p| p.into_inner());
    state.rebuilding = false;
    if listed.is_ok() {
        state.built = Some((began, Duration::ZERO));
    }
    listed
}

/// The site users `query` lists (every page), none when it matches none.
async fn list_site(client: &Client, query: &LstsummaryUser) -> Result<Vec<UserSummary>, ScimError> {
    match client.list_all_users(query).await {
        Ok((users, _)) => Ok(users),
        Err(e) if e.is_not_found() => Ok(Vec::new()),
        Err(e) => Err(from_client(e)),
    }
}

/// The site user `current` once the site has taken `change` (a SetUser it
/// acknowledged): what a GetUser would answer next, so PATCH and PUT answer
/// without reading again. It holds because the site stores the values a
/// SetUser sends as sent: the simulator does (src/sim/mod.rs `set`), and no
/// live sample or document shows the XML API rewriting a value it accepted —
/// there is none to cite either way; `tests/scim_calls.rs` checks each
/// answer against a following GET. What a SetUser cannot change (userId,
/// registrationDate → meta.created) stays as read. Attributes GetUser does
/// not return (password, PINs) are left out, and `newWebExId` becomes the
/// `webExId` (the rename).
fn merged(mut current: FlatUser, change: &FlatUser) -> FlatUser {
    for (key, value) in change.iter() {
        if key.attribute == Attribute::NewWebExId {
            current.insert(FlatKey::new(Attribute::WebExId), value.clone());
        } else if key.attribute.info().ops.get {
            current.insert(*key, value.clone());
        }
    }
    current
}

/// Whether the site keeps the attribute in step with others (catalogue flag
/// `coupled`: a time zone's ID, name and DST name; a language and its ID), so
/// a SetUser of it may change another as GetUser shows it: [`merged`] cannot
/// know how (the live site's rule is not documented; the simulator stores each
/// as sent), and the answer is read back instead.
fn kept_in_step(attribute: Attribute) -> bool {
    attribute.info().coupled
}

/// A refused CreateUser: 409 naming the userName when the Webex ID is taken
/// (030004), otherwise as any client failure.
fn taken_or(e: ClientError, web_ex_id: &str) -> ScimError {
    let taken =
        matches!(&e.kind, ErrorKind::Service(s) if s.kind() == ServiceErrorKind::WebExIdExists);
    if taken {
        return ScimError::new(
            409,
            Some(ScimType::Uniqueness),
            format!("userName {web_ex_id}: a user with this Webex ID already exists"),
        );
    }
    from_client(e)
}

/// The displayName a body or resource carries.
fn display_name_of(json: &Json) -> Option<&str> {
    json.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("displayName"))
        .and_then(|(_, v)| v.as_str())
}

/// `MM/DD/YYYY HH:MM:SS` (the site's registrationDate) as RFC 3339.
fn rfc3339_of(date: &str) -> Option<String> {
    let (day, time) = date.trim().split_once(' ')?;
    let mut parts = day.split('/');
    let (m, d, y) = (parts.next()?, parts.next()?, parts.next()?);
    let ok = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !(ok(m, 2) && ok(d, 2) && ok(y, 4) && time.len() == 8) {
        return None;
    }
    Some(format!("{y}-{m}-{d}T{time}Z"))
}

/// The attributes a user list gives, as a site user.
fn summary_user(s: &UserSummary) -> FlatUser {
    let mut flat = FlatUser::new();
    let mut put = |a: Attribute, v: &Option<String>| {
        if let Some(v) = v {
            flat.insert(FlatKey::new(a), Value::Text(v.clone()));
        }
    };
    put(Attribute::WebExId, &Some(s.web_ex_id.clone()));
    put(Attribute::FirstName, &s.first_name);
    put(Attribute::LastName, &s.last_name);
    put(Attribute::Email, &s.email);
    put(Attribute::Active, &s.active);
    // meta.created, as GetUser's registrationDate gives it.
    put(Attribute::RegistrationDate, &s.registration_date);
    flat
}
