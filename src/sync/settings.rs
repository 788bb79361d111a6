//! Control Hub mode's Meetings settings, routed by the catalogue's
//! `controlHub` column ([`crate::validate::control_hub::owner`]): what the
//! session-types API owns (meetingTypes) goes to `PUT
//! /v1/admin/meeting/userconfig/sessionTypes`, what the tracking-codes API
//! owns to `PUT /v1/admin/meeting/userconfig/trackingCodes`, everything else
//! to SetUser. One person's change is at most one SetUser and one PUT per
//! REST owner. `preferences` (personal room topic, host PIN, auto-lock) stay
//! with SetUser, which takes them too: wbxprov has no meetingPreferences
//! client yet (its Personal Room PUT requires the whole room — topic,
//! hostPin, auto-lock, notify, co-hosts, `UpdatePMRObject` — so one changed
//! attribute would need a read-modify-write).
//!
//! Sources: webex-openapi-specs `public-spec/webex-meeting.json` (Update User
//! Session Types replaces the set; Update User Tracking Codes sets codes by
//! the names the site defines, List Tracking Codes gives them).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Problem, Step, SyncError};
use crate::rest::RestError;
use crate::rest::licences::PersonRef;
use crate::rest::meeting::MeetingConfigClient;
use crate::schema::{ControlHubApi, FlatUser, Value};
use crate::validate::control_hub::{owner, tracking_code_attribute, tracking_code_slot};

/// The Meetings admin API of a Control Hub run, for one site.
pub(crate) struct SettingsApi {
    /// The Meetings admin API (`/v1/admin/meeting/…`).
    pub client: Arc<MeetingConfigClient>,
    /// `example.webex.com`.
    pub site_url: String,
    /// The site's tracking-code names by slot, read once, when first needed.
    names: tokio::sync::OnceCell<Result<BTreeMap<u32, String>, RestError>>,
}

/// One person's Meetings change, by the API that owns each part.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Routed {
    /// For SetUser.
    pub xml: FlatUser,
    /// The whole set of session type ids, when it changes.
    pub session_types: Option<Vec<i64>>,
    /// `(slot, value)` of each tracking code that changes.
    pub tracking_codes: Vec<(u32, String)>,
}

/// Splits `change` by the catalogue's owner of each attribute. A value of
/// another shape than the REST API takes stays with SetUser, which the
/// validator has judged it for.
pub(super) fn route(change: &FlatUser) -> Routed {
    let mut routed = Routed::default();
    for (k, v) in change.iter() {
        match (owner(k.attribute), v) {
            (ControlHubApi::SessionTypes, Value::IntList(ids)) => {
                routed.session_types = Some(ids.clone());
            }
            (ControlHubApi::TrackingCodes, Value::Text(text)) => {
                match tracking_code_slot(k.attribute) {
                    Some(slot) => routed.tracking_codes.push((slot, text.clone())),
                    None => {
                        routed.xml.insert(*k, v.clone());
                    }
                }
            }
            _ => {
                routed.xml.insert(*k, v.clone());
            }
        }
    }
    routed
}

/// The most characters of a tracking code's value through the REST API
/// (Update User Tracking Codes: "`value` cannot be empty and the maximum
/// size is 120 characters"; the XML API takes 128).
pub const MAX_TRACKING_CODE_CHARS: usize = 120;

/// The problem of a value the tracking-codes API would refuse for its length.
fn too_long(slot: u32, value: &str) -> Option<Problem> {
    let chars = value.chars().count();
    (chars > MAX_TRACKING_CODE_CHARS).then(|| Problem {
        attribute: tracking_code_attribute(slot).map(|a| a.name().to_owned()),
        reason: format!(
            "{chars} characters: the tracking-codes API takes at most {MAX_TRACKING_CODE_CHARS} (Update User Tracking Codes)"
        ),
    })
}

/// Why a settings write failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// The meetings API refused or did not answer.
    #[error(transparent)]
    Rest(Box<RestError>),
    /// The site defines no tracking code for a slot the person sets.
    #[error(
        "meetings API set tracking codes {email}: trackingCode{slot}: site {site_url} defines no tracking code with id {slot} (GET /v1/admin/meeting/config/trackingCodes)"
    )]
    UnknownTrackingCode {
        /// The person whose code it is.
        email: String,
        /// N of `trackingCodeN`.
        slot: u32,
        /// The site whose list lacks it.
        site_url: String,
    },
}

impl SettingsError {
    /// The report's error kind.
    pub fn kind(&self) -> &'static str {
        match self {
            SettingsError::Rest(e) => super::site_licence::rest_kind(e),
            SettingsError::UnknownTrackingCode { .. } => "unknownTrackingCode",
        }
    }

    /// Whether the service never answered (for the breaker).
    pub(super) fn unanswered(&self) -> bool {
        use crate::rest::RestErrorKind;
        matches!(
            self,
            SettingsError::Rest(e)
                if matches!(e.kind, RestErrorKind::Transport(_) | RestErrorKind::Http(..))
        )
    }
}

