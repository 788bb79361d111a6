//! A simulated site's state file with many users, written in one SQLite
//! transaction instead of one CreateUser each (issue 21's streaming tests and
//! `benches/import.rs`). Included with `#[path]` by those that need it.

use std::path::Path;

use wbxprov::schema::{Attribute, FlatKey, FlatUser, Value};

/// User `i`: names, email, a privilege and a list. Every 250th last name
/// holds a comma (quoted in CSV).
pub fn site_user(i: usize) -> FlatUser {
    let text = |s: String| Value::Text(s);
    let last = if i % 250 == 7 {
        format!("Last{i}, Jr.")
    } else {
        format!("Last{i}")
    };
    [
        (Attribute::WebExId, text(format!("user{i:06}"))),
        (Attribute::FirstName, text(format!("First{i}"))),
        (Attribute::LastName, text(last)),
        (Attribute::Email, text(format!("user{i:06}@example.com"))),
        (Attribute::Active, text("ACTIVATED".into())),
        (Attribute::PrivilegeHost, Value::Bool(!i.is_multiple_of(3))),
        (Attribute::MeetingTypes, Value::IntList(vec![214, 216])),
    ]
    .into_iter()
    .map(|(a, v)| (FlatKey::new(a), v))
    .collect()
}

/// The simulator's state file holding users `0..n`, user `i` with userId
/// 1,000,000 + i (the simulator lists by userId).
pub fn write_state(path: &Path, n: usize) {
    let _ = std::fs::remove_file(path);
    // The library creates the table, so its layout is the simulator's own.
    drop(wbxprov::sim::store::Sqlite::open(path).expect("state file"));
    let mut db = rusqlite::Connection::open(path).expect("open state");
    let tx = db.transaction().expect("transaction");
    {
        let mut insert = tx
            .prepare("INSERT INTO users (web_ex_id, user_id, attributes) VALUES (?1, ?2, ?3)")
            .expect("the simulator's users table");
        for i in 0..n {
            let flat = site_user(i);
            // As the simulator's store writes a user (`Sqlite::save`).
            let json = serde_json::Value::Object(flat.to_json(false)).to_string();
            let id = flat.web_ex_id().expect("webExId").to_owned();
            insert
                .execute(rusqlite::params![id, 1_000_000 + i as i64, json])
                .expect("insert user");
        }
    }
    tx.commit().expect("commit");
}
