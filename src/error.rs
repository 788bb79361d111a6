//! One error type for applications that use several areas of the crate
//! (the XML API client, the identity and REST clients, validation, sync, the
//! SCIM front, the simulator): each area's error converts into [`Error`] with
//! `?`, and [`Error::kind`] classifies it the same way whichever area it came
//! from.
//!
//! The classification is read from the area's own typed cause, never from a
//! message: a DelUser that the site answered 030001 is [`ErrorKind::NotFound`]
//! through `client::Error`, `sync::SyncError` and `Error` alike.
//!
//! ```
//! # #[cfg(feature = "validate")]
//! # fn main() {
//! use wbxprov::site::SiteProfile;
//! let profile = SiteProfile::from_toml("[features]\nnoSuchFeature = true\n", ".".as_ref());
//! let error = wbxprov::Error::from(profile.unwrap_err());
//! assert_eq!(error.kind(), wbxprov::ErrorKind::Invalid);
//! # }
//! # #[cfg(not(feature = "validate"))]
//! # fn main() {}
//! ```

use crate::client::transport::TransportError;
use crate::xml::{DecodeError, EncodeError, ServiceError, ServiceErrorKind};

/// What kind of failure an [`Error`] is, for a caller deciding what to do
/// next (retry, skip, create instead of update, ask an admin). The same
/// words in every area; `Other` when an area's cause fits none of them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, strum::AsRefStr, strum::Display,
)]
#[serde(rename_all = "camelCase")]
#[strum(serialize_all = "camelCase")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The user, person or resource does not exist (XML API 030001, HTTP 404).
    NotFound,
    /// It exists already (030004 webExId, 030005 email, HTTP 409).
    Exists,
    /// The credentials, token or session ticket were refused (030002, 030047, 030048, HTTP 401).
    Auth,
    /// The caller may not do this (000001, HTTP 403).
    AccessDenied,
    /// The service's rate limit (000045, HTTP 429), still after every retry.
    RateLimited,
    /// No licence left (`exceededSiteHostLimit`, the profile's `[limits]`).
    LicenceLimit,
    /// A site feature the change needs is off (the service's "Attribute X
    /// needs to be Y", or validation finding only feature, service or
    /// session-type violations).
    FeatureOff,
    /// The input is not acceptable: a value, a file, a mapping, a request.
    Invalid,
    /// The service is there but not serving (000035, a suspended site, HTTP 5xx).
    Unavailable,
    /// No answer: connection, timeout, TLS, a refused redirect.
    Transport,
    /// An answer that cannot be read as what was due.
    Malformed,
    /// The library stopped before writing, to protect the site (a sync that
    /// would deactivate too many users).
    Refused,
    /// Another run holds what this one needs (the sync journal).
    Busy,
    /// Local storage or files (state, journal, id store).
    Io,
    /// None of the above; the message says what.
    Other,
}

