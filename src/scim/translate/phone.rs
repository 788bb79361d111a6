//! Phone numbers: any form an identity provider sends (E.164 `+14155551212`,
//! RFC 3966 `tel:+1-201-555-0123;ext=12`, national numbers with punctuation
//! `415.123.4567`, extensions) read with libphonenumber's metadata (the
//! `phonenumber` crate), written in the Meetings form `country,area,local`
//! (Cisco's getuser page: "a series of comma-separated values for country
//! code, area or city code, and local number", e.g. `11,444,5551212`; seed
//! 003; the catalogue's `phone` format), and read back as E.164.

#[cfg(feature = "scim")]
use phonenumber::{Mode, PhoneNumber, country};

/// The longest phone value read: the catalogue allows 64 characters on the
/// site; an identity provider's punctuation, `tel:` and extension add some.
pub const MAX_LEN: usize = 128;

#[cfg(feature = "scim")]
/// A number as a Meetings site keeps it, and what the site cannot keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingsPhone {
    /// `country,area,local`, e.g. `1,415,5551212`.
    pub meetings: String,
    /// With an extension, the number as an RFC 3966 URI
    /// (`tel:+1-201-555-0123;ext=1234`): the Meetings form has no field for
    /// the extension (no document says what the further fields of a live
    /// `49,,,,,,` hold), so wbxprov keeps this and answers it.
    pub with_extension: Option<String>,
}

#[cfg(feature = "scim")]
/// Why a phone value was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneProblem {
    /// Longer than 128 characters.
    TooLong,
    /// A national number and no region to read it in.
    NoRegion,
    /// Not a phone number in any form the reader knows.
    NotANumber,
}

#[cfg(feature = "scim")]
impl PhoneProblem {
    /// The reason, as error messages word it.
    pub fn reason(&self) -> &'static str {
        match self {
            PhoneProblem::TooLong => "is longer than 128 characters",
            PhoneProblem::NoRegion => {
                "is a national number, and neither the user's address country nor scimDefaultRegion says which country's"
            }
            PhoneProblem::NotANumber => "is not a phone number libphonenumber can read",
        }
    }
}

