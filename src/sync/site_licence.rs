//! Control Hub mode's licence half: between the person (identity) and the
//! Meetings settings (SetUser), the site's Meetings licence.
//!
//! Evidence (`../shared/spec/control-hub.md`; developer.webex.com "List
//! Licenses" and "Assign Licenses to Users"; seeds 000/001): a person of the
//! organisation is a host on a Meetings site only while holding that site's
//! Meetings licence, and people synchronised into Control Hub get none by
//! themselves; an attendee is a `siteUrls` entry with `accountType:
//! attendee`; the licence is found by `siteUrl` and kept by `id` (names
//! changed in January 2026). Whether a person holds it is read from the
//! site's own listing, so the half reads nothing of its own: a person without
//! the site's licence is not a site user (spec control-hub.md; that GetUser
//! then answers 030001 is UNCERTAIN there, inferred from client code, and no
//! source says LstsummaryUser leaves such a person out: the simulator's
//! reading, which a live sample should confirm). Were the listing to show
//! unlicensed people, they would be planned `unchanged` and their SetUser
//! would fail, naming them: a failure, not a silent skip. Whether a person already attends cannot be
//! read (no client of the People API, which shows `siteUrls`): an attendee is
//! made once, when the sync first takes charge of the person.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::breaker::{Breaker, Unanswered};
use super::half::{BoxFuture, Half, HalfError, Part, Readings, Seen, Written};
use super::{Problem, Step};
use crate::rest::licences::{Assigned, Change, LicenceChange, LicenceClient, PersonRef};
use crate::rest::{RestError, RestErrorKind};
use crate::schema::Attribute;

/// What deprovisioning does to the site's licence of a person who leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LicenceOnDeprovision {
    /// Deactivate the person and remove the licence (the default): a
    /// deactivated person holding it keeps consuming a unit (`consumedUnits`),
    /// so new people would be refused for licences nobody uses; a returning
    /// person is licensed again by the next sync, counted like anyone new.
    #[default]
    Remove,
    /// Deactivate the person and keep the licence: their seat stays theirs
    /// on return, at the price of the unit.
    Keep,
}

/// What the licence half does for one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::AsRefStr)]
#[serde(rename_all = "camelCase")]
#[strum(serialize_all = "camelCase")]
#[non_exhaustive]
pub enum LicenceAction {
    /// Add the site's Meetings licence (the person will host).
    Assign,
    /// Remove it (deprovisioning with `licenceOnDeprovision = "remove"`).
    Remove,
    /// Make the person an attendee of the site (removing the licence if held).
    Attendee,
    /// Deprovisioning with `licenceOnDeprovision = "keep"`: left as it is.
    Keep,
    /// Nothing to change.
    Unchanged,
}

/// The licence half of a person's step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceStep {
    /// What happens to the person's licence.
    pub action: LicenceAction,
    /// The site's Meetings licence (its id in `/v1/licenses`).
    pub licence_id: String,
    /// `example.webex.com`.
    pub site_url: String,
    /// Whether the person holds the licence now (listed on the site).
    pub holds: bool,
}

impl LicenceStep {
    /// Whether carrying the half out sends anything.
    pub fn writes(&self) -> bool {
        matches!(
            self.action,
            LicenceAction::Assign | LicenceAction::Remove | LicenceAction::Attendee
        )
    }

    /// Whether the person is a site user (a host) once the step is done:
    /// only then can SetUser reach them (GetUser/SetUser of a person without
    /// the licence answer 030001, sim::licences).
    pub fn hosts_after(&self) -> bool {
        match self.action {
            LicenceAction::Assign => true,
            LicenceAction::Remove | LicenceAction::Attendee => false,
            LicenceAction::Keep | LicenceAction::Unchanged => self.holds,
        }
    }

