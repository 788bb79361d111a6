//! The async client: one typed method per operation, over any [`Transport`].
//!
//! It authenticates once (password or OAuth access token → session ticket),
//! reuses the ticket and renews it before it expires or when the service
//! rejects it (030047, once per call); retries what is worth retrying (rate
//! limit after 60 s; 000035 "ASService not responding", HTTP 5xx and 429,
//! timeouts and resets with exponential backoff and jitter) and
//! nothing else, within an overall deadline per call; never resends a
//! CreateUser whose outcome is unknown (5xx, 429, a timeout or reset after
//! sending) without first asking whether the user exists; and, with a site
//! profile, validates every CreateUser/SetUser before sending it.

pub mod transport;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::retry::{Deadline, Pacer, Slot, Verdict, Wait, WaitNotice};
pub use transport::{Incoming, Outgoing, Recorder, Replay, Transport, TransportError};

use crate::ops::*;
use crate::schema::{Attribute, FlatKey, FlatUser, User, Value};
use crate::secret::Secret;
use crate::xml::encode::{Credentials, Request, SecurityContext, SiteRef, encode};
use crate::xml::{DecodeError, EncodeError, Form, Secrets, ServiceError, ServiceErrorKind, decode};

/// How the admin proves who it is.
#[derive(Clone, PartialEq)]
pub enum AdminAuth {
    /// An admin's Webex ID and password: the client takes a session ticket with them
    /// (AuthenticateUser) and renews it as it expires.
    Password {
        /// The admin's Webex ID.
        web_ex_id: String,
        /// The admin's password.
        password: Secret,
    },
    /// An OAuth access token (`webExAccessToken`) of a site admin.
    AccessToken {
        /// The admin's Webex ID, when the request should name it.
        web_ex_id: Option<String>,
        /// The token.
        token: Secret,
    },
}

impl std::fmt::Debug for AdminAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdminAuth::Password { web_ex_id, .. } => {
                write!(f, "Password {{ web_ex_id: {web_ex_id:?}, password: *** }}")
            }
            AdminAuth::AccessToken { web_ex_id, .. } => {
                write!(f, "AccessToken {{ web_ex_id: {web_ex_id:?}, token: *** }}")
            }
        }
    }
}

/// Why a call waits, in the admin's words: the service's code when it gave
/// one, else the HTTP status or the transport's error.
fn wait_cause(kind: &ErrorKind) -> String {
    let code = |e: &ServiceError| e.exception_id().unwrap_or("without exceptionID").to_owned();
    match kind {
        ErrorKind::Service(e) if e.kind() == ServiceErrorKind::RateLimited => {
            format!("rate limited by the site ({})", code(e))
        }
        ErrorKind::Service(e) => format!("the site is unavailable ({})", code(e)),
        ErrorKind::Http(status) => format!("HTTP {status} from the site"),
        other => other.to_string(),
    }
}

/// Announces a wait at info level, visible at the CLI's default verbosity,
/// with the calling module as target: "rate limited by the site (000045):
/// waiting 60 s, attempt 2 of 5" (`source`, e.g. "Retry-After", says where
/// the length came from).
macro_rules! announce_wait {
    ($cause:expr, $length:expr, $source:expr, $next_attempt:expr, $max_attempts:expr $(,)?) => {{
        let (length, next_attempt, max_attempts): (std::time::Duration, u32, u32) =
            ($length, $next_attempt, $max_attempts);
        tracing::info!(
            wait_ms = u64::try_from(length.as_millis()).unwrap_or(u64::MAX),
            next_attempt,
            max_attempts,
            "{}",
            $crate::client::wait_message($cause, length, $source, next_attempt, max_attempts)
        );
    }};
}
pub(crate) use announce_wait;

/// The words of [`announce_wait!`].
pub(crate) fn wait_message(
    cause: &str,
    length: Duration,
    source: Option<&str>,
    next_attempt: u32,
    max_attempts: u32,
) -> String {
    let source = source.map(|s| format!(" ({s})")).unwrap_or_default();
    format!(
        "{cause}: waiting {}{source}, attempt {next_attempt} of {max_attempts}",
        human_duration(length)
    )
}

/// "60 s", "1.2 s", "250 ms".
fn human_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 1.0 {
        format!("{} ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{secs:.1} s")
    }
}

pub use crate::retry::RetryPolicy;

/// Client settings beyond site, credentials and transport.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// How often and how long transient failures are retried.
    pub retry: RetryPolicy,
    /// Calls in flight at once.
    pub max_concurrency: usize,
    /// Client-side limit, requests per minute (`None`: no limit).
    pub requests_per_minute: Option<u32>,
    /// How long a session ticket is trusted when the service does not say (it
    /// lives 90 minutes by default; renew well before).
    pub ticket_lifetime: Duration,
    /// The most one call may take: every attempt, backoff and authentication
    /// included, and the GetUser that checks an unknown CreateUser outcome.
    /// Not counted: queueing for a slot under `max_concurrency` or
    /// `requests_per_minute` or behind another call's authentication, and
    /// waits the service asks for (000045: a minute). A call out of time fails with [`TransportError::Timeout`]
    /// saying how long it took; one whose next backoff would outlast it fails
    /// with its last error.
    pub deadline: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            retry: RetryPolicy::default(),
            max_concurrency: 4,
            requests_per_minute: None,
            ticket_lifetime: Duration::from_secs(60 * 60),
            deadline: Duration::from_secs(60),
        }
    }
}

/// What went wrong with a call: the operation, the user it was about, the cause.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation}{}: {kind}", key.as_deref().map(|k| format!(" {k}")).unwrap_or_default())]
#[non_exhaustive]
pub struct Error {
    /// The operation that failed.
    pub operation: Operation,
    /// The webExId (or other key) the call was about.
    pub key: Option<String>,
    /// The cause (also the error's `source()`).
    #[source]
    pub kind: ErrorKind,
    /// Attempts made.
    pub attempts: u32,
}

