//! Control-Hub-managed sites end to end against the simulator: people through
//! the Webex identity API, Meetings settings through SetUser, in one run; the
//! XML API never gets an attribute the identity owns (counted at the
//! simulator); a run cut between the two halves completes on the next run
//! without a second person.
#![cfg(all(feature = "sync", feature = "sim", feature = "https"))]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use wbxprov::Secret;
use wbxprov::client::transport::{Https, Sending, Transport, TransportError};
use wbxprov::client::{Client, Outgoing};
use wbxprov::identity::IdentityClient;
use wbxprov::identity::transport::HttpsJson;
use wbxprov::ops::Operation;
use wbxprov::schema::{Attribute, FlatKey, Value};
use wbxprov::sim::{
    self, DEFAULT_IDENTITY_TOKEN, SimConfig, SimHandle, Simulator, default_profile,
};
use wbxprov::site::{ControlHub, SiteProfile};
use wbxprov::sync::{self, Action, Journal, Mapping, Report, SyncOptions};

const ORG: &str = "a35bfbc6-ccbd-4a17-a488-72gf46c5420c";

fn profile() -> SiteProfile {
    let mut p = default_profile();
    p.control_hub = Some(ControlHub { org_id: ORG.into() });
    p.control_hub_managed = true;
    p
}

