//! SCIM Groups on a Meetings site, which has none of its own: groups are kept
//! in the front's SQLite, and the front's configuration maps a group (by its
//! displayName) to Meetings entitlements — session types, privileges,
//! supportedServices. Joining a group grants them; leaving the last group
//! that grants one takes it back.
//!
//! Semantics (README "Groups"):
//! - A group grants booleans set to `true` and items of lists (meetingTypes,
//!   trackingCodes …): several groups can grant them at once, so a member's
//!   grants are the union of its groups' grants. Other values (a time zone, a
//!   text, `false`) cannot be combined and are refused in the configuration.
//! - What membership granted is recorded per user; only that is taken back. A
//!   value the user already had when a group granted it is the site's, not
//!   the group's, and stays when the user leaves.
//! - The configuration names groups by displayName, compared without case
//!   (RFC 7643 §8.7.1: displayName is not caseExact): a rename re-evaluates
//!   the members. A group the configuration does not name is kept and
//!   grants nothing.
//! - Every member's change is validated against the site before anything is
//!   written; one refused member refuses the request, naming each refused
//!   member and why, and nothing changes.
//!
//! Request shapes: Okta's (identity-providers.md §1c: POST, PATCH rename with
//! a value map, `add` with a members array, `remove` with
//! `members[value eq "…"]`) and Entra's (use-scim-to-provision-users-and-groups.md,
//! "Group operations": `Add`/`Remove` with path `members` and a value array,
//! `Replace` of `displayName`, `excludedAttributes=members`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value as Json, json};

use super::error::{ScimError, ScimType};
use super::filter::Filter;
use super::ids::{Grant, GroupEntry};
use super::service::{ListQuery, Service};
use super::user::{LIST, core_path};
use crate::schema::{FlatKey, FlatUser, ScalarType, Value};

/// The core Group schema (RFC 7643 §4.2).
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// The longest displayName accepted, in characters (Okta and Entra group
/// names are far shorter; the bound keeps the store small).
pub const MAX_DISPLAY_NAME: usize = 256;

/// Why a group's entitlements in the configuration were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrantError {
    /// An attribute a group cannot grant, or a value it cannot.
    #[error("group {group:?}: {attribute}: {reason}")]
    Attribute {
        /// The group's displayName.
        group: String,
        /// The attribute, as configured.
        attribute: String,
        /// Why it cannot be granted.
        reason: String,
    },
    /// The group's entry is not a table of attributes.
    #[error("group {group:?}: expected a table of catalogue attributes")]
    NotATable {
        /// The group's displayName.
        group: String,
    },
}

/// What each configured group grants its members, by displayName.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupGrants {
    groups: Vec<(String, FlatUser)>,
}

impl GroupGrants {
    /// `{"Webinar hosts": {"meetingTypes": [218], "privilegeHost": true}}`,
    /// as `[scim.groups."Webinar hosts"]` in wbxprov.toml reads.
    pub fn from_json(groups: &Map<String, Json>) -> Result<Self, GrantError> {
        let mut out = GroupGrants::default();
        for (group, grants) in groups {
            let Json::Object(grants) = grants else {
                return Err(GrantError::NotATable {
                    group: group.clone(),
                });
            };
            let mut flat = FlatUser::new();
            for (name, value) in grants {
                let (key, value) = grant_of(group, name, value)?;
                flat.insert(key, value);
            }
            out.groups.push((group.clone(), flat));
        }
        Ok(out)
    }

    /// Whether no group grants anything.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// What a group of this displayName grants.
    fn of(&self, display_name: &str) -> Option<&FlatUser> {
        self.groups
            .iter()
            .find(|(name, _)| name.to_lowercase() == display_name.to_lowercase())
            .map(|(_, grants)| grants)
    }

    /// What the groups of these displayNames grant together: the union.
    fn union<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> BTreeSet<Grant> {
        names
            .into_iter()
            .filter_map(|n| self.of(n))
            .flat_map(grants_in)
            .collect()
    }
}

