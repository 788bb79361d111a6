//! Request documents: the `serv:message` envelope, the security context, and
//! user payloads written in catalogue (element) order straight from the catalogue.

use super::ns;
use super::writer::XmlWriter;
use crate::schema::{FlatUser, Ns, Value};
use crate::secret::{MASK, Secret};

/// Which spelling of a request to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Form {
    /// What production clients send: a prefixed root, unprefixed children and
    /// `java:com.webex.service.binding…` body types (xml-api.md §2.2–2.3).
    #[default]
    Plain,
    /// Every element in its namespace (`serv:`, `com:`, `use:` …) and XSD type names
    /// in `xsi:type`: the form the 2011 XSDs validate. The live service accepts it too.
    Qualified,
}

/// Whether secrets go on the wire as they are, or masked (for display and recordings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secrets {
    /// The real values: the only choice for a request that is sent.
    Reveal,
    /// `***` in place of every secret, for logs, `--dry-run` output and recorded requests.
    Mask,
}

/// Why a request could not be written. Raised before anything is sent, so the site is untouched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// Every attribute of the payload that the operation cannot carry, e.g.
    /// `personalUrl (allowed in: set, get)` for CreateUser.
    #[error("{operation} cannot carry {}", attributes.join("; "))]
    NotAllowed {
        /// The operation, e.g. `CreateUser`.
        operation: &'static str,
        /// Each attribute the operation refuses, with the operations that allow it.
        attributes: Vec<String>,
    },
    /// A value the operation cannot do without is absent or empty (`webExId` for CreateUser,
    /// SetUser and GetUser).
    #[error("{operation} needs {attribute}")]
    Missing {
        /// The missing attribute's flat name.
        attribute: &'static str,
        /// The operation, e.g. `SetUser`.
        operation: &'static str,
    },
    /// A text value holds a character XML 1.0 cannot carry. The value itself
    /// is never shown (it may be a secret): the element and the code point are.
    #[error(
        "{operation}: <{element}> holds U+{code_point:04X}, a character XML 1.0 does not allow"
    )]
    Character {
        /// The operation, e.g. `CreateUser`.
        operation: &'static str,
        /// The element whose text holds the character.
        element: String,
        /// The refused character's code point.
        code_point: u32,
    },
    /// A request of a shape the XML API does not take: a DelUser of no user or of more than
    /// [`DEL_USER_MAX`](crate::ops::DEL_USER_MAX), or more than three LstsummaryUser order keys.
    #[error("{operation}: {message}")]
    Invalid {
        /// The operation, e.g. `DelUser`.
        operation: &'static str,
        /// What is wrong with the request.
        message: String,
    },
}

/// A namespace of the envelope or payload, with the prefix the qualified form uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlNs {
    /// `serv:` (`http://www.webex.com/schemas/2002/06/service`): the envelope.
    Service,
    /// `use:`: the user service's elements.
    User,
    /// `com:`: the common types (addresses, phones …).
    Common,
    /// `site:`: GetSite's answer.
    Site,
    /// `mtgtype:`: LstMeetingType's answer.
    MeetingType,
}

impl XmlNs {
    /// The prefix the qualified form and Cisco's samples bind the namespace to, e.g. `use`.
    pub fn prefix(self) -> &'static str {
        match self {
            XmlNs::Service => "serv",
            XmlNs::User => "use",
            XmlNs::Common => "com",
            XmlNs::Site => "site",
            XmlNs::MeetingType => "mtgtype",
        }
    }

    /// The namespace URI (see [`super::ns`]).
    pub fn uri(self) -> &'static str {
        match self {
            XmlNs::Service => ns::SERVICE,
            XmlNs::User => ns::USER,
            XmlNs::Common => ns::COMMON,
            XmlNs::Site => ns::SITE,
            XmlNs::MeetingType => ns::MEETING_TYPE,
        }
    }
}

impl From<Ns> for XmlNs {
    fn from(ns: Ns) -> Self {
        match ns {
            Ns::User => XmlNs::User,
            Ns::Common => XmlNs::Common,
        }
    }
}

/// Writes the body of one request; hides the difference between the two forms.
pub struct BodyWriter {
    w: XmlWriter,
    form: Form,
    secrets: Secrets,
}

impl BodyWriter {
    /// The document, unless a text held a character XML 1.0 does not allow.
    fn finish(self, operation: &'static str) -> Result<String, EncodeError> {
        if let Some(refused) = self.w.refused() {
            return Err(EncodeError::Character {
                operation,
                element: refused.element.clone(),
                code_point: u32::from(refused.character),
            });
        }
        Ok(self.w.finish())
    }

