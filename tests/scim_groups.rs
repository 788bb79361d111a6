//! SCIM Groups that mean something on a Meetings site: a group named in the
//! configuration grants its members Meetings entitlements. The flows replay
//! Okta's group push (identity-providers.md §1c; developer.okta.com "SCIM 2.0
//! protocol reference": POST, PATCH rename with a value map, `add` with a
//! members array, `remove` with `members[value eq "…"]`, DELETE) and Entra's
//! (MicrosoftDocs/entra-docs use-scim-to-provision-users-and-groups.md, "Group
//! operations": POST with externalId, GET with `excludedAttributes=members`
//! and a `displayName eq` filter, PATCH `Add`/`Remove` on path `members` with
//! a value array, `Replace` of `displayName`, DELETE), against the simulator.
//! Each checks that the members' entitlements change on the site, and
//! nothing else does. The last test mounts the router in another axum app.
#![cfg(all(feature = "scim", feature = "sim"))]

mod common;
#[cfg(feature = "cli")]
#[path = "scim/serve.rs"]
mod serve;

use std::sync::Arc;

use serde_json::{Value as Json, json};
use wbxprov::client::Client;
use wbxprov::scim::groups::GROUP;
use wbxprov::scim::http::{ScimHandle, serve_backend};
use wbxprov::scim::ids::IdStore;
use wbxprov::scim::user::{CORE, EXTENSION, PATCH};
use wbxprov::scim::{GroupGrants, Groups, Meetings, ScimConfig, Service, router};
use wbxprov::sim::{self, SimHandle, default_profile};
use wbxprov::{FlatUser, Secret, Value};

const TOKEN: &str = "s3cret-scim-token-for-the-group-tests-0123456789";

/// What wbxprov.toml's `[scim.groups."…"]` tables would say.
fn grants() -> GroupGrants {
    let config = json!({
        // Session type 216 (EventCenter on the simulator's site) and what it needs.
        "Webinar hosts": {
            "meetingTypes": [216],
            "supportedServicesEventCenter": true,
            "privilegeHost": true,
        },
        "Recorders": {"meetingTypes": [216], "privilegeRecordingEditor": true},
        "Broken": {"meetingTypes": [999]},
        "Hosts": {"privilegeHost": true},
    });
    GroupGrants::from_json(config.as_object().unwrap()).unwrap()
}

struct Front {
    _site: SimHandle,
    scim: ScimHandle,
    client: Arc<Client>,
    http: reqwest::Client,
}

fn site_client(url: &str) -> Client {
    site_client_of(url, default_profile())
}

fn site_client_of(url: &str, profile: wbxprov::site::SiteProfile) -> Client {
    Client::builder("sim", wbxprov::sim::default_admin())
        .endpoint(url)
        .options(common::fast_retries())
        .validate_with(profile)
        .build()
        .unwrap()
}

async fn front() -> Front {
    front_with(default_profile(), std::time::Duration::ZERO).await
}

/// A front over a simulated site of `profile` answering each call `latency` late.
async fn front_with(profile: wbxprov::site::SiteProfile, latency: std::time::Duration) -> Front {
    let simulator = sim::Simulator::new(
        sim::SimConfig::new(profile.clone()),
        Box::new(sim::store::Memory),
    )
    .unwrap();
    let mut options = sim::ServeOptions::default();
    options.latency = latency;
    let site = sim::serve(simulator, options).await.unwrap();
    let client = Arc::new(site_client_of(&site.url, profile));
    let users = client.clone();
    let scim = serve_backend("127.0.0.1:0".parse().unwrap(), Secret::new(TOKEN), |url| {
        let service = Service::new(users, IdStore::open(None).unwrap(), url);
        Meetings::new(service, Groups::new(grants()))
    })
    .await
    .unwrap();
    Front {
        _site: site,
        scim,
        client,
        http: reqwest::Client::new(),
    }
}