/// The classified cause of an [`Error`].
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The service answered FAILURE.
    #[error(transparent)]
    Service(ServiceError),
    /// The service answered an HTTP status other than 200.
    #[error("HTTP status {0}")]
    Http(u16),
    /// No answer came back (timeout, connection, refused URL …).
    #[error(transparent)]
    Transport(TransportError),
    /// The answer was not a response wbxprov can read.
    #[error("malformed response: {0}")]
    Malformed(DecodeError),
    /// The request could not be written; nothing was sent.
    #[error(transparent)]
    Encode(EncodeError),
    /// The change broke the site's rules; nothing was sent.
    #[cfg(feature = "validate")]
    #[error("{}", .0.violations_text())]
    Invalid(crate::validate::Invalid),
}

impl Error {
    /// The service's own error, if it answered FAILURE.
    pub fn service(&self) -> Option<&ServiceError> {
        match &self.kind {
            ErrorKind::Service(e) => Some(e),
            _ => None,
        }
    }

    /// Whether a later attempt may succeed without any change.
    pub fn is_transient(&self) -> bool {
        match &self.kind {
            ErrorKind::Service(e) => e.is_transient(),
            ErrorKind::Http(s) => *s == 429 || *s >= 500,
            ErrorKind::Transport(t) => t.is_transient(),
            _ => false,
        }
    }

    /// Whether the service said the user does not exist (030001).
    pub fn is_not_found(&self) -> bool {
        self.service()
            .is_some_and(|e| e.kind() == ServiceErrorKind::UserNotFound)
    }
}

#[derive(Clone)]
struct Ticket {
    secret: Secret,
    web_ex_id: Option<String>,
    renew_at: Instant,
}

/// The client. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct Client {
    endpoint: String,
    site: SiteRef,
    auth: AdminAuth,
    transport: Arc<dyn Transport>,
    options: Options,
    ticket: Mutex<Option<Ticket>>,
    pacer: Pacer,
    counters: Counters,
    /// Set once: at build, or when a sync first needs the site's GetSite.
    #[cfg(feature = "validate")]
    profile: std::sync::OnceLock<crate::site::SiteProfile>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint)
            .field("site", &self.site)
            .field("auth", &self.auth)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// The XML API endpoint of a site name.
pub fn endpoint_of(site_name: &str) -> String {
    format!("https://{site_name}.webex.com/WBXService/XMLService")
}

/// Why a site could not be told from what was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SiteError {
    /// A URL whose host gives no site name.
    #[error("no site name in {0:?}")]
    NoName(String),
    /// Neither an `http(s)://` URL nor a site name (letters, digits, `-`).
    #[error("{0:?} is neither a URL nor a site name")]
    NotASite(String),
}

/// A site given as its name (`example`) or as a URL (`https://example.webex.com`,
/// with or without the XML API path; a simulator's `http://127.0.0.1:8080/…`):
/// its name (the host's first label, which the XML API's security context
/// carries) and its XML API endpoint. A URL without a path gets the XML API's
/// `/WBXService/XMLService`; one with a path is kept as given.
#[cfg(feature = "https")]
pub fn site_of(value: &str) -> Result<(String, String), SiteError> {
    let value = value.trim();
    let is_url = ["http://", "https://"].iter().any(|scheme| {
        value.len() > scheme.len() && value[..scheme.len()].eq_ignore_ascii_case(scheme)
    });
    if is_url {
        let url = reqwest::Url::parse(value).map_err(|_| SiteError::NotASite(value.to_owned()))?;
        let host = url.host_str().unwrap_or_default();
        let name = host.split('.').next().unwrap_or_default();
        if name.is_empty() {
            return Err(SiteError::NoName(value.to_owned()));
        }
        let endpoint = match url.path() {
            "" | "/" => format!("{}/WBXService/XMLService", value.trim_end_matches('/')),
            _ => value.to_owned(),
        };
        Ok((name.to_owned(), endpoint))
    } else if !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Ok((value.to_owned(), endpoint_of(value)))
    } else {
        Err(SiteError::NotASite(value.to_owned()))
    }
}

impl Client {
    /// A client builder for a site given as a name or a URL ([`site_of`]).
    #[cfg(feature = "https")]
    pub fn for_site(site: &str, auth: AdminAuth) -> Result<ClientBuilder, SiteError> {
        let (name, endpoint) = site_of(site)?;
        Ok(Client::builder(&name, auth).endpoint(endpoint))
    }
}

/// Builds a [`Client`].
pub struct ClientBuilder {
    endpoint: String,
    site: SiteRef,
    auth: AdminAuth,
    transport: Option<Arc<dyn Transport>>,
    options: Options,
    #[cfg(feature = "validate")]
    profile: Option<crate::site::SiteProfile>,
}

impl Client {
    /// A client for `site_name` (`example` for `example.webex.com`).
    pub fn builder(site_name: &str, auth: AdminAuth) -> ClientBuilder {
        ClientBuilder {
            endpoint: endpoint_of(site_name),
            site: SiteRef::Name(site_name.to_owned()),
            auth,
            transport: None,
            options: Options::default(),
            #[cfg(feature = "validate")]
            profile: None,
        }
    }
}

impl ClientBuilder {
    /// Another endpoint URL (a proxy, the simulator).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = url.into();
        self
    }

    /// Sends through `transport` instead of HTTPS (a replay directory, a recorder, the simulator
    /// in-process, a test double).
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Retry, concurrency, rate and deadline settings.
    pub fn options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// Validate every CreateUser/SetUser against this site before sending it.
    #[cfg(feature = "validate")]
    pub fn validate_with(mut self, profile: crate::site::SiteProfile) -> Self {
        self.profile = Some(profile);
        self
    }

    /// The client.
    ///
    /// # Errors
    ///
    /// Without a transport given, the HTTPS client's set-up failure (TLS); without the
    /// `https` feature, [`TransportError::Other`] since there is nothing to send with.
    pub fn build(self) -> Result<Client, TransportError> {
        let transport = match self.transport {
            Some(t) => t,
            #[cfg(feature = "https")]
            None => Arc::new(transport::Https::new(
                Duration::from_secs(10),
                Duration::from_secs(60),
            )?),
            #[cfg(not(feature = "https"))]
            None => {
                return Err(TransportError::Other(
                    "no transport: build with feature `https` or pass one".into(),
                ));
            }
        };
        Ok(Client {
            endpoint: self.endpoint,
            site: self.site,
            auth: self.auth,
            transport,
            pacer: Pacer::new(
                self.options.max_concurrency,
                self.options.requests_per_minute,
            ),
            options: self.options,
            ticket: Mutex::new(None),
            counters: Counters::default(),
            #[cfg(feature = "validate")]
            profile: self
                .profile
                .map(std::sync::OnceLock::from)
                .unwrap_or_default(),
        })
    }
}

