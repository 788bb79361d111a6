//! A SCIM 2.0 face for a Meetings site: any identity provider can provision it.
//!
//! `user` maps SCIM Users to catalogue attributes (core attributes, plus every
//! Meetings attribute under an extension schema generated from the catalogue);
//! `schemas` publishes that mapping; `filter` and `patch` implement the
//! filters and PATCH shapes identity providers send, Okta's and Entra's quirks
//! included; `error` types SCIM errors; `ids` keeps SCIM ids, externalIds,
//! kept attributes and groups; `service` runs the SCIM operations on Users
//! against a site through the client; `groups` keeps Groups and turns
//! membership into Meetings entitlements; `backend` is what the HTTP front asks
//! of them; `http` is the front, as a router a platform mounts in its own
//! server or served on its own socket, with `throttle` refusing clients that
//! keep failing authentication; `translate` turns identity providers'
//! vocabularies (E.164 phones, IANA zones, BCP-47 tags) into the site's and
//! back, and keeps what a site has no place for.
//!
//! The shape follows elimity-com/scim (Go): a server over resource handlers,
//! typed errors, mounted by the host application.
//!
//! The mapping, filters, PATCH and schemas need nothing but serde_json (the
//! Control Hub identity client uses the mapping too); the server parts are
//! behind the `scim` cargo feature.

#[cfg(feature = "scim")]
pub mod backend;
pub mod error;
pub mod filter;
#[cfg(feature = "scim")]
pub mod groups;
#[cfg(feature = "scim")]
pub mod http;
#[cfg(feature = "scim")]
pub mod ids;
pub mod patch;
pub mod schemas;
#[cfg(feature = "scim")]
pub mod service;
#[cfg(feature = "scim")]
pub mod throttle;
pub mod translate;
pub mod user;

#[cfg(feature = "scim")]
pub use backend::{Backend, Meetings};
pub use error::{ScimError, ScimType};
pub use filter::Filter;
#[cfg(feature = "scim")]
pub use groups::{GroupGrants, Groups};
#[cfg(feature = "scim")]
pub use http::{Auth, ScimConfig, router};
pub use schemas::extension_schema;
#[cfg(feature = "scim")]
pub use service::{DEFAULT_INDEX_MAX_AGE, DEFAULT_PER_USER_READ_CAP, Service};
pub use user::{from_scim, to_scim};
