//! Planning for a Control-Hub-managed site: each user in two halves. The
//! person (names, email, title, phones, externalId, active) goes to the Webex
//! identity API; the Meetings settings (privileges, session types, personal
//! room, tspAccount …) go to SetUser, after the person. The XML API never gets
//! an attribute the identity owns: those the identity API cannot take either
//! (password, PIN) are refused by the validator, with the reason.

use std::collections::HashMap;
use std::sync::Arc;

use super::{
    Action, Breaker, IdentityStep, Problem, Step, SyncError, SyncOptions, diff, fetch_users,
    gather, invalid_step, problems, read_site, unreadable_step,
};
use crate::client::Client;
use crate::identity::IdentityClient;
use crate::schema::{Attribute, FlatKey, FlatUser, User, Value};
use crate::scim::user::display_name;
use crate::site::SiteProfile;
use crate::sync::Journal;
use crate::validate::control_hub::{split, validate_split, validate_split_over};

/// One desired user of the source.
pub(super) struct Desired {
    pub row: usize,
    /// The email, lower-cased: the person's userName.
    pub key: String,
    pub user: FlatUser,
    pub external_id: Option<String>,
}

/// `active` as the catalogue holds it.
fn account_state(active: bool) -> Value {
    Value::Text(if active { "ACTIVATED" } else { "DEACTIVATED" }.into())
}