/// One configured grant, checked: a settable catalogue attribute that no
/// core SCIM attribute carries, `true` or a list.
fn grant_of(group: &str, name: &str, value: &Json) -> Result<(FlatKey, Value), GrantError> {
    let refuse = |reason: &str| GrantError::Attribute {
        group: group.to_owned(),
        attribute: name.to_owned(),
        reason: reason.to_owned(),
    };
    let single: Map<String, Json> = [(name.to_owned(), value.clone())].into_iter().collect();
    let flat = FlatUser::from_json(&single).map_err(|errors| {
        let reasons: Vec<String> = errors.iter().map(ToString::to_string).collect();
        refuse(&reasons.join("; "))
    })?;
    let (key, value) = flat
        .iter()
        .next()
        .map(|(k, v)| (*k, v.clone()))
        .ok_or_else(|| refuse("no value"))?;
    let info = key.attribute.info();
    if !info.ops.set || info.secret {
        return Err(refuse("SetUser cannot set it (see `wbxprov attrs`)"));
    }
    if let Some(core) = core_path(key.attribute) {
        return Err(refuse(&format!(
            "the identity provider sets it through {core}, not through groups"
        )));
    }
    match &value {
        Value::Bool(true) => Ok((key, value)),
        Value::IntList(items) if !items.is_empty() => Ok((key, value)),
        Value::TextList(items) if !items.is_empty() => Ok((key, value)),
        Value::Bool(false) => Err(refuse(
            "a group grants; `false` would take away what another group grants",
        )),
        _ => Err(refuse(
            "only `true` and lists can be granted: two groups could grant different values",
        )),
    }
}

/// A group's grants as one item each: (`privilegeHost`, `true`), (`meetingTypes`, `218`).
fn grants_in(flat: &FlatUser) -> Vec<Grant> {
    flat.iter()
        .flat_map(|(key, value)| {
            let items: Vec<String> = match value {
                Value::Bool(true) => vec!["true".into()],
                Value::IntList(items) => items.iter().map(ToString::to_string).collect(),
                Value::TextList(items) => items.clone(),
                _ => Vec::new(),
            };
            items.into_iter().map(move |v| (key.to_string(), v))
        })
        .collect()
}

/// A group as a request makes it, before it is saved.
#[derive(Debug, Clone, PartialEq)]
struct Draft {
    display_name: String,
    external_id: Option<String>,
    /// SCIM User ids, in the order they joined.
    members: Vec<String>,
}

impl Draft {
    fn of(entry: &GroupEntry) -> Self {
        Draft {
            display_name: entry.display_name.clone(),
            external_id: entry.external_id.clone(),
            members: entry.members.iter().map(|(id, _)| id.clone()).collect(),
        }
    }

    fn add(&mut self, ids: Vec<String>) {
        for id in ids {
            if !self.members.contains(&id) {
                self.members.push(id);
            }
        }
    }
}

/// One member's entitlement change.
struct Plan {
    user_id: String,
    web_ex_id: String,
    current: FlatUser,
    change: FlatUser,
    granted: Vec<Grant>,
    taken_back: Vec<Grant>,
}

/// The Groups of one SCIM front, their entitlements set on the site through
/// the Users [`Service`].
#[derive(Debug, Default)]
pub struct Groups {
    grants: GroupGrants,
    /// One group change at a time (write): each reads the memberships and
    /// grant records, then writes them; two at once could both grant, or
    /// take back what the other still needs. /Users writes share it (read).
    changing: tokio::sync::RwLock<()>,
}

impl Groups {
    /// Groups whose members get what `grants` says.
    pub fn new(grants: GroupGrants) -> Self {
        Groups {
            grants,
            changing: tokio::sync::RwLock::new(()),
        }
    }

    fn resource(&self, users: &Service, group: &GroupEntry) -> Json {
        let base = users.base_url();
        // value, $ref and type: the sub-attributes of RFC 7643 §8.7.1 (no
        // `display`: scim2-tester finds one the client did not send a change).
        let members: Vec<Json> = group
            .members
            .iter()
            .map(|(id, _)| json!({"value": id, "type": "User", "$ref": format!("{base}/Users/{id}")}))
            .collect();
        let mut out = json!({
            "schemas": [GROUP],
            "id": group.id,
            "displayName": group.display_name,
            "members": members,
            "meta": {
                "resourceType": "Group",
                "created": group.created,
                "lastModified": group.last_modified,
                "location": format!("{base}/Groups/{}", group.id),
            },
        });
        if let Some(e) = &group.external_id {
            out["externalId"] = json!(e);
        }
        out
    }

    fn entry(users: &Service, id: &str) -> Result<GroupEntry, ScimError> {
        users
            .ids()
            .group(id)?
            .ok_or_else(|| ScimError::new(404, None, format!("no Group {id}")))
    }

    /// `GET /Groups/{id}`: the group and its members.
    ///
    /// # Errors
    ///
    /// 404 when there is no such group; a store error as 500.
    pub async fn get(&self, users: &Service, id: &str) -> Result<Json, ScimError> {
        Ok(self.resource(users, &Self::entry(users, id)?))
    }

