//! Mount wbxprov's SCIM 2.0 front in an existing axum application, next to
//! the platform's own routes, under the path its identity provider calls.
//!
//! ```text
//! WBXPROV_SITE_URL=https://example.webex.com/WBXService/XMLService \
//! WBXPROV_ADMIN_ID=admin WBXPROV_ADMIN_PASSWORD=… \
//! SCIM_TOKEN=$(openssl rand -base64 32) cargo run --example mount_scim
//! ```

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use wbxprov::Secret;
use wbxprov::client::{AdminAuth, Client};
use wbxprov::scim::ids::IdStore;
use wbxprov::scim::{GroupGrants, Groups, Meetings, ScimConfig, Service, router};

/// The platform's application with the SCIM front under `/idp/scim`;
/// `public_base` is where the identity provider reaches it (for
/// `meta.location` and members' `$ref`).
pub fn app(
    client: Arc<Client>,
    token: Secret,
    public_base: &str,
) -> Result<Router, wbxprov::Error> {
    // In memory here; a file keeps SCIM ids across restarts.
    let users = Service::new(
        client,
        IdStore::open(None)?,
        format!("{public_base}/idp/scim"),
    );
    let backend = Arc::new(Meetings::new(users, Groups::new(GroupGrants::default())));
    // The router checks the bearer token itself (at least 32 bytes).
    let config = ScimConfig::bearer(token)?;
    Ok(Router::new()
        .route("/health", get(|| async { "ok" }))
        .nest("/idp/scim", router(backend, config)))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("WBXPROV_SITE_URL")?;
    let auth = AdminAuth::Password {
        web_ex_id: std::env::var("WBXPROV_ADMIN_ID")?,
        password: Secret::new(std::env::var("WBXPROV_ADMIN_PASSWORD")?),
    };
    let client = Arc::new(Client::for_site(&url, auth)?.build()?);
    let token = Secret::new(std::env::var("SCIM_TOKEN")?);
    let app = app(client, token, "http://127.0.0.1:8080")?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    println!("SCIM front on http://127.0.0.1:8080/idp/scim");
    axum::serve(listener, app).await?;
    Ok(())
}
