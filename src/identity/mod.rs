//! The Webex identity half of a Control-Hub-managed site: people in the
//! organisation through Webex's SCIM 2 API
//! (`https://webexapis.com/identity/scim/{orgId}/v2/Users`).
//!
//! A person is carried as the catalogue attributes the SCIM core User maps
//! to (the one mapping in [`crate::scim::user`]): names, email, title,
//! phones …, plus its SCIM id, externalId and displayName. Find by userName,
//! create, PATCH only what changed, (de)activate by `active`; DELETE only when
//! asked. 429 waits for `Retry-After`; 5xx and dropped connections back off.

pub mod transport;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{Value as Json, json};

use crate::rest::{RestClient, RestError, RestErrorKind};
use crate::retry::RetryPolicy;
use crate::schema::{Attribute, FlatKey, FlatUser, Value};
use crate::scim::user::{CORE, ENTERPRISE, EXTENSION, PATCH, core_path, from_scim, to_scim};
use crate::secret::Secret;
pub use transport::{HttpRequest, HttpResponse, HttpTransport, JsonReplay, Method, TransportError};

/// Webex's identity API, without the organisation: `{base}/{orgId}/v2`.
pub const DEFAULT_BASE_URL: &str = "https://webexapis.com/identity/scim";

/// Warn this long before a known token expiry (the seeds' tokens live 365 days).
pub const EXPIRY_WARNING: Duration = Duration::from_secs(30 * 24 * 3600);

/// One person of the organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    /// The SCIM id (absent before creation).
    pub id: Option<String>,
    /// Catalogue attributes: webExId (the userName), email, firstName,
    /// lastName, title, phones, address …; `active` as ACTIVATED/DEACTIVATED.
    pub attributes: FlatUser,
    /// `displayName`, when the identity has one.
    pub display_name: Option<String>,
    /// `externalId`: the id the source of truth (an IdP) keeps for the person.
    pub external_id: Option<String>,
}

impl Person {
    /// The userName: the person's primary email.
    pub fn user_name(&self) -> &str {
        self.attributes.text(Attribute::WebExId).unwrap_or_default()
    }

    /// Whether the person is active (anything but `active: false`).
    pub fn active(&self) -> bool {
        self.attributes.text(Attribute::Active) != Some("DEACTIVATED")
    }

    /// A person as the identity API answers it; the error says what in the
    /// body does not make a person.
    pub fn from_json(json: &Json) -> Result<Person, crate::scim::user::BadUser> {
        let (attributes, external_id) = from_scim(json)?;
        Ok(Person {
            id: json.get("id").and_then(Json::as_str).map(str::to_owned),
            attributes,
            display_name: json
                .get("displayName")
                .and_then(Json::as_str)
                .map(str::to_owned),
            external_id,
        })
    }

    /// The body of a POST: core (and enterprise) attributes only, `userType`
    /// as the API requires.
    pub fn to_json(&self) -> Json {
        // The userName is the primary email: listed as the work email too.
        let mut attributes = self.attributes.clone();
        if attributes.text(Attribute::Email).is_none() && self.user_name().contains('@') {
            attributes.insert(
                FlatKey::new(Attribute::Email),
                Value::Text(self.user_name().to_owned()),
            );
        }
        let mut out = to_scim(&attributes, "", self.external_id.as_deref(), "");
        if let Some(o) = out.as_object_mut() {
            o.remove("id");
            o.remove("meta");
            o.remove(EXTENSION);
            o.insert("userType".into(), json!("user"));
            if let Some(d) = &self.display_name {
                o.insert("displayName".into(), json!(d));
            }
            let schemas: Vec<&str> = [CORE, ENTERPRISE]
                .into_iter()
                .filter(|s| *s == CORE || o.contains_key(*s))
                .collect();
            o.insert("schemas".into(), json!(schemas));
        }
        out
    }
}

