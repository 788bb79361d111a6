//! A half of a person's account: one service that holds part of it. The
//! Meetings site (over the XML API) is one; in Control Hub mode the Webex
//! identity is another (`control_hub.rs`), and the site's Meetings licence
//! a third (`site_licence.rs`, issue 19). The planner reads every half it needs through [`Half::read`]
//! and asks each for its part of a person's step ([`Half::plan`]);
//! [`Plan::apply`](super::Plan::apply) writes a step half by half, in order,
//! through [`Half::write`].

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::breaker::{Breaker, Unanswered};
use super::differ::{before, diff};
use super::planner::{Desired, change_of, problems};
use super::report::{ReportError, client_error, identity_error};
use super::site_licence::{LicenceError, LicenceStep};
use super::{Action, Problem, Step, Sync};
use crate::client::{Client, Error as ClientError};
use crate::identity::{IdentityError, Person};
use crate::ops::UserSummary;
use crate::schema::{FlatUser, User};
use crate::validate::{self, Operation as Op};

pub(super) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a half knows of one person now.
#[derive(Debug)]
pub(super) enum Current {
    /// The site user (GetUser).
    Site(Box<User>),
    /// The person in the Webex identity.
    Person(Box<Person>),
}

/// A failed call of a half.
#[derive(Debug)]
pub(super) enum HalfError {
    Site(ClientError),
    Identity(IdentityError),
    Licence(LicenceError),
}

impl std::fmt::Display for HalfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HalfError::Site(e) => e.fmt(f),
            HalfError::Identity(e) => e.fmt(f),
            HalfError::Licence(e) => e.fmt(f),
        }
    }
}

impl Unanswered for HalfError {
    fn unanswered(&self) -> bool {
        match self {
            HalfError::Site(e) => e.unanswered(),
            HalfError::Identity(e) => e.unanswered(),
            HalfError::Licence(e) => e.unanswered(),
        }
    }
}

impl HalfError {
    pub fn report(&self) -> ReportError {
        match self {
            HalfError::Site(e) => client_error(e),
            HalfError::Identity(e) => identity_error(e),
            HalfError::Licence(e) => {
                let category = match e {
                    super::site_licence::LicenceError::Rest(rest) => {
                        ReportError::from(rest).category
                    }
                    // Asked and answered, yet not applied: the answer's reasons say why.
                    _ => crate::ErrorKind::Other,
                };
                ReportError::new(e.kind(), category, e.to_string())
            }
        }
    }
}

/// What a successful write tells: the site's userId, when the call gives it.
#[derive(Debug, Default)]
pub(super) struct Written {
    pub user_id: Option<i64>,
}

/// The answers of a read, by lower-cased name: what the half holds of each
/// (`None`: nothing) or why it could not tell.
pub(super) type Readings = HashMap<String, Result<Option<Current>, HalfError>>;

/// One half's part of a person's step.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Part {
    pub action: Action,
    /// What the half sends (every attribute on create, else what differs).
    pub change: FlatUser,
    /// The current values of `change`'s attributes (old → new).
    pub before: FlatUser,
    /// The identity: the person's id, displayName and externalId to set.
    pub person_id: Option<String>,
    pub display_name: Option<String>,
    pub external_id: Option<String>,
    /// The licence half's part (Control Hub mode with licences).
    pub licence: Option<LicenceStep>,
}

/// What the planner has seen of one person when a half plans its part.
pub(super) struct Seen<'a> {
    pub sync: &'a Sync,
    pub desired: &'a Desired,
    /// The site user found for them (their listing entry).
    pub summary: Option<&'a UserSummary>,
    /// The site user's values: its GetUser, or its listing entry when that
    /// tells everything the row sets; `None` when incremental mode skipped
    /// reading it (or there is no site user).
    pub site: Option<&'a FlatUser>,
    /// The person in the Webex identity (Control Hub mode).
    pub person: Option<&'a Person>,
    /// Whether the sync took charge of the person before (else: link).
    pub known: bool,
}

pub(super) trait Half: Send + std::marker::Sync {
    /// Which half, for reports and logs.
    fn name(&self) -> &'static str;
    /// Reads the people named (by the name this half knows them by),
    /// at most `concurrency` at once; no further call once `breaker` trips.
    fn read<'a>(
        &'a self,
        names: Vec<String>,
        concurrency: usize,
        breaker: &'a Arc<Breaker>,
    ) -> BoxFuture<'a, Readings>;
    /// This half's part of a person's step, or why the row cannot be carried out.
    fn plan(&self, seen: &Seen<'_>) -> Result<Part, Vec<Problem>>;
    /// Whether this half of `step` writes anything.
    fn writes(&self, step: &Step) -> bool;
    /// Carries out this half of `step`.
    fn write<'a>(&'a self, step: &'a Step) -> BoxFuture<'a, Result<Written, HalfError>>;
}

