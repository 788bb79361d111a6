//! A site profile: what the validator needs to know about a site. Built from a
//! GetSite response (optionally with LstMeetingType), or from a TOML file a
//! person writes and edits, where any feature can be overridden by hand.
//!
//! ```toml
//! siteName = "example"
//! # Optional: start from a saved GetSite response (relative to this file);
//! # everything below overrides what it says.
//! getSite = "getsite.xml"
//!
//! [features]          # any feature of `wbxprov attrs`' `feature` column; omitted = off
//! tspAccounts = true
//!
//! [[meetingTypes]]
//! id = 214
//! name = "PRO"
//! service = "MeetingCenter"
//!
//! [passwordCriteria]
//! minLength = 8
//!
//! [limits]            # licence counts, checked only when given
//! siteHosts = 500
//! currentSiteHosts = 498
//! [[limits.sessionTypes]]
//! id = 214
//! hosts = 100
//! currentHosts = 99
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ops::{MeetingTypeList, PasswordCriteria, SiteInstance};
use crate::schema::{FEATURES, Feature};
use crate::xml::{DecodeError, ServiceError, decode};

/// A session (meeting) type the site offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionType {
    /// `meetingTypeID`: the number a user's `meetingTypes/meetingType` elements hold.
    pub id: i64,
    /// The type's name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The service it belongs to (`MeetingCenter` …), when LstMeetingType or the profile says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// Host licences of one session type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionTypeLimit {
    /// `meetingTypeID` of the session type.
    pub id: i64,
    /// Hosts the licence allows for this session type.
    pub hosts: u32,
    /// Hosts holding it now, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_hosts: Option<u32>,
}

/// Licence counts. The service keeps them; wbxprov knows them only from here.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LicenceLimits {
    /// Active hosts the site may have (`exceededSiteHostLimit` beyond it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_hosts: Option<u32>,
    /// Active hosts the site has now, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_site_hosts: Option<u32>,
    /// Host licences per session type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub session_types: Vec<SessionTypeLimit>,
}

/// The organisation of a Control-Hub-managed site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ControlHub {
    /// The Webex organisation ID (the one Control Hub shows), whose identity the site's people
    /// live in.
    pub org_id: String,
}

/// What the validator knows about one site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteProfile {
    /// The site's name, when GetSite or the profile gives it.
    pub site_name: Option<String>,
    /// On Control-Hub-managed sites the Webex identity owns names, email, phones,
    /// password and webExId: SetUser cannot change them.
    pub control_hub_managed: bool,
    /// Control Hub mode (`[controlHub] orgId = …`): people go through the
    /// Webex identity (SCIM 2) of this organisation, Meetings settings through
    /// the XML API. `None`: standalone.
    pub control_hub: Option<ControlHub>,
    /// Whether the profile said `controlHubManaged` (or GetSite did). When it
    /// did not, `[controlHub]` implies it, and `wbxprov sync` reads the site
    /// type from the licences API (`siteType` of the site's licence).
    pub control_hub_managed_said: bool,
    /// Control Hub mode's licence half (`[controlHub] licences`, default
    /// on). Off on purpose, people are created and given their settings but
    /// licensed by nobody: for an organisation whose licences someone else
    /// assigns (auto-licence templates), or a simulator without licences.
    pub control_hub_licences: bool,
    /// Indexed by `Feature as usize`.
    features: Vec<bool>,
    /// The session types users may hold. Empty means "not known" (a hand-written
    /// profile without them): the validator then does not check session types.
    pub meeting_types: Vec<SessionType>,
    /// The site's password rules: the validator checks `password` against them.
    pub password_criteria: Option<PasswordCriteria>,
    /// Licence counts, when the profile gives them: the validator refuses a change that
    /// would activate a host past them.
    pub limits: Option<LicenceLimits>,
}

