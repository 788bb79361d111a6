//! A SCIM 2.0 face for a Meetings site: any identity provider can provision it.
//!
//! `user` maps SCIM Users to catalogue attributes (core attributes, plus every
//! Meetings attribute under an extension schema generated from the catalogue);
//! `schemas` publishes that mapping; `filter` and `patch` implement the
//! filters and PATCH shapes identity providers send, Okta's and Entra's quirks
//! included; `ids` keeps SCIM ids and externalIds; `service` runs the SCIM
//! operations against a site through the client; `http` serves them.

pub mod filter;
pub mod http;
pub mod ids;
pub mod patch;
pub mod schemas;
pub mod service;
pub mod user;

pub use filter::Filter;
pub use schemas::extension_schema;
pub use service::{ScimError, Service};
pub use user::{from_scim, to_scim};
