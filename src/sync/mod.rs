//! The provisioning engine: keep a site's users in line with a source of truth.
//!
//! A [`Sync`] is built with the client, the site profile, the [`Mapping`], the
//! [`Journal`] and [`SyncOptions`] (and, in Control Hub mode, the identity
//! client). [`Sync::plan`] reads the source and the site and decides, per
//! person: create, link, update (only the changed attributes), rename,
//! deactivate, reactivate, unchanged, conflict, or invalid (with row,
//! attribute, reason). [`Plan::apply`] carries a plan out concurrently,
//! recording each operation in the journal, and returns a [`Report`].
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use wbxprov::sync::{Sync, Mapping, Journal, SyncOptions};
//! # async fn example(client: Arc<wbxprov::client::Client>, profile: wbxprov::site::SiteProfile)
//! # -> Result<(), wbxprov::Error> {
//! let mut options = SyncOptions::default();
//! options.deprovision = true;
//! let sync = Sync::builder(client, profile)
//!     .mapping(Mapping::from_toml("key = \"employee_id\"")?)
//!     .journal(Arc::new(Journal::open("journal.sqlite".as_ref())?))
//!     .options(options)
//!     .build();
//! let plan = sync.plan(wbxprov::sync::source::open("people.csv".as_ref())?).await?;
//! let report = plan.apply(&sync, |_event| {}).await?;
//! # Ok(()) }
//! ```
//!
//! Inside: a snapshot of the site (`snapshot.rs`: the listing, indexed by
//! webExId, email and the journal's source keys) finds each person; the
//! differ (`differ.rs`) says what changed; each service that holds part of a
//! person is a `Half` (`half.rs`: the Meetings site over the XML API; in
//! Control Hub mode also the Webex identity, `control_hub.rs`), which reads
//! its state of the people, plans its part of each person's step and writes
//! it. The CLI (`wbxprov sync`) is a thin layer over these.

mod apply;
mod breaker;
mod control_hub;
mod differ;
mod fields;
mod half;
pub mod journal;
mod licences;
pub mod mapping;
mod planner;
mod report;
mod settings;
mod site_licence;
mod snapshot;
pub mod source;

use std::sync::Arc;

use serde::Serialize;

pub use breaker::DEFAULT_LIMIT as DEFAULT_MAX_CONSECUTIVE_FAILURES;
pub use journal::{Journal, KnownPerson};
pub use licences::{Licence, Shortfall};
pub use mapping::{FieldUse, Mapping, MappingFileError, MatchKey};
pub use report::{HalfOperation, HalfReport, Report, ReportError, Summary, UserReport, preview};
pub use site_licence::{LicenceAction, LicenceOnDeprovision, LicenceStep};
pub use source::{Record, RecordError, Records, SourceError};

use crate::client::{Client, Error as ClientError};
use crate::identity::{IdentityClient, IdentityError};
use crate::rest::RestError;
use crate::rest::licences::LicenceClient;
use crate::schema::{Attribute, FlatKey, FlatUser, Value};
use crate::site::SiteProfile;

/// How a sync behaves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SyncOptions {
    /// Deactivate active site users absent from the source.
    pub deprovision: bool,
    /// Above this share of the site's active users, deprovisioning stops the run before any write.
    pub max_deprovision_share: f64,
    /// Send passwords on update too (they cannot be read back, so they never count as a change).
    pub push_passwords: bool,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Site users never deactivated (the admin running the sync).
    pub protected: Vec<String>,
    /// Run with a source that holds no user (with `deprovision`, that plans
    /// to deactivate everyone): refused unless set.
    pub allow_empty: bool,
    /// Stop the run (resumable) after this many calls in a row got no answer
    /// from the site; 0: never stop.
    pub max_consecutive_failures: usize,
    /// Read every user (GetUser), to catch changes made on the site behind
    /// the sync's back. Otherwise (incremental) a person whose source row is
    /// unchanged since its last successful apply, and whose listing entry
    /// still agrees, is not read again.
    pub full: bool,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            deprovision: false,
            max_deprovision_share: 0.10,
            push_passwords: false,
            concurrency: 8,
            protected: Vec::new(),
            allow_empty: false,
            max_consecutive_failures: DEFAULT_MAX_CONSECUTIVE_FAILURES,
            full: false,
        }
    }
}

