//! `wbxprov scim serve`: the site's users as a SCIM 2.0 service.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::config::{scim_groups, scim_limits, scim_token, scim_translations};
use super::connect::Connection;
use super::exit;
use wbxprov::Secret;
use wbxprov::client::{AdminAuth, Client};
use wbxprov::scim::{Groups, Meetings, Service, http, ids::IdStore};
use wbxprov::sim;
use wbxprov::site::SiteProfile;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Serve SCIM 2.0 at http://ADDR/scim/v2 for the configured site until stopped.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (printed on the first line).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Keep SCIM ids, externalIds, groups and the index of the site's users in
    /// this SQLite file (`:memory:`: in memory). Default:
    /// $XDG_STATE_HOME/wbxprov/scim.sqlite3, else
    /// ~/.local/state/wbxprov/scim.sqlite3; with --simulator, in memory.
    #[arg(long, value_name = "FILE", conflicts_with = "ephemeral")]
    state: Option<PathBuf>,
    /// Keep the state in memory only, lost at exit (as `--state :memory:`).
    #[arg(long)]
    ephemeral: bool,
    /// Validate against this profile instead of the site's GetSite.
    #[arg(long, value_name = "PROFILE")]
    site: Option<PathBuf>,
    /// Serve an in-process simulated site (with `--site`'s profile, else every
    /// feature on) instead of the configured one.
    #[arg(long)]
    simulator: bool,
    /// With --simulator: delay each of the simulated site's answers by this
    /// many milliseconds (to try timeouts and shutdown).
    #[arg(long, value_name = "MS", default_value_t = 0, requires = "simulator")]
    simulator_latency_ms: u64,
    /// The base URL identity providers call, when a proxy or load balancer
    /// stands in front (e.g. https://scim.example.com/scim/v2): `Location`
    /// headers and `meta.location` use it instead of the bind address.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert (keep it owner-only).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Answer 504 to a request not answered within this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    request_timeout: u64,
    /// On SIGTERM or SIGINT, stop accepting connections and give the requests
    /// in flight this many seconds to finish before exiting.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    shutdown_timeout: u64,
}

/// Where to listen and what URL to name resources by, or why not.
fn serve_options(args: &ServeArgs) -> Result<http::ScimServeOptions, String> {
    let mut options = http::ScimServeOptions::new(args.addr)
        .request_timeout(Duration::from_secs(args.request_timeout.max(1)));
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        options = options.tls_files(cert, key).map_err(|e| e.to_string())?;
    }
    match &args.public_url {
        Some(url) => options
            .public_url(url)
            .map_err(|e| format!("--public-url: {e}")),
        None => Ok(options),
    }
}

pub fn run(command: &Command, out: &mut impl Write) -> io::Result<u8> {
    let Command::Serve(args) = command;
    let options = match serve_options(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit::COULD_NOT_RUN);
        }
    };
    let token = match strong_token() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit::COULD_NOT_RUN);
        }
    };
    let grants = match scim_groups() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit::COULD_NOT_RUN);
        }
    };
    let state = match state_file(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit::COULD_NOT_RUN);
        }
    };
    let ids = match IdStore::open(state.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit::COULD_NOT_RUN);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // From here on a SIGTERM waits for the server to drain (systemd and
        // Docker send it to stop a service).
        let signal = wbxprov::StopSignal::install()?;
        // The simulated site lives as long as the server.
        let mut _simulated = None;
        let (client, profile) = if args.simulator {
            match simulated(args).await {
                Ok((handle, client, profile)) => {
                    _simulated = Some(handle);
                    (client, profile)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(exit::COULD_NOT_RUN);
                }
            }
        } else {
            let connection = Connection {
                record: None,
                replay: None,
                site: args.site.as_deref(),
            };
            match connection.validating_client().await {
                Ok(found) => found,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(exit::COULD_NOT_RUN);
                }
            }
        };
        let criteria = profile.password_criteria.clone();
        let (translations, limits) = match scim_translations().and_then(|t| Ok((t, scim_limits()?)))
        {
            Ok(found) => found,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(exit::COULD_NOT_RUN);
            }
        };
        let client = Arc::new(client);
        let options = options
            .readiness(site_answers(client.clone()))
            .site_client(client.clone());
        // A thin binder: the router over the site's backend, on its own socket.
        let handle = match http::serve_backend_with(options, token, |url| {
            let mut users = Service::new(client, ids, url)
                .password_criteria(criteria)
                .translations(translations);
            if let Some(age) = limits.index_max_age {
                users = users.index_max_age(age);
            }
            if let Some(cap) = limits.max_reads_per_request {
                users = users.per_user_read_cap(cap);
            }
            Meetings::new(users, Groups::new(grants))
        })
        .await
        {
            Ok(h) => h,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(exit::COULD_NOT_RUN);
            }
        };
        if !handle.addr.ip().is_loopback() && args.tls_cert.is_none() {
            warn_plain_http(handle.addr);
        }
        writeln!(out, "listening on {}", handle.url)?;
        let _ = match &state {
            Some(path) => writeln!(out, "state: {}", path.display()),
            None => writeln!(out, "state: in memory (lost at exit)"),
        };
        if let Some(public) = &args.public_url {
            let _ = writeln!(out, "public URL: {}", public.trim_end_matches('/'));
        }
        if let Some(site) = &_simulated {
            let _ = writeln!(out, "site: simulated at {}", site.url);
        }
        let _ = out.flush();
        let deadline = Duration::from_secs(args.shutdown_timeout);
        Ok(super::sim::stopped(handle.drain_on(signal, deadline).await))
    })
}

