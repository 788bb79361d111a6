//! One `Transport` trait, bytes in and bytes out, with the transports wbxprov
//! ships: HTTPS (feature `https`), replay of recorded exchanges, and a recorder
//! that writes each exchange with its secrets masked.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use crate::ops::Operation;

/// One request on its way out.
#[derive(Clone)]
pub struct Outgoing {
    /// The XML API endpoint, `https://{site}.webex.com/WBXService/XMLService`.
    pub url: String,
    pub operation: Operation,
    /// What the request is about (the webExId for user operations), for matching
    /// recorded exchanges and for logs.
    pub key: Option<String>,
    /// The document sent: secrets included. Never logged or recorded.
    pub body: String,
    /// The same document with secrets masked: what logs and recordings may show.
    pub masked_body: String,
}

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outgoing")
            .field("url", &self.url)
            .field("operation", &self.operation)
            .field("key", &self.key)
            .field("body", &self.masked_body)
            .finish()
    }
}

/// What came back over the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// The HTTP status (200 for a replayed exchange).
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why bytes did not come back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// No answer in time. `sent` says whether the request may have reached the service.
    #[error("timed out after {after:?}")]
    Timeout { after: Duration, sent: bool },
    /// The connection failed or was reset.
    #[error("connection failed: {message}")]
    Connection { message: String, sent: bool },
    /// A replay directory has no exchange for this request.
    #[error("no recorded exchange for {asked}; recorded: {recorded}")]
    NotRecorded { asked: String, recorded: String },
    /// The service answered with a redirect (3xx). Never followed: the request
    /// carries the admin's password or token, which must not go elsewhere.
    #[error(
        "the service answered HTTP {status}, a redirect{}; redirects are never followed (the request carries credentials): check the URL",
        location.as_deref().map(|l| format!(" to {l}")).unwrap_or_default()
    )]
    Redirect {
        status: u16,
        location: Option<String>,
    },
    /// The answer is larger than wbxprov reads; refused as soon as that is
    /// known (a `Content-Length` over the limit, or the limit reached while reading).
    #[error(
        "the answer exceeds the limit of {limit} bytes{}",
        declared.map(|n| format!(" (Content-Length {n})")).unwrap_or_default()
    )]
    TooLarge { limit: usize, declared: Option<u64> },
    /// Plain `http://` to a host that is not loopback: refused before
    /// anything is sent, unless allowed explicitly.
    #[error(
        "refusing plain http:// to {url}: without TLS only a loopback host (127.0.0.0/8, ::1, localhost) is reached; use https://, or allow it explicitly (allowInsecureHttp = true in wbxprov.toml, or WBXPROV_ALLOW_INSECURE_HTTP=1)"
    )]
    InsecureUrl { url: String },
    /// Anything else (bad URL, TLS set-up, recording I/O).
    #[error("{0}")]
    Other(String),
}

impl TransportError {
    /// Whether the same request may succeed if sent again.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            TransportError::Timeout { .. } | TransportError::Connection { .. }
        )
    }

    /// Whether the service may have received (and acted on) the request.
    pub fn maybe_sent(&self) -> bool {
        match self {
            TransportError::Timeout { sent, .. } | TransportError::Connection { sent, .. } => *sent,
            // Something answered: the request reached it.
            TransportError::Redirect { .. } | TransportError::TooLarge { .. } => true,
            TransportError::NotRecorded { .. }
            | TransportError::InsecureUrl { .. }
            | TransportError::Other(_) => false,
        }
    }
}

/// A future a transport returns.
pub type Sending<'a> = Pin<Box<dyn Future<Output = Result<Incoming, TransportError>> + Send + 'a>>;

/// Bytes in, bytes out. Implementations must be cheap to share (`Arc`).
pub trait Transport: Send + Sync {
    fn send<'a>(&'a self, request: &'a Outgoing) -> Sending<'a>;
}

impl<T: Transport + ?Sized> Transport for std::sync::Arc<T> {
    fn send<'a>(&'a self, request: &'a Outgoing) -> Sending<'a> {
        (**self).send(request)
    }
}

// ---------------------------------------------------------------------------
// HTTPS

/// HTTPS with reqwest and rustls: connection reuse, timeouts, a User-Agent
/// naming wbxprov; no redirects; answers read up to the decoder's size limit.
#[cfg(feature = "https")]
#[derive(Debug, Clone)]
pub struct Https {
    http: Http,
}

