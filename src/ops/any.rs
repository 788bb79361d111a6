//! Any saved response, decoded without knowing beforehand which operation
//! produced it (for `wbxprov decode` and for inspecting recordings).

use super::{
    CreatedUser, Deleted, MeetingTypeList, SessionTicket, SiteInstance, Updated, UserPage,
};
use crate::schema::User;
use crate::xml::encode::XmlNs;
use crate::xml::reader::{TagNs, XmlReader};
use crate::xml::{Decode, DecodeError, Limits, Response, decode};

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
    /// CreateUser.
    CreateUser,
    /// SetUser.
    SetUser,
    /// GetUser.
    GetUser,
    /// DelUser (deactivates).
    DelUser,
    /// LstsummaryUser.
    LstsummaryUser,
    /// AuthenticateUser.
    AuthenticateUser,
    /// GetSite.
    GetSite,
    /// LstMeetingType.
    LstMeetingType,
}

/// The body of a successful response of any operation.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// GetUser's user.
    User(Box<User>),
    /// CreateUser's new ID.
    Created(CreatedUser),
    /// SetUser's SUCCESS.
    Updated(Updated),
    /// DelUser's statuses.
    Deleted(Deleted),
    /// LstsummaryUser's page.
    UserPage(UserPage),
    /// AuthenticateUser's ticket.
    SessionTicket(SessionTicket),
    /// GetSite's site.
    Site(Box<SiteInstance>),
    /// LstMeetingType's session types.
    MeetingTypes(MeetingTypeList),
}

