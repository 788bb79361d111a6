//! Licences counted over the whole plan (issue 17 follow-up: each row was
//! checked alone against the same count, so a run with 2 licences left
//! created 2 hosts and had the third refused by the site mid-run).
//!
//! Evidence: Cisco's user-service elements page says CreateUser and SetUser
//! answer `exceededSiteHostLimit` when *activating* a user would exceed the
//! site's host limit (spec xml-api.md §2.5; src/xml/codes.rs REASONS), so
//! every active user holds a host licence: a create (unless created
//! deactivated) and a reactivation take one. A session type's limit (110055,
//! "User limit exceeded for Session Type": admin portal table and seed 003,
//! src/xml/codes.rs) is checked on CreateUser: a create naming the type takes
//! one. The validator (validate::cross `licences`) and the simulator judge
//! each call the same way; no source says an update of an active user, a
//! `privilegeHost` change or a SetUser of meetingTypes takes a licence, so
//! none is counted.
//!
//! A deactivation in the same plan frees nothing in time: `Plan::apply`
//! sends deactivations after every other write (apply.rs), and the site
//! counts at each call.

use super::{Action, Step, SyncError};
use crate::schema::{Attribute, FlatKey, Value};
use crate::site::SiteProfile;

/// A licence a site counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Licence {
    /// The site's host licences (`siteHosts`; `exceededSiteHostLimit`).
    SiteHosts,
    /// A session type's host licences (`[[limits.sessionTypes]]`; 110055).
    SessionType(i64),
    /// Control Hub mode: the site's Meetings licence in the organisation
    /// (`totalUnits - consumedUnits` of `GET /v1/licenses`).
    ControlHubSite,
}

/// More licences of one kind needed than are free.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortfall {
    /// The licence short of units.
    pub licence: Licence,
    /// Units the plan needs.
    pub needed: u32,
    /// Units free now.
    pub free: u32,
}

impl std::fmt::Display for Shortfall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (what, evidence) = match self.licence {
            Licence::SiteHosts => ("host licences".to_owned(), "exceededSiteHostLimit"),
            Licence::SessionType(id) => (format!("licences of session type {id}"), "110055"),
            Licence::ControlHubSite => (
                "units of the site's Meetings licence".to_owned(),
                "its totalUnits minus consumedUnits in GET /v1/licenses",
            ),
        };
        let verb = if self.free == 1 { "is" } else { "are" };
        write!(
            f,
            "{} {what} and {} {verb} free (the site would refuse the rest: {evidence})",
            self.needed, self.free
        )
    }
}

/// The profile each person is validated with while planning: without the
/// counts in use, which [`check`] judges for the plan as a whole (a per-row
/// check would refuse every row when none is free, and none when one is).
pub(super) fn per_person(profile: &SiteProfile) -> SiteProfile {
    let mut profile = profile.clone();
    if let Some(limits) = &mut profile.limits {
        limits.current_site_hosts = None;
        for l in &mut limits.session_types {
            l.current_hosts = None;
        }
    }
    profile
}

/// Refuses a plan that needs more licences than the profile says are free.
/// Counts the profile does not give are not checked, as in the validator.
pub(super) fn check(profile: &SiteProfile, steps: &[Step]) -> Result<(), SyncError> {
    let Some(limits) = &profile.limits else {
        return Ok(());
    };
    let mut shortfalls = Vec::new();
    if let (Some(limit), Some(in_use)) = (limits.site_hosts, limits.current_site_hosts) {
        let needed = count(steps, activates);
        shortfalls.extend(short(Licence::SiteHosts, needed, limit, in_use));
    }
    for l in &limits.session_types {
        if let Some(in_use) = l.current_hosts {
            let needed = count(steps, |s| creates_with_type(s, l.id));
            shortfalls.extend(short(Licence::SessionType(l.id), needed, l.hosts, in_use));
        }
    }
    if shortfalls.is_empty() {
        Ok(())
    } else {
        Err(SyncError::TooFewLicences { shortfalls })
    }
}

/// Control Hub mode: refuses a plan that assigns the site's Meetings
/// licence to more people than it has units left (`free`, from
/// [`crate::rest::licences::Licence::free_units`]; unknown: not checked).
/// Removals in the same plan are not counted as freeing units: they run
/// alongside the assignments, in no set order.
pub(super) fn check_site(steps: &[Step], free: Option<u64>) -> Result<(), SyncError> {
    let Some(free) = free else {
        return Ok(());
    };
    let needed = count(steps, |s| {
        s.licence
            .as_ref()
            .is_some_and(|l| l.action == super::LicenceAction::Assign)
    });
    let free = u32::try_from(free).unwrap_or(u32::MAX);
    match short(Licence::ControlHubSite, needed, free, 0) {
        Some(shortfall) => Err(SyncError::TooFewLicences {
            shortfalls: vec![shortfall],
        }),
        None => Ok(()),
    }
}

fn short(licence: Licence, needed: u32, limit: u32, in_use: u32) -> Option<Shortfall> {
    let free = limit.saturating_sub(in_use);
    (needed > free).then_some(Shortfall {
        licence,
        needed,
        free,
    })
}

fn count(steps: &[Step], takes: impl Fn(&Step) -> bool) -> u32 {
    let n = steps.iter().filter(|s| takes(s)).count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Whether carrying the step out makes an active user of an inactive or new one.
fn activates(step: &Step) -> bool {
    match step.action {
        Action::Create => step.change.text(Attribute::Active) != Some("DEACTIVATED"),
        Action::Reactivate => true,
        _ => false,
    }
}

fn creates_with_type(step: &Step, id: i64) -> bool {
    step.action == Action::Create
        && matches!(
            step.change.get(&FlatKey::new(Attribute::MeetingTypes)),
            Some(Value::IntList(ids)) if ids.contains(&id)
        )
}
