//! One request type per XML API operation wbxprov uses, each writing its own body
//! through [`BodyWriter`]. User payloads come from the catalogue, never from a
//! list kept here.
//!
//! The client ([`crate::client::Client`]) has one method per type here; a caller that
//! sends through its own HTTP stack writes them with
//! [`encode`](crate::xml::encode::encode) and reads the answers with
//! [`decode`](crate::xml::decode()).

mod any;
mod responses;

pub use any::{Answer, Operation};
pub use responses::*;

use crate::schema::{Attribute, FlatKey, FlatUser, User, Value};
use crate::secret::Secret;
use crate::xml::encode::{BodyWriter, EncodeError, Request, UserOperation, XmlNs};

fn require_web_ex_id(user: &FlatUser, operation: &'static str) -> Result<(), EncodeError> {
    match user.get(&FlatKey::new(Attribute::WebExId)) {
        Some(Value::Text(id)) if !id.is_empty() => Ok(()),
        _ => Err(EncodeError::Missing {
            attribute: "webExId",
            operation,
        }),
    }
}

/// CreateUser: a new user with the given attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateUser {
    /// The new user's attributes; `webExId` must be set and non-empty, and every attribute
    /// must be one CreateUser may carry ([`Ops::create`](crate::schema::Ops::create)), or
    /// writing the request fails.
    pub user: FlatUser,
}

impl CreateUser {
    /// The request for `user`: every attribute that is set. Nothing is checked here: the
    /// validator ([`crate::validate`]) checks against the site, writing the request checks
    /// the operation.
    pub fn new(user: &User) -> Self {
        CreateUser {
            user: user.to_flat(),
        }
    }
}

