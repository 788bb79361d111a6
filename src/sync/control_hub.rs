//! Control-Hub-managed sites: each user in three halves. The person (names,
//! email, title, phones, externalId, active) is the Webex identity's
//! ([`Identity`], a [`Half`] over its SCIM API); with a licences client, the
//! site's Meetings licence comes next (`site_licence.rs`: a person is a host
//! only while holding it); the Meetings settings (privileges, session types,
//! personal room, tspAccount …) go to SetUser last (the Meetings half,
//! settings only), and only to people who host once the licence half is
//! done. The XML API never gets an attribute the identity owns: those the
//! identity API cannot take either (password, PIN) are refused by the
//! validator, with the reason.

use std::sync::Arc;

use super::breaker::Breaker;
use super::half::{
    BoxFuture, Current, Half, HalfError, Meetings, Part, Readings, Seen, Written, gather,
};
use super::planner::{Desired, problems};
use super::site_licence::SiteLicenceHalf;
use super::snapshot::Snapshot;
use super::{
    Action, IdentityStep, KnownPerson, Problem, Step, Sync, SyncError, account_state, active_key,
};
use crate::identity::{IdentityClient, IdentityError, Person, patch_ops};
use crate::schema::{Attribute, FlatKey, FlatUser, Value};
use crate::scim::user::display_name;
use crate::validate::control_hub::{split, validate_split, validate_split_over};

/// The Webex identity: people found by userName (their email), created,
/// PATCHed, (de)activated.
pub(super) struct Identity {
    pub client: Arc<IdentityClient>,
}

impl Half for Identity {
    fn name(&self) -> &'static str {
        "identity"
    }

    fn read<'a>(
        &'a self,
        names: Vec<String>,
        concurrency: usize,
        breaker: &'a Arc<Breaker>,
    ) -> BoxFuture<'a, Readings> {
        let client = self.client.clone();
        Box::pin(gather(names, concurrency, breaker, move |email| {
            let client = client.clone();
            async move {
                client
                    .find(&email)
                    .await
                    .map(|p| p.map(|p| Current::Person(Box::new(p))))
                    .map_err(HalfError::Identity)
            }
        }))
    }

    fn plan(&self, seen: &Seen<'_>) -> Result<Part, Vec<Problem>> {
        Ok(person_part(seen.desired, seen.person, seen.known))
    }

    fn writes(&self, step: &Step) -> bool {
        step.identity.as_ref().is_some_and(IdentityStep::writes)
    }

    fn write<'a>(&'a self, step: &'a Step) -> BoxFuture<'a, Result<Written, HalfError>> {
        Box::pin(async move {
            let person = step
                .identity
                .as_ref()
                .expect("writes() checked the person's half");
            write_person(&self.client, step, person)
                .await
                .map(|()| Written::default())
                .map_err(HalfError::Identity)
        })
    }
}

/// The person's half of a step.
async fn write_person(
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
            tracking_id: None,
        });
    };
    let only_active =
        person.change.len() == 1 && person.external_id.is_none() && person.display_name.is_none();
    if only_active && let Some(Value::Text(state)) = person.change.get(&active_key()) {
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

/// The halves of a Control Hub user, in the order they are written.
struct Halves {
    identity: Identity,
    licence: Option<SiteLicenceHalf>,
    settings: Meetings,
}

/// The licence half of a run: the site's licence found in the organisation's
/// list (by siteUrl), with its units left.
pub(super) async fn licence_half(
    sync: &Sync,
) -> Result<Option<(SiteLicenceHalf, Option<u64>)>, SyncError> {
    let Some(licences) = &sync.licences else {
        return Ok(None);
    };
    let found = licences
        .client
        .site_licence(&licences.site_url)
        .await
        .map_err(|e| SyncError::Licences(Box::new(e)))?;
    let Some(licence) = found else {
        return Err(SyncError::NoSiteLicence {
            site_url: licences.site_url.clone(),
        });
    };
    let half = SiteLicenceHalf {
        client: licences.client.clone(),
        licence_id: licence.id.clone(),
        site_url: crate::rest::licences::site_key(&licences.site_url),
        on_deprovision: sync.mapping.licence_on_deprovision,
    };
    Ok(Some((half, licence.free_units())))
}

/// Planning in Control Hub mode: people matched by email (their userName).
pub(super) struct People<'a> {
    pub sync: &'a Sync,
    pub identity: Arc<IdentityClient>,
    pub snapshot: &'a Snapshot,
    pub breaker: &'a Arc<Breaker>,
}