#[cfg(feature = "https")]
impl Https {
    pub fn new(connect_timeout: Duration, timeout: Duration) -> Result<Self, TransportError> {
        Ok(Https {
            http: Http::new(
                connect_timeout,
                timeout,
                crate::xml::Limits::default().max_bytes,
            )?,
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
impl Transport for Https {
    fn send<'a>(&'a self, request: &'a Outgoing) -> Sending<'a> {
        Box::pin(async move {
            let builder = self
                .http
                .request(reqwest::Method::POST, &request.url)?
                .header("Content-Type", "application/xml; charset=utf-8")
                .body(request.body.clone());
            let answer = self.http.exchange(builder).await?;
            Ok(Incoming {
                status: answer.status,
                body: answer.body,
            })
        })
    }
}

/// What both HTTPS transports share: one reqwest client (rustls, timeouts
/// covering the body too, a User-Agent naming wbxprov, no redirects), the
/// plain-http policy and the size limit of an answer.
#[cfg(feature = "https")]
#[derive(Debug, Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    timeout: Duration,
    max_bytes: usize,
    pub(crate) allow_insecure_http: bool,
}

/// An answer that is neither a redirect nor too large.
#[cfg(feature = "https")]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Vec<u8>,
}

#[cfg(feature = "https")]
impl Http {
    pub(crate) fn new(
        connect_timeout: Duration,
        timeout: Duration,
        max_bytes: usize,
    ) -> Result<Self, TransportError> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("wbxprov/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(connect_timeout)
            // reqwest applies this to reading the body as well.
            .timeout(timeout)
            // Following one would re-send the body (password, token, ticket)
            // to wherever the Location points.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| TransportError::Other(format!("HTTPS client: {e}")))?;
        Ok(Http {
            client,
            timeout,
            max_bytes,
            allow_insecure_http: false,
        })
    }

    /// A request to `url`; plain http to another host is refused here, before
    /// anything is sent.
    pub(crate) fn request(
        &self,
        method: reqwest::Method,
        url: &str,
    ) -> Result<reqwest::RequestBuilder, TransportError> {
        if !self.allow_insecure_http && !secure_or_local(url) {
            return Err(TransportError::InsecureUrl {
                url: url.to_owned(),
            });
        }
        Ok(self.client.request(method, url))
    }

    /// Sends; refuses a redirect; reads the body without ever holding more
    /// than the size limit.
    pub(crate) async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer, TransportError> {
        let classify = |e: reqwest::Error| classify_reqwest(&e, self.timeout);
        let mut response = request.send().await.map_err(classify)?;
        let status = response.status();
        if status.is_redirection() {
            return Err(redirect(status.as_u16(), response.headers()));
        }
        let too_large = |declared| TransportError::TooLarge {
            limit: self.max_bytes,
            declared,
        };
        let declared = response.content_length();
        if let Some(n) = declared.filter(|n| *n > self.max_bytes as u64) {
            return Err(too_large(Some(n)));
        }
        let mut body = Vec::with_capacity(declared.unwrap_or(0) as usize);
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(too_large(None));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status: status.as_u16(),
            headers: std::mem::take(response.headers_mut()),
            body,
        })
    }
}

#[cfg(feature = "https")]
fn redirect(status: u16, headers: &reqwest::header::HeaderMap) -> TransportError {
    // Bounded: the Location goes into messages.
    let location = headers.get(reqwest::header::LOCATION).map(|v| {
        String::from_utf8_lossy(v.as_bytes())
            .chars()
            .take(512)
            .collect()
    });
    TransportError::Redirect { status, location }
}

/// Whether `url` is https, or plain http to this machine (127.0.0.0/8, ::1,
/// `localhost`). Anything else reqwest cannot parse is left for it to report.
#[cfg(feature = "https")]
fn secure_or_local(url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else {
        return true;
    };
    if url.scheme() != "http" {
        return true;
    }
    let Some(host) = url.host_str() else {
        return false;
    };
    // IPv6 hosts come bracketed; the URL parser has already normalised IPv4
    // spellings such as `127.1`.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(feature = "https")]
pub(crate) fn classify_reqwest(e: &reqwest::Error, timeout: Duration) -> TransportError {
    // reqwest's messages carry the URL, never the body: safe to keep.
    if e.is_timeout() {
        TransportError::Timeout {
            after: timeout,
            sent: !e.is_connect(),
        }
    } else if e.is_connect() {
        TransportError::Connection {
            message: e.to_string(),
            sent: false,
        }
    } else if e.is_request() || e.is_body() || e.is_decode() {
        TransportError::Connection {
            message: e.to_string(),
            sent: true,
        }
    } else {
        TransportError::Other(e.to_string())
    }
}

// ---------------------------------------------------------------------------
// Recording and replay

/// File names of a recorded exchange: `0001-CreateUser-jdoe.request.xml` and
/// `0001-CreateUser-jdoe.response.xml`, numbered in call order.
fn exchange_stem(n: usize, operation: Operation, key: Option<&str>) -> String {
    let key: String = key
        .unwrap_or("-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{n:04}-{operation}-{key}")
}

/// Answers from exchanges recorded in a directory, matched by operation and key,
/// each used once and in order. Nothing touches the network.
#[derive(Debug)]
pub struct Replay {
    exchanges: Mutex<Vec<Recorded>>,
}

#[derive(Debug)]
struct Recorded {
    operation: String,
    key: String,
    response: PathBuf,
    used: bool,
}

impl Replay {
    pub fn from_dir(dir: &Path) -> Result<Self, TransportError> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| TransportError::Other(format!("{}: {e}", dir.display())))?;
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".response.xml"))
            .collect();
        names.sort();
        let exchanges = names
            .into_iter()
            .filter_map(|name| {
                let stem = name.strip_suffix(".response.xml")?;
                let mut parts = stem.splitn(3, '-');
                let _n = parts.next()?;
                let operation = parts.next()?.to_owned();
                let key = parts.next().unwrap_or("-").to_owned();
                Some(Recorded {
                    operation,
                    key,
                    response: dir.join(&name),
                    used: false,
                })
            })
            .collect();
        Ok(Replay {
            exchanges: Mutex::new(exchanges),
        })
    }
}