/// Why a profile could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// A file (the profile, or the GetSite response it names) could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A saved GetSite response that does not decode.
    #[error("{path}: not a GetSite response: {source}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// Why.
        source: DecodeError,
    },
    /// A saved GetSite response that is the service's FAILURE.
    #[error("{path}: the saved GetSite response is a FAILURE: {source}")]
    Failure {
        /// The file.
        path: PathBuf,
        /// The service's error.
        source: ServiceError,
    },
    /// The profile file at `path` is not a valid profile; `source` says why.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: Box<ProfileError>,
    },
    /// A profile file that is not UTF-8 text.
    #[error("not UTF-8 text: {0}")]
    NotText(#[source] std::string::FromUtf8Error),
    /// Profile TOML that does not parse, or has a key no profile has.
    #[error("{0}")]
    Syntax(#[source] toml::de::Error),
    /// `[features]` gives a feature a value other than true or false.
    #[error("features.{feature}: expected true or false")]
    FeatureValue {
        /// The feature as written.
        feature: String,
    },
    /// `[features]` names features the catalogue does not have.
    #[error("unknown feature(s) {} (known: {})", .unknown.join(", "), .known.join(", "))]
    UnknownFeatures {
        /// The names as written.
        unknown: Vec<String>,
        /// Every feature the catalogue has.
        known: Vec<&'static str>,
    },
}

impl Default for SiteProfile {
    /// Every feature off, no session types: a site that allows nothing gated.
    fn default() -> Self {
        SiteProfile {
            site_name: None,
            control_hub_managed: false,
            control_hub: None,
            control_hub_managed_said: false,
            control_hub_licences: true,
            features: vec![false; FEATURES.len()],
            meeting_types: Vec::new(),
            password_criteria: None,
            limits: None,
        }
    }
}

impl SiteProfile {
    /// Every feature off, no session types: a site that allows nothing gated.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a feature is on. Features GetSite did not report are off.
    pub fn feature(&self, feature: Feature) -> bool {
        self.features[feature as usize]
    }

    /// Turns a feature on or off (for hand-written profiles and tests).
    pub fn set_feature(&mut self, feature: Feature, on: bool) {
        self.features[feature as usize] = on;
    }

    /// Every feature with its value, in catalogue order.
    pub fn features(&self) -> impl Iterator<Item = (Feature, bool)> + '_ {
        FEATURES
            .iter()
            .map(|f| (f.feature, self.feature(f.feature)))
    }

    /// The service types (`MeetingCenter` …) and whether each is enabled.
    pub fn services(&self) -> impl Iterator<Item = (&'static str, bool)> + '_ {
        FEATURES
            .iter()
            .filter_map(|f| f.service.map(|s| (s, self.feature(f.feature))))
    }

    /// Whether a service type (`MeetingCenter` …) is enabled on the site.
    pub fn service_enabled(&self, service: &str) -> bool {
        self.services().any(|(s, on)| s == service && on)
    }

    /// The features gating `attribute` that are off here: empty when the site
    /// allows any value, else why it allows only the default.
    pub fn features_off(&self, attribute: &crate::schema::AttributeInfo) -> Vec<Feature> {
        attribute
            .gate
            .iter()
            .copied()
            .filter(|f| !self.feature(*f))
            .collect()
    }

    /// The session type with this `meetingTypeID`, if the site offers it.
    pub fn session_type(&self, id: i64) -> Option<&SessionType> {
        self.meeting_types.iter().find(|m| m.id == id)
    }

    /// The profile a GetSite answer describes.
    pub fn from_site(site: &SiteInstance) -> Self {
        let mut profile = SiteProfile {
            site_name: site.site_name.clone(),
            meeting_types: site
                .meeting_types
                .iter()
                .map(|m| SessionType {
                    id: m.id,
                    name: m.name.clone(),
                    service: None,
                })
                .collect(),
            password_criteria: site.account_password_criteria.clone(),
            ..SiteProfile::default()
        };
        for f in FEATURES.iter() {
            profile.set_feature(f.feature, site.feature(f.feature).unwrap_or(false));
        }
        profile
    }

    /// Adds what LstMeetingType says: each session type's service, and the types
    /// GetSite did not list.
    pub fn add_meeting_types(&mut self, list: &MeetingTypeList) {
        for m in &list.meeting_types {
            let service = m.service_types.first().cloned();
            match self.meeting_types.iter_mut().find(|t| t.id == m.id) {
                Some(t) => {
                    t.service = t.service.take().or(service);
                    if t.name.is_none() {
                        t.name = m.product_code_prefix.clone().or_else(|| m.name.clone());
                    }
                }
                None => self.meeting_types.push(SessionType {
                    id: m.id,
                    name: m.product_code_prefix.clone().or_else(|| m.name.clone()),
                    service,
                }),
            }
        }
    }

    /// A profile from a file: a saved GetSite response (XML) or a profile TOML,
    /// told apart by their content.
    ///
    /// # Errors
    ///
    /// A [`ProfileError`] naming the file: unreadable, not a GetSite response, a saved
    /// FAILURE, or a TOML profile wbxprov cannot use.
    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        let bytes = std::fs::read(path).map_err(|source| ProfileError::Io {
            path: path.to_owned(),
            source,
        })?;
        let text_start = bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map(|i| &bytes[i..])
            .unwrap_or_default();
        if text_start.starts_with(b"<") || text_start.starts_with(b"\xEF\xBB\xBF") {
            Self::from_getsite_bytes(path, &bytes)
        } else {
            let in_file = |source| ProfileError::File {
                path: path.to_owned(),
                source: Box::new(source),
            };
            let text = String::from_utf8(bytes).map_err(|e| in_file(ProfileError::NotText(e)))?;
            Self::from_toml(&text, path.parent().unwrap_or(Path::new("."))).map_err(in_file)
        }
    }

    fn from_getsite_bytes(path: &Path, bytes: &[u8]) -> Result<Self, ProfileError> {
        let site = decode::<SiteInstance>(bytes)
            .map_err(|source| ProfileError::Decode {
                path: path.to_owned(),
                source,
            })?
            .success()
            .map_err(|source| ProfileError::Failure {
                path: path.to_owned(),
                source,
            })?;
        Ok(Self::from_site(&site))
    }

    /// A profile from TOML text; a `getSite` reference is read relative to `base_dir`.
    pub fn from_toml(text: &str, base_dir: &Path) -> Result<Self, ProfileError> {
        let file: ProfileFile = toml::from_str(text).map_err(ProfileError::Syntax)?;
        let mut profile = match &file.get_site {
            Some(rel) => {
                let path = base_dir.join(rel);
                let bytes = std::fs::read(&path).map_err(|source| ProfileError::Io {
                    path: path.clone(),
                    source,
                })?;
                Self::from_getsite_bytes(&path, &bytes)?
            }
            None => SiteProfile::new(),
        };
        if file.site_name.is_some() {
            profile.site_name = file.site_name;
        }
        if let Some(hub) = file.control_hub {
            // Control Hub mode implies a Control-Hub-managed site unless the
            // profile says otherwise (below) or the run finds otherwise.
            profile.control_hub_managed = true;
            profile.control_hub_licences = hub.licences.unwrap_or(true);
            profile.control_hub = Some(ControlHub { org_id: hub.org_id });
        }
        if let Some(managed) = file.control_hub_managed {
            profile.control_hub_managed = managed;
            profile.control_hub_managed_said = true;
        }
        let mut unknown = Vec::new();
        for (name, on) in file.features {
            match (name.parse::<Feature>(), on.as_bool()) {
                (Ok(f), Some(on)) => profile.set_feature(f, on),
                (Ok(_), None) => return Err(ProfileError::FeatureValue { feature: name }),
                (Err(_), _) => unknown.push(name),
            }
        }
        if !unknown.is_empty() {
            return Err(ProfileError::UnknownFeatures {
                unknown,
                known: FEATURES.iter().map(|f| f.name).collect(),
            });
        }
        if let Some(types) = file.meeting_types {
            profile.meeting_types = types;
        }
        if file.password_criteria.is_some() {
            profile.password_criteria = file.password_criteria;
        }
        if file.limits.is_some() {
            profile.limits = file.limits;
        }
        Ok(profile)
    }

    /// The profile as TOML a person can edit, every feature written out.
    pub fn to_toml(&self) -> String {
        let file = ProfileFile {
            site_name: self.site_name.clone(),
            get_site: None,
            // As said; unsaid, `false` is the default and `true` is implied
            // by `[controlHub]` (else written), or left for the run to detect.
            control_hub_managed: (self.control_hub_managed_said
                || (self.control_hub.is_none() && self.control_hub_managed))
                .then_some(self.control_hub_managed),
            control_hub: self.control_hub.as_ref().map(|hub| ControlHubFile {
                org_id: hub.org_id.clone(),
                licences: (!self.control_hub_licences).then_some(false),
            }),
            simulator: None,
            features: self
                .features()
                .map(|(f, on)| (f.info().name.to_owned(), toml::Value::Boolean(on)))
                .collect(),
            meeting_types: Some(self.meeting_types.clone()),
            password_criteria: self.password_criteria.clone(),
            limits: self.limits.clone(),
        };
        let body = toml::to_string_pretty(&file).expect("a profile serializes");
        format!(
            "# wbxprov site profile. Edit freely: a feature set here overrides what GetSite said.\n\
             # Features marked `inferred` in `wbxprov attrs` are a best reading of GetSite.\n{body}"
        )
    }

    /// The profile as JSON: every feature, the services, session types, criteria, limits.
    pub fn to_json(&self) -> serde_json::Value {
        let features: serde_json::Map<String, serde_json::Value> = self
            .features()
            .map(|(f, on)| (f.info().name.to_owned(), on.into()))
            .collect();
        let services: serde_json::Map<String, serde_json::Value> = self
            .services()
            .map(|(s, on)| (s.to_owned(), on.into()))
            .collect();
        serde_json::json!({
            "siteName": self.site_name,
            "controlHubManaged": self.control_hub_managed,
            "controlHub": self.control_hub,
            "features": features,
            "meetingTypes": self.meeting_types,
            "services": services,
            "passwordCriteria": self.password_criteria,
            "limits": self.limits,
        })
    }
}

