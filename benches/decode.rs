//! Response decoding throughput, against a bare quick-xml pass over the same bytes.
//!
//! What is measured, on documents generated in memory:
//! - `list_10000_users`: one LstsummaryUser SUCCESS response with 10,000 users,
//!   pretty-printed like `fixtures/responses/lstsummaryuser-page.xml` (a few names
//!   carry escaped characters), decoded with `wbxprov::xml::decode::<UserPage>`;
//! - `getuser_10000_docs`: 10,000 separate GetUser SUCCESS responses carrying every
//!   catalogue attribute (the user of `fixtures/responses/getuser-all-attributes.xml`
//!   with a distinct `webExId` each, written by `encode_response`), each decoded with
//!   `wbxprov::xml::decode::<User>`.
//!
//! Why the baseline: wbxprov reads through quick-xml's `NsReader`, so the fastest it
//! could ever be is one `read_resolved_event()` loop over the document with the same
//! reader configuration, doing with each event only what any decoder must: the
//! raw side counts events into `black_box` and decodes each text event
//! (`xml10_content`: UTF-8 checked, XML 1.0 line ends), as wbxprov does. Before
//! 2026-12-07 it left text undecoded, which charged that work to wbxprov alone
//! (0.10 of `live_getuser_vs_raw_ratio`: 0.80 against the old loop, 0.90
//! against this one, same binary and period). The ratio wbxprov / raw is therefore the
//! share of the parser's speed that survives wbxprov's own work (namespace matching,
//! unescaping, allocating the typed result, catalogue lookups, limit checks).
//! A ratio close to 1 means decoding is parser-bound.
//!
//! Method: one warm-up round, then at least 11 rounds that alternate the two sides
//! (wbxprov, raw, wbxprov, raw …) over the same bytes, so drift (frequency scaling,
//! other load) hits both alike; each side reports its median. MB/s is 10^6 bytes of
//! XML per second. The last line, `decode_vs_raw_ratio=<x>`, is the smaller of the
//! two ratios, for scripts.
//!
//! - validation of the same 10,000 users as updates, on the fixture site (23
//!   violations each) and on a site with every feature on (valid users): each
//!   user is decoded, mapped to an update and validated in turn, as a sync does,
//!   and the decode and validate steps are timed apart;
//!   `validate_vs_decode_ratio=<x>` is the worse of the two sites.
//!
//! - `live_getuser`: the 2016 live GetUser document
//!   (`fixtures/real/responses/getUser_atlas_examplesite.xml`, 135 values) decoded
//!   100,000 times, in 10 rounds of 10,000 alternating with the bare loop over the
//!   same bytes; users/s for both (median round) and
//!   `live_getuser_vs_raw_ratio=<x>` (target at least 0.8). Then, measured apart
//!   the same way, `live_getuser_vs_minimal_ratio=<x>`: against the least a
//!   namespace-aware decoder must do with quick-xml (`read_event`, only start
//!   tags resolved, text decoded), which is what wbxprov itself asks of
//!   quick-xml. `read_resolved_event` also resolves every end tag, about a
//!   quarter of the bare loop's time on this document, so this figure is the
//!   stricter one (0.61 on a quiet machine on 2026-12-07, against 0.86 for the first). Per document, the
//!   fixed costs (reader set-up, allocation, building the result) weigh more than
//!   in the 10,000-document set above. `benches/peers/lxml_getuser.py` does the
//!   same work in Python with lxml, for the README's comparison.
//!
//! Run: `cargo bench --bench decode` (about a minute; `-- live` for the live
//! GetUser part alone). Without `--bench` (as under
//! `cargo test --all-targets`) it runs a quick smoke pass on small inputs instead.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use quick_xml::NsReader;
use quick_xml::events::Event;
use wbxprov::ops::{SiteInstance, UserPage};
use wbxprov::site::SiteProfile;
use wbxprov::validate::{Operation, validate};
use wbxprov::xml::Secrets;
use wbxprov::xml::decode;
use wbxprov::xml::encode::{UserOperation, XmlNs, encode_response};
use wbxprov::{FlatUser, User, Value};

const ROUNDS: usize = 11;