/// A sync task: what to sync with what. Build it with [`Sync::builder`].
pub struct Sync {
    client: Arc<Client>,
    /// Given to the builder, or read from the site's GetSite the first time
    /// a person must be validated ([`Sync::builder_reading_site`]).
    profiles: std::sync::OnceLock<Profiles>,
    mapping: Mapping,
    journal: Option<Arc<Journal>>,
    options: SyncOptions,
    identity: Option<Arc<IdentityClient>>,
    /// Control Hub mode's licence half: the licences API and the site whose
    /// Meetings licence makes a person a host there.
    licences: Option<SiteLicences>,
    /// Control Hub mode's REST owners of Meetings settings (session types,
    /// tracking codes); without it SetUser takes them.
    settings: Option<Arc<settings::SettingsApi>>,
}

/// The site profile and what each person is validated with while planning.
struct Profiles {
    site: SiteProfile,
    /// The profile without the licence counts in use, which the plan is
    /// checked against as a whole (licences.rs). Control Hub mode keeps the
    /// counts per person.
    person: SiteProfile,
}

impl Profiles {
    fn new(site: SiteProfile) -> Profiles {
        let person = if site.control_hub.is_none() {
            licences::per_person(&site)
        } else {
            site.clone()
        };
        Profiles { site, person }
    }
}

/// The licences API client and the site (`example.webex.com`) it licenses people on.
#[derive(Clone)]
pub(crate) struct SiteLicences {
    pub client: Arc<LicenceClient>,
    pub site_url: String,
}

/// Builds a [`Sync`]; everything but the client and the profile has a default
/// (fields mapped by name, no journal, default options, no identity client).
pub struct SyncBuilder {
    sync: Sync,
}

impl Sync {
    /// A sync of `client`'s site validated against `profile`; see [`SyncBuilder`] for the rest.
    pub fn builder(client: Arc<Client>, profile: SiteProfile) -> SyncBuilder {
        let builder = Sync::builder_reading_site(client);
        let _ = builder.sync.profiles.set(Profiles::new(profile));
        builder
    }

    /// A sync that validates against the site's own settings, read with
    /// GetSite only when a person must be validated: an unchanged
    /// incremental rerun does not read them (nor can it be in Control Hub
    /// mode, which needs a profile with `[controlHub]`). The client then
    /// validates its writes against the same profile.
    pub fn builder_reading_site(client: Arc<Client>) -> SyncBuilder {
        SyncBuilder {
            sync: Sync {
                client,
                profiles: std::sync::OnceLock::new(),
                mapping: Mapping::default(),
                journal: None,
                options: SyncOptions::default(),
                identity: None,
                licences: None,
                settings: None,
            },
        }
    }

    /// Decides what to do for every source record and site user. Writes
    /// nothing (the journal included).
    ///
    /// # Errors
    ///
    /// A [`SyncError`] when the run cannot be planned: the site, the organisation or
    /// the journal cannot be read, the source is empty or lacks fields the mapping reads,
    /// or a safety check stops it ([`SyncError::TooManyDeactivations`],
    /// [`SyncError::TooFewLicences`], [`SyncError::UnmatchedRows`]). A row that does not
    /// map is no error: its step is [`Action::Invalid`] and the problems say why.
    pub async fn plan(&self, records: Records) -> Result<Plan, SyncError> {
        planner::plan(self, records).await
    }

    /// The site client the sync calls through.
    pub fn client(&self) -> &Arc<Client> {
        &self.client
    }

