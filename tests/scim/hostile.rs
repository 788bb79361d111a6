//! Requests built to exhaust the SCIM front's stack (issue 15 item 1), shared
//! by the parser tests and the server tests. Included with `#[path]`.

/// Filters, each with the shape it has.
pub fn filters() -> Vec<(&'static str, String)> {
    vec![
        (
            "2,000 nested parentheses (4 KB)",
            format!("{}userName pr{}", "(".repeat(2000), ")".repeat(2000)),
        ),
        (
            "not ( ×1500",
            format!("{}userName pr{}", "not (".repeat(1500), ")".repeat(1500)),
        ),
        (
            "not ×10000",
            format!("{}userName pr", "not ".repeat(10_000)),
        ),
        (
            "emails[ ×3000",
            format!("{}type pr{}", "emails[".repeat(3000), "]".repeat(3000)),
        ),
        ("50,000 or terms", vec!["userName pr"; 50_000].join(" or ")),
    ]
}

/// PATCH paths.
pub fn patch_paths() -> Vec<(&'static str, String)> {
    vec![
        (
            "emails[ ×3000 in a path",
            format!(
                "emails[{}type pr{}].value",
                "emails[".repeat(3000),
                "]".repeat(3000)
            ),
        ),
        (
            "2,000 parentheses in a path",
            format!(
                "emails[{}type pr{}].value",
                "(".repeat(2000),
                ")".repeat(2000)
            ),
        ),
        // One sub-attribute at most (RFC 7644 §3.10), not an object 10,000 deep.
        ("10,000 dotted parts", vec!["name"; 10_000].join(".")),
    ]
}