    fn name(&self, ns: XmlNs, local: &str) -> String {
        match self.form {
            Form::Qualified => format!("{}:{local}", ns.prefix()),
            Form::Plain => local.to_owned(),
        }
    }

    /// List controls are written `serv:`-prefixed in both forms, as Cisco's own samples do.
    fn always_prefixed(ns: XmlNs, local: &str) -> String {
        format!("{}:{local}", ns.prefix())
    }

    /// Opens an element (in the namespace the form asks for); [`close`](Self::close) ends it.
    pub fn open(&mut self, ns: XmlNs, local: &str) {
        let name = self.name(ns, local);
        self.w.open(&name);
    }

    /// Closes the element opened last.
    pub fn close(&mut self) {
        self.w.close();
    }

    /// Writes an element with text content (escaped; a character XML 1.0 refuses fails the
    /// request).
    pub fn text(&mut self, ns: XmlNs, local: &str, text: &str) {
        let name = self.name(ns, local);
        self.w.leaf(&name, text);
    }

    /// Writes a secret's element: its value or `***`, as the writer's [`Secrets`] says.
    pub fn secret(&mut self, ns: XmlNs, local: &str, secret: &Secret) {
        let text = match self.secrets {
            Secrets::Reveal => secret.expose(),
            Secrets::Mask => MASK,
        };
        self.text(ns, local, text);
    }

    /// `listControl` (startFrom, maximumNum, listMethod), the `serv:` list-control type.
    pub fn list_control(
        &mut self,
        parent: XmlNs,
        start_from: Option<u32>,
        maximum_num: Option<u32>,
        method: Option<&str>,
    ) {
        self.open(parent, "listControl");
        if let Some(n) = start_from {
            self.w.leaf(
                &Self::always_prefixed(XmlNs::Service, "startFrom"),
                &n.to_string(),
            );
        }
        if let Some(n) = maximum_num {
            self.w.leaf(
                &Self::always_prefixed(XmlNs::Service, "maximumNum"),
                &n.to_string(),
            );
        }
        if let Some(m) = method {
            self.w
                .leaf(&Self::always_prefixed(XmlNs::Service, "listMethod"), m);
        }
        self.close();
    }

    /// Writes a user payload: the given values only, nested and ordered as the
    /// catalogue says, repeated groups one occurrence at a time. Attributes not
    /// allowed in `operation` are refused, all of them named at once.
    pub fn user(&mut self, user: &FlatUser, operation: UserOperation) -> Result<(), EncodeError> {
        let refused: Vec<String> = user
            .iter()
            .filter(|(k, _)| !operation.allows(k.attribute.info().ops))
            .map(|(k, _)| {
                format!(
                    "{k} (allowed in: {})",
                    k.attribute.info().ops.names().join(", ")
                )
            })
            .collect();
        if !refused.is_empty() {
            return Err(EncodeError::NotAllowed {
                operation: operation.name(),
                attributes: refused,
            });
        }
        // The elements currently open below bodyContent: (segment name, slot if repeated).
        let mut open: Vec<(&'static str, Option<u8>)> = Vec::new();
        for (key, value) in user.iter() {
            let info = key.attribute.info();
            let container_len = info.segments.len() - 1;
            let target: Vec<(&'static str, Option<u8>)> = info.segments[..container_len]
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    (
                        s.name,
                        info.repeat.filter(|r| r.depth == i).map(|_| key.slot),
                    )
                })
                .collect();
            let common = open.iter().zip(&target).take_while(|(a, b)| a == b).count();
            while open.len() > common {
                self.close();
                open.pop();
            }
            for (i, seg) in info.segments[..container_len]
                .iter()
                .enumerate()
                .skip(common)
            {
                self.open(seg.ns.into(), seg.name);
                open.push(target[i]);
            }
            let leaf = info.segments[container_len];
            let ns = XmlNs::from(leaf.ns);
            match value {
                Value::Bool(b) => self.text(ns, leaf.name, if *b { "true" } else { "false" }),
                Value::Int(i) => self.text(ns, leaf.name, &i.to_string()),
                Value::Text(t) => self.text(ns, leaf.name, t),
                Value::Secret(s) => self.secret(ns, leaf.name, s),
                Value::IntList(items) => {
                    for i in items {
                        self.text(ns, leaf.name, &i.to_string());
                    }
                }
                Value::TextList(items) => {
                    for t in items {
                        self.text(ns, leaf.name, t);
                    }
                }
            }
        }
        for _ in open.drain(..) {
            self.close();
        }
        Ok(())
    }
}

/// The operations that carry a user payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserOperation {
    /// CreateUser.
    Create,
    /// SetUser.
    Set,
    /// A GetUser response (written by the simulator and by tests).
    Get,
}

