//! Licences on a simulated Control-Hub-managed site (`SimConfig::
//! control_hub_licences`, `sim serve --control-hub-licences`; off by default).
//!
//! With it on, a person of the organisation is a host on the site only while
//! holding the site's Meetings licence (seeds 000/001: without licence
//! templates, people synchronised into Control Hub get no licences;
//! developer.webex.com "Assign Licenses to Users": only existing persons can be
//! licensed). The simulator serves the webexapis.com APIs that manage it:
//! `GET /v1/licenses` (the site's licence, `totalUnits` from the profile's
//! `[limits] siteHosts`, plus a licence of no site so that a client must match
//! by `siteUrl`), `PATCH /v1/licenses/users` (200, 206 when
//! `licence_206_every` says so or an attendee site is unknown, 400 with the
//! reference's errorCodes 400000 and 400216) and the userconfig session-type
//! endpoints. Every message is the simulator's own, marked "(simulator)": the
//! reference names codes, not words. 429 with Retry-After as the identity API's
//! (`identity_429_every` counts these requests too).
//!
//! XML API on such a site (XML API 41.11 "forward compatibility", help.webex.com
//! nvuo92z; the CreateUser and DelUser reference; `../shared/spec/control-hub.md`):
//! CreateUser creates the person if absent and assigns the site licence,
//! ignores `password` and `active`, and uses the email as the webExId; DelUser
//! also removes the licence. GetUser and SetUser of a person without the
//! licence answer 030001: the simulator's reading (the spec marks it
//! UNCERTAIN, inferred from client code); no document shows the real answer.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value as Json, json};

use super::identity::IdentityAnswer;
use super::{NO_EXCEPTION_ID, Simulator, State, failure, known, text};
use crate::schema::{Attribute, FlatKey, FlatUser, Value};
use crate::validate::control_hub::tracking_code_attribute;

/// What the organisation's licences hold beyond the site users.
#[derive(Debug, Default)]
pub(super) struct Licences {
    /// userIds holding the site's Meetings licence.
    pub(super) holders: BTreeSet<i64>,
    /// userId → sites the person attends (`accountType: attendee`).
    pub(super) attendee: HashMap<i64, BTreeSet<String>>,
    /// PATCH /v1/licenses/users answered, for `licence_206_every`.
    pub(super) patches: u64,
}

/// One request to the simulated `/v1` APIs.
#[derive(Debug)]
pub struct V1Call<'a> {
    /// The HTTP method, e.g. `PATCH`.
    pub method: &'a str,
    /// After `/v1`: `/licenses`, `/licenses/users` …
    pub path: &'a str,
    /// The query parameters.
    pub query: &'a HashMap<String, String>,
    /// The `Authorization` header, as sent: the bearer token is checked against the site's.
    pub authorization: Option<&'a str>,
    /// The `email` request header (Get User Tracking Codes takes the user's
    /// email there, webex-openapi-specs `public-spec/webex-meeting.json`).
    pub email_header: Option<&'a str>,
    /// The request body.
    pub body: &'a [u8],
}

fn answer(status: u16, body: Json) -> IdentityAnswer {
    IdentityAnswer {
        status,
        retry_after: None,
        body: Some(body),
    }
}

/// A webexapis.com error body; `code` only where the reference names one.
fn refused(status: u16, message: &str, code: Option<u32>) -> IdentityAnswer {
    let errors: Vec<Json> = code
        .map(|c| json!({"errorCode": c, "description": format!("(simulator) {message}")}))
        .into_iter()
        .collect();
    answer(
        status,
        json!({"message": format!("(simulator) {message}"), "errors": errors,
               "trackingId": "SIM_TRACKING"}),
    )
}

impl Simulator {
    /// Whether the site models licences (Control Hub profile and the switch).
    pub(super) fn licences_on(&self) -> bool {
        self.config.control_hub_licences && self.config.profile.control_hub.is_some()
    }

    /// `example.webex.com`: the site's URL as the licences API writes it.
    pub fn site_url(&self) -> String {
        let name = self.config.profile.site_name.as_deref().unwrap_or("sim");
        format!("{}.webex.com", name.to_ascii_lowercase())
    }

