//! Keep a site's users in line with rows a platform already holds in memory
//! (from its own database, an HR API …): plan, look at the plan, apply.
//!
//! ```text
//! WBXPROV_SITE_URL=https://example.webex.com/WBXService/XMLService \
//! WBXPROV_ADMIN_ID=admin WBXPROV_ADMIN_PASSWORD=… cargo run --example sync_rows
//! ```
//!
//! `tests/examples.rs` runs it against an in-process simulator.

use std::sync::Arc;

use serde_json::json;
use wbxprov::client::{AdminAuth, Client};
use wbxprov::sync::{Action, Mapping, Record, Records, Sync, SyncOptions};
use wbxprov::{Error, Secret};

/// The platform's rows: any JSON objects; the mapping says which field is what.
pub fn rows() -> Vec<serde_json::Map<String, serde_json::Value>> {
    [
        json!({"user": "jdoe", "mail": "jdoe@example.com", "first": "Jane", "last": "Doe"}),
        json!({"user": "asmith", "mail": "asmith@example.com", "first": "Ann", "last": "Smith"}),
    ]
    .into_iter()
    .filter_map(|row| row.as_object().cloned())
    .collect()
}

/// The rows as a sync source: records numbered from 1, as a file's rows are.
pub fn records(rows: Vec<serde_json::Map<String, serde_json::Value>>) -> Records {
    Box::new(
        rows.into_iter()
            .enumerate()
            .map(|(i, fields)| Ok(Record { row: i + 1, fields })),
    )
}

const MAPPING: &str = r#"
[attributes]
webExId = { field = "user" }
email = { field = "mail" }
firstName = { field = "first" }
lastName = { field = "last" }
"#;

/// Plans and applies the rows; returns (users created, users unchanged).
pub async fn run(
    client: Arc<Client>,
    rows: Vec<serde_json::Map<String, serde_json::Value>>,
) -> Result<(usize, usize), Error> {
    // Without a profile of its own, the sync reads the site's GetSite and
    // validates every person against it.
    let sync = Sync::builder_reading_site(client)
        .mapping(Mapping::from_toml(MAPPING)?)
        .options(SyncOptions::default())
        .build();
    let plan = sync.plan(records(rows)).await?;
    println!(
        "plan: {} to create, {} unchanged",
        plan.count(Action::Create),
        plan.count(Action::Unchanged)
    );
    let report = plan.apply(&sync, |_event| {}).await?;
    Ok((report.summary.created, report.summary.unchanged))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("WBXPROV_SITE_URL")?;
    let auth = AdminAuth::Password {
        web_ex_id: std::env::var("WBXPROV_ADMIN_ID")?,
        password: Secret::new(std::env::var("WBXPROV_ADMIN_PASSWORD")?),
    };
    let client = Arc::new(Client::for_site(&url, auth)?.build()?);
    let (created, unchanged) = run(client, rows()).await?;
    println!("created {created}, unchanged {unchanged}");
    Ok(())
}
