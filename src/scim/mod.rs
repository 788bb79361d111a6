//! A SCIM 2.0 face for a Meetings site: any identity provider can provision it.
//!
//! `user` maps SCIM Users to catalogue attributes (core attributes, plus every
//! Meetings attribute under an extension schema generated from the catalogue);
//! `schemas` publishes that mapping; `filter` and `patch` implement the
//! filters and PATCH shapes identity providers send, Okta's and Entra's quirks
//! included; `ids` keeps SCIM ids and externalIds; `service` runs the SCIM
//! operations against a site through the client; `http` serves them, with
//! `throttle` refusing clients that keep failing authentication; `translate`
//! turns identity providers' vocabularies (E.164 phones, IANA zones, BCP-47
//! tags) into the site's and back, and keeps what a site has no place for.

//!
//! The mapping, filters, PATCH and schemas need nothing but serde_json (the
//! Control Hub identity client uses the mapping too); the server parts are
//! behind the `scim` cargo feature.

pub mod filter;
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

pub use filter::Filter;
pub use schemas::extension_schema;
#[cfg(feature = "scim")]
pub use service::{ScimError, Service};
pub use user::{from_scim, to_scim};
