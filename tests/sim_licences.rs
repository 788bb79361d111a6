//! A simulated Control-Hub-managed site with licences (`SimConfig::
//! control_hub_licences`): a person is a site user only while holding the
//! site's Meetings licence; the licences and session-types APIs manage it;
//! CreateUser follows XML API 41.11; DelUser frees the licence.
#![cfg(all(feature = "sim", feature = "https"))]

mod common;

use std::sync::Arc;
use std::time::Duration;

use wbxprov::Secret;
use wbxprov::client::Client;
use wbxprov::identity::IdentityClient;
use wbxprov::identity::transport::HttpsJson;
use wbxprov::rest::RestErrorKind;
use wbxprov::rest::licences::{Change, LicenceChange, LicenceClient, PersonRef};
use wbxprov::rest::meeting::MeetingConfigClient;
use wbxprov::schema::{Attribute, FlatKey, FlatUser, Value};
use wbxprov::sim::{self, DEFAULT_IDENTITY_TOKEN, SimConfig, SimHandle, Simulator};
use wbxprov::site::{ControlHub, SiteProfile};
use wbxprov::xml::ServiceErrorKind;

const ORG: &str = "a35bfbc6-ccbd-4a17-a488-72gf46c5420c";

fn profile(site_hosts: u32) -> SiteProfile {
    let mut p = sim::default_profile();
    p.site_name = Some("example".into());
    p.control_hub = Some(ControlHub { org_id: ORG.into() });
    p.control_hub_managed = true;
    if let Some(limits) = &mut p.limits {
        limits.site_hosts = Some(site_hosts);
    }
    p
}

async fn site(site_hosts: u32, tune: impl FnOnce(&mut SimConfig)) -> SimHandle {
    let mut config = SimConfig::new(profile(site_hosts));
    config.control_hub_licences = true;
    tune(&mut config);
    let sim = Simulator::new(config, Box::new(sim::store::Memory)).unwrap();
    sim::serve(sim, sim::ServeOptions::default()).await.unwrap()
}

fn https() -> Arc<HttpsJson> {
    Arc::new(HttpsJson::new(Duration::from_secs(5), Duration::from_secs(10)).unwrap())
}

fn token() -> Secret {
    Secret::new(DEFAULT_IDENTITY_TOKEN)
}

fn licences(site: &SimHandle) -> LicenceClient {
    LicenceClient::new(&site.rest_url, token(), https()).retry(common::fast_retries().retry)
}

fn xml(site: &SimHandle) -> Client {
    Client::builder("example", wbxprov::sim::default_admin())
        .endpoint(&site.url)
        .options(common::fast_retries())
        .build()
        .unwrap()
}

fn user(pairs: &[(Attribute, Value)]) -> FlatUser {
    pairs
        .iter()
        .map(|(a, v)| (FlatKey::new(*a), v.clone()))
        .collect()
}

fn text(v: &str) -> Value {
    Value::Text(v.into())
}

/// A person created in the organisation, not licensed.
async fn person(site: &SimHandle, email: &str) {
    let identity = IdentityClient::new(&site.identity_url, ORG, token(), https())
        .retry(common::fast_retries().retry);
    let person = wbxprov::identity::Person {
        id: None,
        attributes: user(&[(Attribute::WebExId, text(email))]),
        display_name: None,
        external_id: None,
    };
    identity.create(&person).await.unwrap();
}

fn host(email: &str, licence: &str, change: Change) -> LicenceChange {
    LicenceChange {
        person: PersonRef::Email(email.into()),
        licences: vec![(licence.into(), change)],
        attendee_sites: vec![],
    }
}

