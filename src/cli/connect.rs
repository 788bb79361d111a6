//! How commands that talk to a site get their client: the live site from the
//! configuration, a recording (`--replay`), or the live site while recording
//! (`--record`); and the site profile to validate against.

use std::path::Path;
use std::sync::Arc;

use super::config::Config;
use wbxprov::client::{AdminAuth, Client, Recorder, Replay, Transport};
use wbxprov::secret::Secret;
use wbxprov::site::SiteProfile;

/// The connection options every site command takes.
pub struct Connection<'a> {
    pub record: Option<&'a Path>,
    pub replay: Option<&'a Path>,
    /// A profile file to validate against instead of the site's GetSite.
    pub site: Option<&'a Path>,
}

impl Connection<'_> {
    /// A client; with `--site`, validating against that profile.
    pub fn client(&self) -> Result<Client, String> {
        let (config, transport): (Option<Config>, Arc<dyn Transport>) = match self.replay {
            Some(dir) => {
                let replay = Replay::from_dir(dir).map_err(|e| e.to_string())?;
                (replay_config(dir, &replay)?, Arc::new(replay))
            }
            None => {
                let config = Config::load()?;
                let https =
                    wbxprov::client::transport::Https::new(config.connect_timeout, config.timeout)
                        .map_err(|e| e.to_string())?
                        .allow_insecure_http(config.allow_insecure_http);
                let transport: Arc<dyn Transport> = match self.record {
                    Some(dir) => Arc::new(Recorder::new(https, dir).map_err(|e| e.to_string())?),
                    None => Arc::new(https),
                };
                (Some(config), transport)
            }
        };
        let (site_name, endpoint, auth, options) = match config {
            Some(c) => (c.site_name, c.endpoint, c.auth, c.options),
            None => (
                "replay".to_owned(),
                "replay:".to_owned(),
                AdminAuth::Password {
                    web_ex_id: "replay".into(),
                    password: Secret::new(""),
                },
                Default::default(),
            ),
        };
        let mut builder = Client::builder(&site_name, auth)
            .endpoint(endpoint)
            .transport(transport)
            .options(options);
        if let Some(path) = self.site {
            let profile = SiteProfile::load(path).map_err(|e| e.to_string())?;
            builder = builder.validate_with(profile);
        }
        builder.build().map_err(|e| e.to_string())
    }

    /// A client that validates, and the profile it validates against: `--site`,
    /// or the site's own GetSite, fetched once for the whole run.
    pub async fn validating_client(&self) -> Result<(Client, SiteProfile), String> {
        let mut client = self.client()?;
        let profile = match self.site {
            Some(path) => SiteProfile::load(path).map_err(|e| e.to_string())?,
            None => {
                let site = client
                    .get_site()
                    .await
                    .map_err(|e| format!("reading the site's settings for validation: {e}"))?;
                SiteProfile::from_site(&site)
            }
        };
        client.validate_with(profile.clone());
        Ok((client, profile))
    }
}

/// The configuration a replay runs with. Credentials are not needed to replay,
/// but a recording that authenticated answers only the admin it was recorded
/// as: without one configured, say so rather than fail on an exchange it lacks.
fn replay_config(dir: &Path, replay: &Replay) -> Result<Option<Config>, String> {
    let missing = match Config::load() {
        Ok(config) => return Ok(Some(config)),
        Err(missing) => missing,
    };
    let admins = replay.recorded_keys(wbxprov::ops::Operation::AuthenticateUser);
    match admins.first() {
        None => Ok(None),
        Some(admin) => Err(format!(
            "{} was recorded as admin `{admin}` of a site: replaying it needs {} = {admin} and the site ({}) as when it was recorded, with any credential; {missing}",
            dir.display(),
            super::config::env::ADMIN_ID,
            super::config::env::SITE_URL,
        )),
    }
}

/// Control Hub mode (a profile with `[controlHub]`): the organisation's
/// identity client, warning when its token nears expiry; `None` otherwise.
pub fn identity_client(
    profile: &SiteProfile,
) -> Result<Option<Arc<wbxprov::identity::IdentityClient>>, String> {
    let Some(hub) = &profile.control_hub else {
        return Ok(None);
    };
    let settings = super::config::identity_settings()?;
    let https = wbxprov::identity::transport::HttpsJson::new(
        std::time::Duration::from_secs(10),
        std::time::Duration::from_secs(60),
    )
    .map_err(|e| e.to_string())?
    .allow_insecure_http(settings.allow_insecure_http);
    let mut client = wbxprov::identity::IdentityClient::new(
        identity_base(&settings.base_url, &hub.org_id),
        &hub.org_id,
        settings.token,
        Arc::new(https),
    );
    if let Some(at) = settings.expires {
        client = client.token_expires(at);
    }
    if let Some(warning) = client.token_warning(std::time::SystemTime::now()) {
        eprintln!("warning: {warning}");
    }
    Ok(Some(Arc::new(client)))
}

/// The identity API's base (`…/identity/scim`), to which the client adds
/// `/{orgId}/v2`. `sim serve` prints the organisation's URL (base, orgId, `v2`):
/// that is accepted too.
fn identity_base<'a>(url: &'a str, org_id: &str) -> &'a str {
    let url = url.trim_end_matches('/');
    url.strip_suffix("/v2")
        .and_then(|u| u.strip_suffix(org_id))
        .and_then(|u| u.strip_suffix('/'))
        .unwrap_or(url)
}

/// Control Hub mode: the licences API client (the identity token, at the
/// identity API's origin: `…/identity/scim` → `…/v1`, so `sim serve`'s
/// identity URL finds its `/v1` too) and the site's URL as the licences API
/// writes it (`{siteName}.webex.com`: the profile's site name, else the
/// configured site's); `None` on a standalone profile.
pub fn licence_client(
    profile: &SiteProfile,
) -> Result<Option<(Arc<wbxprov::rest::licences::LicenceClient>, String)>, String> {
    let Some(hub) = &profile.control_hub else {
        return Ok(None);
    };
    let settings = super::config::identity_settings()?;
    let https = wbxprov::rest::transport::HttpsJson::new(
        std::time::Duration::from_secs(10),
        std::time::Duration::from_secs(60),
    )
    .map_err(|e| e.to_string())?
    .allow_insecure_http(settings.allow_insecure_http);
    let base = rest_base(identity_base(&settings.base_url, &hub.org_id));
    let client =
        wbxprov::rest::licences::LicenceClient::new(&base, settings.token, Arc::new(https));
    let site_name = match &profile.site_name {
        Some(name) => name.clone(),
        None => Config::load()?.site_name,
    };
    Ok(Some((
        Arc::new(client),
        format!("{}.webex.com", site_name.to_ascii_lowercase()),
    )))
}

/// The webexapis.com REST base beside an identity base (`…/identity/scim`).
fn rest_base(identity_base: &str) -> String {
    match identity_base.strip_suffix("/identity/scim") {
        Some(origin) => format!("{origin}/v1"),
        None => wbxprov::rest::DEFAULT_BASE_URL.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_licences_api_is_found_beside_the_identity_api() {
        assert_eq!(
            rest_base(wbxprov::identity::DEFAULT_BASE_URL),
            wbxprov::rest::DEFAULT_BASE_URL
        );
        assert_eq!(
            rest_base(identity_base(
                "http://127.0.0.1:9/identity/scim/org/v2",
                "org"
            )),
            "http://127.0.0.1:9/v1"
        );
    }
}
