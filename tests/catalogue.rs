//! The catalogue against its sources: the spec's attribute list and feature table,
//! and the official 2011 XSDs as an external oracle for paths, namespaces, element
//! order and value types.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use quick_xml::events::Event;
use wbxprov::schema::{
    ATTRIBUTES, FEATURES, Feature, IntKind, Ns, ScalarType, TIME_ZONES, ValueType,
};

#[test]
fn every_row_of_the_spec_attribute_list_is_in_the_catalogue() {
    let Some(tsv) = common::read_shared("spec/meetings-user-attributes.tsv") else {
        return;
    };
    let ours: BTreeSet<&str> = ATTRIBUTES.iter().map(|a| a.name).collect();
    let spec: Vec<&str> = tsv
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(spec.len(), 165, "the spec lists 165 attributes");
    let missing: Vec<&&str> = spec.iter().filter(|n| !ours.contains(**n)).collect();
    assert!(
        missing.is_empty(),
        "missing from the catalogue: {missing:?}"
    );
}

#[test]
fn every_row_is_complete_and_paths_are_unique() {
    let mut paths = BTreeSet::new();
    for (i, a) in ATTRIBUTES.iter().enumerate() {
        assert_eq!(
            a.attribute as usize, i,
            "{}: table order equals enum order",
            a.name
        );
        assert!(
            !a.path.is_empty() && !a.segments.is_empty(),
            "{}: no path",
            a.name
        );
        assert!(
            a.ops.create || a.ops.set || a.ops.get,
            "{}: no operation",
            a.name
        );
        assert!(
            !a.description.is_empty() && !a.source.is_empty(),
            "{}",
            a.name
        );
        assert!(paths.insert(a.path), "{}: path {} repeats", a.name, a.path);
        assert_eq!(a.attribute.name(), a.name);
        assert_eq!(a.name.parse::<wbxprov::Attribute>().unwrap(), a.attribute);
    }
}

#[test]
fn operation_rules_of_the_spec_hold() {
    let info = |n: &str| n.parse::<wbxprov::Attribute>().unwrap().info();
    // personalUrl: update only; password: write-only; server-assigned fields: read-only.
    assert!(!info("personalUrl").ops.create && info("personalUrl").ops.set);
    assert!(!info("password").ops.get && info("password").secret);
    for read_only in [
        "userId",
        "registrationDate",
        "visitCount",
        "passwordExpires",
        "passwordDaysLeft",
    ] {
        let ops = info(read_only).ops;
        assert!(
            ops.get && !ops.create && !ops.set,
            "{read_only} is read-only"
        );
    }
    assert!(info("webExId").required);
}