pub(super) async fn plan(
    desired: Vec<Desired>,
    client: &Arc<Client>,
    identity: &Arc<IdentityClient>,
    profile: &SiteProfile,
    journal: Option<&Journal>,
    options: &SyncOptions,
    steps: &mut Vec<Step>,
) -> Result<usize, SyncError> {
    let (site, mut reads) = read_site(client).await.map_err(SyncError::Site)?;
    let breaker = &Arc::new(Breaker::new(options.max_consecutive_failures));
    let site_by_email: HashMap<String, String> = site
        .summaries
        .iter()
        .filter_map(|s| Some((s.email.as_ref()?.to_lowercase(), s.web_ex_id.clone())))
        .collect();
    let mut keys: Vec<String> = desired.iter().map(|d| d.key.clone()).collect();
    // Deprovisioning needs the persons of the site users the source lacks
    // (rows already refused still name theirs).
    let wanted: std::collections::HashSet<&str> = desired
        .iter()
        .map(|d| d.key.as_str())
        .chain(steps.iter().map(|s| s.key.as_str()))
        .collect();
    let protected = |w: &str| options.protected.iter().any(|p| p.eq_ignore_ascii_case(w));
    let leaving: Vec<String> = site
        .summaries
        .iter()
        .filter(|s| options.deprovision && s.active.as_deref() != Some("DEACTIVATED"))
        .filter(|s| !protected(&s.web_ex_id))
        .filter_map(|s| s.email.as_ref().map(|e| e.to_lowercase()))
        .filter(|e| !wanted.contains(e.as_str()))
        .collect();
    let active = site
        .summaries
        .iter()
        .filter(|s| s.active.as_deref() != Some("DEACTIVATED"))
        .count();
    if !leaving.is_empty() && leaving.len() as f64 > options.max_deprovision_share * active as f64 {
        return Err(SyncError::TooManyDeactivations {
            planned: leaving.len(),
            active,
            share: options.max_deprovision_share * 100.0,
        });
    }
    keys.extend(leaving.iter().cloned());
    reads += keys.len();
    let finder = identity.clone();
    let people = gather(keys, options.concurrency, breaker, move |key| {
        let identity = finder.clone();
        async move { identity.find(&key).await }
    })
    .await;
    breaker.check()?;
    let matched: Vec<String> = desired
        .iter()
        .filter_map(|d| site_by_email.get(&d.key).cloned())
        .collect();
    let current = fetch_users(client, matched, options.concurrency, breaker).await;
    breaker.check()?;
    reads += current.len();

    for d in desired {
        let (person_part, meetings_part) = split(&d.user);
        // The site user as it is, when readable: the change is judged with it.
        let site_flat = site_by_email
            .get(&d.key)
            .and_then(|w| current[&w.to_lowercase()].as_ref().ok())
            .map(User::to_flat);
        let violations = match &site_flat {
            Some(now) => validate_split_over(&d.user, now, profile),
            None => validate_split(&d.user, profile),
        };
        if !violations.is_empty() {
            steps.push(invalid_step(d.row, &d.key, problems(violations)));
            continue;
        }
        let wants_active = d.user.text(Attribute::Active) != Some("DEACTIVATED");
        let known = match journal {
            Some(j) => j.is_known(&d.key)?,
            None => true,
        };
        // What the organisation and the site hold now; a user either cannot
        // tell is this user's failure alone.
        let person = match people.get(&d.key).map(Result::as_ref).transpose() {
            Ok(p) => p,
            Err(e) => {
                steps.push(unreadable_step(Some(d.row), &d.key, d.key.clone(), e));
                continue;
            }
        };
        let site_user = site_by_email
            .get(&d.key)
            .map(|w| current[&w.to_lowercase()].as_ref())
            .transpose();
        let site_user = match site_user {
            Ok(u) => u,
            Err(e) => {
                steps.push(unreadable_step(Some(d.row), &d.key, d.key.clone(), e));
                continue;
            }
        };
        let identity_step = match person {
            None => {
                let mut attributes = person_part.clone();
                attributes.insert(FlatKey::new(Attribute::Active), account_state(wants_active));
                IdentityStep {
                    action: Action::Create,
                    person_id: None,
                    display_name: display_name(&person_part),
                    external_id: d.external_id.clone(),
                    change: attributes,
                }
            }
            Some(p) => {
                let mut change: FlatUser = person_part
                    .iter()
                    .filter(|(k, v)| p.attributes.get(k) != Some(*v))
                    .map(|(k, v)| (*k, v.clone()))
                    .collect();
                let external_id = d
                    .external_id
                    .clone()
                    .filter(|e| p.external_id.as_deref() != Some(e.as_str()));
                let names_changed = change.iter().any(|(k, _)| {
                    matches!(k.attribute, Attribute::FirstName | Attribute::LastName)
                });
                let reactivate = wants_active && !p.active();
                if p.active() != wants_active {
                    change.insert(FlatKey::new(Attribute::Active), account_state(wants_active));
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
                IdentityStep {
                    action,
                    person_id: p.id.clone(),
                    display_name: names_changed.then(|| display_name(&person_part)).flatten(),
                    external_id,
                    change,
                }
            }
        };
        // The Meetings half: what differs from the site user, or everything
        // when the person is new to the site.
        let meetings_change = match (site_user, &site_flat) {
            (Some(u), Some(now)) => {
                let mut change = diff(&meetings_part, u, options.push_passwords);
                crate::validate::complete_supported_services(&mut change, now, profile);
                change
            }
            _ => meetings_part,
        };
        let web_ex_id = person
            .map(|p| p.user_name().to_owned())
            .or_else(|| site_by_email.get(&d.key).cloned())
            .unwrap_or_else(|| d.key.clone());
        let action = match identity_step.action {
            Action::Unchanged if !meetings_change.is_empty() => Action::Update,
            a => a,
        };
        steps.push(Step {
            web_ex_id,
            key: d.key,
            row: Some(d.row),
            action,
            change: meetings_change,
            problems: Vec::new(),
            identity: Some(identity_step),
        });
    }

    for key in leaving {
        let site_user = site_by_email.get(&key).map_or(key.as_str(), String::as_str);
        let p = match people.get(&key) {
            Some(Ok(p)) => p,
            Some(Err(e)) => {
                steps.push(unreadable_step(None, site_user, key.clone(), e));
                continue;
            }
            None => {
                steps.push(Step {
                    web_ex_id: site_user.to_owned(),
                    key: key.clone(),
                    row: None,
                    action: Action::Invalid,
                    change: FlatUser::new(),
                    problems: vec![Problem {
                        attribute: Some("email".into()),
                        reason: format!(
                            "{key}: a site user with no person in the organisation; not deactivated"
                        ),
                    }],
                    identity: None,
                });
                continue;
            }
        };
        let change: FlatUser = [(
            FlatKey::new(Attribute::Active),
            Value::Text("DEACTIVATED".into()),
        )]
        .into_iter()
        .collect();
        steps.push(Step {
            web_ex_id: p.user_name().to_owned(),
            key,
            row: None,
            action: Action::Deactivate,
            change: FlatUser::new(),
            problems: Vec::new(),
            identity: Some(IdentityStep {
                action: Action::Deactivate,
                person_id: p.id.clone(),
                display_name: None,
                external_id: None,
                change,
            }),
        });
    }
    Ok(reads)
}
