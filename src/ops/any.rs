//! Any saved response, decoded without knowing beforehand which operation
//! produced it (for `wbxprov decode` and for inspecting recordings).

use super::{
    CreatedUser, Deleted, MeetingTypeList, SessionTicket, SiteInstance, Updated, UserPage,
};
use crate::schema::User;
use crate::xml::encode::XmlNs;
use crate::xml::tree::{self, Element};
use crate::xml::{Decode, DecodeError, Response, decode};

/// The operations wbxprov speaks.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::AsRefStr,
    strum::Display,
    strum::VariantNames,
    strum::EnumIter,
)]
#[strum(ascii_case_insensitive)]
pub enum Operation {
    CreateUser,
    SetUser,
    GetUser,
    DelUser,
    LstsummaryUser,
    AuthenticateUser,
    GetSite,
    LstMeetingType,
}

/// The body of a successful response of any operation.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    User(Box<User>),
    Created(CreatedUser),
    Updated(Updated),
    Deleted(Deleted),
    UserPage(UserPage),
    SessionTicket(SessionTicket),
    Site(Box<SiteInstance>),
    MeetingTypes(MeetingTypeList),
}

impl Operation {
    /// Which operation a response answers, judged by the elements its body holds
    /// (the live service misspells `xsi:type`, so it is never consulted).
    /// `None` for a FAILURE, whose body is empty.
    pub fn detect(bytes: &[u8]) -> Result<Option<Operation>, DecodeError> {
        let doc = tree::parse(bytes)?;
        let failure = doc.text_at("header/response/result") == Some("FAILURE");
        let Some(body) = doc.at("body/bodyContent") else {
            return Ok(None);
        };
        if failure {
            return Ok(None);
        }
        let has = |name: &str| body.child(name).is_some();
        let user_has = |name: &str| body.children_named("user").any(|u| u.child(name).is_some());
        let in_ns = |e: &Element, ns: XmlNs| e.ns == Some(ns);
        let op = if has("siteInstance") {
            Operation::GetSite
        } else if has("meetingType")
            || body
                .child("matchingRecords")
                .is_some_and(|m| in_ns(m, XmlNs::MeetingType))
        {
            Operation::LstMeetingType
        } else if user_has("status") {
            Operation::DelUser
        } else if has("user") || has("matchingRecords") {
            Operation::LstsummaryUser
        } else if has("sessionTicket") {
            Operation::AuthenticateUser
        } else if body.children.is_empty() {
            Operation::SetUser
        } else if body.children.iter().all(|c| c.name == "userId") {
            Operation::CreateUser
        } else {
            Operation::GetUser
        };
        Ok(Some(op))
    }

    /// Decodes `bytes` as this operation's response.
    pub fn decode(self, bytes: &[u8]) -> Result<Response<Answer>, DecodeError> {
        fn map<T: Decode>(
            bytes: &[u8],
            wrap: impl FnOnce(T) -> Answer,
        ) -> Result<Response<Answer>, DecodeError> {
            let r = decode::<T>(bytes)?;
            Ok(Response {
                result: r.result.map(wrap),
                gsb_status: r.gsb_status,
                unknown_elements: r.unknown_elements,
            })
        }
        match self {
            Operation::GetUser => map(bytes, |u: User| Answer::User(Box::new(u))),
            Operation::CreateUser => map(bytes, Answer::Created),
            Operation::SetUser => map(bytes, Answer::Updated),
            Operation::DelUser => map(bytes, Answer::Deleted),
            Operation::LstsummaryUser => map(bytes, Answer::UserPage),
            Operation::AuthenticateUser => map(bytes, Answer::SessionTicket),
            Operation::GetSite => map(bytes, |s: SiteInstance| Answer::Site(Box::new(s))),
            Operation::LstMeetingType => map(bytes, Answer::MeetingTypes),
        }
    }
}