    /// The licence's `siteType` (one of the three values of List Licenses,
    /// webex-openapi-specs `public-spec/webex-admin.json`): a profile with
    /// `[controlHub]` and `controlHubManaged = false` is a linked site (the
    /// simulator's reading: the organisation holds its licence, the site
    /// keeps its users).
    fn site_type(&self) -> &'static str {
        if self.config.profile.control_hub_managed {
            "Control Hub managed site"
        } else {
            "Linked site"
        }
    }

    /// The id of the site's Meetings licence.
    pub fn site_licence_id(&self) -> String {
        format!("sim-licence-meetings-{}", self.site_url())
    }

    fn total_units(&self) -> u64 {
        let hosts = self
            .config
            .profile
            .limits
            .as_ref()
            .and_then(|l| l.site_hosts);
        hosts.map_or(u64::from(u32::MAX), u64::from)
    }

    /// Whether the user `user_id` is a site user: always without the
    /// licence model, else only while holding the site's licence.
    pub(super) fn is_site_user(&self, state: &State, user_id: i64) -> bool {
        !self.licences_on() || state.licences.holders.contains(&user_id)
    }

    /// Gives `user_id` the site's licence; `false` when no unit is left.
    pub(super) fn license(&self, state: &mut State, user_id: i64) -> bool {
        let held = &mut state.licences.holders;
        if held.contains(&user_id) {
            return true;
        }
        if held.len() as u64 >= self.total_units() {
            return false;
        }
        held.insert(user_id)
    }

    /// CreateUser on a Control Hub managed site with licences (XML API 41.11,
    /// the CreateUser reference): `password` and `active` ignored, the email
    /// as webExId, the person created in the organisation when absent, then
    /// given the site's licence. A person already holding it is 030004.
    pub(super) fn create_licensed(
        &self,
        state: &mut State,
        mut user: FlatUser,
    ) -> Result<String, String> {
        user.remove(&FlatKey::new(Attribute::Password));
        user.remove(&FlatKey::new(Attribute::Active));
        let email = text(&user, Attribute::Email)
            .or_else(|| text(&user, Attribute::WebExId).filter(|w| w.contains('@')))
            .map(str::to_owned);
        let Some(email) = email else {
            let words = "CreateUser on a Control Hub managed site needs the email";
            return Ok(failure("999999", &format!("(simulator) {words}")));
        };
        for a in [Attribute::WebExId, Attribute::Email] {
            user.insert(FlatKey::new(a), Value::Text(email.clone()));
        }
        let key = email.to_lowercase();
        let existing = state.users.get(&key).map(|u| u.user_id);
        if existing.is_some_and(|id| self.is_site_user(state, id)) {
            return Ok(known("030004"));
        }
        if state.licences.holders.len() as u64 >= self.total_units() {
            // The words the service documents for its host limit, without an ID.
            return Ok(failure(NO_EXCEPTION_ID, "exceededSiteHostLimit"));
        }
        let user_id = match existing {
            Some(id) => match self.settle_existing(state, id, user)? {
                Ok(()) => id,
                Err(refusal) => return Ok(refusal),
            },
            None => match self.add_user(state, user)? {
                Ok(id) => id,
                Err((code, reason)) => return Ok(failure(code, &reason)),
            },
        };
        self.license(state, user_id);
        crate::xml::encode::encode_response(
            (crate::xml::encode::XmlNs::User, "createUserResponse"),
            crate::xml::Secrets::Mask,
            |b| {
                b.text(
                    crate::xml::encode::XmlNs::User,
                    "userId",
                    &user_id.to_string(),
                );
                Ok(())
            },
        )
        .map_err(|e| e.to_string())
    }

    /// A person already in the organisation: the CreateUser's Meetings
    /// settings applied as a SetUser would (licensed first, so that SetUser
    /// finds a site user; the licence is taken back, and SetUser's FAILURE
    /// answered, if it refuses).
    fn settle_existing(
        &self,
        state: &mut State,
        user_id: i64,
        user: FlatUser,
    ) -> Result<Result<(), String>, String> {
        let change: FlatUser = user
            .into_iter()
            .filter(|(k, _)| k.attribute == Attribute::WebExId || !k.attribute.info().identity)
            .filter(|(k, _)| k.attribute.info().ops.set)
            .collect();
        state.licences.holders.insert(user_id);
        let answer = self.set(state, change)?;
        if answer.contains("<serv:result>FAILURE</serv:result>") {
            state.licences.holders.remove(&user_id);
            return Ok(Err(answer));
        }
        Ok(Ok(()))
    }

    /// Answers one request to `/v1`.
    pub fn v1(&self, call: V1Call<'_>) -> IdentityAnswer {
        let expected = self.config.identity_token.expose().as_bytes();
        let token = call.authorization.and_then(crate::server::bearer_token);
        if !token.is_some_and(|t| crate::server::same_token(t.as_bytes(), expected)) {
            return refused(401, "the request requires a valid access token", None);
        }
        if !self.licences_on() {
            return refused(404, "this simulated site does not model licences", None);
        }
        let mut state = self.state.lock().expect("sim state");
        if let Some(limited) = self.rate_limited(&mut state) {
            return limited;
        }
        let body = || serde_json::from_slice::<Json>(call.body).ok();
        match (call.method.to_ascii_uppercase().as_str(), call.path) {
            ("GET", "/licenses") => self.list_licences(&state),
            ("PATCH", "/licenses/users") => match body() {
                Some(b) => self.patch_licences(&mut state, &b),
                None => refused(400, "the body is not JSON", None),
            },
            ("GET", "/admin/meeting/userconfig/sessionTypes") => {
                let person = (call.query.get("email"), call.query.get("personId"));
                match self.other_site(call.query.get("siteUrl")) {
                    Some(refusal) => refusal,
                    None => self.user_session_types(&state, person, true),
                }
            }
            ("PUT", "/admin/meeting/userconfig/sessionTypes") => match body() {
                Some(b) => self.put_session_types(&mut state, &b),
                None => refused(400, "the body is not JSON", None),
            },
            ("GET", "/admin/meeting/config/trackingCodes") => {
                self.site_tracking_codes(call.query.get("siteUrl"))
            }
            ("GET", "/admin/meeting/userconfig/trackingCodes") => {
                let email = call.email_header.map(str::to_owned);
                let person = (email.as_ref(), call.query.get("personId"));
                self.user_tracking_codes(&state, person, call.query.get("siteUrl"))
            }
            ("PUT", "/admin/meeting/userconfig/trackingCodes") => match body() {
                Some(b) => self.put_tracking_codes(&mut state, &b),
                None => refused(400, "the body is not JSON", None),
            },
            (method, path) => refused(405, &format!("{method} {path} is not served"), None),
        }
    }

    /// Every Nth request to the identity or `/v1` APIs answers 429.
    pub(super) fn rate_limited(&self, state: &mut State) -> Option<IdentityAnswer> {
        state.identity_requests += 1;
        let n = self.config.identity_429_every.filter(|n| *n > 0)?;
        if !state.identity_requests.is_multiple_of(u64::from(n)) {
            return None;
        }
        let mut limited = refused(429, "too many requests", None);
        limited.retry_after = Some(self.config.identity_retry_after);
        Some(limited)
    }

    fn list_licences(&self, state: &State) -> IdentityAnswer {
        let site = json!({
            "id": self.site_licence_id(),
            "name": "Webex Meetings",
            "totalUnits": self.total_units(),
            "consumedUnits": state.licences.holders.len(),
            "consumedByUsers": state.licences.holders.len(),
            "siteUrl": self.site_url(),
            "siteType": self.site_type(),
        });
        // No site: a client matching by name, not siteUrl, could pick it.
        let other = json!({"id": "sim-licence-messaging", "name": "Messaging",
                           "totalUnits": 1_000_000, "consumedUnits": 0});
        answer(200, json!({"items": [other, site]}))
    }

    /// The stored key of the person a request names (email or personId).
    fn person_key(
        state: &State,
        email: Option<&String>,
        person_id: Option<&String>,
    ) -> Option<String> {
        if let Some(email) = email {
            let key = email.to_lowercase();
            return state.users.contains_key(&key).then_some(key);
        }
        let user_id: i64 = person_id?.strip_prefix("sim-person-")?.parse().ok()?;
        state
            .users
            .iter()
            .find(|(_, u)| u.user_id == user_id)
            .map(|(k, _)| k.clone())
    }

    fn patch_licences(&self, state: &mut State, body: &Json) -> IdentityAnswer {
        let field = |k: &str| body.get(k).and_then(Json::as_str).map(str::to_owned);
        let Some(key) =
            Self::person_key(state, field("email").as_ref(), field("personId").as_ref())
        else {
            return refused(404, "only existing persons can be licensed", None);
        };
        let user_id = state.users[&key].user_id;
        state.licences.patches += 1;
        let forced_partial = self
            .config
            .licence_206_every
            .filter(|n| *n > 0)
            .is_some_and(|n| state.licences.patches.is_multiple_of(u64::from(n)));
        let mut failures: Vec<Json> = Vec::new();
        let mut applied = 0;
        for l in body
            .get("licenses")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            match self.apply_licence(state, user_id, l) {
                Ok(()) => applied += 1,
                Err(e) => failures.push(e),
            }
        }
        for s in body
            .get("siteUrls")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            match self.apply_attendee(state, user_id, s, forced_partial) {
                Ok(()) => applied += 1,
                Err(e) => failures.push(e),
            }
        }
        self.licence_answer(state, &key, user_id, applied, failures)
    }

    /// 200 when all applied, 206 when some, 400 when none.
    fn licence_answer(
        &self,
        state: &State,
        key: &str,
        user_id: i64,
        applied: usize,
        failures: Vec<Json>,
    ) -> IdentityAnswer {
        let user = &state.users[key];
        let licences: Vec<String> = state
            .licences
            .holders
            .contains(&user_id)
            .then(|| self.site_licence_id())
            .into_iter()
            .collect();
        let sites: Vec<Json> = state
            .licences
            .attendee
            .get(&user_id)
            .into_iter()
            .flatten()
            .map(|s| json!({"siteUrl": s, "accountType": "attendee"}))
            .collect();
        let mut out = json!({
            "personId": format!("sim-person-{user_id}"),
            "email": text(&user.flat, Attribute::Email).unwrap_or(&user.web_ex_id),
            "licenses": licences,
            "siteUrls": sites,
        });
        if failures.is_empty() {
            return answer(200, out);
        }
        if applied == 0 {
            return answer(
                400,
                json!({"message": "(simulator) nothing was applied",
                                      "errors": failures, "trackingId": "SIM_TRACKING"}),
            );
        }
        out["errors"] = Json::Array(failures);
        answer(206, out)
    }

    fn apply_licence(&self, state: &mut State, user_id: i64, l: &Json) -> Result<(), Json> {
        let id = l.get("id").and_then(Json::as_str).unwrap_or_default();
        let error = |code: Option<u32>, words: &str| json!({"errorCode": code, "description": format!("(simulator) {words}: {id}")});
        if id != self.site_licence_id() {
            return Err(error(Some(400_000), "licence not recognised"));
        }
        match l.get("operation").and_then(Json::as_str).unwrap_or("add") {
            "remove" => {
                state.licences.holders.remove(&user_id);
                Ok(())
            }
            "add" if self.license(state, user_id) => Ok(()),
            // No document gives the code of an exhausted licence: none is sent.
            "add" => Err(error(None, "no unit of the licence is left")),
            _ => Err(error(None, "operation must be add or remove")),
        }
    }

    fn apply_attendee(
        &self,
        state: &mut State,
        user_id: i64,
        s: &Json,
        forced_partial: bool,
    ) -> Result<(), Json> {
        let site = s.get("siteUrl").and_then(Json::as_str).unwrap_or_default();
        let error = |words: &str| json!({"errorCode": 400_216, "description": format!("(simulator) {words}: {site}")});
        if forced_partial {
            return Err(error(
                "attendee site not applied (configured partial failure)",
            ));
        }
        let site = crate::rest::licences::site_key(site);
        let attends = s.get("accountType").and_then(Json::as_str) == Some("attendee");
        if !attends || site.is_empty() || !site.ends_with(".webex.com") {
            return Err(error("invalid attendee siteUrl"));
        }
        let sites = state.licences.attendee.entry(user_id).or_default();
        match s.get("operation").and_then(Json::as_str).unwrap_or("add") {
            "remove" => sites.remove(&site),
            _ => sites.insert(site),
        };
        Ok(())
    }

    fn user_session_types(
        &self,
        state: &State,
        (email, person_id): (Option<&String>, Option<&String>),
        listed: bool,
    ) -> IdentityAnswer {
        let key = match self.site_user_key(state, email, person_id) {
            Ok(key) => key,
            Err(refusal) => return refusal,
        };
        let user = &state.users[&key];
        let ids = match user.flat.get(&FlatKey::new(Attribute::MeetingTypes)) {
            Some(Value::IntList(ids)) => ids.clone(),
            _ => Vec::new(),
        };
        let types: Vec<Json> = ids
            .iter()
            .map(|id| {
                let known = self
                    .config
                    .profile
                    .meeting_types
                    .iter()
                    .find(|t| t.id == *id);
                json!({"id": id.to_string(),
                       "name": known.and_then(|t| t.name.clone()),
                       "type": known.and_then(|t| t.service.clone())})
            })
            .collect();
        let one = json!({
            "personId": format!("sim-person-{}", user.user_id),
            "email": text(&user.flat, Attribute::Email).unwrap_or(&user.web_ex_id),
            "siteUrl": self.site_url(),
            "sessionTypes": types,
        });
        answer(200, if listed { json!({"items": [one]}) } else { one })
    }

    fn put_session_types(&self, state: &mut State, body: &Json) -> IdentityAnswer {
        let field = |k: &str| body.get(k).and_then(Json::as_str).map(str::to_owned);
        let (email, person_id) = (field("email"), field("personId"));
        if let Some(refusal) = self.other_site(field("siteUrl").as_ref()) {
            return refusal;
        }
        let key = match self.site_user_key(state, email.as_ref(), person_id.as_ref()) {
            Ok(key) => key,
            Err(refusal) => return refusal,
        };
        let ids: Option<Vec<i64>> = body
            .get("sessionTypeIds")
            .and_then(Json::as_array)
            .map(|a| a.iter().map(session_type_id).collect::<Option<_>>())
            .unwrap_or(None);
        let Some(ids) = ids else {
            return refused(400, "sessionTypeIds must be a list of ids", None);
        };
        let known = &self.config.profile.meeting_types;
        if let Some(id) = ids
            .iter()
            .find(|id| !known.is_empty() && !known.iter().any(|t| t.id == **id))
        {
            return refused(400, &format!("session type {id} is not on this site"), None);
        }
        let mut stored = state.users.remove(&key).expect("found above");
        state.index.remove(&stored);
        stored
            .flat
            .insert(FlatKey::new(Attribute::MeetingTypes), Value::IntList(ids));
        state.index.add(&stored);
        let saved = self.store.save(&stored);
        state.users.insert(key.clone(), stored);
        if let Err(e) = saved {
            return refused(500, &e.to_string(), None);
        }
        self.user_session_types(state, (email.as_ref(), person_id.as_ref()), false)
    }
}