/// Deterministic xorshift, so every run benchmarks the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const FIRST_NAMES: &[&str] = &[
    "Alice",
    "Bob",
    "Carol",
    "David",
    "Emma",
    "Farid",
    "Grace",
    "Hiroshi",
    "Ingrid",
    "Jamal",
    "Katarzyna",
    "Luis",
    "Mei",
    "Noah",
    "Olga",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tomás",
    "Ursula",
    "Valentina",
    "Wei",
    "Xavier",
    "Yara",
    "Zoë",
    "Aisha",
    "Bjørn",
    "Chloé",
    "Dmitri",
    "Elif",
    "François",
    "Giulia",
    "Hamza",
    "Isabel",
    "Jürgen",
    "Kenji",
    "Leila",
    "Mateo",
    "Nadia",
];

/// A few carry an apostrophe, escaped as `&apos;` on the wire.
const LAST_NAMES: &[&str] = &[
    "Smith",
    "Jones",
    "Doe",
    "Müller",
    "García",
    "Nguyen",
    "O'Brien",
    "Rossi",
    "Kowalski",
    "Tanaka",
    "Johansson",
    "Dubois",
    "Okafor",
    "Patel",
    "Silva",
    "Schneider",
    "D'Angelo",
    "Kim",
    "Novák",
    "Hernández",
    "Larsen",
    "Fischer",
    "Ivanova",
    "Cohen",
    "Yilmaz",
    "Andersson",
    "Chen",
    "Moreau",
    "Costa",
    "Nakamura",
    "Walsh",
    "Van der Berg",
    "Haddad",
    "Lindqvist",
    "Petrov",
    "Singh",
    "Wright",
    "Zhang",
    "Bauer",
    "Murphy",
];

const DOMAINS: &[&str] = &[
    "example.com",
    "corp.example.com",
    "example.org",
    "eu.example.net",
];

/// `&`, `<`, `>`, `'`, `"` as the service escapes them.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// An e-mail local part: lower-case ASCII letters only.
fn mail_part(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'a'..='z' | 'A'..='Z' => Some(c.to_ascii_lowercase()),
            'ü' => Some('u'),
            'ö' | 'ø' => Some('o'),
            'é' | 'ë' => Some('e'),
            'á' => Some('a'),
            'í' => Some('i'),
            _ => None,
        })
        .collect()
}

/// One LstsummaryUser SUCCESS response with `n` users, laid out like the fixture.
fn list_response(n: usize) -> Vec<u8> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut x = String::with_capacity(n * 420 + 1024);
    x.push_str(concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        "\n",
        r#"<serv:message xmlns:serv="http://www.webex.com/schemas/2002/06/service" xmlns:com="http://www.webex.com/schemas/2002/06/common" xmlns:use="http://www.webex.com/schemas/2002/06/service/user">"#,
        "\n  <serv:header>\n    <serv:response>\n",
        "      <serv:result>SUCCESS</serv:result>\n",
        "      <serv:gsbStatus>PRIMARY</serv:gsbStatus>\n",
        "    </serv:response>\n  </serv:header>\n  <serv:body>\n",
        r#"    <serv:bodyContent xsi:type="use:LstsummaryUserResponse" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
        "\n",
    ));
    for i in 0..n {
        let (first, last) = if i % 997 == 50 {
            // A shared service account, as sites have a few of.
            ("Support & Ops", "<Tier 2>")
        } else {
            (rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES))
        };
        let id = format!("{}{}{}", &mail_part(first)[..1], mail_part(last), i);
        let email = format!(
            "{}.{}{}@{}",
            mail_part(first),
            mail_part(last),
            i,
            rng.pick(DOMAINS)
        );
        let active = if rng.below(10) == 0 {
            "DEACTIVATED"
        } else {
            "ACTIVATED"
        };
        let _ = write!(
            x,
            "      <use:user>\n\
             \x20       <use:webExId>{id}</use:webExId>\n\
             \x20       <use:firstName>{first}</use:firstName>\n\
             \x20       <use:lastName>{last}</use:lastName>\n\
             \x20       <use:email>{email}</use:email>\n\
             \x20       <use:registrationDate>{mo:02}/{d:02}/{y} {h:02}:{mi:02}:{s:02}</use:registrationDate>\n\
             \x20       <use:active>{active}</use:active>\n\
             \x20       <use:timeZoneID>{tz}</use:timeZoneID>\n\
             \x20     </use:user>\n",
            first = escape(first),
            last = escape(last),
            mo = 1 + rng.below(12),
            d = 1 + rng.below(28),
            y = 2008 + rng.below(17),
            h = rng.below(24),
            mi = rng.below(60),
            s = rng.below(60),
            tz = 1 + rng.below(61),
        );
    }
    let _ = write!(
        x,
        "      <use:matchingRecords>\n\
         \x20       <serv:total>{total}</serv:total>\n\
         \x20       <serv:returned>{n}</serv:returned>\n\
         \x20       <serv:startFrom>1</serv:startFrom>\n\
         \x20     </use:matchingRecords>\n\
         \x20   </serv:bodyContent>\n\
         \x20 </serv:body>\n\
         </serv:message>\n",
        total = n + 1234,
    );
    x.into_bytes()
}

