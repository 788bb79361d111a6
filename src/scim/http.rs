//! The SCIM 2.0 HTTP front over a [`Backend`]: [`router`] is an
//! `axum::Router` a platform mounts in its own server (`/scim/v2` or any
//! prefix), [`serve`] binds it on a socket of its own behind one bearer
//! token, over HTTPS when given a certificate ([`ScimServeOptions::tls_files`]);
//! over plain HTTP it belongs behind a TLS terminator beyond loopback.
//!
//! Tolerant of what identity providers send: a trailing or doubled slash
//! (`/Users/`, `//Users`) reaches the same endpoint.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, Path, Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value as Json, json};

use tower::ServiceExt;

use super::backend::ListQuery;
use super::backend::{Backend, Meetings};
use super::error::{ScimError, ScimType};
use super::filter::Filter;
use super::groups::{self, Groups};
use super::schemas;
use super::service::Service;
use super::throttle::AuthThrottle;
use super::user::LIST;
use crate::Secret;
use crate::client::Client;
use crate::server::{
    HttpMetrics, ServerTask, TlsListener, bearer_token, count_request, same_token,
};

const SCIM_JSON: &str = "application/scim+json";

/// The shortest bearer token accepted, in bytes: long enough that guessing
/// it is hopeless, even unthrottled.
pub const MIN_TOKEN_BYTES: usize = 32;

/// The largest request body accepted, in bytes. A SCIM User, even with every
/// Meetings attribute, is a few KiB; bulk operations are not supported.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Why the SCIM server did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The bearer token is shorter than [`MIN_TOKEN_BYTES`].
    #[error(
        "the SCIM bearer token is {0} bytes long; at least {MIN_TOKEN_BYTES} are required \
         (make one with `openssl rand -base64 32`)"
    )]
    WeakToken(usize),
    /// The address could not be listened on.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The public URL is not an absolute `http(s)://` URL without query or
    /// fragment (the URL itself is shown, cut to [`SHOWN_URL_CHARS`]).
    #[error("public URL {url:?}: {reason}")]
    PublicUrl {
        /// The URL given, cut to [`SHOWN_URL_CHARS`].
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The certificate or key file could not be read or does not make a TLS
    /// configuration (the message names the files, never the key's bytes).
    #[error("TLS: {0}")]
    Tls(String),
}

/// The longest public URL accepted, in bytes (browsers and proxies commonly
/// stop near 2 KiB for a whole URL; a base URL is far shorter).
pub const MAX_PUBLIC_URL_BYTES: usize = 1024;

/// How much of a refused public URL an error shows.
pub const SHOWN_URL_CHARS: usize = 80;

