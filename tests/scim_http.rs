//! The SCIM 2.0 front over HTTP, backed by the simulator: Okta's SCIM 2.0
//! spec-test steps (identity-providers.md §1c, §1d), Entra's request shapes
//! (§2a, §2b), bearer-token authentication, validation, persistence of ids.
#![cfg(all(feature = "scim", feature = "sim"))]

mod common;

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value as Json, json};
use wbxprov::Secret;
use wbxprov::client::Client;
use wbxprov::schema::Feature;
use wbxprov::scim::Service;
use wbxprov::scim::groups::GROUP;
use wbxprov::scim::http::{ScimHandle, serve};
use wbxprov::scim::ids::IdStore;
use wbxprov::scim::user::{CORE, ENTERPRISE, ERROR, EXTENSION, LIST, PATCH};
use wbxprov::sim::{self, SimHandle, default_profile};
use wbxprov::site::SiteProfile;

/// At least 32 bytes, as the server requires.
const TOKEN: &str = "s3cret-scim-token-for-the-tests-0123456789";

#[path = "scim/hostile.rs"]
mod hostile;
#[cfg(feature = "cli")]
#[path = "scim/serve.rs"]
mod serve;

struct Front {
    site: SimHandle,
    scim: ScimHandle,
    client: Arc<Client>,
    http: reqwest::Client,
}

fn site_client(url: &str, profile: SiteProfile) -> Client {
    Client::builder("sim", wbxprov::sim::default_admin())
        .endpoint(url)
        .options(common::fast_retries())
        .validate_with(profile)
        .build()
        .unwrap()
}

async fn scim_for(client: Arc<Client>, state: Option<&Path>) -> ScimHandle {
    let ids = IdStore::open(state).unwrap();
    serve(
        "127.0.0.1:0".parse().unwrap(),
        Secret::new(TOKEN),
        move |url| Service::new(client, ids, url),
    )
    .await
    .unwrap()
}

async fn front(profile: SiteProfile) -> Front {
    let site = sim::start(profile.clone()).await.unwrap();
    let client = Arc::new(site_client(&site.url, profile));
    let scim = scim_for(client.clone(), None).await;
    Front {
        site,
        scim,
        client,
        http: reqwest::Client::new(),
    }
}

struct Answer {
    status: u16,
    body: Json,
    content_type: String,
    retry_after: Option<String>,
}

/// One request to the SCIM front at `base`.
async fn request(
    http: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    body: Option<&Json>,
) -> Answer {
    let url = format!("{base}{path}");
    let mut request = http
        .request(method.parse().unwrap(), &url)
        .header("User-Agent", "Okta SCIM Client 1.0.0");
    if let Some(a) = authorization {
        request = request.header("Authorization", a);
    }
    if let Some(b) = body {
        request = request
            .header("Content-Type", "application/scim+json")
            .body(b.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header("content-type").unwrap_or_default();
    let retry_after = header("retry-after");
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Json::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}: {text}"))
    };
    Answer {
        status,
        body,
        content_type,
        retry_after,
    }
}

impl Front {
    async fn send(
        &self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        body: Option<&Json>,
    ) -> Answer {
        request(
            &self.http,
            &self.scim.url,
            method,
            path,
            authorization,
            body,
        )
        .await
    }

    async fn call(&self, method: &str, path: &str, body: Option<&Json>) -> Answer {
        self.send(method, path, Some(&format!("Bearer {TOKEN}")), body)
            .await
    }

    async fn get(&self, path: &str) -> Answer {
        self.call("GET", path, None).await
    }

    /// The account state the site holds for a user.
    async fn site_active(&self, web_ex_id: &str) -> Option<String> {
        site_text(&self.site_user(web_ex_id).await, "active")
    }

    /// The site's own view of a user (GetUser through the XML API).
    async fn site_user(&self, web_ex_id: &str) -> wbxprov::FlatUser {
        self.client.get_user(web_ex_id).await.unwrap().to_flat()
    }
}

/// An HTTP client whose requests come from `ip` (any 127.x.y.z is loopback).
fn client_at(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(ip))
        .build()
        .unwrap()
}

fn site_text(user: &wbxprov::FlatUser, name: &str) -> Option<String> {
    match user.get(&name.parse().unwrap()) {
        Some(wbxprov::Value::Text(t)) => Some(t.clone()),
        _ => None,
    }
}

fn okta_user(user_name: &str) -> Json {
    json!({
        "schemas": [CORE],
        "userName": user_name,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mP@ssw0rd-Okta",
        "active": true
    })
}