/// The file name of the default state, in [`default_state_dir`].
const STATE_FILE: &str = "scim.sqlite3";

/// Where the state lives (`None`: in memory). Without `--state`: the
/// platform's state folder for a real site (created owner-only, 0700: the
/// file names every user the identity provider manages); in memory for
/// `--simulator`, whose site is in memory too, so a simulated run never
/// writes ids of users no real site has into the real site's state.
fn state_file(args: &ServeArgs) -> Result<Option<PathBuf>, String> {
    match &args.state {
        _ if args.ephemeral => Ok(None),
        Some(path) if path.as_os_str() == ":memory:" => Ok(None),
        Some(path) => Ok(Some(path.clone())),
        None if args.simulator => Ok(None),
        None => {
            let dir = default_state_dir(
                std::env::var_os("XDG_STATE_HOME"),
                std::env::var_os("HOME"),
            )
            .ok_or(
                "no state folder: neither XDG_STATE_HOME nor HOME is set; give --state FILE \
                 (or --ephemeral to keep the state in memory)",
            )?;
            wbxprov::private_file::create_dir(&dir)
                .map_err(|e| format!("cannot create the state folder {}: {e}", dir.display()))?;
            Ok(Some(dir.join(STATE_FILE)))
        }
    }
}

/// `$XDG_STATE_HOME/wbxprov`, else `$HOME/.local/state/wbxprov`: the XDG Base
/// Directory Specification's place for "state data that should persist
/// between (application) restarts" (a relative XDG_STATE_HOME is invalid
/// there and ignored, as the specification asks).
fn default_state_dir(
    xdg_state_home: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> Option<PathBuf> {
    let absolute = |v: std::ffi::OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    match xdg_state_home.and_then(absolute) {
        Some(base) => Some(base.join("wbxprov")),
        None => Some(home.and_then(absolute)?.join(".local/state/wbxprov")),
    }
}

/// `/readyz`: the site answers GetSite (no user data, any admin may read it).
/// Why it does not is logged, never sent to the prober.
fn site_answers(client: Arc<Client>) -> http::Readiness {
    http::Readiness::new(move || {
        let client = client.clone();
        async move {
            match client.get_site().await {
                Ok(_) => true,
                Err(e) => {
                    tracing::warn!(error = %e, "readiness: the site does not answer GetSite");
                    false
                }
            }
        }
    })
}

/// The bearer token clients must show: a weak one is refused before anything
/// is opened or started.
fn strong_token() -> Result<Secret, String> {
    let token = scim_token()?;
    http::check_token(&token).map_err(|e| e.to_string())?;
    Ok(token)
}

/// The server speaks plain HTTP: beyond this machine, the bearer token and
/// the users' data would cross the network in clear.
fn warn_plain_http(addr: SocketAddr) {
    eprintln!(
        "WARNING: listening on {addr}, reachable from other machines, over plain HTTP: the bearer \
         token and user data cross the network unencrypted. Put the server behind a TLS terminator \
         (a reverse proxy or load balancer with HTTPS) and listen on 127.0.0.1, or only expose it \
         on a network you trust."
    );
}

async fn simulated(args: &ServeArgs) -> Result<(sim::SimHandle, Client, SiteProfile), String> {
    let profile = match &args.site {
        Some(path) => SiteProfile::load(path).map_err(|e| e.to_string())?,
        None => sim::default_profile(),
    };
    let config = sim::SimConfig::new(profile.clone());
    let auth = AdminAuth::Password {
        web_ex_id: config.admin_id.clone(),
        password: config.admin_password.clone(),
    };
    let simulator = sim::Simulator::new(config, Box::new(sim::store::Memory))
        .map_err(|e| format!("cannot start the simulated site: {e}"))?;
    let options = {
        let mut built = sim::ServeOptions::default();
        built.latency = Duration::from_millis(args.simulator_latency_ms);
        built
    };
    let site = sim::serve(simulator, options)
        .await
        .map_err(|e| format!("cannot start the simulated site: {e}"))?;
    let client = Client::builder("simulated", auth)
        .endpoint(&site.url)
        .validate_with(profile.clone())
        .build()
        .map_err(|e| e.to_string())?;
    Ok((site, client, profile))
}

#[cfg(test)]
mod tests {
    use super::default_state_dir;
    use std::path::PathBuf;

    #[test]
    fn the_state_folder_follows_xdg_then_home() {
        let some = |s: &str| Some(std::ffi::OsString::from(s));
        assert_eq!(
            default_state_dir(some("/x/state"), some("/home/a")),
            Some(PathBuf::from("/x/state/wbxprov"))
        );
        assert_eq!(
            default_state_dir(None, some("/home/a")),
            Some(PathBuf::from("/home/a/.local/state/wbxprov"))
        );
        // A relative XDG_STATE_HOME is invalid (XDG Base Directory Specification).
        assert_eq!(
            default_state_dir(some("rel"), some("/home/a")),
            Some(PathBuf::from("/home/a/.local/state/wbxprov"))
        );
        assert_eq!(default_state_dir(None, None), None);
    }
}
