//! The service's verdicts wbxprov acts on: one table of exception IDs and one of
//! reason texts, each row with where it was seen. [`classify`](super::decode::classify)
//! reads them; the simulator answers with their words; README's error table
//! lists them (a test keeps it in step). An ID in neither table is `other`.
//!
//! `fixtures/real/README.md` gives the provenance of every document named here.

use super::decode::ServiceErrorKind::{self, *};

/// One exception ID and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// The exception ID, e.g. `030001`.
    pub exception_id: &'static str,
    /// What the ID means.
    pub kind: ServiceErrorKind,
    /// The reason the service sends with it (the simulator's words too);
    /// `source` says whether a real document shows these words.
    pub reason: &'static str,
    /// `subError`s the service sends with it: (exceptionID, reason).
    pub sub_errors: &'static [(&'static str, &'static str)],
    /// Where the ID, its meaning and its words come from.
    pub source: &'static str,
}

/// Every exception ID with a kind of its own.
pub const CODES: &[Code] = &[
    Code {
        exception_id: "000001",
        kind: AccessDenied,
        reason: "Access denied, additional privileges are required",
        sub_errors: &[],
        source: "live response in Cisco's admin portal tests: fixtures/real/responses/failure_000001_access_denied_atlas.xml",
    },
    Code {
        exception_id: "000015",
        kind: NoRecords,
        reason: "Sorry, no record found",
        sub_errors: &[],
        source: "meaning: a client's code comment (Moodle webex.php, 'No records found'); the words are wbxprov's, no document shows the service's",
    },
    Code {
        exception_id: "000035",
        kind: ServiceUnavailable,
        reason: "ASService not responding",
        sub_errors: &[],
        source: "live response in Cisco's admin portal tests: fixtures/real/responses/failure_000035_ASService_not_responding_atlas.xml (the portal treats it as a transient 'process error')",
    },
    Code {
        exception_id: "000045",
        kind: RateLimited,
        reason: "API Rate Limit Reached",
        sub_errors: &[],
        source: "meaning: Cisco's XML API 10.0 release notes (../shared/spec/xml-api.md §4); the words are wbxprov's, no document shows the service's",
    },
    Code {
        exception_id: "010107",
        kind: SiteSuspended,
        reason: "The site is suspended",
        sub_errors: &[],
        source: "issue 16's reporter; no document or table found shows it",
    },
    Code {
        exception_id: "030001",
        kind: UserNotFound,
        reason: "Corresponding User not found",
        sub_errors: &[],
        source: "meaning: a client's code comment (Moodle webex.php) and Cisco's admin portal table (fixtures/real/evidence/exception_table_*); the words are wbxprov's, no document shows the service's",
    },
    Code {
        exception_id: "030002",
        kind: WrongCredentials,
        reason: "Incorrect user or password",
        sub_errors: &[],
        source: "response in a Java test: fixtures/real/responses/failure_030002_incorrect_user_or_password_java_TestXMLGenerator.xml",
    },
    Code {
        exception_id: "030004",
        kind: WebExIdExists,
        reason: "User name already exists",
        sub_errors: &[],
        source: "meaning: Moodle webex.php and Cisco's admin portal table ('WebexID or Email is already in use'); the words are wbxprov's",
    },
    Code {
        exception_id: "030005",
        kind: EmailExists,
        reason: "E-mail address already exists",
        sub_errors: &[],
        source: "meaning: Moodle webex.php and Cisco's admin portal table ('WebexID or Email is already in use'); the words are wbxprov's",
    },
    Code {
        exception_id: "030010",
        kind: LicenceLimit,
        reason: "Number of hosts exceeded limit.",
        sub_errors: &[],
        source: "Cisco's admin portal table (fixtures/real/evidence/exception_table_*), portal text; no response document seen",
    },
    Code {
        exception_id: "030047",
        kind: InvalidSessionTicket,
        reason: "Not a valid session ticket",
        sub_errors: &[],
        source: "live capture: fixtures/real/responses/erolms_user_get_user_response_bad.http",
    },
    Code {
        exception_id: "030048",
        kind: AuthenticationFailed,
        reason: "Authentication Server can't generate a valid session ticket",
        sub_errors: &[("AS0001", "authentication service error")],
        source: "live response posted on communities.cisco.com/thread/86845: fixtures/real/responses/failure_030048_AS0001_subErrors_communities_cisco_86845.xml (AuthenticateUser with a token the service refused)",
    },
    Code {
        exception_id: "110055",
        kind: LicenceLimit,
        reason: "User limit exceeded for Session Type",
        sub_errors: &[],
        source: "ID: Cisco's admin portal table ('User limit exceeded for the session type \"…\"', portal text) and code, which checks 110055; words: seed 003 (Okta's troubleshooting page); no response document seen",
    },
];

