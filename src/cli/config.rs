//! Where the command line finds its site and admin: `wbxprov.toml`, overridden
//! by environment variables. Secrets come from the environment or a file,
//! never from the command line.
//!
//! ```toml
//! siteUrl = "https://example.webex.com/WBXService/XMLService"  # or a site name: "example"
//! adminId = "admin"
//! passwordEnv = "WEBEX_ADMIN_PASSWORD"   # or passwordFile, accessTokenEnv, accessTokenFile
//! concurrency = 4
//! requestsPerMinute = 300
//! timeoutSeconds = 60
//! connectTimeoutSeconds = 10
//! scimTokenEnv = "SCIM_TOKEN"            # or scimTokenFile; for `wbxprov scim serve`
//! scimDefaultRegion = "US"               # national phone numbers' country (ISO 3166)
//! scimSiteLanguage = "en-US"             # the site's default language (BCP-47): the fallback
//! identityTokenEnv = "WEBEX_SCIM_TOKEN"  # or identityTokenFile; Control Hub mode
//! identityTokenExpires = "2027-11-01"    # warn a month before
//! identityUrl = "https://webexapis.com/identity/scim"
//! allowInsecureHttp = false              # plain http:// to a non-loopback host
//!
//! [scim.groups."Webinar hosts"]          # `scim serve`: what a group's members get
//! meetingTypes = [218]
//! supportedServicesEventCenter = true
//! ```
//!
//! With no file, `WBXPROV_SITE_URL`, `WBXPROV_ADMIN_ID` and `WBXPROV_ADMIN_PASSWORD`
//! or `WBXPROV_ACCESS_TOKEN` are enough; they also override the file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use wbxprov::client::{AdminAuth, Options};
use wbxprov::scim::GroupGrants;
use wbxprov::secret::Secret;