async fn call(http: &reqwest::Client, url: &str, method: &str, body: Option<&Json>) -> (u16, Json) {
    common::http::scim_call(http, url, TOKEN, method, body).await
}

impl Front {
    async fn call(&self, method: &str, path: &str, body: Option<&Json>) -> (u16, Json) {
        call(
            &self.http,
            &format!("{}{path}", self.scim.url),
            method,
            body,
        )
        .await
    }

    /// POSTs a user in Okta's shape, with the Meetings settings a real
    /// site's GetUser always states; answers its SCIM id.
    async fn user(&self, name: &str) -> String {
        self.user_with(name, json!({})).await
    }

    /// As [`Front::user`], with some Meetings settings of its own.
    async fn user_with(&self, name: &str, settings: Json) -> String {
        let mut body = okta_user(name);
        let mut meetings = json!({
            "meetingTypes": [214],
            "supportedServicesMeetingCenter": true,
            "supportedServicesTrainingCenter": false,
            "supportedServicesSupportCenter": false,
            "supportedServicesEventCenter": false,
            "supportedServicesSalesCenter": false,
            "privilegeHost": false,
            "privilegeRecordingEditor": false,
        });
        meetings
            .as_object_mut()
            .unwrap()
            .extend(settings.as_object().unwrap().clone());
        body[EXTENSION] = meetings;
        let (status, body) = self.call("POST", "/Users", Some(&body)).await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    async fn site(&self, web_ex_id: &str) -> FlatUser {
        self.client.get_user(web_ex_id).await.unwrap().to_flat()
    }
}

fn okta_user(user_name: &str) -> Json {
    json!({
        "schemas": [CORE],
        "userName": user_name,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": "Test User",
        "active": true
    })
}

fn get(user: &FlatUser, name: &str) -> Option<Value> {
    user.get(&name.parse().unwrap()).cloned()
}

/// `after` is `before` with exactly `changes`: nothing else moved.
fn only_changed(before: &FlatUser, after: &FlatUser, changes: &[(&str, Value)]) {
    let mut expected = before.clone();
    for (name, value) in changes {
        expected.insert(name.parse().unwrap(), value.clone());
    }
    assert_eq!(after, &expected);
}

fn member_ids(group: &Json) -> Vec<&str> {
    group["members"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["value"].as_str()).collect())
        .unwrap_or_default()
}

/// What "Webinar hosts" gives a user who had meetingTypes `types` and no host
/// privilege of its own.
fn webinar_host(types: &[i64]) -> Vec<(&'static str, Value)> {
    let mut with = types.to_vec();
    with.push(216);
    vec![
        ("meetingTypes", Value::IntList(with)),
        ("supportedServicesEventCenter", Value::Bool(true)),
        ("privilegeHost", Value::Bool(true)),
    ]
}

fn meeting_types(user: &FlatUser) -> Vec<i64> {
    match get(user, "meetingTypes") {
        Some(Value::IntList(t)) => t,
        _ => Vec::new(),
    }
}

