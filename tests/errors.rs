//! The crate-level error (issue 20): real failures of the simulated site, each
//! converted into `wbxprov::Error` and classified by `kind()` without losing
//! the area's own cause; `?` works across areas.
#![cfg(all(feature = "sim", feature = "sync"))]

mod common;

use std::error::Error as _;
use std::sync::Arc;

use wbxprov::client::{Client, Error as ClientError};
use wbxprov::schema::{FlatKey, FlatUser, Value};
use wbxprov::sim::{self, default_profile};
use wbxprov::site::{LicenceLimits, SiteProfile};
use wbxprov::sync::{self, Mapping, SyncOptions};
use wbxprov::{Error, ErrorKind, Feature, Secret};

fn user(id: &str, extra: &[(&str, Value)]) -> FlatUser {
    let mut u: FlatUser = [
        ("webExId", Value::Text(id.into())),
        ("firstName", Value::Text(format!("First {id}"))),
        ("lastName", Value::Text(format!("Last {id}"))),
        ("email", Value::Text(format!("{id}@example.com"))),
    ]
    .into_iter()
    .map(|(k, v)| (k.parse::<FlatKey>().unwrap(), v))
    .collect();
    for (k, v) in extra {
        u.insert(k.parse().unwrap(), v.clone());
    }
    u
}

fn client(url: &str) -> Client {
    Client::builder("sim", wbxprov::sim::default_admin())
        .endpoint(url)
        .options(common::fast_retries())
        .build()
        .unwrap()
}

/// The kind through the crate-level error, and the client's own error still
/// inside it (the operation is kept: not relabelled on the way up).
fn kind_of(e: ClientError) -> (ErrorKind, String) {
    let operation = e.operation.to_string();
    let error = Error::from(e);
    match &error {
        Error::Client(inner) => assert_eq!(inner.operation.to_string(), operation),
        other => panic!("not the client's error: {other:?}"),
    }
    (error.kind(), operation)
}

#[tokio::test]
async fn site_answers_keep_their_kind_through_the_crate_error() {
    let site = sim::start(default_profile()).await.unwrap();
    let c = client(&site.url);
    // 030001: GetUser and a SetUser of nobody.
    let (kind, op) = kind_of(c.get_user("nobody").await.unwrap_err());
    assert_eq!((kind, op.as_str()), (ErrorKind::NotFound, "GetUser"));
    let change = user("nobody", &[]);
    let (kind, op) = kind_of(c.set_user("nobody", change).await.unwrap_err());
    assert_eq!((kind, op.as_str()), (ErrorKind::NotFound, "SetUser"));
    // 030004: the webExId is taken.
    c.create_user(user("taken", &[])).await.unwrap();
    let mut again = user("taken", &[]);
    again.insert(
        "email".parse().unwrap(),
        Value::Text("other@example.com".into()),
    );
    let (kind, op) = kind_of(c.create_user(again).await.unwrap_err());
    assert_eq!((kind, op.as_str()), (ErrorKind::Exists, "CreateUser"));
}

#[tokio::test]
async fn a_licence_limit_and_a_feature_off_are_told_apart() {
    let mut profile = default_profile();
    profile.set_feature(Feature::OtherTeleconferencing, false);
    profile.limits = Some(LicenceLimits {
        site_hosts: Some(1),
        ..LicenceLimits::default()
    });
    let site = sim::start(profile.clone()).await.unwrap();
    let c = client(&site.url);
    c.create_user(user("first", &[])).await.unwrap();
    // The site's exceededSiteHostLimit.
    let (kind, _) = kind_of(c.create_user(user("second", &[])).await.unwrap_err());
    assert_eq!(kind, ErrorKind::LicenceLimit);
    // The site's "Attribute otherTelephony needs to be false".
    let gated = [("privilegeOtherTelephony", Value::Bool(true))];
    let (kind, _) = kind_of(c.create_user(user("tel", &gated)).await.unwrap_err());
    assert_eq!(kind, ErrorKind::FeatureOff);
    // The same change refused by the validator before any call.
    let mut checked = client(&site.url);
    checked.validate_with(profile);
    let error = Error::from(checked.create_user(user("tel", &gated)).await.unwrap_err());
    assert_eq!(error.kind(), ErrorKind::FeatureOff, "{error}");
    // A change with a wrong value as well is the change's fault, not the site's.
    let wrong = [
        ("privilegeOtherTelephony", Value::Bool(true)),
        ("email", Value::Text("not an address".into())),
    ];
    let error = Error::from(checked.create_user(user("tel", &wrong)).await.unwrap_err());
    assert_eq!(error.kind(), ErrorKind::Invalid, "{error}");
}

