//! Issue 17 follow-up: licences are counted over the whole plan. The site
//! refuses an activation past its host limit (`exceededSiteHostLimit`,
//! spec xml-api.md §2.5) and a create past a session type's (110055,
//! src/xml/codes.rs); the simulator does the same, so a plan that needs
//! more licences than are free is refused before any write.
#![cfg(all(feature = "sync", feature = "sim"))]

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use wbxprov::client::Client;
use wbxprov::sim::{self, SimHandle, default_profile};
use wbxprov::site::{LicenceLimits, SessionTypeLimit, SiteProfile};
use wbxprov::sync::{self, Action, Licence, Mapping, SyncError, SyncOptions};

fn tmp(name: &str) -> PathBuf {
    common::scratch("sync-licences", name)
}

fn client(site: &SimHandle) -> Arc<Client> {
    common::sim_client(site)
}

/// A site of `site_hosts` host licences, `in_use` of them taken (as the
/// admin's profile says), and `pro` licences of session type 214.
fn profile(site_hosts: u32, in_use: u32, pro: Option<(u32, u32)>) -> SiteProfile {
    let mut profile = default_profile();
    profile.limits = Some(LicenceLimits {
        site_hosts: Some(site_hosts),
        current_site_hosts: Some(in_use),
        session_types: pro
            .map(|(hosts, current)| SessionTypeLimit {
                id: 214,
                hosts,
                current_hosts: Some(current),
            })
            .into_iter()
            .collect(),
    });
    profile
}

/// `ids` as a CSV source; `pro` ones hold session type 214.
fn source(name: &str, ids: &[&str], pro: bool) -> PathBuf {
    let mut text = String::from("webExId,email,firstName,lastName,meetingTypes\n");
    for id in ids {
        let types = if pro { "214" } else { "" };
        text.push_str(&format!("{id},{id}@example.com,F,L,{types}\n"));
    }
    let path = tmp(name);
    std::fs::write(&path, text).unwrap();
    path
}

const PRO_MAPPING: &str = r#"
[attributes]
webExId = { field = "webExId" }
email = { field = "email" }
firstName = { field = "firstName" }
lastName = { field = "lastName" }
meetingTypes = { field = "meetingTypes" }
supportedServicesMeetingCenter = { constant = true }
supportedServicesEventCenter = { constant = false }
supportedServicesTrainingCenter = { constant = false }
supportedServicesSupportCenter = { constant = false }
supportedServicesSalesCenter = { constant = false }
"#;

fn engine(site: &SimHandle, profile: SiteProfile, options: SyncOptions) -> sync::Sync {
    sync::Sync::builder(client(site), profile)
        .mapping(Mapping::from_toml(PRO_MAPPING).unwrap())
        .options(options)
        .build()
}

/// The defect: 2 host licences left, 3 creates, each checked alone against
/// the same count, and the site refused the third mid-run. Now the plan is
/// refused before any write, naming how many it needs and how many are free.
#[tokio::test]
async fn three_creates_with_two_host_licences_left_are_refused_before_any_write() {
    let site = sim::start(profile(2, 0, None)).await.unwrap();
    let three = source("three.csv", &["a", "b", "c"], false);
    let err = engine(&site, profile(2, 0, None), SyncOptions::default())
        .plan(sync::source::open(&three).unwrap())
        .await
        .expect_err("3 hosts need 3 licences");
    let SyncError::TooFewLicences { shortfalls } = &err else {
        panic!("{err}");
    };
    assert_eq!(shortfalls.len(), 1, "{err}");
    assert_eq!(shortfalls[0].licence, Licence::SiteHosts);
    assert_eq!((shortfalls[0].needed, shortfalls[0].free), (3, 2), "{err}");
    let message = err.to_string();
    assert!(message.contains("3 host licences"), "{message}");
    assert!(message.contains("2 are free"), "{message}");
    assert!(message.contains("exceededSiteHostLimit"), "{message}");
    assert_eq!(site.simulator.writes(), 0);

    // Two fit: both created, as the site allows.
    let two = source("two.csv", &["a", "b"], false);
    let sync = engine(&site, profile(2, 0, None), SyncOptions::default());
    let plan = sync.plan(sync::source::open(&two).unwrap()).await.unwrap();
    let report = plan.apply(&sync, |_| {}).await.unwrap();
    assert_eq!(report.summary.created, 2);
    assert!(report.all_ok());
}