#[tokio::test]
async fn okta_group_push_changes_entitlements_and_nothing_else() {
    let f = front().await;
    let (ann, bob, cal) = (
        f.user("ann@example.com").await,
        f.user("bob@example.com").await,
        f.user("cal@example.com").await,
    );
    let before = [
        f.site("ann@example.com").await,
        f.site("bob@example.com").await,
        f.site("cal@example.com").await,
    ];
    assert_ne!(
        get(&before[0], "supportedServicesEventCenter"),
        Some(Value::Bool(true)),
        "the test needs users without EventCenter"
    );
    let types = meeting_types(&before[0]);

    // Okta: create the group (empty), find it by name.
    let (status, created) = f
        .call(
            "POST",
            "/Groups",
            Some(&json!({"schemas": [GROUP], "displayName": "Webinar hosts", "members": []})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/Groups/{id}");
    assert_eq!(created["meta"]["resourceType"], "Group");
    let (_, found) = f
        .call(
            "GET",
            "/Groups?filter=displayName%20eq%20%22Webinar%20hosts%22&startIndex=1&count=100",
            None,
        )
        .await;
    assert_eq!(found["totalResults"], 1, "{found}");

    // Okta: add members (a members array), with the rename PATCH Okta sends alongside.
    let add = json!({"schemas": [PATCH], "Operations": [
        {"op": "replace", "value": {"id": id, "displayName": "Webinar hosts"}},
        {"op": "add", "path": "members", "value": [
            {"value": ann, "display": "ann@example.com"},
            {"value": bob, "display": "bob@example.com"}
        ]}
    ]});
    let (status, group) = f.call("PATCH", &path, Some(&add)).await;
    assert_eq!(status, 200, "{group}");
    assert_eq!(member_ids(&group), [ann.as_str(), bob.as_str()]);
    let granted = webinar_host(&types);
    only_changed(&before[0], &f.site("ann@example.com").await, &granted);
    only_changed(&before[1], &f.site("bob@example.com").await, &granted);
    assert_eq!(f.site("cal@example.com").await, before[2], "not a member");
    let filter = format!("/Groups?filter=members%5Bvalue%20eq%20%22{ann}%22%5D");
    assert_eq!(f.call("GET", &filter, None).await.1["totalResults"], 1);

    // Okta: remove one member by a filtered path: bob is as he was.
    let remove = json!({"schemas": [PATCH], "Operations": [
        {"op": "remove", "path": format!("members[value eq \"{bob}\"]")}
    ]});
    let (status, group) = f.call("PATCH", &path, Some(&remove)).await;
    assert_eq!(status, 200, "{group}");
    assert_eq!(member_ids(&group), [ann.as_str()]);
    assert_eq!(f.site("bob@example.com").await, before[1]);
    only_changed(&before[0], &f.site("ann@example.com").await, &granted);

    // Okta: rename to a name the configuration does not know: kept, grants nothing.
    let rename = |name: &str| {
        json!({"schemas": [PATCH], "Operations": [
            {"op": "replace", "value": {"id": id, "displayName": name}}
        ]})
    };
    let (status, group) = f
        .call("PATCH", &path, Some(&rename("Webinar hosts (old)")))
        .await;
    assert_eq!(status, 200, "{group}");
    assert_eq!(group["displayName"], "Webinar hosts (old)");
    assert_eq!(f.site("ann@example.com").await, before[0]);
    // …and back: granted again.
    let (status, _) = f.call("PATCH", &path, Some(&rename("webinar HOSTS"))).await;
    assert_eq!(status, 200);
    only_changed(&before[0], &f.site("ann@example.com").await, &granted);

    // Okta: unlinking the pushed group deletes it: ann is as she was.
    let (status, _) = f.call("DELETE", &path, None).await;
    assert_eq!(status, 204);
    assert_eq!(f.call("GET", &path, None).await.0, 404);
    assert_eq!(f.site("ann@example.com").await, before[0]);
    assert_eq!(f.site("cal@example.com").await, before[2]);
    let _ = cal;
}

#[tokio::test]
async fn entra_group_provisioning_changes_entitlements_and_nothing_else() {
    let f = front().await;
    let (joy, kim) = (
        f.user("jyoung@example.com").await,
        f.user("kim@example.com").await,
    );
    let before = [
        f.site("jyoung@example.com").await,
        f.site("kim@example.com").await,
    ];
    let types = meeting_types(&before[0]);

    // Entra: create (with its own schema URN and externalId), then find by name.
    let (status, created) = f
        .call(
            "POST",
            "/Groups",
            Some(&json!({
                "schemas": [GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                "displayName": "Recorders",
                "meta": {"resourceType": "Group"}
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        created["externalId"],
        "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"
    );
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/Groups/{id}");
    let (status, listed) = f
        .call(
            "GET",
            "/Groups?excludedAttributes=members&filter=displayName%20eq%20%22Recorders%22",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(listed["totalResults"], 1);
    assert!(listed["Resources"][0].get("members").is_none(), "{listed}");
    let (_, one) = f
        .call("GET", &format!("{path}?excludedAttributes=members"), None)
        .await;
    assert_eq!(one["displayName"], "Recorders");
    assert!(one.get("members").is_none());

    // Entra: Add members, one PATCH.
    let members = |op: &str, ids: &[&str]| {
        let value: Vec<Json> = ids
            .iter()
            .map(|i| json!({"$ref": null, "value": i}))
            .collect();
        json!({"schemas": [PATCH], "Operations": [{"op": op, "path": "members", "value": value}]})
    };
    let (status, group) = f
        .call("PATCH", &path, Some(&members("Add", &[&joy, &kim])))
        .await;
    assert_eq!(status, 200, "{group}");
    let granted = [
        ("meetingTypes", Value::IntList(vec![types[0], 216])),
        ("privilegeRecordingEditor", Value::Bool(true)),
    ];
    only_changed(&before[0], &f.site("jyoung@example.com").await, &granted);

    // Entra: Remove with path "members" and a value array removes those only.
    let (status, group) = f
        .call("PATCH", &path, Some(&members("Remove", &[&kim])))
        .await;
    assert_eq!(status, 200, "{group}");
    assert_eq!(member_ids(&group), [joy.as_str()]);
    assert_eq!(f.site("kim@example.com").await, before[1]);

    // Entra: Replace displayName: the configuration names it no more.
    let rename = json!({"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": "displayName", "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}
    ]});
    let (status, group) = f.call("PATCH", &path, Some(&rename)).await;
    assert_eq!(status, 200, "{group}");
    assert_eq!(f.site("jyoung@example.com").await, before[0]);
    assert_eq!(group["externalId"], "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159");

    let (status, _) = f.call("DELETE", &path, None).await;
    assert_eq!(status, 204);
    assert_eq!(f.site("jyoung@example.com").await, before[0]);
    assert_eq!(f.site("kim@example.com").await, before[1]);
}

/// meetingTypes is the union of the groups' grants: leaving one group keeps
/// what another still grants; leaving the last takes back what groups granted.
#[tokio::test]
async fn list_grants_are_a_union_and_only_group_grants_are_taken_back() {
    let f = front().await;
    // A host already: the group's privilegeHost is not the group's to take back.
    let ann = f
        .user_with("ann@example.com", json!({"privilegeHost": true}))
        .await;
    let before = f.site("ann@example.com").await;
    let types = meeting_types(&before);
    let group =
        |name: &str| json!({"schemas": [GROUP], "displayName": name, "members": [{"value": ann}]});
    let (s1, hosts) = f
        .call("POST", "/Groups", Some(&group("Webinar hosts")))
        .await;
    let (s2, recorders) = f.call("POST", "/Groups", Some(&group("Recorders"))).await;
    assert_eq!((s1, s2), (201, 201), "{hosts} {recorders}");
    let with_216: Vec<i64> = types.iter().copied().chain([216]).collect();
    assert_eq!(meeting_types(&f.site("ann@example.com").await), with_216);

    let hosts_path = format!("/Groups/{}", hosts["id"].as_str().unwrap());
    assert_eq!(f.call("DELETE", &hosts_path, None).await.0, 204);
    let now = f.site("ann@example.com").await;
    assert_eq!(meeting_types(&now), with_216, "Recorders still grants 216");
    assert_eq!(
        get(&now, "supportedServicesEventCenter"),
        Some(Value::Bool(false))
    );
    assert_eq!(
        get(&now, "privilegeHost"),
        Some(Value::Bool(true)),
        "ann's own"
    );

    // PATCH replace of members (RFC 7644 §3.5.2.3): the list given, here
    // empty: ann leaves Recorders, and gets it back by the same shape.
    let rec_path = format!("/Groups/{}", recorders["id"].as_str().unwrap());
    let replace = |members: Json| json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "members", "value": members}]});
    let (status, emptied) = f.call("PATCH", &rec_path, Some(&replace(json!([])))).await;
    assert_eq!(status, 200, "{emptied}");
    assert_eq!(f.site("ann@example.com").await, before);
    let back = replace(json!([{"value": ann}]));
    assert_eq!(f.call("PATCH", &rec_path, Some(&back)).await.0, 200);
    assert_eq!(meeting_types(&f.site("ann@example.com").await), with_216);

    // PUT with the members left out keeps them; with an empty list, none.
    let put = json!({"schemas": [GROUP], "displayName": "Recorders"});
    let (status, kept) = f.call("PUT", &rec_path, Some(&put)).await;
    assert_eq!(status, 200, "{kept}");
    assert_eq!(member_ids(&kept), [ann.as_str()]);
    let put = json!({"schemas": [GROUP], "displayName": "Recorders", "members": []});
    assert_eq!(f.call("PUT", &rec_path, Some(&put)).await.0, 200);
    assert_eq!(f.site("ann@example.com").await, before);
}

/// A grant the site refuses is refused before anything is written, naming
/// every member and why; the group keeps its members.
#[tokio::test]
async fn a_grant_the_site_refuses_is_400_per_member_and_nothing_changes() {
    let f = front().await;
    let (ann, bob) = (
        f.user("ann@example.com").await,
        f.user("bob@example.com").await,
    );
    let before = f.site("ann@example.com").await;
    let (status, group) = f
        .call("POST", "/Groups", Some(&json!({"displayName": "Broken"})))
        .await;
    assert_eq!(status, 201, "{group}");
    let path = format!("/Groups/{}", group["id"].as_str().unwrap());
    let add = json!({"schemas": [PATCH], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": ann}, {"value": bob}]}
    ]});
    let (status, refused) = f.call("PATCH", &path, Some(&add)).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["scimType"], "invalidValue");
    let detail = refused["detail"].as_str().unwrap();
    for who in [&ann, &bob] {
        assert!(detail.contains(who.as_str()), "{detail}");
    }
    assert!(detail.contains("ann@example.com") && detail.contains("bob@example.com"));
    assert!(detail.contains("meetingTypes"), "{detail}");
    assert!(member_ids(&f.call("GET", &path, None).await.1).is_empty());
    assert_eq!(f.site("ann@example.com").await, before);

    // A member that is no User of this front is refused too.
    let stranger = json!({"schemas": [PATCH], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": "no-such-user"}]}
    ]});
    let (status, refused) = f.call("PATCH", &path, Some(&stranger)).await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["detail"].as_str().unwrap().contains("no-such-user"));
    // The Postman collection's bare string (its "Group patch add member"):
    // refused naming the group, the attribute and the value.
    let bare = json!({"schemas": [PATCH], "Operations": [
        {"op": "add", "path": "members", "value": "string id 1"}
    ]});
    let (status, refused) = f.call("PATCH", &path, Some(&bare)).await;
    let detail = refused["detail"].as_str().unwrap_or_default();
    assert_eq!(status, 400, "{refused}");
    assert!(
        detail.contains("Broken") && detail.contains("members") && detail.contains("string id 1"),
        "{detail}"
    );
    // A remove without a path is noTarget (RFC 7644 §3.5.2.2): the kind survives.
    let pathless = json!({"schemas": [PATCH], "Operations": [{"op": "remove"}]});
    let (status, refused) = f.call("PATCH", &path, Some(&pathless)).await;
    assert_eq!(
        (status, refused["scimType"].as_str()),
        (400, Some("noTarget"))
    );
}

