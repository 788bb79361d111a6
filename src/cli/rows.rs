//! Users from CSV: a header row of flat attribute names (`wbxprov attrs`), one
//! user per row. Empty cells are "not given"; list attributes (`meetingTypes`)
//! separate their items with `;`.

use serde_json::{Map, Value as Json};

use wbxprov::schema::{FlatKey, FlatUser};

/// One row that became a user, or why it did not.
pub type Row = Result<FlatUser, String>;

/// The users of a CSV text, with the 1-based line of each row.
pub fn read_csv(text: &str) -> Result<Vec<(usize, Row)>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let keys: Vec<FlatKey> = headers
        .iter()
        .map(|h| h.parse::<FlatKey>().map_err(|e| format!("header: {e}")))
        .collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                rows.push((line, Err(e.to_string())));
                continue;
            }
        };
        let mut object = Map::new();
        for (key, cell) in keys.iter().zip(record.iter()) {
            if cell.is_empty() {
                continue;
            }
            let json = if key.attribute.info().value_type.is_list() {
                Json::Array(
                    cell.split(';')
                        .map(|item| Json::String(item.trim().to_owned()))
                        .collect(),
                )
            } else {
                Json::String(cell.to_owned())
            };
            object.insert(key.to_string(), json);
        }
        let row = FlatUser::from_json(&object).map_err(|errors| {
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        });
        rows.push((line, row));
    }
    Ok(rows)
}
