//! Languages and locales: BCP-47 tags (RFC 5646: `en-US`, `de`, `pt-BR`,
//! `zh-Hans-CN`; Okta's and Entra's `en_US` too, spec identity-providers.md)
//! ↔ the Webex `language` values of com:languageType and the `locale` values
//! live sites returned, from schema/languages.tsv.
//!
//! Fallbacks, in order: the tag itself; the tag less its last subtags
//! (`de-AT` → `de`, `zh-Hans-SG` → `zh-Hans`); for a locale, any row of the
//! same language (`de-AT` → `de-DE`); then the site's default
//! (`scimSiteLanguage`), when configured.

use crate::schema::{WEBEX_LANGUAGES, WEBEX_LOCALES};

/// The longest tag read (RFC 5646 tags in use are far shorter).
pub const MAX_LEN: usize = 64;

/// `en_US` → `en-us`, if `tag` is a well-formed BCP-47 tag.
fn normalize(tag: &str) -> Option<String> {
    let tag = tag.trim().replace('_', "-").to_ascii_lowercase();
    let well_formed = tag.len() <= MAX_LEN
        && tag
            .split('-')
            .all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()));
    well_formed.then_some(tag)
}

/// The row whose tags hold `tag` or, failing that, `tag` less its last subtags.
fn by_tag<'a, T>(rows: &'a [(&'static str, T)], tag: &str) -> Option<&'a (&'static str, T)>
where
    T: AsRef<[&'static str]>,
{
    let mut tag = tag;
    loop {
        let found = rows
            .iter()
            .find(|(_, tags)| tags.as_ref().iter().any(|t| t.eq_ignore_ascii_case(tag)));
        if found.is_some() {
            return found;
        }
        tag = &tag[..tag.rfind('-')?];
    }
}

fn languages() -> Vec<(&'static str, &'static [&'static str])> {
    WEBEX_LANGUAGES
        .iter()
        .map(|(name, _, tags)| (*name, *tags))
        .collect()
}

/// The Webex language a tag (or a Webex language value) means; `site` is the
/// site's default tag, the last fallback.
pub fn language_to_webex(value: &str, site: Option<&str>) -> Option<&'static str> {
    if let Some((name, ..)) = WEBEX_LANGUAGES
        .iter()
        .find(|(n, ..)| n.eq_ignore_ascii_case(value.trim()))
    {
        return Some(name);
    }
    let rows = languages();
    let own = normalize(value).and_then(|t| by_tag(&rows, &t).map(|(n, _)| *n));
    own.or_else(|| {
        let site = normalize(site?)?;
        by_tag(&rows, &site).map(|(n, _)| *n)
    })
}

/// The Webex locale a tag (or a Webex locale value) means.
pub fn locale_to_webex(value: &str, site: Option<&str>) -> Option<&'static str> {
    if let Some((name, _)) = WEBEX_LOCALES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(value.trim()))
    {
        return Some(name);
    }
    let of = |tag: &str| -> Option<&'static str> {
        let tag = normalize(tag)?;
        if let Some((name, _)) = by_tag(WEBEX_LOCALES, &tag) {
            return Some(name);
        }
        // Another region of the same language: `de-AT` → GERMANY.
        let language = tag.split('-').next()?;
        WEBEX_LOCALES
            .iter()
            .find(|(_, tags)| tags.iter().any(|t| t.split('-').next() == Some(language)))
            .map(|(name, _)| *name)
    };
    of(value).or_else(|| of(site?))
}

/// The tag SCIM answers for a Webex language: the first of its row.
pub fn language_to_bcp47(webex: &str) -> Option<&'static str> {
    WEBEX_LANGUAGES
        .iter()
        .find(|(n, ..)| *n == webex)
        .and_then(|(_, _, tags)| tags.first().copied())
}

/// The Webex language of a `languageID` (position in com:languageType,
/// schema/languages.tsv), for a user whose `language` is not given.
pub fn language_of_id(id: i64) -> Option<&'static str> {
    WEBEX_LANGUAGES
        .iter()
        .find(|(_, i, _)| *i == id)
        .map(|(n, ..)| *n)
}

/// The tag SCIM answers for a Webex locale.
pub fn locale_to_bcp47(webex: &str) -> Option<&'static str> {
    WEBEX_LOCALES
        .iter()
        .find(|(n, _)| *n == webex)
        .and_then(|(_, tags)| tags.first().copied())
}

/// What `preferredLanguage` accepts, for an error.
pub fn accepted_languages() -> String {
    let tags: Vec<&str> = WEBEX_LANGUAGES.iter().map(|(_, _, t)| t[0]).collect();
    format!("a BCP-47 tag of a Webex language: {}", tags.join(", "))
}

