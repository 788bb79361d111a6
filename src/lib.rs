#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! Provision users on Cisco Webex Meetings sites through the Webex Meetings XML API
//! (on Control-Hub-managed sites, with the Webex identity SCIM 2, licences and meeting
//! settings APIs beside it), with every user attribute known and checked against the
//! site's features before any call.
//!
//! # Main tasks
//!
//! | task | start with |
//! |---|---|
//! | know an attribute: path, type, operations, the site features that gate it | [`Attribute::info`], [`schema`] |
//! | build a user typed ([`User`]) or flat, as a source row or an IdP sends it ([`FlatUser`]) | [`User::set`], [`FlatKey`] |
//! | read what a site allows | [`client::Client::get_site`], [`site::SiteProfile::from_site`] or [`site::SiteProfile::load`] |
//! | check a change against the site, every problem at once | [`validate::check`] |
//! | create, update, deactivate, reactivate and read users | [`client::Client`] |
//! | keep a site in line with a source of truth (CSV, JSON, rows in memory) | [`sync::Sync`] |
//! | let an identity provider provision the site over SCIM 2.0, or mount that in your axum app | [`scim::router`], [`scim::Meetings`] |
//! | work on a Control-Hub-managed site (people in the Webex identity) | [`identity::IdentityClient`], [`rest::licences`], [`sync::SyncBuilder::identity`] |
//! | test without a site: a simulated one, in-process or over HTTP | [`sim`] |
//! | write or read the XML itself (requests, saved responses, service errors) | [`xml`], [`ops`] |
//!
//! Create a user on a real site, validated against its own GetSite first:
//!
//! ```no_run
//! use wbxprov::client::{AdminAuth, Client};
//! use wbxprov::site::SiteProfile;
//! use wbxprov::{FlatKey, FlatUser, Secret, Value};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let auth = AdminAuth::Password {
//!     web_ex_id: "admin".into(),
//!     password: Secret::new(std::env::var("WBXPROV_ADMIN_PASSWORD")?),
//! };
//! let reader = Client::builder("example", auth.clone()).build()?;
//! let profile = SiteProfile::from_site(&reader.get_site().await?);
//! // Every CreateUser and SetUser of this client is validated before it is sent.
//! let client = Client::builder("example", auth).validate_with(profile).build()?;
//!
//! let user: FlatUser = [
//!     ("webExId", Value::Text("jdoe".into())),
//!     ("email", Value::Text("jdoe@example.com".into())),
//!     ("firstName", Value::Text("Jane".into())),
//!     ("lastName", Value::Text("Doe".into())),
//!     ("privilegeHQvideo", Value::Bool(true)),
//! ]
//! .into_iter()
//! .map(|(k, v)| Ok((k.parse::<FlatKey>()?, v)))
//! .collect::<Result<_, wbxprov::schema::ValueError>>()?;
//! match client.create_user(user).await {
//!     Ok(created) => println!("userId {}", created.user_id),
//!     // The validator's verdict (nothing was sent) or the service's FAILURE, typed.
//!     Err(e) => eprintln!("{e}"),
//! }
//! # Ok(()) }
//! ```
//!
//! Sync rows a program already holds (no file): each record's fields map to the
//! attributes of the same name unless a [`sync::Mapping`] says otherwise.
//!
//! ```no_run
//! use std::sync::Arc;
//! use wbxprov::sync::{Record, Records, Sync};
//!
//! # async fn example(client: Arc<wbxprov::client::Client>, profile: wbxprov::site::SiteProfile)
//! # -> Result<(), Box<dyn std::error::Error>> {
//! let rows = vec![
//!     serde_json::json!({"webExId": "jdoe", "email": "jdoe@example.com", "firstName": "Jane"}),
//!     serde_json::json!({"webExId": "rroe", "email": "rroe@example.com", "firstName": "Rick"}),
//! ];
//! let records: Records = Box::new(rows.into_iter().enumerate().map(|(i, row)| {
//!     let fields = row.as_object().cloned().unwrap_or_default();
//!     Ok(Record { row: i + 1, fields })
//! }));
//! let sync = Sync::builder(client, profile).build();
//! let plan = sync.plan(records).await?;
//! let report = plan.apply(&sync, |_event| {}).await?;
//! println!("{} created, {} failed", report.summary.created, report.summary.failed);
//! # Ok(()) }
//! ```
//!
//! Mounting the SCIM front in an existing axum server is shown in the README section
//! "In another server" below.
//!
//! # How the parts fit
//!
//! The attribute catalogue (`schema/user-attributes.tsv`) is the single source of truth;
//! `wbxprov-codegen` turns it into [`schema`]'s generated [`Attribute`] and [`Feature`]
//! enums, metadata tables and the typed [`User`] model. From there:
//!
//! - [`xml`] writes requests from the catalogue and reads responses (and the service's
//!   FAILURE answers, classified in [`xml::ServiceErrorKind`]); [`ops`] has one type per
//!   XML API operation and its typed answer.
//! - [`site`] describes what a site allows (from GetSite, LstMeetingType or a TOML
//!   profile); [`validate`] checks a change against the catalogue and that profile.
//! - [`client`] sends the operations (session tickets, validation first, retries and
//!   pacing from [`retry`]) over a [`client::Transport`]: HTTPS, a replay directory or
//!   your own.
//! - [`rest`] and [`identity`] are the webexapis.com clients of Control-Hub-managed sites.
//! - [`sync`] is the provisioning engine (plan, apply, journal, report); [`scim`] is
//!   the SCIM 2.0 front; [`sim`] is the simulated site both are tested against.
//!
//! Secrets (passwords, PINs, access codes, tokens, tickets) are held in [`Secret`]:
//! masked in `Debug`, reports and errors, zeroed when dropped.
//!
//! # Cargo features for a library
//!
//! The defaults build everything, the `wbxprov` command included. A platform that only
//! needs the client and the validator depends on
//! `wbxprov = { version = "0.1", default-features = false, features = ["https", "validate"] }`
//! and adds `sync`, `scim` or `sim` when it uses them; without `https` it passes its own
//! [`client::Transport`]. The README's "Cargo features" table below lists them all.
//!
//! ---
//!
//! The rest of this page is the project's README: the command line, the simulated site,
//! the SCIM front as a service, and the layout of the source.
//!
// The README's `toml file=NAME` and `json file=NAME` fences name the files
// tests/readme.rs writes; rustdoc cannot parse `=` in a fence's info string and
// would warn on each, though none of them is Rust.
#![allow(rustdoc::invalid_codeblock_attributes)]
#![doc = include_str!("../README.md")]

#[cfg(any(feature = "sim", feature = "scim", feature = "cli"))]
mod civil;
pub mod client;
pub mod identity;
pub mod ops;
pub mod private_file;
pub mod rest;
pub mod retry;
pub mod schema;
pub mod scim;
pub mod secret;
#[cfg(any(feature = "sim", feature = "scim"))]
mod server;
#[cfg(feature = "sim")]
pub mod sim;
#[cfg(feature = "validate")]
pub mod site;
#[cfg(feature = "sync")]
pub mod sync;
#[cfg(feature = "validate")]
pub mod validate;
pub mod xml;

#[cfg(feature = "cli")]
#[allow(missing_docs)] // temporary: `cli` is moving out of the library into the binary
pub mod cli;

pub use schema::{Attribute, AttributeInfo, Feature, FlatKey, FlatUser, User, Value};
pub use secret::Secret;
