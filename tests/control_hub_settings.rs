//! Control Hub mode's Meetings settings routed by the catalogue's
//! `controlHub` column (issue 19): meetingTypes through the session-types
//! API, tracking codes through the tracking-codes API (by the site's names),
//! the rest through SetUser; against the simulator with its licence model.
#![cfg(all(feature = "sync", feature = "sim", feature = "https"))]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wbxprov::Secret;
use wbxprov::client::transport::{Https, Sending, Transport};
use wbxprov::client::{Client, Outgoing};
use wbxprov::identity::IdentityClient;
use wbxprov::identity::transport::HttpsJson;
use wbxprov::ops::Operation;
use wbxprov::rest::licences::LicenceClient;
use wbxprov::rest::meeting::MeetingConfigClient;
use wbxprov::rest::transport::HttpSending;
use wbxprov::rest::{HttpRequest, HttpTransport};
use wbxprov::schema::{Attribute, FlatKey, Value};
use wbxprov::sim::{self, DEFAULT_IDENTITY_TOKEN, SimConfig, SimHandle, Simulator};
use wbxprov::site::{ControlHub, SiteProfile};
use wbxprov::sync::{self, Journal, Mapping, Report, SyncOptions};

const ORG: &str = "org-settings";
const SITE_URL: &str = "example.webex.com";

fn profile() -> SiteProfile {
    let mut p = sim::default_profile();
    p.site_name = Some("example".into());
    p.control_hub = Some(ControlHub { org_id: ORG.into() });
    p.control_hub_managed = true;
    p
}

async fn site() -> SimHandle {
    site_of(profile()).await
}

async fn site_of(profile: SiteProfile) -> SimHandle {
    let mut config = SimConfig::new(profile);
    config.control_hub_licences = true;
    let sim = Simulator::new(config, Box::new(sim::store::Memory)).unwrap();
    sim::serve(sim, sim::ServeOptions::default()).await.unwrap()
}

const MAPPING: &str = r#"
match = "email"
[attributes]
email = { field = "email" }
firstName = { field = "first" }
lastName = { field = "last" }
privilegeHQvideo = { field = "hq" }
meetingTypes = { field = "types" }
trackingTrackingCode1 = { field = "code" }
supportedServicesMeetingCenter = { constant = true }
supportedServicesTrainingCenter = { constant = false }
supportedServicesSupportCenter = { constant = false }
supportedServicesEventCenter = { constant = true }
supportedServicesSalesCenter = { constant = false }
"#;

fn write_source(path: &Path, row: &str) {
    std::fs::write(path, format!("email,first,last,hq,types,code\n{row}\n")).unwrap();
}

/// `/v1` requests by method and path (query left out).
#[derive(Default)]
struct Paths(Mutex<BTreeMap<String, u64>>);

impl Paths {
    fn count(&self, method: &str, path: &str) -> u64 {
        let key = format!("{method} {path}");
        self.0.lock().unwrap().get(&key).copied().unwrap_or(0)
    }
    /// Requests other than GET.
    fn writes(&self) -> u64 {
        let counts = self.0.lock().unwrap();
        counts
            .iter()
            .filter(|(k, _)| !k.starts_with("GET "))
            .map(|(_, n)| n)
            .sum()
    }
}

struct CountingRest(HttpsJson, Arc<Paths>);

impl HttpTransport for CountingRest {
    fn send<'a>(&'a self, request: &'a HttpRequest, token: &'a Secret) -> HttpSending<'a> {
        let path = request.url.split("/v1").nth(1).unwrap_or(&request.url);
        let path = path.split('?').next().unwrap_or(path);
        let key = format!("{} /v1{path}", request.method);
        *self.1.0.lock().unwrap().entry(key).or_default() += 1;
        self.0.send(request, token)
    }
}

/// The SetUser documents sent.
struct SetUsers(Https, Arc<Mutex<Vec<String>>>);

