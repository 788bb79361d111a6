//! What each operation answers, decoded from its `bodyContent`. GetUser answers
//! a [`User`](crate::User), read through the catalogue (see `xml/decode.rs`).

use serde::Serialize;

use crate::schema::{FEATURES, Feature};
use crate::secret::Secret;
use crate::xml::decode::{BodyReader, Decode, ServiceError, ServiceErrorKind};
use crate::xml::encode::XmlNs;
use crate::xml::reader::DecodeError;
use crate::xml::tree::Element;

/// CreateUser's answer: the new user's numeric ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedUser {
    /// The service's numeric ID of the new user (`userId`).
    pub user_id: i64,
}

impl Decode for CreatedUser {
    fn decode_body(body: &mut BodyReader<'_, '_>) -> Result<Self, DecodeError> {
        let mut user_id = None;
        while let Some(tag) = body.next()? {
            if tag.is(XmlNs::User, "userId") {
                user_id = Some(body.int("userId")?);
            } else {
                body.skip_unknown(&tag)?;
            }
        }
        Ok(CreatedUser {
            user_id: user_id.ok_or_else(|| {
                DecodeError::Structure("createUserResponse without userId".into())
            })?,
        })
    }
}

/// SetUser answers nothing but SUCCESS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Updated;

impl Decode for Updated {
    fn decode_body(body: &mut BodyReader<'_, '_>) -> Result<Self, DecodeError> {
        while let Some(tag) = body.next()? {
            body.skip_unknown(&tag)?;
        }
        Ok(Updated)
    }
}

/// What DelUser did to one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DelUserStatus {
    /// The user the status is for.
    pub web_ex_id: String,
    /// `SUCCESS` or `FAILURE`, as sent.
    pub status: String,
}

impl DelUserStatus {
    /// Whether DelUser deactivated this user.
    pub fn is_success(&self) -> bool {
        self.status == "SUCCESS"
    }
}

/// DelUser's answer: one status per user, in request order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Deleted {
    /// One status per user, in request order.
    pub users: Vec<DelUserStatus>,
}

impl Decode for Deleted {
    fn decode_body(body: &mut BodyReader<'_, '_>) -> Result<Self, DecodeError> {
        let mut users = Vec::new();
        while let Some(tag) = body.next()? {
            if !tag.is(XmlNs::User, "user") {
                body.skip_unknown(&tag)?;
                continue;
            }
            let (mut web_ex_id, mut status) = (None, None);
            while let Some(tag) = body.next()? {
                if tag.is(XmlNs::User, "webExId") {
                    web_ex_id = Some(body.text()?);
                } else if tag.is(XmlNs::User, "status") {
                    status = Some(body.text()?.trim().to_owned());
                } else {
                    body.skip_unknown(&tag)?;
                }
            }
            match (web_ex_id, status) {
                (Some(web_ex_id), Some(status)) => users.push(DelUserStatus { web_ex_id, status }),
                _ => {
                    return Err(DecodeError::Structure(
                        "delUserResponse user without webExId or status".into(),
                    ));
                }
            }
        }
        Ok(Deleted { users })
    }
}

/// `matchingRecords` of a list: how many matched, how many came back, from where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchingRecords {
    /// How many records match the query in all.
    pub total: i64,
    /// How many records this page holds.
    pub returned: i64,
    /// The 1-based index of the page's first record.
    pub start_from: i64,
}

fn matching_records(body: &mut BodyReader<'_, '_>) -> Result<MatchingRecords, DecodeError> {
    let mut m = MatchingRecords::default();
    while let Some(tag) = body.next()? {
        if tag.is(XmlNs::Service, "total") {
            m.total = body.int("matchingRecords/total")?;
        } else if tag.is(XmlNs::Service, "returned") {
            m.returned = body.int("matchingRecords/returned")?;
        } else if tag.is(XmlNs::Service, "startFrom") {
            m.start_from = body.int("matchingRecords/startFrom")?;
        } else {
            body.skip_unknown(&tag)?;
        }
    }
    Ok(m)
}

/// One user of a LstsummaryUser page.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSummary {
    /// The user's Webex ID.
    pub web_ex_id: String,
    /// `firstName`.
    pub first_name: Option<String>,
    /// `lastName`.
    pub last_name: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// `registrationDate`, as sent (`MM/DD/YYYY HH:MM:SS`).
    pub registration_date: Option<String>,
    /// `ACTIVATED`, `DEACTIVATED` …
    pub active: Option<String>,
    /// `timeZoneID`: an index into [`TIME_ZONES`](crate::schema::TIME_ZONES).
    #[serde(rename = "timeZoneID")]
    pub time_zone_id: Option<i64>,
}

