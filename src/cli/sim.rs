//! `wbxprov sim serve`: the simulated site on a local port.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::exit;
use wbxprov::sim::{self, FaultSpec, ServeOptions, SimConfig, Simulator, store};
use wbxprov::site::SiteProfile;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Serve the XML API at http://ADDR/WBXService/XMLService until stopped.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (printed on the first line).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// The site: a GetSite response or a profile TOML (default: every feature on).
    #[arg(long, value_name = "PROFILE")]
    site: Option<PathBuf>,
    /// Keep users in this SQLite file across restarts (default: in memory).
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Delay every answer by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Fault probabilities, e.g. `500=0.05,drop=0.01,slow=0.1,ratelimit=0.02,slow-ms=2000`.
    #[arg(long, value_parser = parse_faults)]
    faults: Option<FaultSpec>,
    /// Seed of the fault generator (same seed, same faults).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Requests per minute before 000045 "API Rate Limit Reached".
    #[arg(long)]
    rate_limit: Option<u32>,
    /// Control Hub mode: answer every Nth identity API request 429 (Retry-After: 1).
    #[arg(long, value_name = "N")]
    identity_429_every: Option<u32>,
    /// Control Hub mode: model the site's Meetings licence (a person is a site
    /// user only while holding it; serves /v1/licenses and the userconfig
    /// session types). Holdings live in memory, not in --state.
    #[arg(long)]
    control_hub_licences: bool,
    /// With --control-hub-licences: answer every Nth licence PATCH 206.
    #[arg(long, value_name = "N")]
    licence_206_every: Option<u32>,
    /// On SIGTERM or SIGINT, stop accepting connections and give the requests
    /// in flight this many seconds to finish before exiting.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    shutdown_timeout: u64,
}

/// The exit code of a server stopped by a signal: 0 when every request in
/// flight was answered, else "could not run" (some were dropped), said on stderr.
pub(super) fn stopped(how: wbxprov::Stopped) -> u8 {
    match how {
        wbxprov::Stopped::DeadlinePassed => {
            tracing::warn!("requests still in flight at the shutdown deadline were dropped");
            exit::COULD_NOT_RUN
        }
        _ => exit::OK,
    }
}

/// `--faults`, read by the library's own parser.
fn parse_faults(text: &str) -> Result<FaultSpec, wbxprov::sim::FaultSpecError> {
    text.parse()
}

pub fn run(command: &Command, out: &mut impl Write) -> io::Result<u8> {
    let Command::Serve(args) = command;
    let profile = match &args.site {
        Some(path) => match SiteProfile::load(path) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(exit::COULD_NOT_RUN);
            }
        },
        None => sim::default_profile(),
    };
    let store: Box<dyn store::Store> = match &args.state {
        Some(path) => match store::Sqlite::open(path) {
            Ok(s) => Box::new(s),
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return Ok(exit::COULD_NOT_RUN);
            }
        },
        None => Box::new(store::Memory),
    };
    let admin = match &args.site {
        Some(path) => match sim::SimulatorAdmin::from_profile_file(path) {
            Ok(admin) => admin,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(exit::COULD_NOT_RUN);
            }
        },
        None => None,
    };
    let password_from_profile = admin.is_some();
    let mut config = SimConfig::with_admin(profile, admin);
    let default_password = config.admin_password.expose() == sim::DEFAULT_ADMIN_PASSWORD;
    config.requests_per_minute = args.rate_limit;
    config.identity_429_every = args.identity_429_every;
    config.control_hub_licences = args.control_hub_licences;
    config.licence_206_every = args.licence_206_every;
    let password_from_env = std::env::var_os("WBXPROV_SIM_ADMIN_PASSWORD").is_some();

    let admin = config.admin_id.clone();
    let simulator = match Simulator::new(config, store) {
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
        let signal = wbxprov::StopSignal::install()?;
        let options = {
let mut built = ServeOptions::default();
built.addr = args.addr;
built.latency = Duration::from_millis(args.latency_ms);
built.faults = args.faults.unwrap_or_default();
built.seed = args.seed;
built
};
        let handle = match sim::serve(simulator, options).await {
            Ok(h) => h,
            Err(e) => {
                eprintln!("error: cannot listen on {}: {e}", args.addr);
                return Ok(exit::COULD_NOT_RUN);
            }
        };
        writeln!(out, "listening on {}", handle.url)?;
        // The rest is information: a reader that went away must not stop the server.
        let admin_line = if password_from_env {
            format!("admin: {admin} (password from WBXPROV_SIM_ADMIN_PASSWORD)")
        } else if password_from_profile && !default_password {
            format!("admin: {admin} (password from the profile's [simulator])")
        } else {
            format!(
                "admin: {admin} / password: {} (the documented default; set WBXPROV_SIM_ADMIN_ID and WBXPROV_SIM_ADMIN_PASSWORD to change)",
                sim::DEFAULT_ADMIN_PASSWORD
            )
        };
        let _ = writeln!(out, "{admin_line}");
        if let Some(hub) = &handle.simulator.config().profile.control_hub {
            let _ = writeln!(
                out,
                "identity API: {}/{}/v2 (Control Hub mode; token {} unless WBXPROV_SIM_IDENTITY_TOKEN is set)",
                handle.identity_url,
                hub.org_id,
                sim::DEFAULT_IDENTITY_TOKEN
            );
            if handle.simulator.config().control_hub_licences {
                let _ = writeln!(
                    out,
                    "licences API: {} (the licence of {}; same token)",
                    handle.rest_url,
                    handle.simulator.site_url()
                );
            }
        }
        let _ = writeln!(out, "users: {}", handle.simulator.user_count());
        let _ = out.flush();
        let deadline = Duration::from_secs(args.shutdown_timeout);
        Ok(stopped(handle.drain_on(signal, deadline).await))
    })
}