#[tokio::test]
async fn no_answer_is_a_transport_failure_with_its_cause_chained() {
    // Port 1 on loopback: nothing listens there.
    let c = client("http://127.0.0.1:1/WBXService/XMLService");
    let error = Error::from(c.get_user("anyone").await.unwrap_err());
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
    // The call that failed is the ticket's AuthenticateUser, before GetUser.
    assert!(error.to_string().contains("connection failed"), "{error}");
    let cause = error.source().expect("the client's cause");
    assert!(
        matches!(
            cause.downcast_ref::<wbxprov::client::ErrorKind>(),
            Some(wbxprov::client::ErrorKind::Transport(_))
        ),
        "{cause:?}"
    );
}

#[tokio::test]
async fn a_sync_that_cannot_read_the_site_keeps_the_site_answer_kind() {
    let site = sim::start(default_profile()).await.unwrap();
    let wrong_admin = Client::builder(
        "sim",
        wbxprov::client::AdminAuth::Password {
            web_ex_id: "admin".into(),
            password: Secret::new("not-the-password"),
        },
    )
    .endpoint(&site.url)
    .options(common::fast_retries())
    .build()
    .unwrap();
    let source = common::scratch("errors", "people.csv");
    std::fs::write(&source, "webExId,email\njdoe,jdoe@example.com\n").unwrap();
    let error = sync::Sync::builder(Arc::new(wrong_admin), default_profile())
        .options(SyncOptions::default())
        .build()
        .plan(sync::source::open(&source).unwrap())
        .await
        .map_err(Error::from)
        .unwrap_err();
    // 030002 through SyncError::Site: still the site's answer, not a sync failure.
    assert!(matches!(error, Error::Sync(_)), "{error:?}");
    assert_eq!(error.kind(), ErrorKind::Auth, "{error}");
}

#[test]
fn files_and_mappings_are_invalid_or_io_and_chain_their_cause() {
    let missing = common::scratch("errors", "absent.csv");
    let error = Error::from(sync::source::open(&missing).err().unwrap());
    assert_eq!(error.kind(), ErrorKind::Io);
    assert!(
        error.source().is_some_and(|s| s.is::<std::io::Error>()),
        "{error:?}"
    );
    let error =
        Error::from(Mapping::from_toml("[attributes]\nnope = { field = \"x\" }").unwrap_err());
    assert_eq!(error.kind(), ErrorKind::Invalid);
    let error = Error::from(SiteProfile::from_toml("siteName = 1", ".".as_ref()).unwrap_err());
    assert_eq!(error.kind(), ErrorKind::Invalid);
    assert!(error.source().is_some(), "the TOML error is the cause");
}

/// `?` from every area into one `Result<_, wbxprov::Error>`.
async fn provision(url: &str, source: &std::path::Path) -> Result<usize, Error> {
    let profile = SiteProfile::from_toml("[features]\nhqVideo = true\n", ".".as_ref())?;
    let mapping = Mapping::from_toml("[attributes]\nwebExId = { field = \"id\" }\n")?;
    let records = sync::source::open(source)?;
    let c = client(url);
    c.create_user(user("direct", &[])).await?;
    let plan = sync::Sync::builder(Arc::new(c), profile)
        .mapping(mapping)
        .build()
        .plan(records)
        .await?;
    Ok(plan.steps.len())
}