/// The Meetings form itself (`1,415,5551212`, or a live site's `49,,,,,,`):
/// 3 to 7 comma-separated fields of digits, the country code first.
pub fn is_meetings_form(value: &str) -> bool {
    let fields: Vec<&str> = value.split(',').collect();
    (3..=7).contains(&fields.len())
        && !fields[0].is_empty()
        && fields.iter().all(|f| f.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(feature = "scim")]
/// An ISO 3166 alpha-2 region (`US`, `de`), if `text` is one.
pub fn region(text: &str) -> Option<country::Id> {
    let text = text.trim();
    (text.len() == 2)
        .then(|| text.to_ascii_uppercase().parse().ok())
        .flatten()
}

#[cfg(feature = "scim")]
/// Reads `value` (a national number in `region`) into the Meetings form.
pub fn to_meetings(
    value: &str,
    region: Option<country::Id>,
) -> Result<MeetingsPhone, PhoneProblem> {
    if value.len() > MAX_LEN {
        return Err(PhoneProblem::TooLong);
    }
    let international = value.trim_start().starts_with('+')
        || value.trim_start().to_ascii_lowercase().starts_with("tel:+");
    if !international && region.is_none() {
        return Err(PhoneProblem::NoRegion);
    }
    let number = phonenumber::parse(if international { None } else { region }, value)
        .map_err(|_| PhoneProblem::NotANumber)?;
    let (code, area, local) = split(&number).ok_or(PhoneProblem::NotANumber)?;
    Ok(MeetingsPhone {
        meetings: format!("{code},{area},{local}"),
        with_extension: number
            .extension()
            .map(|_| number.format().mode(Mode::Rfc3966).to_string()),
    })
}

#[cfg(feature = "scim")]
/// Country code, area code and local number. The area code is the national
/// destination code as libphonenumber finds it
/// (`getLengthOfNationalDestinationCode`): the first group of the number's
/// international format when more groups follow; with Argentina's mobile
/// token `9`, the token and the next group.
fn split(number: &PhoneNumber) -> Option<(String, String, String)> {
    let e164 = number.format().mode(Mode::E164).to_string();
    let code = number.code().value().to_string();
    let national = e164.strip_prefix('+')?.strip_prefix(code.as_str())?;
    let formatted = number.format().mode(Mode::International).to_string();
    // The extension is not part of the number's groups.
    let formatted = formatted.split(" ext.").next().unwrap_or_default();
    let groups: Vec<&str> = formatted
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let area = match groups.as_slice() {
        [_, "9", next, _, ..] if code == "54" => format!("9{next}"),
        [_, first, _, ..] => (*first).to_owned(),
        _ => String::new(),
    };
    let local = national.strip_prefix(area.as_str());
    match local {
        Some(local) if !local.is_empty() => Some((code, area, local.to_owned())),
        _ => Some((code, String::new(), national.to_owned())).filter(|(_, _, n)| !n.is_empty()),
    }
}

/// The E.164 form of a Meetings phone (`1,415,5551212` → `+14155551212`);
/// `None` when it holds no number (`49,,,,,,`) or fields past the third.
pub fn to_e164(meetings: &str) -> Option<String> {
    if !is_meetings_form(meetings) {
        return None;
    }
    let fields: Vec<&str> = meetings.split(',').collect();
    if fields[3..].iter().any(|f| !f.is_empty()) || fields[2].is_empty() {
        return None;
    }
    Some(format!("+{}{}{}", fields[0], fields[1], fields[2]))
}

#[cfg(all(test, feature = "scim"))]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn meetings(value: &str, region: Option<&str>) -> Result<MeetingsPhone, PhoneProblem> {
        to_meetings(value, region.and_then(super::region))
    }

    #[test]
    fn every_form_an_identity_provider_sends() {
        for (sent, region, expected, extension) in [
            ("+14155551212", None, "1,415,5551212", None),
            ("tel:+1-201-555-0123", None, "1,201,5550123", None),
            ("415.123.4567", Some("US"), "1,415,1234567", None),
            ("(415) 555-1212", Some("us"), "1,415,5551212", None),
            ("+41 44 555 12 12", None, "41,44,5551212", None),
            ("044 555 12 12", Some("CH"), "41,44,5551212", None),
            ("+442079460018", None, "44,20,79460018", None),
            ("+390612345678", None, "39,06,12345678", None),
            ("+5491123456789", None, "54,911,23456789", None),
            (
                "tel:+1-201-555-0123;ext=1234",
                None,
                "1,201,5550123",
                Some("tel:+1-201-555-0123;ext=1234"),
            ),
            (
                "+1 415 555 1212 ext. 55",
                None,
                "1,415,5551212",
                Some("tel:+1-415-555-1212;ext=55"),
            ),
        ] {
            let got = meetings(sent, region).unwrap_or_else(|e| panic!("{sent}: {e:?}"));
            assert_eq!(got.meetings, expected, "{sent}");
            assert_eq!(got.with_extension.as_deref(), extension, "{sent}");
            // What is answered reads again as the same number.
            if let Some(uri) = extension {
                assert_eq!(meetings(uri, None).unwrap(), got, "{uri}");
            }
        }
    }

    #[test]
    fn what_cannot_be_read_says_why() {
        assert_eq!(meetings("415.123.4567", None), Err(PhoneProblem::NoRegion));
        assert_eq!(
            meetings("call me", Some("US")),
            Err(PhoneProblem::NotANumber)
        );
        assert_eq!(
            meetings(&"1".repeat(200), Some("US")),
            Err(PhoneProblem::TooLong)
        );
    }

    #[test]
    fn meetings_form_reads_back_as_e164() {
        assert_eq!(to_e164("1,415,5551212").as_deref(), Some("+14155551212"));
        assert_eq!(to_e164("41,44,5551212").as_deref(), Some("+41445551212"));
        assert_eq!(to_e164("1,,4155551212").as_deref(), Some("+14155551212"));
        // A live site's empty phone (erolms capture): no number to show.
        assert_eq!(to_e164("49,,,,,,"), None);
        assert_eq!(to_e164("+14155551212"), None);
        assert!(is_meetings_form("49,,,,,,") && !is_meetings_form(",415,5551212"));
    }

    proptest! {
        /// Whatever number is read, its Meetings form reads back as the
        /// number's own E.164 form.
        #[test]
        fn round_trip_through_the_meetings_form(
            code in prop::sample::select(vec!["1", "44", "49", "41", "33", "39", "81", "61", "55", "65"]),
            digits in "[1-9][0-9]{6,10}",
        ) {
            let sent = format!("+{code}{digits}");
            if let Ok(number) = phonenumber::parse(None, &sent) {
                let e164 = number.format().mode(Mode::E164).to_string();
                let written = to_meetings(&sent, None).unwrap();
                prop_assert!(is_meetings_form(&written.meetings), "{}", written.meetings);
                prop_assert_eq!(to_e164(&written.meetings), Some(e164));
            }
        }
    }
}
