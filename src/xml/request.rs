//! Reading requests: the service's side of the wire, for the simulator. The
//! user payload is read through the same catalogue path tree as GetUser
//! answers, restricted to what CreateUser/SetUser may carry.

use super::decode::{Payload, read_user};
use super::encode::XmlNs;
use super::reader::{DecodeError, Limits, XmlReader};
use crate::ops::{Direction, Operation, OrderBy};
use crate::schema::FlatUser;
use crate::secret::Secret;

/// A request's `securityContext`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncomingSecurity {
    /// `webExID`: who makes the request.
    pub web_ex_id: Option<String>,
    /// `password`, when the caller signs in with one.
    pub password: Option<Secret>,
    /// `siteName`, when the site is named.
    pub site_name: Option<String>,
    /// `siteID`, as sent (not parsed).
    pub site_id: Option<String>,
    /// Sent with `siteID` (wbxprov's client does).
    pub partner_id: Option<String>,
    /// `sessionTicket`, when the caller uses one from AuthenticateUser.
    pub session_ticket: Option<Secret>,
    /// `webExAccessToken`, when the caller uses an OAuth token.
    pub access_token: Option<Secret>,
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum IncomingBody {
    /// CreateUser: the new user's attributes.
    CreateUser(FlatUser),
    /// SetUser: the attributes to change (`webExId` names the user).
    SetUser(FlatUser),
    /// GetUser of one user.
    GetUser {
        /// The user asked for.
        web_ex_id: String,
    },
    /// DelUser of one or more users.
    DelUser {
        /// The users to delete (deactivate), in request order.
        web_ex_ids: Vec<String>,
    },
    /// LstsummaryUser: a page of users.
    LstsummaryUser(ListQuery),
    /// AuthenticateUser, which asks for a session ticket.
    AuthenticateUser {
        /// The OAuth token in the body, if the request carries one.
        access_token: Option<Secret>,
    },
    /// GetSite: the site's settings.
    GetSite,
    /// LstMeetingType: the site's meeting types.
    LstMeetingType,
}

/// LstsummaryUser's filters, paging and order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// `webExId` filter.
    pub web_ex_id: Option<String>,
    /// `email` filter.
    pub email: Option<String>,
    /// `active` filter (`ACTIVATED`, `DEACTIVATED` …, as sent).
    pub active: Option<String>,
    /// `listControl/startFrom`: the first record, counted from 1.
    pub start_from: Option<i64>,
    /// `listControl/maximumNum`: the page size.
    pub maximum_num: Option<i64>,
    /// `order`: up to three keys, each with its direction.
    pub order: Vec<(OrderBy, Direction)>,
    /// `dataScope/regDateStart` and `regDateEnd`, `MM/DD/YYYY HH:MM:SS`
    /// (Cisco's LstsummaryUser sample filters by them).
    pub reg_date_start: Option<String>,
    /// See [`reg_date_start`](Self::reg_date_start).
    pub reg_date_end: Option<String>,
}

/// A decoded request.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingRequest {
    /// Who sent the request and for which site.
    pub security: IncomingSecurity,
    /// The operation the body's `xsi:type` names.
    pub operation: Operation,
    /// What the operation asks for.
    pub body: IncomingBody,
    /// Elements nothing read (their distinct local names): what the request
    /// asked for that [`body`](Self::body) does not carry. A server that
    /// answered SUCCESS regardless would claim what it did not do.
    pub not_read: Vec<String>,
}

/// The operation an `xsi:type` names, in either spelling:
/// `java:com.webex.service.binding.user.CreateUser` or `use:createUser`.
pub fn operation_of(xsi_type: &str) -> Option<Operation> {
    let name = xsi_type.rsplit(['.', ':']).next()?;
    name.parse().ok()
}

