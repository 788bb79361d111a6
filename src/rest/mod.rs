//! One REST client for webexapis.com: the identity SCIM 2 API
//! ([`crate::identity`]), the licences API ([`licences`]) and the meeting
//! settings API ([`meeting`]) all call through [`RestClient`].
//!
//! Bearer token (never in Debug, logs or errors); 429 waits for its
//! `Retry-After` (else the policy's rate-limit wait); 5xx and dropped
//! connections back off, a 5xx with `Retry-After` waits that long; a POST
//! that may have reached the service is not resent after a dropped
//! connection (its outcome is unknown). Every error keeps the answer's
//! `TrackingID` (header, else the body's `trackingId`). Lists page by `Link:
//! rel="next"` ([`RestClient::get_linked`]) or by SCIM's `startIndex`
//! ([`RestClient::get_indexed`]). The loop, deadline and pacing are
//! [`crate::retry`]'s, shared with the XML client.

pub mod licences;
pub mod meeting;
pub mod transport;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;

use crate::retry::{Attempts, Deadline, Pacer, RetryPolicy, Slot, Verdict, Wait, WaitNotice};
use crate::secret::Secret;
pub use transport::{HttpRequest, HttpResponse, HttpTransport, JsonReplay, Method, TransportError};

/// webexapis.com's v1 APIs (licences, meeting settings).
pub const DEFAULT_BASE_URL: &str = "https://webexapis.com/v1";

/// Tells the admin of a wait as it starts; each API passes its own, so that
/// the log line's target is its module (`RUST_LOG=wbxprov::identity=…`).
pub(crate) type Announcer = fn(cause: &str, notice: WaitNotice);

/// One entry of a webexapis.com error body's `errors` (licences API:
/// `{message, errors[{errorCode, description}], trackingId}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    /// A number in the API reference (e.g. 400000); kept as text.
    pub error_code: Option<String>,
    /// What the API says is wrong.
    pub description: String,
}

/// The classified cause of a [`RestError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RestErrorKind {
    /// 404 or 410: the person or object does not exist (holds the status).
    #[error("not found (HTTP {0})")]
    NotFound(u16),
    /// 409: the request conflicts with what exists (e.g. a userName taken); holds the API's
    /// message.
    #[error("conflict (409): {0}")]
    Conflict(String),
    /// 401: the token is missing, expired or not accepted; holds the API's message.
    #[error("the token was refused (401): {0}")]
    Auth(String),
    /// 403: the token lacks a scope or the admin a role; holds the API's message.
    #[error("access denied (403): {0}")]
    AccessDenied(String),
    /// 429 on every attempt: the retries ran out waiting for the API.
    #[error("rate limited (429), still after every retry")]
    RateLimited,
    /// 400: the API refused the request as malformed or invalid.
    #[error("invalid request (400): {message}{}", codes(errors))]
    Invalid {
        /// The body's `message` (or the status text).
        message: String,
        /// The body's `errors`, each with its code.
        errors: Vec<ApiError>,
    },
    /// Any other status: the status and the body's message.
    #[error("HTTP status {0}: {1}")]
    Http(u16, String),
    /// No answer came back (timeout, connection, refused URL …).
    #[error(transparent)]
    Transport(TransportError),
    /// The answer is not the JSON the call expects; says what was wrong.
    #[error("malformed response: {0}")]
    Malformed(String),
}

/// ` [400216: invalid siteUrls; …]`, or nothing.
fn codes(errors: &[ApiError]) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let listed: Vec<String> = errors
        .iter()
        .map(|e| match &e.error_code {
            Some(code) => format!("{code}: {}", e.description),
            None => e.description.clone(),
        })
        .collect();
    format!(" [{}]", listed.join("; "))
}

