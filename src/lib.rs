#![forbid(unsafe_code)]
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
//! Create and update a user, validated against the site's own GetSite first
//! (`examples/create_user.rs` is the whole program):
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
//! let mut client = Client::builder("example", auth).build()?; // https://example.webex.com/…
//! client.validate_with(SiteProfile::from_site(&client.get_site().await?));
//! let user: FlatUser = [
//!     ("webExId", Value::Text("jdoe".into())),
//!     ("email", Value::Text("jdoe@example.com".into())),
//! ]
//! .into_iter()
//! .map(|(name, value)| (name.parse::<FlatKey>().unwrap(), value))
//! .collect();
//! client.create_user(user).await?;
//! # Ok(()) }
//! ```
//!
//! Sync a platform's rows (`examples/sync_rows.rs`): [`sync::Sync`] plans
//! from any [`sync::Records`], then applies. Mount the SCIM front in an
//! existing axum app (`examples/mount_scim.rs`): [`scim::router`] over a
//! [`scim::Meetings`] backend. Decode a saved response of any operation,
//! success or FAILURE: [`xml::decode()`]. Every attribute, its XML path, type
//! and gating features: [`Attribute::info`].
//!
//! # Errors
//!
//! Each area has its typed error (`client::Error`, `identity::IdentityError`,
//! `sync::SyncError` …), and each converts into [`Error`], so an application
//! can `?` across areas. [`Error::kind`] classifies the failure from the
//! area's own cause, never from a message: a user the site does not know is
//! [`ErrorKind::NotFound`] whether it came from GetUser, a sync or the SCIM
//! front. Every error names the user, attribute and reason it is about and
//! never holds a secret ([`Secret`] prints as `***`).
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
