//! `wbxprov decode FILE`: any saved XML API response, decoded and printed.
//!
//! Bounded like every response: at most the decoder's size limit is read, and
//! the answer is printed straight from its typed value (a page of 100,000
//! users is never copied into a JSON tree), so memory stays within about
//! twice the input.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Value as Json, json};

use super::exit;
use wbxprov::ops::{Answer, Operation, Updated, UserPage};
use wbxprov::xml::{DecodeError, Limits, Response, ServiceError, decode};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The saved response (`-` reads standard input).
    file: PathBuf,
    /// Print JSON: `{"operation": …, "user": {…}}` for GetUser, the decoded
    /// content under a key of its own for other operations, `{"operation": …,
    /// "error": {…}}` for a FAILURE.
    #[arg(long)]
    json: bool,
    /// The operation that produced the response, when detecting it from the body
    /// is not enough (a FAILURE body is empty; 000015 is an empty page only for lists).
    #[arg(long, value_parser = super::operation_parser(), ignore_case = true)]
    operation: Option<String>,
    /// Also list the names of the elements no decoder read (`unknownNames`:
    /// local names; for GetSite, paths below `siteInstance`).
    #[arg(long)]
    unknown: bool,
}

pub fn run(args: &Args, out: &mut impl Write) -> io::Result<u8> {
    let bytes = match super::read_capped(&args.file, Limits::default().max_bytes) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {}: {e}", args.file.display());
            return Ok(exit::COULD_NOT_RUN);
        }
    };
    let named = args
        .operation
        .as_deref()
        .map(|o| o.parse::<Operation>().expect("clap checked the name"));
    let detected = match (named, Operation::detect(&bytes)) {
        // A body of an operation wbxprov does not speak is no GetUser even when
        // named one: decoding it would print an empty user.
        (_, Err(e @ DecodeError::UnknownOperation(_))) => Err(e),
        (Some(op), _) => Ok(Some(op)),
        (None, detected) => detected,
    };
    let decoded = detected.and_then(|op| match op {
        Some(op) => op.decode(&bytes).map(|r| (Some(op), r)),
        // A FAILURE of an unnamed operation: any body type reads the verdict.
        None => decode::<Updated>(&bytes).map(|r| {
            let r = Response {
                result: r.result.map(Answer::Updated),
                gsb_status: r.gsb_status,
                unknown_elements: r.unknown_elements,
                unknown_names: r.unknown_names,
            };
            (None, r)
        }),
    });
    let (operation, response) = match decoded {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {}: {e}", args.file.display());
            return Ok(exit::COULD_NOT_RUN);
        }
    };
    drop(bytes);
    let mut out = BufWriter::new(out);
    let code = print(&mut out, args, operation, &response)?;
    out.flush()?;
    Ok(code)
}

/// Prints a decoded response; the exit code says whether it was a FAILURE.
fn print(
    out: &mut impl Write,
    args: &Args,
    operation: Option<Operation>,
    response: &Response<Answer>,
) -> io::Result<u8> {
    let json = args.json;
    let op = operation.as_ref().map(AsRef::<str>::as_ref);
    let answer = match &response.result {
        Ok(answer) => answer,
        Err(e) => {
            let document = json!({"operation": op, "error": error_json(e)});
            if json {
                serde_json::to_writer_pretty(&mut *out, &document)?;
                writeln!(out)?;
            } else {
                write_text(out, "", &document)?;
            }
            return Ok(exit::SERVICE_FAILURE);
        }
    };
    let document = Document {
        operation: op,
        answer,
        unknown_elements: response.unknown_elements,
        unknown_names: args.unknown.then_some(response.unknown_names.as_slice()),
    };
    if json {
        serde_json::to_writer_pretty(&mut *out, &document)?;
        writeln!(out)?;
    } else {
        document.write_text(out)?;
    }
    Ok(exit::OK)
}

