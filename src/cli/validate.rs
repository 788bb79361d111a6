//! `wbxprov validate --site PROFILE --user USER.json`: every problem of a change
//! on a site, before any call.

use std::io::{self, Write};
use std::path::PathBuf;

use super::exit;
use wbxprov::site::SiteProfile;
use wbxprov::validate::{Operation, control_hub, validate};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The site: a saved GetSite response or a profile TOML.
    #[arg(long, value_name = "PROFILE")]
    site: PathBuf,
    /// The change as a flat JSON object of catalogue names (`wbxprov attrs`).
    #[arg(long)]
    user: PathBuf,
    /// Whether the change creates the user or updates it.
    #[arg(long, default_value = "create", value_parser = ["create", "update"])]
    op: String,
    /// Print a JSON array of {"attribute", "rule", "message", "fix"}.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args, out: &mut impl Write) -> io::Result<u8> {
    let profile = match SiteProfile::load(&args.site) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit::COULD_NOT_RUN);
        }
    };
    let change = match super::read_flat_user(&args.user) {
        Ok(c) => c,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(exit::COULD_NOT_RUN);
        }
    };
    let operation: Operation = args.op.parse().expect("clap checked the value");
    // Control Hub mode: the person's half goes to the identity API, the rest
    // to SetUser, whatever the operation.
    let violations = match &profile.control_hub {
        Some(_) => control_hub::validate_split(&change, &profile),
        // The XML API on a Control-Hub-managed site: what it would ignore.
        None => {
            let mut found = validate(&change, operation, &profile);
            found.extend(control_hub::xml_rules(&change, operation, &profile));
            // In wire order, as `validate` lists them (a stable sort).
            found.sort_by_key(|v| v.attribute);
            found
        }
    };
    if let Some(hub) = profile.control_hub.as_ref().filter(|_| !args.json) {
        let (person, meetings) = control_hub::split(&change);
        let names = |u: &wbxprov::schema::FlatUser| {
            let n: Vec<String> = u.iter().map(|(k, _)| k.to_string()).collect();
            if n.is_empty() {
                "-".to_owned()
            } else {
                n.join(", ")
            }
        };
        writeln!(out, "Control Hub mode (organisation {})", hub.org_id)?;
        writeln!(out, "  to the Webex identity (SCIM 2): {}", names(&person))?;
        writeln!(
            out,
            "  to the Meetings site (SetUser): {}\n",
            names(&meetings)
        )?;
    }
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &violations)?;
        writeln!(out)?;
    } else if violations.is_empty() {
        writeln!(out, "valid: {} attribute(s) checked", change.len())?;
    } else {
        let width = violations
            .iter()
            .map(|v| v.attribute.to_string().len())
            .max()
            .unwrap_or(0);
        for v in &violations {
            writeln!(
                out,
                "{:<width$}  {:<18}{}",
                v.attribute.to_string(),
                v.rule.as_ref(),
                v.message
            )?;
        }
        writeln!(out, "\n{} violation(s)", violations.len())?;
    }
    Ok(if violations.is_empty() {
        exit::OK
    } else {
        exit::INVALID
    })
}