impl SettingsApi {
    /// The API for `site_url`'s users.
    pub fn new(client: Arc<MeetingConfigClient>, site_url: impl Into<String>) -> SettingsApi {
        SettingsApi {
            client,
            site_url: site_url.into(),
            names: tokio::sync::OnceCell::new(),
        }
    }

    /// Sends the REST parts of `routed` for the person `email`: the session
    /// types, then the tracking codes.
    pub(super) async fn write(&self, email: &str, routed: &Routed) -> Result<(), SettingsError> {
        let person = PersonRef::Email(email.to_owned());
        if let Some(ids) = &routed.session_types {
            self.client
                .set_session_types(&self.site_url, &person, ids)
                .await
                .map_err(|e| SettingsError::Rest(Box::new(e)))?;
        }
        if routed.tracking_codes.is_empty() {
            return Ok(());
        }
        let codes = self.named(email, &routed.tracking_codes).await?;
        self.client
            .set_tracking_codes(&self.site_url, &person, &codes)
            .await
            .map(|_| ())
            .map_err(|e| SettingsError::Rest(Box::new(e)))
    }

    /// The site's tracking-code names by slot, read once.
    async fn names(&self) -> Result<&BTreeMap<u32, String>, RestError> {
        self.names
            .get_or_init(|| async {
                let listed = self.client.site_tracking_codes(&self.site_url).await?;
                Ok(listed
                    .into_iter()
                    .filter_map(|c| Some((c.id.parse().ok()?, c.name)))
                    .collect())
            })
            .await
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Before any write: each step that sets a tracking code the site does
    /// not define becomes invalid, naming the attribute (the service would
    /// refuse the name: "A name that is not found in the site-level tracking
    /// codes cannot be set", Update User Tracking Codes). The site's list is
    /// read only when some step sets a tracking code.
    pub(super) async fn check_plan(&self, steps: &mut [Step]) -> Result<(), SyncError> {
        let sets_codes = |s: &Step| !route(&s.change).tracking_codes.is_empty();
        if !steps.iter().any(sets_codes) {
            return Ok(());
        }
        let names = self
            .names()
            .await
            .map_err(|e| SyncError::MeetingSettings(Box::new(e)))?;
        for step in steps.iter_mut() {
            let problems: Vec<Problem> = route(&step.change)
                .tracking_codes
                .iter()
                .filter_map(|(slot, value)| match names.contains_key(slot) {
                    false => Some(self.undefined(*slot)),
                    true => too_long(*slot, value),
                })
                .collect();
            if let (false, Some(row)) = (problems.is_empty(), step.row) {
                let key = std::mem::take(&mut step.key);
                *step = Step::invalid(row, &key, problems);
                step.key = key;
            }
        }
        Ok(())
    }

    /// The problem of a tracking-code slot the site does not define.
    fn undefined(&self, slot: u32) -> Problem {
        let attribute = tracking_code_attribute(slot).map(|a| a.name().to_owned());
        Problem {
            attribute,
            reason: format!(
                "site {} defines no tracking code with id {slot} (GET /v1/admin/meeting/config/trackingCodes): the tracking-codes API cannot set it",
                self.site_url
            ),
        }
    }

    /// `(name, value)` of each `(slot, value)`, by the site's names.
    async fn named(
        &self,
        email: &str,
        codes: &[(u32, String)],
    ) -> Result<Vec<(String, String)>, SettingsError> {
        let names = self
            .names()
            .await
            .map_err(|e| SettingsError::Rest(Box::new(e)))?;
        codes
            .iter()
            .map(|(slot, value)| match names.get(slot) {
                Some(name) => Ok((name.clone(), value.clone())),
                None => Err(SettingsError::UnknownTrackingCode {
                    email: email.to_owned(),
                    slot: *slot,
                    site_url: self.site_url.clone(),
                }),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, FlatKey};

    #[test]
    fn the_catalogue_routes_session_types_and_tracking_codes_to_rest() {
        let change: FlatUser = [
            (Attribute::MeetingTypes, Value::IntList(vec![3, 214])),
            (
                Attribute::TrackingTrackingCode2,
                Value::Text("Sales".into()),
            ),
            (Attribute::PrivilegeHQvideo, Value::Bool(true)),
        ]
        .into_iter()
        .map(|(a, v)| (FlatKey::new(a), v))
        .collect();
        let routed = route(&change);
        assert_eq!(routed.session_types, Some(vec![3, 214]));
        assert_eq!(routed.tracking_codes, [(2, "Sales".to_owned())]);
        let xml: Vec<Attribute> = routed.xml.iter().map(|(k, _)| k.attribute).collect();
        assert_eq!(xml, [Attribute::PrivilegeHQvideo]);
    }
}
