//! A simulated Webex Meetings site: the user service as a real site behaves,
//! for tests, demos and trying a sync before touching production.
//!
//! [`Simulator`] is the service itself (bytes in, bytes out, no I/O);
//! [`http`] serves it over HTTP with latency and reproducible faults;
//! [`store`] keeps its users in memory or in SQLite. It reads requests with
//! wbxprov's own wire layer and refuses changes with wbxprov's own validator,
//! answering the way the live service does ("Attribute X needs to be Y",
//! "Can't set field", "User limit exceeded for Session Type",
//! `exceededSiteHostLimit`).

pub mod http;
pub mod identity;
pub mod licences;
mod site_xml;
pub mod store;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use http::{FaultSpec, FaultSpecError, ServeOptions, SimHandle, serve, start};
pub use site_xml::{getsite_response, meeting_types_response};
pub use store::{Store, StoredUser};

use crate::ops::{Direction, OrderBy};
use crate::schema::{Attribute, FlatKey, FlatUser, ScalarType, Value};
use crate::secret::Secret;
use crate::site::{LicenceLimits, ProfileError, SessionTypeLimit, SiteProfile};
use crate::validate::{self, Rule, Violation};
use crate::xml::encode::{UserOperation, XmlNs, encode_failure, encode_response};
use crate::xml::request::{
    IncomingBody, IncomingRequest, IncomingSecurity, ListQuery, decode_request,
};
use crate::xml::{DecodeError, Secrets, ServiceError, ServiceFailure, codes};

/// The simulator's admin when neither the environment nor the caller says otherwise.
pub const DEFAULT_ADMIN_ID: &str = "admin";
/// Printed at start; a simulator holds no real secret.
pub const DEFAULT_ADMIN_PASSWORD: &str = "wbxprov-sim";
/// How a client signs in as the simulator's default admin
/// ([`DEFAULT_ADMIN_ID`], [`DEFAULT_ADMIN_PASSWORD`]).
pub fn default_admin() -> crate::client::AdminAuth {
    crate::client::AdminAuth::Password {
        web_ex_id: DEFAULT_ADMIN_ID.into(),
        password: crate::secret::Secret::new(DEFAULT_ADMIN_PASSWORD),
    }
}

/// The identity API's bearer token on a simulated Control-Hub-managed site
/// (`WBXPROV_SIM_IDENTITY_TOKEN` changes it).
pub const DEFAULT_IDENTITY_TOKEN: &str = "wbxprov-sim-identity";

/// The admin a simulated site accepts, from the `[simulator]` table of its
/// profile file. A test credential, not a real secret: it may sit in a profile
/// file. A real site's [`SiteProfile`] never holds it (issue 20).
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct SimulatorAdmin {
    /// The admin's webExId.
    pub admin_id: String,
    /// The admin's password.
    pub admin_password: String,
}

impl std::fmt::Debug for SimulatorAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SimulatorAdmin {{ admin_id: {:?}, admin_password: *** }}",
            self.admin_id
        )
    }
}

impl SimulatorAdmin {
    /// The `[simulator]` table of a profile TOML, if it has one. The rest of
    /// the file is the site's profile ([`SiteProfile::from_toml`]) and is not
    /// checked here.
    pub fn from_profile_toml(text: &str) -> Result<Option<Self>, toml::de::Error> {
        /// Only the table the simulator reads; other keys are the profile's.
        #[derive(serde::Deserialize)]
        struct File {
            simulator: Option<SimulatorAdmin>,
        }
        Ok(toml::from_str::<File>(text)?.simulator)
    }

    /// The `[simulator]` table of the profile file at `path`: `None` for a
    /// saved GetSite response (XML) or a profile without one.
    pub fn from_profile_file(path: &std::path::Path) -> Result<Option<Self>, ProfileError> {
        let bytes = std::fs::read(path).map_err(|source| ProfileError::Io {
            path: path.to_owned(),
            source,
        })?;
        let Ok(text) = std::str::from_utf8(&bytes) else {
            return Ok(None);
        };
        if text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('<')
        {
            return Ok(None);
        }
        Self::from_profile_toml(text).map_err(|source| ProfileError::File {
            path: path.to_owned(),
            source: Box::new(ProfileError::Syntax(source)),
        })
    }
}