fn assert_error(answer: &Answer, status: u16) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.body["schemas"], json!([ERROR]), "{}", answer.body);
    assert_eq!(answer.body["status"], json!(status.to_string()));
    assert!(
        answer.body["detail"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{}",
        answer.body
    );
}

/// Okta's "SCIM 2.0 SPEC Test" (the copy in identity-providers.md §1d), step by step.
#[tokio::test]
async fn okta_scim_2_spec_test() {
    let f = front(default_profile()).await;
    // Okta needs one user to exist before the run.
    let seeded = f
        .call("POST", "/Users", Some(&okta_user("seed@example.com")))
        .await;
    assert_eq!(seeded.status, 201, "{}", seeded.body);

    // 1. GET /Users?count=1&startIndex=1
    let list = f.get("/Users?count=1&startIndex=1").await;
    assert_eq!(list.status, 200);
    assert!(list.content_type.starts_with("application/scim+json"));
    assert_eq!(list.body["schemas"], json!([LIST]));
    for field in ["itemsPerPage", "startIndex", "totalResults"] {
        assert!(
            list.body[field].is_u64(),
            "{field} must be a number: {}",
            list.body
        );
    }
    let first = &list.body["Resources"][0];
    for path in [
        "/id",
        "/name/familyName",
        "/name/givenName",
        "/userName",
        "/active",
        "/emails/0/value",
    ] {
        assert!(
            first.pointer(path).is_some(),
            "Resources[0]{path} missing: {first}"
        );
    }
    let id = first["id"].as_str().unwrap().to_owned();

    // 2. GET /Users/{id}
    let one = f.get(&format!("/Users/{id}")).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body["id"], json!(id));
    assert_eq!(one.body["userName"], first["userName"]);

    // 3. a filter matching nobody
    let none = f
        .get("/Users?filter=userName%20eq%20%22invalid-user%40example.com%22")
        .await;
    assert_eq!(none.status, 200);
    assert_eq!(none.body["totalResults"], json!(0));
    assert_eq!(none.body["Resources"], json!([]));

    // 4. an id that does not exist
    assert_error(&f.get("/Users/010101001010101").await, 404);

    // 5. the random user of the test does not exist yet
    let user_name = "Runscope2300Lolita@atko.com";
    let probe = f
        .get(&format!(
            "/Users?filter=userName%20eq%20%22{user_name}%22&startIndex=1&count=100"
        ))
        .await;
    assert_eq!(probe.body["totalResults"], json!(0));

    // 6. POST (Okta sends application/json)
    let body = okta_user(user_name);
    let created = f
        .http
        .post(format!("{}/Users", f.scim.url))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let location = created
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let created: Json = serde_json::from_str(&created.text().await.unwrap()).unwrap();
    assert_eq!(created["active"], json!(true));
    assert_eq!(created["userName"], json!(user_name));
    assert_eq!(created["name"]["givenName"], json!("Test"));
    assert_eq!(created["name"]["familyName"], json!("User"));
    assert!(
        created["schemas"]
            .as_array()
            .unwrap()
            .contains(&json!(CORE))
    );
    let new_id = created["id"].as_str().unwrap();
    assert_eq!(location.as_deref(), created["meta"]["location"].as_str());
    assert!(
        !created.to_string().contains("1mP@ssw0rd-Okta"),
        "the password is never returned"
    );
    // On the site: the user, with the email Okta gave and the password it sent.
    let on_site = f.site_user(user_name).await;
    assert_eq!(site_text(&on_site, "email").as_deref(), Some(user_name));
    assert_eq!(site_text(&on_site, "active").as_deref(), Some("ACTIVATED"));

    // 7. GET the new user: values match
    let again = f.get(&format!("/Users/{new_id}")).await;
    assert_eq!(again.body["userName"], json!(user_name));
    assert_eq!(again.body["externalId"], json!("00ujl29u0le5T6Aj10h7"));

    // 8. the same POST again: 409, SCIM error
    let duplicate = f.call("POST", "/Users", Some(&body)).await;
    assert_error(&duplicate, 409);
    assert_eq!(duplicate.body["scimType"], json!("uniqueness"));

    // 9. userName in another case: found all the same
    let upper = f
        .get(&format!(
            "/Users?filter=userName%20eq%20%22{}%22",
            user_name.to_uppercase()
        ))
        .await;
    assert_eq!(upper.status, 200);
    assert_eq!(upper.body["totalResults"], json!(1));
    assert_eq!(upper.body["Resources"][0]["id"], json!(new_id));

    // 10. GET /Groups answers 200 (no group pushed yet: an empty list)
    let groups = f.get("/Groups").await;
    assert_eq!(groups.status, 200);
    assert_eq!(groups.body["totalResults"], json!(0));

    // 11. a bad token: 401, Error schema, status "401"
    assert_error(
        &f.send("GET", "/Users", Some("Bearer not-the-token"), None)
            .await,
        401,
    );

    // 12. a made-up id: 404, status "404"
    assert_error(&f.get("/Users/00919288221112222").await, 404);
}

