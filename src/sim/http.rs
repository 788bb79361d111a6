//! The simulator over HTTP (axum): `POST /WBXService/XMLService`, with a fixed
//! latency and reproducible faults (HTTP 500, dropped connections, slow
//! answers, 000045 bursts) drawn from a seeded generator.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};

use super::identity::{IdentityAnswer, IdentityCall};
use super::licences::V1Call;
use super::{SimConfig, Simulator, failure, store};
use crate::server::{LogNote, ServerTask};
use crate::site::SiteProfile;

/// How often each fault happens, as probabilities per request.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FaultSpec {
    /// HTTP 500.
    pub http_500: f64,
    /// The connection is closed after the request was read, before an answer.
    pub drop: f64,
    /// The answer comes `slow_by` late.
    pub slow: f64,
    /// 000045 "API Rate Limit Reached", whatever the budget.
    pub rate_limit: f64,
    /// How late a `slow` answer comes.
    pub slow_by: Duration,
}

/// Why a fault specification was refused: the part at fault and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{part:?}: {reason}")]
#[non_exhaustive]
pub struct FaultSpecError {
    /// The `name=value` part (or the unknown name).
    pub part: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl FromStr for FaultSpec {
    type Err = FaultSpecError;

    /// `500=0.05,drop=0.01,slow=0.1,ratelimit=0.02,slow-ms=2000` (any subset).
    fn from_str(s: &str) -> Result<Self, FaultSpecError> {
        let mut spec = FaultSpec {
            slow_by: Duration::from_secs(2),
            ..FaultSpec::default()
        };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let refused = |reason| FaultSpecError {
                part: part.to_owned(),
                reason,
            };
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| refused("expected name=value"))?;
            let number: f64 = value
                .parse()
                .map_err(|_| refused("the value is not a number"))?;
            let p = || {
                (0.0..=1.0)
                    .contains(&number)
                    .then_some(number)
                    .ok_or_else(|| refused("a probability is between 0 and 1"))
            };
            match name {
                "500" => spec.http_500 = p()?,
                "drop" => spec.drop = p()?,
                "slow" => spec.slow = p()?,
                "ratelimit" => spec.rate_limit = p()?,
                "slow-ms" => spec.slow_by = Duration::from_millis(number as u64),
                _ => {
                    return Err(refused(
                        "unknown fault (known: 500, drop, slow, ratelimit, slow-ms)",
                    ));
                }
            }
        }
        Ok(spec)
    }
}

/// How the HTTP server runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    /// Port 0 picks a free one.
    pub addr: SocketAddr,
    /// A delay added before every answer.
    pub latency: Duration,
    /// Which faults to inject, and how often.
    pub faults: FaultSpec,
    /// Seed of the fault generator: the same seed gives the same faults in the same order.
    pub seed: u64,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            latency: Duration::ZERO,
            faults: FaultSpec::default(),
            seed: 1,
        }
    }
}

enum Fault {
    Http500,
    Drop,
    Slow,
    RateLimit,
}

struct Served {
    sim: Arc<Simulator>,
    latency: Duration,
    faults: FaultSpec,
    rng: Mutex<u64>,
}