    /// GET /Groups: every group matching the filter (`displayName eq`,
    /// `members[value eq …]`, `externalId eq` …), a page of them.
    pub async fn list(&self, users: &Service, query: &ListQuery) -> Result<Json, ScimError> {
        let matched: Vec<Json> = users
            .ids()
            .groups()?
            .iter()
            .map(|g| self.resource(users, g))
            .filter(|r| query.filter.as_ref().is_none_or(|f| f.matches(r)))
            .collect();
        let total = matched.len();
        let start = query.start_index.unwrap_or(1).max(1);
        let count = query
            .count
            .unwrap_or(super::schemas::MAX_RESULTS)
            .min(super::schemas::MAX_RESULTS);
        let page: Vec<Json> = matched.into_iter().skip(start - 1).take(count).collect();
        Ok(json!({
            "schemas": [LIST],
            "totalResults": total,
            "itemsPerPage": page.len(),
            "startIndex": start,
            "Resources": page,
        }))
    }

    /// POST /Groups: 201 with the group; its members get what it grants.
    pub async fn create(&self, users: &Service, body: &Json) -> Result<Json, ScimError> {
        let _one_at_a_time = self.changing.write().await;
        let named = body.get("displayName").and_then(Json::as_str);
        let draft = draft_of(users, body, None).map_err(in_group(named.unwrap_or("(new)")))?;
        let saved = self.change(users, None, Some(&draft)).await?;
        self.get(users, &saved).await
    }

    /// PUT /Groups/{id}: the name, externalId and members the body carries;
    /// an externalId or members left out stay (as for Users: a PUT never
    /// takes away what it does not name).
    pub async fn replace(&self, users: &Service, id: &str, body: &Json) -> Result<Json, ScimError> {
        let _one_at_a_time = self.changing.write().await;
        let old = Self::entry(users, id)?;
        let draft = draft_of(users, body, Some(&old)).map_err(in_group(&old.display_name))?;
        self.change(users, Some(&old), Some(&draft)).await?;
        self.get(users, id).await
    }

    /// PATCH /Groups/{id}, in Okta's and Entra's shapes.
    pub async fn patch(&self, users: &Service, id: &str, body: &Json) -> Result<Json, ScimError> {
        let _one_at_a_time = self.changing.write().await;
        let old = Self::entry(users, id)?;
        let mut draft = Draft::of(&old);
        patch_group(users, &mut draft, body).map_err(in_group(&old.display_name))?;
        self.change(users, Some(&old), Some(&draft)).await?;
        self.get(users, id).await
    }

    /// DELETE /Groups/{id}: its members leave it, losing what it granted.
    pub async fn delete(&self, users: &Service, id: &str) -> Result<(), ScimError> {
        let _one_at_a_time = self.changing.write().await;
        let old = Self::entry(users, id)?;
        self.change(users, Some(&old), None).await?;
        Ok(())
    }

    /// Takes back everything `user_id`'s groups granted, as if it left each
    /// (a User about to be deleted): else the deactivated site user would
    /// keep them, and a later POST of its userName reactivates it with
    /// them. Validated first, like any group change; what was the user's
    /// own stays.
    pub async fn take_back_all(&self, users: &Service, user_id: &str) -> Result<(), ScimError> {
        let _one_at_a_time = self.changing.write().await;
        self.take_back_all_held(users, user_id).await
    }