/// The most characters of a tracking code's value (Update User Tracking
/// Codes: "`value` cannot be empty and the maximum size is 120 characters").
const MAX_TRACKING_CODE: usize = 120;

impl Simulator {
    /// A refusal when `site_url` is given and is not this site's: the
    /// simulator's own (the reference does not say what the service answers).
    fn other_site(&self, site_url: Option<&String>) -> Option<IdentityAnswer> {
        let site = site_url?;
        let theirs = crate::rest::licences::site_key(site);
        (theirs != self.site_url()).then(|| {
            refused(
                400,
                &format!("{theirs} is not this organisation's site"),
                None,
            )
        })
    }

    /// The stored key of the person a settings request names, who must be a
    /// user of the site (hold its licence, with the licence model on).
    fn site_user_key(
        &self,
        state: &State,
        email: Option<&String>,
        person_id: Option<&String>,
    ) -> Result<String, IdentityAnswer> {
        let Some(key) = Self::person_key(state, email, person_id) else {
            return Err(refused(404, "no such user", None));
        };
        if !self.is_site_user(state, state.users[&key].user_id) {
            return Err(refused(404, "the user holds no licence of this site", None));
        }
        Ok(key)
    }

    /// The site's tracking codes: with the profile's `trackingCodes`
    /// feature on, one per slot of the catalogue (ids "1" … "10"), named
    /// "Tracking code N". Names and options are the simulator's: a profile
    /// has none.
    fn site_tracking_codes(&self, site_url: Option<&String>) -> IdentityAnswer {
        if let Some(refusal) = self.other_site(site_url) {
            return refusal;
        }
        let on = self
            .config
            .profile
            .feature(crate::schema::Feature::TrackingCodes);
        let items: Vec<Json> = (1..=10)
            .filter(|n| on && tracking_code_attribute(*n).is_some())
            .map(|n| {
                json!({"id": n.to_string(), "name": sim_tracking_code_name(n),
                       "siteUrl": self.site_url(), "inputMode": "text", "options": [],
                       "hostProfileCode": "optional", "scheduleStartCodes": []})
            })
            .collect();
        answer(200, json!({"items": items}))
    }