/// No licence left: one create is refused as the whole plan (not as an
/// invalid row), so that 0 free and 2 free behave alike.
#[tokio::test]
async fn no_licence_left_refuses_a_single_create() {
    let site = sim::start(profile(2, 2, None)).await.unwrap();
    let one = source("one.csv", &["a"], false);
    let err = engine(&site, profile(2, 2, None), SyncOptions::default())
        .plan(sync::source::open(&one).unwrap())
        .await
        .expect_err("no licence left");
    assert!(
        matches!(&err, SyncError::TooFewLicences { shortfalls } if (shortfalls[0].needed, shortfalls[0].free) == (1, 0)),
        "{err}"
    );
}

/// A reactivation takes a licence; a deactivation in the same plan frees
/// none, because deactivations are applied after every write (and the
/// simulator, like the site, counts at each call).
#[tokio::test]
async fn reactivations_count_and_deactivations_in_the_same_plan_do_not_free() {
    let site = sim::start(profile(2, 0, None)).await.unwrap();
    let first = source("first.csv", &["a", "b"], false);
    let sync = engine(&site, profile(2, 0, None), SyncOptions::default());
    let plan = sync
        .plan(sync::source::open(&first).unwrap())
        .await
        .unwrap();
    assert!(plan.apply(&sync, |_| {}).await.unwrap().all_ok());
    client(&site).deactivate(&["b".into()]).await.unwrap();

    // a leaves (deprovisioned), b comes back, c is new: 2 needed, 1 free now.
    let next = source("next.csv", &["b", "c"], false);
    let options = {
        let mut built = SyncOptions::default();
        built.deprovision = true;
        built.max_deprovision_share = 1.0;
        built
    };
    let err = engine(&site, profile(2, 1, None), options)
        .plan(sync::source::open(&next).unwrap())
        .await
        .expect_err("b's reactivation and c's create need 2");
    let SyncError::TooFewLicences { shortfalls } = &err else {
        panic!("{err}");
    };
    assert_eq!((shortfalls[0].needed, shortfalls[0].free), (2, 1), "{err}");
    assert!(err.to_string().contains("deactivat"), "{err}");

    // b alone fits: its reactivation takes the free licence.
    let back = source("back.csv", &["a", "b"], false);
    let sync = engine(&site, profile(2, 1, None), SyncOptions::default());
    let plan = sync.plan(sync::source::open(&back).unwrap()).await.unwrap();
    assert_eq!(plan.count(Action::Reactivate), 1);
    assert!(plan.apply(&sync, |_| {}).await.unwrap().all_ok());
}

/// Session types (110055) are counted over the plan's creates too.
#[tokio::test]
async fn creates_of_a_session_type_are_counted_together() {
    let site = sim::start(profile(10, 0, Some((2, 1)))).await.unwrap();
    let pros = source("pros.csv", &["p1", "p2"], true);
    let err = engine(&site, profile(10, 0, Some((2, 1))), SyncOptions::default())
        .plan(sync::source::open(&pros).unwrap())
        .await
        .expect_err("2 creates of 214 with 1 free");
    let SyncError::TooFewLicences { shortfalls } = &err else {
        panic!("{err}");
    };
    assert_eq!(shortfalls.len(), 1, "{err}");
    assert_eq!(shortfalls[0].licence, Licence::SessionType(214));
    assert_eq!((shortfalls[0].needed, shortfalls[0].free), (2, 1), "{err}");
    assert!(err.to_string().contains("session type 214"), "{err}");
    assert!(err.to_string().contains("110055"), "{err}");
    assert_eq!(site.simulator.writes(), 0);
}