    /// Holds the groups' lock for a /Users write: a user's write reads its
    /// grant records and writes the whole of an entitlement list, as a
    /// group change does, so the two must not interleave (a concurrent
    /// group PATCH and user PUT lost a grant, or the PUT's own value).
    /// Shared: /Users writes still run side by side; a group change waits
    /// for them and they for it.
    pub async fn hold(&self) -> tokio::sync::RwLockReadGuard<'_, ()> {
        self.changing.read().await
    }

    /// [`Groups::take_back_all`] for a user the caller holds the lock for
    /// ([`Groups::hold`]): one user's records only, so a shared hold is
    /// enough against group changes.
    pub async fn take_back_all_held(
        &self,
        users: &Service,
        user_id: &str,
    ) -> Result<(), ScimError> {
        let recorded: BTreeSet<Grant> = users.ids().grants(user_id)?.into_iter().collect();
        if recorded.is_empty() {
            return Ok(());
        }
        let entry = users.live_entry(user_id)?;
        let current = users
            .site_user(&entry.web_ex_id)
            .await?
            .ok_or_else(|| ScimError::not_found(user_id))?;
        let (mut change, granted, taken_back) =
            entitlement_change(&current, &BTreeSet::new(), &recorded);
        if let Some(profile) = users.profile() {
            // A SetUser with meetingTypes states every offered service (seed 003).
            crate::validate::complete_supported_services(&mut change, &current, profile);
        }
        let plan = Plan {
            user_id: user_id.to_owned(),
            web_ex_id: entry.web_ex_id,
            current,
            change,
            granted,
            taken_back,
        };
        let plans = [plan];
        refuse_invalid(users, None, &plans)?;
        apply(users, plans.into()).await
    }

    /// Brings the group from `old` to `new` (None: absent): plans every
    /// affected member's entitlements, validates them all, saves the group,
    /// then sets each member on the site. Answers the group's id.
    async fn change(
        &self,
        users: &Service,
        old: Option<&GroupEntry>,
        new: Option<&Draft>,
    ) -> Result<String, ScimError> {
        let group_id = old.map(|g| g.id.as_str());
        let mut affected: Vec<&str> = old
            .map(|g| g.members.iter().map(|(id, _)| id.as_str()).collect())
            .unwrap_or_default();
        for id in new.iter().flat_map(|d| &d.members) {
            if !affected.contains(&id.as_str()) {
                affected.push(id);
            }
        }
        let mut plans = Vec::new();
        for user_id in affected {
            if let Some(plan) = self.plan(users, user_id, group_id, new).await? {
                plans.push(plan);
            }
        }
        refuse_invalid(users, new.or(old.map(Draft::of).as_ref()), &plans)?;
        let saved = save(users, old, new)?;
        apply(users, plans).await?;
        Ok(saved)
    }

    /// What `user_id` is granted and loses when the group `group_id` becomes
    /// `new`; `None` when nothing changes for it.
    async fn plan(
        &self,
        users: &Service,
        user_id: &str,
        group_id: Option<&str>,
        new: Option<&Draft>,
    ) -> Result<Option<Plan>, ScimError> {
        let ids = users.ids();
        let mut names: Vec<String> = ids
            .group_names_of(user_id)?
            .into_iter()
            .filter(|(id, _)| Some(id.as_str()) != group_id)
            .map(|(_, name)| name)
            .collect();
        if let Some(d) = new.filter(|d| d.members.iter().any(|m| m == user_id)) {
            names.push(d.display_name.clone());
        }
        let wanted = self.grants.union(names.iter().map(String::as_str));
        let recorded: BTreeSet<Grant> = ids.grants(user_id)?.into_iter().collect();
        let to_grant: BTreeSet<Grant> = wanted.difference(&recorded).cloned().collect();
        let to_take: BTreeSet<Grant> = recorded.difference(&wanted).cloned().collect();
        if to_grant.is_empty() && to_take.is_empty() {
            return Ok(None);
        }
        let entry = users.live_entry(user_id)?;
        let current = users
            .site_user(&entry.web_ex_id)
            .await?
            .ok_or_else(|| ScimError::not_found(user_id))?;
        let (mut change, granted, taken_back) = entitlement_change(&current, &to_grant, &to_take);
        if let Some(profile) = users.profile() {
            // A SetUser with meetingTypes states every offered service (seed 003).
            crate::validate::complete_supported_services(&mut change, &current, profile);
        }
        Ok(Some(Plan {
            user_id: user_id.to_owned(),
            web_ex_id: entry.web_ex_id,
            current,
            change,
            granted,
            taken_back,
        }))
    }
}

/// The SetUser that grants `to_grant` and takes back `to_take`, and the
/// grants it really makes (a value the user already has is not the group's)
/// and takes back.
fn entitlement_change(
    current: &FlatUser,
    to_grant: &BTreeSet<Grant>,
    to_take: &BTreeSet<Grant>,
) -> (FlatUser, Vec<Grant>, Vec<Grant>) {
    let mut by_key: BTreeMap<&str, (Vec<&str>, Vec<&str>)> = BTreeMap::new();
    for (k, v) in to_grant {
        by_key.entry(k).or_default().0.push(v);
    }
    for (k, v) in to_take {
        by_key.entry(k).or_default().1.push(v);
    }
    let (mut change, mut granted) = (FlatUser::new(), Vec::new());
    // Taken back from the record whether or not the site still has it.
    let taken_back: Vec<Grant> = to_take.iter().cloned().collect();
    for (name, (grant, take)) in by_key {
        let Ok(key) = name.parse::<FlatKey>() else {
            continue; // a record from a catalogue that no longer has it
        };
        let mut items = current_items(current.get(&key));
        let before = items.clone();
        for v in grant {
            if !items.iter().any(|i| i == v) {
                items.push(v.to_owned());
                granted.push((name.to_owned(), v.to_owned()));
            }
        }
        items.retain(|i| !take.contains(&i.as_str()));
        if items != before {
            change.insert(key, value_of(&key, items));
        }
    }
    (change, granted, taken_back)
}