    fn user_tracking_codes(
        &self,
        state: &State,
        (email, person_id): (Option<&String>, Option<&String>),
        site_url: Option<&String>,
    ) -> IdentityAnswer {
        if let Some(refusal) = self.other_site(site_url) {
            return refusal;
        }
        let key = match self.site_user_key(state, email, person_id) {
            Ok(key) => key,
            Err(refusal) => return refusal,
        };
        let user = &state.users[&key];
        let codes: Vec<Json> = (1..=10)
            .filter_map(|n| {
                let a = tracking_code_attribute(n)?;
                let value = text(&user.flat, a)?;
                Some(
                    json!({"id": n.to_string(), "name": sim_tracking_code_name(n), "value": value}),
                )
            })
            .collect();
        answer(
            200,
            json!({
                "personId": format!("sim-person-{}", user.user_id),
                "email": text(&user.flat, Attribute::Email).unwrap_or(&user.web_ex_id),
                "siteUrl": self.site_url(),
                "trackingCodes": codes,
            }),
        )
    }

    /// Update User Tracking Codes: each named code set; a name the site does
    /// not define is refused with the reference example's words ("Tracking
    /// code of '1' is not found.", webex-openapi-specs webex-meeting.json).
    fn put_tracking_codes(&self, state: &mut State, body: &Json) -> IdentityAnswer {
        let field = |k: &str| body.get(k).and_then(Json::as_str).map(str::to_owned);
        let (email, person_id) = (field("email"), field("personId"));
        let Some(site_url) = field("siteUrl") else {
            return refused(400, "siteUrl is required", None);
        };
        if let Some(refusal) = self.other_site(Some(&site_url)) {
            return refusal;
        }
        let key = match self.site_user_key(state, email.as_ref(), person_id.as_ref()) {
            Ok(key) => key,
            Err(refusal) => return refusal,
        };
        let codes = match self.tracking_code_values(body) {
            Ok(codes) => codes,
            Err(refusal) => return refusal,
        };
        let mut stored = state.users.remove(&key).expect("found above");
        state.index.remove(&stored);
        for (a, value) in codes {
            stored.flat.insert(FlatKey::new(a), Value::Text(value));
        }
        state.index.add(&stored);
        let saved = self.store.save(&stored);
        state.users.insert(key.clone(), stored);
        if let Err(e) = saved {
            return refused(500, &e.to_string(), None);
        }
        self.user_tracking_codes(state, (email.as_ref(), person_id.as_ref()), None)
    }

