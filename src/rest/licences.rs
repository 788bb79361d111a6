//! The licences API of webexapis.com: which licences the organisation has
//! (`GET /v1/licenses`) and who holds them (`PATCH /v1/licenses/users`).
//!
//! Sources (developer.webex.com/docs/api/v1/licenses, "List Licenses" and
//! "Assign Licenses to Users"; `../shared/spec/control-hub.md`): a licence
//! has `id`, `name`, `totalUnits`, `consumedUnits`, `consumedByUsers`,
//! `siteUrl` and `siteType`; licence names were renamed in January 2026, so a
//! site's Meetings licence is found by `siteUrl` (and then kept by `id`),
//! never by name. A host on a site is a person holding that site's Meetings
//! licence; an attendee is a `siteUrls` entry with `accountType: attendee`
//! (the only account type the reference lists). 206 is partial success:
//! what was asked is compared with what came back.

use std::sync::Arc;

use serde_json::{Value as Json, json};

use super::{ApiError, HttpTransport, Method, RestClient, RestError, api_errors};
use crate::retry::RetryPolicy;
use crate::secret::Secret;

/// The most licences read from one organisation's list (real ones hold tens).
pub const MAX_LICENCES: usize = 10_000;

/// How a licence's site is managed (`siteType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteType {
    /// "Control Hub managed site".
    ControlHubManaged,
    /// "Linked site": a Site Admin site linked to Control Hub.
    Linked,
    /// "Site Admin managed site".
    SiteAdminManaged,
    /// A value the reference does not list, kept as sent.
    Other(String),
}

impl SiteType {
    /// Whether users of such a site are the organisation's people (Control
    /// Hub managed); `None` for a value the reference does not list.
    pub fn control_hub_managed(&self) -> Option<bool> {
        match self {
            SiteType::ControlHubManaged => Some(true),
            SiteType::Linked | SiteType::SiteAdminManaged => Some(false),
            SiteType::Other(_) => None,
        }
    }

    /// The value as the API writes it.
    pub fn as_str(&self) -> &str {
        match self {
            SiteType::ControlHubManaged => "Control Hub managed site",
            SiteType::Linked => "Linked site",
            SiteType::SiteAdminManaged => "Site Admin managed site",
            SiteType::Other(s) => s,
        }
    }

    /// The three values are the `License.siteType` enum of webex-openapi-specs
    /// `public-spec/webex-admin.json` (List Licenses, developer.webex.com/docs/api/v1/licenses).
    fn parse(s: &str) -> SiteType {
        match s {
            "Control Hub managed site" => SiteType::ControlHubManaged,
            "Linked site" => SiteType::Linked,
            "Site Admin managed site" => SiteType::SiteAdminManaged,
            other => SiteType::Other(other.chars().take(64).collect()),
        }
    }
}

/// One licence of the organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Licence {
    /// The licence's id: what [`LicenceChange::licences`] names.
    pub id: String,
    /// For people to read only: names change (January 2026).
    pub name: String,
    /// How many units the organisation has, when the API says.
    pub total_units: Option<u64>,
    /// How many units are assigned, when the API says.
    pub consumed_units: Option<u64>,
    /// The Meetings site the licence belongs to, e.g. `example.webex.com`.
    pub site_url: Option<String>,
    /// How the licence's site is managed, when the licence is for a Meetings site.
    pub site_type: Option<SiteType>,
}

impl Licence {
    fn from_json(j: &Json) -> Option<Licence> {
        let text = |k: &str| j.get(k).and_then(Json::as_str).map(str::to_owned);
        let units = |k: &str| j.get(k).and_then(Json::as_u64);
        Some(Licence {
            id: text("id")?,
            name: text("name").unwrap_or_default(),
            total_units: units("totalUnits"),
            consumed_units: units("consumedUnits"),
            site_url: text("siteUrl"),
            site_type: text("siteType").as_deref().map(SiteType::parse),
        })
    }

    /// Units left to assign, when both counts are known.
    pub fn free_units(&self) -> Option<u64> {
        Some(self.total_units?.saturating_sub(self.consumed_units?))
    }
}

