//! JSON over HTTP for the webexapis.com APIs (identity SCIM 2, licences,
//! meeting settings): one trait, HTTPS (feature `https`) and a replay of
//! recorded exchanges for tests.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value as Json;

pub use crate::client::TransportError;
use crate::secret::Secret;

/// The HTTP method of a request: the `http` crate's, which reqwest and axum
/// share, so no conversion sits between wbxprov and the wire.
pub use http::Method;

/// One request; the bearer token travels beside it, never inside.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The whole URL.
    pub url: String,
    /// The JSON body, if any.
    pub body: Option<Json>,
}

/// An answer: status, the headers wbxprov reads, and the body as text.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    /// The HTTP status; any status is an answer (the client classifies it).
    pub status: u16,
    /// `Retry-After`, in seconds, as sent with 429 and 503.
    pub retry_after: Option<Duration>,
    /// Webex's `TrackingID` header: what Cisco support asks for about a
    /// request (developer.webex.com, "Troubleshoot the API").
    pub tracking_id: Option<String>,
    /// The `rel="next"` URL of a `Link` header (RFC 8288), as the paged
    /// webexapis.com lists send it.
    pub next: Option<String>,
    /// Empty for 204.
    pub body: String,
}

/// A future an [`HttpTransport`] returns.
pub type HttpSending<'a> =
    Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + Send + 'a>>;

/// JSON in, JSON out, with a bearer token.
pub trait HttpTransport: Send + Sync {
    /// Sends one request with `token` as its bearer token and reads the answer. `Err` means
    /// no answer came back; the token must never appear in the error.
    fn send<'a>(&'a self, request: &'a HttpRequest, token: &'a Secret) -> HttpSending<'a>;
}

impl<T: HttpTransport + ?Sized> HttpTransport for std::sync::Arc<T> {
    fn send<'a>(&'a self, request: &'a HttpRequest, token: &'a Secret) -> HttpSending<'a> {
        (**self).send(request, token)
    }
}

/// The largest identity API answer read, in bytes. wbxprov asks for one
/// person at a time (a find asks for at most two), a few KB each: 4 MiB is
/// far above any real answer and bounds what a hostile one costs.
pub const MAX_ANSWER_BYTES: usize = 4 << 20;

/// HTTPS with reqwest and rustls; no redirects; answers read up to
/// [`MAX_ANSWER_BYTES`].
#[cfg(feature = "https")]
#[derive(Debug, Clone)]
pub struct HttpsJson {
    http: crate::client::transport::Http,
}

#[cfg(feature = "https")]
impl HttpsJson {
    /// An HTTPS transport with these timeouts (to connect, and for a whole exchange).
    ///
    /// # Errors
    ///
    /// [`TransportError::Other`] when the TLS client cannot be set up.
    pub fn new(connect_timeout: Duration, timeout: Duration) -> Result<Self, TransportError> {
        Ok(HttpsJson {
            http: crate::client::transport::Http::new(connect_timeout, timeout, MAX_ANSWER_BYTES)?,
        })
    }

    /// Allows plain `http://` to hosts that are not loopback (loopback is
    /// always allowed, for the simulator).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.http.allow_insecure_http = allow;
        self
    }
}

#[cfg(feature = "https")]
impl HttpTransport for HttpsJson {
    fn send<'a>(&'a self, request: &'a HttpRequest, token: &'a Secret) -> HttpSending<'a> {
        Box::pin(async move {
            // reqwest's messages carry the URL, never headers: the token stays out.
            let mut builder = self
                .http
                .request(request.method.clone(), &request.url)?
                .bearer_auth(token.expose())
                .header("Accept", "application/scim+json, application/json");
            if let Some(body) = &request.body {
                builder = builder
                    .header("Content-Type", content_type(&request.url))
                    .body(body.to_string());
            }
            let answer = self.http.exchange(builder).await?;
            let header = |name: &str| {
                answer
                    .headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim)
            };
            let retry_after = header("retry-after")
                .and_then(|v| v.parse::<u64>().ok())
                .map(Duration::from_secs);
            // Bounded: both go into errors and logs.
            let tracking_id = header("trackingid").map(|v| v.chars().take(128).collect());
            let next = header("link").and_then(next_link);
            // Valid UTF-8 (what JSON must be) is taken as is, without a copy.
            let body = String::from_utf8(answer.body)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            Ok(HttpResponse {
                status: answer.status,
                retry_after,
                tracking_id,
                next,
                body,
            })
        })
    }
}

/// SCIM's media type for the identity API (RFC 7644 §3.1), JSON for the
/// other webexapis.com APIs.
#[cfg(feature = "https")]
fn content_type(url: &str) -> &'static str {
    if url.contains("/scim/") {
        "application/scim+json"
    } else {
        "application/json"
    }
}

/// A recording's method, as written in the reference (`"GET"`, `"PATCH"` …);
/// anything else is a malformed recording, not an extension method.
fn method_named<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Method, D::Error> {
    let name = String::deserialize(deserializer)?;
    match Method::from_bytes(name.as_bytes()) {
        Ok(method) if method.as_str() == name && !is_extension(&method) => Ok(method),
        _ => Err(serde::de::Error::custom(format!(
            "not an HTTP method: {name:?}"
        ))),
    }
}