/// Reads a request document as the service evidently does: undeclared `serv`
/// and `use` prefixes mean the Webex namespaces (see `xml/reader.rs`). An
/// `xsi:type` of an operation wbxprov does not speak is
/// [`DecodeError::UnknownOperation`].
pub fn decode_request(bytes: &[u8]) -> Result<IncomingRequest, DecodeError> {
    let mut r = XmlReader::for_request(bytes, Limits::default())?;
    let s = XmlNs::Service;
    let root = r
        .next_child()?
        .ok_or_else(|| DecodeError::Structure("empty document".into()))?;
    if !root.is(s, "message") {
        return Err(DecodeError::Structure(format!(
            "root element is <{}>, not serv:message",
            root.local_str()
        )));
    }
    let mut security = IncomingSecurity::default();
    let mut found: Option<(Operation, IncomingBody)> = None;
    while let Some(tag) = r.next_child()? {
        if tag.is(s, "header") {
            while let Some(tag) = r.next_child()? {
                if tag.is(s, "securityContext") {
                    security = read_security(&mut r)?;
                } else {
                    r.unknown(&tag)?;
                }
            }
        } else if tag.is(s, "body") {
            while let Some(tag) = r.next_child()? {
                if tag.is(s, "bodyContent") && found.is_none() {
                    let xsi_type = tag.attr("type").unwrap_or_default();
                    let operation = operation_of(&xsi_type)
                        .ok_or_else(|| DecodeError::UnknownOperation(xsi_type.clone()))?;
                    found = Some((operation, read_body(&mut r, operation)?));
                } else {
                    r.unknown(&tag)?;
                }
            }
        } else {
            r.unknown(&tag)?;
        }
    }
    r.finish()?;
    let (operation, body) =
        found.ok_or_else(|| DecodeError::Structure("request without bodyContent".into()))?;
    Ok(IncomingRequest {
        security,
        operation,
        body,
        not_read: std::mem::take(&mut r.unknown_names),
    })
}

fn read_security(r: &mut XmlReader<'_>) -> Result<IncomingSecurity, DecodeError> {
    let mut sec = IncomingSecurity::default();
    while let Some(tag) = r.next_child()? {
        let c = XmlNs::Common;
        if tag.is(c, "webExID") {
            sec.web_ex_id = Some(r.text()?.trim().to_owned());
        } else if tag.is(c, "password") {
            sec.password = Some(Secret::new(r.text()?));
        } else if tag.is(c, "siteName") {
            sec.site_name = Some(r.text()?.trim().to_owned());
        } else if tag.is(c, "siteID") {
            sec.site_id = Some(r.text()?.trim().to_owned());
        } else if tag.is(c, "partnerID") {
            sec.partner_id = Some(r.text()?.trim().to_owned());
        } else if tag.is(c, "sessionTicket") {
            sec.session_ticket = Some(Secret::new(r.text()?.trim()));
        } else if tag.is(c, "webExAccessToken") {
            sec.access_token = Some(Secret::new(r.text()?.trim()));
        } else {
            r.unknown(&tag)?;
        }
    }
    Ok(sec)
}

/// A date as the service writes them, `MM/DD/YYYY HH:MM:SS`, trimmed; any
/// other form is an error naming `what`.
fn service_date(r: &mut XmlReader<'_>, what: &str) -> Result<String, DecodeError> {
    let text = r.text()?.trim().to_owned();
    let form_ok = text.len() == 19
        && text.bytes().enumerate().all(|(i, b)| match i {
            2 | 5 => b == b'/',
            10 => b == b' ',
            13 | 16 => b == b':',
            _ => b.is_ascii_digit(),
        });
    if form_ok {
        Ok(text)
    } else {
        Err(DecodeError::InvalidValue {
            attribute: what.into(),
            expected: "date MM/DD/YYYY HH:MM:SS".into(),
            value: text,
        })
    }
}