/// A platform mounts the SCIM front in its own axum app, under its own
/// prefix, next to its own routes, and provisions through it.
#[tokio::test]
async fn the_router_mounts_inside_another_app() {
    let site = sim::start(default_profile()).await.unwrap();
    let client = Arc::new(site_client(&site.url));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/platform/scim", listener.local_addr().unwrap());
    let service = Service::new(client.clone(), IdStore::open(None).unwrap(), &base);
    let backend = Arc::new(Meetings::new(service, Groups::new(grants())));
    let config = ScimConfig::bearer(Secret::new(TOKEN)).unwrap();
    let app = axum::Router::new()
        .route("/health", axum::routing::get(|| async { "fine" }))
        .nest("/platform/scim", router(backend, config));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let http = reqwest::Client::new();
    let root = base.trim_end_matches("/platform/scim");
    let health = http.get(format!("{root}/health")).send().await.unwrap();
    assert_eq!(
        health.text().await.unwrap(),
        "fine",
        "the platform's own route"
    );
    let (status, user) = call(
        &http,
        &format!("{base}/Users"),
        "POST",
        Some(&okta_user("ann@example.com")),
    )
    .await;
    assert_eq!(status, 201, "{user}");
    assert!(
        user["meta"]["location"]
            .as_str()
            .unwrap()
            .starts_with(&base)
    );
    let group = json!({"displayName": "Hosts", "members": [{"value": user["id"]}]});
    let (status, created) = call(&http, &format!("{base}/Groups/"), "POST", Some(&group)).await;
    assert_eq!(status, 201, "{created}");
    let site_user = client.get_user("ann@example.com").await.unwrap().to_flat();
    assert_eq!(get(&site_user, "privilegeHost"), Some(Value::Bool(true)));
    // The router's token guards its endpoints, not the platform's.
    let anonymous = http.get(format!("{base}/Users")).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    server.abort();
}

