//! SCIM errors (RFC 7644 §3.12), typed: the `scimType` of a 400 answer is a
//! [`ScimType`], never a free string, so a failure keeps its kind from where
//! it happened (a filter, a PATCH path, the validator, the site) to the wire.

use serde_json::{Value as Json, json};

/// The message schema of an error body.
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The `scimType` values of RFC 7644 §3.12, Table 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScimType {
    /// The filter syntax was invalid, or the filter is not supported.
    InvalidFilter,
    /// The filter yields more results than the server will answer.
    TooMany,
    /// One or more attribute values are already in use or reserved.
    Uniqueness,
    /// The change is not compatible with an attribute's mutability.
    Mutability,
    /// The body is not a valid SCIM message.
    InvalidSyntax,
    /// The `path` of a PATCH operation is invalid.
    InvalidPath,
    /// The `path` of a PATCH operation matched nothing it could act on.
    NoTarget,
    /// A required value was missing, or a value is not compatible with the
    /// attribute or the site.
    InvalidValue,
    /// The version (ETag) is invalid.
    InvalidVers,
    /// The request cannot be completed because of sensitive data in its URI.
    Sensitive,
}

impl ScimType {
    /// The word on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVers => "invalidVers",
            ScimType::Sensitive => "sensitive",
        }
    }
}

impl std::fmt::Display for ScimType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A SCIM error response (RFC 7644 §3.12).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {}: {detail}", scim_type.map_or("error", ScimType::as_str))]
#[non_exhaustive]
pub struct ScimError {
    /// The HTTP status, e.g. 400.
    pub status: u16,
    /// RFC 7644 §3.12's `scimType` (`invalidValue`, `uniqueness` …), when one applies.
    pub scim_type: Option<ScimType>,
    /// What went wrong, for people; names the user and attribute where there is one.
    pub detail: String,
    /// Seconds, for 429 and 503.
    pub retry_after: Option<u64>,
}

impl ScimError {
    /// An error of any status; [`bad`](Self::bad), [`not_found`](Self::not_found) and
    /// [`invalid_value`](Self::invalid_value) cover the common ones.
    pub fn new(status: u16, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// 400 with a `scimType`.
    pub fn bad(scim_type: ScimType, detail: impl Into<String>) -> Self {
        ScimError::new(400, Some(scim_type), detail)
    }

    /// 404 for a User id the service does not know.
    pub fn not_found(id: &str) -> Self {
        ScimError::new(404, None, format!("no User {id}"))
    }

    /// 400 `invalidValue`: a value the site cannot take.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        ScimError::bad(ScimType::InvalidValue, detail)
    }

    /// The body: `status` is a string, as RFC 7644 §3.12 writes it.
    pub fn to_json(&self) -> Json {
        let mut out = json!({
            "schemas": [ERROR],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            out["scimType"] = json!(t.as_str());
        }
        out
    }
}

impl From<super::filter::FilterError> for ScimError {
    fn from(e: super::filter::FilterError) -> Self {
        ScimError::bad(e.scim_type(), e.to_string())
    }
}

impl From<super::patch::PatchError> for ScimError {
    fn from(e: super::patch::PatchError) -> Self {
        ScimError::bad(e.scim_type(), e.to_string())
    }
}

impl From<super::translate::TranslateError> for ScimError {
    fn from(e: super::translate::TranslateError) -> Self {
        ScimError::invalid_value(e.to_string())
    }
}

impl From<super::user::BadUser> for ScimError {
    fn from(e: super::user::BadUser) -> Self {
        ScimError::invalid_value(e.to_string())
    }
}
