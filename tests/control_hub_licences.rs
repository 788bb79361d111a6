//! Control Hub mode with the site's licence (issue 19): each person in three
//! halves — identity, licence, Meetings settings — against the simulator with
//! its licence model on (`SimConfig::control_hub_licences`: a person is a site
//! user only while holding the site's Meetings licence).
#![cfg(all(feature = "sync", feature = "sim", feature = "https"))]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use wbxprov::Secret;
use wbxprov::client::transport::{Https, Sending, Transport, TransportError};
use wbxprov::client::{Client, Outgoing};
use wbxprov::identity::IdentityClient;
use wbxprov::identity::transport::HttpsJson;
use wbxprov::ops::Operation;
use wbxprov::rest::licences::LicenceClient;
use wbxprov::rest::transport::HttpSending;
use wbxprov::rest::{HttpRequest, HttpTransport, Method};
use wbxprov::schema::{Attribute, FlatKey, Value};
use wbxprov::sim::{self, DEFAULT_IDENTITY_TOKEN, SimConfig, SimHandle, Simulator};
use wbxprov::site::{ControlHub, SiteProfile};
use wbxprov::sync::{
    self, Action, Journal, Licence, LicenceAction, Mapping, Report, SyncError, SyncOptions,
};

const ORG: &str = "a35bfbc6-ccbd-4a17-a488-72gf46c5420c";
const SITE_URL: &str = "example.webex.com";

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

async fn site(site_hosts: u32) -> SimHandle {
    let mut config = SimConfig::new(profile(site_hosts));
    config.control_hub_licences = true;
    let sim = Simulator::new(config, Box::new(sim::store::Memory)).unwrap();
    sim::serve(sim, sim::ServeOptions::default()).await.unwrap()
}

fn tmp(name: &str) -> PathBuf {
    common::scratch("chl", name)
}

const MAPPING: &str = r#"
match = "email"
externalId = { field = "id" }
attendee = { field = "role", in = ["guest"] }

[attributes]
email = { field = "email" }
firstName = { field = "first" }
lastName = { field = "last" }
privilegeHQvideo = { field = "hq" }
"#;

fn write_source(path: &Path, rows: &[&str]) {
    let mut text = String::from("id,email,first,last,hq,role\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

fn https() -> HttpsJson {
    HttpsJson::new(Duration::from_secs(5), Duration::from_secs(10)).unwrap()
}

fn identity(site: &SimHandle) -> Arc<IdentityClient> {
    let client = IdentityClient::new(
        &site.identity_url,
        ORG,
        Secret::new(DEFAULT_IDENTITY_TOKEN),
        Arc::new(https()),
    );
    Arc::new(client.retry(common::fast_retries().retry))
}

/// Counts the licence changes (PATCH) the licences API is sent.
struct CountingPatches(HttpsJson, Arc<AtomicU64>);

impl HttpTransport for CountingPatches {
    fn send<'a>(&'a self, request: &'a HttpRequest, token: &'a Secret) -> HttpSending<'a> {
        if request.method == Method::PATCH {
            self.1.fetch_add(1, Ordering::SeqCst);
        }
        self.0.send(request, token)
    }
}

/// The licences API of the simulator, from `SimHandle::rest_url` with the
/// identity token; its PATCH count.
fn licences(site: &SimHandle) -> (Arc<LicenceClient>, Arc<AtomicU64>) {
    let patches = Arc::new(AtomicU64::new(0));
    let transport = CountingPatches(https(), patches.clone());
    let client = LicenceClient::new(
        &site.rest_url,
        Secret::new(DEFAULT_IDENTITY_TOKEN),
        Arc::new(transport),
    );
    (
        Arc::new(client.retry(common::fast_retries().retry)),
        patches,
    )
}

fn xml_client(site: &SimHandle, transport: Option<Arc<dyn Transport>>) -> Arc<Client> {
    let mut builder = Client::builder("example", wbxprov::sim::default_admin())
        .endpoint(&site.url)
        .options(common::fast_retries())
        .validate_with(profile(10));
    if let Some(t) = transport {
        builder = builder.transport(t);
    }
    Arc::new(builder.build().unwrap())
}

struct Run<'a> {
    site: &'a SimHandle,
    client: Arc<Client>,
    licences: Arc<LicenceClient>,
    journal: PathBuf,
    mapping: String,
    deprovision: bool,
}

