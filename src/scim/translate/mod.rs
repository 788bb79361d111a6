//! One translation layer between what identity providers send (RFC 7643
//! vocabularies: E.164 and RFC 3966 phones, IANA time zones, BCP-47 language
//! tags) and what a Meetings site keeps (the catalogue's `country,area,local`
//! phones, Webex zone names, `language` and `locale` values), both ways; and
//! the SCIM attributes a site has no place for (`name.middleName`,
//! `nickName`, the enterprise extension …), which wbxprov keeps.
//!
//! Reading phones needs libphonenumber's metadata (the `scim` cargo feature);
//! the rest is plain data.
//!
//! It lives in the SCIM front because only the front speaks those
//! vocabularies (a sync source maps straight to catalogue values); it needs
//! no server, so another front could call it too. The data is the
//! catalogue's (schema/time-zones.tsv, schema/languages.tsv, through
//! codegen); phones use libphonenumber's metadata.
//!
//! Inbound ([`inbound`]) rewrites the catalogue values `from_scim` read and
//! returns what wbxprov keeps ([`Kept`]); outbound ([`outbound`]) rewrites
//! the core attributes `to_scim` wrote (the extension keeps the site's own
//! forms) and adds the kept attributes. A value it cannot translate is an
//! error naming the attribute, the value and what would be accepted: never
//! dropped, never written in a foreign vocabulary.

pub mod kept;
pub mod language;
pub mod phone;
pub mod zone;

use serde_json::Value as Json;

pub use kept::Kept;

#[cfg(feature = "scim")]
use super::user::{PHONES, core_path};
use crate::schema::{Attribute, FlatKey, FlatUser, Value};

/// What translation needs to know about the site and its users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TranslateConfig {
    /// The ISO 3166 region of national phone numbers (`US`) when the user's
    /// address country is not a two-letter code (`scimDefaultRegion`).
    pub default_region: Option<String>,
    /// The BCP-47 tag of the site's default language (`scimSiteLanguage`):
    /// the last fallback of `preferredLanguage` and `locale`.
    pub site_language: Option<String>,
}

/// A value an identity provider sent that has no Meetings form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("{user}: {attribute} {value:?} {reason}; accepted: {accepted}")]
pub struct TranslateError {
    /// The user's userName, or `(new user)`.
    pub user: String,
    /// The SCIM attribute (`phoneNumbers[type eq "work"].value`, `timezone` …).
    pub attribute: String,
    /// The value as sent (never a secret: secrets are not translated).
    pub value: String,
    /// Why it has no Meetings form.
    pub reason: String,
    /// What the attribute accepts.
    pub accepted: String,
}

#[cfg(feature = "scim")]
struct Context<'a> {
    user: String,
    config: &'a TranslateConfig,
}

#[cfg(feature = "scim")]
impl Context<'_> {
    fn error(&self, a: Attribute, value: &str, reason: &str, accepted: &str) -> TranslateError {
        // A value longer than any that translates is shown cut: errors are logged.
        let shown: String = value.chars().take(phone::MAX_LEN).collect();
        TranslateError {
            user: self.user.clone(),
            attribute: core_path(a).unwrap_or_else(|| a.info().name.to_owned()),
            value: shown,
            reason: reason.to_owned(),
            accepted: accepted.to_owned(),
        }
    }
}

#[cfg(feature = "scim")]
fn text(flat: &FlatUser, a: Attribute) -> Option<String> {
    flat.text(a).map(str::to_owned)
}

#[cfg(feature = "scim")]
fn put(flat: &mut FlatUser, a: Attribute, value: &str) {
    flat.insert(FlatKey::new(a), Value::Text(value.to_owned()));
}

#[cfg(feature = "scim")]
/// Rewrites the IdP values `from_scim` read from `body` into `flat` as the
/// site keeps them, and returns what wbxprov keeps of the body.
pub fn inbound(
    body: &Json,
    flat: &mut FlatUser,
    config: &TranslateConfig,
) -> Result<Kept, TranslateError> {
    let cx = Context {
        user: flat.web_ex_id().unwrap_or("(new user)").to_owned(),
        config,
    };
    let mut kept = Kept::from_body(body).map_err(|(attribute, reason)| TranslateError {
        user: cx.user.clone(),
        attribute,
        value: String::new(),
        reason,
        accepted: format!("at most {} characters of text", kept::MAX_LEN),
    })?;
    phones(&cx, flat, &mut kept)?;
    time_zone(&cx, flat, &mut kept)?;
    languages(&cx, flat, &mut kept)?;
    Ok(kept)
}

