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
    /// The operation the document carries.
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
    /// The answer's bytes, read up to the decoder's size limit.
    pub body: Vec<u8>,
}

/// Why bytes did not come back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// No answer in time. `sent` says whether the request may have reached the service.
    #[error("timed out after {after:?}")]
    Timeout {
        /// How long the call waited.
        after: Duration,
        /// Whether the request may have reached the service.
        sent: bool,
    },
    /// The connection failed or was reset.
    #[error("connection failed: {message}")]
    Connection {
        /// The HTTP client's description.
        message: String,
        /// Whether the request may have reached the service.
        sent: bool,
    },
    /// A replay directory has no exchange for this request.
    #[error("no recorded exchange for {asked}; recorded: {recorded}")]
    NotRecorded {
        /// The exchange asked for (operation and key).
        asked: String,
        /// The exchanges the directory still has.
        recorded: String,
    },
    /// The service answered with a redirect (3xx). Never followed: the request
    /// carries the admin's password or token, which must not go elsewhere.
    #[error(
        "the service answered HTTP {status}, a redirect{}; redirects are never followed (the request carries credentials): check the URL",
        location.as_deref().map(|l| format!(" to {l}")).unwrap_or_default()
    )]
    Redirect {
        /// The HTTP status (301, 302, 307, 308 …).
        status: u16,
        /// The `Location` header, when sent.
        location: Option<String>,
    },
    /// The answer is larger than wbxprov reads; refused as soon as that is
    /// known (a `Content-Length` over the limit, or the limit reached while reading).
    #[error(
        "the answer exceeds the limit of {limit} bytes{}",
        declared.map(|n| format!(" ({n} bytes announced)")).unwrap_or_default()
    )]
    TooLarge {
        /// The most bytes read.
        limit: usize,
        /// The `Content-Length` the service announced, when it did.
        declared: Option<u64>,
    },
    /// Plain `http://` to a host that is not loopback: refused before
    /// anything is sent, unless allowed explicitly.
    #[error(
        "refusing plain http:// to {url}: without TLS only a loopback host (127.0.0.0/8, ::1, localhost) is reached; use https://, or allow it explicitly (allowInsecureHttp = true in wbxprov.toml, or WBXPROV_ALLOW_INSECURE_HTTP=1)"
    )]
    InsecureUrl {
        /// The URL refused.
        url: String,
    },
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
    /// Sends one request and reads its answer. Any HTTP status is an answer: the client
    /// classifies it; an `Err` means no answer came back.
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
    /// An HTTPS transport with these timeouts (to connect, and for a whole exchange).
    ///
    /// # Errors
    ///
    /// [`TransportError::Other`] when the TLS client cannot be set up.
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

/// Whether `url` is https, or plain http to a loopback host (127.0.0.0/8, ::1,
/// `localhost`). A URL reqwest cannot parse, or another scheme, is left for
/// reqwest to report.
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
    /// Reads the exchanges recorded in `dir` (`NNNN-Operation-key.response.xml`).
    ///
    /// # Errors
    ///
    /// [`TransportError::Other`] when the directory cannot be read.
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

    /// The keys the recording holds for one operation, in order: for
    /// AuthenticateUser, the admin it was recorded as.
    pub fn recorded_keys(&self, operation: Operation) -> Vec<String> {
        let operation = operation.to_string();
        let exchanges = self.exchanges.lock().expect("replay lock");
        exchanges
            .iter()
            .filter(|x| x.operation == operation)
            .map(|x| x.key.clone())
            .collect()
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
            let body = read_capped(&path, crate::xml::Limits::default().max_bytes)?;
            Ok(Incoming { status: 200, body })
        })
    }
}

/// The whole of a file of at most `limit` bytes; a larger one is refused
/// without reading it (or, if it grows meanwhile, reading past the limit).
pub(crate) fn read_capped(path: &Path, limit: usize) -> Result<Vec<u8>, TransportError> {
    use std::io::Read;
    let io = |e: std::io::Error| TransportError::Other(format!("{}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if size > limit as u64 {
        return Err(TransportError::TooLarge {
            limit,
            declared: Some(size),
        });
    }
    let mut body = Vec::with_capacity(size as usize);
    file.take(limit as u64 + 1)
        .read_to_end(&mut body)
        .map_err(io)?;
    if body.len() > limit {
        return Err(TransportError::TooLarge {
            limit,
            declared: None,
        });
    }
    Ok(body)
}

/// Sends through another transport and writes each exchange to a directory in
/// the layout [`Replay`] reads, every secret masked (see [`mask_secrets`]),
/// each file owner-only (0600).
pub struct Recorder<T> {
    inner: T,
    dir: PathBuf,
    count: Mutex<usize>,
}

impl<T> Recorder<T> {
    /// Records into `dir`, created owner-only (0700) if missing. A directory
    /// that exists keeps its mode (`--record .` must not lock others out of the
    /// working directory); the files in it are owner-only all the same.
    pub fn new(inner: T, dir: &Path) -> Result<Self, TransportError> {
        if !dir.is_dir() {
            crate::private_file::create_dir(dir)
                .map_err(|e| TransportError::Other(format!("{}: {e}", dir.display())))?;
        }
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
                crate::private_file::write(&path, &mask_secrets(bytes))
                    .map_err(|e| TransportError::Other(format!("{}: {e}", path.display())))
            };
            // The request is masked by the encoder already; masking it again
            // costs little and covers what the encoder does not know.
            write("request.xml", request.masked_body.as_bytes())?;
            write("response.xml", &incoming.body)?;
            Ok(incoming)
        })
    }
}

