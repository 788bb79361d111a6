//! Issue 21: the SCIM front makes the fewest site calls each operation
//! allows (README "The SCIM 2.0 front", calls per operation), counted by the
//! simulated site; and every answer built without a read equals what a
//! following GET returns.
#![cfg(all(feature = "scim", feature = "sim"))]

mod common;

use std::sync::Arc;

use serde_json::{Value as Json, json};
use wbxprov::Secret;
use wbxprov::client::Client;
use wbxprov::ops::Operation;
use wbxprov::scim::Service;
use wbxprov::scim::http::{ScimHandle, serve};
use wbxprov::scim::ids::IdStore;
use wbxprov::scim::user::{CORE, ENTERPRISE, EXTENSION, PATCH};
use wbxprov::sim::{self, SimHandle, default_profile};

const TOKEN: &str = "s3cret-scim-token-for-the-tests-0123456789";

/// The XML API operations a SCIM request can cause (AuthenticateUser aside:
/// the session ticket is the client's business, not the operation's).
const COUNTED: [Operation; 5] = [
    Operation::GetUser,
    Operation::CreateUser,
    Operation::SetUser,
    Operation::DelUser,
    Operation::LstsummaryUser,
];

struct Front {
    site: SimHandle,
    scim: ScimHandle,
    http: reqwest::Client,
}

async fn front() -> Front {
    front_with(|service| service).await
}

/// A front whose Users service is configured by `configure`.
async fn front_with(configure: impl FnOnce(Service) -> Service + Send + 'static) -> Front {
    let profile = default_profile();
    let site = sim::start(profile.clone()).await.unwrap();
    let client = Arc::new(
        Client::builder("sim", wbxprov::sim::default_admin())
            .endpoint(&site.url)
            .options(common::fast_retries())
            .validate_with(profile)
            .build()
            .unwrap(),
    );
    let ids = IdStore::open(None).unwrap();
    let scim = serve(
        "127.0.0.1:0".parse().unwrap(),
        Secret::new(TOKEN),
        move |url| configure(Service::new(client, ids, url)),
    )
    .await
    .unwrap();
    Front {
        site,
        scim,
        http: reqwest::Client::new(),
    }
}

/// Site calls by operation, those never made left out.
type Calls = Vec<(Operation, u64)>;

impl Front {
    fn counts(&self) -> Vec<u64> {
        COUNTED
            .iter()
            .map(|op| self.site.simulator.calls(*op))
            .collect()
    }

    async fn call(&self, method: &str, path: &str, body: Option<&Json>) -> (u16, Json) {
        let url = format!("{}{path}", self.scim.url);
        common::http::scim_call(&self.http, &url, TOKEN, method, body).await
    }

    /// The request's answer and the site calls it made.
    async fn counted(&self, method: &str, path: &str, body: Option<&Json>) -> (u16, Json, Calls) {
        let before = self.counts();
        let (status, answer) = self.call(method, path, body).await;
        let calls = COUNTED
            .iter()
            .zip(self.counts().iter().zip(before))
            .map(|(op, (after, before))| (*op, after - before))
            .filter(|(_, n)| *n > 0)
            .collect();
        (status, answer, calls)
    }

    async fn create(&self, user_name: &str) -> String {
        let (status, created) = self.call("POST", "/Users", Some(&user(user_name))).await;
        assert_eq!(status, 201, "{created}");
        created["id"].as_str().unwrap().to_owned()
    }

    /// `answer` equals what a GET of the same user returns now, `meta`
    /// included.
    async fn assert_answer_is_get(&self, answer: &Json) {
        let id = answer["id"].as_str().expect("an id");
        let (status, got) = self.call("GET", &format!("/Users/{id}"), None).await;
        assert_eq!(status, 200, "{got}");
        assert_eq!(answer, &got, "the answer differs from a following GET");
    }
}

fn user(user_name: &str) -> Json {
    json!({
        "schemas": [CORE, ENTERPRISE],
        "userName": user_name,
        "externalId": format!("ext-{user_name}"),
        "name": {"givenName": "Ann", "familyName": "Lee"},
        "emails": [{"value": format!("{user_name}@example.com"), "type": "work"}],
        "phoneNumbers": [{"value": "+14155551212", "type": "work"}],
        "title": "Engineer",
        "active": true,
        ENTERPRISE: {"department": "Tours"}
    })
}