/// `{"operation": …, <key>: <content>, "unknownElements": n}` (plus
/// `"unknownNames": […]` with `--unknown`), serialized straight from the typed answer.
struct Document<'a> {
    operation: Option<&'a str>,
    answer: &'a Answer,
    unknown_elements: u32,
    unknown_names: Option<&'a [String]>,
}

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("operation", &self.operation)?;
        map.serialize_entry(key(self.answer), &Content(self.answer))?;
        map.serialize_entry("unknownElements", &self.unknown_elements)?;
        if let Some(names) = self.unknown_names {
            map.serialize_entry("unknownNames", names)?;
        }
        map.end()
    }
}

impl Document<'_> {
    /// `key.sub: value` lines; a page one user at a time.
    fn write_text(&self, out: &mut impl Write) -> io::Result<()> {
        write_text(out, "operation", &json!(self.operation))?;
        match self.answer {
            Answer::UserPage(page) => write_page_text(out, page)?,
            other => {
                write_text(out, key(other), &to_json(&Content(other))?)?;
            }
        }
        write_text(out, "unknownElements", &json!(self.unknown_elements))?;
        match self.unknown_names {
            Some(names) => write_text(out, "unknownNames", &json!(names)),
            None => Ok(()),
        }
    }
}

fn write_page_text(out: &mut impl Write, page: &UserPage) -> io::Result<()> {
    if page.users.is_empty() {
        write_text(out, "page.users", &json!([]))?;
    }
    for (i, user) in page.users.iter().enumerate() {
        write_text(out, &format!("page.users[{}]", i + 1), &to_json(user)?)?;
    }
    write_text(
        out,
        "page.matchingRecords",
        &to_json(&page.matching_records)?,
    )
}

fn to_json(value: &impl Serialize) -> io::Result<Json> {
    serde_json::to_value(value).map_err(io::Error::other)
}

/// The key a decoded answer goes under.
fn key(answer: &Answer) -> &'static str {
    match answer {
        Answer::User(_) => "user",
        Answer::Created(_) => "created",
        Answer::Updated(_) => "updated",
        Answer::Deleted(_) => "deleted",
        Answer::UserPage(_) => "page",
        Answer::SessionTicket(_) => "session",
        Answer::Site(_) => "site",
        Answer::MeetingTypes(_) => "meetingTypeList",
    }
}

/// The content of a decoded answer, as JSON.
struct Content<'a>(&'a Answer);

impl Serialize for Content<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Answer::User(user) => user.to_flat().to_json(false).serialize(s),
            Answer::Created(c) => c.serialize(s),
            Answer::Updated(_) => s.serialize_map(Some(0))?.end(),
            Answer::Deleted(d) => d.serialize(s),
            Answer::UserPage(p) => p.serialize(s),
            Answer::SessionTicket(t) => t.serialize(s),
            Answer::Site(site) => site.serialize(s),
            Answer::MeetingTypes(m) => m.serialize(s),
        }
    }
}

fn error_json(e: &ServiceError) -> Json {
    let f = e.failure();
    let mut error = json!({
        "exceptionID": f.exception_id,
        "reason": f.reason,
        "kind": f.kind,
        "gsbStatus": f.gsb_status,
    });
    if !f.sub_errors.is_empty() {
        error["subErrors"] = serde_json::to_value(&f.sub_errors).expect("sub-errors serialize");
    }
    if let Some(v) = &f.value {
        error["value"] = Json::from(v.as_str());
    }
    if let Some(after) = e.retry_after() {
        error["retryAfterSeconds"] = Json::from(after.as_secs());
    }
    error
}

/// `key.sub: value` lines, for people.
fn write_text(out: &mut impl Write, prefix: &str, json: &Json) -> io::Result<()> {
    match json {
        Json::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                write_text(out, &key, v)?;
            }
            Ok(())
        }
        Json::Array(items) if items.iter().any(|i| i.is_object()) => {
            for (i, item) in items.iter().enumerate() {
                write_text(out, &format!("{prefix}[{}]", i + 1), item)?;
            }
            Ok(())
        }
        Json::String(s) => writeln!(out, "{prefix}: {s}"),
        Json::Null => writeln!(out, "{prefix}: -"),
        other => writeln!(out, "{prefix}: {other}"),
    }
}
