//! The webexapis.com licences and session-types clients through exchanges
//! written from the public API reference (fixtures/rest/README.md): paging
//! by Link, match by siteUrl never by name, 429 waited out, 206 partial,
//! 400 with its errorCodes, trackingId kept in every error.

mod common;

use std::sync::Arc;

use wbxprov::Secret;
use wbxprov::rest::licences::{Change, LicenceChange, LicenceClient, PersonRef, SiteType};
use wbxprov::rest::meeting::MeetingConfigClient;
use wbxprov::rest::{DEFAULT_BASE_URL, JsonReplay, RestErrorKind};

fn replay(name: &str) -> Arc<JsonReplay> {
    let path = common::repo_root().join("fixtures/rest").join(name);
    Arc::new(JsonReplay::from_file(&path).unwrap())
}

/// Every request sent carries the recorded body, where one is recorded.
fn assert_sent_as_recorded(replay: &JsonReplay) {
    let sent = replay.sent();
    for (request, recorded) in sent.iter().zip(replay.exchanges()) {
        if let Some(body) = &recorded.request {
            assert_eq!(request.body.as_ref(), Some(body), "{}", request.url);
        }
    }
}

const SITE_LICENCE: &str = "Y2lzY29zcGFyazovL3VzL0xJQ0VOU0UvZXhhbXBsZS1tZWV0aW5ncw";

#[tokio::test]
async fn the_site_licence_is_found_by_its_site_across_pages_not_by_its_name() {
    let replay = replay("licences-list.json");
    let client = LicenceClient::new(DEFAULT_BASE_URL, Secret::new("t"), replay.clone())
        .retry(common::fast_retries().retry);
    // Two licences are named "Webex Meetings": only the siteUrl tells them apart.
    let licence = client
        .site_licence("https://Example.webex.com/")
        .await
        .unwrap()
        .expect("the site's licence, on the second page");
    assert_eq!(licence.id, SITE_LICENCE);
    assert_eq!(licence.site_type, Some(SiteType::ControlHubManaged));
    assert_eq!(licence.free_units(), Some(2));
    assert_eq!(replay.sent().len(), 2, "the Link's next page was followed");
}