/// A failed REST call: the API and operation, who it was about, why, and
/// the `TrackingID` Cisco support asks for.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{api} {operation} {key}: {kind}{}",
    tracking_id.as_deref().map(|t| format!(" (trackingId {t})")).unwrap_or_default()
)]
#[non_exhaustive]
pub struct RestError {
    /// "identity API", "licences API", "meetings API".
    pub api: &'static str,
    /// What the call did, e.g. `assign` (licences) or `Find` (identity).
    pub operation: String,
    /// The person (email, userName) or object the call was about.
    pub key: String,
    /// The cause (also the error's `source()`).
    #[source]
    pub kind: RestErrorKind,
    /// The answer's `TrackingID`, when one came back: quote it to Cisco support.
    pub tracking_id: Option<String>,
    /// Attempts made.
    pub attempts: u32,
}

impl RestError {
    /// Whether a later attempt may succeed without any change (429, 5xx, a dropped connection).
    pub fn is_transient(&self) -> bool {
        match &self.kind {
            RestErrorKind::RateLimited => true,
            RestErrorKind::Http(s, _) => *s >= 500,
            RestErrorKind::Transport(t) => t.is_transient(),
            _ => false,
        }
    }

    /// What a wait after this error is announced as (the words the identity
    /// client has always used).
    fn wait_cause(&self) -> String {
        let what = match &self.kind {
            RestErrorKind::RateLimited => "rate limited (HTTP 429)".to_owned(),
            RestErrorKind::Http(status, _) => format!("HTTP {status}"),
            other => other.to_string(),
        };
        format!("{} {} {}: {what}", self.api, self.operation, self.key)
    }
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq)]
pub struct RestAnswer {
    /// The HTTP status (2xx).
    pub status: u16,
    /// `None` for an empty body (204).
    pub body: Option<Json>,
    /// The answer's `TrackingID` (header, else the body's `trackingId`).
    pub tracking_id: Option<String>,
    /// The `Link: rel="next"` URL.
    pub next: Option<String>,
}

/// Bounds on a paged list: no answer makes wbxprov follow pages forever.
pub const MAX_PAGES: usize = 10_000;

/// The client of one webexapis.com API: a base URL and a token.
pub struct RestClient {
    api: &'static str,
    base: String,
    token: Secret,
    transport: Arc<dyn HttpTransport>,
    retry: RetryPolicy,
    deadline: Duration,
    pacer: Pacer,
    announce: Announcer,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("api", &self.api)
            .field("base", &self.base)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

/// Calls of one API, whatever it is, announce from here unless the API
/// passes its own [`Announcer`].
fn announce_here(cause: &str, notice: WaitNotice) {
    crate::client::announce_wait!(
        cause,
        notice.length,
        notice.source,
        notice.next_attempt,
        notice.max_attempts,
    );
}

impl RestClient {
    /// `api` names it in errors and waits ("licences API"); `base` is what
    /// paths are appended to (e.g. [`DEFAULT_BASE_URL`]).
    pub fn new(
        api: &'static str,
        base: &str,
        token: Secret,
        transport: Arc<dyn HttpTransport>,
    ) -> Self {
        RestClient {
            api,
            base: base.trim_end_matches('/').to_owned(),
            token,
            transport,
            retry: RetryPolicy::default(),
            // As the XML client's default ([`crate::client::Options`]).
            deadline: Duration::from_secs(60),
            // No client-side limit unless asked: the identity client never
            // had one, and the APIs say how long to wait (429 Retry-After).
            pacer: Pacer::new(tokio::sync::Semaphore::MAX_PERMITS, None),
            announce: announce_here,
        }
    }

    /// How often and how long transient failures are retried.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The most one call may take, waits the service asks for excluded.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Calls in flight at once and a client-side rate (requests per minute).
    pub fn pacing(mut self, max_concurrency: usize, requests_per_minute: Option<u32>) -> Self {
        self.pacer = Pacer::new(max_concurrency, requests_per_minute);
        self
    }

    pub(crate) fn announcer(mut self, announce: Announcer) -> Self {
        self.announce = announce;
        self
    }