/// Okta's update paths: GET then PUT the full object; PATCH to deactivate
/// (no path, lowercase op) and reactivate; import pages by startIndex.
#[tokio::test]
async fn okta_updates_deactivation_and_import() {
    let f = front(default_profile()).await;
    let created = f
        .call("POST", "/Users", Some(&okta_user("ann@example.com")))
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();

    // PUT with the full object: the names change, extension settings it does not carry stay.
    f.client
        .set_user(
            "ann@example.com",
            [(
                "privilegeHQvideo".parse().unwrap(),
                wbxprov::Value::Bool(true),
            )]
            .into_iter()
            .collect(),
        )
        .await
        .unwrap();
    let mut full = f.get(&format!("/Users/{id}")).await.body;
    full["name"]["familyName"] = json!("Smith");
    full["title"] = json!("Engineer");
    full.as_object_mut().unwrap().remove(EXTENSION);
    let put = f.call("PUT", &format!("/Users/{id}"), Some(&full)).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["name"]["familyName"], json!("Smith"));
    assert_eq!(put.body["title"], json!("Engineer"));
    let on_site = f.site_user("ann@example.com").await;
    assert_eq!(site_text(&on_site, "lastName").as_deref(), Some("Smith"));
    assert_eq!(
        on_site.get(&"privilegeHQvideo".parse().unwrap()),
        Some(&wbxprov::Value::Bool(true)),
        "PUT leaves the Meetings settings it does not carry"
    );

    // Deactivate as Okta does: replace, no path, value map.
    let off =
        json!({"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": false}}]});
    let patched = f.call("PATCH", &format!("/Users/{id}"), Some(&off)).await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["active"], json!(false));
    assert_eq!(
        f.site_active("ann@example.com").await.as_deref(),
        Some("DEACTIVATED")
    );
    // Inactive users are still listed and found.
    let found = f
        .get("/Users?filter=userName%20eq%20%22ann%40example.com%22")
        .await;
    assert_eq!(found.body["Resources"][0]["active"], json!(false));
    let on =
        json!({"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": true}}]});
    let patched = f.call("PATCH", &format!("/Users/{id}"), Some(&on)).await;
    assert_eq!(patched.body["active"], json!(true));
    assert_eq!(
        f.site_active("ann@example.com").await.as_deref(),
        Some("ACTIVATED")
    );

    // Import: pages by startIndex and count, in a stable order.
    for i in 0..6 {
        let r = f
            .call(
                "POST",
                "/Users",
                Some(&okta_user(&format!("user{i}@example.com"))),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let page = f
            .get(&format!("/Users?startIndex={start}&count=3"))
            .await
            .body;
        assert_eq!(page["totalResults"], json!(7));
        assert_eq!(page["startIndex"], json!(start));
        let items = page["Resources"].as_array().unwrap().clone();
        assert_eq!(page["itemsPerPage"], json!(items.len()));
        if items.is_empty() {
            break;
        }
        seen.extend(
            items
                .iter()
                .map(|u| u["userName"].as_str().unwrap().to_owned()),
        );
        start += 3;
    }
    let mut sorted = seen.clone();
    sorted.sort_by_key(|s| s.to_lowercase());
    assert_eq!(seen, sorted, "a stable order across pages");
    assert_eq!(seen.len(), 7);
    let counted = f.get("/Users?count=0").await.body;
    assert_eq!(counted["totalResults"], json!(7));
    assert_eq!(counted["Resources"], json!([]));
}

