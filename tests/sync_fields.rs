//! Issue 17 follow-up: a field the mapping reads that the source does not have
//! at all stops the run before the site is touched, naming the mapping entry,
//! the field and the source's fields. A field one record lacks, or an empty
//! CSV cell, leaves that attribute unset for that person only.
#![cfg(all(feature = "sync", feature = "sim"))]

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use wbxprov::Secret;
use wbxprov::client::Client;
use wbxprov::ops::Operation;
use wbxprov::schema::{Attribute, FlatKey};
use wbxprov::sim::{self, SimHandle, default_profile};
use wbxprov::sync::{self, Action, Mapping, SyncError, SyncOptions};

fn tmp(name: &str) -> PathBuf {
    common::scratch("sync-fields", name)
}

fn client(site: &SimHandle) -> Arc<Client> {
    common::sim_client(site)
}

async fn plan(
    site: &SimHandle,
    mapping: &str,
    name: &str,
    text: &str,
) -> Result<sync::Plan, SyncError> {
    let source = tmp(name);
    std::fs::write(&source, text).unwrap();
    sync::Sync::builder(client(site), default_profile())
        .mapping(Mapping::from_toml(mapping).unwrap())
        .options(SyncOptions::default())
        .build()
        .plan(sync::source::open(&source).unwrap())
        .await
}

const MAPPING: &str = r#"
[attributes]
webExId = { field = "username" }
email = { field = "mail" }
firstName = { field = "first" }
lastName = { field = "last" }
"#;

/// Every way a mapping reads a field, each against a source without it: the
/// plan stops before any call to the site, naming the entry, the field and
/// the fields the source has.
#[tokio::test]
async fn a_field_the_source_lacks_stops_the_run_before_the_site() {
    let site = sim::start(default_profile()).await.unwrap();
    let csv = "username,mail,first\njdoe,jdoe@example.com,Jane\n";
    let jsonl = "{\"username\": \"jdoe\", \"mail\": \"jdoe@example.com\", \"first\": \"Jane\"}\n";
    let json = "[{\"username\": \"jdoe\", \"mail\": \"jdoe@example.com\", \"first\": \"Jane\"}]";
    let base = "[attributes]\nwebExId = { field = \"username\" }\nemail = { field = \"mail\" }\n";
    let cases = [
        (MAPPING.to_owned(), "attributes.lastName.field", "last"),
        (
            format!("{base}lastName = {{ template = \"{{surname}}\" }}\n"),
            "attributes.lastName.template",
            "surname",
        ),
        (
            format!("{base}meetingTypes = {{ field = \"dept\", lookup = {{ Sales = [214] }} }}\n"),
            "attributes.meetingTypes.field",
            "dept",
        ),
        (
            format!("key = \"employee_id\"\n{base}"),
            "key",
            "employee_id",
        ),
        (
            format!("[scope]\nfield = \"status\"\nin = [\"active\"]\n{base}"),
            "scope.field",
            "status",
        ),
        (
            format!("externalId = {{ field = \"oid\" }}\n{base}"),
            "externalId.field",
            "oid",
        ),
    ];
    for (mapping, entry, field) in &cases {
        for (name, text) in [("s.csv", csv), ("s.jsonl", jsonl), ("s.json", json)] {
            let err = plan(&site, mapping, name, text)
                .await
                .expect_err(&format!("{entry} over {name}"));
            let SyncError::MissingFields {
                missing, fields, ..
            } = &err
            else {
                panic!("{entry} over {name}: {err}");
            };
            assert_eq!(missing.len(), 1, "{err}");
            assert_eq!(missing[0].entry, *entry, "{err}");
            assert_eq!(missing[0].field, *field, "{err}");
            assert_eq!(fields, &["first", "mail", "username"], "{name}: {err}");
            let message = err.to_string();
            assert!(
                message.contains(&format!("{entry} reads \"{field}\"")),
                "{message}"
            );
            assert!(message.contains("first, mail, username"), "{message}");
        }
    }
    assert_eq!(site.simulator.calls(Operation::LstsummaryUser), 0);
    assert_eq!(site.simulator.writes(), 0);
}

