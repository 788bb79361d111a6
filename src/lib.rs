#![forbid(unsafe_code)]
#![warn(missing_docs)]
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