fn is_extension(method: &Method) -> bool {
    ![
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
    ]
    .contains(method)
}

/// One recorded exchange: what was asked (method, path relative to the
/// base URL) and what came back.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Exchange {
    /// The method expected.
    #[serde(deserialize_with = "method_named")]
    pub method: Method,
    /// The URL's end, e.g. `/Users?filter=…` (compared as a suffix).
    pub path: String,
    /// The body expected, if the recording pins it.
    #[serde(default)]
    pub request: Option<Json>,
    /// The status answered.
    pub status: u16,
    /// `Retry-After`, in seconds, answered.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// The JSON answered (`None`: an empty body).
    #[serde(default)]
    pub response: Option<Json>,
    /// The answer's `TrackingID` header.
    #[serde(default)]
    pub tracking_id: Option<String>,
    /// The answer's `Link` header (its `rel="next"` URL is read).
    #[serde(default)]
    pub link: Option<String>,
}

/// Answers from a recorded conversation (a JSON array of [`Exchange`]s),
/// in order; keeps what was sent, for tests to compare with the recording.
#[derive(Debug)]
pub struct JsonReplay {
    exchanges: Vec<Exchange>,
    sent: Mutex<Vec<HttpRequest>>,
}

impl JsonReplay {
    /// Reads a conversation recorded as a JSON array of [`Exchange`]s.
    ///
    /// # Errors
    ///
    /// [`TransportError::Other`] when the file cannot be read, exceeds the size limit or is not
    /// such an array.
    pub fn from_file(path: &Path) -> Result<Self, TransportError> {
        // A conversation of many answers, each within MAX_ANSWER_BYTES.
        let text = crate::client::transport::read_capped(path, 16 * MAX_ANSWER_BYTES)?;
        let exchanges = serde_json::from_slice(&text)
            .map_err(|e| TransportError::Other(format!("{}: {e}", path.display())))?;
        Ok(JsonReplay {
            exchanges,
            sent: Mutex::new(Vec::new()),
        })
    }

    /// A conversation built in code.
    pub fn from_exchanges(exchanges: Vec<Exchange>) -> Self {
        JsonReplay {
            exchanges,
            sent: Mutex::new(Vec::new()),
        }
    }

    /// The requests sent so far, in order.
    pub fn sent(&self) -> Vec<HttpRequest> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The recorded exchanges, in order.
    pub fn exchanges(&self) -> &[Exchange] {
        &self.exchanges
    }
}

impl HttpTransport for JsonReplay {
    fn send<'a>(&'a self, request: &'a HttpRequest, _token: &'a Secret) -> HttpSending<'a> {
        Box::pin(async move {
            let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
            let n = sent.len();
            let Some(exchange) = self.exchanges.get(n) else {
                return Err(TransportError::NotRecorded {
                    asked: format!("{} {}", request.method, request.url),
                    recorded: format!("{} exchanges, all used", self.exchanges.len()),
                });
            };
            if exchange.method != request.method || !request.url.ends_with(&exchange.path) {
                return Err(TransportError::NotRecorded {
                    asked: format!("{} {}", request.method, request.url),
                    recorded: format!("exchange {}: {} {}", n + 1, exchange.method, exchange.path),
                });
            }
            sent.push(request.clone());
            Ok(HttpResponse {
                status: exchange.status,
                retry_after: exchange.retry_after.map(Duration::from_secs),
                tracking_id: exchange.tracking_id.clone(),
                next: exchange.link.as_deref().and_then(next_link),
                body: exchange
                    .response
                    .as_ref()
                    .map(Json::to_string)
                    .unwrap_or_default(),
            })
        })
    }
}

/// The `rel="next"` target of a `Link` header value (RFC 8288), e.g.
/// `<https://webexapis.com/v1/licenses?cursor=X>; rel="next"`; bounded, as
/// it is logged.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|link| {
        let (target, params) = link.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p.eq_ignore_ascii_case("rel=\"next\"") || p.eq_ignore_ascii_case("rel=next")
        });
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        (is_next && target.len() <= 2048).then(|| target.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::{Exchange, Method, next_link};

    fn exchange_with(method: &str) -> Result<Exchange, serde_json::Error> {
        serde_json::from_value(serde_json::json!({"method": method, "path": "/x", "status": 200}))
    }

    #[test]
    fn a_recording_names_a_standard_method_exactly() {
        assert_eq!(exchange_with("PATCH").unwrap().method, Method::PATCH);
        for wrong in ["patch", "FETCH", ""] {
            let refused = exchange_with(wrong).unwrap_err().to_string();
            assert!(
                refused.contains("not an HTTP method"),
                "{wrong:?}: {refused}"
            );
        }
    }

    #[test]
    fn the_next_link_is_read_among_others() {
        let header = r#"<https://webexapis.com/v1/x?max=2&cursor=A>; rel="prev", <https://webexapis.com/v1/x?max=2&cursor=B>; rel="next""#;
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://webexapis.com/v1/x?max=2&cursor=B")
        );
        assert_eq!(next_link(r#"<https://a/x>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
    }
}
