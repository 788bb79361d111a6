//! `wbxprov attrs`: the catalogue as a table, or as JSON for platforms that build
//! their attribute schema from it.

use std::io::{self, Write};

use serde_json::json;

use crate::schema::{ATTRIBUTES, AttributeInfo, ScalarType};
use crate::site::SiteProfile;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print a JSON array of objects (name, path, type, ops, feature, description, …) instead of a table.
    #[arg(long)]
    json: bool,
    /// Mark each attribute allowed or not on this site (a saved GetSite response or a profile TOML).
    #[arg(long, value_name = "PROFILE")]
    site: Option<std::path::PathBuf>,
}

pub fn run(args: &Args, out: &mut impl Write) -> io::Result<u8> {
    let profile = match &args.site {
        None => None,
        Some(path) => match SiteProfile::load(path) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(super::exit::COULD_NOT_RUN);
            }
        },
    };
    if args.json {
        let all: Vec<_> = ATTRIBUTES
            .iter()
            .map(|a| {
                let mut row = to_json(a);
                if let Some(p) = &profile {
                    let off: Vec<&str> = p.features_off(a).iter().map(|f| f.info().name).collect();
                    row["allowed"] = json!(off.is_empty());
                    row["featuresOff"] = json!(off);
                }
                row
            })
            .collect();
        serde_json::to_writer_pretty(&mut *out, &all)?;
        writeln!(out)?;
    } else {
        write_table(out, profile.as_ref())?;
    }
    Ok(super::exit::OK)
}

/// One catalogue row as JSON: the keys are stable, for machines.
pub fn to_json(a: &AttributeInfo) -> serde_json::Value {
    let mut obj = json!({
        "name": a.name,
        "path": a.path,
        "type": a.value_type.to_string(),
        "ops": a.ops.names(),
        "feature": a.gate.first().map(|f| f.as_ref()),
        "requires": a.gate.iter().map(|f| f.as_ref()).collect::<Vec<_>>(),
        "description": a.description,
        "secret": a.secret,
        "required": a.required,
        "identity": a.identity,
        "unique": a.unique,
        "repeat": a.repeat.map(|r| r.max),
        "source": a.source,
    });
    if let ScalarType::Enum { values } = a.value_type.scalar() {
        obj["values"] = json!(values);
    }
    obj
}

/// Type column: enumerations show their values while they stay short.
fn type_cell(a: &AttributeInfo) -> String {
    let base = a.value_type.to_string();
    match a.value_type.scalar() {
        ScalarType::Enum { values } => {
            let joined = values.join("|");
            let shown = if joined.len() <= 48 {
                joined
            } else {
                format!("{} values", values.len())
            };
            base.replace("enum", &format!("enum({shown})"))
        }
        _ => base,
    }
}

fn write_table(out: &mut impl Write, profile: Option<&SiteProfile>) -> io::Result<()> {
    let header = ["NAME", "PATH", "TYPE", "OPS", "FEATURE", "DESCRIPTION"];
    let rows: Vec<[String; 6]> = ATTRIBUTES
        .iter()
        .map(|a| {
            let site_cell = |gate: String| match profile.map(|p| p.features_off(a)) {
                None => gate,
                Some(off) if off.is_empty() => format!("{gate} (on)"),
                Some(off) => {
                    let names: Vec<&str> = off.iter().map(|f| f.info().name).collect();
                    format!("{gate} (OFF: {})", names.join("+"))
                }
            };
            let gate: Vec<&str> = a.gate.iter().map(|f| f.as_ref()).collect();
            let mut name = a.name.to_owned();
            if let Some(r) = a.repeat {
                name.push_str(&format!("[1-{}]", r.max));
            }
            [
                name,
                a.path.to_owned(),
                type_cell(a),
                a.ops.names().join(","),
                if gate.is_empty() {
                    "-".into()
                } else {
                    site_cell(gate.join("+"))
                },
                a.description.to_owned(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 6], out: &mut dyn Write| -> io::Result<()> {
        for (i, cell) in cells.iter().enumerate().take(5) {
            write!(out, "{cell:<width$}  ", width = widths[i])?;
        }
        writeln!(out, "{}", cells[5])
    };
    line(header, out)?;
    for row in &rows {
        line(row.each_ref().map(String::as_str), out)?;
    }
    writeln!(
        out,
        "\n{} attributes. [1-N]: a repeated group; address later occurrences as name[2], name[3].",
        rows.len()
    )?;
    if let Some(p) = profile {
        let blocked = ATTRIBUTES
            .iter()
            .filter(|a| !p.features_off(a).is_empty())
            .count();
        writeln!(
            out,
            "On this site {blocked} attributes take only their default value (a feature is OFF)."
        )?;
    }
    Ok(())
}