/// `url` as the base of `Location` and `meta.location` (RFC 7644 §3.1: the
/// URI of the resource as the client reaches it): an absolute `http` or
/// `https` URL with a host, without query or fragment, trailing `/` removed.
pub fn public_base_url(url: &str) -> Result<String, ServeError> {
    let refuse = |reason| ServeError::PublicUrl {
        url: url.chars().take(SHOWN_URL_CHARS).collect(),
        reason,
    };
    if url.len() > MAX_PUBLIC_URL_BYTES {
        return Err(refuse("longer than 1024 bytes"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(refuse("contains a space or control character"));
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| refuse("must start with https:// or http://"))?;
    if rest.contains(['?', '#']) {
        return Err(refuse("must have no query (?) or fragment (#)"));
    }
    if rest.split('/').next().unwrap_or_default().is_empty() {
        return Err(refuse("has no host"));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// How long `/readyz` waits for its probe before answering 503.
pub const READINESS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// What `/readyz` asks: whether the site answers (true) or not. The probe
/// logs its own reason; the HTTP answer says only ready or not.
#[derive(Clone)]
pub struct Readiness(Arc<dyn Fn() -> ReadinessAnswer + Send + Sync>);

type ReadinessAnswer = std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>>;

impl Readiness {
    /// A probe from an async function.
    pub fn new<F, Fut>(probe: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = bool> + Send + 'static,
    {
        Readiness(Arc::new(move || Box::pin(probe())))
    }
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Readiness(..)")
    }
}

/// Where [`serve_backend_with`] listens and how it names its resources.
#[derive(Clone)]
#[non_exhaustive]
pub struct ScimServeOptions {
    /// The socket address (port 0 picks a free port).
    pub addr: SocketAddr,
    /// The base URL clients reach the service at (behind a proxy), already
    /// checked by [`public_base_url`]; `None`: `http://ADDR/scim/v2`.
    pub public_url: Option<String>,
    /// What `/readyz` checks; `None`: ready whenever it serves.
    pub readiness: Option<Readiness>,
    /// The site client whose calls, retries and rate-limit waits `/metrics`
    /// reports; `None`: only the HTTP side.
    pub site_client: Option<Arc<Client>>,
    /// The longest a request may take before it is answered 504.
    pub request_timeout: std::time::Duration,
    /// Serve HTTPS with this configuration ([`ScimServeOptions::tls_files`];
    /// private: rustls' types are not part of wbxprov's API).
    tls: Option<tokio_rustls::TlsAcceptor>,
}

/// [`ScimServeOptions::request_timeout`] unless set: above the client's own
/// per-call deadline (`timeoutSeconds`, 30 s by default), so a slow site
/// call ends with the client's error first.
pub const DEFAULT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

impl std::fmt::Debug for ScimServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScimServeOptions")
            .field("addr", &self.addr)
            .field("public_url", &self.public_url)
            .field("readiness", &self.readiness)
            .field("site_client", &self.site_client.is_some())
            .field("request_timeout", &self.request_timeout)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl ScimServeOptions {
    /// Listen on `addr`, resources named by the bind address.
    pub fn new(addr: SocketAddr) -> Self {
        ScimServeOptions {
            addr,
            public_url: None,
            readiness: None,
            site_client: None,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            tls: None,
        }
    }

    /// Serve HTTPS with the PEM certificate chain `cert` and private key `key`.
    pub fn tls_files(
        mut self,
        cert: &std::path::Path,
        key: &std::path::Path,
    ) -> Result<Self, ServeError> {
        self.tls = Some(crate::server::tls_acceptor(cert, key).map_err(ServeError::Tls)?);
        Ok(self)
    }

    /// Answer 504 to a request not answered within `limit`.
    pub fn request_timeout(mut self, limit: std::time::Duration) -> Self {
        self.request_timeout = limit;
        self
    }

    /// `/metrics` also reports `client`'s calls to the site.
    pub fn site_client(mut self, client: Arc<Client>) -> Self {
        self.site_client = Some(client);
        self
    }

    /// `/readyz` answers 200 only while `probe` says the site answers.
    pub fn readiness(mut self, probe: Readiness) -> Self {
        self.readiness = Some(probe);
        self
    }

    /// Name resources under `url` (`Location`, `meta.location`).
    pub fn public_url(mut self, url: &str) -> Result<Self, ServeError> {
        self.public_url = Some(public_base_url(url)?);
        Ok(self)
    }
}

/// Refuses a bearer token shorter than [`MIN_TOKEN_BYTES`].
pub fn check_token(token: &Secret) -> Result<(), ServeError> {
    match token.expose().len() {
        n if n < MIN_TOKEN_BYTES => Err(ServeError::WeakToken(n)),
        _ => Ok(()),
    }
}

/// Who checks that a request may be served.
#[derive(Debug)]
#[non_exhaustive]
pub enum Auth {
    /// The router: every request shows this bearer token (compared in
    /// constant time); addresses that keep failing are refused for a while.
    Bearer(Secret),
    /// The host application, before the request reaches the router (its own
    /// middleware or gateway). The router then serves whatever it is given.
    Host,
}

/// How [`router`] serves.
#[derive(Debug)]
#[non_exhaustive]
pub struct ScimConfig {
    /// Who may call the router.
    pub auth: Auth,
}

impl ScimConfig {
    /// Requests must carry `token` (at least [`MIN_TOKEN_BYTES`] long).
    pub fn bearer(token: Secret) -> Result<Self, ServeError> {
        check_token(&token)?;
        Ok(ScimConfig {
            auth: Auth::Bearer(token),
        })
    }

    /// The host application authenticates every request itself.
    pub fn host_authenticates() -> Self {
        ScimConfig { auth: Auth::Host }
    }
}

/// The bearer token and the record of failed attempts.
struct Guard {
    token: Secret,
    throttle: AuthThrottle,
}

fn scim(status: StatusCode, body: &Json) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON))],
        body.to_string(),
    )
        .into_response()
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = scim(status, &self.to_json());
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Every request, known path or not, shows the token first; an address that
/// failed too often lately is refused without a look at its token.
async fn authenticate(State(served): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let (now, client) = (Instant::now(), client_ip(&request));
    if let Some(ip) = client
        && let Some(wait) = served.throttle.refused(ip, now)
    {
        tracing::warn!(%ip, "SCIM request refused: too many failed authentications");
        let secs = wait.as_secs() + 1;
        let mut refused = ScimError::new(
            429,
            None,
            format!("too many failed authentications from {ip}: retry in {secs} s"),
        );
        refused.retry_after = Some(secs);
        return refused.into_response();
    }
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token);
    let ok = given.is_some_and(|t| same_token(t.as_bytes(), served.token.expose().as_bytes()));
    if !ok {
        if let Some(ip) = client {
            served.throttle.failed(ip, now);
        }
        tracing::info!(method = %request.method(), path = %request.uri().path(), "SCIM request refused: no valid bearer token");
        return ScimError::new(401, None, "a valid bearer token is required").into_response();
    }
    // Logged, like every request, by the server's log layer.
    next.run(request).await
}