impl Transport for Replay {
    fn send<'a>(&'a self, request: &'a Outgoing) -> Sending<'a> {
        Box::pin(async move {
            let operation = request.operation.to_string();
            let wanted = exchange_stem(0, request.operation, request.key.as_deref());
            let key = wanted.splitn(3, '-').nth(2).unwrap_or("-").to_owned();
            let path = {
                let mut exchanges = self.exchanges.lock().expect("replay lock");
                match exchanges
                    .iter_mut()
                    .find(|x| !x.used && x.operation == operation && x.key == key)
                {
                    Some(x) => {
                        x.used = true;
                        x.response.clone()
                    }
                    None => {
                        let recorded: Vec<String> = exchanges
                            .iter()
                            .map(|x| {
                                format!(
                                    "{} {}{}",
                                    x.operation,
                                    x.key,
                                    if x.used { " (used)" } else { "" }
                                )
                            })
                            .collect();
                        return Err(TransportError::NotRecorded {
                            asked: format!("{operation} {key}"),
                            recorded: if recorded.is_empty() {
                                "nothing".into()
                            } else {
                                recorded.join(", ")
                            },
                        });
                    }
                }
            };
            let body = std::fs::read(&path)
                .map_err(|e| TransportError::Other(format!("{}: {e}", path.display())))?;
            Ok(Incoming { status: 200, body })
        })
    }
}

/// Sends through another transport and writes each exchange to a directory in
/// the layout [`Replay`] reads, the request with its secrets masked.
pub struct Recorder<T> {
    inner: T,
    dir: PathBuf,
    count: Mutex<usize>,
}

impl<T> Recorder<T> {
    pub fn new(inner: T, dir: &Path) -> Result<Self, TransportError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| TransportError::Other(format!("{}: {e}", dir.display())))?;
        Ok(Recorder {
            inner,
            dir: dir.to_owned(),
            count: Mutex::new(0),
        })
    }
}

impl<T: Transport> Transport for Recorder<T> {
    fn send<'a>(&'a self, request: &'a Outgoing) -> Sending<'a> {
        Box::pin(async move {
            let incoming = self.inner.send(request).await?;
            let n = {
                let mut count = self.count.lock().expect("recorder lock");
                *count += 1;
                *count
            };
            let stem = exchange_stem(n, request.operation, request.key.as_deref());
            let write = |suffix: &str, bytes: &[u8]| {
                let path = self.dir.join(format!("{stem}.{suffix}"));
                std::fs::write(&path, bytes)
                    .map_err(|e| TransportError::Other(format!("{}: {e}", path.display())))
            };
            write("request.xml", request.masked_body.as_bytes())?;
            write("response.xml", &mask_response_secrets(&incoming.body))?;
            Ok(incoming)
        })
    }
}

/// Session tickets come back in AuthenticateUser responses: mask them in recordings.
fn mask_response_secrets(body: &[u8]) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(body) else {
        return body.to_vec();
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("sessionTicket>") {
        let (head, tail) = rest.split_at(at + "sessionTicket>".len());
        out.push_str(head);
        // An opening tag (`<sessionTicket>`, `<use:sessionTicket>`), not a closing one,
        // is followed by the ticket text up to the next `<`.
        let tag_start = head.rfind('<').map(|i| &head[i..]);
        let opening = tag_start.is_some_and(|t| {
            !t.starts_with("</") && !t[1..t.len() - "sessionTicket>".len()].contains([' ', '>'])
        });
        if opening {
            let end = tail.find('<').unwrap_or(tail.len());
            out.push_str(crate::secret::MASK);
            rest = &tail[end..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_tickets_are_masked_in_recorded_responses() {
        let body = b"<a><use:sessionTicket>SECRET</use:sessionTicket><x>y</x></a>";
        let masked = String::from_utf8(mask_response_secrets(body)).unwrap();
        assert_eq!(
            masked,
            "<a><use:sessionTicket>***</use:sessionTicket><x>y</x></a>"
        );
        let plain = b"<sessionTicket>T1</sessionTicket><b>sessionTicket>x</b>";
        assert_eq!(
            String::from_utf8(mask_response_secrets(plain)).unwrap(),
            "<sessionTicket>***</sessionTicket><b>sessionTicket>x</b>"
        );
    }

    #[test]
    fn exchange_names_are_file_safe() {
        assert_eq!(
            exchange_stem(7, Operation::GetUser, Some("j doe/../x")),
            "0007-GetUser-j_doe_.._x"
        );
    }
}
