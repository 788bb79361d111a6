//! SCIM ids and externalIds, kept in SQLite: a Meetings site has neither.
//!
//! A SCIM id names a site user (by Webex ID) for as long as the identity
//! provider knows it; a rename keeps the id. DELETE leaves a tombstone: the
//! site user is deactivated (the XML API cannot delete), and the SCIM id
//! answers 404 from then on, as RFC 7644 §3.6 asks.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

/// What the store knows of one SCIM User.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub web_ex_id: String,
    pub external_id: Option<String>,
    /// The displayName a SCIM client set: `None` never set (the names
    /// stand in), `Some("")` removed.
    pub display_name: Option<String>,
    /// When a SCIM client last changed the user (RFC 3339), if ever.
    pub last_modified: Option<String>,
    pub deleted: bool,
    /// What wbxprov keeps of the user that the site cannot (JSON of
    /// [`super::translate::Kept`]), if anything.
    pub kept: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("SCIM id store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The state file could not be created owner-only.
    #[error("SCIM id store {}: {source}", path.display())]
    File {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

pub struct IdStore {
    db: Mutex<Connection>,
}

impl std::fmt::Debug for IdStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdStore")
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS scim_users (
    id          TEXT PRIMARY KEY,
    web_ex_id   TEXT NOT NULL COLLATE NOCASE,
    external_id TEXT,
    deleted     INTEGER NOT NULL DEFAULT 0,
    display_name  TEXT,
    last_modified TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS scim_users_live ON scim_users (web_ex_id) WHERE deleted = 0;
CREATE INDEX IF NOT EXISTS scim_users_external ON scim_users (external_id);
CREATE INDEX IF NOT EXISTS scim_users_web_ex_id ON scim_users (web_ex_id);
-- What a site has no place for (middleName, nickName, enterprise attributes, sent values
-- of translated attributes), by SCIM id: scim::translate::Kept as JSON.
CREATE TABLE IF NOT EXISTS scim_kept (
    id   TEXT PRIMARY KEY,
    kept TEXT NOT NULL
);
";

fn entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        id: row.get(0)?,
        web_ex_id: row.get(1)?,
        external_id: row.get(2)?,
        deleted: row.get(3)?,
        display_name: row.get(4)?,
        last_modified: row.get(5)?,
        kept: row.get(6)?,
    })
}

const COLUMNS: &str = "id, web_ex_id, external_id, deleted, display_name, last_modified, \
    (SELECT kept FROM scim_kept WHERE scim_kept.id = scim_users.id)";

/// Now, as RFC 3339 UTC (`2026-11-23T15:01:07Z`).
pub fn now_rfc3339() -> String {
    crate::civil::Utc::now().rfc3339()
}

