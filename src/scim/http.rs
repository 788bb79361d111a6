//! The SCIM 2.0 HTTP front: `/scim/v2/…` over [`Service`], behind one bearer
//! token. Plain HTTP: beyond loopback, it belongs behind a TLS terminator.

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

use super::filter::Filter;
use super::schemas;
use super::service::{ListQuery, ScimError, Service, project};
use super::throttle::AuthThrottle;
use super::user::LIST;
use crate::Secret;
use crate::server::{ServerTask, bearer_token, same_token};

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
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Refuses a bearer token shorter than [`MIN_TOKEN_BYTES`].
pub fn check_token(token: &Secret) -> Result<(), ServeError> {
    match token.expose().len() {
        n if n < MIN_TOKEN_BYTES => Err(ServeError::WeakToken(n)),
        _ => Ok(()),
    }
}

struct Served {
    service: Service,
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
async fn authenticate(State(served): State<Arc<Served>>, request: Request, next: Next) -> Response {
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
            Some("invalidSyntax"),
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

async fn list_users(
    served: &Served,
    params: &HashMap<String, String>,
) -> Result<Response, ScimError> {
    let filter = match param(params, "filter") {
        Some(f) if !f.trim().is_empty() => Some(f.parse::<Filter>()?),
        _ => None,
    };
    let query = ListQuery {
        filter,
        start_index: number(params, "startIndex")?,
        count: number(params, "count")?,
    };
    let mut list = served.service.list(&query).await?;
    let (attributes, excluded) = (
        list_of(param(params, "attributes")),
        list_of(param(params, "excludedAttributes")),
    );
    if let Some(Json::Array(resources)) = list.get_mut("Resources") {
        for r in resources {
            project(r, &attributes, &excluded);
        }
    }
    Ok(scim(StatusCode::OK, &list))
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

async fn users(
    State(served): State<Arc<Served>>,
    method: Method,
    Query(params): Query<HashMap<String, String>>,
    Body(body): Body,
) -> Result<Response, ScimError> {
    if method == Method::POST {
        let created = served.service.create(&body_json(&body)?).await?;
        return Ok(one(created, &params, StatusCode::CREATED));
    }
    list_users(&served, &params).await
}

/// POST /Users/.search: the list query in a body (RFC 7644 §3.4.3).
async fn search(
    State(served): State<Arc<Served>>,
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
    list_users(&served, &params).await
}

async fn user(
    State(served): State<Arc<Served>>,
    method: Method,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    Body(body): Body,
) -> Result<Response, ScimError> {
    let service = &served.service;
    let resource = match method {
        Method::GET => service.get(&id).await?,
        Method::PUT => service.replace(&id, &body_json(&body)?).await?,
        Method::PATCH => service.patch(&id, &body_json(&body)?).await?,
        Method::DELETE => {
            service.delete(&id).await?;
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        _ => return Err(method_not_allowed().await),
    };
    Ok(one(resource, &params, StatusCode::OK))
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

async fn resource_types() -> Response {
    scim(StatusCode::OK, &listed(vec![schemas::user_resource_type()]))
}

async fn resource_type(Path(id): Path<String>) -> Response {
    if id.eq_ignore_ascii_case("User") {
        return scim(StatusCode::OK, &schemas::user_resource_type());
    }
    ScimError::new(404, None, format!("no resource type {id}")).into_response()
}

async fn all_schemas() -> Response {
    scim(StatusCode::OK, &listed(schemas::all_schemas()))
}

async fn schema(Path(id): Path<String>) -> Response {
    match schemas::all_schemas().into_iter().find(|s| {
        s["id"]
            .as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case(&id))
    }) {
        Some(s) => scim(StatusCode::OK, &s),
        None => ScimError::new(404, None, format!("no schema {id}")).into_response(),
    }
}

/// Meetings sites have no groups: an empty list, so that identity providers
/// probing `/Groups` (Okta's spec test) carry on.
async fn groups() -> Response {
    scim(StatusCode::OK, &listed(Vec::new()))
}

/// A running SCIM server.
pub struct ScimHandle {
    /// `http://127.0.0.1:PORT/scim/v2`
    pub url: String,
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
}

/// Serves `service` at `http://ADDR/scim/v2`; requests must carry `token`
/// (at least [`MIN_TOKEN_BYTES`] long, or the server does not start).
/// `service` is built once the address is known (port 0 picks one), from
/// the base URL it is given.
pub async fn serve(
    addr: SocketAddr,
    token: Secret,
    service: impl FnOnce(String) -> Service,
) -> Result<ScimHandle, ServeError> {
    check_token(&token)?;
    let listen = |source| ServeError::Listen { addr, source };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(listen)?;
    let addr = listener.local_addr().map_err(listen)?;
    if !addr.ip().is_loopback() {
        tracing::warn!(%addr, "SCIM server on a non-loopback address over plain HTTP: put it behind a TLS terminator");
    }
    let url = format!("http://{addr}/scim/v2");
    let served = Arc::new(Served {
        service: service(url.clone()),
        token,
        throttle: AuthThrottle::default(),
    });
    let app = Router::new()
        .route(
            "/scim/v2/ServiceProviderConfig",
            get(service_provider_config),
        )
        .route("/scim/v2/ResourceTypes", get(resource_types))
        .route("/scim/v2/ResourceTypes/{id}", get(resource_type))
        .route("/scim/v2/Schemas", get(all_schemas))
        .route("/scim/v2/Schemas/{id}", get(schema))
        .route("/scim/v2/Users", get(users).post(users))
        .route("/scim/v2/Users/.search", post(search))
        .route("/scim/v2/.search", post(search))
        .route(
            "/scim/v2/Users/{id}",
            get(user).put(user).patch(user).delete(user),
        )
        .route("/scim/v2/Groups", get(groups))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(served.clone(), authenticate))
        .with_state(served);
    let server = ServerTask::spawn(listener, app);
    Ok(ScimHandle { url, addr, server })
}