/// Feature names and GetSite sources, compared with the table of site-features.md.
#[test]
fn features_and_gates_match_site_features_md() {
    let Some(md) = common::read_shared("spec/site-features.md") else {
        return;
    };
    let table: BTreeMap<String, String> = md
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells.len() >= 4 && cells[0].is_empty() && !cells[1].is_empty())
                .then(|| (cells[1].to_owned(), cells[2].to_owned()))
        })
        .filter(|(name, _)| name != "feature" && !name.starts_with('-'))
        .collect();
    let ours: BTreeMap<String, String> = FEATURES
        .iter()
        .map(|f| (f.name.to_owned(), f.getsite_path.to_owned()))
        .collect();
    // Every feature of the spec's table, with its path; a feature beyond the
    // table reads a GetSite element the spec names as a gate (issue 16 item 5:
    // trainingRecordings, from the trainingCenter row's note).
    for (name, path) in &table {
        assert_eq!(
            ours.get(name),
            Some(path),
            "site-features.tsv: feature {name}"
        );
    }
    for f in FEATURES.iter().filter(|f| !table.contains_key(f.name)) {
        assert!(
            md.contains(f.getsite_path),
            "{}: {} is not named in site-features.md",
            f.name,
            f.getsite_path
        );
    }
    for a in ATTRIBUTES.iter() {
        for f in a.gate {
            assert!(
                table.contains_key(f.as_ref()) || md.contains(f.info().getsite_path),
                "{}: gate {f} is not in site-features.md",
                a.name
            );
        }
    }
    // The gates the table names explicitly, attribute by attribute.
    let gated = |f: &str| -> BTreeSet<&str> {
        f.parse::<Feature>()
            .unwrap()
            .gated_attributes()
            .map(|a| a.name)
            .collect()
    };
    assert!(
        gated("hdVideo").contains("privilegeHDvideo")
            && gated("hqVideo").contains("privilegeHDvideo")
    );
    assert!(
        gated("handsOnLab").contains("privilegeLabAdmin")
            && gated("trainingCenter").contains("privilegeLabAdmin")
    );
    assert_eq!(gated("webACD").len(), 6);
    assert_eq!(gated("trackingCodes").len(), 10);
    assert!(
        gated("tspAccounts")
            .iter()
            .all(|n| n.starts_with("tspAccount"))
    );
    assert!(
        ATTRIBUTES
            .iter()
            .filter(|a| a.name.starts_with("personalMeetingRoom"))
            .all(|a| a.gate.iter().any(|f| f.as_ref() == "personalMeetingRoom"))
    );
    for line in md.lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 5 || cells[1] == "feature" || cells[1].starts_with('-') {
            continue;
        }
        // Every attribute named in the "gates" column is gated by that feature.
        for word in cells[3]
            .split([',', ' '])
            .filter(|w| w.chars().all(char::is_alphanumeric) && !w.is_empty())
        {
            if ATTRIBUTES.iter().any(|a| a.name == word) {
                assert!(
                    gated(cells[1]).contains(word),
                    "{word} should be gated by {}",
                    cells[1]
                );
            }
        }
    }
}

#[test]
fn time_zones_are_the_62_names_of_common_xsd() {
    assert_eq!(TIME_ZONES.len(), 62);
    assert_eq!(TIME_ZONES[4], "GMT-08:00, Pacific (San Jose)");
    let Some(xsd) = common::read_shared("reference/xsd/common/common.xsd") else {
        return;
    };
    let doc = Node::parse(&xsd);
    let tz = doc
        .find("simpleType", "timeZoneType")
        .expect("timeZoneType");
    let values: Vec<&str> = tz
        .descendants("enumeration")
        .map(|e| e.attr("value"))
        .collect();
    assert_eq!(values, TIME_ZONES);
}

// ---------------------------------------------------------------------------
// The XSD oracle.

/// A minimal element tree of an XSD file.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: HashMap<String, String>,
    children: Vec<Node>,
}

impl Node {
    fn parse(text: &str) -> Node {
        let mut reader = quick_xml::Reader::from_str(text);
        let mut stack = vec![Node::default()];
        loop {
            match reader.read_event().expect("well-formed XSD") {
                Event::Start(e) => stack.push(Node::from_start(&e)),
                Event::Empty(e) => {
                    let node = Node::from_start(&e);
                    stack.last_mut().unwrap().children.push(node);
                }
                Event::End(_) => {
                    let node = stack.pop().unwrap();
                    stack.last_mut().unwrap().children.push(node);
                }
                Event::Eof => break,
                _ => {}
            }
        }
        stack.pop().unwrap()
    }

    fn from_start(e: &quick_xml::events::BytesStart<'_>) -> Node {
        let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
        let attrs = e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                    a.decode_and_unescape_value(e.decoder())
                        .unwrap()
                        .into_owned(),
                )
            })
            .collect();
        Node {
            name,
            attrs,
            children: Vec::new(),
        }
    }

    fn attr(&self, key: &str) -> &str {
        self.attrs.get(key).map(String::as_str).unwrap_or("")
    }

    fn descendants<'a>(&'a self, name: &'a str) -> Box<dyn Iterator<Item = &'a Node> + 'a> {
        Box::new(self.children.iter().flat_map(move |c| {
            std::iter::once(c)
                .filter(move |c| c.name == name)
                .chain(c.descendants(name))
        }))
    }

    fn find<'a>(&'a self, kind: &'a str, type_name: &str) -> Option<&'a Node> {
        self.descendants(kind).find(|n| n.attr("name") == type_name)
    }
}

