//! Issue 21: decoding one GetUser document allocates only what the result
//! needs. The live-shaped document (the 2016 live GetUser,
//! `fixtures/real/responses/getUser_atlas_examplesite.xml`) is decoded once to
//! warm the catalogue's lookup tables, then again under dhat's counter; the
//! second decode may allocate no more than a bare quick-xml `NsReader` loop over
//! the same bytes (the parser's own buffers) plus one block per heap value the
//! decoded response owns. A test binary of its own, since dhat's allocator
//! counts every allocation of the process.

use quick_xml::NsReader;
use quick_xml::events::Event;
use wbxprov::{User, Value};

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

const LIVE_GETUSER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/real/responses/getUser_atlas_examplesite.xml"
);

/// Heap blocks allocated while `f` runs.
fn blocks_allocated<T>(f: impl FnOnce() -> T) -> (u64, T) {
    let before = dhat::HeapStats::get().total_blocks;
    let out = f();
    (dhat::HeapStats::get().total_blocks - before, out)
}

/// The bare loop of `benches/decode.rs`: every event, namespaces resolved,
/// text decoded.
fn raw_events(bytes: &[u8]) -> u64 {
    let mut reader = NsReader::from_reader(bytes);
    reader.config_mut().expand_empty_elements = true;
    reader.config_mut().check_end_names = true;
    let mut events = 0;
    loop {
        match reader.read_resolved_event().unwrap().1 {
            Event::Eof => return events,
            Event::Text(text) => drop(text.xml10_content().unwrap()),
            _ => {}
        }
        events += 1;
    }
}

/// The heap blocks a decoded user owns: one per non-empty text, secret and
/// list, one per text in a list, one per repeated group in use.
fn blocks_owned(user: &User) -> u64 {
    let flat = user.to_flat();
    let values: u64 = flat
        .iter()
        .map(|(_, v)| match v {
            Value::Text(s) => u64::from(!s.is_empty()),
            Value::Secret(s) => u64::from(!s.expose().is_empty()),
            Value::IntList(items) => u64::from(!items.is_empty()),
            Value::TextList(items) => {
                u64::from(!items.is_empty()) + items.iter().filter(|s| !s.is_empty()).count() as u64
            }
            Value::Bool(_) | Value::Int(_) => 0,
        })
        .sum();
    let mut groups: Vec<_> = flat
        .iter()
        .filter_map(|(k, _)| k.attribute.repeated_group())
        .collect();
    groups.dedup();
    values + groups.len() as u64
}

#[test]
fn decoding_a_live_getuser_allocates_only_what_the_result_needs() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let bytes = std::fs::read(LIVE_GETUSER).unwrap();
    // Warm-up: the catalogue's path tree and other tables are built once per process.
    wbxprov::xml::decode::<User>(&bytes).unwrap();

    let (raw, events) = blocks_allocated(|| raw_events(&bytes));
    assert!(
        events > 300,
        "the bare loop read the document ({events} events)"
    );
    let (decoding, response) = blocks_allocated(|| wbxprov::xml::decode::<User>(&bytes).unwrap());
    // The response owns its gsbStatus and the names of the elements it skipped.
    let gsb_status = u64::from(response.gsb_status.is_some());
    let unknown_names = response.unknown_names.len() as u64;
    let unknown_list = u64::from(unknown_names > 0);
    let user = response.result.unwrap();
    let owned = blocks_owned(&user) + gsb_status + unknown_names + unknown_list;
    println!("decode: {decoding} blocks; bare reader: {raw}; the result owns {owned}");
    assert!(
        decoding <= raw + owned,
        "decoding allocated {decoding} blocks, more than the bare reader's {raw} plus the {owned} the result owns"
    );
}
