//! Properties of the response decoder: GetUser round trips over every readable
//! catalogue attribute, prefixes never matter, and no input makes it panic.

mod common;

use proptest::prelude::*;
use proptest::test_runner::Config;

use wbxprov::ops::*;
use wbxprov::schema::{ATTRIBUTES, AttributeInfo, FlatKey, FlatUser, ScalarType, User, Value};
use wbxprov::xml::encode::{UserOperation, XmlNs, encode_response};
use wbxprov::xml::{DecodeError, Limits, Secrets, decode, decode_with};
use wbxprov::{Secret, xml};

fn scalar(info: &'static AttributeInfo) -> BoxedStrategy<Value> {
    match *info.value_type.scalar() {
        ScalarType::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        ScalarType::Int { kind, min, max } => {
            let (lo, hi) = match kind {
                wbxprov::schema::IntKind::Int32 => (i32::MIN.into(), i32::MAX.into()),
                wbxprov::schema::IntKind::Int64 => (i64::MIN, i64::MAX),
            };
            (min.unwrap_or(lo)..=max.unwrap_or(hi))
                .prop_map(Value::Int)
                .boxed()
        }
        ScalarType::Enum { values } => proptest::sample::select(values)
            .prop_map(|v| Value::Text(v.to_owned()))
            .boxed(),
        ScalarType::Date => "[01][0-9]/[0-3][0-9]/20[0-9]{2} [0-2][0-9]:[0-5][0-9]:[0-5][0-9]"
            .prop_map(Value::Text)
            .boxed(),
        // Any printable text, markup characters and line ends included (U+2028 and
        // U+0085 are line ends only in XML 1.1); most C0 controls cannot be written in XML 1.0.
        ScalarType::Text { .. } if info.secret => "[\\PC&<>]{0,12}"
            .prop_map(|s| Value::Secret(Secret::new(s)))
            .boxed(),
        ScalarType::Text { .. } => "[\\PC&<>\r\n\t\u{2028}\u{85}]{0,12}"
            .prop_map(Value::Text)
            .boxed(),
    }
}

fn value(info: &'static AttributeInfo) -> BoxedStrategy<Value> {
    if !info.value_type.is_list() {
        return scalar(info);
    }
    // An empty list writes no element, so it reads back as unset: lists hold 1+ items.
    prop::collection::vec(scalar(info), 1..4)
        .prop_map(|items| {
            if items.iter().all(|v| matches!(v, Value::Int(_))) {
                Value::IntList(
                    items
                        .into_iter()
                        .map(|v| match v {
                            Value::Int(i) => i,
                            _ => unreachable!(),
                        })
                        .collect(),
                )
            } else {
                Value::TextList(
                    items
                        .into_iter()
                        .map(|v| match v {
                            Value::Text(t) => t,
                            Value::Secret(s) => s.expose().to_owned(),
                            _ => unreachable!(),
                        })
                        .collect(),
                )
            }
        })
        .boxed()
}

/// Any user over every readable attribute. An occurrence of a repeated group is
/// only on the wire when it holds a value, so each generated occurrence sets its
/// group's first attribute, and occurrences are contiguous from the first.
fn arbitrary_user() -> impl Strategy<Value = User> {
    let readable: Vec<&'static AttributeInfo> = ATTRIBUTES.iter().filter(|a| a.ops.get).collect();
    let mut parts: Vec<BoxedStrategy<Vec<(FlatKey, Value)>>> = Vec::new();
    let mut groups: Vec<Vec<&'static AttributeInfo>> = Vec::new();
    for info in &readable {
        match info.repeat {
            None => {
                let key = FlatKey::new(info.attribute);
                parts.push(
                    prop::option::of(value(info))
                        .prop_map(move |v| v.map(|v| (key, v)).into_iter().collect())
                        .boxed(),
                );
            }
            Some(r) => {
                let group = &info.segments[..=r.depth];
                match groups
                    .iter_mut()
                    .find(|g| &g[0].segments[..=r.depth] == group)
                {
                    Some(g) => g.push(info),
                    None => groups.push(vec![info]),
                }
            }
        }
    }
    for members in groups {
        let max = members[0].repeat.unwrap().max;
        let occurrence = |slot: u8, members: &[&'static AttributeInfo]| {
            let head = members[0].attribute;
            let first = value(members[0]).prop_map(move |v| (FlatKey::with_slot(head, slot), v));
            let rest: Vec<_> = members[1..]
                .iter()
                .map(|m| {
                    let key = FlatKey::with_slot(m.attribute, slot);
                    prop::option::of(value(m)).prop_map(move |v| v.map(|v| (key, v)))
                })
                .collect();
            (first, rest)
                .prop_map(|(first, rest)| {
                    let mut all = vec![first];
                    all.extend(rest.into_iter().flatten());
                    all
                })
                .boxed()
        };
        let slots: Vec<_> = (0..max)
            .map(|slot| prop::option::of(occurrence(slot, &members)))
            .collect();
        parts.push(
            slots
                .prop_map(|slots| {
                    slots
                        .into_iter()
                        .map_while(|s| s)
                        .flatten()
                        .collect::<Vec<_>>()
                })
                .boxed(),
        );
    }
    parts.prop_map(|parts| {
        let flat: FlatUser = parts.into_iter().flatten().collect();
        User::from_flat(&flat).expect("generated values fit the catalogue types")
    })
}