/// A fresh SCIM id: 128 random bits in the UUID layout.
fn new_id() -> String {
    let (a, b) = (crate::client::random_u64(), crate::client::random_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        (b >> 48) & 0x3fff | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

impl IdStore {
    /// A store in `path` (created if missing, owner-only: it names every
    /// user the identity provider manages), or in memory with `None`.
    pub fn open(path: Option<&Path>) -> Result<Self, StoreError> {
        let db = match path {
            Some(p) => {
                crate::private_file::touch(p).map_err(|source| StoreError::File {
                    path: p.to_owned(),
                    source,
                })?;
                Connection::open(p)?
            }
            None => Connection::open_in_memory()?,
        };
        db.execute_batch(SCHEMA)?;
        // Files from before these columns: add them (an error means they exist).
        for column in ["display_name", "last_modified"] {
            let _ = db.execute(
                &format!("ALTER TABLE scim_users ADD COLUMN {column} TEXT"),
                [],
            );
        }
        Ok(IdStore { db: Mutex::new(db) })
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic elsewhere cannot leave a half-written row: SQLite statements are atomic.
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn by_id(&self, id: &str) -> Result<Option<Entry>, StoreError> {
        Ok(self
            .db()
            .query_row(
                &format!("SELECT {COLUMNS} FROM scim_users WHERE id = ?1"),
                [id],
                entry,
            )
            .optional()?)
    }

    /// Live entries with this externalId (exact, as identity providers send it).
    pub fn by_external_id(&self, external_id: &str) -> Result<Vec<Entry>, StoreError> {
        let db = self.db();
        let mut stmt = db.prepare(&format!(
            "SELECT {COLUMNS} FROM scim_users WHERE external_id = ?1 AND deleted = 0"
        ))?;
        let rows = stmt.query_map([external_id], entry)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether the SCIM view hides this Webex ID: deleted through SCIM and
    /// not created again since.
    pub fn is_deleted(&self, web_ex_id: &str) -> Result<bool, StoreError> {
        let least: Option<bool> = self.db().query_row(
            "SELECT MIN(deleted) FROM scim_users WHERE web_ex_id = ?1",
            [web_ex_id],
            |r| r.get(0),
        )?;
        Ok(least == Some(true))
    }

    /// The live entries of site users, by lowercased Webex ID, made for those
    /// seen for the first time (in one transaction); users deleted through
    /// SCIM get none.
    pub fn entries_for(&self, web_ex_ids: &[&str]) -> Result<HashMap<String, Entry>, StoreError> {
        let mut db = self.db();
        let tx = db.transaction()?;
        let mut out = HashMap::with_capacity(web_ex_ids.len());
        {
            // One indexed lookup per name: a filter on one userName costs one.
            let mut rows = tx.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM scim_users WHERE web_ex_id = ?1"
            ))?;
            for web_ex_id in web_ex_ids {
                let key = web_ex_id.to_lowercase();
                if out.contains_key(&key) {
                    continue;
                }
                let found: Vec<Entry> = rows
                    .query_map([web_ex_id], entry)?
                    .collect::<Result<_, _>>()?;
                match found.iter().find(|e| !e.deleted) {
                    Some(live) => {
                        out.insert(key, live.clone());
                    }
                    // Deleted through SCIM: no entry.
                    None if !found.is_empty() => {}
                    None => {
                        let e = Entry {
                            id: new_id(),
                            web_ex_id: (*web_ex_id).to_owned(),
                            external_id: None,
                            display_name: None,
                            last_modified: None,
                            deleted: false,
                            kept: None,
                        };
                        tx.execute(
                            "INSERT INTO scim_users (id, web_ex_id) VALUES (?1, ?2)",
                            params![e.id, e.web_ex_id],
                        )?;
                        out.insert(key, e);
                    }
                }
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// A new live entry (after a POST).
    pub fn insert(
        &self,
        web_ex_id: &str,
        external_id: Option<&str>,
        display_name: Option<&str>,
    ) -> Result<Entry, StoreError> {
        let entry = Entry {
            id: new_id(),
            web_ex_id: web_ex_id.to_owned(),
            external_id: external_id.map(str::to_owned),
            display_name: display_name.map(str::to_owned),
            last_modified: Some(now_rfc3339()),
            deleted: false,
            kept: None,
        };
        self.db().execute(
            "INSERT INTO scim_users (id, web_ex_id, external_id, display_name, last_modified) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                entry.id,
                entry.web_ex_id,
                entry.external_id,
                entry.display_name,
                entry.last_modified
            ],
        )?;
        Ok(entry)
    }

    /// What a SCIM client changed: the externalId and displayName it holds
    /// now; the time of the change.
    pub fn record_change(
        &self,
        id: &str,
        external_id: Option<&str>,
        display_name: Option<&str>,
    ) -> Result<(), StoreError> {
        self.db().execute(
            "UPDATE scim_users SET external_id = ?2, display_name = ?3, last_modified = ?4 \
             WHERE id = ?1",
            params![id, external_id, display_name, now_rfc3339()],
        )?;
        Ok(())
    }

    /// Replaces what is kept for a SCIM id (`None`: nothing).
    pub fn set_kept(&self, id: &str, kept: Option<&str>) -> Result<(), StoreError> {
        let db = self.db();
        match kept {
            Some(k) => db.execute(
                "INSERT INTO scim_kept (id, kept) VALUES (?1, ?2) \
                 ON CONFLICT (id) DO UPDATE SET kept = excluded.kept",
                params![id, k],
            )?,
            None => db.execute("DELETE FROM scim_kept WHERE id = ?1", [id])?,
        };
        Ok(())
    }

    pub fn rename(&self, id: &str, web_ex_id: &str) -> Result<(), StoreError> {
        self.db().execute(
            "UPDATE scim_users SET web_ex_id = ?2 WHERE id = ?1",
            params![id, web_ex_id],
        )?;
        Ok(())
    }

    pub fn mark_deleted(&self, id: &str) -> Result<(), StoreError> {
        self.db()
            .execute("UPDATE scim_users SET deleted = 1 WHERE id = ?1", [id])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::IdStore;

    #[test]
    fn ids_are_stable_and_deletion_leaves_a_tombstone() {
        let store = IdStore::open(None).unwrap();
        let ann = store.insert("ann", Some("ext-1"), None).unwrap();
        let seen = store.entries_for(&["ANN", "bob"]).unwrap();
        assert_eq!(
            seen["ann"].id, ann.id,
            "Webex IDs compare case-insensitively"
        );
        let bob = seen["bob"].clone();
        assert_ne!(bob.id, ann.id);
        assert_eq!(store.entries_for(&["bob"]).unwrap()["bob"].id, bob.id);
        assert_eq!(store.by_external_id("ext-1").unwrap(), vec![ann.clone()]);

        store.mark_deleted(&ann.id).unwrap();
        assert!(store.is_deleted("ann").unwrap());
        assert!(
            store.entries_for(&["ann"]).unwrap().is_empty(),
            "not listed again"
        );
        assert!(store.by_external_id("ext-1").unwrap().is_empty());
        assert!(store.by_id(&ann.id).unwrap().unwrap().deleted);

        let again = store.insert("ann", None, Some("Ann")).unwrap();
        assert!(
            again
                .last_modified
                .as_deref()
                .is_some_and(|t| t.ends_with('Z'))
        );
        assert_ne!(again.id, ann.id);
        assert!(!store.is_deleted("ann").unwrap());
        store.rename(&again.id, "anna").unwrap();
        assert_eq!(store.entries_for(&["anna"]).unwrap()["anna"].id, again.id);
        assert!(!store.is_deleted("bob").unwrap());
    }

    #[test]
    fn kept_attributes_follow_the_id() {
        let store = IdStore::open(None).unwrap();
        let ann = store.insert("ann", None, None).unwrap();
        assert_eq!(ann.kept, None);
        store
            .set_kept(&ann.id, Some(r#"{"attributes":{"nickName":"A"}}"#))
            .unwrap();
        store
            .set_kept(&ann.id, Some(r#"{"attributes":{"nickName":"B"}}"#))
            .unwrap();
        store.rename(&ann.id, "anna").unwrap();
        let seen = store.entries_for(&["anna"]).unwrap();
        assert_eq!(
            seen["anna"].kept.as_deref(),
            Some(r#"{"attributes":{"nickName":"B"}}"#)
        );
        assert_eq!(
            store.by_id(&ann.id).unwrap().unwrap().kept,
            seen["anna"].kept
        );
        store.set_kept(&ann.id, None).unwrap();
        assert_eq!(store.by_id(&ann.id).unwrap().unwrap().kept, None);
    }
}

#[cfg(all(test, unix))]
mod file_tests {
    use std::os::unix::fs::PermissionsExt;

    use super::IdStore;

    /// The state names every user the identity provider manages: owner-only,
    /// even when the file was there before with a looser mode.
    #[test]
    fn the_state_file_is_owner_only() {
        let dir = std::env::temp_dir().join(format!("wbxprov-scim-ids-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (fresh, loose) = (dir.join("fresh.sqlite"), dir.join("loose.sqlite"));
        let _ = std::fs::remove_file(&fresh);
        std::fs::write(&loose, b"").unwrap();
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
        for path in [&fresh, &loose] {
            let store = IdStore::open(Some(path)).unwrap();
            store.insert("ann", Some("ext-1"), None).unwrap();
            let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", path.display());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
