//! The Webex identity (SCIM 2) client of Control-Hub-managed sites: the
//! seeds' attribute set (userName, displayName, name.familyName,
//! name.givenName, externalId, title, active) through recorded exchanges and
//! through the simulator's identity API.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::json;
use wbxprov::Secret;
use wbxprov::identity::{IdentityClient, IdentityErrorKind, JsonReplay, Method, Person, patch_ops};
use wbxprov::schema::{Attribute, FlatKey, FlatUser, Value};

fn text(v: &str) -> Value {
    Value::Text(v.into())
}

fn seed_person() -> Person {
    let attributes: FlatUser = [
        (Attribute::WebExId, "jdoe@example.com"),
        (Attribute::FirstName, "Jane"),
        (Attribute::LastName, "Doe"),
        (Attribute::Title, "Engineer"),
        (Attribute::Active, "ACTIVATED"),
    ]
    .into_iter()
    .map(|(a, v)| (FlatKey::new(a), text(v)))
    .collect();
    Person {
        id: None,
        attributes,
        display_name: Some("Jane Doe".into()),
        external_id: Some("00u1ab2cd3EF4gh5i6j7".into()),
    }
}

fn get(p: &Person, a: Attribute) -> Option<&Value> {
    p.attributes.get(&FlatKey::new(a))
}

#[tokio::test]
async fn the_seed_attributes_round_trip_through_recorded_exchanges() {
    let path = common::repo_root().join("fixtures/identity/seed-attributes.json");
    let replay = Arc::new(JsonReplay::from_file(&path).unwrap());
    let client = IdentityClient::new(
        wbxprov::identity::DEFAULT_BASE_URL,
        "a35bfbc6-ccbd-4a17-a488-72gf46c5420c",
        Secret::new("recorded-token"),
        replay.clone(),
    )
    .retry(common::fast_retries().retry);

    assert_eq!(client.find("jdoe@example.com").await.unwrap(), None);
    let created = client.create(&seed_person()).await.unwrap();
    let id = created.id.clone().unwrap();
    assert_eq!(created.user_name(), "jdoe@example.com");
    assert_eq!(created.display_name.as_deref(), Some("Jane Doe"));
    assert_eq!(created.external_id.as_deref(), Some("00u1ab2cd3EF4gh5i6j7"));
    assert_eq!(get(&created, Attribute::FirstName), Some(&text("Jane")));
    assert_eq!(get(&created, Attribute::LastName), Some(&text("Doe")));
    assert_eq!(get(&created, Attribute::Title), Some(&text("Engineer")));
    assert!(created.active());

    // Only what changed, and the 429 before it is waited out (Retry-After: 0).
    let change: FlatUser = [(FlatKey::new(Attribute::Title), text("Manager"))]
        .into_iter()
        .collect();
    let updated = client
        .update(&id, "jdoe@example.com", &patch_ops(&change))
        .await
        .unwrap();
    assert_eq!(get(&updated, Attribute::Title), Some(&text("Manager")));
    let off = client
        .set_active(&id, "jdoe@example.com", false)
        .await
        .unwrap();
    assert!(!off.active());
    let found = client.find("jdoe@example.com").await.unwrap().unwrap();
    assert_eq!(found.id.as_deref(), Some(id.as_str()));
    assert!(!found.active());

    let again = client.create(&seed_person()).await.unwrap_err();
    assert!(
        matches!(again.kind, IdentityErrorKind::AlreadyExists(_)),
        "{again}"
    );
    let refused = client.find("jdoe@example.com").await.unwrap_err();
    assert!(
        matches!(refused.kind, IdentityErrorKind::Auth(_)),
        "{refused}"
    );
    assert!(
        refused.to_string().contains("jdoe@example.com"),
        "{refused}"
    );

    // What was sent is what the recording holds, request for request.
    let sent = replay.sent();
    assert_eq!(sent.len(), replay.exchanges().len());
    for (request, recorded) in sent.iter().zip(replay.exchanges()) {
        assert_eq!(request.method, recorded.method);
        if let Some(body) = &recorded.request {
            assert_eq!(
                request.body.as_ref(),
                Some(body),
                "{} {}",
                request.method,
                request.url
            );
        }
    }
    assert_eq!(sent[1].method, Method::POST);
    assert!(
        !format!("{client:?}").contains("recorded-token"),
        "the token stays out of Debug"
    );
}