impl UserOperation {
    /// The operation's name as the XML API spells it, e.g. `CreateUser`.
    pub fn name(self) -> &'static str {
        match self {
            UserOperation::Create => "CreateUser",
            UserOperation::Set => "SetUser",
            UserOperation::Get => "GetUser",
        }
    }

    fn allows(self, ops: crate::schema::Ops) -> bool {
        match self {
            UserOperation::Create => ops.create,
            UserOperation::Set => ops.set,
            UserOperation::Get => ops.get,
        }
    }
}

/// Which site a request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteRef {
    /// `siteName`: the `example` of `example.webex.com`.
    Name(String),
    /// `siteID` (and `partnerID` where the site needs it).
    Id {
        /// `siteID`: the site's number.
        site_id: i64,
        /// `partnerID`, which some sites require with `siteID`.
        partner_id: Option<String>,
    },
}

/// How the caller proves who it is.
#[derive(Debug, Clone, PartialEq)]
pub enum Credentials {
    /// An admin's Webex ID and password.
    Password {
        /// The admin's Webex ID (`webExID`).
        web_ex_id: String,
        /// The admin's password.
        password: Secret,
    },
    /// A session ticket from AuthenticateUser.
    SessionTicket {
        /// The Webex ID the ticket was issued to.
        web_ex_id: String,
        /// The ticket.
        ticket: Secret,
    },
    /// An OAuth access token (`webExAccessToken`; newer than the 2011 XSD).
    AccessToken {
        /// The Webex ID of the token's user, when the request names it.
        web_ex_id: Option<String>,
        /// The token.
        token: Secret,
    },
}

/// The `securityContext` of every request.
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityContext {
    /// Which site the request is for.
    pub site: SiteRef,
    /// Who makes it.
    pub credentials: Credentials,
}