    /// The site profile, once given or read.
    fn loaded_profile(&self) -> Option<&SiteProfile> {
        self.profiles.get().map(|p| &p.site)
    }

    /// The site profile; the planner reads it ([`Sync::read_profile`])
    /// before any person is validated.
    fn profile(&self) -> &SiteProfile {
        &self
            .profiles
            .get()
            .expect("the profile is read before use")
            .site
    }

    /// What each person is validated with while planning.
    fn person_profile(&self) -> &SiteProfile {
        &self
            .profiles
            .get()
            .expect("the profile is read before use")
            .person
    }

    /// Reads the site's settings (GetSite), unless a profile is known.
    async fn read_profile(&self) -> Result<(), SyncError> {
        if self.profiles.get().is_some() {
            return Ok(());
        }
        let site = self.client.get_site().await.map_err(SyncError::Site)?;
        let profile = SiteProfile::from_site(&site);
        self.client.validate_with_once(profile.clone());
        let _ = self.profiles.set(Profiles::new(profile));
        Ok(())
    }

    /// The run's options.
    pub fn options(&self) -> &SyncOptions {
        &self.options
    }
}

impl SyncBuilder {
    /// How source records become users (default: fields map by name).
    pub fn mapping(mut self, mapping: Mapping) -> Self {
        self.sync.mapping = mapping;
        self
    }

    /// The journal that makes runs resumable and incremental.
    pub fn journal(mut self, journal: impl Into<Option<Arc<Journal>>>) -> Self {
        self.sync.journal = journal.into();
        self
    }

    /// The run's options (concurrency, deprovisioning, safety limits).
    pub fn options(mut self, options: SyncOptions) -> Self {
        self.sync.options = options;
        self
    }

    /// Control Hub mode (a profile with `[controlHub]`): the organisation's
    /// identity client, which people go through.
    pub fn identity(mut self, identity: impl Into<Option<Arc<IdentityClient>>>) -> Self {
        self.sync.identity = identity.into();
        self
    }

    /// Control Hub mode's licence half (with [`SyncBuilder::identity`]):
    /// per person, after the identity and before the Meetings settings, the
    /// Meetings licence of `site_url` (`example.webex.com`, matched by
    /// `siteUrl`, never by name) is assigned to people who should host,
    /// removed or kept on deprovision (the mapping's `licenceOnDeprovision`),
    /// and attendees are made where the mapping's `attendee` says so. Without
    /// it, people are created and given their settings only (a site whose
    /// people are site users without a licence, as the simulator without
    /// its licence model).
    pub fn licences(mut self, client: Arc<LicenceClient>, site_url: impl Into<String>) -> Self {
        self.sync.licences = Some(SiteLicences {
            client,
            site_url: site_url.into(),
        });
        self
    }

    /// Control Hub mode's Meetings settings routed by the catalogue's
    /// `controlHub` column: meetingTypes through `PUT
    /// /v1/admin/meeting/userconfig/sessionTypes`, tracking codes through
    /// `PUT /v1/admin/meeting/userconfig/trackingCodes` (by the names the site
    /// `site_url` defines), the rest through SetUser. Without it SetUser
    /// takes them all.
    pub fn meeting_settings(
        mut self,
        client: Arc<crate::rest::meeting::MeetingConfigClient>,
        site_url: impl Into<String>,
    ) -> Self {
        self.sync.settings = Some(Arc::new(settings::SettingsApi::new(client, site_url)));
        self
    }

    /// The sync.
    pub fn build(self) -> Sync {
        self.sync
    }
}