/// How the simulated site is set up.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SimConfig {
    /// The site: its features, session types, password rules, licence counts and Control Hub mode.
    pub profile: SiteProfile,
    /// The admin's Webex ID the site accepts.
    pub admin_id: String,
    /// The admin's password the site accepts.
    pub admin_password: Secret,
    /// An OAuth access token the site accepts for the admin, if any.
    pub access_token: Option<Secret>,
    /// How long a session ticket lives.
    pub ticket_ttl: Duration,
    /// Requests per minute before 000045 "API Rate Limit Reached" (`None`: no limit).
    pub requests_per_minute: Option<u32>,
    /// Control Hub mode: the bearer token the identity API accepts.
    pub identity_token: Secret,
    /// Control Hub mode: every Nth identity request answers 429 (a burst of one).
    pub identity_429_every: Option<u32>,
    /// The `Retry-After` of those 429s, in seconds.
    pub identity_retry_after: u64,
    /// Control Hub mode: model the site's Meetings licence ([`licences`]): a
    /// person is a site user only while holding it, `/v1/licenses` and the
    /// userconfig session types are served. Off by default: a person created
    /// through the identity API is then a site user at once.
    pub control_hub_licences: bool,
    /// With licences: every Nth `PATCH /v1/licenses/users` applies none of
    /// its attendee sites and answers 206.
    pub licence_206_every: Option<u32>,
}

impl SimConfig {
    /// A site from `profile`; the admin from `WBXPROV_SIM_ADMIN_ID` /
    /// `WBXPROV_SIM_ADMIN_PASSWORD`, else the documented defaults.
    pub fn new(profile: SiteProfile) -> Self {
        Self::with_admin(profile, None)
    }

    /// As [`SimConfig::new`], with `admin` (a profile file's `[simulator]`,
    /// [`SimulatorAdmin::from_profile_file`]) between the environment and the
    /// defaults.
    pub fn with_admin(profile: SiteProfile, admin: Option<SimulatorAdmin>) -> Self {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
        let from_profile = admin;
        let admin_id = var("WBXPROV_SIM_ADMIN_ID")
            .or_else(|| from_profile.as_ref().map(|a| a.admin_id.clone()))
            .unwrap_or_else(|| DEFAULT_ADMIN_ID.into());
        let admin_password = var("WBXPROV_SIM_ADMIN_PASSWORD")
            .or_else(|| from_profile.map(|a| a.admin_password))
            .unwrap_or_else(|| DEFAULT_ADMIN_PASSWORD.into());
        SimConfig {
            profile,
            admin_id,
            admin_password: Secret::from(admin_password),
            access_token: var("WBXPROV_SIM_ACCESS_TOKEN").map(Secret::from),
            ticket_ttl: Duration::from_secs(90 * 60),
            requests_per_minute: None,
            identity_token: Secret::from(
                var("WBXPROV_SIM_IDENTITY_TOKEN").unwrap_or_else(|| DEFAULT_IDENTITY_TOKEN.into()),
            ),
            identity_429_every: None,
            identity_retry_after: 1,
            control_hub_licences: false,
            licence_206_every: None,
        }
    }
}

/// Who a request acts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Admin,
    /// A site user without admin rights: may authenticate, may not manage users.
    User,
}

struct Ticket {
    role: Role,
    expires: Instant,
}

struct State {
    users: BTreeMap<String, StoredUser>,
    index: Index,
    tickets: HashMap<String, Ticket>,
    next_user_id: i64,
    recent: VecDeque<Instant>,
    ticket_counter: u64,
    /// What the organisation keeps of a person beyond the site user, by userId.
    persons: HashMap<i64, identity::PersonExtra>,
    identity_requests: u64,
    licences: licences::Licences,
}

/// What uniqueness and licence checks look up, kept in step with `users` so
/// that each request costs the same whatever the site's size.
#[derive(Default)]
struct Index {
    /// Lower-case email → lower-case webExId.
    emails: HashMap<String, String>,
    personal_urls: std::collections::HashSet<String>,
    /// Active users (host licences in use).
    active: u32,
    /// Active users per session type.
    per_type: HashMap<i64, u32>,
}

impl Index {
    fn add(&mut self, user: &StoredUser) {
        self.change(user, 1);
    }

    fn remove(&mut self, user: &StoredUser) {
        self.change(user, -1);
    }

    fn change(&mut self, user: &StoredUser, by: i32) {
        let key = user.web_ex_id.to_lowercase();
        if let Some(email) = text(&user.flat, Attribute::Email) {
            if by > 0 {
                self.emails.insert(email.to_lowercase(), key);
            } else {
                self.emails.remove(&email.to_lowercase());
            }
        }
        if let Some(url) = text(&user.flat, Attribute::PersonalUrl) {
            if by > 0 {
                self.personal_urls.insert(url.to_owned());
            } else {
                self.personal_urls.remove(url);
            }
        }
        if text(&user.flat, Attribute::Active) != Some("DEACTIVATED") {
            self.active = self.active.saturating_add_signed(by);
            if let Some(Value::IntList(ids)) = user.flat.get(&FlatKey::new(Attribute::MeetingTypes))
            {
                for id in ids {
                    let n = self.per_type.entry(*id).or_default();
                    *n = n.saturating_add_signed(by);
                }
            }
        }
    }
}