/// How a reason text is matched, case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonPattern {
    /// The reason contains the text.
    Contains(&'static str),
    /// The reason starts with the text.
    StartsWith(&'static str),
    /// "Attribute X needs to be Y".
    AttributeNeedsToBe,
}

/// A reason text that classifies a FAILURE whose ID is in no row of [`CODES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason {
    /// How the reason text is matched.
    pub pattern: ReasonPattern,
    /// The kind a match gives.
    pub kind: ServiceErrorKind,
    /// Where the reason text and its meaning come from.
    pub source: &'static str,
}

/// Reason texts with a kind, tried in order.
pub const REASONS: &[Reason] = &[
    Reason {
        pattern: ReasonPattern::Contains("exceededsitehostlimit"),
        kind: LicenceLimit,
        source: "Cisco's user-service elements page: CreateUser/SetUser return exceededSiteHostLimit (../shared/spec/xml-api.md §4); no exceptionID given",
    },
    Reason {
        pattern: ReasonPattern::Contains("user limit exceeded"),
        kind: LicenceLimit,
        source: "seed 003 (Okta's troubleshooting page): 'User limit exceeded for Session Type'",
    },
    Reason {
        pattern: ReasonPattern::Contains("rate limit"),
        kind: RateLimited,
        source: "wbxprov's fallback for a rate-limit answer without 000045; no document shows one",
    },
    Reason {
        pattern: ReasonPattern::AttributeNeedsToBe,
        kind: FeatureNotEnabled,
        source: "seed 003 (Okta's troubleshooting page): 'Attribute X needs to be Y'",
    },
    Reason {
        pattern: ReasonPattern::StartsWith("can't set field"),
        kind: FeatureNotEnabled,
        source: "seed 003 (Okta's troubleshooting page): 'Can't set field'",
    },
];

/// The row of an exception ID.
pub fn code(exception_id: &str) -> Option<&'static Code> {
    CODES.iter().find(|c| c.exception_id == exception_id.trim())
}

impl ReasonPattern {
    /// Whether `reason` (trimmed) matches.
    pub fn matches(self, reason: &str) -> bool {
        let lower = reason.trim().to_ascii_lowercase();
        match self {
            ReasonPattern::Contains(p) => lower.contains(p),
            ReasonPattern::StartsWith(p) => lower.starts_with(p),
            ReasonPattern::AttributeNeedsToBe => {
                lower.starts_with("attribute ") && lower.contains(" needs to be ")
            }
        }
    }
}

/// The kind a reason text gives, when no ID does.
pub fn reason_kind(reason: &str) -> Option<ServiceErrorKind> {
    REASONS
        .iter()
        .find(|r| r.pattern.matches(reason))
        .map(|r| r.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_sourced() {
        for (i, c) in CODES.iter().enumerate() {
            assert!(
                CODES[..i].iter().all(|o| o.exception_id != c.exception_id),
                "{} twice",
                c.exception_id
            );
            assert!(!c.source.is_empty() && !c.reason.is_empty());
        }
    }

    /// README's error table has one row per exception ID, with its kind.
    #[test]
    fn readme_error_table_agrees_with_the_codes() {
        let readme = include_str!("../../README.md");
        for c in CODES {
            let row = format!("| {} | `{}` |", c.exception_id, c.kind);
            assert!(readme.contains(&row), "README lacks the row {row}");
        }
        for r in REASONS {
            assert!(
                readme.contains(&format!("`{}`", r.kind)),
                "README lacks {}",
                r.kind
            );
        }
    }
}