/// `wanted` (what a /Users PUT or PATCH makes of a user) with what the
/// user's groups granted (`grants`, the record) added back: an identity
/// provider that maps an entitlement sends its profile's value on every
/// update, which knows nothing of group grants, so the two are united as an
/// IdP unites direct and group assignments (README "Groups"). Leaving the
/// group still takes back only what it granted. An attribute `wanted` lacks
/// is untouched by the write, unless `removed_from` (a PATCH's resource
/// before the patch) had it: then the write removes it, and the grants stay.
pub(crate) fn unite_grants(
    wanted: &mut FlatUser,
    grants: &[Grant],
    removed_from: Option<&FlatUser>,
) {
    for (name, item) in grants {
        let Ok(key) = name.parse::<FlatKey>() else {
            continue; // a record from a catalogue that no longer has it
        };
        let removed = removed_from.is_some_and(|before| before.get(&key).is_some());
        if wanted.get(&key).is_none() && !removed {
            continue;
        }
        let mut items = current_items(wanted.get(&key));
        if !items.contains(item) {
            items.push(item.clone());
            wanted.insert(key, value_of(&key, items));
        }
    }
}

/// A boolean or list value as items: `true` is `["true"]`.
fn current_items(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Bool(true)) => vec!["true".into()],
        Some(Value::IntList(items)) => items.iter().map(ToString::to_string).collect(),
        Some(Value::TextList(items)) => items.clone(),
        _ => Vec::new(),
    }
}

fn value_of(key: &FlatKey, items: Vec<String>) -> Value {
    let info = key.attribute.info();
    match (info.value_type.is_list(), info.value_type.scalar()) {
        (false, _) => Value::Bool(!items.is_empty()),
        (true, ScalarType::Int { .. }) => {
            Value::IntList(items.iter().filter_map(|i| i.parse().ok()).collect())
        }
        (true, _) => Value::TextList(items),
    }
}

/// Every member's change validated against the site before anything is
/// written; refused members are named, each with its violations.
fn refuse_invalid(users: &Service, group: Option<&Draft>, plans: &[Plan]) -> Result<(), ScimError> {
    let Some(profile) = users.profile() else {
        return Ok(()); // the client validates each SetUser, if it can
    };
    let refused: Vec<String> = plans
        .iter()
        .filter(|p| !p.change.is_empty())
        .filter_map(|p| {
            let invalid = crate::validate::check_update(&p.change, &p.current, profile).err()?;
            Some(format!("member {} ({invalid})", p.user_id))
        })
        .collect();
    if refused.is_empty() {
        return Ok(());
    }
    let name = group.map_or("(every group of the user)", |g| g.display_name.as_str());
    Err(ScimError::invalid_value(format!(
        "group {name:?}: the site would refuse {} member(s); nothing changed:\n{}",
        refused.len(),
        refused.join("\n")
    )))
}

/// Saves the group as `new` (or deletes it); answers its id.
fn save(
    users: &Service,
    old: Option<&GroupEntry>,
    new: Option<&Draft>,
) -> Result<String, ScimError> {
    let ids = users.ids();
    match (old, new) {
        (Some(g), Some(d)) => {
            ids.save_group(&g.id, &d.display_name, d.external_id.as_deref(), &d.members)?;
            Ok(g.id.clone())
        }
        (None, Some(d)) => Ok(ids
            .insert_group(&d.display_name, d.external_id.as_deref(), &d.members)?
            .id),
        (Some(g), None) => {
            ids.delete_group(&g.id)?;
            Ok(g.id.clone())
        }
        (None, None) => Err(ScimError::new(500, None, "nothing to save")),
    }
}

/// Sets each member's entitlements on the site, recording what was granted
/// and taken back. The group is saved already: a member the site refuses now
/// is named, and the next change of its groups brings it in line.
async fn apply(users: &Service, plans: Vec<Plan>) -> Result<(), ScimError> {
    let mut failed: Vec<ScimError> = Vec::new();
    for plan in plans {
        if !plan.change.is_empty()
            && let Err(e) = users
                .set_over(&plan.web_ex_id, plan.change, &plan.current)
                .await
        {
            failed.push(ScimError {
                detail: format!("member {} ({}): {}", plan.user_id, plan.web_ex_id, e.detail),
                ..e
            });
            continue;
        }
        users
            .ids()
            .record_grants(&plan.user_id, &plan.granted, &plan.taken_back)?;
    }
    let Some(first) = failed.first() else {
        return Ok(());
    };
    let details: Vec<&str> = failed.iter().map(|e| e.detail.as_str()).collect();
    Err(ScimError {
        detail: format!(
            "the group is saved, but {} member(s) were not changed on the site:\n{}",
            failed.len(),
            details.join("\n")
        ),
        ..first.clone()
    })
}

/// A request's error with the group it was about named first, as every
/// failure names what it is about.
fn in_group(name: &str) -> impl Fn(ScimError) -> ScimError {
    // Cut as client values are: a displayName may be long.
    let name: String = name.chars().take(64).collect();
    move |e| ScimError {
        detail: format!("group {name:?}: {}", e.detail),
        ..e
    }
}