fn read_body(r: &mut XmlReader<'_>, operation: Operation) -> Result<IncomingBody, DecodeError> {
    let u = XmlNs::User;
    Ok(match operation {
        Operation::CreateUser => {
            IncomingBody::CreateUser(read_user(r, Payload::Request)?.to_flat())
        }
        Operation::SetUser => IncomingBody::SetUser(read_user(r, Payload::Request)?.to_flat()),
        Operation::GetUser | Operation::DelUser => {
            let mut ids = Vec::new();
            while let Some(tag) = r.next_child()? {
                if tag.is(u, "webExId") {
                    ids.push(r.text()?.trim().to_owned());
                } else {
                    r.unknown(&tag)?;
                }
            }
            if operation == Operation::GetUser {
                let web_ex_id = ids
                    .into_iter()
                    .next()
                    .ok_or_else(|| DecodeError::Structure("GetUser without webExId".into()))?;
                IncomingBody::GetUser { web_ex_id }
            } else {
                IncomingBody::DelUser { web_ex_ids: ids }
            }
        }
        Operation::LstsummaryUser => {
            let mut q = ListQuery::default();
            let mut order_by = Vec::new();
            let mut order_ad = Vec::new();
            while let Some(tag) = r.next_child()? {
                if tag.is(u, "webExId") {
                    q.web_ex_id = Some(r.text()?.trim().to_owned());
                } else if tag.is(u, "email") {
                    q.email = Some(r.text()?.trim().to_owned());
                } else if tag.is(u, "active") {
                    q.active = Some(r.text()?.trim().to_owned());
                } else if tag.is(u, "listControl") {
                    while let Some(tag) = r.next_child()? {
                        let s = XmlNs::Service;
                        if tag.is(s, "startFrom") {
                            q.start_from = r.text()?.trim().parse().ok();
                        } else if tag.is(s, "maximumNum") {
                            q.maximum_num = r.text()?.trim().parse().ok();
                        } else if tag.is(s, "listMethod") {
                            // The simulator joins its filters with AND, the default.
                            if !r.text()?.trim().eq_ignore_ascii_case("AND") {
                                r.note_unknown("listMethod");
                            }
                        } else {
                            r.unknown(&tag)?;
                        }
                    }
                } else if tag.is(u, "dataScope") {
                    while let Some(tag) = r.next_child()? {
                        if tag.is(u, "regDateStart") {
                            q.reg_date_start = Some(service_date(r, "dataScope/regDateStart")?);
                        } else if tag.is(u, "regDateEnd") {
                            q.reg_date_end = Some(service_date(r, "dataScope/regDateEnd")?);
                        } else {
                            r.unknown(&tag)?;
                        }
                    }
                } else if tag.is(u, "order") {
                    while let Some(tag) = r.next_child()? {
                        if tag.is(u, "orderBy") {
                            if let Ok(by) = r.text()?.trim().parse::<OrderBy>() {
                                order_by.push(by);
                            }
                        } else if tag.is(u, "orderAD") {
                            let dir = r.text()?;
                            order_ad.push(if dir.trim().eq_ignore_ascii_case("DESC") {
                                Direction::Desc
                            } else {
                                Direction::Asc
                            });
                        } else {
                            r.unknown(&tag)?;
                        }
                    }
                } else {
                    r.unknown(&tag)?;
                }
            }
            q.order = order_by
                .into_iter()
                .enumerate()
                .map(|(i, by)| (by, order_ad.get(i).copied().unwrap_or(Direction::Asc)))
                .collect();
            IncomingBody::LstsummaryUser(q)
        }
        Operation::AuthenticateUser => {
            let mut access_token = None;
            while let Some(tag) = r.next_child()? {
                if tag.is(u, "accessToken") {
                    access_token = Some(Secret::new(r.text()?.trim()));
                } else {
                    r.unknown(&tag)?;
                }
            }
            IncomingBody::AuthenticateUser { access_token }
        }
        Operation::GetSite | Operation::LstMeetingType => {
            while let Some(tag) = r.next_child()? {
                r.unknown(&tag)?;
            }
            if operation == Operation::GetSite {
                IncomingBody::GetSite
            } else {
                IncomingBody::LstMeetingType
            }
        }
    })
}