/// `n` GetUser SUCCESS responses, every attribute set, a distinct `webExId` each.
fn getuser_responses(n: usize) -> Vec<Vec<u8>> {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/responses/getuser-all-attributes.xml"
    );
    let bytes = std::fs::read(fixture).expect("read getuser-all-attributes.xml");
    let mut user: User = decode::<User>(&bytes)
        .expect("fixture decodes")
        .success()
        .expect("fixture is a SUCCESS");
    let key = "webExId".parse().expect("webExId is a catalogue key");
    (0..n)
        .map(|i| {
            user.set(key, Some(Value::Text(format!("user{i:05}"))))
                .expect("set webExId");
            let flat = user.to_flat();
            encode_response((XmlNs::User, "getUserResponse"), Secrets::Reveal, |body| {
                body.user(&flat, UserOperation::Get)
            })
            .expect("encode GetUser response")
            .into_bytes()
        })
        .collect()
}

/// The baseline: every event of the document, namespaces resolved, and the
/// text decoded (UTF-8 checked, XML 1.0 line ends), the least any decoder must
/// do with it; nothing else.
fn raw_events(bytes: &[u8]) -> u64 {
    let mut reader = NsReader::from_reader(bytes);
    let config = reader.config_mut();
    config.expand_empty_elements = true;
    config.check_end_names = true;
    let mut events = 0u64;
    loop {
        match reader.read_resolved_event() {
            Ok((_, Event::Eof)) => break,
            Ok((_, Event::Text(text))) => {
                black_box(text.xml10_content().expect("raw quick-xml decodes text"));
                events += 1;
            }
            Ok(event) => {
                black_box(&event);
                events += 1;
            }
            Err(e) => panic!("raw quick-xml failed: {e}"),
        }
    }
    black_box(events)
}

fn decode_list(doc: &[u8]) {
    let page = decode::<UserPage>(doc).expect("list decodes");
    black_box(page);
}

fn decode_getusers(docs: &[Vec<u8>]) {
    for doc in docs {
        black_box(decode::<User>(doc).expect("GetUser decodes"));
    }
}

fn raw_getusers(docs: &[Vec<u8>]) {
    for doc in docs {
        black_box(raw_events(doc));
    }
}

/// A decoded user as the update a sync would send: its settable attributes.
fn update_of(doc: &[u8]) -> FlatUser {
    let user = decode::<User>(doc)
        .expect("decodes")
        .success()
        .expect("SUCCESS");
    user.to_flat()
        .into_iter()
        .filter(|(k, _)| k.attribute.info().ops.set)
        .collect()
}

/// A sync's pipeline per user: decode the GetUser response, map it to an update
/// (not timed), validate it. Returns the total decode and validate times; each
/// user is validated right after it is decoded, as a sync does, so both see the
/// same (warm) caches.
fn pipeline(docs: &[Vec<u8>], site: &SiteProfile) -> (Duration, Duration) {
    let (mut decoding, mut validating) = (Duration::ZERO, Duration::ZERO);
    for doc in docs {
        let t = Instant::now();
        let user = decode::<User>(doc)
            .expect("decodes")
            .success()
            .expect("SUCCESS");
        decoding += t.elapsed();
        let change: FlatUser = user
            .to_flat()
            .into_iter()
            .filter(|(k, _)| k.attribute.info().ops.set)
            .collect();
        let t = Instant::now();
        black_box(validate(&change, Operation::Update, site));
        validating += t.elapsed();
    }
    (decoding, validating)
}