#[cfg(feature = "scim")]
fn phones(cx: &Context<'_>, flat: &mut FlatUser, kept: &mut Kept) -> Result<(), TranslateError> {
    // The user's own country first: a national number is read as its country's.
    let region = text(flat, Attribute::AddressCountry)
        .and_then(|c| phone::region(&c))
        .or_else(|| cx.config.default_region.as_deref().and_then(phone::region));
    for (kind, a) in PHONES {
        let Some(sent) = text(flat, a) else { continue };
        if phone::is_meetings_form(&sent) {
            continue;
        }
        let written = phone::to_meetings(&sent, region).map_err(|p| {
            cx.error(
                a,
                &sent,
                p.reason(),
                "E.164 (+14155551212), an RFC 3966 tel: URI, or a national number with scimDefaultRegion set",
            )
        })?;
        put(flat, a, &written.meetings);
        if let Some(uri) = &written.with_extension {
            kept.remember(&format!("phoneNumbers.{kind}"), uri, &written.meetings);
        }
    }
    Ok(())
}

#[cfg(feature = "scim")]
fn time_zone(cx: &Context<'_>, flat: &mut FlatUser, kept: &mut Kept) -> Result<(), TranslateError> {
    let a = Attribute::TimeZone;
    let Some(sent) = text(flat, a) else {
        return Ok(());
    };
    let webex = zone::to_webex(&sent).ok_or_else(|| {
        cx.error(
            a,
            &sent,
            "is no time zone a Webex site keeps",
            zone::ACCEPTED,
        )
    })?;
    put(flat, a, webex);
    if zone::to_iana(webex) != Some(sent.as_str()) && sent != webex {
        kept.remember("timezone", &sent, webex);
    }
    Ok(())
}

#[cfg(feature = "scim")]
fn languages(cx: &Context<'_>, flat: &mut FlatUser, kept: &mut Kept) -> Result<(), TranslateError> {
    let site = cx.config.site_language.as_deref();
    if let Some(sent) = text(flat, Attribute::Language) {
        let webex = language::language_to_webex(&sent, site).ok_or_else(|| {
            cx.error(
                Attribute::Language,
                &sent,
                "is no language a Webex site offers",
                &language::accepted_languages(),
            )
        })?;
        put(flat, Attribute::Language, webex);
        if language::language_to_bcp47(webex) != Some(sent.as_str()) && sent != webex {
            kept.remember("preferredLanguage", &sent, webex);
        }
    }
    if let Some(sent) = text(flat, Attribute::Locale) {
        let webex = language::locale_to_webex(&sent, site).ok_or_else(|| {
            cx.error(
                Attribute::Locale,
                &sent,
                "is no locale wbxprov knows a Webex value for",
                &language::accepted_locales(),
            )
        })?;
        put(flat, Attribute::Locale, webex);
        if language::locale_to_bcp47(webex) != Some(sent.as_str()) && sent != webex {
            kept.remember("locale", &sent, webex);
        }
    }
    Ok(())
}

/// The IdP form of a site value (`GMT+01:00, Europe (Berlin)` → `Europe/Berlin`).
type Canonical = fn(&str) -> Option<&'static str>;

/// Rewrites the core attributes of `resource` (as `to_scim` wrote them from
/// the site user) in the identity provider's vocabulary, and adds what
/// wbxprov keeps. A site value with no such form (a live site's empty phone
/// `49,,,,,,`, a locale no row names) leaves its core attribute out; the
/// extension still shows it as the site keeps it.
pub fn outbound(resource: &mut Json, user: &FlatUser, kept: &Kept) {
    let Some(map) = resource.as_object_mut() else {
        return;
    };
    if let Some(Json::Array(items)) = map.get_mut("phoneNumbers") {
        items.retain_mut(|item| {
            let kind = item["type"].as_str().unwrap_or_default().to_owned();
            let site = item["value"].as_str().unwrap_or_default().to_owned();
            let answer = kept
                .answer(&format!("phoneNumbers.{kind}"), &site)
                .map(str::to_owned)
                .or_else(|| phone::to_e164(&site));
            answer.map(|a| item["value"] = Json::String(a)).is_some()
        });
        if items.is_empty() {
            map.remove("phoneNumbers");
        }
    }
    let scalars: [(&str, Canonical); 3] = [
        ("timezone", zone::to_iana),
        ("preferredLanguage", language::language_to_bcp47),
        ("locale", language::locale_to_bcp47),
    ];
    for (name, canonical) in scalars {
        let Some(site) = map.get(name).and_then(Json::as_str).map(str::to_owned) else {
            continue;
        };
        match kept.answer(name, &site).or_else(|| canonical(&site)) {
            Some(answer) => map.insert(name.to_owned(), Json::String(answer.to_owned())),
            None => map.remove(name),
        };
    }
    // A user whose language only its languageID says.
    if !map.contains_key("preferredLanguage")
        && let Some(Value::Int(id)) = user.get(&FlatKey::new(Attribute::LanguageID))
        && let Some(tag) = language::language_of_id(*id).and_then(language::language_to_bcp47)
    {
        map.insert("preferredLanguage".into(), Json::String(tag.into()));
    }
    kept.add_to(resource);
}