/// An empty CSV cell is a field the source has, without a value for that
/// person: the attribute is not sent for them (the site keeps its value), and
/// the others get it. So is a field one JSON record lacks and others have.
#[tokio::test]
async fn an_empty_cell_or_a_field_one_record_lacks_leaves_the_attribute_unset() {
    let site = sim::start(default_profile()).await.unwrap();
    let csv = "username,mail,first,last\n\
               jdoe,jdoe@example.com,Jane,Doe\n\
               asmith,asmith@example.com,Anna,\n";
    let jsonl = "{\"username\": \"jdoe\", \"mail\": \"jdoe@example.com\", \"first\": \"Jane\", \"last\": \"Doe\"}\n\
                 {\"username\": \"asmith\", \"mail\": \"asmith@example.com\", \"first\": \"Anna\"}\n";
    for (name, text) in [("partial.csv", csv), ("partial.jsonl", jsonl)] {
        let plan = plan(&site, MAPPING, name, text).await.expect(name);
        let last = FlatKey::new(Attribute::LastName);
        let creates: Vec<_> = plan
            .steps
            .iter()
            .filter(|s| s.action == Action::Create)
            .collect();
        assert_eq!(creates.len(), 2, "{name}: {:?}", plan.steps);
        assert!(creates[0].change.get(&last).is_some(), "{name}");
        assert!(creates[1].change.get(&last).is_none(), "{name}");
    }
}

/// A template is read for its placeholders when the mapping is loaded: one
/// left unclosed is refused then, naming the attribute.
#[test]
fn a_mapping_lists_the_fields_it_reads_and_refuses_an_unclosed_template() {
    let mapping = Mapping::from_toml(
        "key = \"emp\"\n[attributes]\nemail = { template = \"{first}.{last}@x.com\" }\n",
    )
    .unwrap();
    let read: Vec<(String, String)> = mapping
        .fields_read()
        .into_iter()
        .map(|u| (u.entry, u.field))
        .collect();
    let pair = |e: &str, f: &str| (e.to_owned(), f.to_owned());
    assert_eq!(
        read,
        [
            pair("key", "emp"),
            pair("attributes.email.template", "first"),
            pair("attributes.email.template", "last"),
        ]
    );
    let err =
        Mapping::from_toml("[attributes]\nemail = { template = \"{first@x.com\" }\n").unwrap_err();
    assert!(
        matches!(&err, sync::MappingFileError::Rule { attribute, .. } if attribute == "email"),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(err.starts_with("email: template"), "{err}");
    assert!(err.contains("unclosed"), "{err}");
}

/// Control Hub mode does not use `key` (people are matched by email): a
/// source without the key's column is no mistake there.
#[cfg(feature = "https")]
#[tokio::test]
async fn control_hub_mode_does_not_ask_for_the_unused_key_column() {
    use std::time::Duration;
    use wbxprov::identity::IdentityClient;
    use wbxprov::identity::transport::HttpsJson;
    use wbxprov::site::ControlHub;

    const ORG: &str = "a35bfbc6-ccbd-4a17-a488-72gf46c5420c";
    let mut profile = default_profile();
    profile.control_hub = Some(ControlHub { org_id: ORG.into() });
    profile.control_hub_managed = true;
    let simulator = sim::Simulator::new(
        sim::SimConfig::new(profile.clone()),
        Box::new(sim::store::Memory),
    )
    .unwrap();
    let site = sim::serve(simulator, sim::ServeOptions::default())
        .await
        .unwrap();
    let https = HttpsJson::new(Duration::from_secs(5), Duration::from_secs(10)).unwrap();
    let identity = IdentityClient::new(
        &site.identity_url,
        ORG,
        Secret::new(sim::DEFAULT_IDENTITY_TOKEN),
        Arc::new(https),
    );
    let source = tmp("ch.csv");
    std::fs::write(&source, "mail,first,last\njdoe@example.com,Jane,Doe\n").unwrap();
    let mapping = "key = \"employee_id\"\nmatch = \"email\"\n[attributes]\n\
                   email = { field = \"mail\" }\nfirstName = { field = \"first\" }\n\
                   lastName = { field = \"last\" }\n";
    let plan = sync::Sync::builder(client(&site), profile)
        .mapping(Mapping::from_toml(mapping).unwrap())
        .identity(Arc::new(identity))
        .build()
        .plan(sync::source::open(&source).unwrap())
        .await
        .expect("key is not read in Control Hub mode");
    assert_eq!(plan.steps.len(), 1);
    assert_eq!(plan.steps[0].action, Action::Create, "{:?}", plan.steps);
}