/// One attempt's verdict, or the session ticket refused (030047), which
/// the call's policy answers by authenticating again, once.
enum Judged<T> {
    Verdict(Verdict<T, ErrorKind>),
    TicketRefused(ErrorKind),
}

/// The error of a call out of time: how long it really took.
fn out_of_time(deadline: &Deadline, sent: bool) -> ErrorKind {
    ErrorKind::Transport(TransportError::Timeout {
        after: deadline.elapsed(),
        sent,
    })
}

impl Client {
    /// From now on, validate every CreateUser/SetUser against this site.
    #[cfg(feature = "validate")]
    pub fn validate_with(&mut self, profile: crate::site::SiteProfile) {
        self.profile = std::sync::OnceLock::from(profile);
    }

    /// Validate every CreateUser/SetUser against this site from now on,
    /// unless a profile is already set (then that one stays: `false`). For a
    /// client already shared, whose profile is read only when first needed.
    #[cfg(feature = "validate")]
    pub fn validate_with_once(&self, profile: crate::site::SiteProfile) -> bool {
        self.profile.set(profile).is_ok()
    }

    /// The site profile every CreateUser/SetUser is validated against.
    #[cfg(feature = "validate")]
    pub fn profile(&self) -> Option<&crate::site::SiteProfile> {
        self.profile.get()
    }

    // -- one method per operation ------------------------------------------

    /// GetUser: every attribute of one user, decoded through the catalogue.
    ///
    /// # Errors
    ///
    /// [`Error::is_not_found`] when the user does not exist; any other failure of the call.
    pub async fn get_user(&self, web_ex_id: &str) -> Result<User, Error> {
        let req = GetUser {
            web_ex_id: web_ex_id.to_owned(),
        };
        self.call(&req, Some(web_ex_id)).await
    }

    /// Creates a user. A request whose outcome is unknown (an HTTP 5xx or 429,
    /// a timeout or reset after sending) is not sent again before GetUser says
    /// the user does not exist; "exists" on a resend is checked the same way.
    ///
    /// # Errors
    ///
    /// An [`Error`] naming CreateUser and the webExId: [`ErrorKind::Invalid`] when the
    /// site profile given to [`ClientBuilder::validate_with`] refuses the user (nothing
    /// sent), [`ErrorKind::Encode`] when the request cannot be written (no webExId, an
    /// attribute CreateUser cannot carry), [`ErrorKind::Service`] for the service's
    /// FAILURE (e.g. [`ServiceErrorKind::WebExIdExists`]), and the transport's failures.
    pub async fn create_user(&self, user: FlatUser) -> Result<CreatedUser, Error> {
        let id = user.web_ex_id().map(str::to_owned);
        #[cfg(feature = "validate")]
        self.check(
            &user,
            crate::validate::Operation::Create,
            None,
            id.as_deref(),
        )?;
        let req = CreateUser { user };
        self.call(&req, id.as_deref()).await
    }

    /// Changes the given attributes of `web_ex_id`. When the current user is
    /// known, [`Client::set_user_over`] validates better.
    ///
    /// # Errors
    ///
    /// As [`Client::create_user`], for SetUser; [`Error::is_not_found`] when the user
    /// does not exist.
    pub async fn set_user(&self, web_ex_id: &str, change: FlatUser) -> Result<Updated, Error> {
        self.update(web_ex_id, change, None).await
    }

    /// Changes the given attributes of `web_ex_id`, whose values are now
    /// `current` (its GetUser): the validator judges the user the change makes,
    /// current values included (HD video on a user whose HQ video is off, the
    /// supportedServices the change leaves out).
    pub async fn set_user_over(
        &self,
        web_ex_id: &str,
        change: FlatUser,
        current: &FlatUser,
    ) -> Result<Updated, Error> {
        self.update(web_ex_id, change, Some(current)).await
    }

    async fn update(
        &self,
        web_ex_id: &str,
        change: FlatUser,
        current: Option<&FlatUser>,
    ) -> Result<Updated, Error> {
        let req = SetUser::new(web_ex_id, change);
        #[cfg(feature = "validate")]
        self.check(
            &req.change,
            crate::validate::Operation::Update,
            current,
            Some(web_ex_id),
        )?;
        #[cfg(not(feature = "validate"))]
        let _ = current;
        self.call(&req, Some(web_ex_id)).await
    }

    /// Deactivates up to 50 users per call (DelUser never deletes). The answer has a
    /// status per user: one user's failure is there, not an `Err`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Encode`] for no user or more than [`DEL_USER_MAX`] (nothing sent); the
    /// service's FAILURE of the whole call; the transport's failures.
    pub async fn deactivate(&self, web_ex_ids: &[String]) -> Result<Deleted, Error> {
        let req = DelUser {
            web_ex_ids: web_ex_ids.to_vec(),
            sync_web_office: None,
        };
        let key = web_ex_ids.join(",");
        self.call(&req, Some(&key)).await
    }

    /// Reactivates a user (SetUser `active=ACTIVATED`).
    pub async fn reactivate(&self, web_ex_id: &str) -> Result<Updated, Error> {
        let change: FlatUser = [(
            FlatKey::new(Attribute::Active),
            Value::Text("ACTIVATED".into()),
        )]
        .into_iter()
        .collect();
        self.set_user(web_ex_id, change).await
    }

    /// LstsummaryUser: one page of user summaries. "No record found" (000015) is an empty page,
    /// not an error.
    pub async fn list_users(&self, query: &LstsummaryUser) -> Result<UserPage, Error> {
        self.call(query, None).await
    }