/// One leaf of the XSD tree: its path (namespace, name, maxOccurs) and XSD type.
#[derive(Debug, Clone)]
struct Leaf {
    path: Vec<(Ns, String, u32)>,
    xsd_type: String,
    max_length: Option<u32>,
}

struct Schemas {
    docs: Vec<(Ns, &'static str, Node)>,
}

impl Schemas {
    /// A named type in the schema of `prefix` (`use`, `com`, `serv`).
    fn lookup(&self, qname: &str) -> Option<(Ns, &Node)> {
        let (prefix, local) = qname.split_once(':')?;
        let (ns, _, doc) = self.docs.iter().find(|(_, p, _)| *p == prefix)?;
        doc.children
            .iter()
            .flat_map(|schema| schema.children.iter())
            .find(|n| {
                n.attr("name") == local && (n.name == "complexType" || n.name == "simpleType")
            })
            .map(|n| (*ns, n))
    }

    /// The leaves below a complexType, in document order.
    fn leaves(&self, ns: Ns, ty: &Node, prefix: &[(Ns, String, u32)], out: &mut Vec<Leaf>) {
        for child in &ty.children {
            match child.name.as_str() {
                "sequence" | "complexContent" | "choice" => self.leaves(ns, child, prefix, out),
                "extension" => {
                    if let Some((base_ns, base)) = self.lookup(child.attr("base")) {
                        self.leaves(base_ns, base, prefix, out);
                    }
                    self.leaves(ns, child, prefix, out);
                }
                "element" => self.element(ns, child, prefix, out),
                _ => {}
            }
        }
    }

