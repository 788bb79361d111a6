//! Fuzzes SCIM filters, the text any client of `wbxprov scim serve` controls:
//! for any bytes, parsing as a filter (`wbxprov::scim::Filter`) returns `Ok` or
//! `Err`, and a filter that parses is matched against a fixed SCIM user and its
//! email items, as the list and PATCH code do; the same text as a PATCH `path`
//! is applied to a copy of the user. Nothing may panic, overflow the stack or
//! run away in time or memory (issue 15 item 1).
//!
//! Run from the repository root (on a stable toolchain, `RUSTC_BOOTSTRAP=1`
//! lets cargo-fuzz pass its `-Z` flags):
//!
//! ```sh
//! RUSTC_BOOTSTRAP=1 cargo fuzz run scim_filter -- -max_total_time=600
//! ```

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Value as Json, json};
use wbxprov::scim::user::{CORE, ENTERPRISE, EXTENSION};
use wbxprov::scim::{Filter, patch};

/// A SCIM User with every kind of value a filter compares: strings, a
/// boolean, numbers, null, a complex attribute, multi-valued attributes and
/// extension attributes.
static USER: LazyLock<Json> = LazyLock::new(|| {
    json!({
        "schemas": [CORE, ENTERPRISE, EXTENSION],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "userName": "Ann.Lee@example.com",
        "name": {"givenName": "Ann", "familyName": "Lee", "middleName": null},
        "displayName": "Ann Lee",
        "active": true,
        "emails": [
            {"value": "ann.lee@example.com", "type": "work", "primary": true},
            {"value": "ann@home.example", "type": "home"}
        ],
        "phoneNumbers": [{"value": "1,408,5551212", "type": "work"}],
        "meta": {"resourceType": "User", "created": "2026-11-23T15:01:07Z"},
        (ENTERPRISE): {"organization": "Acme"},
        (EXTENSION): {"timeZoneID": 4, "languageID": 1, "meetingTypes": [1, 2, 3], "title": ""}
    })
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(filter) = text.parse::<Filter>() {
        let _ = filter.matches(&USER);
        for email in USER["emails"].as_array().into_iter().flatten() {
            let _ = filter.matches(email);
        }
    }
    let mut user = USER.clone();
    let body = json!({"Operations": [{"op": "replace", "path": text, "value": "x"}]});
    let _ = patch::apply(&mut user, &body);
});