/// The TOML file's shape: everything optional, so it can override a GetSite.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProfileFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    site_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    get_site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    control_hub_managed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    control_hub: Option<ControlHubFile>,
    /// A simulated site's own settings (`crate::sim::SimulatorAdmin` reads
    /// them): accepted here so that one file serves both, never part of a
    /// real site's profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    simulator: Option<toml::Table>,
    /// Ordered as written (and as the catalogue lists features, when exported).
    #[serde(default)]
    features: toml::Table,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    meeting_types: Option<Vec<SessionType>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password_criteria: Option<PasswordCriteria>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    limits: Option<LicenceLimits>,
}

/// `[controlHub]` as written: the organisation, and the licence half's switch.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ControlHubFile {
    org_id: String,
    /// `false`: the licence half is off on purpose ([`SiteProfile::control_hub_licences`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    licences: Option<bool>,
}

#[cfg(test)]
mod control_hub_tests {
    use super::*;

    fn load(text: &str) -> SiteProfile {
        SiteProfile::from_toml(text, Path::new(".")).unwrap()
    }

    #[test]
    fn control_hub_settings_read_and_write_back() {
        let p = load("[controlHub]\norgId = \"o\"\nlicences = false\n");
        assert!(p.control_hub_managed && !p.control_hub_managed_said);
        assert!(!p.control_hub_licences);
        let again = load(&p.to_toml());
        assert_eq!(again, p, "{}", p.to_toml());
        // Said explicitly, it wins over the table's implication.
        let linked = load("controlHubManaged = false\n[controlHub]\norgId = \"o\"\n");
        assert!(!linked.control_hub_managed && linked.control_hub_managed_said);
        assert!(linked.control_hub_licences);
        assert_eq!(load(&linked.to_toml()), linked);
    }
}