/// An error of any area of the crate. Convert with `?` (each area's error has
/// a `From`); classify with [`Error::kind`]; the area's error is the variant's
/// content, for callers that need its details.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An XML API call (CreateUser, SetUser, DelUser, GetUser, LstsummaryUser …).
    #[error(transparent)]
    Client(Box<crate::client::Error>),
    /// A site that could not be told from a name or URL.
    #[error(transparent)]
    Site(crate::client::SiteError),
    /// A transport failure outside a call.
    #[error(transparent)]
    Transport(TransportError),
    /// A FAILURE answer of the XML API outside a call (a saved response).
    #[error(transparent)]
    Service(ServiceError),
    /// A response that does not decode.
    #[error(transparent)]
    Decode(DecodeError),
    /// A request that cannot be encoded.
    #[error(transparent)]
    Encode(EncodeError),
    /// A value that is not of its attribute's type.
    #[error(transparent)]
    Value(crate::schema::ValueError),
    /// A call of the Webex identity (SCIM 2) client.
    #[error(transparent)]
    Identity(Box<crate::identity::IdentityError>),
    /// A call of the licences or Meetings REST APIs.
    #[error(transparent)]
    Rest(Box<crate::rest::RestError>),
    /// A SCIM body that does not make a user or a person.
    #[error(transparent)]
    BadUser(crate::scim::user::BadUser),
    /// A SCIM error answer.
    #[error(transparent)]
    Scim(crate::scim::ScimError),
    /// A SCIM filter that does not parse.
    #[error(transparent)]
    Filter(crate::scim::filter::FilterError),
    /// A SCIM PATCH that does not apply.
    #[error(transparent)]
    Patch(crate::scim::patch::PatchError),
    /// A value an identity provider sent that the site cannot hold.
    #[error(transparent)]
    Translate(crate::scim::translate::TranslateError),
    /// A change the validator refused; nothing was sent.
    #[cfg(feature = "validate")]
    #[error(transparent)]
    Invalid(Box<crate::validate::Invalid>),
    /// A site profile that could not be built.
    #[cfg(feature = "validate")]
    #[error(transparent)]
    Profile(Box<crate::site::ProfileError>),
    /// A sync that could not run.
    #[cfg(feature = "sync")]
    #[error(transparent)]
    Sync(Box<crate::sync::SyncError>),
    /// The sync journal.
    #[cfg(feature = "sync")]
    #[error(transparent)]
    Journal(crate::sync::journal::JournalError),
    /// A sync source that could not be opened.
    #[cfg(feature = "sync")]
    #[error(transparent)]
    Source(crate::sync::SourceError),
    /// A mapping file that was refused.
    #[cfg(feature = "sync")]
    #[error(transparent)]
    Mapping(crate::sync::MappingFileError),
    /// The SCIM id store.
    #[cfg(feature = "scim")]
    #[error(transparent)]
    ScimStore(crate::scim::ids::StoreError),
    /// A SCIM server that did not start.
    #[cfg(feature = "scim")]
    #[error(transparent)]
    ScimServe(crate::scim::http::ServeError),
    /// SCIM group grants that are not usable.
    #[cfg(feature = "scim")]
    #[error(transparent)]
    Grant(crate::scim::groups::GrantError),
    /// The simulator's state.
    #[cfg(feature = "sim")]
    #[error(transparent)]
    SimStore(crate::sim::store::StoreError),
    /// A simulator fault specification that was refused.
    #[cfg(feature = "sim")]
    #[error(transparent)]
    Faults(crate::sim::FaultSpecError),
    /// Local I/O (a file, a listener).
    #[error(transparent)]
    Io(std::io::Error),
}

impl Error {
    /// The classification of this error, taken from the area's typed cause.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Client(e) => client_kind(e),
            Error::Site(_) => ErrorKind::Invalid,
            Error::Transport(_) => ErrorKind::Transport,
            Error::Service(e) => service_kind(e),
            Error::Decode(_) => ErrorKind::Malformed,
            Error::Encode(_) | Error::Value(_) | Error::BadUser(_) => ErrorKind::Invalid,
            Error::Identity(e) => identity_kind(&e.kind),
            Error::Rest(e) => rest_kind(&e.kind),
            Error::Scim(e) => http_status_kind(e.status),
            Error::Filter(_) | Error::Patch(_) | Error::Translate(_) => ErrorKind::Invalid,
            #[cfg(feature = "validate")]
            Error::Invalid(e) => invalid_kind(e),
            #[cfg(feature = "validate")]
            Error::Profile(e) => profile_kind(e),
            #[cfg(feature = "sync")]
            Error::Sync(e) => sync_kind(e),
            #[cfg(feature = "sync")]
            Error::Journal(e) => journal_kind(e),
            #[cfg(feature = "sync")]
            Error::Source(e) => source_kind(e),
            #[cfg(feature = "sync")]
            Error::Mapping(_) => ErrorKind::Invalid,
            #[cfg(feature = "scim")]
            Error::ScimStore(_) => ErrorKind::Io,
            #[cfg(feature = "scim")]
            Error::ScimServe(e) => serve_kind(e),
            #[cfg(feature = "scim")]
            Error::Grant(_) => ErrorKind::Invalid,
            #[cfg(feature = "sim")]
            Error::SimStore(_) => ErrorKind::Io,
            #[cfg(feature = "sim")]
            Error::Faults(_) => ErrorKind::Invalid,
            Error::Io(_) => ErrorKind::Io,
        }
    }

    /// Whether the same call may succeed later without any change (the
    /// area's own judgement where it has one).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Client(e) => e.is_transient(),
            Error::Transport(e) => e.is_transient(),
            Error::Service(e) => e.is_transient(),
            Error::Identity(e) => e.is_transient(),
            Error::Rest(e) => e.is_transient(),
            _ => matches!(
                self.kind(),
                ErrorKind::RateLimited | ErrorKind::Unavailable | ErrorKind::Busy
            ),
        }
    }
}

