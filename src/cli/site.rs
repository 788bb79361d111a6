//! `wbxprov site inspect|export FILE`: a site profile, from a saved GetSite
//! response or a profile TOML.

use std::io::{self, Write};
use std::path::PathBuf;

use super::exit;
use wbxprov::site::SiteProfile;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Show a site profile: features, session types, services, password criteria, limits.
    Inspect {
        /// A saved GetSite response or a profile TOML.
        file: PathBuf,
        /// Print JSON with every feature of the catalogue.
        #[arg(long)]
        json: bool,
    },
    /// Print the profile as TOML to edit (every feature written out).
    Export {
        /// A saved GetSite response or a profile TOML.
        file: PathBuf,
    },
}

pub fn run(command: &Command, out: &mut impl Write) -> io::Result<u8> {
    let (Command::Inspect { file, .. } | Command::Export { file }) = command;
    let profile = match SiteProfile::load(file) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit::COULD_NOT_RUN);
        }
    };
    match command {
        Command::Inspect { json: true, .. } => {
            serde_json::to_writer_pretty(&mut *out, &profile.to_json())?;
            writeln!(out)?;
        }
        Command::Inspect { json: false, .. } => write_text(&profile, out)?,
        Command::Export { .. } => out.write_all(profile.to_toml().as_bytes())?,
    }
    Ok(exit::OK)
}

fn write_text(profile: &SiteProfile, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "site: {}",
        profile.site_name.as_deref().unwrap_or("(unnamed)")
    )?;
    if profile.control_hub_managed {
        writeln!(out, "managed in Control Hub")?;
    }
    writeln!(out, "features:")?;
    for (f, on) in profile.features() {
        let basis = match f.info().basis {
            wbxprov::schema::FeatureBasis::Documented => "",
            wbxprov::schema::FeatureBasis::Inferred => "  (inferred)",
        };
        writeln!(
            out,
            "  {:<26}{}{basis}",
            f.info().name,
            if on { "on" } else { "off" }
        )?;
    }
    writeln!(out, "session types:")?;
    for m in &profile.meeting_types {
        writeln!(
            out,
            "  {:<6}{:<10}{}",
            m.id,
            m.name.as_deref().unwrap_or("-"),
            m.service.as_deref().unwrap_or("")
        )?;
    }
    if let Some(c) = &profile.password_criteria {
        writeln!(
            out,
            "password criteria: {}",
            serde_json::to_string(c).expect("criteria serialize")
        )?;
    }
    if let Some(l) = &profile.limits {
        writeln!(
            out,
            "limits: {}",
            serde_json::to_string(l).expect("limits serialize")
        )?;
    }
    Ok(())
}
