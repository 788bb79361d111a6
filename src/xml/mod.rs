//! The wire format: requests written from the catalogue, responses read back.
//! Nothing here knows about HTTP.
//!
//! It sits between the model ([`crate::schema`]) and the client ([`crate::client`]):
//! [`encode`] writes the envelope, security context and user payloads of the request
//! types in [`crate::ops`]; [`decode()`] reads answers, the service's FAILUREs classified
//! by [`codes`]; [`request`] reads requests, for the simulator; [`tree`] keeps a raw
//! element tree for what no typed field covers.

pub mod chars;
pub mod codes;
pub mod decode;
pub mod encode;
pub(crate) mod reader;
pub mod request;
pub mod tree;
mod writer;

pub use decode::{
    Decode, Response, ServiceError, ServiceErrorKind, ServiceFailure, decode, decode_with,
};
pub use encode::{EncodeError, Form, Secrets};
pub use reader::{DecodeError, Limits};
pub use tree::Element;

/// The namespaces of the XML API.
pub mod ns {
    /// The envelope (`serv:`).
    pub const SERVICE: &str = "http://www.webex.com/schemas/2002/06/service";
    /// The user service (`use:`).
    pub const USER: &str = "http://www.webex.com/schemas/2002/06/service/user";
    /// The common types (`com:`).
    pub const COMMON: &str = "http://www.webex.com/schemas/2002/06/common";
    /// The site service (`site:`), GetSite's answer.
    pub const SITE: &str = "http://www.webex.com/schemas/2002/06/service/site";
    /// The meeting-type service (`mtgtype:`), LstMeetingType's answer.
    pub const MEETING_TYPE: &str = "http://www.webex.com/schemas/2002/06/service/meetingtype";
    /// XML Schema instance (`xsi:`), for `xsi:type`.
    pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
}