#[tokio::test]
async fn question_mark_crosses_areas() {
    let site = sim::start(default_profile()).await.unwrap();
    let source = common::scratch("errors", "ids.csv");
    std::fs::write(&source, "id\nsomeone\n").unwrap();
    assert!(provision(&site.url, &source).await.is_ok());
    let error = provision(&site.url, &source).await.unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Exists,
        "the second run's CreateUser: {error}"
    );
}

/// A sync report's user error is the crate's one error shape: the site's
/// own word as `kind`, the crate's classification as `category`, the
/// service's reason, as `wbxprov user … --json` shows it.
#[tokio::test]
async fn a_sync_reports_a_users_failure_in_the_crates_error_shape() {
    let mut profile = default_profile();
    profile.limits = Some(LicenceLimits {
        site_hosts: Some(1),
        ..LicenceLimits::default()
    });
    // The site keeps the limit; the sync's own profile does not know it, so
    // the second CreateUser is sent and refused by the site.
    let site = sim::start(profile).await.unwrap();
    let source = common::scratch("errors", "two.csv");
    std::fs::write(
        &source,
        "webExId,email,firstName,lastName\none,one@example.com,O,Ne\ntwo,two@example.com,T,Wo\n",
    )
    .unwrap();
    let sync = sync::Sync::builder(common::sim_client(&site), default_profile()).build();
    let plan = sync
        .plan(sync::source::open(&source).unwrap())
        .await
        .unwrap();
    let report = plan.apply(&sync, |_| {}).await.unwrap();
    let failed: Vec<_> = report
        .users
        .iter()
        .filter_map(|u| u.error.as_ref())
        .collect();
    assert_eq!(failed.len(), 1, "{:?}", report.users);
    let json = serde_json::to_value(failed[0]).unwrap();
    assert_eq!(json["kind"], "licenceLimit", "{json}");
    assert_eq!(json["category"], "licenceLimit", "{json}");
    assert_eq!(json["reason"], "exceededSiteHostLimit", "{json}");
    assert!(
        json["message"].as_str().unwrap().starts_with("CreateUser"),
        "{json}"
    );
}

/// The identity API's answers (the Control Hub side) keep their kind too: a
/// person created twice is `Exists`, a refused token `Auth`.
#[tokio::test]
async fn identity_answers_keep_their_kind_through_the_crate_error() {
    use wbxprov::identity::transport::HttpsJson;
    use wbxprov::identity::{IdentityClient, Person};
    use wbxprov::site::ControlHub;
    const ORG: &str = "a35bfbc6-ccbd-4a17-a488-72gf46c5420c";
    let mut profile = default_profile();
    profile.control_hub = Some(ControlHub { org_id: ORG.into() });
    profile.control_hub_managed = true;
    let site = sim::start(profile).await.unwrap();
    let identity = |token: &str| {
        let https = HttpsJson::new(
            std::time::Duration::from_secs(5),
            std::time::Duration::from_secs(10),
        )
        .unwrap();
        IdentityClient::new(&site.identity_url, ORG, Secret::new(token), Arc::new(https))
            .retry(common::fast_retries().retry)
    };
    let person = Person {
        id: None,
        attributes: user(
            "jdoe",
            &[("webExId", Value::Text("jdoe@example.com".into()))],
        ),
        display_name: None,
        external_id: None,
    };
    let good = identity(sim::DEFAULT_IDENTITY_TOKEN);
    good.create(&person).await.unwrap();
    let again = Error::from(good.create(&person).await.unwrap_err());
    assert_eq!(again.kind(), ErrorKind::Exists, "{again}");
    let refused = Error::from(
        identity("not-the-token")
            .find("x@example.com")
            .await
            .unwrap_err(),
    );
    assert_eq!(refused.kind(), ErrorKind::Auth, "{refused}");
}
