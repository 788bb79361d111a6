//! What a sync did (or would do), per user and in sum.

use serde::Serialize;

use super::{Action, IdentityStep, LicenceAction, Mode, Plan, Step};
use crate::client::{CallStats, Error as ClientError};
use crate::identity::IdentityError;

/// One user in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserReport {
    /// The site user (the old Webex ID for a rename).
    pub web_ex_id: String,
    /// The source row, when the user comes from the source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    /// What the plan did (or would do) to the user.
    pub operation: Action,
    /// `ok`, `failed`, `invalid` (a conflict too), `skipped` (nothing to
    /// write) or `planned` (dry run).
    pub status: &'static str,
    /// The attributes sent (or that would be), each `{"old": …, "new": …}`
    /// (`old` null when the site had none, as on create); secrets masked.
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// Why the user failed or is invalid, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ReportError>,
    /// Requests sent for this user's change, resends included (0: nothing
    /// sent). Authentication and the GetUser that checks an unknown outcome
    /// are not attempts; a deactivation counts its batch's DelUser requests;
    /// a Control Hub user, both halves' requests.
    pub attempts: u32,
    /// Control Hub mode: the person's half (the Webex identity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<HalfReport>,
    /// Control Hub mode with licences: the site's Meetings licence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licence: Option<HalfReport>,
    /// Control Hub mode: the Meetings half (SetUser).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meetings: Option<HalfReport>,
}

/// What a half did: the person's and the settings' operations are the
/// step's kind ([`Action`]), the licence's its own ([`LicenceAction`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum HalfOperation {
    /// The person's or settings' half: an [`Action`].
    Person(Action),
    /// The licence half.
    Licence(LicenceAction),
}

impl From<Action> for HalfOperation {
    fn from(action: Action) -> Self {
        HalfOperation::Person(action)
    }
}

impl From<LicenceAction> for HalfOperation {
    fn from(action: LicenceAction) -> Self {
        HalfOperation::Licence(action)
    }
}

impl PartialEq<Action> for HalfOperation {
    fn eq(&self, other: &Action) -> bool {
        *self == HalfOperation::Person(*other)
    }
}

impl PartialEq<LicenceAction> for HalfOperation {
    fn eq(&self, other: &LicenceAction) -> bool {
        *self == HalfOperation::Licence(*other)
    }
}

impl HalfOperation {
    /// The operation's name as reports spell it, e.g. `create` or `assign`.
    pub fn as_str(&self) -> &str {
        match self {
            HalfOperation::Person(a) => a.as_ref(),
            HalfOperation::Licence(l) => l.as_ref(),
        }
    }
}

/// One half of a Control Hub user: what was done and how it went.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HalfReport {
    /// What the half did.
    pub operation: HalfOperation,
    /// `ok`, `failed`, `skipped` (nothing to do), `planned` (dry run) or
    /// `notRun` (a half before it failed).
    pub status: &'static str,
    /// The attributes the half sent, each `{"old": …, "new": …}`; secrets masked.
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// The meetings half: the APIs its attributes go to (`setUser`,
    /// `sessionTypes`, `trackingCodes`), routed by the catalogue.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub apis: Vec<&'static str>,
    /// Why the half failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ReportError>,
}

/// A user's or a half's error in a report: the crate's one error shape.
pub use crate::error::ErrorReport as ReportError;

/// Counts per outcome, and the client's retries and rate-limit waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// A plan not carried out (`--dry-run`): the counts are of planned
    /// operations (`created`: creates planned), each user's status `planned`.
    pub dry_run: bool,
    /// `incremental` (unchanged people not read again) or `full`.
    pub mode: Mode,
    /// Users created.
    pub created: usize,
    /// Existing users the sync took charge of.
    pub linked: usize,
    /// Users whose attributes were set.
    pub updated: usize,
    /// Users given a new Webex ID.
    pub renamed: usize,
    /// Users deactivated.
    pub deactivated: usize,
    /// Users activated again.
    pub reactivated: usize,
    /// Users with nothing to send.
    pub unchanged: usize,
    /// Creates and renames not sent: the webExId or email is another site user's.
    pub conflicts: usize,
    /// Rows refused by the mapping or the site's rules (nothing sent).
    pub invalid: usize,
    /// Users whose writes failed.
    pub failed: usize,
    /// Requests the client sent again after a failed attempt, over its whole
    /// life: planning and applying when it was made for the run (as `wbxprov
    /// sync` does).
    pub retries: u64,
    /// Waits the service asked for (000045), and their total length.
    pub rate_limit_waits: u64,
    /// The total length of those waits, in milliseconds.
    pub rate_limit_wait_ms: u64,
}