#[tokio::test]
async fn get_by_id_is_one_getuser() {
    let front = front().await;
    let id = front.create("get1").await;
    let (status, answer, calls) = front.counted("GET", &format!("/Users/{id}"), None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(calls, vec![(Operation::GetUser, 1)]);
}

#[tokio::test]
async fn post_is_one_createuser_and_one_read_and_answers_as_a_get() {
    let front = front().await;
    let (status, answer, calls) = front.counted("POST", "/Users", Some(&user("post1"))).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        calls,
        vec![(Operation::GetUser, 1), (Operation::CreateUser, 1)]
    );
    front.assert_answer_is_get(&answer).await;
}

#[tokio::test]
async fn post_of_a_taken_username_is_409_after_one_call() {
    let front = front().await;
    front.create("taken1").await;
    let (status, answer, calls) = front.counted("POST", "/Users", Some(&user("taken1"))).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["scimType"], "uniqueness", "{answer}");
    assert!(
        answer["detail"].as_str().unwrap().contains("taken1"),
        "{answer}"
    );
    assert_eq!(calls.iter().map(|(_, n)| n).sum::<u64>(), 1, "{calls:?}");
}

#[tokio::test]
async fn patch_is_one_read_and_one_setuser_and_answers_as_a_get() {
    let front = front().await;
    let id = front.create("patch1").await;
    let body = json!({"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "title", "value": "Manager"},
        {"op": "replace", "path": "name.familyName", "value": "Lin"},
        {"op": "add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+41795551313"},
        {"op": "remove", "path": format!("{ENTERPRISE}:department")},
        {"op": "replace", "value": {(EXTENSION): {"privilegeHQvideo": true}}}
    ]});
    let (status, answer, calls) = front
        .counted("PATCH", &format!("/Users/{id}"), Some(&body))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["title"], "Manager", "{answer}");
    assert_eq!(answer["name"]["familyName"], "Lin", "{answer}");
    assert_eq!(
        calls,
        vec![(Operation::GetUser, 1), (Operation::SetUser, 1)]
    );
    front.assert_answer_is_get(&answer).await;
}

#[tokio::test]
async fn a_patch_renaming_the_user_answers_as_a_get() {
    let front = front().await;
    let id = front.create("rename1").await;
    let body = json!({"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "userName", "value": "renamed1"}
    ]});
    let (status, answer, calls) = front
        .counted("PATCH", &format!("/Users/{id}"), Some(&body))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["userName"], "renamed1", "{answer}");
    assert_eq!(
        calls,
        vec![(Operation::GetUser, 1), (Operation::SetUser, 1)]
    );
    front.assert_answer_is_get(&answer).await;
}

#[tokio::test]
async fn deactivating_and_reactivating_by_patch_answer_as_a_get() {
    let front = front().await;
    let id = front.create("active1").await;
    let off = json!({"schemas": [PATCH], "Operations": [
        {"op": "replace", "value": {"active": false, "title": "Gone"}}
    ]});
    let (status, answer, calls) = front
        .counted("PATCH", &format!("/Users/{id}"), Some(&off))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["active"], false, "{answer}");
    // SetUser for the title, then DelUser: the order the site needs.
    assert_eq!(
        calls,
        vec![
            (Operation::GetUser, 1),
            (Operation::SetUser, 1),
            (Operation::DelUser, 1)
        ]
    );
    front.assert_answer_is_get(&answer).await;
    let on = json!({"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "active", "value": true}
    ]});
    let (status, answer, calls) = front
        .counted("PATCH", &format!("/Users/{id}"), Some(&on))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(
        calls,
        vec![(Operation::GetUser, 1), (Operation::SetUser, 1)]
    );
    front.assert_answer_is_get(&answer).await;
}

#[tokio::test]
async fn put_is_one_read_and_one_setuser_and_answers_as_a_get() {
    let front = front().await;
    let id = front.create("put1").await;
    let mut body = user("put1");
    body["title"] = json!("Director");
    body["displayName"] = json!("Ann the Director");
    body["phoneNumbers"] = json!([{"value": "+41795551313", "type": "mobile"}]);
    let (status, answer, calls) = front
        .counted("PUT", &format!("/Users/{id}"), Some(&body))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["title"], "Director", "{answer}");
    assert_eq!(
        calls,
        vec![(Operation::GetUser, 1), (Operation::SetUser, 1)]
    );
    front.assert_answer_is_get(&answer).await;
}