/// Entra's shapes (§2a, §2b): filters on userName and externalId (and
/// `and`), capitalised ops, the string "False", dotted value maps, emails by
/// type, DELETE 204, Test Connection with a random id.
#[tokio::test]
async fn entra_request_shapes() {
    let f = front(default_profile()).await;
    // Test Connection: a random GUID on the matching attribute: 200, empty ListResponse.
    let probe = f
        .get("/Users?filter=userName%20eq%20%227a2f8e40-8b9e-4e52-a1f3-9d4f0c8e5b21%22")
        .await;
    assert_eq!(probe.status, 200);
    assert_eq!(probe.body["schemas"], json!([LIST]));
    assert_eq!(probe.body["totalResults"], json!(0));

    let create = json!({
        "schemas": [CORE, ENTERPRISE],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee@contoso.com",
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@contoso.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": []
    });
    let created = f.call("POST", "/Users", Some(&create)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.body["emails"][0]["value"],
        json!("Test_User_fd0ea19b@contoso.com"),
        "the work email wins over userName"
    );

    for filter in [
        "userName%20eq%20%22Test_User_ab6490ee%40contoso.com%22",
        "externalId%20eq%20%220a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef%22",
        "userName%20eq%20%22Test_User_ab6490ee%40contoso.com%22%20and%20externalId%20eq%20%220a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef%22",
        "emails%5Btype%20eq%20%22work%22%5D.value%20eq%20%22Test_User_fd0ea19b%40contoso.com%22",
        "emails.value%20eq%20%22Test_User_fd0ea19b%40contoso.com%22",
    ] {
        let r = f.get(&format!("/Users?filter={filter}")).await;
        assert_eq!(r.status, 200, "{filter}: {}", r.body);
        assert_eq!(r.body["totalResults"], json!(1), "{filter}: {}", r.body);
        assert_eq!(r.body["Resources"][0]["id"], json!(id), "{filter}");
    }
    let mismatch = f
        .get("/Users?filter=userName%20eq%20%22Test_User_ab6490ee%40contoso.com%22%20and%20externalId%20eq%20%22other%22")
        .await;
    assert_eq!(mismatch.body["totalResults"], json!(0));

    // Update: capitalised Replace with a value-filtered path and a sub-attribute path.
    let update = json!({"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
        {"op": "Add", "path": "title", "value": "Manager"}
    ]});
    let r = f
        .call("PATCH", &format!("/Users/{id}"), Some(&update))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let on_site = f.site_user("Test_User_ab6490ee@contoso.com").await;
    assert_eq!(
        site_text(&on_site, "email").as_deref(),
        Some("updatedEmail@microsoft.com")
    );
    assert_eq!(
        site_text(&on_site, "lastName").as_deref(),
        Some("updatedFamilyName")
    );
    assert_eq!(site_text(&on_site, "title").as_deref(), Some("Manager"));

    // Replace without a path, keys as dotted paths and URN-qualified.
    let map = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "value": {
        "displayName": "Grace (Contoso)",
        "name.givenName": "Grace",
        (format!("{ENTERPRISE}:organization")): "Contoso",
        (format!("{EXTENSION}:privilegeHQvideo")): "True"
    }}]});
    let r = f.call("PATCH", &format!("/Users/{id}"), Some(&map)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["name"]["givenName"], json!("Grace"));
    assert_eq!(
        r.body["displayName"],
        json!("Grace (Contoso)"),
        "kept by wbxprov"
    );
    assert!(
        r.body["meta"]["created"]
            .as_str()
            .is_some_and(|c| c.ends_with('Z'))
    );
    assert!(
        r.body["meta"]["lastModified"]
            .as_str()
            .is_some_and(|c| c.ends_with('Z'))
    );
    assert_eq!(r.body[ENTERPRISE]["organization"], json!("Contoso"));
    assert_eq!(r.body[EXTENSION]["privilegeHQvideo"], json!(true));
    let on_site = f.site_user("Test_User_ab6490ee@contoso.com").await;
    assert_eq!(site_text(&on_site, "company").as_deref(), Some("Contoso"));

    // Disable, legacy shape: the string "False" and a capital R.
    let disable = json!({"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    let r = f
        .call("PATCH", &format!("/Users/{id}"), Some(&disable))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["active"], json!(false));
    assert_eq!(
        f.site_active("Test_User_ab6490ee@contoso.com")
            .await
            .as_deref(),
        Some("DEACTIVATED")
    );
    // Still returned: soft-deleted users are not gone.
    let r = f
        .get("/Users?filter=externalId%20eq%20%220a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef%22")
        .await;
    assert_eq!(r.body["totalResults"], json!(1));
    // Entra's periodic "active true" (getsentry/sentry-docs#16258) works too.
    let enable = json!({"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "True"}]});
    let r = f
        .call("PATCH", &format!("/Users/{id}"), Some(&enable))
        .await;
    assert_eq!(r.body["active"], json!(true));

    // Hard delete: 204; the id answers 404 from then on; the site user is deactivated.
    let r = f.call("DELETE", &format!("/Users/{id}"), None).await;
    assert_eq!(r.status, 204);
    assert_error(&f.get(&format!("/Users/{id}")).await, 404);
    assert_error(&f.call("DELETE", &format!("/Users/{id}"), None).await, 404);
    assert_eq!(
        f.site_active("Test_User_ab6490ee@contoso.com")
            .await
            .as_deref(),
        Some("DEACTIVATED")
    );
    let r = f
        .get("/Users?filter=userName%20eq%20%22Test_User_ab6490ee%40contoso.com%22")
        .await;
    assert_eq!(
        r.body["totalResults"],
        json!(0),
        "deleted users are not listed"
    );
    // Created again: reactivated under a new id.
    let again = f.call("POST", "/Users", Some(&create)).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_ne!(again.body["id"], json!(id));
    assert_eq!(again.body["active"], json!(true));
}

/// Every endpoint, known or not, answers 401 without the token or with a wrong one.
#[tokio::test]
async fn every_endpoint_needs_the_token() {
    let f = front(default_profile()).await;
    let created = f
        .call("POST", "/Users", Some(&okta_user("kept@example.com")))
        .await;
    let user = format!("/Users/{}", created.body["id"].as_str().unwrap());
    let endpoints = [
        ("GET", "/ServiceProviderConfig".to_owned()),
        ("GET", "/ResourceTypes".to_owned()),
        ("GET", "/ResourceTypes/User".to_owned()),
        ("GET", "/Schemas".to_owned()),
        ("GET", format!("/Schemas/{CORE}")),
        ("GET", "/Users".to_owned()),
        ("POST", "/Users".to_owned()),
        ("POST", "/Users/.search".to_owned()),
        ("GET", user.clone()),
        ("PUT", user.clone()),
        ("PATCH", user.clone()),
        ("DELETE", user.clone()),
        ("GET", "/Groups".to_owned()),
        ("GET", "/NoSuchEndpoint".to_owned()),
    ];
    let wrong = [
        None,
        Some("Bearer wrong-token".to_owned()),
        Some(format!("Bearer {TOKEN}x")),
        Some(format!("Basic {TOKEN}")),
        Some("Bearer".to_owned()),
    ];
    let body = okta_user("intruder@example.com");
    // One client address per endpoint: repeated failures from one address are throttled.
    for (i, (method, path)) in endpoints.iter().enumerate() {
        let http = client_at([127, 0, 0, 10 + i as u8]);
        for authorization in &wrong {
            let r = request(
                &http,
                &f.scim.url,
                method,
                path,
                authorization.as_deref(),
                Some(&body),
            )
            .await;
            assert_error(&r, 401);
            assert!(
                r.content_type.starts_with("application/scim+json"),
                "{method} {path}"
            );
        }
    }
    // Nothing got through: one user on the site, still active.
    assert_eq!(f.site.simulator.user_count(), 1, "only kept@example.com");
    assert_eq!(f.get(&user).await.body["active"], json!(true));
    // The token's scheme name is case-insensitive.
    let r = f
        .send("GET", "/Users", Some(&format!("bearer {TOKEN}")), None)
        .await;
    assert_eq!(r.status, 200);
}

/// A change the site would refuse is answered 400 invalidValue with the
/// validator's message, before any call to the site.
#[tokio::test]
async fn validator_violations_are_400_invalid_value() {
    let mut profile = default_profile();
    profile.set_feature(Feature::OtherTeleconferencing, false);
    let f = front(profile).await;
    let created = f
        .call("POST", "/Users", Some(&okta_user("val@example.com")))
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let writes = f.site.simulator.writes();
    let change = json!({"schemas": [PATCH], "Operations": [
        {"op": "add", "path": format!("{EXTENSION}:privilegeOtherTelephony"), "value": true},
        {"op": "add", "path": format!("{EXTENSION}:timeZoneID"), "value": 99}
    ]});
    let r = f
        .call("PATCH", &format!("/Users/{id}"), Some(&change))
        .await;
    assert_error(&r, 400);
    assert_eq!(r.body["scimType"], json!("invalidValue"));
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains("val@example.com"), "{detail}");
    assert!(
        detail.contains("2 violation(s)"),
        "every violation at once: {detail}"
    );
    assert!(
        detail.contains("privilegeOtherTelephony") && detail.contains("otherTeleconferencing"),
        "{detail}"
    );
    assert!(detail.contains("timeZoneID=99"), "{detail}");
    assert_eq!(
        f.site.simulator.writes(),
        writes,
        "nothing was sent to the site"
    );

    // A POST with a bad value: the same, and no user is created.
    let mut bad = okta_user("bad@example.com");
    bad[EXTENSION] = json!({"privilegeOtherTelephony": true});
    let r = f.call("POST", "/Users", Some(&bad)).await;
    assert_error(&r, 400);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("bad@example.com")
    );
    // A body that is not JSON, a filter that does not parse, an unknown op.
    let r = f
        .call("POST", "/Users", Some(&json!("not an object")))
        .await;
    assert_error(&r, 400);
    let r = f.get("/Users?filter=userName%20eq").await;
    assert_error(&r, 400);
    assert_eq!(r.body["scimType"], json!("invalidFilter"));
    let r = f
        .call(
            "PATCH",
            &format!("/Users/{id}"),
            Some(&json!({"Operations": [{"op": "move", "path": "title"}]})),
        )
        .await;
    assert_error(&r, 400);
    // Removing what a Meetings user always has: 400 mutability, naming it.
    let r = f
        .call(
            "PATCH",
            &format!("/Users/{id}"),
            Some(&json!({"Operations": [{"op": "remove", "path": "active"}]})),
        )
        .await;
    assert_error(&r, 400);
    assert_eq!(r.body["scimType"], json!("mutability"));
    assert!(r.body["detail"].as_str().unwrap().contains("active"));
}