/// `From` for each area's error; the large ones are boxed so that
/// `Result<_, Error>` stays small.
macro_rules! from_area {
    ($($(#[$cfg:meta])* $variant:ident($ty:ty) $(boxed $boxed:tt)?;)*) => {$(
        $(#[$cfg])*
        impl From<$ty> for Error {
            fn from(e: $ty) -> Self {
                Error::$variant(from_area!(@wrap e $($boxed)?))
            }
        }
    )*};
    (@wrap $e:ident yes) => { Box::new($e) };
    (@wrap $e:ident) => { $e };
}

from_area! {
    Client(crate::client::Error) boxed yes;
    Site(crate::client::SiteError);
    Transport(TransportError);
    Service(ServiceError);
    Decode(DecodeError);
    Encode(EncodeError);
    Value(crate::schema::ValueError);
    Identity(crate::identity::IdentityError) boxed yes;
    Rest(crate::rest::RestError) boxed yes;
    BadUser(crate::scim::user::BadUser);
    Scim(crate::scim::ScimError);
    Filter(crate::scim::filter::FilterError);
    Patch(crate::scim::patch::PatchError);
    Translate(crate::scim::translate::TranslateError);
    #[cfg(feature = "validate")] Invalid(crate::validate::Invalid) boxed yes;
    #[cfg(feature = "validate")] Profile(crate::site::ProfileError) boxed yes;
    #[cfg(feature = "sync")] Sync(crate::sync::SyncError) boxed yes;
    #[cfg(feature = "sync")] Journal(crate::sync::journal::JournalError);
    #[cfg(feature = "sync")] Source(crate::sync::SourceError);
    #[cfg(feature = "sync")] Mapping(crate::sync::MappingFileError);
    #[cfg(feature = "scim")] ScimStore(crate::scim::ids::StoreError);
    #[cfg(feature = "scim")] ScimServe(crate::scim::http::ServeError);
    #[cfg(feature = "scim")] Grant(crate::scim::groups::GrantError);
    #[cfg(feature = "sim")] SimStore(crate::sim::store::StoreError);
    #[cfg(feature = "sim")] Faults(crate::sim::FaultSpecError);
    Io(std::io::Error);
}

/// The XML API's classified FAILURE (service.xsd; codes in `xml::codes`).
fn service_kind(e: &ServiceError) -> ErrorKind {
    match e.kind() {
        ServiceErrorKind::UserNotFound | ServiceErrorKind::NoRecords => ErrorKind::NotFound,
        ServiceErrorKind::WrongCredentials
        | ServiceErrorKind::InvalidSessionTicket
        | ServiceErrorKind::AuthenticationFailed => ErrorKind::Auth,
        ServiceErrorKind::WebExIdExists | ServiceErrorKind::EmailExists => ErrorKind::Exists,
        ServiceErrorKind::AccessDenied => ErrorKind::AccessDenied,
        ServiceErrorKind::RateLimited => ErrorKind::RateLimited,
        ServiceErrorKind::ServiceUnavailable | ServiceErrorKind::SiteSuspended => {
            ErrorKind::Unavailable
        }
        ServiceErrorKind::LicenceLimit => ErrorKind::LicenceLimit,
        ServiceErrorKind::FeatureNotEnabled => ErrorKind::FeatureOff,
        _ => ErrorKind::Other,
    }
}

/// An HTTP status without a more telling body (RFC 9110 meanings; 409 is
/// how the identity API and SCIM say "exists").
fn http_status_kind(status: u16) -> ErrorKind {
    match status {
        400 | 422 => ErrorKind::Invalid,
        401 => ErrorKind::Auth,
        403 => ErrorKind::AccessDenied,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Exists,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Unavailable,
        _ => ErrorKind::Other,
    }
}

fn client_kind(e: &crate::client::Error) -> ErrorKind {
    use crate::client::ErrorKind as K;
    match &e.kind {
        K::Service(s) => service_kind(s),
        K::Http(status) => http_status_kind(*status),
        K::Transport(_) => ErrorKind::Transport,
        K::Malformed(_) => ErrorKind::Malformed,
        K::Encode(_) => ErrorKind::Invalid,
        #[cfg(feature = "validate")]
        K::Invalid(invalid) => invalid_kind(invalid),
    }
}

fn identity_kind(kind: &crate::identity::IdentityErrorKind) -> ErrorKind {
    use crate::identity::IdentityErrorKind as K;
    match kind {
        K::NotFound => ErrorKind::NotFound,
        K::AlreadyExists(_) => ErrorKind::Exists,
        K::Auth(_) => ErrorKind::Auth,
        K::AccessDenied(_) => ErrorKind::AccessDenied,
        K::RateLimited => ErrorKind::RateLimited,
        K::Invalid(_) => ErrorKind::Invalid,
        K::Http(status, _) => http_status_kind(*status),
        K::Transport(_) => ErrorKind::Transport,
        K::Malformed(_) => ErrorKind::Malformed,
    }
}

fn rest_kind(kind: &crate::rest::RestErrorKind) -> ErrorKind {
    use crate::rest::RestErrorKind as K;
    match kind {
        K::NotFound(_) => ErrorKind::NotFound,
        K::Conflict(_) => ErrorKind::Exists,
        K::Auth(_) => ErrorKind::Auth,
        K::AccessDenied(_) => ErrorKind::AccessDenied,
        K::RateLimited => ErrorKind::RateLimited,
        K::Invalid { .. } => ErrorKind::Invalid,
        K::Http(status, _) => http_status_kind(*status),
        K::Transport(_) => ErrorKind::Transport,
        K::Malformed(_) => ErrorKind::Malformed,
    }
}

/// Only licence violations: [`ErrorKind::LicenceLimit`]; only violations a
/// site setting would lift (a feature, a service, a session type):
/// [`ErrorKind::FeatureOff`]; anything else makes the change itself wrong.
#[cfg(feature = "validate")]
fn invalid_kind(e: &crate::validate::Invalid) -> ErrorKind {
    use crate::validate::Rule;
    let all = |rules: &[Rule]| {
        !e.violations.is_empty() && e.violations.iter().all(|v| rules.contains(&v.rule))
    };
    if all(&[Rule::LicenceLimit]) {
        ErrorKind::LicenceLimit
    } else if all(&[Rule::Feature, Rule::Service, Rule::SessionType]) {
        ErrorKind::FeatureOff
    } else {
        ErrorKind::Invalid
    }
}

#[cfg(feature = "validate")]
fn profile_kind(e: &crate::site::ProfileError) -> ErrorKind {
    use crate::site::ProfileError as P;
    match e {
        P::Io { .. } => ErrorKind::Io,
        P::Decode { .. } => ErrorKind::Malformed,
        P::Failure { source, .. } => service_kind(source),
        P::File { source, .. } => profile_kind(source),
        _ => ErrorKind::Invalid,
    }
}

#[cfg(feature = "sync")]
fn sync_kind(e: &crate::sync::SyncError) -> ErrorKind {
    use crate::sync::SyncError as S;
    match e {
        S::Site(e) => client_kind(e),
        S::Identity(e) => identity_kind(&e.kind),
        S::Licences(e) => rest_kind(&e.kind),
        S::Journal(e) => journal_kind(e),
        S::TooManyDeactivations { .. } => ErrorKind::Refused,
        S::TooFewLicences { .. } | S::NoSiteLicence { .. } => ErrorKind::LicenceLimit,
        S::SiteUnreachable { .. } => ErrorKind::Transport,
        _ => ErrorKind::Invalid,
    }
}

#[cfg(feature = "sync")]
fn journal_kind(e: &crate::sync::journal::JournalError) -> ErrorKind {
    match e {
        crate::sync::journal::JournalError::Locked { .. } => ErrorKind::Busy,
        _ => ErrorKind::Io,
    }
}

#[cfg(feature = "sync")]
fn source_kind(e: &crate::sync::SourceError) -> ErrorKind {
    match e {
        crate::sync::SourceError::Open { .. } => ErrorKind::Io,
        _ => ErrorKind::Invalid,
    }
}

#[cfg(feature = "scim")]
fn serve_kind(e: &crate::scim::http::ServeError) -> ErrorKind {
    match e {
        crate::scim::http::ServeError::Listen { .. } => ErrorKind::Io,
        _ => ErrorKind::Invalid,
    }
}

/// An error as every `--json` output and every sync report shows it: one
/// shape whatever the area. `kind` is the area's finest word (the XML API's
/// `userNotFound`, `webExIdExists` …; `transport`, `invalid` …), `category`
/// the crate-wide [`ErrorKind`]; the service's own code and words when it
/// answered FAILURE. Never holds a secret: the message is the error's
/// `Display`, which masks them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ErrorReport {
    /// The area's classification, camelCase.
    pub kind: String,
    /// The crate-wide classification.
    pub category: ErrorKind,
    /// The whole message: who, what, why.
    pub message: String,
    /// The XML API's exceptionID, when the service answered FAILURE with one.
    #[serde(rename = "exceptionID", skip_serializing_if = "Option::is_none")]
    pub exception_id: Option<String>,
    /// The service's own reason text, when it answered FAILURE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ErrorReport {
    /// A report of a failure that is no area's error (a row the mapping
    /// refused, a DelUser the site answered without a reason).
    pub fn new(kind: impl Into<String>, category: ErrorKind, message: impl Into<String>) -> Self {
        ErrorReport {
            kind: kind.into(),
            category,
            message: message.into(),
            exception_id: None,
            reason: None,
        }
    }
}

impl From<&crate::client::Error> for ErrorReport {
    fn from(e: &crate::client::Error) -> Self {
        use crate::client::ErrorKind as K;
        let kind = match &e.kind {
            K::Service(s) => s.kind().to_string(),
            K::Transport(_) | K::Http(_) => "transport".into(),
            K::Malformed(_) => "malformedResponse".into(),
            K::Encode(_) => "encode".into(),
            #[cfg(feature = "validate")]
            K::Invalid(_) => "invalid".into(),
        };
        let mut report = ErrorReport::new(kind, client_kind(e), e.to_string());
        if let Some(s) = e.service() {
            report.exception_id = s.exception_id().map(str::to_owned);
            report.reason = s.reason().map(str::to_owned);
        }
        report
    }
}

impl From<&crate::identity::IdentityError> for ErrorReport {
    fn from(e: &crate::identity::IdentityError) -> Self {
        use crate::identity::IdentityErrorKind as K;
        let kind = match &e.kind {
            K::NotFound => "notFound",
            K::AlreadyExists(_) => "alreadyExists",
            K::Auth(_) => "auth",
            K::AccessDenied(_) => "accessDenied",
            K::RateLimited => "rateLimited",
            K::Invalid(_) => "invalid",
            K::Http(..) | K::Transport(_) => "transport",
            K::Malformed(_) => "malformedResponse",
        };
        ErrorReport::new(kind, identity_kind(&e.kind), e.to_string())
    }
}

impl From<&crate::rest::RestError> for ErrorReport {
    fn from(e: &crate::rest::RestError) -> Self {
        use crate::rest::RestErrorKind as K;
        let kind = match &e.kind {
            K::NotFound(_) => "notFound",
            K::Conflict(_) => "alreadyExists",
            K::Auth(_) => "auth",
            K::AccessDenied(_) => "accessDenied",
            K::RateLimited => "rateLimited",
            K::Invalid { .. } => "invalid",
            K::Http(..) | K::Transport(_) => "transport",
            K::Malformed(_) => "malformedResponse",
        };
        ErrorReport::new(kind, rest_kind(&e.kind), e.to_string())
    }
}

impl From<&Error> for ErrorReport {
    /// The area's report where it has a finer one; else the crate's kind.
    fn from(e: &Error) -> Self {
        match e {
            Error::Client(c) => ErrorReport::from(&**c),
            Error::Identity(i) => ErrorReport::from(&**i),
            Error::Rest(r) => ErrorReport::from(&**r),
            other => ErrorReport::new(other.kind().as_ref(), other.kind(), other.to_string()),
        }
    }
}