impl<'a> Run<'a> {
    fn new(site: &'a SimHandle, licences: Arc<LicenceClient>, name: &str) -> Run<'a> {
        Run {
            site,
            client: xml_client(site, None),
            licences,
            journal: tmp(&format!("{name}.sqlite")),
            mapping: MAPPING.to_owned(),
            deprovision: false,
        }
    }

    fn engine(&self) -> sync::Sync {
        let options = {
            let mut built = SyncOptions::default();
            built.deprovision = self.deprovision;
            built.max_deprovision_share = 1.0;
            built.concurrency = 2;
            built
        };
        sync::Sync::builder(self.client.clone(), profile(10))
            .mapping(Mapping::from_toml(&self.mapping).unwrap())
            .journal(Arc::new(Journal::open(&self.journal).unwrap()))
            .options(options)
            .identity(identity(self.site))
            .licences(self.licences.clone(), SITE_URL)
            .build()
    }

    async fn plan(&self, source: &Path) -> Result<sync::Plan, SyncError> {
        self.engine()
            .plan(sync::source::open(source).unwrap())
            .await
    }

    async fn apply(&self, source: &Path) -> (sync::Plan, Report) {
        let engine = self.engine();
        let plan = engine
            .plan(sync::source::open(source).unwrap())
            .await
            .unwrap();
        let report = plan.clone().apply(&engine, |_| {}).await.unwrap();
        (plan, report)
    }
}

fn user<'a>(report: &'a Report, email: &str) -> &'a sync::UserReport {
    report
        .users
        .iter()
        .find(|u| u.web_ex_id.eq_ignore_ascii_case(email))
        .unwrap_or_else(|| panic!("{email} not in the report: {report:#?}"))
}