async fn site() -> SimHandle {
    let sim = Simulator::new(SimConfig::new(profile()), Box::new(sim::store::Memory)).unwrap();
    sim::serve(sim, sim::ServeOptions::default()).await.unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wbxprov-ch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

const MAPPING: &str = r#"
# A source key is for standalone sites: here people are matched by email.
key = "id"
match = "email"
externalId = { field = "id" }

[attributes]
email = { field = "email" }
firstName = { field = "first" }
lastName = { field = "last" }
title = { field = "title" }
privilegeHQvideo = { field = "hq" }
meetingTypes = { field = "types", lookup = { pro = [214], both = [214, 216] } }
supportedServicesMeetingCenter = { constant = true }
supportedServicesTrainingCenter = { constant = false }
supportedServicesSupportCenter = { constant = false }
supportedServicesEventCenter = { constant = false }
supportedServicesSalesCenter = { constant = false }
"#;

fn write_source(path: &Path, rows: &[&str]) {
    let mut text = String::from("id,email,first,last,title,hq,types\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

fn identity(site: &SimHandle) -> Arc<IdentityClient> {
    let https = HttpsJson::new(Duration::from_secs(5), Duration::from_secs(10)).unwrap();
    Arc::new(
        IdentityClient::new(
            &site.identity_url,
            ORG,
            Secret::new(DEFAULT_IDENTITY_TOKEN),
            Arc::new(https),
        )
        .retry(common::fast_retries().retry),
    )
}

fn xml_client(site: &SimHandle, transport: Option<Arc<dyn Transport>>) -> Arc<Client> {
    let mut builder = Client::builder("sim", wbxprov::sim::default_admin())
        .endpoint(&site.url)
        .options(common::fast_retries())
        .validate_with(profile());
    if let Some(t) = transport {
        builder = builder.transport(t);
    }
    Arc::new(builder.build().unwrap())
}

async fn run(
    site: &SimHandle,
    client: &Arc<Client>,
    source: &Path,
    journal: &Path,
    deprovision: bool,
) -> (sync::Plan, Report) {
    let options = {
        let mut built = SyncOptions::default();
        built.deprovision = deprovision;
        built.max_deprovision_share = 1.0;
        built
    };
    let engine = sync::Sync::builder(client.clone(), profile())
        .mapping(Mapping::from_toml(MAPPING).unwrap())
        .journal(Arc::new(Journal::open(journal).unwrap()))
        .options(options)
        .identity(identity(site))
        .build();
    let plan = engine
        .plan(sync::source::open(source).unwrap())
        .await
        .unwrap();
    let report = plan.clone().apply(&engine, |_| {}).await.unwrap();
    (plan, report)
}

fn user<'a>(report: &'a Report, email: &str) -> &'a sync::UserReport {
    report
        .users
        .iter()
        .find(|u| u.web_ex_id.eq_ignore_ascii_case(email))
        .unwrap_or_else(|| panic!("{email} not in the report: {report:#?}"))
}

async fn site_value(client: &Client, email: &str, name: &str) -> Option<Value> {
    let user = client.get_user(email).await.unwrap().to_flat();
    user.get(&name.parse::<FlatKey>().unwrap()).cloned()
}

/// Whether a half of a user's report sends `name`.
fn carries(half: &Option<sync::HalfReport>, name: &str) -> bool {
    half.as_ref()
        .is_some_and(|h| h.attributes.contains_key(name))
}

fn text(s: &str) -> Option<Value> {
    Some(Value::Text(s.into()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_halves_in_one_run_create_link_update_deactivate_reactivate() {
    let site = site().await;
    let client = xml_client(&site, None);
    let org = identity(&site);
    // Bob is already a person of the organisation (and so a site user).
    let bob = wbxprov::identity::Person {
        id: None,
        attributes: [
            (Attribute::WebExId, "bob@example.com"),
            (Attribute::FirstName, "Bob"),
            (Attribute::LastName, "Builder"),
            (Attribute::Title, "Old title"),
        ]
        .into_iter()
        .map(|(a, v)| (FlatKey::new(a), Value::Text(v.into())))
        .collect(),
        display_name: None,
        external_id: None,
    };
    org.create(&bob).await.unwrap();

    let source = tmp("a.csv");
    let journal = tmp("a.sqlite");
    let _ = std::fs::remove_file(&journal);
    write_source(
        &source,
        &[
            "e1,alice@example.com,Alice,Smith,Engineer,true,pro",
            "e2,bob@example.com,Bob,Builder,Foreman,false,both",
            "e3,carol@example.com,Carol,Jones,Analyst,true,pro",
        ],
    );
    let (plan, report) = run(&site, &client, &source, &journal, false).await;
    assert_eq!(report.summary.failed, 0, "{report:#?}");
    assert_eq!(plan.count(Action::Create), 2);
    assert_eq!(plan.count(Action::Link), 1);
    let alice = user(&report, "alice@example.com");
    assert_eq!(alice.identity.as_ref().unwrap().operation, Action::Create);
    assert_eq!(alice.identity.as_ref().unwrap().status, "ok");
    assert_eq!(alice.meetings.as_ref().unwrap().status, "ok");
    // One request per half (issue 15 item 12).
    assert_eq!(alice.attempts, 2);
    let bob_report = user(&report, "bob@example.com");
    assert_eq!(
        bob_report.identity.as_ref().unwrap().operation,
        Action::Link
    );
    assert!(carries(&bob_report.identity, "title"));
    // The person half went to the identity API, the Meetings half to SetUser.
    assert!(!carries(&alice.meetings, "firstName"));
    assert!(carries(&alice.meetings, "privilegeHQvideo"));
    assert_eq!(
        site_value(&client, "alice@example.com", "title").await,
        text("Engineer")
    );
    assert_eq!(
        site_value(&client, "alice@example.com", "privilegeHQvideo").await,
        Some(Value::Bool(true))
    );
    assert_eq!(
        site_value(&client, "bob@example.com", "title").await,
        text("Foreman")
    );
    assert_eq!(
        site_value(&client, "bob@example.com", "meetingTypes").await,
        Some(Value::IntList(vec![214, 216]))
    );
    let alice_person = org.find("alice@example.com").await.unwrap().unwrap();
    assert_eq!(alice_person.external_id.as_deref(), Some("e1"));
    assert_eq!(alice_person.display_name.as_deref(), Some("Alice Smith"));

    // Nothing changed: nothing written.
    let writes = site.simulator.writes();
    let patches = site.simulator.identity_calls("PATCH");
    let (_, report) = run(&site, &client, &source, &journal, false).await;
    assert_eq!(report.summary.unchanged, 3, "{report:#?}");
    assert_eq!(site.simulator.writes(), writes);
    assert_eq!(site.simulator.identity_calls("PATCH"), patches);

    // Identity and Meetings attributes of one user in one run; carol leaves.
    write_source(
        &source,
        &[
            "e1,alice@example.com,Alice,Smith-Lee,Engineer,false,pro",
            "e2,bob@example.com,Bob,Builder,Foreman,false,both",
        ],
    );
    let (plan, report) = run(&site, &client, &source, &journal, true).await;
    assert_eq!(report.summary.failed, 0, "{report:#?}");
    let alice = user(&report, "alice@example.com");
    assert_eq!(plan.count(Action::Update), 1);
    assert!(carries(&alice.identity, "lastName"));
    assert!(carries(&alice.meetings, "privilegeHQvideo"));
    assert_eq!(
        site_value(&client, "alice@example.com", "lastName").await,
        text("Smith-Lee")
    );
    assert_eq!(
        site_value(&client, "alice@example.com", "privilegeHQvideo").await,
        Some(Value::Bool(false))
    );
    assert_eq!(
        org.find("alice@example.com")
            .await
            .unwrap()
            .unwrap()
            .display_name
            .as_deref(),
        Some("Alice Smith-Lee")
    );
    let carol = user(&report, "carol@example.com");
    assert_eq!(carol.operation, Action::Deactivate);
    assert_eq!(carol.identity.as_ref().unwrap().status, "ok");
    assert!(
        !org.find("carol@example.com")
            .await
            .unwrap()
            .unwrap()
            .active()
    );
    assert_eq!(
        site_value(&client, "carol@example.com", "active").await,
        text("DEACTIVATED")
    );

    // Carol is back.
    write_source(
        &source,
        &[
            "e1,alice@example.com,Alice,Smith-Lee,Engineer,false,pro",
            "e2,bob@example.com,Bob,Builder,Foreman,false,both",
            "e3,carol@example.com,Carol,Jones,Analyst,true,pro",
        ],
    );
    let (plan, report) = run(&site, &client, &source, &journal, false).await;
    assert_eq!(report.summary.failed, 0, "{report:#?}");
    assert_eq!(plan.count(Action::Reactivate), 1);
    assert!(
        org.find("carol@example.com")
            .await
            .unwrap()
            .unwrap()
            .active()
    );
    assert_eq!(
        site_value(&client, "carol@example.com", "active").await,
        text("ACTIVATED")
    );

    assert_eq!(
        site.simulator.identity_via_xml(),
        0,
        "the XML API never received an attribute the identity owns"
    );
    assert_eq!(site.simulator.calls(Operation::CreateUser), 0);
    assert_eq!(
        site.simulator.identity_calls("POST"),
        3,
        "one POST per person"
    );
}

/// The plan of a source mapped by name, nothing carried out.
async fn plan_only(
    site: &SimHandle,
    client: &Arc<Client>,
    source: &Path,
    journal: &Path,
) -> sync::Plan {
    sync::Sync::builder(client.clone(), profile())
        .journal(Arc::new(Journal::open(journal).unwrap()))
        .identity(identity(site))
        .build()
        .plan(sync::source::open(source).unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_validator_knows_the_routing() {
    let site = site().await;
    let client = xml_client(&site, None);
    let source = tmp("v.csv");
    let journal = tmp("v.sqlite");
    let _ = std::fs::remove_file(&journal);
    std::fs::write(
        &source,
        "email,firstName,lastName,password,privilegeHQvideo\n\
         dave@example.com,Dave,Doe,S3cret-pass!,true\n",
    )
    .unwrap();
    let plan = plan_only(&site, &client, &source, &journal).await;
    let step = &plan.steps[0];
    assert_eq!(step.action, Action::Invalid, "{step:?}");
    assert!(
        step.problems
            .iter()
            .any(|p| p.attribute.as_deref() == Some("password") && p.reason.contains("identity")),
        "{:?}",
        step.problems
    );
    // Without a password: the person half and the Meetings half, routed.
    std::fs::write(
        &source,
        "email,firstName,lastName,privilegeHQvideo\ndave@example.com,Dave,Doe,true\n",
    )
    .unwrap();
    let plan = plan_only(&site, &client, &source, &journal).await;
    let step = &plan.steps[0];
    let person = step.identity.as_ref().unwrap();
    assert_eq!(person.action, Action::Create);
    for a in ["firstName", "lastName", "email", "webExId"] {
        assert!(
            person.change.get(&a.parse().unwrap()).is_some(),
            "{a} goes to the identity"
        );
        assert!(
            step.change.get(&a.parse().unwrap()).is_none(),
            "{a} stays out of SetUser"
        );
    }
    assert_eq!(
        step.change.get(&"privilegeHQvideo".parse().unwrap()),
        Some(&Value::Bool(true))
    );
    let preview = sync::preview(&plan);
    let dave = &preview.users[0];
    assert_eq!(dave.identity.as_ref().unwrap().status, "planned");
    assert_eq!(dave.meetings.as_ref().unwrap().status, "planned");
    assert_eq!(site.simulator.writes(), 0);
    assert_eq!(
        site.simulator.identity_calls("POST"),
        0,
        "a plan writes nothing"
    );
}

/// Fails every SetUser: the run is cut after the person's half.
struct NoSetUser(Https);

impl Transport for NoSetUser {
    fn send<'a>(&'a self, request: &'a Outgoing) -> Sending<'a> {
        if request.operation == Operation::SetUser {
            return Box::pin(async {
                Err(TransportError::Connection {
                    message: "cut between the two halves".into(),
                    sent: false,
                })
            });
        }
        self.0.send(request)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cut_between_the_halves_completes_on_the_next_without_a_second_person() {
    let site = site().await;
    let source = tmp("cut.csv");
    let journal = tmp("cut.sqlite");
    let _ = std::fs::remove_file(&journal);
    write_source(
        &source,
        &["e9,erin@example.com,Erin,Moss,Chemist,true,both"],
    );

    let https = Https::new(Duration::from_secs(5), Duration::from_secs(10)).unwrap();
    let cut = xml_client(&site, Some(Arc::new(NoSetUser(https))));
    let (_, report) = run(&site, &cut, &source, &journal, false).await;
    let erin = user(&report, "erin@example.com");
    assert_eq!(erin.status, "failed", "{erin:#?}");
    assert_eq!(erin.identity.as_ref().unwrap().status, "ok");
    assert_eq!(erin.meetings.as_ref().unwrap().status, "failed");
    let message = &erin.error.as_ref().unwrap().message;
    assert!(
        message.contains("SetUser") && message.contains("erin@example.com"),
        "{message}"
    );
    assert_eq!(report.summary.failed, 1);

    let client = xml_client(&site, None);
    let (plan, report) = run(&site, &client, &source, &journal, false).await;
    assert_eq!(report.summary.failed, 0, "{report:#?}");
    let step = &plan.steps[0];
    assert_ne!(step.identity.as_ref().unwrap().action, Action::Create);
    assert!(
        step.change
            .get(&"privilegeHQvideo".parse().unwrap())
            .is_some()
    );
    assert_eq!(
        site_value(&client, "erin@example.com", "meetingTypes").await,
        Some(Value::IntList(vec![214, 216]))
    );
    assert_eq!(
        site.simulator.identity_calls("POST"),
        1,
        "one person, not two"
    );
    assert_eq!(site.simulator.user_count(), 1);
    assert_eq!(site.simulator.identity_via_xml(), 0);
}