    /// The base URL paths are appended to (without a trailing `/`).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// One call: `path` is appended to the base URL (or is an absolute URL
    /// on the base's origin, as a `Link` gives).
    pub async fn call(
        &self,
        operation: &str,
        key: &str,
        method: Method,
        path: &str,
        body: Option<Json>,
    ) -> Result<RestAnswer, RestError> {
        use tracing::Instrument;
        let url = self.url(path).ok_or_else(|| RestError {
            api: self.api,
            operation: operation.to_owned(),
            key: key.to_owned(),
            kind: RestErrorKind::Malformed(format!(
                "a link to another origin than {}: not followed (the token would go there)",
                self.base
            )),
            tracking_id: None,
            attempts: 0,
        })?;
        let mut call = RestCall {
            client: self,
            operation,
            key,
            request: HttpRequest { method, url, body },
        };
        let span = tracing::info_span!("wbxprov.rest", api = self.api, operation, key);
        let mut deadline = Deadline::new(self.deadline);
        // Instrumented, never entered across an await.
        let (result, attempts) = crate::retry::run(&mut call, &self.retry, &mut deadline)
            .instrument(span)
            .await;
        result.map_err(|e| RestError { attempts, ..e })
    }

    /// The URL of `path`: relative to the base, or absolute on its origin.
    fn url(&self, path: &str) -> Option<String> {
        if !path.starts_with("http://") && !path.starts_with("https://") {
            return Some(format!("{}{path}", self.base));
        }
        let origin = |u: &str| -> String {
            let after = u.find("://").map_or(0, |i| i + 3);
            let end = u[after..].find('/').map_or(u.len(), |i| after + i);
            u[..end].to_ascii_lowercase()
        };
        (origin(path) == origin(&self.base)).then(|| path.to_owned())
    }

    /// Every item of a list paged by `Link: rel="next"` (the licences API's
    /// `items`), at most `max_items`.
    pub async fn get_linked(
        &self,
        operation: &str,
        key: &str,
        path: &str,
        max_items: usize,
    ) -> Result<Vec<Json>, RestError> {
        let mut items = Vec::new();
        let mut next = Some(path.to_owned());
        let mut pages = 0;
        while let Some(page) = next.take() {
            pages += 1;
            let answer = self.call(operation, key, Method::GET, &page, None).await?;
            let listed = array_at(&answer.body, "items");
            items.extend(
                listed
                    .into_iter()
                    .take(max_items - items.len().min(max_items)),
            );
            if items.len() < max_items && pages < MAX_PAGES {
                next = answer.next;
            }
        }
        Ok(items)
    }

