//! Generator for `src/schema/generated.rs`, wbxprov's typed view of the attribute
//! catalogue in `schema/`.
//!
//! The catalogue is the single source of truth: the `Attribute` enum, the metadata
//! table, the site `Feature` enum, the time-zone list (with its IANA zones), the
//! language and locale translations and the typed `User` model are
//! all derived from it here. Regenerate with `cargo run -p wbxprov-codegen`; the
//! test `tests/codegen_fresh.rs` of the main crate fails while the checked-in file
//! is stale.

#![warn(missing_docs)]

mod catalogue;
mod render;
mod zones;

use std::path::Path;

pub use catalogue::{Catalogue, SchemaError};

/// Where the generated module lives, relative to the repository root.
pub const GENERATED_PATH: &str = "src/schema/generated.rs";

/// Generates the module from the four catalogue tables given as text.
pub fn generate_from(
    attributes: &str,
    features: &str,
    time_zones: &str,
    languages: &str,
) -> Result<String, SchemaError> {
    let catalogue = Catalogue::parse(attributes, features, time_zones, languages)?;
    render::render(&catalogue).map_err(|message| SchemaError {
        file: catalogue::ATTRIBUTES_FILE,
        line: 0,
        message,
    })
}

/// Generates the module from the tables in `schema_dir`.
pub fn generate(schema_dir: &Path) -> Result<String, Box<dyn std::error::Error>> {
    let read = |name: &str| {
        std::fs::read_to_string(schema_dir.join(name))
            .map_err(|e| format!("{}: {e}", schema_dir.join(name).display()))
    };
    Ok(generate_from(
        &read(catalogue::ATTRIBUTES_FILE)?,
        &read(catalogue::FEATURES_FILE)?,
        &read(catalogue::TIME_ZONES_FILE)?,
        &read(catalogue::LANGUAGES_FILE)?,
    )?)
}