/// What `locale` accepts, for an error.
pub fn accepted_locales() -> String {
    let tags: Vec<&str> = WEBEX_LOCALES.iter().map(|(_, t)| t[0]).collect();
    format!(
        "a BCP-47 tag of a language with a Webex locale ({}), or any tag once scimSiteLanguage names the site's default",
        tags.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// A tag of a row with any region added (that is not a row of its
        /// own) still means the row's language: the fallback drops the region.
        #[test]
        fn a_region_never_loses_the_language(row in 0..WEBEX_LANGUAGES.len(), region in "[A-Z]{2}") {
            let (webex, _, tags) = WEBEX_LANGUAGES[row];
            let base = tags.iter().find(|t| !t.contains('-')).copied();
            if let Some(base) = base {
                let tag = format!("{base}-{region}");
                let expected = WEBEX_LANGUAGES
                    .iter()
                    .find(|(_, _, ts)| ts.iter().any(|t| t.eq_ignore_ascii_case(&tag)))
                    .map_or(webex, |(w, ..)| *w);
                prop_assert_eq!(language_to_webex(&tag, None), Some(expected));
                prop_assert_eq!(language_to_webex(&tag.replace('-', "_"), None), Some(expected));
            }
        }

        /// Whatever is sent, the answer is a Webex language or nothing: never
        /// the sent text itself (no foreign vocabulary reaches the site).
        #[test]
        fn only_webex_values_come_out(sent in "\\PC{0,80}") {
            if let Some(webex) = language_to_webex(&sent, None) {
                prop_assert!(WEBEX_LANGUAGES.iter().any(|(w, ..)| *w == webex));
            }
            if let Some(webex) = locale_to_webex(&sent, None) {
                prop_assert!(WEBEX_LOCALES.iter().any(|(w, _)| *w == webex));
            }
        }
    }

    #[test]
    fn tags_map_to_webex_languages() {
        for (tag, webex) in [
            ("en-US", "ENGLISH"),
            ("en_US", "ENGLISH"),
            ("EN", "ENGLISH"),
            ("en-GB", "INTERNATIONAL ENGLISH"),
            ("de", "GERMAN"),
            ("de-AT", "GERMAN"),
            ("de-LI", "GERMAN"),
            ("pt-BR", "BRAZILIAN PORTUGUESE"),
            ("pt", "PORTUGUESE"),
            ("zh-Hans-CN", "SIMPLIFIED CHINESE"),
            ("zh-Hans-SG", "SIMPLIFIED CHINESE"),
            ("zh-Hant-HK", "TRADITIONAL CHINESE"),
            ("es-419", "LATIN AMERICAN SPANISH"),
            ("es-US", "SPANISH"),
            ("fr-CA", "CANADIAN FRENCH"),
            ("GERMAN", "GERMAN"),
        ] {
            assert_eq!(language_to_webex(tag, None), Some(webex), "{tag}");
        }
    }

    #[test]
    fn the_site_default_is_the_last_fallback() {
        assert_eq!(language_to_webex("pl-PL", None), None);
        assert_eq!(language_to_webex("pl-PL", Some("en-US")), Some("ENGLISH"));
        assert_eq!(
            language_to_webex("not a tag!", Some("en-US")),
            Some("ENGLISH")
        );
        assert_eq!(locale_to_webex("fr-FR", None), None);
        assert_eq!(locale_to_webex("fr-FR", Some("de-CH")), Some("GERMANY"));
    }

    #[test]
    fn tags_map_to_webex_locales() {
        assert_eq!(locale_to_webex("en-US", None), Some("U.S."));
        assert_eq!(locale_to_webex("en_US", None), Some("U.S."));
        assert_eq!(locale_to_webex("de-DE", None), Some("GERMANY"));
        assert_eq!(locale_to_webex("de-AT", None), Some("GERMANY"));
        assert_eq!(locale_to_webex("de", None), Some("GERMANY"));
        assert_eq!(locale_to_webex("U.S.", None), Some("U.S."));
    }

    #[test]
    fn every_webex_value_reads_back_as_a_tag_that_maps_to_it() {
        for (name, id, _) in WEBEX_LANGUAGES {
            let tag = language_to_bcp47(name).unwrap();
            assert_eq!(language_to_webex(tag, None), Some(*name), "{tag}");
            assert_eq!(language_of_id(*id), Some(*name));
        }
        for (name, _) in WEBEX_LOCALES {
            let tag = locale_to_bcp47(name).unwrap();
            assert_eq!(locale_to_webex(tag, None), Some(*name), "{tag}");
        }
        // Live data points: languageID 1 (ATLAS) and 9 (erolms).
        assert_eq!(language_of_id(1), Some("ENGLISH"));
        assert_eq!(language_of_id(9), Some("GERMAN"));
    }
}
