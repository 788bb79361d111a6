//! `src/schema/generated.rs` must be what the generator makes of `schema/` today.

mod common;

use std::fs;

fn schema(file: &str) -> String {
    fs::read_to_string(common::repo_root().join("schema").join(file)).unwrap()
}

fn tables() -> (String, String, String) {
    (
        schema("user-attributes.tsv"),
        schema("site-features.tsv"),
        schema("time-zones.tsv"),
    )
}

fn languages() -> String {
    schema("languages.tsv")
}

#[test]
fn generated_module_is_up_to_date() {
    let (attrs, features, zones) = tables();
    let fresh = wbxprov_codegen::generate_from(&attrs, &features, &zones, &languages())
        .expect("the catalogue is valid");
    let checked_in =
        fs::read_to_string(common::repo_root().join(wbxprov_codegen::GENERATED_PATH)).unwrap();
    if fresh != checked_in {
        let line = fresh
            .lines()
            .zip(checked_in.lines())
            .position(|(a, b)| a != b)
            .map_or_else(|| "the end".to_owned(), |l| format!("line {}", l + 1));
        panic!(
            "{} is stale (first difference at {line}): run `cargo run -p wbxprov-codegen` and commit the result",
            wbxprov_codegen::GENERATED_PATH
        );
    }
}

/// The check above can fail: any edit of a row changes the generated text.
#[test]
fn editing_a_row_changes_the_generated_module() {
    let (attrs, features, zones) = tables();
    let base = wbxprov_codegen::generate_from(&attrs, &features, &zones, &languages()).unwrap();
    let edits = [
        (
            "privilege/HQvideo\tbool\tcsg\thqVideo",
            "privilege/HQvideo\tbool\tsg\thqVideo",
        ),
        (
            "\tstring(128)\tcsg\t-\t-\txml\tThe user’s company name",
            "\tstring(100)\tcsg\t-\t-\txml\tThe user’s company name",
        ),
        (
            "\tstring(128)\tcsg\t-\t-\txml\tThe user’s company name",
            "\tstring(128)\tcsg\t-\t-\tpreferences\tThe user’s company name",
        ),
        (
            "personalMeetingRoom/hostPIN\tstring\tcsg\tpersonalMeetingRoom\tsecret",
            "personalMeetingRoom/hostPIN\tstring\tcsg\tpersonalMeetingRoom\t-",
        ),
    ];
    for (from, to) in edits {
        assert!(
            attrs.contains(from),
            "fixture edit `{from}` no longer matches the catalogue"
        );
        let edited = wbxprov_codegen::generate_from(
            &attrs.replacen(from, to, 1),
            &features,
            &zones,
            &languages(),
        )
        .unwrap();
        assert_ne!(edited, base, "editing `{from}` did not change the output");
    }
}

/// A bad row stops generation with its file and line, instead of emitting code.
#[test]
fn invalid_rows_are_rejected_with_their_line() {
    let (attrs, features, zones) = tables();
    let cases = [
        (
            "\thqVideo\t",
            "\thqVideoo\t",
            "feature `hqVideoo` is not in site-features.tsv",
        ),
        (
            "privilege/HQvideo\tbool",
            "privilege/host\tbool",
            "path `privilege/host` repeats",
        ),
        (
            "privilege/HQvideo\tbool",
            "privilege/HQvideo\tboolean",
            "unknown type `boolean`",
        ),
        (
            "tspAccount/tspAccount[3]/",
            "tspAccount/tspAccount/",
            "struct TspAccount",
        ),
        (
            "\tcsg\t-\t-\tsessionTypes\t",
            "\tcsg\t-\t-\trest\t",
            "controlHub `rest` is not one of",
        ),
        (
            "\tcsg\t-\t-\tsessionTypes\t",
            "\tcsg\t-\t-\tidentity\t",
            "disagrees with the identity flag",
        ),
    ];
    for (from, to, expected) in cases {
        let err = wbxprov_codegen::generate_from(
            &attrs.replace(from, to),
            &features,
            &zones,
            &languages(),
        )
        .expect_err(expected)
        .to_string();
        assert!(
            err.contains(expected),
            "`{err}` should mention `{expected}`"
        );
        assert!(err.starts_with("schema/user-attributes.tsv:"), "{err}");
    }
}

/// Issue 16 item 5: every gate cites its evidence; a feature row without a
/// source stops generation.
#[test]
fn a_feature_without_a_source_is_rejected() {
    let (attrs, features, zones) = tables();
    let row = features
        .lines()
        .find(|l| l.starts_with("hqVideo\t"))
        .unwrap();
    let (rest, _source) = row.rsplit_once('\t').unwrap();
    for (blank, expected) in [
        ("-", "`hqVideo` cites no source"),
        ("", "`source` is empty"),
    ] {
        let edited = features.replace(row, &format!("{rest}\t{blank}"));
        let err = wbxprov_codegen::generate_from(&attrs, &edited, &zones, &languages())
            .expect_err("a feature without a source")
            .to_string();
        assert!(err.starts_with("schema/site-features.tsv:"), "{err}");
        assert!(err.contains(expected), "{err}");
    }
}

/// The translation tables fail generation on a bad row, naming file and line.
#[test]
fn bad_translation_rows_are_refused_with_their_line() {
    let (attrs, features, zones) = tables();
    let languages = languages();
    let berlin = "Europe/Berlin Europe/Vienna Europe/Zurich";
    for (edited_zones, expected) in [
        (
            zones.replace(berlin, "Europe/Berlinn"),
            "Europe/Berlinn is not an IANA zone",
        ),
        (
            zones.replace(berlin, "Europe/Berlin Europe/Paris"),
            "Europe/Paris is listed twice",
        ),
        (
            zones.replacen("\tmatches\t", "\tsure\t", 1),
            "label must be",
        ),
    ] {
        assert_ne!(edited_zones, zones, "the fixture edit no longer matches");
        let err = wbxprov_codegen::generate_from(&attrs, &features, &edited_zones, &languages)
            .expect_err(expected)
            .to_string();
        assert!(err.starts_with("schema/time-zones.tsv"), "{err}");
        assert!(err.contains(expected), "{err}");
    }
    for (edited, expected) in [
        (
            languages.replace("\tde-DE de de-AT", "\tde_DE de"),
            "not a BCP-47 tag",
        ),
        (
            languages.replace("\tpt-PT pt\t", "\tpt-PT pt-BR\t"),
            "listed twice",
        ),
        (
            languages.replace("GERMANY\tlocale\t-", "GERMANY\tlocale\t9"),
            "a locale `-`",
        ),
    ] {
        assert_ne!(edited, languages, "the fixture edit no longer matches");
        let err = wbxprov_codegen::generate_from(&attrs, &features, &zones, &edited)
            .expect_err(expected)
            .to_string();
        assert!(err.starts_with("schema/languages.tsv:"), "{err}");
        assert!(err.contains(expected), "{err}");
    }
}