#[test]
fn a_token_near_its_expiry_is_warned_about() {
    let replay = Arc::new(
        JsonReplay::from_file(&common::repo_root().join("fixtures/identity/seed-attributes.json"))
            .unwrap(),
    );
    let now = SystemTime::now();
    let client = |days: u64| {
        IdentityClient::new("https://x", "org", Secret::new("t"), replay.clone())
            .token_expires(now + Duration::from_secs(days * 86_400))
    };
    assert_eq!(client(200).token_warning(now), None);
    let soon = client(10).token_warning(now).unwrap();
    assert!(soon.contains("expires in"), "{soon}");
    let gone = IdentityClient::new("https://x", "org", Secret::new("t"), replay.clone())
        .token_expires(now - Duration::from_secs(60))
        .token_warning(now)
        .unwrap();
    assert!(gone.contains("expired"), "{gone}");
}

#[test]
fn person_bodies_carry_the_seed_attributes_and_user_type() {
    let body = seed_person().to_json();
    assert_eq!(
        body,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "jdoe@example.com",
            "active": true,
            "externalId": "00u1ab2cd3EF4gh5i6j7",
            "displayName": "Jane Doe",
            "name": {"givenName": "Jane", "familyName": "Doe"},
            "emails": [{"value": "jdoe@example.com", "type": "work"}],
            "title": "Engineer",
            "userType": "user"
        })
    );
    // An email change also moves the userName (Webex keeps them equal).
    let change: FlatUser = [(FlatKey::new(Attribute::Email), text("new@example.com"))]
        .into_iter()
        .collect();
    assert_eq!(
        patch_ops(&change),
        vec![
            ("userName".to_owned(), json!("new@example.com")),
            (
                "emails[type eq \"work\"].value".to_owned(),
                json!("new@example.com")
            ),
        ]
    );
}

#[cfg(all(feature = "sim", feature = "https"))]
mod against_the_simulator {
    use super::*;
    use wbxprov::identity::transport::HttpsJson;
    use wbxprov::sim::{self, DEFAULT_IDENTITY_TOKEN, SimConfig, Simulator, default_profile};
    use wbxprov::site::{ControlHub, SiteProfile};

    pub const ORG: &str = "a35bfbc6-ccbd-4a17-a488-72gf46c5420c";

    pub fn control_hub_profile() -> SiteProfile {
        let mut profile = default_profile();
        profile.control_hub = Some(ControlHub { org_id: ORG.into() });
        profile.control_hub_managed = true;
        profile
    }

    fn client(base: &str, token: &str) -> IdentityClient {
        let https = HttpsJson::new(Duration::from_secs(5), Duration::from_secs(10)).unwrap();
        IdentityClient::new(base, ORG, Secret::new(token), Arc::new(https))
            .retry(common::fast_retries().retry)
    }