    /// The `PATCH /v1/licenses/users` this step sends, for `email`.
    pub fn change(&self, email: &str) -> LicenceChange {
        let licence = |op| vec![(self.licence_id.clone(), op)];
        let (licences, attendee_sites) = match self.action {
            LicenceAction::Assign => (licence(Change::Add), Vec::new()),
            LicenceAction::Remove => (licence(Change::Remove), Vec::new()),
            LicenceAction::Attendee => (
                if self.holds {
                    licence(Change::Remove)
                } else {
                    Vec::new()
                },
                vec![(self.site_url.clone(), Change::Add)],
            ),
            LicenceAction::Keep | LicenceAction::Unchanged => (Vec::new(), Vec::new()),
        };
        LicenceChange {
            person: PersonRef::Email(email.to_owned()),
            licences,
            attendee_sites,
        }
    }

    /// The report's attributes: what the change asks, as the API's body
    /// names it (`licenses`, `siteUrls`).
    pub fn attributes(&self) -> serde_json::Map<String, serde_json::Value> {
        let change = self.change("");
        let mut out = serde_json::Map::new();
        if !change.licences.is_empty() {
            let licences = change
                .licences
                .iter()
                .map(|(id, op)| serde_json::json!({"id": id, "operation": op.to_string()}));
            out.insert("licenses".into(), licences.collect());
        }
        if !change.attendee_sites.is_empty() {
            let sites = change.attendee_sites.iter().map(|(site, op)| {
                serde_json::json!({"siteUrl": site, "accountType": "attendee", "operation": op.to_string()})
            });
            out.insert("siteUrls".into(), sites.collect());
        }
        out
    }
}

/// A licence change that failed: refused, unanswered, or (206, or a 200
/// that does not show it) not applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LicenceError {
    #[error(transparent)]
    Rest(RestError),
    #[error(
        "licences API assign {email}: licence not applied: {} ({}){}",
        not_applied.join(", "),
        if reasons.is_empty() { "the answer gives no reason".to_owned() } else { reasons.join("; ") },
        tracking_id.as_deref().map(|t| format!(" (trackingId {t})")).unwrap_or_default()
    )]
    NotApplied {
        email: String,
        /// Licence ids and site URLs asked and not done.
        not_applied: Vec<String>,
        reasons: Vec<String>,
        tracking_id: Option<String>,
    },
}

impl LicenceError {
    fn not_applied(email: &str, assigned: Assigned) -> LicenceError {
        LicenceError::NotApplied {
            email: email.to_owned(),
            not_applied: assigned.not_applied,
            reasons: assigned
                .errors
                .iter()
                .map(|e| match &e.error_code {
                    Some(code) => format!("{code}: {}", e.description),
                    None => e.description.clone(),
                })
                .collect(),
            tracking_id: assigned.tracking_id,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            LicenceError::NotApplied { .. } => "licenceNotApplied",
            LicenceError::Rest(e) => rest_kind(e),
        }
    }
}

/// The report's error kind of a failed webexapis.com call.
pub(super) fn rest_kind(e: &RestError) -> &'static str {
    match &e.kind {
        RestErrorKind::NotFound(_) => "notFound",
        RestErrorKind::Conflict(_) => "alreadyExists",
        RestErrorKind::Auth(_) => "auth",
        RestErrorKind::AccessDenied(_) => "accessDenied",
        RestErrorKind::RateLimited => "rateLimited",
        RestErrorKind::Invalid { .. } => "invalid",
        RestErrorKind::Http(..) | RestErrorKind::Transport(_) => "transport",
        RestErrorKind::Malformed(_) => "malformedResponse",
    }
}

impl Unanswered for LicenceError {
    fn unanswered(&self) -> bool {
        matches!(
            self,
            LicenceError::Rest(RestError {
                kind: RestErrorKind::Transport(_) | RestErrorKind::Http(..),
                ..
            })
        )
    }
}