fn get_user_response(user: &User) -> String {
    encode_response((XmlNs::User, "getUserResponse"), Secrets::Reveal, |body| {
        body.user(&user.to_flat(), UserOperation::Get)
    })
    .unwrap()
}

proptest! {
    #![proptest_config(Config { cases: 256, ..Config::default() })]

    #[test]
    fn get_user_round_trips_over_every_readable_attribute(user in arbitrary_user()) {
        let xml = get_user_response(&user);
        let response = decode::<User>(xml.as_bytes()).unwrap();
        prop_assert_eq!(response.unknown_elements, 0);
        prop_assert_eq!(response.success().unwrap(), user.clone());

        // The same document with the user namespace on another prefix decodes the same.
        let renamed = xml
            .replace("<use:", "<ns1:")
            .replace("</use:", "</ns1:")
            .replace("xmlns:use=", "xmlns:ns1=");
        prop_assert_eq!(decode::<User>(renamed.as_bytes()).unwrap().success().unwrap(), user);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        decode_everything(&bytes);
    }

    #[test]
    fn mutated_fixtures_never_panic(
        fixture in proptest::sample::select(fixture_names()),
        edits in prop::collection::vec((any::<prop::sample::Index>(), mutation()), 1..8),
    ) {
        let mut bytes = std::fs::read(common::repo_root().join("fixtures/responses").join(&fixture)).unwrap();
        for (at, edit) in edits {
            let i = at.index(bytes.len() + 1);
            match edit {
                Mutation::Truncate => bytes.truncate(i),
                Mutation::Delete(n) => {
                    let end = (i + n).min(bytes.len());
                    bytes.drain(i.min(end)..end);
                }
                Mutation::Insert(s) => {
                    let i = i.min(bytes.len());
                    bytes.splice(i..i, s.into_bytes());
                }
                Mutation::Flip(b) => {
                    if let Some(x) = bytes.get_mut(i) {
                        *x ^= b;
                    }
                }
            }
        }
        decode_everything(&bytes);
    }
}

/// Characters XML 1.0 does not allow (issue 15 item 4).
fn refused_char() -> impl Strategy<Value = char> {
    prop_oneof![
        (0u32..0x20)
            .prop_filter("TAB, LF and CR are allowed", |c| ![9, 10, 13].contains(c))
            .prop_map(|c| char::from_u32(c).unwrap()),
        Just('\u{FFFE}'),
        Just('\u{FFFF}'),
    ]
}