    fn element(&self, ns: Ns, el: &Node, prefix: &[(Ns, String, u32)], out: &mut Vec<Leaf>) {
        let max = match el.attr("maxOccurs") {
            "" => 1,
            "unbounded" => u32::MAX,
            n => n.parse().unwrap(),
        };
        let mut path = prefix.to_vec();
        path.push((ns, el.attr("name").to_owned(), max));
        let inline = el.children.iter().find(|c| c.name == "complexType");
        let named = self
            .lookup(el.attr("type"))
            .filter(|(_, n)| n.name == "complexType");
        match (inline, named) {
            (Some(ct), _) => self.leaves(ns, ct, &path, out),
            (None, Some((type_ns, ct))) => self.leaves(type_ns, ct, &path, out),
            (None, None) => {
                let restriction = el.descendants("restriction").next();
                let xsd_type = match restriction {
                    Some(r) => r.attr("base").to_owned(),
                    None => el.attr("type").to_owned(),
                };
                let max_length = el
                    .descendants("maxLength")
                    .next()
                    .map(|m| m.attr("value").parse().unwrap());
                out.push(Leaf {
                    path,
                    xsd_type,
                    max_length,
                });
            }
        }
    }
}

/// Parts of getUserResponse that are not user attributes but lists of other records
/// (session templates, the session types of each service, Sales Center products):
/// wbxprov reads them as raw elements, outside the flat user.
const NOT_ATTRIBUTES: [&str; 3] = [
    "schedulingTemplates",
    "serviceSessionTypes",
    "salesCenter/smeInfo/products",
];

#[test]
fn catalogue_agrees_with_the_2011_user_xsd() {
    let (Some(user), Some(common_xsd), Some(service)) = (
        common::read_shared("reference/xsd/service/user/user.xsd"),
        common::read_shared("reference/xsd/common/common.xsd"),
        common::read_shared("reference/xsd/service/service.xsd"),
    ) else {
        return;
    };
    let schemas = Schemas {
        docs: vec![
            (Ns::User, "use", Node::parse(&user)),
            (Ns::Common, "com", Node::parse(&common_xsd)),
            (Ns::User, "serv", Node::parse(&service)),
        ],
    };
    let by_path: HashMap<String, usize> = ATTRIBUTES
        .iter()
        .enumerate()
        .map(|(i, a)| (a.path.to_owned(), i))
        .collect();
    let mut checked = BTreeSet::new();
    for op in ["getUserResponse", "createUser", "setUser"] {
        let (_, ty) = schemas.lookup(&format!("use:{op}")).unwrap();
        let mut leaves = Vec::new();
        schemas.leaves(Ns::User, ty, &[], &mut leaves);
        let mut last: Option<(usize, String)> = None;
        for leaf in leaves {
            let path: Vec<&str> = leaf.path.iter().map(|(_, n, _)| n.as_str()).collect();
            let path = path.join("/");
            if NOT_ATTRIBUTES.iter().any(|p| path.starts_with(p)) {
                continue;
            }
            let Some(&i) = by_path.get(&path) else {
                panic!("{op}: XSD element {path} is not in the catalogue");
            };
            let a = &ATTRIBUTES[i];
            // Namespaces of every segment (the qualified form depends on them).
            for (seg, (ns, name, max)) in a.segments.iter().zip(&leaf.path) {
                assert_eq!(seg.ns, *ns, "{}: namespace of {name}", a.name);
                let repeat_here = a
                    .repeat
                    .is_some_and(|r| a.segments[r.depth].name == name.as_str());
                let list_item =
                    a.value_type.is_list() && std::ptr::eq(seg, a.segments.last().unwrap());
                if *max > 1 && !list_item {
                    assert!(repeat_here, "{}: {name} repeats in the XSD", a.name);
                    assert_eq!(
                        u32::from(a.repeat.unwrap().max),
                        *max,
                        "{}: repeat count",
                        a.name
                    );
                }
            }
            // Element order: the catalogue lists elements in the XSD's order.
            if let Some((prev, prev_path)) = &last {
                assert!(
                    *prev < i,
                    "{op}: catalogue puts {path} before {prev_path}, the XSD after"
                );
            }
            last = Some((i, path.clone()));
            check_type(a.name, &a.value_type, &leaf);
            checked.insert(i);
        }
    }
    assert!(
        checked.len() > 180,
        "the oracle covered only {} attributes",
        checked.len()
    );
}

fn check_type(name: &str, ours: &ValueType, leaf: &Leaf) {
    let scalar = ours.scalar();
    let ok = match leaf.xsd_type.as_str() {
        "xsd:boolean" => *scalar == ScalarType::Bool,
        "xsd:long" => matches!(
            scalar,
            ScalarType::Int {
                kind: IntKind::Int64,
                ..
            }
        ),
        "xsd:int" | "xsd:integer" => matches!(
            scalar,
            ScalarType::Int {
                kind: IntKind::Int32,
                ..
            }
        ),
        "xsd:string" | "com:emailType" => {
            matches!(
                scalar,
                ScalarType::Text { .. } | ScalarType::Enum { .. } | ScalarType::Date
            )
        }
        other => other.contains(':') && matches!(scalar, ScalarType::Enum { .. }),
    };
    assert!(
        ok,
        "{name}: catalogue type {ours} does not fit XSD type {}",
        leaf.xsd_type
    );
    if let Some(max) = leaf.max_length {
        assert!(
            matches!(scalar, ScalarType::Text { max_len: Some(m), .. } if *m == max),
            "{name}: XSD maxLength is {max}, catalogue type is {ours}"
        );
    }
}

#[test]
fn the_service_features_name_exactly_the_default_service_types() {
    let ScalarType::Enum { values } = *wbxprov::schema::Attribute::SessionOptionsDefaultServiceType
        .info()
        .value_type
        .scalar()
    else {
        panic!("sessionOptionsDefaultServiceType is an enumeration");
    };
    let services: Vec<&str> = wbxprov::schema::FEATURES
        .iter()
        .filter_map(|f| f.service)
        .collect();
    let mut expected = values.to_vec();
    let mut got = services.clone();
    expected.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, expected);
}