    /// The users matching `query`'s filters, one LstsummaryUser page at a time
    /// (`page_size` a page, at most 500 as the service allows): for callers
    /// that write as they go, so memory stays one page whatever the site's size.
    pub fn user_pages(&self, query: &LstsummaryUser, page_size: u32) -> UserPages<'_> {
        UserPages {
            client: self,
            query: query.clone(),
            page_size: page_size.clamp(1, 500),
            listed: 0,
            done: false,
        }
    }

    /// Every user matching `query`'s filters, page by page (500 a page); also
    /// how many list calls it took.
    pub async fn list_all_users(
        &self,
        query: &LstsummaryUser,
    ) -> Result<(Vec<UserSummary>, usize), Error> {
        let mut users = Vec::new();
        let mut calls = 0;
        loop {
            let page = self
                .list_users(&LstsummaryUser {
                    start_from: Some(users.len() as u32 + 1),
                    maximum_num: Some(500),
                    ..query.clone()
                })
                .await?;
            calls += 1;
            let got = page.users.len();
            users.extend(page.users);
            if got == 0 || users.len() as i64 >= page.matching_records.total {
                return Ok((users, calls));
            }
        }
    }

    /// The admin's Webex ID, when the credentials name one.
    pub fn admin_web_ex_id(&self) -> Option<&str> {
        match &self.auth {
            AdminAuth::Password { web_ex_id, .. } => Some(web_ex_id),
            AdminAuth::AccessToken { web_ex_id, .. } => web_ex_id.as_deref(),
        }
    }

    /// GetSite: the site's settings, from which
    /// [`SiteProfile::from_site`](crate::site::SiteProfile::from_site) reads its features.
    pub async fn get_site(&self) -> Result<SiteInstance, Error> {
        self.call(&GetSite, None).await
    }

    /// LstMeetingType: the site's session types (the first page, as the service sizes it).
    pub async fn meeting_types(&self) -> Result<MeetingTypeList, Error> {
        self.call(&LstMeetingType::default(), None).await
    }

    // -- machinery ------------------------------------------------------------

    #[cfg(feature = "validate")]
    fn check(
        &self,
        change: &FlatUser,
        operation: crate::validate::Operation,
        current: Option<&FlatUser>,
        key: Option<&str>,
    ) -> Result<(), Error> {
        let Some(profile) = self.profile.get() else {
            return Ok(());
        };
        let checked = match current {
            Some(current) => crate::validate::check_update(change, current, profile),
            None => crate::validate::check(change, operation, profile),
        };
        checked.map_err(|invalid| Error {
            operation: match operation {
                crate::validate::Operation::Create => Operation::CreateUser,
                crate::validate::Operation::Update => Operation::SetUser,
            },
            key: key.map(str::to_owned),
            kind: ErrorKind::Invalid(invalid),
            attempts: 0,
        })
    }

    /// One operation with retries, authentication and the unknown-outcome
    /// rule, within [`Options::deadline`].
    async fn call<R>(&self, request: &R, key: Option<&str>) -> Result<R::Response, Error>
    where
        R: Request + Operational + Sync,
        R::Response: Send,
    {
        let mut deadline = Deadline::new(self.options.deadline);
        self.call_within(request, key, &mut deadline).await
    }

    /// [`Client::call`] against a deadline the caller holds: the GetUser that
    /// checks a CreateUser's unknown outcome runs within the create's.
    async fn call_within<R>(
        &self,
        request: &R,
        key: Option<&str>,
        deadline: &mut Deadline,
    ) -> Result<R::Response, Error>
    where
        R: Request + Operational + Sync,
        R::Response: Send,
    {
        use tracing::Instrument;
        let span = tracing::info_span!("wbxprov.call", operation = %R::OPERATION, key = key.unwrap_or("-"));
        // Instrumented, not entered: a guard held across an await would lend
        // this call's span to whatever task the thread runs next.
        self.call_attempts(request, key, deadline)
            .instrument(span)
            .await
    }

    /// [`Client::call_within`]'s attempts, within the call's span: the shared
    /// retry loop ([`crate::retry::run`]) under the XML API's policy
    /// ([`XmlCall`]).
    async fn call_attempts<R>(
        &self,
        request: &R,
        key: Option<&str>,
        deadline: &mut Deadline,
    ) -> Result<R::Response, Error>
    where
        R: Request + Operational + Sync,
        R::Response: Send,
    {
        Counters::add(&self.counters.calls, 1);
        let started = Instant::now();
        let mut call = XmlCall {
            client: self,
            request,
            key,
            attempts: 0,
            reauthenticated: false,
            may_have_landed: false,
        };
        let (result, attempts) = crate::retry::run(&mut call, &self.options.retry, deadline).await;
        let outcome = match &result {
            Ok(_) => "success",
            Err(Failure::Kind(kind)) => failure_label(kind),
            Err(Failure::Whole(e)) => failure_label(&e.kind),
        };
        self.counters.finished(R::OPERATION, outcome);
        tracing::debug!(attempt = attempts, elapsed = ?started.elapsed(), outcome, "call finished");
        result.map_err(|failure| match failure {
            Failure::Kind(kind) => Error {
                operation: R::OPERATION,
                key: key.map(str::to_owned),
                kind,
                attempts,
            },
            Failure::Whole(e) => Error { attempts, ..e },
        })
    }

    /// CreateUser is never resent blindly. An attempt whose outcome is unknown
    /// (an HTTP 5xx or 429, a timeout or reset after sending) is followed by a
    /// GetUser: the user we were creating ends the call as created, and only
    /// otherwise is the request sent again. On such a resend, "webExId/email
    /// exists" is checked the same way instead of being reported as a conflict.
    async fn settle_create<R>(
        &self,
        request: &R,
        key: Option<&str>,
        verdict: Verdict<R::Response, ErrorKind>,
        may_have_landed: &mut bool,
        deadline: &mut Deadline,
    ) -> Verdict<R::Response, ErrorKind>
    where
        R: Request + Operational + Sync,
        R::Response: Send,
    {
        match verdict {
            Verdict::Retry(wait, kind) if outcome_unknown(&kind) => {
                *may_have_landed = true;
                let Some(id) = key else {
                    return Verdict::Done(Err(kind));
                };
                match self.created_meanwhile(request, id, deadline).await {
                    Ok(Some(created)) => Verdict::Done(Ok(created)),
                    // Absent, someone else's, or unreadable: a resend is safe,
                    // since the site's answer to it is checked in turn.
                    Ok(None) | Err(_) => Verdict::Retry(wait, kind),
                }
            }
            Verdict::Done(Err(ErrorKind::Service(e)))
                if *may_have_landed
                    && matches!(
                        e.kind(),
                        ServiceErrorKind::WebExIdExists | ServiceErrorKind::EmailExists
                    ) =>
            {
                let Some(id) = key else {
                    return Verdict::Done(Err(ErrorKind::Service(e)));
                };
                match self.created_meanwhile(request, id, deadline).await {
                    Ok(Some(created)) => Verdict::Done(Ok(created)),
                    Ok(None) => Verdict::Done(Err(ErrorKind::Service(e))),
                    // Unverifiable: not a conflict, but what kept the outcome unknown.
                    Err(check) => Verdict::Done(Err(check.kind)),
                }
            }
            other => other,
        }
    }

    /// What `request` answers, given GetUser finds the user it was creating
    /// (`None` when the user is absent or is someone else).
    async fn created_meanwhile<R>(
        &self,
        request: &R,
        web_ex_id: &str,
        deadline: &mut Deadline,
    ) -> Result<Option<R::Response>, Error>
    where
        R: Request + Operational + Sync,
        R::Response: Send,
    {
        Counters::add(&self.counters.outcome_checks, 1);
        let check = GetUser {
            web_ex_id: web_ex_id.to_owned(),
        };
        // Within the create's own deadline; boxed: a call inside a call.
        let found = Box::pin(self.call_within(&check, Some(web_ex_id), deadline));
        match uncounted(found).await {
            Ok(user) => {
                let created = request.answer_if_created(&user);
                let verdict = if created.is_some() {
                    "ours"
                } else {
                    "someone else's"
                };
                tracing::info!(verdict, "CreateUser outcome was unknown; the user exists");
                Ok(created)
            }
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One attempt: encode, send in a [`Pacer`] slot, classify.
    async fn attempt<R: Request + Operational>(
        &self,
        request: &R,
        key: Option<&str>,
        security: &SecurityContext,
        deadline: &mut Deadline,
    ) -> Judged<R::Response> {
        let done = |result| Judged::Verdict(Verdict::Done(result));
        let retry = |wait, kind| Judged::Verdict(Verdict::Retry(wait, kind));
        let body = match encode(request, security, Form::Plain, Secrets::Reveal) {
            Ok(b) => b,
            Err(e) => return done(Err(ErrorKind::Encode(e))),
        };
        let masked_body =
            encode(request, security, Form::Plain, Secrets::Mask).unwrap_or_else(|_| String::new());
        let outgoing = Outgoing {
            url: self.endpoint.clone(),
            operation: R::OPERATION,
            key: key.map(str::to_owned),
            body,
            masked_body,
        };
        // Counted once it has its slot, as it goes out.
        let send = async {
            Counters::add(&self.counters.sends, 1);
            if R::OPERATION != Operation::AuthenticateUser {
                note_attempts(1);
            }
            self.transport.send(&outgoing).await
        };
        let incoming = match self.pacer.send(deadline, send).await {
            // Out of time; with the request out, the service may have it.
            Slot::OutOfTime { sent } => return done(Err(out_of_time(deadline, sent))),
            Slot::Sent(Ok(i)) => i,
            Slot::Sent(Err(t)) if t.is_transient() => {
                return retry(Wait::Backoff, ErrorKind::Transport(t));
            }
            Slot::Sent(Err(t)) => return done(Err(ErrorKind::Transport(t))),
        };
        if incoming.status == 429 || incoming.status >= 500 {
            return retry(Wait::Backoff, ErrorKind::Http(incoming.status));
        }
        if incoming.status != 200 {
            return done(Err(ErrorKind::Http(incoming.status)));
        }
        match decode::<R::Response>(&incoming.body) {
            Err(e) => done(Err(ErrorKind::Malformed(e))),
            Ok(r) => match r.success() {
                Ok(body) => done(Ok(body)),
                Err(e) => self.judge_failure(e, security),
            },
        }
    }

    /// What a FAILURE answer means for the call.
    fn judge_failure<T>(&self, e: ServiceError, security: &SecurityContext) -> Judged<T> {
        let kind = e.kind();
        let error = ErrorKind::Service(e);
        match kind {
            // 000045: the service asks for a minute (src/xml/codes.rs).
            ServiceErrorKind::RateLimited => Judged::Verdict(Verdict::Retry(
                Wait::Asked {
                    length: self.options.retry.rate_limit_wait,
                    source: None,
                },
                error,
            )),
            ServiceErrorKind::ServiceUnavailable => {
                Judged::Verdict(Verdict::Retry(Wait::Backoff, error))
            }
            // 030047 is the service's answer to a dead ticket; 030002 is the
            // password's (src/xml/codes.rs), so it is final.
            ServiceErrorKind::InvalidSessionTicket
                if matches!(security.credentials, Credentials::SessionTicket { .. }) =>
            {
                Judged::TicketRefused(error)
            }
            _ => Judged::Verdict(Verdict::Done(Err(error))),
        }
    }

    /// The security context for the next call: a valid session ticket, fetched
    /// with the admin's credentials when there is none or it is due for renewal.
    async fn security(
        &self,
        force: bool,
        deadline: &mut Deadline,
    ) -> Result<SecurityContext, Error> {
        let queued = Instant::now();
        let mut guard = self.ticket.lock().await;
        // Waiting on another call's authentication is queueing too.
        deadline.excuse(queued.elapsed());
        let fresh = guard
            .as_ref()
            .filter(|t| !force && Instant::now() < t.renew_at)
            .cloned();
        let ticket = match fresh {
            Some(t) => t,
            None => {
                let t = self.authenticate(deadline).await?;
                *guard = Some(t.clone());
                t
            }
        };
        Ok(SecurityContext {
            site: self.site.clone(),
            credentials: Credentials::SessionTicket {
                web_ex_id: ticket.web_ex_id.unwrap_or_default(),
                ticket: ticket.secret,
            },
        })
    }

    /// AuthenticateUser with the admin's credentials, under the same retry
    /// loop as every call (a refused credential is final).
    async fn authenticate(&self, deadline: &mut Deadline) -> Result<Ticket, Error> {
        let (request, credentials, web_ex_id) = match &self.auth {
            AdminAuth::Password {
                web_ex_id,
                password,
            } => (
                AuthenticateUser::Password,
                Credentials::Password {
                    web_ex_id: web_ex_id.clone(),
                    password: password.clone(),
                },
                Some(web_ex_id.clone()),
            ),
            AdminAuth::AccessToken { web_ex_id, token } => (
                AuthenticateUser::AccessToken(token.clone()),
                Credentials::AccessToken {
                    web_ex_id: web_ex_id.clone(),
                    token: token.clone(),
                },
                web_ex_id.clone(),
            ),
        };
        let security = SecurityContext {
            site: self.site.clone(),
            credentials,
        };
        let mut call = Authentication {
            client: self,
            request: &request,
            key: web_ex_id.as_deref(),
            security: &security,
        };
        let (result, attempts) = crate::retry::run(&mut call, &self.options.retry, deadline).await;
        let outcome = result.as_ref().map_or_else(failure_label, |_| "success");
        self.counters.finished(Operation::AuthenticateUser, outcome);
        let t = result.map_err(|kind| Error {
            operation: Operation::AuthenticateUser,
            key: web_ex_id.clone(),
            kind,
            attempts,
        })?;
        let lifetime = t
            .time_to_live
            .and_then(|s| u64::try_from(s).ok())
            .map(Duration::from_secs)
            .unwrap_or(self.options.ticket_lifetime);
        // Renew at 80% of the lifetime, before the service refuses it.
        Ok(Ticket {
            secret: t.session_ticket,
            web_ex_id,
            renew_at: Instant::now() + lifetime.mul_f64(0.8),
        })
    }
}

/// Why an XML call failed: its own cause, or a whole error of the
/// authentication it needed (which names AuthenticateUser, not the call).
enum Failure {
    Kind(ErrorKind),
    Whole(Error),
}

/// The XML API's policy for one call: a valid session ticket before each
/// attempt; a refused ticket renewed once and the call tried again at once;
/// 000045 waited out; and a CreateUser of unknown outcome checked with
/// GetUser before any resend ([`Client::settle_create`]).
struct XmlCall<'a, R> {
    client: &'a Client,
    request: &'a R,
    key: Option<&'a str>,
    attempts: u32,
    reauthenticated: bool,
    /// Whether an earlier CreateUser may have reached the site and acted.
    may_have_landed: bool,
}