proptest! {
    #![proptest_config(Config { cases: 256, ..Config::default() })]

    /// Any text is written and read back unchanged, unless it holds a
    /// character XML 1.0 does not allow: then nothing is written at all.
    #[test]
    fn text_round_trips_unless_xml_cannot_carry_it(
        text in prop::collection::vec(prop_oneof![4 => any::<char>(), 1 => refused_char()], 0..12)
            .prop_map(|c| c.into_iter().collect::<String>()),
    ) {
        let key: FlatKey = "firstName".parse().unwrap();
        let mut flat = FlatUser::new();
        flat.insert("webExId".parse().unwrap(), Value::Text("jdoe".into()));
        flat.insert(key, Value::Text(text.clone()));
        let written = encode_response((XmlNs::User, "getUserResponse"), Secrets::Reveal, |body| {
            body.user(&flat, UserOperation::Get)
        });
        let refused = text.chars().find(|c| !wbxprov::xml::chars::is_xml_char(*c));
        match (written, refused) {
            (Err(e), Some(c)) => {
                let names_it = matches!(e, wbxprov::xml::EncodeError::Character { code_point, .. } if code_point == u32::from(c));
                prop_assert!(names_it, "{:?} for {:?}", e, c);
            }
            (Ok(xml), None) => {
                let user = decode::<User>(xml.as_bytes()).unwrap().success().unwrap();
                prop_assert_eq!(user.get(key), Some(Value::Text(text)));
            }
            (written, refused) => prop_assert!(false, "{:?} for {:?}", written, refused),
        }
    }

    /// A refused character anywhere in a response makes it malformed.
    #[test]
    fn a_refused_character_anywhere_is_refused(
        fixture in proptest::sample::select(fixture_names()),
        at in any::<prop::sample::Index>(),
        c in refused_char(),
    ) {
        let mut bytes = std::fs::read(common::repo_root().join("fixtures/responses").join(&fixture)).unwrap();
        let i = at.index(bytes.len() + 1);
        let mut buf = [0u8; 4];
        bytes.splice(i..i, c.encode_utf8(&mut buf).bytes());
        prop_assert!(decode::<User>(&bytes).is_err());
        prop_assert!(decode::<UserPage>(&bytes).is_err());
        prop_assert!(Operation::detect(&bytes).is_err());
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate,
    Delete(usize),
    Insert(String),
    Flip(u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        Just(Mutation::Truncate),
        (1usize..40).prop_map(Mutation::Delete),
        prop_oneof![
            Just("<".to_owned()),
            Just("</serv:body>".to_owned()),
            Just("<use:privilege><use:host>".to_owned()),
            Just("&#0;".to_owned()),
            Just("&lol;".to_owned()),
            Just("<![CDATA[x]]>".to_owned()),
            Just("<!DOCTYPE x [<!ENTITY a \"b\">]>".to_owned()),
            Just(r#"xmlns:use="urn:x""#.to_owned()),
            "[<>/:&;a-z\"= ]{1,12}",
        ]
        .prop_map(Mutation::Insert),
        any::<u8>().prop_map(Mutation::Flip),
    ]
}

fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(common::repo_root().join("fixtures/responses"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".xml"))
        .collect();
    names.sort();
    names
}

/// Every body type over the same bytes: each returns Ok or Err.
fn decode_everything(bytes: &[u8]) {
    let _ = decode::<User>(bytes);
    let _ = decode::<CreatedUser>(bytes);
    let _ = decode::<Updated>(bytes);
    let _ = decode::<Deleted>(bytes);
    let _ = decode::<UserPage>(bytes);
    let _ = decode::<SessionTicket>(bytes);
    let _ = decode::<SiteInstance>(bytes);
    let _ = decode::<MeetingTypeList>(bytes);
}

#[test]
fn a_dtd_is_refused_so_entities_never_expand() {
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<serv:message xmlns:serv="http://www.webex.com/schemas/2002/06/service"><serv:header><serv:response><serv:result>SUCCESS</serv:result></serv:response></serv:header><serv:body><serv:bodyContent><firstName>&lol2;</firstName></serv:bodyContent></serv:body></serv:message>"#;
    assert!(matches!(
        decode::<User>(laughs.as_bytes()),
        Err(DecodeError::Dtd { .. })
    ));
    let undeclared = get_user_response(&User::default()).replace(
        "<serv:bodyContent xsi:type=\"use:getUserResponse\">",
        "<serv:bodyContent xsi:type=\"use:getUserResponse\"><use:firstName>&lol;</use:firstName>",
    );
    assert!(undeclared.contains("&lol;"));
    let err = decode::<User>(undeclared.as_bytes()).unwrap_err();
    assert!(
        matches!(&err, DecodeError::Syntax { message, .. } if message.contains("&lol;")),
        "{err}"
    );
}

#[test]
fn depth_and_size_are_bounded() {
    let deep = format!(
        "<serv:message xmlns:serv=\"{}\">{}",
        xml::encode::XmlNs::Service.uri(),
        "<a>".repeat(100_000)
    );
    assert!(matches!(
        decode::<User>(deep.as_bytes()),
        Err(DecodeError::TooDeep { limit: 48, .. })
    ));
    let doc = get_user_response(&User::default());
    let mut small = Limits::default();
    small.max_bytes = 100;
    assert_eq!(
        decode_with::<User>(doc.as_bytes(), small).unwrap_err(),
        DecodeError::TooLarge {
            size: doc.len(),
            limit: 100
        }
    );
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let doc = get_user_response(&User::default());
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(doc.as_bytes());
    assert!(decode::<User>(&with_bom).unwrap().success().is_ok());
}

#[test]
fn malformed_envelopes_are_errors_not_guesses() {
    let ok = get_user_response(&User::default());
    let cases = [
        (ok.replace("serv:message", "serv:messag"), "root"),
        (
            ok.replace("<serv:result>SUCCESS</serv:result>", ""),
            "result",
        ),
        (
            ok.replace("<serv:result>SUCCESS", "<serv:result>MAYBE"),
            "MAYBE",
        ),
        (ok.replace("</serv:message>", ""), "ends inside"),
        (format!("{ok}<serv:message/>"), "second root"),
        (ok.replace("</serv:header>", "</serv:heade>"), "well-formed"),
    ];
    for (doc, needle) in cases {
        let err = decode::<User>(doc.as_bytes()).expect_err(needle);
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    }
}