impl Transport for SetUsers {
    fn send<'a>(&'a self, request: &'a Outgoing) -> Sending<'a> {
        if request.operation == Operation::SetUser {
            self.1.lock().unwrap().push(request.masked_body.clone());
        }
        self.0.send(request)
    }
}

struct Run {
    client: Arc<Client>,
    identity: Arc<IdentityClient>,
    licences: Arc<LicenceClient>,
    meetings: Arc<MeetingConfigClient>,
    rest: Arc<Paths>,
    set_users: Arc<Mutex<Vec<String>>>,
    journal: PathBuf,
}

impl Run {
    fn new(site: &SimHandle, name: &str) -> Run {
        let https = || HttpsJson::new(Duration::from_secs(5), Duration::from_secs(10)).unwrap();
        let token = || Secret::new(DEFAULT_IDENTITY_TOKEN);
        let retry = common::fast_retries().retry;
        let rest = Arc::new(Paths::default());
        let counted = Arc::new(CountingRest(https(), rest.clone()));
        let set_users = Arc::new(Mutex::new(Vec::new()));
        let xml = Https::new(Duration::from_secs(5), Duration::from_secs(10)).unwrap();
        let client = Client::builder("example", wbxprov::sim::default_admin())
            .endpoint(&site.url)
            .options(common::fast_retries())
            .validate_with(profile())
            .transport(Arc::new(SetUsers(xml, set_users.clone())))
            .build()
            .unwrap();
        Run {
            client: Arc::new(client),
            identity: Arc::new(
                IdentityClient::new(&site.identity_url, ORG, token(), Arc::new(https()))
                    .retry(retry.clone()),
            ),
            licences: Arc::new(
                LicenceClient::new(&site.rest_url, token(), counted.clone()).retry(retry.clone()),
            ),
            meetings: Arc::new(
                MeetingConfigClient::new(&site.rest_url, token(), counted).retry(retry),
            ),
            rest,
            set_users,
            journal: common::scratch("chs", &format!("{name}.sqlite")),
        }
    }

    async fn apply(&self, source: &Path) -> Report {
        let (engine, plan) = self.plan(source).await;
        plan.apply(&engine, |_| {}).await.unwrap()
    }

    async fn plan(&self, source: &Path) -> (sync::Sync, sync::Plan) {
        let engine = sync::Sync::builder(self.client.clone(), profile())
            .mapping(Mapping::from_toml(MAPPING).unwrap())
            .journal(Arc::new(Journal::open(&self.journal).unwrap()))
            .options({
                let mut options = SyncOptions::default();
                options.concurrency = 1;
                options
            })
            .identity(self.identity.clone())
            .licences(self.licences.clone(), SITE_URL)
            .meeting_settings(self.meetings.clone(), SITE_URL)
            .build();
        let plan = engine
            .plan(sync::source::open(source).unwrap())
            .await
            .unwrap();
        (engine, plan)
    }

    fn set_users(&self) -> Vec<String> {
        std::mem::take(&mut *self.set_users.lock().unwrap())
    }
}

async fn site_value(client: &Client, email: &str, attribute: Attribute) -> Option<Value> {
    let user = client.get_user(email).await.unwrap().to_flat();
    user.get(&FlatKey::new(attribute)).cloned()
}