    #[tokio::test]
    async fn people_created_in_the_organisation_are_site_users() {
        let mut config = SimConfig::new(control_hub_profile());
        config.identity_429_every = Some(3);
        config.identity_retry_after = 0;
        let sim = Simulator::new(config, Box::new(sim::store::Memory)).unwrap();
        let site = sim::serve(sim, sim::ServeOptions::default()).await.unwrap();
        let identity = client(&site.identity_url, DEFAULT_IDENTITY_TOKEN);
        let xml = wbxprov::client::Client::builder("sim", wbxprov::sim::default_admin())
            .endpoint(&site.url)
            .options(common::fast_retries())
            .build()
            .unwrap();

        assert_eq!(identity.find("jdoe@example.com").await.unwrap(), None);
        let created = identity.create(&seed_person()).await.unwrap();
        let id = created.id.clone().unwrap();
        let found = identity.find("JDOE@example.com").await.unwrap().unwrap();
        assert_eq!(found.id, created.id);
        for p in [&created, &found] {
            assert_eq!(p.user_name(), "jdoe@example.com");
            assert_eq!(p.display_name.as_deref(), Some("Jane Doe"));
            assert_eq!(p.external_id.as_deref(), Some("00u1ab2cd3EF4gh5i6j7"));
            assert_eq!(get(p, Attribute::FirstName), Some(&text("Jane")));
            assert_eq!(get(p, Attribute::LastName), Some(&text("Doe")));
            assert_eq!(get(p, Attribute::Title), Some(&text("Engineer")));
            assert!(p.active());
        }
        // The person is a site user.
        let on_site = xml.get_user("jdoe@example.com").await.unwrap().to_flat();
        assert_eq!(
            on_site.get(&FlatKey::new(Attribute::Email)),
            Some(&text("jdoe@example.com"))
        );
        assert_eq!(
            on_site.get(&FlatKey::new(Attribute::Title)),
            Some(&text("Engineer"))
        );

        let change: FlatUser = [
            (FlatKey::new(Attribute::Title), text("Manager")),
            (FlatKey::new(Attribute::LastName), text("Roe")),
        ]
        .into_iter()
        .collect();
        let updated = identity
            .update(&id, "jdoe@example.com", &patch_ops(&change))
            .await
            .unwrap();
        assert_eq!(get(&updated, Attribute::Title), Some(&text("Manager")));
        assert_eq!(get(&updated, Attribute::LastName), Some(&text("Roe")));
        assert!(
            !identity
                .set_active(&id, "jdoe@example.com", false)
                .await
                .unwrap()
                .active()
        );
        let on_site = xml.get_user("jdoe@example.com").await.unwrap().to_flat();
        assert_eq!(
            on_site.get(&FlatKey::new(Attribute::Active)),
            Some(&text("DEACTIVATED"))
        );
        assert!(
            identity
                .set_active(&id, "jdoe@example.com", true)
                .await
                .unwrap()
                .active()
        );

        let twice = identity.create(&seed_person()).await.unwrap_err();
        assert!(
            matches!(twice.kind, IdentityErrorKind::AlreadyExists(_)),
            "{twice}"
        );
        assert_eq!(
            site.simulator.user_count(),
            1,
            "one person, however often POSTed"
        );
        assert!(
            site.simulator.identity_calls("GET") + site.simulator.identity_calls("PATCH") >= 5,
            "429s were answered and retried"
        );
        let refused = client(&site.identity_url, "wrong")
            .find("x@example.com")
            .await
            .unwrap_err();
        assert!(
            matches!(refused.kind, IdentityErrorKind::Auth(_)),
            "{refused}"
        );
        assert_eq!(site.simulator.identity_via_xml(), 0);
    }
}

/// A refused identity call keeps the answer's `TrackingID` (as a REST error
/// does), shown in its message and so in the sync report's error
/// (fixtures/rest/identity-400.json).
#[tokio::test]
async fn a_refused_identity_call_keeps_its_tracking_id() {
    let path = common::repo_root().join("fixtures/rest/identity-400.json");
    let replay = Arc::new(JsonReplay::from_file(&path).unwrap());
    let client = IdentityClient::new(
        wbxprov::identity::DEFAULT_BASE_URL,
        "a35bfbc6-ccbd-4a17-a488-72gf46c5420c",
        Secret::new("recorded-token"),
        replay,
    )
    .retry(common::fast_retries().retry);
    let e = client.create(&seed_person()).await.unwrap_err();
    assert!(matches!(e.kind, IdentityErrorKind::Invalid(_)), "{e:?}");
    assert_eq!(e.tracking_id.as_deref(), Some("ROUTER_6571A1B2-0401"));
    let shown = e.to_string();
    assert!(shown.contains("jdoe@example.com"), "{shown}");
    assert!(shown.contains("userType is required"), "{shown}");
    assert_eq!(
        shown.matches("(trackingId ROUTER_6571A1B2-0401)").count(),
        1,
        "once: {shown}"
    );
}