    /// Every resource of a SCIM list (RFC 7644 §3.4.2.4: `startIndex` from
    /// 1, `count` a page, `totalResults`), at most `max_items`. `path` has
    /// its query already (`?filter=…` or `?`).
    pub async fn get_indexed(
        &self,
        operation: &str,
        key: &str,
        path: &str,
        count: usize,
        max_items: usize,
    ) -> Result<Vec<Json>, RestError> {
        let joiner = if path.contains('?') { '&' } else { '?' };
        let mut resources = Vec::new();
        for _ in 0..MAX_PAGES {
            let page = format!(
                "{path}{joiner}startIndex={}&count={count}",
                resources.len() + 1
            );
            let answer = self.call(operation, key, Method::GET, &page, None).await?;
            let listed = array_at(&answer.body, "Resources");
            let total = answer
                .body
                .as_ref()
                .and_then(|b| b.get("totalResults"))
                .and_then(Json::as_u64)
                .unwrap_or(0);
            let got = listed.len();
            resources.extend(listed);
            resources.truncate(max_items);
            if got == 0 || resources.len() as u64 >= total || resources.len() >= max_items {
                break;
            }
        }
        Ok(resources)
    }
}

/// `a b` → `a%20b`: a value in a query string (RFC 3986 unreserved kept).
pub(crate) fn query_escape(s: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    /// Everything but RFC 3986's unreserved characters.
    const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// The array under `key` of a body, or nothing.
fn array_at(body: &Option<Json>, key: &str) -> Vec<Json> {
    body.as_ref()
        .and_then(|b| b.get(key))
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The REST policy of one call.
struct RestCall<'a> {
    client: &'a RestClient,
    operation: &'a str,
    key: &'a str,
    request: HttpRequest,
}

impl RestCall<'_> {
    fn error(&self, kind: RestErrorKind, tracking_id: Option<String>) -> RestError {
        RestError {
            api: self.client.api,
            operation: self.operation.to_owned(),
            key: self.key.to_owned(),
            kind,
            tracking_id,
            attempts: 0,
        }
    }

    /// A dropped connection: resent unless a POST may have landed (its
    /// outcome is unknown; a second POST could create twice).
    fn judge_transport(&self, e: TransportError) -> Verdict<RestAnswer, RestError> {
        let may_have_landed = self.request.method == Method::POST && e.maybe_sent();
        if e.is_transient() && !may_have_landed {
            Verdict::Retry(Wait::Backoff, self.error(RestErrorKind::Transport(e), None))
        } else {
            Verdict::Done(Err(self.error(RestErrorKind::Transport(e), None)))
        }
    }

    fn judge(&self, response: HttpResponse) -> Verdict<RestAnswer, RestError> {
        let parsed: Option<Json> = serde_json::from_str(&response.body).ok();
        let tracking_id = response.tracking_id.clone().or_else(|| {
            parsed
                .as_ref()
                .and_then(|j| j.get("trackingId"))
                .and_then(Json::as_str)
                .map(|t| t.chars().take(128).collect())
        });
        let asked = |length: Option<Duration>, otherwise: Wait| match length {
            Some(length) => Wait::Asked {
                length,
                source: Some("Retry-After"),
            },
            None => otherwise,
        };
        let fail = |kind| self.error(kind, tracking_id.clone());
        let detail = || detail(parsed.as_ref(), &response.body);
        let kind = match response.status {
            200..=299 => return self.success(response, parsed, tracking_id),
            429 => {
                let otherwise = Wait::Asked {
                    length: self.client.retry.rate_limit_wait,
                    source: None,
                };
                let wait = asked(response.retry_after, otherwise);
                return Verdict::Retry(wait, fail(RestErrorKind::RateLimited));
            }
            status @ 500..=599 => {
                let wait = asked(response.retry_after, Wait::Backoff);
                return Verdict::Retry(wait, fail(RestErrorKind::Http(status, detail())));
            }
            400 => RestErrorKind::Invalid {
                message: detail(),
                errors: api_errors(parsed.as_ref()),
            },
            401 => RestErrorKind::Auth(detail()),
            403 => RestErrorKind::AccessDenied(detail()),
            status @ (404 | 410) => RestErrorKind::NotFound(status),
            409 => RestErrorKind::Conflict(detail()),
            status => RestErrorKind::Http(status, detail()),
        };
        Verdict::Done(Err(fail(kind)))
    }

    fn success(
        &self,
        response: HttpResponse,
        parsed: Option<Json>,
        tracking_id: Option<String>,
    ) -> Verdict<RestAnswer, RestError> {
        if parsed.is_none() && !response.body.trim().is_empty() {
            let kind = RestErrorKind::Malformed("the answer is not JSON".into());
            return Verdict::Done(Err(self.error(kind, tracking_id)));
        }
        Verdict::Done(Ok(RestAnswer {
            status: response.status,
            body: parsed,
            tracking_id,
            next: response.next,
        }))
    }
}

impl Attempts for RestCall<'_> {
    type Output = RestAnswer;
    type Error = RestError;

