//! `wbxprov decode FILE`: any saved XML API response, decoded and printed.

use std::io::{self, Write};
use std::path::PathBuf;

use serde_json::{Map, Value as Json, json};

use super::exit;
use crate::ops::{Answer, Operation, Updated};
use crate::xml::{ServiceError, decode};

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
}

pub fn run(args: &Args, out: &mut impl Write) -> io::Result<u8> {
    let bytes = match super::read_input(&args.file) {
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
    let detected = match named {
        Some(op) => Ok(Some(op)),
        None => Operation::detect(&bytes),
    };
    let decoded = detected.and_then(|op| match op {
        Some(op) => op.decode(&bytes).map(|r| (Some(op), r)),
        // A FAILURE of an unnamed operation: any body type reads the verdict.
        None => decode::<Updated>(&bytes).map(|r| {
            let r = crate::xml::Response {
                result: r.result.map(Answer::Updated),
                gsb_status: r.gsb_status,
                unknown_elements: r.unknown_elements,
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
    let op_json = operation.map_or(Json::Null, |o| Json::from(o.as_ref()));
    let (document, code) = match &response.result {
        Ok(answer) => {
            let mut doc = Map::new();
            doc.insert("operation".into(), op_json);
            let (key, content) = answer_json(answer);
            doc.insert(key.into(), content);
            doc.insert(
                "unknownElements".into(),
                Json::from(response.unknown_elements),
            );
            (Json::Object(doc), exit::OK)
        }
        Err(e) => (
            json!({"operation": op_json, "error": error_json(e)}),
            exit::SERVICE_FAILURE,
        ),
    };
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &document)?;
        writeln!(out)?;
    } else {
        write_text(out, "", &document)?;
    }
    Ok(code)
}

/// The key and JSON content of a decoded answer.
fn answer_json(answer: &Answer) -> (&'static str, Json) {
    let to = |v: Result<Json, serde_json::Error>| v.expect("answers serialize");
    match answer {
        Answer::User(user) => ("user", Json::Object(user.to_flat().to_json(false))),
        Answer::Created(c) => ("created", to(serde_json::to_value(c))),
        Answer::Updated(_) => ("updated", json!({})),
        Answer::Deleted(d) => ("deleted", to(serde_json::to_value(d))),
        Answer::UserPage(p) => ("page", to(serde_json::to_value(p))),
        Answer::SessionTicket(t) => ("session", to(serde_json::to_value(t))),
        Answer::Site(s) => ("site", to(serde_json::to_value(s))),
        Answer::MeetingTypes(m) => ("meetingTypeList", to(serde_json::to_value(m))),
    }
}

fn error_json(e: &ServiceError) -> Json {
    let f = e.failure();
    let mut error = json!({
        "exceptionID": f.exception_id,
        "reason": f.reason,
        "kind": f.kind,
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
