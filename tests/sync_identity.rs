//! Issue 17: a person keeps their account through every change of their
//! attributes. Each test runs the engine against the simulator, checks that
//! each person ends with one account (none deactivated that the source keeps),
//! and that the dry run showed exactly what the apply did.
#![cfg(all(feature = "sync", feature = "sim"))]

use std::path::PathBuf;
use std::sync::Arc;

use wbxprov::client::{AdminAuth, Client};
use wbxprov::ops::{LstsummaryUser, Operation};
use wbxprov::sim::{self, DEFAULT_ADMIN_ID, DEFAULT_ADMIN_PASSWORD, SimHandle, default_profile};
use wbxprov::sync::{self, Action, Journal, Mapping};
use wbxprov::Secret;
use wbxprov::site::SiteProfile;

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wbxprov-sync-identity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

fn client(site: &SimHandle) -> Arc<Client> {
    Arc::new(
        Client::builder(
            "sim",
            AdminAuth::Password {
                web_ex_id: DEFAULT_ADMIN_ID.into(),
                password: Secret::new(DEFAULT_ADMIN_PASSWORD),
            },
        )
        .endpoint(&site.url)
        .build()
        .unwrap(),
    )
}

/// The README's mapping: matched on email, the email built from the names.
const README_MAPPING: &str = r#"
match = "email"
[attributes]
webExId = { field = "username", transform = ["trim", "lowercase"] }
firstName = { field = "first" }
lastName = { field = "last" }
email = { template = "{first}.{last}@example.com", transform = ["lowercase"] }
"#;

/// The same, keyed on an immutable column; the webExId follows the surname too.
const KEYED_MAPPING: &str = r#"
key = "employee_id"
match = "email"
[scope]
field = "status"
in = ["active"]
[attributes]
webExId = { template = "{first}.{last}", transform = ["lowercase"] }
firstName = { field = "first" }
lastName = { field = "last" }
email = { template = "{first}.{last}@example.com", transform = ["lowercase"] }
"#;

/// One run: the dry run's plan, then the apply's plan and report. The journal
/// at `journal` persists between runs, as the CLI's does.
struct Run {
    dry: sync::Report,
    plan: sync::Plan,
    report: sync::Report,
}

async fn run(
    site: &SimHandle,
    csv: &str,
    mapping: &str,
    journal: &std::path::Path,
    options: sync::SyncOptions,
) -> Run {
    let source = journal.with_extension("csv");
    std::fs::write(&source, csv).unwrap();
    let mapping = Mapping::from_toml(mapping).unwrap();
    let c = client(site);
    let profile: SiteProfile = default_profile();
    let dry_journal = Arc::new(Journal::open(journal).unwrap());
    let dry_plan = sync::Sync::builder(c.clone(), profile.clone())
        .mapping(mapping.clone())
        .journal(dry_journal)
        .options(options.clone())
        .build()
        .plan(sync::source::open(&source).unwrap())
        .await
        .unwrap();
    let dry = sync::preview(&dry_plan);
    let journal = Arc::new(Journal::open(journal).unwrap());
    let engine = sync::Sync::builder(c, profile)
        .mapping(mapping)
        .journal(journal)
        .options(options)
        .build();
    let plan = engine
        .plan(sync::source::open(&source).unwrap())
        .await
        .unwrap();
    let report = plan.clone().apply(&engine, |_| {}).await.unwrap();
    Run { dry, plan, report }
}

/// Every site user: (webExId, email, active).
async fn accounts(site: &SimHandle) -> Vec<(String, String, String)> {
    let (users, _) = client(site)
        .list_all_users(&LstsummaryUser::default())
        .await
        .unwrap();
    let mut all: Vec<_> = users
        .into_iter()
        .map(|u| {
            (
                u.web_ex_id,
                u.email.unwrap_or_default(),
                u.active.unwrap_or_default(),
            )
        })
        .collect();
    all.sort();
    all
}