/// A value a client sent, cut for an error message (a body may be 1 MiB).
fn shown(value: &Json) -> String {
    let text = value.to_string();
    match text.char_indices().nth(64) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn field<'a>(object: &'a Map<String, Json>, name: &str) -> Option<&'a Json> {
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// A POST or PUT body as a group; PUT keeps what `old` has and the body
/// leaves out (externalId, members).
fn draft_of(users: &Service, body: &Json, old: Option<&GroupEntry>) -> Result<Draft, ScimError> {
    let object = body
        .as_object()
        .ok_or_else(|| ScimError::bad(ScimType::InvalidSyntax, "a Group must be a JSON object"))?;
    let display_name = match field(object, "displayName") {
        Some(v) => display_name_of(v)?,
        None => return Err(ScimError::invalid_value("a Group needs a displayName")),
    };
    let external_id = match field(object, "externalId") {
        Some(Json::String(e)) => Some(e.clone()),
        _ => old.and_then(|g| g.external_id.clone()),
    };
    let members = match field(object, "members") {
        Some(v) if !v.is_null() => member_ids(users, v)?,
        _ => old.map_or_else(Vec::new, |g| Draft::of(g).members),
    };
    let mut draft = Draft {
        display_name,
        external_id,
        members: Vec::new(),
    };
    draft.add(members);
    Ok(draft)
}

fn display_name_of(value: &Json) -> Result<String, ScimError> {
    match value.as_str().map(str::trim) {
        Some(name) if !name.is_empty() && name.chars().count() <= MAX_DISPLAY_NAME => {
            Ok(name.to_owned())
        }
        Some(name) if !name.is_empty() => Err(ScimError::invalid_value(format!(
            "displayName is longer than {MAX_DISPLAY_NAME} characters"
        ))),
        _ => Err(ScimError::invalid_value(
            "displayName must be a non-empty string",
        )),
    }
}