impl<R> XmlCall<'_, R>
where
    R: Request + Operational + Sync,
    R::Response: Send,
{
    /// A refused session ticket: a new one once, then the call again.
    async fn renew_ticket(
        &mut self,
        refused: ErrorKind,
        deadline: &mut Deadline,
    ) -> Verdict<R::Response, Failure> {
        if self.reauthenticated {
            return Verdict::Done(Err(Failure::Kind(refused)));
        }
        tracing::info!(
            attempt = self.attempts,
            "session ticket refused; authenticating again"
        );
        Counters::add(&self.client.counters.reauthentications, 1);
        self.reauthenticated = true;
        *self.client.ticket.lock().await = None;
        match self.client.security(true, deadline).await {
            Ok(_) => Verdict::Again,
            Err(e) => Verdict::Done(Err(Failure::Whole(e))),
        }
    }
}

impl<R> crate::retry::Attempts for XmlCall<'_, R>
where
    R: Request + Operational + Sync,
    R::Response: Send,
{
    type Output = R::Response;
    type Error = Failure;

    fn attempt<'a>(
        &'a mut self,
        deadline: &'a mut Deadline,
    ) -> crate::retry::Attempt<'a, R::Response, Failure> {
        Box::pin(self.attempt_once(deadline))
    }

    fn announce(&self, error: &Failure, notice: WaitNotice) {
        if let Failure::Kind(kind) = error {
            announce_notice(&wait_cause(kind), notice);
        }
    }

    fn retrying(&self, wait: &Wait, length: Duration) {
        self.client.counters.retry(R::OPERATION, wait, length);
    }
}

