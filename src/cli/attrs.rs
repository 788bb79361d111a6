//! `wbxprov attrs`: the catalogue as a table, or as JSON for platforms that build
//! their attribute schema from it.

use std::io::{self, Write};

use serde_json::json;

use wbxprov::schema::{ATTRIBUTES, AttributeInfo, ScalarType};
use wbxprov::site::SiteProfile;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print a JSON array of objects (name, path, type, ops, feature, description, …) instead of a table.
    #[arg(long)]
    json: bool,
    /// Mark each attribute allowed or not on this site (a saved GetSite response or a profile TOML).
    #[arg(long, value_name = "PROFILE")]
    site: Option<std::path::PathBuf>,
    /// Print every column in full (PATH, whole types and descriptions) however wide.
    #[arg(long)]
    wide: bool,
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
        let width = (!args.wide).then(terminal_width);
        write_table(out, profile.as_ref(), width)?;
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

/// The table's columns, in `--wide` order.
const HEADER: [&str; 6] = ["NAME", "PATH", "TYPE", "OPS", "FEATURE", "DESCRIPTION"];

/// The terminal's width: `$COLUMNS` when set to a number, else 100.
fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or(100)
}

fn table_row(a: &AttributeInfo, profile: Option<&SiteProfile>) -> [String; 6] {
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
}

/// Every column in full, each as wide as its widest cell.
fn write_wide(out: &mut impl Write, rows: &[[String; 6]]) -> io::Result<()> {
    let mut widths = HEADER.map(str::len);
    for row in rows {
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
    line(HEADER, out)?;
    for row in rows {
        line(row.each_ref().map(String::as_str), out)?;
    }
    Ok(())
}

/// The most the fitted table's TYPE and FEATURE columns take before a cell is
/// cut with `…`, and the least its DESCRIPTION is given before NAME narrows.
const TYPE_MAX: usize = 14;
const FEATURE_MAX: usize = 20;
const DESCRIPTION_MIN: usize = 12;
/// NAME's widest; a longer name gets a line of its own, never cut.
const NAME_MAX: usize = 32;

/// NAME, TYPE, OPS (as initials), FEATURE and as much DESCRIPTION as fits in
/// `width` columns.
fn write_fitted(out: &mut impl Write, rows: &[[String; 6]], width: usize) -> io::Result<()> {
    let widest = |i: usize, max: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([HEADER[i].len()])
            .max()
            .unwrap_or(0)
            .min(max)
    };
    let (kind, ops, feature) = (widest(2, TYPE_MAX), "OPS".len(), widest(4, FEATURE_MAX));
    let others = kind + ops + feature + 4 * 2;
    let name = widest(0, NAME_MAX).min(width.saturating_sub(others + DESCRIPTION_MIN).max(8));
    let description = width.saturating_sub(name + others);
    let line = |cells: [&str; 6], out: &mut dyn Write| -> io::Result<()> {
        if cells[0].chars().count() > name {
            writeln!(out, "{}", cells[0])?;
        }
        let shown_name = if cells[0].chars().count() > name {
            ""
        } else {
            cells[0]
        };
        let text = format!(
            "{shown_name:<name$}  {:<kind$}  {:<ops$}  {:<feature$}  {}",
            cut(cells[2], kind),
            initials(cells[3]),
            cut(cells[4], feature),
            cut(cells[5], description),
        );
        writeln!(out, "{}", text.trim_end())
    };
    line(HEADER, out)?;
    for row in rows {
        line(row.each_ref().map(String::as_str), out)?;
    }
    writeln!(
        out,
        "\nOPS: c create, s set, g get. `--wide` for PATH and every cell in full."
    )
}

/// `create,set,get` as `csg`; the header stays as it is.
fn initials(ops: &str) -> String {
    if ops == "OPS" {
        return ops.to_owned();
    }
    ops.split(',').filter_map(|op| op.chars().next()).collect()
}

/// `text` in at most `width` characters, cut with `…` when longer.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let kept: String = text.chars().take(width.saturating_sub(1)).collect();
    if width == 0 {
        kept
    } else {
        format!("{kept}…")
    }
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

fn write_table(
    out: &mut impl Write,
    profile: Option<&SiteProfile>,
    fit: Option<usize>,
) -> io::Result<()> {
    let rows: Vec<[String; 6]> = ATTRIBUTES.iter().map(|a| table_row(a, profile)).collect();
    match fit {
        None => write_wide(out, &rows)?,
        Some(width) => write_fitted(out, &rows, width)?,
    }
    writeln!(
        out,
        "\n{} attributes.\n[1-N]: a repeated group; address later occurrences as name[2], name[3].",
        rows.len()
    )?;
    if let Some(p) = profile {
        let blocked = ATTRIBUTES
            .iter()
            .filter(|a| !p.features_off(a).is_empty())
            .count();
        writeln!(
            out,
            "On this site {blocked} attributes take only their default value\n(a feature is OFF)."
        )?;
    }
    Ok(())
}