impl Served {
    fn next_fault(&self) -> Option<Fault> {
        let f = &self.faults;
        if f.http_500 + f.drop + f.slow + f.rate_limit == 0.0 {
            return None;
        }
        let x = {
            let mut s = self.rng.lock().expect("rng");
            *s ^= *s << 13;
            *s ^= *s >> 7;
            *s ^= *s << 17;
            (*s >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut edge = f.http_500;
        if x < edge {
            return Some(Fault::Http500);
        }
        edge += f.drop;
        if x < edge {
            return Some(Fault::Drop);
        }
        edge += f.slow;
        if x < edge {
            return Some(Fault::Slow);
        }
        edge += f.rate_limit;
        (x < edge).then_some(Fault::RateLimit)
    }
}

/// A running simulator: its URL, and a way to stop it.
pub struct SimHandle {
    /// `http://127.0.0.1:PORT/WBXService/XMLService`
    pub url: String,
    /// `http://127.0.0.1:PORT/identity/scim`: the identity API's base URL of a
    /// Control-Hub-managed profile (add `/{orgId}/v2`).
    pub identity_url: String,
    /// `http://127.0.0.1:PORT/v1`: the licences and meeting-settings APIs of
    /// a profile with licences ([`super::licences`]).
    pub rest_url: String,
    /// The address the server listens on.
    pub addr: SocketAddr,
    /// The simulated site itself, for tests that look at or change its state directly.
    pub simulator: Arc<Simulator>,
    server: ServerTask,
}

impl SimHandle {
    /// Stops serving and waits until the server is gone.
    pub async fn stop(self) {
        self.server.stop().await;
    }

    /// Serves until stopped (Ctrl-C for the command line).
    pub async fn wait(self) {
        self.server.wait().await;
    }

    /// Serves until SIGTERM or SIGINT, then finishes the requests in flight
    /// within `deadline` (the command line's graceful stop; a service that
    /// embeds the server stops the same way). Install `signal` before
    /// starting the server, so that a signal sent while it starts is not lost.
    pub async fn drain_on(
        self,
        signal: crate::StopSignal,
        deadline: std::time::Duration,
    ) -> crate::Stopped {
        self.server.drain_on(signal, deadline).await
    }
}

/// An in-process simulator for `profile` on a free port, users in memory.
pub async fn start(profile: SiteProfile) -> std::io::Result<SimHandle> {
    let sim = Simulator::new(SimConfig::new(profile), Box::new(store::Memory))
        .map_err(std::io::Error::other)?;
    serve(sim, ServeOptions::default()).await
}

/// Serves `sim` over HTTP.
pub async fn serve(sim: Simulator, options: ServeOptions) -> std::io::Result<SimHandle> {
    let listener = tokio::net::TcpListener::bind(options.addr).await?;
    let addr = listener.local_addr()?;
    let sim = Arc::new(sim);
    let served = Arc::new(Served {
        sim: sim.clone(),
        latency: options.latency,
        faults: options.faults,
        rng: Mutex::new(options.seed.max(1)),
    });
    let app = Router::new()
        .route("/WBXService/XMLService", post(xml_service))
        .route(
            "/identity/scim/{org}/v2/Users",
            get(identity_users).post(identity_users),
        )
        .route(
            "/identity/scim/{org}/v2/Users/{id}",
            get(identity_user)
                .patch(identity_user)
                .delete(identity_user),
        )
        .route("/v1/licenses", get(v1_answer))
        .route("/v1/licenses/users", patch(v1_answer))
        .route(
            "/v1/admin/meeting/userconfig/sessionTypes",
            get(v1_answer).put(v1_answer),
        )
        .route("/v1/admin/meeting/config/trackingCodes", get(v1_answer))
        .route(
            "/v1/admin/meeting/userconfig/trackingCodes",
            get(v1_answer).put(v1_answer),
        )
        .with_state(served);
    let server = ServerTask::spawn(listener, app);
    Ok(SimHandle {
        url: format!("http://{addr}/WBXService/XMLService"),
        identity_url: format!("http://{addr}/identity/scim"),
        rest_url: format!("http://{addr}/v1"),
        addr,
        simulator: sim,
        server,
    })
}

async fn xml_service(State(served): State<Arc<Served>>, body: Bytes) -> Response {
    let (operation, mut response) = xml_answer(&served, &body).await;
    let note = LogNote(format!("{operation}{}", outcome_of(&response)));
    response.extensions_mut().insert(note);
    response
}

/// " SUCCESS" or " FAILURE 000045", as [`xml`] read it from the answer.
fn outcome_of(response: &Response) -> String {
    response
        .extensions()
        .get::<Outcome>()
        .map(|o| format!(" {}", o.0))
        .unwrap_or_default()
}

/// The result (and exceptionID) of an answer, kept beside it for the log.
#[derive(Clone)]
struct Outcome(String);

impl Outcome {
    fn of(answer: &str) -> Outcome {
        let between = |open: &str, close: &str| {
            answer
                .split_once(open)
                .and_then(|(_, rest)| rest.split_once(close))
                .map(|(inside, _)| inside.to_owned())
        };
        let result = between("<serv:result>", "</serv:result>").unwrap_or_default();
        // A SUCCESS has no exceptionID: no need to scan a long answer for one.
        let id = (result == "FAILURE")
            .then(|| between("<serv:exceptionID>", "</serv:exceptionID>"))
            .flatten();
        match id {
            Some(id) => Outcome(format!("{result} {id}")),
            None => Outcome(result),
        }
    }
}

/// The answer to one request, and what the request log calls it: the
/// operation the simulator read (never other text of the body, which carries
/// the admin's password), or the fault injected before it was read.
async fn xml_answer(served: &Served, body: &Bytes) -> (String, Response) {
    if !served.latency.is_zero() {
        tokio::time::sleep(served.latency).await;
    }
    match served.next_fault() {
        Some(Fault::Http500) => {
            let answer = (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
            return ("(fault: HTTP 500)".into(), answer.into_response());
        }
        Some(Fault::Drop) => {
            // A body that fails at once: the server closes the connection mid-answer.
            let stream = futures_util::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::other("dropped by fault injection"))
            });
            return (
                "(fault: dropped)".into(),
                Response::new(Body::from_stream(stream)),
            );
        }
        Some(Fault::RateLimit) => {
            let answer = xml(200, failure("000045", "API Rate Limit Reached"));
            return ("(fault: rate limit)".into(), answer);
        }
        Some(Fault::Slow) => tokio::time::sleep(served.faults.slow_by).await,
        None => {}
    }
    let (operation, status, answer) = served.sim.handle_named(body);
    let name = operation.map_or_else(|| "(unknown operation)".to_owned(), |o| o.to_string());
    (name, xml(status, answer))
}