impl<R> XmlCall<'_, R>
where
    R: Request + Operational + Sync,
    R::Response: Send,
{
    async fn attempt_once(&mut self, deadline: &mut Deadline) -> Verdict<R::Response, Failure> {
        self.attempts += 1;
        let client = self.client;
        let security = match client.security(false, deadline).await {
            Ok(s) => s,
            Err(e) => return Verdict::Done(Err(Failure::Whole(e))),
        };
        let verdict = match client
            .attempt(self.request, self.key, &security, deadline)
            .await
        {
            Judged::TicketRefused(kind) => return self.renew_ticket(kind, deadline).await,
            Judged::Verdict(v) => v,
        };
        let verdict = if R::OPERATION == Operation::CreateUser {
            let (request, key) = (self.request, self.key);
            client
                .settle_create(request, key, verdict, &mut self.may_have_landed, deadline)
                .await
        } else {
            verdict
        };
        match verdict {
            Verdict::Done(result) => Verdict::Done(result.map_err(Failure::Kind)),
            Verdict::Retry(wait, kind) => Verdict::Retry(wait, Failure::Kind(kind)),
            Verdict::Again => Verdict::Again,
        }
    }
}

/// AuthenticateUser's policy: the transient failures retried as any call's;
/// no ticket to renew.
struct Authentication<'a> {
    client: &'a Client,
    request: &'a AuthenticateUser,
    key: Option<&'a str>,
    security: &'a SecurityContext,
}

impl crate::retry::Attempts for Authentication<'_> {
    type Output = SessionTicket;
    type Error = ErrorKind;

    fn attempt<'a>(
        &'a mut self,
        deadline: &'a mut Deadline,
    ) -> crate::retry::Attempt<'a, SessionTicket, ErrorKind> {
        Box::pin(async move {
            match self
                .client
                .attempt(self.request, self.key, self.security, deadline)
                .await
            {
                Judged::Verdict(v) => v,
                Judged::TicketRefused(kind) => Verdict::Done(Err(kind)),
            }
        })
    }

    fn announce(&self, error: &ErrorKind, notice: WaitNotice) {
        announce_notice(&wait_cause(error), notice);
    }

    fn retrying(&self, wait: &Wait, length: Duration) {
        self.client
            .counters
            .retry(Operation::AuthenticateUser, wait, length);
    }
}