/// (operation, status) of each half, in order.
fn halves(u: &sync::UserReport) -> [(String, &'static str); 3] {
    let half = |h: &Option<sync::HalfReport>| {
        let h = h.as_ref().expect("three halves");
        (h.operation.as_str().to_owned(), h.status)
    };
    [half(&u.identity), half(&u.licence), half(&u.meetings)]
}

fn pair(op: &str, status: &'static str) -> (String, &'static str) {
    (op.to_owned(), status)
}

async fn consumed(licences: &LicenceClient) -> Option<u64> {
    let licence = licences.site_licence(SITE_URL).await.unwrap().unwrap();
    licence.consumed_units
}

async fn site_value(client: &Client, email: &str, attribute: Attribute) -> Option<Value> {
    let user = client.get_user(email).await.unwrap().to_flat();
    user.get(&FlatKey::new(attribute)).cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_people_are_created_licensed_and_set_up_in_one_run_and_a_rerun_writes_nothing() {
    let site = site(5).await;
    let (licences, patches) = licences(&site);
    let run = Run::new(&site, licences.clone(), "new");
    let source = tmp("new.csv");
    write_source(
        &source,
        &[
            "e1,alice@example.com,Alice,Smith,true,",
            "e2,bob@example.com,Bob,Builder,false,",
        ],
    );
    let (_, report) = run.apply(&source).await;
    assert_eq!(report.summary.failed, 0, "{report:#?}");
    assert_eq!(report.summary.created, 2, "{report:#?}");
    let alice = user(&report, "alice@example.com");
    assert_eq!(
        halves(alice),
        [
            pair("create", "ok"),
            pair("assign", "ok"),
            pair("update", "ok")
        ]
    );
    assert_eq!(alice.attempts, 3, "one request per half");
    // The JSON report names the halves exactly so.
    let json = serde_json::to_value(alice).unwrap();
    for half in ["identity", "licence", "meetings"] {
        let keys: Vec<&String> = json[half].as_object().unwrap().keys().collect();
        assert!(
            ["operation", "status", "attributes"]
                .iter()
                .all(|k| keys.iter().any(|key| key == k)),
            "{half}: {json:#}"
        );
    }
    assert_eq!(
        json["licence"]["attributes"]["licenses"][0]["operation"],
        "add"
    );
    assert_eq!(consumed(&licences).await, Some(2));
    assert_eq!(
        site_value(
            &run.client,
            "alice@example.com",
            Attribute::PrivilegeHQvideo
        )
        .await,
        Some(Value::Bool(true))
    );
    assert_eq!(site.simulator.calls(Operation::CreateUser), 0);
    assert_eq!(site.simulator.identity_via_xml(), 0);

    // Unchanged: nothing written anywhere.
    let (writes, posts, patched) = (
        site.simulator.writes(),
        site.simulator.identity_calls("POST"),
        patches.load(Ordering::SeqCst),
    );
    let (plan, report) = run.apply(&source).await;
    assert_eq!(report.summary.unchanged, 2, "{report:#?}");
    assert!(plan.steps.iter().all(|s| !s.writes()), "{plan:#?}");
    assert_eq!(
        halves(user(&report, "bob@example.com")),
        [
            pair("unchanged", "skipped"),
            pair("unchanged", "skipped"),
            pair("unchanged", "skipped")
        ]
    );
    assert_eq!(site.simulator.writes(), writes);
    assert_eq!(site.simulator.identity_calls("POST"), posts);
    assert_eq!(site.simulator.identity_calls("PATCH"), 0);
    assert_eq!(patches.load(Ordering::SeqCst), patched);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_unlicensed_person_is_licensed_not_recreated() {
    let site = site(5).await;
    let org = identity(&site);
    let person = wbxprov::identity::Person {
        id: None,
        attributes: [(
            FlatKey::new(Attribute::WebExId),
            Value::Text("dana@example.com".into()),
        )]
        .into_iter()
        .collect(),
        display_name: None,
        external_id: None,
    };
    org.create(&person).await.unwrap();
    let (licences, _) = licences(&site);
    let run = Run::new(&site, licences.clone(), "existing");
    // Not a site user until licensed: the plan finds no site user for her.
    assert!(run.client.get_user("dana@example.com").await.is_err());
    let source = tmp("existing.csv");
    write_source(&source, &["e4,dana@example.com,Dana,Scully,true,"]);

    let (_, report) = run.apply(&source).await;
    assert_eq!(report.summary.failed, 0, "{report:#?}");
    let dana = user(&report, "dana@example.com");
    assert_eq!(
        halves(dana),
        [
            pair("link", "ok"),
            pair("assign", "ok"),
            pair("update", "ok")
        ]
    );
    assert_eq!(
        site.simulator.identity_calls("POST"),
        1,
        "not created again"
    );
    assert_eq!(site.simulator.calls(Operation::CreateUser), 0);
    assert_eq!(consumed(&licences).await, Some(1));
    assert_eq!(
        site_value(&run.client, "dana@example.com", Attribute::LastName).await,
        Some(Value::Text("Scully".into()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_needing_more_licences_than_are_free_is_refused_before_any_write() {
    let site = site(2).await;
    let (licences, patches) = licences(&site);
    let run = Run::new(&site, licences.clone(), "short");
    let source = tmp("short.csv");
    write_source(
        &source,
        &[
            "e1,a@example.com,A,A,true,",
            "e2,b@example.com,B,B,true,",
            "e3,c@example.com,C,C,true,",
            "e4,g@example.com,G,G,true,guest",
        ],
    );
    let refused = run.plan(&source).await.unwrap_err();
    let SyncError::TooFewLicences { shortfalls } = &refused else {
        panic!("{refused:?}");
    };
    assert_eq!(shortfalls[0].licence, Licence::ControlHubSite);
    assert_eq!(
        (shortfalls[0].needed, shortfalls[0].free),
        (3, 2),
        "the attendee takes no unit"
    );
    let message = refused.to_string();
    assert!(
        message.contains("3 units of the site's Meetings licence and 2 are free"),
        "{message}"
    );
    assert_eq!(site.simulator.identity_calls("POST"), 0);
    assert_eq!(site.simulator.writes(), 0);
    assert_eq!(patches.load(Ordering::SeqCst), 0);
    assert_eq!(consumed(&licences).await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deprovision_removes_the_licence_by_default_and_keeps_it_when_asked() {
    for (setting, freed) in [("", true), ("licenceOnDeprovision = \"keep\"\n", false)] {
        let site = site(5).await;
        let (licences, _) = licences(&site);
        let mut run = Run::new(&site, licences.clone(), &format!("leave{freed}"));
        run.mapping = format!("{setting}{MAPPING}");
        let source = tmp(&format!("leave{freed}.csv"));
        write_source(
            &source,
            &[
                "e1,ann@example.com,Ann,A,true,",
                "e2,ben@example.com,Ben,B,true,",
            ],
        );
        let (_, report) = run.apply(&source).await;
        assert_eq!(report.summary.created, 2, "{report:#?}");

        write_source(&source, &["e1,ann@example.com,Ann,A,true,"]);
        run.deprovision = true;
        let (_, report) = run.apply(&source).await;
        assert_eq!(report.summary.failed, 0, "{report:#?}");
        let ben = user(&report, "ben@example.com");
        assert_eq!(ben.operation, Action::Deactivate);
        let licence = ben.licence.as_ref().unwrap();
        let (action, status) = if freed {
            (LicenceAction::Remove, "ok")
        } else {
            (LicenceAction::Keep, "skipped")
        };
        assert_eq!((licence.operation, licence.status), (action.into(), status));
        assert!(
            !identity(&site)
                .find("ben@example.com")
                .await
                .unwrap()
                .unwrap()
                .active()
        );
        assert_eq!(consumed(&licences).await, Some(if freed { 1 } else { 2 }));
        assert_eq!(
            run.client.get_user("ben@example.com").await.is_ok(),
            !freed,
            "a person without the licence is no site user"
        );

        // Done: the next run leaves Ben alone.
        let (plan, _) = run.apply(&source).await;
        assert!(plan.steps.iter().all(|s| !s.writes()), "{plan:#?}");

        // Ben is back: reactivated, and licensed again where it was removed.
        write_source(
            &source,
            &[
                "e1,ann@example.com,Ann,A,true,",
                "e2,ben@example.com,Ben,B,true,",
            ],
        );
        let (_, report) = run.apply(&source).await;
        assert_eq!(report.summary.failed, 0, "{report:#?}");
        let ben = user(&report, "ben@example.com");
        assert_eq!(ben.operation, Action::Reactivate);
        let expected = if freed { "assign" } else { "unchanged" };
        assert_eq!(halves(ben)[1].0, expected, "{ben:#?}");
        assert_eq!(consumed(&licences).await, Some(2));
        assert_eq!(
            site_value(&run.client, "ben@example.com", Attribute::Active).await,
            Some(Value::Text("ACTIVATED".into()))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_the_source_deactivates_gives_the_licence_back() {
    let site = site(5).await;
    let (licences, _) = licences(&site);
    let mut run = Run::new(&site, licences.clone(), "inactive");
    run.mapping = MAPPING.replace(
        "[attributes]",
        "[attributes]\nactive = { field = \"state\" }",
    );
    let source = tmp("inactive.csv");
    let rows = |state: &str| {
        let text =
            format!("id,email,first,last,hq,role,state\ne5,eve@example.com,Eve,E,true,,{state}\n");
        std::fs::write(&source, text).unwrap();
    };
    rows("ACTIVATED");
    let (_, report) = run.apply(&source).await;
    assert_eq!(report.summary.created, 1, "{report:#?}");
    rows("DEACTIVATED");
    let (_, report) = run.apply(&source).await;
    assert_eq!(report.summary.failed, 0, "{report:#?}");
    let eve = user(&report, "eve@example.com");
    assert_eq!(
        halves(eve),
        [
            pair("deactivate", "ok"),
            pair("remove", "ok"),
            pair("unchanged", "skipped")
        ]
    );
    assert_eq!(consumed(&licences).await, Some(0));
    let (plan, _) = run.apply(&source).await;
    assert!(plan.steps.iter().all(|s| !s.writes()), "{plan:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_licence_change_the_api_leaves_undone_is_that_users_failure() {
    // Every PATCH answered 206 with the attendee site not applied.
    let mut config = SimConfig::new(profile(5));
    config.control_hub_licences = true;
    config.licence_206_every = Some(1);
    let sim = Simulator::new(config, Box::new(sim::store::Memory)).unwrap();
    let site = sim::serve(sim, sim::ServeOptions::default()).await.unwrap();
    let (licences, _) = licences(&site);
    let run = Run::new(&site, licences, "partial");
    let source = tmp("partial.csv");
    write_source(&source, &["e7,gus@example.com,Gus,G,true,"]);
    let (_, report) = run.apply(&source).await;
    assert_eq!(report.summary.created, 1, "{report:#?}");
    // Gus hosts; now he is to attend: the licence removal is applied, the
    // attendee site not (206).
    write_source(
        &source,
        &[
            "e7,gus@example.com,Gus,G,true,guest",
            "e8,hal@example.com,Hal,H,true,",
        ],
    );
    let (_, report) = run.apply(&source).await;
    assert_eq!(report.summary.failed, 1, "{report:#?}");
    let gus = user(&report, "gus@example.com");
    let error = gus.licence.as_ref().unwrap().error.as_ref().unwrap();
    assert_eq!(error.kind, "licenceNotApplied");
    assert!(
        error.message.contains("gus@example.com")
            && error.message.contains("example.webex.com")
            && error.message.contains("400216"),
        "{}",
        error.message
    );
    assert_eq!(halves(gus)[2].1, "skipped");
    assert_eq!(user(&report, "hal@example.com").status, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attendee_gets_the_site_as_attendee_and_no_licence() {
    let site = site(5).await;
    let (licences, patches) = licences(&site);
    let run = Run::new(&site, licences.clone(), "attendee");
    let source = tmp("attendee.csv");
    write_source(&source, &["e7,gus@example.com,Gus,G,true,guest"]);
    let (_, report) = run.apply(&source).await;
    assert_eq!(report.summary.failed, 0, "{report:#?}");
    let gus = user(&report, "gus@example.com");
    assert_eq!(
        halves(gus),
        [
            pair("create", "ok"),
            pair("attendee", "ok"),
            pair("unchanged", "skipped")
        ],
        "no SetUser for someone who is no host: {gus:#?}"
    );
    let json = serde_json::to_value(gus).unwrap();
    assert_eq!(
        json["licence"]["attributes"]["siteUrls"][0]["accountType"],
        "attendee"
    );
    assert_eq!(consumed(&licences).await, Some(0));
    let patched = patches.load(Ordering::SeqCst);
    let (plan, _) = run.apply(&source).await;
    assert!(plan.steps.iter().all(|s| !s.writes()), "{plan:#?}");
    assert_eq!(patches.load(Ordering::SeqCst), patched);
}

/// Sends every request but SetUser, which fails as a dropped connection: a
/// run cut after the licence half.
struct NoSetUser(Https);

impl Transport for NoSetUser {
    fn send<'a>(&'a self, request: &'a Outgoing) -> Sending<'a> {
        if request.operation == Operation::SetUser {
            return Box::pin(async {
                Err(TransportError::Other("connection reset (test)".into()))
            });
        }
        self.0.send(request)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cut_after_the_licence_half_finishes_on_rerun_without_duplicates() {
    let site = site(5).await;
    let (licences, patches) = licences(&site);
    let mut run = Run::new(&site, licences.clone(), "cut");
    let source = tmp("cut.csv");
    write_source(&source, &["e9,erin@example.com,Erin,Moss,true,"]);
    let https = Https::new(Duration::from_secs(5), Duration::from_secs(10)).unwrap();
    run.client = xml_client(&site, Some(Arc::new(NoSetUser(https))));
    let (_, report) = run.apply(&source).await;
    let erin = user(&report, "erin@example.com");
    assert_eq!(
        halves(erin),
        [
            pair("create", "ok"),
            pair("assign", "ok"),
            pair("update", "failed")
        ]
    );
    assert!(
        erin.error
            .as_ref()
            .unwrap()
            .message
            .contains("erin@example.com"),
        "{erin:#?}"
    );

    run.client = xml_client(&site, None);
    let (_, report) = run.apply(&source).await;
    assert_eq!(report.summary.failed, 0, "{report:#?}");
    let erin = user(&report, "erin@example.com");
    // The person found (linked: the failed run's journal entry is not a
    // success), the licence found held, only the settings sent.
    assert_eq!(
        halves(erin),
        [
            pair("link", "skipped"),
            pair("unchanged", "skipped"),
            pair("update", "ok")
        ]
    );
    assert_eq!(site.simulator.identity_calls("POST"), 1, "one person");
    assert_eq!(patches.load(Ordering::SeqCst), 1, "licensed once");
    assert_eq!(consumed(&licences).await, Some(1));
    assert_eq!(
        site_value(&run.client, "erin@example.com", Attribute::PrivilegeHQvideo).await,
        Some(Value::Bool(true))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_shows_the_three_halves_planned() {
    let site = site(5).await;
    let (licences, patches) = licences(&site);
    let run = Run::new(&site, licences, "dry");
    let source = tmp("dry.csv");
    write_source(&source, &["e1,fay@example.com,Fay,F,true,"]);
    let plan = run.plan(&source).await.unwrap();
    let preview = sync::preview(&plan);
    assert_eq!(
        halves(user(&preview, "fay@example.com")),
        [
            pair("create", "planned"),
            pair("assign", "planned"),
            pair("update", "planned")
        ]
    );
    assert_eq!(patches.load(Ordering::SeqCst), 0);
    assert_eq!(site.simulator.identity_calls("POST"), 0);
}