/// The site's Meetings licence, through the licences API.
pub(super) struct SiteLicenceHalf {
    pub client: Arc<LicenceClient>,
    pub licence_id: String,
    pub site_url: String,
    pub on_deprovision: LicenceOnDeprovision,
}

impl SiteLicenceHalf {
    fn step(&self, action: LicenceAction, holds: bool) -> LicenceStep {
        LicenceStep {
            action,
            licence_id: self.licence_id.clone(),
            site_url: self.site_url.clone(),
            holds,
        }
    }

    /// The licence half of a person who leaves (deprovisioning), who holds
    /// the licence: they are listed on the site.
    pub fn leaving(&self) -> LicenceStep {
        let action = match self.on_deprovision {
            LicenceOnDeprovision::Remove => LicenceAction::Remove,
            LicenceOnDeprovision::Keep => LicenceAction::Keep,
        };
        self.step(action, true)
    }
}

impl Half for SiteLicenceHalf {
    fn name(&self) -> &'static str {
        "licence"
    }

    /// Nothing to read per person: the site's listing says who holds it.
    fn read<'a>(
        &'a self,
        _: Vec<String>,
        _: usize,
        _: &'a Arc<Breaker>,
    ) -> BoxFuture<'a, Readings> {
        Box::pin(async { Readings::new() })
    }

    fn plan(&self, seen: &Seen<'_>) -> Result<Part, Vec<Problem>> {
        let holds = seen.summary.is_some();
        let wants_active = seen.desired.user.text(Attribute::Active) != Some("DEACTIVATED");
        let action = if seen.desired.attendee {
            if holds || !seen.known {
                LicenceAction::Attendee
            } else {
                LicenceAction::Unchanged
            }
        } else if !holds && wants_active {
            LicenceAction::Assign
        } else if holds && !wants_active {
            // The source deactivates them: as deprovisioning does.
            self.leaving().action
        } else {
            LicenceAction::Unchanged
        };
        Ok(Part {
            licence: Some(self.step(action, holds)),
            ..Part::default()
        })
    }

    fn writes(&self, step: &Step) -> bool {
        step.licence.as_ref().is_some_and(LicenceStep::writes)
    }

    fn write<'a>(&'a self, step: &'a Step) -> BoxFuture<'a, Result<Written, HalfError>> {
        Box::pin(async move {
            let licence = step.licence.as_ref().expect("writes() checked the licence");
            let answer = self.client.assign(&licence.change(&step.key)).await;
            match answer {
                Ok(done) if done.is_complete() => Ok(Written::default()),
                Ok(partial) => Err(LicenceError::not_applied(&step.key, partial)),
                Err(e) => Err(LicenceError::Rest(e)),
            }
            .map_err(HalfError::Licence)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(action: LicenceAction, holds: bool) -> LicenceStep {
        LicenceStep {
            action,
            licence_id: "L".into(),
            site_url: "example.webex.com".into(),
            holds,
        }
    }

    #[test]
    fn an_attendee_who_hosts_gives_the_licence_back() {
        let change = step(LicenceAction::Attendee, true).change("a@example.com");
        assert_eq!(change.licences, [("L".to_owned(), Change::Remove)]);
        assert_eq!(
            change.attendee_sites,
            [("example.webex.com".to_owned(), Change::Add)]
        );
        let change = step(LicenceAction::Attendee, false).change("a@example.com");
        assert!(change.licences.is_empty(), "nothing held, nothing removed");
    }

    #[test]
    fn only_a_holder_after_the_step_gets_meetings_settings() {
        assert!(step(LicenceAction::Assign, false).hosts_after());
        assert!(step(LicenceAction::Keep, true).hosts_after());
        assert!(!step(LicenceAction::Remove, true).hosts_after());
        assert!(!step(LicenceAction::Attendee, true).hosts_after());
        assert!(!step(LicenceAction::Unchanged, false).hosts_after());
        assert!(!step(LicenceAction::Keep, true).writes());
    }
}