/// [`announce_wait!`] of a [`WaitNotice`], from this module.
fn announce_notice(cause: &str, notice: WaitNotice) {
    announce_wait!(
        cause,
        notice.length,
        notice.source,
        notice.next_attempt,
        notice.max_attempts,
    );
}

/// Whether a failed attempt may still have been carried out by the service:
/// an HTTP 5xx or 429 (a gateway may answer so after the site acted), 000035,
/// or a timeout or reset after the request may have been sent.
fn outcome_unknown(kind: &ErrorKind) -> bool {
    match kind {
        // "ASService not responding": whether the site acted is not said.
        ErrorKind::Service(e) => e.kind() == ServiceErrorKind::ServiceUnavailable,
        ErrorKind::Http(status) => *status == 429 || *status >= 500,
        ErrorKind::Transport(t) => t.maybe_sent(),
        _ => false,
    }
}

tokio::task_local! {
    /// Requests sent for the innermost [`count_attempts`] around this task.
    static ATTEMPTS: std::cell::Cell<u32>;
}

/// Runs `future` and counts the attempts of every call it makes: each request
/// sent, resends included, on success as on failure. Not counted: the
/// authentication (it serves every call of the session) and the GetUser that
/// checks a CreateUser's unknown outcome (not an attempt at the create). Calls
/// in tasks `future` spawns are not counted; an enclosing `count_attempts`
/// counts these attempts too.
pub async fn count_attempts<F: std::future::Future>(future: F) -> (F::Output, u32) {
    let (output, attempts) = ATTEMPTS
        .scope(std::cell::Cell::new(0), async move {
            let output = future.await;
            (output, ATTEMPTS.with(std::cell::Cell::get))
        })
        .await;
    note_attempts(attempts);
    (output, attempts)
}

/// Counts `n` requests for the enclosing [`count_attempts`], if any (the
/// identity client counts its own through this).
pub(crate) fn note_attempts(n: u32) {
    let _ = ATTEMPTS.try_with(|c| c.set(c.get().saturating_add(n)));
}

/// Runs `future` outside any [`count_attempts`].
async fn uncounted<F: std::future::Future>(future: F) -> F::Output {
    ATTEMPTS.scope(std::cell::Cell::new(0), future).await
}

/// What a client has done since it was built: for reports and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CallStats {
    /// Operations asked of the client (one per method call; the GetUser that
    /// checks an unknown outcome included).
    pub calls: u64,
    /// Requests sent, authentication included.
    pub sends: u64,
    /// Requests sent again after a failed attempt (after a backoff or a
    /// rate-limit wait).
    pub retries: u64,
    /// Waits the service asked for (000045 "API Rate Limit Reached").
    pub rate_limit_waits: u64,
    /// Their total length.
    pub rate_limit_waited: Duration,
    /// Session tickets refused and replaced mid-call.
    pub reauthentications: u64,
    /// GetUsers that checked whether a CreateUser of unknown outcome landed.
    pub outcome_checks: u64,
}

/// The atomic counters behind [`CallStats`].
#[derive(Debug, Default)]
struct Counters {
    calls: AtomicU64,
    sends: AtomicU64,
    retries: AtomicU64,
    rate_limit_waits: AtomicU64,
    rate_limit_waited_ms: AtomicU64,
    reauthentications: AtomicU64,
    outcome_checks: AtomicU64,
    /// The same by operation, for `/metrics` ([`Client::operation_stats`]).
    by_operation: std::sync::Mutex<HashMap<Operation, OperationStats>>,
}

/// What a client did for one operation: how its calls ended, and the
/// retries and rate-limit waits they took. Outcome labels come from a fixed
/// list ([`failure_label`]), so their number stays bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OperationStats {
    /// The XML API operation.
    pub operation: Operation,
    /// Calls ended, by outcome: `success`, the service's classified
    /// failure (`user_not_found`, `web_ex_id_exists`, `rate_limited` …),
    /// `http_status`, `transport`, `malformed` or `encode`.
    pub outcomes: BTreeMap<&'static str, u64>,
    /// Requests sent again after a failed attempt.
    pub retries: u64,
    /// Of those, waits the service asked for (000045).
    pub rate_limit_waits: u64,
}

impl OperationStats {
    fn new(operation: Operation) -> Self {
        OperationStats {
            operation,
            outcomes: BTreeMap::new(),
            retries: 0,
            rate_limit_waits: 0,
        }
    }
}

/// A metrics label for why a call failed: the service's classified
/// failure (src/xml/codes.rs), or what kept an answer away.
pub fn failure_label(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Service(e) => service_label(e.kind()),
        ErrorKind::Http(_) => "http_status",
        ErrorKind::Transport(_) => "transport",
        ErrorKind::Malformed(_) => "malformed",
        ErrorKind::Encode(_) => "encode",
        #[cfg(feature = "validate")]
        ErrorKind::Invalid(_) => "invalid",
    }
}

/// [`ServiceErrorKind`] in snake case.
fn service_label(kind: ServiceErrorKind) -> &'static str {
    use ServiceErrorKind as K;
    match kind {
        K::UserNotFound => "user_not_found",
        K::WrongCredentials => "wrong_credentials",
        K::InvalidSessionTicket => "invalid_session_ticket",
        K::AuthenticationFailed => "authentication_failed",
        K::WebExIdExists => "web_ex_id_exists",
        K::EmailExists => "email_exists",
        K::AccessDenied => "access_denied",
        K::RateLimited => "rate_limited",
        K::ServiceUnavailable => "service_unavailable",
        K::SiteSuspended => "site_suspended",
        K::LicenceLimit => "licence_limit",
        K::FeatureNotEnabled => "feature_not_enabled",
        K::NoRecords => "no_records",
        _ => "other",
    }
}