    /// The attributes and values a PUT's `trackingCodes` set, or its refusal.
    fn tracking_code_values(
        &self,
        body: &Json,
    ) -> Result<Vec<(Attribute, String)>, IdentityAnswer> {
        let listed = body
            .get("trackingCodes")
            .and_then(Json::as_array)
            .ok_or_else(|| refused(400, "trackingCodes must be a list", None))?;
        let on = self
            .config
            .profile
            .feature(crate::schema::Feature::TrackingCodes);
        let mut out = Vec::new();
        for code in listed.iter().take(100) {
            let name = code.get("name").and_then(Json::as_str).unwrap_or_default();
            let value = code.get("value").and_then(Json::as_str).unwrap_or_default();
            let slot = (1..=10).find(|n| on && sim_tracking_code_name(*n) == name);
            let Some(a) = slot.and_then(tracking_code_attribute) else {
                let words = format!("Tracking code of '{name}' is not found.");
                return Err(answer(
                    400,
                    json!({"message": "(simulator) the request names a tracking code the site does not define",
                           "errors": [{"description": words}], "trackingId": "SIM_TRACKING"}),
                ));
            };
            if value.is_empty() || value.chars().count() > MAX_TRACKING_CODE {
                return Err(refused(
                    400,
                    &format!(
                        "{name}: a value cannot be empty and holds at most {MAX_TRACKING_CODE} characters"
                    ),
                    None,
                ));
            }
            out.push((a, value.to_owned()));
        }
        Ok(out)
    }
}

/// The simulator's name of tracking-code slot `n`.
fn sim_tracking_code_name(n: u32) -> String {
    format!("Tracking code {n}")
}

/// A session type id as the reference writes it (a string), or a number.
fn session_type_id(v: &Json) -> Option<i64> {
    match v {
        Json::String(s) => s.parse().ok(),
        Json::Number(n) => n.as_i64(),
        _ => None,
    }
}