fn xml(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let outcome = Outcome::of(&body);
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=UTF-8")],
        body,
    )
        .into_response();
    response.extensions_mut().insert(outcome);
    response
}

// ---------------------------------------------------------------------------
// The Control Hub identity API (a Control-Hub-managed profile only)

async fn identity_users(
    State(served): State<Arc<Served>>,
    method: axum::http::Method,
    Path(org): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    identity_answer(&served, method, &org, None, &query, &headers, &body)
}

async fn identity_user(
    State(served): State<Arc<Served>>,
    method: axum::http::Method,
    Path((org, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    identity_answer(&served, method, &org, Some(&id), &query, &headers, &body)
}

async fn v1_answer(
    State(served): State<Arc<Served>>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let answer = served.sim.v1(V1Call {
        method: method.as_str(),
        path: uri.path().strip_prefix("/v1").unwrap_or(uri.path()),
        query: &query,
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
        email_header: headers.get("email").and_then(|v| v.to_str().ok()),
        body: &body,
    });
    json_response(answer, "application/json")
}

fn identity_answer(
    served: &Served,
    method: axum::http::Method,
    org: &str,
    id: Option<&str>,
    query: &HashMap<String, String>,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Response {
    let answer = served.sim.identity(IdentityCall {
        method: method.as_str(),
        org_id: org,
        id,
        query,
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
        body,
    });
    json_response(answer, "application/scim+json")
}

/// An identity or `/v1` answer over HTTP, with its Retry-After.
fn json_response(answer: IdentityAnswer, content_type: &'static str) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = match answer.body {
        Some(json) => (
            status,
            [(header::CONTENT_TYPE, content_type)],
            json.to_string(),
        )
            .into_response(),
        None => status.into_response(),
    };
    if let Some(secs) = answer.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, secs.into());
    }
    response
}
