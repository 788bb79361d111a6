//! A local HTTP server running in the background (the simulated site, the
//! SCIM front): started on a listener, stopped on demand or when dropped.

use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct ServerTask {
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl ServerTask {
    /// Serves `app` on `listener` until stopped. Handlers see the peer's
    /// address as `ConnectInfo<SocketAddr>` (the SCIM front throttles by it).
    pub fn spawn<L>(listener: L, app: axum::Router) -> Self
    where
        L: axum::serve::Listener<Addr = std::net::SocketAddr>,
    {
        let (tx, rx) = oneshot::channel::<()>();
        let app = app.layer(axum::middleware::from_fn(log_request));
        // What `into_make_service_with_connect_info` does for a TCP listener,
        // for any listener with socket addresses (TLS included).
        let app = tower::service_fn(move |incoming: axum::serve::IncomingStream<'_, L>| {
            let peer = axum::extract::ConnectInfo(*incoming.remote_addr());
            let app = app.clone().layer(axum::Extension(peer));
            std::future::ready(Ok::<_, std::convert::Infallible>(app))
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        ServerTask {
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Stops serving and waits until the server is gone.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Serves until the process stops (Ctrl-C for the command line).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Serves until `signal` comes, then stops accepting connections and
    /// lets the requests in flight finish, for at most `deadline`.
    pub async fn drain_on(mut self, signal: StopSignal, deadline: Duration) -> Stopped {
        let Some(mut task) = self.task.take() else {
            return Stopped::Drained;
        };
        let name = tokio::select! {
            name = signal.received() => name,
            _ = &mut task => return Stopped::Drained,
        };
        tracing::info!(
            signal = name,
            deadline_s = deadline.as_secs(),
            "{name}: no new connections; finishing the requests in flight (at most {} s)",
            deadline.as_secs()
        );
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match tokio::time::timeout(deadline, task).await {
            Ok(_) => Stopped::Drained,
            Err(_) => Stopped::DeadlinePassed,
        }
    }
}

/// How a server asked to stop by a signal ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stopped {
    /// Every request in flight was answered.
    Drained,
    /// Requests were still in flight at the deadline; they were dropped.
    DeadlinePassed,
}

/// SIGTERM (how systemd, Docker and Kubernetes stop a service) or SIGINT
/// (Ctrl-C), listened for from the moment this is installed: a signal that
/// comes while the server starts is not lost.
pub struct StopSignal {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl StopSignal {
    /// Installs the handlers (the default action, dying mid-request, no
    /// longer applies). Needs a Tokio runtime.
    pub fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(StopSignal {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(StopSignal {})
        }
    }

    /// The name of the first signal that comes.
    async fn received(mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.terminate.recv() => "SIGTERM",
                _ = self.interrupt.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

impl Drop for ServerTask {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// What a handler adds to its request's log line, e.g. the XML API's
/// operation and result ("GetUser FAILURE 030001"). Never a secret.
#[derive(Debug, Clone)]
pub(crate) struct LogNote(pub String);

/// The longest `X-Request-Id` taken from a caller; a longer one, or one
/// with other characters than letters, digits, `-`, `_`, `.`, is replaced.
const MAX_REQUEST_ID: usize = 64;

/// The caller's request id when it is plausible, else a fresh one: what
/// ties a log line to the identity provider's own record of the call.
fn request_id(request: &axum::extract::Request) -> String {
    let given = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= MAX_REQUEST_ID
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        });
    match given {
        Some(id) => id.to_owned(),
        None => format!("{:016x}", crate::client::random_u64()),
    }
}

/// One info line per request: request id, method, path, what the handler
/// noted, status and time; the id is also sent back as `X-Request-Id`. The
/// path only: never a query (a SCIM filter names people), a header
/// (Authorization) or a body (passwords).
async fn log_request(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let id = request_id(&request);
    let started = std::time::Instant::now();
    // The handler runs in a span naming the request id, so the site calls it
    // makes log under it (`--log-format json`: in each line's `spans`).
    // Instrumented, not entered: a guard held across an await would lend
    // the span to whatever the thread runs next.
    let span = tracing::info_span!("request", request_id = %id);
    let mut response = tracing::Instrument::instrument(next.run(request), span).await;
    let ms = started.elapsed().as_millis();
    let status = response.status().as_u16();
    let note = response
        .extensions()
        .get::<LogNote>()
        .map(|n| format!(" {}", n.0))
        .unwrap_or_default();
    tracing::info!(request_id = %id, %method, %path, status, duration_ms = ms as u64, "{method} {path}{note}: {status} in {ms} ms");
    if let Ok(value) = axum::http::HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// The token of an `Authorization: Bearer …` header (scheme in any case).
pub(crate) fn bearer_token(authorization: &str) -> Option<&str> {
    authorization
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
}

/// Equal bytes, in a time that does not depend on where they differ
/// (`subtle`; only the length may show, as in any comparison of tokens).
pub(crate) fn same_token(given: &[u8], expected: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    given.ct_eq(expected).into()
}

#[cfg(feature = "scim")]
/// Upper bounds of the request-duration histogram, in seconds (Prometheus'
/// client libraries' default buckets, which span a cached read to a slow
/// site call).
const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[cfg(feature = "scim")]
/// One route's request durations.
#[derive(Debug, Default)]
struct Latency {
    /// Requests at or under each of [`LATENCY_BUCKETS`] (not cumulated).
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

#[cfg(feature = "scim")]
/// Requests answered, by route, method and status, and their durations by
/// route, written in the Prometheus text format. Labels come from fixed
/// lists (`route_of`, [`method_label`]), so their number stays bounded
/// whatever clients send.
#[derive(Debug, Default)]
pub(crate) struct HttpMetrics {
    answered: std::sync::Mutex<std::collections::BTreeMap<(&'static str, &'static str, u16), u64>>,
    latency: std::sync::Mutex<std::collections::BTreeMap<&'static str, Latency>>,
}

#[cfg(feature = "scim")]
impl HttpMetrics {
    pub(crate) fn record(
        &self,
        route: &'static str,
        method: &'static str,
        status: u16,
        took: Duration,
    ) {
        if let Ok(mut answered) = self.answered.lock() {
            *answered.entry((route, method, status)).or_default() += 1;
        }
        if let Ok(mut latency) = self.latency.lock() {
            let seconds = took.as_secs_f64();
            let route = latency.entry(route).or_default();
            if let Some(i) = LATENCY_BUCKETS.iter().position(|le| seconds <= *le) {
                route.buckets[i] += 1;
            }
            route.count += 1;
            route.sum_seconds += seconds;
        }
    }

    /// The counters and the histogram in the Prometheus text format (0.0.4).
    pub(crate) fn render(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(
            out,
            "# HELP wbxprov_http_requests_total HTTP requests answered, by route, method and status."
        );
        let _ = writeln!(out, "# TYPE wbxprov_http_requests_total counter");
        if let Ok(answered) = self.answered.lock() {
            for ((route, method, status), n) in answered.iter() {
                let _ = writeln!(
                    out,
                    "wbxprov_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let name = "wbxprov_http_request_duration_seconds";
        let _ = writeln!(out, "# HELP {name} Time from request to answer, by route.");
        let _ = writeln!(out, "# TYPE {name} histogram");
        if let Ok(latency) = self.latency.lock() {
            for (route, l) in latency.iter() {
                let mut cumulated = 0;
                for (le, n) in LATENCY_BUCKETS.iter().zip(l.buckets) {
                    cumulated += n;
                    let _ = writeln!(
                        out,
                        "{name}_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulated}"
                    );
                }
                let _ = writeln!(
                    out,
                    "{name}_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    l.count
                );
                let _ = writeln!(out, "{name}_sum{{route=\"{route}\"}} {}", l.sum_seconds);
                let _ = writeln!(out, "{name}_count{{route=\"{route}\"}} {}", l.count);
            }
        }
    }
}

#[cfg(feature = "scim")]
/// A metrics label for an HTTP method: the standard ones, else "other".
pub(crate) fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
    ]
    .into_iter()
    .zip(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
    .find(|(m, _)| m == method)
    .map_or("other", |(_, label)| label)
}

#[cfg(feature = "scim")]
/// Where [`count_request`] counts, and how it names a path's route.
pub(crate) type Counted = (std::sync::Arc<HttpMetrics>, fn(&str) -> &'static str);

#[cfg(feature = "scim")]
/// Counts each request of a server into its [`HttpMetrics`], with the route
/// label `route_of` gives its path.
pub(crate) async fn count_request(
    axum::extract::State((metrics, route_of)): axum::extract::State<Counted>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let route = route_of(request.uri().path());
    let method = method_label(request.method());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    metrics.record(route, method, response.status().as_u16(), started.elapsed());
    response
}

/// How long a client has to finish its TLS handshake: a client that opens a
/// connection and stays silent must not hold a task for ever.
#[cfg(feature = "scim")]
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A TLS configuration from PEM files: the certificate chain (leaf first)
/// and its private key (PKCS#8, PKCS#1 or SEC1). HTTP/1.1 only, as served.
#[cfg(feature = "scim")]
pub(crate) fn tls_acceptor(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<tokio_rustls::TlsAcceptor, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: no PEM certificate read: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in the file", cert.display()));
    }
    // The key's bytes never appear in a message: only the file and the reason.
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("{}: no PEM private key read: {e}", key.display()))?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, private)
        .map_err(|e| format!("{} and {}: {e}", cert.display(), key.display()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)))
}

/// A listener whose connections have finished their TLS handshake. Each
/// handshake runs in its own task, so a slow client delays nobody else.
#[cfg(feature = "scim")]
pub(crate) struct TlsListener {
    ready: tokio::sync::mpsc::Receiver<(
        tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
        std::net::SocketAddr,
    )>,
    addr: std::net::SocketAddr,
    accepting: JoinHandle<()>,
}

#[cfg(feature = "scim")]
impl TlsListener {
    pub(crate) fn new(
        tcp: tokio::net::TcpListener,
        acceptor: tokio_rustls::TlsAcceptor,
    ) -> std::io::Result<Self> {
        let addr = tcp.local_addr()?;
        let (tx, ready) = tokio::sync::mpsc::channel(64);
        let accepting = tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = tcp.accept().await else {
                    // Out of file descriptors and the like: let it pass.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let (tx, acceptor) = (tx.clone(), acceptor.clone());
                tokio::spawn(async move {
                    let handshake =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream));
                    match handshake.await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener {
            ready,
            addr,
            accepting,
        })
    }
}

#[cfg(feature = "scim")]
impl Drop for TlsListener {
    fn drop(&mut self) {
        // The server stopped accepting (shutdown): so does the TCP side.
        self.accepting.abort();
    }
}

#[cfg(feature = "scim")]
impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.addr)
    }
}

#[cfg(test)]
mod tests {
    /// Equal only when every byte and the length are equal.
    #[test]
    fn tokens_compare_by_every_byte() {
        assert!(super::same_token(b"secret-token", b"secret-token"));
        assert!(!super::same_token(b"secret-tokeN", b"secret-token"));
        assert!(!super::same_token(b"secret", b"secret-token"));
        assert!(!super::same_token(b"", b"x"));
        assert!(super::same_token(b"", b""));
    }
}