/// `wbxprov scim serve` reads the groups from wbxprov.toml; a group that
/// grants what cannot be granted stops it before it listens, naming the group.
#[cfg(feature = "cli")]
#[tokio::test]
async fn scim_serve_takes_its_groups_from_the_config() {
    let dir = std::env::temp_dir().join(format!("wbxprov-scim-groups-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("wbxprov.toml");
    let with = |toml: &str| {
        std::fs::write(&config, toml).unwrap();
        let mut cmd = serve::command("127.0.0.1:0", TOKEN);
        cmd.env("WBXPROV_CONFIG", &config).env("RUST_LOG", "warn");
        serve::ScimProcess::try_spawn(cmd)
    };
    let Err((code, stderr)) = with("[scim.groups.\"Webinar hosts\"]\nprivilegeHost = false\n")
    else {
        panic!("a group granting false was accepted");
    };
    assert_ne!(code, 0);
    assert!(
        stderr.contains("Webinar hosts") && stderr.contains("privilegeHost"),
        "{stderr}"
    );

    let server = with("[scim.groups.\"Webinar hosts\"]\nprivilegeHost = true\n").unwrap();
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.url);
    let (_, user) = call(
        &http,
        &url("/Users"),
        "POST",
        Some(&okta_user("ann@example.com")),
    )
    .await;
    let group = json!({"displayName": "Webinar hosts", "members": [{"value": user["id"]}]});
    let (status, created) = call(&http, &url("/Groups"), "POST", Some(&group)).await;
    assert_eq!(status, 201, "{created}");
    let id = user["id"].as_str().unwrap();
    let (_, now) = call(&http, &url(&format!("/Users/{id}")), "GET", None).await;
    assert_eq!(now[EXTENSION]["privilegeHost"], true, "{now}");
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A User deleted through SCIM leaves its groups: its id answers 404 and is
/// listed in no group; groups outlive a restart of the front on the same state.
#[tokio::test]
async fn deleted_users_leave_their_groups_and_groups_persist() {
    let dir = std::env::temp_dir().join(format!("wbxprov-scim-gstate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("state.sqlite");
    let _ = std::fs::remove_file(&state);
    let site = sim::start(default_profile()).await.unwrap();
    let client = Arc::new(site_client(&site.url));
    let start = |client: Arc<Client>| {
        let state = state.clone();
        serve_backend(
            "127.0.0.1:0".parse().unwrap(),
            Secret::new(TOKEN),
            move |url| {
                let service = Service::new(client, IdStore::open(Some(&state)).unwrap(), url);
                Meetings::new(service, Groups::new(grants()))
            },
        )
    };
    let http = reqwest::Client::new();
    let scim = start(client.clone()).await.unwrap();
    let at = |scim: &ScimHandle, path: &str| format!("{}{path}", scim.url);
    let (_, ann) = call(
        &http,
        &at(&scim, "/Users"),
        "POST",
        Some(&okta_user("ann@example.com")),
    )
    .await;
    let (_, bob) = call(
        &http,
        &at(&scim, "/Users"),
        "POST",
        Some(&okta_user("bob@example.com")),
    )
    .await;
    let group = json!({"displayName": "Unmapped", "externalId": "g-1",
                       "members": [{"value": ann["id"]}, {"value": bob["id"]}]});
    let (status, group) = call(&http, &at(&scim, "/Groups"), "POST", Some(&group)).await;
    assert_eq!(status, 201, "{group}");
    let bob_path = format!("/Users/{}", bob["id"].as_str().unwrap());
    assert_eq!(
        call(&http, &at(&scim, &bob_path), "DELETE", None).await.0,
        204
    );
    scim.stop().await;

    let scim = start(client).await.unwrap();
    let (status, found) = call(
        &http,
        &at(&scim, "/Groups?filter=externalId%20eq%20g-1"),
        "GET",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(found["totalResults"], 1, "{found}");
    assert_eq!(
        member_ids(&found["Resources"][0]),
        [ann["id"].as_str().unwrap()]
    );
    let by_bob = format!(
        "/Groups?filter=members%5Bvalue%20eq%20%22{}%22%5D",
        bob["id"].as_str().unwrap()
    );
    assert_eq!(
        call(&http, &at(&scim, &by_bob), "GET", None).await.1["totalResults"],
        0
    );
    scim.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A /Users write does not undo what a user's groups grant: an identity
/// provider that maps meetingTypes sends its own profile's value on every
/// update, which knows nothing of group grants. The sent value and the
/// groups' grants are united (as an IdP unites direct and group
/// assignments); leaving the group takes back what it granted, and nothing
/// of the user's own.
#[tokio::test]
async fn a_users_write_keeps_what_groups_grant_until_the_user_leaves() {
    let f = front().await;
    let ann = f.user("ann@example.com").await;
    let before = f.site("ann@example.com").await;
    let body = json!({"schemas": [GROUP], "displayName": "Recorders", "members": [{"value": ann}]});
    let (status, recorders) = f.call("POST", "/Groups", Some(&body)).await;
    assert_eq!(status, 201, "{recorders}");
    let granted = f.site("ann@example.com").await;
    assert_eq!(meeting_types(&granted), [214, 216]);

    let user_path = format!("/Users/{ann}");
    let types_path = format!("{EXTENSION}:meetingTypes");
    let replace = json!({"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": types_path, "value": [214]},
        {"op": "replace", "path": format!("{EXTENSION}:privilegeRecordingEditor"), "value": false},
    ]});
    let (status, patched) = f.call("PATCH", &user_path, Some(&replace)).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched[EXTENSION]["meetingTypes"], json!([214, 216]));
    assert_eq!(f.site("ann@example.com").await, granted, "PATCH");

    let mut put = okta_user("ann@example.com");
    put[EXTENSION] = json!({"meetingTypes": [214], "privilegeRecordingEditor": false});
    let (status, replaced) = f.call("PUT", &user_path, Some(&put)).await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(f.site("ann@example.com").await, granted, "PUT");

    let group_path = format!("/Groups/{}", recorders["id"].as_str().unwrap());
    assert_eq!(f.call("DELETE", &group_path, None).await.0, 204);
    assert_eq!(f.site("ann@example.com").await, before);
}

/// A User deleted through SCIM leaves every group, and loses what they
/// granted as if it had left each: otherwise the deactivated site user
/// kept "Webinar hosts"' session type, and a later POST of the same
/// userName (which reactivates it) would host webinars in no group.
/// What was the user's own stays.
#[tokio::test]
async fn a_deleted_user_loses_what_its_groups_granted_and_keeps_its_own() {
    let f = front().await;
    let ann = f
        .user_with("ann@example.com", json!({"privilegeHost": true}))
        .await;
    let before = f.site("ann@example.com").await;
    let body =
        json!({"schemas": [GROUP], "displayName": "Webinar hosts", "members": [{"value": ann}]});
    let (status, group) = f.call("POST", "/Groups", Some(&body)).await;
    assert_eq!(status, 201, "{group}");
    assert_eq!(meeting_types(&f.site("ann@example.com").await), [214, 216]);

    assert_eq!(
        f.call("DELETE", &format!("/Users/{ann}"), None).await.0,
        204
    );
    let after = f.site("ann@example.com").await;
    only_changed(
        &before,
        &after,
        &[("active", Value::Text("DEACTIVATED".into()))],
    );
    let (status, again) = f
        .call("POST", "/Users", Some(&okta_user("ann@example.com")))
        .await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(meeting_types(&f.site("ann@example.com").await), [214]);
}

/// A group change and a /Users write to the same user, both in flight, do
/// not lose each other's work: the group's grant (216) stays after the
/// PUT, and the PUT's own session type (215) after the group's write. Both
/// read the user, then write all of meetingTypes: unserialised, the later
/// write drops what the earlier one added (issue 18's defect: /Users
/// writes did not take the groups' lock).
#[tokio::test]
async fn a_group_patch_and_a_user_put_in_flight_together_lose_nothing() {
    let mut profile = default_profile();
    profile.meeting_types.push(wbxprov::site::SessionType {
        id: 215,
        name: Some("STD".into()),
        service: Some("MeetingCenter".into()),
    });
    let latency = std::time::Duration::from_millis(150);
    let f = Arc::new(front_with(profile, latency).await);
    let ann = f.user("ann@example.com").await;
    let body = json!({"schemas": [GROUP], "displayName": "Recorders", "members": []});
    let (status, recorders) = f.call("POST", "/Groups", Some(&body)).await;
    assert_eq!(status, 201, "{recorders}");
    let group_path = format!("/Groups/{}", recorders["id"].as_str().unwrap());
    let add = json!({"schemas": [PATCH], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": ann}]}
    ]});
    let mut put = okta_user("ann@example.com");
    put[EXTENSION] = json!({"meetingTypes": [214, 215]});
    let user_path = format!("/Users/{ann}");
    // The PUT first; the group's PATCH while the PUT's GetUser is on its way.
    let (g, u) = (f.clone(), f.clone());
    let put_task = tokio::spawn(async move { u.call("PUT", &user_path, Some(&put)).await });
    tokio::time::sleep(latency / 3).await;
    let patch_task = tokio::spawn(async move { g.call("PATCH", &group_path, Some(&add)).await });
    let (put, patched) = (put_task.await.unwrap(), patch_task.await.unwrap());
    assert_eq!(put.0, 200, "{}", put.1);
    assert!(patched.0 == 200 || patched.0 == 204, "{}", patched.1);
    let now = f.site("ann@example.com").await;
    let mut types = meeting_types(&now);
    types.sort_unstable();
    assert_eq!(types, [214, 215, 216]);
    assert_eq!(
        get(&now, "privilegeRecordingEditor"),
        Some(Value::Bool(true))
    );
}
