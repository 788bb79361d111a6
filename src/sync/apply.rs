//! Carrying a plan out: every writing step half by half (the person first in
//! Control Hub mode), at most `concurrency` at once, each outcome in the
//! journal; deactivations of the standalone site 50 per DelUser.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::breaker::Breaker;
use super::control_hub::Identity;
use super::half::{Half, HalfError, Meetings, Written};
use super::report::{UserReport, control_hub_report, report_from, user_report};
use super::site_licence::SiteLicenceHalf;
use super::{Action, Event, KnownPerson, Plan, Report, Step, Sync, SyncError};
use crate::client::{Error as ClientError, ErrorKind, count_attempts};

type Progress = Arc<dyn Fn(Event) + Send + std::marker::Sync>;

/// The halves a run writes through, in order for each step.
struct Halves {
    identity: Option<Identity>,
    /// The site's Meetings licence (Control Hub mode with licences).
    licence: Option<SiteLicenceHalf>,
    /// The whole site user (standalone steps).
    site: Meetings,
    /// The Meetings settings after the person (Control Hub steps).
    settings: Meetings,
}

impl Halves {
    fn new(sync: &Sync, licence: Option<SiteLicenceHalf>) -> Halves {
        let meetings = |settings_only| Meetings {
            client: sync.client.clone(),
            settings_only,
        };
        Halves {
            identity: sync.identity.clone().map(|client| Identity { client }),
            licence,
            site: meetings(false),
            settings: meetings(true),
        }
    }

    fn of(&self, step: &Step) -> Vec<&dyn Half> {
        match (&step.identity, &self.identity) {
            (Some(_), Some(identity)) => {
                let mut halves: Vec<&dyn Half> = vec![identity];
                if let Some(licence) = &self.licence {
                    halves.push(licence);
                }
                halves.push(&self.settings);
                halves
            }
            _ => vec![&self.site],
        }
    }
}

pub(super) async fn apply(
    plan: Plan,
    sync: &Sync,
    progress: impl Fn(Event) + Send + std::marker::Sync + 'static,
) -> Result<Report, SyncError> {
    let progress: Progress = Arc::new(progress);
    let writes = plan.steps.iter().filter(|s| s.writes()).count();
    progress(Event::Started { writes });
    let halves = Arc::new(Halves::new(sync, licence_half(sync, &plan)));
    let semaphore = Arc::new(tokio::sync::Semaphore::new(sync.options.concurrency.max(1)));
    let breaker = Arc::new(Breaker::new(sync.options.max_consecutive_failures));
    let mut reports: BTreeMap<usize, UserReport> = BTreeMap::new();
    let mut confirmed: Vec<KnownPerson> = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    let mut leaving: Vec<(usize, Step)> = Vec::new();
    for (i, step) in plan.steps.into_iter().enumerate() {
        if !step.writes() {
            reports.insert(i, settle(sync, &step, &mut confirmed)?);
        } else if step.action == Action::Deactivate && step.identity.is_none() {
            leaving.push((i, step));
        } else {
            let (halves, semaphore, breaker) = (halves.clone(), semaphore.clone(), breaker.clone());
            let (journal, progress) = (sync.journal.clone(), progress.clone());
            tasks.spawn(async move {
                let _permit = semaphore.acquire_owned().await.expect("semaphore open");
                if breaker.tripped() {
                    // The site is gone: this user is left for the next run.
                    return None;
                }
                let report =
                    write_step(&halves, &step, journal.as_deref(), &breaker, &progress).await;
                Some((i, report))
            });
        }
    }
    while let Some(joined) = tasks.join_next().await {
        if let Some((i, report)) = joined.expect("sync task") {
            reports.insert(i, report);
        }
    }
    deactivate(sync, leaving, &breaker, &progress, &mut reports).await;
    finish(sync, plan.mode, reports, &confirmed, &breaker)
}