const LIVE_GETUSER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/real/responses/getUser_atlas_examplesite.xml"
);

/// Decodes the same live document `n` times, as a GetUser per user would.
fn decode_live(doc: &[u8], n: usize) {
    for _ in 0..n {
        black_box(decode::<User>(black_box(doc)).expect("live GetUser decodes"));
    }
}

fn raw_live(doc: &[u8], n: usize, events: fn(&[u8]) -> u64) {
    for _ in 0..n {
        black_box(events(black_box(doc)));
    }
}

/// The least a namespace-aware decoder must do with quick-xml: every event
/// read, only start tags' namespaces resolved (`read_resolved_event` resolves
/// end tags too, which wbxprov skips), text decoded as in [`raw_events`].
fn minimal_events(bytes: &[u8]) -> u64 {
    let mut reader = NsReader::from_reader(bytes);
    let config = reader.config_mut();
    config.expand_empty_elements = true;
    config.check_end_names = true;
    let mut events = 0u64;
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Start(start)) => {
                black_box(reader.resolve_element(start.name()));
            }
            Ok(Event::Text(text)) => {
                black_box(text.xml10_content().expect("raw quick-xml decodes text"));
            }
            Ok(event) => {
                black_box(&event);
            }
            Err(e) => panic!("raw quick-xml failed: {e}"),
        }
        events += 1;
    }
    black_box(events)
}