/// The simulated service.
pub struct Simulator {
    config: SimConfig,
    state: Mutex<State>,
    store: Box<dyn Store>,
    /// Requests answered, per operation.
    calls: Mutex<HashMap<crate::ops::Operation, u64>>,
    /// Control Hub mode: XML requests that carried an identity-owned attribute.
    identity_via_xml: std::sync::atomic::AtomicU64,
    /// Control Hub mode: identity API requests answered, per method.
    identity_calls: Mutex<HashMap<String, u64>>,
}

/// Attributes the service keeps for a user: what GetUser shows, plus the password.
fn kept(key: &FlatKey) -> bool {
    let info = key.attribute.info();
    info.ops.get || key.attribute == Attribute::Password
}

/// A FAILURE document. [`NO_EXCEPTION_ID`] sends none.
fn failure(id: &str, reason: &str) -> String {
    let mut failure = ServiceFailure::new(id, reason);
    if id == NO_EXCEPTION_ID {
        failure.exception_id = None;
    }
    encode_failure(&ServiceError::from(failure))
}

/// The FAILURE of a row of the code table, in its words and with its subErrors
/// (`src/xml/codes.rs` says which words a real document shows).
fn known(id: &str) -> String {
    let code = codes::code(id).unwrap_or_else(|| panic!("{id} is in src/xml/codes.rs"));
    encode_failure(&ServiceError::from(ServiceFailure::from_code(code)))
}

/// The words of a row of the code table, for answers built later.
fn words(id: &'static str) -> (&'static str, String) {
    let code = codes::code(id).unwrap_or_else(|| panic!("{id} is in src/xml/codes.rs"));
    (id, code.reason.to_owned())
}

/// For a FAILURE whose documentation names a reason but no exceptionID
/// (`exceededSiteHostLimit`): sent without one rather than with an invented ID.
const NO_EXCEPTION_ID: &str = "";

/// The real service's answer to credentials it refuses: a dead or unknown
/// ticket 030047, an access token 030048 (with subError AS0001), a password 030002.
fn refused_credentials(sec: &IncomingSecurity) -> String {
    if sec.session_ticket.is_some() {
        known("030047")
    } else if sec.access_token.is_some() {
        known("030048")
    } else {
        known("030002")
    }
}

/// The answer to a request the simulator cannot carry out in full: an
/// operation it does not speak, or elements it would not apply. Answering
/// SUCCESS would claim what it did not do (issue 16 item 8). The simulator's
/// own words: no evidence says what the real service answers to an element it
/// does not know.
fn unsupported(what: &str) -> String {
    failure(
        "999999",
        &format!("The simulator does not implement {what}; nothing was done"),
    )
}

fn text(user: &FlatUser, a: Attribute) -> Option<&str> {
    match user.get(&FlatKey::new(a)) {
        Some(Value::Text(t)) => Some(t),
        _ => None,
    }
}

impl Simulator {
    /// A simulated site set up by `config`, its users loaded from `store`.
    ///
    /// # Errors
    ///
    /// Whatever the store fails with while loading.
    pub fn new(config: SimConfig, store: Box<dyn Store>) -> Result<Self, store::StoreError> {
        let users: BTreeMap<String, StoredUser> = store
            .load()?
            .into_iter()
            .map(|u| (u.web_ex_id.to_lowercase(), u))
            .collect();
        let next_user_id = users
            .values()
            .map(|u| u.user_id)
            .max()
            .unwrap_or(100_000_000)
            + 1;
        let mut index = Index::default();
        for user in users.values() {
            index.add(user);
        }
        Ok(Simulator {
            config,
            state: Mutex::new(State {
                users,
                index,
                tickets: HashMap::new(),
                next_user_id,
                recent: VecDeque::new(),
                ticket_counter: 0,
                persons: HashMap::new(),
                identity_requests: 0,
                licences: Default::default(),
            }),
            store,
            calls: Mutex::new(HashMap::new()),
            identity_via_xml: Default::default(),
            identity_calls: Mutex::new(HashMap::new()),
        })
    }

    /// How many requests of `operation` the site has answered.
    pub fn calls(&self, operation: crate::ops::Operation) -> u64 {
        self.calls
            .lock()
            .expect("sim calls")
            .get(&operation)
            .copied()
            .unwrap_or(0)
    }

