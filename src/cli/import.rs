//! `wbxprov import --out FILE`: every site user, page by page (500 at a time,
//! GetUser for each, concurrently), written as it arrives: constant memory
//! whatever the site's size.

use std::collections::VecDeque;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::connect::Connection;
use super::exit;
use wbxprov::client::Client;
use wbxprov::ops::LstsummaryUser;
use wbxprov::schema::{ATTRIBUTES, FlatKey, User};
use wbxprov::sync::source::Format;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write: .csv, .json or .jsonl.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Only these attributes, comma-separated (default: every readable one).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    attrs: Vec<String>,
    /// GetUser calls in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Answer from the exchanges recorded in DIR.
    #[arg(long, value_name = "DIR")]
    replay: Option<PathBuf>,
}

pub fn run(args: &Args, out: &mut impl Write) -> io::Result<u8> {
    let Some(format) = Format::of(&args.out) else {
        eprintln!("error: {}: use .csv, .json or .jsonl", args.out.display());
        return Ok(exit::COULD_NOT_RUN);
    };
    let keys: Vec<FlatKey> = if args.attrs.is_empty() {
        ATTRIBUTES
            .iter()
            .filter(|a| a.ops.get)
            .flat_map(|a| {
                (0..a.repeat.map_or(1, |r| r.max)).map(|s| FlatKey::with_slot(a.attribute, s))
            })
            .collect()
    } else {
        match args.attrs.iter().map(|a| a.parse::<FlatKey>()).collect() {
            Ok(k) => k,
            Err(e) => {
                eprintln!("error: --attrs: {e}");
                return Ok(exit::COULD_NOT_RUN);
            }
        }
    };
    let connection = Connection {
        record: None,
        replay: args.replay.as_deref(),
        site: None,
    };
    let client = match connection.client() {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit::COULD_NOT_RUN);
        }
    };
    // An export holds user data: owner-only.
    let file = match wbxprov::private_file::create(&args.out) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {}: {e}", args.out.display());
            return Ok(exit::COULD_NOT_RUN);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut writer = Writer::new(BufWriter::new(file), format, &keys)?;
    match runtime.block_on(export(&client, &mut writer, args.concurrency)) {
        Ok(n) => {
            writer.finish()?;
            writeln!(out, "exported {n} user(s) to {}", args.out.display())?;
            Ok(exit::OK)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(exit::COULD_NOT_RUN)
        }
    }
}

/// Every user, page by page: GetUser for each user of a page with at most
/// `concurrency` calls in flight, each user written as soon as it and those
/// before it are read. Memory holds one page of summaries and `concurrency`
/// users, whatever the site's size (issue 21).
async fn export(
    client: &Arc<Client>,
    writer: &mut Writer<impl Write>,
    concurrency: usize,
) -> Result<usize, String> {
    let mut pages = client.user_pages(&LstsummaryUser::default(), PAGE_SIZE);
    let mut written = 0usize;
    while let Some(users) = pages.next_page().await.map_err(|e| e.to_string())? {
        let ids = users.into_iter().map(|u| u.web_ex_id);
        written += export_page(client, writer, ids, concurrency.max(1)).await?;
    }
    Ok(written)
}

/// The most users one LstsummaryUser call returns (the service's maximum).
const PAGE_SIZE: u32 = 500;

/// GetUser for `ids` in a window of `concurrency` calls, written in list order.
async fn export_page(
    client: &Arc<Client>,
    writer: &mut Writer<impl Write>,
    mut ids: impl Iterator<Item = String>,
    concurrency: usize,
) -> Result<usize, String> {
    let mut in_flight = VecDeque::with_capacity(concurrency);
    let mut written = 0;
    loop {
        while in_flight.len() < concurrency {
            let Some(id) = ids.next() else { break };
            let client = client.clone();
            in_flight.push_back(tokio::spawn(async move { client.get_user(&id).await }));
        }
        let Some(next) = in_flight.pop_front() else {
            return Ok(written);
        };
        let read = match next.await {
            Ok(read) => read.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let wrote = read.and_then(|user| writer.user(&user).map_err(|e| e.to_string()));
        if let Err(e) = wrote {
            // Calls still in flight are of no use once the export stops.
            in_flight.iter().for_each(tokio::task::JoinHandle::abort);
            return Err(e);
        }
        written += 1;
    }
}

/// Writes users one at a time in the chosen format.
struct Writer<W: Write> {
    out: W,
    format: Format,
    /// The columns: each key and its name.
    keys: Vec<(FlatKey, String)>,
    first: bool,
}

/// One CSV record, quoted as needed.
fn csv_line(cells: &[String]) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(cells).map_err(io::Error::other)?;
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

impl<W: Write> Writer<W> {
    fn new(mut out: W, format: Format, keys: &[FlatKey]) -> io::Result<Self> {
        let keys: Vec<(FlatKey, String)> = keys.iter().map(|k| (*k, k.to_string())).collect();
        match format {
            Format::Csv => {
                let names: Vec<String> = keys.iter().map(|(_, name)| name.clone()).collect();
                out.write_all(&csv_line(&names)?)?
            }
            Format::Json => out.write_all(b"[\n")?,
            Format::JsonLines => {}
        }
        Ok(Writer {
            out,
            format,
            keys,
            first: true,
        })
    }

    /// Writes the selected values of `user`, read from it directly: no flat
    /// view of every attribute is built for the few written (issue 21).
    fn user(&mut self, user: &User) -> io::Result<()> {
        let selected: Map<String, Json> = self
            .keys
            .iter()
            .filter_map(|(key, name)| user.get(*key).map(|v| (name.clone(), v.to_json(false))))
            .collect();
        match self.format {
            Format::Csv => {
                let cells: Vec<String> = self
                    .keys
                    .iter()
                    .map(|(_, name)| match selected.get(name) {
                        None => String::new(),
                        Some(Json::String(s)) => s.clone(),
                        Some(Json::Array(items)) => items
                            .iter()
                            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                            .collect::<Vec<_>>()
                            .join(";"),
                        Some(other) => other.to_string(),
                    })
                    .collect();
                self.out.write_all(&csv_line(&cells)?)
            }
            Format::Json => {
                if !self.first {
                    self.out.write_all(b",\n")?;
                }
                self.first = false;
                serde_json::to_writer(&mut self.out, &selected)?;
                Ok(())
            }
            Format::JsonLines => {
                serde_json::to_writer(&mut self.out, &selected)?;
                self.out.write_all(b"\n")
            }
        }
    }

    fn finish(mut self) -> io::Result<()> {
        if self.format == Format::Json {
            self.out.write_all(b"\n]\n")?;
        }
        self.out.flush()
    }
}
