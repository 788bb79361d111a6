//! The Meetings admin API of webexapis.com, acting for a user: their session
//! types (`GET`/`PUT /v1/admin/meeting/userconfig/sessionTypes`).
//!
//! Source: developer.webex.com/docs/api/v1/session-types ("List User
//! Session Type", "Update User Session Types"; `../shared/spec/control-hub.md`):
//! the PUT body is `{siteUrl, personId | email, sessionTypeIds}` and replaces
//! the user's set; the answer lists `personId`, `email`, `siteUrl` and
//! `sessionTypes[{id, shortName, name, type}]`. Scopes
//! `meeting:admin_schedule_*` or `meeting:admin_config_*`; the admin must be
//! a full org admin and a site admin of the site.

use std::sync::Arc;

use serde_json::{Value as Json, json};

use super::licences::PersonRef;
use super::{HttpTransport, Method, RestClient, RestError, RestErrorKind};
use crate::retry::RetryPolicy;
use crate::secret::Secret;

/// One session type a user holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionType {
    /// The session type's id: the XML API's `meetingType` number.
    pub id: i64,
    /// `shortName`, e.g. `PRO`.
    pub short_name: Option<String>,
    /// `name`, the type's display name.
    pub name: Option<String>,
    /// `meetingCenter`, `webinar`, `privateMeeting`, `eventCenter`,
    /// `supportCenter`, `trainingCenter`.
    pub kind: Option<String>,
}

/// A user's session types on one site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSessionTypes {
    /// The site, e.g. `example.webex.com`.
    pub site_url: Option<String>,
    /// The user's email address.
    pub email: Option<String>,
    /// The user's Webex id (`personId`).
    pub person_id: Option<String>,
    /// The session types the user holds there.
    pub session_types: Vec<SessionType>,
}

impl UserSessionTypes {
    fn from_json(j: &Json) -> Option<UserSessionTypes> {
        let text = |v: &Json, k: &str| v.get(k).and_then(Json::as_str).map(str::to_owned);
        let session_types = j
            .get("sessionTypes")?
            .as_array()?
            .iter()
            .take(1000)
            .filter_map(|t| {
                // The reference shows ids as strings; numbers are taken too.
                let id = match t.get("id")? {
                    Json::String(s) => s.parse().ok()?,
                    Json::Number(n) => n.as_i64()?,
                    _ => return None,
                };
                Some(SessionType {
                    id,
                    short_name: text(t, "shortName"),
                    name: text(t, "name"),
                    kind: text(t, "type"),
                })
            })
            .collect();
        Some(UserSessionTypes {
            site_url: text(j, "siteUrl"),
            email: text(j, "email"),
            person_id: text(j, "personId"),
            session_types,
        })
    }

    /// The ids, sorted.
    pub fn ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.session_types.iter().map(|t| t.id).collect();
        ids.sort_unstable();
        ids
    }
}

/// The Meetings admin API, for users' settings.
#[derive(Debug)]
pub struct MeetingConfigClient {
    rest: RestClient,
}

/// Announced from this module (`RUST_LOG=wbxprov::rest::meeting=…`).
fn announce(cause: &str, notice: crate::retry::WaitNotice) {
    crate::client::announce_wait!(
        cause,
        notice.length,
        notice.source,
        notice.next_attempt,
        notice.max_attempts,
    );
}

fn person_query(person: &PersonRef) -> String {
    match person {
        PersonRef::Email(e) => format!("email={}", super::query_escape(e)),
        PersonRef::PersonId(p) => format!("personId={}", super::query_escape(p)),
    }
}

impl MeetingConfigClient {
    /// `base_url` is [`super::DEFAULT_BASE_URL`] (or the simulator's `/v1`).
    pub fn new(base_url: &str, token: Secret, transport: Arc<dyn HttpTransport>) -> Self {
        MeetingConfigClient {
            rest: RestClient::new("meetings API", base_url, token, transport).announcer(announce),
        }
    }

    /// How often and how long transient failures are retried.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.rest = self.rest.retry(retry);
        self
    }

    /// The user's session types on `site_url`.
    pub async fn session_types(
        &self,
        site_url: &str,
        person: &PersonRef,
    ) -> Result<UserSessionTypes, RestError> {
        let path = format!(
            "/admin/meeting/userconfig/sessionTypes?siteUrl={}&{}",
            super::query_escape(site_url),
            person_query(person)
        );
        let answer = self
            .rest
            .call("session types", person.key(), Method::Get, &path, None)
            .await?;
        // The list answer wraps users in `items`; one user is asked for.
        let body = answer.body.unwrap_or_default();
        let user = body
            .get("items")
            .and_then(Json::as_array)
            .and_then(|i| i.first())
            .unwrap_or(&body);
        UserSessionTypes::from_json(user).ok_or_else(|| malformed(person, answer.tracking_id))
    }

    /// Replaces the user's session types on `site_url` with `ids`.
    pub async fn set_session_types(
        &self,
        site_url: &str,
        person: &PersonRef,
        ids: &[i64],
    ) -> Result<UserSessionTypes, RestError> {
        let mut body = json!({
            "siteUrl": site_url,
            "sessionTypeIds": ids.iter().map(i64::to_string).collect::<Vec<_>>(),
        });
        let (field, value) = match person {
            PersonRef::Email(e) => ("email", e),
            PersonRef::PersonId(p) => ("personId", p),
        };
        body[field] = json!(value);
        let answer = self
            .rest
            .call(
                "set session types",
                person.key(),
                Method::Put,
                "/admin/meeting/userconfig/sessionTypes",
                Some(body),
            )
            .await?;
        let body = answer.body.unwrap_or_default();
        UserSessionTypes::from_json(&body).ok_or_else(|| malformed(person, answer.tracking_id))
    }
}

/// An answer without the session types it should list.
fn malformed(person: &PersonRef, tracking_id: Option<String>) -> RestError {
    RestError {
        api: "meetings API",
        operation: "session types".into(),
        key: person.key().to_owned(),
        kind: RestErrorKind::Malformed("no sessionTypes list in the answer".into()),
        tracking_id,
        attempts: 1,
    }
}