const PUT_TYPES: &str = "/v1/admin/meeting/userconfig/sessionTypes";
const PUT_CODES: &str = "/v1/admin/meeting/userconfig/trackingCodes";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_types_and_tracking_codes_go_to_their_rest_owners_and_the_rest_to_set_user() {
    let site = site().await;
    let run = Run::new(&site, "route");
    let source = common::scratch("chs", "route.csv");
    write_source(&source, "alice@example.com,Alice,Smith,true,214,Eng");
    let report = run.apply(&source).await;
    assert_eq!(report.summary.failed, 0, "{report:#?}");
    let json = serde_json::to_value(&report.users[0]).unwrap();
    assert_eq!(
        json["meetings"]["apis"],
        serde_json::json!(["setUser", "sessionTypes", "trackingCodes"]),
        "{json:#}"
    );
    assert_eq!(run.rest.count("PUT", PUT_TYPES), 1);
    assert_eq!(run.rest.count("PUT", PUT_CODES), 1);
    let sent = run.set_users();
    assert_eq!(sent.len(), 1, "one SetUser: {sent:?}");
    assert!(sent[0].contains("HQvideo"), "{}", sent[0]);
    assert!(!sent[0].contains("meetingType"), "{}", sent[0]);
    assert!(!sent[0].contains("trackingCode"), "{}", sent[0]);

    // A change of both: one PUT each, no SetUser element for them.
    write_source(&source, "alice@example.com,Alice,Smith,true,214;216,Sales");
    let report = run.apply(&source).await;
    assert_eq!(report.summary.failed, 0, "{report:#?}");
    assert_eq!(run.rest.count("PUT", PUT_TYPES), 2);
    assert_eq!(run.rest.count("PUT", PUT_CODES), 2);
    assert_eq!(run.set_users(), Vec::<String>::new(), "nothing for SetUser");
    let json = serde_json::to_value(&report.users[0]).unwrap();
    let shown = &json["meetings"]["attributes"];
    assert_eq!(json["meetings"]["status"], "ok", "{json:#}");
    assert_eq!(
        json["meetings"]["apis"],
        serde_json::json!(["sessionTypes", "trackingCodes"]),
        "{json:#}"
    );
    assert_eq!(
        shown["meetingTypes"],
        serde_json::json!([214, 216]),
        "{json:#}"
    );
    assert_eq!(shown["trackingTrackingCode1"], "Sales", "{json:#}");
    assert_eq!(
        site_value(&run.client, "alice@example.com", Attribute::MeetingTypes).await,
        Some(Value::IntList(vec![214, 216]))
    );
    assert_eq!(
        site_value(
            &run.client,
            "alice@example.com",
            Attribute::TrackingTrackingCode1
        )
        .await,
        Some(Value::Text("Sales".into()))
    );

    // Unchanged: no write of any kind.
    let writes = run.rest.writes();
    let report = run.apply(&source).await;
    assert_eq!(report.summary.failed, 0, "{report:#?}");
    assert_eq!(run.rest.writes(), writes, "no REST write");
    assert_eq!(run.set_users(), Vec::<String>::new(), "no SetUser");
}