/// The PATCH `replace` operations that bring a person to `change` (catalogue
/// attributes, each at its SCIM path); an email change also changes the
/// userName, which Webex keeps equal to the primary email.
pub fn patch_ops(change: &FlatUser) -> Vec<(String, Json)> {
    let mut ops = Vec::new();
    for (key, value) in change.iter() {
        let Some(path) = core_path(key.attribute) else {
            continue;
        };
        let json = match (key.attribute, value) {
            (Attribute::Active, Value::Text(t)) => json!(t != "DEACTIVATED"),
            (Attribute::Password | Attribute::NewWebExId, _) => continue,
            (_, Value::Text(t)) => json!(t),
            (_, Value::Bool(b)) => json!(b),
            (_, Value::Int(i)) => json!(i),
            _ => continue,
        };
        if key.attribute == Attribute::Email {
            ops.push(("userName".to_owned(), json.clone()));
        }
        ops.push((path, json));
    }
    ops
}

/// What the identity client was doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::Display, serde::Serialize)]
pub enum IdentityOp {
    /// Looking a person up by userName.
    Find,
    /// Creating a person (`POST /Users`).
    Create,
    /// Changing a person's attributes (`PATCH /Users/{id}`).
    Update,
    /// Deactivating a person (PATCH `active: false`).
    Deactivate,
    /// Reactivating a person (PATCH `active: true`).
    Reactivate,
    /// Deleting a person (`DELETE /Users/{id}`).
    Delete,
}

/// The classified cause of an [`IdentityError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityErrorKind {
    /// 404 or 410: no such person.
    #[error("no such person")]
    NotFound,
    /// 409: the userName is taken; holds the API's message (and tracking id).
    #[error("a person with this userName already exists: {0}")]
    AlreadyExists(String),
    /// 401: the token is missing, expired or not accepted.
    #[error("the token was refused (401): {0}")]
    Auth(String),
    /// 403: the token lacks a scope or the admin a role.
    #[error("access denied (403): {0}")]
    AccessDenied(String),
    /// 429 on every attempt: the retries ran out waiting for the API.
    #[error("rate limited (429), still after every retry")]
    RateLimited,
    /// 400: the API refused a value; holds its message.
    #[error("invalid value (400): {0}")]
    Invalid(String),
    /// Any other status: the status and the API's message.
    #[error("HTTP status {0}: {1}")]
    Http(u16, String),
    /// No answer came back (timeout, connection, refused URL …).
    #[error(transparent)]
    Transport(TransportError),
    /// The answer is not the SCIM the call expects; says what was wrong.
    #[error("malformed response: {0}")]
    Malformed(String),
}

/// A failed identity call: the operation, the person (userName), why, and
/// the `TrackingID` Cisco support asks for (as [`crate::rest::RestError`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "identity {operation} {key}: {kind}{}",
    tracking_id.as_deref().map(|t| format!(" (trackingId {t})")).unwrap_or_default()
)]
#[non_exhaustive]
pub struct IdentityError {
    /// What the client was doing.
    pub operation: IdentityOp,
    /// The person the call was about (the userName).
    pub key: String,
    /// The cause (also the error's `source()`).
    #[source]
    pub kind: IdentityErrorKind,
    /// Attempts made.
    pub attempts: u32,
    /// The answer's `TrackingID` (header, else the body's `trackingId`),
    /// when there was an answer.
    pub tracking_id: Option<String>,
}

impl IdentityError {
    /// Whether a later attempt may succeed without any change (429, 5xx, a dropped connection).
    pub fn is_transient(&self) -> bool {
        match &self.kind {
            IdentityErrorKind::RateLimited => true,
            IdentityErrorKind::Http(s, _) => *s >= 500,
            IdentityErrorKind::Transport(t) => t.is_transient(),
            _ => false,
        }
    }

    /// Whether the person does not exist.
    pub fn is_not_found(&self) -> bool {
        self.kind == IdentityErrorKind::NotFound
    }
}

