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
            TransportError::NotRecorded { .. } | TransportError::Other(_) => false,
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

/// HTTPS with reqwest and rustls: connection reuse, timeouts, a User-Agent naming wbxprov.
#[cfg(feature = "https")]
#[derive(Debug, Clone)]
pub struct Https {
    http: reqwest::Client,
    timeout: Duration,
}

#[cfg(feature = "https")]
impl Https {
    pub fn new(connect_timeout: Duration, timeout: Duration) -> Result<Self, TransportError> {
        Ok(Https {
            http: http_client(connect_timeout, timeout)?,
            timeout,
        })
    }
}

/// The reqwest client of every wbxprov transport: rustls, timeouts, a
/// User-Agent naming wbxprov.
#[cfg(feature = "https")]
pub(crate) fn http_client(
    connect_timeout: Duration,
    timeout: Duration,
) -> Result<reqwest::Client, TransportError> {
    reqwest::Client::builder()
        .user_agent(concat!("wbxprov/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .build()
        .map_err(|e| TransportError::Other(format!("HTTPS client: {e}")))
}

#[cfg(feature = "https")]
impl Transport for Https {
    fn send<'a>(&'a self, request: &'a Outgoing) -> Sending<'a> {
        Box::pin(async move {
            let response = self
                .http
                .post(&request.url)
                .header("Content-Type", "application/xml; charset=utf-8")
                .body(request.body.clone())
                .send()
                .await
                .map_err(|e| classify_reqwest(&e, self.timeout))?;
            let status = response.status().as_u16();
            let body = response
                .bytes()
                .await
                .map_err(|e| classify_reqwest(&e, self.timeout))?;
            Ok(Incoming {
                status,
                body: body.to_vec(),
            })
        })
    }
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
