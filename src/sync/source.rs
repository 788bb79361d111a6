//! Person records from a source of truth: CSV (a header row), a JSON array of
//! objects, or JSON Lines. Records stream one at a time; each keeps its row
//! number (the CSV line, the array index or the JSONL line, counted from 1) so
//! that every problem can be traced back to it.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde_json::{Map, Value as Json};

/// One source record: its row and its fields. A CSV record has every
/// column of the header, an empty cell as null.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The record's row, for messages: the line number of a CSV (the header is line 1) or JSON
    /// Lines file.
    pub row: usize,
    /// The record's fields by name; an empty CSV cell is null.
    pub fields: Map<String, Json>,
}

/// Why a record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("row {row}: {message}")]
#[non_exhaustive]
pub struct RecordError {
    /// The row the error is in.
    pub row: usize,
    /// What is wrong.
    pub message: String,
}

/// Why a source could not be opened (a record that cannot be read is a
/// [`RecordError`] of its row instead).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The file's extension names no format this reader knows.
    #[error("{}: unknown source format (use .csv, .json or .jsonl)", path.display())]
    UnknownFormat {
        /// The file.
        path: std::path::PathBuf,
    },
    /// The file could not be opened.
    #[error("{}: {source}", path.display())]
    Open {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The CSV header row could not be read.
    #[error("CSV header: {0}")]
    CsvHeader(#[source] csv::Error),
    /// A column is named twice; its last value would win silently.
    #[error("CSV header: {name:?} appears twice (columns {first} and {second})")]
    DuplicateColumn {
        /// The column name.
        name: String,
        /// Its first column, counted from 1.
        first: usize,
        /// Its second column.
        second: usize,
    },
    /// A JSON source that does not parse.
    #[error("JSON source: {0}")]
    Json(#[source] serde_json::Error),
    /// A JSON source that is not an array (of objects).
    #[error("JSON source: expected an array of objects")]
    NotAnArray,
}

/// The formats a source may have, from the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header line (`.csv`).
    Csv,
    /// One JSON array of objects (`.json`).
    Json,
    /// One JSON object a line (`.jsonl`, `.ndjson`).
    JsonLines,
}

impl Format {
    /// The format a file name says (its extension), if any.
    pub fn of(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "jsonl" | "ndjson" => Some(Format::JsonLines),
            _ => None,
        }
    }
}

/// The records of a source, streamed.
pub type Records = Box<dyn Iterator<Item = Result<Record, RecordError>> + Send>;

/// Opens a source file; the format comes from its extension.
pub fn open(path: &Path) -> Result<Records, SourceError> {
    let format = Format::of(path).ok_or_else(|| SourceError::UnknownFormat {
        path: path.to_owned(),
    })?;
    let file = std::fs::File::open(path).map_err(|source| SourceError::Open {
        path: path.to_owned(),
        source,
    })?;
    read(Box::new(BufReader::new(file)), format)
}

/// Records from any reader.
pub fn read(reader: Box<dyn Read + Send>, format: Format) -> Result<Records, SourceError> {
    match format {
        Format::Csv => {
            let mut csv = csv::ReaderBuilder::new()
                .trim(csv::Trim::All)
                .flexible(false)
                .from_reader(reader);
            let headers: Vec<String> = csv
                .headers()
                .map_err(SourceError::CsvHeader)?
                .iter()
                .map(str::to_owned)
                .collect();
            refuse_duplicate_headers(&headers)?;
            Ok(Box::new(csv.into_records().enumerate().map(
                move |(i, r)| {
                    let row = i + 2;
                    let record = r.map_err(|e| RecordError {
                        row,
                        message: e.to_string(),
                    })?;
                    // An empty cell is a field of the source without a value
                    // for this person (null), not a missing field.
                    let fields = headers
                        .iter()
                        .zip(record.iter())
                        .map(|(h, v)| (h.clone(), cell(v)))
                        .collect();
                    Ok(Record { row, fields })
                },
            )))
        }
        Format::JsonLines => Ok(Box::new(
            BufReader::new(reader)
                .lines()
                .enumerate()
                .filter(|(_, l)| l.as_ref().map_or(true, |l| !l.trim().is_empty()))
                .map(|(i, line)| {
                    let row = i + 1;
                    let line = line.map_err(|e| RecordError {
                        row,
                        message: e.to_string(),
                    })?;
                    object(row, serde_json::from_str(&line))
                }),
        )),
        Format::Json => {
            // An array of objects is read whole: JSON arrays are for small sources,
            // JSON Lines for large ones.
            let value: Json = serde_json::from_reader(reader).map_err(SourceError::Json)?;
            let Json::Array(items) = value else {
                return Err(SourceError::NotAnArray);
            };
            Ok(Box::new(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| object(i + 1, Ok(item))),
            ))
        }
    }
}

fn cell(text: &str) -> Json {
    if text.is_empty() {
        Json::Null
    } else {
        Json::String(text.to_owned())
    }
}

/// A column named twice would have its last value win silently.
fn refuse_duplicate_headers(headers: &[String]) -> Result<(), SourceError> {
    let mut first: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, name) in headers.iter().enumerate() {
        if let Some(earlier) = first.insert(name, i + 1) {
            return Err(SourceError::DuplicateColumn {
                name: name.clone(),
                first: earlier,
                second: i + 1,
            });
        }
    }
    Ok(())
}

fn object(row: usize, parsed: serde_json::Result<Json>) -> Result<Record, RecordError> {
    match parsed {
        Ok(Json::Object(fields)) => Ok(Record { row, fields }),
        Ok(_) => Err(RecordError {
            row,
            message: "expected a JSON object".into(),
        }),
        Err(e) => Err(RecordError {
            row,
            message: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &'static str) -> Result<Records, SourceError> {
        read(Box::new(text.as_bytes()), Format::Csv)
    }

    /// Issue 15 item 11: a column named twice is refused (it used to take the
    /// last one silently).
    #[test]
    fn a_duplicate_csv_header_is_refused() {
        let err = csv("webExId,email,lastName,email\na,a@x.com,A,b@x.com\n")
            .err()
            .expect("refused");
        assert!(
            matches!(&err, SourceError::DuplicateColumn { name, first: 2, second: 4 } if name == "email"),
            "{err:?}"
        );
        let err = err.to_string();
        assert!(err.contains("\"email\" appears twice"), "{err}");
        assert!(err.contains("columns 2 and 4"), "{err}");
        assert_eq!(csv("webExId,email\na,a@x.com\n").unwrap().count(), 1);
    }

    /// An empty cell is a field the source has, without a value (null): the
    /// planner tells it from a column the source lacks.
    #[test]
    fn an_empty_cell_is_a_null_field_not_a_missing_one() {
        let record = csv("webExId,lastName\na,\n")
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(record.fields.get("lastName"), Some(&Json::Null));
        assert_eq!(
            record.fields.get("webExId"),
            Some(&Json::String("a".into()))
        );
    }
}