impl Summary {
    pub(super) fn add_client_totals(&mut self, stats: &CallStats) {
        self.retries += stats.retries;
        self.rate_limit_waits += stats.rate_limit_waits;
        self.rate_limit_wait_ms +=
            u64::try_from(stats.rate_limit_waited.as_millis()).unwrap_or(u64::MAX);
    }

    /// "3 retries, 1 rate-limit wait (60 s)".
    pub fn retry_line(&self) -> String {
        let plural =
            |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let waited = match self.rate_limit_wait_ms {
            ms if ms < 1000 => format!("{ms} ms"),
            ms => format!("{} s", ms.div_ceil(1000)),
        };
        format!(
            "{}, {} ({waited})",
            plural(self.retries, "retry", "retries"),
            plural(self.rate_limit_waits, "rate-limit wait", "rate-limit waits"),
        )
    }
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The counts.
    pub summary: Summary,
    /// One entry per user, in plan order.
    pub users: Vec<UserReport>,
}

impl Report {
    /// Whether every user succeeded (nothing invalid, in conflict or failed).
    pub fn all_ok(&self) -> bool {
        self.summary.invalid == 0 && self.summary.conflicts == 0 && self.summary.failed == 0
    }
}

/// The report of a plan not carried out (`--dry-run`).
pub fn preview(plan: &Plan) -> Report {
    let users = plan
        .steps
        .iter()
        .map(|s| match &s.identity {
            Some(person) => control_hub_report(s, person, None, false),
            None => user_report(s, None, 0, false),
        })
        .collect();
    let mut report = report_from(users);
    report.summary.mode = plan.mode;
    report.summary.dry_run = true;
    report
}

/// A change as `{"attribute": {"old": …, "new": …}}`, secrets masked.
fn old_and_new(step: &Step) -> serde_json::Map<String, serde_json::Value> {
    let before = step.before.to_json(false);
    step.change
        .to_json(false)
        .into_iter()
        .map(|(name, new)| {
            let old = before
                .get(&name)
                .cloned()
                .unwrap_or(serde_json::Value::Null);
            (name, serde_json::json!({"old": old, "new": new}))
        })
        .collect()
}

pub(super) fn user_report(
    step: &Step,
    result: Option<&ClientError>,
    attempts: u32,
    executed: bool,
) -> UserReport {
    let status = match (step.action, result) {
        (Action::Invalid | Action::Conflict, _) => "invalid",
        (Action::Unreadable, _) | (_, Some(_)) => "failed",
        (a, None) if !a.writes(&step.change) => "skipped",
        (_, None) if executed => "ok",
        (_, None) => "planned",
    };
    let error = match (step.action, result) {
        // The problems of an invalid row, or why the user could not be read.
        (Action::Invalid | Action::Conflict | Action::Unreadable, _) => Some(ReportError::new(
            step.action.as_ref(),
            match step.action {
                Action::Conflict => crate::ErrorKind::Exists,
                // Why the user could not be read is in the message.
                Action::Unreadable => crate::ErrorKind::Other,
                _ => crate::ErrorKind::Invalid,
            },
            step.problems
                .iter()
                .map(|p| match &p.attribute {
                    Some(a) if !p.reason.starts_with(a.as_str()) => format!("{a}: {}", p.reason),
                    _ => p.reason.clone(),
                })
                .collect::<Vec<_>>()
                .join("; "),
        )),
        (_, Some(e)) => Some(client_error(e)),
        _ => None,
    };
    UserReport {
        web_ex_id: step.web_ex_id.clone(),
        row: step.row,
        operation: step.action,
        status,
        attributes: old_and_new(step),
        error,
        attempts,
        identity: None,
        licence: None,
        meetings: None,
    }
}

pub(super) fn client_error(e: &ClientError) -> ReportError {
    ReportError::from(e)
}

pub(super) fn identity_error(e: &IdentityError) -> ReportError {
    ReportError::from(e)
}