#[tokio::test]
async fn an_unchanged_put_is_one_read() {
    let front = front().await;
    let id = front.create("same1").await;
    let (status, answer, calls) = front
        .counted("PUT", &format!("/Users/{id}"), Some(&user("same1")))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(calls, vec![(Operation::GetUser, 1)]);
    front.assert_answer_is_get(&answer).await;
}

#[tokio::test]
async fn a_list_page_is_one_listing_and_a_getuser_per_listed_user() {
    let front = front().await;
    for n in 0..5 {
        front.create(&format!("list{n}")).await;
    }
    let (status, answer, calls) = front
        .counted("GET", "/Users?startIndex=2&count=2", None)
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["totalResults"], 5, "{answer}");
    assert_eq!(answer["Resources"].as_array().unwrap().len(), 2, "{answer}");
    assert_eq!(
        calls,
        vec![(Operation::GetUser, 2), (Operation::LstsummaryUser, 1)]
    );
}

#[tokio::test]
async fn a_list_page_asking_only_for_listed_attributes_makes_no_getuser() {
    let front = front().await;
    for n in 0..4 {
        front.create(&format!("few{n}")).await;
    }
    let attributes = "userName,name,displayName,emails,active,externalId";
    let (status, answer, calls) = front
        .counted(
            "GET",
            &format!("/Users?count=3&attributes={attributes}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(calls, vec![(Operation::LstsummaryUser, 1)]);
    let listed = answer["Resources"].as_array().unwrap();
    assert_eq!(listed.len(), 3, "{answer}");
    // Each as a GET with the same projection shows it.
    for resource in listed {
        let id = resource["id"].as_str().unwrap();
        let (_, got) = front
            .call("GET", &format!("/Users/{id}?attributes={attributes}"), None)
            .await;
        assert_eq!(resource, &got);
    }
    // An attribute the listing lacks: a GetUser per user of the page (the
    // index built by the first list answers the rest: no LstsummaryUser).
    let (status, answer, calls) = front
        .counted("GET", "/Users?count=3&attributes=userName,title", None)
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["Resources"][0]["title"], "Engineer", "{answer}");
    assert_eq!(calls, vec![(Operation::GetUser, 3)]);
}

/// Issue 21: lists come from the index of the site's users, built by the
/// first list; the front's own writes keep it in step without a call.
#[tokio::test]
async fn lists_after_the_first_come_from_the_index_which_follows_the_fronts_writes() {
    let front = front().await;
    for n in ["ann", "anna", "bob"] {
        front.create(n).await;
    }
    let listed = "attributes=userName,name";
    let (status, answer, calls) = front
        .counted("GET", &format!("/Users?{listed}"), None)
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["totalResults"], 3, "{answer}");
    assert_eq!(calls, vec![(Operation::LstsummaryUser, 1)]);
    // A rename and a new user through the front: listed, no listing call.
    let bob = answer["Resources"][2]["id"].as_str().unwrap().to_owned();
    let rename = json!({"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "userName", "value": "annika"}
    ]});
    let (status, renamed) = front
        .call("PATCH", &format!("/Users/{bob}"), Some(&rename))
        .await;
    assert_eq!(status, 200, "{renamed}");
    front.create("carl").await;
    let (status, answer, calls) = front
        .counted(
            "GET",
            &format!("/Users?{listed}&filter=userName%20sw%20%22AN%22&startIndex=2&count=2"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(calls, vec![]);
    assert_eq!(answer["totalResults"], 3, "{answer}");
    let names: Vec<&str> = answer["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["anna", "annika"], "{answer}");
    let (_, all, calls) = front
        .counted("GET", &format!("/Users?{listed}"), None)
        .await;
    assert_eq!(calls, vec![]);
    assert_eq!(all["totalResults"], 4, "{all}");
}

/// With `index_max_age` zero every list starts a rebuild of the index in
/// the background (answering from the index it has), so a user made on the
/// site outside the front is listed by a list soon after.
#[tokio::test]
async fn an_index_past_its_age_is_rebuilt_from_the_site() {
    let front = front_with(|service| service.index_max_age(std::time::Duration::ZERO)).await;
    front.create("ann").await;
    let (status, _, calls) = front
        .counted("GET", "/Users?attributes=userName", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        calls,
        vec![(Operation::LstsummaryUser, 1)],
        "the first list builds"
    );
    let mut bob = wbxprov::FlatUser::new();
    bob.insert(
        "webExId".parse().unwrap(),
        wbxprov::Value::Text("bob".into()),
    );
    bob.insert(
        "email".parse().unwrap(),
        wbxprov::Value::Text("bob@example.com".into()),
    );
    bob.insert(
        "password".parse().unwrap(),
        wbxprov::Value::Secret(Secret::new("Us3r-Pa55word!")),
    );
    common::sim_client(&front.site)
        .create_user(bob)
        .await
        .unwrap();
    let mut listed = 0;
    for _ in 0..50 {
        let (_, answer) = front.call("GET", "/Users?attributes=userName", None).await;
        listed = answer["totalResults"].as_u64().unwrap();
        if listed == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(listed, 2, "bob, made on the site, is listed");
}

/// Issue 21: a filter on what the user list lacks needs a GetUser per
/// candidate; beyond the cap it is refused (400 `tooMany`, naming the
/// attribute and the cap) after the listing alone, never a GetUser per
/// site user.
#[tokio::test]
async fn a_filter_needing_more_reads_than_the_cap_is_too_many_without_getusers() {
    let front = front_with(|service| service.per_user_read_cap(2)).await;
    for n in 0..3 {
        front.create(&format!("cap{n}")).await;
    }
    let (status, answer, calls) = front
        .counted("GET", "/Users?filter=title%20co%20%22Eng%22", None)
        .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["scimType"], "tooMany", "{answer}");
    let detail = answer["detail"].as_str().unwrap();
    assert!(detail.contains("title"), "{detail}");
    assert!(
        detail.contains("3 users") && detail.contains("2"),
        "{detail}"
    );
    assert_eq!(calls, vec![(Operation::LstsummaryUser, 1)]);
}

/// An indexed comparison among a filter's `and` terms narrows the users to
/// read: `emails.value sw` leaves one candidate for the `title` test, within
/// a cap the whole site exceeds.
#[tokio::test]
async fn an_indexed_comparison_narrows_the_users_a_filter_reads() {
    let front = front_with(|service| service.per_user_read_cap(1)).await;
    for n in ["ann", "bob", "carl"] {
        front.create(n).await;
    }
    let filter = "emails.value%20sw%20%22BOB%40%22%20and%20title%20eq%20%22Engineer%22";
    let (status, answer, calls) = front
        .counted("GET", &format!("/Users?filter={filter}"), None)
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["totalResults"], 1, "{answer}");
    assert_eq!(answer["Resources"][0]["userName"], "bob", "{answer}");
    assert_eq!(
        calls,
        vec![(Operation::GetUser, 1), (Operation::LstsummaryUser, 1)]
    );
}

#[tokio::test]
async fn a_filter_needing_reads_within_the_cap_reads_each_candidate() {
    let front = front_with(|service| service.per_user_read_cap(3)).await;
    for n in 0..3 {
        front.create(&format!("cap{n}")).await;
    }
    let (status, answer, calls) = front
        .counted("GET", "/Users?filter=title%20co%20%22Eng%22", None)
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["totalResults"], 3, "{answer}");
    assert_eq!(
        calls,
        vec![(Operation::GetUser, 3), (Operation::LstsummaryUser, 1)]
    );
}

#[tokio::test]
async fn a_patch_in_idp_vocabularies_answers_as_a_get() {
    let front = front().await;
    let id = front.create("vocab1").await;
    let body = json!({"schemas": [PATCH], "Operations": [
        {"op": "add", "value": {
            "timezone": "Europe/Zurich",
            "preferredLanguage": "fr-FR",
            "nickName": "Annie",
            "name.middleName": "Q"
        }},
        {"op": "replace", "path": "phoneNumbers[type eq \"work\"].value", "value": "tel:+1-415-555-1313"},
        {"op": "replace", "path": format!("{ENTERPRISE}:costCenter"), "value": "4130"}
    ]});
    let (status, answer, calls) = front
        .counted("PATCH", &format!("/Users/{id}"), Some(&body))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["timezone"], "Europe/Zurich", "{answer}");
    // A time zone and a language: the site keeps timeZoneID/timeZoneWithDST
    // and languageID in step with them, so the answer is read after the write.
    assert_eq!(
        calls,
        vec![(Operation::GetUser, 2), (Operation::SetUser, 1)]
    );
    front.assert_answer_is_get(&answer).await;
}