/// Element paths whose text is secret beyond the catalogue's attributes: every
/// element the encoder writes from a `Secret` outside the catalogue (the
/// security context's credentials, AuthenticateUser's token or SAML response)
/// and the session ticket answers carry. A test encodes each with the real
/// encoder, so an element added there and not here fails it.
const HEADER_SECRETS: &[&[&str]] = &[
    &["sessionTicket"],
    &["password"],
    &["webExAccessToken"],
    &["accessToken"],
    &["samlResponse"],
];

/// The paths of secret elements: every catalogue attribute marked `secret`
/// (PINs, host PINs, access and moderator codes, the password and its hint
/// answer) and the header secrets.
static SECRET_PATHS: std::sync::LazyLock<Vec<Vec<&'static str>>> = std::sync::LazyLock::new(|| {
    crate::schema::ATTRIBUTES
        .iter()
        .filter(|a| a.secret)
        .map(|a| a.segments.iter().map(|s| s.name).collect())
        .chain(HEADER_SECRETS.iter().map(|p| p.to_vec()))
        .collect()
});

/// Whether the open elements (local names, outermost first) end with the path
/// of a secret. Matched by local names only, whatever the prefix or namespace:
/// the decoder accepts unqualified elements too, and masking one element too
/// many costs a replayed value while missing one leaks a secret.
fn is_secret_path(open: &[Vec<u8>]) -> bool {
    SECRET_PATHS.iter().any(|path| {
        path.len() <= open.len()
            && path
                .iter()
                .zip(&open[open.len() - path.len()..])
                .all(|(a, b)| a.as_bytes() == b.as_slice())
    })
}

/// `body` with the content of every secret element replaced by the mask, the
/// rest byte for byte as it was. A body that is not well-formed XML cannot be
/// searched for secrets, so it is not kept: a comment saying so takes its place
/// (replayed, it is a malformed answer, as the original was).
pub fn mask_secrets(body: &[u8]) -> Vec<u8> {
    match secret_spans(body) {
        Ok(spans) => {
            let mut out = Vec::with_capacity(body.len());
            let mut from = 0;
            for (start, end) in spans {
                out.extend_from_slice(&body[from..start]);
                out.extend_from_slice(crate::secret::MASK.as_bytes());
                from = end;
            }
            out.extend_from_slice(&body[from..]);
            out
        }
        Err(()) => format!(
            "<!-- wbxprov: the answer ({} bytes) was not well-formed XML and is not recorded: it could hold secrets -->\n",
            body.len()
        )
        .into_bytes(),
    }
}

