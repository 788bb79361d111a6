//! The examples run (issue 20): `create_user` and `sync_rows` against an
//! in-process simulated site, `mount_scim`'s app answers its own route and
//! the SCIM front it mounts. The examples' files are included as they are;
//! only their `main` is not called here.
#![cfg(all(feature = "sim", feature = "sync", feature = "scim", feature = "https"))]

mod common;

#[allow(dead_code)]
#[path = "../examples/create_user.rs"]
mod create_user;
#[allow(dead_code)]
#[path = "../examples/mount_scim.rs"]
mod mount_scim;
#[allow(dead_code)]
#[path = "../examples/sync_rows.rs"]
mod sync_rows;

use wbxprov::sim::{self, default_profile};
use wbxprov::{ErrorKind, Feature, Value};

#[tokio::test]
async fn create_user_creates_then_updates_and_validates_against_getsite() {
    let site = sim::start(default_profile()).await.unwrap();
    let first = create_user::run(
        &site.url,
        wbxprov::sim::default_admin(),
        "jdoe",
        "jdoe@example.com",
    )
    .await
    .unwrap();
    assert!(!first.existed && first.user_id.is_some(), "{first:?}");
    // The second run finds the webExId taken (030004) and only updates.
    let again = create_user::run(
        &site.url,
        wbxprov::sim::default_admin(),
        "jdoe",
        "jdoe@example.com",
    )
    .await
    .unwrap();
    assert!(again.existed, "{again:?}");
    assert_eq!(again.user_id, first.user_id);
    let user = common::sim_client(&site).get_user("jdoe").await.unwrap();
    assert_eq!(
        user.get("title".parse().unwrap()),
        Some(Value::Text("Engineer".into()))
    );
}

#[tokio::test]
async fn create_user_refuses_what_the_sites_getsite_forbids_before_sending() {
    let mut profile = default_profile();
    profile.set_feature(Feature::OtherTeleconferencing, false);
    let site = sim::start(profile).await.unwrap();
    let client = create_user::connect(&site.url, wbxprov::sim::default_admin())
        .await
        .unwrap();
    let writes = site.simulator.writes();
    let gated: wbxprov::FlatUser = [
        ("webExId", Value::Text("tel".into())),
        ("email", Value::Text("tel@example.com".into())),
        ("privilegeOtherTelephony", Value::Bool(true)),
    ]
    .into_iter()
    .map(|(k, v)| (k.parse().unwrap(), v))
    .collect();
    let error = wbxprov::Error::from(client.create_user(gated).await.unwrap_err());
    assert_eq!(error.kind(), ErrorKind::FeatureOff, "{error}");
    assert_eq!(site.simulator.writes(), writes, "nothing was sent");
}

#[tokio::test]
async fn sync_rows_creates_the_rows_then_finds_them_unchanged() {
    let site = sim::start(default_profile()).await.unwrap();
    let client = common::sim_client(&site);
    let first = sync_rows::run(client.clone(), sync_rows::rows())
        .await
        .unwrap();
    assert_eq!(first, (2, 0));
    let second = sync_rows::run(client, sync_rows::rows()).await.unwrap();
    assert_eq!(second, (0, 2));
}

#[tokio::test]
async fn mount_scim_serves_the_platform_route_and_the_scim_front() {
    use tower::ServiceExt;
    let site = sim::start(default_profile()).await.unwrap();
    let token = wbxprov::Secret::new("0123456789abcdef0123456789abcdef");
    let app = mount_scim::app(
        common::sim_client(&site),
        token,
        "https://platform.example.com",
    )
    .unwrap();
    let get = |path: &str, auth: Option<&str>| {
        let mut request = axum::http::Request::get(path);
        if let Some(token) = auth {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        request.body(axum::body::Body::empty()).unwrap()
    };
    let health = app.clone().oneshot(get("/health", None)).await.unwrap();
    assert_eq!(health.status(), 200);
    let refused = app
        .clone()
        .oneshot(get("/idp/scim/Users", None))
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let listed = app
        .oneshot(get(
            "/idp/scim/Users",
            Some("0123456789abcdef0123456789abcdef"),
        ))
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
}