/// The simulator's tracking-code endpoints: the site's names (from the
/// profile's trackingCodes feature), a user's codes read back by personId,
/// an unknown name refused with the reference's words, and a person without
/// the site's licence refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulated_tracking_codes_api_sets_by_name_and_refuses_unknown_names() {
    let site = site().await;
    let run = Run::new(&site, "sim");
    let source = common::scratch("chs", "sim.csv");
    write_source(&source, "bob@example.com,Bob,B,false,214,Eng");
    let report = run.apply(&source).await;
    assert_eq!(report.summary.failed, 0, "{report:#?}");
    let names = run.meetings.site_tracking_codes(SITE_URL).await.unwrap();
    assert_eq!(names.len(), 10);
    let bob = wbxprov::rest::licences::PersonRef::Email("bob@example.com".into());
    let set = run
        .meetings
        .set_tracking_codes(SITE_URL, &bob, &[(names[1].name.clone(), "Ops".into())])
        .await
        .unwrap();
    let person_id = set.person_id.clone().unwrap();
    let read = run
        .meetings
        .tracking_codes(SITE_URL, &person_id)
        .await
        .unwrap();
    assert!(
        read.codes.contains(&(names[1].name.clone(), "Ops".into())),
        "{read:?}"
    );
    let e = run
        .meetings
        .set_tracking_codes(SITE_URL, &bob, &[("Department".into(), "x".into())])
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("Tracking code of 'Department' is not found."),
        "{e}"
    );
    // Keyed by siteUrl too: another site is refused (the simulator's 400).
    let e = run
        .meetings
        .set_session_types("other.webex.com", &bob, &[214])
        .await
        .unwrap_err();
    assert!(
        matches!(e.kind, wbxprov::rest::RestErrorKind::Invalid { .. }),
        "{e}"
    );
    let e = run
        .meetings
        .session_types("other.webex.com", &bob)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("other.webex.com"), "{e}");
    let nobody = wbxprov::rest::licences::PersonRef::Email("nobody@example.com".into());
    let e = run
        .meetings
        .set_tracking_codes(SITE_URL, &nobody, &[(names[0].name.clone(), "x".into())])
        .await
        .unwrap_err();
    assert!(
        matches!(e.kind, wbxprov::rest::RestErrorKind::NotFound(404)),
        "{e}"
    );
    // A person of the organisation without the site's licence is no site
    // user: refused too (the simulator's 404).
    let attributes = [
        (Attribute::Email, "erin@example.com"),
        (Attribute::WebExId, "erin@example.com"),
        (Attribute::FirstName, "Erin"),
    ]
    .into_iter()
    .map(|(a, v)| (FlatKey::new(a), Value::Text(v.into())))
    .collect();
    run.identity
        .create(&wbxprov::identity::Person {
            id: None,
            attributes,
            display_name: None,
            external_id: None,
        })
        .await
        .unwrap();
    let erin = wbxprov::rest::licences::PersonRef::Email("erin@example.com".into());
    let e = run
        .meetings
        .set_tracking_codes(SITE_URL, &erin, &[(names[0].name.clone(), "x".into())])
        .await
        .unwrap_err();
    assert!(
        matches!(e.kind, wbxprov::rest::RestErrorKind::NotFound(404)),
        "{e}"
    );
}

/// A tracking code the site does not define is refused while planning,
/// naming the attribute and the site's list, before any write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tracking_code_the_site_does_not_define_is_refused_before_any_write() {
    // The site defines none (its trackingCodes feature off); the admin's
    // profile says it has them.
    let mut without = profile();
    without.set_feature(wbxprov::schema::Feature::TrackingCodes, false);
    let site = site_of(without).await;
    let run = Run::new(&site, "undefined");
    let source = common::scratch("chs", "undefined.csv");
    write_source(&source, "carol@example.com,Carol,C,true,214,Eng");
    let (engine, plan) = run.plan(&source).await;
    let step = &plan.steps[0];
    assert_eq!(step.action, sync::Action::Invalid, "{step:#?}");
    let problem = &step.problems[0];
    assert_eq!(problem.attribute.as_deref(), Some("trackingTrackingCode1"));
    assert!(
        problem
            .reason
            .contains("defines no tracking code with id 1"),
        "{problem:?}"
    );
    let report = plan.apply(&engine, |_| {}).await.unwrap();
    assert_eq!(report.summary.invalid, 1, "{report:#?}");
    assert_eq!(run.rest.writes(), 0);
    assert_eq!(run.set_users(), Vec::<String>::new());
    assert!(
        run.identity
            .find("carol@example.com")
            .await
            .unwrap()
            .is_none()
    );
}

/// The tracking-codes API takes values of at most 120 characters (the XML
/// API 128): a longer one is refused while planning, before any write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tracking_code_longer_than_the_rest_api_takes_is_refused_before_any_write() {
    let site = site().await;
    let run = Run::new(&site, "long");
    let source = common::scratch("chs", "long.csv");
    let long = "x".repeat(121);
    write_source(&source, &format!("dan@example.com,Dan,D,true,214,{long}"));
    let (_, plan) = run.plan(&source).await;
    let step = &plan.steps[0];
    assert_eq!(step.action, sync::Action::Invalid, "{step:#?}");
    let problem = &step.problems[0];
    assert_eq!(problem.attribute.as_deref(), Some("trackingTrackingCode1"));
    assert!(problem.reason.contains("120"), "{problem:?}");
}
