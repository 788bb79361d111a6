//! The identity API's transport is the REST client's: one for every
//! webexapis.com API ([`crate::rest::transport`]), re-exported where it
//! always was.

pub use crate::rest::transport::*;