/// `https://Example.webex.com/` → `example.webex.com`: how a site URL is
/// compared (the API writes it bare; admins paste it in every form).
pub fn site_key(site_url: &str) -> String {
    let s = site_url.trim();
    let s = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    s.split('/').next().unwrap_or(s).to_ascii_lowercase()
}

/// Who a licence change is for: one of the two the API takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonRef {
    /// The person's email address.
    Email(String),
    /// The person's Webex id (`personId`).
    PersonId(String),
}

impl PersonRef {
    /// The email or person id, as given (for errors and logs).
    pub fn key(&self) -> &str {
        match self {
            PersonRef::Email(s) | PersonRef::PersonId(s) => s,
        }
    }
}

/// Add or remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::Display)]
#[strum(serialize_all = "lowercase")]
pub enum Change {
    /// Assign.
    Add,
    /// Unassign.
    Remove,
}

/// One `PATCH /v1/licenses/users`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceChange {
    /// Whom the change is for.
    pub person: PersonRef,
    /// Licence ids.
    pub licences: Vec<(String, Change)>,
    /// Sites the person attends without hosting (`accountType: attendee`).
    pub attendee_sites: Vec<(String, Change)>,
}

impl LicenceChange {
    fn to_json(&self) -> Json {
        let mut body = serde_json::Map::new();
        match &self.person {
            PersonRef::Email(e) => body.insert("email".into(), json!(e)),
            PersonRef::PersonId(p) => body.insert("personId".into(), json!(p)),
        };
        if !self.licences.is_empty() {
            let licences: Vec<Json> = self
                .licences
                .iter()
                .map(|(id, op)| json!({"id": id, "operation": op.to_string()}))
                .collect();
            body.insert("licenses".into(), Json::Array(licences));
        }
        if !self.attendee_sites.is_empty() {
            let sites: Vec<Json> = self
                .attendee_sites
                .iter()
                .map(|(site, op)| {
                    json!({"siteUrl": site, "accountType": "attendee", "operation": op.to_string()})
                })
                .collect();
            body.insert("siteUrls".into(), Json::Array(sites));
        }
        Json::Object(body)
    }
}

/// What a licence change came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assigned {
    /// The person's licences after the change (ids).
    pub licences: Vec<String>,
    /// The sites the person attends after the change.
    pub attendee_sites: Vec<String>,
    /// Asked and not done: licence ids and site URLs (206, or a 200 that
    /// does not show them).
    pub not_applied: Vec<String>,
    /// The reasons a 206 gave.
    pub errors: Vec<ApiError>,
    /// Whether the API answered 206 (partial success).
    pub partial: bool,
    /// The answer's `TrackingID`.
    pub tracking_id: Option<String>,
}

impl Assigned {
    /// Whether everything asked for was done.
    pub fn is_complete(&self) -> bool {
        !self.partial && self.not_applied.is_empty()
    }

    fn from_answer(change: &LicenceChange, status: u16, body: &Json) -> Assigned {
        let strings = |k: &str, field: Option<&str>| -> Vec<String> {
            body.get(k)
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| match field {
                    Some(f) => v.get(f).and_then(Json::as_str),
                    None => v.as_str(),
                })
                .map(str::to_owned)
                .collect()
        };
        let licences = strings("licenses", None);
        let attendee_sites = strings("siteUrls", Some("siteUrl"));
        let holds = |held: &[String], wanted: &str, keyed: fn(&str) -> String| {
            held.iter().any(|h| keyed(h) == keyed(wanted))
        };
        let same = |s: &str| s.to_owned();
        let mut not_applied = Vec::new();
        for (id, op) in &change.licences {
            if holds(&licences, id, same) != (*op == Change::Add) {
                not_applied.push(id.clone());
            }
        }
        for (site, op) in &change.attendee_sites {
            if holds(&attendee_sites, site, site_key) != (*op == Change::Add) {
                not_applied.push(site.clone());
            }
        }
        Assigned {
            licences,
            attendee_sites,
            not_applied,
            errors: api_errors(Some(body)),
            partial: status == 206,
            tracking_id: None,
        }
    }
}

/// The licences API of one organisation.
#[derive(Debug)]
pub struct LicenceClient {
    rest: RestClient,
    org_id: Option<String>,
}