/// SCIM ids and externalIds live in SQLite: a restarted server answers the same ids.
#[tokio::test]
async fn ids_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("wbxprov-scim-ids-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("scim.sqlite");
    let _ = std::fs::remove_file(&state);
    let f = front(default_profile()).await;
    let first = scim_for(f.client.clone(), Some(&state)).await;
    let bearer = format!("Bearer {TOKEN}");
    let created = request(
        &f.http,
        &first.url,
        "POST",
        "/Users",
        Some(&bearer),
        Some(&okta_user("kept@example.com")),
    )
    .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    first.stop().await;

    let second = scim_for(f.client.clone(), Some(&state)).await;
    let again = request(
        &f.http,
        &second.url,
        "GET",
        &format!("/Users/{id}"),
        Some(&bearer),
        None,
    )
    .await
    .body;
    assert_eq!(again["id"], json!(id));
    assert_eq!(again["externalId"], json!("00ujl29u0le5T6Aj10h7"));
    assert_eq!(again["userName"], json!("kept@example.com"));
    second.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The discovery documents: the extension lists every catalogue attribute.
#[tokio::test]
async fn discovery_documents() {
    let f = front(default_profile()).await;
    let spc = f.get("/ServiceProviderConfig").await.body;
    assert_eq!(spc["patch"]["supported"], json!(true));
    assert_eq!(
        spc["authenticationSchemes"][0]["type"],
        json!("oauthbearertoken")
    );
    let types = f.get("/ResourceTypes").await.body;
    assert_eq!(types["Resources"][0]["schema"], json!(CORE));
    assert_eq!(types["Resources"][1]["endpoint"], json!("/Groups"));
    assert_eq!(f.get("/ResourceTypes/Group").await.body["schema"], GROUP);
    let schemas = f.get("/Schemas").await.body;
    let ids: Vec<&str> = schemas["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [CORE, ENTERPRISE, EXTENSION, GROUP]);
    let ext = f.get(&format!("/Schemas/{EXTENSION}")).await.body;
    assert_eq!(
        ext["attributes"].as_array().unwrap().len(),
        wbxprov::schema::ATTRIBUTES.len()
    );
    assert_error(&f.get("/Schemas/urn:nothing").await, 404);
}

/// After repeated failed authentications from one client address, that
/// address is answered 429 with Retry-After, its token not even compared;
/// other addresses and successful requests are not affected (issue 15 item 5).
#[tokio::test]
async fn repeated_authentication_failures_are_throttled_per_client() {
    let f = front(default_profile()).await;
    let bearer = format!("Bearer {TOKEN}");
    let at = |c: &reqwest::Client, authorization: String| {
        let (c, url) = (c.clone(), f.scim.url.clone());
        async move { request(&c, &url, "GET", "/Users", Some(&authorization), None).await }
    };
    let (attacker, other) = (client_at([127, 0, 0, 2]), client_at([127, 0, 0, 3]));
    for _ in 0..50 {
        assert_eq!(
            at(&other, bearer.clone()).await.status,
            200,
            "successes never throttle"
        );
    }
    let mut statuses = Vec::new();
    for i in 0..20 {
        statuses.push(at(&attacker, format!("Bearer guess-{i}")).await.status);
    }
    let first_throttled = statuses.iter().position(|s| *s == 429);
    assert!(
        first_throttled.is_some_and(|n| n >= 3 && statuses[..n].iter().all(|s| *s == 401)),
        "{statuses:?}"
    );
    assert!(
        statuses[first_throttled.unwrap()..]
            .iter()
            .all(|s| *s == 429),
        "{statuses:?}"
    );
    let throttled = at(&attacker, bearer.clone()).await;
    assert_error(&throttled, 429);
    let retry: u64 = throttled.retry_after.as_deref().unwrap().parse().unwrap();
    assert!(retry >= 1, "Retry-After {retry}");
    // Another address is served, and its own failures are its own.
    assert_eq!(at(&other, bearer).await.status, 200);
    assert_eq!(at(&other, "Bearer nope".into()).await.status, 401);
}

/// A token shorter than 32 bytes is refused before serving, saying how to
/// make a good one (issue 15 item 5).
#[tokio::test]
async fn a_short_token_is_refused() {
    let site = sim::start(default_profile()).await.unwrap();
    let client = Arc::new(site_client(&site.url, default_profile()));
    let short = "x".repeat(31);
    let refused = serve(
        "127.0.0.1:0".parse().unwrap(),
        Secret::new(&short),
        move |url| Service::new(client, IdStore::open(None).unwrap(), url),
    )
    .await
    .err()
    .expect("a 31-byte token was accepted")
    .to_string();
    assert!(
        refused.contains("32") && refused.contains("openssl rand"),
        "{refused}"
    );
    assert!(
        !refused.contains(&short),
        "the token is not shown: {refused}"
    );
}

#[cfg(feature = "cli")]
#[test]
fn the_command_refuses_a_short_token() {
    let refused = serve::ScimProcess::try_start("127.0.0.1:0", "short")
        .err()
        .expect("served with a 5-byte token");
    assert_ne!(refused.0, 0);
    assert!(refused.1.contains("openssl rand"), "{}", refused.1);
}

/// Plain HTTP on a non-loopback address is warned about on stderr; loopback is not.
#[cfg(feature = "cli")]
#[test]
fn plain_http_beyond_loopback_is_warned_about() {
    let stderr = serve::ScimProcess::start("0.0.0.0:0", serve::TOKEN).stop();
    assert!(
        stderr.contains("WARNING") && stderr.contains("TLS"),
        "{stderr}"
    );
    let stderr = serve::ScimProcess::start("127.0.0.1:0", serve::TOKEN).stop();
    assert!(!stderr.contains("WARNING"), "{stderr}");
}

fn assert_filter_refused(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 400, "{what}: {}", answer.body);
    assert_error(answer, 400);
    let scim_type = answer.body["scimType"].as_str().unwrap_or_default();
    assert!(
        ["invalidFilter", "tooMany", "invalidPath"].contains(&scim_type),
        "{what}: {}",
        answer.body
    );
}

/// Every hostile filter and PATCH path is answered 400, and the same server
/// then answers a normal request (issue 15 item 1). A real `wbxprov scim
/// serve` process: a stack overflow would kill it, not just a test thread.
#[cfg(feature = "cli")]
#[tokio::test]
async fn hostile_filters_get_400_and_the_server_keeps_serving() {
    let mut server = serve::ScimProcess::start("127.0.0.1:0", serve::TOKEN);
    let (http, base) = (reqwest::Client::new(), server.url.clone());
    let bearer = format!("Bearer {}", serve::TOKEN);
    let call = |method: &'static str, path: String, body: Option<Json>| {
        let (http, base, bearer) = (http.clone(), base.clone(), bearer.clone());
        async move { request(&http, &base, method, &path, Some(&bearer), body.as_ref()).await }
    };
    let created = call("POST", "/Users".into(), Some(okta_user("kept@example.com"))).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let user = format!("/Users/{}", created.body["id"].as_str().unwrap());
    for (shape, filter) in hostile::filters() {
        if filter.len() < 8192 {
            let query =
                reqwest::Url::parse_with_params("http://x/Users", [("filter", &filter)]).unwrap();
            let path = format!("/Users?{}", query.query().unwrap());
            assert_filter_refused(&call("GET", path, None).await, shape);
        }
        for search in ["/.search", "/Users/.search"] {
            let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": filter});
            assert_filter_refused(&call("POST", search.into(), Some(body)).await, shape);
        }
    }
    for (shape, path) in hostile::patch_paths() {
        let body = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": path, "value": "x"}]});
        assert_filter_refused(&call("PATCH", user.clone(), Some(body)).await, shape);
    }
    assert!(server.alive());
    let normal = call(
        "GET",
        "/Users?filter=userName%20eq%20%22kept%40example.com%22".into(),
        None,
    )
    .await;
    assert_eq!(normal.status, 200, "{}", normal.body);
    assert_eq!(normal.body["totalResults"], 1);
}