/// The SCIM 2 client of one organisation, on the shared REST client.
pub struct IdentityClient {
    rest: RestClient,
    token_expires: Option<SystemTime>,
}

impl std::fmt::Debug for IdentityClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityClient")
            .field("base", &self.rest.base())
            .field("rest", &self.rest)
            .finish_non_exhaustive()
    }
}

/// Announces the identity API's waits from this module, so that
/// `RUST_LOG=wbxprov::identity=…` selects them.
fn announce(cause: &str, notice: crate::retry::WaitNotice) {
    crate::client::announce_wait!(
        cause,
        notice.length,
        notice.source,
        notice.next_attempt,
        notice.max_attempts,
    );
}

/// The identity's view of a REST error; the `TrackingID` is kept beside
/// the kind (the kinds keep their shape for the sync report).
fn identity_error(operation: IdentityOp, e: RestError) -> IdentityError {
    let kind = match e.kind {
        RestErrorKind::NotFound(_) => IdentityErrorKind::NotFound,
        RestErrorKind::Conflict(d) => IdentityErrorKind::AlreadyExists(d),
        RestErrorKind::Auth(d) => IdentityErrorKind::Auth(d),
        RestErrorKind::AccessDenied(d) => IdentityErrorKind::AccessDenied(d),
        RestErrorKind::RateLimited => IdentityErrorKind::RateLimited,
        RestErrorKind::Invalid { message, .. } => IdentityErrorKind::Invalid(message),
        RestErrorKind::Http(status, d) => IdentityErrorKind::Http(status, d),
        RestErrorKind::Transport(t) => IdentityErrorKind::Transport(t),
        RestErrorKind::Malformed(m) => IdentityErrorKind::Malformed(m),
    };
    IdentityError {
        operation,
        key: e.key,
        kind,
        attempts: e.attempts,
        tracking_id: e.tracking_id,
    }
}

impl IdentityClient {
    /// `base_url` is [`DEFAULT_BASE_URL`] for Webex (another for Webex for
    /// Government, or the simulator).
    pub fn new(
        base_url: &str,
        org_id: &str,
        token: Secret,
        transport: Arc<dyn HttpTransport>,
    ) -> Self {
        let base = format!("{}/{org_id}/v2", base_url.trim_end_matches('/'));
        IdentityClient {
            rest: RestClient::new("identity API", &base, token, transport).announcer(announce),
            token_expires: None,
        }
    }

