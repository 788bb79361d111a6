//! The provisioning engine end to end against the simulator: create all, then
//! nothing, then exactly the changes; deprovision and restore; invalid rows;
//! linking existing users; a site with faults; mappings.
#![cfg(all(feature = "sync", feature = "sim"))]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use wbxprov::Feature;
use wbxprov::client::{Client, Options, RetryPolicy};
use wbxprov::ops::Operation;
use wbxprov::schema::{FlatKey, FlatUser, Value};
use wbxprov::sim::{
    self, FaultSpec, ServeOptions, SimConfig, SimHandle, Simulator, default_profile, store,
};
use wbxprov::sync::{self, Action, Journal, Mapping, Record, SyncOptions};

struct Person {
    id: String,
    first: String,
    last: String,
}

fn people(n: usize) -> Vec<Person> {
    (0..n)
        .map(|i| Person {
            id: format!("p{i:04}"),
            first: format!("First{i}"),
            last: format!("Last{i}"),
        })
        .collect()
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wbxprov-sync-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn write_csv(path: &Path, people: &[Person], extra_rows: &[&str]) {
    let mut text = String::from("webExId,firstName,lastName,email,privilegeHost\n");
    for p in people {
        text.push_str(&format!(
            "{},{},{},{}@example.com,true\n",
            p.id, p.first, p.last, p.id
        ));
    }
    for row in extra_rows {
        text.push_str(row);
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

fn client(site: &SimHandle) -> Arc<Client> {
    build_client(site, None, 8)
}

/// A client of `site` with fast retries (at most `max_attempts` sends a call),
/// over `transport` when given.
fn build_client(
    site: &SimHandle,
    transport: Option<Arc<dyn wbxprov::client::Transport>>,
    max_attempts: u32,
) -> Arc<Client> {
    let options = {
        let mut built = Options::default();
        built.retry = {
            let mut built = RetryPolicy::default();
            built.base_delay = Duration::from_millis(2);
            built.max_delay = Duration::from_millis(10);
            built.rate_limit_wait = Duration::from_millis(10);
            built.max_attempts = max_attempts;
            built
        };
        built.max_concurrency = 16;
        built
    };
    let mut builder = Client::builder("sim", wbxprov::sim::default_admin())
        .endpoint(&site.url)
        .options(options);
    if let Some(t) = transport {
        builder = builder.transport(t);
    }
    Arc::new(builder.build().unwrap())
}

async fn run(
    site: &SimHandle,
    source: &Path,
    journal: &Path,
    options: &SyncOptions,
) -> Result<(sync::Plan, sync::Report), sync::SyncError> {
    run_with(&client(site), source, journal, options).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_then_nothing_then_exactly_the_changes() {
    let site = sim::start(default_profile()).await.unwrap();
    let source = tmp("a.csv");
    let journal = tmp("a.sqlite");
    let _ = std::fs::remove_file(&journal);
    let mut folks = people(100);
    write_csv(&source, &folks, &[]);
    let options = SyncOptions::default();

    let (_, report) = run(&site, &source, &journal, &options).await.unwrap();
    assert_eq!(report.summary.created, 100);
    assert!(report.all_ok());
    assert_eq!(site.simulator.calls(Operation::CreateUser), 100);

    // Nothing changed: nothing written.
    let writes = site.simulator.writes();
    let (_, report) = run(&site, &source, &journal, &options).await.unwrap();
    assert_eq!(report.summary.unchanged, 100);
    assert_eq!(
        site.simulator.writes(),
        writes,
        "a no-op sync writes nothing"
    );

    // 10 % changed: exactly those updated, only the changed attribute sent.
    for p in folks.iter_mut().step_by(10) {
        p.last = format!("{}-changed", p.last);
    }
    write_csv(&source, &folks, &[]);
    let (plan, report) = run(&site, &source, &journal, &options).await.unwrap();
    assert_eq!((report.summary.updated, report.summary.unchanged), (10, 90));
    for step in plan.steps.iter().filter(|s| s.action == Action::Update) {
        let keys: Vec<String> = step.change.iter().map(|(k, _)| k.to_string()).collect();
        assert_eq!(keys, ["lastName"], "{}", step.web_ex_id);
    }
    assert_eq!(site.simulator.writes(), writes + 10);

    // 5 % removed, with --deprovision: deactivated. Restored: reactivated.
    let kept: Vec<Person> = folks
        .drain(..)
        .enumerate()
        .filter(|(i, _)| i % 20 != 3)
        .map(|(_, p)| p)
        .collect();
    write_csv(&source, &kept, &[]);
    let deprovision = {
        let mut built = SyncOptions::default();
        built.deprovision = true;
        built
    };
    let (_, report) = run(&site, &source, &journal, &deprovision).await.unwrap();
    assert_eq!(
        (report.summary.deactivated, report.summary.unchanged),
        (5, 95)
    );
    assert!(report.all_ok());
    let all = people(100)
        .into_iter()
        .map(|mut p| {
            if p.id.ends_with('0') && p.id[1..].parse::<usize>().unwrap() % 10 == 0 {
                p.last = format!("{}-changed", p.last);
            }
            p
        })
        .collect::<Vec<_>>();
    write_csv(&source, &all, &[]);
    let (_, report) = run(&site, &source, &journal, &deprovision).await.unwrap();
    assert_eq!(
        (report.summary.reactivated, report.summary.unchanged),
        (5, 95),
        "{:?}",
        report.summary
    );
    let c = client(&site);
    assert_eq!(
        c.get_user("p0003").await.unwrap().active.as_deref(),
        Some("ACTIVATED")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deprovisioning_too_many_stops_before_writing() {
    let site = sim::start(default_profile()).await.unwrap();
    let source = tmp("guard.csv");
    let journal = tmp("guard.sqlite");
    let _ = std::fs::remove_file(&journal);
    write_csv(&source, &people(40), &[]);
    run(&site, &source, &journal, &SyncOptions::default())
        .await
        .unwrap();
    write_csv(&source, &people(30), &[]);
    let writes = site.simulator.writes();
    let options = {
        let mut built = SyncOptions::default();
        built.deprovision = true;
        built
    };
    let err = run(&site, &source, &journal, &options).await.unwrap_err();
    assert!(
        matches!(
            err,
            sync::SyncError::TooManyDeactivations {
                planned: 10,
                active: 40,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(site.simulator.writes(), writes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_rows_are_reported_and_good_rows_proceed() {
    let mut profile = default_profile();
    profile.set_feature(Feature::OtherTeleconferencing, false);
    let site = sim::start(profile.clone()).await.unwrap();
    let source = tmp("invalid.csv");
    let journal = tmp("invalid.sqlite");
    let _ = std::fs::remove_file(&journal);
    std::fs::write(
        &source,
        "webExId,email,privilegeOtherTelephony,timeZoneID\n\
         good1,good1@example.com,false,4\n\
         bad1,not-an-email,false,4\n\
         bad2,bad2@example.com,true,4\n\
         bad3,bad3@example.com,false,99\n\
         good2,good2@example.com,,\n",
    )
    .unwrap();
    let engine = sync::Sync::builder(client(&site), profile.clone())
        .journal(Arc::new(Journal::open(&journal).unwrap()))
        .build();
    let plan = engine
        .plan(sync::source::open(&source).unwrap())
        .await
        .unwrap();
    let report = plan.apply(&engine, |_| {}).await.unwrap();
    assert_eq!((report.summary.created, report.summary.invalid), (2, 3));
    let invalid: Vec<(Option<usize>, String)> = report
        .users
        .iter()
        .filter(|u| u.status == "invalid")
        .map(|u| (u.row, u.error.as_ref().unwrap().message.clone()))
        .collect();
    assert_eq!(invalid[0].0, Some(3));
    assert!(
        invalid[0]
            .1
            .starts_with("email=\"not-an-email\": not an email address"),
        "{invalid:?}"
    );
    assert_eq!(invalid[1].0, Some(4));
    assert!(
        invalid[1]
            .1
            .contains("privilegeOtherTelephony=true: site feature otherTeleconferencing is off"),
        "{invalid:?}"
    );
    assert_eq!(invalid[2].0, Some(5));
    assert!(invalid[2].1.contains("timeZoneID=99"), "{invalid:?}");
    assert_eq!(site.simulator.calls(Operation::CreateUser), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_users_are_linked_once_and_passwords_never_count_as_changes() {
    let site = sim::start(default_profile()).await.unwrap();
    let c = client(&site);
    let existing: FlatUser = [
        ("webExId", Value::Text("old".into())),
        ("email", Value::Text("old@example.com".into())),
        ("firstName", Value::Text("Old".into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.parse::<FlatKey>().unwrap(), v))
    .collect();
    c.create_user(existing).await.unwrap();
    let source = tmp("link.jsonl");
    let journal = tmp("link.sqlite");
    let _ = std::fs::remove_file(&journal);
    std::fs::write(
        &source,
        "{\"webExId\": \"old\", \"email\": \"old@example.com\", \"firstName\": \"Older\", \"password\": \"S3cret-Pa55\"}\n",
    )
    .unwrap();
    let (plan, report) = run(&site, &source, &journal, &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(report.summary.linked, 1);
    let keys: Vec<String> = plan.steps[0]
        .change
        .iter()
        .map(|(k, _)| k.to_string())
        .collect();
    assert_eq!(
        keys,
        ["firstName"],
        "the password is not a change unless pushed"
    );
    let (_, report) = run(&site, &source, &journal, &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(report.summary.unchanged, 1);
    let push = {
        let mut built = SyncOptions::default();
        built.push_passwords = true;
        built
    };
    let (plan, _) = run(&site, &source, &journal, &push).await.unwrap();
    let keys: Vec<String> = plan.steps[0]
        .change
        .iter()
        .map(|(k, _)| k.to_string())
        .collect();
    assert_eq!(keys, ["password"]);
    // Reports never show the password.
    let (_, report) = run(&site, &source, &journal, &push).await.unwrap();
    assert!(
        !serde_json::to_string(&report)
            .unwrap()
            .contains("S3cret-Pa55")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faulty_site_still_ends_in_the_desired_state() {
    let sim = Simulator::new(SimConfig::new(default_profile()), Box::new(store::Memory)).unwrap();
    let options = {
        let mut built = ServeOptions::default();
        built.faults = "500=0.10,drop=0.05,ratelimit=0.03"
            .parse::<FaultSpec>()
            .unwrap();
        built.seed = 42;
        built
    };
    let site = sim::serve(sim, options).await.unwrap();
    let source = tmp("faulty.csv");
    let journal = tmp("faulty.sqlite");
    let _ = std::fs::remove_file(&journal);
    write_csv(&source, &people(150), &[]);
    let (_, report) = run(&site, &source, &journal, &{
        let mut built = SyncOptions::default();
        built.concurrency = 8;
        built
    })
    .await
    .unwrap();
    assert_eq!(report.summary.created, 150, "{:?}", report.summary);
    assert_eq!(site.simulator.user_count(), 150, "no duplicates");
    // A second run confirms the state: nothing to do.
    let (_, report) = run(&site, &source, &journal, &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(report.summary.unchanged, 150, "{:?}", report.summary);
}

#[test]
fn mappings_take_fields_constants_templates_transforms_lookups_and_scope() {
    let mapping = Mapping::from_toml(
        r#"
match = "email"
[scope]
field = "status"
in = ["active"]
[attributes]
webExId = { field = "user", transform = ["trim", "lowercase"] }
email = { template = "{first}.{last}@example.com", transform = ["lowercase"] }
lastName = { field = "last", transform = ["truncate"] }
privilegeHost = { constant = true }
meetingTypes = { field = "dept", lookup = { Sales = [214], Support = [214, 216] } }
"#,
    )
    .unwrap();
    let record = |fields: serde_json::Value| Record {
        row: 2,
        fields: fields.as_object().unwrap().clone(),
    };
    let r = record(serde_json::json!({
        "user": "  JDoe ", "first": "Jane", "last": "D".repeat(100), "dept": "Support", "status": "active"
    }));
    assert!(mapping.in_scope(&r));
    let user = mapping.apply(&r).unwrap();
    let get = |k: &str| user.get(&k.parse::<FlatKey>().unwrap()).cloned();
    assert_eq!(get("webExId"), Some(Value::Text("jdoe".into())));
    assert_eq!(
        get("email"),
        Some(Value::Text(format!("jane.{}@example.com", "d".repeat(100))))
    );
    assert_eq!(get("lastName"), Some(Value::Text("D".repeat(64))));
    assert_eq!(get("privilegeHost"), Some(Value::Bool(true)));
    assert_eq!(get("meetingTypes"), Some(Value::IntList(vec![214, 216])));
    let other = record(
        serde_json::json!({"user": "x", "first": "a", "last": "b", "dept": "Legal", "status": "active"}),
    );
    let errors = mapping.apply(&other).unwrap_err();
    assert_eq!(errors[0].attribute.as_deref(), Some("meetingTypes"));
    assert!(errors[0].reason.contains("no lookup entry for \"Legal\""));
    let gone = record(serde_json::json!({"user": "y", "status": "terminated"}));
    assert!(!mapping.in_scope(&gone));
    assert!(matches!(
        Mapping::from_toml("[attributes]\nnotAnAttribute = { field = \"x\" }"),
        Err(sync::MappingFileError::UnknownAttributes { names }) if names == ["notAnAttribute"]
    ));
}

/// The simulator over HTTP, except that GetUser of `unreadable` is always
/// answered HTTP 500, and that after `gone_after` requests nothing answers at
/// all (the site went away).
struct Flaky {
    inner: wbxprov::client::transport::Https,
    unreadable: Option<String>,
    gone_after: Option<usize>,
    sent: std::sync::atomic::AtomicUsize,
}

impl Flaky {
    fn new(unreadable: Option<&str>, gone_after: Option<usize>) -> Arc<Flaky> {
        Arc::new(Flaky {
            inner: wbxprov::client::transport::Https::new(
                Duration::from_secs(5),
                Duration::from_secs(30),
            )
            .unwrap(),
            unreadable: unreadable.map(str::to_owned),
            gone_after,
            sent: Default::default(),
        })
    }

    fn sent(&self) -> usize {
        self.sent.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl wbxprov::client::Transport for Flaky {
    fn send<'a>(
        &'a self,
        request: &'a wbxprov::client::Outgoing,
    ) -> wbxprov::client::transport::Sending<'a> {
        Box::pin(async move {
            let n = self.sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            if self.gone_after.is_some_and(|limit| n > limit) {
                return Err(wbxprov::client::TransportError::Connection {
                    message: "connection refused".into(),
                    sent: false,
                });
            }
            if request.operation == Operation::GetUser
                && request.key.as_deref() == self.unreadable.as_deref()
            {
                return Ok(wbxprov::client::Incoming {
                    status: 500,
                    body: Vec::new(),
                });
            }
            self.inner.send(request).await
        })
    }
}

fn client_over(site: &SimHandle, transport: Arc<Flaky>) -> Arc<Client> {
    build_client(site, Some(transport), 4)
}

async fn run_with(
    c: &Arc<Client>,
    source: &Path,
    journal: &Path,
    options: &SyncOptions,
) -> Result<(sync::Plan, sync::Report), sync::SyncError> {
    let engine = sync::Sync::builder(c.clone(), default_profile())
        .journal(Arc::new(Journal::open(journal).unwrap()))
        .options(options.clone())
        .build();
    let plan = engine.plan(sync::source::open(source).unwrap()).await?;
    let report = plan.clone().apply(&engine, |_| {}).await?;
    Ok((plan, report))
}

/// Issue 15 item 8: one user whose GetUser keeps failing is that user's
/// failure; every other user is planned and applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_user_fails_alone_and_the_rest_is_applied() {
    let site = sim::start(default_profile()).await.unwrap();
    let source = tmp("unreadable.csv");
    let journal = tmp("unreadable.sqlite");
    let _ = std::fs::remove_file(&journal);
    let mut folks = people(10);
    write_csv(&source, &folks, &[]);
    run(&site, &source, &journal, &SyncOptions::default())
        .await
        .unwrap();
    for p in &mut folks {
        p.last = format!("{}-changed", p.last);
    }
    write_csv(&source, &folks, &[]);
    let flaky = client_over(&site, Flaky::new(Some("p0004"), None));
    // Deprovisioning on: the unreadable user is still the source's.
    let deprovision = {
        let mut built = SyncOptions::default();
        built.deprovision = true;
        built
    };
    let (plan, report) = run_with(&flaky, &source, &journal, &deprovision)
        .await
        .expect("one unreadable user does not stop the run");
    assert_eq!(plan.count(Action::Deactivate), 0, "{:?}", plan.steps);
    assert_eq!(
        (report.summary.updated, report.summary.failed),
        (9, 1),
        "{:?}",
        report.summary
    );
    let failed = report.users.iter().find(|u| u.status == "failed").unwrap();
    assert_eq!(failed.web_ex_id, "p0004");
    let message = &failed.error.as_ref().unwrap().message;
    assert!(
        message.contains("GetUser p0004") && message.contains("HTTP status 500"),
        "{message}"
    );
    // The next run, with the site readable again, finishes the work.
    let (_, report) = run(&site, &source, &journal, &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(
        (report.summary.updated, report.summary.unchanged),
        (1, 9),
        "{:?}",
        report.summary
    );
}

/// Issue 15 item 9: once the site stops answering, the run stops after a run
/// of consecutive transport failures, without finishing the journal; the next
/// run resumes and completes, with no user created twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_that_stops_answering_stops_the_run_resumably() {
    let site = sim::start(default_profile()).await.unwrap();
    let source = tmp("gone.csv");
    let journal = tmp("gone.sqlite");
    let _ = std::fs::remove_file(&journal);
    write_csv(&source, &people(100), &[]);
    let gone_after = 30;
    let transport = Flaky::new(None, Some(gone_after));
    let options = {
        let mut built = SyncOptions::default();
        built.concurrency = 4;
        built.max_consecutive_failures = 5;
        built
    };
    let c = client_over(&site, transport.clone());
    let err = run_with(&c, &source, &journal, &options)
        .await
        .expect_err("the run stops");
    assert!(
        matches!(err, sync::SyncError::SiteUnreachable { failures: 5, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("connection refused"), "{err}");
    // Each of the 5 failures and each call in flight took at most 4 attempts:
    // the other users were never tried.
    let after_gone = transport.sent() - gone_after;
    assert!(
        after_gone <= (5 + 4) * 4,
        "{after_gone} requests after the site went"
    );
    let created = site.simulator.user_count();
    assert!(created > 0 && created < 100, "{created}");

    let j = Journal::open(&journal).unwrap();
    assert!(j.resumed.is_some(), "the stopped run is left unfinished");
    drop(j);
    let (_, report) = run(&site, &source, &journal, &SyncOptions::default())
        .await
        .unwrap();
    let s = report.summary;
    assert_eq!(s.created + s.linked + s.unchanged, 100, "{s:?}");
    assert!(report.all_ok(), "{s:?}");
    assert_eq!(site.simulator.user_count(), 100, "no duplicates");
}

/// Issue 15 item 10: a second run on a journal in use is refused, naming the
/// holder; the lock goes with the first run.
#[test]
fn a_journal_in_use_is_refused_naming_its_holder() {
    let path = tmp("locked.sqlite");
    let _ = std::fs::remove_file(&path);
    let first = Journal::open(&path).unwrap();
    let err = Journal::open(&path).err().expect("the journal is in use");
    let text = err.to_string();
    assert!(
        matches!(err, sync::journal::JournalError::Locked { .. }),
        "{text}"
    );
    assert!(
        text.contains(&format!("pid {}", std::process::id())),
        "{text}"
    );
    drop(first);
    Journal::open(&path).expect("free again once the first run ends");
}

/// Issue 15 item 11: two rows sharing a unique attribute (here the email, with
/// different webExIds; or the webExId) are both invalid, each naming the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_sharing_a_unique_attribute_are_both_invalid() {
    let site = sim::start(default_profile()).await.unwrap();
    let source = tmp("dupes.csv");
    let journal = tmp("dupes.sqlite");
    let _ = std::fs::remove_file(&journal);
    std::fs::write(
        &source,
        "webExId,email\n\
         ann,shared@example.com\n\
         bob,bob@example.com\n\
         cat,Shared@example.com\n\
         dan,dan@example.com\n\
         DAN,dan2@example.com\n",
    )
    .unwrap();
    let (_, report) = run(&site, &source, &journal, &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(
        (report.summary.created, report.summary.invalid),
        (1, 4),
        "{:?}",
        report.summary
    );
    let message = |row: usize| {
        report
            .users
            .iter()
            .find(|u| u.row == Some(row))
            .and_then(|u| u.error.as_ref())
            .map(|e| e.message.clone())
            .unwrap_or_default()
    };
    assert!(
        message(2).contains("email") && message(2).contains("row 4"),
        "{}",
        message(2)
    );
    assert!(
        message(4).contains("email") && message(4).contains("row 2"),
        "{}",
        message(4)
    );
    assert!(
        message(5).contains("webExId") && message(5).contains("row 6"),
        "{}",
        message(5)
    );
    assert!(
        message(6).contains("webExId") && message(6).contains("row 5"),
        "{}",
        message(6)
    );
    assert_eq!(site.simulator.calls(Operation::CreateUser), 1);
}

/// Issue 15 item 11: an empty source (header-only CSV, `[]`, empty JSON Lines)
/// is refused before the site is read, unless allowed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_source_is_refused_unless_allowed() {
    let site = sim::start(default_profile()).await.unwrap();
    let c = client(&site);
    let deprovision = {
        let mut built = SyncOptions::default();
        built.deprovision = true;
        built
    };
    for (name, text) in [
        ("empty.csv", "webExId,email\n"),
        ("empty.json", "[]"),
        ("empty.jsonl", "\n"),
    ] {
        let source = tmp(name);
        std::fs::write(&source, text).unwrap();
        let err = sync::Sync::builder(c.clone(), default_profile())
            .options(deprovision.clone())
            .build()
            .plan(sync::source::open(&source).unwrap())
            .await
            .expect_err(name);
        assert!(matches!(err, sync::SyncError::EmptySource), "{name}: {err}");
        assert!(err.to_string().contains("--allow-empty"), "{err}");
    }
    assert_eq!(site.simulator.calls(Operation::LstsummaryUser), 0);
    let allowed = {
        let mut built = SyncOptions::default();
        built.allow_empty = true;
        built
    };
    let plan = sync::Sync::builder(c.clone(), default_profile())
        .options(allowed)
        .build()
        .plan(sync::source::open(&tmp("empty.csv")).unwrap())
        .await
        .unwrap();
    assert!(plan.steps.is_empty());
}

/// Issue 15 item 9, while planning: the GetUsers of a site that went away stop
/// after a run of failures instead of failing every user in turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_gone_while_planning_stops_the_plan() {
    let site = sim::start(default_profile()).await.unwrap();
    let source = tmp("gone-planning.csv");
    let journal = tmp("gone-planning.sqlite");
    let _ = std::fs::remove_file(&journal);
    write_csv(&source, &people(100), &[]);
    run(&site, &source, &journal, &SyncOptions::default())
        .await
        .unwrap();
    // AuthenticateUser and the list answer; the GetUsers do not.
    let transport = Flaky::new(None, Some(2));
    let c = client_over(&site, transport.clone());
    let options = {
        let mut built = SyncOptions::default();
        built.concurrency = 4;
        built.max_consecutive_failures = 5;
        built
    };
    let err = sync::Sync::builder(c.clone(), default_profile())
        .options(options)
        .build()
        .plan(sync::source::open(&source).unwrap())
        .await
        .expect_err("the plan stops");
    assert!(
        matches!(err, sync::SyncError::SiteUnreachable { failures: 5, .. }),
        "{err}"
    );
    let after_gone = transport.sent() - 2;
    assert!(
        after_gone <= (5 + 4) * 4,
        "{after_gone} requests after the site went"
    );
}

/// Deprovisioning leaves alone a site user whose row is in the source but
/// invalid or duplicated: the row is refused, not the user removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deprovisioning_spares_users_whose_rows_are_refused() {
    let site = sim::start(default_profile()).await.unwrap();
    let source = tmp("spared.csv");
    let journal = tmp("spared.sqlite");
    let _ = std::fs::remove_file(&journal);
    let folks = people(20);
    write_csv(&source, &folks, &[]);
    run(&site, &source, &journal, &SyncOptions::default())
        .await
        .unwrap();
    let csv = std::fs::read_to_string(&source)
        .unwrap()
        .replace("p0005@example.com", "nope")
        .replace("p0007@example.com", "p0006@example.com");
    std::fs::write(&source, csv).unwrap();
    let options = {
        let mut built = SyncOptions::default();
        built.deprovision = true;
        built.max_deprovision_share = 1.0;
        built
    };
    let (_, report) = run(&site, &source, &journal, &options).await.unwrap();
    assert_eq!(
        (report.summary.invalid, report.summary.deactivated),
        (3, 0),
        "{:?}",
        report.summary
    );
}

/// A row the mapping cannot read says nothing of whom it describes: with it in
/// the source, deprovisioning could deactivate that very person, so the run
/// stops before any write and names the rows.
#[tokio::test]
async fn deprovisioning_stops_when_a_row_cannot_be_matched() {
    let site = sim::start(default_profile()).await.unwrap();
    let source = tmp("unmatched.csv");
    let journal = tmp("unmatched.sqlite");
    let _ = std::fs::remove_file(&journal);
    let folks = people(20);
    write_csv(&source, &folks, &[]);
    run(&site, &source, &journal, &SyncOptions::default())
        .await
        .unwrap();
    let csv = std::fs::read_to_string(&source).unwrap().replace(
        &format!("{}@example.com,true", folks[4].id),
        &format!("{}@example.com,maybe", folks[4].id),
    );
    std::fs::write(&source, csv).unwrap();
    let options = {
        let mut built = SyncOptions::default();
        built.deprovision = true;
        built.max_deprovision_share = 1.0;
        built
    };
    let error = run(&site, &source, &journal, &options).await.unwrap_err();
    assert!(
        matches!(&error, sync::SyncError::UnmatchedRows { rows } if rows == &[6]),
        "{error}"
    );
    let users = client(&site)
        .list_all_users(&Default::default())
        .await
        .unwrap()
        .0;
    assert!(
        users
            .iter()
            .all(|u| u.active.as_deref() != Some("DEACTIVATED")),
        "nobody is deactivated"
    );
}

/// Issue 16 item 7: the planner judges an update as the user it makes. HD video
/// for a site user whose HQ video is off is refused before any SetUser, as it
/// would be on create; with HQ on, it is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_is_judged_with_the_site_user() {
    let site = sim::start(default_profile()).await.unwrap();
    let journal = tmp("hdhq.sqlite");
    let _ = std::fs::remove_file(&journal);
    let source = tmp("hdhq.csv");
    let options = SyncOptions::default();
    let step = |csv: &str| {
        std::fs::write(&source, csv).unwrap();
        run(&site, &source, &journal, &options)
    };
    let header = "webExId,email,privilegeHQvideo,privilegeHDvideo\n";
    let (_, report) = step(&format!("{header}hd1,hd1@example.com,false,false\n"))
        .await
        .unwrap();
    assert_eq!(report.summary.created, 1);
    // HQ unmapped: the site user's (false) is what the user would have.
    let (_, report) = step("webExId,email,privilegeHDvideo\nhd1,hd1@example.com,true\n")
        .await
        .unwrap();
    assert_eq!(report.summary.invalid, 1, "{:?}", report.users);
    let error = report.users[0].error.as_ref().unwrap();
    assert!(
        error.message.contains("HD video needs HQ video"),
        "{error:?}"
    );
    assert_eq!(site.simulator.calls(Operation::SetUser), 0);
    let (_, report) = step(&format!("{header}hd1,hd1@example.com,true,true\n"))
        .await
        .unwrap();
    assert_eq!((report.summary.updated, report.summary.invalid), (1, 0));
}

/// Issue 16 item 6: a source that maps meetingTypes but not supportedServices
/// (the README's mapping) updates a site user: the services are the site
/// user's, and the SetUser states them explicitly (seed 003's advice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmapped_services_are_taken_from_the_site_user() {
    let site = sim::start(default_profile()).await.unwrap();
    let journal = tmp("services.sqlite");
    let _ = std::fs::remove_file(&journal);
    let source = tmp("services.json");
    std::fs::write(
        &source,
        r#"[{"webExId": "mt1", "email": "mt1@example.com", "meetingTypes": [214],
             "supportedServicesMeetingCenter": true, "supportedServicesEventCenter": false,
             "supportedServicesTrainingCenter": false, "supportedServicesSupportCenter": false,
             "supportedServicesSalesCenter": false}]"#,
    )
    .unwrap();
    let options = SyncOptions::default();
    let (_, report) = run(&site, &source, &journal, &options).await.unwrap();
    assert_eq!(report.summary.created, 1, "{:?}", report.users);
    std::fs::write(
        &source,
        r#"[{"webExId": "mt1", "email": "mt1@example.com", "meetingTypes": [214, 216]}]"#,
    )
    .unwrap();
    let (plan, report) = run(&site, &source, &journal, &options).await.unwrap();
    assert_eq!(
        (
            report.summary.updated,
            report.summary.invalid,
            report.summary.failed
        ),
        (1, 0, 0),
        "{:?}",
        report.users
    );
    let sent = &plan
        .steps
        .iter()
        .find(|s| s.web_ex_id == "mt1")
        .unwrap()
        .change;
    let key = |s: &str| s.parse::<FlatKey>().unwrap();
    assert_eq!(
        sent.get(&key("meetingTypes")),
        Some(&Value::IntList(vec![214, 216]))
    );
    assert_eq!(
        sent.get(&key("supportedServicesMeetingCenter")),
        Some(&Value::Bool(true))
    );
    assert_eq!(
        sent.get(&key("supportedServicesSalesCenter")),
        Some(&Value::Bool(false))
    );
}