/// Which half of a Control Hub user failed, and how.
pub(super) type HalfFailure = Option<(&'static str, ReportError)>;

/// The report of a Control Hub user: one entry per half (`identity`,
/// `licence` when the run has licences, `meetings`), the first failure as the
/// user's error; the halves after a failed one did not run. `executed`
/// false: a dry run.
pub(super) fn control_hub_report(
    step: &Step,
    person: &IdentityStep,
    failed: HalfFailure,
    executed: bool,
) -> UserReport {
    let mut report = user_report(step, None, 0, executed);
    let order = ["identity", "licence", "meetings"];
    let failed_at = failed
        .as_ref()
        .and_then(|(name, _)| order.iter().position(|n| n == name));
    let half = |name: &str, operation, writes: bool, attributes| {
        let index = order.iter().position(|n| *n == name).expect("a half");
        let error = match &failed {
            Some((n, e)) if *n == name => Some(e.clone()),
            _ => None,
        };
        let ran = failed_at.is_none_or(|f| index <= f);
        let status = match (&error, writes, ran) {
            (Some(_), _, _) => "failed",
            (None, false, _) => "skipped",
            (None, true, _) if !executed => "planned",
            (None, true, true) => "ok",
            (None, true, false) => "notRun",
        };
        HalfReport {
            operation,
            status,
            attributes,
            apis: Vec::new(),
            error,
        }
    };
    let mut person_attributes = person.change.to_json(false);
    if let Some(e) = &person.external_id {
        person_attributes.insert("externalId".into(), e.clone().into());
    }
    let meetings_operation = if step.change.is_empty() {
        Action::Unchanged
    } else {
        Action::Update
    };
    report.error = failed.as_ref().map(|(_, e)| e.clone());
    report.status = match (&report.error, step.writes()) {
        (Some(_), _) => "failed",
        (None, false) => "skipped",
        (None, true) if executed => "ok",
        (None, true) => "planned",
    };
    report.identity = Some(half(
        "identity",
        HalfOperation::Person(person.action),
        person.writes(),
        person_attributes,
    ));
    report.licence = step.licence.as_ref().map(|l| {
        half(
            "licence",
            HalfOperation::Licence(l.action),
            l.writes(),
            l.attributes(),
        )
    });
    let mut meetings = half(
        "meetings",
        HalfOperation::Person(meetings_operation),
        !step.change.is_empty(),
        step.change.to_json(false),
    );
    meetings.apis = meetings_apis(step);
    report.meetings = Some(meetings);
    report
}

/// The APIs the meetings half of `step` writes through, in the order sent.
fn meetings_apis(step: &Step) -> Vec<&'static str> {
    if step.change.is_empty() {
        return Vec::new();
    }
    if !step.settings_routed {
        return vec!["setUser"];
    }
    let routed = super::settings::route(&step.change);
    let parts = [
        (!routed.xml.is_empty(), "setUser"),
        (routed.session_types.is_some(), "sessionTypes"),
        (!routed.tracking_codes.is_empty(), "trackingCodes"),
    ];
    parts
        .into_iter()
        .filter_map(|(sent, api)| sent.then_some(api))
        .collect()
}

pub(super) fn report_from(users: Vec<UserReport>) -> Report {
    let mut s = Summary::default();
    for u in &users {
        if u.status == "failed" {
            s.failed += 1;
            continue;
        }
        match u.operation {
            Action::Create => s.created += 1,
            Action::Link => s.linked += 1,
            Action::Update => s.updated += 1,
            Action::Rename => s.renamed += 1,
            Action::Conflict => s.conflicts += 1,
            Action::Deactivate => s.deactivated += 1,
            Action::Reactivate => s.reactivated += 1,
            Action::Unchanged => s.unchanged += 1,
            Action::Invalid => s.invalid += 1,
            Action::Unreadable => s.failed += 1,
        }
    }
    Report { summary: s, users }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{IdentityError, IdentityErrorKind, IdentityOp};

    #[test]
    fn the_reports_identity_error_carries_the_tracking_id() {
        let e = IdentityError {
            operation: IdentityOp::Create,
            key: "jdoe@example.com".into(),
            kind: IdentityErrorKind::Invalid("userType is required".into()),
            attempts: 1,
            tracking_id: Some("ROUTER_1".into()),
        };
        let shown = identity_error(&e);
        assert_eq!(shown.kind, "invalid");
        assert!(
            shown.message.contains("jdoe@example.com")
                && shown.message.ends_with("(trackingId ROUTER_1)"),
            "{}",
            shown.message
        );
    }
}