/// LstsummaryUser's answer: one page and where it sits in the whole list.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserPage {
    /// The page's users, in the order asked for.
    pub users: Vec<UserSummary>,
    /// Where the page sits in the whole list.
    pub matching_records: MatchingRecords,
}

impl Decode for UserPage {
    fn decode_body(body: &mut BodyReader<'_, '_>) -> Result<Self, DecodeError> {
        let mut page = UserPage::default();
        let u = XmlNs::User;
        while let Some(tag) = body.next()? {
            if tag.is(u, "matchingRecords") {
                page.matching_records = matching_records(body)?;
            } else if tag.is(u, "user") {
                let mut s = UserSummary::default();
                let mut has_id = false;
                while let Some(tag) = body.next()? {
                    if tag.is(u, "webExId") {
                        s.web_ex_id = body.text()?;
                        has_id = true;
                    } else if tag.is(u, "firstName") {
                        s.first_name = Some(body.text()?);
                    } else if tag.is(u, "lastName") {
                        s.last_name = Some(body.text()?);
                    } else if tag.is(u, "email") {
                        s.email = Some(body.text()?);
                    } else if tag.is(u, "registrationDate") {
                        s.registration_date = Some(body.text()?);
                    } else if tag.is(u, "active") {
                        s.active = Some(body.text()?.trim().to_owned());
                    } else if tag.is(u, "timeZoneID") {
                        s.time_zone_id = Some(body.int("user/timeZoneID")?);
                    } else {
                        body.skip_unknown(&tag)?;
                    }
                }
                if !has_id {
                    return Err(DecodeError::Structure(
                        "lstsummaryUserResponse user without webExId".into(),
                    ));
                }
                page.users.push(s);
            } else {
                body.skip_unknown(&tag)?;
            }
        }
        Ok(page)
    }

    /// 000015 "no record found" is an empty page.
    fn from_failure(error: &ServiceError) -> Option<Self> {
        (error.kind() == ServiceErrorKind::NoRecords).then(UserPage::default)
    }
}

/// AuthenticateUser's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionTicket {
    /// The ticket: pass it as
    /// [`Credentials::SessionTicket`](crate::xml::encode::Credentials::SessionTicket).
    pub session_ticket: Secret,
    /// Milliseconds since the Unix epoch (OAuth variant only).
    pub create_time: Option<i64>,
    /// Seconds the ticket lives (OAuth variant only).
    pub time_to_live: Option<i64>,
}

impl Decode for SessionTicket {
    fn decode_body(body: &mut BodyReader<'_, '_>) -> Result<Self, DecodeError> {
        let (mut ticket, mut create_time, mut time_to_live) = (None, None, None);
        while let Some(tag) = body.next()? {
            if tag.is(XmlNs::User, "sessionTicket") {
                ticket = Some(Secret::new(body.text()?.trim()));
            } else if tag.is(XmlNs::User, "createTime") {
                create_time = Some(body.int("createTime")?);
            } else if tag.is(XmlNs::User, "timeToLive") {
                time_to_live = Some(body.int("timeToLive")?);
            } else {
                body.skip_unknown(&tag)?;
            }
        }
        Ok(SessionTicket {
            session_ticket: ticket.ok_or_else(|| {
                DecodeError::Structure("authenticateUserResponse without sessionTicket".into())
            })?,
            create_time,
            time_to_live,
        })
    }
}

/// A session type as GetSite's `metaData/meetingTypes` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteMeetingType {
    /// `meetingTypeID`.
    pub id: i64,
    /// The type's name, as GetSite gives it.
    pub name: Option<String>,
}

/// `accountPasswordCriteria`: the rules a user password must meet on the site.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct PasswordCriteria {
    /// Whether a password must mix upper and lower case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mixed_case: Option<bool>,
    /// The shortest password allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_length: Option<i64>,
    /// How many digits a password needs at least.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_numeric: Option<i64>,
    /// How many letters a password needs at least.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_alpha: Option<i64>,
    /// How many special characters a password needs at least.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_special: Option<i64>,
    /// Whether a character may not appear three times in a row.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "disallow3XRepeatedChar")]
    pub disallow_3x_repeated_char: Option<bool>,
    /// Whether a password may not contain the account's own texts (the validator checks the
    /// Webex ID, first and last name and email).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disallow_web_text_accounts: Option<bool>,
    /// Whether the values of [`disallow_values`](Self::disallow_values) are refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disallow_list: Option<bool>,
    /// Passwords the site refuses when [`disallow_list`](Self::disallow_list) is on.
    pub disallow_values: Vec<String>,
}