    fn attempt<'a>(
        &'a mut self,
        deadline: &'a mut Deadline,
    ) -> crate::retry::Attempt<'a, RestAnswer, RestError> {
        Box::pin(self.attempt_once(deadline))
    }

    fn announce(&self, error: &RestError, notice: WaitNotice) {
        (self.client.announce)(&error.wait_cause(), notice);
    }
}

impl RestCall<'_> {
    async fn attempt_once(&mut self, deadline: &mut Deadline) -> Verdict<RestAnswer, RestError> {
        let client = self.client;
        let send = async {
            crate::client::note_attempts(1);
            client.transport.send(&self.request, &client.token).await
        };
        match client.pacer.send(deadline, send).await {
            Slot::OutOfTime { sent } => {
                let after = deadline.elapsed();
                let timeout = TransportError::Timeout { after, sent };
                Verdict::Done(Err(self.error(RestErrorKind::Transport(timeout), None)))
            }
            Slot::Sent(Err(e)) => self.judge_transport(e),
            Slot::Sent(Ok(response)) => self.judge(response),
        }
    }
}

/// An error body's words: SCIM's `detail`, webexapis.com's `message`, else
/// the start of the body (bounded: it goes into messages).
fn detail(parsed: Option<&Json>, body: &str) -> String {
    parsed
        .and_then(|j| j.get("detail").or_else(|| j.get("message")))
        .and_then(Json::as_str)
        .map(|s| s.chars().take(500).collect())
        .unwrap_or_else(|| body.chars().take(200).collect())
}