/// What the plan does to one user.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, strum::AsRefStr, PartialOrd, Ord, Default,
)]
#[serde(rename_all = "camelCase")]
#[strum(serialize_all = "camelCase")]
#[non_exhaustive]
pub enum Action {
    /// A new site user (CreateUser; in Control Hub mode, a new person first).
    Create,
    /// The user already exists and the sync takes charge of it.
    Link,
    /// Attributes that differ from the source are set (SetUser; in Control Hub mode, the person's
    /// half too).
    Update,
    /// A new webExId (SetUser `newWebExId`), with the other changes.
    Rename,
    /// The user left the source and deprovisioning is on: it is deactivated (DelUser; in Control
    /// Hub mode, the person).
    Deactivate,
    /// The user is back in the source: it is activated again.
    Reactivate,
    /// Nothing to send.
    #[default]
    Unchanged,
    /// The person's webExId or email is another site user's, or the site
    /// user found for them is someone else's: nothing is sent (the site
    /// would refuse it, 030004/030005); the problem names the holder.
    Conflict,
    /// The row broke the mapping or the site's rules: nothing is sent; the problems say why.
    Invalid,
    /// The site (or the identity) could not tell what the user is now: a
    /// failure of this user alone; the next run tries again.
    Unreadable,
}

impl Action {
    fn writes(self, change: &FlatUser) -> bool {
        match self {
            Action::Create
            | Action::Update
            | Action::Rename
            | Action::Deactivate
            | Action::Reactivate => true,
            Action::Link => !change.is_empty(),
            Action::Unchanged | Action::Conflict | Action::Invalid | Action::Unreadable => false,
        }
    }
}

/// One problem of an invalid row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The attribute at fault, when one is.
    pub attribute: Option<String>,
    /// What is wrong, for people.
    pub reason: String,
}

/// One user's part of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The site user as it is now (a rename's old webExId), or, for a new
    /// or invalid row, what the row would have been.
    pub web_ex_id: String,
    /// The person's key in the journal: the source key, or the match key value.
    pub key: String,
    /// The source row, when the user comes from the source.
    pub row: Option<usize>,
    /// What the plan does.
    pub action: Action,
    /// What is sent: every attribute for create, the changed ones otherwise
    /// (`newWebExId` for a rename). In Control Hub mode, the Meetings half
    /// (SetUser, after the person).
    pub change: FlatUser,
    /// The site's values of the changed attributes (the "old" of old → new).
    pub before: FlatUser,
    /// Why the row is invalid or in conflict (empty otherwise).
    pub problems: Vec<Problem>,
    /// Control Hub mode: the person's half, carried out first.
    pub identity: Option<IdentityStep>,
    /// Control Hub mode with licences: the site licence's half, carried out
    /// after the person and before the Meetings settings.
    pub licence: Option<LicenceStep>,
    /// The site users (lower-cased webExIds) this step holds: its person's
    /// account, and for a conflict the holder it names (who may be the same
    /// person: the admin decides). No deprovisioning deactivates them.
    pub claims: Vec<String>,
    /// What the journal remembers of the person once the step succeeded.
    pub remember: Option<KnownPerson>,
    /// Control Hub mode: the Meetings settings go to their REST owners by
    /// the catalogue ([`SyncBuilder::meeting_settings`]), not all to SetUser.
    pub settings_routed: bool,
}

impl Step {
    /// Whether carrying the step out writes anything.
    pub fn writes(&self) -> bool {
        self.action.writes(&self.change)
            || self.identity.as_ref().is_some_and(IdentityStep::writes)
            || self.licence.as_ref().is_some_and(LicenceStep::writes)
    }

    /// A rename's new webExId.
    pub fn rename_to(&self) -> Option<&str> {
        self.change.text(Attribute::NewWebExId)
    }

    /// A step with nothing to send yet: the other fields filled in by the
    /// caller (`..Step::new(…)`).
    fn new(action: Action, row: Option<usize>, web_ex_id: &str, problems: Vec<Problem>) -> Step {
        Step {
            web_ex_id: web_ex_id.to_owned(),
            key: String::new(),
            row,
            action,
            change: FlatUser::new(),
            before: FlatUser::new(),
            problems,
            identity: None,
            licence: None,
            claims: Vec::new(),
            remember: None,
            settings_routed: false,
        }
    }