impl Counters {
    /// One operation's entry, made on first use.
    fn of_operation(&self, operation: Operation, update: impl FnOnce(&mut OperationStats)) {
        // Counting must never fail a call: a poisoned map is still a map.
        let mut map = self.by_operation.lock().unwrap_or_else(|p| p.into_inner());
        update(
            map.entry(operation)
                .or_insert_with(|| OperationStats::new(operation)),
        );
    }

    /// A call of `operation` ended with `outcome`.
    fn finished(&self, operation: Operation, outcome: &'static str) {
        self.of_operation(operation, |s| *s.outcomes.entry(outcome).or_default() += 1);
    }

    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    fn snapshot(&self) -> CallStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CallStats {
            calls: get(&self.calls),
            sends: get(&self.sends),
            retries: get(&self.retries),
            rate_limit_waits: get(&self.rate_limit_waits),
            rate_limit_waited: Duration::from_millis(get(&self.rate_limit_waited_ms)),
            reauthentications: get(&self.reauthentications),
            outcome_checks: get(&self.outcome_checks),
        }
    }

    /// A resend of `operation` is due after `wait`.
    fn retry(&self, operation: Operation, wait: &Wait, length: Duration) {
        Counters::add(&self.retries, 1);
        let asked = matches!(wait, Wait::Asked { .. });
        self.of_operation(operation, |s| {
            s.retries += 1;
            s.rate_limit_waits += u64::from(asked);
        });
        if let Wait::Asked { .. } = wait {
            Counters::add(&self.rate_limit_waits, 1);
            Counters::add(
                &self.rate_limit_waited_ms,
                u64::try_from(length.as_millis()).unwrap_or(u64::MAX),
            );
        }
    }
}

impl Client {
    /// What this client has done since it was built.
    pub fn stats(&self) -> CallStats {
        self.counters.snapshot()
    }

    /// What this client did per operation since it was built, by operation
    /// name.
    pub fn operation_stats(&self) -> Vec<OperationStats> {
        let map = self
            .counters
            .by_operation
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<OperationStats> = map.values().cloned().collect();
        out.sort_by(|a, b| a.operation.as_ref().cmp(b.operation.as_ref()));
        out
    }
}

/// A random number from the operating system's CSPRNG (`getrandom`): session
/// tickets, SCIM ids and generated passwords must not be predictable, which
/// `RandomState`'s hasher keys (sequential within a thread) do not promise.
pub(crate) fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    random_bytes(&mut bytes);
    u64::from_le_bytes(bytes)
}

/// `buf` filled from the operating system's CSPRNG. Without one there is no
/// safe fallback for secrets, so this panics (getrandom fails only where the
/// OS offers no random source at all).
pub(crate) fn random_bytes(buf: &mut [u8]) {
    getrandom::getrandom(buf).expect("the operating system's random source failed");
}

/// What the client needs to know about each request type.
pub trait Operational: Request {
    /// The operation this request is.
    const OPERATION: Operation;
    /// For CreateUser: the answer, given that GetUser found `user` — `None`
    /// unless it is the user this request was creating.
    fn answer_if_created(&self, _user: &User) -> Option<Self::Response> {
        None
    }
}

macro_rules! operational {
    ($($ty:ty => $op:ident),* $(,)?) => {
        $(impl Operational for $ty { const OPERATION: Operation = Operation::$op; })*
    };
}

operational!(
    SetUser => SetUser,
    GetUser => GetUser,
    DelUser => DelUser,
    LstsummaryUser => LstsummaryUser,
    AuthenticateUser => AuthenticateUser,
    GetSite => GetSite,
    LstMeetingType => LstMeetingType,
);

impl Operational for CreateUser {
    const OPERATION: Operation = Operation::CreateUser;

    /// Ours when the email we sent is the one the site holds (a webExId alone
    /// could be someone else's, created meanwhile).
    fn answer_if_created(&self, user: &User) -> Option<CreatedUser> {
        let sent = self.user.text(Attribute::Email);
        let same_email = match (sent, user.email.as_deref()) {
            (Some(sent), Some(held)) => sent.eq_ignore_ascii_case(held),
            (None, _) => true,
            (Some(_), None) => false,
        };
        same_email.then_some(CreatedUser {
            user_id: user.user_id?,
        })
    }
}

/// The pages of a user list, read on demand: see [`Client::user_pages`].
pub struct UserPages<'c> {
    client: &'c Client,
    query: LstsummaryUser,
    page_size: u32,
    listed: usize,
    done: bool,
}

impl UserPages<'_> {
    /// The next page's users, or `None` after the last one: an empty page, or
    /// once as many users were listed as the site's `matchingRecords/total`.
    pub async fn next_page(&mut self) -> Result<Option<Vec<UserSummary>>, Error> {
        if self.done {
            return Ok(None);
        }
        let page = self
            .client
            .list_users(&LstsummaryUser {
                start_from: Some(u32::try_from(self.listed + 1).unwrap_or(u32::MAX)),
                maximum_num: Some(self.page_size),
                ..self.query.clone()
            })
            .await?;
        self.listed += page.users.len();
        self.done = page.users.is_empty() || self.listed as i64 >= page.matching_records.total;
        Ok((!page.users.is_empty()).then_some(page.users))
    }

    /// How many users the pages read so far held.
    pub fn listed(&self) -> usize {
        self.listed
    }
}

#[cfg(test)]
mod wait_words {
    use super::*;

    #[test]
    fn a_wait_says_its_cause_length_and_the_attempt_to_come() {
        let said = |ms, source| wait_message("cause", Duration::from_millis(ms), source, 2, 5);
        assert_eq!(said(60_000, None), "cause: waiting 60 s, attempt 2 of 5");
        assert_eq!(said(1_234, None), "cause: waiting 1.2 s, attempt 2 of 5");
        assert_eq!(said(250, None), "cause: waiting 250 ms, attempt 2 of 5");
        assert_eq!(
            said(30_000, Some("Retry-After")),
            "cause: waiting 30 s (Retry-After), attempt 2 of 5"
        );
        assert_eq!(wait_cause(&ErrorKind::Http(503)), "HTTP 503 from the site");
    }
}