/// The licence half that writes the plan's licence steps (each carries the
/// licence's id and site, read when the plan was made).
fn licence_half(sync: &Sync, plan: &Plan) -> Option<SiteLicenceHalf> {
    let licences = sync.licences.as_ref()?;
    let step = plan.steps.iter().find_map(|s| s.licence.as_ref())?;
    Some(SiteLicenceHalf {
        client: licences.client.clone(),
        licence_id: step.licence_id.clone(),
        site_url: step.site_url.clone(),
        on_deprovision: sync.mapping.licence_on_deprovision,
    })
}

/// The run's report; the journal finished, unless the breaker stopped the
/// run (then the report travels with the error).
fn finish(
    sync: &Sync,
    mode: super::Mode,
    reports: BTreeMap<usize, UserReport>,
    confirmed: &[KnownPerson],
    breaker: &Breaker,
) -> Result<Report, SyncError> {
    if let Some(j) = &sync.journal {
        j.remember_all(confirmed)?;
    }
    let mut report = report_from(reports.into_values().collect());
    report.summary.mode = mode;
    report.summary.add_client_totals(&sync.client.stats());
    if let Err(SyncError::SiteUnreachable { failures, last, .. }) = breaker.check() {
        // Stopped: the journal stays unfinished, for the next run; the
        // report says what was done.
        return Err(SyncError::SiteUnreachable {
            failures,
            last,
            done: Some(Box::new(report)),
        });
    }
    if let Some(j) = &sync.journal {
        j.finish()?;
    }
    Ok(report)
}

/// A step that writes nothing: its report; the journal remembers a person
/// confirmed as they are (linked, unchanged), and an unreadable user's
/// failure.
fn settle(
    sync: &Sync,
    step: &Step,
    confirmed: &mut Vec<KnownPerson>,
) -> Result<UserReport, SyncError> {
    if let Some(j) = &sync.journal {
        match step.action {
            Action::Link | Action::Unchanged => confirmed.extend(step.remember.clone()),
            Action::Unreadable => {
                let reason = step.problems.first().map(|p| p.reason.as_str());
                j.intend(&step.key, "read")?;
                j.outcome(&step.key, reason, None)?;
            }
            _ => {}
        }
    }
    Ok(match &step.identity {
        Some(person) => control_hub_report(step, person, None, true),
        None => user_report(step, None, 0, true),
    })
}