/// Users/s of wbxprov and of the bare loop on the live document; returns their ratio.
fn live_getuser(total: usize, rounds: usize) -> f64 {
    let doc = std::fs::read(LIVE_GETUSER).expect("read the live GetUser fixture");
    let user = decode::<User>(&doc)
        .expect("live GetUser decodes")
        .success()
        .expect("live GetUser is a SUCCESS");
    let values = user.to_flat().len();
    let per_round = total / rounds;
    let (wbx, raw) = interleaved(
        rounds,
        || decode_live(&doc, per_round),
        || raw_live(&doc, per_round, raw_events),
    );
    let per_s = |t: Duration| per_round as f64 / t.as_secs_f64();
    let ratio = per_s(wbx) / per_s(raw);
    println!(
        "live_getuser ({} bytes, {values} values, {total} decodes): wbxprov {:.0} users/s, raw quick-xml {:.0} users/s",
        doc.len(),
        per_s(wbx),
        per_s(raw),
    );
    // The stricter baseline, measured apart so the figure above keeps its meaning.
    let (wbx, min) = interleaved(
        rounds,
        || decode_live(&doc, per_round),
        || raw_live(&doc, per_round, minimal_events),
    );
    println!(
        "live_getuser vs the minimal loop: wbxprov {:.0} users/s, minimal quick-xml {:.0} users/s",
        per_s(wbx),
        per_s(min),
    );
    println!(
        "live_getuser_vs_minimal_ratio={:.2}",
        per_s(wbx) / per_s(min)
    );
    ratio
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Warm-up, then `rounds` alternating rounds; returns (wbxprov, raw) medians.
fn interleaved(rounds: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> (Duration, Duration) {
    a();
    b();
    let (mut ta, mut tb) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for _ in 0..rounds {
        let t = Instant::now();
        a();
        ta.push(t.elapsed());
        let t = Instant::now();
        b();
        tb.push(t.elapsed());
    }
    (median(ta), median(tb))
}

/// Prints one measurement line and returns its ratio.
fn report(name: &str, bytes: usize, (wbx, raw): (Duration, Duration)) -> f64 {
    let mbps = |t: Duration| bytes as f64 / 1e6 / t.as_secs_f64();
    let ratio = mbps(wbx) / mbps(raw);
    println!(
        "{name}: wbxprov {:.1} MB/s, raw quick-xml {:.1} MB/s, ratio {ratio:.2}",
        mbps(wbx),
        mbps(raw),
    );
    ratio
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` does not.
    let bench = std::env::args().any(|a| a == "--bench");
    let (n, rounds) = if bench { (10_000, ROUNDS) } else { (100, 1) };
    // `cargo bench --bench decode -- live`: the live GetUser part alone (for profiling).
    if std::env::args().any(|a| a == "live") {
        println!("live_getuser_vs_raw_ratio={:.2}", live_getuser(100_000, 10));
        return;
    }

    let list = list_response(n);
    let page = decode::<UserPage>(&list)
        .expect("generated list decodes")
        .success()
        .expect("generated list is a SUCCESS");
    assert_eq!(page.users.len(), n, "every generated user is decoded");
    assert_eq!(page.matching_records.returned, n as i64);
    assert!(
        page.users
            .iter()
            .any(|u| u.last_name.as_deref().is_some_and(|l| l.contains('\''))),
        "escaped apostrophes come back unescaped"
    );
    assert!(
        page.users
            .iter()
            .any(|u| u.first_name.as_deref() == Some("Support & Ops")
                && u.last_name.as_deref() == Some("<Tier 2>")),
        "escaped markup characters come back unescaped"
    );

    let docs = getuser_responses(n);
    for (i, doc) in docs.iter().enumerate().step_by(n / 10) {
        let user = decode::<User>(doc)
            .expect("generated GetUser decodes")
            .success()
            .expect("generated GetUser is a SUCCESS");
        assert_eq!(
            user.get("webExId".parse().unwrap()),
            Some(Value::Text(format!("user{i:05}")))
        );
    }
    let docs_bytes: usize = docs.iter().map(Vec::len).sum();

    let list_ratio = report(
        &format!("list_{n}_users"),
        list.len(),
        interleaved(
            rounds,
            || decode_list(&list),
            || {
                raw_events(&list);
            },
        ),
    );
    let getuser_ratio = report(
        &format!("getuser_{n}_docs"),
        docs_bytes,
        interleaved(rounds, || decode_getusers(&docs), || raw_getusers(&docs)),
    );

    // Validation of the same users as updates against the fixture site, timed
    // against decoding them: the validator must not be what a sync waits on.
    let site_xml = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/responses/getsite.xml"
    ))
    .expect("read getsite.xml");
    let profile = SiteProfile::from_site(
        &decode::<SiteInstance>(&site_xml)
            .expect("getsite decodes")
            .success()
            .expect("getsite is a SUCCESS"),
    );
    // Two sites: the fixture's, on which every user breaks 23 rules (the worst
    // case: each violation builds its message), and the same with every feature
    // on, where users are valid (a sync's steady state).
    let mut open_site = profile.clone();
    for f in wbxprov::schema::FEATURES.iter() {
        open_site.set_feature(f.feature, true);
    }
    let per_user = |t: Duration| t.as_secs_f64() * 1e6 / n as f64;
    let mut worst = 0.0f64;
    for (name, site) in [("open_site", &open_site), ("fixture_site", &profile)] {
        let first = update_of(&docs[0]);
        let violations = validate(&first, Operation::Update, site).len();
        let mut decode_times = Vec::with_capacity(rounds);
        let mut validate_times = Vec::with_capacity(rounds);
        pipeline(&docs, site);
        for _ in 0..rounds {
            let (d, v) = pipeline(&docs, site);
            decode_times.push(d);
            validate_times.push(v);
        }
        let (decode_time, validate_time) = (median(decode_times), median(validate_times));
        let ratio = validate_time.as_secs_f64() / decode_time.as_secs_f64();
        worst = worst.max(ratio);
        println!(
            "validate_{n}_users_{name}: {:.2} µs/user ({} values, {violations} violations each), decode {:.2} µs/user, ratio {ratio:.3}",
            per_user(validate_time),
            first.len(),
            per_user(decode_time),
        );
    }
    println!("validate_vs_decode_ratio={worst:.3}");
    let live = if bench {
        live_getuser(100_000, 10)
    } else {
        live_getuser(100, 1)
    };
    println!("live_getuser_vs_raw_ratio={live:.2}");
    println!("decode_vs_raw_ratio={:.2}", list_ratio.min(getuser_ratio));
}