/// The address the request came from (the server records it per connection).
fn client_ip(request: &Request) -> Option<std::net::IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip())
}

/// A request body of at most [`MAX_BODY_BYTES`]; a longer one is refused
/// (413, as a SCIM error) without being read whole.
struct Body(Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ScimError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ScimError> {
        Bytes::from_request(request, state)
            .await
            .map(Body)
            .map_err(|r| ScimError::new(r.status().as_u16(), None, r.body_text()))
    }
}

fn body_json(body: &Bytes) -> Result<Json, ScimError> {
    serde_json::from_slice(body).map_err(|e| {
        ScimError::new(
            400,
            Some(ScimType::InvalidSyntax),
            format!("the body is not JSON: {e}"),
        )
    })
}

fn list_of(param: Option<&String>) -> Vec<String> {
    param
        .map(|s| {
            s.split(',')
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn number(params: &HashMap<String, String>, name: &str) -> Result<Option<usize>, ScimError> {
    let Some((_, v)) = params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) else {
        return Ok(None);
    };
    // RFC 7644 §3.4.2.4: a negative count is 0, a startIndex below 1 is 1.
    match v.trim().parse::<i64>() {
        Ok(n) => Ok(Some(n.max(0) as usize)),
        Err(_) => Err(ScimError::invalid_value(format!(
            "{name}={v} is not an integer"
        ))),
    }
}

fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a String> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn list_query(params: &HashMap<String, String>) -> Result<ListQuery, ScimError> {
    let filter = match param(params, "filter") {
        Some(f) if !f.trim().is_empty() => Some(f.parse::<Filter>()?),
        _ => None,
    };
    Ok(ListQuery {
        filter,
        start_index: number(params, "startIndex")?,
        count: number(params, "count")?,
        attributes: list_of(param(params, "attributes")),
    })
}

/// A ListResponse, each resource projected as the query asks.
fn projected_list(mut list: Json, params: &HashMap<String, String>) -> Response {
    let (attributes, excluded) = (
        list_of(param(params, "attributes")),
        list_of(param(params, "excludedAttributes")),
    );
    if let Some(Json::Array(resources)) = list.get_mut("Resources") {
        for r in resources {
            project(r, &attributes, &excluded);
        }
    }
    scim(StatusCode::OK, &list)
}

fn one(resource: Json, params: &HashMap<String, String>, status: StatusCode) -> Response {
    let mut resource = resource;
    project(
        &mut resource,
        &list_of(param(params, "attributes")),
        &list_of(param(params, "excludedAttributes")),
    );
    let mut response = scim(status, &resource);
    if status == StatusCode::CREATED
        && let Some(location) = resource["meta"]["location"].as_str()
        && let Ok(v) = HeaderValue::from_str(location)
    {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// The resource types the router serves; a handler's const parameter says
/// which (`const` generics take integers, not enums, on stable Rust).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Users,
    Groups,
    /// Both, for a search at the root (RFC 7644 §3.4.3).
    All,
}

const USERS: u8 = 0;
const GROUPS: u8 = 1;
const ALL: u8 = 2;

fn kind_of<const K: u8>() -> Kind {
    match K {
        GROUPS => Kind::Groups,
        ALL => Kind::All,
        _ => Kind::Users,
    }
}

async fn list<B: Backend>(
    backend: &B,
    kind: Kind,
    params: &HashMap<String, String>,
) -> Result<Response, ScimError> {
    let query = list_query(params)?;
    let list = match kind {
        Kind::Users => backend.list_users(&query).await?,
        Kind::Groups => backend.list_groups(&query).await?,
        Kind::All => every_kind(backend, query).await?,
    };
    Ok(projected_list(list, params))
}

/// Users, then Groups, matching the query, one page of them.
async fn every_kind<B: Backend>(backend: &B, query: ListQuery) -> Result<Json, ScimError> {
    let whole = ListQuery {
        start_index: None,
        count: None,
        ..query.clone()
    };
    let users = backend.list_users(&whole).await?;
    let groups = backend.list_groups(&whole).await?;
    let resources = |list: &Json| list["Resources"].as_array().cloned().unwrap_or_default();
    let matched: Vec<Json> = resources(&users)
        .into_iter()
        .chain(resources(&groups))
        .collect();
    let total = matched.len();
    let start = query.start_index.unwrap_or(1).max(1);
    let count = query
        .count
        .unwrap_or(schemas::MAX_RESULTS)
        .min(schemas::MAX_RESULTS);
    let page: Vec<Json> = matched.into_iter().skip(start - 1).take(count).collect();
    Ok(json!({
        "schemas": [LIST],
        "totalResults": total,
        "itemsPerPage": page.len(),
        "startIndex": start,
        "Resources": page,
    }))
}

async fn collection<B: Backend, const K: u8>(
    State(backend): State<Arc<B>>,
    method: Method,
    Query(params): Query<HashMap<String, String>>,
    Body(body): Body,
) -> Result<Response, ScimError> {
    let kind = kind_of::<K>();
    if method != Method::POST {
        return list(&*backend, kind, &params).await;
    }
    let body = body_json(&body)?;
    let created = match kind {
        Kind::Users => backend.create_user(&body).await?,
        Kind::Groups => backend.create_group(&body).await?,
        Kind::All => return Err(method_not_allowed().await),
    };
    Ok(one(created, &params, StatusCode::CREATED))
}

/// POST …/.search: the list query in a body (RFC 7644 §3.4.3).
async fn search<B: Backend, const K: u8>(
    State(backend): State<Arc<B>>,
    Body(body): Body,
) -> Result<Response, ScimError> {
    let body = body_json(&body)?;
    let mut params = HashMap::new();
    for name in ["filter", "startIndex", "count"] {
        match body.get(name) {
            Some(Json::String(s)) => {
                params.insert(name.to_owned(), s.clone());
            }
            Some(Json::Number(n)) => {
                params.insert(name.to_owned(), n.to_string());
            }
            _ => {}
        }
    }
    for name in ["attributes", "excludedAttributes"] {
        if let Some(Json::Array(items)) = body.get(name) {
            let joined: Vec<&str> = items.iter().filter_map(Json::as_str).collect();
            params.insert(name.to_owned(), joined.join(","));
        }
    }
    list(&*backend, kind_of::<K>(), &params).await
}

async fn resource<B: Backend, const K: u8>(
    State(backend): State<Arc<B>>,
    method: Method,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    Body(body): Body,
) -> Result<Response, ScimError> {
    let b = &*backend;
    let found = match (kind_of::<K>(), method) {
        (Kind::Users, Method::GET) => b.get_user(&id).await?,
        (Kind::Users, Method::PUT) => b.replace_user(&id, &body_json(&body)?).await?,
        (Kind::Users, Method::PATCH) => b.patch_user(&id, &body_json(&body)?).await?,
        (Kind::Users, Method::DELETE) => {
            b.delete_user(&id).await?;
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        (Kind::Groups, Method::GET) => b.get_group(&id).await?,
        (Kind::Groups, Method::PUT) => b.replace_group(&id, &body_json(&body)?).await?,
        (Kind::Groups, Method::PATCH) => b.patch_group(&id, &body_json(&body)?).await?,
        (Kind::Groups, Method::DELETE) => {
            b.delete_group(&id).await?;
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        (Kind::All, _) => return Err(not_found().await),
        _ => return Err(method_not_allowed().await),
    };
    Ok(one(found, &params, StatusCode::OK))
}

async fn method_not_allowed() -> ScimError {
    ScimError::new(405, None, "method not allowed on this endpoint")
}

async fn not_found() -> ScimError {
    ScimError::new(404, None, "no such SCIM endpoint")
}

fn listed(resources: Vec<Json>) -> Json {
    json!({
        "schemas": [LIST],
        "totalResults": resources.len(),
        "itemsPerPage": resources.len(),
        "startIndex": 1,
        "Resources": resources,
    })
}

async fn service_provider_config() -> Response {
    scim(StatusCode::OK, &schemas::service_provider_config())
}

fn all_resource_types() -> Vec<Json> {
    vec![schemas::user_resource_type(), groups::resource_type()]
}

async fn resource_types() -> Response {
    scim(StatusCode::OK, &listed(all_resource_types()))
}

async fn resource_type(Path(id): Path<String>) -> Response {
    match all_resource_types().into_iter().find(|t| {
        t["id"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case(&id))
    }) {
        Some(t) => scim(StatusCode::OK, &t),
        None => ScimError::new(404, None, format!("no resource type {id}")).into_response(),
    }
}

fn every_schema() -> Vec<Json> {
    let mut all = schemas::all_schemas();
    all.push(groups::schema());
    all
}

async fn all_schemas() -> Response {
    scim(StatusCode::OK, &listed(every_schema()))
}

async fn schema(Path(id): Path<String>) -> Response {
    match every_schema().into_iter().find(|s| {
        s["id"]
            .as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case(&id))
    }) {
        Some(s) => scim(StatusCode::OK, &s),
        None => ScimError::new(404, None, format!("no schema {id}")).into_response(),
    }
}

/// A running SCIM server.
pub struct ScimHandle {
    /// `http://127.0.0.1:PORT/scim/v2`
    pub url: String,
    /// The address the server listens on.
    pub addr: SocketAddr,
    server: ServerTask,
}

impl ScimHandle {
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

/// The SCIM endpoints of `backend`, relative (`/Users`, `/Groups/{id}` …):
/// mount them where the platform serves SCIM, e.g.
/// `Router::new().nest("/scim/v2", router(backend, config))`. With
/// [`Auth::Bearer`] every request, known path or not, shows the token first.
pub fn router<B: Backend>(backend: Arc<B>, config: ScimConfig) -> Router {
    let routes = Router::new()
        .route("/ServiceProviderConfig", get(service_provider_config))
        .route("/ResourceTypes", get(resource_types))
        .route("/ResourceTypes/{id}", get(resource_type))
        .route("/Schemas", get(all_schemas))
        .route("/Schemas/{id}", get(schema))
        .route("/.search", post(search::<B, ALL>))
        .route(
            "/Users",
            get(collection::<B, USERS>).post(collection::<B, USERS>),
        )
        .route("/Users/.search", post(search::<B, USERS>))
        .route(
            "/Users/{id}",
            get(resource::<B, USERS>)
                .put(resource::<B, USERS>)
                .patch(resource::<B, USERS>)
                .delete(resource::<B, USERS>),
        )
        .route(
            "/Groups",
            get(collection::<B, GROUPS>).post(collection::<B, GROUPS>),
        )
        .route("/Groups/.search", post(search::<B, GROUPS>))
        .route(
            "/Groups/{id}",
            get(resource::<B, GROUPS>)
                .put(resource::<B, GROUPS>)
                .patch(resource::<B, GROUPS>)
                .delete(resource::<B, GROUPS>),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(backend);
    guarded(tidy_paths(routes), config.auth)
}

/// `routes`, where a path that matches nothing is tidied (`//Users/` →
/// `/Users`) and served again.
fn tidy_paths(routes: Router) -> Router {
    let again = routes.clone();
    routes.fallback(move |mut request: Request| {
        let again = again.clone();
        async move {
            // Served again even when already tidy: a nested router's fallback
            // gets the path its prefix stripped, tidied on the way
            // (`/scim/v2//Users` arrives as `/Users`). `again` has no such
            // fallback: what matches nothing there is 404.
            if let Some(uri) = tidy(request.uri()) {
                *request.uri_mut() = uri;
            }
            match again.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }
    })
}

/// The URI with runs of `/` made one and a trailing `/` removed; `None`
/// when it has neither.
fn tidy(uri: &axum::http::Uri) -> Option<axum::http::Uri> {
    let path = uri.path();
    let mut tidied = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && tidied.ends_with('/')) {
            tidied.push(c);
        }
    }
    while tidied.len() > 1 && tidied.ends_with('/') {
        tidied.pop();
    }
    if tidied == path {
        return None;
    }
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    format!("{tidied}{query}").parse().ok()
}

fn guarded(app: Router, auth: Auth) -> Router {
    match auth {
        Auth::Bearer(token) => {
            let guard = Arc::new(Guard {
                token,
                throttle: AuthThrottle::default(),
            });
            app.layer(middleware::from_fn_with_state(guard, authenticate))
        }
        Auth::Host => app,
    }
}

/// Serves `service`'s Users, and Groups that grant nothing, at
/// `http://ADDR/scim/v2`; requests must carry `token` (at least
/// [`MIN_TOKEN_BYTES`] long, or the server does not start). `service` is
/// built once the address is known (port 0 picks one), from the base URL it
/// is given.
pub async fn serve(
    addr: SocketAddr,
    token: Secret,
    service: impl FnOnce(String) -> Service,
) -> Result<ScimHandle, ServeError> {
    serve_backend(addr, token, |url| {
        Meetings::new(service(url), Groups::default())
    })
    .await
}

/// Serves `backend` at `http://ADDR/scim/v2` behind `token`: a thin binder
/// around [`router`].
pub async fn serve_backend<B: Backend>(
    addr: SocketAddr,
    token: Secret,
    backend: impl FnOnce(String) -> B,
) -> Result<ScimHandle, ServeError> {
    serve_backend_with(ScimServeOptions::new(addr), token, backend).await
}

/// [`serve_backend`] with options: `backend` is given the public URL when
/// there is one, the local one otherwise.
pub async fn serve_backend_with<B: Backend>(
    options: ScimServeOptions,
    token: Secret,
    backend: impl FnOnce(String) -> B,
) -> Result<ScimHandle, ServeError> {
    let ScimServeOptions {
        addr,
        public_url,
        readiness,
        site_client,
        request_timeout,
        tls,
    } = options;
    let ScimConfig { auth } = ScimConfig::bearer(token)?;
    let listen = |source| ServeError::Listen { addr, source };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(listen)?;
    let addr = listener.local_addr().map_err(listen)?;
    if !addr.ip().is_loopback() && tls.is_none() {
        tracing::warn!(%addr, "SCIM server on a non-loopback address over plain HTTP: put it behind a TLS terminator");
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{addr}/scim/v2");
    let scim = router(
        Arc::new(backend(public_url.unwrap_or_else(|| url.clone()))),
        ScimConfig::host_authenticates(),
    );
    // The token guards every path, under /scim/v2 or not, /metrics included
    // (Prometheus sends a bearer token: `authorization` in a scrape config).
    let metrics = Arc::new(HttpMetrics::default());
    let exposition = (metrics.clone(), site_client);
    let app = Router::new()
        .nest("/scim/v2", scim)
        .route("/metrics", get(move || metrics_text(exposition.clone())))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(request_timeout, time_limit));
    let app = probes(readiness)
        .merge(guarded(tidy_paths(app), auth))
        .layer(middleware::from_fn_with_state(
            (metrics, route_of as fn(&str) -> &'static str),
            count_request,
        ));
    let server = match tls {
        Some(acceptor) => {
            let listener = TlsListener::new(listener, acceptor).map_err(listen)?;
            ServerTask::spawn(listener, app)
        }
        None => ServerTask::spawn(listener, app),
    };
    Ok(ScimHandle { url, addr, server })
}

/// The `route` label of a request to [`serve_backend_with`]'s server: its
/// path with ids replaced (`/scim/v2/Users/{id}`), tidied as the router
/// tidies it; anything else is "other" (labels stay few whatever is sent).
fn route_of(path: &str) -> &'static str {
    const ROUTES: [&str; 15] = [
        "/scim/v2/Users",
        "/scim/v2/Users/.search",
        "/scim/v2/Users/{id}",
        "/scim/v2/Groups",
        "/scim/v2/Groups/.search",
        "/scim/v2/Groups/{id}",
        "/scim/v2/.search",
        "/scim/v2/ServiceProviderConfig",
        "/scim/v2/ResourceTypes",
        "/scim/v2/ResourceTypes/{id}",
        "/scim/v2/Schemas",
        "/scim/v2/Schemas/{id}",
        "/healthz",
        "/readyz",
        "/metrics",
    ];
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    ROUTES
        .into_iter()
        .find(|route| {
            let pattern: Vec<&str> = route.split('/').filter(|s| !s.is_empty()).collect();
            pattern.len() == segments.len()
                && pattern
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| (*p == "{id}" && !s.starts_with('.')) || p == s)
        })
        .unwrap_or("other")
}

/// `/metrics`: the HTTP side, then the site client's calls.
async fn metrics_text((http, site): (Arc<HttpMetrics>, Option<Arc<Client>>)) -> Response {
    let mut text = String::new();
    http.render(&mut text);
    if let Some(client) = site {
        site_metrics(&client, &mut text);
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// The site client's counters: calls by operation and outcome, retries and
/// rate-limit waits by operation ([`Client::operation_stats`]), then the
/// totals only the client as a whole counts ([`crate::client::CallStats`]).
fn site_metrics(client: &Client, out: &mut String) {
    use std::fmt::Write;
    let by_operation = client.operation_stats();
    let _ = writeln!(
        out,
        "# HELP wbxprov_site_calls_total Operations asked of the site, by operation and outcome \
         (success, the site's classified failure, transport ...).\n\
         # TYPE wbxprov_site_calls_total counter"
    );
    for op in &by_operation {
        for (outcome, n) in &op.outcomes {
            let _ = writeln!(
                out,
                "wbxprov_site_calls_total{{operation=\"{}\",outcome=\"{outcome}\"}} {n}",
                op.operation
            );
        }
    }
    let per_operation = [
        (
            "wbxprov_site_retries_total",
            "Requests sent again after a failed attempt, by operation.",
            (|o: &crate::client::OperationStats| o.retries) as fn(&_) -> u64,
        ),
        (
            "wbxprov_site_rate_limit_waits_total",
            "Waits the site asked for (000045 API Rate Limit Reached), by operation.",
            |o| o.rate_limit_waits,
        ),
    ];
    for (name, help, value) in per_operation {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for op in &by_operation {
            let _ = writeln!(
                out,
                "{name}{{operation=\"{}\"}} {}",
                op.operation,
                value(op)
            );
        }
    }
    let stats = client.stats();
    let totals = [
        (
            "wbxprov_site_requests_total",
            "Requests sent to the site, authentication and resends included.",
            stats.sends as f64,
        ),
        (
            "wbxprov_site_rate_limit_wait_seconds_total",
            "Total length of the waits the site asked for.",
            stats.rate_limit_waited.as_secs_f64(),
        ),
        (
            "wbxprov_site_reauthentications_total",
            "Session tickets refused and replaced mid-call.",
            stats.reauthentications as f64,
        ),
    ];
    for (name, help, value) in totals {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    }
}

/// Answers 504 when the request is not answered within `limit`. The work
/// is dropped at that point: a site call in flight may still have landed,
/// so the answer tells the client to read before resending.
async fn time_limit(
    State(limit): State<std::time::Duration>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ScimError::new(
            504,
            None,
            format!(
                "no answer within {} s; a change may or may not have been made: read the resource before sending it again",
                limit.as_secs()
            ),
        )
        .into_response(),
    }
}

/// `/healthz` (the process serves) and `/readyz` (and the site answers), for
/// load balancers and orchestrators. Without the token: their probes carry
/// none, and the answers tell nothing about users (a fixed word).
fn probes(readiness: Option<Readiness>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(move || ready(readiness.clone())))
}

async fn ready(readiness: Option<Readiness>) -> Response {
    let answers = match readiness {
        Some(probe) => matches!(
            tokio::time::timeout(READINESS_TIMEOUT, (probe.0)()).await,
            Ok(true)
        ),
        None => true,
    };
    if answers {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the site does not answer\n",
        )
            .into_response()
    }
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5) on one resource;
/// `id`, `schemas` and `meta` always stay.
pub fn project(resource: &mut Json, attributes: &[String], excluded: &[String]) {
    let Some(map) = resource.as_object_mut() else {
        return;
    };
    const ALWAYS: [&str; 3] = ["id", "schemas", "meta"];
    let top = |p: &str| -> String {
        // `urn:…:User:attr` names an extension attribute; the container is kept whole.
        let p = match p.rfind(':') {
            Some(i) if p.starts_with("urn:") => {
                let (urn, attr) = p.split_at(i);
                if super::user::CORE.eq_ignore_ascii_case(urn) {
                    &attr[1..]
                } else {
                    urn
                }
            }
            _ => p,
        };
        p.split('.').next().unwrap_or(p).to_ascii_lowercase()
    };
    if !attributes.is_empty() {
        let keep: Vec<String> = attributes.iter().map(|a| top(a)).collect();
        map.retain(|k, _| ALWAYS.contains(&k.as_str()) || keep.contains(&k.to_ascii_lowercase()));
    }
    for path in excluded {
        match path.split_once('.') {
            // `name.givenName`: the sub-attribute only.
            Some((parent, sub)) if !path.starts_with("urn:") => {
                if let Some(Json::Object(inner)) = map
                    .iter_mut()
                    .find(|(k, _)| k.eq_ignore_ascii_case(parent))
                    .map(|(_, v)| v)
                {
                    inner.retain(|k, _| !k.eq_ignore_ascii_case(sub));
                }
            }
            _ => {
                let name = top(path);
                map.retain(|k, _| ALWAYS.contains(&k.as_str()) || k.to_ascii_lowercase() != name);
            }
        }
    }
    // `schemas` names only the extensions still present.
    let present: Vec<String> = map
        .keys()
        .filter(|k| k.starts_with("urn:"))
        .cloned()
        .collect();
    // The resource's own schema (User, Group) stays.
    let extensions = [super::user::ENTERPRISE, super::user::EXTENSION];
    if let Some(Json::Array(schemas)) = map.get_mut("schemas") {
        schemas.retain(|s| {
            s.as_str()
                .is_some_and(|s| !extensions.contains(&s) || present.iter().any(|p| p == s))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_routes_name_ids_and_fold_the_unknown_into_other() {
        assert_eq!(route_of("/scim/v2/Users/abc-123"), "/scim/v2/Users/{id}");
        assert_eq!(route_of("//scim/v2/Users/abc/"), "/scim/v2/Users/{id}");
        assert_eq!(route_of("/scim/v2/Users/.search"), "/scim/v2/Users/.search");
        assert_eq!(route_of("/scim/v2/Users"), "/scim/v2/Users");
        assert_eq!(route_of("/metrics"), "/metrics");
        for unknown in [
            "/",
            "/scim/v2/Users/a/b",
            "/x/v2/Users",
            "/scim/v2/Users/.x/y",
        ] {
            assert_eq!(route_of(unknown), "other", "{unknown}");
        }
    }

    #[test]
    fn a_public_url_is_absolute_http_without_query_or_fragment() {
        assert_eq!(
            public_base_url("https://gw.example.com/scim/v2/").unwrap(),
            "https://gw.example.com/scim/v2"
        );
        for bad in ["gw/scim", "https:///scim", "http://gw/a b", "https://gw/?q"] {
            assert!(public_base_url(bad).is_err(), "{bad}");
        }
        let long = format!("https://gw/{}", "a".repeat(MAX_PUBLIC_URL_BYTES));
        let shown = public_base_url(&long).unwrap_err().to_string();
        assert!(shown.len() < 200, "{shown}");
    }

    async fn status(app: &Router, path: &str) -> u16 {
        let request = Request::builder()
            .uri(path)
            .body(axum::body::Body::empty())
            .unwrap();
        app.clone()
            .oneshot(request)
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// Tidied paths reach their routes, nested or not; others stay 404.
    #[tokio::test]
    async fn trailing_and_doubled_slashes_reach_the_route() {
        let inner = tidy_paths(
            Router::new()
                .route("/Users/{id}", get(|| async { "ok" }))
                .fallback(not_found),
        );
        let app = tidy_paths(Router::new().nest("/scim/v2", inner).fallback(not_found));
        for path in [
            "/scim/v2/Users/1",
            "/scim/v2/Users/1/",
            "/scim/v2//Users/1",
            "//scim/v2/Users//1",
            "/scim/v2/Users/1?x=/",
        ] {
            assert_eq!(status(&app, path).await, 200, "{path}");
        }
        for path in ["/scim/v2/Users", "/scim/v2/Nothing/", "/elsewhere//"] {
            assert_eq!(status(&app, path).await, 404, "{path}");
        }
    }
}