    /// A row that cannot be carried out, with every problem.
    fn invalid(row: usize, web_ex_id: &str, problems: Vec<Problem>) -> Step {
        Step::new(Action::Invalid, Some(row), web_ex_id, problems)
    }

    /// A user whose current state could not be read: its failure, alone.
    fn unreadable(
        row: Option<usize>,
        web_ex_id: &str,
        key: &str,
        error: &impl std::fmt::Display,
    ) -> Step {
        Step {
            key: key.to_owned(),
            ..Step::new(
                Action::Unreadable,
                row,
                web_ex_id,
                vec![Problem {
                    attribute: None,
                    reason: error.to_string(),
                }],
            )
        }
    }
}

/// What happens to a person in the Webex identity.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityStep {
    /// Create, Link, Update, Deactivate, Reactivate or Unchanged.
    pub action: Action,
    /// The person's SCIM id (absent before creation).
    pub person_id: Option<String>,
    /// Create: the whole person; otherwise the attributes that change
    /// (`active` included), each sent as a PATCH replace.
    pub change: FlatUser,
    /// The displayName to set, when the names change.
    pub display_name: Option<String>,
    /// The externalId to set, when it changes.
    pub external_id: Option<String>,
}

impl IdentityStep {
    /// Whether carrying the half out sends anything.
    pub fn writes(&self) -> bool {
        self.action == Action::Create
            || !self.change.is_empty()
            || self.external_id.is_some()
            || self.display_name.is_some()
    }
}

/// Whether a plan read every user or skipped those unchanged since the last run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Mode {
    /// Only people whose source record or site user changed since the last run (the journal says).
    #[default]
    Incremental,
    /// Every person is read and compared.
    Full,
}

/// What a sync would do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// One step per user, in the order they are carried out.
    pub steps: Vec<Step>,
    /// Reading calls the plan took (list pages and GetUser), for reports and benchmarks.
    pub reads: usize,
    /// Whether unchanged people were skipped.
    pub mode: Mode,
}

impl Plan {
    /// How many steps have this action.
    pub fn count(&self, action: Action) -> usize {
        self.steps.iter().filter(|s| s.action == action).count()
    }

    /// Carries the plan out: creates, links, updates, renames and
    /// reactivations one call per user, deactivations 50 per call; at most
    /// `options.concurrency` at once. `progress` hears every write and every
    /// user done.
    ///
    /// # Errors
    ///
    /// [`SyncError::SiteUnreachable`] when the breaker stops the run (what was done is in
    /// the journal and in its report); [`SyncError::Journal`] when the journal cannot be
    /// written. One user's failure is no error: the report has it.
    pub async fn apply(
        self,
        sync: &Sync,
        progress: impl Fn(Event) + Send + std::marker::Sync + 'static,
    ) -> Result<Report, SyncError> {
        apply::apply(self, sync, progress).await
    }
}

/// Progress of [`Plan::apply`], for progress bars, logs and fault points.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The writes to come.
    Started {
        /// How many users the plan writes to.
        writes: usize,
    },
    /// One write request answered (a Control Hub user has up to three: the
    /// person, the licence, then the Meetings settings), before its outcome
    /// is in the journal: the CLI's crash-test fault point aborts here.
    Wrote {
        /// The user the request was for.
        web_ex_id: String,
    },
    /// One user done (`ok` false: it failed).
    Done {
        /// The user.
        web_ex_id: String,
        /// What was done.
        action: Action,
        /// Whether it succeeded.
        ok: bool,
    },
}