    /// How often and how long transient failures are retried.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.rest = self.rest.retry(retry);
        self
    }

    /// When the token expires, if known.
    pub fn token_expires(mut self, at: SystemTime) -> Self {
        self.token_expires = Some(at);
        self
    }

    /// A warning when the token expires within [`EXPIRY_WARNING`] of `now`.
    pub fn token_warning(&self, now: SystemTime) -> Option<String> {
        let at = self.token_expires?;
        match at.duration_since(now) {
            Err(_) => Some("the identity token has expired: get a new one in Control Hub".into()),
            Ok(left) if left <= EXPIRY_WARNING => Some(format!(
                "the identity token expires in {} day(s): renew it before then",
                left.as_secs() / 86_400
            )),
            Ok(_) => None,
        }
    }

    async fn call(
        &self,
        operation: IdentityOp,
        key: &str,
        method: Method,
        path: &str,
        body: Option<Json>,
    ) -> Result<Option<Json>, IdentityError> {
        self.rest
            .call(&operation.to_string(), key, method, path, body)
            .await
            .map(|answer| answer.body)
            .map_err(|e| identity_error(operation, e))
    }

    fn person(json: Option<Json>, op: IdentityOp, key: &str) -> Result<Person, IdentityError> {
        let malformed = |m: String| IdentityError {
            operation: op,
            key: key.to_owned(),
            kind: IdentityErrorKind::Malformed(m),
            attempts: 1,
            tracking_id: None,
        };
        let json =
            json.ok_or_else(|| malformed("an empty answer where a person was due".into()))?;
        Person::from_json(&json).map_err(|e| malformed(e.to_string()))
    }

    /// The person whose userName is `user_name` (case-insensitive), if any.
    pub async fn find(&self, user_name: &str) -> Result<Option<Person>, IdentityError> {
        let filter = crate::rest::query_escape(&format!(
            "userName eq \"{}\"",
            user_name.replace('"', "\\\"")
        ));
        let path = format!("/Users?filter={filter}&startIndex=1&count=2");
        let list = self
            .call(IdentityOp::Find, user_name, Method::GET, &path, None)
            .await?
            .unwrap_or_default();
        let found = list
            .get("Resources")
            .and_then(Json::as_array)
            .and_then(|r| r.first());
        match found {
            None => Ok(None),
            Some(j) => Self::person(Some(j.clone()), IdentityOp::Find, user_name).map(Some),
        }
    }

    /// Creates a person (`POST /Users`) and returns it as the API answered, with its id.
    ///
    /// # Errors
    ///
    /// [`IdentityErrorKind::AlreadyExists`] when the userName is taken; any other failure of
    /// the call.
    pub async fn create(&self, person: &Person) -> Result<Person, IdentityError> {
        let key = person.user_name().to_owned();
        let answer = self
            .call(
                IdentityOp::Create,
                &key,
                Method::POST,
                "/Users",
                Some(person.to_json()),
            )
            .await?;
        Self::person(answer, IdentityOp::Create, &key)
    }

    /// PATCH `replace` of the given paths (see [`patch_ops`]).
    pub async fn update(
        &self,
        id: &str,
        user_name: &str,
        ops: &[(String, Json)],
    ) -> Result<Person, IdentityError> {
        self.patch(IdentityOp::Update, id, user_name, ops).await
    }

    /// Deactivates (`active: false`) or reactivates a person by its SCIM id.
    pub async fn set_active(
        &self,
        id: &str,
        user_name: &str,
        active: bool,
    ) -> Result<Person, IdentityError> {
        let op = if active {
            IdentityOp::Reactivate
        } else {
            IdentityOp::Deactivate
        };
        self.patch(op, id, user_name, &[("active".to_owned(), json!(active))])
            .await
    }

    async fn patch(
        &self,
        op: IdentityOp,
        id: &str,
        user_name: &str,
        ops: &[(String, Json)],
    ) -> Result<Person, IdentityError> {
        let operations: Vec<Json> = ops
            .iter()
            .map(|(path, value)| json!({"op": "replace", "path": path, "value": value}))
            .collect();
        let body = json!({"schemas": [PATCH], "Operations": operations});
        let answer = self
            .call(
                op,
                user_name,
                Method::PATCH,
                &format!("/Users/{id}"),
                Some(body),
            )
            .await?;
        Self::person(answer, op, user_name)
    }

    /// Removes the person from the organisation: only on request.
    pub async fn delete(&self, id: &str, user_name: &str) -> Result<(), IdentityError> {
        self.call(
            IdentityOp::Delete,
            user_name,
            Method::DELETE,
            &format!("/Users/{id}"),
            None,
        )
        .await
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_error_keeps_the_tracking_id_in_its_words() {
        let rest = RestError {
            api: "identity API",
            operation: "Find".into(),
            key: "jdoe@example.com".into(),
            kind: RestErrorKind::Auth("token expired".into()),
            tracking_id: Some("ROUTER_X".into()),
            attempts: 1,
        };
        let e = identity_error(IdentityOp::Find, rest);
        assert_eq!(e.kind, IdentityErrorKind::Auth("token expired".into()));
        assert_eq!(e.tracking_id.as_deref(), Some("ROUTER_X"));
        let shown = e.to_string();
        assert!(shown.contains("jdoe@example.com"), "{shown}");
        assert!(
            shown.ends_with("token expired (trackingId ROUTER_X)"),
            "{shown}"
        );
    }
}