    /// Writing requests answered: CreateUser, SetUser, DelUser.
    pub fn writes(&self) -> u64 {
        use crate::ops::Operation::*;
        [CreateUser, SetUser, DelUser]
            .into_iter()
            .map(|op| self.calls(op))
            .sum()
    }

    /// How the site is set up.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Control Hub mode: XML requests that carried an attribute the Webex
    /// identity owns (none should: wbxprov routes them to the identity API).
    pub fn identity_via_xml(&self) -> u64 {
        self.identity_via_xml
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Control Hub mode: identity API requests answered with `method` (`POST` …).
    pub fn identity_calls(&self, method: &str) -> u64 {
        self.identity_calls
            .lock()
            .expect("sim identity calls")
            .get(method)
            .copied()
            .unwrap_or(0)
    }

    /// Number of users the site holds.
    pub fn user_count(&self) -> usize {
        self.state.lock().expect("sim state").users.len()
    }

    /// Answers one request document: an HTTP status and a response document.
    pub fn handle(&self, body: &[u8]) -> (u16, String) {
        let (_, status, answer) = self.handle_named(body);
        (status, answer)
    }

    /// [`Simulator::handle`], also naming the operation the request was read
    /// as (`None` when it could not be read as one), e.g. for a request log.
    pub fn handle_named(&self, body: &[u8]) -> (Option<crate::ops::Operation>, u16, String) {
        let request = match decode_request(body) {
            Ok(r) if r.not_read.is_empty() => r,
            Ok(r) => {
                let answer = unsupported(&format!("elements {}", r.not_read.join(", ")));
                return (Some(r.operation), 200, answer);
            }
            Err(DecodeError::UnknownOperation(op)) => {
                return (None, 200, unsupported(&format!("operation {op}")));
            }
            Err(e) => {
                // A request the service cannot read gets a FAILURE document, not an HTTP
                // error (cisco-ie/webex-api-client#1: HTTP 200, FAILURE 000000 "Fail to
                // forward request:null", fixtures/real/responses/failure_000000_*). The
                // code and words here are the simulator's own: no document shows them.
                let answer = failure("999999", &format!("Invalid XML request: {e}"));
                return (None, 200, answer);
            }
        };
        let operation = request.operation;
        *self
            .calls
            .lock()
            .expect("sim calls")
            .entry(operation)
            .or_default() += 1;
        let mut state = self.state.lock().expect("sim state");
        (Some(operation), 200, self.answer(&mut state, request))
    }

    fn answer(&self, state: &mut State, request: IncomingRequest) -> String {
        let now = Instant::now();
        if let Some(budget) = self.config.requests_per_minute {
            while state
                .recent
                .front()
                .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60))
            {
                state.recent.pop_front();
            }
            if state.recent.len() >= budget as usize {
                return known("000045");
            }
            state.recent.push_back(now);
        }
        if let IncomingBody::AuthenticateUser { access_token } = &request.body {
            return self.authenticate(state, &request.security, access_token.as_ref(), now);
        }
        let role = match self.caller(state, &request.security, now) {
            Some(r) => r,
            None => return refused_credentials(&request.security),
        };
        let admin_only = !matches!(
            request.body,
            IncomingBody::GetSite | IncomingBody::LstMeetingType
        );
        if admin_only && role != Role::Admin {
            return known("000001");
        }
        let result = match request.body {
            IncomingBody::CreateUser(user) => self.create(state, user),
            IncomingBody::SetUser(change) => self.set(state, change),
            IncomingBody::GetUser { web_ex_id } => self.get(state, &web_ex_id),
            IncomingBody::DelUser { web_ex_ids } => self.deactivate(state, &web_ex_ids),
            IncomingBody::LstsummaryUser(q) => self.list(state, &q),
            IncomingBody::GetSite => {
                getsite_response(&self.config.profile).map_err(|e| e.to_string())
            }
            IncomingBody::LstMeetingType => {
                meeting_types_response(&self.config.profile).map_err(|e| e.to_string())
            }
            IncomingBody::AuthenticateUser { .. } => unreachable!("answered above"),
        };
        result.unwrap_or_else(|e| failure("999999", &e))
    }

    // -- authentication -------------------------------------------------------

    /// The role of a request's credentials: a live ticket, or a password or token sent along.
    fn caller(&self, state: &mut State, sec: &IncomingSecurity, now: Instant) -> Option<Role> {
        if let Some(ticket) = &sec.session_ticket {
            state.tickets.retain(|_, t| t.expires > now);
            return state.tickets.get(ticket.expose()).map(|t| t.role);
        }
        if let Some(token) = &sec.access_token {
            return self
                .config
                .access_token
                .as_ref()
                .is_some_and(|t| t == token)
                .then_some(Role::Admin);
        }
        let id = sec.web_ex_id.as_deref()?;
        let password = sec.password.as_ref()?;
        if id == self.config.admin_id && password == &self.config.admin_password {
            return Some(Role::Admin);
        }
        let user = state.users.get(&id.to_lowercase())?;
        let matches = matches!(
            user.flat.get(&FlatKey::new(Attribute::Password)),
            Some(Value::Secret(s)) if s == password
        );
        let active = text(&user.flat, Attribute::Active) != Some("DEACTIVATED");
        if !matches || !active {
            return None;
        }
        let admin =
            user.flat.get(&FlatKey::new(Attribute::PrivilegeSiteAdmin)) == Some(&Value::Bool(true));
        Some(if admin { Role::Admin } else { Role::User })
    }

    fn authenticate(
        &self,
        state: &mut State,
        sec: &IncomingSecurity,
        body_token: Option<&Secret>,
        now: Instant,
    ) -> String {
        let role = match body_token.or(sec.access_token.as_ref()) {
            Some(token) => self
                .config
                .access_token
                .as_ref()
                .is_some_and(|t| t == token)
                .then_some(Role::Admin),
            None => self.caller(
                state,
                &IncomingSecurity {
                    session_ticket: None,
                    ..sec.clone()
                },
                now,
            ),
        };
        let Some(role) = role else {
            return refused_credentials(&IncomingSecurity {
                access_token: body_token.or(sec.access_token.as_ref()).cloned(),
                session_ticket: None,
                ..sec.clone()
            });
        };
        state.ticket_counter += 1;
        let ticket = format!(
            "SIM{:016x}{:08x}",
            crate::client::random_u64(),
            state.ticket_counter
        );
        state.tickets.insert(
            ticket.clone(),
            Ticket {
                role,
                expires: now + self.config.ticket_ttl,
            },
        );
        let create_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        encode_response(
            (XmlNs::User, "authenticateUserResponse"),
            Secrets::Reveal,
            |b| {
                b.text(XmlNs::User, "sessionTicket", &ticket);
                b.text(XmlNs::User, "createTime", &create_ms.to_string());
                b.text(
                    XmlNs::User,
                    "timeToLive",
                    &self.config.ticket_ttl.as_secs().to_string(),
                );
                Ok(())
            },
        )
        .unwrap_or_else(|e| failure("999999", &e.to_string()))
    }

    // -- users -----------------------------------------------------------------

    /// The profile with the licence counts the site holds now.
    fn counted_profile(&self, state: &State) -> SiteProfile {
        let mut profile = self.config.profile.clone();
        if let Some(limits) = &mut profile.limits {
            // With licences, a host is a holder of the site's licence, whose
            // units are checked where it is assigned (sim::licences): being a
            // person of the organisation takes none.
            limits.current_site_hosts = (!self.licences_on()).then_some(state.index.active);
            for l in &mut limits.session_types {
                l.current_hosts = Some(state.index.per_type.get(&l.id).copied().unwrap_or(0));
            }
        }
        profile
    }

    fn create(&self, state: &mut State, user: FlatUser) -> Result<String, String> {
        if self.config.profile.control_hub_managed {
            self.count_identity_via_xml(&user, true);
        }
        if self.licences_on() {
            return self.create_licensed(state, user);
        }
        let user_id = match self.add_user(state, user)? {
            Ok(id) => id,
            Err((code, reason)) => return Ok(failure(code, &reason)),
        };
        encode_response((XmlNs::User, "createUserResponse"), Secrets::Mask, |b| {
            b.text(XmlNs::User, "userId", &user_id.to_string());
            Ok(())
        })
        .map_err(|e| e.to_string())
    }

    /// A new site user (CreateUser, or a person created in the organisation):
    /// its userId, or the FAILURE document that refuses it.
    fn add_user(
        &self,
        state: &mut State,
        user: FlatUser,
    ) -> Result<Result<i64, (&'static str, String)>, String> {
        let Some(id) = text(&user, Attribute::WebExId).map(str::to_owned) else {
            return Ok(Err(("999999", "webExId is required".into())));
        };
        let profile = self.counted_profile(state);
        if let Some(refused) = refusal_reason(validate::validate(
            &user,
            validate::Operation::Create,
            &profile,
        )) {
            return Ok(Err(refused));
        }
        if state.users.contains_key(&id.to_lowercase()) {
            return Ok(Err(words("030004")));
        }
        if let Some(email) = text(&user, Attribute::Email)
            && email_taken(state, email, None)
        {
            return Ok(Err(words("030005")));
        }
        let user_id = state.next_user_id;
        state.next_user_id += 1;
        let mut flat: FlatUser = user.into_iter().filter(|(k, _)| kept(k)).collect();
        let url = personal_url(state, &id);
        flat.insert(FlatKey::new(Attribute::PersonalUrl), Value::Text(url));
        flat.insert(FlatKey::new(Attribute::UserId), Value::Int(user_id));
        flat.insert(
            FlatKey::new(Attribute::RegistrationDate),
            Value::Text(now_date()),
        );
        if text(&flat, Attribute::Active).is_none() {
            flat.insert(
                FlatKey::new(Attribute::Active),
                Value::Text("ACTIVATED".into()),
            );
        }
        let stored = StoredUser {
            web_ex_id: id.clone(),
            user_id,
            flat,
        };
        self.store.save(&stored).map_err(|e| e.to_string())?;
        state.index.add(&stored);
        state.users.insert(id.to_lowercase(), stored);
        Ok(Ok(user_id))
    }

    /// On a Control-Hub-managed site, counts XML requests that carry an
    /// attribute the Webex identity owns (the key of a SetUser aside).
    fn count_identity_via_xml(&self, user: &FlatUser, create: bool) {
        let carries = create
            || user
                .iter()
                .any(|(k, _)| k.attribute != Attribute::WebExId && k.attribute.info().identity);
        if carries {
            self.identity_via_xml
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn set(&self, state: &mut State, change: FlatUser) -> Result<String, String> {
        if self.config.profile.control_hub_managed {
            self.count_identity_via_xml(&change, false);
        }
        let Some(id) = text(&change, Attribute::WebExId).map(str::to_owned) else {
            return Ok(failure("999999", "webExId is required"));
        };
        let key = id.to_lowercase();
        if !state
            .users
            .get(&key)
            .is_some_and(|u| self.is_site_user(state, u.user_id))
        {
            return Ok(known("030001"));
        }
        let mut profile = self.counted_profile(state);
        // A change to an active user takes no new host licence.
        let already_active =
            text(&state.users[&key].flat, Attribute::Active) != Some("DEACTIVATED");
        if already_active && let Some(l) = &mut profile.limits {
            l.current_site_hosts = None;
        }
        // Judged as the user it makes (issue 16 item 7): the cross-field rules see
        // the stored user with the change applied; each cites its evidence in
        // validate::cross.
        if let Some(answer) = refusal(validate::validate_update(
            &change,
            &state.users[&key].flat,
            &profile,
        )) {
            return Ok(answer);
        }
        let new_id = text(&change, Attribute::NewWebExId).map(str::to_owned);
        if let Some(new) = &new_id
            && new.to_lowercase() != key
            && state.users.contains_key(&new.to_lowercase())
        {
            return Ok(known("030004"));
        }
        if let Some(email) = text(&change, Attribute::Email)
            && email_taken(state, email, Some(&key))
        {
            return Ok(known("030005"));
        }
        let mut stored = state.users.remove(&key).expect("checked above");
        state.index.remove(&stored);
        for (k, v) in change.into_iter().filter(|(k, _)| kept(k)) {
            if k.attribute != Attribute::WebExId {
                stored.flat.insert(k, v);
            }
        }
        if let Some(new) = new_id {
            self.store
                .delete(&stored.web_ex_id)
                .map_err(|e| e.to_string())?;
            stored.web_ex_id = new.clone();
            stored
                .flat
                .insert(FlatKey::new(Attribute::WebExId), Value::Text(new));
        }
        state.index.add(&stored);
        let saved = self.store.save(&stored).map_err(|e| e.to_string());
        state.users.insert(stored.web_ex_id.to_lowercase(), stored);
        saved?;
        encode_response((XmlNs::User, "setUserResponse"), Secrets::Mask, |_| Ok(()))
            .map_err(|e| e.to_string())
    }

    fn get(&self, state: &State, id: &str) -> Result<String, String> {
        let Some(user) = state
            .users
            .get(&id.to_lowercase())
            .filter(|u| self.is_site_user(state, u.user_id))
        else {
            return Ok(known("030001"));
        };
        let shown: FlatUser = user
            .flat
            .iter()
            .filter(|(k, _)| k.attribute.info().ops.get)
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        encode_response((XmlNs::User, "getUserResponse"), Secrets::Reveal, |b| {
            b.user(&shown, UserOperation::Get)
        })
        .map_err(|e| e.to_string())
    }

    fn deactivate(&self, state: &mut State, ids: &[String]) -> Result<String, String> {
        if ids.is_empty() || ids.len() > crate::ops::DEL_USER_MAX {
            return Ok(failure("999999", "DelUser takes 1 to 50 users"));
        }
        let mut statuses = Vec::new();
        for id in ids {
            let user_id = state.users.get(&id.to_lowercase()).map(|u| u.user_id);
            if let Some(user_id) = user_id.filter(|_| self.licences_on()) {
                // On a CH site DelUser also removes the site's licence (the
                // DelUser reference; ../shared/spec/control-hub.md); a person
                // without it is no site user to deactivate.
                if !state.licences.holders.remove(&user_id) {
                    statuses.push((id.clone(), false));
                    continue;
                }
            }
            let ok = match state.users.get_mut(&id.to_lowercase()) {
                Some(user) => {
                    state.index.remove(user);
                    user.flat.insert(
                        FlatKey::new(Attribute::Active),
                        Value::Text("DEACTIVATED".into()),
                    );
                    state.index.add(user);
                    self.store.save(user).map_err(|e| e.to_string())?;
                    true
                }
                None => false,
            };
            statuses.push((id.clone(), ok));
        }
        encode_response((XmlNs::User, "delUserResponse"), Secrets::Mask, |b| {
            for (id, ok) in &statuses {
                b.open(XmlNs::User, "user");
                b.text(XmlNs::User, "webExId", id);
                b.text(
                    XmlNs::User,
                    "status",
                    if *ok { "SUCCESS" } else { "FAILURE" },
                );
                b.close();
            }
            Ok(())
        })
        .map_err(|e| e.to_string())
    }

    fn list(&self, state: &State, q: &ListQuery) -> Result<String, String> {
        let mut users: Vec<&StoredUser> = state
            .users
            .values()
            .filter(|u| {
                q.web_ex_id
                    .as_ref()
                    .is_none_or(|id| u.web_ex_id.eq_ignore_ascii_case(id))
                    && q.email.as_ref().is_none_or(|e| {
                        text(&u.flat, Attribute::Email).is_some_and(|x| x.eq_ignore_ascii_case(e))
                    })
                    && q.active
                        .as_ref()
                        .is_none_or(|a| text(&u.flat, Attribute::Active) == Some(a.as_str()))
                    && registered_within(u, q)
                    && self.is_site_user(state, u.user_id)
            })
            .collect();
        let order = if q.order.is_empty() {
            vec![(OrderBy::WebExId, Direction::Asc)]
        } else {
            q.order.clone()
        };
        users.sort_by(|a, b| {
            order
                .iter()
                .map(|(by, dir)| {
                    let o = sort_value(a, *by).cmp(&sort_value(b, *by));
                    if *dir == Direction::Desc {
                        o.reverse()
                    } else {
                        o
                    }
                })
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let total = users.len();
        let start = q.start_from.unwrap_or(1).max(1) as usize;
        let max = q.maximum_num.unwrap_or(500).clamp(1, 500) as usize;
        let page: Vec<&StoredUser> = users.into_iter().skip(start - 1).take(max).collect();
        if page.is_empty() {
            return Ok(known("000015"));
        }
        let u = XmlNs::User;
        encode_response((u, "lstsummaryUserResponse"), Secrets::Mask, |b| {
            for user in &page {
                b.open(u, "user");
                b.text(u, "webExId", &user.web_ex_id);
                for (a, name) in [
                    (Attribute::FirstName, "firstName"),
                    (Attribute::LastName, "lastName"),
                    (Attribute::Email, "email"),
                    (Attribute::RegistrationDate, "registrationDate"),
                    (Attribute::Active, "active"),
                ] {
                    b.text(u, name, text(&user.flat, a).unwrap_or(""));
                }
                if let Some(Value::Int(tz)) = user.flat.get(&FlatKey::new(Attribute::TimeZoneID)) {
                    b.text(u, "timeZoneID", &tz.to_string());
                }
                b.close();
            }
            b.open(u, "matchingRecords");
            b.text(XmlNs::Service, "total", &total.to_string());
            b.text(XmlNs::Service, "returned", &page.len().to_string());
            b.text(XmlNs::Service, "startFrom", &start.to_string());
            b.close();
            Ok(())
        })
        .map_err(|e| e.to_string())
    }
}

fn sort_value(u: &StoredUser, by: OrderBy) -> String {
    match by {
        OrderBy::Uid => format!("{:020}", u.user_id),
        OrderBy::WebExId => u.web_ex_id.to_lowercase(),
        OrderBy::FirstName => text(&u.flat, Attribute::FirstName)
            .unwrap_or("")
            .to_lowercase(),
        OrderBy::LastName => text(&u.flat, Attribute::LastName)
            .unwrap_or("")
            .to_lowercase(),
        OrderBy::Email => text(&u.flat, Attribute::Email).unwrap_or("").to_lowercase(),
        OrderBy::Active => text(&u.flat, Attribute::Active).unwrap_or("").to_owned(),
        OrderBy::RegDate => sortable_date(text(&u.flat, Attribute::RegistrationDate).unwrap_or("")),
    }
}

/// `MM/DD/YYYY HH:MM:SS` as `YYYYMMDDHH:MM:SS`, which sorts as the dates do.
fn sortable_date(d: &str) -> String {
    if d.len() == 19 {
        format!("{}{}{}{}", &d[6..10], &d[0..2], &d[3..5], &d[11..])
    } else {
        d.to_owned()
    }
}

/// Whether the user registered within the query's `dataScope` (bounds included):
/// Cisco's own LstsummaryUser sample filters by it (fixtures/real/requests/
/// LstsummaryUser_cisco_docs.xml); that the bounds are inclusive is our reading.
fn registered_within(u: &StoredUser, q: &ListQuery) -> bool {
    let registered = sortable_date(text(&u.flat, Attribute::RegistrationDate).unwrap_or(""));
    q.reg_date_start
        .as_deref()
        .is_none_or(|start| registered >= sortable_date(start))
        && q.reg_date_end
            .as_deref()
            .is_none_or(|end| registered <= sortable_date(end))
}

fn email_taken(state: &State, email: &str, except: Option<&str>) -> bool {
    state
        .index
        .emails
        .get(&email.to_lowercase())
        .is_some_and(|owner| Some(owner.as_str()) != except)
}

/// A personal room URL from the webExId, unique on the site (the service generates it).
fn personal_url(state: &State, web_ex_id: &str) -> String {
    let base: String = web_ex_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .take(60)
        .collect();
    let base = if base.is_empty() {
        "user".to_owned()
    } else {
        base.to_lowercase()
    };
    let taken = |url: &str| state.index.personal_urls.contains(url);
    if !taken(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}{n}"))
        .find(|u| !taken(u))
        .expect("some suffix is free")
}

/// The live service reports one problem at a time, in its own words.
fn refusal(violations: Vec<Violation>) -> Option<String> {
    refusal_reason(violations).map(|(code, reason)| failure(code, &reason))
}

/// The exception ID and reason of [`refusal`].
fn refusal_reason(violations: Vec<Violation>) -> Option<(&'static str, String)> {
    let v = violations.into_iter().next()?;
    let info = v.attribute.attribute.info();
    let element = info.segments.last().map_or(info.name, |s| s.name);
    Some(match v.rule {
        Rule::Feature => match info.value_type.scalar() {
            ScalarType::Bool => ("999999", format!("Attribute {element} needs to be false")),
            ScalarType::Int { .. } => ("999999", format!("Attribute {element} needs to be 0")),
            _ => ("999999", format!("Can't set field {element}")),
        },
        Rule::LicenceLimit if v.attribute.attribute == Attribute::MeetingTypes => words("110055"),
        // Cisco's user-service elements page names this reason and no ID
        // (src/xml/codes.rs REASONS); 030048 is an authentication failure.
        Rule::LicenceLimit => (NO_EXCEPTION_ID, "exceededSiteHostLimit".to_owned()),
        _ => (
            "999999",
            format!("Invalid value for {element}: {}", v.message),
        ),
    })
}

/// `MM/DD/YYYY HH:MM:SS` in UTC.
fn now_date() -> String {
    crate::civil::Utc::now().webex()
}

/// A profile with every feature on, the usual session types and generous
/// licences: what `wbxprov demo` and `sim serve` use without `--site`.
pub fn default_profile() -> SiteProfile {
    let mut profile = SiteProfile::new();
    profile.site_name = Some("sim".into());
    for f in crate::schema::FEATURES.iter() {
        profile.set_feature(f.feature, true);
    }
    profile.meeting_types = vec![
        crate::site::SessionType {
            id: 214,
            name: Some("PRO".into()),
            service: Some("MeetingCenter".into()),
        },
        crate::site::SessionType {
            id: 216,
            name: Some("ONS".into()),
            service: Some("EventCenter".into()),
        },
    ];
    profile.limits = Some(LicenceLimits {
        site_hosts: Some(10_000),
        current_site_hosts: None,
        session_types: vec![SessionTypeLimit {
            id: 214,
            hosts: 10_000,
            current_hosts: None,
        }],
    });
    profile
}