/// Announced from this module (`RUST_LOG=wbxprov::rest::licences=…`).
fn announce(cause: &str, notice: crate::retry::WaitNotice) {
    crate::client::announce_wait!(
        cause,
        notice.length,
        notice.source,
        notice.next_attempt,
        notice.max_attempts,
    );
}

impl LicenceClient {
    /// `base_url` is [`super::DEFAULT_BASE_URL`] (or the simulator's `/v1`).
    pub fn new(base_url: &str, token: Secret, transport: Arc<dyn HttpTransport>) -> Self {
        LicenceClient {
            rest: RestClient::new("licences API", base_url, token, transport).announcer(announce),
            org_id: None,
        }
    }

    /// Another organisation than the token's (a partner admin's customer).
    pub fn org_id(mut self, org_id: impl Into<String>) -> Self {
        self.org_id = Some(org_id.into());
        self
    }

    /// How often and how long transient failures are retried.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.rest = self.rest.retry(retry);
        self
    }

    /// The URL the organisation's licences are listed from (for messages).
    pub fn list_url(&self) -> String {
        format!("{}/licenses", self.rest.base())
    }

    /// Every licence of the organisation.
    pub async fn list(&self) -> Result<Vec<Licence>, RestError> {
        let path = match &self.org_id {
            Some(org) => format!("/licenses?orgId={}", super::query_escape(org)),
            None => "/licenses".to_owned(),
        };
        let items = self
            .rest
            .get_linked("list", "licenses", &path, MAX_LICENCES)
            .await?;
        Ok(items.iter().filter_map(Licence::from_json).collect())
    }

    /// The Meetings licence of `site_url`, found by its site, never its name.
    pub async fn site_licence(&self, site_url: &str) -> Result<Option<Licence>, RestError> {
        let wanted = site_key(site_url);
        Ok(self
            .list()
            .await?
            .into_iter()
            .find(|l| l.site_url.as_deref().map(site_key).as_deref() == Some(wanted.as_str())))
    }

    /// Adds or removes licences and attendee sites of one existing person.
    /// A 206 is not an error: [`Assigned::is_complete`] says what was done.
    pub async fn assign(&self, change: &LicenceChange) -> Result<Assigned, RestError> {
        let mut body = change.to_json();
        if let (Some(org), Some(o)) = (&self.org_id, body.as_object_mut()) {
            o.insert("orgId".into(), json!(org));
        }
        let answer = self
            .rest
            .call(
                "assign",
                change.person.key(),
                Method::PATCH,
                "/licenses/users",
                Some(body),
            )
            .await?;
        let body = answer.body.unwrap_or_default();
        Ok(Assigned {
            tracking_id: answer.tracking_id,
            ..Assigned::from_answer(change, answer.status, &body)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_site_types_read_and_say_whether_control_hub_manages_the_site() {
        for (text, managed) in [
            ("Control Hub managed site", Some(true)),
            ("Linked site", Some(false)),
            ("Site Admin managed site", Some(false)),
            ("Something new", None),
        ] {
            let site_type = SiteType::parse(text);
            assert_eq!(site_type.as_str(), text);
            assert_eq!(site_type.control_hub_managed(), managed, "{text}");
        }
    }

    #[test]
    fn site_urls_compare_in_any_form_an_admin_pastes() {
        assert_eq!(site_key("https://Example.webex.com/"), "example.webex.com");
        assert_eq!(site_key(" example.WEBEX.com"), "example.webex.com");
        assert_ne!(
            site_key("example.webex.com"),
            site_key("example2.webex.com")
        );
    }

    #[test]
    fn what_came_back_is_compared_with_what_was_asked() {
        let change = LicenceChange {
            person: PersonRef::Email("a@example.com".into()),
            licences: vec![("L1".into(), Change::Add), ("L2".into(), Change::Remove)],
            attendee_sites: vec![("other.webex.com".into(), Change::Add)],
        };
        let body = json!({"licenses": ["L1", "L2"], "siteUrls": [
            {"siteUrl": "Other.webex.com", "accountType": "attendee"}]});
        let done = Assigned::from_answer(&change, 206, &body);
        assert_eq!(done.not_applied, ["L2"]);
        assert!(!done.is_complete());
    }
}
