//! Issue 15 item 6: a CreateUser the site carried out, answered 500 on the way
//! back (a proxy in front of the simulator forwards every request and replaces
//! CreateUser's answer with a 500). Through the client, a sync run and the SCIM
//! front, every user ends reported created and the site holds each exactly once.
#![cfg(all(feature = "sim", feature = "https", feature = "sync", feature = "scim"))]

mod common;

use std::sync::Arc;

use serde_json::{Map, Value as Json, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use wbxprov::Secret;
use wbxprov::client::Client;
use wbxprov::ops::{LstsummaryUser, Operation};
use wbxprov::schema::{FlatKey, FlatUser, Value};
use wbxprov::sim::{self, SimHandle, default_profile};
use wbxprov::sync::{self, Record};

/// Forwards every request to `site`; answers CreateUser with a 500 once the
/// site has carried it out. Returns the proxy's XML API URL.
async fn lying_proxy(site: &SimHandle) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/WBXService/XMLService",
        listener.local_addr().unwrap()
    );
    let upstream = site.url.clone();
    tokio::spawn(async move {
        let http = reqwest::Client::new();
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let (http, upstream) = (http.clone(), upstream.clone());
            tokio::spawn(async move {
                while let Some(request) = common::http::read_request(&mut socket).await {
                    let body = common::http::body_of(&request).to_owned();
                    let create = body.contains("user.CreateUser");
                    let answer = http.post(&upstream).body(body).send().await.unwrap();
                    let (mut status, mut text) =
                        (answer.status().as_u16(), answer.text().await.unwrap());
                    if create {
                        (status, text) = (500, "<html>Internal Server Error</html>".into());
                    }
                    let response = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{text}",
                        text.len()
                    );
                    if socket.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

fn client(url: &str) -> Arc<Client> {
    Arc::new(
        Client::builder("sim", wbxprov::sim::default_admin())
            .endpoint(url)
            .options(common::fast_retries())
            .build()
            .unwrap(),
    )
}

fn new_user(id: &str) -> FlatUser {
    let text = |k: &str, v: String| (k.parse::<FlatKey>().unwrap(), Value::Text(v));
    [
        text("webExId", id.into()),
        text("email", format!("{id}@example.com")),
        text("firstName", "First".into()),
        text("lastName", "Last".into()),
        (
            "password".parse().unwrap(),
            Value::Secret(Secret::new("Us3r-Pa55word!")),
        ),
    ]
    .into_iter()
    .collect()
}

/// How many site users have each of `ids` as webExId.
async fn copies(site: &SimHandle, ids: &[String]) -> Vec<usize> {
    let (users, _) = client(&site.url)
        .list_all_users(&LstsummaryUser::default())
        .await
        .unwrap();
    ids.iter()
        .map(|id| {
            users
                .iter()
                .filter(|u| u.web_ex_id.eq_ignore_ascii_case(id))
                .count()
        })
        .collect()
}

fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:02}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_reports_a_create_answered_500_as_created() {
    let site = sim::start(default_profile()).await.unwrap();
    let c = client(&lying_proxy(&site).await);
    let ids = ids("c", 10);
    for id in &ids {
        let made = c.create_user(new_user(id)).await;
        assert!(made.is_ok(), "{id}: {made:?}");
    }
    assert_eq!(copies(&site, &ids).await, vec![1; ids.len()]);
    assert_eq!(
        site.simulator.calls(Operation::CreateUser),
        ids.len() as u64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_reports_creates_answered_500_as_created() {
    let site = sim::start(default_profile()).await.unwrap();
    let c = client(&lying_proxy(&site).await);
    let ids = ids("s", 20);
    let records: Vec<Result<Record, sync::RecordError>> = ids
        .iter()
        .enumerate()
        .map(|(row, id)| {
            let fields: Map<String, Json> = [
                ("webExId".to_owned(), json!(id)),
                ("email".to_owned(), json!(format!("{id}@example.com"))),
                ("lastName".to_owned(), json!("Last")),
            ]
            .into_iter()
            .collect();
            Ok(Record {
                row: row + 2,
                fields,
            })
        })
        .collect();
    let engine = sync::Sync::builder(c.clone(), default_profile()).build();
    let plan = engine.plan(Box::new(records.into_iter())).await.unwrap();
    let report = plan.apply(&engine, |_| {}).await.unwrap();
    assert_eq!(report.summary.created, ids.len(), "{report:#?}");
    assert!(report.all_ok(), "{report:#?}");
    assert_eq!(copies(&site, &ids).await, vec![1; ids.len()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scim_post_answered_500_by_the_site_is_201() {
    // At least 32 bytes: what the SCIM front may require of a token.
    const TOKEN: &str = "a-scim-token-of-at-least-32-bytes-0123456789";
    let site = sim::start(default_profile()).await.unwrap();
    let c = client(&lying_proxy(&site).await);
    let ids_store = wbxprov::scim::ids::IdStore::open(None).unwrap();
    let scim = wbxprov::scim::http::serve(
        "127.0.0.1:0".parse().unwrap(),
        Secret::new(TOKEN),
        move |url| wbxprov::scim::Service::new(c, ids_store, url),
    )
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let ids = ids("scim", 10);
    for id in &ids {
        let answer = http
            .post(format!("{}/Users", scim.url))
            .bearer_auth(TOKEN)
            .header("Content-Type", "application/scim+json")
            .body(
                json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": id,
                    "name": {"givenName": "First", "familyName": "Last"},
                    "emails": [{"primary": true, "value": format!("{id}@example.com")}],
                    "active": true
                })
                .to_string(),
            )
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        assert_eq!(status, 201, "{id}: {}", answer.text().await.unwrap());
    }
    assert_eq!(copies(&site, &ids).await, vec![1; ids.len()]);
}