/// The `errors` of a webexapis.com error body (at most 20, each bounded).
fn api_errors(parsed: Option<&Json>) -> Vec<ApiError> {
    let Some(list) = parsed
        .and_then(|j| j.get("errors"))
        .and_then(Json::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .take(20)
        .map(|e| ApiError {
            error_code: match e.get("errorCode") {
                Some(Json::String(s)) => Some(s.chars().take(32).collect()),
                Some(Json::Number(n)) => Some(n.to_string()),
                _ => None,
            },
            description: e
                .get("description")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .chars()
                .take(500)
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3986 unreserved characters stay; everything else, UTF-8 bytes
    /// included, is percent-encoded in upper-case hex.
    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(query_escape("aZ09-_.~"), "aZ09-_.~");
        assert_eq!(
            query_escape("jane doe+x@example.com"),
            "jane%20doe%2Bx%40example.com"
        );
        assert_eq!(query_escape("zoë/&="), "zo%C3%AB%2F%26%3D");
    }

    fn client() -> RestClient {
        RestClient::new(
            "test API",
            "https://webexapis.com/v1",
            Secret::new("t"),
            Arc::new(JsonReplay::from_exchanges(Vec::new())),
        )
    }

    #[test]
    fn a_link_to_another_origin_is_never_followed() {
        let c = client();
        assert_eq!(
            c.url("/licenses").as_deref(),
            Some("https://webexapis.com/v1/licenses")
        );
        assert!(
            c.url("https://WEBEXAPIS.com/v1/licenses?cursor=x")
                .is_some()
        );
        assert_eq!(c.url("https://evil.example/v1/licenses"), None);
        assert_eq!(c.url("https://webexapis.com.evil.example/v1"), None);
    }

    fn exchange(path: &str, status: u16, response: Json) -> transport::Exchange {
        serde_json::from_value(serde_json::json!({
            "method": "GET", "path": path, "status": status, "response": response
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn a_scim_list_is_read_by_start_index_until_its_total() {
        let user = |n: u32| serde_json::json!({"id": n.to_string()});
        let replay = Arc::new(JsonReplay::from_exchanges(vec![
            exchange(
                "/Users?filter=x&startIndex=1&count=2",
                200,
                serde_json::json!({"totalResults": 3, "Resources": [user(1), user(2)]}),
            ),
            exchange(
                "/Users?filter=x&startIndex=3&count=2",
                200,
                serde_json::json!({"totalResults": 3, "Resources": [user(3)]}),
            ),
        ]));
        let client = RestClient::new("test API", "https://x.example/v2", Secret::new("t"), replay);
        let all = client
            .get_indexed("list", "-", "/Users?filter=x", 2, 100)
            .await
            .unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[2]["id"], "3");
    }

    /// Answers from a script, counting what was sent.
    struct Scripted {
        answers: std::sync::Mutex<Vec<Result<HttpResponse, TransportError>>>,
        sent: std::sync::atomic::AtomicU32,
    }

    impl HttpTransport for Scripted {
        fn send<'a>(
            &'a self,
            _request: &'a HttpRequest,
            _token: &'a Secret,
        ) -> transport::HttpSending<'a> {
            self.sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let next = self.answers.lock().unwrap().remove(0);
            Box::pin(async move { next })
        }
    }

    fn scripted(answers: Vec<Result<HttpResponse, TransportError>>) -> Arc<Scripted> {
        Arc::new(Scripted {
            answers: std::sync::Mutex::new(answers),
            sent: Default::default(),
        })
    }

    fn status(status: u16, retry_after: Option<u64>, tracking: Option<&str>) -> HttpResponse {
        HttpResponse {
            status,
            retry_after: retry_after.map(Duration::from_secs),
            tracking_id: tracking.map(str::to_owned),
            next: None,
            body: String::new(),
        }
    }

    fn fast(transport: Arc<Scripted>) -> RestClient {
        RestClient::new(
            "test API",
            "https://x.example/v1",
            Secret::new("t"),
            transport,
        )
        .retry(RetryPolicy {
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            ..RetryPolicy::default()
        })
    }

    #[tokio::test]
    async fn a_post_that_may_have_landed_is_not_sent_again() {
        let dropped = || {
            Err(TransportError::Connection {
                message: "reset".into(),
                sent: true,
            })
        };
        let transport = scripted(vec![dropped(), Ok(status(201, None, None))]);
        let client = fast(transport.clone());
        let e = client
            .call("create", "a@x", Method::POST, "/things", None)
            .await
            .unwrap_err();
        assert!(matches!(e.kind, RestErrorKind::Transport(_)), "{e}");
        assert_eq!(transport.sent.load(std::sync::atomic::Ordering::SeqCst), 1);
        // The same drop on a PUT is resent.
        let transport = scripted(vec![dropped(), Ok(status(200, None, None))]);
        let client = fast(transport.clone());
        client
            .call("set", "a@x", Method::PUT, "/things", None)
            .await
            .unwrap();
        assert_eq!(transport.sent.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_5xx_is_retried_and_the_last_answers_tracking_id_is_kept() {
        let transport = scripted(vec![
            Ok(status(503, Some(0), Some("T1"))),
            Ok(status(502, None, Some("T2"))),
            Ok(status(403, None, Some("T3"))),
        ]);
        let client = fast(transport.clone());
        let e = client
            .call("get", "a@x", Method::GET, "/things", None)
            .await
            .unwrap_err();
        assert!(matches!(e.kind, RestErrorKind::AccessDenied(_)), "{e}");
        assert_eq!((e.tracking_id.as_deref(), e.attempts), (Some("T3"), 3));
        assert!(e.to_string().contains("trackingId T3"), "{e}");
    }

    #[test]
    fn error_codes_are_read_as_numbers_or_text() {
        let body = serde_json::json!({"message": "m", "errors": [
            {"errorCode": 400216, "description": "bad siteUrls"},
            {"errorCode": "700004", "description": "prerequisite"}
        ], "trackingId": "T"});
        let errors = api_errors(Some(&body));
        assert_eq!(errors[0].error_code.as_deref(), Some("400216"));
        assert_eq!(errors[1].error_code.as_deref(), Some("700004"));
        assert_eq!(
            codes(&errors),
            " [400216: bad siteUrls; 700004: prerequisite]"
        );
    }
}