impl People<'_> {
    /// Every desired person's step, and the deactivation of the people the
    /// source lacks; the reading calls made.
    pub async fn plan(
        &self,
        desired: Vec<Desired>,
        steps: &mut Vec<Step>,
    ) -> Result<usize, SyncError> {
        let options = &self.sync.options;
        let leaving = self.leaving(&desired, steps)?;
        let mut emails: Vec<String> = desired.iter().map(|d| d.key.clone()).collect();
        emails.extend(leaving.iter().cloned());
        let (licence, free) = licence_half(self.sync).await?.unzip();
        let halves = Halves {
            identity: Identity {
                client: self.identity.clone(),
            },
            licence,
            settings: Meetings {
                client: self.sync.client.clone(),
                settings_only: true,
                settings_api: self.sync.settings.clone(),
            },
        };
        let people = halves
            .identity
            .read(emails, options.concurrency, self.breaker)
            .await;
        self.breaker.check()?;
        let matched: Vec<String> = desired
            .iter()
            .filter_map(|d| self.site_user(&d.key).map(str::to_owned))
            .collect();
        let current = halves
            .settings
            .read(matched, options.concurrency, self.breaker)
            .await;
        self.breaker.check()?;
        let reads = people.len() + current.len();
        for d in desired {
            steps.push(self.person_step(&halves, d, &people, &current));
        }
        for email in leaving {
            let mut step = self.leaving_step(&email, &people);
            if step.identity.is_some() {
                step.licence = halves.licence.as_ref().map(SiteLicenceHalf::leaving);
            }
            steps.push(step);
        }
        // Before any write: tracking codes the site does not define, and
        // more people to license than units left.
        if let Some(api) = &self.sync.settings {
            api.check_plan(steps).await?;
        }
        super::licences::check_site(steps, free.flatten())?;
        Ok(reads)
    }

    fn site_user(&self, email: &str) -> Option<&str> {
        let i = self.snapshot.by_email(email)?;
        Some(&self.snapshot.users[i].web_ex_id)
    }

    /// The emails of the active site users no desired person (nor refused
    /// row) claims: the people to deactivate, within the deprovisioning guard.
    fn leaving(&self, desired: &[Desired], steps: &[Step]) -> Result<Vec<String>, SyncError> {
        if !self.sync.options.deprovision {
            return Ok(Vec::new());
        }
        // People are matched by email: a person claims the site user of theirs.
        let claimed: std::collections::HashSet<String> = desired
            .iter()
            .map(|d| d.key.as_str())
            .chain(steps.iter().map(|s| s.key.as_str()))
            .filter_map(|email| self.site_user(email))
            .map(str::to_lowercase)
            .collect();
        let leaving = super::planner::unclaimed(self.sync, self.snapshot, &claimed)?;
        Ok(leaving
            .into_iter()
            .filter_map(|i| self.snapshot.users[i].email.as_ref())
            .map(|e| e.to_lowercase())
            .collect())
    }

    fn person_step(
        &self,
        halves: &Halves,
        d: Desired,
        people: &Readings,
        current: &Readings,
    ) -> Step {
        let profile = self.sync.profile();
        // The site user as it is, when readable: the change is judged with it.
        let site_user = self
            .site_user(&d.key)
            .map(|w| current.get(&w.to_lowercase()));
        let site_flat = match site_user {
            Some(Some(Ok(Some(Current::Site(u))))) => Some(u.to_flat()),
            _ => None,
        };
        let violations = match &site_flat {
            Some(now) => validate_split_over(&d.user, now, profile),
            None => validate_split(&d.user, profile),
        };
        if !violations.is_empty() {
            return Step::invalid(d.row, &d.key, problems(violations));
        }
        // What the organisation and the site hold now; a user either cannot
        // tell is this user's failure alone.
        let person = match people.get(&d.key) {
            Some(Ok(Some(Current::Person(p)))) => Some(p.as_ref()),
            Some(Err(e)) => return Step::unreadable(Some(d.row), &d.key, &d.key, e),
            _ => None,
        };
        if let Some(Some(Err(e))) = site_user {
            return Step::unreadable(Some(d.row), &d.key, &d.key, e);
        }
        let seen = Seen {
            sync: self.sync,
            desired: &d,
            summary: self
                .snapshot
                .by_email(&d.key)
                .map(|i| &self.snapshot.users[i]),
            site: site_flat.as_ref(),
            person,
            known: self.sync.journal.is_none() || self.snapshot.known(&d.key).is_some(),
        };
        // The person first, then the licence, then the Meetings settings.
        let licence = match &halves.licence {
            Some(half) => half.plan(&seen).map(|p| p.licence),
            None => Ok(None),
        };
        let parts = (
            halves.identity.plan(&seen),
            licence,
            halves.settings.plan(&seen),
        );
        let (person_part, licence, mut settings) = match parts {
            (Ok(p), Ok(l), Ok(s)) => (p, l, s),
            (Err(problems), _, _) | (_, Err(problems), _) | (_, _, Err(problems)) => {
                return Step::invalid(d.row, &d.key, problems);
            }
        };
        // SetUser reaches only a site user: one who holds the licence after
        // the licence half (sim::licences answers 030001 otherwise).
        if licence.as_ref().is_some_and(|l| !l.hosts_after()) {
            settings = Part::default();
        }
        let web_ex_id = person
            .map(|p| p.user_name().to_owned())
            .or_else(|| self.site_user(&d.key).map(str::to_owned))
            .unwrap_or_else(|| d.key.clone());
        let mut step = self.compose(d, web_ex_id, person_part, settings);
        if licence.as_ref().is_some_and(|l| l.writes()) && step.action == Action::Unchanged {
            step.action = Action::Update;
        }
        step.licence = licence;
        step
    }

    /// A person's step from its two parts: the person's action, unless only
    /// the settings change.
    fn compose(&self, d: Desired, web_ex_id: String, person: Part, settings: Part) -> Step {
        let action = match person.action {
            Action::Unchanged if !settings.change.is_empty() => Action::Update,
            a => a,
        };
        Step {
            remember: Some(KnownPerson {
                key: d.key.clone(),
                web_ex_id: Some(web_ex_id.clone()),
                email: Some(d.key.clone()),
                user_id: None,
                // Control Hub mode reads every person: no digest to skip by.
                digest: None,
            }),
            web_ex_id,
            row: Some(d.row),
            action,
            change: settings.change,
            before: settings.before,
            problems: Vec::new(),
            licence: None,
            identity: Some(IdentityStep {
                action: person.action,
                person_id: person.person_id,
                change: person.change,
                display_name: person.display_name,
                external_id: person.external_id,
            }),
            claims: self
                .site_user(&d.key)
                .map(str::to_lowercase)
                .into_iter()
                .collect(),
            key: d.key,
            settings_routed: self.sync.settings.is_some(),
        }
    }

    /// The deactivation of a person the source lacks.
    fn leaving_step(&self, email: &str, people: &Readings) -> Step {
        let site_user = self.site_user(email).unwrap_or(email).to_owned();
        let p = match people.get(email) {
            Some(Ok(Some(Current::Person(p)))) => p,
            Some(Err(e)) => return Step::unreadable(None, &site_user, email, e),
            _ => {
                return Step {
                    key: email.to_owned(),
                    ..Step::new(
                        Action::Invalid,
                        None,
                        &site_user,
                        vec![Problem {
                            attribute: Some("email".into()),
                            reason: format!(
                                "{email}: a site user with no person in the organisation; not deactivated"
                            ),
                        }],
                    )
                };
            }
        };
        let change: FlatUser = [(active_key(), account_state(false))].into_iter().collect();
        Step {
            key: email.to_owned(),
            claims: vec![site_user.to_lowercase()],
            identity: Some(IdentityStep {
                action: Action::Deactivate,
                person_id: p.id.clone(),
                display_name: None,
                external_id: None,
                change,
            }),
            ..Step::new(Action::Deactivate, None, p.user_name(), Vec::new())
        }
    }
}

