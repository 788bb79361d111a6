//! A SCIM 2.0 face for a Meetings site: any identity provider can provision it.
//!
//! `user` maps SCIM Users to catalogue attributes (core attributes, plus every
//! Meetings attribute under an extension schema generated from the catalogue);
//! `filter` and `patch` implement the filters and PATCH shapes identity
//! providers send, Okta's and Entra's quirks included.

pub mod filter;
pub mod patch;
pub mod user;

pub use filter::Filter;
pub use user::{from_scim, to_scim};