/// GetSite's answer: the typed facts wbxprov reads, and the whole `siteInstance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteInstance {
    /// `metaData/siteName`, when sent.
    pub site_name: Option<String>,
    /// Every catalogue feature whose GetSite element is present, by feature name.
    pub features: std::collections::BTreeMap<&'static str, bool>,
    /// `metaData/serviceType`, e.g. `Meeting Center`.
    pub service_types: Vec<String>,
    /// The session types `metaData/meetingTypes` lists.
    pub meeting_types: Vec<SiteMeetingType>,
    /// The password rules, when the site sends them: the validator checks `password` against them.
    pub account_password_criteria: Option<PasswordCriteria>,
    /// The whole `siteInstance` element, for anything not typed here.
    #[serde(skip)]
    pub raw: Element,
}

impl SiteInstance {
    /// Builds the typed view from a raw `siteInstance` element.
    pub fn from_element(raw: Element) -> Result<Self, DecodeError> {
        let bool_at = |path: &str| -> Result<Option<bool>, DecodeError> {
            raw.text_at(path)
                .map(|t| {
                    crate::xml::decode::parse_bool(t).ok_or_else(|| DecodeError::InvalidValue {
                        attribute: format!("siteInstance/{path}"),
                        expected: "boolean".into(),
                        value: t.to_owned(),
                    })
                })
                .transpose()
        };
        let int_at = |e: &Element, path: &str| -> Result<Option<i64>, DecodeError> {
            e.text_at(path)
                .map(|t| {
                    t.parse().map_err(|_| DecodeError::InvalidValue {
                        attribute: format!("siteInstance/…/{path}"),
                        expected: "integer".into(),
                        value: t.to_owned(),
                    })
                })
                .transpose()
        };
        let mut features = std::collections::BTreeMap::new();
        for info in FEATURES.iter() {
            if let Some(on) = bool_at(info.getsite_path)? {
                features.insert(info.name, on);
            }
        }
        let meta = raw.child("metaData");
        let mut meeting_types = Vec::new();
        let mut service_types = Vec::new();
        if let Some(meta) = meta {
            for mt in meta.children_named("meetingTypes") {
                if let Some(id) = int_at(mt, "meetingTypeID")? {
                    meeting_types.push(SiteMeetingType {
                        id,
                        name: mt.text_at("meetingTypeName").map(str::to_owned),
                    });
                }
            }
            service_types = meta
                .children_named("serviceType")
                .map(|e| e.text.trim().to_owned())
                .collect();
        }
        let account_password_criteria = match raw.child("accountPasswordCriteria") {
            None => None,
            Some(c) => {
                let b = |name: &str| -> Result<Option<bool>, DecodeError> {
                    bool_at(&format!("accountPasswordCriteria/{name}"))
                };
                Some(PasswordCriteria {
                    mixed_case: b("mixedCase")?,
                    min_length: int_at(c, "minLength")?,
                    min_numeric: int_at(c, "minNumeric")?,
                    min_alpha: int_at(c, "minAlpha")?,
                    min_special: int_at(c, "minSpecial")?,
                    disallow_3x_repeated_char: b("disallow3XRepeatedChar")?,
                    disallow_web_text_accounts: b("disallowWebTextAccounts")?,
                    disallow_list: b("disallowList")?,
                    disallow_values: c
                        .children_named("disallowValue")
                        .map(|e| e.text.trim().to_owned())
                        .collect(),
                })
            }
        };
        Ok(SiteInstance {
            site_name: raw.text_at("metaData/siteName").map(str::to_owned),
            features,
            service_types,
            meeting_types,
            account_password_criteria,
            raw,
        })
    }

    /// Whether GetSite reports `feature` on; `None` when the element is absent.
    pub fn feature(&self, feature: Feature) -> Option<bool> {
        self.features.get(feature.info().name).copied()
    }
}

impl Decode for SiteInstance {
    /// Every element of the answer no typed field reads is counted as unknown
    /// and named by its path below `siteInstance`, as the pull decoders count
    /// what they skip (a real GetSite holds hundreds).
    fn decode_body(body: &mut BodyReader<'_, '_>) -> Result<Self, DecodeError> {
        let mut raw = None;
        for child in body.tree_children()? {
            let is_site = child.name == "siteInstance" && child.ns.is_none_or(|n| n == XmlNs::Site);
            if is_site && raw.is_none() {
                raw = Some(child);
            } else {
                body.note_unknown(&child.name);
            }
        }
        let raw = raw
            .ok_or_else(|| DecodeError::Structure("getSiteResponse without siteInstance".into()))?;
        note_unread(body, &raw, "", site_read_paths());
        SiteInstance::from_element(raw)
    }
}