#[tokio::test]
async fn assignments_wait_out_429_and_report_206_and_400_with_their_codes() {
    let replay = replay("licences-assign.json");
    let client = LicenceClient::new(DEFAULT_BASE_URL, Secret::new("t"), replay.clone())
        .retry(common::fast_retries().retry);
    let host = LicenceChange {
        person: PersonRef::Email("jdoe@example.com".into()),
        licences: vec![(SITE_LICENCE.into(), Change::Add)],
        attendee_sites: vec![("other.webex.com".into(), Change::Add)],
    };
    let done = client.assign(&host).await.unwrap();
    assert!(done.is_complete(), "{done:?}");
    assert_eq!(done.licences, [SITE_LICENCE]);
    assert_eq!(done.tracking_id.as_deref(), Some("ROUTER_6571A1B2-0102"));

    let partial = LicenceChange {
        person: PersonRef::Email("asmith@example.com".into()),
        licences: vec![(SITE_LICENCE.into(), Change::Add)],
        attendee_sites: vec![("nosuchsite.webex.com".into(), Change::Add)],
    };
    let half = client.assign(&partial).await.unwrap();
    assert!(half.partial && !half.is_complete());
    assert_eq!(half.not_applied, ["nosuchsite.webex.com"]);
    assert_eq!(half.errors[0].error_code.as_deref(), Some("400216"));

    let unknown = LicenceChange {
        person: PersonRef::Email("asmith@example.com".into()),
        licences: vec![("bm8tc3VjaC1saWNlbmNl".into(), Change::Add)],
        attendee_sites: vec![],
    };
    let refused = client.assign(&unknown).await.unwrap_err();
    match &refused.kind {
        RestErrorKind::Invalid { errors, .. } => {
            assert_eq!(errors[0].error_code.as_deref(), Some("400000"))
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_eq!(refused.tracking_id.as_deref(), Some("ROUTER_6571A1B2-0104"));
    let said = refused.to_string();
    for part in [
        "asmith@example.com",
        "400000",
        "ROUTER_6571A1B2-0104",
        "assign",
    ] {
        assert!(said.contains(part), "{said}");
    }
    assert_eq!(replay.sent().len(), replay.exchanges().len());
    assert_sent_as_recorded(&replay);
}

#[tokio::test]
async fn session_types_are_replaced_read_back_and_a_missing_user_is_not_found() {
    let replay = replay("session-types.json");
    let client = MeetingConfigClient::new(DEFAULT_BASE_URL, Secret::new("t"), replay.clone())
        .retry(common::fast_retries().retry);
    let jdoe = PersonRef::Email("jdoe@example.com".into());
    let set = client
        .set_session_types("example.webex.com", &jdoe, &[3, 214])
        .await
        .unwrap();
    assert_eq!(set.ids(), [3, 214]);
    let read = client
        .session_types("example.webex.com", &jdoe)
        .await
        .unwrap();
    assert_eq!(read, set);
    let gone = client
        .set_session_types("example.webex.com", &jdoe, &[3])
        .await
        .unwrap_err();
    assert!(matches!(gone.kind, RestErrorKind::NotFound(404)), "{gone}");
    assert!(gone.to_string().contains("ROUTER_6571A1B2-0203"), "{gone}");
    // The first PUT's body is the recorded one; the last's differs on purpose.
    assert_eq!(
        replay.sent()[0].body.as_ref(),
        replay.exchanges()[0].request.as_ref()
    );
}

#[tokio::test]
async fn the_token_stays_out_of_debug_and_errors() {
    let replay = replay("session-types.json");
    let client = MeetingConfigClient::new(
        DEFAULT_BASE_URL,
        Secret::new("PLANTED-token"),
        replay.clone(),
    );
    assert!(!format!("{client:?}").contains("PLANTED"));
    let licences = LicenceClient::new(DEFAULT_BASE_URL, Secret::new("PLANTED-token"), replay);
    let e = licences.list().await.unwrap_err();
    assert!(!format!("{e} {e:?}").contains("PLANTED"));
}

/// Tracking codes through the reference's own examples
/// (fixtures/rest/tracking-codes.json): the site's names read, a user's codes
/// set by name, and a name the site does not define refused with the 400's
/// description and the body's trackingId kept.
#[tokio::test]
async fn tracking_codes_are_set_by_the_sites_names_and_a_400_keeps_its_tracking_id() {
    let replay = replay("tracking-codes.json");
    let client = MeetingConfigClient::new(DEFAULT_BASE_URL, Secret::new("t"), replay.clone())
        .retry(common::fast_retries().retry);
    let names = client
        .site_tracking_codes("example.webex.com")
        .await
        .unwrap();
    let names: Vec<(&str, &str)> = names
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_str()))
        .collect();
    assert_eq!(names, [("1", "Department"), ("2", "Division")]);
    let john = PersonRef::Email("john.andersen@example.com".into());
    let codes = [
        ("Department".to_owned(), "Sales".to_owned()),
        ("Division".to_owned(), "Part-time".to_owned()),
    ];
    let set = client
        .set_tracking_codes("example.webex.com", &john, &codes)
        .await
        .unwrap();
    assert_eq!(set.codes, codes);
    let e = client
        .set_tracking_codes(
            "example.webex.com",
            &john,
            &[("1".to_owned(), "Sales".to_owned())],
        )
        .await
        .unwrap_err();
    match &e.kind {
        RestErrorKind::Invalid { errors, .. } => {
            assert_eq!(errors[0].description, "Tracking code of '1' is not found.");
            assert_eq!(errors[0].error_code, None, "the reference shows none");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.tracking_id.as_deref(),
        Some("6B41C672FF384F50B0F368E09001496B_1661404838840")
    );
    assert!(e.to_string().contains("john.andersen@example.com"), "{e}");
    assert_sent_as_recorded(&replay);
}
