//! `wbxprov demo`: the whole job against an in-process simulated site, on any
//! machine: provision users from CSV (validated against the site first),
//! update, deactivate and reactivate some, show a change the site refuses
//! before any call, and print the report.

use std::io::{self, Write};
use std::path::PathBuf;

use super::exit;
use super::rows::read_csv;
use wbxprov::client::{Client, ErrorKind};
use wbxprov::ops::LstsummaryUser;
use wbxprov::schema::{Attribute, FlatKey, FlatUser, Value};
use wbxprov::sim;
use wbxprov::site::SiteProfile;

/// The users provisioned when `--users` is not given.
const DEMO_USERS: &str = include_str!("../../fixtures/demo-users.csv");

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Users to provision, as CSV with a header of flat attribute names
    /// (default: fixtures/demo-users.csv, built in).
    #[arg(long, value_name = "USERS.csv")]
    users: Option<PathBuf>,
}

/// The demo site: every feature on except two, so that the report shows the
/// validator refusing what the site does not allow.
fn demo_profile() -> SiteProfile {
    let mut profile = sim::default_profile();
    profile.site_name = Some("demo".into());
    profile.set_feature(wbxprov::Feature::OtherTeleconferencing, false);
    profile.set_feature(wbxprov::Feature::TrackingCodes, false);
    profile
}

pub fn run(args: &Args, out: &mut impl Write) -> io::Result<u8> {
    let csv = match &args.users {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return Ok(exit::COULD_NOT_RUN);
            }
        },
        None => DEMO_USERS.to_owned(),
    };
    let rows = match read_csv(&csv) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: users CSV: {e}");
            return Ok(exit::COULD_NOT_RUN);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let site = match sim::start(demo_profile()).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: cannot start the simulated site: {e}");
                return Ok(exit::COULD_NOT_RUN);
            }
        };
        let auth = sim::default_admin();
        let mut client = match Client::builder("demo", auth).endpoint(&site.url).build() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(exit::COULD_NOT_RUN);
            }
        };
        writeln!(out, "wbxprov demo: a simulated Webex Meetings site at {}", site.url)?;
        let profile = match client.get_site().await {
            Ok(s) => SiteProfile::from_site(&s),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(exit::COULD_NOT_RUN);
            }
        };
        let off: Vec<&str> = profile
            .features()
            .filter(|(_, on)| !on)
            .map(|(f, _)| f.info().name)
            .collect();
        writeln!(out, "site features off: {}", off.join(", "))?;
        client.validate_with(profile);

        writeln!(out, "\n1. create the users of the CSV (each validated first)")?;
        let (mut created, mut refused, mut failed) = (0, 0, 0);
        let mut ids = Vec::new();
        for (line, row) in rows {
            let user = match row {
                Ok(u) => u,
                Err(e) => {
                    writeln!(out, "   line {line}: {e}")?;
                    refused += 1;
                    continue;
                }
            };
            let id = match user.get(&FlatKey::new(Attribute::WebExId)) {
                Some(Value::Text(id)) => id.clone(),
                _ => format!("(line {line})"),
            };
            match client.create_user(user).await {
                Ok(c) => {
                    created += 1;
                    ids.push(id.clone());
                    writeln!(out, "   created  {id:<10} userId {}", c.user_id)?;
                }
                Err(e) if matches!(e.kind, ErrorKind::Invalid(_)) => {
                    refused += 1;
                    writeln!(out, "   refused  {e}")?;
                }
                Err(e) => {
                    failed += 1;
                    writeln!(out, "   failed   {e}")?;
                }
            }
        }

        writeln!(out, "\n2. update, deactivate, reactivate")?;
        let mut changed = 0;
        for id in ids.iter().take(3) {
            let change: FlatUser = [
                (FlatKey::new(Attribute::TimeZoneID), Value::Int(21)),
                (FlatKey::new(Attribute::PrivilegeRecordingEditor), Value::Bool(true)),
            ]
            .into_iter()
            .collect();
            match client.set_user(id, change).await {
                Ok(_) => {
                    changed += 1;
                    writeln!(out, "   updated  {id} (timeZoneID=21, privilegeRecordingEditor=true)")?;
                }
                Err(e) => {
                    failed += 1;
                    writeln!(out, "   failed   {e}")?;
                }
            }
        }
        let leaving: Vec<String> = ids.iter().rev().take(2).cloned().collect();
        if !leaving.is_empty() {
            match client.deactivate(&leaving).await {
                Ok(d) => {
                    for s in d.users {
                        writeln!(out, "   {:<8} {}", if s.is_success() { "deactivated" } else { "FAILED" }, s.web_ex_id)?;
                    }
                }
                Err(e) => writeln!(out, "   failed   {e}")?,
            }
            match client.reactivate(&leaving[0]).await {
                Ok(_) => writeln!(out, "   reactivated {}", leaving[0])?,
                Err(e) => writeln!(out, "   failed   {e}")?,
            }
        }

        writeln!(out, "\n3. a change the site does not allow is refused before any call")?;
        if let Some(id) = ids.first() {
            let change: FlatUser = [
                (FlatKey::new(Attribute::PrivilegeOtherTelephony), Value::Bool(true)),
                (FlatKey::new(Attribute::TrackingTrackingCode1), Value::Text("Sales".into())),
            ]
            .into_iter()
            .collect();
            match client.set_user(id, change).await {
                Err(e) => {
                    // Counted by where it stopped, like the creates of step 1.
                    if matches!(e.kind, ErrorKind::Invalid(_)) {
                        refused += 1;
                    } else {
                        failed += 1;
                    }
                    for line in e.to_string().lines() {
                        writeln!(out, "   {line}")?;
                    }
                }
                Ok(_) => writeln!(out, "   (unexpectedly accepted)")?,
            }
        }

        writeln!(out, "\n4. the site now")?;
        match client.list_users(&LstsummaryUser::default()).await {
            Ok(page) => {
                for u in &page.users {
                    writeln!(out, "   {}", super::summary_line(u, 9))?;
                }
            }
            Err(e) => writeln!(out, "   failed   {e}")?,
        }
        writeln!(
            out,
            "\nreport: {created} created, {changed} updated, {refused} refused before any call, {failed} failed at the service"
        )?;
        site.stop().await;
        Ok(if failed == 0 { exit::OK } else { exit::SOME_FAILED })
    })
}