/// The byte ranges of the contents of secret elements, in document order.
fn secret_spans(body: &[u8]) -> Result<Vec<(usize, usize)>, ()> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    reader.config_mut().check_end_names = true;
    let mut open: Vec<Vec<u8>> = Vec::new();
    let mut spans = Vec::new();
    // Depth and content start of the secret element being read.
    let mut secret: Option<(usize, usize)> = None;
    loop {
        let before = reader.buffer_position() as usize;
        match reader.read_event().map_err(|_| ())? {
            Event::Start(start) => {
                open.push(start.local_name().into_inner().to_vec());
                if secret.is_none() && is_secret_path(&open) {
                    secret = Some((open.len(), reader.buffer_position() as usize));
                }
            }
            Event::End(_) => {
                if let Some((_, start)) = secret.filter(|(depth, _)| *depth == open.len()) {
                    spans.push((start, before));
                    secret = None;
                }
                open.pop();
            }
            Event::Eof if open.is_empty() => return Ok(spans),
            Event::Eof => return Err(()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(body: &str) -> String {
        String::from_utf8(mask_secrets(body.as_bytes())).unwrap()
    }

    #[test]
    fn every_credential_the_encoder_writes_is_masked() {
        use crate::ops::AuthenticateUser;
        use crate::xml::encode::{Credentials, Form, Secrets, SecurityContext, SiteRef, encode};
        let secret = |s: &str| crate::Secret::new(s);
        let contexts = [
            Credentials::Password {
                web_ex_id: "admin".into(),
                password: secret("PLANTED-password"),
            },
            Credentials::SessionTicket {
                web_ex_id: "admin".into(),
                ticket: secret("PLANTED-ticket"),
            },
            Credentials::AccessToken {
                web_ex_id: Some("admin".into()),
                token: secret("PLANTED-context-token"),
            },
        ];
        let bodies = [
            AuthenticateUser::Password,
            AuthenticateUser::AccessToken(secret("PLANTED-body-token")),
            AuthenticateUser::Saml(secret("PLANTED-saml")),
        ];
        for credentials in contexts {
            let security = SecurityContext {
                site: SiteRef::Name("example".into()),
                credentials,
            };
            for request in &bodies {
                for form in [Form::Plain, Form::Qualified] {
                    let sent = encode(request, &security, form, Secrets::Reveal).unwrap();
                    let recorded = String::from_utf8(mask_secrets(sent.as_bytes())).unwrap();
                    assert!(!recorded.contains("PLANTED"), "{recorded}");
                }
            }
        }
    }

    #[test]
    fn session_tickets_are_masked_in_recorded_responses() {
        assert_eq!(
            masked("<a><use:sessionTicket>SECRET</use:sessionTicket><x>y</x></a>"),
            "<a><use:sessionTicket>***</use:sessionTicket><x>y</x></a>"
        );
        assert_eq!(
            masked("<r><sessionTicket>T1</sessionTicket><b>sessionTicket&gt;x</b></r>"),
            "<r><sessionTicket>***</sessionTicket><b>sessionTicket&gt;x</b></r>"
        );
    }

    #[test]
    fn every_secret_element_is_masked_whatever_its_prefix_or_content() {
        let body = concat!(
            "<serv:message xmlns:serv=\"s\" xmlns:use=\"u\"><serv:body><serv:bodyContent>",
            "<use:phones><use:phone>1</use:phone><use:PIN>1234</use:PIN></use:phones>",
            "<passwordHintAnswer>a &amp; <![CDATA[b]]><!-- c --></passwordHintAnswer>",
            "<use:personalMeetingRoom><use:hostPIN>99</use:hostPIN><use:PIN/></use:personalMeetingRoom>",
            "<use:tspAccount><use:tspAccount><use:subscriberAccessCode>77</use:subscriberAccessCode>",
            "</use:tspAccount></use:tspAccount>",
            "<x:thirdPartyTeleconf xmlns:x=\"u\"><x:account><x:moderatorCode>55</x:moderatorCode>",
            "<x:participantCode>44</x:participantCode></x:account></x:thirdPartyTeleconf>",
            "</serv:bodyContent></serv:body></serv:message>"
        );
        let expected = body
            .replace(">1234<", ">***<")
            .replace(">a &amp; <![CDATA[b]]><!-- c --><", ">***<")
            .replace(">99<", ">***<")
            .replace(">77<", ">***<")
            .replace(">55<", ">***<");
        assert_eq!(masked(body), expected);
        // Not secret: the phone number, the participant code.
        assert!(masked(body).contains(">1<") && masked(body).contains(">44<"));
    }

    #[test]
    fn an_answer_that_is_not_well_formed_is_not_recorded() {
        for body in [
            "<a><PIN>1234</a>",
            "<a><PIN>1234</PIN>",
            "<html><body>PIN 1234",
        ] {
            let out = masked(body);
            assert!(
                !out.contains("1234") && out.contains("not well-formed"),
                "{out}"
            );
        }
    }

    #[tokio::test]
    async fn a_replayed_answer_over_the_limit_is_refused_unread() {
        let dir = std::env::temp_dir().join(format!("wbxprov-replay-big-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let limit = crate::xml::Limits::default().max_bytes;
        let file = std::fs::File::create(dir.join("0001-GetSite--.response.xml")).unwrap();
        // Sparse: takes no disk.
        file.set_len(limit as u64 + 1).unwrap();
        let replay = Replay::from_dir(&dir).unwrap();
        let request = Outgoing {
            url: "replay:".into(),
            operation: Operation::GetSite,
            key: None,
            body: String::new(),
            masked_body: String::new(),
        };
        match replay.send(&request).await {
            Err(TransportError::TooLarge { limit: l, .. }) => assert_eq!(l, limit),
            Err(other) => panic!("expected TooLarge, got {other:?}"),
            Ok(_) => panic!("expected TooLarge, got the whole file"),
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_recording_directory_is_created_owner_only_and_an_existing_one_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let root = std::env::temp_dir().join(format!("wbxprov-recdir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
        let created = root.join("new");
        Recorder::new((), &created).unwrap();
        assert_eq!(mode(&created), 0o700);
        Recorder::new((), &root).unwrap();
        assert_eq!(mode(&root), 0o755);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn exchange_names_are_file_safe() {
        assert_eq!(
            exchange_stem(7, Operation::GetUser, Some("j doe/../x")),
            "0007-GetUser-j_doe_.._x"
        );
    }
}