/// The dry run shows exactly what the apply does: the same operation for the
/// same user, with the same attributes (old → new).
fn dry_run_matches_apply(run: &Run) {
    let shown = |r: &sync::Report| -> Vec<(String, Action, serde_json::Value)> {
        r.users
            .iter()
            .map(|u| {
                (
                    u.web_ex_id.clone(),
                    u.operation,
                    serde_json::Value::Object(u.attributes.clone()),
                )
            })
            .collect()
    };
    assert_eq!(shown(&run.dry), shown(&run.report));
    for u in &run.dry.users {
        assert!(
            matches!(u.status, "planned" | "skipped" | "invalid" | "failed"),
            "a dry run plans: {u:?}"
        );
    }
}

fn options(deprovision: bool) -> sync::SyncOptions {
    sync::SyncOptions {
        deprovision,
        // Small sites: one person is a large share.
        max_deprovision_share: 1.0,
        ..sync::SyncOptions::default()
    }
}

/// The defect of issue 17: with the README's mapping a surname change became
/// "create" plus "deactivate" of the same person; it is an update of the email.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_change_is_an_update_not_a_new_account() {
    let site = sim::start(default_profile()).await.unwrap();
    let journal = tmp("email.sqlite");
    let before = "username,first,last\nklee,Paul,Klee\nmiro,Joan,Miro\n";
    let first = run(&site, before, README_MAPPING, &journal, options(true)).await;
    assert_eq!(first.report.summary.created, 2, "{:?}", first.report);

    let after = "username,first,last\nklee,Paul,Smithson\nmiro,Joan,Miro\n";
    let second = run(&site, after, README_MAPPING, &journal, options(true)).await;
    dry_run_matches_apply(&second);
    let klee = &second.report.users[0];
    assert_eq!(klee.operation, Action::Update, "{:?}", second.report);
    assert_eq!(klee.status, "ok", "{klee:?}");
    assert_eq!(
        klee.attributes["email"],
        serde_json::json!({"old": "paul.klee@example.com", "new": "paul.smithson@example.com"})
    );
    assert_eq!(second.plan.count(Action::Deactivate), 0);
    assert_eq!(second.plan.count(Action::Create), 0);
    assert_eq!(
        accounts(&site).await,
        [
            (
                "klee".into(),
                "paul.smithson@example.com".into(),
                "ACTIVATED".into()
            ),
            (
                "miro".into(),
                "joan.miro@example.com".into(),
                "ACTIVATED".into()
            ),
        ]
    );
}

/// Keyed on the employee number: a surname change renames the webExId and the
/// email in ONE SetUser (`newWebExId`), shown as `rename klee → klee.smithson`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_surname_change_renames_the_account() {
    let site = sim::start(default_profile()).await.unwrap();
    let journal = tmp("rename.sqlite");
    let before = "employee_id,first,last,status\n17,Paul,Klee,active\n18,Joan,Miro,active\n";
    run(&site, before, KEYED_MAPPING, &journal, options(true)).await;
    let sets = site.simulator.calls(Operation::SetUser);

    let after = "employee_id,first,last,status\n17,Paul,Smithson,active\n18,Joan,Miro,active\n";
    let second = run(&site, after, KEYED_MAPPING, &journal, options(true)).await;
    dry_run_matches_apply(&second);
    let step = &second.plan.steps[0];
    assert_eq!(step.action, Action::Rename);
    assert_eq!(step.web_ex_id, "paul.klee");
    assert_eq!(step.rename_to(), Some("paul.smithson"));
    assert_eq!(site.simulator.calls(Operation::SetUser), sets + 1);
    assert_eq!(site.simulator.calls(Operation::CreateUser), 2);
    assert_eq!(
        accounts(&site).await,
        [
            (
                "joan.miro".into(),
                "joan.miro@example.com".into(),
                "ACTIVATED".into()
            ),
            (
                "paul.smithson".into(),
                "paul.smithson@example.com".into(),
                "ACTIVATED".into()
            ),
        ]
    );
    // And the next run knows the person under the new name: nothing to do.
    let third = run(&site, after, KEYED_MAPPING, &journal, options(true)).await;
    assert_eq!(third.report.summary.unchanged, 2, "{:?}", third.report);
}