/// The fields of `accountPasswordCriteria` [`SiteInstance::from_element`] reads.
const PASSWORD_CRITERIA_FIELDS: [&str; 9] = [
    "mixedCase",
    "minLength",
    "minNumeric",
    "minAlpha",
    "minSpecial",
    "disallow3XRepeatedChar",
    "disallowWebTextAccounts",
    "disallowList",
    "disallowValue",
];

/// Every path below `siteInstance` that [`SiteInstance::from_element`] reads:
/// the catalogue's feature paths, the meta data it types, the password criteria.
fn site_read_paths() -> &'static [String] {
    static PATHS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    PATHS.get_or_init(|| {
        let meta = [
            "metaData/siteName",
            "metaData/serviceType",
            "metaData/meetingTypes/meetingTypeID",
            "metaData/meetingTypes/meetingTypeName",
        ];
        FEATURES
            .iter()
            .map(|f| f.getsite_path.to_owned())
            .chain(meta.into_iter().map(str::to_owned))
            .chain(
                PASSWORD_CRITERIA_FIELDS
                    .iter()
                    .map(|f| format!("accountPasswordCriteria/{f}")),
            )
            .collect()
    })
}

/// Counts each child of `element` (at `prefix`) that is neither a read path
/// nor on the way to one; descends into those on the way.
fn note_unread(body: &mut BodyReader<'_, '_>, element: &Element, prefix: &str, read: &[String]) {
    for child in &element.children {
        let path = if prefix.is_empty() {
            child.name.clone()
        } else {
            format!("{prefix}/{}", child.name)
        };
        if read.contains(&path) {
            continue;
        }
        let on_the_way = read.iter().any(|r| {
            r.strip_prefix(path.as_str())
                .is_some_and(|t| t.starts_with('/'))
        });
        if on_the_way {
            note_unread(body, child, &path, read);
        } else {
            body.note_unknown(&path);
        }
    }
}

/// One session type of LstMeetingType.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeetingTypeInfo {
    /// `meetingTypeID`: the number a user's `meetingTypes/meetingType` elements hold.
    #[serde(rename = "meetingTypeID")]
    pub id: i64,
    /// `productCodePrefix`, e.g. `PRO`.
    pub product_code_prefix: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `displayName`, the name the site shows.
    pub display_name: Option<String>,
    /// `active`, as sent.
    pub active: Option<String>,
    /// e.g. `MeetingCenter`, `EventCenter`.
    pub service_types: Vec<String>,
}

/// LstMeetingType's answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeetingTypeList {
    /// This page's session types.
    pub meeting_types: Vec<MeetingTypeInfo>,
    /// Where the page sits in the whole list.
    pub matching_records: MatchingRecords,
}

impl Decode for MeetingTypeList {
    fn decode_body(body: &mut BodyReader<'_, '_>) -> Result<Self, DecodeError> {
        let m = XmlNs::MeetingType;
        let mut list = MeetingTypeList::default();
        while let Some(tag) = body.next()? {
            if tag.is(m, "matchingRecords") {
                list.matching_records = matching_records(body)?;
            } else if tag.is(m, "meetingType") {
                let mut t = MeetingTypeInfo::default();
                let mut has_id = false;
                while let Some(tag) = body.next()? {
                    if tag.is(m, "meetingTypeID") {
                        t.id = body.int("meetingType/meetingTypeID")?;
                        has_id = true;
                    } else if tag.is(m, "productCodePrefix") {
                        t.product_code_prefix = Some(body.text()?);
                    } else if tag.is(m, "name") {
                        t.name = Some(body.text()?);
                    } else if tag.is(m, "displayName") {
                        t.display_name = Some(body.text()?);
                    } else if tag.is(m, "active") {
                        t.active = Some(body.text()?.trim().to_owned());
                    } else if tag.is(m, "serviceTypes") {
                        while let Some(tag) = body.next()? {
                            if tag.is(m, "serviceType") {
                                t.service_types.push(body.text()?.trim().to_owned());
                            } else {
                                body.skip_unknown(&tag)?;
                            }
                        }
                    } else {
                        // limits, options, phoneNumbers …: read by nothing, so counted.
                        body.skip_unknown(&tag)?;
                    }
                }
                if !has_id {
                    return Err(DecodeError::Structure(
                        "lstMeetingTypeResponse meetingType without meetingTypeID".into(),
                    ));
                }
                list.meeting_types.push(t);
            } else {
                body.skip_unknown(&tag)?;
            }
        }
        Ok(list)
    }

    fn from_failure(error: &ServiceError) -> Option<Self> {
        (error.kind() == ServiceErrorKind::NoRecords).then(MeetingTypeList::default)
    }
}