impl Request for CreateUser {
    type Response = CreatedUser;
    const BINDING: &'static str = "user.CreateUser";
    const XSD_TYPE: (XmlNs, &'static str) = (XmlNs::User, "createUser");

    fn write_body(&self, body: &mut BodyWriter) -> Result<(), EncodeError> {
        require_web_ex_id(&self.user, "CreateUser")?;
        body.user(&self.user, UserOperation::Create)
    }
}

/// SetUser: only the attributes given change; `webExId` names the user and
/// `newWebExId` (written last) renames it.
#[derive(Debug, Clone, PartialEq)]
pub struct SetUser {
    /// The attributes to change, `webExId` among them (it names the user).
    pub change: FlatUser,
}

impl SetUser {
    /// A change of `web_ex_id`'s attributes to the values in `change`.
    pub fn new(web_ex_id: &str, mut change: FlatUser) -> Self {
        change.insert(
            FlatKey::new(Attribute::WebExId),
            Value::Text(web_ex_id.to_owned()),
        );
        SetUser { change }
    }
}

impl Request for SetUser {
    type Response = Updated;
    const BINDING: &'static str = "user.SetUser";
    const XSD_TYPE: (XmlNs, &'static str) = (XmlNs::User, "setUser");

    fn write_body(&self, body: &mut BodyWriter) -> Result<(), EncodeError> {
        require_web_ex_id(&self.change, "SetUser")?;
        body.user(&self.change, UserOperation::Set)
    }
}

/// GetUser: one user's every attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetUser {
    /// The user to read.
    pub web_ex_id: String,
}

impl Request for GetUser {
    type Response = User;
    const BINDING: &'static str = "user.GetUser";
    const XSD_TYPE: (XmlNs, &'static str) = (XmlNs::User, "getUser");

    fn write_body(&self, body: &mut BodyWriter) -> Result<(), EncodeError> {
        body.text(XmlNs::User, "webExId", &self.web_ex_id);
        Ok(())
    }
}

/// DelUser: deactivates 1–50 users (it never hard-deletes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelUser {
    /// The users to deactivate: 1 to [`DEL_USER_MAX`], or writing the request fails.
    pub web_ex_ids: Vec<String>,
    /// `syncWebOffice`, sent only when set (`None` leaves the service's default).
    pub sync_web_office: Option<bool>,
}

/// The service takes at most this many users per DelUser call.
pub const DEL_USER_MAX: usize = 50;

impl Request for DelUser {
    type Response = Deleted;
    const BINDING: &'static str = "user.DelUser";
    const XSD_TYPE: (XmlNs, &'static str) = (XmlNs::User, "delUser");

    fn write_body(&self, body: &mut BodyWriter) -> Result<(), EncodeError> {
        if self.web_ex_ids.is_empty() || self.web_ex_ids.len() > DEL_USER_MAX {
            return Err(EncodeError::Invalid {
                operation: "DelUser",
                message: format!(
                    "takes 1 to {DEL_USER_MAX} users, not {}",
                    self.web_ex_ids.len()
                ),
            });
        }
        for id in &self.web_ex_ids {
            body.text(XmlNs::User, "webExId", id);
        }
        if let Some(sync) = self.sync_web_office {
            body.text(
                XmlNs::User,
                "syncWebOffice",
                if sync { "true" } else { "false" },
            );
        }
        Ok(())
    }
}

/// `orderBy` keys of LstsummaryUser (user.xsd `orderByType`), the common ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::AsRefStr, strum::EnumString)]
#[strum(serialize_all = "UPPERCASE")]
pub enum OrderBy {
    /// `UID`: the numeric user ID.
    Uid,
    /// `WEBEXID`.
    WebExId,
    /// `FIRSTNAME`.
    FirstName,
    /// `LASTNAME`.
    LastName,
    /// `EMAIL`.
    Email,
    /// `ACTIVE`: the activation status.
    Active,
    /// `REGDATE`: the registration date.
    RegDate,
}

/// `orderAD` of LstsummaryUser: the direction of one [`OrderBy`] key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::AsRefStr)]
#[strum(serialize_all = "UPPERCASE")]
pub enum Direction {
    /// `ASC`: ascending.
    Asc,
    /// `DESC`: descending.
    Desc,
}

/// LstsummaryUser: one page of user summaries, optionally filtered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LstsummaryUser {
    /// Only the user with this email address.
    pub email: Option<String>,
    /// `ACTIVATED`, `DEACTIVATED` …
    pub active: Option<String>,
    /// Only the user with this Webex ID.
    pub web_ex_id: Option<String>,
    /// 1-based index of the first record.
    pub start_from: Option<u32>,
    /// The page size.
    pub maximum_num: Option<u32>,
    /// `AND` or `OR` across the filters.
    pub list_method: Option<&'static str>,
    /// At most 3 keys.
    pub order: Vec<(OrderBy, Direction)>,
}

impl Request for LstsummaryUser {
    type Response = UserPage;
    const BINDING: &'static str = "user.LstsummaryUser";
    const XSD_TYPE: (XmlNs, &'static str) = (XmlNs::User, "lstsummaryUser");

    fn write_body(&self, body: &mut BodyWriter) -> Result<(), EncodeError> {
        let u = XmlNs::User;
        if let Some(e) = &self.email {
            body.text(u, "email", e);
        }
        if let Some(a) = &self.active {
            body.text(u, "active", a);
        }
        if let Some(id) = &self.web_ex_id {
            body.text(u, "webExId", id);
        }
        if self.start_from.is_some() || self.maximum_num.is_some() || self.list_method.is_some() {
            body.list_control(u, self.start_from, self.maximum_num, self.list_method);
        }
        if self.order.len() > 3 {
            return Err(EncodeError::Invalid {
                operation: "LstsummaryUser",
                message: "at most 3 order keys".into(),
            });
        }
        if !self.order.is_empty() {
            // All orderBy come before all orderAD (user.xsd orderType).
            body.open(u, "order");
            for (by, _) in &self.order {
                body.text(u, "orderBy", by.as_ref());
            }
            for (_, dir) in &self.order {
                body.text(u, "orderAD", dir.as_ref());
            }
            body.close();
        }
        Ok(())
    }
}

/// AuthenticateUser: turns the caller's credentials into a session ticket.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthenticateUser {
    /// The admin password in the security context; the body is empty.
    Password,
    /// An OAuth access token, in the body (`accessToken`).
    AccessToken(Secret),
    /// A SAML response (the 2011 form).
    Saml(Secret),
}

impl Request for AuthenticateUser {
    type Response = SessionTicket;
    const BINDING: &'static str = "user.AuthenticateUser";
    const XSD_TYPE: (XmlNs, &'static str) = (XmlNs::User, "authenticateUser");

    fn write_body(&self, body: &mut BodyWriter) -> Result<(), EncodeError> {
        match self {
            AuthenticateUser::Password => {}
            AuthenticateUser::AccessToken(t) => body.secret(XmlNs::User, "accessToken", t),
            AuthenticateUser::Saml(s) => body.secret(XmlNs::User, "samlResponse", s),
        }
        Ok(())
    }

    fn credential_in_body(&self) -> bool {
        matches!(self, AuthenticateUser::AccessToken(_))
    }
}

/// GetSite: the site's settings, from which its features are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GetSite;

impl Request for GetSite {
    type Response = SiteInstance;
    const BINDING: &'static str = "site.GetSite";
    const XSD_TYPE: (XmlNs, &'static str) = (XmlNs::Site, "getSite");

    fn write_body(&self, _body: &mut BodyWriter) -> Result<(), EncodeError> {
        Ok(())
    }
}

/// LstMeetingType: the site's session (meeting) types.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LstMeetingType {
    /// 1-based index of the first meeting type.
    pub start_from: Option<u32>,
    /// The page size.
    pub maximum_num: Option<u32>,
}

impl Request for LstMeetingType {
    type Response = MeetingTypeList;
    const BINDING: &'static str = "meetingtype.LstMeetingType";
    const XSD_TYPE: (XmlNs, &'static str) = (XmlNs::MeetingType, "lstMeetingType");

    fn write_body(&self, body: &mut BodyWriter) -> Result<(), EncodeError> {
        if self.start_from.is_some() || self.maximum_num.is_some() {
            body.list_control(XmlNs::MeetingType, self.start_from, self.maximum_num, None);
        }
        Ok(())
    }
}
