#![forbid(unsafe_code)]
#![warn(missing_docs)]
// The crate page (and a few module pages) link every feature's entry points; a build
// without some of those features cannot resolve them. The default features (docs.rs, CI's
// `cargo doc -D warnings`) have them all, so a link broken there still fails.
#![cfg_attr(
    not(all(feature = "sync", feature = "scim", feature = "sim")),
    allow(rustdoc::broken_intra_doc_links)
)]
//! Provision users on Cisco Webex Meetings sites through the Webex Meetings
//! XML API, every user attribute known from one catalogue and checked against
//! the site's own features before any call; on Control-Hub-managed sites also
//! through the Webex identity (SCIM 2), licence and Meetings REST APIs. A
//! provisioning engine (sync), a SCIM 2.0 front for identity providers and a
//! simulated site come with it, each behind a cargo feature.
//!
//! The `wbxprov` command line is the binary's own (README.md); this page is
//! for platforms that embed the crate.
//!
//! # Features a platform picks
//!
//! The defaults build everything the `wbxprov` binary needs. A platform that
//! provisions users from its own code takes the client and the validator only:
//!
//! ```toml
//! [dependencies]
//! wbxprov = { version = "0.1", default-features = false, features = ["https", "validate"] }
//! ```
//!
//! That tree has no clap, indicatif, axum or rusqlite (CI checks it).
//!
//! | feature | adds |
//! |---|---|
//! | `https` | the HTTPS transport (reqwest, rustls); without it, bring a [`client::Transport`] |
//! | `validate` | [`site::SiteProfile`] (from GetSite or TOML) and the [`validate`] rules |
//! | `sync` | [`sync`]: sources, mappings, plan, apply, journal (rusqlite) |
//! | `scim` | the SCIM 2.0 front: [`scim::router`] to mount in an axum app |
//! | `sim` | [`sim`]: a simulated site, for tests and demos |
//! | `cli` | the `wbxprov` binary's dependencies; no library API |
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
//! Create a user, validated against the site's own GetSite first
//! (`examples/create_user.rs` is the whole program, create then update):
//!
//! ```no_run
//! # #[cfg(all(feature = "https", feature = "validate"))]
//! # async fn example() -> Result<(), wbxprov::Error> {
//! use wbxprov::client::{AdminAuth, Client};
//! use wbxprov::site::SiteProfile;
//! use wbxprov::{FlatKey, FlatUser, Secret, Value};
//!
//! let auth = AdminAuth::Password {
//!     web_ex_id: "admin".into(),
//!     password: Secret::new(std::env::var("WBXPROV_ADMIN_PASSWORD").unwrap_or_default()),
//! };
//! // A site name or URL (a simulator's `http://127.0.0.1:…` too).
//! let mut client = Client::for_site("example", auth)?.build()?;
//! // Every CreateUser and SetUser of this client is validated before it is sent.
//! client.validate_with(SiteProfile::from_site(&client.get_site().await?));
//! let user: FlatUser = [
//!     ("webExId", Value::Text("jdoe".into())),
//!     ("email", Value::Text("jdoe@example.com".into())),
//! ]
//! .into_iter()
//! .map(|(name, value)| Ok((name.parse::<FlatKey>()?, value)))
//! .collect::<Result<_, wbxprov::schema::ValueError>>()?;
//! client.create_user(user).await?;
//! # Ok(()) }
//! ```
//!
//! Sync rows a program already holds (`examples/sync_rows.rs`): any
//! [`sync::Records`] is a source. Mount the SCIM front in an existing axum app
//! (`examples/mount_scim.rs`): [`scim::router`] over a [`scim::Meetings`]
//! backend. Decode a saved response of any operation, success or FAILURE:
//! [`xml::decode()`].
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
//! # Errors
//!
//! Each area has its typed error (`client::Error`, `identity::IdentityError`,
//! `sync::SyncError` …), and each converts into [`Error`], so an application
//! can `?` across areas. [`Error::kind`] classifies the failure from the
//! area's own cause, never from a message: a user the site does not know is
//! [`ErrorKind::NotFound`] whether it came from GetUser, a sync or the SCIM
//! front. Every error names the user, attribute and reason it is about and
//! never holds a secret.
//!
//! ```
//! # #[cfg(feature = "validate")]
//! # fn main() {
//! use wbxprov::{Error, ErrorKind};
//! use wbxprov::site::SiteProfile;
//!
//! fn profile(text: &str) -> Result<SiteProfile, Error> {
//!     Ok(SiteProfile::from_toml(text, ".".as_ref())?)
//! }
//! let error = profile("[features]\nnoSuchFeature = true\n").unwrap_err();
//! assert_eq!(error.kind(), ErrorKind::Invalid);
//! assert!(error.to_string().starts_with("unknown feature(s) noSuchFeature"));
//! # }
//! # #[cfg(not(feature = "validate"))]
//! # fn main() {}
//! ```

#[cfg(any(feature = "sim", feature = "scim", feature = "sync"))]
mod civil;
pub mod client;
pub mod error;
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

pub use error::{Error, ErrorKind};
pub use schema::{Attribute, AttributeInfo, Feature, FlatKey, FlatUser, User, Value};
pub use secret::Secret;
#[cfg(any(feature = "sim", feature = "scim"))]
pub use server::{StopSignal, Stopped};

/// The README's ` ```rust ` blocks, run as doc tests (tests/readme.rs checks
/// this is here). Not part of the documentation: the README is the command
/// line's guide; the crate's is above.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The command line is the binary's own (issue 20): a library user has no
/// `wbxprov::cli`.
///
/// ```compile_fail
/// let _ = wbxprov::cli::main;
/// ```
///
/// The same line with a module the library does have compiles:
///
/// ```
/// let _ = wbxprov::client::endpoint_of;
/// ```
#[cfg(doctest)]
pub struct NoCliModule;