/// One request of the XML API: its body type and how its body is written.
pub trait Request {
    /// The Java binding name after `java:com.webex.service.binding.`, e.g. `user.CreateUser`.
    const BINDING: &'static str;
    /// The namespace and XSD type name used in the qualified form, e.g. `use:createUser`.
    const XSD_TYPE: (XmlNs, &'static str);
    /// What the operation answers on SUCCESS.
    type Response: super::decode::Decode;
    /// Writes the children of `bodyContent`.
    fn write_body(&self, body: &mut BodyWriter) -> Result<(), EncodeError>;

    /// Whether the body carries the caller's credential itself (AuthenticateUser
    /// with an access token): `securityContext` then names only who and where.
    fn credential_in_body(&self) -> bool {
        false
    }
}

/// Writes a whole request document.
pub fn encode<R: Request>(
    request: &R,
    security: &SecurityContext,
    form: Form,
    secrets: Secrets,
) -> Result<String, EncodeError> {
    let mut body = BodyWriter {
        w: XmlWriter::new(),
        form,
        secrets,
    };
    let body_ns = R::XSD_TYPE.0;
    match form {
        Form::Plain => body.w.open_with(
            "serv:message",
            &[("xmlns:xsi", ns::XSI), ("xmlns:serv", ns::SERVICE)],
        ),
        Form::Qualified => {
            let mut attrs = vec![
                ("xmlns:xsi", ns::XSI),
                ("xmlns:serv", ns::SERVICE),
                ("xmlns:com", ns::COMMON),
            ];
            let decl = format!("xmlns:{}", body_ns.prefix());
            if body_ns != XmlNs::Service && body_ns != XmlNs::Common {
                attrs.push((decl.as_str(), body_ns.uri()));
            }
            if body_ns != XmlNs::User {
                // User payload groups may appear in other bodies' filters; declare `use` always.
                attrs.push(("xmlns:use", ns::USER));
            }
            body.w.open_with("serv:message", &attrs);
        }
    }
    body.open(XmlNs::Service, "header");
    write_security(&mut body, security, request.credential_in_body());
    body.close();
    body.open(XmlNs::Service, "body");
    let xsi_type = match form {
        Form::Plain => format!("java:com.webex.service.binding.{}", R::BINDING),
        Form::Qualified => format!("{}:{}", body_ns.prefix(), R::XSD_TYPE.1),
    };
    let name = body.name(XmlNs::Service, "bodyContent");
    body.w.open_with(&name, &[("xsi:type", &xsi_type)]);
    request.write_body(&mut body)?;
    body.close();
    body.close();
    body.finish(R::BINDING.rsplit('.').next().unwrap_or(R::BINDING))
}

/// securityContext children in the order of common.xsd `securityType`
/// (webExID, password, siteID, siteName, partnerID, email, sessionTicket), then the newer
/// token, unless the body carries it: Cisco's own AuthenticateUser samples send the token
/// only in the body (fixtures/real/requests/AuthenticateUser_accessToken_*).
fn write_security(body: &mut BodyWriter, security: &SecurityContext, credential_in_body: bool) {
    body.open(XmlNs::Service, "securityContext");
    let c = XmlNs::Common;
    let web_ex_id = match &security.credentials {
        Credentials::Password { web_ex_id, .. } | Credentials::SessionTicket { web_ex_id, .. } => {
            Some(web_ex_id)
        }
        Credentials::AccessToken { web_ex_id, .. } => web_ex_id.as_ref(),
    };
    if let Some(id) = web_ex_id {
        body.text(c, "webExID", id);
    }
    if let Credentials::Password { password, .. } = &security.credentials {
        body.secret(c, "password", password);
    }
    match &security.site {
        SiteRef::Name(name) => body.text(c, "siteName", name),
        SiteRef::Id {
            site_id,
            partner_id,
        } => {
            body.text(c, "siteID", &site_id.to_string());
            if let Some(p) = partner_id {
                body.text(c, "partnerID", p);
            }
        }
    }
    match &security.credentials {
        Credentials::SessionTicket { ticket, .. } => body.secret(c, "sessionTicket", ticket),
        Credentials::AccessToken { token, .. } if !credential_in_body => {
            body.secret(c, "webExAccessToken", token)
        }
        Credentials::AccessToken { .. } | Credentials::Password { .. } => {}
    }
    body.close();
}

/// Writes a SUCCESS response document, all elements qualified as the live service
/// writes them (`serv:`, `use:`, `com:` …), e.g. for the simulator or for tests.
/// `xsd_type` names the body type, e.g. `(XmlNs::User, "getUserResponse")`.
pub fn encode_response(
    xsd_type: (XmlNs, &'static str),
    secrets: Secrets,
    write_body: impl FnOnce(&mut BodyWriter) -> Result<(), EncodeError>,
) -> Result<String, EncodeError> {
    let mut body = response_head(xsd_type.0);
    body.secrets = secrets;
    let s = XmlNs::Service;
    body.open(s, "response");
    body.text(s, "result", "SUCCESS");
    body.text(s, "gsbStatus", "PRIMARY");
    body.close();
    body.close();
    body.open(s, "body");
    let xsi_type = format!("{}:{}", xsd_type.0.prefix(), xsd_type.1);
    let name = body.name(s, "bodyContent");
    body.w.open_with(&name, &[("xsi:type", &xsi_type)]);
    write_body(&mut body)?;
    body.finish(xsd_type.1)
}

/// Writes a FAILURE response document for `error` (service.xsd `responseType` order).
pub fn encode_failure(error: &super::decode::ServiceError) -> String {
    let error = error.failure();
    let mut body = response_head(XmlNs::Service);
    let s = XmlNs::Service;
    body.open(s, "response");
    body.text(s, "result", &error.result);
    if let Some(r) = &error.reason {
        body.text(s, "reason", r);
    }
    if let Some(g) = &error.gsb_status {
        body.text(s, "gsbStatus", g);
    }
    if let Some(id) = &error.exception_id {
        body.text(s, "exceptionID", id);
    }
    if !error.sub_errors.is_empty() {
        body.open(s, "subErrors");
        for sub in &error.sub_errors {
            body.open(s, "subError");
            for (name, v) in [
                ("exceptionID", &sub.exception_id),
                ("reason", &sub.reason),
                ("value", &sub.value),
            ] {
                if let Some(v) = v {
                    body.text(s, name, v);
                }
            }
            body.close();
        }
        body.close();
    }
    if let Some(v) = &error.value {
        body.text(s, "value", v);
    }
    body.close();
    body.close();
    body.open(s, "body");
    body.open(s, "bodyContent");
    // The service's (or the simulator's) own words: a character XML cannot
    // carry is written as U+FFFD rather than refusing to answer.
    body.w.finish()
}

/// The envelope of a response up to an open `serv:header`.
fn response_head(body_ns: XmlNs) -> BodyWriter {
    let mut body = BodyWriter {
        w: XmlWriter::new(),
        form: Form::Qualified,
        secrets: Secrets::Mask,
    };
    let mut attrs = vec![
        ("xmlns:serv", ns::SERVICE),
        ("xmlns:com", ns::COMMON),
        ("xmlns:use", ns::USER),
        ("xmlns:xsi", ns::XSI),
    ];
    let decl = format!("xmlns:{}", body_ns.prefix());
    if !matches!(body_ns, XmlNs::Service | XmlNs::Common | XmlNs::User) {
        attrs.push((decl.as_str(), body_ns.uri()));
    }
    body.w.open_with("serv:message", &attrs);
    body.open(XmlNs::Service, "header");
    body
}