/// The User ids of a members value (`[{"value": id}]`, or one object), each
/// a live User of this front.
fn member_ids(users: &Service, value: &Json) -> Result<Vec<String>, ScimError> {
    let items: Vec<&Json> = match value {
        Json::Array(items) => items.iter().collect(),
        Json::Object(_) => vec![value],
        other => {
            return Err(ScimError::invalid_value(format!(
                "members {}: must be a list of {{\"value\": id}}",
                shown(other)
            )));
        }
    };
    items
        .into_iter()
        .map(|item| {
            let id = item
                .as_object()
                .and_then(|o| field(o, "value"))
                .and_then(Json::as_str)
                .ok_or_else(|| {
                    ScimError::invalid_value(format!(
                        "member {}: no \"value\" with a User id",
                        shown(item)
                    ))
                })?;
            users.live_entry(id).map_err(|_| {
                ScimError::invalid_value(format!(
                    "member {id:.64}: no User with this id (members are Users of this service)"
                ))
            })?;
            Ok(id.to_owned())
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

/// A PatchOp on a group: displayName, externalId, members (plain or
/// `members[value eq "…"]`), with or without a path, op in any case.
fn patch_group(users: &Service, draft: &mut Draft, body: &Json) -> Result<(), ScimError> {
    let ops = body
        .as_object()
        .and_then(|o| field(o, "Operations"))
        .and_then(Json::as_array)
        .ok_or_else(|| ScimError::bad(ScimType::InvalidSyntax, "a PatchOp needs Operations"))?;
    for operation in ops {
        let op = match operation
            .get("op")
            .and_then(Json::as_str)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("add") => Op::Add,
            Some("replace") => Op::Replace,
            Some("remove") => Op::Remove,
            other => {
                return Err(ScimError::bad(
                    ScimType::InvalidSyntax,
                    format!("unknown op {other:?}"),
                ));
            }
        };
        let value = operation.get("value").unwrap_or(&Json::Null);
        match operation.get("path").and_then(Json::as_str) {
            Some(path) => patch_path(users, draft, path, op, value)?,
            None if op == Op::Remove => {
                return Err(ScimError::bad(ScimType::NoTarget, "remove needs a path"));
            }
            // Okta's rename: {"op": "replace", "value": {"id": …, "displayName": …}}.
            None => {
                let Json::Object(map) = value else {
                    return Err(ScimError::bad(
                        ScimType::InvalidPath,
                        "an operation without a path needs an object value",
                    ));
                };
                for (path, v) in map {
                    patch_path(users, draft, path, op, v)?;
                }
            }
        }
    }
    Ok(())
}

fn patch_path(
    users: &Service,
    draft: &mut Draft,
    path: &str,
    op: Op,
    value: &Json,
) -> Result<(), ScimError> {
    let prefix = format!("{GROUP}:");
    let path = match path.get(..prefix.len()) {
        Some(p) if p.eq_ignore_ascii_case(&prefix) => &path[prefix.len()..],
        _ => path,
    };
    let lower = path.to_ascii_lowercase();
    match (lower.as_str(), op) {
        ("displayname", Op::Remove) => Err(ScimError::bad(
            ScimType::Mutability,
            "displayName cannot be removed, only replaced",
        )),
        ("displayname", _) => {
            draft.display_name = display_name_of(value)?;
            Ok(())
        }
        ("externalid", Op::Remove) => {
            draft.external_id = None;
            Ok(())
        }
        ("externalid", _) => match value {
            Json::String(e) => {
                draft.external_id = Some(e.clone());
                Ok(())
            }
            Json::Null => {
                draft.external_id = None;
                Ok(())
            }
            other => Err(ScimError::invalid_value(format!(
                "externalId must be a string, not {}",
                shown(other)
            ))),
        },
        ("members", Op::Add) => {
            draft.add(member_ids(users, value)?);
            Ok(())
        }
        ("members", Op::Replace) => {
            draft.members.clear();
            draft.add(member_ids(users, value)?);
            Ok(())
        }
        // Entra: Remove with path "members" and the members in the value; RFC
        // 7644 §3.5.2.2: without a value, every member.
        ("members", Op::Remove) if value.is_null() => {
            draft.members.clear();
            Ok(())
        }
        ("members", Op::Remove) => {
            let gone = removed_ids(value)?;
            draft.members.retain(|m| !gone.contains(m));
            Ok(())
        }
        (p, Op::Remove) if p.starts_with("members[") => {
            let filter = member_filter(path)?;
            draft
                .members
                .retain(|m| !filter.matches(&json!({"value": m})));
            Ok(())
        }
        // Read-only (Okta's rename carries the id): ignored, as RFC 7643 §2.2 allows.
        ("id" | "meta" | "schemas", _) => Ok(()),
        _ => Err(ScimError::bad(
            ScimType::InvalidPath,
            format!("{path:.100}: a Group has displayName, externalId and members"),
        )),
    }
}

/// The ids a remove names (unknown ids are simply not members).
fn removed_ids(value: &Json) -> Result<Vec<String>, ScimError> {
    let items: Vec<&Json> = match value {
        Json::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    items
        .into_iter()
        .map(|i| {
            i.get("value")
                .and_then(Json::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    ScimError::invalid_value(format!("member {}: no \"value\"", shown(i)))
                })
        })
        .collect()
}

/// `members[value eq "…"]`: the filter inside the brackets.
fn member_filter(path: &str) -> Result<Filter, ScimError> {
    let open = path.find('[').unwrap_or(0);
    let inner = path
        .rfind(']')
        .filter(|&close| close > open && path[close + 1..].trim().is_empty())
        .map(|close| &path[open + 1..close])
        .ok_or_else(|| ScimError::bad(ScimType::InvalidPath, format!("{path:.100}: unclosed [")))?;
    Ok(inner.parse::<Filter>()?)
}

/// The Group resource type (RFC 7643 §6).
pub fn resource_type() -> Json {
    json!({
        "schemas": [super::schemas::RESOURCE_TYPE],
        "id": "Group",
        "name": "Group",
        "endpoint": "/Groups",
        "description": "A group kept by wbxprov; configured groups grant Meetings entitlements",
        "schema": GROUP,
        "meta": {"resourceType": "ResourceType", "location": "/ResourceTypes/Group"},
    })
}

/// The core Group schema (RFC 7643 §8.7.1), as this front keeps it.
pub fn schema() -> Json {
    let attr = |name: &str, kind: &str, description: &str, extra: Json| {
        let mut out = json!({
            "name": name, "type": kind, "multiValued": false, "description": description,
            "required": false, "caseExact": false, "mutability": "readWrite",
            "returned": "default", "uniqueness": "none",
        });
        if let (Some(o), Json::Object(extra)) = (out.as_object_mut(), extra) {
            o.extend(extra);
        }
        out
    };
    let members = attr(
        "members",
        "complex",
        "The Users in the group",
        json!({"multiValued": true, "subAttributes": [
            attr("value", "string", "The id of a User", json!({"mutability": "immutable"})),
            attr("$ref", "reference", "The User's URI",
                json!({"mutability": "immutable", "referenceTypes": ["User"]})),
            attr("type", "string", "Always User: groups do not nest",
                json!({"mutability": "immutable", "canonicalValues": ["User"]})),
        ]}),
    );
    json!({
        "schemas": [super::schemas::SCHEMA],
        "id": GROUP,
        "name": "Group",
        "description": "Group",
        "attributes": [
            attr("displayName", "string", "The group's name; wbxprov.toml maps names to entitlements",
                json!({"required": true})),
            members,
        ],
        "meta": {"resourceType": "Schema", "location": format!("/Schemas/{GROUP}")},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(json: Json) -> Result<GroupGrants, GrantError> {
        GroupGrants::from_json(json.as_object().unwrap())
    }

    /// A write keeps what groups granted in the attributes it sets or
    /// removes, and leaves alone those it does not name: a grant must not
    /// turn into a SetUser of an attribute the write never touched (it
    /// would replace the user's own list with the grants alone).
    #[test]
    fn a_write_keeps_grants_only_in_the_attributes_it_touches() {
        let key = |n: &str| n.parse::<FlatKey>().unwrap();
        let grants: Vec<Grant> = vec![
            ("meetingTypes".into(), "216".into()),
            ("privilegeRecordingEditor".into(), "true".into()),
            ("supportedServicesEventCenter".into(), "true".into()),
        ];
        let mut before = FlatUser::new();
        before.insert(key("meetingTypes"), Value::IntList(vec![214, 216]));
        before.insert(key("privilegeRecordingEditor"), Value::Bool(true));
        let mut wanted = FlatUser::new();
        wanted.insert(key("meetingTypes"), Value::IntList(vec![214]));
        // PATCH: meetingTypes set, privilegeRecordingEditor removed, supportedServicesEventCenter untouched.
        let mut patched = wanted.clone();
        unite_grants(&mut patched, &grants, Some(&before));
        assert_eq!(
            patched.get(&key("meetingTypes")),
            Some(&Value::IntList(vec![214, 216]))
        );
        assert_eq!(
            patched.get(&key("privilegeRecordingEditor")),
            Some(&Value::Bool(true))
        );
        assert_eq!(patched.get(&key("supportedServicesEventCenter")), None);
        // PUT: what it leaves out is untouched.
        let mut put = wanted.clone();
        unite_grants(&mut put, &grants, None);
        assert_eq!(
            put.get(&key("meetingTypes")),
            Some(&Value::IntList(vec![214, 216]))
        );
        assert_eq!(put.get(&key("privilegeRecordingEditor")), None);
    }

    #[test]
    fn a_group_grants_true_booleans_and_lists_only() {
        let ok = grants(json!({"Webinar hosts": {
            "meetingTypes": [218], "privilegeHost": true, "supportedServicesEventCenter": true
        }}))
        .unwrap();
        let union = ok.union(["webinar HOSTS"]);
        assert!(union.contains(&("meetingTypes".into(), "218".into())));
        assert!(union.contains(&("privilegeHost".into(), "true".into())));
        assert_eq!(union.len(), 3);
        for (body, why) in [
            (json!({"g": {"privilegeHost": false}}), "a group grants"),
            (json!({"g": {"timeZoneID": 4}}), "only `true` and lists"),
            (json!({"g": {"firstName": "x"}}), "through name.givenName"),
            (json!({"g": {"password": "x"}}), "SetUser cannot set it"),
            (
                json!({"g": {"noSuchThing": true}}),
                "not a catalogue attribute",
            ),
        ] {
            let refused = grants(body.clone()).unwrap_err().to_string();
            assert!(refused.contains(why), "{body}: {refused}");
            assert!(refused.starts_with("group \"g\": "), "{refused}");
        }
    }

    #[test]
    fn only_what_groups_granted_is_taken_back() {
        let key = |n: &str| n.parse::<FlatKey>().unwrap();
        let mut current = FlatUser::new();
        current.insert(key("meetingTypes"), Value::IntList(vec![214]));
        current.insert(key("privilegeHost"), Value::Bool(true));
        let grant: BTreeSet<Grant> = [
            ("meetingTypes".into(), "214".into()),
            ("meetingTypes".into(), "218".into()),
            ("privilegeHost".into(), "true".into()),
        ]
        .into();
        let (change, granted, _) = entitlement_change(&current, &grant, &BTreeSet::new());
        assert_eq!(
            change.get(&key("meetingTypes")),
            Some(&Value::IntList(vec![214, 218]))
        );
        assert_eq!(change.len(), 1, "privilegeHost was the user's already");
        assert_eq!(granted, vec![("meetingTypes".into(), "218".into())]);

        current.insert(key("meetingTypes"), Value::IntList(vec![214, 218]));
        let take: BTreeSet<Grant> = [("meetingTypes".into(), "218".into())].into();
        let (change, _, taken) = entitlement_change(&current, &BTreeSet::new(), &take);
        assert_eq!(
            change.get(&key("meetingTypes")),
            Some(&Value::IntList(vec![214]))
        );
        assert_eq!(taken.len(), 1);
        let host: BTreeSet<Grant> = [("privilegeHost".into(), "true".into())].into();
        let (change, _, _) = entitlement_change(&current, &BTreeSet::new(), &host);
        assert_eq!(change.get(&key("privilegeHost")), Some(&Value::Bool(false)));
    }
}
