//! The Meetings admin API of webexapis.com, acting for a user: their session
//! types (`GET`/`PUT /v1/admin/meeting/userconfig/sessionTypes`) and tracking
//! codes (`GET`/`PUT /v1/admin/meeting/userconfig/trackingCodes`, with the
//! site's names from `GET /v1/admin/meeting/config/trackingCodes`).
//!
//! Tracking codes (webex-openapi-specs `public-spec/webex-meeting.json`, "Get
//! User Tracking Codes", "Update User Tracking Codes", "List Tracking
//! Codes"): the PUT body is `{siteUrl, personId | email, trackingCodes[{name,
//! value}]}`; a name the site does not define cannot be set, so names come
//! from the site's list (`items[{id, name, siteUrl, inputMode, options …}]`);
//! values are at most 120 characters and not empty; once a Control Hub
//! managed site maps its tracking codes to Control Hub attributes (a one-way
//! switch) the PUT no longer works. The GET takes `personId` in the query but
//! `email` in a request header, which this client's transport does not send:
//! it reads by `personId` only.
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

/// One of the site's tracking codes (List Tracking Codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteTrackingCode {
    /// The reference's examples number them "1", "2" …
    pub id: String,
    /// What a user's tracking code is set by.
    pub name: String,
}

/// A user's tracking codes on one site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserTrackingCodes {
    /// The site the codes are of (`example.webex.com`).
    pub site_url: Option<String>,
    /// The user's email, as the answer gives it.
    pub email: Option<String>,
    /// The user's People id.
    pub person_id: Option<String>,
    /// `(name, value)`, as the answer lists them.
    pub codes: Vec<(String, String)>,
}

impl UserTrackingCodes {
    fn from_json(j: &Json) -> Option<UserTrackingCodes> {
        let text = |v: &Json, k: &str| v.get(k).and_then(Json::as_str).map(str::to_owned);
        let codes = j
            .get("trackingCodes")?
            .as_array()?
            .iter()
            .take(1000)
            .filter_map(|c| Some((text(c, "name")?, text(c, "value").unwrap_or_default())))
            .collect();
        Some(UserTrackingCodes {
            site_url: text(j, "siteUrl"),
            email: text(j, "email"),
            person_id: text(j, "personId"),
            codes,
        })
    }
}

/// The most tracking codes read from a site's list (a site defines a few).
pub const MAX_SITE_TRACKING_CODES: usize = 1000;

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

    /// `PUT /admin/meeting/userconfig/{setting}` for `person` (their
    /// `email` or `personId` added to `body`).
    async fn put_for(
        &self,
        person: &PersonRef,
        operation: &str,
        setting: &str,
        mut body: Json,
    ) -> Result<super::RestAnswer, RestError> {
        let (field, value) = match person {
            PersonRef::Email(e) => ("email", e),
            PersonRef::PersonId(p) => ("personId", p),
        };
        body[field] = json!(value);
        let path = format!("/admin/meeting/userconfig/{setting}");
        self.rest
            .call(operation, person.key(), Method::PUT, &path, Some(body))
            .await
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
            .call("session types", person.key(), Method::GET, &path, None)
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
        let body = json!({
            "siteUrl": site_url,
            "sessionTypeIds": ids.iter().map(i64::to_string).collect::<Vec<_>>(),
        });
        let answer = self
            .put_for(person, "set session types", "sessionTypes", body)
            .await?;
        let body = answer.body.unwrap_or_default();
        UserSessionTypes::from_json(&body).ok_or_else(|| malformed(person, answer.tracking_id))
    }

    /// The tracking codes `site_url` defines (List Tracking Codes): the
    /// names users' codes are set by.
    pub async fn site_tracking_codes(
        &self,
        site_url: &str,
    ) -> Result<Vec<SiteTrackingCode>, RestError> {
        let path = format!(
            "/admin/meeting/config/trackingCodes?siteUrl={}",
            super::query_escape(site_url)
        );
        let items = self
            .rest
            .get_linked(
                "site tracking codes",
                site_url,
                &path,
                MAX_SITE_TRACKING_CODES,
            )
            .await?;
        Ok(items
            .iter()
            .filter_map(|c| {
                let text = |k: &str| c.get(k).and_then(Json::as_str).map(str::to_owned);
                Some(SiteTrackingCode {
                    id: text("id")?,
                    name: text("name")?,
                })
            })
            .collect())
    }

    /// The user's tracking codes on `site_url`, by `personId` (the
    /// reference takes `email` in a header only).
    pub async fn tracking_codes(
        &self,
        site_url: &str,
        person_id: &str,
    ) -> Result<UserTrackingCodes, RestError> {
        let path = format!(
            "/admin/meeting/userconfig/trackingCodes?siteUrl={}&personId={}",
            super::query_escape(site_url),
            super::query_escape(person_id)
        );
        let answer = self
            .rest
            .call("tracking codes", person_id, Method::GET, &path, None)
            .await?;
        let person = PersonRef::PersonId(person_id.to_owned());
        UserTrackingCodes::from_json(&answer.body.unwrap_or_default()).ok_or_else(|| {
            malformed_list(
                "tracking codes",
                "trackingCodes",
                &person,
                answer.tracking_id,
            )
        })
    }

    /// Sets the user's tracking codes named in `codes` (`(name, value)`) on
    /// `site_url`.
    pub async fn set_tracking_codes(
        &self,
        site_url: &str,
        person: &PersonRef,
        codes: &[(String, String)],
    ) -> Result<UserTrackingCodes, RestError> {
        let listed: Vec<Json> = codes
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
        let body = json!({"siteUrl": site_url, "trackingCodes": listed});
        let answer = self
            .put_for(person, "set tracking codes", "trackingCodes", body)
            .await?;
        UserTrackingCodes::from_json(&answer.body.unwrap_or_default()).ok_or_else(|| {
            malformed_list(
                "set tracking codes",
                "trackingCodes",
                person,
                answer.tracking_id,
            )
        })
    }
}

/// An answer without the session types it should list.
fn malformed(person: &PersonRef, tracking_id: Option<String>) -> RestError {
    malformed_list("session types", "sessionTypes", person, tracking_id)
}

/// An answer without the `list` it should hold.
fn malformed_list(
    operation: &str,
    list: &str,
    person: &PersonRef,
    tracking_id: Option<String>,
) -> RestError {
    RestError {
        api: "meetings API",
        operation: operation.into(),
        key: person.key().to_owned(),
        kind: RestErrorKind::Malformed(format!("no {list} list in the answer")),
        tracking_id,
        attempts: 1,
    }
}