/// A body over the limit is refused with 413 before it is read whole.
#[tokio::test]
async fn an_oversized_body_is_413() {
    let f = front(default_profile()).await;
    let mut body = okta_user("big@example.com");
    body["title"] = json!("x".repeat(1_500_000));
    let r = f.call("POST", "/Users", Some(&body)).await;
    assert_error(&r, 413);
    assert!(r.content_type.starts_with("application/scim+json"));
    assert_eq!(f.site.simulator.user_count(), 0);
    assert_eq!(f.get("/Users").await.status, 200);
}

/// Issue 16 item 7: a PATCH is judged as the user it makes. HD video on a user
/// whose HQ video is off is refused (400, nothing sent), as it would be on
/// create; with HQ in the same PATCH it is applied.
#[tokio::test]
async fn a_patch_is_judged_with_the_site_user() {
    let f = front(default_profile()).await;
    let created = f
        .call("POST", "/Users", Some(&okta_user("hd@example.com")))
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let hq_off = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "value": {
        (format!("{EXTENSION}:privilegeHQvideo")): false
    }}]});
    let r = f
        .call("PATCH", &format!("/Users/{id}"), Some(&hq_off))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let hd = |on: bool| {
        let mut value = serde_json::Map::new();
        value.insert(format!("{EXTENSION}:privilegeHDvideo"), json!(true));
        if on {
            value.insert(format!("{EXTENSION}:privilegeHQvideo"), json!(true));
        }
        json!({"schemas": [PATCH], "Operations": [{"op": "replace", "value": value}]})
    };
    let r = f
        .call("PATCH", &format!("/Users/{id}"), Some(&hd(false)))
        .await;
    assert_error(&r, 400);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("HD video needs HQ video"),
        "{}",
        r.body
    );
    let r = f
        .call("PATCH", &format!("/Users/{id}"), Some(&hd(true)))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body[EXTENSION]["privilegeHDvideo"], json!(true));
}