/// The person's part of a desired user: create, or what differs.
fn person_part(d: &Desired, person: Option<&Person>, known: bool) -> Part {
    let (person_part, _) = split(&d.user);
    let person_part = &person_part;
    let wants_active = d.user.text(Attribute::Active) != Some("DEACTIVATED");
    let Some(p) = person else {
        let mut attributes = person_part.clone();
        attributes.insert(FlatKey::new(Attribute::Active), account_state(wants_active));
        return Part {
            action: Action::Create,
            display_name: display_name(person_part),
            external_id: d.external_id.clone(),
            change: attributes,
            ..Part::default()
        };
    };
    let mut change: FlatUser = person_part
        .iter()
        .filter(|(k, v)| p.attributes.get(k) != Some(*v))
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    let external_id = d
        .external_id
        .clone()
        .filter(|e| p.external_id.as_deref() != Some(e.as_str()));
    let names_changed = change
        .iter()
        .any(|(k, _)| matches!(k.attribute, Attribute::FirstName | Attribute::LastName));
    let reactivate = wants_active && !p.active();
    if p.active() != wants_active {
        change.insert(active_key(), account_state(wants_active));
    }
    let action = if reactivate {
        Action::Reactivate
    } else if !wants_active && p.active() {
        Action::Deactivate
    } else if !known {
        Action::Link
    } else if change.is_empty() && external_id.is_none() {
        Action::Unchanged
    } else {
        Action::Update
    };
    Part {
        action,
        person_id: p.id.clone(),
        display_name: names_changed.then(|| display_name(person_part)).flatten(),
        external_id,
        before: super::differ::before(&change, &p.attributes),
        change,
        licence: None,
    }
}