#[tokio::test]
async fn a_person_is_a_site_user_only_while_holding_the_sites_licence() {
    let site = site(10, |_| {}).await;
    let (xml, licences) = (xml(&site), licences(&site));
    person(&site, "jdoe@example.com").await;
    let unlicensed = xml.get_user("jdoe@example.com").await.unwrap_err();
    assert_eq!(
        unlicensed.service().map(|e| e.kind()),
        Some(ServiceErrorKind::UserNotFound)
    );
    assert!(
        xml.list_all_users(&Default::default())
            .await
            .unwrap()
            .0
            .is_empty()
    );

    let licence = licences
        .site_licence("example.webex.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (licence.total_units, licence.free_units()),
        (Some(10), Some(10))
    );
    let done = licences
        .assign(&host("jdoe@example.com", &licence.id, Change::Add))
        .await
        .unwrap();
    assert!(done.is_complete(), "{done:?}");
    assert!(xml.get_user("jdoe@example.com").await.is_ok());
    let after = licences
        .site_licence("example.webex.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.consumed_units, Some(1));

    // Session types through REST land on the Meetings user.
    let meeting = MeetingConfigClient::new(&site.rest_url, token(), https());
    let jdoe = PersonRef::Email("jdoe@example.com".into());
    let set = meeting
        .set_session_types("example.webex.com", &jdoe, &[214, 216])
        .await
        .unwrap();
    assert_eq!(set.ids(), [214, 216]);
    let got = xml.get_user("jdoe@example.com").await.unwrap();
    assert_eq!(
        got.get("meetingTypes".parse::<FlatKey>().unwrap()),
        Some(Value::IntList(vec![214, 216]))
    );

    // DelUser frees the licence; the person is no site user any more.
    xml.deactivate(&["jdoe@example.com".into()]).await.unwrap();
    let freed = licences
        .site_licence("example.webex.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(freed.consumed_units, Some(0));
    assert!(
        xml.get_user("jdoe@example.com")
            .await
            .unwrap_err()
            .is_not_found()
    );
    site.stop().await;
}

#[tokio::test]
async fn create_user_follows_41_11_creating_licensing_and_ignoring_password_and_active() {
    let site = site(1, |_| {}).await;
    let xml = xml(&site);
    let created = xml
        .create_user(user(&[
            (Attribute::WebExId, text("jdoe")),
            (Attribute::Email, text("jdoe@example.com")),
            (Attribute::FirstName, text("Jane")),
            (Attribute::LastName, text("Doe")),
            (
                Attribute::Password,
                Value::Secret(Secret::new("Ignored-123")),
            ),
            (Attribute::Active, text("DEACTIVATED")),
        ]))
        .await
        .unwrap();
    // The email is the webExId; `active` was ignored.
    let got = xml.get_user("jdoe@example.com").await.unwrap();
    assert_eq!(got.user_id, Some(created.user_id));
    assert_eq!(got.active.as_deref(), Some("ACTIVATED"));
    assert!(xml.get_user("jdoe").await.unwrap_err().is_not_found());
    let licence = licences(&site)
        .site_licence("example.webex.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(licence.consumed_units, Some(1));

    // The one unit is taken: the next person cannot be made a host, either way.
    person(&site, "asmith@example.com").await;
    let full = xml
        .create_user(user(&[
            (Attribute::WebExId, text("asmith@example.com")),
            (Attribute::Email, text("asmith@example.com")),
        ]))
        .await
        .unwrap_err();
    assert_eq!(
        full.service().map(|e| e.kind()),
        Some(ServiceErrorKind::LicenceLimit),
        "{full}"
    );
    let refused = licences(&site)
        .assign(&host("asmith@example.com", &licence.id, Change::Add))
        .await
        .unwrap_err();
    assert!(
        matches!(refused.kind, RestErrorKind::Invalid { .. }),
        "{refused}"
    );
    site.stop().await;
}

#[tokio::test]
async fn an_existing_unlicensed_person_is_licensed_by_create_user_not_created_again() {
    let site = site(5, |_| {}).await;
    let xml = xml(&site);
    person(&site, "jdoe@example.com").await;
    let before = site.simulator.user_count();
    xml.create_user(user(&[
        (Attribute::WebExId, text("jdoe@example.com")),
        (Attribute::Email, text("jdoe@example.com")),
        (Attribute::PrivilegeHQvideo, Value::Bool(true)),
    ]))
    .await
    .unwrap();
    assert_eq!(site.simulator.user_count(), before, "no second person");
    let got = xml.get_user("jdoe@example.com").await.unwrap();
    assert_eq!(got.privilege.hq_video, Some(true));
    site.stop().await;
}

#[tokio::test]
async fn configured_206_and_429_are_answered_and_an_unknown_licence_is_400000() {
    let site = site(5, |c| {
        c.licence_206_every = Some(1);
        c.identity_429_every = Some(3);
        c.identity_retry_after = 0;
    })
    .await;
    let licences = licences(&site);
    person(&site, "jdoe@example.com").await;
    let id = licences
        .site_licence("example.webex.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let change = LicenceChange {
        attendee_sites: vec![("other.webex.com".into(), Change::Add)],
        ..host("jdoe@example.com", &id, Change::Add)
    };
    // The third request of the site's REST APIs answers 429: waited out.
    let partial = licences.assign(&change).await.unwrap();
    assert!(partial.partial, "{partial:?}");
    assert_eq!(partial.not_applied, ["other.webex.com"]);
    assert_eq!(partial.licences, [id]);
    let unknown = licences
        .assign(&host("jdoe@example.com", "no-such-licence", Change::Add))
        .await
        .unwrap_err();
    match unknown.kind {
        RestErrorKind::Invalid { errors, .. } => {
            assert_eq!(errors[0].error_code.as_deref(), Some("400000"))
        }
        other => panic!("{other:?}"),
    }
    site.stop().await;
}

/// The client refuses, before any call, what CreateUser would ignore on a
/// Control-Hub-managed site (validate::control_hub::xml_rules).
#[tokio::test]
async fn the_client_refuses_a_create_user_the_site_would_half_ignore() {
    let site = site(5, |_| {}).await;
    let client = Client::builder("example", wbxprov::sim::default_admin())
        .endpoint(&site.url)
        .options(common::fast_retries())
        .validate_with(profile(5))
        .build()
        .unwrap();
    let refused = client
        .create_user(user(&[
            (Attribute::WebExId, text("jdoe")),
            (Attribute::Email, text("jdoe@example.com")),
            (
                Attribute::Password,
                Value::Secret(Secret::new("PLANTED-pw")),
            ),
        ]))
        .await
        .unwrap_err();
    let said = refused.to_string();
    assert!(
        said.contains("password") && said.contains("webExId"),
        "{said}"
    );
    assert!(!said.contains("PLANTED"), "{said}");
    assert_eq!(
        site.simulator.calls(wbxprov::ops::Operation::CreateUser),
        0,
        "nothing was sent"
    );
    site.stop().await;
}