/// Why a sync could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The site could not be read (list or GetSite).
    #[error("reading the site: {0}")]
    Site(#[source] ClientError),
    /// Deprovisioning would deactivate more of the site's active users than
    /// [`SyncOptions::max_deprovision_share`] allows: nothing was written.
    #[error(
        "deprovisioning would deactivate {planned} of {active} active users, more than {share:.0} %: stopping before any write"
    )]
    TooManyDeactivations {
        /// Users the plan would deactivate.
        planned: usize,
        /// Active users of the site.
        active: usize,
        /// The allowed share, in per cent.
        share: f64,
    },
    /// The journal could not be opened, read or written.
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    /// The organisation's people could not be read (Control Hub mode).
    #[error("reading the organisation: {0}")]
    Identity(#[source] IdentityError),
    /// The profile is in Control Hub mode and no identity client was given.
    #[error(
        "the site profile is in Control Hub mode: an identity client is needed (identity token)"
    )]
    NoIdentityClient,
    /// The mapping reads fields no source record has: every person would be
    /// planned without them. Nothing was sent to the site.
    #[error(
        "the mapping reads fields the source does not have: {}; the source's fields are: {}. Fix the mapping or the source; nothing was sent to the site",
        fields::describe(missing),
        fields::listing(fields, *unlisted)
    )]
    MissingFields {
        /// The fields read that no record has, with the entry reading each.
        missing: Vec<FieldUse>,
        /// The source's field names (sorted; at most 100).
        fields: Vec<String>,
        /// Field names seen beyond those listed.
        unlisted: usize,
    },
    /// The plan takes more licences than the profile's `[limits]` say are
    /// free (standalone sites): nothing was written.
    #[error(
        "the plan needs {}: nothing was written. Deactivations in the same run free no licence in time (they are sent after every other write): free licences first (deactivate users, or sync fewer new people) or raise the site's limits",
        shortfalls.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    TooFewLicences {
        /// Each licence short, with what is needed and what is free.
        shortfalls: Vec<Shortfall>,
    },
    /// Control Hub mode: the organisation's licences could not be read.
    #[error("reading the organisation's licences: {0}")]
    Licences(#[source] Box<RestError>),
    /// Control Hub mode: the site's tracking codes could not be read (the
    /// plan sets some through the tracking-codes API).
    #[error(
        "reading the site's tracking codes (GET /v1/admin/meeting/config/trackingCodes): {0}; nothing was written"
    )]
    MeetingSettings(#[source] Box<RestError>),
    /// Control Hub mode: no licence of the organisation belongs to the site.
    #[error(
        "the organisation has no licence of site {site_url} (GET /v1/licenses, matched by siteUrl): nobody can be made a host there; nothing was written"
    )]
    NoSiteLicence {
        /// The site, e.g. `example.webex.com`.
        site_url: String,
    },
    /// The source has no record; refused, since deprovisioning would deactivate everyone.
    #[error(
        "the source holds no user: refusing to sync it (with --deprovision that would deactivate everyone); pass --allow-empty if it is meant to be empty"
    )]
    EmptySource,
    /// The breaker stopped the run; when it stopped while writing, `done`
    /// reports what was done before.
    #[error(
        "stopped: {failures} calls in a row got no answer from the site (last: {last}); what was done is in the journal, and the next run resumes"
    )]
    SiteUnreachable {
        /// Calls in a row that got no answer.
        failures: usize,
        /// The last failure, for people.
        last: String,
        /// What was done before the run stopped, when it stopped while writing.
        done: Option<Box<Report>>,
    },
    /// With deprovisioning on, some rows could not be matched to a site user
    /// (their mapping failed or the match key is missing): the person such a
    /// row describes could be deactivated, so nothing is written.
    #[error(
        "source rows {rows:?} could not be matched to a site user, so deprovisioning could deactivate the people they describe: fix them, or run without --deprovision; nothing was written"
    )]
    UnmatchedRows {
        /// The rows, as [`Record::row`](source::Record::row) counts them.
        rows: Vec<usize>,
    },
}

/// `active` as the catalogue holds it.
fn account_state(active: bool) -> Value {
    Value::Text(if active { "ACTIVATED" } else { "DEACTIVATED" }.into())
}

fn active_key() -> FlatKey {
    FlatKey::new(Attribute::Active)
}