/// Environment variables of the command line.
pub mod env {
    /// A config file other than `./wbxprov.toml`.
    pub const CONFIG: &str = "WBXPROV_CONFIG";
    /// The XML API URL, or just the site name (`example`).
    pub const SITE_URL: &str = "WBXPROV_SITE_URL";
    pub const ADMIN_ID: &str = "WBXPROV_ADMIN_ID";
    pub const ADMIN_PASSWORD: &str = "WBXPROV_ADMIN_PASSWORD";
    pub const ACCESS_TOKEN: &str = "WBXPROV_ACCESS_TOKEN";
    /// An existing session ticket (for `render`).
    pub const SESSION_TICKET: &str = "WBXPROV_SESSION_TICKET";
    /// The bearer token of `wbxprov scim serve`.
    pub const SCIM_TOKEN: &str = "WBXPROV_SCIM_TOKEN";
    /// Control Hub mode: the Webex identity API's bearer token.
    pub const IDENTITY_TOKEN: &str = "WBXPROV_IDENTITY_TOKEN";
    /// Control Hub mode: the identity API without the organisation
    /// (default `https://webexapis.com/identity/scim`).
    pub const IDENTITY_URL: &str = "WBXPROV_IDENTITY_URL";
    /// `1` or `true`: allow plain `http://` to hosts that are not loopback
    /// (as `allowInsecureHttp = true` does).
    pub const ALLOW_INSECURE_HTTP: &str = "WBXPROV_ALLOW_INSECURE_HTTP";
    /// Milliseconds to wait after 000045 instead of the service's 60 s: for
    /// tests against a simulator with rate-limit faults, not for real sites.
    pub const RATE_LIMIT_WAIT_MS: &str = "WBXPROV_RATE_LIMIT_WAIT_MS";
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct File {
    site_url: Option<String>,
    admin_id: Option<String>,
    password_env: Option<String>,
    password_file: Option<PathBuf>,
    access_token_env: Option<String>,
    access_token_file: Option<PathBuf>,
    concurrency: Option<usize>,
    requests_per_minute: Option<u32>,
    timeout_seconds: Option<u64>,
    connect_timeout_seconds: Option<u64>,
    scim_token_env: Option<String>,
    scim_token_file: Option<PathBuf>,
    /// The SCIM front: the ISO 3166 region of national phone numbers.
    scim_default_region: Option<String>,
    /// The SCIM front: the BCP-47 tag of the site's default language.
    scim_site_language: Option<String>,
    identity_url: Option<String>,
    identity_token_env: Option<String>,
    identity_token_file: Option<PathBuf>,
    /// `YYYY-MM-DD`: warn when the identity token nears it.
    identity_token_expires: Option<String>,
    /// Plain `http://` to a host that is not loopback: refused unless true.
    allow_insecure_http: Option<bool>,
    /// `[scim]`: the SCIM front's settings.
    scim: Option<ScimSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ScimSection {
    /// `[scim.groups."Webinar hosts"]`: the catalogue attributes a group
    /// grants its members, checked by [`GroupGrants::from_json`].
    #[serde(default)]
    groups: serde_json::Map<String, serde_json::Value>,
    /// `indexMaxAge`: seconds the index of the site's users answers before a
    /// list starts its rebuild (`scim::DEFAULT_INDEX_MAX_AGE` when absent).
    index_max_age: Option<u64>,
    /// `maxReadsPerRequest`: GetUsers one list may make to filter on what
    /// the user list lacks (`scim::DEFAULT_PER_USER_READ_CAP` when absent).
    max_reads_per_request: Option<usize>,
}

/// `[scim] indexMaxAge` and `maxReadsPerRequest` of wbxprov.toml, each
/// `None` when not set (the front's defaults apply).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScimLimits {
    /// How long the index of the site's users answers before it is rebuilt.
    pub index_max_age: Option<std::time::Duration>,
    /// GetUsers a list request may make.
    pub max_reads_per_request: Option<usize>,
}

/// `[scim] indexMaxAge` and `maxReadsPerRequest` in wbxprov.toml.
pub fn scim_limits() -> Result<ScimLimits, String> {
    let scim = config_file()?.scim.unwrap_or_default();
    Ok(ScimLimits {
        index_max_age: scim.index_max_age.map(std::time::Duration::from_secs),
        max_reads_per_request: scim.max_reads_per_request,
    })
}

/// Everything needed to build a client.
#[derive(Debug)]
pub struct Config {
    /// The XML API endpoint.
    pub endpoint: String,
    /// The site name for the security context.
    pub site_name: String,
    pub auth: AdminAuth,
    pub options: Options,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Plain `http://` to a host that is not loopback is allowed.
    pub allow_insecure_http: bool,
}

/// The site name and endpoint of `WBXPROV_SITE_URL`'s value: a URL or a site name.
pub fn site_of(value: &str) -> Result<(String, String), String> {
    wbxprov::client::site_of(value).map_err(|e| e.to_string())
}

impl Config {
    /// Reads `$WBXPROV_CONFIG` or `./wbxprov.toml` (if present), then the environment.
    pub fn load() -> Result<Config, String> {
        let file = config_file()?;
        let site = var(env::SITE_URL).or(file.site_url).ok_or_else(|| {
            format!(
                "no site: set {} (a site name or the XML API URL) or siteUrl in wbxprov.toml",
                env::SITE_URL
            )
        })?;
        let (site_name, endpoint) = site_of(&site)?;
        let admin_id = var(env::ADMIN_ID).or(file.admin_id);
        let token = match var(env::ACCESS_TOKEN) {
            Some(t) => Some(Secret::from(t)),
            None => secret_from(&file.access_token_env, &file.access_token_file)?,
        };
        let password = match var(env::ADMIN_PASSWORD) {
            Some(p) => Some(Secret::from(p)),
            None => secret_from(&file.password_env, &file.password_file)?,
        };
        let auth = match (token, password, admin_id) {
            (Some(token), _, web_ex_id) => AdminAuth::AccessToken { web_ex_id, token },
            (None, Some(password), Some(web_ex_id)) => AdminAuth::Password {
                web_ex_id,
                password,
            },
            (None, Some(_), None) => {
                return Err(format!(
                    "a password needs the admin's Webex ID: set {} or adminId",
                    env::ADMIN_ID
                ));
            }
            (None, None, _) => {
                return Err(format!(
                    "no credential: set {} (with {}) or {}, or name a secret in wbxprov.toml — never on the command line",
                    env::ADMIN_PASSWORD,
                    env::ADMIN_ID,
                    env::ACCESS_TOKEN
                ));
            }
        };
        let mut options = Options::default();
        if let Some(n) = file.concurrency {
            options.max_concurrency = n.max(1);
        }
        options.requests_per_minute = file.requests_per_minute.or(options.requests_per_minute);
        if let Some(ms) = var(env::RATE_LIMIT_WAIT_MS).and_then(|v| v.trim().parse().ok()) {
            options.retry.rate_limit_wait = Duration::from_millis(ms);
        }
        let timeout = Duration::from_secs(file.timeout_seconds.unwrap_or(60));
        // The most one call may take, every attempt included (issue 15 item 9).
        options.deadline = timeout;
        Ok(Config {
            endpoint,
            site_name,
            auth,
            options,
            timeout,
            connect_timeout: Duration::from_secs(file.connect_timeout_seconds.unwrap_or(10)),
            allow_insecure_http: allow_insecure_http(file.allow_insecure_http)?,
        })
    }
}

/// `WBXPROV_ALLOW_INSECURE_HTTP`, else `allowInsecureHttp`, else false.
fn allow_insecure_http(in_file: Option<bool>) -> Result<bool, String> {
    match var(env::ALLOW_INSECURE_HTTP) {
        Some(value) => yes_or_no(&value).ok_or_else(|| {
            format!(
                "{}={value:?}: not 1/true or 0/false",
                env::ALLOW_INSECURE_HTTP
            )
        }),
        None => Ok(in_file.unwrap_or(false)),
    }
}

fn yes_or_no(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Some(true),
        "0" | "false" | "no" => Some(false),
        _ => None,
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `$WBXPROV_CONFIG`, else `./wbxprov.toml`, else nothing.
fn config_file() -> Result<File, String> {
    let file = match var(env::CONFIG).map(PathBuf::from) {
        Some(p) => Some(read_file(&p)?),
        None if Path::new("wbxprov.toml").is_file() => Some(read_file(Path::new("wbxprov.toml"))?),
        None => None,
    };
    Ok(file.unwrap_or_default())
}

/// A secret from the environment variable the file names, or from a file.
fn secret_from(
    env_name: &Option<String>,
    file: &Option<PathBuf>,
) -> Result<Option<Secret>, String> {
    if let Some(name) = env_name {
        return var(name).map(|v| Some(Secret::from(v))).ok_or_else(|| {
            format!("environment variable {name} (named in wbxprov.toml) is not set")
        });
    }
    if let Some(path) = file {
        let text = super::read_text_capped(path, super::SMALL_INPUT_LIMIT)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(Some(Secret::from(
            text.trim_end_matches(['\n', '\r']).to_owned(),
        )));
    }
    Ok(None)
}

/// The bearer token SCIM clients must show: `WBXPROV_SCIM_TOKEN`, else
/// `scimTokenEnv` / `scimTokenFile` in wbxprov.toml.
pub fn scim_token() -> Result<Secret, String> {
    if let Some(t) = var(env::SCIM_TOKEN) {
        return Ok(Secret::from(t));
    }
    let file = config_file()?;
    secret_from(&file.scim_token_env, &file.scim_token_file)?.ok_or_else(|| {
        format!(
            "no SCIM token: set {} or scimTokenEnv/scimTokenFile in wbxprov.toml",
            env::SCIM_TOKEN
        )
    })
}

/// How the SCIM front reads identity providers' phones and language tags:
/// `scimDefaultRegion` and `scimSiteLanguage` in wbxprov.toml, each checked.
pub fn scim_translations() -> Result<wbxprov::scim::translate::TranslateConfig, String> {
    use wbxprov::scim::translate::{language, phone};
    let file = config_file()?;
    if let Some(region) = &file.scim_default_region
        && phone::region(region).is_none()
    {
        return Err(format!(
            "scimDefaultRegion {region:?}: not an ISO 3166 two-letter region with phone numbers (e.g. US)"
        ));
    }
    if let Some(tag) = &file.scim_site_language
        && language::language_to_webex(tag, None).is_none()
    {
        return Err(format!(
            "scimSiteLanguage {tag:?}: accepted: {}",
            language::accepted_languages()
        ));
    }
    Ok({
        let mut built = wbxprov::scim::translate::TranslateConfig::default();
        built.default_region = file.scim_default_region;
        built.site_language = file.scim_site_language;
        built
    })
}

/// What each SCIM group grants its members (`[scim.groups."…"]` in
/// wbxprov.toml); none without a file.
pub fn scim_groups() -> Result<GroupGrants, String> {
    let file = config_file()?;
    let groups = file.scim.map(|s| s.groups).unwrap_or_default();
    GroupGrants::from_json(&groups).map_err(|e| format!("[scim.groups] in wbxprov.toml: {e}"))
}

/// Control Hub mode: where the identity API is, its token, and when the token
/// expires (if said).
pub struct IdentitySettings {
    pub base_url: String,
    pub token: Secret,
    pub expires: Option<std::time::SystemTime>,
    /// Plain `http://` to a host that is not loopback is allowed.
    pub allow_insecure_http: bool,
}

/// The identity API's settings: `WBXPROV_IDENTITY_TOKEN` / `WBXPROV_IDENTITY_URL`,
/// else wbxprov.toml.
pub fn identity_settings() -> Result<IdentitySettings, String> {
    let file = config_file()?;
    let token = match var(env::IDENTITY_TOKEN) {
        Some(t) => Secret::from(t),
        None => secret_from(&file.identity_token_env, &file.identity_token_file)?.ok_or_else(
            || {
                format!(
                    "the site is in Control Hub mode: set {} or identityTokenEnv/identityTokenFile in wbxprov.toml",
                    env::IDENTITY_TOKEN
                )
            },
        )?,
    };
    let expires = match &file.identity_token_expires {
        Some(date) => Some(
            date_of(date)
                .ok_or_else(|| format!("identityTokenExpires {date:?}: not YYYY-MM-DD"))?,
        ),
        None => None,
    };
    Ok(IdentitySettings {
        base_url: var(env::IDENTITY_URL)
            .or(file.identity_url)
            .unwrap_or_else(|| wbxprov::identity::DEFAULT_BASE_URL.to_owned()),
        token,
        expires,
        allow_insecure_http: allow_insecure_http(file.allow_insecure_http)?,
    })
}

/// Midnight UTC of `YYYY-MM-DD`.
fn date_of(text: &str) -> Option<std::time::SystemTime> {
    let mut parts = text.trim().splitn(3, '-');
    let (y, m, d): (i64, i64, i64) = (
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    );
    midnight(y, m, d)
}

/// Midnight UTC of a date (civil-to-days, the inverse of the library's civil-from-days; only the CLI reads dates).
fn midnight(year: i64, month: i64, day: i64) -> Option<std::time::SystemTime> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = u64::try_from(days * 86_400).ok()?;
    Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

fn read_file(path: &Path) -> Result<File, String> {
    let text = super::read_text_capped(path, super::SMALL_INPUT_LIMIT)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut file: File = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    // Secret files are named relative to the config file.
    let base = path.parent().unwrap_or(Path::new("."));
    for secret in [
        &mut file.password_file,
        &mut file.access_token_file,
        &mut file.scim_token_file,
        &mut file.identity_token_file,
    ] {
        if let Some(p) = secret.as_mut().filter(|p| p.is_relative()) {
            *p = base.join(&*p);
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::site_of;

    #[test]
    fn dates_read_as_midnight_utc() {
        let t = super::date_of("2027-11-01").unwrap();
        let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(secs, 1_825_027_200);
        assert_eq!(
            super::date_of("2000-03-01").unwrap(),
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(951_868_800)
        );
        assert!(super::date_of("2027-13-01").is_none());
    }

    #[test]
    fn scim_groups_read_as_grants() {
        let file: super::File = toml::from_str(
            "[scim.groups.\"Webinar hosts\"]\nmeetingTypes = [218]\nprivilegeHost = true\n",
        )
        .unwrap();
        let groups = file.scim.unwrap().groups;
        assert!(!super::GroupGrants::from_json(&groups).unwrap().is_empty());
        let wrong: Result<super::File, _> = toml::from_str("[scim]\ngroup = 1\n");
        assert!(wrong.is_err(), "unknown keys are refused");
    }

    #[test]
    fn insecure_http_is_allowed_only_by_a_clear_yes() {
        for (value, allowed) in [("1", true), ("TRUE", true), ("0", false), ("false", false)] {
            assert_eq!(super::yes_or_no(value), Some(allowed), "{value}");
        }
        assert_eq!(super::yes_or_no("please"), None);
    }

    #[test]
    fn token_expiry_dates() {
        let t = super::date_of("2027-11-01").unwrap();
        let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(secs, 1_825_027_200);
        assert!(super::date_of("2027-13-01").is_none());
        assert!(super::date_of("soon").is_none());
    }

    #[test]
    fn a_site_is_a_name_or_a_url() {
        assert_eq!(
            site_of("example").unwrap(),
            (
                "example".into(),
                "https://example.webex.com/WBXService/XMLService".into()
            )
        );
        assert_eq!(
            site_of("https://acme.webex.com").unwrap(),
            (
                "acme".into(),
                "https://acme.webex.com/WBXService/XMLService".into()
            )
        );
        assert_eq!(
            site_of("http://127.0.0.1:8080/WBXService/XMLService")
                .unwrap()
                .1,
            "http://127.0.0.1:8080/WBXService/XMLService"
        );
        assert!(site_of("exa mple").is_err());
        // A URL's root path is no endpoint: the XML API's path is added.
        assert_eq!(
            site_of("https://acme.webex.com/").unwrap().1,
            "https://acme.webex.com/WBXService/XMLService"
        );
        assert!(site_of("https://").is_err());
    }
}