/// One step, half by half; a half that fails stops the ones after it.
async fn write_step(
    halves: &Halves,
    step: &Step,
    journal: Option<&super::Journal>,
    breaker: &Breaker,
    progress: &Progress,
) -> UserReport {
    if let Some(j) = journal {
        let _ = j.intend(&step.key, step.action.as_ref());
    }
    let mut attempts = 0;
    let mut failed: Option<(&'static str, HalfError)> = None;
    let mut written = Written::default();
    for half in halves.of(step) {
        if !half.writes(step) {
            continue;
        }
        let (result, sent) = count_attempts(half.write(step)).await;
        breaker.record(&result);
        attempts += sent;
        match result {
            Ok(w) => written.user_id = w.user_id.or(written.user_id),
            Err(e) => failed = Some((half.name(), e)),
        }
        progress(Event::Wrote {
            web_ex_id: step.web_ex_id.clone(),
        });
        if failed.is_some() {
            break;
        }
    }
    if let Some(j) = journal {
        let message = failed.as_ref().map(|(_, e)| e.to_string());
        let remember = step.remember.clone().map(|mut p| {
            p.user_id = written.user_id.or(p.user_id);
            p
        });
        let _ = j.outcome(&step.key, message.as_deref(), remember.as_ref());
    }
    let mut report = match &step.identity {
        Some(person) => {
            let failure = failed.as_ref().map(|(half, e)| (*half, e.report()));
            control_hub_report(step, person, failure, true)
        }
        None => {
            let error = match &failed {
                Some((_, HalfError::Site(e))) => Some(e),
                _ => None,
            };
            user_report(step, error, 0, true)
        }
    };
    report.attempts = attempts;
    progress(Event::Done {
        web_ex_id: step.web_ex_id.clone(),
        action: step.action,
        ok: report.error.is_none(),
    });
    report
}

/// Deactivations of the standalone site, 50 users per DelUser.
async fn deactivate(
    sync: &Sync,
    leaving: Vec<(usize, Step)>,
    breaker: &Breaker,
    progress: &Progress,
    reports: &mut BTreeMap<usize, UserReport>,
) {
    for batch in leaving.chunks(crate::ops::DEL_USER_MAX) {
        if breaker.tripped() {
            break;
        }
        let ids: Vec<String> = batch.iter().map(|(_, s)| s.web_ex_id.clone()).collect();
        if let Some(j) = &sync.journal {
            for (_, s) in batch {
                let _ = j.intend(&s.key, "deactivate");
            }
        }
        let (result, attempts) = count_attempts(sync.client.deactivate(&ids)).await;
        breaker.record(&result);
        for (i, step) in batch {
            let failed = deactivation_failure(&result, step, attempts);
            if let Some(j) = &sync.journal {
                let message = failed.as_ref().map(|e| e.to_string());
                let _ = j.outcome(&step.key, message.as_deref(), None);
            }
            progress(Event::Wrote {
                web_ex_id: step.web_ex_id.clone(),
            });
            progress(Event::Done {
                web_ex_id: step.web_ex_id.clone(),
                action: Action::Deactivate,
                ok: failed.is_none(),
            });
            reports.insert(*i, user_report(step, failed.as_ref(), attempts, true));
        }
    }
}

/// This user's failure in a DelUser batch's answer, if any.
fn deactivation_failure(
    result: &Result<crate::ops::Deleted, ClientError>,
    step: &Step,
    attempts: u32,
) -> Option<ClientError> {
    match result {
        Ok(d)
            if d.users
                .iter()
                .any(|u| u.web_ex_id.eq_ignore_ascii_case(&step.web_ex_id) && !u.is_success()) =>
        {
            Some(ClientError {
                operation: crate::ops::Operation::DelUser,
                key: Some(step.web_ex_id.clone()),
                kind: ErrorKind::Service(crate::xml::ServiceError::from(
                    crate::xml::ServiceFailure::new("", "DelUser reported FAILURE for this user"),
                )),
                attempts,
            })
        }
        Ok(_) => None,
        // The batch's own cause, for each of its users: a refusal stays a
        // refusal (it was once relabelled a transport error).
        Err(e) => Some(ClientError {
            operation: e.operation,
            key: Some(step.web_ex_id.clone()),
            kind: e.kind.clone(),
            attempts: e.attempts,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::FlatUser;
    use crate::xml::{ServiceError, ServiceErrorKind, ServiceFailure};

    fn step(web_ex_id: &str) -> Step {
        Step {
            web_ex_id: web_ex_id.into(),
            key: web_ex_id.into(),
            row: None,
            action: Action::Deactivate,
            change: FlatUser::default(),
            before: FlatUser::default(),
            problems: Vec::new(),
            identity: None,
            licence: None,
            claims: Vec::new(),
            remember: None,
        }
    }

    /// Issue 20: a DelUser batch the site refused as a whole keeps the
    /// site's answer for each of its users; it used to be relabelled a
    /// transport error, losing the kind (here: not a full site admin).
    #[test]
    fn a_refused_deluser_batch_keeps_its_kind_for_each_user() {
        let refused: Result<crate::ops::Deleted, ClientError> = Err(ClientError {
            operation: crate::ops::Operation::DelUser,
            key: Some("a,b".into()),
            kind: ErrorKind::Service(ServiceError::from(ServiceFailure::new(
                "000001",
                "Access denied",
            ))),
            attempts: 1,
        });
        let failed = deactivation_failure(&refused, &step("b"), 1).expect("a failure");
        assert_eq!(failed.key.as_deref(), Some("b"));
        assert_eq!(
            failed.service().map(ServiceError::kind),
            Some(ServiceErrorKind::AccessDenied),
            "{failed}"
        );
        assert_eq!(
            crate::Error::from(failed).kind(),
            crate::ErrorKind::AccessDenied
        );
    }
}
