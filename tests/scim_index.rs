//! Issue 21: the index of the site's users is refreshed in the background.
//! A list finding it stale answers from the index it has, at once, while a
//! rebuild pages the site (built aside and swapped in): no request waits on
//! a whole-site listing once the index exists.
#![cfg(all(feature = "scim", feature = "sim"))]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use wbxprov::client::Client;
use wbxprov::ops::Operation;
use wbxprov::scim::Service;
use wbxprov::scim::backend::ListQuery;
use wbxprov::scim::ids::IdStore;
use wbxprov::scim::user::CORE;
use wbxprov::sim::{self, default_profile};
use wbxprov::{FlatUser, Secret, Value};

/// Every call to the simulated site takes this long.
const LATENCY: Duration = Duration::from_millis(400);

fn scim_user(user_name: &str) -> Json {
    json!({"schemas": [CORE], "userName": user_name,
        "name": {"givenName": "A", "familyName": "B"},
        "emails": [{"value": format!("{user_name}@example.com"), "type": "work"}]})
}

/// A user made on the site by another tool: the front does not see it.
fn site_user(web_ex_id: &str) -> FlatUser {
    let key = |k: &str| k.parse().unwrap();
    [
        (key("webExId"), Value::Text(web_ex_id.into())),
        (
            key("email"),
            Value::Text(format!("{web_ex_id}@example.com")),
        ),
        (
            key("password"),
            Value::Secret(Secret::new("Us3r-Pa55word!")),
        ),
    ]
    .into_iter()
    .collect()
}

fn names(answer: &Json) -> Vec<String> {
    answer["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap().to_owned())
        .collect()
}

/// A simulated site answering `LATENCY` late, and a validating client of it.
async fn slow_site() -> (sim::SimHandle, Arc<Client>) {
    let profile = default_profile();
    let simulator = sim::Simulator::new(
        sim::SimConfig::new(profile.clone()),
        Box::new(sim::store::Memory),
    )
    .unwrap();
    let mut options = sim::ServeOptions::default();
    options.latency = LATENCY;
    let site = sim::serve(simulator, options).await.unwrap();
    let client = Arc::new(
        Client::builder("sim", wbxprov::sim::default_admin())
            .endpoint(&site.url)
            .options(common::fast_retries())
            .validate_with(profile)
            .build()
            .unwrap(),
    );
    (site, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_index_answers_at_once_while_it_is_rebuilt_in_the_background() {
    let (site, client) = slow_site().await;
    let service = Service::new(client.clone(), IdStore::open(None).unwrap(), "http://scim")
        .index_max_age(Duration::from_millis(50));
    service.create(&scim_user("ann")).await.unwrap();
    let listed = ListQuery {
        attributes: vec!["userName".into()],
        ..ListQuery::default()
    };
    // The first list builds the index: it has none to answer from.
    assert_eq!(names(&service.list(&listed).await.unwrap()), ["ann"]);
    client.create_user(site_user("bob")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let listings = site.simulator.calls(Operation::LstsummaryUser);
    let asked = Instant::now();
    let stale = service.list(&listed).await.unwrap();
    let took = asked.elapsed();
    assert!(
        took < LATENCY / 2,
        "the stale list waited {took:?} on the site"
    );
    assert_eq!(names(&stale), ["ann"], "answered from the index it had");

    // Meanwhile the rebuild pages the site; once swapped in, bob is listed.
    let mut fresh = Vec::new();
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        fresh = names(&service.list(&listed).await.unwrap());
        if fresh.len() == 2 {
            break;
        }
    }
    assert_eq!(fresh, ["ann", "bob"]);
    assert!(site.simulator.calls(Operation::LstsummaryUser) > listings);
}

/// A write made by the front while a rebuild pages the site is not lost
/// when the rebuilt index (listed before the write) is swapped in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_during_a_rebuild_survives_the_swap() {
    let ids = IdStore::open(None).unwrap();
    let listed = |w: &str| wbxprov::ops::UserSummary {
        web_ex_id: w.into(),
        ..wbxprov::ops::UserSummary::default()
    };
    ids.replace_index(&[listed("ann")]).unwrap();
    let rebuild = ids.begin_rebuild().unwrap();
    // The front writes cal while the listing (ann, bob) is on its way.
    ids.index_user(&listed("cal"), None).unwrap();
    ids.finish_rebuild(rebuild, &[listed("ann"), listed("bob")])
        .unwrap();
    let all = ids
        .indexed(&wbxprov::scim::ids::IndexNarrowing::All)
        .unwrap();
    let all: Vec<&str> = all.iter().map(|u| u.web_ex_id.as_str()).collect();
    assert_eq!(all, ["ann", "bob", "cal"]);
}

/// The index is kept in the state file with when it was built: a front
/// started again on the same state answers its first list from it at once
/// (rebuilding it in the background when past its age), instead of paging
/// the whole site first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_front_answers_from_the_index_in_its_state() {
    let (_site, client) = slow_site().await;
    let dir = common::fresh_dir("scim-index", "restart");
    let state = dir.join("scim.sqlite3");
    let listed = ListQuery {
        attributes: vec!["userName".into()],
        ..ListQuery::default()
    };
    {
        let first = Service::new(
            client.clone(),
            IdStore::open(Some(&state)).unwrap(),
            "http://scim",
        );
        first.create(&scim_user("ann")).await.unwrap();
        assert_eq!(names(&first.list(&listed).await.unwrap()), ["ann"]);
    }
    let again = Service::new(client, IdStore::open(Some(&state)).unwrap(), "http://scim")
        .index_max_age(Duration::ZERO);
    let asked = Instant::now();
    let answer = again.list(&listed).await.unwrap();
    let took = asked.elapsed();
    assert!(
        took < LATENCY / 2,
        "the first list after a restart waited {took:?}"
    );
    assert_eq!(names(&answer), ["ann"]);
}