/// The Meetings site over the XML API. Standalone it holds the whole user
/// (CreateUser, SetUser, `newWebExId`, `active`); in Control Hub mode only
/// the Meetings settings (SetUser), the person being the identity's.
pub(super) struct Meetings {
    pub client: Arc<Client>,
    pub settings_only: bool,
}

impl Half for Meetings {
    fn name(&self) -> &'static str {
        "meetings"
    }

    fn read<'a>(
        &'a self,
        names: Vec<String>,
        concurrency: usize,
        breaker: &'a Arc<Breaker>,
    ) -> BoxFuture<'a, Readings> {
        let client = self.client.clone();
        Box::pin(gather(names, concurrency, breaker, move |id| {
            let client = client.clone();
            async move {
                client
                    .get_user(&id)
                    .await
                    .map(|u| Some(Current::Site(Box::new(u))))
                    .map_err(HalfError::Site)
            }
        }))
    }

    fn plan(&self, seen: &Seen<'_>) -> Result<Part, Vec<Problem>> {
        if self.settings_only {
            return Ok(settings_part(seen));
        }
        let d = seen.desired;
        let Some(summary) = seen.summary else {
            // New to the site: the whole user, valid as a creation.
            let violations = validate::validate(&d.user, Op::Create, seen.sync.person_profile());
            if !violations.is_empty() {
                return Err(problems(violations));
            }
            return Ok(Part {
                action: Action::Create,
                change: d.user.clone(),
                ..Part::default()
            });
        };
        let link_unless = |action| match action {
            Action::Reactivate => Action::Reactivate,
            _ if !seen.known => Action::Link,
            a => a,
        };
        // Incremental mode: as it was last applied, nothing to send.
        let Some(now) = seen.site else {
            return Ok(Part {
                action: link_unless(Action::Unchanged),
                ..Part::default()
            });
        };
        let (action, change) = change_of(seen.sync, d, summary, now)?;
        Ok(Part {
            action: link_unless(action),
            before: before(&change, now),
            change,
            ..Part::default()
        })
    }

    fn writes(&self, step: &Step) -> bool {
        if self.settings_only {
            !step.change.is_empty()
        } else {
            step.action.writes(&step.change)
        }
    }

    fn write<'a>(&'a self, step: &'a Step) -> BoxFuture<'a, Result<Written, HalfError>> {
        Box::pin(async move {
            if step.action == super::Action::Create && !self.settings_only {
                let created = self.client.create_user(step.change.clone()).await;
                return created
                    .map(|c| Written {
                        user_id: Some(c.user_id),
                    })
                    .map_err(HalfError::Site);
            }
            self.client
                .set_user(&step.web_ex_id, step.change.clone())
                .await
                .map(|_| Written::default())
                .map_err(HalfError::Site)
        })
    }
}

/// Control Hub mode's Meetings half: the settings that differ from the site
/// user's, or all of them when the person is new to the site.
fn settings_part(seen: &Seen<'_>) -> Part {
    let (_, settings) = validate::control_hub::split(&seen.desired.user);
    let Some(now) = seen.site else {
        return Part {
            action: if settings.is_empty() {
                Action::Unchanged
            } else {
                Action::Update
            },
            change: settings,
            ..Part::default()
        };
    };
    let mut change = diff(&settings, now, seen.sync.options.push_passwords);
    validate::complete_supported_services(&mut change, now, seen.sync.profile());
    Part {
        action: if change.is_empty() {
            Action::Unchanged
        } else {
            Action::Update
        },
        before: before(&change, now),
        change,
        ..Part::default()
    }
}

/// `call` for every name, at most `concurrency` at once; each name's answer
/// or failure by lower-cased name. Once the breaker trips, no further call
/// starts: check it before using the answers.
pub(super) async fn gather<T, E, F, Fut>(
    names: Vec<String>,
    concurrency: usize,
    breaker: &Arc<Breaker>,
    call: F,
) -> HashMap<String, Result<T, E>>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Unanswered + Send + 'static,
{
    let semaphore = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for name in names {
        let semaphore = semaphore.clone();
        let breaker = breaker.clone();
        let answer = call(name.clone());
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await.expect("semaphore open");
            if breaker.tripped() {
                return (name, None);
            }
            let answer = answer.await;
            breaker.record(&answer);
            (name, Some(answer))
        });
    }
    let mut out = HashMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (name, answer) = joined.expect("a read task");
        if let Some(answer) = answer {
            out.insert(name.to_lowercase(), answer);
        }
    }
    out
}