/// PUT replaces what it names: a body without userName is refused (RFC 7643
/// §4.1.1: userName is REQUIRED), and the externalId and Meetings settings it
/// does not name stay (a Meetings user has settings no IdP manages).
#[tokio::test]
async fn put_needs_a_user_name_and_keeps_what_it_does_not_name() {
    let f = front(default_profile()).await;
    let mut body = okta_user("keep@example.com");
    body[EXTENSION] = json!({"privilegeHost": true});
    let created = f.call("POST", "/Users", Some(&body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let path = format!("/Users/{}", created.body["id"].as_str().unwrap());

    let mut nameless = okta_user("keep@example.com");
    nameless.as_object_mut().unwrap().remove("userName");
    let refused = f.call("PUT", &path, Some(&nameless)).await;
    assert_error(&refused, 400);
    assert_eq!(refused.body["scimType"], "invalidValue", "{}", refused.body);
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("userName")
    );

    let mut put = okta_user("keep@example.com");
    put.as_object_mut().unwrap().remove("externalId");
    put["name"]["givenName"] = json!("Changed");
    let answer = f.call("PUT", &path, Some(&put)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["externalId"], "00ujl29u0le5T6Aj10h7");
    assert_eq!(answer.body["name"]["givenName"], "Changed");
    let site = f.site_user("keep@example.com").await;
    assert_eq!(
        site.get(&"privilegeHost".parse().unwrap()),
        Some(&wbxprov::Value::Bool(true))
    );
    let by_external = f
        .get("/Users?filter=externalId%20eq%2000ujl29u0le5T6Aj10h7")
        .await;
    assert_eq!(by_external.body["totalResults"], 1, "{}", by_external.body);
}

/// Trailing and doubled slashes, as some IdPs build their URLs, reach the
/// same endpoints.
#[tokio::test]
async fn trailing_and_doubled_slashes_are_tolerated() {
    let f = front(default_profile()).await;
    let created = f
        .call("POST", "/Users/", Some(&okta_user("slash@example.com")))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    for path in [
        format!("/Users/{id}/"),
        format!("//Users/{id}"),
        format!("/Users//{id}"),
        "/Users/?filter=userName%20eq%20%22slash@example.com%22".to_owned(),
        "//ServiceProviderConfig/".to_owned(),
    ] {
        let answer = f.get(&path).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    }
    let unknown = f.get("/Nothing/").await;
    assert_error(&unknown, 404);
    let unauthenticated = f.send("GET", &format!("/Users/{id}/"), None, None).await;
    assert_error(&unauthenticated, 401);
}