impl Operation {
    /// Which operation a response answers, judged by the elements its body holds
    /// (the live service spells `xsi:type` in varying case and prefix, e.g.
    /// `use:LstsummaryUserResponse`, so it only rules out operations).
    /// `None` for a FAILURE, whose body is empty. A body of an operation
    /// wbxprov does not speak (getAPIVersion, createMeeting …) is
    /// [`DecodeError::UnknownOperation`] naming its `xsi:type`, or its first
    /// element in a namespace wbxprov does not read. One pass, no tree: memory
    /// does not grow with the document (a list page may hold 100,000 users).
    pub fn detect(bytes: &[u8]) -> Result<Option<Operation>, DecodeError> {
        let outline = Outline::read(bytes)?;
        let Some(body) = outline.body.filter(|_| !outline.failure) else {
            return Ok(None);
        };
        if let Some(unknown) = body.unknown_operation() {
            return Err(DecodeError::UnknownOperation(unknown));
        }
        let op = if body.has("siteInstance") {
            Operation::GetSite
        } else if body.has("meetingType") || body.meeting_type_records {
            Operation::LstMeetingType
        } else if body.user_with_status {
            Operation::DelUser
        } else if body.has("user") || body.has("matchingRecords") {
            Operation::LstsummaryUser
        } else if body.has("sessionTicket") {
            Operation::AuthenticateUser
        } else if body.children == 0 {
            Operation::SetUser
        } else if body.all_user_ids {
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
                unknown_names: r.unknown_names,
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

/// The children of `bodyContent` that tell operations apart.
const TELLING: [&str; 5] = [
    "siteInstance",
    "meetingType",
    "matchingRecords",
    "user",
    "sessionTicket",
];

/// What [`Operation::detect`] needs of a response. Elements are matched by
/// local name, and only the first `header`, `response`, `result`, `body` and
/// `bodyContent` count.
struct Outline {
    /// The header's result is FAILURE.
    failure: bool,
    body: Option<BodyOutline>,
}

#[derive(Default)]
struct BodyOutline {
    /// `bodyContent`'s `xsi:type`, as written.
    xsi_type: Option<String>,
    /// The first child in a namespace other than the XML API's, as written.
    first_foreign: Option<String>,
    /// Which of [`TELLING`] the body holds.
    telling: [bool; TELLING.len()],
    /// The first `matchingRecords` is in the meeting-type namespace.
    meeting_type_records: bool,
    /// Some `user` has a `status` child (DelUser).
    user_with_status: bool,
    children: usize,
    /// Every child is a `userId` (CreateUser).
    all_user_ids: bool,
}

impl BodyOutline {
    /// What names an operation wbxprov does not speak: an `xsi:type` no
    /// operation answers with, else a child in a foreign namespace.
    fn unknown_operation(&self) -> Option<String> {
        match &self.xsi_type {
            Some(t) if answers_no_operation(t) => Some(t.clone()),
            Some(_) => None,
            None => self.first_foreign.clone(),
        }
    }

    fn has(&self, name: &str) -> bool {
        TELLING
            .iter()
            .zip(self.telling)
            .any(|(n, seen)| seen && *n == name)
    }
}

impl Outline {
    fn read(bytes: &[u8]) -> Result<Outline, DecodeError> {
        let mut r = XmlReader::new(bytes, Limits::default())?;
        if r.next_child()?.is_none() {
            return Err(DecodeError::Structure("empty document".into()));
        }
        let mut outline = Outline {
            failure: false,
            body: None,
        };
        let (mut header, mut body) = (false, false);
        while let Some(tag) = r.next_child()? {
            match tag.local() {
                b"header" if !header => {
                    header = true;
                    outline.failure = first_result(&mut r)?.as_deref() == Some("FAILURE");
                }
                b"body" if !body => {
                    body = true;
                    while let Some(tag) = r.next_child()? {
                        if tag.local() == b"bodyContent" && outline.body.is_none() {
                            let xsi_type = tag.attr("type");
                            let mut body = body_outline(&mut r)?;
                            body.xsi_type = xsi_type;
                            outline.body = Some(body);
                        } else {
                            r.skip()?;
                        }
                    }
                }
                _ => r.skip()?,
            }
        }
        r.finish()?;
        Ok(outline)
    }
}

/// Whether `xsi_type` (`ep:getAPIVersionResponse`, `getUserResponse`) names
/// the answer of no operation wbxprov speaks; compared without prefix or case.
fn answers_no_operation(xsi_type: &str) -> bool {
    let local = xsi_type.rsplit(':').next().unwrap_or(xsi_type);
    let lower = local.to_ascii_lowercase();
    let stem = lower.strip_suffix("response").unwrap_or(&lower);
    stem.parse::<Operation>().is_err()
}

/// The trimmed text of `response/result` in the header just entered.
fn first_result(r: &mut XmlReader<'_>) -> Result<Option<String>, DecodeError> {
    let mut result = None;
    let mut response = false;
    while let Some(tag) = r.next_child()? {
        if tag.local() != b"response" || response {
            r.skip()?;
            continue;
        }
        response = true;
        while let Some(tag) = r.next_child()? {
            if tag.local() == b"result" && result.is_none() {
                result = Some(r.text()?.trim().to_owned());
            } else {
                r.skip()?;
            }
        }
    }
    Ok(result)
}

/// The outline of the `bodyContent` just entered.
fn body_outline(r: &mut XmlReader<'_>) -> Result<BodyOutline, DecodeError> {
    let mut body = BodyOutline {
        all_user_ids: true,
        ..BodyOutline::default()
    };
    while let Some(tag) = r.next_child()? {
        let local = tag.local();
        body.children += 1;
        if tag.ns == TagNs::Foreign && body.first_foreign.is_none() {
            body.first_foreign = Some(tag.qualified().into_owned());
        }
        body.all_user_ids &= local == b"userId";
        if let Some(i) = TELLING.iter().position(|n| n.as_bytes() == local) {
            if local == b"matchingRecords" && !body.telling[i] {
                body.meeting_type_records = tag.ns == TagNs::Webex(XmlNs::MeetingType);
            }
            body.telling[i] = true;
        }
        if local == b"user" && !body.user_with_status {
            while let Some(child) = r.next_child()? {
                body.user_with_status |= child.local() == b"status";
                r.skip()?;
            }
        } else {
            r.skip()?;
        }
    }
    Ok(body)
}
